//! vCard downloads (the roster's writer, tools/roster/vcard.rs): GET /cctld/{tld}/vcard (every
//! contact of the registry the person may read) and GET /cctld/{tld}/contact/{uuid}/vcard (one).

use super::super::auth::User;
use super::super::error::PortalError;
use super::super::Portal;
use crate::tools::offline::first;
use crate::tools::roster::vcard;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

fn download(name: &str, body: String) -> Response {
    // The file name: the ccTLD's own characters only.
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(80)
        .collect();
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/vcard; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}.vcf\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

pub(crate) async fn registry(
    State(p): State<Portal>,
    user: User,
    Path(tld): Path<String>,
) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let (name, body) = tokio::task::spawn_blocking(move || {
        let reader = user.reader(&dir);
        let roster = super::registry(&reader, &tld)?.ok_or(PortalError::NotFound)?;
        let g = roster.registries.first().ok_or(PortalError::NotFound)?;
        Ok::<_, PortalError>((g.domain.clone(), vcard::all(&roster, dir.clock.now())))
    })
    .await??;
    Ok(download(&name, body))
}

pub(crate) async fn contact(
    State(p): State<Portal>,
    user: User,
    Path((tld, uuid)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let (name, body) = tokio::task::spawn_blocking(move || {
        let reader = user.reader(&dir);
        let roster = super::registry(&reader, &tld)?.ok_or(PortalError::NotFound)?;
        let g = roster.registries.first().ok_or(PortalError::NotFound)?;
        let e = g
            .contacts()
            .find(|e| !uuid.is_empty() && first(e, "entryUUID").eq_ignore_ascii_case(&uuid))
            .ok_or(PortalError::NotFound)?;
        let name = format!("{}-{}", g.domain, crate::tools::roster::name_of(e));
        let name: String = name.replace(' ', "-");
        Ok::<_, PortalError>((name, vcard::card(&roster, g, e, dir.clock.now())))
    })
    .await??;
    Ok(download(&name, body))
}
