//! The verifiers' queue and the month's plan (docs/portal.md, "The verifiers' queue"), built
//! from the entries the verifier's searches returned: pure functions of the entries and the
//! time. The contact's local time, business hours and channels are the ccTLD page's own
//! (contact.rs); the channel to use next is the freshness rules' (crate::freshness).

use super::contact::{self, Channel, ContactView};
use crate::core::entry::Entry;
use crate::freshness::{self, Method};
use crate::tools::offline::{all, first};
use crate::tools::roster::Roster;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// Rows on one page of the queue.
pub(crate) const PAGE: usize = 100;

/// The attributes a queue row is built from (and nothing else is read).
pub(crate) const ATTRS: &[&str] = &[
    "cn",
    "displayName",
    "associatedDomain",
    "entryUUID",
    "telephoneNumber",
    "mobile",
    "cctldEmergencyTelephoneNumber",
    "facsimileTelephoneNumber",
    "mail",
    "cctldMessengerURI",
    "postalAddress",
    "registeredAddress",
    "street",
    "postOfficeBox",
    "cctldTimeZone",
    "cctldBusinessHours",
    "cctldAvailable247",
    freshness::DUE,
    freshness::STATUS,
    freshness::NEXT_METHOD,
    freshness::METHOD,
    freshness::LAST_VERIFIED,
];

/// Whether the contact can be reached over its next channel now: the sort's first key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reach {
    /// Available 24/7, within its business hours, or a channel that needs nobody at the other
    /// end now (e-mail, fax, letter).
    Now,
    /// No business hours (or time zone) to tell.
    Unknown,
    /// Outside its business hours.
    Later,
}

/// One contact of the queue.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) tld: String,
    pub(crate) view: ContactView,
    /// The channel to use next (`voice`, `email`, ...).
    pub(crate) next: &'static str,
    /// The contact's values for that channel: the numbers to dial, the address to write to.
    pub(crate) reach_by: Vec<Channel>,
    pub(crate) reach: Reach,
    /// `12 days overdue`, `due today`, `due in 3 days`, or `confirmed by the registry, due …`.
    pub(crate) when: String,
    due: Option<OffsetDateTime>,
    dn: String,
}

/// The ccTLD a contact belongs to: its `associatedDomain`, else the value of its parent's RDN
/// (`associatedDomain=br,ou=registries,…`).
fn tld_of(e: &Entry) -> String {
    let d = first(e, "associatedDomain");
    if !d.is_empty() {
        return d.to_lowercase();
    }
    e.dn.split_once(',')
        .and_then(|(_, parent)| parent.split(',').next())
        .and_then(|rdn| rdn.split_once('='))
        .filter(|(a, _)| a.trim().eq_ignore_ascii_case("associatedDomain"))
        .map(|(_, v)| v.trim().to_lowercase())
        .unwrap_or_default()
}

/// The channel to use next: the server's suggestion, or (for an entry never written since it
/// was loaded) the freshness rules' own.
pub(crate) fn next_method(e: &Entry) -> Method {
    Method::parse(&first(e, freshness::NEXT_METHOD))
        .unwrap_or_else(|| freshness::next_method(freshness::last_method(e), e))
}

/// The contact's values for a channel, as the ccTLD page shows them.
fn reach_by(m: Method, e: &Entry, v: &ContactView) -> Vec<Channel> {
    let labels: &[&str] = match m {
        Method::Voice => &["Emergency", "Phone", "Mobile"],
        Method::Email => &["E-mail"],
        Method::Fax => &["Fax"],
        Method::Chat => &["Messenger"],
        Method::Letter => {
            return [
                "postalAddress",
                "registeredAddress",
                "street",
                "postOfficeBox",
            ]
            .iter()
            .flat_map(|a| all(e, a))
            .map(|a| Channel {
                label: "Address",
                value: a.replace('$', ", "),
                href: None,
            })
            .collect()
        }
    };
    v.channels
        .iter()
        .filter(|c| labels.contains(&c.label))
        .cloned()
        .collect()
}

fn when(due: Option<OffsetDateTime>, status: &str, at: OffsetDateTime) -> String {
    let Some(d) = due else {
        return "no due date".into();
    };
    let days = (at - d).whole_days();
    let base = if d <= at {
        match days {
            0 => "overdue since today".to_string(),
            1 => "1 day overdue".to_string(),
            n => format!("{n} days overdue"),
        }
    } else {
        match (d - at).whole_days() {
            0 => "due within a day".to_string(),
            1 => "due in 1 day".to_string(),
            n => format!("due in {n} days"),
        }
    };
    if status == freshness::CONFIRMED {
        format!("confirmed by the registry; {base}")
    } else {
        base
    }
}

/// A queue row for a contact entry, as of `at`.
pub(crate) fn row(e: &Entry, at: OffsetDateTime) -> Row {
    let view = contact::contact(&Roster::default(), e, false, at);
    let next = next_method(e);
    let reach = if view.always == Some(true)
        || view.in_hours == Some(true)
        || matches!(next, Method::Email | Method::Fax | Method::Letter)
    {
        Reach::Now
    } else if view.in_hours == Some(false) {
        Reach::Later
    } else {
        Reach::Unknown
    };
    let due = freshness::parse_gtime(first(e, freshness::DUE).as_bytes());
    Row {
        tld: tld_of(e),
        reach_by: reach_by(next, e, &view),
        when: when(due, &view.status, at),
        next: next.as_str(),
        reach,
        due,
        dn: e.dn.clone(),
        view,
    }
}

/// Today's calls first: contacts reachable now, then those without hours, then those outside
/// their hours; within each, the most overdue first (no due date counts as most overdue).
pub(crate) fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        a.reach
            .cmp(&b.reach)
            .then_with(|| a.due.cmp(&b.due))
            .then_with(|| a.dn.cmp(&b.dn))
    });
}

/// The page `page` (1-based, clamped to the pages there are) of `rows`, and the number of pages.
pub(crate) fn page(rows: Vec<Row>, page: usize) -> (Vec<Row>, usize, usize) {
    let pages = rows.len().div_ceil(PAGE).max(1);
    let p = page.clamp(1, pages);
    let out = rows.into_iter().skip((p - 1) * PAGE).take(PAGE).collect();
    (out, p, pages)
}

/// The first instant of `at`'s month and of the next month (UTC).
pub(crate) fn month(at: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let at = at.to_offset(time::UtcOffset::UTC);
    let start = Date::from_calendar_date(at.year(), at.month(), 1)
        .map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc())
        .unwrap_or(at);
    (start, freshness::add_months(start, 1))
}

/// One channel's line of the month's plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PlanLine {
    pub(crate) channel: &'static str,
    /// Contacts due by the end of the month (overdue included) whose next channel this is.
    pub(crate) open: usize,
    /// Checks over this channel recorded this month, by result.
    pub(crate) verified: usize,
    pub(crate) failed: usize,
}

impl PlanLine {
    /// The month's work on this channel: what is still open plus what was verified.
    pub(crate) fn planned(&self) -> usize {
        self.open + self.verified
    }
}

/// The month's plan per channel: `due` the contacts due by the month's end, `records` the
/// verification records made this month (confirmations by registries are not checks: counted
/// apart, in the second value).
pub(crate) fn plan(due: &[Entry], records: &[Entry]) -> (Vec<PlanLine>, usize) {
    let mut lines: Vec<PlanLine> = Method::ALL
        .iter()
        .map(|m| PlanLine {
            channel: m.as_str(),
            ..PlanLine::default()
        })
        .collect();
    for e in due {
        let m = next_method(e);
        if let Some(l) = lines.iter_mut().find(|l| l.channel == m.as_str()) {
            l.open += 1;
        }
    }
    let mut confirmations = 0;
    for r in records {
        let status = first(r, freshness::STATUS).to_ascii_lowercase();
        if status == freshness::CONFIRMED {
            confirmations += 1;
            continue;
        }
        let Some(m) = freshness::last_method(r) else {
            continue;
        };
        if let Some(l) = lines.iter_mut().find(|l| l.channel == m.as_str()) {
            match status.as_str() {
                "failed" => l.failed += 1,
                _ => l.verified += 1,
            }
        }
    }
    (lines, confirmations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry(dn: &str, attrs: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new(dn);
        e.set(
            "objectClass",
            vec![b"organizationalRole".to_vec(), b"cctldContact".to_vec()],
        );
        for (k, v) in attrs {
            let mut vals = e.get(k).map(|a| a.values.clone()).unwrap_or_default();
            vals.push(v.as_bytes().to_vec());
            e.set(k, vals);
        }
        e
    }

    const AT: OffsetDateTime = datetime!(2026-12-02 10:00 UTC); // a Wednesday

    #[test]
    fn reachable_and_most_overdue_first() {
        let open = entry(
            "cn=open,associatedDomain=br,ou=registries,dc=x",
            &[
                ("telephoneNumber", "+55 11 1"),
                ("cctldTimeZone", "UTC"),
                ("cctldBusinessHours", "Mo-Fr 09:00-17:00"),
                (freshness::DUE, "20261201000000Z"),
            ],
        );
        let closed_older = entry(
            "cn=closed,associatedDomain=br,ou=registries,dc=x",
            &[
                ("telephoneNumber", "+55 11 2"),
                ("cctldTimeZone", "UTC"),
                ("cctldBusinessHours", "Mo-Fr 18:00-20:00"),
                (freshness::DUE, "20261001000000Z"),
            ],
        );
        let unknown = entry(
            "cn=unknown,ou=x,dc=x",
            &[
                ("associatedDomain", "PT"),
                ("telephoneNumber", "+351 1"),
                (freshness::DUE, "20261101000000Z"),
            ],
        );
        let mail_only = entry(
            "cn=mail,associatedDomain=de,ou=registries,dc=x",
            &[
                ("mail", "a@nic.example"),
                ("cctldTimeZone", "UTC"),
                ("cctldBusinessHours", "Mo-Fr 18:00-20:00"),
                (freshness::DUE, "20261130000000Z"),
            ],
        );
        let mut rows: Vec<Row> = [&open, &closed_older, &unknown, &mail_only]
            .iter()
            .map(|e| row(e, AT))
            .collect();
        sort(&mut rows);
        let names: Vec<&str> = rows.iter().map(|r| r.view.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cn=mail,associatedDomain=de,ou=registries,dc=x",
                "cn=open,associatedDomain=br,ou=registries,dc=x",
                "cn=unknown,ou=x,dc=x",
                "cn=closed,associatedDomain=br,ou=registries,dc=x"
            ]
        );
        assert_eq!(rows[0].next, "email");
        assert_eq!(rows[0].reach_by[0].value, "a@nic.example");
        assert_eq!(rows[0].tld, "de");
        assert_eq!(rows[1].reach, Reach::Now);
        assert_eq!(rows[1].view.in_hours, Some(true));
        assert_eq!(rows[1].reach_by[0].value, "+55 11 1");
        assert_eq!(rows[1].when, "1 day overdue");
        assert_eq!(rows[2].tld, "pt");
        assert_eq!(rows[2].reach, Reach::Unknown);
        assert_eq!(rows[3].reach, Reach::Later);
        assert_eq!(rows[3].when, "62 days overdue");
    }

    #[test]
    fn next_channel_values() {
        let e = entry(
            "cn=a,associatedDomain=br,dc=x",
            &[
                ("telephoneNumber", "+1 555"),
                ("cctldEmergencyTelephoneNumber", "+1 911"),
                ("facsimileTelephoneNumber", "+1 666"),
                ("postalAddress", "1 Road$Town"),
                (freshness::NEXT_METHOD, "letter"),
                (freshness::DUE, "20270101000000Z"),
                (freshness::STATUS, "confirmed"),
            ],
        );
        let r = row(&e, AT);
        assert_eq!(r.next, "letter");
        assert_eq!(r.reach_by.len(), 1);
        assert_eq!(r.reach_by[0].value, "1 Road, Town");
        assert_eq!(r.when, "confirmed by the registry; due in 29 days");
        // Without a stored suggestion: the rules' own (voice first), emergency number first.
        let mut e2 = e.clone();
        e2.remove(freshness::NEXT_METHOD);
        let r = row(&e2, AT);
        assert_eq!(r.next, "voice");
        let numbers: Vec<&str> = r.reach_by.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(numbers, ["+1 911", "+1 555"]);
    }

    #[test]
    fn pages_and_months() {
        let e = entry("cn=a,dc=x", &[]);
        let rows: Vec<Row> = (0..250).map(|_| row(&e, AT)).collect();
        let (p, n, pages) = page(rows.clone(), 3);
        assert_eq!((p.len(), n, pages), (50, 3, 3));
        let (p, n, _) = page(rows, 99);
        assert_eq!((p.len(), n), (50, 3));
        let (p, n, pages) = page(Vec::new(), 0);
        assert_eq!((p.len(), n, pages), (0, 1, 1));
        assert_eq!(
            month(datetime!(2026-12-31 23:59 UTC)),
            (
                datetime!(2026-12-01 00:00 UTC),
                datetime!(2027-01-01 00:00 UTC)
            )
        );
    }

    #[test]
    fn plan_counts_open_and_recorded() {
        let due = [
            entry("cn=a,dc=x", &[(freshness::NEXT_METHOD, "voice")]),
            entry("cn=b,dc=x", &[(freshness::NEXT_METHOD, "fax")]),
            entry("cn=c,dc=x", &[("mail", "c@x.example")]),
        ];
        let rec = |m: &str, s: &str| {
            let mut r = Entry::new("cctldRecordId=1,ou=history,dc=x");
            if !m.is_empty() {
                r.set(freshness::METHOD, vec![m.as_bytes().to_vec()]);
            }
            r.set(freshness::STATUS, vec![s.as_bytes().to_vec()]);
            r
        };
        let records = [
            rec("voice", "verified"),
            rec("voice", "failed"),
            rec("email", "verified"),
            rec("", "confirmed"),
        ];
        let (lines, confirmations) = plan(&due, &records);
        assert_eq!(confirmations, 1);
        let get = |c: &str| lines.iter().find(|l| l.channel == c).cloned().unwrap();
        let voice = get("voice");
        assert_eq!((voice.open, voice.verified, voice.failed), (1, 1, 1));
        assert_eq!(voice.planned(), 2);
        assert_eq!(get("email").open, 1);
        assert_eq!(get("email").verified, 1);
        assert_eq!(get("fax").open, 1);
        assert_eq!(
            get("letter"),
            PlanLine {
                channel: "letter",
                ..Default::default()
            }
        );
    }
}
