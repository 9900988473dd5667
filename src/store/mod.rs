//! The store: entries, DN tables, indexes and changelog in one redb database.
//!
//! Reads take a [`ReadSnap`] (a redb read transaction: a consistent snapshot that never waits for
//! writers). Every modifying operation runs in one write transaction through [`Store::write`]:
//! entry, DN tables, indexes and changelog change together, and the call returns only after the
//! commit is durable, so the response is sent after the commit.
//!
//! Group commit: a write that finds no other write in progress commits with
//! `Durability::Immediate` (one fsync). Writes that overlap commit their transactions without
//! syncing (`Durability::None`, each still atomic on its own), then wait for a flush: an empty
//! `Immediate` commit, which redb documents as persisting every commit before it. One flush runs
//! at a time and covers every write committed before it began, so under load one fsync
//! acknowledges a whole group. No write returns before a flush that began after its commit has
//! completed. Readers may see a grouped write a few milliseconds before it is durable (before its
//! writer gets its response).
//!
//! Replication must not: a consumer that received a change the provider then loses in a crash
//! would hold data the provider never had. The store keeps the highest changelog sequence number
//! known durable ([`Store::durable_seq`]), advanced by `Immediate` commits and by each completed
//! flush (which reads the changelog's last record inside its own transaction, so it knows exactly
//! what it persisted). Persistent searches send only records up to it and are woken when it
//! advances ([`Store::wait_sendable_past`]); a refresh makes its snapshot durable first
//! ([`Store::ensure_durable`]).
//!
//! A consumer's changes are another matter: each came from a provider that sent it only once it
//! was durable there, and the consumer's cookie commits in the same transaction, so a consumer
//! that crashes before syncing loses change and cookie together and is sent both again. The
//! replication applier therefore commits without syncing, makes what it committed readable and
//! sendable at once ([`Store::commit_replicated`]: the *sendable* sequence number, which is the
//! durable one on a writer), and syncs right after ([`Store::write_replicated`]).

pub mod changelog;
pub(crate) mod encode;
pub(crate) mod error;
pub mod index;
pub(crate) mod onetime;
pub(crate) mod postings;
mod reminders;
pub(crate) mod rostermail;
pub(crate) mod tables;

use crate::core::csn::{Csn, CsnSet};
use crate::core::dn::Dn;
use crate::core::entry::{CheckedEntry, Entry};
use crate::core::schema::Schema;
use changelog::ChangeRecord;
use error::db;
pub use error::StoreError;
use index::{entry_keys, IndexReader, IndexSpec};
use redb::{
    Database, Durability, MultimapTable, ReadOnlyMultimapTable, ReadOnlyTable, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, ReadableTableMetadata, Table,
};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use tables::*;

fn rerr<E: Into<redb::Error>>(e: E) -> redb::Error {
    e.into()
}

/// Decode the stored entry `id`.
fn decode_entry(id: u64, bytes: &[u8]) -> Result<Entry, StoreError> {
    encode::decode_entry(bytes).map_err(|e| StoreError::Corrupt {
        what: "decoding an entry",
        id,
        detail: e.to_string(),
    })
}

/// The open database plus what interpreting it needs.
pub struct Store {
    db: Database,
    schema: Arc<Schema>,
    spec: IndexSpec,
    /// Bumped after every committed write: caches of derived facts (group memberships) are
    /// valid for the generation they were computed at.
    generation: std::sync::atomic::AtomicU64,
    /// Writes in progress in [`Store::write`].
    writers: AtomicUsize,
    /// Group commit: the flushes started and completed.
    flush: Mutex<FlushState>,
    flushed: Condvar,
    /// Notification for replication's persistent searches ([`Store::wait_sendable_past`]):
    /// threads waiting for the sendable sequence number to pass the one they saw.
    commit_waiters: AtomicUsize,
    commit_lock: Mutex<()>,
    committed: Condvar,
    /// The highest changelog sequence number whose transaction is durable.
    durable_seq: AtomicU64,
    /// The highest changelog sequence number a persistent search may send: the durable one, or
    /// beyond it what the replication applier committed on top of sendable records.
    sendable_seq: AtomicU64,
    /// The database file.
    path: std::path::PathBuf,
}

#[derive(Default)]
struct FlushState {
    started: u64,
    completed: u64,
    running: bool,
    /// The number of the last flush that failed, and its error.
    failed: Option<(u64, String)>,
}

/// Counts a write in progress for as long as it lives.
struct Writer<'a>(&'a AtomicUsize);

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, AtomicOrdering::AcqRel);
    }
}

impl Store {
    /// The size of the database file in bytes (0 when it cannot be read).
    pub(crate) fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    /// Open (or create) the database file, create missing tables, check the format and rebuild the
    /// indexes when the configured index set changed.
    pub(crate) fn open(
        path: &Path,
        schema: Arc<Schema>,
        spec: IndexSpec,
        cache_bytes: usize,
    ) -> Result<Store, StoreError> {
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
                    path: path.to_path_buf(),
                },
                e => StoreError::Open {
                    path: path.to_path_buf(),
                    source: e.into(),
                },
            })?;
        let store = Store {
            db,
            schema,
            spec,
            generation: AtomicU64::new(0),
            writers: AtomicUsize::new(0),
            flush: Mutex::new(FlushState::default()),
            flushed: Condvar::new(),
            commit_waiters: AtomicUsize::new(0),
            commit_lock: Mutex::new(()),
            committed: Condvar::new(),
            durable_seq: AtomicU64::new(0),
            sendable_seq: AtomicU64::new(0),
            path: path.to_path_buf(),
        };
        store.init().map_err(|e| StoreError::Init {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?;
        // What the file holds after opening is durable (redb recovers to its last durable commit).
        let top = store.read()?.change_bounds()?.map_or(0, |(_, last)| last);
        store.durable_seq.store(top, AtomicOrdering::SeqCst);
        store.sendable_seq.store(top, AtomicOrdering::SeqCst);
        Ok(store)
    }

    fn init(&self) -> Result<(), StoreError> {
        const WHAT: &str = "preparing the tables";
        let txn = self.db.begin_write().map_err(db(WHAT))?;
        let reindex;
        {
            let mut meta = txn.open_table(META).map_err(db(WHAT))?;
            let format = meta
                .get(META_FORMAT)
                .map_err(db("reading the data format"))?
                .map(|v| read_u64(v.value()));
            let mut upgrade = false;
            let set_format = |meta: &mut Table<'_, &'static str, &'static [u8]>| {
                meta.insert(META_FORMAT, FORMAT_VERSION.to_be_bytes().as_slice())
                    .map(|_| ())
                    .map_err(db("writing the data format"))
            };
            match format {
                None => set_format(&mut meta)?,
                Some(v) if v == FORMAT_VERSION => {}
                Some(v) if (FORMAT_UPGRADABLE..FORMAT_VERSION).contains(&v) => {
                    // Only the index layout changed since: rebuild the indexes below.
                    tracing::info!(from = v, to = FORMAT_VERSION, "upgrading the data format");
                    set_format(&mut meta)?;
                    upgrade = true;
                }
                Some(v) => {
                    return Err(StoreError::Format {
                        found: v,
                        expected: FORMAT_VERSION,
                    })
                }
            }
            let fp = self.spec.fingerprint();
            let stored = meta
                .get(META_INDEX_SPEC)
                .map_err(db("reading the index set"))?
                .map(|v| v.value().to_vec());
            reindex = upgrade || stored.as_deref() != Some(fp.as_bytes());
            meta.insert(META_INDEX_SPEC, fp.as_bytes())
                .map_err(db("writing the index set"))?;
            txn.open_table(ENTRIES).map_err(db(WHAT))?;
            txn.open_table(DN2ID).map_err(db(WHAT))?;
            txn.open_table(ID2DN).map_err(db(WHAT))?;
            txn.open_multimap_table(CHILDREN).map_err(db(WHAT))?;
            txn.open_table(EQ_INDEX).map_err(db(WHAT))?;
            txn.open_table(SUB_INDEX).map_err(db(WHAT))?;
            txn.open_table(CHANGELOG).map_err(db(WHAT))?;
            txn.open_table(CSN_SEQ).map_err(db(WHAT))?;
            txn.open_table(REMINDERS).map_err(db(WHAT))?;
            txn.open_table(ROSTER_MAIL).map_err(db(WHAT))?;
            txn.open_table(ONETIME).map_err(db(WHAT))?;
        }
        if reindex {
            const REINDEX: &str = "rebuilding the indexes";
            txn.delete_table(EQ_INDEX).map_err(db(REINDEX))?;
            txn.delete_table(SUB_INDEX).map_err(db(REINDEX))?;
            let entries = txn.open_table(ENTRIES).map_err(db(REINDEX))?;
            let mut eq = txn.open_table(EQ_INDEX).map_err(db(REINDEX))?;
            let mut sub = txn.open_table(SUB_INDEX).map_err(db(REINDEX))?;
            let mut n = 0u64;
            for row in entries.iter().map_err(db(REINDEX))? {
                let (id, bytes) = row.map_err(db(REINDEX))?;
                let id = id.value();
                let e = decode_entry(id, bytes.value())?;
                let (ek, sk) = entry_keys(&e, &self.spec, &self.schema);
                for k in ek {
                    postings::insert(&mut eq, &k, id).map_err(db(REINDEX))?;
                }
                for k in sk {
                    postings::insert(&mut sub, &k, id).map_err(db(REINDEX))?;
                }
                n += 1;
            }
            if n > 0 {
                tracing::info!(entries = n, "rebuilt indexes for the configured index set");
            }
        }
        txn.commit().map_err(db("committing the prepared tables"))?;
        Ok(())
    }

    pub fn index_spec(&self) -> &IndexSpec {
        &self.spec
    }

    /// A consistent read snapshot.
    pub fn read(&self) -> Result<ReadSnap, StoreError> {
        let r = (|| -> Result<ReadSnap, redb::Error> {
            // Read before the snapshot opens: the snapshot is at least this generation.
            let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
            let txn = self.db.begin_read().map_err(rerr)?;
            Ok(ReadSnap {
                generation,
                txn,
                entries: OnceLock::new(),
                dn2id: OnceLock::new(),
                id2dn: OnceLock::new(),
                children: OnceLock::new(),
                eq: OnceLock::new(),
                sub: OnceLock::new(),
                changelog: OnceLock::new(),
                csn_seq: OnceLock::new(),
                meta: OnceLock::new(),
            })
        })();
        r.map_err(db("opening a read transaction"))
    }

    /// The highest changelog sequence number known durable: every record up to it survives a
    /// crash. Records above it may be committed (visible to readers) but not yet flushed.
    pub(crate) fn durable_seq(&self) -> u64 {
        self.durable_seq.load(AtomicOrdering::SeqCst)
    }

    /// The highest changelog sequence number a persistent search may send: every record up to
    /// it is durable, or was committed by the replication applier ([`Store::commit_replicated`]).
    /// The durable sequence number on a server that takes no replicated changes.
    pub(crate) fn sendable_seq(&self) -> u64 {
        self.sendable_seq.load(AtomicOrdering::SeqCst)
    }

    /// Wait until the sendable sequence number is past `seen`, or `timeout` has passed; returns
    /// it. Writers never wait for the waiters: a commit that advances it only wakes them (and
    /// only when there are some).
    pub(crate) fn wait_sendable_past(&self, seen: u64, timeout: std::time::Duration) -> u64 {
        let deadline = std::time::Instant::now() + timeout;
        let mut g = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.commit_waiters.fetch_add(1, AtomicOrdering::SeqCst);
        loop {
            let now_seq = self.sendable_seq();
            let now = std::time::Instant::now();
            if now_seq > seen || now >= deadline {
                self.commit_waiters.fetch_sub(1, AtomicOrdering::SeqCst);
                return now_seq;
            }
            g = match self.committed.wait_timeout(g, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Make every change record up to `seq` durable: returns at once when it is, otherwise after
    /// a group flush (one that began after this call, so it covers every commit a snapshot
    /// taken before the call can see).
    pub(crate) fn ensure_durable(&self, seq: u64) -> Result<(), StoreError> {
        for _ in 0..3 {
            if self.durable_seq() >= seq {
                return Ok(());
            }
            self.wait_durable()?;
        }
        if self.durable_seq() >= seq {
            return Ok(());
        }
        Err(StoreError::CommitFailed {
            detail: format!("change {seq} is not durable after three flushes"),
        })
    }

    /// The durable sequence number reached `top`: so did the sendable one.
    fn durable_to(&self, top: u64) {
        self.durable_seq.fetch_max(top, AtomicOrdering::SeqCst);
        self.sendable_to(top);
    }

    /// The sendable sequence number reached `top`: wake the persistent searches.
    fn sendable_to(&self, top: u64) {
        let before = self.sendable_seq.fetch_max(top, AtomicOrdering::SeqCst);
        if top > before && self.commit_waiters.load(AtomicOrdering::SeqCst) > 0 {
            let _g = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.committed.notify_all();
        }
    }

    /// The replication applier's transaction: committed without syncing, readable at once, and
    /// sendable to persistent searches at once when every record before it is (else at the
    /// next flush). Not durable on return: [`Store::write_replicated`] syncs after it. Only for
    /// changes received from a provider (see the module documentation).
    pub(crate) fn commit_replicated<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.writers.fetch_add(1, AtomicOrdering::AcqRel);
        let _writer = Writer(&self.writers);
        let mut seqs = (0, 0);
        let r = self.write_with(Durability::None, |tx| -> Result<R, E> {
            let before = tx.last_change_seq()?;
            let r = f(tx)?;
            seqs = (before, tx.last_change_seq()?);
            Ok(r)
        })?;
        let (before, after) = seqs;
        if after > before && before <= self.sendable_seq() {
            self.sendable_to(after);
        }
        Ok(r)
    }

    /// [`Store::commit_replicated`], then a flush: returns once the transaction is durable.
    pub(crate) fn write_replicated<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let r = self.commit_replicated(f)?;
        self.wait_durable()?;
        Ok(r)
    }

    /// After a commit: the next generation.
    fn committed(&self) {
        self.generation.fetch_add(1, AtomicOrdering::SeqCst);
    }

    /// Run `f` in one write transaction; commit if it returns Ok, abort otherwise. Returns once
    /// the commit is durable (alone: an `Immediate` commit; alongside other writes: a group
    /// flush, see the module documentation).
    ///
    /// `f` returns its caller's error type (the operations' LDAP error), which the store's own
    /// failures convert into: the store does not decide what they mean to a client.
    pub(crate) fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let alone = self.writers.fetch_add(1, AtomicOrdering::AcqRel) == 0;
        let _writer = Writer(&self.writers);
        if alone {
            return self.write_with(Durability::Immediate, f);
        }
        let r = self.write_with(Durability::None, f)?;
        self.wait_durable()?;
        Ok(r)
    }

    /// Wait until a flush that began after this thread's commit has completed, running it if no
    /// flush is running.
    fn wait_durable(&self) -> Result<(), StoreError> {
        let lock = || self.flush.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = lock();
        let target = st.started + 1;
        loop {
            if st.completed >= target {
                return match st.failed {
                    Some((f, ref detail)) if f >= target => Err(StoreError::CommitFailed {
                        detail: detail.clone(),
                    }),
                    _ => Ok(()),
                };
            }
            if !st.running {
                st.running = true;
                st.started += 1;
                let n = st.started;
                drop(st);
                let res = self.flush_now();
                if let Ok(top) = res {
                    self.durable_to(top);
                }
                st = lock();
                st.running = false;
                st.completed = n;
                if let Err(e) = res {
                    tracing::error!(error = %e, "group commit flush failed");
                    st.failed = Some((n, e.to_string()));
                }
                self.flushed.notify_all();
                continue;
            }
            st = self.flushed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// An empty durable commit: persists every commit before it. Returns the last changelog
    /// sequence number it persisted.
    fn flush_now(&self) -> Result<u64, redb::Error> {
        let mut txn = self.db.begin_write().map_err(rerr)?;
        txn.set_durability(Durability::Immediate).map_err(rerr)?;
        let top = {
            let log = txn.open_table(CHANGELOG).map_err(rerr)?;
            let last = log.last().map_err(rerr)?;
            last.map_or(0, |(k, _)| k.value())
        };
        txn.commit().map_err(rerr)?;
        Ok(top)
    }

    /// As [`Store::write`] with a chosen durability (bulk loads commit the last batch Immediate).
    pub(crate) fn write_with<R, E: From<StoreError>>(
        &self,
        durability: Durability,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut txn = self.db.begin_write().map_err(db("begin write"))?;
        txn.set_durability(durability)
            .map_err(db("set durability"))?;
        let out = {
            let opened = (|| -> Result<WriteCtx<'_>, redb::Error> {
                Ok(WriteCtx {
                    entries: txn.open_table(ENTRIES).map_err(rerr)?,
                    dn2id: txn.open_table(DN2ID).map_err(rerr)?,
                    id2dn: txn.open_table(ID2DN).map_err(rerr)?,
                    children: txn.open_multimap_table(CHILDREN).map_err(rerr)?,
                    eq: txn.open_table(EQ_INDEX).map_err(rerr)?,
                    sub: txn.open_table(SUB_INDEX).map_err(rerr)?,
                    changelog: txn.open_table(CHANGELOG).map_err(rerr)?,
                    csn_seq: txn.open_table(CSN_SEQ).map_err(rerr)?,
                    meta: txn.open_table(META).map_err(rerr)?,
                    txn: &txn,
                    schema: &self.schema,
                    spec: &self.spec,
                })
            })();
            let mut ctx = opened.map_err(db("opening tables"))?;
            match f(&mut ctx) {
                // What an Immediate commit makes durable: every record up to the last.
                Ok(r) if matches!(durability, Durability::Immediate) => {
                    Ok((r, Some(ctx.last_change_seq()?)))
                }
                Ok(r) => Ok((r, None)),
                Err(e) => Err(e),
            }
        };
        match out {
            Ok((r, durable_top)) => {
                txn.commit().map_err(db("commit"))?;
                self.committed();
                if let Some(top) = durable_top {
                    self.durable_to(top);
                }
                Ok(r)
            }
            Err(e) => {
                let _ = txn.abort();
                Err(e)
            }
        }
    }

    /// A persistent savepoint to return to if a multi-transaction load fails.
    pub(crate) fn savepoint(&self) -> Result<u64, StoreError> {
        let r = (|| -> Result<u64, redb::Error> {
            let txn = self.db.begin_write().map_err(rerr)?;
            let id = txn.persistent_savepoint().map_err(rerr)?;
            txn.commit().map_err(rerr)?;
            Ok(id)
        })();
        r.map_err(db("creating a savepoint"))
    }

    /// Return to a savepoint (undoing everything committed since) and drop it.
    pub(crate) fn restore(&self, id: u64) -> Result<(), StoreError> {
        let r = (|| -> Result<(), redb::Error> {
            let mut txn = self.db.begin_write().map_err(rerr)?;
            let sp = txn.get_persistent_savepoint(id).map_err(rerr)?;
            txn.restore_savepoint(&sp).map_err(rerr)?;
            txn.delete_persistent_savepoint(id).map_err(rerr)?;
            txn.commit().map_err(rerr)?;
            self.committed();
            Ok(())
        })();
        r.map_err(db("restoring a savepoint"))
    }

    /// Drop a savepoint that is no longer needed.
    pub(crate) fn release(&self, id: u64) -> Result<(), StoreError> {
        let r = (|| -> Result<(), redb::Error> {
            let txn = self.db.begin_write().map_err(rerr)?;
            txn.delete_persistent_savepoint(id).map_err(rerr)?;
            txn.commit().map_err(rerr)?;
            Ok(())
        })();
        r.map_err(db("releasing a savepoint"))
    }

    /// True when the store holds no entry.
    pub(crate) fn is_empty(&self) -> Result<bool, StoreError> {
        let r = self.read()?;
        r.t_entries()?.is_empty().map_err(db("reading entries"))
    }
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    if b.len() == 8 {
        a.copy_from_slice(b);
    }
    u64::from_be_bytes(a)
}

/// The attributes of `old` and `new` whose type (base name) has different values in the two.
fn changed_types(old: &Entry, new: &Entry) -> (Entry, Entry) {
    // Attribute names are stored in their canonical form, so they compare as they are. Each
    // entry is grouped by type once (a modify runs this for every write: no pass per attribute).
    type ByType<'e> = std::collections::BTreeMap<String, Vec<(&'e str, &'e Vec<Vec<u8>>)>>;
    fn by_type(e: &Entry) -> ByType<'_> {
        let mut m = ByType::new();
        for a in &e.attrs {
            m.entry(a.base_name().to_ascii_lowercase())
                .or_default()
                .push((a.name.as_str(), &a.values));
        }
        for v in m.values_mut() {
            v.sort();
        }
        m
    }
    let (o, n) = (by_type(old), by_type(new));
    let changed: std::collections::HashSet<&str> = o
        .keys()
        .chain(n.keys())
        .filter(|k| o.get(*k) != n.get(*k))
        .map(String::as_str)
        .collect();
    let part = |e: &Entry| Entry {
        dn: e.dn.clone(),
        attrs: e
            .attrs
            .iter()
            .filter(|a| changed.contains(a.base_name().to_ascii_lowercase().as_str()))
            .cloned()
            .collect(),
    };
    (part(old), part(new))
}

/// A read-only snapshot of all tables.
pub struct ReadSnap {
    generation: u64,
    txn: redb::ReadTransaction,
    // Opened on first use: opening a table looks it up in redb's table tree (about 2,000
    // instructions each), and an equality search needs four of these nine.
    entries: OnceLock<ReadOnlyTable<u64, &'static [u8]>>,
    dn2id: OnceLock<ReadOnlyTable<&'static [u8], u64>>,
    id2dn: OnceLock<ReadOnlyTable<u64, &'static [u8]>>,
    children: OnceLock<ReadOnlyMultimapTable<u64, u64>>,
    eq: OnceLock<ReadOnlyTable<&'static [u8], &'static [u8]>>,
    sub: OnceLock<ReadOnlyTable<&'static [u8], &'static [u8]>>,
    changelog: OnceLock<ReadOnlyTable<u64, &'static [u8]>>,
    csn_seq: OnceLock<ReadOnlyTable<&'static str, u64>>,
    meta: OnceLock<ReadOnlyTable<&'static str, &'static [u8]>>,
}

/// The table in `cell`, opened by `open` the first time.
fn opened<T>(
    cell: &OnceLock<T>,
    open: impl FnOnce() -> Result<T, redb::TableError>,
) -> Result<&T, StoreError> {
    if let Some(t) = cell.get() {
        return Ok(t);
    }
    let t = open().map_err(db("opening a table of a read transaction"))?;
    Ok(cell.get_or_init(|| t))
}

/// The tables of one write transaction, with the schema and index set that writes need.
pub(crate) struct WriteCtx<'t> {
    entries: Table<'t, u64, &'static [u8]>,
    dn2id: Table<'t, &'static [u8], u64>,
    id2dn: Table<'t, u64, &'static [u8]>,
    children: MultimapTable<'t, u64, u64>,
    eq: Table<'t, &'static [u8], &'static [u8]>,
    sub: Table<'t, &'static [u8], &'static [u8]>,
    changelog: Table<'t, u64, &'static [u8]>,
    csn_seq: Table<'t, &'static str, u64>,
    meta: Table<'t, &'static str, &'static [u8]>,
    /// For the tables few writes touch, opened when used (the reminder state).
    txn: &'t redb::WriteTransaction,
    schema: &'t Schema,
    spec: &'t IndexSpec,
}

/// The visitor of [`View::scan_prefix`]: (dn key, id) -> continue? It returns its caller's
/// error type (`E`), which the store's own failures convert into.
pub(crate) type ScanFn<'a, E = StoreError> = dyn FnMut(&[u8], u64) -> Result<bool, E> + 'a;

/// Where an entry moves in [`WriteCtx::rename`].
pub(crate) struct Move<'a> {
    pub(crate) id: u64,
    pub(crate) old_parent: u64,
    pub(crate) new_parent: u64,
    pub(crate) old_dn: &'a Dn,
    pub(crate) new_dn: &'a Dn,
}

/// Reads shared by snapshots and write transactions.
pub trait View {
    fn entry(&self, id: u64) -> Result<Option<Entry>, StoreError>;
    fn id_of(&self, dn: &Dn) -> Result<Option<u64>, StoreError>;
    fn id_of_key(&self, key: &[u8]) -> Result<Option<u64>, StoreError>;
    fn dn_key(&self, id: u64) -> Result<Option<Vec<u8>>, StoreError>;
    fn child_ids(&self, id: u64) -> Result<Vec<u64>, StoreError>;
    fn has_children(&self, id: u64) -> Result<bool, StoreError>;
    /// Visit (dn key, id) of every entry whose key starts with `prefix` and sorts after `after`,
    /// in key order, until `f` returns false. (Generic over the visitor's error type, so not
    /// callable through `dyn View`.)
    fn scan_prefix<E: From<StoreError>>(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        f: &mut ScanFn<'_, E>,
    ) -> Result<(), E>
    where
        Self: Sized;
    /// Changelog records from sequence `from` on.
    fn changes(&self, from: u64, max: usize) -> Result<Vec<(u64, ChangeRecord)>, StoreError>;
    /// The first and last changelog sequence numbers (None: no record yet).
    fn change_bounds(&self) -> Result<Option<(u64, u64)>, StoreError>;
    /// The newest CSN of each server id (`contextCSN`).
    fn context_csn(&self) -> Result<CsnSet, StoreError>;
    /// The sequence number of the last change record with this CSN.
    fn seq_of_csn(&self, csn: &Csn) -> Result<Option<u64>, StoreError>;
    /// How many entries the store holds.
    fn entry_count(&self) -> Result<u64, StoreError>;

    /// The write generation of a read snapshot (None inside a write transaction).
    fn generation(&self) -> Option<u64> {
        None
    }

    /// The entry at a DN, with its id.
    fn lookup(&self, dn: &Dn) -> Result<Option<(u64, Entry)>, StoreError> {
        match self.id_of(dn)? {
            Some(id) => Ok(self.entry(id)?.map(|e| (id, e))),
            None => Ok(None),
        }
    }
}

macro_rules! impl_view {
    ($t:ty) => {
        impl View for $t {
            fn generation(&self) -> Option<u64> {
                self.snapshot_generation()
            }
            fn entry(&self, id: u64) -> Result<Option<Entry>, StoreError> {
                let v = self.t_entries()?.get(id).map_err(db("reading an entry"))?;
                match v {
                    None => Ok(None),
                    Some(b) => decode_entry(id, b.value()).map(Some),
                }
            }
            fn id_of(&self, dn: &Dn) -> Result<Option<u64>, StoreError> {
                self.id_of_key(&dn.store_key())
            }
            fn id_of_key(&self, key: &[u8]) -> Result<Option<u64>, StoreError> {
                let v = self
                    .t_dn2id()?
                    .get(key)
                    .map_err(db("reading the DN table"))?;
                Ok(v.map(|g| g.value()))
            }
            fn dn_key(&self, id: u64) -> Result<Option<Vec<u8>>, StoreError> {
                let v = self
                    .t_id2dn()?
                    .get(id)
                    .map_err(db("reading the DN table"))?;
                Ok(v.map(|g| g.value().to_vec()))
            }
            fn child_ids(&self, id: u64) -> Result<Vec<u64>, StoreError> {
                let children = self.t_children()?;
                let r = (|| -> Result<Vec<u64>, redb::Error> {
                    let mut out = Vec::new();
                    for v in children.get(id)? {
                        out.push(v?.value());
                    }
                    Ok(out)
                })();
                r.map_err(db("reading children"))
            }
            fn has_children(&self, id: u64) -> Result<bool, StoreError> {
                let children = self.t_children()?;
                let r =
                    (|| -> Result<bool, redb::Error> { Ok(children.get(id)?.next().is_some()) })();
                r.map_err(db("reading children"))
            }
            fn scan_prefix<E: From<StoreError>>(
                &self,
                prefix: &[u8],
                after: Option<&[u8]>,
                f: &mut ScanFn<'_, E>,
            ) -> Result<(), E> {
                let start: &[u8] = after.unwrap_or(prefix);
                let range = self
                    .t_dn2id()?
                    .range::<&[u8]>(start..)
                    .map_err(db("scanning the DN table"))?;
                for row in range {
                    let (k, v) = row.map_err(db("scanning the DN table"))?;
                    let key = k.value();
                    if !key.starts_with(prefix) {
                        break;
                    }
                    if after.is_some_and(|a| key <= a) {
                        continue;
                    }
                    if !f(key, v.value())? {
                        break;
                    }
                }
                Ok(())
            }
            fn changes(
                &self,
                from: u64,
                max: usize,
            ) -> Result<Vec<(u64, ChangeRecord)>, StoreError> {
                let mut out = Vec::new();
                let range = self
                    .t_changelog()?
                    .range(from..)
                    .map_err(db("reading the changelog"))?;
                for row in range.take(max) {
                    let (k, v) = row.map_err(db("reading the changelog"))?;
                    let rec = ChangeRecord::decode(v.value()).map_err(|e| StoreError::Corrupt {
                        what: "decoding a change record",
                        id: k.value(),
                        detail: e.to_string(),
                    })?;
                    out.push((k.value(), rec));
                }
                Ok(out)
            }
            fn change_bounds(&self) -> Result<Option<(u64, u64)>, StoreError> {
                let changelog = self.t_changelog()?;
                let r = (|| -> Result<Option<(u64, u64)>, redb::StorageError> {
                    let first = changelog.first()?.map(|(k, _)| k.value());
                    let last = changelog.last()?.map(|(k, _)| k.value());
                    Ok(first.zip(last))
                })();
                r.map_err(db("reading the changelog"))
            }
            fn context_csn(&self) -> Result<CsnSet, StoreError> {
                let v = self
                    .t_meta()?
                    .get(META_CONTEXT_CSN)
                    .map_err(db("reading the context CSN"))?;
                Ok(
                    v.and_then(|v| std::str::from_utf8(v.value()).ok().and_then(CsnSet::parse))
                        .unwrap_or_default(),
                )
            }
            fn seq_of_csn(&self, csn: &Csn) -> Result<Option<u64>, StoreError> {
                let v = self
                    .t_csn_seq()?
                    .get(csn.as_str())
                    .map_err(db("reading the CSN table"))?;
                Ok(v.map(|g| g.value()))
            }
            fn entry_count(&self) -> Result<u64, StoreError> {
                use redb::ReadableTableMetadata;
                self.t_entries()?.len().map_err(db("counting entries"))
            }
        }

        impl IndexReader for $t {
            fn eq_ids(&self, key: &[u8]) -> Result<Vec<u64>, StoreError> {
                postings::read(self.t_eq()?, key).map_err(db("reading indexes"))
            }
            fn eq_range_ids(
                &self,
                prefix: &[u8],
                from: &[u8],
                to: Option<&[u8]>,
            ) -> Result<Vec<u64>, StoreError> {
                postings::read_range(self.t_eq()?, prefix, from, to, index::MAX_RANGE_IDS)
                    .map_err(db("reading indexes"))
            }
            fn sub_ids(&self, key: &[u8]) -> Result<Vec<u64>, StoreError> {
                postings::read(self.t_sub()?, key).map_err(db("reading indexes"))
            }
        }
    };
}

impl_view!(ReadSnap);

impl ReadSnap {
    fn snapshot_generation(&self) -> Option<u64> {
        Some(self.generation)
    }

    fn t_entries(&self) -> Result<&ReadOnlyTable<u64, &'static [u8]>, StoreError> {
        opened(&self.entries, || self.txn.open_table(ENTRIES))
    }
    fn t_dn2id(&self) -> Result<&ReadOnlyTable<&'static [u8], u64>, StoreError> {
        opened(&self.dn2id, || self.txn.open_table(DN2ID))
    }
    fn t_id2dn(&self) -> Result<&ReadOnlyTable<u64, &'static [u8]>, StoreError> {
        opened(&self.id2dn, || self.txn.open_table(ID2DN))
    }
    fn t_children(&self) -> Result<&ReadOnlyMultimapTable<u64, u64>, StoreError> {
        opened(&self.children, || self.txn.open_multimap_table(CHILDREN))
    }
    fn t_eq(&self) -> Result<&ReadOnlyTable<&'static [u8], &'static [u8]>, StoreError> {
        opened(&self.eq, || self.txn.open_table(EQ_INDEX))
    }
    fn t_sub(&self) -> Result<&ReadOnlyTable<&'static [u8], &'static [u8]>, StoreError> {
        opened(&self.sub, || self.txn.open_table(SUB_INDEX))
    }
    fn t_changelog(&self) -> Result<&ReadOnlyTable<u64, &'static [u8]>, StoreError> {
        opened(&self.changelog, || self.txn.open_table(CHANGELOG))
    }
    fn t_csn_seq(&self) -> Result<&ReadOnlyTable<&'static str, u64>, StoreError> {
        opened(&self.csn_seq, || self.txn.open_table(CSN_SEQ))
    }
    fn t_meta(&self) -> Result<&ReadOnlyTable<&'static str, &'static [u8]>, StoreError> {
        opened(&self.meta, || self.txn.open_table(META))
    }

    /// A value of the meta table (replication state).
    pub(crate) fn meta_value(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .t_meta()?
            .get(key)
            .map_err(db("reading the meta table"))?
            .map(|v| v.value().to_vec()))
    }
}

impl<'t> WriteCtx<'t> {
    fn snapshot_generation(&self) -> Option<u64> {
        None
    }

    fn t_entries(&self) -> Result<&Table<'t, u64, &'static [u8]>, StoreError> {
        Ok(&self.entries)
    }
    fn t_dn2id(&self) -> Result<&Table<'t, &'static [u8], u64>, StoreError> {
        Ok(&self.dn2id)
    }
    fn t_id2dn(&self) -> Result<&Table<'t, u64, &'static [u8]>, StoreError> {
        Ok(&self.id2dn)
    }
    fn t_children(&self) -> Result<&MultimapTable<'t, u64, u64>, StoreError> {
        Ok(&self.children)
    }
    fn t_eq(&self) -> Result<&Table<'t, &'static [u8], &'static [u8]>, StoreError> {
        Ok(&self.eq)
    }
    fn t_sub(&self) -> Result<&Table<'t, &'static [u8], &'static [u8]>, StoreError> {
        Ok(&self.sub)
    }
    fn t_changelog(&self) -> Result<&Table<'t, u64, &'static [u8]>, StoreError> {
        Ok(&self.changelog)
    }
    fn t_csn_seq(&self) -> Result<&Table<'t, &'static str, u64>, StoreError> {
        Ok(&self.csn_seq)
    }
    fn t_meta(&self) -> Result<&Table<'t, &'static str, &'static [u8]>, StoreError> {
        Ok(&self.meta)
    }

    /// Set (Some) or remove (None) a value of the meta table, in this transaction.
    pub(crate) fn set_meta_value(
        &mut self,
        key: &str,
        value: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        match value {
            Some(v) => self.meta.insert(key, v).map(|_| ()),
            None => self.meta.remove(key).map(|_| ()),
        }
        .map_err(db("writing the meta table"))
    }
}
impl_view!(WriteCtx<'_>);

impl WriteCtx<'_> {
    /// The sequence number of the changelog's last record (0: none).
    pub(crate) fn last_change_seq(&self) -> Result<u64, StoreError> {
        let last = self.changelog.last().map_err(db("reading the changelog"))?;
        Ok(last.map_or(0, |(k, _)| k.value()))
    }

    /// The next changelog sequence number: one past the last record, and never below the floor
    /// in the meta table (where stores of data format 3 and before counted; a future changelog
    /// trim must raise it). Not a meta table counter, so that a write that only changes an
    /// entry does not also rewrite the meta table's page.
    fn next_seq(&mut self) -> Result<u64, StoreError> {
        let r = (|| -> Result<u64, redb::Error> {
            let after_last = self.changelog.last()?.map_or(1, |(k, _)| k.value() + 1);
            let floor = self
                .meta
                .get(META_NEXT_SEQ)?
                .map_or(1, |v| read_u64(v.value()));
            Ok(after_last.max(floor))
        })();
        r.map_err(db("reading the changelog"))
    }

    fn counter(&mut self, key: &'static str, first: u64) -> Result<u64, StoreError> {
        let cur = self
            .meta
            .get(key)
            .map_err(db("reading counters"))?
            .map(|v| read_u64(v.value()))
            .unwrap_or(first);
        self.meta
            .insert(key, (cur + 1).to_be_bytes().as_slice())
            .map_err(db("writing counters"))?;
        Ok(cur)
    }

    fn index(&mut self, id: u64, e: &Entry, add: bool) -> Result<(), StoreError> {
        let (eqk, subk) = entry_keys(e, self.spec, self.schema);
        self.apply_keys(id, &eqk, &subk, add)
    }

    fn apply_keys(
        &mut self,
        id: u64,
        eqk: &std::collections::BTreeSet<Vec<u8>>,
        subk: &std::collections::BTreeSet<Vec<u8>>,
        add: bool,
    ) -> Result<(), StoreError> {
        let r = (|| -> Result<(), redb::Error> {
            for k in eqk {
                if add {
                    postings::insert(&mut self.eq, k, id)?;
                } else {
                    postings::remove(&mut self.eq, k, id)?;
                }
            }
            for k in subk {
                if add {
                    postings::insert(&mut self.sub, k, id)?;
                } else {
                    postings::remove(&mut self.sub, k, id)?;
                }
            }
            Ok(())
        })();
        r.map_err(db("updating indexes"))
    }

    /// Index many entries added with [`WriteCtx::insert_unindexed`], writing each posting list
    /// once (bulk loads).
    /// Index the entries of a bulk load; each may come with its keys already computed
    /// ([`index::encode_keys`]).
    pub(crate) fn index_batch(
        &mut self,
        batch: &[(u64, &CheckedEntry, Option<&[u8]>)],
    ) -> Result<(), StoreError> {
        // FxHash: fast, and the keys come from the administrator's LDIF, not from clients, so
        // flooding resistance is not needed.
        type Lists = rustc_hash::FxHashMap<Vec<u8>, Vec<u64>>;
        let mut eq = Lists::default();
        let mut sub = Lists::default();
        for (id, e, packed) in batch {
            let id = *id;
            let mut add = |is_sub: bool, k: &[u8]| {
                let lists = if is_sub { &mut sub } else { &mut eq };
                match lists.get_mut(k) {
                    // An entry's keys come together: the last id tells a repeat.
                    Some(ids) => {
                        if ids.last() != Some(&id) {
                            ids.push(id);
                        }
                    }
                    None => {
                        lists.insert(k.to_vec(), vec![id]);
                    }
                }
            };
            match packed {
                Some(p) => index::decode_keys(p, &mut add),
                None => index::for_each_key(e, self.spec, self.schema, &mut add),
            }
        }
        // B-tree inserts in key order.
        let sorted = |m: Lists| {
            let mut v: Vec<(Vec<u8>, Vec<u64>)> = m.into_iter().collect();
            v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            v
        };
        let (eq, sub) = (sorted(eq), sorted(sub));
        let r = (|| -> Result<(), redb::Error> {
            for (k, v) in &eq {
                postings::insert_many(&mut self.eq, k, v)?;
            }
            for (k, v) in &sub {
                postings::insert_many(&mut self.sub, k, v)?;
            }
            Ok(())
        })();
        r.map_err(db("updating indexes"))
    }

    /// Add an entry without indexing it: the caller indexes it with [`WriteCtx::index_batch`]
    /// in the same transaction.
    pub(crate) fn insert_unindexed(
        &mut self,
        parent: u64,
        dn: &Dn,
        e: &CheckedEntry,
    ) -> Result<u64, StoreError> {
        let id = self.counter(META_NEXT_ID, 1)?;
        let key = dn.store_key();
        let r = (|| -> Result<(), redb::Error> {
            self.entries
                .insert(id, encode::encode_entry(e).as_slice())?;
            self.dn2id.insert(key.as_slice(), id)?;
            self.id2dn.insert(id, key.as_slice())?;
            self.children.insert(parent, id)?;
            Ok(())
        })();
        r.map_err(db("inserting an entry"))?;
        Ok(id)
    }

    /// Add a new entry below `parent` (ROOT_ID for a naming context).
    pub(crate) fn insert(
        &mut self,
        parent: u64,
        dn: &Dn,
        e: &CheckedEntry,
    ) -> Result<u64, StoreError> {
        let id = self.insert_unindexed(parent, dn, e)?;
        self.index(id, e, true)?;
        Ok(id)
    }

    /// Replace an entry's content (same DN), updating only the index keys that changed.
    pub(crate) fn update(
        &mut self,
        id: u64,
        old: &Entry,
        new: &CheckedEntry,
    ) -> Result<(), StoreError> {
        self.entries
            .insert(id, encode::encode_entry(new).as_slice())
            .map_err(db("updating an entry"))?;
        // Index keys depend on each attribute type's values alone: only the types whose values
        // changed (with all their option variants, which share keys) need their keys compared.
        let (old, new) = changed_types(old, new);
        let (oe, os) = entry_keys(&old, self.spec, self.schema);
        let (ne, ns) = entry_keys(&new, self.spec, self.schema);
        let gone_e = oe.difference(&ne).cloned().collect();
        let gone_s = os.difference(&ns).cloned().collect();
        let new_e = ne.difference(&oe).cloned().collect();
        let new_s = ns.difference(&os).cloned().collect();
        self.apply_keys(id, &gone_e, &gone_s, false)?;
        self.apply_keys(id, &new_e, &new_s, true)
    }

    /// Remove a leaf entry.
    pub(crate) fn remove(&mut self, id: u64, parent: u64, e: &Entry) -> Result<(), StoreError> {
        let key = self.dn_key(id)?;
        let r = (|| -> Result<(), redb::Error> {
            self.entries.remove(id)?;
            if let Some(k) = &key {
                self.dn2id.remove(k.as_slice())?;
            }
            self.id2dn.remove(id)?;
            self.children.remove(parent, id)?;
            Ok(())
        })();
        r.map_err(db("removing an entry"))?;
        self.index(id, e, false)
    }

    /// Rename or move entry `id` (and its whole subtree) from `old_dn` to `new_dn` under
    /// `new_parent`; `new_entry` is the entry's new content (its `dn` already the new DN).
    pub(crate) fn rename(
        &mut self,
        mv: Move<'_>,
        old_entry: &Entry,
        new_entry: &CheckedEntry,
    ) -> Result<(), StoreError> {
        let Move {
            id,
            old_parent,
            new_parent,
            old_dn,
            new_dn,
        } = mv;
        let old_key = old_dn.store_key();
        let new_key = new_dn.store_key();
        // Descendants first: collect (key, id) under the old key, excluding the entry itself.
        let mut below: Vec<(Vec<u8>, u64)> = Vec::new();
        self.scan_prefix(&old_key, Some(&old_key), &mut |k, i| {
            below.push((k.to_vec(), i));
            Ok(true)
        })?;
        for (k, i) in below {
            let mut nk = new_key.clone();
            nk.extend_from_slice(&k[old_key.len()..]);
            if let Some(mut e) = self.entry(i)? {
                if let Ok(d) = Dn::parse(&e.dn, self.schema) {
                    if let Some(nd) = d.rebase(old_dn, new_dn) {
                        e.dn = nd.display().to_string();
                    }
                }
                self.entries
                    .insert(i, encode::encode_entry(&e).as_slice())
                    .map_err(db("moving an entry"))?;
            }
            let r = (|| -> Result<(), redb::Error> {
                self.dn2id.remove(k.as_slice())?;
                self.dn2id.insert(nk.as_slice(), i)?;
                self.id2dn.insert(i, nk.as_slice())?;
                Ok(())
            })();
            r.map_err(db("moving an entry"))?;
        }
        let r = (|| -> Result<(), redb::Error> {
            self.dn2id.remove(old_key.as_slice())?;
            self.dn2id.insert(new_key.as_slice(), id)?;
            self.id2dn.insert(id, new_key.as_slice())?;
            if old_parent != new_parent {
                self.children.remove(old_parent, id)?;
                self.children.insert(new_parent, id)?;
            }
            Ok(())
        })();
        r.map_err(db("renaming an entry"))?;
        self.update(id, old_entry, new_entry)
    }

    /// Append a change record; returns its sequence number. A record with a CSN also
    /// updates the CSN table and the context CSN (the newest CSN of its server id) in the same
    /// transaction.
    pub(crate) fn log(&mut self, rec: &ChangeRecord) -> Result<u64, StoreError> {
        let seq = self.next_seq()?;
        self.changelog
            .insert(seq, rec.encode().as_slice())
            .map_err(db("writing the changelog"))?;
        if let Some(csn) = Csn::parse(&rec.csn) {
            self.csn_seq
                .insert(csn.as_str(), seq)
                .map_err(db("writing the CSN table"))?;
            let mut ctx = self.context_csn()?;
            if ctx.update(&csn) {
                self.meta
                    .insert(META_CONTEXT_CSN, ctx.to_text().as_bytes())
                    .map_err(db("writing the context CSN"))?;
            }
        }
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::entry::Attribute;

    fn entry(attrs: &[(&str, &[&str])]) -> Entry {
        Entry {
            dn: "cn=x".into(),
            attrs: attrs
                .iter()
                .map(|(n, v)| Attribute::new(*n, v.iter().map(|s| s.as_bytes().to_vec()).collect()))
                .collect(),
        }
    }

    fn names(e: &Entry) -> Vec<&str> {
        e.attrs.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn only_changed_types_are_reindexed_with_all_their_options() {
        let old = entry(&[
            ("cn", &["X"]),
            ("cn;lang-de", &["X"]),
            ("sn", &["S"]),
            ("description", &["a"]),
        ]);
        let new = entry(&[
            ("cn", &["Y"]),
            ("cn;lang-de", &["X"]),
            ("sn", &["S"]),
            ("mail", &["m@x.example"]),
        ]);
        let (o, n) = changed_types(&old, &new);
        // cn changed, so its language variant (which shares its index keys) comes along;
        // description went, mail came; sn is the same.
        assert_eq!(names(&o), vec!["cn", "cn;lang-de", "description"]);
        assert_eq!(names(&n), vec!["cn", "cn;lang-de", "mail"]);
        let (o, n) = changed_types(&old, &old);
        assert!(o.attrs.is_empty() && n.attrs.is_empty());
        // Only a language variant changed: the whole type comes along; the order of the
        // attributes in the entry does not count as a change.
        let variant = entry(&[
            ("description", &["a"]),
            ("sn", &["S"]),
            ("cn;lang-de", &["Z"]),
            ("cn", &["X"]),
        ]);
        let (o, n) = changed_types(&old, &variant);
        assert_eq!(names(&o), vec!["cn", "cn;lang-de"]);
        assert_eq!(names(&n), vec!["cn;lang-de", "cn"]);
    }
    #[test]
    fn changelog_numbers_follow_the_last_record_and_never_go_below_the_stored_floor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.redb");
        let schema = Arc::new(Schema::builtin().unwrap());
        let store = Store::open(&path, schema, IndexSpec::default(), 8 << 20).unwrap();
        let rec = ChangeRecord {
            time: "20261123000000Z".into(),
            csn: String::new(),
            who: String::new(),
            kind: changelog::ChangeKind::Modify,
            dn: "cn=x".into(),
            new_dn: None,
            attrs: vec!["description".into()],
            uuid: String::new(),
            delete_old_rdn: false,
            values: Vec::new(),
        };
        let log = || store.write(|w| w.log(&rec)).unwrap();
        assert_eq!((log(), log()), (1, 2));
        // A store that counted in the meta table (or a trimmed changelog) keeps counting up.
        store
            .write(|w| {
                w.meta
                    .insert(META_NEXT_SEQ, 10u64.to_be_bytes().as_slice())
                    .map(|_| ())
                    .map_err(db("test"))
            })
            .unwrap();
        assert_eq!((log(), log()), (10, 11));
    }

    /// Regression (issue 16): a grouped commit (committed without sync, awaiting the flush)
    /// reached persistent searches before it was durable. The durable sequence number, which
    /// they follow, moves only with an Immediate commit or a completed flush.
    #[test]
    fn grouped_commits_count_as_durable_only_after_the_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.redb");
        let schema = Arc::new(Schema::builtin().unwrap());
        let store = Store::open(&path, schema, IndexSpec::default(), 8 << 20).unwrap();
        let rec = ChangeRecord {
            time: "20261205000000Z".into(),
            csn: String::new(),
            who: String::new(),
            kind: changelog::ChangeKind::Modify,
            dn: "cn=x".into(),
            new_dn: None,
            attrs: vec!["description".into()],
            uuid: String::new(),
            delete_old_rdn: false,
            values: Vec::new(),
        };
        // Alone: an Immediate commit, durable at once.
        assert_eq!(store.write(|w| w.log(&rec)).unwrap(), 1);
        assert_eq!(store.durable_seq(), 1);
        // As the second of overlapping writers: committed, visible, not yet durable.
        let seq = store.write_with(Durability::None, |w| w.log(&rec)).unwrap();
        assert_eq!(seq, 2);
        let snap = store.read().unwrap();
        assert_eq!(snap.change_bounds().unwrap(), Some((1, 2)));
        drop(snap);
        assert_eq!(store.durable_seq(), 1);
        // A waiter is not woken by it.
        let t = std::time::Instant::now();
        assert_eq!(
            store.wait_sendable_past(1, std::time::Duration::from_millis(50)),
            1
        );
        assert!(t.elapsed() >= std::time::Duration::from_millis(50));
        // The flush makes it durable and wakes a waiter at once.
        std::thread::scope(|s| {
            let waiter =
                s.spawn(|| store.wait_sendable_past(1, std::time::Duration::from_secs(30)));
            std::thread::sleep(std::time::Duration::from_millis(20));
            store.ensure_durable(2).unwrap();
            assert_eq!(waiter.join().unwrap(), 2);
        });
        assert_eq!(store.durable_seq(), 2);
        // What a reopened file holds is durable.
        drop(store);
        let schema = Arc::new(Schema::builtin().unwrap());
        let store = Store::open(&path, schema, IndexSpec::default(), 8 << 20).unwrap();
        assert_eq!(store.durable_seq(), 2);
        assert_eq!(store.sendable_seq(), 2);

        // A replicated change: sendable (and a waiter woken) before it is durable.
        std::thread::scope(|s| {
            let waiter =
                s.spawn(|| store.wait_sendable_past(2, std::time::Duration::from_secs(30)));
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(store.commit_replicated(|w| w.log(&rec)).unwrap(), 3);
            assert_eq!(waiter.join().unwrap(), 3);
        });
        assert_eq!((store.durable_seq(), store.sendable_seq()), (2, 3));
        // A grouped local write, not yet flushed, stays unsendable, and so does a replicated
        // change after it: records go out in order, none before it is durable.
        assert_eq!(
            store.write_with(Durability::None, |w| w.log(&rec)).unwrap(),
            4
        );
        assert_eq!(store.commit_replicated(|w| w.log(&rec)).unwrap(), 5);
        assert_eq!((store.durable_seq(), store.sendable_seq()), (2, 3));
        // write_replicated returns once durable; everything before it is then sendable.
        assert_eq!(store.write_replicated(|w| w.log(&rec)).unwrap(), 6);
        assert_eq!((store.durable_seq(), store.sendable_seq()), (6, 6));
        // A crash before the flush loses the replicated change (its cookie with it): after
        // reopening, only what was durable is there.
        assert_eq!(store.commit_replicated(|w| w.log(&rec)).unwrap(), 7);
        drop(store);
        let schema = Arc::new(Schema::builtin().unwrap());
        let store = Store::open(&path, schema, IndexSpec::default(), 8 << 20).unwrap();
        let top = store.read().unwrap().change_bounds().unwrap().map(|b| b.1);
        assert!(top == Some(6) || top == Some(7), "{top:?}");
        assert_eq!(store.sendable_seq(), top.unwrap());
    }

    #[test]
    fn a_database_open_elsewhere_is_in_use_and_the_error_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.redb");
        let schema = Arc::new(Schema::builtin().unwrap());
        let _first = Store::open(&path, schema.clone(), IndexSpec::default(), 8 << 20).unwrap();
        let err = Store::open(&path, schema, IndexSpec::default(), 8 << 20)
            .err()
            .unwrap();
        assert!(
            matches!(&err, StoreError::InUse { path: p } if *p == path),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{} is in use by another ccdir process (stop the server first)",
                path.display()
            )
        );
    }

    #[test]
    fn a_damaged_entry_is_a_corrupt_error_naming_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.redb");
        let schema = Arc::new(Schema::builtin().unwrap());
        let store = Store::open(&path, schema, IndexSpec::default(), 8 << 20).unwrap();
        store
            .write(|w| {
                w.entries
                    .insert(7, [0xffu8, 1, 2].as_slice())
                    .map(|_| ())
                    .map_err(db("test"))
            })
            .unwrap();
        let err = store.read().unwrap().entry(7).err().unwrap();
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    what: "decoding an entry",
                    id: 7,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("decoding an entry (id 7): damaged record: "),
            "{text}"
        );
        assert_eq!(err.what(), "decoding an entry");
    }

    #[test]
    fn a_format_2_database_is_upgraded_by_rebuilding_its_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.redb");
        let schema = Arc::new(Schema::builtin().unwrap());
        let spec = IndexSpec::new(["uid"], ["cn"]);
        let open = || Store::open(&path, schema.clone(), spec.clone(), 8 << 20).unwrap();
        let e = entry(&[("objectClass", &["account"]), ("uid", &["ann"])]);
        let dn = Dn::parse("uid=ann", &schema).unwrap();
        let id = open()
            .write(|w| w.insert(ROOT_ID, &dn, &CheckedEntry::certified(e)))
            .unwrap();
        // Make it look like format 2: the old version and an index value in the old layout
        // (ids as u64), which the new layout would misread.
        {
            let db = Database::create(&path).unwrap();
            let w = db.begin_write().unwrap();
            {
                let mut meta = w.open_table(META).unwrap();
                meta.insert(META_FORMAT, 2u64.to_be_bytes().as_slice())
                    .unwrap();
                let mut eq = w.open_table(EQ_INDEX).unwrap();
                let old_key = {
                    let mut k = postings::list_prefix(b"uid\x00ann");
                    k.extend_from_slice(&id.to_be_bytes());
                    k
                };
                eq.retain(|_, _| false).unwrap();
                eq.insert(old_key.as_slice(), (id + 7).to_le_bytes().as_slice())
                    .unwrap();
            }
            w.commit().unwrap();
        }
        let store = open();
        let snap = store.read().unwrap();
        assert_eq!(snap.eq_ids(b"uid\x00ann").unwrap(), vec![id]);
        let w = store.db.begin_read().unwrap();
        let meta = w.open_table(META).unwrap();
        let format = read_u64(meta.get(META_FORMAT).unwrap().unwrap().value());
        assert_eq!(format, FORMAT_VERSION);
        // A format this version does not know is refused.
        drop((snap, meta, w, store));
        {
            let db = Database::create(&path).unwrap();
            let w = db.begin_write().unwrap();
            w.open_table(META)
                .unwrap()
                .insert(META_FORMAT, 1u64.to_be_bytes().as_slice())
                .unwrap();
            w.commit().unwrap();
        }
        let err = Store::open(&path, schema.clone(), spec.clone(), 8 << 20)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("data format 1 is not supported"), "{err}");
    }
}
