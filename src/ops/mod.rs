//! Operations: plain synchronous functions over the store, called off the async runtime.
//! Each takes the shared [`Directory`], the caller's [`Session`] state and the decoded request,
//! and returns the response (search streams its entries through a callback). A message becomes
//! a typed [`Request`] once (request.rs); the connection handles the connection-level
//! operations and passes every other request to [`dispatch`].

pub(crate) mod bind;
pub(crate) mod compare;
pub(crate) mod controls;
mod errors;
pub(crate) mod extended;
pub mod project;
pub(crate) mod readback;
pub(crate) mod request;
pub(crate) mod rootdse;
pub(crate) mod search;
pub(crate) mod sort;
pub(crate) mod write;

use crate::acl::Identity;
use crate::service::Directory;
use std::net::SocketAddr;
use std::sync::Arc;

pub use request::{Op, OpKind, Refused, Request};

/// Per-connection state the operations read and bind changes.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: u64,
    pub(crate) peer: SocketAddr,
    pub(crate) identity: Identity,
    pub(crate) tls: bool,
    /// The client's TLS certificate (DER), when it presented one the client CA signed.
    pub(crate) client_cert: Option<Arc<Vec<u8>>>,
}

impl Session {
    /// The session as the audit log records its requests.
    pub(crate) fn caller(&self) -> crate::service::Caller<'_> {
        crate::service::Caller {
            conn: self.id,
            peer: self.peer,
            identity: &self.identity,
        }
    }

    pub(crate) fn new(id: u64, peer: SocketAddr, tls: bool) -> Self {
        Session {
            id,
            peer,
            identity: Identity::Anonymous,
            tls,
            client_cert: None,
        }
    }
}

use crate::core::error::{code_number, success, LdapError};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapExtendedResponse, LdapMsg, LdapOp, LdapResult};

/// What an operation run by [`dispatch`] answers.
enum Outcome {
    /// A result (wrapped in the response PDU of the request's kind) and response controls.
    Result(LdapResult, Vec<LdapControl>),
    /// An extended operation's response, with its own name and value.
    Extended(LdapExtendedResponse),
}

impl Outcome {
    /// A write's result and its response controls (pre-/post-read).
    fn written(r: Result<Vec<LdapControl>, LdapError>) -> Outcome {
        match r {
            Ok(c) => Outcome::Result(success(), c),
            Err(e) => Outcome::Result(e.into_result(), Vec::new()),
        }
    }

    fn extended(r: Result<LdapExtendedResponse, LdapError>) -> Outcome {
        Outcome::Extended(r.unwrap_or_else(|e| LdapExtendedResponse {
            res: e.into_result(),
            name: None,
            value: None,
        }))
    }

    fn code(&self) -> u32 {
        match self {
            Outcome::Result(res, _) => code_number(&res.code),
            Outcome::Extended(r) => code_number(&r.res.code),
        }
    }

    fn into_msg(self, id: i32, kind: OpKind) -> LdapMsg {
        match self {
            Outcome::Result(res, ctrls) => LdapMsg::new_with_ctrls(id, kind.response(res), ctrls),
            Outcome::Extended(r) => LdapMsg::new(id, LdapOp::ExtendedResponse(r)),
        }
    }
}

/// A client write on a replication consumer: a referral to the provider (RFC 4511 4.1.10), or
/// unwillingToPerform naming it when `replication.consumer.referrals` is off.
fn replica_refusal(replica: Option<(&str, bool)>, kind: &OpKind) -> Outcome {
    let (url, referrals) = replica.unwrap_or_default();
    let res = if referrals {
        LdapResult {
            code: ldap3_proto::proto::LdapResultCode::Referral,
            matcheddn: String::new(),
            message: format!("this server is a replica; write to the provider {url}"),
            referral: vec![url.to_string()],
        }
    } else {
        LdapError::unwilling(format!(
            "this server is a read-only replica; write to the provider {url}"
        ))
        .into_result()
    };
    if matches!(kind, OpKind::PasswordModify) {
        Outcome::Extended(LdapExtendedResponse {
            res,
            name: None,
            value: None,
        })
    } else {
        Outcome::Result(res, Vec::new())
    }
}

/// Run a request the connection does not handle itself (all but bind, search, abandon, unbind
/// and StartTLS) and return its response; writes and password changes are recorded in the audit
/// log. Blocking: call off the async runtime.
pub(crate) fn dispatch(dir: &Directory, s: &Session, req: Request) -> LdapMsg {
    let Request { id, op, controls } = req;
    let kind = op.kind();
    let audited = if dir.audit.enabled() {
        op.audit_target(s)
    } else {
        None
    };
    let replica = match &op {
        Op::Add(_) | Op::Delete(_) | Op::Modify(_) | Op::ModifyDn(_) | Op::PasswordModify(_) => {
            dir.write_referral()
        }
        _ => None,
    };
    let out = match op {
        _ if replica.is_some() => replica_refusal(replica, &kind),
        Op::Add(r) => Outcome::written(controls.and_then(|c| write::add(dir, s, r, &c))),
        Op::Delete(dn) => Outcome::written(controls.and_then(|c| write::delete(dir, s, &dn, &c))),
        Op::Modify(r) => Outcome::written(controls.and_then(|c| write::modify(dir, s, r, &c))),
        Op::ModifyDn(r) => Outcome::written(controls.and_then(|c| write::modrdn(dir, s, &r, &c))),
        Op::Compare(r) => Outcome::Result(
            match controls.and_then(|c| compare::compare(dir, s, &r, &c)) {
                Ok(code) => LdapResult {
                    code,
                    matcheddn: String::new(),
                    message: String::new(),
                    referral: vec![],
                },
                Err(e) => e.into_result(),
            },
            Vec::new(),
        ),
        Op::WhoAmI => Outcome::extended(controls.map(|_| extended::who_am_i(s))),
        Op::PasswordModify(pm) => Outcome::extended(
            controls
                .and(pm)
                .and_then(|pm| extended::password_modify(dir, s, &pm)),
        ),
        Op::Extended(r) if r.name == extended::OID_LIVE_TOOL => {
            Outcome::extended(controls.and_then(|_| extended::live_tool(dir, s, &r)))
        }
        Op::Extended(r) => Outcome::extended(controls.and_then(|_| Err(extended::unsupported(&r)))),
        Op::Bind(_) | Op::Search(_) | Op::Unbind | Op::Abandon(_) | Op::StartTls => {
            Outcome::extended(Err(LdapError::protocol(format!(
                "unexpected {} in a request",
                kind.name()
            ))))
        }
    };
    if let Some((target, attrs)) = audited {
        dir.audit(&s.caller(), kind.name(), &target, &attrs, out.code());
    }
    out.into_msg(id, kind)
}
