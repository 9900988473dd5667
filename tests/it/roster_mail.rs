//! The roster mail against a real mail server: the server's check signs (and, for a recipient
//! whose key the directory holds, encrypts) with the real gpg and hands the mails to a private
//! Postfix (postfix.rs) over STARTTLS, which relays them to the test's sink. With a controlled
//! clock: exactly the member registries' contact points get one mail each; the attachments
//! are parsed back (Python's email package for the MIME, vobject for the vCards, csv for the
//! CSV); the signature verifies with gpg and the encrypted copy decrypts with the recipient's
//! key; a restart sends nothing again; a contact point change sends one mail to that registry;
//! the next month sends to all again; the dry run prints and sends nothing; a server whose
//! signing key is missing does not start.

use crate::gnupg::{gnupg_available, Gnupg};
use crate::harness::*;
use crate::postfix::*;
use crate::roster::vobject_available;
use ccdir::core::clock::ManualClock;
use ldap3::{LdapConn, Mod};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::macros::datetime;

fn reg(tld: &str) -> String {
    format!("associatedDomain={tld},ou=registries,{SUFFIX}")
}

fn team(tld: &str) -> String {
    format!("cn=incident-response,{}", reg(tld))
}

fn replace(c: &mut LdapConn, dn: &str, attr: &str, value: &str) {
    let rc = c
        .modify(dn, vec![Mod::Replace(attr, HashSet::from([value]))])
        .expect("modify")
        .rc;
    assert_eq!(rc, 0, "{dn} {attr}");
}

/// .br (its team has a key in the keyserver subtree), .de (no key), .it (a member without a
/// contact point) and .nl (no member).
fn setup(s: &TestServer, fpr_br: &str, block_br: &str) {
    let mut c = s.admin();
    for tld in ["br", "de", "it", "nl"] {
        add(
            &mut c,
            &reg(tld),
            &[
                ("objectClass", &["organization", "cctldRegistry"]),
                ("associatedDomain", &[tld]),
                ("o", &[&format!("Registry of .{tld}")]),
            ],
        );
        if tld == "it" {
            continue;
        }
        add(
            &mut c,
            &team(tld),
            &[
                ("objectClass", &["organizationalRole", "cctldContact"]),
                ("cn", &["incident-response"]),
                ("associatedDomain", &[tld]),
                ("mail", &[&format!("security@nic-{tld}.example")]),
                ("telephoneNumber", &["+49 69 1234 0100"]),
                ("cctldAvailable247", &["TRUE"]),
            ],
        );
        replace(&mut c, &reg(tld), "cctldContactPoint", &team(tld));
    }
    let id = &fpr_br[fpr_br.len() - 16..];
    add(
        &mut c,
        &format!("pgpCertID={id},ou=GnuPG Keys,{SUFFIX}"),
        &[
            ("objectClass", &["pgpKeyInfo"]),
            ("pgpCertID", &[id]),
            ("pgpKey", &[block_br]),
            ("gpgFingerprint", &[fpr_br]),
        ],
    );
    replace(&mut c, &team("br"), "cctldOpenPGPFingerprint", fpr_br);
    add(
        &mut c,
        &format!("cn=members,ou=groups,{SUFFIX}"),
        &[
            ("objectClass", &["groupOfNames"]),
            ("cn", &["members"]),
            ("member", &[&reg("br"), &reg("de"), &reg("it")]),
        ],
    );
}

/// Wait until the sink holds `n` messages (and Postfix's queue is empty); then a few more
/// checks' time, to see that no more come.
fn expect_messages(sink: &Sink, pf: &Postfix, n: usize) -> Vec<(BTreeSet<String>, String)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.messages().len() < n || pf.queued() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} of {n} messages in 60 s\n{}",
            sink.messages().len(),
            pf.maillog()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let m: Vec<(BTreeSet<String>, String)> = sink
        .messages()
        .into_iter()
        .map(|(to, d)| (to.into_iter().collect(), d))
        .collect();
    assert_eq!(
        m.len(),
        n,
        "{:#?}",
        m.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    m
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The message for `to` (exactly one among `m`).
fn for_rcpt<'a>(m: &'a [(BTreeSet<String>, String)], to: &str) -> &'a str {
    let found: Vec<_> = m.iter().filter(|(r, _)| r.contains(to)).collect();
    assert_eq!(found.len(), 1, "{to}");
    &found[0].1
}

/// A header's value, unfolded.
fn header(msg: &str, name: &str) -> String {
    let head = msg.split("\r\n\r\n").next().unwrap_or("");
    let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let h = format!("{name}: ");
    head.split("\r\n")
        .find_map(|l| l.strip_prefix(h.as_str()))
        .unwrap_or_else(|| panic!("no {name} in {msg}"))
        .to_string()
}

fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let i = s
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in {s}"))
        + from.len();
    let j = s[i..]
        .find(to)
        .unwrap_or_else(|| panic!("{to:?} not in {s}"))
        + i;
    &s[i..j]
}

/// Split a multipart/signed entity (top headers included): the signed bytes and the
/// armoured signature.
fn signed_parts(msg: &str) -> (String, String) {
    let ct = header(msg, "Content-Type");
    assert!(
        ct.starts_with("multipart/signed; micalg=pgp-sha256;"),
        "{ct}"
    );
    assert!(
        ct.contains("protocol=\"application/pgp-signature\""),
        "{ct}"
    );
    let b = between(&ct, "boundary=\"", "\"");
    let body = &msg[msg.find("\r\n\r\n").expect("body") + 4..];
    let entity = between(body, &format!("--{b}\r\n"), &format!("\r\n--{b}\r\n"));
    let rest = &body[body.find(entity).expect("entity") + entity.len()..];
    let sig_part = between(rest, &format!("\r\n--{b}\r\n"), &format!("\r\n--{b}--"));
    assert!(
        sig_part.starts_with("Content-Type: application/pgp-signature"),
        "{sig_part}"
    );
    let sig = format!(
        "-----BEGIN PGP SIGNATURE-----{}-----END PGP SIGNATURE-----\n",
        between(
            sig_part,
            "-----BEGIN PGP SIGNATURE-----",
            "-----END PGP SIGNATURE-----"
        )
    );
    (entity.to_string(), sig)
}

/// gpg --verify of `sig` over `data` in `home`: the signer's fingerprint (VALIDSIG).
fn verify(home: &Gnupg, dir: &Path, data: &str, sig: &str) -> String {
    let d = dir.join("signed.eml");
    let s = dir.join("signed.asc");
    std::fs::write(&d, data).expect("write");
    std::fs::write(&s, sig).expect("write");
    let out = home.ok(&[
        "--status-fd",
        "1",
        "--verify",
        s.to_str().expect("path"),
        d.to_str().expect("path"),
    ]);
    assert!(out.contains("[GNUPG:] GOODSIG "), "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
        .and_then(|l| l.split(' ').next())
        .expect("VALIDSIG")
        .to_string()
}

/// Python's email package reads the multipart/mixed entity: the text and every attachment
/// (decoded) into `dir`; prints "name<TAB>content type" per part.
const PARTS: &str = r#"
import sys, email, email.policy, os
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
for i, part in enumerate(msg.iter_parts()):
    name = part.get_filename() or "body.txt"
    assert part.get_content_charset() == "utf-8"
    open(os.path.join(sys.argv[2], name), "wb").write(part.get_payload(decode=True))
    print(name + "\t" + part.get_content_type() + "\t" + (part.get_content_disposition() or ""))
"#;

/// The cards' FN and e-mail addresses (vobject), one line per card.
const CARDS: &str = r#"
import sys, vobject
for card in vobject.readComponents(open(sys.argv[1], encoding="utf-8").read(), validate=True):
    assert card.version.value == "4.0"
    c = card.contents
    print(c["fn"][0].value + "\t" + ",".join(sorted(e.value for e in c.get("email", []))))
"#;

/// The CSV's header and (cctld, name, mail) per row (Python's csv module).
const ROWS: &str = r#"
import sys, csv
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
print(",".join(rows[0]))
h = rows[0]
for r in rows[1:]:
    assert len(r) == len(h), r
    print("\t".join([r[h.index("cctld")], r[h.index("name")], r[h.index("mail")]]))
"#;

fn python(script: &str, args: &[&str]) -> String {
    let o = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// The roster entity parsed back: its text and the attachments checked.
fn check_roster(entity: &str, dir: &Path) -> String {
    let parts = dir.join("parts");
    let _ = std::fs::remove_dir_all(&parts);
    std::fs::create_dir(&parts).expect("mkdir");
    let f = dir.join("mixed.eml");
    std::fs::write(&f, entity).expect("write");
    let listed = python(
        PARTS,
        &[f.to_str().expect("path"), parts.to_str().expect("path")],
    );
    assert_eq!(
        listed,
        "body.txt\ttext/plain\t\n\
         roster-none.html\ttext/html\tattachment\n\
         roster.vcf\ttext/vcard\tattachment\n\
         roster.csv\ttext/csv\tattachment\n"
    );
    let html = std::fs::read_to_string(parts.join("roster-none.html")).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for tld in ["br", "de", "it", "nl"] {
        assert!(
            html.contains(&format!("Registry of .{tld}")),
            "{tld}\n{html}"
        );
    }
    let cards = python(CARDS, &[parts.join("roster.vcf").to_str().expect("path")]);
    for tld in ["br", "de", "nl"] {
        assert!(
            cards.contains(&format!("incident-response .{tld}\t")),
            "{tld}\n{cards}"
        );
        assert!(cards.contains(&format!("@nic-{tld}.example")), "{cards}");
    }
    let rows = python(ROWS, &[parts.join("roster.csv").to_str().expect("path")]);
    assert!(
        rows.starts_with("cctld,u_label,country,region,kind,name,"),
        "{rows}"
    );
    assert!(
        rows.contains("br\tincident-response\tsecurity@nic-br.example"),
        "{rows}"
    );
    std::fs::read_to_string(parts.join("body.txt"))
        .expect("body")
        .replace("\r\n", "\n")
}

#[test]
fn roster_mail_reaches_each_member_contact_point_once_signed_and_encrypted() {
    if !postfix_available()
        || !postfix_startable()
        || !gnupg_available(&["gpg", "gpgconf"])
        || !vobject_available()
    {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    set_owner_mode(tmp.path(), None, None, 0o755);
    // The directory's signing key, .br's team key, and a member who checks signatures.
    let signer = Gnupg::standalone();
    let (fpr_dir, _) = signer.gen_key("ccdir roster <roster@cctld-ir.example>");
    let br = Gnupg::standalone();
    let (fpr_br, _) = br.gen_key("CSIRT br <security@nic-br.example>");
    let block_br = br.ok(&["--armor", "--export", &fpr_br]);
    let checker = Gnupg::standalone();
    let pubkey = work.path().join("directory.asc");
    std::fs::write(&pubkey, signer.ok(&["--armor", "--export", &fpr_dir])).expect("write");
    checker.ok(&["--import", pubkey.to_str().expect("path")]);
    br.ok(&["--import", pubkey.to_str().expect("path")]);

    // A server whose signing key is not in the home does not start.
    let bad = tempfile::tempdir().expect("tempdir");
    let mut c = test_config(bad.path());
    c.reminders.relay = "localhost".into();
    c.reminders.from = "roster@cctld-ir.example".into();
    c.roster_mail.enabled = true;
    c.roster_mail.gpg_home = Some(signer.home().to_path_buf());
    c.roster_mail.signing_key = "0123456789ABCDEF0123456789ABCDEF01234567".into();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let e = rt
        .block_on(ccdir::Server::start(c))
        .err()
        .expect("no start without the signing key");
    assert!(
        e.starts_with(
            "roster mail: roster_mail.signing_key 0123456789ABCDEF0123456789ABCDEF01234567: \
             no such secret key in"
        ),
        "{e}"
    );
    drop(rt);

    let sink = Sink::start();
    let smtpd_port = free_port();
    let clock = Arc::new(ManualClock::new(datetime!(2027-01-10 08:00 UTC)));
    let home = signer.home().to_path_buf();
    let key = fpr_dir.clone();
    let s = TestServer::start_with_clock(clock.clone(), move |c| {
        c.openpgp_keyserver = true;
        let r = &mut c.reminders;
        r.relay = "localhost".into();
        r.port = smtpd_port;
        r.ca_file = Some(c.data_dir.join("ca.pem"));
        r.from = "ccdir@cctld-ir.example".into();
        let m = &mut c.roster_mail;
        m.enabled = true;
        m.from = Some("roster@cctld-ir.example".into());
        m.gpg_home = Some(home);
        m.signing_key = key;
        m.check_interval_secs = 1;
    });
    // The relay is not running yet: whatever the checks try while the data is added fails and
    // nothing is recorded; the mails go once Postfix answers.
    setup(&s, &fpr_br, &block_br);
    let files = &s.server().tls_files;
    postfix_conf(
        tmp.path(),
        smtpd_port,
        sink.port,
        Some((&files.cert, &files.key)),
        "",
    );
    let pf = Postfix::start(tmp.path(), smtpd_port);
    let m = expect_messages(&sink, &pf, 2);
    let recipients: BTreeSet<String> = m.iter().flat_map(|(r, _)| r.clone()).collect();
    assert_eq!(
        recipients,
        set(&["security@nic-br.example", "security@nic-de.example"])
    );

    // .de: signed only.
    let de = for_rcpt(&m, "security@nic-de.example");
    assert_eq!(header(de, "From"), "roster@cctld-ir.example");
    assert_eq!(
        header(de, "Subject"),
        "[ccdir] Incident-response roster 2027-01 for .de"
    );
    assert_eq!(header(de, "Auto-Submitted"), "auto-generated");
    assert!(
        de.contains("with ESMTPS id") || de.contains("(using TLS"),
        "{de}"
    );
    let (entity, sig) = signed_parts(de);
    assert_eq!(verify(&checker, work.path(), &entity, &sig), fpr_dir);
    let text = check_roster(&entity, work.path());
    assert!(
        text.starts_with("Dear incident-response team of .de (Registry of .de),\n"),
        "{text}"
    );
    assert!(text.contains("It is NOT encrypted"), "{text}");
    assert!(
        !de.contains("security@nic-br.example\r\n"),
        "only .de's address"
    );
    // A changed byte breaks the signature.
    assert!(entity.contains("Content-Transfer-Encoding: 7bit\r\n\r\nDear incident-response team"));
    let forged = entity.replacen("Dear", "Deer", 1);
    let d = work.path().join("forged.eml");
    let sg = work.path().join("forged.asc");
    std::fs::write(&d, forged).expect("write");
    std::fs::write(&sg, &sig).expect("write");
    let o = checker.run(
        "gpg",
        &[
            "--batch",
            "--verify",
            sg.to_str().expect("path"),
            d.to_str().expect("path"),
        ],
    );
    assert!(!o.status.success(), "a changed text must not verify");

    // .br: encrypted to its key; inside, the signed roster.
    let brm = for_rcpt(&m, "security@nic-br.example");
    let ct = header(brm, "Content-Type");
    assert!(
        ct.starts_with("multipart/encrypted; protocol=\"application/pgp-encrypted\";"),
        "{ct}"
    );
    assert!(brm.contains("Content-Type: application/pgp-encrypted\r\n"));
    assert!(brm.contains("\r\nVersion: 1\r\n"));
    assert!(!brm.contains("Dear incident-response"), "no clear text");
    let armored = format!(
        "-----BEGIN PGP MESSAGE-----{}-----END PGP MESSAGE-----\n",
        between(
            brm,
            "-----BEGIN PGP MESSAGE-----",
            "-----END PGP MESSAGE-----"
        )
    );
    let enc = work.path().join("br.asc");
    std::fs::write(&enc, armored).expect("write");
    let inner = br.ok(&["--decrypt", enc.to_str().expect("path")]);
    // The other registry's key cannot read it.
    let o = checker.run(
        "gpg",
        &["--batch", "--decrypt", enc.to_str().expect("path")],
    );
    assert!(!o.status.success());
    let (entity, sig) = signed_parts(&inner);
    assert_eq!(verify(&br, work.path(), &entity, &sig), fpr_dir);
    let text = check_roster(&entity, work.path());
    assert!(
        text.contains("encrypted to your contact point's OpenPGP key"),
        "{text}"
    );

    // A restart (same data dir and clock) sends nothing again.
    let s = s.restart_with_clock(clock.clone());
    expect_messages(&sink, &pf, 2);

    // A change of .de's contact point data that is not its identity or address: nothing. Its
    // address: every member gets the roster again (all then hold the new address), .de at the
    // new one.
    let mut c = s.admin();
    replace(&mut c, &team("de"), "telephoneNumber", "+49 69 1234 0999");
    std::thread::sleep(Duration::from_secs(2));
    replace(&mut c, &team("de"), "mail", "csirt@nic-de.example");
    let m = expect_messages(&sink, &pf, 4);
    let again: BTreeSet<String> = m[2..].iter().flat_map(|(r, _)| r.clone()).collect();
    assert_eq!(
        again,
        set(&["security@nic-br.example", "csirt@nic-de.example"])
    );
    let to_de = for_rcpt(&m[2..], "csirt@nic-de.example");
    assert_eq!(
        header(to_de, "Subject"),
        "[ccdir] Incident-response roster for .de: your contact point changed"
    );
    assert_eq!(
        header(for_rcpt(&m[2..], "security@nic-br.example"), "Subject"),
        "[ccdir] Incident-response roster for .br: the contact point of .de changed"
    );
    let (entity, sig) = signed_parts(to_de);
    assert_eq!(verify(&checker, work.path(), &entity, &sig), fpr_dir);
    let text = check_roster(&entity, work.path());
    assert!(
        text.contains("because .de's contact point changed"),
        "{text}"
    );

    // The next month: every member registry again.
    clock.set(datetime!(2027-02-01 08:00 UTC));
    let m = expect_messages(&sink, &pf, 6);
    let next: BTreeSet<String> = m[4..].iter().flat_map(|(r, _)| r.clone()).collect();
    assert_eq!(
        next,
        set(&["security@nic-br.example", "csirt@nic-de.example"])
    );
    assert_eq!(
        header(for_rcpt(&m[4..], "csirt@nic-de.example"), "Subject"),
        "[ccdir] Incident-response roster 2027-02 for .de"
    );
    drop(c);
    let tmp_data = s.stop().expect("data dir");
    let data = tmp_data.path();

    // The dry run (server stopped): within February nothing; in March the two mails, printed,
    // neither sent nor recorded (twice the same).
    let dry = |at: &str| {
        let o = ccdir(&["roster-mail", "--dry-run", "--at", at], data);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        (stdout(&o), stderr(&o))
    };
    let (out, err) = dry("20270215080000Z");
    assert_eq!(out, "");
    assert!(err.contains("0 roster mail(s) would be sent"), "{err}");
    for _ in 0..2 {
        let (out, err) = dry("20270301080000Z");
        assert!(err.contains("2 roster mail(s) would be sent"), "{err}");
        assert!(
            out.contains(&format!(
                "To: security@nic-br.example\nSubject: [ccdir] Incident-response roster \
                 2027-03 for .br\nWhy: the roster of this period\nAs: {}\n\
                 Protection: signed, encrypted to {fpr_br}\nAttachments: roster-none.html (",
                team("br")
            )),
            "{out}"
        );
        assert!(
            out.contains(
                "To: csirt@nic-de.example\nSubject: [ccdir] Incident-response roster 2027-03 \
                 for .de\nWhy: the roster of this period\n"
            ),
            "{out}"
        );
        assert!(out.contains("Protection: signed, not encrypted (no OpenPGP key)\n"));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sink.messages().len(), 6);
    // --send needs the roster mail enabled.
    let o = ccdir(&["roster-mail", "--send"], data);
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("the roster mail is not enabled"),
        "{}",
        stderr(&o)
    );
}
