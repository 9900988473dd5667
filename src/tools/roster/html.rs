//! The roster as printable HTML: one self-contained page per region (no scripts, no external
//! resources), every ccTLD on it with its 24/7 contact point, emergency phone, fax, other
//! telecom facilities, time zone, business hours in local time and UTC, languages, people in
//! escalation order with substitutes and key fingerprints, and the date it was made.

use super::{fingerprint_text, name_of, tz, Registry, Roster};
use crate::core::entry::Entry;
use crate::tools::offline::{all, first};
use time::OffsetDateTime;

/// HTML text escaping.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 10pt; margin: 1.5em; color: #000; }
h1 { font-size: 16pt; margin: 0 0 .2em 0; }
p.made { margin: 0 0 1em 0; }
section.cctld { border: 1px solid #444; padding: .4em .6em; margin: 0 0 .8em 0; break-inside: avoid; page-break-inside: avoid; }
section.cctld h2 { font-size: 12pt; margin: 0 0 .3em 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 1px 6px 1px 0; }
table.people { margin-top: .3em; border-top: 1px solid #999; }
table.people th { font-weight: bold; font-size: 9pt; }
td.k { width: 11em; font-weight: bold; }
.fp { font-family: 'DejaVu Sans Mono', monospace; font-size: 8.5pt; }
.emergency { font-weight: bold; }
td.tel { white-space: nowrap; }
@page { size: A4; margin: 12mm; }
@media print { body { margin: 0; } }
";

pub(crate) fn day_time(t: OffsetDateTime) -> String {
    crate::core::clock::minute_utc(t)
}

fn row(o: &mut String, k: &str, v: &str) {
    if !v.is_empty() {
        o.push_str(&format!(
            "<tr><td class=\"k\">{}</td><td>{v}</td></tr>\n",
            esc(k)
        ));
    }
}

fn list(e: &Entry, a: &str) -> String {
    all(e, a)
        .iter()
        .map(|v| esc(v))
        .collect::<Vec<_>>()
        .join("<br>")
}

fn hours(e: &Entry, at: OffsetDateTime) -> (String, String) {
    let zone = first(e, "cctldTimeZone");
    let h = first(e, "cctldBusinessHours");
    let off = tz::offset_at(&zone, at);
    let zone_txt = match &off {
        Some((secs, abbr)) => format!("{} ({}, {})", esc(&zone), esc(abbr), tz::offset_text(*secs)),
        None => esc(&zone),
    };
    let hours_txt = if h.is_empty() {
        String::new()
    } else {
        match off.and_then(|(secs, _)| tz::hours_in_utc(&h, secs)) {
            Some(u) => format!("{} local = {}", esc(&h), esc(&u)),
            None => format!("{} local", esc(&h)),
        }
    };
    (zone_txt, hours_txt)
}

/// One ccTLD's section (`<section class="cctld">`), every value escaped: what each region's
/// page holds per ccTLD, and the portal's printable roster (src/portal/pages/roster.rs) too.
pub(crate) fn registry(o: &mut String, r: &Roster, g: &Registry, at: OffsetDateTime) {
    let co = first(&g.entry, "co");
    o.push_str(&format!(
        "<section class=\"cctld\" id=\"{}\">\n<h2>{} &mdash; {} &mdash; {}</h2>\n<table>\n",
        esc(&g.domain),
        esc(&g.label()),
        esc(&co),
        esc(&first(&g.entry, "o"))
    ));
    match &g.team {
        Some(t) => {
            let avail = match first(t, "cctldAvailable247").as_str() {
                "TRUE" => "available 24/7",
                "FALSE" => "business hours only",
                _ => "unknown",
            };
            row(
                o,
                "24/7 contact point",
                &format!("{} ({})", esc(&name_of(t)), avail),
            );
            row(
                o,
                "emergency phone",
                &format!(
                    "<span class=\"emergency\">{}</span>",
                    list(t, "cctldEmergencyTelephoneNumber")
                ),
            );
            row(o, "phone", &list(t, "telephoneNumber"));
            row(o, "data checked", &esc(&super::freshness_text(t, at)));
            row(o, "fax", &list(t, "facsimileTelephoneNumber"));
            row(o, "mail", &list(t, "mail"));
            row(o, "messenger", &list(t, "cctldMessengerURI"));
            row(o, "other telecom", &list(t, "cctldOtherTelecom"));
            let (zone, h) = hours(t, at);
            row(o, "time zone", &zone);
            row(o, "business hours", &h);
            row(o, "languages", &esc(&all(t, "cctldLanguage").join(", ")));
            let subs: Vec<String> = all(t, "cctldSubstitute")
                .iter()
                .map(|d| esc(&r.name_for(d)))
                .collect();
            row(o, "substitute", &subs.join("<br>"));
            let fps: Vec<String> = all(t, "cctldOpenPGPFingerprint")
                .iter()
                .map(|f| format!("<span class=\"fp\">{}</span>", esc(&fingerprint_text(f))))
                .collect();
            row(o, "OpenPGP", &fps.join("<br>"));
        }
        None => row(o, "24/7 contact point", "none recorded"),
    }
    o.push_str("</table>\n");
    if !g.people.is_empty() {
        o.push_str(
            "<table class=\"people\">\n<tr><th>#</th><th>name, role</th><th>phones</th>\
             <th>mail</th><th>languages, hours</th><th>substitute</th><th>OpenPGP fingerprint</th></tr>\n",
        );
        for p in &g.people {
            let (_, h) = hours(p, at);
            let mut phones: Vec<String> =
                ["cctldEmergencyTelephoneNumber", "telephoneNumber", "mobile"]
                    .iter()
                    .map(|a| list(p, a))
                    .filter(|s| !s.is_empty())
                    .collect();
            let fresh = super::freshness_text(p, at);
            if !fresh.is_empty() {
                phones.push(format!("<span class=\"fresh\">{}</span>", esc(&fresh)));
            }
            let role = [first(p, "title"), all(p, "cctldContactRole").join(", ")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(|s| esc(&s))
                .collect::<Vec<_>>()
                .join("<br>");
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}<br>{}</td><td class=\"tel\">{}</td><td>{}</td><td>{}<br>{}</td><td>{}</td><td class=\"fp\">{}</td></tr>\n",
                esc(&first(p, "cctldContactPriority")),
                esc(&name_of(p)),
                role,
                phones.join("<br>"),
                list(p, "mail"),
                list(p, "cctldLanguage"),
                h,
                all(p, "cctldSubstitute").iter().map(|d| esc(&r.name_for(d))).collect::<Vec<_>>().join("<br>"),
                all(p, "cctldOpenPGPFingerprint").iter().map(|f| esc(&fingerprint_text(f))).collect::<Vec<_>>().join("<br>"),
            ));
        }
        o.push_str("</table>\n");
    }
    o.push_str("</section>\n");
}

/// The page of one region.
pub(crate) fn page(r: &Roster, region: &str, at: OffsetDateTime) -> String {
    let title = if region == super::NO_REGION {
        "ccTLDs without a regional organisation".to_string()
    } else {
        format!("{region} ccTLDs")
    };
    let regs: Vec<&Registry> = r
        .registries
        .iter()
        .filter(|g| g.regions.iter().any(|x| x.eq_ignore_ascii_case(region)))
        .collect();
    let mut o = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Incident-response roster: {t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Incident-response roster: {t}</h1>\n\
         <p class=\"made\">Made {made} from the ccdir directory; {n} ccTLDs. Business hours are \
         shown in local time and in UTC (offsets as of that date). Confidential: for the \
         members of the ccTLD incident-response community.</p>\n",
        t = esc(&title),
        made = day_time(at),
        n = regs.len()
    );
    for g in regs {
        registry(&mut o, r, g, at);
    }
    o.push_str(&format!(
        "<p class=\"made\">Made {} &mdash; end of roster.</p>\n</body>\n</html>\n",
        day_time(at)
    ));
    o
}

/// The file name of a region's page.
pub(crate) fn file_name(region: &str) -> String {
    let clean: String = region
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("roster-{clean}.html")
}

/// Every region's page, and an index linking them: (file name, HTML).
pub fn pages(r: &Roster, at: OffsetDateTime) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut index = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Incident-response roster</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Incident-response roster</h1>\n<p class=\"made\">Made {}.</p>\n<ul>\n",
        day_time(at)
    );
    for region in r.regions() {
        let f = file_name(&region);
        index.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>\n",
            esc(&f),
            esc(&region)
        ));
        out.push((f, page(r, &region, at)));
    }
    index.push_str("</ul>\n</body>\n</html>\n");
    out.push(("index.html".into(), index));
    out
}
