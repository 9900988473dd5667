//! The `ccdir` command itself: serve with graceful shutdown, hash-password, check-config.

use crate::harness::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ccdir() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ccdir"))
}

#[test]
fn serve_creates_the_directory_and_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut child = ccdir()
        .args(["serve", "--data-dir"])
        .arg(&data)
        .args([
            "--ldap-listen",
            "127.0.0.1:0",
            "--ldaps-listen",
            "127.0.0.1:0",
            "--set",
            "password.argon2_memory_kib=256",
            "--set",
        ])
        .arg(format!(
            "audit.output={}",
            tmp.path().join("audit.log").display()
        ))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ccdir");
    let _guard = KillOnDrop(child.id());
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let mut ldap_port = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while ldap_port.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.split("listening on ldap://127.0.0.1:").nth(1) {
                ldap_port = rest.trim().parse::<u16>().ok();
            }
            log.push(line);
        }
    }
    let port = ldap_port.unwrap_or_else(|| panic!("no listening line in log:\n{}", log.join("\n")));
    let all = log.join("\n");
    assert!(
        all.contains("admin-password"),
        "log names the password file:\n{all}"
    );
    assert!(all.contains(ADMIN), "log names the admin DN:\n{all}");
    assert!(
        !all.contains('\u{1b}'),
        "no colour codes when not on a terminal"
    );
    // Data dir contents and modes.
    let pw = std::fs::read_to_string(data.join("admin-password")).expect("password file");
    assert!(pw.len() >= 16 && !pw.ends_with('\n'));
    assert!(!all.contains(&pw), "the password is not logged");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("admin-password"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(data.join("server.key"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for f in ["ccdir.redb", "ca.pem", "server.pem"] {
        assert!(data.join(f).exists(), "{f}");
    }
    // It serves. By default a password travels only over TLS: over plain LDAP the bind is
    // refused with confidentialityRequired, after StartTLS with the generated CA it works.
    let mut c = ldap3::LdapConn::new(&format!("ldap://127.0.0.1:{port}")).expect("connect");
    assert_eq!(c.simple_bind(ADMIN, &pw).expect("bind").rc, 13);
    let o = Command::new("ldapwhoami")
        .args([
            "-x",
            "-ZZ",
            "-H",
            &format!("ldap://127.0.0.1:{port}"),
            "-D",
            ADMIN,
            "-y",
        ])
        .arg(data.join("admin-password"))
        .env("LDAPTLS_CACERT", data.join("ca.pem"))
        .env("LDAPCONF", "/dev/null")
        .output()
        .expect("ldapwhoami");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout)
        .to_lowercase()
        .contains(&ADMIN.to_lowercase()));
    // Both binds are in the audit log, as JSON lines without the password.
    let audit = std::fs::read_to_string(tmp.path().join("audit.log")).expect("audit log");
    let binds: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains("\"op\":\"bind\""))
        .collect();
    assert_eq!(binds.len(), 2, "{audit}");
    assert!(
        binds[0].contains("\"result\":13") && binds[1].contains("\"result\":0"),
        "{audit}"
    );
    assert!(
        binds[1].contains(&format!("\"target\":\"{ADMIN}\""))
            && binds[1].contains("\"peer\":\"127.0.0.1:")
    );
    assert!(!audit.contains(&pw), "no password in the audit log");
    // A second server on the same data dir refuses to start.
    let second = ccdir()
        .args(["serve", "--data-dir"])
        .arg(&data)
        .args([
            "--ldap-listen",
            "127.0.0.1:0",
            "--ldaps-listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("second");
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // SIGTERM: clean stop with exit status 0.
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    // The reader thread may not have passed on the last lines yet: take lines until it ends
    // (the pipe closed with the process), not only those already sent.
    let mut rest: Vec<String> = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
        rest.push(l);
    }
    assert!(
        rest.iter().any(|l| l.contains("server stopped")),
        "{}",
        rest.join("\n")
    );
    // The connection got a Notice of Disconnection or a close; a new connection is refused.
    assert!(ldap3::LdapConn::new(&format!("ldap://127.0.0.1:{port}")).is_err());
}

#[test]
fn hash_password_prints_an_argon2id_hash() {
    let mut child = ccdir()
        .args(["hash-password", "--set", "password.argon2_memory_kib=256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"s3cret pass\n")
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success());
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        hash.starts_with("{ARGON2}$argon2id$v=19$m=256,t=2,p=1$"),
        "{hash}"
    );
    // The hash works for a bind when loaded into an entry.
    let s = TestServer::start();
    let mut c = s.admin();
    add(
        &mut c,
        &person_dn("h"),
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &["h"]),
            ("cn", &["H"]),
            ("sn", &["H"]),
            ("userPassword", &[&hash]),
        ],
    );
    let mut u = s.conn();
    assert_eq!(
        u.simple_bind(&person_dn("h"), "s3cret pass")
            .expect("bind")
            .rc,
        0
    );
    // Empty input is refused.
    let out = ccdir()
        .arg("hash-password")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
}

#[test]
fn check_config_accepts_the_example_and_names_errors() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/ccdir.example.toml");
    let out = ccdir()
        .args(["check-config", "--config", example])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
    let tmp = tempfile::tempdir().expect("tmp");
    for (text, needle) in [
        ("nosuchkey = 1\n", "unknown field"),
        ("[limits]\nmax_connections = 0\n", "limits.max_connections"),
        ("[listen]\nldap = [\"nowhere\"]\n", "nowhere"),
    ] {
        let p = tmp.path().join("bad.toml");
        std::fs::write(&p, text).expect("write");
        let out = ccdir()
            .args(["check-config", "--config"])
            .arg(&p)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{text}: {err}");
    }
    let out = ccdir()
        .args(["check-config", "--set", "limits.size_limit=abc"])
        .output()
        .expect("run");
    assert!(!out.status.success());
}

/// Ends the server process if the test fails before stopping it.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// Start `ccdir serve` on port 0 and return it with its LDAP port (read from its log).
fn spawn_serve(data: &std::path::Path) -> (std::process::Child, u16) {
    let mut child = ccdir()
        .args(["serve", "--data-dir"])
        .arg(data)
        .args([
            "--ldap-listen",
            "127.0.0.1:0",
            "--ldaps-listen",
            "127.0.0.1:0",
            "--set",
            "password.argon2_memory_kib=256",
            "--set",
            "password.require_tls=false",
            "--set",
            "audit.output=none",
            "--set",
            "load_sample=false",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ccdir");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<u16>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ldap://127.0.0.1:").nth(1) {
                if let Ok(p) = rest.trim().parse::<u16>() {
                    let _ = tx.send(p);
                }
            }
        }
    });
    let port = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server port");
    (child, port)
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut password = String::new();
    for round in 0..3 {
        let (mut child, port) = spawn_serve(&data);
        let _guard = KillOnDrop(child.id());
        if round == 0 {
            password = std::fs::read_to_string(data.join("admin-password")).expect("pw");
        }
        let mut c = ldap3::LdapConn::new(&format!("ldap://127.0.0.1:{port}")).expect("connect");
        assert_eq!(c.simple_bind(ADMIN, &password).expect("bind").rc, 0);
        // Everything acknowledged before this round is still there.
        for dn in &acknowledged {
            let r = c
                .search(dn, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
                .expect("search");
            assert_eq!(r.1.rc, 0, "round {round}: acknowledged {dn} lost");
        }
        // Write under load from another thread, and kill the server in the middle.
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let writer = std::thread::spawn(move || {
            let mut i = 0;
            loop {
                let cn = format!("w{round}-{i}");
                let dn = format!("cn=w{round}-{i},ou=groups,{SUFFIX}");
                let attrs = vec![
                    (
                        "objectClass",
                        ["organizationalRole"]
                            .into_iter()
                            .collect::<std::collections::HashSet<_>>(),
                    ),
                    ("cn", [cn.as_str()].into_iter().collect()),
                ];
                match c.add(&dn, attrs) {
                    Ok(r) if r.rc == 0 => {
                        if tx.send(dn).is_err() {
                            return;
                        }
                    }
                    _ => return,
                }
                i += 1;
            }
        });
        std::thread::sleep(Duration::from_millis(400));
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let _ = child.wait();
        let _ = writer.join();
        let before = acknowledged.len();
        acknowledged.extend(rx.try_iter());
        assert!(
            acknowledged.len() > before,
            "round {round}: no write acknowledged"
        );
    }
    // A last start: the store opens cleanly and holds every acknowledged write.
    let (child, port) = spawn_serve(&data);
    let _guard = KillOnDrop(child.id());
    let mut c = ldap3::LdapConn::new(&format!("ldap://127.0.0.1:{port}")).expect("connect");
    assert_eq!(c.simple_bind(ADMIN, &password).expect("bind").rc, 0);
    let r = c
        .search(
            &format!("ou=groups,{SUFFIX}"),
            ldap3::Scope::OneLevel,
            "(cn=w*)",
            vec!["1.1"],
        )
        .expect("search");
    let found: std::collections::HashSet<String> =
        r.0.into_iter()
            .map(|e| ldap3::SearchEntry::construct(e).dn.to_lowercase())
            .collect();
    for dn in &acknowledged {
        assert!(found.contains(&dn.to_lowercase()), "{dn} lost");
    }
}

/// `ccdir export | head` and `ccdir report ... | head`: the reader leaves early; the command
/// ends with status 0 and says nothing about a broken pipe. The offline export streams (it
/// is still writing when the reader leaves: more than a pipe buffer of LDIF).
#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::io::Read;
    let tmp = tempfile::tempdir().expect("tmp");
    let ldif = tmp.path().join("people.ldif");
    let base = tmp.path().join("base.ldif");
    std::fs::write(
        &base,
        "dn: dc=cctld-ir,dc=example\nobjectClass: top\nobjectClass: dcObject\n\
         objectClass: organization\ndc: cctld-ir\no: test\n",
    )
    .expect("write");
    let st = ccdir()
        .args(["gen-sample", "--count", "3000", "-o"])
        .arg(&ldif)
        .status()
        .expect("gen-sample");
    assert!(st.success());
    let data = tmp.path().join("data");
    let out = ccdir()
        .args(["import", "-q", "--data-dir"])
        .arg(&data)
        .arg(&base)
        .arg(&ldif)
        .output()
        .expect("import");
    assert!(out.status.success(), "{out:?}");
    for args in [
        vec!["export"],
        vec!["report", "overdue"],
        vec!["roster", "--format", "csv"],
    ] {
        let mut child = ccdir()
            .args(&args)
            .arg("--data-dir")
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 16];
        stdout.read_exact(&mut first).ok();
        drop(stdout);
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(
            !err.to_lowercase().contains("broken pipe") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}
