//! What the server has done since it started: connections, operations initiated and completed
//! by kind, bytes, PDUs and entries sent; the listeners. Lock-free counters, bumped on the
//! request path (proto/connection.rs) and read by `cn=Monitor` (ops/search/monitor.rs) and,
//! later, the metrics listener.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

/// The kinds of operation cn=Monitor counts, with OpenLDAP's names (`cn=Bind,cn=Operations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    Bind,
    Unbind,
    Search,
    Compare,
    Modify,
    Modrdn,
    Add,
    Delete,
    Abandon,
    Extended,
}

impl Counted {
    pub(crate) const ALL: [Counted; 10] = [
        Counted::Bind,
        Counted::Unbind,
        Counted::Search,
        Counted::Compare,
        Counted::Modify,
        Counted::Modrdn,
        Counted::Add,
        Counted::Delete,
        Counted::Abandon,
        Counted::Extended,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Counted::Bind => "Bind",
            Counted::Unbind => "Unbind",
            Counted::Search => "Search",
            Counted::Compare => "Compare",
            Counted::Modify => "Modify",
            Counted::Modrdn => "Modrdn",
            Counted::Add => "Add",
            Counted::Delete => "Delete",
            Counted::Abandon => "Abandon",
            Counted::Extended => "Extended",
        }
    }

    /// The kind whose final response this is (None: not a final response).
    fn of_response(op: &ldap3_proto::proto::LdapOp) -> Option<Counted> {
        use ldap3_proto::proto::LdapOp as O;
        Some(match op {
            O::BindResponse(_) => Counted::Bind,
            O::SearchResultDone(_) => Counted::Search,
            O::CompareResult(_) => Counted::Compare,
            O::ModifyResponse(_) => Counted::Modify,
            O::ModifyDNResponse(_) => Counted::Modrdn,
            O::AddResponse(_) => Counted::Add,
            O::DelResponse(_) => Counted::Delete,
            O::ExtendedResponse(_) => Counted::Extended,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The result code of a final response.
pub(crate) fn result_code(op: &ldap3_proto::proto::LdapOp) -> Option<u32> {
    use ldap3_proto::proto::LdapOp as O;
    let r = match op {
        O::BindResponse(r) => &r.res,
        O::SearchResultDone(r)
        | O::ModifyResponse(r)
        | O::AddResponse(r)
        | O::DelResponse(r)
        | O::ModifyDNResponse(r) => r,
        O::CompareResult(r) => r,
        O::ExtendedResponse(r) => &r.res,
        _ => return None,
    };
    Some(crate::core::error::code_number(&r.code))
}

#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) started: SystemTime,
    connections_total: AtomicU64,
    connections_current: AtomicU64,
    initiated: [AtomicU64; 10],
    completed: [AtomicU64; 10],
    bytes: AtomicU64,
    pdus: AtomicU64,
    entries: AtomicU64,
    referrals: AtomicU64,
    /// Operations running on the blocking pool now.
    executing: AtomicU64,
    listeners: Mutex<Vec<String>>,
    /// Final responses by operation and result code below 128 (`/metrics`); plain atomics, so
    /// counting costs one increment on the request path.
    results: [[AtomicU64; 128]; 10],
    /// Result codes from 128 on (e-syncRefreshRequired and the like): rare.
    rare_results: Mutex<Vec<(Counted, u32, u64)>>,
    /// How long operations take, from their start on the blocking pool to their return: per
    /// kind, the count in each bucket of [`LATENCY_BOUNDS`] (the last: above them), the sum in
    /// nanoseconds.
    latency: [[AtomicU64; LATENCY_BUCKETS]; 10],
    latency_ns: [AtomicU64; 10],
    tls_failures: AtomicU64,
}

/// Upper bounds of the latency buckets in seconds: 50 µs to about 3.3 s, times 4.
pub(crate) const LATENCY_BOUNDS: [f64; 9] = [
    0.00005, 0.0002, 0.0008, 0.0032, 0.0128, 0.0512, 0.2048, 0.8192, 3.2768,
];
const LATENCY_BUCKETS: usize = LATENCY_BOUNDS.len() + 1;

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: SystemTime::now(),
            connections_total: AtomicU64::new(0),
            connections_current: AtomicU64::new(0),
            initiated: Default::default(),
            completed: Default::default(),
            bytes: AtomicU64::new(0),
            pdus: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            referrals: AtomicU64::new(0),
            executing: AtomicU64::new(0),
            listeners: Mutex::new(Vec::new()),
            results: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            rare_results: Mutex::new(Vec::new()),
            latency: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            latency_ns: Default::default(),
            tls_failures: AtomicU64::new(0),
        }
    }
}

/// What a sent message counts as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sent {
    Entry,
    Referral,
    /// The final response of an operation of this kind, with its result code.
    Final(Counted, u32),
    Other,
}

/// Held while a connection is open: counts it as current.
pub(crate) struct Open<'a>(&'a Stats);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.connections_current.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Held while an operation runs on the blocking pool.
pub(crate) struct Executing<'a>(&'a Stats);

impl Drop for Executing<'_> {
    fn drop(&mut self) {
        self.0.executing.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    pub(crate) connections_total: u64,
    pub(crate) connections_current: u64,
    pub(crate) initiated: [u64; 10],
    pub(crate) completed: [u64; 10],
    pub(crate) bytes: u64,
    pub(crate) pdus: u64,
    pub(crate) entries: u64,
    pub(crate) referrals: u64,
    pub(crate) executing: u64,
    pub(crate) listeners: Vec<String>,
}

impl Snapshot {
    pub(crate) fn initiated(&self, k: Counted) -> u64 {
        self.initiated[k.index()]
    }
    pub(crate) fn completed(&self, k: Counted) -> u64 {
        self.completed[k.index()]
    }
}

impl Stats {
    pub(crate) fn connection(&self) -> Open<'_> {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        self.connections_current.fetch_add(1, Ordering::Relaxed);
        Open(self)
    }

    pub(crate) fn executing(&self) -> Executing<'_> {
        self.executing.fetch_add(1, Ordering::Relaxed);
        Executing(self)
    }

    pub(crate) fn initiated(&self, k: Counted) {
        self.initiated[k.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// An operation without a response (unbind, abandon) is complete when it is read.
    pub(crate) fn completed(&self, k: Counted) {
        self.completed[k.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// What a message is, for [`Stats::sent`] (taken before the message is encoded and gone).
    pub(crate) fn classify(msg: &ldap3_proto::proto::LdapMsg) -> Sent {
        use ldap3_proto::proto::LdapOp as O;
        match &msg.op {
            O::SearchResultEntry(_) => Sent::Entry,
            O::SearchResultReference(_) => Sent::Referral,
            // A Notice of Disconnection (message ID 0) completes no operation.
            op if msg.msgid != 0 => match (Counted::of_response(op), result_code(op)) {
                (Some(k), Some(code)) => Sent::Final(k, code),
                _ => Sent::Other,
            },
            _ => Sent::Other,
        }
    }

    /// Messages sent in one batch: how many, their bytes, and how many were search entries and
    /// references (one increment each, whatever the batch's size).
    pub(crate) fn sent(&self, pdus: u64, bytes: u64, entries: u64, referrals: u64) {
        self.pdus.fetch_add(pdus, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if entries > 0 {
            self.entries.fetch_add(entries, Ordering::Relaxed);
        }
        if referrals > 0 {
            self.referrals.fetch_add(referrals, Ordering::Relaxed);
        }
    }

    /// An operation's final response went out with this result code.
    pub(crate) fn finished(&self, k: Counted, code: u32) {
        self.completed(k);
        match self.results[k.index()].get(code as usize) {
            Some(c) => {
                c.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                if let Ok(mut rare) = self.rare_results.lock() {
                    match rare.iter_mut().find(|r| r.0 == k && r.1 == code) {
                        Some(r) => r.2 += 1,
                        None => rare.push((k, code, 1)),
                    }
                }
            }
        }
    }

    /// An operation of kind `k` took `secs`.
    pub(crate) fn took(&self, k: Counted, secs: f64) {
        let b = LATENCY_BOUNDS
            .iter()
            .position(|&ub| secs <= ub)
            .unwrap_or(LATENCY_BOUNDS.len());
        self.latency[k.index()][b].fetch_add(1, Ordering::Relaxed);
        self.latency_ns[k.index()].fetch_add((secs * 1e9) as u64, Ordering::Relaxed);
    }

    /// A TLS handshake failed.
    pub(crate) fn tls_failed(&self) {
        self.tls_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// (kind, result code, count) of every final response counted so far.
    pub(crate) fn results(&self) -> Vec<(Counted, u32, u64)> {
        let mut out = Vec::new();
        for k in Counted::ALL {
            for (code, c) in self.results[k.index()].iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    out.push((k, code as u32, n));
                }
            }
        }
        if let Ok(rare) = self.rare_results.lock() {
            out.extend(rare.iter().copied());
        }
        out
    }

    /// Per kind: the count in each latency bucket (not cumulative; the last is above the
    /// bounds) and the sum in seconds.
    pub(crate) fn latency(&self, k: Counted) -> ([u64; LATENCY_BUCKETS], f64) {
        let counts = std::array::from_fn(|b| self.latency[k.index()][b].load(Ordering::Relaxed));
        let sum = self.latency_ns[k.index()].load(Ordering::Relaxed) as f64 / 1e9;
        (counts, sum)
    }

    pub(crate) fn tls_failures(&self) -> u64 {
        self.tls_failures.load(Ordering::Relaxed)
    }

    pub(crate) fn set_listeners(&self, urls: Vec<String>) {
        if let Ok(mut l) = self.listeners.lock() {
            *l = urls;
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            connections_total: load(&self.connections_total),
            connections_current: load(&self.connections_current),
            initiated: std::array::from_fn(|i| load(&self.initiated[i])),
            completed: std::array::from_fn(|i| load(&self.completed[i])),
            bytes: load(&self.bytes),
            pdus: load(&self.pdus),
            entries: load(&self.entries),
            referrals: load(&self.referrals),
            executing: load(&self.executing),
            listeners: self.listeners.lock().map(|l| l.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::proto::{LdapMsg, LdapOp, LdapResult, LdapResultCode};

    fn done(msgid: i32) -> LdapMsg {
        LdapMsg::new(
            msgid,
            LdapOp::SearchResultDone(LdapResult {
                code: LdapResultCode::Success,
                matcheddn: String::new(),
                message: String::new(),
                referral: vec![],
            }),
        )
    }

    #[test]
    fn counts_connections_operations_and_what_was_sent() {
        let s = Stats::default();
        {
            let _c = s.connection();
            let _d = s.connection();
            assert_eq!(s.snapshot().connections_current, 2);
        }
        s.initiated(Counted::Search);
        for (m, b) in [(done(1), 14), (done(0), 20)] {
            if let Sent::Final(k, code) = Stats::classify(&m) {
                s.finished(k, code);
            }
            s.sent(1, b, 0, 0);
        }
        let snap = s.snapshot();
        assert_eq!((snap.connections_total, snap.connections_current), (2, 0));
        assert_eq!(snap.initiated(Counted::Search), 1);
        assert_eq!(
            snap.completed(Counted::Search),
            1,
            "message 0 completes nothing"
        );
        assert_eq!((snap.pdus, snap.bytes), (2, 34));
    }
}
