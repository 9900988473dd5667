//! GET /admin/list: the secure list's members, the `member` values of
//! `cn=members,ou=groups,<suffix>` (docs/operations/mailing-list.md: Postfix expands each
//! member registry to its contact point's mail, any other member to its own mail); POST
//! /admin/list adds a member (a registry by its ccTLD, or an existing entry by DN or by its
//! mail) or removes one, with the LDAP modify an admin would send (writer.rs): the reference
//! checks, the schema (the group keeps at least one member), the changelog and the audit log
//! are LDAP's. A refusal is shown in words, with nothing changed.

use super::super::auth::User;
use super::super::error::PortalError;
use super::super::reader::{eq, Reader};
use super::super::view::{html, Layout};
use super::super::{writer, Portal};
use super::admin::{done_message, Admin, AdminPosted};
use crate::core::dit::GROUPS_RDN;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::tools::offline::{all, first};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ldap3_proto::proto::{LdapFilter, LdapResultCode, LdapSearchScope};
use serde::Deserialize;

/// Most members the page shows (each is one base search).
const MAX_SHOWN: usize = 1000;
/// Longest text the form's field takes.
const MAX_WHO: usize = 1024;

/// The list's group: `cn=members,ou=groups,<suffix>`.
pub(crate) fn group_dn(dir: &Directory) -> String {
    format!("cn=members,{GROUPS_RDN},{}", dir.suffix.display())
}

struct Member {
    dn: String,
    name: String,
    kind: String,
    tld: String,
    mail: String,
}

#[derive(Template)]
#[template(path = "portal/admin_list.html")]
struct ListPage {
    layout: Layout,
    csrf: String,
    group: String,
    members: Vec<Member>,
    total: usize,
    who: String,
    message: String,
    error: String,
}

/// The entry at `dn` as the admin reads it (None: absent or unreadable).
fn read_one(reader: &Reader<'_>, dn: &str, attrs: &[&str]) -> Option<crate::core::entry::Entry> {
    reader
        .search(
            dn,
            LdapSearchScope::Base,
            LdapFilter::Present("objectClass".into()),
            attrs,
            1,
        )
        .ok()
        .and_then(|f| f.entries.into_iter().next())
}

/// The members, as many as are shown, and how many there are.
fn members(p: &Portal, user: &User) -> Result<(Vec<Member>, usize), PortalError> {
    let reader = user.reader(&p.dir);
    let Some(group) = read_one(&reader, &group_dn(&p.dir), &["member"]) else {
        return Ok((Vec::new(), 0));
    };
    let dns = all(&group, "member");
    let total = dns.len();
    let mut shown: Vec<Member> = dns
        .into_iter()
        .take(MAX_SHOWN)
        .map(|dn| {
            let e = read_one(
                &reader,
                &dn,
                &[
                    "objectClass",
                    "o",
                    "cn",
                    "displayName",
                    "associatedDomain",
                    "mail",
                ],
            );
            match e {
                Some(e) => {
                    let registry = e.has_object_class("cctldRegistry");
                    Member {
                        name: if registry {
                            first(&e, "o")
                        } else {
                            crate::tools::roster::name_of(&e)
                        },
                        kind: if registry { "registry" } else { "entry" }.into(),
                        tld: first(&e, "associatedDomain"),
                        mail: all(&e, "mail").join(", "),
                        dn,
                    }
                }
                None => Member {
                    name: String::new(),
                    kind: "missing".into(),
                    tld: String::new(),
                    mail: String::new(),
                    dn,
                },
            }
        })
        .collect();
    shown.sort_by(|a, b| {
        (a.kind != "registry", &a.tld, &a.dn).cmp(&(b.kind != "registry", &b.tld, &b.dn))
    });
    Ok((shown, total))
}

async fn page(
    p: Portal,
    user: User,
    status: StatusCode,
    who: String,
    message: String,
    error: String,
) -> Result<Response, PortalError> {
    let u = user.clone();
    let group = group_dn(&p.dir);
    let (members, total) = tokio::task::spawn_blocking(move || members(&p, &u)).await??;
    Ok(html(
        status,
        &ListPage {
            layout: user.layout(),
            csrf: user.session.csrf.clone(),
            group,
            members,
            total,
            who,
            message,
            error,
        },
    ))
}

#[derive(Deserialize, Default)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

/// GET /admin/list
pub(crate) async fn list(
    State(p): State<Portal>,
    Admin(user): Admin,
    Query(q): Query<Done>,
) -> Result<Response, PortalError> {
    let msg = done_message(&q.done).to_string();
    page(p, user, StatusCode::OK, String::new(), msg, String::new()).await
}

#[derive(Deserialize)]
pub(crate) struct Change {
    #[serde(default)]
    action: String,
    #[serde(default)]
    who: String,
}

/// What the form's text names: a DN as it is; a ccTLD: its registry; an address: the one
/// entry whose `mail` it is. Err: why it names nothing, in words.
fn resolve(reader: &Reader<'_>, who: &str) -> Result<Result<String, String>, PortalError> {
    if who.contains('=') {
        return Ok(Ok(who.to_string()));
    }
    let (base, scope, filter, what) = if who.contains('@') {
        (
            reader.dir().suffix.display().to_string(),
            LdapSearchScope::Subtree,
            eq("mail", who),
            "the address",
        )
    } else {
        let Some(tld) = super::tld_of(who) else {
            return Ok(Err("Give a ccTLD, a DN or an e-mail address.".into()));
        };
        let Some(regs) = reader.dir().registries() else {
            return Ok(Err("The directory has no registries.".into()));
        };
        (
            regs.display().to_string(),
            LdapSearchScope::OneLevel,
            LdapFilter::And(vec![
                eq("objectClass", "cctldRegistry"),
                super::by_tld(&tld),
            ]),
            "the ccTLD",
        )
    };
    let found = match reader.search(&base, scope, filter, &["1.1"], 2) {
        Ok(f) => f,
        Err(e) => match PortalError::from(e) {
            PortalError::NotFound => Default::default(),
            other => return Err(other),
        },
    };
    Ok(match found.entries.as_slice() {
        [one] if !found.more => Ok(one.dn.clone()),
        [] => Err(format!("No entry has {what} {who}.")),
        _ => Err(format!(
            "Several entries have {what} {who}: give the DN of the one to add."
        )),
    })
}

/// A refusal of the directory's, in words.
fn refusal(add: bool, dn: &str, e: &LdapError) -> String {
    match e.code {
        LdapResultCode::AttributeOrValueExists => format!("{dn} is already a member."),
        LdapResultCode::NoSuchAttribute => format!("{dn} is not a member."),
        LdapResultCode::ObjectClassViolation if !add => {
            "The list must keep at least one member: add another before removing the last.".into()
        }
        LdapResultCode::ConstraintViolation if e.message.contains("does not name an entry") => {
            format!("{dn} does not name an entry of the directory.")
        }
        LdapResultCode::InvalidDNSyntax | LdapResultCode::InvalidAttributeSyntax => {
            format!("{dn} is not a DN.")
        }
        _ => format!("The directory refused the change: {}", e.message),
    }
}

/// POST /admin/list: `action` add or remove, `who` the member.
pub(crate) async fn change(
    State(p): State<Portal>,
    posted: AdminPosted<Change>,
) -> Result<Response, PortalError> {
    let AdminPosted { user, form } = posted;
    let add = match form.action.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(PortalError::BadRequest("Choose add or remove.".into())),
    };
    let who = form.who.trim().to_string();
    if who.is_empty() || who.len() > MAX_WHO {
        let why = "Give a ccTLD, a DN or an e-mail address.".to_string();
        return page(
            p,
            user,
            StatusCode::UNPROCESSABLE_ENTITY,
            String::new(),
            String::new(),
            why,
        )
        .await;
    }
    let (p2, u, w) = (p.clone(), user.clone(), who.clone());
    let refused = tokio::task::spawn_blocking(move || {
        let reader = u.reader(&p2.dir);
        let dn = if add {
            match resolve(&reader, &w)? {
                Ok(dn) => dn,
                Err(why) => return Ok::<_, PortalError>(Some(why)),
            }
        } else {
            w
        };
        let group = group_dn(&p2.dir);
        match writer::value(&p2.dir, &u.session.dn, &u.peer, &group, add, "member", &dn) {
            Ok(()) => Ok(None),
            Err(e) if e.code == LdapResultCode::Other => Err(PortalError::Internal(e.message)),
            Err(e) => Ok(Some(refusal(add, &dn, &e))),
        }
    })
    .await??;
    match refused {
        None => {
            let word = if add { "added" } else { "removed" };
            Ok(Redirect::to(&format!("/admin/list?done={word}")).into_response())
        }
        Some(why) => {
            let keep = if add { who } else { String::new() };
            page(
                p,
                user,
                StatusCode::UNPROCESSABLE_ENTITY,
                keep,
                String::new(),
                why,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_words() {
        let e = |code, m: &str| LdapError::new(code, m.to_string());
        assert_eq!(
            refusal(true, "x=y", &e(LdapResultCode::AttributeOrValueExists, "")),
            "x=y is already a member."
        );
        assert_eq!(
            refusal(false, "x=y", &e(LdapResultCode::NoSuchAttribute, "")),
            "x=y is not a member."
        );
        assert!(
            refusal(false, "x=y", &e(LdapResultCode::ObjectClassViolation, ""))
                .contains("at least one member")
        );
        assert_eq!(
            refusal(
                true,
                "x=y",
                &e(
                    LdapResultCode::ConstraintViolation,
                    "member: x=y does not name an entry of this directory"
                )
            ),
            "x=y does not name an entry of the directory."
        );
        assert!(refusal(true, "x=y", &e(LdapResultCode::Busy, "busy")).contains("busy"));
    }
}
