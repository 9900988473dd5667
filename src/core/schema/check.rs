//! Entry checks against the schema (RFC 4512 2.4, 2.5): one structural object class chain,
//! defined classes, MUST attributes present, only MUST/MAY attributes (or any with
//! extensibleObject), all of them by type or subtype. Value-level checks (syntax, single value,
//! duplicates) happen where values are prepared.

use super::{ObjectClass, ObjectClassKind, Schema};
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use ldap3_proto::proto::LdapResultCode;
use std::sync::Arc;

fn violation(msg: String) -> LdapError {
    LdapError::new(LdapResultCode::ObjectClassViolation, msg)
}

/// The entry's object classes from its objectClass values (objectClassViolation for undefined
/// ones).
pub fn classes(schema: &Schema, e: &Entry) -> Result<Vec<Arc<ObjectClass>>, LdapError> {
    let values = e
        .get("objectClass")
        .map(|a| a.values.as_slice())
        .unwrap_or_default();
    if values.is_empty() {
        return Err(violation("no objectClass attribute".into()));
    }
    let mut out: Vec<Arc<ObjectClass>> = Vec::with_capacity(values.len());
    for v in values {
        let name = String::from_utf8_lossy(v);
        let oc = schema.object_class(&name).ok_or_else(|| {
            violation(format!(
                "objectClass: value \"{name}\" is not a defined object class"
            ))
        })?;
        if !out.iter().any(|c| c.oid == oc.oid) {
            out.push(oc.clone());
        }
    }
    Ok(out)
}

/// The entry's structural object class: of its STRUCTURAL classes, the one all others are
/// superclasses of.
pub fn structural_class(
    schema: &Schema,
    classes: &[Arc<ObjectClass>],
) -> Result<String, LdapError> {
    let structural: Vec<&Arc<ObjectClass>> = classes
        .iter()
        .filter(|c| c.kind == ObjectClassKind::Structural)
        .collect();
    if structural.is_empty() {
        return Err(violation("no structural object class provided".into()));
    }
    structural
        .iter()
        .find(|c| {
            structural
                .iter()
                .all(|o| schema.is_subclass(c.name(), o.name()))
        })
        .map(|c| c.name().to_string())
        .ok_or_else(|| {
            violation(format!(
                "invalid structural object class chain ({})",
                structural
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join("/")
            ))
        })
}

/// Check the entry's classes and attributes; returns its structural object class.
pub fn check_entry(schema: &Schema, e: &Entry) -> Result<String, LdapError> {
    let classes = classes(schema, e)?;
    let structural = structural_class(schema, &classes)?;
    let mut all: Vec<Arc<ObjectClass>> = Vec::new();
    for c in &classes {
        for x in std::iter::once(c.clone()).chain(schema.superclasses(c)) {
            if !all.iter().any(|a| a.oid == x.oid) {
                all.push(x);
            }
        }
    }
    let extensible = all
        .iter()
        .any(|c| c.name().eq_ignore_ascii_case("extensibleObject"));
    // MUST: each required type present (directly or by a subtype).
    for c in &all {
        for must in &c.must {
            let present = e
                .attrs
                .iter()
                .any(|a| !a.values.is_empty() && schema.is_subtype(a.base_name(), must));
            if !present {
                return Err(violation(format!(
                    "object class '{}' requires attribute '{must}'",
                    c.name()
                )));
            }
        }
    }
    // MAY: every user attribute allowed by some class (a subtype of an allowed type counts).
    if !extensible {
        for a in &e.attrs {
            let Some(ty) = schema.attribute(a.base_name()) else {
                return Err(LdapError::undefined_type(format!(
                    "{}: attribute type undefined",
                    a.base_name()
                )));
            };
            if ty.is_operational() || ty.name().eq_ignore_ascii_case("objectClass") {
                continue;
            }
            // The type or one of its supertypes must be allowed.
            let mut allowed = false;
            let mut cur = Some(ty);
            for _ in 0..16 {
                let Some(t) = cur else { break };
                if all.iter().any(|c| c.allowed_oids.contains(&t.oid)) {
                    allowed = true;
                    break;
                }
                cur = t.sup.as_deref().and_then(|s| schema.attribute(s));
            }
            if !allowed {
                return Err(violation(format!(
                    "attribute '{}' not allowed by the entry's object classes ({})",
                    ty.name(),
                    classes
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Ok(structural)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pairs: &[(&str, &[&str])]) -> Entry {
        let mut e = Entry::new("cn=x,dc=example");
        for (a, vs) in pairs {
            e.set(a, vs.iter().map(|v| v.as_bytes().to_vec()).collect());
        }
        e
    }

    fn code(r: Result<String, LdapError>) -> LdapResultCode {
        r.map(|_| LdapResultCode::Success)
            .unwrap_or_else(|e| e.code)
    }

    #[test]
    fn structural_and_auxiliary() {
        let s = Schema::builtin().unwrap();
        let e = entry(&[
            ("objectClass", &["top", "inetOrgPerson", "cctldContact"]),
            ("cn", &["x"]),
            ("sn", &["x"]),
            ("associatedDomain", &["br"]),
            ("cctldTimeZone", &["America/Sao_Paulo"]),
        ]);
        assert_eq!(check_entry(&s, &e).unwrap(), "inetOrgPerson");
        let e = entry(&[
            ("objectClass", &["person", "organizationalPerson"]),
            ("cn", &["x"]),
            ("sn", &["x"]),
        ]);
        assert_eq!(check_entry(&s, &e).unwrap(), "organizationalPerson");
    }

    #[test]
    fn violations() {
        let s = Schema::builtin().unwrap();
        let missing_must = entry(&[("objectClass", &["person"]), ("cn", &["x"])]);
        assert_eq!(
            code(check_entry(&s, &missing_must)),
            LdapResultCode::ObjectClassViolation
        );
        let not_allowed = entry(&[
            ("objectClass", &["person"]),
            ("cn", &["x"]),
            ("sn", &["x"]),
            ("mail", &["a@b"]),
        ]);
        let err = check_entry(&s, &not_allowed).unwrap_err();
        assert_eq!(err.code, LdapResultCode::ObjectClassViolation);
        assert!(err.message.contains("mail"), "{}", err.message);
        let two_chains = entry(&[
            ("objectClass", &["person", "organizationalRole"]),
            ("cn", &["x"]),
            ("sn", &["x"]),
        ]);
        assert_eq!(
            code(check_entry(&s, &two_chains)),
            LdapResultCode::ObjectClassViolation
        );
        let aux_only = entry(&[
            ("objectClass", &["cctldContact"]),
            ("associatedDomain", &["br"]),
        ]);
        assert_eq!(
            code(check_entry(&s, &aux_only)),
            LdapResultCode::ObjectClassViolation
        );
        let undefined = entry(&[
            ("objectClass", &["person", "noSuchClass"]),
            ("cn", &["x"]),
            ("sn", &["x"]),
        ]);
        assert!(check_entry(&s, &undefined)
            .unwrap_err()
            .message
            .contains("noSuchClass"));
        let aux_must = entry(&[
            ("objectClass", &["organizationalRole", "cctldContact"]),
            ("cn", &["x"]),
        ]);
        let err = check_entry(&s, &aux_must).unwrap_err();
        assert!(err.message.contains("associatedDomain"), "{}", err.message);
    }

    #[test]
    fn extensible_object_allows_any_user_attribute() {
        let s = Schema::builtin().unwrap();
        let e = entry(&[
            ("objectClass", &["organizationalRole", "extensibleObject"]),
            ("cn", &["x"]),
            ("mail", &["a@b"]),
        ]);
        assert!(check_entry(&s, &e).is_ok());
    }
}
