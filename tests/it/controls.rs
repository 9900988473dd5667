//! Controls, exercised with encodings made by independent clients: OpenLDAP's ldapsearch -E,
//! ldapmodify / ldapcompare / ldapdelete / ldapmodrdn -e, and raw controls sent with the ldap3
//! crate. Sort and virtual list view run over a 10,000-entry directory.

use crate::harness::*;
use ldap3::controls::RawControl;
use ldap3::{LdapConn, Scope};
use std::path::Path;
use std::process::{Command, Output};

const PEOPLE: &str = "ou=people,dc=cctld-ir,dc=example";
const SORT: &str = "1.2.840.113556.1.4.473";
const SORT_RESPONSE: &str = "1.2.840.113556.1.4.474";
const VLV: &str = "2.16.840.1.113730.3.4.9";
const VLV_RESPONSE: &str = "2.16.840.1.113730.3.4.10";

/// A server holding `n` generated people under ou=people (`ccdir gen-sample` + `ccdir import`).
fn people_server(n: usize, f: impl FnOnce(&mut ccdir::Config)) -> (TestServer, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    drop(TestServer::start_config(test_config(&data)));
    let ccdir = |args: &[&str], data: Option<&Path>| -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ccdir"));
        c.args(args);
        if let Some(d) = data {
            c.arg("--data-dir").arg(d);
        }
        let o = c.output().expect("run ccdir");
        assert!(
            o.status.success(),
            "ccdir {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    let ldif = tmp.path().join("people.ldif");
    let out = ccdir(
        &["gen-sample", "--count", &n.to_string(), "--passwords", "0"],
        None,
    );
    std::fs::write(&ldif, out.stdout).expect("write ldif");
    ccdir(&["import", "-q", ldif.to_str().expect("path")], Some(&data));
    let mut c = test_config(&data);
    f(&mut c);
    (TestServer::start_config(c), tmp)
}

fn admin_args(s: &TestServer) -> Vec<String> {
    vec![
        "-x".into(),
        "-H".into(),
        s.ldap_url(),
        "-D".into(),
        ADMIN.into(),
        "-w".into(),
        s.admin_password(),
        "-o".into(),
        "ldif-wrap=no".into(),
    ]
}

/// ldapsearch as the admin; `stdin` answers the VLV prompt ("q" ends the loop after one window).
fn search(s: &TestServer, extra: &[&str], stdin: Option<&str>) -> Output {
    let mut args = admin_args(s);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    s.tool("ldapsearch", &args, stdin)
}

fn values(out: &str, attr: &str) -> Vec<String> {
    let prefix = format!("{attr}: ");
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in\n{out}"))
}

/// sn values of the generated people in caseIgnoreOrdering order.
fn sorted_sn(n: usize) -> Vec<String> {
    let mut all: Vec<String> = (0..n)
        .map(|i| {
            let (_, attrs) = ccdir::tools::generate::people(i as u64, "dc=x", None);
            let sn = attrs
                .iter()
                .find(|(k, _)| k == "sn")
                .map(|(_, v)| String::from_utf8_lossy(&v[0]).to_string())
                .expect("sn");
            sn
        })
        .collect();
    all.sort_by_key(|s| s.to_lowercase());
    all
}

#[test]
fn sort_and_virtual_list_view_over_ten_thousand_entries() {
    const N: usize = 10_000;
    let (s, _tmp) = people_server(N, |_| {});
    let expected = sorted_sn(N);
    let filter = "(objectClass=inetOrgPerson)";

    // Critical sort by sn, everything: the order of caseIgnoreOrderingMatch.
    let o = search(&s, &["-b", PEOPLE, "-E", "!sss=sn", filter, "sn"], None);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert_eq!(line(&out, "sortResult:"), "sortResult: (0) Success");
    let got = values(&out, "sn");
    assert_eq!(got.len(), N);
    assert!(got == expected, "sorted by sn");

    // Reverse order.
    let o = search(&s, &["-b", PEOPLE, "-E", "sss=-sn", filter, "sn"], None);
    let mut rev = values(&stdout(&o), "sn");
    rev.reverse();
    assert!(rev == expected, "reverse sort");

    // Two keys: givenName ascending, then sn descending within each given name.
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "!sss=givenName/-sn",
            filter,
            "givenName",
            "sn",
        ],
        None,
    );
    let out = stdout(&o);
    let given = values(&out, "givenName");
    let sns = values(&out, "sn");
    assert_eq!(given.len(), N);
    for i in 1..N {
        let a = (given[i - 1].to_lowercase(), sns[i - 1].to_lowercase());
        let b = (given[i].to_lowercase(), sns[i].to_lowercase());
        assert!(
            a.0 < b.0 || (a.0 == b.0 && a.1 >= b.1),
            "two-key order at {i}: {a:?} then {b:?}"
        );
    }

    // Virtual list view by offset: 2 before and 3 after position 5000.
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "!sss=sn",
            "-E",
            "!vlv=2/3/5000/0",
            filter,
            "sn",
        ],
        Some("q\n"),
    );
    let out = stdout(&o);
    assert_eq!(values(&out, "sn"), expected[4997..5003].to_vec(), "{out}");
    assert_eq!(
        line(&out, "vlvResult:"),
        "vlvResult: pos=5000 count=10000 context= (0) Success"
    );
    // The client's estimated count is scaled: 5000 of 20000 is a quarter of the list.
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "sss=sn",
            "-E",
            "vlv=0/0/5000/20000",
            filter,
            "sn",
        ],
        Some("q\n"),
    );
    let out = stdout(&o);
    assert_eq!(values(&out, "sn"), vec![expected[2499].clone()]);
    assert_eq!(
        line(&out, "vlvResult:"),
        "vlvResult: pos=2500 count=10000 context= (0) Success"
    );
    // By value: the first entries at or after "Novak".
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "sss=sn",
            "-E",
            "vlv=0/4:Novak",
            filter,
            "sn",
        ],
        Some("q\n"),
    );
    let out = stdout(&o);
    let first = expected
        .iter()
        .position(|v| v.to_lowercase().as_str() >= "novak")
        .expect("a Novak");
    assert_eq!(values(&out, "sn"), expected[first..first + 5].to_vec());
    assert!(line(&out, "vlvResult:").starts_with(&format!("vlvResult: pos={} ", first + 1)));
    // Past the end: the last entries and the position after the last.
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "sss=sn",
            "-E",
            "vlv=3/3/99999/0",
            filter,
            "sn",
        ],
        Some("q\n"),
    );
    let out = stdout(&o);
    assert_eq!(values(&out, "sn"), expected[N - 4..].to_vec());
    assert_eq!(
        line(&out, "vlvResult:"),
        "vlvResult: pos=10000 count=10000 context= (0) Success"
    );

    // Sorted pages: simple paged results over the sorted list give every entry once, in order.
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "sss=sn",
            "-E",
            "pr=999/noprompt",
            filter,
            "sn",
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(values(&out, "sn") == expected, "sorted pages");

    // A non-admin size limit applies to the sorted result: the first entries, then 4.
    let o = search(
        &s,
        &["-b", PEOPLE, "-z", "7", "-E", "sss=sn", filter, "sn"],
        None,
    );
    assert_eq!(code(&o), 4);
    assert_eq!(values(&stdout(&o), "sn"), expected[..7].to_vec());

    // Errors, with raw controls from the ldap3 client.
    let mut c = s.admin();
    // VLV without sort: virtualListViewError (76), VLV result sortControlMissing (60).
    let vlv = |before: u8, after: u8, offset: u8| RawControl {
        ctype: VLV.into(),
        crit: true,
        val: Some(vec![
            0x30, 0x0e, 0x02, 0x01, before, 0x02, 0x01, after, 0xa0, 0x06, 0x02, 0x01, offset,
            0x02, 0x01, 0x00,
        ]),
    };
    let sort_sn = |crit: bool, attr: &str| {
        let a = attr.as_bytes();
        let mut v = vec![
            0x30,
            (a.len() + 4) as u8,
            0x30,
            (a.len() + 2) as u8,
            0x04,
            a.len() as u8,
        ];
        v.extend_from_slice(a);
        RawControl {
            ctype: SORT.into(),
            crit,
            val: Some(v),
        }
    };
    let run = |c: &mut LdapConn, ctrls: Vec<RawControl>| {
        let r = c
            .with_controls(ctrls)
            .search(PEOPLE, Scope::OneLevel, filter, vec!["sn"])
            .expect("search");
        let entries = r.0.len();
        let ctrls: Vec<(String, Vec<u8>)> =
            r.1.ctrls
                .iter()
                .map(|c| (c.1.ctype.clone(), c.1.val.clone().unwrap_or_default()))
                .collect();
        (r.1.rc, entries, ctrls)
    };
    let (rc, n, ctrls) = run(&mut c, vec![vlv(0, 9, 1)]);
    assert_eq!((rc, n), (76, 0));
    let v = &ctrls
        .iter()
        .find(|(o, _)| o == VLV_RESPONSE)
        .expect("vlv response")
        .1;
    assert_eq!(v[v.len() - 1], 60, "sortControlMissing");
    // Offset 0 is out of range: offsetRangeError (61).
    let (rc, _, ctrls) = run(&mut c, vec![sort_sn(true, "sn"), vlv(0, 9, 0)]);
    assert_eq!(rc, 76);
    let v = &ctrls
        .iter()
        .find(|(o, _)| o == VLV_RESPONSE)
        .expect("vlv response")
        .1;
    assert_eq!(v[v.len() - 1], 61, "offsetRangeError");
    // Sorting by an unknown attribute: critical fails (12), not critical returns the entries
    // unsorted; both say noSuchAttribute (16) in the sort result, naming the attribute.
    let (rc, n, ctrls) = run(&mut c, vec![sort_sn(true, "nosuchattr")]);
    assert_eq!((rc, n), (12, 0));
    let v = &ctrls
        .iter()
        .find(|(o, _)| o == SORT_RESPONSE)
        .expect("sort response")
        .1;
    assert_eq!(&v[2..5], &[0x0a, 0x01, 16]);
    assert!(v.ends_with(b"nosuchattr"));
    let (rc, n, _) = run(&mut c, vec![sort_sn(false, "nosuchattr")]);
    assert_eq!((rc, n), (0, N));
    // An attribute without any matching rule cannot be sorted: inappropriateMatching (18).
    let (rc, _, ctrls) = run(&mut c, vec![sort_sn(true, "jpegPhoto")]);
    assert_eq!(rc, 12);
    let v = &ctrls
        .iter()
        .find(|(o, _)| o == SORT_RESPONSE)
        .expect("sort response")
        .1;
    assert_eq!(&v[2..5], &[0x0a, 0x01, 18]);
}

#[test]
fn sorting_more_than_the_limit_is_an_admin_limit_error() {
    let (s, _tmp) = people_server(300, |c| c.limits.sort_max_entries = 100);
    let o = search(
        &s,
        &[
            "-b",
            PEOPLE,
            "-E",
            "sss=sn",
            "(objectClass=inetOrgPerson)",
            "sn",
        ],
        None,
    );
    assert_eq!(code(&o), 11, "{}", stdout(&o));
    assert_eq!(
        line(&stdout(&o), "sortResult:"),
        "sortResult: (11) Administrative limit exceeded"
    );
    // Fewer matches than the limit sort fine.
    let o = search(
        &s,
        &["-b", PEOPLE, "-E", "sss=sn", "(sn=Silva*)", "sn"],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(values(&stdout(&o), "sn").len(), 30);
}

fn person_ldif(uid: &str, sn: &str) -> String {
    format!(
        "dn: {}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} {sn}\nsn: {sn}\ntitle: Night duty\n",
        person_dn(uid)
    )
}

/// Run an OpenLDAP write tool as the admin.
fn write_tool(s: &TestServer, tool: &str, extra: &[&str], stdin: Option<&str>) -> Output {
    let mut args = admin_args(s);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    s.tool(tool, &args, stdin)
}

#[test]
fn assertion_and_read_entry_controls_with_openldap_tools() {
    let s = TestServer::start();
    let mut c = s.admin();
    // Add with post-read: the new entry's operational attributes come back with the response.
    let o = write_tool(
        &s,
        "ldapadd",
        &["-e", "!postread=entryUUID,sn,createTimestamp"],
        Some(&person_ldif("ana", "Silva")),
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert!(out.contains("# ==> postread"), "{out}");
    assert_eq!(values(&out, "sn"), vec!["Silva"]);
    assert_eq!(values(&out, "entryUUID").len(), 1);
    assert_eq!(values(&out, "createTimestamp").len(), 1);
    let dn = person_dn("ana");

    // Modify under an assertion that holds, with pre- and post-read.
    let change = format!("dn: {dn}\nchangetype: modify\nreplace: title\ntitle: Day duty\n");
    let o = write_tool(
        &s,
        "ldapmodify",
        &[
            "-e",
            "!assert=(&(sn=Silva)(title=night*))",
            "-e",
            "!preread=title",
            "-e",
            "!postread=title",
        ],
        Some(&change),
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert_eq!(
        values(&out, "title"),
        vec!["Night duty", "Day duty"],
        "{out}"
    );

    // The same assertion is now false: assertionFailed (122), nothing changes.
    let change2 = format!("dn: {dn}\nchangetype: modify\nreplace: title\ntitle: Weekend\n");
    let o = write_tool(
        &s,
        "ldapmodify",
        &["-e", "!assert=(title=night*)"],
        Some(&change2),
    );
    assert_eq!(code(&o), 122, "{}", stderr(&o));
    let title = |c: &mut LdapConn| {
        let (r, _) = c
            .search(&dn, Scope::Base, "(objectClass=*)", vec!["title"])
            .expect("search")
            .success()
            .expect("ok");
        ldap3::SearchEntry::construct(r[0].clone()).attrs["title"].clone()
    };
    assert_eq!(title(&mut c), vec!["Day duty"]);

    // Compare and search under an assertion.
    let o = write_tool(
        &s,
        "ldapcompare",
        &["-e", "!assert=(title=nope)", &dn, "sn:Silva"],
        None,
    );
    assert_eq!(code(&o), 122);
    let o = write_tool(
        &s,
        "ldapcompare",
        &["-e", "!assert=(title=day*)", &dn, "sn:Silva"],
        None,
    );
    assert_eq!(code(&o), 6, "compareTrue");
    let o = search(
        &s,
        &["-b", &dn, "-s", "base", "-e", "!assert=(sn=Other)"],
        None,
    );
    assert_eq!(code(&o), 122, "{}{}", stdout(&o), stderr(&o));
    let o = search(
        &s,
        &["-b", &dn, "-s", "base", "-e", "!assert=(sn=Silva)", "sn"],
        None,
    );
    assert_eq!(values(&stdout(&o), "sn"), vec!["Silva"]);

    // Rename with pre- and post-read: the RDN changes between the two.
    let o = write_tool(
        &s,
        "ldapmodrdn",
        &[
            "-r",
            "-e",
            "!preread=uid",
            "-e",
            "!postread=uid",
            &dn,
            "uid=ana2",
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert_eq!(values(&out, "uid"), vec!["ana", "ana2"], "{out}");
    let dn2 = person_dn("ana2");

    // Delete under a false assertion keeps the entry; a true one deletes it, with pre-read.
    let o = write_tool(&s, "ldapdelete", &["-e", "!assert=(sn=Other)", &dn2], None);
    assert_eq!(code(&o), 122);
    let o = write_tool(
        &s,
        "ldapdelete",
        &["-e", "!assert=(sn=Silva)", "-e", "!preread=sn", &dn2],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("sn: Silva"), "{}", stdout(&o));
    let r = c
        .search(&dn2, Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 32);

    // Pre-read does not apply to an add: refused when critical, ignored when not.
    let o = write_tool(
        &s,
        "ldapadd",
        &["-e", "!preread=sn"],
        Some(&person_ldif("bruno", "Okafor")),
    );
    assert_eq!(code(&o), 12);
    let o = write_tool(
        &s,
        "ldapadd",
        &["-e", "preread=sn"],
        Some(&person_ldif("bruno", "Okafor")),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn read_entry_controls_show_only_what_the_requester_may_read() {
    use ccdir::acl::rules::RuleConfig;
    // Everyone may compare mail but not search or read it; people may write their own entries.
    let s = TestServer::start_with(|c| {
        c.access.rules = Some(vec![
            RuleConfig {
                attrs: vec!["userPassword".into()],
                by: vec!["self write".into(), "anonymous auth".into()],
                ..Default::default()
            },
            RuleConfig {
                attrs: vec!["mail".into()],
                by: vec!["* compare".into()],
                ..Default::default()
            },
            RuleConfig {
                by: vec!["self write".into(), "* none".into()],
                ..Default::default()
            },
        ])
    });
    let mut c = s.admin();
    add_person(&mut c, "carla", "Carla Reyes");
    let dn = person_dn("carla");
    c.modify(
        &dn,
        vec![
            ldap3::Mod::Replace("userPassword", ["Old-secret-1"].into()),
            ldap3::Mod::Replace("mail", ["carla@nic.example"].into()),
        ],
    )
    .expect("modify")
    .success()
    .expect("set password and mail");
    let mut u = s.conn();
    u.simple_bind(&dn, "Old-secret-1")
        .expect("bind")
        .success()
        .expect("carla binds");
    // Post-read of title, mail and uid after Carla changes her title: mail is left out, as a
    // search by Carla would leave it out.
    let post_read = RawControl {
        ctype: "1.3.6.1.1.13.2".into(),
        crit: true,
        // AttributeSelection { "title", "mail", "uid" }
        val: Some(
            [
                &[0x30, 0x12, 0x04, 0x05][..],
                b"title",
                &[0x04, 0x04],
                b"mail",
                &[0x04, 0x03],
                b"uid",
            ]
            .concat(),
        ),
    };
    let r = u
        .with_controls(post_read)
        .modify(&dn, vec![ldap3::Mod::Replace("title", ["On call"].into())])
        .expect("modify");
    assert_eq!(r.rc, 0, "{r:?}");
    let value = r
        .ctrls
        .iter()
        .find(|c| c.1.ctype == "1.3.6.1.1.13.2")
        .and_then(|c| c.1.val.clone())
        .expect("post-read response");
    let text = String::from_utf8_lossy(&value);
    assert!(text.contains("On call") && text.contains("carla"), "{text}");
    assert!(!text.contains("mail"), "mail is not readable: {text}");
    // The search by Carla agrees.
    let (r, _) = u
        .search(
            &dn,
            Scope::Base,
            "(objectClass=*)",
            vec!["title", "mail", "uid"],
        )
        .expect("search")
        .success()
        .expect("ok");
    let e = ldap3::SearchEntry::construct(r[0].clone());
    assert!(e.attrs.contains_key("title") && !e.attrs.contains_key("mail"));
    // An assertion on mail is Undefined for her, so it fails although the value matches.
    let assertion = RawControl {
        ctype: "1.3.6.1.1.12".into(),
        crit: true,
        // (mail=carla@nic.example)
        val: Some(
            [
                &[0xa3, 0x19, 0x04, 0x04][..],
                b"mail",
                &[0x04, 0x11],
                b"carla@nic.example",
            ]
            .concat(),
        ),
    };
    let r = u
        .with_controls(assertion)
        .modify(&dn, vec![ldap3::Mod::Replace("title", ["Off"].into())])
        .expect("modify");
    assert_eq!(r.rc, 122, "{r:?}");
}

#[test]
fn permissive_modify_tolerates_present_and_absent_values() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "dalia", "Dalia Novak");
    let dn = person_dn("dalia");
    let add_cn = || vec![ldap3::Mod::Add("cn", ["Dalia Novak"].into())];
    let del_mail = || vec![ldap3::Mod::Delete("mail", ["nobody@nic.example"].into())];
    // Without the control: attributeOrValueExists (20), noSuchAttribute (16).
    assert_eq!(c.modify(&dn, add_cn()).expect("modify").rc, 20);
    assert_eq!(c.modify(&dn, del_mail()).expect("modify").rc, 16);
    let permissive = || RawControl {
        ctype: "1.2.840.113556.1.4.1413".into(),
        crit: true,
        val: None,
    };
    assert_eq!(
        c.with_controls(permissive())
            .modify(&dn, add_cn())
            .expect("modify")
            .rc,
        0
    );
    assert_eq!(
        c.with_controls(permissive())
            .modify(&dn, del_mail())
            .expect("modify")
            .rc,
        0
    );
    // Still one cn value.
    let (r, _) = c
        .search(&dn, Scope::Base, "(objectClass=*)", vec!["cn"])
        .expect("search")
        .success()
        .expect("ok");
    assert_eq!(
        ldap3::SearchEntry::construct(r[0].clone()).attrs["cn"],
        vec!["Dalia Novak"]
    );
}

#[test]
fn malformed_and_unknown_controls_get_result_codes_not_disconnects() {
    let s = TestServer::start();
    let mut c = s.admin();
    let search = |c: &mut LdapConn, ctrl: RawControl| {
        c.with_controls(ctrl)
            .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["1.1"])
            .expect("search")
            .1
            .rc
    };
    // A sort control whose value is not BER: protocolError (2).
    let bad = RawControl {
        ctype: SORT.into(),
        crit: false,
        val: Some(vec![0x30, 0x05, 0x01]),
    };
    assert_eq!(search(&mut c, bad), 2);
    // Unknown critical: unavailableCriticalExtension (12); unknown, not critical: ignored.
    let unknown = |crit| RawControl {
        ctype: "1.3.6.1.4.1.99999.1".into(),
        crit,
        val: None,
    };
    assert_eq!(search(&mut c, unknown(true)), 12);
    assert_eq!(search(&mut c, unknown(false)), 0);
    // The connection is still usable.
    let r = c
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 0);
    // The root DSE advertises every supported control.
    let (r, _) = c
        .search("", Scope::Base, "(objectClass=*)", vec!["supportedControl"])
        .expect("root dse")
        .success()
        .expect("ok");
    let ctrls = &ldap3::SearchEntry::construct(r[0].clone()).attrs["supportedControl"];
    for oid in [
        "1.2.840.113556.1.4.319",
        "1.2.840.113556.1.4.473",
        "2.16.840.1.113730.3.4.9",
        "1.3.6.1.1.12",
        "1.3.6.1.1.13.1",
        "1.3.6.1.1.13.2",
        "2.16.840.1.113730.3.4.2",
        "1.2.840.113556.1.4.1413",
    ] {
        assert!(
            ctrls.iter().any(|c| c == oid),
            "{oid} advertised: {ctrls:?}"
        );
    }
}
