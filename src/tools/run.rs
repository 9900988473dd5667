//! The reading tools as one request — `ccdir report overdue`, `roster`, `export`, `check`,
//! `backup`, `replication status` — run against a [`Directory`]: by the command on a stopped data directory, or by
//! the running server for a bound client (the live-tool extended operation, ops/extended.rs),
//! so that the same code gives the same output either way and access control decides what a
//! person gets (docs/operations.md, "Reports and backups from the running server").

use crate::service::Directory;
use serde::{Deserialize, Serialize};

/// What to run. Sent as JSON in the extended operation's request value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "tool", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ToolRequest {
    ReportOverdue {
        at: Option<String>,
        within: Option<u32>,
        format: String,
    },
    Roster {
        format: String,
        region: Option<String>,
        at: Option<String>,
    },
    Export {
        base: Option<String>,
        operational: bool,
    },
    Check {
        format: String,
    },
    /// A consistent copy of everything, operational attributes included, read from one
    /// snapshot, with the changelog position it was taken at.
    Backup {},
    /// `ccdir replication status`: the stored state, and from the running server what it is
    /// doing (tools/replstatus.rs).
    ReplicationStatus {},
}

impl ToolRequest {
    /// Tools that read every entry whatever access control says: only for the directory's
    /// administrators when run for a client.
    pub fn needs_admin(&self) -> bool {
        matches!(
            self,
            ToolRequest::Export { .. } | ToolRequest::Check { .. } | ToolRequest::Backup {}
        )
    }

    /// Tools that show what cn=Monitor shows: for those who may read cn=Monitor when run for
    /// a client.
    pub fn needs_monitor(&self) -> bool {
        matches!(self, ToolRequest::ReplicationStatus {})
    }
}

/// What a tool produced.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolOutput {
    /// The output (for standard output or the `-o` file).
    pub text: String,
    /// Named files instead (the HTML roster: one page per region, and an index).
    pub files: Vec<(String, String)>,
    /// How many entries an export or backup wrote.
    pub entries: Option<u64>,
    /// `ccdir check`: how many problems were found (the command then exits with status 1).
    pub problems: Option<usize>,
}

/// A Generalized Time argument, or now.
pub fn parse_time(t: Option<&str>) -> Result<time::OffsetDateTime, String> {
    match t {
        None => Ok(time::OffsetDateTime::now_utc()),
        Some(s) => crate::freshness::parse_gtime(s.as_bytes())
            .ok_or_else(|| format!("{s}: not a Generalized Time (e.g. 20261123000000Z)")),
    }
}

/// Run `req` as the identity `as_dn` would see the directory (None: everything).
pub fn run(dir: &Directory, req: &ToolRequest, as_dn: Option<&str>) -> Result<ToolOutput, String> {
    let mut out = ToolOutput::default();
    match req {
        ToolRequest::ReportOverdue { at, within, format } => {
            let at = parse_time(at.as_deref())?;
            let entries = super::offline::entries(dir, None, as_dn)?;
            let within = within.unwrap_or(dir.config.freshness.warn_days);
            let r = super::report::build(&entries, at, within);
            out.text = match format.as_str() {
                "text" => super::report::text(&r),
                "json" => super::report::json(&r)?,
                "csv" => super::report::csv(&r),
                f => return Err(format!("--format {f}: expected text, json or csv")),
            };
        }
        ToolRequest::Roster { format, region, at } => {
            let at = parse_time(at.as_deref())?;
            let entries = super::offline::entries(dir, None, as_dn)?;
            let roster = super::roster::Roster::build(&entries, region.as_deref());
            match format.as_str() {
                "vcard" => out.text = super::roster::vcard::all(&roster, at),
                "csv" => out.text = super::roster::csv::all(&roster, at),
                "html" => out.files = super::roster::html::pages(&roster, at),
                f => return Err(format!("--format {f}: expected vcard, csv or html")),
            }
        }
        ToolRequest::Export { base, operational } => {
            let mut buf: Vec<u8> = Vec::new();
            let n = super::import::export(dir, &mut buf, base.as_deref(), *operational)?;
            out.text = String::from_utf8(buf).map_err(|_| "export is not UTF-8".to_string())?;
            out.entries = Some(n);
        }
        ToolRequest::Check { format } => {
            let entries = super::offline::entries(dir, None, None)?;
            let problems = super::check::check(dir, &entries)?;
            out.text = match format.as_str() {
                "text" => super::check::text(&problems),
                "json" => super::check::json(&problems)?,
                f => return Err(format!("--format {f}: expected text or json")),
            };
            out.problems = Some(problems.len());
        }
        ToolRequest::Backup {} => {
            let (mut buf, n) = super::import::backup(dir)?;
            out.text = String::from_utf8(std::mem::take(&mut buf))
                .map_err(|_| "backup is not UTF-8".to_string())?;
            out.entries = Some(n);
        }
        ToolRequest::ReplicationStatus {} => out.text = super::replstatus::stored(dir)?,
    }
    Ok(out)
}

/// Run `req` in the running server: as [`run`], except that `replication status` adds what
/// the server is doing to what the data directory holds.
pub fn run_live(
    dir: &Directory,
    req: &ToolRequest,
    as_dn: Option<&str>,
) -> Result<ToolOutput, String> {
    match req {
        ToolRequest::ReplicationStatus {} => Ok(ToolOutput {
            text: super::replstatus::live(dir)?,
            ..ToolOutput::default()
        }),
        _ => run(dir, req, as_dn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_json_with_the_tool_named() {
        let r = ToolRequest::ReportOverdue {
            at: None,
            within: Some(7),
            format: "csv".into(),
        };
        let j = serde_json::to_string(&r).unwrap();
        assert!(j.contains(r#""tool":"report-overdue""#), "{j}");
        assert_eq!(serde_json::from_str::<ToolRequest>(&j).unwrap(), r);
        assert!(serde_json::from_str::<ToolRequest>(r#"{"tool":"rm-rf"}"#).is_err());
        assert!(serde_json::from_str::<ToolRequest>(r#"{"tool":"backup","x":1}"#).is_err());
        assert!(ToolRequest::Backup {}.needs_admin());
        assert!(!r.needs_admin());
    }
}
