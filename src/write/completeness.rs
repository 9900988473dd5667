//! The completeness rules on a registry (docs/operations.md, "Checks"): at least one contact
//! available 24/7 with an emergency number, and one reachable without the internet. Used by
//! `ccdir check` over the whole directory and by the `cctldProblem` attribute computed on read
//! (ops/project.rs), so scripts find incomplete registries with an LDAP search.

use crate::core::dn::Dn;
use crate::core::entry::Entry;
use std::collections::HashMap;

/// The attributes that reach someone without the internet.
const OFFLINE: &[&str] = &[
    "telephoneNumber",
    "cctldEmergencyTelephoneNumber",
    "mobile",
    "facsimileTelephoneNumber",
];

/// The registries among `entries` (cctldRegistry), each with the tally of the contacts under
/// it (a contact counts for the nearest registry above it), in entry order. `parse` gives an
/// entry's DN; an entry whose DN does not parse counts for nothing. Linear in the entries: the
/// registries by normalized DN, then each contact's ancestors looked up.
pub(crate) fn by_registry(
    entries: &[Entry],
    parse: impl Fn(&str) -> Option<Dn>,
) -> Vec<(Dn, &Entry, Tally)> {
    let mut regs: Vec<(Dn, &Entry, Tally)> = entries
        .iter()
        .filter(|e| e.has_object_class("cctldRegistry"))
        .filter_map(|e| Some((parse(&e.dn)?, e, Tally::default())))
        .collect();
    let index: HashMap<String, usize> = regs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.0.norm().to_string(), i))
        .collect();
    for e in entries
        .iter()
        .filter(|e| e.has_object_class("cctldContact"))
    {
        let Some(mut dn) = parse(&e.dn) else {
            continue;
        };
        loop {
            if let Some(&i) = index.get(dn.norm()) {
                regs[i].2.add(e);
                break;
            }
            if dn.is_root() {
                break;
            }
            dn = dn.parent();
        }
    }
    regs
}

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

    #[test]
    fn each_contact_counts_for_the_registry_above_it() {
        let schema = crate::core::schema::Schema::builtin().unwrap();
        let parse = |t: &str| Dn::parse(t, &schema).ok();
        let registry = |dn: &str| {
            let mut e = Entry::new(dn);
            e.set(
                "objectClass",
                vec![b"organization".to_vec(), b"cctldRegistry".to_vec()],
            );
            e
        };
        let at = |dn: &str, attrs: &[(&str, &str)]| {
            let mut e = contact(attrs);
            e.dn = dn.to_string();
            e
        };
        let full = [
            ("cctldAvailable247", "TRUE"),
            ("cctldEmergencyTelephoneNumber", "+41 44 000 00 00"),
        ];
        let entries = vec![
            registry("associatedDomain=zz,ou=registries,dc=x"),
            registry("associatedDomain=yy,ou=registries,dc=x"),
            // Deeper than a registry's child, DN spelled in another case: still zz's.
            at("CN=A,ou=team,ASSOCIATEDDOMAIN=ZZ,ou=registries,dc=x", &full),
            // Under no registry: counts for none.
            at("cn=b,ou=people,dc=x", &full),
            at(
                "cn=c,associatedDomain=yy,ou=registries,dc=x",
                &[("mail", "c@yy.example")],
            ),
        ];
        let regs = by_registry(&entries, parse);
        assert_eq!(regs.len(), 2);
        assert!(regs[0].2.problems("zz").is_empty());
        assert_eq!(regs[1].2.problems("yy").len(), 2);
        assert_eq!(regs[1].1.dn, "associatedDomain=yy,ou=registries,dc=x");
    }
}
