//! Reminders (docs/operations/freshness.md, "Reminders"): the registries' admins are mailed
//! when their contacts fall due within the lead time and when they are overdue, the verifiers
//! get a digest; at most one mail per registry and kind, and one digest, per period. The state
//! (when each was last accepted by the relay) is in the store, so a restart sends nothing twice.
//!
//! Synchronous: the server runs [`run`] on a blocking thread every check interval, `ccdir
//! reminders` runs it (or only [`plan`], for a dry run) offline.

mod compose;
pub mod select;
pub mod smtp;

use crate::service::Directory;
use crate::tools::report::{self, by_dn, group_members};
pub use select::Mail;
use time::OffsetDateTime;

/// Something that delivers a mail (the SMTP relay; tests use their own).
pub trait Mailer {
    /// Ok once the relay accepted the message.
    fn send(&self, mail: &Mail) -> Result<(), String>;
}

/// The mails due now (the directory's clock), without sending or recording anything.
pub fn plan(dir: &Directory) -> Result<Vec<Mail>, String> {
    plan_at(dir, dir.clock.now())
}

fn plan_at(dir: &Directory, now: OffsetDateTime) -> Result<Vec<Mail>, String> {
    let c = &dir.config.reminders;
    let entries = crate::tools::offline::entries(dir, None, None)?;
    let r = report::build(&entries, now, c.lead_days);
    let marks = dir
        .store
        .reminder_marks()
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let digest_to = match group_members(&by_dn(&entries), &c.digest_group(&dir.config.suffix)) {
        Some(members) => members.into_iter().flat_map(|m| m.mail).collect(),
        None => c.digest_to.clone(),
    };
    Ok(select::plan(
        &r,
        &marks,
        &digest_to,
        c.lead_days,
        c.period_days,
    ))
}

/// What one check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub sent: usize,
    pub failed: usize,
}

/// Send the mails due now (the directory's clock) and record each once the relay accepted it.
/// A mail that fails is logged (subject, recipients, the relay's answer) and tried again at the
/// next check.
pub fn run(dir: &Directory, mailer: &dyn Mailer) -> Result<Outcome, String> {
    let now = dir.clock.now();
    let mut out = Outcome::default();
    for m in plan_at(dir, now)? {
        match mailer.send(&m) {
            Ok(()) => {
                let t = u64::try_from(now.unix_timestamp()).unwrap_or(0);
                dir.store
                    .mark_reminders(&m.marks, t)
                    .map_err(|e| format!("sent \"{}\" but cannot record it: {e}", m.subject))?;
                tracing::info!(to = %m.to.join(", "), subject = %m.subject, "reminder sent");
                out.sent += 1;
            }
            Err(e) => {
                tracing::warn!(to = %m.to.join(", "), subject = %m.subject, error = %e,
                    "reminder not sent; trying again at the next check");
                out.failed += 1;
            }
        }
    }
    Ok(out)
}

/// A mail as the dry run prints it.
pub fn text(from: &str, m: &Mail) -> String {
    format!(
        "From: {from}\nTo: {}\nSubject: {}\n\n{}",
        m.to.join(", "),
        m.subject,
        m.body
    )
}
