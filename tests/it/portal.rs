//! The registry portal (docs/portal.md): its handlers through `tower::ServiceExt::oneshot` (no
//! socket: `ccdir::portal::router` over the test server's directory), and its HTTPS listener
//! with hyper's client over rustls. Logins, sessions, CSRF, headers, what a reader sees, and
//! what a reader who may not see a registry gets.

use crate::access::{directory_with, person, reg, PW};
use crate::harness::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use ldap3::Mod;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) const HOST: &str = "portal.test";
pub(crate) const ORIGIN: &str = "https://portal.test";

/// The contact point of .br, with real-looking data.
pub(crate) fn team() -> String {
    format!("cn=incident-response,{}", reg("br"))
}

/// The access test's directory (br: a member registry with ana, its admin, and bob; pt: not a
/// member, with rui; ops: a directory admin), with a 24/7 team for .br.
pub(crate) fn portal_directory(f: impl FnOnce(&mut ccdir::service::config::Config)) -> TestServer {
    let s = directory_with(f);
    let mut c = s.admin();
    add(
        &mut c,
        &team(),
        &[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["incident-response"]),
            ("displayName", &["Incident response .br"]),
            ("associatedDomain", &["br"]),
            ("mail", &["csirt@nic-br.example"]),
            ("telephoneNumber", &["+55 11 2345-6743"]),
            ("cctldEmergencyTelephoneNumber", &["+55 11 2345-6729"]),
            ("cctldMessengerURI", &["xmpp:ir@nic-br.example IR chat"]),
            ("cctldTimeZone", &["America/Sao_Paulo"]),
            ("cctldBusinessHours", &["Mo-Fr 09:00-17:00"]),
            ("cctldAvailable247", &["TRUE"]),
        ],
    );
    let team_dn = team();
    let point: HashSet<&str> = [team_dn.as_str()].into_iter().collect();
    c.modify(&reg("br"), vec![Mod::Replace("cctldContactPoint", point)])
        .expect("modify")
        .success()
        .expect("contact point");
    s
}

pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

/// The hidden `csrf` field of the first form of a page.
pub(crate) fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {body}"));
    let rest = &body[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("end of value")].to_string()
}

/// A browser for the router: keeps cookies, sends Host and (for POSTs) Origin.
pub(crate) struct Browser {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    cookies: BTreeMap<String, String>,
    peer: ccdir::portal::Peer,
}

impl Browser {
    pub(crate) fn new(s: &TestServer) -> Browser {
        Browser {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            app: ccdir::portal::router(s.server().directory().clone()),
            cookies: BTreeMap::new(),
            peer: ccdir::portal::Peer {
                // The address LDAP test clients come from: the failed-bind limit is per address.
                addr: "127.0.0.1:40000".parse().expect("addr"),
                conn: 0,
                client_cert: None,
            },
        }
    }

    fn cookie(&self, name: &str) -> Option<&String> {
        self.cookies.get(name)
    }

    pub(crate) fn send(&mut self, mut req: Request<Body>) -> Response {
        req.extensions_mut().insert(self.peer.clone());
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut()
                .insert(header::COOKIE, jar.parse().expect("cookie header"));
        }
        let app = self.app.clone();
        let res = self.rt.block_on(async move {
            let res = app.oneshot(req).await.expect("infallible");
            let (parts, body) = res.into_parts();
            let bytes = axum::body::to_bytes(body, 16 << 20).await.expect("body");
            (parts, bytes)
        });
        let (parts, bytes) = res;
        let r = Response {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).to_string(),
        };
        for c in r.set_cookies() {
            let first = c.split(';').next().unwrap_or("");
            let (k, v) = first.split_once('=').expect("name=value");
            if c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        r
    }

    pub(crate) fn get(&mut self, path: &str) -> Response {
        let req = Request::get(path)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request");
        self.send(req)
    }

    /// POST a form from `origin` (None: no Origin header) with `referer`.
    pub(crate) fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
        referer: Option<&str>,
    ) -> Response {
        let mut b = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        if let Some(r) = referer {
            b = b.header(header::REFERER, r);
        }
        let body = serde_urlencoded::to_string(form).expect("form");
        self.send(b.body(Body::from(body)).expect("request"))
    }

    pub(crate) fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_from(path, form, Some(ORIGIN), None)
    }

    /// Load the login page and post the form.
    pub(crate) fn login(&mut self, name: &str, password: &str) -> Response {
        let page = self.get("/login");
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = csrf_of(&page.body);
        self.post(
            "/login",
            &[("csrf", &token), ("name", name), ("password", password)],
        )
    }

    /// The CSRF token of the logged-in session (from the logout form of a page).
    pub(crate) fn token(&mut self) -> String {
        let page = self.get("/");
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        csrf_of(&page.body)
    }
}

fn assert_security_headers(h: &HeaderMap) {
    let get = |n: &str| {
        h.get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{n} missing: {h:?}"))
            .to_string()
    };
    let csp = get("content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert!(get("strict-transport-security").starts_with("max-age="));
    assert_eq!(get("x-content-type-options"), "nosniff");
    assert_eq!(get("referrer-policy"), "same-origin");
    assert_eq!(get("x-frame-options"), "DENY");
}

#[test]
fn portal_login_sessions_and_logout() {
    let audit = tempfile::tempdir().expect("tmp");
    let audit_file = audit.path().join("audit.log");
    let f = audit_file.clone();
    let s = portal_directory(move |c| c.audit.output = f.display().to_string());
    let mut b = Browser::new(&s);
    // Not logged in: every page leads to the login page, which comes back.
    let r = b.get("/cctld/br");
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fcctld%2Fbr");
    assert_security_headers(&r.headers);
    // htmx is told to load the login page rather than put it into the page.
    let r = b.send(
        Request::get("/?q=br")
            .header(header::HOST, HOST)
            .header("hx-request", "true")
            .body(Body::empty())
            .expect("request"),
    );
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers.get("hx-redirect").expect("hx-redirect"),
        "/login?next=%2F%3Fq%3Dbr"
    );
    let r = b.get("/login");
    assert_eq!(r.status, StatusCode::OK);
    assert_security_headers(&r.headers);
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).expect("cache-control"),
        "no-store"
    );
    assert!(r.body.contains("<label for=\"password\">"), "{}", r.body);

    // A wrong password: the form again, no session.
    let bob = person("bob", "br");
    let r = b.login(&bob, "wrong-password");
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Wrong name or password"), "{}", r.body);
    assert!(b.cookie("__Host-ccdir").is_none());
    // An unknown name: the same answer.
    let r = b.login(&person("nobody", "br"), PW);
    assert!(r.body.contains("Wrong name or password"), "{}", r.body);
    for name in ["not a DN", "nobody@nowhere.example", "x=y,,"] {
        let r = b.login(name, PW);
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(
            r.body.contains("Wrong name or password"),
            "{name}: {}",
            r.body
        );
    }

    // A cookie planted before the login (session fixation) is not taken over.
    let planted = "A".repeat(43);
    b.cookies.insert("__Host-ccdir".into(), planted.clone());
    let r = b.login(&bob, PW);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/");
    let set = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-ccdir="))
        .expect("session cookie");
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let first = b.cookie("__Host-ccdir").expect("session").clone();
    // The audit log has both attempts as binds, with the browser's address.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&audit_file)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .filter(|v: &serde_json::Value| v["op"] == "bind" && v["peer"] == "127.0.0.1:40000")
        .collect();
    let results: Vec<(String, i64)> = lines
        .iter()
        .map(|v| {
            (
                v["target"].as_str().unwrap_or("").to_string(),
                v["result"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            (bob.clone(), 49),
            (person("nobody", "br"), 49),
            ("not a DN".to_string(), 34),
            ("nobody@nowhere.example".to_string(), 49),
            ("x=y,,".to_string(), 34),
            (bob.clone(), 0)
        ],
        "{lines:?}"
    );
    assert_eq!(lines[5]["bound"], bob.as_str());
    assert_ne!(first, planted);
    assert_eq!(first.len(), 43, "256 bits in base64url");
    assert!(
        b.cookie("__Host-ccdir-login").is_none(),
        "login cookie gone"
    );
    let home = b.get("/");
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body
            .contains("Logged in as <strong><bdi>bob</bdi></strong>"),
        "{}",
        home.body
    );

    // Logging in again in the same browser (a login page loaded before): a new id, and the
    // old one ends.
    let r = b.get("/login");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "already logged in");
    let old = first.clone();
    b.cookies.remove("__Host-ccdir");
    let token = csrf_of(&b.get("/login").body);
    b.cookies.insert("__Host-ccdir".into(), old.clone());
    let r = b.post(
        "/login",
        &[("csrf", &token), ("name", &bob), ("password", PW)],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let second = b.cookie("__Host-ccdir").expect("session").clone();
    assert_ne!(second, old);
    let mut other = Browser::new(&s);
    other.app = b.app.clone();
    other.cookies.insert("__Host-ccdir".into(), old.clone());
    assert_eq!(other.get("/").status, StatusCode::SEE_OTHER, "old id ended");

    // Logout ends the session on the server: the cookie, replayed, no longer works.
    let token = b.token();
    let r = b.post("/logout", &[("csrf", &token)]);
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login");
    assert!(b.cookie("__Host-ccdir").is_none(), "cookie deleted");
    b.cookies.insert("__Host-ccdir".into(), second);
    let r = b.get("/");
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login");

    // By e-mail address: the one account with that mail.
    let mut c = s.admin();
    let mail: HashSet<&str> = ["bob@nic-br.example"].into_iter().collect();
    c.modify(&bob, vec![Mod::Replace("mail", mail)])
        .expect("modify")
        .success()
        .expect("mail");
    b.cookies.clear();
    let r = b.login("bob@nic-br.example", PW);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(b.get("/").body.contains("Logged in as"));
}

#[test]
fn portal_session_times_out_when_idle() {
    let s = portal_directory(|c| {
        c.portal.session_idle_secs = 1;
        c.portal.session_max_secs = 60;
    });
    let mut b = Browser::new(&s);
    assert_eq!(
        b.login(&person("bob", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(b.get("/").status, StatusCode::OK);
    std::thread::sleep(std::time::Duration::from_millis(1300));
    let r = b.get("/");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "idle timeout");
}

#[test]
fn portal_refuses_forged_posts() {
    let s = portal_directory(|_| {});
    let mut b = Browser::new(&s);
    let bob = person("bob", "br");
    // The login form needs its token (the login cookie's) ...
    let r = b.post("/login", &[("name", &bob), ("password", PW)]);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(b.cookie("__Host-ccdir").is_none());
    let page = b.get("/login");
    let token = csrf_of(&page.body);
    let r = b.post(
        "/login",
        &[
            ("csrf", "x".repeat(43).as_str()),
            ("name", &bob),
            ("password", PW),
        ],
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // ... and to come from this site.
    let form = [("csrf", token.as_str()), ("name", &bob), ("password", PW)];
    let r = b.post_from("/login", &form, Some("https://evil.example"), None);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_security_headers(&r.headers);
    let r = b.post_from("/login", &form, None, None);
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "neither Origin nor Referer"
    );
    let r = b.post_from("/login", &form, None, Some("https://portal.test/login"));
    assert_eq!(r.status, StatusCode::SEE_OTHER, "Referer of this site");

    // Logged in: a POST without the session's token, or from elsewhere, is refused and
    // changes nothing (the session stays).
    let token = b.token();
    let r = b.post("/logout", &[]);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b.post("/logout", &[("csrf", "forged")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b.post_from(
        "/logout",
        &[("csrf", &token)],
        Some("https://evil.example"),
        None,
    );
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b.post_from("/logout", &[("csrf", &token)], Some("null"), None);
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/").status, StatusCode::OK, "still logged in");
    // Another session's token does not do either.
    let mut other = Browser::new(&s);
    other.app = b.app.clone();
    assert_eq!(
        other.login(&person("ana", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let theirs = other.token();
    assert_eq!(
        b.post("/logout", &[("csrf", &theirs)]).status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        b.post("/logout", &[("csrf", &token)]).status,
        StatusCode::SEE_OTHER
    );
}

#[test]
fn portal_lockout_is_shared_with_ldap_binds() {
    let s = portal_directory(|c| {
        c.password.lockout_failures = 3;
        c.password.lockout_secs = 600;
        c.password.failed_binds_per_ip_per_minute = 10;
    });
    let mut b = Browser::new(&s);
    // Three failed portal logins lock bob for LDAP binds too.
    let bob = person("bob", "br");
    for _ in 0..3 {
        assert!(b
            .login(&bob, "wrong-password")
            .body
            .contains("Wrong name or password"));
    }
    let mut c = s.conn();
    assert_eq!(c.simple_bind(&bob, PW).expect("bind").rc, 49, "locked");
    let r = b.login(&bob, PW);
    assert!(
        r.body.contains("Wrong name or password"),
        "locked in the portal"
    );
    assert!(b.cookie("__Host-ccdir").is_none());
    // Three failed LDAP binds lock ana for the portal.
    let ana = person("ana", "br");
    for _ in 0..3 {
        assert_eq!(c.simple_bind(&ana, "wrong-password").expect("bind").rc, 49);
    }
    let r = b.login(&ana, PW);
    assert!(r.body.contains("Wrong name or password"), "{}", r.body);
    assert!(b.cookie("__Host-ccdir").is_none());
    // The address's limit counts both: 3 + 1 + 1 + 3 + 1 = 9 failures from 127.0.0.1 (a
    // locked account's bind is one too), one more makes 10.
    let rui = person("rui", "pt");
    assert!(b
        .login(&rui, "wrong-password")
        .body
        .contains("Wrong name or password"));
    let r = b.login(&rui, PW);
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("too many failed binds"), "{}", r.body);
    assert_eq!(c.simple_bind(&rui, PW).expect("bind").rc, 53);
}

#[test]
fn portal_cctld_page_search_and_vcards() {
    let s = portal_directory(|_| {});
    let mut b = Browser::new(&s);
    assert_eq!(
        b.login(&person("bob", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let r = b.get("/cctld/br");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = &r.body;
    // The 24/7 contact point first, then the people.
    let point = body.find("24/7 contact point").expect("point");
    let team_at = body.find("Incident response .br").expect("team");
    let ana = body.find("<bdi>ana</bdi></h2>").expect("ana");
    assert!(point < team_at && team_at < ana, "{body}");
    assert!(body.contains("href=\"tel:+55-11-2345-6729\""), "{body}");
    assert!(body.contains("href=\"mailto:csirt@nic-br.example\""));
    assert!(body.contains("href=\"xmpp:ir@nic-br.example\""));
    assert!(body.contains("America/Sao_Paulo: local time "), "{body}");
    assert!(body.contains("Mo-Fr 12:00-20:00 UTC"), "{body}");
    assert!(
        body.contains("within business hours") || body.contains("outside business hours"),
        "{body}"
    );
    // Written by the admin just now: pending re-verification, due in three months.
    assert!(body.contains("class=\"status pending\""), "{body}");
    // The ccTLD in other forms, and a missing one.
    assert_eq!(b.get("/cctld/.BR").status, StatusCode::OK);
    assert_eq!(b.get("/cctld/zz").status, StatusCode::NOT_FOUND);
    // An IDN ccTLD by its Unicode form, in the page, the search and the URL.
    let mut c = s.admin();
    let u: HashSet<&str> = ["бр"].into_iter().collect();
    c.modify(&reg("pt"), vec![Mod::Replace("cctldULabel", u)])
        .expect("modify")
        .success()
        .expect("U-label");
    let r = b.get("/cctld/%D0%B1%D1%80");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<h1><bdi>.pt (.бр)</bdi>"), "{}", r.body);
    let r = b.get("/?q=.%D0%B1%D1%80");
    assert!(r.body.contains("href=\"/cctld/pt\""), "{}", r.body);

    // Search by ccTLD, by name, by number.
    let r = b.get("/?q=br");
    assert!(r.body.contains("href=\"/cctld/br\""), "{}", r.body);
    let r = b.get("/?q=incident");
    assert!(r.body.contains("Incident response .br"), "{}", r.body);
    let r = b.get("/?q=2345-6729");
    assert!(r.body.contains("Incident response .br"), "{}", r.body);
    assert!(r.body.contains("+55 11 2345-6743"), "{}", r.body);
    let r = b.get("/?q=nothing-like-this");
    assert!(r.body.contains("Nothing found"), "{}", r.body);
    let long = "x".repeat(101);
    assert_eq!(
        b.get(&format!("/?q={long}")).status,
        StatusCode::BAD_REQUEST
    );

    // vCards: the registry's contacts, and one of them by its entryUUID.
    let r = b.get("/cctld/br/vcard");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get(header::CONTENT_TYPE).expect("type"),
        "text/vcard; charset=utf-8"
    );
    assert_eq!(r.body.matches("BEGIN:VCARD").count(), 3, "{}", r.body);
    assert!(r.body.contains("FN:Incident response .br"));
    let uuid = {
        let mut c = s.admin();
        let (rs, _) = c
            .search(
                &team(),
                ldap3::Scope::Base,
                "(objectClass=*)",
                vec!["entryUUID"],
            )
            .expect("search")
            .success()
            .expect("ok");
        ldap3::SearchEntry::construct(rs.into_iter().next().expect("team")).attrs["entryUUID"][0]
            .clone()
    };
    assert!(
        b.get("/cctld/br")
            .body
            .contains(&format!("/cctld/br/contact/{uuid}/vcard")),
        "link to the contact's vCard"
    );
    let r = b.get(&format!("/cctld/br/contact/{uuid}/vcard"));
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.matches("BEGIN:VCARD").count(), 1);
    assert!(r.body.contains(&format!("UID:urn:uuid:{uuid}")));
    assert_eq!(
        b.get("/cctld/br/contact/00000000-0000-0000-0000-000000000000/vcard")
            .status,
        StatusCode::NOT_FOUND
    );
    // The static files: hashed names, cached for a year.
    let css = b.get("/").body;
    let at = css.find("/static/portal.").expect("css link");
    let path = &css[at..at + css[at..].find('"').expect("end")];
    let r = b.get(path);
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .headers
        .get(header::CACHE_CONTROL)
        .expect("cache")
        .to_str()
        .expect("text")
        .contains("max-age=31536000"));
    assert_eq!(b.get("/static/portal.css").status, StatusCode::NOT_FOUND);
}

#[test]
fn portal_shows_hostile_values_escaped() {
    let s = portal_directory(|_| {});
    let mut c = s.admin();
    let script = "<script>alert(1)</script>";
    let quote = "\"'><img src=x onerror=alert(1)>";
    let rtl = "\u{202E}fdp.exe\u{200F}";
    let long = format!("{}{}", "L".repeat(4000), script);
    let dn = person("hostile", "br");
    add(
        &mut c,
        &dn,
        &[
            ("objectClass", &["inetOrgPerson", "cctldContact"]),
            ("uid", &["hostile"]),
            ("cn", &[script]),
            ("sn", &[rtl]),
            ("displayName", &[script]),
            ("title", &[quote]),
            ("description", &[long.as_str()]),
            ("associatedDomain", &["br"]),
            ("cctldOtherTelecom", &[rtl, long.as_str()]),
            ("cctldBusinessHours", &["Mo-Fr 09:00-17:00"]),
        ],
    );
    let labeled: HashSet<&str> = ["javascript:alert(1) click me"].into_iter().collect();
    c.modify(&reg("br"), vec![Mod::Replace("labeledURI", labeled)])
        .expect("modify")
        .success()
        .expect("labeledURI");
    let mut b = Browser::new(&s);
    assert_eq!(
        b.login(&person("bob", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let r = b.get("/cctld/br");
    assert_eq!(r.status, StatusCode::OK);
    let body = &r.body;
    assert!(!body.contains(script), "raw script in the page");
    assert!(!body.contains("<img"), "raw markup in the page");
    assert!(!body.contains("href=\"javascript:"), "a javascript: link");
    assert!(
        body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{body}"
    );
    assert!(body.contains("&#34;&#39;&#62;&#60;img src=x onerror=alert(1)&#62;"));
    assert!(body.contains(rtl), "RTL marks kept as text");
    // ... and isolated, so they cannot turn the text around them.
    assert!(
        body.contains("<bdi>&#60;script&#62;alert(1)&#60;/script&#62;</bdi></h2>"),
        "{body}"
    );
    assert!(body.contains(&"L".repeat(4000)), "long value shown whole");
    assert!(body.contains("javascript:alert(1) click me") || body.contains("click me"));
    // In the search page's own echo of the query too.
    let q = serde_urlencoded::to_string([("q", quote)]).expect("q");
    let r = b.get(&format!("/?{q}"));
    assert!(!r.body.contains("<img"), "{}", r.body);
    assert!(
        r.body.contains("value=\"&#34;&#39;&#62;&#60;img"),
        "{}",
        r.body
    );
    // And the search results.
    let r = b.get("/?q=script");
    assert!(r.body.contains("&#60;script&#62;"), "{}", r.body);
    assert!(!r.body.contains(script));
}

#[test]
fn portal_unreadable_registry_answers_as_absent() {
    let s = portal_directory(|_| {});
    // rui's registry (pt) is no member: rui may read only his own entry.
    let mut b = Browser::new(&s);
    assert_eq!(
        b.login(&person("rui", "pt"), PW).status,
        StatusCode::SEE_OTHER
    );
    for (hidden, absent) in [
        ("/cctld/br", "/cctld/zz"),
        ("/cctld/br/vcard", "/cctld/zz/vcard"),
        ("/cctld/pt", "/cctld/qq"),
    ] {
        let h = b.get(hidden);
        let a = b.get(absent);
        assert_eq!(h.status, StatusCode::NOT_FOUND, "{hidden}");
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{absent}");
        assert_eq!(h.body, a.body, "{hidden} and {absent} answer alike");
    }
    let r = b.get("/?q=br");
    assert!(!r.body.contains("/cctld/br"), "{}", r.body);
    assert!(r.body.contains("Nothing found"));
    // bob (a member) reads both registries.
    let mut m = Browser::new(&s);
    assert_eq!(
        m.login(&person("bob", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(m.get("/cctld/br").status, StatusCode::OK);
    assert_eq!(m.get("/cctld/pt").status, StatusCode::OK);
}

/// One request over TLS to the portal's listener, with hyper's client. Returns the response
/// and the ALPN protocol agreed.
async fn https(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    req: Request<http_body_util::Full<axum::body::Bytes>>,
) -> (Response, Option<Vec<u8>>) {
    use http_body_util::BodyExt;
    let mut cfg = (*tls).clone();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let stream = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let alpn = stream.get_ref().1.alpn_protocol().map(|p| p.to_vec());
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
    tokio::spawn(conn);
    let res = sender.send_request(req).await.expect("response");
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (
        Response {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).to_string(),
        },
        alpn,
    )
}

#[test]
fn portal_https_listener() {
    let s = portal_directory(|c| c.listen.portal = Some("127.0.0.1:0".into()));
    let addr = s.server().portal_addr.expect("portal listener");
    let host = format!("localhost:{}", addr.port());
    let tls = s.tls_config();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let empty = || http_body_util::Full::new(axum::body::Bytes::new());
    let (r, alpn) = rt.block_on(https(
        addr,
        tls.clone(),
        Request::get("/login")
            .header(header::HOST, &host)
            .body(empty())
            .expect("req"),
    ));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_security_headers(&r.headers);
    let login_cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-ccdir-login="))
        .expect("login cookie");
    let login_cookie = login_cookie.split(';').next().expect("pair").to_string();
    let token = csrf_of(&r.body);
    let form = serde_urlencoded::to_string([
        ("csrf", token.as_str()),
        ("name", &person("bob", "br")),
        ("password", PW),
        ("next", "/cctld/br"),
    ])
    .expect("form");
    let (r, _) = rt.block_on(https(
        addr,
        tls.clone(),
        Request::post("/login")
            .header(header::HOST, &host)
            .header(header::ORIGIN, format!("https://{host}"))
            .header(header::COOKIE, &login_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(http_body_util::Full::new(form.into()))
            .expect("req"),
    ));
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/cctld/br");
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-ccdir="))
        .expect("session cookie");
    let session = session.split(';').next().expect("pair").to_string();
    let (r, _) = rt.block_on(https(
        addr,
        tls.clone(),
        Request::get("/cctld/br")
            .header(header::HOST, &host)
            .header(header::COOKIE, &session)
            .body(empty())
            .expect("req"),
    ));
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Incident response .br"));
    // A keep-alive connection left open does not hold up the shutdown: an idle connection
    // closes at once.
    let idle = rt.block_on(async {
        let mut cfg = (*tls).clone();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .expect("TLS handshake")
    });
    // Plain HTTP on the portal's port gets no page.
    let plain = std::net::TcpStream::connect(addr).expect("connect");
    use std::io::{Read, Write};
    let mut plain = plain;
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    plain
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("write");
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("HTTP/1.1 200"));
    let started = std::time::Instant::now();
    drop(s.stop());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "listener closed"
    );
    drop(idle);
}

/// A rustls client trusting the server's CA, with a client certificate.
fn client_with_cert(s: &TestServer, cert: Vec<u8>, key: Vec<u8>) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(s.ca_file()).expect("ca") {
        roots.add(c.expect("ca cert")).expect("add");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![CertificateDer::from(cert)],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            )
            .expect("client auth"),
    )
}

#[test]
fn portal_client_certificate_login() {
    let (ca_pem, cert, key) = crate::access::client_pki();
    let tmp = tempfile::tempdir().expect("tmp");
    let ca_file = tmp.path().join("client-ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write");
    let s = portal_directory(move |c| {
        c.tls.client_ca = Some(ca_file);
        c.listen.portal = Some("127.0.0.1:0".into());
    });
    let bob = person("bob", "br");
    let mut admin = s.admin();
    let certs: HashSet<&[u8]> = [cert.as_slice()].into_iter().collect();
    admin
        .modify(
            &bob,
            vec![Mod::Add("userCertificate;binary".as_bytes(), certs)],
        )
        .expect("modify")
        .success()
        .expect("certificate");
    let addr = s.server().portal_addr.expect("portal");
    let host = format!("localhost:{}", addr.port());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let empty = || http_body_util::Full::new(axum::body::Bytes::new());
    let login = |tls: Arc<rustls::ClientConfig>| {
        let (page, _) = rt.block_on(https(
            addr,
            tls.clone(),
            Request::get("/login")
                .header(header::HOST, &host)
                .body(empty())
                .expect("req"),
        ));
        let cookie = page
            .set_cookies()
            .into_iter()
            .find(|c| c.starts_with("__Host-ccdir-login="))
            .expect("login cookie");
        let cookie = cookie.split(';').next().expect("pair").to_string();
        let offered = page.body.contains("action=\"/login/certificate\"");
        let form = serde_urlencoded::to_string([("csrf", csrf_of(&page.body))]).expect("form");
        let (r, _) = rt.block_on(https(
            addr,
            tls,
            Request::post("/login/certificate")
                .header(header::HOST, &host)
                .header(header::ORIGIN, format!("https://{host}"))
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(http_body_util::Full::new(form.into()))
                .expect("req"),
        ));
        (offered, r)
    };
    // With the certificate: offered, and logged in as the entry that holds it.
    let (offered, r) = login(client_with_cert(&s, cert, key));
    assert!(offered, "the login page offers the certificate");
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-ccdir="))
        .expect("session cookie");
    let session = session.split(';').next().expect("pair").to_string();
    let (home, _) = rt.block_on(https(
        addr,
        s.tls_config(),
        Request::get("/")
            .header(header::HOST, &host)
            .header(header::COOKIE, &session)
            .body(empty())
            .expect("req"),
    ));
    assert!(
        home.body
            .contains("Logged in as <strong><bdi>bob</bdi></strong>"),
        "{}",
        home.body
    );
    // Without one: not offered, and refused.
    let (offered, r) = login(s.tls_config());
    assert!(!offered);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(!r
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("__Host-ccdir=")));
}

/// The first contact's uuid on a ccTLD page (from its vCard link).
fn uuid_on(page: &str) -> String {
    let at = page.find("/contact/").expect("a contact link") + "/contact/".len();
    let rest = &page[at..];
    rest[..rest.find('/').expect("end of uuid")].to_string()
}

pub(crate) fn read_attrs(s: &TestServer, dn: &str, attrs: Vec<&str>) -> ldap3::SearchEntry {
    let mut c = s.admin();
    let (rs, _) = c
        .search(dn, ldap3::Scope::Base, "(objectClass=*)", attrs)
        .expect("search")
        .success()
        .expect("found");
    ldap3::SearchEntry::construct(rs.into_iter().next().expect("one entry"))
}

#[test]
fn portal_edit_contact_as_registry_admin() {
    let s = portal_directory(|_| {});
    let ana = person("ana", "br");
    let mut b = Browser::new(&s);
    assert_eq!(b.login(&ana, PW).status, StatusCode::SEE_OTHER);
    let uuid = uuid_on(&b.get("/cctld/br").body);
    let path = format!("/cctld/br/contact/{uuid}/edit");
    let form = b.get(&path);
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form
        .body
        .contains("<label for=\"f-telephoneNumber\">Phone</label>"));
    assert!(form.body.contains("+55 11 2345-6743"), "{}", form.body);
    let token = csrf_of(&form.body);

    // A bad number: the checker's message next to the field, 422, nothing changed.
    let r = b.post(
        &path,
        &[("csrf", &token), ("telephoneNumber", "call me maybe")],
    );
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"e-telephoneNumber\">telephoneNumber: "),
        "{}",
        r.body
    );
    let e = read_attrs(&s, &team(), vec!["telephoneNumber"]);
    assert_eq!(e.attrs["telephoneNumber"], vec!["+55 11 2345-6743"]);

    // Without the token: 403, nothing changed.
    let r = b.post(&path, &[("telephoneNumber", "+55 11 2345-0000")]);
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A good number: saved as ana, back to the ccTLD page.
    let r = b.post(
        &path,
        &[("csrf", &token), ("telephoneNumber", "+55 11 2345-0000")],
    );
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/cctld/br");
    let e = read_attrs(&s, &team(), vec!["telephoneNumber", "modifiersName"]);
    assert_eq!(e.attrs["telephoneNumber"], vec!["+55 11 2345-0000"]);
    assert_eq!(
        e.attrs["modifiersName"][0].to_ascii_lowercase(),
        ana.to_ascii_lowercase()
    );

    // rui (another registry) gets what an absent contact gets.
    let mut o = Browser::new(&s);
    assert_eq!(
        o.login(&person("rui", "pt"), PW).status,
        StatusCode::SEE_OTHER
    );
    let t = o.token();
    let hidden = o.post(&path, &[("csrf", &t), ("telephoneNumber", "+1 555 0100")]);
    let absent = o.post(
        "/cctld/br/contact/00000000-0000-0000-0000-000000000000/edit",
        &[("csrf", &t), ("telephoneNumber", "+1 555 0100")],
    );
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(absent.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body, absent.body);
    let e = read_attrs(&s, &team(), vec!["telephoneNumber"]);
    assert_eq!(e.attrs["telephoneNumber"], vec!["+55 11 2345-0000"]);
}

#[test]
fn portal_edit_links_and_registry_confirmation() {
    let s = portal_directory(|_| {});
    let mut b = Browser::new(&s);
    assert_eq!(
        b.login(&person("ana", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let page = b.get("/cctld/br");
    let uuid = uuid_on(&page.body);
    assert!(
        page.body
            .contains(&format!("/cctld/br/contact/{uuid}/edit\">Edit</a>")),
        "{}",
        page.body
    );
    let token = csrf_of(&page.body);
    let r = b.post("/cctld/br/confirm", &[("csrf", &token)]);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let e = read_attrs(
        &s,
        &team(),
        vec!["cctldVerificationStatus", "modifiersName"],
    );
    assert_eq!(e.attrs["cctldVerificationStatus"], vec!["confirmed"]);
    // Without the token: refused.
    assert_eq!(
        b.post("/cctld/br/confirm", &[]).status,
        StatusCode::FORBIDDEN
    );

    // bob (a member, not br's admin) reads the page but gets no Edit link and no confirm form.
    let mut m = Browser::new(&s);
    assert_eq!(
        m.login(&person("bob", "br"), PW).status,
        StatusCode::SEE_OTHER
    );
    let page = m.get("/cctld/br");
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains(&format!("/contact/{uuid}/edit")),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/cctld/br/confirm"));
}
