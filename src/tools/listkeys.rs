//! `ccdir list-keys <list>`: the OpenPGP keys and S/MIME certificates of every current
//! recipient of a secure list, so that a member can encrypt one message to all of them
//! (docs/operations/mailing-list.md, "Encrypting to the list").
//!
//! The recipients are found as Postfix finds them (contrib/postfix/ccdir-lists.cf): the group
//! `cn=<list>,ou=groups` (only `members` and `region-*`), each member registry's 24/7 contact
//! point (`cctldContactPoint`), or a member entry itself. A recipient's OpenPGP key is the key
//! its entry names by fingerprint (`cctldOpenPGPFingerprint`), taken from the keyserver subtree
//! (`pgpKeyInfo` entries) only when the key block really has that fingerprint: any member may
//! upload key entries, so the attributes of a key entry are not trusted, the key is. Only that
//! key (its packets up to the next primary key) is written. S/MIME certificates are the
//! recipient entry's `userCertificate;binary` values.

use crate::core::entry::Entry;
use crate::service::Directory;
use std::collections::HashMap;

/// One recipient of the list: an entry with mail addresses, and what it has for encryption.
#[derive(Debug, Default)]
pub struct Recipient {
    pub dn: String,
    /// The member registry whose contact point this is (None: a member entry itself).
    pub registry: Option<String>,
    pub mail: Vec<String>,
    /// The fingerprints of the keys found (upper-case hex), in the order of the entry's values.
    pub openpgp: Vec<String>,
    /// Each key found, ASCII-armoured (one block per key).
    pub openpgp_armored: Vec<String>,
    /// The DER certificates.
    pub smime: Vec<Vec<u8>>,
    /// Why a key named by the entry was not used (not in the keyserver, fingerprint mismatch).
    pub problems: Vec<String>,
}

/// The list name from `members`, `region-centr` or an address such as
/// `members@lists.cctld-ir.example`; only the lists Postfix expands.
pub fn list_name(arg: &str) -> Result<String, String> {
    let name = arg
        .split('@')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let region = name
        .strip_prefix("region-")
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()));
    if name == "members" || region {
        Ok(name)
    } else {
        Err(format!(
            "{arg}: not a list (expected members, region-<name>, or such a list address)"
        ))
    }
}

/// The recipients of `list` (see [`list_name`]) among `entries` (all the entries, or those an
/// identity may read), in the order of the group's members.
pub fn recipients(
    dir: &Directory,
    entries: &[Entry],
    list: &str,
) -> Result<Vec<Recipient>, String> {
    let key = |dn: &str| dir.parse_dn(dn).ok().map(|d| d.store_key());
    let by_dn: HashMap<Vec<u8>, &Entry> = entries
        .iter()
        .filter_map(|e| key(&e.dn).map(|k| (k, e)))
        .collect();
    let group_dn = format!("cn={list},ou=groups,{}", dir.suffix.display());
    let group = key(&group_dn)
        .and_then(|k| by_dn.get(&k))
        .ok_or_else(|| format!("no such list: {group_dn} (or not readable)"))?;
    // The keyserver's entries by primary fingerprint.
    let mut keys: HashMap<String, Vec<&Entry>> = HashMap::new();
    for e in entries.iter().filter(|e| e.has_object_class("pgpKeyInfo")) {
        for f in crate::tools::offline::all(e, "gpgFingerprint") {
            keys.entry(norm_fpr(&f)).or_default().push(e);
        }
    }
    let mut out: Vec<Recipient> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in crate::tools::offline::all(group, "member") {
        let Some(e) = key(&m).and_then(|k| by_dn.get(&k)) else {
            continue;
        };
        let points = crate::tools::offline::all(e, "cctldContactPoint");
        let targets: Vec<&Entry> = if points.is_empty() {
            vec![*e]
        } else {
            points
                .iter()
                .filter_map(|p| key(p).and_then(|k| by_dn.get(&k)).copied())
                .collect()
        };
        for t in targets {
            let mail = crate::tools::offline::all(t, "mail");
            if mail.is_empty() || !seen.insert(key(&t.dn)) {
                continue;
            }
            let mut r = recipient(t, mail, &keys);
            r.registry = (!points.is_empty()).then(|| e.dn.clone());
            out.push(r);
        }
    }
    Ok(out)
}

fn recipient(e: &Entry, mail: Vec<String>, keys: &HashMap<String, Vec<&Entry>>) -> Recipient {
    let mut r = Recipient {
        dn: e.dn.clone(),
        mail,
        ..Recipient::default()
    };
    for want in crate::tools::offline::all(e, "cctldOpenPGPFingerprint") {
        let want = norm_fpr(&want);
        let mut found = false;
        for k in keys.get(&want).map(Vec::as_slice).unwrap_or_default() {
            for block in crate::tools::offline::all(k, "pgpKey") {
                match key_with_fingerprint(&block, &want) {
                    Ok(Some(bytes)) if !found => {
                        r.openpgp.push(want.clone());
                        r.openpgp_armored.push(armor(&bytes, &r.mail[0]));
                        found = true;
                    }
                    Ok(_) => {}
                    Err(why) => r.problems.push(format!("{}: {why}", k.dn)),
                }
            }
        }
        if !found {
            r.problems.push(format!(
                "no key with fingerprint {want} in the keyserver subtree"
            ));
        }
    }
    for a in e.attrs.iter().filter(|a| {
        a.base_name().eq_ignore_ascii_case("userCertificate")
            || a.base_name().eq_ignore_ascii_case("userCertificate;binary")
    }) {
        r.smime.extend(a.values.iter().cloned());
    }
    r
}

/// A fingerprint as upper-case hex without spaces.
fn norm_fpr(f: &str) -> String {
    f.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The packets of the transferable public key in the armoured `block` whose primary key has
/// fingerprint `want` (None when the block holds no such key).
fn key_with_fingerprint(block: &str, want: &str) -> Result<Option<Vec<u8>>, String> {
    let data = dearmor(block)?;
    let mut keys: Vec<(usize, usize, String)> = Vec::new(); // start, end, fingerprint
    let mut pos = 0;
    while pos < data.len() {
        let (tag, body_start, body_len) = packet(&data, pos)?;
        let end = body_start + body_len;
        if tag == 6 {
            if let Some(last) = keys.last_mut() {
                last.1 = pos;
            }
            let body = data.get(body_start..end).ok_or("truncated packet")?;
            keys.push((pos, data.len(), fingerprint(body)?));
        }
        pos = end;
    }
    Ok(keys
        .into_iter()
        .find(|(_, _, f)| f == want)
        .and_then(|(s, e, _)| data.get(s..e).map(<[u8]>::to_vec)))
}

/// One OpenPGP packet header at `pos` (RFC 9580 4.2): tag, start and length of the body.
fn packet(d: &[u8], pos: usize) -> Result<(u8, usize, usize), String> {
    let byte = |i: usize| d.get(i).copied().ok_or("truncated packet header");
    let b = byte(pos)?;
    if b & 0x80 == 0 {
        return Err("not an OpenPGP packet".into());
    }
    let (tag, start, len) = if b & 0x40 != 0 {
        let o1 = usize::from(byte(pos + 1)?);
        match o1 {
            0..=191 => (b & 0x3f, pos + 2, o1),
            192..=223 => (
                b & 0x3f,
                pos + 3,
                ((o1 - 192) << 8) + usize::from(byte(pos + 2)?) + 192,
            ),
            255 => {
                let mut n = 0usize;
                for i in 0..4 {
                    n = (n << 8) | usize::from(byte(pos + 2 + i)?);
                }
                (b & 0x3f, pos + 6, n)
            }
            _ => return Err("partial body lengths in a key block".into()),
        }
    } else {
        let tag = (b >> 2) & 0x0f;
        let n = match b & 3 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => return Err("indeterminate packet length in a key block".into()),
        };
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(byte(pos + 1 + i)?);
        }
        (tag, pos + 1 + n, len)
    };
    if start.checked_add(len).is_none_or(|e| e > d.len()) {
        return Err("truncated packet".into());
    }
    Ok((tag, start, len))
}

/// The fingerprint of a public key packet body (v4: SHA-1; v5 and v6: SHA-256).
fn fingerprint(body: &[u8]) -> Result<String, String> {
    use sha1::Digest;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    match body.first() {
        Some(4) => {
            let len = u16::try_from(body.len()).map_err(|_| "key packet too long")?;
            let mut h = sha1::Sha1::new();
            h.update([0x99]);
            h.update(len.to_be_bytes());
            h.update(body);
            Ok(hex(&h.finalize()))
        }
        Some(v @ (5 | 6)) => {
            let len = u32::try_from(body.len()).map_err(|_| "key packet too long")?;
            let mut h = sha2::Sha256::new();
            h.update([if *v == 5 { 0x9a } else { 0x9b }]);
            h.update(len.to_be_bytes());
            h.update(body);
            Ok(hex(&h.finalize()))
        }
        _ => Err("unsupported key version".into()),
    }
}

/// The bytes of an ASCII-armoured block (RFC 9580 6); the checksum, when present, must match.
fn dearmor(block: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let mut lines = block.lines().map(str::trim_end);
    lines
        .by_ref()
        .find(|l| l.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK"))
        .ok_or("no PGP PUBLIC KEY BLOCK")?;
    // Armour headers up to the blank line.
    for l in lines.by_ref() {
        if l.is_empty() {
            break;
        }
    }
    let mut b64 = String::new();
    let mut crc = None;
    for l in lines {
        if l.starts_with("-----END") {
            break;
        }
        if let Some(c) = l.strip_prefix('=') {
            crc = Some(c.to_string());
            continue;
        }
        b64.push_str(l.trim());
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| format!("bad base64 in the key block: {e}"))?;
    if let Some(c) = crc {
        let want = base64::engine::general_purpose::STANDARD
            .decode(c.as_bytes())
            .map_err(|e| format!("bad armour checksum: {e}"))?;
        if want != crc24(&data).to_be_bytes()[1..] {
            return Err("armour checksum does not match".into());
        }
    }
    Ok(data)
}

fn crc24(d: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for b in d {
        crc ^= u32::from(*b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// An ASCII-armoured public key block with a comment naming the recipient.
fn armor(data: &[u8], comment: &str) -> String {
    use base64::Engine;
    let e = &base64::engine::general_purpose::STANDARD;
    let comment: String = comment.chars().filter(|c| c.is_ascii_graphic()).collect();
    let mut s = format!("-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: {comment}\n\n");
    wrap(&e.encode(data), &mut s);
    s.push('=');
    s.push_str(&e.encode(&crc24(data).to_be_bytes()[1..]));
    s.push_str("\n-----END PGP PUBLIC KEY BLOCK-----\n");
    s
}

/// A DER certificate as PEM.
pub fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    wrap(
        &base64::engine::general_purpose::STANDARD.encode(der),
        &mut s,
    );
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

fn wrap(b64: &str, out: &mut String) {
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
}

/// The report: one line per recipient, then the ones without keys.
pub fn report(list: &str, rs: &[Recipient]) -> String {
    let with_pgp = rs.iter().filter(|r| !r.openpgp.is_empty()).count();
    let with_smime = rs.iter().filter(|r| !r.smime.is_empty()).count();
    let mut s = format!(
        "list {list}: {} recipients, {with_pgp} with an OpenPGP key, {with_smime} with an S/MIME certificate\n",
        rs.len()
    );
    for r in rs {
        let pgp = if r.openpgp.is_empty() {
            "OpenPGP: none".to_string()
        } else {
            format!("OpenPGP: {}", r.openpgp.join(" "))
        };
        let smime = if r.smime.is_empty() {
            "S/MIME: none".to_string()
        } else {
            format!("S/MIME: {} certificate(s)", r.smime.len())
        };
        s.push_str(&format!("{}  {pgp}  {smime}\n", r.mail.join(", ")));
        for p in &r.problems {
            s.push_str(&format!("    {p}\n"));
        }
    }
    let none: Vec<&Recipient> = rs
        .iter()
        .filter(|r| r.openpgp.is_empty() && r.smime.is_empty())
        .collect();
    if !none.is_empty() {
        s.push_str(&format!(
            "\n{} recipient(s) with neither key nor certificate (they cannot read an encrypted message):\n",
            none.len()
        ));
        for r in none {
            s.push_str(&format!("  {}  ({})\n", r.mail.join(", "), r.dn));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_names() {
        assert_eq!(list_name("members").as_deref(), Ok("members"));
        assert_eq!(
            list_name("Region-CENTR@lists.cctld-ir.example").as_deref(),
            Ok("region-centr")
        );
        assert!(list_name("directory-admins").is_err());
        assert!(list_name("region-").is_err());
        assert!(list_name("region-x,ou=y").is_err());
    }

    #[test]
    fn armour_round_trip_and_crc() {
        // RFC 4880 6.1's CRC-24 of nothing is the initial value.
        assert_eq!(crc24(&[]), 0x00B7_04CE);
        let data: Vec<u8> = (0u8..200).collect();
        let a = armor(&data, "x@example.org");
        assert_eq!(dearmor(&a).unwrap(), data);
        let broken: String = a
            .lines()
            .map(|l| {
                if l.starts_with('=') {
                    "=AAAA\n".to_string()
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        assert!(dearmor(&broken).is_err());
    }

    #[test]
    fn bad_key_blocks_are_errors_not_panics() {
        for block in [
            "",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----\n",
            &armor(&[0x99, 0x00], "x"),
            &armor(&[0x00], "x"),
            &armor(&[0xc6, 0xff, 0xff], "x"),
            &armor(&[0xc6, 0x01, 0x09], "x"),
        ] {
            assert!(key_with_fingerprint(block, "AB").is_err(), "{block}");
        }
        assert!(pem(&[1, 2, 3]).starts_with("-----BEGIN CERTIFICATE-----\nAQID\n"));
    }
}
