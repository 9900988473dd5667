//! The OpenLDAP command-line clients (Debian ldap-utils) against ccdir: ldapsearch, ldapadd,
//! ldapmodify, ldapdelete, ldapmodrdn, ldapcompare, ldapwhoami, ldappasswd and ldapexop.
//!
//! The tools exit with the LDAP result code, so every check looks at the exit code and at what the
//! tool printed. Each test starts its own server, so the tests run in parallel.

use crate::harness::*;
use std::path::PathBuf;
use std::process::Output;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// LDAP result codes as the tools' exit codes.
mod rc {
    pub const SUCCESS: i32 = 0;
    pub const PROTOCOL_ERROR: i32 = 2;
    pub const SIZE_LIMIT_EXCEEDED: i32 = 4;
    pub const COMPARE_FALSE: i32 = 5;
    pub const COMPARE_TRUE: i32 = 6;
    pub const UNAVAILABLE_CRITICAL_EXTENSION: i32 = 12;
    pub const NO_SUCH_ATTRIBUTE: i32 = 16;
    pub const UNDEFINED_ATTRIBUTE_TYPE: i32 = 17;
    pub const CONSTRAINT_VIOLATION: i32 = 19;
    pub const NO_SUCH_OBJECT: i32 = 32;
    pub const INVALID_DN_SYNTAX: i32 = 34;
    pub const INVALID_CREDENTIALS: i32 = 49;
    pub const INSUFFICIENT_ACCESS: i32 = 50;
    pub const UNWILLING_TO_PERFORM: i32 = 53;
    pub const NOT_ALLOWED_ON_NON_LEAF: i32 = 66;
    pub const ALREADY_EXISTS: i32 = 68;
}

const REGISTRIES: &str = "ou=registries,dc=cctld-ir,dc=example";

/// How a tool reaches the server: `-H url` plus the TLS options.
///
/// Two things about libldap decide how the TLS transports are spelled:
/// - The CA is passed explicitly with `-o TLS_CACERT=` (besides `LDAPTLS_CACERT`, which
///   `harness::TestServer::tool` sets), so each command line shows everything it relies on.
/// - libldap replaces the host name `localhost` by the machine's host name before checking the
///   certificate (`ldap_pvt_tls_check_hostname`), so `ldaps://localhost` fails the check; the
///   certificate also names 127.0.0.1, which libldap leaves alone.
#[derive(Clone)]
struct Transport(Vec<String>);

impl Transport {
    /// Plain LDAP on the ldap:// listener.
    fn plain(s: &TestServer) -> Transport {
        Transport(vec!["-H".into(), s.ldap_url()])
    }

    /// StartTLS (required: `-ZZ`) on the ldap:// listener.
    fn starttls(s: &TestServer) -> Transport {
        let url = format!("ldap://127.0.0.1:{}", s.ldap_addr().port());
        Transport::tls(s, url, true)
    }

    /// LDAP over TLS on the ldaps:// listener.
    fn ldaps(s: &TestServer) -> Transport {
        let url = format!("ldaps://127.0.0.1:{}", s.server().ldaps_addrs[0].port());
        Transport::tls(s, url, false)
    }

    fn tls(s: &TestServer, url: String, starttls: bool) -> Transport {
        let mut v = vec![
            "-H".into(),
            url,
            "-o".into(),
            format!("TLS_CACERT={}", s.ca_file().display()),
            "-o".into(),
            "TLS_REQCERT=demand".into(),
        ];
        if starttls {
            v.push("-ZZ".into());
        }
        Transport(v)
    }

    /// Anonymous simple authentication.
    fn anonymous(&self) -> Vec<String> {
        let mut v = self.0.clone();
        v.push("-x".into());
        v
    }

    /// Simple bind as the administrator, password from the generated file.
    fn admin(&self, s: &TestServer) -> Vec<String> {
        let mut v = self.anonymous();
        v.extend([
            "-D".into(),
            ADMIN.into(),
            "-y".into(),
            s.admin_password_file().display().to_string(),
        ]);
        v
    }

    /// Simple bind as `dn` with `password`.
    fn user(&self, dn: &str, password: &str) -> Vec<String> {
        let mut v = self.anonymous();
        v.extend(["-D".into(), dn.into(), "-w".into(), password.into()]);
        v
    }
}

/// Run `tool` with the connection/bind arguments `conn` followed by `args`.
fn run(s: &TestServer, tool: &str, conn: &[String], args: &[&str], stdin: Option<&str>) -> Output {
    let mut all: Vec<&str> = conn.iter().map(String::as_str).collect();
    all.extend_from_slice(args);
    s.tool(tool, &all, stdin)
}

/// Describe a tool run for assertion messages.
fn show(o: &Output) -> String {
    format!(
        "exit {}\n--- stdout ---\n{}--- stderr ---\n{}",
        code(o),
        stdout(o),
        stderr(o)
    )
}

/// Assert the exit code (= LDAP result code) of a tool run, printing its output on failure.
#[track_caller]
fn expect(o: &Output, want: i32, what: &str) {
    assert_eq!(code(o), want, "{what}: unexpected exit code\n{}", show(o));
}

/// Assert that the tool reported `message (code)`, e.g. "No such object (32)". ldapadd,
/// ldapmodify, ldapdelete, ldapsearch and ldapwhoami print it on stderr; ldapcompare, ldapmodrdn
/// and ldappasswd on stdout.
#[track_caller]
fn expect_message(o: &Output, want: i32, message: &str, what: &str) {
    let text = format!("{}{}", stdout(o), stderr(o));
    assert!(
        text.contains(&format!("{message} ({want})")),
        "{what}: the tool should report \"{message} ({want})\"\n{}",
        show(o)
    );
}

/// Assert the exit code and the tool's message for it.
#[track_caller]
fn expect_err(o: &Output, want: i32, message: &str, what: &str) {
    expect(o, want, what);
    expect_message(o, want, message, what);
}

/// ldappasswd and ldapexop exit with 1 on any failed result; only their message has the code.
#[track_caller]
fn expect_failed(o: &Output, want: i32, message: &str, what: &str) {
    assert_eq!(
        code(o),
        1,
        "{what}: these tools exit 1 on an LDAP error\n{}",
        show(o)
    );
    expect_message(o, want, message, what);
}

/// Write an LDIF file in a fresh temporary directory; keep the guard alive while using the path.
fn ldif_file(content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("input.ldif");
    std::fs::write(&path, content).expect("write ldif");
    (dir, path)
}

/// ldapsearch arguments for plain, unwrapped LDIF output without comments.
const LDIF: [&str; 3] = ["-LLL", "-o", "ldif_wrap=no"];

/// `ldapsearch -LLL` with the given base, scope, filter and attributes.
fn search(
    s: &TestServer,
    conn: &[String],
    base: &str,
    scope: &str,
    filter: &str,
    attrs: &[&str],
) -> Output {
    let mut args: Vec<&str> = LDIF.to_vec();
    args.extend(["-b", base, "-s", scope, filter]);
    args.extend_from_slice(attrs);
    run(s, "ldapsearch", conn, &args, None)
}

/// The DNs of the entries in ldapsearch LDIF output (`dn:` lines, normalised to lower case).
fn dns(ldif: &str) -> Vec<String> {
    ldif.lines()
        .filter_map(|l| {
            if l == "dn:" {
                Some("")
            } else {
                l.strip_prefix("dn: ")
            }
        })
        .map(|d| d.trim().to_ascii_lowercase())
        .collect()
}

/// The values of `attr` (case-insensitive name) in ldapsearch LDIF output, in order.
fn values(ldif: &str, attr: &str) -> Vec<String> {
    ldif.lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(": ")?;
            name.eq_ignore_ascii_case(attr).then(|| value.to_string())
        })
        .collect()
}

/// Read one entry with `attrs` and return its LDIF, asserting it exists.
#[track_caller]
fn read_entry(s: &TestServer, conn: &[String], dn: &str, attrs: &[&str]) -> String {
    let o = search(s, conn, dn, "base", "(objectClass=*)", attrs);
    expect(&o, rc::SUCCESS, &format!("read {dn}"));
    let out = stdout(&o);
    assert_eq!(
        dns(&out),
        vec![dn.to_ascii_lowercase()],
        "read {dn}\n{}",
        show(&o)
    );
    out
}

/// Assert that `dn` does not exist (base search gives noSuchObject).
#[track_caller]
fn assert_absent(s: &TestServer, conn: &[String], dn: &str) {
    let o = search(s, conn, dn, "base", "(objectClass=*)", &["1.1"]);
    expect(&o, rc::NO_SUCH_OBJECT, &format!("{dn} should be gone"));
}

/// Add LDIF from stdin as admin, asserting success.
#[track_caller]
fn admin_add(s: &TestServer, ldif: &str) {
    let t = Transport::plain(s);
    let o = run(s, "ldapadd", &t.admin(s), &[], Some(ldif));
    expect(&o, rc::SUCCESS, "admin ldapadd");
}

/// LDIF of an inetOrgPerson directly under ou=registries.
fn person_ldif(uid: &str, cn: &str) -> String {
    let sn = cn.rsplit(' ').next().unwrap_or(cn);
    format!(
        "dn: uid={uid},{REGISTRIES}\n\
         objectClass: top\n\
         objectClass: person\n\
         objectClass: organizationalPerson\n\
         objectClass: inetOrgPerson\n\
         uid: {uid}\n\
         cn: {cn}\n\
         sn: {sn}\n\n"
    )
}

/// Set a user's password as admin (`ldappasswd -s`), asserting success.
#[track_caller]
fn admin_set_password(s: &TestServer, dn: &str, password: &str) {
    let t = Transport::plain(s);
    let o = run(s, "ldappasswd", &t.admin(s), &["-s", password, dn], None);
    expect(&o, rc::SUCCESS, "admin ldappasswd -s");
    // Regression: a chosen password got an empty responseValue, which ldappasswd reported as
    // "ber_scanf: Success".
    assert!(!show(&o).contains("ber_scanf"), "{}", show(&o));
}

/// `ldapwhoami` with the given bind arguments.
fn whoami(s: &TestServer, conn: &[String]) -> Output {
    run(s, "ldapwhoami", conn, &[], None)
}

// ---------------------------------------------------------------------------------------------
// Root DSE and subschema
// ---------------------------------------------------------------------------------------------

#[test]
fn root_dse_lists_naming_context_versions_extensions_and_controls() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = search(&s, &t.anonymous(), "", "base", "(objectClass=*)", &["+"]);
    expect(&o, rc::SUCCESS, "anonymous root DSE search");
    let out = stdout(&o);
    assert_eq!(
        dns(&out),
        vec![String::new()],
        "one entry, the root DSE\n{out}"
    );

    assert_eq!(values(&out, "namingContexts"), vec![SUFFIX], "{out}");
    assert_eq!(values(&out, "supportedLDAPVersion"), vec!["3"], "{out}");
    let extensions = values(&out, "supportedExtension");
    for oid in [
        "1.3.6.1.4.1.1466.20037",  // StartTLS
        "1.3.6.1.4.1.4203.1.11.3", // Who am I?
        "1.3.6.1.4.1.4203.1.11.1", // Password Modify
    ] {
        assert!(
            extensions.iter().any(|e| e == oid),
            "supportedExtension {oid} missing\n{out}"
        );
    }
    let controls = values(&out, "supportedControl");
    assert!(
        controls.iter().any(|c| c == "1.2.840.113556.1.4.319"),
        "paged results control missing\n{out}"
    );
    assert_eq!(
        values(&out, "subschemaSubentry"),
        vec!["cn=Subschema"],
        "{out}"
    );
    let vendor = values(&out, "vendorName");
    assert_eq!(vendor.len(), 1, "one vendorName\n{out}");
    assert!(!vendor[0].is_empty(), "{out}");
}

#[test]
fn root_dse_user_attributes_do_not_include_operational_ones() {
    // Without `+`, a root DSE search returns no operational attributes (RFC 4512 5.1).
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = search(&s, &t.anonymous(), "", "base", "(objectClass=*)", &[]);
    expect(&o, rc::SUCCESS, "root DSE, user attributes");
    let out = stdout(&o);
    assert!(values(&out, "namingContexts").is_empty(), "{out}");
    assert!(values(&out, "supportedExtension").is_empty(), "{out}");
}

#[test]
fn subschema_publishes_cctld_attribute_types_and_object_classes() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = search(
        &s,
        &t.anonymous(),
        "cn=Subschema",
        "base",
        "(objectClass=subschema)",
        &["attributeTypes", "objectClasses"],
    );
    expect(&o, rc::SUCCESS, "anonymous subschema search");
    let out = stdout(&o);
    assert_eq!(dns(&out), vec!["cn=subschema"], "{out}");

    let types = values(&out, "attributeTypes");
    for name in [
        "cctldULabel",
        "cctldContactRole",
        "cctldOpenPGPFingerprint",
        "cctldContactPriority",
        "cctldVerificationStatus",
        "associatedDomain",
        "mail",
    ] {
        assert!(
            types.iter().any(|d| d.contains(&format!("'{name}'"))),
            "attributeTypes has no {name}\n{out}"
        );
    }
    let priority = types
        .iter()
        .find(|d| d.contains("NAME 'cctldContactPriority'"))
        .expect("cctldContactPriority");
    assert!(
        priority.starts_with("( 2.25.58891398913136867481710290032079796433.1.15 "),
        "{priority}"
    );
    assert!(priority.contains("SINGLE-VALUE"), "{priority}");

    let classes = values(&out, "objectClasses");
    for name in [
        "cctldRegistry",
        "cctldContact",
        "inetOrgPerson",
        "organization",
    ] {
        assert!(
            classes
                .iter()
                .any(|d| d.contains(&format!("NAME '{name}'"))),
            "objectClasses has no {name}\n{out}"
        );
    }
    // Only the requested attributes come back.
    assert!(values(&out, "ldapSyntaxes").is_empty(), "{out}");
}

#[test]
fn anonymous_cannot_read_the_directory() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = search(&s, &t.anonymous(), SUFFIX, "sub", "(objectClass=*)", &[]);
    expect(
        &o,
        rc::NO_SUCH_OBJECT,
        "anonymous subtree search of the suffix",
    );
    assert!(
        dns(&stdout(&o)).is_empty(),
        "no entries for anonymous\n{}",
        show(&o)
    );

    // The same search as admin sees the base entries.
    let o = search(&s, &t.admin(&s), SUFFIX, "one", "(objectClass=*)", &["1.1"]);
    expect(&o, rc::SUCCESS, "admin one-level search");
    let mut got = dns(&stdout(&o));
    got.sort();
    assert_eq!(
        got,
        vec![
            format!("cn=admin,{SUFFIX}"),
            format!("ou=groups,{SUFFIX}"),
            format!("ou=registries,{SUFFIX}"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Add, search, compare, modify, modrdn, delete over each transport
// ---------------------------------------------------------------------------------------------

/// The registry, two contacts under it, and an empty ou to move the registry into.
fn registry_ldif() -> String {
    format!(
        "dn: associatedDomain=br,{REGISTRIES}\n\
         objectClass: top\n\
         objectClass: organization\n\
         objectClass: cctldRegistry\n\
         associatedDomain: br\n\
         o: NIC.br\n\
         cctldRegionalOrganization: LACTLD\n\
         description: Brazilian ccTLD registry\n\
         \n\
         dn: uid=alice,associatedDomain=br,{REGISTRIES}\n\
         objectClass: top\n\
         objectClass: person\n\
         objectClass: organizationalPerson\n\
         objectClass: inetOrgPerson\n\
         objectClass: cctldContact\n\
         uid: alice\n\
         cn: Alice Silva\n\
         sn: Silva\n\
         mail: alice@registro.br\n\
         telephoneNumber: +55 11 5509 3500\n\
         associatedDomain: br\n\
         cctldContactRole: security\n\
         cctldContactPriority: 1\n\
         \n\
         dn: uid=bob,associatedDomain=br,{REGISTRIES}\n\
         objectClass: top\n\
         objectClass: person\n\
         objectClass: organizationalPerson\n\
         objectClass: inetOrgPerson\n\
         objectClass: cctldContact\n\
         uid: bob\n\
         cn: Bob Souza\n\
         sn: Souza\n\
         associatedDomain: br\n\
         cctldContactRole: technical\n\
         \n\
         dn: ou=archive,{SUFFIX}\n\
         objectClass: top\n\
         objectClass: organizationalUnit\n\
         ou: archive\n"
    )
}

/// The whole write/read cycle over one transport, bound as the administrator.
fn crud_sequence(s: &TestServer, t: &Transport) {
    let admin = t.admin(s);
    let br = format!("associatedDomain=br,{REGISTRIES}");
    let alice = format!("uid=alice,{br}");
    let bob = format!("uid=bob,{br}");

    // ldapadd -f file
    let (_dir, file) = ldif_file(&registry_ldif());
    let o = run(s, "ldapadd", &admin, &["-f", file.to_str().unwrap()], None);
    expect(&o, rc::SUCCESS, "ldapadd -f");
    let out = stdout(&o);
    for dn in [&br, &alice, &bob] {
        assert!(
            out.contains(&format!("adding new entry \"{dn}\"")),
            "ldapadd output\n{}",
            show(&o)
        );
    }

    // ldapsearch by filter: equality is case-insensitive, substring on cn, AND with objectClass.
    let o = search(
        s,
        &admin,
        REGISTRIES,
        "sub",
        "(&(objectClass=cctldContact)(mail=ALICE@Registro.BR))",
        &["cn", "mail"],
    );
    expect(&o, rc::SUCCESS, "search by mail");
    let out = stdout(&o);
    assert_eq!(dns(&out), vec![alice.to_ascii_lowercase()], "{out}");
    assert_eq!(values(&out, "cn"), vec!["Alice Silva"], "{out}");
    assert_eq!(values(&out, "mail"), vec!["alice@registro.br"], "{out}");
    assert!(
        values(&out, "sn").is_empty(),
        "only requested attributes\n{out}"
    );

    let o = search(s, &admin, REGISTRIES, "sub", "(cn=*sOUz*)", &["1.1"]);
    expect(&o, rc::SUCCESS, "substring search");
    assert_eq!(
        dns(&stdout(&o)),
        vec![bob.to_ascii_lowercase()],
        "{}",
        show(&o)
    );

    let o = search(
        s,
        &admin,
        REGISTRIES,
        "one",
        "(associatedDomain=br)",
        &["o"],
    );
    expect(&o, rc::SUCCESS, "one-level search");
    let out = stdout(&o);
    assert_eq!(
        dns(&out),
        vec![br.to_ascii_lowercase()],
        "one-level excludes the contacts\n{out}"
    );
    assert_eq!(values(&out, "o"), vec!["NIC.br"], "{out}");

    // The server keeps the operational attributes.
    let out = read_entry(s, &admin, &alice, &["+"]);
    for attr in [
        "entryUUID",
        "entryCSN",
        "createTimestamp",
        "modifyTimestamp",
        "creatorsName",
        "modifiersName",
        "structuralObjectClass",
        "entryDN",
        "subschemaSubentry",
        "hasSubordinates",
    ] {
        assert_eq!(values(&out, attr).len(), 1, "{attr} on a new entry\n{out}");
    }
    assert_eq!(values(&out, "creatorsName"), vec![ADMIN], "{out}");
    assert_eq!(values(&out, "hasSubordinates"), vec!["FALSE"], "{out}");
    let out = read_entry(s, &admin, &br, &["hasSubordinates"]);
    assert_eq!(values(&out, "hasSubordinates"), vec!["TRUE"], "{out}");

    // ldapcompare: TRUE (6) / FALSE (5), matching by the attribute's equality rule.
    let o = run(
        s,
        "ldapcompare",
        &admin,
        &[&alice, "cctldContactRole:SECURITY"],
        None,
    );
    expect(&o, rc::COMPARE_TRUE, "compare true");
    assert!(stdout(&o).contains("TRUE"), "{}", show(&o));
    let o = run(
        s,
        "ldapcompare",
        &admin,
        &[&alice, "cctldContactRole:technical"],
        None,
    );
    expect(&o, rc::COMPARE_FALSE, "compare false");
    assert!(stdout(&o).contains("FALSE"), "{}", show(&o));
    let o = run(
        s,
        "ldapcompare",
        &admin,
        &[&alice, "telephoneNumber:+551155093500"],
        None,
    );
    expect(&o, rc::COMPARE_TRUE, "telephoneNumberMatch ignores spaces");

    // ldapmodify: add values, replace, delete an attribute, increment.
    let modify = format!(
        "dn: {alice}\n\
         changetype: modify\n\
         add: cctldLanguage\n\
         cctldLanguage: pt\n\
         cctldLanguage: en\n\
         -\n\
         replace: mail\n\
         mail: security@registro.br\n\
         -\n\
         delete: telephoneNumber\n\
         -\n\
         increment: cctldContactPriority\n\
         cctldContactPriority: 2\n\
         -\n"
    );
    let o = run(s, "ldapmodify", &admin, &[], Some(&modify));
    expect(&o, rc::SUCCESS, "ldapmodify");
    assert!(
        stdout(&o).contains(&format!("modifying entry \"{alice}\"")),
        "{}",
        show(&o)
    );
    let out = read_entry(
        s,
        &admin,
        &alice,
        &[
            "mail",
            "telephoneNumber",
            "cctldLanguage",
            "cctldContactPriority",
            "modifiersName",
        ],
    );
    assert_eq!(values(&out, "mail"), vec!["security@registro.br"], "{out}");
    assert!(values(&out, "telephoneNumber").is_empty(), "{out}");
    let mut langs = values(&out, "cctldLanguage");
    langs.sort();
    assert_eq!(langs, vec!["en", "pt"], "{out}");
    assert_eq!(
        values(&out, "cctldContactPriority"),
        vec!["3"],
        "1 + 2\n{out}"
    );
    assert_eq!(values(&out, "modifiersName"), vec![ADMIN], "{out}");

    // Delete one value; the other stays.
    let modify =
        format!("dn: {alice}\nchangetype: modify\ndelete: cctldLanguage\ncctldLanguage: EN\n-\n");
    let o = run(s, "ldapmodify", &admin, &[], Some(&modify));
    expect(&o, rc::SUCCESS, "ldapmodify delete one value");
    let out = read_entry(s, &admin, &alice, &["cctldLanguage"]);
    assert_eq!(values(&out, "cctldLanguage"), vec!["pt"], "{out}");

    // ldapmodrdn -r: new RDN, old RDN value removed.
    let asilva = format!("uid=asilva,{br}");
    let o = run(s, "ldapmodrdn", &admin, &["-r", &alice, "uid=asilva"], None);
    expect(&o, rc::SUCCESS, "ldapmodrdn -r");
    assert_absent(s, &admin, &alice);
    let out = read_entry(s, &admin, &asilva, &["uid", "cn", "entryDN"]);
    assert_eq!(
        values(&out, "uid"),
        vec!["asilva"],
        "deleteoldrdn removed uid=alice\n{out}"
    );
    assert_eq!(values(&out, "cn"), vec!["Alice Silva"], "{out}");
    assert_eq!(
        values(&out, "entryDN")
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect::<Vec<_>>(),
        vec![asilva.to_ascii_lowercase()],
        "{out}"
    );

    // ldapmodrdn without -r keeps the old RDN value.
    let robert = format!("uid=robert,{br}");
    let o = run(s, "ldapmodrdn", &admin, &[&bob, "uid=robert"], None);
    expect(&o, rc::SUCCESS, "ldapmodrdn without -r");
    let out = read_entry(s, &admin, &robert, &["uid"]);
    let mut uids = values(&out, "uid");
    uids.sort();
    assert_eq!(uids, vec!["bob", "robert"], "old RDN value kept\n{out}");

    // ldapmodrdn -s: move the registry with its contacts under ou=archive.
    let archive = format!("ou=archive,{SUFFIX}");
    let moved = format!("associatedDomain=br,{archive}");
    let o = run(
        s,
        "ldapmodrdn",
        &admin,
        &["-s", &archive, &br, "associatedDomain=br"],
        None,
    );
    expect(&o, rc::SUCCESS, "ldapmodrdn -s newSuperior");
    assert_absent(s, &admin, &br);
    assert_absent(s, &admin, &asilva);
    let o = search(s, &admin, &archive, "sub", "(objectClass=*)", &["entryDN"]);
    expect(&o, rc::SUCCESS, "search the moved subtree");
    let out = stdout(&o);
    let mut got = dns(&out);
    got.sort();
    let mut want: Vec<String> = [
        archive.clone(),
        moved.clone(),
        format!("uid=asilva,{moved}"),
        format!("uid=robert,{moved}"),
    ]
    .iter()
    .map(|d| d.to_ascii_lowercase())
    .collect();
    want.sort();
    assert_eq!(got, want, "the children moved with their parent\n{out}");
    let mut entry_dns: Vec<String> = values(&out, "entryDN")
        .iter()
        .map(|d| d.to_ascii_lowercase())
        .collect();
    entry_dns.sort();
    assert_eq!(entry_dns, want, "entryDN follows the move\n{out}");
    // The moved children are found by filter under their new parent.
    let o = search(
        s,
        &admin,
        SUFFIX,
        "sub",
        "(mail=security@registro.br)",
        &["1.1"],
    );
    expect(&o, rc::SUCCESS, "search after move");
    assert_eq!(
        dns(&stdout(&o)),
        vec![format!("uid=asilva,{moved}").to_ascii_lowercase()]
    );

    // ldapdelete: a non-leaf is refused, a leaf goes.
    let o = run(s, "ldapdelete", &admin, &[&moved], None);
    expect_err(
        &o,
        rc::NOT_ALLOWED_ON_NON_LEAF,
        "Operation not allowed on non-leaf",
        "delete non-leaf",
    );
    read_entry(s, &admin, &moved, &["1.1"]);
    let leaf = format!("uid=robert,{moved}");
    let o = run(s, "ldapdelete", &admin, &[&leaf], None);
    expect(&o, rc::SUCCESS, "delete leaf");
    assert_absent(s, &admin, &leaf);

    // ldapdelete -r removes the rest of the subtree, leaves first.
    let o = run(s, "ldapdelete", &admin, &["-r", &archive], None);
    expect(&o, rc::SUCCESS, "ldapdelete -r");
    assert_absent(s, &admin, &archive);
    assert_absent(s, &admin, &moved);
    read_entry(s, &admin, REGISTRIES, &["1.1"]);
}

#[test]
fn crud_over_plain_ldap() {
    let s = TestServer::start();
    crud_sequence(&s, &Transport::plain(&s));
}

#[test]
fn crud_over_starttls() {
    let s = TestServer::start();
    crud_sequence(&s, &Transport::starttls(&s));
}

#[test]
fn crud_over_ldaps() {
    let s = TestServer::start();
    crud_sequence(&s, &Transport::ldaps(&s));
}

#[test]
fn starttls_whoami_and_untrusted_ca_is_refused() {
    let s = TestServer::start();
    // With -ZZ the bind happens inside TLS.
    let o = whoami(&s, &Transport::starttls(&s).admin(&s));
    expect(&o, rc::SUCCESS, "whoami over StartTLS");
    // A client that does not trust the CA (the system's CAs instead of ccdir's) must fail rather
    // than go on in clear.
    let url = format!("ldap://127.0.0.1:{}", s.ldap_addr().port());
    let o = s.tool(
        "ldapwhoami",
        &[
            "-x",
            "-H",
            &url,
            "-ZZ",
            "-o",
            "TLS_CACERT=/etc/ssl/certs/ca-certificates.crt",
            "-o",
            "TLS_REQCERT=demand",
        ],
        None,
    );
    assert_ne!(code(&o), 0, "untrusted certificate accepted\n{}", show(&o));
    assert!(stderr(&o).contains("ldap_start_tls"), "{}", show(&o));
    // Plain ldap:// with -ZZ and the CA, by IP, is fine (see `Transport`).
    let o = whoami(&s, &Transport::starttls(&s).anonymous());
    expect(&o, rc::SUCCESS, "anonymous whoami over StartTLS");
    assert_eq!(stdout(&o).trim(), "anonymous", "{}", show(&o));
}

// ---------------------------------------------------------------------------------------------
// Structural object class with the auxiliary cctld classes
// ---------------------------------------------------------------------------------------------

#[test]
fn structural_object_class_ignores_auxiliary_classes() {
    // RFC 4512 2.4.2: structuralObjectClass is the entry's structural class; auxiliary classes
    // (cctldRegistry, cctldContact) never count, wherever they are listed.
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    let (_dir, file) = ldif_file(&registry_ldif());
    let o = run(&s, "ldapadd", &admin, &["-f", file.to_str().unwrap()], None);
    expect(&o, rc::SUCCESS, "ldapadd -f");
    for (dn, want) in [
        (format!("associatedDomain=br,{REGISTRIES}"), "organization"),
        (
            format!("uid=alice,associatedDomain=br,{REGISTRIES}"),
            "inetOrgPerson",
        ),
        (format!("ou=archive,{SUFFIX}"), "organizationalUnit"),
    ] {
        let out = read_entry(&s, &admin, &dn, &["structuralObjectClass"]);
        assert_eq!(values(&out, "structuralObjectClass"), vec![want], "{out}");
    }
}

#[test]
fn modify_adds_an_auxiliary_class_to_an_existing_entry() {
    // Making a plain inetOrgPerson a ccTLD contact adds an auxiliary class; the structural class
    // stays inetOrgPerson, so this is no structural object class change.
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    admin_add(&s, &person_ldif("gina", "Gina Alves"));
    let gina = person_dn("gina");
    let ldif = format!(
        "dn: {gina}\nchangetype: modify\nadd: objectClass\nobjectClass: cctldContact\n-\n\
         add: associatedDomain\nassociatedDomain: pt\n-\n"
    );
    let o = run(&s, "ldapmodify", &admin, &[], Some(&ldif));
    expect(&o, rc::SUCCESS, "add auxiliary class cctldContact");
    let out = read_entry(&s, &admin, &gina, &["objectClass", "structuralObjectClass"]);
    assert!(
        values(&out, "objectClass")
            .iter()
            .any(|c| c == "cctldContact"),
        "{out}"
    );
    assert_eq!(
        values(&out, "structuralObjectClass"),
        vec!["inetOrgPerson"],
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Who am I and password modify
// ---------------------------------------------------------------------------------------------

#[test]
fn whoami_anonymous_and_admin() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = whoami(&s, &t.anonymous());
    expect(&o, rc::SUCCESS, "anonymous whoami");
    assert_eq!(stdout(&o).trim(), "anonymous", "{}", show(&o));

    let o = whoami(&s, &t.admin(&s));
    expect(&o, rc::SUCCESS, "admin whoami");
    assert_eq!(
        stdout(&o).trim().to_ascii_lowercase(),
        format!("dn:{ADMIN}"),
        "{}",
        show(&o)
    );

    let o = whoami(&s, &Transport::ldaps(&s).admin(&s));
    expect(&o, rc::SUCCESS, "admin whoami over ldaps");
    assert_eq!(
        stdout(&o).trim().to_ascii_lowercase(),
        format!("dn:{ADMIN}"),
        "{}",
        show(&o)
    );
}

#[test]
fn passwd_admin_sets_user_changes_and_generated_passwords_work() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    admin_add(&s, &person_ldif("carol", "Carol Lima"));
    let carol = person_dn("carol");

    // Before a password is set, the user cannot bind.
    let o = whoami(&s, &t.user(&carol, "whatever"));
    expect_err(
        &o,
        rc::INVALID_CREDENTIALS,
        "Invalid credentials",
        "bind without a password",
    );

    // Admin sets the password.
    admin_set_password(&s, &carol, "first-Secret-1");
    let o = whoami(&s, &t.user(&carol, "first-Secret-1"));
    expect(&o, rc::SUCCESS, "bind with the set password");
    assert_eq!(
        stdout(&o).trim().to_ascii_lowercase(),
        format!("dn:{carol}"),
        "{}",
        show(&o)
    );

    // The stored value is not the clear-text password.
    let out = read_entry(&s, &t.admin(&s), &carol, &["userPassword"]);
    assert!(!out.contains("first-Secret-1"), "{out}");
    assert!(
        !out.contains("Zmlyc3QtU2VjcmV0LTE"),
        "stored in clear (base64)\n{out}"
    );

    // The user changes their own password, giving the old one.
    let o = run(
        &s,
        "ldappasswd",
        &t.user(&carol, "first-Secret-1"),
        &["-a", "first-Secret-1", "-s", "second-Secret-2"],
        None,
    );
    expect(&o, rc::SUCCESS, "user changes own password");
    let o = whoami(&s, &t.user(&carol, "first-Secret-1"));
    expect_err(
        &o,
        rc::INVALID_CREDENTIALS,
        "Invalid credentials",
        "old password after change",
    );
    let o = whoami(&s, &t.user(&carol, "second-Secret-2"));
    expect(&o, rc::SUCCESS, "new password after change");

    // Without -s the server generates a password and returns it.
    let o = run(&s, "ldappasswd", &t.admin(&s), &[&carol], None);
    expect(&o, rc::SUCCESS, "ldappasswd generating a password");
    let out = stdout(&o);
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("New password: "))
        .unwrap_or_else(|| panic!("no generated password printed\n{}", show(&o)))
        .trim()
        .to_string();
    assert!(
        generated.len() >= 8,
        "generated password too short: {generated:?}"
    );
    let o = whoami(&s, &t.user(&carol, "second-Secret-2"));
    expect(
        &o,
        rc::INVALID_CREDENTIALS,
        "password replaced by the generated one",
    );
    let o = whoami(&s, &t.user(&carol, &generated));
    expect(&o, rc::SUCCESS, "bind with the generated password");
    assert_eq!(
        stdout(&o).trim().to_ascii_lowercase(),
        format!("dn:{carol}"),
        "{}",
        show(&o)
    );

    // The user generates a new password for themselves too (over ldaps).
    let ts = Transport::ldaps(&s);
    let o = run(
        &s,
        "ldappasswd",
        &ts.user(&carol, &generated),
        &["-a", &generated],
        None,
    );
    expect(&o, rc::SUCCESS, "user generates own password");
    let again = stdout(&o)
        .lines()
        .find_map(|l| {
            l.strip_prefix("New password: ")
                .map(|p| p.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no generated password printed\n{}", show(&o)));
    assert_ne!(again, generated);
    expect(
        &whoami(&s, &ts.user(&carol, &again)),
        rc::SUCCESS,
        "bind with own generated password",
    );
}

#[test]
fn passwd_user_cannot_change_someone_elses_password() {
    let s = TestServer::start();
    grant_members(&s);
    let t = Transport::plain(&s);
    admin_add(
        &s,
        &(person_ldif("dave", "Dave Costa") + &person_ldif("erin", "Erin Rocha")),
    );
    let dave = person_dn("dave");
    let erin = person_dn("erin");
    admin_set_password(&s, &dave, "dave-Secret-1");
    admin_set_password(&s, &erin, "erin-Secret-1");

    let o = run(
        &s,
        "ldappasswd",
        &t.user(&dave, "dave-Secret-1"),
        &["-s", "hijacked", &erin],
        None,
    );
    expect_failed(
        &o,
        rc::INSUFFICIENT_ACCESS,
        "Insufficient access",
        "change another user's password",
    );
    expect(
        &whoami(&s, &t.user(&erin, "erin-Secret-1")),
        rc::SUCCESS,
        "erin's password unchanged",
    );
    expect(
        &whoami(&s, &t.user(&erin, "hijacked")),
        rc::INVALID_CREDENTIALS,
        "not hijacked",
    );

    // Anonymous cannot change a password either.
    let o = run(
        &s,
        "ldappasswd",
        &t.anonymous(),
        &["-s", "hijacked", &erin],
        None,
    );
    assert_ne!(
        code(&o),
        rc::SUCCESS,
        "anonymous password change\n{}",
        show(&o)
    );
    expect(
        &whoami(&s, &t.user(&erin, "erin-Secret-1")),
        rc::SUCCESS,
        "erin's password unchanged",
    );
}

// ---------------------------------------------------------------------------------------------
// Errors: result codes and messages
// ---------------------------------------------------------------------------------------------

#[test]
fn error_add_existing_entry_is_68() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let ldif = format!("dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n");
    let o = run(&s, "ldapadd", &t.admin(&s), &[], Some(&ldif));
    expect_err(&o, rc::ALREADY_EXISTS, "Already exists", "add existing");
}

#[test]
fn error_delete_non_leaf_is_66() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = run(&s, "ldapdelete", &t.admin(&s), &[SUFFIX], None);
    expect_err(
        &o,
        rc::NOT_ALLOWED_ON_NON_LEAF,
        "Operation not allowed on non-leaf",
        "delete suffix",
    );
    read_entry(&s, &t.admin(&s), SUFFIX, &["1.1"]);
}

#[test]
fn error_missing_parent_or_entry_is_32_with_matched_dn() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);

    // Add below a parent that does not exist.
    let ldif = format!("dn: ou=x,ou=nowhere,{SUFFIX}\nobjectClass: organizationalUnit\nou: x\n");
    let o = run(&s, "ldapadd", &admin, &[], Some(&ldif));
    expect_err(
        &o,
        rc::NO_SUCH_OBJECT,
        "No such object",
        "add below missing parent",
    );
    assert!(
        stderr(&o).contains(&format!("matched DN: {SUFFIX}")),
        "{}",
        show(&o)
    );

    // Delete, modify, rename, compare and search a missing entry.
    let missing = format!("cn=nobody,ou=groups,{SUFFIX}");
    let matched = format!("matched DN: ou=groups,{SUFFIX}");
    let o = run(&s, "ldapdelete", &admin, &[&missing], None);
    expect_err(&o, rc::NO_SUCH_OBJECT, "No such object", "delete missing");
    assert!(stderr(&o).contains(&matched), "{}", show(&o));

    let ldif =
        format!("dn: {missing}\nchangetype: modify\nreplace: description\ndescription: x\n-\n");
    let o = run(&s, "ldapmodify", &admin, &[], Some(&ldif));
    expect_err(&o, rc::NO_SUCH_OBJECT, "No such object", "modify missing");
    assert!(stderr(&o).contains(&matched), "{}", show(&o));

    let o = run(&s, "ldapmodrdn", &admin, &[&missing, "cn=somebody"], None);
    expect_err(&o, rc::NO_SUCH_OBJECT, "No such object", "modrdn missing");

    let o = run(&s, "ldapcompare", &admin, &[&missing, "cn:nobody"], None);
    expect_err(&o, rc::NO_SUCH_OBJECT, "No such object", "compare missing");

    let o = search(&s, &admin, &missing, "base", "(objectClass=*)", &[]);
    expect(&o, rc::NO_SUCH_OBJECT, "search missing base");
    // ldapsearch spells it "Matched DN:".
    assert!(
        stderr(&o)
            .to_ascii_lowercase()
            .contains(&matched.to_ascii_lowercase()),
        "{}",
        show(&o)
    );
}

#[test]
fn error_compare_attribute_not_in_entry_is_16() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let base = format!("ou=groups,{SUFFIX}");
    let o = run(
        &s,
        "ldapcompare",
        &t.admin(&s),
        &[&base, "description:anything"],
        None,
    );
    expect_err(
        &o,
        rc::NO_SUCH_ATTRIBUTE,
        "No such attribute",
        "compare absent attribute",
    );
}

#[test]
fn error_undefined_attribute_type_is_17() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    let ldif = format!(
        "dn: ou=x,{SUFFIX}\nobjectClass: organizationalUnit\nou: x\nnoSuchAttributeType: 1\n"
    );
    let o = run(&s, "ldapadd", &admin, &[], Some(&ldif));
    expect_err(
        &o,
        rc::UNDEFINED_ATTRIBUTE_TYPE,
        "Undefined attribute type",
        "add undefined type",
    );
    assert_absent(&s, &admin, &format!("ou=x,{SUFFIX}"));

    let ldif = format!(
        "dn: ou=groups,{SUFFIX}\nchangetype: modify\nadd: noSuchAttributeType\nnoSuchAttributeType: 1\n-\n"
    );
    let o = run(&s, "ldapmodify", &admin, &[], Some(&ldif));
    expect_err(
        &o,
        rc::UNDEFINED_ATTRIBUTE_TYPE,
        "Undefined attribute type",
        "modify undefined type",
    );
}

#[test]
fn error_bad_dn_is_34() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    let o = run(&s, "ldapdelete", &admin, &["this is not a DN"], None);
    expect_err(
        &o,
        rc::INVALID_DN_SYNTAX,
        "Invalid DN syntax",
        "delete bad DN",
    );
    let o = search(&s, &admin, "no equals sign", "base", "(objectClass=*)", &[]);
    expect(&o, rc::INVALID_DN_SYNTAX, "search bad base DN");
}

#[test]
fn error_writes_by_non_admin_are_50() {
    let s = TestServer::start();
    grant_members(&s);
    let t = Transport::plain(&s);
    admin_add(&s, &person_ldif("frank", "Frank Melo"));
    let frank = person_dn("frank");
    admin_set_password(&s, &frank, "frank-Secret-1");
    let user = t.user(&frank, "frank-Secret-1");

    // The user reads all ...
    let o = search(
        &s,
        &user,
        SUFFIX,
        "sub",
        "(objectClass=organizationalUnit)",
        &["1.1"],
    );
    expect(&o, rc::SUCCESS, "user search");
    assert_eq!(dns(&stdout(&o)).len(), 2, "{}", show(&o));

    // ... but writes nothing.
    let ldif = format!("dn: ou=x,{SUFFIX}\nobjectClass: organizationalUnit\nou: x\n");
    let o = run(&s, "ldapadd", &user, &[], Some(&ldif));
    expect_err(
        &o,
        rc::INSUFFICIENT_ACCESS,
        "Insufficient access",
        "user add",
    );

    let ldif = format!("dn: {frank}\nchangetype: modify\nreplace: cn\ncn: Francis Melo\n-\n");
    let o = run(&s, "ldapmodify", &user, &[], Some(&ldif));
    expect_err(
        &o,
        rc::INSUFFICIENT_ACCESS,
        "Insufficient access",
        "user modify self",
    );

    let o = run(&s, "ldapmodrdn", &user, &[&frank, "uid=francis"], None);
    expect_err(
        &o,
        rc::INSUFFICIENT_ACCESS,
        "Insufficient access",
        "user modrdn",
    );

    let o = run(&s, "ldapdelete", &user, &[&frank], None);
    expect_err(
        &o,
        rc::INSUFFICIENT_ACCESS,
        "Insufficient access",
        "user delete",
    );

    let out = read_entry(&s, &t.admin(&s), &frank, &["cn"]);
    assert_eq!(values(&out, "cn"), vec!["Frank Melo"], "unchanged\n{out}");
}

#[test]
fn error_unknown_critical_control_is_12_and_non_critical_is_ignored() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    let o = run(
        &s,
        "ldapsearch",
        &admin,
        &["-LLL", "-e", "!1.2.3.4", "-b", SUFFIX, "-s", "base", "1.1"],
        None,
    );
    expect(
        &o,
        rc::UNAVAILABLE_CRITICAL_EXTENSION,
        "unknown critical control",
    );
    assert!(
        stderr(&o).contains("Critical extension is unavailable"),
        "{}",
        show(&o)
    );

    let o = run(
        &s,
        "ldapsearch",
        &admin,
        &["-LLL", "-e", "1.2.3.4", "-b", SUFFIX, "-s", "base", "1.1"],
        None,
    );
    expect(&o, rc::SUCCESS, "unknown non-critical control");
    assert_eq!(dns(&stdout(&o)), vec![SUFFIX], "{}", show(&o));

    // On a write too: nothing is written.
    let ldif = format!("dn: ou=x,{SUFFIX}\nobjectClass: organizationalUnit\nou: x\n");
    let o = run(&s, "ldapadd", &admin, &["-e", "!1.2.3.4"], Some(&ldif));
    expect(
        &o,
        rc::UNAVAILABLE_CRITICAL_EXTENSION,
        "add with unknown critical control",
    );
    assert_absent(&s, &admin, &format!("ou=x,{SUFFIX}"));
}

#[test]
fn error_unknown_extended_operation_is_2() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = run(&s, "ldapexop", &t.admin(&s), &["1.2.3.4"], None);
    expect_failed(
        &o,
        rc::PROTOCOL_ERROR,
        "Protocol error",
        "unknown extended operation",
    );
    // ldapexop knows Who am I? by name.
    let o = run(&s, "ldapexop", &t.admin(&s), &["whoami"], None);
    expect(&o, rc::SUCCESS, "ldapexop whoami");
    assert!(
        stdout(&o)
            .to_ascii_lowercase()
            .contains(&format!("dn:{ADMIN}")),
        "{}",
        show(&o)
    );
}

#[test]
fn error_no_user_modification_attribute_is_19() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    let groups = format!("ou=groups,{SUFFIX}");
    let before = values(
        &read_entry(&s, &admin, &groups, &["entryUUID"]),
        "entryUUID",
    );
    assert_eq!(before.len(), 1);

    let ldif = format!(
        "dn: {groups}\nchangetype: modify\nreplace: entryUUID\nentryUUID: 00000000-0000-0000-0000-000000000000\n-\n"
    );
    let o = run(&s, "ldapmodify", &admin, &[], Some(&ldif));
    expect_err(
        &o,
        rc::CONSTRAINT_VIOLATION,
        "Constraint violation",
        "modify entryUUID",
    );
    let after = values(
        &read_entry(&s, &admin, &groups, &["entryUUID"]),
        "entryUUID",
    );
    assert_eq!(before, after);

    let ldif = format!(
        "dn: ou=x,{SUFFIX}\nobjectClass: organizationalUnit\nou: x\nentryUUID: 00000000-0000-0000-0000-000000000000\n"
    );
    let o = run(&s, "ldapadd", &admin, &[], Some(&ldif));
    expect_err(
        &o,
        rc::CONSTRAINT_VIOLATION,
        "Constraint violation",
        "add with entryUUID",
    );
    assert_absent(&s, &admin, &format!("ou=x,{SUFFIX}"));
}

#[test]
fn error_binds_empty_password_is_53_wrong_or_unknown_is_49() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let o = whoami(&s, &t.user(ADMIN, ""));
    expect_err(
        &o,
        rc::UNWILLING_TO_PERFORM,
        "Server is unwilling to perform",
        "empty password",
    );

    let o = whoami(&s, &t.user(ADMIN, "wrong password"));
    expect_err(
        &o,
        rc::INVALID_CREDENTIALS,
        "Invalid credentials",
        "wrong password",
    );

    let o = whoami(&s, &t.user(&format!("cn=nobody,{SUFFIX}"), "whatever"));
    expect_err(
        &o,
        rc::INVALID_CREDENTIALS,
        "Invalid credentials",
        "unknown DN",
    );

    let o = whoami(&s, &t.user("cn=elsewhere,dc=other", "whatever"));
    expect_err(
        &o,
        rc::INVALID_CREDENTIALS,
        "Invalid credentials",
        "DN outside the suffix",
    );
}

#[test]
fn ldapadd_continue_past_errors() {
    let s = TestServer::start();
    let t = Transport::plain(&s);
    let admin = t.admin(&s);
    let ldif = format!(
        "dn: ou=first,{SUFFIX}\nobjectClass: organizationalUnit\nou: first\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: ou=third,{SUFFIX}\nobjectClass: organizationalUnit\nou: third\n\n\
         dn: ou=bad,ou=nowhere,{SUFFIX}\nobjectClass: organizationalUnit\nou: bad\n\n\
         dn: ou=fifth,{SUFFIX}\nobjectClass: organizationalUnit\nou: fifth\n"
    );
    let (_dir, file) = ldif_file(&ldif);
    let file = file.to_str().unwrap();

    // Without -c the tool stops at the first error.
    let o = run(&s, "ldapadd", &admin, &["-f", file], None);
    expect_err(
        &o,
        rc::ALREADY_EXISTS,
        "Already exists",
        "ldapadd stops at the first error",
    );
    read_entry(&s, &admin, &format!("ou=first,{SUFFIX}"), &["1.1"]);
    assert_absent(&s, &admin, &format!("ou=third,{SUFFIX}"));

    // With -c it reports each error and carries on; first is now there too.
    let o = run(&s, "ldapadd", &admin, &["-c", "-f", file], None);
    assert_ne!(
        code(&o),
        rc::SUCCESS,
        "errors must show in the exit code\n{}",
        show(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("Already exists (68)"), "{}", show(&o));
    assert!(err.contains("No such object (32)"), "{}", show(&o));
    for ou in ["third", "fifth"] {
        assert!(
            stdout(&o).contains(&format!("adding new entry \"ou={ou},{SUFFIX}\"")),
            "{}",
            show(&o)
        );
        read_entry(&s, &admin, &format!("ou={ou},{SUFFIX}"), &["1.1"]);
    }
    assert_absent(&s, &admin, &format!("ou=bad,ou=nowhere,{SUFFIX}"));
}

// ---------------------------------------------------------------------------------------------
// Paged results and size limit
// ---------------------------------------------------------------------------------------------

/// The number of entries in each page of `ldapsearch -E pr=...` output (not -LLL): every page is
/// followed by a "# search result" block.
fn entries_per_page(out: &str) -> Vec<usize> {
    let mut pages = Vec::new();
    let mut n = 0;
    for l in out.lines() {
        if l.starts_with("dn:") {
            n += 1;
        } else if l == "# search result" {
            pages.push(n);
            n = 0;
        }
    }
    pages
}

fn add_25_people(s: &TestServer) {
    let ldif: String = (1..=25)
        .map(|i| person_ldif(&format!("user{i:02}"), &format!("User Number{i:02}")))
        .collect();
    admin_add(s, &ldif);
}

#[test]
fn paged_search_returns_every_entry_in_pages() {
    let s = TestServer::start();
    add_25_people(&s);
    let t = Transport::plain(&s);
    // Not -LLL: ldapsearch prints the paged-results response of each page as a comment.
    let o = run(
        &s,
        "ldapsearch",
        &t.admin(&s),
        &[
            "-E",
            "pr=10/noprompt",
            "-b",
            REGISTRIES,
            "-s",
            "one",
            "(objectClass=inetOrgPerson)",
            "1.1",
        ],
        None,
    );
    expect(&o, rc::SUCCESS, "paged search");
    let out = stdout(&o);
    let mut got = dns(&out);
    assert_eq!(got.len(), 25, "{}", show(&o));
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 25, "no entry twice\n{out}");
    // Each page ends with its own "# search result" block carrying the paged-results cookie,
    // empty on the last page.
    assert_eq!(entries_per_page(&out), vec![10, 10, 5], "{out}");
    let cookies: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("pagedresults: cookie="))
        .collect();
    assert_eq!(cookies.len(), 3, "{out}");
    assert!(cookies[..2].iter().all(|c| !c.is_empty()), "{out}");
    assert_eq!(cookies[2], "", "the last page has an empty cookie\n{out}");
    assert!(out.contains("# numEntries: 25"), "{out}");
}

#[test]
fn paged_search_page_larger_than_result() {
    let s = TestServer::start();
    add_25_people(&s);
    let t = Transport::plain(&s);
    let o = run(
        &s,
        "ldapsearch",
        &t.admin(&s),
        &[
            "-E",
            "pr=100/noprompt",
            "-b",
            REGISTRIES,
            "(uid=user1*)",
            "1.1",
        ],
        None,
    );
    expect(&o, rc::SUCCESS, "one page");
    let out = stdout(&o);
    assert_eq!(dns(&out).len(), 10, "user10..user19\n{out}");
    assert_eq!(entries_per_page(&out), vec![10], "{out}");
}

#[test]
fn size_limit_returns_that_many_entries_and_code_4() {
    let s = TestServer::start();
    add_25_people(&s);
    let t = Transport::plain(&s);
    let o = run(
        &s,
        "ldapsearch",
        &t.admin(&s),
        &[
            "-z",
            "5",
            "-b",
            REGISTRIES,
            "(objectClass=inetOrgPerson)",
            "1.1",
        ],
        None,
    );
    expect(&o, rc::SIZE_LIMIT_EXCEEDED, "size limit");
    let out = stdout(&o);
    assert_eq!(dns(&out).len(), 5, "{}", show(&o));
    assert!(out.contains("Size limit exceeded"), "{}", show(&o));

    // A limit above the result size is no error.
    let o = run(
        &s,
        "ldapsearch",
        &t.admin(&s),
        &[
            "-LLL",
            "-z",
            "30",
            "-b",
            REGISTRIES,
            "(objectClass=inetOrgPerson)",
            "1.1",
        ],
        None,
    );
    expect(&o, rc::SUCCESS, "size limit not reached");
    assert_eq!(dns(&stdout(&o)).len(), 25, "{}", show(&o));
}

// ---------------------------------------------------------------------------------------------
// Durability
// ---------------------------------------------------------------------------------------------

#[test]
fn writes_survive_a_restart() {
    let s = TestServer::start();
    let (_dir, file) = ldif_file(&registry_ldif());
    let t = Transport::plain(&s);
    let o = run(
        &s,
        "ldapadd",
        &t.admin(&s),
        &["-f", file.to_str().unwrap()],
        None,
    );
    expect(&o, rc::SUCCESS, "ldapadd before restart");
    let alice = format!("uid=alice,associatedDomain=br,{REGISTRIES}");
    let ldif = format!("dn: {alice}\nchangetype: modify\nreplace: title\ntitle: CSIRT lead\n-\n");
    expect(
        &run(&s, "ldapmodify", &t.admin(&s), &[], Some(&ldif)),
        rc::SUCCESS,
        "modify",
    );
    expect(
        &run(
            &s,
            "ldapdelete",
            &t.admin(&s),
            &[&format!("uid=bob,associatedDomain=br,{REGISTRIES}")],
            None,
        ),
        rc::SUCCESS,
        "delete",
    );
    let before = read_entry(
        &s,
        &t.admin(&s),
        &alice,
        &["*", "entryUUID", "createTimestamp"],
    );

    let s = s.restart();
    let t = Transport::plain(&s);
    let after = read_entry(
        &s,
        &t.admin(&s),
        &alice,
        &["*", "entryUUID", "createTimestamp"],
    );
    assert_eq!(before, after, "entry unchanged by the restart");
    assert_eq!(values(&after, "title"), vec!["CSIRT lead"], "{after}");
    assert_absent(
        &s,
        &t.admin(&s),
        &format!("uid=bob,associatedDomain=br,{REGISTRIES}"),
    );

    // Found by filter (the indexes survived too) and writable again.
    let o = search(
        &s,
        &t.admin(&s),
        SUFFIX,
        "sub",
        "(mail=alice@registro.br)",
        &["1.1"],
    );
    expect(&o, rc::SUCCESS, "search after restart");
    assert_eq!(
        dns(&stdout(&o)),
        vec![alice.to_ascii_lowercase()],
        "{}",
        show(&o)
    );
    expect(
        &run(&s, "ldapdelete", &t.admin(&s), &[&alice], None),
        rc::SUCCESS,
        "delete after restart",
    );
}
