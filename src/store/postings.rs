//! Posting lists: the entry ids under one index key, stored as sorted chunks of up to
//! [`MAX_CHUNK`] ids in ordinary redb values, so that reading a list of a thousand ids costs a
//! few B-tree reads instead of a thousand.
//!
//! Layout: the index key is escaped (0x00 -> 0x00 0xFF) and terminated with 0x00 0x00, then
//! followed by the chunk's first id (8 bytes big-endian, the chunk's base). Escaping keeps the
//! byte order of index keys and makes one list's chunks a contiguous key range that no other
//! list's keys fall into. Chunk values are each id's offset from the base as a little-endian u32
//! (a chunk never spans more than 2^32 ids).
//!
//! Chunks are small (at most 1 KiB) because every insert rewrites one: with redb's copy-on-write
//! pages, a chunk that fits a few to a page keeps an add to one 4 KiB leaf per index key. Ids
//! grow, so most inserts are appends: a full last chunk is left full and the new id starts the
//! next one, which keeps the rewritten tail small and every other chunk full.

use redb::{ReadableTable, Table};

/// Most ids in one chunk; a fuller chunk splits in two.
pub(crate) const MAX_CHUNK: usize = 256;

pub(crate) type Result<T> = std::result::Result<T, redb::Error>;

/// The order-preserving escape of an index key (or key prefix).
pub(crate) fn escape(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 10);
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xff);
        }
    }
    out
}

/// The common prefix of all chunk keys of one list.
pub(crate) fn list_prefix(index_key: &[u8]) -> Vec<u8> {
    let mut p = escape(index_key);
    p.extend_from_slice(&[0, 0]);
    p
}

fn chunk_key(prefix: &[u8], first: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 8);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&first.to_be_bytes());
    k
}

/// The base id of a chunk: the last 8 bytes of its key.
fn base_of(chunk_key: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    if let Some(tail) = chunk_key.len().checked_sub(8).map(|i| &chunk_key[i..]) {
        a.copy_from_slice(tail);
    }
    u64::from_be_bytes(a)
}

/// Append the ids of the chunk stored under `chunk_key` with value `v` to `out`.
pub(crate) fn decode(chunk_key: &[u8], v: &[u8], out: &mut Vec<u64>) {
    let base = base_of(chunk_key);
    out.reserve(v.len() / 4);
    for c in v.chunks_exact(4) {
        let mut a = [0u8; 4];
        a.copy_from_slice(c);
        out.push(base.saturating_add(u64::from(u32::from_le_bytes(a))));
    }
}

/// Encode `ids` (sorted, all within 2^32 of `ids[0]`) as offsets from `ids[0]`.
fn encode(ids: &[u64]) -> Vec<u8> {
    let base = ids.first().copied().unwrap_or(0);
    let mut v = Vec::with_capacity(ids.len() * 4);
    for id in ids {
        v.extend_from_slice(&((id - base) as u32).to_le_bytes());
    }
    v
}

/// Split sorted ids into chunks: at most [`MAX_CHUNK`] ids, spanning less than 2^32.
fn chunks(mut ids: &[u64]) -> impl Iterator<Item = &[u64]> {
    std::iter::from_fn(move || {
        let first = *ids.first()?;
        let mut n = ids.len().min(MAX_CHUNK);
        if ids[n - 1] - first > u64::from(u32::MAX) {
            n = ids[..n].partition_point(|&id| id - first <= u64::from(u32::MAX));
        }
        let (part, rest) = ids.split_at(n);
        ids = rest;
        Some(part)
    })
}

/// All ids of one list, sorted.
pub(crate) fn read<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    index_key: &[u8],
) -> Result<Vec<u64>> {
    let p = list_prefix(index_key);
    let mut out = Vec::new();
    for row in t.range::<&[u8]>(p.as_slice()..)? {
        let (k, v) = row?;
        if !k.value().starts_with(&p) {
            break;
        }
        decode(k.value(), v.value(), &mut out);
    }
    Ok(out)
}

/// Ids of every list whose index key starts with `key_prefix` and lies in [from, to), sorted and
/// unique, stopping after about `cap` ids.
pub(crate) fn read_range<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    key_prefix: &[u8],
    from: &[u8],
    to: Option<&[u8]>,
    cap: usize,
) -> Result<Vec<u64>> {
    let p = escape(key_prefix);
    let start = escape(from);
    let end = to.map(escape);
    let mut out = Vec::new();
    for row in t.range::<&[u8]>(start.as_slice()..)? {
        let (k, v) = row?;
        let key = k.value();
        if !key.starts_with(&p) || end.as_deref().is_some_and(|e| key >= e) {
            break;
        }
        decode(key, v.value(), &mut out);
        if out.len() > cap {
            break;
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The chunk that holds (or would hold) `id`: the last chunk starting at or before it, else the
/// list's first chunk. Returns its key and ids.
fn find_chunk(
    t: &Table<'_, &'static [u8], &'static [u8]>,
    p: &[u8],
    id: u64,
) -> Result<Option<(Vec<u8>, Vec<u64>)>> {
    let probe = chunk_key(p, id);
    if let Some(row) = t.range::<&[u8]>(p..=probe.as_slice())?.next_back() {
        let (k, v) = row?;
        let mut ids = Vec::new();
        decode(k.value(), v.value(), &mut ids);
        return Ok(Some((k.value().to_vec(), ids)));
    }
    if let Some(row) = t.range::<&[u8]>(p..)?.next() {
        let (k, v) = row?;
        if k.value().starts_with(p) {
            let mut ids = Vec::new();
            decode(k.value(), v.value(), &mut ids);
            return Ok(Some((k.value().to_vec(), ids)));
        }
    }
    Ok(None)
}

/// Store `ids` (sorted, non-empty) as the chunk that was at `old_key`, re-keying and splitting
/// as needed.
fn put(
    t: &mut Table<'_, &'static [u8], &'static [u8]>,
    p: &[u8],
    old_key: Option<&[u8]>,
    ids: &[u64],
) -> Result<()> {
    if let Some(k) = old_key {
        if ids.is_empty() || chunk_key(p, ids[0]) != k {
            t.remove(k)?;
        }
    }
    for part in chunks(ids) {
        t.insert(chunk_key(p, part[0]).as_slice(), encode(part).as_slice())?;
    }
    Ok(())
}

pub(crate) fn insert(
    t: &mut Table<'_, &'static [u8], &'static [u8]>,
    index_key: &[u8],
    id: u64,
) -> Result<()> {
    let p = list_prefix(index_key);
    match find_chunk(t, &p, id)? {
        Some((k, mut ids)) => {
            if let Err(pos) = ids.binary_search(&id) {
                if pos == ids.len() && ids.len() >= MAX_CHUNK {
                    // An append to a full chunk starts the next one.
                    return put(t, &p, None, &[id]);
                }
                ids.insert(pos, id);
                if ids.len() > MAX_CHUNK || ids[ids.len() - 1] - ids[0] > u64::from(u32::MAX) {
                    // An insert into a full chunk splits it in halves.
                    let right = ids.split_off(ids.len() / 2);
                    put(t, &p, Some(&k), &ids)?;
                    put(t, &p, None, &right)?;
                } else {
                    put(t, &p, Some(&k), &ids)?;
                }
            }
        }
        None => put(t, &p, None, &[id])?,
    }
    Ok(())
}

/// Append many ids to one list (bulk loads: ids larger than any already in the list go to the
/// last chunk without searching).
pub(crate) fn insert_many(
    t: &mut Table<'_, &'static [u8], &'static [u8]>,
    index_key: &[u8],
    ids: &[u64],
) -> Result<()> {
    let p = list_prefix(index_key);
    let Some(&first) = ids.first() else {
        return Ok(());
    };
    let last_chunk = {
        let mut end = p.clone();
        end.extend_from_slice(&[0xff; 8]);
        match t.range::<&[u8]>(p.as_slice()..=end.as_slice())?.next_back() {
            Some(row) => {
                let (k, v) = row?;
                let mut cur = Vec::new();
                decode(k.value(), v.value(), &mut cur);
                Some((k.value().to_vec(), cur))
            }
            None => None,
        }
    };
    match last_chunk {
        Some((k, mut cur))
            if cur.last().is_none_or(|&l| l < first) && ids.windows(2).all(|w| w[0] < w[1]) =>
        {
            cur.extend_from_slice(ids);
            put(t, &p, Some(&k), &cur)
        }
        None if ids.windows(2).all(|w| w[0] < w[1]) => put(t, &p, None, ids),
        _ => {
            for &id in ids {
                insert(t, index_key, id)?;
            }
            Ok(())
        }
    }
}

pub(crate) fn remove(
    t: &mut Table<'_, &'static [u8], &'static [u8]>,
    index_key: &[u8],
    id: u64,
) -> Result<()> {
    let p = list_prefix(index_key);
    if let Some((k, mut ids)) = find_chunk(t, &p, id)? {
        if let Ok(pos) = ids.binary_search(&id) {
            ids.remove(pos);
            if ids.is_empty() {
                t.remove(k.as_slice())?;
            } else {
                put(t, &p, Some(&k), &ids)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, TableDefinition};

    const T: TableDefinition<&[u8], &[u8]> = TableDefinition::new("t");

    #[test]
    fn escaping_keeps_order_and_separates_lists() {
        let keys: Vec<&[u8]> = vec![b"a", b"a\x00", b"a\x00\x05", b"a\x01", b"ab", b"b"];
        let mut esc: Vec<Vec<u8>> = keys.iter().map(|k| list_prefix(k)).collect();
        let sorted = esc.clone();
        esc.sort();
        assert_eq!(esc, sorted);
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                if i != j {
                    assert!(!b.starts_with(a), "{a:?} {b:?}");
                }
            }
        }
    }

    fn chunk_sizes(t: &Table<'_, &'static [u8], &'static [u8]>, index_key: &[u8]) -> Vec<usize> {
        let p = list_prefix(index_key);
        t.range::<&[u8]>(p.as_slice()..)
            .unwrap()
            .map(|r| r.unwrap())
            .take_while(|(k, _)| k.value().starts_with(&p))
            .map(|(_, v)| v.value().len() / 4)
            .collect()
    }

    #[test]
    fn appends_fill_chunks_and_far_apart_ids_get_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("p.redb")).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut t = w.open_table(T).unwrap();
            for id in 1..=(2 * MAX_CHUNK as u64 + 3) {
                insert(&mut t, b"k", id).unwrap();
            }
            // Appends leave every chunk but the last full.
            assert_eq!(chunk_sizes(&t, b"k"), vec![MAX_CHUNK, MAX_CHUNK, 3]);
            // Ids more than 2^32 apart cannot share a chunk, however they arrive.
            let far = [5u64, 1 << 32, (1 << 32) + 6, u64::MAX - 1, 1 << 40];
            for id in far {
                insert(&mut t, b"far", id).unwrap();
            }
            insert_many(&mut t, b"bulk", &[3, 4, 1 << 33, (1 << 33) + 1]).unwrap();
            insert_many(&mut t, b"bulk", &[u64::MAX]).unwrap();
            let mut want = far.to_vec();
            want.sort_unstable();
            assert_eq!(read(&t, b"far").unwrap(), want);
            assert_eq!(
                read(&t, b"bulk").unwrap(),
                vec![3, 4, 1 << 33, (1 << 33) + 1, u64::MAX]
            );
            remove(&mut t, b"far", 1 << 32).unwrap();
            want.retain(|&i| i != 1 << 32);
            assert_eq!(read(&t, b"far").unwrap(), want);
        }
        w.commit().unwrap();
    }

    #[test]
    fn insert_remove_read_against_a_model() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("p.redb")).unwrap();
        let w = db.begin_write().unwrap();
        let mut model: std::collections::BTreeMap<Vec<u8>, std::collections::BTreeSet<u64>> =
            Default::default();
        {
            let mut t = w.open_table(T).unwrap();
            let keys: Vec<Vec<u8>> = vec![
                b"cn\x00ann".to_vec(),
                b"cn\x00an".to_vec(),
                b"cn\x00".to_vec(),
                b"cn\x00ann\x00x".to_vec(),
            ];
            let mut x: u64 = 12345;
            for step in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = &keys[(x % keys.len() as u64) as usize];
                let id = (x >> 8) % 5000;
                if step % 3 == 2 {
                    remove(&mut t, k, id).unwrap();
                    model.entry(k.clone()).or_default().remove(&id);
                } else {
                    insert(&mut t, k, id).unwrap();
                    model.entry(k.clone()).or_default().insert(id);
                }
            }
            insert_many(&mut t, b"cn\x00ann", &[6000, 6001, 6002]).unwrap();
            model
                .entry(b"cn\x00ann".to_vec())
                .or_default()
                .extend([6000, 6001, 6002]);
            for (k, ids) in &model {
                assert_eq!(
                    read(&t, k).unwrap(),
                    ids.iter().copied().collect::<Vec<_>>()
                );
            }
            let all: std::collections::BTreeSet<u64> = model.values().flatten().copied().collect();
            assert_eq!(
                read_range(&t, b"cn\x00", b"cn\x00", None, usize::MAX).unwrap(),
                all.into_iter().collect::<Vec<_>>()
            );
            // [an, ann] inclusive: lists "an" and "ann", not "ann\0x".
            let want: std::collections::BTreeSet<u64> = model[&b"cn\x00an".to_vec()]
                .iter()
                .chain(&model[&b"cn\x00ann".to_vec()])
                .copied()
                .collect();
            let got = read_range(
                &t,
                b"cn\x00",
                b"cn\x00an",
                Some(b"cn\x00ann\x00"),
                usize::MAX,
            )
            .unwrap();
            assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        }
        w.commit().unwrap();
    }
}
