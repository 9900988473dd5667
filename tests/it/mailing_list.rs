//! The secure list: Debian's Postfix (postfix-ldap) with the shipped virtual alias map
//! (contrib/postfix/ccdir-lists.cf), against ccdir over LDAP with StartTLS. The list address
//! must expand to the member registries' 24/7 contact points, and follow a group change at once:
//! checked with `postmap -q`, and by a real, private Postfix instance (tests/it/postfix.rs:
//! master in the foreground with its own configuration directory, queue and port; the system's
//! postfix is not touched) that receives messages to the list over SMTP and relays them to a
//! sink in the test, which records the RCPT TO addresses.

use crate::harness::*;
use crate::postfix::*;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::Command;

pub const LISTS: &str = "lists.cctld-ir.example";
const MAIL_SERVER: &str = "cn=mail-server,dc=cctld-ir,dc=example";
const MAIL_SERVER_PW: &str = "mail server secret 7";

/// The shipped LDAP maps: the list expansion and the three maps of the members-only check.
const MAPS: [&str; 4] = [
    "ccdir-lists.cf",
    "ccdir-senders.cf",
    "ccdir-sender-entries.cf",
    "ccdir-sender-registries.cf",
];

/// Install the shipped maps (and the regexp table) in `dir` with the deployment's values filled
/// in; returns the list map's path.
pub fn map_files(s: &TestServer, dir: &Path, for_postfix: bool) -> std::path::PathBuf {
    for name in MAPS {
        map_file(s, dir, name, for_postfix);
    }
    let regexp = dir.join("ccdir-senders.regexp");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contrib/postfix/ccdir-senders.regexp"
        ),
        &regexp,
    )
    .expect("copy regexp table");
    dir.join("ccdir-lists.cf")
}

/// One shipped map with the deployment's values filled in.
fn map_file(s: &TestServer, dir: &Path, name: &str, for_postfix: bool) -> std::path::PathBuf {
    let shipped = format!("{}/contrib/postfix/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&shipped).expect("shipped map");
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
        "server_host, tls_ca_cert_file, bind_pw in the shipped map {name}"
    );
    assert!(
        text.contains(&format!("\nbind_dn = {MAIL_SERVER}\n")),
        "{name}"
    );
    assert!(text.contains("\nstart_tls = yes\n"), "{name}");
    let p = dir.join(name);
    std::fs::write(&p, out).expect("write map");
    if for_postfix {
        // As installed (docs/operations/mailing-list.md): it holds the password.
        set_owner_mode(&p, Some("root"), Some("postfix"), 0o640);
    }
    p
}

/// The service account the mail server binds as, and its group, as
/// contrib/postfix/mail-server.ldif has them (added with ldapadd, over StartTLS); returns the
/// admin's connection.
pub fn add_mail_server(s: &TestServer) -> LdapConn {
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
    admin
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
pub fn expected(c: &mut LdapConn, group: &str) -> BTreeSet<String> {
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
    let mut admin = add_mail_server(&s);

    // The instance's configuration directory (also its queue, data and log), traversable by
    // the postfix user.
    let tmp = tempfile::tempdir().expect("tempdir");
    let startable = postfix_startable();
    if startable {
        set_owner_mode(tmp.path(), None, None, 0o755);
    }
    let sink = Sink::start();
    let smtpd_port = free_port();
    let list_map = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/postfix/main.cf.example"
    ))
    .expect("main.cf.example")
    .replace("/etc/postfix", &tmp.path().display().to_string());
    postfix_conf(tmp.path(), smtpd_port, sink.port, None, &list_map);
    let map = map_files(&s, tmp.path(), startable);
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
        // A member posts (.de's contact point): every recipient gets it once.
        assert_eq!(pf.expand_from(&sink, DE_TEAM, &list, "all-1"), want);
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
            pf.expand_from(&sink, FR_TEAM, &format!("region-centr@{LISTS}"), "centr"),
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

    // Members-only posting (main.cf.example's class ccdir_list_senders).
    members_only(&s, &mut admin, tmp.path(), pf.as_ref(), &sink, &list);

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
    // .de may no longer post, at the next message.
    assert!(!may_post(tmp.path(), DE_TEAM));
    if let Some(pf) = &pf {
        refused(pf, DE_TEAM, &list);
    }
    // The next message goes to the others only (Postfix caches nothing).
    if let Some(pf) = &pf {
        assert_eq!(pf.expand_from(&sink, FR_TEAM, &list, "all-2"), after);
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
    assert!(may_post(tmp.path(), DE_TEAM));
    let back = postmap_q(tmp.path(), &map, &list);
    assert!(back.contains("security@nic-de.example") && back.contains("csirt@nic-de.example"));
    assert_eq!(back.len(), got.len() + 1);
    if let Some(pf) = &pf {
        assert_eq!(pf.expand_from(&sink, FR_TEAM, &list, "all-3"), back);
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

pub const DE_TEAM: &str = "security@nic-de.example";
pub const FR_TEAM: &str = "security@nic-fr.example";

/// Whether `sender` may post, as the restriction class ccdir_list_senders decides it (its three
/// lookups, with the maps installed in `dir`, queried with postmap).
fn may_post(dir: &Path, sender: &str) -> bool {
    let m = |name: &str| format!("ldap:{}", dir.join(name).display());
    let regexp = format!("regexp:{}", dir.join("ccdir-senders.regexp").display());
    let checks = [
        m("ccdir-senders.cf"),
        format!(
            "pipemap:{{{}, {}}}",
            m("ccdir-sender-entries.cf"),
            m("ccdir-senders.cf")
        ),
        format!(
            "pipemap:{{{}, {}, {regexp}, {}}}",
            m("ccdir-sender-entries.cf"),
            m("ccdir-sender-registries.cf"),
            m("ccdir-senders.cf")
        ),
    ];
    checks.iter().any(|table| {
        let o = Command::new("/usr/sbin/postmap")
            .arg("-c")
            .arg(dir)
            .arg("-q")
            .arg(sender)
            .arg(table)
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/nonexistent/ldaprc")
            .output()
            .expect("postmap");
        let out = stdout(&o);
        assert!(
            o.status.success() || (o.status.code() == Some(1) && out.is_empty()),
            "postmap -q {sender} {table}: {:?}\n{out}\n{}",
            o.status,
            stderr(&o)
        );
        if o.status.success() {
            assert!(
                out.trim().split(',').all(|v| v == "permit"),
                "{table}: {out}"
            );
        }
        o.status.success()
    })
}

/// Postfix refuses `from`'s message to `list` at RCPT TO with 5.7.1, saying the list is closed.
fn refused(pf: &Postfix, from: &str, list: &str) {
    let e = pf
        .send_from(from, list, "refused")
        .expect_err(&format!("{from} may post to {list}"));
    assert!(
        e.starts_with("RCPT TO:") && e.contains("-> 550 5.7.1 ") && e.contains("list is closed"),
        "{from}: {e}"
    );
}

/// The `mail` of an entry.
fn mail_of(c: &mut LdapConn, dn: &str) -> Option<String> {
    let (rs, _) = c
        .search(dn, Scope::Base, "(objectClass=*)", vec!["mail"])
        .ok()?
        .success()
        .ok()?;
    let e = SearchEntry::construct(rs.into_iter().next()?);
    e.attrs.get("mail")?.first().cloned()
}

/// Who may post: the member registries' contact points and admins, the allowed senders (by
/// address or by entry), nobody else; at the next message after a change.
fn members_only(
    s: &TestServer,
    admin: &mut LdapConn,
    dir: &Path,
    pf: Option<&Postfix>,
    sink: &Sink,
    list: &str,
) {
    let members = format!("cn=members,ou=groups,{SUFFIX}");
    let everyone = expected(admin, &members);
    let fr = format!("associatedDomain=fr,ou=registries,{SUFFIX}");
    // An admin of .fr, and a person of .fr who is not.
    let (r, _) = admin
        .search(
            &format!("cn=admins,{fr}"),
            Scope::Base,
            "(objectClass=*)",
            vec!["member"],
        )
        .expect("search")
        .success()
        .expect("admins of .fr");
    let admins: Vec<String> = SearchEntry::construct(r[0].clone()).attrs["member"].clone();
    let fr_admin = admins
        .iter()
        .find_map(|dn| mail_of(admin, dn))
        .expect("an admin of .fr with mail");
    // A person of .fr who is neither its contact point nor an admin.
    let person_dn = format!("uid=night-shift,{fr}");
    let person = "night-shift@nic-fr.example".to_string();
    add(
        admin,
        &person_dn,
        &[
            ("objectClass", &["inetOrgPerson", "cctldContact"]),
            ("uid", &["night-shift"]),
            ("cn", &["Night Shift"]),
            ("sn", &["Shift"]),
            ("mail", &[&person]),
            ("associatedDomain", &["fr"]),
        ],
    );
    let partner = "cert@partner.example";

    // The lookups: contact points and admins of members may post, the others not.
    assert!(may_post(dir, DE_TEAM));
    assert!(may_post(dir, FR_TEAM));
    assert!(may_post(dir, &fr_admin), "{fr_admin}");
    for a in [
        person.as_str(),
        partner,
        "reporter@example.org",
        "nic-fr.example",
    ] {
        assert!(!may_post(dir, a), "{a}");
    }
    if let Some(pf) = pf {
        // A registry's admin posts; a non-member, another person of .fr: refused, to every
        // list address (not only members@).
        assert_eq!(pf.expand_from(sink, &fr_admin, list, "admin"), everyone);
        refused(pf, "reporter@example.org", list);
        refused(pf, &person, list);
        refused(pf, partner, &format!("region-centr@{LISTS}"));
        refused(pf, "", list);
    }

    // The allowed-senders group (contrib/postfix/list-senders.ldif): the partner's address as
    // a mail value, the person as a member.
    let ldif = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/postfix/list-senders.ldif"
    ))
    .expect("list-senders.ldif");
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
    let senders = format!("cn=list-senders,ou=groups,{SUFFIX}");
    let rc = admin
        .modify(
            &senders,
            vec![
                Mod::Add("mail", HashSet::from([partner])),
                Mod::Add("member", HashSet::from([person_dn.as_str()])),
            ],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
    assert!(may_post(dir, partner));
    assert!(may_post(dir, &person));
    if let Some(pf) = pf {
        assert_eq!(pf.expand_from(sink, partner, list, "partner"), everyone);
        assert_eq!(pf.expand_from(sink, &person, list, "person"), everyone);
    }
    // Taken out again: refused at the next message.
    let rc = admin
        .modify(
            &senders,
            vec![
                Mod::Delete("mail", HashSet::from([partner])),
                Mod::Delete("member", HashSet::from([person_dn.as_str()])),
            ],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
    assert!(!may_post(dir, partner));
    if let Some(pf) = pf {
        refused(pf, partner, list);
        refused(pf, &person, list);
    }
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
