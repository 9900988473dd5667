//! Reading the `Cookie` header and writing `Set-Cookie`: every cookie of the portal is
//! `__Host-` prefixed, Secure, HttpOnly, SameSite=Strict and Path=/.

use axum::http::{header, HeaderMap, HeaderValue};

/// The value of cookie `name` in the request (the first, should a browser send it twice).
pub(crate) fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// `Set-Cookie` for `name=value`, kept by the browser for `max_age` seconds (0: delete it).
/// Values are the portal's own tokens (base64url), never a client's text.
pub(crate) fn set(name: &str, value: &str, max_age: u64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-ccdir=abc"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(get(&h, "__Host-ccdir"), Some("abc"));
        assert_eq!(get(&h, "b"), Some("2"));
        assert_eq!(get(&h, "__Host-ccdir-login"), None);
        let c = set("__Host-ccdir", "x", 60).unwrap();
        assert_eq!(
            c.to_str().unwrap(),
            "__Host-ccdir=x; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=60"
        );
    }
}
