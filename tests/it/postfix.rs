//! A private Postfix instance for the tests that need a real mail server (mailing_list.rs,
//! reminders.rs): master in the foreground with its own configuration directory, queue and
//! port (the system's postfix is not touched), relaying everything to a sink in the test that
//! records each transaction's RCPT TO addresses and message.

#![allow(dead_code)]

use crate::harness::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn postfix_available() -> bool {
    let ok = Path::new("/usr/sbin/postmap").exists()
        && Path::new("/usr/lib/postfix/postfix-ldap.so").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "postfix is missing in CI: .ci/run must install Debian's postfix and postfix-ldap"
        );
        eprintln!("Debian postfix/postfix-ldap not installed: Postfix test skipped");
    }
    ok
}

/// The uid (from /etc/passwd) or gid (from /etc/group) of a system account.
pub fn system_id(file: &str, name: &str) -> u32 {
    std::fs::read_to_string(file)
        .expect(file)
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[0] == name).then(|| f[2].parse().expect("numeric id"))
        })
        .unwrap_or_else(|| panic!("{name} not in {file}"))
}

pub fn set_owner_mode(p: &Path, user: Option<&str>, group: Option<&str>, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let uid = user.map(|u| system_id("/etc/passwd", u));
    let gid = group.map(|g| system_id("/etc/group", g));
    std::os::unix::fs::chown(p, uid, gid).expect("chown");
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A private Postfix instance in `dir` (the system's postfix is not touched): main.cf with its
/// own queue and data directories, smtpd on 127.0.0.1:`smtpd_port` (offering STARTTLS with
/// `smtpd_tls`'s certificate and key when given), everything relayed to the sink on
/// 127.0.0.1:`sink_port`, then the lines `extra`. master.cf is Debian's, with only the smtpd
/// listener changed.
pub fn postfix_conf(
    dir: &Path,
    smtpd_port: u16,
    sink_port: u16,
    smtpd_tls: Option<(&Path, &Path)>,
    extra: &str,
) {
    let d = dir.display();
    let main = format!(
        "# A private instance for the tests (tests/it/postfix.rs).\n\
         compatibility_level = 3.6\n\
         queue_directory = {d}/queue\n\
         data_directory = {d}/data\n\
         maillog_file_prefixes = {d}\n\
         maillog_file = {d}/maillog\n\
         # libldap in the daemons: not the machine's ldap.conf or ldaprc.\n\
         import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE \
         POSTLOG_HOSTNAME LDAPNOINIT=1\n\
         inet_interfaces = 127.0.0.1\n\
         inet_protocols = ipv4\n\
         myhostname = localhost\n\
         mydestination =\n\
         mynetworks = 127.0.0.0/8\n\
         alias_maps =\n\
         alias_database =\n\
         relayhost = [127.0.0.1]:{sink_port}\n\
         smtp_dns_support_level = disabled\n\
         smtp_tls_security_level = none\n\
         {tls}\
         {extra}",
        tls = match smtpd_tls {
            None => "smtpd_tls_security_level = none\n".to_string(),
            Some((cert, key)) => format!(
                "smtpd_tls_security_level = may\n\
                 smtpd_tls_cert_file = {}\n\
                 smtpd_tls_key_file = {}\n",
                cert.display(),
                key.display()
            ),
        },
    );
    std::fs::write(dir.join("main.cf"), main).expect("main.cf");
    // Debian's master.cf (chroot for smtpd, cleanup, smtp and others), smtpd on our port.
    let debian = std::fs::read_to_string("/etc/postfix/master.cf").expect("master.cf");
    let mut listeners = 0;
    let master: String = debian
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if !l.starts_with('#') && f.len() >= 8 && f[1] == "inet" {
                listeners += 1;
                assert_eq!((f[0], f[7]), ("smtp", "smtpd"), "{l}");
                format!("127.0.0.1:{smtpd_port} {}\n", f[1..].join(" "))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_eq!(listeners, 1, "one smtpd listener in Debian's master.cf");
    std::fs::write(dir.join("master.cf"), master).expect("master.cf");
}

/// Whether this machine can run a private Postfix (master as root); in CI it must.
pub fn postfix_startable() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| stdout(&o).trim() == "0")
        .unwrap_or(false);
    let ok = root && Path::new(MASTER).exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the tests as root with Debian's postfix installed ({MASTER})"
        );
        eprintln!("not root or no {MASTER}: Postfix delivery test (or part) skipped");
    }
    ok
}

pub const MASTER: &str = "/usr/lib/postfix/sbin/master";

/// A running Postfix master (in the foreground, its own process group); stopped on drop.
pub struct Postfix {
    dir: std::path::PathBuf,
    master: std::process::Child,
    smtpd_port: u16,
}

impl Postfix {
    /// Create the queue and data directories, start master and wait for smtpd's greeting.
    pub fn start(dir: &Path, smtpd_port: u16) -> Postfix {
        Postfix::start_with_resolver(dir, smtpd_port, None)
    }

    /// `start`, with `resolv_conf` (when given) as the instance's /etc/resolv.conf: master runs
    /// in a private mount namespace (`unshare --mount`) where that file is bind-mounted over
    /// /etc/resolv.conf, so the instance's daemons and the commands they spawn (the SPF policy
    /// service) ask the test's DNS server; the system's file is not touched.
    pub fn start_with_resolver(dir: &Path, smtpd_port: u16, resolv_conf: Option<&Path>) -> Postfix {
        use std::os::unix::process::CommandExt;
        let q = dir.join("queue");
        // It may exist already (a milter socket directory inside the chroot).
        std::fs::create_dir_all(&q).expect("queue dir");
        set_owner_mode(&q, Some("root"), Some("root"), 0o755);
        for sub in [
            "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
            "saved", "trace", "private",
        ] {
            std::fs::create_dir(q.join(sub)).expect("queue subdir");
            set_owner_mode(&q.join(sub), Some("postfix"), None, 0o700);
        }
        std::fs::create_dir(q.join("pid")).expect("pid dir");
        std::fs::create_dir(q.join("public")).expect("public dir");
        set_owner_mode(&q.join("public"), Some("postfix"), Some("postdrop"), 0o710);
        std::fs::create_dir(q.join("maildrop")).expect("maildrop dir");
        set_owner_mode(
            &q.join("maildrop"),
            Some("postfix"),
            Some("postdrop"),
            0o1730,
        );
        std::fs::create_dir(dir.join("data")).expect("data dir");
        set_owner_mode(&dir.join("data"), Some("postfix"), None, 0o700);
        let mut cmd = match resolv_conf {
            None => Command::new(MASTER),
            Some(conf) => {
                // unshare and sh exec, so the child's pid is master's.
                let mut c = Command::new("unshare");
                c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
                    .arg("mount --bind \"$1\" /etc/resolv.conf && shift && exec \"$@\"")
                    .arg("sh")
                    .arg(conf)
                    .arg(MASTER);
                c
            }
        };
        let master = cmd
            .arg("-c")
            .arg(dir)
            .arg("-d")
            // master's SIGTERM handler signals its process group: its own, not the tests'.
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start postfix master");
        let mut pf = Postfix {
            dir: dir.to_path_buf(),
            master,
            smtpd_port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = pf.master.try_wait().expect("try_wait") {
                panic!("postfix master exited: {st}\n{}", pf.maillog());
            }
            if let Ok(c) = TcpStream::connect(("127.0.0.1", smtpd_port)) {
                c.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut r = BufReader::new(c);
                if smtp_reply(&mut r).is_ok_and(|l| l.starts_with("220")) {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "postfix smtpd did not answer\n{}",
                pf.maillog()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pf
    }

    pub fn maillog(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }

    /// Messages still in the queue (incoming, active, deferred, hold, maildrop).
    pub fn queued(&self) -> usize {
        fn count(p: &Path) -> usize {
            std::fs::read_dir(p).map_or(0, |rd| {
                rd.flatten()
                    .map(|e| {
                        if e.file_type().is_ok_and(|t| t.is_dir()) {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
        }
        ["incoming", "active", "deferred", "hold", "maildrop"]
            .iter()
            .map(|d| count(&self.dir.join("queue").join(d)))
            .sum()
    }

    /// Send a message to `to` over SMTP; Err(reply) if Postfix refuses the recipient.
    pub fn send(&self, to: &str, marker: &str) -> Result<(), String> {
        self.send_from("reporter@example.org", to, marker)
    }

    /// Send a message from `from` (envelope and header) to `to` over SMTP; Err(reply) if
    /// Postfix refuses the sender or recipient.
    pub fn send_from(&self, from: &str, to: &str, marker: &str) -> Result<(), String> {
        let message = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: incident {marker}\r\n\
             X-Ccdir-Test: {marker}\r\n\r\nA test message.\r\n"
        );
        self.send_message(
            std::net::Ipv4Addr::LOCALHOST,
            "client.test",
            from,
            to,
            &message,
        )
    }

    /// One SMTP transaction from the local address `src` (any address in 127.0.0.0/8: the
    /// client the server sees), greeting with `helo`: envelope `from` and `to`, and `message`
    /// (CRLF lines) as the data. Err(the command and the reply) where Postfix refuses, at
    /// any step (`message not accepted: ...` after the data).
    pub fn send_message(
        &self,
        src: std::net::Ipv4Addr,
        helo: &str,
        from: &str,
        to: &str,
        message: &str,
    ) -> Result<(), String> {
        let c = connect_from(src, self.smtpd_port);
        c.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let mut w = c.try_clone().expect("clone");
        let mut r = BufReader::new(c);
        let mut step = |cmd: &str, want: &str| -> Result<(), String> {
            if !cmd.is_empty() {
                w.write_all(cmd.as_bytes()).expect("smtp write");
            }
            let reply = smtp_reply(&mut r).expect("smtp reply");
            if reply.starts_with(want) {
                Ok(())
            } else {
                let _ = w.write_all(b"QUIT\r\n");
                Err(format!("{}-> {reply}", cmd.trim_end()))
            }
        };
        step("", "220")?;
        step(&format!("EHLO {helo}\r\n"), "250")?;
        step(&format!("MAIL FROM:<{from}>\r\n"), "250")?;
        step(&format!("RCPT TO:<{to}>\r\n"), "250")?;
        step("DATA\r\n", "354")?;
        // Transparency (RFC 5321 4.5.2): a leading dot is doubled.
        let mut data: String = message
            .split_inclusive("\r\n")
            .map(|l| {
                if l.starts_with('.') {
                    format!(".{l}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        if !data.ends_with("\r\n") {
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        step(&data, "250").map_err(|e| {
            // Only the reply: the data itself is long.
            let reply = e.rsplit("-> ").next().unwrap_or(&e).to_string();
            format!("message not accepted: -> {reply}")
        })?;
        step("QUIT\r\n", "221")
    }

    /// Send to `to`, wait until Postfix has delivered it (queue empty), and return the RCPT TO
    /// addresses the sink received for it.
    pub fn expand(&self, sink: &Sink, to: &str, marker: &str) -> BTreeSet<String> {
        self.expand_from(sink, "reporter@example.org", to, marker)
    }

    /// `expand` with the message sent from `from`.
    pub fn expand_from(&self, sink: &Sink, from: &str, to: &str, marker: &str) -> BTreeSet<String> {
        self.send_from(from, to, marker)
            .unwrap_or_else(|e| panic!("{from} -> {to}: {e}\n{}", self.maillog()));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (n, got) = sink.recipients(marker);
            if n > 0 && self.queued() == 0 {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{to}: not delivered in 30 s ({n} transactions)\n{}",
                self.maillog()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let pid = self.master.id().to_string();
        let running = self.master.try_wait().ok().flatten().is_none();
        // The shell's kill builtin (no procps needed).
        let quiet = |args: &[&str]| {
            let _ = Command::new("sh")
                .args(["-c", "kill \"$@\"", "kill"])
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        };
        if running {
            quiet(&["-s", "TERM", &pid]);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.master.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the instance (its own process group).
        quiet(&["-s", "KILL", "--", &format!("-{pid}")]);
        let _ = self.master.wait();
    }
}

/// One SMTP reply (the last line of a multi-line one).
pub fn smtp_reply(r: &mut impl BufRead) -> std::io::Result<String> {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(line.trim_end().to_string());
        }
    }
}

/// The mail servers of the list's recipients, in one: an SMTP server on 127.0.0.1 that accepts
/// everything and records each transaction's RCPT TO addresses and message.
pub struct Sink {
    pub port: u16,
    log: Arc<SinkLog>,
}

/// The addresses a sink refuses (550 5.1.1 at RCPT TO), as a mail server refuses a dead
/// mailbox.
type Refused = Arc<Vec<String>>;

/// Per transaction: the RCPT TO addresses and the message.
pub type SinkLog = Mutex<Vec<(Vec<String>, String)>>;

impl Sink {
    pub fn start() -> Sink {
        Sink::start_refusing(&[])
    }

    /// A sink that refuses these recipients for good.
    pub fn start_refusing(refused: &[&str]) -> Sink {
        let refused: Refused = Arc::new(refused.iter().map(|r| r.to_string()).collect());
        let l = TcpListener::bind("127.0.0.1:0").expect("sink bind");
        let port = l.local_addr().expect("addr").port();
        let log: Arc<SinkLog> = Arc::default();
        let shared = log.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let log = shared.clone();
                let refused = refused.clone();
                std::thread::spawn(move || {
                    let _ = Sink::session(c, &log, &refused);
                });
            }
        });
        Sink { port, log }
    }

    fn session(c: TcpStream, log: &SinkLog, refused: &[String]) -> std::io::Result<()> {
        c.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut w = c.try_clone()?;
        let mut r = BufReader::new(c);
        // Not Postfix's myhostname (localhost), or it would see a mail loop.
        w.write_all(b"220 sink.test ESMTP\r\n")?;
        let mut rcpts = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            let reply = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                "250 sink.test"
            } else if cmd.starts_with("MAIL") || cmd == "RSET" {
                rcpts.clear();
                "250 ok"
            } else if cmd.starts_with("RCPT") {
                let l = line.trim_end();
                let to = match (l.find('<'), l.find('>')) {
                    (Some(a), Some(b)) if a < b => l[a + 1..b].to_string(),
                    _ => return Err(std::io::ErrorKind::InvalidData.into()),
                };
                if refused.iter().any(|r| r.eq_ignore_ascii_case(&to)) {
                    "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
                } else {
                    rcpts.push(to);
                    "250 ok"
                }
            } else if cmd == "DATA" {
                w.write_all(b"354 go ahead\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line.trim_end() == "." {
                        break;
                    }
                    // Transparency (RFC 5321 4.5.2): a leading dot was doubled.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                log.lock()
                    .expect("sink log")
                    .push((std::mem::take(&mut rcpts), data));
                "250 accepted"
            } else if cmd == "QUIT" {
                w.write_all(b"221 bye\r\n")?;
                return Ok(());
            } else {
                "250 ok"
            };
            w.write_all(format!("{reply}\r\n").as_bytes())?;
        }
    }

    /// Every transaction so far: its RCPT TO addresses and message.
    pub fn messages(&self) -> Vec<(Vec<String>, String)> {
        self.log.lock().expect("sink log").clone()
    }

    /// The transactions that carried the message with `marker`, and their recipients (each
    /// once: a recipient given twice fails the test).
    pub fn recipients(&self, marker: &str) -> (usize, BTreeSet<String>) {
        let header = format!("X-Ccdir-Test: {marker}\r\n");
        let log = self.log.lock().expect("sink log");
        let mine: Vec<_> = log.iter().filter(|(_, d)| d.contains(&header)).collect();
        let mut all = BTreeSet::new();
        for r in mine.iter().flat_map(|(r, _)| r) {
            assert!(all.insert(r.clone()), "{marker}: {r} delivered twice");
        }
        (mine.len(), all)
    }
}

/// A TCP connection to 127.0.0.1:`port` from the local address `src`.
pub fn connect_from(src: std::net::Ipv4Addr, port: u16) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    s.bind(&std::net::SocketAddr::from((src, 0)).into())
        .unwrap_or_else(|e| panic!("bind {src}: {e}"));
    s.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())
        .expect("connect smtpd");
    s.into()
}

/// A free port on 127.0.0.1 (for smtpd in master.cf).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}
