//! The roster mail as MIME, written by hand because the signature covers exact bytes: a
//! multipart/mixed entity (the text and the attachments, every line CRLF and 7-bit, base64
//! where needed), wrapped per RFC 3156 in multipart/signed (section 5) and, when the recipient
//! has a key, that signed entity in multipart/encrypted (section 6.1: signed, then encrypted).

use base64::Engine;

/// One attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    /// `text/html`, `text/vcard`, `text/csv` (UTF-8).
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// A fresh MIME boundary (cannot occur in base64 or in the text, which has no "=_").
fn boundary(kind: &str) -> String {
    format!("=_ccdir-{kind}-{}", uuid::Uuid::new_v4().simple())
}

/// base64 in lines of 76 characters, each ending in CRLF.
fn base64_lines(data: &[u8]) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(data);
    let mut o = String::with_capacity(b.len() + b.len() / 38 + 2);
    for chunk in b.as_bytes().chunks(76) {
        o.push_str(&String::from_utf8_lossy(chunk));
        o.push_str("\r\n");
    }
    o
}

/// Text with CRLF line ends.
fn crlf(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + s.len() / 40);
    for l in s.lines() {
        o.push_str(l);
        o.push_str("\r\n");
    }
    o
}

/// A file name as a quoted MIME parameter value (only the characters the roster's names use).
fn param(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect()
}

/// The multipart/mixed entity (headers and body): the text, then the attachments.
pub fn mixed(text: &str, attachments: &[Attachment]) -> String {
    let b = boundary("mixed");
    let mut o = format!("Content-Type: multipart/mixed;\r\n boundary=\"{b}\"\r\n\r\n");
    o.push_str(&format!("--{b}\r\n"));
    // 7-bit only when the text is ASCII with lines well within SMTP's limit, no trailing white
    // space (which a mail server may strip, breaking the signature) and no line a mailbox
    // would quote ("From "); base64 otherwise.
    let plain = text.is_ascii()
        && text
            .lines()
            .all(|l| l.len() <= 200 && !l.ends_with([' ', '\t']) && !l.starts_with("From "));
    if plain {
        o.push_str(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
        );
        o.push_str(&crlf(text));
    } else {
        o.push_str(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        );
        o.push_str(&base64_lines(crlf(text).as_bytes()));
    }
    for a in attachments {
        let n = param(&a.name);
        o.push_str(&format!(
            "--{b}\r\nContent-Type: {}; charset=utf-8; name=\"{n}\"\r\n\
             Content-Disposition: attachment; filename=\"{n}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n",
            a.content_type
        ));
        o.push_str(&base64_lines(&a.data));
    }
    o.push_str(&format!("--{b}--\r\n"));
    o
}

/// multipart/signed (RFC 3156 5) of `entity` with its armoured detached `signature` (SHA-256),
/// headers and body. The signed bytes are exactly `entity`.
pub fn signed(entity: &str, signature: &str) -> String {
    let b = boundary("signed");
    format!(
        "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n \
         protocol=\"application/pgp-signature\";\r\n boundary=\"{b}\"\r\n\r\n\
         This is an OpenPGP/MIME signed message (RFC 3156).\r\n\
         --{b}\r\n{entity}\r\n--{b}\r\n\
         Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\
         Content-Description: OpenPGP digital signature\r\n\
         Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n\
         {}\r\n--{b}--\r\n",
        crlf(signature).trim_end()
    )
}

/// multipart/encrypted (RFC 3156 4) around the armoured `encrypted` message.
pub fn encrypted(encrypted: &str) -> String {
    let b = boundary("encrypted");
    format!(
        "Content-Type: multipart/encrypted;\r\n \
         protocol=\"application/pgp-encrypted\";\r\n boundary=\"{b}\"\r\n\r\n\
         This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n\
         --{b}\r\n\
         Content-Type: application/pgp-encrypted\r\n\
         Content-Description: PGP/MIME version identification\r\n\r\n\
         Version: 1\r\n\r\n\
         --{b}\r\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
         Content-Description: OpenPGP encrypted message\r\n\
         Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n\
         {}\r\n--{b}--\r\n",
        crlf(encrypted).trim_end()
    )
}

/// A header value: as is when ASCII, else an RFC 2047 encoded word (UTF-8, base64).
fn header_text(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        format!(
            "=?utf-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }
}

/// The whole message: the top-level headers, then `entity` (which starts with its own
/// Content-Type header).
pub fn message(
    from: &str,
    to: &[String],
    subject: &str,
    at: time::OffsetDateTime,
    entity: &str,
) -> String {
    let date = at
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let domain = from.rsplit('@').next().unwrap_or("localhost");
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {date}\r\n\
         Message-ID: <{}@{domain}>\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n{entity}",
        to.join(",\r\n "),
        header_text(subject),
        uuid::Uuid::new_v4().simple(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
        let i = s.find(from).unwrap() + from.len();
        let j = s[i..].find(to).unwrap() + i;
        &s[i..j]
    }

    #[test]
    fn the_signed_part_is_the_entity_exactly_and_everything_is_crlf_7bit() {
        let text = "Dear team,\n\nthe roster.\n";
        let att = [Attachment {
            name: "roster.vcf".into(),
            content_type: "text/vcard",
            data: "BEGIN:VCARD\r\nFN:Zoë\r\nEND:VCARD\r\n".as_bytes().to_vec(),
        }];
        let entity = mixed(text, &att);
        assert!(entity.starts_with("Content-Type: multipart/mixed;\r\n boundary=\"=_ccdir-mixed-"));
        assert!(entity.contains(
            "Content-Transfer-Encoding: 7bit\r\n\r\nDear team,\r\n\r\nthe roster.\r\n--"
        ));
        assert!(entity.contains(
            "Content-Type: text/vcard; charset=utf-8; name=\"roster.vcf\"\r\n\
             Content-Disposition: attachment; filename=\"roster.vcf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        ));
        let s = signed(
            &entity,
            "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n",
        );
        let b = between(&s, "boundary=\"", "\"");
        let part = between(&s, &format!("--{b}\r\n"), &format!("\r\n--{b}\r\n"));
        assert_eq!(part, entity);
        assert!(s.ends_with(&format!("-----END PGP SIGNATURE-----\r\n--{b}--\r\n")));
        let m = message(
            "roster@example.org",
            &["a@x.example".into(), "b@x.example".into()],
            "[ccdir] roster .рф",
            time::macros::datetime!(2027-01-01 08:00 UTC),
            &s,
        );
        assert!(m.starts_with(
            "From: roster@example.org\r\nTo: a@x.example,\r\n b@x.example\r\n\
             Subject: =?utf-8?B?"
        ));
        assert!(
            m.contains("\r\nDate: Fri, 01 Jan 2027 08:00:00 +0000\r\n"),
            "{m}"
        );
        assert!(m.contains("\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\nContent-Type: multipart/signed; micalg=pgp-sha256;\r\n protocol=\"application/pgp-signature\""));
        assert!(m.is_ascii());
        assert!(!m.replace("\r\n", "").contains('\n'));
        assert!(m.split("\r\n").all(|l| l.len() <= 78), "{m}");
        // Non-ASCII text goes as base64.
        assert!(
            mixed("Zoë\n", &[]).contains("Content-Transfer-Encoding: base64\r\n\r\nWm/Dqw0K\r\n")
        );
        let e = encrypted("-----BEGIN PGP MESSAGE-----\n\nxyz\n-----END PGP MESSAGE-----\n");
        assert!(e.starts_with(
            "Content-Type: multipart/encrypted;\r\n protocol=\"application/pgp-encrypted\""
        ));
        assert!(e.contains("Content-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n"));
    }
}
