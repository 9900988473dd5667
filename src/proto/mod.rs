//! The protocol edge: BER framing, the connection task and its outbox (async only here).

pub mod codec;
pub(crate) mod connection;
