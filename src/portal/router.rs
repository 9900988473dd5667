//! The portal's routes, and what every request passes: the security headers on every
//! response, a small body limit, and the Origin check on every POST (csrf.rs). [`router`] is
//! all a test needs: it serves requests with `tower::ServiceExt::oneshot`, no socket.

use super::{assets, auth, csrf, error, headers, pages, Portal};
use crate::service::Directory;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// Largest request body: the forms are small.
const MAX_BODY: usize = 16 * 1024;

/// The portal over `dir`: its pages, sessions and checks.
pub fn router(dir: Arc<Directory>) -> Router {
    Router::new()
        .route("/", get(pages::search::page))
        .route("/cctld/{tld}", get(pages::cctld::page))
        .route("/cctld/{tld}/vcard", get(pages::vcard::registry))
        .route(
            "/cctld/{tld}/contact/{uuid}/vcard",
            get(pages::vcard::contact),
        )
        .route(
            "/cctld/{tld}/contact/{uuid}/edit",
            get(pages::edit::form).post(pages::edit::save),
        )
        .route("/cctld/{tld}/confirm", post(pages::edit::confirm))
        .route("/admin", get(pages::admin::index))
        .route(
            "/admin/accounts",
            get(pages::admin_accounts::list).post(pages::admin_accounts::decide),
        )
        .route(
            "/admin/list",
            get(pages::admin_list::list).post(pages::admin_list::change),
        )
        .route("/admin/reports/overdue", get(pages::admin_reports::overdue))
        .route(
            "/admin/reports/completeness",
            get(pages::admin_reports::completeness),
        )
        .route(
            "/cctld/{tld}/contact/new",
            get(pages::contacts::new_form).post(pages::contacts::add),
        )
        .route(
            "/cctld/{tld}/contact/{uuid}/remove",
            get(pages::contacts::remove_form).post(pages::contacts::remove),
        )
        .route("/cctld/{tld}/history", get(pages::history::page))
        .route("/roster", get(pages::roster::page))
        .route("/verify", get(pages::verify::page))
        .route(
            "/verify/contact/{uuid}",
            get(pages::verify::form).post(pages::verify::record),
        )
        .route("/verify/plan", get(pages::verify::plan))
        .route(
            "/admin/onboard",
            get(pages::onboard::form).post(pages::onboard::create),
        )
        .route(
            "/invite/{token}",
            get(pages::invite::page).post(pages::invite::save),
        )
        .route(
            "/challenge/{token}",
            get(pages::challenge::page).post(pages::challenge::answer),
        )
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login/certificate", post(auth::login_certificate))
        .route("/logout", post(auth::logout))
        .route("/static/{name}", get(assets::serve))
        .fallback(error::not_found)
        .layer(middleware::from_fn(same_origin_posts))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(Portal::new(dir))
}

/// Anything but GET and HEAD must come from the portal's own pages.
async fn same_origin_posts(req: Request, next: Next) -> Response {
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && !csrf::same_origin(req.headers())
    {
        return error::PortalError::Forbidden(
            "The request does not come from this site's own pages.",
        )
        .into_response();
    }
    next.run(req).await
}
