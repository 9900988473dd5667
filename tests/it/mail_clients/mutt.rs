//! mutt's external address query (docs/clients/mutt.md), both ways the guide describes, run for
//! real:
//! - lbdb's `lbdbq` with the m_ldap module (Debian package lbdb): m_ldap runs
//!   `mutt_ldap_query --lbdb_output --nickname=<nick>` for each of LDAP_NICKS; mutt_ldap_query
//!   (RolandRosenfeld/lbdb mutt_ldap_query.pl.in) reads `~/.lbdb/ldap.rc`, builds
//!   `(|(<field>=*<typed>*)...)` in "ignorant" mode, connects with Net::LDAP, `start_tls()` when
//!   the tls option is set, binds with the DN and password, searches the base (subtree), and
//!   prints `mail<TAB>realname<TAB>comment` per mail address;
//! - docs/clients/scripts/mutt-query.sh, an `ldapsearch` script that verifies the server
//!   certificate (Net::LDAP's start_tls does not by default, see the guide).

use super::*;
use std::process::Command;

/// lbdbq in a throwaway HOME whose ~/.lbdb holds the guide's configuration.
#[test]
fn mutt_lbdbq_with_m_ldap_finds_team_and_person() {
    let s = directory();
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join(".lbdb");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("lbdbrc"),
        "METHODS=\"m_ldap\"\nLDAP_NICKS=\"ccdir\"\n",
    )
    .expect("lbdbrc");
    // The guide's ~/.lbdb/ldap.rc (server, base, search fields, answers, formats, ignorant,
    // bind DN, password, tls).
    let rc = format!(
        "%ldap_server_db = (\n  'ccdir' => ['{url}', '{REGISTRIES}',\n    'cn displayName sn givenName mail', \
         'mail displayName o title',\n    '${{mail}}', '${{displayName}}', '${{o}}',\n    1, '{READER}', '{READER_PW}', 1 ],\n);\n1;\n",
        url = ldap_ip_url(&s),
    );
    std::fs::write(dir.join("ldap.rc"), rc).expect("ldap.rc");

    let lbdbq = |typed: &str| {
        let out = Command::new("lbdbq")
            .arg(typed)
            .env("HOME", home.path())
            .output()
            .expect("lbdbq (install Debian lbdb, libnet-ldap-perl, libio-socket-ssl-perl, libauthen-sasl-perl)");
        String::from_utf8_lossy(&out.stdout).to_string()
    };

    let out = lbdbq("nic-br");
    let lines: Vec<&str> = out.lines().collect();
    // lbdbq's status line, then one line per address.
    assert!(
        lines.first().is_some_and(|l| l.starts_with("lbdbq:")),
        "{out}"
    );
    assert!(
        lines
            .contains(&"security@nic-br.example\tIncident response .br\tRegistry of .br (example)"),
        "{out}"
    );
    assert!(
        lines.contains(&"marta.ferreira@nic-br.example\tMarta Ferreira\tRegistry of .br (example)"),
        "{out}"
    );

    // By name, case-insensitively, and a name in another script.
    let out = lbdbq("ferreira");
    assert!(
        out.contains("marta.ferreira@nic-br.example\tMarta Ferreira"),
        "{out}"
    );
}

fn query_script(s: &TestServer, typed: &str) -> (i32, String) {
    let pw = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(pw.path(), READER_PW).expect("password file");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/clients/scripts/mutt-query.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(typed)
        .env("LDAP_URI", ldaps_ip_url(s))
        .env("LDAPTLS_CACERT", s.ca_file())
        .env("LDAPTLS_REQCERT", "demand")
        .env("LDAPCONF", "/dev/null")
        .env("BIND_DN", READER)
        .env("BIND_PW_FILE", pw.path())
        .output()
        .expect("sh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// `set query_command = "sh ~/bin/mutt-query.sh '%s'"`: the ldapsearch script of the guide.
#[test]
fn mutt_query_script_answers_in_mutts_format() {
    let s = directory();
    let (rc, out) = query_script(&s, "br");
    assert_eq!(rc, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"ccdir: searching for 'br'"));
    assert!(
        lines.contains(&"security@nic-br.example\tIncident response .br\tRegistry of .br (example), +55 11 2345-6743"),
        "{out}"
    );
    assert!(
        lines.contains(
            &"marta.ferreira@nic-br.example\tMarta Ferreira\tRegistry of .br (example), Information Security Manager, +55 11 2345-6731"
        ),
        "{out}"
    );
    // Names in other scripts arrive base64-encoded in LDIF and are decoded.
    let (_, out) = query_script(&s, "benali");
    assert!(
        out.lines()
            .any(|l| l.starts_with("huda.benali@nic-ac.example\tهدى بن علي\t")),
        "{out}"
    );
    // Filter characters in the typed text are escaped, not interpreted.
    let (rc, out) = query_script(&s, "*)(mail=*");
    assert_eq!(rc, 0);
    assert_eq!(out.lines().count(), 1, "{out}");
    // More matches than MAX (100): the first 100, no error.
    let (rc, out) = query_script(&s, "e");
    assert_eq!(rc, 0);
    assert_eq!(out.lines().count(), 101);
}
