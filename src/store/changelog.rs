//! Change records: one per successful write, in the same transaction as the write. The base for
//! audit, incremental export and (later) RFC 4533 replication.

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
}

impl ChangeRecord {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![1u8, self.kind as u8];
        put_bytes(&mut out, self.time.as_bytes());
        put_bytes(&mut out, self.csn.as_bytes());
        put_bytes(&mut out, self.who.as_bytes());
        put_bytes(&mut out, self.dn.as_bytes());
        put_bytes(&mut out, self.new_dn.as_deref().unwrap_or("").as_bytes());
        put_uvar(&mut out, self.attrs.len() as u64);
        for a in &self.attrs {
            put_bytes(&mut out, a.as_bytes());
        }
        out
    }

    pub(crate) fn decode(b: &[u8]) -> Result<ChangeRecord, DecodeError> {
        let mut r = Reader::new(b);
        if r.u8()? != 1 {
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
        Ok(ChangeRecord {
            time,
            csn,
            who,
            kind,
            dn,
            new_dn,
            attrs,
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
        };
        assert_eq!(ChangeRecord::decode(&c.encode()).unwrap(), c);
        assert!(ChangeRecord::decode(&[1, 9]).is_err());
    }
}
