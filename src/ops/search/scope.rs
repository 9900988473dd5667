//! The walk over a search's scope: base, one level or subtree, narrowed by the index
//! candidates (the plan), each entry tested against the full filter and the access rules, and
//! sent or (for a sorted search) collected.

use super::super::controls::{
    paged_response, sort_response, vlv_response, RequestControls, VlvTarget,
};
use super::super::project::{access_view, add_computed, project, Computed, Selection};
use super::super::readback::check_assertion;
use super::super::sort::{self, Sorted, Sorter};
use super::paging::{encode_cookie, Position};
use super::SearchEnd;
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::{success, LdapError};
use crate::core::filter::{Filter, Tri};
use crate::service::Directory;
use crate::store::index::candidates;
use crate::store::{ReadSnap, View};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{LdapFilter, LdapResultCode, LdapSearchResultEntry, LdapSearchScope};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Debug)]
pub(super) enum Stop {
    Abandoned,
    ClientGone,
    SizeLimit,
    TimeLimit,
    PageFull,
    /// More matches than a sorted search may hold.
    SortLimit,
}

pub(super) struct Run<'a, 'e> {
    pub(super) dir: &'a Directory,
    pub(super) acl: Checker<'a>,
    pub(super) filter_types: Vec<String>,
    pub(super) snap: &'a ReadSnap,
    pub(super) filter: &'a Filter,
    pub(super) sel: &'a Selection,
    pub(super) typesonly: bool,
    pub(super) cancel: &'a AtomicBool,
    pub(super) deadline: Option<Instant>,
    pub(super) size_limit: Option<u64>,
    pub(super) page_size: Option<u64>,
    pub(super) sent: u64,
    pub(super) examined: u64,
    pub(super) last: Option<Position>,
    pub(super) stop: Option<Stop>,
    pub(super) computed: Computed,
    /// Sorting: matches are collected here instead of being sent.
    pub(super) sorter: Option<&'a Sorter>,
    pub(super) collected: Vec<Sorted>,
    pub(super) sort_limit: usize,
    pub(super) emit: &'e mut dyn FnMut(LdapSearchResultEntry) -> bool,
    /// The time the search reads the data at (the derived verification status).
    pub(super) now: time::OffsetDateTime,
    /// Where the entries returned are logged (`audit.log_reads`), or None.
    pub(super) reads: Option<crate::service::read_log::ReadLog<'a>>,
}

impl Run<'_, '_> {
    /// Scan a subtree by DN key; false when the search must stop.
    fn scan_subtree(
        &mut self,
        prefix: &[u8],
        skip: Option<u64>,
        resume: Option<&Position>,
    ) -> Result<bool, LdapError> {
        let after = match resume {
            Some(Position::Key(k)) => Some(k.as_slice()),
            _ => None,
        };
        let mut ok = true;
        let snap = self.snap;
        snap.scan_prefix::<LdapError>(prefix, after, &mut |key, id| {
            if Some(id) == skip {
                return Ok(true);
            }
            ok = self.visit(id, key, Some(Position::Key(key.to_vec())))?;
            Ok(ok)
        })?;
        Ok(ok)
    }

    /// Visit an id in id order; false when the search must stop.
    fn visit_id(
        &mut self,
        id: u64,
        key: &[u8],
        resume: Option<&Position>,
    ) -> Result<bool, LdapError> {
        if let Some(Position::Id(last)) = resume {
            if id <= *last {
                return Ok(true);
            }
        }
        self.visit(id, key, Some(Position::Id(id)))
    }

    /// Checks shared by every visit: abandon and the time limit. False when the search must stop.
    fn keep_going(&mut self) -> bool {
        if self.cancel.load(Ordering::Relaxed) {
            self.stop = Some(Stop::Abandoned);
            return false;
        }
        self.examined += 1;
        if let Some(d) = self.deadline {
            if self.examined % 64 == 0 && Instant::now() > d {
                self.stop = Some(Stop::TimeLimit);
                return false;
            }
        }
        true
    }

    /// The entry, with its computed attributes and the attributes the requester may not read,
    /// if it matches the filter and the requester may see it.
    fn matching(&mut self, id: u64, key: &[u8]) -> Result<Option<(Entry, Vec<String>)>, LdapError> {
        let Some(mut e) = self.snap.entry(id)? else {
            return Ok(None);
        };
        let schema = &*self.dir.schema;
        // Access: the entry must be searchable; attributes below search are hidden (filter
        // items on them are Undefined), attributes below read are not returned.
        let Some((hidden, unreadable)) = access_view(&self.acl, key, &e, &self.filter_types) else {
            return Ok(None);
        };
        add_computed(self.dir, &mut e, self.snap, id, self.computed, &unreadable)?;
        crate::freshness::derive_status(&mut e, self.now);
        if self.filter.eval_hiding(&e, schema, &hidden) != Tri::True {
            return Ok(None);
        }
        Ok(Some((e, unreadable)))
    }

    fn visit(&mut self, id: u64, key: &[u8], pos: Option<Position>) -> Result<bool, LdapError> {
        if !self.keep_going() {
            return Ok(false);
        }
        let Some((e, unreadable)) = self.matching(id, key)? else {
            return Ok(true);
        };
        if let Some(sorter) = self.sorter {
            if self.collected.len() >= self.sort_limit {
                self.stop = Some(Stop::SortLimit);
                return Ok(false);
            }
            let keys = sorter.keys_of(self.dir, &e, &unreadable);
            self.collected.push(Sorted { keys, id });
            return Ok(true);
        }
        if self.size_limit.is_some_and(|l| self.sent >= l) {
            self.stop = Some(Stop::SizeLimit);
            return Ok(false);
        }
        if self.page_size.is_some_and(|p| self.sent >= p) {
            self.stop = Some(Stop::PageFull);
            return Ok(false);
        }
        self.send(key, e, &unreadable)?;
        if self.stop.is_some() {
            return Ok(false);
        }
        self.last = pos;
        Ok(true)
    }

    fn send(&mut self, key: &[u8], e: Entry, unreadable: &[String]) -> Result<(), LdapError> {
        let out = project(e, self.sel, self.typesonly, unreadable, &self.dir.schema);
        // The DN is kept only when reads are logged.
        let logged = self.reads.as_ref().map(|_| out.dn.clone());
        if !(self.emit)(out) {
            self.stop = Some(Stop::ClientGone);
        } else {
            self.sent += 1;
            if let (Some(log), Some(dn)) = (&mut self.reads, logged) {
                log.read(key, &dn, "read", &[]);
            }
        }
        Ok(())
    }

    /// Sort what was collected and send the requested part: the VLV window, the page, or all.
    pub(super) fn finish_sorted(
        mut self,
        sorter: &Sorter,
        ctrls: &RequestControls,
        hash: u64,
        resume: Option<Position>,
        mut done_ctrls: Vec<LdapControl>,
    ) -> Result<SearchEnd, LdapError> {
        let vlv_error = |code: LdapResultCode, msg: &str, sort_code: u32, vlv_code: u32| {
            let mut c = vec![sort_response(sort_code, None)];
            if ctrls.vlv.is_some() {
                c.push(vlv_response(0, 0, vlv_code, None));
            }
            SearchEnd::Done(LdapError::new(code, msg).into_result(), c)
        };
        match self.stop.take() {
            Some(Stop::Abandoned) | Some(Stop::ClientGone) => return Ok(SearchEnd::Abandoned),
            Some(Stop::TimeLimit) => {
                return Ok(vlv_error(
                    LdapResultCode::TimeLimitExceeded,
                    "time limit exceeded before sorting",
                    3,
                    3,
                ))
            }
            Some(Stop::SortLimit) => {
                return Ok(vlv_error(
                    LdapResultCode::AdminLimitExceeded,
                    "too many matching entries to sort (limits.sort_max_entries)",
                    sort::ADMIN_LIMIT,
                    sort::ADMIN_LIMIT,
                ))
            }
            _ => {}
        }
        let mut list = std::mem::take(&mut self.collected);
        sorter.sort(&mut list);
        let count = list.len();
        let mut next_cookie = None;
        let range = if let Some(v) = &ctrls.vlv {
            let ge = match &v.target {
                VlvTarget::GreaterOrEqual(val) => Some(sorter.first_at_least(self.dir, &list, val)),
                VlvTarget::ByOffset { .. } => None,
            };
            match sort::window(v, count, ge) {
                Ok(w) => {
                    done_ctrls.push(sort_response(0, None));
                    done_ctrls.push(vlv_response(
                        w.target as i64,
                        count as i64,
                        0,
                        v.context_id.clone(),
                    ));
                    w.start..w.end
                }
                Err(code) => {
                    return Ok(SearchEnd::Done(
                        LdapError::new(
                            LdapResultCode::VirtualListViewError,
                            "virtual list view offset out of range",
                        )
                        .into_result(),
                        vec![
                            sort_response(0, None),
                            vlv_response(0, count as i64, code, None),
                        ],
                    ))
                }
            }
        } else {
            done_ctrls.push(sort_response(0, None));
            let start = match &resume {
                None => 0,
                Some(Position::Offset(n)) => usize::try_from(*n).unwrap_or(usize::MAX).min(count),
                Some(_) => {
                    return Err(LdapError::unwilling(
                        "invalid paged results cookie (not from this search)",
                    ))
                }
            };
            let end = match self.page_size {
                Some(p) => start.saturating_add(p as usize).min(count),
                None => count,
            };
            if self.page_size.is_some() {
                next_cookie = Some(if end < count {
                    encode_cookie(hash, &Position::Offset(end as u64))
                } else {
                    Vec::new()
                });
            }
            start..end
        };
        let mut result = success();
        for s in &list[range] {
            if self.cancel.load(Ordering::Relaxed) {
                return Ok(SearchEnd::Abandoned);
            }
            if self.size_limit.is_some_and(|l| self.sent >= l) {
                result = LdapError::new(LdapResultCode::SizeLimitExceeded, "size limit exceeded")
                    .into_result();
                break;
            }
            let Some(key) = self.snap.dn_key(s.id)? else {
                continue;
            };
            if let Some((e, unreadable)) = self.matching(s.id, &key)? {
                self.send(&key, e, &unreadable)?;
                if self.stop.is_some() {
                    return Ok(SearchEnd::Abandoned);
                }
            }
        }
        if let Some(c) = next_cookie {
            done_ctrls.push(paged_response(c));
        }
        Ok(SearchEnd::Done(result, done_ctrls))
    }
}

/// Visit every entry of the scope that may match: the index candidates (the plan) within the
/// scope, or the whole scope when the filter cannot narrow.
#[allow(clippy::too_many_arguments)]
pub(super) fn walk(
    run: &mut Run<'_, '_>,
    snap: &ReadSnap,
    base: &Dn,
    scope: LdapSearchScope,
    filter: &Filter,
    assertion: Option<&LdapFilter>,
    resume_ref: Option<&Position>,
) -> Result<(), LdapError> {
    let dir = run.dir;
    if base.is_root() {
        // An empty base with scope one or sub: the naming contexts and what lies below them.
        let ids = snap.child_ids(crate::store::tables::ROOT_ID)?;
        for id in ids {
            let Some(key) = snap.dn_key(id)? else {
                continue;
            };
            match scope {
                LdapSearchScope::OneLevel => {
                    if !run.visit_id(id, &key, resume_ref)? {
                        break;
                    }
                }
                _ => {
                    if !run.scan_subtree(&key, None, resume_ref)? {
                        break;
                    }
                }
            }
        }
    } else {
        let base_key = base.store_key();
        let base_id = match snap.lookup(base)? {
            Some((id, e)) if run.acl.allows(&base_key, Some(&e), None, Level::Search) => {
                if let Some(f) = &assertion {
                    check_assertion(dir, &run.acl, snap, Some(id), &base_key, &e, f)?;
                }
                id
            }
            _ => return Err(run.acl.no_such_object(base)),
        };
        let cands = candidates(filter, dir.store.index_spec(), snap)?;
        match scope {
            LdapSearchScope::Base => {
                run.visit_id(base_id, &base_key, None)?;
            }
            LdapSearchScope::OneLevel => {
                let mut ids = snap.child_ids(base_id)?;
                if let Some(c) = &cands {
                    ids = crate::store::index::intersect(&ids, c);
                }
                for id in ids {
                    let Some(key) = snap.dn_key(id)? else {
                        continue;
                    };
                    if !run.visit_id(id, &key, resume_ref)? {
                        break;
                    }
                }
            }
            LdapSearchScope::Subtree | LdapSearchScope::Children => {
                let children_only = scope == LdapSearchScope::Children;
                match cands {
                    Some(ids) => {
                        for id in ids {
                            if children_only && id == base_id {
                                continue;
                            }
                            let Some(key) = snap.dn_key(id)? else {
                                continue;
                            };
                            if !key.starts_with(&base_key) {
                                continue;
                            }
                            if !run.visit_id(id, &key, resume_ref)? {
                                break;
                            }
                        }
                    }
                    None => {
                        let skip = children_only.then_some(base_id);
                        run.scan_subtree(&base_key, skip, resume_ref)?;
                    }
                }
            }
        }
    }

    Ok(())
}
