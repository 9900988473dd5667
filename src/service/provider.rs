//! The sync searches this server serves as a provider (repl/provider.rs, run for a connection
//! by proto/connection.rs), for cn=Monitor, /metrics and `ccdir replication status`: one
//! record per sync search, from its start until it ends, and the totals since the start.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many bytes wait in the connection's outbox for the socket.
pub(crate) type Queued = Box<dyn Fn() -> usize + Send + Sync>;

/// One sync search being served.
pub(crate) struct Served {
    pub(crate) conn: u64,
    pub(crate) msgid: i32,
    pub(crate) peer: String,
    /// The bound DN ("" for anonymous).
    pub(crate) bound: String,
    /// refreshAndPersist (else refreshOnly).
    pub(crate) persist: bool,
    pub(crate) base: String,
    /// Unix seconds.
    pub(crate) started: u64,
    /// The cookie of the request ("" without one: a full refresh).
    pub(crate) start_cookie: String,
    /// In the persistent phase (the refresh is sent).
    persisting: AtomicBool,
    /// Entry messages sent (add, modify, delete, present) and UUIDs in syncIdSets.
    sent: AtomicU64,
    /// The last cookie sent (Sync State or Sync Info).
    last_cookie: Mutex<String>,
    queued: Queued,
}

impl Served {
    pub(crate) fn persisting(&self) -> bool {
        self.persisting.load(Ordering::Relaxed)
    }

    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub(crate) fn last_cookie(&self) -> String {
        self.last_cookie
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn queued_bytes(&self) -> usize {
        (self.queued)()
    }
}

/// What a sync search is, when it starts.
pub(crate) struct Start {
    pub(crate) conn: u64,
    pub(crate) msgid: i32,
    pub(crate) peer: String,
    pub(crate) bound: String,
    pub(crate) persist: bool,
    pub(crate) base: String,
    pub(crate) started: u64,
    pub(crate) start_cookie: String,
    pub(crate) queued: Queued,
}

/// The sync searches served now, and what they sent since the server started.
#[derive(Default)]
pub(crate) struct ProviderState {
    next: AtomicU64,
    served: Mutex<BTreeMap<u64, Arc<Served>>>,
    /// Entry messages sent by every sync search since the start (ended ones included).
    sent_total: AtomicU64,
}

/// Holds a sync search's record; removes it when dropped (the search ended).
pub(crate) struct Serving<'a> {
    state: &'a ProviderState,
    key: u64,
    pub(crate) served: Arc<Served>,
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.state
            .served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

impl Serving<'_> {
    /// `n` entry messages (or syncIdSet UUIDs) sent.
    pub(crate) fn sent(&self, n: u64) {
        self.served.sent.fetch_add(n, Ordering::Relaxed);
        self.state.sent_total.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn cookie(&self, c: &[u8]) {
        *self
            .served
            .last_cookie
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = String::from_utf8_lossy(c).into_owned();
    }

    /// The refresh is sent; the persistent phase begins.
    pub(crate) fn persisting(&self) {
        self.served.persisting.store(true, Ordering::Relaxed);
    }
}

impl ProviderState {
    pub(crate) fn start(&self, s: Start) -> Serving<'_> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let served = Arc::new(Served {
            conn: s.conn,
            msgid: s.msgid,
            peer: s.peer,
            bound: s.bound,
            persist: s.persist,
            base: s.base,
            started: s.started,
            start_cookie: s.start_cookie,
            persisting: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            last_cookie: Mutex::new(String::new()),
            queued: s.queued,
        });
        self.served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, served.clone());
        Serving {
            state: self,
            key,
            served,
        }
    }

    /// The sync searches served now, oldest first.
    pub(crate) fn list(&self) -> Vec<Arc<Served>> {
        self.served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn sent_total(&self) -> u64 {
        self.sent_total.load(Ordering::Relaxed)
    }
}

/// A served sync search as the status command shows it (also sent by the running server).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServedStatus {
    pub conn: u64,
    pub msgid: i32,
    pub peer: String,
    pub bound: String,
    pub mode: String,
    pub phase: String,
    pub base: String,
    pub started: u64,
    pub start_cookie: String,
    pub last_cookie: String,
    pub sent: u64,
    pub queued_bytes: u64,
}

impl Served {
    pub(crate) fn status(&self) -> ServedStatus {
        ServedStatus {
            conn: self.conn,
            msgid: self.msgid,
            peer: self.peer.clone(),
            bound: self.bound.clone(),
            mode: if self.persist {
                "refreshAndPersist"
            } else {
                "refreshOnly"
            }
            .into(),
            phase: if self.persisting() {
                "persist"
            } else {
                "refresh"
            }
            .into(),
            base: self.base.clone(),
            started: self.started,
            start_cookie: self.start_cookie.clone(),
            last_cookie: self.last_cookie(),
            sent: self.sent(),
            queued_bytes: self.queued_bytes() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(conn: u64) -> Start {
        Start {
            conn,
            msgid: 2,
            peer: "127.0.0.1:4000".into(),
            bound: "cn=replicator".into(),
            persist: true,
            base: "dc=example".into(),
            started: 100,
            start_cookie: String::new(),
            queued: Box::new(|| 7),
        }
    }

    #[test]
    fn a_record_lives_as_long_as_its_search_and_the_total_stays() {
        let p = ProviderState::default();
        {
            let a = p.start(start(1));
            let b = p.start(start(2));
            a.sent(3);
            b.sent(1);
            a.cookie(b"rid=001,csn=x");
            a.persisting();
            let l = p.list();
            assert_eq!(l.len(), 2);
            let s = l[0].status();
            assert_eq!((s.conn, s.sent, s.queued_bytes), (1, 3, 7));
            assert_eq!(
                (s.phase.as_str(), s.last_cookie.as_str()),
                ("persist", "rid=001,csn=x")
            );
            assert_eq!(l[1].status().phase, "refresh");
        }
        assert!(p.list().is_empty());
        assert_eq!(p.sent_total(), 4);
    }
}
