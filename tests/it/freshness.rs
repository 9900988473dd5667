//! The verification cycle over LDAP with a controlled clock: what adds and modifies of contact
//! entries do to the verification attributes (docs/operations/freshness.md), and the indexed
//! freshness searches.

use crate::harness::*;
use ccdir::core::clock::ManualClock;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::HashSet;
use std::sync::Arc;
use time::macros::datetime;

pub(crate) const REG: &str = "associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example";

pub(crate) fn team() -> String {
    format!("cn=incident-response,{REG}")
}

pub(crate) fn alice() -> String {
    format!("uid=alice,{REG}")
}

pub(crate) fn attrs(c: &mut LdapConn, dn: &str) -> SearchEntry {
    let (rs, _) = c
        .search(dn, Scope::Base, "(objectClass=*)", vec!["*"])
        .expect("search")
        .success()
        .expect("search success");
    SearchEntry::construct(rs.into_iter().next().expect("entry"))
}

pub(crate) fn one(e: &SearchEntry, a: &str) -> String {
    e.attrs
        .get(a)
        .and_then(|v| v.first().cloned())
        .unwrap_or_default()
}

pub(crate) fn replace(c: &mut LdapConn, dn: &str, a: &str, v: &str) -> u32 {
    let mods = vec![Mod::Replace(a, HashSet::from([v]))];
    c.modify(dn, mods).expect("modify").rc
}

pub(crate) fn vera() -> String {
    "cn=vera,ou=groups,dc=cctld-ir,dc=example".to_string()
}

/// The .zz registry with alice, its admin; vera, a verifier (cn=verifiers,ou=groups).
pub(crate) fn setup(s: &TestServer) {
    let mut c = s.admin();
    add(
        &mut c,
        &vera(),
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
        "cn=verifiers,ou=groups,dc=cctld-ir,dc=example",
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["verifiers"]),
            ("member", &[vera().as_str()]),
        ],
    );
    add(
        &mut c,
        REG,
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("o", &["Registry of .zz (example)"]),
            ("associatedDomain", &["zz"]),
        ],
    );
    add(
        &mut c,
        &alice(),
        &[
            (
                "objectClass",
                &["inetOrgPerson", "organizationalPerson", "person"],
            ),
            ("uid", &["alice"]),
            ("cn", &["Alice Example"]),
            ("sn", &["Example"]),
            ("userPassword", &["alice secret 1"]),
        ],
    );
    add(
        &mut c,
        &format!("cn=admins,{REG}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["admins"]),
            ("member", &[alice().as_str()]),
        ],
    );
}

#[test]
fn verification_cycle_with_a_controlled_clock() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-30 12:00 UTC)));
    let s = TestServer::start_with_clock(clock.clone(), |_| {});
    setup(&s);
    let mut admin = s.admin();
    // A new contact without a verification: pending, due within freshness.pending_days (14).
    add(
        &mut admin,
        &team(),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("associatedDomain", &["zz"]),
            ("telephoneNumber", &["+49 69 1234 0100"]),
            ("mail", &["security@nic-zz.example"]),
            ("facsimileTelephoneNumber", &["+49 69 1234 0101"]),
            ("cctldAvailable247", &["TRUE"]),
        ],
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldVerificationStatus"), "pending");
    assert_eq!(one(&e, "cctldVerificationDue"), "20261214120000Z");
    // Nobody checked anything yet: no recorder is named.
    assert!(!e.attrs.contains_key("cctldVerifiedBy"));
    assert_eq!(one(&e, "cctldVerificationNextMethod"), "voice");
    assert!(!e.attrs.contains_key("cctldLastVerified"));

    // The registry's admin cannot certify its own data: recording a verification is the
    // verifiers' (insufficientAccessRights, saying what the registry can do instead).
    clock.advance(time::Duration::hours(1));
    let mut a = s.conn();
    a.simple_bind(&alice(), "alice secret 1")
        .expect("bind")
        .success()
        .expect("alice bind");
    for (attr, value) in [
        ("cctldVerificationMethod", "voice"),
        ("cctldVerificationStatus", "verified"),
        ("cctldLastVerified", "20261130123000Z"),
    ] {
        let r = a
            .modify(&team(), vec![Mod::Replace(attr, HashSet::from([value]))])
            .expect("modify");
        assert_eq!(r.rc, 50, "{attr}: {}", r.text);
        assert!(
            r.text.contains("cn=verifiers,ou=groups") && r.text.contains("confirmed"),
            "{}",
            r.text
        );
    }
    // It confirms its data instead: still due, for a verifier; nothing else changes.
    assert_eq!(
        replace(&mut a, &team(), "cctldVerificationStatus", "confirmed"),
        0
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldVerificationStatus"), "confirmed");
    assert_eq!(one(&e, "cctldVerificationDue"), "20261214120000Z");
    assert!(!e.attrs.contains_key("cctldVerifiedBy"));
    assert!(!e.attrs.contains_key("cctldLastVerified"));

    // A verifier records a voice verification: due three calendar months later (30 November
    // -> 28 February), recorded by them, email suggested next.
    let mut v = s.conn();
    v.simple_bind(&vera(), "vera secret 12")
        .expect("bind")
        .success()
        .expect("vera bind");
    // A verifier writes the verification and nothing else of the registry's data.
    assert_eq!(replace(&mut v, &team(), "description", "checked"), 50);
    assert_eq!(
        replace(&mut v, &team(), "cctldVerificationMethod", "voice"),
        0
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldLastVerified"), "20261130130000Z");
    assert_eq!(one(&e, "cctldVerificationDue"), "20270228130000Z");
    assert_eq!(one(&e, "cctldVerificationStatus"), "verified");
    assert_eq!(one(&e, "cctldVerifiedBy"), vera());
    assert_eq!(one(&e, "cctldVerificationNextMethod"), "email");

    // Three months on: by e-mail, with the time of the check given; fax next.
    clock.set(datetime!(2027-02-27 09:00 UTC));
    let mods = vec![
        Mod::Replace("cctldVerificationMethod", HashSet::from(["email"])),
        Mod::Replace("cctldLastVerified", HashSet::from(["20270226160000Z"])),
    ];
    assert_eq!(v.modify(&team(), mods).expect("modify").rc, 0);
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldLastVerified"), "20270226160000Z");
    assert_eq!(one(&e, "cctldVerificationDue"), "20270526160000Z");
    assert_eq!(one(&e, "cctldVerificationNextMethod"), "fax");
    // Next after fax: no messenger and no postal address, so back to voice.
    assert_eq!(
        replace(&mut v, &team(), "cctldVerificationMethod", "fax"),
        0
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldVerificationNextMethod"), "voice");
    assert_eq!(one(&e, "cctldVerificationDue"), "20270527090000Z");

    // A failed check is due at once.
    assert_eq!(
        replace(&mut v, &team(), "cctldVerificationStatus", "failed"),
        0
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldVerificationDue"), "20270227090000Z");

    // Changed contact data: pending, due within 14 days, the last verification kept.
    clock.advance(time::Duration::days(1));
    assert_eq!(
        replace(&mut v, &team(), "cctldVerificationStatus", "verified"),
        0
    );
    clock.advance(time::Duration::days(1));
    assert_eq!(
        replace(&mut a, &team(), "telephoneNumber", "+49 69 1234 0199"),
        0
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldVerificationStatus"), "pending");
    assert_eq!(one(&e, "cctldVerificationDue"), "20270315090000Z");
    assert_eq!(one(&e, "cctldLastVerified"), "20270228090000Z");
    // cctldVerifiedBy still names who recorded that check, not the one who changed the data.
    assert_eq!(one(&e, "cctldVerifiedBy"), vera());
    // Other changes leave the cycle alone.
    assert_eq!(replace(&mut a, &team(), "description", "the team"), 0);
    assert_eq!(
        one(&attrs(&mut admin, &team()), "cctldVerificationDue"),
        "20270315090000Z"
    );

    // Unknown words and times in the future are refused (constraintViolation).
    assert_eq!(
        replace(&mut v, &team(), "cctldVerificationMethod", "pigeon"),
        19
    );
    assert_eq!(
        replace(&mut v, &team(), "cctldVerificationStatus", "maybe"),
        19
    );
    assert_eq!(
        replace(&mut v, &team(), "cctldLastVerified", "20300101000000Z"),
        19
    );

    // The freshness searches scripts run.
    let due = |c: &mut LdapConn, f: &str| -> Vec<String> {
        let (rs, _) = c
            .search(
                "ou=registries,dc=cctld-ir,dc=example",
                Scope::Subtree,
                f,
                vec!["1.1"],
            )
            .expect("search")
            .success()
            .expect("ok");
        rs.into_iter()
            .map(|r| SearchEntry::construct(r).dn)
            .collect()
    };
    assert_eq!(
        due(&mut admin, "(cctldVerificationDue<=20270315090000Z)"),
        vec![team()]
    );
    assert!(due(&mut admin, "(cctldVerificationDue<=20270315085959Z)").is_empty());
    assert_eq!(due(&mut admin, "(cctldAvailable247=TRUE)"), vec![team()]);

    // The computed attributes: a registry admin cannot postpone the due date or name another
    // verifier; a directory admin (manage access) can, and the value stays.
    for (a_, v) in [
        ("cctldVerificationDue", "20300101000000Z"),
        ("cctldVerifiedBy", ADMIN),
        ("cctldVerificationNextMethod", "letter"),
    ] {
        assert_eq!(replace(&mut a, &team(), a_, v), 19, "{a_}");
    }
    assert_eq!(
        replace(
            &mut admin,
            &team(),
            "cctldVerificationDue",
            "20270401000000Z"
        ),
        0
    );
    let e = attrs(&mut admin, &team());
    assert_eq!(one(&e, "cctldVerificationDue"), "20270401000000Z");
    assert_eq!(one(&e, "cctldVerifiedBy"), vera());
}

#[test]
fn freshness_attributes_are_indexed_by_default() {
    let c = ccdir::service::config::Config::default();
    for a in ["cctldVerificationDue", "cctldAvailable247"] {
        assert!(c.index.eq.iter().any(|x| x == a), "{a} not indexed");
    }
}

#[test]
fn freshness_searches_are_answered_from_the_indexes() {
    use ccdir::core::filter::{Filter, Tri};
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut c = test_config(tmp.path());
    c.load_sample = true;
    let dir = ccdir::app::server::open_directory(&c, Arc::new(ccdir::core::clock::SystemClock))
        .expect("open");
    ccdir::app::bootstrap::ensure_base(&dir).expect("sample");
    let all = ccdir::tools::offline::entries(&dir, None, None).expect("entries");
    let snap = dir.store.read().expect("snapshot");
    for text in [
        "(cctldVerificationDue<=20261123000000Z)",
        "(cctldVerificationDue>=20261123000000Z)",
        "(cctldAvailable247=TRUE)",
        "(&(objectClass=cctldContact)(cctldVerificationDue<=20261123000000Z))",
    ] {
        let f = Filter::compile(
            &ccdir::core::filter_text::parse(text).expect("filter"),
            &dir.schema,
            dir.filter_limits(),
        )
        .expect("compile");
        let matching = all
            .iter()
            .filter(|e| f.eval(e, &dir.schema) == Tri::True)
            .count();
        assert!(matching > 10, "{text}: {matching}");
        // The planner narrows to exactly the matching entries: no scan of the directory.
        let ids = ccdir::store::index::candidates(&f, dir.store.index_spec(), &snap)
            .expect("index read")
            .unwrap_or_else(|| panic!("{text} is not answered from an index"));
        assert_eq!(ids.len(), matching, "{text}");
    }
}

/// Issue 15, part 4: a contact past its due date reads `overdue`, whatever was stored, in
/// search results, filters and compare; before the due date it reads what was recorded.
#[test]
fn a_contact_past_its_due_date_reads_overdue() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-04 12:00 UTC)));
    let s = TestServer::start_with_clock(clock.clone(), |c| c.load_sample = true);
    let mut a = s.admin();
    // The sample's contacts, by their stored due date: before now, and from now on.
    let (overdue, _) = a
        .search(
            "ou=registries,dc=cctld-ir,dc=example",
            Scope::Subtree,
            "(&(objectClass=cctldContact)(cctldVerificationDue<=20261204115959Z))",
            vec!["cctldVerificationStatus", "cctldVerificationDue"],
        )
        .expect("search")
        .success()
        .expect("ok");
    assert!(!overdue.is_empty(), "the sample has overdue contacts");
    for e in &overdue {
        let e = SearchEntry::construct(e.clone());
        assert_eq!(one(&e, "cctldVerificationStatus"), "overdue", "{}", e.dn);
    }
    let (by_status, _) = a
        .search(
            "ou=registries,dc=cctld-ir,dc=example",
            Scope::Subtree,
            "(cctldVerificationStatus=overdue)",
            vec!["1.1"],
        )
        .expect("search")
        .success()
        .expect("ok");
    assert_eq!(
        by_status.len(),
        overdue.len(),
        "the filter sees the derived status"
    );
    let (current, _) = a
        .search(
            "ou=registries,dc=cctld-ir,dc=example",
            Scope::Subtree,
            "(&(objectClass=cctldContact)(cctldVerificationDue>=20261204120000Z))",
            vec!["cctldVerificationStatus"],
        )
        .expect("search")
        .success()
        .expect("ok");
    assert!(!current.is_empty());
    for e in &current {
        let e = SearchEntry::construct(e.clone());
        assert_ne!(one(&e, "cctldVerificationStatus"), "overdue", "{}", e.dn);
    }
    let dn = SearchEntry::construct(overdue[0].clone()).dn;
    let r = a
        .compare(&dn, "cctldVerificationStatus", "overdue")
        .expect("compare");
    assert_eq!(r.0.rc, 6, "compareTrue");
    // A month later, more are overdue.
    clock.set(datetime!(2027-01-04 12:00 UTC));
    let (later, _) = a
        .search(
            "ou=registries,dc=cctld-ir,dc=example",
            Scope::Subtree,
            "(cctldVerificationStatus=overdue)",
            vec!["1.1"],
        )
        .expect("search")
        .success()
        .expect("ok");
    assert!(later.len() > overdue.len());
}

#[test]
fn the_derived_status_cannot_be_indexed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut c = test_config(tmp.path());
    c.index.eq.push("cctldVerificationStatus".into());
    let e = c.validate().expect_err("refused");
    assert!(e.contains("derived"), "{e}");
}

/// Issue 15, part 4: a directory admin may change anything, but records a verification only
/// as a verifier (or when the configuration names its group as a recorder group).
#[test]
fn a_directory_admin_records_only_as_a_verifier_or_when_configured() {
    for configured in [false, true] {
        let s = TestServer::start_with(|c| {
            if configured {
                c.freshness.recorders = Some(vec![
                    "cn=directory-admins,ou=groups,dc=cctld-ir,dc=example".into(),
                ]);
            }
        });
        setup(&s);
        let mut admin = s.admin();
        let ops = "cn=ops,ou=groups,dc=cctld-ir,dc=example";
        add(
            &mut admin,
            ops,
            &[
                (
                    "objectClass",
                    &["organizationalRole", "simpleSecurityObject"],
                ),
                ("cn", &["ops"]),
                ("userPassword", &["ops secret 1234"]),
            ],
        );
        add(
            &mut admin,
            "cn=directory-admins,ou=groups,dc=cctld-ir,dc=example",
            &[
                ("objectClass", &["groupOfNames"]),
                ("cn", &["directory-admins"]),
                ("member", &[ops]),
            ],
        );
        add(
            &mut admin,
            &team(),
            &[
                ("objectClass", &["organizationalRole", "cctldContact"]),
                ("cn", &["incident-response"]),
                ("associatedDomain", &["zz"]),
                ("telephoneNumber", &["+49 69 1234 0100"]),
            ],
        );
        let mut o = s.conn();
        o.simple_bind(ops, "ops secret 1234")
            .expect("bind")
            .success()
            .expect("ops bind");
        // A directory admin changes the registry's data freely...
        assert_eq!(replace(&mut o, &team(), "description", "by ops"), 0);
        // ...but records a verification only where the policy lets it.
        let rc = replace(&mut o, &team(), "cctldVerificationMethod", "voice");
        if configured {
            assert_eq!(rc, 0);
            assert_eq!(one(&attrs(&mut admin, &team()), "cctldVerifiedBy"), ops);
        } else {
            assert_eq!(rc, 50);
            // Joining the verifiers makes it a recorder.
            let r = admin
                .modify(
                    "cn=verifiers,ou=groups,dc=cctld-ir,dc=example",
                    vec![Mod::Add("member", HashSet::from([ops]))],
                )
                .expect("modify");
            assert_eq!(r.rc, 0, "{}", r.text);
            assert_eq!(
                replace(&mut o, &team(), "cctldVerificationMethod", "voice"),
                0
            );
            let e = attrs(&mut admin, &team());
            assert_eq!(one(&e, "cctldVerifiedBy"), ops);
            assert_eq!(one(&e, "cctldVerificationStatus"), "verified");
        }
    }
}
