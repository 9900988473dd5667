//! Offline LDIF import (`ccdir import`) and export (`ccdir export`).
//!
//! Import streams each file through the LDIF reader and the bulk loader: constant memory apart
//! from entries that arrive before their parent. By default it is all or nothing: it writes under
//! a redb savepoint, and at the first bad record stops writing, goes on only checking (to list
//! every bad record), and restores the savepoint. With `continue_on_error`, bad records are
//! listed and skipped. A file that cannot be read, or a failure of the store, restores the
//! savepoint in both modes. The two kinds of failure have different types: a bad record is an
//! `LdapError` in the report, a store failure a `StoreError` from the bulk loader.

use crate::core::ldif::{self, Reader, ReaderOptions, Record};
use crate::service::Directory;
use crate::store::index::encode_keys;
use crate::store::{StoreError, View};
use crate::write::bulk::{prepare_entry, AddError, BulkLoader, Prepared, Rejected, Source};
use crate::write::pipeline::canonical_order;
use crate::write::values::MAINTAINED;
use crate::write::Origin;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub continue_on_error: bool,
    /// Allow `attr:< file://...` values (relative to the LDIF file).
    pub allow_url: bool,
    /// Progress output: None = automatic (a bar on a terminal, periodic lines otherwise).
    pub quiet: bool,
}

#[derive(Debug, Default)]
pub struct ImportSummary {
    pub added: u64,
    pub rejected: Vec<Rejected>,
    pub secs: f64,
    /// True when nothing was written because of errors (all-or-nothing mode).
    pub rolled_back: bool,
}

/// Counts bytes read, for progress.
struct Counting<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

struct Progress {
    total: u64,
    read: Arc<AtomicU64>,
    start: Instant,
    last: Instant,
    tty: bool,
    quiet: bool,
}

impl Progress {
    fn tick(&mut self, entries: u64, force: bool) {
        if self.quiet {
            return;
        }
        let every = if self.tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(10)
        };
        if !force && self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = entries as f64 / secs;
        let done = self.read.load(Ordering::Relaxed).min(self.total);
        let frac = if self.total > 0 {
            done as f64 / self.total as f64
        } else {
            1.0
        };
        let eta = if frac > 0.0 { secs / frac - secs } else { 0.0 };
        let line = format!(
            "{:>5.1}% {entries} entries, {rate:.0} entries/s, ETA {eta:.0} s",
            frac * 100.0
        );
        if self.tty {
            let width = 30usize;
            let filled = ((frac * width as f64) as usize).min(width);
            eprint!(
                "\r[{}{}] {line}   ",
                "#".repeat(filled),
                "-".repeat(width - filled)
            );
        } else {
            eprintln!("import: {line}");
        }
    }

    fn done(&self) {
        if self.tty && !self.quiet {
            eprintln!();
        }
    }
}

fn open(path: &Path, read: &Arc<AtomicU64>) -> Result<impl BufRead, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: f,
            n: read.clone(),
        },
    ))
}

fn reader_options(path: &Path, opts: &ImportOptions) -> ReaderOptions {
    ReaderOptions {
        base_dir: path.parent().map(Path::to_path_buf),
        allow_url: opts.allow_url,
        ..ReaderOptions::default()
    }
}

/// Import LDIF files into the directory (the server must not be running: the store is locked).
/// The whole import runs in one pass over the files.
pub fn import_files(
    dir: &Directory,
    files: &[PathBuf],
    opts: &ImportOptions,
) -> Result<ImportSummary, String> {
    let start = Instant::now();
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    // One pass, under a savepoint. All or nothing: after the first bad record nothing more is
    // written, the rest is only checked (to report every bad record), and the savepoint is
    // restored. Either way a failure to read or write restores it.
    let savepoint = dir.store.savepoint().map_err(|e| e.to_string())?;
    let all_or_nothing = !opts.continue_on_error;
    let read = Arc::new(AtomicU64::new(0));
    let mut progress = Progress {
        total,
        read: read.clone(),
        start,
        last: Instant::now(),
        tty: std::io::stderr().is_terminal(),
        quiet: opts.quiet,
    };
    let mut loader = BulkLoader::new(dir).keep_operational(true);
    let mut early: Vec<Rejected> = Vec::new();
    let mut result: Result<(), String> = Ok(());
    // Two threads: one reads the LDIF, checks each entry and computes its index keys; this one
    // writes. The bounded channel keeps memory flat.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(crate::write::bulk::DEFAULT_BATCH);
        let read = read.clone();
        scope.spawn(move || read_and_check(dir, files, opts, &read, &tx));
        for item in rx.iter() {
            match item {
                Item::Fatal(e) => {
                    result = Err(e);
                    break;
                }
                Item::Bad(r) => early.push(r),
                // All or nothing, and something was bad: only check the rest.
                Item::Entry(_) if all_or_nothing && !early.is_empty() => {}
                Item::Entry(p) => {
                    // Entries refused at write time go to the loader's `rejected`; an error
                    // here is the store's own and ends the import.
                    if let Err(e) = loader.add_prepared(p) {
                        result = Err(e.to_string());
                        break;
                    }
                }
            }
            progress.tick(loader.loaded, false);
            if early.len() >= 1000 {
                break;
            }
        }
        // Dropping the receiver stops the reader at its next record.
        drop(rx);
    });
    if all_or_nothing && !early.is_empty() && result.is_ok() {
        // All or nothing, and something was bad: write nothing more.
        drop(loader);
        dir.store.restore(savepoint).map_err(|e| e.to_string())?;
        progress.done();
        return Ok(ImportSummary {
            added: 0,
            rejected: early,
            secs: start.elapsed().as_secs_f64(),
            rolled_back: true,
        });
    }
    let (added, mut rejected) =
        match result.and_then(|_| loader.finish().map_err(|e| e.to_string())) {
            Ok(x) => x,
            Err(e) => {
                dir.store.restore(savepoint).map_err(|e| e.to_string())?;
                return Err(format!("import failed: {e}; nothing was imported"));
            }
        };
    progress.tick(added, true);
    progress.done();
    early.append(&mut rejected);
    let rolled_back = !early.is_empty() && all_or_nothing;
    if rolled_back {
        dir.store.restore(savepoint).map_err(|e| e.to_string())?;
    } else {
        dir.store.release(savepoint).map_err(|e| e.to_string())?;
    }
    Ok(ImportSummary {
        added: if rolled_back { 0 } else { added },
        rejected: early,
        secs: start.elapsed().as_secs_f64(),
        rolled_back,
    })
}

/// `ccdir import` keeps the operational attributes an export wrote.
const IMPORT: Origin = Origin::Import {
    keep_operational: true,
};

/// What the reading thread of an import hands to the writing one.
enum Item {
    /// A checked entry with its index keys.
    Entry(Prepared),
    /// A record that cannot be imported.
    Bad(Rejected),
    /// A file that cannot be read.
    Fatal(String),
}

/// Read the LDIF files, check each entry and compute its index keys (the reading thread).
fn read_and_check(
    dir: &Directory,
    files: &[PathBuf],
    opts: &ImportOptions,
    read: &Arc<AtomicU64>,
    tx: &std::sync::mpsc::SyncSender<Item>,
) {
    for path in files {
        let input = match open(path, read) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(Item::Fatal(e));
                return;
            }
        };
        let file = path.display().to_string();
        for rec in Reader::new(input, reader_options(path, opts)) {
            let item = match rec {
                Err(e) => Item::Bad(Rejected {
                    source: Source {
                        file: file.clone(),
                        line: e.line,
                    },
                    dn: String::new(),
                    error: crate::core::error::LdapError::protocol(e.message.clone()),
                }),
                Ok(Record::Change { dn, line, .. }) => Item::Bad(Rejected {
                    source: Source {
                        file: file.clone(),
                        line,
                    },
                    dn,
                    error: crate::core::error::LdapError::unwilling(
                        "change records cannot be imported; apply them with ldapmodify",
                    ),
                }),
                Ok(Record::Content { dn, attrs, line }) => {
                    let source = Source {
                        file: file.clone(),
                        line,
                    };
                    match prepare_entry(dir, IMPORT, &dn, attrs) {
                        Ok((dn, entry)) => {
                            let keys = encode_keys(&entry, dir.store.index_spec(), &dir.schema);
                            Item::Entry(Prepared {
                                dn,
                                entry,
                                source,
                                keys: Some(keys),
                            })
                        }
                        Err(error) => Item::Bad(Rejected { source, dn, error }),
                    }
                }
            };
            if tx.send(item).is_err() {
                return;
            }
        }
    }
}

/// Load LDIF from memory (the built-in sample directory) with the same checks.
pub(crate) fn import_bytes(dir: &Directory, name: &str, data: &[u8]) -> Result<u64, String> {
    let mut loader = BulkLoader::new(dir);
    for rec in Reader::new(data, ReaderOptions::default()) {
        match rec.map_err(|e| format!("{name}: {e}"))? {
            Record::Content { dn, attrs, line } => loader
                .add_from(
                    &dn,
                    attrs,
                    Source {
                        file: name.into(),
                        line,
                    },
                )
                .map_err(|e| match e {
                    AddError::Entry(e) => format!("{name}:{line}: {dn}: {}", e.message),
                    AddError::Store(e) => format!("{name}: {e}"),
                })?,
            Record::Change { line, .. } => {
                return Err(format!("{name}:{line}: change record in a content file"))
            }
        }
    }
    let (n, rejected) = loader.finish().map_err(|e| e.to_string())?;
    if let Some(r) = rejected.first() {
        return Err(format!(
            "{name}:{}: {}: {}",
            r.source.line, r.dn, r.error.message
        ));
    }
    Ok(n)
}

/// Write the directory (or the subtree at `base`) as LDIF from one consistent snapshot, parents
/// before children; with `operational`, the stored operational attributes too.
pub fn export(
    dir: &Directory,
    out: &mut dyn Write,
    base: Option<&str>,
    operational: bool,
) -> Result<u64, String> {
    let base = match base {
        Some(b) => dir.parse_dn(b).map_err(|e| e.message)?,
        None => dir.suffix.clone(),
    };
    let snap = dir.store.read().map_err(|e| e.to_string())?;
    export_from(&snap, out, &base, operational)
}

/// A backup: every entry with its operational attributes, from one snapshot, after a comment
/// that says when and at which changelog position it was taken (`ccdir restore` reads it back
/// with `ccdir import`, which skips comments).
pub fn backup(dir: &Directory) -> Result<(Vec<u8>, u64), String> {
    let snap = dir.store.read().map_err(|e| e.to_string())?;
    let last = snap
        .change_bounds()
        .map_err(|e| e.to_string())?
        .map_or(0, |(_, l)| l);
    let now = crate::core::clock::generalized_time(dir.clock.now());
    let mut out = format!(
        "# ccdir backup of {} taken {now}, lastChangeNumber {last}\n",
        dir.suffix.display()
    )
    .into_bytes();
    let n = export_from(&snap, &mut out, &dir.suffix, true)?;
    Ok((out, n))
}

fn export_from(
    snap: &crate::store::ReadSnap,
    out: &mut dyn Write,
    base: &crate::core::dn::Dn,
    operational: bool,
) -> Result<u64, String> {
    if snap.id_of(base).map_err(|e| e.to_string())?.is_none() {
        return Err(format!("no such entry: {}", base.display()));
    }
    let mut n = 0u64;
    let mut io_err: Option<std::io::Error> = None;
    let mut w = &mut *out;
    snap.scan_prefix::<StoreError>(&base.store_key(), None, &mut |_, id| {
        let Some(e) = snap.entry(id)? else {
            return Ok(true);
        };
        let e = canonical_order(e);
        let attrs = e
            .attrs
            .iter()
            .filter(|a| operational || !MAINTAINED.iter().any(|m| m.eq_ignore_ascii_case(&a.name)));
        if let Err(err) = ldif::write_entry(
            &mut w,
            &e.dn,
            attrs.map(|a| (a.name.as_str(), a.values.as_slice())),
        ) {
            io_err = Some(err);
            return Ok(false);
        }
        n += 1;
        Ok(true)
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = io_err {
        return Err(format!("write failed: {e}"));
    }
    w.flush().map_err(|e| format!("write failed: {e}"))?;
    Ok(n)
}
