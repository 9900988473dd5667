//! Password hashing: argon2id for everything ccdir stores (`{ARGON2}` + PHC string, the form
//! OpenLDAP's argon2 module reads too), verification in constant shape for unknown users.
//! Passwords and hashes never reach a log line.

use crate::service::config::Password as PasswordConfig;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use rand::Rng;
use std::sync::{mpsc, Arc, Mutex};

pub(crate) const SCHEME: &str = "{ARGON2}";

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that do all password hashing: argon2 is deliberately expensive in CPU
/// and memory, so its concurrency (and the memory its blocks take) is bounded by the number of
/// cores, and a flood of binds queues here instead of taking every blocking thread.
struct Pool {
    tx: Mutex<mpsc::Sender<Job>>,
}

impl Pool {
    fn new(threads: usize) -> Result<Pool, String> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("ccdir-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .map_err(|e| format!("cannot start hashing threads: {e}"))?;
        }
        Ok(Pool { tx: Mutex::new(tx) })
    }

    /// Run `f` on the pool and wait for its result (None if the pool is gone).
    fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
        let (rtx, rrx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = rtx.send(f());
        });
        self.tx.lock().ok()?.send(job).ok()?;
        rrx.recv().ok()
    }
}

pub struct Hasher {
    argon: Arc<Argon2<'static>>,
    pool: Pool,
    /// A hash of a random password, verified when the user does not exist so that unknown DN and
    /// wrong password take the same time.
    dummy: String,
    generated_length: usize,
}

impl Hasher {
    pub fn new(cfg: &PasswordConfig) -> Result<Hasher, String> {
        let params = Params::new(
            cfg.argon2_memory_kib,
            cfg.argon2_iterations,
            cfg.argon2_parallelism,
            None,
        )
        .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        let argon = Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params));
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let mut h = Hasher {
            argon,
            pool: Pool::new(threads)?,
            dummy: String::new(),
            generated_length: cfg.generated_length,
        };
        let random: String = generate(32);
        h.dummy = h.hash(random.as_bytes())?;
        Ok(h)
    }

    /// `{ARGON2}$argon2id$v=19$m=...,t=...,p=...$salt$hash`
    pub fn hash(&self, password: &[u8]) -> Result<String, String> {
        let argon = self.argon.clone();
        let password = password.to_vec();
        self.pool
            .run(move || {
                argon
                    .hash_password(&password)
                    .map(|phc| format!("{SCHEME}{phc}"))
            })
            .ok_or("hashing pool stopped")?
            .map_err(|e| format!("hashing failed: {e}"))
    }

    /// Does `password` match the stored `userPassword` value? Unknown schemes never match.
    pub(crate) fn verify(&self, stored: &[u8], password: &[u8]) -> bool {
        self.check(stored, password) != Check::No
    }

    /// Verify, telling whether a match used a legacy scheme that should be re-hashed with
    /// argon2id. Legacy verifications also spend one argon2 verification, so that the time a
    /// bind takes does not tell which scheme an account uses.
    pub(crate) fn check(&self, stored: &[u8], password: &[u8]) -> Check {
        let Ok(s) = std::str::from_utf8(stored) else {
            self.verify_dummy(password);
            return Check::No;
        };
        if let Some((scheme, rest)) = split_scheme(s) {
            if let Some(ok) = legacy::verify(scheme, rest, password) {
                self.verify_dummy(password);
                return if ok { Check::Upgrade } else { Check::No };
            }
        }
        if self.verify_argon2(s, password) {
            Check::Yes
        } else {
            Check::No
        }
    }

    fn verify_argon2(&self, s: &str, password: &[u8]) -> bool {
        match split_scheme(s) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case(SCHEME) => {
                let argon = self.argon.clone();
                let (password, rest) = (password.to_vec(), rest.to_string());
                self.pool
                    .run(move || argon.verify_password(&password, rest.as_str()).is_ok())
                    .unwrap_or(false)
            }
            _ => false,
        }
    }

    /// Spend the time of one verification, for a bind whose DN has no usable password.
    pub(crate) fn verify_dummy(&self, password: &[u8]) {
        let _ = self.verify_argon2(&self.dummy, password);
    }

    pub(crate) fn generate(&self) -> String {
        generate(self.generated_length)
    }
}

/// Password quality: at least `min_length` characters, and not equal (ignoring case) to any of
/// `forbidden` (the entry's uid and mail values).
pub(crate) fn check_quality(
    pw: &[u8],
    min_length: usize,
    forbidden: &[&[u8]],
) -> Result<(), String> {
    let chars = String::from_utf8_lossy(pw).chars().count();
    if chars < min_length {
        return Err(format!(
            "password too short: at least {min_length} characters are required"
        ));
    }
    if forbidden.iter().any(|f| f.eq_ignore_ascii_case(pw)) {
        return Err("password must not be the user's uid or mail address".into());
    }
    Ok(())
}

/// The outcome of a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    No,
    Yes,
    /// Matched a legacy hash: store an argon2id hash instead.
    Upgrade,
}

/// Hashes found in data migrated from other servers (slapcat output): verified, never created.
mod legacy {
    use base64::Engine;
    use sha1::{Digest, Sha1};
    use sha2::{Sha256, Sha512};
    use subtle::ConstantTimeEq;

    type DigestFn = fn(&[u8], &[u8]) -> Vec<u8>;

    /// Some(matches) for a scheme handled here, None for others.
    pub(crate) fn verify(scheme: &str, rest: &str, password: &[u8]) -> Option<bool> {
        let b64 = || {
            base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
        };
        let salted = |len: usize, f: DigestFn| -> bool {
            match b64() {
                Some(raw) if raw.len() >= len => {
                    let (digest, salt) = raw.split_at(len);
                    bool::from(f(password, salt).ct_eq(digest))
                }
                _ => false,
            }
        };
        let s1: DigestFn = |p: &[u8], s: &[u8]| {
            Sha1::new()
                .chain_update(p)
                .chain_update(s)
                .finalize()
                .to_vec()
        };
        let s256: DigestFn = |p: &[u8], s: &[u8]| {
            Sha256::new()
                .chain_update(p)
                .chain_update(s)
                .finalize()
                .to_vec()
        };
        let s512: DigestFn = |p: &[u8], s: &[u8]| {
            Sha512::new()
                .chain_update(p)
                .chain_update(s)
                .finalize()
                .to_vec()
        };
        Some(match scheme.to_ascii_uppercase().as_str() {
            "{SSHA}" => salted(20, s1),
            "{SHA}" => b64().is_some_and(|d| d.len() == 20 && salted(20, s1)),
            "{SSHA256}" => salted(32, s256),
            "{SHA256}" => b64().is_some_and(|d| d.len() == 32 && salted(32, s256)),
            "{SSHA512}" => salted(64, s512),
            "{SHA512}" => b64().is_some_and(|d| d.len() == 64 && salted(64, s512)),
            "{CRYPT}" => {
                use sha_crypt::PasswordVerifier;
                if rest.starts_with("$5$") || rest.starts_with("$6$") {
                    sha_crypt::ShaCrypt::default()
                        .verify_password(password, rest)
                        .is_ok()
                } else {
                    // DES and MD5 crypt are not supported: such accounts need a new password.
                    false
                }
            }
            _ => return None,
        })
    }
}

/// `{SCHEME}rest` -> (`{SCHEME}`, rest).
pub(crate) fn split_scheme(s: &str) -> Option<(&str, &str)> {
    if !s.starts_with('{') {
        return None;
    }
    let end = s.find('}')?;
    Some((&s[..=end], &s[end + 1..]))
}

/// True when a userPassword value is already a hash in a scheme (`{...}`), not cleartext.
pub(crate) fn is_hashed(v: &[u8]) -> bool {
    std::str::from_utf8(v)
        .ok()
        .and_then(split_scheme)
        .is_some_and(|(scheme, rest)| scheme.len() > 2 && !rest.is_empty())
}

/// A random password of letters and digits (no look-alikes).
pub(crate) fn generate(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordConfig {
        PasswordConfig {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            generated_length: 12,
            ..PasswordConfig::default()
        }
    }

    #[test]
    fn hash_and_verify() {
        let h = Hasher::new(&cheap()).unwrap();
        let s = h.hash(b"secret").unwrap();
        assert!(s.starts_with("{ARGON2}$argon2id$"));
        assert!(h.verify(s.as_bytes(), b"secret"));
        assert!(!h.verify(s.as_bytes(), b"Secret"));
        assert!(
            !h.verify(b"secret", b"secret"),
            "cleartext is never accepted"
        );
        assert!(!h.verify(b"{ARGON2}garbage", b"x"));
        assert!(is_hashed(s.as_bytes()));
        assert_eq!(h.check(s.as_bytes(), b"secret"), Check::Yes);
    }

    #[test]
    fn legacy_hashes_verify_and_ask_for_an_upgrade() {
        use base64::Engine;
        use sha1::Digest;
        let h = Hasher::new(&cheap()).unwrap();
        let b64 = |v: &[u8]| base64::engine::general_purpose::STANDARD.encode(v);
        let salt = b"saltsalt";
        let mut ssha = sha1::Sha1::new()
            .chain_update(b"secret")
            .chain_update(salt)
            .finalize()
            .to_vec();
        ssha.extend_from_slice(salt);
        let ssha = format!("{{SSHA}}{}", b64(&ssha));
        assert_eq!(h.check(ssha.as_bytes(), b"secret"), Check::Upgrade);
        assert_eq!(h.check(ssha.as_bytes(), b"wrong"), Check::No);
        let sha = format!("{{SHA}}{}", b64(&sha1::Sha1::digest(b"secret")));
        assert_eq!(h.check(sha.as_bytes(), b"secret"), Check::Upgrade);
        let mut s512 = sha2::Sha512::new()
            .chain_update(b"secret")
            .chain_update(salt)
            .finalize()
            .to_vec();
        s512.extend_from_slice(salt);
        let s512 = format!("{{SSHA512}}{}", b64(&s512));
        assert_eq!(h.check(s512.as_bytes(), b"secret"), Check::Upgrade);
        assert_eq!(h.check(b"{SSHA}!!notbase64", b"secret"), Check::No);
        // sha512-crypt, as in /etc/shadow (glibc test vector).
        let crypt = "{CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert_eq!(h.check(crypt.as_bytes(), b"Hello world!"), Check::Upgrade);
        assert_eq!(
            h.check(b"{CRYPT}abJnggxhB/yWI", b"x"),
            Check::No,
            "DES crypt is not supported"
        );
        assert!(!is_hashed(b"plain"));
        assert_eq!(h.generate().len(), 12);
    }
}
