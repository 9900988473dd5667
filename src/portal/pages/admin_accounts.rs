//! GET /admin/accounts: the reader accounts pending approval (an indexed search on
//! `cctldAccountStatus=pending`, as the admin); POST /admin/accounts approves one
//! (`cctldAccountStatus: approved`) or rejects it (`suspended`: it cannot bind, and stays
//! counted against its registry's `accounts.max_per_registry` until someone removes it), with
//! the LDAP modify an admin would send (writer.rs), so the changelog and the audit log name
//! the admin (docs/security.md, Accounts).

use super::super::auth::User;
use super::super::error::PortalError;
use super::super::reader::eq;
use super::super::view::{html, Layout};
use super::super::{writer, Portal};
use super::admin::{done_message, Admin, AdminPosted};
use crate::freshness::parse_gtime;
use crate::tools::offline::{all, first};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ldap3_proto::proto::LdapSearchScope;
use serde::Deserialize;

const STATUS: &str = "cctldAccountStatus";
/// Most accounts one page lists.
const MAX_LISTED: i32 = 200;
/// Longest DN a form may name.
const MAX_DN: usize = 1024;

/// One pending account.
struct Pending {
    dn: String,
    name: String,
    mail: String,
    creator: String,
    created: String,
}

#[derive(Template)]
#[template(path = "portal/admin_accounts.html")]
struct AccountsPage {
    layout: Layout,
    csrf: String,
    accounts: Vec<Pending>,
    more: bool,
    message: String,
    error: String,
}

/// A Generalized Time as `YYYY-MM-DD HH:MM UTC` (as stored when it does not parse).
pub(crate) fn utc(g: &str) -> String {
    match parse_gtime(g.as_bytes()) {
        Some(t) => crate::core::clock::minute_utc(t),
        None => g.to_string(),
    }
}

fn pending(p: &Portal, user: &User) -> Result<(Vec<Pending>, bool), PortalError> {
    let reader = user.reader(&p.dir);
    let found = reader.search(
        p.dir.suffix.display(),
        LdapSearchScope::Subtree,
        eq(STATUS, "pending"),
        &[
            "cn",
            "displayName",
            "mail",
            "creatorsName",
            "createTimestamp",
        ],
        MAX_LISTED,
    )?;
    let mut list: Vec<Pending> = found
        .entries
        .iter()
        .map(|e| Pending {
            dn: e.dn.clone(),
            name: crate::tools::roster::name_of(e),
            mail: all(e, "mail").join(", "),
            creator: first(e, "creatorsName"),
            created: utc(&first(e, "createTimestamp")),
        })
        .collect();
    list.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.dn.cmp(&b.dn)));
    Ok((list, found.more))
}

async fn page(
    p: Portal,
    user: User,
    status: StatusCode,
    message: String,
    error: String,
) -> Result<Response, PortalError> {
    let u = user.clone();
    let (accounts, more) = tokio::task::spawn_blocking(move || pending(&p, &u)).await??;
    Ok(html(
        status,
        &AccountsPage {
            layout: user.layout(),
            csrf: user.session.csrf.clone(),
            accounts,
            more,
            message,
            error,
        },
    ))
}

#[derive(Deserialize, Default)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

/// GET /admin/accounts
pub(crate) async fn list(
    State(p): State<Portal>,
    Admin(user): Admin,
    Query(q): Query<Done>,
) -> Result<Response, PortalError> {
    let msg = done_message(&q.done).to_string();
    page(p, user, StatusCode::OK, msg, String::new()).await
}

#[derive(Deserialize)]
pub(crate) struct Decision {
    #[serde(default)]
    dn: String,
    #[serde(default)]
    action: String,
}

/// The status an action sets, and the word the page reports it with.
fn decided(action: &str) -> Option<(&'static str, &'static str)> {
    match action {
        "approve" => Some(("approved", "approved")),
        "reject" => Some(("suspended", "rejected")),
        _ => None,
    }
}

/// POST /admin/accounts: approve or reject one pending account.
pub(crate) async fn decide(
    State(p): State<Portal>,
    posted: AdminPosted<Decision>,
) -> Result<Response, PortalError> {
    let AdminPosted { user, form } = posted;
    let Some((status, word)) = decided(&form.action) else {
        return Err(PortalError::BadRequest("Choose approve or reject.".into()));
    };
    let dn = form.dn.trim().to_string();
    if dn.is_empty() || dn.len() > MAX_DN {
        return Err(PortalError::BadRequest("The form names no account.".into()));
    }
    let (p2, u) = (p.clone(), user.clone());
    let refused = tokio::task::spawn_blocking(move || {
        // Only an account that is pending now: a second click, or a DN typed into the form,
        // changes nothing else.
        let reader = u.reader(&p2.dir);
        let still = reader
            .search(
                &dn,
                LdapSearchScope::Base,
                eq(STATUS, "pending"),
                &["1.1"],
                1,
            )
            .map(|f| !f.entries.is_empty())
            .or_else(|e| match PortalError::from(e) {
                PortalError::NotFound => Ok(false),
                other => Err(other),
            })?;
        if !still {
            return Ok::<_, PortalError>(Some(
                "That account is not pending approval (any more): nothing was changed.".to_string(),
            ));
        }
        match writer::replace(
            &p2.dir,
            &u.session.dn,
            &u.peer,
            &dn,
            vec![(STATUS.to_string(), vec![status.to_string()])],
        ) {
            Ok(()) => Ok(None),
            Err(e) if e.code == ldap3_proto::proto::LdapResultCode::Other => {
                Err(PortalError::Internal(e.message))
            }
            Err(e) => Ok(Some(format!(
                "The directory refused the change: {}",
                e.message
            ))),
        }
    })
    .await??;
    match refused {
        None => Ok(Redirect::to(&format!("/admin/accounts?done={word}")).into_response()),
        Some(why) => page(p, user, StatusCode::CONFLICT, String::new(), why).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_times() {
        assert_eq!(decided("approve"), Some(("approved", "approved")));
        assert_eq!(decided("reject"), Some(("suspended", "rejected")));
        assert_eq!(decided("delete"), None);
        assert_eq!(decided(""), None);
        assert_eq!(utc("20261205143000Z"), "2026-12-05 14:30 UTC");
        assert_eq!(utc("garbage"), "garbage");
        assert!(!done_message("approved").is_empty());
        assert_eq!(done_message("<script>"), "");
    }
}
