//! The store's own error type. The store knows nothing of LDAP: what a failure means to a client
//! (a result code) is decided once, at the operations boundary (`ops/errors.rs`). The message
//! here is for the operator: what was being done, the database's own error, the file.

use std::fmt;
use std::path::PathBuf;

/// A failure of the store.
#[derive(Debug)]
pub enum StoreError {
    /// A database operation failed; `what` says what the store was doing ("reading an entry").
    Db {
        what: &'static str,
        source: redb::Error,
    },
    /// A stored entry or change record could not be decoded.
    Corrupt {
        what: &'static str,
        /// The entry id or changelog sequence number of the record.
        id: u64,
        detail: String,
    },
    /// A write's transaction committed without syncing and the shared flush that was to make it
    /// durable failed (group commit; the flush's own error is in `detail` and in the log).
    CommitFailed { detail: String },
    /// The database file is open in another process (another ccdir, a running server).
    InUse { path: PathBuf },
    /// The database file cannot be opened or created.
    Open { path: PathBuf, source: redb::Error },
    /// The database holds a data format this version cannot read or upgrade.
    Format { found: u64, expected: u64 },
    /// Preparing an opened database (tables, format, indexes) failed.
    Init {
        path: PathBuf,
        source: Box<StoreError>,
    },
}

impl StoreError {
    /// A short description of what failed, without paths or the database's error: what a
    /// client may be told ("internal error: <what>").
    pub(crate) fn what(&self) -> &'static str {
        match self {
            StoreError::Db { what, .. } | StoreError::Corrupt { what, .. } => what,
            StoreError::CommitFailed { .. } => "commit failed",
            StoreError::InUse { .. } | StoreError::Open { .. } => "opening the database",
            StoreError::Format { .. } => "unsupported data format",
            StoreError::Init { source, .. } => source.what(),
        }
    }
}

/// `map_err` helper: a database error while doing `what`.
pub(crate) fn db<E: Into<redb::Error>>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Db {
        what,
        source: e.into(),
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Db { what, source } => write!(f, "{what}: {source}"),
            StoreError::Corrupt { what, id, detail } => {
                write!(f, "{what} (id {id}): damaged record: {detail}")
            }
            StoreError::CommitFailed { detail } => {
                write!(f, "commit failed: the durable flush failed: {detail}")
            }
            StoreError::InUse { path } => write!(
                f,
                "{} is in use by another ccdir process (stop the server first)",
                path.display()
            ),
            StoreError::Open { path, source } => {
                write!(f, "cannot open {}: {source}", path.display())
            }
            StoreError::Format { found, expected } => write!(
                f,
                "data format {found} is not supported by this version (expects {expected})"
            ),
            StoreError::Init { path, source } => {
                write!(f, "cannot initialise {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Db { source, .. } | StoreError::Open { source, .. } => Some(source),
            StoreError::Init { source, .. } => Some(source.as_ref()),
            StoreError::Corrupt { .. }
            | StoreError::CommitFailed { .. }
            | StoreError::InUse { .. }
            | StoreError::Format { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_names_what_failed_and_the_database_error() {
        let e = db("reading an entry")(redb::Error::Corrupted("bad page 7".into()));
        let text = e.to_string();
        assert!(text.starts_with("reading an entry: "), "{text}");
        assert!(text.contains("bad page 7"), "{text}");
        assert_eq!(e.what(), "reading an entry");
        assert!(e
            .source()
            .is_some_and(|s| s.to_string().contains("bad page 7")));

        let e = StoreError::Corrupt {
            what: "decoding an entry",
            id: 42,
            detail: "truncated".into(),
        };
        assert_eq!(
            e.to_string(),
            "decoding an entry (id 42): damaged record: truncated"
        );
        assert!(e.source().is_none());
    }

    #[test]
    fn in_use_names_the_path() {
        let e = StoreError::InUse {
            path: PathBuf::from("/var/lib/ccdir/data.redb"),
        };
        assert_eq!(
            e.to_string(),
            "/var/lib/ccdir/data.redb is in use by another ccdir process (stop the server first)"
        );
        // What a client could be told says nothing of the path.
        assert!(!e.what().contains("/var"), "{}", e.what());
    }

    #[test]
    fn init_errors_name_the_path_and_keep_the_cause() {
        let e = StoreError::Init {
            path: PathBuf::from("/d/data.redb"),
            source: Box::new(StoreError::Format {
                found: 1,
                expected: 4,
            }),
        };
        assert_eq!(
            e.to_string(),
            "cannot initialise /d/data.redb: data format 1 is not supported by this version \
             (expects 4)"
        );
        assert!(e
            .source()
            .is_some_and(|s| s.to_string().starts_with("data format 1")));
        assert_eq!(e.what(), "unsupported data format");
    }
}
