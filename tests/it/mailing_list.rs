//! The secure list: Debian's Postfix (postfix-ldap) with the shipped virtual alias map
//! (contrib/postfix/ccdir-lists.cf), queried with `postmap -q` against ccdir over LDAP with
//! StartTLS. The list address must expand to the member registries' 24/7 contact points, and
//! follow a group change at once.

use crate::harness::*;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::Command;

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
fn map_file(s: &TestServer, dir: &Path) -> std::path::PathBuf {
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/postfix/ccdir-lists.cf"
    );
    let text = std::fs::read_to_string(shipped).expect("shipped map");
    let mut out = String::new();
    let mut replaced = 0;
    for line in text.lines() {
        let l = match line.split_once(" = ").map(|x| x.0) {
            Some("server_host") => {
                format!("server_host = ldap://127.0.0.1:{}", s.ldap_addr().port())
            }
            Some("tls_ca_cert_file") => format!("tls_ca_cert_file = {}", s.ca_file().display()),
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
    p
}

/// A private Postfix configuration directory (the system's postfix is not touched).
fn postfix_conf(dir: &Path) {
    let main = format!(
        "compatibility_level = 3.6\n\
         queue_directory = {q}\n\
         data_directory = {d}\n\
         maillog_file = /dev/stdout\n\
         {extra}",
        q = dir.join("queue").display(),
        d = dir.join("data").display(),
        extra = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contrib/postfix/main.cf.example"
        ))
        .expect("main.cf.example")
        .replace("/etc/postfix", &dir.display().to_string()),
    );
    std::fs::write(dir.join("main.cf"), main).expect("main.cf");
    std::fs::copy("/etc/postfix/master.cf", dir.join("master.cf")).expect("master.cf");
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

    let tmp = tempfile::tempdir().expect("tempdir");
    postfix_conf(tmp.path());
    let map = map_file(&s, tmp.path());
    let members = format!("cn=members,ou=groups,{SUFFIX}");

    // The whole community.
    let want = expected(&mut admin, &members);
    assert!(want.len() > 200, "{} addresses", want.len());
    let got = postmap_q(tmp.path(), &map, &format!("members@{LISTS}"));
    assert_eq!(got, want);
    assert!(got.contains("security@nic-de.example"));

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
    let after = postmap_q(tmp.path(), &map, &format!("members@{LISTS}"));
    assert!(!after.contains("security@nic-de.example"));
    assert_eq!(after.len() + 1, got.len());
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
    let back = postmap_q(tmp.path(), &map, &format!("members@{LISTS}"));
    assert!(back.contains("security@nic-de.example") && back.contains("csirt@nic-de.example"));
    assert_eq!(back.len(), got.len() + 1);

    // Postfix itself accepts the configuration with the map (postfix check).
    let o = Command::new("/usr/sbin/postconf")
        .arg("-c")
        .arg(tmp.path())
        .arg("-h")
        .arg("virtual_alias_maps")
        .output()
        .expect("postconf");
    assert_eq!(
        stdout(&o).trim(),
        format!("ldap:{}", map.display()),
        "{}",
        stderr(&o)
    );
}
