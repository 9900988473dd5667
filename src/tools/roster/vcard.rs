//! The roster as vCard 4.0 (RFC 6350): one card per contact, for phones and address books.
//!
//! Teams are `KIND:org`, people `KIND:individual`. Phone numbers are `tel:` URIs (RFC 3966);
//! the emergency number is the preferred voice number; messenger URIs are `IMPP`; the key URI is
//! `KEY`; what vCard has no property for (24/7, business hours in local time and UTC, other
//! telecom facilities, OpenPGP fingerprints, substitute) is in `NOTE`. Lines are folded at 75
//! octets and end in CRLF.

use super::{fingerprint_text, name_of, tz, Registry, Roster};
use crate::core::clock::generalized_time;
use crate::core::entry::Entry;
use crate::tools::offline::{all as values, first};
use time::OffsetDateTime;

/// Escape a text value (RFC 6350 3.4): backslash, comma, semicolon, newline.
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ',' => o.push_str("\\,"),
            ';' => o.push_str("\\;"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Fold a content line at 75 octets without splitting a UTF-8 character; CRLF at the end.
pub(crate) fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut len = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if len + n > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += n;
    }
    out.push_str("\r\n");
    out
}

/// A telephone number as a `tel:` URI: `+49 69 1234` -> `tel:+49-69-1234`.
pub(crate) fn tel_uri(n: &str) -> String {
    let mut o = String::from("tel:");
    let mut sep = false;
    for c in n.trim().chars() {
        if c.is_ascii_digit() || c == '+' || c == '*' || c == '#' {
            if sep && o.len() > 4 {
                o.push('-');
            }
            sep = false;
            o.push(c);
        } else if c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' {
            sep = true;
        }
    }
    o
}

fn push(out: &mut String, line: String) {
    out.push_str(&fold(&line));
}

/// The card of one contact.
pub(crate) fn card(r: &Roster, g: &Registry, e: &Entry, at: OffsetDateTime) -> String {
    let mut o = String::new();
    push(&mut o, "BEGIN:VCARD".into());
    push(&mut o, "VERSION:4.0".into());
    let team = e.has_object_class("organizationalRole");
    push(
        &mut o,
        format!("KIND:{}", if team { "org" } else { "individual" }),
    );
    let uuid = first(e, "entryUUID");
    if !uuid.is_empty() {
        push(&mut o, format!("UID:urn:uuid:{uuid}"));
    }
    let fn_ = if team && !name_of(e).contains(&format!(".{}", g.domain)) {
        format!("{} {}", name_of(e), g.label())
    } else {
        name_of(e)
    };
    push(&mut o, format!("FN:{}", escape(&fn_)));
    if !team {
        let sn = first(e, "sn");
        let given = first(e, "givenName");
        push(&mut o, format!("N:{};{};;;", escape(&sn), escape(&given)));
    }
    let org = first(&g.entry, "o");
    if !org.is_empty() {
        push(&mut o, format!("ORG:{}", escape(&org)));
    }
    let title = first(e, "title");
    if !title.is_empty() {
        push(&mut o, format!("TITLE:{}", escape(&title)));
    }
    let roles = values(e, "cctldContactRole");
    if !roles.is_empty() {
        push(&mut o, format!("ROLE:{}", escape(&roles.join(" "))));
    }
    for m in values(e, "mail") {
        push(&mut o, format!("EMAIL;TYPE=work:{}", escape(&m)));
    }
    for t in values(e, "cctldEmergencyTelephoneNumber") {
        push(
            &mut o,
            format!(
                "TEL;VALUE=uri;PREF=1;TYPE=\"voice,x-emergency\":{}",
                tel_uri(&t)
            ),
        );
    }
    for t in values(e, "telephoneNumber") {
        push(
            &mut o,
            format!("TEL;VALUE=uri;TYPE=\"voice,work\":{}", tel_uri(&t)),
        );
    }
    for t in values(e, "mobile") {
        push(
            &mut o,
            format!("TEL;VALUE=uri;TYPE=\"cell,voice\":{}", tel_uri(&t)),
        );
    }
    for t in values(e, "facsimileTelephoneNumber") {
        push(&mut o, format!("TEL;VALUE=uri;TYPE=fax:{}", tel_uri(&t)));
    }
    for m in values(e, "cctldMessengerURI") {
        let uri = m.split_whitespace().next().unwrap_or_default();
        if !uri.is_empty() {
            push(&mut o, format!("IMPP:{uri}"));
        }
    }
    let zone = first(e, "cctldTimeZone");
    if !zone.is_empty() {
        push(&mut o, format!("TZ:{}", escape(&zone)));
    }
    for (i, l) in values(e, "cctldLanguage").iter().enumerate() {
        push(&mut o, format!("LANG;PREF={}:{}", i + 1, escape(l)));
    }
    for k in values(e, "cctldKeyURI") {
        push(&mut o, format!("KEY;MEDIATYPE=application/pgp-keys:{k}"));
    }
    for s in values(e, "cctldSubstitute") {
        push(
            &mut o,
            format!(
                "RELATED;TYPE=co-worker;VALUE=text:{}",
                escape(&r.name_for(&s))
            ),
        );
    }
    let mut note: Vec<String> = Vec::new();
    let fresh = super::freshness_text(e, at);
    if !fresh.is_empty() {
        note.push(fresh);
    }
    match first(e, "cctldAvailable247").as_str() {
        "TRUE" => note.push("available 24/7".into()),
        "FALSE" => note.push("not available 24/7".into()),
        _ => {}
    }
    let hours = first(e, "cctldBusinessHours");
    if !hours.is_empty() {
        let utc = tz::offset_at(&zone, at).and_then(|(off, _)| tz::hours_in_utc(&hours, off));
        note.push(match utc {
            Some(u) => format!("business hours {hours} {zone} = {u}"),
            None => format!("business hours {hours} {zone}"),
        });
    }
    for t in values(e, "cctldOtherTelecom") {
        note.push(format!("other telecom: {t}"));
    }
    for f in values(e, "cctldOpenPGPFingerprint") {
        note.push(format!("OpenPGP {}", fingerprint_text(&f)));
    }
    for s in values(e, "cctldSubstitute") {
        note.push(format!("substitute: {}", r.name_for(&s)));
    }
    if !note.is_empty() {
        push(&mut o, format!("NOTE:{}", escape(&note.join("\n"))));
    }
    let mut cats = vec![format!("ccTLD {}", g.label())];
    cats.extend(g.regions.iter().filter(|x| *x != super::NO_REGION).cloned());
    push(
        &mut o,
        format!(
            "CATEGORIES:{}",
            cats.iter().map(|c| escape(c)).collect::<Vec<_>>().join(",")
        ),
    );
    let rev = first(e, "modifyTimestamp");
    let rev = if rev.is_empty() {
        generalized_time(at)
    } else {
        rev
    };
    // vCard timestamps: 20261123T101500Z.
    if rev.len() >= 15 {
        push(&mut o, format!("REV:{}T{}Z", &rev[0..8], &rev[8..14]));
    }
    push(&mut o, "END:VCARD".into());
    o
}

/// Every contact of the roster, teams first within each ccTLD.
pub fn all(r: &Roster, at: OffsetDateTime) -> String {
    let mut o = String::new();
    for g in &r.registries {
        for e in g.contacts() {
            o.push_str(&card(r, g, e, at));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_lines() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(tel_uri("+49 69 1234 5678"), "tel:+49-69-1234-5678");
        assert_eq!(tel_uri("+1 (202) 555-0100"), "tel:+1-202-555-0100");
        let long = format!("NOTE:{}", "é".repeat(60));
        let f = fold(&long);
        for l in f.split("\r\n") {
            assert!(l.len() <= 75, "{}", l.len());
        }
        assert_eq!(f.replace("\r\n ", ""), format!("{long}\r\n"));
    }
}
