//! Links that resolve (as OpenLDAP's refint and constraint overlays do): the DN-valued
//! attributes in [`REFERENCES`] must name entries that exist, a registry's contact point and a
//! contact's substitutes must lie inside the registry of the entry that names them, and the
//! references follow the entries they name: a rename rewrites them, a delete removes them, and
//! a delete that would leave an entry without a value its object class requires (a registry's
//! only contact point, a group's only member) is refused (docs/operations/freshness.md).
//!
//! The pipeline runs [`check`] on what a change writes and [`follow_rename`] /
//! [`follow_delete`] inside the same transaction; bulk loads check after the load
//! ([`super::bulk`]), because an LDIF file may name an entry before the entry appears.

use super::values::{norm_value, record, stamp_modify, Stamp};
use crate::acl::Checker;
use crate::core::dit::REGISTRIES_RDN;
use crate::core::dn::Dn;
use crate::core::entry::{CheckedEntry, Entry};
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::index::IndexReader;
use crate::store::{StoreError, View, WriteCtx};
use ldap3_proto::proto::LdapResultCode;
use std::collections::BTreeMap;

/// The DN-valued attributes whose values must name existing entries and follow them.
pub(crate) const REFERENCES: &[&str] = &[
    "member",
    "roleOccupant",
    "seeAlso",
    "cctldContactPoint",
    "cctldSubstitute",
];

const CONTACT_POINT: &str = "cctldContactPoint";

/// Of those, the ones whose values must lie inside the registry of the entry holding them.
const WITHIN_REGISTRY: &[&str] = &["cctldContactPoint", "cctldSubstitute"];

fn is_reference(name: &str) -> bool {
    let base = name.split(';').next().unwrap_or("");
    REFERENCES.iter().any(|r| r.eq_ignore_ascii_case(base))
}

fn within_registry(name: &str) -> bool {
    let base = name.split(';').next().unwrap_or("");
    WITHIN_REGISTRY.iter().any(|r| r.eq_ignore_ascii_case(base))
}

/// Does the entry hold any reference value?
pub(crate) fn has_references(e: &Entry) -> bool {
    e.attrs
        .iter()
        .any(|a| is_reference(&a.name) && !a.values.is_empty())
}

/// The registry an entry belongs to: its ancestor (or itself) directly below `ou=registries`.
pub(crate) fn registry_of(dir: &Directory, dn: &Dn) -> Option<Dn> {
    let container = dir
        .parse_dn(&format!("{REGISTRIES_RDN},{}", dir.suffix.display()))
        .ok()?;
    if !dn.is_descendant_or_self(&container) || dn.depth() <= container.depth() {
        return None;
    }
    let mut d = dn.clone();
    while d.depth() > container.depth() + 1 {
        d = d.parent();
    }
    Some(d)
}

fn violation(msg: String) -> LdapError {
    LdapError::new(LdapResultCode::ConstraintViolation, msg)
}

/// Stage: the references an entry makes must resolve (constraintViolation listing every one
/// that does not). `written` limits the check to the attributes a change writes (None: all of
/// them, for a new entry). With `acl`, an entry the actor may not see counts as missing (so
/// the answer does not reveal it).
pub(crate) fn check(
    dir: &Directory,
    view: &dyn View,
    acl: Option<&Checker<'_>>,
    dn: &Dn,
    e: &Entry,
    written: Option<&[String]>,
) -> Result<(), LdapError> {
    let bad = problems(dir, view, acl, dn, e, written)?;
    if bad.is_empty() {
        Ok(())
    } else {
        Err(violation(bad.join("; ")))
    }
}

/// Every reference of `e` (among `written`) that does not resolve, one message each.
fn problems(
    dir: &Directory,
    view: &dyn View,
    acl: Option<&Checker<'_>>,
    dn: &Dn,
    e: &Entry,
    written: Option<&[String]>,
) -> Result<Vec<String>, StoreError> {
    let wrote = |n: &str| {
        written.is_none_or(|w| {
            w.iter().any(|x| {
                x.split(';')
                    .next()
                    .is_some_and(|b| b.eq_ignore_ascii_case(n.split(';').next().unwrap_or("")))
            })
        })
    };
    // Only contact points and substitutes need it: found once, when first asked for.
    let mut registry: Option<Option<Dn>> = None;
    let mut bad: Vec<String> = Vec::new();
    for a in &e.attrs {
        if !is_reference(&a.name) || !wrote(&a.name) {
            continue;
        }
        for v in &a.values {
            let text = String::from_utf8_lossy(v);
            let target = match dir.parse_dn(&text) {
                Ok(t) => t,
                Err(_) => {
                    bad.push(format!("{}: '{text}' is not a DN", a.name));
                    continue;
                }
            };
            if target.norm() != dn.norm() && !exists(view, acl, &target)? {
                bad.push(format!(
                    "{}: {} does not name an entry of this directory",
                    a.name,
                    target.display()
                ));
                continue;
            }
            if within_registry(&a.name) {
                match registry.get_or_insert_with(|| registry_of(dir, dn)) {
                    Some(r) if target.is_descendant_or_self(r) => {}
                    Some(r) => bad.push(format!(
                        "{}: {} is not inside the registry {}",
                        a.name,
                        target.display(),
                        r.display()
                    )),
                    None => bad.push(format!(
                        "{}: {} names a contact, but {} is not inside a registry",
                        a.name,
                        target.display(),
                        dn.display()
                    )),
                }
            }
        }
    }
    Ok(bad)
}

fn exists(view: &dyn View, acl: Option<&Checker<'_>>, dn: &Dn) -> Result<bool, StoreError> {
    let Some(id) = view.id_of(dn)? else {
        return Ok(false);
    };
    Ok(match acl {
        None => true,
        Some(acl) => {
            let e = view.entry(id)?;
            acl.visible(dn, e.as_ref())
        }
    })
}

/// The ids of the entries whose `attr` holds one of `targets` (or, with `below`, a DN at or
/// below one of them). By the equality index when the attribute has one, else by a scan.
fn referrers(
    dir: &Directory,
    tx: &WriteCtx<'_>,
    attr: &str,
    targets: &[Dn],
) -> Result<Vec<u64>, LdapError> {
    let Some(ty) = dir.schema.attribute(attr) else {
        return Ok(Vec::new());
    };
    let mut ids: Vec<u64> = Vec::new();
    if dir
        .store
        .index_spec()
        .eq
        .contains(&ty.name().to_ascii_lowercase())
    {
        for t in targets {
            let Some(norm) = norm_value(dir, ty, t.display().as_bytes()) else {
                continue;
            };
            let mut key = crate::store::index::attr_prefix(ty.name());
            key.extend_from_slice(&norm);
            ids.extend(tx.eq_ids(&key)?);
        }
    } else {
        let wanted: Vec<&str> = targets.iter().map(|t| t.norm()).collect();
        tx.scan_prefix::<LdapError>(&dir.suffix.store_key(), None, &mut |_, id| {
            if let Some(e) = tx.entry(id)? {
                let hit = e.attrs_of_type(ty.name()).any(|a| {
                    a.values.iter().any(|v| {
                        dir.parse_dn(&String::from_utf8_lossy(v))
                            .is_ok_and(|d| wanted.contains(&d.norm()))
                    })
                });
                if hit {
                    ids.push(id);
                }
            }
            Ok(true)
        })?;
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// What to do with a reference value that names a renamed or deleted entry.
enum Follow<'a> {
    /// Renamed: (old DN, new DN) of the entry and of each entry below it.
    Rename(&'a [(Dn, Dn)]),
    /// Deleted.
    Delete(&'a Dn),
}

/// Rewrite (or remove) the reference values of every entry that names the changed entries,
/// each a modify with its changelog record. The referrers are server-maintained: the actor
/// needs no access to them (as with OpenLDAP's refint overlay).
fn follow(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    st: &Stamp,
    how: Follow<'_>,
) -> Result<(), LdapError> {
    let targets: Vec<Dn> = match &how {
        Follow::Rename(pairs) => pairs.iter().map(|(o, _)| o.clone()).collect(),
        Follow::Delete(d) => vec![(*d).clone()],
    };
    // referrer id -> the attributes to look at
    let mut todo: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for attr in REFERENCES {
        for id in referrers(dir, tx, attr, &targets)? {
            todo.entry(id).or_default().push(attr);
        }
    }
    // A deleted entry's references to itself go with it.
    let skip = match &how {
        Follow::Delete(gone) => tx.id_of(gone)?,
        Follow::Rename(_) => None,
    };
    for (id, attrs) in todo {
        if Some(id) == skip {
            continue;
        }
        let Some(old) = tx.entry(id)? else {
            continue;
        };
        let mut e = old.clone();
        let mut names: Vec<String> = Vec::new();
        for attr in attrs {
            let Some(ty) = dir.schema.attribute(attr) else {
                continue;
            };
            for a in e.attrs.iter_mut() {
                if !a.base_name().eq_ignore_ascii_case(ty.name()) {
                    continue;
                }
                let before = a.values.len();
                let mut changed = false;
                let mut out: Vec<Vec<u8>> = Vec::with_capacity(before);
                for v in std::mem::take(&mut a.values) {
                    let Ok(d) = dir.parse_dn(&String::from_utf8_lossy(&v)) else {
                        out.push(v);
                        continue;
                    };
                    match &how {
                        Follow::Delete(gone) if d.norm() == gone.norm() => changed = true,
                        Follow::Rename(pairs) => {
                            match pairs.iter().find(|(o, _)| o.norm() == d.norm()) {
                                Some((_, n)) => {
                                    out.push(n.display().as_bytes().to_vec());
                                    changed = true;
                                }
                                None => out.push(v),
                            }
                        }
                        _ => out.push(v),
                    }
                }
                a.values = out;
                if changed && !names.contains(&a.name) {
                    names.push(a.name.clone());
                }
            }
        }
        if names.is_empty() {
            continue;
        }
        e.attrs.retain(|a| !a.values.is_empty());
        let dn = dir.parse_dn(&e.dn)?;
        if let Follow::Delete(gone) = &how {
            // A registry keeps a contact point, and an entry keeps the values its object
            // classes require: refuse, naming what to change first.
            let lost_point = old.get(CONTACT_POINT).is_some_and(|a| !a.values.is_empty())
                && e.get(CONTACT_POINT).is_none();
            let required =
                super::values::check_entry(dir, &dn, &e, LdapResultCode::NotALlowedOnRDN);
            if lost_point || required.is_err() {
                let why = match required {
                    Err(err) if !lost_point => format!(" ({})", err.message),
                    _ => " (a registry must keep a 24/7 contact point)".to_string(),
                };
                return Err(violation(format!(
                    "{} cannot be deleted: it is the only {} of {}{why}; name another first",
                    gone.display(),
                    names.join(", "),
                    e.dn,
                )));
            }
        }
        if let Follow::Rename(_) = &how {
            // A move to another registry would take a contact point or substitute out of the
            // registry that names it.
            let registry = registry_of(dir, &dn);
            for a in e.attrs.iter().filter(|a| within_registry(&a.name)) {
                for v in &a.values {
                    let t = dir.parse_dn(&String::from_utf8_lossy(v))?;
                    let inside = registry
                        .as_ref()
                        .is_some_and(|r| t.is_descendant_or_self(r));
                    if !inside {
                        return Err(violation(format!(
                            "{}: {} would leave the registry of {}, which names it",
                            a.name,
                            t.display(),
                            e.dn
                        )));
                    }
                }
            }
        }
        stamp_modify(&mut e, st);
        let checked = CheckedEntry::certified(e);
        tx.update(id, &old, &checked)?;
        let rec = record(st, ChangeKind::Modify, &checked.dn, None, names);
        let rec = super::values::with_values(rec.clone(), &checked, Some(&rec.attrs));
        tx.log(&rec)?;
    }
    Ok(())
}

/// After a rename (the entry and those below it already moved): rewrite the references to the
/// old names, and refuse a move that takes a contact out of the registry that names it, or
/// takes an entry's own contact points and substitutes out of its registry.
pub(crate) fn follow_rename(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    st: &Stamp,
    old: &Dn,
    new: &Dn,
) -> Result<(), LdapError> {
    let mut pairs: Vec<(Dn, Dn)> = vec![(old.clone(), new.clone())];
    let new_key = new.store_key();
    let mut below: Vec<u64> = Vec::new();
    tx.scan_prefix::<StoreError>(&new_key, Some(&new_key), &mut |_, id| {
        below.push(id);
        Ok(true)
    })?;
    for id in below {
        if let Some(e) = tx.entry(id)? {
            let nd = dir.parse_dn(&e.dn)?;
            if let Some(od) = nd.rebase(new, old) {
                pairs.push((od, nd));
            }
        }
    }
    follow(dir, tx, st, Follow::Rename(&pairs))?;
    if registry_of(dir, old) != registry_of(dir, new) {
        for (_, nd) in &pairs {
            if let Some((_, e)) = tx.lookup(nd)? {
                let own: Vec<String> = WITHIN_REGISTRY.iter().map(|s| s.to_string()).collect();
                check(dir, tx, None, nd, &e, Some(&own))?;
            }
        }
    }
    Ok(())
}

/// Before a delete: remove the references to the entry, or refuse when that would leave an
/// entry without a value its object class requires.
pub(crate) fn follow_delete(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    st: &Stamp,
    dn: &Dn,
) -> Result<(), LdapError> {
    follow(dir, tx, st, Follow::Delete(dn))
}

/// Every reference an entry makes that does not resolve (for `ccdir check` and bulk loads).
pub(crate) fn dangling(
    dir: &Directory,
    view: &dyn View,
    e: &Entry,
) -> Result<Vec<String>, StoreError> {
    match dir.parse_dn(&e.dn) {
        Ok(dn) => problems(dir, view, None, &dn, e, None),
        Err(_) => Ok(Vec::new()),
    }
}
