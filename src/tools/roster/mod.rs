//! `ccdir roster`: the directory for when the network is down, as vCard 4.0 (RFC 6350), CSV and
//! printable HTML pages per region (docs/operations/roster.md). Built from the entries
//! [`crate::tools::offline::entries`] returns, so `--as` limits it to what one identity may read.

pub mod csv;
pub mod html;
pub(crate) mod tz;
pub mod vcard;

use crate::core::entry::Entry;
use crate::tools::offline::{all, first};
use std::collections::HashMap;

/// One ccTLD: the registry entry, its 24/7 contact point and its people (escalation order).
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    pub(crate) entry: Entry,
    pub(crate) domain: String,
    pub(crate) regions: Vec<String>,
    pub(crate) team: Option<Entry>,
    pub(crate) people: Vec<Entry>,
}

impl Registry {
    /// The ccTLD as shown: `.xn--p1ai (.рф)` for IDNs.
    pub(crate) fn label(&self) -> String {
        let u = first(&self.entry, "cctldULabel");
        if u.is_empty() {
            format!(".{}", self.domain)
        } else {
            format!(".{} (.{u})", self.domain)
        }
    }

    /// Every contact entry: the team first, then the people.
    pub(crate) fn contacts(&self) -> impl Iterator<Item = &Entry> {
        self.team.iter().chain(self.people.iter())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub(crate) registries: Vec<Registry>,
    /// Display names by normalised DN, for substitutes.
    names: HashMap<String, String>,
}

/// The region name of registries without a regional organisation.
pub(crate) const NO_REGION: &str = "none";

fn key(dn: &str) -> String {
    dn.to_ascii_lowercase().replace(", ", ",")
}

fn parent(dn: &str) -> String {
    let b = dn.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b',' => return key(&dn[i + 1..]),
            _ => i += 1,
        }
    }
    String::new()
}

/// The name to show for a contact entry.
pub(crate) fn name_of(e: &Entry) -> String {
    for a in ["displayName", "cn"] {
        let v = first(e, a);
        if !v.is_empty() {
            return v;
        }
    }
    e.dn.clone()
}

impl Roster {
    /// Registries (sorted by ccTLD) with their contacts; only those of `region` when given
    /// (case-insensitive; `none` for registries without a regional organisation).
    pub fn build(entries: &[Entry], region: Option<&str>) -> Roster {
        let mut regs: Vec<Registry> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut names = HashMap::new();
        for e in entries {
            if e.has_object_class("cctldContact") {
                names.insert(key(&e.dn), name_of(e));
            }
            if e.has_object_class("cctldRegistry") {
                let mut regions = all(e, "cctldRegionalOrganization");
                if regions.is_empty() {
                    regions.push(NO_REGION.to_string());
                }
                if let Some(r) = region {
                    if !regions.iter().any(|x| x.eq_ignore_ascii_case(r)) {
                        continue;
                    }
                }
                at.insert(key(&e.dn), regs.len());
                regs.push(Registry {
                    entry: e.clone(),
                    domain: first(e, "associatedDomain"),
                    regions,
                    team: None,
                    people: Vec::new(),
                });
            }
        }
        for e in entries
            .iter()
            .filter(|e| e.has_object_class("cctldContact"))
        {
            let Some(&i) = at.get(&parent(&e.dn)) else {
                continue;
            };
            let point = key(&first(&regs[i].entry, "cctldContactPoint"));
            let is_point = !point.is_empty() && point == key(&e.dn);
            if is_point || (regs[i].team.is_none() && e.has_object_class("organizationalRole")) {
                if let Some(old) = regs[i].team.replace(e.clone()) {
                    regs[i].people.push(old);
                }
            } else {
                regs[i].people.push(e.clone());
            }
        }
        for r in &mut regs {
            r.people.sort_by_key(|p| {
                (
                    first(p, "cctldContactPriority")
                        .parse::<u32>()
                        .unwrap_or(u32::MAX),
                    name_of(p),
                )
            });
        }
        regs.sort_by(|a, b| a.domain.cmp(&b.domain));
        Roster {
            registries: regs,
            names,
        }
    }

    /// The name of a substitute (or the DN when it is not in the roster).
    pub(crate) fn name_for(&self, dn: &str) -> String {
        self.names
            .get(&key(dn))
            .cloned()
            .unwrap_or_else(|| dn.to_string())
    }

    /// The regions present, sorted, `none` last.
    pub(crate) fn regions(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in &self.registries {
            for g in &r.regions {
                if !v.iter().any(|x| x.eq_ignore_ascii_case(g)) {
                    v.push(g.clone());
                }
            }
        }
        v.sort_by_key(|g| (g == NO_REGION, g.to_ascii_uppercase()));
        v
    }
}

/// Group a fingerprint in blocks of four (`8319 AEA1 ...`), as people read it out.
/// How fresh a contact's data is, as of `at`, for the line next to its numbers:
/// `verified 2026-11-01, due 2027-02-01` or `OVERDUE since 2026-09-11 (last verified
/// 2026-06-11, pending)`; empty without verification data. The status is derived as a client
/// reads it: past the due date it is overdue, whatever was stored.
pub(crate) fn freshness_text(e: &Entry, at: time::OffsetDateTime) -> String {
    let day = |a: &str| {
        crate::freshness::parse_gtime(first(e, a).as_bytes())
            .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
    };
    let status = first(e, crate::freshness::STATUS);
    let due = crate::freshness::parse_gtime(first(e, crate::freshness::DUE).as_bytes());
    match (due, day(crate::freshness::DUE)) {
        (Some(d), Some(due_day)) if d < at => {
            let mut s = format!("OVERDUE since {due_day}");
            let last = day(crate::freshness::LAST_VERIFIED);
            match (last, status.is_empty()) {
                (Some(l), false) => s.push_str(&format!(" (last verified {l}, {status})")),
                (Some(l), true) => s.push_str(&format!(" (last verified {l})")),
                (None, false) => s.push_str(&format!(" ({status})")),
                (None, true) => {}
            }
            s
        }
        (_, Some(due_day)) => {
            let status = if status.is_empty() {
                "recorded".to_string()
            } else {
                status
            };
            match day(crate::freshness::LAST_VERIFIED) {
                Some(l) => format!("{status} {l}, due {due_day}"),
                None => format!("{status}, due {due_day}"),
            }
        }
        _ => String::new(),
    }
}

/// The status a client reads (see [`freshness_text`]): `overdue` past the due date.
pub(crate) fn status_at(e: &Entry, at: time::OffsetDateTime) -> String {
    let due = crate::freshness::parse_gtime(first(e, crate::freshness::DUE).as_bytes());
    if due.is_some_and(|d| d < at) {
        crate::freshness::OVERDUE.to_string()
    } else {
        first(e, crate::freshness::STATUS)
    }
}

pub(crate) fn fingerprint_text(fp: &str) -> String {
    let clean: Vec<char> = fp.chars().filter(|c| !c.is_whitespace()).collect();
    clean
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}
