//! The write pipeline: every change to the directory (LDAP add, modify, modify DN and delete,
//! `ccdir import`, the first start, `ccdir verify`, the password operations, and later
//! replication and the portal) goes through [`apply`] or, for bulk loads, through
//! [`prepare_add`] and [`super::bulk`].
//!
//! Stages, in this order (an origin skips what [`Origin::stages`] says):
//!
//! 1. normalise: attribute descriptions parsed, values checked against their syntax,
//!    duplicates refused, cleartext passwords checked for quality and hashed, the RDN's
//!    values added to a new entry that lacks them (as OpenLDAP does);
//! 2. (in the write transaction) find the target and its parent (noSuchObject with matchedDN);
//! 3. access control as the actor;
//! 4. the request's own checks (hooks: assertion control, pre-read);
//! 5. the entry must not exist (add, rename);
//! 6. the change applied to a copy (modify, rename);
//! 7. freshness: the verification rules on contact entries;
//! 8. schema check, then the content checks (write/content.rs, for the origins that run
//!    them), which make the [`CheckedEntry`];
//!    then the references (write/references.rs): DN values name existing entries;
//! 9. operational attributes (entryUUID, CSN, timestamps, creator and modifier);
//! 10. the store: entry, DN tables, index keys;
//! 11. the changelog record; a rename or delete carries over to the entries that name the
//!     changed one (their own modify records);
//! 12. hooks after the change (post-read), then commit (durable before the caller answers).

use super::change::{Attrs, Change, Mod, ModOp, Origin, Stages, Write};
use super::content::ContentRules;
use super::history;
use super::references;
use super::values::{
    self, check_user_modifiable, is_password, norm_value, prepare_values, record, stamp,
    stamp_create, stamp_modify, Stamp, MAINTAINED,
};
use crate::acl::rules::Level;
use crate::acl::{Checker, Identity};
use crate::core::dn::{Dn, Rdn};
use crate::core::entry::{AttrDesc, CheckedEntry, Entry};
use crate::core::error::LdapError;
use crate::core::schema::matching::EqualityRule;
use crate::core::schema::AttributeType;
use crate::service::Directory;
use crate::store::changelog::{ChangeKind, ChangeRecord};
use crate::store::tables::ROOT_ID;
use crate::store::{View, WriteCtx};
use ldap3_proto::proto::LdapResultCode;

/// What the caller adds to a change inside its transaction: LDAP's assertion and read-entry
/// controls. Each runs with the actor's access checker over the write transaction.
pub(crate) trait Hooks {
    /// Once the target is found and access granted, before the change: the entry as it is
    /// (for an add, as the request gives it; `id` is None then).
    fn before(
        &mut self,
        _acl: &Checker<'_>,
        _view: &dyn View,
        _id: Option<u64>,
        _key: &[u8],
        _entry: &Entry,
    ) -> Result<(), LdapError> {
        Ok(())
    }

    /// True when [`Hooks::after`] is to run (a checker is made for it only then).
    fn reads_after(&self) -> bool {
        false
    }

    /// After the change is written, before the commit: the entry as it now is (not called for
    /// a delete).
    fn after(&mut self, _acl: &Checker<'_>, _key: &[u8], _entry: &Entry) -> Result<(), LdapError> {
        Ok(())
    }
}

/// No hooks.
pub(crate) struct Plain;

impl Hooks for Plain {}

/// Run a change through every stage its origin runs, in one write transaction.
pub(crate) fn apply(dir: &Directory, w: Write<'_>, hooks: &mut dyn Hooks) -> Result<(), LdapError> {
    let stages = w.origin.stages();
    // The time and CSN are taken inside the write transaction: writes commit one at a time,
    // so CSNs increase in commit (changelog) order, which replication consumers rely on.
    let actor = w.actor;
    let cx = || Ctx {
        dir,
        actor,
        stages,
        st: stamp(dir, actor),
    };
    match w.change {
        Change::Add { dn, attrs } => {
            let entry = normalise_add(dir, &dn, attrs, stages)?;
            dir.store.write(|tx| add(&cx(), tx, &dn, entry, hooks))
        }
        Change::Modify {
            dn,
            mods,
            permissive,
        } => {
            let prepared = normalise_mods(dir, mods, stages)?;
            dir.store
                .write(|tx| modify(&cx(), tx, &dn, &prepared, permissive, hooks))
        }
        Change::Rename {
            dn,
            new_rdn,
            delete_old_rdn,
            new_superior,
        } => {
            if dn.norm() == dir.suffix.norm() {
                return Err(LdapError::unwilling(
                    "cannot rename the naming context entry",
                ));
            }
            for ava in new_rdn.avas() {
                let ty = dir.schema.attribute(&ava.attr).ok_or_else(|| {
                    LdapError::undefined_type(format!("{}: attribute type undefined", ava.attr))
                })?;
                if !stages.keep_operational {
                    check_user_modifiable(ty)?;
                }
            }
            let r = Rename {
                new_rdn: &new_rdn,
                delete_old: delete_old_rdn,
                new_superior: new_superior.as_ref(),
            };
            dir.store.write(|tx| rename(&cx(), tx, &dn, &r, hooks))
        }
        Change::Delete { dn } => dir.store.write(|tx| delete(&cx(), tx, &dn, hooks)),
    }
}

/// A change received from a replication provider, inside the caller's write transaction (which
/// also stores the consumer's sync cookie, repl/consumer.rs): the stages of
/// [`Origin::Replication`], the provider's operational attributes kept, and the change records
/// carry the provider's CSN (`csn`, the entry's entryCSN), so that this server's changelog and
/// contextCSN follow the provider's and a consumer of this one (a chain) sees the same CSNs.
pub(crate) fn apply_replicated(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    actor: &Identity,
    change: Change,
    csn: &str,
) -> Result<(), LdapError> {
    let stages = Origin::Replication.stages();
    let cx = Ctx {
        dir,
        actor,
        stages,
        st: Stamp {
            time: crate::core::clock::generalized_time(dir.clock.now()),
            csn: csn.to_string(),
            who: actor.dn_str().to_string(),
        },
    };
    let hooks = &mut Plain;
    match change {
        Change::Add { dn, attrs } => {
            let entry = normalise_add(dir, &dn, attrs, stages)?;
            add(&cx, tx, &dn, entry, hooks)
        }
        Change::Modify {
            dn,
            mods,
            permissive,
        } => {
            let prepared = normalise_mods(dir, mods, stages)?;
            modify(&cx, tx, &dn, &prepared, permissive, hooks)
        }
        Change::Rename {
            dn,
            new_rdn,
            delete_old_rdn,
            new_superior,
        } => {
            let r = Rename {
                new_rdn: &new_rdn,
                delete_old: delete_old_rdn,
                new_superior: new_superior.as_ref(),
            };
            rename(&cx, tx, &dn, &r, hooks)
        }
        Change::Delete { dn } => delete(&cx, tx, &dn, hooks),
    }
}

/// What every stage of one change shares: the directory, who makes the change, what its
/// origin runs, and its time and CSN.
struct Ctx<'a> {
    dir: &'a Directory,
    actor: &'a Identity,
    stages: Stages,
    st: Stamp,
}

impl Ctx<'_> {
    /// The actor's access checker, or one that grants everything when the origin skips access
    /// control.
    fn checker<'t>(&'t self, tx: &'t WriteCtx<'_>) -> Checker<'t> {
        if self.stages.access {
            self.dir.policy.checker(self.actor, tx, &self.dir.schema)
        } else {
            self.dir
                .policy
                .unrestricted(self.actor, tx, &self.dir.schema)
        }
    }

    /// Stage 12: the hooks after the change, with a checker made only when they read.
    fn after(
        &self,
        tx: &WriteCtx<'_>,
        hooks: &mut dyn Hooks,
        key: &[u8],
        e: &Entry,
    ) -> Result<(), LdapError> {
        if !hooks.reads_after() {
            return Ok(());
        }
        hooks.after(&self.checker(tx), key, e)
    }
}

// ---- normalise ----------------------------------------------------------------------------

/// Stage 1 for a new entry: parse every attribute description, check and prepare the values
/// (merging repeated descriptions), and add the RDN's values when the attributes lack them.
pub(crate) fn normalise_add(
    dir: &Directory,
    dn: &Dn,
    attrs: Attrs,
    stages: Stages,
) -> Result<Entry, LdapError> {
    if dn.is_root() {
        return Err(LdapError::new(
            LdapResultCode::EntryAlreadyExists,
            "the root DSE exists",
        ));
    }
    if stages.password_quality {
        // Against the uid and mail values of the new entry.
        let forbidden: Vec<&[u8]> = attrs
            .iter()
            .filter(|(n, _)| {
                ["uid", "mail", "userid", "rfc822Mailbox"]
                    .iter()
                    .any(|x| n.eq_ignore_ascii_case(x))
            })
            .flat_map(|(_, v)| v.iter().map(|v| v.as_slice()))
            .collect();
        for (n, v) in &attrs {
            if is_password(n) {
                values::check_password_values(dir, v, &forbidden)?;
            }
        }
    }
    let mut entry = Entry::new(dn.display());
    for (name, vals) in attrs {
        let base = name.split(';').next().unwrap_or("");
        if (stages.drop_operational || stages.keep_operational)
            && SKIPPED_FOREIGN.iter().any(|f| f.eq_ignore_ascii_case(base))
        {
            continue;
        }
        let desc = AttrDesc::parse(&name, &dir.schema)?;
        let operational = desc.ty.no_user_modification;
        if operational {
            if stages.drop_operational {
                continue;
            }
            if !stages.keep_operational {
                check_user_modifiable(&desc.ty)?;
            }
        }
        if vals.is_empty() {
            return Err(LdapError::protocol(format!(
                "{name}: no values for attribute type"
            )));
        }
        let canonical = desc.to_attribute_name();
        let vals = if operational {
            vals
        } else {
            let mut vals = vals;
            if let Some(existing) = entry.get_mut(&canonical) {
                let mut all = std::mem::take(&mut existing.values);
                all.append(&mut vals);
                vals = all;
            }
            prepare_values(dir, &desc, vals, stages.hash_passwords)?
        };
        entry.set(&canonical, vals);
    }
    add_rdn_values(dir, dn, &mut entry)?;
    Ok(entry)
}

/// OpenLDAP-internal operational attributes that slapcat writes and ccdir does not keep.
const SKIPPED_FOREIGN: &[&str] = &["contextCSN"];

/// The values of the RDN become values of the entry when missing (as OpenLDAP's add does):
/// `dn: cn=x,...` without `cn: x` gets `cn: x`.
fn add_rdn_values(dir: &Directory, dn: &Dn, entry: &mut Entry) -> Result<(), LdapError> {
    let Some(rdn) = dn.rdn() else {
        return Ok(());
    };
    for ava in rdn.avas() {
        let desc = AttrDesc::parse(&ava.attr, &dir.schema)?;
        let ty = &desc.ty;
        let name = ty.name().to_string();
        if !holds(dir, entry, ty, &ava.norm_value) {
            let value = prepare_values(dir, &desc, vec![ava.value.clone()], true)?;
            let mut vals = entry
                .get(&name)
                .map(|a| a.values.clone())
                .unwrap_or_default();
            vals.extend(value);
            entry.set(&name, vals);
        }
    }
    Ok(())
}

/// A modification after stage 1.
pub(crate) struct Prepared {
    op: ModOp,
    desc: AttrDesc,
    values: Vec<Vec<u8>>,
    /// The cleartext values of a new password, for the quality check against the entry (kept
    /// only here, never logged).
    cleartext: Vec<Vec<u8>>,
}

fn normalise_mods(
    dir: &Directory,
    mods: Vec<Mod>,
    stages: Stages,
) -> Result<Vec<Prepared>, LdapError> {
    let mut out = Vec::with_capacity(mods.len());
    for Mod { op, attr, values } in mods {
        let desc = AttrDesc::parse(&attr, &dir.schema)?;
        if !stages.keep_operational {
            check_user_modifiable(&desc.ty)?;
        }
        let cleartext = if stages.password_quality && is_password(&attr) && op != ModOp::Delete {
            values.clone()
        } else {
            Vec::new()
        };
        let values = match op {
            ModOp::Delete | ModOp::Increment => values,
            ModOp::Add | ModOp::Replace => {
                prepare_values(dir, &desc, values, stages.hash_passwords)?
            }
        };
        out.push(Prepared {
            op,
            desc,
            values,
            cleartext,
        });
    }
    Ok(out)
}

// ---- the changes, in the write transaction --------------------------------------------------

fn add(
    cx: &Ctx<'_>,
    tx: &mut WriteCtx<'_>,
    dn: &Dn,
    mut entry: Entry,
    hooks: &mut dyn Hooks,
) -> Result<(), LdapError> {
    let (dir, stages, st) = (cx.dir, cx.stages, &cx.st);
    let key = dn.store_key();
    let acl = cx.checker(tx);
    let parent = parent_id(dir, tx, &acl, dn)?;
    if !acl.allows(&key, Some(&entry), None, Level::Write) {
        let parent_dn = dn.parent();
        return Err(acl.refuse(&parent_dn, tx.lookup(&parent_dn)?.map(|x| x.1).as_ref()));
    }
    if stages.history {
        history::refuse_add(&entry)?;
    }
    // The assertion applies to the entry as the request gives it (RFC 4528 3).
    hooks.before(&acl, tx, None, &key, &entry)?;
    let manage = acl.allows(&key, Some(&entry), None, Level::Manage);
    drop(acl);
    if tx.id_of(dn)?.is_some() {
        return Err(LdapError::new(
            LdapResultCode::EntryAlreadyExists,
            format!("entry {} already exists", dn.display()),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for a in &entry.attrs {
        if !names.contains(&a.name) {
            names.push(a.name.clone());
        }
    }
    let given = names.clone();
    let trig = if stages.freshness {
        freshness(cx, tx, manage, &mut names, true, &mut entry)?
    } else {
        crate::freshness::Trigger::None
    };
    if stages.references {
        references::check(dir, tx, Some(&cx.checker(tx)), dn, &entry, None)?;
    }
    if stages.accounts {
        super::accounts::on_write(dir, &*tx, dn, manage, None, &mut names, &mut entry)?;
    }
    let entry = check_new(dir, dn, entry, st, stages)?;
    tx.insert(parent, dn, &entry)?;
    let rec = record(st, ChangeKind::Add, dn.display(), None, names);
    tx.log(&values::with_values(rec, &entry, None))?;
    history::write(dir, tx, st, trig, &given, &entry)?;
    cx.after(tx, hooks, &key, &entry)
}

/// Stages 8 and 9 for a new entry: the schema check, then the operational attributes (kept
/// from the input where the origin keeps them).
pub(crate) fn check_new(
    dir: &Directory,
    dn: &Dn,
    mut entry: Entry,
    st: &Stamp,
    stages: Stages,
) -> Result<CheckedEntry, LdapError> {
    let sc = values::check_entry(dir, dn, &entry, LdapResultCode::NamingViolation)?;
    if stages.content {
        ContentRules::new(&dir.config.checks).check(&entry, None)?;
    }
    entry.set("structuralObjectClass", vec![sc.into_bytes()]);
    let kept: Vec<(&str, Vec<Vec<u8>>)> = if stages.keep_operational {
        MAINTAINED
            .iter()
            .filter(|n| **n != "structuralObjectClass")
            .filter_map(|n| entry.get(n).map(|a| (*n, a.values.clone())))
            .collect()
    } else {
        Vec::new()
    };
    stamp_create(&mut entry, st);
    for (n, v) in kept {
        entry.set(n, v);
    }
    Ok(CheckedEntry::certified(canonical_order(entry)))
}

/// For bulk loads: stages 1, 8 and 9 of an add, which need no transaction (they may run on
/// another thread than the writes). The bulk loader does the rest (parent, existence, store,
/// changelog) per batch.
pub(crate) fn prepare_add(
    dir: &Directory,
    origin: Origin,
    dn_text: &str,
    attrs: Attrs,
) -> Result<(Dn, CheckedEntry), LdapError> {
    let stages = origin.stages();
    let dn = dir.parse_dn(dn_text)?;
    let entry = normalise_add(dir, &dn, attrs, stages)?;
    let st = stamp(dir, &Identity::User(dir.policy.admin.clone()));
    let entry = check_new(dir, &dn, entry, &st, stages)?;
    Ok((dn, entry))
}

fn modify(
    cx: &Ctx<'_>,
    tx: &mut WriteCtx<'_>,
    dn: &Dn,
    changes: &[Prepared],
    permissive: bool,
    hooks: &mut dyn Hooks,
) -> Result<(), LdapError> {
    let (dir, stages, st) = (cx.dir, cx.stages, &cx.st);
    let acl = cx.checker(tx);
    let Some((id, old)) = tx.lookup(dn)? else {
        return Err(acl.no_such_object(dn));
    };
    let key = dn.store_key();
    if !acl.visible(dn, Some(&old)) {
        return Err(acl.no_such_object(dn));
    }
    for c in changes {
        // Adding or deleting named values may be allowed value by value (`valuewrite`).
        let by_value = matches!(c.op, ModOp::Add | ModOp::Delete)
            && acl.allows_values(
                &key,
                Some(&old),
                c.desc.name(),
                &c.values,
                c.op == ModOp::Add,
            );
        if !by_value && !acl.allows(&key, Some(&old), Some(c.desc.name()), Level::Write) {
            return Err(LdapError::insufficient_access(format!(
                "no write access to {} of {}",
                c.desc.name(),
                dn.display()
            )));
        }
    }
    if stages.history {
        history::refuse_change(&old)?;
    }
    hooks.before(&acl, tx, Some(id), &key, &old)?;
    let manage = acl.allows(&key, Some(&old), None, Level::Manage);
    drop(acl);
    let cleartext: Vec<Vec<u8>> = changes
        .iter()
        .flat_map(|c| c.cleartext.iter().cloned())
        .collect();
    if !cleartext.is_empty() {
        let forbidden: Vec<&[u8]> = ["uid", "mail"]
            .iter()
            .filter_map(|a| old.get(a))
            .flat_map(|a| a.values.iter().map(|v| v.as_slice()))
            .collect();
        values::check_password_values(dir, &cleartext, &forbidden)?;
    }
    let mut e = old.clone();
    let mut names: Vec<String> = Vec::new();
    for c in changes {
        apply_mod(dir, &mut e, c.op, &c.desc, c.values.clone(), permissive)?;
        let n = c.desc.to_attribute_name();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    // The structural class may not change (69), checked before the attribute rules.
    let classes = crate::core::schema::check::classes(&dir.schema, &e)?;
    let new_sc = crate::core::schema::check::structural_class(&dir.schema, &classes)?;
    let old_sc = old.first_str("structuralObjectClass").unwrap_or_default();
    if !old_sc.is_empty() && !new_sc.eq_ignore_ascii_case(old_sc) {
        return Err(LdapError::new(
            LdapResultCode::ObjectClassModsProhibited,
            format!(
                "structural object class modification from '{old_sc}' to '{new_sc}' is not allowed"
            ),
        ));
    }
    let given = names.clone();
    let trig = if stages.freshness {
        freshness(cx, tx, manage, &mut names, false, &mut e)?
    } else {
        crate::freshness::Trigger::None
    };
    if stages.accounts {
        super::accounts::on_write(dir, &*tx, dn, manage, Some(&old), &mut names, &mut e)?;
    }
    values::check_entry(dir, dn, &e, LdapResultCode::NotALlowedOnRDN)?;
    if stages.content {
        // Only what this change writes: a value stored before a rule existed is reported by
        // `ccdir check`, not a reason to refuse an unrelated change.
        ContentRules::new(&dir.config.checks).check(&e, Some(&names))?;
    }
    if stages.references {
        references::check(dir, tx, Some(&cx.checker(tx)), dn, &e, Some(&names))?;
    }
    if !stages.keep_operational {
        stamp_modify(&mut e, st);
    }
    let e = CheckedEntry::certified(e);
    tx.update(id, &old, &e)?;
    let rec = record(st, ChangeKind::Modify, &e.dn, None, names);
    let rec = values::with_values(rec.clone(), &e, Some(&rec.attrs));
    tx.log(&rec)?;
    history::write(dir, tx, st, trig, &given, &e)?;
    cx.after(tx, hooks, &key, &e)
}

/// The freshness stage: the verification rules, and the attributes they set joined to the
/// change record's names. Whether the actor may record a verification (a member of the
/// recorder groups) is looked up only when the change records one.
fn freshness(
    cx: &Ctx<'_>,
    tx: &WriteCtx<'_>,
    manage: bool,
    names: &mut Vec<String>,
    added: bool,
    e: &mut Entry,
) -> Result<crate::freshness::Trigger, LdapError> {
    let dir = cx.dir;
    let trig = crate::freshness::trigger(names, added, e);
    let may_record = || {
        let acl = cx.checker(tx);
        dir.config
            .freshness
            .recorder_groups(dir.suffix.display())
            .iter()
            .filter_map(|g| dir.parse_dn(g).ok())
            .any(|g| acl.in_group(&g))
    };
    for n in values::stamp_freshness(dir, &cx.st, manage, &may_record, names, added, e)? {
        if !names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
            names.push(n.to_string());
        }
    }
    Ok(trig)
}

/// One modification applied to the working copy of the entry.
fn apply_mod(
    dir: &Directory,
    e: &mut Entry,
    op: ModOp,
    desc: &AttrDesc,
    values: Vec<Vec<u8>>,
    permissive: bool,
) -> Result<(), LdapError> {
    let name = desc.to_attribute_name();
    let ty = &desc.ty;
    let norm = |v: &[u8]| norm_value(dir, ty, v);
    match op {
        ModOp::Add => {
            if values.is_empty() {
                return Err(LdapError::protocol(format!("{name}: no values to add")));
            }
            let mut cur = e.get(&name).map(|a| a.values.clone()).unwrap_or_default();
            let existing: Vec<Option<Vec<u8>>> = cur.iter().map(|v| norm(v)).collect();
            for (i, v) in values.into_iter().enumerate() {
                let n = norm(&v);
                if ty.equality.is_some() && existing.contains(&n) {
                    if permissive {
                        continue;
                    }
                    return Err(LdapError::new(
                        LdapResultCode::AttributeOrValueExists,
                        format!("{name}: value #{i} already exists"),
                    ));
                }
                cur.push(v);
            }
            e.set(&name, cur);
        }
        ModOp::Delete => {
            let Some(attr) = e.get(&name) else {
                if permissive {
                    return Ok(());
                }
                return Err(LdapError::new(
                    LdapResultCode::NoSuchAttribute,
                    format!("{name}: no such attribute"),
                ));
            };
            if values.is_empty() {
                e.remove(&name);
            } else {
                let mut cur = attr.values.clone();
                for (i, v) in values.iter().enumerate() {
                    let Some(n) = norm(v) else {
                        if permissive {
                            continue;
                        }
                        return Err(LdapError::new(
                            LdapResultCode::NoSuchAttribute,
                            format!("{name}: value #{i} invalid per syntax, so not present"),
                        ));
                    };
                    let pos = cur
                        .iter()
                        .position(|c| norm(c).as_deref() == Some(n.as_slice()));
                    match pos {
                        Some(p) => {
                            cur.remove(p);
                        }
                        None if permissive => {}
                        None => {
                            return Err(LdapError::new(
                                LdapResultCode::NoSuchAttribute,
                                format!("{name}: value #{i} not present"),
                            ))
                        }
                    }
                }
                e.set(&name, cur);
            }
        }
        ModOp::Replace => {
            e.set(&name, values);
        }
        ModOp::Increment => {
            if ty.equality != Some(EqualityRule::Integer) {
                return Err(LdapError::constraint(format!(
                    "{name}: increment applies only to integer attributes"
                )));
            }
            let [delta] = values.as_slice() else {
                return Err(LdapError::protocol(format!(
                    "{name}: increment needs exactly one value"
                )));
            };
            let delta = std::str::from_utf8(delta)
                .ok()
                .and_then(|s| s.trim().parse::<i128>().ok())
                .ok_or_else(|| {
                    LdapError::syntax(format!("{name}: increment value is not an integer"))
                })?;
            let Some(attr) = e.get(&name) else {
                return Err(LdapError::new(
                    LdapResultCode::NoSuchAttribute,
                    format!("{name}: no such attribute to increment"),
                ));
            };
            let mut out = Vec::with_capacity(attr.values.len());
            for v in &attr.values {
                let cur = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse::<i128>().ok())
                    .ok_or_else(|| {
                        LdapError::constraint(format!("{name}: stored value is out of range"))
                    })?;
                let n = cur
                    .checked_add(delta)
                    .ok_or_else(|| LdapError::constraint(format!("{name}: increment overflows")))?;
                out.push(n.to_string().into_bytes());
            }
            e.set(&name, out);
        }
    }
    Ok(())
}

struct Rename<'a> {
    new_rdn: &'a Rdn,
    delete_old: bool,
    new_superior: Option<&'a Dn>,
}

fn rename(
    cx: &Ctx<'_>,
    tx: &mut WriteCtx<'_>,
    dn: &Dn,
    r: &Rename<'_>,
    hooks: &mut dyn Hooks,
) -> Result<(), LdapError> {
    let (dir, stages, st) = (cx.dir, cx.stages, &cx.st);
    let acl = cx.checker(tx);
    let (id, old) = writable_target(&acl, tx, dn)?;
    if stages.history {
        history::refuse_change(&old)?;
    }
    hooks.before(&acl, tx, Some(id), &dn.store_key(), &old)?;
    let old_parent = parent_id(dir, tx, &acl, dn)?;
    let parent_dn = match r.new_superior {
        Some(ns) => ns.clone(),
        None => dn.parent(),
    };
    let new_parent = if r.new_superior.is_some() {
        if parent_dn.is_descendant_or_self(dn) {
            return Err(LdapError::unwilling("cannot move an entry below itself"));
        }
        let found = match tx.lookup(&parent_dn)? {
            Some((pid, pe)) if acl.visible(&parent_dn, Some(&pe)) => Some(pid),
            _ => None,
        };
        match found {
            Some(pid) => pid,
            None if parent_dn.is_root() => ROOT_ID,
            None => {
                return Err(LdapError::no_such_object(format!(
                    "new superior {} does not exist",
                    parent_dn.display()
                ))
                .with_matched(acl.matched_dn(&parent_dn)))
            }
        }
    } else {
        old_parent
    };
    let new_dn = parent_dn.child(r.new_rdn.clone());
    if !new_dn.is_descendant_or_self(&dir.suffix) {
        return Err(LdapError::unwilling(format!(
            "{} is not within the naming context",
            new_dn.display()
        )));
    }
    if new_dn.norm() != dn.norm() && tx.id_of(&new_dn)?.is_some() {
        return Err(LdapError::new(
            LdapResultCode::EntryAlreadyExists,
            format!("entry {} already exists", new_dn.display()),
        ));
    }
    let mut e = old.clone();
    let mut names: Vec<String> = Vec::new();
    // Remove the old RDN values that are not in the new RDN.
    if r.delete_old {
        if let Some(old_rdn) = dn.rdn() {
            for ava in old_rdn.avas() {
                let kept = r.new_rdn.avas().iter().any(|n| {
                    n.attr.eq_ignore_ascii_case(&ava.attr) && n.norm_value == ava.norm_value
                });
                if kept {
                    continue;
                }
                let Some(ty) = dir.schema.attribute(&ava.attr) else {
                    continue;
                };
                if let Some(a) = e.get_mut(ty.name()) {
                    a.values.retain(|v| {
                        norm_value(dir, ty, v).as_deref() != Some(ava.norm_value.as_slice())
                    });
                    if a.values.is_empty() {
                        e.remove(ty.name());
                    }
                    names.push(ty.name().to_string());
                }
            }
        }
    }
    // Add the new RDN values that are missing.
    for ava in r.new_rdn.avas() {
        let desc = AttrDesc::parse(&ava.attr, &dir.schema)?;
        let ty = &desc.ty;
        // The value without options (`cn`, not only `cn;lang-de`), as before.
        let present = e.get(ty.name()).is_some_and(|a| {
            a.values
                .iter()
                .any(|v| norm_value(dir, ty, v).as_deref() == Some(ava.norm_value.as_slice()))
        });
        if !present {
            let mut vals = e
                .get(ty.name())
                .map(|a| a.values.clone())
                .unwrap_or_default();
            vals.push(ava.value.clone());
            e.set(ty.name(), vals);
            names.push(ty.name().to_string());
        }
    }
    e.dn = new_dn.display().to_string();
    if !acl.allows(&new_dn.store_key(), Some(&e), None, Level::Write) {
        return Err(LdapError::insufficient_access(format!(
            "no write access to {}",
            new_dn.display()
        )));
    }
    drop(acl);
    values::check_entry(dir, &new_dn, &e, LdapResultCode::NamingViolation)?;
    if stages.content {
        ContentRules::new(&dir.config.checks).check(&e, Some(&names))?;
    }
    if !stages.keep_operational {
        stamp_modify(&mut e, st);
    }
    let e = CheckedEntry::certified(e);
    tx.rename(
        crate::store::Move {
            id,
            old_parent,
            new_parent,
            old_dn: dn,
            new_dn: &new_dn,
        },
        &old,
        &e,
    )?;
    let rec = record(
        st,
        ChangeKind::ModDn,
        &old.dn,
        Some(new_dn.display()),
        names,
    );
    tx.log(&ChangeRecord {
        delete_old_rdn: r.delete_old,
        ..values::with_values(rec, &e, Some(&[]))
    })?;
    if stages.references {
        references::follow_rename(dir, tx, st, dn, &new_dn)?;
    }
    cx.after(tx, hooks, &new_dn.store_key(), &e)
}

fn delete(
    cx: &Ctx<'_>,
    tx: &mut WriteCtx<'_>,
    dn: &Dn,
    hooks: &mut dyn Hooks,
) -> Result<(), LdapError> {
    let (dir, stages, st) = (cx.dir, cx.stages, &cx.st);
    let acl = cx.checker(tx);
    let (id, entry) = writable_target(&acl, tx, dn)?;
    if stages.history && stages.access {
        history::check_delete(&acl, &dn.store_key(), &entry)?;
    }
    let parent = parent_id(dir, tx, &acl, dn)?;
    hooks.before(&acl, tx, Some(id), &dn.store_key(), &entry)?;
    drop(acl);
    if tx.has_children(id)? {
        return Err(LdapError::new(
            LdapResultCode::NotAllowedOnNonLeaf,
            format!("{} has subordinate entries", dn.display()),
        ));
    }
    if stages.references {
        references::follow_delete(dir, tx, st, dn)?;
    }
    tx.remove(id, parent, &entry)?;
    let rec = record(st, ChangeKind::Delete, &entry.dn, None, vec![]);
    tx.log(&values::with_values(rec, &entry, Some(&[])))?;
    Ok(())
}

/// The entry a rename or delete changes as a whole: noSuchObject (with the matchedDN the actor
/// may see) when it is missing, the refusal access control gives when the actor may not write
/// it.
fn writable_target(
    acl: &Checker<'_>,
    tx: &WriteCtx<'_>,
    dn: &Dn,
) -> Result<(u64, Entry), LdapError> {
    let Some((id, e)) = tx.lookup(dn)? else {
        return Err(acl.no_such_object(dn));
    };
    if !acl.allows(&dn.store_key(), Some(&e), None, Level::Write) {
        return Err(acl.refuse(dn, Some(&e)));
    }
    Ok((id, e))
}

/// Does the entry hold this (normalised) value of the type, under any option?
fn holds(dir: &Directory, e: &Entry, ty: &AttributeType, norm: &[u8]) -> bool {
    e.attrs_of_type(ty.name()).any(|a| {
        a.values
            .iter()
            .any(|v| norm_value(dir, ty, v).as_deref() == Some(norm))
    })
}

/// The id of the parent of `dn` for a write: the root for the suffix itself, noSuchObject (with
/// matchedDN) when the parent is missing, unwillingToPerform outside the naming context.
fn parent_id(
    dir: &Directory,
    view: &dyn View,
    acl: &Checker<'_>,
    dn: &Dn,
) -> Result<u64, LdapError> {
    if dn.norm() == dir.suffix.norm() {
        return Ok(ROOT_ID);
    }
    if !dn.is_descendant_or_self(&dir.suffix) || dn.is_root() {
        return Err(LdapError::unwilling(format!(
            "{} is not within the naming context {}",
            dn.display(),
            dir.suffix.display()
        )));
    }
    let parent = dn.parent();
    if let Some(id) = view.id_of(&parent)? {
        let e = view.entry(id)?;
        if acl.visible(&parent, e.as_ref()) {
            return Ok(id);
        }
    }
    Err(
        LdapError::no_such_object(format!("parent entry {} does not exist", parent.display()))
            .with_matched(acl.matched_dn(&parent)),
    )
}

/// User attributes in their order, then the operational attributes in a fixed order: the form
/// export writes, so that export -> import -> export gives the same bytes.
pub(crate) fn canonical_order(mut e: Entry) -> Entry {
    let mut ops = Vec::new();
    for name in MAINTAINED {
        if let Some(pos) = e
            .attrs
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(name))
        {
            ops.push(e.attrs.remove(pos));
        }
    }
    e.attrs.extend(ops);
    e
}
