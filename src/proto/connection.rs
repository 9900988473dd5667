//! One client connection: LDAP framing over plain TCP or TLS, the request loop, StartTLS, abandon,
//! per-connection limits.
//!
//! Request path: the connection task (a tokio worker) reads and decodes requests and starts each
//! operation on the blocking pool with `spawn_blocking`, without waiting for it. The operation
//! pushes its responses into the connection's [`Outbox`]. On plain TCP the operation's thread
//! writes them to the socket itself with a non-blocking write, so a request crosses threads once;
//! only what the socket does not take at once is left to the connection task, which waits for the
//! socket to become writable and writes the rest. On TLS (LDAPS, and after StartTLS) the TLS
//! state belongs to the connection task: operations append to the outbox and wake it, and it
//! writes. A search streams: beyond the outbox's high-water mark its thread waits for the client
//! to read (the connection task stops reading requests meanwhile), so a slow reader slows only its
//! own connection; a client that reads nothing for the write timeout is disconnected.
//!
//! Outstanding operations are counted twice: `inflight` until just before an operation pushes its
//! final response (the max_ops_per_connection slot), and `Ops::running` until the operation has
//! returned (what bind, StartTLS and shutdown drain, together with the responses' bytes).

mod outbox;
mod reader;

use crate::core::error::LdapError;
use crate::ops::extended::OID_STARTTLS;
use crate::ops::search::{self, SearchEnd};
use crate::ops::{self, Op, OpKind, Refused, Request, Session};
use crate::proto::codec::{Frame, RequestCodec, TlsOnPlainPort};
use crate::repl::provider::{self, SyncEnd, SyncOut};
use crate::service::Directory;
use futures_util::StreamExt;
use ldap3_proto::proto::{LdapExtendedResponse, LdapMsg, LdapOp, LdapResultCode};
use outbox::{Marks, Outbox, Sink};
use reader::Reader;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

/// One line per operation, as slapd's `stats` level gives (target `ccdir::op`, info level;
/// `--log-level info,ccdir::op=off` silences them): connection, message ID, operation, target
/// DN, result code (none: abandoned), entries sent by a search, duration.
fn op_line(
    s: &Session,
    msgid: i32,
    op: &str,
    dn: &str,
    result: Option<u32>,
    entries: Option<u64>,
    started: std::time::Instant,
) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "ccdir::op",
        conn = s.id,
        msgid,
        op,
        dn,
        result,
        entries,
        ms = format!("{ms:.2}").as_str(),
        "op"
    );
}

/// The kind cn=Monitor counts a request as (StartTLS, Who am I? and Password Modify are
/// extended operations).
fn counted(k: OpKind) -> crate::service::stats::Counted {
    use crate::service::stats::Counted;
    match k {
        OpKind::Bind => Counted::Bind,
        OpKind::Unbind => Counted::Unbind,
        OpKind::Search => Counted::Search,
        OpKind::Compare => Counted::Compare,
        OpKind::Modify => Counted::Modify,
        OpKind::ModDn => Counted::Modrdn,
        OpKind::Add => Counted::Add,
        OpKind::Delete => Counted::Delete,
        OpKind::Abandon => Counted::Abandon,
        OpKind::StartTls | OpKind::WhoAmI | OpKind::PasswordModify | OpKind::Extended => {
            Counted::Extended
        }
    }
}

/// Notice of Disconnection (RFC 4511 4.4.1).
const OID_NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";

/// Search entries pushed to the outbox at once (one lock and one write instead of one per entry).
const ENTRY_BATCH: usize = 32;
/// ... or fewer, when they are large.
const ENTRY_BATCH_BYTES: usize = 64 * 1024;

const WRITE_FAILED: &str = "write failed or timed out";

/// One outstanding operation: counted from admission until just before its final response is
/// pushed, so a client that sends its next request as soon as it reads a response never finds
/// the slot still taken.
struct Inflight(Arc<AtomicUsize>);

impl Drop for Inflight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The operations of a connection that have not returned yet.
#[derive(Default)]
struct Ops {
    running: AtomicUsize,
    /// Someone waits on `done` (a drain): only then is the last finishing operation's signal
    /// worth sending.
    draining: AtomicBool,
    done: Notify,
}

impl Ops {
    fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }
}

/// Held by an operation from its spawn until it returns or unwinds.
struct Running(Arc<Ops>);

impl Running {
    fn start(ops: &Arc<Ops>) -> Running {
        ops.running.fetch_add(1, Ordering::SeqCst);
        Running(ops.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::SeqCst) == 1
            && self.0.draining.load(Ordering::SeqCst)
        {
            self.0.done.notify_waiters();
        }
    }
}

/// What a connection needs from the server.
pub(crate) struct ConnShared {
    pub(crate) dir: Arc<Directory>,
    pub(crate) tls: Option<TlsAcceptor>,
}

type Input = FramedRead<Reader, RequestCodec>;

struct Conn {
    shared: Arc<ConnShared>,
    session: Session,
    outbox: Arc<Outbox>,
    /// Where the connection task writes what operations left pending.
    sink: Sink,
    marks: Marks,
    /// Abandon flags by message ID; entries of finished operations are pruned lazily.
    abandon: HashMap<i32, Arc<AtomicBool>>,
    inflight: Arc<AtomicUsize>,
    ops: Arc<Ops>,
}

fn codec(dir: &Directory) -> RequestCodec {
    RequestCodec::new(
        dir.config.limits.max_pdu_bytes,
        dir.config.limits.max_ber_depth,
    )
}

/// A sync search's messages on their way to the outbox: batched during the refresh, pushed at
/// each flush (every step of the persistent phase).
struct SyncSink<'a> {
    msgid: i32,
    out: &'a Outbox,
    flag: &'a AtomicBool,
    batch: &'a mut Vec<LdapMsg>,
    bytes: usize,
    /// What cn=Monitor shows of this sync search.
    serving: &'a crate::service::provider::Serving<'a>,
}

impl SyncSink<'_> {
    /// Count what a message carries to the consumer, and keep its cookie.
    fn note(&self, op: &LdapOp, ctrls: &[ldap3_proto::control::LdapControl]) {
        use crate::repl::syncinfo::{self, SyncInfo};
        use ldap3_proto::control::LdapControl;
        use ldap3_proto::proto::LdapIntermediateResponse;
        match op {
            LdapOp::SearchResultEntry(_) => {
                self.serving.sent(1);
                for c in ctrls {
                    if let LdapControl::Unknown {
                        oid,
                        value: Some(v),
                        ..
                    } = c
                    {
                        if oid == syncinfo::OID_SYNC_STATE {
                            if let Ok((_, _, Some(cookie))) = syncinfo::decode_state(v) {
                                self.serving.cookie(&cookie);
                            }
                        }
                    }
                }
            }
            LdapOp::IntermediateResponse(LdapIntermediateResponse::Raw {
                value: Some(v), ..
            }) => match SyncInfo::decode(v) {
                Ok(SyncInfo::IdSet { uuids, cookie, .. }) => {
                    self.serving.sent(uuids.len() as u64);
                    if let Some(c) = cookie {
                        self.serving.cookie(&c);
                    }
                }
                Ok(SyncInfo::NewCookie(c)) => self.serving.cookie(&c),
                Ok(
                    SyncInfo::RefreshDelete {
                        cookie: Some(c), ..
                    }
                    | SyncInfo::RefreshPresent {
                        cookie: Some(c), ..
                    },
                ) => self.serving.cookie(&c),
                _ => {}
            },
            _ => {}
        }
    }
}

impl SyncOut for SyncSink<'_> {
    fn send(&mut self, op: LdapOp, ctrls: Vec<ldap3_proto::control::LdapControl>) -> bool {
        self.note(&op, &ctrls);
        if let LdapOp::SearchResultEntry(e) = &op {
            self.bytes += e.size();
        }
        self.batch
            .push(LdapMsg::new_with_ctrls(self.msgid, op, ctrls));
        if self.batch.len() >= ENTRY_BATCH || self.bytes >= ENTRY_BATCH_BYTES {
            return self.flush();
        }
        true
    }

    fn flush(&mut self) -> bool {
        self.bytes = 0;
        if self.batch.is_empty() {
            return true;
        }
        self.out.push(self.batch.drain(..), self.flag)
    }

    fn persisting(&mut self) {
        self.serving.persisting();
    }
}

/// The record cn=Monitor shows of a sync search while it runs.
fn serve_sync<'a>(
    dir: &'a Directory,
    session: &Session,
    msgid: i32,
    req: &ldap3_proto::proto::LdapSearchRequest,
    rc: &crate::ops::controls::RequestControls,
    outbox: Option<Arc<Outbox>>,
) -> crate::service::provider::Serving<'a> {
    let sync = rc.sync.as_ref();
    dir.provider.start(crate::service::provider::Start {
        conn: session.id,
        msgid,
        peer: session.peer.to_string(),
        bound: session.identity.dn_str().to_string(),
        persist: sync.is_some_and(|s| s.persist),
        base: req.base.clone(),
        started: dir.clock.now().unix_timestamp().max(0) as u64,
        start_cookie: sync
            .and_then(|s| s.cookie.as_deref())
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default(),
        queued: Box::new(move || outbox.as_ref().map_or(0, |o| o.queued_bytes())),
    })
}

/// Serve one accepted TCP connection until the client leaves, errs, idles out or the server stops.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    ldaps: bool,
    conn_id: u64,
    shared: Arc<ConnShared>,
    shutdown: CancellationToken,
) {
    let _ = tcp.set_nodelay(true);
    let stats = shared.dir.stats.clone();
    let _open = stats.connection();
    let limits = shared.dir.config.limits.clone();
    let marks = Marks::new(Duration::from_secs(limits.write_timeout_secs.max(1)));
    let mut client_cert = None;
    let (reader, sink, outbox) = if ldaps {
        let Some(acceptor) = shared.tls.clone() else {
            return;
        };
        match tokio::time::timeout(
            Duration::from_secs(limits.tls_handshake_timeout_secs),
            acceptor.accept(tcp),
        )
        .await
        {
            Ok(Ok(s)) => {
                client_cert = peer_cert(&s);
                let (r, w) = tokio::io::split(s);
                (
                    Reader::Tls(r),
                    Sink::stream(w),
                    Outbox::new(None, marks).count_into(&shared.dir.stats),
                )
            }
            Ok(Err(e)) => {
                stats.tls_failed();
                log_tls_failure(
                    conn_id,
                    peer,
                    "LDAPS",
                    Some(&e),
                    limits.tls_handshake_timeout_secs,
                );
                return;
            }
            Err(_) => {
                stats.tls_failed();
                log_tls_failure(
                    conn_id,
                    peer,
                    "LDAPS",
                    None,
                    limits.tls_handshake_timeout_secs,
                );
                return;
            }
        }
    } else {
        let tcp = Arc::new(tcp);
        (
            Reader::Plain(tcp.clone()),
            Sink::Plain,
            Outbox::new(Some(tcp), marks).count_into(&shared.dir.stats),
        )
    };
    let mut session = Session::new(conn_id, peer, ldaps);
    session.client_cert = client_cert;
    let mut conn = Conn {
        session,
        shared: shared.clone(),
        outbox,
        sink,
        marks,
        abandon: HashMap::new(),
        inflight: Arc::new(AtomicUsize::new(0)),
        ops: Arc::new(Ops::default()),
    };
    let input = FramedRead::new(reader, codec(&shared.dir));
    tracing::debug!(conn = conn_id, %peer, ldaps, "connection opened");
    let reason = conn.run(input, &shutdown).await;
    drop(conn);
    tracing::debug!(conn = conn_id, %peer, reason, "connection closed");
}

impl Drop for Conn {
    /// Also when the connection task is cancelled: operations still running stop at their next
    /// response or abandon check instead of waiting for a flusher that is gone.
    fn drop(&mut self) {
        for flag in self.abandon.values() {
            flag.store(true, Ordering::Relaxed);
        }
        self.outbox.close();
    }
}

/// Wait until operations left bytes for the connection task, then write them.
async fn flush_when_ready(outbox: &Outbox, sink: &mut Sink) -> io::Result<()> {
    outbox.ready().await;
    outbox.flush(sink).await
}

impl Conn {
    async fn run(&mut self, mut input: Input, shutdown: &CancellationToken) -> &'static str {
        let limits = self.shared.dir.config.limits.clone();
        let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
        loop {
            // A client that does not read its responses gets no more requests read.
            let reading = !self.outbox.over_high();
            tokio::select! {
                biased;
                r = flush_when_ready(&self.outbox, &mut self.sink) => {
                    if r.is_err() {
                        return WRITE_FAILED;
                    }
                }
                _ = shutdown.cancelled() => {
                    if self.drain(Duration::from_secs(limits.shutdown_grace_secs)).await.is_ok() {
                        self.notice(LdapResultCode::Unavailable, "server is shutting down").await;
                    }
                    return "server shutdown";
                }
                next = tokio::time::timeout(idle, input.next()), if reading => {
                    match next {
                        Err(_) => {
                            if self.ops.running() == 0 {
                                self.notice(LdapResultCode::Unavailable, "idle timeout").await;
                                return "idle timeout";
                            }
                        }
                        Ok(None) => return "client closed",
                        Ok(Some(Err(e))) => return self.read_failed(&e).await,
                        Ok(Some(Ok(frame))) => {
                            match self.handle(frame, input).await {
                                Ok(next_input) => input = next_input,
                                Err(reason) => return reason,
                            }
                        }
                    }
                }
            }
        }
    }

    /// No request could be read: log why and give the reason to close. Only a client that sent
    /// something other than LDAP gets a Notice of Disconnection; a TLS failure or a lost
    /// connection is not a malformed request.
    async fn read_failed(&mut self, e: &io::Error) -> &'static str {
        let (conn, peer) = (self.session.id, self.session.peer);
        let inner = e.get_ref();
        if inner.is_some_and(|i| i.is::<TlsOnPlainPort>()) {
            tracing::info!(
                conn,
                %peer,
                "TLS handshake failed: the client started TLS on the plain LDAP port (it needs ldaps:// with the LDAPS port, or StartTLS)"
            );
            return "TLS on the plain LDAP port";
        }
        if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
            tracing::info!(conn, %peer, error = %tls, "TLS failure; disconnecting");
            return "TLS failure";
        }
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::TimedOut
        ) {
            tracing::debug!(conn, %peer, error = %e, "read failed");
            return "read failed";
        }
        tracing::info!(conn, %peer, error = %e, "malformed request; disconnecting");
        self.notice(LdapResultCode::ProtocolError, "malformed request")
            .await;
        "malformed PDU"
    }

    /// Queue a response from the connection task (written at once on plain TCP when the socket
    /// takes it, otherwise by the flusher).
    fn reply(&self, msg: LdapMsg) -> Result<(), &'static str> {
        if self.outbox.push_now([msg]) {
            Ok(())
        } else {
            Err(WRITE_FAILED)
        }
    }

    /// Write out everything pending.
    async fn flush(&mut self) -> Result<(), &'static str> {
        self.outbox
            .flush(&mut self.sink)
            .await
            .map_err(|_| WRITE_FAILED)
    }

    /// Wait for every outstanding operation to return (bounded by `grace`, then they are
    /// abandoned), writing their responses meanwhile, then write out what is pending.
    async fn drain(&mut self, grace: Duration) -> Result<(), &'static str> {
        let deadline = tokio::time::Instant::now() + grace;
        self.ops.draining.store(true, Ordering::SeqCst);
        let r = loop {
            let done = self.ops.done.notified();
            if self.ops.running() == 0 {
                break Ok(());
            }
            tokio::select! {
                biased;
                r = flush_when_ready(&self.outbox, &mut self.sink) => {
                    if r.is_err() {
                        break Err(WRITE_FAILED);
                    }
                }
                _ = done => {}
                _ = tokio::time::sleep_until(deadline) => {
                    for flag in self.abandon.values() {
                        flag.store(true, Ordering::Relaxed);
                    }
                    self.outbox.wake_waiters();
                    break Ok(());
                }
            }
        };
        self.ops.draining.store(false, Ordering::SeqCst);
        r?;
        self.flush().await
    }

    /// Send a Notice of Disconnection (best effort: the connection closes next anyway).
    async fn notice(&mut self, code: LdapResultCode, text: &str) {
        let msg = LdapMsg::new(
            0,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: LdapError::new(code, text).into_result(),
                name: Some(OID_NOTICE_OF_DISCONNECTION.to_string()),
                value: None,
            }),
        );
        if self.reply(msg).is_ok() {
            let _ = self.flush().await;
        }
    }

    /// Run an operation on the blocking pool; it pushes its own responses.
    fn spawn(
        &self,
        kind: crate::service::stats::Counted,
        op: impl FnOnce(&Outbox) + Send + 'static,
    ) {
        let running = Running::start(&self.ops);
        let outbox = self.outbox.clone();
        let stats = self.shared.dir.stats.clone();
        tokio::task::spawn_blocking(move || {
            // Dropped when the operation returns or panics (spawn_blocking catches the panic).
            let _running = running;
            let _executing = stats.executing();
            let started = std::time::Instant::now();
            op(&outbox);
            stats.took(kind, started.elapsed().as_secs_f64());
        });
    }

    /// Handle one request. Returns the (possibly TLS-upgraded) input, or why to close.
    /// Unbind, abandon, bind (which waits for the outstanding operations and changes the
    /// session), StartTLS and search (which streams to the outbox) are handled here; every other
    /// request runs `ops::dispatch` on the blocking pool.
    async fn handle(&mut self, frame: Frame, input: Input) -> Result<Input, &'static str> {
        let req = match Request::decode(frame.msg, frame.controls) {
            Ok(req) => req,
            Err(refused) => {
                if refused == Refused::Response {
                    tracing::info!(
                        conn = self.session.id,
                        op = "response",
                        "unexpected PDU from client; disconnecting"
                    );
                }
                self.notice(LdapResultCode::ProtocolError, refused.notice())
                    .await;
                return Err(refused.reason());
            }
        };
        let dir = self.shared.dir.clone();
        let Request {
            id: msgid,
            op,
            controls,
        } = req;
        let counted = counted(op.kind());
        dir.stats.initiated(counted);
        if matches!(op, Op::Unbind | Op::Abandon(_)) {
            // No response: complete when read.
            dir.stats.completed(counted);
        }
        match op {
            Op::Unbind => {
                for flag in self.abandon.values() {
                    flag.store(true, Ordering::Relaxed);
                }
                Err("unbind")
            }
            Op::Abandon(id) => {
                if let Some(flag) = self.abandon.get(&id) {
                    flag.store(true, Ordering::Relaxed);
                    // A search waiting for the client to read stops waiting.
                    self.outbox.wake_waiters();
                }
                Ok(input)
            }
            Op::Bind(req) => {
                // A bind waits for outstanding operations, then changes the session.
                self.drain(Duration::from_secs(
                    dir.config.limits.time_limit_max.max(60) as u64,
                ))
                .await?;
                let bind_dn = req.dn.clone();
                let session = self.session.clone();
                let stats = dir.stats.clone();
                let res = tokio::task::spawn_blocking(move || {
                    let started = std::time::Instant::now();
                    let r = controls.and_then(|_| ops::bind::bind(&dir, &session, &req));
                    stats.took(counted, started.elapsed().as_secs_f64());
                    r
                })
                .await
                .unwrap_or_else(|_| Err(LdapError::other("bind failed")));
                self.session.identity = crate::acl::Identity::Anonymous;
                let code = res
                    .as_ref()
                    .err()
                    .map(|e| crate::core::error::code_number(&e.code))
                    .unwrap_or(0);
                let result = match res {
                    Ok(identity) => {
                        tracing::info!(conn = self.session.id, peer = %self.session.peer, dn = identity.dn_str(), "bind");
                        self.session.identity = identity;
                        crate::core::error::success()
                    }
                    Err(e) => {
                        tracing::info!(conn = self.session.id, peer = %self.session.peer, code = crate::core::error::code_number(&e.code), "bind failed");
                        e.into_result()
                    }
                };
                self.shared.dir.audit(
                    &self.session.caller(),
                    OpKind::Bind.name(),
                    &bind_dn,
                    &[],
                    code,
                );
                self.reply(LdapMsg::new(msgid, OpKind::Bind.response(result)))?;
                Ok(input)
            }
            Op::StartTls => self.start_tls(msgid, input).await,
            Op::Search(req) => {
                let Some((flag, slot)) = self.admit(msgid, OpKind::Search)? else {
                    return Ok(input);
                };
                let session = self.session.clone();
                // A sync search's record shows what waits in the outbox (cn=Monitor).
                let outbox =
                    matches!(&controls, Ok(rc) if rc.sync.is_some()).then(|| self.outbox.clone());
                self.spawn(counted, move |out| {
                    let started = std::time::Instant::now();
                    let mut batch: Vec<LdapMsg> = Vec::new();
                    let mut bytes = 0;
                    let mut sent = 0u64;
                    let done = match controls {
                        Err(e) => Some((e.into_result(), vec![])),
                        Ok(rc) if rc.sync.is_some() => {
                            let serving = serve_sync(&dir, &session, msgid, &req, &rc, outbox);
                            let mut sink = SyncSink {
                                msgid,
                                out,
                                flag: &flag,
                                batch: &mut batch,
                                bytes: 0,
                                serving: &serving,
                            };
                            let sync = rc.sync.as_ref();
                            let r = match sync {
                                Some(sync) => provider::sync_search(
                                    &dir, &session, &req, sync, &flag, &mut sink,
                                ),
                                None => Err(LdapError::other("no sync request")),
                            };
                            match r {
                                Ok(SyncEnd::Done(res, ctrls)) => Some((res, ctrls)),
                                Ok(SyncEnd::Abandoned) => None,
                                Err(e) => Some((e.into_result(), vec![])),
                            }
                        }
                        Ok(rc) => {
                            let mut emit = |entry: ldap3_proto::proto::LdapSearchResultEntry| {
                                bytes += entry.size();
                                sent += 1;
                                batch.push(LdapMsg::new(msgid, LdapOp::SearchResultEntry(entry)));
                                if batch.len() >= ENTRY_BATCH || bytes >= ENTRY_BATCH_BYTES {
                                    bytes = 0;
                                    return out.push(batch.drain(..), &flag);
                                }
                                true
                            };
                            match search::search(&dir, &session, &req, &rc, &flag, &mut emit) {
                                Ok(SearchEnd::Done(res, ctrls)) => Some((res, ctrls)),
                                Ok(SearchEnd::Abandoned) => None,
                                Err(e) => Some((e.into_result(), vec![])),
                            }
                        }
                    };
                    drop(slot);
                    let code = done
                        .as_ref()
                        .map(|(r, _)| crate::core::error::code_number(&r.code));
                    op_line(
                        &session,
                        msgid,
                        "search",
                        &req.base,
                        code,
                        Some(sent),
                        started,
                    );
                    if let Some((res, ctrls)) = done {
                        if !flag.load(Ordering::Relaxed) {
                            batch.push(LdapMsg::new_with_ctrls(
                                msgid,
                                LdapOp::SearchResultDone(res),
                                ctrls,
                            ));
                            out.push(batch, &flag);
                        }
                    }
                });
                Ok(input)
            }
            op @ (Op::Add(_)
            | Op::Modify(_)
            | Op::ModifyDn(_)
            | Op::Delete(_)
            | Op::Compare(_)
            | Op::WhoAmI
            | Op::PasswordModify(_)
            | Op::Extended(_)) => {
                let Some((flag, slot)) = self.admit(msgid, op.kind())? else {
                    return Ok(input);
                };
                let req = Request {
                    id: msgid,
                    op,
                    controls,
                };
                let session = self.session.clone();
                self.spawn(counted, move |out| {
                    let started = std::time::Instant::now();
                    // The target is copied for the log line only when that line is on.
                    let logged = tracing::enabled!(target: "ccdir::op", tracing::Level::INFO)
                        .then(|| (req.op.kind().name(), req.op.target().to_string()));
                    let resp = ops::dispatch(&dir, &session, req);
                    if let Some((name, target)) = logged {
                        let code = crate::service::stats::result_code(&resp.op);
                        op_line(&session, msgid, name, &target, code, None, started);
                    }
                    drop(slot);
                    if !flag.load(Ordering::Relaxed) {
                        out.push([resp], &flag);
                    }
                });
                Ok(input)
            }
        }
    }

    /// Reserve an operation slot; answer busy when the connection has too many outstanding.
    fn admit(
        &mut self,
        msgid: i32,
        kind: OpKind,
    ) -> Result<Option<(Arc<AtomicBool>, Inflight)>, &'static str> {
        let max = self.shared.dir.config.limits.max_ops_per_connection;
        if self.inflight.load(Ordering::Acquire) >= max {
            let res = LdapError::new(
                LdapResultCode::Busy,
                "too many outstanding operations on this connection",
            )
            .into_result();
            self.reply(LdapMsg::new(msgid, kind.response(res)))?;
            return Ok(None);
        }
        if self.abandon.len() >= max.max(16) {
            // Only the map still holds the flag of an operation that has returned.
            self.abandon.retain(|_, flag| Arc::strong_count(flag) > 1);
        }
        let flag = Arc::new(AtomicBool::new(false));
        self.abandon.insert(msgid, flag.clone());
        self.inflight.fetch_add(1, Ordering::AcqRel);
        Ok(Some((flag, Inflight(self.inflight.clone()))))
    }

    async fn start_tls(&mut self, msgid: i32, input: Input) -> Result<Input, &'static str> {
        let fail = |code, text: &str| {
            LdapMsg::new(
                msgid,
                LdapOp::ExtendedResponse(LdapExtendedResponse {
                    res: LdapError::new(code, text).into_result(),
                    name: Some(OID_STARTTLS.to_string()),
                    value: None,
                }),
            )
        };
        let Some(acceptor) = self.shared.tls.clone() else {
            self.reply(fail(LdapResultCode::Unavailable, "TLS is not configured"))?;
            return Ok(input);
        };
        if self.session.tls {
            self.reply(fail(
                LdapResultCode::OperationsError,
                "TLS is already active",
            ))?;
            return Ok(input);
        }
        if self.inflight.load(Ordering::Acquire) > 0 {
            self.reply(fail(
                LdapResultCode::OperationsError,
                "operations are outstanding",
            ))?;
            return Ok(input);
        }
        // Operations that already pushed their last response: let them return and write it out.
        self.drain(Duration::from_secs(5)).await?;
        if !input.read_buffer().is_empty() {
            // Bytes sent after the StartTLS request, before the handshake: refuse to upgrade.
            self.reply(fail(
                LdapResultCode::ProtocolError,
                "data received after StartTLS request",
            ))?;
            let _ = self.flush().await;
            return Err("data after StartTLS");
        }
        if self.ops.running() > 0 {
            return Err("StartTLS: operations did not finish");
        }
        let ok = LdapMsg::new(
            msgid,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: crate::core::error::success(),
                name: Some(OID_STARTTLS.to_string()),
                value: None,
            }),
        );
        // The success response goes out in plaintext; then the outbox lets go of the socket.
        self.reply(ok)?;
        self.flush().await?;
        self.outbox.close();
        let Reader::Plain(tcp) = input.into_inner() else {
            return Err("StartTLS on a TLS stream");
        };
        let Ok(tcp) = Arc::try_unwrap(tcp) else {
            return Err("StartTLS: socket still shared");
        };
        let secs = self.shared.dir.config.limits.tls_handshake_timeout_secs;
        let (conn, peer) = (self.session.id, self.session.peer);
        let tls = match tokio::time::timeout(Duration::from_secs(secs), acceptor.accept(tcp)).await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                self.shared.dir.stats.tls_failed();
                log_tls_failure(conn, peer, "StartTLS", Some(&e), secs);
                return Err("StartTLS handshake failed");
            }
            Err(_) => {
                self.shared.dir.stats.tls_failed();
                log_tls_failure(conn, peer, "StartTLS", None, secs);
                return Err("StartTLS handshake timed out");
            }
        };
        self.session.tls = true;
        self.session.client_cert = peer_cert(&tls);
        let (r, w) = tokio::io::split(tls);
        self.outbox = Outbox::new(None, self.marks).count_into(&self.shared.dir.stats);
        self.sink = Sink::stream(w);
        Ok(FramedRead::new(Reader::Tls(r), codec(&self.shared.dir)))
    }
}

/// Log a failed TLS handshake (LDAPS or StartTLS) as what it is, with its cause; `error` is
/// `None` when the client did not finish within the handshake timeout. A client that only
/// connected and left (a port check) is logged at debug level.
fn log_tls_failure(conn: u64, peer: SocketAddr, via: &str, error: Option<&io::Error>, secs: u64) {
    match error {
        Some(e) if left_before_tls(e) => tracing::debug!(
            conn,
            %peer,
            via,
            error = %e,
            "TLS handshake failed: {}",
            tls_failure_cause(e)
        ),
        Some(e) => tracing::info!(
            conn,
            %peer,
            via,
            error = %e,
            "TLS handshake failed: {}",
            tls_failure_cause(e)
        ),
        None => tracing::info!(
            conn,
            %peer,
            via,
            "TLS handshake failed: not done within {secs} s"
        ),
    }
}

/// The connection ended during the handshake without a TLS error (no alert, nothing invalid).
fn left_before_tls(e: &io::Error) -> bool {
    let tls = e.get_ref().is_some_and(|i| i.is::<rustls::Error>());
    !tls && matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Why a TLS handshake failed, in words an operator can act on.
pub(crate) fn tls_failure_cause(e: &io::Error) -> &'static str {
    use rustls::{AlertDescription as Alert, Error as Tls, InvalidMessage};
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<Tls>()) else {
        return if left_before_tls(e) {
            "the client closed the connection during the handshake"
        } else {
            "I/O error"
        };
    };
    match tls {
        Tls::InvalidMessage(InvalidMessage::InvalidContentType) => {
            "not TLS: the client sent something else, such as plain LDAP to the LDAPS port or after StartTLS"
        }
        Tls::AlertReceived(Alert::UnknownCA) => {
            "unknown CA: the client does not trust the issuer of the server certificate"
        }
        Tls::AlertReceived(
            Alert::BadCertificate
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate,
        ) => "the client rejected the server certificate (its name, validity or issuer)",
        Tls::AlertReceived(
            Alert::ProtocolVersion | Alert::HandshakeFailure | Alert::InsufficientSecurity,
        )
        | Tls::PeerIncompatible(_) => "no TLS version or cipher suite in common with the client",
        Tls::AlertReceived(_) => "the client aborted the handshake",
        Tls::NoCertificatesPresented => "peer sent no certificates",
        Tls::InvalidCertificate(_) => {
            "the client certificate is not valid (not issued by tls.client_ca, expired, ...)"
        }
        Tls::InvalidMessage(_)
        | Tls::InappropriateMessage { .. }
        | Tls::InappropriateHandshakeMessage { .. }
        | Tls::PeerMisbehaved(_) => "the client broke the TLS protocol",
        _ => "TLS error",
    }
}

/// The client's end-entity certificate, if it presented one (verified against the client CA).
fn peer_cert(s: &TlsStream<TcpStream>) -> Option<Arc<Vec<u8>>> {
    s.get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| Arc::new(c.as_ref().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failure_causes_name_what_happened() {
        use rustls::{AlertDescription as Alert, Error as Tls, InvalidMessage};
        let tls = |e: Tls| tls_failure_cause(&io::Error::new(io::ErrorKind::InvalidData, e));
        assert!(tls(Tls::InvalidMessage(InvalidMessage::InvalidContentType)).starts_with("not TLS"));
        assert!(tls(Tls::AlertReceived(Alert::UnknownCA)).starts_with("unknown CA"));
        assert!(tls(Tls::AlertReceived(Alert::CertificateExpired)).contains("rejected"));
        assert_eq!(
            tls(Tls::NoCertificatesPresented),
            "peer sent no certificates"
        );
        assert!(tls(Tls::AlertReceived(Alert::ProtocolVersion)).contains("in common"));
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert!(tls_failure_cause(&eof).contains("closed the connection"));
    }
}
