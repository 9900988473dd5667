//! LDAP syntaxes (RFC 4517 and friends): OIDs, descriptions and value validation.

use super::matching::{
    is_bit_string, is_descr, is_numeric_oid, parse_generalized_time, DnNormalizer,
};

/// The LDAP syntaxes this server knows. Values of [`Syntax::Unknown`] are accepted as any bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Syntax {
    AttributeTypeDescription,
    Audio,
    Binary,
    BitString,
    Boolean,
    Certificate,
    CertificateList,
    CertificatePair,
    CountryString,
    Dn,
    DeliveryMethod,
    DirectoryString,
    DitContentRuleDescription,
    DitStructureRuleDescription,
    EnhancedGuide,
    FacsimileTelephoneNumber,
    Fax,
    GeneralizedTime,
    Guide,
    Ia5String,
    Integer,
    Jpeg,
    LdapSyntaxDescription,
    MatchingRuleDescription,
    MatchingRuleUseDescription,
    NameAndOptionalUid,
    NameFormDescription,
    NumericString,
    ObjectClassDescription,
    Oid,
    OtherMailbox,
    OctetString,
    PostalAddress,
    PrintableString,
    SubtreeSpecification,
    SubstringAssertion,
    SupportedAlgorithm,
    TelephoneNumber,
    TeletexTerminalIdentifier,
    TelexNumber,
    UtcTime,
    Uuid,
    CertificateExactAssertion,
    /// A syntax this server does not know; values are not checked.
    Unknown(String),
}

const P: &str = "1.3.6.1.4.1.1466.115.121.1.";

impl Syntax {
    /// All known syntaxes (without `Unknown`), in the order ldapSyntaxes lists them.
    pub fn all() -> Vec<Syntax> {
        use Syntax::*;
        vec![
            AttributeTypeDescription,
            Audio,
            Binary,
            BitString,
            Boolean,
            Certificate,
            CertificateList,
            CertificatePair,
            CountryString,
            Dn,
            DeliveryMethod,
            DirectoryString,
            DitContentRuleDescription,
            DitStructureRuleDescription,
            EnhancedGuide,
            FacsimileTelephoneNumber,
            Fax,
            GeneralizedTime,
            Guide,
            Ia5String,
            Integer,
            Jpeg,
            MatchingRuleDescription,
            MatchingRuleUseDescription,
            NameAndOptionalUid,
            NameFormDescription,
            NumericString,
            ObjectClassDescription,
            Oid,
            OtherMailbox,
            OctetString,
            PostalAddress,
            PrintableString,
            SubtreeSpecification,
            SupportedAlgorithm,
            TelephoneNumber,
            TeletexTerminalIdentifier,
            TelexNumber,
            UtcTime,
            LdapSyntaxDescription,
            SubstringAssertion,
            CertificateExactAssertion,
            Uuid,
        ]
    }

    /// What a valid value looks like, for error messages (empty where the syntax's name says
    /// enough).
    pub fn hint(&self) -> &'static str {
        use Syntax::*;
        match self {
            Boolean => " (Boolean: TRUE or FALSE, in capitals)",
            CountryString => " (Country String: a two-letter ISO 3166 code in capitals, e.g. BR)",
            Integer => " (Integer: a whole number, e.g. 1)",
            GeneralizedTime => " (Generalized Time, e.g. 20261204120000Z)",
            Dn => " (a DN, e.g. cn=x,dc=example)",
            _ => "",
        }
    }

    /// (OID suffix or full OID, description, human readable)
    fn info(&self) -> (&str, &str, bool) {
        use Syntax::*;
        match self {
            AttributeTypeDescription => ("3", "Attribute Type Description", true),
            Audio => ("4", "Audio", false),
            Binary => ("5", "Binary", false),
            BitString => ("6", "Bit String", true),
            Boolean => ("7", "Boolean", true),
            Certificate => ("8", "Certificate", false),
            CertificateList => ("9", "Certificate List", false),
            CertificatePair => ("10", "Certificate Pair", false),
            CountryString => ("11", "Country String", true),
            Dn => ("12", "DN", true),
            DeliveryMethod => ("14", "Delivery Method", true),
            DirectoryString => ("15", "Directory String", true),
            DitContentRuleDescription => ("16", "DIT Content Rule Description", true),
            DitStructureRuleDescription => ("17", "DIT Structure Rule Description", true),
            EnhancedGuide => ("21", "Enhanced Guide", true),
            FacsimileTelephoneNumber => ("22", "Facsimile Telephone Number", true),
            Fax => ("23", "Fax", false),
            GeneralizedTime => ("24", "Generalized Time", true),
            Guide => ("25", "Guide", true),
            Ia5String => ("26", "IA5 String", true),
            Integer => ("27", "INTEGER", true),
            Jpeg => ("28", "JPEG", false),
            MatchingRuleDescription => ("30", "Matching Rule Description", true),
            MatchingRuleUseDescription => ("31", "Matching Rule Use Description", true),
            NameAndOptionalUid => ("34", "Name And Optional UID", true),
            NameFormDescription => ("35", "Name Form Description", true),
            NumericString => ("36", "Numeric String", true),
            ObjectClassDescription => ("37", "Object Class Description", true),
            Oid => ("38", "OID", true),
            OtherMailbox => ("39", "Other Mailbox", true),
            OctetString => ("40", "Octet String", true),
            PostalAddress => ("41", "Postal Address", true),
            PrintableString => ("44", "Printable String", true),
            SubtreeSpecification => ("45", "SubtreeSpecification", true),
            SupportedAlgorithm => ("49", "Supported Algorithm", false),
            TelephoneNumber => ("50", "Telephone Number", true),
            TeletexTerminalIdentifier => ("51", "Teletex Terminal Identifier", true),
            TelexNumber => ("52", "Telex Number", true),
            UtcTime => ("53", "UTC Time", true),
            LdapSyntaxDescription => ("54", "LDAP Syntax Description", true),
            SubstringAssertion => ("58", "Substring Assertion", true),
            CertificateExactAssertion => {
                ("1.3.6.1.1.15.1", "X.509 Certificate Exact Assertion", false)
            }
            Uuid => ("1.3.6.1.1.16.1", "UUID", true),
            Unknown(oid) => (oid.as_str(), "", true),
        }
    }

    /// The syntax OID.
    pub fn oid(&self) -> String {
        let s = self.info().0;
        if s.contains('.') {
            s.to_string()
        } else {
            format!("{P}{s}")
        }
    }

    /// The RFC 4517 description, e.g. `Directory String` (empty for unknown syntaxes).
    pub fn description(&self) -> &str {
        self.info().1
    }

    /// `false` for binary syntaxes (certificates, JPEG, ...): values must be transferred as is
    /// (`;binary`), and clients should not show them as text.
    pub fn is_human_readable(&self) -> bool {
        self.info().2
    }

    /// Looks a syntax up by OID; `None` when unknown.
    pub fn from_oid(oid: &str) -> Option<Syntax> {
        Syntax::all().into_iter().find(|s| s.oid() == oid)
    }

    /// RFC 4512 SyntaxDescription for ldapSyntaxes, e.g.
    /// `( 1.3.6.1.4.1.1466.115.121.1.15 DESC 'Directory String' )`; binary syntaxes carry
    /// `X-NOT-HUMAN-READABLE 'TRUE'`.
    pub fn to_rfc4512(&self) -> String {
        let mut s = format!("( {} DESC '{}'", self.oid(), self.description());
        if !self.is_human_readable() {
            s.push_str(" X-NOT-HUMAN-READABLE 'TRUE'");
        }
        s.push_str(" )");
        s
    }

    /// Validates `value` against the syntax. DNs get a basic shape check; use
    /// [`Syntax::validate_with`] to check them with the real DN parser.
    pub fn validate(&self, value: &[u8]) -> bool {
        self.validate_dn(value, None)
    }

    /// Validates `value`, checking DN-valued syntaxes (DN, Name And Optional UID) with `dn`.
    pub fn validate_with(&self, value: &[u8], dn: &dyn DnNormalizer) -> bool {
        self.validate_dn(value, Some(dn))
    }

    fn validate_dn(&self, value: &[u8], dn: Option<&dyn DnNormalizer>) -> bool {
        use Syntax::*;
        let text = std::str::from_utf8(value).ok();
        let check_dn = |s: &str| match dn {
            Some(d) => d.normalize_dn(s).is_some(),
            None => basic_dn_shape(s),
        };
        match self {
            Audio
            | Binary
            | Certificate
            | CertificateList
            | CertificatePair
            | Fax
            | Jpeg
            | SupportedAlgorithm
            | OctetString
            | CertificateExactAssertion
            | Unknown(_) => true,
            DirectoryString => text.is_some_and(|s| !s.is_empty()),
            Ia5String => value.is_ascii(),
            PrintableString => is_printable(value),
            TelephoneNumber => is_printable(value),
            CountryString => value.len() == 2 && is_printable(value),
            NumericString => {
                !value.is_empty() && value.iter().all(|&b| b.is_ascii_digit() || b == b' ')
            }
            Integer => is_integer(value),
            Boolean => value == b"TRUE" || value == b"FALSE",
            GeneralizedTime => parse_generalized_time(value).is_some(),
            UtcTime => is_utc_time(value),
            Dn => text.is_some_and(check_dn),
            NameAndOptionalUid => text.is_some_and(|s| match s.rfind('#') {
                Some(i) if is_bit_string(&s[i + 1..]) => check_dn(&s[..i]),
                _ => check_dn(s),
            }),
            Oid => text.is_some_and(|s| is_numeric_oid(s) || is_descr(s)),
            BitString => text.is_some_and(is_bit_string),
            PostalAddress => text.is_some_and(is_postal_address),
            FacsimileTelephoneNumber => is_fax_number(value),
            OtherMailbox => is_other_mailbox(value),
            DeliveryMethod => text.is_some_and(is_delivery_method),
            TeletexTerminalIdentifier => is_teletex_id(value),
            TelexNumber => is_telex_number(value),
            EnhancedGuide | Guide => text.is_some_and(|s| !s.trim().is_empty()),
            SubstringAssertion => text.is_some_and(is_substring_assertion),
            Uuid => super::matching::EqualityRule::Uuid
                .normalize(value)
                .is_some(),
            AttributeTypeDescription => {
                text.is_some_and(|s| super::parse::parse_attribute_type(s).is_ok())
            }
            ObjectClassDescription => {
                text.is_some_and(|s| super::parse::parse_object_class(s).is_ok())
            }
            LdapSyntaxDescription
            | MatchingRuleDescription
            | MatchingRuleUseDescription
            | NameFormDescription
            | DitContentRuleDescription
            | DitStructureRuleDescription => text.is_some_and(is_paren_description),
            SubtreeSpecification => text.is_some_and(|s| {
                let t = s.trim();
                t.starts_with('{') && t.ends_with('}')
            }),
        }
    }
}

/// PrintableCharacter of RFC 4517: ALPHA / DIGIT / ' ( ) + , - . = / : ? and space.
pub fn is_printable_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-.=/:?".contains(&b)
}

fn is_printable(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(|&b| is_printable_char(b))
}

fn is_integer(v: &[u8]) -> bool {
    let d = v.strip_prefix(b"-").unwrap_or(v);
    match d {
        [] => false,
        [b'0'] => v.len() == 1,
        [first, rest @ ..] => (b'1'..=b'9').contains(first) && rest.iter().all(u8::is_ascii_digit),
    }
}

fn is_utc_time(v: &[u8]) -> bool {
    fn two(v: &[u8], i: usize) -> Option<u32> {
        let a = *v.get(i)?;
        let b = *v.get(i + 1)?;
        if a.is_ascii_digit() && b.is_ascii_digit() {
            Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
        } else {
            None
        }
    }
    let (Some(_yy), Some(mm), Some(dd), Some(hh), Some(mi)) =
        (two(v, 0), two(v, 2), two(v, 4), two(v, 6), two(v, 8))
    else {
        return false;
    };
    if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) || hh > 23 || mi > 59 {
        return false;
    }
    let mut pos = 10;
    if let Some(ss) = two(v, pos) {
        if ss > 59 {
            return false;
        }
        pos += 2;
    }
    match v.get(pos) {
        Some(b'Z') => pos + 1 == v.len(),
        Some(b'+') | Some(b'-') => match (two(v, pos + 1), two(v, pos + 3)) {
            (Some(h), Some(m)) => h <= 23 && m <= 59 && pos + 5 == v.len(),
            _ => false,
        },
        _ => false,
    }
}

/// Basic DN shape check: empty (root DSE) or RDNs `type=value` separated by unescaped `,`/`+`,
/// with type a descr or numericoid.
pub fn basic_dn_shape(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => return false,
            },
            ',' | '+' | ';' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts.iter().all(|p| match p.split_once('=') {
        Some((t, _)) => {
            let t = t.trim();
            is_descr(t)
                || is_numeric_oid(t)
                || t.strip_prefix("oid.")
                    .or_else(|| t.strip_prefix("OID."))
                    .is_some_and(is_numeric_oid)
        }
        None => false,
    })
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1..i + 3) {
                Some(h) if h.eq_ignore_ascii_case(b"24") || h.eq_ignore_ascii_case(b"5c") => i += 3,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

fn is_postal_address(s: &str) -> bool {
    s.split('$')
        .all(|line| !line.is_empty() && valid_escapes(line))
}

fn is_fax_number(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let mut parts = s.split('$');
    let number = parts.next().unwrap_or("");
    is_printable(number.as_bytes())
        && parts.all(|p| {
            matches!(
                p,
                "twoDimensional"
                    | "fineResolution"
                    | "unlimitedLength"
                    | "b4Length"
                    | "a3Width"
                    | "b4Width"
                    | "uncompressed"
            )
        })
}

fn is_other_mailbox(v: &[u8]) -> bool {
    match v.iter().position(|&b| b == b'$') {
        Some(i) => is_printable(&v[..i]) && v[i + 1..].is_ascii(),
        None => false,
    }
}

fn is_delivery_method(s: &str) -> bool {
    s.split('$').all(|p| {
        matches!(
            p.trim(),
            "any"
                | "mhs"
                | "physical"
                | "telex"
                | "teletex"
                | "g3fax"
                | "g4fax"
                | "ia5"
                | "videotex"
                | "telephone"
        )
    })
}

fn is_teletex_id(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let mut parts = s.split('$');
    let id = parts.next().unwrap_or("");
    is_printable(id.as_bytes())
        && parts.all(|p| match p.split_once(':') {
            Some((k, val)) => {
                matches!(k, "graphic" | "control" | "misc" | "page" | "private")
                    && valid_escapes(val)
            }
            None => false,
        })
}

fn is_telex_number(v: &[u8]) -> bool {
    let parts: Vec<&[u8]> = v.split(|&b| b == b'$').collect();
    parts.len() == 3 && parts.iter().all(|p| is_printable(p))
}

fn is_substring_assertion(s: &str) -> bool {
    s.contains('*') && s.split('*').any(|p| !p.is_empty())
}

fn is_paren_description(s: &str) -> bool {
    let t = s.trim();
    t.len() >= 2 && t.starts_with('(') && t.ends_with(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &Syntax, v: &str) -> bool {
        s.validate(v.as_bytes())
    }

    #[test]
    fn oids_and_descriptions() {
        assert_eq!(
            Syntax::DirectoryString.oid(),
            "1.3.6.1.4.1.1466.115.121.1.15"
        );
        assert_eq!(
            Syntax::from_oid("1.3.6.1.4.1.1466.115.121.1.15"),
            Some(Syntax::DirectoryString)
        );
        assert_eq!(Syntax::from_oid("1.3.6.1.1.16.1"), Some(Syntax::Uuid));
        assert_eq!(Syntax::from_oid("1.2.3"), None);
        assert_eq!(
            Syntax::DirectoryString.to_rfc4512(),
            "( 1.3.6.1.4.1.1466.115.121.1.15 DESC 'Directory String' )"
        );
        assert_eq!(
            Syntax::Certificate.to_rfc4512(),
            "( 1.3.6.1.4.1.1466.115.121.1.8 DESC 'Certificate' X-NOT-HUMAN-READABLE 'TRUE' )"
        );
        let all = Syntax::all();
        for s in &all {
            assert_eq!(Syntax::from_oid(&s.oid()).as_ref(), Some(s));
            assert!(!s.description().is_empty());
        }
        let mut oids: Vec<String> = all.iter().map(Syntax::oid).collect();
        oids.sort();
        oids.dedup();
        assert_eq!(oids.len(), all.len());
        assert_eq!(Syntax::Unknown("1.2.3".into()).oid(), "1.2.3");
    }

    #[test]
    fn strings() {
        assert!(ok(&Syntax::DirectoryString, "Grüße"));
        assert!(!ok(&Syntax::DirectoryString, ""));
        assert!(!Syntax::DirectoryString.validate(&[0xc3]));
        assert!(ok(&Syntax::Ia5String, "user@example.org"));
        assert!(!ok(&Syntax::Ia5String, "ü"));
        assert!(ok(&Syntax::PrintableString, "Abc 1'()+,-./:=?"));
        assert!(!ok(&Syntax::PrintableString, "a@b"));
        assert!(!ok(&Syntax::PrintableString, ""));
        assert!(ok(&Syntax::TelephoneNumber, "+49 69 1234-5678"));
        assert!(!ok(&Syntax::TelephoneNumber, "+49 69 1234*5678"));
        assert!(ok(&Syntax::CountryString, "DE"));
        assert!(!ok(&Syntax::CountryString, "DEU"));
        assert!(!ok(&Syntax::CountryString, "D"));
        assert!(ok(&Syntax::NumericString, "12 34"));
        assert!(!ok(&Syntax::NumericString, "12a"));
        assert!(!ok(&Syntax::NumericString, ""));
    }

    #[test]
    fn numbers_booleans_times() {
        for good in ["0", "-1", "42", "123456789012345678901234567890"] {
            assert!(ok(&Syntax::Integer, good), "{good}");
        }
        for bad in ["", "-", "-0", "007", "+1", "1.0", " 1"] {
            assert!(!ok(&Syntax::Integer, bad), "{bad}");
        }
        assert!(ok(&Syntax::Boolean, "TRUE"));
        assert!(ok(&Syntax::Boolean, "FALSE"));
        assert!(!ok(&Syntax::Boolean, "true"));
        assert!(ok(&Syntax::GeneralizedTime, "20261231235959Z"));
        assert!(ok(&Syntax::GeneralizedTime, "20261231235959.5+0130"));
        assert!(!ok(&Syntax::GeneralizedTime, "20261231235959"));
        assert!(ok(&Syntax::UtcTime, "2612312359Z"));
        assert!(ok(&Syntax::UtcTime, "261231235959+0100"));
        assert!(!ok(&Syntax::UtcTime, "261331235959Z"));
        assert!(!ok(&Syntax::UtcTime, "2612312359"));
        assert!(!ok(&Syntax::UtcTime, "2612312359Z0"));
    }

    struct Strict;
    impl DnNormalizer for Strict {
        fn normalize_dn(&self, dn: &str) -> Option<String> {
            dn.starts_with("cn=").then(|| dn.to_string())
        }
    }

    #[test]
    fn dns_and_oids() {
        assert!(ok(&Syntax::Dn, ""));
        assert!(ok(&Syntax::Dn, "cn=Foo\\, Bar+uid=x,dc=example,dc=org"));
        assert!(ok(&Syntax::Dn, "2.5.4.3=foo"));
        assert!(!ok(&Syntax::Dn, "foo"));
        assert!(!ok(&Syntax::Dn, "cn=foo,"));
        assert!(!ok(&Syntax::Dn, "cn=foo\\"));
        assert!(Syntax::Dn.validate_with(b"cn=x", &Strict));
        assert!(!Syntax::Dn.validate_with(b"uid=x", &Strict));
        assert!(ok(&Syntax::NameAndOptionalUid, "cn=x,o=y#'0101'B"));
        assert!(ok(&Syntax::NameAndOptionalUid, "cn=x,o=y"));
        assert!(!ok(&Syntax::NameAndOptionalUid, "x#'0101'B"));
        assert!(ok(&Syntax::Oid, "2.5.4.3"));
        assert!(ok(&Syntax::Oid, "cn"));
        assert!(!ok(&Syntax::Oid, "2..5"));
        assert!(!ok(&Syntax::Oid, "-cn"));
    }

    #[test]
    fn structured() {
        assert!(ok(&Syntax::BitString, "'0101'B"));
        assert!(ok(&Syntax::BitString, "''B"));
        assert!(!ok(&Syntax::BitString, "'0102'B"));
        assert!(ok(
            &Syntax::PostalAddress,
            "1 Main St$Springfield \\24 Co$US"
        ));
        assert!(!ok(&Syntax::PostalAddress, "1 Main St$$US"));
        assert!(!ok(&Syntax::PostalAddress, "bad \\ escape"));
        assert!(ok(&Syntax::FacsimileTelephoneNumber, "+1 555 0100"));
        assert!(ok(
            &Syntax::FacsimileTelephoneNumber,
            "+1 555 0100$twoDimensional$fineResolution"
        ));
        assert!(!ok(&Syntax::FacsimileTelephoneNumber, "+1 555 0100$colour"));
        assert!(ok(&Syntax::OtherMailbox, "internet$user@example.org"));
        assert!(!ok(&Syntax::OtherMailbox, "internet"));
        assert!(ok(&Syntax::DeliveryMethod, "telephone $ physical"));
        assert!(!ok(&Syntax::DeliveryMethod, "pigeon"));
        assert!(ok(&Syntax::TeletexTerminalIdentifier, "abc$graphic:x"));
        assert!(!ok(&Syntax::TeletexTerminalIdentifier, "abc$foo:x"));
        assert!(ok(&Syntax::TelexNumber, "12345$DE$ANSWER"));
        assert!(!ok(&Syntax::TelexNumber, "12345$DE"));
        assert!(ok(&Syntax::Guide, "person#sn"));
        assert!(!ok(&Syntax::EnhancedGuide, " "));
        assert!(ok(&Syntax::SubstringAssertion, "a*b"));
        assert!(!ok(&Syntax::SubstringAssertion, "*"));
        assert!(!ok(&Syntax::SubstringAssertion, "ab"));
        assert!(ok(&Syntax::Uuid, "597ae2f6-16a6-1027-98f4-abcdefabcdef"));
        assert!(!ok(&Syntax::Uuid, "597ae2f6"));
        assert!(ok(
            &Syntax::AttributeTypeDescription,
            "( 2.5.4.3 NAME 'cn' SUP name )"
        ));
        assert!(!ok(
            &Syntax::AttributeTypeDescription,
            "( 2.5.4.3 NAME cn )"
        ));
        assert!(ok(
            &Syntax::ObjectClassDescription,
            "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )"
        ));
        assert!(ok(
            &Syntax::MatchingRuleDescription,
            "( 2.5.13.2 NAME 'caseIgnoreMatch' )"
        ));
        assert!(!ok(&Syntax::LdapSyntaxDescription, "1.2.3"));
        assert!(ok(&Syntax::SubtreeSpecification, "{ base \"ou=x\" }"));
    }

    #[test]
    fn binary_accepts_anything() {
        for s in [
            Syntax::Certificate,
            Syntax::CertificateList,
            Syntax::CertificatePair,
            Syntax::Jpeg,
            Syntax::Audio,
            Syntax::Binary,
            Syntax::Fax,
            Syntax::OctetString,
            Syntax::SupportedAlgorithm,
            Syntax::Unknown("1.2.3.4".into()),
        ] {
            assert!(s.validate(&[0, 0xff, 0x80]));
            assert!(s.validate(b""));
        }
    }
}
