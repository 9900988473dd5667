//! Compare (RFC 4511 4.10): compareTrue (6) / compareFalse (5), noSuchAttribute (16) when the entry
//! lacks the attribute. Values match as in an equality filter ([`crate::core::schema::Schema::value_matches`]):
//! `objectClass:person` is true for an inetOrgPerson.

use super::controls::RequestControls;
use super::readback::check_assertion;
use super::Session;
use crate::acl::rules::Level;
use crate::core::error::LdapError;
use crate::core::filter::{AttrSel, SchemaDn};
use crate::service::Directory;
use crate::store::View;
use crate::write::values::norm_value;
use ldap3_proto::proto::{LdapCompareRequest, LdapResultCode};

pub(crate) fn compare(
    dir: &Directory,
    s: &Session,
    req: &LdapCompareRequest,
    rc: &RequestControls,
) -> Result<LdapResultCode, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    let attr = AttrSel::new(&req.atype, &dir.schema).ok_or_else(|| {
        LdapError::undefined_type(format!("{}: attribute type undefined", req.atype))
    })?;
    let ty = attr.ty.clone();
    if ty.equality.is_none() {
        return Err(LdapError::new(
            LdapResultCode::InappropriateMatching,
            format!("{}: no equality matching rule", ty.name()),
        ));
    }
    let snap = dir.store.read()?;
    let acl = dir.policy.checker(&s.identity, &snap, &dir.schema);
    let (id, mut entry) = match snap.lookup(&dn)? {
        Some((id, e)) if acl.visible(&dn, Some(&e)) => (id, e),
        _ => return Err(acl.no_such_object(&dn)),
    };
    crate::freshness::derive_status(&mut entry, dir.clock.now());
    if let Some(f) = &rc.assertion {
        check_assertion(dir, &acl, &snap, Some(id), &dn.store_key(), &entry, f)?;
    }
    if !acl.allows(
        &dn.store_key(),
        Some(&entry),
        Some(ty.name()),
        Level::Compare,
    ) {
        return Err(LdapError::insufficient_access(format!(
            "no compare access to {}",
            ty.name()
        )));
    }
    let want = norm_value(dir, &ty, &req.val).ok_or_else(|| {
        LdapError::syntax(format!("{}: assertion value invalid per syntax", ty.name()))
    })?;
    // The same test as an equality filter's (so objectClass also matches superclasses).
    let dn_norm = SchemaDn(&dir.schema);
    let mut any = false;
    let mut found = false;
    for v in attr.values(&entry) {
        any = true;
        if dir.schema.value_matches(&ty, v, &want, &dn_norm) == Some(true) {
            found = true;
            break;
        }
    }
    if !any {
        return Err(LdapError::new(
            LdapResultCode::NoSuchAttribute,
            format!("{} has no {} attribute", dn.display(), ty.name()),
        ));
    }
    // The answer tells something of the value: a read of the entry for the read log.
    if let Some(mut log) = dir.read_log(&s.caller()) {
        log.read(
            &dn.store_key(),
            &entry.dn,
            "compare",
            &[ty.name().to_string()],
        );
    }
    Ok(if found {
        LdapResultCode::CompareTrue
    } else {
        LdapResultCode::CompareFalse
    })
}
