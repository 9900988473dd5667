//! ccdir as a replication consumer of Debian's slapd (docs/operations/replication.md, "ccdir as
//! a consumer"): slapd (back-mdb, the syncprov overlay, the ccTLD schema) on a loopback port is
//! the provider, an in-process ccdir follows it in refreshOnly and refreshAndPersist mode.
//! After adds, modifies, renames (also of a parent with its children) and deletes on slapd,
//! both servers return the same entries with the same entryUUID, entryCSN and timestamps. A
//! slapd whose session log is too short for the consumer's cookie: the consumer, stopped while
//! more changes than the log holds were made, converges when it starts again.

use crate::harness::*;
use crate::interop::{slapd_available, ssha, Slapd};
use crate::replication::{changes, difference, renames, view, View, REPLICATOR, REPLICATOR_PW};
use ccdir::service::config::{Consumer, SyncMode};
use ldap3::{LdapConn, Mod};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MANAGER: &str = "cn=manager,dc=cctld-ir,dc=example";
const MANAGER_PW: &str = "manager secret";

/// The consumer's access rules: everyone reads (the views are compared anonymously).
const READ_ALL: &str = r#"
[[access.rules]]
by = ["* read"]
"#;

pub(crate) struct SlapdProvider {
    _slapd: Slapd,
    port: u16,
    log: std::path::PathBuf,
    _tmp: tempfile::TempDir,
}

impl SlapdProvider {
    /// slapd with syncprov (`sessionlog` entries of session log) and the base entries, the
    /// replication identity among them.
    pub(crate) fn start(sessionlog: usize) -> SlapdProvider {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let db = dir.join("db");
        std::fs::create_dir_all(&db).expect("db dir");
        let conf = dir.join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 include {pgp}\ninclude {cctld}\n\
                 modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload syncprov\n\
                 pidfile {d}/slapd.pid\n\
                 access to * by * read\nsizelimit unlimited\n\
                 database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{MANAGER}\"\nrootpw \"{MANAGER_PW}\"\n\
                 directory {db}\nmaxsize 1073741824\nindex objectClass,entryUUID,entryCSN eq\n\
                 overlay syncprov\nsyncprov-sessionlog {sessionlog}\n",
                pgp = root.join("schema/openpgp-keyserver.schema").display(),
                cctld = root.join("schema/cctld-ir.schema").display(),
                d = dir.display(),
                db = db.display(),
            ),
        )
        .expect("slapd.conf");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let log = dir.join("slapd.log");
        let child = Command::new("/usr/sbin/slapd")
            .args([
                "-d",
                "sync",
                "-h",
                &format!("ldap://127.0.0.1:{port}/"),
                "-f",
            ])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("slapd");
        let p = SlapdProvider {
            _slapd: Slapd(child),
            port,
            log,
            _tmp: tmp,
        };
        let t = Instant::now();
        while LdapConn::new(&p.url()).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "slapd did not start: {}",
                p.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut m = p.manager();
        add(
            &mut m,
            SUFFIX,
            &[
                ("objectClass", &["top", "dcObject", "organization"]),
                ("dc", &["cctld-ir"]),
                ("o", &["Test"]),
            ],
        );
        for ou in ["groups", "registries"] {
            add(
                &mut m,
                &format!("ou={ou},{SUFFIX}"),
                &[("objectClass", &["organizationalUnit"]), ("ou", &[ou])],
            );
        }
        add(
            &mut m,
            REPLICATOR,
            &[
                (
                    "objectClass",
                    &["organizationalRole", "simpleSecurityObject"],
                ),
                ("cn", &["replicator"]),
                // Hashed, as a production slapd holds it: ccdir never accepts a cleartext
                // userPassword at bind.
                ("userPassword", &[ssha(REPLICATOR_PW).as_str()]),
            ],
        );
        p
    }

    pub(crate) fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub(crate) fn manager(&self) -> LdapConn {
        let mut m = LdapConn::new(&self.url()).expect("connect to slapd");
        m.simple_bind(MANAGER, MANAGER_PW)
            .expect("bind")
            .success()
            .expect("manager bind");
        m
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    pub(crate) fn view(&self) -> View {
        view(&mut LdapConn::new(&self.url()).expect("connect to slapd"))
    }
}

/// The configuration of a ccdir consumer of `provider` (plain LDAP on loopback).
fn consumer_config(c: &mut ccdir::Config, provider: &str, mode: SyncMode) {
    let pw = c.data_dir.join("replicator-password");
    std::fs::write(&pw, format!("{REPLICATOR_PW}\n")).expect("password file");
    c.access = ccdir::Config::from_toml(READ_ALL).expect("rules").access;
    c.replication.server_id = 2;
    c.replication.consumer = Some(Consumer {
        provider: provider.into(),
        starttls: false,
        bind_dn: REPLICATOR.into(),
        password_file: pw,
        mode,
        interval_secs: 1,
        retry_secs: vec![1],
        timeout_secs: 2,
        ..Default::default()
    });
}

/// Wait until the ccdir consumer returns what slapd returns; the time it took.
fn converge(p: &SlapdProvider, c: &TestServer, bound: Duration, what: &str) -> Duration {
    let want = p.view();
    let t = Instant::now();
    loop {
        let got = LdapConn::new(&c.ldap_url()).map(|mut l| view(&mut l));
        if got.as_ref().ok() == Some(&want) {
            return t.elapsed();
        }
        if t.elapsed() > bound {
            let detail = match &got {
                Ok(got) => difference(&want, got).replace("ccdir", "SLAPD"),
                Err(e) => e.to_string(),
            };
            panic!(
                "{what}: ccdir did not converge on slapd within {bound:?}: {detail}\n\
                 status: {:?}\nslapd log:\n{}",
                c.server().directory().consumer_status(),
                p.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn follows_slapd(mode: SyncMode) {
    if !slapd_available() {
        return;
    }
    let p = SlapdProvider::start(100);
    let mut m = p.manager();
    let url = p.url();
    let c = TestServer::start_with(|c| consumer_config(c, &url, mode));
    let took = converge(&p, &c, Duration::from_secs(30), "first refresh");
    eprintln!("{mode:?}: first refresh from slapd took {took:?}");
    changes(&mut m, "a");
    converge(&p, &c, Duration::from_secs(20), "after the first changes");
    changes(&mut m, "b");
    m.delete(&format!("cn=deux a,ou=repl-a,{SUFFIX}"))
        .expect("delete")
        .success()
        .expect("delete");
    renames(&mut m, "a");
    converge(&p, &c, Duration::from_secs(20), "after renames and deletes");
    m.modify(
        &format!("cn=deux b,ou=repl-b,{SUFFIX}"),
        vec![Mod::Replace("sn", HashSet::from(["zwei"]))],
    )
    .expect("modify")
    .success()
    .expect("modify");
    let took = converge(&p, &c, Duration::from_secs(10), "one modify");
    eprintln!("{mode:?}: one modify on slapd visible on ccdir after {took:?}");
    let st = c.server().directory().consumer_status();
    assert!(st.cookie.contains("csn="), "{st:?}");
    if mode == SyncMode::RefreshAndPersist {
        // Idle for longer than timeout_secs: slapd answers the keep-alive searches, the
        // persistent search goes on without an error.
        std::thread::sleep(Duration::from_secs(5));
        let st = c.server().directory().consumer_status();
        assert!(st.phase == "persist" && st.last_error.is_none(), "{st:?}");
    }
    // The replicated {SSHA} password works on ccdir, and the bind does not re-hash it there
    // (the entry is the provider's: a local change would make the replica differ).
    let mut b = LdapConn::new(&c.ldap_url()).expect("connect");
    let r = b.simple_bind(REPLICATOR, REPLICATOR_PW).expect("bind");
    assert_eq!(r.rc, 0, "bind with the replicated password: {r:?}");
    converge(
        &p,
        &c,
        Duration::from_secs(5),
        "after a bind on the consumer",
    );
}

#[test]
fn ccdir_consumes_slapd_in_refresh_only_mode() {
    follows_slapd(SyncMode::RefreshOnly);
}

#[test]
fn ccdir_consumes_slapd_in_refresh_and_persist_mode() {
    follows_slapd(SyncMode::RefreshAndPersist);
}

/// syncprov-sessionlog 4: the consumer is stopped, more changes (deletes among them) than the
/// log holds are made, and the consumer, started again with its old cookie, converges (slapd
/// answers with the present phase or e-syncRefreshRequired).
#[test]
fn a_session_log_shorter_than_the_missed_changes() {
    if !slapd_available() {
        return;
    }
    for mode in [SyncMode::RefreshAndPersist, SyncMode::RefreshOnly] {
        let p = SlapdProvider::start(4);
        let mut m = p.manager();
        let url = p.url();
        let c = TestServer::start_with(|c| consumer_config(c, &url, mode));
        changes(&mut m, "a");
        converge(&p, &c, Duration::from_secs(30), "first refresh");
        let config = c.config.clone();
        let tmp = c.stop();
        // More than four changes, deletes among them, while the consumer is down.
        changes(&mut m, "b");
        renames(&mut m, "a");
        for n in 0..6 {
            let dn = format!("cn=extra {n},ou=groups,{SUFFIX}");
            let cn = format!("extra {n}");
            add(
                &mut m,
                &dn,
                &[
                    ("objectClass", &["person"]),
                    ("cn", &[cn.as_str()]),
                    ("sn", &["x"]),
                ],
            );
            if n % 2 == 0 {
                m.delete(&dn).expect("delete").success().expect("delete");
            }
        }
        m.delete(&format!("cn=deux a,ou=renamed-a,{SUFFIX}"))
            .expect("delete")
            .success()
            .expect("delete");
        let log = std::fs::read_to_string(&p.log).unwrap_or_default();
        assert!(
            log.contains("syncprov_add_slog: expiring"),
            "the session log did not overflow"
        );
        let c = TestServer::start_config(config);
        converge(
            &p,
            &c,
            Duration::from_secs(30),
            &format!("{mode:?}: after a restart beyond the session log"),
        );
        let after = std::fs::read_to_string(&p.log).unwrap_or_default();
        // slapd could not replay its session log: the present phase (syncIdSet of the
        // present entries), or a full reload (e-syncRefreshRequired).
        let replay = &after[log.len()..];
        assert!(
            replay.contains("mode=FIND_PRESENT")
                || c.server().directory().consumer_status().reloads > 0,
            "{mode:?}: neither the present phase nor a reload:\n{replay}"
        );
        drop(c);
        drop(tmp);
    }
}
