//! Add (RFC 4511 4.7).

use super::controls::{RequestControls, OID_POST_READ};
use super::readback::{check_assertion, read_back};
use super::Session;
use crate::acl::rules::Level;
use crate::core::entry::{AttrDesc, Entry};
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::View;
use crate::write::values::{
    self as write, check_entry, check_user_modifiable, prepare_values, stamp, stamp_create,
};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapAddRequest, LdapResultCode};

pub fn add(
    dir: &Directory,
    s: &Session,
    req: LdapAddRequest,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    if dn.is_root() {
        return Err(LdapError::new(
            LdapResultCode::EntryAlreadyExists,
            "the root DSE exists",
        ));
    }
    let mut entry = Entry::new(dn.display());
    let mut names = Vec::new();
    // Password quality, against the uid and mail values of the new entry.
    let forbidden: Vec<Vec<u8>> = req
        .attributes
        .iter()
        .filter(|a| {
            ["uid", "mail", "userid", "rfc822Mailbox"]
                .iter()
                .any(|n| a.atype.eq_ignore_ascii_case(n))
        })
        .flat_map(|a| a.vals.iter().cloned())
        .collect();
    let forbidden: Vec<&[u8]> = forbidden.iter().map(|v| v.as_slice()).collect();
    for a in &req.attributes {
        if write::is_password(&a.atype) {
            write::check_password_values(dir, &a.vals, &forbidden)?;
        }
    }
    for a in req.attributes {
        let desc = AttrDesc::parse(&a.atype, &dir.schema)?;
        check_user_modifiable(&desc.ty)?;
        if a.vals.is_empty() {
            return Err(LdapError::protocol(format!(
                "{}: no values for attribute type",
                a.atype
            )));
        }
        let name = desc.to_attribute_name();
        let mut values = a.vals;
        if let Some(existing) = entry.get_mut(&name) {
            let mut all = std::mem::take(&mut existing.values);
            all.append(&mut values);
            values = all;
        }
        let values = prepare_values(dir, &desc, values)?;
        entry.set(&name, values);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let st = stamp(dir, &s.identity);
    dir.store.write(|w| {
        let acl = dir.policy.checker(&s.identity, w, &dir.schema);
        let parent = write::parent_id(dir, w, &acl, &dn)?;
        if !acl.allows(&dn.store_key(), Some(&entry), None, Level::Write) {
            let parent_dn = dn.parent();
            return Err(acl.refuse(&parent_dn, w.lookup(&parent_dn)?.map(|x| x.1).as_ref()));
        }
        // The assertion applies to the entry as the request gives it (RFC 4528 3).
        if let Some(f) = &rc.assertion {
            check_assertion(dir, &acl, w, None, &dn.store_key(), &entry, f)?;
        }
        let manage = acl.allows(&dn.store_key(), Some(&entry), None, Level::Manage);
        drop(acl);
        if w.id_of(&dn)?.is_some() {
            return Err(LdapError::new(
                LdapResultCode::EntryAlreadyExists,
                format!("entry {} already exists", dn.display()),
            ));
        }
        for n in write::stamp_freshness(dir, &st, manage, &names, true, &mut entry)? {
            if !names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
                names.push(n.to_string());
            }
        }
        let sc = check_entry(dir, &dn, &entry, LdapResultCode::NamingViolation)?;
        entry.set("structuralObjectClass", vec![sc.into_bytes()]);
        stamp_create(&mut entry, &st);
        w.insert(parent, &dn, &entry)?;
        w.log(&write::record(
            &st,
            ChangeKind::Add,
            dn.display(),
            None,
            names,
        ))?;
        let mut out = Vec::new();
        if let Some(attrs) = &rc.post_read {
            let acl = dir.policy.checker(&s.identity, w, &dir.schema);
            out.push(read_back(
                dir,
                &acl,
                &dn.store_key(),
                &entry,
                attrs,
                OID_POST_READ,
            ));
        }
        Ok(out)
    })
}
