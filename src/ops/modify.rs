//! Modify (RFC 4511 4.6) with add / delete / replace and increment (RFC 4525). All changes apply
//! to a copy of the entry; the entry is written only if every change and the final checks pass.
//! Controls: assertion, pre-/post-read, permissive modify.

use super::controls::{RequestControls, OID_POST_READ, OID_PRE_READ};
use super::readback::{check_assertion, read_back};
use super::Session;
use crate::acl::rules::Level;
use crate::core::entry::{AttrDesc, Entry};
use crate::core::error::LdapError;
use crate::core::schema::matching::EqualityRule;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::View;
use crate::write::values::{
    self as write, check_entry, check_user_modifiable, norm_value, prepare_values, stamp,
    stamp_modify,
};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapModify, LdapModifyRequest, LdapModifyType, LdapResultCode};

pub fn modify(
    dir: &Directory,
    s: &Session,
    req: LdapModifyRequest,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    // New cleartext passwords, checked for quality once access is granted (before hashing
    // they are kept only here, and never logged).
    let new_passwords: Vec<Vec<u8>> = req
        .changes
        .iter()
        .filter(|m| {
            write::is_password(&m.modification.atype)
                && !matches!(m.operation, LdapModifyType::Delete)
        })
        .flat_map(|m| m.modification.vals.iter().cloned())
        .collect();
    // Parse and prepare every change before taking the write lock.
    let mut changes = Vec::with_capacity(req.changes.len());
    for LdapModify {
        operation,
        modification,
    } in req.changes
    {
        let desc = AttrDesc::parse(&modification.atype, &dir.schema)?;
        check_user_modifiable(&desc.ty)?;
        let values = match operation {
            LdapModifyType::Delete => modification.vals,
            LdapModifyType::Increment => modification.vals,
            _ => prepare_values(dir, &desc, modification.vals)?,
        };
        changes.push((operation, desc, values));
    }
    let st = stamp(dir, &s.identity);
    dir.store.write(|w| {
        let acl = dir.policy.checker(&s.identity, w, &dir.schema);
        let Some((id, old)) = w.lookup(&dn)? else {
            return Err(acl.no_such_object(&dn));
        };
        let key = dn.store_key();
        if !acl.visible(&dn, Some(&old)) {
            return Err(acl.no_such_object(&dn));
        }
        for (op, desc, values) in &changes {
            // Adding or deleting named values may be allowed value by value (`valuewrite`).
            let by_value = matches!(op, LdapModifyType::Add | LdapModifyType::Delete)
                && acl.allows_values(
                    &key,
                    Some(&old),
                    desc.name(),
                    values,
                    matches!(op, LdapModifyType::Add),
                );
            if !by_value && !acl.allows(&key, Some(&old), Some(desc.name()), Level::Write) {
                return Err(LdapError::insufficient_access(format!(
                    "no write access to {} of {}",
                    desc.name(),
                    dn.display()
                )));
            }
        }
        if let Some(f) = &rc.assertion {
            check_assertion(dir, &acl, w, Some(id), &key, &old, f)?;
        }
        let mut out = Vec::new();
        if let Some(attrs) = &rc.pre_read {
            out.push(read_back(dir, &acl, &key, &old, attrs, OID_PRE_READ));
        }
        let manage = acl.allows(&key, Some(&old), None, Level::Manage);
        drop(acl);
        if !new_passwords.is_empty() {
            let forbidden: Vec<&[u8]> = ["uid", "mail"]
                .iter()
                .filter_map(|a| old.get(a))
                .flat_map(|a| a.values.iter().map(|v| v.as_slice()))
                .collect();
            write::check_password_values(dir, &new_passwords, &forbidden)?;
        }
        let mut e = old.clone();
        let mut names: Vec<String> = Vec::new();
        for (op, desc, values) in &changes {
            apply(dir, &mut e, op, desc, values.clone(), rc.permissive_modify)?;
            let n = desc.to_attribute_name();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        // The structural class may not change (69), checked before the attribute rules.
        let classes = crate::core::schema::check::classes(&dir.schema, &e)?;
        let new_sc = crate::core::schema::check::structural_class(&dir.schema, &classes)?;
        let old_sc = old.first_str("structuralObjectClass").unwrap_or_default();
        if !old_sc.is_empty() && !new_sc.eq_ignore_ascii_case(old_sc) {
            return Err(LdapError::new(
                LdapResultCode::ObjectClassModsProhibited,
                format!("structural object class modification from '{old_sc}' to '{new_sc}' is not allowed"),
            ));
        }
        for n in write::stamp_freshness(dir, &st, manage, &names, false, &mut e)? {
            if !names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
                names.push(n.to_string());
            }
        }
        check_entry(dir, &dn, &e, LdapResultCode::NotALlowedOnRDN)?;
        stamp_modify(&mut e, &st);
        w.update(id, &old, &e)?;
        w.log(&write::record(&st, ChangeKind::Modify, &e.dn, None, names))?;
        if let Some(attrs) = &rc.post_read {
            let acl = dir.policy.checker(&s.identity, w, &dir.schema);
            out.push(read_back(dir, &acl, &key, &e, attrs, OID_POST_READ));
        }
        Ok(out)
    })
}

fn apply(
    dir: &Directory,
    e: &mut Entry,
    op: &LdapModifyType,
    desc: &AttrDesc,
    values: Vec<Vec<u8>>,
    permissive: bool,
) -> Result<(), LdapError> {
    let name = desc.to_attribute_name();
    let ty = &desc.ty;
    let norm = |v: &[u8]| norm_value(dir, ty, v);
    match op {
        LdapModifyType::Add => {
            if values.is_empty() {
                return Err(LdapError::protocol(format!("{name}: no values to add")));
            }
            let mut cur = e.get(&name).map(|a| a.values.clone()).unwrap_or_default();
            let existing: Vec<Option<Vec<u8>>> = cur.iter().map(|v| norm(v)).collect();
            for (i, v) in values.into_iter().enumerate() {
                let n = norm(&v);
                if ty.equality.is_some() && existing.contains(&n) {
                    if permissive {
                        continue;
                    }
                    return Err(LdapError::new(
                        LdapResultCode::AttributeOrValueExists,
                        format!("{name}: value #{i} already exists"),
                    ));
                }
                cur.push(v);
            }
            e.set(&name, cur);
        }
        LdapModifyType::Delete => {
            let Some(attr) = e.get(&name) else {
                if permissive {
                    return Ok(());
                }
                return Err(LdapError::new(
                    LdapResultCode::NoSuchAttribute,
                    format!("{name}: no such attribute"),
                ));
            };
            if values.is_empty() {
                e.remove(&name);
            } else {
                let mut cur = attr.values.clone();
                for (i, v) in values.iter().enumerate() {
                    let Some(n) = norm(v) else {
                        if permissive {
                            continue;
                        }
                        return Err(LdapError::new(
                            LdapResultCode::NoSuchAttribute,
                            format!("{name}: value #{i} invalid per syntax, so not present"),
                        ));
                    };
                    let pos = cur
                        .iter()
                        .position(|c| norm(c).as_deref() == Some(n.as_slice()));
                    match pos {
                        Some(p) => {
                            cur.remove(p);
                        }
                        None if permissive => {}
                        None => {
                            return Err(LdapError::new(
                                LdapResultCode::NoSuchAttribute,
                                format!("{name}: value #{i} not present"),
                            ))
                        }
                    }
                }
                e.set(&name, cur);
            }
        }
        LdapModifyType::Replace => {
            e.set(&name, values);
        }
        LdapModifyType::Increment => {
            if ty.equality != Some(EqualityRule::Integer) {
                return Err(LdapError::constraint(format!(
                    "{name}: increment applies only to integer attributes"
                )));
            }
            let [delta] = values.as_slice() else {
                return Err(LdapError::protocol(format!(
                    "{name}: increment needs exactly one value"
                )));
            };
            let delta = std::str::from_utf8(delta)
                .ok()
                .and_then(|s| s.trim().parse::<i128>().ok())
                .ok_or_else(|| {
                    LdapError::syntax(format!("{name}: increment value is not an integer"))
                })?;
            let Some(attr) = e.get(&name) else {
                return Err(LdapError::new(
                    LdapResultCode::NoSuchAttribute,
                    format!("{name}: no such attribute to increment"),
                ));
            };
            let mut out = Vec::with_capacity(attr.values.len());
            for v in &attr.values {
                let cur = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse::<i128>().ok())
                    .ok_or_else(|| {
                        LdapError::constraint(format!("{name}: stored value is out of range"))
                    })?;
                let n = cur
                    .checked_add(delta)
                    .ok_or_else(|| LdapError::constraint(format!("{name}: increment overflows")))?;
                out.push(n.to_string().into_bytes());
            }
            e.set(&name, out);
        }
    }
    Ok(())
}
