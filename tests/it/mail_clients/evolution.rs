//! GNOME Evolution (docs/clients/evolution.md). Evolution's LDAP address book is the
//! evolution-data-server backend GNOME/evolution-data-server
//! src/addressbook/backends/ldap/e-book-backend-ldap.c, linked with OpenLDAP's libldap; its
//! requests are replayed here with OpenLDAP's `ldapsearch`, so filters go through the same
//! libldap parser (Evolution's filters have spaces between their parts):
//! - `e_book_backend_ldap_connect`: `ldap_start_tls_s` for "TLS encryption" (for "SSL
//!   encryption" it sets LDAP_OPT_X_TLS_HARD and TLS_REQCERT *allow*), then
//!   `ldap_simple_bind_s` with the DN and password it has (none at first: anonymous), then
//!   `query_ldap_root_dse` and `check_schema_support`;
//! - `query_ldap_root_dse`: base search of "" for supportedControl, supportedExtension,
//!   supportedFeatures, supportedLDAPVersion, subschemaSubentry, schemaNamingContext;
//! - `check_schema_support`: base search of the subschemaSubentry for objectClasses with
//!   `(objectClass=subschema)`; evolutionPerson and calEntry extend what is searched;
//! - `book_backend_ldap_authenticate_sync`: "ldap/simple-binddn" binds with the DN given;
//!   "ldap/simple-email" first searches `(mail=<address>)` to find the DN, on the connection it
//!   has (anonymous);
//! - `e_book_backend_ldap_build_query`, `func_beginswith`, `func_contains`, `join_args`: the
//!   filter from Evolution's query, ANDed as `(& <search filter> <query>)` with the
//!   configured search filter;
//! - the search itself (`book_backend_ldap_start_view`): base and scope from the settings, all
//!   attributes (NULL), size limit = the "Limit" setting (default 100);
//! - `book_backend_ldap_get_contact`: opening a contact is a base search of its DN;
//! - `prop_info[]`: which attribute fills which contact field;
//! - src/libedataserver/e-source-ldap.c: the defaults, scope one-level and limit 100.
//!
//! The autocompletion query is GNOME/evolution src/e-util/e-name-selector-entry.c,
//! `set_completion_query`: `(or (beginswith "nickname" …) (beginswith "email" …)
//! (beginswith "full_name" …) (beginswith "file_as" …))`.

use super::*;
use std::io::Write;
use std::process::{Command, Output};

/// What `ldapsearch` needs to talk to the server like Evolution with "TLS encryption".
fn starttls(s: &TestServer) -> Vec<String> {
    vec![
        "-H".into(),
        ldap_ip_url(s),
        "-ZZ".into(),
        "-x".into(),
        "-o".into(),
        "ldif_wrap=no".into(),
        "-LLL".into(),
    ]
}

fn run(s: &TestServer, conn: &[String], bind: Option<(&str, &str)>, args: &[&str]) -> Output {
    let mut all: Vec<&str> = conn.iter().map(String::as_str).collect();
    if let Some((dn, pw)) = bind {
        all.extend(["-D", dn, "-w", pw]);
    }
    all.extend_from_slice(args);
    s.tool("ldapsearch", &all, None)
}

/// One entry of ldapsearch's LDIF: DN and (attribute, value) pairs, base64 values decoded.
struct LdifEntry {
    dn: String,
    attrs: Vec<(String, String)>,
}

impl LdifEntry {
    fn get(&self, attr: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(attr))
            .map(|(_, v)| v.as_str())
    }
}

fn parse_ldif(text: &str) -> Vec<LdifEntry> {
    use base64::Engine;
    let mut out: Vec<LdifEntry> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        let (attr, value) = if line == "dn:" {
            ("dn", String::new())
        } else if let Some((a, v)) = line.split_once(":: ") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v)
                .expect("base64 value");
            (a, String::from_utf8_lossy(&bytes).to_string())
        } else if let Some((a, v)) = line.split_once(": ") {
            (a, v.to_string())
        } else {
            continue;
        };
        if attr == "dn" {
            out.push(LdifEntry {
                dn: value.to_ascii_lowercase(),
                attrs: Vec::new(),
            });
        } else if let Some(e) = out.last_mut() {
            e.attrs.push((attr.to_string(), value));
        }
    }
    out
}

/// The LDAP filter evolution-data-server makes of the composer's completion query for `typed`:
/// `(or (beginswith "nickname" T) (beginswith "email" T) NAME("full_name") NAME("file_as"))`
/// where NAME(f) is `(beginswith f T)`, or for several words
/// `(or (beginswith f T) (beginswith f "w1, w2, ..."))` (e-name-selector-entry.c
/// `name_style_query`). The backend maps nickname -> displayName, email -> mail, full_name ->
/// `(|(cn=V*)(sn=V*))` and drops file_as (fileAs needs evolutionPerson); `join_args` joins the
/// parts of `(|` with a space and passes a single part through.
fn completion_query(typed: &str) -> String {
    let esc = |v: &str| {
        v.replace('\\', "\\5c")
            .replace('*', "\\2a")
            .replace('(', "\\28")
            .replace(')', "\\29")
    };
    let t = esc(typed.trim());
    let full_name = |v: &str| format!("(|(cn={v}*)(sn={v}*))");
    let words: Vec<&str> = typed.split_whitespace().collect();
    let name = if words.len() > 1 {
        let comma = esc(&words.join(", "));
        format!("(|{} {})", full_name(&t), full_name(&comma))
    } else {
        full_name(&t)
    };
    format!("(|(displayName={t}*) (mail={t}*) {name})")
}

#[test]
fn evolution_completion_filter() {
    assert_eq!(
        completion_query("marta"),
        "(|(displayName=marta*) (mail=marta*) (|(cn=marta*)(sn=marta*)))"
    );
    assert_eq!(
        completion_query("Marta Fe"),
        "(|(displayName=Marta Fe*) (mail=Marta Fe*) (|(|(cn=Marta Fe*)(sn=Marta Fe*)) (|(cn=Marta, Fe*)(sn=Marta, Fe*))))"
    );
}

/// `e_book_backend_ldap_connect` + `query_ldap_root_dse` + `check_schema_support`, anonymous.
#[test]
fn evolution_connect_reads_root_dse_and_schema_anonymously() {
    let s = directory();
    let conn = starttls(&s);
    let o = run(
        &s,
        &conn,
        None,
        &[
            "-b",
            "",
            "-s",
            "base",
            "(objectclass=*)",
            "supportedControl",
            "supportedExtension",
            "supportedFeatures",
            "supportedLDAPVersion",
            "subschemaSubentry",
            "schemaNamingContext",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dse = parse_ldif(&stdout(&o));
    assert_eq!(dse.len(), 1);
    assert_eq!(dse[0].get("supportedLDAPVersion"), Some("3"));
    let schema_dn = dse[0].get("subschemaSubentry").expect("subschemaSubentry");
    assert_eq!(schema_dn, "cn=Subschema");

    let o = run(
        &s,
        &conn,
        None,
        &[
            "-b",
            schema_dn,
            "-s",
            "base",
            "(objectClass=subschema)",
            "objectClasses",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for oc in [
        "'inetOrgPerson'",
        "'organizationalPerson'",
        "'person'",
        "'groupOfNames'",
    ] {
        assert!(
            out.contains(&format!("NAME {oc}")),
            "objectClasses lacks {oc}"
        );
    }
    // No evolutionPerson or calEntry: Evolution searches the standard attributes only.
    assert!(!out.contains("'evolutionPerson'") && !out.contains("'calEntry'"));

    // check_schema_support parses each value with libldap's ldap_str2objectclass(value, &code,
    // &err, 0); a value it cannot parse is skipped, and with it the attributes of that class.
    // Call the same function (python3 ctypes on the installed libldap) on every value.
    let py = Command::new("/usr/bin/python3")
        .args(["-c", STR2OBJECTCLASS])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut py = py;
    py.stdin
        .take()
        .expect("stdin")
        .write_all(out.as_bytes())
        .expect("write");
    let res = py.wait_with_output().expect("python3 output");
    let report = String::from_utf8_lossy(&res.stdout);
    assert!(
        res.status.success() && report.starts_with("OK "),
        "{report}{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

/// Parse every `objectClasses` value of LDIF on stdin with libldap's `ldap_str2objectclass`
/// (flags 0, as Evolution calls it); print `OK <count>` or the values that fail.
const STR2OBJECTCLASS: &str = r#"
import base64, ctypes, glob, sys
libs = sorted(glob.glob("/usr/lib/*/libldap*.so.*") + glob.glob("/lib/*/libldap*.so.*"))
libs = [l for l in libs if "libldap_r" not in l] or libs
if not libs:
    sys.exit("libldap not found")
ldap = ctypes.CDLL(libs[0])
ldap.ldap_str2objectclass.restype = ctypes.c_void_p
ldap.ldap_str2objectclass.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                      ctypes.POINTER(ctypes.c_char_p), ctypes.c_uint]
ldap.ldap_objectclass_free.argtypes = [ctypes.c_void_p]
values = []
for line in sys.stdin.read().splitlines():
    if line.startswith("objectClasses:: "):
        values.append(base64.b64decode(line[16:]))
    elif line.startswith("objectClasses: "):
        values.append(line[15:].encode())
bad = []
for v in values:
    code, err = ctypes.c_int(0), ctypes.c_char_p()
    oc = ldap.ldap_str2objectclass(v, ctypes.byref(code), ctypes.byref(err), 0)
    if not oc:
        bad.append((code.value, err.value, v))
    else:
        ldap.ldap_objectclass_free(oc)
if bad or not values:
    print("FAILED", len(bad), "of", len(values))
    for b in bad:
        print(b)
    sys.exit(1)
print("OK", len(values))
"#;

/// Autocompletion in the composer after "Using distinguished name (DN)" login: Evolution
/// reconnects with StartTLS and binds with the DN, then searches with the converted
/// `set_completion_query` query. With the guide's search filter `(objectClass=cctldContact)`.
#[test]
fn evolution_autocompletion_and_contact_fields() {
    let s = directory();
    let conn = starttls(&s);
    let bind = Some((READER, READER_PW));
    let query = |typed: &str| format!("(& (objectClass=cctldContact) {})", completion_query(typed));
    let search = |filter: &str| {
        run(
            &s,
            &conn,
            bind,
            &["-b", REGISTRIES, "-s", "sub", "-z", "100", filter],
        )
    };

    let o = search(&query("marta"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let found = parse_ldif(&stdout(&o));
    assert_eq!(
        found.iter().map(|e| e.dn.as_str()).collect::<Vec<_>>(),
        vec![BR_PERSON.to_lowercase()]
    );
    let p = &found[0];
    // prop_info[]: FULL_NAME cn, GIVEN_NAME givenName, FAMILY_NAME sn, EMAIL mail, TITLE title,
    // ORG o, PHONE_BUSINESS telephoneNumber, PHONE_MOBILE mobile, PHONE_BUSINESS_FAX
    // facsimileTelephoneNumber, ADDRESS_LABEL_WORK postalAddress, ADDRESS_WORK l/st/postalCode/c.
    assert_eq!(p.get("cn"), Some("Marta Ferreira"));
    assert_eq!(p.get("givenName"), Some("Marta"));
    assert_eq!(p.get("sn"), Some("Ferreira"));
    assert_eq!(p.get("mail"), Some("marta.ferreira@nic-br.example"));
    assert_eq!(p.get("title"), Some("Information Security Manager"));
    assert_eq!(p.get("o"), Some("Registry of .br (example)"));
    assert_eq!(p.get("telephoneNumber"), Some("+55 11 2345-6731"));
    assert_eq!(p.get("mobile"), Some("+55 11 96123-4520"));
    assert_eq!(p.get("facsimileTelephoneNumber"), Some("+55 11 5555 0177"));
    assert_eq!(p.get("l"), Some("São Paulo"));
    assert_eq!(p.get("postalCode"), Some("04500-000"));
    assert!(p
        .get("postalAddress")
        .is_some_and(|a| a.contains("$Rua Exemplo 100$")));

    // The team by the start of its display name (nickname) or of its mail.
    for typed in ["Incident response .br", "security@nic-br"] {
        let o = search(&query(typed));
        assert_eq!(code(&o), 0, "{typed}: {}", stderr(&o));
        let found = parse_ldif(&stdout(&o));
        let team = found
            .iter()
            .find(|e| e.dn == BR_TEAM.to_lowercase())
            .unwrap_or_else(|| panic!("{typed}: team not found"));
        assert_eq!(team.get("cn"), Some("incident-response"));
        assert_eq!(team.get("displayName"), Some("Incident response .br"));
        assert_eq!(team.get("mail"), Some("security@nic-br.example"));
        assert_eq!(team.get("telephoneNumber"), Some("+55 11 2345-6743"));
        assert_eq!(
            team.get("facsimileTelephoneNumber"),
            Some("+55 11 5555 0177")
        );
    }

    // Opening a contact (book_backend_ldap_get_contact): a base search of its DN,
    // `(objectclass=*)`, all attributes, size limit 1.
    let o = run(
        &s,
        &conn,
        bind,
        &["-b", BR_TEAM, "-s", "base", "-z", "1", "(objectclass=*)"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let team = parse_ldif(&stdout(&o));
    assert_eq!(team.len(), 1);
    assert_eq!(team[0].get("mail"), Some("security@nic-br.example"));

    // The search box of the Contacts view ("Any field contains"): func_contains over every
    // plain string attribute of prop_info[] (without evolutionPerson/calEntry support).
    let v = "registry of .br";
    let any = format!(
        "(& (objectClass=cctldContact) (|(cn=*{v}*)(givenName=*{v}*)(sn=*{v}*)(mobile=*{v}*)\
         (facsimileTelephoneNumber=*{v}*)(internationaliSDNNumber=*{v}*)(pager=*{v}*)(o=*{v}*)\
         (roomNumber=*{v}*)(title=*{v}*)(labeledURI=*{v}*)(description=*{v}*)(icsCalendar=*{v}*)))"
    );
    let o = search(&any);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dns = ldif_dns(&stdout(&o));
    assert!(dns.contains(&BR_TEAM.to_lowercase()) && dns.contains(&BR_PERSON.to_lowercase()));

    // Browsing without a query (can_browse): "(cn=*)" with the limit: 100 entries and
    // sizeLimitExceeded, which Evolution reports as "more results than the limit".
    let o = search("(& (objectClass=cctldContact) (cn=*))");
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert_eq!(ldif_dns(&stdout(&o)).len(), 100);
}

/// "Using email address" login: Evolution looks the DN up with `(mail=<address>)` on its
/// anonymous connection. ccdir shows anonymous clients nothing, so the lookup finds no entry and
/// Evolution reports "Failed to get the DN": the guide says to log in with the DN.
#[test]
fn evolution_login_by_email_cannot_find_the_dn_anonymously() {
    let s = directory();
    let conn = starttls(&s);
    let o = run(
        &s,
        &conn,
        None,
        &[
            "-b",
            REGISTRIES,
            "-s",
            "sub",
            "(mail=fatoumata.adeyemi@nic-ac.example)",
        ],
    );
    assert_eq!(code(&o), 32, "{}", stderr(&o));
    assert!(ldif_dns(&stdout(&o)).is_empty());
    // Plain LDAP ("No encryption") with the DN: the password is refused before it is checked.
    let plain = vec!["-H".to_string(), ldap_ip_url(&s), "-x".to_string()];
    let o = run(
        &s,
        &plain,
        Some((READER, READER_PW)),
        &["-b", "", "-s", "base"],
    );
    assert_eq!(code(&o), 13, "{}", stderr(&o));
}

/// Issue 14: with the search filter `(objectClass=person)`, common in guides written for
/// OpenLDAP, completion missed people whose entries list only `inetOrgPerson` and `cctldContact`
/// (object class filters match subclasses, as in OpenLDAP). Teams (organizationalRole) stay out.
#[test]
fn evolution_search_filter_object_class_person_finds_inet_org_persons() {
    let s = directory();
    let dn = "uid=evo-sub,associatedDomain=br,ou=registries,dc=cctld-ir,dc=example";
    let mut admin = s.conn_ldaps();
    admin
        .simple_bind(ADMIN, &s.admin_password())
        .expect("bind")
        .success()
        .expect("admin bind");
    admin
        .add(
            dn,
            vec![
                ("objectClass", set(&["inetOrgPerson", "cctldContact"])),
                ("uid", set(&["evo-sub"])),
                ("cn", set(&["Marta Subclass"])),
                ("sn", set(&["Subclass"])),
                ("mail", set(&["marta.subclass@nic-br.example"])),
                ("associatedDomain", set(&["br"])),
            ],
        )
        .expect("add")
        .success()
        .expect("add success");
    let conn = starttls(&s);
    let query = |typed: &str| format!("(& (objectClass=person) {})", completion_query(typed));
    let o = run(
        &s,
        &conn,
        Some((READER, READER_PW)),
        &["-b", REGISTRIES, "-s", "sub", "-z", "100", &query("marta")],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut dns = ldif_dns(&stdout(&o));
    dns.sort();
    let mut want = vec![BR_PERSON.to_lowercase(), dn.to_lowercase()];
    want.sort();
    assert_eq!(dns, want);
    // The team matches the completion query but is no person.
    let o = run(
        &s,
        &conn,
        Some((READER, READER_PW)),
        &["-b", REGISTRIES, "-s", "sub", &query("security@nic-br")],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!ldif_dns(&stdout(&o)).contains(&BR_TEAM.to_lowercase()));
}
