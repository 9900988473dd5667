//! Search (RFC 4511 4.5): scope, filter, attribute selection, size and time limits, paged results,
//! server-side sorting and virtual list view. Entries are streamed to the caller one at a time
//! from a read snapshot: a large result is never built in memory. A sorted search keeps only each
//! match's sort keys and id (at most `limits.sort_max_entries` of them), and reads the entries it
//! returns again.

use super::controls::{paged_response, sort_response, vlv_response, RequestControls, VlvTarget};
use super::readback::{check_assertion, check_public_assertion};
use super::sort::{self, Sorted, Sorter};
use super::{rootdse, Session};
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::entry::{Attribute, Entry};
use crate::core::error::{success, LdapError};
use crate::core::filter::{Filter, Tri};
use crate::core::schema::Schema;
use crate::service::Directory;
use crate::store::index::candidates;
use crate::store::{ReadSnap, View};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapPartialAttribute, LdapResult, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry,
    LdapSearchScope,
};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Largest page a client may ask for in one paged-results request.
const MAX_PAGE: i64 = 100_000;

/// How a search ended.
#[derive(Debug)]
pub enum SearchEnd {
    /// Send a SearchResultDone with this result and these response controls.
    Done(LdapResult, Vec<LdapControl>),
    /// The search was abandoned: send nothing.
    Abandoned,
}

/// Which attributes the client asked for.
#[derive(Debug, Default)]
pub struct Selection {
    all_user: bool,
    all_operational: bool,
    /// Requested types (lower-case schema names, incl. subtypes) with requested options.
    named: Vec<(std::sync::Arc<[String]>, Vec<String>)>,
}

impl Selection {
    pub fn parse(attrs: &[String], schema: &Schema) -> Selection {
        let mut s = Selection::default();
        let meaningful: Vec<&String> = attrs.iter().filter(|a| a.as_str() != "1.1").collect();
        if attrs.is_empty() {
            s.all_user = true;
            return s;
        }
        for a in meaningful {
            match a.as_str() {
                "*" => s.all_user = true,
                "+" => s.all_operational = true,
                _ => {
                    let mut parts = a.split(';');
                    let name = parts.next().unwrap_or("");
                    if let Some(ty) = schema.attribute(name) {
                        let names = schema.subtype_names(ty.name()).unwrap_or_default();
                        let opts = parts.map(|o| o.to_ascii_lowercase()).collect();
                        s.named.push((names, opts));
                    }
                    // Unknown attribute names are ignored (RFC 4511 4.5.1.8).
                }
            }
        }
        s
    }

    /// The name to return `attr` under, if the client wants it: the stored description, with
    /// the `;binary` transfer option added when the client asked for it (RFC 4522).
    pub fn output_name(&self, attr: &Attribute, operational: bool) -> Option<String> {
        let base = attr.base_name();
        let named = self.named.iter().find(|(names, opts)| {
            names.iter().any(|n| n.eq_ignore_ascii_case(base))
                && opts
                    .iter()
                    .filter(|o| o.as_str() != "binary")
                    .all(|o| attr.options().any(|ao| ao.eq_ignore_ascii_case(o)))
        });
        match named {
            Some((_, opts)) if opts.iter().any(|o| o == "binary") => {
                Some(format!("{};binary", attr.name))
            }
            Some(_) => Some(attr.name.clone()),
            None if operational && self.all_operational || !operational && self.all_user => {
                Some(attr.name.clone())
            }
            None => None,
        }
    }

    /// Does the client want this (computed, operational) type?
    pub fn wants_name(&self, name: &str) -> bool {
        self.all_operational
            || self
                .named
                .iter()
                .any(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
    }
}

/// Limits that apply to this search, after combining the client's values with the server's.
fn effective_limit(client: i32, default: u32, max: u32, unlimited: bool) -> Option<u64> {
    let client = if client <= 0 {
        None
    } else {
        Some(client as u64)
    };
    if unlimited {
        return client;
    }
    let v = client.unwrap_or(default as u64);
    let v = if v == 0 { max as u64 } else { v };
    match (v, max as u64) {
        (0, 0) => None,
        (v, 0) => Some(v),
        (0, m) => Some(m),
        (v, m) => Some(v.min(m)),
    }
}

/// Where a paged search resumes: after an id (index or one-level order) or a DN key (scope scan).
#[derive(Debug, Clone, PartialEq)]
enum Position {
    Id(u64),
    Key(Vec<u8>),
    /// Index into the sorted result.
    Offset(u64),
}

/// What a paged-results cookie is bound to: the request and its sort order.
fn request_hash(req: &LdapSearchRequest, ctrls: &RequestControls) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    req.base.to_ascii_lowercase().hash(&mut h);
    (req.scope.clone() as i64).hash(&mut h);
    format!("{:?}", req.filter).hash(&mut h);
    ctrls.sort.as_ref().map(|s| &s.keys).hash(&mut h);
    h.finish()
}

fn encode_cookie(hash: u64, pos: &Position) -> Vec<u8> {
    let mut c = vec![1u8];
    c.extend_from_slice(&hash.to_be_bytes());
    match pos {
        Position::Id(id) => {
            c.push(0);
            c.extend_from_slice(&id.to_be_bytes());
        }
        Position::Key(k) => {
            c.push(1);
            c.extend_from_slice(k);
        }
        Position::Offset(n) => {
            c.push(2);
            c.extend_from_slice(&n.to_be_bytes());
        }
    }
    c
}

fn decode_cookie(hash: u64, c: &[u8]) -> Result<Position, LdapError> {
    let bad = || LdapError::unwilling("invalid paged results cookie (not from this search)");
    if c.len() < 10 || c[0] != 1 || c[1..9] != hash.to_be_bytes() {
        return Err(bad());
    }
    let number = || {
        let mut a = [0u8; 8];
        a.copy_from_slice(&c[10..18]);
        u64::from_be_bytes(a)
    };
    match c[9] {
        0 if c.len() == 18 => Ok(Position::Id(number())),
        2 if c.len() == 18 => Ok(Position::Offset(number())),
        1 => Ok(Position::Key(c[10..].to_vec())),
        _ => Err(bad()),
    }
}

/// Run a search. `emit` receives each entry to send and returns false when the client is gone.
pub fn search(
    dir: &Directory,
    s: &Session,
    req: &LdapSearchRequest,
    ctrls: &RequestControls,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(LdapSearchResultEntry) -> bool,
) -> Result<SearchEnd, LdapError> {
    let schema = &*dir.schema;
    let base = dir.parse_dn(&req.base)?;
    let policy = &dir.policy;
    let who = &s.identity;
    let filter = Filter::compile(&req.filter, schema, dir.filter_limits())?;
    let sel = Selection::parse(&req.attrs, schema);
    let unlimited = policy.unlimited(who);
    let limits = &dir.config.limits;
    let size_limit = effective_limit(
        req.sizelimit,
        limits.size_limit,
        limits.size_limit_max,
        unlimited,
    );
    let time_limit = effective_limit(
        req.timelimit,
        limits.time_limit,
        limits.time_limit_max,
        unlimited,
    );
    let deadline = time_limit.map(|t| Instant::now() + Duration::from_secs(t));

    // Paging.
    let hash = request_hash(req, ctrls);
    let (page_size, resume) = match &ctrls.paged {
        None => (None, None),
        Some((size, cookie)) => {
            let resume = if cookie.is_empty() {
                None
            } else {
                Some(decode_cookie(hash, cookie)?)
            };
            if *size <= 0 {
                // A size of 0 abandons the paged search (RFC 2696 3).
                return Ok(SearchEnd::Done(success(), vec![paged_response(Vec::new())]));
            }
            (Some((*size).min(MAX_PAGE) as u64), resume)
        }
    };

    // Sorting and virtual list view.
    let mut done_ctrls: Vec<LdapControl> = Vec::new();
    let sorter = match &ctrls.sort {
        None => {
            if ctrls.vlv.is_some() {
                return Ok(SearchEnd::Done(
                    LdapError::new(
                        LdapResultCode::VirtualListViewError,
                        "the virtual list view control needs the server-side sort control",
                    )
                    .into_result(),
                    vec![vlv_response(0, 0, sort::VLV_SORT_MISSING, None)],
                ));
            }
            None
        }
        Some(sreq) => match Sorter::new(sreq, dir) {
            Ok(s) => Some(s),
            Err(refusal) => {
                let why = match &refusal.attr {
                    Some(a) => format!("cannot sort by {a} (sort result {})", refusal.code),
                    None => format!("cannot sort (sort result {})", refusal.code),
                };
                let sc = sort_response(refusal.code, refusal.attr.as_deref());
                if sreq.critical {
                    let mut c = vec![sc];
                    if ctrls.vlv.is_some() {
                        c.push(vlv_response(0, 0, refusal.code, None));
                    }
                    return Ok(SearchEnd::Done(
                        LdapError::new(LdapResultCode::UnavailableCriticalExtension, why)
                            .into_result(),
                        c,
                    ));
                }
                if ctrls.vlv.is_some() {
                    return Ok(SearchEnd::Done(
                        LdapError::new(LdapResultCode::VirtualListViewError, why).into_result(),
                        vec![sc, vlv_response(0, 0, refusal.code, None)],
                    ));
                }
                // Not critical: the results come unsorted, and the response control says why.
                done_ctrls.push(sc);
                None
            }
        },
    };

    // The root DSE and the subschema subentry are served from memory.
    let special = if base.is_root() && req.scope == LdapSearchScope::Base {
        Some(rootdse::root_dse(dir))
    } else if rootdse::is_subschema(&base) {
        Some(rootdse::subschema(dir))
    } else {
        None
    };
    if let Some(e) = special {
        if let Some(f) = &ctrls.assertion {
            check_public_assertion(dir, &e, f)?;
        }
        let mut n = 0;
        if req.scope != LdapSearchScope::OneLevel && filter.eval(&e, schema) == Tri::True {
            emit(project(e, &sel, req.typesonly, &[], schema));
            n = 1;
        }
        if sorter.is_some() {
            done_ctrls.push(sort_response(0, None));
        }
        if ctrls.vlv.is_some() {
            done_ctrls.push(vlv_response(1, n, 0, None));
        }
        if page_size.is_some() {
            done_ctrls.push(paged_response(Vec::new()));
        }
        return Ok(SearchEnd::Done(success(), done_ctrls));
    }
    if base.is_root() {
        if let Some(f) = &ctrls.assertion {
            check_public_assertion(dir, &rootdse::root_dse(dir), f)?;
        }
    }

    let snap = dir.store.read()?;
    let acl = policy.checker(who, &snap, schema);
    let sorting = sorter.is_some();
    let mut run = Run {
        dir,
        acl,
        filter_types: filter.type_names(),
        snap: &snap,
        filter: &filter,
        sel: &sel,
        typesonly: req.typesonly,
        cancel,
        deadline,
        size_limit,
        page_size,
        sent: 0,
        examined: 0,
        last: None,
        stop: None,
        computed: Computed::for_search(&filter, &sel),
        sorter: sorter.as_ref(),
        collected: Vec::new(),
        sort_limit: limits.sort_max_entries,
        emit,
    };
    // A sorted search visits every match, then pages through the sorted list.
    let scan_resume = if sorting { None } else { resume.clone() };
    let resume_ref = scan_resume.as_ref();

    if base.is_root() {
        // An empty base with scope one or sub: the naming contexts and what lies below them.
        let ids = snap.child_ids(crate::store::tables::ROOT_ID)?;
        for id in ids {
            let Some(key) = snap.dn_key(id)? else {
                continue;
            };
            match req.scope {
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
        let base_id = match snap.lookup(&base)? {
            Some((id, e)) if run.acl.allows(&base_key, Some(&e), None, Level::Search) => {
                if let Some(f) = &ctrls.assertion {
                    check_assertion(dir, &run.acl, &snap, Some(id), &base_key, &e, f)?;
                }
                id
            }
            _ => return Err(run.acl.no_such_object(&base)),
        };
        let cands = candidates(&filter, dir.store.index_spec(), &snap)?;
        match req.scope {
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
                let children_only = req.scope == LdapSearchScope::Children;
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

    if let Some(sorter) = &sorter {
        return run.finish_sorted(sorter, ctrls, hash, resume, done_ctrls);
    }
    let stop = run.stop.take();
    let last = run.last.take();
    match stop {
        Some(Stop::Abandoned) | Some(Stop::ClientGone) => Ok(SearchEnd::Abandoned),
        Some(Stop::SizeLimit) => Ok(SearchEnd::Done(
            LdapError::new(LdapResultCode::SizeLimitExceeded, "size limit exceeded").into_result(),
            done_ctrls,
        )),
        Some(Stop::TimeLimit) => Ok(SearchEnd::Done(
            LdapError::new(LdapResultCode::TimeLimitExceeded, "time limit exceeded").into_result(),
            done_ctrls,
        )),
        Some(Stop::PageFull) => {
            let cookie = last.map(|p| encode_cookie(hash, &p)).unwrap_or_default();
            done_ctrls.push(paged_response(cookie));
            Ok(SearchEnd::Done(success(), done_ctrls))
        }
        Some(Stop::SortLimit) | None => {
            if page_size.is_some() {
                done_ctrls.push(paged_response(Vec::new()));
            }
            Ok(SearchEnd::Done(success(), done_ctrls))
        }
    }
}

/// What the requester may do with an entry's attributes: `None` when it may not search the
/// entry at all; otherwise the filter types it may not search (Undefined in filters) and the
/// attributes it may not read (left out of results).
pub fn access_view(
    acl: &Checker<'_>,
    key: &[u8],
    e: &Entry,
    filter_types: &[String],
) -> Option<(Vec<String>, Vec<String>)> {
    let mut hidden: Vec<String> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    if acl.is_admin() {
        return Some((hidden, unreadable));
    }
    let entry_level = acl.level(key, Some(e), None);
    if entry_level < Level::Search {
        return None;
    }
    for t in filter_types {
        if acl.attr_level(key, Some(e), t, entry_level) < Level::Search {
            hidden.push(t.clone());
        }
    }
    for a in &e.attrs {
        if acl.attr_level(key, Some(e), a.base_name(), entry_level) < Level::Read {
            unreadable.push(a.base_name().to_ascii_lowercase());
        }
    }
    Some((hidden, unreadable))
}

#[derive(Debug)]
enum Stop {
    Abandoned,
    ClientGone,
    SizeLimit,
    TimeLimit,
    PageFull,
    /// More matches than a sorted search may hold.
    SortLimit,
}

struct Run<'a, 'e> {
    dir: &'a Directory,
    acl: Checker<'a>,
    filter_types: Vec<String>,
    snap: &'a ReadSnap,
    filter: &'a Filter,
    sel: &'a Selection,
    typesonly: bool,
    cancel: &'a AtomicBool,
    deadline: Option<Instant>,
    size_limit: Option<u64>,
    page_size: Option<u64>,
    sent: u64,
    examined: u64,
    last: Option<Position>,
    stop: Option<Stop>,
    computed: Computed,
    /// Sorting: matches are collected here instead of being sent.
    sorter: Option<&'a Sorter>,
    collected: Vec<Sorted>,
    sort_limit: usize,
    emit: &'e mut dyn FnMut(LdapSearchResultEntry) -> bool,
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
        add_computed(&mut e, self.snap, id, self.computed)?;
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
        self.send(e, &unreadable)?;
        if self.stop.is_some() {
            return Ok(false);
        }
        self.last = pos;
        Ok(true)
    }

    fn send(&mut self, e: Entry, unreadable: &[String]) -> Result<(), LdapError> {
        let out = project(e, self.sel, self.typesonly, unreadable, &self.dir.schema);
        if !(self.emit)(out) {
            self.stop = Some(Stop::ClientGone);
        } else {
            self.sent += 1;
        }
        Ok(())
    }

    /// Sort what was collected and send the requested part: the VLV window, the page, or all.
    fn finish_sorted(
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
                self.send(e, &unreadable)?;
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

/// Which computed attributes a search needs (in its filter or its selection).
#[derive(Debug, Clone, Copy)]
pub struct Computed {
    pub entry_dn: bool,
    pub subschema: bool,
    pub subordinates: bool,
}

impl Computed {
    pub fn for_search(filter: &Filter, sel: &Selection) -> Computed {
        let need = |n: &str| filter.names_attribute(n) || sel.wants_name(n);
        Computed {
            entry_dn: need("entryDN"),
            subschema: need("subschemaSubentry"),
            subordinates: need("hasSubordinates"),
        }
    }
}

/// Add the attributes computed on read: entryDN, subschemaSubentry, hasSubordinates.
pub fn add_computed(
    e: &mut Entry,
    view: &dyn View,
    id: u64,
    which: Computed,
) -> Result<(), LdapError> {
    if which.entry_dn {
        e.attrs
            .push(Attribute::new("entryDN", vec![e.dn.clone().into_bytes()]));
    }
    if which.subschema {
        e.attrs.push(Attribute::new(
            "subschemaSubentry",
            vec![rootdse::SUBSCHEMA_DN.as_bytes().to_vec()],
        ));
    }
    if which.subordinates {
        let has = view.has_children(id)?;
        e.attrs.push(Attribute::new(
            "hasSubordinates",
            vec![if has {
                b"TRUE".to_vec()
            } else {
                b"FALSE".to_vec()
            }],
        ));
    }
    Ok(())
}

/// The entry as the client sees it: selected, readable attributes only.
/// Consumes the entry: its values move into the response without copies.
pub fn project(
    e: Entry,
    sel: &Selection,
    typesonly: bool,
    unreadable: &[String],
    schema: &Schema,
) -> LdapSearchResultEntry {
    let mut attributes = Vec::with_capacity(e.attrs.len());
    for a in e.attrs {
        let base = a.base_name();
        let operational = schema.attribute(base).is_some_and(|t| t.is_operational());
        let Some(atype) = sel.output_name(&a, operational) else {
            continue;
        };
        if unreadable.iter().any(|u| u.eq_ignore_ascii_case(base)) {
            continue;
        }
        attributes.push(LdapPartialAttribute {
            atype,
            vals: if typesonly { Vec::new() } else { a.values },
        });
    }
    LdapSearchResultEntry {
        dn: e.dn,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_combine() {
        assert_eq!(effective_limit(0, 500, 5000, false), Some(500));
        assert_eq!(effective_limit(10, 500, 5000, false), Some(10));
        assert_eq!(effective_limit(10_000, 500, 5000, false), Some(5000));
        assert_eq!(effective_limit(0, 0, 0, false), None);
        assert_eq!(effective_limit(0, 500, 5000, true), None);
        assert_eq!(effective_limit(7, 500, 5000, true), Some(7));
        assert_eq!(effective_limit(-1, 0, 100, false), Some(100));
    }

    #[test]
    fn cookies() {
        let c = encode_cookie(42, &Position::Id(7));
        assert_eq!(decode_cookie(42, &c).unwrap(), Position::Id(7));
        assert!(decode_cookie(43, &c).is_err());
        let k = encode_cookie(1, &Position::Key(b"dc=x\0".to_vec()));
        assert_eq!(
            decode_cookie(1, &k).unwrap(),
            Position::Key(b"dc=x\0".to_vec())
        );
        assert!(decode_cookie(1, &[1, 2, 3]).is_err());
    }
}
