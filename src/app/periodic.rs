//! A check the server runs at start and then every interval, each time on a blocking thread,
//! until shutdown (reminders, roster mail, e-mail challenges). A check in progress is told
//! to stop through its `stopping` function and ends after its current step.

use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Run `check` now and then every `every` until `shutdown`; `report` logs what a check did.
/// A check that fails is logged and run again at the next interval.
pub(crate) async fn run<O, F>(
    name: &'static str,
    every: Duration,
    shutdown: CancellationToken,
    check: F,
    report: fn(&O),
) where
    O: Send + 'static,
    F: Fn(&dyn Fn() -> bool) -> Result<O, String> + Send + Sync + 'static,
{
    let check = Arc::new(check);
    loop {
        let c = check.clone();
        let stopping = shutdown.clone();
        let done = tokio::task::spawn_blocking(move || c(&|| stopping.is_cancelled()));
        match done.await {
            Ok(Ok(o)) => report(&o),
            Ok(Err(e)) => tracing::warn!(check = name, error = %e, "{name} check failed"),
            Err(e) => tracing::error!(check = name, error = %e, "{name} check task failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
