//! `ccdir list-keys <list>`: the keys of a list's recipients, checked with the real gpg (import
//! the exported keyring, encrypt to all, decrypt as one recipient) and the certificates as PEM.

use crate::gnupg::{gnupg_available, Gnupg};
use crate::harness::*;
use crate::smime::smime_cert;
use ldap3::{LdapConn, Mod};
use std::collections::{BTreeSet, HashSet};

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn team(tld: &str) -> String {
    format!("cn=incident-response,{}", reg(tld))
}

/// A registry with its 24/7 team (mail security@nic-<tld>.example).
fn registry(c: &mut LdapConn, tld: &str) {
    add(
        c,
        &reg(tld),
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("associatedDomain", &[tld]),
            ("o", &[&format!("Registry of .{tld}")]),
        ],
    );
    add(
        c,
        &team(tld),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("associatedDomain", &[tld]),
            ("mail", &[&format!("security@nic-{tld}.example")]),
        ],
    );
    let t = team(tld);
    let rc = c
        .modify(
            &reg(tld),
            vec![Mod::Replace(
                "cctldContactPoint",
                HashSet::from([t.as_str()]),
            )],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
}

fn set(c: &mut LdapConn, dn: &str, attr: &str, value: &str) {
    let rc = c
        .modify(dn, vec![Mod::Replace(attr, HashSet::from([value]))])
        .expect("modify")
        .rc;
    assert_eq!(rc, 0, "{dn} {attr}");
}

/// A key entry as dirmngr writes one (the attributes that matter here).
fn key_entry(c: &mut LdapConn, fpr: &str, block: &str) {
    let id = &fpr[fpr.len() - 16..];
    add(
        c,
        &format!("pgpCertID={id},ou=GnuPG Keys,{SUFFIX}"),
        &[
            ("objectClass", &["pgpKeyInfo"]),
            ("pgpCertID", &[id]),
            ("pgpKey", &[block]),
            ("gpgFingerprint", &[fpr]),
        ],
    );
}

#[test]
fn list_keys_exports_what_encrypts_to_every_recipient() {
    if !gnupg_available(&["gpg", "gpgconf"]) {
        return;
    }
    let s = TestServer::start_with(|c| c.openpgp_keyserver = true);
    let mut c = s.admin();
    for tld in ["br", "de", "fr", "it", "nl"] {
        registry(&mut c, tld);
    }
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&reg("br"), &reg("de"), &reg("fr"), &reg("it")]),
        ],
    );
    // .br's and .de's teams have keys; .fr names a key whose entry holds another key (any
    // member may upload key entries); .it has an S/MIME certificate only; .nl is no member.
    let br = Gnupg::with_conf(&s, "");
    let de = Gnupg::with_conf(&s, "");
    let other = Gnupg::with_conf(&s, "");
    let (fpr_br, _) = br.gen_key("CSIRT br <security@nic-br.example>");
    let (fpr_x, _) = br.gen_key("Someone else <x@attacker.example>");
    let (fpr_de, _) = de.gen_key("CSIRT de <security@nic-de.example>");
    let (fpr_fr, _) = other.gen_key("CSIRT fr <security@nic-fr.example>");
    let (fpr_nl, _) = other.gen_key("CSIRT nl <security@nic-nl.example>");
    // .br's block carries a second key, which must not be exported.
    let block_br = br.ok(&["--armor", "--export", &fpr_br, &fpr_x]);
    let block_de = de.ok(&["--armor", "--export", &fpr_de]);
    let block_nl = other.ok(&["--armor", "--export", &fpr_nl]);
    key_entry(&mut c, &fpr_br, &block_br);
    key_entry(&mut c, &fpr_de, &block_de);
    key_entry(&mut c, &fpr_fr, &block_de);
    key_entry(&mut c, &fpr_nl, &block_nl);
    for (tld, fpr) in [
        ("br", &fpr_br),
        ("de", &fpr_de),
        ("fr", &fpr_fr),
        ("nl", &fpr_nl),
    ] {
        set(&mut c, &team(tld), "cctldOpenPGPFingerprint", fpr);
    }
    let cert = smime_cert("CSIRT it", "security@nic-it.example");
    let rc = c
        .modify(
            &team("it"),
            vec![Mod::Add(
                "userCertificate;binary".as_bytes(),
                HashSet::from([cert.as_slice()]),
            )],
        )
        .expect("modify")
        .rc;
    assert_eq!(rc, 0);
    drop(c);
    let sender = Gnupg::with_conf(&s, "");
    let data = s.data.clone();
    let _tmp = s.stop();
    let out = tempfile::tempdir().expect("tempdir");
    let asc = out.path().join("members.asc");
    let pem = out.path().join("members.pem");
    let o = ccdir(
        &[
            "list-keys",
            "members@lists.cctld-ir.example",
            "--openpgp",
            asc.to_str().expect("path"),
            "--smime",
            pem.to_str().expect("path"),
        ],
        &data,
    );
    let report = stdout(&o);
    assert!(o.status.success(), "{report}{}", stderr(&o));
    assert!(
        report.starts_with(
            "list members: 4 recipients, 2 with an OpenPGP key, 1 with an S/MIME certificate\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "security@nic-br.example  OpenPGP: {fpr_br}  S/MIME: none"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("no key with fingerprint {fpr_fr}")),
        "{report}"
    );
    assert!(
        report.contains("security@nic-it.example  OpenPGP: none  S/MIME: 1 certificate(s)"),
        "{report}"
    );
    assert!(
        report.contains("1 recipient(s) with neither key nor certificate"),
        "{report}"
    );
    assert!(!report.contains("nic-nl"), "{report}");

    // The keyring: exactly the two members' keys (not .br's second key, not .nl's).
    sender.ok(&["--import", asc.to_str().expect("path")]);
    let listed = sender.ok(&["--with-colons", "--list-keys"]);
    let fprs: BTreeSet<String> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("fpr:"))
        .filter_map(|l| l.split(':').nth(8).map(str::to_string))
        .collect();
    assert!(fprs.contains(&fpr_br) && fprs.contains(&fpr_de), "{listed}");
    assert!(
        !fprs.contains(&fpr_x) && !fprs.contains(&fpr_nl),
        "{listed}"
    );
    // Encrypt one message to every key in the file, decrypt it as .de.
    let msg = out.path().join("msg.txt");
    std::fs::write(&msg, "incident 42: please rotate the DS records\n").expect("write");
    let enc = out.path().join("msg.asc");
    let mut args = vec![
        "--trust-model".to_string(),
        "always".into(),
        "--armor".into(),
        "--output".into(),
        enc.display().to_string(),
        "--encrypt".into(),
    ];
    for f in [&fpr_br, &fpr_de] {
        args.push("--recipient".into());
        args.push(f.clone());
    }
    args.push(msg.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sender.ok(&args);
    for (who, home) in [("de", &de), ("br", &br)] {
        let plain = home.ok(&["--decrypt", enc.to_str().expect("path")]);
        assert_eq!(
            plain, "incident 42: please rotate the DS records\n",
            "decrypted as {who}"
        );
    }
    // The certificate file: the DER of .it's certificate, as PEM.
    let pem_text = std::fs::read_to_string(&pem).expect("pem");
    use base64::Engine;
    let b64: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        pem_text.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "{pem_text}"
    );
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64"),
        cert
    );

    // Not a list.
    let o = ccdir(&["list-keys", "directory-admins"], &data);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a list"), "{}", stderr(&o));
}
