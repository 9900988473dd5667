//! The service bag: what every layer above the store shares (store, schema, configuration,
//! access policy, password hasher, clock, CSN generator, audit log, bind throttle), and the
//! services themselves.

pub mod audit;
pub mod config;
pub mod password;
pub mod throttle;

use crate::acl::{Identity, Policy};
use crate::core::clock::{Clock, CsnGenerator};
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
    pub config: Config,
    pub suffix: Dn,
    pub policy: Policy,
    pub hasher: Hasher,
    pub clock: Arc<dyn Clock>,
    pub csn: CsnGenerator,
    pub audit: crate::service::audit::Audit,
    pub throttle: throttle::Throttle,
}

impl Directory {
    pub fn filter_limits(&self) -> FilterLimits {
        FilterLimits {
            max_depth: self.config.limits.max_filter_depth,
            max_elements: self.config.limits.max_filter_elements,
        }
    }

    pub fn parse_dn(&self, text: &str) -> Result<Dn, crate::core::error::LdapError> {
        Dn::parse(text, &self.schema)
    }

    /// Write one audit line for a bind or a write.
    pub fn audit(&self, who: &Caller, op: &str, target: &str, attrs: &[String], code: u32) {
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
pub struct Caller<'a> {
    pub conn: u64,
    pub peer: std::net::SocketAddr,
    pub identity: &'a Identity,
}
