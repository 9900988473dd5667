//! The e-mail challenge check (docs/portal.md, "E-mail challenges"): the contacts that are due
//! (overdue, or due within `reminders.lead_days`) and whose next channel in the rotation is
//! e-mail get a mail with a one-time link (store/onetime.rs) to /challenge/{token}
//! (pages/challenge.rs), whose button records a verification by e-mail. A challenge left
//! unanswered past `portal.challenge_days`, or refused by the relay, records a failed check by
//! e-mail, so the contact reads overdue. So does a bounce: `ccdir bounce` leaves it in the
//! data directory's spool (tools/bounce.rs) and each check first records the spooled bounces
//! of open challenges.
//!
//! Results are recorded through the LDAP request path (`ops::dispatch`: access rules, the write
//! pipeline, changelog, audit) as `portal.challenge_recorder`, which must be a recorder; the
//! note names the challenge's id (never the token). Synchronous: the server (app/challenges.rs)
//! runs [`run`] on a blocking thread, on the writer only; one run at a time.

use crate::core::dn::Dn;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::onetime::{self, Link, Purpose};
use crate::tools::bounce;
use crate::tools::reminders::{Mail, Mailer, Refused};
use ldap3_proto::proto::{LdapModify, LdapModifyType, LdapPartialAttribute, LdapResultCode};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// One check at a time (the task and a test's or tool's call): no contact gets two challenges.
static RUNNING: Mutex<()> = Mutex::new(());

/// What one check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Challenges mailed.
    pub sent: usize,
    /// Mails the relay refused for good (their links closed, failed checks recorded).
    pub failed: usize,
    /// Not tried: the relay was unavailable, or the server is stopping.
    pub deferred: usize,
    /// Challenges that expired unanswered: failures recorded.
    pub expired: usize,
    /// Spooled bounces of open challenges: failures recorded.
    pub bounced: usize,
}

/// The short id of a challenge (hex of the first 8 bytes of its stored hash), as the logs and
/// the history note name it.
pub(crate) fn link_id(key: &[u8; 32]) -> String {
    key.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Record the challenge's result on its contact as the configured recorder: a verification by
/// e-mail (`verified` or `failed`) with the challenge's id in the note. The contact must still
/// be the one challenged (same entryUUID). Blocking.
pub(crate) fn record(
    dir: &Directory,
    key: &[u8; 32],
    l: &Link,
    verified: bool,
    why: &str,
) -> Result<(), LdapError> {
    let recorder = dir.parse_dn(&dir.config.portal.challenge_recorder)?;
    let target = dir.parse_dn(&l.target)?;
    let same = {
        use crate::store::View;
        dir.store
            .read()?
            .lookup(&target)?
            .is_some_and(|(_, e)| crate::tools::offline::first(&e, "entryUUID") == l.uuid)
    };
    if !same {
        return Err(LdapError::new(
            LdapResultCode::NoSuchObject,
            "the challenged contact is gone".to_string(),
        ));
    }
    let status = if verified { "verified" } else { "failed" };
    let note = format!("e-mail challenge {} to {}: {why}", link_id(key), l.mail);
    modify_as(
        dir,
        &recorder,
        &l.target,
        &[
            ("cctldVerificationMethod", "email"),
            ("cctldVerificationStatus", status),
            ("cctldVerificationNote", &note),
        ],
    )
}

/// One LDAP modify as `who` (the challenge recorder), through the portal's writer: the same
/// request path, access rules and audit as every portal change.
fn modify_as(dir: &Directory, who: &Dn, dn: &str, attrs: &[(&str, &str)]) -> Result<(), LdapError> {
    let changes = attrs
        .iter()
        .map(|(a, v)| LdapModify {
            operation: LdapModifyType::Replace,
            modification: LdapPartialAttribute {
                atype: a.to_string(),
                vals: vec![v.as_bytes().to_vec()],
            },
        })
        .collect();
    super::writer::modify(dir, who, &super::Peer::unknown(), dn, changes)
}

/// Record the failures of the expired challenges, then mail the contacts due by e-mail that
/// have no open challenge. A mail is sent only after its link is stored (durably); a mail the
/// relay does not take closes its link.
pub(crate) fn run(
    dir: &Directory,
    mailer: &dyn Mailer,
    stop: &dyn Fn() -> bool,
) -> Result<Outcome, String> {
    let _one = RUNNING.lock().map_err(|_| "challenge check poisoned")?;
    let c = &dir.config.portal;
    if c.public_url.is_empty() || c.challenge_recorder.is_empty() {
        return Err(
            "e-mail challenges need portal.public_url and portal.challenge_recorder".into(),
        );
    }
    let now = dir.clock.now().unix_timestamp();
    // A spool the server cannot read or clean is logged; the challenges go out all the same.
    let bounced = bounces(dir, now).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the spooled bounces could not be taken");
        0
    });
    let mut out = Outcome {
        bounced,
        ..Outcome::default()
    };
    let mut open = HashSet::new();
    for (key, l) in dir.store.onetime_all().map_err(|e| e.to_string())? {
        if l.purpose != Purpose::EmailChallenge || l.used.is_some() {
            continue;
        }
        if !l.expired(now) {
            open.insert(l.target.to_lowercase());
            continue;
        }
        if checked_since(dir, &l) {
            // A check was recorded since the mail went out (a bounce: `ccdir verify --failed
            // --mail`, or a verifier's call): that is the result; nothing to add.
            tracing::info!(challenge = %link_id(&key), dn = %l.target,
                "e-mail challenge expired after another check was recorded");
            dir.store
                .onetime_close(&key, now)
                .map_err(|e| e.to_string())?;
            continue;
        }
        match record(dir, &key, &l, false, "not answered in time") {
            Ok(()) => out.expired += 1,
            Err(e) if e.code == LdapResultCode::NoSuchObject => {}
            Err(e) => {
                tracing::warn!(challenge = %link_id(&key), dn = %l.target, error = %e.message,
                    "the expired challenge's failure could not be recorded");
                continue;
            }
        }
        tracing::info!(challenge = %link_id(&key), dn = %l.target, "e-mail challenge expired");
        dir.store
            .onetime_close(&key, now)
            .map_err(|e| e.to_string())?;
    }
    let entries = crate::tools::offline::entries(dir, None, None)?;
    let uuids: HashMap<String, String> = entries
        .iter()
        .map(|e| {
            (
                e.dn.to_lowercase(),
                crate::tools::offline::first(e, "entryUUID"),
            )
        })
        .collect();
    let report =
        crate::tools::report::build(&entries, dir.clock.now(), dir.config.reminders.lead_days);
    let expires = now + i64::from(c.challenge_days) * 86_400;
    for r in &report.registries {
        for item in &r.contacts {
            if item.next_method != crate::freshness::Method::Email.as_str()
                || open.contains(&item.dn.to_lowercase())
            {
                continue;
            }
            let Some(to) = item.mail.first() else {
                continue;
            };
            if stop() {
                out.deferred += 1;
                continue;
            }
            let (token, key) = onetime::new_token().ok_or("no random bytes for a challenge")?;
            let link = Link {
                purpose: Purpose::EmailChallenge,
                target: item.dn.clone(),
                uuid: uuids
                    .get(&item.dn.to_lowercase())
                    .cloned()
                    .unwrap_or_default(),
                issuer: String::new(),
                mail: to.clone(),
                created: now,
                expires,
                used: None,
            };
            if !dir
                .store
                .onetime_add(&key, &link, now)
                .map_err(|e| e.to_string())?
            {
                tracing::warn!("e-mail challenges: the one-time link table is full");
                return Ok(out);
            }
            let mut m = mail(dir, &r.domain, &item.name, to, &token, expires);
            m.message_id = Some(bounce::message_id(
                &link_id(&key),
                &dir.config.reminders.from,
            ));
            match mailer.send(&m) {
                Ok(()) => {
                    out.sent += 1;
                    open.insert(item.dn.to_lowercase());
                    tracing::info!(challenge = %link_id(&key), dn = %item.dn, to = %to,
                        "e-mail challenge sent");
                }
                Err(e) => {
                    dir.store
                        .onetime_close(&key, now)
                        .map_err(|e| e.to_string())?;
                    let relay = matches!(e, Refused::Relay(_));
                    let text = match e {
                        Refused::Mail(t) | Refused::Relay(t) => t,
                    };
                    tracing::warn!(challenge = %link_id(&key), dn = %item.dn, to = %to,
                        error = %text, "e-mail challenge not sent");
                    if relay {
                        out.deferred += 1;
                        return Ok(out);
                    }
                    // Refused for good (the relay's 5xx answer): as a bounce, a failed check
                    // by e-mail, so the address is not mailed again at every check.
                    let why = format!("the relay refused the mail: {text}");
                    if let Err(e) = record(dir, &key, &link, false, &why) {
                        tracing::warn!(challenge = %link_id(&key), dn = %item.dn, error = %e.message,
                            "the refused challenge's failure could not be recorded");
                    }
                    out.failed += 1;
                }
            }
        }
    }
    Ok(out)
}

/// Record the spooled bounces (tools/bounce.rs): for each that returns an open challenge to
/// the challenge's own address, a failed check by e-mail, and the challenge closed. A spool
/// file is removed once dealt with (recorded, or nothing to record: a closed or unknown
/// challenge, another address), kept for the next check when the write failed, and set aside
/// when it cannot be read. The number recorded.
fn bounces(dir: &Directory, now: i64) -> Result<usize, String> {
    let spooled = bounce::pending(&dir.config.data_dir)?;
    if spooled.is_empty() {
        return Ok(0);
    }
    let mut links: HashMap<String, ([u8; 32], Link)> = dir
        .store
        .onetime_all()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|(_, l)| l.purpose == Purpose::EmailChallenge)
        .map(|(k, l)| (link_id(&k), (k, l)))
        .collect();
    let mut recorded = 0;
    for s in spooled {
        let b = match s.bounce {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(file = %s.path.display(), error = %e,
                    "a spooled bounce cannot be read: set aside (.bad)");
                bounce::set_aside(&s.path)?;
                continue;
            }
        };
        match one_bounce(dir, &mut links, &b, now) {
            Ok(r) => {
                recorded += usize::from(r);
                bounce::done(&s.path)?;
            }
            Err(e) => tracing::warn!(challenge = %b.challenge, error = %e,
                "the bounced challenge's failure could not be recorded: it stays in the spool"),
        }
    }
    Ok(recorded)
}

/// One spooled bounce: true when a failure was recorded.
fn one_bounce(
    dir: &Directory,
    links: &mut HashMap<String, ([u8; 32], Link)>,
    b: &bounce::Bounce,
    now: i64,
) -> Result<bool, String> {
    let Some((key, l)) = links.get_mut(&b.challenge) else {
        tracing::info!(challenge = %b.challenge,
            "a bounce of an unknown challenge (long closed, or not this directory's): nothing recorded");
        return Ok(false);
    };
    if l.used.is_some() {
        tracing::info!(challenge = %b.challenge, dn = %l.target,
            "a bounce of a challenge already answered or closed: nothing recorded");
        return Ok(false);
    }
    let Some(f) = b
        .failed
        .iter()
        .find(|f| f.address.eq_ignore_ascii_case(l.mail.trim()))
    else {
        tracing::warn!(challenge = %b.challenge, dn = %l.target,
            "a bounce naming other addresses than the challenge's: nothing recorded");
        return Ok(false);
    };
    let why = if f.diagnostic.is_empty() {
        format!("bounced ({})", f.status)
    } else {
        format!("bounced ({}): {}", f.status, f.diagnostic)
    };
    let wrote = match record(dir, key, l, false, &why) {
        Ok(()) => true,
        Err(e) if e.code == LdapResultCode::NoSuchObject => false,
        Err(e) => return Err(e.message),
    };
    dir.store
        .onetime_close(key, now)
        .map_err(|e| e.to_string())?;
    l.used = Some(now);
    if wrote {
        tracing::info!(challenge = %b.challenge, dn = %l.target, status = %f.status,
            "e-mail challenge bounced: failed check recorded");
    }
    Ok(wrote)
}

/// Was a check of the challenged contact recorded since the challenge was made?
fn checked_since(dir: &Directory, l: &Link) -> bool {
    use crate::store::View;
    let Ok(target) = dir.parse_dn(&l.target) else {
        return false;
    };
    let Ok(snap) = dir.store.read() else {
        return false;
    };
    let Ok(Some((_, e))) = snap.lookup(&target) else {
        return false;
    };
    let last = crate::tools::offline::first(&e, "cctldLastVerified");
    crate::core::schema::matching::parse_generalized_time(last.as_bytes())
        .is_some_and(|ns| ns >= i128::from(l.created) * 1_000_000_000)
}

/// The challenge mail: plain text, what it is for, the link, when it expires.
fn mail(dir: &Directory, domain: &str, name: &str, to: &str, token: &str, expires: i64) -> Mail {
    let url = format!(
        "{}/challenge/{token}",
        dir.config.portal.public_url.trim_end_matches('/')
    );
    let when = time::OffsetDateTime::from_unix_timestamp(expires)
        .ok()
        .map(|t| crate::tools::report::day(&crate::core::clock::generalized_time(t)))
        .unwrap_or_default();
    Mail {
        to: vec![to.to_string()],
        subject: format!("[ccdir] .{domain}: please confirm this address is read"),
        body: format!(
            "Hello,\n\n\
             this address is listed as an incident-response contact of .{domain}\n\
             ({name}) in the ccTLD incident-response directory. To confirm that it\n\
             is read, open this link and press the button on the page (until {when} UTC):\n\n  {url}\n\n\
             If nobody confirms, the check is recorded as failed and the registry is\n\
             asked to correct the address.\n"
        ),
        marks: Vec::new(),
        registry: None,
        message_id: None,
    }
}
