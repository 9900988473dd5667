//! One client connection: LDAP framing over plain TCP or TLS, the request loop, StartTLS, abandon,
//! per-connection limits. Operations run on the blocking pool; their responses come back through
//! a bounded channel, so a search streams and a slow reader slows only its own searches.

use crate::codec::{Request, RequestCodec};
use crate::error::LdapError;
use crate::ops::controls;
use crate::ops::controls::OpKind;
use crate::ops::extended::OID_STARTTLS;
use crate::ops::search::{self, SearchEnd};
use crate::ops::{self, Directory, Session};
use futures_util::{SinkExt, StreamExt};
use ldap3_proto::proto::{LdapExtendedResponse, LdapMsg, LdapOp, LdapResultCode};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::{Framed, FramedParts};
use tokio_util::sync::CancellationToken;

/// Notice of Disconnection (RFC 4511 4.4.1).
const OID_NOTICE_OF_DISCONNECTION: &str = "1.3.6.1.4.1.1466.20036";

/// Batches of responses buffered between operations and the writer, per connection.
const RESPONSE_QUEUE: usize = 16;
/// Search entries sent to the writer in one batch (one wake-up instead of one per entry).
const ENTRY_BATCH: usize = 32;
/// ... or fewer, when they are large.
const ENTRY_BATCH_BYTES: usize = 256 * 1024;

type Batch = Vec<LdapMsg>;

/// One outstanding operation: counted from admission until just before its final response is
/// queued, so a client that sends its next request as soon as it reads a response never finds
/// the slot still taken.
struct Inflight(Arc<AtomicUsize>);

impl Drop for Inflight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Plain TCP or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What a connection needs from the server.
pub struct ConnShared {
    pub dir: Arc<Directory>,
    pub tls: Option<TlsAcceptor>,
}

type Io = Framed<Stream, RequestCodec>;

struct Conn {
    shared: Arc<ConnShared>,
    session: Session,
    tasks: JoinSet<i32>,
    abandon: HashMap<i32, Arc<AtomicBool>>,
    tx: mpsc::Sender<Batch>,
    rx: mpsc::Receiver<Batch>,
    inflight: Arc<AtomicUsize>,
}

fn codec(dir: &Directory) -> RequestCodec {
    RequestCodec::new(
        dir.config.limits.max_pdu_bytes,
        dir.config.limits.max_ber_depth,
    )
}

/// Serve one accepted TCP connection until the client leaves, errs, idles out or the server stops.
pub async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    ldaps: bool,
    conn_id: u64,
    shared: Arc<ConnShared>,
    shutdown: CancellationToken,
) {
    let _ = tcp.set_nodelay(true);
    let limits = shared.dir.config.limits.clone();
    let mut client_cert = None;
    let stream = if ldaps {
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
                Stream::Tls(Box::new(s))
            }
            Ok(Err(e)) => {
                tracing::debug!(conn = conn_id, %peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(conn = conn_id, %peer, "TLS handshake timed out");
                return;
            }
        }
    } else {
        Stream::Plain(tcp)
    };
    let (tx, rx) = mpsc::channel(RESPONSE_QUEUE);
    let mut session = Session::new(conn_id, peer, ldaps);
    session.client_cert = client_cert;
    let mut conn = Conn {
        session,
        shared: shared.clone(),
        tasks: JoinSet::new(),
        abandon: HashMap::new(),
        tx,
        rx,
        inflight: Arc::new(AtomicUsize::new(0)),
    };
    let io = Framed::new(stream, codec(&shared.dir));
    tracing::debug!(conn = conn_id, %peer, ldaps, "connection opened");
    let reason = conn.run(io, &shutdown).await;
    tracing::debug!(conn = conn_id, %peer, reason, "connection closed");
}

impl Conn {
    async fn run(&mut self, mut io: Io, shutdown: &CancellationToken) -> &'static str {
        let limits = self.shared.dir.config.limits.clone();
        let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
        let write_timeout = Duration::from_secs(limits.write_timeout_secs.max(1));
        loop {
            tokio::select! {
                biased;
                Some(msg) = self.rx.recv() => {
                    if self.write(&mut io, msg, write_timeout).await.is_err() {
                        return "write failed or timed out";
                    }
                }
                Some(done) = self.tasks.join_next() => {
                    if let Ok(id) = done {
                        self.abandon.remove(&id);
                    }
                }
                _ = shutdown.cancelled() => {
                    self.drain(&mut io, write_timeout, Duration::from_secs(limits.shutdown_grace_secs)).await;
                    let _ = self.notice(&mut io, LdapResultCode::Unavailable, "server is shutting down", write_timeout).await;
                    return "server shutdown";
                }
                next = tokio::time::timeout(idle, io.next()) => {
                    match next {
                        Err(_) => {
                            if self.tasks.is_empty() {
                                let _ = self.notice(&mut io, LdapResultCode::Unavailable, "idle timeout", write_timeout).await;
                                return "idle timeout";
                            }
                        }
                        Ok(None) => return "client closed",
                        Ok(Some(Err(e))) => {
                            tracing::info!(conn = self.session.id, peer = %self.session.peer, error = %e, "malformed request; disconnecting");
                            let _ = self.notice(&mut io, LdapResultCode::ProtocolError, "malformed request", write_timeout).await;
                            return "malformed PDU";
                        }
                        Ok(Some(Ok(msg))) => {
                            match self.handle(msg, io, write_timeout).await {
                                Ok(next_io) => io = next_io,
                                Err(reason) => return reason,
                            }
                        }
                    }
                }
            }
        }
    }

    async fn write(&mut self, io: &mut Io, batch: Batch, t: Duration) -> io::Result<()> {
        let fut = async {
            for msg in batch {
                io.feed(msg).await?;
            }
            // Take whatever else is ready, then flush once.
            let mut n = 0;
            while n < 8 {
                match self.rx.try_recv() {
                    Ok(more) => {
                        for msg in more {
                            io.feed(msg).await?;
                        }
                        n += 1;
                    }
                    Err(_) => break,
                }
            }
            io.flush().await
        };
        match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client does not read",
            )),
        }
    }

    async fn send(&mut self, io: &mut Io, msg: LdapMsg, t: Duration) -> Result<(), &'static str> {
        self.write(io, vec![msg], t)
            .await
            .map_err(|_| "write failed or timed out")
    }

    /// Wait for every outstanding operation, forwarding their responses (bounded by `grace`).
    async fn drain(&mut self, io: &mut Io, t: Duration, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while !self.tasks.is_empty() {
            tokio::select! {
                Some(msg) = self.rx.recv() => {
                    if self.write(io, msg, t).await.is_err() {
                        break;
                    }
                }
                Some(done) = self.tasks.join_next() => {
                    if let Ok(id) = done {
                        self.abandon.remove(&id);
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    for flag in self.abandon.values() {
                        flag.store(true, Ordering::Relaxed);
                    }
                    break;
                }
            }
        }
        while let Ok(msg) = self.rx.try_recv() {
            if self.write(io, msg, t).await.is_err() {
                break;
            }
        }
    }

    async fn notice(
        &mut self,
        io: &mut Io,
        code: LdapResultCode,
        text: &str,
        t: Duration,
    ) -> io::Result<()> {
        let msg = LdapMsg::new(
            0,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: LdapError::new(code, text).into_result(),
                name: Some(OID_NOTICE_OF_DISCONNECTION.to_string()),
                value: None,
            }),
        );
        tokio::time::timeout(t, io.send(msg))
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "timeout")))
    }

    /// Handle one request. Returns the (possibly TLS-upgraded) framing, or why to close.
    async fn handle(&mut self, req: Request, mut io: Io, t: Duration) -> Result<Io, &'static str> {
        let Request { msg, controls } = req;
        let LdapMsg { msgid, op, .. } = msg;
        if msgid <= 0 {
            let _ = self
                .notice(
                    &mut io,
                    LdapResultCode::ProtocolError,
                    "invalid message ID",
                    t,
                )
                .await;
            return Err("invalid message id");
        }
        let dir = self.shared.dir.clone();
        match op {
            LdapOp::UnbindRequest => {
                for flag in self.abandon.values() {
                    flag.store(true, Ordering::Relaxed);
                }
                Err("unbind")
            }
            LdapOp::AbandonRequest(id) => {
                if let Some(flag) = self.abandon.get(&id) {
                    flag.store(true, Ordering::Relaxed);
                }
                Ok(io)
            }
            LdapOp::BindRequest(req) => {
                // A bind waits for outstanding operations, then changes the session.
                self.drain(
                    &mut io,
                    t,
                    Duration::from_secs(dir.config.limits.time_limit_max.max(60) as u64),
                )
                .await;
                let bind_dn = req.dn.clone();
                let session = self.session.clone();
                let checked = controls::decode(&controls, OpKind::Bind);
                let res = tokio::task::spawn_blocking(move || {
                    checked.and_then(|_| ops::bind::bind(&dir, &session, &req))
                })
                .await
                .unwrap_or_else(|_| Err(LdapError::other("bind failed")));
                self.session.identity = crate::acl::Identity::Anonymous;
                let code = res
                    .as_ref()
                    .err()
                    .map(|e| crate::error::code_number(&e.code))
                    .unwrap_or(0);
                let result = match res {
                    Ok(identity) => {
                        tracing::info!(conn = self.session.id, peer = %self.session.peer, dn = identity.dn_str(), "bind");
                        self.session.identity = identity;
                        crate::error::success()
                    }
                    Err(e) => {
                        tracing::info!(conn = self.session.id, peer = %self.session.peer, code = crate::error::code_number(&e.code), "bind failed");
                        e.into_result()
                    }
                };
                self.shared
                    .dir
                    .audit(&self.session, "bind", &bind_dn, &[], code);
                let resp = LdapMsg::new(
                    msgid,
                    LdapOp::BindResponse(ldap3_proto::proto::LdapBindResponse {
                        res: result,
                        saslcreds: None,
                    }),
                );
                self.send(&mut io, resp, t).await?;
                Ok(io)
            }
            LdapOp::ExtendedRequest(req) if req.name == OID_STARTTLS => {
                self.start_tls(msgid, io, t).await
            }
            LdapOp::SearchRequest(req) => {
                let Some((flag, slot)) = self
                    .admit(msgid, &mut io, LdapOp::SearchResultDone, t)
                    .await?
                else {
                    return Ok(io);
                };
                let session = self.session.clone();
                let tx = self.tx.clone();
                self.tasks.spawn_blocking(move || {
                    let mut batch: Batch = Vec::new();
                    let mut bytes = 0;
                    let done = match controls::decode(&controls, OpKind::Search) {
                        Err(e) => Some((e.into_result(), vec![])),
                        Ok(rc) => {
                            let mut emit = |entry: ldap3_proto::proto::LdapSearchResultEntry| {
                                bytes += entry.size();
                                batch.push(LdapMsg::new(msgid, LdapOp::SearchResultEntry(entry)));
                                if batch.len() >= ENTRY_BATCH || bytes >= ENTRY_BATCH_BYTES {
                                    bytes = 0;
                                    return tx.blocking_send(std::mem::take(&mut batch)).is_ok();
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
                    if let Some((res, ctrls)) = done {
                        if !flag.load(Ordering::Relaxed) {
                            batch.push(LdapMsg::new_with_ctrls(
                                msgid,
                                LdapOp::SearchResultDone(res),
                                ctrls,
                            ));
                            let _ = tx.blocking_send(batch);
                        }
                    }
                    msgid
                });
                Ok(io)
            }
            op @ (LdapOp::AddRequest(_)
            | LdapOp::DelRequest(_)
            | LdapOp::ModifyRequest(_)
            | LdapOp::ModifyDNRequest(_)
            | LdapOp::CompareRequest(_)
            | LdapOp::ExtendedRequest(_)) => {
                let busy = response_kind(&op);
                let Some((flag, slot)) = self.admit(msgid, &mut io, busy, t).await? else {
                    return Ok(io);
                };
                let session = self.session.clone();
                let tx = self.tx.clone();
                self.tasks.spawn_blocking(move || {
                    let resp = ops::respond(&dir, &session, msgid, op, &controls);
                    drop(slot);
                    if !flag.load(Ordering::Relaxed) {
                        let _ = tx.blocking_send(vec![resp]);
                    }
                    msgid
                });
                Ok(io)
            }
            other => {
                tracing::info!(
                    conn = self.session.id,
                    op = ops::op_name(&other),
                    "unexpected PDU from client; disconnecting"
                );
                let _ = self
                    .notice(&mut io, LdapResultCode::ProtocolError, "unexpected PDU", t)
                    .await;
                Err("unexpected PDU")
            }
        }
    }

    /// Reserve an operation slot; answer busy when the connection has too many outstanding.
    async fn admit(
        &mut self,
        msgid: i32,
        io: &mut Io,
        kind: fn(ldap3_proto::proto::LdapResult) -> LdapOp,
        t: Duration,
    ) -> Result<Option<(Arc<AtomicBool>, Inflight)>, &'static str> {
        if self.inflight.load(Ordering::Acquire)
            >= self.shared.dir.config.limits.max_ops_per_connection
        {
            let res = LdapError::new(
                LdapResultCode::Busy,
                "too many outstanding operations on this connection",
            )
            .into_result();
            self.send(io, LdapMsg::new(msgid, kind(res)), t).await?;
            return Ok(None);
        }
        let flag = Arc::new(AtomicBool::new(false));
        self.abandon.insert(msgid, flag.clone());
        self.inflight.fetch_add(1, Ordering::AcqRel);
        Ok(Some((flag, Inflight(self.inflight.clone()))))
    }

    async fn start_tls(&mut self, msgid: i32, mut io: Io, t: Duration) -> Result<Io, &'static str> {
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
            self.send(
                &mut io,
                fail(LdapResultCode::Unavailable, "TLS is not configured"),
                t,
            )
            .await?;
            return Ok(io);
        };
        if self.session.tls {
            self.send(
                &mut io,
                fail(LdapResultCode::OperationsError, "TLS is already active"),
                t,
            )
            .await?;
            return Ok(io);
        }
        if self.inflight.load(Ordering::Acquire) > 0 {
            self.send(
                &mut io,
                fail(
                    LdapResultCode::OperationsError,
                    "operations are outstanding",
                ),
                t,
            )
            .await?;
            return Ok(io);
        }
        // Operations that already queued their last response: write those out first.
        self.drain(&mut io, t, Duration::from_secs(5)).await;
        if !io.read_buffer().is_empty() {
            // Bytes sent after the StartTLS request, before the handshake: refuse to upgrade.
            self.send(
                &mut io,
                fail(
                    LdapResultCode::ProtocolError,
                    "data received after StartTLS request",
                ),
                t,
            )
            .await?;
            return Err("data after StartTLS");
        }
        let ok = LdapMsg::new(
            msgid,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res: crate::error::success(),
                name: Some(OID_STARTTLS.to_string()),
                value: None,
            }),
        );
        self.send(&mut io, ok, t).await?;
        let parts = io.into_parts();
        let Stream::Plain(tcp) = parts.io else {
            return Err("StartTLS on a TLS stream");
        };
        let hs = Duration::from_secs(self.shared.dir.config.limits.tls_handshake_timeout_secs);
        let tls = match tokio::time::timeout(hs, acceptor.accept(tcp)).await {
            Ok(Ok(s)) => s,
            _ => return Err("StartTLS handshake failed"),
        };
        self.session.tls = true;
        self.session.client_cert = peer_cert(&tls);
        let mut new_parts = FramedParts::new(Stream::Tls(Box::new(tls)), codec(&self.shared.dir));
        new_parts.write_buf = parts.write_buf;
        Ok(Framed::from_parts(new_parts))
    }
}

/// The response constructor matching a request, for results sent before the operation runs.
fn response_kind(op: &LdapOp) -> fn(ldap3_proto::proto::LdapResult) -> LdapOp {
    match op {
        LdapOp::AddRequest(_) => LdapOp::AddResponse,
        LdapOp::DelRequest(_) => LdapOp::DelResponse,
        LdapOp::ModifyRequest(_) => LdapOp::ModifyResponse,
        LdapOp::ModifyDNRequest(_) => LdapOp::ModifyDNResponse,
        LdapOp::CompareRequest(_) => LdapOp::CompareResult,
        _ => |res| {
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res,
                name: None,
                value: None,
            })
        },
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
