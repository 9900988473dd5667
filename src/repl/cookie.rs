//! Sync cookies as OpenLDAP writes and parses them (slap_compose_sync_cookie,
//! slap_parse_sync_cookie): `rid=NNN[,sid=SSS][,csn=CSN[;CSN...]]`. `rid` is the consumer's
//! replica id (decimal, 0..=999), echoed back; `sid` the server id of whoever wrote the cookie
//! (3 hex digits); `csn` the newest CSN of each server id the holder has. A consumer's first
//! cookie is just `rid=NNN`. Other fields (slapd 2.5's `delcsn=`) are read over.

use crate::core::csn::{Csn, CsnSet, MAX_SID};
use std::fmt;

/// Longest cookie accepted.
pub const MAX_COOKIE: usize = 8192;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cookie {
    pub rid: Option<u16>,
    pub sid: Option<u16>,
    pub csns: CsnSet,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadCookie(pub &'static str);

impl fmt::Display for BadCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed sync cookie: {}", self.0)
    }
}

impl Cookie {
    pub fn parse(b: &[u8]) -> Result<Cookie, BadCookie> {
        if b.len() > MAX_COOKIE {
            return Err(BadCookie("too long"));
        }
        let text = std::str::from_utf8(b).map_err(|_| BadCookie("not UTF-8"))?;
        let mut c = Cookie::default();
        for field in text.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let Some((key, value)) = field.split_once('=') else {
                return Err(BadCookie("a field without '='"));
            };
            match key.trim().to_ascii_lowercase().as_str() {
                "rid" => {
                    let rid: u16 = value.parse().map_err(|_| BadCookie("rid"))?;
                    if rid > 999 {
                        return Err(BadCookie("rid above 999"));
                    }
                    c.rid = Some(rid);
                }
                "sid" => {
                    let sid = u16::from_str_radix(value, 16).map_err(|_| BadCookie("sid"))?;
                    if sid > MAX_SID {
                        return Err(BadCookie("sid above fff"));
                    }
                    c.sid = Some(sid);
                }
                "csn" => {
                    c.csns = CsnSet::parse(value).ok_or(BadCookie("csn"))?;
                }
                _ => {}
            }
        }
        Ok(c)
    }

    /// The CSN the cookie holds for a server id.
    pub fn csn(&self, sid: u16) -> Option<&Csn> {
        self.csns.get(sid)
    }
}

impl fmt::Display for Cookie {
    /// As slapd writes it: `rid=%03d`, `sid=%03x`, then `csn=` with the CSNs joined by `;`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(rid) = self.rid {
            write!(f, "rid={rid:03}")?;
            sep = ",";
        }
        if let Some(sid) = self.sid {
            write!(f, "{sep}sid={sid:03x}")?;
            sep = ",";
        }
        if !self.csns.is_empty() {
            write!(f, "{sep}csn={}", self.csns.to_text())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "20261123130509.123456Z#000000#000#000000";
    const B: &str = "20261123130510.000000Z#000003#001#000000";

    #[test]
    fn parses_what_slapd_sends() {
        let c = Cookie::parse(b"rid=001").unwrap();
        assert_eq!((c.rid, c.sid), (Some(1), None));
        assert!(c.csns.is_empty());
        let c = Cookie::parse(format!("rid=123,sid=07b,csn={A};{B}").as_bytes()).unwrap();
        assert_eq!((c.rid, c.sid), (Some(123), Some(0x7b)));
        assert_eq!(c.csn(0).unwrap().as_str(), A);
        assert_eq!(c.csn(1).unwrap().as_str(), B);
        assert_eq!(c.to_string(), format!("rid=123,sid=07b,csn={A};{B}"));
        // slapd 2.5 may add delcsn=; the order of fields does not matter.
        let c = Cookie::parse(format!("csn={A},rid=002,delcsn={B}").as_bytes()).unwrap();
        assert_eq!(c.to_string(), format!("rid=002,csn={A}"));
        assert_eq!(Cookie::parse(b"").unwrap(), Cookie::default());
    }

    #[test]
    fn prints_like_slapd() {
        let mut c = Cookie {
            rid: Some(1),
            ..Default::default()
        };
        assert_eq!(c.to_string(), "rid=001");
        c.csns.update(&Csn::parse(A).unwrap());
        assert_eq!(c.to_string(), format!("rid=001,csn={A}"));
        c.sid = Some(2);
        assert_eq!(c.to_string(), format!("rid=001,sid=002,csn={A}"));
    }

    #[test]
    fn refuses_malformed_cookies() {
        for bad in [
            &b"rid=1000"[..],
            b"rid=abc",
            b"sid=1000",
            b"csn=nonsense",
            b"rid",
            b"\xff\xfe",
        ] {
            assert!(Cookie::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Cookie::parse(&vec![b'a'; MAX_COOKIE + 1]).is_err());
    }
}
