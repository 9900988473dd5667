//! What a page shows of a registry and its contacts, built from the entries a search returned
//! with the roster's model (tools/roster: the 24/7 contact point first, then the people in
//! escalation order), its freshness text and its time zone functions. Values stay text here:
//! the templates escape them.

use crate::core::entry::Entry;
use crate::tools::offline::{all, first};
use crate::tools::roster::{self, tz, Registry, Roster};
use time::OffsetDateTime;

/// A link or, for a value whose scheme is not one the portal links to, plain text.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    pub(crate) label: &'static str,
    pub(crate) value: String,
    pub(crate) href: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ContactView {
    /// For the vCard link (`/cctld/{tld}/contact/{uuid}.vcf`); empty when not readable.
    pub(crate) uuid: String,
    pub(crate) name: String,
    /// The registry's 24/7 contact point.
    pub(crate) point: bool,
    pub(crate) title: String,
    pub(crate) roles: String,
    pub(crate) priority: String,
    /// `verified`, `pending`, `failed`, `overdue`, or empty.
    pub(crate) status: String,
    pub(crate) freshness: String,
    pub(crate) due: String,
    pub(crate) next_channel: String,
    pub(crate) channels: Vec<Channel>,
    pub(crate) fingerprints: Vec<String>,
    pub(crate) zone: String,
    /// The local time now in the contact's zone, e.g. `Wed 2026-07-15 14:00 CEST`.
    pub(crate) local_now: String,
    pub(crate) hours: Vec<String>,
    pub(crate) hours_utc: Vec<String>,
    /// Within business hours now: Some(true/false), or None without (readable) hours.
    pub(crate) in_hours: Option<bool>,
    /// `cctldAvailable247`: Some(true/false), or None when not given.
    pub(crate) always: Option<bool>,
    pub(crate) languages: String,
    pub(crate) substitutes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RegistryView {
    pub(crate) tld: String,
    /// `.de`, or `.xn--p1ai (.рф)`.
    pub(crate) label: String,
    pub(crate) name: String,
    pub(crate) operator: String,
    pub(crate) country: String,
    pub(crate) regions: Vec<String>,
    pub(crate) description: String,
    pub(crate) links: Vec<Channel>,
    pub(crate) contacts: Vec<ContactView>,
}

/// Schemes a value may be linked with; anything else (`javascript:`, `data:`) is shown as text.
const LINKED: &[&str] = &[
    "https:", "http:", "mailto:", "tel:", "xmpp:", "matrix:", "sip:", "sips:", "im:",
];

fn link(uri: &str) -> Option<String> {
    let lower = uri.to_ascii_lowercase();
    LINKED
        .iter()
        .any(|s| lower.starts_with(s))
        .then(|| uri.to_string())
}

fn day(e: &Entry, a: &str) -> String {
    crate::freshness::parse_gtime(first(e, a).as_bytes())
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// The channel of the next check: the one the server stored when it last computed it
/// (`cctldVerificationNextMethod`), or else the rotation's next (`freshness::next_method`)
/// after the last method, among the channels the contact has.
fn next_channel(e: &Entry) -> String {
    let stored = first(e, crate::freshness::NEXT_METHOD);
    if !stored.is_empty() {
        return stored;
    }
    use crate::freshness::{last_method, next_method};
    next_method(last_method(e), e).as_str().to_string()
}

fn channels(e: &Entry) -> Vec<Channel> {
    let mut out = Vec::new();
    let phones: [(&str, &'static str); 4] = [
        ("cctldEmergencyTelephoneNumber", "Emergency"),
        ("telephoneNumber", "Phone"),
        ("mobile", "Mobile"),
        ("facsimileTelephoneNumber", "Fax"),
    ];
    for (attr, label) in phones {
        for v in all(e, attr) {
            let uri = roster::vcard::tel_uri(&v);
            let href = (uri.len() > 4 && label != "Fax").then_some(uri);
            out.push(Channel {
                label,
                value: v,
                href,
            });
        }
    }
    for m in all(e, "mail") {
        out.push(Channel {
            label: "E-mail",
            href: Some(format!("mailto:{m}")),
            value: m,
        });
    }
    for m in all(e, "cctldMessengerURI") {
        let (uri, label) = m.split_once(' ').unwrap_or((m.as_str(), ""));
        let value = if label.is_empty() {
            uri.to_string()
        } else {
            format!("{uri} ({})", label.trim())
        };
        out.push(Channel {
            label: "Messenger",
            href: link(uri),
            value,
        });
    }
    for t in all(e, "cctldOtherTelecom") {
        out.push(Channel {
            label: "Other",
            value: t,
            href: None,
        });
    }
    out
}

pub(crate) fn contact(r: &Roster, e: &Entry, point: bool, at: OffsetDateTime) -> ContactView {
    let zone = first(e, "cctldTimeZone");
    let local = tz::local_time(&zone, at);
    let hours = all(e, "cctldBusinessHours");
    let offset = tz::offset_at(&zone, at).map(|(o, _)| o);
    let hours_utc = hours
        .iter()
        .filter_map(|h| offset.and_then(|o| tz::hours_in_utc(h, o)))
        .collect();
    let in_hours = match &local {
        Some((d, m, _)) if !hours.is_empty() => {
            let each: Vec<Option<bool>> =
                hours.iter().map(|h| tz::within_hours(h, *d, *m)).collect();
            if each.contains(&Some(true)) {
                Some(true)
            } else if each.iter().all(|x| x.is_some()) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    };
    let mut languages = all(e, "cctldLanguage");
    if languages.is_empty() {
        languages = all(e, "preferredLanguage");
    }
    ContactView {
        uuid: first(e, "entryUUID"),
        name: roster::name_of(e),
        point,
        title: all(e, "title").join("; "),
        roles: all(e, "cctldContactRole").join(", "),
        priority: first(e, "cctldContactPriority"),
        status: roster::status_at(e, at),
        freshness: roster::freshness_text(e, at),
        due: day(e, crate::freshness::DUE),
        next_channel: next_channel(e),
        channels: channels(e),
        fingerprints: all(e, "cctldOpenPGPFingerprint")
            .iter()
            .map(|f| roster::fingerprint_text(f))
            .collect(),
        local_now: local.map(|l| l.2).unwrap_or_default(),
        zone,
        hours,
        hours_utc,
        in_hours,
        always: match first(e, "cctldAvailable247").as_str() {
            "TRUE" => Some(true),
            "FALSE" => Some(false),
            _ => None,
        },
        languages: languages.join(", "),
        substitutes: all(e, "cctldSubstitute")
            .iter()
            .map(|s| r.name_for(s))
            .collect(),
    }
}

/// The registry of a roster built from one registry's entries, with its contacts.
pub(crate) fn registry(r: &Roster, g: &Registry, at: OffsetDateTime) -> RegistryView {
    let e = &g.entry;
    let mut contacts = Vec::new();
    if let Some(t) = &g.team {
        let is_point = !first(e, "cctldContactPoint").is_empty();
        contacts.push(contact(r, t, is_point, at));
    }
    for p in &g.people {
        contacts.push(contact(r, p, false, at));
    }
    let c = first(e, "c");
    let co = first(e, "co");
    let country = match (co.is_empty(), c.is_empty()) {
        (false, false) => format!("{co} ({c})"),
        (false, true) => co,
        (true, _) => c,
    };
    let links = all(e, "labeledURI")
        .iter()
        .map(|v| {
            let (uri, label) = v.split_once(' ').unwrap_or((v.as_str(), ""));
            Channel {
                label: "Web",
                value: if label.is_empty() {
                    uri.to_string()
                } else {
                    format!("{} ({uri})", label.trim())
                },
                href: link(uri).filter(|u| u.to_ascii_lowercase().starts_with("http")),
            }
        })
        .collect();
    RegistryView {
        tld: g.domain.clone(),
        label: g.label(),
        name: first(e, "o"),
        operator: all(e, "cctldRegistryOperator").join("; "),
        country,
        regions: g
            .regions
            .iter()
            .filter(|x| x.as_str() != roster::NO_REGION)
            .cloned()
            .collect(),
        description: all(e, "description").join(" "),
        links,
        contacts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_schemes_are_links() {
        assert_eq!(
            link("xmpp:ir@nic.example").as_deref(),
            Some("xmpp:ir@nic.example")
        );
        assert_eq!(
            link("HTTPS://nic.example/").as_deref(),
            Some("HTTPS://nic.example/")
        );
        assert_eq!(link("javascript:alert(1)"), None);
        assert_eq!(link(" javascript:alert(1)"), None);
        assert_eq!(link("data:text/html,<script>"), None);
    }
}
