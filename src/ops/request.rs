//! The typed request: one LDAP message and its controls, decoded once when the connection reads
//! it ([`Request::decode`]). The connection matches its [`Op`] for what is connection-level
//! (unbind, abandon, StartTLS, bind, search) and hands everything else to [`super::dispatch`].
//! Its [`OpKind`] tells which controls apply, what response answers a result given before the
//! operation runs (busy, refused controls), and the name the audit log uses.

use super::controls::{self, RawControl, RequestControls};
use super::extended::OID_STARTTLS;
use super::Session;
use crate::core::error::LdapError;
use ldap3_proto::proto::{
    LdapAddRequest, LdapBindRequest, LdapBindResponse, LdapCompareRequest, LdapExtendedRequest,
    LdapExtendedResponse, LdapModifyDNRequest, LdapModifyRequest, LdapMsg, LdapOp,
    LdapPasswordModifyRequest, LdapResult, LdapSearchRequest, OID_PASSWORD_MODIFY, OID_WHOAMI,
};

/// One request, decoded.
#[derive(Debug)]
pub struct Request {
    /// The message ID (positive).
    pub id: i32,
    pub op: Op,
    /// The request's controls decoded for its operation, or why they are refused: a malformed
    /// control (protocolError) or a critical one that is unknown or does not apply
    /// (unavailableCriticalExtension). The error is that request's result only; unbind, abandon
    /// and StartTLS ignore their controls.
    pub controls: Result<RequestControls, LdapError>,
}

/// The operation a request asks for, with its body as ldap3_proto decoded it.
#[derive(Debug)]
pub enum Op {
    Bind(LdapBindRequest),
    Unbind,
    Search(LdapSearchRequest),
    Modify(LdapModifyRequest),
    Add(LdapAddRequest),
    /// The DN of the entry to delete.
    Delete(String),
    ModifyDn(LdapModifyDNRequest),
    Compare(LdapCompareRequest),
    /// The message ID of the operation to abandon.
    Abandon(i32),
    /// StartTLS (RFC 4511 4.14); its request value, if any, is ignored.
    StartTls,
    /// Who am I? (RFC 4532); its request value, if any, is ignored.
    WhoAmI,
    /// Password Modify (RFC 3062), its value decoded, or why it is malformed (the operation's
    /// protocolError, after its controls are checked).
    PasswordModify(Result<LdapPasswordModifyRequest, LdapError>),
    /// An extended operation ccdir does not support (protocolError).
    Extended(LdapExtendedRequest),
}

/// Which operation a request is, without its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Bind,
    Unbind,
    Search,
    Modify,
    Add,
    Delete,
    ModDn,
    Compare,
    Abandon,
    StartTls,
    WhoAmI,
    PasswordModify,
    Extended,
}

/// Why a message is not a request: the connection sends a Notice of Disconnection and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The message ID is 0 or negative.
    MessageId,
    /// The client sent a response PDU (or an intermediate response).
    Response,
}

impl Refused {
    /// The diagnostic message of the Notice of Disconnection.
    pub fn notice(self) -> &'static str {
        match self {
            Refused::MessageId => "invalid message ID",
            Refused::Response => "unexpected PDU",
        }
    }

    /// Why the connection closed, for its log line.
    pub fn reason(self) -> &'static str {
        match self {
            Refused::MessageId => "invalid message id",
            Refused::Response => "unexpected PDU",
        }
    }
}

impl Request {
    /// Decode one message and its controls as the codec delivered them (the codec takes the
    /// controls off the message, so `msg.ctrl` is empty and not read).
    pub fn decode(
        msg: LdapMsg,
        raw_controls: Result<Vec<RawControl>, String>,
    ) -> Result<Request, Refused> {
        if msg.msgid <= 0 {
            return Err(Refused::MessageId);
        }
        let op = match msg.op {
            LdapOp::BindRequest(r) => Op::Bind(r),
            LdapOp::UnbindRequest => Op::Unbind,
            LdapOp::SearchRequest(r) => Op::Search(r),
            LdapOp::ModifyRequest(r) => Op::Modify(r),
            LdapOp::AddRequest(r) => Op::Add(r),
            LdapOp::DelRequest(dn) => Op::Delete(dn),
            LdapOp::ModifyDNRequest(r) => Op::ModifyDn(r),
            LdapOp::CompareRequest(r) => Op::Compare(r),
            LdapOp::AbandonRequest(id) => Op::Abandon(id),
            LdapOp::ExtendedRequest(r) => match r.name.as_str() {
                OID_STARTTLS => Op::StartTls,
                OID_WHOAMI => Op::WhoAmI,
                OID_PASSWORD_MODIFY => {
                    Op::PasswordModify(super::extended::password_modify_value(&r))
                }
                _ => Op::Extended(r),
            },
            LdapOp::BindResponse(_)
            | LdapOp::SearchResultEntry(_)
            | LdapOp::SearchResultDone(_)
            | LdapOp::SearchResultReference(_)
            | LdapOp::ModifyResponse(_)
            | LdapOp::AddResponse(_)
            | LdapOp::DelResponse(_)
            | LdapOp::ModifyDNResponse(_)
            | LdapOp::CompareResult(_)
            | LdapOp::ExtendedResponse(_)
            | LdapOp::IntermediateResponse(_) => return Err(Refused::Response),
        };
        let controls = match raw_controls {
            Ok(c) => controls::parse(&c, op.kind()),
            Err(why) => Err(LdapError::protocol(why)),
        };
        Ok(Request {
            id: msg.msgid,
            op,
            controls,
        })
    }

    pub fn kind(&self) -> OpKind {
        self.op.kind()
    }
}

impl Op {
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Bind(_) => OpKind::Bind,
            Op::Unbind => OpKind::Unbind,
            Op::Search(_) => OpKind::Search,
            Op::Modify(_) => OpKind::Modify,
            Op::Add(_) => OpKind::Add,
            Op::Delete(_) => OpKind::Delete,
            Op::ModifyDn(_) => OpKind::ModDn,
            Op::Compare(_) => OpKind::Compare,
            Op::Abandon(_) => OpKind::Abandon,
            Op::StartTls => OpKind::StartTls,
            Op::WhoAmI => OpKind::WhoAmI,
            Op::PasswordModify(_) => OpKind::PasswordModify,
            Op::Extended(_) => OpKind::Extended,
        }
    }

    /// What the audit log records of a write request (recorded under its kind's name): the
    /// target DN and the attribute names. None for requests the audit log does not record here
    /// (the connection records binds itself).
    pub fn audit_target(&self, s: &Session) -> Option<(String, Vec<String>)> {
        Some(match self {
            Op::Add(r) => (
                r.dn.clone(),
                r.attributes.iter().map(|a| a.atype.clone()).collect(),
            ),
            Op::Delete(dn) => (dn.clone(), vec![]),
            Op::Modify(r) => (
                r.dn.clone(),
                r.changes
                    .iter()
                    .map(|c| c.modification.atype.clone())
                    .collect(),
            ),
            Op::ModifyDn(r) => (r.dn.clone(), vec![]),
            Op::PasswordModify(pm) => {
                let target = match pm {
                    Ok(LdapPasswordModifyRequest {
                        user_identity: Some(id),
                        ..
                    }) => id.clone(),
                    _ => s.identity.dn_str().to_string(),
                };
                (target, vec!["userPassword".into()])
            }
            Op::Bind(_)
            | Op::Unbind
            | Op::Search(_)
            | Op::Compare(_)
            | Op::Abandon(_)
            | Op::StartTls
            | Op::WhoAmI
            | Op::Extended(_) => return None,
        })
    }
}

impl OpKind {
    /// The operation's name in the audit log and in diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Bind => "bind",
            OpKind::Unbind => "unbind",
            OpKind::Search => "search",
            OpKind::Modify => "modify",
            OpKind::Add => "add",
            OpKind::Delete => "delete",
            OpKind::ModDn => "modrdn",
            OpKind::Compare => "compare",
            OpKind::Abandon => "abandon",
            OpKind::StartTls => "starttls",
            OpKind::WhoAmI => "whoami",
            OpKind::PasswordModify => "passwd",
            OpKind::Extended => "extended",
        }
    }

    /// The response PDU that carries `res` for a request of this kind. Unbind and abandon have
    /// none; they get an extended response, as an unknown request would.
    pub fn response(self, res: LdapResult) -> LdapOp {
        match self {
            OpKind::Bind => LdapOp::BindResponse(LdapBindResponse {
                res,
                saslcreds: None,
            }),
            OpKind::Search => LdapOp::SearchResultDone(res),
            OpKind::Modify => LdapOp::ModifyResponse(res),
            OpKind::Add => LdapOp::AddResponse(res),
            OpKind::Delete => LdapOp::DelResponse(res),
            OpKind::ModDn => LdapOp::ModifyDNResponse(res),
            OpKind::Compare => LdapOp::CompareResult(res),
            OpKind::StartTls => LdapOp::ExtendedResponse(LdapExtendedResponse {
                res,
                name: Some(OID_STARTTLS.to_string()),
                value: None,
            }),
            OpKind::Unbind
            | OpKind::Abandon
            | OpKind::WhoAmI
            | OpKind::PasswordModify
            | OpKind::Extended => LdapOp::ExtendedResponse(LdapExtendedResponse {
                res,
                name: None,
                value: None,
            }),
        }
    }
}
