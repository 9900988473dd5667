//! LDIF in and out: `ccdir import`, `ccdir export`, the sample directory loaded on first start.

use crate::harness::*;
use std::process::{Command, Output};

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// LDIF of `n` organizationalRole entries `cn=<prefix><i>` under ou=registries.
fn roles(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "dn: cn={prefix}{i},ou=registries,dc=cctld-ir,dc=example\nobjectClass: organizationalRole\ncn: {prefix}{i}\n\n"
            )
        })
        .collect()
}

#[test]
fn sample_directory_is_loaded_on_first_start() {
    let s = TestServer::start_with(|c| c.load_sample = true);
    let mut c = s.admin();
    let count = |c: &mut ldap3::LdapConn, f: &str| {
        c.search(SUFFIX, ldap3::Scope::Subtree, f, vec!["1.1"])
            .expect("search")
            .0
            .len()
    };
    assert!(count(&mut c, "(objectClass=cctldRegistry)") > 250);
    assert!(
        count(&mut c, "(&(objectClass=cctldRegistry)(cctldULabel=*))") > 50,
        "IDN ccTLDs"
    );
    assert!(
        count(
            &mut c,
            "(&(objectClass=inetOrgPerson)(objectClass=cctldContact))"
        ) > 400
    );
    let overdue = count(
        &mut c,
        "(&(objectClass=cctldContact)(cctldVerificationDue<=20261123000000Z))",
    );
    let total = count(&mut c, "(objectClass=cctldContact)");
    assert!(
        overdue > 0 && overdue < total,
        "{overdue} of {total} overdue"
    );
    let r = c
        .search(
            SUFFIX,
            ldap3::Scope::Subtree,
            "(&(objectClass=organizationalRole)(associatedDomain=br))",
            vec!["cctldTimeZone", "mail"],
        )
        .expect("search");
    let e = ldap3::SearchEntry::construct(r.0[0].clone());
    assert_eq!(e.attrs["cctldTimeZone"], vec!["America/Sao_Paulo"]);
    assert!(e.attrs["mail"][0].ends_with(".example"));
    // A person of a member registry reads the directory under the default policy.
    let r = c
        .search(
            SUFFIX,
            ldap3::Scope::Subtree,
            "(&(objectClass=inetOrgPerson)(associatedDomain=br))",
            vec!["1.1"],
        )
        .expect("search");
    let person = ldap3::SearchEntry::construct(r.0[0].clone()).dn;
    let pm = ldap3::exop::PasswordModify {
        user_id: Some(&person),
        old_pass: None,
        new_pass: Some("sample-person-pw"),
    };
    assert_eq!(c.extended(pm).expect("pm").1.rc, 0);
    let mut p = s.conn();
    assert_eq!(
        p.simple_bind(&person, "sample-person-pw").expect("bind").rc,
        0
    );
    assert!(count(&mut p, "(objectClass=cctldRegistry)") > 250);
    // Restart does not load it twice.
    drop(c);
    let s = s.restart();
    let mut c = s.admin();
    assert!(count(&mut c, "(objectClass=cctldRegistry)") > 250);
}

#[test]
fn export_import_export_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d1 = tmp.path().join("one");
    let d2 = tmp.path().join("two");
    {
        let s = TestServer::start_config({
            let mut c = test_config(&d1);
            c.load_sample = true;
            c
        });
        let mut c = s.admin();
        // Some history: a modified and a renamed entry, a binary value.
        add_person(&mut c, "ann", "Ann Example");
        c.modify(
            &person_dn("ann"),
            vec![ldap3::Mod::Add(
                "mail",
                ["ann@x.example"].into_iter().collect(),
            )],
        )
        .expect("mod");
        c.modifydn(&person_dn("ann"), "uid=ann2", true, None)
            .expect("moddn");
    }
    let a = tmp.path().join("a.ldif");
    let o = ccdir(&["export", "-o", a.to_str().expect("path")], &d1);
    assert!(o.status.success(), "{}", err(&o));
    let o = ccdir(&["import", "-q", a.to_str().expect("path")], &d2);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("imported"), "{}", err(&o));
    let b = tmp.path().join("b.ldif");
    let o = ccdir(&["export", "-o", b.to_str().expect("path")], &d2);
    assert!(o.status.success(), "{}", err(&o));
    let (a, b) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(a.len() > 100_000);
    assert!(a == b, "export -> import -> export differs");
    // The imported directory serves, with the same admin password and entryUUIDs.
    let text = String::from_utf8_lossy(&a);
    assert!(text.contains("entryUUID: "));
    let s = TestServer::start_config(test_config(&d2));
    let mut c = ldap3::LdapConn::new(&s.ldap_url()).expect("conn");
    let pw = std::fs::read_to_string(d1.join("admin-password")).expect("pw");
    assert_eq!(c.simple_bind(ADMIN, &pw).expect("bind").rc, 0);
    let r = c
        .search(SUFFIX, ldap3::Scope::Subtree, "(uid=ann2)", vec!["mail"])
        .expect("search");
    assert_eq!(r.0.len(), 1);
    // --base and --no-operational.
    drop(c);
    drop(s);
    let o = ccdir(
        &[
            "export",
            "--base",
            &format!("ou=groups,{SUFFIX}"),
            "--no-operational",
        ],
        &d2,
    );
    assert!(o.status.success(), "{}", err(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with(&format!("dn: ou=groups,{SUFFIX}")));
    assert!(
        !out.contains("entryUUID")
            && !out
                .lines()
                .any(|l| l.starts_with("dn:") && l.contains("registries,"))
    );
}

#[test]
fn import_is_all_or_nothing_and_names_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let f = tmp.path().join("in.ldif");
    std::fs::write(
        &f,
        format!(
            "{BASE_LDIF}dn: cn=a,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
cn: a

dn: cn=b,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
cn: b
nosuchattr: x

dn: cn=c,ou=registries,dc=cctld-ir,dc=example
objectClass: person
cn: c
"
        ),
    )
    .expect("write");
    let o = ccdir(&["import", "-q", f.to_str().expect("path")], &data);
    assert!(!o.status.success());
    let e = err(&o);
    assert!(e.contains("in.ldif:16:") && e.contains("nosuchattr"), "{e}");
    assert!(e.contains("in.ldif:21:") && e.contains("'sn'"), "{e}");
    assert!(e.contains("nothing was imported"), "{e}");
    let o = ccdir(&["export"], &data);
    assert!(
        !o.status.success(),
        "the store stays empty: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    // --continue imports the good ones and lists the bad.
    let o = ccdir(
        &["import", "-q", "--continue", f.to_str().expect("path")],
        &data,
    );
    assert!(!o.status.success());
    assert!(err(&o).contains("imported 3 entries"), "{}", err(&o));
    let o = ccdir(&["export", "--no-operational"], &data);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("dn: cn=a,") && !out.contains("dn: cn=b,") && !out.contains("dn: cn=c,"));
}

#[test]
fn import_takes_children_before_parents_reports_orphans_and_accepts_slapcat_output() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let f = tmp.path().join("slapcat.ldif");
    // Child before its parent; slapcat's operational attributes (contextCSN is OpenLDAP's own).
    std::fs::write(
        &f,
        "dn: uid=x,ou=people,dc=cctld-ir,dc=example
objectClass: inetOrgPerson
uid: x
cn: X
sn: X
userPassword:: e1NTSEF9ZGVhZGJlZWY=
structuralObjectClass: inetOrgPerson
entryUUID: 3c0f6f2e-1111-4222-8333-444455556666
creatorsName: cn=admin,dc=cctld-ir,dc=example
createTimestamp: 20240102030405Z
entryCSN: 20240102030405.000000Z#000000#000#000000
modifiersName: cn=admin,dc=cctld-ir,dc=example
modifyTimestamp: 20240102030405Z

dn: dc=cctld-ir,dc=example
objectClass: top
objectClass: dcObject
objectClass: organization
dc: cctld-ir
o: Test
contextCSN: 20240102030405.000000Z#000000#000#000000

dn: ou=people,dc=cctld-ir,dc=example
objectClass: organizationalUnit
ou: people

dn: uid=lost,ou=nowhere,dc=cctld-ir,dc=example
objectClass: inetOrgPerson
uid: lost
cn: L
sn: L
",
    )
    .expect("write");
    let o = ccdir(
        &["import", "-q", "--continue", f.to_str().expect("path")],
        &data,
    );
    let e = err(&o);
    assert!(
        e.contains("slapcat.ldif:27:") && e.contains("orphan"),
        "{e}"
    );
    assert!(e.contains("imported 3 entries"), "{e}");
    let o = ccdir(&["export"], &data);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("entryUUID: 3c0f6f2e-1111-4222-8333-444455556666"),
        "{out}"
    );
    assert!(out.contains("createTimestamp: 20240102030405Z"));
    assert!(out.contains("userPassword: {SSHA}deadbeef"), "{out}");
    assert!(!out.contains("contextCSN"));
    // Parents come first in the export whatever the input order.
    let p = out.find("dn: ou=people").expect("ou");
    let x = out.find("dn: uid=x").expect("x");
    assert!(p < x);
}

#[test]
fn import_refuses_a_data_dir_in_use() {
    let s = TestServer::start();
    let f = s.data.join("x.ldif");
    std::fs::write(&f, BASE_LDIF).expect("write");
    let o = ccdir(&["import", "-q", f.to_str().expect("path")], &s.data);
    assert!(!o.status.success());
    assert!(err(&o).contains("in use"), "{}", err(&o));
}

#[test]
fn online_bulk_add_with_ldapadd_continue() {
    let s = TestServer::start();
    let mut ldif = String::new();
    for i in 0..300 {
        ldif.push_str(&format!(
            "dn: uid=bulk{i},ou=registries,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: bulk{i}\ncn: Bulk {i}\nsn: Bulk\n\n"
        ));
    }
    // One bad entry in the middle.
    ldif.push_str(&format!(
        "dn: uid=bad,ou=registries,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: bad\ncn: Bad\n\n"
    ));
    let f = s.data.join("bulk.ldif");
    std::fs::write(&f, ldif).expect("write");
    let pw = s.admin_password_file();
    let o = s.tool(
        "ldapadd",
        &[
            "-x",
            "-c",
            "-H",
            &s.ldap_url(),
            "-D",
            ADMIN,
            "-y",
            pw.to_str().expect("p"),
            "-f",
            f.to_str().expect("f"),
        ],
        None,
    );
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    let mut c = s.admin();
    let r = c
        .search(SUFFIX, ldap3::Scope::Subtree, "(uid=bulk*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.0.len(), 300);
}

#[test]
fn migrated_ssha_password_binds_and_is_upgraded_to_argon2id() {
    use base64::Engine;
    use sha1::Digest;
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let salt = b"NaCl4you";
    let mut raw = sha1::Sha1::new()
        .chain_update(b"old secret")
        .chain_update(salt)
        .finalize()
        .to_vec();
    raw.extend_from_slice(salt);
    let ssha = format!(
        "{{SSHA}}{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    let f = tmp.path().join("m.ldif");
    std::fs::write(
        &f,
        format!(
            "{BASE_LDIF}dn: uid=m,ou=registries,dc=cctld-ir,dc=example
objectClass: inetOrgPerson
uid: m
cn: M
sn: M
userPassword: {ssha}

dn: {ADMIN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: admin
userPassword: {ssha}
"
        ),
    )
    .expect("write");
    let o = ccdir(&["import", "-q", f.to_str().expect("path")], &data);
    assert!(o.status.success(), "{}", err(&o));
    let s = TestServer::start_config(test_config(&data));
    let dn = format!("uid=m,ou=registries,{SUFFIX}");
    let mut u = s.conn();
    assert_eq!(u.simple_bind(&dn, "wrong").expect("bind").rc, 49);
    assert_eq!(u.simple_bind(&dn, "old secret").expect("bind").rc, 0);
    let mut a = s.conn();
    assert_eq!(a.simple_bind(ADMIN, "old secret").expect("bind").rc, 0);
    let r = a
        .search(
            &dn,
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["userPassword", "modifiersName"],
        )
        .expect("search");
    let e = ldap3::SearchEntry::construct(r.0[0].clone());
    assert!(
        e.attrs["userPassword"][0].starts_with("{ARGON2}$argon2id$"),
        "{:?}",
        e.attrs["userPassword"]
    );
    assert_eq!(
        e.attrs["modifiersName"][0].to_lowercase(),
        dn.to_lowercase()
    );
    // The new hash works, and so does the same password.
    let mut u2 = s.conn();
    assert_eq!(u2.simple_bind(&dn, "old secret").expect("bind").rc, 0);
}

/// Regression (issue 15, part 8): the scale set's labels were `s0`, `s1`, ... in base 36, so
/// `sa`, `se` and others were real ccTLDs that the sample already holds, and importing a scale
/// set into a directory made by `serve` refused everything.
#[test]
fn gen_sample_tlds_import_next_to_the_sample() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let mut c = test_config(&data);
    c.load_sample = true;
    drop(TestServer::start_config(c));
    let tlds = tmp.path().join("tlds.ldif");
    let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(["gen-sample", "--tlds", "1300", "-o"])
        .arg(&tlds)
        .output()
        .expect("gen-sample");
    assert!(o.status.success(), "{}", err(&o));
    let text = std::fs::read_to_string(&tlds).expect("read");
    assert!(text.contains("associatedDomain: t00\n") && text.contains("associatedDomain: t1299\n"));
    let o = ccdir(&["import", "-q", tlds.to_str().expect("path")], &data);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("imported 3900 entries"), "{}", err(&o));
}

#[test]
fn gen_sample_scale_sets_import_and_serve() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    // A data dir with the base entries, then stopped.
    drop(TestServer::start_config(test_config(&data)));
    let gen = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
            .args(args)
            .output()
            .expect("gen-sample");
        assert!(o.status.success(), "{}", err(&o));
        o.stdout
    };
    let tlds = tmp.path().join("tlds.ldif");
    std::fs::write(&tlds, gen(&["gen-sample", "--tlds", "200"])).expect("write");
    assert_eq!(
        gen(&["gen-sample", "--tlds", "200"]),
        std::fs::read(&tlds).expect("read"),
        "deterministic"
    );
    let people = tmp.path().join("people.ldif");
    std::fs::write(
        &people,
        gen(&["gen-sample", "--count", "50", "--passwords", "2"]).as_slice(),
    )
    .expect("write");
    for f in [&tlds, &people] {
        let o = ccdir(&["import", "-q", f.to_str().expect("path")], &data);
        assert!(o.status.success(), "{}", err(&o));
    }
    let s = TestServer::start_config(test_config(&data));
    let mut c = s.admin();
    let count = |c: &mut ldap3::LdapConn, f: &str| {
        c.search(SUFFIX, ldap3::Scope::Subtree, f, vec!["1.1"])
            .expect("search")
            .0
            .len()
    };
    assert_eq!(count(&mut c, "(objectClass=cctldRegistry)"), 200);
    assert_eq!(count(&mut c, "(objectClass=cctldContact)"), 400);
    let overdue = count(&mut c, "(cctldVerificationDue<=20261123000000Z)");
    assert!(overdue > 0 && overdue < 400, "{overdue}");
    assert_eq!(count(&mut c, "(uid=user*)"), 50);
    let mut u = s.conn();
    assert_eq!(
        u.simple_bind(&format!("uid=user1,ou=people,{SUFFIX}"), "pw1")
            .expect("bind")
            .rc,
        0
    );
}

#[test]
fn a_bad_record_after_committed_batches_rolls_everything_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let f = tmp.path().join("big.ldif");
    let mut text = String::from(BASE_LDIF);
    // More than one batch (5000 entries) is committed before the bad record arrives.
    text.push_str(&roles("r", 6000));
    text.push_str(
        "dn: cn=bad,ou=registries,dc=cctld-ir,dc=example\nobjectClass: person\ncn: bad\n",
    );
    std::fs::write(&f, text).expect("write");
    let o = ccdir(&["import", "-q", f.to_str().expect("path")], &data);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("'sn'") && err(&o).contains("nothing was imported"),
        "{}",
        err(&o)
    );
    let o = ccdir(&["export"], &data);
    assert!(!o.status.success(), "the store is empty again");
}

/// Every stored entry is in the posting list of each of its index keys, and every posting
/// names a stored entry. Returns the number of entries checked.
fn assert_indexes_complete(s: &TestServer) -> usize {
    use ccdir::store::index::{for_each_key, IndexReader};
    use ccdir::store::View;
    use std::collections::{HashMap, HashSet};
    let dir = s.server().directory();
    let snap = dir.store.read().expect("snapshot");
    let mut ids = Vec::new();
    snap.scan_prefix::<ccdir::store::StoreError>(&dir.suffix.store_key(), None, &mut |_, id| {
        ids.push(id);
        Ok(true)
    })
    .expect("scan");
    let stored: HashSet<u64> = ids.iter().copied().collect();
    let mut lists: HashMap<(bool, Vec<u8>), Vec<u64>> = HashMap::new();
    for &id in &ids {
        let e = snap.entry(id).expect("read").expect("entry");
        let mut keys = Vec::new();
        for_each_key(&e, dir.store.index_spec(), &dir.schema, &mut |sub, k| {
            keys.push((sub, k.to_vec()))
        });
        for key in keys {
            let list = lists.entry(key.clone()).or_insert_with(|| {
                let l = if key.0 {
                    snap.sub_ids(&key.1)
                } else {
                    snap.eq_ids(&key.1)
                }
                .expect("postings");
                assert!(
                    l.iter().all(|i| stored.contains(i)),
                    "stale id under {key:?}"
                );
                l
            });
            assert!(
                list.binary_search(&id).is_ok(),
                "{} missing under {:?}",
                e.dn,
                String::from_utf8_lossy(&key.1)
            );
        }
    }
    ids.len()
}

#[test]
fn imported_entries_are_indexed_whatever_their_order_and_however_the_import_ends() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Children more than a batch (5000 entries) ahead of their parent, then ordinary entries.
    let data = tmp.path().join("d");
    let f = tmp.path().join("late.ldif");
    let mut text = String::from(BASE_LDIF);
    for i in 0..5200 {
        text.push_str(&format!(
            "dn: cn=c{i},ou=late,dc=cctld-ir,dc=example\nobjectClass: organizationalRole\ncn: c{i}\ndescription: child {i}\n\n"
        ));
    }
    text.push_str(
        "dn: ou=late,dc=cctld-ir,dc=example\nobjectClass: organizationalUnit\nou: late\n\n",
    );
    for i in 0..300 {
        text.push_str(&format!(
            "dn: cn=r{i},ou=registries,dc=cctld-ir,dc=example\nobjectClass: organizationalRole\ncn: r{i}\nou: unit {}\n\n",
            i % 7
        ));
    }
    std::fs::write(&f, text).expect("write");
    let o = ccdir(&["import", "-q", f.to_str().expect("path")], &data);
    assert!(o.status.success(), "{}", err(&o));
    let s = TestServer::start_config(test_config(&data));
    assert_eq!(assert_indexes_complete(&s), 2 + 5200 + 1 + 300);
    drop(s);

    // --continue stops reading after 1000 bad records: what it took is still fully indexed.
    let data = tmp.path().join("d2");
    let f = tmp.path().join("bad.ldif");
    let mut text = String::from(BASE_LDIF);
    text.push_str(&roles("g", 200));
    for i in 0..1100 {
        text.push_str(&format!(
            "dn: cn=b{i},ou=registries,dc=cctld-ir,dc=example\nobjectClass: person\ncn: b{i}\n\n"
        ));
    }
    std::fs::write(&f, text).expect("write");
    let o = ccdir(
        &["import", "-q", "--continue", f.to_str().expect("path")],
        &data,
    );
    assert!(err(&o).contains("imported 202 entries"), "{}", err(&o));
    let s = TestServer::start_config(test_config(&data));
    assert_eq!(assert_indexes_complete(&s), 202);
}

#[test]
fn a_file_that_cannot_be_read_rolls_back_even_with_continue() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    // More than a batch (5000 entries), so that some are written before the failure.
    let good = tmp.path().join("good.ldif");
    let mut text = String::from(BASE_LDIF);
    text.push_str(&roles("r", 5100));
    std::fs::write(&good, text).expect("write");
    let missing = tmp.path().join("missing.ldif");
    let o = ccdir(
        &[
            "import",
            "-q",
            "--continue",
            good.to_str().expect("path"),
            missing.to_str().expect("path"),
        ],
        &data,
    );
    assert!(!o.status.success());
    assert!(
        err(&o).contains("missing.ldif") && err(&o).contains("nothing was imported"),
        "{}",
        err(&o)
    );
    let o = ccdir(&["export"], &data);
    assert!(!o.status.success(), "nothing was imported: {}", err(&o));
}

/// The bulk loader keeps a bad entry (an `LdapError`: returned by `add`, or recorded in
/// `rejected` when found at write time) apart from a store failure (a `StoreError`, the only
/// error of `add_prepared`, `flush` and `finish`).
#[test]
fn bulk_loader_reports_bad_entries_apart_from_store_failures() {
    use ccdir::write::bulk::{AddError, BulkLoader};
    let tmp = tempfile::tempdir().expect("tempdir");
    let c = test_config(tmp.path());
    let clock = std::sync::Arc::new(ccdir::core::clock::SystemClock);
    let dir = ccdir::app::server::open_directory(&c, clock).expect("open");
    ccdir::app::bootstrap::ensure_base(&dir).expect("base");
    let registries = format!("ou=registries,{}", dir.suffix.display());
    let role = |cn: &str| -> ccdir::write::bulk::Attrs {
        vec![
            ("objectClass".into(), vec![b"organizationalRole".to_vec()]),
            ("cn".into(), vec![cn.as_bytes().to_vec()]),
        ]
    };
    let mut loader = BulkLoader::new(&dir);
    // Invalid in itself: returned at once, as an entry error.
    let bad = loader.add(
        &format!("cn=bad,{registries}"),
        vec![("objectClass".into(), vec![b"noSuchClass".to_vec()])],
    );
    match bad {
        Err(AddError::Entry(e)) => assert!(!e.message.is_empty()),
        other => panic!("expected an entry error, got {other:?}"),
    }
    // Valid, but its DN exists: found at write time and recorded, not an error.
    loader.add(&registries, role("x")).expect("queued");
    loader
        .add(&format!("cn=ok,{registries}"), role("ok"))
        .expect("queued");
    let (added, rejected) = loader.finish().expect("no store failure");
    assert_eq!(added, 1);
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].dn, registries);
    assert!(
        rejected[0].error.message.contains("already exists"),
        "{}",
        rejected[0].error.message
    );
}
