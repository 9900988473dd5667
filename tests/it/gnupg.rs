//! GnuPG with ccdir as its LDAP keyserver: the real `gpg` and `dirmngr` (Debian's, built with
//! OpenLDAP's libldap) in throwaway GNUPGHOMEs, against the in-process server, over TLS.
//!
//! What dirmngr 2.2 does (dirmngr/ks-engine-ldap.c), and so what these tests exercise:
//! - reads `namingContexts` from the root DSE, then `cn=pgpServerInfo,<context>` (base search,
//!   attributes pgpBaseKeySpaceDN, pgpVersion, pgpSoftware); `pgpSoftware: GnuPG` with
//!   `pgpVersion: 2` switches on the gpgFingerprint / gpgSubFingerprint / gpgMailbox attributes;
//! - `--send-keys`: a modify of `pgpCertID=<long key id>,<key space>` (replace of every key
//!   attribute, first without values, then with the new ones, and of objectClass), and an add with
//!   the same attributes when the modify gets noSuchObject;
//! - `--recv-keys <fingerprint>`: `(|(gpgFingerprint=<FPR>)(gpgSubFingerprint=<FPR>))`;
//! - `--search-keys`: `<mail>` -> `(&(gpgMailbox=mail)(!(|(pgpRevoked=1)(pgpDisabled=1))))`,
//!   a name -> `(pgpUserID=*name*)`, a fingerprint as for --recv-keys.
//!
//! The keyserver URL `ldaps://host:port/????bindname=...,password=...` means StartTLS on the plain
//! port to dirmngr (not LDAPS); the colon form `ldap:host:port:binddn:password::ldaptls` is LDAPS.
//! libldap trusts the server's CA through `LDAPTLS_CACERT`, which dirmngr inherits from gpg.

use crate::harness::*;
use ldap3::{LdapConn, Mod, Scope, SearchEntry};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const PW: &str = "a-long-test-password";

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn person(uid: &str, tld: &str) -> String {
    format!("uid={uid},{}", reg(tld))
}

fn keys_dn() -> String {
    format!("ou=GnuPG Keys,{SUFFIX}")
}

fn rc(r: ldap3::result::Result<ldap3::LdapResult>) -> u32 {
    r.expect("request").rc
}

fn search_rc(r: ldap3::result::Result<ldap3::SearchResult>) -> u32 {
    r.expect("search").1.rc
}

/// Are these GnuPG programs installed? Without them the GnuPG tests are skipped, except in CI
/// (`CI` set), where they fail: CI installs them (.ci/run).
pub fn gnupg_available(progs: &[&str]) -> bool {
    let runs = |p: &str| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let missing: Vec<&str> = progs.iter().copied().filter(|p| !runs(p)).collect();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{missing:?} required in CI (apt-get install gnupg dirmngr)"
        );
        eprintln!("{missing:?} not installed: skipping this GnuPG test");
    }
    missing.is_empty()
}

fn gpg_available() -> bool {
    gnupg_available(&["gpg", "dirmngr", "gpgconf"])
}

/// A server with the keyserver entries, password binds only over TLS (the default), a member
/// registry (br, with ana and its team) and another member registry (de, with kai).
fn directory() -> TestServer {
    let s = TestServer::start_with(|c| {
        c.openpgp_keyserver = true;
        c.password.require_tls = true;
    });
    let mut c = admin_tls(&s);
    for (tld, o) in [("br", "Registry of .br"), ("de", "Registry of .de")] {
        add(
            &mut c,
            &reg(tld),
            &[
                ("objectClass", &["organization", "cctldRegistry"]),
                ("associatedDomain", &[tld]),
                ("o", &[o]),
            ],
        );
    }
    for (uid, cn, sn, tld, mail) in [
        ("ana", "Ana Souza", "Souza", "br", "ana@nic-br.example"),
        ("kai", "Kai Weber", "Weber", "de", "kai@nic-de.example"),
    ] {
        add(
            &mut c,
            &person(uid, tld),
            &[
                ("objectClass", &["inetOrgPerson", "cctldContact"]),
                ("uid", &[uid]),
                ("cn", &[cn]),
                ("sn", &[sn]),
                ("mail", &[mail]),
                ("associatedDomain", &[tld]),
                ("userPassword", &[PW]),
            ],
        );
    }
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&reg("br"), &reg("de")]),
        ],
    );
    s
}

/// A StartTLS connection bound as the administrator.
fn admin_tls(s: &TestServer) -> LdapConn {
    let mut c = s.conn_starttls();
    c.simple_bind(ADMIN, &s.admin_password())
        .expect("bind")
        .success()
        .expect("admin bind");
    c
}

/// Percent-escape an LDAP URL extension value (RFC 4516): commas separate extensions.
fn url_ext(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Ana's keyserver URL, bound as her entry: `ldaps://` is StartTLS to dirmngr, so the port is
/// the plain LDAP listener's. 127.0.0.1, not localhost: libldap replaces localhost by the host
/// name before checking the certificate.
fn ana_url(port: u16) -> String {
    format!(
        "ldaps://127.0.0.1:{port}/????bindname={},password={}",
        url_ext(&person("ana", "br")),
        url_ext(PW)
    )
}

/// A throwaway GNUPGHOME (short path: dirmngr's and gpg-agent's sockets live there) whose
/// dirmngr talks to the test server; the daemons are stopped on drop.
pub struct Gnupg {
    home: tempfile::TempDir,
    ca: std::path::PathBuf,
}

impl Gnupg {
    /// A GNUPGHOME with this dirmngr.conf.
    pub fn with_conf(s: &TestServer, conf: &str) -> Gnupg {
        let home = tempfile::Builder::new()
            .prefix("g-")
            .tempdir_in("/tmp")
            .expect("GNUPGHOME");
        let path = home.path();
        std::fs::write(path.join("dirmngr.conf"), conf).expect("dirmngr.conf");
        Gnupg {
            home,
            ca: s.ca_file(),
        }
    }

    /// A GNUPGHOME that talks to no server (signing, encrypting, decrypting only).
    pub fn standalone() -> Gnupg {
        let home = tempfile::Builder::new()
            .prefix("g-")
            .tempdir_in("/tmp")
            .expect("GNUPGHOME");
        Gnupg {
            home,
            ca: "/dev/null".into(),
        }
    }

    /// `keyserver` goes into dirmngr.conf, as a user would configure it.
    fn new(s: &TestServer, keyserver: &str) -> Gnupg {
        Self::with_conf(s, &format!("keyserver {keyserver}\nldaptimeout 20\n"))
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn run(&self, prog: &str, args: &[&str]) -> Output {
        Command::new(prog)
            .args(args)
            .env("GNUPGHOME", self.home())
            // libldap inside dirmngr: trust the server's CA, ignore the machine's ldap.conf.
            .env("LDAPTLS_CACERT", &self.ca)
            .env("LDAPTLS_REQCERT", "demand")
            .env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/nonexistent/ldaprc")
            // Untranslated messages, so tests can check them.
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{prog}: {e}"))
    }

    /// Run gpg in batch mode; panics with its output unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> String {
        let mut all = vec!["--batch", "--no-tty"];
        all.extend_from_slice(args);
        let o = self.run("gpg", &all);
        assert!(
            o.status.success(),
            "gpg {args:?}: exit {:?}\n{}{}",
            o.status.code(),
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    /// A new key without passphrase (ed25519 primary, cv25519 subkey); returns the
    /// fingerprints of the primary key and of the subkey.
    pub fn gen_key(&self, uid: &str) -> (String, String) {
        self.ok(&[
            "--passphrase",
            "",
            "--pinentry-mode",
            "loopback",
            "--quick-gen-key",
            uid,
            "future-default",
            "default",
            "1y",
        ]);
        let list = self.ok(&["--with-colons", "--list-keys", uid]);
        let fprs: Vec<String> = list
            .lines()
            .filter_map(|l| l.strip_prefix("fpr:"))
            .filter_map(|l| l.split(':').nth(8).map(str::to_string))
            .collect();
        assert_eq!(fprs.len(), 2, "{list}");
        (fprs[0].clone(), fprs[1].clone())
    }

    /// `gpg --search-keys` in batch mode with colons output: the fingerprints of the keys found.
    fn search(&self, pattern: &str) -> Vec<String> {
        let out = self.ok(&["--with-colons", "--search-keys", pattern]);
        out.lines()
            .filter_map(|l| l.strip_prefix("pub:"))
            .filter_map(|l| l.split(':').next().map(str::to_string))
            .collect()
    }
}

impl Drop for Gnupg {
    fn drop(&mut self) {
        let _ = self.run("gpgconf", &["--kill", "all"]);
    }
}

/// The key entry dirmngr wrote, read as the administrator.
fn key_entry(c: &mut LdapConn, fpr: &str) -> SearchEntry {
    let (r, _) = c
        .search(
            &keys_dn(),
            Scope::OneLevel,
            &format!("(gpgFingerprint={fpr})"),
            vec!["*", "creatorsName", "modifiersName"],
        )
        .expect("search")
        .success()
        .expect("search success");
    assert_eq!(r.len(), 1, "one key entry for {fpr}");
    SearchEntry::construct(r[0].clone())
}

fn values<'a>(e: &'a SearchEntry, attr: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = e
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.iter().map(String::as_str).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn gpg_send_recv_and_search_keys_through_dirmngr() {
    if !gpg_available() {
        return;
    }
    let s = directory();
    let port = s.ldap_addr().port();
    let ldaps_port = s.server().ldaps_addrs[0].port();

    // Ana uploads her key with the URL form (StartTLS).
    let ana = Gnupg::new(&s, &ana_url(port));
    let (fpr, sub) = ana.gen_key("Ana Souza <ana@nic-br.example>");
    ana.ok(&["--send-keys", &fpr]);

    let mut c = admin_tls(&s);
    let e = key_entry(&mut c, &fpr);
    let keyid = &fpr[24..];
    assert_eq!(
        e.dn.to_lowercase(),
        format!(
            "pgpcertid={},{}",
            keyid.to_lowercase(),
            keys_dn().to_lowercase()
        )
    );
    assert_eq!(values(&e, "objectClass"), vec!["pgpKeyInfo"]);
    assert_eq!(values(&e, "pgpCertID"), vec![keyid]);
    assert_eq!(values(&e, "pgpKeyID"), vec![&fpr[32..]]);
    assert_eq!(values(&e, "gpgSubFingerprint"), vec![sub.as_str()]);
    assert_eq!(values(&e, "gpgMailbox"), vec!["ana@nic-br.example"]);
    assert_eq!(
        values(&e, "pgpUserID"),
        vec!["Ana Souza <ana@nic-br.example>"]
    );
    assert_eq!(values(&e, "pgpRevoked"), vec!["0"]);
    assert_eq!(values(&e, "pgpDisabled"), vec!["0"]);
    assert!(
        values(&e, "pgpKey")
            .first()
            .is_some_and(|k| k.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")),
        "{:?}",
        e.attrs.keys()
    );
    assert_eq!(
        values(&e, "creatorsName"),
        vec![person("ana", "br").as_str()]
    );

    // A second upload (with a new user ID) replaces the key entry: dirmngr's modify path.
    ana.ok(&[
        "--passphrase",
        "",
        "--pinentry-mode",
        "loopback",
        "--quick-add-uid",
        &fpr,
        "Ana Souza (CSIRT) <csirt@nic-br.example>",
    ]);
    ana.ok(&["--send-keys", &fpr]);
    let e = key_entry(&mut c, &fpr);
    assert_eq!(
        values(&e, "gpgMailbox"),
        vec!["ana@nic-br.example", "csirt@nic-br.example"]
    );
    assert_eq!(values(&e, "pgpUserID").len(), 2);
    assert_eq!(
        values(&e, "modifiersName"),
        vec![person("ana", "br").as_str()]
    );

    // Her contact entry names the key by its fingerprint.
    c.modify(
        &person("ana", "br"),
        vec![Mod::Replace(
            "cctldOpenPGPFingerprint",
            HashSet::from([fpr.as_str()]),
        )],
    )
    .expect("modify")
    .success()
    .expect("set fingerprint");

    // Kai (another registry) looks the fingerprint up as docs/clients/gnupg.md shows, then
    // fetches the key, this time with the colon form over LDAPS.
    let o = s.tool(
        "ldapsearch",
        &[
            "-LLL",
            "-x",
            "-ZZ",
            "-H",
            &format!("ldap://127.0.0.1:{port}"),
            "-D",
            &person("kai", "de"),
            "-w",
            PW,
            "-b",
            SUFFIX,
            "(mail=ana@nic-br.example)",
            "cctldOpenPGPFingerprint",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let looked_up: Vec<String> = stdout(&o)
        .lines()
        .filter_map(|l| l.strip_prefix("cctldOpenPGPFingerprint: "))
        .map(str::to_string)
        .collect();
    assert_eq!(looked_up, vec![fpr.clone()]);
    let kai_ks = format!(
        "ldap:127.0.0.1:{ldaps_port}:{}:{PW}::ldaptls",
        person("kai", "de")
    );
    let kai = Gnupg::new(&s, &kai_ks);
    kai.ok(&["--recv-keys", &looked_up[0]]);
    let listed = kai.ok(&["--with-colons", "--list-keys", &fpr]);
    assert!(listed.contains(&format!("fpr:::::::::{fpr}:")), "{listed}");
    assert!(listed.contains("Ana Souza (CSIRT) <csirt@nic-br.example>"));

    // Search by mailbox, name, fingerprint and subkey fingerprint: each finds Ana's key once.
    for pattern in [
        "<ana@nic-br.example>",
        "<csirt@nic-br.example>",
        "Ana Souza",
        "souza",
        fpr.as_str(),
        sub.as_str(),
        &format!("0x{keyid}"),
    ] {
        assert_eq!(kai.search(pattern), vec![fpr.clone()], "{pattern}");
    }
    assert!(kai.search("<nobody@nic-br.example>").is_empty());
    assert!(kai.search("Nobody Known").is_empty());
}

/// Without a bind, dirmngr finds the key space but no keys (user IDs are personal data); a
/// bound non-member cannot upload.
#[test]
fn gpg_without_membership_finds_and_sends_nothing() {
    if !gpg_available() {
        return;
    }
    let s = directory();
    let port = s.ldap_addr().port();
    let mut c = admin_tls(&s);
    // rui's registry is not listed in cn=members.
    add(
        &mut c,
        &reg("pt"),
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("associatedDomain", &["pt"]),
            ("o", &["Registry of .pt"]),
        ],
    );
    add(
        &mut c,
        &person("rui", "pt"),
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &["rui"]),
            ("cn", &["Rui Costa"]),
            ("sn", &["Costa"]),
            ("userPassword", &[PW]),
        ],
    );
    let ana = Gnupg::new(&s, &ana_url(port));
    let (fpr, _) = ana.gen_key("Ana Souza <ana@nic-br.example>");
    ana.ok(&["--send-keys", &fpr]);

    // The same bind on a plain connection is refused (confidentialityRequired).
    let plain = Gnupg::new(
        &s,
        &format!(
            "ldap://127.0.0.1:{port}/????bindname={},password={}",
            url_ext(&person("ana", "br")),
            url_ext(PW)
        ),
    );
    let o = plain.run("gpg", &["--batch", "--search-keys", "Ana"]);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Confidentiality required"),
        "{}",
        stderr(&o)
    );

    // A client that does not trust the server's CA does not connect: dirmngr demands a
    // verified certificate for StartTLS.
    let mut untrusting = Gnupg::new(&s, &ana_url(port));
    let other_ca = untrusting.home().join("other-ca.pem");
    let key = rcgen::KeyPair::generate().expect("key");
    let mut p = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&other_ca, p.self_signed(&key).expect("ca").pem()).expect("write ca");
    untrusting.ca = other_ca;
    let o = untrusting.run("gpg", &["--batch", "--search-keys", "Ana"]);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("LDAP connect error"), "{}", stderr(&o));

    let anonymous = Gnupg::new(&s, &format!("ldaps://127.0.0.1:{port}"));
    let o = anonymous.run("gpg", &["--batch", "--recv-keys", &fpr]);
    assert!(!o.status.success(), "{}", stderr(&o));
    let o = anonymous.run("gpg", &["--batch", "--search-keys", "Ana"]);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("No such LDAP object"), "{}", stderr(&o));

    let rui = Gnupg::new(
        &s,
        &format!(
            "ldaps://127.0.0.1:{port}/????bindname={},password={}",
            url_ext(&person("rui", "pt")),
            url_ext(PW)
        ),
    );
    let (rfpr, _) = rui.gen_key("Rui Costa <rui@nic-pt.example>");
    let o = rui.run("gpg", &["--batch", "--send-keys", &rfpr]);
    assert!(!o.status.success(), "{}", stderr(&o));
    let (r, _) = c
        .search(&keys_dn(), Scope::OneLevel, "(objectClass=*)", vec!["1.1"])
        .expect("search")
        .success()
        .expect("search success");
    assert_eq!(r.len(), 1, "only Ana's key");
}

/// The keyserver entries and who may do what with them, with the exact result codes (no gpg).
#[test]
fn keyserver_entries_and_access() {
    let s = directory();
    // Anonymous: reads cn=PGPServerInfo as dirmngr asks for it, sees no keys.
    let mut anon = s.conn();
    let (r, _) = anon
        .search(
            &format!("cn=pgpServerInfo,{SUFFIX}"),
            Scope::Base,
            "(objectClass=*)",
            vec!["pgpBaseKeySpaceDN", "pgpVersion", "pgpSoftware"],
        )
        .expect("search")
        .success()
        .expect("anonymous reads pgpServerInfo");
    let info = SearchEntry::construct(r[0].clone());
    assert_eq!(values(&info, "pgpBaseKeySpaceDN"), vec![keys_dn().as_str()]);
    assert_eq!(values(&info, "pgpSoftware"), vec!["GnuPG"]);
    assert_eq!(values(&info, "pgpVersion"), vec!["2"]);
    assert_eq!(
        search_rc(anon.search(&keys_dn(), Scope::Subtree, "(objectClass=*)", vec!["1.1"])),
        32
    );

    let key = |certid: &str, uid: &str| -> Vec<(String, HashSet<String>)> {
        [
            ("objectClass", "pgpKeyInfo"),
            ("pgpCertID", certid),
            ("pgpKey", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n..."),
            ("pgpUserID", uid),
        ]
        .iter()
        .map(|(a, v)| (a.to_string(), HashSet::from([v.to_string()])))
        .collect()
    };
    let bind = |uid: &str, tld: &str| {
        let mut c = s.conn_starttls();
        c.simple_bind(&person(uid, tld), PW)
            .expect("bind")
            .success()
            .expect("bind ok");
        c
    };
    // A member uploads and replaces; another member reads and may replace it too.
    let mut ana = bind("ana", "br");
    let k1 = format!("pgpCertID=0123456789ABCDEF,{}", keys_dn());
    assert_eq!(
        rc(ana.add(&k1, key("0123456789ABCDEF", "Ana <a@x.example>"))),
        0
    );
    assert_eq!(
        rc(ana.modify(
            &k1,
            vec![Mod::Replace(
                "pgpUserID",
                HashSet::from(["Ana <b@x.example>"])
            )]
        )),
        0
    );
    let mut kai = bind("kai", "de");
    let (r, _) = kai
        .search(
            &keys_dn(),
            Scope::OneLevel,
            "(pgpUserID=*b@x*)",
            vec!["pgpCertID"],
        )
        .expect("search")
        .success()
        .expect("member reads keys");
    assert_eq!(r.len(), 1);

    // A bound non-member sees no keys and uploads nothing.
    let mut c = admin_tls(&s);
    add(
        &mut c,
        &format!("uid=tool,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &["tool"]),
            ("cn", &["tool"]),
            ("sn", &["tool"]),
            ("userPassword", &[PW]),
        ],
    );
    let mut tool = s.conn_starttls();
    tool.simple_bind(&format!("uid=tool,ou=groups,{SUFFIX}"), PW)
        .expect("bind")
        .success()
        .expect("bind ok");
    assert_eq!(
        search_rc(tool.search(&keys_dn(), Scope::OneLevel, "(objectClass=*)", vec!["1.1"])),
        32
    );
    assert_eq!(
        rc(tool.modify(&k1, vec![Mod::Replace("pgpUserID", HashSet::from(["x"]))])),
        32
    );
    let k2 = format!("pgpCertID=1111222233334444,{}", keys_dn());
    assert_eq!(
        rc(tool.add(&k2, key("1111222233334444", "T <t@x.example>"))),
        32
    );
    // pgpServerInfo: anyone reads, only the directory admins write.
    assert_eq!(
        rc(ana.modify(
            &format!("cn=PGPServerInfo,{SUFFIX}"),
            vec![Mod::Replace("pgpVersion", HashSet::from(["1"]))]
        )),
        50
    );
    // Members write key entries only: nothing else below the key subtree.
    assert_eq!(
        rc(ana.add(
            &format!("ou=Other,{}", keys_dn()),
            vec![
                ("objectClass", HashSet::from(["organizationalUnit"])),
                ("ou", HashSet::from(["Other"])),
            ],
        )),
        50
    );
    // Members may delete key blocks (documented in docs/security.md).
    assert_eq!(rc(kai.delete(&k1)), 0);
}

/// A directory made before the keyserver entries existed (or with `openpgp_keyserver = false`)
/// has neither entry; the LDIF in docs/clients/gnupg.md adds them as bootstrap makes them.
#[test]
fn documented_ldif_adds_the_keyserver_entries() {
    let s = TestServer::start();
    let mut c = s.admin();
    assert_eq!(
        search_rc(c.search(&keys_dn(), Scope::Base, "(objectClass=*)", vec!["1.1"])),
        32
    );
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/clients/gnupg.md"),
    )
    .expect("docs/clients/gnupg.md");
    let after = doc
        .split_once("<!-- ldif:keyserver-entries")
        .expect("marker")
        .1;
    let ldif = after
        .split_once("<<'EOF'\n")
        .expect("heredoc")
        .1
        .split_once("\nEOF\n")
        .expect("heredoc end")
        .0;
    let o = s.tool(
        "ldapadd",
        &[
            "-x",
            "-H",
            &s.ldap_url(),
            "-D",
            ADMIN,
            "-y",
            &s.admin_password_file().display().to_string(),
        ],
        Some(ldif),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The same as on a new directory, as dirmngr reads it.
    let fresh = TestServer::start_with(|c| c.openpgp_keyserver = true);
    let info = |s: &TestServer| {
        let (r, _) = s
            .conn()
            .search(
                &format!("cn=pgpServerInfo,{SUFFIX}"),
                Scope::Base,
                "(objectClass=*)",
                vec!["pgpBaseKeySpaceDN", "pgpVersion", "pgpSoftware"],
            )
            .expect("search")
            .success()
            .expect("anonymous reads pgpServerInfo");
        SearchEntry::construct(r[0].clone()).attrs
    };
    assert_eq!(info(&s), info(&fresh));
    assert_eq!(
        search_rc(c.search(&keys_dn(), Scope::Base, "(objectClass=*)", vec!["1.1"])),
        0
    );
}
