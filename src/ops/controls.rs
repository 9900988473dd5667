//! Request and response controls. The codec hands every request control over raw (OID,
//! criticality, value); this module decodes the values of the controls ccdir supports and applies
//! RFC 4511 4.1.11 to the rest: an unrecognised or inappropriate control fails the operation with
//! unavailableCriticalExtension when critical and is ignored otherwise. Response control values
//! are encoded here too, because ldap3_proto's encodings of them are incomplete.
//!
//! Supported: simple paged results (RFC 2696), server-side sorting (RFC 2891), virtual list view
//! (draft-ietf-ldapext-ldapv3-vlv-09), assertion (RFC 4528), pre-/post-read (RFC 4527),
//! ManageDsaIT (RFC 3296, tolerated: ccdir holds no referrals) and permissive modify
//! (Active Directory's 1.2.840.113556.1.4.1413).

use super::request::OpKind;
use crate::core::error::LdapError;
use bytes::BytesMut;
use ldap3_lber::common::TagClass;
use ldap3_lber::parse::Parser;
use ldap3_lber::structure::{StructureTag, PL};
use ldap3_lber::structures::{ASNTag, Enumerated, Integer, OctetString, Sequence, Tag};
use ldap3_lber::universal::Types;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapFilter, LdapResultCode, LdapSearchResultEntry};

pub(crate) const OID_PAGED_RESULTS: &str = "1.2.840.113556.1.4.319";
pub(crate) const OID_MANAGE_DSA_IT: &str = "2.16.840.1.113730.3.4.2";
pub(crate) const OID_SORT_REQUEST: &str = "1.2.840.113556.1.4.473";
pub(crate) const OID_SORT_RESPONSE: &str = "1.2.840.113556.1.4.474";
pub(crate) const OID_VLV_REQUEST: &str = "2.16.840.1.113730.3.4.9";
pub(crate) const OID_VLV_RESPONSE: &str = "2.16.840.1.113730.3.4.10";
pub(crate) const OID_ASSERTION: &str = "1.3.6.1.1.12";
pub(crate) const OID_PRE_READ: &str = "1.3.6.1.1.13.1";
pub(crate) const OID_POST_READ: &str = "1.3.6.1.1.13.2";
pub(crate) const OID_PERMISSIVE_MODIFY: &str = "1.2.840.113556.1.4.1413";
/// RFC 4533 content synchronization (served by repl/provider.rs).
pub(crate) const OID_SYNC_REQUEST: &str = "1.3.6.1.4.1.4203.1.9.1.1";
const OID_PASSWORD_POLICY: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// The controls the root DSE advertises.
pub(crate) const SUPPORTED: &[&str] = &[
    OID_PAGED_RESULTS,
    OID_MANAGE_DSA_IT,
    OID_SORT_REQUEST,
    OID_VLV_REQUEST,
    OID_ASSERTION,
    OID_PRE_READ,
    OID_POST_READ,
    OID_PERMISSIVE_MODIFY,
    OID_SYNC_REQUEST,
];

/// Most sort keys one request may give.
pub(crate) const MAX_SORT_KEYS: usize = 8;
/// Nesting allowed inside a control value (an assertion filter is the deepest).
const MAX_VALUE_DEPTH: usize = 64;

/// A request control as sent (OID, criticality, value): the codec takes the controls off each
/// message this way, and [`parse`] decodes the values of those ccdir supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawControl {
    pub(crate) oid: String,
    pub(crate) critical: bool,
    pub(crate) value: Option<Vec<u8>>,
}

/// One key of a server-side sort request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SortKey {
    pub(crate) attr: String,
    pub(crate) ordering_rule: Option<String>,
    pub(crate) reverse: bool,
}

/// A server-side sort request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortRequest {
    pub(crate) keys: Vec<SortKey>,
    pub(crate) critical: bool,
}

/// Where a virtual list view starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VlvTarget {
    /// 1-based offset, and the client's idea of the list's size (0: unknown).
    ByOffset { offset: i64, content_count: i64 },
    /// The first entry whose first sort key is at least this value.
    GreaterOrEqual(Vec<u8>),
}

/// A virtual list view request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VlvRequest {
    pub(crate) before: i64,
    pub(crate) after: i64,
    pub(crate) target: VlvTarget,
    pub(crate) context_id: Option<Vec<u8>>,
    pub(crate) critical: bool,
}

/// An RFC 4533 Sync Request: syncRequestValue ::= SEQUENCE { mode ENUMERATED {
/// refreshOnly (1), refreshAndPersist (3) }, cookie syncCookie OPTIONAL, reloadHint BOOLEAN
/// DEFAULT FALSE }
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncRequest {
    /// refreshAndPersist (else refreshOnly).
    pub(crate) persist: bool,
    pub(crate) cookie: Option<Vec<u8>>,
    pub(crate) reload_hint: bool,
}

/// What an operation needs to know of its request controls.
#[derive(Debug, Default, Clone)]
pub(crate) struct RequestControls {
    /// Simple Paged Results: (page size, cookie).
    pub(crate) paged: Option<(i64, Vec<u8>)>,
    pub(crate) sort: Option<SortRequest>,
    pub(crate) vlv: Option<VlvRequest>,
    /// The assertion filter (RFC 4528), applied to the operation's target entry.
    pub(crate) assertion: Option<LdapFilter>,
    /// Attributes to return from the entry before (pre-read) and after (post-read) the change.
    pub(crate) pre_read: Option<Vec<String>>,
    pub(crate) post_read: Option<Vec<String>>,
    /// Adding a present value or deleting an absent one is not an error.
    pub(crate) permissive_modify: bool,
    /// RFC 4533 content synchronization.
    pub(crate) sync: Option<SyncRequest>,
}

impl RequestControls {}

/// Decode the controls of a request to `op`.
pub(crate) fn parse(ctrls: &[RawControl], op: OpKind) -> Result<RequestControls, LdapError> {
    use OpKind::*;
    let mut out = RequestControls::default();
    let mut seen: Vec<&str> = Vec::new();
    for c in ctrls {
        let applies = |ops: &[OpKind]| ops.contains(&op);
        let known = |ops: &[OpKind]| -> Result<bool, LdapError> {
            if !applies(ops) {
                return if c.critical {
                    Err(LdapError::new(
                        LdapResultCode::UnavailableCriticalExtension,
                        format!(
                            "critical control {} does not apply to this operation",
                            c.oid
                        ),
                    ))
                } else {
                    Ok(false)
                };
            }
            Ok(true)
        };
        let oid = c.oid.as_str();
        if SUPPORTED.contains(&oid) {
            if seen.contains(&oid) {
                return Err(LdapError::protocol(format!("control {oid} given twice")));
            }
            seen.push(oid);
        }
        match oid {
            OID_PAGED_RESULTS => {
                if known(&[Search])? {
                    out.paged = Some(paged_request(value(c)?)?);
                }
            }
            OID_SORT_REQUEST => {
                if known(&[Search])? {
                    out.sort = Some(SortRequest {
                        keys: sort_request(value(c)?)?,
                        critical: c.critical,
                    });
                }
            }
            OID_VLV_REQUEST => {
                if known(&[Search])? {
                    let mut v = vlv_request(value(c)?)?;
                    v.critical = c.critical;
                    out.vlv = Some(v);
                }
            }
            OID_ASSERTION => {
                if known(&[Search, Compare, Add, Delete, Modify, ModDn])? {
                    out.assertion = Some(assertion(value(c)?)?);
                }
            }
            OID_PRE_READ => {
                if known(&[Delete, Modify, ModDn])? {
                    out.pre_read = Some(attribute_selection(value(c)?)?);
                }
            }
            OID_POST_READ => {
                if known(&[Add, Modify, ModDn])? {
                    out.post_read = Some(attribute_selection(value(c)?)?);
                }
            }
            OID_PERMISSIVE_MODIFY => {
                if known(&[Modify])? {
                    out.permissive_modify = true;
                }
            }
            OID_SYNC_REQUEST => {
                if known(&[Search])? {
                    out.sync = Some(sync_request(value(c)?)?);
                }
            }
            OID_MANAGE_DSA_IT => {
                // Tolerated everywhere: ccdir holds no referral objects, so it changes nothing.
            }
            OID_PASSWORD_POLICY if !c.critical => {
                // Not implemented; non-critical, so the operation goes on without it.
            }
            _ => {
                if c.critical {
                    return Err(LdapError::new(
                        LdapResultCode::UnavailableCriticalExtension,
                        format!("critical control {oid} is not supported"),
                    ));
                }
            }
        }
    }
    if out.sync.is_some() && (out.vlv.is_some() || out.paged.is_some() || out.sort.is_some()) {
        return Err(LdapError::unwilling(
            "content synchronization cannot be combined with paging, sorting or a virtual list view",
        ));
    }
    if out.vlv.is_some() && out.paged.is_some() {
        return Err(LdapError::unwilling(
            "virtual list view and paged results cannot be combined",
        ));
    }
    Ok(out)
}

fn value(c: &RawControl) -> Result<StructureTag, LdapError> {
    let Some(v) = &c.value else {
        return Err(LdapError::protocol(format!(
            "control {} needs a value",
            c.oid
        )));
    };
    let (rest, tag) = Parser::new(MAX_VALUE_DEPTH)
        .parse(v)
        .map_err(|_| LdapError::protocol(format!("control {}: malformed value", c.oid)))?;
    if !rest.is_empty() {
        return Err(LdapError::protocol(format!(
            "control {}: trailing bytes in value",
            c.oid
        )));
    }
    Ok(tag)
}

fn malformed(what: &str) -> LdapError {
    LdapError::protocol(format!("malformed {what} control value"))
}

fn universal(tag: &StructureTag, ty: Types) -> bool {
    tag.class == TagClass::Universal && tag.id == ty as u64
}

fn sequence(tag: StructureTag, what: &str) -> Result<Vec<StructureTag>, LdapError> {
    if !universal(&tag, Types::Sequence) {
        return Err(malformed(what));
    }
    match tag.payload {
        PL::C(items) => Ok(items),
        PL::P(_) => Err(malformed(what)),
    }
}

fn primitive(tag: StructureTag, what: &str) -> Result<Vec<u8>, LdapError> {
    match tag.payload {
        PL::P(b) => Ok(b),
        PL::C(_) => Err(malformed(what)),
    }
}

fn string(tag: StructureTag, what: &str) -> Result<String, LdapError> {
    if !universal(&tag, Types::OctetString) {
        return Err(malformed(what));
    }
    String::from_utf8(primitive(tag, what)?).map_err(|_| malformed(what))
}

/// A BER INTEGER's contents (two's complement, at most 8 bytes).
fn integer_value(b: &[u8], what: &str) -> Result<i64, LdapError> {
    if b.is_empty() || b.len() > 8 {
        return Err(malformed(what));
    }
    let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for byte in b {
        v = (v << 8) | i64::from(*byte);
    }
    Ok(v)
}

fn integer(tag: StructureTag, what: &str) -> Result<i64, LdapError> {
    if !universal(&tag, Types::Integer) {
        return Err(malformed(what));
    }
    integer_value(&primitive(tag, what)?, what)
}

/// realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }
fn paged_request(tag: StructureTag) -> Result<(i64, Vec<u8>), LdapError> {
    const W: &str = "paged results";
    let mut it = sequence(tag, W)?.into_iter();
    let (Some(size), Some(cookie), None) = (it.next(), it.next(), it.next()) else {
        return Err(malformed(W));
    };
    let size = integer(size, W)?;
    if !universal(&cookie, Types::OctetString) {
        return Err(malformed(W));
    }
    Ok((size, primitive(cookie, W)?))
}

/// SortKeyList ::= SEQUENCE OF SEQUENCE { attributeType AttributeDescription,
///     orderingRule [0] MatchingRuleId OPTIONAL, reverseOrder [1] BOOLEAN DEFAULT FALSE }
fn sort_request(tag: StructureTag) -> Result<Vec<SortKey>, LdapError> {
    const W: &str = "server-side sort";
    let list = sequence(tag, W)?;
    if list.is_empty() {
        return Err(malformed(W));
    }
    let mut keys = Vec::with_capacity(list.len().min(MAX_SORT_KEYS));
    for k in list {
        let mut it = sequence(k, W)?.into_iter();
        let attr = string(it.next().ok_or_else(|| malformed(W))?, W)?;
        let mut key = SortKey {
            attr,
            ordering_rule: None,
            reverse: false,
        };
        let mut last = None;
        for t in it {
            match (t.class, t.id) {
                (TagClass::Context, 0) if last.is_none() => {
                    key.ordering_rule =
                        Some(String::from_utf8(primitive(t, W)?).map_err(|_| malformed(W))?);
                    last = Some(0);
                }
                (TagClass::Context, 1) if last != Some(1) => {
                    let b = primitive(t, W)?;
                    let [v] = b.as_slice() else {
                        return Err(malformed(W));
                    };
                    key.reverse = *v != 0;
                    last = Some(1);
                }
                _ => return Err(malformed(W)),
            }
        }
        keys.push(key);
    }
    Ok(keys)
}

/// VirtualListViewRequest ::= SEQUENCE { beforeCount INTEGER (0..maxInt),
///     afterCount INTEGER (0..maxInt), target CHOICE { byOffset [0] SEQUENCE {
///     offset INTEGER (0 .. maxInt), contentCount INTEGER (0 .. maxInt) },
///     greaterThanOrEqual [1] AssertionValue }, contextID OCTET STRING OPTIONAL }
fn vlv_request(tag: StructureTag) -> Result<VlvRequest, LdapError> {
    const W: &str = "virtual list view";
    let mut it = sequence(tag, W)?.into_iter();
    let before = integer(it.next().ok_or_else(|| malformed(W))?, W)?;
    let after = integer(it.next().ok_or_else(|| malformed(W))?, W)?;
    let target = it.next().ok_or_else(|| malformed(W))?;
    let target = match (target.class, target.id, target.payload) {
        (TagClass::Context, 0, PL::C(parts)) => {
            let mut p = parts.into_iter();
            let (Some(o), Some(c), None) = (p.next(), p.next(), p.next()) else {
                return Err(malformed(W));
            };
            VlvTarget::ByOffset {
                offset: integer(o, W)?,
                content_count: integer(c, W)?,
            }
        }
        (TagClass::Context, 1, PL::P(v)) => VlvTarget::GreaterOrEqual(v),
        _ => return Err(malformed(W)),
    };
    let context_id = match it.next() {
        Some(t) if universal(&t, Types::OctetString) => Some(primitive(t, W)?),
        Some(_) => return Err(malformed(W)),
        None => None,
    };
    if it.next().is_some() || before < 0 || after < 0 {
        return Err(malformed(W));
    }
    if let VlvTarget::ByOffset {
        offset,
        content_count,
    } = target
    {
        if offset < 0 || content_count < 0 {
            return Err(malformed(W));
        }
    }
    Ok(VlvRequest {
        before,
        after,
        target,
        context_id,
        critical: false,
    })
}

fn sync_request(tag: StructureTag) -> Result<SyncRequest, LdapError> {
    const W: &str = "sync request";
    let mut it = sequence(tag, W)?.into_iter().peekable();
    let mode = match it.next() {
        Some(t) if universal(&t, Types::Enumerated) => integer_value(&primitive(t, W)?, W)?,
        _ => return Err(malformed(W)),
    };
    let persist = match mode {
        1 => false,
        3 => true,
        _ => return Err(malformed(W)),
    };
    let cookie = match it.peek() {
        Some(t) if universal(t, Types::OctetString) => match it.next() {
            Some(t) => Some(primitive(t, W)?),
            None => None,
        },
        _ => None,
    };
    let reload_hint = match it.next() {
        Some(t) if universal(&t, Types::Boolean) => match primitive(t, W)?.as_slice() {
            [v] => *v != 0,
            _ => return Err(malformed(W)),
        },
        Some(_) => return Err(malformed(W)),
        None => false,
    };
    if it.next().is_some() {
        return Err(malformed(W));
    }
    Ok(SyncRequest {
        persist,
        cookie,
        reload_hint,
    })
}

/// The assertion control's value is an RFC 4511 Filter.
fn assertion(tag: StructureTag) -> Result<LdapFilter, LdapError> {
    LdapFilter::try_from(tag).map_err(|_| malformed("assertion"))
}

/// AttributeSelection ::= SEQUENCE OF selector LDAPString
fn attribute_selection(tag: StructureTag) -> Result<Vec<String>, LdapError> {
    const W: &str = "read entry";
    sequence(tag, W)?
        .into_iter()
        .map(|t| string(t, W))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Response controls
// ---------------------------------------------------------------------------------------------

fn encode(tag: Tag) -> Vec<u8> {
    let mut b = BytesMut::new();
    // Encoding into a growable buffer cannot fail.
    let _ = ldap3_lber::write::encode_into(&mut b, tag.into_structure());
    b.to_vec()
}

fn response(oid: &str, value: Vec<u8>) -> LdapControl {
    LdapControl::Unknown {
        oid: oid.to_string(),
        criticality: false,
        value: Some(value),
    }
}

fn int(v: i64) -> Tag {
    Tag::Integer(Integer {
        inner: v,
        ..Default::default()
    })
}

fn enumerated(v: i64) -> Tag {
    Tag::Enumerated(Enumerated {
        inner: v,
        ..Default::default()
    })
}

fn octets(v: Vec<u8>) -> Tag {
    Tag::OctetString(OctetString {
        inner: v,
        ..Default::default()
    })
}

/// The paged-results response: the cookie to continue with (empty at the end).
pub(crate) fn paged_response(cookie: Vec<u8>) -> LdapControl {
    LdapControl::SimplePagedResults { size: 0, cookie }
}

/// SortResult ::= SEQUENCE { sortResult ENUMERATED, attributeType [0] AttributeDescription
/// OPTIONAL }
pub(crate) fn sort_response(code: u32, attr: Option<&str>) -> LdapControl {
    let mut inner = vec![enumerated(i64::from(code))];
    if let Some(a) = attr {
        inner.push(Tag::OctetString(OctetString {
            class: TagClass::Context,
            id: 0,
            inner: a.as_bytes().to_vec(),
        }));
    }
    response(
        OID_SORT_RESPONSE,
        encode(Tag::Sequence(Sequence {
            inner,
            ..Default::default()
        })),
    )
}

/// VirtualListViewResponse ::= SEQUENCE { targetPosition INTEGER, contentCount INTEGER,
/// virtualListViewResult ENUMERATED, contextID OCTET STRING OPTIONAL }
pub(crate) fn vlv_response(
    target: i64,
    count: i64,
    code: u32,
    context: Option<Vec<u8>>,
) -> LdapControl {
    let mut inner = vec![int(target), int(count), enumerated(i64::from(code))];
    if let Some(c) = context {
        inner.push(octets(c));
    }
    response(
        OID_VLV_RESPONSE,
        encode(Tag::Sequence(Sequence {
            inner,
            ..Default::default()
        })),
    )
}

/// Pre-/post-read response: the entry as a SearchResultEntry.
pub(crate) fn read_entry_response(oid: &str, entry: LdapSearchResultEntry) -> LdapControl {
    response(
        oid,
        encode(Tag::Sequence(Sequence {
            class: TagClass::Application,
            id: 4,
            inner: entry.into(),
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::proto::LdapPartialAttribute;

    fn raw(oid: &str, critical: bool, value: Option<&[u8]>) -> RawControl {
        RawControl {
            oid: oid.into(),
            critical,
            value: value.map(|v| v.to_vec()),
        }
    }

    // Values encoded by hand from the ASN.1 of each specification; tests/it/controls.rs sends
    // the same controls with OpenLDAP's ldapsearch -E / ldapmodify -e.

    #[test]
    fn sort_values() {
        // -E sss=cn/-sn:2.5.13.3
        let v = [
            0x30, 0x19, 0x30, 0x04, 0x04, 0x02, b'c', b'n', 0x30, 0x11, 0x04, 0x02, b's', b'n',
            0x80, 0x08, b'2', b'.', b'5', b'.', b'1', b'3', b'.', b'3', 0x81, 0x01, 0xff,
        ];
        let c = parse(&[raw(OID_SORT_REQUEST, true, Some(&v))], OpKind::Search).unwrap();
        let s = c.sort.unwrap();
        assert!(s.critical);
        assert_eq!(
            s.keys,
            vec![
                SortKey {
                    attr: "cn".into(),
                    ordering_rule: None,
                    reverse: false
                },
                SortKey {
                    attr: "sn".into(),
                    ordering_rule: Some("2.5.13.3".into()),
                    reverse: true
                }
            ]
        );
        // An empty key list, a missing value, junk after the value.
        for bad in [&[0x30, 0x00][..], &[0x30, 0x02, 0x04, 0x00, 0x00][..]] {
            let e = parse(&[raw(OID_SORT_REQUEST, false, Some(bad))], OpKind::Search).unwrap_err();
            assert_eq!(e.code, LdapResultCode::ProtocolError);
        }
        assert!(parse(&[raw(OID_SORT_REQUEST, false, None)], OpKind::Search).is_err());
    }

    #[test]
    fn vlv_values() {
        // -E vlv=2/3:5/0 (by offset) and -E vlv=0/9:=Sm (greater or equal)
        let by_offset = [
            0x30, 0x0e, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03, 0xa0, 0x06, 0x02, 0x01, 0x05, 0x02,
            0x01, 0x00,
        ];
        let c = parse(
            &[raw(OID_VLV_REQUEST, true, Some(&by_offset))],
            OpKind::Search,
        )
        .unwrap();
        let v = c.vlv.unwrap();
        assert_eq!((v.before, v.after), (2, 3));
        assert_eq!(
            v.target,
            VlvTarget::ByOffset {
                offset: 5,
                content_count: 0
            }
        );
        let ge = [
            0x30, 0x0a, 0x02, 0x01, 0x00, 0x02, 0x01, 0x09, 0x81, 0x02, b'S', b'm',
        ];
        let v = parse(&[raw(OID_VLV_REQUEST, false, Some(&ge))], OpKind::Search)
            .unwrap()
            .vlv
            .unwrap();
        assert_eq!(v.target, VlvTarget::GreaterOrEqual(b"Sm".to_vec()));
        // Negative counts are malformed.
        let neg = [
            0x30, 0x0e, 0x02, 0x01, 0xff, 0x02, 0x01, 0x03, 0xa0, 0x06, 0x02, 0x01, 0x05, 0x02,
            0x01, 0x00,
        ];
        assert!(parse(&[raw(OID_VLV_REQUEST, false, Some(&neg))], OpKind::Search).is_err());
    }

    #[test]
    fn read_and_assertion_values() {
        // -e preread=cn,mail
        let sel = [
            0x30, 0x0a, 0x04, 0x02, b'c', b'n', 0x04, 0x04, b'm', b'a', b'i', b'l',
        ];
        let c = parse(&[raw(OID_PRE_READ, false, Some(&sel))], OpKind::Modify).unwrap();
        assert_eq!(c.pre_read.unwrap(), vec!["cn", "mail"]);
        // -e assert='(sn=x)': equalityMatch [3] { "sn", "x" }
        let f = [0xa3, 0x07, 0x04, 0x02, b's', b'n', 0x04, 0x01, b'x'];
        let c = parse(&[raw(OID_ASSERTION, true, Some(&f))], OpKind::Delete).unwrap();
        assert_eq!(
            c.assertion.unwrap(),
            LdapFilter::Equality("sn".into(), "x".into())
        );
    }

    #[test]
    fn applicability_and_criticality() {
        // Pre-read on an add does not apply: refused when critical, ignored otherwise.
        let sel = [0x30, 0x00];
        let e = parse(&[raw(OID_PRE_READ, true, Some(&sel))], OpKind::Add).unwrap_err();
        assert_eq!(e.code, LdapResultCode::UnavailableCriticalExtension);
        assert!(parse(&[raw(OID_PRE_READ, false, Some(&sel))], OpKind::Add)
            .unwrap()
            .pre_read
            .is_none());
        // Unknown controls.
        let e = parse(&[raw("1.2.3.4", true, None)], OpKind::Search).unwrap_err();
        assert_eq!(e.code, LdapResultCode::UnavailableCriticalExtension);
        assert!(parse(&[raw("1.2.3.4", false, None)], OpKind::Search).is_ok());
        // Twice the same control.
        let c = raw(OID_PERMISSIVE_MODIFY, false, None);
        let e = parse(&[c.clone(), c], OpKind::Modify).unwrap_err();
        assert_eq!(e.code, LdapResultCode::ProtocolError);
    }

    #[test]
    fn response_encodings() {
        let LdapControl::Unknown { value, .. } = sort_response(16, Some("foo")) else {
            panic!()
        };
        assert_eq!(
            value.unwrap(),
            vec![0x30, 0x08, 0x0a, 0x01, 0x10, 0x80, 0x03, b'f', b'o', b'o']
        );
        let LdapControl::Unknown { value, .. } = vlv_response(3, 300, 0, None) else {
            panic!()
        };
        assert_eq!(
            value.unwrap(),
            vec![0x30, 0x0a, 0x02, 0x01, 0x03, 0x02, 0x02, 0x01, 0x2c, 0x0a, 0x01, 0x00]
        );
        let LdapControl::Unknown { value, .. } = read_entry_response(
            OID_POST_READ,
            LdapSearchResultEntry {
                dn: "cn=a".into(),
                attributes: vec![LdapPartialAttribute {
                    atype: "cn".into(),
                    vals: vec![b"a".to_vec()],
                }],
            },
        ) else {
            panic!()
        };
        assert_eq!(
            value.unwrap(),
            vec![
                0x64, 0x13, 0x04, 0x04, b'c', b'n', b'=', b'a', 0x30, 0x0b, 0x30, 0x09, 0x04, 0x02,
                b'c', b'n', 0x31, 0x03, 0x04, 0x01, b'a'
            ]
        );
    }

    /// Arbitrary bytes as the value of every control ccdir decodes: an error or a value, never
    /// a panic. Includes mutations of valid values, which reach deeper into the decoders.
    #[test]
    fn arbitrary_values_do_not_panic() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seeds: [&[u8]; 4] = [
            &[0x30, 0x04, 0x30, 0x02, 0x04, 0x00],
            &[
                0x30, 0x0e, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03, 0xa0, 0x06, 0x02, 0x01, 0x05, 0x02,
                0x01, 0x00,
            ],
            &[0xa3, 0x07, 0x04, 0x02, b's', b'n', 0x04, 0x01, b'x'],
            &[0x30, 0x04, 0x04, 0x02, b'c', b'n'],
        ];
        for round in 0..20_000 {
            let mut v: Vec<u8> = if round % 2 == 0 {
                let len = (next() % 24) as usize;
                (0..len).map(|_| next() as u8).collect()
            } else {
                seeds[(next() % 4) as usize].to_vec()
            };
            for _ in 0..(next() % 3) {
                if !v.is_empty() {
                    let i = (next() as usize) % v.len();
                    v[i] = next() as u8;
                }
            }
            for oid in SUPPORTED {
                let c = raw(oid, next() % 2 == 0, Some(&v));
                let op = [OpKind::Search, OpKind::Modify, OpKind::Add][(next() % 3) as usize];
                let _ = parse(&[c], op);
            }
        }
    }

    #[test]
    fn sync_request_values() {
        // What slapd's consumer sends: refreshAndPersist, a cookie, reloadHint TRUE.
        let mut v = vec![0x30, 15, 0x0a, 1, 3, 0x04, 7];
        v.extend_from_slice(b"rid=001");
        v.extend_from_slice(&[0x01, 1, 0xff]);
        let c = parse(&[raw(OID_SYNC_REQUEST, true, Some(&v))], OpKind::Search).unwrap();
        assert_eq!(
            c.sync,
            Some(SyncRequest {
                persist: true,
                cookie: Some(b"rid=001".to_vec()),
                reload_hint: true
            })
        );
        let c = parse(
            &[raw(OID_SYNC_REQUEST, true, Some(&[0x30, 3, 0x0a, 1, 1]))],
            OpKind::Search,
        )
        .unwrap();
        assert_eq!(
            c.sync,
            Some(SyncRequest {
                persist: false,
                cookie: None,
                reload_hint: false
            })
        );
        for bad in [
            &[0x30, 3, 0x0a, 1, 2][..],
            &[0x30, 0],
            &[0x30, 6, 0x0a, 1, 1, 0x02, 1, 0],
            &[0x30, 8, 0x0a, 1, 1, 0x01, 1, 0, 0x01, 1, 0][..6],
        ] {
            assert!(parse(&[raw(OID_SYNC_REQUEST, true, Some(bad))], OpKind::Search).is_err());
        }
        let e = parse(
            &[raw(OID_SYNC_REQUEST, true, Some(&[0x30, 3, 0x0a, 1, 1]))],
            OpKind::Modify,
        )
        .unwrap_err();
        assert_eq!(e.code, LdapResultCode::UnavailableCriticalExtension);
        // The critical ManageDsaIT control slapd's consumer sends along is accepted.
        parse(
            &[
                raw(OID_SYNC_REQUEST, true, Some(&[0x30, 3, 0x0a, 1, 1])),
                raw(OID_MANAGE_DSA_IT, true, None),
            ],
            OpKind::Search,
        )
        .unwrap();
    }

    #[test]
    fn integers() {
        assert_eq!(integer_value(&[0x00], "x").unwrap(), 0);
        assert_eq!(integer_value(&[0x7f], "x").unwrap(), 127);
        assert_eq!(integer_value(&[0x00, 0x80], "x").unwrap(), 128);
        assert_eq!(integer_value(&[0xff], "x").unwrap(), -1);
        assert!(integer_value(&[], "x").is_err());
        assert!(integer_value(&[1; 9], "x").is_err());
    }
}
