//! The freshness report and the offline roster over the sample directory, run as the `ccdir`
//! command on a stopped server's data dir: the report against the LDAP search scripts run, the
//! vCards through an independent parser (Debian python3-vobject), the HTML pages rendered by a
//! headless Chromium (screenshots under target/tmp/test-artefacts/).

use crate::harness::*;
use ldap3::{Scope, SearchEntry};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const AT: &str = "20261123000000Z";

fn ccdir(data: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--set")
        .arg("log.level=warn")
        .output()
        .expect("run ccdir");
    assert!(
        o.status.success(),
        "ccdir {args:?} failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// A data dir with the sample directory (server stopped), and the contact entries as LDAP
/// returned them: dn -> attribute -> values.
type Entries = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn sample(filter: &str) -> (tempfile::TempDir, Entries) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut c = test_config(tmp.path());
    c.load_sample = true;
    let s = TestServer::start_config(c);
    let mut a = s.admin();
    let (rs, _) = a
        .search(
            &format!("ou=registries,{SUFFIX}"),
            Scope::Subtree,
            filter,
            vec!["*", "+"],
        )
        .expect("search")
        .success()
        .expect("search ok");
    let mut out = Entries::new();
    for r in rs {
        let e = SearchEntry::construct(r);
        out.insert(e.dn.clone(), e.attrs.into_iter().collect());
    }
    drop(a);
    drop(s);
    (tmp, out)
}

fn json_number(j: &str, key: &str) -> i64 {
    let k = format!("\"{key}\":");
    let at = j.find(&k).unwrap_or_else(|| panic!("{key} missing in {j}")) + k.len();
    j[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .expect("number")
}

#[test]
fn overdue_report_over_the_sample_directory() {
    let filter = format!("(&(objectClass=cctldContact)(cctldVerificationDue<={AT}))");
    let (tmp, overdue) = sample(&filter);
    let data = tmp.path();
    assert!(overdue.len() > 50, "{} overdue", overdue.len());

    // JSON: as many overdue contacts as the LDAP search finds (the one scripts run).
    let j = stdout(&ccdir(
        data,
        &[
            "report", "overdue", "--at", AT, "--within", "0", "--format", "json",
        ],
    ));
    assert_eq!(json_number(&j, "overdue") as usize, overdue.len(), "{j}");
    assert_eq!(json_number(&j, "dueSoon"), 0);
    for dn in overdue.keys() {
        assert!(
            j.contains(&format!("\"dn\":\"{dn}\"")),
            "{dn} not in the report"
        );
    }
    // With the default warning window some contacts are due soon too.
    let j14 = stdout(&ccdir(
        data,
        &["report", "overdue", "--at", AT, "--format", "json"],
    ));
    assert_eq!(json_number(&j14, "overdue") as usize, overdue.len());
    assert!(json_number(&j14, "dueSoon") > 0, "{j14}");

    // CSV: a header and one line per contact, with the admins to notify.
    let csv = stdout(&ccdir(
        data,
        &[
            "report", "overdue", "--at", AT, "--within", "0", "--format", "csv",
        ],
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("domain,registry,contact_dn"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), overdue.len() + 1);
    assert!(lines[1..].iter().all(|l| l.contains("@nic-")), "{csv}");

    // Text, for people: per registry, with who to notify.
    let t = stdout(&ccdir(
        data,
        &["report", "overdue", "--at", AT, "--within", "0"],
    ));
    assert!(
        t.contains(&format!("{} overdue, 0 due soon", overdue.len())),
        "{t}"
    );
    assert!(
        t.starts_with("Contacts due for verification as of 2026-11-23 00:00 UTC"),
        "{t}"
    );
    assert!(t.contains("notify: "), "{t}");
    assert!(t.contains("next: "), "{t}");

    // As an identity that may read nothing, the report is empty.
    let anon = stdout(&ccdir(
        data,
        &[
            "report", "overdue", "--at", AT, "--format", "json", "--as", "",
        ],
    ));
    assert_eq!(json_number(&anon, "overdue"), 0);
}

#[test]
fn verify_command_records_a_verification() {
    let (tmp, _) = sample("(cn=incident-response)");
    let dn = format!("cn=incident-response,associatedDomain=ad,ou=registries,{SUFFIX}");
    let o = ccdir(
        tmp.path(),
        &[
            "verify",
            "--method",
            "voice",
            "--at",
            "20261120100000Z",
            &dn,
        ],
    );
    let out = stdout(&o);
    assert!(out.contains("cctldLastVerified: 20261120100000Z"), "{out}");
    assert!(
        out.contains("cctldVerificationDue: 20270220100000Z"),
        "{out}"
    );
    assert!(out.contains("cctldVerificationStatus: verified"), "{out}");
    assert!(out.contains(&format!("cctldVerifiedBy: {ADMIN}")), "{out}");
    assert!(out.contains("cctldVerificationNextMethod: email"), "{out}");
    let bad = Command::new(env!("CARGO_BIN_EXE_ccdir"))
        .args(["verify", "--method", "pigeon", &dn, "--data-dir"])
        .arg(tmp.path())
        .output()
        .expect("run");
    assert!(!bad.status.success());
}

fn need(program: &str, what: &str) -> bool {
    let ok = Path::new(program).exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is missing in CI: .ci/run must install {what}"
        );
        eprintln!("{program} not installed ({what}): test skipped");
    }
    ok
}

pub fn vobject_available() -> bool {
    if !need("/usr/bin/python3", "python3") {
        return false;
    }
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import vobject"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3-vobject is missing in CI: .ci/run must install it"
        );
        eprintln!("python3-vobject not installed: test skipped");
    }
    ok
}

/// Reads the cards with vobject and prints, per card, UID, FN, e-mail addresses and phone URIs.
const PARSE: &str = r#"
import sys, vobject
text = open(sys.argv[1], encoding="utf-8").read()
n = 0
for card in vobject.readComponents(text, validate=True):
    n += 1
    assert card.name == "VCARD"
    assert card.version.value == "4.0", card.version.value
    c = card.contents
    uid = c["uid"][0].value
    fn = c["fn"][0].value
    mails = sorted(e.value for e in c.get("email", []))
    tels = sorted(t.value for t in c.get("tel", []))
    print("\t".join([uid, fn, ",".join(mails), ",".join(tels)]))
print("COUNT", n)
"#;

#[test]
fn vcards_round_trip_through_an_independent_parser() {
    let (tmp, contacts) = sample("(objectClass=cctldContact)");
    if !vobject_available() {
        return;
    }
    let vcf = tmp.path().join("roster.vcf");
    ccdir(
        tmp.path(),
        &[
            "roster",
            "--format",
            "vcard",
            "--at",
            AT,
            "-o",
            vcf.to_str().expect("path"),
        ],
    );
    let o = Command::new("/usr/bin/python3")
        .args(["-c", PARSE])
        .arg(&vcf)
        .output()
        .expect("python3");
    assert!(o.status.success(), "vobject: {}", stderr(&o));
    // Each card says how fresh its numbers are, in its NOTE.
    let text = std::fs::read_to_string(&vcf).expect("vcf");
    assert!(
        text.contains("NOTE:OVERDUE since ") && text.contains(", due 20"),
        "freshness in the notes"
    );
    let out = stdout(&o);
    let mut cards = BTreeMap::new();
    let mut count = 0usize;
    for l in out.lines() {
        if let Some(n) = l.strip_prefix("COUNT ") {
            count = n.parse().expect("count");
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.len(), 4, "{l}");
        cards.insert(
            f[0].trim_start_matches("urn:uuid:").to_string(),
            (f[1].to_string(), f[2].to_string(), f[3].to_string()),
        );
    }
    assert_eq!(count, contacts.len(), "one card per contact");
    assert_eq!(cards.len(), contacts.len(), "distinct UIDs");
    let get = |e: &BTreeMap<String, Vec<String>>, a: &str| e.get(a).cloned().unwrap_or_default();
    for (dn, e) in &contacts {
        let uuid = &get(e, "entryUUID")[0];
        let (fname, mails, tels) = cards
            .get(uuid)
            .unwrap_or_else(|| panic!("no card for {dn}"));
        let mut want_mail = get(e, "mail");
        want_mail.sort();
        assert_eq!(mails, &want_mail.join(","), "{dn}");
        let mut want_tel: Vec<String> = [
            "telephoneNumber",
            "mobile",
            "facsimileTelephoneNumber",
            "cctldEmergencyTelephoneNumber",
        ]
        .iter()
        .flat_map(|a| get(e, a))
        .map(|n| format!("tel:{}", n.trim().replace(' ', "-")))
        .collect();
        want_tel.sort();
        assert_eq!(tels, &want_tel.join(","), "{dn}");
        let name = get(e, "displayName")
            .first()
            .cloned()
            .unwrap_or_else(|| get(e, "cn")[0].clone());
        assert!(fname.starts_with(&name), "{dn}: {fname} vs {name}");
    }
}

fn artefacts() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-artefacts");
    std::fs::create_dir_all(&d).expect("artefacts dir");
    d
}

#[test]
fn html_roster_renders_in_a_headless_browser() {
    let (tmp, _) = sample("(cn=incident-response)");
    let dir = tmp.path().join("roster");
    ccdir(
        tmp.path(),
        &[
            "roster",
            "--format",
            "html",
            "--at",
            AT,
            "-o",
            dir.to_str().expect("path"),
        ],
    );
    let page = std::fs::read_to_string(dir.join("roster-centr.html")).expect("CENTR page");
    for want in [
        "Made 2026-11-23 00:00 UTC",
        ".de &mdash; Germany",
        "emergency phone",
        "Europe/Berlin (CET, UTC+01:00)",
        "local = Mo-Fr",
        "OpenPGP",
        // How fresh each contact's numbers are (issue 15, part 9): as of the page's date.
        "data checked",
        "OVERDUE since 2026-",
        ", due 2027-",
    ] {
        assert!(page.contains(want), "{want} missing from the CENTR page");
    }
    for r in ["aftld", "aptld", "lactld", "none"] {
        assert!(dir.join(format!("roster-{r}.html")).exists(), "{r}");
    }
    // CSV of the same roster: a line per contact.
    let csv = stdout(&ccdir(
        tmp.path(),
        &["roster", "--format", "csv", "--region", "CENTR"],
    ));
    assert!(csv.lines().count() > 63, "{}", csv.lines().count());
    assert!(csv.lines().all(|l| !l.is_empty()));
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains("verification_due,verification_status,dn")),
        "{csv}"
    );
    assert!(csv.contains(",overdue,"), "the status as a client reads it");
    // What an identity may read: anonymous may read no contact, a member registry all.
    let anon = stdout(&ccdir(
        tmp.path(),
        &["roster", "--format", "csv", "--as", ""],
    ));
    assert_eq!(anon.lines().count(), 1, "{anon}");
    let member = format!("associatedDomain=br,ou=registries,{SUFFIX}");
    let csv_br = stdout(&ccdir(
        tmp.path(),
        &["roster", "--format", "csv", "--as", &member],
    ));
    let csv_all = stdout(&ccdir(tmp.path(), &["roster", "--format", "csv"]));
    assert_eq!(csv_br.lines().count(), csv_all.lines().count());

    if !need("/usr/bin/chromium", "Debian's chromium") {
        return;
    }
    let shot = artefacts().join("roster-centr.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().expect("profile dir");
    let o = Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(format!(
            "file://{}",
            dir.join("roster-centr.html").display()
        ))
        .output()
        .expect("chromium");
    assert!(o.status.success(), "chromium: {}", stderr(&o));
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank 1200x1600 page compresses to a few kB; the roster is text all over.
    assert!(png.len() > 50_000, "screenshot only {} bytes", png.len());
    std::fs::copy(
        dir.join("roster-centr.html"),
        artefacts().join("roster-centr.html"),
    )
    .expect("copy page");
}
