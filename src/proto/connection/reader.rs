//! The read side of a connection: the plain socket, shared with the outbox that writes to it,
//! or the read half of a TLS stream.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, ReadBuf, ReadHalf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

pub(crate) enum Reader {
    Plain(Arc<TcpStream>),
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

impl AsyncRead for Reader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Reader::Plain(tcp) => loop {
                ready!(tcp.poll_read_ready(cx))?;
                match tcp.try_read_buf(buf) {
                    Ok(_) => return Poll::Ready(Ok(())),
                    // A stale readiness: poll again, which registers for the next one.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                        ) => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            },
            Reader::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}
