//! One-time links (docs/portal.md, "One-time links"): single-use tokens for the e-mail
//! challenge and the registry invitation. A token is 256 random bits (base64url, 43
//! characters); only its SHA-256 is stored, with what the link is for, the entry it acts on,
//! who made it, when it was made, when it expires and when it was used.
//!
//! Bounded: each new link first purges the ones that are over (used, or expired and not an
//! unanswered challenge, which the challenge task closes after recording the failure), and at
//! most [`MAX_LINKS`] are held. Like the reminder state, the table is this data directory's
//! own: no changelog record, never replicated (a consumer promoted after a failover holds none
//! of the provider's links; they have to be issued again).

use super::error::db;
use super::tables::ONETIME;
use super::{Store, StoreError};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most links held at once: a new one beyond that is refused.
pub(crate) const MAX_LINKS: usize = 50_000;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Purpose {
    /// Proves that a contact reads its mail: recorded as a verification by e-mail.
    EmailChallenge,
    /// Lets a new registry admin set a first password.
    Invitation,
}

/// One link, as stored (the token itself is not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Link {
    pub(crate) purpose: Purpose,
    /// The DN of the entry the link acts on.
    pub(crate) target: String,
    /// That entry's entryUUID when the link was made: a link outlives no rename or re-creation.
    pub(crate) uuid: String,
    /// Who made it: the inviting directory admin; empty for the server's own challenges.
    pub(crate) issuer: String,
    /// The address the link was mailed to (a challenge), or empty.
    pub(crate) mail: String,
    /// Unix seconds.
    pub(crate) created: i64,
    pub(crate) expires: i64,
    pub(crate) used: Option<i64>,
}

impl Link {
    pub(crate) fn expired(&self, now: i64) -> bool {
        now >= self.expires
    }

    /// Over and of no more use: used, or expired and not a challenge waiting for its failure to
    /// be recorded.
    fn purgeable(&self, now: i64) -> bool {
        match self.used {
            Some(_) => self.expired(now),
            None => self.expired(now) && self.purpose != Purpose::EmailChallenge,
        }
    }
}

/// What using a link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Use {
    /// Unused and in time: now marked used.
    Taken(Link),
    /// Used before.
    Used,
    /// Past its expiry (not marked).
    Expired(Link),
    /// No such link (or one for another purpose).
    Unknown,
}

/// A new token and the key it is stored under; None without random bytes.
pub(crate) fn new_token() -> Option<(String, [u8; 32])> {
    use base64::Engine;
    use rand::TryRngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut b).ok()?;
    let t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let k = key_of(&t)?;
    Some((t, k))
}

/// The stored key of a token as a URL gives it; None when it cannot be one (not 43 base64url
/// characters): not looked up.
pub(crate) fn key_of(token: &str) -> Option<[u8; 32]> {
    let ok = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| Sha256::digest(token.as_bytes()).into())
}

fn decode(v: &[u8]) -> Result<Link, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        what: "a one-time link",
        id: 0,
        detail: e.to_string(),
    })
}

fn encode(l: &Link) -> Vec<u8> {
    // A struct of strings and numbers always serialises.
    serde_json::to_vec(l).unwrap_or_default()
}

impl Store {
    /// Store a new link under `key`, after purging the ones that are over; false (nothing
    /// stored) when [`MAX_LINKS`] are held. Durable on return.
    pub(crate) fn onetime_add(
        &self,
        key: &[u8; 32],
        link: &Link,
        now: i64,
    ) -> Result<bool, StoreError> {
        const WHAT: &str = "writing a one-time link";
        self.write(|w| {
            let mut t = w.txn.open_table(ONETIME).map_err(db(WHAT))?;
            let mut over = Vec::new();
            let mut held = 0usize;
            for row in t.iter().map_err(db(WHAT))? {
                let (k, v) = row.map_err(db(WHAT))?;
                match decode(v.value()) {
                    Ok(l) if !l.purgeable(now) => held += 1,
                    _ => over.push(k.value().to_vec()),
                }
            }
            for k in over {
                t.remove(k.as_slice()).map_err(db(WHAT))?;
            }
            if held >= MAX_LINKS {
                return Ok(false);
            }
            t.insert(key.as_slice(), encode(link).as_slice())
                .map_err(db(WHAT))?;
            Ok(true)
        })
    }

    /// The link stored under `key`, if any.
    pub(crate) fn onetime_get(&self, key: &[u8; 32]) -> Result<Option<Link>, StoreError> {
        const WHAT: &str = "reading a one-time link";
        let txn = self.db.begin_read().map_err(db(WHAT))?;
        let t = txn.open_table(ONETIME).map_err(db(WHAT))?;
        match t.get(key.as_slice()).map_err(db(WHAT))? {
            Some(v) => decode(v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Use the link under `key` for `purpose`: marked used (durably) only when it is unused and
    /// in time, in one transaction, so two uses at once cannot both take it.
    pub(crate) fn onetime_use(
        &self,
        key: &[u8; 32],
        purpose: Purpose,
        now: i64,
    ) -> Result<Use, StoreError> {
        const WHAT: &str = "using a one-time link";
        self.write(|w| {
            let mut t = w.txn.open_table(ONETIME).map_err(db(WHAT))?;
            let found = match t.get(key.as_slice()).map_err(db(WHAT))? {
                Some(v) => decode(v.value())?,
                None => return Ok(Use::Unknown),
            };
            if found.purpose != purpose {
                return Ok(Use::Unknown);
            }
            if found.used.is_some() {
                return Ok(Use::Used);
            }
            if found.expired(now) {
                return Ok(Use::Expired(found));
            }
            let used = Link {
                used: Some(now),
                ..found.clone()
            };
            t.insert(key.as_slice(), encode(&used).as_slice())
                .map_err(db(WHAT))?;
            Ok(Use::Taken(found))
        })
    }

    /// Mark the link under `key` unused again (what it was to do failed); durable on return.
    pub(crate) fn onetime_release(&self, key: &[u8; 32]) -> Result<(), StoreError> {
        self.onetime_set_used(key, None)
    }

    /// Close the link under `key` (an expired challenge whose failure is recorded).
    pub(crate) fn onetime_close(&self, key: &[u8; 32], now: i64) -> Result<(), StoreError> {
        self.onetime_set_used(key, Some(now))
    }

    fn onetime_set_used(&self, key: &[u8; 32], used: Option<i64>) -> Result<(), StoreError> {
        const WHAT: &str = "writing a one-time link";
        self.write(|w| {
            let mut t = w.txn.open_table(ONETIME).map_err(db(WHAT))?;
            let found = match t.get(key.as_slice()).map_err(db(WHAT))? {
                Some(v) => decode(v.value())?,
                None => return Ok(()),
            };
            let l = Link { used, ..found };
            t.insert(key.as_slice(), encode(&l).as_slice())
                .map_err(db(WHAT))?;
            Ok(())
        })
    }

    /// Every link held (at most [`MAX_LINKS`] and the ones over since the last new one), with
    /// its key.
    pub(crate) fn onetime_all(&self) -> Result<Vec<([u8; 32], Link)>, StoreError> {
        const WHAT: &str = "reading the one-time links";
        let txn = self.db.begin_read().map_err(db(WHAT))?;
        let t = txn.open_table(ONETIME).map_err(db(WHAT))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db(WHAT))? {
            let (k, v) = row.map_err(db(WHAT))?;
            let Ok(key) = <[u8; 32]>::try_from(k.value()) else {
                continue;
            };
            out.push((key, decode(v.value())?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::schema::Schema;
    use crate::store::index::IndexSpec;
    use std::sync::Arc;

    fn store(path: &std::path::Path) -> Store {
        Store::open(
            path,
            Arc::new(Schema::builtin().unwrap()),
            IndexSpec::new(std::iter::empty(), std::iter::empty()),
            8 << 20,
        )
        .unwrap()
    }

    fn link(purpose: Purpose, expires: i64) -> Link {
        Link {
            purpose,
            target: "uid=a,dc=x".into(),
            uuid: "u".into(),
            issuer: String::new(),
            mail: String::new(),
            created: 0,
            expires,
            used: None,
        }
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_a_key() {
        let (t1, k1) = new_token().unwrap();
        let (t2, k2) = new_token().unwrap();
        assert_eq!(t1.len(), 43);
        assert_ne!(t1, t2);
        assert_ne!(k1, k2);
        assert_eq!(key_of(&t1), Some(k1));
        assert_ne!(&k1[..], t1.as_bytes().get(..32).unwrap());
        assert_eq!(key_of("short"), None);
        assert_eq!(key_of(&format!("{}/", &t1[..42])), None);
    }

    #[test]
    fn single_use_expiry_and_purpose() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(&tmp.path().join("s.redb"));
        let (_, k) = new_token().unwrap();
        assert!(s
            .onetime_add(&k, &link(Purpose::Invitation, 100), 0)
            .unwrap());
        assert_eq!(
            s.onetime_use(&k, Purpose::EmailChallenge, 10).unwrap(),
            Use::Unknown
        );
        assert!(matches!(
            s.onetime_use(&k, Purpose::Invitation, 10).unwrap(),
            Use::Taken(_)
        ));
        assert_eq!(
            s.onetime_use(&k, Purpose::Invitation, 11).unwrap(),
            Use::Used
        );
        s.onetime_release(&k).unwrap();
        assert!(matches!(
            s.onetime_use(&k, Purpose::Invitation, 12).unwrap(),
            Use::Taken(_)
        ));
        let (_, k2) = new_token().unwrap();
        s.onetime_add(&k2, &link(Purpose::Invitation, 100), 0)
            .unwrap();
        assert!(matches!(
            s.onetime_use(&k2, Purpose::Invitation, 100).unwrap(),
            Use::Expired(_)
        ));
        assert_eq!(
            s.onetime_use(&[0; 32], Purpose::Invitation, 0).unwrap(),
            Use::Unknown
        );
    }

    #[test]
    fn links_that_are_over_are_purged_but_open_challenges_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(&tmp.path().join("s.redb"));
        let keys: Vec<[u8; 32]> = (0..4).map(|_| new_token().unwrap().1).collect();
        s.onetime_add(&keys[0], &link(Purpose::Invitation, 10), 0)
            .unwrap();
        s.onetime_add(&keys[1], &link(Purpose::EmailChallenge, 10), 0)
            .unwrap();
        s.onetime_add(&keys[2], &link(Purpose::EmailChallenge, 10), 0)
            .unwrap();
        s.onetime_close(&keys[2], 5).unwrap();
        s.onetime_add(&keys[3], &link(Purpose::Invitation, 100), 20)
            .unwrap();
        let mut left: Vec<[u8; 32]> = s.onetime_all().unwrap().into_iter().map(|r| r.0).collect();
        left.sort();
        let mut want = vec![keys[1], keys[3]];
        want.sort();
        assert_eq!(left, want);
    }
}
