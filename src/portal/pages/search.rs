//! GET /?q=: the start page, a search for ccTLDs (by A-label, Unicode form or registry name)
//! and contacts (by name or e-mail address, or by phone number when the text is one), as the
//! logged-in person may read them.

use super::super::auth::User;
use super::super::error::PortalError;
use super::super::reader::{contains, eq, Reader};
use super::super::view::{html, ContactHit, RegistryHit, SearchPage};
use super::super::Portal;
use crate::tools::offline::first;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ldap3_proto::proto::{LdapFilter, LdapSearchScope};
use serde::Deserialize;

/// Longest search text, in characters.
const MAX_QUERY: usize = 100;
/// Most registries, and most contacts, one search shows.
const MAX_HITS: i32 = 50;

#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Text of digits (at least three), `+`, spaces and `-().`: a phone number.
fn is_number(q: &str) -> bool {
    q.chars().filter(char::is_ascii_digit).count() >= 3
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

const PHONES: [&str; 4] = [
    "telephoneNumber",
    "mobile",
    "cctldEmergencyTelephoneNumber",
    "facsimileTelephoneNumber",
];

struct Hits {
    registries: Vec<RegistryHit>,
    contacts: Vec<ContactHit>,
    more: bool,
}

fn run(reader: &Reader<'_>, q: &str) -> Result<Hits, PortalError> {
    let mut hits = Hits {
        registries: Vec::new(),
        contacts: Vec::new(),
        more: false,
    };
    let Some(base) = reader.dir().registries() else {
        return Ok(hits);
    };
    let base = base.display();
    let search = |filter: LdapFilter| match reader.search(
        base,
        LdapSearchScope::Subtree,
        filter,
        &["*"],
        MAX_HITS,
    ) {
        Ok(f) => Ok(f),
        Err(e) => match PortalError::from(e) {
            PortalError::NotFound => Ok(Default::default()),
            other => Err(other),
        },
    };
    let contact_filter = if is_number(q) {
        LdapFilter::Or(PHONES.iter().map(|a| contains(a, q)).collect())
    } else {
        let mut any = vec![contains("o", q)];
        if let Some(tld) = super::tld_of(q) {
            any.push(super::by_tld(&tld));
        }
        let found = search(LdapFilter::And(vec![
            eq("objectClass", "cctldRegistry"),
            LdapFilter::Or(any),
        ]))?;
        hits.more |= found.more;
        for e in &found.entries {
            let domain = first(e, "associatedDomain");
            let u = first(e, "cctldULabel");
            hits.registries.push(RegistryHit {
                label: if u.is_empty() {
                    format!(".{domain}")
                } else {
                    format!(".{domain} (.{u})")
                },
                tld: domain,
                name: first(e, "o"),
                country: first(e, "co"),
            });
        }
        LdapFilter::Or(
            ["cn", "displayName", "mail"]
                .iter()
                .map(|a| contains(a, q))
                .collect(),
        )
    };
    let found = search(LdapFilter::And(vec![
        eq("objectClass", "cctldContact"),
        contact_filter,
    ]))?;
    hits.more |= found.more;
    for e in &found.entries {
        let matched = if is_number(q) {
            PHONES
                .iter()
                .flat_map(|a| crate::tools::offline::all(e, a))
                .next()
                .unwrap_or_default()
        } else {
            first(e, "mail")
        };
        hits.contacts.push(ContactHit {
            tld: first(e, "associatedDomain"),
            name: crate::tools::roster::name_of(e),
            title: first(e, "title"),
            matched,
        });
    }
    hits.registries.sort_by(|a, b| a.tld.cmp(&b.tld));
    Ok(hits)
}

pub(crate) async fn page(
    State(p): State<Portal>,
    user: User,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PortalError> {
    let q = query.q.trim().to_string();
    let mut page = SearchPage {
        layout: user.layout(),
        q: q.clone(),
        searched: false,
        registries: Vec::new(),
        contacts: Vec::new(),
        more: false,
        message: String::new(),
    };
    if q.chars().count() > MAX_QUERY {
        page.q = q.chars().take(MAX_QUERY).collect();
        page.message = format!("The search text is longer than {MAX_QUERY} characters.");
        return Ok(html(StatusCode::BAD_REQUEST, &page));
    }
    if !q.is_empty() {
        let dir = p.dir.clone();
        let u = user.clone();
        let q2 = q.clone();
        let hits = tokio::task::spawn_blocking(move || run(&u.reader(&dir), &q2)).await?;
        match hits {
            Ok(h) => {
                page.searched = true;
                page.registries = h.registries;
                page.contacts = h.contacts;
                page.more = h.more;
            }
            Err(PortalError::BadRequest(m)) => page.message = m,
            Err(e) => return Err(e),
        }
    }
    Ok(html(StatusCode::OK, &page))
}
