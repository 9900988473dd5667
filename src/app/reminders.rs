//! The reminder check in the server: when `reminders.enabled`, at start and then every
//! `check_interval_secs`, [`crate::tools::reminders::run`] on a blocking thread. Stops with the
//! server (a check in progress stops after its current mail).

use crate::service::config::StartTls;
use crate::service::Directory;
use crate::tools::reminders::{self, smtp::Smtp};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Start the task when reminders are enabled.
pub(crate) fn spawn(dir: &Arc<Directory>, shutdown: &CancellationToken, tracker: &TaskTracker) {
    let c = &dir.config.reminders;
    if !c.enabled {
        return;
    }
    // Every site may carry the same configuration: only the writer mails, or each contact
    // would get one reminder per site.
    if let Some((provider, _)) = dir.write_referral() {
        tracing::info!(%provider,
            "reminders enabled but not sent here: this server follows a provider, which sends them");
        return;
    }
    if c.starttls == StartTls::None {
        tracing::warn!(relay = %c.relay, port = c.port,
            "reminders.starttls = none: reminders cross the network unencrypted");
    }
    tracing::info!(relay = %c.relay, port = c.port, every_secs = c.check_interval_secs,
        "reminders enabled");
    tracker.spawn(task(dir.clone(), shutdown.clone()));
}

async fn task(dir: Arc<Directory>, shutdown: CancellationToken) {
    let every = Duration::from_secs(dir.config.reminders.check_interval_secs);
    let check = move |stopping: &dyn Fn() -> bool| {
        let smtp = Smtp::new(&dir.config.reminders)?;
        reminders::run(&dir, &smtp, stopping)
    };
    super::periodic::run("reminder", every, shutdown, check, |o| {
        if o.sent + o.failed + o.deferred > 0 {
            tracing::info!(
                sent = o.sent,
                failed = o.failed,
                deferred = o.deferred,
                "reminder check done"
            );
        }
    })
    .await
}
