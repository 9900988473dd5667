//! Portal benchmark (issue 18): `--only portal`. The registry portal of a release build on a
//! directory of `--portal-tlds` ccTLD-style registries (`ccdir gen-sample --tlds`'s set: a
//! registry, its 24/7 team and one person each) next to the harness's `--entries` people, with
//! ccdir's default index set.
//!
//! 1. A ccTLD's page (`GET /cctld/<tld>`, a random registry each time) and the search page
//!    (`GET /?q=<label prefix>`), one logged-in session on one kept-alive HTTPS connection,
//!    one request at a time: the client's latency from writing the request to the last byte
//!    of the response, over loopback. That is the server's time plus a loopback round trip
//!    and the TLS record work on both ends: an upper bound of the server time.
//!    The server's CPU time per page is read from /proc around the same requests.
//! 2. LDAP equality searches (`(uid=user<i>)`, as uid=user0, a member: access control
//!    evaluated) at 8 connections while `--portal-sessions` logged-in portal sessions idle,
//!    then while they browse (each on its own HTTPS connection, a ccTLD's page after a think
//!    time of `--portal-think-ms` on average, uniformly from half to one and a half of it),
//!    three rounds of the two. The slowdown is the browsing rounds' mean ops/s against the idle
//!    rounds' (whose spread shows the machine's noise). slapd (back-mdb, the same people; it
//!    has no portal) runs the same searches, for the side-by-side ratio.

use super::*;

/// The portal's port and the client configuration that trusts its certificate.
#[derive(Clone)]
struct Portal {
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
}

/// A minimal blocking HTTP/1.1 client over rustls with a cookie jar: what a browser does for
/// the portal's pages, without the browser.
struct Http {
    s: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    buf: Vec<u8>,
    host: String,
    cookies: Vec<(String, String)>,
}

struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Http {
    fn connect(p: &Portal) -> Http {
        let tcp = TcpStream::connect(p.addr).expect("connect to the portal");
        tcp.set_nodelay(true).ok();
        tcp.set_read_timeout(Some(Duration::from_secs(60))).ok();
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let conn = rustls::ClientConnection::new(p.tls.clone(), name).expect("tls client");
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock).expect("TLS handshake");
        }
        Http {
            s,
            buf: Vec::with_capacity(64 << 10),
            host: format!("localhost:{}", p.addr.port()),
            cookies: Vec::new(),
        }
    }

    fn request(&mut self, method: &str, path: &str, form: Option<&str>) -> Response {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {h}\r\nOrigin: https://{h}\r\nUser-Agent: ccdir-bench\r\n",
            h = self.host
        );
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        match form {
            Some(body) => req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )),
            None => req.push_str("\r\n"),
        }
        self.s.write_all(req.as_bytes()).expect("send request");
        self.s.flush().expect("flush");
        let head_end = self.fill_until(|b| find(b, b"\r\n\r\n").map(|i| i + 4));
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .expect("status line");
        let (mut length, mut chunked) = (0usize, false);
        for l in lines {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().expect("content-length");
            } else if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
                chunked = true;
            } else if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    self.cookies.retain(|(n, _)| n != name);
                    let gone = value.is_empty() || v.to_ascii_lowercase().contains("max-age=0");
                    if !gone {
                        self.cookies.push((name.to_string(), value.to_string()));
                    }
                }
            }
        }
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let line_end = self.fill_until(|b| find(b, b"\r\n").map(|i| i + 2));
                let size_text = String::from_utf8_lossy(&self.buf[..line_end - 2]).into_owned();
                let size =
                    usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                        .expect("chunk size");
                self.buf.drain(..line_end);
                self.fill_until(|b| (b.len() >= size + 2).then_some(size + 2));
                body.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
            body
        } else {
            self.fill_until(|b| (b.len() >= length).then_some(length));
            self.buf.drain(..length).collect()
        };
        Response { status, body }
    }

    /// Read until `done` finds its end in the buffer; returns that end.
    fn fill_until(&mut self, done: impl Fn(&[u8]) -> Option<usize>) -> usize {
        let mut chunk = [0u8; 16 << 10];
        loop {
            if let Some(end) = done(&self.buf) {
                return end;
            }
            let n = self.s.read(&mut chunk).expect("read response");
            assert!(n > 0, "the portal closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Log in through the login form: its token, then the POST; a session cookie after.
    fn login(&mut self, dn: &str, password: &str) {
        let page = self.request("GET", "/login", None);
        assert_eq!(page.status, 200, "login page");
        let html = String::from_utf8_lossy(&page.body);
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("the login form's token")
            .to_string();
        let form = format!(
            "csrf={}&next=%2F&name={}&password={}",
            enc(&csrf),
            enc(dn),
            enc(password)
        );
        let r = self.request("POST", "/login", Some(&form));
        assert_eq!(r.status, 303, "login: {}", String::from_utf8_lossy(&r.body));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// application/x-www-form-urlencoded.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// The harness's people LDIF with `ou=registries` and `tlds` scale registries appended.
fn write_portal_ldif(dir: &Path, people: &Path, tlds: u64) -> PathBuf {
    let out = dir.join("portal.ldif");
    std::fs::copy(people, &out).expect("copy the people LDIF");
    let mut f = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&out)
            .expect("open portal.ldif"),
    );
    let ou: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("objectClass", vec![b"organizationalUnit".to_vec()]),
        ("ou", vec![b"registries".to_vec()]),
    ];
    ccdir::core::ldif::write_entry(
        &mut f,
        &format!("ou=registries,{SUFFIX}"),
        ou.iter().map(|(a, v)| (*a, v.as_slice())),
    )
    .expect("write");
    for i in 0..tlds {
        for (dn, attrs) in ccdir::tools::generate::registry_set(i, SUFFIX) {
            ccdir::core::ldif::write_entry(
                &mut f,
                &dn,
                attrs.iter().map(|(a, v)| (a.as_str(), v.as_slice())),
            )
            .expect("write");
        }
    }
    f.flush().expect("flush");
    out
}

/// `ccdir serve` with the portal on, ccdir's default indexes (the portal's searches use them).
fn start_portal_ccdir(
    bin: &Path,
    cfg: &Config,
    dir: &Path,
    tls: &TlsFiles,
) -> (Child, SocketAddr, SocketAddr) {
    let addrs = free_addrs();
    let addr = addrs.0;
    let paddr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let child = serve_command(bin, &cfg.data_dir, tls, addrs, dir, "ccdir-portal")
        .args([
            "--set",
            &format!("listen.portal=\"{paddr}\""),
            "--set",
            "load_sample=false",
        ])
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    wait_port(addr);
    wait_port(paddr);
    (child, addr, paddr)
}

/// One session, one connection, `n` pages one after the other: their latencies, sorted, and
/// the server's CPU seconds over them (process `pid`).
fn page_latencies(p: &Portal, tlds: u64, n: usize, search: bool, pid: u32) -> (Vec<Duration>, f64) {
    let mut h = Http::connect(p);
    h.login(&format!("uid=user0,ou=people,{SUFFIX}"), "pw0");
    let mut cpu0 = 0.0;
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut lat = Vec::with_capacity(n);
    for k in 0..n + 20 {
        let i = rng.next() % tlds;
        let label = ccdir::tools::generate::scale_label(i);
        let path = if search {
            // A prefix of a label: a substring search of the registries, some matches.
            format!("/?q={}", &label[..label.len().min(3)])
        } else {
            format!("/cctld/{label}")
        };
        let t = Instant::now();
        let r = h.request("GET", &path, None);
        let d = t.elapsed();
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        if !search {
            let body = String::from_utf8_lossy(&r.body);
            assert!(
                body.contains(&format!("Contact {i} of .{label}")),
                "{path}: the contact is not on the page"
            );
        }
        // The first requests warm the connection and the caches.
        if k == 19 {
            cpu0 = proc_cpu_secs(pid);
        }
        if k >= 20 {
            lat.push(d);
        }
    }
    let cpu = proc_cpu_secs(pid) - cpu0;
    lat.sort();
    (lat, cpu)
}

/// What the browsing sessions did while they ran.
struct Browsing {
    pages: u64,
    errors: u64,
    secs: f64,
    lat: Vec<Duration>,
}

/// `sessions` logged-in sessions browsing ccTLD pages with a think time until `stop`; the
/// returned handle's join gives what they did. Returns once every session has logged in.
fn browse(
    p: &Portal,
    sessions: usize,
    think_ms: u64,
    tlds: u64,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Browsing> {
    let ready = Arc::new(std::sync::Barrier::new(sessions + 1));
    let mut handles = Vec::new();
    for t in 0..sessions {
        let p = p.clone();
        let stop = stop.clone();
        let ready = ready.clone();
        let active = active.clone();
        handles.push(std::thread::spawn(move || {
            let mut h = Http::connect(&p);
            h.login(
                &format!("uid=user{t},ou=people,{SUFFIX}"),
                &format!("pw{t}"),
            );
            ready.wait();
            let mut rng = Rng(0x9e3779b97f4a7c15 ^ ((t as u64 + 7) * 0x1000193));
            let (mut pages, mut errors) = (0u64, 0u64);
            let mut lat = Vec::new();
            // Sessions start spread over one think time.
            std::thread::sleep(Duration::from_millis(rng.next() % think_ms.max(1)));
            while !stop.load(Ordering::Relaxed) {
                if !active.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let label = ccdir::tools::generate::scale_label(rng.next() % tlds);
                let s = Instant::now();
                let r = h.request("GET", &format!("/cctld/{label}"), None);
                lat.push(s.elapsed());
                if r.status == 200 {
                    pages += 1;
                } else {
                    errors += 1;
                }
                let pause = think_ms / 2 + rng.next() % think_ms.max(1);
                let until = Instant::now() + Duration::from_millis(pause);
                while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            (pages, errors, lat)
        }));
    }
    ready.wait();
    std::thread::spawn(move || {
        let mut b = Browsing {
            pages: 0,
            errors: 0,
            secs: 0.0,
            lat: Vec::new(),
        };
        for h in handles {
            let (p, e, l) = h.join().expect("a browsing session");
            b.pages += p;
            b.errors += e;
            b.lat.extend(l);
        }
        b.lat.sort();
        b
    })
}

pub(super) fn main(
    o: &Opts,
    dir: &Path,
    people: &Path,
    tls: &TlsFiles,
    bin: &Path,
    admin_pw: &str,
) {
    assert!(
        o.passwords as usize >= o.portal_sessions,
        "--passwords must be at least --portal-sessions (each session logs in as its own user)"
    );
    let tlds = o.portal_tlds.max(1);
    let mut report = String::new();
    let mut say = |s: String| {
        eprintln!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    eprintln!("writing {tlds} registries next to {} people ...", o.entries);
    let ldif = write_portal_ldif(dir, people, tlds);
    let cfg = ccdir_config(dir, "ccdir-portal");
    let import = timed(
        time_cmd(bin)
            .args(["import", "-q", "--set", "load_sample=false", "--data-dir"])
            .arg(&cfg.data_dir)
            .arg(&ldif),
    );
    eprintln!("imported in {:.1} s", import.0);
    let (child, ldap, paddr) = start_portal_ccdir(bin, &cfg, dir, tls);
    let pid = child.id();
    let portal = Portal {
        addr: paddr,
        tls: tls.client.clone(),
    };

    say(format!(
        "### Portal (issue 18): {tlds} ccTLDs ({} contacts) and {} people, {}\n",
        tlds * 2,
        o.entries,
        machine()
    ));
    eprintln!("page latencies ...");
    let (page, page_cpu) = page_latencies(&portal, tlds, o.portal_pages, false, pid);
    let (search, search_cpu) = page_latencies(&portal, tlds, o.portal_pages / 4, true, pid);
    say("| page, one session, one request at a time | requests | p50 ms | p99 ms | max ms | server CPU ms per page |".into());
    say("|---|---:|---:|---:|---:|---:|".into());
    for (name, l, cpu) in [
        ("a ccTLD's page `/cctld/<tld>`", &page, page_cpu),
        (
            "search `/?q=<first 3 characters of a label>`",
            &search,
            search_cpu,
        ),
    ] {
        say(format!(
            "| {name} | {} | {} | {} | {} | {:.2} |",
            l.len(),
            ms(percentile(l, 0.5)),
            ms(percentile(l, 0.99)),
            ms(percentile(l, 1.0)),
            cpu * 1e3 / l.len().max(1) as f64
        ));
    }

    let searches = Opts {
        as_user: true,
        ..o.clone()
    };
    let target = Target {
        addr: ldap,
        tls: None,
    };
    let conns = 8;
    eprintln!("{} sessions logging in ...", o.portal_sessions);
    let stop = Arc::new(AtomicBool::new(false));
    let active = Arc::new(AtomicBool::new(false));
    let browsing = browse(
        &portal,
        o.portal_sessions,
        o.portal_think_ms,
        tlds,
        stop.clone(),
        active.clone(),
    );
    // Quiet and browsing rounds alternate, so that the machine's drift falls on both.
    let rounds = 3;
    let (mut quiet, mut busy) = (Vec::new(), Vec::new());
    let mut browsed_secs = 0.0;
    for r in 0..rounds {
        eprintln!("round {}: LDAP searches, the sessions idle ...", r + 1);
        quiet.push(run(
            &target,
            admin_pw,
            Workload::EqSearch,
            conns,
            &searches,
            pid,
        ));
        eprintln!(
            "round {}: LDAP searches while the sessions browse ...",
            r + 1
        );
        active.store(true, Ordering::Relaxed);
        let t = Instant::now();
        busy.push(run(
            &target,
            admin_pw,
            Workload::EqSearch,
            conns,
            &searches,
            pid,
        ));
        browsed_secs += t.elapsed().as_secs_f64();
        active.store(false, Ordering::Relaxed);
    }
    stop.store(true, Ordering::Relaxed);
    let mut b = browsing.join().expect("browsing");
    b.secs = browsed_secs;
    stop_child(child);

    let slapd = if o.slapd {
        slapd_conf(dir, tls).and_then(|conf| {
            eprintln!("slapd: the same people, the same searches ...");
            slapd_import(&conf, people);
            let (c, (addr, _)) = start_slapd(&conf)?;
            let spid = c.id();
            let t = Target { addr, tls: None };
            let r = run(&t, "secret", Workload::EqSearch, conns, &searches, spid);
            stop_child(c);
            Some(r)
        })
    } else {
        None
    };

    let mean =
        |v: &[Outcome]| v.iter().map(|r| r.ops_per_sec()).sum::<f64>() / v.len().max(1) as f64;
    let (q, w) = (mean(&quiet), mean(&busy));
    say(String::new());
    say(format!(
        "LDAP equality searches as a member at {conns} connections, {} s a run, {rounds} rounds of (sessions idle, sessions browsing); the browsing: {} logged-in sessions, a ccTLD's page each every {} ms on average ({:.0} pages/s served, {} errors, page p50 / p99 {} / {} ms while the searches ran):\n",
        o.secs,
        o.portal_sessions,
        o.portal_think_ms,
        b.pages as f64 / b.secs.max(1e-9),
        b.errors,
        ms(percentile(&b.lat, 0.5)),
        ms(percentile(&b.lat, 0.99)),
    ));
    say(
        "| LDAP searches | ops/s | p50 / p99 / p99.9 ms | CPU ms/op | ÷ mean of the idle rounds |"
            .into(),
    );
    say("|---|---:|---:|---:|---:|".into());
    for (i, (qr, br)) in quiet.iter().zip(&busy).enumerate() {
        for (name, r) in [("sessions idle", qr), ("sessions browsing", br)] {
            say(format!(
                "| ccdir, round {}, {name} | {:.0} | {} | {:.3} | {:.2} |",
                i + 1,
                r.ops_per_sec(),
                r.latencies(),
                r.cpu_ms_per_op(),
                r.ops_per_sec() / q.max(1e-9)
            ));
        }
    }
    if let Some(s) = &slapd {
        say(format!(
            "| slapd (no portal), for reference | {:.0} | {} | {:.3} | ccdir browsing ÷ slapd: {:.2} |",
            s.ops_per_sec(),
            s.latencies(),
            s.cpu_ms_per_op(),
            w / s.ops_per_sec().max(1e-9)
        ));
    }
    let spread = quiet
        .iter()
        .map(|r| (r.ops_per_sec() / q.max(1e-9) - 1.0).abs())
        .fold(0.0, f64::max);
    say(format!(
        "\nThe LDAP searches while the sessions browse: {:.1} % slower than while they idle (means of {rounds} runs each; the idle runs differ from their mean by up to {:.1} %: the machine's noise).",
        (1.0 - w / q.max(1e-9)) * 100.0,
        spread * 100.0
    ));
    if let Some(out) = &o.out {
        std::fs::write(out, &report).expect("write the report");
    }
}

fn stop_child(c: Child) {
    stop(c);
}
