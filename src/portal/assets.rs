//! The static files, embedded in the binary: the portal's style sheet and the vendored htmx
//! (static/vendor/htmx/README.md). Each is served under a name that carries a hash of its
//! content, so it can be cached for a year: a changed file gets a new name.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    /// `portal.css` -> served as `portal.<hash>.css`.
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        stem: "portal",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/portal.css"),
    },
    Asset {
        stem: "htmx-2.0.11.min",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/vendor/htmx/htmx.min.js"),
    },
];

/// The served names, in the order of [`ASSETS`].
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let h = Sha256::digest(a.body);
            let hex: String = h[..6].iter().map(|b| format!("{b:02x}")).collect();
            format!("{}.{hex}.{}", a.stem, a.ext)
        })
        .collect()
});

/// The URL path of the style sheet.
pub(crate) fn css() -> String {
    format!("/static/{}", NAMES[0])
}

/// The URL path of htmx.
pub(crate) fn htmx() -> String {
    format!("/static/{}", NAMES[1])
}

/// GET /static/{name}
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let Some(i) = NAMES.iter().position(|n| *n == name) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let a = &ASSETS[i];
    let mut r = a.body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    r
}
