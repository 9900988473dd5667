//! The root DSE (RFC 4512 5.1) and the subschema subentry (RFC 4512 4.2), built from the
//! configuration and the schema.

use super::controls;
use super::extended;
use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::service::Directory;

pub(crate) const SUBSCHEMA_DN: &str = "cn=Subschema";

/// supportedFeatures: all operational attributes (`+`, RFC 3673), absolute true/false filters
/// (RFC 4526), Modify-Increment (RFC 4525).
pub(crate) const FEATURES: &[&str] = &[
    "1.3.6.1.4.1.4203.1.5.1",
    "1.3.6.1.4.1.4203.1.5.3",
    "1.3.6.1.1.14",
];

fn vals(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

pub(crate) fn root_dse(dir: &Directory) -> Entry {
    let mut e = Entry::new("");
    e.set("objectClass", vals(&["top", "extensibleObject"]));
    e.set(
        "namingContexts",
        vec![dir.suffix.display().as_bytes().to_vec()],
    );
    e.set("supportedLDAPVersion", vals(&["3"]));
    e.set("supportedControl", vals(controls::SUPPORTED));
    e.set("supportedExtension", vals(extended::SUPPORTED));
    e.set("supportedFeatures", vals(FEATURES));
    if dir.config.tls.client_ca.is_some() {
        e.set("supportedSASLMechanisms", vals(&["EXTERNAL"]));
    }
    e.set("subschemaSubentry", vals(&[SUBSCHEMA_DN]));
    // Where the changelog is and which change numbers it holds (as 389-DS says it).
    e.set("changelog", vals(&[super::search::changelog::CHANGELOG_DN]));
    e.set(
        "monitorContext",
        vals(&[super::search::monitor::MONITOR_DN]),
    );
    if let Ok(Some((first, last))) = dir.store.read().and_then(|s| {
        use crate::store::View;
        s.change_bounds()
    }) {
        e.set("firstChangeNumber", vec![first.to_string().into_bytes()]);
        e.set("lastChangeNumber", vec![last.to_string().into_bytes()]);
    }
    e.set("vendorName", vals(&["ccdir"]));
    e.set(
        "vendorVersion",
        vals(&[concat!("ccdir ", env!("CARGO_PKG_VERSION"))]),
    );
    e
}

pub(crate) fn is_subschema(dn: &Dn) -> bool {
    dn.norm() == "cn=subschema"
}

pub(crate) fn subschema(dir: &Directory) -> Entry {
    let mut e = Entry::new(SUBSCHEMA_DN);
    e.set(
        "objectClass",
        vals(&["top", "subentry", "subschema", "extensibleObject"]),
    );
    e.set("cn", vals(&["Subschema"]));
    let s = &dir.schema;
    for (name, values) in [
        ("ldapSyntaxes", s.ldap_syntaxes()),
        ("attributeTypes", s.attribute_type_descriptions()),
        ("objectClasses", s.object_class_descriptions()),
        ("matchingRules", s.matching_rules()),
        ("matchingRuleUse", s.matching_rule_uses()),
    ] {
        e.set(name, values.into_iter().map(String::into_bytes).collect());
    }
    e.set("createTimestamp", vals(&["20260101000000Z"]));
    e.set("modifyTimestamp", vals(&["20260101000000Z"]));
    e
}
