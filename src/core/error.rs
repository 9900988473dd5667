//! The error type the operations return: an LDAP result code with a diagnostic message and, for
//! noSuchObject, the matched DN. The connection turns it into the response PDU. The store has its
//! own error type (`store::StoreError`), which becomes an `LdapError` in one place,
//! `ops/errors.rs`.

use ldap3_proto::proto::{LdapResult, LdapResultCode};
use std::fmt;

/// An LDAP result other than success, ready to be sent to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct LdapError {
    pub(crate) code: LdapResultCode,
    pub message: String,
    pub(crate) matched_dn: String,
}

impl LdapError {
    pub(crate) fn new(code: LdapResultCode, message: impl Into<String>) -> Self {
        LdapError {
            code,
            message: message.into(),
            matched_dn: String::new(),
        }
    }

    pub(crate) fn with_matched(mut self, matched: impl Into<String>) -> Self {
        self.matched_dn = matched.into();
        self
    }

    pub(crate) fn protocol(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::ProtocolError, msg)
    }
    pub(crate) fn other(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::Other, msg)
    }
    pub(crate) fn unwilling(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::UnwillingToPerform, msg)
    }
    pub(crate) fn invalid_dn(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::InvalidDNSyntax, msg)
    }
    pub(crate) fn no_such_object(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::NoSuchObject, msg)
    }
    pub(crate) fn insufficient_access(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::InsufficentAccessRights, msg)
    }
    pub(crate) fn constraint(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::ConstraintViolation, msg)
    }
    pub(crate) fn syntax(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::InvalidAttributeSyntax, msg)
    }
    pub(crate) fn undefined_type(msg: impl Into<String>) -> Self {
        Self::new(LdapResultCode::UndefinedAttributeType, msg)
    }
    pub(crate) fn invalid_credentials() -> Self {
        Self::new(LdapResultCode::InvalidCredentials, "invalid credentials")
    }

    pub(crate) fn into_result(self) -> LdapResult {
        LdapResult {
            code: self.code,
            matcheddn: self.matched_dn,
            message: self.message,
            referral: vec![],
        }
    }
}

impl fmt::Display for LdapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({:?}): {}",
            code_number(&self.code),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for LdapError {}

pub(crate) fn success() -> LdapResult {
    LdapResult {
        code: LdapResultCode::Success,
        matcheddn: String::new(),
        message: String::new(),
        referral: vec![],
    }
}

pub(crate) fn code_number(code: &LdapResultCode) -> u32 {
    code.clone() as u32
}
