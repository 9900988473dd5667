//! The metrics listener: /metrics fetched and parsed by the Prometheus project's own Python
//! client (python3-prometheus-client, its OpenMetrics parser), the figures cross-checked against
//! operations the test made and against the directory; /healthz and /readyz; the replication
//! figures of a consumer and of its provider (repl_monitor.rs has /readyz of a consumer).

use crate::harness::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const PARSE: &str = r#"
import sys, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families
url = sys.argv[1]
with urllib.request.urlopen(url) as r:
    assert r.status == 200, r.status
    ctype = r.headers.get("Content-Type", "")
    assert ctype.startswith("application/openmetrics-text"), ctype
    text = r.read().decode("utf-8")
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}} {s.value}")
"#;

/// Every sample of /metrics, as `name{labels}` -> value, through the real parser.
pub(crate) fn scrape(base: &str) -> BTreeMap<String, f64> {
    let o = Command::new("/usr/bin/python3")
        .args(["-c", PARSE, &format!("{base}/metrics")])
        .output()
        .expect("python3 (install python3-prometheus-client)");
    assert!(
        o.status.success(),
        "parse failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

pub(crate) fn get(base: &str, path: &str) -> (u16, String) {
    let script = "import sys, urllib.request, urllib.error\n\
        try:\n    r = urllib.request.urlopen(sys.argv[1]); print(r.status); print(r.read().decode())\n\
        except urllib.error.HTTPError as e:\n    print(e.code); print(e.read().decode())";
    let o = Command::new("/usr/bin/python3")
        .args(["-c", script, &format!("{base}{path}")])
        .output()
        .expect("python3");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let (code, body) = out.split_once('\n').unwrap_or((&out, ""));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

pub(crate) fn v(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or_else(|| {
        panic!(
            "{key} missing; have: {:?}",
            m.keys()
                .filter(|k| k.starts_with(key.split('{').next().unwrap_or("")))
                .collect::<Vec<_>>()
        )
    })
}

#[test]
fn metrics_are_prometheus_text_and_count_what_the_test_did() {
    let s = TestServer::start_with(|c| {
        c.load_sample = true;
        c.listen.metrics = Some("127.0.0.1:0".into());
    });
    let addr = s.server().metrics_addr.expect("metrics listener");
    let base = format!("http://{addr}");
    assert_eq!(get(&base, "/healthz").0, 200);
    let (code, body) = get(&base, "/readyz");
    assert_eq!((code, body.trim()), (200, "ready"));
    assert_eq!(get(&base, "/nothing").0, 404);

    let before = scrape(&base);
    let mut c = s.admin();
    for _ in 0..5 {
        c.search(SUFFIX, ldap3::Scope::Base, "(objectClass=*)", vec!["1.1"])
            .expect("search");
    }
    let mut bad = s.conn();
    assert_eq!(bad.simple_bind(ADMIN, "wrong").expect("bind").rc, 49);
    let after = scrape(&base);
    let d = |k: &str| v(&after, k) - before.get(k).copied().unwrap_or(0.0);
    assert_eq!(d(r#"ccdir_operations_completed_total{op="Search"}"#), 5.0);
    assert_eq!(
        d(r#"ccdir_operation_results_total{op="Search",result="0"}"#),
        5.0
    );
    assert!(
        v(
            &after,
            r#"ccdir_operation_results_total{op="Bind",result="49"}"#
        ) >= 1.0
    );
    assert!(
        v(
            &after,
            r#"ccdir_operation_duration_seconds_count{op="Search"}"#
        ) >= 5.0
    );
    assert!(v(&after, "ccdir_connections_open{}") >= 2.0);
    assert!(d("ccdir_sent_pdus_total{}") >= 6.0);

    // The store and the domain figures, against the directory.
    let (all, _) = c
        .search(
            SUFFIX,
            ldap3::Scope::Subtree,
            "(objectClass=*)",
            vec!["1.1"],
        )
        .expect("search")
        .success()
        .expect("ok");
    assert_eq!(v(&after, "ccdir_entries{}"), all.len() as f64);
    assert!(v(&after, "ccdir_store_size_bytes{}") > 0.0);
    assert!(v(&after, "ccdir_changelog_last{}") >= 1.0);
    let (overdue, _) = c
        .search(
            SUFFIX,
            ldap3::Scope::Subtree,
            "(&(objectClass=cctldContact)(cctldVerificationStatus=overdue))",
            vec!["1.1"],
        )
        .expect("search")
        .success()
        .expect("ok");
    assert_eq!(v(&after, "ccdir_contacts_overdue{}"), overdue.len() as f64);
    // tools/sample/README.md: .mc, .tv and .aq have no complete 24/7 contact point.
    assert_eq!(v(&after, "ccdir_registries_without_247_contact{}"), 3.0);
    assert!(v(&after, "ccdir_registries{}") > 300.0);
    assert!(v(&after, "ccdir_contacts{}") > 300.0);
    assert!(v(&after, "ccdir_oldest_verification_age_seconds{}") > 0.0);
}

/// The shipped alert rules and dashboard name only metrics the servers export (one scrape of
/// a provider and one of its consumer: the replication figures are a consumer's).
fn contrib_names_exported(scrapes: &[&BTreeMap<String, f64>]) {
    for file in [
        "contrib/prometheus/ccdir-alerts.yml",
        "contrib/grafana/ccdir-dashboard.json",
    ] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .expect("contrib file");
        if file.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text).expect("dashboard JSON");
        }
        let mut names: Vec<&str> = text
            .match_indices("ccdir_")
            .map(|(i, _)| {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
        names.sort();
        names.dedup();
        assert!(names.len() >= 5, "{file}: {names:?}");
        for n in names {
            assert!(
                scrapes
                    .iter()
                    .any(|m| m.keys().any(|k| k.starts_with(&format!("{n}{{")))),
                "{file} names {n}, which /metrics does not have"
            );
        }
    }
}

#[test]
fn metrics_of_a_consumer_and_of_its_provider() {
    use crate::repl_monitor::{consumer_with, provider_with, wait_for};
    use std::time::Duration;
    let p = provider_with(|c| c.listen.metrics = Some("127.0.0.1:0".into()));
    let c = consumer_with(&p, p.ldap_url(), |c, _| {
        c.listen.metrics = Some("127.0.0.1:0".into())
    });
    let base = |s: &TestServer| format!("http://{}", s.server().metrics_addr.expect("metrics"));
    let (pb, cb) = (base(&p), base(&c));
    wait_for(Duration::from_secs(90), "the first refresh", || {
        let s = c.server().directory().consumer_status();
        s.refreshed && s.phase == "persist"
    });
    let (pm, cm) = (scrape(&pb), scrape(&cb));

    // The consumer's link.
    assert_eq!(v(&cm, r#"ccdir_replication_phase{phase="persist"}"#), 1.0);
    for phase in ["connecting", "refresh", "idle", "retrying", "stopped"] {
        assert_eq!(
            v(
                &cm,
                &format!(r#"ccdir_replication_phase{{phase="{phase}"}}"#)
            ),
            0.0
        );
    }
    assert_eq!(
        v(
            &cm,
            &format!(
                r#"ccdir_replication_provider_info{{mode="refreshAndPersist",provider="{}",search_base="{SUFFIX}"}}"#,
                p.ldap_url()
            )
        ),
        1.0
    );
    assert_eq!(v(&cm, "ccdir_replication_refresh_done{}"), 1.0);
    assert_eq!(v(&cm, "ccdir_replication_lag_seconds{}"), 0.0);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let contact = v(&cm, "ccdir_replication_last_contact_timestamp_seconds{}");
    assert!((now - contact).abs() < 120.0, "{contact} vs {now}");
    let applied = v(&cm, "ccdir_replication_changes_applied_total{}");
    assert!(applied > 100.0, "the sample directory: {applied}");
    assert_eq!(v(&cm, "ccdir_replication_reconnects_total{}"), 0.0);
    assert_eq!(v(&cm, "ccdir_replication_reloads_total{}"), 0.0);
    assert_eq!(
        v(&cm, r#"ccdir_replication_consumers{phase="persist"}"#),
        0.0
    );
    let (code, body) = get(&cb, "/readyz");
    assert_eq!((code, body.trim()), (200, "ready"));

    // The provider: one consumer in its persistent phase, what it was sent; no link of its own.
    assert_eq!(
        v(&pm, r#"ccdir_replication_consumers{phase="persist"}"#),
        1.0
    );
    assert_eq!(
        v(&pm, r#"ccdir_replication_consumers{phase="refresh"}"#),
        0.0
    );
    let sent = v(&pm, "ccdir_replication_changes_sent_total{}");
    assert!(sent >= applied, "sent {sent}, applied {applied}");
    assert!(!pm.keys().any(|k| k.starts_with("ccdir_replication_phase")));

    // Changes on the provider: both counters move.
    let mut a = p.admin();
    crate::replication::changes(&mut a, "metrics");
    let (r, _) = a
        .search(
            SUFFIX,
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["contextCSN"],
        )
        .expect("search")
        .success()
        .expect("suffix");
    let csn = ldap3::SearchEntry::construct(r[0].clone()).attrs["contextCSN"][0].clone();
    wait_for(Duration::from_secs(20), "the changes applied", || {
        c.server()
            .directory()
            .consumer_status()
            .cookie
            .contains(&csn)
    });
    let (pm2, cm2) = (scrape(&pb), scrape(&cb));
    assert!(v(&cm2, "ccdir_replication_changes_applied_total{}") >= applied + 5.0);
    assert!(v(&pm2, "ccdir_replication_changes_sent_total{}") >= sent + 5.0);

    contrib_names_exported(&[&pm2, &cm2]);
}
