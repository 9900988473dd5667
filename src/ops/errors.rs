//! Store errors as LDAP results: the one place where a [`StoreError`] becomes a result code.
//!
//! The store has its own error type and knows nothing of LDAP; this conversion gives its
//! failures their meaning for a client. Every store failure is `other` (80) with the message
//! "internal error: <what>" (what the store was doing, from [`StoreError::what`]): a client
//! learns neither paths nor the database's own errors. The full error, with that detail, is
//! logged here, once, for the operator.
//!
//! Rust trait impls are crate-wide, so this impl also serves every other layer that returns
//! `LdapError` and meets a store error with `?` (acl/, write/, the offline tools through the
//! write pipeline): it lives here, at the operations boundary, because that is where the
//! mapping is decided; the others only pass store errors on.

use crate::core::error::LdapError;
use crate::store::StoreError;

impl From<StoreError> for LdapError {
    fn from(e: StoreError) -> Self {
        let what = e.what();
        tracing::error!(error = %e, "internal error: {what}");
        LdapError::other(format!("internal error: {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::proto::LdapResultCode;
    use std::path::PathBuf;

    #[test]
    fn a_store_error_is_other_with_only_what_failed() {
        let e: LdapError = StoreError::Db {
            what: "reading an entry",
            source: redb::Error::Corrupted("page 7 checksum mismatch".into()),
        }
        .into();
        assert_eq!(e.code, LdapResultCode::Other);
        assert_eq!(e.message, "internal error: reading an entry");
        assert!(e.matched_dn.is_empty());

        // Paths and the database's own errors stay in the log.
        let e: LdapError = StoreError::Init {
            path: PathBuf::from("/srv/ccdir/data.redb"),
            source: Box::new(StoreError::Corrupt {
                what: "decoding an entry",
                id: 9,
                detail: "truncated".into(),
            }),
        }
        .into();
        assert_eq!(e.code, LdapResultCode::Other);
        assert_eq!(e.message, "internal error: decoding an entry");

        let e: LdapError = StoreError::CommitFailed {
            detail: "I/O error: No space left on device".into(),
        }
        .into();
        assert_eq!(
            (e.code, e.message.as_str()),
            (LdapResultCode::Other, "internal error: commit failed")
        );
    }
}
