//! Accounts: entries that can bind with a password (they hold `userPassword`). A registry's
//! admins may create accounts below their registry, up to `accounts.max_per_registry`, and
//! each is pending until a directory admin approves it (docs/security.md, "Accounts").
//!
//! The status is `cctldAccountStatus` (pending, approved, suspended); an account without it is
//! approved (entries made by directory admins, imported data, databases from before accounts
//! had a status). The pipeline's accounts stage ([`on_write`]) runs on an add and a modify for
//! the origins [`super::Origin::stages`] names; bind reads the status with [`bind_refusal`].

use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::{StoreError, View};
use ldap3_proto::proto::LdapResultCode;

/// The status attribute and the auxiliary class that allows it (schema/cctld-ir.schema).
pub(crate) const STATUS: &str = "cctldAccountStatus";
pub(crate) const CLASS: &str = "cctldAccount";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Approved,
    Suspended,
}

impl Status {
    fn parse(v: &[u8]) -> Option<Status> {
        match v.to_ascii_lowercase().as_slice() {
            b"pending" => Some(Status::Pending),
            b"approved" => Some(Status::Approved),
            b"suspended" => Some(Status::Suspended),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Suspended => "suspended",
        }
    }
}

/// The status of the entry's account: approved without a status value; a value outside the
/// three words (data imported as is) counts as suspended, so it never lets anyone bind.
pub(crate) fn status(e: &Entry) -> Status {
    let mut values = e.attrs_of_type(STATUS).flat_map(|a| a.values.iter());
    let Some(first) = values.next() else {
        return Status::Approved;
    };
    let first = Status::parse(first).unwrap_or(Status::Suspended);
    if values.any(|v| Status::parse(v) != Some(first)) {
        return Status::Suspended;
    }
    first
}

/// Why a bind as this entry is refused although the credentials are right, or None.
pub(crate) fn bind_refusal(e: &Entry) -> Option<&'static str> {
    match status(e) {
        Status::Approved => None,
        Status::Pending => Some("account pending approval by a directory admin"),
        Status::Suspended => Some("account suspended by a directory admin"),
    }
}

/// Does the entry have a password (is it an account)?
pub(crate) fn is_account(e: &Entry) -> bool {
    e.attrs_of_type("userPassword")
        .any(|a| !a.values.is_empty())
}

/// The accounts stage, on the entry as it will be stored: `old` is the entry before a modify
/// (None for an add), `manage` whether the actor has manage access to it (a directory admin),
/// `names` the attributes the change writes (the stage adds what it sets).
///
/// - A status value must be one of the three words (constraintViolation, 19).
/// - Without manage, the status may be written only as pending or suspended
///   (insufficientAccessRights, 50): only directory admins approve.
/// - Without manage, an entry that gets a password (a new account) must be below a registry
///   (50 otherwise), the registry may not already have `accounts.max_per_registry` accounts
///   (adminLimitExceeded, 11), and the account is pending unless the change says suspended.
///   A new password for an existing account keeps its status.
/// - An entry with a status gets the class `cctldAccount`.
pub(crate) fn on_write<V: View>(
    dir: &Directory,
    view: &V,
    dn: &Dn,
    manage: bool,
    old: Option<&Entry>,
    names: &mut Vec<String>,
    e: &mut Entry,
) -> Result<(), LdapError> {
    let written = names.iter().any(|n| {
        n.split(';')
            .next()
            .is_some_and(|b| b.eq_ignore_ascii_case(STATUS))
    });
    if written {
        check_values(e)?;
    }
    if !manage {
        if written && !matches!(status_given(e), Some(Status::Pending | Status::Suspended)) {
            return Err(LdapError::insufficient_access(format!(
                "{STATUS}: only a directory admin may approve an account (a registry admin may set pending or suspended)"
            )));
        }
        if is_account(e) && !old.is_some_and(is_account) {
            let registry = registry_of(dir, dn).ok_or_else(|| {
                LdapError::insufficient_access(
                    "only a directory admin may create an account (an entry with userPassword) outside a registry",
                )
            })?;
            within_limit(dir, view, &registry, dn)?;
            if !written {
                e.set(STATUS, vec![Status::Pending.word().as_bytes().to_vec()]);
                note(names, STATUS);
            }
        }
    }
    if e.attrs_of_type(STATUS).next().is_some() && !e.has_object_class(CLASS) {
        let mut classes = e
            .get("objectClass")
            .map(|a| a.values.clone())
            .unwrap_or_default();
        classes.push(CLASS.as_bytes().to_vec());
        e.set("objectClass", classes);
        note(names, "objectClass");
    }
    Ok(())
}

/// Every status value is one of the three words.
fn check_values(e: &Entry) -> Result<(), LdapError> {
    for v in e.attrs_of_type(STATUS).flat_map(|a| a.values.iter()) {
        if Status::parse(v).is_none() {
            return Err(LdapError::constraint(format!(
                "{STATUS}: the value must be pending, approved or suspended"
            )));
        }
    }
    Ok(())
}

/// The status the entry states, None when it states none.
fn status_given(e: &Entry) -> Option<Status> {
    e.attrs_of_type(STATUS).next()?;
    Some(status(e))
}

fn note(names: &mut Vec<String>, name: &str) {
    if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        names.push(name.to_string());
    }
}

/// The registry that holds `dn`: its ancestor (or itself) directly below `ou=registries`.
pub(crate) fn registry_of(dir: &Directory, dn: &Dn) -> Option<Dn> {
    let registries = dir.registries()?;
    if dn.depth() <= registries.depth() || !dn.is_descendant_or_self(&registries) {
        return None;
    }
    let mut cur = dn.clone();
    while cur.depth() > registries.depth() + 1 {
        cur = cur.parent();
    }
    Some(cur)
}

/// Refuse a new account of a registry admin's when the registry already has as many accounts
/// as `accounts.max_per_registry` allows (the entry `dn` itself not counted).
fn within_limit<V: View>(
    dir: &Directory,
    view: &V,
    registry: &Dn,
    dn: &Dn,
) -> Result<(), LdapError> {
    let max = u64::from(dir.config.accounts.max_per_registry);
    if max == 0 {
        return Err(LdapError::new(
            LdapResultCode::AdminLimitExceeded,
            "registry admins may not create accounts (accounts.max_per_registry = 0); ask a directory admin",
        ));
    }
    let own = dn.store_key();
    let mut n: u64 = 0;
    view.scan_prefix::<StoreError>(&registry.store_key(), None, &mut |key, id| {
        if key != own.as_slice() && view.entry(id)?.is_some_and(|e| is_account(&e)) {
            n += 1;
        }
        Ok(n < max)
    })?;
    if n >= max {
        return Err(LdapError::new(
            LdapResultCode::AdminLimitExceeded,
            format!(
                "{} already has {max} accounts, the most its admins may create (accounts.max_per_registry = {max}); ask a directory admin",
                registry.display()
            ),
        ));
    }
    Ok(())
}

/// Password Modify (RFC 3062) sets a password without the accounts stage (origin Server): for
/// an entry without one, it would make an account that is neither counted nor pending. Only
/// directory admins (`manage`) may do that; others create accounts by add or modify.
pub(crate) fn password_modify_allowed(manage: bool, e: &Entry) -> Result<(), LdapError> {
    if manage || is_account(e) {
        return Ok(());
    }
    Err(LdapError::insufficient_access(
        "the entry has no password: add userPassword with a modify to make it an account (pending a directory admin's approval)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: &[&str], password: bool) -> Entry {
        let mut e = Entry::new("uid=x");
        e.set("objectClass", vec![b"inetOrgPerson".to_vec()]);
        if !status.is_empty() {
            e.set(
                STATUS,
                status.iter().map(|s| s.as_bytes().to_vec()).collect(),
            );
        }
        if password {
            e.set("userPassword", vec![b"{ARGON2}x".to_vec()]);
        }
        e
    }

    #[test]
    fn status_and_bind() {
        assert_eq!(
            status(&entry(&[], true)),
            Status::Approved,
            "absent: approved"
        );
        assert_eq!(status(&entry(&["Approved"], true)), Status::Approved);
        assert_eq!(status(&entry(&["pending"], true)), Status::Pending);
        assert_eq!(status(&entry(&["SUSPENDED"], true)), Status::Suspended);
        assert_eq!(status(&entry(&["maybe"], true)), Status::Suspended);
        assert_eq!(
            status(&entry(&["approved", "pending"], true)),
            Status::Suspended,
            "contradictory values never let anyone bind"
        );
        assert_eq!(bind_refusal(&entry(&[], true)), None);
        assert!(bind_refusal(&entry(&["pending"], true))
            .is_some_and(|m| m.contains("pending approval")));
        assert!(bind_refusal(&entry(&["suspended"], true)).is_some());
    }

    #[test]
    fn values_are_checked() {
        assert!(check_values(&entry(&["pending"], false)).is_ok());
        let e = check_values(&entry(&["yes"], false)).unwrap_err();
        assert_eq!(e.code, LdapResultCode::ConstraintViolation);
        assert_eq!(status_given(&entry(&[], true)), None);
        assert_eq!(
            status_given(&entry(&["pending"], true)),
            Some(Status::Pending)
        );
    }

    #[test]
    fn password_modify_makes_no_account_for_a_registry_admin() {
        assert!(password_modify_allowed(false, &entry(&[], true)).is_ok());
        assert!(password_modify_allowed(true, &entry(&[], false)).is_ok());
        let e = password_modify_allowed(false, &entry(&[], false)).unwrap_err();
        assert_eq!(e.code, LdapResultCode::InsufficentAccessRights);
    }
}
