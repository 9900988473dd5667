//! Access decisions. This is the built-in policy until the configurable rules land:
//! - anonymous: the root DSE and the subschema only (or all entries with `access.anonymous_read`);
//! - any authenticated identity: reads every entry, but `userPassword` only of its own entry;
//! - the directory administrator: everything;
//! - everyone bound: changes their own password (Password Modify).
//!
//! An operation gets a [`Granted`] token before it touches data.

use crate::dn::Dn;

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Identity {
    Anonymous,
    User(Dn),
}

impl Identity {
    pub fn dn(&self) -> Option<&Dn> {
        match self {
            Identity::Anonymous => None,
            Identity::User(d) => Some(d),
        }
    }
    /// The bound DN as text, "" for anonymous.
    pub fn dn_str(&self) -> &str {
        self.dn().map(|d| d.display()).unwrap_or("")
    }
}

/// Proof that an access check passed.
#[derive(Debug, Clone, Copy)]
pub struct Granted(());

/// The policy's inputs that come from the configuration.
pub struct Policy {
    pub admin: Dn,
    pub anonymous_read: bool,
}

/// Attributes only the entry's owner and the administrator may read.
const PROTECTED: &[&str] = &["userpassword"];

impl Policy {
    pub fn is_admin(&self, who: &Identity) -> bool {
        who.dn().is_some_and(|d| d.norm() == self.admin.norm())
    }

    /// May `who` see entries at all (the entry's existence, and its readable attributes)?
    pub fn can_read_entries(&self, who: &Identity) -> Option<Granted> {
        match who {
            Identity::Anonymous if !self.anonymous_read => None,
            _ => Some(Granted(())),
        }
    }

    /// May `who` read attribute `attr` (schema name) of the entry at `dn`?
    pub fn can_read_attr(&self, who: &Identity, dn: &str, attr: &str) -> bool {
        if !PROTECTED.iter().any(|p| p.eq_ignore_ascii_case(attr)) {
            return true;
        }
        self.is_admin(who)
            || who
                .dn()
                .is_some_and(|d| d.display().eq_ignore_ascii_case(dn))
    }

    /// Same, with a parsed DN (exact normalised comparison).
    pub fn can_read_attr_dn(&self, who: &Identity, dn: &Dn, attr: &str) -> bool {
        if !PROTECTED.iter().any(|p| p.eq_ignore_ascii_case(attr)) {
            return true;
        }
        self.is_admin(who) || who.dn().is_some_and(|d| d.norm() == dn.norm())
    }

    /// Attribute types whose values `who` may use in filters on any entry.
    pub fn can_filter_on(&self, who: &Identity, attr: &str) -> bool {
        !PROTECTED.iter().any(|p| p.eq_ignore_ascii_case(attr)) || self.is_admin(who)
    }

    /// May `who` add, delete, modify or rename the entry at `target`?
    pub fn can_write(&self, who: &Identity, _target: &Dn) -> Option<Granted> {
        self.is_admin(who).then_some(Granted(()))
    }

    /// May `who` set the password of `target`?
    pub fn can_set_password(&self, who: &Identity, target: &Dn) -> Option<Granted> {
        (self.is_admin(who) || who.dn().is_some_and(|d| d.norm() == target.norm()))
            .then_some(Granted(()))
    }

    /// Are `who`'s searches free of the server's size and time limits?
    pub fn unlimited(&self, who: &Identity) -> bool {
        self.is_admin(who)
    }
}
