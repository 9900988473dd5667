//! The roster as CSV (RFC 4180), one line per contact, for spreadsheets and scripts.

use super::{name_of, tz, Roster};
use crate::tools::offline::{all as values, csv_line, first};

pub(crate) const HEADER: &[&str] = &[
    "cctld",
    "u_label",
    "country",
    "region",
    "kind",
    "name",
    "title",
    "roles",
    "priority",
    "mail",
    "telephone",
    "mobile",
    "emergency_telephone",
    "fax",
    "messenger",
    "other_telecom",
    "time_zone",
    "business_hours_local",
    "business_hours_utc",
    "available_24_7",
    "languages",
    "substitute",
    "openpgp_fingerprint",
    "key_uri",
    "last_verified",
    "verification_due",
    "verification_status",
    "dn",
];

/// The whole roster, business hours in UTC as of `at`.
pub fn all(r: &Roster, at: time::OffsetDateTime) -> String {
    let mut o = csv_line(&HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    for g in &r.registries {
        for e in g.contacts() {
            let zone = first(e, "cctldTimeZone");
            let hours = first(e, "cctldBusinessHours");
            let utc = tz::offset_at(&zone, at)
                .and_then(|(off, _)| tz::hours_in_utc(&hours, off))
                .unwrap_or_default();
            let kind = if e.has_object_class("organizationalRole") {
                "team"
            } else {
                "person"
            };
            o.push_str(&csv_line(&[
                g.domain.clone(),
                first(&g.entry, "cctldULabel"),
                first(&g.entry, "co"),
                g.regions.join(" "),
                kind.into(),
                name_of(e),
                first(e, "title"),
                values(e, "cctldContactRole").join(" "),
                first(e, "cctldContactPriority"),
                values(e, "mail").join(" "),
                values(e, "telephoneNumber").join(" / "),
                values(e, "mobile").join(" / "),
                values(e, "cctldEmergencyTelephoneNumber").join(" / "),
                values(e, "facsimileTelephoneNumber").join(" / "),
                values(e, "cctldMessengerURI").join(" / "),
                values(e, "cctldOtherTelecom").join(" / "),
                zone,
                hours,
                utc,
                first(e, "cctldAvailable247"),
                values(e, "cctldLanguage").join(" "),
                values(e, "cctldSubstitute")
                    .iter()
                    .map(|d| r.name_for(d))
                    .collect::<Vec<_>>()
                    .join(" / "),
                values(e, "cctldOpenPGPFingerprint").join(" "),
                values(e, "cctldKeyURI").join(" "),
                first(e, "cctldLastVerified"),
                first(e, "cctldVerificationDue"),
                super::status_at(e, at),
                e.dn.clone(),
            ]));
        }
    }
    o
}
