//! RFC 4533 content synchronization (replication), single writer (DESIGN.md 8.2).
//!
//! - `cookie`: sync cookies as OpenLDAP writes and parses them;
//! - `syncinfo`: the Sync Info intermediate response and the Sync State / Sync Done control
//!   values, encoded and decoded by hand (ldap3_proto 0.9 gets the newcookie wrong);
//! - `provider`: the search with the Sync Request control (refresh from a snapshot, replay of
//!   the changelog, present phase, persistent phase);
//! - `consumer`: applying a provider's messages through the write pipeline as the replication
//!   origin, with the cookie in the same transaction (its network side is app/consumer.rs).
//!
//! The CSN type and generator are in `core::csn`: the store keeps `contextCSN` in each write's
//! transaction.

pub(crate) mod consumer;
pub mod cookie;
pub(crate) mod provider;
pub mod syncinfo;
#[cfg(test)]
mod tests;
