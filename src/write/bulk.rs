//! Bulk loading: many entries in large transactions, each entry checked as an LDAP add would be.
//! Used to create benchmark data and (with the LDIF reader) by offline import. Parents must come
//! before their children. Intermediate batches commit without fsync; the last one commits
//! durably, so the load is durable when `finish` returns (redb persists the non-durable commits
//! with the next durable one).

use crate::acl::Identity;
use crate::core::dn::Dn;
use crate::core::entry::{AttrDesc, Entry};
use crate::core::error::LdapError;
use crate::service::Directory;
use crate::store::changelog::ChangeKind;
use crate::store::tables::ROOT_ID;
use crate::store::View;
use crate::write::values::{check_entry, prepare_values, record, stamp, stamp_create, MAINTAINED};
use ldap3_proto::proto::LdapResultCode;
use redb::Durability;

/// Attribute descriptions with their values, as read from LDIF or generated.
pub type Attrs = Vec<(String, Vec<Vec<u8>>)>;

/// Entries per transaction.
pub const DEFAULT_BATCH: usize = 5000;

/// Where a queued entry came from, for error reports.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// An entry the loader did not add, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub origin: Origin,
    pub dn: String,
    pub error: LdapError,
}

/// A checked entry ready to be written, with its index keys when already computed
/// ([`crate::store::index::encode_keys`]).
pub struct Prepared {
    pub dn: Dn,
    pub entry: Entry,
    pub origin: Origin,
    pub keys: Option<Vec<u8>>,
}

pub struct BulkLoader<'a> {
    dir: &'a Directory,
    batch: Vec<Prepared>,
    /// Entries whose parent was not there yet; retried after each batch.
    pending: Vec<Prepared>,
    batch_size: usize,
    /// Keep operational attributes present in the input (entryUUID, timestamps, ...).
    keep_operational: bool,
    pub loaded: u64,
    pub rejected: Vec<Rejected>,
}

/// OpenLDAP-internal operational attributes that slapcat writes and ccdir does not keep.
const SKIPPED_FOREIGN: &[&str] = &["contextCSN"];

impl<'a> BulkLoader<'a> {
    pub fn new(dir: &'a Directory) -> Self {
        BulkLoader {
            dir,
            batch: Vec::new(),
            pending: Vec::new(),
            batch_size: DEFAULT_BATCH,
            keep_operational: false,
            loaded: 0,
            rejected: Vec::new(),
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

    /// Check an entry as an LDAP add would (without access control) and build what is stored.
    pub fn prepare(&self, dn_text: &str, attrs: Attrs) -> Result<(Dn, Entry), LdapError> {
        prepare_entry(self.dir, self.keep_operational, dn_text, attrs)
    }

    /// Queue an entry checked by [`prepare_entry`] (on any thread); writes a batch when full.
    pub fn add_prepared(&mut self, p: Prepared) -> Result<(), LdapError> {
        self.batch.push(p);
        if self.batch.len() >= self.batch_size {
            self.flush(Durability::None)?;
        }
        Ok(())
    }
}

/// Check an entry as an LDAP add would (without access control) and build what is stored.
/// Needs only the directory's schema and configuration, so it may run on another thread than
/// the loader's writes.
pub fn prepare_entry(
    dir: &Directory,
    keep_operational: bool,
    dn_text: &str,
    attrs: Attrs,
) -> Result<(Dn, Entry), LdapError> {
    let dn = dir.parse_dn(dn_text)?;
    let mut entry = Entry::new(dn.display());
    for (name, values) in attrs {
        let base = name.split(';').next().unwrap_or("");
        if SKIPPED_FOREIGN.iter().any(|f| f.eq_ignore_ascii_case(base)) {
            continue;
        }
        let desc = AttrDesc::parse(&name, &dir.schema)?;
        let operational = desc.ty.no_user_modification;
        if operational && !keep_operational {
            continue;
        }
        if values.is_empty() {
            return Err(LdapError::protocol(format!("{name}: no values")));
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
        .filter(|n| **n != "structuralObjectClass")
        .filter_map(|n| entry.get(n).map(|a| (n.to_string(), a.values.clone())))
        .collect();
    stamp_create(&mut entry, &st);
    for (n, v) in kept {
        entry.set(&n, v);
    }
    Ok((dn, canonical_order(entry)))
}

impl BulkLoader<'_> {
    /// Check and queue an entry; writes a batch when full. Errors in the entry are returned (and
    /// not recorded); errors found when writing (existing DN) are recorded in `rejected`.
    pub fn add(&mut self, dn_text: &str, attrs: Attrs) -> Result<(), LdapError> {
        self.add_from(dn_text, attrs, Origin::default())
    }

    pub fn add_from(
        &mut self,
        dn_text: &str,
        attrs: Attrs,
        origin: Origin,
    ) -> Result<(), LdapError> {
        let (dn, entry) = self.prepare(dn_text, attrs)?;
        self.add_prepared(Prepared {
            dn,
            entry,
            origin,
            keys: None,
        })
    }

    /// Write the batch. Entries whose parent is missing wait in `pending`; entries whose DN
    /// exists are rejected. Only store failures are errors.
    fn flush(&mut self, durability: Durability) -> Result<(), LdapError> {
        let mut batch = std::mem::take(&mut self.batch);
        // Entries waiting for a parent go first: the parent may have been written since.
        let mut queue = std::mem::take(&mut self.pending);
        queue.append(&mut batch);
        let dir = self.dir;
        let mut waiting = Vec::new();
        let mut rejected = Vec::new();
        let mut added_n = 0u64;
        dir.store.write_with(durability, |w| {
            let mut added: Vec<(u64, &Entry, Option<&[u8]>)> = Vec::with_capacity(queue.len());
            // Several rounds, so that a child queued before its parent in the same batch waits
            // only until the parent is in.
            let mut todo: Vec<usize> = (0..queue.len()).collect();
            loop {
                let mut next = Vec::new();
                let before = todo.len();
                for i in todo {
                    let Prepared {
                        dn,
                        entry: e,
                        origin,
                        keys,
                    } = &queue[i];
                    let parent = if dn.norm() == dir.suffix.norm() {
                        Some(ROOT_ID)
                    } else if !dn.is_descendant_or_self(&dir.suffix) {
                        rejected.push(Rejected {
                            origin: origin.clone(),
                            dn: dn.display().to_string(),
                            error: LdapError::unwilling(format!(
                                "{} is not within the naming context {}",
                                dn.display(),
                                dir.suffix.display()
                            )),
                        });
                        continue;
                    } else {
                        w.id_of(&dn.parent())?
                    };
                    let Some(parent) = parent else {
                        next.push(i);
                        continue;
                    };
                    if w.id_of(dn)?.is_some() {
                        rejected.push(Rejected {
                            origin: origin.clone(),
                            dn: dn.display().to_string(),
                            error: LdapError::new(
                                LdapResultCode::EntryAlreadyExists,
                                format!("entry {} already exists", dn.display()),
                            ),
                        });
                        continue;
                    }
                    added.push((w.insert_unindexed(parent, dn, e)?, e, keys.as_deref()));
                    added_n += 1;
                    let st = crate::write::values::Stamp {
                        time: e
                            .first_str("modifyTimestamp")
                            .unwrap_or_default()
                            .to_string(),
                        csn: e.first_str("entryCSN").unwrap_or_default().to_string(),
                        who: e.first_str("creatorsName").unwrap_or_default().to_string(),
                    };
                    w.log(&record(&st, ChangeKind::Add, dn.display(), None, vec![]))?;
                }
                if next.is_empty() || next.len() == before {
                    waiting = next;
                    break;
                }
                todo = next;
            }
            w.index_batch(&added)
        })?;
        self.loaded += added_n;
        self.rejected.append(&mut rejected);
        // Keep the entries still waiting for a parent, in their order.
        let mut keep = vec![false; queue.len()];
        for i in waiting {
            keep[i] = true;
        }
        self.pending = queue
            .into_iter()
            .zip(keep)
            .filter_map(|(p, k)| k.then_some(p))
            .collect();
        Ok(())
    }

    /// Write what is queued and make everything durable. Entries still without a parent are
    /// rejected as orphans.
    pub fn finish(mut self) -> Result<(u64, Vec<Rejected>), LdapError> {
        self.flush(Durability::Immediate)?;
        for Prepared { dn, origin, .. } in std::mem::take(&mut self.pending) {
            let parent = dn.parent();
            self.rejected.push(Rejected {
                origin,
                dn: dn.display().to_string(),
                error: LdapError::no_such_object(format!(
                    "parent entry {} is neither in the directory nor in the input (orphan)",
                    parent.display()
                )),
            });
        }
        Ok((self.loaded, self.rejected))
    }
}

/// User attributes in their order, then the operational attributes in a fixed order: the form
/// export writes, so that export -> import -> export gives the same bytes.
pub fn canonical_order(mut e: Entry) -> Entry {
    let mut ops = Vec::new();
    for name in MAINTAINED {
        if let Some(pos) = e
            .attrs
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(name))
        {
            ops.push(e.attrs.remove(pos));
        }
    }
    e.attrs.extend(ops);
    e
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

/// A scale set of ccTLD-style data for TLD number `i` (fictional labels `xn--scale-<i>`-like
/// strings are avoided: labels are `s<i>`, in base 36): a registry under `ou=registries`, its
/// 24/7 team and one person, with time zones, languages and verification dates that vary
/// deterministically (some overdue).
pub fn registry_set(i: u64, suffix: &str) -> Vec<(String, Attrs)> {
    const ZONES: &[(&str, &str, &str)] = &[
        ("Europe/Berlin", "de", "CENTR"),
        ("America/Sao_Paulo", "pt", "LACTLD"),
        ("Asia/Tokyo", "ja", "APTLD"),
        ("Africa/Nairobi", "sw", "AFTLD"),
        ("Europe/Paris", "fr", "CENTR"),
        ("Asia/Kolkata", "hi", "APTLD"),
        ("America/Mexico_City", "es", "LACTLD"),
        ("Africa/Lagos", "en", "AFTLD"),
    ];
    let mut label = String::new();
    let mut n = i;
    loop {
        let d = (n % 36) as u32;
        label.insert(0, char::from_digit(d, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    let tld = format!("s{label}");
    let (zone, lang, region) = ZONES[(i % ZONES.len() as u64) as usize];
    let v = |s: &str| vec![s.as_bytes().to_vec()];
    let reg = format!("associatedDomain={tld},ou=registries,{suffix}");
    let team = format!("cn=incident-response,{reg}");
    let person = format!("uid=p{i},{reg}");
    // Last verified between 2026-05-01 and 2026-11-20; due three months later.
    let day = i * 37 % 200;
    let (m, d) = (5 + day / 30, 1 + day % 28);
    let last = format!("2026{m:02}{d:02}120000Z");
    let due = if m + 3 > 12 {
        format!("2027{:02}{d:02}120000Z", m + 3 - 12)
    } else {
        format!("2026{:02}{d:02}120000Z", m + 3)
    };
    let phone = format!("+1 202 555 {:04}", 100 + i % 100);
    let verification = |out: &mut Attrs| {
        out.push(("cctldTimeZone".into(), v(zone)));
        let mut langs = vec![lang.as_bytes().to_vec()];
        if lang != "en" {
            langs.push(b"en".to_vec());
        }
        out.push(("cctldLanguage".into(), langs));
        out.push(("cctldLastVerified".into(), v(&last)));
        out.push(("cctldVerificationDue".into(), v(&due)));
        out.push((
            "cctldVerificationMethod".into(),
            v(["voice", "email", "fax", "chat", "letter"][(i % 5) as usize]),
        ));
        out.push(("cctldVerificationStatus".into(), v("verified")));
    };
    let mut t: Attrs = vec![
        (
            "objectClass".into(),
            vec![b"organizationalRole".to_vec(), b"cctldContact".to_vec()],
        ),
        ("cn".into(), v("incident-response")),
        ("associatedDomain".into(), v(&tld)),
        ("mail".into(), v(&format!("security@nic-{tld}.example"))),
        ("telephoneNumber".into(), v(&phone)),
        (
            "cctldAvailable247".into(),
            v(if i % 3 == 0 { "FALSE" } else { "TRUE" }),
        ),
        ("cctldBusinessHours".into(), v("Mo-Fr 08:00-17:00")),
        (
            "cctldContactRole".into(),
            vec![b"security".to_vec(), b"emergency".to_vec()],
        ),
        ("roleOccupant".into(), v(&person)),
    ];
    verification(&mut t);
    let mut p: Attrs = vec![
        (
            "objectClass".into(),
            vec![b"inetOrgPerson".to_vec(), b"cctldContact".to_vec()],
        ),
        ("uid".into(), v(&format!("p{i}"))),
        ("cn".into(), v(&format!("Contact {i} of .{tld}"))),
        ("sn".into(), v(&format!("Contact {i}"))),
        ("associatedDomain".into(), v(&tld)),
        ("mail".into(), v(&format!("contact{i}@nic-{tld}.example"))),
        ("telephoneNumber".into(), v(&phone)),
        ("cctldContactRole".into(), v("technical")),
        ("cctldContactPriority".into(), v("1")),
    ];
    verification(&mut p);
    vec![
        (
            reg.clone(),
            vec![
                (
                    "objectClass".into(),
                    vec![b"organization".to_vec(), b"cctldRegistry".to_vec()],
                ),
                ("associatedDomain".into(), v(&tld)),
                ("o".into(), v(&format!("Registry of .{tld} (example)"))),
                ("cctldRegionalOrganization".into(), v(region)),
                ("cctldContactPoint".into(), v(&team)),
            ],
        ),
        (team, t),
        (person, p),
    ]
}
