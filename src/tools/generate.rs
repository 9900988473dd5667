//! Generated data: the benchmark's inetOrgPerson set and a scale set of ccTLD-style registries
//! (for `ccdir gen-sample`, the benchmark and tests).

use crate::write::Attrs;

/// Generate the benchmark's inetOrgPerson set: `uid=user<i>,ou=people,<suffix>` with
/// cn "First<i> Last<i>", sn, givenName, mail, telephoneNumber, and for the first `with_password`
/// users the password `pw<i>` (argon2id with the configured cost).
pub fn people(i: u64, suffix: &str, hash: Option<&str>) -> (String, Attrs) {
    const GIVEN: &[&str] = &[
        "Ana", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hana", "Ivan", "Jun",
    ];
    const FAMILY: &[&str] = &[
        "Silva", "Okafor", "Tanaka", "Novak", "Haddad", "Berg", "Moreau", "Kowalski", "Reyes",
        "Ito",
    ];
    let g = GIVEN[(i % 10) as usize];
    let f = FAMILY[((i / 10) % 10) as usize];
    let dn = format!("uid=user{i},ou=people,{suffix}");
    let v = |s: String| vec![s.into_bytes()];
    let mut attrs = vec![
        (
            "objectClass".to_string(),
            vec![
                b"top".to_vec(),
                b"person".to_vec(),
                b"organizationalPerson".to_vec(),
                b"inetOrgPerson".to_vec(),
            ],
        ),
        ("uid".into(), v(format!("user{i}"))),
        ("cn".into(), v(format!("{g} {f} {i}"))),
        ("sn".into(), v(format!("{f} {i}"))),
        ("givenName".into(), v(g.to_string())),
        ("mail".into(), v(format!("user{i}@nic-bench.example"))),
        (
            "telephoneNumber".into(),
            v(format!("+1 202 555 {:04}", i % 10000)),
        ),
    ];
    if let Some(h) = hash {
        attrs.push(("userPassword".into(), v(h.to_string())));
    }
    (dn, attrs)
}

/// The label of scale registry `i`: `t00`, `t01`, ... `t99`, `t100`, ...
pub fn scale_label(i: u64) -> String {
    format!("t{i:02}")
}

/// A scale set of ccTLD-style data for TLD number `i` (label [`scale_label`]): a registry under
/// `ou=registries`, its 24/7 team and one person, with time zones, languages and verification
/// dates that vary deterministically (some overdue).
pub fn registry_set(i: u64, suffix: &str) -> Vec<(String, Attrs)> {
    const ZONES: &[(&str, &str, &str)] = &[
        ("Europe/Berlin", "de", "CENTR"),
        ("America/Sao_Paulo", "pt", "LACTLD"),
        ("Asia/Tokyo", "ja", "APTLD"),
        ("Africa/Nairobi", "sw", "AFTLD"),
        ("Europe/Paris", "fr", "CENTR"),
        ("Asia/Kolkata", "hi", "APTLD"),
        ("America/Mexico_City", "es", "LACTLD"),
        ("Africa/Lagos", "en", "AFTLD"),
    ];
    // A letter and at least two decimal digits: every real top-level label is letters only
    // (or an `xn--` A-label), so these can never be a real ccTLD, and a scale set imports into
    // a directory that holds the sample (which has every real one).
    let tld = scale_label(i);
    let (zone, lang, region) = ZONES[(i % ZONES.len() as u64) as usize];
    let v = |s: &str| vec![s.as_bytes().to_vec()];
    let reg = format!("associatedDomain={tld},ou=registries,{suffix}");
    let team = format!("cn=incident-response,{reg}");
    let person = format!("uid=p{i},{reg}");
    // Last verified between 2026-05-01 and 2026-11-20; due three months later.
    let day = i * 37 % 200;
    let (m, d) = (5 + day / 30, 1 + day % 28);
    let last = format!("2026{m:02}{d:02}120000Z");
    let due = if m + 3 > 12 {
        format!("2027{:02}{d:02}120000Z", m + 3 - 12)
    } else {
        format!("2026{:02}{d:02}120000Z", m + 3)
    };
    let phone = format!("+1 202 555 {:04}", 100 + i % 100);
    let verification = |out: &mut Attrs| {
        out.push(("cctldTimeZone".into(), v(zone)));
        let mut langs = vec![lang.as_bytes().to_vec()];
        if lang != "en" {
            langs.push(b"en".to_vec());
        }
        out.push(("cctldLanguage".into(), langs));
        out.push(("cctldLastVerified".into(), v(&last)));
        out.push(("cctldVerificationDue".into(), v(&due)));
        out.push((
            "cctldVerificationMethod".into(),
            v(["voice", "email", "fax", "chat", "letter"][(i % 5) as usize]),
        ));
        out.push(("cctldVerificationStatus".into(), v("verified")));
    };
    let mut t: Attrs = vec![
        (
            "objectClass".into(),
            vec![b"organizationalRole".to_vec(), b"cctldContact".to_vec()],
        ),
        ("cn".into(), v("incident-response")),
        ("associatedDomain".into(), v(&tld)),
        ("mail".into(), v(&format!("security@nic-{tld}.example"))),
        ("telephoneNumber".into(), v(&phone)),
        (
            "cctldAvailable247".into(),
            v(if i % 3 == 0 { "FALSE" } else { "TRUE" }),
        ),
        ("cctldBusinessHours".into(), v("Mo-Fr 08:00-17:00")),
        (
            "cctldContactRole".into(),
            vec![b"security".to_vec(), b"emergency".to_vec()],
        ),
        ("roleOccupant".into(), v(&person)),
    ];
    verification(&mut t);
    let mut p: Attrs = vec![
        (
            "objectClass".into(),
            vec![b"inetOrgPerson".to_vec(), b"cctldContact".to_vec()],
        ),
        ("uid".into(), v(&format!("p{i}"))),
        ("cn".into(), v(&format!("Contact {i} of .{tld}"))),
        ("sn".into(), v(&format!("Contact {i}"))),
        ("associatedDomain".into(), v(&tld)),
        ("mail".into(), v(&format!("contact{i}@nic-{tld}.example"))),
        ("telephoneNumber".into(), v(&phone)),
        ("cctldContactRole".into(), v("technical")),
        ("cctldContactPriority".into(), v("1")),
    ];
    verification(&mut p);
    vec![
        (
            reg.clone(),
            vec![
                (
                    "objectClass".into(),
                    vec![b"organization".to_vec(), b"cctldRegistry".to_vec()],
                ),
                ("associatedDomain".into(), v(&tld)),
                ("o".into(), v(&format!("Registry of .{tld} (example)"))),
                ("cctldRegionalOrganization".into(), v(region)),
                ("cctldContactPoint".into(), v(&team)),
            ],
        ),
        (team, t),
        (person, p),
    ]
}
