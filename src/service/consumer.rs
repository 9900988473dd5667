//! What a replication consumer (repl/consumer.rs, app/consumer.rs) is doing, for
//! `ccdir replication status`, cn=Monitor and /metrics. Kept in memory; the cookie itself is in
//! the store (written with the changes it covers).

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// The consumer's state as the status command, cn=Monitor and /metrics show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsumerStatus {
    /// The provider's URL ("" when this server is no consumer).
    pub provider: String,
    /// connecting, refresh, persist, idle (refreshOnly between polls), retry, stopped.
    pub phase: String,
    /// The sync cookie the store holds.
    pub cookie: String,
    /// Unix seconds of the last message from the provider (or the last successful poll).
    pub last_contact: Option<u64>,
    /// The CSN of the last change applied.
    pub last_csn: Option<String>,
    /// Seconds from the provider's CSN time of the last change to its commit here.
    pub lag_secs: Option<f64>,
    /// The last error (connection, bind, search, apply), cleared by a successful refresh.
    pub last_error: Option<String>,
    /// Changes applied since the server started (entries added, changed, renamed, deleted).
    pub applied: u64,
    /// Full reloads (e-syncRefreshRequired, or no usable cookie) since the server started.
    pub reloads: u64,
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
