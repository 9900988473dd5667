//! The registry portal (issue 18, docs/portal.md): web pages served by ccdir itself on its own
//! HTTPS listener (`listen.portal`), over the same store, access rules and write pipeline as
//! LDAP. Every request runs as the logged-in person's DN.
//!
//! - `listener.rs`: the TLS accept loop (the LDAPS certificate set, reloaded on SIGHUP) and
//!   hyper's HTTP/1.1 server, shut down with the other listeners;
//! - `router.rs`: the routes and the layers every response passes (`router` is what tests call
//!   with `oneshot`, no socket needed);
//! - `session.rs`: the bounded in-memory session store; `csrf.rs`: tokens and the Origin check;
//!   `auth.rs`: login (the LDAP simple bind's own check), logout, the logged-in person;
//! - `headers.rs`: the security headers; `assets.rs`: the embedded CSS and vendored htmx;
//! - `view.rs`: the askama templates' data (templates/portal/); `error.rs`: error pages;
//! - `reader.rs`: searches as the logged-in person through the LDAP search path; `contact.rs`:
//!   what a page shows of a contact entry; `queue.rs`: the verifiers' queue and month's plan;
//! - `pages/`: the pages; `challenges.rs`: the e-mail challenge check the server runs.

mod assets;
mod auth;
pub(crate) mod challenges;
mod contact;
mod cookie;
mod csrf;
mod error;
mod headers;
pub(crate) mod listener;
mod pages;
mod queue;
mod reader;
mod router;
mod session;
mod view;
mod writer;

pub use router::router;

use crate::service::Directory;
use std::net::SocketAddr;
use std::sync::Arc;

/// The connection a request came on: the listener adds it to every request (tests add their
/// own). The address counts against the failed-login limit as an LDAP client's does.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The connection's number, as the audit log names LDAP connections.
    pub conn: u64,
    /// The client's TLS certificate (DER) when it presented one `tls.client_ca` signed.
    pub client_cert: Option<Arc<Vec<u8>>>,
}

impl Peer {
    /// A request without a [`Peer`] (only in tests that add none): an unspecified address.
    fn unknown() -> Peer {
        Peer {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            conn: 0,
            client_cert: None,
        }
    }
}

/// What every handler shares: the directory and the sessions.
#[derive(Clone)]
pub(crate) struct Portal {
    pub(crate) dir: Arc<Directory>,
    pub(crate) sessions: Arc<session::Sessions>,
}

impl Portal {
    pub(crate) fn new(dir: Arc<Directory>) -> Portal {
        let c = &dir.config.portal;
        let sessions = Arc::new(session::Sessions::new(session::Limits {
            idle: std::time::Duration::from_secs(c.session_idle_secs),
            absolute: std::time::Duration::from_secs(c.session_max_secs),
            max: c.max_sessions,
        }));
        Portal { dir, sessions }
    }
}
