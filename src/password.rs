//! Password hashing: argon2id for everything ccdir stores (`{ARGON2}` + PHC string, the form
//! OpenLDAP's argon2 module reads too), verification in constant shape for unknown users.
//! Passwords and hashes never reach a log line.

use crate::config::Password as PasswordConfig;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use rand::Rng;
use std::sync::{mpsc, Arc, Mutex};

pub const SCHEME: &str = "{ARGON2}";

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
    pub fn verify(&self, stored: &[u8], password: &[u8]) -> bool {
        let Ok(s) = std::str::from_utf8(stored) else {
            return false;
        };
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
    pub fn verify_dummy(&self, password: &[u8]) {
        let _ = self.verify(self.dummy.as_bytes(), password);
    }

    pub fn generate(&self) -> String {
        generate(self.generated_length)
    }
}

/// `{SCHEME}rest` -> (`{SCHEME}`, rest).
pub fn split_scheme(s: &str) -> Option<(&str, &str)> {
    if !s.starts_with('{') {
        return None;
    }
    let end = s.find('}')?;
    Some((&s[..=end], &s[end + 1..]))
}

/// True when a userPassword value is already a hash in a scheme (`{...}`), not cleartext.
pub fn is_hashed(v: &[u8]) -> bool {
    std::str::from_utf8(v)
        .ok()
        .and_then(split_scheme)
        .is_some_and(|(scheme, rest)| scheme.len() > 2 && !rest.is_empty())
}

/// A random password of letters and digits (no look-alikes).
pub fn generate(len: usize) -> String {
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
            argon2_parallelism: 1,
            generated_length: 12,
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
        assert!(!is_hashed(b"plain"));
        assert_eq!(h.generate().len(), 12);
    }
}
