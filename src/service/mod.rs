//! The service bag: what every layer above the store shares (store, schema, configuration,
//! access policy, password hasher, clock, CSN generator, audit log, bind throttle), and the
//! services themselves.

pub(crate) mod audit;
pub mod config;
pub mod consumer;
pub mod password;
pub mod provider;
pub(crate) mod read_log;
pub(crate) mod stats;
pub(crate) mod throttle;

use crate::acl::{Identity, Policy};
use crate::core::clock::Clock;
use crate::core::csn::CsnGenerator;
use crate::core::dn::Dn;
use crate::core::filter::FilterLimits;
use crate::core::schema::Schema;
use crate::service::config::Config;
use crate::service::password::Hasher;
use crate::store::Store;
use std::sync::Arc;

/// Everything operations share: the store, schema, configuration, policy, clock.
pub struct Directory {
    pub store: Store,
    pub schema: Arc<Schema>,
    pub(crate) config: Config,
    pub suffix: Dn,
    pub(crate) policy: Policy,
    pub(crate) hasher: Hasher,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) csn: CsnGenerator,
    pub(crate) audit: crate::service::audit::Audit,
    pub(crate) throttle: throttle::Throttle,
    /// Persistent sync searches running (repl/provider.rs, `replication.max_consumers`).
    pub(crate) persist_searches: std::sync::atomic::AtomicUsize,
    /// The server is stopping: persistent sync searches end (they would hold up the drain).
    pub(crate) stopping: std::sync::atomic::AtomicBool,
    /// What the server has done since it started (cn=Monitor).
    pub(crate) stats: Arc<stats::Stats>,
    /// The replication consumer's state, when this server follows a provider.
    pub(crate) consumer: consumer::ConsumerState,
    /// The sync searches served to consumers.
    pub(crate) provider: provider::ProviderState,
    /// `ccdir promote` marked this data directory as the writer.
    pub(crate) promoted: std::sync::atomic::AtomicBool,
}

impl Directory {
    /// Persistent sync searches (refreshAndPersist consumers) running now.
    pub fn persist_searches(&self) -> usize {
        self.persist_searches
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The replication consumer's state (empty when this server follows no provider).
    pub fn consumer_status(&self) -> consumer::ConsumerStatus {
        self.consumer.get()
    }

    /// Is the replication consumer ready to serve (`/readyz`)? Always, when this server
    /// follows no provider; else once a refresh is in and while the lag is within
    /// `replication.consumer.ready_max_lag_secs`. Err: why not.
    pub fn consumer_readiness(&self) -> Result<(), String> {
        let Some(c) = &self.config.replication.consumer else {
            return Ok(());
        };
        let s = self.consumer.get();
        if s.provider.is_empty() {
            // Promoted: not following anyone.
            return Ok(());
        }
        let now = consumer::unix_secs(self.clock.now());
        s.readiness(now, c.ready_max_lag_secs)
    }

    /// The provider client writes are sent to: Some while this server follows a provider
    /// (`[replication.consumer]`) and has not been promoted (`ccdir promote`).
    pub(crate) fn write_referral(&self) -> Option<(&str, bool)> {
        let c = self.config.replication.consumer.as_ref()?;
        if self.promoted.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        Some((c.provider.as_str(), c.referrals))
    }

    pub fn filter_limits(&self) -> FilterLimits {
        FilterLimits {
            max_depth: self.config.limits.max_filter_depth,
            max_elements: self.config.limits.max_filter_elements,
        }
    }

    pub(crate) fn parse_dn(&self, text: &str) -> Result<Dn, crate::core::error::LdapError> {
        Dn::parse(text, &self.schema)
    }

    /// `ou=registries,<suffix>`, the container of the registries (and of the personal data).
    pub(crate) fn registries(&self) -> Option<Dn> {
        let rdn = Dn::parse_rdn(crate::core::dit::REGISTRIES_RDN, &self.schema).ok()?;
        Some(self.suffix.child(rdn))
    }

    /// Write one audit line for a bind or a write.
    pub(crate) fn audit(&self, who: &Caller, op: &str, target: &str, attrs: &[String], code: u32) {
        if !self.audit.enabled() {
            return;
        }
        let time = crate::core::clock::generalized_time(self.clock.now());
        self.audit.record(
            &time,
            &crate::service::audit::Event {
                conn: who.conn,
                peer: who.peer.to_string(),
                bound: who.identity.dn_str(),
                op,
                target,
                attrs,
                code,
            },
        );
    }
}

/// Who makes a request, as the audit log records it.
pub(crate) struct Caller<'a> {
    pub(crate) conn: u64,
    pub(crate) peer: std::net::SocketAddr,
    pub(crate) identity: &'a Identity,
}
