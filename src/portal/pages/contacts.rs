//! A registry's contacts added and removed by the logged-in person, through the LDAP write
//! path (writer.rs: `ops::dispatch`, the pipeline, the changelog and audit naming the person):
//!
//! - GET and POST /cctld/{tld}/contact/new: a person below the registry (`inetOrgPerson` +
//!   `cctldContact`, named `uid=<new UUID>`), with the contact attributes a registry keeps;
//!   a refused value comes back next to its field (422), the values kept in the form;
//! - GET and POST /cctld/{tld}/contact/{uuid}/remove: a confirmation page, then the delete; the
//!   server's refusal (e.g. the registry's 24/7 contact point) is shown in plain words (409).
//!
//! A registry the person may not add to, a contact the person may not delete, and an absent
//! one all answer the same 404.

use super::super::auth::{Posted, User};
use super::super::error::PortalError;
use super::super::view::{html, Layout};
use super::super::{writer, Portal};
use crate::core::entry::Entry;
use crate::tools::offline::first;
use crate::tools::roster::{name_of, Registry};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ldap3_proto::proto::LdapResultCode;

/// How a field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One value.
    Line,
    /// Several values, one per line.
    Lines,
    /// `TRUE`, `FALSE` or not given.
    YesNo,
}

/// The form's fields: (attribute, label, kind, hint). The person's object classes allow each.
pub(crate) const FIELDS: &[(&str, &str, Kind, &str)] = &[
    ("givenName", "Given name", Kind::Line, ""),
    ("sn", "Surname", Kind::Line, "Required."),
    (
        "displayName",
        "Name as shown",
        Kind::Line,
        "Default: given name and surname.",
    ),
    (
        "title",
        "Function",
        Kind::Line,
        "Free text, e.g. Head of CSIRT.",
    ),
    (
        "cctldContactPriority",
        "Escalation order",
        Kind::Line,
        "1 is called first.",
    ),
    (
        "cctldEmergencyTelephoneNumber",
        "Emergency number",
        Kind::Lines,
        "International form: +49 69 1234 5678.",
    ),
    (
        "telephoneNumber",
        "Phone",
        Kind::Lines,
        "International form.",
    ),
    ("mobile", "Mobile", Kind::Lines, ""),
    ("facsimileTelephoneNumber", "Fax", Kind::Lines, ""),
    ("mail", "E-mail", Kind::Lines, ""),
    (
        "cctldMessengerURI",
        "Messenger URIs",
        Kind::Lines,
        "e.g. xmpp:ir@nic.example, then a space and a label.",
    ),
    (
        "cctldOtherTelecom",
        "Other means (satellite phone, radio)",
        Kind::Lines,
        "",
    ),
    (
        "cctldOpenPGPFingerprint",
        "OpenPGP fingerprints",
        Kind::Lines,
        "40 or 64 hex digits.",
    ),
    ("cctldKeyURI", "Where the key is published", Kind::Lines, ""),
    (
        "cctldTimeZone",
        "Time zone",
        Kind::Line,
        "IANA name, e.g. America/Sao_Paulo.",
    ),
    (
        "cctldBusinessHours",
        "Business hours",
        Kind::Lines,
        "Local time, e.g. Mo-Fr 08:00-17:00.",
    ),
    ("cctldAvailable247", "Available 24/7", Kind::YesNo, ""),
    (
        "cctldLanguage",
        "Languages",
        Kind::Lines,
        "BCP 47 tags, e.g. pt-BR.",
    ),
];

/// The controlled role words (`cctldContactRole`, docs/schema.md).
pub(crate) const ROLES: &[&str] = &[
    "security",
    "technical",
    "administrative",
    "management",
    "emergency",
];

/// One field of the add form.
pub(crate) struct Field {
    pub(crate) attr: String,
    pub(crate) label: String,
    pub(crate) kind: Kind,
    pub(crate) hint: String,
    pub(crate) value: String,
    /// The server's message about this attribute, when the add was refused.
    pub(crate) error: String,
}

/// A checkbox (a role, or a substitute by its entryUUID).
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) checked: bool,
}

#[derive(Template)]
#[template(path = "portal/contact_new.html")]
pub(crate) struct NewPage {
    pub(crate) layout: Layout,
    pub(crate) tld: String,
    pub(crate) label: String,
    pub(crate) csrf: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) roles: Vec<Choice>,
    pub(crate) substitutes: Vec<Choice>,
    pub(crate) message: String,
}

#[derive(Template)]
#[template(path = "portal/contact_remove.html")]
pub(crate) struct RemovePage {
    pub(crate) layout: Layout,
    pub(crate) tld: String,
    pub(crate) uuid: String,
    pub(crate) name: String,
    pub(crate) point: bool,
    pub(crate) csrf: String,
    pub(crate) message: String,
}

/// The posted form: every pair, in order (roles and substitutes repeat).
type Form = Vec<(String, String)>;

fn values_of(form: &Form, attr: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == attr)
        .flat_map(|(_, v)| v.lines().map(str::trim).map(str::to_string))
        .filter(|v| !v.is_empty())
        .collect()
}

fn text_of(form: &Form, attr: &str) -> String {
    form.iter()
        .find(|(k, _)| k == attr)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The part of the server's message about `attr` (its messages name the attribute first:
/// `telephoneNumber: ...`; several are joined with `; `).
pub(crate) fn error_for(msg: &str, attr: &str) -> String {
    msg.split("; ")
        .filter(|m| {
            m.split(':')
                .next()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(attr))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The registry `tld` as the person reads it, and an entry like the contact the form would
/// add; 404 unless the person may add it.
fn addable(p: &Portal, user: &User, tld: &str) -> Result<(Registry, Entry), PortalError> {
    let reader = user.reader(&p.dir);
    let roster = super::registry(&reader, tld)?.ok_or(PortalError::NotFound)?;
    let g = roster
        .registries
        .into_iter()
        .next()
        .ok_or(PortalError::NotFound)?;
    let e = new_entry(&g);
    if !writer::may_write_entry(&p.dir, &user.session.dn, &e) {
        return Err(PortalError::NotFound);
    }
    Ok((g, e))
}

/// A new person of the registry `g`: its DN (`uid=<new UUID>`), object classes, uid and ccTLD.
fn new_entry(g: &Registry) -> Entry {
    let uid = uuid::Uuid::new_v4().to_string();
    let mut e = Entry::new(format!("uid={uid},{}", g.entry.dn));
    e.set(
        "objectClass",
        [
            "top",
            "person",
            "organizationalPerson",
            "inetOrgPerson",
            "cctldContact",
        ]
        .iter()
        .map(|c| c.as_bytes().to_vec())
        .collect(),
    );
    e.set("uid", vec![uid.into_bytes()]);
    e.set("associatedDomain", vec![g.domain.as_bytes().to_vec()]);
    e
}

/// May the person add a contact to `g` (for the ccTLD page's link)?
pub(crate) fn may_add(p: &Portal, user: &User, g: &Registry) -> bool {
    writer::may_write_entry(&p.dir, &user.session.dn, &new_entry(g))
}

/// May the person remove `e` (for the ccTLD page's link)?
pub(crate) fn may_remove(p: &Portal, user: &User, e: &Entry) -> bool {
    writer::may_write_entry(&p.dir, &user.session.dn, e)
}

fn new_page(user: &User, g: &Registry, form: Option<&Form>, msg: &str) -> NewPage {
    let fields = FIELDS
        .iter()
        .map(|(a, label, kind, hint)| Field {
            attr: a.to_string(),
            label: label.to_string(),
            kind: *kind,
            hint: hint.to_string(),
            value: form.map(|f| text_of(f, a)).unwrap_or_default(),
            error: error_for(msg, a),
        })
        .collect();
    let picked = |attr: &str, v: &str| {
        form.is_some_and(|f| {
            f.iter()
                .any(|(k, x)| k == attr && x.eq_ignore_ascii_case(v))
        })
    };
    NewPage {
        layout: user.layout(),
        tld: g.domain.clone(),
        label: g.label(),
        csrf: user.session.csrf.clone(),
        fields,
        roles: ROLES
            .iter()
            .map(|r| Choice {
                value: r.to_string(),
                label: r.to_string(),
                checked: picked("cctldContactRole", r),
            })
            .collect(),
        substitutes: g
            .contacts()
            .filter_map(|c| {
                let u = first(c, "entryUUID");
                (!u.is_empty()).then(|| Choice {
                    checked: picked("cctldSubstitute", &u),
                    value: u,
                    label: name_of(c),
                })
            })
            .collect(),
        message: msg.to_string(),
    }
}

fn to_registry(tld: &str) -> Response {
    Redirect::to(&format!(
        "/cctld/{}",
        url::form_urlencoded::byte_serialize(tld.as_bytes()).collect::<String>()
    ))
    .into_response()
}

/// GET /cctld/{tld}/contact/new
pub(crate) async fn new_form(
    State(p): State<Portal>,
    user: User,
    Path(tld): Path<String>,
) -> Result<Response, PortalError> {
    let u = user.clone();
    let (g, _) = tokio::task::spawn_blocking(move || addable(&p, &u, &tld)).await??;
    Ok(html(StatusCode::OK, &new_page(&user, &g, None, "")))
}

/// The attributes of the new entry from the form (the substitutes' UUIDs as their DNs).
fn attributes(g: &Registry, e: &Entry, form: &Form) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = e
        .attrs
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.values
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect(),
            )
        })
        .collect();
    for (a, _, kind, _) in FIELDS {
        let mut vals = values_of(form, a);
        if *kind == Kind::YesNo {
            vals.retain(|v| v == "TRUE" || v == "FALSE");
        }
        out.push((a.to_string(), vals));
    }
    let given = values_of(form, "givenName").join(" ");
    let sn = values_of(form, "sn").join(" ");
    let shown = values_of(form, "displayName").join(" ");
    let cn = if shown.is_empty() {
        format!("{given} {sn}").trim().to_string()
    } else {
        shown
    };
    out.push((
        "cn".into(),
        vec![cn].into_iter().filter(|c| !c.is_empty()).collect(),
    ));
    let roles = values_of(form, "cctldContactRole")
        .into_iter()
        .filter(|r| ROLES.contains(&r.as_str()))
        .collect();
    out.push(("cctldContactRole".into(), roles));
    let wanted = values_of(form, "cctldSubstitute");
    let subs = g
        .contacts()
        .filter(|c| {
            let u = first(c, "entryUUID");
            !u.is_empty() && wanted.iter().any(|w| w.eq_ignore_ascii_case(&u))
        })
        .map(|c| c.dn.clone())
        .collect();
    out.push(("cctldSubstitute".into(), subs));
    out.retain(|(_, v)| !v.is_empty());
    out
}

/// Result codes whose message is about the form's values: the form comes back with it.
fn about_the_values(code: &LdapResultCode) -> bool {
    matches!(
        code,
        LdapResultCode::ConstraintViolation
            | LdapResultCode::InvalidAttributeSyntax
            | LdapResultCode::ObjectClassViolation
            | LdapResultCode::NamingViolation
            | LdapResultCode::UndefinedAttributeType
            | LdapResultCode::UnwillingToPerform
            | LdapResultCode::EntryAlreadyExists
    )
}

/// POST /cctld/{tld}/contact/new
pub(crate) async fn add(
    State(p): State<Portal>,
    Path(tld): Path<String>,
    posted: Posted<Form>,
) -> Result<Response, PortalError> {
    let Posted { user, form } = posted;
    let u = user.clone();
    let f = form.clone();
    let t = tld.clone();
    let done = tokio::task::spawn_blocking(move || {
        let (g, e) = addable(&p, &u, &t)?;
        let attrs = attributes(&g, &e, &f);
        match writer::add(&p.dir, &u.session.dn, &u.peer, &e.dn, attrs) {
            Ok(()) => Ok(Ok(g.domain.clone())),
            Err(err) if about_the_values(&err.code) => Ok(Err((g, err.message))),
            Err(err) => Err(PortalError::from(err)),
        }
    })
    .await??;
    match done {
        Ok(domain) => Ok(to_registry(&domain)),
        Err((g, msg)) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &new_page(&user, &g, Some(&form), &msg),
        )),
    }
}

/// The contact `uuid` of the registry `tld` as the person reads it, if the person may delete
/// it; whether it is the registry's 24/7 contact point.
fn removable(p: &Portal, user: &User, tld: &str, uuid: &str) -> Result<(Entry, bool), PortalError> {
    let reader = user.reader(&p.dir);
    let roster = super::registry(&reader, tld)?.ok_or(PortalError::NotFound)?;
    let g = roster.registries.first().ok_or(PortalError::NotFound)?;
    let e = g
        .contacts()
        .find(|e| !uuid.is_empty() && first(e, "entryUUID").eq_ignore_ascii_case(uuid))
        .ok_or(PortalError::NotFound)?;
    if !writer::may_write_entry(&p.dir, &user.session.dn, e) {
        return Err(PortalError::NotFound);
    }
    let point = first(&g.entry, "cctldContactPoint");
    let is_point = p
        .dir
        .parse_dn(&point)
        .ok()
        .zip(p.dir.parse_dn(&e.dn).ok())
        .is_some_and(|(a, b)| a.norm() == b.norm());
    Ok((e.clone(), is_point))
}

fn remove_page(
    user: &User,
    tld: &str,
    uuid: &str,
    e: &Entry,
    point: bool,
    msg: String,
) -> RemovePage {
    RemovePage {
        layout: user.layout(),
        tld: tld.to_string(),
        uuid: uuid.to_string(),
        name: name_of(e),
        point,
        csrf: user.session.csrf.clone(),
        message: msg,
    }
}

/// GET /cctld/{tld}/contact/{uuid}/remove: the confirmation page.
pub(crate) async fn remove_form(
    State(p): State<Portal>,
    user: User,
    Path((tld, uuid)): Path<(String, String)>,
) -> Result<Response, PortalError> {
    let u = user.clone();
    let (t, id) = (tld.clone(), uuid.clone());
    let (e, point) = tokio::task::spawn_blocking(move || removable(&p, &u, &t, &id)).await??;
    Ok(html(
        StatusCode::OK,
        &remove_page(&user, &tld, &uuid, &e, point, String::new()),
    ))
}

/// The server's refusal of a delete in plain words, with its own message after.
fn refusal(err: &crate::core::error::LdapError) -> String {
    let why = match err.code {
        LdapResultCode::NotAllowedOnNonLeaf => {
            "Other entries are stored below this contact; they must be removed first."
        }
        LdapResultCode::ConstraintViolation | LdapResultCode::UnwillingToPerform => {
            "Other entries depend on this contact (for example, it is the registry's 24/7 \
             contact point, or the only member of a group): change them first."
        }
        _ => "The directory refused to remove this contact.",
    };
    format!("{why} The server said: {}", err.message)
}

/// POST /cctld/{tld}/contact/{uuid}/remove
pub(crate) async fn remove(
    State(p): State<Portal>,
    Path((tld, uuid)): Path<(String, String)>,
    posted: Posted<Form>,
) -> Result<Response, PortalError> {
    let user = posted.user;
    let u = user.clone();
    let (t, id) = (tld.clone(), uuid.clone());
    let done = tokio::task::spawn_blocking(move || {
        let (e, point) = removable(&p, &u, &t, &id)?;
        match writer::delete(&p.dir, &u.session.dn, &u.peer, &e.dn) {
            Ok(()) => Ok(Ok(())),
            Err(err)
                if matches!(
                    err.code,
                    LdapResultCode::NoSuchObject | LdapResultCode::InsufficentAccessRights
                ) =>
            {
                Err(PortalError::NotFound)
            }
            Err(err) if err.code == LdapResultCode::Other => Err(PortalError::from(err)),
            Err(err) => Ok(Err((e, point, refusal(&err)))),
        }
    })
    .await??;
    match done {
        Ok(()) => Ok(to_registry(&tld)),
        Err((e, point, msg)) => Ok(html(
            StatusCode::CONFLICT,
            &remove_page(&user, &tld, &uuid, &e, point, msg),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_go_to_their_fields() {
        let msg =
            "telephoneNumber: \"call me\" is not a phone number; mail: \"x\" is not an address";
        assert_eq!(
            error_for(msg, "telephoneNumber"),
            "telephoneNumber: \"call me\" is not a phone number"
        );
        assert_eq!(error_for(msg, "MAIL"), "mail: \"x\" is not an address");
        assert_eq!(error_for(msg, "mobile"), "");
    }

    #[test]
    fn form_values_one_per_line_roles_and_yes_no() {
        let form: Form = vec![
            (
                "telephoneNumber".into(),
                "+1 555 0100\r\n\r\n +1 555 0101 ".into(),
            ),
            ("cctldContactRole".into(), "security".into()),
            ("cctldContactRole".into(), "javascript".into()),
            ("cctldAvailable247".into(), "maybe".into()),
            ("givenName".into(), "Ana".into()),
            ("sn".into(), "Silva".into()),
        ];
        assert_eq!(
            values_of(&form, "telephoneNumber"),
            vec!["+1 555 0100", "+1 555 0101"]
        );
        let g = Registry {
            entry: Entry::new("associatedDomain=br,ou=registries,dc=x"),
            domain: "br".into(),
            regions: vec![],
            team: None,
            people: vec![],
        };
        let e = Entry::new("uid=u,associatedDomain=br,ou=registries,dc=x");
        let attrs = attributes(&g, &e, &form);
        let get = |a: &str| attrs.iter().find(|x| x.0 == a).map(|x| x.1.clone());
        assert_eq!(get("cn"), Some(vec!["Ana Silva".to_string()]));
        assert_eq!(get("cctldContactRole"), Some(vec!["security".to_string()]));
        assert_eq!(get("cctldAvailable247"), None);
        assert_eq!(get("mobile"), None);
    }
}
