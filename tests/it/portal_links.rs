//! The portal's one-time links (docs/portal.md, "One-time links"), through the router with
//! `oneshot`: onboarding a registry as a directory admin and the invitation that sets the new
//! admin's password (then an LDAP bind), refusals for a registry admin, used and expired
//! links; the e-mail challenge.

use crate::harness::*;
use crate::portal::Browser;
use axum::http::StatusCode;
use ccdir::core::clock::ManualClock;
use ldap3::{LdapConn, Scope, SearchEntry};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::macros::datetime;

const PW: &str = "a-long-test-password";

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn ops() -> String {
    format!("cn=ops,ou=groups,{SUFFIX}")
}

fn ana() -> String {
    format!("uid=ana,{}", reg("br"))
}

/// br with ana, its admin; ops, a directory admin; the clock under the test's control.
fn directory(
    clock: Arc<ManualClock>,
    f: impl FnOnce(&mut ccdir::service::config::Config),
) -> TestServer {
    let s = TestServer::start_with_clock(clock, f);
    let mut c = s.admin();
    add(
        &mut c,
        &reg("br"),
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("associatedDomain", &["br"]),
            ("o", &["br"]),
        ],
    );
    add(
        &mut c,
        &ana(),
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &["ana"]),
            ("cn", &["ana"]),
            ("sn", &["ana"]),
            ("userPassword", &[PW]),
        ],
    );
    add(
        &mut c,
        &format!("cn=admins,{}", reg("br")),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["admins"]),
            ("member", &[&ana()]),
        ],
    );
    add(
        &mut c,
        &ops(),
        &[
            (
                "objectClass",
                &["organizationalRole", "simpleSecurityObject"],
            ),
            ("cn", &["ops"]),
            ("userPassword", &[PW]),
        ],
    );
    add(
        &mut c,
        &format!("cn=directory-admins,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["directory-admins"]),
            ("member", &[&ops()]),
        ],
    );
    s
}

/// The `value` of the input named `name` (or with id `name`) in a page.
fn value_of(body: &str, attr: &str, name: &str) -> String {
    let needle = format!("{attr}=\"{name}\"");
    let at = body
        .find(&needle)
        .unwrap_or_else(|| panic!("no {needle} in {body}"));
    let rest = &body[at..];
    let v = rest.find("value=\"").expect("value") + "value=\"".len();
    rest[v..v + rest[v..].find('"').expect("end")].to_string()
}

fn exists(c: &mut LdapConn, dn: &str) -> Option<SearchEntry> {
    let r = c
        .search(dn, Scope::Base, "(objectClass=*)", vec!["*"])
        .expect("search");
    r.0.into_iter().next().map(SearchEntry::construct)
}

fn onboard_form<'a>(csrf: &'a str, tld: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("tld", tld),
        ("name", "Registro <ZZ>"),
        ("admin_name", "Zoe Zeta"),
        ("admin_mail", "zoe@nic-zz.example"),
    ]
}

#[test]
fn onboarding_creates_the_registry_and_the_invitation_sets_the_password() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-05 15:00 UTC)));
    let s = directory(clock.clone(), |_| {});
    let mut b = Browser::new(&s);
    assert_eq!(b.login(&ops(), PW).status, StatusCode::SEE_OTHER);
    let page = b.get("/admin/onboard");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = value_of(&page.body, "name", "csrf");
    // A bad ccTLD: the form again, nothing made.
    let r = b.post("/admin/onboard", &onboard_form(&csrf, "z,z"));
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = b.post("/admin/onboard", &onboard_form(&csrf, ".ZZ"));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The registry name is escaped in the page.
    assert!(
        r.body.contains("Registro &#60;ZZ&#62;") || r.body.contains("Registro &lt;ZZ&gt;"),
        "{}",
        r.body
    );
    let link = value_of(&r.body, "id", "link");
    let token = link
        .strip_prefix("/invite/")
        .expect("a path without public_url");
    assert_eq!(token.len(), 43);
    // The entries exist, the account without a password.
    let mut admin = s.admin();
    let zoe = format!("uid=zoe,{}", reg("zz"));
    let e = exists(&mut admin, &reg("zz")).expect("registry");
    assert_eq!(e.attrs["o"], ["Registro <ZZ>"]);
    let e = exists(&mut admin, &zoe).expect("admin account");
    assert_eq!(e.attrs["mail"], ["zoe@nic-zz.example"]);
    assert!(!e.attrs.contains_key("userPassword"));
    let g = exists(&mut admin, &format!("cn=admins,{}", reg("zz"))).expect("group");
    assert_eq!(g.attrs["member"], [zoe.as_str()]);
    // Written as the directory admin.
    let r = admin
        .search(&zoe, Scope::Base, "(objectClass=*)", vec!["creatorsName"])
        .expect("search");
    let e = SearchEntry::construct(r.0.into_iter().next().expect("entry"));
    assert_eq!(
        e.attrs["creatorsName"][0].to_lowercase(),
        ops().to_lowercase()
    );
    // A second onboarding of the same ccTLD is refused, nothing changed.
    let r = b.post("/admin/onboard", &onboard_form(&csrf, "zz"));
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("exists already"), "{}", r.body);
    assert!(exists(&mut admin, &zoe).is_some());

    // The invitee (another browser, not logged in). GET does not use the link.
    let mut zb = Browser::new(&s);
    for _ in 0..2 {
        let r = zb.get(&link);
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Set your password"), "{}", r.body);
    }
    let r = zb.get(&link);
    let form_csrf = value_of(&r.body, "name", "csrf");
    // Without the page's token: refused.
    let r = zb.post(
        &link,
        &[
            ("csrf", "x"),
            ("password", "another-long-pass"),
            ("repeat", "another-long-pass"),
        ],
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Different passwords, then one the policy refuses: the form again, the link still open.
    let r = zb.post(
        &link,
        &[
            ("csrf", &form_csrf),
            ("password", "another-long-pass"),
            ("repeat", "another-long-pasz"),
        ],
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = zb.post(
        &link,
        &[
            ("csrf", &form_csrf),
            ("password", "short"),
            ("repeat", "short"),
        ],
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("too short"), "{}", r.body);
    let r = zb.post(
        &link,
        &[
            ("csrf", &form_csrf),
            ("password", "zoe-s-new-password"),
            ("repeat", "zoe-s-new-password"),
        ],
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Your password is set"), "{}", r.body);
    // The new admin binds over LDAP, and logs in to the portal with the address.
    let mut c = s.conn();
    assert_eq!(
        c.simple_bind(&zoe, "zoe-s-new-password").expect("bind").rc,
        0
    );
    let e = exists(&mut admin, &zoe).expect("account");
    assert!(e.attrs["userPassword"][0].starts_with("{ARGON2}"));
    assert_eq!(
        zb.login("zoe@nic-zz.example", "zoe-s-new-password").status,
        StatusCode::SEE_OTHER
    );
    // Used once: the link is over, and nothing changes.
    let r = zb.post(
        &link,
        &[
            ("csrf", &form_csrf),
            ("password", "yet-another-password"),
            ("repeat", "yet-another-password"),
        ],
    );
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert!(r.body.contains("was used"), "{}", r.body);
    assert_eq!(zb.get(&link).status, StatusCode::GONE);
    let mut c = s.conn();
    assert_eq!(
        c.simple_bind(&zoe, "zoe-s-new-password").expect("bind").rc,
        0
    );
    // A made-up link: not valid.
    let r = zb.get(&format!("/invite/{}", "A".repeat(43)));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(zb.get("/invite/..%2F..").status, StatusCode::NOT_FOUND);
}

#[test]
fn onboarding_is_for_directory_admins_and_invitations_expire() {
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-05 15:00 UTC)));
    let s = directory(clock.clone(), |c| c.portal.invitation_days = 3);
    // A registry admin: the page and the form are refused, nothing is written.
    let mut b = Browser::new(&s);
    assert_eq!(b.login(&ana(), PW).status, StatusCode::SEE_OTHER);
    let r = b.get("/admin/onboard");
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let home = b.get("/");
    let csrf = value_of(&home.body, "name", "csrf");
    let r = b.post("/admin/onboard", &onboard_form(&csrf, "yy"));
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mut admin = s.admin();
    assert!(exists_or_none(&mut admin, &reg("yy")).is_none());
    // Not logged in: to the login page.
    let mut anon = Browser::new(&s);
    assert_eq!(anon.get("/admin/onboard").status, StatusCode::SEE_OTHER);

    // An invitation left for longer than invitation_days: refused, the account unchanged.
    let mut b = Browser::new(&s);
    b.login(&ops(), PW);
    let csrf = value_of(&b.get("/admin/onboard").body, "name", "csrf");
    let r = b.post("/admin/onboard", &onboard_form(&csrf, "yy"));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let link = value_of(&r.body, "id", "link");
    let mut zb = Browser::new(&s);
    let form_csrf = value_of(&zb.get(&link).body, "name", "csrf");
    clock.set(datetime!(2026-12-08 15:00 UTC));
    let r = zb.get(&link);
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert!(r.body.contains("expired"), "{}", r.body);
    let r = zb.post(
        &link,
        &[
            ("csrf", &form_csrf),
            ("password", "zoe-s-new-password"),
            ("repeat", "zoe-s-new-password"),
        ],
    );
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    let zoe = format!("uid=zoe,{}", reg("yy"));
    let e = exists(&mut admin, &zoe).expect("account");
    assert!(!e.attrs.contains_key("userPassword"));
}

fn exists_or_none(c: &mut LdapConn, dn: &str) -> Option<SearchEntry> {
    let r = c.search(dn, Scope::Base, "(objectClass=*)", vec!["1.1"]);
    match r {
        Ok(r) if r.1.rc == 0 => r.0.into_iter().next().map(SearchEntry::construct),
        _ => None,
    }
}

fn contact_dn(cn: &str) -> String {
    format!("cn={cn},{}", reg("br"))
}

fn recorder() -> String {
    format!("cn=portal,ou=groups,{SUFFIX}")
}

/// Read some attributes of `dn` as the directory's admin.
fn attrs(
    s: &TestServer,
    dn: &str,
    names: &[&str],
) -> std::collections::HashMap<String, Vec<String>> {
    let mut c = s.admin();
    let r = c
        .search(dn, Scope::Base, "(objectClass=*)", names.to_vec())
        .expect("search");
    SearchEntry::construct(r.0.into_iter().next().expect("entry")).attrs
}

/// The challenge link in the message mailed to `to`.
fn link_to(sink: &crate::postfix::Sink, to: &str) -> Vec<String> {
    sink.messages()
        .into_iter()
        .filter(|(rcpt, _)| rcpt.iter().any(|r| r == to))
        .filter_map(|(_, m)| {
            let at = m.find("https://portal.test/challenge/")?;
            let rest = &m[at + "https://portal.test".len()..];
            Some(rest[..rest.find(['\r', '\n'])?].to_string())
        })
        .collect()
}

/// br with three contacts due by e-mail (csirt, noc, gone) and one due by phone, challenges on
/// (mailed through 127.0.0.1:`port`, recorded by `recorder()`, a verifier).
fn challenge_directory(clock: Arc<ManualClock>, port: u16) -> TestServer {
    let s = directory(clock, move |c| {
        c.reminders.relay = "127.0.0.1".into();
        c.reminders.port = port;
        c.reminders.starttls = ccdir::service::config::StartTls::None;
        c.reminders.from = "ccdir@cctld-ir.example".into();
        c.portal.public_url = "https://portal.test/".into();
        c.portal.challenges = true;
        c.portal.challenge_recorder = recorder();
        c.portal.challenge_days = 14;
    });
    let mut c = s.admin();
    add(
        &mut c,
        &recorder(),
        &[
            (
                "objectClass",
                &["organizationalRole", "simpleSecurityObject"],
            ),
            ("cn", &["portal"]),
            ("userPassword", &[PW]),
        ],
    );
    let verifiers = format!("cn=verifiers,ou=groups,{SUFFIX}");
    let r = c
        .add(
            &verifiers,
            vec![
                ("objectClass", ["groupOfNames"].into_iter().collect()),
                ("cn", ["verifiers"].into_iter().collect()),
                ("member", [recorder().as_str()].into_iter().collect()),
            ],
        )
        .expect("add");
    if r.rc != 0 {
        c.modify(
            &verifiers,
            vec![ldap3::Mod::Add(
                "member",
                [recorder().as_str()].into_iter().collect(),
            )],
        )
        .expect("modify")
        .success()
        .expect("member");
    }
    // Checked by phone on 1 August: due on 1 November, next by e-mail.
    for cn in ["csirt", "noc", "gone"] {
        let mail = format!("{cn}@nic-br.example");
        add(
            &mut c,
            &contact_dn(cn),
            &[
                ("objectClass", &["organizationalRole", "cctldContact"]),
                ("cn", &[cn]),
                ("associatedDomain", &["br"]),
                ("mail", &[&mail]),
                ("telephoneNumber", &["+55 11 2345-6743"]),
                ("cctldLastVerified", &["20260801120000Z"]),
                ("cctldVerificationMethod", &["voice"]),
            ],
        );
    }
    // A contact due by phone gets no mail.
    add(
        &mut c,
        &contact_dn("phone"),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["phone"]),
            ("associatedDomain", &["br"]),
            ("mail", &["phone@nic-br.example"]),
            ("telephoneNumber", &["+55 11 2345-6744"]),
            ("cctldLastVerified", &["20260801120000Z"]),
            ("cctldVerificationMethod", &["email"]),
        ],
    );
    s
}

#[test]
fn an_e_mail_challenge_is_mailed_answered_once_or_fails_when_it_expires() {
    let sink = crate::postfix::Sink::start();
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-05 15:00 UTC)));
    let s = challenge_directory(clock.clone(), sink.port);
    let dir = s.server().directory().clone();
    let o = ccdir::app::challenges::check(&dir).expect("check");
    assert_eq!((o.sent, o.failed, o.expired), (3, 0, 0), "{o:?}");
    assert!(link_to(&sink, "phone@nic-br.example").is_empty());
    let links = link_to(&sink, "csirt@nic-br.example");
    assert_eq!(links.len(), 1, "{:?}", sink.messages());
    let link = &links[0];
    assert!(
        link.starts_with("/challenge/") && link.len() == "/challenge/".len() + 43,
        "{link}"
    );
    // A second check sends nothing while the challenges are open.
    let o = ccdir::app::challenges::check(&dir).expect("check");
    assert_eq!(o.sent, 0, "{o:?}");

    // GET (as a mail scanner would) changes nothing.
    let mut b = Browser::new(&s);
    for _ in 0..2 {
        let r = b.get(link);
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Confirm this address"), "{}", r.body);
    }
    let before = attrs(&s, &contact_dn("csirt"), &["cctldVerificationMethod"]);
    assert_eq!(before["cctldVerificationMethod"], ["voice"]);
    let csrf = value_of(&b.get(link).body, "name", "csrf");
    // Without the page's token (another site's form): refused.
    let mut other = Browser::new(&s);
    assert_eq!(
        other.post(link, &[("csrf", &csrf)]).status,
        StatusCode::FORBIDDEN
    );
    let r = b.post(link, &[("csrf", &csrf)]);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = attrs(
        &s,
        &contact_dn("csirt"),
        &[
            "cctldVerificationMethod",
            "cctldVerificationStatus",
            "cctldVerifiedBy",
            "cctldVerificationNote",
            "cctldLastVerified",
        ],
    );
    assert_eq!(after["cctldVerificationMethod"], ["email"]);
    assert_eq!(after["cctldVerificationStatus"], ["verified"]);
    assert_eq!(
        after["cctldVerifiedBy"][0].to_lowercase(),
        recorder().to_lowercase()
    );
    assert_eq!(after["cctldLastVerified"], ["20261205150000Z"]);
    let note = &after["cctldVerificationNote"][0];
    assert!(
        note.starts_with("e-mail challenge ") && note.contains("link followed"),
        "{note}"
    );
    assert!(
        !note.contains(&link["/challenge/".len()..]),
        "the token is not in the note"
    );
    // Used once.
    let r = b.post(link, &[("csrf", &csrf)]);
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
    assert_eq!(b.get(link).status, StatusCode::GONE);
    assert_eq!(b.get("/challenge/nothing").status, StatusCode::NOT_FOUND);

    // gone's challenge bounces: the bounce procedure records the failure (as a verifier).
    assert_eq!(link_to(&sink, "gone@nic-br.example").len(), 1);
    let mut v = s.conn();
    assert_eq!(v.simple_bind(&recorder(), PW).expect("bind").rc, 0);
    v.modify(
        &contact_dn("gone"),
        vec![
            ldap3::Mod::Replace("cctldVerificationMethod", ["email"].into_iter().collect()),
            ldap3::Mod::Replace("cctldVerificationStatus", ["failed"].into_iter().collect()),
            ldap3::Mod::Replace("cctldVerificationNote", ["bounced"].into_iter().collect()),
        ],
    )
    .expect("modify")
    .success()
    .expect("bounce recorded");

    // The other challenge is left unanswered past challenge_days: a failed check by e-mail.
    let noc = link_to(&sink, "noc@nic-br.example");
    assert_eq!(noc.len(), 1);
    clock.set(datetime!(2026-12-19 15:00 UTC));
    assert_eq!(b.get(&noc[0]).status, StatusCode::GONE);
    let o = ccdir::app::challenges::check(&dir).expect("check");
    assert_eq!((o.sent, o.expired), (0, 1), "{o:?}");
    let failed = attrs(
        &s,
        &contact_dn("noc"),
        &[
            "cctldVerificationMethod",
            "cctldVerificationStatus",
            "cctldVerificationNote",
        ],
    );
    assert_eq!(failed["cctldVerificationMethod"], ["email"]);
    assert_eq!(failed["cctldVerificationStatus"], ["failed"]);
    // Due at once: from the next moment on, the contact reads overdue.
    clock.set(datetime!(2026-12-19 15:01 UTC));
    let st = attrs(&s, &contact_dn("noc"), &["cctldVerificationStatus"]);
    assert_eq!(st["cctldVerificationStatus"], ["overdue"]);
    assert!(failed["cctldVerificationNote"][0].contains("not answered in time"));
    // The bounced one is not recorded twice.
    let gone = attrs(&s, &contact_dn("gone"), &["cctldVerificationNote"]);
    assert_eq!(gone["cctldVerificationNote"], ["bounced"]);
    // Recorded once; the expired link cannot be answered late.
    assert_eq!(
        ccdir::app::challenges::check(&dir).expect("check").expired,
        0
    );
    let r = b.post(&noc[0], &[("csrf", &csrf)]);
    assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
}

#[test]
fn an_invitation_can_be_mailed() {
    let sink = crate::postfix::Sink::start();
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-05 15:00 UTC)));
    let port = sink.port;
    let s = directory(clock, move |c| {
        c.reminders.enabled = true;
        c.reminders.relay = "127.0.0.1".into();
        c.reminders.port = port;
        c.reminders.starttls = ccdir::service::config::StartTls::None;
        c.reminders.from = "ccdir@cctld-ir.example".into();
        c.portal.public_url = "https://portal.test".into();
    });
    let mut b = Browser::new(&s);
    b.login(&ops(), PW);
    let csrf = value_of(&b.get("/admin/onboard").body, "name", "csrf");
    let mut form = onboard_form(&csrf, "zz");
    form.push(("send", "on"));
    let r = b.post("/admin/onboard", &form);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("was mailed to zoe@nic-zz.example"),
        "{}",
        r.body
    );
    let shown = value_of(&r.body, "id", "link");
    assert!(shown.starts_with("https://portal.test/invite/"), "{shown}");
    let mails: Vec<String> = sink
        .messages()
        .into_iter()
        .filter(|(to, _)| to.iter().any(|t| t == "zoe@nic-zz.example"))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(mails.len(), 1, "{:?}", sink.messages());
    assert!(mails[0].contains(&shown), "{}", mails[0]);
    let path = &shown["https://portal.test".len()..];
    assert_eq!(Browser::new(&s).get(path).status, StatusCode::OK);
}

/// A challenge mailed through a real Postfix to a mailbox that does not exist: the receiving
/// server refuses it, Postfix returns a delivery status notification to the challenges'
/// sender, whose transport is `ccdir bounce` (a pipe, as docs/portal.md sets it up), and the
/// next check records the failed check by e-mail. The same bounce again, or one that is not a
/// challenge's, records nothing.
#[test]
fn a_bounced_challenge_records_a_failed_check_through_postfix() {
    use crate::postfix::*;
    if !postfix_available() || !postfix_startable() {
        return;
    }
    let sink = Sink::start_refusing(&["gone@nic-br.example"]);
    let smtpd_port = free_port();
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-05 15:00 UTC)));
    let s = challenge_directory(clock.clone(), smtpd_port);
    // The pipe runs as nobody (Postfix runs no command as root): it must reach the data
    // directory, as the ccdir user does in a real installation.
    set_owner_mode(&s.data, Some("nobody"), None, 0o700);
    let tmp = tempfile::tempdir().expect("tempdir");
    set_owner_mode(tmp.path(), None, None, 0o755);
    // The server's configuration, as the pipe gives it (`--config /etc/ccdir/ccdir.toml`).
    let config = bounce_config(tmp.path(), &s.data);
    postfix_conf(
        tmp.path(),
        smtpd_port,
        sink.port,
        None,
        "transport_maps = inline:{ccdir@cctld-ir.example=ccdirbounce:}\n\
         ccdirbounce_destination_recipient_limit = 1\n",
    );
    let mut master = std::fs::OpenOptions::new()
        .append(true)
        .open(tmp.path().join("master.cf"))
        .expect("master.cf");
    std::io::Write::write_all(
        &mut master,
        format!(
            "ccdirbounce unix - n n - - pipe\n  user=nobody argv={} bounce --config {}\n",
            env!("CARGO_BIN_EXE_ccdir"),
            config.display()
        )
        .as_bytes(),
    )
    .expect("master.cf");
    let pf = Postfix::start(tmp.path(), smtpd_port);
    let dir = s.server().directory().clone();
    let o = ccdir::app::challenges::check(&dir).expect("check");
    assert_eq!((o.sent, o.failed), (3, 0), "{o:?}");

    // Postfix took all three; the sink refused gone's: its bounce goes through the pipe.
    let spool = s.data.join("bounces");
    let deadline = Instant::now() + Duration::from_secs(60);
    let spooled = loop {
        let files: Vec<_> = std::fs::read_dir(&spool)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if !files.is_empty() && pf.queued() == 0 {
            break files;
        }
        assert!(
            Instant::now() < deadline,
            "no bounce spooled in 60 s\n{}",
            pf.maillog()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    assert!(
        pf.maillog().contains("delivered via ccdirbounce service"),
        "{}",
        pf.maillog()
    );
    let o = ccdir::app::challenges::check(&dir).expect("check");
    assert_eq!((o.sent, o.bounced, o.expired), (0, 1, 0), "{o:?}");
    let gone = attrs(
        &s,
        &contact_dn("gone"),
        &[
            "cctldVerificationMethod",
            "cctldVerificationStatus",
            "cctldVerifiedBy",
            "cctldVerificationNote",
        ],
    );
    assert_eq!(gone["cctldVerificationMethod"], ["email"]);
    assert_eq!(gone["cctldVerificationStatus"], ["failed"]);
    assert_eq!(
        gone["cctldVerifiedBy"][0].to_lowercase(),
        recorder().to_lowercase()
    );
    let note = &gone["cctldVerificationNote"][0];
    assert!(
        note.starts_with("e-mail challenge ")
            && note.contains("to gone@nic-br.example: bounced (5.1.1)")
            && note.contains("User unknown"),
        "{note}"
    );
    assert!(std::fs::read_dir(&spool).expect("spool").next().is_none());
    // Due at once: from the next moment on, the contact reads overdue.
    clock.set(datetime!(2026-12-05 15:01 UTC));
    let st = attrs(&s, &contact_dn("gone"), &["cctldVerificationStatus"]);
    assert_eq!(st["cctldVerificationStatus"], ["overdue"]);
    // The others' challenges are untouched.
    let noc = attrs(&s, &contact_dn("noc"), &["cctldVerificationMethod"]);
    assert_eq!(noc["cctldVerificationMethod"], ["voice"]);

    // The same bounce again, by hand (as root: the spool keeps the data directory's owner):
    // kept, then nothing recorded, since the challenge is closed.
    let dsn = sink
        .messages()
        .into_iter()
        .find(|(to, _)| to.iter().any(|t| t == "ccdir@cctld-ir.example"))
        .map(|(_, m)| m);
    assert!(dsn.is_none(), "the bounce went to the pipe, not the relay");
    let challenge_id = note["e-mail challenge ".len()..]
        .split(' ')
        .next()
        .expect("id")
        .to_string();
    let again = format!(
        "From: MAILER-DAEMON@localhost\r\nTo: ccdir@cctld-ir.example\r\nSubject: Undelivered\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; \
         boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; localhost\r\n\r\nFinal-Recipient: rfc822; gone@nic-br.example\r\n\
         Action: failed\r\nStatus: 5.1.1\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         Message-ID: <challenge.{challenge_id}@cctld-ir.example>\r\n\r\n--b--\r\n"
    );
    let o = ccdir_bounce(&config, again.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!(
            "bounce of e-mail challenge {challenge_id} to gone@nic-br.example: kept"
        )),
        "{}",
        stdout(&o)
    );
    let o = ccdir::app::challenges::check(&dir).expect("check");
    assert_eq!(o.bounced, 0, "{o:?}");
    assert!(std::fs::read_dir(&spool).expect("spool").next().is_none());
    // An auto-reply to the sender: nothing kept, status 0 (the mail server is done with it).
    let o = ccdir_bounce(
        &config,
        b"From: noc@nic-br.example\r\nSubject: Out of office\r\n\r\nAway.\r\n",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("nothing recorded: not a delivery status notification"),
        "{}",
        stdout(&o)
    );
    assert!(std::fs::read_dir(&spool).expect("spool").next().is_none());
    // A configuration with the challenges off: nothing kept, and it says why.
    let off = tmp.path().join("off.toml");
    std::fs::write(&off, format!("data_dir = \"{}\"\n", s.data.display())).expect("config");
    let o = ccdir_bounce(&off, again.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("e-mail challenges are off"),
        "{}",
        stdout(&o)
    );
    assert!(std::fs::read_dir(&spool).expect("spool").next().is_none());
    let note_after = attrs(&s, &contact_dn("gone"), &["cctldVerificationNote"]);
    assert_eq!(&note_after["cctldVerificationNote"][0], note);
    // A data directory that is not there: status 75, so the mail server keeps the bounce and
    // tries again, and nothing is created.
    let nowhere = tmp.path().join("no-such-data-dir");
    let o = ccdir_bounce(&bounce_config(tmp.path(), &nowhere), again.as_bytes());
    assert_eq!(code(&o), 75, "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!nowhere.exists());
    drop(pf);
}

/// A configuration file in `dir` for `ccdir bounce`: the data directory, challenges on.
fn bounce_config(dir: &std::path::Path, data: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join(format!(
        "bounce-{}.toml",
        data.file_name().and_then(|n| n.to_str()).unwrap_or("data")
    ));
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n[portal]\nchallenges = true\npublic_url = \"https://portal.test/\"\n\
             challenge_recorder = \"{}\"\n",
            data.display(),
            recorder()
        ),
    )
    .expect("bounce config");
    path
}

/// `ccdir bounce --config config` with `input` on its standard input.
fn ccdir_bounce(config: &std::path::Path, input: &[u8]) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(["bounce", "--config"])
        .arg(config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ccdir bounce");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input).expect("write");
    child.wait_with_output().expect("ccdir bounce")
}
