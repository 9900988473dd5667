//! Which reminders are due now: plain functions of the overdue report, the recorded state and
//! the time. Per registry one mail to its admins when it has contacts overdue or falling due
//! and that kind was not mailed within the period; one digest per period to the verifiers.

use super::compose;
pub(crate) use super::compose::Delivery;
use crate::tools::report::{key, Report};
use std::collections::HashMap;

/// One mail to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// The state keys to record once the relay accepted it.
    pub(crate) marks: Vec<String>,
    /// The registry's index in the report (None: the digest).
    pub(crate) registry: Option<usize>,
    /// The Message-ID to give it (None: a generated one): a challenge's names the challenge,
    /// so that its bounce can be matched (tools/bounce.rs).
    pub(crate) message_id: Option<String>,
}

/// The recorded state: key -> Unix seconds of the last mail.
pub(crate) type Marks = HashMap<String, u64>;

/// The state key of the digest.
pub(crate) const DIGEST: &str = "digest";

/// The state key of a registry's reminder of one kind ("due" or "overdue").
pub(crate) fn registry_key(kind: &str, registry_dn: &str) -> String {
    format!("{kind} {}", key(registry_dn))
}

/// True when `key` was never mailed or last mailed at least `period_days` before `now`.
fn stale(marks: &Marks, key: &str, now: i64, period_days: u32) -> bool {
    match marks.get(key) {
        None => true,
        Some(&t) => now.saturating_sub(t as i64) >= i64::from(period_days) * 86_400,
    }
}

/// Recipients sorted, each once (compared without case).
fn addresses<'a>(all: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut to: Vec<String> = Vec::new();
    for m in all {
        if !to.iter().any(|t| t.eq_ignore_ascii_case(m)) {
            to.push(m.clone());
        }
    }
    to.sort_by_key(|t| t.to_ascii_lowercase());
    to
}

/// The registries' mails due at `report.at` (the report made with the lead time as its
/// horizon), and per registry of the report what becomes of it (for the digest).
pub(crate) fn registry_mails(
    report: &Report,
    marks: &Marks,
    lead_days: u32,
    period_days: u32,
) -> (Vec<Mail>, Vec<Delivery>) {
    let now = report.at.unix_timestamp();
    let mut mails = Vec::new();
    let mut delivery = Vec::new();
    for (i, r) in report.registries.iter().enumerate() {
        let mut keys = Vec::new();
        if r.contacts.iter().any(|c| c.overdue) {
            keys.push(registry_key("overdue", &r.dn));
        }
        if r.contacts.iter().any(|c| !c.overdue) {
            keys.push(registry_key("due", &r.dn));
        }
        if !keys.iter().any(|k| stale(marks, k, now, period_days)) {
            delivery.push(Delivery::Earlier);
            continue;
        }
        let to = addresses(r.admins.iter().flat_map(|a| &a.mail));
        if to.is_empty() {
            delivery.push(Delivery::NoAddress);
            continue;
        }
        let (subject, body) = compose::registry_mail(r, lead_days, period_days);
        delivery.push(Delivery::Now(to.clone()));
        mails.push(Mail {
            to,
            subject,
            body,
            marks: keys,
            registry: Some(i),
            message_id: None,
        });
    }
    (mails, delivery)
}

/// The verifiers' digest, when one is due (something to report, recipients, and none sent
/// within the period); `delivery` says per registry what became of its own mail.
pub(crate) fn digest_mail(
    report: &Report,
    marks: &Marks,
    digest_to: &[String],
    delivery: &[Delivery],
    lead_days: u32,
    period_days: u32,
) -> Option<Mail> {
    let due = !report.registries.is_empty()
        && !digest_to.is_empty()
        && stale(marks, DIGEST, report.at.unix_timestamp(), period_days);
    due.then(|| {
        let (subject, body) = compose::digest(report, delivery, lead_days);
        Mail {
            to: addresses(digest_to),
            subject,
            body,
            marks: vec![DIGEST.to_string()],
            registry: None,
            message_id: None,
        }
    })
}

/// Every mail due (the registries' first, the digest last), as if each were accepted.
pub(crate) fn plan(
    report: &Report,
    marks: &Marks,
    digest_to: &[String],
    lead_days: u32,
    period_days: u32,
) -> Vec<Mail> {
    let (mut mails, delivery) = registry_mails(report, marks, lead_days, period_days);
    mails.extend(digest_mail(
        report,
        marks,
        digest_to,
        &delivery,
        lead_days,
        period_days,
    ));
    mails
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::entry::Entry;
    use crate::tools::report::build;
    use time::macros::datetime;
    use time::OffsetDateTime;

    const ZZ: &str = "associatedDomain=zz,ou=registries,dc=x";
    const YY: &str = "associatedDomain=yy,ou=registries,dc=x";

    fn entry(dn: &str, attrs: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new(dn);
        for (k, v) in attrs {
            let mut vals = e.get(k).map(|a| a.values.clone()).unwrap_or_default();
            vals.push(v.as_bytes().to_vec());
            e.set(k, vals);
        }
        e
    }

    /// .zz: one contact overdue (A), one due in 12 days (B), an admin with mail; .yy: one
    /// overdue contact and an admin without mail.
    fn entries() -> Vec<Entry> {
        vec![
            entry(ZZ, &[("associatedDomain", "zz"), ("o", "ZZ Registry")]),
            entry(
                &format!("cn=admins,{ZZ}"),
                &[("member", &format!("uid=a,{ZZ}"))],
            ),
            entry(
                &format!("uid=a,{ZZ}"),
                &[
                    ("objectClass", "cctldContact"),
                    ("cn", "Ann Admin"),
                    ("mail", "ann@zz.example"),
                    ("userPassword", "{ARGON2}secret-hash"),
                    (
                        "cctldOpenPGPFingerprint",
                        "0123456789ABCDEF0123456789ABCDEF01234567",
                    ),
                    ("cctldVerificationDue", "20261101000000Z"),
                    ("cctldVerificationMethod", "voice"),
                    ("cctldVerificationStatus", "verified"),
                ],
            ),
            entry(
                &format!("cn=b,{ZZ}"),
                &[
                    ("objectClass", "cctldContact"),
                    ("cn", "Bob"),
                    ("cctldVerificationDue", "20261205000000Z"),
                    ("cctldVerificationStatus", "verified"),
                ],
            ),
            entry(YY, &[("associatedDomain", "yy")]),
            entry(
                &format!("cn=admins,{YY}"),
                &[("member", &format!("uid=y,{YY}"))],
            ),
            entry(
                &format!("uid=y,{YY}"),
                &[
                    ("objectClass", "cctldContact"),
                    ("cn", "Yan"),
                    ("cctldVerificationDue", "20261001000000Z"),
                ],
            ),
        ]
    }

    const NOW: OffsetDateTime = datetime!(2026-11-23 00:00 UTC);

    fn plan_at(at: OffsetDateTime, marks: &Marks) -> Vec<Mail> {
        plan(
            &build(&entries(), at, 14),
            marks,
            &["v@x.example".into()],
            14,
            7,
        )
    }

    fn mark_all(mails: &[Mail], at: OffsetDateTime, marks: &mut Marks) {
        for k in mails.iter().flat_map(|m| &m.marks) {
            marks.insert(k.clone(), at.unix_timestamp() as u64);
        }
    }

    #[test]
    fn one_mail_per_registry_with_an_address_and_a_digest() {
        let mails = plan_at(NOW, &Marks::new());
        assert_eq!(mails.len(), 2, "{mails:#?}");
        let zz = &mails[0];
        assert_eq!(zz.to, ["ann@zz.example"]);
        assert_eq!(
            zz.subject,
            "[ccdir] .zz: 1 contact overdue, 1 contact falling due within 14 days"
        );
        for want in [
            "Dear administrators of .zz (ZZ Registry)",
            "1 contact overdue:\n  - Ann Admin\n    due 2026-11-01 (22 days ago), status overdue\n    \
             last verified never, next check by email\n    uid=a,associatedDomain=zz",
            "1 contact falling due within 14 days:\n  - Bob\n    due 2026-12-05 (in 12 days), \
             status verified",
            "at most once every 7 days",
        ] {
            assert!(zz.body.contains(want), "{want}\n{}", zz.body);
        }
        assert!(!zz.body.contains("ARGON2") && !zz.body.contains("0123456789ABCDEF"));
        let mut m = zz.marks.clone();
        m.sort();
        assert_eq!(
            m,
            [
                "due associateddomain=zz,ou=registries,dc=x",
                "overdue associateddomain=zz,ou=registries,dc=x"
            ]
        );
        let d = &mails[1];
        assert_eq!(d.to, ["v@x.example"]);
        assert_eq!(
            d.subject,
            "[ccdir] digest: 2 contacts overdue, 1 contact falling due within 14 days in 2 registries"
        );
        assert!(
            d.body
                .contains(".yy: 1 contact overdue\n    NOT REMINDED: no admin"),
            "{}",
            d.body
        );
        assert!(d.body.contains(".zz (ZZ Registry): 1 contact overdue, 1 contact falling due within 14 days\n    admins reminded now: ann@zz.example"), "{}", d.body);
        assert_eq!(d.marks, [DIGEST]);
    }

    #[test]
    fn nothing_again_within_the_period_everything_after_it() {
        let mut marks = Marks::new();
        mark_all(&plan_at(NOW, &marks), NOW, &mut marks);
        assert_eq!(plan_at(NOW, &marks), []);
        let almost = NOW + time::Duration::days(7) - time::Duration::seconds(1);
        assert_eq!(plan_at(almost, &marks), []);
        let later = plan_at(NOW + time::Duration::days(7), &marks);
        assert_eq!(later.len(), 2);
        // A clock set back does not count as a period passed.
        assert_eq!(plan_at(NOW - time::Duration::days(30), &marks), []);
    }

    #[test]
    fn a_contact_becoming_overdue_is_mailed_within_the_period_of_the_due_mail() {
        // On 28 October only Ann falls due (on 1 November), Bob not yet within 14 days.
        let early = NOW - time::Duration::days(26);
        let mails = plan_at(early, &Marks::new());
        assert_eq!(
            mails[0].subject,
            "[ccdir] .zz: 1 contact falling due within 14 days"
        );
        let mut marks = Marks::new();
        mark_all(&mails, early, &mut marks);
        // Ann overdue five days later: a new kind for .zz, mailed although the period runs
        // (the digest is not: its period runs).
        let after = plan_at(early + time::Duration::days(5), &marks);
        let subjects: Vec<&str> = after.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(subjects, ["[ccdir] .zz: 1 contact overdue"]);
    }

    #[test]
    fn no_digest_without_recipients_or_without_anything_due() {
        let r = build(&entries(), NOW, 14);
        let mails = plan(&r, &Marks::new(), &[], 14, 7);
        assert_eq!(mails.len(), 1);
        let none = build(&entries()[..2], NOW, 14);
        assert_eq!(
            plan(&none, &Marks::new(), &["v@x.example".into()], 14, 7),
            []
        );
    }
}
