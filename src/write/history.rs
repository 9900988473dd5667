//! The verification history: every recorded verification (and every confirmation by a
//! registry) is kept as a `cctldVerificationRecord` entry below `ou=history` of the contact's
//! registry, written in the same transaction as the contact (docs/operations/freshness.md).
//!
//! A record is the server's: nobody adds one, changes one or renames one (unwillingToPerform);
//! only those with manage access on it (directory admins) delete one, for a retention policy.
//! Import and replication carry records over as they are ([`super::change::Stages::history`]).

use super::values::{self, record, stamp_create, Stamp};
use crate::acl::rules::Level;
use crate::acl::Checker;
use crate::core::dn::Dn;
use crate::core::entry::{CheckedEntry, Entry};
use crate::core::error::LdapError;
use crate::freshness::{self as f, Trigger};
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::{View, WriteCtx};
use ldap3_proto::proto::LdapResultCode;

pub(crate) const RECORD_CLASS: &str = "cctldVerificationRecord";
/// The container of a registry's records.
pub(crate) const HISTORY_RDN: &str = "ou=history";
pub(crate) const RECORD_ID: &str = "cctldRecordId";
pub(crate) const CONTACT: &str = "cctldVerifiedContact";
pub(crate) const CONTACT_UUID: &str = "cctldVerifiedContactUUID";

pub(crate) fn is_record(e: &Entry) -> bool {
    e.has_object_class(RECORD_CLASS)
}

/// An add of a record from the input.
pub(crate) fn refuse_add(e: &Entry) -> Result<(), LdapError> {
    if is_record(e) {
        return Err(LdapError::new(
            LdapResultCode::UnwillingToPerform,
            format!(
                "{}: verification records are written by the server when a verifier records a \
                 verification or a registry confirms its data; they cannot be added",
                e.dn
            ),
        ));
    }
    Ok(())
}

/// A modify or rename of a record.
pub(crate) fn refuse_change(e: &Entry) -> Result<(), LdapError> {
    if is_record(e) {
        return Err(LdapError::new(
            LdapResultCode::UnwillingToPerform,
            format!("{}: a verification record cannot be changed", e.dn),
        ));
    }
    Ok(())
}

/// A delete of a record: only with manage access.
pub(crate) fn check_delete(acl: &Checker<'_>, key: &[u8], e: &Entry) -> Result<(), LdapError> {
    if is_record(e) && !acl.allows(key, Some(e), None, Level::Manage) {
        return Err(LdapError::insufficient_access(format!(
            "{}: only a directory admin may delete a verification record",
            e.dn
        )));
    }
    Ok(())
}

/// Where the records of a contact go: `ou=history` of its registry, or of the naming context
/// for a contact outside the registries.
fn container(dir: &Directory, contact: &Dn) -> Result<Dn, LdapError> {
    let parent = super::references::registry_of(dir, contact).unwrap_or_else(|| dir.suffix.clone());
    Ok(parent.child(Dn::parse_rdn(HISTORY_RDN, &dir.schema)?))
}

/// After a contact's write, in its transaction: the record of the verification or confirmation
/// it made (`trig`), with what `given` (the attributes the write named) says of it. Nothing for
/// other writes, for entries that are not contacts, or for a change without an author.
pub(crate) fn write(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    st: &Stamp,
    trig: Trigger,
    given: &[String],
    contact: &Entry,
) -> Result<(), LdapError> {
    let confirmed = match trig {
        Trigger::Verification => false,
        Trigger::Confirmation { .. } => true,
        Trigger::DataChange | Trigger::None => return Ok(()),
    };
    if !f::is_contact(contact) || st.who.is_empty() {
        return Ok(());
    }
    let gave = |n: &str| {
        given.iter().any(|g| {
            g.split(';')
                .next()
                .is_some_and(|b| b.eq_ignore_ascii_case(n))
        })
    };
    let contact_dn = dir.parse_dn(&contact.dn)?;
    let parent_dn = container(dir, &contact_dn)?;
    let parent = match tx.id_of(&parent_dn)? {
        Some(id) => id,
        None => make_container(dir, tx, st, &parent_dn)?,
    };
    let id = st.csn.replace('#', "-");
    let dn = parent_dn.child(Dn::parse_rdn(&format!("{RECORD_ID}={id}"), &dir.schema)?);
    let text = |s: &str| vec![s.as_bytes().to_vec()];
    let mut e = Entry::new(dn.display());
    e.set("objectClass", vec![b"top".to_vec(), RECORD_CLASS.into()]);
    e.set(RECORD_ID, text(&id));
    e.set(CONTACT, text(&contact.dn));
    if let Some(u) = contact.first_str("entryUUID") {
        e.set(CONTACT_UUID, text(u));
    }
    if let Some(a) = contact.get("associatedDomain") {
        e.set("associatedDomain", a.values.clone());
    }
    let status = if confirmed {
        f::CONFIRMED.to_string()
    } else {
        contact
            .first_str(f::STATUS)
            .unwrap_or("verified")
            .trim()
            .to_ascii_lowercase()
    };
    e.set(f::STATUS, text(&status));
    e.set(f::VERIFIED_BY, text(&st.who));
    if !confirmed {
        if let Some(a) = contact.get(f::LAST_VERIFIED) {
            e.set(f::LAST_VERIFIED, a.values.clone());
        }
        if gave(f::METHOD) {
            if let Some(a) = contact.get(f::METHOD) {
                e.set(f::METHOD, a.values.clone());
            }
        }
    }
    if gave(f::NOTE) {
        if let Some(a) = contact.get(f::NOTE) {
            e.set(f::NOTE, a.values.clone());
        }
    }
    if tx.id_of(&dn)?.is_some() {
        return Err(LdapError::new(
            LdapResultCode::Other,
            format!(
                "{}: a verification record of this name exists",
                dn.display()
            ),
        ));
    }
    store_new(dir, tx, st, parent, &dn, e).map(|_| ())
}

fn make_container(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    st: &Stamp,
    dn: &Dn,
) -> Result<u64, LdapError> {
    let Some(parent) = tx.id_of(&dn.parent())? else {
        return Err(LdapError::new(
            LdapResultCode::Other,
            format!("{}: no parent for the verification history", dn.display()),
        ));
    };
    let mut e = Entry::new(dn.display());
    e.set(
        "objectClass",
        vec![b"top".to_vec(), b"organizationalUnit".to_vec()],
    );
    e.set("ou", vec![b"history".to_vec()]);
    e.set(
        "description",
        vec![b"verification records of this registry's contacts, kept unchanged".to_vec()],
    );
    store_new(dir, tx, st, parent, dn, e)
}

/// Schema-check, stamp and store a server-made entry, with its change record.
fn store_new(
    dir: &Directory,
    tx: &mut WriteCtx<'_>,
    st: &Stamp,
    parent: u64,
    dn: &Dn,
    mut e: Entry,
) -> Result<u64, LdapError> {
    let sc = values::check_entry(dir, dn, &e, LdapResultCode::NamingViolation)?;
    let names = e.attrs.iter().map(|a| a.name.clone()).collect();
    e.set("structuralObjectClass", vec![sc.into_bytes()]);
    stamp_create(&mut e, st);
    let e = CheckedEntry::certified(e);
    let id = tx.insert(parent, dn, &e)?;
    let rec = record(st, ChangeKind::Add, dn.display(), None, names);
    tx.log(&values::with_values(rec, &e, None))?;
    Ok(id)
}
