//! Failed-bind defences: per-account lockout after repeated failures within a window (the
//! response while locked is the same invalidCredentials, after the same work), and a per-source
//! limit on failed binds. Kept in memory: a restart clears them.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most accounts and addresses tracked; beyond that the oldest records are dropped.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub(crate) struct ThrottleConfig {
    /// Failures within `window` that lock an account (0: never).
    pub(crate) lockout_failures: usize,
    pub(crate) window: Duration,
    pub(crate) lockout: Duration,
    /// Failed binds per minute from one address before its binds are refused (0: no limit).
    pub(crate) failures_per_ip_per_minute: usize,
}

#[derive(Default)]
struct Account {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

pub(crate) struct Throttle {
    cfg: ThrottleConfig,
    accounts: Mutex<HashMap<Vec<u8>, Account>>,
    sources: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

fn trim(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q.front().is_some_and(|t| now.duration_since(*t) > window) {
        q.pop_front();
    }
}

impl Throttle {
    pub(crate) fn new(cfg: ThrottleConfig) -> Self {
        Throttle {
            cfg,
            accounts: Mutex::new(HashMap::new()),
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// May this address try a bind now?
    pub(crate) fn source_allowed(&self, ip: IpAddr) -> bool {
        if self.cfg.failures_per_ip_per_minute == 0 {
            return true;
        }
        let Ok(mut m) = self.sources.lock() else {
            return true;
        };
        let now = Instant::now();
        match m.get_mut(&ip) {
            Some(q) => {
                trim(q, now, Duration::from_secs(60));
                q.len() < self.cfg.failures_per_ip_per_minute
            }
            None => true,
        }
    }

    /// Is the account (store key) locked?
    pub(crate) fn locked(&self, account: &[u8]) -> bool {
        let Ok(m) = self.accounts.lock() else {
            return false;
        };
        m.get(account)
            .and_then(|a| a.locked_until)
            .is_some_and(|u| Instant::now() < u)
    }

    /// Record a failed bind; returns true when this failure locked the account.
    pub(crate) fn failed(&self, account: Option<&[u8]>, ip: IpAddr) -> bool {
        let now = Instant::now();
        if self.cfg.failures_per_ip_per_minute > 0 {
            if let Ok(mut m) = self.sources.lock() {
                if m.len() >= MAX_TRACKED && !m.contains_key(&ip) {
                    m.clear();
                }
                let q = m.entry(ip).or_default();
                trim(q, now, Duration::from_secs(60));
                q.push_back(now);
            }
        }
        let (Some(key), n) = (account, self.cfg.lockout_failures) else {
            return false;
        };
        if n == 0 {
            return false;
        }
        let Ok(mut m) = self.accounts.lock() else {
            return false;
        };
        if m.len() >= MAX_TRACKED && !m.contains_key(key) {
            m.clear();
        }
        let a = m.entry(key.to_vec()).or_default();
        trim(&mut a.failures, now, self.cfg.window);
        a.failures.push_back(now);
        if a.failures.len() >= n && a.locked_until.is_none_or(|u| u <= now) {
            a.locked_until = Some(now + self.cfg.lockout);
            a.failures.clear();
            return true;
        }
        false
    }

    /// A successful bind clears the account's failures.
    pub(crate) fn succeeded(&self, account: &[u8]) {
        if let Ok(mut m) = self.accounts.lock() {
            m.remove(account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_failures_and_unlocks_after_the_lockout() {
        let t = Throttle::new(ThrottleConfig {
            lockout_failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_millis(200),
            failures_per_ip_per_minute: 5,
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(!t.failed(Some(b"a"), ip));
        assert!(!t.failed(Some(b"a"), ip));
        assert!(!t.locked(b"a"));
        assert!(t.failed(Some(b"a"), ip));
        assert!(t.locked(b"a"));
        assert!(!t.locked(b"b"));
        std::thread::sleep(Duration::from_millis(250));
        assert!(!t.locked(b"a"));
        // The address made 3 failures; two more reach the per-minute limit.
        assert!(t.source_allowed(ip));
        t.failed(None, ip);
        t.failed(None, ip);
        assert!(!t.source_allowed(ip));
        assert!(t.source_allowed("127.0.0.2".parse().unwrap()));
    }
}
