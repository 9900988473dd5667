//! What the assertion (RFC 4528) and read-entry (RFC 4527) controls see of an entry: exactly what
//! a search by the same requester would see. Filter items on attributes the requester may not
//! search are Undefined, and attributes it may not read are left out.

use super::controls::read_entry_response;
use super::project::{access_view, add_computed, project, Computed, Selection};
use crate::acl::Checker;
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::core::filter::{Filter, Tri};
use crate::service::Directory;
use crate::store::View;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapFilter, LdapResultCode};

/// The operation goes on only if `filter` is True for the target entry; otherwise
/// assertionFailed (122).
pub(crate) fn check_assertion(
    dir: &Directory,
    acl: &Checker<'_>,
    view: &dyn View,
    id: Option<u64>,
    key: &[u8],
    entry: &Entry,
    filter: &LdapFilter,
) -> Result<(), LdapError> {
    let f = Filter::compile(filter, &dir.schema, dir.filter_limits())?;
    let Some((hidden, unreadable)) = access_view(acl, key, entry, &f.type_names()) else {
        return Err(assertion_failed());
    };
    let mut e = entry.clone();
    crate::freshness::derive_status(&mut e, dir.clock.now());
    if let Some(id) = id {
        let which = Computed::for_search(&f, &Selection::default());
        add_computed(dir, &mut e, view, id, which, &unreadable)?;
    }
    if f.eval_hiding(&e, &dir.schema, &hidden) == Tri::True {
        Ok(())
    } else {
        Err(assertion_failed())
    }
}

/// The assertion control on an entry anyone may read (the root DSE, the subschema subentry).
pub(crate) fn check_public_assertion(
    dir: &Directory,
    entry: &Entry,
    filter: &LdapFilter,
) -> Result<(), LdapError> {
    let f = Filter::compile(filter, &dir.schema, dir.filter_limits())?;
    if f.eval(entry, &dir.schema) == Tri::True {
        Ok(())
    } else {
        Err(assertion_failed())
    }
}

fn assertion_failed() -> LdapError {
    LdapError::new(LdapResultCode::AssertionFailed, "assertion failed")
}

/// The pre- or post-read response control: the selected attributes of `entry` that the
/// requester may read (none when it may not read the entry at all).
pub(crate) fn read_back(
    dir: &Directory,
    acl: &Checker<'_>,
    key: &[u8],
    entry: &Entry,
    attrs: &[String],
    oid: &str,
) -> LdapControl {
    let sel = Selection::parse(attrs, &dir.schema);
    let mut e = entry.clone();
    crate::freshness::derive_status(&mut e, dir.clock.now());
    let unreadable = match access_view(acl, key, &e, &[]) {
        Some((_, unreadable)) => unreadable,
        None => {
            e.attrs.clear();
            Vec::new()
        }
    };
    read_entry_response(oid, project(e, &sel, false, &unreadable, &dir.schema))
}
