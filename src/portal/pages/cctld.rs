//! GET /cctld/{tld}: a registry, its 24/7 contact point first, then its people in escalation
//! order, each with its channels, its local time now and whether that is within its business
//! hours, and how fresh its data is.

use super::super::auth::User;
use super::super::contact;
use super::super::error::PortalError;
use super::super::view::{html, CctldPage};
use super::super::Portal;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

/// What the person may do with the registry's own data (links on the page).
struct Own {
    removable: Vec<String>,
    can_add: bool,
    history: bool,
}

pub(crate) async fn page(
    State(p): State<Portal>,
    user: User,
    Path(tld): Path<String>,
) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let u = user.clone();
    let view = tokio::task::spawn_blocking(move || {
        let reader = u.reader(&dir);
        let at = dir.clock.now();
        let roster = super::registry(&reader, &tld)?.ok_or(PortalError::NotFound)?;
        let g = roster.registries.first().ok_or(PortalError::NotFound)?;
        let editable = g
            .contacts()
            .filter(|e| {
                super::super::writer::may_write(&dir, &u.session.dn, &e.dn, &super::edit::attrs())
            })
            .map(|e| crate::tools::offline::first(e, "entryUUID"))
            .collect::<Vec<_>>();
        let own = Own {
            removable: g
                .contacts()
                .filter(|e| super::contacts::may_remove(&p, &u, e))
                .map(|e| crate::tools::offline::first(e, "entryUUID"))
                .collect(),
            can_add: super::contacts::may_add(&p, &u, g),
            history: super::history::may_read(&p, &u, &g.entry.dn),
        };
        Ok::<_, PortalError>((contact::registry(&roster, g, at), at, editable, own))
    })
    .await??;
    let (reg, at, editable, own) = view;
    Ok(html(
        StatusCode::OK,
        &CctldPage {
            layout: user.layout(),
            reg,
            editable,
            removable: own.removable,
            can_add: own.can_add,
            history: own.history,
            csrf: user.session.csrf.clone(),
            now_utc: crate::core::clock::minute_utc(at),
        },
    ))
}
