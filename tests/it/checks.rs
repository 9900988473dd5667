//! Checked values (issue 15, part 1): every write path refuses values that the syntaxes accept
//! but that would not reach anybody, with constraintViolation and a message naming the
//! attribute, the value and the rule.

use crate::harness::*;
use ldap3::Mod;
use std::collections::HashSet;

const REG: &str = "associatedDomain=br,ou=registries,dc=cctld-ir,dc=example";

fn set<'a>(v: &[&'a str]) -> HashSet<&'a str> {
    v.iter().copied().collect()
}

/// A contact team below the sample's .br registry, with one attribute set to `value`.
fn team(attr: &'static str, value: &'static str) -> Vec<(&'static str, HashSet<&'static str>)> {
    let mut a = vec![
        ("objectClass", set(&["organizationalRole", "cctldContact"])),
        ("cn", set(&["checked"])),
        ("associatedDomain", set(&["br"])),
    ];
    a.push((attr, set(&[value])));
    a
}

/// Each rule with a value it refuses and one it takes.
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "telephoneNumber",
        "call me maybe",
        "+55 11 5555 0123",
        "valid international telephone number",
    ),
    (
        "cctldEmergencyTelephoneNumber",
        "+99 555 0100",
        "+55 11 5555 0124",
        "valid international telephone number",
    ),
    (
        "facsimileTelephoneNumber",
        "0800 FAX",
        "+55 11 5555 0125",
        "valid international telephone number",
    ),
    (
        "cctldTimeZone",
        "Mars/Olympus",
        "America/Sao_Paulo",
        "IANA time zone",
    ),
    ("cctldLanguage", "not a language!!", "pt-BR", "BCP 47"),
    ("mail", "not-an-email", "ir@nic-br.example", "addr-spec"),
    (
        "cctldOpenPGPFingerprint",
        "xyz",
        "0123456789ABCDEF0123456789ABCDEF01234567",
        "40 or 64 hex digits",
    ),
    ("cctldContactRole", "janitor", "security", "contact role"),
    (
        "cctldMessengerURI",
        "just text",
        "xmpp:ir@nic-br.example IR chat",
        "URI",
    ),
    (
        "cctldKeyURI",
        "ftp://nic-br.example/key.asc",
        "https://nic-br.example/key.asc",
        "scheme",
    ),
    (
        "cctldBusinessHours",
        "weekdays 9 to 5",
        "Mo-Fr 08:00-17:00",
        "business hours",
    ),
];

/// The .br registry the contacts go below.
fn add_registry(c: &mut ldap3::LdapConn) {
    add(
        c,
        REG,
        &[
            ("objectClass", &["organization", "cctldRegistry"]),
            ("o", &["Registry of .br (example)"]),
            ("associatedDomain", &["br"]),
        ],
    );
}

#[test]
fn ldap_add_and_modify_refuse_values_that_break_a_content_check() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_registry(&mut c);
    let dn = format!("cn=checked,{REG}");
    for (attr, bad, good, rule) in CASES {
        let r = c.add(&dn, team(attr, bad)).expect("add");
        assert_eq!(r.rc, 19, "{attr}: {bad}: {}", r.text);
        assert!(
            r.text.contains(attr) && r.text.contains(bad) && r.text.contains(rule),
            "the message names the attribute, the value and the rule: {}",
            r.text
        );
        let r = c.add(&dn, team(attr, good)).expect("add");
        assert_eq!(r.rc, 0, "{attr}: {good}: {}", r.text);
        // A modify to the bad value is refused the same way, and changes nothing.
        let r = c
            .modify(&dn, vec![Mod::Replace(*attr, set(&[bad]))])
            .expect("modify");
        assert_eq!(r.rc, 19, "{attr}: {bad}: {}", r.text);
        let (found, _) = c
            .search(&dn, ldap3::Scope::Base, "(objectClass=*)", vec![*attr])
            .expect("search")
            .success()
            .expect("found");
        let e = ldap3::SearchEntry::construct(found[0].clone());
        let got: Vec<String> = e.attrs.values().flatten().cloned().collect();
        assert_eq!(got, vec![good.to_string()], "{attr} unchanged");
        assert_eq!(c.delete(&dn).expect("delete").rc, 0);
    }
}

#[test]
fn ldapadd_reports_the_rule_to_openldap_tools() {
    let s = TestServer::start();
    add_registry(&mut s.admin());
    let ldif = format!(
        "dn: cn=checked,{REG}\nobjectClass: organizationalRole\nobjectClass: cctldContact\n\
         cn: checked\nassociatedDomain: br\ntelephoneNumber: call me maybe\n"
    );
    let o = s.tool(
        "ldapadd",
        &[
            "-H",
            &s.ldap_url(),
            "-ZZ",
            "-x",
            "-D",
            "cn=admin,dc=cctld-ir,dc=example",
            "-y",
            s.admin_password_file().to_str().expect("path"),
        ],
        Some(&ldif),
    );
    let err = stderr(&o);
    assert_eq!(code(&o), 19, "{err}");
    assert!(
        err.contains("Constraint violation") && err.contains("call me maybe"),
        "{err}"
    );
}

#[test]
fn import_names_the_line_of_each_bad_value_and_continue_skips_those_entries() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let f = tmp.path().join("in.ldif");
    std::fs::write(
        &f,
        format!(
            "{BASE_LDIF}dn: cn=good,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: good
associatedDomain: br
telephoneNumber: +55 11 5555 0100
cctldTimeZone: America/Sao_Paulo

dn: cn=bad-zone,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: bad-zone
associatedDomain: br
cctldTimeZone: Mars/Olympus

dn: cn=bad-phone,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: bad-phone
associatedDomain: br
telephoneNumber: call me maybe
cctldLanguage: not a language!!
"
        ),
    )
    .expect("write");
    let run = |args: &[&str]| ccdir(args, &data);
    let o = run(&["import", "-q", f.to_str().expect("path")]);
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("in.ldif:20:") && e.contains("Mars/Olympus"),
        "{e}"
    );
    assert!(
        e.contains("in.ldif:27:") && e.contains("call me maybe"),
        "{e}"
    );
    assert!(e.contains("nothing was imported"), "{e}");
    let o = run(&["import", "-q", "--continue", f.to_str().expect("path")]);
    assert!(stderr(&o).contains("imported 3 entries"), "{}", stderr(&o));
    let o = run(&["export", "--no-operational"]);
    let out = stdout(&o);
    assert!(
        out.contains("dn: cn=good,") && !out.contains("bad-zone") && !out.contains("bad-phone"),
        "{out}"
    );
}

#[test]
fn the_sample_directory_passes_every_check() {
    // The server loads it through the same pipeline at first start: all of it is there.
    let s = TestServer::start_with(|c| c.load_sample = true);
    let mut c = s.admin();
    let (found, _) = c
        .search(
            "ou=registries,dc=cctld-ir,dc=example",
            ldap3::Scope::Subtree,
            "(telephoneNumber=*)",
            vec!["telephoneNumber"],
        )
        .expect("search")
        .success()
        .expect("found");
    assert!(found.len() > 300, "{} entries with a phone", found.len());
}

#[test]
fn ccdir_check_lists_stored_values_that_fail_a_check_and_incomplete_registries() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("d");
    let f = tmp.path().join("in.ldif");
    // Imported while the configuration allowed the role `legal`; the rule is stricter now.
    std::fs::write(
        &f,
        format!(
            "{BASE_LDIF}dn: {ADMIN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: admin
userPassword: admin secret 123

dn: associatedDomain=xa,ou=registries,dc=cctld-ir,dc=example
objectClass: organization
objectClass: cctldRegistry
associatedDomain: xa
o: Registry of .xa (example)

dn: cn=incident-response,associatedDomain=xa,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: incident-response
associatedDomain: xa
cctldContactRole: legal
cctldAvailable247: TRUE
mail: ir@nic-xa.example

dn: associatedDomain=xb,ou=registries,dc=cctld-ir,dc=example
objectClass: organization
objectClass: cctldRegistry
associatedDomain: xb
o: Registry of .xb (example)

dn: cn=incident-response,associatedDomain=xb,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: incident-response
associatedDomain: xb
cctldAvailable247: TRUE
cctldEmergencyTelephoneNumber: +55 11 5555 0199
"
        ),
    )
    .expect("write");
    let run = |args: &[&str]| ccdir(args, &data);
    let o = run(&[
        "import",
        "-q",
        "--set",
        "checks.extra_roles=[\"legal\"]",
        f.to_str().expect("path"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["check"]);
    assert!(!o.status.success(), "problems: exit status 1");
    let out = stdout(&o);
    assert!(
        out.contains("cctldContactRole: value #0 'legal' is not a contact role"),
        "{out}"
    );
    assert!(
        out.contains(".xa: no contact available 24/7") && !out.contains(".xb: no contact"),
        "xa's 24/7 team has no emergency number, xb's has: {out}"
    );
    assert!(
        out.contains(".xa: no contact reachable without the internet"),
        "xa has a mail address only: {out}"
    );
    assert!(out.contains("3 problems"), "{out}");
    let o = run(&["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v.as_array().map(|a| a.len()), Some(3), "{v}");
    // Data that breaks a rule is reported, not lost: both entries are still there.
    let o = run(&["export", "--no-operational"]);
    assert!(stdout(&o).contains("cctldContactRole: legal"));

    // The same report over LDAP, for scripts: cctldProblem, computed on read.
    let s = TestServer::start_config(test_config(&data));
    let pw = "admin secret 123";
    let url = s.ldap_url();
    let o = s.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-H",
            &url,
            "-D",
            ADMIN,
            "-w",
            pw.trim(),
            "-b",
            "ou=registries,dc=cctld-ir,dc=example",
            "(cctldProblem=*)",
            "cctldProblem",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let blocks: Vec<&str> = out.split("\n\n").filter(|b| b.contains("dn: ")).collect();
    assert_eq!(blocks.len(), 2, "the xa registry and its team: {out}");
    let xa = blocks
        .iter()
        .find(|b| b.starts_with("dn: associatedDomain=xa,"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        xa.contains("cctldProblem: contact-point-247: .xa: no contact available 24/7"),
        "{xa}"
    );
    assert!(xa.contains("cctldProblem: offline-channel: .xa:"), "{xa}");
    assert!(
        out.contains(
            "cctldProblem: value: cctldContactRole: value #0 'legal' is not a contact role"
        ),
        "{out}"
    );
    assert!(!out.contains("associatedDomain=xb"), "{out}");
    // Not returned unless asked for (an operational attribute), and nothing for anonymous.
    let o = s.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-D",
            ADMIN,
            "-w",
            pw.trim(),
            "-b",
            "associatedDomain=xa,ou=registries,dc=cctld-ir,dc=example",
            "-s",
            "base",
        ],
        None,
    );
    assert!(!stdout(&o).contains("cctldProblem"), "{}", stdout(&o));
    // Nor with `+`: only by name.
    let o = s.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-D",
            ADMIN,
            "-w",
            pw,
            "-b",
            "associatedDomain=xa,ou=registries,dc=cctld-ir,dc=example",
            "-s",
            "base",
            "+",
        ],
        None,
    );
    assert!(stdout(&o).contains("entryUUID"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("cctldProblem"), "{}", stdout(&o));
    let o = s.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-b",
            "ou=registries,dc=cctld-ir,dc=example",
            "(cctldProblem=*)",
            "cctldProblem",
        ],
        None,
    );
    assert!(!stdout(&o).contains("cctldProblem"), "{}", stdout(&o));
}

#[test]
fn scripts_find_the_sample_registries_that_break_a_completeness_rule_over_ldap() {
    let s = TestServer::start_with(|c| c.load_sample = true);
    let mut c = s.admin();
    let (found, _) = c
        .search(
            "ou=registries,dc=cctld-ir,dc=example",
            ldap3::Scope::OneLevel,
            "(&(objectClass=cctldRegistry)(cctldProblem=contact-point-247*))",
            vec!["associatedDomain", "cctldProblem"],
        )
        .expect("search")
        .success()
        .expect("found");
    let mut tlds: Vec<String> = found
        .into_iter()
        .map(|e| {
            let e = ldap3::SearchEntry::construct(e);
            e.attrs["associatedDomain"][0].clone()
        })
        .collect();
    tlds.sort();
    // tools/sample/README.md: the deliberate gaps.
    assert_eq!(tlds, ["aq", "mc", "tv"]);
}

#[test]
fn ccdir_check_on_the_sample_finds_only_its_deliberate_gaps() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut c = test_config(tmp.path());
    c.load_sample = true;
    let dir = ccdir::app::server::open_directory(
        &c,
        std::sync::Arc::new(ccdir::core::clock::SystemClock),
    )
    .expect("open");
    ccdir::app::bootstrap::ensure_base(&dir).expect("sample");
    let entries = ccdir::tools::offline::entries(&dir, None, None).expect("entries");
    let out =
        ccdir::tools::check::text(&ccdir::tools::check::check(&dir, &entries).expect("check"));
    // tools/sample/README.md: .mc is not 24/7, .tv's 24/7 team has no emergency number, .aq
    // has no phone at all.
    for gap in [
        ".mc: no contact available 24/7",
        ".tv: no contact available 24/7",
        ".aq: no contact available 24/7",
        ".aq: no contact reachable without the internet",
    ] {
        assert!(out.contains(gap), "{gap}: {out}");
    }
    assert!(
        out.contains("4 problems: 4 registry rules broken, 0 values"),
        "{out}"
    );
}

/// Regression (issue 15, part 8): `cctldAvailable247: yes` was refused without saying what is
/// allowed.
#[test]
fn a_boolean_syntax_error_says_which_values_are_allowed() {
    let s = TestServer::start();
    let mut c = s.admin();
    add_registry(&mut c);
    let r = c
        .add(
            &format!("cn=checked,{REG}"),
            team("cctldAvailable247", "yes"),
        )
        .expect("add");
    assert_eq!(r.rc, 21, "{}", r.text);
    assert!(
        r.text.contains("cctldAvailable247") && r.text.contains("TRUE or FALSE"),
        "{}",
        r.text
    );
}
