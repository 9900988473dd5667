//! Index keys and the search planner. Indexes only narrow: the planner returns a superset of the
//! matching entry ids (or `None`, "cannot narrow"), and the full filter decides.

use super::StoreError;
use crate::core::entry::Entry;
use crate::core::filter::{Filter, SchemaDn};
use crate::core::schema::{Schema, OBJECT_CLASS_OID};
use std::collections::{BTreeSet, HashSet};

/// Which attributes have which indexes. Names are schema names in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSpec {
    pub(crate) eq: HashSet<String>,
    pub(crate) sub: HashSet<String>,
}

impl IndexSpec {
    pub(crate) fn new<'a>(
        eq: impl IntoIterator<Item = &'a str>,
        sub: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        IndexSpec {
            eq: eq.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
            sub: sub.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    /// A stable text form, stored in the meta table to detect a changed configuration. It
    /// starts with [`KEY_LAYOUT`], so that a version that computes other keys for the same
    /// values rebuilds the indexes of an existing database when it opens it.
    pub(crate) fn fingerprint(&self) -> String {
        let mut eq: Vec<_> = self.eq.iter().cloned().collect();
        eq.sort();
        let mut sub: Vec<_> = self.sub.iter().cloned().collect();
        sub.sort();
        format!(
            "keys={KEY_LAYOUT};eq={};sub={}",
            eq.join(","),
            sub.join(",")
        )
    }
}

/// The version of the keys [`for_each_key`] computes. Bump it whenever the keys of the same entry
/// change: the fingerprint changes with it and [`crate::store::Store::open`] rebuilds the indexes.
/// 1 (no marker in the fingerprint): values only. 2: objectClass equality keys also hold every
/// superclass of each class.
pub(crate) const KEY_LAYOUT: u32 = 2;

pub(crate) fn attr_prefix(name: &str) -> Vec<u8> {
    let mut k = name.to_ascii_lowercase().into_bytes();
    k.push(0);
    k
}

/// Anchors around a normalised value so that initial and final substrings index too.
const START: u8 = 0x02;
const END: u8 = 0x03;

/// The 3-grams of a normalised value, anchored at the given ends.
pub(crate) fn trigrams(norm: &[u8], anchor_start: bool, anchor_end: bool) -> Vec<[u8; 3]> {
    let mut v = Vec::with_capacity(norm.len() + 2);
    if anchor_start {
        v.push(START);
    }
    v.extend_from_slice(norm);
    if anchor_end {
        v.push(END);
    }
    let mut out: Vec<[u8; 3]> = v.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// All (eq keys, sub keys) of an entry under the spec.
pub(crate) fn entry_keys(
    e: &Entry,
    spec: &IndexSpec,
    schema: &Schema,
) -> (BTreeSet<Vec<u8>>, BTreeSet<Vec<u8>>) {
    let mut eq = BTreeSet::new();
    let mut sub = BTreeSet::new();
    for_each_key(e, spec, schema, &mut |is_sub, k| {
        let set = if is_sub { &mut sub } else { &mut eq };
        if !set.contains(k) {
            set.insert(k.to_vec());
        }
    });
    (eq, sub)
}

/// Visit every index key of an entry under the spec: `f(false, key)` for equality (and
/// presence) keys, `f(true, key)` for substring keys. A key may be visited more than once. One
/// scratch buffer serves all keys, so nothing is allocated per key.
pub fn for_each_key(e: &Entry, spec: &IndexSpec, schema: &Schema, f: &mut dyn FnMut(bool, &[u8])) {
    let dn = SchemaDn(schema);
    let mut key: Vec<u8> = Vec::with_capacity(64);
    let mut grams: Vec<u8> = Vec::with_capacity(64);
    let mut lower = String::with_capacity(32);
    // The object classes whose keys were visited.
    let mut classes: Vec<&str> = Vec::new();
    for a in &e.attrs {
        lower.clear();
        lower.push_str(a.base_name());
        lower.make_ascii_lowercase();
        let want_eq = spec.eq.contains(lower.as_str());
        let want_sub = spec.sub.contains(lower.as_str());
        if !want_eq && !want_sub {
            continue;
        }
        let Some(ty) = schema.attribute(&lower) else {
            continue;
        };
        let object_class = want_eq && ty.oid == OBJECT_CLASS_OID;
        key.clear();
        key.extend(ty.name().bytes().map(|b| b.to_ascii_lowercase()));
        key.push(0);
        let plen = key.len();
        for v in &a.values {
            if want_eq {
                key.truncate(plen);
                // Without a normal form the key still records presence.
                let norm = schema.normalize_value(ty, v, &dn);
                // An entry of a class is also an entry of each superclass (objectClass
                // equality matches them), so its keys name them too, each once.
                let closure = norm
                    .as_deref()
                    .filter(|_| object_class)
                    .and_then(|n| std::str::from_utf8(n).ok())
                    .and_then(|n| schema.class_closure(n));
                if let Some(closure) = closure {
                    for class in closure {
                        if !classes.contains(&class.as_str()) {
                            classes.push(class.as_str());
                            key.truncate(plen);
                            key.extend_from_slice(class.as_bytes());
                            f(false, &key);
                        }
                    }
                } else {
                    if let Some(n) = &norm {
                        key.extend_from_slice(n);
                    }
                    f(false, &key);
                }
            }
            if want_sub {
                if let Some(n) = ty.substr.and_then(|r| r.normalize(v)) {
                    grams.clear();
                    grams.push(START);
                    grams.extend_from_slice(&n);
                    grams.push(END);
                    for w in grams.windows(3) {
                        key.truncate(plen);
                        key.extend_from_slice(w);
                        f(true, &key);
                    }
                }
            }
        }
    }
}

/// An entry's index keys packed in one buffer (flag byte, 4-byte length, key; repeated), so that
/// a loader can compute them on another thread than the one writing.
pub(crate) fn encode_keys(e: &Entry, spec: &IndexSpec, schema: &Schema) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    for_each_key(e, spec, schema, &mut |is_sub, k| {
        out.push(u8::from(is_sub));
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k);
    });
    out
}

/// Visit the keys [`encode_keys`] packed.
pub(crate) fn decode_keys(mut packed: &[u8], f: &mut dyn FnMut(bool, &[u8])) {
    while packed.len() >= 5 {
        let is_sub = packed[0] != 0;
        let mut n = [0u8; 4];
        n.copy_from_slice(&packed[1..5]);
        let n = u32::from_le_bytes(n) as usize;
        let Some(k) = packed.get(5..5 + n) else {
            return;
        };
        f(is_sub, k);
        packed = &packed[5 + n..];
    }
}

/// What the planner needs from a read or write transaction.
pub trait IndexReader {
    /// Ids under one exact eq key.
    fn eq_ids(&self, key: &[u8]) -> Result<Vec<u64>, StoreError>;
    /// Ids under all eq keys in [from, to) (to = None: to the end of the prefix).
    fn eq_range_ids(
        &self,
        prefix: &[u8],
        from: &[u8],
        to: Option<&[u8]>,
    ) -> Result<Vec<u64>, StoreError>;
    fn sub_ids(&self, key: &[u8]) -> Result<Vec<u64>, StoreError>;
}

/// Above this many ids an index answer is not worth materialising for presence or ranges.
pub(crate) const MAX_RANGE_IDS: usize = 1 << 20;

/// Candidate ids for a filter (sorted, unique), or None when the indexes cannot narrow it.
pub fn candidates(
    f: &Filter,
    spec: &IndexSpec,
    r: &dyn IndexReader,
) -> Result<Option<Vec<u64>>, StoreError> {
    Ok(match f {
        Filter::And(fs) => {
            let mut acc: Option<Vec<u64>> = None;
            for x in fs {
                if let Some(ids) = candidates(x, spec, r)? {
                    acc = Some(match acc {
                        None => ids,
                        Some(a) => intersect(&a, &ids),
                    });
                    if acc.as_ref().is_some_and(|a| a.is_empty()) {
                        break;
                    }
                }
            }
            acc
        }
        Filter::Or(fs) => {
            let mut acc: Vec<u64> = Vec::new();
            for x in fs {
                match candidates(x, spec, r)? {
                    Some(ids) => acc = union(&acc, &ids),
                    None => return Ok(None),
                }
            }
            Some(acc)
        }
        Filter::Equality(attr, _, norm) => {
            let name = attr.ty.name().to_ascii_lowercase();
            if !spec.eq.contains(&name) || !only_type(attr, spec) {
                return Ok(None);
            }
            let mut k = attr_prefix(&name);
            k.extend_from_slice(norm);
            Some(r.eq_ids(&k)?)
        }
        Filter::Present(attr) => {
            let name = attr.ty.name().to_ascii_lowercase();
            if name == "objectclass" || !spec.eq.contains(&name) || !only_type(attr, spec) {
                return Ok(None);
            }
            let p = attr_prefix(&name);
            Some(r.eq_range_ids(&p, &p, None)?)
        }
        Filter::Ordering(attr, rule, norm, ge) => {
            let name = attr.ty.name().to_ascii_lowercase();
            if !spec.eq.contains(&name) || !only_type(attr, spec) {
                return Ok(None);
            }
            let p = attr_prefix(&name);
            // Byte order of the equality-normalised values equals the ordering only for some
            // rules; otherwise fall back to presence of the attribute.
            let eq_rule = attr.ty.equality;
            let sortable = rule.bytes_sortable()
                && eq_rule.is_some_and(|e| e.normalize(norm).as_deref() == Some(norm.as_slice()));
            if sortable {
                let mut bound = p.clone();
                bound.extend_from_slice(norm);
                if *ge {
                    Some(r.eq_range_ids(&p, &bound, None)?)
                } else {
                    // <= bound: keys up to and including bound.
                    let mut upto = bound.clone();
                    upto.push(0);
                    Some(r.eq_range_ids(&p, &p, Some(&upto))?)
                }
            } else {
                Some(r.eq_range_ids(&p, &p, None)?)
            }
        }
        Filter::Substring {
            attr,
            rule,
            initial,
            any,
            final_,
        } => {
            let name = attr.ty.name().to_ascii_lowercase();
            if !spec.sub.contains(&name) || !only_type(attr, spec) {
                return Ok(None);
            }
            let mut grams: Vec<[u8; 3]> = Vec::new();
            if let Some(i) = initial {
                if let Some(n) = rule.normalize(i) {
                    grams.extend(trigrams(&n, true, false));
                }
            }
            for a in any {
                if let Some(n) = rule.normalize(a) {
                    grams.extend(trigrams(&n, false, false));
                }
            }
            if let Some(fi) = final_ {
                if let Some(n) = rule.normalize(fi) {
                    grams.extend(trigrams(&n, false, true));
                }
            }
            grams.sort_unstable();
            grams.dedup();
            if grams.is_empty() {
                return Ok(None);
            }
            let p = attr_prefix(&name);
            let mut acc: Option<Vec<u64>> = None;
            for g in grams {
                let mut k = p.clone();
                k.extend_from_slice(&g);
                let ids = r.sub_ids(&k)?;
                acc = Some(match acc {
                    None => ids,
                    Some(a) => intersect(&a, &ids),
                });
                if acc.as_ref().is_some_and(|a| a.is_empty()) {
                    break;
                }
            }
            acc
        }
        Filter::Undefined => Some(Vec::new()),
        Filter::Not(_) | Filter::Approx(..) | Filter::Extensible { .. } => None,
    })
}

/// The index only covers the named type itself; a filter on a supertype (`name`) also matches its
/// subtypes, which may not be indexed, so such items do not narrow.
fn only_type(attr: &crate::core::filter::AttrSel, _spec: &IndexSpec) -> bool {
    attr.covers_only_itself()
}

pub(crate) fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

pub(crate) fn union(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i] < b[j]) {
            out.push(a[i]);
            i += 1;
        } else if i >= a.len() || b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_ops() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 5]), vec![3, 5]);
        assert_eq!(union(&[1, 3, 5], &[2, 3, 6]), vec![1, 2, 3, 5, 6]);
        assert_eq!(union(&[], &[2]), vec![2]);
    }

    #[test]
    fn object_class_keys_hold_the_superclasses() {
        let schema = Schema::builtin().unwrap();
        let spec = IndexSpec::new(["objectClass", "cn"], []);
        let mut e = Entry::new("cn=x,dc=example");
        e.set(
            "objectClass",
            vec![b"inetOrgPerson".to_vec(), b"cctldContact".to_vec()],
        );
        e.set("cn", vec![b"Person".to_vec()]);
        let mut visited: Vec<Vec<u8>> = Vec::new();
        for_each_key(&e, &spec, &schema, &mut |_, k| visited.push(k.to_vec()));
        let oc = |c: &str| [attr_prefix("objectClass"), c.as_bytes().to_vec()].concat();
        let mut want: Vec<Vec<u8>> = [
            "inetorgperson",
            "organizationalperson",
            "person",
            "top",
            "cctldcontact",
        ]
        .iter()
        .map(|c| oc(c))
        .collect();
        want.push([attr_prefix("cn"), b"person".to_vec()].concat());
        // Each class once, although both classes derive from top.
        assert_eq!(visited, want);
        // Another attribute with the same value is not widened.
        let (eq, _) = entry_keys(&e, &spec, &schema);
        assert_eq!(eq.len(), 6);
        // An unknown class (schema files removed) still gets its key.
        e.set("objectClass", vec![b"1.2.3.4".to_vec()]);
        let (eq, _) = entry_keys(&e, &spec, &schema);
        assert!(eq.contains(&oc("1.2.3.4")));
    }

    #[test]
    fn the_fingerprint_names_the_key_layout() {
        let spec = IndexSpec::new(["objectClass"], ["cn"]);
        assert_eq!(
            spec.fingerprint(),
            format!("keys={KEY_LAYOUT};eq=objectclass;sub=cn")
        );
        // Databases written before the marker (layout 1) have a fingerprint without it, so they
        // are reindexed when opened.
        const { assert!(KEY_LAYOUT >= 2) };
    }

    #[test]
    fn a_database_with_layout_1_keys_gets_the_superclass_keys_when_opened() {
        use crate::core::dn::Dn;
        use crate::core::entry::CheckedEntry;
        use crate::store::tables::{EQ_INDEX, META, META_INDEX_SPEC, ROOT_ID};
        use crate::store::{postings, Store};
        use redb::{Database, ReadableDatabase, ReadableTableMetadata};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.redb");
        let schema = Arc::new(Schema::builtin().unwrap());
        let spec = IndexSpec::new(["objectClass"], []);
        let open = || Store::open(&path, schema.clone(), spec.clone(), 8 << 20).unwrap();
        let mut e = Entry::new("cn=x");
        e.set(
            "objectClass",
            vec![b"inetOrgPerson".to_vec(), b"cctldContact".to_vec()],
        );
        let dn = Dn::parse("cn=x", &schema).unwrap();
        let id = open()
            .write(|w| w.insert(ROOT_ID, &dn, &CheckedEntry::certified(e.clone())))
            .unwrap();
        // What an earlier version wrote: the fingerprint without a layout marker and one key
        // per value.
        {
            let db = Database::create(&path).unwrap();
            let w = db.begin_write().unwrap();
            {
                let mut meta = w.open_table(META).unwrap();
                meta.insert(META_INDEX_SPEC, b"eq=objectclass;sub=".as_slice())
                    .unwrap();
                let mut eq = w.open_table(EQ_INDEX).unwrap();
                eq.retain(|_, _| false).unwrap();
                for class in ["inetorgperson", "cctldcontact"] {
                    let k = [attr_prefix("objectClass"), class.as_bytes().to_vec()].concat();
                    postings::insert(&mut eq, &k, id).unwrap();
                }
            }
            w.commit().unwrap();
            let r = db.begin_read().unwrap();
            let eq = r.open_table(EQ_INDEX).unwrap();
            assert_eq!(eq.len().unwrap(), 2);
        }
        let store = open();
        let snap = store.read().unwrap();
        for class in ["person", "organizationalperson", "top", "cctldcontact"] {
            let k = [attr_prefix("objectClass"), class.as_bytes().to_vec()].concat();
            assert_eq!(snap.eq_ids(&k).unwrap(), vec![id], "{class}");
        }
    }

    #[test]
    fn anchored_trigrams() {
        let t = trigrams(b"abcd", true, true);
        assert!(t.contains(&[START, b'a', b'b']));
        assert!(t.contains(&[b'c', b'd', END]));
        assert_eq!(trigrams(b"ab", false, false), Vec::<[u8; 3]>::new());
    }
}
