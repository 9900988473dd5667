//! The running server: listeners and start-up, the first start's entries, TLS, the reminder
//! check.

pub mod bootstrap;
pub mod consumer;
pub mod live;
mod reminders;
pub mod server;
pub mod tls;
