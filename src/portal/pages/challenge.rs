//! GET and POST /challenge/{token}: the e-mail challenge's page (../challenges.rs mails the
//! link). No login: the token is the credential. GET shows one button and changes nothing
//! (mail scanners fetch links); POST, with the page's form token, uses the link once and
//! records a verification by e-mail as the configured recorder.

use super::super::challenges;
use super::super::error::PortalError;
use super::super::Portal;
use super::links::{self, LinkPage};
use crate::service::Directory;
use crate::store::onetime::{self, Link, Purpose, Use};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;

/// The challenge under `token`, when it can still be answered; else the page saying why.
fn open(dir: &Directory, token: &str) -> Result<Result<Link, (StatusCode, LinkPage)>, PortalError> {
    let found = match onetime::key_of(token) {
        Some(key) => dir
            .store
            .onetime_get(&key)
            .map_err(|e| PortalError::Internal(e.to_string()))?,
        None => None,
    };
    Ok(match found {
        Some(l) if l.purpose == Purpose::EmailChallenge => {
            if l.used.is_some() {
                Err(over(Use::Used))
            } else if l.expired(links::now(dir)) {
                Err(over(Use::Expired(l)))
            } else {
                Ok(l)
            }
        }
        _ => Err(over(Use::Unknown)),
    })
}

fn over(u: Use) -> (StatusCode, LinkPage) {
    match u {
        Use::Used => (
            StatusCode::GONE,
            LinkPage::text(
                "This address is confirmed already",
                &["The link was used, and the check is recorded. Nothing more to do; thank you."],
            ),
        ),
        Use::Expired(_) => (
            StatusCode::GONE,
            LinkPage::text(
                "This link has expired",
                &["It was not used in time, so the check is recorded as failed. Nothing was changed now; the registry's admins will be asked to check the address."],
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            LinkPage::text(
                "This link is not valid",
                &["The link is not one of ours, or it was mistyped or cut off (copy the whole link from the mail). Nothing was changed."],
            ),
        ),
    }
}

fn button_page(token: &str, l: &Link, csrf: String) -> LinkPage {
    let mut p = LinkPage::text(
        "Confirm your e-mail address",
        &[
            &format!(
                "{} is listed as an incident-response contact in the ccTLD incident-response directory. Press the button to confirm that this address is read.",
                l.mail
            ),
            &format!("The link works once, until {}.", links::utc(l.expires)),
        ],
    );
    p.action = format!("/challenge/{token}");
    p.button = "Confirm this address".into();
    p.csrf = csrf;
    p
}

/// GET /challenge/{token}: the button; the link stays unused.
pub(crate) async fn page(
    State(p): State<Portal>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let (d, t) = (p.dir.clone(), token.clone());
    match tokio::task::spawn_blocking(move || open(&d, &t)).await?? {
        Ok(l) => {
            let (csrf, set) = links::form_token(&headers);
            Ok(links::page(
                StatusCode::OK,
                &button_page(&token, &l, csrf),
                set,
            ))
        }
        Err((status, page)) => Ok(links::page(status, &page, None)),
    }
}

/// POST /challenge/{token}: use the link once and record the verification.
pub(crate) async fn answer(
    State(p): State<Portal>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| PortalError::BadRequest(format!("The form is not valid: {e}")))?;
    let posted = form.get("csrf").map(String::as_str).unwrap_or("");
    if !links::token_ok(&headers, posted) {
        return Err(PortalError::Forbidden(
            "The form has no valid token: open the link from the mail again.",
        ));
    }
    let d = p.dir.clone();
    let (status, page) =
        tokio::task::spawn_blocking(move || -> Result<(StatusCode, LinkPage), PortalError> {
            let Some(key) = onetime::key_of(&token) else {
                return Ok(over(Use::Unknown));
            };
            let now = links::now(&d);
            let l = match d.store.onetime_use(&key, Purpose::EmailChallenge, now) {
                Ok(Use::Taken(l)) => l,
                Ok(other) => return Ok(over(other)),
                Err(e) => return Err(PortalError::Internal(e.to_string())),
            };
            match challenges::record(&d, &key, &l, true, "link followed") {
                Ok(()) => {
                    tracing::info!(challenge = %links::link_id(&key), dn = %l.target,
                    "e-mail challenge answered");
                    Ok((
                        StatusCode::OK,
                        LinkPage::text(
                            "Thank you: the address is confirmed",
                            &[&format!(
                                "The check of {} is recorded. Nothing more to do.",
                                l.mail
                            )],
                        ),
                    ))
                }
                Err(e) => {
                    d.store
                        .onetime_release(&key)
                        .map_err(|e| PortalError::Internal(e.to_string()))?;
                    Err(PortalError::Internal(format!(
                        "recording the challenge of {}: {}",
                        l.target, e.message
                    )))
                }
            }
        })
        .await??;
    Ok(links::page(status, &page, None))
}
