//! The verifiers' queue in the portal (docs/portal.md, "The verifiers' queue"): as a verifier,
//! the queue with numbers and business hours computed from now, recording a verification
//! through the LDAP write path (read back over LDAP, with its history record), the month's
//! plan; a registry admin refused; forms without their token refused.

use crate::access::{person, reg, PW};
use crate::freshness::{setup, vera};
use crate::harness::*;
use crate::portal::{csrf_of, portal_directory, read_attrs, team, Browser};
use axum::http::StatusCode;
use ldap3::{Mod, Scope};
use std::collections::HashSet;

const VERA_PW: &str = "vera secret 12";

/// Business hours in UTC, every day, from `from` hours after the current hour for `len` hours.
fn hours_from_now(from: i64, len: i64) -> String {
    let now = time::OffsetDateTime::now_utc();
    let start = (i64::from(now.hour()) + from).rem_euclid(24);
    let end = (start + len).rem_euclid(24);
    format!("Mo-Su {start:02}:00-{end:02}:00")
}

fn set(s: &TestServer, dn: &str, attrs: &[(&str, &str)]) {
    let mut c = s.admin();
    let mods = attrs
        .iter()
        .map(|(a, v)| Mod::Replace(*a, [*v].into_iter().collect::<HashSet<&str>>()))
        .collect();
    c.modify(dn, mods)
        .expect("modify")
        .success()
        .expect("modified");
}

/// The verification records of a contact, as the directory's administrator reads them.
fn records(s: &TestServer, uuid: &str) -> Vec<ldap3::SearchEntry> {
    let mut c = s.admin();
    let r = c
        .search(
            &format!("ou=history,{}", reg("br")),
            Scope::OneLevel,
            &format!("(cctldVerifiedContactUUID={uuid})"),
            vec!["*", "createTimestamp"],
        )
        .expect("search");
    if r.1.rc == 32 {
        // No history yet.
        return Vec::new();
    }
    let (rs, _) = r.success().expect("records");
    rs.into_iter().map(ldap3::SearchEntry::construct).collect()
}

/// The part of the queue page about one contact (its section).
fn section<'a>(page: &'a str, uuid: &str) -> &'a str {
    let at = page
        .find(&format!("aria-labelledby=\"q-{uuid}\""))
        .unwrap_or_else(|| panic!("{uuid} not in the queue: {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</section>").expect("end of section")]
}

fn cell(page: &str, row: &str, class: &str) -> String {
    let at = page
        .find(&format!("<tr id=\"{row}\">"))
        .unwrap_or_else(|| panic!("{row} missing: {page}"));
    let rest = &page[at..];
    let rest = &rest[..rest.find("</tr>").expect("end of row")];
    let c = rest
        .find(&format!("class=\"{class}\">"))
        .unwrap_or_else(|| panic!("{class} missing in {rest}"));
    let v = &rest[c + class.len() + 9..];
    v[..v.find('<').expect("end of cell")].to_string()
}

#[test]
fn portal_verifiers_queue_record_and_plan() {
    let s = portal_directory(|_| {});
    setup(&s);
    // The 24/7 team (voice next) is overdue and within its hours now; bob is more overdue but
    // outside his hours: the team comes first.
    set(
        &s,
        &team(),
        &[
            ("cctldTimeZone", "UTC"),
            ("cctldBusinessHours", &hours_from_now(-1, 3)),
            ("cctldAvailable247", "FALSE"),
            ("cctldVerificationDue", "20260101000000Z"),
        ],
    );
    let bob = person("bob", "br");
    set(
        &s,
        &bob,
        &[
            ("telephoneNumber", "+55 11 5555-0101"),
            ("displayName", "<script>alert(1)</script> bob"),
            ("cctldTimeZone", "UTC"),
            ("cctldBusinessHours", &hours_from_now(6, 2)),
            ("cctldVerificationDue", "20251101000000Z"),
        ],
    );
    let uuid_of = |dn: &str| read_attrs(&s, dn, vec!["entryUUID"]).attrs["entryUUID"][0].clone();
    let team_uuid = uuid_of(&team());
    let bob_uuid = uuid_of(&bob);

    let mut v = Browser::new(&s);
    assert_eq!(v.login(&vera(), VERA_PW).status, StatusCode::SEE_OTHER);
    // The header links a verifier to the queue, not to the admin pages.
    let home = v.get("/");
    assert!(home.body.contains("href=\"/verify\""), "{}", home.body);
    assert!(!home.body.contains("href=\"/admin\""), "{}", home.body);
    let q = v.get("/verify");
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let t = section(&q.body, &team_uuid);
    assert!(t.contains("Incident response .br"), "{t}");
    assert!(t.contains("status overdue"), "{t}");
    assert!(t.contains("Next check by</dt><dd>voice"), "{t}");
    assert!(
        t.contains("+55 11 2345-6729") && t.contains("+55 11 2345-6743"),
        "{t}"
    );
    assert!(t.contains("href=\"tel:+55-11-2345-6743\""), "{t}");
    assert!(t.contains("within business hours"), "{t}");
    assert!(t.contains("(UTC)"), "{t}");
    let b = section(&q.body, &bob_uuid);
    assert!(b.contains("+55 11 5555-0101"), "{b}");
    assert!(b.contains("outside business hours"), "{b}");
    assert!(
        b.contains("&#60;script&#62;alert(1)&#60;/script&#62; bob"),
        "{b}"
    );
    assert!(!q.body.contains("<script>alert"));
    assert!(
        q.body.find(&team_uuid) < q.body.find(&bob_uuid),
        "reachable now first"
    );
    // The form: labelled fields, the next channel preselected, the button browsers press.
    assert!(
        t.contains(&format!("<label for=\"method-{team_uuid}\">")),
        "{t}"
    );
    assert!(t.contains("<option value=\"voice\" selected>"), "{t}");
    assert!(
        t.contains(&format!("<label for=\"note-{team_uuid}\">")),
        "{t}"
    );
    assert!(t.contains("<button type=\"submit\">Record verification</button>"));
    let token = csrf_of(&q.body);
    let path = format!("/verify/contact/{team_uuid}");

    // A channel that does not exist: the message next to the field, nothing written.
    let r = v.post(
        &path,
        &[
            ("csrf", &token),
            ("method", "pigeon"),
            ("result", "verified"),
        ],
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(&format!(
            "<span class=\"error\" id=\"method-error-{team_uuid}\">"
        )),
        "{}",
        r.body
    );
    assert!(records(&s, &team_uuid).is_empty());
    // Without the token: refused, nothing written.
    let r = v.post(&path, &[("method", "voice"), ("result", "verified")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(records(&s, &team_uuid).is_empty());
    // An unknown contact: 404.
    let r = v.post(
        "/verify/contact/00000000-0000-0000-0000-000000000000",
        &[
            ("csrf", &token),
            ("method", "voice"),
            ("result", "verified"),
        ],
    );
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Recorded: as vera, through the LDAP modify; the server does the rest.
    let r = v.post(
        &path,
        &[
            ("csrf", &token),
            ("method", "voice"),
            ("result", "verified"),
            ("note", "answered by the duty officer"),
        ],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/verify?recorded=verified");
    let e = read_attrs(
        &s,
        &team(),
        vec![
            "cctldVerificationStatus",
            "cctldVerifiedBy",
            "cctldVerificationMethod",
            "cctldVerificationNote",
            "cctldVerificationDue",
            "modifiersName",
        ],
    );
    assert_eq!(e.attrs["cctldVerificationStatus"], vec!["verified"]);
    assert_eq!(
        e.attrs["cctldVerifiedBy"][0].to_lowercase(),
        vera().to_lowercase()
    );
    assert_eq!(
        e.attrs["modifiersName"][0].to_lowercase(),
        vera().to_lowercase()
    );
    assert_eq!(e.attrs["cctldVerificationMethod"], vec!["voice"]);
    assert_eq!(
        e.attrs["cctldVerificationNote"],
        vec!["answered by the duty officer"]
    );
    assert!(e.attrs["cctldVerificationDue"][0].as_str() > "2026");
    let recs = records(&s, &team_uuid);
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(
        recs[0].attrs["cctldVerifiedBy"][0].to_lowercase(),
        vera().to_lowercase()
    );
    assert_eq!(recs[0].attrs["cctldVerificationMethod"], vec!["voice"]);
    assert_eq!(recs[0].attrs["cctldVerificationStatus"], vec!["verified"]);

    // The queue no longer lists the team; bob is still there.
    let q = v.get("/verify?recorded=verified");
    assert!(
        q.body.contains("The verification was recorded"),
        "{}",
        q.body
    );
    assert!(!q.body.contains(&format!("q-{team_uuid}")), "{}", q.body);
    section(&q.body, &bob_uuid);

    // The month's plan counts it.
    let plan = v.get("/verify/plan");
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    assert_eq!(cell(&plan.body, "plan-voice", "verified-count"), "1");
    assert_eq!(cell(&plan.body, "plan-voice", "failed-count"), "0");
    let open: usize = cell(&plan.body, "plan-voice", "open-count")
        .parse()
        .expect("a number");
    assert!(open >= 1, "bob is due by voice: {}", plan.body);

    // A failed check over the contact's own page keeps it due.
    let bob_path = format!("/verify/contact/{bob_uuid}");
    let f = v.get(&bob_path);
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    let r = v.post(
        &bob_path,
        &[("csrf", &token), ("method", "voice"), ("result", "failed")],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = v.get("/verify/plan");
    assert_eq!(cell(&plan.body, "plan-voice", "failed-count"), "1");
    let q = v.get("/verify");
    section(&q.body, &bob_uuid);

    // The registry confirms its data: the verified team is back in the queue, confirmed.
    let mut a = Browser::new(&s);
    assert_eq!(
        a.login(&person("ana", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let at = a.token();
    let r = a.post("/cctld/br/confirm", &[("csrf", &at)]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let q = v.get("/verify");
    let t = section(&q.body, &team_uuid);
    assert!(t.contains("confirmed by the registry"), "{t}");
}

#[test]
fn portal_verifiers_queue_refused_to_a_registry_admin() {
    let s = portal_directory(|_| {});
    setup(&s);
    let uuid = read_attrs(&s, &team(), vec!["entryUUID"]).attrs["entryUUID"][0].clone();
    let before = read_attrs(
        &s,
        &team(),
        vec!["cctldVerificationStatus", "modifyTimestamp"],
    );
    let mut a = Browser::new(&s);
    assert_eq!(
        a.login(&person("ana", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let token = a.token();
    // No header link to the role pages a registry admin may not use.
    let home = a.get("/");
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("href=\"/roster\""), "{}", home.body);
    assert!(!home.body.contains("href=\"/verify\""), "{}", home.body);
    assert!(!home.body.contains("href=\"/admin\""), "{}", home.body);
    for path in [
        "/verify",
        "/verify/plan",
        &format!("/verify/contact/{uuid}"),
    ] {
        let r = a.get(path);
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        assert!(r.body.contains("for the verifiers"), "{}", r.body);
    }
    // The same answer for an existing contact and an absent one: nothing learnt.
    let mine = a.post(
        &format!("/verify/contact/{uuid}"),
        &[
            ("csrf", &token),
            ("method", "voice"),
            ("result", "verified"),
        ],
    );
    let absent = a.post(
        "/verify/contact/00000000-0000-0000-0000-000000000000",
        &[
            ("csrf", &token),
            ("method", "voice"),
            ("result", "verified"),
        ],
    );
    assert_eq!(mine.status, StatusCode::FORBIDDEN);
    assert_eq!(mine.body, absent.body);
    let after = read_attrs(
        &s,
        &team(),
        vec!["cctldVerificationStatus", "modifyTimestamp"],
    );
    assert_eq!(before.attrs, after.attrs);
    assert!(records(&s, &uuid).is_empty());
}

#[test]
fn portal_verifiers_queue_pages() {
    let s = portal_directory(|_| {});
    setup(&s);
    let mut c = s.admin();
    // 120 overdue contacts of .pt (besides the directory's own): more than a page.
    for i in 0..120 {
        let cn = format!("duty-{i:03}");
        let due = format!("2026{:02}01000000Z", 1 + i % 9);
        add(
            &mut c,
            &format!("cn={cn},{}", reg("pt")),
            &[
                ("objectClass", &["organizationalRole", "cctldContact"]),
                ("cn", &[&cn]),
                ("associatedDomain", &["pt"]),
                ("mail", &[&format!("{cn}@dns.example")]),
            ],
        );
        set(
            &s,
            &format!("cn={cn},{}", reg("pt")),
            &[("cctldVerificationDue", &due)],
        );
    }
    let mut v = Browser::new(&s);
    assert_eq!(v.login(&vera(), VERA_PW).status, StatusCode::SEE_OTHER);
    let sections = |body: &str| body.matches("<section class=\"contact\"").count();
    let first = v.get("/verify?within=0");
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(sections(&first.body), 100);
    assert!(first.body.contains("page 1 of 2"), "{}", first.body);
    assert!(first.body.contains("href=\"/verify?within=0&amp;page=2\""));
    // The most overdue first (all reachable: e-mail needs nobody there now).
    let a = first.body.find("2026-01-01").expect("January");
    let b = first.body.find("2026-02-01").expect("February");
    assert!(a < b);
    assert!(!first.body.contains("2026-09-01"));
    let second = v.get("/verify?within=0&page=2");
    assert_eq!(sections(&second.body), 20);
    assert!(second.body.contains("2026-09-01"));
    assert!(!second.body.contains("2026-01-01"));
    assert!(second.body.contains("page 2 of 2"));
    // Past the end: the last page.
    let past = v.get("/verify?within=0&page=99");
    assert_eq!(sections(&past.body), 20);
    // The plan counts the open ones by their next channel.
    let plan = v.get("/verify/plan");
    let open: usize = cell(&plan.body, "plan-email", "open-count")
        .parse()
        .expect("a number");
    assert!(open >= 120, "{}", plan.body);
}
