//! Microsoft Outlook for Windows (docs/clients/outlook.md). Outlook's source is not public; what
//! these tests replay comes from Microsoft's documentation:
//! - "Configure LDAP options in Outlook 2007" (Office Resource Kit, learn.microsoft.com,
//!   previous-versions/office/office-2007-resource-kit/cc179232): directory browsing is Virtual
//!   List View (VLV) searching, off by default ("Enable Browsing (requires server support)"), and
//!   the search filter can be replaced by a custom one;
//! - "Add or remove an address book" / "Internet Directory Service (LDAP)" settings (Outlook help):
//!   server name, "This server requires me to log on" (user name and password: a simple bind;
//!   "Log on using Secure Password Authentication (SPA)" is NTLM), port, "Use Secure Sockets Layer"
//!   (LDAPS, there is no StartTLS setting), search timeout (default 60 s), "Maximum number of
//!   entries you want returned" (default 100), custom search base.
//!
//! The name-resolution filter below is the one administrators report as Outlook's default (it
//! is not in Microsoft's published documentation), and the attribute list is the set of
//! attributes behind Outlook's property pages for an LDAP entry. Neither is a specification: the
//! tests pin what ccdir returns for them.

use super::*;

/// Outlook's default search filter; `%s` is what the user typed.
const FILTER: &str = "(&(mail=*)(|(mail=%s*)(|(cn=%s*)(|(sn=%s*)(givenName=%s*)))))";

/// The attributes behind Outlook's General, Phone/Notes and Organization tabs for an LDAP entry.
const ATTRS: &[&str] = &[
    "cn",
    "commonName",
    "displayName",
    "givenName",
    "sn",
    "mail",
    "title",
    "o",
    "company",
    "department",
    "ou",
    "physicalDeliveryOfficeName",
    "telephoneNumber",
    "facsimileTelephoneNumber",
    "mobile",
    "pager",
    "homePhone",
    "postalAddress",
    "streetAddress",
    "street",
    "l",
    "st",
    "postalCode",
    "c",
    "co",
    "info",
    "description",
];

fn resolve(c: &mut LdapConn, typed: &str) -> Found {
    let filter = FILTER.replace("%s", typed);
    search(
        c,
        Request {
            base: REGISTRIES,
            scope: Scope::Subtree,
            filter: &filter,
            attrs: ATTRS,
            size_limit: 100,
            time_limit: 60,
            controls: vec![],
        },
    )
}

/// Check Names / the Address Book's search: LDAPS ("Use Secure Sockets Layer", port 636),
/// simple bind with the user name (a DN) and password, the default filter, at most 100 entries
/// within 60 s. Source: Microsoft, "Configure LDAP options in Outlook 2007" and Outlook's LDAP
/// account settings (see the module comment).
#[test]
fn outlook_check_names_finds_team_and_person() {
    let s = directory();
    let mut c = reader_ldaps(&s);

    let f = resolve(&mut c, "Ferreira");
    assert_eq!(f.rc(), 0);
    assert_eq!(f.dns(), vec![BR_PERSON.to_lowercase()]);
    let p = f.entry(BR_PERSON);
    // Display name, E-mail, Title, Company, Business phone, Mobile, Business fax, Address.
    assert_eq!(field(p, "displayName,cn"), Some("Marta Ferreira"));
    assert_eq!(field(p, "mail"), Some("marta.ferreira@nic-br.example"));
    assert_eq!(field(p, "title"), Some("Information Security Manager"));
    assert_eq!(field(p, "company,o"), Some("Registry of .br (example)"));
    assert_eq!(field(p, "telephoneNumber"), Some("+55 11 2345-6731"));
    assert_eq!(field(p, "mobile"), Some("+55 11 96123-4520"));
    assert_eq!(
        field(p, "facsimileTelephoneNumber"),
        Some("+55 11 5555 0177")
    );
    assert_eq!(field(p, "streetAddress,street"), Some("Rua Exemplo 100"));
    assert_eq!(field(p, "l"), Some("São Paulo"));
    assert_eq!(field(p, "postalCode"), Some("04500-000"));
    assert_eq!(field(p, "c"), Some("BR"));

    // The team by its address, and by its name.
    let f = resolve(&mut c, "security@nic-br");
    assert_eq!(f.rc(), 0);
    assert_eq!(f.dns(), vec![BR_TEAM.to_lowercase()]);
    let t = f.entry(BR_TEAM);
    assert_eq!(field(t, "displayName,cn"), Some("Incident response .br"));
    assert_eq!(field(t, "company,o"), Some("Registry of .br (example)"));
    assert_eq!(field(t, "telephoneNumber"), Some("+55 11 2345-6743"));
    assert_eq!(
        field(t, "facsimileTelephoneNumber"),
        Some("+55 11 5555 0177")
    );
    assert!(field(t, "postalAddress").is_some_and(|a| a.contains("Rua Exemplo 100")));

    let f = resolve(&mut c, "incident");
    assert_eq!(f.rc(), 4, "more teams than the 100 Outlook asks for");
    assert_eq!(f.entries.len(), 100);
}

/// "Use Secure Password Authentication (SPA)" makes Outlook authenticate with NTLM (a SASL
/// GSS-SPNEGO/NTLM bind), which ccdir does not offer: the root DSE lists no such mechanism, so
/// the guide says to leave SPA off. Without SSL, a password bind is refused.
#[test]
fn outlook_spa_and_plain_ldap_are_not_offered() {
    let s = directory();
    let mut c = s.conn();
    let dse = root_dse(&mut c, &["supportedSASLMechanisms", "supportedLDAPVersion"]);
    assert!(values(&dse, "supportedSASLMechanisms")
        .iter()
        .all(|m| !m.eq_ignore_ascii_case("GSS-SPNEGO") && !m.eq_ignore_ascii_case("NTLM")));
    assert_eq!(values(&dse, "supportedLDAPVersion"), vec!["3"]);
    let r = c.simple_bind(READER, READER_PW).expect("bind");
    assert_eq!(r.rc, 13, "confidentialityRequired on plain LDAP");
}

/// "Enable Browsing (requires server support)": Outlook lists the directory page by page with
/// server-side sorting (RFC 2891) and Virtual List View (draft-ietf-ldapext-ldapv3-vlv-09), and
/// typing in the list jumps with a greaterThanOrEqual target. Source: Microsoft, "Configure LDAP
/// options in Outlook 2007" (directory browsing = VLV searches). Neither the sort key nor the
/// filter Outlook sends when browsing is documented; the list is ordered by display name here,
/// over the entries with a mail address.
#[test]
fn outlook_browse_with_vlv_and_sort() {
    let s = directory();
    let mut c = reader_ldaps(&s);
    let dse = root_dse(&mut c, &["supportedControl"]);
    let ctrls = values(&dse, "supportedControl");
    assert!(ctrls.contains(&OID_VLV_REQUEST), "{ctrls:?}");
    assert!(ctrls.contains(&OID_SORT_REQUEST), "{ctrls:?}");

    // The first page: 50 entries from offset 1, sorted by displayName.
    let page = |c: &mut LdapConn, target: VlvTarget<'_>, ctx: Option<&[u8]>| {
        search(
            c,
            Request {
                base: REGISTRIES,
                scope: Scope::Subtree,
                filter: "(&(mail=*)(displayName=*))",
                attrs: ATTRS,
                size_limit: 0,
                time_limit: 60,
                controls: vec![
                    sort_control(&["displayName"], true),
                    vlv_control(0, 49, target, ctx),
                ],
            },
        )
    };
    let f = page(
        &mut c,
        VlvTarget::ByOffset {
            offset: 1,
            content_count: 0,
        },
        None,
    );
    assert_eq!(f.rc(), 0, "{}", f.result.text);
    assert_eq!(f.entries.len(), 50);
    let names: Vec<String> = f
        .entries
        .iter()
        .map(|e| field(e, "displayName").unwrap_or("").to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "pages come sorted by displayName");
    let sort = f.control(OID_SORT_RESPONSE).expect("sort response control");
    assert_eq!(parse_sort_response(sort), 0);
    let vlv = f.control(OID_VLV_RESPONSE).expect("VLV response control");
    let (pos, count, code, ctx) = parse_vlv_response(vlv);
    assert_eq!((pos, code), (1, 0));
    assert_eq!(
        count,
        sample_contacts(),
        "every contact with a mail address"
    );

    // Typing "Incident response .br" jumps to the .br team.
    let f = page(
        &mut c,
        VlvTarget::GreaterThanOrEqual("Incident response .br"),
        ctx.as_deref(),
    );
    assert_eq!(f.rc(), 0, "{}", f.result.text);
    assert_eq!(
        f.entries.first().map(|e| e.dn.to_lowercase()),
        Some(BR_TEAM.to_lowercase())
    );
}
