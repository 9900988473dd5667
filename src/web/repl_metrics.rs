//! Replication in `/metrics` (docs/operations/replication.md, "Monitoring replication"): on a
//! consumer its link to the provider (phase, lag, last contact, changes applied,
//! reconnections, reloads), and on every server the sync searches it serves as a provider.

use crate::service::consumer::{unix_secs, PHASES};
use crate::service::Directory;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Register the replication metrics.
pub(crate) fn register(r: &mut Registry, dir: &Directory) {
    consumer(r, dir);
    // As a provider: the sync searches served now, by phase, and what they sent.
    let served = Family::<Labels, Gauge>::default();
    for phase in ["refresh", "persist"] {
        let _ = served.get_or_create(&vec![("phase", phase.to_string())]);
    }
    for s in dir.provider.list() {
        let phase = if s.persisting() { "persist" } else { "refresh" };
        served
            .get_or_create(&vec![("phase", phase.to_string())])
            .inc();
    }
    r.register(
        "replication_consumers",
        "Sync searches (consumers) this server serves now, by phase",
        served,
    );
    r.register(
        "replication_changes_sent",
        "Entries and deleted entries' UUIDs sent to consumers",
        ConstCounter::new(dir.provider.sent_total()),
    );
}

/// The consumer's link; nothing when this server follows no provider.
fn consumer(r: &mut Registry, dir: &Directory) {
    let s = dir.consumer_status();
    if s.provider.is_empty() {
        return;
    }
    r.register(
        "replication_provider",
        "The provider this server follows",
        Info::new(vec![
            ("provider", s.provider.clone()),
            ("mode", s.mode.clone()),
            ("search_base", s.search_base.clone()),
        ]),
    );
    let phase = Family::<Labels, Gauge>::default();
    for p in PHASES {
        phase
            .get_or_create(&vec![("phase", p.to_string())])
            .set(i64::from(s.phase == p));
    }
    r.register(
        "replication_phase",
        "The consumer's phase: 1 for the current one",
        phase,
    );
    r.register(
        "replication_refresh_done",
        "1 once a refresh has been committed since the server started",
        ConstGauge::new(i64::from(s.refreshed)),
    );
    if let Some(lag) = s.lag_secs(unix_secs(dir.clock.now())) {
        r.register(
            "replication_lag_seconds",
            "Seconds by which this consumer's data may be behind the provider's",
            ConstGauge::new(lag),
        );
    }
    if let Some(t) = s.last_contact {
        r.register(
            "replication_last_contact_timestamp_seconds",
            "When the provider was last heard from (Unix time)",
            ConstGauge::new(t as i64),
        );
    }
    r.register(
        "replication_changes_applied",
        "Changes from the provider applied since the server started",
        ConstCounter::new(s.applied),
    );
    r.register(
        "replication_reconnects",
        "Sync searches started again after a failure since the server started",
        ConstCounter::new(s.reconnects),
    );
    r.register(
        "replication_reloads",
        "Full reloads (no usable cookie, e-syncRefreshRequired) since the server started",
        ConstCounter::new(s.reloads),
    );
}
