//! The portal's HTTPS listener: TLS with the LDAPS certificate set (app/tls.rs; a reload on
//! SIGHUP serves both), then hyper's HTTP/1.1 server over each connection. Connections are
//! bounded (`limits.max_connections`, apart from LDAP's), a handshake has
//! `limits.tls_handshake_timeout_secs`, request headers 30 seconds; at shutdown each connection
//! finishes its request in progress within `limits.shutdown_grace_secs`, then closes.

use super::Peer;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Settings {
    pub(crate) tls: Arc<rustls::ServerConfig>,
    pub(crate) max_connections: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) grace: Duration,
    /// Connection numbers, shared with the LDAP listeners (the audit log's `conn`).
    pub(crate) ids: Arc<AtomicU64>,
}

/// Accept and serve until `shutdown`.
pub(crate) async fn serve(
    l: TcpListener,
    app: Router,
    s: Settings,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let acceptor = TlsAcceptor::from(s.tls.clone());
    let slots = Arc::new(Semaphore::new(s.max_connections));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = l.accept() => r,
        };
        let (tcp, addr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "portal: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(peer = %addr, "portal: connection limit reached; refusing connection");
            continue;
        };
        let conn = s.ids.fetch_add(1, Ordering::Relaxed);
        let (acceptor, app, shutdown) = (acceptor.clone(), app.clone(), shutdown.clone());
        let (handshake, grace) = (s.handshake_timeout, s.grace);
        tracker.spawn(async move {
            let _slot = slot;
            let stream = match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %addr, error = %e, "portal: TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %addr, "portal: TLS handshake timed out");
                    return;
                }
            };
            let client_cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| Arc::new(c.to_vec()));
            let peer = Peer {
                addr,
                conn,
                client_cert,
            };
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(peer.clone());
                let mut app = app.clone();
                async move { app.call(req).await }
            });
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(served);
            tokio::select! {
                r = served.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(peer = %addr, error = %e, "portal: connection ended");
                    }
                }
                _ = shutdown.cancelled() => {
                    served.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(grace, served.as_mut()).await;
                }
            }
        });
    }
}
