//! The list server's SPF and DKIM checks (contrib/postfix/spf-dkim.main.cf.example), end to end
//! on loopback: the private Postfix of mailing_list.rs with the example's main.cf lines, its SPF
//! policy service (Debian's policyd-spf, spawned by that Postfix) and its two opendkim milters
//! (Debian's opendkim: one verifies members' posts, one signs what the list relays), each
//! configured from the example's sections with only the paths, the pid files and the resolver
//! changed. The members' SPF and DKIM records and the list's DKIM key (made with
//! opendkim-genkey as the example says) are served by a dnsmasq on a loopback address, which
//! policyd-spf reaches as the system resolver (Postfix runs in a mount namespace of its own
//! with the test's /etc/resolv.conf) and opendkim through `Nameservers`. Posts come from
//! 127.0.0.2 (the members' authorised server) and 127.0.0.3 (a forger); the delivered copies
//! are checked by dkimpy (tests/it/dkimpy_tool.py), which asks the same DNS server for the keys.

use crate::harness::*;
use crate::mailing_list::{add_mail_server, expected, map_files, DE_TEAM, FR_TEAM, LISTS};
use crate::postfix::*;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/contrib/postfix/spf-dkim.main.cf.example"
);
const DKIM_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/dkimpy_tool.py");

/// The server the members' SPF records name, and one they do not.
const AUTHORISED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const FORGER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// The tools, by Debian package.
const TOOLS: [(&str, &str); 6] = [
    ("/usr/sbin/opendkim", "opendkim"),
    ("/usr/sbin/opendkim-genkey", "opendkim-tools"),
    ("/usr/bin/policyd-spf", "postfix-policyd-spf-python"),
    ("/usr/sbin/dnsmasq", "dnsmasq-base"),
    ("/usr/bin/unshare", "util-linux"),
    ("/usr/bin/python3", "python3"),
];

/// Whether the SPF/DKIM tools are installed (and Postfix can run); in CI they must be.
fn tools_available() -> bool {
    if !postfix_available() || !postfix_startable() {
        return false;
    }
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    let modules = Command::new("/usr/bin/python3")
        .args(["-c", "import dkim, dns.resolver"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !modules {
        missing.push("python3-dkim");
    }
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "missing in CI: {missing:?} (.ci/run must install these Debian packages)"
    );
    eprintln!("not installed: {missing:?}: SPF/DKIM test skipped");
    false
}

/// The example's commented sections: for each `# ---- /path ...` header, the lines after it
/// (without the leading `# `), up to the next header or the first line that is not a comment.
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("# ---- ") {
            let name = h.split([' ', ':']).next().unwrap_or_default().to_string();
            out.push((name, Vec::new()));
            open = true;
        } else if let (true, Some(l)) = (open, line.strip_prefix('#')) {
            let l = l.strip_prefix(' ').unwrap_or(l);
            if !l.trim().is_empty() {
                if let Some(last) = out.last_mut() {
                    last.1.push(l.to_string());
                }
            }
        } else {
            open = false;
        }
    }
    out
}

fn section(text: &str, name: &str) -> Vec<String> {
    sections(text)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no section {name} in the example"))
        .1
}

/// The key of a `key value` or `key = value` line (None for comments and blank lines).
fn conf_key(line: &str) -> Option<&str> {
    let l = line.trim_start();
    if l.is_empty() || l.starts_with('#') {
        return None;
    }
    l.split([' ', '\t', '=']).next()
}

/// `base` with each line of `over` replacing the base's lines of the same key (appended at the
/// end), and the keys in `drop` removed: the example's lines put into Debian's file.
fn merge_conf(base: &str, over: &[String], drop: &[&str]) -> String {
    let replaced: BTreeSet<&str> = over.iter().filter_map(|l| conf_key(l)).collect();
    let mut out: String = base
        .lines()
        .filter(|l| conf_key(l).is_none_or(|k| !replaced.contains(k) && !drop.contains(&k)))
        .map(|l| format!("{l}\n"))
        .collect();
    out.push_str("# tests/it/spf_dkim.rs: the example's lines\n");
    for l in over {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The example's paths, in the test's directory.
fn localise(line: &str, dir: &Path) -> String {
    let d = dir.display();
    line.replace("/var/spool/postfix", &format!("{d}/queue"))
        .replace(
            "/etc/postfix-policyd-spf-python",
            &format!("{d}/policyd-spf"),
        )
        .replace("/etc/opendkim", &format!("{d}/opendkim"))
        .replace("/run/opendkim", &format!("{d}/run"))
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// dnsmasq answering for the test's zones on a loopback address, port 53 (resolv.conf has no
/// port); stopped on drop.
struct Dns {
    child: Child,
    addr: Ipv4Addr,
    log: PathBuf,
}

impl Dns {
    /// Serve the TXT `records` (name, its strings); every other name under `zones` does not
    /// exist, and nothing is forwarded.
    fn start(dir: &Path, records: &[(String, Vec<String>)], zones: &[&str]) -> Dns {
        let mut conf = String::new();
        for (name, strings) in records {
            let quoted: Vec<String> = strings.iter().map(|s| format!("\"{s}\"")).collect();
            conf.push_str(&format!("txt-record={name},{}\n", quoted.join(",")));
        }
        for z in zones {
            conf.push_str(&format!("local=/{z}/\n"));
        }
        let conf_file = dir.join("dnsmasq.conf");
        std::fs::write(&conf_file, conf).expect("dnsmasq.conf");
        // An address of 127.0.0.0/8 where nothing listens on port 53 (tests of other
        // worktrees may run at the same time).
        let base = (std::process::id() % 200) as u8 + 20;
        let addr = (1..=250u8)
            .map(|n| Ipv4Addr::new(127, 53, base, n))
            .find(|a| {
                UdpSocket::bind((*a, 53)).is_ok() && std::net::TcpListener::bind((*a, 53)).is_ok()
            })
            .expect("a free loopback address for port 53");
        let log = dir.join("dnsmasq.log");
        let child = Command::new("/usr/sbin/dnsmasq")
            .arg("--keep-in-foreground")
            .arg(format!("--conf-file={}", conf_file.display()))
            .args([
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--port=53",
            ])
            .arg(format!("--listen-address={addr}"))
            .args(["--pid-file=", "--log-facility=-", "--log-queries"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("dnsmasq log"))
            .spawn()
            .expect("start dnsmasq");
        let mut dns = Dns { child, addr, log };
        let (name, _) = records.first().expect("a record");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dns.answers(name) {
            if let Ok(Some(st)) = dns.child.try_wait() {
                panic!("dnsmasq exited: {st}\n{}", dns.log());
            }
            assert!(Instant::now() < deadline, "dnsmasq silent\n{}", dns.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        dns
    }

    /// Whether the server answers a TXT query for `name` with at least one record.
    fn answers(&self, name: &str) -> bool {
        let Ok(sock) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) else {
            return false;
        };
        sock.set_read_timeout(Some(Duration::from_millis(200))).ok();
        // Header: id 0x4343, RD, one question; then the name, TXT (16), IN (1).
        let mut q = vec![0x43, 0x43, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 16, 0, 1]);
        if sock.send_to(&q, (self.addr, 53)).is_err() {
            return false;
        }
        let mut buf = [0u8; 1500];
        match sock.recv(&mut buf) {
            // Same id, a response, rcode 0, at least one answer.
            Ok(n) if n >= 12 => {
                buf[..2] == [0x43, 0x43]
                    && buf[2] & 0x80 != 0
                    && buf[3] & 0x0f == 0
                    && u16::from_be_bytes([buf[6], buf[7]]) > 0
            }
            _ => false,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// An opendkim milter in the foreground with the test's configuration; stopped on drop.
struct Milter {
    child: Child,
    log: PathBuf,
}

impl Milter {
    fn start(conf: &Path, socket: &Path) -> Milter {
        let log = conf.with_extension("log");
        let child = Command::new("/usr/sbin/opendkim")
            .arg("-f")
            .arg("-x")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("opendkim log"))
            .spawn()
            .expect("start opendkim");
        let mut m = Milter { child, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if let Ok(Some(st)) = m.child.try_wait() {
                panic!("opendkim {} exited: {st}\n{}", conf.display(), m.log());
            }
            assert!(
                Instant::now() < deadline,
                "opendkim made no socket {}\n{}",
                socket.display(),
                m.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        m
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Milter {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// The name and strings of the TXT record in an opendkim-genkey `<selector>.txt` (a zone file
/// line: `sel._domainkey IN TXT ( "..." "..." ) ; comment`).
fn genkey_record(txt: &Path, domain: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(txt).expect("genkey txt");
    // The first ';' outside quotes ends the record (the key's own are inside them).
    let mut quoted = false;
    let end = text
        .char_indices()
        .find(|&(_, ch)| {
            if ch == '"' {
                quoted = !quoted;
            }
            ch == ';' && !quoted
        })
        .map_or(text.len(), |(i, _)| i);
    let zone = &text[..end];
    let name = zone.split_whitespace().next().expect("record name");
    let strings: Vec<String> = zone
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(
        strings.concat().starts_with("v=DKIM1;") && strings.concat().contains("p="),
        "{text}"
    );
    (format!("{name}.{domain}"), strings)
}

/// Run `cmd` with `input` on its standard input.
fn run_stdin(cmd: &mut Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("wait")
}

fn run(cmd: &str) {
    let o = Command::new("sh").args(["-c", cmd]).output().expect("sh");
    assert!(o.status.success(), "{cmd}: {}", stderr(&o));
}

/// A post: the headers a member's mail client writes, and a body; CRLF lines.
fn post(from: &str, to: &str, marker: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: incident {marker}\r\n\
         Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{marker}@ccdir.test>\r\nX-Ccdir-Test: {marker}\r\n\r\n\
         A test message.\r\nIndicators follow.\r\n"
    )
}

/// `message` with a DKIM signature of `domain` (dkimpy, the member's mail server).
fn dkim_sign(message: &str, key: &Path, domain: &str, selector: &str) -> String {
    let o = run_stdin(
        Command::new("/usr/bin/python3")
            .arg(DKIM_PY)
            .arg("sign")
            .arg(key)
            .arg(domain)
            .arg(selector),
        message,
    );
    assert!(o.status.success(), "dkimpy_tool.py sign: {}", stderr(&o));
    stdout(&o).replace("\r\n", "\n").replace('\n', "\r\n")
}

/// What dkimpy says of each DKIM signature of `message` (topmost first), the keys asked of the
/// test's DNS server: `<d> <s> pass` or `<d> <s> fail ...`.
fn dkim_verify(message: &str, dns: &Dns) -> Vec<String> {
    let o = run_stdin(
        Command::new("/usr/bin/python3")
            .arg(DKIM_PY)
            .arg("verify")
            .arg(dns.addr.to_string()),
        message,
    );
    assert!(o.status.success(), "dkimpy_tool.py verify: {}", stderr(&o));
    stdout(&o).lines().map(str::to_string).collect()
}

/// The header field `name` of a delivered message (unfolded), each occurrence.
fn header(message: &str, name: &str) -> Vec<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        } else {
            fields.push(line.to_string());
        }
    }
    let prefix = format!("{}:", name.to_ascii_lowercase());
    fields
        .into_iter()
        .filter(|f| f.to_ascii_lowercase().starts_with(&prefix))
        .map(|f| f[prefix.len()..].trim().to_string())
        .collect()
}

/// Send `message` (marked `marker`) from `src` and wait until Postfix has relayed it: the
/// recipients and the copies the sink got.
fn deliver(
    pf: &Postfix,
    sink: &Sink,
    src: Ipv4Addr,
    from: &str,
    to: &str,
    message: &str,
    marker: &str,
) -> (BTreeSet<String>, Vec<String>) {
    pf.send_message(src, "client.test", from, to, message)
        .unwrap_or_else(|e| panic!("{from} from {src}: {e}\n{}", pf.maillog()));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (n, got) = sink.recipients(marker);
        if n > 0 && pf.queued() == 0 {
            let header = format!("X-Ccdir-Test: {marker}\r\n");
            let copies = sink
                .messages()
                .into_iter()
                .filter(|(_, d)| d.contains(&header))
                .map(|(_, d)| d)
                .collect();
            return (got, copies);
        }
        assert!(
            Instant::now() < deadline,
            "{marker}: not relayed in 30 s\n{}",
            pf.maillog()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The message the list relayed: the same in every transaction (Postfix sends the recipients
/// in batches).
fn one_copy(copies: &[String]) -> String {
    assert!(copies.iter().all(|c| *c == copies[0]), "the copies differ");
    copies[0].clone()
}

/// Nothing with `marker` reached the sink, and nothing is queued.
fn not_relayed(pf: &Postfix, sink: &Sink, marker: &str) {
    // Give a wrongly accepted message the time to come through.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sink.recipients(marker).0, 0, "{marker} was relayed");
    assert_eq!(pf.queued(), 0, "{marker} is queued\n{}", pf.maillog());
}

#[test]
fn list_server_checks_spf_and_dkim_and_signs_the_list_mail() {
    if !tools_available() {
        return;
    }
    let s = TestServer::start_with(|c| {
        c.load_sample = true;
        c.password.require_tls = true;
    });
    let mut admin = add_mail_server(&s);
    let example = std::fs::read_to_string(EXAMPLE).expect("spf-dkim.main.cf.example");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    set_owner_mode(dir, None, None, 0o755);

    // The list's key, made by the example's own commands (paths in the test's directory).
    let setup = section(&example, "setting");
    let commands: Vec<String> = setup
        .iter()
        .filter(|l| l.starts_with("  ") && !l.contains("systemctl"))
        .map(|l| localise(l.trim(), dir))
        .collect();
    assert!(
        commands.iter().any(|c| c.starts_with("opendkim-genkey ")),
        "{setup:?}"
    );
    for c in &commands {
        run(c);
    }
    let list_key_dir = dir.join("opendkim/keys").join(LISTS);
    let list_record = genkey_record(&list_key_dir.join("list2026.txt"), LISTS);
    assert_eq!(list_record.0, format!("list2026._domainkey.{LISTS}"));
    // A member's own key (its mail server signs with it).
    let member = dir.join("member");
    std::fs::create_dir(&member).expect("member dir");
    run(&format!(
        "opendkim-genkey -D {} -d nic-de.example -s member2026",
        member.display()
    ));
    let member_record = genkey_record(&member.join("member2026.txt"), "nic-de.example");

    // The members' DNS: .de's and example.org's SPF records authorise 127.0.0.2 only (-all);
    // nic-fr.example has none; a HELO name that may send nothing.
    let spf = "v=spf1 ip4:127.0.0.2 -all".to_string();
    let dns = Dns::start(
        dir,
        &[
            list_record.clone(),
            member_record,
            ("nic-de.example".into(), vec![spf.clone()]),
            ("example.org".into(), vec![spf]),
            ("forged-helo.test".into(), vec!["v=spf1 -all".into()]),
        ],
        &["example", "example.org", "test", "in-addr.arpa"],
    );
    let resolv = dir.join("resolv.conf");
    std::fs::write(
        &resolv,
        format!("nameserver {}\noptions timeout:2 attempts:1\n", dns.addr),
    )
    .expect("resolv.conf");

    // opendkim: the example's two configurations (the verifier's lines put into Debian's
    // opendkim.conf), the tables. The test's own lines: pid files in the test's directory, and
    // the test's DNS server as the verifier's resolver (Debian's TrustAnchorFile left out: the
    // test's zones are not signed).
    let run_dir = dir.join("run");
    std::fs::create_dir(&run_dir).expect("run dir");
    set_owner_mode(&run_dir, Some("opendkim"), None, 0o755);
    for table in ["key.table", "signing.table"] {
        let lines: Vec<String> = section(&example, &format!("/etc/opendkim/{table}"))
            .iter()
            .map(|l| localise(l, dir) + "\n")
            .collect();
        std::fs::write(dir.join("opendkim").join(table), lines.concat()).expect("table");
    }
    let debian = std::fs::read_to_string("/etc/opendkim.conf").expect("Debian's opendkim.conf");
    let mut verify_lines: Vec<String> = section(&example, "/etc/opendkim.conf")
        .iter()
        .map(|l| localise(l, dir))
        .collect();
    verify_lines.push(format!("PidFile {}", run_dir.join("verify.pid").display()));
    verify_lines.push(format!("Nameservers {}", dns.addr));
    let verify_conf = dir.join("opendkim-verify.conf");
    std::fs::write(
        &verify_conf,
        merge_conf(&debian, &verify_lines, &["TrustAnchorFile"]),
    )
    .expect("verify conf");
    let mut sign_lines: Vec<String> = section(&example, "/etc/opendkim-sign.conf")
        .iter()
        .map(|l| localise(l, dir))
        .collect();
    // The key is below /tmp, which anybody may write: opendkim's check of the key file's
    // directories (RequireSafeKeys) would refuse it, and every message with it.
    sign_lines.push("RequireSafeKeys no".into());
    let sign_conf = dir.join("opendkim-sign.conf");
    std::fs::write(&sign_conf, merge_conf("", &sign_lines, &[])).expect("sign conf");
    let socket = |lines: &[String]| -> PathBuf {
        let l = lines
            .iter()
            .find(|l| conf_key(l) == Some("Socket"))
            .expect("Socket");
        PathBuf::from(l.split("local:").nth(1).expect("a local socket").trim())
    };
    let verifier = Milter::start(&verify_conf, &socket(&verify_lines));
    let mut signer = Some(Milter::start(&sign_conf, &socket(&sign_lines)));
    let dkim_logs = |signer: &Option<Milter>| {
        format!(
            "verifier: {}\nsigner: {}",
            verifier.log(),
            signer.as_ref().map(Milter::log).unwrap_or_default()
        )
    };

    // policyd-spf: the example's lines in Debian's file; the test's own line checks every
    // loopback client but 127.0.0.1 (Debian skips all of 127.0.0.0/8, which would leave
    // nothing to check here).
    std::fs::create_dir(dir.join("policyd-spf")).expect("policyd-spf dir");
    let mut spf_lines = section(&example, "/etc/postfix-policyd-spf-python/policyd-spf.conf");
    spf_lines.push("skip_addresses = 127.0.0.1/32,::1".into());
    let debian_spf = std::fs::read_to_string("/etc/postfix-policyd-spf-python/policyd-spf.conf")
        .expect("Debian's policyd-spf.conf");
    std::fs::write(
        dir.join("policyd-spf/policyd-spf.conf"),
        merge_conf(&debian_spf, &spf_lines, &[]),
    )
    .expect("policyd-spf.conf");

    // Postfix: main.cf.example and the example's main.cf lines (the later
    // smtpd_recipient_restrictions wins, as when an operator replaces it); the policy service
    // in master.cf.
    let sink = Sink::start();
    let smtpd_port = free_port();
    let main_cf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/postfix/main.cf.example"
    ))
    .expect("main.cf.example")
    .replace("/etc/postfix", &dir.display().to_string());
    postfix_conf(
        dir,
        smtpd_port,
        sink.port,
        None,
        &format!("{main_cf}\n{example}"),
    );
    let master_lines: Vec<String> = section(&example, "/etc/postfix/master.cf")
        .iter()
        .map(|l| localise(l, dir) + "\n")
        .collect();
    assert!(master_lines.concat().contains("argv=/usr/bin/policyd-spf "));
    let mut master_cf = std::fs::read_to_string(dir.join("master.cf")).expect("master.cf");
    master_cf.push_str(&master_lines.concat());
    std::fs::write(dir.join("master.cf"), master_cf).expect("master.cf");
    map_files(&s, dir, true);
    let pf = Postfix::start_with_resolver(dir, smtpd_port, Some(&resolv));
    let members = format!("cn=members,ou=groups,{SUFFIX}");
    let everyone = expected(&mut admin, &members);
    let list = format!("members@{LISTS}");
    let list_sig = format!("{LISTS} list2026 pass");

    // A member posts from its authorised server: SPF passes, the list relays it to everyone,
    // each copy signed by the list, the signature checked by dkimpy with the key in DNS.
    let msg = post(DE_TEAM, &list, "spf-pass");
    let (got, copies) = deliver(&pf, &sink, AUTHORISED, DE_TEAM, &list, &msg, "spf-pass");
    assert_eq!(got, everyone);
    let copy = one_copy(&copies);
    let received_spf = header(&copy, "Received-SPF");
    assert!(
        received_spf.len() == 1 && received_spf[0].starts_with("Pass "),
        "{received_spf:?}"
    );
    assert_eq!(
        dkim_verify(&copy, &dns),
        vec![list_sig.clone()],
        "{copy}\n{}",
        dkim_logs(&signer)
    );
    // The verifier saw no signature.
    let ar = header(&copy, "Authentication-Results");
    assert!(ar.iter().any(|a| a.contains("dkim=none")), "{ar:?}");
    // The signature covers the body: one changed line and it fails.
    let tampered = copy.replace("Indicators follow.", "Indicators follow!");
    let v = dkim_verify(&tampered, &dns);
    assert!(
        v.len() == 1 && v[0].starts_with(&format!("{LISTS} list2026 fail")),
        "{v:?}"
    );

    // The same member's address from a server its SPF record does not name: refused at RCPT
    // TO by the SPF check (the members-only check alone would have let it through).
    let e = pf
        .send_message(
            FORGER,
            "client.test",
            DE_TEAM,
            &list,
            &post(DE_TEAM, &list, "forged"),
        )
        .expect_err("a forged member post was accepted");
    assert!(
        e.starts_with("RCPT TO:") && e.contains("-> 550 5.7.23 ") && e.contains("SPF fail"),
        "{e}\n{}",
        pf.maillog()
    );
    not_relayed(&pf, &sink, "forged");
    // A HELO name whose SPF record allows nothing: refused too (HELO_reject = Fail).
    let e = pf
        .send_message(
            AUTHORISED,
            "forged-helo.test",
            DE_TEAM,
            &list,
            &post(DE_TEAM, &list, "forged-helo"),
        )
        .expect_err("a post with a forged HELO name was accepted");
    assert!(
        e.starts_with("RCPT TO:") && e.contains("-> 550 5.7.23 ") && e.contains("s=helo"),
        "{e}"
    );

    // Members-only still applies: a non-member whose SPF passes is refused by the list check,
    // from a forged server by the SPF check first.
    let reporter = "reporter@example.org";
    let e = pf
        .send_message(
            AUTHORISED,
            "client.test",
            reporter,
            &list,
            &post(reporter, &list, "non-member"),
        )
        .expect_err("a non-member was accepted");
    assert!(
        e.starts_with("RCPT TO:") && e.contains("-> 550 5.7.1 ") && e.contains("list is closed"),
        "{e}"
    );
    let e = pf
        .send_message(
            FORGER,
            "client.test",
            reporter,
            &list,
            &post(reporter, &list, "non-member-forged"),
        )
        .expect_err("a forged non-member was accepted");
    assert!(e.contains("-> 550 5.7.23 "), "{e}");
    // A member domain without an SPF record (nic-fr.example) has no SPF protection: its
    // address is taken from any server, and only the members-only check applies.
    let msg = post(FR_TEAM, &list, "spf-none");
    let (got, copies) = deliver(&pf, &sink, FORGER, FR_TEAM, &list, &msg, "spf-none");
    assert_eq!(got, everyone);
    let received_spf = header(&one_copy(&copies), "Received-SPF");
    assert!(
        received_spf.len() == 1 && received_spf[0].starts_with("None "),
        "{received_spf:?}"
    );

    // A member's own DKIM signature: verified by the list (Authentication-Results), and still
    // valid at the recipient next to the list's.
    let key = member.join("member2026.private");
    let msg = dkim_sign(
        &post(DE_TEAM, &list, "member-signed"),
        &key,
        "nic-de.example",
        "member2026",
    );
    let (got, copies) = deliver(
        &pf,
        &sink,
        AUTHORISED,
        DE_TEAM,
        &list,
        &msg,
        "member-signed",
    );
    assert_eq!(got, everyone);
    let copy = one_copy(&copies);
    let ar = header(&copy, "Authentication-Results");
    assert!(
        ar.iter()
            .any(|a| a.contains("dkim=pass") && a.contains("header.d=nic-de.example")),
        "{ar:?}\n{}",
        dkim_logs(&signer)
    );
    // The list's signature on top, the member's below it.
    assert_eq!(
        dkim_verify(&copy, &dns),
        vec![
            list_sig.clone(),
            "nic-de.example member2026 pass".to_string()
        ],
        "{copy}"
    );
    // A member's signature that does not verify (the body changed on the way): rejected at the
    // end of DATA (On-BadSignature reject), nothing relayed.
    let msg = dkim_sign(
        &post(DE_TEAM, &list, "bad-signature"),
        &key,
        "nic-de.example",
        "member2026",
    )
    .replace("Indicators follow.", "Send the registry password.");
    let e = pf
        .send_message(AUTHORISED, "client.test", DE_TEAM, &list, &msg)
        .expect_err("a post with a bad signature was accepted");
    assert!(
        e.starts_with("message not accepted: -> 550 5.7.0 ") && e.contains("bad DKIM signature"),
        "{e}\n{}",
        dkim_logs(&signer)
    );
    not_relayed(&pf, &sink, "bad-signature");

    // The signer down: mail is deferred (milter_default_action = tempfail), not relayed
    // unsigned.
    drop(signer.take());
    let e = pf
        .send_message(
            AUTHORISED,
            "client.test",
            DE_TEAM,
            &list,
            &post(DE_TEAM, &list, "signer-down"),
        )
        .expect_err("accepted with the signer down");
    assert!(
        e.starts_with("MAIL FROM:") && e.contains("-> 451 4.7.1 "),
        "{e}"
    );
    not_relayed(&pf, &sink, "signer-down");
    drop(pf);
    drop(verifier);
    drop(dns);
}
