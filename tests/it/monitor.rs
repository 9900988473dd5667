//! cn=Monitor over LDAP with OpenLDAP's ldapsearch: the counters follow the operations the test
//! makes, the database figures match the store, and only the directory admins and the
//! monitoring group read it.

use crate::harness::*;

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

/// The value of `attr` in the entry `dn` of ldapsearch output.
fn value(out: &str, dn: &str, attr: &str) -> Option<String> {
    let block = out.split("\n\n").find(|b| {
        b.lines()
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case(&format!("dn: {dn}")))
    })?;
    block
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{attr}: ")))
        .map(str::to_string)
}

fn number(out: &str, dn: &str, attr: &str) -> u64 {
    value(out, dn, attr)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{dn} {attr}\n{out}"))
}

#[test]
fn cn_monitor_counts_what_the_server_did_for_admins_and_the_monitoring_group() {
    let s = TestServer::start();
    let pw = s.admin_password();
    let admin = Some((ADMIN, pw.as_str()));
    let (rc, dse) = ldapsearch(&s, None, &["-b", "", "-s", "base", "monitorContext"]);
    assert_eq!(rc, 0);
    assert!(dse.contains("monitorContext: cn=Monitor"), "{dse}");

    let all = ["-b", "cn=Monitor", "(objectClass=*)", "*", "+"];
    let (rc, before) = ldapsearch(&s, admin, &all);
    assert_eq!(rc, 0, "{before}");
    let adds = "cn=Add,cn=Operations,cn=Monitor";
    let (i0, c0) = (
        number(&before, adds, "monitorOpInitiated"),
        number(&before, adds, "monitorOpCompleted"),
    );
    // Two adds and a failing one.
    let mut c = s.admin();
    add_person(&mut c, "m1", "Monitor One");
    add_person(&mut c, "m2", "Monitor Two");
    let r = c
        .add(
            &person_dn("m1"),
            vec![("objectClass", ["person"].into_iter().collect())],
        )
        .expect("add");
    assert_eq!(r.rc, 68);
    let (_, after) = ldapsearch(&s, admin, &all);
    assert_eq!(
        number(&after, adds, "monitorOpInitiated"),
        i0 + 3,
        "{after}"
    );
    assert_eq!(
        number(&after, adds, "monitorOpCompleted"),
        c0 + 3,
        "{after}"
    );
    // Every ldapsearch is a connection, a bind and a search.
    let total = "cn=Total,cn=Connections,cn=Monitor";
    assert!(number(&after, total, "monitorCounter") > number(&before, total, "monitorCounter"));
    assert!(
        number(
            &after,
            "cn=Current,cn=Connections,cn=Monitor",
            "monitorCounter"
        ) >= 1
    );
    let search = "cn=Search,cn=Operations,cn=Monitor";
    assert!(number(&after, search, "monitorOpCompleted") >= 2, "{after}");
    assert!(
        number(
            &after,
            "cn=Entries,cn=Statistics,cn=Monitor",
            "monitorCounter"
        ) > 0
    );
    assert!(
        number(
            &after,
            "cn=Bytes,cn=Statistics,cn=Monitor",
            "monitorCounter"
        ) > 0
    );
    // The database figures are the store's.
    let (_, dit) = ldapsearch(&s, admin, &["-b", SUFFIX, "(objectClass=*)", "1.1"]);
    let entries = dit.lines().filter(|l| l.starts_with("dn: ")).count() as u64;
    let db = "cn=Database 1,cn=Databases,cn=Monitor";
    assert_eq!(value(&after, db, "namingContexts").as_deref(), Some(SUFFIX));
    assert_eq!(
        number(&after, &format!("cn=Entries,{db}"), "monitorCounter"),
        entries
    );
    assert!(number(&after, &format!("cn=File Size,{db}"), "monitorCounter") > 0);
    assert!(number(&after, &format!("cn=Changelog,{db}"), "lastChangeNumber") >= 2);
    let port = s.ldap_addr().port().to_string();
    assert!(
        after.contains(&format!("labeledURI: ldap://127.0.0.1:{port}")),
        "{after}"
    );
    assert!(value(&after, "cn=Start,cn=Time,cn=Monitor", "monitorTimestamp").is_some());
    // Without + the figures are not returned (operational, as on slapd).
    let (_, plain) = ldapsearch(&s, admin, &["-b", adds, "-s", "base"]);
    assert!(!plain.contains("monitorOpInitiated"), "{plain}");
    // A filter on a counter works.
    let (_, f) = ldapsearch(
        &s,
        admin,
        &[
            "-b",
            "cn=Operations,cn=Monitor",
            "-s",
            "one",
            "(monitorOpInitiated>=3)",
            "cn",
        ],
    );
    assert!(f.contains("dn: cn=Add,cn=Operations,cn=Monitor"), "{f}");

    // The monitoring group reads it; another user and anonymous do not see it.
    add(
        &mut c,
        "cn=watcher,ou=groups,dc=cctld-ir,dc=example",
        &[
            (
                "objectClass",
                &["organizationalRole", "simpleSecurityObject"][..],
            ),
            ("cn", &["watcher"]),
            ("userPassword", &["watcher secret 1"]),
        ],
    );
    add(
        &mut c,
        "cn=monitoring,ou=groups,dc=cctld-ir,dc=example",
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["monitoring"]),
            ("member", &["cn=watcher,ou=groups,dc=cctld-ir,dc=example"]),
        ],
    );
    let watcher = Some((
        "cn=watcher,ou=groups,dc=cctld-ir,dc=example",
        "watcher secret 1",
    ));
    let (rc, w) = ldapsearch(&s, watcher, &["-b", total, "-s", "base", "+"]);
    assert_eq!(rc, 0, "{w}");
    assert!(w.contains("monitorCounter: "), "{w}");
    let (rc, _) = ldapsearch(&s, Some((&person_dn("m1"), "x")), &["-b", "cn=Monitor"]);
    assert_ne!(rc, 0);
    let (rc, out) = ldapsearch(&s, None, &["-b", "cn=Monitor"]);
    assert_eq!(rc, 32, "{out}");
    // Read-only.
    let r = c.delete(total).expect("delete");
    assert_eq!(r.rc, 53, "{}", r.text);
}

/// One log line per operation (target ccdir::op): connection, message ID, operation, DN,
/// result, entries of a search, duration.
#[test]
fn every_operation_is_logged_with_its_dn_result_and_duration() {
    let log = server_log();
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "oplog7", "Op Log");
    let (rs, _) = c
        .search(
            &person_dn("oplog7"),
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["cn"],
        )
        .expect("search")
        .success()
        .expect("found");
    assert_eq!(rs.len(), 1);
    let r = c
        .delete("uid=nobody-oplog7,ou=registries,dc=cctld-ir,dc=example")
        .expect("delete");
    assert_eq!(r.rc, 32);
    let wait = std::time::Duration::from_secs(5);
    let add = log.lines_with("op=\"add\" dn=\"uid=oplog7,", wait);
    assert_eq!(add.len(), 1, "{add:?}");
    assert!(
        add[0].contains("result=0") && add[0].contains("ms=") && add[0].contains("conn="),
        "{}",
        add[0]
    );
    let search = log.lines_with("op=\"search\" dn=\"uid=oplog7,", wait);
    assert!(
        search[0].contains("result=0") && search[0].contains("entries=1"),
        "{search:?}"
    );
    let del = log.lines_with("op=\"delete\" dn=\"uid=nobody-oplog7,", wait);
    assert!(del[0].contains("result=32"), "{del:?}");
}
