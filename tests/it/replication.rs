//! RFC 4533 replication with Debian's slapd as the consumer of ccdir (docs/operations/
//! replication.md): slapd (back-mdb, the ccTLD schema) started on a loopback port with a
//! `syncrepl` clause pointing at an in-process ccdir with the sample directory, in refreshOnly
//! and in refreshAndPersist mode. After the first refresh and after adds, modifies, renames
//! (also to another parent) and deletes on ccdir, both servers return the same entries with
//! the same values and the same entryUUID, entryCSN and timestamps.

use crate::harness::*;
use crate::interop::{slapd_available, Slapd};
use base64::Engine;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const REPLICATOR: &str = "cn=replicator,dc=cctld-ir,dc=example";
pub(crate) const REPLICATOR_PW: &str = "replication secret";

/// The access rules of the test: the replication identity reads everything; binds work.
pub(crate) const RULES: &str = r#"
[[access.rules]]
attrs = ["userPassword"]
by = ["dn:cn=replicator,dc=cctld-ir,dc=example read", "anonymous auth", "* none"]

[[access.rules]]
by = ["dn:cn=replicator,dc=cctld-ir,dc=example read", "* none"]
"#;

/// The attributes compared: the user attributes and the operational ones a consumer keeps.
const ATTRS: &[&str] = &[
    "*",
    "entryUUID",
    "entryCSN",
    "structuralObjectClass",
    "creatorsName",
    "createTimestamp",
    "modifiersName",
    "modifyTimestamp",
];

pub(crate) type View = BTreeMap<String, BTreeMap<String, Vec<String>>>;

pub(crate) fn view(c: &mut LdapConn) -> View {
    let r = c
        .search(SUFFIX, Scope::Subtree, "(objectClass=*)", ATTRS.to_vec())
        .expect("search");
    let mut out = View::new();
    if r.1.rc == 32 {
        return out;
    }
    assert_eq!(r.1.rc, 0, "{}", r.1.text);
    for e in r.0 {
        let e = SearchEntry::construct(e);
        let mut attrs = BTreeMap::new();
        for (k, mut v) in e.attrs {
            // ccdir derives `overdue` after the due date when read; slapd holds what is stored.
            if k.eq_ignore_ascii_case("cctldVerificationStatus") {
                continue;
            }
            v.sort();
            attrs.insert(k.to_lowercase(), v);
        }
        for (k, v) in e.bin_attrs {
            let mut v: Vec<String> = v
                .iter()
                .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
                .collect();
            v.sort();
            attrs.insert(k.to_lowercase(), v);
        }
        out.insert(e.dn.to_lowercase(), attrs);
    }
    out
}

/// Why two views differ, briefly.
pub(crate) fn difference(a: &View, b: &View) -> String {
    let only_a: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).take(3).collect();
    let only_b: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).take(3).collect();
    let differ = a
        .keys()
        .find(|k| b.get(*k).is_some_and(|v| Some(v) != a.get(*k)))
        .map(|k| format!("\n{k}\nccdir: {:?}\nslapd: {:?}", a.get(k), b.get(k)))
        .unwrap_or_default();
    format!(
        "ccdir {} entries, slapd {}; only ccdir {only_a:?}, only slapd {only_b:?}{differ}",
        a.len(),
        b.len()
    )
}

struct Consumer {
    _slapd: Slapd,
    port: u16,
    log: std::path::PathBuf,
    _tmp: tempfile::TempDir,
}

impl Consumer {
    /// slapd replicating `provider` in `mode` ("refreshOnly" or "refreshAndPersist").
    fn start(provider: &str, mode: &str) -> Consumer {
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
                 modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {d}/slapd.pid\n\
                 access to * by * read\nsizelimit unlimited\n\
                 database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"cn=manager,{SUFFIX}\"\n\
                 directory {db}\nmaxsize 1073741824\nindex objectClass,entryUUID,entryCSN eq\n\
                 syncrepl rid=001 provider={provider} type={mode} interval=00:00:00:01 \
                 retry=\"1 +\" searchbase=\"{SUFFIX}\" scope=sub attrs=\"*,+\" \
                 bindmethod=simple binddn=\"{REPLICATOR}\" credentials=\"{REPLICATOR_PW}\" \
                 schemachecking=off\n",
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
        let c = Consumer {
            _slapd: Slapd(child),
            port,
            log,
            _tmp: tmp,
        };
        let t = Instant::now();
        while LdapConn::new(&c.url()).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "slapd did not start: {}",
                c.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }

    fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Wait until slapd returns what ccdir returns; the time it took.
    fn converge(&self, ccdir: &mut LdapConn, bound: Duration, what: &str) -> Duration {
        let want = view(ccdir);
        let t = Instant::now();
        loop {
            let got = LdapConn::new(&self.url()).map(|mut c| view(&mut c));
            if let Ok(got) = &got {
                if *got == want {
                    return t.elapsed();
                }
            }
            if t.elapsed() > bound {
                let detail = match &got {
                    Ok(got) => difference(&want, got),
                    Err(e) => e.to_string(),
                };
                panic!(
                    "{what}: slapd did not converge within {bound:?}: {detail}\nslapd log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub(crate) fn provider() -> TestServer {
    let rules = ccdir::Config::from_toml(RULES).expect("rules").access;
    let s = TestServer::start_with(|c| {
        c.load_sample = true;
        c.access = rules;
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

/// Adds, modifies, renames (in place and to another parent) and deletes on ccdir.
pub(crate) fn changes(a: &mut LdapConn, round: &str) {
    let ou = format!("ou=repl-{round},{SUFFIX}");
    a.add(
        &ou,
        vec![
            ("objectClass", HashSet::from(["organizationalUnit"])),
            ("ou", HashSet::from([format!("repl-{round}").as_str()])),
        ],
    )
    .expect("add")
    .success()
    .expect("add ou");
    for n in ["one", "two", "three"] {
        let cn = format!("{n} {round}");
        a.add(
            &format!("cn={cn},{ou}"),
            vec![
                ("objectClass", HashSet::from(["person"])),
                ("cn", HashSet::from([cn.as_str()])),
                ("sn", HashSet::from([n])),
            ],
        )
        .expect("add")
        .success()
        .expect("add person");
    }
    a.modify(
        &format!("cn=one {round},{ou}"),
        vec![
            Mod::Replace("sn", HashSet::from(["uno"])),
            Mod::Add("description", HashSet::from(["changed on ccdir"])),
        ],
    )
    .expect("modify")
    .success()
    .expect("modify");
    a.modify(
        &format!("ou=groups,{SUFFIX}"),
        vec![Mod::Replace(
            "description",
            HashSet::from([format!("round {round}").as_str()]),
        )],
    )
    .expect("modify")
    .success()
    .expect("modify groups");
    a.modifydn(
        &format!("cn=two {round},{ou}"),
        &format!("cn=deux {round}"),
        true,
        None,
    )
    .expect("modrdn")
    .success()
    .expect("rename");
    a.modifydn(
        &format!("cn=three {round},{ou}"),
        &format!("cn=three {round}"),
        true,
        Some(&format!("ou=groups,{SUFFIX}")),
    )
    .expect("modrdn")
    .success()
    .expect("move");
    a.delete(&format!("cn=one {round},{ou}"))
        .expect("delete")
        .success()
        .expect("delete");
}

/// Renames of entries the consumer holds: one moved back below its old parent under a new
/// name, then that parent (with its children) renamed.
pub(crate) fn renames(a: &mut LdapConn, round: &str) {
    a.modifydn(
        &format!("cn=three {round},ou=groups,{SUFFIX}"),
        &format!("cn=trois {round}"),
        true,
        Some(&format!("ou=repl-{round},{SUFFIX}")),
    )
    .expect("modrdn")
    .success()
    .expect("move back");
    a.modifydn(
        &format!("ou=repl-{round},{SUFFIX}"),
        &format!("ou=renamed-{round}"),
        false,
        None,
    )
    .expect("modrdn")
    .success()
    .expect("rename a parent");
    a.modify(
        &format!("cn=trois {round},ou=renamed-{round},{SUFFIX}"),
        vec![Mod::Replace("sn", HashSet::from(["drei"]))],
    )
    .expect("modify")
    .success()
    .expect("modify below the renamed parent");
}

#[test]
fn slapd_consumes_ccdir_in_refresh_only_mode() {
    if !slapd_available() {
        return;
    }
    let s = provider();
    let mut a = s.admin();
    let c = Consumer::start(&s.ldap_url(), "refreshOnly");
    // The first refresh: the whole sample directory.
    c.converge(&mut a, Duration::from_secs(90), "first refresh");
    // Later polls replay the changelog from slapd's cookie.
    changes(&mut a, "a");
    c.converge(&mut a, Duration::from_secs(30), "after the first changes");
    changes(&mut a, "b");
    a.delete(&format!("cn=deux a,ou=repl-a,{SUFFIX}"))
        .expect("delete")
        .success()
        .expect("delete");
    renames(&mut a, "a");
    c.converge(&mut a, Duration::from_secs(30), "after the second changes");
    // The consumer's cookie: ccdir's context CSN, which the suffix entry shows.
    let (r, _) = a
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["contextCSN"])
        .expect("search")
        .success()
        .expect("suffix");
    let ctx = SearchEntry::construct(r[0].clone());
    let csn = &ctx.attrs["contextCSN"];
    assert_eq!(csn.len(), 1, "one server id: {csn:?}");
    assert!(csn[0].ends_with("#000#000000"), "{csn:?}");
}

#[test]
fn slapd_consumes_ccdir_in_refresh_and_persist_mode() {
    if !slapd_available() {
        return;
    }
    let s = provider();
    let mut a = s.admin();
    let c = Consumer::start(&s.ldap_url(), "refreshAndPersist");
    c.converge(&mut a, Duration::from_secs(90), "first refresh");
    let t = Instant::now();
    while s.server().directory().persist_searches() != 1 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no persistent search"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Changes reach slapd while the search persists, within a second or two each.
    changes(&mut a, "a");
    let took = c.converge(&mut a, Duration::from_secs(10), "persist: changes");
    eprintln!("refreshAndPersist: converged {took:?} after the changes");
    let dn = format!("cn=deux a,ou=repl-a,{SUFFIX}");
    a.modify(&dn, vec![Mod::Replace("sn", HashSet::from(["zwei"]))])
        .expect("modify")
        .success()
        .expect("modify");
    let took = c.converge(&mut a, Duration::from_secs(5), "persist: one modify");
    eprintln!("refreshAndPersist: one modify visible on slapd after {took:?}");
    assert_eq!(
        s.server().directory().persist_searches(),
        1,
        "still the one persistent search"
    );
    renames(&mut a, "a");
    c.converge(&mut a, Duration::from_secs(10), "persist: renames");
    // slapd goes away: the persistent search ends and its thread returns.
    drop(c);
    let t = Instant::now();
    while s.server().directory().persist_searches() != 0 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the persistent search outlived its connection"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A new consumer with the changes made while none was connected.
    changes(&mut a, "b");
    let c = Consumer::start(&s.ldap_url(), "refreshAndPersist");
    c.converge(&mut a, Duration::from_secs(90), "a new consumer");
    // The server stops at once: the persistent search does not hold up the drain.
    drop(a);
    let t = Instant::now();
    drop(s.stop());
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "shutdown took {:?} with a persistent search",
        t.elapsed()
    );
    drop(c);
}

/// ldapsearch's sync mode (`-E sync=ro/<cookie>`) against ccdir: the present phase for a
/// cookie the changelog does not hold, and a consumer newer than the provider refused.
#[test]
fn cookies_outside_the_changelog_get_the_present_phase_and_newer_ones_are_refused() {
    let s = provider();
    let mut a = s.admin();
    let csn_of = |a: &mut LdapConn, dn: &str| -> String {
        let (r, _) = a
            .search(dn, Scope::Base, "(objectClass=*)", vec!["entryCSN"])
            .expect("search")
            .success()
            .expect("entry");
        SearchEntry::construct(r[0].clone()).attrs["entryCSN"][0].clone()
    };
    let first = format!("ou=groups,{SUFFIX}");
    let second = format!("ou=registries,{SUFFIX}");
    for dn in [&first, &second] {
        a.modify(dn, vec![Mod::Replace("description", HashSet::from(["x"]))])
            .expect("modify")
            .success()
            .expect("modify");
    }
    let (w, x) = (csn_of(&mut a, &first), csn_of(&mut a, &second));
    assert!(w < x);
    let sync = |cookie: &str| {
        Command::new("ldapsearch")
            .args(["-x", "-LLL", "-H", &s.ldap_url(), "-D", REPLICATOR, "-w"])
            .arg(REPLICATOR_PW)
            .args([
                "-b",
                SUFFIX,
                "-E",
                &format!("!sync=ro/{cookie}"),
                "(objectClass=*)",
                "objectClass",
            ])
            .output()
            .expect("ldapsearch")
    };
    // Between the two changes, but no CSN of the changelog: every entry, only the second
    // change's entry with its attributes (the others present: DN only).
    let between = format!("{}000001", &w[..34]);
    let o = sync(&format!("rid=002,csn={between}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).replace("\n ", "");
    let blocks: Vec<&str> = text
        .split("\n\n")
        .filter(|b| b.starts_with("dn:"))
        .collect();
    assert!(blocks.len() > 1000, "every entry: {}", blocks.len());
    let full: Vec<&str> = blocks
        .iter()
        .copied()
        .filter(|b| b.trim_end().contains('\n'))
        .collect();
    assert_eq!(full.len(), 1, "{:?}", &full[..full.len().min(3)]);
    assert!(full[0].starts_with(&format!("dn: {second}")), "{full:?}");
    // The provider's own state: nothing to send.
    let o = sync(&format!("rid=002,csn={x}"));
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("dn:"));
    // Newer than the provider for its own server id: unwillingToPerform (53).
    let newer = format!("{}000001", &x[..34]);
    let o = sync(&format!("rid=002,csn={newer}"));
    assert_eq!(
        o.status.code(),
        Some(53),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A malformed cookie: protocolError (2).
    let o = sync("rid=002,csn=garbage");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// CSNs of one server id only increase: after a restart with a clock set back by years, the
/// next write's CSN still follows the newest the store holds (contextCSN).
#[test]
fn csns_increase_across_restarts_even_when_the_clock_goes_back() {
    let s = TestServer::start_with(|c| c.replication.server_id = 0x2a);
    let context = |s: &TestServer| -> Vec<String> {
        let mut a = s.admin();
        let (r, _) = a
            .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["+"])
            .expect("search")
            .success()
            .expect("suffix");
        SearchEntry::construct(r[0].clone()).attrs["contextCSN"].clone()
    };
    let touch = |s: &TestServer, v: &str| {
        s.admin()
            .modify(
                &format!("ou=groups,{SUFFIX}"),
                vec![Mod::Replace("description", HashSet::from([v]))],
            )
            .expect("modify")
            .success()
            .expect("modify");
    };
    touch(&s, "before");
    let before = context(&s);
    assert_eq!(before.len(), 1);
    assert!(before[0].ends_with("#02a#000000"), "{before:?}");
    let past = time::macros::datetime!(2020-01-01 00:00:00 UTC);
    let s = s.restart_with_clock(std::sync::Arc::new(ccdir::core::clock::ManualClock::new(
        past,
    )));
    touch(&s, "after");
    let after = context(&s);
    assert!(after[0] > before[0], "{after:?} after {before:?}");
    assert_eq!(
        after[0][..22],
        before[0][..22],
        "the same time, the next count"
    );
}
