//! Freshness of contacts: when a contact is due for re-verification, which channel to use next,
//! and what a write does to the verification attributes (docs/operations/freshness.md).
//!
//! Pure and synchronous: the write path ([`crate::write::values::stamp_freshness`]) calls
//! [`on_write`], `ccdir verify` and `ccdir report overdue` use the same functions.

use crate::core::entry::Entry;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

pub(crate) const LAST_VERIFIED: &str = "cctldLastVerified";
pub(crate) const DUE: &str = "cctldVerificationDue";
pub(crate) const METHOD: &str = "cctldVerificationMethod";
pub(crate) const VERIFIED_BY: &str = "cctldVerifiedBy";
pub(crate) const STATUS: &str = "cctldVerificationStatus";
pub(crate) const NEXT_METHOD: &str = "cctldVerificationNextMethod";
/// What the verifier (or the registry, confirming) noted about the last check: kept in the
/// verification record too (write/history.rs); a later verification without a note removes it.
pub(crate) const NOTE: &str = "cctldVerificationNote";

/// The attributes ccdir computes: only those with manage access (directory admins) may write
/// them directly.
pub(crate) const COMPUTED: &[&str] = &[DUE, VERIFIED_BY, NEXT_METHOD];

/// The attributes a client writes to record a verification.
pub(crate) const RECORDING: &[&str] = &[LAST_VERIFIED, METHOD, STATUS, NOTE];

/// Contact data: a change of any of these makes the contact pending re-verification.
pub(crate) const CONTACT_DATA: &[&str] = &[
    "telephoneNumber",
    "mobile",
    "facsimileTelephoneNumber",
    "cctldEmergencyTelephoneNumber",
    "mail",
    "cctldMessengerURI",
    "cctldOtherTelecom",
    "cctldOpenPGPFingerprint",
    "cctldKeyURI",
    "userCertificate",
    "postalAddress",
    "street",
    "postOfficeBox",
    "registeredAddress",
    "cctldSubstitute",
    "cctldTimeZone",
    "cctldBusinessHours",
    "cctldAvailable247",
];

/// Verification channels, in rotation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Voice,
    Email,
    Fax,
    Chat,
    Letter,
}

impl Method {
    pub(crate) const ALL: [Method; 5] = [
        Method::Voice,
        Method::Email,
        Method::Fax,
        Method::Chat,
        Method::Letter,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Voice => "voice",
            Method::Email => "email",
            Method::Fax => "fax",
            Method::Chat => "chat",
            Method::Letter => "letter",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The attributes that give a contact this channel.
    fn needs(self) -> &'static [&'static str] {
        match self {
            Method::Voice => &["telephoneNumber", "mobile", "cctldEmergencyTelephoneNumber"],
            Method::Email => &["mail"],
            Method::Fax => &["facsimileTelephoneNumber"],
            Method::Chat => &["cctldMessengerURI"],
            Method::Letter => &[
                "postalAddress",
                "registeredAddress",
                "street",
                "postOfficeBox",
            ],
        }
    }

    /// Does the entry have the data this channel needs?
    pub(crate) fn available(self, e: &Entry) -> bool {
        self.needs()
            .iter()
            .any(|a| e.get(a).is_some_and(|x| !x.values.is_empty()))
    }
}

/// Verification status values.
pub(crate) const STATUSES: &[&str] = &["verified", "pending", "failed", "confirmed"];

/// The channel to use next: the first channel after `last` in rotation order that the contact
/// has; the first channel it has when there is no last one; voice when it has none.
pub(crate) fn next_method(last: Option<Method>, e: &Entry) -> Method {
    let start = last
        .and_then(|m| Method::ALL.iter().position(|x| *x == m))
        .map(|i| i + 1)
        .unwrap_or(0);
    (0..Method::ALL.len())
        .map(|k| Method::ALL[(start + k) % Method::ALL.len()])
        .find(|m| m.available(e))
        .unwrap_or(Method::Voice)
}

/// The method of an entry's latest recorded verification (the last value listed).
pub(crate) fn last_method(e: &Entry) -> Option<Method> {
    e.get(METHOD)?
        .values
        .iter()
        .rev()
        .find_map(|v| std::str::from_utf8(v).ok().and_then(Method::parse))
}

/// `t` plus `months` calendar months, the day clamped to the end of the month (31 March + 1
/// month = 30 April), same time of day.
pub(crate) fn add_months(t: OffsetDateTime, months: u32) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    let total = t.year() as i64 * 12 + (u8::from(t.month()) as i64 - 1) + months as i64;
    let year = (total.div_euclid(12)) as i32;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(Month::December);
    let last_day = time::util::days_in_month(month, year);
    let day = t.day().min(last_day);
    match Date::from_calendar_date(year, month, day) {
        Ok(d) => PrimitiveDateTime::new(d, t.time()).assume_utc(),
        Err(_) => t,
    }
}

/// The due date of a verification made at `last`.
pub(crate) fn due_after(last: OffsetDateTime, interval_months: u32) -> OffsetDateTime {
    add_months(last, interval_months)
}

/// Parse a Generalized Time value (`YYYYMMDDHHMM[SS[.f]](Z|±HHMM)`) as the schema accepts it.
pub fn parse_gtime(v: &[u8]) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(v).ok()?;
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let p = s.get(r)?;
        if p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse().ok()
        } else {
            None
        }
    };
    let year = num(0..4)? as i32;
    let month = Month::try_from(num(4..6)? as u8).ok()?;
    let day = num(6..8)? as u8;
    let hour = num(8..10)? as u8;
    let mut i = 10;
    let mut minute = 0u8;
    let mut second = 0u8;
    if let Some(m) = num(10..12) {
        minute = m as u8;
        i = 12;
        if let Some(sec) = num(12..14) {
            second = sec.min(59) as u8;
            i = 14;
        }
    }
    let rest = &s[i..];
    let rest = match rest.strip_prefix(['.', ',']) {
        Some(r) => r.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    let offset = if rest == "Z" {
        UtcOffset::UTC
    } else {
        let sign: i8 = match rest.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let h: i8 = rest.get(1..3)?.parse().ok()?;
        let m: i8 = rest.get(3..5).unwrap_or("00").parse().ok()?;
        UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
    };
    let d = Date::from_calendar_date(year, month, day).ok()?;
    let t = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        PrimitiveDateTime::new(d, t)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

/// The status a client reads: a contact past its due date reads `overdue`, whatever was
/// stored (the stored status says how the last check went; this says whether it still holds).
/// Applied on every read path (search, compare, the assertion and read-entry controls).
pub(crate) const OVERDUE: &str = "overdue";

pub(crate) fn derive_status(e: &mut Entry, now: OffsetDateTime) {
    let Some(due) = e.get(DUE).and_then(|a| a.values.first()) else {
        return;
    };
    let past = parse_gtime(due).is_some_and(|d| d < now);
    if past && is_contact(e) {
        e.set(STATUS, vec![OVERDUE.as_bytes().to_vec()]);
    }
}

/// Is this entry a contact whose freshness ccdir tracks?
pub(crate) fn is_contact(e: &Entry) -> bool {
    e.has_object_class("cctldContact")
}

/// What a write did, as far as freshness is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A verification was recorded (cctldVerificationMethod or cctldLastVerified written, or a
    /// status other than `confirmed`): reserved to the recorders (the verifiers).
    Verification,
    /// The registry confirmed its data (only `cctldVerificationStatus: confirmed` written):
    /// the contact stays due for a verifier. `data` says whether the same write also changed
    /// contact data.
    Confirmation { data: bool },
    /// The contact's data changed, or a contact was added without a verification.
    DataChange,
    /// Nothing that concerns freshness.
    None,
}

/// The status a registry writes to confirm its data.
pub(crate) const CONFIRMED: &str = "confirmed";

/// Classify a write by the attribute names it touched (base names; options ignored) and, for
/// a written status, the status the entry now holds.
pub(crate) fn trigger(changed: &[String], added: bool, e: &Entry) -> Trigger {
    let base = |n: &String| n.split(';').next().unwrap_or("").to_string();
    let touched = |list: &[&str]| {
        changed
            .iter()
            .map(base)
            .any(|n| list.iter().any(|a| a.eq_ignore_ascii_case(&n)))
    };
    let data = added || touched(CONTACT_DATA);
    let confirmed = e
        .first_str(STATUS)
        .is_some_and(|s| s.trim().eq_ignore_ascii_case(CONFIRMED));
    if touched(RECORDING) {
        if touched(&[METHOD, LAST_VERIFIED]) || !confirmed {
            Trigger::Verification
        } else {
            Trigger::Confirmation { data }
        }
    } else if data {
        Trigger::DataChange
    } else {
        Trigger::None
    }
}

/// Settings the freshness rules need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub(crate) interval_months: u32,
    /// Days from a data change (or a new contact, or a confirmation of changed data) to the
    /// due date: the time a verifier has before the contact reads overdue.
    pub(crate) pending_days: u32,
}

/// Why a write was refused: a value the rules do not take (constraintViolation), or a
/// verification recorded by someone who may not record one (insufficientAccessRights).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Constraint(String),
    Access(String),
}

/// Who writes, as far as the verification policy is concerned.
pub(crate) struct Writer<'a> {
    /// The DN recorded as cctldVerifiedBy.
    pub(crate) dn: &'a str,
    /// May write the computed attributes directly (manage access: directory admins).
    pub(crate) manage: bool,
    /// May record a verification (a member of the recorder groups; asked only when needed).
    pub(crate) may_record: &'a dyn Fn() -> bool,
    /// Names the recorder groups, for the refusal message.
    pub(crate) recorders: &'a str,
}

/// Apply the freshness rules to a contact entry after a write, before it is stored:
///
/// - a recorded verification (only by a recorder: the verifiers group by default) sets
///   cctldLastVerified (to now, unless the writer gave it; not in the future),
///   cctldVerificationStatus (verified, unless given), cctldVerifiedBy (the recorder),
///   cctldVerificationDue (last verified + interval; now when the status is failed) and the
///   suggested next channel;
/// - a confirmation by the registry (`cctldVerificationStatus: confirmed`) changes nothing
///   else: the last verification, its recorder and the due date stay (due within
///   `pending_days` when the same write changed contact data), so the contact waits for a
///   verifier;
/// - a change of contact data (or a new contact without a verification) leaves the last
///   verification and its recorder as they were but makes the contact pending, due within
///   `pending_days`;
/// - the method and status values must be among the known words;
/// - the computed attributes ([`COMPUTED`]) may be written directly only with `manage` access
///   (then the written values are kept), so that nobody else can postpone a due date or
///   name another verifier.
pub(crate) fn on_write(
    rules: Rules,
    now: OffsetDateTime,
    w: &Writer<'_>,
    given: &[String],
    trig: Trigger,
    e: &mut Entry,
) -> Result<(), Refusal> {
    let gave = |n: &str| {
        given.iter().any(|g| {
            g.split(';')
                .next()
                .is_some_and(|b| b.eq_ignore_ascii_case(n))
        })
    };
    if !w.manage {
        if let Some(a) = COMPUTED.iter().find(|a| gave(a)) {
            return Err(Refusal::Constraint(format!(
                "{a} is maintained by the server: record a verification \
                 (cctldVerificationMethod, cctldVerificationStatus, cctldLastVerified) instead"
            )));
        }
    }
    if !is_contact(e) || trig == Trigger::None {
        return Ok(());
    }
    if let Some(a) = e.get(METHOD) {
        for v in &a.values {
            let s = String::from_utf8_lossy(v);
            if Method::parse(&s).is_none() {
                return Err(Refusal::Constraint(format!(
                    "{METHOD}: '{s}' is not one of voice, email, fax, chat, letter"
                )));
            }
        }
    }
    let status = e.first_str(STATUS).map(|s| s.trim().to_ascii_lowercase());
    if let Some(s) = &status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(Refusal::Constraint(format!(
                "{STATUS}: '{s}' is not one of verified, failed, confirmed, pending"
            )));
        }
    }
    if trig == Trigger::Verification && !(w.may_record)() {
        return Err(Refusal::Access(format!(
            "recording a verification (cctldVerificationMethod, cctldLastVerified, \
             cctldVerificationStatus other than confirmed) is reserved to the verifiers \
             (members of {}); a registry confirms its data with \
             'cctldVerificationStatus: confirmed', which keeps the contact due for a verifier",
            w.recorders
        )));
    }
    let now_s = crate::core::clock::generalized_time(now);
    let pending_due = crate::core::clock::generalized_time(
        now + time::Duration::days(i64::from(rules.pending_days)),
    );
    let set = |e: &mut Entry, n: &str, v: &str| {
        if !(COMPUTED.contains(&n) && gave(n)) {
            e.set(n, vec![v.as_bytes().to_vec()]);
        }
    };
    match trig {
        Trigger::Verification => {
            // The time given with this write, else now (also when the write removed it).
            let given_last =
                match e.get(LAST_VERIFIED).and_then(|a| a.values.first()) {
                    Some(v) if gave(LAST_VERIFIED) => Some(parse_gtime(v).ok_or_else(|| {
                        Refusal::Constraint(format!("{LAST_VERIFIED}: not a time"))
                    })?),
                    _ => None,
                };
            let last = given_last.unwrap_or(now);
            if last > now + time::Duration::minutes(5) {
                return Err(Refusal::Constraint(format!(
                    "{LAST_VERIFIED}: in the future"
                )));
            }
            if given_last.is_none() {
                set(e, LAST_VERIFIED, &now_s);
            }
            let status = match (&status, gave(STATUS)) {
                (Some(s), true) if s != "pending" => s.clone(),
                (Some(_), true) => {
                    return Err(Refusal::Constraint(format!(
                        "{STATUS}: a recorded verification is verified or failed, not pending"
                    )))
                }
                _ => "verified".to_string(),
            };
            set(e, STATUS, &status);
            let due = if status == "failed" {
                now
            } else {
                due_after(last, rules.interval_months)
            };
            set(e, DUE, &crate::core::clock::generalized_time(due));
            if !w.dn.is_empty() {
                set(e, VERIFIED_BY, w.dn);
            }
        }
        Trigger::Confirmation { data } => {
            set(e, STATUS, CONFIRMED);
            if data || e.get(DUE).is_none() {
                set(e, DUE, &pending_due);
            }
        }
        Trigger::DataChange => {
            set(e, STATUS, "pending");
            set(e, DUE, &pending_due);
        }
        Trigger::None => {}
    }
    // The note belongs to the check it was written with.
    if matches!(trig, Trigger::Verification | Trigger::Confirmation { .. }) && !gave(NOTE) {
        e.remove(NOTE);
    }
    let next = next_method(last_method(e), e);
    set(e, NEXT_METHOD, next.as_str());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn contact(attrs: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new("cn=x");
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

    #[test]
    fn calendar_months() {
        assert_eq!(
            add_months(datetime!(2026-11-23 10:00 UTC), 3),
            datetime!(2027-02-23 10:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2026-11-30 08:15:30 UTC), 3),
            datetime!(2027-02-28 08:15:30 UTC)
        );
        assert_eq!(
            add_months(datetime!(2027-11-30 00:00 UTC), 3),
            datetime!(2028-02-29 00:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2026-03-31 00:00 UTC), 1),
            datetime!(2026-04-30 00:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2026-01-15 00:00 UTC), 12),
            datetime!(2027-01-15 00:00 UTC)
        );
    }

    #[test]
    fn generalized_times() {
        assert_eq!(
            parse_gtime(b"20261123101500Z"),
            Some(datetime!(2026-11-23 10:15 UTC))
        );
        assert_eq!(
            parse_gtime(b"202611231015+0100"),
            Some(datetime!(2026-11-23 09:15 UTC))
        );
        assert_eq!(
            parse_gtime(b"2026112310Z"),
            Some(datetime!(2026-11-23 10:00 UTC))
        );
        assert_eq!(
            parse_gtime(b"20261123101500.5Z"),
            Some(datetime!(2026-11-23 10:15 UTC))
        );
        assert_eq!(parse_gtime(b"2026112"), None);
        assert_eq!(parse_gtime(b"20261323101500Z"), None);
        assert_eq!(parse_gtime(b"20261123101500"), None);
    }

    #[test]
    fn rotation_skips_missing_channels() {
        let full = contact(&[
            ("telephoneNumber", "+1"),
            ("mail", "a@b.example"),
            ("facsimileTelephoneNumber", "+2"),
            ("cctldMessengerURI", "xmpp:a@b.example"),
            ("postalAddress", "1 Road$Town"),
        ]);
        let mut m = None;
        let mut seen = Vec::new();
        for _ in 0..6 {
            let n = next_method(m, &full);
            seen.push(n.as_str());
            m = Some(n);
        }
        assert_eq!(seen, ["voice", "email", "fax", "chat", "letter", "voice"]);
        let no_fax = contact(&[("telephoneNumber", "+1"), ("mail", "a@b.example")]);
        assert_eq!(next_method(Some(Method::Email), &no_fax), Method::Voice);
        assert_eq!(next_method(Some(Method::Voice), &no_fax), Method::Email);
        assert_eq!(next_method(None, &contact(&[])), Method::Voice);
        assert_eq!(
            next_method(None, &contact(&[("mail", "a@b.example")])),
            Method::Email
        );
    }

    const YES: &dyn Fn() -> bool = &|| true;
    const NO: &dyn Fn() -> bool = &|| false;

    fn writer(
        dn: &'static str,
        manage: bool,
        may_record: &'static dyn Fn() -> bool,
    ) -> Writer<'static> {
        Writer {
            dn,
            manage,
            may_record,
            recorders: "cn=verifiers",
        }
    }

    #[test]
    fn recorded_verification() {
        let rules = Rules {
            interval_months: 3,
            pending_days: 0,
        };
        let now = datetime!(2026-11-30 12:00 UTC);
        let v = writer("cn=v", false, YES);
        let mut e = contact(&[
            ("telephoneNumber", "+1"),
            ("mail", "a@b.example"),
            (METHOD, "voice"),
        ]);
        let given = vec![METHOD.to_string()];
        let t = trigger(&given, false, &e);
        on_write(rules, now, &v, &given, t, &mut e).unwrap();
        assert_eq!(e.first_str(LAST_VERIFIED), Some("20261130120000Z"));
        assert_eq!(e.first_str(DUE), Some("20270228120000Z"));
        assert_eq!(e.first_str(STATUS), Some("verified"));
        assert_eq!(e.first_str(VERIFIED_BY), Some("cn=v"));
        assert_eq!(e.first_str(NEXT_METHOD), Some("email"));

        // An explicit earlier time counts from then; failed is due at once.
        let mut e = contact(&[
            (LAST_VERIFIED, "20261101000000Z"),
            (METHOD, "email"),
            (STATUS, "failed"),
        ]);
        let given: Vec<String> = RECORDING.iter().map(|s| s.to_string()).collect();
        on_write(rules, now, &v, &given, Trigger::Verification, &mut e).unwrap();
        assert_eq!(e.first_str(LAST_VERIFIED), Some("20261101000000Z"));
        assert_eq!(e.first_str(DUE), Some("20261130120000Z"));

        // Computed attributes only with manage access.
        let mut e = contact(&[(DUE, "20300101000000Z")]);
        let g = vec![DUE.to_string()];
        assert!(on_write(rules, now, &v, &g, Trigger::None, &mut e).is_err());
        let admin = writer("cn=v", true, YES);
        assert!(on_write(rules, now, &admin, &g, Trigger::None, &mut e).is_ok());
        let mut e = contact(&[(DUE, "20300101000000Z"), (METHOD, "fax")]);
        let g = vec![DUE.to_string(), METHOD.to_string()];
        on_write(rules, now, &admin, &g, Trigger::Verification, &mut e).unwrap();
        assert_eq!(e.first_str(DUE), Some("20300101000000Z"));
        assert_eq!(e.first_str(STATUS), Some("verified"));

        // Removing the time of the last check records one now.
        let mut e = contact(&[(METHOD, "voice")]);
        let g = vec![LAST_VERIFIED.to_string()];
        on_write(rules, now, &v, &g, Trigger::Verification, &mut e).unwrap();
        assert_eq!(e.first_str(LAST_VERIFIED), Some("20261130120000Z"));

        let anon = writer("", false, YES);
        let mut bad = contact(&[(METHOD, "pigeon")]);
        assert!(on_write(rules, now, &anon, &given, Trigger::Verification, &mut bad).is_err());
        let mut future = contact(&[(LAST_VERIFIED, "20270101000000Z")]);
        assert!(on_write(
            rules,
            now,
            &anon,
            &given,
            Trigger::Verification,
            &mut future
        )
        .is_err());
        // A recorded verification is verified or failed.
        let mut pending = contact(&[(METHOD, "voice"), (STATUS, "pending")]);
        assert!(matches!(
            on_write(rules, now, &v, &given, Trigger::Verification, &mut pending),
            Err(Refusal::Constraint(_))
        ));
    }

    #[test]
    fn only_recorders_record_and_a_registry_confirms() {
        let rules = Rules {
            interval_months: 3,
            pending_days: 0,
        };
        let now = datetime!(2026-11-30 12:00 UTC);
        let registry = writer("uid=admin,associatedDomain=br", false, NO);
        let stored = [
            ("telephoneNumber", "+1"),
            (LAST_VERIFIED, "20260901000000Z"),
            (DUE, "20261201000000Z"),
            (VERIFIED_BY, "cn=vera"),
        ];
        // Recording is refused to a registry's admin, whatever the attribute written.
        for (attr, value) in [
            (METHOD, "voice"),
            (STATUS, "verified"),
            (LAST_VERIFIED, "20261130000000Z"),
        ] {
            let mut e = contact(&stored);
            e.set(attr, vec![value.as_bytes().to_vec()]);
            let given = vec![attr.to_string()];
            let t = trigger(&given, false, &e);
            assert_eq!(t, Trigger::Verification, "{attr}");
            match on_write(rules, now, &registry, &given, t, &mut e) {
                Err(Refusal::Access(m)) => assert!(m.contains("cn=verifiers"), "{m}"),
                other => panic!("{attr}: {other:?}"),
            }
        }
        // A confirmation keeps the last check, its recorder and the due date.
        let mut e = contact(&stored);
        e.set(STATUS, vec![b"confirmed".to_vec()]);
        let given = vec![STATUS.to_string()];
        let t = trigger(&given, false, &e);
        assert_eq!(t, Trigger::Confirmation { data: false });
        on_write(rules, now, &registry, &given, t, &mut e).unwrap();
        assert_eq!(e.first_str(STATUS), Some("confirmed"));
        assert_eq!(e.first_str(DUE), Some("20261201000000Z"));
        assert_eq!(e.first_str(VERIFIED_BY), Some("cn=vera"));
        assert_eq!(e.first_str(LAST_VERIFIED), Some("20260901000000Z"));
        // Confirming changed data: due now, for a verifier.
        let mut e = contact(&stored);
        e.set(STATUS, vec![b"confirmed".to_vec()]);
        e.set("telephoneNumber", vec![b"+2".to_vec()]);
        let given = vec![STATUS.to_string(), "telephoneNumber".to_string()];
        let t = trigger(&given, false, &e);
        assert_eq!(t, Trigger::Confirmation { data: true });
        on_write(rules, now, &registry, &given, t, &mut e).unwrap();
        assert_eq!(e.first_str(DUE), Some("20261130120000Z"));
        assert_eq!(e.first_str(VERIFIED_BY), Some("cn=vera"));
    }

    #[test]
    fn data_change_makes_pending() {
        let rules = Rules {
            interval_months: 3,
            pending_days: 0,
        };
        let now = datetime!(2026-11-30 12:00 UTC);
        let mut e = contact(&[
            ("telephoneNumber", "+1"),
            (LAST_VERIFIED, "20261001000000Z"),
            (DUE, "20270101000000Z"),
            (STATUS, "verified"),
            (VERIFIED_BY, "cn=vera"),
        ]);
        let given = vec!["telephoneNumber".to_string()];
        assert_eq!(trigger(&given, false, &e), Trigger::DataChange);
        let w = writer("cn=w", false, NO);
        on_write(rules, now, &w, &given, Trigger::DataChange, &mut e).unwrap();
        assert_eq!(e.first_str(LAST_VERIFIED), Some("20261001000000Z"));
        assert_eq!(e.first_str(STATUS), Some("pending"));
        assert_eq!(e.first_str(DUE), Some("20261130120000Z"));
        // cctldVerifiedBy still names who recorded the last check, not the writer.
        assert_eq!(e.first_str(VERIFIED_BY), Some("cn=vera"));
        let none = contact(&[]);
        assert_eq!(
            trigger(&["description".to_string()], false, &none),
            Trigger::None
        );
        assert_eq!(
            trigger(&["description".to_string()], true, &none),
            Trigger::DataChange
        );
    }
}
