//! `/metrics`: the server's counters (service/stats.rs, the same cn=Monitor shows), the store,
//! and the figures the community watches (contacts overdue and due soon, registries without a
//! 24/7 contact point, the oldest verification), in the OpenMetrics text format
//! (`prometheus-client`). The domain figures read every contact: they are computed at most once
//! a minute and kept.

use crate::service::stats::Counted;
use crate::service::Directory;
use crate::store::View;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the domain figures are kept.
const DOMAIN_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, Default)]
struct Domain {
    overdue: u64,
    due_soon: u64,
    incomplete: u64,
    registries: u64,
    contacts: u64,
    /// Seconds since the oldest last verification of a contact (0: none verified).
    oldest_verification: i64,
}

static DOMAIN: Mutex<Option<(Instant, Domain)>> = Mutex::new(None);

fn domain(dir: &Directory) -> Result<Domain, String> {
    if let Ok(g) = DOMAIN.lock() {
        if let Some((at, d)) = *g {
            if at.elapsed() < DOMAIN_TTL {
                return Ok(d);
            }
        }
    }
    let entries = crate::tools::offline::entries(dir, None, None)?;
    let now = dir.clock.now();
    let report = crate::tools::report::build(&entries, now, dir.config.freshness.warn_days);
    let mut d = Domain {
        overdue: report.overdue_count() as u64,
        due_soon: report.due_soon_count() as u64,
        ..Domain::default()
    };
    // Per registry: the completeness rules; over all contacts: the oldest verification.
    let regs = crate::write::completeness::by_registry(&entries, |t| dir.parse_dn(t).ok());
    let mut oldest: Option<time::OffsetDateTime> = None;
    for e in entries.iter().filter(|e| crate::freshness::is_contact(e)) {
        d.contacts += 1;
        let last = e
            .get(crate::freshness::LAST_VERIFIED)
            .and_then(|a| a.values.first())
            .and_then(|v| crate::freshness::parse_gtime(v));
        if let Some(t) = last {
            oldest = Some(oldest.map_or(t, |o| o.min(t)));
        }
    }
    d.registries = regs.len() as u64;
    d.incomplete = regs
        .iter()
        .filter(|r| r.2.problems("").iter().any(|p| p.0 == "contact-point-247"))
        .count() as u64;
    d.oldest_verification = oldest.map_or(0, |t| (now - t).whole_seconds().max(0));
    if let Ok(mut g) = DOMAIN.lock() {
        *g = Some((Instant::now(), d));
    }
    Ok(d)
}

fn counter(r: &mut Registry, name: &str, help: &str, v: u64) {
    r.register(name, help, ConstCounter::new(v));
}

fn gauge(r: &mut Registry, name: &str, help: &str, v: i64) {
    r.register(name, help, ConstGauge::new(v));
}

/// The latency histograms, one per operation kind, read from the counters at the scrape.
#[derive(Debug)]
struct OpLatency(Vec<Latency>);

#[derive(Debug)]
struct Latency {
    op: &'static str,
    sum: f64,
    count: u64,
    /// (upper bound, count in that bucket).
    buckets: Vec<(f64, u64)>,
}

impl OpLatency {
    fn of(dir: &Directory) -> OpLatency {
        let mut v = Vec::new();
        for k in Counted::ALL {
            let (counts, sum) = dir.stats.latency(k);
            let count: u64 = counts.iter().sum();
            // Per bucket, not cumulative: the encoder adds them up (as for its own histograms).
            let buckets: Vec<(f64, u64)> = counts
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let ub = crate::service::stats::LATENCY_BOUNDS
                        .get(i)
                        .copied()
                        .unwrap_or(f64::MAX);
                    (ub, *n)
                })
                .collect();
            v.push(Latency {
                op: k.name(),
                sum,
                count,
                buckets,
            });
        }
        OpLatency(v)
    }
}

impl prometheus_client::encoding::EncodeMetric for OpLatency {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::MetricEncoder,
    ) -> Result<(), std::fmt::Error> {
        type Ex = std::collections::HashMap<
            usize,
            prometheus_client::metrics::exemplar::Exemplar<Vec<(String, String)>, f64>,
        >;
        for l in &self.0 {
            let labels = vec![("op".to_string(), l.op.to_string())];
            encoder.encode_family(&labels)?.encode_histogram(
                l.sum,
                l.count,
                &l.buckets,
                None::<&Ex>,
            )?;
        }
        Ok(())
    }

    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        prometheus_client::metrics::MetricType::Histogram
    }
}

/// The page.
pub(crate) fn render(dir: &Directory) -> Result<String, String> {
    let s = dir.stats.snapshot();
    let mut r = Registry::with_prefix("ccdir");
    counter(
        &mut r,
        "connections",
        "Connections accepted",
        s.connections_total,
    );
    gauge(
        &mut r,
        "connections_open",
        "Connections open now",
        s.connections_current as i64,
    );
    type Labels = Vec<(&'static str, String)>;
    // Per-operation counts: fresh families filled with the snapshot's values.
    let initiated = Family::<Labels, Counter>::default();
    let completed = Family::<Labels, Counter>::default();
    for k in Counted::ALL {
        let labels = vec![("op", k.name().to_string())];
        initiated.get_or_create(&labels).inc_by(s.initiated(k));
        completed.get_or_create(&labels).inc_by(s.completed(k));
    }
    r.register("operations_initiated", "Operations received", initiated);
    r.register("operations_completed", "Operations answered", completed);
    let results = Family::<Labels, Counter>::default();
    for (k, code, n) in dir.stats.results() {
        results
            .get_or_create(&vec![
                ("op", k.name().to_string()),
                ("result", code.to_string()),
            ])
            .inc_by(n);
    }
    r.register(
        "operation_results",
        "Final responses by operation and LDAP result code",
        results,
    );
    r.register(
        "operation_duration_seconds",
        "Time from an operation's start to its last response",
        OpLatency::of(dir),
    );
    gauge(
        &mut r,
        "operations_executing",
        "Operations running now",
        s.executing as i64,
    );
    counter(
        &mut r,
        "sent_bytes",
        "Bytes of LDAP responses sent",
        s.bytes,
    );
    counter(&mut r, "sent_pdus", "LDAP messages sent", s.pdus);
    counter(
        &mut r,
        "sent_entries",
        "Search result entries sent",
        s.entries,
    );
    counter(
        &mut r,
        "tls_handshake_failures",
        "TLS handshakes that failed (LDAPS and StartTLS)",
        dir.stats.tls_failures(),
    );
    let started = time::OffsetDateTime::from(dir.stats.started).unix_timestamp();
    gauge(
        &mut r,
        "start_time_seconds",
        "When the server started (Unix time)",
        started,
    );

    let snap = dir.store.read().map_err(|e| e.to_string())?;
    let entries = snap.entry_count().map_err(|e| e.to_string())?;
    gauge(
        &mut r,
        "entries",
        "Entries in the directory",
        entries as i64,
    );
    gauge(
        &mut r,
        "store_size_bytes",
        "Size of the database file",
        dir.store.file_size() as i64,
    );
    let (first, last) = snap
        .change_bounds()
        .map_err(|e| e.to_string())?
        .unwrap_or((0, 0));
    gauge(
        &mut r,
        "changelog_first",
        "First change number held",
        first as i64,
    );
    gauge(&mut r, "changelog_last", "Last change number", last as i64);
    drop(snap);

    let d = domain(dir)?;
    gauge(
        &mut r,
        "contacts",
        "Contacts (cctldContact entries)",
        d.contacts as i64,
    );
    gauge(
        &mut r,
        "contacts_overdue",
        "Contacts past their verification due date",
        d.overdue as i64,
    );
    gauge(
        &mut r,
        "contacts_due_soon",
        "Contacts due for verification within freshness.warn_days",
        d.due_soon as i64,
    );
    gauge(
        &mut r,
        "registries",
        "Registries (cctldRegistry entries)",
        d.registries as i64,
    );
    gauge(
        &mut r,
        "registries_without_247_contact",
        "Registries without a contact available 24/7 with an emergency number",
        d.incomplete as i64,
    );
    gauge(
        &mut r,
        "oldest_verification_age_seconds",
        "Seconds since the oldest last verification of a contact",
        d.oldest_verification,
    );

    super::repl_metrics::register(&mut r, dir);

    let mut out = String::new();
    encode(&mut out, &r).map_err(|e| e.to_string())?;
    Ok(out)
}
