//! Access control: compiled rules (rules.rs) evaluated per entry and attribute.
//!
//! The administrator (`admin_dn`) may do everything, like OpenLDAP's rootdn. Everyone else gets
//! the level the first matching rule gives them. An entry the requester may not search is
//! treated as absent (noSuchObject, no matchedDN through it), so access refusals never reveal
//! what exists.

pub mod rules;

use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::filter::Tri;
use crate::core::schema::Schema;
use crate::store::View;
use rules::{Level, Rule, Who};
use std::cell::RefCell;
use std::collections::HashMap;

/// Who is asking.
#[derive(Debug, Clone)]
pub(crate) enum Identity {
    Anonymous,
    User(Dn),
}

impl Identity {
    pub(crate) fn dn(&self) -> Option<&Dn> {
        match self {
            Identity::Anonymous => None,
            Identity::User(d) => Some(d),
        }
    }
    /// The bound DN as text, "" for anonymous.
    pub(crate) fn dn_str(&self) -> &str {
        self.dn().map(|d| d.display()).unwrap_or("")
    }
}

/// The compiled access policy.
pub(crate) struct Policy {
    pub(crate) admin: Dn,
    pub(crate) rules: Vec<Rule>,
    /// Attribute names some rule lists (lower case); for any other attribute the level is the
    /// entry's, unless a rule lists `entry` (then every level is computed).
    listed_attrs: Vec<String>,
    entry_listed: bool,
    /// Group memberships found in read snapshots: (group, member, subtree) -> (store
    /// generation, is member). Valid while the store has not changed since.
    pub(crate) memberships: std::sync::Mutex<HashMap<MembershipKey, (u64, bool)>>,
}

/// (group store key, member store key, subtree semantics).
type MembershipKey = (Vec<u8>, Vec<u8>, bool);

/// Most memberships remembered; the cache starts over beyond that.
const MAX_CACHED_MEMBERSHIPS: usize = 10_000;

impl Policy {
    pub(crate) fn new(admin: Dn, rules: Vec<Rule>) -> Policy {
        let mut listed_attrs: Vec<String> = Vec::new();
        let mut entry_listed = false;
        for r in &rules {
            for a in &r.attrs {
                if a == "entry" {
                    entry_listed = true;
                } else if !listed_attrs.contains(a) {
                    listed_attrs.push(a.clone());
                }
            }
        }
        Policy {
            admin,
            rules,
            listed_attrs,
            entry_listed,
            memberships: std::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl Policy {
    pub(crate) fn is_admin(&self, who: &Identity) -> bool {
        who.dn().is_some_and(|d| d.norm() == self.admin.norm())
    }

    /// Are `who`'s searches free of the server's size and time limits?
    pub(crate) fn unlimited(&self, who: &Identity) -> bool {
        self.is_admin(who)
    }

    /// An evaluator for one request (it caches group memberships while the request runs).
    pub(crate) fn checker<'a>(
        &'a self,
        who: &'a Identity,
        view: &'a dyn View,
        schema: &'a Schema,
    ) -> Checker<'a> {
        Checker {
            policy: self,
            who,
            who_key: who.dn().map(|d| d.store_key()),
            admin: self.is_admin(who),
            view,
            schema,
            groups: RefCell::new(Vec::new()),
        }
    }
}

impl Policy {
    /// An evaluator that grants everything, for writes whose origin skips access control
    /// (import, first start, replication, the server's own changes); `who` is still the
    /// change's author.
    pub(crate) fn unrestricted<'a>(
        &'a self,
        who: &'a Identity,
        view: &'a dyn View,
        schema: &'a Schema,
    ) -> Checker<'a> {
        let mut c = self.checker(who, view, schema);
        c.admin = true;
        c
    }
}

/// Access decisions for one requester, over one view of the store.
pub(crate) struct Checker<'a> {
    policy: &'a Policy,
    who: &'a Identity,
    who_key: Option<Vec<u8>>,
    admin: bool,
    view: &'a dyn View,
    schema: &'a Schema,
    /// Memberships found during this request: (group key, subtree, member?). Few groups per
    /// request, so a list searched without allocating.
    groups: RefCell<Vec<(Vec<u8>, bool, bool)>>,
}

fn depth_of(key: &[u8]) -> usize {
    key.iter().filter(|b| **b == 0).count()
}

impl Checker<'_> {
    pub(crate) fn is_admin(&self) -> bool {
        self.admin
    }

    /// The access level on an entry (attr None) or one of its attributes. `entry` is needed for
    /// rules with a filter (without it, such rules do not apply).
    pub(crate) fn level(&self, key: &[u8], entry: Option<&Entry>, attr: Option<&str>) -> Level {
        if self.admin {
            return Level::Manage;
        }
        let depth = depth_of(key);
        for rule in &self.policy.rules {
            if !rule.covers(key, depth, attr) {
                continue;
            }
            if let Some(f) = &rule.filter {
                match entry {
                    Some(e) if f.eval(e, self.schema) == Tri::True => {}
                    _ => continue,
                }
            }
            for (who, level) in &rule.by {
                if self.matches(who, key) {
                    return *level;
                }
            }
            return Level::None;
        }
        Level::None
    }

    /// The level on an attribute when the entry's own level is already known: the same, unless
    /// some rule lists this attribute (or lists `entry`).
    pub(crate) fn attr_level(
        &self,
        key: &[u8],
        entry: Option<&Entry>,
        attr: &str,
        entry_level: Level,
    ) -> Level {
        if self.admin {
            return Level::Manage;
        }
        let p = self.policy;
        if !p.entry_listed && !p.listed_attrs.iter().any(|a| a.eq_ignore_ascii_case(attr)) {
            return entry_level;
        }
        self.level(key, entry, Some(attr))
    }

    /// May the requester add (`adding`) or delete these values (DNs) of `attr` of the target
    /// entry under a `valuewrite` (add and delete) or `valuedelete` (delete only) clause? The
    /// first rule that covers the attribute decides, as for [`Checker::level`]; in it, such a
    /// clause allows the values when its subject matches every entry they name, and any other
    /// clause whose subject matches the requester decides by its own level.
    pub(crate) fn allows_values(
        &self,
        key: &[u8],
        entry: Option<&Entry>,
        attr: &str,
        values: &[Vec<u8>],
        adding: bool,
    ) -> bool {
        if self.admin {
            return true;
        }
        if self.who_key.is_none() || values.is_empty() {
            return false;
        }
        let depth = depth_of(key);
        for rule in &self.policy.rules {
            if !rule.covers(key, depth, Some(attr)) {
                continue;
            }
            if let Some(f) = &rule.filter {
                match entry {
                    Some(e) if f.eval(e, self.schema) == Tri::True => {}
                    _ => continue,
                }
            }
            let value_keys: Option<Vec<Vec<u8>>> = values
                .iter()
                .map(|v| {
                    let text = std::str::from_utf8(v).ok()?;
                    Dn::parse(text, self.schema).ok().map(|d| d.store_key())
                })
                .collect();
            for (who, level) in &rule.by {
                let by_value =
                    *level == Level::ValueWrite || (*level == Level::ValueDelete && !adding);
                if *level == Level::ValueDelete && adding {
                    continue;
                }
                if by_value {
                    if let Some(keys) = &value_keys {
                        if keys.iter().all(|k| self.matches(who, k)) {
                            return true;
                        }
                    }
                    continue;
                }
                if self.matches(who, key) {
                    return *level >= Level::Write;
                }
            }
            return false;
        }
        false
    }

    pub(crate) fn allows(
        &self,
        key: &[u8],
        entry: Option<&Entry>,
        attr: Option<&str>,
        need: Level,
    ) -> bool {
        self.level(key, entry, attr) >= need
    }

    /// May the requester know the entry exists (search it)?
    /// Is the requester the directory's administrator or a member of the group at `group`?
    pub(crate) fn in_group(&self, group: &Dn) -> bool {
        self.admin || self.member_of(&group.store_key(), false)
    }

    pub(crate) fn visible(&self, dn: &Dn, entry: Option<&Entry>) -> bool {
        self.allows(&dn.store_key(), entry, None, Level::Search)
    }

    fn matches(&self, who: &Who, target: &[u8]) -> bool {
        match who {
            Who::Anyone => true,
            Who::Anonymous => self.who_key.is_none(),
            Who::Users => self.who_key.is_some(),
            Who::SelfEntry => self.who_key.as_deref() == Some(target),
            Who::Dn(k) => self.who_key.as_deref() == Some(k.as_slice()),
            Who::DnSubtree(k) => self.who_key.as_deref().is_some_and(|w| w.starts_with(k)),
            Who::Group(g) => self.member_of(g, false),
            Who::GroupSubtree(g) => self.member_of(g, true),
            Who::AncestorGroup {
                container,
                depth,
                rdn,
            } => {
                if !target.starts_with(container) || depth_of(target) <= *depth {
                    return false;
                }
                // The ancestor one level below the container: the key up to its terminator.
                let mut seen = 0;
                let mut end = 0;
                for (i, b) in target.iter().enumerate() {
                    if *b == 0 {
                        seen += 1;
                        if seen == depth + 1 {
                            end = i + 1;
                            break;
                        }
                    }
                }
                let mut group = target[..end].to_vec();
                group.extend_from_slice(rdn.norm().as_bytes());
                group.push(0);
                self.member_of(&group, false)
            }
        }
    }

    /// Is the requester a member of the group at `group` (store key)? With `subtree`, being
    /// below a member counts too.
    fn member_of(&self, group: &[u8], subtree: bool) -> bool {
        let Some(me) = self.who_key.as_deref() else {
            return false;
        };
        if let Some((_, _, v)) = self
            .groups
            .borrow()
            .iter()
            .find(|(g, s, _)| g.as_slice() == group && *s == subtree)
        {
            return *v;
        }
        let generation = self.view.generation();
        let shared_key = (group.to_vec(), me.to_vec(), subtree);
        if let Some(g) = generation {
            if let Ok(m) = self.policy.memberships.lock() {
                if let Some((at, v)) = m.get(&shared_key) {
                    if *at == g {
                        let v = *v;
                        self.groups.borrow_mut().push((group.to_vec(), subtree, v));
                        return v;
                    }
                }
            }
        }
        let found = (|| {
            let id = self.view.id_of_key(group).ok()??;
            let e = self.view.entry(id).ok()??;
            for a in &e.attrs {
                let base = a.base_name();
                if !base.eq_ignore_ascii_case("member")
                    && !base.eq_ignore_ascii_case("uniqueMember")
                {
                    continue;
                }
                for v in &a.values {
                    let Ok(text) = std::str::from_utf8(v) else {
                        continue;
                    };
                    // uniqueMember may carry "#'0101'B" after the DN.
                    let text = text.split("#'").next().unwrap_or(text);
                    let Ok(d) = Dn::parse(text, self.schema) else {
                        continue;
                    };
                    let k = d.store_key();
                    if k == me || (subtree && me.starts_with(&k)) {
                        return Some(true);
                    }
                }
            }
            Some(false)
        })()
        .unwrap_or(false);
        self.groups
            .borrow_mut()
            .push((group.to_vec(), subtree, found));
        if let Some(g) = generation {
            if let Ok(mut m) = self.policy.memberships.lock() {
                if m.len() >= MAX_CACHED_MEMBERSHIPS {
                    m.clear();
                }
                m.insert(shared_key, (g, found));
            }
        }
        found
    }

    /// The nearest existing ancestor of `dn` the requester may see (for matchedDN), or "".
    pub(crate) fn matched_dn(&self, dn: &Dn) -> String {
        let mut cur = dn.parent();
        while !cur.is_root() {
            if let Ok(Some(id)) = self.view.id_of(&cur) {
                if let Ok(Some(e)) = self.view.entry(id) {
                    if self.visible(&cur, Some(&e)) {
                        return e.dn;
                    }
                }
            }
            cur = cur.parent();
        }
        String::new()
    }

    /// noSuchObject for `dn`, with the matchedDN this requester may see.
    pub(crate) fn no_such_object(&self, dn: &Dn) -> crate::core::error::LdapError {
        crate::core::error::LdapError::no_such_object(format!("no such entry: {}", dn.display()))
            .with_matched(self.matched_dn(dn))
    }

    /// The refusal for a write on an existing entry: insufficientAccessRights when the requester
    /// may see it, noSuchObject otherwise.
    pub(crate) fn refuse(&self, dn: &Dn, entry: Option<&Entry>) -> crate::core::error::LdapError {
        if self.visible(dn, entry) {
            crate::core::error::LdapError::insufficient_access(format!(
                "no write access to {}",
                dn.display()
            ))
        } else {
            self.no_such_object(dn)
        }
    }

    pub(crate) fn identity(&self) -> &Identity {
        self.who
    }
}
