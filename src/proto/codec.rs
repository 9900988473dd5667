//! LDAP message framing. ldap3_proto's codec decodes requests, but it drops the criticality of
//! some controls it knows (server-side sort) and turns a malformed control into a dropped
//! connection. This codec therefore takes the controls off each message before ldap3_proto sees
//! it and hands them over raw (OID, criticality, value); `ops::controls` decodes them when
//! `ops::Request::decode` makes the typed request. Responses are encoded by ldap3_proto unchanged.

use crate::ops::controls::RawControl;
use bytes::{Buf, BufMut, BytesMut};
use ldap3_lber::common::TagClass;
use ldap3_lber::parse::Parser;
use ldap3_lber::structure::{StructureTag, PL};
use ldap3_lber::universal::Types;
use ldap3_lber::write as lber_write;
use ldap3_proto::proto::{LdapMsg, LdapOp, LdapSearchResultEntry};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// One message as read: the message without its controls, and its controls raw, or why the
/// controls field is malformed (that request's protocolError, not a disconnect).
/// `ops::Request::decode` makes the typed request of it.
#[derive(Debug)]
pub struct Frame {
    pub msg: LdapMsg,
    pub controls: Result<Vec<RawControl>, String>,
}

/// The decode error for a TLS handshake record where an LDAP message was expected: the client
/// starts TLS on the plain LDAP port (an `ldaps://` URL with the LDAP port, or TLS without
/// StartTLS). The connection logs it as a TLS failure, not as a malformed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TlsOnPlainPort;

impl std::fmt::Display for TlsOnPlainPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a TLS handshake where an LDAP message was expected")
    }
}

impl std::error::Error for TlsOnPlainPort {}

/// The first byte of a TLS handshake record (ContentType handshake, RFC 8446 5.1); an LDAP
/// message starts with 0x30 (SEQUENCE).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Request decoder / response encoder with the server's size and nesting limits.
pub struct RequestCodec {
    max_ber_size: usize,
    max_ber_depth: usize,
}

impl RequestCodec {
    pub fn new(max_ber_size: usize, max_ber_depth: usize) -> Self {
        RequestCodec {
            max_ber_size,
            max_ber_depth,
        }
    }
}

impl Decoder for RequestCodec {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, io::Error> {
        if buf.len() > self.max_ber_size.saturating_mul(2) {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "lber buffer is too large",
            ));
        }
        if buf.first() == Some(&TLS_HANDSHAKE_RECORD) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TlsOnPlainPort));
        }
        let mut parser = Parser::new(self.max_ber_depth);
        let (rem, tag) = match parser.parse(buf) {
            Ok(r) => r,
            Err(ldap3_lber::Err::Incomplete(_)) => return Ok(None),
            Err(_) => return Err(io::Error::other("malformed BER")),
        };
        let size = buf.len() - rem.len();
        if size > self.max_ber_size {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "request too large",
            ));
        }
        buf.advance(size);
        let (mut tag, controls) = split_controls(tag);
        flag_search_limits_out_of_range(&mut tag);
        let msg = LdapMsg::try_from(tag).map_err(io::Error::other)?;
        Ok(Some(Frame { msg, controls }))
    }
}

impl Encoder<LdapMsg> for RequestCodec {
    type Error = io::Error;

    fn encode(&mut self, msg: LdapMsg, buf: &mut BytesMut) -> io::Result<()> {
        encode_response(msg, buf)
    }
}

/// Append one response PDU to `buf`.
pub(crate) fn encode_response(msg: LdapMsg, buf: &mut BytesMut) -> io::Result<()> {
    // Search entries are most of what a server sends: they are written straight into the
    // buffer. Everything else goes through ldap3_proto's encoder.
    if let (LdapOp::SearchResultEntry(e), true) = (&msg.op, msg.ctrl.is_empty()) {
        encode_search_entry(msg.msgid, e, buf);
        return Ok(());
    }
    lber_write::encode_into(buf, StructureTag::from(msg))
}

/// Bytes of a BER definite length.
fn length_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else {
        1 + (usize::BITS / 8 - n.leading_zeros() / 8) as usize
    }
}

fn put_length(buf: &mut BytesMut, n: usize) {
    if n < 0x80 {
        buf.put_u8(n as u8);
    } else {
        let bytes = (usize::BITS / 8 - n.leading_zeros() / 8) as usize;
        buf.put_u8(0x80 | bytes as u8);
        for i in (0..bytes).rev() {
            buf.put_u8((n >> (8 * i)) as u8);
        }
    }
}

/// Total size of a TLV whose contents are `n` bytes.
fn tlv_len(n: usize) -> usize {
    1 + length_len(n) + n
}

/// Minimal two's-complement bytes of an INTEGER.
fn int_bytes(v: i32) -> ([u8; 4], usize) {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 3
        && ((b[start] == 0 && b[start + 1] & 0x80 == 0)
            || (b[start] == 0xff && b[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    let mut out = [0u8; 4];
    out[..4 - start].copy_from_slice(&b[start..]);
    (out, 4 - start)
}

/// LDAPMessage { messageID, searchResEntry [APPLICATION 4] { objectName, attributes } }
fn encode_search_entry(msgid: i32, e: &LdapSearchResultEntry, buf: &mut BytesMut) {
    let attr_len = |a: &ldap3_proto::proto::LdapPartialAttribute| {
        let vals: usize = a.vals.iter().map(|v| tlv_len(v.len())).sum();
        tlv_len(a.atype.len()) + tlv_len(vals)
    };
    let attrs: usize = e.attributes.iter().map(|a| tlv_len(attr_len(a))).sum();
    let entry = tlv_len(e.dn.len()) + tlv_len(attrs);
    let (id, id_len) = int_bytes(msgid);
    let msg = tlv_len(id_len) + tlv_len(entry);
    buf.reserve(tlv_len(msg));
    buf.put_u8(0x30);
    put_length(buf, msg);
    buf.put_u8(0x02);
    put_length(buf, id_len);
    buf.put_slice(&id[..id_len]);
    buf.put_u8(0x64);
    put_length(buf, entry);
    buf.put_u8(0x04);
    put_length(buf, e.dn.len());
    buf.put_slice(e.dn.as_bytes());
    buf.put_u8(0x30);
    put_length(buf, attrs);
    for a in &e.attributes {
        buf.put_u8(0x30);
        put_length(buf, attr_len(a));
        buf.put_u8(0x04);
        put_length(buf, a.atype.len());
        buf.put_slice(a.atype.as_bytes());
        buf.put_u8(0x31);
        put_length(buf, a.vals.iter().map(|v| tlv_len(v.len())).sum());
        for v in &a.vals {
            buf.put_u8(0x04);
            put_length(buf, v.len());
            buf.put_slice(v);
        }
    }
}

/// Take the controls (`[0]`, the third element of the LDAPMessage SEQUENCE) off a message.
fn split_controls(mut tag: StructureTag) -> (StructureTag, Result<Vec<RawControl>, String>) {
    let PL::C(items) = &mut tag.payload else {
        return (tag, Ok(Vec::new()));
    };
    if items.len() < 3 {
        return (tag, Ok(Vec::new()));
    }
    let ctrls = items.remove(2);
    if ctrls.class != TagClass::Context || ctrls.id != 0 {
        // Not a controls field: leave the message as it was for ldap3_proto to judge.
        items.insert(2, ctrls);
        return (tag, Ok(Vec::new()));
    }
    let parsed = match ctrls.payload {
        PL::C(list) => list.into_iter().map(control).collect(),
        PL::P(_) => Err("controls field is not a SEQUENCE".to_string()),
    };
    (tag, parsed)
}

/// A search's sizeLimit and timeLimit are INTEGER (0 .. maxInt) (RFC 4511 4.5.1). ldap3_proto
/// reads an INTEGER without extending its sign (a one-byte -1, `0xFF`, comes out as 255) and
/// truncates it to 32 bits, so a negative or too large limit would pass as some other limit.
/// Such a value is replaced by a four-byte -1, which ldap3_proto reads as -1 and the search
/// answers with protocolError (ops/search.rs), as OpenLDAP does.
fn flag_search_limits_out_of_range(msg: &mut StructureTag) {
    let PL::C(items) = &mut msg.payload else {
        return;
    };
    let Some(op) = items.get_mut(1) else {
        return;
    };
    if op.class != TagClass::Application || op.id != 3 {
        return;
    }
    let PL::C(fields) = &mut op.payload else {
        return;
    };
    // baseObject, scope, derefAliases, sizeLimit, timeLimit, ...
    for limit in fields.iter_mut().skip(3).take(2) {
        if limit.class != TagClass::Universal || limit.id != Types::Integer as u64 {
            continue;
        }
        if let PL::P(bytes) = &mut limit.payload {
            if !in_zero_to_max_int(bytes) {
                *bytes = vec![0xff; 4];
            }
        }
    }
}

/// Whether the contents of a BER INTEGER (two's complement, big-endian) are in 0 ..= 2^31 - 1.
fn in_zero_to_max_int(bytes: &[u8]) -> bool {
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return false;
    }
    let significant = bytes
        .iter()
        .position(|&b| b != 0)
        .map_or(&[][..], |i| &bytes[i..]);
    significant.len() < 4 || (significant.len() == 4 && significant[0] < 0x80)
}

/// Control ::= SEQUENCE { controlType LDAPOID, criticality BOOLEAN DEFAULT FALSE,
///                        controlValue OCTET STRING OPTIONAL }
fn control(tag: StructureTag) -> Result<RawControl, String> {
    let bad = |what: &str| format!("malformed control: {what}");
    if tag.class != TagClass::Universal || tag.id != Types::Sequence as u64 {
        return Err(bad("not a SEQUENCE"));
    }
    let PL::C(parts) = tag.payload else {
        return Err(bad("not a SEQUENCE"));
    };
    let mut parts = parts.into_iter();
    let oid = match parts.next() {
        Some(StructureTag {
            class: TagClass::Universal,
            id,
            payload: PL::P(b),
        }) if id == Types::OctetString as u64 => {
            String::from_utf8(b).map_err(|_| bad("controlType is not UTF-8"))?
        }
        _ => return Err(bad("no controlType")),
    };
    if oid.is_empty() || !oid.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        return Err(bad("controlType is not an OID"));
    }
    let mut critical = false;
    let mut value = None;
    let mut seen_value = false;
    for (i, p) in parts.enumerate() {
        match p {
            StructureTag {
                class: TagClass::Universal,
                id,
                payload: PL::P(b),
            } if id == Types::Boolean as u64 && i == 0 => {
                let [v] = b.as_slice() else {
                    return Err(bad("criticality is not a BOOLEAN"));
                };
                critical = *v != 0;
            }
            StructureTag {
                class: TagClass::Universal,
                id,
                payload: PL::P(b),
            } if id == Types::OctetString as u64 && !seen_value => {
                value = Some(b);
                seen_value = true;
            }
            _ => return Err(bad("unexpected element")),
        }
    }
    Ok(RawControl {
        oid,
        critical,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::control::LdapControl;

    fn encode(msg: LdapMsg) -> BytesMut {
        let mut b = BytesMut::new();
        RequestCodec::new(1 << 20, 32).encode(msg, &mut b).unwrap();
        b
    }

    #[test]
    fn controls_come_out_raw_with_criticality() {
        let msg = LdapMsg::new_with_ctrls(
            3,
            LdapOp::DelRequest("cn=x".into()),
            vec![
                LdapControl::Unknown {
                    oid: "1.2.840.113556.1.4.473".into(),
                    criticality: true,
                    value: Some(vec![0x30, 0x04, 0x30, 0x02, 0x04, 0x00]),
                },
                LdapControl::ManageDsaIT { criticality: false },
            ],
        );
        let mut b = encode(msg);
        let req = RequestCodec::new(1 << 20, 32)
            .decode(&mut b)
            .unwrap()
            .unwrap();
        assert!(b.is_empty());
        assert!(req.msg.ctrl.is_empty());
        assert_eq!(req.msg.op, LdapOp::DelRequest("cn=x".into()));
        let c = req.controls.unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].oid, "1.2.840.113556.1.4.473");
        assert!(c[0].critical);
        assert_eq!(c[0].value.as_deref(), Some(&[0x30, 4, 0x30, 2, 4, 0][..]));
        assert_eq!(c[1].oid, "2.16.840.1.113730.3.4.2");
        assert!(!c[1].critical);
        assert_eq!(c[1].value, None);
    }

    #[test]
    fn no_controls_and_partial_input() {
        let mut b = encode(LdapMsg::new(1, LdapOp::UnbindRequest));
        let whole = b.clone();
        let mut part = BytesMut::from(&whole[..whole.len() - 1]);
        assert!(RequestCodec::new(1 << 20, 32)
            .decode(&mut part)
            .unwrap()
            .is_none());
        let req = RequestCodec::new(1 << 20, 32)
            .decode(&mut b)
            .unwrap()
            .unwrap();
        assert_eq!(req.controls.unwrap(), vec![]);
    }

    #[test]
    fn search_limits_outside_0_to_max_int_come_out_negative() {
        // LDAPMessage { 2, searchRequest { "", base, never, sizeLimit, timeLimit, FALSE,
        // (objectClass=*), {} } } with the limits' encodings given.
        let search = |size: &[u8], time: &[u8]| {
            let mut body = vec![0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00];
            body.extend([0x02, size.len() as u8]);
            body.extend_from_slice(size);
            body.extend([0x02, time.len() as u8]);
            body.extend_from_slice(time);
            body.extend([0x01, 0x01, 0x00, 0x87, 0x0b]);
            body.extend_from_slice(b"objectClass");
            body.extend([0x30, 0x00]);
            let mut msg = vec![0x02, 0x01, 0x02, 0x63, body.len() as u8];
            msg.extend(body);
            let mut pdu = vec![0x30, msg.len() as u8];
            pdu.extend(msg);
            let mut b = BytesMut::from(&pdu[..]);
            let req = RequestCodec::new(1 << 20, 32)
                .decode(&mut b)
                .unwrap()
                .unwrap();
            match req.msg.op {
                LdapOp::SearchRequest(r) => (r.sizelimit, r.timelimit),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(search(&[0x00], &[0x00]), (0, 0));
        assert_eq!(search(&[0x64], &[0x00, 0xff]), (100, 255));
        assert_eq!(
            search(&[0x7f, 0xff, 0xff, 0xff], &[0x00, 0x7f, 0xff, 0xff, 0xff]),
            (i32::MAX, i32::MAX)
        );
        // -1 in one byte (ldap3_proto alone reads 255), -2^31, 2^31, 2^32 + 5.
        assert_eq!(search(&[0xff], &[0x05]), (-1, 5));
        assert_eq!(search(&[0x05], &[0x80, 0x00, 0x00, 0x00]), (5, -1));
        assert_eq!(search(&[0x00, 0x80, 0x00, 0x00, 0x00], &[0x00]).0, -1);
        assert_eq!(search(&[0x01, 0x00, 0x00, 0x00, 0x05], &[0x00]).0, -1);
    }

    #[test]
    fn a_tls_client_hello_is_told_apart_from_malformed_ber() {
        // The start of a TLS 1.2/1.3 ClientHello record.
        let mut b = BytesMut::from(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc][..]);
        let e = RequestCodec::new(1 << 20, 32).decode(&mut b).unwrap_err();
        assert!(e.get_ref().is_some_and(|i| i.is::<TlsOnPlainPort>()), "{e}");
        // A message without an operation: malformed LDAP.
        let mut b = BytesMut::from(&[0x30, 0x03, 0x02, 0x01, 0x01][..]);
        let e = RequestCodec::new(1 << 20, 32).decode(&mut b).unwrap_err();
        assert!(
            !e.get_ref().is_some_and(|i| i.is::<TlsOnPlainPort>()),
            "{e}"
        );
    }

    #[test]
    fn malformed_control_is_reported_not_fatal() {
        // LDAPMessage { 1, delRequest "x", [0] { SEQUENCE { INTEGER 5 } } }
        let mut b = BytesMut::from(
            &[
                0x30, 0x0c, 0x02, 0x01, 0x01, 0x4a, 0x01, b'x', 0xa0, 0x04, 0x30, 0x02, 0x02, 0x01,
            ][..],
        );
        b.extend_from_slice(&[0x05]);
        let req = RequestCodec::new(1 << 20, 32)
            .decode(&mut b)
            .unwrap()
            .unwrap();
        assert!(req.controls.is_err());
    }

    #[test]
    fn search_entries_encode_as_ldap3_proto_does() {
        use ldap3_proto::proto::LdapPartialAttribute;
        let long = vec![b'x'; 70_000];
        for msgid in [1, 127, 128, 255, 256, 65_535, 8_388_608, i32::MAX] {
            let e = LdapSearchResultEntry {
                dn: "uid=a,ou=people,dc=cctld-ir,dc=example".into(),
                attributes: vec![
                    LdapPartialAttribute {
                        atype: "cn".into(),
                        vals: vec![b"Ana Silva".to_vec(), vec![b'y'; 200]],
                    },
                    LdapPartialAttribute {
                        atype: "jpegPhoto".into(),
                        vals: vec![long.clone()],
                    },
                    LdapPartialAttribute {
                        atype: "empty".into(),
                        vals: vec![],
                    },
                ],
            };
            assert_encodes_like_ldap3_proto(LdapMsg::new(msgid, LdapOp::SearchResultEntry(e)));
        }
        // An entry with no attributes.
        assert_encodes_like_ldap3_proto(LdapMsg::new(
            7,
            LdapOp::SearchResultEntry(LdapSearchResultEntry {
                dn: String::new(),
                attributes: vec![],
            }),
        ));
    }

    fn assert_encodes_like_ldap3_proto(msg: LdapMsg) {
        let mut ours = BytesMut::new();
        RequestCodec::new(1 << 20, 32)
            .encode(msg.clone(), &mut ours)
            .unwrap();
        let mut theirs = BytesMut::new();
        ldap3_proto::LdapCodec::default()
            .encode(msg.clone(), &mut theirs)
            .unwrap();
        assert_eq!(ours, theirs, "{msg:?}");
    }

    #[test]
    fn oversized_request_is_refused() {
        let mut b = encode(LdapMsg::new(1, LdapOp::DelRequest("x".repeat(200))));
        assert!(RequestCodec::new(100, 32).decode(&mut b).is_err());
    }
}
