//! The completeness rules on a registry (docs/operations.md, "Checks"): at least one contact
//! available 24/7 with an emergency number, and one reachable without the internet. Used by
//! `ccdir check` over the whole directory and by the `cctldProblem` attribute computed on read
//! (ops/project.rs), so scripts find incomplete registries with an LDAP search.

use crate::core::entry::Entry;

/// The attributes that reach someone without the internet.
const OFFLINE: &[&str] = &[
    "telephoneNumber",
    "cctldEmergencyTelephoneNumber",
    "mobile",
    "facsimileTelephoneNumber",
];

/// What a registry's contacts provide, contact by contact.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    point_247: bool,
    offline: bool,
}

impl Tally {
    /// Count one entry of the registry (entries that are not contacts count for nothing).
    pub(crate) fn add(&mut self, e: &Entry) {
        if !e.has_object_class("cctldContact") {
            return;
        }
        let always = e
            .first_str("cctldAvailable247")
            .is_some_and(|v| v.eq_ignore_ascii_case("TRUE"));
        let emergency = e.get("cctldEmergencyTelephoneNumber").is_some();
        self.point_247 |= always && emergency;
        self.offline |= OFFLINE.iter().any(|a| e.get(a).is_some());
    }

    /// The rules the registry of ccTLD `tld` breaks: (rule name, message).
    pub(crate) fn problems(&self, tld: &str) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.point_247 {
            out.push((
                "contact-point-247",
                format!(
                    ".{tld}: no contact available 24/7 (cctldAvailable247: TRUE) with an \
                     emergency number (cctldEmergencyTelephoneNumber)"
                ),
            ));
        }
        if !self.offline {
            out.push((
                "offline-channel",
                format!(
                    ".{tld}: no contact reachable without the internet (telephone, mobile or \
                     fax number)"
                ),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(attrs: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new("cn=x");
        e.set(
            "objectClass",
            vec![b"organizationalRole".to_vec(), b"cctldContact".to_vec()],
        );
        for (k, v) in attrs {
            e.set(k, vec![v.as_bytes().to_vec()]);
        }
        e
    }

    #[test]
    fn a_registry_needs_a_247_contact_with_an_emergency_number_and_an_offline_channel() {
        let t = Tally::default();
        let rules: Vec<&str> = t.problems("zz").iter().map(|p| p.0).collect();
        assert_eq!(rules, ["contact-point-247", "offline-channel"]);
        let mut t = Tally::default();
        t.add(&contact(&[("mail", "a@b.example")]));
        t.add(&contact(&[
            ("cctldAvailable247", "TRUE"),
            ("mail", "c@b.example"),
        ]));
        assert_eq!(t.problems("zz").len(), 2);
        t.add(&contact(&[
            ("cctldAvailable247", "true"),
            ("cctldEmergencyTelephoneNumber", "+41 44 000 00 00"),
        ]));
        assert!(t.problems("zz").is_empty());
    }
}
