//! The replication consumer in the server (`[replication.consumer]`, docs/operations/
//! replication.md): a task that connects to the provider (ldap3's client over rustls: LDAPS, or
//! LDAP with StartTLS), binds, runs a sync search (RFC 4533) from the stored cookie and hands
//! each message to [`crate::repl::consumer::Applier`] on a blocking thread, which writes it
//! through the pipeline with the cookie. refreshOnly polls every `interval_secs`;
//! refreshAndPersist stays connected. A failure (provider down, bind refused, connection lost)
//! is logged and retried after the next wait of `retry_secs`; reads are served throughout.
//! e-syncRefreshRequired (4096) forgets the cookie and reloads in full.
//!
//! The Sync Info message is decoded by hand (repl/syncinfo.rs): ldap3's own decoder reads the
//! newcookie as ldap3_proto does, not as RFC 4533 and slapd encode it.

use crate::repl::consumer::{self as applier, Applier, Msg, Stop};
use crate::repl::syncinfo::{self, SyncInfo};
use crate::service::config::{Consumer, SyncMode};
use crate::service::consumer as status;
use crate::service::Directory;
use ldap3::asn1::{StructureTag, TagClass, PL};
use ldap3::controls::{MakeCritical, RawControl, RefreshMode, SyncRequest};
use ldap3::{LdapConnAsync, LdapConnSettings, ResultEntry, Scope};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// e-syncRefreshRequired.
const REFRESH_REQUIRED: u32 = 4096;

/// Start the consumer when one is configured and the data directory is not promoted.
pub(crate) fn spawn(dir: &Arc<Directory>, shutdown: &CancellationToken, tracker: &TaskTracker) {
    let Some(c) = dir.config.replication.consumer.clone() else {
        return;
    };
    if dir.promoted.load(std::sync::atomic::Ordering::Acquire) {
        tracing::warn!(provider = %c.provider,
            "this data directory was promoted (ccdir promote): not following the provider; remove [replication.consumer] from the configuration");
        return;
    }
    let cookie = applier::stored_cookie(&dir.store)
        .ok()
        .flatten()
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .unwrap_or_default();
    dir.consumer.update(|s| {
        s.provider = c.provider.clone();
        s.mode = mode_name(c.mode).into();
        s.search_base = c
            .search_base
            .clone()
            .unwrap_or_else(|| dir.config.suffix.clone());
        s.rid = c.rid;
        s.phase = status::CONNECTING.into();
        s.cookie = cookie;
    });
    tracing::info!(provider = %c.provider, mode = ?c.mode, "replication consumer started");
    tracker.spawn(task(dir.clone(), c, shutdown.clone()));
}

/// The mode as RFC 4533 and slapd's `type=` name it.
pub(crate) fn mode_name(m: SyncMode) -> &'static str {
    match m {
        SyncMode::RefreshOnly => "refreshOnly",
        SyncMode::RefreshAndPersist => "refreshAndPersist",
    }
}

/// Unix seconds now, by the directory's clock.
fn now(dir: &Directory) -> f64 {
    status::unix_secs(dir.clock.now())
}

/// `ccdir promote`: mark the data directory as the writer.
pub fn promote(dir: &Directory) -> Result<String, String> {
    if dir.config.replication.consumer.is_none()
        && applier::stored_cookie(&dir.store)
            .map_err(|e| e.to_string())?
            .is_none()
    {
        return Err("this data directory is no replication consumer: nothing to promote".into());
    }
    applier::promote(&dir.store).map_err(|e| e.to_string())?;
    Ok(format!(
        "promoted: this server is the writer (server id {:03x}); remove [replication.consumer] from its configuration, start it, and re-point the other consumers to it",
        dir.config.replication.server_id
    ))
}

/// What follows a sync search that ended well.
enum Next {
    /// refreshOnly: poll again after the interval.
    Poll,
    /// e-syncRefreshRequired: start again without a cookie.
    Reload,
}

async fn task(dir: Arc<Directory>, c: Consumer, shutdown: CancellationToken) {
    let mut failures = 0usize;
    loop {
        let r = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = session(&dir, &c) => r,
        };
        let wait = match r {
            Ok(Next::Poll) => {
                failures = 0;
                let next = now(&dir) as u64 + c.interval_secs;
                dir.consumer.update(|s| s.polled(next));
                Duration::from_secs(c.interval_secs)
            }
            Ok(Next::Reload) => {
                failures = 0;
                tracing::warn!(provider = %c.provider,
                    "the provider requires a full reload (e-syncRefreshRequired): the directory is reloaded, the old data served until the reload commits");
                if let Err(e) = applier::forget_cookie(&dir.store) {
                    tracing::error!(error = %e, "cannot reset the sync cookie");
                }
                dir.consumer.update(|s| {
                    s.reloads += 1;
                    s.cookie.clear();
                });
                continue;
            }
            Err(e) => {
                let wait = c.retry_secs[failures.min(c.retry_secs.len() - 1)];
                failures += 1;
                tracing::warn!(provider = %c.provider, error = %e, retry_in_secs = wait,
                    "replication: the session with the provider failed; reconnecting");
                let next = now(&dir) as u64 + wait;
                dir.consumer.update(|s| s.failed(e, next));
                Duration::from_secs(wait)
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    dir.consumer.update(|s| {
        s.phase = status::STOPPED.into();
        s.caught_up = false;
        s.next_connect = None;
    });
}

fn tls(c: &Consumer) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match &c.ca_file {
        Some(f) => {
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(f)
                .map_err(|e| format!("replication.consumer.ca_file {}: {e}", f.display()))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| format!("replication.consumer.ca_file {}: {e}", f.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("replication.consumer.ca_file {}: {e}", f.display()))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

fn contact(dir: &Directory) {
    let now = now(dir);
    dir.consumer.update(|s| s.contact(now));
}

/// One connection: bind, one sync search, its messages applied. Ok when a refreshOnly search
/// ended; a persistent search ends only with an error (the connection).
async fn session(dir: &Arc<Directory>, c: &Consumer) -> Result<Next, String> {
    let password = std::fs::read_to_string(&c.password_file)
        .map_err(|e| {
            format!(
                "cannot read replication.consumer.password_file {}: {e}",
                c.password_file.display()
            )
        })?
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let timeout = Duration::from_secs(c.timeout_secs);
    let plain = c.provider.starts_with("ldap://");
    let settings = LdapConnSettings::new()
        .set_config(tls(c)?)
        .set_starttls(plain && c.starttls)
        .set_conn_timeout(timeout);
    dir.consumer.update(|s| s.phase = status::CONNECTING.into());
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &c.provider)
        .await
        .map_err(|e| format!("cannot reach {}: {e}", c.provider))?;
    ldap3::drive!(conn);
    let bound = ldap
        .with_timeout(timeout)
        .simple_bind(&c.bind_dn, &password)
        .await
        .map_err(|e| format!("bind as {}: {e}", c.bind_dn))?;
    if bound.rc != 0 {
        return Err(format!(
            "bind as {} refused: result {} {}",
            c.bind_dn, bound.rc, bound.text
        ));
    }
    let stored = applier::stored_cookie(&dir.store).map_err(|e| e.to_string())?;
    let cookie = stored.unwrap_or_else(|| format!("rid={:03}", c.rid).into_bytes());
    let cookie_text = String::from_utf8_lossy(&cookie).into_owned();
    let full = !cookie_text.contains("csn=");
    let mode = match c.mode {
        SyncMode::RefreshOnly => RefreshMode::RefreshOnly,
        SyncMode::RefreshAndPersist => RefreshMode::RefreshAndPersist,
    };
    let ctrl: RawControl = SyncRequest {
        mode,
        cookie: Some(cookie),
        reload_hint: false,
    }
    .critical()
    .into();
    let base = c
        .search_base
        .clone()
        .unwrap_or_else(|| dir.config.suffix.clone());
    let base_dn = dir
        .parse_dn(&base)
        .map_err(|e| format!("replication.consumer.search_base: {}", e.message))?;
    let bind_dn = dir
        .parse_dn(&c.bind_dn)
        .map_err(|e| format!("replication.consumer.bind_dn: {}", e.message))?;
    let mut probe = ldap.clone();
    let sent = now(dir);
    let mut stream = ldap
        .with_controls(vec![ctrl])
        .streaming_search(&base, Scope::Subtree, &c.filter, vec!["*", "+"])
        .await
        .map_err(|e| format!("sync search: {e}"))?;
    dir.consumer.update(|s| s.search_sent(sent, cookie_text));
    contact(dir);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(1024);
    let d = dir.clone();
    let mut worker =
        tokio::task::spawn_blocking(move || Applier::new(&d, base_dn, bind_dn).run(&mut rx));
    let stopped = |w: Result<Stop, tokio::task::JoinError>| -> String {
        match w {
            Ok(Stop::Failed(e)) => format!("applying a change failed: {e}"),
            Ok(Stop::Closed) => "the applier stopped".into(),
            Err(e) => format!("the applier failed: {e}"),
        }
    };
    if tx.send(Msg::Begin { full }).await.is_err() {
        return Err(stopped(worker.await));
    }
    let mut refreshing = true;
    loop {
        // The refresh must make progress; the persistent phase may be silent for long. The
        // applier stops only when a change cannot be applied: the session ends then (the next
        // one starts from the cookie of what was applied), also when no message follows.
        let item = if refreshing {
            let next = tokio::select! {
                r = tokio::time::timeout(timeout, stream.next()) => r,
                w = &mut worker => return Err(stopped(w)),
            };
            match next {
                Ok(r) => r,
                Err(_) => {
                    drop(tx);
                    let _ = worker.await;
                    return Err(format!(
                        "the provider sent nothing for {}s during the refresh",
                        c.timeout_secs
                    ));
                }
            }
        } else {
            // The persistent phase may be silent for long; after `timeout_secs` of silence a
            // keep-alive search (the root DSE, on the same connection) must be answered within
            // `timeout_secs`, or the provider is taken for gone (a stopped process, a dropped
            // route: TCP alone would not notice for a long time).
            let next = tokio::select! {
                r = tokio::time::timeout(timeout, stream.next()) => r,
                w = &mut worker => return Err(stopped(w)),
            };
            match next {
                Ok(r) => r,
                Err(_) => {
                    let alive = tokio::time::timeout(
                        timeout,
                        probe.search("", Scope::Base, "(objectClass=*)", vec!["1.1"]),
                    )
                    .await;
                    if let Ok(Ok(_)) = alive {
                        contact(dir);
                        continue;
                    }
                    drop(tx);
                    let _ = worker.await;
                    return Err(format!(
                        "the provider did not answer a keep-alive search within {}s in the persistent phase",
                        c.timeout_secs
                    ));
                }
            }
        };
        let item = match item {
            Ok(Some(re)) => re,
            Ok(None) => break,
            Err(e) => {
                drop(tx);
                let _ = worker.await;
                return Err(format!("sync search: {e}"));
            }
        };
        contact(dir);
        let Some(msg) = decode(re_ref(&item), &item)? else {
            continue;
        };
        if let Msg::Phase { done: true, .. } = msg {
            refreshing = false;
        }
        if tx.send(msg).await.is_err() {
            return Err(stopped(worker.await));
        }
    }
    let res = stream.finish().await;
    contact(dir);
    if res.rc == REFRESH_REQUIRED {
        drop(tx);
        let _ = worker.await;
        return Ok(Next::Reload);
    }
    if res.rc != 0 {
        drop(tx);
        let _ = worker.await;
        return Err(format!("sync search ended: result {} {}", res.rc, res.text));
    }
    let (cookie, deletes) = match res
        .ctrls
        .iter()
        .find(|c| c.1.ctype == syncinfo::OID_SYNC_DONE)
    {
        Some(ctrl) => syncinfo::decode_done(ctrl.1.val.as_deref().unwrap_or_default())
            .map_err(|e| format!("Sync Done: {}", e.0))?,
        None => (None, false),
    };
    let _ = tx.send(Msg::Done { deletes, cookie }).await;
    drop(tx);
    let _ = ldap.unbind().await;
    match worker.await {
        Ok(Stop::Closed) => Ok(Next::Poll),
        w => Err(stopped(w)),
    }
}

fn re_ref(re: &ResultEntry) -> &StructureTag {
    &re.0
}

/// A search message as the applier takes it (None: nothing to apply, such as a referral).
fn decode(tag: &StructureTag, re: &ResultEntry) -> Result<Option<Msg>, String> {
    if re.is_ref() {
        return Ok(None);
    }
    if re.is_intermediate() {
        let PL::C(items) = &tag.payload else {
            return Ok(None);
        };
        let mut name = None;
        let mut value = None;
        for t in items {
            match (t.class, t.id, &t.payload) {
                (TagClass::Context, 0, PL::P(b)) => name = Some(b.as_slice()),
                (TagClass::Context, 1, PL::P(b)) => value = Some(b.as_slice()),
                _ => {}
            }
        }
        if name != Some(syncinfo::OID_SYNC_INFO.as_bytes()) {
            return Ok(None);
        }
        let info = SyncInfo::decode(value.unwrap_or_default())
            .map_err(|e| format!("Sync Info: {}", e.0))?;
        return Ok(Some(Msg::from_info(info)));
    }
    // SearchResultEntry: objectName, attributes.
    let PL::C(items) = &tag.payload else {
        return Err("a malformed search result entry".into());
    };
    let dn = match items.first().map(|t| &t.payload) {
        Some(PL::P(b)) => String::from_utf8(b.clone()).map_err(|_| "a DN not in UTF-8")?,
        _ => return Err("a search result entry without DN".into()),
    };
    let mut attrs = Vec::new();
    if let Some(StructureTag {
        payload: PL::C(list),
        ..
    }) = items.get(1)
    {
        for a in list {
            let PL::C(parts) = &a.payload else { continue };
            let name = match parts.first().map(|t| &t.payload) {
                Some(PL::P(b)) => String::from_utf8_lossy(b).into_owned(),
                _ => continue,
            };
            let mut vals = Vec::new();
            if let Some(StructureTag {
                payload: PL::C(vs), ..
            }) = parts.get(1)
            {
                for v in vs {
                    if let PL::P(b) = &v.payload {
                        vals.push(b.clone());
                    }
                }
            }
            attrs.push((name, vals));
        }
    }
    let Some(state) = re.1.iter().find(|c| c.1.ctype == syncinfo::OID_SYNC_STATE) else {
        return Err(format!("{dn}: an entry without Sync State control"));
    };
    let (state, uuid, cookie) = syncinfo::decode_state(state.1.val.as_deref().unwrap_or_default())
        .map_err(|e| format!("Sync State: {}", e.0))?;
    Ok(Some(Msg::Entry {
        dn,
        attrs,
        state,
        uuid,
        cookie,
    }))
}
