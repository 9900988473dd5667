//! The roster in every member's hands (docs/operations/roster-mail.md): each member registry's
//! 24/7 contact point (the recipients of the `members` list, tools/listkeys.rs) is mailed the
//! roster (the printable pages, the vCards, the CSV, as that contact point may read the
//! directory) once per period of `interval_months` calendar months, and once more when its
//! contact point changes; signed with the directory's OpenPGP key, and encrypted to the
//! recipient's key where the directory holds one.
//!
//! What was sent is in the store (store/rostermail.rs), written durably once the relay accepted
//! the mail: "sent <period> <registry>" makes the periodic mail at most one per registry and
//! period, and "point <registry>" holds a fingerprint of the contact point the roster last
//! went to (its DN, its mail addresses and its OpenPGP fingerprints). A change is found by
//! comparing that fingerprint with the directory's current state, not by reading the changelog:
//! it sees changes made while the server or the roster mail was off, by import or by a rename's
//! carried-over references, counts a change undone before the next check as none, and needs no
//! changelog position of its own.
//!
//! Synchronous: the server runs [`run`] on a blocking thread every check interval; `ccdir
//! roster-mail` runs it (or only [`plan`], for a dry run) offline.

pub mod gpg;
pub mod mime;

use crate::core::entry::Entry;
use crate::service::Directory;
use crate::store::rostermail::{OWN, POINT, SENT};
use crate::tools::listkeys;
use crate::tools::offline::{all, first};
use crate::tools::reminders::smtp::Smtp;
use crate::tools::reminders::Refused;
use crate::tools::report::key;
use crate::tools::roster::{self, Roster};
use mime::Attachment;
use std::collections::HashMap;
use time::OffsetDateTime;

/// Why a registry gets the roster now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Not yet mailed in this period.
    Period,
    /// Mailed in this period, but a member registry's contact point changed since (every
    /// member gets the roster again, so that all hold the new contact).
    Changed,
}

/// One roster mail to send.
#[derive(Debug, Clone)]
pub struct Planned {
    pub registry: String,
    pub point: String,
    pub to: Vec<String>,
    pub reason: Reason,
    /// For [`Reason::Changed`]: the registries whose contact point changed (".de").
    pub changed: Vec<String>,
    pub subject: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// The recipient's OpenPGP key (fingerprint, armoured key), when the directory holds it.
    pub key: Option<(String, String)>,
    /// Why a key the contact point names is not used.
    pub key_problems: Vec<String>,
    /// The state rows to record once the relay accepted it.
    marks: Vec<(String, String)>,
}

/// Sends a whole message as is (the relay; tests use their own).
pub trait Transport {
    /// Ok once the relay accepted the message for all of `to`.
    fn send_raw(&self, to: &[String], message: &[u8]) -> Result<(), Refused>;
}

impl Transport for Smtp {
    fn send_raw(&self, to: &[String], message: &[u8]) -> Result<(), Refused> {
        Smtp::send_raw(self, to, message)
    }
}

/// The relay of `[reminders]` with the roster mail's sender.
pub fn smtp(c: &crate::service::config::Config) -> Result<Smtp, String> {
    let mut r = c.reminders.clone();
    r.from = c.roster_mail.sender(&c.reminders).to_string();
    Smtp::new(&r)
}

/// The period `at` falls in, named by its first month: with `interval_months` 3, 2027-01 for
/// January to March 2027.
pub fn period(at: OffsetDateTime, interval_months: u32) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let n = interval_months.max(1) as i64;
    let m = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1;
    let first = m - m.rem_euclid(n);
    format!(
        "{:04}-{:02}",
        first.div_euclid(12),
        first.rem_euclid(12) + 1
    )
}

/// What identifies a contact point for the change check: its DN, its mail addresses and its
/// OpenPGP fingerprints, normalised; hex of SHA-256, shortened.
fn point_fingerprint(r: &listkeys::Recipient, e: Option<&Entry>) -> String {
    use sha2::Digest;
    let mut parts = vec![key(&r.dn)];
    let mut mail: Vec<String> = r.mail.iter().map(|m| m.to_ascii_lowercase()).collect();
    mail.sort();
    parts.extend(mail);
    let mut fprs: Vec<String> = e
        .map(|e| all(e, "cctldOpenPGPFingerprint"))
        .unwrap_or_default()
        .iter()
        .map(|f| f.replace(' ', "").to_ascii_uppercase())
        .collect();
    fprs.sort();
    parts.extend(fprs);
    let h = sha2::Sha256::digest(parts.join("\n").as_bytes());
    h.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The mails due at the directory's clock: rendered, neither signed nor sent.
pub fn plan(dir: &Directory) -> Result<Vec<Planned>, String> {
    let now = dir.clock.now();
    let c = &dir.config.roster_mail;
    let entries = crate::tools::offline::entries(dir, None, None)?;
    let by_key: HashMap<String, &Entry> = entries.iter().map(|e| (key(&e.dn), e)).collect();
    let members = format!("cn=members,ou=groups,{}", dir.suffix.display());
    if !by_key.contains_key(&key(&members)) {
        return Ok(Vec::new());
    }
    let recipients = listkeys::recipients(dir, &entries, "members")?;
    let marks: HashMap<String, String> = dir
        .store
        .roster_mail_marks()
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let period = period(now, c.interval_months);
    let t = now.unix_timestamp().to_string();
    // Every member's contact point, by fingerprint: the roster changes for everybody when one
    // of them changes.
    let points: Vec<(listkeys::Recipient, String, String, String)> = recipients
        .into_iter()
        .filter_map(|r| {
            let reg_dn = r.registry.clone()?;
            let reg = key(&reg_dn);
            let fp = point_fingerprint(&r, by_key.get(&key(&r.dn)).copied());
            let label = by_key
                .get(&reg)
                .map(|e| {
                    let o = first(e, "o");
                    let d = first(e, "associatedDomain");
                    if o.is_empty() {
                        format!(".{d}")
                    } else {
                        format!(".{d} ({o})")
                    }
                })
                .unwrap_or_else(|| reg_dn.clone());
            Some((r, reg, fp, label))
        })
        .collect();
    let combined = {
        use sha2::Digest;
        let mut lines: Vec<String> = points
            .iter()
            .map(|(_, reg, fp, _)| format!("{reg} {fp}"))
            .collect();
        lines.sort();
        let h = sha2::Sha256::digest(lines.join("\n").as_bytes());
        h.iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let changed: Vec<String> = points
        .iter()
        .filter(|(_, reg, fp, _)| {
            marks
                .get(&format!("{OWN}{reg}"))
                .is_some_and(|old| old != fp)
        })
        .map(|(_, _, _, label)| label.split(' ').next().unwrap_or(label).to_string())
        .collect();
    let mut out = Vec::new();
    for (r, reg, fp, label) in points {
        let reg_dn = r.registry.clone().unwrap_or_default();
        let sent = format!("{SENT}{period} {reg}");
        let point = format!("{POINT}{reg}");
        let reason = if !marks.contains_key(&sent) {
            Reason::Period
        } else if marks.get(&point) != Some(&combined) {
            Reason::Changed
        } else {
            continue;
        };
        let changed = if reason == Reason::Changed {
            changed.clone()
        } else {
            Vec::new()
        };
        // The roster as the contact point itself may read the directory.
        let view = crate::tools::offline::entries(dir, None, Some(&r.dn))?;
        let roster = Roster::build(&view, None);
        let attachments = attachments(&roster, now);
        let key_found = r
            .openpgp
            .first()
            .cloned()
            .zip(r.openpgp_armored.first().cloned());
        let (subject, text) = compose(
            &label,
            &r.dn,
            reason,
            &changed,
            &period,
            c.interval_months,
            roster.registries.len(),
            &attachments,
            now,
            key_found.as_ref().map(|k| k.0.as_str()),
        );
        out.push(Planned {
            registry: reg_dn,
            point: r.dn.clone(),
            to: r.mail.clone(),
            reason,
            changed,
            subject,
            text,
            attachments,
            key: key_found,
            key_problems: r.problems.clone(),
            marks: vec![
                (sent, t.clone()),
                (point, combined.clone()),
                (format!("{OWN}{reg}"), fp),
            ],
        });
    }
    Ok(out)
}

/// The printable pages (one per region; not the index, whose links do not work between
/// attachments), the vCards and the CSV.
fn attachments(r: &Roster, at: OffsetDateTime) -> Vec<Attachment> {
    let mut v: Vec<Attachment> = roster::html::pages(r, at)
        .into_iter()
        .filter(|(name, _)| name != "index.html")
        .map(|(name, page)| Attachment {
            name,
            content_type: "text/html",
            data: page.into_bytes(),
        })
        .collect();
    v.push(Attachment {
        name: "roster.vcf".into(),
        content_type: "text/vcard",
        data: roster::vcard::all(r, at).into_bytes(),
    });
    v.push(Attachment {
        name: "roster.csv".into(),
        content_type: "text/csv",
        data: roster::csv::all(r, at).into_bytes(),
    });
    v
}

fn grouped(fpr: &str) -> String {
    roster::fingerprint_text(fpr)
}

/// Whose contact point changed, as the recipient `tld` reads it.
fn what_changed(tld: &str, changed: &[String]) -> String {
    if changed.iter().any(|c| c == tld) {
        "your contact point changed".to_string()
    } else if changed.is_empty() {
        "a member registry's contact point changed".to_string()
    } else {
        format!("the contact point of {} changed", changed.join(", "))
    }
}

/// Subject and text of one roster mail.
#[allow(clippy::too_many_arguments)]
fn compose(
    label: &str,
    point: &str,
    reason: Reason,
    changed: &[String],
    period: &str,
    interval_months: u32,
    cctlds: usize,
    attachments: &[Attachment],
    at: OffsetDateTime,
    key: Option<&str>,
) -> (String, String) {
    let made = crate::core::clock::minute_utc(at);
    let tld = label.split(' ').next().unwrap_or(label);
    let subject = match reason {
        Reason::Period => format!("[ccdir] Incident-response roster {period} for {tld}"),
        Reason::Changed => format!(
            "[ccdir] Incident-response roster for {tld}: {}",
            what_changed(tld, changed)
        ),
    };
    let pages: Vec<&str> = attachments
        .iter()
        .filter(|a| a.content_type == "text/html")
        .map(|a| a.name.as_str())
        .collect();
    let every = if interval_months == 1 {
        "every month".to_string()
    } else {
        format!("every {interval_months} months")
    };
    let mut t = format!(
        "Dear incident-response team of {label},\n\n\
         attached is the incident-response roster of the ccTLD community as of\n\
         {made}: {cctlds} ccTLDs. Keep it where you can read it when the\n\
         directory or the internet cannot be reached: print the pages, put the\n\
         vCards into your phones.\n\n\
         \x20 {}\n      printable pages, one per region\n\
         \x20 roster.vcf\n      vCard 4.0, one card per contact\n\
         \x20 roster.csv\n      one line per contact, for spreadsheets\n\n\
         You receive it as the 24/7 contact point of {tld}, the entry\n\
         {point}\n\
         (your registry's cctldContactPoint): {every}, and once more when\n\
         that contact point changes.\n",
        pages.join(", ")
    );
    if reason == Reason::Changed {
        let why = if changed.iter().any(|c| c == tld) {
            format!("{tld}'s contact point changed")
        } else {
            what_changed(tld, changed)
        };
        t.push_str(&format!("This copy is sent because {why}.\n"));
    }
    t.push_str(
        "\nThis message is signed with the directory's OpenPGP key (your mail\n\
         client shows the signature; docs/operations/roster-mail.md says how to\n\
         check it and which fingerprint to expect).\n",
    );
    match key {
        Some(k) => t.push_str(&format!(
            "It is encrypted to your contact point's OpenPGP key\n  {}\n",
            grouped(k)
        )),
        None => t.push_str(
            "It is NOT encrypted: the directory holds no OpenPGP key for your\n\
             contact point. To get encrypted copies, publish your team's key in the\n\
             directory's keyserver and put its fingerprint in your contact point's\n\
             cctldOpenPGPFingerprint (docs/clients/gnupg.md).\n",
        ),
    }
    t.push_str(
        "\nConfidential: for the members of the ccTLD incident-response community.\n\
         Do not forward it outside your incident-response team.\n",
    );
    (subject, t)
}

/// What one check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub sent: usize,
    pub failed: usize,
    /// Not tried: the relay was unavailable, or the server is stopping.
    pub deferred: usize,
}

/// Why a message could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// Signing failed: it fails for every mail alike.
    Sign(String),
    /// Encrypting to this recipient's key failed.
    Encrypt(String),
}

/// The message for one planned mail: signed, and encrypted when the recipient has a key.
pub fn build(
    p: &Planned,
    from: &str,
    signer: &gpg::Gpg,
    at: OffsetDateTime,
) -> Result<String, BuildError> {
    let entity = mime::mixed(&p.text, &p.attachments);
    let sig = signer.sign(entity.as_bytes()).map_err(BuildError::Sign)?;
    let signed = mime::signed(&entity, &sig);
    let top = match &p.key {
        Some((_, block)) => mime::encrypted(
            &signer
                .encrypt(signed.as_bytes(), block)
                .map_err(BuildError::Encrypt)?,
        ),
        None => signed,
    };
    Ok(mime::message(from, &p.to, &p.subject, at, &top))
}

/// Send the roster mails due now and record each once the relay accepted it. A mail that fails
/// (refused, or its encryption failed: it is never sent unencrypted instead) is logged and
/// tried again at the next check; when the relay is unavailable, signing fails or `stop()`
/// says the server is stopping, the rest waits for the next check.
pub fn run(
    dir: &Directory,
    signer: &gpg::Gpg,
    transport: &dyn Transport,
    stop: &dyn Fn() -> bool,
) -> Result<Outcome, String> {
    let now = dir.clock.now();
    let from = dir
        .config
        .roster_mail
        .sender(&dir.config.reminders)
        .to_string();
    let period = period(now, dir.config.roster_mail.interval_months);
    let mut out = Outcome::default();
    let mut halt = false;
    for p in plan(dir)? {
        let to = p.to.join(", ");
        if halt || stop() {
            out.deferred += 1;
            continue;
        }
        let msg = match build(&p, &from, signer, now) {
            Ok(m) => m,
            Err(BuildError::Sign(e)) => {
                out.failed += 1;
                halt = true;
                tracing::error!(%to, registry = %p.registry, error = %e,
                    "roster mail not sent: signing failed; this and the rest at the next check");
                continue;
            }
            Err(BuildError::Encrypt(e)) => {
                out.failed += 1;
                tracing::error!(%to, registry = %p.registry, error = %e,
                    "roster mail not sent: encrypting to the recipient's key failed (never sent unencrypted); trying again at the next check");
                continue;
            }
        };
        match transport.send_raw(&p.to, msg.as_bytes()) {
            Ok(()) => {
                out.sent += 1;
                match dir.store.mark_roster_mail(&p.marks, &period) {
                    Ok(()) => tracing::info!(%to, registry = %p.registry,
                        encrypted = p.key.is_some(), reason = ?p.reason, "roster mail sent"),
                    Err(e) => tracing::error!(%to, registry = %p.registry, error = %e,
                        "roster mail sent but not recorded: it will be sent again"),
                }
            }
            Err(e) => {
                out.failed += 1;
                match &e {
                    Refused::Mail(text) => tracing::warn!(%to, registry = %p.registry,
                        error = %text, "roster mail refused; trying again at the next check"),
                    Refused::Relay(text) => {
                        halt = true;
                        tracing::warn!(%to, registry = %p.registry, error = %text,
                            "roster mail not sent, relay unavailable; this and the rest at the next check")
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A planned mail as the dry run prints it.
pub fn text(from: &str, p: &Planned) -> String {
    let why = match p.reason {
        Reason::Period => "the roster of this period",
        Reason::Changed => "a member registry's contact point changed",
    };
    let enc = match &p.key {
        Some((f, _)) => format!("signed, encrypted to {f}"),
        None if p.key_problems.is_empty() => "signed, not encrypted (no OpenPGP key)".into(),
        None => format!("signed, not encrypted ({})", p.key_problems.join("; ")),
    };
    let att: Vec<String> = p
        .attachments
        .iter()
        .map(|a| format!("{} ({} bytes)", a.name, a.data.len()))
        .collect();
    format!(
        "From: {from}\nTo: {}\nSubject: {}\nWhy: {why}\nAs: {}\nProtection: {enc}\nAttachments: {}\n\n{}",
        p.to.join(", "),
        p.subject,
        p.point,
        att.join(", "),
        p.text
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const LDIF: &str = "\
dn: associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
objectClass: organization
objectClass: cctldRegistry
o: ZZ
associatedDomain: zz
cctldContactPoint: cn=team,associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example

dn: cn=team,associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
objectClass: organizationalRole
objectClass: cctldContact
cn: team
associatedDomain: zz
mail: team@zz.example
telephoneNumber: +49 69 1234 0100

dn: associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example
objectClass: organization
objectClass: cctldRegistry
o: YY
associatedDomain: yy

dn: cn=members,ou=groups,dc=cctld-ir,dc=example
objectClass: groupOfNames
cn: members
member: associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example
member: associatedDomain=yy,ou=registries,dc=cctld-ir,dc=example
";

    #[test]
    fn once_per_period_and_once_per_contact_point_change() {
        use crate::core::clock::ManualClock;
        use crate::service::config::Config;
        use std::sync::Arc;
        let tmp = tempfile::tempdir().unwrap();
        let mut c = Config {
            data_dir: tmp.path().to_path_buf(),
            load_sample: false,
            openpgp_keyserver: false,
            ..Config::default()
        };
        c.store.cache_mib = 8;
        let clock = Arc::new(ManualClock::new(datetime!(2027-01-10 08:00 UTC)));
        let dir = crate::app::server::open_directory(&c, clock.clone()).unwrap();
        crate::app::bootstrap::ensure_base(&dir).unwrap();
        // No members group yet: nothing.
        assert!(plan(&dir).unwrap().is_empty());
        crate::tools::import::import_bytes(&dir, "test", LDIF.as_bytes()).unwrap();
        // .yy has no contact point: only .zz's.
        let record = |p: &Planned| {
            dir.store
                .mark_roster_mail(&p.marks, &period(dir.clock.now(), 1))
                .unwrap()
        };
        let p = plan(&dir).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].to, ["team@zz.example"]);
        assert_eq!(p[0].reason, Reason::Period);
        assert_eq!(
            p[0].attachments
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["roster-none.html", "roster.vcf", "roster.csv"]
        );
        assert!(p[0].key.is_none());
        record(&p[0]);
        assert!(plan(&dir).unwrap().is_empty());
        // The contact point recorded is not the current one (its address changed): one mail,
        // to the current one, then none.
        let reg = key("associatedDomain=zz,ou=registries,dc=cctld-ir,dc=example");
        dir.store
            .mark_roster_mail(
                &[
                    (format!("{POINT}{reg}"), "stale".into()),
                    (format!("{OWN}{reg}"), "stale".into()),
                ],
                "2027-01",
            )
            .unwrap();
        let p = plan(&dir).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].reason, Reason::Changed);
        assert!(p[0].subject.ends_with("your contact point changed"));
        record(&p[0]);
        assert!(plan(&dir).unwrap().is_empty());
        // The next month: again.
        clock.set(datetime!(2027-02-01 00:00 UTC));
        let p = plan(&dir).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].reason, Reason::Period);
    }

    #[test]
    fn periods_are_blocks_of_calendar_months() {
        assert_eq!(period(datetime!(2027-01-01 00:00 UTC), 1), "2027-01");
        assert_eq!(period(datetime!(2027-01-31 23:59 UTC), 1), "2027-01");
        assert_eq!(period(datetime!(2027-02-01 00:00 UTC), 1), "2027-02");
        assert_eq!(period(datetime!(2027-03-15 00:00 UTC), 3), "2027-01");
        assert_eq!(period(datetime!(2027-04-01 00:00 UTC), 3), "2027-04");
        assert_eq!(period(datetime!(2027-12-31 00:00 UTC), 12), "2027-01");
        // The period is UTC's.
        assert_eq!(period(datetime!(2027-02-01 00:30 +01:00), 1), "2027-01");
    }

    #[test]
    fn the_text_says_why_and_whether_it_is_encrypted() {
        let att = [Attachment {
            name: "roster-centr.html".into(),
            content_type: "text/html",
            data: vec![],
        }];
        let at = datetime!(2027-01-10 08:00 UTC);
        let (s, t) = compose(
            ".zz (Registry of .zz)",
            "cn=team,associatedDomain=zz,ou=registries,dc=x",
            Reason::Period,
            &[],
            "2027-01",
            1,
            3,
            &att,
            at,
            None,
        );
        assert_eq!(s, "[ccdir] Incident-response roster 2027-01 for .zz");
        assert!(t.starts_with("Dear incident-response team of .zz (Registry of .zz),\n"));
        assert!(t.contains("as of\n2027-01-10 08:00 UTC: 3 ccTLDs."));
        assert!(t.contains("  roster-centr.html\n"));
        assert!(t.contains("every month"));
        assert!(t.contains("It is NOT encrypted"));
        assert!(t.lines().all(|l| l.len() <= 76 && !l.ends_with(' ')), "{t}");
        let (s, t) = compose(
            ".zz",
            "cn=team,dc=x",
            Reason::Changed,
            &[".zz".to_string()],
            "2027-01",
            3,
            3,
            &att,
            at,
            Some("0123456789ABCDEF0123456789ABCDEF01234567"),
        );
        assert_eq!(
            s,
            "[ccdir] Incident-response roster for .zz: your contact point changed"
        );
        assert!(t.contains("every 3 months"));
        assert!(t.contains("because .zz's contact point changed"));
        assert!(t.contains("encrypted to your contact point's OpenPGP key\n  0123 4567 89AB"));
        // Another registry's change: named.
        let (s, t) = compose(
            ".zz",
            "cn=team,dc=x",
            Reason::Changed,
            &[".de".to_string()],
            "2027-01",
            1,
            3,
            &att,
            at,
            None,
        );
        assert_eq!(
            s,
            "[ccdir] Incident-response roster for .zz: the contact point of .de changed"
        );
        assert!(
            t.contains("because the contact point of .de changed"),
            "{t}"
        );
    }
}
