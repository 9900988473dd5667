//! Modify DN (RFC 4511 4.9): new RDN, deleteOldRDN, newSuperior, whole-subtree moves.

use super::controls::{RequestControls, OID_POST_READ, OID_PRE_READ};
use super::readback::{check_assertion, read_back};
use super::Session;
use crate::acl::rules::Level;
use crate::core::dn::Dn;
use crate::core::entry::AttrDesc;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::tables::ROOT_ID;
use crate::store::View;
use crate::write::values::{self as write, check_entry, norm_value, stamp, stamp_modify};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapModifyDNRequest, LdapResultCode};

pub fn modrdn(
    dir: &Directory,
    s: &Session,
    req: &LdapModifyDNRequest,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    let new_rdn = Dn::parse_rdn(&req.newrdn, &dir.schema)?;
    let new_sup = match &req.new_superior {
        Some(ns) => Some(dir.parse_dn(ns)?),
        None => None,
    };
    if dn.norm() == dir.suffix.norm() {
        return Err(LdapError::unwilling(
            "cannot rename the naming context entry",
        ));
    }
    for ava in new_rdn.avas() {
        let ty = dir.schema.attribute(&ava.attr).ok_or_else(|| {
            LdapError::undefined_type(format!("{}: attribute type undefined", ava.attr))
        })?;
        write::check_user_modifiable(ty)?;
    }
    let st = stamp(dir, &s.identity);
    dir.store.write(|w| {
        let acl = dir.policy.checker(&s.identity, w, &dir.schema);
        let Some((id, old)) = w.lookup(&dn)? else {
            return Err(acl.no_such_object(&dn));
        };
        if !acl.allows(&dn.store_key(), Some(&old), None, Level::Write) {
            return Err(acl.refuse(&dn, Some(&old)));
        }
        if let Some(f) = &rc.assertion {
            check_assertion(dir, &acl, w, Some(id), &dn.store_key(), &old, f)?;
        }
        let mut out = Vec::new();
        if let Some(attrs) = &rc.pre_read {
            out.push(read_back(
                dir,
                &acl,
                &dn.store_key(),
                &old,
                attrs,
                OID_PRE_READ,
            ));
        }
        let old_parent = write::parent_id(dir, w, &acl, &dn)?;
        let parent_dn = match &new_sup {
            Some(ns) => ns.clone(),
            None => dn.parent(),
        };
        let new_parent = if new_sup.is_some() {
            if parent_dn.is_descendant_or_self(&dn) {
                return Err(LdapError::unwilling("cannot move an entry below itself"));
            }
            let found = match w.lookup(&parent_dn)? {
                Some((pid, pe)) if acl.visible(&parent_dn, Some(&pe)) => Some(pid),
                _ => None,
            };
            match found {
                Some(pid) => pid,
                None if parent_dn.is_root() => ROOT_ID,
                None => {
                    return Err(LdapError::no_such_object(format!(
                        "new superior {} does not exist",
                        parent_dn.display()
                    ))
                    .with_matched(acl.matched_dn(&parent_dn)))
                }
            }
        } else {
            old_parent
        };
        let new_dn = parent_dn.child(new_rdn.clone());
        if !new_dn.is_descendant_or_self(&dir.suffix) {
            return Err(LdapError::unwilling(format!(
                "{} is not within the naming context",
                new_dn.display()
            )));
        }
        if new_dn.norm() != dn.norm() && w.id_of(&new_dn)?.is_some() {
            return Err(LdapError::new(
                LdapResultCode::EntryAlreadyExists,
                format!("entry {} already exists", new_dn.display()),
            ));
        }
        let mut e = old.clone();
        let mut names: Vec<String> = Vec::new();
        // Remove the old RDN values that are not in the new RDN.
        if req.deleteoldrdn {
            if let Some(old_rdn) = dn.rdn() {
                for ava in old_rdn.avas() {
                    let kept = new_rdn.avas().iter().any(|n| {
                        n.attr.eq_ignore_ascii_case(&ava.attr) && n.norm_value == ava.norm_value
                    });
                    if kept {
                        continue;
                    }
                    let Some(ty) = dir.schema.attribute(&ava.attr) else {
                        continue;
                    };
                    if let Some(a) = e.get_mut(ty.name()) {
                        a.values.retain(|v| {
                            norm_value(dir, ty, v).as_deref() != Some(ava.norm_value.as_slice())
                        });
                        if a.values.is_empty() {
                            e.remove(ty.name());
                        }
                        names.push(ty.name().to_string());
                    }
                }
            }
        }
        // Add the new RDN values that are missing.
        for ava in new_rdn.avas() {
            let desc = AttrDesc::parse(&ava.attr, &dir.schema)?;
            let ty = &desc.ty;
            let present = e.get(ty.name()).is_some_and(|a| {
                a.values
                    .iter()
                    .any(|v| norm_value(dir, ty, v).as_deref() == Some(ava.norm_value.as_slice()))
            });
            if !present {
                let mut vals = e
                    .get(ty.name())
                    .map(|a| a.values.clone())
                    .unwrap_or_default();
                vals.push(ava.value.clone());
                e.set(ty.name(), vals);
                names.push(ty.name().to_string());
            }
        }
        e.dn = new_dn.display().to_string();
        if !acl.allows(&new_dn.store_key(), Some(&e), None, Level::Write) {
            return Err(LdapError::insufficient_access(format!(
                "no write access to {}",
                new_dn.display()
            )));
        }
        drop(acl);
        check_entry(dir, &new_dn, &e, LdapResultCode::NamingViolation)?;
        stamp_modify(&mut e, &st);
        w.rename(
            crate::store::Move {
                id,
                old_parent,
                new_parent,
                old_dn: &dn,
                new_dn: &new_dn,
            },
            &old,
            &e,
        )?;
        w.log(&write::record(
            &st,
            ChangeKind::ModDn,
            &old.dn,
            Some(new_dn.display()),
            names,
        ))?;
        if let Some(attrs) = &rc.post_read {
            let acl = dir.policy.checker(&s.identity, w, &dir.schema);
            out.push(read_back(
                dir,
                &acl,
                &new_dn.store_key(),
                &e,
                attrs,
                OID_POST_READ,
            ));
        }
        Ok(out)
    })
}
