//! Extended operations: Who am I? (RFC 4532) and Password Modify (RFC 3062). StartTLS (RFC 4511
//! 4.14) changes the connection and is handled there; unknown operations get protocolError.
//! `Request::decode` tells them apart by their OID and decodes Password Modify's value.

use super::Session;
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::View;
use crate::write::{Change, Hooks, Mod, ModOp, Origin, Write};
use ldap3_proto::proto::{
    LdapExtendedRequest, LdapExtendedResponse, LdapPasswordModifyRequest,
    LdapPasswordModifyResponse, OID_PASSWORD_MODIFY, OID_WHOAMI,
};

pub(crate) const OID_STARTTLS: &str = "1.3.6.1.4.1.1466.20037";

/// ccdir's live tools (reports, roster, export, check, backup, replication status from the
/// running server): the request value is a JSON [`crate::tools::run::ToolRequest`], the
/// response value the JSON [`crate::tools::run::ToolOutput`].
pub const OID_LIVE_TOOL: &str = "2.25.58891398913136867481710290032079796433.3.1";

pub(crate) const SUPPORTED: &[&str] =
    &[OID_STARTTLS, OID_WHOAMI, OID_PASSWORD_MODIFY, OID_LIVE_TOOL];

/// Run a reading tool in the server, on one snapshot, as the bound identity sees the directory;
/// the tools that read everything (export, check, backup) only for the directory's
/// administrators (the admin DN, or manage access to the naming context); replication status
/// only for those who may read cn=Monitor.
pub(crate) fn live_tool(
    dir: &Directory,
    s: &Session,
    req: &LdapExtendedRequest,
) -> Result<LdapExtendedResponse, LdapError> {
    use crate::tools::run::{run_live, ToolRequest};
    let Some(dn) = s.identity.dn() else {
        return Err(LdapError::insufficient_access(
            "the live tools need a bound identity",
        ));
    };
    let value = req
        .value
        .as_deref()
        .ok_or_else(|| LdapError::protocol("live tool: no request value"))?;
    let tool: ToolRequest = serde_json::from_slice(value)
        .map_err(|e| LdapError::protocol(format!("live tool request: {e}")))?;
    let root = dir.policy.is_admin(&s.identity);
    if tool.needs_admin() && !root {
        let snap = dir.store.read()?;
        let acl = dir.policy.checker(&s.identity, &snap, &dir.schema);
        let suffix = snap.lookup(&dir.suffix)?.map(|x| x.1);
        if !acl.allows(
            &dir.suffix.store_key(),
            suffix.as_ref(),
            None,
            Level::Manage,
        ) {
            return Err(LdapError::insufficient_access(
                "export, check and backup read every entry: only the directory's administrators \
                 may run them",
            ));
        }
    }
    if tool.needs_monitor() && !root && !crate::ops::search::monitor::readable(dir, &s.identity)? {
        return Err(LdapError::insufficient_access(
            "replication status: only those who may read cn=Monitor (the directory's \
             administrators, the monitoring group) may ask for it",
        ));
    }
    let as_dn = if root { None } else { Some(dn.display()) };
    let out = run_live(dir, &tool, as_dn).map_err(LdapError::unwilling)?;
    let json = serde_json::to_string(&out).map_err(|e| LdapError::other(e.to_string()))?;
    Ok(LdapExtendedResponse::new_success(
        Some(OID_LIVE_TOOL),
        Some(&json),
    ))
}

/// Who am I? (RFC 4532): the bound DN as an authzId, empty when anonymous.
pub(crate) fn who_am_i(s: &Session) -> LdapExtendedResponse {
    let authz = match s.identity.dn() {
        Some(d) => format!("dn:{}", d.display()),
        None => String::new(),
    };
    LdapExtendedResponse::new_success(None, Some(&authz))
}

/// An extended operation ccdir does not support.
pub(crate) fn unsupported(req: &LdapExtendedRequest) -> LdapError {
    LdapError::protocol(format!("extended operation {} is not supported", req.name))
}

/// The Password Modify request's value (RFC 3062 2); a request without one changes the bound
/// user's password to a generated one.
pub(crate) fn password_modify_value(
    req: &LdapExtendedRequest,
) -> Result<LdapPasswordModifyRequest, LdapError> {
    if req.value.is_none() {
        return Ok(LdapPasswordModifyRequest {
            user_identity: None,
            old_password: None,
            new_password: None,
        });
    }
    LdapPasswordModifyRequest::try_from(req)
        .map_err(|_| LdapError::protocol("malformed password modify request"))
}

/// Password Modify (RFC 3062).
pub(crate) fn password_modify(
    dir: &Directory,
    s: &Session,
    pm: &LdapPasswordModifyRequest,
) -> Result<LdapExtendedResponse, LdapError> {
    let target = match &pm.user_identity {
        Some(id) => {
            let text = id.strip_prefix("dn:").unwrap_or(id);
            dir.parse_dn(text)?
        }
        None => match s.identity.dn() {
            Some(d) => d.clone(),
            None => {
                return Err(LdapError::unwilling(
                    "password modify requires a bind or a user identity",
                ))
            }
        },
    };
    if !s.tls && dir.config.password.require_tls {
        return Err(super::bind::confidentiality_required());
    }
    // Checked before the (expensive) hashing, and the access again in the write transaction.
    let generated = pm.new_password.is_none();
    let new_pw = {
        let snap = dir.store.read()?;
        let acl = dir.policy.checker(&s.identity, &snap, &dir.schema);
        let (_, entry) = may_set_password(&acl, &snap, &target)?;
        if let Some(oldpw) = &pm.old_password {
            let ok = entry.get("userPassword").is_some_and(|a| {
                a.values
                    .iter()
                    .any(|h| dir.hasher.verify(h, oldpw.as_bytes()))
            });
            if !ok {
                return Err(LdapError::invalid_credentials());
            }
        }
        match &pm.new_password {
            Some(p) => {
                let forbidden: Vec<&[u8]> = ["uid", "mail"]
                    .iter()
                    .filter_map(|a| entry.get(a))
                    .flat_map(|a| a.values.iter().map(|v| v.as_slice()))
                    .collect();
                crate::service::password::check_quality(
                    p.as_bytes(),
                    dir.config.password.min_length,
                    &forbidden,
                )
                .map_err(LdapError::constraint)?;
                p.clone()
            }
            None => dir.hasher.generate(),
        }
    };
    let hash = dir
        .hasher
        .hash(new_pw.as_bytes())
        .map_err(|e| LdapError::other(format!("password hashing failed: {e}")))?;
    // The server's own change: access was decided above by the password rule, and is decided
    // again in the write transaction by the hook (no argon2 work while holding the write lock).
    let change = Change::Modify {
        dn: target.clone(),
        mods: vec![Mod {
            op: ModOp::Replace,
            attr: "userPassword".into(),
            values: vec![hash.into_bytes()],
        }],
        permissive: false,
    };
    let w = Write {
        change,
        actor: &s.identity,
        origin: Origin::Server,
    };
    crate::write::apply(
        dir,
        w,
        &mut MaySetPassword {
            dir,
            who: &s.identity,
            target: &target,
        },
    )?;
    if !generated {
        // No responseValue when the client chose the password (RFC 3062 2): an empty value
        // makes OpenLDAP's ldappasswd complain.
        return Ok(LdapExtendedResponse {
            res: crate::core::error::success(),
            name: None,
            value: None,
        });
    }
    let resp = LdapPasswordModifyResponse {
        res: crate::core::error::success(),
        gen_password: Some(new_pw),
    };
    Ok(resp.into())
}

/// The target entry, if the requester may write its password (noSuchObject when it may not
/// even see it).
/// The password rule again, inside the write transaction.
struct MaySetPassword<'a> {
    dir: &'a Directory,
    who: &'a crate::acl::Identity,
    target: &'a crate::core::dn::Dn,
}

impl Hooks for MaySetPassword<'_> {
    fn before(
        &mut self,
        _: &Checker<'_>,
        view: &dyn View,
        _: Option<u64>,
        _: &[u8],
        _: &crate::core::entry::Entry,
    ) -> Result<(), LdapError> {
        let acl = self.dir.policy.checker(self.who, view, &self.dir.schema);
        may_set_password(&acl, view, self.target).map(|_| ())
    }
}

fn may_set_password(
    acl: &Checker<'_>,
    view: &dyn View,
    target: &crate::core::dn::Dn,
) -> Result<(u64, crate::core::entry::Entry), LdapError> {
    match view.lookup(target)? {
        Some((id, e))
            if acl.visible(target, Some(&e))
                || acl
                    .identity()
                    .dn()
                    .is_some_and(|d| d.norm() == target.norm()) =>
        {
            let key = target.store_key();
            if acl.allows(&key, Some(&e), Some("userPassword"), Level::Write) {
                let manage = acl.allows(&key, Some(&e), None, Level::Manage);
                crate::write::accounts::password_modify_allowed(manage, &e)?;
                Ok((id, e))
            } else {
                Err(LdapError::insufficient_access(format!(
                    "no write access to the password of {}",
                    target.display()
                )))
            }
        }
        _ => Err(acl.no_such_object(target)),
    }
}
