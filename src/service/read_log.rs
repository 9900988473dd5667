//! The read log (`[audit] log_reads`): one audit line per entry of personal data (an entry below
//! `ou=registries`) a search returns or a compare judges: who (bound DN, connection, peer) read
//! which entry. Never values: the line names the entry, and for a compare the attribute type.
//!
//! Off (the default), a search pays one test of the configuration. On, each logged entry costs a
//! JSON line (about 250 bytes) serialised into a buffer owned by the request; the buffer goes to
//! the audit log's writer in one write when it reaches [`FLUSH_AT`] and when the request ends,
//! so a search of a thousand people takes the audit log's lock a few times, not a thousand.

use super::{audit, Caller, Directory};

/// Buffered lines are written once they exceed this many bytes.
const FLUSH_AT: usize = 64 * 1024;

/// The read log of one request; the lines not yet written are written when it is dropped.
pub(crate) struct ReadLog<'a> {
    dir: &'a Directory,
    /// Store key of `ou=registries,<suffix>`: entries below it are logged.
    below: Vec<u8>,
    conn: u64,
    peer: String,
    bound: String,
    /// The request's time, one for all its lines.
    time: String,
    buf: Vec<u8>,
}

impl Directory {
    /// The read log for one request of `who`, or None when reads are not logged.
    pub(crate) fn read_log<'a>(&'a self, who: &Caller<'_>) -> Option<ReadLog<'a>> {
        if !self.config.audit.log_reads || !self.audit.enabled() {
            return None;
        }
        let below = self.registries()?.store_key();
        Some(ReadLog {
            dir: self,
            below,
            conn: who.conn,
            peer: who.peer.to_string(),
            bound: who.identity.dn_str().to_string(),
            time: crate::core::clock::generalized_time(self.clock.now()),
            buf: Vec::new(),
        })
    }
}

impl ReadLog<'_> {
    /// The entry at `key` (its store key) named `dn` was read by `op` ("read" for a search
    /// result, "compare"), with `attrs` the attribute types a compare tested.
    pub(crate) fn read(&mut self, key: &[u8], dn: &str, op: &str, attrs: &[String]) {
        if !is_below(key, &self.below) {
            return;
        }
        audit::append(
            &mut self.buf,
            &self.time,
            &audit::Event {
                conn: self.conn,
                peer: self.peer.clone(),
                bound: &self.bound,
                op,
                target: dn,
                attrs,
                code: 0,
            },
        );
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.dir.audit.write(&self.buf);
        self.buf.clear();
    }
}

impl Drop for ReadLog<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Is the entry at `key` strictly below the container at `container` (store keys)?
fn is_below(key: &[u8], container: &[u8]) -> bool {
    key.len() > container.len() && key.starts_with(container)
}

#[cfg(test)]
mod tests {
    use super::is_below;

    #[test]
    fn only_entries_below_the_container() {
        let c = b"dc=example\0ou=registries\0";
        assert!(is_below(
            b"dc=example\0ou=registries\0associateddomain=br\0",
            c
        ));
        assert!(
            !is_below(c, c),
            "the container itself holds no personal data"
        );
        assert!(!is_below(b"dc=example\0ou=groups\0cn=members\0", c));
        assert!(!is_below(b"dc=example\0", c));
    }
}
