//! `ccdir check`: what the directory holds that breaks a rule, with the rules the write
//! pipeline applies to new writes: values that fail a content check (stored before the check
//! existed, or by an older version), references that name nothing (kept by an import because
//! entries below them were loaded, or written before the rule existed), and registries without a complete 24/7 contact point.
//! Nothing is changed; the report says what to fix.

use crate::core::entry::Entry;
use crate::service::Directory;
use crate::write::content::ContentRules;
use crate::write::references;
use serde::Serialize;

/// One thing that breaks a rule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The entry (a registry for the completeness rules).
    pub dn: String,
    /// `value`, `reference`, `contact-point-247` or `offline-channel`.
    pub rule: &'static str,
    pub message: String,
}

/// Every problem in `entries` (as `tools::offline::entries` reads them), registries first:
/// the completeness rules, values that fail a content check, references that do not resolve.
pub fn check(dir: &Directory, entries: &[Entry]) -> Result<Vec<Problem>, String> {
    let mut out = completeness(dir, entries);
    let rules = ContentRules::new(&dir.config.checks);
    let snap = dir.store.read().map_err(|e| e.to_string())?;
    for e in entries {
        for message in rules.failures(e) {
            out.push(Problem {
                dn: e.dn.clone(),
                rule: "value",
                message,
            });
        }
        if references::has_references(e) {
            for message in references::dangling(dir, &snap, e).map_err(|e| e.to_string())? {
                out.push(Problem {
                    dn: e.dn.clone(),
                    rule: "reference",
                    message,
                });
            }
        }
    }
    Ok(out)
}

/// Per registry: a contact available 24/7 with an emergency number, and a channel that does
/// not use the internet (a telephone, mobile or fax number).
fn completeness(dir: &Directory, entries: &[Entry]) -> Vec<Problem> {
    let regs = crate::write::completeness::by_registry(entries, |t| dir.parse_dn(t).ok());
    let mut out = Vec::new();
    for (dn, reg, tally) in regs {
        let tld = reg.first_str("associatedDomain").unwrap_or("?");
        for (rule, message) in tally.problems(tld) {
            out.push(Problem {
                dn: dn.display().to_string(),
                rule,
                message,
            });
        }
    }
    out
}

/// One line per problem, then a summary.
pub fn text(problems: &[Problem]) -> String {
    let mut s = String::new();
    for p in problems {
        s.push_str(&format!("{}\n    {}\n", p.dn, p.message));
    }
    let count = |rule: &str| problems.iter().filter(|p| p.rule == rule).count();
    let (values, refs) = (count("value"), count("reference"));
    let regs = problems.len() - values - refs;
    s.push_str(&format!(
        "{} problems: {regs} registry rules broken, {values} values that fail a check, \
         {refs} references that do not resolve\n",
        problems.len()
    ));
    s
}

pub fn json(problems: &[Problem]) -> Result<String, String> {
    serde_json::to_string_pretty(problems).map_err(|e| format!("writing JSON: {e}"))
}
