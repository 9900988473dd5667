//! Distinguished names (RFC 4514): parsing, normalisation and escaping, written by hand because no
//! maintained crate normalises DNs by the schema's matching rules.
//!
//! A [`Dn`] is parsed and normalised once. It keeps the form the client sent for display and a
//! normalised form (attribute types by their schema name in lower case, values by their equality rule,
//! the AVAs of a multi-valued RDN sorted) used for comparisons and store keys.

use crate::core::error::LdapError;
use crate::core::schema::Schema;
use std::fmt;

/// Longest DN text accepted, and most RDNs in one DN: bounds on what a client can make us allocate.
pub(crate) const MAX_DN_LEN: usize = 8192;
pub(crate) const MAX_RDNS: usize = 128;

/// One attribute value assertion of an RDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ava {
    /// The attribute type's schema name (canonical case, e.g. `cn`, `associatedDomain`).
    pub(crate) attr: String,
    /// The value as given (unescaped).
    pub(crate) value: Vec<u8>,
    /// The value normalised by the type's equality rule.
    pub(crate) norm_value: Vec<u8>,
}

/// A relative distinguished name: one or more AVAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rdn {
    avas: Vec<Ava>,
    norm: String,
}

impl Rdn {
    pub(crate) fn avas(&self) -> &[Ava] {
        &self.avas
    }
    /// The normalised text of this RDN (`cn=john smith+uid=x`).
    pub(crate) fn norm(&self) -> &str {
        &self.norm
    }
    /// The display text of this RDN.
    pub fn display(&self) -> String {
        self.avas
            .iter()
            .map(|a| format!("{}={}", a.attr, escape_value(&a.value)))
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// A parsed, normalised distinguished name. RDNs are stored leaf first, as written.
#[derive(Clone, PartialEq, Eq)]
pub struct Dn {
    rdns: Vec<Rdn>,
    display: String,
    norm: String,
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dn({})", self.display)
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl Dn {
    /// The empty DN (the root DSE).
    pub(crate) fn root() -> Dn {
        Dn {
            rdns: vec![],
            display: String::new(),
            norm: String::new(),
        }
    }

    /// Parse and normalise `text` with the schema's attribute types and equality rules.
    pub fn parse(text: &str, schema: &Schema) -> Result<Dn, LdapError> {
        if text.len() > MAX_DN_LEN {
            return Err(LdapError::invalid_dn("DN is too long"));
        }
        let raw = parse_raw(text).map_err(|m| {
            LdapError::invalid_dn(format!("invalid DN \"{}\": {m}", truncate(text)))
        })?;
        let mut rdns = Vec::with_capacity(raw.len());
        for raw_rdn in raw {
            rdns.push(normalise_rdn(raw_rdn, schema).map_err(|m| {
                LdapError::invalid_dn(format!("invalid DN \"{}\": {m}", truncate(text)))
            })?);
        }
        Ok(Self::from_rdns_with_display(rdns, text.trim().to_string()))
    }

    fn from_rdns_with_display(rdns: Vec<Rdn>, display: String) -> Dn {
        let norm = rdns
            .iter()
            .map(|r| r.norm.as_str())
            .collect::<Vec<_>>()
            .join(",");
        Dn {
            rdns,
            display,
            norm,
        }
    }

    fn from_rdns(rdns: Vec<Rdn>) -> Dn {
        let display = rdns
            .iter()
            .map(|r| r.display())
            .collect::<Vec<_>>()
            .join(",");
        Self::from_rdns_with_display(rdns, display)
    }

    pub(crate) fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }
    /// The leaf RDN, if any.
    pub(crate) fn rdn(&self) -> Option<&Rdn> {
        self.rdns.first()
    }
    /// The DN as the client wrote it (trimmed).
    pub fn display(&self) -> &str {
        &self.display
    }
    /// The normalised text form: equal DNs have equal normalised forms.
    pub fn norm(&self) -> &str {
        &self.norm
    }
    pub(crate) fn depth(&self) -> usize {
        self.rdns.len()
    }

    /// The parent DN; the root's parent is the root.
    pub fn parent(&self) -> Dn {
        if self.rdns.len() <= 1 {
            return Dn::root();
        }
        let rdns = self.rdns[1..].to_vec();
        // Keep the client's spelling of the parent when it is a suffix of the display text.
        let display = match self.display_parent() {
            Some(d) => d,
            None => rdns
                .iter()
                .map(|r| r.display())
                .collect::<Vec<_>>()
                .join(","),
        };
        Self::from_rdns_with_display(rdns, display)
    }

    fn display_parent(&self) -> Option<String> {
        // Split the display text after the first unescaped ',' or ';'.
        let bytes = self.display.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b',' | b';' => return Some(self.display[i + 1..].trim().to_string()),
                _ => i += 1,
            }
        }
        None
    }

    /// A child of this DN with the given RDN.
    pub(crate) fn child(&self, rdn: Rdn) -> Dn {
        let mut rdns = Vec::with_capacity(self.rdns.len() + 1);
        rdns.push(rdn.clone());
        rdns.extend(self.rdns.iter().cloned());
        let display = if self.display.is_empty() {
            rdn.display()
        } else {
            format!("{},{}", rdn.display(), self.display)
        };
        Self::from_rdns_with_display(rdns, display)
    }

    /// Replace the ancestor `old_base` of this DN by `new_base` (for subtree moves).
    pub(crate) fn rebase(&self, old_base: &Dn, new_base: &Dn) -> Option<Dn> {
        if !self.is_descendant_or_self(old_base) {
            return None;
        }
        let keep = self.rdns.len() - old_base.rdns.len();
        let mut rdns: Vec<Rdn> = self.rdns[..keep].to_vec();
        rdns.extend(new_base.rdns.iter().cloned());
        Some(Self::from_rdns(rdns))
    }

    /// True when `self` is `base` or lies below it.
    pub(crate) fn is_descendant_or_self(&self, base: &Dn) -> bool {
        if base.rdns.len() > self.rdns.len() {
            return false;
        }
        let off = self.rdns.len() - base.rdns.len();
        self.rdns[off..]
            .iter()
            .zip(&base.rdns)
            .all(|(a, b)| a.norm == b.norm)
    }

    /// The store key: normalised RDNs from the root down, each followed by a 0 byte, so that a
    /// subtree is one key-prefix range. Normalised RDN text never contains a 0 byte.
    pub fn store_key(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.norm.len() + self.rdns.len());
        for r in self.rdns.iter().rev() {
            k.extend_from_slice(r.norm.as_bytes());
            k.push(0);
        }
        k
    }

    /// Build an RDN from an entry's attribute type and value (used by modrdn and tests).
    pub fn parse_rdn(text: &str, schema: &Schema) -> Result<Rdn, LdapError> {
        let dn = Dn::parse(text, schema)?;
        if dn.rdns.len() != 1 {
            return Err(LdapError::invalid_dn(format!(
                "\"{}\" is not a single RDN",
                truncate(text)
            )));
        }
        dn.rdns
            .into_iter()
            .next()
            .ok_or_else(|| LdapError::invalid_dn("empty RDN"))
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= 200 {
        s.to_string()
    } else {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

type RawAva = (String, Vec<u8>);

/// Parse the RFC 4514 string form into RDNs of (type, unescaped value), leaf first. Lenient as
/// OpenLDAP is: spaces around separators, `;` as RDN separator.
fn parse_raw(text: &str) -> Result<Vec<Vec<RawAva>>, String> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut rdns: Vec<Vec<RawAva>> = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i] == b' ' {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if i == b.len() {
        return Ok(rdns);
    }
    let mut current: Vec<RawAva> = Vec::new();
    loop {
        if rdns.len() >= MAX_RDNS {
            return Err("too many RDNs".into());
        }
        skip_ws(&mut i);
        // attribute type: descr or numeric OID
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-' || b[i] == b'.') {
            i += 1;
        }
        if start == i {
            return Err(format!("attribute type expected at position {}", i + 1));
        }
        let mut attr = &text[start..i];
        if attr.len() > 4 && attr[..4].eq_ignore_ascii_case("oid.") {
            attr = &attr[4..];
        }
        if !valid_attr_type(attr) {
            return Err(format!("invalid attribute type \"{attr}\""));
        }
        skip_ws(&mut i);
        if i >= b.len() || b[i] != b'=' {
            return Err(format!("'=' expected after \"{attr}\""));
        }
        i += 1;
        skip_ws(&mut i);
        let value = if i < b.len() && b[i] == b'#' {
            i += 1;
            let hs = i;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            let hex = &text[hs..i];
            if hex.is_empty() || hex.len() % 2 != 0 {
                return Err("invalid hex string value".into());
            }
            let raw = decode_hex(hex).ok_or("invalid hex string value")?;
            skip_ws(&mut i);
            ber_string_content(&raw).unwrap_or(raw)
        } else {
            let mut v: Vec<u8> = Vec::new();
            // Length of v up to the last escaped or non-space byte: trailing unescaped spaces go.
            let mut keep = 0;
            while i < b.len() {
                let c = b[i];
                match c {
                    b'\\' => {
                        if i + 1 >= b.len() {
                            return Err("DN ends in an escape".into());
                        }
                        let n = b[i + 1];
                        if n.is_ascii_hexdigit() {
                            if i + 2 >= b.len() || !b[i + 2].is_ascii_hexdigit() {
                                return Err("invalid hex escape".into());
                            }
                            v.push(hex_val(n) * 16 + hex_val(b[i + 2]));
                            i += 3;
                        } else if b" \"#+,;<=>\\".contains(&n) {
                            v.push(n);
                            i += 2;
                        } else {
                            return Err(format!("invalid escape \\{}", n as char));
                        }
                        keep = v.len();
                    }
                    b',' | b';' | b'+' => break,
                    b'"' | b'<' | b'>' | b'=' => {
                        // `=` in a value is tolerated by many servers; RFC 4514 requires escaping
                        // of the others.
                        if c == b'=' {
                            v.push(c);
                            keep = v.len();
                            i += 1;
                        } else {
                            return Err(format!("unescaped '{}' in value", c as char));
                        }
                    }
                    0 => return Err("NUL in DN".into()),
                    _ => {
                        v.push(c);
                        if c != b' ' {
                            keep = v.len();
                        }
                        i += 1;
                    }
                }
            }
            v.truncate(keep);
            v
        };
        current.push((attr.to_string(), value));
        if current.len() > 64 {
            return Err("too many values in one RDN".into());
        }
        if i >= b.len() {
            rdns.push(std::mem::take(&mut current));
            break;
        }
        match b[i] {
            b'+' => {
                i += 1;
            }
            b',' | b';' => {
                i += 1;
                rdns.push(std::mem::take(&mut current));
                skip_ws(&mut i);
                if i >= b.len() {
                    return Err("DN ends with a separator".into());
                }
            }
            c => return Err(format!("unexpected '{}'", c as char)),
        }
    }
    Ok(rdns)
}

fn valid_attr_type(a: &str) -> bool {
    let first = a.as_bytes()[0];
    if first.is_ascii_digit() {
        a.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    } else {
        first.is_ascii_alphabetic() && a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    }
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

fn decode_hex(h: &str) -> Option<Vec<u8>> {
    let b = h.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    Some(
        b.chunks(2)
            .map(|p| hex_val(p[0]) * 16 + hex_val(p[1]))
            .collect(),
    )
}

/// A `#hex` value is a BER encoding; for the string types take the content octets.
fn ber_string_content(raw: &[u8]) -> Option<Vec<u8>> {
    let (&tag, rest) = raw.split_first()?;
    if !matches!(tag, 0x04 | 0x0c | 0x13 | 0x14 | 0x16 | 0x1e) {
        return None;
    }
    let (&len0, rest) = rest.split_first()?;
    let (len, body) = if len0 < 0x80 {
        (len0 as usize, rest)
    } else {
        let n = (len0 & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | x as usize);
        (len, &rest[n..])
    };
    (body.len() == len).then(|| body.to_vec())
}

fn normalise_rdn(raw: Vec<RawAva>, schema: &Schema) -> Result<Rdn, String> {
    let mut avas = Vec::with_capacity(raw.len());
    for (attr, value) in raw {
        let at = schema
            .attribute(&attr)
            .ok_or_else(|| format!("undefined attribute type \"{attr}\""))?;
        let norm_value = match &at.equality {
            Some(rule) => rule
                .normalize(&value)
                .ok_or_else(|| format!("invalid value for {}", at.name()))?,
            None => value.clone(),
        };
        avas.push(Ava {
            attr: at.name().to_string(),
            value,
            norm_value,
        });
    }
    avas.sort_by(|a, b| {
        (a.attr.to_ascii_lowercase(), &a.norm_value)
            .cmp(&(b.attr.to_ascii_lowercase(), &b.norm_value))
    });
    for w in avas.windows(2) {
        if w[0].attr.eq_ignore_ascii_case(&w[1].attr) && w[0].norm_value == w[1].norm_value {
            return Err(format!("duplicate AVA {} in RDN", w[0].attr));
        }
    }
    let norm = avas
        .iter()
        .map(|a| {
            format!(
                "{}={}",
                a.attr.to_ascii_lowercase(),
                escape_value(&a.norm_value)
            )
        })
        .collect::<Vec<_>>()
        .join("+");
    Ok(Rdn { avas, norm })
}

/// Escape an attribute value for the RFC 4514 string form. Non-UTF-8 bytes and control characters
/// are written as hex pairs.
pub(crate) fn escape_value(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let valid = matches!(s, std::borrow::Cow::Borrowed(_));
    let mut out = String::with_capacity(v.len() + 4);
    if !valid {
        for &c in v {
            if c.is_ascii_alphanumeric() {
                out.push(c as char);
            } else {
                out.push_str(&format!("\\{c:02x}"));
            }
        }
        return out;
    }
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == n - 1 => out.push_str("\\ "),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::builtin().expect("builtin schema")
    }

    #[test]
    fn parses_and_normalises() {
        let s = schema();
        let d = Dn::parse("CN=John  Smith , DC=Example,dc=ORG", &s).unwrap();
        assert_eq!(d.norm(), "cn=john smith,dc=example,dc=org");
        assert_eq!(d.display(), "CN=John  Smith , DC=Example,dc=ORG");
        assert_eq!(d.depth(), 3);
        assert_eq!(d.parent().norm(), "dc=example,dc=org");
        assert_eq!(d.parent().display(), "DC=Example,dc=ORG");
        let e = Dn::parse("cn=john smith,dc=example,dc=org", &s).unwrap();
        assert_eq!(d.norm(), e.norm());
    }

    #[test]
    fn escapes_and_hex() {
        let s = schema();
        let d = Dn::parse(r"cn=Smith\, John\2b,dc=example", &s).unwrap();
        assert_eq!(d.rdn().unwrap().avas()[0].value, b"Smith, John+");
        assert_eq!(d.norm(), r"cn=smith\, john\+,dc=example");
        let h = Dn::parse("cn=#04024869,dc=example", &s).unwrap();
        assert_eq!(h.rdn().unwrap().avas()[0].value, b"Hi");
        let sp = Dn::parse(r"cn=\ lead\ ,dc=example", &s).unwrap();
        assert_eq!(sp.rdn().unwrap().avas()[0].value, b" lead ");
        let utf = Dn::parse(r"cn=J\C3\BCrgen,dc=example", &s).unwrap();
        assert_eq!(utf.rdn().unwrap().avas()[0].value, "Jürgen".as_bytes());
    }

    #[test]
    fn multi_valued_rdn_is_order_independent() {
        let s = schema();
        let a = Dn::parse("cn=A+uid=x,dc=example", &s).unwrap();
        let b = Dn::parse("UID=x+CN=a,dc=example", &s).unwrap();
        assert_eq!(a.norm(), b.norm());
        assert!(Dn::parse("cn=a+cn=A,dc=example", &s).is_err());
    }

    #[test]
    fn oid_types_map_to_names() {
        let s = schema();
        let a = Dn::parse("2.5.4.3=Foo,dc=example", &s).unwrap();
        assert_eq!(a.norm(), "cn=foo,dc=example");
    }

    #[test]
    fn rejects_bad_dns() {
        let s = schema();
        for bad in [
            "cn",
            "cn=a,",
            "=a",
            "cn=a\\",
            "cn=a\\zz",
            "cn=#123",
            "nosuchattr=a",
            "cn=a<b",
            "1cn=a",
            "cn=a,,dc=b",
        ] {
            let e = Dn::parse(bad, &s).unwrap_err();
            assert_eq!(
                e.code,
                ldap3_proto::proto::LdapResultCode::InvalidDNSyntax,
                "{bad}"
            );
        }
        assert!(Dn::parse("", &s).unwrap().is_root());
        assert!(Dn::parse(&"cn=a,".repeat(5000), &s).is_err());
    }

    #[test]
    fn descendants_and_rebase() {
        let s = schema();
        let base = Dn::parse("dc=example", &s).unwrap();
        let ou = Dn::parse("ou=People,dc=example", &s).unwrap();
        let x = Dn::parse("uid=x,ou=people,DC=example", &s).unwrap();
        assert!(x.is_descendant_or_self(&base));
        assert!(x.is_descendant_or_self(&ou));
        assert!(!ou.is_descendant_or_self(&x));
        assert!(x.store_key().starts_with(&ou.store_key()));
        let other = Dn::parse("ou=staff,dc=example", &s).unwrap();
        assert_eq!(
            x.rebase(&ou, &other).unwrap().norm(),
            "uid=x,ou=staff,dc=example"
        );
    }

    #[test]
    fn escape_round_trip() {
        let s = schema();
        for v in [
            "a,b",
            " lead",
            "trail ",
            "#hash",
            "x+y=z",
            "back\\slash",
            "quo\"te",
        ] {
            let dn = format!("cn={},dc=example", escape_value(v.as_bytes()));
            let d = Dn::parse(&dn, &s).unwrap();
            assert_eq!(d.rdn().unwrap().avas()[0].value, v.as_bytes(), "{dn}");
        }
    }
}
