//! The shipped access policy, subject by subject and operation by operation, with the exact
//! result codes, including the cases where a refusal must not reveal that an entry exists.

use crate::harness::*;
use ldap3::exop::PasswordModify;
use ldap3::{LdapConn, Mod, Scope};
use std::collections::HashSet;

fn set<'a>(v: &[&'a str]) -> HashSet<&'a str> {
    v.iter().copied().collect()
}

pub(crate) const PW: &str = "a-long-test-password";

pub(crate) fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

pub(crate) fn person(uid: &str, tld: &str) -> String {
    format!("uid={uid},{}", reg(tld))
}

/// br (a member registry) with ana (its admin) and bob; pt (not a member) with rui; ops, a
/// directory admin.
fn directory() -> TestServer {
    directory_with(|_| {})
}

/// [`directory`] with a changed test configuration.
pub(crate) fn directory_with(f: impl FnOnce(&mut ccdir::service::config::Config)) -> TestServer {
    let s = TestServer::start_with(f);
    let mut c = s.admin();
    for tld in ["br", "pt"] {
        add(
            &mut c,
            &reg(tld),
            &[
                ("objectClass", &["organization", "cctldRegistry"]),
                ("associatedDomain", &[tld]),
                ("o", &[tld]),
            ],
        );
    }
    for (uid, tld) in [("ana", "br"), ("bob", "br"), ("rui", "pt")] {
        add(
            &mut c,
            &person(uid, tld),
            &[
                ("objectClass", &["inetOrgPerson", "cctldContact"]),
                ("uid", &[uid]),
                ("cn", &[uid]),
                ("sn", &[uid]),
                ("associatedDomain", &[tld]),
                ("userPassword", &[PW]),
            ],
        );
    }
    add(
        &mut c,
        &format!("cn=admins,{}", reg("br")),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["admins"]),
            ("member", &[&person("ana", "br")]),
        ],
    );
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&reg("br")]),
        ],
    );
    let ops = format!("cn=ops,ou=groups,{SUFFIX}");
    add(
        &mut c,
        &ops,
        &[
            (
                "objectClass",
                &["organizationalRole", "simpleSecurityObject"],
            ),
            ("cn", &["ops"]),
            ("userPassword", &[PW]),
        ],
    );
    add(
        &mut c,
        &format!("cn=directory-admins,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["directory-admins"]),
            ("member", &[&ops]),
        ],
    );
    s
}

pub(crate) fn login(s: &TestServer, dn: &str) -> LdapConn {
    let mut c = s.conn();
    assert_eq!(c.simple_bind(dn, PW).expect("bind").rc, 0, "bind {dn}");
    c
}

fn found(c: &mut LdapConn, base: &str, filter: &str) -> (u32, Vec<String>, String) {
    let r = c
        .search(base, Scope::Subtree, filter, vec!["1.1"])
        .expect("search");
    let mut dns: Vec<String> =
        r.0.into_iter()
            .map(|e| ldap3::SearchEntry::construct(e).dn.to_lowercase())
            .collect();
    dns.sort();
    (r.1.rc, dns, r.1.matched)
}

fn title(c: &mut LdapConn, dn: &str) -> u32 {
    c.modify(dn, vec![Mod::Replace("title", set(&["changed"]))])
        .expect("modify")
        .rc
}

#[test]
fn who_sees_what() {
    let s = directory();
    let ops = format!("cn=ops,ou=groups,{SUFFIX}");
    let mut anon = s.conn();
    let mut bob = login(&s, &person("bob", "br"));
    let mut rui = login(&s, &person("rui", "pt"));
    let mut opsc = login(&s, &ops);
    // Anonymous: nothing but the root DSE and the subschema.
    assert_eq!(found(&mut anon, SUFFIX, "(objectClass=*)").0, 32);
    assert_eq!(
        anon.search("", Scope::Base, "(objectClass=*)", vec!["+"])
            .expect("dse")
            .1
            .rc,
        0
    );
    // A member reads the whole directory, but no one else's password.
    let (rc, all, _) = found(&mut bob, SUFFIX, "(objectClass=*)");
    assert_eq!(rc, 0);
    assert!(
        all.contains(&person("rui", "pt").to_lowercase()) && all.contains(&SUFFIX.to_string()),
        "{all:?}"
    );
    let (_, pw, _) = found(&mut bob, SUFFIX, "(userPassword=*)");
    assert_eq!(pw, vec![person("bob", "br").to_lowercase()]);
    let r = bob
        .search(
            &person("ana", "br"),
            Scope::Base,
            "(objectClass=*)",
            vec!["*"],
        )
        .expect("s");
    let e = ldap3::SearchEntry::construct(r.0[0].clone());
    assert!(!e.attrs.contains_key("userPassword") && e.attrs.contains_key("cn"));
    // A non-member sees only itself; everything else is absent, matchedDN included.
    assert_eq!(found(&mut rui, SUFFIX, "(objectClass=*)").0, 32);
    let (rc, own, _) = found(&mut rui, &person("rui", "pt"), "(objectClass=*)");
    assert_eq!((rc, own), (0, vec![person("rui", "pt").to_lowercase()]));
    let (rc, _, matched) = found(
        &mut rui,
        &format!("uid=nobody,{}", reg("br")),
        "(objectClass=*)",
    );
    assert_eq!(
        (rc, matched.as_str()),
        (32, ""),
        "no matchedDN through invisible entries"
    );
    let (rc, _, matched) = found(
        &mut bob,
        &format!("uid=nobody,{}", reg("br")),
        "(objectClass=*)",
    );
    assert_eq!((rc, matched.to_lowercase()), (32, reg("br").to_lowercase()));
    // Compare.
    assert_eq!(
        anon.compare(&person("bob", "br"), "cn", "bob")
            .expect("c")
            .0
            .rc,
        32
    );
    assert_eq!(
        rui.compare(&person("bob", "br"), "cn", "bob")
            .expect("c")
            .0
            .rc,
        32
    );
    assert_eq!(
        bob.compare(&person("ana", "br"), "cn", "ana")
            .expect("c")
            .0
            .rc,
        6
    );
    assert_eq!(
        bob.compare(&person("ana", "br"), "userPassword", PW)
            .expect("c")
            .0
            .rc,
        50
    );
    // The directory admins group reads everything.
    let (rc, all_ops, _) = found(&mut opsc, SUFFIX, "(objectClass=*)");
    assert_eq!((rc, all_ops.len()), (0, all.len()));
}

#[test]
fn who_writes_what() {
    let s = directory();
    let mut bob = login(&s, &person("bob", "br"));
    let mut ana = login(&s, &person("ana", "br"));
    let mut rui = login(&s, &person("rui", "pt"));
    let mut ops = login(&s, &format!("cn=ops,ou=groups,{SUFFIX}"));
    // Modify.
    assert_eq!(
        title(&mut bob, &person("ana", "br")),
        50,
        "visible, not writable"
    );
    assert_eq!(
        title(&mut rui, &person("bob", "br")),
        32,
        "invisible: no leak"
    );
    assert_eq!(
        title(&mut ana, &person("bob", "br")),
        0,
        "registry admin writes its registry"
    );
    assert_eq!(
        title(&mut ana, &person("rui", "pt")),
        50,
        "but not another registry"
    );
    assert_eq!(
        title(&mut ops, &person("rui", "pt")),
        0,
        "directory admins write everything"
    );
    assert_eq!(
        title(&mut bob, &person("bob", "br")),
        50,
        "self reads, does not write its entry"
    );
    // Add.
    let new = |uid: &'static str| {
        vec![
            ("objectClass", set(&["inetOrgPerson"])),
            ("uid", set(&[uid])),
            ("cn", set(&["New"])),
            ("sn", set(&["New"])),
        ]
    };
    assert_eq!(
        ana.add(&person("new1", "br"), new("new1")).expect("add").rc,
        0
    );
    assert_eq!(
        ana.add(&person("new2", "pt"), new("new2")).expect("add").rc,
        50
    );
    let r = rui.add(&person("new3", "br"), new("new3")).expect("add");
    assert_eq!((r.rc, r.matched.as_str()), (32, ""));
    assert_eq!(
        bob.add(&person("new4", "br"), new("new4")).expect("add").rc,
        50
    );
    // ModifyDN.
    assert_eq!(
        ana.modifydn(&person("new1", "br"), "uid=new1b", true, None)
            .expect("mdn")
            .rc,
        0
    );
    assert_eq!(
        ana.modifydn(&person("new1b", "br"), "uid=new1b", true, Some(&reg("pt")))
            .expect("mdn")
            .rc,
        50,
        "no write access at the new place"
    );
    assert_eq!(
        rui.modifydn(&person("bob", "br"), "uid=bobby", true, None)
            .expect("mdn")
            .rc,
        32
    );
    // Delete.
    assert_eq!(bob.delete(&person("new1b", "br")).expect("del").rc, 50);
    assert_eq!(rui.delete(&person("new1b", "br")).expect("del").rc, 32);
    assert_eq!(ana.delete(&person("new1b", "br")).expect("del").rc, 0);
    // Passwords: self, the registry's admins, nobody else.
    let pm = |c: &mut LdapConn, who: &str, new: &str| {
        c.extended(PasswordModify {
            user_id: Some(who),
            old_pass: None,
            new_pass: Some(new),
        })
        .expect("pm")
        .1
        .rc
    };
    assert_eq!(pm(&mut bob, &person("bob", "br"), "bob-new-password"), 0);
    assert_eq!(pm(&mut bob, &person("ana", "br"), "x-x-x-x-x-x"), 50);
    assert_eq!(
        pm(&mut ana, &person("bob", "br"), PW),
        0,
        "registry admin resets a password"
    );
    assert_eq!(pm(&mut rui, &person("bob", "br"), "x-x-x-x-x-x"), 32);
    assert_eq!(
        pm(&mut rui, &person("rui", "pt"), "rui-new-password"),
        0,
        "self, even outside members"
    );
}

#[test]
fn configured_rules_replace_the_default_policy() {
    let s = TestServer::start_with(|c| {
        c.access.rules = Some(vec![ccdir::acl::rules::RuleConfig {
            by: vec!["anonymous read".into(), "* none".into()],
            ..Default::default()
        }]);
    });
    let mut anon = s.conn();
    let (rc, all, _) = found(&mut anon, SUFFIX, "(objectClass=*)");
    assert_eq!(rc, 0);
    assert!(all.len() >= 4);
    // Without an auth rule for userPassword, no one but the admin_dn can bind.
    let mut c = s.conn();
    assert_eq!(
        c.simple_bind(ADMIN, &s.admin_password()).expect("bind").rc,
        0,
        "admin_dn always binds"
    );
    // Bad rules stop the start with the rule number.
    let tmp = tempfile::tempdir().expect("tmp");
    let mut cfg = test_config(tmp.path());
    cfg.access.rules = Some(vec![ccdir::acl::rules::RuleConfig {
        by: vec!["everyone read".into()],
        ..Default::default()
    }]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let err = match rt.block_on(ccdir::Server::start(cfg)) {
        Ok(_) => panic!("bad rule accepted"),
        Err(e) => e,
    };
    assert!(
        err.contains("access rule 1") && err.contains("everyone"),
        "{err}"
    );
}

#[test]
fn passwords_need_tls_by_default() {
    let s = TestServer::start_with(|c| c.password.require_tls = true);
    let mut plain = s.conn();
    assert_eq!(
        plain.simple_bind("", "").expect("bind").rc,
        0,
        "anonymous is fine"
    );
    let r = plain.simple_bind(ADMIN, &s.admin_password()).expect("bind");
    assert_eq!(r.rc, 13, "{}", r.text);
    assert!(r.text.contains("StartTLS"));
    let pm = PasswordModify {
        user_id: Some(ADMIN),
        old_pass: None,
        new_pass: Some("another-long-password"),
    };
    assert_eq!(plain.extended(pm).expect("pm").1.rc, 13);
    let mut tls = s.conn_starttls();
    assert_eq!(
        tls.simple_bind(ADMIN, &s.admin_password())
            .expect("bind")
            .rc,
        0
    );
    let mut ldaps = s.conn_ldaps();
    assert_eq!(
        ldaps
            .simple_bind(ADMIN, &s.admin_password())
            .expect("bind")
            .rc,
        0
    );
}

#[test]
fn password_quality() {
    let s = directory();
    let mut c = s.admin();
    let bob = person("bob", "br");
    let pm = |c: &mut LdapConn, new: &str| {
        c.extended(PasswordModify {
            user_id: Some(&bob),
            old_pass: None,
            new_pass: Some(new),
        })
        .expect("pm")
        .1
    };
    let r = pm(&mut c, "short");
    assert_eq!(r.rc, 19, "{}", r.text);
    assert!(r.text.contains("too short"));
    c.modify(
        &bob,
        vec![Mod::Add("mail", set(&["bob.long@nic-br.example"]))],
    )
    .expect("mod");
    assert_eq!(
        pm(&mut c, "BOB.LONG@nic-br.example").rc,
        19,
        "equal to the mail"
    );
    assert_eq!(pm(&mut c, "a good long passphrase").rc, 0);
    let r = c
        .modify(&bob, vec![Mod::Replace("userPassword", set(&["tiny"]))])
        .expect("mod");
    assert_eq!(r.rc, 19);
    let r = c
        .add(
            &person("carlitos", "br"),
            vec![
                ("objectClass", set(&["inetOrgPerson"])),
                ("uid", set(&["carlitos"])),
                ("cn", set(&["C"])),
                ("sn", set(&["C"])),
                ("userPassword", set(&["Carlitos"])),
            ],
        )
        .expect("add");
    assert_eq!(r.rc, 19, "equal to the uid: {}", r.text);
}

#[test]
fn writes_and_password_changes_are_audited() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = tmp.path().join("audit.log");
    let l = log.clone();
    let s = TestServer::start_with(move |c| c.audit.output = l.display().to_string());
    let mut c = s.admin();
    add_person(&mut c, "ann", "Ann Example");
    c.modify(
        &person_dn("ann"),
        vec![Mod::Replace("title", set(&["Officer"]))],
    )
    .expect("mod");
    let pm = PasswordModify {
        user_id: Some(&person_dn("ann")),
        old_pass: None,
        new_pass: Some("a-secret-password"),
    };
    c.extended(pm).expect("pm");
    c.delete(&person_dn("nobody")).expect("del");
    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].contains("\"op\":\"bind\"") && lines[0].contains("\"result\":0"));
    assert!(lines[1].contains("\"op\":\"add\"") && lines[1].contains("\"attrs\":[\"objectClass\""));
    assert!(lines[2].contains("\"op\":\"modify\"") && lines[2].contains("\"attrs\":[\"title\"]"));
    assert!(lines[2].contains(&format!("\"bound\":\"{ADMIN}\"")));
    assert!(
        lines[3].contains("\"op\":\"passwd\"") && lines[3].contains("\"attrs\":[\"userPassword\"]")
    );
    assert!(lines[4].contains("\"op\":\"delete\"") && lines[4].contains("\"result\":32"));
    assert!(
        !text.contains("a-secret-password") && !text.contains("ARGON2"),
        "{text}"
    );
}

#[test]
fn failed_binds_lock_the_account_and_then_the_address() {
    let s = TestServer::start_with(|c| {
        c.password.lockout_failures = 3;
        c.password.lockout_secs = 1;
        c.password.failed_binds_per_ip_per_minute = 8;
    });
    let mut a = s.admin();
    add_person(&mut a, "lock", "Lock Me");
    a.extended(PasswordModify {
        user_id: Some(&person_dn("lock")),
        old_pass: None,
        new_pass: Some(PW),
    })
    .expect("pm");
    let mut c = s.conn();
    let dn = person_dn("lock");
    for _ in 0..3 {
        assert_eq!(c.simple_bind(&dn, "wrong-password").expect("bind").rc, 49);
    }
    // Locked: the right password gets the same answer as a wrong one.
    assert_eq!(c.simple_bind(&dn, PW).expect("bind").rc, 49);
    // The admin is never locked out by others' guessing.
    for _ in 0..3 {
        assert_eq!(c.simple_bind(ADMIN, "wrong-password").expect("bind").rc, 49);
    }
    assert_eq!(
        c.simple_bind(ADMIN, &s.admin_password()).expect("bind").rc,
        0
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(
        c.simple_bind(&dn, PW).expect("bind").rc,
        0,
        "unlocked after lockout_secs"
    );
    // 7 failures so far from 127.0.0.1; the 8th reaches the per-address limit.
    assert_eq!(c.simple_bind(&dn, "wrong-password").expect("bind").rc, 49);
    let r = c.simple_bind(&dn, PW).expect("bind");
    assert_eq!(r.rc, 53, "{}", r.text);
    // Searches by bound clients are not affected.
    let r = a
        .search(SUFFIX, Scope::Base, "(objectClass=*)", vec!["1.1"])
        .expect("search");
    assert_eq!(r.1.rc, 0);
}

#[test]
fn membership_changes_take_effect_at_once() {
    let s = directory();
    let mut rui = login(&s, &person("rui", "pt"));
    let mut admin = s.admin();
    let members = format!("cn=members,ou=groups,{SUFFIX}");
    for round in 0..2 {
        assert_eq!(
            found(&mut rui, &reg("br"), "(objectClass=*)").0,
            32,
            "round {round}: not yet a member"
        );
        let r = admin
            .modify(&members, vec![Mod::Add("member", set(&[&reg("pt")]))])
            .expect("mod");
        assert_eq!(r.rc, 0);
        let (rc, dns, _) = found(&mut rui, &reg("br"), "(objectClass=*)");
        assert_eq!(
            rc, 0,
            "round {round}: pt became a member, so its people read"
        );
        assert!(!dns.is_empty());
        let r = admin
            .modify(&members, vec![Mod::Delete("member", set(&[&reg("pt")]))])
            .expect("mod");
        assert_eq!(r.rc, 0);
    }
    assert_eq!(found(&mut rui, &reg("br"), "(objectClass=*)").0, 32);
}

/// A client CA and a client certificate it signed: (CA PEM, certificate DER, key DER).
pub(crate) fn client_pki() -> (String, Vec<u8>, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.distinguished_name
        .push(DnType::CommonName, "CSIRT tools CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("key");
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, "lookup-bot");
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().expect("key");
    let cert = p.signed_by(&key, &issuer).expect("cert");
    (ca_cert.pem(), cert.der().to_vec(), key.serialize_der())
}

fn ldaps_with_client_cert(s: &TestServer, cert: Option<(Vec<u8>, Vec<u8>)>) -> LdapConn {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(s.ca_file()).expect("ca") {
        roots.add(c.expect("ca cert")).expect("add");
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let cfg = match cert {
        Some((c, k)) => b
            .with_client_auth_cert(
                vec![CertificateDer::from(c)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k)),
            )
            .expect("client auth"),
        None => b.with_no_client_auth(),
    };
    let settings = ldap3::LdapConnSettings::new().set_config(std::sync::Arc::new(cfg));
    LdapConn::with_settings(settings, &s.ldaps_url()).expect("ldaps")
}

#[test]
fn sasl_external_maps_client_certificates_to_entries() {
    let (ca_pem, cert, key) = client_pki();
    let tmp = tempfile::tempdir().expect("tmp");
    let ca_file = tmp.path().join("client-ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write");
    let f = ca_file.clone();
    let s = TestServer::start_with(move |c| c.tls.client_ca = Some(f));
    let mut admin = s.admin();
    let bot = format!("cn=lookup-bot,ou=groups,{SUFFIX}");
    let attrs: Vec<(&[u8], HashSet<&[u8]>)> = vec![
        (
            b"objectClass",
            [
                b"organizationalRole".as_slice(),
                b"extensibleObject".as_slice(),
            ]
            .into_iter()
            .collect(),
        ),
        (b"cn", [b"lookup-bot".as_slice()].into_iter().collect()),
        (
            b"userCertificate;binary",
            [cert.as_slice()].into_iter().collect(),
        ),
    ];
    assert_eq!(admin.add(&bot, attrs).expect("add").rc, 0);
    let r = admin
        .search(
            "",
            Scope::Base,
            "(objectClass=*)",
            vec!["supportedSASLMechanisms"],
        )
        .expect("dse");
    let dse = ldap3::SearchEntry::construct(r.0[0].clone());
    assert_eq!(dse.attrs["supportedSASLMechanisms"], vec!["EXTERNAL"]);
    // With the certificate: bound as the entry that holds it.
    let mut c = ldaps_with_client_cert(&s, Some((cert.clone(), key.clone())));
    assert_eq!(c.sasl_external_bind().expect("bind").rc, 0);
    let who: ldap3::exop::WhoAmIResp = c.extended(ldap3::exop::WhoAmI).expect("whoami").0.parse();
    assert_eq!(
        who.authzid.to_lowercase(),
        format!("dn:{}", bot.to_lowercase())
    );
    // Without a certificate: inappropriateAuthentication.
    let mut n = ldaps_with_client_cert(&s, None);
    assert_eq!(n.sasl_external_bind().expect("bind").rc, 48);
    // A certificate no entry holds: invalidCredentials.
    admin
        .modify(
            &bot,
            vec![Mod::Delete("userCertificate", HashSet::<&str>::new())],
        )
        .expect("mod");
    let mut c2 = ldaps_with_client_cert(&s, Some((cert, key)));
    assert_eq!(c2.sasl_external_bind().expect("bind").rc, 49);
}

#[test]
fn a_bind_flood_slows_binds_not_searches() {
    // Real argon2 cost here: the flood must queue on the hashing threads, not on searches.
    let s = TestServer::start_with(|c| {
        c.password.argon2_memory_kib = 19 * 1024;
        c.password.argon2_iterations = 2;
        c.password.failed_binds_per_ip_per_minute = 0;
        c.password.lockout_failures = 0;
    });
    let mut reader = s.admin();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for _ in 0..8 {
        let url = s.ldap_url();
        let stop = stop.clone();
        flood.push(std::thread::spawn(move || {
            let mut c = LdapConn::new(&url).expect("connect");
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = c.simple_bind(ADMIN, "wrong-password");
                n += 1;
            }
            n
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Searches by the bound client keep completing while the binds queue.
    let started = std::time::Instant::now();
    for _ in 0..50 {
        let r = reader
            .search(SUFFIX, Scope::OneLevel, "(objectClass=*)", vec!["1.1"])
            .expect("search");
        assert_eq!(r.1.rc, 0);
    }
    let searches = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let binds: u32 = flood.into_iter().map(|h| h.join().expect("flood")).sum();
    assert!(binds > 0);
    // Generous bound: 50 searches take milliseconds; if they had to wait behind the hashing
    // queue they would take many seconds.
    assert!(
        searches < std::time::Duration::from_secs(10),
        "searches took {searches:?} during the flood"
    );
}

#[test]
fn the_changelog_keeps_who_did_what() {
    use ccdir::store::changelog::ChangeKind;
    use ccdir::store::View;
    let s = TestServer::start();
    let mut c = s.admin();
    add_person(&mut c, "log", "Log Me");
    c.modify(
        &person_dn("log"),
        vec![Mod::Replace("title", set(&["Officer"]))],
    )
    .expect("mod");
    c.modifydn(&person_dn("log"), "uid=log2", true, None)
        .expect("mdn");
    c.delete(&person_dn("log2")).expect("del");
    let snap = s.server().directory().store.read().expect("snapshot");
    let changes = snap.changes(1, 1000).expect("changelog");
    let mine: Vec<_> = changes
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.dn.to_lowercase().contains("uid=log"))
        .collect();
    assert_eq!(mine.len(), 4, "{mine:?}");
    assert_eq!(mine[0].kind, ChangeKind::Add);
    assert_eq!(mine[1].kind, ChangeKind::Modify);
    assert_eq!(mine[1].attrs, vec!["title".to_string()]);
    assert_eq!(mine[2].kind, ChangeKind::ModDn);
    assert!(mine[2]
        .new_dn
        .as_deref()
        .is_some_and(|d| d.to_lowercase().starts_with("uid=log2")));
    assert_eq!(mine[3].kind, ChangeKind::Delete);
    assert!(mine
        .iter()
        .all(|r| r.who.eq_ignore_ascii_case(ADMIN) && !r.csn.is_empty() && r.time.ends_with('Z')));
    // Sequence numbers increase with the changes.
    let seqs: Vec<u64> = changes.iter().map(|(s, _)| *s).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}
