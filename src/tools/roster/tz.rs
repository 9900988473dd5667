//! UTC offsets of IANA time zones, read from the system's compiled time zone files (TZif,
//! RFC 8536; Debian's tzdata in /usr/share/zoneinfo, or $TZDIR), and business hours converted
//! from a zone's local time to UTC.

use time::OffsetDateTime;

/// The directory of compiled zone files.
pub fn zoneinfo_dir() -> std::path::PathBuf {
    std::env::var_os("TZDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/usr/share/zoneinfo".into())
}

/// The UTC offset (seconds) and abbreviation of `zone` at `t`; None for an unknown zone or an
/// unreadable file. After the file's last transition the last type is used (Debian's "fat"
/// files list transitions to 2037).
pub fn offset_at(zone: &str, t: OffsetDateTime) -> Option<(i32, String)> {
    let ok = !zone.is_empty()
        && !zone.starts_with('/')
        && !zone
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    if !ok {
        return None;
    }
    let data = std::fs::read(zoneinfo_dir().join(zone)).ok()?;
    parse_offset(&data, t.unix_timestamp())
}

fn be32(d: &[u8], at: usize) -> Option<i64> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(i32::from_be_bytes(b) as i64)
}

fn be64(d: &[u8], at: usize) -> Option<i64> {
    let b: [u8; 8] = d.get(at..at + 8)?.try_into().ok()?;
    Some(i64::from_be_bytes(b))
}

struct Header {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

fn header(d: &[u8], at: usize) -> Option<(u8, Header)> {
    if d.get(at..at + 4)? != b"TZif" {
        return None;
    }
    let version = *d.get(at + 4)?;
    let c = |i: usize| be32(d, at + 20 + 4 * i).map(|v| v as usize);
    Some((
        version,
        Header {
            isut: c(0)?,
            isstd: c(1)?,
            leap: c(2)?,
            time: c(3)?,
            types: c(4)?,
            chars: c(5)?,
        },
    ))
}

/// Offset at a Unix time from TZif data (the 64-bit block of version 2+ files, else the first).
pub fn parse_offset(d: &[u8], unix: i64) -> Option<(i32, String)> {
    let (version, h1) = header(d, 0)?;
    let v1_len = h1.time * 5 + h1.types * 6 + h1.chars + h1.leap * 8 + h1.isstd + h1.isut;
    let (base, h, tsize) = if version >= b'2' {
        let (_, h2) = header(d, 44 + v1_len)?;
        (44 + v1_len + 44, h2, 8)
    } else {
        (44, h1, 4)
    };
    if h.types == 0 {
        return None;
    }
    let times_at = base;
    let idx_at = times_at + h.time * tsize;
    let types_at = idx_at + h.time;
    let chars_at = types_at + h.types * 6;
    let time_of = |i: usize| {
        if tsize == 8 {
            be64(d, times_at + 8 * i)
        } else {
            be32(d, times_at + 4 * i)
        }
    };
    // The type in force: that of the last transition at or before `unix`; before the first
    // transition, the first non-DST type (RFC 8536 3.2), else type 0.
    let mut ty: Option<usize> = None;
    for i in 0..h.time {
        if time_of(i)? <= unix {
            ty = Some(*d.get(idx_at + i)? as usize);
        } else {
            break;
        }
    }
    let ty = match ty {
        Some(t) => t,
        None => (0..h.types)
            .find(|&i| d.get(types_at + i * 6 + 4) == Some(&0))
            .unwrap_or(0),
    };
    if ty >= h.types {
        return None;
    }
    let off = be32(d, types_at + ty * 6)? as i32;
    let ai = *d.get(types_at + ty * 6 + 5)? as usize;
    let chars = d.get(chars_at..chars_at + h.chars)?;
    let abbr = chars
        .get(ai..)
        .and_then(|s| s.split(|b| *b == 0).next())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_default();
    Some((off, abbr))
}

/// `+05:30`-style offset text.
pub fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

fn shift_day(d: &str, by: i32) -> Option<String> {
    let i = DAYS.iter().position(|x| x.eq_ignore_ascii_case(d))? as i32;
    Some(DAYS[(i + by).rem_euclid(7) as usize].to_string())
}

fn minutes(hhmm: &str) -> Option<i32> {
    let (h, m) = hhmm.split_once(':')?;
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    (h <= 24 && m < 60).then_some(h * 60 + m)
}

fn hhmm(m: i32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Business hours like `Mo-Fr 08:00-17:00` (local time) as UTC with the given offset:
/// `Mo-Fr 07:00-16:00 UTC`; days move when the start crosses midnight, and an end on the next
/// day gets `+1`. None when the text is not of that form (it is then shown as it is).
pub fn hours_in_utc(hours: &str, offset_secs: i32) -> Option<String> {
    let (days, span) = hours.trim().split_once(' ')?;
    let (from, to) = span.trim().split_once('-')?;
    let off = offset_secs / 60;
    let start = minutes(from)? - off;
    let end = minutes(to)? - off;
    let day_shift = start.div_euclid(24 * 60);
    let start_m = start.rem_euclid(24 * 60);
    let end_rel = end - day_shift * 24 * 60;
    let days_utc = days
        .split(',')
        .map(|part| {
            part.split('-')
                .map(|d| shift_day(d.trim(), day_shift))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join("-"))
        })
        .collect::<Option<Vec<_>>>()?
        .join(",");
    let end_txt = if end_rel > 24 * 60 {
        format!("{}+1", hhmm(end_rel - 24 * 60))
    } else {
        hhmm(end_rel)
    };
    Some(format!("{days_utc} {}-{end_txt} UTC", hhmm(start_m)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn hours_to_utc() {
        assert_eq!(
            hours_in_utc("Mo-Fr 09:00-17:00", 3600).as_deref(),
            Some("Mo-Fr 08:00-16:00 UTC")
        );
        assert_eq!(
            hours_in_utc("Mo-Fr 09:00-18:00", 9 * 3600).as_deref(),
            Some("Mo-Fr 00:00-09:00 UTC")
        );
        assert_eq!(
            hours_in_utc("Mo-Fr 08:00-17:00", 13 * 3600).as_deref(),
            Some("Su-Th 19:00-04:00+1 UTC")
        );
        assert_eq!(
            hours_in_utc("Mo-Fr 09:00-17:00", -3 * 3600).as_deref(),
            Some("Mo-Fr 12:00-20:00 UTC")
        );
        assert_eq!(
            hours_in_utc("Mo-Fr 09:00-17:00", -8 * 3600).as_deref(),
            Some("Mo-Fr 17:00-01:00+1 UTC")
        );
        assert_eq!(
            hours_in_utc("Mo-Fr 09:00-17:00", 5 * 3600 + 1800).as_deref(),
            Some("Mo-Fr 03:30-11:30 UTC")
        );
        assert_eq!(hours_in_utc("by arrangement", 0), None);
        assert_eq!(offset_text(19800), "UTC+05:30");
        assert_eq!(offset_text(-10800), "UTC-03:00");
    }

    #[test]
    fn system_zones() {
        if !zoneinfo_dir().join("Europe/Berlin").exists() {
            eprintln!("no tzdata: skipped");
            return;
        }
        let w = datetime!(2026-01-15 12:00 UTC);
        let s = datetime!(2026-07-15 12:00 UTC);
        assert_eq!(offset_at("Europe/Berlin", w).map(|x| x.0), Some(3600));
        assert_eq!(offset_at("Europe/Berlin", s).map(|x| x.0), Some(7200));
        assert_eq!(offset_at("Asia/Kolkata", s).map(|x| x.0), Some(19800));
        assert_eq!(offset_at("America/Sao_Paulo", s).map(|x| x.0), Some(-10800));
        assert_eq!(
            offset_at("Europe/Berlin", s).map(|x| x.1),
            Some("CEST".into())
        );
        assert_eq!(offset_at("../etc/passwd", s), None);
        assert_eq!(offset_at("No/Such_Zone", s), None);
    }
}
