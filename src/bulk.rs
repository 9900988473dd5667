//! Bulk loading: many entries in large transactions, each entry checked as an LDAP add would be.
//! Used to create benchmark data and (with the LDIF reader) by offline import. Parents must come
//! before their children. Intermediate batches commit without fsync; the last one commits
//! durably, so the load is durable when `finish` returns (redb persists the non-durable commits
//! with the next durable one).

use crate::acl::Identity;
use crate::dn::Dn;
use crate::entry::{AttrDesc, Entry};
use crate::error::LdapError;
use crate::ops::write::{check_entry, prepare_values, record, stamp, stamp_create, MAINTAINED};
use crate::ops::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::tables::ROOT_ID;
use crate::store::View;
use ldap3_proto::proto::LdapResultCode;
use redb::Durability;

/// Attribute descriptions with their values, as read from LDIF or generated.
pub type Attrs = Vec<(String, Vec<Vec<u8>>)>;

/// Entries per transaction.
pub const DEFAULT_BATCH: usize = 5000;

pub struct BulkLoader<'a> {
    dir: &'a Directory,
    batch: Vec<(Dn, Entry)>,
    batch_size: usize,
    /// Keep operational attributes present in the input (entryUUID, timestamps, ...).
    keep_operational: bool,
    pub loaded: u64,
}

impl<'a> BulkLoader<'a> {
    pub fn new(dir: &'a Directory) -> Self {
        BulkLoader {
            dir,
            batch: Vec::new(),
            batch_size: DEFAULT_BATCH,
            keep_operational: false,
            loaded: 0,
        }
    }

    pub fn keep_operational(mut self, keep: bool) -> Self {
        self.keep_operational = keep;
        self
    }

    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Check an entry and queue it; writes a batch when full.
    pub fn add(&mut self, dn_text: &str, attrs: Attrs) -> Result<(), LdapError> {
        let dir = self.dir;
        let dn = dir.parse_dn(dn_text)?;
        let mut entry = Entry::new(dn.display());
        for (name, values) in attrs {
            let desc = AttrDesc::parse(&name, &dir.schema)?;
            let operational = desc.ty.no_user_modification;
            if operational && !self.keep_operational {
                continue;
            }
            let canonical = desc.to_attribute_name();
            let values = if operational {
                values
            } else {
                let mut values = values;
                if let Some(existing) = entry.get_mut(&canonical) {
                    let mut all = std::mem::take(&mut existing.values);
                    all.append(&mut values);
                    values = all;
                }
                prepare_values(dir, &desc, values)?
            };
            entry.set(&canonical, values);
        }
        let sc = check_entry(dir, &dn, &entry, LdapResultCode::NamingViolation)?;
        entry.set("structuralObjectClass", vec![sc.into_bytes()]);
        let st = stamp(dir, &Identity::User(dir.policy.admin.clone()));
        let kept: Vec<(String, Vec<Vec<u8>>)> = MAINTAINED
            .iter()
            .filter_map(|n| entry.get(n).map(|a| (n.to_string(), a.values.clone())))
            .collect();
        stamp_create(&mut entry, &st);
        for (n, v) in kept {
            entry.set(&n, v);
        }
        self.batch.push((dn, entry));
        if self.batch.len() >= self.batch_size {
            self.flush(Durability::None)?;
        }
        Ok(())
    }

    fn flush(&mut self, durability: Durability) -> Result<(), LdapError> {
        let batch = std::mem::take(&mut self.batch);
        let n = batch.len() as u64;
        let dir = self.dir;
        dir.store.write_with(durability, |w| {
            let mut added: Vec<(u64, &Entry)> = Vec::with_capacity(batch.len());
            for (dn, e) in &batch {
                let parent = if dn.norm() == dir.suffix.norm() {
                    ROOT_ID
                } else {
                    match w.id_of(&dn.parent())? {
                        Some(p) => p,
                        None => {
                            return Err(LdapError::no_such_object(format!(
                                "{}: parent entry does not exist (parents must come first)",
                                dn.display()
                            )))
                        }
                    }
                };
                if w.id_of(dn)?.is_some() {
                    return Err(LdapError::new(
                        LdapResultCode::EntryAlreadyExists,
                        format!("entry {} already exists", dn.display()),
                    ));
                }
                added.push((w.insert_unindexed(parent, dn, e)?, e));
                let st = crate::ops::write::Stamp {
                    time: e
                        .first_str("modifyTimestamp")
                        .unwrap_or_default()
                        .to_string(),
                    csn: e.first_str("entryCSN").unwrap_or_default().to_string(),
                    who: e.first_str("creatorsName").unwrap_or_default().to_string(),
                };
                w.log(&record(&st, ChangeKind::Add, dn.display(), None, vec![]))?;
            }
            w.index_batch(&added)
        })?;
        self.loaded += n;
        Ok(())
    }

    /// Write what is queued and make everything durable.
    pub fn finish(mut self) -> Result<u64, LdapError> {
        self.flush(Durability::Immediate)?;
        Ok(self.loaded)
    }
}

/// Generate the benchmark's inetOrgPerson set: `uid=user<i>,ou=people,<suffix>` with
/// cn "First<i> Last<i>", sn, givenName, mail, telephoneNumber, and for the first `with_password`
/// users the password `pw<i>` (argon2id with the configured cost).
pub fn people(i: u64, suffix: &str, hash: Option<&str>) -> (String, Attrs) {
    const GIVEN: &[&str] = &[
        "Ana", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hana", "Ivan", "Jun",
    ];
    const FAMILY: &[&str] = &[
        "Silva", "Okafor", "Tanaka", "Novak", "Haddad", "Berg", "Moreau", "Kowalski", "Reyes",
        "Ito",
    ];
    let g = GIVEN[(i % 10) as usize];
    let f = FAMILY[((i / 10) % 10) as usize];
    let dn = format!("uid=user{i},ou=people,{suffix}");
    let v = |s: String| vec![s.into_bytes()];
    let mut attrs = vec![
        (
            "objectClass".to_string(),
            vec![
                b"top".to_vec(),
                b"person".to_vec(),
                b"organizationalPerson".to_vec(),
                b"inetOrgPerson".to_vec(),
            ],
        ),
        ("uid".into(), v(format!("user{i}"))),
        ("cn".into(), v(format!("{g} {f} {i}"))),
        ("sn".into(), v(format!("{f} {i}"))),
        ("givenName".into(), v(g.to_string())),
        ("mail".into(), v(format!("user{i}@nic-bench.example"))),
        (
            "telephoneNumber".into(),
            v(format!("+1 202 555 {:04}", i % 10000)),
        ),
    ];
    if let Some(h) = hash {
        attrs.push(("userPassword".into(), v(h.to_string())));
    }
    (dn, attrs)
}
