//! Logging in and out, and who is logged in.
//!
//! The login checks the name and password with the LDAP simple bind's own function
//! (`ops::bind::password_bind`): the same per-address limit on failed binds, the same account
//! lockout (a failure here counts for LDAP binds and the other way round), the same refusal of
//! accounts pending approval or suspended, and the same audit line (`bind`). A client
//! certificate logs in as SASL EXTERNAL does (`ops::bind::certificate_bind`). Each login makes
//! a new session id, and a session the browser already had ends (no session fixation).

use super::csrf::{self, LOGIN_COOKIE};
use super::error::PortalError;
use super::reader::Reader;
use super::session::{random_token, Nav, Session, COOKIE};
use super::view::{html, Layout, LoginPage};
use super::{cookie, Peer, Portal};
use crate::acl::Identity;
use crate::core::error::LdapError;
use crate::service::Directory;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use ldap3_proto::proto::LdapResultCode;
use serde::Deserialize;

/// Longest name or password accepted (a DN, an address, a password: all far shorter).
const MAX_FIELD: usize = 1024;

/// The logged-in person of a request: its session and the session's cookie value.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) session: Session,
    pub(crate) peer: Peer,
}

impl User {
    pub(crate) fn layout(&self) -> Layout {
        Layout::user(&self.session.name, &self.session.csrf, self.session.nav)
    }

    pub(crate) fn reader<'a>(&self, dir: &'a Directory) -> Reader<'a> {
        Reader::new(dir, &self.session.dn, &self.peer)
    }
}

/// The connection's peer (the listener adds it; a request without one is from a test).
pub(crate) fn peer_of(parts: &Parts) -> Peer {
    parts
        .extensions
        .get::<Peer>()
        .cloned()
        .unwrap_or_else(Peer::unknown)
}

/// Where a login goes back to: a path of this portal, nothing else.
pub(crate) fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 512
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next
    } else {
        "/"
    }
}

fn to_login(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let next = local_path(here);
    let to = if next == "/" {
        "/login".to_string()
    } else {
        let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        format!("/login?{q}")
    };
    // htmx would follow a redirect and put the login page into a part of the page: it is told
    // to load the login page instead.
    if parts.headers.contains_key("hx-request") {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(&to) {
            r.headers_mut().insert("hx-redirect", v);
        }
        return r;
    }
    Redirect::to(&to).into_response()
}

impl FromRequestParts<Portal> for User {
    /// Not logged in: to the login page, which comes back here.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Portal) -> Result<Self, Response> {
        let session = cookie::get(&parts.headers, COOKIE).and_then(|id| state.sessions.get(id));
        match session {
            Some(session) => Ok(User {
                session,
                peer: peer_of(parts),
            }),
            None => Err(to_login(parts)),
        }
    }
}

/// A form posted by a logged-in person, its CSRF token checked against the session's.
pub(crate) struct Posted<T> {
    pub(crate) user: User,
    pub(crate) form: T,
}

/// The `csrf` field of a form body.
fn token_of(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == csrf::FIELD)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl<T: serde::de::DeserializeOwned> FromRequest<Portal> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Portal) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = User::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !csrf::same(&token_of(&bytes), &user.session.csrf) {
            return Err(PortalError::Forbidden(
                "The form has no valid token (it may be from an earlier session): load the page again.",
            )
            .into_response());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PortalError::BadRequest(format!("The form is not valid: {e}")).into_response()
        })?;
        Ok(Posted { user, form })
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// The login form's token: the browser's login cookie, or a new one (then also set).
fn login_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie::get(headers, LOGIN_COOKIE).filter(|t| t.len() == 43) {
        Some(t) => (t.to_string(), None),
        None => {
            let t = random_token().unwrap_or_default();
            let c = cookie::set(LOGIN_COOKIE, &t, 3600);
            (t, c)
        }
    }
}

fn login_page_with(
    headers: &HeaderMap,
    peer: &Peer,
    status: StatusCode,
    next: &str,
    name: &str,
    error: &str,
) -> Response {
    let (token, set) = login_token(headers);
    let mut r = html(
        status,
        &LoginPage {
            layout: Layout::anonymous(),
            csrf: token,
            next: local_path(next).to_string(),
            name: name.to_string(),
            error: error.to_string(),
            cert: peer.client_cert.is_some(),
        },
    );
    if let Some(c) = set {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// GET /login
pub(crate) async fn login_page(
    State(p): State<Portal>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let peer = peer.map(|Extension(p)| p).unwrap_or_else(Peer::unknown);
    let live = cookie::get(&headers, COOKIE).and_then(|id| p.sessions.get(id));
    if live.is_some() {
        return Redirect::to(local_path(&q.next)).into_response();
    }
    login_page_with(&headers, &peer, StatusCode::OK, &q.next, "", "")
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// The DN to check the password of: the name itself, or the one account whose `mail` is the
/// name (None: no such single account).
fn account_dn(dir: &Directory, name: &str) -> Result<Option<String>, LdapError> {
    if name.contains('=') || !name.contains('@') {
        return Ok(Some(name.to_string()));
    }
    use crate::core::filter::{Filter, Tri};
    use crate::store::View;
    let filter = Filter::compile(
        &super::reader::eq("mail", name),
        &dir.schema,
        dir.filter_limits(),
    )?;
    let snap = dir.store.read()?;
    let Some(ids) = crate::store::index::candidates(&filter, dir.store.index_spec(), &snap)? else {
        // mail is not indexed: a login by address would read every entry.
        return Ok(None);
    };
    let mut found = None;
    for id in ids {
        let Some(e) = snap.entry(id)? else { continue };
        if e.get("userPassword").is_none() || filter.eval(&e, &dir.schema) != Tri::True {
            continue;
        }
        if found.is_some() {
            return Ok(None);
        }
        found = Some(e.dn.clone());
    }
    Ok(found)
}

/// The name the header shows: the entry's displayName or cn as the person reads it.
fn display_name(dir: &Directory, who: &crate::core::dn::Dn, peer: &Peer) -> String {
    let r = Reader::new(dir, who, peer);
    let found = r.search(
        who.display(),
        ldap3_proto::proto::LdapSearchScope::Base,
        ldap3_proto::proto::LdapFilter::Present("objectClass".into()),
        &["displayName", "cn"],
        1,
    );
    found
        .ok()
        .and_then(|f| f.entries.into_iter().next())
        .map(|e| crate::tools::roster::name_of(&e))
        .unwrap_or_else(|| who.display().to_string())
}

/// How a login attempt ended.
enum Outcome {
    In(String),
    Refused(StatusCode, String),
}

/// Check the credentials (blocking: argon2), write the audit line, make the session.
fn check(p: &Portal, peer: &Peer, how: How<'_>) -> Result<Outcome, PortalError> {
    let dir = &*p.dir;
    let (target, r) = match how {
        How::Password(name, pw) => {
            let r = match account_dn(dir, name) {
                Ok(Some(dn)) => {
                    crate::ops::bind::password_bind(dir, peer.addr, true, &dn, pw.as_bytes())
                }
                Ok(None) => Err(crate::ops::bind::unknown_account(
                    dir,
                    peer.addr,
                    pw.as_bytes(),
                )),
                Err(e) => Err(e),
            };
            (name.to_string(), r)
        }
        How::Certificate => (
            String::new(),
            crate::ops::bind::certificate_bind(
                dir,
                peer.addr,
                peer.client_cert.as_deref().map(|c| c.as_slice()),
                b"",
            ),
        ),
    };
    let code = r
        .as_ref()
        .err()
        .map(|e| crate::core::error::code_number(&e.code))
        .unwrap_or(0);
    let identity = r.as_ref().ok().cloned().unwrap_or(Identity::Anonymous);
    dir.audit(
        &crate::service::Caller {
            conn: peer.conn,
            peer: peer.addr,
            identity: &identity,
        },
        "bind",
        &target,
        &[],
        code,
    );
    match r {
        Ok(Identity::User(dn)) => {
            tracing::info!(conn = peer.conn, peer = %peer.addr, dn = %dn, "portal login");
            let name = display_name(dir, &dn, peer);
            let nav = Nav {
                verify: super::pages::verify::is_recorder(dir, &dn),
                admin: super::pages::admin::may_administer(dir, &dn),
            };
            let (id, _) = p
                .sessions
                .create(dn, name, nav)
                .ok_or_else(|| PortalError::Internal("no random bytes for a session id".into()))?;
            Ok(Outcome::In(id))
        }
        Ok(Identity::Anonymous) => Ok(Outcome::Refused(
            StatusCode::OK,
            "Enter your DN or e-mail address and your password.".into(),
        )),
        Err(e) => {
            tracing::info!(conn = peer.conn, peer = %peer.addr, code, "portal login failed");
            Ok(match e.code {
                LdapResultCode::UnwillingToPerform => Outcome::Refused(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Refused: {}.", e.message),
                ),
                LdapResultCode::InvalidCredentials
                    if e.message != LdapError::invalid_credentials().message =>
                {
                    // The right password of an account pending approval or suspended.
                    Outcome::Refused(StatusCode::FORBIDDEN, format!("Refused: {}.", e.message))
                }
                LdapResultCode::InappropriateAuthentication => Outcome::Refused(
                    StatusCode::FORBIDDEN,
                    "Your certificate names no account of the directory.".into(),
                ),
                LdapResultCode::InvalidCredentials
                | LdapResultCode::InvalidDNSyntax
                | LdapResultCode::NoSuchObject
                | LdapResultCode::NamingViolation => {
                    Outcome::Refused(StatusCode::OK, "Wrong name or password.".into())
                }
                // The store failed (internal error), or the like: not the person's mistake.
                _ => return Err(PortalError::Internal(e.message)),
            })
        }
    }
}

enum How<'a> {
    Password(&'a str, &'a str),
    Certificate,
}

/// The login form's token must be the login cookie's.
fn login_token_ok(headers: &HeaderMap, form_token: &str) -> bool {
    cookie::get(headers, LOGIN_COOKIE).is_some_and(|c| csrf::same(c, form_token))
}

/// A session begins: the cookie, the login cookie gone, any earlier session of the browser
/// ended, and back to where the person was going.
fn logged_in(p: &Portal, headers: &HeaderMap, id: &str, next: &str) -> Response {
    if let Some(old) = cookie::get(headers, COOKIE) {
        p.sessions.end(old);
    }
    let mut r = Redirect::to(local_path(next)).into_response();
    let h = r.headers_mut();
    if let Some(c) = cookie::set(COOKIE, id, p.sessions.max_age()) {
        h.append(header::SET_COOKIE, c);
    }
    if let Some(c) = cookie::set(LOGIN_COOKIE, "", 0) {
        h.append(header::SET_COOKIE, c);
    }
    r
}

/// POST /login
pub(crate) async fn login(
    State(p): State<Portal>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer.map(|Extension(p)| p).unwrap_or_else(Peer::unknown);
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return PortalError::BadRequest("The form is not valid.".into()).into_response();
    };
    if !login_token_ok(&headers, &form.csrf) {
        return PortalError::Forbidden(
            "The login form has no valid token: load the login page again (cookies must be on).",
        )
        .into_response();
    }
    let name = form.name.trim().to_string();
    if name.is_empty() || form.password.is_empty() {
        return login_page_with(
            &headers,
            &peer,
            StatusCode::OK,
            &form.next,
            &name,
            "Enter your DN or e-mail address and your password.",
        );
    }
    if name.len() > MAX_FIELD || form.password.len() > MAX_FIELD {
        return login_page_with(
            &headers,
            &peer,
            StatusCode::OK,
            &form.next,
            "",
            "Wrong name or password.",
        );
    }
    let (p2, peer2, name2) = (p.clone(), peer.clone(), name.clone());
    let pw = form.password;
    let r = tokio::task::spawn_blocking(move || check(&p2, &peer2, How::Password(&name2, &pw)))
        .await
        .map_err(PortalError::from)
        .and_then(|r| r);
    match r {
        Ok(Outcome::In(id)) => logged_in(&p, &headers, &id, &form.next),
        Ok(Outcome::Refused(status, why)) => {
            login_page_with(&headers, &peer, status, &form.next, &name, &why)
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct CertificateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// POST /login/certificate: the connection's client certificate, as SASL EXTERNAL.
pub(crate) async fn login_certificate(
    State(p): State<Portal>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let peer = peer.map(|Extension(p)| p).unwrap_or_else(Peer::unknown);
    let Ok(form) = serde_urlencoded::from_bytes::<CertificateForm>(&body) else {
        return PortalError::BadRequest("The form is not valid.".into()).into_response();
    };
    if !login_token_ok(&headers, &form.csrf) {
        return PortalError::Forbidden(
            "The login form has no valid token: load the login page again (cookies must be on).",
        )
        .into_response();
    }
    let (p2, peer2) = (p.clone(), peer.clone());
    let r = tokio::task::spawn_blocking(move || check(&p2, &peer2, How::Certificate))
        .await
        .map_err(PortalError::from)
        .and_then(|r| r);
    match r {
        Ok(Outcome::In(id)) => logged_in(&p, &headers, &id, &form.next),
        Ok(Outcome::Refused(status, why)) => {
            login_page_with(&headers, &peer, status, &form.next, "", &why)
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct Nothing {}

/// POST /logout: the session ends on the server, and its cookie in the browser.
pub(crate) async fn logout(
    State(p): State<Portal>,
    headers: HeaderMap,
    posted: Posted<Nothing>,
) -> Response {
    let Posted {
        user,
        form: Nothing {},
    } = posted;
    if let Some(id) = cookie::get(&headers, COOKIE) {
        p.sessions.end(id);
    }
    tracing::info!(conn = user.peer.conn, peer = %user.peer.addr, dn = %user.session.dn, "portal logout");
    let mut r = Redirect::to("/login").into_response();
    if let Some(c) = cookie::set(COOKIE, "", 0) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn a_login_goes_back_only_to_this_portal() {
        assert_eq!(local_path("/cctld/br"), "/cctld/br");
        assert_eq!(local_path("/?q=br"), "/?q=br");
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(600))), "/");
    }
}
