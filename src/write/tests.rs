//! The write pipeline, origin by origin, on a real store in a temporary directory.

use super::*;
use crate::acl::Identity;
use crate::core::clock::ManualClock;
use crate::core::entry::Entry;
use crate::service::config::Config;
use crate::service::Directory;
use crate::store::View;
use ldap3_proto::proto::LdapResultCode;
use std::sync::Arc;

struct T {
    dir: Directory,
    _tmp: tempfile::TempDir,
}

fn open() -> T {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Config {
        data_dir: tmp.path().to_path_buf(),
        load_sample: false,
        openpgp_keyserver: false,
        ..Config::default()
    };
    c.store.cache_mib = 8;
    let clock = Arc::new(ManualClock::new(
        time::macros::datetime!(2026-12-04 12:00 UTC),
    ));
    let dir = crate::app::server::open_directory(&c, clock).unwrap();
    crate::app::bootstrap::ensure_base(&dir).unwrap();
    T { dir, _tmp: tmp }
}

fn admin(t: &T) -> Identity {
    Identity::User(t.dir.policy.admin.clone())
}

fn attrs(v: &[(&str, &[&str])]) -> Attrs {
    v.iter()
        .map(|(n, vs)| {
            (
                n.to_string(),
                vs.iter().map(|s| s.as_bytes().to_vec()).collect(),
            )
        })
        .collect()
}

fn dn(t: &T, rdn: &str) -> crate::core::dn::Dn {
    t.dir
        .parse_dn(&format!("{rdn},ou=registries,{}", t.dir.suffix.display()))
        .unwrap()
}

fn get(t: &T, d: &crate::core::dn::Dn) -> Option<Entry> {
    t.dir.store.read().unwrap().lookup(d).unwrap().map(|x| x.1)
}

fn add(t: &T, who: &Identity, origin: Origin, d: &str, a: Attrs) -> Result<(), u32> {
    let w = Write {
        change: Change::Add {
            dn: dn(t, d),
            attrs: a,
        },
        actor: who,
        origin,
    };
    apply(&t.dir, w, &mut Plain).map_err(|e| e.code as u32)
}

const UUID: &str = "8b8f2f0e-0000-4000-8000-000000000000";

fn role(extra: &[(&str, &[&str])]) -> Attrs {
    let mut v = attrs(&[("objectClass", &["organizationalRole"]), ("cn", &["team"])]);
    v.extend(attrs(extra));
    v
}

#[test]
fn a_client_may_not_set_operational_attributes_an_import_keeps_or_drops_them() {
    let t = open();
    let a = admin(&t);
    let with_uuid = || role(&[("entryUUID", &[UUID])]);
    assert_eq!(
        add(&t, &a, Origin::Client, "cn=team", with_uuid()),
        Err(LdapResultCode::ConstraintViolation as u32)
    );
    let keep = Origin::Import {
        keep_operational: true,
    };
    add(&t, &a, keep, "cn=team", with_uuid()).unwrap();
    let e = get(&t, &dn(&t, "cn=team")).unwrap();
    assert_eq!(e.first_str("entryUUID"), Some(UUID));
    let drop = Origin::Import {
        keep_operational: false,
    };
    let mut other = with_uuid();
    other[1] = ("cn".into(), vec![b"other".to_vec()]);
    add(&t, &a, drop, "cn=other", other).unwrap();
    let e = get(&t, &dn(&t, "cn=other")).unwrap();
    assert_ne!(e.first_str("entryUUID"), Some(UUID), "a new entryUUID");
    assert!(e.first_str("entryCSN").is_some());
}

#[test]
fn access_control_runs_for_clients_only() {
    let t = open();
    // Anonymous may not even see the parent (so: noSuchObject, revealing nothing).
    let anon = Identity::Anonymous;
    assert_eq!(
        add(&t, &anon, Origin::Client, "cn=team", role(&[])),
        Err(LdapResultCode::NoSuchObject as u32)
    );
    assert_eq!(
        add(&t, &anon, Origin::Command, "cn=team", role(&[])),
        Err(LdapResultCode::NoSuchObject as u32)
    );
    // The same change from an import is the operator's.
    add(&t, &anon, Origin::Bootstrap, "cn=team", role(&[])).unwrap();
    assert!(get(&t, &dn(&t, "cn=team")).is_some());
}

#[test]
fn the_rdn_value_is_added_when_missing() {
    let t = open();
    let a = admin(&t);
    let v = attrs(&[("objectClass", &["organizationalRole"])]);
    add(&t, &a, Origin::Client, "cn=lonely", v).unwrap();
    let e = get(&t, &dn(&t, "cn=lonely")).unwrap();
    assert_eq!(e.first_str("cn"), Some("lonely"));
}

fn contact() -> Attrs {
    attrs(&[
        ("objectClass", &["organizationalRole", "cctldContact"]),
        ("cn", &["ir"]),
        ("associatedDomain", &["xa"]),
        ("telephoneNumber", &["+1 202 555 0100"]),
        ("cctldLastVerified", &["20261001120000Z"]),
        ("cctldVerificationMethod", &["voice"]),
        ("cctldVerificationStatus", &["verified"]),
    ])
}

#[test]
fn freshness_applies_to_client_writes_not_to_imports() {
    let t = open();
    let a = admin(&t);
    let import = Origin::Import {
        keep_operational: true,
    };
    add(&t, &a, import, "cn=ir", contact()).unwrap();
    let e = get(&t, &dn(&t, "cn=ir")).unwrap();
    assert_eq!(e.first_str("cctldLastVerified"), Some("20261001120000Z"));
    assert!(
        e.get("cctldVerificationDue").is_none(),
        "imported data as it was exported: no computed due date"
    );
    // A client changing the phone number of a contact: the verification rules apply.
    let w = Write {
        change: Change::Modify {
            dn: dn(&t, "cn=ir"),
            mods: vec![Mod {
                op: ModOp::Replace,
                attr: "telephoneNumber".into(),
                values: vec![b"+1 202 555 0199".to_vec()],
            }],
            permissive: false,
        },
        actor: &a,
        origin: Origin::Client,
    };
    apply(&t.dir, w, &mut Plain).unwrap();
    let e = get(&t, &dn(&t, "cn=ir")).unwrap();
    assert_eq!(e.first_str("cctldVerificationStatus"), Some("pending"));
}

#[test]
fn a_replicated_modify_keeps_the_providers_operational_attributes() {
    let t = open();
    let a = admin(&t);
    add(&t, &a, Origin::Client, "cn=team", role(&[])).unwrap();
    let csn = "20261204120000.000000Z#000000#001#000000";
    let w = Write {
        change: Change::Modify {
            dn: dn(&t, "cn=team"),
            mods: vec![
                Mod {
                    op: ModOp::Replace,
                    attr: "description".into(),
                    values: vec![b"from the provider".to_vec()],
                },
                Mod {
                    op: ModOp::Replace,
                    attr: "entryCSN".into(),
                    values: vec![csn.as_bytes().to_vec()],
                },
            ],
            permissive: false,
        },
        actor: &a,
        origin: Origin::Replication,
    };
    apply(&t.dir, w, &mut Plain).unwrap();
    let e = get(&t, &dn(&t, "cn=team")).unwrap();
    assert_eq!(e.first_str("entryCSN"), Some(csn));
    assert_eq!(e.first_str("description"), Some("from the provider"));
    // The change record carries the provider's CSN, and contextCSN keeps the newest CSN of
    // each server id: this server's own (0) and the provider's (1).
    let snap = t.dir.store.read().unwrap();
    let (_, last) = snap.change_bounds().unwrap().unwrap();
    let rec = &snap.changes(last, 1).unwrap()[0].1;
    assert_eq!(rec.csn, csn);
    let ctx = snap.context_csn().unwrap();
    assert_eq!(ctx.get(1).unwrap().as_str(), csn);
    assert!(ctx.get(0).is_some(), "{ctx:?}");
    assert_eq!(snap.seq_of_csn(ctx.get(1).unwrap()).unwrap(), Some(last));
    // An older CSN of that server id does not move contextCSN back.
    drop(snap);
    let older = "20261204110000.000000Z#000000#001#000000";
    let w = Write {
        change: Change::Modify {
            dn: dn(&t, "cn=team"),
            mods: vec![Mod {
                op: ModOp::Replace,
                attr: "entryCSN".into(),
                values: vec![older.as_bytes().to_vec()],
            }],
            permissive: false,
        },
        actor: &a,
        origin: Origin::Replication,
    };
    apply(&t.dir, w, &mut Plain).unwrap();
    let ctx = t.dir.store.read().unwrap().context_csn().unwrap();
    assert_eq!(ctx.get(1).unwrap().as_str(), csn);
}

#[test]
fn every_change_is_in_the_changelog() {
    let t = open();
    let a = admin(&t);
    let before = t.dir.store.read().unwrap().changes(0, 1000).unwrap().len();
    add(&t, &a, Origin::Client, "cn=team", role(&[])).unwrap();
    let w = Write {
        change: Change::Rename {
            dn: dn(&t, "cn=team"),
            new_rdn: crate::core::dn::Dn::parse_rdn("cn=crew", &t.dir.schema).unwrap(),
            delete_old_rdn: true,
            new_superior: None,
        },
        actor: &a,
        origin: Origin::Client,
    };
    apply(&t.dir, w, &mut Plain).unwrap();
    let w = Write {
        change: Change::Delete {
            dn: dn(&t, "cn=crew"),
        },
        actor: &a,
        origin: Origin::Client,
    };
    apply(&t.dir, w, &mut Plain).unwrap();
    let log = t.dir.store.read().unwrap().changes(0, 1000).unwrap();
    assert_eq!(log.len(), before + 3);
    assert!(get(&t, &dn(&t, "cn=crew")).is_none());
}

/// The accounts stage (write/accounts.rs) as a registry admin (no manage access) sees it,
/// against the store: the limit counts the registry's accounts, a new one is pending.
#[test]
fn accounts_are_counted_per_registry_and_pending() {
    use super::accounts::{on_write, registry_of, STATUS};
    let t = open();
    let a = admin(&t);
    let import = Origin::Import {
        keep_operational: false,
    };
    let reg = attrs(&[
        ("objectClass", &["organization", "cctldRegistry"]),
        ("associatedDomain", &["xa"]),
        ("o", &["xa"]),
    ]);
    add(&t, &a, import, "associatedDomain=xa", reg).unwrap();
    let person = |uid: &str, pw: bool| {
        let mut v = attrs(&[
            ("objectClass", &["inetOrgPerson"]),
            ("uid", &[uid]),
            ("cn", &[uid]),
            ("sn", &[uid]),
        ]);
        if pw {
            v.extend(attrs(&[("userPassword", &["{SSHA}c2VjcmV0c2FsdA=="])]));
        }
        v
    };
    let max = t.dir.config.accounts.max_per_registry;
    for i in 0..max {
        let uid = format!("u{i}");
        add(
            &t,
            &a,
            import,
            &format!("uid={uid},associatedDomain=xa"),
            person(&uid, true),
        )
        .unwrap();
    }
    add(
        &t,
        &a,
        import,
        "uid=nopw,associatedDomain=xa",
        person("nopw", false),
    )
    .unwrap();
    let new_dn = dn(&t, "uid=new,associatedDomain=xa");
    assert_eq!(
        registry_of(&t.dir, &new_dn).map(|d| d.norm().to_string()),
        Some(dn(&t, "associatedDomain=xa").norm().to_string())
    );
    assert!(registry_of(&t.dir, &dn(&t, "associatedDomain=xa")).is_some());
    assert!(registry_of(&t.dir, &t.dir.registries().unwrap()).is_none());
    let run =
        |d: &crate::core::dn::Dn, manage: bool, old: Option<&Entry>, given: &[(&str, &[&str])]| {
            let mut e = Entry::new(d.display());
            for (n, v) in person("new", true).into_iter().chain(attrs(given)) {
                e.set(&n, v);
            }
            let mut names: Vec<String> = e.attrs.iter().map(|x| x.name.clone()).collect();
            let r = t.dir.store.write(|tx| {
                on_write(&t.dir, &*tx, d, manage, old, &mut names, &mut e)?;
                Err::<(), _>(crate::core::error::LdapError::other("roll back"))
            });
            match r {
                Err(x) if x.message == "roll back" => Ok((e, names)),
                Err(x) => Err((x.code as u32, x.message)),
                Ok(()) => unreachable!(),
            }
        };
    // The registry is full: one more is refused, naming the limit.
    let (code, msg) = run(&new_dn, false, None, &[]).unwrap_err();
    assert_eq!(code, LdapResultCode::AdminLimitExceeded as u32);
    assert!(msg.contains("accounts.max_per_registry = 5"), "{msg}");
    // A directory admin is not limited and makes approved accounts (no status).
    let (e, _) = run(&new_dn, true, None, &[]).unwrap();
    assert!(e.get(STATUS).is_none());
    // A password for the entry without one is a new account too; a new password for an
    // existing account is not.
    let nopw_dn = dn(&t, "uid=nopw,associatedDomain=xa");
    let nopw = get(&t, &nopw_dn).unwrap();
    assert_eq!(
        run(&nopw_dn, false, Some(&nopw), &[]).unwrap_err().0,
        LdapResultCode::AdminLimitExceeded as u32
    );
    let u0_dn = dn(&t, "uid=u0,associatedDomain=xa");
    let u0 = get(&t, &u0_dn).unwrap();
    let (e, _) = run(&u0_dn, false, Some(&u0), &[]).unwrap();
    assert!(e.get(STATUS).is_none(), "a password reset keeps the status");
    // Below the limit (u0 is itself, not counted): pending, with the class that allows it.
    let (e, names) = run(&u0_dn, false, None, &[]).unwrap();
    assert_eq!(e.first_str(STATUS), Some("pending"));
    assert!(e.has_object_class("cctldAccount"));
    assert!(names.iter().any(|n| n == STATUS) && names.iter().any(|n| n == "objectClass"));
    // A registry admin may say suspended or pending, never approved, and no other word.
    let (e, _) = run(&u0_dn, false, None, &[(STATUS, &["suspended"])]).unwrap();
    assert_eq!(e.first_str(STATUS), Some("suspended"));
    assert_eq!(
        run(&u0_dn, false, None, &[(STATUS, &["approved"])])
            .unwrap_err()
            .0,
        LdapResultCode::InsufficentAccessRights as u32
    );
    assert_eq!(
        run(&u0_dn, true, None, &[(STATUS, &["ok"])]).unwrap_err().0,
        LdapResultCode::ConstraintViolation as u32
    );
    // Outside a registry only directory admins make accounts.
    let outside = t
        .dir
        .parse_dn(&format!("cn=x,{}", t.dir.suffix.display()))
        .unwrap();
    assert_eq!(
        run(&outside, false, None, &[]).unwrap_err().0,
        LdapResultCode::InsufficentAccessRights as u32
    );
}
