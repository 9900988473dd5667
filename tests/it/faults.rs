//! Replication faults (docs/operations/replication.md, "ccdir as a consumer"): a provider and a
//! consumer run as `ccdir serve` child processes (plain LDAP on fixed loopback ports, so that a
//! restarted process keeps its URL). The consumer is killed with SIGKILL during its refresh and
//! during the persistent phase, the provider is killed and restarted, and the provider is
//! stopped (SIGSTOP) for longer than the consumer's `timeout_secs`. After each, the full
//! exports of both (`ccdir export --url`, the live export, as the provider's administrator)
//! are the same within a stated bound: nothing lost, nothing twice.

use crate::harness::*;
use crate::replication::{changes, renames, REPLICATOR, REPLICATOR_PW, RULES};
use ldap3::{LdapConn, Mod};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The consumer's `timeout_secs` in these tests.
const TIMEOUT_SECS: u64 = 2;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill {sig} {pid}");
}

/// A `ccdir serve` child process on a data directory and a fixed LDAP port.
struct Proc {
    child: Option<Child>,
    data: PathBuf,
    config: PathBuf,
    port: u16,
    log: PathBuf,
}

impl Proc {
    fn start(data: &Path, config: &Path, port: u16) -> Proc {
        let log = data.with_extension("log");
        let mut p = Proc {
            child: None,
            data: data.to_path_buf(),
            config: config.to_path_buf(),
            port,
            log,
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_ccdir"))
            .arg("serve")
            .arg("-c")
            .arg(&self.config)
            .arg("--data-dir")
            .arg(&self.data)
            .args([
                "--ldap-listen",
                &format!("127.0.0.1:{}", self.port),
                "--ldaps-listen",
                "127.0.0.1:0",
                "--log-level",
                "info",
                "--set",
                "password.argon2_memory_kib=256",
                "--set",
                "password.argon2_iterations=1",
                "--set",
                "password.require_tls=false",
                "--set",
                "audit.output=none",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start ccdir");
        self.child = Some(child);
        let t = Instant::now();
        while LdapConn::new(&self.url()).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "ccdir did not start:\n{}",
                self.log_tail()
            );
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("ccdir exited with {st}:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (a clean stop).
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), "-TERM");
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The replication identity, bound.
    fn replicator(&self) -> LdapConn {
        let mut c = LdapConn::new(&self.url()).expect("connect");
        c.simple_bind(REPLICATOR, REPLICATOR_PW)
            .expect("bind")
            .success()
            .expect("replicator bind");
        c
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
        }
        self.kill9();
    }
}

/// A provider (the sample directory, the replication identity) and its consumer's
/// configuration, in one temporary directory.
struct Pair {
    /// Holds both data directories and the configuration files (removed when dropped).
    _tmp: tempfile::TempDir,
    provider: Proc,
    consumer_data: PathBuf,
    consumer_config: PathBuf,
    consumer_port: u16,
}

impl Pair {
    fn new(mode: &str) -> Pair {
        Self::with(mode, "")
    }

    /// `extra`: more lines of `[replication.consumer]`.
    fn with(mode: &str, extra: &str) -> Pair {
        let tmp = tempfile::tempdir().expect("tmp");
        let pconf = tmp.path().join("provider.toml");
        std::fs::write(&pconf, format!("load_sample = true\n{RULES}")).expect("config");
        let provider = Proc::start(&tmp.path().join("provider"), &pconf, free_port());
        let pw = std::fs::read_to_string(provider.data.join("admin-password")).expect("pw");
        let mut a = LdapConn::new(&provider.url()).expect("connect");
        a.simple_bind(ADMIN, pw.trim())
            .expect("bind")
            .success()
            .expect("admin bind");
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
        let rpw = tmp.path().join("replicator-password");
        std::fs::write(&rpw, format!("{REPLICATOR_PW}\n")).expect("pw file");
        let cconf = tmp.path().join("consumer.toml");
        std::fs::write(
            &cconf,
            format!(
                "{RULES}\n[replication]\nserver_id = 2\n\n[replication.consumer]\n\
                 provider = \"{}\"\nstarttls = false\nbind_dn = \"{REPLICATOR}\"\n\
                 password_file = \"{}\"\ntype = \"{mode}\"\ninterval_secs = 1\n\
                 retry_secs = [1]\ntimeout_secs = {TIMEOUT_SECS}\n{extra}",
                provider.url(),
                rpw.display()
            ),
        )
        .expect("config");
        Pair {
            consumer_data: tmp.path().join("consumer"),
            consumer_config: cconf,
            consumer_port: free_port(),
            _tmp: tmp,
            provider,
        }
    }

    /// A consumer of `upstream` (a consumer itself: a chain), server id 3, in `name` next to
    /// the others.
    fn chained(&self, upstream: &Proc, name: &str) -> Proc {
        let text = std::fs::read_to_string(&self.consumer_config)
            .expect("consumer config")
            .replace(&self.provider.url(), &upstream.url())
            .replace("server_id = 2", "server_id = 3");
        let dir = self.consumer_data.parent().expect("tmp");
        let conf = dir.join(format!("{name}.toml"));
        std::fs::write(&conf, text).expect("config");
        Proc::start(&dir.join(name), &conf, free_port())
    }

    fn consumer(&self) -> Proc {
        Proc::start(
            &self.consumer_data,
            &self.consumer_config,
            self.consumer_port,
        )
    }

    /// The provider's administrator, bound.
    fn admin(&self) -> LdapConn {
        let pw = std::fs::read_to_string(self.provider.data.join("admin-password")).expect("pw");
        let mut a = LdapConn::new(&self.provider.url()).expect("connect");
        a.simple_bind(ADMIN, pw.trim())
            .expect("bind")
            .success()
            .expect("admin bind");
        a
    }

    /// The live export of a server, as the provider's administrator (whose entry and password
    /// the consumer holds once its first refresh is in); None while it cannot be had.
    fn export(&self, p: &Proc) -> Option<String> {
        let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
            .args([
                "export",
                "--url",
                &p.url(),
                "--bind-dn",
                ADMIN,
                "--password-file",
            ])
            .arg(self.provider.data.join("admin-password"))
            .arg("--ca-file")
            .arg(p.data.join("ca.pem"))
            .output()
            .expect("ccdir export");
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    }

    /// Poll until both live exports are the same; the time it took.
    fn converge(&self, c: &Proc, bound: Duration, what: &str) -> Duration {
        let t = Instant::now();
        let mut want = self.export(&self.provider).expect("provider export");
        loop {
            let got = self.export(c);
            if got.as_ref() == Some(&want) {
                let n = want.matches("\ndn: ").count() + 1;
                eprintln!("{what}: converged after {:?} ({n} entries)", t.elapsed());
                return t.elapsed();
            }
            if t.elapsed() > bound {
                let detail = match &got {
                    None => "no export from the consumer".to_string(),
                    Some(got) => first_difference(&want, got),
                };
                panic!(
                    "{what}: the consumer did not converge within {bound:?}: {detail}\n\
                     consumer log:\n{}",
                    c.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
            // The provider's export again: a write may still have been on its way.
            want = self.export(&self.provider).expect("provider export");
        }
    }
}

fn first_difference(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.split("\n\n").collect();
    let b: Vec<&str> = got.split("\n\n").collect();
    let sa: HashSet<&str> = a.iter().copied().collect();
    let sb: HashSet<&str> = b.iter().copied().collect();
    let only_p: Vec<&str> = a
        .iter()
        .copied()
        .filter(|e| !sb.contains(e))
        .take(2)
        .collect();
    let only_c: Vec<&str> = b
        .iter()
        .copied()
        .filter(|e| !sa.contains(e))
        .take(2)
        .collect();
    format!(
        "provider {} entries, consumer {}\nonly on the provider: {only_p:#?}\nonly on the consumer: {only_c:#?}",
        a.len(),
        b.len()
    )
}

/// The consumer's stored cookie (`ccdir replication status` on its stopped data directory).
fn stored_cookie(pair: &Pair) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(["replication", "status", "-c"])
        .arg(&pair.consumer_config)
        .arg("--data-dir")
        .arg(&pair.consumer_data)
        .output()
        .expect("ccdir replication status");
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix("cookie: "))
        .expect("cookie line")
        .to_string()
}

/// Many more entries on the provider, so that a refresh takes a while.
fn grow(a: &mut LdapConn, n: usize) {
    add(
        a,
        &format!("ou=bulk,{SUFFIX}"),
        &[("objectClass", &["organizationalUnit"]), ("ou", &["bulk"])],
    );
    for i in 0..n {
        let cn = format!("bulk {i}");
        add(
            a,
            &format!("cn={cn},ou=bulk,{SUFFIX}"),
            &[
                ("objectClass", &["person"]),
                ("cn", &[cn.as_str()]),
                ("sn", &["bulk"]),
                ("description", &[&"x".repeat(200)]),
            ],
        );
    }
}

/// A write stream on the provider while something else happens: modifies of one entry.
fn touch(a: &mut LdapConn, i: usize) {
    a.modify(
        &format!("ou=groups,{SUFFIX}"),
        vec![Mod::Replace(
            "description",
            HashSet::from([format!("touch {i}").as_str()]),
        )],
    )
    .expect("modify")
    .success()
    .expect("modify");
}

#[test]
fn a_consumer_killed_during_its_refresh_and_during_persist_converges() {
    let pair = Pair::new("refreshAndPersist");
    let mut a = pair.admin();
    grow(&mut a, 1500);
    // Killed during the first refresh: the refresh is one transaction, so nothing of it is
    // stored, the cookie neither.
    let mut c = pair.consumer();
    let t = Instant::now();
    while !std::fs::read_to_string(&c.log)
        .unwrap_or_default()
        .contains("replication consumer started")
    {
        assert!(t.elapsed() < Duration::from_secs(10), "{}", c.log_tail());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    c.kill9();
    let cookie = stored_cookie(&pair);
    eprintln!("killed during the refresh: stored cookie {cookie}");
    assert!(
        !cookie.contains("csn="),
        "the refresh had already committed: kill earlier ({cookie})"
    );
    changes(&mut a, "a");
    let mut c = pair.consumer();
    pair.converge(
        &c,
        Duration::from_secs(60),
        "after a kill during the refresh",
    );
    // Killed in the persistent phase, while the provider writes.
    for i in 0..20 {
        touch(&mut a, i);
        if i == 10 {
            c.kill9();
        }
    }
    changes(&mut a, "b");
    let c = {
        let c2 = pair.consumer();
        drop(c);
        c2
    };
    pair.converge(&c, Duration::from_secs(30), "after a kill in persist");
    renames(&mut a, "a");
    pair.converge(&c, Duration::from_secs(10), "persist goes on");
}

/// A → B → C, B killed in the persistent phase while A writes: B forwards what it applied
/// before syncing it (docs/operations/replication.md, "Readable first, then synced"), so C may
/// hold changes B loses in the kill; B gets them again from A, and all three converge.
#[test]
fn a_chain_whose_middle_is_killed_in_persist_converges() {
    let pair = Pair::new("refreshAndPersist");
    let mut a = pair.admin();
    let b = pair.consumer();
    pair.converge(&b, Duration::from_secs(30), "B's first refresh");
    let c = pair.chained(&b, "c");
    pair.converge(&c, Duration::from_secs(30), "C's first refresh");
    let mut b = b;
    for i in 0..40 {
        touch(&mut a, i);
        if i == 20 {
            b.kill9();
            b = pair.consumer();
        }
    }
    changes(&mut a, "chain");
    pair.converge(&b, Duration::from_secs(30), "B after its kill");
    pair.converge(&c, Duration::from_secs(30), "C behind the killed B");
    renames(&mut a, "chain");
    pair.converge(&c, Duration::from_secs(15), "the chain goes on");
}

#[test]
fn a_killed_provider_restarted_and_a_stopped_provider_resumed() {
    let pair = Pair::new("refreshAndPersist");
    let mut provider = pair.provider;
    let pair = Pair {
        provider: Proc {
            child: provider.child.take(),
            data: provider.data.clone(),
            config: provider.config.clone(),
            port: provider.port,
            log: provider.log.clone(),
        },
        ..pair
    };
    let _ = provider;
    let mut a = pair.admin();
    let c = pair.consumer();
    pair.converge(&c, Duration::from_secs(60), "first refresh");
    changes(&mut a, "a");
    // kill -9 of the provider in the middle of writes; it restarts on the same port.
    drop(a);
    let mut p = pair.provider;
    p.kill9();
    p.spawn();
    let pair = Pair {
        provider: p,
        ..pair
    };
    let mut a = pair.admin();
    changes(&mut a, "b");
    // The consumer reconnects (retry_secs = [1]) and catches up from its cookie.
    pair.converge(&c, Duration::from_secs(30), "after the provider's kill -9");
    // SIGSTOP for three times timeout_secs: the consumer's keep-alive notices, it retries
    // until the provider answers again (SIGCONT), and the changes made before the stop and
    // after the resume arrive.
    // Idle for longer than timeout_secs: the keep-alive searches are answered, the
    // persistent search goes on (no reconnection).
    let quiet = std::fs::read_to_string(&c.log).unwrap_or_default().len();
    std::thread::sleep(Duration::from_secs(3 * TIMEOUT_SECS + 1));
    let log = std::fs::read_to_string(&c.log).unwrap_or_default();
    assert!(
        !log[quiet..].contains("the session with the provider failed"),
        "the consumer reconnected while the provider was idle:\n{}",
        &log[quiet..]
    );
    renames(&mut a, "a");
    pair.converge(
        &c,
        Duration::from_secs(10),
        "after an idle persistent phase",
    );
    drop(a);
    signal(pair.provider.pid(), "-STOP");
    let t = Instant::now();
    let stopped = Duration::from_secs(3 * TIMEOUT_SECS + 2);
    while t.elapsed() < stopped {
        std::thread::sleep(Duration::from_millis(200));
    }
    signal(pair.provider.pid(), "-CONT");
    let noticed = std::fs::read_to_string(&c.log).unwrap_or_default();
    assert!(
        noticed[quiet..].contains("keep-alive"),
        "the consumer did not notice the stopped provider:\n{}",
        c.log_tail()
    );
    let mut a = pair.admin();
    changes(&mut a, "c");
    pair.converge(&c, Duration::from_secs(20), "after SIGSTOP and SIGCONT");
}

/// `ccdir replication status` and `ccdir promote` on a consumer's stopped data directory, and
/// client writes on a consumer with `referrals = false` (unwillingToPerform naming the
/// provider); after the promotion the former consumer takes writes with its own server id.
#[test]
fn referrals_off_replication_status_and_promote() {
    let pair = Pair::with("refreshAndPersist", "referrals = false\n");
    let mut a = pair.admin();
    changes(&mut a, "a");
    let mut c = pair.consumer();
    pair.converge(&c, Duration::from_secs(60), "first refresh");
    // referrals = false: unwillingToPerform (53) with the provider's URL in the message,
    // for a modify and for Password Modify; nothing changes on the consumer.
    let mut w = c.replicator();
    let r = w
        .modify(
            &format!("ou=groups,{SUFFIX}"),
            vec![Mod::Replace(
                "description",
                HashSet::from(["on the consumer"]),
            )],
        )
        .expect("modify");
    assert_eq!(r.rc, 53, "{r:?}");
    assert!(r.text.contains(&pair.provider.url()), "{r:?}");
    assert!(r.refs.is_empty(), "{r:?}");
    let o = Command::new("ldappasswd")
        .args(["-x", "-H", &c.url(), "-D", REPLICATOR, "-w", REPLICATOR_PW])
        .args(["-s", "a new secret for the replicator"])
        .output()
        .expect("ldappasswd");
    // ldappasswd exits with 1 and prints the result code.
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!o.status.success(), "{said}");
    assert!(said.contains("(53)"), "{said}");
    assert!(said.contains(&pair.provider.url()), "{said}");
    drop(w);
    pair.converge(
        &c,
        Duration::from_secs(10),
        "nothing written on the consumer",
    );
    // The provider's context CSN, which the consumer's cookie and contextCSN follow.
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
    let context = ldap3::SearchEntry::construct(r[0].clone()).attrs["contextCSN"][0].clone();
    // replication status on the stopped consumer.
    c.stop();
    let status = |pair: &Pair| -> String {
        let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
            .args(["replication", "status", "-c"])
            .arg(&pair.consumer_config)
            .arg("--data-dir")
            .arg(&pair.consumer_data)
            .output()
            .expect("ccdir replication status");
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let st = status(&pair);
    assert!(st.contains("role: consumer\n"), "{st}");
    assert!(st.contains("server_id: 002\n"), "{st}");
    assert!(
        st.contains(&format!("provider: {}\n", pair.provider.url())),
        "{st}"
    );
    assert!(st.contains("mode: RefreshAndPersist\n"), "{st}");
    assert!(
        st.contains(&format!("cookie: rid=000,csn={context}\n"))
            || st.contains(&format!("csn={context}")),
        "the cookie holds the provider's context CSN {context}:\n{st}"
    );
    // The consumer's contextCSN holds the provider's for its server id (000); also a CSN of
    // its own (002) from the entries it created at its first start, before the first refresh.
    let ctx_line = st
        .lines()
        .find_map(|l| l.strip_prefix("contextCSN: "))
        .expect("contextCSN line");
    assert!(
        ctx_line.split(';').any(|c| c == context),
        "the provider's {context} in {ctx_line}"
    );
    // The provider fails; the consumer is promoted.
    let mut provider = pair.provider;
    provider.kill9();
    let pair = Pair { provider, ..pair };
    let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(["promote", "-c"])
        .arg(&pair.consumer_config)
        .arg("--data-dir")
        .arg(&pair.consumer_data)
        .output()
        .expect("ccdir promote");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("promoted"), "{}", stdout(&o));
    let st = status(&pair);
    assert!(
        st.contains("role: provider (promoted; [replication.consumer] is ignored)"),
        "{st}"
    );
    // Started with [replication.consumer] still in its configuration: it is ignored, the
    // server takes writes, with CSNs of its own server id newer than the replicated ones.
    let c = pair.consumer();
    let pw = std::fs::read_to_string(pair.provider.data.join("admin-password")).expect("pw");
    let mut a = LdapConn::new(&c.url()).expect("connect");
    a.simple_bind(ADMIN, pw.trim())
        .expect("bind")
        .success()
        .expect("the provider's admin on the promoted server");
    touch(&mut a, 1);
    let (r, _) = a
        .search(
            &format!("ou=groups,{SUFFIX}"),
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["entryCSN"],
        )
        .expect("search")
        .success()
        .expect("entry");
    let csn = ldap3::SearchEntry::construct(r[0].clone()).attrs["entryCSN"][0].clone();
    assert!(csn.ends_with("#002#000000"), "{csn}");
    assert!(csn > context, "{csn} after {context}");
    changes(&mut a, "after");
    drop(c);
}
