//! The directory admins' pages of the portal (docs/portal.md, "Directory administration"):
//! pending reader accounts approved and rejected, the secure list's membership, the overdue
//! and completeness reports, through `oneshot` as a directory admin (ops), and the same admin
//! URLs as a registry admin (ana) and a reader (bob): the answer of an absent page, nothing
//! written. What the pages write is checked over LDAP.

use crate::access::{login, person, reg, PW};
use crate::harness::*;
use crate::portal::{portal_directory, Browser};
use axum::http::StatusCode;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::HashSet;

const STATUS: &str = "cctldAccountStatus";

fn ops_dn() -> String {
    format!("cn=ops,ou=groups,{SUFFIX}")
}

fn members_dn() -> String {
    format!("cn=members,ou=groups,{SUFFIX}")
}

const ADMIN_PAGES: [&str; 5] = [
    "/admin",
    "/admin/accounts",
    "/admin/list",
    "/admin/reports/overdue",
    "/admin/reports/completeness",
];

/// A reader account below .br, made by its registry admin ana (so pending).
fn pending_account(s: &TestServer, uid: &str) -> String {
    let dn = person(uid, "br");
    let mut ana = login(s, &person("ana", "br"));
    let r = ana
        .add(
            &dn,
            vec![
                ("objectClass", HashSet::from(["inetOrgPerson"])),
                ("uid", HashSet::from([uid])),
                ("cn", HashSet::from([uid])),
                ("sn", HashSet::from([uid])),
                ("mail", HashSet::from(["reader@nic-br.example"])),
                ("userPassword", HashSet::from([PW])),
            ],
        )
        .expect("add");
    assert_eq!(r.rc, 0, "{}", r.text);
    dn
}

/// The first value of `attr` of `dn`, read as the directory's admin.
fn value_of(s: &TestServer, dn: &str, attr: &str) -> Option<String> {
    let mut c = s.admin();
    let r = c
        .search(dn, Scope::Base, "(objectClass=*)", vec![attr])
        .expect("search")
        .success()
        .expect("found");
    let e = SearchEntry::construct(r.0[0].clone());
    e.attrs.get(attr).and_then(|v| v.first().cloned())
}

/// The list's members (lower case), read over LDAP.
fn list_members(s: &TestServer) -> Vec<String> {
    let mut c = s.admin();
    let r = c
        .search(
            &members_dn(),
            Scope::Base,
            "(objectClass=*)",
            vec!["member"],
        )
        .expect("search")
        .success()
        .expect("found");
    let e = SearchEntry::construct(r.0[0].clone());
    let mut v: Vec<String> = e
        .attrs
        .get("member")
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.to_lowercase())
        .collect();
    v.sort();
    v
}

fn bind_rc(s: &TestServer, dn: &str) -> (u32, String) {
    let mut c: LdapConn = s.conn();
    let r = c.simple_bind(dn, PW).expect("bind");
    (r.rc, r.text)
}

fn logged_in(s: &TestServer, dn: &str) -> Browser {
    let mut b = Browser::new(s);
    let r = b.login(dn, PW);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b
}

#[test]
fn portal_admin_approves_and_rejects_pending_accounts() {
    let audit = tempfile::tempdir().expect("tmp");
    let audit_file = audit.path().join("audit.log");
    let f = audit_file.clone();
    let s = portal_directory(move |c| c.audit.output = f.display().to_string());
    let r1 = pending_account(&s, "reader1");
    let r2 = pending_account(&s, "reader2");
    let r3 = pending_account(&s, "reader3");
    assert_eq!(bind_rc(&s, &r1).0, 49, "pending: cannot bind");

    // A hostile name is shown as text.
    s.admin()
        .modify(
            &r3,
            vec![Mod::Replace(
                "cn",
                HashSet::from(["<script>alert(1)</script>"]),
            )],
        )
        .expect("modify")
        .success()
        .expect("cn");

    let mut b = logged_in(&s, &ops_dn());
    let index = b.get("/admin");
    assert_eq!(index.status, StatusCode::OK, "{}", index.body);
    // The header links a directory admin to the admin pages on every page.
    let home = b.get("/");
    assert!(home.body.contains("href=\"/admin\""), "{}", home.body);
    for link in [
        "/admin/accounts",
        "/admin/list",
        "/admin/reports/overdue",
        "/admin/reports/completeness",
        "/admin/onboard",
    ] {
        assert!(
            index.body.contains(&format!("href=\"{link}\"")),
            "{link}: {}",
            index.body
        );
    }
    let page = b.get("/admin/accounts");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for dn in [&r1, &r2, &r3] {
        assert!(page.body.contains(dn.as_str()), "{dn}: {}", page.body);
    }
    assert!(
        page.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !page.body.contains("<script>alert"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(&person("bob", "br")),
        "approved accounts are not listed"
    );

    // A form without its token, or from another site: refused, nothing written.
    let r = b.post("/admin/accounts", &[("dn", &r3), ("action", "approve")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let token = b.token();
    let r = b.post_from(
        "/admin/accounts",
        &[("csrf", &token), ("dn", &r3), ("action", "approve")],
        Some("https://evil.example"),
        None,
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(value_of(&s, &r3, STATUS).as_deref(), Some("pending"));

    // Approve: the account binds over LDAP; the change is the admin's.
    let r = b.post(
        "/admin/accounts",
        &[("csrf", &token), ("dn", &r1), ("action", "approve")],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/accounts?done=approved");
    assert_eq!(value_of(&s, &r1, STATUS).as_deref(), Some("approved"));
    assert_eq!(bind_rc(&s, &r1).0, 0, "approved: binds");
    assert_eq!(
        value_of(&s, &r1, "modifiersName").map(|m| m.to_lowercase()),
        Some(ops_dn().to_lowercase())
    );
    let page = b.get(r.location());
    assert!(page.body.contains("was approved"), "{}", page.body);
    assert!(!page.body.contains(&r1), "no longer pending: {}", page.body);

    // Reject: suspended, cannot bind (the owner learns why).
    let r = b.post(
        "/admin/accounts",
        &[("csrf", &token), ("dn", &r2), ("action", "reject")],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/accounts?done=rejected");
    assert_eq!(value_of(&s, &r2, STATUS).as_deref(), Some("suspended"));
    let (rc, text) = bind_rc(&s, &r2);
    assert_eq!(rc, 49);
    assert!(text.contains("suspended"), "{text}");

    // An account that is no longer pending is not changed again.
    let r = b.post(
        "/admin/accounts",
        &[("csrf", &token), ("dn", &r2), ("action", "approve")],
    );
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("not pending approval"), "{}", r.body);
    assert_eq!(value_of(&s, &r2, STATUS).as_deref(), Some("suspended"));
    // Neither is an entry that was never an account, nor a DN that names nothing.
    for dn in [reg("br"), format!("uid=nobody,{}", reg("br"))] {
        let r = b.post(
            "/admin/accounts",
            &[("csrf", &token), ("dn", &dn), ("action", "approve")],
        );
        assert_eq!(r.status, StatusCode::CONFLICT, "{dn}: {}", r.body);
    }
    let r = b.post(
        "/admin/accounts",
        &[("csrf", &token), ("dn", &r3), ("action", "delete")],
    );
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(value_of(&s, &r3, STATUS).as_deref(), Some("pending"));

    // The audit log names the admin for both changes.
    let log = std::fs::read_to_string(&audit_file).expect("audit log");
    for dn in [&r1, &r2] {
        let line = log
            .lines()
            .find(|l| {
                l.contains("\"op\":\"modify\"") && l.contains(&format!("\"target\":\"{dn}\""))
            })
            .unwrap_or_else(|| panic!("no modify of {dn} in {log}"));
        assert!(
            line.to_lowercase()
                .contains(&format!("\"bound\":\"{}\"", ops_dn().to_lowercase())),
            "{line}"
        );
        assert!(line.contains("\"result\":0"), "{line}");
    }
}

#[test]
fn portal_admin_manages_the_secure_list() {
    let s = portal_directory(|_| {});
    let mut c = s.admin();
    let bob = person("bob", "br");
    c.modify(
        &bob,
        vec![Mod::Replace("mail", HashSet::from(["bob@nic-br.example"]))],
    )
    .expect("modify")
    .success()
    .expect("mail");
    assert_eq!(list_members(&s), vec![reg("br").to_lowercase()]);

    let mut b = logged_in(&s, &ops_dn());
    let page = b.get("/admin/list");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&reg("br")), "{}", page.body);
    assert!(page.body.contains("Members (1)"), "{}", page.body);
    let token = b.token();
    let post = |b: &mut Browser, action: &str, who: &str| {
        b.post(
            "/admin/list",
            &[("csrf", &token), ("action", action), ("who", who)],
        )
    };

    // Add a registry by its ccTLD, a person by the address: visible over LDAP at once.
    let r = post(&mut b, "add", ".pt");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/list?done=added");
    let r = post(&mut b, "add", "bob@nic-br.example");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut want = vec![
        reg("br").to_lowercase(),
        reg("pt").to_lowercase(),
        bob.to_lowercase(),
    ];
    want.sort();
    assert_eq!(list_members(&s), want);
    assert_eq!(
        value_of(&s, &members_dn(), "modifiersName").map(|m| m.to_lowercase()),
        Some(ops_dn().to_lowercase())
    );
    let page = b.get("/admin/list?done=added");
    assert!(page.body.contains("Members (3)"), "{}", page.body);
    assert!(page.body.contains("was added"), "{}", page.body);

    // Refusals in words, nothing changed.
    let nobody = format!("uid=nobody,{}", reg("br"));
    for (who, says) in [
        (nobody.as_str(), "does not name an entry"),
        (reg("br").as_str(), "already a member"),
        ("nobody@nowhere.example", "No entry has the address"),
        ("zz", "No entry has the ccTLD"),
        ("not a dn = really,,", "not a DN"),
    ] {
        let r = post(&mut b, "add", who);
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{who}: {}",
            r.body
        );
        assert!(r.body.contains(says), "{who}: {}", r.body);
        assert!(r.body.contains("Nothing was changed"), "{}", r.body);
    }
    assert_eq!(list_members(&s), want);

    // Remove: gone over LDAP; the last member cannot be removed (the group needs one).
    let r = post(&mut b, "remove", &reg("pt"));
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/list?done=removed");
    let r = post(&mut b, "remove", &reg("pt"));
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("is not a member"), "{}", r.body);
    let r = post(&mut b, "remove", &bob);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(list_members(&s), vec![reg("br").to_lowercase()]);
    let r = post(&mut b, "remove", &reg("br"));
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("at least one member"), "{}", r.body);
    assert_eq!(list_members(&s), vec![reg("br").to_lowercase()]);

    // Without the token: refused, nothing written.
    let r = b.post("/admin/list", &[("action", "add"), ("who", "pt")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(list_members(&s), vec![reg("br").to_lowercase()]);
}

#[test]
fn portal_admin_reports_show_overdue_contacts_and_missing_contact_points() {
    let s = portal_directory(|_| {});
    // Two years on, every contact is past its due date.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(730);
    let s = s.restart_with_clock(std::sync::Arc::new(ccdir::core::clock::ManualClock::new(
        later,
    )));
    let mut b = logged_in(&s, &ops_dn());
    let r = b.get("/admin/reports/overdue");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Incident response .br"), "{}", r.body);
    assert!(r.body.contains("overdue by"), "{}", r.body);
    assert!(r.body.contains(&team_dn()), "{}", r.body);
    // The registry's admins to notify, as `ccdir report overdue` names them.
    assert!(r.body.contains("Notify: <bdi>ana</bdi>"), "{}", r.body);
    let year = later.year().to_string();
    assert!(r.body.contains(&format!("as of {year}-")), "{}", r.body);
    let r = b.get("/admin/reports/overdue?within=30");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for bad in ["-1", "367", "x"] {
        let r = b.get(&format!("/admin/reports/overdue?within={bad}"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }

    // .pt has no 24/7 contact point: the completeness report says so.
    let r = b.get("/admin/reports/completeness");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let at = r
        .body
        .find(&reg("pt"))
        .unwrap_or_else(|| panic!("{}", r.body));
    assert!(r.body[..at].contains("<h2>Registries</h2>"), "{}", r.body);
    assert!(
        r.body.contains(".pt: no contact available 24/7"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains(".br: no contact available 24/7"),
        "br has its team: {}",
        r.body
    );
}

fn team_dn() -> String {
    format!("cn=incident-response,{}", reg("br"))
}

#[test]
fn portal_admin_pages_are_absent_for_everyone_else() {
    let s = portal_directory(|_| {});
    let r1 = pending_account(&s, "reader1");
    for who in [
        person("ana", "br"),
        person("bob", "br"),
        person("rui", "pt"),
    ] {
        let mut b = logged_in(&s, &who);
        let absent = b.get("/admin/no-such-page");
        assert_eq!(absent.status, StatusCode::NOT_FOUND);
        for path in ADMIN_PAGES {
            let r = b.get(path);
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {path}: {}", r.body);
            assert_eq!(r.body, absent.body, "{who} {path}");
        }
        let token = b.token();
        let br = reg("br");
        let absent = b.post("/admin/no-such-page", &[("csrf", &token)]);
        assert_eq!(absent.status, StatusCode::NOT_FOUND);
        let posts: [(&str, Vec<(&str, &str)>); 4] = [
            ("/admin/accounts", vec![("dn", &r1), ("action", "approve")]),
            ("/admin/list", vec![("action", "add"), ("who", "pt")]),
            ("/admin/list", vec![("action", "remove"), ("who", "br")]),
            ("/admin/list", vec![("action", "remove"), ("who", &br)]),
        ];
        for (path, form) in &posts {
            let mut with = form.clone();
            with.push(("csrf", &token));
            let r = b.post(path, &with);
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {path}: {}", r.body);
            assert_eq!(r.body, absent.body, "{who} {path}");
            // Without the token: the same answer (who is asked first).
            let r = b.post(path, form);
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {path}: {}", r.body);
        }
        assert_eq!(value_of(&s, &r1, STATUS).as_deref(), Some("pending"));
        assert_eq!(list_members(&s), vec![reg("br").to_lowercase()]);
    }
    // Not logged in: to the login page, as every page.
    let mut b = Browser::new(&s);
    let r = b.get("/admin/accounts");
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());
}
