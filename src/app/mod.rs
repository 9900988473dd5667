//! The running server: listeners and start-up, the first start's entries, TLS.

pub mod bootstrap;
pub mod server;
pub mod tls;
