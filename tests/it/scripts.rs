//! The scripts of docs/clients/scripts.md, run against a server with the sample directory.

use crate::harness::*;
use std::process::Command;

fn script(s: &TestServer, name: &str, args: &[&str]) -> String {
    script_at(s, name, args, None)
}

/// Run a script, with `NOW` (seconds since 1970) when given.
fn script_at(s: &TestServer, name: &str, args: &[&str], now: Option<i64>) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/clients/scripts")
        .join(name);
    let mut cmd = Command::new("sh");
    if let Some(n) = now {
        cmd.env("NOW", n.to_string());
    }
    let out = cmd
        .arg(&path)
        .args(args)
        .env(
            "LDAP_URI",
            format!("ldaps://127.0.0.1:{}", s.server().ldaps_addrs[0].port()),
        )
        .env("LDAPTLS_CACERT", s.ca_file())
        .env("LDAPCONF", "/dev/null")
        .env("BIND_DN", ADMIN)
        .env("BIND_PW_FILE", s.admin_password_file())
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn dns(ldif: &str) -> Vec<&str> {
    ldif.lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .collect()
}

#[test]
fn documented_scripts_answer_the_common_questions() {
    let s = TestServer::start_with(|c| c.load_sample = true);
    // The 24/7 contact of .br.
    let out = script(&s, "contact-247.sh", &["br"]);
    assert_eq!(
        dns(&out),
        vec!["cn=incident-response,associatedDomain=br,ou=registries,dc=cctld-ir,dc=example"],
        "{out}"
    );
    assert!(
        out.contains("cctldTimeZone: America/Sao_Paulo") && out.contains("telephoneNumber: +55"),
        "{out}"
    );
    // A responder can tell stale data: the status and the due date come with the numbers.
    assert!(
        out.contains("cctldVerificationStatus: ")
            && out.contains("cctldLastVerified: ")
            && out.contains("cctldVerificationDue: "),
        "{out}"
    );
    // Overdue now, and by a date in the future (more).
    let now = dns(&script(&s, "overdue.sh", &[])).len();
    let later = dns(&script(&s, "overdue.sh", &["20300101000000Z"])).len();
    assert!(now > 0 && later > now, "overdue now {now}, by 2030 {later}");
    // Contacts in UTC+9 zones.
    let out = script(&s, "in-timezone.sh", &["Asia/Tokyo", "Asia/Seoul"]);
    let found = dns(&out);
    assert!(!found.is_empty());
    assert!(
        out.lines()
            .filter(|l| l.starts_with("cctldTimeZone: "))
            .all(|l| l == "cctldTimeZone: Asia/Tokyo" || l == "cctldTimeZone: Asia/Seoul"),
        "{out}"
    );
    assert!(
        found.iter().any(|d| d.contains("associatedDomain=jp,"))
            && found.iter().any(|d| d.contains("associatedDomain=kr,")),
        "{found:?}"
    );
}

/// "All contacts in time zone UTC+9 reachable now": 24/7 contacts at any time, the others only
/// within their business hours in their own time zone.
#[test]
fn open_now_follows_business_hours_in_local_time() {
    let s = TestServer::start_with(|c| c.load_sample = true);
    let zones = ["Asia/Tokyo", "Asia/Seoul"];
    let at = |utc: &str| {
        time::PrimitiveDateTime::parse(
            utc,
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"),
        )
        .expect("time")
        .assume_utc()
        .unix_timestamp()
    };
    // Entries of the output: (dn, available 24/7, reason printed).
    let entries = |out: &str| -> Vec<(String, bool, String)> {
        out.split("\n\n")
            .filter(|e| e.contains("dn: "))
            .map(|e| {
                let dn = e
                    .lines()
                    .find_map(|l| l.strip_prefix("dn: "))
                    .unwrap_or_default()
                    .to_string();
                let always = e.contains("cctldAvailable247: TRUE");
                let why = e
                    .lines()
                    .find_map(|l| l.strip_prefix("# reachable now ("))
                    .unwrap_or_default()
                    .to_string();
                (dn, always, why)
            })
            .collect()
    };
    let all = entries(&script(&s, "in-timezone.sh", &zones));
    let always: Vec<&String> = all.iter().filter(|e| e.1).map(|e| &e.0).collect();
    assert!(!always.is_empty() && always.len() < all.len());
    // Monday 10:00 in Tokyo and Seoul (01:00 UTC): every contact is within "Mo-Fr 0x:00-1x:00".
    let monday = entries(&script_at(
        &s,
        "open-now.sh",
        &zones,
        Some(at("2026-11-23 01:00")),
    ));
    assert_eq!(monday.len(), all.len(), "{monday:?}");
    assert!(monday
        .iter()
        .all(|e| e.2 == if e.1 { "24/7)" } else { "business hours)" }));
    // Saturday noon, and Monday 19:00 local: only the 24/7 contacts.
    for utc in ["2026-11-21 03:00", "2026-11-23 10:00"] {
        let out = entries(&script_at(&s, "open-now.sh", &zones, Some(at(utc))));
        let dns: Vec<&String> = out.iter().map(|e| &e.0).collect();
        assert_eq!(dns, always, "at {utc} UTC");
    }
}
