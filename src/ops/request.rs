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
    pub(crate) id: i32,
    pub op: Op,
    /// The request's controls decoded for its operation, or why they are refused: a malformed
    /// control (protocolError) or a critical one that is unknown or does not apply
    /// (unavailableCriticalExtension). The error is that request's result only; unbind, abandon
    /// and StartTLS ignore their controls.
    pub(crate) controls: Result<RequestControls, LdapError>,
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

impl Op {
    /// What the operation is about, for its log line: the target DN (a search's base), or the
    /// extended operation's name.
    pub(crate) fn target(&self) -> &str {
        match self {
            Op::Bind(r) => &r.dn,
            Op::Search(r) => &r.base,
            Op::Modify(r) => &r.dn,
            Op::Add(r) => &r.dn,
            Op::Delete(dn) => dn,
            Op::ModifyDn(r) => &r.dn,
            Op::Compare(r) => &r.dn,
            Op::PasswordModify(Ok(pm)) => pm.user_identity.as_deref().unwrap_or(""),
            Op::Extended(r) => &r.name,
            Op::Unbind | Op::Abandon(_) | Op::StartTls | Op::WhoAmI | Op::PasswordModify(_) => "",
        }
    }
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
    pub(crate) fn notice(self) -> &'static str {
        match self {
            Refused::MessageId => "invalid message ID",
            Refused::Response => "unexpected PDU",
        }
    }

    /// Why the connection closed, for its log line.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Refused::MessageId => "invalid message id",
            Refused::Response => "unexpected PDU",
        }
    }
}

impl Request {
    #[cfg(test)]
    fn kind(&self) -> OpKind {
        self.op.kind()
    }

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
}

impl Op {
    pub(crate) fn kind(&self) -> OpKind {
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
    pub(crate) fn audit_target(&self, s: &Session) -> Option<(String, Vec<String>)> {
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
    pub(crate) fn name(self) -> &'static str {
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
    pub(crate) fn response(self, res: LdapResult) -> LdapOp {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::code_number;
    use crate::ops::controls::OID_SORT_REQUEST;
    use crate::proto::codec::RequestCodec;
    use bytes::BytesMut;
    use ldap3_proto::control::LdapControl;
    use ldap3_proto::proto::{
        LdapBindCred, LdapDerefAliases, LdapFilter, LdapIntermediateResponse, LdapModify,
        LdapModifyType, LdapPartialAttribute, LdapResultCode, LdapSearchResultEntry,
        LdapSearchResultReference, LdapSearchScope,
    };
    use tokio_util::codec::{Decoder, Encoder};

    fn decode(op: LdapOp) -> Result<Request, Refused> {
        Request::decode(LdapMsg::new(7, op), Ok(vec![]))
    }

    fn ext(name: &str, value: Option<Vec<u8>>) -> LdapOp {
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: name.into(),
            value,
        })
    }

    /// A message as a client sends it, through the server's codec.
    fn through_codec(msg: LdapMsg) -> Result<Request, Refused> {
        let mut codec = RequestCodec::new(1 << 20, 32);
        let mut b = BytesMut::new();
        codec.encode(msg, &mut b).unwrap();
        let frame = codec.decode(&mut b).unwrap().unwrap();
        Request::decode(frame.msg, frame.controls)
    }

    fn success_result() -> LdapResult {
        crate::core::error::success()
    }

    #[test]
    fn each_request_maps_to_its_op() {
        let search = LdapSearchRequest {
            base: "dc=example".into(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter: LdapFilter::Present("objectClass".into()),
            attrs: vec!["cn".into()],
        };
        let add = LdapAddRequest {
            dn: "cn=a,dc=example".into(),
            attributes: vec![LdapPartialAttribute {
                atype: "cn".into(),
                vals: vec![b"a".to_vec()],
            }],
        };
        let modify = LdapModifyRequest {
            dn: "cn=a,dc=example".into(),
            changes: vec![LdapModify {
                operation: LdapModifyType::Replace,
                modification: LdapPartialAttribute {
                    atype: "sn".into(),
                    vals: vec![b"b".to_vec()],
                },
            }],
        };
        let moddn = LdapModifyDNRequest {
            dn: "cn=a,dc=example".into(),
            newrdn: "cn=b".into(),
            deleteoldrdn: true,
            new_superior: None,
        };
        let compare = LdapCompareRequest {
            dn: "cn=a,dc=example".into(),
            atype: "cn".into(),
            val: b"a".to_vec(),
        };
        let bind = LdapBindRequest {
            version: 3,
            dn: "cn=a,dc=example".into(),
            cred: LdapBindCred::Simple("secret".into()),
        };
        let cases: Vec<(LdapOp, OpKind, &str)> = vec![
            (LdapOp::BindRequest(bind.clone()), OpKind::Bind, "bind"),
            (LdapOp::UnbindRequest, OpKind::Unbind, "unbind"),
            (
                LdapOp::SearchRequest(search.clone()),
                OpKind::Search,
                "search",
            ),
            (LdapOp::AddRequest(add.clone()), OpKind::Add, "add"),
            (
                LdapOp::ModifyRequest(modify.clone()),
                OpKind::Modify,
                "modify",
            ),
            (
                LdapOp::ModifyDNRequest(moddn.clone()),
                OpKind::ModDn,
                "modrdn",
            ),
            (LdapOp::DelRequest("cn=a".into()), OpKind::Delete, "delete"),
            (
                LdapOp::CompareRequest(compare.clone()),
                OpKind::Compare,
                "compare",
            ),
            (LdapOp::AbandonRequest(3), OpKind::Abandon, "abandon"),
            (ext(OID_STARTTLS, None), OpKind::StartTls, "starttls"),
            (ext(OID_WHOAMI, None), OpKind::WhoAmI, "whoami"),
            (
                ext(OID_PASSWORD_MODIFY, None),
                OpKind::PasswordModify,
                "passwd",
            ),
            (
                ext("1.2.3.4", Some(b"x".to_vec())),
                OpKind::Extended,
                "extended",
            ),
        ];
        for (op, kind, name) in cases {
            let req = decode(op).unwrap();
            assert_eq!(req.id, 7);
            assert_eq!(req.kind(), kind);
            assert_eq!(kind.name(), name);
            assert!(req.controls.is_ok());
            match (req.op, kind) {
                (Op::Bind(r), OpKind::Bind) => assert_eq!(r, bind),
                (Op::Unbind, OpKind::Unbind) => {}
                (Op::Search(r), OpKind::Search) => assert_eq!(r, search),
                (Op::Add(r), OpKind::Add) => assert_eq!(r, add),
                (Op::Modify(r), OpKind::Modify) => assert_eq!(r, modify),
                (Op::ModifyDn(r), OpKind::ModDn) => assert_eq!(r, moddn),
                (Op::Delete(dn), OpKind::Delete) => assert_eq!(dn, "cn=a"),
                (Op::Compare(r), OpKind::Compare) => assert_eq!(r, compare),
                (Op::Abandon(id), OpKind::Abandon) => assert_eq!(id, 3),
                (Op::StartTls, OpKind::StartTls) => {}
                (Op::WhoAmI, OpKind::WhoAmI) => {}
                (Op::PasswordModify(pm), OpKind::PasswordModify) => {
                    // No value: the bound user's password, generated.
                    let pm = pm.unwrap();
                    assert_eq!(pm.user_identity, None);
                    assert_eq!(pm.new_password, None);
                }
                (Op::Extended(r), OpKind::Extended) => assert_eq!(r.name, "1.2.3.4"),
                (op, kind) => panic!("{kind:?} decoded as {op:?}"),
            }
        }
    }

    #[test]
    fn password_modify_value_is_decoded_once() {
        let pm = LdapPasswordModifyRequest {
            user_identity: Some("dn:uid=a,dc=example".into()),
            old_password: Some("old".into()),
            new_password: Some("new".into()),
        };
        let req = decode(LdapOp::ExtendedRequest(pm.clone().into())).unwrap();
        let Op::PasswordModify(Ok(got)) = &req.op else {
            panic!("{:?}", req.op)
        };
        assert_eq!(*got, pm);
        let session = Session::new(1, "127.0.0.1:389".parse().unwrap(), false);
        assert_eq!(
            req.op.audit_target(&session),
            Some((
                "dn:uid=a,dc=example".to_string(),
                vec!["userPassword".to_string()]
            ))
        );
        // A malformed value is the operation's protocolError; the audit log names the caller.
        let req = decode(ext(OID_PASSWORD_MODIFY, Some(vec![0x04, 0x01]))).unwrap();
        let Op::PasswordModify(Err(e)) = &req.op else {
            panic!("{:?}", req.op)
        };
        assert_eq!(e.code, LdapResultCode::ProtocolError);
        assert_eq!(
            req.op.audit_target(&session),
            Some((String::new(), vec!["userPassword".to_string()]))
        );
    }

    #[test]
    fn audit_targets_of_writes() {
        let session = Session::new(1, "127.0.0.1:389".parse().unwrap(), false);
        let add = decode(LdapOp::AddRequest(LdapAddRequest {
            dn: "cn=a,dc=example".into(),
            attributes: vec![
                LdapPartialAttribute {
                    atype: "cn".into(),
                    vals: vec![b"a".to_vec()],
                },
                LdapPartialAttribute {
                    atype: "objectClass".into(),
                    vals: vec![b"person".to_vec()],
                },
            ],
        }))
        .unwrap();
        assert_eq!(
            add.op.audit_target(&session),
            Some((
                "cn=a,dc=example".to_string(),
                vec!["cn".to_string(), "objectClass".to_string()]
            ))
        );
        let del = decode(LdapOp::DelRequest("cn=a".into())).unwrap();
        assert_eq!(
            del.op.audit_target(&session),
            Some(("cn=a".to_string(), vec![]))
        );
        for op in [LdapOp::UnbindRequest, ext(OID_WHOAMI, None)] {
            assert_eq!(decode(op).unwrap().op.audit_target(&session), None);
        }
    }

    #[test]
    fn malformed_control_is_that_requests_protocol_error() {
        // LDAPMessage { 1, delRequest "x", [0] { SEQUENCE { INTEGER 5 } } }: the controls field
        // itself is malformed.
        let mut b = BytesMut::from(
            &[
                0x30, 0x0d, 0x02, 0x01, 0x01, 0x4a, 0x01, b'x', 0xa0, 0x05, 0x30, 0x03, 0x02, 0x01,
                0x05,
            ][..],
        );
        let frame = RequestCodec::new(1 << 20, 32)
            .decode(&mut b)
            .unwrap()
            .unwrap();
        let req = Request::decode(frame.msg, frame.controls).unwrap();
        assert!(matches!(&req.op, Op::Delete(dn) if dn == "x"));
        let e = req.controls.unwrap_err();
        assert_eq!(e.code, LdapResultCode::ProtocolError);

        // A critical sort control whose value is malformed (an empty key list).
        let req = through_codec(LdapMsg::new_with_ctrls(
            2,
            LdapOp::SearchRequest(LdapSearchRequest {
                base: String::new(),
                scope: LdapSearchScope::Base,
                aliases: LdapDerefAliases::Never,
                sizelimit: 0,
                timelimit: 0,
                typesonly: false,
                filter: LdapFilter::Present("objectClass".into()),
                attrs: vec![],
            }),
            vec![LdapControl::Unknown {
                oid: OID_SORT_REQUEST.into(),
                criticality: true,
                value: Some(vec![0x30, 0x00]),
            }],
        ))
        .unwrap();
        assert_eq!(req.kind(), OpKind::Search);
        assert_eq!(
            req.controls.unwrap_err().code,
            LdapResultCode::ProtocolError
        );
    }

    #[test]
    fn unknown_critical_control_is_unavailable_critical_extension() {
        let unknown = |critical| {
            LdapMsg::new_with_ctrls(
                4,
                LdapOp::DelRequest("cn=a".into()),
                vec![LdapControl::Unknown {
                    oid: "1.2.3.4".into(),
                    criticality: critical,
                    value: None,
                }],
            )
        };
        let req = through_codec(unknown(true)).unwrap();
        assert!(matches!(req.op, Op::Delete(_)));
        let e = req.controls.unwrap_err();
        assert_eq!(e.code, LdapResultCode::UnavailableCriticalExtension);
        assert_eq!(code_number(&e.code), 12);
        // Not critical: ignored.
        let req = through_codec(unknown(false)).unwrap();
        assert!(req.controls.is_ok());
        // A supported control on an operation it does not apply to (pre-read on an add).
        let req = Request::decode(
            LdapMsg::new(
                5,
                LdapOp::AddRequest(LdapAddRequest {
                    dn: "cn=a".into(),
                    attributes: vec![],
                }),
            ),
            Ok(vec![RawControl {
                oid: crate::ops::controls::OID_PRE_READ.into(),
                critical: true,
                value: Some(vec![0x30, 0x00]),
            }]),
        )
        .unwrap();
        assert_eq!(
            req.controls.unwrap_err().code,
            LdapResultCode::UnavailableCriticalExtension
        );
    }

    #[test]
    fn responses_and_bad_message_ids_are_refused() {
        let res = success_result;
        let responses = vec![
            LdapOp::BindResponse(LdapBindResponse {
                res: res(),
                saslcreds: None,
            }),
            LdapOp::SearchResultEntry(LdapSearchResultEntry {
                dn: "cn=a".into(),
                attributes: vec![],
            }),
            LdapOp::SearchResultDone(res()),
            LdapOp::SearchResultReference(LdapSearchResultReference {
                uris: vec!["ldap://x/".into()],
            }),
            LdapOp::ModifyResponse(res()),
            LdapOp::AddResponse(res()),
            LdapOp::DelResponse(res()),
            LdapOp::ModifyDNResponse(res()),
            LdapOp::CompareResult(res()),
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: res(),
                name: None,
                value: None,
            }),
            LdapOp::IntermediateResponse(LdapIntermediateResponse::SyncInfoNewCookie {
                cookie: vec![1],
            }),
        ];
        for op in responses {
            let shown = format!("{op:?}");
            assert_eq!(decode(op).unwrap_err(), Refused::Response, "{shown}");
        }
        // Through the codec too: an add response sent by a client.
        assert_eq!(
            through_codec(LdapMsg::new(3, LdapOp::AddResponse(res()))).unwrap_err(),
            Refused::Response
        );
        for id in [0, -1] {
            let e = Request::decode(LdapMsg::new(id, LdapOp::UnbindRequest), Ok(vec![]));
            assert_eq!(e.unwrap_err(), Refused::MessageId);
        }
        // The message ID is judged first, as before.
        let e = Request::decode(LdapMsg::new(0, LdapOp::AddResponse(res())), Ok(vec![]));
        assert_eq!(e.unwrap_err(), Refused::MessageId);
        assert_eq!(Refused::MessageId.notice(), "invalid message ID");
        assert_eq!(Refused::Response.notice(), "unexpected PDU");
    }

    #[test]
    fn results_before_the_operation_get_the_requests_response_pdu() {
        let res = success_result;
        assert!(matches!(
            OpKind::Bind.response(res()),
            LdapOp::BindResponse(LdapBindResponse {
                saslcreds: None,
                ..
            })
        ));
        assert!(matches!(
            OpKind::Search.response(res()),
            LdapOp::SearchResultDone(_)
        ));
        assert!(matches!(
            OpKind::Add.response(res()),
            LdapOp::AddResponse(_)
        ));
        assert!(matches!(
            OpKind::Modify.response(res()),
            LdapOp::ModifyResponse(_)
        ));
        assert!(matches!(
            OpKind::ModDn.response(res()),
            LdapOp::ModifyDNResponse(_)
        ));
        assert!(matches!(
            OpKind::Delete.response(res()),
            LdapOp::DelResponse(_)
        ));
        assert!(matches!(
            OpKind::Compare.response(res()),
            LdapOp::CompareResult(_)
        ));
        assert!(matches!(
            OpKind::StartTls.response(res()),
            LdapOp::ExtendedResponse(LdapExtendedResponse { name: Some(n), .. }) if n == OID_STARTTLS
        ));
        for kind in [OpKind::WhoAmI, OpKind::PasswordModify, OpKind::Extended] {
            assert!(matches!(
                kind.response(res()),
                LdapOp::ExtendedResponse(LdapExtendedResponse {
                    name: None,
                    value: None,
                    ..
                })
            ));
        }
    }
}
