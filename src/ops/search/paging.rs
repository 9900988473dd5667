//! Simple paged results (RFC 2696): the page size a client may ask for and the cookie that
//! says where the next page starts, bound to the request it was made for.

use super::super::controls::RequestControls;
use crate::core::error::LdapError;
use ldap3_proto::proto::LdapSearchRequest;
use std::hash::{Hash, Hasher};

/// Largest page a client may ask for in one paged-results request.
pub(super) const MAX_PAGE: i64 = 100_000;

/// Where a paged search resumes: after an id (index or one-level order) or a DN key (scope scan).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Position {
    Id(u64),
    Key(Vec<u8>),
    /// Index into the sorted result.
    Offset(u64),
}

/// What a paged-results cookie is bound to: the request and its sort order.
pub(super) fn request_hash(req: &LdapSearchRequest, ctrls: &RequestControls) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    req.base.to_ascii_lowercase().hash(&mut h);
    (req.scope.clone() as i64).hash(&mut h);
    format!("{:?}", req.filter).hash(&mut h);
    ctrls.sort.as_ref().map(|s| &s.keys).hash(&mut h);
    h.finish()
}

pub(super) fn encode_cookie(hash: u64, pos: &Position) -> Vec<u8> {
    let mut c = vec![1u8];
    c.extend_from_slice(&hash.to_be_bytes());
    match pos {
        Position::Id(id) => {
            c.push(0);
            c.extend_from_slice(&id.to_be_bytes());
        }
        Position::Key(k) => {
            c.push(1);
            c.extend_from_slice(k);
        }
        Position::Offset(n) => {
            c.push(2);
            c.extend_from_slice(&n.to_be_bytes());
        }
    }
    c
}

pub(super) fn decode_cookie(hash: u64, c: &[u8]) -> Result<Position, LdapError> {
    let bad = || LdapError::unwilling("invalid paged results cookie (not from this search)");
    if c.len() < 10 || c[0] != 1 || c[1..9] != hash.to_be_bytes() {
        return Err(bad());
    }
    let number = || {
        let mut a = [0u8; 8];
        a.copy_from_slice(&c[10..18]);
        u64::from_be_bytes(a)
    };
    match c[9] {
        0 if c.len() == 18 => Ok(Position::Id(number())),
        2 if c.len() == 18 => Ok(Position::Offset(number())),
        1 => Ok(Position::Key(c[10..].to_vec())),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies() {
        let c = encode_cookie(42, &Position::Id(7));
        assert_eq!(decode_cookie(42, &c).unwrap(), Position::Id(7));
        assert!(decode_cookie(43, &c).is_err());
        let k = encode_cookie(1, &Position::Key(b"dc=x\0".to_vec()));
        assert_eq!(
            decode_cookie(1, &k).unwrap(),
            Position::Key(b"dc=x\0".to_vec())
        );
        assert!(decode_cookie(1, &[1, 2, 3]).is_err());
    }
}
