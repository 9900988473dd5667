//! Onboarding a registry (directory admins only): GET and POST /admin/onboard create, as the
//! logged-in directory admin through the LDAP write path, the registry's entry, its first
//! admin's account (no password) and its `cn=admins` group, and make a one-time invitation
//! link (store/onetime.rs), shown and optionally mailed; invite.rs is the link's page.

use super::super::auth::{Posted, User};
use super::super::error::PortalError;
use super::super::view::{html, Layout};
use super::super::writer;
use super::super::Portal;
use super::links;
use crate::acl::rules::Level;
use crate::acl::Identity;
use crate::core::dn::{escape_value, Dn};
use crate::ops::Op;
use crate::service::Directory;
use crate::store::onetime::{self, Link, Purpose};
use crate::store::View;
use crate::tools::reminders::{smtp::Smtp, Mail, Mailer};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use ldap3_proto::proto::{LdapAddRequest, LdapAttribute, LdapResultCode};
use serde::Deserialize;

/// Longest text taken in a field.
const MAX_FIELD: usize = 256;

#[derive(Template)]
#[template(path = "portal/onboard.html")]
pub(crate) struct OnboardPage {
    layout: Layout,
    csrf: String,
    message: String,
    can_mail: bool,
    form_tld: String,
    form_name: String,
    form_admin_name: String,
    form_admin_mail: String,
    /// After a creation: the invitation link (empty: none yet), what was made, whether mailed.
    link: String,
    tld: String,
    done_name: String,
    admin_dn: String,
    expires: String,
    mailed: String,
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct OnboardForm {
    #[serde(default)]
    tld: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    admin_name: String,
    #[serde(default)]
    admin_mail: String,
    #[serde(default)]
    send: String,
}

/// May `who` onboard a registry: does it have manage access to the registries' container
/// (the directory admins, by the shipped rules)?
fn is_directory_admin(dir: &Directory, who: &Dn) -> bool {
    let Some(base) = dir.registries() else {
        return false;
    };
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let Ok(Some((_, e))) = snap.lookup(&base) else {
        return false;
    };
    let identity = Identity::User(who.clone());
    let acl = dir.policy.checker(&identity, &snap, &dir.schema);
    acl.allows(&base.store_key(), Some(&e), None, Level::Manage)
}

fn refused() -> PortalError {
    PortalError::Forbidden("Only directory admins may onboard a registry.")
}

/// Can the link be mailed from here (a relay, a public address, the writer)?
fn can_mail(dir: &Directory) -> bool {
    dir.config.reminders.enabled
        && !dir.config.portal.public_url.is_empty()
        && dir.write_referral().is_none()
}

fn blank(user: &User, dir: &Directory, form: &OnboardForm, message: String) -> OnboardPage {
    OnboardPage {
        layout: user.layout(),
        csrf: user.session.csrf.clone(),
        message,
        can_mail: can_mail(dir),
        form_tld: form.tld.clone(),
        form_name: form.name.clone(),
        form_admin_name: form.admin_name.clone(),
        form_admin_mail: form.admin_mail.clone(),
        link: String::new(),
        tld: String::new(),
        done_name: String::new(),
        admin_dn: String::new(),
        expires: String::new(),
        mailed: String::new(),
    }
}

/// GET /admin/onboard
pub(crate) async fn form(State(p): State<Portal>, user: User) -> Result<Response, PortalError> {
    let (d, who) = (p.dir.clone(), user.session.dn.clone());
    if !tokio::task::spawn_blocking(move || is_directory_admin(&d, &who)).await? {
        return Err(refused());
    }
    Ok(html(
        StatusCode::OK,
        &blank(&user, &p.dir, &OnboardForm::default(), String::new()),
    ))
}

/// The form, checked: (tld, registry name, admin name, admin mail, uid).
struct Checked {
    tld: String,
    name: String,
    admin_name: String,
    admin_mail: String,
    uid: String,
}

fn check(f: &OnboardForm) -> Result<Checked, String> {
    let tld = f.tld.trim().trim_start_matches('.').to_ascii_lowercase();
    let label_ok = (2..=63).contains(&tld.len())
        && tld
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !tld.starts_with('-')
        && !tld.ends_with('-');
    if !label_ok {
        return Err(
            "The ccTLD must be its ASCII form (A-label): 2 to 63 letters, digits or hyphens."
                .into(),
        );
    }
    let (name, admin_name, admin_mail) = (
        f.name.trim().to_string(),
        f.admin_name.trim().to_string(),
        f.admin_mail.trim().to_string(),
    );
    for (v, what) in [
        (&name, "registry name"),
        (&admin_name, "admin's name"),
        (&admin_mail, "admin's e-mail address"),
    ] {
        if v.is_empty() || v.len() > MAX_FIELD || v.chars().any(char::is_control) {
            return Err(format!(
                "The {what} is needed (at most {MAX_FIELD} characters)."
            ));
        }
    }
    if !email_address::EmailAddress::is_valid(&admin_mail) {
        return Err("The admin's e-mail address is not valid.".into());
    }
    Ok(Checked {
        tld,
        uid: uid_of(&admin_mail),
        name,
        admin_name,
        admin_mail,
    })
}

/// The admin's uid: the local part of the address in lower case, when it is a plain name.
fn uid_of(mail: &str) -> String {
    let local = mail
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or("")
        .to_ascii_lowercase();
    let plain = !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if plain {
        local
    } else {
        "admin".into()
    }
}

fn attr(name: &str, vals: &[&str]) -> LdapAttribute {
    LdapAttribute {
        atype: name.to_string(),
        vals: vals.iter().map(|v| v.as_bytes().to_vec()).collect(),
    }
}

fn add(dn: &str, attrs: Vec<LdapAttribute>) -> Op {
    Op::Add(LdapAddRequest {
        dn: dn.to_string(),
        attributes: attrs,
    })
}

/// What a successful onboarding made.
struct Made {
    admin_dn: String,
    token: String,
    expires: i64,
    mailed: String,
}

/// Create the three entries as `user` (undone, as far as made, when one fails), then the
/// invitation. Blocking.
fn onboard(
    p: &Portal,
    user: &User,
    c: &Checked,
    send: bool,
) -> Result<Result<Made, String>, PortalError> {
    let dir = &*p.dir;
    let who = &user.session.dn;
    if !is_directory_admin(dir, who) {
        return Err(refused());
    }
    let base = dir.registries().ok_or(PortalError::NotFound)?;
    let reg = format!(
        "associatedDomain={},{}",
        escape_value(c.tld.as_bytes()),
        base.display()
    );
    let admin = format!("uid={},{reg}", escape_value(c.uid.as_bytes()));
    let group = format!("cn=admins,{reg}");
    let sn = c
        .admin_name
        .rsplit(' ')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(&c.admin_name);
    let steps = [
        (
            reg.clone(),
            vec![
                attr("objectClass", &["organization", "cctldRegistry"]),
                attr("associatedDomain", &[&c.tld]),
                attr("o", &[&c.name]),
            ],
        ),
        (
            admin.clone(),
            vec![
                attr("objectClass", &["inetOrgPerson"]),
                attr("uid", &[&c.uid]),
                attr("cn", &[&c.admin_name]),
                attr("displayName", &[&c.admin_name]),
                attr("sn", &[sn]),
                attr("mail", &[&c.admin_mail]),
            ],
        ),
        (
            group.clone(),
            vec![
                attr("objectClass", &["groupOfNames"]),
                attr("cn", &["admins"]),
                attr("member", &[&admin]),
            ],
        ),
    ];
    let mut made: Vec<&str> = Vec::new();
    for (dn, attrs) in &steps {
        if let Err(e) = writer::run_as(dir, who, &user.peer, add(dn, attrs.clone())) {
            for done in made.iter().rev() {
                if let Err(u) = writer::run_as(dir, who, &user.peer, Op::Delete(done.to_string())) {
                    tracing::warn!(dn = %done, error = %u.message, "onboarding: could not undo");
                }
            }
            return match e.code {
                LdapResultCode::EntryAlreadyExists => {
                    Ok(Err(format!("{dn} exists already: nothing was created.")))
                }
                LdapResultCode::ConstraintViolation
                | LdapResultCode::InvalidAttributeSyntax
                | LdapResultCode::ObjectClassViolation
                | LdapResultCode::InvalidDNSyntax => Ok(Err(format!(
                    "Refused ({}): nothing was created.",
                    e.message
                ))),
                _ => Err(PortalError::from(e)),
            };
        }
        made.push(dn);
    }
    let admin_dn = dir.parse_dn(&admin).map_err(PortalError::from)?;
    let uuid = {
        let snap = dir
            .store
            .read()
            .map_err(|e| PortalError::Internal(e.to_string()))?;
        snap.lookup(&admin_dn)
            .map_err(|e| PortalError::Internal(e.to_string()))?
            .map(|(_, e)| crate::tools::offline::first(&e, "entryUUID"))
            .unwrap_or_default()
    };
    let now = links::now(dir);
    let expires = now + i64::from(dir.config.portal.invitation_days) * 86_400;
    let (token, key) = onetime::new_token()
        .ok_or_else(|| PortalError::Internal("no random bytes for an invitation".into()))?;
    let link = Link {
        purpose: Purpose::Invitation,
        target: admin_dn.display().to_string(),
        uuid,
        issuer: who.display().to_string(),
        mail: c.admin_mail.clone(),
        created: now,
        expires,
        used: None,
    };
    let stored = dir
        .store
        .onetime_add(&key, &link, now)
        .map_err(|e| PortalError::Internal(e.to_string()))?;
    if !stored {
        return Ok(Err(format!(
            "The registry and its admin were created, but no invitation could be made: {} one-time links are held already. Try again later.",
            onetime::MAX_LINKS
        )));
    }
    tracing::info!(link = %links::link_id(&key), admin = %admin_dn.display(), by = %who.display(),
        "invitation made");
    let mailed = if send && can_mail(dir) {
        match mail_invitation(dir, c, &token, expires) {
            Ok(()) => format!("The link was mailed to {}.", c.admin_mail),
            Err(e) => {
                tracing::warn!(link = %links::link_id(&key), error = %e, "invitation not mailed");
                format!("The link could not be mailed ({e}): send it yourself.")
            }
        }
    } else {
        String::new()
    };
    Ok(Ok(Made {
        admin_dn: admin_dn.display().to_string(),
        token,
        expires,
        mailed,
    }))
}

/// The invitation mail, over the reminders' relay.
fn mail_invitation(dir: &Directory, c: &Checked, token: &str, expires: i64) -> Result<(), String> {
    let smtp = Smtp::new(&dir.config.reminders)?;
    let m = Mail {
        to: vec![c.admin_mail.clone()],
        subject: format!(
            "[ccdir] .{}: your account in the incident-response directory",
            c.tld
        ),
        body: format!(
            "Dear {},\n\n\
             an account was made for you as an admin of .{} ({}) in the ccTLD\n\
             incident-response directory. Set its password with this link; it works\n\
             once and expires {}:\n\n  {}\n\n\
             If you did not expect this mail, ignore it.\n",
            c.admin_name,
            c.tld,
            c.name,
            links::utc(expires),
            links::address(dir, &format!("/invite/{token}"))
        ),
        marks: Vec::new(),
        registry: None,
        message_id: None,
    };
    smtp.send(&m).map_err(|e| match e {
        crate::tools::reminders::Refused::Mail(t) | crate::tools::reminders::Refused::Relay(t) => t,
    })
}

/// POST /admin/onboard
pub(crate) async fn create(
    State(p): State<Portal>,
    posted: Posted<OnboardForm>,
) -> Result<Response, PortalError> {
    let Posted { user, form } = posted;
    let checked = match check(&form) {
        Ok(c) => c,
        Err(msg) => {
            let (d, who) = (p.dir.clone(), user.session.dn.clone());
            if !tokio::task::spawn_blocking(move || is_directory_admin(&d, &who)).await? {
                return Err(refused());
            }
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &blank(&user, &p.dir, &form, msg),
            ));
        }
    };
    let send = form.send == "on";
    let (p2, u2) = (p.clone(), user.clone());
    let (done, checked) = tokio::task::spawn_blocking(move || {
        let r = onboard(&p2, &u2, &checked, send);
        (r, checked)
    })
    .await?;
    match done? {
        Ok(m) => {
            let mut page = blank(&user, &p.dir, &OnboardForm::default(), String::new());
            page.link = links::address(&p.dir, &format!("/invite/{}", m.token));
            page.tld = checked.tld;
            page.done_name = checked.name;
            page.admin_dn = m.admin_dn;
            page.expires = links::utc(m.expires);
            page.mailed = m.mailed;
            Ok(html(StatusCode::OK, &page))
        }
        Err(msg) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &blank(&user, &p.dir, &form, msg),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(tld: &str, mail: &str) -> OnboardForm {
        OnboardForm {
            tld: tld.into(),
            name: "Registry".into(),
            admin_name: "Ana Silva".into(),
            admin_mail: mail.into(),
            send: String::new(),
        }
    }

    #[test]
    fn the_form_is_checked() {
        let c = check(&form(".ZZ", "Ana.Silva@nic.zz")).unwrap();
        assert_eq!((c.tld.as_str(), c.uid.as_str()), ("zz", "ana.silva"));
        assert_eq!(
            check(&form("xn--p1ai", "a@b.example")).unwrap().tld,
            "xn--p1ai"
        );
        for bad in ["z", "a,b", "zz=1", "-zz", "рф", ""] {
            assert!(check(&form(bad, "a@b.example")).is_err(), "{bad}");
        }
        assert!(check(&form("zz", "not an address")).is_err());
        assert_eq!(uid_of("\"a b\"@x.example"), "admin");
    }
}
