//! ccdir: an LDAPv3 directory server for ccTLD incident-response contacts.
//!
//! Layers, from the bottom (docs/ARCHITECTURE.md): `core` (types), `store` (redb), `acl` and
//! `freshness` (rules), `service` (the service bag), `write` (the write pipeline), `ops` (LDAP
//! operations), `repl` (RFC 4533 replication), `proto` (framing, connections), `tools`
//! (offline), `web` (HTTP: metrics, later the portal) and `app` (server start).

#![forbid(unsafe_code)]
// No unwrap, expect or panic outside tests: errors are returned (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod acl;
pub mod app;
pub mod core;
pub mod freshness;
pub mod ops;
pub mod portal;
pub mod proto;
pub mod repl;
pub mod service;
pub mod store;
pub mod tools;
pub mod web;
pub mod write;

pub use app::server::Server;
pub use service::config::Config;
