//! Throughput benchmark (not a test): ccdir and, when installed, OpenLDAP slapd side by side on the
//! same generated data, same indexes and same argon2id password cost.
//!
//! cargo bench --bench throughput -- [--entries 100000] [--passwords 1000] [--secs 5] [--conns 1,8]
//!                                   [--only eq|sub|bind|modify|modify-checked|add|mix|eq-tls|bind-tls]
//!                                   [--as-user] [--no-slapd] [--bulk-only] [--smoke]
//!                                   [--out FILE.md] [--json FILE.json] [--docs docs/benchmarks.md]
//!                                   [--baseline PATH [--baseline-label TEXT]]
//! cargo bench --bench throughput -- --only repl [--entries N] [--secs S] [--repl-mods 2000]
//!                                   [--repl-rate 50] [--repl-writers 8] [--repl-timeout 900]
//!                                   [--repl-slapd-nosync] [--out FILE.md]
//! cargo bench --bench throughput -- --only portal [--entries N] [--secs S] [--portal-tlds 5000]
//!                                   [--portal-sessions 200] [--portal-think-ms 2000]
//!                                   [--portal-pages 2000] [--no-slapd] [--out FILE.md]
//!
//! `--only portal` (benches/throughput/portal.rs, issue 18) measures the registry portal: a
//! ccTLD's page and the search page at 5,000 TLDs, and LDAP searches with and without 200
//! browsing sessions, slapd's searches next to them.
//!
//! `--only repl` (benches/throughput/repl.rs, issue 16) measures replication instead: full
//! refresh, persist lag and the provider's cost of persist consumers, ccdir and slapd side by
//! side; it is not part of the default run.
//!
//! With `--baseline PATH` (another ccdir binary, e.g. an earlier commit's release build) the
//! import, the export and every workload are measured on three servers in the same run, one after
//! the other for each step (this build, the baseline, slapd), and the report gets a "this build
//! against the baseline" section that flags what is more than 5 % slower. `bench/run.sh
//! --baseline-rev REV` builds REV in a temporary worktree and passes its binary here.
//!
//! Each workload is a closed loop per connection (send one request, read and check the whole
//! response, record the latency), with a warm-up, a fixed duration and only loopback targets.
//! `bench/run.sh` is the one-command entry point (installs slapd, runs the 100k set, writes
//! docs/benchmarks.md's latest-run section and docs/benchmarks.json).

use bytes::BytesMut;
use ccdir::service::config::Config;
use ccdir::tools::generate::people;
use ldap3_proto::proto::*;
use ldap3_proto::LdapCodec;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

#[path = "throughput/portal.rs"]
mod portal;
#[path = "throughput/repl.rs"]
mod repl;

const SUFFIX: &str = "dc=cctld-ir,dc=example";
const ADMIN: &str = "cn=admin,dc=cctld-ir,dc=example";

#[derive(Clone)]
struct Opts {
    entries: u64,
    passwords: u64,
    secs: u64,
    conns: Vec<usize>,
    slapd: bool,
    out: Option<PathBuf>,
    /// Run only one workload: eq, sub or bind.
    only: Option<String>,
    /// Searches bind as uid=user0 (a member under ccdir's default access policy) instead of the
    /// directory manager, so access control is evaluated for every entry and attribute.
    as_user: bool,
    /// Raw results as JSON.
    json: Option<PathBuf>,
    /// Replace the latest-run section of this Markdown file.
    docs: Option<PathBuf>,
    /// Only import / export, no server workloads.
    bulk_only: bool,
    /// Another ccdir binary (an earlier commit's build), measured in the same run, interleaved.
    baseline: Option<PathBuf>,
    /// How the report names the baseline (default: its path).
    baseline_label: Option<String>,
    /// `--only repl`: modifies per persist-lag run.
    repl_mods: u64,
    /// `--only repl`: modifies per second of the paced persist-lag run (over all writers).
    repl_rate: f64,
    /// `--only repl`: writers of the persist-lag runs.
    repl_writers: usize,
    /// `--only repl`: seconds a full refresh may take.
    repl_timeout: u64,
    /// `--only repl`: also a slapd pair with dbnosync (not durable), as a reference.
    repl_slapd_nosync: bool,
    /// `--only portal`: ccTLD-style registries next to the people.
    portal_tlds: u64,
    /// `--only portal`: logged-in sessions browsing during the LDAP searches.
    portal_sessions: usize,
    /// `--only portal`: a browsing session's mean pause between pages, in milliseconds.
    portal_think_ms: u64,
    /// `--only portal`: ccTLD pages timed one after the other.
    portal_pages: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        entries: 100_000,
        passwords: 1000,
        secs: 5,
        conns: vec![1, 8],
        slapd: true,
        out: None,
        only: None,
        as_user: false,
        json: None,
        docs: None,
        bulk_only: false,
        baseline: None,
        baseline_label: None,
        repl_mods: 2000,
        repl_rate: 50.0,
        repl_writers: 8,
        repl_timeout: 900,
        repl_slapd_nosync: false,
        portal_tlds: 5000,
        portal_sessions: 200,
        portal_think_ms: 2000,
        portal_pages: 2000,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let next = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--entries" => o.entries = next.parse().expect("--entries N"),
            "--passwords" => o.passwords = next.parse().expect("--passwords N"),
            "--secs" => o.secs = next.parse().expect("--secs N"),
            "--conns" => {
                o.conns = next
                    .split(',')
                    .map(|c| c.parse().expect("--conns 1,8"))
                    .collect()
            }
            "--out" => o.out = Some(PathBuf::from(next)),
            "--json" => o.json = Some(PathBuf::from(next)),
            "--docs" => o.docs = Some(PathBuf::from(next)),
            "--bulk-only" => {
                o.bulk_only = true;
                i -= 1;
            }
            "--smoke" => {
                // A few seconds on tiny data: checks that the harness runs end to end.
                o.entries = 300;
                o.passwords = 4;
                o.secs = 1;
                o.conns = vec![1, 2];
                i -= 1;
            }
            "--only" => o.only = Some(next),
            "--baseline" => o.baseline = Some(PathBuf::from(next)),
            "--baseline-label" => o.baseline_label = Some(next),
            "--repl-mods" => o.repl_mods = next.parse().expect("--repl-mods N"),
            "--repl-rate" => o.repl_rate = next.parse().expect("--repl-rate N"),
            "--repl-writers" => o.repl_writers = next.parse().expect("--repl-writers N"),
            "--repl-timeout" => o.repl_timeout = next.parse().expect("--repl-timeout SECS"),
            "--portal-tlds" => o.portal_tlds = next.parse().expect("--portal-tlds N"),
            "--portal-sessions" => o.portal_sessions = next.parse().expect("--portal-sessions N"),
            "--portal-think-ms" => o.portal_think_ms = next.parse().expect("--portal-think-ms MS"),
            "--portal-pages" => o.portal_pages = next.parse().expect("--portal-pages N"),
            "--repl-slapd-nosync" => {
                o.repl_slapd_nosync = true;
                i -= 1;
            }
            "--as-user" => {
                o.as_user = true;
                i -= 1;
            }
            "--no-slapd" => {
                o.slapd = false;
                i -= 1;
            }
            _ => {
                i -= 1; // cargo's own flags such as --bench
            }
        }
        i += 2;
    }
    if let Some(b) = &o.baseline {
        assert!(b.is_file(), "--baseline {}: no such file", b.display());
    }
    o
}

trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

/// Where a workload connects: plain LDAP, or LDAPS trusting the benchmark's CA.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// A minimal blocking LDAP client over ldap3_proto's codec, plain or TLS (rustls).
struct Client {
    s: Box<dyn Io>,
    buf: BytesMut,
    codec: LdapCodec,
    id: i32,
}

impl Client {
    fn connect(t: &Target) -> Client {
        let tcp = TcpStream::connect(t.addr).expect("connect");
        tcp.set_nodelay(true).ok();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let s: Box<dyn Io> = match &t.tls {
            None => Box::new(tcp),
            Some(cfg) => {
                let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
                let conn = rustls::ClientConnection::new(cfg.clone(), name).expect("tls client");
                let mut s = rustls::StreamOwned::new(conn, tcp);
                // Finish the handshake before the clock starts.
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock).expect("TLS handshake");
                }
                Box::new(s)
            }
        };
        Client {
            s,
            buf: BytesMut::with_capacity(1 << 16),
            codec: LdapCodec::new(Some(1 << 24), None),
            id: 0,
        }
    }

    fn send(&mut self, op: LdapOp) {
        self.id += 1;
        let mut b = BytesMut::new();
        self.codec
            .encode(LdapMsg::new(self.id, op), &mut b)
            .expect("encode");
        self.s.write_all(&b).expect("write");
    }

    fn recv(&mut self) -> LdapMsg {
        loop {
            if let Some(m) = self.codec.decode(&mut self.buf).expect("decode") {
                return m;
            }
            let mut tmp = [0u8; 65536];
            let n = self.s.read(&mut tmp).expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    fn bind(&mut self, dn: &str, pw: &str) -> LdapResultCode {
        self.send(LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: dn.into(),
            cred: LdapBindCred::Simple(pw.into()),
        }));
        match self.recv().op {
            LdapOp::BindResponse(r) => r.res.code,
            other => panic!("bind: {other:?}"),
        }
    }

    /// Send a request with a single response and return its result code.
    fn write(&mut self, op: LdapOp) -> LdapResultCode {
        self.send(op);
        match self.recv().op {
            LdapOp::ModifyResponse(r) | LdapOp::AddResponse(r) => r.code,
            other => panic!("write: {other:?}"),
        }
    }

    fn modify(&mut self, i: u64, value: u64) -> LdapResultCode {
        self.write(LdapOp::ModifyRequest(LdapModifyRequest {
            dn: format!("uid=user{i},ou=people,{SUFFIX}"),
            changes: vec![LdapModify {
                operation: LdapModifyType::Replace,
                modification: LdapPartialAttribute {
                    atype: "description".into(),
                    vals: vec![format!("revision {value}").into_bytes()],
                },
            }],
        }))
    }

    /// Replace a telephone number and a `seeAlso` naming another user: the content check (the
    /// number through libphonenumber) and the reference check (the named entry must exist).
    fn modify_checked(&mut self, i: u64, value: u64, entries: u64) -> LdapResultCode {
        let other = value % entries;
        let attr = |a: &str, v: String| LdapModify {
            operation: LdapModifyType::Replace,
            modification: LdapPartialAttribute {
                atype: a.into(),
                vals: vec![v.into_bytes()],
            },
        };
        self.write(LdapOp::ModifyRequest(LdapModifyRequest {
            dn: format!("uid=user{i},ou=people,{SUFFIX}"),
            changes: vec![
                attr(
                    "telephoneNumber",
                    format!("+1 202 555 {:04}", value % 10000),
                ),
                attr("seeAlso", format!("uid=user{other},ou=people,{SUFFIX}")),
            ],
        }))
    }

    /// Search and count entries; returns (entries, result code).
    fn search(&mut self, filter: LdapFilter, sizelimit: i32) -> (usize, LdapResultCode) {
        self.send(LdapOp::SearchRequest(LdapSearchRequest {
            base: format!("ou=people,{SUFFIX}"),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: vec![],
        }));
        let mut n = 0;
        loop {
            match self.recv().op {
                LdapOp::SearchResultEntry(_) => n += 1,
                LdapOp::SearchResultDone(r) => return (n, r.code),
                other => panic!("search: {other:?}"),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    EqSearch,
    SubSearch,
    Bind,
    /// Replace one attribute of a random user.
    Modify,
    /// Replace a telephone number and a reference (content and reference checks).
    ModifyChecked,
    /// Add a new inetOrgPerson.
    Add,
    /// 90 % equality searches, 10 % modifies.
    Mix,
    /// The equality search over LDAPS.
    EqSearchTls,
    /// Simple bind over LDAPS.
    BindTls,
}

impl Workload {
    fn key(self) -> &'static str {
        match self {
            Workload::EqSearch => "eq",
            Workload::SubSearch => "sub",
            Workload::Bind => "bind",
            Workload::Modify => "modify",
            Workload::ModifyChecked => "modify-checked",
            Workload::Add => "add",
            Workload::Mix => "mix",
            Workload::EqSearchTls => "eq-tls",
            Workload::BindTls => "bind-tls",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Workload::EqSearch => "equality search (uid=…)",
            Workload::SubSearch => "substring search (cn=*…*), size limit 50",
            Workload::Bind => "simple bind (argon2id)",
            Workload::Modify => "modify (replace description), durable",
            Workload::ModifyChecked => {
                "modify (replace telephoneNumber and seeAlso: checked value and reference), durable"
            }
            Workload::Add => "add inetOrgPerson, durable",
            Workload::Mix => "90 % equality search / 10 % modify",
            Workload::EqSearchTls => "equality search over LDAPS",
            Workload::BindTls => "simple bind over LDAPS (argon2id)",
        }
    }

    fn tls(self) -> bool {
        matches!(self, Workload::EqSearchTls | Workload::BindTls)
    }

    /// The same operation as a plain-LDAP workload.
    fn plain(self) -> Workload {
        match self {
            Workload::EqSearchTls => Workload::EqSearch,
            Workload::BindTls => Workload::Bind,
            w => w,
        }
    }
}

struct Outcome {
    ops: u64,
    errors: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
    p999: Duration,
    cpu: f64,
}

impl Outcome {
    fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.secs
    }

    fn cpu_ms_per_op(&self) -> f64 {
        self.cpu * 1e3 / self.ops.max(1) as f64
    }

    /// "p50 / p99 / p99.9" in milliseconds.
    fn latencies(&self) -> String {
        format!(
            "{:.2} / {:.2} / {:.2}",
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.p999.as_secs_f64() * 1e3
        )
    }
}

/// One workload at one connection count: this ccdir, slapd and the baseline ccdir.
struct Row {
    w: Workload,
    n: usize,
    c: Outcome,
    s: Option<Outcome>,
    b: Option<Outcome>,
}

/// This build is flagged against the baseline when its ops/s (for import and export: the
/// baseline's time ÷ its time) fall below this share of the baseline's: more than 5 % slower.
const SLOWER: f64 = 0.95;

/// A cheap deterministic generator per thread.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn run(target: &Target, admin_pw: &str, w: Workload, conns: usize, o: &Opts, pid: u32) -> Outcome {
    let w = w.plain();
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for t in 0..conns {
        let stop = stop.clone();
        let measuring = measuring.clone();
        let admin_pw = admin_pw.to_string();
        let entries = o.entries;
        let passwords = o.passwords.max(1);
        let as_user = o.as_user;
        let target = target.clone();
        handles.push(std::thread::spawn(move || {
            let mut c = Client::connect(&target);
            if w != Workload::Bind {
                if as_user && matches!(w, Workload::EqSearch | Workload::SubSearch) {
                    let dn = format!("uid=user0,ou=people,{SUFFIX}");
                    assert_eq!(c.bind(&dn, "pw0"), LdapResultCode::Success);
                } else {
                    assert_eq!(c.bind(ADMIN, &admin_pw), LdapResultCode::Success);
                }
            }
            let mut rng = Rng(0x9e3779b97f4a7c15 ^ ((t as u64 + 1) * 0x1000193));
            let mut added = 0u64;
            let mut lat = Vec::with_capacity(1 << 16);
            let (mut ops, mut errors) = (0u64, 0u64);
            let mut first_error: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let ok = match w {
                    Workload::EqSearch | Workload::EqSearchTls => {
                        let i = rng.next() % entries;
                        let (n, rc) =
                            c.search(LdapFilter::Equality("uid".into(), format!("user{i}")), 0);
                        let ok = n == 1 && rc == LdapResultCode::Success;
                        if !ok && first_error.is_none() {
                            first_error = Some(format!("(uid=user{i}): {n} entries, {rc:?}"));
                        }
                        ok
                    }
                    Workload::SubSearch => {
                        let k = rng.next() % 9000 + 1000;
                        let (n, rc) = c.search(
                            LdapFilter::Substring(
                                "cn".into(),
                                LdapSubstringFilter {
                                    initial: None,
                                    any: vec![k.to_string()],
                                    final_: None,
                                },
                            ),
                            50,
                        );
                        n <= 50
                            && (rc == LdapResultCode::Success
                                || rc == LdapResultCode::SizeLimitExceeded)
                    }
                    Workload::Modify => {
                        let i = rng.next() % entries;
                        c.modify(i, rng.next()) == LdapResultCode::Success
                    }
                    Workload::ModifyChecked => {
                        let i = rng.next() % entries;
                        let rc = c.modify_checked(i, rng.next(), entries);
                        if rc != LdapResultCode::Success && first_error.is_none() {
                            first_error = Some(format!("modify-checked user{i}: {rc:?}"));
                        }
                        rc == LdapResultCode::Success
                    }
                    Workload::Add => {
                        added += 1;
                        let uid = format!("new{conns}x{t}-{added}");
                        let attr = |a: &str, v: &str| LdapPartialAttribute {
                            atype: a.into(),
                            vals: vec![v.as_bytes().to_vec()],
                        };
                        let rc = c.write(LdapOp::AddRequest(LdapAddRequest {
                            dn: format!("uid={uid},ou=people,{SUFFIX}"),
                            attributes: vec![
                                LdapPartialAttribute {
                                    atype: "objectClass".into(),
                                    vals: vec![b"inetOrgPerson".to_vec()],
                                },
                                attr("uid", &uid),
                                attr("cn", &format!("New Person {uid}")),
                                attr("sn", "Person"),
                                attr("mail", &format!("{uid}@nic-bench.example")),
                            ],
                        }));
                        if rc != LdapResultCode::Success && first_error.is_none() {
                            first_error = Some(format!("add uid={uid}: {rc:?}"));
                        }
                        rc == LdapResultCode::Success
                    }
                    Workload::Mix => {
                        let i = rng.next() % entries;
                        if rng.next() % 10 == 0 {
                            c.modify(i, rng.next()) == LdapResultCode::Success
                        } else {
                            let (n, rc) =
                                c.search(LdapFilter::Equality("uid".into(), format!("user{i}")), 0);
                            n == 1 && rc == LdapResultCode::Success
                        }
                    }
                    Workload::Bind | Workload::BindTls => {
                        let i = rng.next() % passwords;
                        c.bind(
                            &format!("uid=user{i},ou=people,{SUFFIX}"),
                            &format!("pw{i}"),
                        ) == LdapResultCode::Success
                    }
                };
                if measuring.load(Ordering::Relaxed) {
                    lat.push(start.elapsed());
                    ops += 1;
                    if !ok {
                        errors += 1;
                    }
                }
            }
            if let Some(e) = &first_error {
                eprintln!("first error on connection {t}: {e}");
            }
            (ops, errors, lat)
        }));
    }
    std::thread::sleep(Duration::from_secs(1)); // warm-up
    let cpu0 = proc_cpu_secs(pid);
    let t0 = Instant::now();
    measuring.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(o.secs));
    measuring.store(false, Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = proc_cpu_secs(pid) - cpu0;
    stop.store(true, Ordering::Relaxed);
    let (mut ops, mut errors, mut lat) = (0, 0, Vec::new());
    for h in handles {
        let (o, e, l) = h.join().expect("worker");
        ops += o;
        errors += e;
        lat.extend(l);
    }
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Outcome {
        ops,
        errors,
        secs,
        p50: pct(0.50),
        p99: pct(0.99),
        p999: pct(0.999),
        cpu,
    }
}

/// User + system CPU seconds of a process (Linux /proc).
fn proc_cpu_secs(pid: u32) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let after = s.rsplit_once(") ").map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// Peak resident set size in MiB (Linux /proc).
fn proc_peak_rss_mib(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| k / 1024.0)
        .unwrap_or(0.0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

fn wait_port(addr: SocketAddr) {
    let t = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "server did not start on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Argon2id hashes of pw<i>, computed on all cores.
fn hashes(cfg: &Config, n: u64) -> Vec<String> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2) as u64;
    let mut hs: Vec<std::thread::JoinHandle<Vec<(u64, String)>>> = Vec::new();
    for t in 0..threads {
        let cfg = cfg.password.clone();
        hs.push(std::thread::spawn(move || {
            let h = ccdir::service::password::Hasher::new(&cfg).expect("hasher");
            (0..n)
                .filter(|i| i % threads == t)
                .map(|i| (i, h.hash(format!("pw{i}").as_bytes()).expect("hash")))
                .collect()
        }));
    }
    let mut all: Vec<(u64, String)> = hs
        .into_iter()
        .flat_map(|h| h.join().expect("hash thread"))
        .collect();
    all.sort();
    all.into_iter().map(|x| x.1).collect()
}

/// Wall seconds and peak RSS (MiB) of one command.
type Cost = (f64, f64);

/// Run a command under GNU time: (wall seconds, peak RSS MiB).
fn timed(cmd: &mut Command) -> Cost {
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed:\n{err}");
    let last = err
        .lines()
        .rev()
        .find(|l| l.starts_with("TIME "))
        .unwrap_or("TIME 0 0");
    let f: Vec<f64> = last
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    (
        f.first().copied().unwrap_or(0.0),
        f.get(1).copied().unwrap_or(0.0) / 1024.0,
    )
}

fn time_cmd(program: &Path) -> Command {
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "TIME %e %M"]).arg(program);
    c
}

/// The benchmark data as LDIF: the suffix, the admin (password "secret"), ou=people, the people.
fn write_ldif(dir: &Path, o: &Opts, hashes: &[String], admin_hash: &str) -> PathBuf {
    let ldif = dir.join("data.ldif");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&ldif).expect("ldif"));
    let base: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "objectClass",
            vec![
                b"top".to_vec(),
                b"dcObject".to_vec(),
                b"organization".to_vec(),
            ],
        ),
        ("dc", vec![b"cctld-ir".to_vec()]),
        ("o", vec![b"bench".to_vec()]),
    ];
    ccdir::core::ldif::write_entry(&mut f, SUFFIX, base.iter().map(|(a, v)| (*a, v.as_slice())))
        .expect("write");
    let admin: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "objectClass",
            vec![
                b"organizationalRole".to_vec(),
                b"simpleSecurityObject".to_vec(),
            ],
        ),
        ("cn", vec![b"admin".to_vec()]),
        ("userPassword", vec![admin_hash.as_bytes().to_vec()]),
    ];
    ccdir::core::ldif::write_entry(&mut f, ADMIN, admin.iter().map(|(a, v)| (*a, v.as_slice())))
        .expect("write");
    let ou: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("objectClass", vec![b"organizationalUnit".to_vec()]),
        ("ou", vec![b"people".to_vec()]),
    ];
    ccdir::core::ldif::write_entry(
        &mut f,
        &format!("ou=people,{SUFFIX}"),
        ou.iter().map(|(a, v)| (*a, v.as_slice())),
    )
    .expect("write");
    for i in 0..o.entries {
        let (dn, attrs) = people(i, SUFFIX, hashes.get(i as usize).map(|s| s.as_str()));
        ccdir::core::ldif::write_entry(
            &mut f,
            &dn,
            attrs.iter().map(|(a, v)| (a.as_str(), v.as_slice())),
        )
        .expect("write");
    }
    // Everyone under ou=people is a member: a reader under ccdir's default access policy.
    let groups: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("objectClass", vec![b"organizationalUnit".to_vec()]),
        ("ou", vec![b"groups".to_vec()]),
    ];
    ccdir::core::ldif::write_entry(
        &mut f,
        &format!("ou=groups,{SUFFIX}"),
        groups.iter().map(|(a, v)| (*a, v.as_slice())),
    )
    .expect("write");
    let members: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("objectClass", vec![b"groupOfNames".to_vec()]),
        ("cn", vec![b"members".to_vec()]),
        ("member", vec![format!("ou=people,{SUFFIX}").into_bytes()]),
    ];
    ccdir::core::ldif::write_entry(
        &mut f,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        members.iter().map(|(a, v)| (*a, v.as_slice())),
    )
    .expect("write");
    f.flush().expect("flush");
    ldif
}

/// The index set both servers use (slapd.conf in [`prepare_slapd`] says the same): equality on
/// objectClass, uid, cn, sn, givenName and mail, substrings on cn. ccdir's default set indexes
/// more (substrings of sn, givenName, mail and telephoneNumber too), which costs every add and
/// the import several times as many index updates; docs/benchmarks.md has a run with it.
const INDEX_SET: [&str; 4] = [
    "--set",
    "index.eq=[\"objectClass\",\"uid\",\"cn\",\"sn\",\"givenName\",\"mail\"]",
    "--set",
    "index.sub=[\"cn\"]",
];

/// The configuration of one ccdir under test: its data dir is `<dir>/<name>`.
fn ccdir_config(dir: &Path, name: &str) -> Config {
    let mut cfg = Config {
        data_dir: dir.join(name),
        load_sample: false,
        ..Default::default()
    };
    cfg.log.level = "warn".into();
    cfg
}

/// `ccdir import` (the binary `bin`) of the LDIF into the new data dir of `cfg`.
fn ccdir_import(bin: &Path, cfg: &Config, ldif: &Path) -> Cost {
    timed(
        time_cmd(bin)
            .args(["import", "-q", "--set", "load_sample=false"])
            .args(INDEX_SET)
            .arg("--data-dir")
            .arg(&cfg.data_dir)
            .arg(ldif),
    )
}

/// `ccdir export` (the binary `bin`) of the data dir of `cfg` into `out`.
fn ccdir_export(bin: &Path, cfg: &Config, out: &Path) -> Cost {
    timed(
        time_cmd(bin)
            .args(["export", "-o"])
            .arg(out)
            .args(INDEX_SET)
            .arg("--data-dir")
            .arg(&cfg.data_dir),
    )
}

/// The certificate both servers present (a CA and a server certificate for localhost, made with
/// ccdir's generator), and the client configuration that trusts it.
struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    client: Arc<rustls::ClientConfig>,
}

fn tls_files(dir: &Path) -> TlsFiles {
    use rustls_pki_types::pem::PemObject;
    let (ca, _ca_key, cert, key) = ccdir::app::tls::generate(&[]).expect("generate certificates");
    let files = TlsFiles {
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        client: {
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(c.expect("ca")).expect("add ca");
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            Arc::new(
                rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        },
    };
    std::fs::write(&files.cert, cert).expect("write cert");
    std::fs::write(&files.key, key).expect("write key");
    files
}

/// Plain and LDAPS addresses of a started server.
type Addrs = (SocketAddr, SocketAddr);

/// `bin serve` on `data_dir` with the benchmark's certificate, plain LDAP on `addr` and LDAPS on
/// `saddr`, warnings only, passwords accepted without TLS (as slapd does), its log in
/// `<dir>/<name>.log`. The caller adds its own settings and spawns it.
fn serve_command(
    bin: &Path,
    data_dir: &Path,
    tls: &TlsFiles,
    (addr, saddr): Addrs,
    dir: &Path,
    name: &str,
) -> Command {
    let mut c = Command::new(bin);
    c.arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--tls-cert")
        .arg(&tls.cert)
        .arg("--tls-key")
        .arg(&tls.key)
        .args([
            "--ldap-listen",
            &addr.to_string(),
            "--ldaps-listen",
            &saddr.to_string(),
            "--log-level",
            "warn",
            // Plain LDAP on both servers: slapd accepts passwords without TLS too.
            "--set",
            "password.require_tls=false",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log"));
    c
}

/// Two free loopback addresses: plain LDAP and LDAPS.
fn free_addrs() -> Addrs {
    let a = |p: u16| -> SocketAddr { format!("127.0.0.1:{p}").parse().expect("addr") };
    (a(free_port()), a(free_port()))
}

/// Start `bin serve` on the data dir of `cfg` with the benchmark's index set, logging to
/// `<dir>/<name>.log`.
fn start_ccdir(bin: &Path, name: &str, cfg: &Config, dir: &Path, tls: &TlsFiles) -> (Child, Addrs) {
    let addrs = free_addrs();
    let child = serve_command(bin, &cfg.data_dir, tls, addrs, dir, name)
        .args(INDEX_SET)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    wait_port(addrs.0);
    wait_port(addrs.1);
    (child, addrs)
}

/// slapd.conf for back-mdb with the same indexes (None when slapd is not installed).
fn slapd_conf(dir: &Path, tls: &TlsFiles) -> Option<PathBuf> {
    if !Path::new("/usr/sbin/slapd").exists() || !Path::new("/usr/lib/ldap/argon2.so").exists() {
        eprintln!("slapd (Debian slapd with its argon2 module) not installed: ccdir figures only");
        return None;
    }
    let db = dir.join("slapd-db");
    std::fs::create_dir_all(&db).ok()?;
    let conf = dir.join("slapd.conf");
    std::fs::write(
        &conf,
        format!(
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\ninclude /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload argon2\npidfile {d}/slapd.pid\n\
             TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
             access to * by * read\n\
             database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{ADMIN}\"\nrootpw secret\ndirectory {db}\nmaxsize 8589934592\n\
             index objectClass,uid,sn,givenName,mail eq\nindex cn eq,sub\n",
            d = dir.display(),
            db = db.display(),
            cert = tls.cert.display(),
            key = tls.key.display(),
        ),
    )
    .ok()?;
    Some(conf)
}

/// `slapadd -q` of the LDIF.
fn slapd_import(conf: &Path, ldif: &Path) -> Cost {
    timed(
        Command::new("/usr/bin/time")
            .args(["-f", "TIME %e %M", "/usr/sbin/slapadd", "-q", "-f"])
            .arg(conf)
            .arg("-l")
            .arg(ldif),
    )
}

/// `slapcat` into `<dir>/slapcat.ldif`.
fn slapd_export(conf: &Path, dir: &Path) -> Cost {
    timed(
        Command::new("/usr/bin/time")
            .args(["-f", "TIME %e %M", "/usr/sbin/slapcat", "-f"])
            .arg(conf)
            .arg("-l")
            .arg(dir.join("slapcat.ldif")),
    )
}

fn start_slapd(conf: &Path) -> Option<(Child, Addrs)> {
    let port = free_port();
    let sport = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
    let saddr: SocketAddr = format!("127.0.0.1:{sport}").parse().ok()?;
    let urls = format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{sport}/");
    let child = Command::new("/usr/sbin/slapd")
        .args(["-d", "0", "-h", &urls, "-f"])
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    wait_port(addr);
    wait_port(saddr);
    Some((child, (addr, saddr)))
}

fn stop(mut c: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = c.kill();
    let _ = c.wait();
}

fn main() {
    let o = opts();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let cfg = Config::default();
    eprintln!(
        "hashing {} passwords (argon2id m={} KiB t={} p={}) ...",
        o.passwords,
        cfg.password.argon2_memory_kib,
        cfg.password.argon2_iterations,
        cfg.password.argon2_parallelism
    );
    let hs = hashes(&cfg, o.passwords.min(o.entries));
    let admin_hash = ccdir::service::password::Hasher::new(&cfg.password)
        .expect("hasher")
        .hash(b"secret")
        .expect("hash");
    let admin_pw = "secret".to_string();
    let ldif = write_ldif(dir, &o, &hs, &admin_hash);
    let tls = tls_files(dir);
    let this_bin = Path::new(env!("CARGO_BIN_EXE_ccdir"));
    if o.only.as_deref() == Some("portal") {
        portal::main(&o, dir, &ldif, &tls, this_bin, &admin_pw);
        return;
    }
    if o.only.as_deref() == Some("repl") {
        repl::main(&o, dir, &ldif, &tls, this_bin);
        return;
    }
    let ccfg = ccdir_config(dir, "ccdir");
    let bcfg = ccdir_config(dir, "baseline");
    let (c_import, c_export, slapd, base_bulk);
    match &o.baseline {
        None => {
            eprintln!("ccdir import / export of {} entries ...", o.entries);
            c_import = ccdir_import(this_bin, &ccfg, &ldif);
            c_export = ccdir_export(this_bin, &ccfg, &dir.join("ccdir-export.ldif"));
            slapd = if o.slapd {
                eprintln!("slapadd -q / slapcat of the same entries ...");
                slapd_conf(dir, &tls).map(|conf| {
                    let import = slapd_import(&conf, &ldif);
                    let export = slapd_export(&conf, dir);
                    (conf, import, export)
                })
            } else {
                None
            };
            base_bulk = None;
        }
        Some(bbin) => {
            // Each bulk operation on the three, one right after the other; before each, the
            // dirty pages the step before left (the LDIF, slapadd's unsynced database) are
            // written out, so that no step pays for its predecessor's writeback.
            let settle = || {
                let _ = Command::new("sync").status();
            };
            let conf = if o.slapd { slapd_conf(dir, &tls) } else { None };
            let and_slapd = |tool: &str| {
                if conf.is_some() {
                    format!(", {tool}")
                } else {
                    String::new()
                }
            };
            eprintln!(
                "import of {} entries: ccdir, baseline{} ...",
                o.entries,
                and_slapd("slapadd -q")
            );
            settle();
            c_import = ccdir_import(this_bin, &ccfg, &ldif);
            settle();
            let b_import = ccdir_import(bbin, &bcfg, &ldif);
            settle();
            let s_import = conf.as_ref().map(|c| slapd_import(c, &ldif));
            eprintln!("export: ccdir, baseline{} ...", and_slapd("slapcat"));
            settle();
            c_export = ccdir_export(this_bin, &ccfg, &dir.join("ccdir-export.ldif"));
            settle();
            let b_export = ccdir_export(bbin, &bcfg, &dir.join("baseline-export.ldif"));
            settle();
            let s_export = conf.as_ref().map(|c| slapd_export(c, dir));
            slapd = conf
                .zip(s_import)
                .zip(s_export)
                .map(|((c, i), e)| (c, i, e));
            base_bulk = Some((b_import, b_export));
        }
    }

    let workloads: Vec<Workload> = [
        Workload::EqSearch,
        Workload::SubSearch,
        Workload::Bind,
        Workload::Modify,
        Workload::ModifyChecked,
        Workload::Add,
        Workload::Mix,
        Workload::EqSearchTls,
        Workload::BindTls,
    ]
    .into_iter()
    .filter(|w| o.only.as_deref().is_none_or(|k| w.key() == k))
    .filter(|_| !o.bulk_only)
    .collect();
    let mut rows: Vec<String> = Vec::new();
    let mut results: Vec<Row> = Vec::new();
    let target = |(plain, ldaps): Addrs, w: Workload| Target {
        addr: if w.tls() { ldaps } else { plain },
        tls: w.tls().then(|| tls.client.clone()),
    };
    let mut ccdir_out = Vec::new();
    let mut slapd_out = Vec::new();
    let mut base_out = Vec::new();
    let mut slapd_rss = 0.0;
    let mut base_rss = 0.0;
    let ccdir_rss;
    match &o.baseline {
        None => {
            // ccdir's workloads, then slapd's.
            let (cc, caddrs) = start_ccdir(this_bin, "ccdir", &ccfg, dir, &tls);
            let cpid = cc.id();
            for &w in &workloads {
                for &n in &o.conns {
                    eprintln!("ccdir: {} x{n}", w.name());
                    ccdir_out.push((w, n, run(&target(caddrs, w), &admin_pw, w, n, &o, cpid)));
                }
            }
            ccdir_rss = proc_peak_rss_mib(cpid);
            stop(cc);
            if let Some((conf, _, _)) = &slapd {
                if let Some((sc, saddrs)) = start_slapd(conf) {
                    let spid = sc.id();
                    for &w in &workloads {
                        for &n in &o.conns {
                            eprintln!("slapd: {} x{n}", w.name());
                            slapd_out.push(run(&target(saddrs, w), "secret", w, n, &o, spid));
                        }
                    }
                    slapd_rss = proc_peak_rss_mib(spid);
                    stop(sc);
                }
            }
        }
        Some(bbin) => {
            // All three servers up; each workload and connection count on this ccdir, the
            // baseline and slapd in turn, so that the machine's noise hits the three alike.
            let (cc, caddrs) = start_ccdir(this_bin, "ccdir", &ccfg, dir, &tls);
            let (bc, baddrs) = start_ccdir(bbin, "baseline", &bcfg, dir, &tls);
            let sl = slapd.as_ref().and_then(|(conf, _, _)| start_slapd(conf));
            let (cpid, bpid) = (cc.id(), bc.id());
            for &w in &workloads {
                for &n in &o.conns {
                    eprintln!("ccdir: {} x{n}", w.name());
                    ccdir_out.push((w, n, run(&target(caddrs, w), &admin_pw, w, n, &o, cpid)));
                    eprintln!("baseline: {} x{n}", w.name());
                    base_out.push(run(&target(baddrs, w), &admin_pw, w, n, &o, bpid));
                    if let Some((sc, saddrs)) = &sl {
                        eprintln!("slapd: {} x{n}", w.name());
                        slapd_out.push(run(&target(*saddrs, w), "secret", w, n, &o, sc.id()));
                    }
                }
            }
            ccdir_rss = proc_peak_rss_mib(cpid);
            base_rss = proc_peak_rss_mib(bpid);
            stop(cc);
            stop(bc);
            if let Some((sc, _)) = sl {
                slapd_rss = proc_peak_rss_mib(sc.id());
                stop(sc);
            }
        }
    }
    let mut slapd_iter = slapd_out.into_iter();
    let mut base_iter = base_out.into_iter();
    for (w, n, c) in ccdir_out {
        results.push(Row {
            w,
            n,
            c,
            s: slapd_iter.next(),
            b: base_iter.next(),
        });
    }

    rows.push("| workload | conns | ccdir ops/s | slapd ops/s | ratio | ccdir p50 / p99 / p99.9 ms | slapd p50 / p99 / p99.9 ms | CPU ms/op ccdir / slapd | errors |".into());
    rows.push("|---|---|---|---|---|---|---|---|---|".into());
    for Row { w, n, c, s, .. } in &results {
        let cr = c.ops_per_sec();
        let (sr, ratio, slat, scpu, serr) = match s {
            Some(s) => {
                let sr = s.ops_per_sec();
                (
                    format!("{sr:.0}"),
                    format!("{:.2}", cr / sr.max(1e-9)),
                    s.latencies(),
                    format!("{:.3}", s.cpu_ms_per_op()),
                    s.errors,
                )
            }
            None => ("–".into(), "–".into(), "–".into(), "–".into(), 0),
        };
        rows.push(format!(
            "| {} | {n} | {cr:.0} | {sr} | {ratio} | {} | {slat} | {:.3} / {scpu} | {} / {serr} |",
            w.name(),
            c.latencies(),
            c.cpu_ms_per_op(),
            c.errors
        ));
    }
    let pair = |c: Cost, s: Option<Cost>| match s {
        Some(s) => format!(
            "{:.1} s / {:.0} MiB | {:.1} s / {:.0} MiB | {:.2}",
            c.0,
            c.1,
            s.0,
            s.1,
            s.0 / c.0.max(1e-3)
        ),
        None => format!("{:.1} s / {:.0} MiB | – | –", c.0, c.1),
    };
    rows.push(String::new());
    rows.push("| bulk operation | ccdir time / peak RSS | slapd tool time / peak RSS | ratio (slapd time ÷ ccdir time) |".into());
    rows.push("|---|---|---|---|".into());
    rows.push(format!(
        "| import {} entries (`ccdir import` vs `slapadd -q`) | {} |",
        o.entries,
        pair(c_import, slapd.as_ref().map(|s| s.1))
    ));
    rows.push(format!(
        "| export (`ccdir export` vs `slapcat`) | {} |",
        pair(c_export, slapd.as_ref().map(|s| s.2))
    ));
    rows.push(String::new());
    rows.push(if o.bulk_only {
        String::new()
    } else {
        format!(
            "Server peak RSS after the workloads: ccdir {ccdir_rss:.0} MiB{}{}.",
            if o.baseline.is_some() {
                format!(", baseline {base_rss:.0} MiB")
            } else {
                String::new()
            },
            if slapd_rss > 0.0 {
                format!(", slapd {slapd_rss:.0} MiB")
            } else {
                String::new()
            }
        )
    });
    let baseline_label = o.baseline.as_ref().map(|b| {
        o.baseline_label
            .clone()
            .unwrap_or_else(|| b.display().to_string())
    });
    if let (Some((b_import, b_export)), Some(label)) = (base_bulk, &baseline_label) {
        rows.extend(baseline_report(
            label,
            &results,
            [
                ("import", c_import, b_import),
                ("export", c_export, b_export),
            ],
            o.bulk_only,
        ));
    }
    let machine = machine();
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        now.month() as u8,
        now.day()
    );
    let slapd_version = slapd_version();
    let header = format!(
        "{date}, {machine}; ccdir {} (release build), {}{}; {} entries, {} passwords, {} s per \
         workload after a 1 s warm-up, searches bound as {}.",
        env!("CARGO_PKG_VERSION"),
        slapd_version.as_deref().unwrap_or("slapd not run"),
        baseline_label
            .as_ref()
            .map(|l| format!(
                ", baseline ccdir {l} (each step on this build, the baseline and slapd in turn)"
            ))
            .unwrap_or_default(),
        o.entries,
        o.passwords,
        o.secs,
        if o.as_user {
            "a member (uid=user0)"
        } else {
            "the directory manager"
        }
    );
    let table = format!("{header}\n\n{}", rows.join("\n"));
    println!("{table}");
    if let Some(out) = &o.out {
        std::fs::write(out, format!("{table}\n")).expect("write --out");
    }
    if let Some(docs) = &o.docs {
        let text = std::fs::read_to_string(docs).expect("read --docs");
        let (start, end) = ("<!-- latest-run:start -->", "<!-- latest-run:end -->");
        match (text.find(start), text.find(end)) {
            (Some(a), Some(b)) if a < b => {
                let new = format!("{}{start}\n{table}\n{}", &text[..a], &text[b..]);
                std::fs::write(docs, new).expect("write --docs");
            }
            _ => eprintln!("{}: no latest-run markers; not updated", docs.display()),
        }
    }
    if let Some(path) = &o.json {
        let outcome = |c: &Outcome| {
            format!(
                "{{\"ops\": {}, \"secs\": {:.3}, \"ops_per_sec\": {:.1}, \"p50_ms\": {:.3}, \
                 \"p99_ms\": {:.3}, \"p999_ms\": {:.3}, \"cpu_ms_per_op\": {:.4}, \"errors\": {}}}",
                c.ops,
                c.secs,
                c.ops_per_sec(),
                c.p50.as_secs_f64() * 1e3,
                c.p99.as_secs_f64() * 1e3,
                c.p999.as_secs_f64() * 1e3,
                c.cpu_ms_per_op(),
                c.errors
            )
        };
        let mut runs = Vec::new();
        for Row { w, n, c, s: sl, b } in &results {
            let ratio = sl
                .as_ref()
                .map(|s| format!("{:.3}", c.ops_per_sec() / s.ops_per_sec().max(1e-9)))
                .unwrap_or_else(|| "null".into());
            // Only with --baseline: its figures and this build's ratios to them.
            let base = b
                .as_ref()
                .map(|b| {
                    let ops = c.ops_per_sec() / b.ops_per_sec().max(1e-9);
                    format!(
                        ", \"baseline\": {}, \"vs_baseline\": {{\"ops_ratio\": {ops:.3}, \
                         \"cpu_ratio\": {:.3}, \"slower_by_more_than_5pct\": {}}}",
                        outcome(b),
                        c.cpu_ms_per_op() / b.cpu_ms_per_op().max(1e-9),
                        ops < SLOWER
                    )
                })
                .unwrap_or_default();
            runs.push(format!(
                "    {{\"workload\": \"{}\", \"conns\": {n}, \"ccdir\": {}, \"slapd\": {}, \"ratio\": {ratio}{base}}}",
                w.key(),
                outcome(c),
                sl.as_ref().map(outcome).unwrap_or_else(|| "null".into())
            ));
        }
        let cost = |c: Option<Cost>| match c {
            Some((t, m)) => format!("{{\"secs\": {t:.2}, \"peak_rss_mib\": {m:.0}}}"),
            None => "null".into(),
        };
        // Only with --baseline: the baseline's import, export and RSS, and its label.
        let base_cost = |this: Cost, b: Option<Cost>| match b {
            Some(b) => {
                let time = b.0 / this.0.max(1e-3);
                format!(
                    ", \"baseline\": {}, \"vs_baseline\": {{\"time_ratio\": {time:.3}, \
                     \"slower_by_more_than_5pct\": {}}}",
                    cost(Some(b)),
                    time < SLOWER
                )
            }
            None => String::new(),
        };
        let json = format!(
            "{{\n  \"date\": \"{date}\",\n  \"machine\": \"{}\",\n  \"ccdir_version\": \"{}\",\n  \
             {}\"slapd_version\": {},\n  \"entries\": {},\n  \"passwords\": {},\n  \"secs\": {},\n  \
             \"as_user\": {},\n  \"runs\": [\n{}\n  ],\n  \"import\": {{\"ccdir\": {}, \"slapadd\": {}{}}},\n  \
             \"export\": {{\"ccdir\": {}, \"slapcat\": {}{}}},\n  \
             \"server_peak_rss_mib\": {{\"ccdir\": {ccdir_rss:.0}, \"slapd\": {slapd_rss:.0}{}}}\n}}\n",
            machine.replace('"', "'"),
            env!("CARGO_PKG_VERSION"),
            baseline_label
                .as_ref()
                .map(|l| format!("\"baseline\": \"{}\",\n  ", json_escape(l)))
                .unwrap_or_default(),
            slapd_version
                .map(|v| format!("\"{}\"", v.replace('"', "'")))
                .unwrap_or_else(|| "null".into()),
            o.entries,
            o.passwords,
            o.secs,
            o.as_user,
            runs.join(",\n"),
            cost(Some(c_import)),
            cost(slapd.as_ref().map(|s| s.1)),
            base_cost(c_import, base_bulk.map(|b| b.0)),
            cost(Some(c_export)),
            cost(slapd.as_ref().map(|s| s.2)),
            base_cost(c_export, base_bulk.map(|b| b.1)),
            if o.baseline.is_some() {
                format!(", \"baseline\": {base_rss:.0}")
            } else {
                String::new()
            },
        );
        std::fs::write(path, json).expect("write --json");
    }
}

/// A string as the inside of a JSON string literal.
fn json_escape(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The "this build against the baseline" section: per workload and connection count, ops/s and
/// CPU per operation of the two builds and their ratios; the import and export times; what is
/// more than 5 % slower is flagged.
fn baseline_report(
    label: &str,
    results: &[Row],
    bulk: [(&str, Cost, Cost); 2],
    bulk_only: bool,
) -> Vec<String> {
    let mut rows = vec![String::new()];
    let mut slower = Vec::new();
    rows.push(format!(
        "**This build against the baseline** (ccdir {label}, measured in the same run): ops/s \
         ratio = this ÷ baseline (below 1: this build is slower), CPU ratio = this ÷ baseline CPU \
         per operation (above 1: this build uses more); rows where this build is more than \
         {:.0} % slower are flagged.",
        (1.0 - SLOWER) * 100.0
    ));
    if !bulk_only {
        rows.push(String::new());
        rows.push("| workload | conns | this ops/s | baseline ops/s | ops/s ratio | CPU ms/op this / baseline | CPU ratio | this p50 / p99 / p99.9 ms | baseline p50 / p99 / p99.9 ms | errors | flag |".into());
        rows.push("|---|---|---|---|---|---|---|---|---|---|---|".into());
        for Row { w, n, c, b, .. } in results {
            let Some(b) = b else { continue };
            let ops = c.ops_per_sec() / b.ops_per_sec().max(1e-9);
            let cpu = c.cpu_ms_per_op() / b.cpu_ms_per_op().max(1e-9);
            let mut flag = Vec::new();
            if ops < SLOWER {
                flag.push(format!("**{:.0} % slower**", (1.0 - ops) * 100.0));
                slower.push(format!("{} x{n} ({ops:.2})", w.name()));
            }
            if cpu > 1.0 / SLOWER {
                flag.push(format!("CPU +{:.0} %", (cpu - 1.0) * 100.0));
            }
            rows.push(format!(
                "| {} | {n} | {:.0} | {:.0} | {ops:.2} | {:.3} / {:.3} | {cpu:.2} | {} | {} | {} / {} | {} |",
                w.name(),
                c.ops_per_sec(),
                b.ops_per_sec(),
                c.cpu_ms_per_op(),
                b.cpu_ms_per_op(),
                c.latencies(),
                b.latencies(),
                c.errors,
                b.errors,
                flag.join(", ")
            ));
        }
    }
    rows.push(String::new());
    rows.push("| bulk operation | this time / peak RSS | baseline time / peak RSS | time ratio (baseline ÷ this) | flag |".into());
    rows.push("|---|---|---|---|---|".into());
    for (name, c, b) in bulk {
        let ratio = b.0 / c.0.max(1e-3);
        let flag = if ratio < SLOWER {
            slower.push(format!("{name} ({ratio:.2})"));
            format!("**{:.0} % slower**", (1.0 - ratio) * 100.0)
        } else {
            String::new()
        };
        rows.push(format!(
            "| `ccdir {name}` | {:.2} s / {:.0} MiB | {:.2} s / {:.0} MiB | {ratio:.2} | {flag} |",
            c.0, c.1, b.0, b.1
        ));
    }
    rows.push(String::new());
    rows.push(if slower.is_empty() {
        format!(
            "Nothing more than {:.0} % slower than the baseline.",
            (1.0 - SLOWER) * 100.0
        )
    } else {
        format!(
            "More than {:.0} % slower than the baseline: {}.",
            (1.0 - SLOWER) * 100.0,
            slower.join("; ")
        )
    });
    rows
}

/// CPU model, core count and memory of this machine.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|x| x.1.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let gib = mem
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| k / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default();
    format!("{cores} vCPU ({model}), {gib:.0} GiB, {os}")
}

/// slapd's version line, e.g. "slapd 2.5.13+dfsg-5".
fn slapd_version() -> Option<String> {
    let out = Command::new("/usr/sbin/slapd").arg("-VV").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    let line = text.lines().find(|l| l.contains("slapd"))?;
    let v = line.split("slapd ").nth(1)?.split_whitespace().next()?;
    Some(format!("slapd {v} (back-mdb, Debian defaults)"))
}
