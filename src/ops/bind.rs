//! Bind (RFC 4511 4.2, RFC 4513): simple with argon2id passwords, and anonymous.
//! Unknown DN and wrong password both give invalidCredentials after the same work. An account
//! pending approval or suspended (write/accounts.rs) gets invalidCredentials too, with its
//! reason, once the password is right.

use super::Session;
use crate::acl::rules::Level;
use crate::acl::Identity;
use crate::core::error::LdapError;
use crate::service::password::Check;
use crate::service::Directory;
use crate::store::View;
use crate::write::{accounts, Change, Hooks, Mod, ModOp, Origin, Write};
use ldap3_proto::proto::{LdapBindCred, LdapBindRequest, LdapResultCode};
use std::net::SocketAddr;

/// Authenticate; on success returns the new identity. The caller resets the session to anonymous
/// whatever the outcome before applying it.
pub(crate) fn bind(
    dir: &Directory,
    s: &Session,
    req: &LdapBindRequest,
) -> Result<Identity, LdapError> {
    if req.version != 3 {
        return Err(LdapError::protocol(format!(
            "LDAP version {} is not supported (only 3)",
            req.version
        )));
    }
    match &req.cred {
        LdapBindCred::Simple(pw) => password_bind(dir, s.peer, s.tls, &req.dn, pw.as_bytes()),
        LdapBindCred::SASL(sasl) if sasl.mechanism.eq_ignore_ascii_case("EXTERNAL") => {
            certificate_bind(
                dir,
                s.peer,
                s.client_cert.as_deref().map(|c| c.as_slice()),
                &sasl.credentials,
            )
        }
        LdapBindCred::SASL(sasl) => Err(LdapError::new(
            LdapResultCode::AuthMethodNotSupported,
            format!("SASL mechanism {} is not supported", sasl.mechanism),
        )),
        LdapBindCred::Unsupported => Err(LdapError::new(
            LdapResultCode::AuthMethodNotSupported,
            "authentication method not supported",
        )),
    }
}

/// A simple bind's check of a name and password, the one the LDAP simple bind and the portal's
/// login (portal/auth.rs) share: the TLS requirement, the per-address limit on failed binds, the
/// account lockout, the account status and the legacy-hash upgrade. An empty name with an empty
/// password is the anonymous identity (the portal refuses that before it asks).
pub(crate) fn password_bind(
    dir: &Directory,
    peer: SocketAddr,
    tls: bool,
    name: &str,
    pw: &[u8],
) -> Result<Identity, LdapError> {
    if !pw.is_empty() && !tls && dir.config.password.require_tls {
        return Err(confidentiality_required());
    }
    if !dir.throttle.source_allowed(peer.ip()) {
        return Err(LdapError::unwilling(
            "too many failed binds from this address; try again later",
        ));
    }
    simple(dir, peer, name, pw)
}

/// A name that names no account (the portal's login by a mail address that matches none): the
/// same work and the same answer as a wrong password, and the failure counts against the address.
pub(crate) fn unknown_account(dir: &Directory, peer: SocketAddr, pw: &[u8]) -> LdapError {
    dir.hasher.verify_dummy(pw);
    dir.throttle.failed(None, peer.ip());
    LdapError::invalid_credentials()
}

fn simple(dir: &Directory, peer: SocketAddr, name: &str, pw: &[u8]) -> Result<Identity, LdapError> {
    if name.is_empty() {
        if pw.is_empty() {
            return Ok(Identity::Anonymous);
        }
        return Err(LdapError::invalid_credentials());
    }
    if pw.is_empty() {
        // RFC 4513 5.1.2: an unauthenticated bind.
        return Err(LdapError::unwilling(
            "unauthenticated bind (DN with no password) disallowed",
        ));
    }
    let dn = dir.parse_dn(name)?;
    let snap = dir.store.read()?;
    let entry = snap.lookup(&dn)?;
    // A bind is evaluated as anonymous: the password must be usable for authentication.
    let anonymous = Identity::Anonymous;
    let acl = dir.policy.checker(&anonymous, &snap, &dir.schema);
    let key = dn.store_key();
    let stored: Vec<Vec<u8>> = entry
        .as_ref()
        .filter(|(_, e)| acl.allows(&key, Some(e), Some("userPassword"), Level::Auth))
        .and_then(|(_, e)| e.get("userPassword"))
        .map(|a| a.values.clone())
        .unwrap_or_default();
    // The admin_dn binds whatever its status says (as it is never locked out, below).
    let refusal = entry
        .as_ref()
        .filter(|_| dn.norm() != dir.policy.admin.norm())
        .and_then(|(_, e)| accounts::bind_refusal(e));
    drop(acl);
    drop(snap);
    let ip = peer.ip();
    if stored.is_empty() {
        return Err(unknown_account(dir, peer, pw));
    }
    // The admin_dn is never locked out (an attacker could otherwise lock the operators out);
    // the per-address limit still applies to it.
    let lockable = dn.norm() != dir.policy.admin.norm();
    if lockable && dir.throttle.locked(&key) {
        // The same answer after the same work as a wrong password: a locked account is not
        // revealed, and guessing goes on failing.
        dir.hasher.verify_dummy(pw);
        dir.throttle.failed(None, ip);
        tracing::info!(dn = %dn, "bind refused: account locked after repeated failures");
        return Err(LdapError::invalid_credentials());
    }
    for h in &stored {
        let check = dir.hasher.check(h, pw);
        if check == Check::No {
            continue;
        }
        dir.throttle.succeeded(&key);
        // Only who knows the password learns that the account is not (yet) approved.
        if let Some(why) = refusal {
            tracing::info!(dn = %dn, peer = %peer, "bind refused: {why}");
            return Err(LdapError::new(LdapResultCode::InvalidCredentials, why));
        }
        // Not on a replication consumer: the entry is the provider's (a local change would
        // make the replica differ from it), and the provider re-hashes at its own binds.
        if check == Check::Upgrade && dir.write_referral().is_none() {
            upgrade(dir, &dn, h, pw);
        }
        return Ok(Identity::User(dn));
    }
    if dir.throttle.failed(lockable.then_some(key.as_slice()), ip) {
        tracing::warn!(dn = %dn, peer = %peer, "account locked after repeated failed binds");
    }
    Err(LdapError::invalid_credentials())
}

/// Replace a legacy hash that just verified by an argon2id hash of the same password. A failure
/// here does not fail the bind; it is logged and tried again at the next bind.
fn upgrade(dir: &Directory, dn: &crate::core::dn::Dn, old: &[u8], pw: &[u8]) {
    let new = match dir.hasher.hash(pw) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(dn = %dn, error = %e, "could not re-hash a legacy password");
            return;
        }
    };
    // The change is the user's own, made by their bind; it applies only while the legacy hash
    // is still there (StillThere), else nothing is written.
    let who = Identity::User(dn.clone());
    let w = Write {
        change: Change::Modify {
            dn: dn.clone(),
            mods: vec![
                Mod {
                    op: ModOp::Delete,
                    attr: "userPassword".into(),
                    values: vec![old.to_vec()],
                },
                Mod {
                    op: ModOp::Add,
                    attr: "userPassword".into(),
                    values: vec![new.into_bytes()],
                },
            ],
            permissive: false,
        },
        actor: &who,
        origin: Origin::Server,
    };
    let r = match crate::write::apply(dir, w, &mut StillThere(old)) {
        Err(e) if e.code == LdapResultCode::NoSuchObject || e.message == GONE => Ok(()),
        r => r,
    };
    match r {
        Ok(()) => tracing::info!(dn = %dn, "upgraded a legacy password hash to argon2id"),
        Err(e) => {
            tracing::warn!(dn = %dn, error = %e.message, "could not store the upgraded password hash")
        }
    }
}

const GONE: &str = "the legacy hash is no longer there";

/// The re-hash applies only to the hash that was verified.
struct StillThere<'a>(&'a [u8]);

impl Hooks for StillThere<'_> {
    fn before(
        &mut self,
        _: &crate::acl::Checker<'_>,
        _: &dyn View,
        _: Option<u64>,
        _: &[u8],
        e: &crate::core::entry::Entry,
    ) -> Result<(), LdapError> {
        let there = e
            .get("userPassword")
            .is_some_and(|a| a.values.iter().any(|v| v.as_slice() == self.0));
        if there {
            Ok(())
        } else {
            Err(LdapError::other(GONE))
        }
    }
}

/// Passwords travel only over TLS unless the configuration allows otherwise.
pub(crate) fn confidentiality_required() -> LdapError {
    LdapError::new(
        LdapResultCode::ConfidentialityRequired,
        "confidentiality required: use StartTLS or LDAPS to send a password",
    )
}

/// SASL EXTERNAL (RFC 4422 appendix A): the identity is the entry whose `userCertificate` holds
/// the TLS client certificate (verified against `tls.client_ca` in the handshake). Shared with
/// the portal's login by client certificate.
pub(crate) fn certificate_bind(
    dir: &Directory,
    peer: SocketAddr,
    cert: Option<&[u8]>,
    authzid: &[u8],
) -> Result<Identity, LdapError> {
    use crate::store::index::{attr_prefix, IndexReader};
    use crate::store::StoreError;
    let Some(cert) = cert else {
        return Err(LdapError::new(
            LdapResultCode::InappropriateAuthentication,
            "SASL EXTERNAL needs a TLS client certificate",
        ));
    };
    let snap = dir.store.read()?;
    let mut ids = Vec::new();
    if dir.store.index_spec().eq.contains("usercertificate") {
        let mut key = attr_prefix("userCertificate");
        key.extend_from_slice(cert);
        ids = snap.eq_ids(&key)?;
    } else {
        snap.scan_prefix::<StoreError>(&dir.suffix.store_key(), None, &mut |_, id| {
            if let Some(e) = snap.entry(id)? {
                if e.attrs_of_type("userCertificate")
                    .any(|a| a.values.iter().any(|v| v.as_slice() == cert))
                {
                    ids.push(id);
                }
            }
            Ok(ids.len() < 2)
        })?;
    }
    let [id] = ids.as_slice() else {
        tracing::info!(peer = %peer, matches = ids.len(), "SASL EXTERNAL: certificate maps to no single entry");
        return Err(LdapError::invalid_credentials());
    };
    let entry = snap
        .entry(*id)?
        .ok_or_else(LdapError::invalid_credentials)?;
    let dn = dir.parse_dn(&entry.dn)?;
    if let Some(why) = accounts::bind_refusal(&entry) {
        tracing::info!(dn = %dn, peer = %peer, "SASL EXTERNAL bind refused: {why}");
        return Err(LdapError::new(LdapResultCode::InvalidCredentials, why));
    }
    // An authorization identity, if given, must be the mapped one (no proxy authorization).
    if !authzid.is_empty() {
        let text = std::str::from_utf8(authzid).unwrap_or_default();
        let asked = text.strip_prefix("dn:").map(|d| dir.parse_dn(d));
        match asked {
            Some(Ok(d)) if d.norm() == dn.norm() => {}
            _ => {
                return Err(LdapError::new(
                    LdapResultCode::InappropriateAuthentication,
                    "SASL EXTERNAL: the authorization identity must be the certificate's own",
                ))
            }
        }
    }
    Ok(Identity::User(dn))
}
