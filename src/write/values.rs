//! What the write pipeline's stages share: value preparation (syntax, duplicates, password
//! hashing), entry-level checks, operational attributes and change records.

use crate::acl::Identity;
use crate::core::clock::generalized_time;
use crate::core::dn::Dn;
use crate::core::entry::{AttrDesc, Entry};
use crate::core::error::LdapError;
use crate::core::filter::SchemaDn;
use crate::core::schema::AttributeType;
use crate::service::password;
use crate::service::Directory;
use crate::store::changelog::{ChangeKind, ChangeRecord};
use ldap3_proto::proto::LdapResultCode;

/// Operational attributes ccdir maintains itself, in the order they are added.
pub(crate) const MAINTAINED: &[&str] = &[
    "structuralObjectClass",
    "entryUUID",
    "creatorsName",
    "createTimestamp",
    "entryCSN",
    "modifiersName",
    "modifyTimestamp",
];

/// Refuse writes of attributes clients may not change.
pub(crate) fn check_user_modifiable(ty: &AttributeType) -> Result<(), LdapError> {
    if ty.no_user_modification {
        return Err(LdapError::constraint(format!(
            "{}: no user modification allowed",
            ty.name()
        )));
    }
    Ok(())
}

/// The normalised form used to compare values of `ty` (equality rule, else the bytes).
pub(crate) fn norm_value(dir: &Directory, ty: &AttributeType, v: &[u8]) -> Option<Vec<u8>> {
    match ty.equality {
        Some(_) => dir.schema.normalize_value(ty, v, &SchemaDn(&dir.schema)),
        None => Some(v.to_vec()),
    }
}

/// Check and prepare the values a client supplies for one attribute: each must be valid for the
/// type, none may repeat, and cleartext passwords are hashed (with `hash_passwords`).
pub(crate) fn prepare_values(
    dir: &Directory,
    desc: &AttrDesc,
    values: Vec<Vec<u8>>,
    hash_passwords: bool,
) -> Result<Vec<Vec<u8>>, LdapError> {
    let ty = &desc.ty;
    let mut seen: Vec<Vec<u8>> = Vec::with_capacity(values.len());
    let mut out = Vec::with_capacity(values.len());
    let dn = SchemaDn(&dir.schema);
    for (i, v) in values.into_iter().enumerate() {
        if !ty.syntax.validate_with(&v, &dn) {
            return Err(LdapError::syntax(format!(
                "{}: value #{i} invalid per syntax{}",
                ty.name(),
                ty.syntax.hint()
            )));
        }
        let n = norm_value(dir, ty, &v).ok_or_else(|| {
            LdapError::syntax(format!("{}: value #{i} invalid per syntax", ty.name()))
        })?;
        if ty.equality.is_some() {
            if seen.contains(&n) {
                return Err(LdapError::new(
                    LdapResultCode::AttributeOrValueExists,
                    format!("{}: value #{i} provided more than once", ty.name()),
                ));
            }
            seen.push(n);
        }
        if hash_passwords
            && ty.name().eq_ignore_ascii_case("userPassword")
            && !password::is_hashed(&v)
        {
            if v.is_empty() {
                return Err(LdapError::syntax("userPassword: empty password"));
            }
            let h = dir
                .hasher
                .hash(&v)
                .map_err(|e| LdapError::other(format!("userPassword: {e}")))?;
            out.push(h.into_bytes());
        } else {
            out.push(v);
        }
    }
    Ok(out)
}

/// Checks on a whole entry after a change: an objectClass with one structural chain, every RDN
/// value present, single-valued types with one value. Returns the structural object class.
pub(crate) fn check_entry(
    dir: &Directory,
    dn: &Dn,
    e: &Entry,
    rdn_code: LdapResultCode,
) -> Result<String, LdapError> {
    if e.get("objectClass").is_none_or(|a| a.values.is_empty()) {
        return Err(LdapError::new(
            LdapResultCode::ObjectClassViolation,
            "no objectClass attribute",
        ));
    }
    let structural = crate::core::schema::check::check_entry(&dir.schema, e)?;
    if let Some(rdn) = dn.rdn() {
        for ava in rdn.avas() {
            let Some(ty) = dir.schema.attribute(&ava.attr) else {
                continue;
            };
            let present = e.attrs_of_type(ty.name()).any(|a| {
                a.values
                    .iter()
                    .any(|v| norm_value(dir, ty, v).as_deref() == Some(ava.norm_value.as_slice()))
            });
            if !present {
                let msg = match rdn_code {
                    LdapResultCode::NotALlowedOnRDN => {
                        format!("{}: cannot remove the value of the RDN", ty.name())
                    }
                    _ => format!("naming attribute '{}' is not present in entry", ty.name()),
                };
                return Err(LdapError::new(rdn_code, msg));
            }
        }
    }
    for a in &e.attrs {
        if let Some(ty) = dir.schema.attribute(a.base_name()) {
            if ty.single_value && a.values.len() > 1 {
                return Err(LdapError::constraint(format!(
                    "{}: multiple values provided for a single-valued attribute",
                    a.name
                )));
            }
        }
    }
    Ok(structural)
}

/// Time and CSN for one write.
pub(crate) struct Stamp {
    pub(crate) time: String,
    pub(crate) csn: String,
    pub(crate) who: String,
}

pub(crate) fn stamp(dir: &Directory, who: &Identity) -> Stamp {
    let now = dir.clock.now();
    Stamp {
        time: generalized_time(now),
        csn: dir.csn.next(now),
        who: who.dn_str().to_string(),
    }
}

/// The freshness rules (crate::freshness) on a contact entry after a write: a recorded
/// verification or a change of contact data updates the verification attributes. Returns the
/// names of the attributes it set (for the change record); constraintViolation for a method or
/// status outside the known words, or a verification time in the future.
///
/// `manage`: the writer has manage access to the entry (directory admins), and may set the
/// computed attributes (due date, verifier, next channel) directly.
pub(crate) fn stamp_freshness(
    dir: &Directory,
    st: &Stamp,
    manage: bool,
    may_record: &dyn Fn() -> bool,
    given: &[String],
    added: bool,
    e: &mut Entry,
) -> Result<Vec<&'static str>, LdapError> {
    use crate::freshness as f;
    let trig = f::trigger(given, added, e);
    let rules = f::Rules {
        interval_months: dir.config.freshness.interval_months,
        pending_days: dir.config.freshness.pending_days,
    };
    let now = f::parse_gtime(st.time.as_bytes()).unwrap_or_else(|| dir.clock.now());
    let recorders = dir
        .config
        .freshness
        .recorder_groups(dir.suffix.display())
        .join(", ");
    let writer = f::Writer {
        dn: &st.who,
        manage,
        may_record,
        recorders: &recorders,
    };
    f::on_write(rules, now, &writer, given, trig, e).map_err(|r| match r {
        f::Refusal::Constraint(m) => LdapError::constraint(m),
        f::Refusal::Access(m) => LdapError::insufficient_access(m),
    })?;
    if trig == f::Trigger::None || !f::is_contact(e) {
        return Ok(Vec::new());
    }
    Ok(vec![
        f::LAST_VERIFIED,
        f::STATUS,
        f::DUE,
        f::VERIFIED_BY,
        f::NEXT_METHOD,
    ])
}

/// Operational attributes of a new entry.
pub(crate) fn stamp_create(e: &mut Entry, st: &Stamp) {
    e.set(
        "entryUUID",
        vec![uuid::Uuid::new_v4().to_string().into_bytes()],
    );
    e.set("creatorsName", vec![st.who.clone().into_bytes()]);
    e.set("createTimestamp", vec![st.time.clone().into_bytes()]);
    stamp_modify(e, st);
}

/// Operational attributes after a change.
pub(crate) fn stamp_modify(e: &mut Entry, st: &Stamp) {
    e.set("entryCSN", vec![st.csn.clone().into_bytes()]);
    e.set("modifiersName", vec![st.who.clone().into_bytes()]);
    e.set("modifyTimestamp", vec![st.time.clone().into_bytes()]);
}

pub(crate) fn record(
    st: &Stamp,
    kind: ChangeKind,
    dn: &str,
    new_dn: Option<&str>,
    attrs: Vec<String>,
) -> ChangeRecord {
    ChangeRecord {
        time: st.time.clone(),
        csn: st.csn.clone(),
        who: st.who.clone(),
        kind,
        dn: dn.to_string(),
        new_dn: new_dn.map(str::to_string),
        attrs,
        uuid: String::new(),
        delete_old_rdn: false,
        values: Vec::new(),
    }
}

/// A change record with what the change wrote (read back over LDAP in `cn=changelog`): the
/// entry's UUID and, for an add (`changed` None), every user attribute of the new entry; for a
/// modify, each changed attribute with the values it now holds (none: removed).
pub(crate) fn with_values(
    rec: ChangeRecord,
    e: &Entry,
    changed: Option<&[String]>,
) -> ChangeRecord {
    let uuid = e.first_str("entryUUID").unwrap_or_default().to_string();
    // An add or modify records the entry's CSN: the write's own, or (replication keeps the
    // provider's operational attributes) the provider's, so that contextCSN follows it.
    let csn = match changed {
        Some([]) => None,
        _ => e
            .first_str("entryCSN")
            .filter(|c| crate::core::csn::Csn::parse(c).is_some())
            .map(str::to_string),
    };
    let rec = match csn {
        Some(csn) => ChangeRecord { csn, ..rec },
        None => rec,
    };
    let rec = match changed {
        None => rec.with_values(
            e.attrs
                .iter()
                .filter(|a| {
                    !MAINTAINED
                        .iter()
                        .any(|m| m.eq_ignore_ascii_case(a.base_name()))
                })
                .map(|a| (a.name.as_str(), a.values.clone())),
        ),
        Some(names) => rec.with_values(names.iter().map(|n| {
            (
                n.as_str(),
                e.get(n).map(|a| a.values.clone()).unwrap_or_default(),
            )
        })),
    };
    ChangeRecord { uuid, ..rec }
}

/// Password quality for cleartext `userPassword` values a client sets (hashes are taken as they
/// are): constraintViolation when one is too short or equals a uid or mail value.
pub(crate) fn check_password_values(
    dir: &Directory,
    values: &[Vec<u8>],
    forbidden: &[&[u8]],
) -> Result<(), LdapError> {
    for v in values {
        if !password::is_hashed(v) {
            password::check_quality(v, dir.config.password.min_length, forbidden)
                .map_err(|m| LdapError::constraint(format!("userPassword: {m}")))?;
        }
    }
    Ok(())
}

/// Is this attribute description userPassword (any options)?
pub(crate) fn is_password(name: &str) -> bool {
    name.split(';')
        .next()
        .is_some_and(|b| b.eq_ignore_ascii_case("userPassword"))
}
