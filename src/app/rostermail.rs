//! The roster mail in the server: when `roster_mail.enabled`, the signing key is checked at
//! start (the server does not start without it: nothing is ever sent unsigned), then at start
//! and every `check_interval_secs` [`crate::tools::rostermail::run`] on a blocking thread.
//! Stops with the server (a check in progress stops after its current mail).

use crate::service::config::StartTls;
use crate::service::Directory;
use crate::tools::rostermail::{self, gpg::Gpg};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// When the roster mail is enabled: the signing key, checked (gpg runs, the key is there and
/// signs). Called before the server listens, so a server that cannot sign does not start.
pub(crate) async fn check(dir: &Arc<Directory>) -> Result<Option<Gpg>, String> {
    let c = &dir.config.roster_mail;
    if !c.enabled {
        return Ok(None);
    }
    let conf = c.clone();
    let signer = tokio::task::spawn_blocking(move || Gpg::open(&conf))
        .await
        .map_err(|e| format!("roster mail: checking the signing key: {e}"))?
        .map_err(|e| format!("roster mail: {e}"))?;
    Ok(Some(signer))
}

/// Start the task with the checked signer (see [`check`]).
pub(crate) fn spawn(
    dir: &Arc<Directory>,
    signer: Option<Gpg>,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) {
    let Some(signer) = signer else {
        return;
    };
    // As reminders: only the writer mails the roster.
    if let Some((provider, _)) = dir.write_referral() {
        tracing::info!(%provider,
            "roster mail enabled but not sent here: this server follows a provider, which sends it");
        return;
    }
    let c = &dir.config.roster_mail;
    if dir.config.reminders.starttls == StartTls::None {
        tracing::warn!(relay = %dir.config.reminders.relay,
            "reminders.starttls = none: roster mails cross the network without TLS (encrypted ones stay encrypted)");
    }
    tracing::info!(signing_key = %signer.fingerprint, every_months = c.interval_months,
        check_every_secs = c.check_interval_secs, "roster mail enabled");
    tracker.spawn(task(dir.clone(), signer, shutdown.clone()));
}

async fn task(dir: Arc<Directory>, signer: Gpg, shutdown: CancellationToken) {
    let every = Duration::from_secs(dir.config.roster_mail.check_interval_secs);
    let check = move |stopping: &dyn Fn() -> bool| {
        let smtp = rostermail::smtp(&dir.config)?;
        rostermail::run(&dir, &signer, &smtp, stopping)
    };
    super::periodic::run("roster mail", every, shutdown, check, |o| {
        if o.sent + o.failed + o.deferred > 0 {
            tracing::info!(
                sent = o.sent,
                failed = o.failed,
                deferred = o.deferred,
                "roster mail check done"
            );
        }
    })
    .await
}
