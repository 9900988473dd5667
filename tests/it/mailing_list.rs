//! The secure list: Debian's Postfix (postfix-ldap) with the shipped virtual alias map
//! (contrib/postfix/ccdir-lists.cf), against ccdir over LDAP with StartTLS. The list address
//! must expand to the member registries' 24/7 contact points, and follow a group change at once:
//! checked with `postmap -q`, and by a real, private Postfix instance (master in the
//! foreground with its own configuration directory, queue and port; the system's postfix is not
//! touched) that receives messages to the list over SMTP and relays them to a sink in the test,
//! which records the RCPT TO addresses.

use crate::harness::*;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LISTS: &str = "lists.cctld-ir.example";
const MAIL_SERVER: &str = "cn=mail-server,dc=cctld-ir,dc=example";
const MAIL_SERVER_PW: &str = "mail server secret 7";

fn postfix_available() -> bool {
    let ok = Path::new("/usr/sbin/postmap").exists()
        && Path::new("/usr/lib/postfix/postfix-ldap.so").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "postfix is missing in CI: .ci/run must install Debian's postfix and postfix-ldap"
        );
        eprintln!("Debian postfix/postfix-ldap not installed: mailing-list test skipped");
    }
    ok
}

/// The shipped map with the deployment's values filled in.
fn map_file(s: &TestServer, dir: &Path, for_postfix: bool) -> std::path::PathBuf {
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/postfix/ccdir-lists.cf"
    );
    let text = std::fs::read_to_string(shipped).expect("shipped map");
    // The CA where the Postfix daemons (user postfix) can read it.
    let ca = dir.join("ccdir-ca.pem");
    std::fs::copy(s.ca_file(), &ca).expect("copy CA");
    let mut out = String::new();
    let mut replaced = 0;
    for line in text.lines() {
        let l = match line.split_once(" = ").map(|x| x.0) {
            Some("server_host") => {
                format!("server_host = ldap://127.0.0.1:{}", s.ldap_addr().port())
            }
            Some("tls_ca_cert_file") => format!("tls_ca_cert_file = {}", ca.display()),
            Some("bind_pw") => format!("bind_pw = {MAIL_SERVER_PW}"),
            _ => line.to_string(),
        };
        if l != line {
            replaced += 1;
        }
        out.push_str(&l);
        out.push('\n');
    }
    assert_eq!(
        replaced, 3,
        "server_host, tls_ca_cert_file, bind_pw in the shipped map"
    );
    assert!(text.contains(&format!("\nbind_dn = {MAIL_SERVER}\n")));
    assert!(text.contains("\nstart_tls = yes\n"));
    let p = dir.join("ccdir-lists.cf");
    std::fs::write(&p, out).expect("write map");
    if for_postfix {
        // As installed (docs/operations/mailing-list.md): it holds the password.
        set_owner_mode(&p, Some("root"), Some("postfix"), 0o640);
    }
    p
}

/// The uid (from /etc/passwd) or gid (from /etc/group) of a system account.
fn system_id(file: &str, name: &str) -> u32 {
    std::fs::read_to_string(file)
        .expect(file)
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[0] == name).then(|| f[2].parse().expect("numeric id"))
        })
        .unwrap_or_else(|| panic!("{name} not in {file}"))
}

fn set_owner_mode(p: &Path, user: Option<&str>, group: Option<&str>, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let uid = user.map(|u| system_id("/etc/passwd", u));
    let gid = group.map(|g| system_id("/etc/group", g));
    std::os::unix::fs::chown(p, uid, gid).expect("chown");
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A private Postfix instance in `dir` (the system's postfix is not touched): main.cf with the
/// lines of contrib/postfix/main.cf.example (/etc/postfix replaced by `dir`), its own queue
/// and data directories, smtpd on 127.0.0.1:`smtpd_port`, and everything relayed to the
/// sink on 127.0.0.1:`sink_port`. master.cf is Debian's, with only the smtpd listener changed.
fn postfix_conf(dir: &Path, smtpd_port: u16, sink_port: u16) {
    let d = dir.display();
    let main = format!(
        "# A private instance for tests/it/mailing_list.rs.\n\
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
         smtpd_tls_security_level = none\n\
         {extra}",
        extra = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contrib/postfix/main.cf.example"
        ))
        .expect("main.cf.example")
        .replace("/etc/postfix", &d.to_string()),
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
fn postfix_startable() -> bool {
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
        eprintln!(
            "not root or no {MASTER}: Postfix delivery part of the mailing-list test skipped"
        );
    }
    ok
}

const MASTER: &str = "/usr/lib/postfix/sbin/master";

/// A running Postfix master (in the foreground, its own process group); stopped on drop.
struct Postfix {
    dir: std::path::PathBuf,
    master: std::process::Child,
    smtpd_port: u16,
}

impl Postfix {
    /// Create the queue and data directories, start master and wait for smtpd's greeting.
    fn start(dir: &Path, smtpd_port: u16) -> Postfix {
        use std::os::unix::process::CommandExt;
        let q = dir.join("queue");
        std::fs::create_dir(&q).expect("queue dir");
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
        let master = Command::new(MASTER)
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

    fn maillog(&self) -> String {
        std::fs::read_to_string(self.dir.join("maillog")).unwrap_or_default()
    }

    /// Messages still in the queue (incoming, active, deferred, hold, maildrop).
    fn queued(&self) -> usize {
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
    fn send(&self, to: &str, marker: &str) -> Result<(), String> {
        let c = TcpStream::connect(("127.0.0.1", self.smtpd_port)).expect("connect smtpd");
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
        step("EHLO client.test\r\n", "250")?;
        step("MAIL FROM:<reporter@example.org>\r\n", "250")?;
        step(&format!("RCPT TO:<{to}>\r\n"), "250")?;
        step("DATA\r\n", "354")?;
        step(
            &format!(
                "From: reporter@example.org\r\nTo: {to}\r\nSubject: incident {marker}\r\n\
                 X-Ccdir-Test: {marker}\r\n\r\nA test message.\r\n.\r\n"
            ),
            "250",
        )
        .map_err(|e| format!("message not accepted: {e}"))?;
        step("QUIT\r\n", "221")
    }

    /// Send to `to`, wait until Postfix has delivered it (queue empty), and return the RCPT TO
    /// addresses the sink received for it.
    fn expand(&self, sink: &Sink, to: &str, marker: &str) -> BTreeSet<String> {
        self.send(to, marker)
            .unwrap_or_else(|e| panic!("{to}: {e}\n{}", self.maillog()));
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
fn smtp_reply(r: &mut impl BufRead) -> std::io::Result<String> {
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
struct Sink {
    port: u16,
    log: Arc<SinkLog>,
}

/// Per transaction: the RCPT TO addresses and the message.
type SinkLog = Mutex<Vec<(Vec<String>, String)>>;

impl Sink {
    fn start() -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").expect("sink bind");
        let port = l.local_addr().expect("addr").port();
        let log: Arc<SinkLog> = Arc::default();
        let shared = log.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let log = shared.clone();
                std::thread::spawn(move || {
                    let _ = Sink::session(c, &log);
                });
            }
        });
        Sink { port, log }
    }

    fn session(c: TcpStream, log: &SinkLog) -> std::io::Result<()> {
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
                match (l.find('<'), l.find('>')) {
                    (Some(a), Some(b)) if a < b => rcpts.push(l[a + 1..b].to_string()),
                    _ => return Err(std::io::ErrorKind::InvalidData.into()),
                }
                "250 ok"
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
                    data.push_str(&line);
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

    /// The transactions that carried the message with `marker`, and their recipients (each
    /// once: a recipient given twice fails the test).
    fn recipients(&self, marker: &str) -> (usize, BTreeSet<String>) {
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

/// A free port on 127.0.0.1 (for smtpd in master.cf).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn postmap_q(dir: &Path, map: &Path, address: &str) -> BTreeSet<String> {
    let o = Command::new("/usr/sbin/postmap")
        .arg("-c")
        .arg(dir)
        .arg("-q")
        .arg(address)
        .arg(format!("ldap:{}", map.display()))
        .env("LDAPCONF", "/dev/null")
        .env("LDAPRC", "/nonexistent/ldaprc")
        .output()
        .expect("postmap");
    let out = stdout(&o);
    // Exit 1 with no output: not found. Anything else on stderr: a failed lookup.
    assert!(
        o.status.success() || (o.status.code() == Some(1) && out.is_empty()),
        "postmap -q {address}: {:?}\n{out}\n{}",
        o.status,
        stderr(&o)
    );
    out.trim()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().to_string())
        .collect()
}

/// What the list should expand to: for each member of the group, the mail of the registry's
/// contact point (or of the member itself).
fn expected(c: &mut LdapConn, group: &str) -> BTreeSet<String> {
    let get = |c: &mut LdapConn, dn: &str, attrs: Vec<&str>| -> Option<SearchEntry> {
        let (rs, _) = c
            .search(dn, Scope::Base, "(objectClass=*)", attrs)
            .ok()?
            .success()
            .ok()?;
        rs.into_iter().next().map(SearchEntry::construct)
    };
    let g = get(c, group, vec!["member"]).expect("group");
    let mut out = BTreeSet::new();
    for m in g.attrs.get("member").cloned().unwrap_or_default() {
        let Some(e) = get(c, &m, vec!["mail", "cctldContactPoint"]) else {
            continue;
        };
        out.extend(e.attrs.get("mail").cloned().unwrap_or_default());
        for p in e
            .attrs
            .get("cctldContactPoint")
            .cloned()
            .unwrap_or_default()
        {
            if let Some(t) = get(c, &p, vec!["mail"]) {
                out.extend(t.attrs.get("mail").cloned().unwrap_or_default());
            }
        }
    }
    out
}

#[test]
fn postfix_expands_the_list_from_the_directory() {
    if !postfix_available() {
        return;
    }
    let s = TestServer::start_with(|c| {
        c.load_sample = true;
        c.password.require_tls = true;
    });
    // The service account and its group, as contrib/postfix/mail-server.ldif has them.
    let mut admin = s.conn_starttls();
    admin
        .simple_bind(ADMIN, &s.admin_password())
        .expect("bind")
        .success()
        .expect("admin bind");
    let ldif = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/postfix/mail-server.ldif"
    ))
    .expect("mail-server.ldif")
    .replace("CHANGE-ME-AT-ONCE", MAIL_SERVER_PW);
    let o = s.tool(
        "ldapadd",
        &[
            "-H",
            &format!("ldap://127.0.0.1:{}", s.ldap_addr().port()),
            "-o",
            &format!("TLS_CACERT={}", s.ca_file().display()),
            "-o",
            "TLS_REQCERT=demand",
            "-ZZ",
            "-x",
            "-D",
            ADMIN,
            "-w",
            &s.admin_password(),
        ],
        Some(&ldif),
    );
    assert_eq!(code(&o), 0, "ldapadd: {}", stderr(&o));

    // The instance's configuration directory (also its queue, data and log), traversable by
    // the postfix user.
    let tmp = tempfile::tempdir().expect("tempdir");
    let startable = postfix_startable();
    if startable {
        set_owner_mode(tmp.path(), None, None, 0o755);
    }
    let sink = Sink::start();
    let smtpd_port = free_port();
    postfix_conf(tmp.path(), smtpd_port, sink.port);
    let map = map_file(&s, tmp.path(), startable);
    let members = format!("cn=members,ou=groups,{SUFFIX}");
    let list = format!("members@{LISTS}");

    // The whole community.
    let want = expected(&mut admin, &members);
    assert!(want.len() > 200, "{} addresses", want.len());
    let got = postmap_q(tmp.path(), &map, &list);
    assert_eq!(got, want);
    assert!(got.contains("security@nic-de.example"));

    // Postfix itself: a message to the list goes to exactly those addresses.
    let pf = startable.then(|| Postfix::start(tmp.path(), smtpd_port));
    if let Some(pf) = &pf {
        assert_eq!(pf.expand(&sink, &list, "all-1"), want);
    }

    // A region's list.
    let centr = format!("cn=region-centr,ou=groups,{SUFFIX}");
    let want_centr = expected(&mut admin, &centr);
    let got_centr = postmap_q(tmp.path(), &map, &format!("region-centr@{LISTS}"));
    assert_eq!(got_centr, want_centr);
    assert!(got_centr.len() < got.len() && got_centr.contains("security@nic-de.example"));

    // Not lists: other groups, other domains, unknown names.
    for a in [
        format!("directory-admins@{LISTS}"),
        format!("services@{LISTS}"),
        format!("nosuch@{LISTS}"),
        "members@example.org".to_string(),
    ] {
        assert!(postmap_q(tmp.path(), &map, &a).is_empty(), "{a}");
    }
    if let Some(pf) = &pf {
        assert_eq!(
            pf.expand(&sink, &format!("region-centr@{LISTS}"), "centr"),
            want_centr
        );
        // Not a list: refused at RCPT TO (nothing is queued).
        let e = pf
            .send(&format!("nosuch@{LISTS}"), "nosuch")
            .expect_err("nosuch@ accepted");
        assert!(
            e.starts_with("RCPT TO:") && e.contains("-> 550 5.1.1"),
            "{e}"
        );
        let e = pf
            .send(&format!("directory-admins@{LISTS}"), "admins")
            .expect_err("directory-admins@ accepted");
        assert!(
            e.starts_with("RCPT TO:") && e.contains("-> 550 5.1.1"),
            "{e}"
        );
    }

    // Unsubscribe .de: the next lookup leaves it out; subscribe it again: back.
    let de = format!("associatedDomain=de,ou=registries,{SUFFIX}");
    let rc = admin
        .modify(
            &members,
            vec![Mod::Delete("member", HashSet::from([de.as_str()]))],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
    let after = postmap_q(tmp.path(), &map, &list);
    assert!(!after.contains("security@nic-de.example"));
    assert_eq!(after.len() + 1, got.len());
    // The next message goes to the others only (Postfix caches nothing).
    if let Some(pf) = &pf {
        assert_eq!(pf.expand(&sink, &list, "all-2"), after);
    }
    // The registry's admins change where list mail arrives: their contact point's mail.
    let team = format!("cn=incident-response,{de}");
    let rc = admin
        .modify(
            &members,
            vec![Mod::Add("member", HashSet::from([de.as_str()]))],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
    let rc = admin
        .modify(
            &team,
            vec![Mod::Add("mail", HashSet::from(["csirt@nic-de.example"]))],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
    let back = postmap_q(tmp.path(), &map, &list);
    assert!(back.contains("security@nic-de.example") && back.contains("csirt@nic-de.example"));
    assert_eq!(back.len(), got.len() + 1);
    if let Some(pf) = &pf {
        assert_eq!(pf.expand(&sink, &list, "all-3"), back);
    }
    drop(pf);

    // postconf reads the map setting from the instance's main.cf.
    let o = Command::new("/usr/sbin/postconf")
        .arg("-c")
        .arg(tmp.path())
        .arg("-h")
        .arg("virtual_alias_maps")
        .output()
        .expect("postconf");
    assert_eq!(
        stdout(&o).trim(),
        format!("proxy:ldap:{}", map.display()),
        "{}",
        stderr(&o)
    );
}

/// Subscribing and unsubscribing under the default rules: a registry's admin may take the
/// registry off `cn=members` (never add to it: that is admission, and makes its people readers),
/// join and leave regional lists, and touch nothing else.
#[test]
fn registry_admins_change_only_their_own_list_memberships() {
    let s = TestServer::start_with(|c| c.load_sample = true);
    let reg = |tld: &str| format!("associatedDomain={tld},ou=registries,{SUFFIX}");
    let group = |cn: &str| format!("cn={cn},ou=groups,{SUFFIX}");
    let mut admin = s.admin();
    // .br's admin, with a password.
    let (r, _) = admin
        .search(
            &format!("cn=admins,{}", reg("br")),
            Scope::Base,
            "(objectClass=*)",
            vec!["member"],
        )
        .expect("search")
        .success()
        .expect("admins of .br");
    let br_admin = SearchEntry::construct(r[0].clone()).attrs["member"][0].clone();
    admin
        .modify(
            &br_admin,
            vec![Mod::Replace(
                "userPassword",
                HashSet::from(["Br-admin-pass-1"]),
            )],
        )
        .expect("modify")
        .success()
        .expect("set password");
    let mut br = s.conn();
    br.simple_bind(&br_admin, "Br-admin-pass-1")
        .expect("bind")
        .success()
        .expect("br admin binds");
    let members = |c: &mut LdapConn, g: &str| -> Vec<String> {
        let (r, _) = c
            .search(&group(g), Scope::Base, "(objectClass=*)", vec!["member"])
            .expect("search")
            .success()
            .expect("group");
        SearchEntry::construct(r[0].clone())
            .attrs
            .get("member")
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.to_ascii_lowercase())
            .collect()
    };
    let change =
        |c: &mut LdapConn, g: &str, m: Mod<&str>| c.modify(&group(g), vec![m]).expect("modify").rc;
    fn one(v: &str) -> HashSet<&str> {
        HashSet::from([v])
    }
    let (br_dn, de_dn) = (reg("br"), reg("de"));
    assert!(members(&mut admin, "members").contains(&br_dn.to_ascii_lowercase()));

    // Another registry, a replace, or another group: 50 (or 32 where the group is hidden).
    assert_eq!(
        change(&mut br, "members", Mod::Delete("member", one(&de_dn))),
        50
    );
    assert_eq!(
        change(&mut br, "region-lactld", Mod::Add("member", one(&de_dn))),
        50
    );
    assert_eq!(
        change(
            &mut br,
            "region-lactld",
            Mod::Replace("member", one(&br_dn))
        ),
        50
    );
    let rc = change(
        &mut br,
        "directory-admins",
        Mod::Add("member", one(&br_admin)),
    );
    assert!(rc == 50 || rc == 32, "{rc}");
    // Join and leave a regional list.
    assert_eq!(
        change(&mut br, "region-lactld", Mod::Add("member", one(&br_dn))),
        0
    );
    assert!(members(&mut admin, "region-lactld").contains(&br_dn.to_ascii_lowercase()));
    assert_eq!(
        change(&mut br, "region-lactld", Mod::Delete("member", one(&br_dn))),
        0
    );
    assert!(!members(&mut admin, "region-lactld").contains(&br_dn.to_ascii_lowercase()));
    // Leave cn=members: .br's people (its admin too) are no longer readers.
    assert_eq!(
        change(&mut br, "members", Mod::Delete("member", one(&br_dn))),
        0
    );
    assert!(!members(&mut admin, "members").contains(&br_dn.to_ascii_lowercase()));
    let r = br
        .search(&reg("de"), Scope::Base, "(objectClass=*)", vec!["o"])
        .expect("search");
    assert_eq!(r.1.rc, 32, "no longer an entitled reader");
    // Joining cn=members again is admission: the registry's admin cannot, a directory admin can.
    assert_eq!(
        change(&mut br, "members", Mod::Add("member", one(&br_dn))),
        50
    );
    assert_eq!(
        change(&mut admin, "members", Mod::Add("member", one(&br_dn))),
        0
    );
    // A person of a member registry who is not its admin cannot take it off.
    let other = format!("uid=night-shift,{br_dn}");
    admin
        .add(
            &other,
            vec![
                ("objectClass", HashSet::from(["inetOrgPerson"])),
                ("uid", HashSet::from(["night-shift"])),
                ("cn", HashSet::from(["Night Shift"])),
                ("sn", HashSet::from(["Shift"])),
            ],
        )
        .expect("add")
        .success()
        .expect("a second .br person");
    let other_reg = br_dn.clone();
    admin
        .modify(
            &other,
            vec![Mod::Replace(
                "userPassword",
                HashSet::from(["Br-person-pass-2"]),
            )],
        )
        .expect("modify")
        .success()
        .expect("set password");
    let mut p = s.conn();
    p.simple_bind(&other, "Br-person-pass-2")
        .expect("bind")
        .success()
        .expect("person binds");
    assert_eq!(
        change(&mut p, "members", Mod::Delete("member", one(&other_reg))),
        50
    );
}
