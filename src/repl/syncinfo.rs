//! The RFC 4533 messages a provider sends, encoded (and decoded, for a consumer) by hand:
//! the Sync Info intermediate response and the values of the Sync State and Sync Done
//! controls.
//!
//! ldap3_proto 0.9 encodes the Sync Info `newcookie` choice as a constructed `[0]` around an
//! OCTET STRING (`a0 len 04 len cookie`); RFC 4533's module uses implicit tags, so it is the
//! primitive `[0]` (`80 len cookie`), which is what slapd's syncprov sends (`ber_printf "tO"`)
//! and its consumer reads. The other choices it encodes as RFC 4533 says, but its decoder takes
//! a refreshPresent's and a syncIdSet's elements from the end and so loses their cookie when
//! the BOOLEAN after it is left at its default. The encodings here follow syncprov's
//! `syncprov_sendinfo` byte for byte (booleans as DER, 0xFF) and the tests hold them.
//!
//! ```text
//! syncInfoValue ::= CHOICE {
//!     newcookie      [0] syncCookie,
//!     refreshDelete  [1] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE },
//!     refreshPresent [2] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE },
//!     syncIdSet      [3] SEQUENCE { cookie syncCookie OPTIONAL,
//!                                   refreshDeletes BOOLEAN DEFAULT FALSE,
//!                                   syncUUIDs SET OF syncUUID } }
//! syncStateValue ::= SEQUENCE { state ENUMERATED { present (0), add (1), modify (2), delete (3) },
//!                               entryUUID syncUUID, cookie syncCookie OPTIONAL }
//! syncDoneValue ::= SEQUENCE { cookie syncCookie OPTIONAL, refreshDeletes BOOLEAN DEFAULT FALSE }
//! ```

use ldap3_lber::common::TagClass;
use ldap3_lber::parse::Parser;
use ldap3_lber::structure::{StructureTag, PL};
use ldap3_lber::universal::Types;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapIntermediateResponse, LdapOp};

pub const OID_SYNC_REQUEST: &str = "1.3.6.1.4.1.4203.1.9.1.1";
pub const OID_SYNC_STATE: &str = "1.3.6.1.4.1.4203.1.9.1.2";
pub const OID_SYNC_DONE: &str = "1.3.6.1.4.1.4203.1.9.1.3";
pub const OID_SYNC_INFO: &str = "1.3.6.1.4.1.4203.1.9.1.4";

/// Most syncUUIDs one decoded syncIdSet may hold (a decoder's bound; an encoder splits).
pub const MAX_IDS: usize = 100_000;

pub type Uuid = [u8; 16];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncInfo {
    NewCookie(Vec<u8>),
    RefreshDelete {
        cookie: Option<Vec<u8>>,
        done: bool,
    },
    RefreshPresent {
        cookie: Option<Vec<u8>>,
        done: bool,
    },
    IdSet {
        cookie: Option<Vec<u8>>,
        refresh_deletes: bool,
        uuids: Vec<Uuid>,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// The state of an entry in a Sync State control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Present = 0,
    Add = 1,
    Modify = 2,
    Delete = 3,
}

// --- BER writing -----------------------------------------------------------------------------

fn put_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    put_len(out, content.len());
    out.extend_from_slice(content);
}

const OCTETS: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const ENUMERATED: u8 = 0x0a;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

fn boolean(out: &mut Vec<u8>, v: bool) {
    tlv(out, BOOLEAN, &[if v { 0xff } else { 0x00 }]);
}

impl SyncInfo {
    /// The syncInfoValue.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            SyncInfo::NewCookie(c) => tlv(&mut out, 0x80, c),
            SyncInfo::RefreshDelete { cookie, done }
            | SyncInfo::RefreshPresent { cookie, done } => {
                let mut inner = Vec::new();
                if let Some(c) = cookie {
                    tlv(&mut inner, OCTETS, c);
                }
                if !done {
                    boolean(&mut inner, false);
                }
                let tag = if matches!(self, SyncInfo::RefreshDelete { .. }) {
                    0xa1
                } else {
                    0xa2
                };
                tlv(&mut out, tag, &inner);
            }
            SyncInfo::IdSet {
                cookie,
                refresh_deletes,
                uuids,
            } => {
                let mut inner = Vec::new();
                if let Some(c) = cookie {
                    tlv(&mut inner, OCTETS, c);
                }
                if *refresh_deletes {
                    boolean(&mut inner, true);
                }
                let mut set = Vec::with_capacity(uuids.len() * 18);
                for u in uuids {
                    tlv(&mut set, OCTETS, u);
                }
                tlv(&mut inner, SET, &set);
                tlv(&mut out, 0xa3, &inner);
            }
        }
        out
    }

    /// The intermediate response that carries it.
    pub fn into_op(self) -> LdapOp {
        LdapOp::IntermediateResponse(LdapIntermediateResponse::Raw {
            name: Some(OID_SYNC_INFO.to_string()),
            value: Some(self.encode()),
        })
    }

    /// Decode a syncInfoValue. Also takes ldap3_proto 0.9's constructed newcookie.
    pub fn decode(b: &[u8]) -> Result<SyncInfo, Malformed> {
        let tag = parse_one(b)?;
        if tag.class != TagClass::Context {
            return Err(Malformed("syncInfoValue: not a context tag"));
        }
        match (tag.id, tag.payload) {
            (0, PL::P(c)) => Ok(SyncInfo::NewCookie(c)),
            (0, PL::C(mut inner)) if inner.len() == 1 => match (inner.pop(), ()) {
                (Some(t), ()) if is(&t, Types::OctetString) => Ok(SyncInfo::NewCookie(prim(t)?)),
                _ => Err(Malformed("newcookie")),
            },
            (id @ (1 | 2), PL::C(inner)) => {
                let mut it = inner.into_iter().peekable();
                let cookie = match it.peek() {
                    Some(t) if is(t, Types::OctetString) => it.next().map(prim).transpose()?,
                    _ => None,
                };
                let done = match it.next() {
                    Some(t) if is(&t, Types::Boolean) => bool_of(t)?,
                    Some(_) => return Err(Malformed("refreshDelete/refreshPresent")),
                    None => true,
                };
                if it.next().is_some() {
                    return Err(Malformed("refreshDelete/refreshPresent: trailing element"));
                }
                Ok(if id == 1 {
                    SyncInfo::RefreshDelete { cookie, done }
                } else {
                    SyncInfo::RefreshPresent { cookie, done }
                })
            }
            (3, PL::C(inner)) => {
                let mut it = inner.into_iter().peekable();
                let cookie = match it.peek() {
                    Some(t) if is(t, Types::OctetString) => it.next().map(prim).transpose()?,
                    _ => None,
                };
                let refresh_deletes = match it.peek() {
                    Some(t) if is(t, Types::Boolean) => match it.next() {
                        Some(t) => bool_of(t)?,
                        None => false,
                    },
                    _ => false,
                };
                let set = match it.next() {
                    Some(t) if is(&t, Types::Set) => t,
                    _ => return Err(Malformed("syncIdSet: no SET of syncUUIDs")),
                };
                if it.next().is_some() {
                    return Err(Malformed("syncIdSet: trailing element"));
                }
                let PL::C(items) = set.payload else {
                    return Err(Malformed("syncIdSet"));
                };
                if items.len() > MAX_IDS {
                    return Err(Malformed("syncIdSet: too many syncUUIDs"));
                }
                let mut uuids = Vec::with_capacity(items.len());
                for t in items {
                    if !is(&t, Types::OctetString) {
                        return Err(Malformed("syncUUID"));
                    }
                    uuids.push(uuid_of(&prim(t)?)?);
                }
                Ok(SyncInfo::IdSet {
                    cookie,
                    refresh_deletes,
                    uuids,
                })
            }
            _ => Err(Malformed("syncInfoValue: unknown choice")),
        }
    }
}

/// The Sync State control of an entry.
pub fn state_control(state: State, uuid: &Uuid, cookie: Option<&[u8]>) -> LdapControl {
    let mut inner = Vec::new();
    tlv(&mut inner, ENUMERATED, &[state as u8]);
    tlv(&mut inner, OCTETS, uuid);
    if let Some(c) = cookie {
        tlv(&mut inner, OCTETS, c);
    }
    let mut value = Vec::new();
    tlv(&mut value, SEQUENCE, &inner);
    LdapControl::Unknown {
        oid: OID_SYNC_STATE.to_string(),
        criticality: false,
        value: Some(value),
    }
}

/// The Sync Done control of a refreshOnly search's SearchResultDone.
pub fn done_control(cookie: Option<&[u8]>, refresh_deletes: bool) -> LdapControl {
    let mut inner = Vec::new();
    if let Some(c) = cookie {
        tlv(&mut inner, OCTETS, c);
    }
    if refresh_deletes {
        boolean(&mut inner, true);
    }
    let mut value = Vec::new();
    tlv(&mut value, SEQUENCE, &inner);
    LdapControl::Unknown {
        oid: OID_SYNC_DONE.to_string(),
        criticality: false,
        value: Some(value),
    }
}

/// Decode a Sync State control value (for a consumer): state, entryUUID, cookie.
pub fn decode_state(b: &[u8]) -> Result<(State, Uuid, Option<Vec<u8>>), Malformed> {
    let tag = parse_one(b)?;
    if !is(&tag, Types::Sequence) {
        return Err(Malformed("syncStateValue"));
    }
    let PL::C(items) = tag.payload else {
        return Err(Malformed("syncStateValue"));
    };
    let mut it = items.into_iter();
    let state = match it.next() {
        Some(t) if is(&t, Types::Enumerated) => match prim(t)?.as_slice() {
            [0] => State::Present,
            [1] => State::Add,
            [2] => State::Modify,
            [3] => State::Delete,
            _ => return Err(Malformed("syncStateValue: state")),
        },
        _ => return Err(Malformed("syncStateValue: state")),
    };
    let uuid = match it.next() {
        Some(t) if is(&t, Types::OctetString) => uuid_of(&prim(t)?)?,
        _ => return Err(Malformed("syncStateValue: entryUUID")),
    };
    let cookie = match it.next() {
        Some(t) if is(&t, Types::OctetString) => Some(prim(t)?),
        Some(_) => return Err(Malformed("syncStateValue: cookie")),
        None => None,
    };
    if it.next().is_some() {
        return Err(Malformed("syncStateValue: trailing element"));
    }
    Ok((state, uuid, cookie))
}

/// Decode a Sync Done control value (for a consumer): cookie, refreshDeletes.
pub fn decode_done(b: &[u8]) -> Result<(Option<Vec<u8>>, bool), Malformed> {
    let tag = parse_one(b)?;
    if !is(&tag, Types::Sequence) {
        return Err(Malformed("syncDoneValue"));
    }
    let PL::C(items) = tag.payload else {
        return Err(Malformed("syncDoneValue"));
    };
    let mut it = items.into_iter().peekable();
    let cookie = match it.peek() {
        Some(t) if is(t, Types::OctetString) => it.next().map(prim).transpose()?,
        _ => None,
    };
    let deletes = match it.next() {
        Some(t) if is(&t, Types::Boolean) => bool_of(t)?,
        Some(_) => return Err(Malformed("syncDoneValue")),
        None => false,
    };
    if it.next().is_some() {
        return Err(Malformed("syncDoneValue: trailing element"));
    }
    Ok((cookie, deletes))
}

// --- BER reading -----------------------------------------------------------------------------

/// Nesting a sync message needs (a syncIdSet: choice, SET, OCTET STRING).
const MAX_DEPTH: usize = 8;

fn parse_one(b: &[u8]) -> Result<StructureTag, Malformed> {
    let (rest, tag) = Parser::new(MAX_DEPTH)
        .parse(b)
        .map_err(|_| Malformed("not BER"))?;
    if !rest.is_empty() {
        return Err(Malformed("trailing bytes"));
    }
    Ok(tag)
}

fn is(t: &StructureTag, ty: Types) -> bool {
    t.class == TagClass::Universal && t.id == ty as u64
}

fn prim(t: StructureTag) -> Result<Vec<u8>, Malformed> {
    match t.payload {
        PL::P(b) => Ok(b),
        PL::C(_) => Err(Malformed("constructed where a primitive was expected")),
    }
}

fn bool_of(t: StructureTag) -> Result<bool, Malformed> {
    match prim(t)?.as_slice() {
        [v] => Ok(*v != 0),
        _ => Err(Malformed("BOOLEAN")),
    }
}

fn uuid_of(b: &[u8]) -> Result<Uuid, Malformed> {
    b.try_into()
        .map_err(|_| Malformed("syncUUID is not 16 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: &[u8] = b"rid=001,csn=20261123130509.123456Z#000000#000#000000";

    fn with_cookie(prefix: &[u8], len: u8, rest: &[u8]) -> Vec<u8> {
        let mut v = prefix.to_vec();
        v.push(len);
        v.extend_from_slice(rest);
        v
    }

    /// The bytes syncprov_sendinfo writes (ber_printf "tO", "t{ O b N}", "t{ O b [W] N}").
    #[test]
    fn encodes_as_slapd_does() {
        assert_eq!(COOKIE.len(), 52);
        // newcookie: implicit primitive [0].
        let mut want = vec![0x80, 52];
        want.extend_from_slice(COOKIE);
        let nc = SyncInfo::NewCookie(COOKIE.to_vec());
        assert_eq!(nc.encode(), want);
        // refreshDelete with a cookie, refreshDone TRUE (the default, left out).
        let mut inner = vec![0x04, 52];
        inner.extend_from_slice(COOKIE);
        let rd = SyncInfo::RefreshDelete {
            cookie: Some(COOKIE.to_vec()),
            done: true,
        };
        assert_eq!(rd.encode(), with_cookie(&[0xa1], 54, &inner));
        // refreshPresent without a cookie, refreshDone FALSE.
        let rp = SyncInfo::RefreshPresent {
            cookie: None,
            done: false,
        };
        assert_eq!(rp.encode(), vec![0xa2, 3, 0x01, 0x01, 0x00]);
        assert_eq!(
            SyncInfo::RefreshPresent {
                cookie: None,
                done: true
            }
            .encode(),
            vec![0xa2, 0]
        );
        // syncIdSet, refreshDeletes TRUE, two UUIDs.
        let (u1, u2) = ([0x11u8; 16], [0x22u8; 16]);
        let ids = SyncInfo::IdSet {
            cookie: None,
            refresh_deletes: true,
            uuids: vec![u1, u2],
        };
        let mut want = vec![0xa3, 41, 0x01, 0x01, 0xff, 0x31, 36, 0x04, 16];
        want.extend_from_slice(&u1);
        want.extend_from_slice(&[0x04, 16]);
        want.extend_from_slice(&u2);
        assert_eq!(ids.encode(), want);
        for m in [nc, rd, rp, ids] {
            assert_eq!(SyncInfo::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn ldap3_proto_newcookie_is_constructed_and_still_read() {
        let theirs: Vec<ldap3_proto::proto::LdapIntermediateResponse> =
            vec![LdapIntermediateResponse::SyncInfoNewCookie {
                cookie: b"rid=001".to_vec(),
            }];
        let tags: Vec<ldap3_lber::structures::Tag> = theirs.into_iter().next().unwrap().into();
        // [name [0], value [1]]: the value's first byte is a0 (constructed), not 80.
        let value = tags
            .into_iter()
            .find_map(|t| match t {
                ldap3_lber::structures::Tag::OctetString(o) if o.id == 1 => Some(o.inner),
                _ => None,
            })
            .unwrap();
        assert_eq!(value[0], 0xa0);
        assert_eq!(
            SyncInfo::decode(&value).unwrap(),
            SyncInfo::NewCookie(b"rid=001".to_vec())
        );
    }

    #[test]
    fn ldap3_proto_loses_a_refresh_present_cookie() {
        let value = SyncInfo::RefreshPresent {
            cookie: Some(b"rid=001".to_vec()),
            done: true,
        }
        .encode();
        let tags = vec![
            StructureTag {
                class: TagClass::Context,
                id: 0,
                payload: PL::P(OID_SYNC_INFO.as_bytes().to_vec()),
            },
            StructureTag {
                class: TagClass::Context,
                id: 1,
                payload: PL::P(value.clone()),
            },
        ];
        assert_eq!(
            LdapIntermediateResponse::try_from(tags).unwrap(),
            LdapIntermediateResponse::SyncInfoRefreshPresent {
                cookie: None,
                done: true
            }
        );
        assert_eq!(
            SyncInfo::decode(&value).unwrap(),
            SyncInfo::RefreshPresent {
                cookie: Some(b"rid=001".to_vec()),
                done: true
            }
        );
    }

    #[test]
    fn long_cookies_use_long_lengths() {
        let c = vec![b'x'; 300];
        let e = SyncInfo::NewCookie(c.clone()).encode();
        assert_eq!(&e[..4], &[0x80, 0x82, 0x01, 0x2c]);
        assert_eq!(SyncInfo::decode(&e).unwrap(), SyncInfo::NewCookie(c));
    }

    #[test]
    fn control_values() {
        let u = [0xabu8; 16];
        let LdapControl::Unknown { value: Some(v), .. } = state_control(State::Add, &u, None)
        else {
            panic!()
        };
        let mut want = vec![0x30, 21, 0x0a, 1, 1, 0x04, 16];
        want.extend_from_slice(&u);
        assert_eq!(v, want);
        assert_eq!(decode_state(&v).unwrap(), (State::Add, u, None));
        let LdapControl::Unknown { value: Some(v), .. } =
            state_control(State::Delete, &u, Some(b"rid=001"))
        else {
            panic!()
        };
        assert_eq!(
            decode_state(&v).unwrap(),
            (State::Delete, u, Some(b"rid=001".to_vec()))
        );
        let LdapControl::Unknown { value: Some(v), .. } = done_control(Some(b"c"), true) else {
            panic!()
        };
        assert_eq!(v, vec![0x30, 6, 0x04, 1, b'c', 0x01, 1, 0xff]);
        assert_eq!(decode_done(&v).unwrap(), (Some(b"c".to_vec()), true));
        let LdapControl::Unknown { value: Some(v), .. } = done_control(None, false) else {
            panic!()
        };
        assert_eq!(v, vec![0x30, 0]);
        assert_eq!(decode_done(&v).unwrap(), (None, false));
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bad in [
            &[][..],
            &[0x80],
            &[0x30, 0],
            &[0xa4, 0],
            &[0xa3, 0],
            &[0xa3, 4, 0x31, 2, 0x04, 0],
            &[0xa1, 3, 0x02, 1, 0],
            &[0x80, 1, b'x', 0],
        ] {
            assert!(SyncInfo::decode(bad).is_err(), "{bad:?}");
        }
        assert!(decode_state(&[0x30, 3, 0x0a, 1, 9]).is_err());
        assert!(decode_done(&[0x30, 3, 0x02, 1, 0]).is_err());
    }
}
