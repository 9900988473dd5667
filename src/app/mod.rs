//! The running server: listeners and start-up, the first start's entries, TLS, the reminder
//! check, the roster mail, the e-mail challenges.

pub mod bootstrap;
pub mod challenges;
pub mod consumer;
pub mod live;
mod periodic;
mod reminders;
mod rostermail;
pub mod server;
pub mod tls;
