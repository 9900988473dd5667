//! A connection's outbox: encoded responses on their way to the socket.
//!
//! Operations (on the blocking pool) push their responses here. Every push encodes under one
//! lock, so the bytes of one PDU never interleave with another's and PDUs leave in push order.
//! On plain TCP, a push that finds nothing pending writes at once from the pushing thread with a
//! non-blocking `try_write`; whatever the socket does not take stays pending, and the connection
//! task (the flusher) is woken to wait for the socket and write the rest. On TLS the pushing
//! thread only appends and wakes the flusher, which owns the TLS stream. A push that leaves more
//! than the high-water mark pending waits until the flusher has drained it below the low mark;
//! if that takes longer than the write timeout the outbox fails and the connection closes.

use bytes::{Buf, BytesMut};
use ldap3_proto::proto::LdapMsg;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Pending bytes above which a push waits for the flusher ...
pub(crate) const HIGH_WATER: usize = 256 * 1024;
/// ... until they are below this.
pub(crate) const LOW_WATER: usize = 64 * 1024;
/// An emptied buffer larger than this is given back rather than kept for the next responses.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// Backpressure settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marks {
    pub(crate) high: usize,
    pub(crate) low: usize,
    /// How long a push waits for room, and how long the flusher waits for the socket to take
    /// at least one byte, before the outbox fails.
    pub(crate) timeout: Duration,
}

impl Marks {
    pub(crate) fn new(timeout: Duration) -> Marks {
        Marks {
            high: HIGH_WATER,
            low: LOW_WATER,
            timeout,
        }
    }
}

struct State {
    /// Encoded responses not yet handed to the socket.
    pending: BytesMut,
    /// Bytes the flusher took out of `pending` and is writing (TLS); they count as pending.
    taken: usize,
    /// The flusher owns the pending bytes: pushes only append.
    flushing: bool,
    /// Plain TCP: pushes may write directly. None on TLS and once closed.
    tcp: Option<Arc<TcpStream>>,
    /// A write failed or timed out: nothing more goes out.
    failed: bool,
    /// The connection is gone or upgraded: nothing more is accepted.
    closed: bool,
    /// Pushes waiting for room (the condvar is only signalled when there are some).
    waiters: usize,
}

impl State {
    fn queued(&self) -> usize {
        self.pending.len() + self.taken
    }
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    room: Condvar,
    wake: Notify,
    marks: Marks,
    /// Where what is sent is counted (cn=Monitor), once set.
    stats: std::sync::OnceLock<Arc<crate::service::stats::Stats>>,
}

/// Where the flusher writes: the plain socket (shared with the outbox) or a stream it owns.
pub(crate) enum Sink {
    Plain,
    Stream {
        w: Box<dyn AsyncWrite + Send + Unpin>,
        /// The bytes being written, swapped out of `pending`.
        out: BytesMut,
        /// Written but not flushed yet.
        unflushed: bool,
    },
}

impl Sink {
    pub(crate) fn stream(w: impl AsyncWrite + Send + Unpin + 'static) -> Sink {
        Sink::Stream {
            w: Box::new(w),
            out: BytesMut::new(),
            unflushed: false,
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "connection output failed or closed",
    )
}

/// Write as much of `buf` as the socket takes now.
fn write_some(tcp: &TcpStream, buf: &mut BytesMut) -> io::Result<()> {
    while !buf.is_empty() {
        match tcp.try_write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf.advance(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if buf.is_empty() && buf.capacity() > KEEP_CAPACITY {
        *buf = BytesMut::new();
    }
    Ok(())
}

impl Outbox {
    /// An outbox writing directly to `tcp`, or (None) only through the flusher's sink.
    pub(crate) fn new(tcp: Option<Arc<TcpStream>>, marks: Marks) -> Arc<Outbox> {
        Arc::new(Outbox {
            state: Mutex::new(State {
                pending: BytesMut::new(),
                taken: 0,
                flushing: false,
                tcp,
                failed: false,
                closed: false,
                waiters: 0,
            }),
            room: Condvar::new(),
            wake: Notify::new(),
            marks,
            stats: std::sync::OnceLock::new(),
        })
    }

    /// Count every message sent from now on in `stats`.
    pub(crate) fn count_into(
        self: Arc<Self>,
        stats: &Arc<crate::service::stats::Stats>,
    ) -> Arc<Self> {
        let _ = self.stats.set(stats.clone());
        self
    }

    /// Bytes waiting for the socket (cn=Monitor, for a sync search's consumer).
    pub(crate) fn queued_bytes(&self) -> usize {
        self.lock().queued()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Push responses from an operation thread; may block for room (never call from async
    /// code). Returns early, true, when `stop` is set (abandon) and `wake_waiters` is called.
    /// False: the connection failed or closed, and the operation should stop.
    pub(crate) fn push(&self, msgs: impl IntoIterator<Item = LdapMsg>, stop: &AtomicBool) -> bool {
        let mut st = self.lock();
        if !self.append(&mut st, msgs) {
            return false;
        }
        if st.queued() <= self.marks.high {
            return true;
        }
        let deadline = Instant::now() + self.marks.timeout;
        st.waiters += 1;
        let ok = loop {
            if st.failed || st.closed {
                break false;
            }
            if st.queued() <= self.marks.low || stop.load(Ordering::Relaxed) {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::debug!("client does not read; write timeout");
                self.fail_locked(&mut st);
                break false;
            }
            st = match self.room.wait_timeout(st, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        };
        st.waiters -= 1;
        ok
    }

    /// Push responses from the connection task: never blocks (the connection task stops
    /// reading requests while the outbox is over the high-water mark instead).
    pub(crate) fn push_now(&self, msgs: impl IntoIterator<Item = LdapMsg>) -> bool {
        let mut st = self.lock();
        self.append(&mut st, msgs)
    }

    fn append(&self, st: &mut State, msgs: impl IntoIterator<Item = LdapMsg>) -> bool {
        if st.failed || st.closed {
            return false;
        }
        use crate::service::stats::{Sent, Stats};
        let stats = self.stats.get();
        let start = st.pending.len();
        let (mut pdus, mut entries, mut referrals) = (0u64, 0u64, 0u64);
        for msg in msgs {
            let mark = st.pending.len();
            if let Some(s) = stats {
                pdus += 1;
                match Stats::classify(&msg) {
                    Sent::Entry => entries += 1,
                    Sent::Referral => referrals += 1,
                    Sent::Final(k, code) => s.finished(k, code),
                    Sent::Other => {}
                }
            }
            if let Err(e) = crate::proto::codec::encode_response(msg, &mut st.pending) {
                st.pending.truncate(mark);
                tracing::warn!(error = %e, "response could not be encoded");
                self.fail_locked(st);
                return false;
            }
        }
        if let Some(s) = stats {
            s.sent(pdus, (st.pending.len() - start) as u64, entries, referrals);
        }
        if st.flushing || st.pending.is_empty() {
            return true;
        }
        if let Some(tcp) = &st.tcp {
            if let Err(e) = write_some(tcp, &mut st.pending) {
                tracing::debug!(error = %e, "write failed");
                self.fail_locked(st);
                return false;
            }
        }
        if !st.pending.is_empty() {
            st.flushing = true;
            self.wake.notify_one();
        }
        true
    }

    fn fail_locked(&self, st: &mut State) {
        st.failed = true;
        self.wake.notify_one();
        if st.waiters > 0 {
            self.room.notify_all();
        }
    }

    /// Wake waiting pushes when there is room again.
    fn make_room(&self, st: &State) {
        if st.waiters > 0 && st.queued() <= self.marks.low {
            self.room.notify_all();
        }
    }

    /// Wake pushes waiting for room so they can look at their stop flag.
    pub(crate) fn wake_waiters(&self) {
        let st = self.lock();
        if st.waiters > 0 {
            self.room.notify_all();
        }
    }

    /// No more output: pushes fail from now on, waiting ones return, and the outbox lets go of
    /// the socket.
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.tcp = None;
        if st.waiters > 0 {
            self.room.notify_all();
        }
    }

    #[cfg(test)]
    fn failed(&self) -> bool {
        self.lock().failed
    }

    /// More than the high-water mark is pending.
    pub(crate) fn over_high(&self) -> bool {
        self.lock().queued() > self.marks.high
    }

    /// Whether the flusher has bytes to write (or a failure to report).
    pub(crate) fn needs_flush(&self) -> bool {
        let st = self.lock();
        st.flushing || st.failed
    }

    /// Wait until the flusher has something to do.
    pub(crate) async fn ready(&self) {
        if !self.needs_flush() {
            self.wake.notified().await;
        }
    }

    /// Write everything pending to `sink`; returns when nothing is pending. Fails (and marks
    /// the outbox failed) when the socket errs or takes nothing for the write timeout.
    /// Cancel-safe: what was written is accounted for, the rest stays pending.
    pub(crate) async fn flush(&self, sink: &mut Sink) -> io::Result<()> {
        let r = match sink {
            Sink::Plain => self.flush_plain().await,
            Sink::Stream { w, out, unflushed } => self.flush_stream(w, out, unflushed).await,
        };
        if r.is_err() {
            let mut st = self.lock();
            self.fail_locked(&mut st);
        }
        r
    }

    async fn flush_plain(&self) -> io::Result<()> {
        let t = self.marks.timeout;
        let mut deadline = tokio::time::Instant::now() + t;
        loop {
            let tcp = {
                let mut st = self.lock();
                if st.failed {
                    return Err(gone());
                }
                let Some(tcp) = st.tcp.clone() else {
                    st.flushing = false;
                    return if st.pending.is_empty() {
                        Ok(())
                    } else {
                        Err(gone())
                    };
                };
                let before = st.pending.len();
                write_some(&tcp, &mut st.pending)?;
                if st.pending.len() < before {
                    deadline = tokio::time::Instant::now() + t;
                    self.make_room(&st);
                }
                if st.pending.is_empty() {
                    st.flushing = false;
                    return Ok(());
                }
                tcp
            };
            match tokio::time::timeout_at(deadline, tcp.writable()).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "client does not read",
                    ))
                }
            }
        }
    }

    async fn flush_stream(
        &self,
        w: &mut Box<dyn AsyncWrite + Send + Unpin>,
        out: &mut BytesMut,
        unflushed: &mut bool,
    ) -> io::Result<()> {
        let t = self.marks.timeout;
        let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "client does not read");
        let mut deadline = tokio::time::Instant::now() + t;
        loop {
            if out.is_empty() {
                if *unflushed {
                    tokio::time::timeout_at(deadline, w.flush())
                        .await
                        .map_err(|_| timed_out())??;
                    *unflushed = false;
                }
                let mut st = self.lock();
                st.taken = 0;
                self.make_room(&st);
                if st.failed {
                    return Err(gone());
                }
                if st.pending.is_empty() {
                    st.flushing = false;
                    if out.capacity() > KEEP_CAPACITY {
                        *out = BytesMut::new();
                    }
                    return Ok(());
                }
                out.clear();
                std::mem::swap(&mut st.pending, out);
                st.taken = out.len();
            }
            let n = tokio::time::timeout_at(deadline, w.write_buf(out))
                .await
                .map_err(|_| timed_out())??;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            *unflushed = true;
            deadline = tokio::time::Instant::now() + t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::proto::{LdapOp, LdapPartialAttribute, LdapSearchResultEntry};
    use tokio::io::AsyncReadExt;
    use tokio_util::codec::Decoder;

    fn entry(msgid: i32, seq: usize, size: usize) -> LdapMsg {
        LdapMsg::new(
            msgid,
            LdapOp::SearchResultEntry(LdapSearchResultEntry {
                dn: format!("cn={seq}"),
                attributes: vec![LdapPartialAttribute {
                    atype: "description".into(),
                    vals: vec![vec![b'v'; size]],
                }],
            }),
        )
    }

    fn seq_of(m: &LdapMsg) -> usize {
        match &m.op {
            LdapOp::SearchResultEntry(e) => e.dn[3..].parse().expect("seq"),
            other => panic!("{other:?}"),
        }
    }

    async fn pair() -> (Arc<TcpStream>, TcpStream) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let client = TcpStream::connect(l.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (server, _) = l.accept().await.expect("accept");
        (Arc::new(server), client)
    }

    /// Read and decode `n` messages.
    async fn read_msgs(c: &mut TcpStream, n: usize) -> Vec<LdapMsg> {
        let mut codec = ldap3_proto::LdapCodec::new(Some(64 << 20), None);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        while got.len() < n {
            if let Some(m) = codec.decode(&mut buf).expect("well-formed PDU") {
                got.push(m);
                continue;
            }
            if c.read_buf(&mut buf).await.expect("read") == 0 {
                panic!("closed after {} messages", got.len());
            }
        }
        got
    }

    /// Run the flusher until the outbox fails or `stop` is set.
    fn flusher(ob: Arc<Outbox>, mut sink: Sink) -> tokio::task::JoinHandle<io::Result<()>> {
        tokio::spawn(async move {
            loop {
                ob.ready().await;
                ob.flush(&mut sink).await?;
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_pushes_keep_order_and_pdus_whole() {
        let (server, mut client) = pair().await;
        let marks = Marks {
            high: 16 * 1024,
            low: 4 * 1024,
            timeout: Duration::from_secs(20),
        };
        let ob = Outbox::new(Some(server), marks);
        let f = flusher(ob.clone(), Sink::Plain);
        const THREADS: i32 = 4;
        const PER: usize = 400;
        let mut pushers = Vec::new();
        for t in 0..THREADS {
            let ob = ob.clone();
            pushers.push(tokio::task::spawn_blocking(move || {
                let stop = AtomicBool::new(false);
                let mut seq = 0;
                while seq < PER {
                    // Batches of one to three PDUs, of varying sizes.
                    let batch: Vec<_> = (0..(seq % 3 + 1).min(PER - seq))
                        .map(|i| entry(t + 1, seq + i, 100 + (seq * 37) % 3000))
                        .collect();
                    seq += batch.len();
                    assert!(ob.push(batch, &stop));
                }
            }));
        }
        let msgs = read_msgs(&mut client, THREADS as usize * PER).await;
        for p in pushers {
            p.await.expect("pusher");
        }
        let mut next = [0usize; THREADS as usize];
        for m in &msgs {
            let t = (m.msgid - 1) as usize;
            assert_eq!(seq_of(m), next[t], "thread {t} out of order");
            next[t] += 1;
        }
        assert!(next.iter().all(|n| *n == PER));
        f.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn would_block_remainder_goes_to_the_flusher() {
        let (server, mut client) = pair().await;
        let ob = Outbox::new(Some(server), Marks::new(Duration::from_secs(20)));
        // Far more than the socket buffers take: the direct write stops at WouldBlock.
        let big = entry(9, 7, 16 << 20);
        assert!(ob.push_now([big.clone(), entry(9, 8, 10)]));
        assert!(ob.needs_flush(), "remainder left for the flusher");
        tokio::time::timeout(Duration::from_secs(1), ob.ready())
            .await
            .expect("flusher woken");
        // Nothing read yet: the flusher cannot finish.
        let mut sink = Sink::Plain;
        assert!(
            tokio::time::timeout(Duration::from_millis(200), ob.flush(&mut sink))
                .await
                .is_err()
        );
        let reader = tokio::spawn(async move { read_msgs(&mut client, 2).await });
        ob.flush(&mut sink).await.expect("flush");
        assert!(!ob.needs_flush());
        let msgs = reader.await.expect("reader");
        assert_eq!(msgs[0], big);
        assert_eq!(seq_of(&msgs[1]), 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_push_over_the_high_mark_waits_for_the_flusher() {
        let (server, mut client) = pair().await;
        let marks = Marks {
            high: 64 * 1024,
            low: 16 * 1024,
            timeout: Duration::from_secs(20),
        };
        let ob = Outbox::new(Some(server), marks);
        let pusher = {
            let ob = ob.clone();
            tokio::task::spawn_blocking(move || {
                let stop = AtomicBool::new(false);
                let start = Instant::now();
                // Fills the socket buffers, then the outbox beyond the high mark.
                for i in 0..800 {
                    assert!(ob.push([entry(1, i, 32 * 1024)], &stop));
                }
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!pusher.is_finished(), "the push waits for room");
        assert!(ob.over_high());
        let f = flusher(ob.clone(), Sink::Plain);
        let msgs = read_msgs(&mut client, 800).await;
        assert!(pusher.await.expect("pusher") >= Duration::from_millis(300));
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(seq_of(m), i);
        }
        f.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_does_not_read_times_out_the_push() {
        let (server, _client) = pair().await;
        let marks = Marks {
            high: 64 * 1024,
            low: 16 * 1024,
            timeout: Duration::from_millis(300),
        };
        let ob = Outbox::new(Some(server), marks);
        let f = flusher(ob.clone(), Sink::Plain);
        let pusher = {
            let ob = ob.clone();
            tokio::task::spawn_blocking(move || {
                let stop = AtomicBool::new(false);
                (0..10_000).position(|i| !ob.push([entry(1, i, 32 * 1024)], &stop))
            })
        };
        assert!(pusher.await.expect("pusher").is_some(), "push gave up");
        assert!(ob.failed());
        // The flusher reports it too, and later pushes fail at once.
        assert!(f.await.expect("flusher").is_err());
        assert!(!ob.push_now([entry(1, 0, 1)]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_push_returns_on_abandon_and_on_close() {
        let (server, _client) = pair().await;
        let ob = Outbox::new(Some(server), Marks::new(Duration::from_secs(30)));
        let stop = Arc::new(AtomicBool::new(false));
        let pusher = {
            let (ob, stop) = (ob.clone(), stop.clone());
            tokio::task::spawn_blocking(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    assert!(ob.push([entry(1, i, 32 * 1024)], &stop));
                    i += 1;
                }
                ob.push([entry(1, i, 32 * 1024)], &AtomicBool::new(false))
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        ob.wake_waiters();
        // The abandoned push returned; the next one waits again until the close.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!pusher.is_finished());
        ob.close();
        let r = tokio::time::timeout(Duration::from_secs(5), pusher)
            .await
            .expect("returned on close");
        assert!(!r.expect("pusher"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_sink_gets_pushes_through_the_flusher() {
        let (w, mut r) = tokio::io::duplex(4096);
        let ob = Outbox::new(None, Marks::new(Duration::from_secs(20)));
        let f = flusher(ob.clone(), Sink::stream(w));
        let pusher = {
            let ob = ob.clone();
            tokio::task::spawn_blocking(move || {
                let stop = AtomicBool::new(false);
                for i in 0..200 {
                    assert!(ob.push([entry(3, i, 5000)], &stop));
                }
            })
        };
        let mut codec = ldap3_proto::LdapCodec::new(Some(64 << 20), None);
        let mut buf = BytesMut::new();
        let mut n = 0;
        while n < 200 {
            if let Some(m) = codec.decode(&mut buf).expect("PDU") {
                assert_eq!(seq_of(&m), n);
                n += 1;
                continue;
            }
            assert!(r.read_buf(&mut buf).await.expect("read") > 0);
        }
        pusher.await.expect("pusher");
        f.abort();
    }
}
