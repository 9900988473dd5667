//! Writing as the logged-in person: a modify built by a page goes through the LDAP request
//! path (`ops::dispatch`: the replica referral, the write pipeline with the person as author,
//! the audit line), so the access rules, content checks, changelog and audit log are the ones
//! an LDAP client's modify gets. Blocking: call off the async runtime.

use super::Peer;
use crate::acl::rules::Level;
use crate::acl::Identity;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::ops::controls::RequestControls;
use crate::ops::{Op, Request, Session};
use crate::service::Directory;
use crate::store::View;
use ldap3_proto::proto::{
    LdapModify, LdapModifyRequest, LdapModifyType, LdapOp, LdapPartialAttribute, LdapResultCode,
};

/// Replace each attribute with its values (none: delete it), as `who`.
pub(crate) fn replace(
    dir: &Directory,
    who: &Dn,
    peer: &Peer,
    dn: &str,
    attrs: Vec<(String, Vec<String>)>,
) -> Result<(), LdapError> {
    let changes = attrs
        .into_iter()
        .map(|(a, vals)| LdapModify {
            operation: LdapModifyType::Replace,
            modification: LdapPartialAttribute {
                atype: a,
                vals: vals.into_iter().map(String::into_bytes).collect(),
            },
        })
        .collect();
    modify(dir, who, peer, dn, changes)
}

/// Add (`add`) or delete (not `add`) one value of one attribute, as `who`.
pub(crate) fn value(
    dir: &Directory,
    who: &Dn,
    peer: &Peer,
    dn: &str,
    add: bool,
    attr: &str,
    val: &str,
) -> Result<(), LdapError> {
    let change = LdapModify {
        operation: if add {
            LdapModifyType::Add
        } else {
            LdapModifyType::Delete
        },
        modification: LdapPartialAttribute {
            atype: attr.to_string(),
            vals: vec![val.as_bytes().to_vec()],
        },
    };
    modify(dir, who, peer, dn, vec![change])
}

/// One LDAP modify request with `changes`, as `who`.
pub(crate) fn modify(
    dir: &Directory,
    who: &Dn,
    peer: &Peer,
    dn: &str,
    changes: Vec<LdapModify>,
) -> Result<(), LdapError> {
    let req = LdapModifyRequest {
        dn: dn.to_string(),
        changes,
    };
    run_as(dir, who, peer, Op::Modify(req))
}

/// Run one LDAP write (add, modify, delete, or an extended operation) as `who` through the LDAP
/// request path (`ops::dispatch`: the replica referral, access control, the write pipeline
/// with `who` as author, the audit line); its result. Blocking. Every portal write goes here.
pub(crate) fn run_as(dir: &Directory, who: &Dn, peer: &Peer, op: Op) -> Result<(), LdapError> {
    let mut s = Session::new(peer.conn, peer.addr, true);
    s.identity = Identity::User(who.clone());
    let msg = crate::ops::dispatch(
        dir,
        &s,
        Request {
            id: 1,
            op,
            controls: Ok(RequestControls::default()),
        },
    );
    let r = match msg.op {
        LdapOp::AddResponse(r) | LdapOp::ModifyResponse(r) | LdapOp::DelResponse(r) => r,
        LdapOp::ExtendedResponse(x) => x.res,
        _ => {
            return Err(LdapError::new(
                LdapResultCode::Other,
                "unexpected response to a write".to_string(),
            ))
        }
    };
    if r.code == LdapResultCode::Success {
        Ok(())
    } else {
        Err(LdapError::new(r.code, r.message))
    }
}

/// May `who` write any of `attrs` of the entry at `dn` (the access rules' own answer)?
pub(crate) fn may_write(dir: &Directory, who: &Dn, dn: &str, attrs: &[&str]) -> bool {
    let Ok(dn) = dir.parse_dn(dn) else {
        return false;
    };
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let Ok(Some(id)) = snap.id_of(&dn) else {
        return false;
    };
    let Ok(Some(e)) = snap.entry(id) else {
        return false;
    };
    let identity = Identity::User(who.clone());
    let acl = dir.policy.checker(&identity, &snap, &dir.schema);
    let key = dn.store_key();
    attrs
        .iter()
        .any(|a| acl.allows(&key, Some(&e), Some(a), Level::Write))
}

/// Add the entry `dn` with `attrs` (attribute, values), as `who`: an LDAP add request through
/// `ops::dispatch`, so the new entry's `creatorsName` is `who`.
pub(crate) fn add(
    dir: &Directory,
    who: &Dn,
    peer: &Peer,
    dn: &str,
    attrs: Vec<(String, Vec<String>)>,
) -> Result<(), LdapError> {
    let req = ldap3_proto::proto::LdapAddRequest {
        dn: dn.to_string(),
        attributes: attrs
            .into_iter()
            .filter(|(_, vals)| !vals.is_empty())
            .map(|(a, vals)| ldap3_proto::proto::LdapAttribute {
                atype: a,
                vals: vals.into_iter().map(String::into_bytes).collect(),
            })
            .collect(),
    };
    run_as(dir, who, peer, Op::Add(req))
}

/// Delete the entry `dn`, as `who` (an LDAP delete request through `ops::dispatch`).
pub(crate) fn delete(dir: &Directory, who: &Dn, peer: &Peer, dn: &str) -> Result<(), LdapError> {
    run_as(dir, who, peer, Op::Delete(dn.to_string()))
}

/// May `who` add or delete an entry like `e` (its DN and object classes), by the access rules
/// (an add needs write access to the new entry, a delete to the entry)?
pub(crate) fn may_write_entry(dir: &Directory, who: &Dn, e: &Entry) -> bool {
    let Ok(dn) = dir.parse_dn(&e.dn) else {
        return false;
    };
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let identity = Identity::User(who.clone());
    let acl = dir.policy.checker(&identity, &snap, &dir.schema);
    acl.allows(&dn.store_key(), Some(e), None, Level::Write)
}

/// May `who` read entries like `e` (e.g. a verification record below a registry)?
pub(crate) fn may_read(dir: &Directory, who: &Dn, e: &Entry) -> bool {
    let Ok(dn) = dir.parse_dn(&e.dn) else {
        return false;
    };
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let identity = Identity::User(who.clone());
    let acl = dir.policy.checker(&identity, &snap, &dir.schema);
    acl.allows(&dn.store_key(), Some(e), None, Level::Read)
}
