//! GET and POST /cctld/{tld}/contact/{uuid}/edit: a contact's channels, changed by the
//! logged-in person through the LDAP write path (writer.rs). A contact the person may not
//! write answers as an absent one (404).

use super::super::auth::{Posted, User};
use super::super::error::PortalError;
use super::super::view::{html, EditField, EditPage};
use super::super::{writer, Portal};
use crate::core::entry::Entry;
use crate::tools::offline::{all, first};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ldap3_proto::proto::LdapResultCode;
use std::collections::HashMap;

/// The editable channels: (attribute, label, several values).
pub(crate) const FIELDS: &[(&str, &str, bool)] = &[
    ("telephoneNumber", "Phone", true),
    ("mobile", "Mobile", true),
    ("cctldEmergencyTelephoneNumber", "Emergency number", true),
    ("facsimileTelephoneNumber", "Fax", true),
    ("mail", "E-mail", true),
    ("cctldMessengerURI", "Messenger URIs", true),
    ("cctldTimeZone", "Time zone", false),
    ("cctldBusinessHours", "Business hours", true),
    ("cctldLanguage", "Languages", true),
];

pub(crate) fn attrs() -> Vec<&'static str> {
    FIELDS.iter().map(|f| f.0).collect()
}

/// The contact `uuid` of the registry `tld` as the person reads it, if the person may write it.
fn writable(p: &Portal, user: &User, tld: &str, uuid: &str) -> Result<Entry, PortalError> {
    let reader = user.reader(&p.dir);
    let roster = super::registry(&reader, tld)?.ok_or(PortalError::NotFound)?;
    let g = roster.registries.first().ok_or(PortalError::NotFound)?;
    let e = g
        .contacts()
        .find(|e| !uuid.is_empty() && first(e, "entryUUID").eq_ignore_ascii_case(uuid))
        .ok_or(PortalError::NotFound)?;
    if !writer::may_write(&p.dir, &user.session.dn, &e.dn, &attrs()) {
        return Err(PortalError::NotFound);
    }
    Ok(e.clone())
}

fn fields(e: &Entry, form: Option<&HashMap<String, String>>, msg: &str) -> Vec<EditField> {
    FIELDS
        .iter()
        .map(|(a, label, multi)| EditField {
            attr: a.to_string(),
            label: label.to_string(),
            multi: *multi,
            value: form
                .and_then(|f| f.get(*a).cloned())
                .unwrap_or_else(|| all(e, a).join("\n")),
            error: msg
                .split("; ")
                .filter(|m| {
                    m.split(':')
                        .next()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(a))
                })
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect()
}

fn page(
    user: &User,
    tld: &str,
    uuid: &str,
    e: &Entry,
    fs: Vec<EditField>,
    msg: String,
) -> EditPage {
    EditPage {
        layout: user.layout(),
        tld: tld.to_string(),
        uuid: uuid.to_string(),
        name: crate::tools::roster::name_of(e),
        csrf: user.session.csrf.clone(),
        fields: fs,
        message: msg,
    }
}

pub(crate) async fn form(
    State(p): State<Portal>,
    user: User,
    Path((tld, uuid)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    let u = user.clone();
    let (t, id) = (tld.clone(), uuid.clone());
    let e = tokio::task::spawn_blocking(move || writable(&p, &u, &t, &id)).await??;
    let fs = fields(&e, None, "");
    Ok(html(
        StatusCode::OK,
        &page(&user, &tld, &uuid, &e, fs, String::new()),
    ))
}

pub(crate) async fn save(
    State(p): State<Portal>,
    Path((tld, uuid)): Path<(String, String)>,
    posted: Posted<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let Posted { user, form } = posted;
    let u = user.clone();
    let (t, id) = (tld.clone(), uuid.clone());
    let f = form.clone();
    let done = tokio::task::spawn_blocking(move || {
        let e = writable(&p, &u, &t, &id)?;
        let mut changes = Vec::new();
        for (a, _, _) in FIELDS {
            let Some(text) = f.get(*a) else { continue };
            let vals: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            if vals != all(&e, a) {
                changes.push((a.to_string(), vals));
            }
        }
        if changes.is_empty() {
            return Ok(Ok(()));
        }
        match writer::replace(&p.dir, &u.session.dn, &u.peer, &e.dn, changes) {
            Ok(()) => Ok(Ok(())),
            Err(err) => match err.code {
                LdapResultCode::ConstraintViolation
                | LdapResultCode::InvalidAttributeSyntax
                | LdapResultCode::ObjectClassViolation => Ok(Err((e, err.message))),
                _ => Err(PortalError::from(err)),
            },
        }
    })
    .await??;
    match done {
        Ok(()) => Ok(Redirect::to(&format!(
            "/cctld/{}",
            url::form_urlencoded::byte_serialize(tld.as_bytes()).collect::<String>()
        ))
        .into_response()),
        Err((e, msg)) => {
            let fs = fields(&e, Some(&form), &msg);
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(&user, &tld, &uuid, &e, fs, msg),
            ))
        }
    }
}

/// POST /cctld/{tld}/confirm: the registry confirms its data is still correct
/// (`cctldVerificationStatus: confirmed`, docs/operations/freshness.md) on every contact the
/// person may confirm. None: as an absent page.
pub(crate) async fn confirm(
    State(p): State<Portal>,
    Path(tld): Path<String>,
    posted: Posted<HashMap<String, String>>,
) -> Result<Response, PortalError> {
    let user = posted.user;
    let t = tld.clone();
    tokio::task::spawn_blocking(move || {
        let reader = user.reader(&p.dir);
        let roster = super::registry(&reader, &t)?.ok_or(PortalError::NotFound)?;
        let g = roster.registries.first().ok_or(PortalError::NotFound)?;
        let status = crate::freshness::STATUS;
        let mut done = 0;
        for e in g.contacts() {
            if !writer::may_write(&p.dir, &user.session.dn, &e.dn, &[status]) {
                continue;
            }
            let vals = vec![crate::freshness::CONFIRMED.to_string()];
            writer::replace(
                &p.dir,
                &user.session.dn,
                &user.peer,
                &e.dn,
                vec![(status.to_string(), vals)],
            )?;
            done += 1;
        }
        if done == 0 {
            return Err(PortalError::NotFound);
        }
        Ok(())
    })
    .await??;
    Ok(Redirect::to(&format!(
        "/cctld/{}",
        url::form_urlencoded::byte_serialize(tld.as_bytes()).collect::<String>()
    ))
    .into_response())
}
