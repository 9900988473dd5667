//! `ccdir verify`: record a verification offline, through the same modify operation (and so the
//! same access rules and freshness rules) as an LDAP client's modify.

use crate::acl::Identity;
use crate::ops::{modify, Session};
use crate::service::Directory;
use crate::store::View;
use ldap3_proto::proto::{LdapModify, LdapModifyRequest, LdapModifyType, LdapPartialAttribute};

/// Replace the given attributes of `dn` as the identity `by` (the admin DN for operators).
pub fn record(
    dir: &Directory,
    by: &str,
    dn: &str,
    changes: &[(&str, String)],
) -> Result<(), String> {
    let who = dir
        .parse_dn(by)
        .map_err(|e| format!("--by {by}: {}", e.message))?;
    let mut s = Session::new(0, std::net::SocketAddr::from(([127, 0, 0, 1], 0)), true);
    s.identity = Identity::User(who);
    let req = LdapModifyRequest {
        dn: dn.to_string(),
        changes: changes
            .iter()
            .map(|(a, v)| LdapModify {
                operation: LdapModifyType::Replace,
                modification: LdapPartialAttribute {
                    atype: a.to_string(),
                    vals: vec![v.as_bytes().to_vec()],
                },
            })
            .collect(),
    };
    modify::modify(dir, &s, req, &Default::default())
        .map(|_| ())
        .map_err(|e| e.message)
}

/// The verification attributes of an entry, one `name: value` per line.
pub fn show(dir: &Directory, dn: &str) -> Result<String, String> {
    let d = dir.parse_dn(dn).map_err(|e| e.message)?;
    let snap = dir.store.read().map_err(|e| e.message)?;
    let (_, e) = snap
        .lookup(&d)
        .map_err(|e| e.message)?
        .ok_or_else(|| format!("no such entry: {dn}"))?;
    let mut out = format!("dn: {}", e.dn);
    for a in [
        crate::freshness::LAST_VERIFIED,
        crate::freshness::METHOD,
        crate::freshness::STATUS,
        crate::freshness::VERIFIED_BY,
        crate::freshness::DUE,
        crate::freshness::NEXT_METHOD,
    ] {
        for v in crate::tools::offline::all(&e, a) {
            out.push_str(&format!("\n{a}: {v}"));
        }
    }
    Ok(out)
}
