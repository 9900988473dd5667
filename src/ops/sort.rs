//! Server-side sorting (RFC 2891) and the virtual list view window
//! (draft-ietf-ldapext-ldapv3-vlv-09) over the entries a search matched.
//!
//! Each matched entry is reduced to its sort keys (one normalised value per key) and its id; the
//! entries themselves are read again only for the part of the sorted list that is returned.
//!
//! Choices where the RFC leaves room (docs/clients/controls.md says the same):
//! - An attribute without an ORDERING rule (cn, sn, mail, ...) is ordered by its equality rule's
//!   normalised form (case-folded, spaces compressed), which is what users expect of a name list.
//! - Of several values, the lowest is the key when sorting ascending, the highest descending.
//! - Entries without the attribute (or whose value the requester may not read) come last, in
//!   both directions.

use super::controls::{SortKey, SortRequest, VlvRequest, VlvTarget, MAX_SORT_KEYS};
use crate::core::entry::Entry;
use crate::core::filter::AttrSel;
use crate::core::schema::matching::OrderingRule;
use crate::service::Directory;
use crate::write::values::norm_value;
use std::cmp::Ordering;

/// Result codes of the sort response control (RFC 2891 1.2).
pub(crate) const NO_SUCH_ATTRIBUTE: u32 = 16;
pub(crate) const INAPPROPRIATE_MATCHING: u32 = 18;
pub(crate) const UNWILLING: u32 = 53;
pub(crate) const ADMIN_LIMIT: u32 = 11;

/// Result codes of the VLV response control.
pub(crate) const VLV_SORT_MISSING: u32 = 60;
pub(crate) const VLV_OFFSET_RANGE: u32 = 61;

/// Why a sort request cannot be honoured: the sort result code and the offending attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortRefusal {
    pub(crate) code: u32,
    pub(crate) attr: Option<String>,
}

enum Compare {
    /// The attribute's (or the requested) ordering rule.
    Ordering(OrderingRule),
    /// Normalised bytes of the equality rule.
    Bytes,
}

struct Key {
    sel: AttrSel,
    cmp: Compare,
    reverse: bool,
}

/// A sort request resolved against the schema.
pub(crate) struct Sorter {
    keys: Vec<Key>,
}

/// One matched entry: its sort keys and its id.
pub(crate) struct Sorted {
    pub(crate) keys: Vec<Option<Vec<u8>>>,
    pub(crate) id: u64,
}

impl Sorter {
    pub(crate) fn new(req: &SortRequest, dir: &Directory) -> Result<Sorter, SortRefusal> {
        if req.keys.len() > MAX_SORT_KEYS {
            return Err(SortRefusal {
                code: UNWILLING,
                attr: None,
            });
        }
        let mut keys: Vec<Key> = Vec::with_capacity(req.keys.len());
        for SortKey {
            attr,
            ordering_rule,
            reverse,
        } in &req.keys
        {
            let refuse = |code| SortRefusal {
                code,
                attr: Some(attr.clone()),
            };
            let sel = AttrSel::new(attr, &dir.schema).ok_or_else(|| refuse(NO_SUCH_ATTRIBUTE))?;
            if keys.iter().any(|k| k.sel.ty.oid == sel.ty.oid) {
                // RFC 2891 1.1: an attribute given twice is unwillingToPerform.
                return Err(refuse(UNWILLING));
            }
            let cmp = match ordering_rule {
                Some(r) => {
                    let rule = OrderingRule::from_name_or_oid(r)
                        .ok_or_else(|| refuse(INAPPROPRIATE_MATCHING))?;
                    // The rule must order values of the attribute's equality.
                    if sel.ty.equality != Some(rule.equality()) {
                        return Err(refuse(INAPPROPRIATE_MATCHING));
                    }
                    Compare::Ordering(rule)
                }
                None => match (sel.ty.ordering, sel.ty.equality) {
                    (Some(rule), _) => Compare::Ordering(rule),
                    (None, Some(_)) => Compare::Bytes,
                    (None, None) => return Err(refuse(INAPPROPRIATE_MATCHING)),
                },
            };
            keys.push(Key {
                sel,
                cmp,
                reverse: *reverse,
            });
        }
        Ok(Sorter { keys })
    }

    /// The sort keys of an entry; values of `unreadable` attributes count as absent.
    pub(crate) fn keys_of(
        &self,
        dir: &Directory,
        e: &Entry,
        unreadable: &[String],
    ) -> Vec<Option<Vec<u8>>> {
        self.keys
            .iter()
            .map(|k| {
                if unreadable
                    .iter()
                    .any(|u| u.eq_ignore_ascii_case(k.sel.ty.name()))
                {
                    return None;
                }
                let mut best: Option<Vec<u8>> = None;
                for v in k.sel.values(e) {
                    let Some(n) = norm_value(dir, &k.sel.ty, v) else {
                        continue;
                    };
                    let better = match &best {
                        None => true,
                        Some(b) => {
                            let o = k.compare(&n, b);
                            if k.reverse {
                                o == Ordering::Greater
                            } else {
                                o == Ordering::Less
                            }
                        }
                    };
                    if better {
                        best = Some(n);
                    }
                }
                best
            })
            .collect()
    }

    /// Order two entries' keys.
    pub(crate) fn compare(&self, a: &[Option<Vec<u8>>], b: &[Option<Vec<u8>>]) -> Ordering {
        for (k, (x, y)) in self.keys.iter().zip(a.iter().zip(b)) {
            let o = match (x, y) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = k.compare(x, y);
                    if k.reverse {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Sort the matched entries; ties keep their id order, so the result is stable across
    /// requests (a VLV client scrolling page by page sees no entry twice).
    pub(crate) fn sort(&self, list: &mut [Sorted]) {
        list.sort_by(|a, b| self.compare(&a.keys, &b.keys).then(a.id.cmp(&b.id)));
    }

    /// 0-based index of the first entry whose first key is at least `value` (in the key's
    /// direction); `list.len()` when there is none.
    pub(crate) fn first_at_least(&self, dir: &Directory, list: &[Sorted], value: &[u8]) -> usize {
        let Some(k) = self.keys.first() else {
            return 0;
        };
        let Some(want) = norm_value(dir, &k.sel.ty, value) else {
            return list.len();
        };
        list.partition_point(|s| match s.keys.first() {
            None | Some(None) => false,
            Some(Some(v)) => {
                let o = k.compare(v, &want);
                if k.reverse {
                    o == Ordering::Greater
                } else {
                    o == Ordering::Less
                }
            }
        })
    }
}

impl Key {
    fn compare(&self, a: &[u8], b: &[u8]) -> Ordering {
        match &self.cmp {
            Compare::Ordering(r) => r.compare(a, b).unwrap_or_else(|| a.cmp(b)),
            Compare::Bytes => a.cmp(b),
        }
    }
}

/// The part of a sorted list of `count` entries a VLV request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// 1-based position of the target entry (count + 1 when it lies past the end).
    pub(crate) target: usize,
    /// 0-based range of entries to return.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Where the window lies, or the VLV result code when the offset is out of range.
/// `ge_index` is the index `Sorter::first_at_least` found, for a greaterThanOrEqual target.
pub(crate) fn window(
    req: &VlvRequest,
    count: usize,
    ge_index: Option<usize>,
) -> Result<Window, u32> {
    let target = match (&req.target, ge_index) {
        (_, Some(i)) => i + 1,
        (
            VlvTarget::ByOffset {
                offset,
                content_count,
            },
            None,
        ) => {
            let offset = usize::try_from(*offset).unwrap_or(usize::MAX);
            let content_count = usize::try_from(*content_count).unwrap_or(usize::MAX);
            if offset == 0 {
                return Err(VLV_OFFSET_RANGE);
            }
            if count == 0 {
                // An empty list: the target is the (absent) first entry.
                1
            } else if content_count == 0 || content_count == count {
                offset.min(count)
            } else if offset >= content_count {
                count
            } else {
                // Scale the client's estimate to the real size (draft section 5), rounding
                // so that offset 1 stays the first entry.
                let scaled = (offset as u128 * count as u128).div_ceil(content_count as u128);
                (scaled as usize).clamp(1, count)
            }
        }
        (VlvTarget::GreaterOrEqual(_), None) => count + 1,
    };
    let before = usize::try_from(req.before).unwrap_or(usize::MAX);
    let after = usize::try_from(req.after).unwrap_or(usize::MAX);
    let idx = target - 1;
    let start = idx.saturating_sub(before);
    let end = idx.saturating_add(after).saturating_add(1).min(count);
    Ok(Window {
        target,
        start: start.min(count),
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vlv(before: i64, after: i64, offset: i64, content_count: i64) -> VlvRequest {
        VlvRequest {
            before,
            after,
            target: VlvTarget::ByOffset {
                offset,
                content_count,
            },
            context_id: None,
            critical: false,
        }
    }

    #[test]
    fn windows_by_offset() {
        let w = |b, a, o, c, n| window(&vlv(b, a, o, c), n, None);
        // The first page: offset 1, 0 before, 9 after.
        assert_eq!(
            w(0, 9, 1, 0, 100),
            Ok(Window {
                target: 1,
                start: 0,
                end: 10
            })
        );
        // Centred on 50.
        assert_eq!(
            w(2, 2, 50, 100, 100),
            Ok(Window {
                target: 50,
                start: 47,
                end: 52
            })
        );
        // Past the end: the last entry.
        assert_eq!(
            w(3, 3, 500, 0, 100),
            Ok(Window {
                target: 100,
                start: 96,
                end: 100
            })
        );
        // The client thinks there are 200: offset 100 of 200 is the middle of 100.
        assert_eq!(w(0, 0, 100, 200, 100).unwrap().target, 50);
        assert_eq!(w(0, 0, 1, 200, 100).unwrap().target, 1);
        assert_eq!(w(0, 0, 200, 200, 100).unwrap().target, 100);
        // Offset 0 is out of range.
        assert_eq!(w(0, 0, 0, 0, 100), Err(VLV_OFFSET_RANGE));
        // An empty list.
        assert_eq!(
            w(5, 5, 1, 0, 0),
            Ok(Window {
                target: 1,
                start: 0,
                end: 0
            })
        );
        // Huge counts do not overflow.
        assert_eq!(
            w(i64::MAX, i64::MAX, 1, 0, 10),
            Ok(Window {
                target: 1,
                start: 0,
                end: 10
            })
        );
    }

    #[test]
    fn windows_by_value() {
        let mut r = vlv(1, 1, 1, 0);
        r.target = VlvTarget::GreaterOrEqual(b"m".to_vec());
        assert_eq!(
            window(&r, 10, Some(4)),
            Ok(Window {
                target: 5,
                start: 3,
                end: 6
            })
        );
        // Beyond the end: only the entries before.
        assert_eq!(
            window(&r, 10, Some(10)),
            Ok(Window {
                target: 11,
                start: 9,
                end: 10
            })
        );
    }
}
