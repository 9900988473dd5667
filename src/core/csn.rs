//! Change sequence numbers in OpenLDAP's form (RFC 4533 replication, slapd's `entryCSN` and
//! `contextCSN`): `YYYYmmddHHMMSS.uuuuuuZ#cccccc#SID#mmmmmm` — the time to the microsecond, a
//! change count within that microsecond (6 hex digits), the server id (3 hex digits, 0..=4095)
//! and a modification number (6 hex digits, always 0 here). Fixed width, so CSNs compare as
//! their text. The type lives in core because the store keeps `contextCSN` (the newest CSN of
//! each server id) in the transaction of each write; the replication layer (repl/) uses it for
//! cookies.

use std::fmt;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Length of a CSN's text.
pub const CSN_LEN: usize = 40;
/// Largest server id a CSN can carry.
pub const MAX_SID: u16 = 0xfff;

/// A parsed CSN. Ordered as its text (which is ordered by time, count, server id, mod).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Csn(String);

impl fmt::Debug for Csn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Csn({})", self.0)
    }
}

impl fmt::Display for Csn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

fn hex(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_hexdigit)
}

impl Csn {
    /// Parse a CSN; None unless it has exactly OpenLDAP's form. Hex digits are taken in either
    /// case and kept lower case (slapd writes lower case).
    pub fn parse(s: &str) -> Option<Csn> {
        let b = s.as_bytes();
        if b.len() != CSN_LEN
            || !digits(&b[0..14])
            || b[14] != b'.'
            || !digits(&b[15..21])
            || b[21] != b'Z'
            || b[22] != b'#'
            || !hex(&b[23..29])
            || b[29] != b'#'
            || !hex(&b[30..33])
            || b[33] != b'#'
            || !hex(&b[34..40])
        {
            return None;
        }
        Some(Csn(s.to_ascii_lowercase().replacen('z', "Z", 1)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The server id of the server that made the change.
    pub fn sid(&self) -> u16 {
        u16::from_str_radix(&self.0[30..33], 16).unwrap_or(0)
    }

    /// The time part and the change count.
    fn time_and_count(&self) -> (&str, u32) {
        (
            &self.0[0..21],
            u32::from_str_radix(&self.0[23..29], 16).unwrap_or(0),
        )
    }

    fn format(t: OffsetDateTime, count: u32, sid: u16) -> Csn {
        let t = t.to_offset(time::UtcOffset::UTC);
        Csn(format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}.{:06}Z#{:06x}#{:03x}#000000",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond(),
            count & 0xff_ffff,
            sid & MAX_SID
        ))
    }
}

/// The newest CSN of each server id (a `contextCSN` value set), sorted by server id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsnSet(Vec<Csn>);

impl CsnSet {
    pub fn new() -> CsnSet {
        CsnSet(Vec::new())
    }

    /// Keep `c` if it is newer than what the set holds for its server id.
    pub fn update(&mut self, c: &Csn) -> bool {
        match self.0.binary_search_by_key(&c.sid(), Csn::sid) {
            Ok(i) if self.0[i] < *c => {
                self.0[i] = c.clone();
                true
            }
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, c.clone());
                true
            }
        }
    }

    pub fn get(&self, sid: u16) -> Option<&Csn> {
        self.0
            .binary_search_by_key(&sid, Csn::sid)
            .ok()
            .map(|i| &self.0[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Csn> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `csn;csn;...` (the stored form; also a cookie's `csn=` value).
    pub fn to_text(&self) -> String {
        self.0.iter().map(Csn::as_str).collect::<Vec<_>>().join(";")
    }

    /// Parse `csn;csn;...`; None when a part is not a CSN. Of several CSNs of one server id the
    /// newest is kept.
    pub fn parse(text: &str) -> Option<CsnSet> {
        let mut s = CsnSet::new();
        for part in text.split(';').filter(|p| !p.is_empty()) {
            s.update(&Csn::parse(part)?);
        }
        Some(s)
    }
}

/// Makes the CSNs of this server: strictly increasing, also across restarts (it starts after
/// the newest CSN the store holds for its server id) and when the clock steps back.
pub struct CsnGenerator {
    sid: u16,
    /// The last CSN made (or the store's newest of this server id).
    last: Mutex<Option<Csn>>,
}

impl CsnGenerator {
    /// A generator for server id `sid` that continues after `after` (the store's newest CSN of
    /// that server id).
    pub fn new(sid: u16, after: Option<Csn>) -> Self {
        CsnGenerator {
            sid: sid & MAX_SID,
            last: Mutex::new(after),
        }
    }

    pub fn sid(&self) -> u16 {
        self.sid
    }

    pub fn next(&self, now: OffsetDateTime) -> String {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let mut c = Csn::format(now, 0, self.sid);
        if let Some(l) = last.as_ref() {
            if c <= *l {
                // Same microsecond (or the clock went back): the last time, the next count;
                // when the count is used up, the next microsecond.
                let (lt, count) = l.time_and_count();
                let t = parse_time(lt).unwrap_or(now);
                c = if count < 0xff_ffff {
                    Csn::format(t, count + 1, self.sid)
                } else {
                    Csn::format(t + time::Duration::microseconds(1), 0, self.sid)
                };
            }
        }
        *last = Some(c.clone());
        c.0
    }
}

/// `YYYYmmddHHMMSS.uuuuuuZ`
fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 21 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(n(0..4)?).ok()?, month, n(6..8)? as u8)
        .ok()?;
    let t = time::Time::from_hms_micro(
        n(8..10)? as u8,
        n(10..12)? as u8,
        n(12..14)? as u8,
        n(15..21)?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_and_orders() {
        let a = Csn::parse("20261123130509.123456Z#000000#000#000000").unwrap();
        let b = Csn::parse("20261123130509.123456Z#000001#000#000000").unwrap();
        let c = Csn::parse("20261123130509.123457Z#000000#001#000000").unwrap();
        assert!(a < b && b < c);
        assert_eq!(c.sid(), 1);
        assert_eq!(
            Csn::parse("20261123130509.123456Z#00000A#0FF#000000")
                .unwrap()
                .as_str(),
            "20261123130509.123456Z#00000a#0ff#000000"
        );
        for bad in [
            "",
            "20261123130509Z",
            "20261123130509.123456Z#000000#000#00000",
            "20261123130509.123456Z#000000#000#0000000",
            "20261123130509.123456Z#00000g#000#000000",
            "2026112313050x.123456Z#000000#000#000000",
            "20261123130509.123456Z-000000#000#000000",
        ] {
            assert!(Csn::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sets_keep_the_newest_per_server_id() {
        let mut s = CsnSet::parse(
            "20261123130509.000000Z#000000#002#000000;20261123130500.000000Z#000000#001#000000",
        )
        .unwrap();
        assert_eq!(
            s.to_text(),
            "20261123130500.000000Z#000000#001#000000;20261123130509.000000Z#000000#002#000000"
        );
        assert!(!s.update(&Csn::parse("20261123130400.000000Z#000000#001#000000").unwrap()));
        assert!(s.update(&Csn::parse("20261123130600.000000Z#000000#001#000000").unwrap()));
        assert_eq!(
            s.get(1).unwrap().as_str(),
            "20261123130600.000000Z#000000#001#000000"
        );
        assert!(CsnSet::parse("nonsense").is_none());
        assert!(CsnSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn generated_csns_increase_strictly() {
        let t = datetime!(2026-11-23 13:05:09.123456 UTC);
        let g = CsnGenerator::new(0, None);
        assert_eq!(g.next(t), "20261123130509.123456Z#000000#000#000000");
        assert_eq!(g.next(t), "20261123130509.123456Z#000001#000#000000");
        // The clock steps back: still after the last.
        assert_eq!(
            g.next(t - time::Duration::seconds(5)),
            "20261123130509.123456Z#000002#000#000000"
        );
        assert_eq!(
            g.next(t + time::Duration::microseconds(1)),
            "20261123130509.123457Z#000000#000#000000"
        );
        // After a restart: continues after the store's newest CSN of its server id.
        let stored = Csn::parse("20261123130509.123456Z#ffffff#07b#000000").unwrap();
        let g = CsnGenerator::new(123, Some(stored));
        assert_eq!(g.next(t), "20261123130509.123457Z#000000#07b#000000");
        let mut prev = String::new();
        for i in 0..1000 {
            let c = g.next(t - time::Duration::microseconds(i));
            assert!(c > prev, "{c} after {prev}");
            prev = c;
        }
    }
}
