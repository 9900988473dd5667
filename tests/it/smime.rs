//! S/MIME: a contact's X.509 certificate in `userCertificate;binary`, found by mail address the
//! way mail clients look for a recipient's certificate, with the `;binary` option echoed and the
//! DER bytes unchanged.
//!
//! Requests replayed (see docs/clients/smime.md):
//! - Thunderbird (comm-central mail/extensions/smime/certFetchingStatus.js): bind with the
//!   directory's bind DN, filter `(mail=a)` or `(|(mail=a)(mail=b)...)` for several recipients,
//!   attribute `usercertificate;binary` (its spelling), size limit twice the number of addresses;
//! - clients that also read the inetOrgPerson PKCS#7 attribute: `userCertificate;binary` and
//!   `userSMIMECertificate`;
//! - GnuPG's gpgsm through dirmngr (`ldapserver` in dirmngr.conf, `--list-external-keys
//!   '<address>'`): filter `(mail=<address>)`, reads `userCertificate`.

use crate::gnupg::{gnupg_available, Gnupg};
use crate::harness::*;
use base64::Engine;
use ldap3::{LdapConn, Mod};
use std::collections::HashSet;

const PW: &str = "a-long-test-password";

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn person(uid: &str, tld: &str) -> String {
    format!("uid={uid},{}", reg(tld))
}

fn team(tld: &str) -> String {
    format!("cn=incident-response,{}", reg(tld))
}

/// A self-signed S/MIME certificate (emailProtection, the address as rfc822Name), DER.
pub fn smime_cert(cn: &str, mail: &str) -> Vec<u8> {
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, SanType};
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.subject_alt_names = vec![SanType::Rfc822Name(mail.try_into().expect("ia5"))];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    p.self_signed(&key).expect("certificate").der().to_vec()
}

/// Two member registries: br (ana and its 24/7 team, both with a certificate) and de (kai, who
/// looks them up). Password binds need TLS (the default).
fn directory() -> (TestServer, Vec<u8>, Vec<u8>) {
    let s = TestServer::start_with(|c| c.password.require_tls = true);
    let mut c = s.conn_starttls();
    c.simple_bind(ADMIN, &s.admin_password())
        .expect("bind")
        .success()
        .expect("admin bind");
    for tld in ["br", "de"] {
        add(
            &mut c,
            &reg(tld),
            &[
                ("objectClass", &["organization", "cctldRegistry"]),
                ("associatedDomain", &[tld]),
                ("o", &[&format!("Registry of .{tld}")]),
            ],
        );
    }
    for (uid, cn, tld, mail) in [
        ("ana", "Ana Souza", "br", "ana@nic-br.example"),
        ("kai", "Kai Weber", "de", "kai@nic-de.example"),
    ] {
        add(
            &mut c,
            &person(uid, tld),
            &[
                ("objectClass", &["inetOrgPerson", "cctldContact"]),
                ("uid", &[uid]),
                ("cn", &[cn]),
                ("sn", &[cn.rsplit(' ').next().unwrap_or(cn)]),
                ("mail", &[mail]),
                ("associatedDomain", &[tld]),
                ("userPassword", &[PW]),
            ],
        );
    }
    add(
        &mut c,
        &team("br"),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("mail", &["security@nic-br.example"]),
            ("associatedDomain", &["br"]),
        ],
    );
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&reg("br"), &reg("de")]),
        ],
    );
    let ana = smime_cert("Ana Souza", "ana@nic-br.example");
    let csirt = smime_cert("CSIRT .br", "security@nic-br.example");
    add_cert(&mut c, &person("ana", "br"), &ana);
    add_cert(&mut c, &team("br"), &csirt);
    (s, ana, csirt)
}

fn add_cert(c: &mut LdapConn, dn: &str, der: &[u8]) {
    c.modify(
        dn,
        vec![Mod::Add(
            "userCertificate;binary".as_bytes(),
            HashSet::from([der]),
        )],
    )
    .expect("modify")
    .success()
    .expect("store the certificate");
}

/// Unfold LDIF and return (attribute description, value bytes) pairs of every entry.
fn ldif_values(ldif: &str) -> Vec<(String, Vec<u8>)> {
    let mut lines: Vec<String> = Vec::new();
    for l in ldif.lines() {
        match l.strip_prefix(' ') {
            Some(rest) if !lines.is_empty() => {
                if let Some(last) = lines.last_mut() {
                    last.push_str(rest);
                }
            }
            _ => lines.push(l.to_string()),
        }
    }
    lines
        .iter()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("dn:"))
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let v = match rest.strip_prefix(':') {
                Some(b64) => base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .expect("base64"),
                None => rest.trim_start().as_bytes().to_vec(),
            };
            Some((name.to_string(), v))
        })
        .collect()
}

/// `ldapsearch` as kai over StartTLS with `opts` (e.g. a size limit): the attribute values of
/// the entries with this mail.
fn lookup(s: &TestServer, mail: &str, opts: &[&str], attrs: &[&str]) -> Vec<(String, Vec<u8>)> {
    let url = format!("ldap://127.0.0.1:{}", s.ldap_addr().port());
    let filter = format!("(mail={mail})");
    let kai = person("kai", "de");
    let mut args = vec![
        "-LLL", "-x", "-ZZ", "-H", &url, "-D", &kai, "-w", PW, "-b", SUFFIX,
    ];
    args.extend_from_slice(opts);
    args.push(&filter);
    args.extend_from_slice(attrs);
    let o = s.tool("ldapsearch", &args, None);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    ldif_values(&stdout(&o))
}

#[test]
fn certificates_are_found_by_mail_with_the_binary_option_echoed() {
    let (s, ana, csirt) = directory();

    // Thunderbird, one recipient: (mail=...) asking for usercertificate;binary, size limit 2.
    let got = lookup(
        &s,
        "ana@nic-br.example",
        &["-z", "2"],
        &["usercertificate;binary"],
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].0.eq_ignore_ascii_case("userCertificate;binary"),
        "the option is echoed: {}",
        got[0].0
    );
    assert_eq!(got[0].1, ana);
    // Thunderbird, two recipients: an OR of the addresses, size limit 4.
    let url = format!("ldap://127.0.0.1:{}", s.ldap_addr().port());
    let kai = person("kai", "de");
    let o = s.tool(
        "ldapsearch",
        &[
            "-LLL",
            "-x",
            "-ZZ",
            "-H",
            &url,
            "-D",
            &kai,
            "-w",
            PW,
            "-b",
            SUFFIX,
            "-z",
            "4",
            "(|(mail=ana@nic-br.example)(mail=security@nic-br.example))",
            "usercertificate;binary",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut certs: Vec<Vec<u8>> = ldif_values(&stdout(&o))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    certs.sort();
    let mut want = vec![ana.clone(), csirt.clone()];
    want.sort();
    assert_eq!(certs, want);

    // userCertificate;binary and userSMIMECertificate: ana has no PKCS#7 blob, so only the
    // certificate comes back.
    let got = lookup(
        &s,
        "ana@nic-br.example",
        &[],
        &["userCertificate;binary", "userSMIMECertificate"],
    );
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["userCertificate;binary"]);
    assert_eq!(got[0].1, ana);

    // Without the option the same value comes back under the plain name.
    let got = lookup(&s, "ana@nic-br.example", &[], &["userCertificate"]);
    assert_eq!(got, vec![("userCertificate".to_string(), ana.clone())]);

    // The 24/7 team's address finds the team's certificate; the mail match ignores case.
    let got = lookup(
        &s,
        "Security@NIC-BR.example",
        &[],
        &["userCertificate;binary"],
    );
    assert_eq!(got, vec![("userCertificate;binary".to_string(), csirt)]);

    // An address without a certificate: the entry, but no certificate.
    let got = lookup(&s, "kai@nic-de.example", &[], &["userCertificate;binary"]);
    assert!(got.is_empty(), "{got:?}");
}

/// gpgsm finds the certificate through dirmngr's LDAP lookup (StartTLS, bound as a member).
#[test]
fn gpgsm_finds_a_contacts_certificate() {
    if !gnupg_available(&["gpgsm", "dirmngr", "gpgconf"]) {
        return;
    }
    let (s, ana, _) = directory();
    let conf = format!(
        "ldapserver 127.0.0.1:{}:{}:{PW}:{SUFFIX}:starttls\nldaptimeout 20\n",
        s.ldap_addr().port(),
        person("kai", "de")
    );
    let g = Gnupg::with_conf(&s, &conf);
    let o = g.run(
        "gpgsm",
        &[
            "--batch",
            "--with-colons",
            "--list-external-keys",
            "<ana@nic-br.example>",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    use sha1::Digest;
    let fpr: String = sha1::Sha1::digest(&ana)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let out = stdout(&o);
    assert!(out.contains(&format!("fpr:::::::::{fpr}:")), "{out}");
    assert!(out.contains("ana@nic-br.example"), "{out}");
}
