//! The consumer side of RFC 4533: what a provider sends, applied through the write pipeline as
//! the replication origin (write/change.rs, `Origin::Replication`), with the sync cookie stored
//! in the same transaction as the changes it covers (the meta table's `sync_cookie`).
//!
//! The network side (app/consumer.rs) decodes each message of a sync search into a [`Msg`] and
//! sends it here through a channel; [`Applier::run`] applies them on a blocking thread:
//!
//! - The refresh phase is one write transaction, committed with the cookie at its end
//!   (refreshDelete / refreshPresent with refreshDone, or Sync Done). Readers keep seeing the
//!   directory as it was until then, so a full reload (no cookie, e-syncRefreshRequired) never
//!   shows a half-loaded directory, and a crash (kill -9) during the refresh leaves the old
//!   state and the old cookie: the next refresh starts from it again.
//! - In the persistent phase each change commits with the cookie its message carries (the
//!   messages waiting in the channel are taken into the same transaction). A message without
//!   a cookie commits with the cookie before it; after a crash the provider sends that change
//!   again, and it is skipped (same entryUUID, DN and entryCSN), so nothing is applied twice.
//! - Entries are matched by entryUUID: a known UUID under another DN is a rename (its subtree
//!   moves with it), a DN held under another UUID (the consumer's own first-start entries) is
//!   replaced by the provider's entry. Deletes come by UUID (Sync State delete, syncIdSet);
//!   after a present phase (refreshDeletes FALSE) every entry in the search's base that was
//!   not reported is deleted, deepest first.

use super::cookie::Cookie;
use super::syncinfo::{State, SyncInfo, Uuid};
use crate::acl::Identity;
use crate::core::csn::CsnSet;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::core::filter::Filter;
use crate::service::consumer::unix_secs;
use crate::service::Directory;
use crate::store::tables::{META_CONTEXT_CSN, META_PROMOTED, META_SYNC_COOKIE};
use crate::store::{Store, StoreError, View, WriteCtx};
use crate::write::change::{Attrs, Change, Mod, ModOp};
use crate::write::pipeline::apply_replicated;
use ldap3_proto::proto::LdapFilter;
use std::collections::HashSet;
use tokio::sync::mpsc::Receiver;

/// One message of a sync search, decoded.
#[derive(Debug, Clone)]
pub(crate) enum Msg {
    /// A new sync search begins (its refresh phase); `full`: without a CSN in its cookie, so
    /// the provider sends every entry and whatever it does not send is gone, however it ends
    /// the refresh (slapd ends a refreshOnly refresh without cookie with refreshDeletes TRUE).
    Begin { full: bool },
    /// An entry with its Sync State (present, add, modify; delete carries no attributes).
    Entry {
        dn: String,
        attrs: Attrs,
        state: State,
        uuid: Uuid,
        cookie: Option<Vec<u8>>,
    },
    /// syncIdSet: deleted (refreshDeletes TRUE) or present entries.
    IdSet {
        uuids: Vec<Uuid>,
        deletes: bool,
        cookie: Option<Vec<u8>>,
    },
    /// refreshDelete / refreshPresent: the phase that ended (`present`: a present phase, whose
    /// unreported entries are gone), and whether the refresh is done.
    Phase {
        present: bool,
        done: bool,
        cookie: Option<Vec<u8>>,
    },
    /// Sync Done of a refreshOnly search.
    Done {
        deletes: bool,
        cookie: Option<Vec<u8>>,
    },
    /// A newcookie Sync Info.
    NewCookie(Vec<u8>),
}

impl Msg {
    /// A Sync Info message as the applier takes it.
    pub(crate) fn from_info(info: SyncInfo) -> Msg {
        match info {
            SyncInfo::NewCookie(c) => Msg::NewCookie(c),
            SyncInfo::RefreshDelete { cookie, done } => Msg::Phase {
                present: false,
                done,
                cookie,
            },
            SyncInfo::RefreshPresent { cookie, done } => Msg::Phase {
                present: true,
                done,
                cookie,
            },
            SyncInfo::IdSet {
                cookie,
                refresh_deletes,
                uuids,
            } => Msg::IdSet {
                uuids,
                deletes: refresh_deletes,
                cookie,
            },
        }
    }
}

/// Is this data directory promoted (`ccdir promote`)?
pub(crate) fn is_promoted(store: &Store) -> Result<bool, StoreError> {
    Ok(store.read()?.meta_value(META_PROMOTED)?.is_some())
}

/// The stored sync cookie (None: no refresh completed yet).
pub(crate) fn stored_cookie(store: &Store) -> Result<Option<Vec<u8>>, StoreError> {
    store.read()?.meta_value(META_SYNC_COOKIE)
}

/// Mark the data directory as the writer: the consumer does not start, client writes are
/// accepted. The cookie stays (for `ccdir replication status`).
pub(crate) fn promote(store: &Store) -> Result<(), StoreError> {
    store.write(|tx| tx.set_meta_value(META_PROMOTED, Some(b"1")))
}

/// Forget the cookie: the next refresh is a full reload (e-syncRefreshRequired).
pub(crate) fn forget_cookie(store: &Store) -> Result<(), StoreError> {
    store.write(|tx| tx.set_meta_value(META_SYNC_COOKIE, None))
}

/// Applies the messages of one sync search.
pub(crate) struct Applier<'a> {
    dir: &'a Directory,
    actor: Identity,
    base: Dn,
    /// In the refresh phase (one transaction until it ends).
    refreshing: bool,
    /// In a present phase: the UUIDs reported so far.
    present: Option<HashSet<Uuid>>,
    /// A full refresh (no CSN in the cookie), until its first phase ends.
    full: bool,
    /// The cookie to store with the current transaction.
    cookie: Option<Vec<u8>>,
    /// The newest CSN of each server id the stored cookie and the cookies received since hold
    /// (see [`Applier::merged`]).
    csns: CsnSet,
    /// Changes applied in the current transaction.
    applied: u64,
    /// The newest CSN applied in the current transaction.
    last_csn: Option<String>,
}

/// Why applying stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The channel closed (the connection ended or the server stops): nothing of an
    /// unfinished refresh was committed.
    Closed,
    Failed(LdapError),
}

impl From<LdapError> for Stop {
    fn from(e: LdapError) -> Self {
        Stop::Failed(e)
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Failed(e.into())
    }
}

/// Most messages of the persistent phase committed in one transaction.
const PERSIST_BATCH: u64 = 256;

impl<'a> Applier<'a> {
    pub(crate) fn new(dir: &'a Directory, base: Dn, bind_dn: Dn) -> Self {
        let csns = stored_cookie(&dir.store)
            .ok()
            .flatten()
            .and_then(|c| Cookie::parse(&c).ok())
            .map(|c| c.csns)
            .unwrap_or_default();
        Applier {
            csns,
            dir,
            actor: Identity::User(bind_dn),
            base,
            refreshing: false,
            present: None,
            full: false,
            cookie: None,
            applied: 0,
            last_csn: None,
        }
    }

    /// Apply messages until the channel closes or one fails.
    pub(crate) fn run(&mut self, rx: &mut Receiver<Msg>) -> Stop {
        loop {
            let Some(first) = rx.blocking_recv() else {
                return Stop::Closed;
            };
            self.applied = 0;
            self.last_csn = None;
            // Readable, and sendable to this server's own consumers, once committed; durable
            // when `write_replicated` returns (the store's module documentation says why that
            // order is safe for a consumer).
            let r = self.dir.store.write_replicated(|tx| -> Result<(), Stop> {
                let mut m = first;
                let mut n = 0u64;
                loop {
                    self.apply(tx, m)?;
                    n += 1;
                    let next = if self.refreshing {
                        // The refresh commits as a whole.
                        match rx.blocking_recv() {
                            Some(m) => Some(m),
                            None => return Err(Stop::Closed),
                        }
                    } else if n < PERSIST_BATCH {
                        rx.try_recv().ok()
                    } else {
                        None
                    };
                    match next {
                        Some(x) => m = x,
                        None => break,
                    }
                }
                if let Some(c) = &self.cookie {
                    tx.set_meta_value(META_SYNC_COOKIE, Some(c))?;
                    // The cookie states what the provider's data covers: the context CSN
                    // follows it also for CSNs no change here carried (a refresh does not send
                    // deleted entries, so the newest change may never arrive as such).
                    if let Ok(k) = Cookie::parse(c) {
                        let mut ctx = tx.context_csn()?;
                        let mut raised = false;
                        for csn in k.csns.iter() {
                            raised |= ctx.update(csn);
                        }
                        if raised {
                            tx.set_meta_value(META_CONTEXT_CSN, Some(ctx.to_text().as_bytes()))?;
                        }
                    }
                }
                Ok(())
            });
            if let Err(e) = r {
                self.refreshing = false;
                self.present = None;
                return e;
            }
            let (applied, csn) = (self.applied, self.last_csn.take());
            let now = unix_secs(self.dir.clock.now());
            let cookie = self
                .cookie
                .as_ref()
                .map(|c| String::from_utf8_lossy(c).into_owned());
            let at = csn.as_deref().and_then(csn_time).map(unix_secs);
            let (refreshing, idle) = (self.refreshing, rx.is_empty());
            self.dir
                .consumer
                .update(|s| s.committed(now, applied, cookie, csn, at, refreshing, idle));
        }
    }

    fn set_cookie(&mut self, c: Option<Vec<u8>>) {
        if let Some(c) = c {
            self.cookie = Some(self.merged(c));
        }
    }

    /// The cookie to store for one received: its CSNs merged into those held, newest per server
    /// id, as slapd's consumer keeps them. A provider's persistent phase sends only the CSN of
    /// each change (ccdir and syncprov both), so a cookie stored as received would lose the
    /// other server ids' CSNs (in a chain A -> B -> C, B's own first-start CSN), and the next
    /// session's refresh would be a present phase instead of a replay from the changelog. A
    /// cookie not in OpenLDAP's form is stored as received.
    fn merged(&mut self, c: Vec<u8>) -> Vec<u8> {
        let Ok(mut k) = Cookie::parse(&c) else {
            return c;
        };
        for csn in k.csns.iter() {
            self.csns.update(csn);
        }
        k.csns = self.csns.clone();
        k.to_string().into_bytes()
    }

    fn apply(&mut self, tx: &mut WriteCtx<'_>, m: Msg) -> Result<(), Stop> {
        match m {
            Msg::Begin { full } => {
                self.refreshing = true;
                self.present = None;
                self.full = full;
                if full {
                    // A reload: the refresh's cookie says what the provider's data covers.
                    self.csns = CsnSet::new();
                }
            }
            Msg::Entry {
                dn,
                attrs,
                state,
                uuid,
                cookie,
            } => {
                match state {
                    State::Present => self.mark_present(uuid),
                    State::Delete => self.delete_uuids(tx, &[uuid])?,
                    State::Add | State::Modify => {
                        self.mark_present(uuid);
                        self.entry(tx, &dn, attrs, &uuid)?;
                    }
                }
                self.set_cookie(cookie);
            }
            Msg::IdSet {
                uuids,
                deletes,
                cookie,
            } => {
                if deletes {
                    self.delete_uuids(tx, &uuids)?;
                } else {
                    for u in uuids {
                        self.mark_present(u);
                    }
                }
                self.set_cookie(cookie);
            }
            Msg::Phase {
                present,
                done,
                cookie,
            } => {
                // The end of a present phase (or of a full refresh's first phase): what was not
                // reported is gone. The end of a delete phase (refreshDelete after a replay from
                // the cookie) deletes nothing more: the unchanged entries were not sent.
                if let Some(seen) = self.present.take() {
                    if present || self.full {
                        self.delete_unseen(tx, &seen)?;
                    }
                }
                self.full = false;
                if done {
                    self.refreshing = false;
                }
                self.set_cookie(cookie);
            }
            Msg::Done { deletes, cookie } => {
                if !deletes || self.full {
                    let seen = self.present.take().unwrap_or_default();
                    self.delete_unseen(tx, &seen)?;
                }
                self.present = None;
                self.full = false;
                self.refreshing = false;
                self.set_cookie(cookie);
            }
            Msg::NewCookie(c) => self.set_cookie(Some(c)),
        }
        Ok(())
    }

    /// Entries sent in the refresh count as present (a present phase may mix `add` and
    /// `present`); the set exists from the first message of a refresh until it ends.
    fn mark_present(&mut self, uuid: Uuid) {
        if self.refreshing {
            self.present.get_or_insert_with(HashSet::new).insert(uuid);
        }
    }

    fn note(&mut self, csn: &str) {
        self.applied += 1;
        if !csn.is_empty() && self.last_csn.as_deref().is_none_or(|c| c < csn) {
            self.last_csn = Some(csn.to_string());
        }
    }

    /// An added or changed entry, as the provider now holds it.
    fn entry(
        &mut self,
        tx: &mut WriteCtx<'_>,
        dn_text: &str,
        attrs: Attrs,
        uuid: &Uuid,
    ) -> Result<(), Stop> {
        let dir = self.dir;
        let dn = dir.parse_dn(dn_text)?;
        let attrs = self.kept(attrs);
        let csn = first_value(&attrs, "entryCSN").unwrap_or_default();
        let local = match find_uuid(dir, tx, uuid)? {
            Some(x) => Some(x),
            // A DN held under another UUID (the consumer's own first-start entries, or an
            // entry deleted and added again while the consumer was away) becomes this entry.
            None => tx.lookup(&dn)?,
        };
        let Some((_, mut old)) = local else {
            apply_replicated(dir, tx, &self.actor, Change::Add { dn, attrs }, &csn)?;
            self.note(&csn);
            return Ok(());
        };
        let old_dn = dir.parse_dn(&old.dn)?;
        if old_dn.norm() != dn.norm() {
            let Some(new_rdn) = dn.rdn().cloned() else {
                return Err(LdapError::protocol("an entry renamed to the root DSE").into());
            };
            let parent = dn.parent();
            let new_superior = (parent.norm() != old_dn.parent().norm()).then_some(parent);
            // The target DN may hold an entry of another UUID (deleted on the provider, its
            // delete not seen yet): it goes first.
            if let Some((_, other)) = tx.lookup(&dn)? {
                if first_str_of(&other, "entryUUID") != uuid_text(uuid) {
                    self.delete_entry(tx, &dn, &csn)?;
                }
            }
            let rename = Change::Rename {
                dn: old_dn,
                new_rdn,
                delete_old_rdn: true,
                new_superior,
            };
            apply_replicated(dir, tx, &self.actor, rename, &csn)?;
            match tx.lookup(&dn)? {
                Some((_, e)) => old = e,
                None => return Err(LdapError::other("a renamed entry is not at its new DN").into()),
            }
        } else if !csn.is_empty()
            && old.first_str("entryCSN") == Some(csn.as_str())
            && first_str_of(&old, "entryUUID") == uuid_text(uuid)
        {
            // Already applied (sent again after a reconnection).
            return Ok(());
        }
        let mods = diff_mods(&old, &attrs);
        if mods.is_empty() {
            // The entry as the provider sent it is the entry held (its CSN included).
            self.note(&csn);
            return Ok(());
        }
        let change = Change::Modify {
            dn,
            mods,
            permissive: true,
        };
        apply_replicated(dir, tx, &self.actor, change, &csn)?;
        self.note(&csn);
        Ok(())
    }

    /// The attributes a consumer stores: the user attributes and the operational ones ccdir
    /// keeps (entryUUID, entryCSN, timestamps, creator and modifier, structural class); not
    /// what a provider computes (entryDN, hasSubordinates, subschemaSubentry, contextCSN) nor
    /// attribute types this server's schema lacks (logged).
    fn kept(&self, attrs: Attrs) -> Attrs {
        let schema = &self.dir.schema;
        attrs
            .into_iter()
            .filter(|(name, vals)| {
                let base = name.split(';').next().unwrap_or("");
                let Some(ty) = schema.attribute(base) else {
                    tracing::warn!(attribute = %name, "replication: attribute type not in this server's schema, not stored");
                    return false;
                };
                !vals.is_empty()
                    && (!ty.no_user_modification
                        || crate::write::values::MAINTAINED
                            .iter()
                            .any(|m| m.eq_ignore_ascii_case(ty.name())))
            })
            .collect()
    }

    fn delete_entry(&mut self, tx: &mut WriteCtx<'_>, dn: &Dn, csn: &str) -> Result<(), Stop> {
        // What lies below goes first (the provider deleted it too, or will report it).
        let mut below: Vec<(Vec<u8>, u64)> = Vec::new();
        tx.scan_prefix::<StoreError>(&dn.store_key(), None, &mut |k, id| {
            below.push((k.to_vec(), id));
            Ok(true)
        })?;
        below.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        for (_, id) in below {
            if let Some(e) = tx.entry(id)? {
                let d = self.dir.parse_dn(&e.dn)?;
                apply_replicated(self.dir, tx, &self.actor, Change::Delete { dn: d }, csn)?;
                self.note(csn);
            }
        }
        Ok(())
    }

    fn delete_uuids(&mut self, tx: &mut WriteCtx<'_>, uuids: &[Uuid]) -> Result<(), Stop> {
        let mut found: Vec<Dn> = Vec::new();
        for u in uuids {
            if let Some((_, e)) = find_uuid(self.dir, tx, u)? {
                found.push(self.dir.parse_dn(&e.dn)?);
            }
        }
        // Deepest first: a syncIdSet's order is not the tree's.
        found.sort_by_key(|d| std::cmp::Reverse(d.rdns().len()));
        for dn in found {
            if tx.id_of(&dn)?.is_some() {
                let csn = self.delete_csn();
                self.delete_entry(tx, &dn, &csn)?;
            }
        }
        Ok(())
    }

    /// The CSN a delete is logged under: the consumer does not learn the provider's (a delete
    /// carries none), so the newest it has seen.
    fn delete_csn(&self) -> String {
        self.last_csn.clone().unwrap_or_default()
    }

    /// After a present phase: delete every entry in the base that was not reported.
    fn delete_unseen(&mut self, tx: &mut WriteCtx<'_>, seen: &HashSet<Uuid>) -> Result<(), Stop> {
        let mut gone: Vec<(Vec<u8>, u64)> = Vec::new();
        tx.scan_prefix::<StoreError>(&self.base.store_key(), None, &mut |k, id| {
            gone.push((k.to_vec(), id));
            Ok(true)
        })?;
        gone.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        let csn = self.delete_csn();
        for (_, id) in gone {
            let Some(e) = tx.entry(id)? else { continue };
            let reported = e
                .first_str("entryUUID")
                .and_then(|u| uuid::Uuid::parse_str(u).ok())
                .is_some_and(|u| seen.contains(u.as_bytes()));
            if reported {
                continue;
            }
            let dn = self.dir.parse_dn(&e.dn)?;
            apply_replicated(self.dir, tx, &self.actor, Change::Delete { dn }, &csn)?;
            self.note(&csn);
        }
        Ok(())
    }
}

fn uuid_text(u: &Uuid) -> String {
    uuid::Uuid::from_bytes(*u).to_string()
}

fn first_str_of(e: &Entry, name: &str) -> String {
    e.first_str(name).unwrap_or_default().to_ascii_lowercase()
}

fn first_value(attrs: &Attrs, name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The time of a CSN (`YYYYmmddHHMMSS.uuuuuuZ#...`).
fn csn_time(csn: &str) -> Option<time::OffsetDateTime> {
    let fmt = time::macros::format_description!(
        "[year][month][day][hour][minute][second].[subsecond digits:6]Z"
    );
    let t = csn.split('#').next()?;
    time::PrimitiveDateTime::parse(t, &fmt)
        .ok()
        .map(|p| p.assume_utc())
}

/// The entry with this entryUUID: through the entryUUID index, or a scan when it is not
/// indexed.
fn find_uuid(
    dir: &Directory,
    tx: &WriteCtx<'_>,
    uuid: &Uuid,
) -> Result<Option<(u64, Entry)>, LdapError> {
    let text = uuid_text(uuid);
    let same = |e: &Entry| first_str_of(e, "entryUUID") == text;
    let f = Filter::compile(
        &LdapFilter::Equality("entryUUID".into(), text.clone()),
        &dir.schema,
        dir.filter_limits(),
    )?;
    let ids = match crate::store::index::candidates(&f, dir.store.index_spec(), tx)? {
        Some(ids) => ids,
        None => {
            let mut all = Vec::new();
            tx.scan_prefix::<LdapError>(&dir.suffix.store_key(), None, &mut |_, id| {
                all.push(id);
                Ok(true)
            })?;
            all
        }
    };
    for id in ids {
        if let Some(e) = tx.entry(id)? {
            if same(&e) {
                return Ok(Some((id, e)));
            }
        }
    }
    Ok(None)
}

/// The modifications that turn `old` into the entry the provider sent (`new`): a replace for
/// each attribute whose values differ (in content or order), a removal for each attribute
/// `new` lacks, nothing for the attributes that are the same. Replacing every attribute would
/// be as correct, but the change record (and its values) would then carry the whole entry for
/// each change, and every value would be normalised again.
fn diff_mods(old: &Entry, new: &Attrs) -> Vec<Mod> {
    let mut mods: Vec<Mod> = new
        .iter()
        .filter(|(n, v)| {
            old.attrs
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(n))
                .is_none_or(|a| a.values != *v)
        })
        .map(|(n, v)| Mod {
            op: ModOp::Replace,
            attr: n.clone(),
            values: v.clone(),
        })
        .collect();
    for a in &old.attrs {
        if !new.iter().any(|(n, _)| n.eq_ignore_ascii_case(&a.name)) {
            mods.push(Mod {
                op: ModOp::Replace,
                attr: a.name.clone(),
                values: Vec::new(),
            });
        }
    }
    mods
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    fn attrs(list: &[(&str, &[&str])]) -> Attrs {
        list.iter()
            .map(|(n, vs)| {
                (
                    n.to_string(),
                    vs.iter().map(|v| v.as_bytes().to_vec()).collect(),
                )
            })
            .collect()
    }

    fn entry(list: &[(&str, &[&str])]) -> Entry {
        let mut e = Entry::new("cn=a,dc=example");
        for (n, vs) in attrs(list) {
            e.set(&n, vs);
        }
        e
    }

    fn shown(mods: &[Mod]) -> Vec<(String, Vec<String>)> {
        mods.iter()
            .map(|m| {
                assert_eq!(m.op, ModOp::Replace);
                (
                    m.attr.clone(),
                    m.values
                        .iter()
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn only_the_attributes_that_differ_are_replaced_and_missing_ones_removed() {
        let old = entry(&[
            ("objectClass", &["top", "person"]),
            ("cn", &["a"]),
            ("sn", &["old"]),
            ("description", &["gone"]),
            ("telephoneNumber", &["+1 1", "+1 2"]),
            ("entryCSN", &["1"]),
        ]);
        let new = attrs(&[
            ("objectclass", &["top", "person"]),
            ("cn", &["a"]),
            ("sn", &["new"]),
            ("telephoneNumber", &["+1 2", "+1 1"]),
            ("mail", &["a@example.org"]),
            ("entryCSN", &["2"]),
        ]);
        assert_eq!(
            shown(&diff_mods(&old, &new)),
            vec![
                ("sn".to_string(), vec!["new".to_string()]),
                (
                    "telephoneNumber".to_string(),
                    vec!["+1 2".to_string(), "+1 1".to_string()]
                ),
                ("mail".to_string(), vec!["a@example.org".to_string()]),
                ("entryCSN".to_string(), vec!["2".to_string()]),
                ("description".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn the_same_entry_needs_no_modification() {
        let list: &[(&str, &[&str])] = &[("cn", &["a"]), ("entryCSN", &["1"])];
        assert!(diff_mods(&entry(list), &attrs(list)).is_empty());
    }
}
