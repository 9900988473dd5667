//! What the one-time link pages share (the e-mail challenge, challenge.rs; the invitation,
//! onboard.rs): their page, the form token of a page nobody is logged in to, running an LDAP
//! request as a given DN through `ops::dispatch`, and the link's address.

use super::super::cookie;
use super::super::csrf;
use super::super::session::random_token;
use super::super::view::{html, Layout};
use crate::service::Directory;
use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

/// The cookie holding a link page's form token (double submit, as the login form's).
pub(crate) const COOKIE: &str = "__Host-ccdir-link";

/// A one-time link's page: a heading, some text, and at most one form.
#[derive(Template)]
#[template(path = "portal/link.html")]
pub(crate) struct LinkPage {
    pub(crate) layout: Layout,
    pub(crate) heading: String,
    pub(crate) text: Vec<String>,
    pub(crate) error: String,
    /// Where the form posts; empty: no form.
    pub(crate) action: String,
    /// The form asks for a new password (else it is one button).
    pub(crate) password: bool,
    pub(crate) button: String,
    pub(crate) csrf: String,
    /// The account whose password is set (for password managers).
    pub(crate) username: String,
    pub(crate) min_length: usize,
    /// Offer the login page.
    pub(crate) login: bool,
}

impl LinkPage {
    /// A page without a form.
    pub(crate) fn text(heading: &str, text: &[&str]) -> LinkPage {
        LinkPage {
            layout: Layout::anonymous(),
            heading: heading.to_string(),
            text: text.iter().map(|t| t.to_string()).collect(),
            error: String::new(),
            action: String::new(),
            password: false,
            button: String::new(),
            csrf: String::new(),
            username: String::new(),
            min_length: 0,
            login: false,
        }
    }
}

/// A link page with its status, and the form token's cookie when a new one was made.
pub(crate) fn page(status: StatusCode, p: &LinkPage, set: Option<HeaderValue>) -> Response {
    let mut r = html(status, p);
    if let Some(c) = set {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// The page's form token: the browser's cookie, or a new one (then also to be set).
pub(crate) fn form_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie::get(headers, COOKIE).filter(|t| t.len() == 43) {
        Some(t) => (t.to_string(), None),
        None => {
            let t = random_token().unwrap_or_default();
            let c = cookie::set(COOKIE, &t, 3600);
            (t, c)
        }
    }
}

/// Does the posted token repeat the cookie's?
pub(crate) fn token_ok(headers: &HeaderMap, posted: &str) -> bool {
    cookie::get(headers, COOKIE).is_some_and(|c| csrf::same(c, posted))
}

/// The link's address: the configured public URL (or, without one, the path alone) and the
/// path.
pub(crate) fn address(dir: &Directory, path: &str) -> String {
    format!(
        "{}{path}",
        dir.config.portal.public_url.trim_end_matches('/')
    )
}

/// A short id of a link (hex of the first 8 bytes of its stored hash): what the logs and the
/// verification history name, never the token.
pub(crate) fn link_id(key: &[u8; 32]) -> String {
    super::super::challenges::link_id(key)
}

/// Unix seconds of the directory's clock.
pub(crate) fn now(dir: &Directory) -> i64 {
    dir.clock.now().unix_timestamp()
}

/// A time as the pages show it: `2026-12-05 15:00 UTC`.
pub(crate) fn utc(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => crate::core::clock::minute_utc(t),
        Err(_) => unix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times() {
        assert_eq!(link_id(&[0xab; 32]), "abababababababab");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        let mut h = HeaderMap::new();
        assert!(!token_ok(&h, "x"));
        let (t, set) = form_token(&h);
        assert_eq!(t.len(), 43);
        assert!(set.is_some());
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={t}")).unwrap(),
        );
        assert!(token_ok(&h, &t));
        assert!(!token_ok(&h, ""));
        assert_eq!(form_token(&h).0, t);
    }
}
