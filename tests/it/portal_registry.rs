//! The registry's own pages in the portal (docs/portal.md, "A registry's own pages"): adding
//! and removing a contact through the write pipeline as the logged-in person, the verification
//! history, and the printable roster. Through the router with `oneshot` (portal.rs's Browser),
//! the results read back over LDAP.

use crate::access::{person, reg, PW};
use crate::harness::*;
use crate::portal::{csrf_of, portal_directory, Browser};
use axum::http::StatusCode;
use ldap3::{Mod, Scope, SearchEntry};
use std::collections::HashSet;

fn team() -> String {
    format!("cn=incident-response,{}", reg("br"))
}

/// Entries below `base` matching `filter`, as the directory admin reads them.
fn find(s: &TestServer, base: &str, filter: &str) -> Vec<SearchEntry> {
    let mut c = s.admin();
    let (rs, _) = c
        .search(base, Scope::Subtree, filter, vec!["*", "+"])
        .expect("search")
        .success()
        .expect("found");
    rs.into_iter().map(SearchEntry::construct).collect()
}

fn one(e: &SearchEntry, a: &str) -> String {
    e.attrs
        .get(a)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default()
}

fn uuid_of(s: &TestServer, dn: &str) -> String {
    let mut c = s.admin();
    let (rs, _) = c
        .search(dn, Scope::Base, "(objectClass=*)", vec!["entryUUID"])
        .expect("search")
        .success()
        .expect("found");
    one(&SearchEntry::construct(rs[0].clone()), "entryUUID")
}

fn logged_in(s: &TestServer, dn: &str) -> Browser {
    let mut b = Browser::new(s);
    assert_eq!(b.login(dn, PW).status, StatusCode::SEE_OTHER);
    b
}

#[test]
fn portal_registry_adds_and_removes_a_contact_as_the_person() {
    let s = portal_directory(|_| {});
    let ana = person("ana", "br");
    let mut b = logged_in(&s, &ana);
    let page = b.get("/cctld/br");
    assert!(
        page.body
            .contains("href=\"/cctld/br/contact/new\">Add a contact</a>"),
        "{}",
        page.body
    );
    let form = b.get("/cctld/br/contact/new");
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("<label for=\"f-sn\">Surname</label>"));
    assert!(
        form.body.contains("Incident response .br"),
        "substitutes offered"
    );
    let token = csrf_of(&form.body);
    let team_uuid = uuid_of(&s, &team());
    let count = |s: &TestServer| find(s, &reg("br"), "(objectClass=cctldContact)").len();
    let before = count(&s);

    // A bad phone number: 422, the server's message next to the field, the values kept.
    let bad = [
        ("csrf", token.as_str()),
        ("givenName", "Carla"),
        ("sn", "Souza"),
        ("telephoneNumber", "call me maybe"),
        ("mail", "carla@nic-br.example"),
        ("cctldContactRole", "security"),
        ("cctldSubstitute", team_uuid.as_str()),
    ];
    let r = b.post("/cctld/br/contact/new", &bad);
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"e-telephoneNumber\">telephoneNumber: "),
        "{}",
        r.body
    );
    assert!(r.body.contains(">call me maybe</textarea>"), "{}", r.body);
    assert!(r.body.contains("value=\"Carla\""), "{}", r.body);
    assert!(
        r.body
            .contains("name=\"cctldContactRole\" value=\"security\" checked"),
        "{}",
        r.body
    );
    assert_eq!(count(&s), before, "nothing written");

    // Without the token: refused, nothing written.
    let mut no_token = bad.to_vec();
    no_token.remove(0);
    no_token.retain(|(k, _)| *k != "telephoneNumber");
    let r = b.post("/cctld/br/contact/new", &no_token);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&s), before);

    // A good number: added below .br as ana, back to the ccTLD page.
    let mut good = bad.to_vec();
    good.retain(|(k, _)| *k != "telephoneNumber");
    good.push(("telephoneNumber", "+55 11 2345-0001"));
    good.push(("cctldAvailable247", "FALSE"));
    let r = b.post("/cctld/br/contact/new", &good);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/cctld/br");
    let added = find(&s, &reg("br"), "(cn=Carla Souza)");
    assert_eq!(added.len(), 1, "{added:?}");
    let e = &added[0];
    assert!(e.dn.to_ascii_lowercase().starts_with("uid="), "{}", e.dn);
    assert_eq!(
        one(e, "creatorsName").to_ascii_lowercase(),
        ana.to_ascii_lowercase()
    );
    assert_eq!(one(e, "telephoneNumber"), "+55 11 2345-0001");
    assert_eq!(one(e, "associatedDomain"), "br");
    assert_eq!(one(e, "cctldContactRole"), "security");
    assert_eq!(one(e, "cctldAvailable247"), "FALSE");
    assert_eq!(
        one(e, "cctldSubstitute").to_ascii_lowercase(),
        team().to_ascii_lowercase()
    );
    let carla = e.dn.clone();
    let carla_uuid = one(e, "entryUUID");

    // The page lists it with a Remove link; the confirmation page, then the delete.
    let page = b.get("/cctld/br");
    assert!(page.body.contains("Carla Souza"), "{}", page.body);
    let remove = format!("/cctld/br/contact/{carla_uuid}/remove");
    assert!(
        page.body.contains(&format!("href=\"{remove}\">Remove</a>")),
        "{}",
        page.body
    );
    let confirm = b.get(&remove);
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.body.contains("Remove <bdi>Carla Souza</bdi>"),
        "{}",
        confirm.body
    );
    assert_eq!(
        b.post(&remove, &[]).status,
        StatusCode::FORBIDDEN,
        "no token"
    );
    assert_eq!(find(&s, &reg("br"), "(cn=Carla Souza)").len(), 1);
    let r = b.post(&remove, &[("csrf", &token)]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(find(&s, &reg("br"), "(cn=Carla Souza)").is_empty());
    let log = find(&s, "cn=changelog", "(changeType=delete)");
    let del = log
        .iter()
        .find(|c| one(c, "targetDN").eq_ignore_ascii_case(&carla))
        .unwrap_or_else(|| panic!("no delete of {carla} in {log:?}"));
    assert_eq!(
        one(del, "creatorsName").to_ascii_lowercase(),
        ana.to_ascii_lowercase()
    );

    // The 24/7 contact point: the server refuses, the page says so in plain words (409).
    let remove_team = format!("/cctld/br/contact/{team_uuid}/remove");
    let confirm = b.get(&remove_team);
    assert!(
        confirm.body.contains("24/7 contact point"),
        "{}",
        confirm.body
    );
    let r = b.post(&remove_team, &[("csrf", &token)]);
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("The server said: "), "{}", r.body);
    assert_eq!(find(&s, &team(), "(objectClass=*)").len(), 1, "still there");
}

#[test]
fn portal_registry_another_registry_answers_as_absent() {
    let s = portal_directory(|_| {});
    // ana: br's admin, a member (reads .pt), may write nothing of .pt.
    let mut b = logged_in(&s, &person("ana", "br"));
    let t = b.token();
    let pt_page = b.get("/cctld/pt");
    assert_eq!(pt_page.status, StatusCode::OK, "ana reads .pt");
    assert!(!pt_page.body.contains("/contact/new"), "{}", pt_page.body);
    assert!(!pt_page.body.contains("/remove\""), "{}", pt_page.body);

    let absent_get = b.get("/cctld/zz/contact/new");
    let other_get = b.get("/cctld/pt/contact/new");
    assert_eq!(absent_get.status, StatusCode::NOT_FOUND);
    assert_eq!(other_get.status, StatusCode::NOT_FOUND);
    assert_eq!(absent_get.body, other_get.body);
    let form = [
        ("csrf", t.as_str()),
        ("sn", "Intruder"),
        ("telephoneNumber", "+351 21 000 0000"),
    ];
    let absent = b.post("/cctld/zz/contact/new", &form);
    let other = b.post("/cctld/pt/contact/new", &form);
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(absent.body, other.body);
    assert!(
        find(&s, &reg("pt"), "(sn=Intruder)").is_empty(),
        "nothing written"
    );

    let rui = person("rui", "pt");
    let rui_uuid = uuid_of(&s, &rui);
    let other = b.post(
        &format!("/cctld/pt/contact/{rui_uuid}/remove"),
        &[("csrf", &t)],
    );
    let absent = b.post(
        "/cctld/pt/contact/00000000-0000-0000-0000-000000000000/remove",
        &[("csrf", &t)],
    );
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body, absent.body);
    assert_eq!(
        b.get(&format!("/cctld/pt/contact/{rui_uuid}/remove")).body,
        absent.body
    );
    assert_eq!(
        find(&s, &rui, "(objectClass=*)").len(),
        1,
        "rui still there"
    );

    // bob, a member of .br but not its admin: no add either.
    let mut m = logged_in(&s, &person("bob", "br"));
    assert_eq!(m.get("/cctld/br/contact/new").status, StatusCode::NOT_FOUND);
    assert!(!m.get("/cctld/br").body.contains("/contact/new"));
}

/// vera, a verifier (cn=verifiers,ou=groups), as tests/it/freshness.rs sets one up.
fn add_verifier(s: &TestServer) -> String {
    let vera = format!("cn=vera,ou=groups,{SUFFIX}");
    let mut c = s.admin();
    add(
        &mut c,
        &vera,
        &[
            (
                "objectClass",
                &["organizationalRole", "simpleSecurityObject"],
            ),
            ("cn", &["vera"]),
            ("userPassword", &[PW]),
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
    vera
}

#[test]
fn portal_registry_history_lists_verifications_newest_first() {
    let s = portal_directory(|_| {});
    let vera = add_verifier(&s);
    // A verification recorded over LDAP by the verifier, with a hostile note.
    let mut v = s.conn();
    v.simple_bind(&vera, PW)
        .expect("bind")
        .success()
        .expect("vera");
    let mods = vec![
        Mod::Replace("cctldVerificationMethod", HashSet::from(["voice"])),
        Mod::Replace("cctldVerificationStatus", HashSet::from(["verified"])),
        Mod::Replace(
            "cctldVerificationNote",
            HashSet::from(["duty officer <b>answered</b>"]),
        ),
    ];
    v.modify(&team(), mods)
        .expect("modify")
        .success()
        .expect("recorded");

    let ana = person("ana", "br");
    let mut b = logged_in(&s, &ana);
    let page = b.get("/cctld/br");
    assert!(
        page.body.contains("href=\"/cctld/br/history\""),
        "{}",
        page.body
    );
    let h = b.get("/cctld/br/history");
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    assert!(h.body.contains("<td>voice</td>"), "{}", h.body);
    assert!(h.body.contains(">verified</td>"), "{}", h.body);
    assert!(h.body.contains("<bdi>vera</bdi>"), "{}", h.body);
    assert!(
        h.body.contains("<bdi>Incident response .br</bdi>"),
        "{}",
        h.body
    );
    assert!(h.body.contains(" UTC"), "{}", h.body);
    // The team's own time zone (America/Sao_Paulo: -03).
    assert!(h.body.contains("-03 contact's time"), "{}", h.body);
    assert!(
        h.body.contains("duty officer &lt;b&gt;answered&lt;/b&gt;")
            || h.body
                .contains("duty officer &#60;b&#62;answered&#60;/b&#62;"),
        "{}",
        h.body
    );
    assert!(!h.body.contains("<b>answered"), "{}", h.body);
    assert!(!h.body.contains("rel=\"next\""), "one page");

    // 50 confirmations by the registry: the newest 50 on page 1, the verification on page 2.
    let mut a = s.conn();
    a.simple_bind(&ana, PW)
        .expect("bind")
        .success()
        .expect("ana");
    for _ in 0..50 {
        a.modify(
            &team(),
            vec![Mod::Replace(
                "cctldVerificationStatus",
                HashSet::from(["confirmed"]),
            )],
        )
        .expect("modify")
        .success()
        .expect("confirmed");
    }
    let records = find(
        &s,
        &format!("ou=history,{}", reg("br")),
        "(objectClass=cctldVerificationRecord)",
    );
    assert_eq!(records.len(), 51, "{records:?}");
    let p1 = b.get("/cctld/br/history");
    assert_eq!(
        p1.body.matches(">confirmed</td>").count(),
        50,
        "{}",
        p1.body
    );
    assert!(!p1.body.contains("<td>voice</td>"), "{}", p1.body);
    assert!(
        p1.body
            .contains("href=\"/cctld/br/history?page=2\" rel=\"next\""),
        "{}",
        p1.body
    );
    let p2 = b.get("/cctld/br/history?page=2");
    assert!(p2.body.contains("<td>voice</td>"), "{}", p2.body);
    assert!(
        p2.body
            .contains("href=\"/cctld/br/history?page=1\" rel=\"prev\""),
        "{}",
        p2.body
    );
    assert!(!p2.body.contains("rel=\"next\""), "{}", p2.body);
    assert_eq!(
        b.get("/cctld/br/history?page=0").status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.get("/cctld/br/history?page=x").status,
        StatusCode::BAD_REQUEST
    );

    // bob (a member, not the registry's admin) may not read the records: as an absent registry.
    let mut m = logged_in(&s, &person("bob", "br"));
    assert!(!m.get("/cctld/br").body.contains("/history\""));
    let hidden = m.get("/cctld/br/history");
    let absent = m.get("/cctld/zz/history");
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body, absent.body);
}

#[test]
fn portal_registry_printable_roster() {
    let s = portal_directory(|_| {});
    let mut c = s.admin();
    add(
        &mut c,
        &format!("uid=eve,{}", reg("br")),
        &[
            ("objectClass", &["inetOrgPerson", "cctldContact"]),
            ("uid", &["eve"]),
            ("cn", &["Eve"]),
            ("sn", &["Eve"]),
            ("displayName", &["<script>alert('roster')</script>"]),
            ("associatedDomain", &["br"]),
            ("cctldContactPriority", &["1"]),
        ],
    );
    // bob, an entitled reader (a member registry's person).
    let mut b = logged_in(&s, &person("bob", "br"));
    let start = b.get("/");
    assert!(start.body.contains("href=\"/roster\""), "{}", start.body);
    let r = b.get("/roster");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Incident-response roster"), "{}", r.body);
    assert!(r.body.contains("24/7 contact point"), "{}", r.body);
    assert!(r.body.contains("Incident response .br"), "{}", r.body);
    assert!(r.body.contains("+55 11 2345-6729"), "the emergency number");
    assert!(
        r.body.contains("section class=\"cctld\" id=\"pt\""),
        "every registry bob reads"
    );
    assert!(
        r.body
            .contains("&lt;script&gt;alert(&#39;roster&#39;)&lt;/script&gt;"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(!r.body.contains("<style>"), "no inline style (CSP)");
    let one = b.get("/roster?tld=br");
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.contains("Incident response .br"));
    assert!(!one.body.contains("id=\"pt\""), "{}", one.body);
    assert_eq!(b.get("/roster?tld=zz").status, StatusCode::NOT_FOUND);
    // The style sheet it links prints cleanly.
    let css_path = {
        let at = r.body.find("rel=\"stylesheet\" href=\"").expect("css link") + 23;
        r.body[at..at + r.body[at..].find('"').expect("end")].to_string()
    };
    let css = b.get(&css_path);
    assert!(css.body.contains("@media print"), "{}", css.body);
    assert!(css.body.contains("@page"), "{}", css.body);

    // rui (a non-member registry's person) reads no registry: an empty roster.
    let mut o = logged_in(&s, &person("rui", "pt"));
    let r = o.get("/roster");
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("section class=\"cctld\""), "{}", r.body);
    assert_eq!(o.get("/roster?tld=br").status, StatusCode::NOT_FOUND);
}
