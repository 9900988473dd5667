//! Cross-site request forgery: every POST must come from a page of the portal itself (its
//! `Origin`, or without one its `Referer`, names the host the request was sent to, over https),
//! and every form carries a token: the session's own once logged in, before that the login
//! cookie's (double submit: the `__Host-` cookie cannot be set by another site or host).

use axum::http::{header, HeaderMap};
use subtle::ConstantTimeEq;

/// The login form's cookie: a random token the form repeats.
pub(crate) const LOGIN_COOKIE: &str = "__Host-ccdir-login";

/// The form field holding the token.
pub(crate) const FIELD: &str = "csrf";

/// Are the two tokens the same (in constant time)? An empty token never matches.
pub(crate) fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Does the request come from the portal's own pages? Its `Origin` (or, when a browser sent
/// none, its `Referer`) must be `https://` and the `Host` it was sent to. Neither: refused.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
    else {
        return false;
    };
    let own = format!("https://{host}");
    if let Some(o) = headers.get(header::ORIGIN) {
        return o.to_str().is_ok_and(|o| o.eq_ignore_ascii_case(&own));
    }
    if let Some(r) = headers.get(header::REFERER).and_then(|r| r.to_str().ok()) {
        let prefix = r
            .get(..own.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(&own));
        return prefix && matches!(r.as_bytes().get(own.len()), None | Some(b'/'));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn origin_and_referer() {
        use header::{HOST, ORIGIN, REFERER};
        let host = (HOST, "dir.example:8443");
        assert!(same_origin(&h(&[
            host.clone(),
            (ORIGIN, "https://dir.example:8443")
        ])));
        assert!(same_origin(&h(&[
            host.clone(),
            (ORIGIN, "https://DIR.example:8443")
        ])));
        assert!(!same_origin(&h(&[
            host.clone(),
            (ORIGIN, "https://evil.example")
        ])));
        assert!(!same_origin(&h(&[
            host.clone(),
            (ORIGIN, "http://dir.example:8443")
        ])));
        assert!(!same_origin(&h(&[host.clone(), (ORIGIN, "null")])));
        // An Origin that is wrong is not saved by a right Referer.
        assert!(!same_origin(&h(&[
            host.clone(),
            (ORIGIN, "https://evil.example"),
            (REFERER, "https://dir.example:8443/")
        ])));
        assert!(same_origin(&h(&[
            host.clone(),
            (REFERER, "https://dir.example:8443/cctld/br")
        ])));
        assert!(!same_origin(&h(&[
            host.clone(),
            (REFERER, "https://dir.example:8443.evil.example/")
        ])));
        assert!(!same_origin(&h(&[
            host.clone(),
            (REFERER, "https://dir.example:84430/")
        ])));
        assert!(
            !same_origin(&h(std::slice::from_ref(&host))),
            "neither header"
        );
        assert!(!same_origin(&h(&[(ORIGIN, "https://dir.example:8443")])));
    }

    #[test]
    fn tokens() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", ""));
    }
}
