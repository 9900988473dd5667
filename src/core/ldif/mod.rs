//! LDIF (RFC 2849), written by hand because no maintained crate does it.
//!
//! The writer folds lines at 76 columns and base64-encodes values that are not SAFE-STRINGs
//! ([`write_value`], [`write_entry`], [`write_record`]). The reader ([`Reader`]) streams
//! [`Record`]s (content or change records) from any [`BufRead`], line by line, with memory
//! bounded by [`ReaderOptions::max_record_bytes`].
//!
//! [`read`] has the reader, [`write`] the writer; the records and errors are here.

mod read;
mod write;

pub use read::{Reader, ReaderOptions};
pub use write::{is_safe, write_entry, write_record, write_value};

use std::fmt;

/// An error found while reading LDIF: the line it is on (for a folded line, its first physical
/// line) and what is wrong. Displayed as `line N: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdifError {
    pub line: usize,
    pub message: String,
}

impl LdifError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        LdifError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for LdifError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LdifError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, LdifError> {
    Err(LdifError::new(line, message))
}

/// One LDIF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A content record: dn, attributes in file order (attribute description as written incl.
    /// options, values as bytes), line where the record starts.
    Content {
        dn: String,
        attrs: Vec<(String, Vec<Vec<u8>>)>,
        line: usize,
    },
    /// A change record.
    Change {
        dn: String,
        controls: Vec<Control>,
        change: Change,
        line: usize,
    },
}

impl Record {
    /// The line of the record's `dn:` line.
    pub fn line(&self) -> usize {
        match self {
            Record::Content { line, .. } | Record::Change { line, .. } => *line,
        }
    }

    /// The record's DN.
    pub fn dn(&self) -> &str {
        match self {
            Record::Content { dn, .. } | Record::Change { dn, .. } => dn,
        }
    }
}

/// A `control:` line of a change record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub oid: String,
    pub critical: bool,
    pub value: Option<Vec<u8>>,
}

/// What a change record does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Attributes merged like a content record's.
    Add(Vec<(String, Vec<Vec<u8>>)>),
    Delete,
    Modify(Vec<Modification>),
    /// `changetype: modrdn` or `changetype: moddn`.
    ModDn {
        new_rdn: String,
        delete_old_rdn: bool,
        new_superior: Option<String>,
    },
}

/// One `add:` / `delete:` / `replace:` / `increment:` section of a modify record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modification {
    pub op: ModOp,
    pub attr: String,
    pub values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModOp {
    Add,
    Delete,
    Replace,
    /// RFC 4525.
    Increment,
}

impl ModOp {
    fn keyword(self) -> &'static str {
        match self {
            ModOp::Add => "add",
            ModOp::Delete => "delete",
            ModOp::Replace => "replace",
            ModOp::Increment => "increment",
        }
    }
}

#[cfg(test)]
mod tests;
