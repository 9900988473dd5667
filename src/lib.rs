//! ccdir: an LDAPv3 directory server for ccTLD incident-response contacts.

#![forbid(unsafe_code)]
// No unwrap, expect or panic outside tests: errors are returned (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod acl;
pub mod audit;
pub mod bootstrap;
pub mod bulk;
pub mod clock;
pub mod codec;
pub mod config;
pub mod connection;
pub mod dn;
pub mod entry;
pub mod error;
pub mod filter;
pub mod filter_text;
pub mod freshness;
pub mod import;
pub mod ldif;
pub mod offline;
pub mod ops;
pub mod password;
pub mod roster;
pub mod schema;
pub mod server;
pub mod store;
pub mod tls;

pub use config::Config;
pub use server::Server;
