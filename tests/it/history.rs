//! The verification history (docs/operations/freshness.md, "History"): every recorded
//! verification and confirmation kept as an entry nobody can change, readable by the registry
//! and the verifiers, exported with the rest; and the changelog over LDAP (`cn=changelog`), each
//! change shown only as far as the reader may read its entry. Read with the ldap3 client and
//! OpenLDAP's ldapsearch.

use crate::freshness::{alice, attrs, one, replace, setup, team, vera, REG};
use crate::harness::*;
use base64::Engine;
use ccdir::core::clock::ManualClock;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::HashSet;
use std::sync::Arc;
use time::macros::datetime;

const OTHER: &str = "associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example";

fn history() -> String {
    format!("ou=history,{REG}")
}

fn bob() -> String {
    format!("uid=bob,{OTHER}")
}

/// Setup of freshness.rs (.zz with alice its admin, vera a verifier), the .zz team contact, and
/// bob, a person of another member registry (.yy): everyone below ou=registries is a member.
fn start(clock: Arc<ManualClock>) -> TestServer {
    let s = TestServer::start_with_clock(clock, |_| {});
    setup(&s);
    grant_members(&s);
    let mut c = s.admin();
    add(
        &mut c,
        &team(),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("associatedDomain", &["zz"]),
            ("telephoneNumber", &["+49 69 1234 0100"]),
            ("mail", &["security@nic-zz.example"]),
            ("cctldAvailable247", &["TRUE"]),
        ],
    );
    add(
        &mut c,
        OTHER,
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("o", &["Registry of .yy (example)"]),
            ("associatedDomain", &["yy"]),
        ],
    );
    add(
        &mut c,
        &bob(),
        &[
            (
                "objectClass",
                &["inetOrgPerson", "organizationalPerson", "person"],
            ),
            ("uid", &["bob"]),
            ("cn", &["Bob Example"]),
            ("sn", &["Example"]),
            ("userPassword", &["bob secret 123"]),
        ],
    );
    s
}

fn bind(s: &TestServer, dn: &str, pw: &str) -> LdapConn {
    let mut c = s.conn();
    c.simple_bind(dn, pw)
        .expect("bind")
        .success()
        .unwrap_or_else(|e| panic!("bind {dn}: {e}"));
    c
}

fn records(c: &mut LdapConn) -> Vec<SearchEntry> {
    let r = c
        .search(
            &history(),
            Scope::OneLevel,
            "(objectClass=cctldVerificationRecord)",
            vec!["*", "+"],
        )
        .expect("search");
    let mut v: Vec<SearchEntry> = r.0.into_iter().map(SearchEntry::construct).collect();
    v.sort_by_key(|e| one(e, "cctldRecordId"));
    v
}

fn rc_modify(c: &mut LdapConn, dn: &str, a: &str, v: &str) -> (u32, String) {
    let r = c
        .modify(dn, vec![Mod::Replace(a, HashSet::from([v]))])
        .expect("modify");
    (r.rc, r.text)
}

#[test]
fn verifications_are_kept_as_records_nobody_can_change() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-01 09:00 UTC)));
    let s = start(clock.clone());
    let mut v = bind(&s, &vera(), "vera secret 12");
    let mods = vec![
        Mod::Replace("cctldVerificationMethod", HashSet::from(["voice"])),
        Mod::Replace("cctldVerificationStatus", HashSet::from(["verified"])),
        Mod::Replace(
            "cctldVerificationNote",
            HashSet::from(["called the 24/7 line, the duty officer answered"]),
        ),
    ];
    assert_eq!(v.modify(&team(), mods).expect("modify").rc, 0);
    let contact = attrs(&mut v, &team());
    assert_eq!(
        one(&contact, "cctldVerificationNote"),
        "called the 24/7 line, the duty officer answered"
    );
    let uuid = {
        let (rs, _) = v
            .search(&team(), Scope::Base, "(objectClass=*)", vec!["entryUUID"])
            .expect("search")
            .success()
            .expect("ok");
        one(&SearchEntry::construct(rs[0].clone()), "entryUUID")
    };

    // The record: who, when, how, the result and the note, under ou=history of the registry.
    let r = records(&mut v);
    assert_eq!(r.len(), 1, "{r:?}");
    let rec = &r[0];
    assert!(
        rec.dn
            .to_ascii_lowercase()
            .ends_with(&history().to_ascii_lowercase()),
        "{}",
        rec.dn
    );
    assert_eq!(one(rec, "cctldVerifiedContact"), team());
    assert_eq!(one(rec, "cctldVerifiedContactUUID"), uuid);
    assert_eq!(one(rec, "cctldVerifiedBy"), vera());
    assert_eq!(one(rec, "cctldVerificationStatus"), "verified");
    assert_eq!(one(rec, "cctldVerificationMethod"), "voice");
    assert_eq!(one(rec, "cctldLastVerified"), "20261201090000Z");
    assert_eq!(
        one(rec, "cctldVerificationNote"),
        "called the 24/7 line, the duty officer answered"
    );
    assert_eq!(one(rec, "associatedDomain"), "zz");
    assert_eq!(one(rec, "creatorsName"), vera());

    // A week later the registry confirms its data: a second record, "confirmed", by alice; the
    // verifier's note, which belonged to the earlier check, leaves the contact.
    clock.advance(time::Duration::days(7));
    let mut a = bind(&s, &alice(), "alice secret 1");
    assert_eq!(
        replace(&mut a, &team(), "cctldVerificationStatus", "confirmed"),
        0
    );
    assert!(!attrs(&mut a, &team())
        .attrs
        .contains_key("cctldVerificationNote"));
    // The registry's admin reads its history.
    let r = records(&mut a);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(one(&r[1], "cctldVerificationStatus"), "confirmed");
    assert_eq!(one(&r[1], "cctldVerifiedBy"), alice());
    assert!(!r[1].attrs.contains_key("cctldVerificationMethod"));
    assert!(!r[1].attrs.contains_key("cctldLastVerified"));
    // A data change is not a check: no record.
    assert_eq!(
        replace(&mut a, &team(), "telephoneNumber", "+49 69 1234 0199"),
        0
    );
    assert_eq!(records(&mut a).len(), 2);

    // Another member registry reads the contact, but not the history.
    let mut b = bind(&s, &bob(), "bob secret 123");
    assert_eq!(
        one(&attrs(&mut b, &team()), "mail"),
        "security@nic-zz.example"
    );
    assert!(records(&mut b).is_empty());
    let res = b
        .search(&r[0].dn, Scope::Base, "(objectClass=*)", vec!["*"])
        .expect("search");
    assert_eq!(res.1.rc, 32, "a record is invisible to other registries");

    // Nobody changes or renames a record: not the registry, not the verifier, not the
    // directory's administrator (unwillingToPerform); the registry may not delete one either.
    let rec_dn = r[0].dn.clone();
    let mut root = s.admin();
    for (who, c) in [("alice", &mut a), ("vera", &mut v), ("admin", &mut root)] {
        let (rc, text) = rc_modify(c, &rec_dn, "cctldVerificationStatus", "failed");
        let want = if who == "admin" { 53 } else { 50 };
        assert!(rc == want || rc == 53, "{who}: {rc} {text}");
    }
    let (rc, text) = rc_modify(&mut root, &rec_dn, "cctldVerificationNote", "rewritten");
    assert_eq!(rc, 53, "{text}");
    assert!(text.contains("cannot be changed"), "{text}");
    let r2 = root
        .modifydn(&rec_dn, "cctldRecordId=forged", true, None)
        .expect("modrdn");
    assert_eq!(r2.rc, 53, "{}", r2.text);
    // Nobody adds one: the registry lacks write access to records, and even the directory's
    // administrator is told they are the server's.
    let (t, vr) = (team(), vera());
    let forged = [
        ("objectClass", &["cctldVerificationRecord"][..]),
        ("cctldRecordId", &["forged"]),
        ("cctldVerifiedContact", &[t.as_str()]),
        ("cctldVerificationStatus", &["verified"]),
        ("cctldVerifiedBy", &[vr.as_str()]),
    ];
    let forged: Vec<(&str, HashSet<&str>)> = forged
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect();
    let dn = format!("cctldRecordId=forged,{}", history());
    assert_eq!(a.add(&dn, forged.clone()).expect("add").rc, 50);
    let r3 = root.add(&dn, forged).expect("add");
    assert_eq!(r3.rc, 53, "{}", r3.text);
    assert!(r3.text.contains("written by the server"), "{}", r3.text);
    // Deleting: the registry may not; a directory admin may (retention).
    assert_eq!(a.delete(&rec_dn).expect("delete").rc, 50);
    assert_eq!(root.delete(&rec_dn).expect("delete").rc, 0);
    assert_eq!(records(&mut v).len(), 1);
}

#[test]
fn the_verify_command_keeps_a_record_and_export_carries_the_history() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-01 09:00 UTC)));
    let s = start(clock);
    let tmp = s.stop().expect("data dir");
    let data = tmp.path();
    let o = ccdir(
        &[
            "verify",
            "--method",
            "email",
            "--by",
            &vera(),
            "--note",
            "security@ answered within the hour",
            &team(),
        ],
        data,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("cctldVerificationNote: security@ answered within the hour"),
        "{}",
        stdout(&o)
    );
    // Exported with the rest, and an import of the export keeps it (origin import may carry
    // records; clients may not add them).
    let o = ccdir(&["export"], data);
    assert!(o.status.success(), "{}", stderr(&o));
    let ldif = stdout(&o);
    assert!(ldif.contains(&format!("dn: ou=history,{REG}")), "{ldif}");
    let rec = ldif
        .split("\n\n")
        .find(|e| e.contains("objectClass: cctldVerificationRecord"))
        .unwrap_or_else(|| panic!("no record exported\n{ldif}"));
    assert!(
        rec.contains(&format!("cctldVerifiedBy: {}", vera())),
        "{rec}"
    );
    assert!(rec.contains("cctldVerificationMethod: email"), "{rec}");
    assert!(
        rec.contains("cctldVerificationNote: security@ answered within the hour"),
        "{rec}"
    );
    let other = tempfile::tempdir().expect("tmp");
    let file = other.path().join("export.ldif");
    std::fs::write(&file, &ldif).expect("write");
    let d2 = other.path().join("data");
    std::fs::create_dir(&d2).expect("mkdir");
    let o = ccdir(&["import", "-q", file.to_str().expect("path")], &d2);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = ccdir(&["export"], &d2);
    assert!(
        stdout(&o).contains("objectClass: cctldVerificationRecord"),
        "{}",
        stdout(&o)
    );
}

/// `changes` values as ldapsearch prints them (base64: they hold newlines).
fn changes_of(ldif: &str) -> Vec<String> {
    ldif.lines()
        .filter_map(|l| l.strip_prefix("changes:: "))
        .map(|b| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b)
                .expect("base64");
            String::from_utf8(raw).expect("utf-8")
        })
        .collect()
}

fn ldapsearch(s: &TestServer, bind: Option<(&str, &str)>, args: &[&str]) -> (i32, String) {
    let url = s.ldap_url();
    let mut a: Vec<&str> = vec!["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &url];
    if let Some((dn, pw)) = bind {
        a.extend(["-D", dn, "-w", pw]);
    }
    a.extend_from_slice(args);
    let o = s.tool("ldapsearch", &a, None);
    (code(&o), stdout(&o))
}

#[test]
fn the_changelog_is_readable_over_ldap_as_far_as_the_entries_are() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-01 09:00 UTC)));
    let s = start(clock);
    let admin_pw = s.admin_password();
    let admin = (ADMIN, admin_pw.as_str());
    // Where the changelog is, and its numbers, in the root DSE.
    let (rc, dse) = ldapsearch(
        &s,
        None,
        &[
            "-b",
            "",
            "-s",
            "base",
            "changelog",
            "firstChangeNumber",
            "lastChangeNumber",
        ],
    );
    assert_eq!(rc, 0, "{dse}");
    assert!(dse.contains("changelog: cn=changelog"), "{dse}");
    let last: u64 = dse
        .lines()
        .find_map(|l| l.strip_prefix("lastChangeNumber: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{dse}"));

    // A verification, a password change and a deletion after that point.
    let mut v = bind(&s, &vera(), "vera secret 12");
    let mods = vec![
        Mod::Replace("cctldVerificationMethod", HashSet::from(["voice"])),
        Mod::Replace("cctldVerificationNote", HashSet::from(["fine"])),
    ];
    assert_eq!(v.modify(&team(), mods).expect("modify").rc, 0);
    let mut root = s.admin();
    assert_eq!(
        replace(&mut root, &alice(), "userPassword", "alice new secret 2"),
        0
    );
    add_person(&mut root, "gone", "Gone Example");
    assert_eq!(
        replace(&mut root, &person_dn("gone"), "mail", "gone@x.example"),
        0
    );
    assert_eq!(root.delete(&person_dn("gone")).expect("delete").rc, 0);

    let filter = format!("(changeNumber>={})", last + 1);
    let (rc, out) = ldapsearch(&s, Some(admin), &["-b", "cn=changelog", &filter, "*", "+"]);
    assert_eq!(rc, 0, "{out}");
    let entries: Vec<&str> = out.split("\n\n").filter(|e| e.contains("dn: ")).collect();
    // The verification's modify of the contact, its record (and ou=history), alice's password,
    // gone's add, modify and delete.
    let of = |dn: &str, kind: &str| {
        entries
            .iter()
            .find(|e| {
                e.lines()
                    .any(|l| l.eq_ignore_ascii_case(&format!("targetDN: {dn}")))
                    && e.contains(&format!("changeType: {kind}"))
            })
            .copied()
    };
    let m = of(&team(), "modify").unwrap_or_else(|| panic!("{out}"));
    assert!(
        m.starts_with(&format!("dn: changeNumber={}", last + 1)),
        "{m}"
    );
    assert!(m.contains(&format!("creatorsName: {}", vera())), "{m}");
    assert!(m.contains("changeTime: 20261201090000Z"), "{m}");
    let ch = changes_of(m).join("");
    assert!(
        ch.contains("replace: cctldVerificationMethod\ncctldVerificationMethod: voice\n-\n"),
        "{ch}"
    );
    assert!(ch.contains("cctldVerificationStatus: verified"), "{ch}");
    assert!(ch.contains("cctldVerifiedBy: cn=vera"), "{ch}");
    let rec = entries
        .iter()
        .find(|e| e.contains("changeType: add") && e.contains("targetDN: cctldRecordId="))
        .copied()
        .unwrap_or_else(|| panic!("no record add\n{out}"));
    assert!(changes_of(rec)
        .join("")
        .contains("cctldVerificationNote: fine"));
    // A password change is logged by name, never with a value.
    let p = of(&alice(), "modify").unwrap_or_else(|| panic!("{out}"));
    assert!(p.contains("changedAttribute: userPassword"), "{p}");
    assert!(changes_of(p).join("").is_empty(), "{p}");
    let gone_mod = of(&person_dn("gone"), "modify").unwrap_or_else(|| panic!("{out}"));
    assert!(changes_of(gone_mod)
        .join("")
        .contains("mail: gone@x.example"));
    assert!(of(&person_dn("gone"), "delete").is_some(), "{out}");

    // A member of another registry: the contact's change with its values, not the history
    // record, and nothing of the values of an entry that is gone.
    let (rc, out) = ldapsearch(
        &s,
        Some((&bob(), "bob secret 123")),
        &["-b", "cn=changelog", &filter],
    );
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("targetDN: {}", team())), "{out}");
    assert!(!out.contains("targetDN: cctldRecordId="), "{out}");
    let bob_entries: Vec<&str> = out.split("\n\n").collect();
    let gone = bob_entries
        .iter()
        .find(|e| {
            e.contains(&format!("targetDN: {}", person_dn("gone")))
                && e.contains("changeType: modify")
        })
        .unwrap_or_else(|| panic!("{out}"));
    assert!(changes_of(gone).is_empty(), "{gone}");

    // One change by its DN; paging; anonymous sees nothing; the changelog is read-only.
    let one_dn = format!("changeNumber={},cn=changelog", last + 1);
    let (rc, out) = ldapsearch(&s, Some(admin), &["-b", &one_dn, "-s", "base"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("targetDN: {}", team())), "{out}");
    let (rc, paged) = ldapsearch(
        &s,
        Some(admin),
        &[
            "-E",
            "pr=2/noprompt",
            "-b",
            "cn=changelog",
            "-s",
            "one",
            &filter,
            "changeNumber",
        ],
    );
    assert_eq!(rc, 0, "{paged}");
    let (_, all) = ldapsearch(
        &s,
        Some(admin),
        &["-b", "cn=changelog", "-s", "one", &filter, "changeNumber"],
    );
    let numbers = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with("changeNumber: "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(numbers(&all).len() >= 6, "{all}");
    assert_eq!(numbers(&paged), numbers(&all));
    let (rc, out) = ldapsearch(&s, None, &["-b", "cn=changelog", &filter]);
    assert_eq!(rc, 32, "{out}");
    let r = root
        .modify(
            &one_dn,
            vec![Mod::Replace("changeType", HashSet::from(["add"]))],
        )
        .expect("modify");
    assert_eq!(r.rc, 53, "{}", r.text);
    assert_eq!(root.delete(&one_dn).expect("delete").rc, 53);
}
