//! GET and POST /invite/{token}: the invitation made by onboarding (onboard.rs). No login:
//! the token is the credential. GET shows the password form and uses nothing; POST, with the
//! page's form token, uses the link once and sets the password by the Password Modify
//! operation as the inviting directory admin (its quality rules and hashing; the changelog
//! names the admin), then points to the login.

use super::super::error::PortalError;
use super::super::writer;
use super::super::{Peer, Portal};
use super::links::{self, LinkPage};
use crate::core::error::LdapError;
use crate::ops::Op;
use crate::service::Directory;
use crate::store::onetime::{self, Link, Purpose, Use};
use crate::store::View;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ldap3_proto::proto::{LdapPasswordModifyRequest, LdapResultCode};
use std::collections::HashMap;

/// The invitation under `token` as the page shows it: Ok(link) when it can be used.
fn usable(dir: &Directory, token: &str) -> Result<Result<Link, Gone>, PortalError> {
    let Some(key) = onetime::key_of(token) else {
        return Ok(Err(gone_page(None)));
    };
    let found = dir
        .store
        .onetime_get(&key)
        .map_err(|e| PortalError::Internal(e.to_string()))?;
    match found {
        Some(l) if l.purpose == Purpose::Invitation => {
            if l.used.is_some() {
                Ok(Err(gone_page(Some(Use::Used))))
            } else if l.expired(links::now(dir)) {
                Ok(Err(gone_page(Some(Use::Expired(l)))))
            } else {
                Ok(Ok(l))
            }
        }
        _ => Ok(Err(gone_page(None))),
    }
}

/// A page with its status.
type Gone = (StatusCode, LinkPage);

/// The page of an invitation that cannot be used (None: unknown): 410 when used or expired,
/// 404 when unknown.
fn gone_page(u: Option<Use>) -> Gone {
    match u {
        Some(Use::Used) => {
            let mut p = LinkPage::text(
                "This invitation was used",
                &["The password was set with this link already. Log in with it; if you forgot it, ask a directory admin."],
            );
            p.login = true;
            (StatusCode::GONE, p)
        }
        Some(Use::Expired(_)) => (
            StatusCode::GONE,
            LinkPage::text(
                "This invitation has expired",
                &["Nothing was changed. Ask a directory admin of the ccTLD incident-response directory for a new invitation."],
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            LinkPage::text(
                "This invitation is not valid",
                &["The link is not one of ours, or it was mistyped or cut off (copy the whole link from the mail). Nothing was changed."],
            ),
        ),
    }
}

fn password_page(dir: &Directory, token: &str, l: &Link, csrf: String, error: String) -> LinkPage {
    let mut p = LinkPage::text(
        "Set your password",
        &[
            &format!("Your account: {}.", l.target),
            &format!(
                "This link works once and expires {}. After setting the password, log in with your e-mail address or the account's DN.",
                links::utc(l.expires)
            ),
        ],
    );
    p.action = format!("/invite/{token}");
    p.password = true;
    p.button = "Set the password".into();
    p.csrf = csrf;
    p.username = l.mail.clone();
    p.min_length = dir.config.password.min_length;
    p.error = error;
    p
}

/// GET /invite/{token}: does not use the link.
pub(crate) async fn page(
    State(p): State<Portal>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let d = p.dir.clone();
    let t = token.clone();
    let found = tokio::task::spawn_blocking(move || usable(&d, &t)).await??;
    match found {
        Ok(l) => {
            let (csrf, set) = links::form_token(&headers);
            Ok(links::page(
                StatusCode::OK,
                &password_page(&p.dir, &token, &l, csrf, String::new()),
                set,
            ))
        }
        Err((status, page)) => Ok(links::page(status, &page, None)),
    }
}

/// POST /invite/{token}: set the password (the link's form token, then the link used once).
pub(crate) async fn save(
    State(p): State<Portal>,
    Path(token): Path<String>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PortalError> {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| PortalError::BadRequest(format!("The form is not valid: {e}")))?;
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    if !links::token_ok(&headers, &field("csrf")) {
        return Err(PortalError::Forbidden(
            "The form has no valid token: load the link's page again.",
        ));
    }
    let (pw, repeat) = (field("password"), field("repeat"));
    let peer = peer.map(|Extension(p)| p).unwrap_or_else(Peer::unknown);
    let d = p.dir.clone();
    let t = token.clone();
    let out = tokio::task::spawn_blocking(move || -> Result<Result<Gone, (Link, String)>, PortalError> {
        let l = match usable(&d, &t)? {
            Ok(l) => l,
            Err(page) => return Ok(Ok(page)),
        };
        if pw != repeat {
            return Ok(Err((l, "The two passwords differ.".into())));
        }
        if pw.len() > 1024 {
            return Ok(Err((l, "The password is too long.".into())));
        }
        let Some(key) = onetime::key_of(&t) else {
            return Ok(Ok(gone_page(None)));
        };
        let now = links::now(&d);
        let l = match d.store.onetime_use(&key, Purpose::Invitation, now) {
            Ok(Use::Taken(l)) => l,
            Ok(other) => return Ok(Ok(gone_page(Some(other)))),
            Err(e) => return Err(PortalError::Internal(e.to_string())),
        };
        match set(&d, &l, &peer, &pw) {
            Ok(()) => {
                tracing::info!(link = %links::link_id(&key), dn = %l.target, "invitation used: password set");
                let mut page = LinkPage::text(
                    "Your password is set",
                    &[&format!("Log in with your e-mail address ({}) or your account's DN ({}) and the new password.", l.mail, l.target)],
                );
                page.login = true;
                Ok(Ok((StatusCode::OK, page)))
            }
            Err(e) => {
                d.store
                    .onetime_release(&key)
                    .map_err(|e| PortalError::Internal(e.to_string()))?;
                match e.code {
                    LdapResultCode::ConstraintViolation => Ok(Err((l, e.message))),
                    _ => Err(PortalError::Internal(format!(
                        "setting the password of {}: {}",
                        l.target, e.message
                    ))),
                }
            }
        }
    })
    .await??;
    match out {
        Ok((status, page)) => Ok(links::page(status, &page, None)),
        Err((l, msg)) => {
            let (csrf, set) = links::form_token(&headers);
            Ok(links::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &password_page(&p.dir, &token, &l, csrf, msg),
                set,
            ))
        }
    }
}

/// The invitee's password, set by the Password Modify operation as the inviting admin (its
/// policy, hashing and access checks; the changelog names the admin). The account must still
/// be the one invited (same entryUUID).
fn set(dir: &Directory, l: &Link, peer: &Peer, pw: &str) -> Result<(), LdapError> {
    let issuer = dir.parse_dn(&l.issuer)?;
    let target = dir.parse_dn(&l.target)?;
    let same = dir
        .store
        .read()?
        .lookup(&target)?
        .is_some_and(|(_, e)| crate::tools::offline::first(&e, "entryUUID") == l.uuid);
    if !same {
        return Err(LdapError::new(
            LdapResultCode::NoSuchObject,
            "the invited account is gone".to_string(),
        ));
    }
    writer::run_as(
        dir,
        &issuer,
        peer,
        Op::PasswordModify(Ok(LdapPasswordModifyRequest {
            user_identity: Some(format!("dn:{}", l.target)),
            old_password: None,
            new_password: Some(pw.to_string()),
        })),
    )
}
