//! The e-mail challenge task (docs/portal.md, "E-mail challenges"): when `portal.challenges`
//! and `reminders.enabled`, at start and then every `reminders.check_interval_secs`, the
//! portal's challenge check (portal/challenges.rs) on a blocking thread, over the reminders'
//! relay. Only the writer sends: a replication consumer sends nothing, as for reminders.

use crate::portal::challenges::run;
pub use crate::portal::challenges::Outcome;
use crate::service::config::StartTls;
use crate::service::Directory;
use crate::tools::reminders::smtp::Smtp;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Run one check now over the configured relay (`[reminders]`'s SMTP settings).
pub fn check(dir: &Directory) -> Result<Outcome, String> {
    let smtp = Smtp::new(&dir.config.reminders)?;
    run(dir, &smtp, &|| false)
}

/// Start the task when challenges and the relay are enabled and this server is the writer.
pub(crate) fn spawn(dir: &Arc<Directory>, shutdown: &CancellationToken, tracker: &TaskTracker) {
    if !dir.config.portal.challenges || !dir.config.reminders.enabled {
        return;
    }
    if let Some((provider, _)) = dir.write_referral() {
        tracing::info!(%provider,
            "e-mail challenges enabled but not sent here: this server follows a provider, which sends them");
        return;
    }
    if dir.config.reminders.starttls == StartTls::None {
        tracing::warn!(
            "e-mail challenges cross the network unencrypted (reminders.starttls = none)"
        );
    }
    tracker.spawn(task(dir.clone(), shutdown.clone()));
}

async fn task(dir: Arc<Directory>, shutdown: CancellationToken) {
    let every = Duration::from_secs(dir.config.reminders.check_interval_secs);
    let check = move |stopping: &dyn Fn() -> bool| {
        let smtp = Smtp::new(&dir.config.reminders)?;
        run(&dir, &smtp, stopping)
    };
    super::periodic::run("e-mail challenge", every, shutdown, check, |o: &Outcome| {
        if *o != Outcome::default() {
            tracing::info!(
                sent = o.sent,
                failed = o.failed,
                deferred = o.deferred,
                expired = o.expired,
                bounced = o.bounced,
                "e-mail challenge check done"
            );
        }
    })
    .await
}
