//! `cn=Monitor`: what the server is doing, as LDAP entries with OpenLDAP back-monitor's names
//! (so tools that read slapd's monitor read ccdir's): connections, operations initiated and
//! completed per kind, bytes, PDUs, entries and referrals sent, operations executing, start
//! time and uptime, listeners, the database (entries, file size, changelog numbers), and
//! replication (monitor_repl.rs).
//! Built from the counters (service/stats.rs) at each search; read-only. Who reads it is an
//! access rule on `cn=Monitor` (by default the directory admins and `cn=monitoring,ou=groups`).
//! As on slapd, the figures are operational attributes: ask for `+` or name them.

use super::super::controls::{paged_response, RequestControls};
use super::super::project::project;
use super::changelog::text;
use super::monitor_repl;
use super::SearchEnd;
use crate::acl::rules::Level;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::{success, LdapError};
use crate::core::filter::Tri;
use crate::service::stats::Counted;
use crate::service::Directory;
use crate::store::View;
use ldap3_proto::proto::{
    LdapResultCode, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope,
};

/// The monitor's DN, as the root DSE's `monitorContext` names it.
pub(crate) const MONITOR_DN: &str = "cn=Monitor";

/// Is `dn` the monitor or an entry below it?
pub(crate) fn is_monitor(dn: &Dn) -> bool {
    let n = dn.norm();
    n == "cn=monitor" || n.ends_with(",cn=monitor")
}

/// Refuse a write to the monitor.
pub(crate) fn read_only(dn: &Dn) -> Result<(), LdapError> {
    if is_monitor(dn) {
        return Err(LdapError::unwilling(format!(
            "{}: the monitor is read-only",
            dn.display()
        )));
    }
    Ok(())
}

/// May `who` read cn=Monitor (the access rules on its root entry)?
pub(crate) fn readable(dir: &Directory, who: &crate::acl::Identity) -> Result<bool, LdapError> {
    let schema = &*dir.schema;
    let snap = dir.store.read()?;
    let acl = dir.policy.checker(who, &snap, schema);
    let root = entry(MONITOR_DN, "monitorServer", "Monitor");
    let dn = Dn::parse(MONITOR_DN, schema)?;
    Ok(acl.allows(&dn.store_key(), Some(&root), None, Level::Read))
}

/// Serve a search whose base is `cn=Monitor` or one of its entries.
pub(super) fn search(
    dir: &Directory,
    who: &crate::acl::Identity,
    req: &LdapSearchRequest,
    base: &Dn,
    ctrls: &RequestControls,
    p: super::changelog::Params<'_>,
    emit: &mut dyn FnMut(LdapSearchResultEntry) -> bool,
) -> Result<SearchEnd, LdapError> {
    let (sel, filter, size_limit) = (p.sel, p.filter, p.size_limit);
    let schema = &*dir.schema;
    let snap = dir.store.read()?;
    let acl = dir.policy.checker(who, &snap, schema);
    let mut visible: Vec<(Dn, Entry)> = Vec::new();
    for e in entries(dir, &snap)? {
        let dn = Dn::parse(&e.dn, schema)?;
        if acl.allows(&dn.store_key(), Some(&e), None, Level::Read) {
            visible.push((dn, e));
        }
    }
    let Some(pos) = visible.iter().position(|(d, _)| d.norm() == base.norm()) else {
        let matched = if visible.iter().any(|(d, _)| d.norm() == "cn=monitor") {
            MONITOR_DN
        } else {
            ""
        };
        return Err(
            LdapError::no_such_object(format!("{}: no such entry", base.display()))
                .with_matched(matched),
        );
    };
    if let Some(f) = &ctrls.assertion {
        super::super::readback::check_public_assertion(dir, &visible[pos].1, f)?;
    }
    let mut sent = 0u64;
    for (dn, e) in visible {
        let in_scope = match req.scope {
            LdapSearchScope::Base => dn.norm() == base.norm(),
            LdapSearchScope::OneLevel => !dn.is_root() && dn.parent().norm() == base.norm(),
            _ => dn.is_descendant_or_self(base),
        };
        if !in_scope || filter.eval(&e, schema) != Tri::True {
            continue;
        }
        if size_limit.is_some_and(|l| sent >= l) {
            return Ok(SearchEnd::Done(
                LdapError::new(LdapResultCode::SizeLimitExceeded, "size limit exceeded")
                    .into_result(),
                Vec::new(),
            ));
        }
        if !emit(project(e, sel, req.typesonly, &[], schema)) {
            return Ok(SearchEnd::Abandoned);
        }
        sent += 1;
    }
    // A handful of entries: one page holds them all.
    let done = if ctrls.paged.is_some() {
        vec![paged_response(Vec::new())]
    } else {
        Vec::new()
    };
    Ok(SearchEnd::Done(success(), done))
}

fn num(n: u64) -> Vec<Vec<u8>> {
    text(&n.to_string())
}

fn entry(dn: &str, class: &str, cn: &str) -> Entry {
    let mut e = Entry::new(dn);
    e.set(
        "objectClass",
        vec![b"top".to_vec(), class.as_bytes().to_vec()],
    );
    e.set("cn", text(cn));
    e
}

fn counter(dn: &str, cn: &str, n: u64) -> Entry {
    let mut e = entry(dn, "monitorCounterObject", cn);
    e.set("monitorCounter", num(n));
    e
}

/// Every monitor entry, parents before children.
fn entries(dir: &Directory, view: &dyn View) -> Result<Vec<Entry>, LdapError> {
    let s = dir.stats.snapshot();
    let m = |rdn: &str| format!("{rdn},{MONITOR_DN}");
    let mut out = Vec::new();

    let mut root = entry(MONITOR_DN, "monitorServer", "Monitor");
    root.set(
        "monitoredInfo",
        text(concat!("ccdir ", env!("CARGO_PKG_VERSION"))),
    );
    root.set(
        "description",
        text("This subtree contains monitoring/managing objects."),
    );
    out.push(root);

    // Connections.
    out.push(entry(
        &m("cn=Connections"),
        "monitorContainer",
        "Connections",
    ));
    let c = |rdn: &str| format!("{rdn},cn=Connections,{MONITOR_DN}");
    out.push(counter(&c("cn=Total"), "Total", s.connections_total));
    out.push(counter(&c("cn=Current"), "Current", s.connections_current));

    // Operations, in total and per kind.
    let total_i: u64 = Counted::ALL.iter().map(|k| s.initiated(*k)).sum();
    let total_c: u64 = Counted::ALL.iter().map(|k| s.completed(*k)).sum();
    let mut ops = entry(&m("cn=Operations"), "monitorContainer", "Operations");
    ops.set("monitorOpInitiated", num(total_i));
    ops.set("monitorOpCompleted", num(total_c));
    out.push(ops);
    for k in Counted::ALL {
        let mut e = entry(
            &format!("cn={},cn=Operations,{MONITOR_DN}", k.name()),
            "monitorOperation",
            k.name(),
        );
        e.set("monitorOpInitiated", num(s.initiated(k)));
        e.set("monitorOpCompleted", num(s.completed(k)));
        out.push(e);
    }

    // What was sent.
    out.push(entry(&m("cn=Statistics"), "monitorContainer", "Statistics"));
    let st = |rdn: &str| format!("{rdn},cn=Statistics,{MONITOR_DN}");
    out.push(counter(&st("cn=Bytes"), "Bytes", s.bytes));
    out.push(counter(&st("cn=PDU"), "PDU", s.pdus));
    out.push(counter(&st("cn=Entries"), "Entries", s.entries));
    out.push(counter(&st("cn=Referrals"), "Referrals", s.referrals));

    // Threads: operations run on the blocking pool.
    out.push(entry(&m("cn=Threads"), "monitorContainer", "Threads"));
    let mut active = entry(
        &format!("cn=Active,cn=Threads,{MONITOR_DN}"),
        "monitoredObject",
        "Active",
    );
    active.set("monitoredInfo", num(s.executing));
    out.push(active);

    // Time.
    out.push(entry(&m("cn=Time"), "monitorContainer", "Time"));
    let started = time::OffsetDateTime::from(dir.stats.started);
    let now = time::OffsetDateTime::now_utc();
    let t = |rdn: &str| format!("{rdn},cn=Time,{MONITOR_DN}");
    let mut start = entry(&t("cn=Start"), "monitoredObject", "Start");
    start.set(
        "monitorTimestamp",
        text(&crate::core::clock::generalized_time(started)),
    );
    out.push(start);
    let mut current = entry(&t("cn=Current"), "monitoredObject", "Current");
    current.set(
        "monitorTimestamp",
        text(&crate::core::clock::generalized_time(now)),
    );
    out.push(current);
    let mut uptime = entry(&t("cn=Uptime"), "monitoredObject", "Uptime");
    uptime.set(
        "monitoredInfo",
        num((now - started).whole_seconds().max(0) as u64),
    );
    out.push(uptime);

    // Listeners.
    out.push(entry(&m("cn=Listeners"), "monitorContainer", "Listeners"));
    for (i, url) in s.listeners.iter().enumerate() {
        let name = format!("Listener {i}");
        let mut e = entry(
            &format!("cn={name},cn=Listeners,{MONITOR_DN}"),
            "monitoredObject",
            &name,
        );
        let addr = url.split_once("://").map_or(url.as_str(), |x| x.1);
        e.set("monitorConnectionLocalAddress", text(&format!("IP={addr}")));
        e.set("labeledURI", text(url));
        out.push(e);
    }

    // The database.
    out.push(entry(&m("cn=Databases"), "monitorContainer", "Databases"));
    let db = format!("cn=Database 1,cn=Databases,{MONITOR_DN}");
    let mut d = entry(&db, "monitoredObject", "Database 1");
    d.set("monitoredInfo", text("redb"));
    d.set("namingContexts", text(dir.suffix.display()));
    d.set("readOnly", text("FALSE"));
    // A consumer's database is a shadow, as slapd says of a syncrepl consumer's.
    let shadow = dir.write_referral().is_some();
    d.set(
        "monitorIsShadow",
        text(if shadow { "TRUE" } else { "FALSE" }),
    );
    out.push(d);
    out.push(counter(
        &format!("cn=Entries,{db}"),
        "Entries",
        view.entry_count()?,
    ));
    out.push(counter(
        &format!("cn=File Size,{db}"),
        "File Size",
        dir.store.file_size(),
    ));
    let mut cl = entry(
        &format!("cn=Changelog,{db}"),
        "monitoredObject",
        "Changelog",
    );
    let (first, last) = view.change_bounds()?.unwrap_or((0, 0));
    cl.set("firstChangeNumber", num(first));
    cl.set("lastChangeNumber", num(last));
    out.push(cl);

    // Replication: the consumer's link (below the database, as slapd), the sync searches served.
    let link = monitor_repl::consumer_entry(dir, &db);
    let link_dn = link.as_ref().map(|e| e.dn.clone());
    out.extend(link);
    out.extend(monitor_repl::replication_entries(dir, link_dn.as_deref()));
    Ok(out)
}
