//! Change records: one per successful write, in the same transaction as the write. The base for
//! audit, `cn=changelog` over LDAP (ops/changelog.rs), incremental export and (later) RFC 4533
//! replication.
//!
//! Format 2 (this one) adds the entry's UUID, the rename's deleteOldRDN flag and the values
//! the change wrote; records of format 1 (before) read back with none of those.

use super::encode::{put_bytes, put_uvar, DecodeError, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Add = 1,
    Delete = 2,
    Modify = 3,
    ModDn = 4,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Generalized time of the change.
    pub time: String,
    pub csn: String,
    /// Bound DN of the requester ("" for internal changes).
    pub who: String,
    pub kind: ChangeKind,
    pub dn: String,
    /// For ModDn: the new DN.
    pub new_dn: Option<String>,
    /// Names of the attributes changed.
    pub attrs: Vec<String>,
    /// The entryUUID of the changed entry ("" when not known: format 1, bulk loads).
    pub uuid: String,
    /// For ModDn: whether the old RDN's values were removed.
    pub delete_old_rdn: bool,
    /// What the change wrote: for an Add, the entry's user attributes; for a Modify, each
    /// changed attribute with the values it holds afterwards (none: removed), so the record
    /// reads as an LDIF `replace`. Never a password value (see [`ChangeRecord::with_values`]).
    pub values: Vec<(String, Vec<Vec<u8>>)>,
}

/// Attributes whose values a change record never holds: hashes stay in the entry only.
pub(crate) const SECRET: &[&str] = &["userPassword", "authPassword"];

fn is_secret(name: &str) -> bool {
    let base = name.split(';').next().unwrap_or("");
    SECRET.iter().any(|s| s.eq_ignore_ascii_case(base))
}

impl ChangeRecord {
    /// The record with the values of `attrs` (name, values) it is given, leaving out the
    /// secret ones.
    pub(crate) fn with_values<'a>(
        mut self,
        attrs: impl IntoIterator<Item = (&'a str, Vec<Vec<u8>>)>,
    ) -> ChangeRecord {
        self.values = attrs
            .into_iter()
            .filter(|(n, _)| !is_secret(n))
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        self
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![2u8, self.kind as u8];
        put_bytes(&mut out, self.time.as_bytes());
        put_bytes(&mut out, self.csn.as_bytes());
        put_bytes(&mut out, self.who.as_bytes());
        put_bytes(&mut out, self.dn.as_bytes());
        put_bytes(&mut out, self.new_dn.as_deref().unwrap_or("").as_bytes());
        put_uvar(&mut out, self.attrs.len() as u64);
        for a in &self.attrs {
            put_bytes(&mut out, a.as_bytes());
        }
        put_bytes(&mut out, self.uuid.as_bytes());
        out.push(u8::from(self.delete_old_rdn));
        put_uvar(&mut out, self.values.len() as u64);
        for (name, vals) in &self.values {
            put_bytes(&mut out, name.as_bytes());
            put_uvar(&mut out, vals.len() as u64);
            for v in vals {
                put_bytes(&mut out, v);
            }
        }
        out
    }

    pub(crate) fn decode(b: &[u8]) -> Result<ChangeRecord, DecodeError> {
        let mut r = Reader::new(b);
        let format = r.u8()?;
        if format != 1 && format != 2 {
            return Err(DecodeError("unknown change record format"));
        }
        let kind = match r.u8()? {
            1 => ChangeKind::Add,
            2 => ChangeKind::Delete,
            3 => ChangeKind::Modify,
            4 => ChangeKind::ModDn,
            _ => return Err(DecodeError("unknown change kind")),
        };
        let time = r.string()?;
        let csn = r.string()?;
        let who = r.string()?;
        let dn = r.string()?;
        let new_dn = Some(r.string()?).filter(|s| !s.is_empty());
        let n = r.count()?;
        let mut attrs = Vec::with_capacity(n);
        for _ in 0..n {
            attrs.push(r.string()?);
        }
        let (mut uuid, mut delete_old_rdn, mut values) = (String::new(), false, Vec::new());
        if format == 2 {
            uuid = r.string()?;
            delete_old_rdn = r.u8()? != 0;
            let n = r.count()?;
            values.reserve(n);
            for _ in 0..n {
                let name = r.string()?;
                let k = r.count()?;
                let mut vals = Vec::with_capacity(k);
                for _ in 0..k {
                    vals.push(r.bytes()?.to_vec());
                }
                values.push((name, vals));
            }
        }
        Ok(ChangeRecord {
            time,
            csn,
            who,
            kind,
            dn,
            new_dn,
            attrs,
            uuid,
            delete_old_rdn,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = ChangeRecord {
            time: "20261123120000Z".into(),
            csn: "20261123120000.000000Z#000001#000#000000".into(),
            who: "cn=admin".into(),
            kind: ChangeKind::ModDn,
            dn: "cn=a".into(),
            new_dn: Some("cn=b".into()),
            attrs: vec!["cn".into()],
            uuid: "5f1c8a52-1b7e-4c2e-9a57-3d5c3f1e2a10".into(),
            delete_old_rdn: true,
            values: Vec::new(),
        };
        assert_eq!(ChangeRecord::decode(&c.encode()).unwrap(), c);
        assert!(ChangeRecord::decode(&[1, 9]).is_err());
        assert!(ChangeRecord::decode(&[3, 1]).is_err());
        let m = ChangeRecord {
            kind: ChangeKind::Modify,
            new_dn: None,
            delete_old_rdn: false,
            ..c
        }
        .with_values([
            ("telephoneNumber", vec![b"+41 44 000 00 00".to_vec()]),
            ("userPassword", vec![b"{ARGON2}x".to_vec()]),
            ("description", vec![]),
        ]);
        assert_eq!(m.values.len(), 2, "no password values: {:?}", m.values);
        assert_eq!(ChangeRecord::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn format_1_reads_back_without_values() {
        let mut b = vec![1u8, 3];
        for s in ["20261123120000Z", "csn", "cn=admin", "cn=a", ""] {
            put_bytes(&mut b, s.as_bytes());
        }
        put_uvar(&mut b, 1);
        put_bytes(&mut b, b"mail");
        let c = ChangeRecord::decode(&b).unwrap();
        assert_eq!(c.kind, ChangeKind::Modify);
        assert_eq!(c.attrs, vec!["mail".to_string()]);
        assert!(c.values.is_empty() && c.uuid.is_empty());
    }
}
