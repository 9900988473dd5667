//! The server: opens the store, prepares TLS, binds the listeners, accepts connections within the
//! configured limits, and shuts down gracefully (stop accepting, let in-flight operations finish,
//! close the store).

use crate::acl::Policy;
use crate::app::bootstrap;
use crate::app::tls::{self, TlsFiles};
use crate::core::clock::{Clock, SystemClock};
use crate::core::csn::CsnGenerator;
use crate::core::schema::Schema;
use crate::proto::connection::{self, ConnShared};
use crate::service::config::Config;
use crate::service::password::Hasher;
use crate::service::Directory;
use crate::store::index::IndexSpec;
use crate::store::Store;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub const STORE_FILE: &str = "ccdir.redb";

/// A running server.
pub struct Server {
    pub ldap_addrs: Vec<SocketAddr>,
    pub ldaps_addrs: Vec<SocketAddr>,
    /// The metrics listener's address, when `[listen] metrics` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// The portal's HTTPS address, when `[listen] portal` is set.
    pub portal_addr: Option<SocketAddr>,
    pub tls_files: TlsFiles,
    /// The certificate served, reloaded from `tls_files` by [`Server::reload_tls`].
    certs: Arc<tls::Certificates>,
    /// The file holding the generated admin password (written on first start).
    pub admin_password_file: PathBuf,
    dir: Arc<Directory>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

/// Open the data dir and the store, creating the base entries on first start. Blocking.
pub fn open_directory(config: &Config, clock: Arc<dyn Clock>) -> Result<Directory, String> {
    config.validate()?;
    create_data_dir(&config.data_dir)?;
    let schema = Arc::new(load_schema(config)?);
    let suffix = crate::core::dn::Dn::parse(&config.suffix, &schema)
        .map_err(|e| format!("suffix: {}", e.message))?;
    if suffix.is_root() {
        return Err("suffix must not be empty".into());
    }
    let admin = crate::core::dn::Dn::parse(&config.admin_dn(), &schema)
        .map_err(|e| format!("admin_dn: {}", e.message))?;
    for g in config.freshness.recorder_groups(suffix.display()) {
        crate::core::dn::Dn::parse(&g, &schema)
            .map_err(|e| format!("freshness.recorders: {g}: {}", e.message))?;
    }
    // entryUUID is always indexed, whatever `index.eq` says: replication finds every entry it
    // applies by its entryUUID, and without the index each lookup reads the whole directory
    // (a full refresh would take time quadratic in the number of entries).
    let uuid_missing = !config
        .index
        .eq
        .iter()
        .any(|a| a.eq_ignore_ascii_case("entryUUID"));
    let spec = IndexSpec::new(
        config
            .index
            .eq
            .iter()
            .map(|s| s.as_str())
            .chain(uuid_missing.then_some("entryUUID")),
        config.index.sub.iter().map(|s| s.as_str()),
    );
    for name in config.index.eq.iter().chain(&config.index.sub) {
        if schema.attribute(name).is_none() {
            return Err(format!(
                "index: attribute type {name} is not defined in the schema"
            ));
        }
    }
    let store = Store::open(
        &config.data_dir.join(STORE_FILE),
        schema.clone(),
        spec,
        config.store.cache_mib.saturating_mul(1024 * 1024),
    )
    .map_err(|e| e.to_string())?;
    // CSNs continue after the newest this server id has made (also after a restart).
    let sid = config.replication.server_id;
    let newest = {
        use crate::store::View;
        store
            .read()
            .and_then(|r| r.context_csn())
            .map_err(|e| e.to_string())?
            .get(sid)
            .cloned()
    };
    let csn = CsnGenerator::new(sid, newest);
    let promoted = crate::repl::consumer::is_promoted(&store).map_err(|e| e.to_string())?;
    let hasher = Hasher::new(&config.password)?;
    let rules = crate::acl::rules::compile(
        &config
            .access
            .rules
            .clone()
            .unwrap_or_else(|| crate::acl::rules::default_rules(&config.suffix)),
        &suffix,
        &schema,
    )?;
    let audit = crate::service::audit::Audit::open(&config.audit.output)?;
    let p = &config.password;
    let throttle =
        crate::service::throttle::Throttle::new(crate::service::throttle::ThrottleConfig {
            lockout_failures: p.lockout_failures,
            window: std::time::Duration::from_secs(p.lockout_window_secs),
            lockout: std::time::Duration::from_secs(p.lockout_secs),
            failures_per_ip_per_minute: p.failed_binds_per_ip_per_minute,
        });
    Ok(Directory {
        audit,
        throttle,
        store,
        schema,
        suffix,
        policy: Policy::new(admin, rules),
        hasher,
        clock,
        csn,
        persist_searches: std::sync::atomic::AtomicUsize::new(0),
        stopping: std::sync::atomic::AtomicBool::new(false),
        config: config.clone(),
        stats: Default::default(),
        consumer: Default::default(),
        provider: Default::default(),
        promoted: std::sync::atomic::AtomicBool::new(promoted),
    })
}

/// The built-in schema files plus the configured extra files; an error names file and line.
pub(crate) fn load_schema(config: &Config) -> Result<Schema, String> {
    let mut texts = Vec::new();
    for p in &config.schema.files {
        let t =
            std::fs::read_to_string(p).map_err(|e| format!("schema file {}: {e}", p.display()))?;
        texts.push((p.display().to_string(), t));
    }
    let extra: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    Schema::builtin_with(&extra).map_err(|e| format!("schema error: {e}"))
}

fn create_data_dir(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

struct Limiter {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_total: usize,
    max_per_ip: usize,
}

/// Releases a connection slot when the connection ends.
struct Slot {
    limiter: Arc<Limiter>,
    ip: IpAddr,
}

impl Limiter {
    fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut map = self.per_ip.lock().ok()?;
        if self.total.load(Ordering::Relaxed) >= self.max_total {
            return None;
        }
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            limiter: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.limiter.per_ip.lock() {
            if let Some(n) = map.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.ip);
                }
            }
        }
        self.limiter.total.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Server {
    /// Start with the system clock.
    pub async fn start(config: Config) -> Result<Server, String> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Server, String> {
        let cfg = config.clone();
        let (dir, certs, admin_password_file) = tokio::task::spawn_blocking(move || {
            let dir = open_directory(&cfg, clock)?;
            let pwfile = bootstrap::ensure_base(&dir)?;
            let (tls_cfg, certs) = tls::server_config(&cfg)?;
            Ok::<_, String>(((dir, tls_cfg), certs, pwfile))
        })
        .await
        .map_err(|e| format!("start-up task failed: {e}"))??;
        let (dir, tls_cfg) = dir;
        let dir = Arc::new(dir);
        let signer = crate::app::rostermail::check(&dir).await?;
        let shared = Arc::new(ConnShared {
            dir: dir.clone(),
            tls: Some(TlsAcceptor::from(tls_cfg)),
        });
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let limiter = Arc::new(Limiter {
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            max_total: config.limits.max_connections,
            max_per_ip: config.limits.max_connections_per_ip,
        });
        let ids = Arc::new(AtomicU64::new(1));
        let mut ldap_addrs = Vec::new();
        let mut ldaps_addrs = Vec::new();
        for (list, ldaps) in [(&config.listen.ldap, false), (&config.listen.ldaps, true)] {
            for a in list {
                let l = TcpListener::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen on {a}: {e}"))?;
                let addr = l.local_addr().map_err(|e| e.to_string())?;
                if ldaps {
                    ldaps_addrs.push(addr);
                } else {
                    ldap_addrs.push(addr);
                }
                tracing::info!(
                    "listening on {}://{addr}",
                    if ldaps { "ldaps" } else { "ldap" }
                );
                tracker.spawn(accept_loop(
                    l,
                    ldaps,
                    shared.clone(),
                    limiter.clone(),
                    ids.clone(),
                    shutdown.clone(),
                    tracker.clone(),
                ));
            }
        }
        let mut metrics_addr = None;
        if let Some(a) = &config.listen.metrics {
            let l = TcpListener::bind(a)
                .await
                .map_err(|e| format!("cannot listen on {a} (metrics): {e}"))?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            tracing::info!("metrics on http://{addr}/metrics");
            metrics_addr = Some(addr);
            tracker.spawn(crate::web::serve_metrics(l, dir.clone(), shutdown.clone()));
        }
        let mut portal_addr = None;
        if let Some(a) = &config.listen.portal {
            let tls = tls::portal_config(&config, &certs)?;
            let l = TcpListener::bind(a)
                .await
                .map_err(|e| format!("cannot listen on {a} (portal): {e}"))?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            tracing::info!("portal on https://{addr}/");
            portal_addr = Some(addr);
            let settings = crate::portal::listener::Settings {
                tls,
                max_connections: config.limits.max_connections,
                handshake_timeout: Duration::from_secs(config.limits.tls_handshake_timeout_secs),
                grace: Duration::from_secs(config.limits.shutdown_grace_secs),
                ids: ids.clone(),
            };
            tracker.spawn(crate::portal::listener::serve(
                l,
                crate::portal::router(dir.clone()),
                settings,
                shutdown.clone(),
                tracker.clone(),
            ));
        }
        dir.stats.set_listeners(
            ldap_addrs
                .iter()
                .map(|a| format!("ldap://{a}"))
                .chain(ldaps_addrs.iter().map(|a| format!("ldaps://{a}")))
                .collect(),
        );
        crate::app::reminders::spawn(&dir, &shutdown, &tracker);
        crate::app::challenges::spawn(&dir, &shutdown, &tracker);
        crate::app::rostermail::spawn(&dir, signer, &shutdown, &tracker);
        crate::app::consumer::spawn(&dir, &shutdown, &tracker);
        Ok(Server {
            ldap_addrs,
            ldaps_addrs,
            metrics_addr,
            portal_addr,
            tls_files: certs.files.clone(),
            certs,
            admin_password_file,
            dir,
            shutdown,
            tracker,
        })
    }

    /// Read the certificate and key files again (SIGHUP): new TLS handshakes get the new
    /// certificate, open connections keep theirs; on an error the old one stays in use.
    pub fn reload_tls(&self) -> Result<(), String> {
        let r = self.certs.reload();
        match &r {
            Ok(()) => tracing::info!(
                cert = %self.tls_files.cert.display(),
                "TLS certificate reloaded"
            ),
            Err(e) => tracing::warn!(error = %e, "TLS certificate not reloaded; the old one stays"),
        }
        r
    }

    pub fn directory(&self) -> &Arc<Directory> {
        &self.dir
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stop accepting, let in-flight operations finish (within the grace period), close the store.
    pub async fn shutdown(self) {
        // Persistent sync searches never finish on their own: they end now.
        self.dir
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shutdown.cancel();
        self.tracker.close();
        let grace = Duration::from_secs(self.dir.config.limits.shutdown_grace_secs + 5);
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the grace period; closing anyway");
        }
        // The last reference closes the database; blocking operations still running hold one.
        let dir = self.dir;
        let _ = tokio::task::spawn_blocking(move || drop(dir)).await;
        tracing::info!("server stopped");
    }
}

async fn accept_loop(
    l: TcpListener,
    ldaps: bool,
    shared: Arc<ConnShared>,
    limiter: Arc<Limiter>,
    ids: Arc<AtomicU64>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = l.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = limiter.acquire(peer.ip()) else {
            tracing::warn!(%peer, "connection limit reached; refusing connection");
            drop(tcp);
            continue;
        };
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            connection::serve(tcp, peer, ldaps, id, shared, shutdown).await;
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_uuid_is_indexed_even_when_the_configuration_leaves_it_out() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut config = Config {
            data_dir: tmp.path().to_path_buf(),
            load_sample: false,
            ..Default::default()
        };
        config.index.eq = vec!["objectClass".into(), "uid".into()];
        let dir = open_directory(&config, Arc::new(crate::core::clock::SystemClock))
            .expect("open the directory");
        let eq = &dir.store.index_spec().eq;
        assert!(eq.contains("entryuuid"), "{eq:?}");
        assert!(eq.contains("uid"), "{eq:?}");
    }
}
