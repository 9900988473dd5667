//! Reader accounts (issue 15, part 7): a registry admin creates accounts up to
//! `accounts.max_per_registry`, each pending until a directory admin approves it; reads of
//! personal data are logged when `audit.log_reads` is on. Through real LDAP, as the registry
//! admin (ana, admin of br), a directory admin (ops) and the new accounts.

use crate::access::{directory_with, login, person, reg, PW};
use crate::harness::*;
use ldap3::exop::PasswordModify;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::HashSet;

const STATUS: &str = "cctldAccountStatus";

fn ops_dn() -> String {
    format!("cn=ops,ou=groups,{SUFFIX}")
}

fn reader(uid: &str) -> Vec<(&str, HashSet<&str>)> {
    vec![
        ("objectClass", HashSet::from(["inetOrgPerson"])),
        ("uid", HashSet::from([uid])),
        ("cn", HashSet::from(["Reader"])),
        ("sn", HashSet::from(["Reader"])),
        ("userPassword", HashSet::from([PW])),
    ]
}

/// (result code, diagnostic) of a simple bind.
fn bind(s: &TestServer, dn: &str, pw: &str) -> (u32, String, LdapConn) {
    let mut c = s.conn();
    let r = c.simple_bind(dn, pw).expect("bind");
    (r.rc, r.text, c)
}

/// The DNs (lower case) a subtree search finds, with its result code.
fn dns(c: &mut LdapConn, base: &str, filter: &str) -> (u32, Vec<String>) {
    let r = c
        .search(base, Scope::Subtree, filter, vec!["1.1"])
        .expect("search");
    let mut v: Vec<String> =
        r.0.into_iter()
            .map(|e| SearchEntry::construct(e).dn.to_lowercase())
            .collect();
    v.sort();
    (r.1.rc, v)
}

fn status_of(c: &mut LdapConn, dn: &str) -> Option<String> {
    let r = c
        .search(dn, Scope::Base, "(objectClass=*)", vec![STATUS])
        .expect("search")
        .success()
        .expect("found");
    let e = SearchEntry::construct(r.0[0].clone());
    e.attrs.get(STATUS).map(|v| v[0].clone())
}

fn set_status(c: &mut LdapConn, dn: &str, v: &str) -> u32 {
    c.modify(dn, vec![Mod::Replace(STATUS, HashSet::from([v]))])
        .expect("modify")
        .rc
}

#[test]
fn registry_admins_create_pending_accounts_up_to_the_limit_directory_admins_approve() {
    // br already has two accounts (ana and bob, made by the directory's admin): two more.
    let s = directory_with(|c| c.accounts.max_per_registry = 4);
    let mut ana = login(&s, &person("ana", "br"));
    let r1 = person("reader1", "br");
    let r2 = person("reader2", "br");
    assert_eq!(ana.add(&r1, reader("reader1")).expect("add").rc, 0);
    assert_eq!(ana.add(&r2, reader("reader2")).expect("add").rc, 0);
    let r = ana
        .add(&person("reader3", "br"), reader("reader3"))
        .expect("add");
    assert_eq!(r.rc, 11, "adminLimitExceeded: {}", r.text);
    assert!(
        r.text.contains("accounts.max_per_registry = 4") && r.text.contains("4 accounts"),
        "{}",
        r.text
    );
    // Giving a password to an entry without one makes an account too.
    let mut plain = reader("plain");
    plain.retain(|(a, _)| *a != "userPassword");
    let p = person("plain", "br");
    assert_eq!(
        ana.add(&p, plain).expect("add").rc,
        0,
        "no password: no account"
    );
    let r = ana
        .modify(&p, vec![Mod::Add("userPassword", HashSet::from([PW]))])
        .expect("modify");
    assert_eq!(r.rc, 11, "{}", r.text);
    // ... and so would Password Modify: a registry admin may not make accounts with it.
    let r = ana
        .extended(PasswordModify {
            user_id: Some(&p),
            old_pass: None,
            new_pass: Some("another-long-password"),
        })
        .expect("pm")
        .1;
    assert_eq!(r.rc, 50, "{}", r.text);

    // The new accounts are pending, and cannot bind; only the right password learns why.
    assert_eq!(status_of(&mut ana, &r1).as_deref(), Some("pending"));
    let (rc, text, mut pending) = bind(&s, &r1, PW);
    assert_eq!(rc, 49);
    assert!(text.contains("pending approval"), "{text}");
    let (rc, text, _) = bind(&s, &r1, "a-wrong-password");
    assert_eq!(rc, 49);
    assert!(
        !text.contains("pending"),
        "a wrong password learns nothing: {text}"
    );
    // What the refused connection reads: nothing (it is anonymous).
    let (rc, seen) = dns(&mut pending, SUFFIX, "(objectClass=*)");
    assert!(seen.is_empty(), "{rc} {seen:?}");

    // The registry admin cannot approve, nor remove the status.
    assert_eq!(set_status(&mut ana, &r1, "approved"), 50);
    let r = ana
        .modify(&r1, vec![Mod::Delete(STATUS, HashSet::new())])
        .expect("modify");
    assert_eq!(r.rc, 50, "{}", r.text);

    // The directory admin finds the pending accounts and approves one.
    let mut ops = login(&s, &ops_dn());
    let (rc, pending_dns) = dns(&mut ops, SUFFIX, "(cctldAccountStatus=pending)");
    assert_eq!(
        (rc, pending_dns),
        (0, vec![r1.to_lowercase(), r2.to_lowercase()])
    );
    assert_eq!(set_status(&mut ops, &r1, "approved"), 0);
    let (rc, _, mut reader1) = bind(&s, &r1, PW);
    assert_eq!(rc, 0);
    // An approved account below a member registry reads every registry's people.
    let (rc, seen) = dns(&mut reader1, &reg("pt"), "(objectClass=person)");
    assert_eq!((rc, seen), (0, vec![person("rui", "pt").to_lowercase()]));
    let (r2_bind, _, _) = bind(&s, &r2, PW);
    assert_eq!(r2_bind, 49, "the other one is still pending");

    // A password reset by the registry admin keeps the approval.
    let r = ana
        .modify(
            &r1,
            vec![Mod::Replace(
                "userPassword",
                HashSet::from(["a-new-long-password"]),
            )],
        )
        .expect("modify");
    assert_eq!(r.rc, 0, "{}", r.text);
    assert_eq!(status_of(&mut ops, &r1).as_deref(), Some("approved"));
    assert_eq!(bind(&s, &r1, "a-new-long-password").0, 0);

    // The registry admin may suspend an account; it then cannot bind.
    assert_eq!(set_status(&mut ana, &r1, "suspended"), 0);
    let (rc, text, _) = bind(&s, &r1, "a-new-long-password");
    assert_eq!(rc, 49);
    assert!(text.contains("suspended"), "{text}");

    // Directory admins are not limited, and their accounts are approved.
    let r5 = person("reader5", "br");
    assert_eq!(ops.add(&r5, reader("reader5")).expect("add").rc, 0);
    assert_eq!(status_of(&mut ops, &r5), None);
    assert_eq!(bind(&s, &r5, PW).0, 0);
}

#[test]
fn no_accounts_for_registry_admins_when_the_limit_is_zero() {
    let s = directory_with(|c| c.accounts.max_per_registry = 0);
    let mut ana = login(&s, &person("ana", "br"));
    let r = ana
        .add(&person("reader1", "br"), reader("reader1"))
        .expect("add");
    assert_eq!(r.rc, 11);
    assert!(r.text.contains("max_per_registry = 0"), "{}", r.text);
    // Entries without a password are not accounts.
    let mut plain = reader("plain");
    plain.retain(|(a, _)| *a != "userPassword");
    assert_eq!(ana.add(&person("plain", "br"), plain).expect("add").rc, 0);
    // The admin_dn binds whatever its status says (it is never locked out either).
    let mut admin = s.admin();
    assert_eq!(set_status(&mut admin, ADMIN, "suspended"), 0);
    assert_eq!(bind(&s, ADMIN, &s.admin_password()).0, 0);
}

/// The audit lines of `op` in the log file.
fn lines(log: &std::path::Path, op: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["op"] == op)
        .collect()
}

#[test]
fn reads_of_personal_data_are_logged_when_enabled_without_values() {
    for enabled in [true, false] {
        let tmp = tempfile::tempdir().expect("tmp");
        let log = tmp.path().join("audit.log");
        let l = log.clone();
        let s = directory_with(move |c| {
            c.audit.output = l.display().to_string();
            c.audit.log_reads = enabled;
        });
        let secret = "Secret-Title-4711";
        let mut admin = s.admin();
        admin
            .modify(
                &person("rui", "pt"),
                vec![Mod::Replace("title", HashSet::from([secret]))],
            )
            .expect("modify");
        let mut bob = login(&s, &person("bob", "br"));
        let r = bob
            .search(SUFFIX, Scope::Subtree, "(objectClass=*)", vec!["*"])
            .expect("search")
            .success()
            .expect("ok");
        assert!(r.0.len() > 5);
        let c = bob
            .compare(&person("rui", "pt"), "title", secret)
            .expect("compare");
        assert_eq!(c.0.rc, 6);
        drop(bob);
        let reads = lines(&log, "read");
        let compares = lines(&log, "compare");
        if !enabled {
            assert!(reads.is_empty() && compares.is_empty(), "{reads:?}");
            continue;
        }
        let bob_dn = person("bob", "br");
        let targets: Vec<String> = reads
            .iter()
            .map(|v| v["target"].as_str().unwrap_or("").to_lowercase())
            .collect();
        // Every entry below ou=registries the search returned, and nothing else.
        assert!(
            targets.contains(&person("rui", "pt").to_lowercase()),
            "{targets:?}"
        );
        assert!(targets.contains(&reg("br").to_lowercase()), "{targets:?}");
        let registries = format!(",ou=registries,{SUFFIX}").to_lowercase();
        assert!(
            targets.iter().all(|t| t.ends_with(&registries)),
            "only personal data: {targets:?}"
        );
        let below: usize =
            r.0.iter()
                .filter(|e| {
                    SearchEntry::construct((*e).clone())
                        .dn
                        .to_lowercase()
                        .ends_with(&registries)
                })
                .count();
        assert_eq!(reads.len(), below, "one line per entry returned");
        for v in &reads {
            assert_eq!(v["bound"].as_str(), Some(bob_dn.as_str()));
            assert!(v["peer"]
                .as_str()
                .is_some_and(|p| p.starts_with("127.0.0.1:")));
            assert!(v["conn"].as_u64().is_some());
        }
        assert_eq!(compares.len(), 1, "{compares:?}");
        assert_eq!(compares[0]["attrs"][0], "title");
        assert_eq!(
            compares[0]["target"].as_str().map(str::to_lowercase),
            Some(person("rui", "pt").to_lowercase())
        );
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(!text.contains(secret), "no values in the log");
    }
}
