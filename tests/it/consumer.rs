//! ccdir as a replication consumer (docs/operations/replication.md, "ccdir as a consumer"): an
//! in-process ccdir follows another in-process ccdir (StartTLS with the provider's CA) in
//! refreshOnly and refreshAndPersist mode, and a chain A -> B -> C; after the first refresh and
//! after adds, modifies, renames (also of a parent with its children, and to another parent)
//! and deletes on the provider, both return the same entries with the same entryUUID,
//! entryCSN and timestamps. Client writes on a consumer get a referral to the provider.

use crate::harness::*;
use crate::replication::{
    changes, difference, provider, renames, view, View, REPLICATOR, REPLICATOR_PW, RULES,
};
use ccdir::service::config::{Consumer, SyncMode};
use ldap3::{LdapConn, Mod};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A consumer of `p` (its plain LDAP listener with StartTLS and its CA).
fn consumer_of(p: &TestServer, mode: SyncMode, sid: u16) -> TestServer {
    let rules = ccdir::Config::from_toml(RULES).expect("rules").access;
    let pw = p.data.join(format!("replicator-password-{sid}"));
    std::fs::write(&pw, format!("{REPLICATOR_PW}\n")).expect("password file");
    let url = p.ldap_url();
    let ca = p.ca_file();
    TestServer::start_with(move |c| {
        c.access = rules;
        c.replication.server_id = sid;
        c.replication.consumer = Some(Consumer {
            provider: url,
            ca_file: Some(ca),
            bind_dn: REPLICATOR.into(),
            password_file: pw,
            mode,
            interval_secs: 1,
            retry_secs: vec![1],
            ..Default::default()
        });
    })
}

/// The entries as the provider's administrator reads them (a consumer holds the provider's
/// administrator entry with its password once the first refresh is in).
fn view_of(s: &TestServer, admin_pw: &str) -> Option<View> {
    let mut c = LdapConn::new(&s.ldap_url()).ok()?;
    let b = c
        .simple_bind(&format!("cn=admin,{SUFFIX}"), admin_pw)
        .ok()?;
    if b.rc != 0 {
        return None;
    }
    Some(view(&mut c))
}

/// Has the consumer committed a refresh (its cookie carries a CSN)?
fn refreshed(consumer: &TestServer) -> bool {
    consumer
        .server()
        .directory()
        .consumer_status()
        .cookie
        .contains("csn=")
}

/// Wait until `consumer` returns what `provider` returns; the time it took.
///
/// The provider's administrator binds on the consumer only once a refresh has committed:
/// before, the consumer holds its own administrator entry and each bind fails; after
/// `password.failed_binds_per_ip_per_minute` (60) failures the consumer refuses binds from
/// this address for the rest of the minute, so a first refresh slower than about six seconds
/// (under load) made this wait a minute, right at the first refresh's bound.
fn converge(provider: &TestServer, consumer: &TestServer, bound: Duration, what: &str) -> Duration {
    let pw = provider.admin_password();
    let want = view_of(provider, &pw).expect("provider view");
    let t = Instant::now();
    loop {
        let got = if refreshed(consumer) {
            view_of(consumer, &pw)
        } else {
            None
        };
        if got.as_ref() == Some(&want) {
            return t.elapsed();
        }
        if t.elapsed() > bound {
            let detail = match &got {
                Some(got) => difference(&want, got),
                None if !refreshed(consumer) => "no refresh committed yet".into(),
                None => "no view (the provider's admin cannot bind)".into(),
            };
            let status = consumer.server().directory().consumer_status();
            // Late or never: a slow delivery, or a change that is lost until the next one.
            let late = (0..100)
                .find(|_| {
                    std::thread::sleep(Duration::from_millis(100));
                    refreshed(consumer) && view_of(consumer, &pw).as_ref() == Some(&want)
                })
                .map_or("not within 10s more either".to_string(), |n| {
                    format!("but {}ms after the bound", (n + 1) * 100)
                });
            panic!(
                "{what}: the consumer did not converge within {bound:?} ({late}): {detail}\nstatus: {status:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn follows(mode: SyncMode) {
    let p = provider();
    let mut a = p.admin();
    let c = consumer_of(&p, mode, 2);
    let took = converge(&p, &c, Duration::from_secs(60), "first refresh");
    eprintln!("{mode:?}: first refresh of the sample directory took {took:?}");
    changes(&mut a, "a");
    converge(&p, &c, Duration::from_secs(20), "after the first changes");
    changes(&mut a, "b");
    a.delete(&format!("cn=deux a,ou=repl-a,{SUFFIX}"))
        .expect("delete")
        .success()
        .expect("delete");
    renames(&mut a, "a");
    converge(&p, &c, Duration::from_secs(20), "after renames and deletes");
    let st = c.server().directory().consumer_status();
    assert!(st.cookie.contains("csn="), "{st:?}");
    assert!(st.last_contact.is_some(), "{st:?}");
    // Client writes on the consumer: a referral to the provider.
    let mut w = LdapConn::new(&c.ldap_url()).expect("connect");
    w.simple_bind(REPLICATOR, REPLICATOR_PW)
        .expect("bind")
        .success()
        .expect("bind");
    let r = w
        .modify(
            &format!("ou=groups,{SUFFIX}"),
            vec![Mod::Replace(
                "description",
                HashSet::from(["on the consumer"]),
            )],
        )
        .expect("modify");
    assert_eq!(r.rc, 10, "referral: {r:?}");
    assert_eq!(r.refs, vec![p.ldap_url()], "{r:?}");
}

#[test]
fn ccdir_consumes_ccdir_in_refresh_only_mode() {
    follows(SyncMode::RefreshOnly);
}

#[test]
fn ccdir_consumes_ccdir_in_refresh_and_persist_mode() {
    follows(SyncMode::RefreshAndPersist);
}

/// A -> B -> C: B is a consumer of A and the provider of C; C holds A's entries and CSNs.
///
/// B commits several of A's changes in one transaction when they arrive together (under load),
/// so B's persistent phase finds an entry moved below `ou=repl-a` already committed together
/// with the rename of `ou=repl-a` (issue 16, "chain stall": B sent the entry at its new DN,
/// below a parent C held under its old name, C's applier failed, and C's session, waiting for
/// a next message, never noticed). Each wait is bounded and its failure says whether C
/// converged late or not at all.
#[test]
fn a_chain_of_three_converges() {
    let a = provider();
    let mut w = a.admin();
    let b = consumer_of(&a, SyncMode::RefreshAndPersist, 2);
    converge(&a, &b, Duration::from_secs(60), "B's first refresh");
    let c = consumer_of(&b, SyncMode::RefreshAndPersist, 3);
    converge(&a, &c, Duration::from_secs(60), "C's first refresh");
    changes(&mut w, "a");
    renames(&mut w, "a");
    let took = converge(&a, &b, Duration::from_secs(20), "B after the changes");
    eprintln!("chain: B converged {took:?} after the changes");
    let took = converge(&a, &c, Duration::from_secs(20), "C after the changes");
    eprintln!("chain: C converged {took:?} after the changes");
}

/// Every site may run the same configuration: a consumer with reminders enabled leaves the
/// mailing to its provider (one reminder per contact, not one per site), and says so in its
/// log, naming the provider.
#[test]
fn a_consumer_sends_no_reminders() {
    let log = server_log();
    let p = provider();
    let relay_port = crate::postfix::free_port();
    let rules = ccdir::Config::from_toml(RULES).expect("rules").access;
    let pw = p.data.join("replicator-password-reminders");
    std::fs::write(&pw, format!("{REPLICATOR_PW}\n")).expect("password file");
    let (url, ca) = (p.ldap_url(), p.ca_file());
    let c = TestServer::start_with(move |c| {
        c.access = rules;
        c.replication.server_id = 7;
        c.replication.consumer = Some(Consumer {
            provider: url.clone(),
            ca_file: Some(ca),
            bind_dn: REPLICATOR.into(),
            password_file: pw,
            mode: SyncMode::RefreshAndPersist,
            retry_secs: vec![1],
            ..Default::default()
        });
        c.reminders.enabled = true;
        c.reminders.relay = "127.0.0.1".into();
        c.reminders.port = relay_port;
        c.reminders.check_interval_secs = 1;
        c.reminders.from = "ccdir@cctld-ir.example".into();
    });
    converge(
        &p,
        &c,
        Duration::from_secs(60),
        "the consumer's first refresh",
    );
    let lines = log.lines_with(
        "reminders enabled but not sent here: this server follows a provider",
        Duration::from_secs(10),
    );
    assert!(
        lines.iter().any(|l| l.contains(&p.ldap_url())),
        "{lines:#?}"
    );
}

/// The promote runbook of docs/operations/three-sites.md: A writes, B and C follow it. B's link
/// goes down and A takes changes only C receives; then A is lost. B is promoted and C is
/// re-pointed at B: C comes to B's state (the changes only C had are gone, as B never had
/// them: C's cookie is newer than B's state for A's server id, so B sends every entry in full
/// and C drops the rest; with the present phase C kept its newer versions), and B's writes,
/// with B's own server id, reach C.
#[test]
fn three_sites_survive_losing_the_writer() {
    let a = provider();
    let pw = a.admin_password();
    let mut w = a.admin();
    let b = consumer_of(&a, SyncMode::RefreshAndPersist, 2);
    let c = consumer_of(&a, SyncMode::RefreshAndPersist, 3);
    converge(&a, &b, Duration::from_secs(60), "B's first refresh");
    converge(&a, &c, Duration::from_secs(60), "C's first refresh");
    changes(&mut w, "a");
    converge(&a, &b, Duration::from_secs(20), "B after the changes");
    converge(&a, &c, Duration::from_secs(20), "C after the changes");

    // B's site goes dark; A goes on, and only C gets it; then A is lost.
    let b_config = b.config.clone();
    let _b_tmp = b.stop();
    changes(&mut w, "conly");
    converge(&a, &c, Duration::from_secs(20), "C alone");
    drop(w);
    let _a_tmp = a.stop(); // keeps the replicator's password files

    // B is promoted and starts as the writer.
    let o = ccdir(&["promote"], &b_config.data_dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut bc = b_config;
    bc.replication.consumer = None;
    let b = TestServer::start_config(bc);
    // C is re-pointed at B.
    let mut cc = c.config.clone();
    let _c_tmp = c.stop();
    let consumer = cc.replication.consumer.as_mut().expect("consumer section");
    consumer.provider = b.ldap_url();
    consumer.ca_file = Some(b.ca_file());
    let c = TestServer::start_config(cc);

    let same = |what: &str| {
        let want = view_of(&b, &pw).expect("B's view");
        let t = Instant::now();
        loop {
            let got = view_of(&c, &pw);
            if got.as_ref() == Some(&want) {
                return want;
            }
            if t.elapsed() > Duration::from_secs(30) {
                let detail = got.map_or("no view".into(), |g| difference(&want, &g));
                panic!(
                    "{what}: C did not reach B's state within 30s: {detail}\nstatus: {:?}",
                    c.server().directory().consumer_status()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let v = same("C re-pointed at the promoted B");
    assert!(
        !format!("{v:?}").contains("ou=repl-conly"),
        "the changes only C had are gone"
    );
    let mut w = LdapConn::new(&b.ldap_url()).expect("connect");
    w.simple_bind(&format!("cn=admin,{SUFFIX}"), &pw)
        .expect("bind")
        .success()
        .expect("A's admin on the promoted B");
    changes(&mut w, "b");
    let v = same("C after B's writes");
    assert!(
        format!("{v:?}").contains("ou=repl-b"),
        "B's writes reached C"
    );
    let (r, _) = w
        .search(
            &format!("ou=repl-b,{SUFFIX}"),
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["entryCSN"],
        )
        .expect("search")
        .success()
        .expect("entry");
    let csn = ldap3::SearchEntry::construct(r[0].clone()).attrs["entryCSN"][0].clone();
    assert!(csn.ends_with("#002#000000"), "B's own server id: {csn}");
}

/// A change the consumer cannot apply (its filter leaves out the parent of an entry it
/// matches) ends the session at once, also when no further message comes: the status says
/// why and the consumer retries from its cookie, instead of staying in its persistent phase
/// with the change not applied.
#[test]
fn a_change_the_consumer_cannot_apply_ends_the_session() {
    let p = provider();
    let mut a = p.admin();
    let rules = ccdir::Config::from_toml(RULES).expect("rules").access;
    let pw = p.data.join("replicator-password-filtered");
    std::fs::write(&pw, format!("{REPLICATOR_PW}\n")).expect("password file");
    let (url, ca) = (p.ldap_url(), p.ca_file());
    let c = TestServer::start_with(move |c| {
        c.access = rules;
        c.replication.server_id = 2;
        c.replication.consumer = Some(Consumer {
            provider: url,
            ca_file: Some(ca),
            bind_dn: REPLICATOR.into(),
            password_file: pw,
            mode: SyncMode::RefreshAndPersist,
            filter: "(!(ou=hidden))".into(),
            retry_secs: vec![1],
            ..Default::default()
        });
    });
    converge(&p, &c, Duration::from_secs(60), "first refresh");
    a.add(
        &format!("ou=hidden,{SUFFIX}"),
        vec![
            ("objectClass", HashSet::from(["organizationalUnit"])),
            ("ou", HashSet::from(["hidden"])),
        ],
    )
    .expect("add")
    .success()
    .expect("add ou=hidden");
    a.add(
        &format!("cn=below hidden,ou=hidden,{SUFFIX}"),
        vec![
            ("objectClass", HashSet::from(["person"])),
            ("cn", HashSet::from(["below hidden"])),
            ("sn", HashSet::from(["hidden"])),
        ],
    )
    .expect("add")
    .success()
    .expect("add below ou=hidden");
    // The last change of all: no message follows that would find the applier gone.
    let t = Instant::now();
    let bound = Duration::from_secs(10);
    loop {
        let st = c.server().directory().consumer_status();
        if st
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("applying a change failed") && e.contains("hidden"))
        {
            break;
        }
        assert!(
            t.elapsed() < bound,
            "the failed change did not end the session within {bound:?}: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
