//! UTC offsets of IANA time zones, from the system's time zone database (Debian's tzdata in
//! /usr/share/zoneinfo, or $TZDIR) read by `jiff`, which also applies the POSIX TZ rule at the
//! end of a TZif file (slim tzdata, and every date after a fat file's last transition in 2037);
//! and business hours converted from a zone's local time to UTC.

use jiff::tz::{TimeZone, TimeZoneDatabase};
use time::OffsetDateTime;

/// The UTC offset (seconds) and abbreviation of `zone` at `t`; None for a zone the system's
/// database does not have (names are matched without regard to case, as jiff does).
pub(crate) fn offset_at(zone: &str, t: OffsetDateTime) -> Option<(i32, String)> {
    offset_in(jiff::tz::db(), zone, t)
}

fn offset_in(db: &TimeZoneDatabase, zone: &str, t: OffsetDateTime) -> Option<(i32, String)> {
    let tz: TimeZone = db.get(zone).ok()?;
    // jiff answers `Etc/Unknown` with a placeholder zone at UTC: not a zone to show.
    if tz.is_unknown() {
        return None;
    }
    let at = jiff::Timestamp::from_second(t.unix_timestamp()).ok()?;
    let info = tz.to_offset_info(at);
    Some((info.offset().seconds(), info.abbreviation().to_string()))
}

/// `+05:30`-style offset text.
pub(crate) fn offset_text(secs: i32) -> String {
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
pub(crate) fn hours_in_utc(hours: &str, offset_secs: i32) -> Option<String> {
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

/// The local time in `zone` at `t`: (weekday 0 = Monday, minutes since local midnight, text
/// such as `Tue 2026-07-14 14:05 CEST`). None for a zone the database does not have.
pub(crate) fn local_time(zone: &str, t: OffsetDateTime) -> Option<(usize, u32, String)> {
    let tz: TimeZone = jiff::tz::db().get(zone).ok()?;
    if tz.is_unknown() {
        return None;
    }
    let z = jiff::Timestamp::from_second(t.unix_timestamp())
        .ok()?
        .to_zoned(tz);
    let day = z.weekday().to_monday_zero_offset() as usize;
    let minutes = z.hour() as u32 * 60 + z.minute() as u32;
    Some((day, minutes, z.strftime("%a %Y-%m-%d %H:%M %Z").to_string()))
}

/// The day numbers (0 = Monday) a days part such as `Mo-Fr` or `Mo-Th,Sa` names; a range may
/// wrap (`Fr-Mo`).
fn day_set(days: &str) -> Option<[bool; 7]> {
    let mut set = [false; 7];
    for part in days.split(',') {
        let mut ends = part.trim().split('-');
        let first = ends.next()?;
        let last = ends.next().unwrap_or(first);
        if ends.next().is_some() {
            return None;
        }
        let a = DAYS.iter().position(|d| d.eq_ignore_ascii_case(first))?;
        let b = DAYS.iter().position(|d| d.eq_ignore_ascii_case(last))?;
        let mut i = a;
        loop {
            set[i] = true;
            if i == b {
                break;
            }
            i = (i + 1) % 7;
        }
    }
    Some(set)
}

/// Is a local time (weekday 0 = Monday, minutes since midnight) within business hours such as
/// `Mo-Fr 08:00-17:00`? A span that ends before it starts runs past midnight into the next day
/// (`Su 22:00-06:00` is Sunday 22:00 to Monday 06:00). None when the text is not of that form.
pub(crate) fn within_hours(hours: &str, day: usize, minute: u32) -> Option<bool> {
    let (days, span) = hours.trim().split_once(' ')?;
    let (from, to) = span.trim().split_once('-')?;
    let set = day_set(days)?;
    let (from, to) = (minutes(from)?, minutes(to)?);
    let m = minute as i32;
    let on = |d: usize| set.get(d % 7).copied().unwrap_or(false);
    Some(if from < to {
        on(day) && m >= from && m < to
    } else {
        (on(day) && m >= from) || (on((day + 6) % 7) && m < to)
    })
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

    /// The system's database (the CI machine is Debian with tzdata); without one, skipped,
    /// except in CI.
    fn have_tzdata() -> bool {
        if jiff::tz::db().get("Europe/Berlin").is_ok() {
            return true;
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "no time zone database in CI: install tzdata"
        );
        eprintln!("no tzdata: skipped");
        false
    }

    #[test]
    fn system_zones() {
        if !have_tzdata() {
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
    }

    #[test]
    fn after_2037_the_posix_rule_applies() {
        if !have_tzdata() {
            return;
        }
        // Debian's fat files list transitions to 2037 only; the old reader kept CET after that.
        let summer = datetime!(2040-07-15 12:00 UTC);
        let winter = datetime!(2040-01-15 12:00 UTC);
        assert_eq!(
            offset_at("Europe/Berlin", summer),
            Some((7200, "CEST".into()))
        );
        assert_eq!(
            offset_at("Europe/Berlin", winter),
            Some((3600, "CET".into()))
        );
        assert_eq!(
            offset_at("America/New_York", datetime!(2045-08-01 12:00 UTC)),
            Some((-4 * 3600, "EDT".into()))
        );
    }

    #[test]
    fn dst_transition() {
        if !have_tzdata() {
            return;
        }
        // 2026-03-29 01:00 UTC: Berlin goes from CET to CEST; 2026-10-25 01:00 UTC back.
        let z = "Europe/Berlin";
        assert_eq!(
            offset_at(z, datetime!(2026-03-29 00:59:59 UTC)),
            Some((3600, "CET".into()))
        );
        assert_eq!(
            offset_at(z, datetime!(2026-03-29 01:00 UTC)),
            Some((7200, "CEST".into()))
        );
        assert_eq!(
            offset_at(z, datetime!(2026-10-25 00:59:59 UTC)),
            Some((7200, "CEST".into()))
        );
        assert_eq!(
            offset_at(z, datetime!(2026-10-25 01:00 UTC)),
            Some((3600, "CET".into()))
        );
        // The southern hemisphere, 2040: Sydney leaves daylight time on the first Sunday of
        // April at 03:00 local (16:00 UTC the day before).
        let y = "Australia/Sydney";
        assert_eq!(
            offset_at(y, datetime!(2040-03-31 15:59:59 UTC)).map(|x| x.0),
            Some(11 * 3600)
        );
        assert_eq!(
            offset_at(y, datetime!(2040-03-31 16:00 UTC)).map(|x| x.0),
            Some(10 * 3600)
        );
    }

    #[test]
    fn business_hours_now() {
        let h = "Mo-Fr 08:00-17:00";
        assert_eq!(within_hours(h, 0, 8 * 60), Some(true));
        assert_eq!(within_hours(h, 4, 17 * 60 - 1), Some(true));
        assert_eq!(within_hours(h, 4, 17 * 60), Some(false));
        assert_eq!(within_hours(h, 5, 12 * 60), Some(false), "Saturday");
        assert_eq!(within_hours(h, 2, 7 * 60 + 59), Some(false));
        // Across midnight: Sunday 22:00 to Monday 06:00.
        let n = "Su 22:00-06:00";
        assert_eq!(within_hours(n, 6, 23 * 60), Some(true));
        assert_eq!(within_hours(n, 0, 5 * 60), Some(true));
        assert_eq!(within_hours(n, 0, 6 * 60), Some(false));
        assert_eq!(within_hours(n, 0, 23 * 60), Some(false));
        // Lists and wrapping ranges.
        assert_eq!(within_hours("Mo-Th,Sa 09:30-24:00", 5, 23 * 60), Some(true));
        assert_eq!(
            within_hours("Mo-Th,Sa 09:30-24:00", 4, 12 * 60),
            Some(false)
        );
        assert_eq!(within_hours("Fr-Mo 10:00-12:00", 6, 11 * 60), Some(true));
        assert_eq!(within_hours("Fr-Mo 10:00-12:00", 2, 11 * 60), Some(false));
        assert_eq!(within_hours("by arrangement", 0, 0), None);
        assert_eq!(within_hours("Xx 10:00-12:00", 0, 0), None);
    }

    #[test]
    fn local_time_in_a_zone() {
        if !have_tzdata() {
            return;
        }
        // 2026-07-15 (a Wednesday) 12:00 UTC is 14:00 CEST in Berlin, 21:00 in Tokyo.
        let t = datetime!(2026-07-15 12:00 UTC);
        let (d, m, text) = local_time("Europe/Berlin", t).unwrap();
        assert_eq!((d, m), (2, 14 * 60));
        assert_eq!(text, "Wed 2026-07-15 14:00 CEST");
        assert_eq!(
            local_time("Asia/Tokyo", t).map(|x| (x.0, x.1)),
            Some((2, 21 * 60))
        );
        assert_eq!(local_time("No/Such_Zone", t), None);
    }

    #[test]
    fn unknown_zones() {
        let s = datetime!(2026-07-15 12:00 UTC);
        assert_eq!(offset_at("No/Such_Zone", s), None);
        assert_eq!(offset_at("../etc/passwd", s), None);
        assert_eq!(offset_at("/etc/passwd", s), None);
        assert_eq!(offset_at("", s), None);
        assert_eq!(offset_at("Etc/Unknown", s), None);
        assert_eq!(offset_at("CET-1CEST,M3.5.0,M10.5.0/3", s), None);
    }

    /// Europe/Berlin from tzdata 2025b compiled with `zic -b slim`: transitions to March 1996 only,
    /// the rest is the POSIX rule `CET-1CEST,M3.5.0,M10.5.0/3` at the end of the file.
    const SLIM_BERLIN: &[&str] = &[
        "VFppZjIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAAEAAAAAAAAAVFppZjIA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8AAAABAAAABL/////b6Jh+P////+bDBdg////",
        "/5vV2vD/////nNmukP////+dpLWQ/////565kJD/////n4SXkP/////ICXGQ/////8znSxD/////",
        "zakXkP/////OokMQ/////8+SNBD/////0IIlEP/////RchYQ/////9G2lgD/////0li+gP/////S",
        "oU8Q/////9NjG5D/////1EsjkP/////VOdEg/////9Vn55D/////1ahzAP/////WKbQQ/////9cs",
        "GhD/////2AmWEP/////ZAsGQ/////9npeBAAAAAAE01EEAAAAAAUM/qQAAAAABUj65AAAAAAFhPc",
        "kAAAAAAXA82QAAAAABfzvpAAAAAAGOOvkAAAAAAZ06CQAAAAABrDkZAAAAAAG7y9EAAAAAAcrK4Q",
        "AAAAAB2cnxAAAAAAHoyQEAAAAAAffIEQAAAAACBschAAAAAAIVxjEAAAAAAiTFQQAAAAACM8RRAA",
        "AAAAJCw2EAAAAAAlHCcQAAAAACYMGBAAAAAAJwVDkAAAAAAn9TSQAAAAACjlJZAAAAAAKdUWkAAA",
        "AAAqxQeQAAAAACu0+JAAAAAALKTpkAAAAAAtlNqQAAAAAC6Ey5AAAAAAL3S8kAAAAAAwZK2QAAAA",
        "ADFd2RACAQIBAgECAQIBAgECAQMBAgECAQMBAgECAQIBAgECAQIBAgECAQIBAgECAQIBAgECAQIB",
        "AgECAQIBAgEAAAyIAAAAABwgAQQAAA4QAAkAACowAQ1MTVQAQ0VTVABDRVQAQ0VNVAAKQ0VULTFD",
        "RVNULE0zLjUuMCxNMTAuNS4wLzMK",
    ];

    #[test]
    fn slim_tzdata() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(SLIM_BERLIN.concat())
            .expect("base64");
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(dir.path().join("Europe")).expect("mkdir");
        std::fs::write(dir.path().join("Europe/Berlin"), bytes).expect("write");
        let db = TimeZoneDatabase::from_dir(dir.path()).expect("db");
        let z = "Europe/Berlin";
        // The old reader kept the last transition's type (CEST, March 1996) for every later
        // date, so every winter came out at +02:00.
        assert_eq!(
            offset_in(&db, z, datetime!(2026-07-15 12:00 UTC)),
            Some((7200, "CEST".into()))
        );
        assert_eq!(
            offset_in(&db, z, datetime!(2026-01-15 12:00 UTC)),
            Some((3600, "CET".into()))
        );
        assert_eq!(
            offset_in(&db, z, datetime!(2040-07-15 12:00 UTC)),
            Some((7200, "CEST".into()))
        );
        assert_eq!(
            offset_in(&db, "Europe/Paris", datetime!(2026-07-15 12:00 UTC)),
            None
        );
    }
}
