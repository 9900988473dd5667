//! `cn=changelog`: the store's change records served as LDAP entries, in the form of
//! draft-good-ldap-changelog as 389-DS's retro changelog and OpenLDAP's changelog overlay serve
//! them (`changeNumber=N,cn=changelog`, class changeLogEntry: changeNumber, targetDN,
//! changeType, changes as LDIF, newRDN, deleteOldRDN, newSuperior, changeTime), read-only.
//!
//! Access: who may read the changelog at all is an access rule on `cn=changelog` (by default the
//! directory admins, the verifiers and the members). Each change is then shown only to a reader
//! who may see its entry (as the entry is now; by its DN alone when it is gone), and the values
//! in `changes` only for the attributes that reader may read of the entry. The values of an
//! entry that no longer exists (deleted, or renamed since) are shown only with manage access
//! (directory admins): there is no entry left to decide by. Passwords are never in a record.

use super::super::controls::{paged_response, sort_response, RequestControls};
use super::super::project::{project, Selection};
use super::super::readback::check_public_assertion;
use super::paging::{decode_cookie, encode_cookie, request_hash, Position, MAX_PAGE};
use super::SearchEnd;
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::{success, LdapError};
use crate::core::filter::{Filter, Tri};
use crate::core::ldif::is_safe;
use crate::service::Directory;
use crate::store::changelog::{ChangeKind, ChangeRecord};
use crate::store::View;
use base64::Engine;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapResultCode, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The changelog's DN, as the root DSE's `changelog` attribute names it.
pub(crate) const CHANGELOG_DN: &str = "cn=changelog";
/// Change records read from the store at a time.
const BATCH: usize = 256;

/// Is `dn` the changelog or an entry below it?
pub(crate) fn is_changelog(dn: &Dn) -> bool {
    let n = dn.norm();
    n == CHANGELOG_DN || n.ends_with(",cn=changelog")
}

/// Refuse a write to the changelog.
pub(crate) fn read_only(dn: &Dn) -> Result<(), LdapError> {
    if is_changelog(dn) {
        return Err(LdapError::unwilling(format!(
            "{}: the changelog is read-only",
            dn.display()
        )));
    }
    Ok(())
}

/// What a changelog search needs besides the request.
pub(super) struct Params<'a> {
    pub(super) sel: &'a Selection,
    pub(super) filter: &'a Filter,
    pub(super) size_limit: Option<u64>,
    pub(super) deadline: Option<Instant>,
    pub(super) cancel: &'a AtomicBool,
}

/// Serve a search whose base is `cn=changelog` or one of its entries.
pub(super) fn search(
    dir: &Directory,
    who: &crate::acl::Identity,
    req: &LdapSearchRequest,
    base: &Dn,
    ctrls: &RequestControls,
    p: Params<'_>,
    emit: &mut dyn FnMut(LdapSearchResultEntry) -> bool,
) -> Result<SearchEnd, LdapError> {
    let schema = &*dir.schema;
    let mut done: Vec<LdapControl> = Vec::new();
    if ctrls.vlv.is_some() {
        return Err(LdapError::new(
            LdapResultCode::UnavailableCriticalExtension,
            "the changelog is served in change number order: no virtual list view",
        ));
    }
    if let Some(s) = &ctrls.sort {
        if s.critical {
            return Err(LdapError::new(
                LdapResultCode::UnavailableCriticalExtension,
                "the changelog is served in change number order: it cannot be sorted",
            ));
        }
        // Not critical: unsorted (RFC 2891 sortResult unwillingToPerform).
        done.push(sort_response(53, None));
    }
    let snap = dir.store.read()?;
    let acl = dir.policy.checker(who, &snap, schema);
    let container = Dn::parse(CHANGELOG_DN, schema)?;
    let bounds = snap.change_bounds()?;
    let not_found = || {
        LdapError::no_such_object(format!("{}: no such entry", base.display())).with_matched(
            if base.norm() == container.norm() {
                ""
            } else {
                CHANGELOG_DN
            },
        )
    };
    if !acl.allows(&container.store_key(), None, None, Level::Read) {
        return Err(not_found());
    }

    // What the base names: the container, or one change.
    let single = if base.norm() == container.norm() {
        None
    } else {
        let n = change_number_of(base, &container).ok_or_else(not_found)?;
        Some(n)
    };
    let base_entry = match single {
        None => container_entry(bounds),
        Some(n) => {
            let rec = snap.changes(n, 1)?.into_iter().find(|(k, _)| *k == n);
            let Some((k, r)) = rec else {
                return Err(not_found());
            };
            change_entry(&acl, &snap, schema, k, &r)?.ok_or_else(not_found)?
        }
    };
    if let Some(f) = &ctrls.assertion {
        check_public_assertion(dir, &base_entry, f)?;
    }

    let mut sent = 0u64;
    let mut send = |e: Entry, sent: &mut u64| -> Result<Option<SearchEnd>, LdapError> {
        if p.filter.eval(&e, schema) != Tri::True {
            return Ok(None);
        }
        if p.size_limit.is_some_and(|l| *sent >= l) {
            return Ok(Some(SearchEnd::Done(
                LdapError::new(LdapResultCode::SizeLimitExceeded, "size limit exceeded")
                    .into_result(),
                Vec::new(),
            )));
        }
        if !emit(project(e, p.sel, req.typesonly, &[], schema)) {
            return Ok(Some(SearchEnd::Abandoned));
        }
        *sent += 1;
        Ok(None)
    };

    let paged = ctrls.paged.as_ref();
    let hash = request_hash(req, ctrls);
    let resume = match paged {
        Some((size, _)) if *size <= 0 => {
            return Ok(SearchEnd::Done(success(), vec![paged_response(Vec::new())]));
        }
        Some((_, c)) if !c.is_empty() => match decode_cookie(hash, c)? {
            Position::Id(n) => Some(n),
            _ => return Err(LdapError::unwilling("invalid paged results cookie")),
        },
        _ => None,
    };
    let page = paged.map(|(size, _)| (*size).min(MAX_PAGE) as u64);

    // The base entry itself (base and subtree scope), on the first page only.
    let whole = req.scope == LdapSearchScope::Subtree;
    if resume.is_none() && (req.scope == LdapSearchScope::Base || whole) {
        if let Some(end) = send(base_entry, &mut sent)? {
            return Ok(end);
        }
    }
    if single.is_some() || req.scope == LdapSearchScope::Base {
        return Ok(finish(done, page.is_some()));
    }

    // The changes, in order, from where the filter (or the page) lets them start.
    let Some((first, last)) = bounds else {
        return Ok(finish(done, page.is_some()));
    };
    let (lo, hi) = number_range(p.filter);
    let mut from = lo.max(first).max(resume.map_or(0, |n| n + 1));
    let to = hi.min(last);
    let mut in_page = 0u64;
    while from <= to {
        let batch = snap.changes(from, BATCH)?;
        if batch.is_empty() {
            break;
        }
        for (n, rec) in &batch {
            if *n > to {
                break;
            }
            if p.cancel.load(Ordering::Relaxed) {
                return Ok(SearchEnd::Abandoned);
            }
            if p.deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(SearchEnd::Done(
                    LdapError::new(LdapResultCode::TimeLimitExceeded, "time limit exceeded")
                        .into_result(),
                    done,
                ));
            }
            if let Some(size) = page {
                if in_page >= size {
                    done.push(paged_response(encode_cookie(hash, &Position::Id(n - 1))));
                    return Ok(SearchEnd::Done(success(), done));
                }
            }
            let Some(e) = change_entry(&acl, &snap, schema, *n, rec)? else {
                continue;
            };
            let before = sent;
            if let Some(end) = send(e, &mut sent)? {
                return Ok(match end {
                    SearchEnd::Done(r, _) => SearchEnd::Done(r, done),
                    a => a,
                });
            }
            in_page += sent - before;
        }
        from = batch.last().map_or(u64::MAX, |(n, _)| n.saturating_add(1));
    }
    Ok(finish(done, page.is_some()))
}

fn finish(mut done: Vec<LdapControl>, paged: bool) -> SearchEnd {
    if paged {
        done.push(paged_response(Vec::new()));
    }
    SearchEnd::Done(success(), done)
}

/// `changeNumber=N,cn=changelog` -> N.
fn change_number_of(dn: &Dn, container: &Dn) -> Option<u64> {
    if dn.parent().norm() != container.norm() {
        return None;
    }
    let rdn = dn.rdn()?;
    let [ava] = rdn.avas() else { return None };
    if !ava.attr.eq_ignore_ascii_case("changeNumber") {
        return None;
    }
    std::str::from_utf8(&ava.value).ok()?.trim().parse().ok()
}

/// The change numbers a filter can match: bounds from `changeNumber` equality and ordering
/// items at its top level (or in a top-level AND). Every entry is still tested against the
/// whole filter; this only spares reading what cannot match.
fn number_range(f: &Filter) -> (u64, u64) {
    let num = |v: &[u8]| std::str::from_utf8(v).ok()?.parse::<i128>().ok();
    let clamp = |n: i128| n.clamp(0, u64::MAX as i128) as u64;
    let is_cn =
        |sel: &crate::core::filter::AttrSel| sel.ty.name().eq_ignore_ascii_case("changeNumber");
    match f {
        Filter::Equality(sel, _, v) if is_cn(sel) => match num(v) {
            Some(n) if n >= 0 => (clamp(n), clamp(n)),
            _ => (1, 0),
        },
        Filter::Ordering(sel, _, v, true) if is_cn(sel) => match num(v) {
            Some(n) => (clamp(n), u64::MAX),
            None => (0, u64::MAX),
        },
        Filter::Ordering(sel, _, v, false) if is_cn(sel) => match num(v) {
            Some(n) if n >= 0 => (0, clamp(n)),
            Some(_) => (1, 0),
            None => (0, u64::MAX),
        },
        Filter::And(items) => items.iter().fold((0, u64::MAX), |(lo, hi), i| {
            let (a, b) = number_range(i);
            (lo.max(a), hi.min(b))
        }),
        _ => (0, u64::MAX),
    }
}

/// One text value (shared with monitor.rs).
pub(super) fn text(s: &str) -> Vec<Vec<u8>> {
    vec![s.as_bytes().to_vec()]
}

fn container_entry(bounds: Option<(u64, u64)>) -> Entry {
    let (first, last) = bounds.unwrap_or((0, 0));
    let mut e = Entry::new(CHANGELOG_DN);
    e.set("objectClass", vec![b"top".to_vec(), b"changeLog".to_vec()]);
    e.set("cn", text("changelog"));
    e.set("firstChangeNumber", text(&first.to_string()));
    e.set("lastChangeNumber", text(&last.to_string()));
    e
}

/// One change as the reader may see it, or None when the reader may not see its entry.
fn change_entry(
    acl: &Checker<'_>,
    view: &dyn View,
    schema: &crate::core::schema::Schema,
    n: u64,
    rec: &ChangeRecord,
) -> Result<Option<Entry>, LdapError> {
    let key = format!("changeNumber={n},{CHANGELOG_DN}");
    if !acl.allows(
        &Dn::parse(&key, schema)?.store_key(),
        None,
        None,
        Level::Read,
    ) {
        return Ok(None);
    }
    // The entry as it is now: where a rename put it, nothing after a delete.
    let now_at = rec.new_dn.as_deref().unwrap_or(&rec.dn);
    let Ok(target) = Dn::parse(now_at, schema) else {
        return Ok(None);
    };
    let current = match rec.kind {
        ChangeKind::Delete => None,
        _ => view.lookup(&target)?.map(|(_, e)| e),
    };
    if !acl.visible(&target, current.as_ref()) {
        return Ok(None);
    }
    let tkey = target.store_key();
    let may_read = |attr: &str| match &current {
        Some(e) => acl.allows(&tkey, Some(e), Some(attr), Level::Read),
        None => acl.allows(&tkey, None, Some(attr), Level::Manage),
    };
    let mut e = Entry::new(key);
    e.set(
        "objectClass",
        vec![b"top".to_vec(), b"changeLogEntry".to_vec()],
    );
    e.set("changeNumber", text(&n.to_string()));
    e.set("targetDN", text(&rec.dn));
    let kind = match rec.kind {
        ChangeKind::Add => "add",
        ChangeKind::Delete => "delete",
        ChangeKind::Modify => "modify",
        ChangeKind::ModDn => "modrdn",
    };
    e.set("changeType", text(kind));
    if !rec.time.is_empty() {
        e.set("changeTime", text(&rec.time));
        e.set("createTimestamp", text(&rec.time));
    }
    if !rec.csn.is_empty() {
        e.set("changeCSN", text(&rec.csn));
    }
    if !rec.who.is_empty() {
        e.set("creatorsName", text(&rec.who));
    }
    if !rec.attrs.is_empty() {
        e.set(
            "changedAttribute",
            rec.attrs.iter().map(|a| a.as_bytes().to_vec()).collect(),
        );
    }
    if rec.kind == ChangeKind::ModDn {
        if let (Some(new), Ok(old)) = (&rec.new_dn, Dn::parse(&rec.dn, schema)) {
            if let Ok(new) = Dn::parse(new, schema) {
                if let Some(rdn) = new.rdn() {
                    e.set("newRDN", text(&rdn.display()));
                }
                e.set(
                    "deleteOldRDN",
                    text(if rec.delete_old_rdn { "TRUE" } else { "FALSE" }),
                );
                if new.parent().norm() != old.parent().norm() {
                    e.set("newSuperior", text(new.parent().display()));
                }
            }
        }
    }
    let changes = changes_ldif(rec, &may_read);
    if !changes.is_empty() {
        e.set("changes", vec![changes.into_bytes()]);
    }
    Ok(Some(e))
}

/// The `changes` value: LDIF lines (not folded), an add's attributes or a modify's replaces,
/// only for the attributes the reader may read.
fn changes_ldif(rec: &ChangeRecord, may_read: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let line = |out: &mut String, name: &str, v: &[u8]| {
        if is_safe(v) {
            out.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(v)));
        } else {
            let b = base64::engine::general_purpose::STANDARD.encode(v);
            out.push_str(&format!("{name}:: {b}\n"));
        }
    };
    for (name, vals) in &rec.values {
        let base = name.split(';').next().unwrap_or("");
        if !may_read(base) {
            continue;
        }
        match rec.kind {
            ChangeKind::Add => {
                for v in vals {
                    line(&mut out, name, v);
                }
            }
            ChangeKind::Modify => {
                out.push_str(&format!("replace: {name}\n"));
                for v in vals {
                    line(&mut out, name, v);
                }
                out.push_str("-\n");
            }
            ChangeKind::Delete | ChangeKind::ModDn => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::schema::Schema;
    use ldap3_proto::proto::LdapFilter;

    fn compile(f: LdapFilter) -> Filter {
        let s = Schema::builtin().unwrap();
        let limits = crate::core::filter::FilterLimits {
            max_depth: 10,
            max_elements: 100,
        };
        Filter::compile(&f, &s, limits).unwrap()
    }

    #[test]
    fn change_number_bounds_from_the_filter() {
        let ge = LdapFilter::GreaterOrEqual("changeNumber".into(), "5".into());
        let le = LdapFilter::LessOrEqual("changenumber".into(), "9".into());
        assert_eq!(number_range(&compile(ge.clone())), (5, u64::MAX));
        assert_eq!(
            number_range(&compile(LdapFilter::And(vec![
                ge.clone(),
                le,
                LdapFilter::Present("objectClass".into())
            ]))),
            (5, 9)
        );
        assert_eq!(
            number_range(&compile(LdapFilter::Equality(
                "changeNumber".into(),
                "7".into()
            ))),
            (7, 7)
        );
        // An OR may match anything: no bounds.
        assert_eq!(
            number_range(&compile(LdapFilter::Or(vec![ge]))),
            (0, u64::MAX)
        );
    }

    #[test]
    fn changes_are_ldif_and_only_what_the_reader_may_read() {
        let rec = ChangeRecord {
            time: String::new(),
            csn: String::new(),
            who: String::new(),
            kind: ChangeKind::Modify,
            dn: "cn=a".into(),
            new_dn: None,
            attrs: vec![],
            uuid: String::new(),
            delete_old_rdn: false,
            values: vec![
                ("telephoneNumber".into(), vec![b"+41 44 000 00 00".to_vec()]),
                ("description".into(), vec![]),
                ("cn;lang-de".into(), vec!["Grüezi".as_bytes().to_vec()]),
            ],
        };
        let all = changes_ldif(&rec, &|_| true);
        assert_eq!(
            all,
            "replace: telephoneNumber\ntelephoneNumber: +41 44 000 00 00\n-\n\
             replace: description\n-\n\
             replace: cn;lang-de\ncn;lang-de:: R3LDvGV6aQ==\n-\n"
        );
        let some = changes_ldif(&rec, &|a| a != "telephoneNumber");
        assert!(!some.contains("+41"), "{some}");
    }
}
