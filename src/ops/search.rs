//! Search (RFC 4511 4.5): scope, filter, attribute selection, size and time limits, paged results.
//! Entries are streamed to the caller one at a time from a read snapshot: a large result is never
//! built in memory.

use super::controls::{RequestControls, OID_PAGED_RESULTS};
use super::{rootdse, Directory, Session};
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::entry::{Attribute, Entry};
use crate::error::{success, LdapError};
use crate::filter::{Filter, Tri};
use crate::schema::Schema;
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
}

fn request_hash(req: &LdapSearchRequest) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    req.base.to_ascii_lowercase().hash(&mut h);
    (req.scope.clone() as i64).hash(&mut h);
    format!("{:?}", req.filter).hash(&mut h);
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
    }
    c
}

fn decode_cookie(hash: u64, c: &[u8]) -> Result<Position, LdapError> {
    let bad = || LdapError::unwilling("invalid paged results cookie (not from this search)");
    if c.len() < 10 || c[0] != 1 || c[1..9] != hash.to_be_bytes() {
        return Err(bad());
    }
    match c[9] {
        0 if c.len() == 18 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(&c[10..18]);
            Ok(Position::Id(u64::from_be_bytes(a)))
        }
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
    let hash = request_hash(req);
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
                return Ok(SearchEnd::Done(success(), vec![paged_done(Vec::new())]));
            }
            (Some((*size).min(MAX_PAGE) as u64), resume)
        }
    };

    // The root DSE and the subschema subentry are served from memory.
    if base.is_root() && req.scope == LdapSearchScope::Base {
        let e = rootdse::root_dse(dir);
        if filter.eval(&e, schema) == Tri::True {
            emit(project(e, &sel, req.typesonly, &[], schema));
        }
        return Ok(SearchEnd::Done(success(), vec![]));
    }
    if rootdse::is_subschema(&base) {
        if req.scope != LdapSearchScope::OneLevel {
            let e = rootdse::subschema(dir);
            if filter.eval(&e, schema) == Tri::True {
                emit(project(e, &sel, req.typesonly, &[], schema));
            }
        }
        return Ok(SearchEnd::Done(success(), vec![]));
    }

    let snap = dir.store.read()?;
    let acl = policy.checker(who, &snap, schema);
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
        emit,
    };

    if base.is_root() {
        // An empty base with scope one or sub: the naming contexts and what lies below them.
        let ids = snap.child_ids(crate::store::tables::ROOT_ID)?;
        for id in ids {
            let Some(key) = snap.dn_key(id)? else {
                continue;
            };
            match req.scope {
                LdapSearchScope::OneLevel => {
                    if !run.visit_id(id, &key, resume.as_ref())? {
                        break;
                    }
                }
                _ => {
                    if !run.scan_subtree(&key, None, resume.as_ref())? {
                        break;
                    }
                }
            }
        }
    } else {
        let base_key = base.store_key();
        let base_id = match snap.lookup(&base)? {
            Some((id, e)) if run.acl.allows(&base_key, Some(&e), None, Level::Search) => id,
            _ => return Err(run.acl.no_such_object(&base)),
        };
        let cands = candidates(&filter, dir.store.index_spec(), &snap)
            .map_err(|e| LdapError::internal("reading indexes", e))?;
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
                    if !run.visit_id(id, &key, resume.as_ref())? {
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
                            if !run.visit_id(id, &key, resume.as_ref())? {
                                break;
                            }
                        }
                    }
                    None => {
                        let skip = children_only.then_some(base_id);
                        run.scan_subtree(&base_key, skip, resume.as_ref())?;
                    }
                }
            }
        }
    }

    let stop = run.stop.take();
    let last = run.last.take();
    match stop {
        Some(Stop::Abandoned) => Ok(SearchEnd::Abandoned),
        Some(Stop::ClientGone) => Ok(SearchEnd::Abandoned),
        Some(Stop::SizeLimit) => Err(LdapError::new(
            LdapResultCode::SizeLimitExceeded,
            "size limit exceeded",
        )),
        Some(Stop::TimeLimit) => Err(LdapError::new(
            LdapResultCode::TimeLimitExceeded,
            "time limit exceeded",
        )),
        Some(Stop::PageFull) => {
            let cookie = last.map(|p| encode_cookie(hash, &p)).unwrap_or_default();
            Ok(SearchEnd::Done(success(), vec![paged_done(cookie)]))
        }
        None => {
            let ctrls = if page_size.is_some() {
                vec![paged_done(Vec::new())]
            } else {
                vec![]
            };
            Ok(SearchEnd::Done(success(), ctrls))
        }
    }
}

fn paged_done(cookie: Vec<u8>) -> LdapControl {
    let _ = OID_PAGED_RESULTS;
    LdapControl::SimplePagedResults { size: 0, cookie }
}

#[derive(Debug)]
enum Stop {
    Abandoned,
    ClientGone,
    SizeLimit,
    TimeLimit,
    PageFull,
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
        snap.scan_prefix(prefix, after, &mut |key, id| {
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

    fn visit(&mut self, id: u64, key: &[u8], pos: Option<Position>) -> Result<bool, LdapError> {
        if self.cancel.load(Ordering::Relaxed) {
            self.stop = Some(Stop::Abandoned);
            return Ok(false);
        }
        self.examined += 1;
        if let Some(d) = self.deadline {
            if self.examined % 64 == 0 && Instant::now() > d {
                self.stop = Some(Stop::TimeLimit);
                return Ok(false);
            }
        }
        let Some(mut e) = self.snap.entry(id)? else {
            return Ok(true);
        };
        let schema = &*self.dir.schema;
        // Access: the entry must be searchable; attributes below search are hidden (filter
        // items on them are Undefined), attributes below read are not returned.
        let mut hidden: Vec<String> = Vec::new();
        let mut unreadable: Vec<String> = Vec::new();
        if !self.acl.is_admin() {
            let entry_level = self.acl.level(key, Some(&e), None);
            if entry_level < Level::Search {
                return Ok(true);
            }
            // Filter items on types the requester may not search are Undefined, whether or not
            // the entry has them; attributes it may not read are not returned.
            for t in &self.filter_types {
                if self.acl.attr_level(key, Some(&e), t, entry_level) < Level::Search {
                    hidden.push(t.clone());
                }
            }
            for a in &e.attrs {
                if self
                    .acl
                    .attr_level(key, Some(&e), a.base_name(), entry_level)
                    < Level::Read
                {
                    unreadable.push(a.base_name().to_ascii_lowercase());
                }
            }
        }
        add_computed(&mut e, self.snap, id, self.computed)?;
        if self.filter.eval_hiding(&e, schema, &hidden) != Tri::True {
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
        let out = project(e, self.sel, self.typesonly, &unreadable, schema);
        if !(self.emit)(out) {
            self.stop = Some(Stop::ClientGone);
            return Ok(false);
        }
        self.sent += 1;
        self.last = pos;
        Ok(true)
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
