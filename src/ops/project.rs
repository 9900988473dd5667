//! What a client sees of an entry: the attributes it selected (RFC 4511 4.5.1.8), without
//! those it may not read, with the attributes computed on read. Shared by search and the
//! read-entry controls (readback.rs).

use super::rootdse;
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::entry::{Attribute, Entry};
use crate::core::error::LdapError;
use crate::core::filter::Filter;
use crate::core::schema::Schema;
use crate::service::Directory;
use crate::store::View;
use crate::write::completeness::Tally;
use crate::write::content::ContentRules;
use crate::write::references;
use ldap3_proto::proto::{LdapPartialAttribute, LdapSearchResultEntry};

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
    pub(crate) fn output_name(&self, attr: &Attribute, operational: bool) -> Option<String> {
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
    pub(crate) fn wants_name(&self, name: &str) -> bool {
        self.all_operational || self.names(name)
    }

    /// Did the client name this type (not only `+`)?
    pub(crate) fn names(&self, name: &str) -> bool {
        self.named
            .iter()
            .any(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
    }
}

/// What the requester may do with an entry's attributes: `None` when it may not search the
/// entry at all; otherwise the filter types it may not search (Undefined in filters) and the
/// attributes it may not read (left out of results).
pub(crate) fn access_view(
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

/// Which computed attributes a search needs (in its filter or its selection).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Computed {
    pub(crate) entry_dn: bool,
    pub(crate) subschema: bool,
    pub(crate) subordinates: bool,
    /// `cctldProblem`: the rules the entry breaks (ccdir check's report, entry by entry).
    pub(crate) problems: bool,
    /// `contextCSN` on the naming context's entry: the newest CSN of each server id.
    pub(crate) context_csn: bool,
}

impl Computed {
    pub(crate) fn for_search(filter: &Filter, sel: &Selection) -> Computed {
        let need = |n: &str| filter.names_attribute(n) || sel.wants_name(n);
        Computed {
            entry_dn: need("entryDN"),
            subschema: need("subschemaSubentry"),
            subordinates: need("hasSubordinates"),
            // Costly (content checks, a registry's subtree): only when named, not for `+`
            // (which replication consumers and exports ask for on every entry).
            problems: filter.names_attribute(PROBLEM) || sel.names(PROBLEM),
            context_csn: need("contextCSN"),
        }
    }
}

/// The attribute that lists the rules an entry breaks.
pub(crate) const PROBLEM: &str = "cctldProblem";

/// Entries of one registry `cctldProblem` reads at most (the completeness rules).
const MAX_REGISTRY_ENTRIES: usize = 10_000;

/// Add the attributes computed on read: entryDN, subschemaSubentry, hasSubordinates,
/// cctldProblem (without what comes from attributes in `unreadable`).
pub(crate) fn add_computed(
    dir: &Directory,
    e: &mut Entry,
    view: &dyn View,
    id: u64,
    which: Computed,
    unreadable: &[String],
) -> Result<(), LdapError> {
    if which.problems {
        let p = problems(dir, view, id, e, unreadable)?;
        if !p.is_empty() {
            e.attrs.push(Attribute::new(
                PROBLEM,
                p.into_iter().map(String::into_bytes).collect(),
            ));
        }
    }
    if which.entry_dn {
        e.attrs
            .push(Attribute::new("entryDN", vec![e.dn.clone().into_bytes()]));
    }
    if which.context_csn && !unreadable.iter().any(|u| u == "contextcsn") {
        let is_suffix = dir
            .parse_dn(&e.dn)
            .is_ok_and(|d| d.norm() == dir.suffix.norm());
        if is_suffix {
            let ctx = view.context_csn()?;
            if !ctx.is_empty() {
                e.attrs.push(Attribute::new(
                    "contextCSN",
                    ctx.iter().map(|c| c.as_str().as_bytes().to_vec()).collect(),
                ));
            }
        }
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

/// What `ccdir check` reports of one entry, as `rule: message`: values that fail a content
/// check and references that name nothing (only for attributes the reader may read: the
/// messages quote the values), and for a registry the completeness rules over its entries.
fn problems(
    dir: &Directory,
    view: &dyn View,
    id: u64,
    e: &Entry,
    unreadable: &[String],
) -> Result<Vec<String>, LdapError> {
    let readable = |msg: &str| {
        let attr = msg.split(':').next().unwrap_or("");
        let base = attr.split(';').next().unwrap_or("").to_ascii_lowercase();
        !unreadable.contains(&base)
    };
    let mut out = Vec::new();
    for m in ContentRules::new(&dir.config.checks).failures(e) {
        if readable(&m) {
            out.push(format!("value: {m}"));
        }
    }
    if references::has_references(e) {
        for m in references::dangling(dir, view, e)? {
            if readable(&m) {
                out.push(format!("reference: {m}"));
            }
        }
    }
    if e.has_object_class("cctldRegistry") {
        let mut tally = Tally::default();
        let mut queue = view.child_ids(id)?;
        let mut seen = 0usize;
        while let Some(c) = queue.pop() {
            seen += 1;
            if seen > MAX_REGISTRY_ENTRIES {
                break;
            }
            if let Some(ce) = view.entry(c)? {
                tally.add(&ce);
            }
            queue.extend(view.child_ids(c)?);
        }
        let tld = e.first_str("associatedDomain").unwrap_or("?");
        for (rule, m) in tally.problems(tld) {
            out.push(format!("{rule}: {m}"));
        }
    }
    Ok(out)
}

/// The entry as the client sees it: selected, readable attributes only.
/// Consumes the entry: its values move into the response without copies.
pub(crate) fn project(
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
