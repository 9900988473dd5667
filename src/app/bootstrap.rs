//! First start: the naming-context entry, the administrator entry with a generated password
//! (written to a 0600 file in the data dir), the top-level containers, and the OpenPGP keyserver
//! entries GnuPG's dirmngr looks for (`cn=PGPServerInfo` and the key subtree).

use crate::core::dit::{GROUPS_RDN, PGP_KEYS_RDN, PGP_SERVER_INFO_RDN, REGISTRIES_RDN};
use crate::core::entry::Entry;
use crate::service::Directory;
use crate::write::bulk::{AddError, BulkLoader};
use crate::write::Origin;
use std::path::PathBuf;

pub(crate) const ADMIN_PASSWORD_FILE: &str = "admin-password";

fn vals(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Create the base entries if the store is empty. Returns the admin password file's path.
pub fn ensure_base(dir: &Directory) -> Result<PathBuf, String> {
    let pwfile = dir.config.data_dir.join(ADMIN_PASSWORD_FILE);
    if !dir.store.is_empty().map_err(|e| e.to_string())? {
        return Ok(pwfile);
    }
    create_base(dir, &pwfile)?;
    if dir.config.load_sample {
        let n = crate::tools::import::import_bytes(dir, "ldif/sample.ldif", SAMPLE)?;
        tracing::info!(
            entries = n,
            "loaded the sample directory (fictional contacts)"
        );
    }
    Ok(pwfile)
}

/// `cn=PGPServerInfo` and the key subtree below the suffix. `pgpSoftware: GnuPG` with
/// `pgpVersion: 2` tells dirmngr that the version 2 attributes exist (gpgFingerprint,
/// gpgSubFingerprint, gpgMailbox), so it searches by fingerprint and by mailbox and writes them.
/// No `cnfpr` in pgpVersion: key entries are named `pgpCertID=<long key id>` as every dirmngr
/// version writes them (the CN=<fingerprint> naming needs GnuPG >= 2.2.28 / 2.4 on the client and a
/// `cn` that pgpKeyInfo does not allow).
fn keyserver_entries(dir: &Directory) -> Result<Vec<Entry>, String> {
    let suffix = dir.suffix.display();
    let parse = |s: &str| crate::core::dn::Dn::parse(s, &dir.schema).map_err(|e| e.message);
    let keys = parse(&format!("{PGP_KEYS_RDN},{suffix}"))?;
    let info = parse(&format!("{PGP_SERVER_INFO_RDN},{suffix}"))?;
    let mut i = Entry::new(info.display());
    i.set("objectClass", vals(&["top", "pgpServerInfo"]));
    i.set("cn", vals(&["PGPServerInfo"]));
    i.set(
        "pgpBaseKeySpaceDN",
        vec![keys.display().as_bytes().to_vec()],
    );
    i.set("pgpSoftware", vals(&["GnuPG"]));
    i.set("pgpVersion", vals(&["2"]));
    let mut k = Entry::new(keys.display());
    k.set("objectClass", vals(&["top", "organizationalUnit"]));
    k.set("ou", vals(&["GnuPG Keys"]));
    k.set(
        "description",
        vals(&["OpenPGP public keys (GnuPG LDAP keyserver schema)"]),
    );
    Ok(vec![i, k])
}

/// The sample directory, built in (tools/sample/gen_sample.py makes it).
pub const SAMPLE: &[u8] = include_bytes!("../../ldif/sample.ldif");

fn create_base(dir: &Directory, pwfile: &std::path::Path) -> Result<(), String> {
    let password = dir.hasher.generate();
    let suffix = &dir.suffix;
    let admin = &dir.policy.admin;
    let mut base = Entry::new(suffix.display());
    let rdn = suffix.rdn().ok_or("empty suffix")?;
    let first = &rdn.avas()[0];
    match first.attr.to_ascii_lowercase().as_str() {
        "dc" => {
            base.set("objectClass", vals(&["top", "dcObject", "organization"]));
            base.set("o", vec![b"ccTLD incident-response directory".to_vec()]);
        }
        "o" => base.set("objectClass", vals(&["top", "organization"])),
        "ou" => base.set("objectClass", vals(&["top", "organizationalUnit"])),
        "c" => base.set("objectClass", vals(&["top", "country"])),
        _ => base.set("objectClass", vals(&["top", "extensibleObject"])),
    }
    for ava in rdn.avas() {
        base.set(&ava.attr, vec![ava.value.clone()]);
    }

    let mut entries: Vec<Entry> = vec![base];
    if admin.is_descendant_or_self(suffix) && admin.norm() != suffix.norm() {
        let mut a = Entry::new(admin.display());
        a.set(
            "objectClass",
            vals(&["top", "organizationalRole", "simpleSecurityObject"]),
        );
        let arn = admin.rdn().ok_or("empty admin DN")?;
        for ava in arn.avas() {
            a.set(&ava.attr, vec![ava.value.clone()]);
        }
        a.set("description", vec![b"Directory administrator".to_vec()]);
        // Cleartext: the pipeline hashes it.
        a.set("userPassword", vec![password.clone().into_bytes()]);
        entries.push(a);
    }
    for rdn in [REGISTRIES_RDN, GROUPS_RDN] {
        let mut e = Entry::new(format!("{rdn},{}", suffix.display()));
        e.set("objectClass", vals(&["top", "organizationalUnit"]));
        entries.push(e);
    }
    if dir.config.openpgp_keyserver {
        entries.extend(keyserver_entries(dir)?);
    }
    // One transaction: a first start that stops half-way leaves an empty store.
    let mut loader = BulkLoader::new(dir).origin(Origin::Bootstrap);
    for e in entries {
        let attrs = e.attrs.into_iter().map(|a| (a.name, a.values)).collect();
        loader.add(&e.dn, attrs).map_err(|err| match err {
            AddError::Entry(err) => format!("{}: {}", e.dn, err.message),
            AddError::Store(err) => err.to_string(),
        })?;
    }
    let (_, rejected) = loader.finish().map_err(|e| e.to_string())?;
    if let Some(r) = rejected.first() {
        return Err(format!("{}: {}", r.dn, r.error.message));
    }
    // No trailing newline: `ldapsearch -y FILE` uses the whole file as the password.
    crate::app::tls::write_file(pwfile, password.as_bytes(), true)?;
    tracing::info!(
        admin_dn = %admin.display(),
        password_file = %pwfile.display(),
        "created the directory; the admin password is in the file (bind with -D \"{}\" -y {})",
        admin.display(),
        pwfile.display()
    );
    Ok(())
}
