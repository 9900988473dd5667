//! The directory admins' pages (issue 18): GET /admin links the rest (reader accounts to
//! approve, the secure list's membership, the reports; onboarding has its own pages).
//!
//! Who is a directory admin: whoever has manage access to the suffix entry (the `admin_dn`,
//! `cn=directory-admins` under the shipped policy), the same test as the live tools that read
//! every entry (ops/extended.rs). Everyone else gets the answer of an absent page (404, the
//! same text) for every admin URL, GET or POST, before a form's token is even looked at, so
//! the pages tell nothing to those who may not use them and a POST of theirs writes nothing.

use super::super::auth::{Posted, User};
use super::super::error::PortalError;
use super::super::view::{html, Layout};
use super::super::Portal;
use crate::acl::rules::Level;
use crate::acl::Identity;
use crate::core::dn::Dn;
use crate::service::Directory;
use crate::store::View;
use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// May `who` administer the directory (manage access to the suffix entry)? A store failure
/// counts as no.
pub(crate) fn may_administer(dir: &Directory, who: &Dn) -> bool {
    let identity = Identity::User(who.clone());
    if dir.policy.is_admin(&identity) {
        return true;
    }
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let Ok(suffix) = snap.lookup(&dir.suffix) else {
        return false;
    };
    let acl = dir.policy.checker(&identity, &snap, &dir.schema);
    acl.allows(
        &dir.suffix.store_key(),
        suffix.as_ref().map(|x| &x.1),
        None,
        Level::Manage,
    )
}

/// A logged-in directory admin. Anyone else: the not-found page (not logged in: the login
/// page, as for every page).
#[derive(Clone)]
pub(crate) struct Admin(pub(crate) User);

impl FromRequestParts<Portal> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Portal) -> Result<Self, Response> {
        let user = User::from_request_parts(parts, state).await?;
        let dir = state.dir.clone();
        let dn = user.session.dn.clone();
        match tokio::task::spawn_blocking(move || may_administer(&dir, &dn)).await {
            Ok(true) => Ok(Admin(user)),
            Ok(false) => Err(PortalError::NotFound.into_response()),
            Err(e) => Err(PortalError::from(e).into_response()),
        }
    }
}

/// A form posted by a directory admin: first who (anyone else: not found, whatever the form
/// holds), then the form's token (csrf.rs), then the form.
pub(crate) struct AdminPosted<T> {
    pub(crate) user: User,
    pub(crate) form: T,
}

impl<T: serde::de::DeserializeOwned> FromRequest<Portal> for AdminPosted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Portal) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        Admin::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let Posted { user, form } = Posted::<T>::from_request(req, state).await?;
        Ok(AdminPosted { user, form })
    }
}

#[derive(Template)]
#[template(path = "portal/admin.html")]
struct IndexPage {
    layout: Layout,
}

/// GET /admin
pub(crate) async fn index(Admin(user): Admin) -> Response {
    html(
        StatusCode::OK,
        &IndexPage {
            layout: user.layout(),
        },
    )
}

/// `/admin/...?done=word`: what the last action did, in words (unknown words: nothing).
pub(crate) fn done_message(done: &str) -> &'static str {
    match done {
        "approved" => "The account was approved: it can log in now.",
        "rejected" => "The account was rejected: it is suspended and cannot log in.",
        "added" => "The member was added to the list.",
        "removed" => "The member was removed from the list.",
        _ => "",
    }
}
