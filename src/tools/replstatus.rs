//! `ccdir replication status` (docs/operations/replication.md, "Monitoring replication"):
//!
//! - [`stored`]: what the data directory holds (role, server id, provider, sync cookie,
//!   contextCSN), read by the command from a stopped data directory;
//! - [`live`]: the same, plus what the running server is doing (the consumer's phase, lag,
//!   contacts, counters and last error; the sync searches it serves), answered by the server
//!   through the live-tool extended operation.
//!
//! One `key: value` per line, so scripts can pick a line; the live lines follow the stored ones.

use crate::core::clock::generalized_time;
use crate::service::consumer::unix_secs;
use crate::service::Directory;
use crate::store::View;

/// Role, server id, provider, the stored cookie and contextCSN.
pub fn stored(dir: &Directory) -> Result<String, String> {
    let promoted = dir.promoted.load(std::sync::atomic::Ordering::Acquire);
    let snap = dir.store.read().map_err(|e| e.to_string())?;
    let cookie = snap
        .meta_value(crate::store::tables::META_SYNC_COOKIE)
        .map_err(|e| e.to_string())?
        .map(|c| String::from_utf8_lossy(&c).into_owned());
    let context = snap.context_csn().map_err(|e| e.to_string())?;
    let role = match (&dir.config.replication.consumer, promoted) {
        (Some(_), false) => "consumer",
        (Some(_), true) => "provider (promoted; [replication.consumer] is ignored)",
        (None, true) => "provider (promoted)",
        (None, false) => "provider",
    };
    let mut out = format!(
        "role: {role}\nserver_id: {:03x}\n",
        dir.config.replication.server_id
    );
    if let Some(c) = &dir.config.replication.consumer {
        out.push_str(&format!("provider: {}\nmode: {:?}\n", c.provider, c.mode));
    }
    out.push_str(&format!(
        "cookie: {}\ncontextCSN: {}\n",
        cookie
            .as_deref()
            .unwrap_or("(none: the next refresh is a full one)"),
        context.to_text()
    ));
    Ok(out)
}

fn when(t: Option<u64>) -> String {
    t.and_then(|s| i64::try_from(s).ok())
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(|| "-".to_string(), generalized_time)
}

/// The stored state and the running server's.
pub fn live(dir: &Directory) -> Result<String, String> {
    let mut out = stored(dir)?;
    out.push_str("server: running\n");
    let s = dir.consumer_status();
    if !s.provider.is_empty() {
        let now = unix_secs(dir.clock.now());
        let lag = s.lag_secs(now).map_or_else(
            || "unknown (no refresh yet)".to_string(),
            |l| format!("{l:.1}s"),
        );
        let max = dir
            .config
            .replication
            .consumer
            .as_ref()
            .and_then(|c| c.ready_max_lag_secs);
        let ready = match s.readiness(now, max) {
            Ok(()) => "yes".to_string(),
            Err(why) => format!("no: {why}"),
        };
        out.push_str(&format!(
            "phase: {}\nrefresh done: {}\nready: {ready}\nlag: {lag}\n",
            s.phase,
            if s.refreshed { "yes" } else { "no" },
        ));
        out.push_str(&format!(
            "last connect: {}\nlast contact: {}\nnext connect: {}\n",
            when(s.last_connect),
            when(s.last_contact),
            when(s.next_connect)
        ));
        out.push_str(&format!(
            "last CSN applied: {}\nchanges applied: {}\nreconnects: {}\nreloads: {}\nlast error: {}\n",
            s.last_csn.as_deref().unwrap_or("-"),
            s.applied,
            s.reconnects,
            s.reloads,
            s.last_error.as_deref().unwrap_or("-"),
        ));
    }
    let served = dir.provider.list();
    out.push_str(&format!("consumers served: {}\n", served.len()));
    for c in served {
        let c = c.status();
        out.push_str(&format!(
            "consumer: conn={} msgid={} peer={} dn={:?} mode={} phase={} since={} sent={} queued_bytes={} start_cookie={:?} last_cookie={:?}\n",
            c.conn,
            c.msgid,
            c.peer,
            c.bound,
            c.mode,
            c.phase,
            when(Some(c.started)),
            c.sent,
            c.queued_bytes,
            c.start_cookie,
            c.last_cookie,
        ));
    }
    Ok(out)
}
