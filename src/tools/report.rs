//! `ccdir report overdue`: contacts whose verification is overdue or falls due soon, grouped by
//! registry, with the registry's admins (the members of its `cn=admins` group) to notify.
//! Text for people, JSON and CSV for scripts.

use crate::core::clock::generalized_time;
use crate::core::entry::Entry;
use crate::freshness::{last_method, next_method, parse_gtime};
use crate::tools::offline::{all, csv_line, first};
use serde::Serialize;
use std::collections::HashMap;
use time::OffsetDateTime;

/// One contact in the report (its JSON keys in camelCase, the phones as `telephoneNumber`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Item {
    pub(crate) dn: String,
    pub(crate) name: String,
    pub(crate) roles: Vec<String>,
    pub(crate) mail: Vec<String>,
    #[serde(rename = "telephoneNumber")]
    pub(crate) phone: Vec<String>,
    /// Generalized Time, empty when the contact was never given a due date.
    pub(crate) due: String,
    pub(crate) last_verified: String,
    pub(crate) last_method: String,
    pub(crate) status: String,
    pub(crate) next_method: String,
    pub(crate) overdue: bool,
    /// Whole days past the due date (negative: due in that many days).
    pub(crate) days_overdue: i64,
}

/// Someone to notify.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Admin {
    pub(crate) dn: String,
    pub(crate) name: String,
    pub(crate) mail: Vec<String>,
}

/// The contacts of one registry that need attention.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Registry {
    pub(crate) domain: String,
    pub(crate) dn: String,
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) admins: Vec<Admin>,
    pub(crate) contacts: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub(crate) at: OffsetDateTime,
    pub(crate) within_days: u32,
    pub(crate) registries: Vec<Registry>,
}

impl Report {
    pub(crate) fn overdue_count(&self) -> usize {
        self.contacts().filter(|c| c.overdue).count()
    }
    pub(crate) fn due_soon_count(&self) -> usize {
        self.contacts().filter(|c| !c.overdue).count()
    }
    pub(crate) fn contacts(&self) -> impl Iterator<Item = &Item> {
        self.registries.iter().flat_map(|r| r.contacts.iter())
    }
}

fn parent_of(dn: &str) -> &str {
    // DNs here come from the store, in their display form; the RDN ends at the first unescaped
    // comma.
    let b = dn.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b',' => return &dn[i + 1..],
            _ => i += 1,
        }
    }
    ""
}

/// A DN in the form the report compares DNs in (lower case, no space after commas).
pub(crate) fn key(dn: &str) -> String {
    dn.to_ascii_lowercase().replace(", ", ",")
}

fn display_name(e: &Entry) -> String {
    let d = first(e, "displayName");
    if !d.is_empty() {
        return d;
    }
    let cn = first(e, "cn");
    if cn.is_empty() {
        e.dn.clone()
    } else {
        cn
    }
}

/// The entries by DN, for [`group_members`].
pub(crate) type ByDn<'e> = HashMap<String, &'e Entry>;

pub(crate) fn by_dn(entries: &[Entry]) -> ByDn<'_> {
    entries.iter().map(|e| (key(&e.dn), e)).collect()
}

/// The members of a group (`member`), with their names and mail; None when the group is not
/// among the entries. A member that is not among them is listed by DN only.
pub(crate) fn group_members(by_dn: &ByDn<'_>, group_dn: &str) -> Option<Vec<Admin>> {
    by_dn.get(&key(group_dn)).map(|g| {
        all(g, "member")
            .into_iter()
            .map(|m| match by_dn.get(&key(&m)) {
                Some(p) => Admin {
                    dn: p.dn.clone(),
                    name: display_name(p),
                    mail: all(p, "mail"),
                },
                None => Admin {
                    dn: m,
                    name: String::new(),
                    mail: vec![],
                },
            })
            .collect()
    })
}

/// Build the report from entries (as [`crate::tools::offline::entries`] gives them): contacts due on
/// or before `at` + `within_days`, contacts without a due date counting as overdue.
pub fn build(entries: &[Entry], at: OffsetDateTime, within_days: u32) -> Report {
    let by_dn = by_dn(entries);
    let horizon = at + time::Duration::days(within_days as i64);
    let mut regs: Vec<Registry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for e in entries.iter().filter(|e| crate::freshness::is_contact(e)) {
        let due_v = first(e, crate::freshness::DUE);
        let due = parse_gtime(due_v.as_bytes());
        let included = due.is_none_or(|d| d <= horizon);
        if !included {
            continue;
        }
        let overdue = due.is_none_or(|d| d <= at);
        let days_overdue = due.map(|d| (at - d).whole_days()).unwrap_or(0);
        let item = Item {
            dn: e.dn.clone(),
            name: display_name(e),
            roles: all(e, "cctldContactRole"),
            mail: all(e, "mail"),
            phone: all(e, "telephoneNumber"),
            due: due_v,
            last_verified: first(e, crate::freshness::LAST_VERIFIED),
            last_method: last_method(e).map(|m| m.as_str()).unwrap_or("").into(),
            status: first(e, crate::freshness::STATUS),
            next_method: next_method(last_method(e), e).as_str().into(),
            days_overdue,
            overdue,
        };
        let parent = parent_of(&e.dn).to_string();
        let pk = key(&parent);
        let i = match index.get(&pk) {
            Some(i) => *i,
            None => {
                let reg = by_dn.get(&pk).copied();
                let admins =
                    group_members(&by_dn, &format!("cn=admins,{parent}")).unwrap_or_default();
                regs.push(Registry {
                    domain: reg
                        .map(|r| first(r, "associatedDomain"))
                        .unwrap_or_else(|| first(e, "associatedDomain")),
                    dn: parent.clone(),
                    name: reg.map(|r| first(r, "o")).unwrap_or_default(),
                    region: reg
                        .map(|r| all(r, "cctldRegionalOrganization").join(" "))
                        .unwrap_or_default(),
                    admins,
                    contacts: Vec::new(),
                });
                index.insert(pk, regs.len() - 1);
                regs.len() - 1
            }
        };
        regs[i].contacts.push(item);
    }
    for r in &mut regs {
        r.contacts
            .sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.dn.cmp(&b.dn)));
    }
    regs.sort_by(|a, b| a.domain.cmp(&b.domain));
    Report {
        at,
        within_days,
        registries: regs,
    }
}

/// A Generalized Time as YYYY-MM-DD ("never" when empty).
pub(crate) fn day(g: &str) -> String {
    match parse_gtime(g.as_bytes()) {
        Some(t) => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        None if g.is_empty() => "never".into(),
        None => g.to_string(),
    }
}

fn admin_text(a: &Admin) -> String {
    match (a.name.is_empty(), a.mail.first()) {
        (_, Some(m)) if !a.name.is_empty() => format!("{} <{m}>", a.name),
        (_, Some(m)) => format!("<{m}>"),
        (true, None) => a.dn.clone(),
        (false, None) => format!("{} ({})", a.name, a.dn),
    }
}

/// The report for people.
pub fn text(r: &Report) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "Contacts due for verification as of {} UTC (also those due within {} days)\n",
        {
            let t = r.at;
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        },
        r.within_days
    ));
    o.push_str(&format!(
        "{} overdue, {} due soon, in {} registries\n",
        r.overdue_count(),
        r.due_soon_count(),
        r.registries.len()
    ));
    for g in &r.registries {
        o.push_str(&format!("\n.{}  {}", g.domain, g.name));
        if !g.region.is_empty() {
            o.push_str(&format!("  [{}]", g.region));
        }
        o.push('\n');
        let admins: Vec<String> = g.admins.iter().map(admin_text).collect();
        o.push_str(&format!(
            "  notify: {}\n",
            if admins.is_empty() {
                "(no admins group)".to_string()
            } else {
                admins.join(", ")
            }
        ));
        for c in &g.contacts {
            let when = if c.due.is_empty() {
                "OVERDUE  never verified".to_string()
            } else if c.overdue {
                format!("OVERDUE  {} days", c.days_overdue)
            } else {
                format!("due in {} days", -c.days_overdue)
            };
            o.push_str(&format!(
                "  {when:<18} {}  due {}  last {} {} {}  next: {}\n      {}\n",
                c.name,
                day(&c.due),
                day(&c.last_verified),
                if c.last_method.is_empty() {
                    "-"
                } else {
                    &c.last_method
                },
                if c.status.is_empty() { "-" } else { &c.status },
                c.next_method,
                c.dn
            ));
            // The numbers a responder would call, next to the freshness line above.
            if !c.phone.is_empty() {
                o.push_str(&format!(
                    "      tel {}  ({}, due {})\n",
                    c.phone.join(" / "),
                    if c.overdue {
                        "overdue"
                    } else if c.status.is_empty() {
                        "-"
                    } else {
                        &c.status
                    },
                    day(&c.due)
                ));
            }
        }
    }
    o
}

/// The report as one JSON document (on one line).
pub fn json(r: &Report) -> Result<String, String> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Doc<'a> {
        at: String,
        within_days: u32,
        overdue: usize,
        due_soon: usize,
        registries: &'a [Registry],
    }
    let doc = Doc {
        at: generalized_time(r.at),
        within_days: r.within_days,
        overdue: r.overdue_count(),
        due_soon: r.due_soon_count(),
        registries: &r.registries,
    };
    let mut j = serde_json::to_string(&doc).map_err(|e| format!("JSON report: {e}"))?;
    j.push('\n');
    Ok(j)
}

pub(crate) const CSV_HEADER: &[&str] = &[
    "domain",
    "registry",
    "contact_dn",
    "name",
    "roles",
    "mail",
    "telephone",
    "due",
    "overdue",
    "days_overdue",
    "last_verified",
    "last_method",
    "status",
    "next_method",
    "notify",
];

/// The report as CSV, one line per contact; `notify` lists the admins' addresses.
pub fn csv(r: &Report) -> String {
    let mut o = csv_line(&CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    for g in &r.registries {
        let notify: Vec<String> = g.admins.iter().flat_map(|a| a.mail.clone()).collect();
        for c in &g.contacts {
            o.push_str(&csv_line(&[
                g.domain.clone(),
                g.name.clone(),
                c.dn.clone(),
                c.name.clone(),
                c.roles.join(" "),
                c.mail.join(" "),
                c.phone.join(" / "),
                c.due.clone(),
                c.overdue.to_string(),
                c.days_overdue.to_string(),
                c.last_verified.clone(),
                c.last_method.clone(),
                c.status.clone(),
                c.next_method.clone(),
                notify.join(" "),
            ]));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry(dn: &str, attrs: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new(dn);
        for (k, v) in attrs {
            let mut vals = e.get(k).map(|a| a.values.clone()).unwrap_or_default();
            vals.push(v.as_bytes().to_vec());
            e.set(k, vals);
        }
        e
    }

    #[test]
    fn groups_by_registry_with_admins() {
        let reg = "associatedDomain=zz,ou=registries,dc=x";
        let es = vec![
            entry(
                reg,
                &[
                    ("objectClass", "cctldRegistry"),
                    ("associatedDomain", "zz"),
                    ("o", "ZZ"),
                ],
            ),
            entry(
                &format!("cn=admins,{reg}"),
                &[
                    ("objectClass", "groupOfNames"),
                    ("member", &format!("uid=a,{reg}")),
                ],
            ),
            entry(
                &format!("uid=a,{reg}"),
                &[
                    ("objectClass", "cctldContact"),
                    ("cn", "A, B"),
                    ("mail", "a@zz.example"),
                    ("telephoneNumber", "+49 69 1234 0100"),
                    ("cctldVerificationDue", "20261101000000Z"),
                    ("cctldVerificationMethod", "voice"),
                ],
            ),
            entry(
                &format!("uid=b,{reg}"),
                &[
                    ("objectClass", "cctldContact"),
                    ("cn", "B"),
                    ("cctldVerificationDue", "20261205000000Z"),
                ],
            ),
            entry(
                &format!("uid=c,{reg}"),
                &[
                    ("objectClass", "cctldContact"),
                    ("cn", "C"),
                    ("cctldVerificationDue", "20270101000000Z"),
                ],
            ),
            entry(
                &format!("uid=d,{reg}"),
                &[("objectClass", "cctldContact"), ("cn", "D")],
            ),
        ];
        let r = build(&es, datetime!(2026-11-23 00:00 UTC), 14);
        assert_eq!(r.registries.len(), 1);
        let g = &r.registries[0];
        assert_eq!(g.domain, "zz");
        assert_eq!(g.admins[0].mail, vec!["a@zz.example".to_string()]);
        let names: Vec<&str> = g.contacts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["D", "A, B", "B"]);
        assert_eq!(r.overdue_count(), 2);
        assert_eq!(r.due_soon_count(), 1);
        assert_eq!(g.contacts[1].days_overdue, 22);
        assert_eq!(g.contacts[1].next_method, "email");
        let t = text(&r);
        assert!(t.contains("2 overdue, 1 due soon, in 1 registries"), "{t}");
        // Each number with the freshness of the contact it reaches.
        assert!(
            t.contains("tel +49 69 1234 0100  (overdue, due 2026-11-01)"),
            "{t}"
        );
        let c = csv(&r);
        assert_eq!(c.lines().count(), 4);
        assert!(c.contains("\"A, B\""));
        let j = json(&r).unwrap();
        assert!(j.contains("\"overdue\":2"), "{j}");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["at"], "20261123000000Z");
        assert_eq!(v["withinDays"], 14);
        assert_eq!(v["dueSoon"], 1);
        let reg = &v["registries"][0];
        assert_eq!(reg["domain"], "zz");
        assert_eq!(reg["admins"][0]["mail"][0], "a@zz.example");
        let a = &reg["contacts"][1];
        assert_eq!(a["name"], "A, B");
        assert_eq!(a["mail"][0], "a@zz.example");
        assert_eq!(
            a["telephoneNumber"],
            serde_json::json!(["+49 69 1234 0100"])
        );
        assert_eq!(a["due"], "20261101000000Z");
        assert_eq!(a["lastMethod"], "voice");
        assert_eq!(a["nextMethod"], "email");
        assert_eq!(a["overdue"], true);
        assert_eq!(a["daysOverdue"], 22);
        assert_eq!(reg["contacts"][2]["daysOverdue"], -12);
        let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
        assert_eq!(
            keys.len(),
            12,
            "dn name roles mail telephoneNumber due lastVerified lastMethod status nextMethod \
             overdue daysOverdue: {keys:?}"
        );
    }
}
