//! Bind (RFC 4511 4.2, RFC 4513): simple with argon2id passwords, and anonymous.
//! Unknown DN and wrong password both give invalidCredentials after the same work.

use super::{Directory, Session};
use crate::acl::Identity;
use crate::error::LdapError;
use crate::store::View;
use ldap3_proto::proto::{LdapBindCred, LdapBindRequest, LdapResultCode};

/// Authenticate; on success returns the new identity. The caller resets the session to anonymous
/// whatever the outcome before applying it.
pub fn bind(dir: &Directory, _s: &Session, req: &LdapBindRequest) -> Result<Identity, LdapError> {
    if req.version != 3 {
        return Err(LdapError::protocol(format!(
            "LDAP version {} is not supported (only 3)",
            req.version
        )));
    }
    match &req.cred {
        LdapBindCred::Simple(pw) => simple(dir, &req.dn, pw.as_bytes()),
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

fn simple(dir: &Directory, name: &str, pw: &[u8]) -> Result<Identity, LdapError> {
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
    let entry = dir.store.read()?.lookup(&dn)?;
    let stored: Vec<Vec<u8>> = entry
        .as_ref()
        .and_then(|(_, e)| e.get("userPassword"))
        .map(|a| a.values.clone())
        .unwrap_or_default();
    if stored.is_empty() {
        dir.hasher.verify_dummy(pw);
        return Err(LdapError::invalid_credentials());
    }
    if stored.iter().any(|h| dir.hasher.verify(h, pw)) {
        Ok(Identity::User(dn))
    } else {
        Err(LdapError::invalid_credentials())
    }
}
