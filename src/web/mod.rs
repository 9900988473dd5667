//! HTTP beside LDAP: the metrics listener (`[listen] metrics`, off by default) with
//! `/metrics` (Prometheus text), `/healthz` (the process answers) and `/readyz` (the store
//! answers a read; on a replication consumer, also: refreshed, and not lagging too far). The
//! registry portal is src/portal/ (HTTPS, its own listener).

pub(crate) mod metrics;
mod repl_metrics;

use crate::service::Directory;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Serve the metrics listener until `shutdown`.
pub(crate) async fn serve_metrics(
    listener: tokio::net::TcpListener,
    dir: Arc<Directory>,
    shutdown: CancellationToken,
) {
    let app = Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(dir);
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, "metrics listener failed");
    }
}

async fn metrics_page(State(dir): State<Arc<Directory>>) -> Response {
    // Reads the store (and, every so often, every contact): off the async workers.
    let text = tokio::task::spawn_blocking(move || metrics::render(&dir)).await;
    match text {
        Ok(Ok(body)) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics could not be gathered");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response(),
    }
}

/// Ready when the store answers a read and, on a consumer, its first refresh is in and its
/// lag within `replication.consumer.ready_max_lag_secs`.
async fn ready(State(dir): State<Arc<Directory>>) -> Response {
    let r = tokio::task::spawn_blocking(move || {
        if dir.store.read().is_err() {
            return Err("store not readable".to_string());
        }
        dir.consumer_readiness()
    })
    .await
    .unwrap_or_else(|_| Err("readiness check failed".into()));
    match r {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}
