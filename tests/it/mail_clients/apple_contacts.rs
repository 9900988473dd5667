//! Apple Contacts and Mail on macOS (docs/clients/apple-contacts.md). Apple publishes no source
//! for its LDAP client; the settings are documented in Apple's Contacts User Guide ("Add an LDAP
//! account": server address, port, "Use SSL", search base, scope Base / One Level / Subtree,
//! authentication None / Simple with user name and password) and in Apple's device-management
//! reference for the LDAP account payload (developer.apple.com/documentation/devicemanagement/ldap:
//! LDAPAccountHostName, LDAPAccountUseSSL, LDAPAccountUserName, LDAPSearchSettings with
//! LDAPSearchSettingSearchBase and LDAPSearchSettingScope). "Use SSL" is LDAPS; Contacts has no
//! StartTLS setting.
//!
//! What Contacts sends for a search is not documented: the filter below (prefix matches of the
//! typed text on the name and mail attributes, ORed) and the attribute list (the contact fields
//! Contacts fills from an LDAP entry) follow the behaviour administrators report. The tests pin
//! what ccdir returns for them and how the entries fill a card.

use super::*;

const ATTRS: &[&str] = &[
    "cn",
    "givenName",
    "sn",
    "displayName",
    "mail",
    "telephoneNumber",
    "facsimileTelephoneNumber",
    "mobile",
    "homePhone",
    "pager",
    "o",
    "ou",
    "title",
    "street",
    "l",
    "st",
    "postalCode",
    "c",
    "co",
    "jpegPhoto",
    "labeledURI",
    "description",
];

fn find(c: &mut LdapConn, typed: &str, scope: Scope) -> Found {
    let filter = format!("(|(cn={typed}*)(givenName={typed}*)(sn={typed}*)(mail={typed}*))");
    search(
        c,
        Request {
            base: REGISTRIES,
            scope,
            filter: &filter,
            attrs: ATTRS,
            size_limit: 0,
            time_limit: 0,
            controls: vec![],
        },
    )
}

/// Contacts > Settings > Accounts > LDAP with "Use SSL" (port 636), authentication Simple, search
/// base ou=registries, scope Subtree. Typing in the search field of the LDAP account's list.
#[test]
fn apple_contacts_search_fills_a_card() {
    let s = directory();
    let mut c = reader_ldaps(&s);

    let f = find(&mut c, "marta", Scope::Subtree);
    assert_eq!(f.rc(), 0);
    assert!(f.has(BR_PERSON), "{:?}", f.dns());
    let p = f.entry(BR_PERSON);
    // First / last name, company, job title, work e-mail, work / mobile / work fax phones, work
    // address (street, city, state, ZIP, country).
    assert_eq!(field(p, "givenName"), Some("Marta"));
    assert_eq!(field(p, "sn"), Some("Ferreira"));
    assert_eq!(field(p, "o"), Some("Registry of .br (example)"));
    assert_eq!(field(p, "title"), Some("Information Security Manager"));
    assert_eq!(field(p, "mail"), Some("marta.ferreira@nic-br.example"));
    assert_eq!(field(p, "telephoneNumber"), Some("+55 11 2345-6731"));
    assert_eq!(field(p, "mobile"), Some("+55 11 96123-4520"));
    assert_eq!(
        field(p, "facsimileTelephoneNumber"),
        Some("+55 11 5555 0177")
    );
    assert_eq!(field(p, "street"), Some("Rua Exemplo 100"));
    assert_eq!(field(p, "l"), Some("São Paulo"));
    assert_eq!(field(p, "st"), Some("SP"));
    assert_eq!(field(p, "postalCode"), Some("04500-000"));
    assert_eq!(field(p, "c"), Some("BR"));

    // The team: a card with no first/last name shows cn as the name and o as the company.
    let f = find(&mut c, "security@nic-br", Scope::Subtree);
    assert_eq!(f.dns(), vec![BR_TEAM.to_lowercase()]);
    let t = f.entry(BR_TEAM);
    assert_eq!(field(t, "cn"), Some("incident-response"));
    assert_eq!(field(t, "o"), Some("Registry of .br (example)"));
    assert_eq!(field(t, "telephoneNumber"), Some("+55 11 2345-6743"));
    assert_eq!(
        field(t, "facsimileTelephoneNumber"),
        Some("+55 11 5555 0177")
    );

    // Scope One Level from ou=registries reaches only the registry entries, which have no
    // names or mail: the guide says Subtree.
    let f = find(&mut c, "marta", Scope::OneLevel);
    assert_eq!(f.rc(), 0);
    assert!(f.entries.is_empty());
}

/// Authentication "None" is an anonymous bind: ccdir shows anonymous clients nothing but the root
/// DSE and the schema, so the search base does not exist for them.
#[test]
fn apple_contacts_anonymous_sees_nothing() {
    let s = directory();
    let mut c = s.conn_ldaps();
    let f = find(&mut c, "marta", Scope::Subtree);
    assert_eq!(f.rc(), 32);
    assert!(f.entries.is_empty());
}
