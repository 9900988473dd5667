//! `ccdir serve` as systemd runs it (contrib/systemd/ccdir.service, Type=notify): READY=1 on
//! the notification socket once it listens, RELOADING=1/READY=1 around a SIGHUP, which makes new
//! TLS handshakes serve the certificate now in the files (a renewal), and STOPPING=1 on SIGTERM.
//! The served certificate (LDAPS and the portal's HTTPS) is read by Python's ssl module.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The next notification the server sent.
fn next(sock: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .expect("a notification within the timeout");
    String::from_utf8_lossy(&buf[..n]).to_string()
}

/// The base64 body of the first certificate of a PEM text.
fn body(pem: &str) -> String {
    pem.lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect::<String>()
}

fn served(port: u16) -> String {
    let o = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import ssl,sys; print(ssl.get_server_certificate(('127.0.0.1', int(sys.argv[1]))))",
            &port.to_string(),
        ])
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    body(&String::from_utf8_lossy(&o.stdout))
}

#[test]
fn systemd_notify_and_certificate_reload_on_sighup() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let (_, _, cert_a, key_a) = ccdir::app::tls::generate(&[]).expect("generate");
    let (_, _, cert_b, key_b) = ccdir::app::tls::generate(&[]).expect("generate");
    std::fs::write(&cert, &cert_a).expect("write");
    std::fs::write(&key, &key_a).expect("write");
    let notify = tmp.path().join("notify.sock");
    let sock = UnixDatagram::bind(&notify).expect("notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let (ldap, ldaps, portal) = (free_port(), free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(["serve", "--data-dir"])
        .arg(tmp.path().join("data"))
        .args(["--ldap-listen", &format!("127.0.0.1:{ldap}")])
        .args(["--ldaps-listen", &format!("127.0.0.1:{ldaps}")])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .args([
            "--set",
            "load_sample=false",
            "--set",
            "password.argon2_memory_kib=256",
            "--set",
            &format!("listen.portal=\"127.0.0.1:{portal}\""),
        ])
        .env("NOTIFY_SOCKET", &notify)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ccdir serve");
    assert!(next(&sock).contains("READY=1"));
    assert_eq!(served(ldaps), body(&cert_a));
    // The portal serves the same certificate (docs/portal.md).
    assert_eq!(served(portal), body(&cert_a));

    // A renewal: new files, SIGHUP.
    std::fs::write(&cert, &cert_b).expect("write");
    std::fs::write(&key, &key_b).expect("write");
    let hup = |pid: u32| {
        let ok = Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    hup(child.id());
    assert!(next(&sock).contains("RELOADING=1"));
    assert!(next(&sock).contains("READY=1"));
    assert_eq!(served(ldaps), body(&cert_b));
    assert_eq!(
        served(portal),
        body(&cert_b),
        "the portal's certificate is reloaded too"
    );

    // A broken renewal leaves the certificate in use.
    std::fs::write(&key, "not a key").expect("write");
    hup(child.id());
    assert!(next(&sock).contains("RELOADING=1"));
    assert!(next(&sock).contains("READY=1"));
    assert_eq!(served(ldaps), body(&cert_b));

    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    assert!(next(&sock).contains("STOPPING=1"));
    let out = child.wait_with_output().expect("exit");
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("TLS certificate reloaded"), "{log}");
    assert!(log.contains("TLS certificate not reloaded"), "{log}");
}
