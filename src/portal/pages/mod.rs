//! The pages: `search` (the start page: ccTLDs and contacts by ccTLD, name or number),
//! `cctld` (a registry and its contacts), `vcard` (downloads). Each runs its searches as the
//! logged-in person off the async runtime. The registry's own pages: `contacts` (add and
//! remove a contact), `history` (its verification records), `roster` (the printable roster).

pub(crate) mod admin;
pub(crate) mod admin_accounts;
pub(crate) mod admin_list;
pub(crate) mod admin_reports;
pub(crate) mod cctld;
pub(crate) mod challenge;
pub(crate) mod contacts;
pub(crate) mod edit;
pub(crate) mod history;
pub(crate) mod invite;
pub(crate) mod links;
pub(crate) mod onboard;
pub(crate) mod roster;
pub(crate) mod search;
pub(crate) mod vcard;
pub(crate) mod verify;

use super::error::PortalError;
use super::reader::{eq, Reader};
use crate::tools::roster::Roster;
use ldap3_proto::proto::{LdapFilter, LdapSearchScope};

/// Most contacts read for one registry's page.
const MAX_CONTACTS: i32 = 500;

/// A ccTLD as written in a URL or a search: without a leading dot, lower case; None when it
/// cannot be one (empty, or longer than a DNS label in A-label or Unicode form can be).
pub(crate) fn tld_of(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix('.').unwrap_or(t).to_lowercase();
    (!t.is_empty() && t.len() <= 253 && !t.contains(['/', '\\'])).then_some(t)
}

/// The filter item for a ccTLD: an ASCII one is the A-label (`associatedDomain`, indexed), any
/// other the Unicode form (`cctldULabel`). One item, so an index narrows the search.
pub(crate) fn by_tld(tld: &str) -> LdapFilter {
    if tld.is_ascii() {
        eq("associatedDomain", tld)
    } else {
        eq("cctldULabel", tld)
    }
}

/// One registry, by its ccTLD (A-label or Unicode form), with the contacts below it, as the
/// person may read them; None when there is none the person may see (absent and unreadable
/// alike).
pub(crate) fn registry(reader: &Reader<'_>, tld: &str) -> Result<Option<Roster>, PortalError> {
    let Some(tld) = tld_of(tld) else {
        return Ok(None);
    };
    let Some(base) = reader.dir().registries() else {
        return Ok(None);
    };
    let filter = LdapFilter::And(vec![eq("objectClass", "cctldRegistry"), by_tld(&tld)]);
    let found = match reader.search(base.display(), LdapSearchScope::OneLevel, filter, &["*"], 1) {
        Ok(f) => f,
        Err(e) => return none_if_not_found(e),
    };
    let Some(reg) = found.entries.into_iter().next() else {
        return Ok(None);
    };
    let contacts = match reader.search(
        &reg.dn,
        LdapSearchScope::OneLevel,
        eq("objectClass", "cctldContact"),
        &["*", "entryUUID", "modifyTimestamp"],
        MAX_CONTACTS,
    ) {
        Ok(f) => f.entries,
        Err(e) => return none_if_not_found(e),
    };
    let mut entries = Vec::with_capacity(contacts.len() + 1);
    entries.push(reg);
    entries.extend(contacts);
    Ok(Some(Roster::build(&entries, None)))
}

fn none_if_not_found<T>(e: crate::core::error::LdapError) -> Result<Option<T>, PortalError> {
    match PortalError::from(e) {
        PortalError::NotFound => Ok(None),
        other => Err(other),
    }
}
