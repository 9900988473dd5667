//! The content checks of the write pipeline: values that the schema's syntaxes accept but that
//! would not reach anybody at 3 a.m. (`telephoneNumber: call me maybe`, `cctldTimeZone:
//! Mars/Olympus`). Each rule names the attribute, the value and what is expected; a value that
//! breaks one is a constraintViolation (19).
//!
//! Written with maintained crates where they exist: phone numbers with `phonenumber` (Google's
//! libphonenumber metadata), time zones with `jiff` (the system's IANA database), language
//! tags with `oxilangtag` (BCP 47), mail addresses with `email_address` (RFC 5322 addr-spec),
//! URIs with `url`. The business-hours grammar is ccdir's own (docs/schema.md).

use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::service::config::Checks;

/// The controlled words of `cctldContactRole` (SCHEMA.md); a configuration may add more.
pub(crate) const ROLES: &[&str] = &[
    "security",
    "technical",
    "administrative",
    "management",
    "emergency",
];

/// Longest phone number text looked at (E.164 has at most 15 digits; spaces, dashes and an
/// extension need some more).
const MAX_PHONE: usize = 64;

/// What a value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Phone,
    Fax,
    TimeZone,
    Language,
    Mail,
    MessengerUri,
    KeyUri,
    Fingerprint,
    BusinessHours,
    Role,
}

/// The attributes with a content rule (lower-case names).
const RULES: &[(&str, Rule)] = &[
    ("telephonenumber", Rule::Phone),
    ("cctldemergencytelephonenumber", Rule::Phone),
    ("mobile", Rule::Phone),
    ("facsimiletelephonenumber", Rule::Fax),
    ("cctldtimezone", Rule::TimeZone),
    ("cctldlanguage", Rule::Language),
    ("preferredlanguage", Rule::Language),
    ("mail", Rule::Mail),
    ("cctldmessengeruri", Rule::MessengerUri),
    ("cctldkeyuri", Rule::KeyUri),
    ("cctldopenpgpfingerprint", Rule::Fingerprint),
    ("cctldbusinesshours", Rule::BusinessHours),
    ("cctldcontactrole", Rule::Role),
];

fn rule_of(attr: &str) -> Option<Rule> {
    let base = attr.split(';').next().unwrap_or(attr);
    RULES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(base))
        .map(|(_, r)| *r)
}

/// The content rules, with what the configuration adds (`[checks]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContentRules<'a> {
    checks: &'a Checks,
}

impl<'a> ContentRules<'a> {
    pub(crate) fn new(checks: &'a Checks) -> Self {
        ContentRules { checks }
    }

    /// Check the values of the attributes `names` (all of them when None) of an entry; the
    /// error names every value that breaks a rule (so an import lists them all at once).
    pub(crate) fn check(&self, e: &Entry, names: Option<&[String]>) -> Result<(), LdapError> {
        let wanted = |attr: &str| {
            names.is_none_or(|names| {
                let base = attr.split(';').next().unwrap_or(attr);
                names
                    .iter()
                    .any(|n| n.split(';').next().unwrap_or(n).eq_ignore_ascii_case(base))
            })
        };
        let failures = self.failures_where(e, &wanted);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(LdapError::constraint(failures.join("; ")))
        }
    }

    /// Every value of the entry that breaks a rule, each as `attr: value #i 'v' why` (for
    /// `ccdir check`, which lists them all).
    pub(crate) fn failures(&self, e: &Entry) -> Vec<String> {
        self.failures_where(e, &|_| true)
    }

    fn failures_where(&self, e: &Entry, wanted: &dyn Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        for a in &e.attrs {
            let Some(rule) = rule_of(&a.name) else {
                continue;
            };
            if !wanted(&a.name) {
                continue;
            }
            for (i, v) in a.values.iter().enumerate() {
                if let Err(why) = self.value(rule, v) {
                    out.push(format!("{}: value #{i} '{}' {why}", a.name, shown(v)));
                }
            }
        }
        out
    }

    /// Why `v` breaks `rule`, if it does.
    fn value(&self, rule: Rule, v: &[u8]) -> Result<(), String> {
        let text = std::str::from_utf8(v).map_err(|_| "is not UTF-8 text".to_string())?;
        match rule {
            Rule::Phone => phone(text),
            // Facsimile Telephone Number: the number, then `$`-separated parameters.
            Rule::Fax => phone(text.split('$').next().unwrap_or("")),
            Rule::TimeZone => time_zone(text),
            Rule::Language => language(text),
            Rule::Mail => mail(text),
            Rule::MessengerUri => {
                // A URI, optionally followed by a space and a label.
                let uri = text.split(' ').next().unwrap_or("");
                uri_with_scheme(uri, &self.checks.messenger_schemes)
            }
            Rule::KeyUri => uri_with_scheme(text, &self.checks.key_uri_schemes),
            Rule::Fingerprint => fingerprint(text),
            Rule::BusinessHours => business_hours(text),
            Rule::Role => {
                let extra = &self.checks.extra_roles;
                let known = ROLES.iter().any(|r| r.eq_ignore_ascii_case(text))
                    || extra.iter().any(|r| r.eq_ignore_ascii_case(text));
                if known {
                    Ok(())
                } else {
                    let all: Vec<&str> = ROLES
                        .iter()
                        .copied()
                        .chain(extra.iter().map(String::as_str))
                        .collect();
                    Err(format!(
                        "is not a contact role (one of: {})",
                        all.join(", ")
                    ))
                }
            }
        }
    }
}

/// A value as it may appear in a message: printable, at most 64 characters.
fn shown(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(64)
        .collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

fn phone(text: &str) -> Result<(), String> {
    const WANT: &str =
        "is not a valid international telephone number (E.164: +, country code, number; e.g. +49 69 1234 5678)";
    let t = text.trim();
    // Only what a dialled number is written with; the parser never sees anything else.
    let ok_chars = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.' | '/'));
    if !t.starts_with('+') || !ok_chars || t.len() > MAX_PHONE {
        return Err(WANT.into());
    }
    // The parser is third-party code on client input: a panic in it must not take the
    // operation's thread with it.
    let owned = t.to_string();
    let valid = std::panic::catch_unwind(move || {
        phonenumber::parse(None, owned)
            .map(|n| phonenumber::is_valid(&n))
            .unwrap_or(false)
    })
    .unwrap_or(false);
    if valid {
        Ok(())
    } else {
        Err(WANT.into())
    }
}

fn time_zone(text: &str) -> Result<(), String> {
    // IANA names: Area/Location, letters, digits, `_`, `-`, `+`; no path tricks.
    let plausible = !text.is_empty()
        && text.len() <= 64
        && !text.contains("..")
        && !text.starts_with('/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if plausible && jiff::tz::TimeZone::get(text).is_ok() {
        Ok(())
    } else {
        Err("is not an IANA time zone name (e.g. Europe/Berlin, America/Sao_Paulo)".into())
    }
}

fn language(text: &str) -> Result<(), String> {
    match oxilangtag::LanguageTag::parse(text) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "is not a BCP 47 language tag (e.g. en, pt-BR): {e}"
        )),
    }
}

fn mail(text: &str) -> Result<(), String> {
    if email_address::EmailAddress::is_valid(text) && !text.contains(['<', '>', ' ']) {
        Ok(())
    } else {
        Err("is not a mail address (RFC 5322 addr-spec: local-part@domain)".into())
    }
}

fn uri_with_scheme(text: &str, schemes: &[String]) -> Result<(), String> {
    let allowed = || schemes.join(", ");
    let Ok(u) = url::Url::parse(text) else {
        return Err(format!(
            "is not a URI (one with a scheme: {}; e.g. xmpp:team@nic.example)",
            allowed()
        ));
    };
    if schemes.iter().any(|s| s.eq_ignore_ascii_case(u.scheme())) {
        Ok(())
    } else {
        Err(format!(
            "has the scheme '{}', not one of: {}",
            u.scheme(),
            allowed()
        ))
    }
}

fn fingerprint(text: &str) -> Result<(), String> {
    let hex: String = text.chars().filter(|c| *c != ' ').collect();
    if (hex.len() == 40 || hex.len() == 64) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(
            "is not an OpenPGP fingerprint (40 or 64 hex digits, spaces between groups allowed)"
                .into(),
        )
    }
}

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// `DAYS HH:MM-HH:MM`: DAYS is a day (`Mo` .. `Su`), a range (`Mo-Fr`) or a comma list of
/// those (`Mo-Th,Sa`); the end may be 24:00. Several schedules are several values.
fn business_hours(text: &str) -> Result<(), String> {
    const WANT: &str =
        "is not business hours of the form 'Mo-Fr 08:00-17:00' (days Mo..Su, ranges and lists, HH:MM-HH:MM)";
    let parse = || -> Option<()> {
        let (days, span) = text.split_once(' ')?;
        for part in days.split(',') {
            let mut ends = part.split('-');
            let first = ends.next()?;
            let last = ends.next();
            if ends.next().is_some() || !DAYS.contains(&first) {
                return None;
            }
            if let Some(l) = last {
                if !DAYS.contains(&l) {
                    return None;
                }
            }
        }
        let (from, to) = span.split_once('-')?;
        let (f, t) = (minutes(from)?, minutes(to)?);
        (f < 24 * 60 && t <= 24 * 60 && f != t).then_some(())
    };
    parse().ok_or_else(|| WANT.to_string())
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ContentRules<'static> {
        static C: std::sync::OnceLock<Checks> = std::sync::OnceLock::new();
        ContentRules::new(C.get_or_init(Checks::default))
    }

    fn ok(rule: Rule, v: &str) -> bool {
        rules().value(rule, v.as_bytes()).is_ok()
    }

    #[test]
    fn phones() {
        assert!(ok(Rule::Phone, "+49 69 1234 5678"));
        assert!(ok(Rule::Phone, "+1 202 555 0123"));
        assert!(ok(Rule::Phone, "+44 20 7946 0123"));
        assert!(!ok(Rule::Phone, "call me maybe"));
        assert!(!ok(Rule::Phone, "069 1234 5678"), "no country code");
        assert!(!ok(Rule::Phone, "+49 1"));
        assert!(!ok(Rule::Phone, "+999 555 0101"), "no such country code");
        assert!(!ok(Rule::Phone, &format!("+{}", "1".repeat(200))));
        assert!(ok(Rule::Fax, "+49 69 1234 5678$fineResolution"));
        assert!(!ok(Rule::Fax, "$fineResolution"));
    }

    #[test]
    fn time_zones_languages_mail() {
        assert!(ok(Rule::TimeZone, "America/Sao_Paulo"));
        assert!(ok(Rule::TimeZone, "UTC"));
        assert!(!ok(Rule::TimeZone, "Mars/Olympus"));
        assert!(!ok(Rule::TimeZone, "../../etc/passwd"));
        assert!(!ok(Rule::TimeZone, ""));
        assert!(ok(Rule::Language, "pt-BR"));
        assert!(ok(Rule::Language, "en"));
        assert!(ok(Rule::Language, "sr-Latn"));
        assert!(!ok(Rule::Language, "not a language!!"));
        assert!(ok(Rule::Mail, "security@nic-br.example"));
        assert!(!ok(Rule::Mail, "not-an-email"));
        assert!(!ok(Rule::Mail, "Team <security@nic-br.example>"));
    }

    #[test]
    fn uris_fingerprints_hours_roles() {
        assert!(ok(
            Rule::MessengerUri,
            "xmpp:ir@nic-ac.example IR team chat"
        ));
        assert!(ok(Rule::MessengerUri, "matrix:r/ir:nic.example"));
        assert!(!ok(Rule::MessengerUri, "just text"));
        assert!(!ok(Rule::MessengerUri, "javascript:alert(1)"));
        assert!(ok(Rule::KeyUri, "https://nic.example/keys/ir.asc"));
        assert!(!ok(Rule::KeyUri, "ftp://nic.example/k.asc"));
        assert!(ok(
            Rule::Fingerprint,
            "0123456789ABCDEF0123456789abcdef01234567"
        ));
        assert!(ok(
            Rule::Fingerprint,
            "0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567"
        ));
        assert!(ok(Rule::Fingerprint, &"a".repeat(64)));
        assert!(!ok(Rule::Fingerprint, "xyz"));
        assert!(!ok(Rule::Fingerprint, &"a".repeat(41)));
        assert!(ok(Rule::BusinessHours, "Mo-Fr 08:00-17:00"));
        assert!(ok(Rule::BusinessHours, "Mo-Th,Sa 09:30-24:00"));
        assert!(ok(Rule::BusinessHours, "Su 22:00-06:00"), "across midnight");
        assert!(!ok(Rule::BusinessHours, "weekdays 9 to 5"));
        assert!(!ok(Rule::BusinessHours, "Mo-Fr 08:00-25:00"));
        assert!(!ok(Rule::BusinessHours, "Mo-Fr-Sa 08:00-17:00"));
        assert!(ok(Rule::Role, "security"));
        assert!(ok(Rule::Role, "Emergency"));
        assert!(!ok(Rule::Role, "janitor"));
        let c = Checks {
            extra_roles: vec!["Legal".into()],
            ..Checks::default()
        };
        assert!(ContentRules::new(&c).value(Rule::Role, b"legal").is_ok());
    }

    #[test]
    fn an_entry_is_checked_attribute_by_attribute_with_the_value_in_the_message() {
        let mut e = Entry::new("cn=x");
        e.set("cn", vec![b"x".to_vec()]);
        e.set(
            "telephoneNumber",
            vec![b"+49 69 1234 5678".to_vec(), b"call me maybe".to_vec()],
        );
        e.set("cctldTimeZone", vec![b"Mars/Olympus".to_vec()]);
        let err = rules().check(&e, None).unwrap_err();
        assert_eq!(
            err.code,
            ldap3_proto::proto::LdapResultCode::ConstraintViolation
        );
        assert!(
            err.message
                .starts_with("telephoneNumber: value #1 'call me maybe' is not a valid"),
            "{}",
            err.message
        );
        // Every bad value is named.
        assert!(err.message.contains("Mars/Olympus"), "{}", err.message);
        // Only the named attributes (a modify of the time zone only).
        let err = rules()
            .check(&e, Some(&["cctldTimeZone".to_string()]))
            .unwrap_err();
        assert!(err.message.contains("Mars/Olympus"), "{}", err.message);
        assert!(rules().check(&e, Some(&["cn".to_string()])).is_ok());
    }
}
