//! Delete (RFC 4511 4.8): leaf entries only.

use super::write::{self, stamp};
use super::{Directory, Session};
use crate::error::LdapError;
use crate::store::changelog::ChangeKind;
use crate::store::View;
use ldap3_proto::proto::LdapResultCode;

pub fn delete(dir: &Directory, s: &Session, dn_text: &str) -> Result<(), LdapError> {
    let dn = dir.parse_dn(dn_text)?;
    if dir.policy.can_write(&s.identity, &dn).is_none() {
        return Err(write::denied(dir, &s.identity, &dn));
    }
    let st = stamp(dir, &s.identity);
    dir.store.write(|w| {
        let Some((id, entry)) = w.lookup(&dn)? else {
            return Err(w.no_such_object(&dn));
        };
        if w.has_children(id)? {
            return Err(LdapError::new(
                LdapResultCode::NotAllowedOnNonLeaf,
                format!("{} has subordinate entries", dn.display()),
            ));
        }
        let parent = write::parent_id(dir, w, &dn)?;
        w.remove(id, parent, &entry)?;
        w.log(&write::record(
            &st,
            ChangeKind::Delete,
            &entry.dn,
            None,
            vec![],
        ))?;
        Ok(())
    })
}
