//! Operations: plain synchronous functions over the store, called off the async runtime.
//! Each takes the shared [`Directory`], the caller's [`Session`] state and the decoded request,
//! and returns the response (search streams its entries through a callback).

pub mod bind;
pub mod compare;
pub mod controls;
pub mod extended;
pub mod readback;
pub mod rootdse;
pub mod search;
pub mod sort;
pub mod write;

use crate::acl::Identity;
use crate::service::Directory;
use std::net::SocketAddr;
use std::sync::Arc;

/// Per-connection state the operations read and bind changes.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: u64,
    pub peer: SocketAddr,
    pub identity: Identity,
    pub tls: bool,
    /// The client's TLS certificate (DER), when it presented one the client CA signed.
    pub client_cert: Option<Arc<Vec<u8>>>,
}

impl Session {
    /// The session as the audit log records its requests.
    pub fn caller(&self) -> crate::service::Caller<'_> {
        crate::service::Caller {
            conn: self.id,
            peer: self.peer,
            identity: &self.identity,
        }
    }

    pub fn new(id: u64, peer: SocketAddr, tls: bool) -> Self {
        Session {
            id,
            peer,
            identity: Identity::Anonymous,
            tls,
            client_cert: None,
        }
    }
}

use crate::core::error::{success, LdapError};
use controls::OpKind;
use controls::RawControl;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapExtendedResponse, LdapMsg, LdapOp, LdapResult};

/// The request's controls as the codec delivered them (or why they are malformed).
pub type RawControls = Result<Vec<RawControl>, String>;

/// A write's result and its response controls (pre-/post-read).
fn result_of(r: Result<Vec<LdapControl>, LdapError>) -> (LdapResult, Vec<LdapControl>) {
    match r {
        Ok(c) => (success(), c),
        Err(e) => (e.into_result(), Vec::new()),
    }
}

/// The operation a request is, for the rules on which controls apply to it.
pub fn op_kind(op: &LdapOp) -> OpKind {
    match op {
        LdapOp::BindRequest(_) => OpKind::Bind,
        LdapOp::SearchRequest(_) => OpKind::Search,
        LdapOp::CompareRequest(_) => OpKind::Compare,
        LdapOp::AddRequest(_) => OpKind::Add,
        LdapOp::DelRequest(_) => OpKind::Delete,
        LdapOp::ModifyRequest(_) => OpKind::Modify,
        LdapOp::ModifyDNRequest(_) => OpKind::ModDn,
        _ => OpKind::Extended,
    }
}

/// Run one of the operations that answer with a single response (all but bind, search, abandon,
/// unbind and StartTLS, which the connection handles). Blocking: call off the async runtime.
pub fn respond(
    dir: &Directory,
    s: &Session,
    msgid: i32,
    op: LdapOp,
    ctrls: &RawControls,
) -> LdapMsg {
    let audited = audit_info(s, &op);
    let msg = respond_inner(dir, s, msgid, op, ctrls);
    if let Some((name, target, attrs)) = audited {
        let code = match &msg.op {
            LdapOp::AddResponse(r)
            | LdapOp::DelResponse(r)
            | LdapOp::ModifyResponse(r)
            | LdapOp::ModifyDNResponse(r) => crate::core::error::code_number(&r.code),
            LdapOp::ExtendedResponse(r) => crate::core::error::code_number(&r.res.code),
            _ => 0,
        };
        dir.audit(&s.caller(), name, &target, &attrs, code);
    }
    msg
}

/// What the audit log records of a write request: operation, target DN, attribute names.
fn audit_info(s: &Session, op: &LdapOp) -> Option<(&'static str, String, Vec<String>)> {
    Some(match op {
        LdapOp::AddRequest(r) => (
            "add",
            r.dn.clone(),
            r.attributes.iter().map(|a| a.atype.clone()).collect(),
        ),
        LdapOp::DelRequest(dn) => ("delete", dn.clone(), vec![]),
        LdapOp::ModifyRequest(r) => (
            "modify",
            r.dn.clone(),
            r.changes
                .iter()
                .map(|c| c.modification.atype.clone())
                .collect(),
        ),
        LdapOp::ModifyDNRequest(r) => ("modrdn", r.dn.clone(), vec![]),
        LdapOp::ExtendedRequest(r) if r.name == ldap3_proto::proto::OID_PASSWORD_MODIFY => {
            let target = ldap3_proto::proto::LdapPasswordModifyRequest::try_from(r)
                .ok()
                .and_then(|p| p.user_identity)
                .unwrap_or_else(|| s.identity.dn_str().to_string());
            ("passwd", target, vec!["userPassword".into()])
        }
        _ => return None,
    })
}

fn respond_inner(
    dir: &Directory,
    s: &Session,
    msgid: i32,
    op: LdapOp,
    ctrls: &RawControls,
) -> LdapMsg {
    let checked = controls::decode(ctrls, op_kind(&op));
    let mut resp_ctrls = Vec::new();
    let mut write = |r: Result<Vec<LdapControl>, LdapError>| {
        let (res, c) = result_of(r);
        resp_ctrls = c;
        res
    };
    let op_out = match op {
        LdapOp::AddRequest(req) => {
            LdapOp::AddResponse(write(checked.and_then(|c| write::add(dir, s, req, &c))))
        }
        LdapOp::DelRequest(dn) => {
            LdapOp::DelResponse(write(checked.and_then(|c| write::delete(dir, s, &dn, &c))))
        }
        LdapOp::ModifyRequest(req) => {
            LdapOp::ModifyResponse(write(checked.and_then(|c| write::modify(dir, s, req, &c))))
        }
        LdapOp::ModifyDNRequest(req) => {
            LdapOp::ModifyDNResponse(write(checked.and_then(|c| write::modrdn(dir, s, &req, &c))))
        }
        LdapOp::CompareRequest(req) => LdapOp::CompareResult(
            match checked.and_then(|c| compare::compare(dir, s, &req, &c)) {
                Ok(code) => LdapResult {
                    code,
                    matcheddn: String::new(),
                    message: String::new(),
                    referral: vec![],
                },
                Err(e) => e.into_result(),
            },
        ),
        LdapOp::ExtendedRequest(req) => LdapOp::ExtendedResponse(
            match checked.and_then(|_| extended::extended(dir, s, &req)) {
                Ok(r) => r,
                Err(e) => LdapExtendedResponse {
                    res: e.into_result(),
                    name: None,
                    value: None,
                },
            },
        ),
        other => LdapOp::ExtendedResponse(LdapExtendedResponse {
            res: LdapError::protocol(format!("unexpected {} in a request", op_name(&other)))
                .into_result(),
            name: None,
            value: None,
        }),
    };
    LdapMsg::new_with_ctrls(msgid, op_out, resp_ctrls)
}

pub fn op_name(op: &LdapOp) -> &'static str {
    match op {
        LdapOp::BindRequest(_) => "bind",
        LdapOp::UnbindRequest => "unbind",
        LdapOp::SearchRequest(_) => "search",
        LdapOp::ModifyRequest(_) => "modify",
        LdapOp::AddRequest(_) => "add",
        LdapOp::DelRequest(_) => "delete",
        LdapOp::ModifyDNRequest(_) => "modrdn",
        LdapOp::CompareRequest(_) => "compare",
        LdapOp::AbandonRequest(_) => "abandon",
        LdapOp::ExtendedRequest(_) => "extended",
        _ => "response",
    }
}
