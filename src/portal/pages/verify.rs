//! The verifiers' queue (docs/portal.md, "The verifiers' queue"), only for the recorders (the
//! members of `[freshness] recorders`, by default `cn=verifiers,ou=groups,<suffix>`); anyone
//! else gets 403 on every /verify page, before anything is read, so the answer says nothing
//! about the contacts.
//!
//! - GET /verify: contacts overdue, due within `within` days (default `freshness.warn_days`) or
//!   confirmed by their registry, across registries, today's calls first (queue.rs), a page at
//!   a time, each with a form to record a verification;
//! - GET and POST /verify/contact/{uuid}: one contact's form; the POST records the verification
//!   with the LDAP modify a verifier would send (writer.rs), as the verifier;
//! - GET /verify/plan: the month's checks per channel, due against recorded.
//!
//! Every search is an indexed one: `cctldVerificationDue` (a range of its index), the history
//! records by `createTimestamp` (a range of its index), contacts by `entryUUID`.

use super::super::auth::{Posted, User};
use super::super::error::PortalError;
use super::super::queue::{self, PlanLine, Row};
use super::super::reader::{eq, Reader};
use super::super::view::{html, Layout};
use super::super::{writer, Portal};
use crate::acl::Identity;
use crate::core::clock::generalized_time;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::freshness::{self, Method};
use crate::service::Directory;
use crate::tools::offline::first;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ldap3_proto::proto::{LdapFilter, LdapResultCode, LdapSearchScope};
use serde::Deserialize;
use std::collections::HashSet;
use time::OffsetDateTime;

/// Most contacts one queue search reads (the server's `limits.size_limit_max` may lower it).
const MAX_DUE: i32 = 5000;
/// Most confirmation records read for the queue, and contacts looked up per search by them.
const MAX_CONFIRMATIONS: i32 = 1000;
const UUIDS_PER_SEARCH: usize = 50;
/// Most history records read for the month's plan.
const MAX_RECORDS: i32 = 5000;
/// Longest note (the schema's bound on `cctldVerificationNote`).
const MAX_NOTE: usize = 1024;

const NOT_RECORDER: &str = "The verifiers' queue is for the verifiers: the members of the \
     groups that may record verifications ([freshness] recorders).";

/// May `who` record verifications: a member of a recorder group (the write pipeline's own
/// test, crate::write::pipeline), or the directory's administrator.
pub(crate) fn is_recorder(dir: &Directory, who: &Dn) -> bool {
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let identity = Identity::User(who.clone());
    let acl = dir.policy.checker(&identity, &snap, &dir.schema);
    dir.config
        .freshness
        .recorder_groups(dir.suffix.display())
        .iter()
        .filter_map(|g| dir.parse_dn(g).ok())
        .any(|g| acl.in_group(&g))
}

fn recorder(dir: &Directory, user: &User) -> Result<(), PortalError> {
    if is_recorder(dir, &user.session.dn) {
        Ok(())
    } else {
        Err(PortalError::Forbidden(NOT_RECORDER))
    }
}

/// A search below the registries as the verifier; nothing when there are none.
fn below_registries(
    reader: &Reader<'_>,
    filter: LdapFilter,
    attrs: &[&str],
    limit: i32,
) -> Result<(Vec<Entry>, bool), PortalError> {
    let Some(base) = reader.dir().registries() else {
        return Ok((Vec::new(), false));
    };
    match reader.search(
        base.display(),
        LdapSearchScope::Subtree,
        filter,
        attrs,
        limit,
    ) {
        Ok(f) => Ok((f.entries, f.more)),
        Err(e) if e.code == LdapResultCode::NoSuchObject => Ok((Vec::new(), false)),
        Err(e) => Err(e.into()),
    }
}

fn contacts_due_by(
    reader: &Reader<'_>,
    by: OffsetDateTime,
    attrs: &[&str],
) -> Result<(Vec<Entry>, bool), PortalError> {
    let filter = LdapFilter::And(vec![
        eq("objectClass", "cctldContact"),
        LdapFilter::LessOrEqual(freshness::DUE.into(), generalized_time(by)),
    ]);
    below_registries(reader, filter, attrs, MAX_DUE)
}

/// Contacts whose registry confirmed their data and that are not due yet: found through the
/// confirmation records of the last `interval_months` (an older confirmation without a check
/// since has left its contact overdue, so it is among the due ones), then by `entryUUID`.
fn confirmed(
    reader: &Reader<'_>,
    at: OffsetDateTime,
    listed: &HashSet<String>,
) -> Result<(Vec<Entry>, bool), PortalError> {
    let months = i64::from(reader.dir().config.freshness.interval_months);
    let since = at - time::Duration::days(31 * months);
    let filter = LdapFilter::And(vec![
        eq("objectClass", crate::write::history::RECORD_CLASS),
        LdapFilter::GreaterOrEqual("createTimestamp".into(), generalized_time(since)),
        eq(freshness::STATUS, freshness::CONFIRMED),
    ]);
    let (records, more) = below_registries(
        reader,
        filter,
        &[crate::write::history::CONTACT_UUID],
        MAX_CONFIRMATIONS,
    )?;
    let mut uuids: Vec<String> = records
        .iter()
        .map(|r| first(r, crate::write::history::CONTACT_UUID).to_ascii_lowercase())
        .filter(|u| !u.is_empty() && !listed.contains(u))
        .collect();
    uuids.sort();
    uuids.dedup();
    let mut out = Vec::new();
    for chunk in uuids.chunks(UUIDS_PER_SEARCH) {
        let filter = LdapFilter::And(vec![
            eq("objectClass", "cctldContact"),
            LdapFilter::Or(chunk.iter().map(|u| eq("entryUUID", u)).collect()),
        ]);
        let (found, _) = below_registries(reader, filter, queue::ATTRS, UUIDS_PER_SEARCH as i32)?;
        out.extend(
            found
                .into_iter()
                .filter(|e| first(e, freshness::STATUS) == freshness::CONFIRMED),
        );
    }
    Ok((out, more))
}

/// The recording form's values and the server's word on each.
#[derive(Debug, Default, Clone)]
pub(crate) struct FormState {
    pub(crate) method: String,
    pub(crate) result: String,
    pub(crate) note: String,
    pub(crate) method_error: String,
    pub(crate) result_error: String,
    pub(crate) note_error: String,
    pub(crate) error: String,
}

impl FormState {
    fn for_row(r: &Row) -> FormState {
        FormState {
            method: r.next.to_string(),
            result: "verified".into(),
            ..FormState::default()
        }
    }

    /// The channels and results the form offers.
    pub(crate) fn methods(&self) -> &'static [&'static str] {
        &METHODS
    }

    pub(crate) fn results(&self) -> &'static [&'static str] {
        &RESULTS
    }

    fn has_errors(&self) -> bool {
        !(self.method_error.is_empty()
            && self.result_error.is_empty()
            && self.note_error.is_empty()
            && self.error.is_empty())
    }
}

/// The channels a form offers, and the results.
pub(crate) const METHODS: [&str; 5] = ["voice", "email", "fax", "chat", "letter"];
pub(crate) const RESULTS: [&str; 2] = ["verified", "failed"];

#[derive(Template)]
#[template(path = "portal/verify.html")]
pub(crate) struct QueuePage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    pub(crate) now_utc: String,
    pub(crate) within: u32,
    pub(crate) rows: Vec<(Row, FormState)>,
    pub(crate) total: usize,
    pub(crate) page: usize,
    pub(crate) pages: usize,
    /// More contacts matched than one search returns.
    pub(crate) more: bool,
    pub(crate) message: String,
}

#[derive(Template)]
#[template(path = "portal/verify_contact.html")]
pub(crate) struct ContactPage {
    pub(crate) layout: Layout,
    pub(crate) csrf: String,
    pub(crate) now_utc: String,
    pub(crate) r: Row,
    pub(crate) f: FormState,
}

#[derive(Template)]
#[template(path = "portal/verify_plan.html")]
pub(crate) struct PlanPage {
    pub(crate) layout: Layout,
    pub(crate) now_utc: String,
    /// `2026-12`.
    pub(crate) month: String,
    pub(crate) lines: Vec<PlanLine>,
    pub(crate) confirmations: usize,
    pub(crate) open_total: usize,
    pub(crate) verified_total: usize,
    pub(crate) failed_total: usize,
    pub(crate) more: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    page: String,
    #[serde(default)]
    within: String,
    #[serde(default)]
    recorded: String,
}

/// GET /verify
pub(crate) async fn page(
    State(p): State<Portal>,
    user: User,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let u = user.clone();
    let within = q
        .within
        .trim()
        .parse::<u32>()
        .unwrap_or(dir.config.freshness.warn_days)
        .min(366);
    let wanted = q.page.trim().parse::<usize>().unwrap_or(1);
    let (rows, at, total, page, pages, more) = tokio::task::spawn_blocking(move || {
        recorder(&dir, &u)?;
        let at = dir.clock.now();
        let reader = u.reader(&dir);
        let horizon = at + time::Duration::days(i64::from(within));
        let (mut entries, more_due) = contacts_due_by(&reader, horizon, queue::ATTRS)?;
        let listed: HashSet<String> = entries
            .iter()
            .map(|e| first(e, "entryUUID").to_ascii_lowercase())
            .collect();
        let (confirmed, more_confirmed) = confirmed(&reader, at, &listed)?;
        entries.extend(confirmed);
        let mut rows: Vec<Row> = entries.iter().map(|e| queue::row(e, at)).collect();
        queue::sort(&mut rows);
        let total = rows.len();
        let (rows, page, pages) = queue::page(rows, wanted);
        Ok::<_, PortalError>((rows, at, total, page, pages, more_due || more_confirmed))
    })
    .await??;
    let message = match q.recorded.as_str() {
        "verified" => "The verification was recorded: the contact is verified.",
        "failed" => "The failed check was recorded: the contact stays due.",
        _ => "",
    };
    Ok(html(
        StatusCode::OK,
        &QueuePage {
            layout: user.layout(),
            csrf: user.session.csrf.clone(),
            now_utc: crate::core::clock::minute_utc(at),
            within,
            rows: rows
                .into_iter()
                .map(|r| {
                    let f = FormState::for_row(&r);
                    (r, f)
                })
                .collect(),
            total,
            page,
            pages,
            more,
            message: message.into(),
        },
    ))
}

/// The contact with this `entryUUID`, below the registries, as the verifier reads it.
fn contact(reader: &Reader<'_>, uuid: &str) -> Result<Entry, PortalError> {
    let ok = uuid.len() == 36 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if !ok {
        return Err(PortalError::NotFound);
    }
    let filter = LdapFilter::And(vec![
        eq("objectClass", "cctldContact"),
        eq("entryUUID", uuid),
    ]);
    let (found, _) = below_registries(reader, filter, queue::ATTRS, 1)?;
    found.into_iter().next().ok_or(PortalError::NotFound)
}

fn contact_page(user: &User, at: OffsetDateTime, r: Row, f: FormState) -> ContactPage {
    ContactPage {
        layout: user.layout(),
        csrf: user.session.csrf.clone(),
        now_utc: crate::core::clock::minute_utc(at),
        r,
        f,
    }
}

/// GET /verify/contact/{uuid}
pub(crate) async fn form(
    State(p): State<Portal>,
    user: User,
    Path(uuid): Path<String>,
) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let u = user.clone();
    let (r, at) = tokio::task::spawn_blocking(move || {
        recorder(&dir, &u)?;
        let at = dir.clock.now();
        let e = contact(&u.reader(&dir), &uuid)?;
        Ok::<_, PortalError>((queue::row(&e, at), at))
    })
    .await??;
    let f = FormState::for_row(&r);
    Ok(html(StatusCode::OK, &contact_page(&user, at, r, f)))
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct RecordForm {
    #[serde(default)]
    method: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    note: String,
}

/// The form checked before anything is written: the errors next to their fields.
fn check(form: &RecordForm) -> FormState {
    let mut f = FormState {
        method: form.method.trim().to_ascii_lowercase(),
        result: form.result.trim().to_ascii_lowercase(),
        note: form.note.trim().to_string(),
        ..FormState::default()
    };
    if Method::parse(&f.method).is_none() {
        f.method_error = "Choose the channel used: voice, email, fax, chat or letter.".into();
    }
    if !RESULTS.contains(&f.result.as_str()) {
        f.result_error = "Choose the result: verified or failed.".into();
    }
    if f.note.chars().count() > MAX_NOTE {
        f.note_error = format!("At most {MAX_NOTE} characters.");
    } else if f.note.chars().any(|c| c.is_control()) {
        f.note_error = "One line of text, without control characters.".into();
    }
    f
}

/// The server's refusal, next to the field it names.
fn place_error(f: &mut FormState, message: &str) {
    let starts = |a: &str| {
        message
            .get(..a.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(a))
    };
    if starts(freshness::METHOD) {
        f.method_error = message.to_string();
    } else if starts(freshness::STATUS) {
        f.result_error = message.to_string();
    } else if starts(freshness::NOTE) {
        f.note_error = message.to_string();
    } else {
        f.error = message.to_string();
    }
}

/// POST /verify/contact/{uuid}: record the verification, as the verifier, with the modify an
/// LDAP client sends (docs/operations/freshness.md, "Recording a verification"); the server
/// sets the time, the due date, `cctldVerifiedBy` and the history record.
pub(crate) async fn record(
    State(p): State<Portal>,
    Path(uuid): Path<String>,
    posted: Posted<RecordForm>,
) -> Result<Response, PortalError> {
    let Posted { user, form } = posted;
    let dir = p.dir.clone();
    let u = user.clone();
    let done = tokio::task::spawn_blocking(move || {
        recorder(&dir, &u)?;
        let at = dir.clock.now();
        let e = contact(&u.reader(&dir), &uuid)?;
        let mut f = check(&form);
        if f.has_errors() {
            return Ok(Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                queue::row(&e, at),
                f,
                at,
            )));
        }
        let note = if f.note.is_empty() {
            vec![]
        } else {
            vec![f.note.clone()]
        };
        let changes = vec![
            (freshness::METHOD.to_string(), vec![f.method.clone()]),
            (freshness::STATUS.to_string(), vec![f.result.clone()]),
            (freshness::NOTE.to_string(), note),
        ];
        match writer::replace(&dir, &u.session.dn, &u.peer, &e.dn, changes) {
            Ok(()) => Ok(Ok(f.result)),
            Err(err) => {
                let status = match err.code {
                    LdapResultCode::ConstraintViolation
                    | LdapResultCode::InvalidAttributeSyntax
                    | LdapResultCode::ObjectClassViolation => StatusCode::UNPROCESSABLE_ENTITY,
                    LdapResultCode::InsufficentAccessRights => StatusCode::FORBIDDEN,
                    _ => return Err(PortalError::from(err)),
                };
                place_error(&mut f, &err.message);
                Ok(Err((status, queue::row(&e, at), f, at)))
            }
        }
    })
    .await??;
    match done {
        Ok(result) => Ok(Redirect::to(&format!("/verify?recorded={result}")).into_response()),
        Err((status, r, f, at)) => Ok(html(status, &contact_page(&user, at, r, f))),
    }
}

/// GET /verify/plan
pub(crate) async fn plan(State(p): State<Portal>, user: User) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let u = user.clone();
    let (at, lines, confirmations, more) = tokio::task::spawn_blocking(move || {
        recorder(&dir, &u)?;
        let at = dir.clock.now();
        let (start, end) = queue::month(at);
        let reader = u.reader(&dir);
        let attrs = [
            freshness::NEXT_METHOD,
            freshness::METHOD,
            "telephoneNumber",
            "mobile",
            "cctldEmergencyTelephoneNumber",
            "mail",
            "facsimileTelephoneNumber",
            "cctldMessengerURI",
            "postalAddress",
            "registeredAddress",
            "street",
            "postOfficeBox",
        ];
        let (due, more_due) = contacts_due_by(&reader, end - time::Duration::seconds(1), &attrs)?;
        let filter = LdapFilter::And(vec![
            eq("objectClass", crate::write::history::RECORD_CLASS),
            LdapFilter::GreaterOrEqual("createTimestamp".into(), generalized_time(start)),
        ]);
        let (records, more_records) = below_registries(
            &reader,
            filter,
            &[freshness::METHOD, freshness::STATUS],
            MAX_RECORDS,
        )?;
        let (lines, confirmations) = queue::plan(&due, &records);
        Ok::<_, PortalError>((at, lines, confirmations, more_due || more_records))
    })
    .await??;
    Ok(html(
        StatusCode::OK,
        &PlanPage {
            layout: user.layout(),
            now_utc: crate::core::clock::minute_utc(at),
            month: format!("{:04}-{:02}", at.year(), u8::from(at.month())),
            open_total: lines.iter().map(|l| l.open).sum(),
            verified_total: lines.iter().map(|l| l.verified).sum(),
            failed_total: lines.iter().map(|l| l.failed).sum(),
            lines,
            confirmations,
            more,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(m: &str, r: &str, n: &str) -> RecordForm {
        RecordForm {
            method: m.into(),
            result: r.into(),
            note: n.into(),
        }
    }

    #[test]
    fn the_form_is_checked_before_anything_is_written() {
        let f = check(&form(" Voice ", "verified", " answered "));
        assert!(!f.has_errors());
        assert_eq!((f.method.as_str(), f.note.as_str()), ("voice", "answered"));
        let f = check(&form("pigeon", "maybe", &"x".repeat(MAX_NOTE + 1)));
        assert!(!f.method_error.is_empty());
        assert!(!f.result_error.is_empty());
        assert!(!f.note_error.is_empty());
        let f = check(&form("fax", "failed", "line\nbreak"));
        assert!(!f.note_error.is_empty() && f.method_error.is_empty());
    }

    #[test]
    fn refusals_go_next_to_their_field() {
        let mut f = FormState::default();
        place_error(&mut f, "cctldVerificationMethod: 'x' is not one of voice");
        place_error(&mut f, "cctldVerificationNote: too long");
        place_error(&mut f, "something else");
        assert!(f.method_error.starts_with("cctldVerificationMethod"));
        assert!(f.note_error.starts_with("cctldVerificationNote"));
        assert_eq!(f.error, "something else");
        assert!(f.result_error.is_empty());
    }
}
