//! Add (RFC 4511 4.7), modify (4.6, with increment from RFC 4525), modify DN (4.9) and delete
//! (4.8): each request becomes a typed change that the write pipeline runs as the session's
//! identity. The assertion (RFC 4528) and read-entry (RFC 4527) controls run as the
//! pipeline's hooks, inside its transaction; permissive modify is part of the change.

use super::controls::{RequestControls, OID_POST_READ, OID_PRE_READ};
use super::readback::{check_assertion, read_back};
use super::Session;
use crate::acl::Checker;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::View;
use crate::write::{self, Change, Hooks, Mod, ModOp, Origin, Write};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapAddRequest, LdapModifyDNRequest, LdapModifyRequest, LdapModifyType};

pub(crate) fn add(
    dir: &Directory,
    s: &Session,
    req: LdapAddRequest,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    read_only(&dn)?;
    let attrs = req
        .attributes
        .into_iter()
        .map(|a| (a.atype, a.vals))
        .collect();
    run(dir, s, Change::Add { dn, attrs }, rc)
}

pub(crate) fn modify(
    dir: &Directory,
    s: &Session,
    req: LdapModifyRequest,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    read_only(&dn)?;
    let mods = req
        .changes
        .into_iter()
        .map(|m| Mod {
            op: match m.operation {
                LdapModifyType::Add => ModOp::Add,
                LdapModifyType::Delete => ModOp::Delete,
                LdapModifyType::Replace => ModOp::Replace,
                LdapModifyType::Increment => ModOp::Increment,
            },
            attr: m.modification.atype,
            values: m.modification.vals,
        })
        .collect();
    let change = Change::Modify {
        dn,
        mods,
        permissive: rc.permissive_modify,
    };
    run(dir, s, change, rc)
}

pub(crate) fn modrdn(
    dir: &Directory,
    s: &Session,
    req: &LdapModifyDNRequest,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(&req.dn)?;
    read_only(&dn)?;
    let new_rdn = Dn::parse_rdn(&req.newrdn, &dir.schema)?;
    let new_superior = match &req.new_superior {
        Some(ns) => Some(dir.parse_dn(ns).and_then(|d| read_only(&d).map(|_| d))?),
        None => None,
    };
    let change = Change::Rename {
        dn,
        new_rdn,
        delete_old_rdn: req.deleteoldrdn,
        new_superior,
    };
    run(dir, s, change, rc)
}

pub(crate) fn delete(
    dir: &Directory,
    s: &Session,
    dn_text: &str,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let dn = dir.parse_dn(dn_text)?;
    read_only(&dn)?;
    run(dir, s, Change::Delete { dn }, rc)
}

/// The changelog and the monitor are the server's: no client writes them.
fn read_only(dn: &crate::core::dn::Dn) -> Result<(), LdapError> {
    super::search::changelog::read_only(dn)?;
    super::search::monitor::read_only(dn)
}

fn run(
    dir: &Directory,
    s: &Session,
    change: Change,
    rc: &RequestControls,
) -> Result<Vec<LdapControl>, LdapError> {
    let mut hooks = ControlHooks {
        dir,
        rc,
        out: Vec::new(),
    };
    let w = Write {
        change,
        actor: &s.identity,
        origin: Origin::Client,
    };
    write::apply(dir, w, &mut hooks)?;
    Ok(hooks.out)
}

/// The assertion and read-entry controls of a write, as pipeline hooks: they see the entry as a
/// search by the requester would.
struct ControlHooks<'a> {
    dir: &'a Directory,
    rc: &'a RequestControls,
    out: Vec<LdapControl>,
}

impl Hooks for ControlHooks<'_> {
    fn before(
        &mut self,
        acl: &Checker<'_>,
        view: &dyn View,
        id: Option<u64>,
        key: &[u8],
        entry: &Entry,
    ) -> Result<(), LdapError> {
        if let Some(f) = &self.rc.assertion {
            check_assertion(self.dir, acl, view, id, key, entry, f)?;
        }
        // Pre-read applies to an existing entry (not to an add).
        if let (Some(attrs), Some(_)) = (&self.rc.pre_read, id) {
            self.out
                .push(read_back(self.dir, acl, key, entry, attrs, OID_PRE_READ));
        }
        Ok(())
    }

    fn reads_after(&self) -> bool {
        self.rc.post_read.is_some()
    }

    fn after(&mut self, acl: &Checker<'_>, key: &[u8], entry: &Entry) -> Result<(), LdapError> {
        if let Some(attrs) = &self.rc.post_read {
            self.out
                .push(read_back(self.dir, acl, key, entry, attrs, OID_POST_READ));
        }
        Ok(())
    }
}
