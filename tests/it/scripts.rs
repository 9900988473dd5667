//! The scripts of docs/clients/scripts.md, run against a server with the sample directory.

use crate::harness::*;
use std::process::Command;

fn script(s: &TestServer, name: &str, args: &[&str]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/clients/scripts")
        .join(name);
    let out = Command::new("sh")
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
