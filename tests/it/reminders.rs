//! Reminders against a real mail server: the server's check (lettre, STARTTLS required, the
//! relay's certificate checked against `ca_file`) hands its mails to a private Postfix
//! (postfix.rs) offering STARTTLS, which relays them to the test's sink. With a controlled
//! clock: the registries' admins and the verifiers get their mails once, a further check and a
//! restart send nothing again within the period, and the next period sends again. The dry run
//! prints what would be sent and records nothing.

use crate::harness::*;
use crate::postfix::*;
use ccdir::core::clock::ManualClock;
use ldap3::LdapConn;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::macros::datetime;

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn person(c: &mut LdapConn, dn: &str, cn: &str, mail: &str) {
    let uid = dn.split([',', '=']).nth(1).expect("uid");
    add(
        c,
        dn,
        &[
            (
                "objectClass",
                &["inetOrgPerson", "organizationalPerson", "person"],
            ),
            ("uid", &[uid]),
            ("cn", &[cn]),
            ("sn", &[cn]),
            ("mail", &[mail]),
            ("userPassword", &["a secret that must not travel"]),
        ],
    );
}

/// A contact verified at `last` over `method`: due three months later.
fn contact(c: &mut LdapConn, tld: &str, cn: &str, phone: &str, last: &str, method: &str) {
    add(
        c,
        &format!("cn={cn},{}", reg(tld)),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &[cn]),
            ("associatedDomain", &[tld]),
            ("telephoneNumber", &[phone]),
            ("mail", &[&format!("{cn}@nic-{tld}.example")]),
            ("cctldAvailable247", &["TRUE"]),
            ("cctldLastVerified", &[last]),
            ("cctldVerificationMethod", &[method]),
        ],
    );
}

/// .zz (admins Ann and Zed; a contact due 2026-12-15, one due 2027-01-05), .yy (admin Yan; a
/// contact due 2026-12-20), and the verifiers group (Vera).
fn setup(s: &TestServer) {
    let mut c = s.admin();
    for (tld, admins) in [
        ("zz", &[("ann", "Ann Admin"), ("zed", "Zed Admin")][..]),
        ("yy", &[("yan", "Yan Admin")][..]),
    ] {
        add(
            &mut c,
            &reg(tld),
            &[
                ("objectClass", &["organization", "cctldRegistry"]),
                ("o", &[&format!("Registry of .{tld}")]),
                ("associatedDomain", &[tld]),
            ],
        );
        let mut members = Vec::new();
        for (uid, cn) in admins {
            let dn = format!("uid={uid},{}", reg(tld));
            person(&mut c, &dn, cn, &format!("{uid}@{tld}.example"));
            members.push(dn);
        }
        let members: Vec<&str> = members.iter().map(|m| m.as_str()).collect();
        add(
            &mut c,
            &format!("cn=admins,{}", reg(tld)),
            &[
                ("objectClass", &["groupOfNames"]),
                ("cn", &["admins"]),
                ("member", &members),
            ],
        );
    }
    contact(
        &mut c,
        "zz",
        "incident-response",
        "+49 69 1234 0100",
        "20260915100000Z",
        "voice",
    );
    contact(
        &mut c,
        "zz",
        "abuse-desk",
        "+49 69 1234 0200",
        "20261005100000Z",
        "email",
    );
    contact(
        &mut c,
        "yy",
        "incident-response",
        "+49 69 1234 0300",
        "20260920100000Z",
        "fax",
    );
    let vera = person_dn("vera");
    person(&mut c, &vera, "Vera Verifier", "vera@verifiers.example");
    add(
        &mut c,
        &format!("cn=verifiers,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["verifiers"]),
            ("member", &[vera.as_str()]),
        ],
    );
}

/// The sink's messages: headers unfolded, a quoted-printable body decoded.
fn messages(sink: &Sink) -> Vec<(BTreeSet<String>, String)> {
    sink.messages()
        .into_iter()
        .map(|(to, data)| {
            let (head, body) = data.split_once("\r\n\r\n").unwrap_or((&data, ""));
            let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
            let body = if head.contains("Content-Transfer-Encoding: quoted-printable") {
                quoted_printable(body)
            } else {
                body.to_string()
            };
            (to.into_iter().collect(), format!("{head}\r\n\r\n{body}"))
        })
        .collect()
}

/// RFC 2045 quoted-printable: soft line breaks and =XX escapes.
fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'=', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Wait until the sink holds `n` messages (and Postfix's queue is empty); then a few more
/// checks' time, to see that no more come.
fn expect_messages(sink: &Sink, pf: &Postfix, n: usize) -> Vec<(BTreeSet<String>, String)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while messages(sink).len() < n || pf.queued() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} of {n} messages in 30 s\n{}",
            messages(sink).len(),
            pf.maillog()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The check runs every second: three more find nothing to send.
    std::thread::sleep(Duration::from_secs(3));
    let m = messages(sink);
    assert_eq!(m.len(), n, "{m:#?}");
    m
}

fn find<'a>(m: &'a [(BTreeSet<String>, String)], subject: &str) -> &'a (BTreeSet<String>, String) {
    let h = format!("\r\nSubject: {subject}\r\n");
    let found: Vec<_> = m.iter().filter(|(_, d)| d.contains(&h)).collect();
    assert_eq!(found.len(), 1, "{subject}: {m:#?}");
    found[0]
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn reminders_reach_admins_and_verifiers_once_per_period() {
    if !postfix_available() || !postfix_startable() {
        return;
    }
    let log = server_log();
    let tmp = tempfile::tempdir().expect("tempdir");
    set_owner_mode(tmp.path(), None, None, 0o755);
    let sink = Sink::start();
    let smtpd_port = free_port();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 08:00 UTC)));
    let s = TestServer::start_with_clock(clock.clone(), |c| {
        let r = &mut c.reminders;
        r.enabled = true;
        // The name in the generated certificate Postfix presents.
        r.relay = "localhost".into();
        r.port = smtpd_port;
        r.ca_file = Some(c.data_dir.join("ca.pem"));
        r.from = "ccdir@cctld-ir.example".into();
        r.check_interval_secs = 1;
    });
    setup(&s);
    // Nothing falls due within 14 days of 23 November: no attempt.
    std::thread::sleep(Duration::from_secs(2));
    assert!(log.lines_with("yan@yy.example", Duration::ZERO).is_empty());

    // 1 January 08:00: .zz's first contact is 16 days overdue (due 15 December 10:00), its
    // second due in 4 days; .yy's contact 11 days overdue. The relay is not running yet: the
    // attempts are logged and nothing is recorded.
    clock.set(datetime!(2027-01-01 08:00 UTC));
    let failed = log.lines_with("yan@yy.example", Duration::from_secs(10));
    assert!(
        failed
            .iter()
            .any(|l| l.contains("reminder not sent, relay unavailable")),
        "{failed:#?}"
    );
    // Postfix offers STARTTLS with the certificate ccdir generated (names localhost); the
    // next check's mails reach it.
    let files = &s.server().tls_files;
    postfix_conf(
        tmp.path(),
        smtpd_port,
        sink.port,
        Some((&files.cert, &files.key)),
        "",
    );
    let pf = Postfix::start(tmp.path(), smtpd_port);
    let m = expect_messages(&sink, &pf, 3);
    let (to, zz) = find(
        &m,
        "[ccdir] .zz: 1 contact overdue, 1 contact falling due within 14 days",
    );
    assert_eq!(*to, set(&["ann@zz.example", "zed@zz.example"]));
    for want in [
        "From: ccdir@cctld-ir.example\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "Dear administrators of .zz (Registry of .zz),",
        "1 contact overdue:\r\n  - incident-response\r\n    due 2026-12-15 (16 days ago), \
         status overdue\r\n    last verified 2026-09-15, next check by email\r\n    \
         cn=incident-response,associatedDomain=zz,",
        "1 contact falling due within 14 days:\r\n  - abuse-desk\r\n    due 2027-01-05 (in 4 \
         days), status verified\r\n    last verified 2026-10-05, next check by voice\r\n",
        "at most once every 7 days",
    ] {
        assert!(zz.contains(want), "{want}\n{zz}");
    }
    assert!(!zz.contains("secret") && !zz.contains("yy"), "{zz}");
    // Postfix received it over TLS.
    assert!(
        zz.contains("with ESMTPS id") || zz.contains("(using TLS"),
        "{zz}"
    );
    let (to, yy) = find(&m, "[ccdir] .yy: 1 contact overdue");
    assert_eq!(*to, set(&["yan@yy.example"]));
    assert!(yy.contains("due 2026-12-20 (11 days ago)"), "{yy}");
    let (to, digest) = find(
        &m,
        "[ccdir] digest: 2 contacts overdue, 1 contact falling due within 14 days in 2 registries",
    );
    assert_eq!(*to, set(&["vera@verifiers.example"]));
    assert!(
        digest.contains(
            ".zz (Registry of .zz): 1 contact overdue, 1 contact falling due within 14 days\r\n    \
             admins reminded now: ann@zz.example, zed@zz.example"
        ),
        "{digest}"
    );

    // A restart (same data dir and clock) sends nothing again within the period.
    // The reminder task stops with the server: no wait for the shutdown grace period.
    let t = Instant::now();
    let s = s.restart_with_clock(clock.clone());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    expect_messages(&sink, &pf, 3);

    // A week later: the same three again.
    clock.set(datetime!(2027-01-08 08:00 UTC));
    let m = expect_messages(&sink, &pf, 6);
    find(&m[3..], "[ccdir] .yy: 1 contact overdue");
    find(&m[3..], "[ccdir] .zz: 2 contacts overdue");
    let tmp_data = s.stop().expect("data dir");
    let data = tmp_data.path();

    // The dry run (server stopped): within the period nothing; a week on, the three mails,
    // printed, neither sent nor recorded (twice the same).
    let dry = |at: &str| {
        let o = ccdir(&["reminders", "--dry-run", "--at", at], data);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        (stdout(&o), stderr(&o))
    };
    let (out, err) = dry("20270110080000Z");
    assert_eq!(out, "");
    assert!(err.contains("0 mail(s) would be sent"), "{err}");
    for _ in 0..2 {
        let (out, err) = dry("20270115080000Z");
        assert!(err.contains("3 mail(s) would be sent"), "{err}");
        assert!(
            out.contains(
                "From: (reminders.from not set)\nTo: ann@zz.example, zed@zz.example\n\
                 Subject: [ccdir] .zz: 2 contacts overdue\n\nDear administrators of .zz"
            ),
            "{out}"
        );
        assert!(out.contains("To: vera@verifiers.example\nSubject: [ccdir] digest:"));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(messages(&sink).len(), 6);
    // --send needs reminders enabled.
    let o = ccdir(&["reminders", "--send"], data);
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("reminders are not enabled"),
        "{}",
        stderr(&o)
    );
}
