//! Signing and encrypting with Debian's `gpg` as a subprocess: `--batch` in the configured
//! GnuPG home, the signing key by `--local-user`, a passphrase only through
//! `--passphrase-file` (never on the command line), the recipient's key from a file
//! (`--recipient-file`: it is not imported into the home).

use crate::service::config::RosterMail;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The configured signer.
#[derive(Debug, Clone)]
pub struct Gpg {
    home: PathBuf,
    key: String,
    passphrase_file: Option<PathBuf>,
    /// The signing key's primary fingerprint (upper-case hex), found by [`Gpg::open`].
    pub fingerprint: String,
}

impl Gpg {
    /// The signer of `c`, checked: gpg runs, the key is in the home, once, may sign, and a test
    /// signature works (so a missing passphrase fails now, not at the first mail).
    pub fn open(c: &RosterMail) -> Result<Gpg, String> {
        let home = c
            .gpg_home
            .clone()
            .ok_or("roster_mail.gpg_home is not set")?;
        if !home.is_dir() {
            return Err(format!(
                "roster_mail.gpg_home {}: not a directory",
                home.display()
            ));
        }
        let mut g = Gpg {
            home,
            key: c.signing_key.trim().to_string(),
            passphrase_file: c.passphrase_file.clone(),
            fingerprint: String::new(),
        };
        if let Some(f) = &g.passphrase_file {
            std::fs::metadata(f)
                .map_err(|e| format!("roster_mail.passphrase_file {}: {e}", f.display()))?;
        }
        let list = g
            .run(&["--with-colons", "--list-secret-keys", "--", &g.key], b"")
            .map_err(|e| {
                format!(
                    "roster_mail.signing_key {}: no such secret key in {} ({e})",
                    g.key,
                    g.home.display()
                )
            })?;
        let list = String::from_utf8_lossy(&list);
        g.fingerprint = signing_fingerprint(&list).map_err(|e| {
            format!(
                "roster_mail.signing_key {} in {}: {e}",
                g.key,
                g.home.display()
            )
        })?;
        g.sign(b"ccdir signing check\r\n").map_err(|e| {
            format!(
                "roster_mail.signing_key {}: cannot sign with it ({e}); a key with a passphrase \
                 needs roster_mail.passphrase_file",
                g.key
            )
        })?;
        Ok(g)
    }

    fn command(&self) -> Command {
        let mut c = Command::new("gpg");
        c.arg("--batch")
            .arg("--no-tty")
            .arg("--homedir")
            .arg(&self.home)
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Run gpg with `args`, `input` on its standard input; its standard output, or its error
    /// output as the error.
    fn run(&self, args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
        let mut cmd = self.command();
        cmd.args(args);
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "gpg is not installed (Debian package gnupg)".to_string()
            } else {
                format!("cannot run gpg: {e}")
            }
        })?;
        let mut stdin = child.stdin.take();
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        // Input, output and errors at the same time: gpg may write before it has read all.
        let (out, err, wrote) = std::thread::scope(|s| {
            let w = s.spawn(move || match stdin.as_mut() {
                Some(i) => i.write_all(input),
                None => Ok(()),
            });
            let e = s.spawn(move || {
                let mut b = Vec::new();
                if let Some(r) = stderr.as_mut() {
                    let _ = r.read_to_end(&mut b);
                }
                b
            });
            let mut out = Vec::new();
            if let Some(r) = stdout.as_mut() {
                let _ = r.read_to_end(&mut out);
            }
            let wrote = w.join().unwrap_or(Ok(()));
            (out, e.join().unwrap_or_default(), wrote)
        });
        let status = child.wait().map_err(|e| format!("gpg: {e}"))?;
        if !status.success() {
            let err = String::from_utf8_lossy(&err);
            let err = err.trim();
            return Err(if err.is_empty() {
                format!("gpg failed ({status})")
            } else {
                format!("gpg failed: {}", err.replace('\n', "; "))
            });
        }
        wrote.map_err(|e| format!("gpg did not read its input: {e}"))?;
        Ok(out)
    }

    /// The options that unlock the key, when it has a passphrase.
    fn unlock(&self) -> Vec<String> {
        match &self.passphrase_file {
            Some(f) => vec![
                "--pinentry-mode".into(),
                "loopback".into(),
                "--passphrase-file".into(),
                f.display().to_string(),
            ],
            None => Vec::new(),
        }
    }

    /// An ASCII-armoured detached signature (SHA-256) of `data`, as is (binary mode: the MIME
    /// entity is already in canonical CRLF form).
    pub fn sign(&self, data: &[u8]) -> Result<String, String> {
        let mut args: Vec<String> = self.unlock();
        for a in [
            "--local-user",
            &self.key,
            "--digest-algo",
            "SHA256",
            "--armor",
            "--detach-sign",
        ] {
            args.push(a.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(&args, data)?;
        String::from_utf8(out).map_err(|_| "gpg wrote a signature that is not text".into())
    }

    /// `data` encrypted (ASCII-armoured) to the one key in `key_block` (armoured), which is the
    /// key the directory names for the recipient and has checked (tools/listkeys.rs); not
    /// imported into the home. Trust model always: the fingerprint check is the trust.
    pub fn encrypt(&self, data: &[u8], key_block: &str) -> Result<String, String> {
        let file = KeyFile::new(key_block)?;
        let path = file.0.display().to_string();
        let out = self.run(
            &[
                "--trust-model",
                "always",
                "--armor",
                "--recipient-file",
                &path,
                "--encrypt",
            ],
            data,
        )?;
        String::from_utf8(out).map_err(|_| "gpg wrote an encrypted message that is not text".into())
    }
}

/// The primary fingerprint of the one secret key in `gpg --with-colons --list-secret-keys`
/// output that may sign.
fn signing_fingerprint(colons: &str) -> Result<String, String> {
    let mut keys: Vec<(String, String)> = Vec::new(); // capabilities, fingerprint
    let mut want_fpr = false;
    for l in colons.lines() {
        let f: Vec<&str> = l.split(':').collect();
        match f.first().copied() {
            Some("sec") => {
                keys.push((f.get(11).copied().unwrap_or("").to_string(), String::new()));
                want_fpr = true;
            }
            Some("fpr") if want_fpr => {
                if let Some(k) = keys.last_mut() {
                    k.1 = f.get(9).copied().unwrap_or("").to_string();
                }
                want_fpr = false;
            }
            Some(_) => want_fpr = false,
            None => {}
        }
    }
    match keys.as_slice() {
        [] => Err("no such secret key".into()),
        [(caps, fpr)] if caps.contains('S') && !fpr.is_empty() => Ok(fpr.clone()),
        [_] => Err("the key may not sign (expired, revoked or without signing capability)".into()),
        _ => Err(format!(
            "names {} secret keys; give the fingerprint of one",
            keys.len()
        )),
    }
}

/// A recipient's key in a file of its own for `--recipient-file` (public data: only a fresh
/// name, created new, so nothing else is overwritten); removed on drop.
struct KeyFile(PathBuf);

impl KeyFile {
    fn new(block: &str) -> Result<KeyFile, String> {
        let p = std::env::temp_dir().join(format!("ccdir-recipient-{}.asc", uuid::Uuid::new_v4()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        let k = KeyFile(p);
        f.write_all(block.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", k.0.display()))?;
        Ok(k)
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_is_the_one_that_may_sign() {
        let one = "sec:u:255:22:A1B2C3D4E5F60718:1700000000:1800000000::u:::scSC:::+:::23::0:\n\
                   fpr:::::::::0123456789ABCDEF0123456789ABCDEFA1B2C3D4:\n\
                   grp:::::::::ABCDEF:\n\
                   uid:u::::1700000000::X::Roster <roster@example.org>::::::::::0:\n\
                   ssb:u:255:18:1111111111111111:1700000000::::::e:::+:::23:\n\
                   fpr:::::::::FFFF111111111111111111111111111111111111:\n";
        assert_eq!(
            signing_fingerprint(one).unwrap(),
            "0123456789ABCDEF0123456789ABCDEFA1B2C3D4"
        );
        assert_eq!(signing_fingerprint("").unwrap_err(), "no such secret key");
        let expired = one.replace("scSC", "sc");
        assert!(signing_fingerprint(&expired)
            .unwrap_err()
            .starts_with("the key may not sign"));
        let two = format!("{one}{one}");
        assert!(signing_fingerprint(&two)
            .unwrap_err()
            .starts_with("names 2"));
    }

    #[test]
    fn a_missing_home_is_named() {
        let c = RosterMail {
            gpg_home: Some("/nonexistent/gnupg".into()),
            signing_key: "ABCD".into(),
            ..RosterMail::default()
        };
        assert_eq!(
            Gpg::open(&c).unwrap_err(),
            "roster_mail.gpg_home /nonexistent/gnupg: not a directory"
        );
    }
}
