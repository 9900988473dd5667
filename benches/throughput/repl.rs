//! Replication benchmark (issue 16): `--only repl`. ccdir → ccdir next to slapd → slapd (and the
//! two mixed pairs), in one run, on the harness's generated data, durable on both sides.
//!
//! 1. Full refresh of the whole directory to a fresh consumer: the time from starting the
//!    consumer until it holds as many entries as the provider and its contextCSN equals the
//!    provider's (polled every 100 ms on the consumer's suffix), and the consumer's peak RSS.
//! 2. Persist lag: writers modify distinct entries on the provider (replace `description` with a
//!    value naming the modify's sequence number); an observer holds a refreshAndPersist sync
//!    search on the consumer whose filter matches only the new values, so each entry arrives on
//!    it once the consumer has applied (committed) the change. Lag = arrival on the observer −
//!    the writer's receipt of the provider's modify response. Full speed (closed loop per
//!    writer) and paced (a fixed rate spread over the writers).
//! 3. The provider's cost of 4 persist consumers: the modify workload (8 connections) with 0 and
//!    with 4 refreshAndPersist sync searches open (started from the provider's contextCSN, so
//!    the refresh is empty; the searches read and discard what they are sent).
//!
//! slapd: back-mdb with its defaults (durable: every commit is fsynced; `--repl-slapd-nosync`
//! adds a pair with `dbnosync` as a reference), syncprov on provider and consumer (the consumer's
//! serves the observer), `syncrepl type=refreshAndPersist`. ccdir: its defaults (every write
//! durable before it is acknowledged), `[replication.consumer]` as docs/operations/replication.md.

use super::*;
use ldap3::controls::RawControl;
use ldap3::{LdapConn, Scope, SearchEntry};
use std::collections::BTreeSet;
use std::sync::Mutex;

const OID_SYNC_REQUEST: &str = "1.3.6.1.4.1.4203.1.9.1.1";

/// The children of this benchmark; each is killed when dropped (also when the run panics).
struct Procs(Vec<(String, Child)>);

impl Procs {
    fn add(&mut self, name: &str, c: Child) -> u32 {
        let pid = c.id();
        self.0.push((name.to_string(), c));
        pid
    }

    /// Stop one (SIGTERM, then SIGKILL after 20 s).
    fn stop(&mut self, name: &str) {
        if let Some(i) = self.0.iter().position(|(n, _)| n == name) {
            let (_, c) = self.0.remove(i);
            stop(c);
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ccdir,
    Slapd,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ccdir => "ccdir",
            Kind::Slapd => "slapd",
        }
    }
}

/// A running server of the benchmark.
#[derive(Clone)]
struct Server {
    kind: Kind,
    name: String,
    addr: SocketAddr,
    pid: u32,
}

/// slapd.conf of a provider (`provider` None) or a consumer of `provider`.
fn slapd_repl_conf(dir: &Path, name: &str, provider: Option<SocketAddr>, nosync: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let db = dir.join(format!("{name}-db"));
    std::fs::create_dir_all(&db).expect("slapd db dir");
    let conf = dir.join(format!("{name}.conf"));
    let syncrepl = provider
        .map(|p| {
            format!(
                "syncrepl rid=001 provider=ldap://{p}/ type=refreshAndPersist retry=\"1 +\" \
                 searchbase=\"{SUFFIX}\" scope=sub attrs=\"*,+\" bindmethod=simple \
                 binddn=\"{ADMIN}\" credentials=secret schemachecking=off\n"
            )
        })
        .unwrap_or_default();
    std::fs::write(
        &conf,
        format!(
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\ninclude {pgp}\ninclude {cctld}\n\
             modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload argon2\nmoduleload syncprov\n\
             pidfile {d}/{name}.pid\naccess to * by * read\nsizelimit unlimited\n\
             database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{ADMIN}\"\nrootpw secret\n\
             directory {db}\nmaxsize 8589934592\n{nosync}\
             index objectClass,uid,sn,givenName,mail,entryUUID,entryCSN eq\nindex cn eq,sub\n\
             {syncrepl}overlay syncprov\n",
            pgp = root.join("schema/openpgp-keyserver.schema").display(),
            cctld = root.join("schema/cctld-ir.schema").display(),
            d = dir.display(),
            db = db.display(),
            nosync = if nosync { "dbnosync\n" } else { "" },
        ),
    )
    .expect("slapd.conf");
    conf
}

fn spawn_slapd(procs: &mut Procs, dir: &Path, name: &str, conf: &Path) -> Server {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let child = Command::new("/usr/sbin/slapd")
        .args(["-d", "0", "-h", &format!("ldap://{addr}/"), "-f"])
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log"))
        .spawn()
        .expect("start slapd");
    let pid = procs.add(name, child);
    wait_port(addr);
    Server {
        kind: Kind::Slapd,
        name: name.into(),
        addr,
        pid,
    }
}

/// `bin serve` on `data` with the configuration file `conf` and the benchmark's index set.
fn spawn_ccdir(
    procs: &mut Procs,
    bin: &Path,
    dir: &Path,
    name: &str,
    conf: &Path,
    tls: &TlsFiles,
) -> Server {
    let addrs = free_addrs();
    let addr = addrs.0;
    let child = serve_command(bin, &dir.join(name), tls, addrs, dir, name)
        .arg("-c")
        .arg(conf)
        .args(INDEX_SET)
        .spawn()
        .expect("start ccdir");
    let pid = procs.add(name, child);
    wait_port(addr);
    Server {
        kind: Kind::Ccdir,
        name: name.into(),
        addr,
        pid,
    }
}

/// A ccdir consumer's configuration file, following `provider` as the admin.
fn ccdir_consumer_conf(dir: &Path, name: &str, provider: SocketAddr) -> PathBuf {
    let pw = dir.join("admin-password");
    std::fs::write(&pw, "secret\n").expect("password file");
    let conf = dir.join(format!("{name}.toml"));
    std::fs::write(
        &conf,
        format!(
            "load_sample = false\n\n[replication]\nserver_id = 2\n\n[replication.consumer]\n\
             provider = \"ldap://{provider}\"\nstarttls = false\nbind_dn = \"{ADMIN}\"\n\
             password_file = \"{}\"\ntype = \"refreshAndPersist\"\nretry_secs = [1]\n\
             timeout_secs = 60\n",
            pw.display()
        ),
    )
    .expect("consumer config");
    conf
}

/// The admin, bound, on `addr` (None while it cannot be had).
fn admin(addr: SocketAddr) -> Option<LdapConn> {
    let mut c = LdapConn::new(&format!("ldap://{addr}")).ok()?;
    c.simple_bind(ADMIN, "secret").ok()?.success().ok()?;
    Some(c)
}

/// The suffix's contextCSN values.
fn context_csn(c: &mut LdapConn) -> Option<BTreeSet<String>> {
    let (rs, _) = c
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["contextCSN"])
        .ok()?
        .success()
        .ok()?;
    let e = SearchEntry::construct(rs.into_iter().next()?);
    let v = e
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("contextCSN"))
        .map(|(_, v)| v.iter().cloned().collect::<BTreeSet<String>>())?;
    (!v.is_empty()).then_some(v)
}

/// Entries in the subtree of the suffix (their DNs only).
fn count(c: &mut LdapConn) -> Option<usize> {
    let mut s = c
        .streaming_search(SUFFIX, Scope::Subtree, "(objectClass=*)", vec!["1.1"])
        .ok()?;
    let mut n = 0;
    while let Ok(Some(re)) = s.next() {
        if !re.is_intermediate() && !re.is_ref() {
            n += 1;
        }
    }
    s.result().success().ok()?;
    Some(n)
}

struct Refresh {
    secs: f64,
    rss_mib: f64,
    entries: usize,
}

/// Start a fresh consumer (`start`) of `provider` and time its full refresh.
fn full_refresh(
    procs: &mut Procs,
    provider: &Server,
    bound: Duration,
    start: impl FnOnce(&mut Procs) -> Server,
) -> (Server, Refresh) {
    let mut p = admin(provider.addr).expect("provider admin");
    let want_csn = context_csn(&mut p).expect("provider contextCSN");
    let want = count(&mut p).expect("provider entry count");
    let t0 = Instant::now();
    let consumer = start(procs);
    eprintln!(
        "  {} → {}: {want} entries, contextCSN {want_csn:?}",
        provider.name, consumer.name
    );
    let mut conn: Option<LdapConn> = None;
    loop {
        assert!(
            t0.elapsed() < bound,
            "{} did not finish its refresh from {} within {bound:?}",
            consumer.name,
            provider.name
        );
        std::thread::sleep(Duration::from_millis(100));
        if conn.is_none() {
            conn = admin(consumer.addr);
        }
        let Some(c) = conn.as_mut() else { continue };
        match context_csn(c) {
            // The consumer also keeps its own first-start CSN (its server id): every CSN of the
            // provider must be among its values.
            Some(csn) if want_csn.is_subset(&csn) => {
                let secs = t0.elapsed().as_secs_f64();
                let n = count(c).unwrap_or(0);
                if n == want {
                    return (
                        consumer.clone(),
                        Refresh {
                            secs,
                            rss_mib: proc_peak_rss_mib(consumer.pid),
                            entries: n,
                        },
                    );
                }
                eprintln!("  contextCSN equal, {n} of {want} entries: waiting");
            }
            Some(_) => {}
            // The session may have been dropped (bind as the admin before the admin's entry
            // arrived): connect again.
            None => conn = None,
        }
    }
}

/// BER of the Sync Request control's value: refreshAndPersist, with the cookie if any.
fn sync_request_value(cookie: Option<&[u8]>) -> Vec<u8> {
    fn len(n: usize, out: &mut Vec<u8>) {
        if n < 128 {
            out.push(n as u8);
        } else {
            let b = (n as u32).to_be_bytes();
            let skip = b.iter().take_while(|x| **x == 0).count();
            out.push(0x80 | (4 - skip) as u8);
            out.extend_from_slice(&b[skip..]);
        }
    }
    let mut inner = vec![0x0a, 0x01, 0x03];
    if let Some(c) = cookie {
        inner.push(0x04);
        len(c.len(), &mut inner);
        inner.extend_from_slice(c);
    }
    let mut out = vec![0x30];
    len(inner.len(), &mut out);
    out.extend(inner);
    out
}

struct Lag {
    /// Lags in microseconds (arrival − acknowledgement; negative: seen before the ack was read).
    lags: Vec<i64>,
    missing: usize,
    /// Modifies per second the writers achieved.
    rate: f64,
    /// From the first modify sent until the last arrival.
    span: f64,
    /// CPU milliseconds per modify of the provider and of the consumer (which also serves the
    /// observer's persist search), over the run.
    cpu: (f64, f64),
}

impl Lag {
    fn pct(&self, p: f64) -> f64 {
        let i = ((self.lags.len() as f64 * p) as usize).min(self.lags.len().saturating_sub(1));
        self.lags.get(i).copied().unwrap_or(0) as f64 / 1e3
    }
}

/// `mods` modifies by `writers` writers on `provider` (at `rate` per second overall, or as fast
/// as they go), observed on `consumer` through a persist sync search.
#[allow(clippy::too_many_arguments)]
fn persist_lag(
    provider: &Server,
    consumer: &Server,
    run: u32,
    mods: u64,
    writers: usize,
    rate: Option<f64>,
    first: u64,
    entries: u64,
) -> Lag {
    let arrived: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; mods as usize]));
    let ready = Arc::new(AtomicBool::new(false));
    let prefix = format!("lag-r{run}-");
    {
        let (arrived, ready, prefix, addr) = (
            arrived.clone(),
            ready.clone(),
            prefix.clone(),
            consumer.addr,
        );
        // Detached: it ends when the consumer is stopped.
        std::thread::spawn(move || {
            let mut c = admin(addr).expect("observer bind");
            let ctrl = RawControl {
                ctype: OID_SYNC_REQUEST.into(),
                crit: true,
                val: Some(sync_request_value(None)),
            };
            let filter = format!("(description={prefix}*)");
            let mut s = c
                .with_controls(ctrl)
                .streaming_search(
                    &format!("ou=people,{SUFFIX}"),
                    Scope::Subtree,
                    &filter,
                    vec!["description"],
                )
                .expect("observer sync search");
            while let Ok(Some(re)) = s.next() {
                let now = Instant::now();
                if re.is_intermediate() {
                    ready.store(true, Ordering::Relaxed);
                    continue;
                }
                let e = SearchEntry::construct(re);
                for v in e.attrs.get("description").into_iter().flatten() {
                    if let Some(seq) = v
                        .strip_prefix(&prefix)
                        .and_then(|x| x.parse::<usize>().ok())
                    {
                        if let Some(slot) = arrived.lock().expect("lock").get_mut(seq) {
                            slot.get_or_insert(now);
                        }
                    }
                }
            }
        });
    }
    let t = Instant::now();
    while !ready.load(Ordering::Relaxed) {
        if t.elapsed() > Duration::from_secs(120) {
            eprintln!("  the observer's refresh did not end within 120 s; measuring anyway");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let target = Target {
        addr: provider.addr,
        tls: None,
    };
    // The writers bind first (argon2: not part of the modifies' CPU), then all start at t0.
    let bound = Arc::new(std::sync::Barrier::new(writers + 1));
    let start = Arc::new(std::sync::Barrier::new(writers + 1));
    let t0_cell = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut hs = Vec::new();
    for w in 0..writers {
        let (target, prefix) = (target.clone(), prefix.clone());
        let (bound, start, t0_cell) = (bound.clone(), start.clone(), t0_cell.clone());
        hs.push(std::thread::spawn(move || {
            let mut c = Client::connect(&target);
            assert_eq!(c.bind(ADMIN, "secret"), LdapResultCode::Success);
            bound.wait();
            start.wait();
            let t0 = *t0_cell.get().expect("t0 set before the start");
            let mut acks = Vec::new();
            let (mut seq, mut k) = (w as u64, 0u32);
            while seq < mods {
                if let Some(r) = rate {
                    // Writer w's k-th modify at (w + k·writers) / rate seconds.
                    let at =
                        t0 + Duration::from_secs_f64((w as f64 + k as f64 * writers as f64) / r);
                    if let Some(d) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(d);
                    }
                }
                let rc = c.write(LdapOp::ModifyRequest(LdapModifyRequest {
                    dn: format!("uid=user{},ou=people,{SUFFIX}", (first + seq) % entries),
                    changes: vec![LdapModify {
                        operation: LdapModifyType::Replace,
                        modification: LdapPartialAttribute {
                            atype: "description".into(),
                            vals: vec![format!("{prefix}{seq}").into_bytes()],
                        },
                    }],
                }));
                let now = Instant::now();
                assert_eq!(rc, LdapResultCode::Success, "modify {seq}");
                acks.push((seq as usize, now));
                seq += writers as u64;
                k += 1;
            }
            acks
        }));
    }
    bound.wait();
    let cpu0 = (proc_cpu_secs(provider.pid), proc_cpu_secs(consumer.pid));
    let t0 = Instant::now();
    t0_cell.set(t0).expect("t0 set once");
    start.wait();
    let mut acks = Vec::new();
    for h in hs {
        acks.extend(h.join().expect("writer"));
    }
    let wrote = t0.elapsed().as_secs_f64();
    // Wait (at most a minute) for the consumer to catch up.
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60)
        && arrived.lock().expect("lock").iter().any(|a| a.is_none())
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let per = |now: f64, before: f64| (now - before) * 1e3 / mods.max(1) as f64;
    let cpu = (
        per(proc_cpu_secs(provider.pid), cpu0.0),
        per(proc_cpu_secs(consumer.pid), cpu0.1),
    );
    let arrived = arrived.lock().expect("lock").clone();
    let last = arrived.iter().flatten().max().copied().unwrap_or(t0);
    let mut lags = Vec::new();
    let mut missing = 0;
    for (seq, ack) in acks {
        match arrived.get(seq).copied().flatten() {
            Some(a) => lags.push(if a >= ack {
                (a - ack).as_micros() as i64
            } else {
                -((ack - a).as_micros() as i64)
            }),
            None => missing += 1,
        }
    }
    lags.sort_unstable();
    Lag {
        lags,
        missing,
        rate: mods as f64 / wrote.max(1e-9),
        span: last.duration_since(t0).as_secs_f64(),
        cpu,
    }
}

/// The modify workload on `provider` with `n` persist sync searches open (read and discarded);
/// with the bytes those searches were sent.
fn provider_cost(provider: &Server, n: usize, o: &Opts) -> (Outcome, u64) {
    let mut p = admin(provider.addr).expect("provider admin");
    let csn = context_csn(&mut p).expect("contextCSN");
    let stop = Arc::new(AtomicBool::new(false));
    let mut hs = Vec::new();
    for i in 0..n {
        let cookie = format!(
            "rid={:03},csn={}",
            i + 101,
            csn.iter().cloned().collect::<Vec<_>>().join(";")
        );
        let stop = stop.clone();
        let addr = provider.addr;
        hs.push(std::thread::spawn(move || {
            let mut c = Client::connect(&Target { addr, tls: None });
            assert_eq!(c.bind(ADMIN, "secret"), LdapResultCode::Success);
            c.id += 1;
            let msg = LdapMsg {
                msgid: c.id,
                op: LdapOp::SearchRequest(LdapSearchRequest {
                    base: SUFFIX.into(),
                    scope: LdapSearchScope::Subtree,
                    aliases: LdapDerefAliases::Never,
                    sizelimit: 0,
                    timelimit: 0,
                    typesonly: false,
                    filter: LdapFilter::Present("objectClass".into()),
                    attrs: vec!["*".into(), "+".into()],
                }),
                ctrl: vec![ldap3_proto::control::LdapControl::SyncRequest {
                    criticality: true,
                    mode: SyncRequestMode::RefreshAndPersist,
                    cookie: Some(cookie.into_bytes()),
                    reload_hint: false,
                }],
            };
            let mut b = BytesMut::new();
            c.codec.encode(msg, &mut b).expect("encode");
            c.s.write_all(&b).expect("write");
            // What the provider sends is read and thrown away (not decoded: the consumer's work
            // is not what is measured).
            let mut got = 0u64;
            let mut buf = vec![0u8; 1 << 16];
            while !stop.load(Ordering::Relaxed) {
                match c.s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => got += k as u64,
                    Err(_) => {}
                }
            }
            got
        }));
    }
    if n > 0 {
        std::thread::sleep(Duration::from_secs(2));
    }
    let out = run(
        &Target {
            addr: provider.addr,
            tls: None,
        },
        "secret",
        Workload::Modify,
        8,
        o,
        provider.pid,
    );
    stop.store(true, Ordering::Relaxed);
    let mut bytes = 0;
    for h in hs {
        bytes += h.join().expect("drain");
    }
    (out, bytes)
}

pub(super) fn main(o: &Opts, dir: &Path, ldif: &Path, tls: &TlsFiles, bin: &Path) {
    assert!(
        Path::new("/usr/sbin/slapd").exists() && Path::new("/usr/lib/ldap/syncprov.la").exists(),
        "--only repl needs Debian's slapd with the syncprov module"
    );
    let bound = Duration::from_secs(o.repl_timeout);
    let mods = o.repl_mods.min(o.entries / 4).max(1);
    let mut procs = Procs(Vec::new());

    eprintln!(
        "providers: ccdir import, slapadd -q of {} entries ...",
        o.entries
    );
    let pconf = dir.join("repl-provider.toml");
    std::fs::write(&pconf, "load_sample = false\n").expect("provider config");
    ccdir_import(bin, &ccdir_config(dir, "cc-provider"), ldif);
    let sconf = slapd_repl_conf(dir, "sl-provider", None, false);
    slapd_import(&sconf, ldif);
    let cp = spawn_ccdir(&mut procs, bin, dir, "cc-provider", &pconf, tls);
    let sp = spawn_slapd(&mut procs, dir, "sl-provider", &sconf);

    // 3. The provider's cost of persist consumers, first, on the providers alone.
    let mut cost = Vec::new();
    for p in [&cp, &sp] {
        for n in [0, 4] {
            eprintln!("{}: modify x8 with {n} persist consumers", p.name);
            let (out, bytes) = provider_cost(p, n, o);
            cost.push((p.kind, n, out, bytes));
        }
    }

    // 1 and 2 on the pairs of a kind; 1 on the mixed pairs.
    let mut refresh = Vec::new();
    let mut lag = Vec::new();
    let start_cc = |name: &'static str, prov: SocketAddr| {
        move |procs: &mut Procs| {
            let conf = ccdir_consumer_conf(dir, name, prov);
            spawn_ccdir(procs, bin, dir, name, &conf, tls)
        }
    };
    let start_sl = |name: &'static str, prov: SocketAddr, nosync: bool| {
        move |procs: &mut Procs| {
            let conf = slapd_repl_conf(dir, name, Some(prov), nosync);
            spawn_slapd(procs, dir, name, &conf)
        }
    };
    let mut run_no = 0u32;
    let mut lag_runs =
        |label: &str, p: &Server, c: &Server, lag: &mut Vec<(String, String, Lag)>| {
            for (how, rate) in [
                ("full speed".to_string(), None),
                (
                    format!("paced, {} modifies/s", o.repl_rate),
                    Some(o.repl_rate),
                ),
            ] {
                run_no += 1;
                eprintln!(
                    "  {label} persist lag, {how}: {mods} modifies, {} writers",
                    o.repl_writers
                );
                let first = 1000 + u64::from(run_no) * mods;
                let l = persist_lag(p, c, run_no, mods, o.repl_writers, rate, first, o.entries);
                eprintln!(
                    "    p50 {:.2} ms, p99 {:.2} ms, missing {}",
                    l.pct(0.5),
                    l.pct(0.99),
                    l.missing
                );
                lag.push((label.to_string(), how, l));
            }
        };
    eprintln!("ccdir → ccdir: full refresh, then persist lag");
    let (c, r) = full_refresh(&mut procs, &cp, bound, start_cc("cc-consumer", cp.addr));
    refresh.push(("ccdir → ccdir", r));
    lag_runs("ccdir → ccdir", &cp, &c, &mut lag);
    procs.stop(&c.name);
    eprintln!("slapd → slapd: full refresh, then persist lag");
    let (c, r) = full_refresh(
        &mut procs,
        &sp,
        bound,
        start_sl("sl-consumer", sp.addr, false),
    );
    refresh.push(("slapd → slapd", r));
    lag_runs("slapd → slapd", &sp, &c, &mut lag);
    procs.stop(&c.name);
    eprintln!("ccdir → slapd: full refresh");
    let (c, r) = full_refresh(
        &mut procs,
        &cp,
        bound,
        start_sl("sl-from-cc", cp.addr, false),
    );
    refresh.push(("ccdir → slapd", r));
    procs.stop(&c.name);
    eprintln!("slapd → ccdir: full refresh");
    let (c, r) = full_refresh(&mut procs, &sp, bound, start_cc("cc-from-sl", sp.addr));
    refresh.push(("slapd → ccdir", r));
    procs.stop(&c.name);
    if o.repl_slapd_nosync {
        procs.stop(&sp.name);
        eprintln!("slapd (dbnosync) → slapd (dbnosync): full refresh, then persist lag");
        let nconf = slapd_repl_conf(dir, "nosync-provider", None, true);
        slapd_import(&nconf, ldif);
        let np = spawn_slapd(&mut procs, dir, "nosync-provider", &nconf);
        let (c, r) = full_refresh(
            &mut procs,
            &np,
            bound,
            start_sl("nosync-consumer", np.addr, true),
        );
        refresh.push(("slapd → slapd, both dbnosync (not durable)", r));
        lag_runs("slapd → slapd, dbnosync", &np, &c, &mut lag);
    }
    drop(procs);

    // The report.
    let mut rows = vec![
        format!(
            "{}, {}; ccdir {} (release build), {}; {} entries; durable on both sides (ccdir's \
             defaults; slapd back-mdb without dbnosync: every commit fsynced).",
            {
                let now = time::OffsetDateTime::now_utc();
                format!("{:04}-{:02}-{:02}", now.year(), now.month() as u8, now.day())
            },
            machine(),
            env!("CARGO_PKG_VERSION"),
            slapd_version().unwrap_or_else(|| "slapd".into()),
            o.entries
        ),
        String::new(),
        "| full refresh to a fresh consumer | time until all entries and contextCSN equal | consumer peak RSS | entries |".into(),
        "|---|---|---|---|".into(),
    ];
    for (label, r) in &refresh {
        rows.push(format!(
            "| {label} | {:.1} s | {:.0} MiB | {} |",
            r.secs, r.rss_mib, r.entries
        ));
    }
    rows.push(String::new());
    rows.push(format!(
        "| persist lag ({mods} modifies, {} writers) | modifies/s sent | lag p50 / p99 / max ms | all applied after | not arrived | CPU ms per modify: provider / consumer |",
        o.repl_writers
    ));
    rows.push("|---|---|---|---|---|---|".into());
    for (label, how, l) in &lag {
        rows.push(format!(
            "| {label}, {how} | {:.0} | {:.2} / {:.2} / {:.2} | {:.1} s | {} | {:.2} / {:.2} |",
            l.rate,
            l.pct(0.5),
            l.pct(0.99),
            l.pct(1.0),
            l.span,
            l.missing,
            l.cpu.0,
            l.cpu.1
        ));
    }
    rows.push(String::new());
    rows.push(
        "| provider, modify x8 | persist consumers | modify ops/s | p50 / p99 / p99.9 ms | provider CPU ms per modify | bytes sent to the consumers | errors |"
            .into(),
    );
    rows.push("|---|---|---|---|---|---|---|".into());
    for (k, n, out, bytes) in &cost {
        rows.push(format!(
            "| {} | {n} | {:.0} | {} | {:.3} | {} | {} |",
            k.name(),
            out.ops_per_sec(),
            out.latencies(),
            out.cpu_ms_per_op(),
            bytes,
            out.errors
        ));
    }
    let table = rows.join("\n");
    println!("{table}");
    if let Some(out) = &o.out {
        std::fs::write(out, format!("{table}\n")).expect("write --out");
    }
}
