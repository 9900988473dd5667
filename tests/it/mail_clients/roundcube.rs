//! Roundcube webmail (docs/clients/roundcube.md). Sources, roundcube/roundcubemail:
//! - config/defaults.inc.php, `$config['ldap_public']` example: `hosts` (`tls://` = StartTLS,
//!   `ldaps://`), `bind_dn`/`bind_pass`, `base_dn`, `scope`, `filter` (ANDed with every
//!   search, default `(objectClass=inetOrgPerson)`), `fieldmap`, `sort`, `vlv`,
//!   `config_root_dn` (`cn=config`), `sizelimit`; `autocomplete_max` 15,
//!   `addressbook_search_mode` 0 (partial, `*word*`), `contactlist_fields` name, firstname,
//!   surname, email;
//! - program/actions/mail/autocomplete.php: `$abook->search($fields = contactlist_fields,
//!   $search, $mode | SEARCH_GROUPS, true, true, 'email')`;
//! - program/lib/Roundcube/rcube_ldap.php: `__construct` (requested attributes = the fieldmap's
//!   attributes + objectClass), `search` (fields mapped to attributes, `fulltext_search_filter`,
//!   `*+` collapsed to `*`), `extended_search` (`(&(<filter>)<search>)`), `_ldap2result` (fields
//!   from attributes), `get_record` (a base read of the contact's DN);
//! - program/lib/Roundcube/rcube_ldap_generic.php, `fulltext_search_filter`: one `(|...)` group per
//!   word of the typed text (rcube_utils::tokenize_string splits on spaces and `;,"'/+-`), the
//!   groups ANDed;
//! - Net_LDAP3 (pear, Kolab), which rcube_ldap_generic extends, `find_vlv_indexes_and_searches`:
//!   with `vlv` on, it looks for 389-DS `(objectclass=vlvsearch)` entries under `config_root_dn`
//!   and uses VLV only for a base, scope and filter that such an entry names.

use super::*;

/// The guide's fieldmap (config/defaults.inc.php's, with `name` => displayName).
const FIELDMAP: &[(&str, &str)] = &[
    ("name", "displayName"),
    ("surname", "sn"),
    ("firstname", "givenName"),
    ("jobtitle", "title"),
    ("email", "mail"),
    ("phone:work", "telephoneNumber"),
    ("phone:mobile", "mobile"),
    ("phone:workfax", "facsimileTelephoneNumber"),
    ("street", "street"),
    ("zipcode", "postalCode"),
    ("region", "st"),
    ("locality", "l"),
    ("country", "c"),
    ("organization", "o"),
    ("department", "ou"),
    ("notes", "description"),
];

fn attr(field: &str) -> &'static str {
    FIELDMAP
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("no fieldmap for {field}"))
}

/// `rcube_utils::tokenize_string($value, 1)`.
fn tokenize(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || ";,\"'/+-".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `rcube_ldap::search` for `contactlist_fields` in mode 0, then `extended_search`'s AND with the
/// configured filter.
fn autocomplete_filter(config_filter: &str, typed: &str) -> String {
    let attrs: Vec<&str> = ["name", "firstname", "surname", "email"]
        .iter()
        .map(|f| attr(f))
        .collect();
    let groups: Vec<String> = tokenize(typed)
        .iter()
        .map(|w| {
            let parts: String = attrs.iter().map(|a| format!("({a}=*{w}*)")).collect();
            format!("(|{parts})")
        })
        .collect();
    let search = if groups.len() > 1 {
        format!("(&{})", groups.concat())
    } else {
        groups.concat()
    };
    let inner = config_filter.trim_start_matches('(').trim_end_matches(')');
    format!("(&({inner}){search})")
}

fn requested_attributes() -> Vec<&'static str> {
    let mut v: Vec<&str> = FIELDMAP.iter().map(|(_, a)| *a).collect();
    v.push("objectClass");
    v
}

#[test]
fn roundcube_filter_building() {
    assert_eq!(
        tokenize("nic-br"),
        vec!["nic".to_string(), "br".to_string()]
    );
    assert_eq!(
        autocomplete_filter("(objectClass=cctldContact)", "Marta"),
        "(&(objectClass=cctldContact)(|(displayName=*Marta*)(givenName=*Marta*)(sn=*Marta*)(mail=*Marta*)))"
    );
}

/// The composer's recipient autocompletion against the guide's `ldap_public` entry: StartTLS
/// (`tls://`), bind with `bind_dn`/`bind_pass`, `vlv` left on to show what ccdir answers to
/// Net_LDAP3's VLV discovery, then the search with the fieldmap's attributes.
#[test]
fn roundcube_autocomplete_and_record() {
    let s = directory();
    let mut c = reader_starttls(&s);

    // Net_LDAP3::find_vlv_indexes_and_searches: ccdir has no cn=config, so the search fails,
    // Net_LDAP3 caches "no VLV index" and searches without VLV.
    let f = search(
        &mut c,
        Request {
            base: "cn=config",
            scope: Scope::Subtree,
            filter: "(objectclass=vlvsearch)",
            attrs: &["*"],
            size_limit: 0,
            time_limit: 0,
            controls: vec![],
        },
    );
    assert_eq!(f.rc(), 32);

    let attrs = requested_attributes();
    // The guide's `sizelimit` is 100; Roundcube's default is 0 (the server's limit).
    let run_limit = |c: &mut LdapConn, filter: &str, size_limit: i32| {
        search(
            c,
            Request {
                base: REGISTRIES,
                scope: Scope::Subtree,
                filter,
                attrs: &attrs,
                size_limit,
                time_limit: 0,
                controls: vec![],
            },
        )
    };

    let run = |c: &mut LdapConn, filter: &str| run_limit(c, filter, 100);

    // "nic-br" is two words for Roundcube: nic AND br.
    let f = run(
        &mut c,
        &autocomplete_filter("(objectClass=cctldContact)", "nic-br"),
    );
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_TEAM) && f.has(BR_PERSON), "{:?}", f.dns());

    // _ldap2result: the record behind "Incident response .br <security@nic-br.example>".
    let t = f.entry(BR_TEAM);
    assert_eq!(field(t, attr("name")), Some("Incident response .br"));
    assert_eq!(field(t, attr("email")), Some("security@nic-br.example"));
    assert_eq!(
        field(t, attr("organization")),
        Some("Registry of .br (example)")
    );
    assert_eq!(field(t, attr("phone:work")), Some("+55 11 2345-6743"));
    assert_eq!(field(t, attr("phone:workfax")), Some("+55 11 5555 0177"));
    assert_eq!(field(t, attr("street")), Some("Rua Exemplo 100"));
    assert_eq!(field(t, attr("locality")), Some("São Paulo"));
    assert_eq!(field(t, attr("zipcode")), Some("04500-000"));
    assert_eq!(field(t, attr("region")), Some("SP"));
    assert_eq!(field(t, attr("country")), Some("BR"));
    assert!(
        !values(t, "objectClass").is_empty(),
        "objectClass is requested too"
    );
    let p = f.entry(BR_PERSON);
    assert_eq!(field(p, attr("name")), Some("Marta Ferreira"));
    assert_eq!(
        field(p, attr("jobtitle")),
        Some("Information Security Manager")
    );
    assert_eq!(field(p, attr("phone:mobile")), Some("+55 11 96123-4520"));

    // Opening the contact: rcube_ldap::get_record -> Net_LDAP3::get_entry, a base read of the
    // DN with `(objectclass=*)` and the same attributes.
    let f = search(
        &mut c,
        Request {
            base: BR_TEAM,
            scope: Scope::Base,
            filter: "(objectclass=*)",
            attrs: &attrs,
            size_limit: 0,
            time_limit: 0,
            controls: vec![],
        },
    );
    assert_eq!(f.rc(), 0);
    assert_eq!(
        field(f.entry(BR_TEAM), attr("name")),
        Some("Incident response .br")
    );

    // The ccTLD as typed: ".br" is in the team's displayName.
    let f = run(
        &mut c,
        &autocomplete_filter("(objectClass=cctldContact)", ".br"),
    );
    assert!(f.has(BR_TEAM), "{:?}", f.dns());

    // With the default filter (objectClass=inetOrgPerson) the teams are missing: the guide
    // sets `filter` to (objectClass=cctldContact).
    let f = run(
        &mut c,
        &autocomplete_filter("(objectClass=inetOrgPerson)", "nic-br"),
    );
    assert!(f.has(BR_PERSON) && !f.has(BR_TEAM), "{:?}", f.dns());

    // Listing the whole address book (no search, `searchonly` false) asks for every contact:
    // the server's default size limit (500) cuts it with sizeLimitExceeded; the guide sets
    // `searchonly` => true.
    let f = run_limit(&mut c, "(objectClass=cctldContact)", 0);
    assert_eq!(f.rc(), 4);
    assert_eq!(f.entries.len(), 500);
}

/// `hosts => ['ldap.example:389']` without `tls://`: the bind with `bind_pass` in the clear is
/// refused; Roundcube then shows no results for this address book.
#[test]
fn roundcube_without_tls_cannot_bind() {
    let s = directory();
    let mut c = s.conn();
    let r = c.simple_bind(READER, READER_PW).expect("bind");
    assert_eq!(r.rc, 13);
}

/// The contact list with VLV: Net_LDAP3 takes a `vlv` array as the VLV index description (its
/// kolab.conf form, `find_vlv_indexes_and_searches`), so the guide's
/// `'vlv' => [['ou=registries,dc=cctld-ir,dc=example' => ['scope' => 'sub', 'filter' =>
/// '(objectclass=cctldcontact)', 'sort' => [['displayname']]]]]` makes Roundcube page the list
/// with a sort control (non-critical) and a critical VLV request: beforeCount 0, afterCount
/// page size - 1, byOffset (page - 1) * page size + 1, contentCount 0
/// (`_vlv_set_controls`, `_vlv_ber_encode`).
#[test]
fn roundcube_list_pages_with_vlv() {
    let s = directory();
    let mut c = reader_starttls(&s);
    let attrs = requested_attributes();
    let page = |c: &mut LdapConn, n: i64| {
        search(
            c,
            Request {
                base: REGISTRIES,
                scope: Scope::Subtree,
                filter: "(objectClass=cctldContact)",
                attrs: &attrs,
                size_limit: 0,
                time_limit: 0,
                controls: vec![
                    sort_control(&["displayname"], false),
                    vlv_control(
                        0,
                        49,
                        VlvTarget::ByOffset {
                            offset: (n - 1) * 50 + 1,
                            content_count: 0,
                        },
                        None,
                    ),
                ],
            },
        )
    };
    let mut seen = Vec::new();
    for n in 1..=2 {
        let f = page(&mut c, n);
        assert_eq!(f.rc(), 0, "page {n}: {}", f.result.text);
        assert_eq!(f.entries.len(), 50, "page {n}");
        let (pos, count, code, _) =
            parse_vlv_response(f.control(OID_VLV_RESPONSE).expect("VLV response"));
        assert_eq!((pos, code), ((n - 1) * 50 + 1, 0));
        assert_eq!(count, sample_contacts());
        seen.extend(
            f.entries
                .iter()
                .map(|e| field(e, "displayName").unwrap_or("").to_lowercase()),
        );
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "two pages in displayName order");
}
