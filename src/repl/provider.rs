//! The provider side of RFC 4533: a search with the Sync Request control.
//!
//! Refresh, from one read snapshot:
//! - no cookie CSN: every entry in scope that matches the filter and that the requester may
//!   search, as `add`; then the new cookie with refreshDeletes FALSE (the consumer deletes
//!   what it was not sent);
//! - a cookie equal to the context CSN: nothing (refreshDeletes TRUE, no cookie), as slapd's
//!   syncprov;
//! - a cookie whose CSNs the changelog holds (the CSN table maps a CSN to its record): the
//!   changelog after the oldest of them (leaving out server ids whose CSN is our newest) is
//!   replayed — every entry changed since, as it is now (`add`), parents
//!   before children, and the entries deleted since (or no longer matching) as one syncIdSet
//!   with refreshDeletes TRUE;
//! - otherwise (a CSN the changelog does not hold, a record without entryUUID, a rename across
//!   the edge of the scope): the present phase, as syncprov does when its session log does not
//!   cover the cookie — entries whose entryCSN the cookie already covers as `present` (DN and
//!   UUID only), the others as `add`, refreshDeletes FALSE. slapd's consumer handles it; a
//!   full reload (e-syncRefreshRequired, 4096) would make it fetch every entry again.
//!
//! A consumer whose cookie holds a CSN of this server id newer than ours is refused with
//! unwillingToPerform, as syncprov does ("consumer state is newer than provider").
//!
//! Persist (refreshAndPersist): the changelog is the queue. The last change record is taken
//! when the refresh's snapshot opens, so every write committed after the snapshot has a later
//! sequence number, and the persist loop reads the changelog from there on from fresh
//! snapshots, waking when more of it may be sent (`Store::wait_sendable_past`): no change
//! written here reaches a consumer before it is durable here (the refresh's snapshot is made
//! durable first too, `Store::ensure_durable`), so a provider that crashes never leaves a
//! consumer ahead of it. On a server that is itself a consumer, what its applier committed from
//! its own provider goes on at once, before its sync (`Store::commit_replicated`: durable
//! upstream already; a crash here loses it with the cookie, and it is sent again).
//! Writers only wake it; they never wait for a consumer. Each change is sent as the entry now is (`add` for
//! an add, `modify` for a modify or rename, `delete` with its UUID), with a cookie on the last
//! message of the change's CSN (a write may log several records under one CSN, and slapd's
//! consumer drops an entry whose cookie CSN is not newer than its own). An entry that a later
//! record, already committed, has renamed (it or a parent) goes out at its DN of now after its
//! parents within the scope, as they now are: the consumer may hold them under older DNs
//! ([`send_ancestors`]). A consumer that does
//! not read is bounded by the connection's outbox (high-water mark, then the write timeout
//! closes the connection); abandon, unbind, a closed connection and the server's shutdown end
//! the loop within [`POLL`].

use super::cookie::Cookie;
use super::syncinfo::{done_control, state_control, State, SyncInfo, Uuid};
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::csn::{Csn, CsnSet};
use crate::core::dn::Dn;
use crate::core::error::{success, LdapError};
use crate::core::filter::{Filter, Tri};
use crate::ops::controls::SyncRequest;
use crate::ops::project::{access_view, project, Selection};
use crate::ops::Session;
use crate::service::Directory;
use crate::store::changelog::{ChangeKind, ChangeRecord};
use crate::store::{ReadSnap, View};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapFilter, LdapOp, LdapResult, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry,
    LdapSearchScope,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often a waiting persist loop looks at its abandon flag.
pub const POLL: Duration = Duration::from_millis(250);
/// Change records read per step.
const CHUNK: usize = 512;
/// UUIDs per syncIdSet message.
const IDS_PER_MESSAGE: usize = 1000;
/// Changed entries a replay keeps track of before it does the present phase instead.
const MAX_REPLAY: usize = 200_000;

/// Where a sync search sends its messages (the connection's outbox).
pub(crate) trait SyncOut {
    /// Queue one message; false when the client is gone.
    fn send(&mut self, op: LdapOp, ctrls: Vec<LdapControl>) -> bool;
    /// Write out what is queued (each persist step ends with it); false when the client is gone.
    fn flush(&mut self) -> bool;
    /// The refresh is sent: the persistent phase begins (for cn=Monitor).
    fn persisting(&mut self) {}
}

/// How a sync search ended.
pub(crate) enum SyncEnd {
    Done(LdapResult, Vec<LdapControl>),
    /// Abandoned, or the client is gone: send nothing.
    Abandoned,
}

/// Counts the persistent searches running (`replication.max_consumers`).
struct Persisting<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Persisting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the refresh does.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Every entry as add.
    Full,
    /// Entries the cookie covers as present, the others as add.
    Present,
    /// The changelog from this sequence number on.
    Replay(u64),
    /// The consumer is up to date.
    Unchanged,
}

/// The search's fixed parts: what it selects and who reads.
struct Scope<'a> {
    dir: &'a Directory,
    session: &'a Session,
    base: Dn,
    base_key: Vec<u8>,
    scope: LdapSearchScope,
    filter: Filter,
    filter_types: Vec<String>,
    sel: Selection,
    typesonly: bool,
}

/// A visitor of (id, DN key) -> continue?
type Visit<'a> = dyn FnMut(u64, &[u8]) -> Result<bool, LdapError> + 'a;

/// An entry as the consumer gets it.
struct Visible {
    entry: LdapSearchResultEntry,
    uuid: Uuid,
    csn: Option<Csn>,
}

fn uuid_bytes(s: &str) -> Option<Uuid> {
    uuid::Uuid::parse_str(s).ok().map(|u| *u.as_bytes())
}

impl Scope<'_> {
    fn contains_key(&self, key: &[u8]) -> bool {
        match self.scope {
            LdapSearchScope::Base => key == self.base_key.as_slice(),
            LdapSearchScope::Subtree => key.starts_with(&self.base_key),
            LdapSearchScope::Children => key.starts_with(&self.base_key) && key != self.base_key,
            LdapSearchScope::OneLevel => {
                // One more RDN than the base: the rest holds exactly one RDN terminator (0).
                key.starts_with(&self.base_key)
                    && key.len() > self.base_key.len()
                    && key[self.base_key.len()..]
                        .iter()
                        .filter(|b| **b == 0)
                        .count()
                        == 1
            }
        }
    }

    fn contains_dn(&self, dn: &str) -> bool {
        self.dir
            .parse_dn(dn)
            .is_ok_and(|d| self.contains_key(&d.store_key()))
    }

    /// The entry as the consumer gets it, if it matches and the requester may search it.
    fn visible(
        &self,
        acl: &Checker<'_>,
        snap: &ReadSnap,
        id: u64,
        key: &[u8],
    ) -> Result<Option<Visible>, LdapError> {
        let Some(e) = snap.entry(id)? else {
            return Ok(None);
        };
        let Some((hidden, unreadable)) = access_view(acl, key, &e, &self.filter_types) else {
            return Ok(None);
        };
        let schema = &*self.dir.schema;
        // What is stored: a consumer keeps data, not the views computed on read (the derived
        // verification status, cctldProblem, hasSubordinates).
        if self.filter.eval_hiding(&e, schema, &hidden) != Tri::True {
            return Ok(None);
        }
        let Some(uuid) = e.first_str("entryUUID").and_then(uuid_bytes) else {
            tracing::warn!(dn = %e.dn, "entry without entryUUID left out of a sync search");
            return Ok(None);
        };
        let csn = e.first_str("entryCSN").and_then(Csn::parse);
        Ok(Some(Visible {
            entry: project(e, &self.sel, self.typesonly, &unreadable, schema),
            uuid,
            csn,
        }))
    }

    /// Visit (id, key) of every entry in scope, in DN key order (parents first).
    fn walk(&self, acl: &Checker<'_>, snap: &ReadSnap, f: &mut Visit<'_>) -> Result<(), LdapError> {
        let base_id = match snap.lookup(&self.base)? {
            Some((id, e)) if acl.allows(&self.base_key, Some(&e), None, Level::Search) => id,
            _ => return Err(acl.no_such_object(&self.base)),
        };
        match self.scope {
            LdapSearchScope::Base => {
                f(base_id, &self.base_key)?;
            }
            LdapSearchScope::OneLevel => {
                for id in snap.child_ids(base_id)? {
                    if let Some(key) = snap.dn_key(id)? {
                        if !f(id, &key)? {
                            break;
                        }
                    }
                }
            }
            LdapSearchScope::Subtree | LdapSearchScope::Children => {
                let skip = (self.scope == LdapSearchScope::Children).then_some(base_id);
                snap.scan_prefix::<LdapError>(&self.base_key, None, &mut |key, id| {
                    if Some(id) == skip {
                        return Ok(true);
                    }
                    f(id, key)
                })?;
            }
        }
        Ok(())
    }

    /// The entry with this UUID: at `dn` if it is still there, else through the entryUUID
    /// index (or, unindexed, the scope). (id, key)
    fn find(
        &self,
        snap: &ReadSnap,
        uuid: &Uuid,
        dn: &str,
    ) -> Result<Option<(u64, Vec<u8>)>, LdapError> {
        let same = |e: &crate::core::entry::Entry| {
            e.first_str("entryUUID").and_then(uuid_bytes).as_ref() == Some(uuid)
        };
        if let Ok(d) = self.dir.parse_dn(dn) {
            if let Some((id, e)) = snap.lookup(&d)? {
                if same(&e) {
                    return Ok(Some((id, d.store_key())));
                }
            }
        }
        let text = uuid::Uuid::from_bytes(*uuid).to_string();
        let f = Filter::compile(
            &LdapFilter::Equality("entryUUID".into(), text),
            &self.dir.schema,
            self.dir.filter_limits(),
        )?;
        let ids = match crate::store::index::candidates(&f, self.dir.store.index_spec(), snap)? {
            Some(ids) => ids,
            None => {
                let mut all = Vec::new();
                snap.scan_prefix::<LdapError>(&self.dir.suffix.store_key(), None, &mut |_, id| {
                    all.push(id);
                    Ok(true)
                })?;
                all
            }
        };
        for id in ids {
            if let Some(e) = snap.entry(id)? {
                if same(&e) {
                    if let Some(key) = snap.dn_key(id)? {
                        return Ok(Some((id, key)));
                    }
                }
            }
        }
        Ok(None)
    }
}

/// Run a search with the Sync Request control `sync`.
pub(crate) fn sync_search(
    dir: &Directory,
    session: &Session,
    req: &LdapSearchRequest,
    sync: &SyncRequest,
    cancel: &AtomicBool,
    out: &mut dyn SyncOut,
) -> Result<SyncEnd, LdapError> {
    let schema = &*dir.schema;
    let base = dir.parse_dn(&req.base)?;
    if !base.store_key().starts_with(&dir.suffix.store_key()) {
        return Err(LdapError::unwilling(
            "content synchronization is served only within the naming context",
        ));
    }
    let cookie = match &sync.cookie {
        Some(b) => Cookie::parse(b).map_err(|e| LdapError::protocol(e.to_string()))?,
        None => Cookie::default(),
    };
    let filter = Filter::compile(&req.filter, schema, dir.filter_limits())?;
    let sc = Scope {
        dir,
        session,
        base_key: base.store_key(),
        base,
        scope: req.scope.clone(),
        filter_types: filter.type_names(),
        filter,
        sel: Selection::parse(&req.attrs, schema),
        typesonly: req.typesonly,
    };
    let _persisting = if sync.persist {
        let n = dir.persist_searches.fetch_add(1, Ordering::AcqRel);
        let guard = Persisting(&dir.persist_searches);
        if n >= dir.config.replication.max_consumers {
            return Err(LdapError::new(
                LdapResultCode::Busy,
                "too many persistent sync searches (replication.max_consumers)",
            ));
        }
        Some(guard)
    } else {
        None
    };

    // The persistent phase starts here: everything committed after the snapshot below has a
    // later changelog sequence number than the snapshot's last.
    let snap = dir.store.read()?;
    let last_seq = snap.change_bounds()?.map_or(0, |(_, last)| last);
    // Nothing goes to a consumer before it is durable here (a grouped commit is visible to the
    // snapshot a few milliseconds before its flush).
    dir.store.ensure_durable(last_seq)?;
    let ctx = snap.context_csn()?;
    let sid = dir.csn.sid();
    if let (Some(theirs), Some(ours)) = (cookie.csn(sid), ctx.get(sid)) {
        if theirs > ours {
            tracing::warn!(
                conn = session.id,
                consumer = %theirs,
                provider = %ours,
                "sync consumer state is newer than this provider"
            );
            return Err(LdapError::unwilling(
                "consumer state is newer than provider",
            ));
        }
    }
    let plan = plan(&cookie, &ctx, &snap)?;
    let new_cookie = Cookie {
        rid: cookie.rid,
        sid: (sid != 0).then_some(sid),
        csns: ctx.clone(),
    };
    let new_cookie = (!ctx.is_empty()).then(|| new_cookie.to_string().into_bytes());
    tracing::debug!(conn = session.id, ?plan, cookie = ?cookie.to_string(), persist = sync.persist, "sync search");

    let acl = dir.policy.checker(&session.identity, &snap, schema);
    let mut r = Refresh {
        sc: &sc,
        acl: &acl,
        snap: &snap,
        cancel,
        out,
    };
    let refresh_deletes = match plan {
        Plan::Unchanged => true,
        Plan::Full => {
            r.full_or_present(None)?;
            false
        }
        Plan::Present => {
            r.full_or_present(Some(&cookie.csns))?;
            false
        }
        Plan::Replay(from) => {
            if r.replay(from, last_seq)? {
                true
            } else {
                r.full_or_present(Some(&cookie.csns))?;
                false
            }
        }
    };
    if cancel.load(Ordering::Relaxed) {
        return Ok(SyncEnd::Abandoned);
    }
    // No cookie when nothing changed, as syncprov.
    let send_cookie = if plan == Plan::Unchanged {
        None
    } else {
        new_cookie.clone()
    };
    if !sync.persist {
        return Ok(SyncEnd::Done(
            success(),
            vec![done_control(send_cookie.as_deref(), refresh_deletes)],
        ));
    }
    let info = if refresh_deletes {
        SyncInfo::RefreshDelete {
            cookie: send_cookie,
            done: true,
        }
    } else {
        SyncInfo::RefreshPresent {
            cookie: send_cookie,
            done: true,
        }
    };
    if !out.send(info.into_op(), Vec::new()) || !out.flush() {
        return Ok(SyncEnd::Abandoned);
    }
    drop(acl);
    drop(snap);
    out.persisting();
    persist(&sc, cookie.rid, last_seq + 1, cancel, out)
}

/// What the refresh does for this cookie and context CSN.
fn plan(cookie: &Cookie, ctx: &CsnSet, snap: &ReadSnap) -> Result<Plan, LdapError> {
    if cookie.csns.is_empty() {
        return Ok(Plan::Full);
    }
    // CSNs of server ids this provider never saw are left aside (as syncprov).
    let known: Vec<&Csn> = cookie
        .csns
        .iter()
        .filter(|c| ctx.get(c.sid()).is_some())
        .collect();
    if known.is_empty() {
        return Ok(Plan::Present);
    }
    // The consumer holds changes of a server id that this provider has not got: it followed a
    // provider that was further along (a failover to a consumer that lagged). Its entries'
    // CSNs then say nothing about whether they equal ours, so the present phase would leave
    // its newer versions in place: every entry goes in full, and it drops the rest.
    if known
        .iter()
        .any(|c| ctx.get(c.sid()).is_some_and(|ours| *c > ours))
    {
        return Ok(Plan::Full);
    }
    if ctx.iter().all(|c| cookie.csn(c.sid()) == Some(c)) {
        return Ok(Plan::Unchanged);
    }
    if ctx.iter().any(|c| cookie.csn(c.sid()).is_none()) {
        // Changes of a server id the consumer has none of: where they start is unknown.
        return Ok(Plan::Present);
    }
    let mut from = u64::MAX;
    for c in known {
        if ctx.get(c.sid()) == Some(c) {
            // The consumer has every change of this server id: the replay need not start at
            // it (in a chain, the consumer's own first-start CSN would replay everything).
            continue;
        }
        match snap.seq_of_csn(c)? {
            Some(seq) => from = from.min(seq + 1),
            None => return Ok(Plan::Present),
        }
    }
    match snap.change_bounds()? {
        Some((first, _)) if from > first => Ok(Plan::Replay(from)),
        _ => Ok(Plan::Present),
    }
}

struct Refresh<'a, 'o> {
    sc: &'a Scope<'a>,
    acl: &'a Checker<'a>,
    snap: &'a ReadSnap,
    cancel: &'a AtomicBool,
    out: &'o mut dyn SyncOut,
}

impl Refresh<'_, '_> {
    fn gone(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Every entry in scope: as add, or (`covered`) as present when the cookie covers its CSN.
    fn full_or_present(&mut self, covered: Option<&CsnSet>) -> Result<(), LdapError> {
        let (sc, acl, snap) = (self.sc, self.acl, self.snap);
        let cancel = self.cancel;
        let out = &mut *self.out;
        sc.walk(acl, snap, &mut |id, key| {
            if cancel.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let Some(v) = sc.visible(acl, snap, id, key)? else {
                return Ok(true);
            };
            let present = match (covered, &v.csn) {
                (Some(set), Some(csn)) => set.get(csn.sid()).is_some_and(|c| csn <= c),
                _ => false,
            };
            let (entry, state) = if present {
                (
                    LdapSearchResultEntry {
                        dn: v.entry.dn,
                        attributes: Vec::new(),
                    },
                    State::Present,
                )
            } else {
                (v.entry, State::Add)
            };
            Ok(out.send(
                LdapOp::SearchResultEntry(entry),
                vec![state_control(state, &v.uuid, None)],
            ))
        })
    }

    /// Replay the changelog from `from` to `last`. False: it cannot (the present phase
    /// follows instead); nothing has been sent then.
    fn replay(&mut self, from: u64, last: u64) -> Result<bool, LdapError> {
        let sc = self.sc;
        // The net effect per UUID, in order: changed (with its last DN) or deleted.
        let mut changed: HashMap<Uuid, String> = HashMap::new();
        let mut added: HashSet<Uuid> = HashSet::new();
        let mut deleted: Vec<Uuid> = Vec::new();
        let mut next = from;
        while next <= last {
            if self.gone() {
                return Ok(true);
            }
            let recs = self.snap.changes(next, CHUNK)?;
            if recs.is_empty() {
                break;
            }
            for (seq, rec) in recs {
                if seq > last {
                    break;
                }
                next = seq + 1;
                let Some(uuid) = uuid_bytes(&rec.uuid) else {
                    return Ok(false);
                };
                let in_old = sc.contains_dn(&rec.dn);
                match rec.kind {
                    ChangeKind::Add if in_old => {
                        added.insert(uuid);
                        changed.insert(uuid, rec.dn);
                    }
                    ChangeKind::Modify if in_old => {
                        changed.insert(uuid, rec.dn);
                    }
                    ChangeKind::ModDn => {
                        let new_dn = rec.new_dn.unwrap_or_default();
                        let in_new = sc.contains_dn(&new_dn);
                        if in_old != in_new {
                            // A subtree crossing the edge of the scope.
                            return Ok(false);
                        }
                        if in_new {
                            changed.insert(uuid, new_dn);
                        }
                    }
                    ChangeKind::Delete if in_old => {
                        changed.remove(&uuid);
                        if !added.remove(&uuid) {
                            deleted.push(uuid);
                        }
                    }
                    _ => {}
                }
                if changed.len() + deleted.len() > MAX_REPLAY {
                    return Ok(false);
                }
            }
        }
        // The changed entries as they are now, parents before children.
        let mut now: BTreeMap<Vec<u8>, (u64, Uuid)> = BTreeMap::new();
        for (uuid, dn) in &changed {
            if let Some((id, key)) = sc.find(self.snap, uuid, dn)? {
                now.insert(key, (id, *uuid));
            }
        }
        for (key, (id, uuid)) in now {
            if self.gone() {
                return Ok(true);
            }
            match sc.visible(self.acl, self.snap, id, &key)? {
                Some(v) if sc.contains_key(&key) => {
                    if !self.out.send(
                        LdapOp::SearchResultEntry(v.entry),
                        vec![state_control(State::Add, &v.uuid, None)],
                    ) {
                        return Ok(true);
                    }
                }
                // No longer matching (or visible): the consumer may hold it.
                _ => deleted.push(uuid),
            }
        }
        for chunk in deleted.chunks(IDS_PER_MESSAGE) {
            let info = SyncInfo::IdSet {
                cookie: None,
                refresh_deletes: true,
                uuids: chunk.to_vec(),
            };
            if !self.out.send(info.into_op(), Vec::new()) {
                return Ok(true);
            }
        }
        Ok(true)
    }
}

/// The persistent phase: every change after sequence number `next - 1`, until abandoned.
fn persist(
    sc: &Scope<'_>,
    rid: Option<u16>,
    mut next: u64,
    cancel: &AtomicBool,
    out: &mut dyn SyncOut,
) -> Result<SyncEnd, LdapError> {
    let dir = sc.dir;
    let sid = dir.csn.sid();
    let stop = || cancel.load(Ordering::Relaxed) || dir.stopping.load(Ordering::Relaxed);
    loop {
        if stop() {
            return Ok(SyncEnd::Abandoned);
        }
        // Only sendable changes go out: durable ones (a grouped commit is visible before its
        // flush), and on a consumer what its applier committed. Read before the snapshot
        // opens, so the snapshot holds every record up to it.
        let sendable = dir.store.sendable_seq();
        if sendable < next {
            dir.store.wait_sendable_past(next - 1, POLL);
            continue;
        }
        let snap = dir.store.read()?;
        let mut recs = snap.changes(next, CHUNK)?;
        recs.retain(|(seq, _)| *seq <= sendable);
        if recs.is_empty() {
            // No record from `next` up to the sendable one (sequence numbers may skip).
            drop(snap);
            dir.store.wait_sendable_past(sendable, POLL);
            continue;
        }
        let acl = dir.policy.checker(&sc.session.identity, &snap, &dir.schema);
        let n = recs.len();
        for i in 0..n {
            let (seq, rec) = &recs[i];
            next = seq + 1;
            // The cookie goes on the last record of a CSN: the next one may have the same.
            let last_of_csn = recs.get(i + 1).is_none_or(|(_, r)| r.csn != rec.csn)
                && (i + 1 < n || !more_with_csn(&snap, next, &rec.csn)?);
            let cookie = match (last_of_csn, Csn::parse(&rec.csn)) {
                (true, Some(csn)) => {
                    let mut set = CsnSet::new();
                    set.update(&csn);
                    Some(
                        Cookie {
                            rid,
                            sid: (sid != 0).then_some(sid),
                            csns: set,
                        }
                        .to_string()
                        .into_bytes(),
                    )
                }
                _ => None,
            };
            if !send_change(sc, &acl, &snap, rec, cookie.as_deref(), out)? {
                return Ok(SyncEnd::Abandoned);
            }
            if stop() {
                return Ok(SyncEnd::Abandoned);
            }
        }
        if !out.flush() {
            return Ok(SyncEnd::Abandoned);
        }
    }
}

/// Does the record after `next - 1` share this CSN?
fn more_with_csn(snap: &ReadSnap, next: u64, csn: &str) -> Result<bool, LdapError> {
    Ok(snap
        .changes(next, 1)?
        .first()
        .is_some_and(|(_, r)| r.csn == csn))
}

/// One change in the persistent phase. False when the client is gone.
fn send_change(
    sc: &Scope<'_>,
    acl: &Checker<'_>,
    snap: &ReadSnap,
    rec: &ChangeRecord,
    cookie: Option<&[u8]>,
    out: &mut dyn SyncOut,
) -> Result<bool, LdapError> {
    let Some(uuid) = uuid_bytes(&rec.uuid) else {
        // Bulk loads write no UUID; a consumer learns of those entries at its next refresh.
        return Ok(true);
    };
    let deleted = |dn: &str, uuid: &Uuid, out: &mut dyn SyncOut| {
        out.send(
            LdapOp::SearchResultEntry(LdapSearchResultEntry {
                dn: dn.to_string(),
                attributes: Vec::new(),
            }),
            vec![state_control(State::Delete, uuid, cookie)],
        )
    };
    let (dn, state) = match rec.kind {
        ChangeKind::Delete => {
            if !sc.contains_dn(&rec.dn) {
                return Ok(true);
            }
            return Ok(deleted(&rec.dn, &uuid, out));
        }
        ChangeKind::Add => (rec.dn.as_str(), State::Add),
        ChangeKind::Modify => (rec.dn.as_str(), State::Modify),
        ChangeKind::ModDn => {
            let new_dn = rec.new_dn.as_deref().unwrap_or_default();
            let (was, is) = (sc.contains_dn(&rec.dn), sc.contains_dn(new_dn));
            if was && !is {
                // Moved out of scope: it and what lies below it leave the consumer's view.
                let mut below = subtree(sc, snap, new_dn)?;
                below.reverse();
                for (_, _, u, dn) in below {
                    if !deleted(&dn, &u, out) {
                        return Ok(false);
                    }
                }
                return Ok(deleted(&rec.dn, &uuid, out));
            }
            if !was && is {
                // Moved into scope: it and what lies below it, parents first.
                let Some((id, key)) = sc.find(snap, &uuid, new_dn)? else {
                    // Gone since: a later record says so.
                    return Ok(true);
                };
                if !sc.contains_key(&key) {
                    // Moved out again since: a later record says so.
                    return Ok(true);
                }
                let Some(now) = snap.entry(id)?.map(|e| e.dn) else {
                    return Ok(true);
                };
                if !is_at(sc, new_dn, &key) && !send_ancestors(sc, acl, snap, &now, out)? {
                    return Ok(false);
                }
                for (id, key, _, _) in subtree(sc, snap, &now)? {
                    if let Some(v) = sc.visible(acl, snap, id, &key)? {
                        if !out.send(
                            LdapOp::SearchResultEntry(v.entry),
                            vec![state_control(State::Add, &v.uuid, None)],
                        ) {
                            return Ok(false);
                        }
                    }
                }
                return Ok(true);
            }
            (new_dn, State::Modify)
        }
    };
    if !sc.contains_dn(dn) {
        return Ok(true);
    }
    let Some((id, key)) = sc.find(snap, &uuid, dn)? else {
        // Gone since: a later record says so.
        return Ok(true);
    };
    if !sc.contains_key(&key) {
        // Moved out since: a later record says so.
        return Ok(true);
    }
    if !is_at(sc, dn, &key) {
        // Renamed since, or below an entry renamed since (a later record, committed before
        // this step read the changelog). The entry goes out at its DN of now, whose parents
        // the consumer may still hold under their old DNs: they go first, as they are now.
        let Some(now) = snap.entry(id)?.map(|e| e.dn) else {
            return Ok(true);
        };
        if !send_ancestors(sc, acl, snap, &now, out)? {
            return Ok(false);
        }
    }
    match sc.visible(acl, snap, id, &key)? {
        Some(v) => Ok(out.send(
            LdapOp::SearchResultEntry(v.entry),
            vec![state_control(state, &v.uuid, cookie)],
        )),
        // No longer matching (or readable): the consumer may hold it.
        None => Ok(deleted(dn, &uuid, out)),
    }
}

/// Is the entry whose DN key is `key` at `dn`?
fn is_at(sc: &Scope<'_>, dn: &str, key: &[u8]) -> bool {
    sc.dir.parse_dn(dn).is_ok_and(|d| d.store_key() == key)
}

/// The ancestors of `dn` within the scope as they are now, parents first, as `modify` without
/// cookie. A consumer finds each by its entryUUID: one it holds under an older DN is renamed
/// (with what lies below it), one it holds as it is now is left alone (same DN and entryCSN),
/// one it lacks is added. False when the client is gone.
fn send_ancestors(
    sc: &Scope<'_>,
    acl: &Checker<'_>,
    snap: &ReadSnap,
    dn: &str,
    out: &mut dyn SyncOut,
) -> Result<bool, LdapError> {
    let Ok(d) = sc.dir.parse_dn(dn) else {
        return Ok(true);
    };
    let mut chain = Vec::new();
    let mut up = d.parent();
    while !up.is_root() && sc.contains_key(&up.store_key()) {
        let next = up.parent();
        chain.push(up);
        up = next;
    }
    for a in chain.iter().rev() {
        let Some((id, _)) = snap.lookup(a)? else {
            continue;
        };
        if let Some(v) = sc.visible(acl, snap, id, &a.store_key())? {
            if !out.send(
                LdapOp::SearchResultEntry(v.entry),
                vec![state_control(State::Modify, &v.uuid, None)],
            ) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The entries at and below `dn` now: (id, key, UUID, DN), parents first.
#[allow(clippy::type_complexity)]
fn subtree(
    sc: &Scope<'_>,
    snap: &ReadSnap,
    dn: &str,
) -> Result<Vec<(u64, Vec<u8>, Uuid, String)>, LdapError> {
    let Ok(d) = sc.dir.parse_dn(dn) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    snap.scan_prefix::<LdapError>(&d.store_key(), None, &mut |key, id| {
        if let Some(e) = snap.entry(id)? {
            if let Some(u) = e.first_str("entryUUID").and_then(uuid_bytes) {
                out.push((id, key.to_vec(), u, e.dn.clone()));
            }
        }
        Ok(true)
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_parse_to_bytes() {
        let u = uuid_bytes("5f1c8a52-1b7e-4c2e-9a57-3d5c3f1e2a10").unwrap();
        assert_eq!(u[0], 0x5f);
        assert_eq!(u[15], 0x10);
        assert!(uuid_bytes("").is_none());
    }
}
