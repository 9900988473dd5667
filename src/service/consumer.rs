//! What a replication consumer (repl/consumer.rs, app/consumer.rs) is doing, for
//! `ccdir replication status`, cn=Monitor, /metrics and /readyz. Kept in memory; the cookie
//! itself is in the store (written with the changes it covers).
//!
//! The lag is how far behind the provider the consumer's data may be, in seconds (see
//! [`ConsumerStatus::lag_secs`]): it is measured from `synced_at`, the newest time as of which
//! the consumer is known to hold everything the provider held:
//! - a refresh committed: the time its sync search was sent (the provider answers from a
//!   snapshot taken after it);
//! - in the persistent phase, a change committed: its CSN's time (changes arrive in the
//!   provider's commit order, so every earlier one is in);
//! - in the persistent phase with nothing left to apply: every contact with the provider (a
//!   change, or the answer to a keep-alive), and the lag is 0 meanwhile.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// The phases, as the status, cn=Monitor and /metrics name them.
pub const CONNECTING: &str = "connecting";
pub const REFRESH: &str = "refresh";
pub const PERSIST: &str = "persist";
/// refreshOnly, between two polls.
pub const IDLE: &str = "idle";
/// Waiting before the next connection after a failure.
pub const RETRYING: &str = "retrying";
pub const STOPPED: &str = "stopped";
/// Every phase, for the metric that has one series per phase.
pub const PHASES: [&str; 6] = [CONNECTING, REFRESH, PERSIST, IDLE, RETRYING, STOPPED];

/// The consumer's state as the status command, cn=Monitor and /metrics show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsumerStatus {
    /// The provider's URL ("" when this server is no consumer).
    pub provider: String,
    /// `refreshAndPersist` or `refreshOnly`.
    pub mode: String,
    /// The base of the sync search.
    pub search_base: String,
    /// The replica id (`rid`).
    pub rid: u16,
    /// One of [`PHASES`].
    pub phase: String,
    /// The sync cookie the store holds.
    pub cookie: String,
    /// The cookie the current (or last) sync search was sent with.
    pub cookie_sent: String,
    /// Unix seconds of the last connection made to the provider (its sync search sent).
    pub last_connect: Option<u64>,
    /// Unix seconds of the next connection attempt, while retrying.
    pub next_connect: Option<u64>,
    /// Unix seconds of the last message from the provider (or the last successful poll).
    pub last_contact: Option<u64>,
    /// The CSN of the last change applied.
    pub last_csn: Option<String>,
    /// Seconds from the provider's CSN time of the last change to its commit here.
    pub delay_secs: Option<f64>,
    /// The last error (connection, bind, search, apply), cleared when a sync search starts.
    pub last_error: Option<String>,
    /// Changes applied since the server started (entries added, changed, renamed, deleted).
    pub applied: u64,
    /// Full reloads (e-syncRefreshRequired, or no usable cookie) since the server started.
    pub reloads: u64,
    /// Sync searches started again after a failure (a lost connection, a provider that could
    /// not be reached or refused) since the server started; refreshOnly's polls do not count.
    pub reconnects: u64,
    /// The last attempt failed: the next sync search sent is a reconnection.
    pub after_failure: bool,
    /// A refresh has been committed since the server started.
    pub refreshed: bool,
    /// Unix seconds (fractional) as of which the consumer is known to hold everything the
    /// provider held (module documentation).
    pub synced_at: Option<f64>,
    /// In the persistent phase, everything received so far is applied.
    pub caught_up: bool,
    /// Unix seconds (fractional) when the current sync search was sent.
    pub search_sent: Option<f64>,
}

/// Unix seconds of `t`, fractional.
pub fn unix_secs(t: time::OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

impl ConsumerStatus {
    /// Seconds the consumer's data may be behind the provider's at `now` (Unix seconds): 0 in
    /// the persistent phase with everything received applied; else the time since `synced_at`.
    /// None until a first refresh has been committed since the server started.
    pub fn lag_secs(&self, now: f64) -> Option<f64> {
        if !self.refreshed {
            return None;
        }
        if self.phase == PERSIST && self.caught_up {
            return Some(0.0);
        }
        self.synced_at.map(|t| (now - t).max(0.0))
    }

    /// Ready to serve at `now` with lag bound `max_lag` (seconds)? Err: why not.
    pub fn readiness(&self, now: f64, max_lag: Option<u64>) -> Result<(), String> {
        if !self.refreshed {
            return Err(format!(
                "replication: the first refresh from {} is not done yet (phase {})",
                self.provider, self.phase
            ));
        }
        let (Some(max), Some(lag)) = (max_lag, self.lag_secs(now)) else {
            return Ok(());
        };
        if lag > max as f64 {
            return Err(format!(
                "replication: lag {lag:.1}s is above ready_max_lag_secs {max} (phase {})",
                self.phase
            ));
        }
        Ok(())
    }

    fn synced(&mut self, t: f64) {
        if self.synced_at.is_none_or(|s| s < t) {
            self.synced_at = Some(t);
        }
    }

    /// A sync search was sent (`now`: Unix seconds) with `cookie`.
    pub(crate) fn search_sent(&mut self, now: f64, cookie: String) {
        if self.after_failure {
            self.reconnects += 1;
            self.after_failure = false;
        }
        self.last_connect = Some(now.max(0.0) as u64);
        self.next_connect = None;
        self.search_sent = Some(now);
        self.cookie_sent = cookie;
        self.caught_up = false;
        self.phase = REFRESH.into();
        self.last_error = None;
    }

    /// A message from the provider, or the answer to a keep-alive.
    pub(crate) fn contact(&mut self, now: f64) {
        self.last_contact = Some(now.max(0.0) as u64);
        if self.phase == PERSIST && self.caught_up {
            self.synced(now);
        }
    }

    /// The applier committed a transaction at `now` with `applied` changes, the newest of CSN
    /// `csn` (its time `csn_time`), and `cookie`; `refreshing`: the refresh is not over yet;
    /// `idle`: nothing more was waiting to be applied.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn committed(
        &mut self,
        now: f64,
        applied: u64,
        cookie: Option<String>,
        csn: Option<String>,
        csn_time: Option<f64>,
        refreshing: bool,
        idle: bool,
    ) {
        self.applied += applied;
        if let Some(c) = cookie {
            self.cookie = c;
        }
        if let Some(t) = csn_time {
            self.delay_secs = Some((now - t).max(0.0));
        }
        if let Some(csn) = csn {
            self.last_csn = Some(csn);
        }
        if refreshing {
            return;
        }
        if self.phase == REFRESH {
            // The refresh is in: as of its search's start, nothing is missing.
            self.refreshed = true;
            if let Some(t) = self.search_sent {
                self.synced(t);
            }
            self.phase = if self.mode == "refreshOnly" {
                IDLE.into()
            } else {
                PERSIST.into()
            };
        } else if let Some(t) = csn_time {
            self.synced(t);
        }
        self.caught_up = self.phase == PERSIST && idle;
        if self.caught_up {
            self.synced(now);
        }
    }

    /// The connection failed; the next attempt is at `next` (Unix seconds).
    pub(crate) fn failed(&mut self, error: String, next: u64) {
        self.phase = RETRYING.into();
        self.after_failure = true;
        self.caught_up = false;
        self.next_connect = Some(next);
        self.last_error = Some(error);
    }

    /// A refreshOnly poll ended well.
    pub(crate) fn polled(&mut self, next: u64) {
        self.phase = IDLE.into();
        self.caught_up = false;
        self.next_connect = Some(next);
    }
}

/// Shared by the consumer task and the readers.
#[derive(Default)]
pub struct ConsumerState(Mutex<ConsumerStatus>);

impl ConsumerState {
    pub fn get(&self) -> ConsumerStatus {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut ConsumerStatus)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persist() -> ConsumerStatus {
        ConsumerStatus {
            mode: "refreshAndPersist".into(),
            phase: CONNECTING.into(),
            ..Default::default()
        }
    }

    #[test]
    fn no_lag_before_the_first_refresh_then_none_while_caught_up() {
        let mut s = persist();
        assert_eq!(s.lag_secs(100.0), None);
        s.search_sent(100.0, "rid=001".into());
        assert_eq!(s.phase, REFRESH);
        // The refresh spans several transactions' worth of messages but commits once.
        s.committed(105.0, 500, None, None, None, true, false);
        assert_eq!(s.lag_secs(106.0), None);
        s.committed(
            110.0,
            0,
            Some("rid=001,csn=x".into()),
            None,
            None,
            false,
            true,
        );
        assert_eq!(s.phase, PERSIST);
        assert!(s.refreshed);
        assert_eq!(s.lag_secs(200.0), Some(0.0));
        assert_eq!(s.cookie, "rid=001,csn=x");
        assert_eq!(s.applied, 500);
    }

    #[test]
    fn a_backlog_lags_by_the_last_applied_change_and_an_outage_by_the_last_contact() {
        let mut s = persist();
        s.search_sent(100.0, String::new());
        s.committed(101.0, 10, None, None, None, false, true);
        // A burst: the first batch committed with more waiting.
        s.committed(
            150.0,
            256,
            None,
            Some("c".into()),
            Some(120.0),
            false,
            false,
        );
        assert!(!s.caught_up);
        assert_eq!(s.lag_secs(150.0), Some(30.0));
        assert_eq!(s.delay_secs, Some(30.0));
        s.committed(152.0, 10, None, Some("d".into()), Some(149.0), false, true);
        assert_eq!(s.lag_secs(152.0), Some(0.0));
        // Silence, then a keep-alive answered, then the connection lost.
        s.contact(170.0);
        s.failed("gone".into(), 181);
        assert_eq!(s.phase, RETRYING);
        assert_eq!(s.lag_secs(180.0), Some(10.0));
        // Reconnected: a replay from the cookie; lagging until it commits.
        s.search_sent(181.0, "rid=001,csn=d".into());
        assert_eq!(s.reconnects, 1);
        assert_eq!(s.lag_secs(182.0), Some(12.0));
        s.committed(183.0, 3, None, None, None, false, true);
        assert_eq!(s.lag_secs(184.0), Some(0.0));
    }

    #[test]
    fn ready_once_refreshed_and_within_the_bound() {
        let mut s = persist();
        s.provider = "ldaps://a".into();
        assert!(s.readiness(100.0, None).is_err());
        s.search_sent(100.0, String::new());
        let why = s.readiness(101.0, Some(10)).unwrap_err();
        assert!(
            why.contains("first refresh") && why.contains("refresh"),
            "{why}"
        );
        s.committed(102.0, 1, None, None, None, false, true);
        assert_eq!(s.readiness(103.0, Some(10)), Ok(()));
        s.failed("gone".into(), 120);
        assert_eq!(s.readiness(110.0, Some(10)), Ok(()));
        let why = s.readiness(113.0, Some(10)).unwrap_err();
        assert!(why.contains("lag 11.0s"), "{why}");
        assert_eq!(s.readiness(113.0, None), Ok(()));
    }

    #[test]
    fn refresh_only_lags_by_the_time_since_the_last_poll_started() {
        let mut s = ConsumerStatus {
            mode: "refreshOnly".into(),
            ..Default::default()
        };
        s.search_sent(100.0, String::new());
        s.committed(102.0, 5, None, None, None, false, true);
        assert_eq!(s.phase, IDLE);
        s.polled(160);
        assert_eq!(s.reconnects, 0);
        assert_eq!(s.lag_secs(130.0), Some(30.0));
        s.search_sent(160.0, String::new());
        assert_eq!(s.lag_secs(161.0), Some(61.0));
        s.committed(161.5, 0, None, None, None, false, true);
        assert_eq!(s.lag_secs(165.0), Some(5.0));
    }
}
