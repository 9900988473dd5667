//! Bulk loading: many entries in large transactions, each entry checked as an LDAP add would be.
//! Used to create benchmark data and (with the LDIF reader) by offline import. Parents must come
//! before their children. Intermediate batches commit without fsync; the last one commits
//! durably, so the load is durable when `finish` returns (redb persists the non-durable commits
//! with the next durable one).
//!
//! Two kinds of failure are kept apart by their types: an entry that cannot be added is an
//! `LdapError` (returned by `prepare`, or recorded in `rejected` when found at write time), and
//! a failure of the store itself is a [`StoreError`], which ends the load.

use super::change::Origin as WriteOrigin;
use super::pipeline;
use super::references;
use super::values::record;
use crate::core::dn::Dn;
use crate::core::entry::CheckedEntry;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::tables::ROOT_ID;
use crate::store::{StoreError, View};
use ldap3_proto::proto::LdapResultCode;
use redb::Durability;

pub use super::change::Attrs;

/// Entries per transaction.
pub(crate) const DEFAULT_BATCH: usize = 5000;

/// Where a queued entry came from (file and line), for error reports.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub file: String,
    pub line: usize,
}

/// Why [`BulkLoader::add`] did not take an entry.
#[derive(Debug)]
pub enum AddError {
    /// The entry is not valid (an LDAP add would refuse it).
    Entry(LdapError),
    /// Writing a batch failed: the load cannot go on.
    Store(StoreError),
}

impl From<StoreError> for AddError {
    fn from(e: StoreError) -> Self {
        AddError::Store(e)
    }
}

impl std::fmt::Display for AddError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AddError::Entry(e) => f.write_str(&e.message),
            AddError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for AddError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AddError::Entry(e) => Some(e),
            AddError::Store(e) => Some(e),
        }
    }
}

/// An entry the loader did not add, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub source: Source,
    pub dn: String,
    pub error: LdapError,
}

/// A checked entry ready to be written, with its index keys when already computed
/// ([`crate::store::index::encode_keys`]).
pub(crate) struct Prepared {
    pub(crate) dn: Dn,
    pub(crate) entry: CheckedEntry,
    pub(crate) source: Source,
    pub(crate) keys: Option<Vec<u8>>,
}

pub struct BulkLoader<'a> {
    dir: &'a Directory,
    batch: Vec<Prepared>,
    /// Entries whose parent was not there yet; retried after each batch.
    pending: Vec<Prepared>,
    batch_size: usize,
    /// The write pipeline's origin for every entry (import, with or without the operational
    /// attributes the input carries, or the first start).
    origin: WriteOrigin,
    pub(crate) loaded: u64,
    pub(crate) rejected: Vec<Rejected>,
    /// The loaded entries that name other entries (DN-valued attributes), checked once the
    /// load is in: an LDIF file may name an entry before the entry appears.
    referring: Vec<(u64, Source)>,
}

impl<'a> BulkLoader<'a> {
    pub fn new(dir: &'a Directory) -> Self {
        BulkLoader {
            dir,
            batch: Vec::new(),
            pending: Vec::new(),
            batch_size: DEFAULT_BATCH,
            origin: WriteOrigin::Import {
                keep_operational: false,
            },
            loaded: 0,
            rejected: Vec::new(),
            referring: Vec::new(),
        }
    }

    pub(crate) fn keep_operational(mut self, keep: bool) -> Self {
        self.origin = WriteOrigin::Import {
            keep_operational: keep,
        };
        self
    }

    pub(crate) fn origin(mut self, origin: WriteOrigin) -> Self {
        self.origin = origin;
        self
    }

    /// Check an entry as an LDAP add would (without access control) and build what is stored.
    pub(crate) fn prepare(
        &self,
        dn_text: &str,
        attrs: Attrs,
    ) -> Result<(Dn, CheckedEntry), LdapError> {
        prepare_entry(self.dir, self.origin, dn_text, attrs)
    }

    /// Queue an entry checked by [`prepare_entry`] (on any thread); writes a batch when full.
    /// Entries refused at write time go to `rejected`; the error is a store failure.
    pub(crate) fn add_prepared(&mut self, p: Prepared) -> Result<(), StoreError> {
        self.batch.push(p);
        if self.batch.len() >= self.batch_size {
            self.flush(Durability::None)?;
        }
        Ok(())
    }
}

/// Check an entry as an LDAP add with `origin` would (stages 1, 8 and 9 of the write
/// pipeline) and build what is stored. Needs only the directory's schema and configuration, so
/// it may run on another thread than the loader's writes.
pub(crate) fn prepare_entry(
    dir: &Directory,
    origin: WriteOrigin,
    dn_text: &str,
    attrs: Attrs,
) -> Result<(Dn, CheckedEntry), LdapError> {
    pipeline::prepare_add(dir, origin, dn_text, attrs)
}

impl BulkLoader<'_> {
    /// Check and queue an entry; writes a batch when full. Errors in the entry are returned (and
    /// not recorded); errors found when writing (existing DN) are recorded in `rejected`.
    pub fn add(&mut self, dn_text: &str, attrs: Attrs) -> Result<(), AddError> {
        self.add_from(dn_text, attrs, Source::default())
    }

    pub(crate) fn add_from(
        &mut self,
        dn_text: &str,
        attrs: Attrs,
        source: Source,
    ) -> Result<(), AddError> {
        let (dn, entry) = self.prepare(dn_text, attrs).map_err(AddError::Entry)?;
        Ok(self.add_prepared(Prepared {
            dn,
            entry,
            source,
            keys: None,
        })?)
    }

    /// Write the batch. Entries whose parent is missing wait in `pending`; entries whose DN
    /// exists are rejected. Only store failures are errors.
    fn flush(&mut self, durability: Durability) -> Result<(), StoreError> {
        let mut batch = std::mem::take(&mut self.batch);
        // Entries waiting for a parent go first: the parent may have been written since.
        let mut queue = std::mem::take(&mut self.pending);
        queue.append(&mut batch);
        let dir = self.dir;
        let mut waiting = Vec::new();
        let mut rejected = Vec::new();
        let mut added_n = 0u64;
        let mut referring = Vec::new();
        dir.store.write_with::<_, StoreError>(durability, |w| {
            let mut added: Vec<(u64, &CheckedEntry, Option<&[u8]>)> =
                Vec::with_capacity(queue.len());
            // Several rounds, so that a child queued before its parent in the same batch waits
            // only until the parent is in.
            let mut todo: Vec<usize> = (0..queue.len()).collect();
            loop {
                let mut next = Vec::new();
                let before = todo.len();
                for i in todo {
                    let Prepared {
                        dn,
                        entry: e,
                        source,
                        keys,
                    } = &queue[i];
                    let parent = if dn.norm() == dir.suffix.norm() {
                        Some(ROOT_ID)
                    } else if !dn.is_descendant_or_self(&dir.suffix) {
                        rejected.push(Rejected {
                            source: source.clone(),
                            dn: dn.display().to_string(),
                            error: LdapError::unwilling(format!(
                                "{} is not within the naming context {}",
                                dn.display(),
                                dir.suffix.display()
                            )),
                        });
                        continue;
                    } else {
                        w.id_of(&dn.parent())?
                    };
                    let Some(parent) = parent else {
                        next.push(i);
                        continue;
                    };
                    if w.id_of(dn)?.is_some() {
                        rejected.push(Rejected {
                            source: source.clone(),
                            dn: dn.display().to_string(),
                            error: LdapError::new(
                                LdapResultCode::EntryAlreadyExists,
                                format!("entry {} already exists", dn.display()),
                            ),
                        });
                        continue;
                    }
                    let id = w.insert_unindexed(parent, dn, e)?;
                    if references::has_references(e) {
                        referring.push((id, source.clone()));
                    }
                    added.push((id, e, keys.as_deref()));
                    added_n += 1;
                    let st = super::values::Stamp {
                        time: e
                            .first_str("modifyTimestamp")
                            .unwrap_or_default()
                            .to_string(),
                        csn: e.first_str("entryCSN").unwrap_or_default().to_string(),
                        who: e.first_str("creatorsName").unwrap_or_default().to_string(),
                    };
                    // A bulk load logs which entries it added, not their values.
                    let rec = record(&st, ChangeKind::Add, dn.display(), None, vec![]);
                    w.log(&super::values::with_values(rec, e, Some(&[])))?;
                }
                if next.is_empty() || next.len() == before {
                    waiting = next;
                    break;
                }
                todo = next;
            }
            w.index_batch(&added)
        })?;
        self.loaded += added_n;
        self.rejected.append(&mut rejected);
        self.referring.append(&mut referring);
        // Keep the entries still waiting for a parent, in their order.
        let mut keep = vec![false; queue.len()];
        for i in waiting {
            keep[i] = true;
        }
        self.pending = queue
            .into_iter()
            .zip(keep)
            .filter_map(|(p, k)| k.then_some(p))
            .collect();
        Ok(())
    }

    /// Write what is queued and make everything durable. Entries still without a parent are
    /// rejected as orphans.
    pub fn finish(mut self) -> Result<(u64, Vec<Rejected>), StoreError> {
        self.flush(Durability::Immediate)?;
        self.drop_dangling()?;
        for Prepared { dn, source, .. } in std::mem::take(&mut self.pending) {
            let parent = dn.parent();
            self.rejected.push(Rejected {
                source,
                dn: dn.display().to_string(),
                error: LdapError::no_such_object(format!(
                    "parent entry {} is neither in the directory nor in the input (orphan)",
                    parent.display()
                )),
            });
        }
        Ok((self.loaded, self.rejected))
    }

    /// The references check of the load: every loaded entry whose DN values do not all name
    /// entries (inside its registry, for contact points and substitutes) is taken out again
    /// and reported with its line. Taking one out may leave others naming it, so this repeats
    /// until nothing more goes. An entry with entries below it stays (and is reported so):
    /// `ccdir check` lists it until it is fixed.
    fn drop_dangling(&mut self) -> Result<(), StoreError> {
        let dir = self.dir;
        let mut todo = std::mem::take(&mut self.referring);
        loop {
            let snap = dir.store.read()?;
            let mut bad: Vec<(u64, Source, Vec<String>)> = Vec::new();
            let mut fine = Vec::with_capacity(todo.len());
            for (id, source) in todo {
                let problems = match snap.entry(id)? {
                    Some(e) => references::dangling(dir, &snap, &e)?,
                    None => Vec::new(),
                };
                if problems.is_empty() {
                    fine.push((id, source));
                } else {
                    bad.push((id, source, problems));
                }
            }
            drop(snap);
            todo = fine;
            if bad.is_empty() {
                return Ok(());
            }
            let mut removed = 0usize;
            let mut rejected = Vec::new();
            dir.store
                .write_with::<_, StoreError>(Durability::Immediate, |w| {
                    for (id, source, problems) in &bad {
                        let Some(e) = w.entry(*id)? else { continue };
                        let mut message = problems.join("; ");
                        let dn = dir.parse_dn(&e.dn).ok();
                        let parent = match &dn {
                            Some(d) if d.norm() != dir.suffix.norm() => w.id_of(&d.parent())?,
                            _ => None,
                        };
                        match parent {
                            Some(parent) if !w.has_children(*id)? => {
                                w.remove(*id, parent, &e)?;
                                let st = super::values::stamp(
                                    dir,
                                    &crate::acl::Identity::User(dir.policy.admin.clone()),
                                );
                                let rec = record(&st, ChangeKind::Delete, &e.dn, None, vec![]);
                                w.log(&super::values::with_values(rec, &e, Some(&[])))?;
                                removed += 1;
                            }
                            _ => message.push_str(
                                " (the entry was kept because entries below it were loaded; \
                             `ccdir check` lists it until it is fixed)",
                            ),
                        }
                        rejected.push(Rejected {
                            source: source.clone(),
                            dn: e.dn.clone(),
                            error: LdapError::new(LdapResultCode::ConstraintViolation, message),
                        });
                    }
                    Ok(())
                })?;
            self.loaded -= removed as u64;
            self.rejected.append(&mut rejected);
            if removed == 0 {
                return Ok(());
            }
        }
    }
}
