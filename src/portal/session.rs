//! Sessions: kept in memory (a restart logs everyone out), at most `portal.max_sessions` of
//! them. A session id is 256 bits from the operating system's random source, sent only in the
//! `__Host-ccdir` cookie; the store keeps its SHA-256, never the id itself. A session ends
//! after `portal.session_idle_secs` without a request, `portal.session_max_secs` after the
//! login, or at logout.

use crate::core::dn::Dn;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie. `__Host-`: the browser takes it only with Secure, Path=/ and no Domain,
/// so neither another host nor plain HTTP can set or overwrite it.
pub(crate) const COOKIE: &str = "__Host-ccdir";

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) idle: Duration,
    pub(crate) absolute: Duration,
    pub(crate) max: usize,
}

/// A logged-in person, as a request sees the session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) dn: Dn,
    /// The name shown in the page header (the entry's displayName or cn, else the DN).
    pub(crate) name: String,
    /// The CSRF token every form of this session carries (csrf.rs).
    pub(crate) csrf: String,
    /// Which role pages the header links to, as the person's groups were at login. Only
    /// navigation: each of those pages checks who may use it on every request.
    pub(crate) nav: Nav,
}

/// The header's links to the pages of a role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Nav {
    /// A verifier (may record verifications): the queue at /verify.
    pub(crate) verify: bool,
    /// A directory admin (manage access to the suffix): /admin.
    pub(crate) admin: bool,
}

struct Held {
    session: Session,
    created: Instant,
    last: Instant,
}

pub(crate) struct Sessions {
    limits: Limits,
    held: Mutex<HashMap<[u8; 32], Held>>,
}

/// 32 random bytes from the operating system as URL-safe base64 (43 characters).
pub(crate) fn random_token() -> Option<String> {
    use rand::TryRngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.try_fill_bytes(&mut b).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// A cookie value that cannot be an id (ids are 43 base64url characters): not looked up.
fn plausible(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Sessions {
    pub(crate) fn new(limits: Limits) -> Sessions {
        Sessions {
            limits,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// A new session for `dn`: (the id for the cookie, the session). None when the random
    /// source fails. When the store is full, expired sessions go first, then the one idle the
    /// longest.
    pub(crate) fn create(&self, dn: Dn, name: String, nav: Nav) -> Option<(String, Session)> {
        let id = random_token()?;
        let session = Session {
            dn,
            name,
            csrf: random_token()?,
            nav,
        };
        let now = Instant::now();
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.len() >= self.limits.max {
            let l = self.limits;
            held.retain(|_, h| !expired(h, now, l));
        }
        if held.len() >= self.limits.max {
            if let Some(k) = held.iter().min_by_key(|(_, h)| h.last).map(|(k, _)| *k) {
                held.remove(&k);
            }
        }
        held.insert(
            key(&id),
            Held {
                session: session.clone(),
                created: now,
                last: now,
            },
        );
        Some((id, session))
    }

    /// The session of a cookie value, if it is live; a request renews the idle timeout.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        if !plausible(id) {
            return None;
        }
        let k = key(id);
        let now = Instant::now();
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let h = held.get_mut(&k)?;
        if expired(h, now, self.limits) {
            held.remove(&k);
            return None;
        }
        h.last = now;
        Some(h.session.clone())
    }

    /// End a session (logout, or a new login in the same browser).
    pub(crate) fn end(&self, id: &str) {
        if !plausible(id) {
            return;
        }
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.remove(&key(id));
    }

    /// The longest a session lives (the cookie's Max-Age).
    pub(crate) fn max_age(&self) -> u64 {
        self.limits.absolute.as_secs()
    }

    /// Sessions held now (live or not yet swept).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }
}

fn expired(h: &Held, now: Instant, l: Limits) -> bool {
    now.duration_since(h.last) >= l.idle || now.duration_since(h.created) >= l.absolute
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        let schema = crate::core::schema::Schema::builtin_with(&[]).unwrap();
        Dn::parse(s, &schema).unwrap()
    }

    fn store(idle_ms: u64, abs_ms: u64, max: usize) -> Sessions {
        Sessions::new(Limits {
            idle: Duration::from_millis(idle_ms),
            absolute: Duration::from_millis(abs_ms),
            max,
        })
    }

    #[test]
    fn ids_are_random_and_256_bits() {
        let s = store(60_000, 60_000, 10);
        let (a, sa) = s.create(dn("cn=a"), "a".into(), Nav::default()).unwrap();
        let (b, _) = s.create(dn("cn=a"), "a".into(), Nav::default()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&a)
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(sa.csrf, a, "the CSRF token is not the id");
        assert_eq!(s.get(&a).unwrap().dn.norm(), dn("cn=a").norm());
        assert!(s.get("not-an-id").is_none());
        assert!(s.get(&random_token().unwrap()).is_none());
        s.end(&a);
        assert!(s.get(&a).is_none());
        assert!(s.get(&b).is_some());
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let s = store(150, 400, 10);
        let (a, _) = s.create(dn("cn=a"), "a".into(), Nav::default()).unwrap();
        // Kept alive by requests within the idle timeout ...
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(100));
            assert!(s.get(&a).is_some());
        }
        // ... but not past the absolute one.
        std::thread::sleep(Duration::from_millis(150));
        assert!(s.get(&a).is_none(), "absolute timeout");
        let (b, _) = s.create(dn("cn=b"), "b".into(), Nav::default()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(s.get(&b).is_none(), "idle timeout");
    }

    #[test]
    fn bounded_the_longest_idle_goes_first() {
        let s = store(60_000, 60_000, 3);
        let ids: Vec<String> = (0..3)
            .map(|i| {
                std::thread::sleep(Duration::from_millis(2));
                s.create(dn(&format!("cn=u{i}")), String::new(), Nav::default())
                    .unwrap()
                    .0
            })
            .collect();
        // u0 is used again: u1 is now the one idle the longest.
        assert!(s.get(&ids[0]).is_some());
        s.create(dn("cn=new"), String::new(), Nav::default())
            .unwrap();
        assert_eq!(s.len(), 3);
        assert!(s.get(&ids[0]).is_some());
        assert!(s.get(&ids[1]).is_none());
        assert!(s.get(&ids[2]).is_some());
    }
}
