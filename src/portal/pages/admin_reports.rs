//! GET /admin/reports/overdue and GET /admin/reports/completeness: the reports of
//! `ccdir report overdue` (tools/report.rs) and `ccdir check` (tools/check.rs) as HTML pages,
//! built by the same functions from the same entries as the live tools read them
//! (tools/offline.rs: the overdue report as the admin sees the directory, the check over every
//! entry, which only directory admins may run). Like the live tools, a report reads the
//! directory into memory; a page shows at most [`MAX_ROWS`] rows and says when there are more.

use super::super::error::PortalError;
use super::super::view::{html, Layout};
use super::super::Portal;
use super::admin::Admin;
use crate::tools::check::{check, Problem};
use crate::tools::offline::entries;
use crate::tools::report::{build, day};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

/// Most rows (contacts, or problems) one report page shows.
pub(crate) const MAX_ROWS: usize = 1000;
/// The furthest ahead the overdue report may look, in days.
const MAX_WITHIN: u32 = 366;

/// One contact of the overdue report, as the page shows it.
struct Row {
    name: String,
    dn: String,
    roles: String,
    mail: String,
    phone: String,
    overdue: bool,
    when: String,
    due: String,
    last: String,
    status: String,
    next: String,
}

struct Group {
    domain: String,
    name: String,
    region: String,
    notify: Vec<String>,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "portal/admin_overdue.html")]
struct OverduePage {
    layout: Layout,
    at: String,
    within: u32,
    overdue: usize,
    soon: usize,
    groups: Vec<Group>,
    shown: usize,
    total: usize,
}

#[derive(Deserialize, Default)]
pub(crate) struct OverdueQuery {
    /// Also contacts due within this many days (default `freshness.warn_days`).
    #[serde(default)]
    within: Option<String>,
}

/// Whom the report is read as: the `admin_dn` reads everything (as `ccdir report` on the
/// server's host), anyone else as the access rules let them.
fn as_dn(p: &Portal, who: &crate::core::dn::Dn) -> Option<String> {
    let id = crate::acl::Identity::User(who.clone());
    (!p.dir.policy.is_admin(&id)).then(|| who.display().to_string())
}

/// GET /admin/reports/overdue[?within=DAYS]
pub(crate) async fn overdue(
    State(p): State<Portal>,
    Admin(user): Admin,
    Query(q): Query<OverdueQuery>,
) -> Result<Response, PortalError> {
    let within = match q.within.as_deref().map(str::trim) {
        None | Some("") => p.dir.config.freshness.warn_days,
        Some(t) => match t.parse::<u32>() {
            Ok(n) if n <= MAX_WITHIN => n,
            _ => {
                return Err(PortalError::BadRequest(format!(
                    "The number of days ahead must be a whole number from 0 to {MAX_WITHIN}."
                )))
            }
        },
    };
    let u = user.clone();
    let report = tokio::task::spawn_blocking(move || {
        let who = as_dn(&p, &u.session.dn);
        let all = entries(&p.dir, None, who.as_deref()).map_err(PortalError::Internal)?;
        Ok::<_, PortalError>(build(&all, p.dir.clock.now(), within))
    })
    .await??;
    let total = report.contacts().count();
    let mut shown = 0;
    let mut groups = Vec::new();
    for g in &report.registries {
        if shown >= MAX_ROWS {
            break;
        }
        let rows: Vec<Row> = g
            .contacts
            .iter()
            .take(MAX_ROWS - shown)
            .map(|c| Row {
                name: c.name.clone(),
                dn: c.dn.clone(),
                roles: c.roles.join(", "),
                mail: c.mail.join(", "),
                phone: c.phone.join(" / "),
                overdue: c.overdue,
                when: if c.due.is_empty() {
                    "overdue: never verified".into()
                } else if c.overdue {
                    format!("overdue by {} days", c.days_overdue)
                } else {
                    format!("due in {} days", -c.days_overdue)
                },
                due: day(&c.due),
                last: if c.last_method.is_empty() {
                    day(&c.last_verified)
                } else {
                    format!("{} ({})", day(&c.last_verified), c.last_method)
                },
                status: if c.status.is_empty() {
                    "-".into()
                } else {
                    c.status.clone()
                },
                next: c.next_method.clone(),
            })
            .collect();
        shown += rows.len();
        groups.push(Group {
            domain: g.domain.clone(),
            name: g.name.clone(),
            region: g.region.clone(),
            notify: g
                .admins
                .iter()
                .map(|a| match (a.name.is_empty(), a.mail.first()) {
                    (false, Some(m)) => format!("{} <{m}>", a.name),
                    (true, Some(m)) => m.clone(),
                    (false, None) => a.name.clone(),
                    (true, None) => a.dn.clone(),
                })
                .collect(),
            rows,
        });
    }
    Ok(html(
        StatusCode::OK,
        &OverduePage {
            layout: user.layout(),
            at: crate::core::clock::minute_utc(report.at),
            within,
            overdue: report.overdue_count(),
            soon: report.due_soon_count(),
            groups,
            shown,
            total,
        },
    ))
}

#[derive(Template)]
#[template(path = "portal/admin_completeness.html")]
struct CompletenessPage {
    layout: Layout,
    at: String,
    registries: Vec<Problem>,
    values: Vec<Problem>,
    references: Vec<Problem>,
    total: usize,
    shown: usize,
}

/// GET /admin/reports/completeness
pub(crate) async fn completeness(
    State(p): State<Portal>,
    Admin(user): Admin,
) -> Result<Response, PortalError> {
    let dir = p.dir.clone();
    let (problems, at) = tokio::task::spawn_blocking(move || {
        let all = entries(&dir, None, None).map_err(PortalError::Internal)?;
        let problems = check(&dir, &all).map_err(PortalError::Internal)?;
        Ok::<_, PortalError>((problems, dir.clock.now()))
    })
    .await??;
    let total = problems.len();
    let (mut registries, mut values, mut references) = (Vec::new(), Vec::new(), Vec::new());
    for pr in problems.into_iter().take(MAX_ROWS) {
        match pr.rule {
            "value" => values.push(pr),
            "reference" => references.push(pr),
            _ => registries.push(pr),
        }
    }
    Ok(html(
        StatusCode::OK,
        &CompletenessPage {
            layout: user.layout(),
            at: crate::core::clock::minute_utc(at),
            shown: registries.len() + values.len() + references.len(),
            registries,
            values,
            references,
            total,
        },
    ))
}
