//! Replication in `cn=Monitor` (docs/operations/replication.md, "Monitoring replication"):
//!
//! - a consumer's link to its provider as slapd's syncrepl shows it,
//!   `cn=Consumer NNN,cn=Database 1,cn=Databases,cn=Monitor` (NNN: the `rid`), class
//!   `olmSyncReplInstance` with the `olmSR*` attributes, and ccdir's own figures (mode, search
//!   base, lag, reconnections, changes applied, last error) in `ccdirSync*` attributes;
//! - `cn=Replication,cn=Monitor`, with one entry per sync search this server serves as a
//!   provider (slapd's syncprov has none to follow), named by connection and message ID as the
//!   operation log names them: `cn=Connection 12 msgid 3,cn=Replication,cn=Monitor`.
//!
//! Built from the in-memory state (service/consumer.rs, service/provider.rs) at each search.

use super::changelog::text;
use crate::core::clock::generalized_time;
use crate::core::entry::Entry;
use crate::service::consumer::{unix_secs, ConsumerStatus};
use crate::service::Directory;

/// The replication container's DN.
pub(crate) const REPLICATION_DN: &str = "cn=Replication,cn=Monitor";

fn num(n: u64) -> Vec<Vec<u8>> {
    text(&n.to_string())
}

fn time_of(secs: u64) -> Option<Vec<Vec<u8>>> {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).ok()?).ok()?;
    Some(text(&generalized_time(t)))
}

/// slapd's spelling of a phase: `Refresh`, `Persist`, and likewise ccdir's others.
fn phase_name(p: &str) -> String {
    let mut c = p.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The consumer's link entry's DN, below the database's.
pub(crate) fn consumer_dn(database_dn: &str, rid: u16) -> String {
    format!("cn=Consumer {rid:03},{database_dn}")
}

/// The consumer's link to its provider (None: this server follows no provider).
pub(crate) fn consumer_entry(dir: &Directory, database_dn: &str) -> Option<Entry> {
    let s: ConsumerStatus = dir.consumer_status();
    if s.provider.is_empty() {
        return None;
    }
    let now = unix_secs(dir.clock.now());
    let cn = format!("Consumer {:03}", s.rid);
    let mut e = Entry::new(consumer_dn(database_dn, s.rid));
    e.set(
        "objectClass",
        vec![
            b"top".to_vec(),
            b"olmSyncReplInstance".to_vec(),
            b"ccdirSyncLink".to_vec(),
        ],
    );
    e.set("cn", text(&cn));
    e.set("olmSRProviderURIList", text(&s.provider));
    e.set("olmSRSyncPhase", text(&phase_name(&s.phase)));
    for (name, t) in [
        ("olmSRNextConnect", s.next_connect),
        ("olmSRLastConnect", s.last_connect),
        ("olmSRLastContact", s.last_contact),
    ] {
        if let Some(v) = t.and_then(time_of) {
            e.set(name, v);
        }
    }
    if !s.cookie.is_empty() {
        e.set("olmSRLastCookieRcvd", text(&s.cookie));
    }
    if !s.cookie_sent.is_empty() {
        e.set("olmSRLastCookieSent", text(&s.cookie_sent));
    }
    e.set("ccdirSyncMode", text(&s.mode));
    e.set("ccdirSyncSearchBase", text(&s.search_base));
    if let Some(lag) = s.lag_secs(now) {
        e.set("ccdirSyncLagSeconds", num(lag as u64));
    }
    e.set(
        "ccdirSyncRefreshDone",
        text(if s.refreshed { "TRUE" } else { "FALSE" }),
    );
    e.set("ccdirSyncChangesApplied", num(s.applied));
    e.set("ccdirSyncReconnects", num(s.reconnects));
    e.set("ccdirSyncReloads", num(s.reloads));
    if let Some(csn) = &s.last_csn {
        e.set("ccdirSyncLastCSN", text(csn));
    }
    if let Some(err) = &s.last_error {
        e.set("ccdirSyncLastError", text(err));
    }
    Some(e)
}

/// `cn=Replication,cn=Monitor` and one entry per sync search served.
pub(crate) fn replication_entries(dir: &Directory, consumer_link: Option<&str>) -> Vec<Entry> {
    let served = dir.provider.list();
    let mut c = Entry::new(REPLICATION_DN);
    c.set(
        "objectClass",
        vec![
            b"top".to_vec(),
            b"monitorContainer".to_vec(),
            b"ccdirSyncLink".to_vec(),
        ],
    );
    c.set("cn", text("Replication"));
    let role = match consumer_link {
        Some(_) => "consumer",
        None => "provider",
    };
    c.set("monitoredInfo", text(role));
    c.set(
        "description",
        text("The sync searches this server serves to consumers (one entry each)."),
    );
    if let Some(dn) = consumer_link {
        c.set("seeAlso", text(dn));
    }
    c.set("ccdirSyncChangesSent", num(dir.provider.sent_total()));
    let mut out = vec![c];
    for s in served {
        let st = s.status();
        let cn = format!("Connection {} msgid {}", st.conn, st.msgid);
        let mut e = Entry::new(format!("cn={cn},{REPLICATION_DN}"));
        e.set(
            "objectClass",
            vec![
                b"top".to_vec(),
                b"monitoredObject".to_vec(),
                b"ccdirSyncLink".to_vec(),
            ],
        );
        e.set("cn", text(&cn));
        e.set("monitorConnectionNumber", num(st.conn));
        e.set(
            "monitorConnectionPeerAddress",
            text(&format!("IP={}", st.peer)),
        );
        if !st.bound.is_empty() {
            e.set("monitorConnectionAuthzDN", text(&st.bound));
        }
        if let Some(v) = time_of(st.started) {
            e.set("monitorConnectionStartTime", v);
        }
        e.set("ccdirSyncMode", text(&st.mode));
        e.set("olmSRSyncPhase", text(&phase_name(&st.phase)));
        e.set("ccdirSyncSearchBase", text(&st.base));
        if !st.start_cookie.is_empty() {
            e.set("ccdirSyncStartCookie", text(&st.start_cookie));
        }
        if !st.last_cookie.is_empty() {
            e.set("ccdirSyncLastCookieSent", text(&st.last_cookie));
        }
        e.set("ccdirSyncChangesSent", num(st.sent));
        e.set("ccdirSyncQueuedBytes", num(st.queued_bytes));
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_spelt_as_slapd_spells_them() {
        assert_eq!(phase_name("refresh"), "Refresh");
        assert_eq!(phase_name("persist"), "Persist");
        assert_eq!(phase_name(""), "");
        assert_eq!(
            consumer_dn("cn=Database 1,cn=Databases,cn=Monitor", 7),
            "cn=Consumer 007,cn=Database 1,cn=Databases,cn=Monitor"
        );
    }
}
