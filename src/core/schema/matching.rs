//! Matching rules: normalisation, comparison, ordering and substring matching.
//!
//! Every rule works on *normalised* values: [`EqualityRule::normalize`] turns a raw value into its
//! canonical byte form, which is what equality compares, what index keys are made of and what value
//! uniqueness within an attribute is decided on. `None` means that the value is not valid for the
//! rule; a filter item then evaluates to Undefined.
//!
//! String preparation follows RFC 4518 in a simplified form (see [`prepare`]): control and
//! zero-width characters are removed, all white space becomes a space, leading and trailing spaces are
//! dropped and inner runs of spaces are folded into one; the case-ignoring rules then lower-case the
//! string with `char::to_lowercase`.

use std::cmp::Ordering;

/// Normalises distinguished names. The real RFC 4514 parser lives outside the schema module; rules
/// with DN values (`distinguishedNameMatch`, the DN part of `uniqueMemberMatch`) delegate to it.
pub trait DnNormalizer {
    /// The canonical form of `dn`, or `None` when it is not a valid DN.
    fn normalize_dn(&self, dn: &str) -> Option<String>;
}

/// A naive fallback DN normaliser: lower-cases the whole DN and removes spaces around unescaped
/// `,`, `+` and `=`, and at both ends. It does no attribute-type mapping and no value unescaping, so
/// it is only good for tests and as a last resort.
#[derive(Debug, Clone, Copy, Default)]
pub struct NaiveDnNormalizer;

impl DnNormalizer for NaiveDnNormalizer {
    fn normalize_dn(&self, dn: &str) -> Option<String> {
        let mut out = String::with_capacity(dn.len());
        let mut escaped = false;
        let mut skip_spaces = true;
        for c in dn.chars() {
            if escaped {
                out.extend(c.to_lowercase());
                escaped = false;
                skip_spaces = false;
                continue;
            }
            match c {
                '\\' => {
                    out.push('\\');
                    escaped = true;
                    skip_spaces = false;
                }
                ',' | '+' | '=' => {
                    while out.ends_with(' ') && !out.ends_with("\\ ") {
                        out.pop();
                    }
                    out.push(c);
                    skip_spaces = true;
                }
                ' ' if skip_spaces => {}
                _ => {
                    out.extend(c.to_lowercase());
                    skip_spaces = false;
                }
            }
        }
        if escaped {
            return None;
        }
        while out.ends_with(' ') && !out.ends_with("\\ ") {
            out.pop();
        }
        Some(out)
    }
}

// ---------------------------------------------------------------------------------------------
// String preparation (RFC 4518, simplified)
// ---------------------------------------------------------------------------------------------

/// Characters that RFC 4518 section 2.2 maps to nothing (besides control characters).
fn maps_to_nothing(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{1806}' | '\u{180B}'..='\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2063}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFFC}')
}

/// RFC 4518 string preparation, simplified: white space (incl. TAB, CR, LF, NEL and other
/// Unicode spaces) becomes a space, other control and zero-width characters are removed, leading
/// and trailing spaces are dropped and inner runs of spaces are folded to a single space. With
/// `lower` the result is lower-cased with `char::to_lowercase`.
pub fn prepare(s: &str, lower: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() || maps_to_nothing(c) {
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        if lower {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn utf8(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok()
}

fn ascii(value: &[u8]) -> Option<&str> {
    if value.is_ascii() {
        utf8(value)
    } else {
        None
    }
}

fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2212}'
            | '\u{FE63}'
            | '\u{FF0D}'
    )
}

fn normalize_telephone(value: &[u8]) -> Option<Vec<u8>> {
    let s = utf8(value)?;
    let p = prepare(s, true);
    let out: String = p.chars().filter(|&c| c != ' ' && !is_hyphen(c)).collect();
    Some(out.into_bytes())
}

fn normalize_numeric_string(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        match b {
            b'0'..=b'9' => out.push(b),
            b' ' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Canonical decimal form of an INTEGER: optional `-`, no leading zeros, `-0` becomes `0`.
/// Surrounding spaces are ignored; any length is allowed.
fn normalize_integer(value: &[u8]) -> Option<Vec<u8>> {
    let s = ascii(value)?.trim_matches(' ');
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(b"0".to_vec());
    }
    let mut out = Vec::with_capacity(digits.len() + 1);
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(digits.as_bytes());
    Some(out)
}

fn compare_integers(a: &[u8], b: &[u8]) -> Option<Ordering> {
    fn split(v: &[u8]) -> Option<(bool, &[u8])> {
        let (neg, d) = match v.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, v),
        };
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some((neg, d))
    }
    let (an, ad) = split(a)?;
    let (bn, bd) = split(b)?;
    let mag = ad.len().cmp(&bd.len()).then_with(|| ad.cmp(bd));
    Some(match (an, bn) {
        (false, false) => mag,
        (true, true) => mag.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    })
}

fn normalize_boolean(value: &[u8]) -> Option<Vec<u8>> {
    if value.eq_ignore_ascii_case(b"TRUE") {
        Some(b"TRUE".to_vec())
    } else if value.eq_ignore_ascii_case(b"FALSE") {
        Some(b"FALSE".to_vec())
    } else {
        None
    }
}

/// `true` for an RFC 4512 numericoid (`1.2.3`, no leading zeros in an arc).
pub fn is_numeric_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|arc| {
            !arc.is_empty()
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc == "0" || !arc.starts_with('0'))
        })
}

/// `true` for an RFC 4512 descr (keystring: ALPHA *(ALPHA / DIGIT / HYPHEN)).
pub fn is_descr(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn normalize_oid_str(s: &str) -> Option<String> {
    let s = s.trim_matches(' ');
    if is_numeric_oid(s) {
        Some(s.to_string())
    } else if is_descr(s) {
        Some(s.to_ascii_lowercase())
    } else {
        None
    }
}

/// The first component of an RFC 4512 description `( 2.5.4.3 NAME ... )`, or the whole value when
/// it does not start with `(` (an assertion value).
fn first_component(s: &str) -> &str {
    let t = s.trim_matches(' ');
    match t.strip_prefix('(') {
        Some(rest) => {
            let rest = rest.trim_start();
            let end = rest
                .find(|c: char| c.is_whitespace() || c == ')')
                .unwrap_or(rest.len());
            &rest[..end]
        }
        None => t,
    }
}

/// `true` for an RFC 4517 BitString `'0101'B`.
pub fn is_bit_string(s: &str) -> bool {
    s.len() >= 3
        && s.starts_with('\'')
        && s.ends_with("'B")
        && s[1..s.len() - 2].bytes().all(|b| b == b'0' || b == b'1')
}

fn normalize_uuid(value: &[u8]) -> Option<Vec<u8>> {
    let s = ascii(value)?.trim_matches(' ');
    if s.len() != 36 {
        return None;
    }
    for (i, b) in s.bytes().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            b == b'-'
        } else {
            b.is_ascii_hexdigit()
        };
        if !ok {
            return None;
        }
    }
    Some(s.to_ascii_lowercase().into_bytes())
}

fn normalize_list(value: &[u8]) -> Option<Vec<u8>> {
    let s = utf8(value)?;
    let lines: Vec<String> = s.split('$').map(|l| prepare(l, true)).collect();
    Some(lines.join("$").into_bytes())
}

fn normalize_unique_member(value: &[u8], dn: &dyn DnNormalizer) -> Option<Vec<u8>> {
    let s = utf8(value)?;
    if let Some(idx) = s.rfind('#') {
        let (dn_part, uid) = (&s[..idx], &s[idx + 1..]);
        if is_bit_string(uid) {
            let mut out = dn.normalize_dn(dn_part)?;
            out.push('#');
            out.push_str(uid);
            return Some(out.into_bytes());
        }
    }
    dn.normalize_dn(s).map(String::into_bytes)
}

// ---------------------------------------------------------------------------------------------
// Generalized Time
// ---------------------------------------------------------------------------------------------

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn take_digits(b: &[u8], pos: &mut usize, n: usize) -> Option<i64> {
    let s = b.get(*pos..*pos + n)?;
    let mut v = 0i64;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    *pos += n;
    Some(v)
}

fn peek_digit(b: &[u8], pos: usize) -> bool {
    b.get(pos).is_some_and(u8::is_ascii_digit)
}

/// Parses an RFC 4517 GeneralizedTime (`YYYYMMDDHH[MM[SS]][(.|,)frac](Z|(+|-)hh[mm])`) into
/// nanoseconds since 1970-01-01T00:00:00Z. Validates month, day (incl. leap years), hour, minute,
/// second (60 allowed for a leap second, counted as the next minute's 00) and offset ranges.
pub fn parse_generalized_time(value: &[u8]) -> Option<i128> {
    let b = value;
    let mut pos = 0;
    let year = take_digits(b, &mut pos, 4)?;
    let month = take_digits(b, &mut pos, 2)?;
    let day = take_digits(b, &mut pos, 2)?;
    let hour = take_digits(b, &mut pos, 2)?;
    let mut unit_ns: i128 = 3_600_000_000_000;
    let mut minute = 0;
    let mut second = 0;
    if peek_digit(b, pos) {
        minute = take_digits(b, &mut pos, 2)?;
        unit_ns = 60_000_000_000;
        if peek_digit(b, pos) {
            second = take_digits(b, &mut pos, 2)?;
            unit_ns = 1_000_000_000;
        }
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut frac_ns: i128 = 0;
    if matches!(b.get(pos), Some(b'.') | Some(b',')) {
        pos += 1;
        let start = pos;
        let mut num: i128 = 0;
        let mut den: i128 = 1;
        while peek_digit(b, pos) {
            if pos - start < 18 {
                num = num * 10 + i128::from(b[pos] - b'0');
                den *= 10;
            }
            pos += 1;
        }
        if pos == start {
            return None;
        }
        frac_ns = num * unit_ns / den;
    }
    let offset_s: i64 = match b.get(pos) {
        Some(b'Z') => {
            pos += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            pos += 1;
            let oh = take_digits(b, &mut pos, 2)?;
            let om = if peek_digit(b, pos) {
                take_digits(b, &mut pos, 2)?
            } else {
                0
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    if pos != b.len() {
        return None;
    }
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(i128::from(secs) * 1_000_000_000 + frac_ns)
}

/// Normalises a GeneralizedTime to UTC in the fixed-width form `YYYYMMDDHHMMSS.fffffffffZ`, so that
/// byte order equals time order. `None` when invalid or when the UTC year leaves 0000..=9999.
pub fn normalize_generalized_time(value: &[u8]) -> Option<String> {
    let ns = parse_generalized_time(value)?;
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = i64::try_from(secs.div_euclid(86_400)).ok()?;
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}.{:09}Z",
        y,
        m,
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        frac
    ))
}

// ---------------------------------------------------------------------------------------------
// Equality rules
// ---------------------------------------------------------------------------------------------

/// Equality matching rules (RFC 4517, RFC 4523, RFC 4530).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EqualityRule {
    ObjectIdentifier,
    DistinguishedName,
    CaseIgnore,
    CaseExact,
    NumericString,
    CaseIgnoreList,
    Boolean,
    Integer,
    BitString,
    OctetString,
    TelephoneNumber,
    UniqueMember,
    GeneralizedTime,
    IntegerFirstComponent,
    ObjectIdentifierFirstComponent,
    /// certificateExactMatch, simplified: the whole DER certificate is compared byte for byte
    /// (no parsing of the `{ serialNumber, issuer }` assertion).
    CertificateExact,
    CaseExactIA5,
    CaseIgnoreIA5,
    Uuid,
}

const SYN: &str = "1.3.6.1.4.1.1466.115.121.1.";

impl EqualityRule {
    /// All supported equality rules.
    pub const ALL: &'static [EqualityRule] = &[
        EqualityRule::ObjectIdentifier,
        EqualityRule::DistinguishedName,
        EqualityRule::CaseIgnore,
        EqualityRule::CaseExact,
        EqualityRule::NumericString,
        EqualityRule::CaseIgnoreList,
        EqualityRule::Boolean,
        EqualityRule::Integer,
        EqualityRule::BitString,
        EqualityRule::OctetString,
        EqualityRule::TelephoneNumber,
        EqualityRule::UniqueMember,
        EqualityRule::GeneralizedTime,
        EqualityRule::IntegerFirstComponent,
        EqualityRule::ObjectIdentifierFirstComponent,
        EqualityRule::CertificateExact,
        EqualityRule::CaseExactIA5,
        EqualityRule::CaseIgnoreIA5,
        EqualityRule::Uuid,
    ];

    fn info(self) -> (&'static str, &'static str, &'static str) {
        use EqualityRule::*;
        match self {
            ObjectIdentifier => ("2.5.13.0", "objectIdentifierMatch", "38"),
            DistinguishedName => ("2.5.13.1", "distinguishedNameMatch", "12"),
            CaseIgnore => ("2.5.13.2", "caseIgnoreMatch", "15"),
            CaseExact => ("2.5.13.5", "caseExactMatch", "15"),
            NumericString => ("2.5.13.8", "numericStringMatch", "36"),
            CaseIgnoreList => ("2.5.13.11", "caseIgnoreListMatch", "41"),
            Boolean => ("2.5.13.13", "booleanMatch", "7"),
            Integer => ("2.5.13.14", "integerMatch", "27"),
            BitString => ("2.5.13.16", "bitStringMatch", "6"),
            OctetString => ("2.5.13.17", "octetStringMatch", "40"),
            TelephoneNumber => ("2.5.13.20", "telephoneNumberMatch", "50"),
            UniqueMember => ("2.5.13.23", "uniqueMemberMatch", "34"),
            GeneralizedTime => ("2.5.13.27", "generalizedTimeMatch", "24"),
            IntegerFirstComponent => ("2.5.13.29", "integerFirstComponentMatch", "27"),
            ObjectIdentifierFirstComponent => {
                ("2.5.13.30", "objectIdentifierFirstComponentMatch", "38")
            }
            CertificateExact => ("2.5.13.34", "certificateExactMatch", "1.3.6.1.1.15.1"),
            CaseExactIA5 => ("1.3.6.1.4.1.1466.109.114.1", "caseExactIA5Match", "26"),
            CaseIgnoreIA5 => ("1.3.6.1.4.1.1466.109.114.2", "caseIgnoreIA5Match", "26"),
            Uuid => ("1.3.6.1.1.16.2", "uuidMatch", "1.3.6.1.1.16.1"),
        }
    }

    /// The rule's OID.
    pub fn oid(self) -> &'static str {
        self.info().0
    }

    /// The rule's name, e.g. `caseIgnoreMatch`.
    pub fn name(self) -> &'static str {
        self.info().1
    }

    /// OID of the assertion syntax.
    pub fn syntax_oid(self) -> String {
        full_syntax_oid(self.info().2)
    }

    /// Looks a rule up by name (case-insensitive) or OID.
    pub fn from_name_or_oid(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.oid() == s || r.name().eq_ignore_ascii_case(s))
    }

    /// RFC 4512 MatchingRuleDescription, e.g.
    /// `( 2.5.13.2 NAME 'caseIgnoreMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )`.
    pub fn to_rfc4512(self) -> String {
        rule_description(self.oid(), self.name(), &self.syntax_oid())
    }

    /// Normalises `value`; DN-valued rules use [`NaiveDnNormalizer`].
    pub fn normalize(&self, value: &[u8]) -> Option<Vec<u8>> {
        self.normalize_with(value, &NaiveDnNormalizer)
    }

    /// Normalises `value`, delegating DNs to `dn`. `None` when the value is invalid for the rule.
    pub fn normalize_with(&self, value: &[u8], dn: &dyn DnNormalizer) -> Option<Vec<u8>> {
        use EqualityRule::*;
        match self {
            CaseIgnore => utf8(value).map(|s| prepare(s, true).into_bytes()),
            CaseExact => utf8(value).map(|s| prepare(s, false).into_bytes()),
            CaseIgnoreIA5 => ascii(value).map(|s| prepare(s, true).into_bytes()),
            CaseExactIA5 => ascii(value).map(|s| prepare(s, false).into_bytes()),
            TelephoneNumber => normalize_telephone(value),
            NumericString => normalize_numeric_string(value),
            Integer => normalize_integer(value),
            Boolean => normalize_boolean(value),
            GeneralizedTime => normalize_generalized_time(value).map(String::into_bytes),
            ObjectIdentifier => normalize_oid_str(utf8(value)?).map(String::into_bytes),
            ObjectIdentifierFirstComponent => {
                normalize_oid_str(first_component(utf8(value)?)).map(String::into_bytes)
            }
            IntegerFirstComponent => normalize_integer(first_component(utf8(value)?).as_bytes()),
            DistinguishedName => dn.normalize_dn(utf8(value)?).map(String::into_bytes),
            UniqueMember => normalize_unique_member(value, dn),
            OctetString | CertificateExact => Some(value.to_vec()),
            BitString => {
                let s = ascii(value)?;
                if is_bit_string(s) {
                    Some(value.to_vec())
                } else {
                    None
                }
            }
            CaseIgnoreList => normalize_list(value),
            Uuid => normalize_uuid(value),
        }
    }

    /// Compares two raw values: `Some(true)` if equal, `None` if either is invalid (Undefined).
    pub fn matches(&self, a: &[u8], b: &[u8]) -> Option<bool> {
        Some(self.normalize(a)? == self.normalize(b)?)
    }
}

fn full_syntax_oid(short: &str) -> String {
    if short.contains('.') {
        short.to_string()
    } else {
        format!("{SYN}{short}")
    }
}

fn rule_description(oid: &str, name: &str, syntax: &str) -> String {
    format!("( {oid} NAME '{name}' SYNTAX {syntax} )")
}

// ---------------------------------------------------------------------------------------------
// Ordering rules
// ---------------------------------------------------------------------------------------------

/// Ordering matching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderingRule {
    CaseIgnore,
    CaseExact,
    NumericString,
    Integer,
    OctetString,
    GeneralizedTime,
    Uuid,
}

impl OrderingRule {
    /// True when the byte order of values normalised by this rule is the rule's order (the
    /// index's range scans rely on it).
    pub fn bytes_sortable(&self) -> bool {
        matches!(
            self,
            OrderingRule::CaseIgnore
                | OrderingRule::CaseExact
                | OrderingRule::GeneralizedTime
                | OrderingRule::OctetString
        )
    }

    /// All supported ordering rules.
    pub const ALL: &'static [OrderingRule] = &[
        OrderingRule::CaseIgnore,
        OrderingRule::CaseExact,
        OrderingRule::NumericString,
        OrderingRule::Integer,
        OrderingRule::OctetString,
        OrderingRule::GeneralizedTime,
        OrderingRule::Uuid,
    ];

    fn info(self) -> (&'static str, &'static str, &'static str) {
        use OrderingRule::*;
        match self {
            CaseIgnore => ("2.5.13.3", "caseIgnoreOrderingMatch", "15"),
            CaseExact => ("2.5.13.6", "caseExactOrderingMatch", "15"),
            NumericString => ("2.5.13.9", "numericStringOrderingMatch", "36"),
            Integer => ("2.5.13.15", "integerOrderingMatch", "27"),
            OctetString => ("2.5.13.18", "octetStringOrderingMatch", "40"),
            GeneralizedTime => ("2.5.13.28", "generalizedTimeOrderingMatch", "24"),
            Uuid => ("1.3.6.1.1.16.3", "uuidOrderingMatch", "1.3.6.1.1.16.1"),
        }
    }

    /// The rule's OID.
    pub fn oid(self) -> &'static str {
        self.info().0
    }

    /// The rule's name.
    pub fn name(self) -> &'static str {
        self.info().1
    }

    /// OID of the assertion syntax.
    pub fn syntax_oid(self) -> String {
        full_syntax_oid(self.info().2)
    }

    /// Looks a rule up by name (case-insensitive) or OID.
    pub fn from_name_or_oid(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.oid() == s || r.name().eq_ignore_ascii_case(s))
    }

    /// RFC 4512 MatchingRuleDescription.
    pub fn to_rfc4512(self) -> String {
        rule_description(self.oid(), self.name(), &self.syntax_oid())
    }

    /// The equality rule whose normal form this ordering rule compares.
    pub fn equality(self) -> EqualityRule {
        match self {
            OrderingRule::CaseIgnore => EqualityRule::CaseIgnore,
            OrderingRule::CaseExact => EqualityRule::CaseExact,
            OrderingRule::NumericString => EqualityRule::NumericString,
            OrderingRule::Integer => EqualityRule::Integer,
            OrderingRule::OctetString => EqualityRule::OctetString,
            OrderingRule::GeneralizedTime => EqualityRule::GeneralizedTime,
            OrderingRule::Uuid => EqualityRule::Uuid,
        }
    }

    /// Normalises a value for ordering (same normal form as the matching equality rule).
    pub fn normalize(&self, value: &[u8]) -> Option<Vec<u8>> {
        self.equality().normalize(value)
    }

    /// Compares two *normalised* values. Integers compare numerically (sign, then magnitude, any
    /// length); all other rules compare the normalised bytes, whose order is the rule's order.
    pub fn compare(&self, a_norm: &[u8], b_norm: &[u8]) -> Option<Ordering> {
        match self {
            OrderingRule::Integer => compare_integers(a_norm, b_norm),
            OrderingRule::NumericString => {
                if a_norm.iter().chain(b_norm).all(u8::is_ascii_digit) {
                    Some(a_norm.cmp(b_norm))
                } else {
                    None
                }
            }
            _ => Some(a_norm.cmp(b_norm)),
        }
    }

    /// Normalises and compares two raw values.
    pub fn compare_raw(&self, a: &[u8], b: &[u8]) -> Option<Ordering> {
        self.compare(&self.normalize(a)?, &self.normalize(b)?)
    }
}

// ---------------------------------------------------------------------------------------------
// Substring rules
// ---------------------------------------------------------------------------------------------

/// Substrings matching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubstrRule {
    CaseIgnore,
    CaseExact,
    NumericString,
    CaseIgnoreList,
    OctetString,
    TelephoneNumber,
    CaseIgnoreIA5,
    CaseExactIA5,
}

impl SubstrRule {
    /// All supported substrings rules.
    pub const ALL: &'static [SubstrRule] = &[
        SubstrRule::CaseIgnore,
        SubstrRule::CaseExact,
        SubstrRule::NumericString,
        SubstrRule::CaseIgnoreList,
        SubstrRule::OctetString,
        SubstrRule::TelephoneNumber,
        SubstrRule::CaseIgnoreIA5,
        SubstrRule::CaseExactIA5,
    ];

    fn info(self) -> (&'static str, &'static str) {
        use SubstrRule::*;
        match self {
            CaseIgnore => ("2.5.13.4", "caseIgnoreSubstringsMatch"),
            CaseExact => ("2.5.13.7", "caseExactSubstringsMatch"),
            NumericString => ("2.5.13.10", "numericStringSubstringsMatch"),
            CaseIgnoreList => ("2.5.13.12", "caseIgnoreListSubstringsMatch"),
            OctetString => ("2.5.13.19", "octetStringSubstringsMatch"),
            TelephoneNumber => ("2.5.13.21", "telephoneNumberSubstringsMatch"),
            CaseIgnoreIA5 => ("1.3.6.1.4.1.1466.109.114.3", "caseIgnoreIA5SubstringsMatch"),
            CaseExactIA5 => ("1.3.6.1.4.1.4203.1.2.1", "caseExactIA5SubstringsMatch"),
        }
    }

    /// The rule's OID.
    pub fn oid(self) -> &'static str {
        self.info().0
    }

    /// The rule's name.
    pub fn name(self) -> &'static str {
        self.info().1
    }

    /// OID of the assertion syntax (Substring Assertion).
    pub fn syntax_oid(self) -> String {
        full_syntax_oid("58")
    }

    /// Looks a rule up by name (case-insensitive) or OID.
    pub fn from_name_or_oid(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.oid() == s || r.name().eq_ignore_ascii_case(s))
    }

    /// RFC 4512 MatchingRuleDescription.
    pub fn to_rfc4512(self) -> String {
        rule_description(self.oid(), self.name(), &self.syntax_oid())
    }

    /// The normal form used for substring matching and 3-gram index keys. The same function
    /// normalises attribute values and assertion parts. For telephone numbers spaces and hyphens
    /// are removed; for lists (postal addresses) the lines are joined with `$`, which no assertion
    /// part contains, so no part matches across lines.
    pub fn normalize(&self, value: &[u8]) -> Option<Vec<u8>> {
        use SubstrRule::*;
        match self {
            CaseIgnore => utf8(value).map(|s| prepare(s, true).into_bytes()),
            CaseExact => utf8(value).map(|s| prepare(s, false).into_bytes()),
            CaseIgnoreIA5 => ascii(value).map(|s| prepare(s, true).into_bytes()),
            CaseExactIA5 => ascii(value).map(|s| prepare(s, false).into_bytes()),
            TelephoneNumber => normalize_telephone(value),
            NumericString => normalize_numeric_string(value),
            CaseIgnoreList => normalize_list(value),
            OctetString => Some(value.to_vec()),
        }
    }

    /// Substring match of a raw `value` against raw assertion parts. Parts are normalised with
    /// [`SubstrRule::normalize`]; `initial` must be a prefix, `final_` a suffix, and the `any` parts
    /// must occur in order, without overlapping each other, `initial` or `final_`. Parts that
    /// normalise to nothing are ignored. `None` when the value or a part is invalid.
    pub fn matches(
        &self,
        value: &[u8],
        initial: Option<&[u8]>,
        any: &[&[u8]],
        final_: Option<&[u8]>,
    ) -> Option<bool> {
        let v = self.normalize(value)?;
        let initial = match initial {
            Some(p) => Some(self.normalize(p)?),
            None => None,
        };
        let final_ = match final_ {
            Some(p) => Some(self.normalize(p)?),
            None => None,
        };
        let any = any
            .iter()
            .map(|p| self.normalize(p))
            .collect::<Option<Vec<_>>>()?;
        let mut start = 0;
        let mut end = v.len();
        if let Some(i) = initial {
            if !v.starts_with(&i) {
                return Some(false);
            }
            start = i.len();
        }
        if let Some(f) = final_ {
            if f.len() > end - start || !v.ends_with(&f) {
                return Some(false);
            }
            end -= f.len();
        }
        for a in any.iter().filter(|a| !a.is_empty()) {
            match find(&v[start..end], a) {
                Some(idx) => start += idx + a.len(),
                None => return Some(false),
            }
        }
        Some(true)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Approximate matching
// ---------------------------------------------------------------------------------------------

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' | 'ĺ' | 'ļ' => 'l',
        'ñ' | 'ń' | 'ň' | 'ņ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' | 'ŕ' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => c,
    }
}

fn approx_word(word: &str) -> String {
    let mut out = String::new();
    let mut last: Option<char> = None;
    for (i, c) in word.chars().enumerate() {
        let keep = i == 0 || !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'h' | 'w');
        if keep && last != Some(c) {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// Approximate-match key of a value (used for `~=` filters and, if wanted, an approx index).
///
/// Algorithm (a consonant skeleton per word, in the spirit of OpenLDAP's default approx rule):
/// 1. lower-case the value (`char::to_lowercase`) and fold common Latin accents (`é` -> `e`);
/// 2. split it into words at every character that is not alphanumeric;
/// 3. encode each word by keeping its first character and then dropping the vowels
///    `a e i o u y` and the letters `h w`, and collapsing runs of the same character
///    (`"Meier"` -> `"mr"`, `"Mayer"` -> `"mr"`, `"Schmidt"` -> `"scmdt"`, `"Schmitt"` -> `"scmt"`);
/// 4. join the word codes with single spaces.
///
/// Use in filters: `(attr~=value)` on an attribute with an EQUALITY rule evaluates with
/// [`approx_matches`] (RFC 4511 lets a server choose its approximate algorithm); on an attribute
/// without an EQUALITY rule it is Undefined, like an equality filter on such an attribute.
pub fn approx_normalize(value: &str) -> String {
    let lowered: String = value
        .chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .collect();
    lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(approx_word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `true` when every word code of `assertion` (see [`approx_normalize`]) occurs among the word
/// codes of `value`, in the same order. An assertion without words matches nothing.
pub fn approx_matches(value: &str, assertion: &str) -> bool {
    let v = approx_normalize(value);
    let a = approx_normalize(assertion);
    if a.is_empty() {
        return false;
    }
    let mut words = v.split(' ');
    a.split(' ').all(|aw| words.any(|vw| vw == aw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(rule: EqualityRule, v: &str) -> Option<String> {
        rule.normalize(v.as_bytes())
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn lookup_by_name_and_oid() {
        assert_eq!(
            EqualityRule::from_name_or_oid("caseIgnoreMatch"),
            Some(EqualityRule::CaseIgnore)
        );
        assert_eq!(
            EqualityRule::from_name_or_oid("CASEIGNOREMATCH"),
            Some(EqualityRule::CaseIgnore)
        );
        assert_eq!(
            EqualityRule::from_name_or_oid("2.5.13.2"),
            Some(EqualityRule::CaseIgnore)
        );
        assert_eq!(EqualityRule::from_name_or_oid("nope"), None);
        assert_eq!(
            OrderingRule::from_name_or_oid("2.5.13.28"),
            Some(OrderingRule::GeneralizedTime)
        );
        assert_eq!(
            SubstrRule::from_name_or_oid("telephoneNumberSubstringsMatch"),
            Some(SubstrRule::TelephoneNumber)
        );
        for r in EqualityRule::ALL {
            assert_eq!(EqualityRule::from_name_or_oid(r.oid()), Some(*r));
            assert_eq!(EqualityRule::from_name_or_oid(r.name()), Some(*r));
        }
        for r in OrderingRule::ALL {
            assert_eq!(OrderingRule::from_name_or_oid(r.name()), Some(*r));
        }
        for r in SubstrRule::ALL {
            assert_eq!(SubstrRule::from_name_or_oid(r.oid()), Some(*r));
        }
        assert_eq!(
            EqualityRule::CaseIgnore.to_rfc4512(),
            "( 2.5.13.2 NAME 'caseIgnoreMatch' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"
        );
    }

    #[test]
    fn case_ignore() {
        let r = EqualityRule::CaseIgnore;
        assert_eq!(n(r, "  Hello \t  World  ").as_deref(), Some("hello world"));
        assert_eq!(n(r, "ÄÖÜ Straße").as_deref(), Some("äöü straße"));
        assert_eq!(n(r, "a\u{00AD}b\u{200B}c").as_deref(), Some("abc"));
        assert_eq!(r.matches(b"John  SMITH", b" john smith"), Some(true));
        assert_eq!(r.matches(b"John", b"Jon"), Some(false));
        assert_eq!(r.normalize(&[0xff, 0xfe]), None);
        assert_eq!(n(r, "   ").as_deref(), Some(""));
    }

    #[test]
    fn case_exact_and_ia5() {
        assert_eq!(n(EqualityRule::CaseExact, " A  b ").as_deref(), Some("A b"));
        assert_eq!(EqualityRule::CaseExact.matches(b"Ab", b"ab"), Some(false));
        assert_eq!(
            n(EqualityRule::CaseIgnoreIA5, " User@Example.ORG ").as_deref(),
            Some("user@example.org")
        );
        assert_eq!(n(EqualityRule::CaseIgnoreIA5, "müller@example.org"), None);
        assert_eq!(
            n(EqualityRule::CaseExactIA5, "Abc  D").as_deref(),
            Some("Abc D")
        );
        assert_eq!(n(EqualityRule::CaseExactIA5, "é"), None);
    }

    #[test]
    fn telephone() {
        let r = EqualityRule::TelephoneNumber;
        assert_eq!(
            r.matches(b"+49 69 1234-5678", b"+4969 12345678"),
            Some(true)
        );
        assert_eq!(
            r.matches(b"+49 69 1234-5678", b"+49 69 1234-5679"),
            Some(false)
        );
        assert_eq!(
            n(r, "+1 (555) 010-99 X12").as_deref(),
            Some("+1(555)01099x12")
        );
    }

    #[test]
    fn numeric_string() {
        let r = EqualityRule::NumericString;
        assert_eq!(n(r, " 12 34 ").as_deref(), Some("1234"));
        assert_eq!(n(r, "12a"), None);
        let o = OrderingRule::NumericString;
        assert_eq!(o.compare_raw(b"0 12", b"013"), Some(Ordering::Less));
    }

    #[test]
    fn integer() {
        let r = EqualityRule::Integer;
        assert_eq!(n(r, "0042").as_deref(), Some("42"));
        assert_eq!(n(r, "-0").as_deref(), Some("0"));
        assert_eq!(n(r, "-000").as_deref(), Some("0"));
        assert_eq!(n(r, "-017").as_deref(), Some("-17"));
        assert_eq!(n(r, " 5 ").as_deref(), Some("5"));
        assert_eq!(
            n(r, "123456789012345678901234567890").as_deref(),
            Some("123456789012345678901234567890")
        );
        for bad in ["", "-", "1.5", "abc", "+1", "1e3", "--1", "1 2"] {
            assert_eq!(n(r, bad), None, "{bad}");
        }
        let o = OrderingRule::Integer;
        let cmp = |a: &str, b: &str| o.compare_raw(a.as_bytes(), b.as_bytes());
        assert_eq!(cmp("2", "10"), Some(Ordering::Less));
        assert_eq!(cmp("-2", "-10"), Some(Ordering::Greater));
        assert_eq!(cmp("-1", "0"), Some(Ordering::Less));
        assert_eq!(cmp("0", "-0"), Some(Ordering::Equal));
        assert_eq!(
            cmp("99999999999999999999999", "100000000000000000000000"),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp("-99999999999999999999999", "-100000000000000000000000"),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp("7", "x"), None);
        assert_eq!(o.compare(b"", b"1"), None);
    }

    #[test]
    fn boolean() {
        let r = EqualityRule::Boolean;
        assert_eq!(n(r, "true").as_deref(), Some("TRUE"));
        assert_eq!(n(r, "FaLsE").as_deref(), Some("FALSE"));
        assert_eq!(n(r, "yes"), None);
        assert_eq!(n(r, " TRUE"), None);
    }

    #[test]
    fn generalized_time() {
        let r = EqualityRule::GeneralizedTime;
        assert_eq!(
            n(r, "20261231000000Z").as_deref(),
            Some("20261231000000.000000000Z")
        );
        assert_eq!(
            r.matches(b"20261231000000Z", b"20261231010000+0100"),
            Some(true)
        );
        assert_eq!(
            r.matches(b"2026123100Z", b"20261230190000-0500"),
            Some(true)
        );
        assert_eq!(
            r.matches(b"202612310000Z", b"20261231000000.0Z"),
            Some(true)
        );
        assert_eq!(
            n(r, "2026123112.5Z").as_deref(),
            Some("20261231123000.000000000Z")
        );
        assert_eq!(
            n(r, "202612311230,25Z").as_deref(),
            Some("20261231123015.000000000Z")
        );
        assert_eq!(
            n(r, "20261231123015.123456789123Z").as_deref(),
            Some("20261231123015.123456789Z")
        );
        assert_eq!(
            n(r, "20270101003000+01").as_deref(),
            Some("20261231233000.000000000Z")
        );
        assert_eq!(
            n(r, "20240229120000Z").as_deref(),
            Some("20240229120000.000000000Z")
        );
        assert_eq!(
            n(r, "20261231235960Z").as_deref(),
            Some("20270101000000.000000000Z")
        );
        assert_eq!(
            n(r, "19691231230000-0200").as_deref(),
            Some("19700101010000.000000000Z")
        );
        for bad in [
            "20230229120000Z",
            "20261301000000Z",
            "20260001000000Z",
            "20260100000000Z",
            "20260131240000Z",
            "20260131236000Z",
            "20260131235961Z",
            "20260131235959",
            "20260131235959Zx",
            "20260131235959+2400",
            "20260131235959+0160",
            "2026013123.Z",
            "2026",
            "",
            "00000101000000+0100",
            "99991231230000-0100",
            "20261231 000000Z",
        ] {
            assert_eq!(n(r, bad), None, "{bad}");
        }
        let o = OrderingRule::GeneralizedTime;
        assert_eq!(
            o.compare_raw(b"20261231000000Z", b"20261231003000+0100"),
            Some(Ordering::Greater)
        );
        assert_eq!(
            o.compare_raw(b"19991231235959.9Z", b"20000101000000Z"),
            Some(Ordering::Less)
        );
        assert_eq!(
            o.compare_raw(b"20000101000000Z", b"2000010100Z"),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn oid_rules() {
        let r = EqualityRule::ObjectIdentifier;
        assert_eq!(n(r, "Person").as_deref(), Some("person"));
        assert_eq!(n(r, "2.5.6.6").as_deref(), Some("2.5.6.6"));
        assert_eq!(n(r, "2.5.06"), None);
        assert_eq!(n(r, "1person"), None);
        assert_eq!(n(r, ""), None);
        let f = EqualityRule::ObjectIdentifierFirstComponent;
        assert_eq!(
            n(f, "( 2.5.4.3 NAME 'cn' SUP name )").as_deref(),
            Some("2.5.4.3")
        );
        assert_eq!(n(f, "(2.5.4.3)").as_deref(), Some("2.5.4.3"));
        assert_eq!(n(f, "2.5.4.3").as_deref(), Some("2.5.4.3"));
        assert_eq!(n(f, "( "), None);
        let i = EqualityRule::IntegerFirstComponent;
        assert_eq!(n(i, "( 007 NAME 'x' )").as_deref(), Some("7"));
    }

    struct UpperDn;
    impl DnNormalizer for UpperDn {
        fn normalize_dn(&self, dn: &str) -> Option<String> {
            if dn.contains('=') || dn.is_empty() {
                Some(dn.to_uppercase())
            } else {
                None
            }
        }
    }

    #[test]
    fn dn_rules() {
        let r = EqualityRule::DistinguishedName;
        assert_eq!(
            n(r, " CN = Foo , DC=Example,dc=ORG ").as_deref(),
            Some("cn=foo,dc=example,dc=org")
        );
        assert_eq!(n(r, "cn=a\\, b").as_deref(), Some("cn=a\\, b"));
        assert_eq!(n(r, "cn=a\\ ").as_deref(), Some("cn=a\\ "));
        assert_eq!(n(r, "cn=a\\"), None);
        assert_eq!(r.normalize_with(b"cn=x", &UpperDn), Some(b"CN=X".to_vec()));
        assert_eq!(r.normalize_with(b"garbage", &UpperDn), None);
        let u = EqualityRule::UniqueMember;
        assert_eq!(
            u.normalize_with(b"cn=x#'0101'B", &UpperDn),
            Some(b"CN=X#'0101'B".to_vec())
        );
        assert_eq!(
            u.normalize_with(b"cn=a#b", &UpperDn),
            Some(b"CN=A#B".to_vec())
        );
        assert_eq!(u.normalize(b"CN=X, O=Y"), Some(b"cn=x,o=y".to_vec()));
    }

    #[test]
    fn other_rules() {
        assert_eq!(
            EqualityRule::OctetString.matches(b"\x00\xff", b"\x00\xff"),
            Some(true)
        );
        assert_eq!(EqualityRule::OctetString.matches(b"A", b"a"), Some(false));
        assert_eq!(
            EqualityRule::CertificateExact.matches(b"\x30\x82", b"\x30\x82"),
            Some(true)
        );
        assert_eq!(
            n(EqualityRule::BitString, "'0101'B").as_deref(),
            Some("'0101'B")
        );
        assert_eq!(n(EqualityRule::BitString, "'012'B"), None);
        assert_eq!(n(EqualityRule::BitString, "0101"), None);
        assert_eq!(
            n(EqualityRule::Uuid, "597AE2F6-16A6-1027-98F4-ABCDEFABCDEF").as_deref(),
            Some("597ae2f6-16a6-1027-98f4-abcdefabcdef")
        );
        assert_eq!(
            n(EqualityRule::Uuid, "597AE2F6-16A6-1027-98F4-ABCDEFABCDEG"),
            None
        );
        assert_eq!(
            n(EqualityRule::Uuid, "597AE2F616A6-1027-98F4-ABCDEFABCDEF0"),
            None
        );
        assert_eq!(
            n(EqualityRule::CaseIgnoreList, "1 Main  St$ Springfield $US").as_deref(),
            Some("1 main st$springfield$us")
        );
        assert_eq!(
            OrderingRule::Uuid.compare_raw(
                b"00000000-0000-0000-0000-000000000001",
                b"00000000-0000-0000-0000-00000000000A"
            ),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn ordering_strings() {
        let o = OrderingRule::CaseIgnore;
        assert_eq!(o.compare_raw(b"apple", b"Banana"), Some(Ordering::Less));
        assert_eq!(o.compare_raw(b"  APPLE ", b"apple"), Some(Ordering::Equal));
        assert_eq!(
            OrderingRule::CaseExact.compare_raw(b"B", b"a"),
            Some(Ordering::Less)
        );
        assert_eq!(
            OrderingRule::OctetString.compare_raw(b"\x01", b"\x00\xff"),
            Some(Ordering::Greater)
        );
        assert_eq!(o.compare_raw(b"\xff", b"a"), None);
    }

    fn sm(
        rule: SubstrRule,
        v: &str,
        i: Option<&str>,
        any: &[&str],
        f: Option<&str>,
    ) -> Option<bool> {
        let any: Vec<&[u8]> = any.iter().map(|s| s.as_bytes()).collect();
        rule.matches(
            v.as_bytes(),
            i.map(str::as_bytes),
            &any,
            f.map(str::as_bytes),
        )
    }

    #[test]
    fn substrings() {
        let r = SubstrRule::CaseIgnore;
        assert_eq!(sm(r, "John Smith", Some("jo"), &[], None), Some(true));
        assert_eq!(sm(r, "John Smith", None, &[], Some("SMITH")), Some(true));
        assert_eq!(sm(r, "John Smith", None, &["n s"], None), Some(true));
        assert_eq!(sm(r, "John   Smith", None, &["n s"], None), Some(true));
        assert_eq!(
            sm(r, "John Smith", Some("john"), &["smi"], Some("th")),
            Some(true)
        );
        assert_eq!(
            sm(r, "John Smith", None, &["smith", "john"], None),
            Some(false)
        );
        assert_eq!(
            sm(r, "John Smith", None, &["john", "smith"], None),
            Some(true)
        );
        // no overlap between initial and final
        assert_eq!(sm(r, "abab", Some("aba"), &[], Some("bab")), Some(false));
        assert_eq!(sm(r, "ababab", Some("aba"), &[], Some("bab")), Some(true));
        // no overlap between any parts
        assert_eq!(sm(r, "aaa", None, &["aa", "aa"], None), Some(false));
        assert_eq!(sm(r, "aaaa", None, &["aa", "aa"], None), Some(true));
        // any must lie between initial and final
        assert_eq!(sm(r, "abc", Some("a"), &["c"], Some("c")), Some(false));
        assert_eq!(sm(r, "abc", Some("abcd"), &[], None), Some(false));
        assert_eq!(sm(r, "abc", None, &[" "], None), Some(true));
        assert_eq!(sm(r, "Äpfel", Some("ä"), &[], None), Some(true));
        assert_eq!(
            SubstrRule::CaseIgnore.matches(b"\xff", Some(b"a"), &[], None),
            None
        );
        assert_eq!(
            SubstrRule::CaseIgnore.matches(b"abc", Some(b"\xff"), &[], None),
            None
        );

        let t = SubstrRule::TelephoneNumber;
        assert_eq!(
            sm(t, "+49 69 1234 5678", Some("+49691234"), &[], None),
            Some(true)
        );
        assert_eq!(sm(t, "+49 69 1234-5678", None, &["4-56"], None), Some(true));
        assert_eq!(
            sm(t, "+49 69 1234 5678", None, &[], Some("5 6 7 8")),
            Some(true)
        );
        assert_eq!(
            sm(t, "+49 69 1234 5678", Some("+44"), &[], None),
            Some(false)
        );

        let e = SubstrRule::CaseExact;
        assert_eq!(sm(e, "John", Some("jo"), &[], None), Some(false));
        assert_eq!(sm(e, "John", Some("Jo"), &[], None), Some(true));

        let ia5 = SubstrRule::CaseIgnoreIA5;
        assert_eq!(
            sm(ia5, "Security@NIC.example", None, &["@nic."], None),
            Some(true)
        );
        assert_eq!(sm(ia5, "x@example", Some("ü"), &[], None), None);
        assert_eq!(
            sm(SubstrRule::CaseExactIA5, "AbC", None, &["bC"], None),
            Some(true)
        );

        let num = SubstrRule::NumericString;
        assert_eq!(sm(num, "123 456", None, &["34"], None), Some(true));
        assert_eq!(sm(num, "123 456", None, &["x"], None), None);

        let l = SubstrRule::CaseIgnoreList;
        assert_eq!(
            sm(l, "1 Main St$Springfield", None, &["springfield"], None),
            Some(true)
        );
        assert_eq!(
            sm(l, "1 Main St$Springfield", None, &["stspring"], None),
            Some(false)
        );
        assert_eq!(
            sm(
                l,
                "1 Main St$Springfield",
                Some("1 main"),
                &[],
                Some("field")
            ),
            Some(true)
        );

        let o = SubstrRule::OctetString;
        assert_eq!(
            o.matches(b"\x00\x01\x02", None, &[b"\x01"], None),
            Some(true)
        );

        assert_eq!(
            SubstrRule::TelephoneNumber.normalize(b"+49 69-1"),
            Some(b"+49691".to_vec())
        );
    }

    #[test]
    fn approx() {
        assert_eq!(approx_normalize("Meier"), "mr");
        assert_eq!(approx_normalize("Mayer"), "mr");
        assert_eq!(approx_normalize("Schmidt"), "scmdt");
        assert_eq!(approx_normalize("Jean-Luc  Picard"), "jn lc pcrd");
        assert_eq!(approx_normalize("José"), "js");
        assert!(approx_matches("Hans Meier", "maier"));
        assert!(approx_matches("Hans Meier", "Hanns Mayer"));
        assert!(!approx_matches("Hans Meier", "Mayer Hans"));
        assert!(!approx_matches("Hans Meier", "Müller"));
        assert!(!approx_matches("Hans", ""));
        assert!(!approx_matches("Hans", "---"));
    }

    #[test]
    fn naive_dn() {
        let d = NaiveDnNormalizer;
        assert_eq!(d.normalize_dn("").as_deref(), Some(""));
        assert_eq!(
            d.normalize_dn("  UID=Foo + CN=Bar ,DC=x ").as_deref(),
            Some("uid=foo+cn=bar,dc=x")
        );
    }

    /// A small deterministic generator for the property tests below.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
        fn string(&mut self, parts: &[&str], max: u64) -> String {
            (0..self.next() % max).map(|_| self.pick(parts)).collect()
        }
    }

    #[test]
    fn property_normalisation_is_idempotent_and_ignores_what_the_rule_ignores() {
        let mut g = Gen(0x5eed);
        let text = [
            "a", "B", "z", "É", "ß", "ö", "Ж", "中", " ", "  ", "\t", "-", "1", ".", "'",
        ];
        let phone = ["+", "4", "9", " ", "-", "6", "1", "0", "  "];
        for _ in 0..2000 {
            let s = g.string(&text, 12);
            for rule in [EqualityRule::CaseIgnore, EqualityRule::CaseExact] {
                if let Some(n) = rule.normalize(s.as_bytes()) {
                    assert_eq!(
                        rule.normalize(&n).as_deref(),
                        Some(n.as_slice()),
                        "{rule:?} {s:?}"
                    );
                }
            }
            // caseIgnore: case and surrounding / repeated spaces do not matter.
            let variant = format!("  {}  ", s.to_uppercase().replace(' ', "   "));
            let (a, b) = (
                EqualityRule::CaseIgnore.normalize(s.as_bytes()),
                EqualityRule::CaseIgnore.normalize(variant.as_bytes()),
            );
            if a.is_some()
                && s.chars().all(|c| {
                    c.to_uppercase()
                        .flat_map(|u| u.to_lowercase())
                        .eq(c.to_lowercase())
                })
            {
                assert_eq!(a, b, "{s:?} vs {variant:?}");
            }
            let p = g.string(&phone, 16);
            if let Some(n) = EqualityRule::TelephoneNumber.normalize(p.as_bytes()) {
                assert_eq!(
                    EqualityRule::TelephoneNumber.normalize(&n).as_deref(),
                    Some(n.as_slice())
                );
                let spaced: String = p.chars().flat_map(|c| [c, ' ']).collect();
                assert_eq!(
                    EqualityRule::TelephoneNumber
                        .normalize(spaced.as_bytes())
                        .as_deref(),
                    Some(n.as_slice()),
                    "{p:?}"
                );
            }
        }
    }

    #[test]
    fn property_integer_and_time_orderings_agree_with_their_values() {
        let mut g = Gen(42);
        for _ in 0..2000 {
            let (a, b) = (
                (g.next() % 2_000_001) as i64 - 1_000_000,
                (g.next() % 2_000_001) as i64 - 1_000_000,
            );
            let na = EqualityRule::Integer
                .normalize(format!("{a}").as_bytes())
                .unwrap();
            let nb = EqualityRule::Integer
                .normalize(format!("{b}").as_bytes())
                .unwrap();
            assert_eq!(OrderingRule::Integer.compare(&na, &nb), Some(a.cmp(&b)));
            assert_eq!(EqualityRule::Integer.normalize(&na).unwrap(), na);
            // Times: the same instant written with different offsets is equal; order follows time.
            let t = (g.next() % (100 * 365 * 86400)) as i64;
            let u = (g.next() % (100 * 365 * 86400)) as i64;
            let fmt = |secs: i64, off_min: i64| {
                let local = secs + off_min * 60 + 946_684_800; // from 2000-01-01
                let days = local.div_euclid(86400);
                let rem = local.rem_euclid(86400);
                let (y, m, d) = civil_from_days(days);
                let sign = if off_min < 0 { '-' } else { '+' };
                let tz = if off_min == 0 {
                    "Z".to_string()
                } else {
                    format!("{sign}{:02}{:02}", off_min.abs() / 60, off_min.abs() % 60)
                };
                format!(
                    "{y:04}{m:02}{d:02}{:02}{:02}{:02}{tz}",
                    rem / 3600,
                    rem % 3600 / 60,
                    rem % 60
                )
            };
            let off = [0i64, 60, -300, 330, 765][(g.next() % 5) as usize];
            let a1 = EqualityRule::GeneralizedTime
                .normalize(fmt(t, 0).as_bytes())
                .unwrap();
            let a2 = EqualityRule::GeneralizedTime
                .normalize(fmt(t, off).as_bytes())
                .unwrap();
            assert_eq!(a1, a2, "{} vs {}", fmt(t, 0), fmt(t, off));
            let b1 = EqualityRule::GeneralizedTime
                .normalize(fmt(u, 0).as_bytes())
                .unwrap();
            assert_eq!(
                OrderingRule::GeneralizedTime.compare(&a1, &b1),
                Some(t.cmp(&u))
            );
        }
    }
}
