//! Search (RFC 4511 4.5): scope, filter, attribute selection, size and time limits, paged results,
//! server-side sorting and virtual list view. Entries are streamed to the caller one at a time
//! from a read snapshot: a large result is never built in memory. A sorted search keeps only each
//! match's sort keys and id (at most `limits.sort_max_entries` of them), and reads the entries it
//! returns again.

//!
//! plan.rs: limits, sort and VLV set-up, the entries served from memory; paging.rs: page
//! cookies; scope.rs: the walk over the scope; ../project.rs: what the client sees of an entry.

pub(crate) mod changelog;
pub(crate) mod monitor;
mod monitor_repl;
mod paging;
mod plan;
mod scope;

use super::controls::{paged_response, sort_response, vlv_response, RequestControls};
use super::project::{project, Computed, Selection};
use super::readback::check_public_assertion;
use super::{rootdse, Session};
use crate::core::error::{success, LdapError};
use crate::core::filter::{Filter, Tri};
use crate::service::Directory;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapResult, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope,
};
use paging::{decode_cookie, encode_cookie, request_hash, MAX_PAGE};
use plan::effective_limit;
use scope::{Run, Stop};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// How a search ended.
#[derive(Debug)]
pub(crate) enum SearchEnd {
    /// Send a SearchResultDone with this result and these response controls.
    Done(LdapResult, Vec<LdapControl>),
    /// The search was abandoned: send nothing.
    Abandoned,
}

/// Run a search. `emit` receives each entry to send and returns false when the client is gone.
pub(crate) fn search(
    dir: &Directory,
    s: &Session,
    req: &LdapSearchRequest,
    ctrls: &RequestControls,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(LdapSearchResultEntry) -> bool,
) -> Result<SearchEnd, LdapError> {
    // INTEGER (0 .. maxInt) (RFC 4511 4.5.1.4, 4.5.1.5); the codec turns any value out of that
    // range into -1. OpenLDAP answers protocolError too.
    if req.sizelimit < 0 {
        return Err(LdapError::protocol(
            "invalid size limit: must be 0 .. 2147483647",
        ));
    }
    if req.timelimit < 0 {
        return Err(LdapError::protocol(
            "invalid time limit: must be 0 .. 2147483647",
        ));
    }
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
    let sorter = match plan::sorter(dir, ctrls, &mut done_ctrls) {
        Ok(s) => s,
        Err(end) => return Ok(end),
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
    if changelog::is_changelog(&base) || monitor::is_monitor(&base) {
        let p = changelog::Params {
            sel: &sel,
            filter: &filter,
            size_limit,
            deadline,
            cancel,
        };
        if monitor::is_monitor(&base) {
            return monitor::search(dir, who, req, &base, ctrls, p, emit);
        }
        return changelog::search(dir, who, req, &base, ctrls, p, emit);
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
        now: dir.clock.now(),
        reads: dir.read_log(&s.caller()),
        emit,
    };
    // A sorted search visits every match, then pages through the sorted list.
    let scan_resume = if sorting { None } else { resume.clone() };
    let resume_ref = scan_resume.as_ref();

    scope::walk(
        &mut run,
        &snap,
        &base,
        req.scope.clone(),
        &filter,
        ctrls.assertion.as_ref(),
        resume_ref,
    )?;

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
