//! Every LDAP operation and its result codes, through the `ldap3` Rust client.

use crate::harness::*;
use ldap3::controls::RawControl;
use ldap3::exop::{PasswordModify, PasswordModifyResp, WhoAmI, WhoAmIResp};
use ldap3::{Mod, Scope, SearchEntry};
use std::collections::HashSet;

fn rc(r: ldap3::result::Result<ldap3::LdapResult>) -> u32 {
    r.expect("request").rc
}

fn search(
    c: &mut ldap3::LdapConn,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[&str],
) -> (u32, Vec<SearchEntry>) {
    let r = c
        .search(base, scope, filter, attrs.to_vec())
        .expect("search");
    let rc = r.1.rc;
    (rc, r.0.into_iter().map(SearchEntry::construct).collect())
}

fn dns(entries: &[SearchEntry]) -> Vec<String> {
    let mut v: Vec<String> = entries.iter().map(|e| e.dn.to_lowercase()).collect();
    v.sort();
    v
}

fn set<'a>(v: &[&'a str]) -> HashSet<&'a str> {
    v.iter().copied().collect()
}

#[test]
fn bind_results() {
    let s = TestServer::start();
    let mut c = s.conn();
    assert_eq!(rc(c.simple_bind("", "")), 0, "anonymous");
    assert_eq!(rc(c.simple_bind(ADMIN, &s.admin_password())), 0);
    assert_eq!(rc(c.simple_bind(ADMIN, "wrong")), 49);
    assert_eq!(
        rc(c.simple_bind(&format!("cn=nobody,{SUFFIX}"), "x")),
        49,
        "unknown DN"
    );
    assert_eq!(
        rc(c.simple_bind(ADMIN, "")),
        53,
        "unauthenticated bind refused"
    );
    assert_eq!(rc(c.simple_bind("not a dn", "x")), 34);
    // A failed bind leaves the connection anonymous.
    let r = c.extended(WhoAmI).expect("whoami").0;
    let who: WhoAmIResp = r.parse();
    assert_eq!(who.authzid, "");
}

#[test]
fn root_dse_and_subschema() {
    let s = TestServer::start();
    let mut c = s.conn();
    let (rc, e) = search(&mut c, "", Scope::Base, "(objectClass=*)", &["+"]);
    assert_eq!(rc, 0);
    let a = &e[0].attrs;
    assert_eq!(a["namingContexts"], vec![SUFFIX]);
    assert_eq!(a["supportedLDAPVersion"], vec!["3"]);
    assert!(a["supportedExtension"].contains(&"1.3.6.1.4.1.4203.1.11.3".to_string()));
    assert!(a["supportedControl"].contains(&"1.2.840.113556.1.4.319".to_string()));
    assert!(a.contains_key("supportedFeatures"));
    assert_eq!(a["subschemaSubentry"], vec!["cn=Subschema"]);
    assert_eq!(a["vendorName"], vec!["ccdir"]);
    assert!(a.contains_key("vendorVersion"));
    // Without '+', the root DSE shows no operational attributes.
    let (_, e) = search(&mut c, "", Scope::Base, "(objectClass=*)", &[]);
    assert!(!e[0].attrs.contains_key("namingContexts"));
    // The subschema subentry, readable anonymously.
    let (rc, e) = search(
        &mut c,
        "cn=Subschema",
        Scope::Base,
        "(objectClass=subschema)",
        &[
            "attributeTypes",
            "objectClasses",
            "ldapSyntaxes",
            "matchingRules",
        ],
    );
    assert_eq!(rc, 0);
    let at = &e[0].attrs["attributeTypes"];
    assert!(at.iter().any(|d| d.contains("NAME 'cctldTimeZone'")));
    assert!(at
        .iter()
        .any(|d| d.starts_with("( 2.5.4.3 NAME ( 'cn' 'commonName' )")));
    assert!(e[0].attrs["objectClasses"]
        .iter()
        .any(|d| d.contains("'cctldContact'")));
    assert!(!e[0].attrs["ldapSyntaxes"].is_empty());
    assert!(!e[0].attrs["matchingRules"].is_empty());
}

#[test]
fn anonymous_sees_no_entries() {
    let s = TestServer::start();
    let mut c = s.conn();
    let (rc, e) = search(&mut c, SUFFIX, Scope::Subtree, "(objectClass=*)", &[]);
    assert_eq!(rc, 32);
    assert!(e.is_empty());
    let r = c
        .search(
            &format!("ou=nothere,{SUFFIX}"),
            Scope::Base,
            "(objectClass=*)",
            vec!["*"],
        )
        .expect("search");
    assert_eq!(r.1.rc, 32);
    assert_eq!(r.1.matched, "", "no matchedDN leaks to anonymous");
}

#[test]
fn search_scopes_filters_and_attributes() {
    let s = TestServer::start();
    let mut c = s.admin();
    let reg = format!("ou=registries,{SUFFIX}");
    add_person(&mut c, "ann", "Ann Example");
    add_person(&mut c, "bob", "Bob Sample");
    add(
        &mut c,
        &format!("cn=team,{reg}"),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["team"]),
            ("associatedDomain", &["br"]),
            ("telephoneNumber", &["+55 11 5555 0101"]),
            ("cctldContactPriority", &["2"]),
        ],
    );
    // Scopes.
    let (_, e) = search(&mut c, &reg, Scope::Base, "(objectClass=*)", &["1.1"]);
    assert_eq!(dns(&e), vec![reg.to_lowercase()]);
    assert!(e[0].attrs.is_empty(), "1.1 returns no attributes");
    let (_, e) = search(&mut c, &reg, Scope::OneLevel, "(objectClass=*)", &[]);
    assert_eq!(e.len(), 3);
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(objectClass=*)", &[]);
    assert_eq!(e.len(), 7);
    // Filters (indexed and not), three-valued logic.
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(cn=ann example)", &[]);
    assert_eq!(dns(&e), vec![person_dn("ann").to_lowercase()]);
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(cn=*xamp*)", &[]);
    assert_eq!(e.len(), 1);
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(|(uid=ann)(uid=bob))", &[]);
    assert_eq!(e.len(), 2);
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(&(objectClass=inetOrgPerson)(!(uid=ann)))",
        &[],
    );
    assert_eq!(dns(&e), vec![person_dn("bob").to_lowercase()]);
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(telephoneNumber=+5511555501*)",
        &[],
    );
    assert_eq!(e.len(), 1, "telephone substrings ignore spaces");
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(cctldContactPriority>=2)",
        &[],
    );
    assert_eq!(e.len(), 1);
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(cctldContactPriority<=1)",
        &[],
    );
    assert_eq!(e.len(), 0);
    let (rc, e) = search(&mut c, SUFFIX, Scope::Subtree, "(nosuchattr=x)", &[]);
    assert_eq!(
        (rc, e.len()),
        (0, 0),
        "unknown attribute is Undefined, not an error"
    );
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(!(nosuchattr=x))", &[]);
    assert_eq!(e.len(), 0, "NOT Undefined is Undefined");
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(ou:dn:=registries)", &[]);
    assert_eq!(e.len(), 4, "dn attributes in extensible match");
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(cn:caseExactMatch:=Ann Example)",
        &[],
    );
    assert_eq!(e.len(), 1);
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(sn~=sample)", &[]);
    assert_eq!(e.len(), 1);
    // Attribute selection.
    let (_, e) = search(
        &mut c,
        &person_dn("ann"),
        Scope::Base,
        "(objectClass=*)",
        &["cn", "nosuchattr"],
    );
    assert_eq!(e[0].attrs.keys().collect::<Vec<_>>(), vec!["cn"]);
    let (_, e) = search(
        &mut c,
        &person_dn("ann"),
        Scope::Base,
        "(objectClass=*)",
        &["*", "+"],
    );
    for a in [
        "entryUUID",
        "entryCSN",
        "createTimestamp",
        "modifyTimestamp",
        "creatorsName",
        "modifiersName",
        "structuralObjectClass",
        "entryDN",
        "subschemaSubentry",
        "hasSubordinates",
        "cn",
    ] {
        assert!(e[0].attrs.contains_key(a), "{a} missing");
    }
    assert_eq!(e[0].attrs["structuralObjectClass"], vec!["inetOrgPerson"]);
    assert_eq!(e[0].attrs["creatorsName"], vec![ADMIN]);
    let (_, e) = search(
        &mut c,
        &reg,
        Scope::Base,
        "(hasSubordinates=TRUE)",
        &["hasSubordinates"],
    );
    assert_eq!(e[0].attrs["hasSubordinates"], vec!["TRUE"]);
    let (_, e) = search(
        &mut c,
        &person_dn("ann"),
        Scope::Base,
        "(objectClass=*)",
        &["name"],
    );
    assert!(
        e[0].attrs.contains_key("cn") && e[0].attrs.contains_key("sn"),
        "supertype selects subtypes"
    );
    // typesOnly
    let r = c
        .with_search_options(ldap3::SearchOptions::new().typesonly(true))
        .search(
            &person_dn("ann"),
            Scope::Base,
            "(objectClass=*)",
            vec!["cn"],
        )
        .expect("search");
    let e = SearchEntry::construct(r.0[0].clone());
    assert_eq!(e.attrs["cn"], Vec::<String>::new());
    // Missing base: noSuchObject with matchedDN.
    let r = c
        .search(
            &format!("uid=x,ou=nothere,{reg}"),
            Scope::Base,
            "(objectClass=*)",
            vec!["*"],
        )
        .expect("search");
    assert_eq!(r.1.rc, 32);
    assert_eq!(r.1.matched.to_lowercase(), reg.to_lowercase());
    let r = c
        .search("bad dn", Scope::Base, "(objectClass=*)", vec!["*"])
        .expect("search");
    assert_eq!(r.1.rc, 34);
}

#[test]
fn size_and_time_limits() {
    let s = TestServer::start_with(|c| {
        c.limits.size_limit = 3;
        c.limits.size_limit_max = 4;
    });
    grant_members(&s);
    let mut admin = s.admin();
    for i in 0..6 {
        add_person(&mut admin, &format!("p{i}"), &format!("Person {i}"));
    }
    admin.simple_bind(ADMIN, &s.admin_password()).expect("bind");
    // The admin is not limited by the server.
    let (code, e) = search(&mut admin, SUFFIX, Scope::Subtree, "(uid=*)", &[]);
    assert_eq!((code, e.len()), (0, 6));
    // The client's own limit applies: partial results, then sizeLimitExceeded.
    let r = admin
        .with_search_options(ldap3::SearchOptions::new().sizelimit(2))
        .search(SUFFIX, Scope::Subtree, "(uid=*)", vec!["1.1"])
        .expect("search");
    assert_eq!((r.1.rc, r.0.len()), (4, 2));
    // A user gets the server default (3) and at most the maximum (4).
    admin
        .extended(PasswordModify {
            user_id: Some(&person_dn("p0")),
            old_pass: None,
            new_pass: Some("pw0-secret"),
        })
        .expect("passwd");
    let mut u = s.conn();
    assert_eq!(rc(u.simple_bind(&person_dn("p0"), "pw0-secret")), 0);
    let r = u
        .search(SUFFIX, Scope::Subtree, "(uid=*)", vec!["1.1"])
        .expect("search");
    assert_eq!((r.1.rc, r.0.len()), (4, 3));
    let r = u
        .with_search_options(ldap3::SearchOptions::new().sizelimit(100))
        .search(SUFFIX, Scope::Subtree, "(uid=*)", vec!["1.1"])
        .expect("search");
    assert_eq!((r.1.rc, r.0.len()), (4, 4));
}

#[test]
fn compare_results() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "ann", "Ann Example");
    let dn = person_dn("ann");
    let cmp = |c: &mut ldap3::LdapConn, dn: &str, a: &str, v: &str| {
        c.compare(dn, a, v).expect("compare").0.rc
    };
    assert_eq!(cmp(&mut c, &dn, "cn", "ANN  example"), 6);
    assert_eq!(cmp(&mut c, &dn, "cn", "Bob"), 5);
    assert_eq!(cmp(&mut c, &dn, "mail", "x@y.example"), 16);
    assert_eq!(cmp(&mut c, &dn, "nosuchattr", "x"), 17);
    assert_eq!(cmp(&mut c, &person_dn("nobody"), "cn", "x"), 32);
    assert_eq!(cmp(&mut c, "bad", "cn", "x"), 34);
}

/// Regression (issue 14): an add whose attributes omit the RDN's value gets it added, as
/// OpenLDAP does, instead of objectClassViolation / namingViolation.
#[test]
fn add_without_the_rdn_value_gets_it_from_the_dn() {
    let s = TestServer::start();
    let mut c = s.admin();
    let dn = person_dn("zed");
    let attrs = vec![
        ("objectClass", set(&["inetOrgPerson"])),
        ("cn", set(&["Zed"])),
        ("sn", set(&["Zed"])),
    ];
    assert_eq!(rc(c.add(&dn, attrs)), 0);
    let (code, found) = search(&mut c, &dn, Scope::Base, "(uid=zed)", &["uid"]);
    assert_eq!(code, 0);
    assert_eq!(found.len(), 1, "indexed and stored with its uid");
    assert_eq!(found[0].attrs["uid"], vec!["zed".to_string()]);
    // Given in another case, the value is not added twice.
    let dn2 = person_dn("amy");
    let attrs = vec![
        ("objectClass", set(&["inetOrgPerson"])),
        ("uid", set(&["AMY"])),
        ("cn", set(&["Amy"])),
        ("sn", set(&["Amy"])),
    ];
    assert_eq!(rc(c.add(&dn2, attrs)), 0);
    let (_, found) = search(&mut c, &dn2, Scope::Base, "(objectClass=*)", &["uid"]);
    assert_eq!(found[0].attrs["uid"], vec!["AMY".to_string()]);
}

#[test]
fn add_results() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "ann", "Ann Example");
    let person = |uid: &'static str| {
        vec![
            ("objectClass", set(&["inetOrgPerson"])),
            ("uid", set(&[uid])),
            ("cn", set(&["X"])),
            ("sn", set(&["X"])),
        ]
    };
    assert_eq!(rc(c.add(&person_dn("ann"), person("ann"))), 68);
    let r = c
        .add(
            &format!("uid=x,ou=nothere,ou=registries,{SUFFIX}"),
            person("x"),
        )
        .expect("add");
    assert_eq!(r.rc, 32);
    assert_eq!(
        r.matched.to_lowercase(),
        format!("ou=registries,{SUFFIX}").to_lowercase()
    );
    let mut bad = person("y");
    bad.push(("nosuchattr", set(&["1"])));
    assert_eq!(rc(c.add(&person_dn("y"), bad)), 17);
    let mut bad = person("y");
    bad.push(("entryUUID", set(&["8b8f2f0e-0000-4000-8000-000000000000"])));
    assert_eq!(rc(c.add(&person_dn("y"), bad)), 19, "NO-USER-MODIFICATION");
    let mut bad = person("y");
    bad.push(("cctldContactPriority", set(&["first"])));
    bad[0] = ("objectClass", set(&["inetOrgPerson", "cctldContact"]));
    bad.push(("associatedDomain", set(&["br"])));
    assert_eq!(rc(c.add(&person_dn("y"), bad)), 21, "integer syntax");
    let mut bad = person("y");
    bad[0] = ("objectClass", set(&[]));
    bad.remove(0);
    assert_eq!(rc(c.add(&person_dn("y"), bad)), 65, "no objectClass");
    // A naming attribute the RDN names but the attributes omit: not allowed by the class.
    let bad = vec![
        ("objectClass", set(&["organizationalUnit"])),
        ("ou", set(&["X"])),
    ];
    assert_eq!(
        rc(c.add(&format!("uid=z,ou=registries,{SUFFIX}"), bad)),
        65,
        "RDN attribute not allowed"
    );
    assert_eq!(rc(c.add("not a dn", person("q"))), 34);
    assert_eq!(
        rc(c.add("dc=other,dc=example", person("q"))),
        53,
        "outside the naming context"
    );
    // Non-admin users may not write; anonymous does not learn the entry exists.
    let mut anon = s.conn();
    assert_eq!(rc(anon.add(&person_dn("w"), person("w"))), 32);
}

#[test]
fn delete_results() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "ann", "Ann Example");
    assert_eq!(rc(c.delete(&format!("ou=registries,{SUFFIX}"))), 66);
    let r = c
        .delete(&format!("uid=x,ou=nothere,{SUFFIX}"))
        .expect("delete");
    assert_eq!((r.rc, r.matched.to_lowercase()), (32, SUFFIX.to_string()));
    assert_eq!(rc(c.delete(&person_dn("ann"))), 0);
    assert_eq!(rc(c.delete(&person_dn("ann"))), 32);
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(uid=ann)", &[]);
    assert!(e.is_empty(), "deleted entry is gone from the indexes");
}

#[test]
fn modify_results() {
    let s = TestServer::start();
    let mut c = s.admin();
    add(
        &mut c,
        &person_dn("ann"),
        &[
            ("objectClass", &["inetOrgPerson", "cctldContact"]),
            ("uid", &["ann"]),
            ("cn", &["Ann Example"]),
            ("sn", &["Example"]),
            ("associatedDomain", &["br"]),
            ("cctldContactPriority", &["1"]),
        ],
    );
    let dn = person_dn("ann");
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Add("mail", set(&["ann@nic-br.example"]))])),
        0
    );
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Add("mail", set(&["ANN@nic-br.example"]))])),
        20
    );
    assert_eq!(rc(c.modify(&dn, vec![Mod::Delete("title", set(&[]))])), 16);
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Delete("mail", set(&["other@x.example"]))])),
        16
    );
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Replace("title", set(&["Security officer"]))])),
        0
    );
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Increment("cctldContactPriority", "2")])),
        0
    );
    assert_eq!(rc(c.modify(&dn, vec![Mod::Increment("cn", "2")])), 19);
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Delete("uid", set(&["ann"]))])),
        67,
        "notAllowedOnRDN"
    );
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Add("nosuchattr", set(&["x"]))])),
        17
    );
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Replace("entryCSN", set(&["x"]))])),
        19
    );
    assert_eq!(
        rc(c.modify(&dn, vec![Mod::Add("cctldContactPriority", set(&["7"]))])),
        19,
        "single-valued"
    );
    assert_eq!(
        rc(c.modify(
            &dn,
            vec![Mod::Replace("objectClass", set(&["organizationalRole"]))]
        )),
        69
    );
    assert_eq!(
        rc(c.modify(&person_dn("nobody"), vec![Mod::Replace("cn", set(&["x"]))])),
        32
    );
    // A failing change leaves the entry untouched (all or nothing).
    assert_eq!(
        rc(c.modify(
            &dn,
            vec![
                Mod::Replace("title", set(&["Changed"])),
                Mod::Add("nosuchattr", set(&["x"]))
            ]
        )),
        17
    );
    let (_, e) = search(
        &mut c,
        &dn,
        Scope::Base,
        "(objectClass=*)",
        &["title", "cctldContactPriority", "mail", "modifiersName"],
    );
    assert_eq!(e[0].attrs["title"], vec!["Security officer"]);
    assert_eq!(e[0].attrs["cctldContactPriority"], vec!["3"]);
    assert_eq!(e[0].attrs["mail"], vec!["ann@nic-br.example"]);
    assert_eq!(e[0].attrs["modifiersName"], vec![ADMIN]);
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(mail=ann@nic-br.example)",
        &[],
    );
    assert_eq!(e.len(), 1, "indexes follow modifications");
}

#[test]
fn modify_dn_results() {
    let s = TestServer::start();
    let mut c = s.admin();
    let reg = format!("ou=registries,{SUFFIX}");
    add(
        &mut c,
        &format!("ou=team,{reg}"),
        &[("objectClass", &["organizationalUnit"]), ("ou", &["team"])],
    );
    add(
        &mut c,
        &format!("uid=ann,ou=team,{reg}"),
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &["ann"]),
            ("cn", &["Ann"]),
            ("sn", &["A"]),
        ],
    );
    // New RDN, keeping the old value.
    assert_eq!(
        rc(c.modifydn(&format!("uid=ann,ou=team,{reg}"), "cn=Ann", false, None)),
        0
    );
    let (_, e) = search(
        &mut c,
        &format!("cn=Ann,ou=team,{reg}"),
        Scope::Base,
        "(objectClass=*)",
        &["uid", "cn"],
    );
    assert_eq!(e[0].attrs["uid"], vec!["ann"]);
    // Rename with deleteOldRDN.
    assert_eq!(
        rc(c.modifydn(&format!("cn=Ann,ou=team,{reg}"), "cn=Annie", true, None)),
        0
    );
    let (_, e) = search(
        &mut c,
        &format!("cn=Annie,ou=team,{reg}"),
        Scope::Base,
        "(objectClass=*)",
        &["cn"],
    );
    assert_eq!(e[0].attrs["cn"], vec!["Annie"], "old RDN value removed");
    assert_eq!(
        rc(c.modifydn(&format!("cn=Annie,ou=team,{reg}"), "uid=ann2", false, None)),
        0
    );
    // Subtree move with newSuperior: the child follows.
    assert_eq!(
        rc(c.modifydn(
            &format!("ou=team,{reg}"),
            "ou=crew",
            true,
            Some(&format!("ou=groups,{SUFFIX}"))
        )),
        0
    );
    let (rc0, e) = search(
        &mut c,
        &format!("uid=ann2,ou=crew,ou=groups,{SUFFIX}"),
        Scope::Base,
        "(objectClass=*)",
        &["entryDN"],
    );
    assert_eq!(rc0, 0);
    assert_eq!(
        e[0].attrs["entryDN"][0].to_lowercase(),
        format!("uid=ann2,ou=crew,ou=groups,{SUFFIX}")
    );
    let (_, e) = search(&mut c, SUFFIX, Scope::Subtree, "(uid=ann2)", &[]);
    assert_eq!(
        dns(&e),
        vec![format!("uid=ann2,ou=crew,ou=groups,{SUFFIX}")]
    );
    // Errors.
    assert_eq!(
        rc(c.modifydn(&format!("uid=x,{reg}"), "uid=y", true, None)),
        32
    );
    add_person(&mut c, "bob", "Bob B");
    add_person(&mut c, "cat", "Cat C");
    assert_eq!(rc(c.modifydn(&person_dn("bob"), "uid=cat", true, None)), 68);
    assert_eq!(
        rc(c.modifydn(
            &person_dn("bob"),
            "uid=x",
            true,
            Some(&format!("ou=nothere,{SUFFIX}"))
        )),
        32
    );
    assert_eq!(
        rc(c.modifydn(
            &format!("ou=groups,{SUFFIX}"),
            "ou=g",
            true,
            Some(&format!("ou=crew,ou=groups,{SUFFIX}"))
        )),
        53,
        "below itself"
    );
    assert_eq!(
        rc(c.modifydn(&person_dn("bob"), "not an rdn", true, None)),
        34
    );
}

#[test]
fn extended_operations() {
    let s = TestServer::start();
    grant_members(&s);
    let mut c = s.admin();
    add_person(&mut c, "ann", "Ann Example");
    let who: WhoAmIResp = c.extended(WhoAmI).expect("whoami").0.parse();
    assert_eq!(who.authzid.to_lowercase(), format!("dn:{ADMIN}"));
    // Admin sets a password; the user binds and changes it; a generated one works too.
    let dn = person_dn("ann");
    assert_eq!(
        c.extended(PasswordModify {
            user_id: Some(&dn),
            old_pass: None,
            new_pass: Some("first-pw")
        })
        .expect("pm")
        .1
        .rc,
        0
    );
    let mut u = s.conn();
    assert_eq!(rc(u.simple_bind(&dn, "first-pw")), 0);
    let r = u
        .extended(PasswordModify {
            user_id: None,
            old_pass: Some("wrong"),
            new_pass: Some("second"),
        })
        .expect("pm");
    assert_eq!(r.1.rc, 49);
    let r = u
        .extended(PasswordModify {
            user_id: None,
            old_pass: Some("first-pw"),
            new_pass: None,
        })
        .expect("pm");
    assert_eq!(r.1.rc, 0);
    let generated: PasswordModifyResp = r.0.parse();
    assert!(generated.gen_pass.len() >= 12);
    assert_eq!(rc(u.simple_bind(&dn, "first-pw")), 49);
    assert_eq!(rc(u.simple_bind(&dn, &generated.gen_pass)), 0);
    // A user may not set another user's password.
    let r = u
        .extended(PasswordModify {
            user_id: Some(ADMIN),
            old_pass: None,
            new_pass: Some("x"),
        })
        .expect("pm");
    assert_eq!(r.1.rc, 50);
    // The stored password is an argon2id hash, and not readable by other users.
    let (_, e) = search(
        &mut c,
        &dn,
        Scope::Base,
        "(objectClass=*)",
        &["userPassword"],
    );
    let stored = e[0]
        .attrs
        .get("userPassword")
        .map(|v| v[0].clone())
        .expect("admin reads the user's password hash");
    assert!(stored.starts_with("{ARGON2}$argon2id$"), "{stored}");
    let (_, e) = search(
        &mut u,
        ADMIN,
        Scope::Base,
        "(objectClass=*)",
        &["userPassword"],
    );
    assert!(
        !e[0].attrs.contains_key("userPassword") && !e[0].bin_attrs.contains_key("userPassword")
    );
    // Only the user's own password is visible to it: on every other entry the filter is Undefined.
    let (_, e) = search(&mut u, SUFFIX, Scope::Subtree, "(userPassword=*)", &["1.1"]);
    assert_eq!(
        dns(&e),
        vec![dn.to_lowercase()],
        "filters on unreadable attributes are Undefined"
    );
    let (_, e) = search(
        &mut u,
        SUFFIX,
        Scope::Subtree,
        "(!(userPassword=*))",
        &["1.1"],
    );
    assert!(e.is_empty(), "NOT of Undefined is Undefined: {:?}", dns(&e));
    // Unknown extended operation: protocolError.
    let r = c
        .extended(ldap3::exop::Exop {
            name: Some("1.2.3.4".into()),
            val: None,
        })
        .expect("exop");
    assert_eq!(r.1.rc, 2);
}

#[test]
fn controls() {
    let s = TestServer::start();
    let mut c = s.admin();
    let critical = RawControl {
        ctype: "1.2.3.4.5".into(),
        crit: true,
        val: None,
    };
    let r = c
        .with_controls(critical)
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 12);
    let noncritical = RawControl {
        ctype: "1.2.3.4.5".into(),
        crit: false,
        val: None,
    };
    let r = c
        .with_controls(noncritical)
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 0);
    let critical = RawControl {
        ctype: "1.2.3.4.5".into(),
        crit: true,
        val: None,
    };
    let r = c
        .with_controls(critical)
        .delete(&format!("ou=groups,{SUFFIX}"))
        .expect("delete");
    assert_eq!(r.rc, 12);
}

#[test]
fn paged_results_resume() {
    use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
    let s = TestServer::start();
    let mut c = s.admin();
    for i in 0..23 {
        add_person(&mut c, &format!("p{i:02}"), &format!("Paged {i}"));
    }
    let adapters: Vec<Box<dyn Adapter<_, _>>> =
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(5))];
    let mut st = c
        .streaming_search_with(adapters, SUFFIX, Scope::Subtree, "(uid=p*)", vec!["uid"])
        .expect("search");
    let mut seen = HashSet::new();
    while let Some(e) = st.next().expect("next") {
        let e = SearchEntry::construct(e);
        assert!(seen.insert(e.dn.clone()), "duplicate {}", e.dn);
    }
    assert_eq!(st.result().rc, 0);
    assert_eq!(seen.len(), 23);
    // Unindexed filters page through a scope scan.
    let adapters: Vec<Box<dyn Adapter<_, _>>> =
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(4))];
    let mut st = c
        .streaming_search_with(
            adapters,
            SUFFIX,
            Scope::Subtree,
            "(!(uid=nobody))",
            vec!["1.1"],
        )
        .expect("search");
    let mut n = 0;
    while st.next().expect("next").is_some() {
        n += 1;
    }
    assert_eq!(st.result().rc, 0);
    assert_eq!(n, 23 + 4);
}

#[test]
fn tls_transports() {
    let s = TestServer::start();
    for mut c in [s.conn_starttls(), s.conn_ldaps()] {
        assert_eq!(rc(c.simple_bind(ADMIN, &s.admin_password())), 0);
        let who: WhoAmIResp = c.extended(WhoAmI).expect("whoami").0.parse();
        assert_eq!(who.authzid.to_lowercase(), format!("dn:{ADMIN}"));
        let (rc, e) = search(&mut c, SUFFIX, Scope::OneLevel, "(objectClass=*)", &["1.1"]);
        assert_eq!((rc, e.len()), (0, 3));
    }
}

#[test]
fn writes_survive_restart() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "ann", "Ann Example");
    assert_eq!(
        rc(c.modify(
            &person_dn("ann"),
            vec![Mod::Add("mail", set(&["ann@nic-br.example"]))]
        )),
        0
    );
    drop(c);
    let pw = s.admin_password();
    let s = s.restart();
    assert_eq!(s.admin_password(), pw, "admin password kept");
    let mut c = s.admin();
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(mail=ann@nic-br.example)",
        &["cn"],
    );
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].attrs["cn"], vec!["Ann Example"]);
}

#[test]
fn schema_checks_and_attribute_options() {
    let s = TestServer::start();
    let mut c = s.admin();
    let reg = format!("associatedDomain=br,ou=registries,{SUFFIX}");
    let registry = |extra: Vec<(&'static str, HashSet<&'static str>)>| {
        let mut v = vec![
            ("objectClass", set(&["organization", "cctldRegistry"])),
            ("associatedDomain", set(&["br"])),
            ("o", set(&["Registry of .br (example)"])),
        ];
        v.extend(extra);
        v
    };
    // MUST missing (o), MAY violated (mail on organization+cctldRegistry), bad syntaxes.
    let mut no_o = registry(vec![]);
    no_o.retain(|(a, _)| *a != "o");
    let r = c.add(&reg, no_o).expect("add");
    assert_eq!(r.rc, 65);
    assert!(r.text.contains("'o'"), "{}", r.text);
    let r = c
        .add(
            &reg,
            registry(vec![("cctldTimeZone", set(&["Europe/Berlin"]))]),
        )
        .expect("add");
    assert_eq!(r.rc, 65, "cctldTimeZone is not allowed on a registry");
    assert!(r.text.contains("cctldTimeZone"), "{}", r.text);
    assert_eq!(
        rc(c.add(&reg, registry(vec![("c", set(&["Brazil"]))]))),
        21,
        "country string is two letters"
    );
    assert_eq!(
        rc(c.add(&reg, registry(vec![("objectClass", set(&["noSuchClass"]))]))),
        65
    );
    assert_eq!(
        rc(c.add(
            &reg,
            registry(vec![("c", set(&["BR"])), ("co", set(&["Brazil"]))])
        )),
        0
    );
    // A contact: auxiliary class on a person, Boolean and Generalized Time syntaxes.
    let team = format!("cn=incident-response,{reg}");
    let contact = |extra: Vec<(&'static str, HashSet<&'static str>)>| {
        let mut v = vec![
            ("objectClass", set(&["organizationalRole", "cctldContact"])),
            ("cn", set(&["incident-response"])),
            ("associatedDomain", set(&["br"])),
        ];
        v.extend(extra);
        v
    };
    assert_eq!(
        rc(c.add(&team, contact(vec![("cctldAvailable247", set(&["yes"]))]))),
        21
    );
    assert_eq!(
        rc(c.add(
            &team,
            contact(vec![("cctldVerificationDue", set(&["next week"]))])
        )),
        21
    );
    assert_eq!(
        rc(c.add(
            &team,
            contact(vec![
                ("cctldAvailable247", set(&["TRUE"])),
                ("cctldVerificationDue", set(&["20261231000000Z"])),
                ("cctldTimeZone", set(&["America/Sao_Paulo"])),
                ("telephoneNumber", set(&["+55 11 5555 0100"])),
                ("mail", set(&["security@nic-br.example"])),
            ])
        )),
        0
    );
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(&(cctldAvailable247=TRUE)(cctldVerificationDue<=20270101000000Z))",
        &["cn"],
    );
    assert_eq!(dns(&e), vec![team.to_lowercase()]);
    // Removing a MUST attribute fails; the structural class cannot change.
    assert_eq!(
        rc(c.modify(&team, vec![Mod::Delete("associatedDomain", set(&[]))])),
        65
    );
    // userCertificate;binary: stored once, returned with the option the client asked for.
    let cert: &[u8] = &[0x30, 0x82, 0x01, 0x0a, 0x02, 0x01, 0x00];
    let person = format!("uid=ann,{reg}");
    c.add(
        &person,
        vec![
            (
                "objectClass".as_bytes(),
                set(&["inetOrgPerson"])
                    .into_iter()
                    .map(|s| s.as_bytes())
                    .collect::<HashSet<&[u8]>>(),
            ),
            ("uid".as_bytes(), [b"ann".as_slice()].into_iter().collect()),
            ("cn".as_bytes(), [b"Ann".as_slice()].into_iter().collect()),
            ("sn".as_bytes(), [b"A".as_slice()].into_iter().collect()),
            (
                "userCertificate;binary".as_bytes(),
                [cert].into_iter().collect(),
            ),
            (
                "cn;lang-pt".as_bytes(),
                ["Ana".as_bytes()].into_iter().collect(),
            ),
        ],
    )
    .expect("add")
    .success()
    .expect("add person");
    let r = c
        .search(
            &person,
            Scope::Base,
            "(objectClass=*)",
            vec!["userCertificate;binary"],
        )
        .expect("search");
    let e = SearchEntry::construct(r.0[0].clone());
    assert_eq!(
        e.bin_attrs
            .get("userCertificate;binary")
            .map(|v| v[0].as_slice()),
        Some(cert)
    );
    let r = c
        .search(
            &person,
            Scope::Base,
            "(objectClass=*)",
            vec!["userCertificate"],
        )
        .expect("search");
    let e = SearchEntry::construct(r.0[0].clone());
    assert!(
        e.bin_attrs.contains_key("userCertificate"),
        "{:?}",
        e.bin_attrs.keys()
    );
    // Language tags: stored and found by the base type.
    let (_, e) = search(&mut c, &person, Scope::Base, "(cn=ana)", &["cn"]);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].attrs["cn;lang-pt"], vec!["Ana"]);
    let (_, e) = search(
        &mut c,
        &person,
        Scope::Base,
        "(objectClass=*)",
        &["cn;lang-pt"],
    );
    assert!(!e[0].attrs.contains_key("cn"));
}

#[test]
fn extra_schema_files_load_and_errors_stop_the_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    let good = tmp.path().join("site.schema");
    std::fs::write(
        &good,
        "objectidentifier siteOID 1.3.6.1.4.1.99999\n\
         attributetype ( siteOID:1 NAME 'siteShoeSize'\n  EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )\n\
         objectclass ( siteOID:2 NAME 'siteExtra' AUXILIARY MAY siteShoeSize )\n",
    )
    .expect("write");
    let g = good.clone();
    let s = TestServer::start_with(move |c| c.schema.files = vec![g]);
    let mut c = s.admin();
    add(
        &mut c,
        &person_dn("x"),
        &[
            ("objectClass", &["inetOrgPerson", "siteExtra"]),
            ("uid", &["x"]),
            ("cn", &["X"]),
            ("sn", &["X"]),
            ("siteShoeSize", &["44"]),
        ],
    );
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(siteShoeSize>=40)",
        &["siteShoeSize"],
    );
    assert_eq!(e.len(), 1);
    let bad = tmp.path().join("bad.schema");
    std::fs::write(
        &bad,
        "# comment\n\nattributetype ( 1.2.3.4 NAME 'x' SUP noSuchType )\n",
    )
    .expect("write");
    let mut cfg = test_config(&tmp.path().join("data2"));
    cfg.schema.files = vec![bad.clone()];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let err = match rt.block_on(ccdir::Server::start(cfg)) {
        Ok(_) => panic!("a broken schema file must stop the start"),
        Err(e) => e,
    };
    assert!(err.contains(&format!("{}:3:", bad.display())), "{err}");
}

/// Concurrent writers share group commits; every acknowledged write is there after a restart,
/// and a failed write in a group does not take the others with it.
#[test]
fn concurrent_writes_are_grouped_and_all_kept() {
    const THREADS: usize = 8;
    const WRITES: usize = 40;
    let s = TestServer::start();
    {
        let mut c = s.admin();
        for t in 0..THREADS {
            add_person(&mut c, &format!("w{t}"), &format!("Writer W{t}"));
        }
    }
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let s = &s;
            scope.spawn(move || {
                let mut c = s.admin();
                let dn = person_dn(&format!("w{t}"));
                for i in 0..WRITES {
                    let v = format!("{i}");
                    let r = c
                        .modify(&dn, vec![Mod::Replace("description", [v.as_str()].into())])
                        .expect("modify");
                    assert_eq!(r.rc, 0, "{r:?}");
                    // A failing write (the value is already there) between good ones.
                    let r = c
                        .modify(&dn, vec![Mod::Add("description", [v.as_str()].into())])
                        .expect("modify");
                    assert_eq!(r.rc, 20, "{r:?}");
                }
            });
        }
    });
    let s = s.restart();
    let mut c = s.admin();
    for t in 0..THREADS {
        let (r, _) = c
            .search(
                &person_dn(&format!("w{t}")),
                Scope::Base,
                "(objectClass=*)",
                vec!["description"],
            )
            .expect("search")
            .success()
            .expect("ok");
        let e = SearchEntry::construct(r[0].clone());
        assert_eq!(e.attrs["description"], vec![format!("{}", WRITES - 1)]);
    }
}

/// Issue 14: `(objectClass=person)` missed entries whose classes are only inetOrgPerson and
/// cctldContact (address books such as Evolution search by the superclass). Object class
/// equality matches subclasses, as in OpenLDAP; it is answered from the index; compare agrees;
/// the entry keeps the classes it was given.
#[test]
fn object_class_person_matches_an_entry_that_lists_only_inet_org_person() {
    use ccdir::core::filter::Filter;
    use ccdir::store::View;
    let s = TestServer::start();
    let mut c = s.admin();
    let dn = person_dn("sub");
    add(
        &mut c,
        &dn,
        &[
            ("objectClass", &["inetOrgPerson", "cctldContact"]),
            ("uid", &["sub"]),
            ("cn", &["Sub Class"]),
            ("sn", &["Class"]),
            ("associatedDomain", &["br"]),
        ],
    );
    add_person(&mut c, "ann", "Ann Example");
    for f in [
        "(objectClass=person)",
        "(objectClass=organizationalPerson)",
        "(objectClass=2.5.6.6)",
        "(objectClass=top)",
        "(&(objectClass=person)(objectClass=cctldContact))",
    ] {
        let (code, e) = search(&mut c, SUFFIX, Scope::Subtree, f, &["1.1"]);
        assert_eq!(code, 0, "{f}");
        assert!(dns(&e).contains(&dn.to_lowercase()), "{f}: {:?}", dns(&e));
    }
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(objectClass=person)",
        &["1.1"],
    );
    assert_eq!(
        dns(&e),
        vec![person_dn("ann").to_lowercase(), dn.to_lowercase()]
    );
    let (_, e) = search(
        &mut c,
        SUFFIX,
        Scope::Subtree,
        "(!(objectClass=person))",
        &["1.1"],
    );
    assert!(!dns(&e).contains(&dn.to_lowercase()));
    // Stored as given: the superclasses are not added to the entry.
    let (_, e) = search(
        &mut c,
        &dn,
        Scope::Base,
        "(objectClass=*)",
        &["objectClass"],
    );
    assert_eq!(
        e[0].attrs["objectClass"]
            .iter()
            .map(String::as_str)
            .collect::<HashSet<_>>(),
        set(&["inetOrgPerson", "cctldContact"])
    );
    // Compare goes through the same matching.
    let cmp =
        |c: &mut ldap3::LdapConn, a: &str, v: &str| c.compare(&dn, a, v).expect("compare").0.rc;
    assert_eq!(cmp(&mut c, "objectClass", "person"), 6);
    assert_eq!(cmp(&mut c, "objectClass", "top"), 6);
    assert_eq!(cmp(&mut c, "objectClass", "inetOrgPerson"), 6);
    assert_eq!(cmp(&mut c, "objectClass", "organizationalRole"), 5);
    // The planner narrows by the objectClass index (no scan), and the superclass key holds the
    // entry.
    let dir = s.server().directory();
    let f = Filter::compile(
        &ccdir::core::filter_text::parse("(objectClass=person)").expect("filter"),
        &dir.schema,
        dir.filter_limits(),
    )
    .expect("compile");
    let snap = dir.store.read().expect("snapshot");
    let ids = ccdir::store::index::candidates(&f, dir.store.index_spec(), &snap)
        .expect("index")
        .expect("(objectClass=person) is answered from the index");
    let parsed = ccdir::core::dn::Dn::parse(&dn, &dir.schema).expect("dn");
    let (id, _) = snap.lookup(&parsed).expect("lookup").expect("entry");
    assert!(ids.contains(&id));
    assert_eq!(ids.len(), 2, "the two people, nothing else");
}

/// Issue 14: an extensible match whose rule does not apply to the attribute's syntax
/// (`caseExactMatch`, for Directory Strings, on `mail`, an IA5 String) is Undefined, as in
/// OpenLDAP: it matches nothing, and neither does its negation.
#[test]
fn extensible_match_with_a_rule_for_another_syntax_is_undefined() {
    let s = TestServer::start();
    let mut c = s.admin();
    add(
        &mut c,
        &person_dn("ann"),
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &["ann"]),
            ("cn", &["Ann Example"]),
            ("sn", &["Example"]),
            ("mail", &["Ann@Example.org"]),
            ("telephoneNumber", &["+49 69 1234"]),
        ],
    );
    let found = |c: &mut ldap3::LdapConn, f: &str| {
        let (code, e) = search(c, SUFFIX, Scope::Subtree, f, &["1.1"]);
        assert_eq!(code, 0, "{f}");
        e.len()
    };
    for f in [
        "(mail:caseExactMatch:=Ann@Example.org)",
        "(!(mail:caseExactMatch:=x))",
        "(mail:caseIgnoreMatch:=ann@example.org)",
        "(!(mail:caseIgnoreMatch:=x))",
        "(cn:caseIgnoreIA5Match:=ann example)",
        "(&(uid=ann)(!(cn:integerMatch:=1)))",
        // Without a type only the attributes the rule applies to are tried.
        "(:caseIgnoreMatch:=ann@example.org)",
    ] {
        assert_eq!(found(&mut c, f), 0, "{f}");
    }
    for f in [
        "(mail:caseExactIA5Match:=Ann@Example.org)",
        "(mail:caseIgnoreIA5Match:=ann@example.org)",
        "(&(uid=ann)(!(mail:caseExactIA5Match:=x)))",
        "(cn:caseExactMatch:=Ann Example)",
        "(telephoneNumber:caseIgnoreMatch:=+49 69 1234)",
        "(:caseIgnoreIA5Match:=ann@example.org)",
    ] {
        assert_eq!(found(&mut c, f), 1, "{f}");
    }
}
