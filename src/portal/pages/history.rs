//! GET /cctld/{tld}/history?page=N: the registry's verification history, the
//! `cctldVerificationRecord` entries below its `ou=history` (write/history.rs), newest first,
//! 50 a page: method, result, who, when (UTC and the contact's local time), note.
//!
//! Read as the person with a server-side sort (newest `entryCSN` first), so a page costs one
//! search of at most `page * 50 + 1` entries. Those who may not read the records (under the
//! shipped policy: all but the registry's admins, the verifiers and the directory admins) get
//! the 404 an absent registry gets.

use super::super::auth::User;
use super::super::error::PortalError;
use super::super::reader::{eq, Reader};
use super::super::view::{html, Layout};
use super::super::{writer, Portal};
use crate::core::entry::Entry;
use crate::ops::controls::{RequestControls, SortKey, SortRequest};
use crate::tools::offline::first;
use crate::tools::roster::{name_of, tz, Roster};
use crate::write::history::{CONTACT, CONTACT_UUID, HISTORY_RDN, RECORD_CLASS, RECORD_ID};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ldap3_proto::proto::LdapSearchScope;
use serde::Deserialize;
use std::collections::HashMap;

/// Records a page shows.
pub(crate) const PAGE: usize = 50;
/// The last page one may ask for (the newest 5,000 records).
pub(crate) const MAX_PAGE: usize = 100;

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page: Option<String>,
}

/// One record as the page shows it.
pub(crate) struct Row {
    /// When it was recorded, e.g. `2026-12-01 09:00 UTC`.
    pub(crate) utc: String,
    /// The contact's local time then, e.g. `Tue 2026-12-01 06:00 -03`; empty without a zone.
    pub(crate) local: String,
    pub(crate) contact: String,
    pub(crate) method: String,
    pub(crate) result: String,
    pub(crate) by: String,
    pub(crate) note: String,
}

#[derive(Template)]
#[template(path = "portal/history.html")]
pub(crate) struct HistoryPage {
    pub(crate) layout: Layout,
    pub(crate) tld: String,
    pub(crate) label: String,
    pub(crate) rows: Vec<Row>,
    pub(crate) page: usize,
    pub(crate) previous: Option<usize>,
    pub(crate) next: Option<usize>,
}

/// The page number asked for: 1 without one; None when it is not a number in 1 ..= MAX_PAGE.
pub(crate) fn page_number(q: Option<&str>) -> Option<usize> {
    match q {
        None | Some("") => Some(1),
        Some(t) => t
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n)),
    }
}

/// The DN's first RDN value, for a contact or person no longer readable.
fn rdn_value(dn: &str) -> String {
    let rdn = dn.split(',').next().unwrap_or(dn);
    rdn.split_once('=').map(|x| x.1).unwrap_or(rdn).to_string()
}

/// The name of the entry `dn` as the person reads it (cached), or its RDN value.
fn name_by_dn(reader: &Reader<'_>, cache: &mut HashMap<String, String>, dn: &str) -> String {
    if dn.is_empty() {
        return String::new();
    }
    if let Some(n) = cache.get(dn) {
        return n.clone();
    }
    let name = reader
        .search(
            dn,
            LdapSearchScope::Base,
            ldap3_proto::proto::LdapFilter::Present("objectClass".into()),
            &["cn", "displayName"],
            1,
        )
        .ok()
        .and_then(|f| f.entries.into_iter().next())
        .map(|e| name_of(&e))
        .unwrap_or_else(|| rdn_value(dn));
    cache.insert(dn.to_string(), name.clone());
    name
}

fn row(
    reader: &Reader<'_>,
    roster: &Roster,
    cache: &mut HashMap<String, String>,
    r: &Entry,
) -> Row {
    let g = roster.registries.first();
    let uuid = first(r, CONTACT_UUID);
    let contact = g.and_then(|g| {
        g.contacts()
            .find(|c| !uuid.is_empty() && first(c, "entryUUID").eq_ignore_ascii_case(&uuid))
    });
    let when = crate::freshness::parse_gtime(first(r, "createTimestamp").as_bytes());
    let zone = contact
        .map(|c| first(c, "cctldTimeZone"))
        .unwrap_or_default();
    let local = when
        .and_then(|t| tz::local_time(&zone, t))
        .map(|l| l.2)
        .unwrap_or_default();
    Row {
        utc: when.map(crate::core::clock::minute_utc).unwrap_or_default(),
        local,
        contact: contact
            .map(name_of)
            .unwrap_or_else(|| rdn_value(&first(r, CONTACT))),
        method: first(r, crate::freshness::METHOD),
        result: first(r, crate::freshness::STATUS),
        by: name_by_dn(reader, cache, &first(r, crate::freshness::VERIFIED_BY)),
        note: crate::tools::offline::all(r, crate::freshness::NOTE).join(" "),
    }
}

/// May the person read the verification records of the registry `reg_dn` (the access rules'
/// own answer, for a record there)?
pub(crate) fn may_read(p: &Portal, user: &User, reg_dn: &str) -> bool {
    let mut probe = Entry::new(format!("{RECORD_ID}=probe,{HISTORY_RDN},{reg_dn}"));
    probe.set(
        "objectClass",
        vec![b"top".to_vec(), RECORD_CLASS.as_bytes().to_vec()],
    );
    writer::may_read(&p.dir, &user.session.dn, &probe)
}

fn load(p: &Portal, user: &User, tld: &str, page: usize) -> Result<HistoryPage, PortalError> {
    let reader = user.reader(&p.dir);
    let roster = super::registry(&reader, tld)?.ok_or(PortalError::NotFound)?;
    let g = roster.registries.first().ok_or(PortalError::NotFound)?;
    let base = format!("{HISTORY_RDN},{}", g.entry.dn);
    if !may_read(p, user, &g.entry.dn) {
        return Err(PortalError::NotFound);
    }
    let ctrls = RequestControls {
        sort: Some(SortRequest {
            keys: vec![SortKey {
                attr: "entryCSN".into(),
                ordering_rule: None,
                reverse: true,
            }],
            critical: true,
        }),
        ..Default::default()
    };
    let skip = (page - 1) * PAGE;
    let limit = i32::try_from(skip + PAGE + 1).unwrap_or(i32::MAX);
    let found = match reader.search_with(
        &base,
        LdapSearchScope::OneLevel,
        eq("objectClass", RECORD_CLASS),
        &["*", "createTimestamp"],
        limit,
        &ctrls,
    ) {
        Ok(f) => f,
        // No record yet: no ou=history either.
        Err(e) if e.code == ldap3_proto::proto::LdapResultCode::NoSuchObject => Default::default(),
        Err(e) => return Err(e.into()),
    };
    let more = found.more || found.entries.len() > skip + PAGE;
    let mut cache = HashMap::new();
    let rows = found
        .entries
        .iter()
        .skip(skip)
        .take(PAGE)
        .map(|r| row(&reader, &roster, &mut cache, r))
        .collect();
    Ok(HistoryPage {
        layout: user.layout(),
        tld: g.domain.clone(),
        label: g.label(),
        rows,
        page,
        previous: (page > 1).then(|| page - 1),
        next: (more && page < MAX_PAGE).then_some(page + 1),
    })
}

pub(crate) async fn page(
    State(p): State<Portal>,
    user: User,
    Path(tld): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PortalError> {
    let n = page_number(q.page.as_deref()).ok_or_else(|| {
        PortalError::BadRequest(format!("The page must be a number from 1 to {MAX_PAGE}."))
    })?;
    let u = user.clone();
    let view = tokio::task::spawn_blocking(move || load(&p, &u, &tld, n)).await??;
    Ok(html(StatusCode::OK, &view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_bounded() {
        assert_eq!(page_number(None), Some(1));
        assert_eq!(page_number(Some("")), Some(1));
        assert_eq!(page_number(Some("3")), Some(3));
        assert_eq!(page_number(Some("0")), None);
        assert_eq!(page_number(Some("101")), None);
        assert_eq!(page_number(Some("-1")), None);
        assert_eq!(page_number(Some("99999999999999999999999")), None);
        assert_eq!(page_number(Some("x")), None);
    }

    #[test]
    fn rdn_values() {
        assert_eq!(rdn_value("uid=ana,associatedDomain=br,dc=x"), "ana");
        assert_eq!(rdn_value("odd"), "odd");
    }
}
