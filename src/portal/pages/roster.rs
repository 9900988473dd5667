//! GET /roster and /roster?tld=xx: the printable roster, as `ccdir roster --format html` makes it
//! (each ccTLD's section is written by the same function, tools/roster/html.rs), of every
//! registry the person may read (or of one), read through LDAP's search as the person. The
//! portal's style sheet lays it out for the screen and for print (A4 and Letter).

use super::super::auth::User;
use super::super::error::PortalError;
use super::super::reader::eq;
use super::super::view::{html, Layout};
use super::super::Portal;
use crate::tools::roster::{html as roster_html, Roster};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ldap3_proto::proto::{LdapFilter, LdapSearchScope};
use serde::Deserialize;

/// Most entries (registries and contacts) one roster reads: more than the community has.
const MAX_ENTRIES: i32 = 5000;

#[derive(Deserialize, Default)]
pub(crate) struct RosterQuery {
    #[serde(default)]
    tld: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/roster.html")]
pub(crate) struct RosterPage {
    pub(crate) layout: Layout,
    /// The ccTLD's label for a one-registry roster, or empty.
    pub(crate) one: String,
    pub(crate) made: String,
    pub(crate) count: usize,
    /// The sections, HTML written (and escaped) by tools/roster/html.rs.
    pub(crate) sections: String,
    /// More entries than the roster reads: it is cut.
    pub(crate) cut: bool,
}

fn load(p: &Portal, user: &User, tld: Option<&str>) -> Result<RosterPage, PortalError> {
    let reader = user.reader(&p.dir);
    let at = p.dir.clock.now();
    let (roster, cut) = match tld {
        Some(t) => (
            super::registry(&reader, t)?.ok_or(PortalError::NotFound)?,
            false,
        ),
        None => match reader.dir().registries() {
            None => (Roster::default(), false),
            Some(base) => {
                let filter = LdapFilter::Or(vec![
                    eq("objectClass", "cctldRegistry"),
                    eq("objectClass", "cctldContact"),
                ]);
                match reader.search(
                    base.display(),
                    LdapSearchScope::Subtree,
                    filter,
                    &["*"],
                    MAX_ENTRIES,
                ) {
                    Ok(f) => (Roster::build(&f.entries, None), f.more),
                    Err(e) => match PortalError::from(e) {
                        PortalError::NotFound => (Roster::default(), false),
                        other => return Err(other),
                    },
                }
            }
        },
    };
    let mut sections = String::new();
    for g in &roster.registries {
        roster_html::registry(&mut sections, &roster, g, at);
    }
    Ok(RosterPage {
        layout: user.layout(),
        one: match tld {
            Some(_) => roster
                .registries
                .first()
                .map(|g| g.label())
                .unwrap_or_default(),
            None => String::new(),
        },
        made: roster_html::day_time(at),
        count: roster.registries.len(),
        sections,
        cut,
    })
}

pub(crate) async fn page(
    State(p): State<Portal>,
    user: User,
    Query(q): Query<RosterQuery>,
) -> Result<Response, PortalError> {
    let u = user.clone();
    let tld = q.tld.filter(|t| !t.trim().is_empty());
    let view = tokio::task::spawn_blocking(move || load(&p, &u, tld.as_deref())).await??;
    Ok(html(StatusCode::OK, &view))
}
