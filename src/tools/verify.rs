//! `ccdir verify`: record a verification offline, through the write pipeline as the identity `--by`
//! (so the same access rules and freshness rules as an LDAP client's modify).

use crate::acl::Identity;
use crate::service::Directory;
use crate::store::View;
use crate::write::{Change, Mod, ModOp, Origin, Plain, Write};

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
    let target = dir
        .parse_dn(dn)
        .map_err(|e| format!("{dn}: {}", e.message))?;
    let actor = Identity::User(who);
    let change = Change::Modify {
        dn: target,
        mods: changes
            .iter()
            .map(|(a, v)| Mod {
                op: ModOp::Replace,
                attr: a.to_string(),
                values: vec![v.as_bytes().to_vec()],
            })
            .collect(),
        permissive: false,
    };
    let w = Write {
        change,
        actor: &actor,
        origin: Origin::Command,
    };
    crate::write::apply(dir, w, &mut Plain).map_err(|e| e.message)
}

/// The DNs of the contact entries (cctldContact) whose `mail` is `address` (compared as the
/// schema compares mail: case-insensitive), in DN order.
pub fn contacts_with_mail(dir: &Directory, address: &str) -> Result<Vec<String>, String> {
    let want = address.trim();
    if want.is_empty() || !want.contains('@') {
        return Err(format!("--mail {address}: not a mail address"));
    }
    let entries = crate::tools::offline::entries(dir, None, None)?;
    Ok(entries
        .iter()
        .filter(|e| crate::freshness::is_contact(e))
        .filter(|e| {
            crate::tools::offline::all(e, "mail")
                .iter()
                .any(|m| m.trim().eq_ignore_ascii_case(want))
        })
        .map(|e| e.dn.clone())
        .collect())
}

/// The verification attributes of an entry, one `name: value` per line.
pub fn show(dir: &Directory, dn: &str) -> Result<String, String> {
    let d = dir.parse_dn(dn).map_err(|e| e.message)?;
    let snap = dir.store.read().map_err(|e| e.to_string())?;
    let (_, e) = snap
        .lookup(&d)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no such entry: {dn}"))?;
    let mut out = format!("dn: {}", e.dn);
    for a in [
        crate::freshness::LAST_VERIFIED,
        crate::freshness::METHOD,
        crate::freshness::STATUS,
        crate::freshness::VERIFIED_BY,
        crate::freshness::DUE,
        crate::freshness::NEXT_METHOD,
        crate::freshness::NOTE,
    ] {
        for v in crate::tools::offline::all(&e, a) {
            out.push_str(&format!("\n{a}: {v}"));
        }
    }
    Ok(out)
}
