//! Links that resolve (issue 15, part 2): DN-valued attributes name existing entries, contact
//! points and substitutes stay inside their registry, renames and deletes carry over to the
//! entries that name the changed one, and a delete that would leave a registry without its
//! contact point (or a group without a member) is refused.

use crate::harness::*;
use ldap3::{LdapConn, Mod, Scope};
use std::collections::HashSet;

fn set<'a>(v: &[&'a str]) -> HashSet<&'a str> {
    v.iter().copied().collect()
}

const PW: &str = "a-long-test-password";

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn person(uid: &str, tld: &str) -> String {
    format!("uid={uid},{}", reg(tld))
}

fn team(tld: &str) -> String {
    format!("cn=incident-response,{}", reg(tld))
}

/// Two registries, br and pt. br: ana (its admin), bob (ana's substitute) and the team
/// (occupied by ana and bob) that is the registry's contact point. pt: rui and its team.
/// cn=members lists pt (so br's admins are not entitled readers), cn=region-test both.
fn directory() -> TestServer {
    let s = TestServer::start();
    let mut c = s.admin();
    for (tld, people) in [("br", &["ana", "bob"][..]), ("pt", &["rui"][..])] {
        add(
            &mut c,
            &reg(tld),
            &[
                ("objectClass", &["organization", "cctldRegistry"]),
                ("associatedDomain", &[tld]),
                ("o", &[tld]),
            ],
        );
        for uid in people {
            add(
                &mut c,
                &person(uid, tld),
                &[
                    ("objectClass", &["inetOrgPerson", "cctldContact"]),
                    ("uid", &[uid]),
                    ("cn", &[uid]),
                    ("sn", &[uid]),
                    ("associatedDomain", &[tld]),
                    ("userPassword", &[PW]),
                ],
            );
        }
        let occupants: Vec<String> = people.iter().map(|u| person(u, tld)).collect();
        let occupants: Vec<&str> = occupants.iter().map(String::as_str).collect();
        add(
            &mut c,
            &team(tld),
            &[
                ("objectClass", &["organizationalRole", "cctldContact"]),
                ("cn", &["incident-response"]),
                ("associatedDomain", &[tld]),
                ("roleOccupant", &occupants),
            ],
        );
        // The registry's contact point, once it exists.
        let t = team(tld);
        let r = c
            .modify(
                &reg(tld),
                vec![Mod::Add("cctldContactPoint", set(&[t.as_str()]))],
            )
            .expect("modify");
        assert_eq!(r.rc, 0, "{}", r.text);
    }
    let bob = person("bob", "br");
    let r = c
        .modify(
            &person("ana", "br"),
            vec![Mod::Add("cctldSubstitute", set(&[&bob]))],
        )
        .expect("modify");
    assert_eq!(r.rc, 0, "{}", r.text);
    add(
        &mut c,
        &format!("cn=admins,{}", reg("br")),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["admins"]),
            ("member", &[&person("ana", "br")]),
        ],
    );
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&reg("pt")]),
        ],
    );
    add(
        &mut c,
        &format!("cn=region-test,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["region-test"]),
            ("member", &[&reg("br"), &reg("pt")]),
        ],
    );
    s
}

fn values(c: &mut LdapConn, dn: &str, attr: &str) -> Vec<String> {
    let (found, _) = c
        .search(dn, Scope::Base, "(objectClass=*)", vec![attr])
        .expect("search")
        .success()
        .expect("found");
    let e = ldap3::SearchEntry::construct(found[0].clone());
    let mut v: Vec<String> = e
        .attrs
        .into_iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(attr))
        .flat_map(|(_, v)| v)
        .map(|v| v.to_lowercase())
        .collect();
    v.sort();
    v
}

#[test]
fn references_must_name_existing_entries_inside_the_registry() {
    let s = directory();
    let mut c = s.admin();
    // The incident of the issue: a contact point that names nothing.
    let r = c
        .modify(
            &reg("br"),
            vec![Mod::Replace(
                "cctldContactPoint",
                set(&["uid=nobody,dc=nowhere"]),
            )],
        )
        .expect("modify");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(
        r.text.contains("cctldContactPoint") && r.text.contains("uid=nobody,dc=nowhere"),
        "{}",
        r.text
    );
    // Another registry's team is not this registry's contact point.
    let r = c
        .modify(
            &reg("br"),
            vec![Mod::Replace("cctldContactPoint", set(&[&team("pt")]))],
        )
        .expect("modify");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(r.text.contains("not inside the registry"), "{}", r.text);
    // Nor is another registry's person a substitute.
    let rui = person("rui", "pt");
    let r = c
        .modify(
            &person("ana", "br"),
            vec![Mod::Add("cctldSubstitute", set(&[&rui]))],
        )
        .expect("modify");
    assert_eq!(r.rc, 19, "{}", r.text);
    // member, roleOccupant and seeAlso must name entries too (anywhere in the directory).
    for attr in ["roleOccupant", "seeAlso"] {
        let r = c
            .modify(
                &team("br"),
                vec![Mod::Add(attr, set(&[&person("nobody", "br")]))],
            )
            .expect("modify");
        assert_eq!(r.rc, 19, "{attr}: {}", r.text);
        assert!(r.text.contains(attr), "{}", r.text);
    }
    let r = c
        .add(
            &format!("cn=region-other,ou=groups,{SUFFIX}"),
            vec![
                ("objectClass", set(&["groupOfNames"])),
                ("cn", set(&["region-other"])),
                ("member", set(&[&reg("br"), &reg("zz")])),
            ],
        )
        .expect("add");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(r.text.contains(&reg("zz")), "{}", r.text);
    // Nothing changed, and good values are taken.
    assert_eq!(
        values(&mut c, &reg("br"), "cctldContactPoint"),
        vec![team("br").to_lowercase()]
    );
    let r = c
        .modify(&team("br"), vec![Mod::Add("seeAlso", set(&[&team("pt")]))])
        .expect("modify");
    assert_eq!(
        r.rc, 0,
        "seeAlso may name another registry's entry: {}",
        r.text
    );
}

#[test]
fn an_entry_the_writer_may_not_see_counts_as_missing() {
    let s = directory();
    let mut ana = s.conn();
    assert_eq!(
        ana.simple_bind(&person("ana", "br"), PW).expect("bind").rc,
        0
    );
    // The directory's admin entry is invisible to a registry's admins (br is not an entitled
    // reader): naming it gets the same answer as naming nothing, so the answer does not
    // reveal what exists.
    let hidden = ADMIN;
    let r = ana
        .modify(&team("br"), vec![Mod::Add("seeAlso", set(&[hidden]))])
        .expect("modify");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(r.text.contains("does not name an entry"), "{}", r.text);
    // Its own registry's entries it names freely.
    let r = ana
        .modify(
            &team("br"),
            vec![Mod::Add("seeAlso", set(&[&person("bob", "br")]))],
        )
        .expect("modify");
    assert_eq!(r.rc, 0, "{}", r.text);
}

#[test]
fn a_rename_rewrites_the_references_to_the_entry_and_to_everything_below_it() {
    let s = directory();
    let mut c = s.admin();
    // bob -> robert: ana's substitute and the team's occupant follow.
    let r = c
        .modifydn(&person("bob", "br"), "uid=robert", true, None)
        .expect("modrdn");
    assert_eq!(r.rc, 0, "{}", r.text);
    let robert = person("robert", "br").to_lowercase();
    assert_eq!(
        values(&mut c, &person("ana", "br"), "cctldSubstitute"),
        vec![robert.clone()]
    );
    assert!(values(&mut c, &team("br"), "roleOccupant").contains(&robert));
    // The whole registry renamed: the list group, the registry's own contact point, the
    // admins group and the people's substitutes all name the new place.
    let r = c
        .modifydn(&reg("br"), "associatedDomain=bz", true, None)
        .expect("modrdn");
    assert_eq!(r.rc, 0, "{}", r.text);
    let members = values(
        &mut c,
        &format!("cn=region-test,ou=groups,{SUFFIX}"),
        "member",
    );
    assert!(members.contains(&reg("bz").to_lowercase()), "{members:?}");
    assert!(!members.contains(&reg("br").to_lowercase()), "{members:?}");
    assert_eq!(
        values(&mut c, &reg("bz"), "cctldContactPoint"),
        vec![team("bz").to_lowercase()]
    );
    assert_eq!(
        values(&mut c, &format!("cn=admins,{}", reg("bz")), "member"),
        vec![person("ana", "bz").to_lowercase()]
    );
    assert_eq!(
        values(&mut c, &person("ana", "bz"), "cctldSubstitute"),
        vec![person("robert", "bz").to_lowercase()]
    );
    // Each rewritten entry says who changed it.
    let (found, _) = c
        .search(
            &person("ana", "bz"),
            Scope::Base,
            "(objectClass=*)",
            vec!["modifiersName"],
        )
        .expect("search")
        .success()
        .expect("found");
    let e = ldap3::SearchEntry::construct(found[0].clone());
    assert_eq!(e.attrs["modifiersName"], vec![ADMIN.to_string()]);
}

#[test]
fn a_move_that_takes_a_contact_out_of_the_registry_naming_it_is_refused() {
    let s = directory();
    let mut c = s.admin();
    let r = c
        .modifydn(&person("bob", "br"), "uid=bob", true, Some(&reg("pt")))
        .expect("modrdn");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(r.text.contains("cctldSubstitute"), "{}", r.text);
    // Nothing moved.
    assert_eq!(
        values(&mut c, &person("ana", "br"), "cctldSubstitute"),
        vec![person("bob", "br").to_lowercase()]
    );
    // Once nobody names bob as a substitute, the move is fine (the team's occupant follows).
    let r = c
        .modify(
            &person("ana", "br"),
            vec![Mod::Delete("cctldSubstitute", HashSet::new())],
        )
        .expect("modify");
    assert_eq!(r.rc, 0, "{}", r.text);
    let r = c
        .modifydn(&person("bob", "br"), "uid=bob", true, Some(&reg("pt")))
        .expect("modrdn");
    assert_eq!(r.rc, 0, "{}", r.text);
    assert!(
        values(&mut c, &team("br"), "roleOccupant").contains(&person("bob", "pt").to_lowercase())
    );
}

#[test]
fn a_delete_removes_the_references_or_is_refused_when_one_is_required() {
    let s = directory();
    let mut c = s.admin();
    // bob: ana's substitute and a team occupant; both values go with him.
    assert_eq!(c.delete(&person("bob", "br")).expect("delete").rc, 0);
    assert!(values(&mut c, &person("ana", "br"), "cctldSubstitute").is_empty());
    assert_eq!(
        values(&mut c, &team("br"), "roleOccupant"),
        vec![person("ana", "br").to_lowercase()]
    );
    // The team is br's only contact point: refused, saying why and what to do.
    let r = c.delete(&team("br")).expect("delete");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(
        r.text.contains("only cctldContactPoint") && r.text.contains(&reg("br")),
        "{}",
        r.text
    );
    // ana is the only member of br's admins group: refused too.
    let r = c.delete(&person("ana", "br")).expect("delete");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(r.text.contains("only member"), "{}", r.text);
    // Once another entry is the contact point, the team may go.
    add(
        &mut c,
        &format!("cn=noc,{}", reg("br")),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["noc"]),
            ("associatedDomain", &["br"]),
        ],
    );
    let noc = format!("cn=noc,{}", reg("br"));
    let r = c
        .modify(
            &reg("br"),
            vec![Mod::Replace("cctldContactPoint", set(&[&noc]))],
        )
        .expect("modify");
    assert_eq!(r.rc, 0, "{}", r.text);
    assert_eq!(c.delete(&team("br")).expect("delete").rc, 0);
    assert_eq!(
        values(&mut c, &reg("br"), "cctldContactPoint"),
        vec![noc.to_lowercase()]
    );
}

#[test]
fn import_checks_references_after_the_load_and_continue_skips_the_entries_that_dangle() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let f = tmp.path().join("in.ldif");
    // The team names ana before ana's entry: fine, the check runs after the load.
    let ldif = format!(
        "{BASE_LDIF}dn: {br}
objectClass: organization
objectClass: cctldRegistry
associatedDomain: br
o: br
seeAlso: cn=gone,{br}

dn: cn=incident-response,{br}
objectClass: organizationalRole
objectClass: cctldContact
cn: incident-response
associatedDomain: br
roleOccupant: uid=ana,{br}

dn: uid=ana,{br}
objectClass: inetOrgPerson
objectClass: cctldContact
uid: ana
cn: ana
sn: ana
associatedDomain: br

dn: uid=bob,{br}
objectClass: inetOrgPerson
objectClass: cctldContact
uid: bob
cn: bob
sn: bob
associatedDomain: br
cctldSubstitute: uid=nobody,{br}
",
        br = reg("br")
    );
    std::fs::write(&f, ldif).expect("write");
    let o = ccdir(&["import", "-q", f.to_str().expect("path")], &data);
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("in.ldif:34:") && e.contains("cctldSubstitute") && e.contains("uid=nobody"),
        "{e}"
    );
    let o = ccdir(
        &["import", "--continue", "-q", f.to_str().expect("path")],
        &data,
    );
    let e = stderr(&o);
    assert!(e.contains("in.ldif:34:"), "{e}");
    let o = ccdir(&["export"], &data);
    let out = stdout(&o);
    assert!(out.contains("dn: uid=ana,"), "{out}");
    assert!(out.contains("roleOccupant: uid=ana,"), "{out}");
    assert!(!out.contains("dn: uid=bob,"), "bob was skipped: {out}");
    // The registry names nothing either, but the entries below it were loaded: it stays, the
    // import says so, and `ccdir check` lists it until it is fixed.
    assert!(e.contains("in.ldif:12:") && e.contains("was kept"), "{e}");
    assert!(out.contains("seeAlso: cn=gone,"), "{out}");
    let o = ccdir(&["check", "--format", "json"], &data);
    let report = stdout(&o);
    assert_eq!(code(&o), 1, "{report}{}", stderr(&o));
    let problems: serde_json::Value = serde_json::from_str(&report).expect("json");
    let refs: Vec<&serde_json::Value> = problems
        .as_array()
        .expect("array")
        .iter()
        .filter(|p| p["rule"] == "reference")
        .collect();
    assert_eq!(refs.len(), 1, "{report}");
    assert_eq!(refs[0]["dn"], reg("br").as_str());
    assert!(
        refs[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("seeAlso: cn=gone,")),
        "{report}"
    );
}
