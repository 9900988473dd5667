//! Bounces of the e-mail challenges (docs/portal.md, "Bounces"). `ccdir bounce`, run by the
//! mail server for each message to the challenges' sender (a Postfix `pipe` transport) or by
//! hand with a saved bounce, reads a delivery status notification (RFC 3464: a
//! multipart/report with a message/delivery-status part), finds the challenge it is about by
//! the returned message's `Message-ID` ([`message_id`]), and leaves the failed recipients in the
//! data directory's spool (`bounces/`). The writer's challenge check (portal/challenges.rs)
//! takes them from there: a bounce of an open challenge to the same address records a failed
//! check by e-mail, anything else is logged and dropped.
//!
//! The spool, not a write from here: the command needs no credentials and no running server
//! (the server picks the bounce up at its next check, or at start), and the store keeps its
//! one writer. A spool file is written to a temporary name, synced and renamed, so the server
//! never reads half of one.
//!
//! Parsing the MIME structure is mail-parser's; the report's fields (RFC 3464 2.2-2.3: header
//! blocks separated by empty lines) are read here, as no maintained crate reads them.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The spool directory, in the data directory.
pub const SPOOL_DIR: &str = "bounces";
/// The most of a bounce that is read (the report comes before the returned message).
pub const MAX_INPUT: u64 = 4 << 20;
/// The most failed recipients kept from one report (a challenge has one).
const MAX_RECIPIENTS: usize = 16;
/// The most of a diagnostic kept (it goes into the verification note).
const MAX_DIAGNOSTIC: usize = 300;
/// The most spool files one check takes; the rest wait for the next.
pub const MAX_PER_CHECK: usize = 1000;
/// The most bounces the spool holds: beyond, `ccdir bounce` refuses for now (the mail server
/// keeps them and tries again), so a flood of forged reports cannot fill the disk.
pub const MAX_SPOOLED: usize = 10_000;

/// The Message-ID of the challenge mail with this id: `<challenge.ID@DOMAIN>`, DOMAIN being
/// the sender's (`reminders.from`).
pub fn message_id(challenge: &str, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>'))
        .filter(|d| !d.is_empty())
        .unwrap_or("localhost");
    format!("<challenge.{challenge}@{domain}>")
}

/// The challenge id in a Message-ID (with or without its angle brackets), if it is one of
/// [`message_id`]'s.
fn challenge_of(message_id: &str) -> Option<String> {
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let (local, _) = id.split_once('@')?;
    let hex = local.strip_prefix("challenge.")?;
    (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// One recipient the report says failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failed {
    /// The address (`Final-Recipient`, else `Original-Recipient`).
    pub address: String,
    /// The status code (`Status`, e.g. 5.1.1).
    pub status: String,
    /// What the remote server said (`Diagnostic-Code`), shortened.
    pub diagnostic: String,
}

/// A bounce of a challenge, as spooled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounce {
    /// The challenge's id (portal/challenges.rs `link_id`).
    pub challenge: String,
    pub failed: Vec<Failed>,
}

/// Why a message leads to nothing recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Not a delivery status notification (an auto-reply, spam).
    NotAReport(String),
    /// A report with no failed recipient (delayed, delivered, relayed).
    NoFailure,
    /// A report about another message than a challenge (or without the returned headers).
    NotAChallenge,
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::NotAReport(why) => {
                write!(f, "not a delivery status notification ({why})")
            }
            Ignored::NoFailure => f.write_str(
                "the report names no failed recipient (a delay is retried by the mail server)",
            ),
            Ignored::NotAChallenge => f.write_str(
                "the report is not about an e-mail challenge (no challenge Message-ID in the \
                 returned message)",
            ),
        }
    }
}

/// Read a bounce: the failed recipients of the challenge it returns.
pub fn parse(raw: &[u8]) -> Result<Bounce, Ignored> {
    // A delivery that starts with an mbox `From ` line (a pipe with flags=F, procmail).
    let raw = match raw.strip_prefix(b"From ") {
        Some(rest) => rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&[][..], |i| &rest[i + 1..]),
        None => raw,
    };
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| Ignored::NotAReport("no message headers".into()))?;
    let report = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    if !report {
        return Err(Ignored::NotAReport("not multipart/report".into()));
    }
    let mut status_part = None;
    let mut original = None;
    for part in &msg.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let sub = ct.subtype().unwrap_or("").to_ascii_lowercase();
        match (ct.ctype().to_ascii_lowercase().as_str(), sub.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") if status_part.is_none() => {
                status_part = Some(String::from_utf8_lossy(part.contents()).into_owned());
            }
            ("message", "rfc822" | "global") if original.is_none() => {
                if let PartType::Message(m) = &part.body {
                    original = m.message_id().map(str::to_string);
                }
            }
            ("text", "rfc822-headers") if original.is_none() => {
                original = MessageParser::default()
                    .parse_headers(part.contents())
                    .and_then(|m| m.message_id().map(str::to_string));
            }
            _ => {}
        }
    }
    let status =
        status_part.ok_or_else(|| Ignored::NotAReport("no message/delivery-status part".into()))?;
    let failed = failed_recipients(&status);
    if failed.is_empty() {
        return Err(Ignored::NoFailure);
    }
    let challenge = original
        .as_deref()
        .and_then(challenge_of)
        .ok_or(Ignored::NotAChallenge)?;
    Ok(Bounce { challenge, failed })
}

/// The report's blocks of fields (RFC 3464 2.1: the per-message fields, then one block per
/// recipient, separated by empty lines), with folded lines joined.
fn blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            cur.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The address of an `address-type; address` field (RFC 3464 2.3.1-2.3.2), if it looks like
/// one.
fn address(field: &str) -> Option<String> {
    let (kind, addr) = field.split_once(';')?;
    let kind = kind.trim().to_ascii_lowercase();
    if kind != "rfc822" && kind != "utf-8" {
        return None;
    }
    let a = addr
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (a.len() <= 254 && a.contains('@') && !a.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| a.to_string())
}

/// Shortened, on one line, without control characters.
fn clean(text: &str, max: usize) -> String {
    let one: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

/// The recipients whose `Action` is `failed`.
fn failed_recipients(status: &str) -> Vec<Failed> {
    let mut out = Vec::new();
    for block in blocks(status) {
        let get = |name: &str| {
            block
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        if !get("action").is_some_and(|a| a.eq_ignore_ascii_case("failed")) {
            continue;
        }
        let Some(addr) = get("final-recipient")
            .and_then(address)
            .or_else(|| get("original-recipient").and_then(address))
        else {
            continue;
        };
        let status = get("status")
            .map(|s| clean(s, 16))
            .unwrap_or_else(|| "5.0.0".into());
        let diagnostic = get("diagnostic-code")
            .map(|d| clean(d.split_once(';').map_or(d, |(_, t)| t), MAX_DIAGNOSTIC))
            .unwrap_or_default();
        out.push(Failed {
            address: addr,
            status,
            diagnostic,
        });
        if out.len() == MAX_RECIPIENTS {
            break;
        }
    }
    out
}

/// Leave `b` in the data directory's spool for the writer's next challenge check; the file's
/// path.
pub fn spool(data_dir: &Path, b: &Bounce) -> Result<PathBuf, String> {
    if !data_dir.is_dir() {
        return Err(format!(
            "the data directory {} does not exist (is --config or --data-dir the server's?)",
            data_dir.display()
        ));
    }
    let dir = data_dir.join(SPOOL_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    same_owner(data_dir, &dir)?;
    let held = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .take(MAX_SPOOLED)
        .count();
    if held >= MAX_SPOOLED {
        return Err(format!(
            "the bounce spool {} holds {MAX_SPOOLED} bounces already (is the writer taking \
             them? portal.challenges and reminders.enabled must be on)",
            dir.display()
        ));
    }
    let json = serde_json::to_vec(b).map_err(|e| e.to_string())?;
    let name = format!(
        "{}-{}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let tmp = dir.join(format!(".{name}.tmp"));
    let fin = dir.join(format!("{name}.json"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        same_owner(data_dir, &tmp).map_err(std::io::Error::other)?;
        std::fs::rename(&tmp, &fin)?;
        std::fs::File::open(&dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the bounce to {}: {e}", dir.display())
    })?;
    Ok(fin)
}

/// Give `path` the data directory's owner, so that the server (running as that user) may take
/// what root left (`ccdir bounce` run by hand as root). Nothing to do when it has it already.
fn same_owner(data_dir: &Path, path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let want = std::fs::metadata(data_dir)
        .map_err(|e| format!("cannot read {}: {e}", data_dir.display()))?;
    let has =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if has.uid() == want.uid() {
        return Ok(());
    }
    std::os::unix::fs::chown(path, Some(want.uid()), Some(want.gid())).map_err(|e| {
        format!(
            "{} is not owned by the data directory's owner and cannot be given to it: {e}",
            path.display()
        )
    })
}

/// A spooled bounce, as the server finds it.
pub struct Spooled {
    pub path: PathBuf,
    /// The bounce, or why the file cannot be read.
    pub bounce: Result<Bounce, String>,
}

/// The spooled bounces, oldest first, at most [`MAX_PER_CHECK`]. No spool: none.
pub fn pending(data_dir: &Path) -> Result<Vec<Spooled>, String> {
    let dir = data_dir.join(SPOOL_DIR);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.truncate(MAX_PER_CHECK);
    Ok(paths
        .into_iter()
        .map(|path| {
            let bounce = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            Spooled { path, bounce }
        })
        .collect())
}

/// A spooled bounce is dealt with: remove it.
pub fn done(path: &Path) -> Result<(), String> {
    std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
}

/// A spool file that cannot be read: renamed `.bad` (kept for the operator, not read again).
pub fn set_aside(path: &Path) -> Result<(), String> {
    let bad = path.with_extension("bad");
    std::fs::rename(path, &bad).map_err(|e| format!("cannot rename {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bounce as Postfix's bounce(8) writes it (headers only returned).
    fn postfix_dsn(action: &str, message_id: &str) -> String {
        format!(
            "From: MAILER-DAEMON@localhost (Mail Delivery System)\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             To: ccdir@cctld-ir.example\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status;\r\n\
             \tboundary=\"B1\"\r\n\
             \r\n\
             This is a MIME-encapsulated message.\r\n\
             \r\n\
             --B1\r\n\
             Content-Description: Notification\r\n\
             Content-Type: text/plain; charset=us-ascii\r\n\
             \r\n\
             I'm sorry to have to inform you that your message could not be delivered.\r\n\
             \r\n\
             --B1\r\n\
             Content-Description: Delivery report\r\n\
             Content-Type: message/delivery-status\r\n\
             \r\n\
             Reporting-MTA: dns; localhost\r\n\
             X-Postfix-Queue-ID: 4F1A2B3C\r\n\
             Arrival-Date: Sat,  5 Dec 2026 15:00:00 +0000 (UTC)\r\n\
             \r\n\
             Final-Recipient: rfc822; Gone@nic-br.example\r\n\
             Original-Recipient: rfc822;gone@nic-br.example\r\n\
             Action: {action}\r\n\
             Status: 5.1.1\r\n\
             Remote-MTA: dns; sink.test\r\n\
             Diagnostic-Code: smtp; 550 5.1.1 <gone@nic-br.example>: no such\r\n\
             \x20   user here\r\n\
             \r\n\
             --B1\r\n\
             Content-Description: Undelivered Message Headers\r\n\
             Content-Type: text/rfc822-headers\r\n\
             \r\n\
             From: ccdir@cctld-ir.example\r\n\
             To: gone@nic-br.example\r\n\
             Subject: [ccdir] .br: please confirm this address\r\n\
             Message-ID: {message_id}\r\n\
             \r\n\
             --B1--\r\n"
        )
    }

    #[test]
    fn a_challenge_message_id_round_trips() {
        let id = message_id("00ff12ab34cd56ef", "ccdir <ccdir@cctld-ir.example>");
        assert_eq!(id, "<challenge.00ff12ab34cd56ef@cctld-ir.example>");
        assert_eq!(challenge_of(&id).as_deref(), Some("00ff12ab34cd56ef"));
        for other in [
            "<4F1A@localhost>",
            "<challenge.xyz@a>",
            "<challenge.00ff12ab34cd56ef00@a>",
            "",
        ] {
            assert_eq!(challenge_of(other), None, "{other}");
        }
    }

    #[test]
    fn a_postfix_bounce_of_a_challenge() {
        let raw = postfix_dsn("failed", "<challenge.00ff12ab34cd56ef@cctld-ir.example>");
        let b = parse(raw.as_bytes()).unwrap();
        assert_eq!(b.challenge, "00ff12ab34cd56ef");
        assert_eq!(
            b.failed,
            vec![Failed {
                address: "Gone@nic-br.example".into(),
                status: "5.1.1".into(),
                diagnostic: "550 5.1.1 <gone@nic-br.example>: no such user here".into(),
            }]
        );
    }

    #[test]
    fn an_mbox_from_line_before_the_headers_is_skipped() {
        let raw = format!(
            "From MAILER-DAEMON Sat Dec  5 15:00:00 2026\r\n{}",
            postfix_dsn("failed", "<challenge.00ff12ab34cd56ef@cctld-ir.example>")
        );
        assert_eq!(parse(raw.as_bytes()).unwrap().challenge, "00ff12ab34cd56ef");
    }

    #[test]
    fn no_spool_outside_a_data_directory() {
        let d = tempfile::tempdir().unwrap();
        let b = Bounce {
            challenge: "00ff12ab34cd56ef".into(),
            failed: vec![],
        };
        let err = spool(&d.path().join("nowhere"), &b).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        assert!(!d.path().join("nowhere").exists());
    }

    #[test]
    fn a_full_spool_refuses_more() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join(SPOOL_DIR);
        std::fs::create_dir(&dir).unwrap();
        for i in 0..MAX_SPOOLED {
            std::fs::write(dir.join(format!("{i}.json")), b"{}").unwrap();
        }
        let b = Bounce {
            challenge: "00ff12ab34cd56ef".into(),
            failed: vec![],
        };
        let err = spool(d.path(), &b).unwrap_err();
        assert!(err.contains("holds 10000 bounces already"), "{err}");
        std::fs::remove_file(dir.join("0.json")).unwrap();
        spool(d.path(), &b).unwrap();
    }

    #[test]
    fn the_returned_message_in_full_names_the_challenge_too() {
        let raw = postfix_dsn("failed", "<x>")
            .replace(
                "Content-Type: text/rfc822-headers",
                "Content-Type: message/rfc822",
            )
            .replace(
                "Message-ID: <x>\r\n\r\n",
                "Message-ID: <challenge.00ff12ab34cd56ef@a.example>\r\n\r\nThe body.\r\n\r\n",
            );
        assert_eq!(parse(raw.as_bytes()).unwrap().challenge, "00ff12ab34cd56ef");
    }

    #[test]
    fn what_is_not_a_challenge_bounce_is_ignored_with_the_reason() {
        let delayed = postfix_dsn("delayed", "<challenge.00ff12ab34cd56ef@cctld-ir.example>");
        assert_eq!(parse(delayed.as_bytes()), Err(Ignored::NoFailure));
        let other = postfix_dsn("failed", "<20261205.abc@cctld-ir.example>");
        assert_eq!(parse(other.as_bytes()), Err(Ignored::NotAChallenge));
        let reply = "From: a@b.example\r\nSubject: Out of office\r\n\r\nAway.\r\n";
        assert!(matches!(
            parse(reply.as_bytes()),
            Err(Ignored::NotAReport(_))
        ));
        assert!(matches!(parse(b""), Err(Ignored::NotAReport(_))));
        assert!(matches!(
            parse(&[0xff, 0xfe, 0, 1, 2]),
            Err(Ignored::NotAReport(_))
        ));
    }

    #[test]
    fn hostile_fields_are_bounded() {
        let long = "x".repeat(5000);
        let raw = postfix_dsn("failed", "<challenge.00ff12ab34cd56ef@cctld-ir.example>")
            .replace("no such\r\n", &format!("no such {long}\u{7}\r\n"));
        let b = parse(raw.as_bytes()).unwrap();
        assert!(b.failed[0].diagnostic.chars().count() <= MAX_DIAGNOSTIC + 1);
        assert!(!b.failed[0].diagnostic.contains('\u{7}'));
        let many: String = (0..100)
            .map(|i| format!("\r\nFinal-Recipient: rfc822; a{i}@b.example\r\nAction: failed\r\n"))
            .collect();
        let raw = postfix_dsn("failed", "<challenge.00ff12ab34cd56ef@cctld-ir.example>").replace(
            "\r\n--B1\r\nContent-Description: Undelivered",
            &format!("{many}\r\n--B1\r\nContent-Description: Undelivered"),
        );
        assert_eq!(parse(raw.as_bytes()).unwrap().failed.len(), MAX_RECIPIENTS);
        // Not an address: skipped.
        assert_eq!(address("rfc822; not an address"), None);
        assert_eq!(address("x400; a@b"), None);
    }

    #[test]
    fn the_spool_keeps_what_was_written_until_it_is_done() {
        let d = tempfile::tempdir().unwrap();
        assert!(pending(d.path()).unwrap().is_empty());
        let b = Bounce {
            challenge: "00ff12ab34cd56ef".into(),
            failed: vec![Failed {
                address: "gone@nic-br.example".into(),
                status: "5.1.1".into(),
                diagnostic: "no such user".into(),
            }],
        };
        let p = spool(d.path(), &b).unwrap();
        std::fs::write(d.path().join(SPOOL_DIR).join("0-junk.json"), b"{").unwrap();
        let got = pending(d.path()).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got[0].bounce.is_err());
        set_aside(&got[0].path).unwrap();
        assert_eq!(got[1].path, p);
        assert_eq!(got[1].bounce.as_ref().unwrap(), &b);
        done(&p).unwrap();
        assert!(pending(d.path()).unwrap().is_empty());
    }
}
