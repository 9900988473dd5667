//! Replication state while the servers run (docs/operations/replication.md, "Monitoring
//! replication"): an in-process ccdir consumer of an in-process ccdir provider, read with
//! OpenLDAP's ldapsearch in cn=Monitor (the consumer's link, the provider's sync searches, who
//! may read them), with `ccdir replication status` against the running servers and on the
//! stopped data directory, and /readyz through a TCP relay that can hold the provider's bytes
//! (the first refresh held half-way, then the provider silenced in the persistent phase).

use crate::harness::*;
use crate::replication::{changes, REPLICATOR, REPLICATOR_PW, RULES};
use ccdir::service::config::{Config, Consumer, SyncMode};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const CONSUMER_DN: &str = "cn=Consumer 001,cn=Database 1,cn=Databases,cn=Monitor";

/// A provider with the sample directory and the replication identity, configured by `f`.
pub(crate) fn provider_with(f: impl FnOnce(&mut Config)) -> TestServer {
    let rules = ccdir::Config::from_toml(RULES).expect("rules").access;
    let s = TestServer::start_with(|c| {
        c.load_sample = true;
        c.access = rules;
        f(c);
    });
    let mut a = s.admin();
    a.add(
        REPLICATOR,
        vec![
            (
                "objectClass",
                HashSet::from(["organizationalRole", "simpleSecurityObject"]),
            ),
            ("cn", HashSet::from(["replicator"])),
            ("userPassword", HashSet::from([REPLICATOR_PW])),
        ],
    )
    .expect("add")
    .success()
    .expect("replicator");
    s
}

/// A refreshAndPersist consumer (server id 2, the default access rules: its cn=Monitor is for
/// the admins and the monitoring group) of the provider at `url` (StartTLS with `p`'s CA),
/// configured further by `f`.
pub(crate) fn consumer_with(
    p: &TestServer,
    url: String,
    f: impl FnOnce(&mut Config, &mut Consumer),
) -> TestServer {
    let pw = p.data.join("replicator-password-monitor");
    std::fs::write(&pw, format!("{REPLICATOR_PW}\n")).expect("password file");
    let ca = p.ca_file();
    TestServer::start_with(move |c| {
        c.replication.server_id = 2;
        let mut k = Consumer {
            provider: url,
            ca_file: Some(ca),
            bind_dn: REPLICATOR.into(),
            password_file: pw,
            mode: SyncMode::RefreshAndPersist,
            retry_secs: vec![1],
            ..Default::default()
        };
        f(c, &mut k);
        c.replication.consumer = Some(k);
    })
}

/// Wait for `what` to hold, up to `bound`.
pub(crate) fn wait_for(bound: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < bound, "not within {bound:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

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

/// The values of `attr` in the entry `dn` of ldapsearch output.
fn values(out: &str, dn: &str, attr: &str) -> Vec<String> {
    let Some(block) = out.split("\n\n").find(|b| {
        b.lines()
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case(&format!("dn: {dn}")))
    }) else {
        return Vec::new();
    };
    block
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{attr}: ")))
        .map(str::to_string)
        .collect()
}

fn value(out: &str, dn: &str, attr: &str) -> String {
    values(out, dn, attr)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{dn}: no {attr}\n{out}"))
}

fn number(out: &str, dn: &str, attr: &str) -> u64 {
    value(out, dn, attr)
        .parse()
        .unwrap_or_else(|_| panic!("{dn} {attr} not a number\n{out}"))
}

/// The DNs of ldapsearch output.
fn dns(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .map(str::to_string)
        .collect()
}

/// The provider's contextCSN.
fn context_csn(p: &TestServer) -> String {
    let mut a = p.admin();
    let (r, _) = a
        .search(
            SUFFIX,
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["contextCSN"],
        )
        .expect("search")
        .success()
        .expect("suffix");
    ldap3::SearchEntry::construct(r[0].clone()).attrs["contextCSN"][0].clone()
}

/// `ccdir replication status` against a running server, bound as `dn` with `pw_file`.
fn live_status(s: &TestServer, dn: &str, pw_file: &std::path::Path) -> std::process::Output {
    let url = s.ldap_url();
    let ca = s.ca_file();
    ccdir(
        &[
            "replication",
            "status",
            "--url",
            &url,
            "--bind-dn",
            dn,
            "--password-file",
            pw_file.to_str().expect("path"),
            "--ca-file",
            ca.to_str().expect("path"),
        ],
        &s.data,
    )
}

#[test]
fn cn_monitor_and_replication_status_show_both_ends_of_a_link() {
    let p = provider_with(|_| {});
    let c = consumer_with(&p, p.ldap_url(), |_, _| {});
    wait_for(
        Duration::from_secs(90),
        "the consumer's first refresh",
        || {
            let s = c.server().directory().consumer_status();
            s.refreshed && s.phase == "persist"
        },
    );
    // The consumer holds the provider's admin entry (and password) now.
    let pw = p.admin_password();
    let admin = Some((ADMIN, pw.as_str()));

    // The consumer's link, as slapd's syncrepl names it, read with ldapsearch.
    let all = ["-b", "cn=Monitor", "(objectClass=*)", "*", "+"];
    let (rc, out) = ldapsearch(&c, admin, &all);
    assert_eq!(rc, 0, "{out}");
    assert_eq!(value(&out, CONSUMER_DN, "olmSRSyncPhase"), "Persist");
    assert_eq!(
        value(&out, CONSUMER_DN, "olmSRProviderURIList"),
        p.ldap_url()
    );
    assert_eq!(
        value(&out, CONSUMER_DN, "ccdirSyncMode"),
        "refreshAndPersist"
    );
    assert_eq!(value(&out, CONSUMER_DN, "ccdirSyncSearchBase"), SUFFIX);
    assert_eq!(value(&out, CONSUMER_DN, "ccdirSyncRefreshDone"), "TRUE");
    assert_eq!(number(&out, CONSUMER_DN, "ccdirSyncLagSeconds"), 0);
    assert_eq!(number(&out, CONSUMER_DN, "ccdirSyncReconnects"), 0);
    let applied0 = number(&out, CONSUMER_DN, "ccdirSyncChangesApplied");
    assert!(
        applied0 > 100,
        "the sample directory came in: {applied0}\n{out}"
    );
    let cookie = value(&out, CONSUMER_DN, "olmSRLastCookieRcvd");
    assert!(
        cookie.contains(&format!("csn={}", context_csn(&p))),
        "{cookie}"
    );
    assert_eq!(value(&out, CONSUMER_DN, "olmSRLastCookieSent"), "rid=001");
    assert!(value(&out, CONSUMER_DN, "olmSRLastContact").ends_with('Z'));
    assert!(value(&out, CONSUMER_DN, "olmSRLastConnect").ends_with('Z'));
    assert!(
        values(&out, CONSUMER_DN, "ccdirSyncLastError").is_empty(),
        "{out}"
    );
    let db = "cn=Database 1,cn=Databases,cn=Monitor";
    assert_eq!(value(&out, db, "monitorIsShadow"), "TRUE");
    assert_eq!(
        value(&out, "cn=Replication,cn=Monitor", "monitoredInfo"),
        "consumer"
    );
    // The attribute types are in the schema: filters on them work.
    let (rc, found) = ldapsearch(
        &c,
        admin,
        &[
            "-b",
            "cn=Monitor",
            "(&(objectClass=olmSyncReplInstance)(olmSRSyncPhase=persist)(ccdirSyncLagSeconds<=5))",
            "1.1",
        ],
    );
    assert_eq!(
        (rc, dns(&found)),
        (0, vec![CONSUMER_DN.to_string()]),
        "{found}"
    );

    // The provider: one entry for the sync search it serves.
    let (rc, out) = ldapsearch(
        &p,
        admin,
        &[
            "-b",
            "cn=Replication,cn=Monitor",
            "-s",
            "one",
            "(objectClass=*)",
            "*",
            "+",
        ],
    );
    assert_eq!(rc, 0, "{out}");
    let served = dns(&out);
    assert_eq!(served.len(), 1, "{out}");
    let link = served[0].clone();
    assert!(link.starts_with("cn=Connection "), "{link}");
    assert_eq!(value(&out, &link, "monitorConnectionAuthzDN"), REPLICATOR);
    assert!(
        value(&out, &link, "monitorConnectionPeerAddress").starts_with("IP=127.0.0.1:"),
        "{out}"
    );
    assert_eq!(value(&out, &link, "olmSRSyncPhase"), "Persist");
    assert_eq!(value(&out, &link, "ccdirSyncMode"), "refreshAndPersist");
    assert_eq!(value(&out, &link, "ccdirSyncStartCookie"), "rid=001");
    let sent0 = number(&out, &link, "ccdirSyncChangesSent");
    assert!(sent0 >= applied0, "sent {sent0}, applied {applied0}");
    assert!(
        values(&out, &link, "ccdirSyncQueuedBytes").len() == 1,
        "{out}"
    );

    // Changes on the provider: sent there, applied here, the cookies follow.
    let mut a = p.admin();
    changes(&mut a, "mon");
    let csn = context_csn(&p);
    // (The last change is a delete, which carries the provider's cookie but no CSN.)
    wait_for(Duration::from_secs(20), "the changes applied", || {
        c.server()
            .directory()
            .consumer_status()
            .cookie
            .contains(&csn)
    });
    let (_, out) = ldapsearch(&c, admin, &["-b", CONSUMER_DN, "-s", "base", "+"]);
    assert!(
        number(&out, CONSUMER_DN, "ccdirSyncChangesApplied") > applied0,
        "{out}"
    );
    assert!(
        value(&out, CONSUMER_DN, "olmSRLastCookieRcvd").contains(&csn),
        "{out}"
    );
    let last_csn = value(&out, CONSUMER_DN, "ccdirSyncLastCSN");
    assert!(last_csn.as_str() < csn.as_str(), "{last_csn} {csn}");
    let (_, out) = ldapsearch(&p, admin, &["-b", &link, "-s", "base", "+"]);
    assert!(number(&out, &link, "ccdirSyncChangesSent") > sent0, "{out}");
    assert!(
        value(&out, &link, "ccdirSyncLastCookieSent").contains(&csn),
        "{out}"
    );

    // Readable as the rest of cn=Monitor: not by the replication identity, nor anonymously.
    let repl = Some((REPLICATOR, REPLICATOR_PW));
    let (rc, out) = ldapsearch(&c, repl, &["-b", CONSUMER_DN, "-s", "base"]);
    assert_eq!(rc, 32, "{out}");
    let (rc, out) = ldapsearch(&c, None, &["-b", CONSUMER_DN, "-s", "base"]);
    assert_eq!(rc, 32, "{out}");

    // `ccdir replication status` against the running servers.
    let admin_pw = p.admin_password_file();
    let o = live_status(&c, ADMIN, &admin_pw);
    assert!(o.status.success(), "{}", stderr(&o));
    let st = stdout(&o);
    for line in [
        "role: consumer\n",
        "server_id: 002\n",
        &format!("provider: {}\n", p.ldap_url()),
        "server: running\n",
        "phase: persist\n",
        "refresh done: yes\n",
        "ready: yes\n",
        "lag: 0.0s\n",
        &format!("last CSN applied: {last_csn}\n"),
        "reconnects: 0\n",
        "last error: -\n",
        "consumers served: 0\n",
    ] {
        assert!(st.contains(line), "{line:?} missing:\n{st}");
    }
    assert!(st.contains(&format!("cookie: rid=001,csn={csn}")), "{st}");
    let o = live_status(&p, ADMIN, &admin_pw);
    assert!(o.status.success(), "{}", stderr(&o));
    let st = stdout(&o);
    assert!(
        st.contains("role: provider\n") && st.contains("consumers served: 1\n"),
        "{st}"
    );
    let line = st
        .lines()
        .find(|l| l.starts_with("consumer: "))
        .unwrap_or_else(|| panic!("{st}"));
    assert!(
        line.contains(&format!("dn=\"{REPLICATOR}\""))
            && line.contains("mode=refreshAndPersist phase=persist")
            && line.contains("peer=127.0.0.1:"),
        "{line}"
    );
    // Not for the replication identity ...
    let repl_pw = c.data.join("replicator.pw");
    std::fs::write(&repl_pw, format!("{REPLICATOR_PW}\n")).expect("pw");
    let o = live_status(&c, REPLICATOR, &repl_pw);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(stderr(&o).contains("result 50"), "{}", stderr(&o));
    // ... until it is in the monitoring group (made on the provider, replicated).
    add(
        &mut a,
        &format!("cn=monitoring,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["monitoring"]),
            ("member", &[REPLICATOR]),
        ],
    );
    let csn = context_csn(&p);
    wait_for(Duration::from_secs(20), "the group replicated", || {
        c.server()
            .directory()
            .consumer_status()
            .cookie
            .contains(&csn)
    });
    let (rc, out) = ldapsearch(&c, repl, &["-b", CONSUMER_DN, "-s", "base", "+"]);
    assert_eq!(rc, 0, "{out}");
    assert_eq!(value(&out, CONSUMER_DN, "olmSRSyncPhase"), "Persist");
    let o = live_status(&c, REPLICATOR, &repl_pw);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("phase: persist\n"), "{}", stdout(&o));

    // The consumer stops: its sync search leaves the provider's monitor.
    let data = c.data.clone();
    let kept = c.stop();
    wait_for(Duration::from_secs(10), "the provider's entry gone", || {
        let (_, out) = ldapsearch(
            &p,
            admin,
            &["-b", "cn=Replication,cn=Monitor", "-s", "one", "1.1"],
        );
        dns(&out).is_empty()
    });

    // Offline, on the stopped data directory: the stored state only.
    let cfg = data.with_extension("toml");
    std::fs::write(
        &cfg,
        format!(
            "[replication]\nserver_id = 2\n\n[replication.consumer]\nprovider = \"{}\"\n\
             bind_dn = \"{REPLICATOR}\"\npassword_file = \"/nonexistent\"\n",
            p.ldap_url()
        ),
    )
    .expect("config");
    let o = ccdir(
        &["replication", "status", "-c", cfg.to_str().expect("path")],
        &data,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let st = stdout(&o);
    assert!(st.contains("role: consumer\n"), "{st}");
    assert!(st.contains(&format!("cookie: rid=001,csn={csn}")), "{st}");
    assert!(!st.contains("server: running"), "{st}");
    assert!(
        !stderr(&o).contains("asking the running server"),
        "{}",
        stderr(&o)
    );
    drop(kept);
}

/// A TCP relay between a consumer and its provider that can hold what the provider sends:
/// on its first connection after `first_after` bytes (half-way through a refresh), and on
/// every connection while `hold` is set.
struct Relay {
    addr: SocketAddr,
    hold: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn start(to: SocketAddr, first_after: usize) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").expect("relay");
        let addr = l.local_addr().expect("addr");
        let hold = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (hold.clone(), stop.clone());
        std::thread::spawn(move || {
            let n = AtomicUsize::new(0);
            for c in l.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = c else { continue };
                let Ok(server) = TcpStream::connect(to) else {
                    continue;
                };
                let limit = (n.fetch_add(1, Ordering::Relaxed) == 0).then_some(first_after);
                relay(client, server, limit, h.clone(), st.clone());
            }
        });
        Relay { addr, hold, stop }
    }

    fn url(&self) -> String {
        format!("ldap://{}", self.addr)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copy both ways; the provider's bytes wait while held. Either side closing closes both.
fn relay(
    client: TcpStream,
    server: TcpStream,
    limit: Option<usize>,
    hold: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let closed = Arc::new(AtomicBool::new(false));
    let pipe = |mut from: TcpStream,
                mut to: TcpStream,
                limit: Option<usize>,
                held: Option<Arc<AtomicBool>>| {
        let closed = closed.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            let mut passed = 0usize;
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                passed += n;
                while held.as_ref().is_some_and(|h| h.load(Ordering::Relaxed))
                    || limit.is_some_and(|l| passed > l)
                {
                    if closed.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if closed.load(Ordering::Relaxed) || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            closed.store(true, Ordering::Relaxed);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    };
    let (c2, s2) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    pipe(client, server, None, None);
    pipe(s2, c2, limit, Some(hold));
}

#[test]
fn readyz_waits_for_the_first_refresh_and_a_lag_within_the_bound() {
    let p = provider_with(|_| {});
    // Held after 64 KiB of the provider's first answer: the sample directory's refresh is
    // several times that.
    let relay = Relay::start(p.ldap_addr(), 64 * 1024);
    let c = consumer_with(&p, relay.url(), |c, k| {
        c.listen.metrics = Some("127.0.0.1:0".into());
        k.timeout_secs = 4;
        k.ready_max_lag_secs = Some(2);
    });
    let base = format!(
        "http://{}",
        c.server().metrics_addr.expect("metrics listener")
    );
    let status = || c.server().directory().consumer_status();
    // During the first refresh, held half-way: not ready, and /readyz says so (the answer
    // names the phase it was given in).
    wait_for(
        Duration::from_secs(30),
        "the first refresh under way",
        || status().phase == "refresh",
    );
    let mut seen = Vec::new();
    wait_for(
        Duration::from_secs(30),
        "/readyz 503 during the refresh",
        || {
            let (code, body) = crate::metrics::get(&base, "/readyz");
            seen.push((code, body.trim().to_string()));
            code == 503 && body.contains("first refresh") && body.contains("(phase refresh)")
        },
    );
    assert!(
        seen.iter().all(|(code, _)| *code == 503),
        "never ready before the first refresh: {seen:?}"
    );
    assert!(!status().refreshed);
    // The held refresh times out; the next connection passes: ready.
    wait_for(
        Duration::from_secs(60),
        "/readyz 200 after the refresh",
        || crate::metrics::get(&base, "/readyz").0 == 200,
    );
    let s = status();
    assert!(s.refreshed && s.phase == "persist", "{s:?}");
    assert!(s.reconnects >= 1, "the held connection failed: {s:?}");
    assert!(s.last_error.is_none(), "cleared by the new search: {s:?}");

    // The provider falls silent: the keep-alive goes unanswered, the consumer retries, the
    // lag passes the bound of 2 s: not ready; the provider back: ready again.
    relay.hold.store(true, Ordering::Relaxed);
    wait_for(Duration::from_secs(30), "/readyz 503 on the lag", || {
        let (code, body) = crate::metrics::get(&base, "/readyz");
        code == 503 && body.contains("lag")
    });
    let s = status();
    assert_eq!(s.phase, "retrying", "{s:?}");
    assert!(s.last_error.is_some(), "{s:?}");
    let m = crate::metrics::scrape(&base);
    assert!(crate::metrics::v(&m, "ccdir_replication_lag_seconds{}") > 2.0);
    assert_eq!(
        crate::metrics::v(&m, r#"ccdir_replication_phase{phase="retrying"}"#),
        1.0
    );
    relay.hold.store(false, Ordering::Relaxed);
    wait_for(Duration::from_secs(30), "/readyz 200 again", || {
        crate::metrics::get(&base, "/readyz").0 == 200
    });
    let s = status();
    assert!(s.phase == "persist" && s.reconnects >= 2, "{s:?}");
    drop(relay);
}
