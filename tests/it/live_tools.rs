//! Reports, roster, export, check and backup from the running server (docs/operations.md,
//! "Reports and backups from the running server"): the `ccdir` commands ask the server through
//! the live-tool extended operation over LDAPS, as the administrator by default or as a bound
//! identity whose view access control decides; a backup taken under a write load holds every
//! write acknowledged before it started, and `ccdir restore` brings it back.

use crate::freshness::{alice, setup, team, REG};
use crate::harness::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    ccdir(args, data)
}

#[test]
fn commands_ask_the_running_server_as_the_admin_or_as_a_bound_identity() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let s = TestServer::start_config(test_config(&data));
    setup(&s);
    let mut c = s.admin();
    add(
        &mut c,
        &team(),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("associatedDomain", &["zz"]),
            ("telephoneNumber", &["+49 69 1234 0100"]),
            ("cctldAvailable247", &["TRUE"]),
            ("cctldEmergencyTelephoneNumber", &["+49 69 1234 0199"]),
        ],
    );
    // Another registry alice may not read (nobody is a member of cn=members here).
    add(
        &mut c,
        "associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example",
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("o", &["Registry of .yy"]),
            ("associatedDomain", &["yy"]),
        ],
    );
    add(
        &mut c,
        "cn=incident-response,associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example",
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("associatedDomain", &["yy"]),
            ("telephoneNumber", &["+41 44 668 1800"]),
        ],
    );
    let ldaps = format!("127.0.0.1:{}", s.server().ldaps_addrs[0].port());
    let url = format!("ldaps://{ldaps}");

    // Without options: the data directory is in use, so the command asks the server at its
    // configured listener, as the administrator (the generated password file, the generated CA).
    // (The configuration names the listener; here --set stands for the config file.)
    let listen = format!("listen.ldaps=[\"{ldaps}\"]");
    let o = run(&data, &["roster", "--format", "csv", "--set", &listen]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("asking the running server"),
        "{}",
        stderr(&o)
    );
    let all = stdout(&o);
    assert!(
        all.contains("+49 69 1234 0100") && all.contains("+41 44 668 1800"),
        "{all}"
    );

    // As alice, a registry admin of .zz: only what she may read.
    let pw = tmp.path().join("alice.pw");
    std::fs::write(&pw, "alice secret 1\n").expect("pw");
    let pws = pw.to_str().expect("path");
    let o = run(
        &data,
        &[
            "roster",
            "--format",
            "csv",
            "--url",
            &url,
            "--bind-dn",
            &alice(),
            "--password-file",
            pws,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let hers = stdout(&o);
    assert!(hers.contains("+49 69 1234 0100"), "{hers}");
    assert!(!hers.contains("+41 44 668 1800"), "{hers}");
    let o = run(
        &data,
        &[
            "report",
            "overdue",
            "--format",
            "json",
            "--within",
            "30",
            "--url",
            &url,
            "--bind-dn",
            &alice(),
            "--password-file",
            pws,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("associatedDomain=yy"),
        "{}",
        stdout(&o)
    );
    // Export, check and backup read everything: not for alice.
    let o = run(
        &data,
        &[
            "export",
            "--url",
            &url,
            "--bind-dn",
            &alice(),
            "--password-file",
            pws,
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("result 50"), "{}", stderr(&o));
    // --as is for a stopped data directory.
    let o = run(
        &data,
        &["roster", "--format", "csv", "--url", &url, "--as", &alice()],
    );
    assert!(!o.status.success());
    // A wrong password is a refused bind, said so.
    std::fs::write(&pw, "wrong").expect("pw");
    let o = run(
        &data,
        &[
            "roster",
            "--format",
            "csv",
            "--url",
            &url,
            "--bind-dn",
            &alice(),
            "--password-file",
            pws,
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("refused: result 49"), "{}", stderr(&o));

    // check from the running server: .yy has no 24/7 contact point; exit status 1.
    let o = run(&data, &["check", "--url", &url]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(".yy: no contact available 24/7"),
        "{}",
        stdout(&o)
    );

    // The live export is the offline one, byte for byte.
    let o = run(&data, &["export", "--url", &url]);
    assert!(o.status.success(), "{}", stderr(&o));
    let live = stdout(&o);
    assert!(live.contains(&format!("dn: {REG}")));
    drop(c);
    s.stop();
    let o = run(&data, &["export"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), live);
}

#[test]
fn a_backup_under_write_load_holds_every_acknowledged_write_and_restores() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let s = TestServer::start_config(test_config(&data));
    let url = format!("ldaps://127.0.0.1:{}", s.server().ldaps_addrs[0].port());
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        let mut c = s.admin();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 5000 {
                let uid = format!("load{i}");
                add_person(&mut c, &uid, "Load Person");
                acked.lock().expect("lock").push(person_dn(&uid));
                i += 1;
            }
        })
    };
    while acked.lock().expect("lock").len() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before: Vec<String> = acked.lock().expect("lock").clone();
    let backups = tmp.path().join("backups");
    let o = run(
        &data,
        &["backup", backups.to_str().expect("path"), "--url", &url],
    );
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    assert!(o.status.success(), "{}", stderr(&o));
    let files: Vec<_> = std::fs::read_dir(&backups)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert!(file
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("ccdir-backup-") && n.ends_with(".ldif")));
    let text = std::fs::read_to_string(file).expect("read");
    assert!(
        text.starts_with("# ccdir backup of dc=cctld-ir,dc=example taken "),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("lastChangeNumber "));
    for dn in &before {
        assert!(
            text.contains(&format!("dn: {dn}\n")),
            "{dn} acknowledged before the backup is missing"
        );
    }
    assert!(text.contains("entryUUID: "));
    let admin_pw = s.admin_password();
    s.stop();

    // Restore into a new data directory and serve it.
    let restored = tmp.path().join("r");
    let o = run(&restored, &["restore", file.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("restored "), "{}", stderr(&o));
    // Not over an existing directory.
    let o = run(&restored, &["restore", file.to_str().expect("path")]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("new data directory"), "{}", stderr(&o));
    let r = TestServer::start_config(test_config(&restored));
    let mut c = ldap3::LdapConn::new(&r.ldap_url()).expect("conn");
    assert_eq!(c.simple_bind(ADMIN, &admin_pw).expect("bind").rc, 0);
    for dn in before.iter().take(5) {
        let (rs, _) = c
            .search(dn, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
            .expect("search")
            .success()
            .expect("present");
        assert_eq!(rs.len(), 1, "{dn}");
    }
}
