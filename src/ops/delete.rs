//! Delete (RFC 4511 4.8): leaf entries only. Controls: assertion, pre-read.

use super::controls::{RequestControls, OID_PRE_READ};
use super::readback::{check_assertion, read_back};
use super::Session;
use crate::acl::rules::Level;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::View;
use crate::write::values::{self as write, stamp};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::LdapResultCode;

pub fn delete(
    dir: &Directory,
    s: &Session,
    dn_text: &str,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(dn_text)?;
    let st = stamp(dir, &s.identity);
    dir.store.write(|w| {
        let acl = dir.policy.checker(&s.identity, w, &dir.schema);
        let Some((id, entry)) = w.lookup(&dn)? else {
            return Err(acl.no_such_object(&dn));
        };
        if !acl.allows(&dn.store_key(), Some(&entry), None, Level::Write) {
            return Err(acl.refuse(&dn, Some(&entry)));
        }
        let parent = write::parent_id(dir, w, &acl, &dn)?;
        let key = dn.store_key();
        if let Some(f) = &rc.assertion {
            check_assertion(dir, &acl, w, Some(id), &key, &entry, f)?;
        }
        let mut out = Vec::new();
        if let Some(attrs) = &rc.pre_read {
            out.push(read_back(dir, &acl, &key, &entry, attrs, OID_PRE_READ));
        }
        drop(acl);
        if w.has_children(id)? {
            return Err(LdapError::new(
                LdapResultCode::NotAllowedOnNonLeaf,
                format!("{} has subordinate entries", dn.display()),
            ));
        }
        w.remove(id, parent, &entry)?;
        w.log(&write::record(
            &st,
            ChangeKind::Delete,
            &entry.dn,
            None,
            vec![],
        ))?;
        Ok(out)
    })
}
