//! Mozilla Thunderbird (docs/clients/thunderbird.md). Sources, mozilla/releases-comm-central:
//! - mailnews/addrbook/src/AbLDAPAutoCompleteSearch.sys.mjs, `startSearch`: the default filter
//!   template `(|(cn=*%v1*%v2-*)(mail=*%v*)(givenName=*%v1*)(sn=*%v*))` (pref
//!   `ldap_2.servers.<name>.autoComplete.filterTemplate`), the typed text lower-cased, subtree
//!   scope (`querySubDirectories = true`), size limit `maxHits`;
//! - mailnews/addrbook/modules/LDAPService.sys.mjs, `createFilter`: the %v substitutions;
//! - mailnews/addrbook/modules/LDAPMessage.sys.mjs, `SearchRequest._convertFilterToBlock`: empty
//!   substring components (`**`) are dropped when the filter is encoded;
//! - mailnews/addrbook/modules/LDAPDirectory.sys.mjs: `maxHits` default 100, `authDn` for a
//!   simple bind, `isSecure` = `ldaps` scheme (no StartTLS);
//! - mailnews/addrbook/modules/LDAPDirectoryQuery.sys.mjs, `doQuery`/`_actionOnBindSuccess`: the
//!   filter ANDed with the URL's filter unless that is `(objectclass=*)`, the URL's attribute
//!   list (empty: all user attributes), time limit 0, and sizeLimitExceeded counted as success;
//!   `boolExpressionToFilter`: the address-book search filter;
//! - mailnews/mailnews.js: the default `ldap_2.servers.default.attrmap.*` (card field <- LDAP
//!   attributes) and `mail.addr_book.quicksearchquery.format`;
//! - mailnews/addrbook/modules/LDAPReplicationService.sys.mjs, `_actionOnBindSuccess` and
//!   `_onLDAPSearchResult`: "Download now" (offline use) searches the URL's base, scope, filter
//!   and attributes with size and time limit 0, and takes sizeLimitExceeded as success;
//! - mailnews/addrbook/src/AbLDAPAttributeMap.sys.mjs, `setCardPropertiesFromLDAPMessage`: a
//!   field takes the first listed attribute present, and its first value.

use super::*;

/// Thunderbird's `LDAPService.createFilter` (pattern substitutions only; prefix, suffix and
/// `%a` are empty/unused for address-book searches). Thunderbird does not escape the value.
fn create_filter(pattern: &str, value: &str) -> String {
    let words: Vec<&str> = value.split(' ').collect();
    let m_to_n = |m: usize, n: usize| -> String {
        let from = m.saturating_sub(1).min(words.len());
        let to = n.min(words.len()).max(from);
        words[from..to].join(" ")
    };
    let mut filter = String::new();
    let mut pattern = pattern;
    while !pattern.is_empty() {
        let Some(index) = pattern.find("%v") else {
            filter.push_str(pattern);
            break;
        };
        filter.push_str(&pattern[..index]);
        let rest: Vec<char> = pattern[index + 2..].chars().take(3).collect();
        let digit = |c: Option<&char>| c.and_then(|c| c.to_digit(10)).filter(|d| *d >= 1);
        match (digit(rest.first()), rest.get(1)) {
            (Some(_), Some('$')) => {
                filter.push_str(&m_to_n(words.len(), words.len()));
                pattern = &pattern[index + 3..];
            }
            (Some(m), Some('-')) => match digit(rest.get(2)) {
                Some(n) => {
                    filter.push_str(&m_to_n(m as usize, n as usize));
                    pattern = &pattern[index + 5..];
                }
                None => {
                    filter.push_str(&m_to_n(m as usize, words.len()));
                    pattern = &pattern[index + 4..];
                }
            },
            (Some(m), _) => {
                filter.push_str(&m_to_n(m as usize, m as usize));
                pattern = &pattern[index + 3..];
            }
            (None, _) => {
                filter.push_str(value);
                pattern = &pattern[index + 2..];
            }
        }
    }
    filter
}

/// What goes on the wire: Thunderbird's encoder splits a substring value on `*` and skips the
/// empty parts, so `*incident**` is sent as the single "any" component `incident`.
fn wire(filter: &str) -> String {
    let mut f = filter.to_string();
    while f.contains("**") {
        f = f.replace("**", "*");
    }
    f
}

const AUTOCOMPLETE_TEMPLATE: &str = "(|(cn=*%v1*%v2-*)(mail=*%v*)(givenName=*%v1*)(sn=*%v*))";

/// `ldap_2.servers.default.attrmap.*` from mailnews/mailnews.js (the fields this guide shows).
const ATTRMAP: &[(&str, &str)] = &[
    ("DisplayName", "cn,commonname"),
    ("FirstName", "givenName"),
    ("LastName", "sn,surname"),
    ("PrimaryEmail", "mail"),
    ("Company", "o,company"),
    ("Department", "ou,department,departmentnumber,orgunit"),
    ("JobTitle", "title"),
    ("WorkPhone", "telephoneNumber"),
    ("FaxNumber", "facsimiletelephonenumber,fax"),
    ("CellularNumber", "mobile,cellphone,carphone"),
    ("WorkAddress", "street,streetaddress,postOfficeBox"),
    ("WorkCity", "l,locality"),
    ("WorkState", "st,region"),
    ("WorkZipCode", "postalCode,zip"),
    ("WorkCountry", "c,countryname"),
    ("Notes", "description,notes"),
    ("WebPage1", "mozillaWorkUrl,workurl,labeledURI"),
];

fn card<'a>(e: &'a SearchEntry, prop: &str) -> Option<&'a str> {
    let attrs = ATTRMAP
        .iter()
        .find(|(p, _)| *p == prop)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("no attrmap for {prop}"));
    field(e, attrs)
}

/// The autocomplete popup: "DisplayName <mail>" per card and mail address, sorted
/// (`AbLDAPAutoCompleteSearch._addToResult`).
fn popup(found: &Found, display_name_attrs: &str) -> Vec<String> {
    let mut rows: Vec<String> = found
        .entries
        .iter()
        .flat_map(|e| {
            let name = field(e, display_name_attrs).unwrap_or("").to_string();
            values(e, "mail")
                .into_iter()
                .map(move |m| format!("{name} <{m}>"))
        })
        .collect();
    rows.sort();
    rows.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    rows
}

/// docs/clients/thunderbird.md's `autoComplete.filterTemplate`: also the display name.
const GUIDE_TEMPLATE: &str =
    "(|(cn=*%v1*%v2-*)(displayName=*%v*)(mail=*%v*)(givenName=*%v1*)(sn=*%v*))";

/// The autocomplete search for what the user typed into a To: field.
fn autocomplete(c: &mut LdapConn, typed: &str) -> Found {
    autocomplete_with(c, AUTOCOMPLETE_TEMPLATE, typed)
}

fn autocomplete_with(c: &mut LdapConn, template: &str, typed: &str) -> Found {
    let typed = typed.to_lowercase();
    let filter = wire(&create_filter(template, &typed));
    search(
        c,
        Request {
            base: REGISTRIES,
            scope: Scope::Subtree,
            filter: &filter,
            attrs: &[],
            size_limit: 100,
            time_limit: 0,
            controls: vec![],
        },
    )
}

#[test]
fn thunderbird_filter_template_expansion() {
    assert_eq!(
        create_filter(AUTOCOMPLETE_TEMPLATE, "incident"),
        "(|(cn=*incident**)(mail=*incident*)(givenName=*incident*)(sn=*incident*))"
    );
    assert_eq!(
        wire(&create_filter(AUTOCOMPLETE_TEMPLATE, "marta ferr")),
        "(|(cn=*marta*ferr*)(mail=*marta ferr*)(givenName=*marta*)(sn=*marta ferr*))"
    );
    assert_eq!(create_filter("(cn=%v2-3)", "a b c d"), "(cn=b c)");
    // `%vN$` gives the last word but, as in Thunderbird's code, leaves the `$` in place.
    assert_eq!(create_filter("(cn=%v1$)", "a b c"), "(cn=c$)");
}

/// Compose window, To: field. Thunderbird connects with LDAPS ("Use secure connection (SSL)"),
/// binds with the Bind DN and its password, and sends the autocomplete filter with maxHits 100 and
/// no attribute list. Sources: AbLDAPAutoCompleteSearch.sys.mjs `startSearch`,
/// LDAPDirectoryQuery.sys.mjs `_actionOnBindSuccess`, LDAPService.sys.mjs `createFilter`.
#[test]
fn thunderbird_autocomplete_finds_teams_and_people() {
    let s = directory();
    let mut c = reader_ldaps(&s);

    // The team of .br, by the mail domain the user remembers.
    let f = autocomplete(&mut c, "nic-br");
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_TEAM) && f.has(BR_PERSON), "{:?}", f.dns());
    let rows = popup(&f, "cn,commonname");
    assert!(
        rows.contains(&"incident-response <security@nic-br.example>".to_string()),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"Marta Ferreira <marta.ferreira@nic-br.example>".to_string()),
        "{rows:?}"
    );
    // With the guide's `attrmap.DisplayName = displayName,cn` the team names its ccTLD.
    let rows = popup(&f, "displayName,cn");
    assert!(
        rows.contains(&"Incident response .br <security@nic-br.example>".to_string()),
        "{rows:?}"
    );

    // With the guide's optional Search filter `(objectClass=cctldContact)`, doQuery sends
    // `(&<url filter><autocomplete filter>)`.
    let inner = wire(&create_filter(AUTOCOMPLETE_TEMPLATE, "nic-br"));
    let f = search(
        &mut c,
        Request {
            base: REGISTRIES,
            scope: Scope::Subtree,
            filter: &format!("(&(objectClass=cctldContact){inner})"),
            attrs: &[],
            size_limit: 100,
            time_limit: 0,
            controls: vec![],
        },
    );
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_TEAM) && f.has(BR_PERSON), "{:?}", f.dns());

    // The guide's filter template finds the team by its ccTLD.
    // (and people whose mail has ".br" in it, such as amelia.brown@...).
    let f = autocomplete_with(&mut c, GUIDE_TEMPLATE, ".br");
    assert_eq!(f.rc(), 0);
    let teams: Vec<String> = f
        .dns()
        .into_iter()
        .filter(|d| d.starts_with("cn=incident-response,"))
        .collect();
    assert_eq!(teams, vec![BR_TEAM.to_lowercase()]);

    // A person by first name and the start of the last name (two words: %v1 and %v2-).
    let f = autocomplete(&mut c, "Marta Ferr");
    assert_eq!(f.rc(), 0);
    assert_eq!(f.dns(), vec![BR_PERSON.to_lowercase()]);

    // Names beyond ASCII: Thunderbird lower-cases with toLocaleLowerCase, ccdir matches
    // case-insensitively in Unicode. Mathieu Lefèvre and Huda Benali (whose cn has an Arabic
    // value too) of .ac.
    let mathieu = "uid=4daa4a1a-5f98-5ef5-8460-7209f30beb39,associatedDomain=ac,ou=registries,dc=cctld-ir,dc=example";
    let huda = "uid=4a5e92de-d186-5e9a-aba4-14aaaa21ecfb,associatedDomain=ac,ou=registries,dc=cctld-ir,dc=example";
    let f = autocomplete(&mut c, "MATHIEU LEFÈVRE");
    assert_eq!(f.rc(), 0);
    assert!(f.has(mathieu), "{:?}", f.dns());
    let f = autocomplete(&mut c, "هدى");
    assert!(f.has(huda), "{:?}", f.dns());
    assert!(
        popup(&f, "cn,commonname")
            .contains(&"Huda Benali <huda.benali@nic-ac.example>".to_string()),
        "{:?}",
        popup(&f, "cn,commonname")
    );

    // "incident" matches every team (cn=incident-response): more than maxHits. The server
    // returns the first 100 and sizeLimitExceeded, which Thunderbird shows as a result.
    let f = autocomplete(&mut c, "incident");
    assert_eq!(f.rc(), 4, "sizeLimitExceeded");
    assert_eq!(f.entries.len(), 100);
    assert!(f.entries.iter().all(|e| !values(e, "mail").is_empty()));
}

/// Address book window, search box, and the contact card. The quick search expands
/// `mail.addr_book.quicksearchquery.format` (mailnews.js) and `boolExpressionToFilter`
/// (LDAPDirectoryQuery.sys.mjs) maps each card field to the first attribute of its attrmap
/// entry; fields without a mapping (IsMailList) drop out. Card fields come from
/// `setCardPropertiesFromLDAPMessage` (AbLDAPAttributeMap.sys.mjs).
#[test]
fn thunderbird_address_book_search_and_card() {
    let s = directory();
    let mut c = reader_ldaps(&s);
    let v = "registry of .br";
    let filter = format!(
        "(|(cn=*{v}*)(givenName=*{v}*)(sn=*{v}*)(mozillaNickname=*{v}*)(mail=*{v}*)\
         (mozillaSecondEmail=*{v}*)(&(description=*{v}*))(o=*{v}*)(ou=*{v}*)(title=*{v}*)\
         (mozillaWorkUrl=*{v}*)(mozillaHomeUrl=*{v}*))"
    );
    let f = search(
        &mut c,
        Request {
            base: REGISTRIES,
            scope: Scope::Subtree,
            filter: &filter,
            attrs: &[],
            size_limit: 100,
            time_limit: 0,
            controls: vec![],
        },
    );
    // Attributes unknown to the schema (mozillaNickname, ...) are Undefined, not an error.
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_TEAM) && f.has(BR_PERSON), "{:?}", f.dns());

    let team = f.entry(BR_TEAM);
    assert_eq!(card(team, "DisplayName"), Some("incident-response"));
    assert_eq!(card(team, "Company"), Some("Registry of .br (example)"));
    assert_eq!(card(team, "PrimaryEmail"), Some("security@nic-br.example"));
    assert_eq!(card(team, "WorkPhone"), Some("+55 11 2345-6743"));
    assert_eq!(card(team, "FaxNumber"), Some("+55 11 5555 0177"));
    assert_eq!(card(team, "WorkAddress"), Some("Rua Exemplo 100"));
    assert_eq!(card(team, "WorkCity"), Some("São Paulo"));
    assert_eq!(card(team, "WorkState"), Some("SP"));
    assert_eq!(card(team, "WorkZipCode"), Some("04500-000"));
    assert_eq!(card(team, "WorkCountry"), Some("BR"));
    assert_eq!(
        card(team, "Notes"),
        Some("24/7 incident-response contact point of .br (fictional)")
    );
    assert_eq!(card(team, "JobTitle"), None, "a team has no title");

    let person = f.entry(BR_PERSON);
    assert_eq!(card(person, "DisplayName"), Some("Marta Ferreira"));
    assert_eq!(card(person, "FirstName"), Some("Marta"));
    assert_eq!(card(person, "LastName"), Some("Ferreira"));
    assert_eq!(
        card(person, "JobTitle"),
        Some("Information Security Manager")
    );
    assert_eq!(card(person, "Company"), Some("Registry of .br (example)"));
    assert_eq!(
        card(person, "PrimaryEmail"),
        Some("marta.ferreira@nic-br.example")
    );
    assert_eq!(card(person, "WorkPhone"), Some("+55 11 2345-6731"));
    assert_eq!(card(person, "CellularNumber"), Some("+55 11 96123-4520"));
    assert_eq!(card(person, "FaxNumber"), Some("+55 11 5555 0177"));
    assert_eq!(card(person, "WorkCity"), Some("São Paulo"));
}

/// Thunderbird has no StartTLS for LDAP: without "Use secure connection" it binds in the clear
/// on ldap://, which ccdir refuses (confidentialityRequired), and the guide says to use LDAPS.
#[test]
fn thunderbird_without_ssl_is_refused_a_password_bind() {
    let s = directory();
    let mut c = s.conn();
    let r = c.simple_bind(READER, READER_PW).expect("bind");
    assert_eq!(r.rc, 13, "confidentialityRequired: {}", r.text);
    // Anonymous (no Bind DN) gets nothing but the root DSE: the search base is hidden.
    let f = autocomplete(&mut c, "nic-br");
    assert_eq!(f.rc(), 32, "noSuchObject for anonymous");
    assert!(f.entries.is_empty());
}

/// Offline use ("Download now"): one search of everything the address book's URL names, with no
/// size limit from the client. ccdir then applies its default (`limits.size_limit`, 500), and
/// Thunderbird keeps the truncated copy as if complete; with the limit raised to
/// `limits.size_limit_max` (5000) the copy is whole. Source: LDAPReplicationService.sys.mjs.
#[test]
fn thunderbird_offline_download_needs_a_larger_size_limit() {
    let replicate = |s: &TestServer| {
        let mut c = reader_ldaps(s);
        search(
            &mut c,
            Request {
                base: REGISTRIES,
                scope: Scope::Subtree,
                filter: "(objectclass=*)",
                attrs: &[],
                size_limit: 0,
                time_limit: 0,
                controls: vec![],
            },
        )
    };
    let s = directory();
    let f = replicate(&s);
    assert_eq!(
        f.rc(),
        4,
        "sizeLimitExceeded, which Thunderbird treats as done"
    );
    assert_eq!(f.entries.len(), 500);
    drop(s);

    let s = directory_with(|c| c.limits.size_limit = 5000);
    let f = replicate(&s);
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_TEAM) && f.has(BR_PERSON));
    assert!(
        f.entries.len() as i64 > sample_contacts(),
        "{}",
        f.entries.len()
    );
}

/// Typing on: each keystroke stops the running search (`AbLDAPAutoCompleteSearch.stopSearch` ->
/// `LDAPDirectoryQuery.stopQuery` -> `abandonExt`) and starts the next on the same connection.
#[test]
fn thunderbird_abandons_the_search_of_the_previous_keystroke() {
    let s = directory();
    let mut c = reader_ldaps(&s);
    let filter = wire(&create_filter(AUTOCOMPLETE_TEMPLATE, "in"));
    let mut stream = c
        .with_search_options(SearchOptions::new().sizelimit(100))
        .streaming_search(REGISTRIES, Scope::Subtree, &filter, Vec::<&str>::new())
        .expect("search");
    assert!(stream.next().expect("first entry").is_some());
    let id = stream.last_id();
    drop(stream);
    c.abandon(id).expect("abandon");
    let f = autocomplete(&mut c, "nic-br");
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_TEAM), "{:?}", f.dns());
}
