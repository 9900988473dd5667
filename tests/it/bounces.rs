//! A list address that bounces (docs/operations/mailing-list.md, "Bounces"): the list admin
//! records a failed verification, with `ccdir verify --failed --mail <address>` (server
//! stopped) or with the LDAP modify the docs give, and the contact reads overdue at once.

use crate::harness::*;
use ldap3::{Mod, Scope, SearchEntry};
use std::collections::HashSet;

fn status(s: &TestServer, dn: &str) -> (String, String) {
    let mut c = s.admin();
    let (r, _) = c
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            vec!["cctldVerificationStatus", "cctldVerificationMethod"],
        )
        .expect("search")
        .success()
        .expect("entry");
    let e = SearchEntry::construct(r[0].clone());
    (
        e.attrs["cctldVerificationStatus"][0].clone(),
        e.attrs["cctldVerificationMethod"][0].clone(),
    )
}

/// The LDIF of docs/operations/mailing-list.md's bounce procedure ("server running").
fn documented_ldif() -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/operations/mailing-list.md"
    ))
    .expect("docs");
    let start = doc
        .find("# server running: as a verifier")
        .expect("the bounce procedure's LDAP modify");
    let body = &doc[start..];
    let body = &body[body.find("<<'EOF'\n").expect("heredoc") + 8..];
    let body = &body[..body.find("\n   EOF").expect("end of heredoc")];
    body.lines()
        .map(|l| format!("{}\n", l.strip_prefix("   ").unwrap_or(l)))
        .collect()
}

#[test]
fn a_bounced_address_reads_overdue() {
    let s = TestServer::start_with(|c| c.load_sample = true);
    let de = format!("cn=incident-response,associatedDomain=de,ou=registries,{SUFFIX}");
    let at = format!("cn=incident-response,associatedDomain=at,ou=registries,{SUFFIX}");
    // Both verified now by voice (the sample's dates may be past).
    let mut c = s.admin();
    for dn in [&de, &at] {
        let rc = c
            .modify(
                dn,
                vec![
                    Mod::Replace("cctldVerificationMethod", HashSet::from(["voice"])),
                    Mod::Replace("cctldVerificationStatus", HashSet::from(["verified"])),
                ],
            )
            .expect("modify")
            .rc;
        assert_eq!(rc, 0);
        assert_eq!(
            status(&s, dn),
            ("verified".to_string(), "voice".to_string())
        );
    }

    // The LDAP modify the docs give, as a verifier, with ldapmodify.
    let vera = format!("cn=vera,ou=groups,{SUFFIX}");
    add(
        &mut c,
        &vera,
        &[
            (
                "objectClass",
                &["organizationalRole", "simpleSecurityObject"],
            ),
            ("cn", &["vera"]),
            ("userPassword", &["vera secret 12"]),
        ],
    );
    add(
        &mut c,
        &format!("cn=verifiers,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["verifiers"]),
            ("member", &[vera.as_str()]),
        ],
    );
    let o = s.tool(
        "ldapmodify",
        &[
            "-H",
            &format!("ldap://127.0.0.1:{}", s.ldap_addr().port()),
            "-o",
            &format!("TLS_CACERT={}", s.ca_file().display()),
            "-o",
            "TLS_REQCERT=demand",
            "-ZZ",
            "-x",
            "-D",
            &vera,
            "-w",
            "vera secret 12",
        ],
        Some(&documented_ldif().replace("associatedDomain=xx", "associatedDomain=at")),
    );
    assert_eq!(code(&o), 0, "ldapmodify: {}{}", stdout(&o), stderr(&o));
    assert_eq!(
        status(&s, &at),
        ("overdue".to_string(), "email".to_string())
    );
    drop(c);

    // ccdir verify --failed --mail, server stopped, the address as the bounce gives it.
    let config = s.config.clone();
    let data = s.data.clone();
    let tmp = s.stop();
    let o = ccdir(
        &[
            "verify",
            "--failed",
            "--method",
            "email",
            "--mail",
            "Security@NIC-DE.example",
        ],
        &data,
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains(&format!("dn: {de}")), "{out}");
    assert!(out.contains("cctldVerificationStatus: failed"), "{out}");
    // An address nobody has, or --failed with --status: refused, naming the input.
    let o = ccdir(
        &[
            "verify",
            "--failed",
            "--method",
            "email",
            "--mail",
            "nobody@nowhere.example",
        ],
        &data,
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("nobody@nowhere.example"),
        "{}",
        stderr(&o)
    );
    let o = ccdir(
        &[
            "verify", "--failed", "--status", "verified", "--method", "email", &de,
        ],
        &data,
    );
    assert!(!o.status.success());

    let s = TestServer::start_config(config);
    assert_eq!(
        status(&s, &de),
        ("overdue".to_string(), "email".to_string())
    );
    drop(s);
    drop(tmp);
}
