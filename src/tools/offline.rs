//! Reading the directory offline (server stopped, or from a copy of the data dir) for reports
//! and the roster: every entry below a base, or only what a given identity may read, judged by
//! the configured access rules exactly as a search by that identity would be.

use crate::acl::rules::Level;
use crate::acl::Identity;
use crate::core::entry::Entry;
use crate::service::Directory;
use crate::store::{StoreError, View};

/// The entries below `base` (the suffix when None) in DN order. With `as_dn`, only entries that
/// identity may search, and of them only the attributes it may read.
pub fn entries(
    dir: &Directory,
    base: Option<&str>,
    as_dn: Option<&str>,
) -> Result<Vec<Entry>, String> {
    let base = match base {
        Some(b) => dir.parse_dn(b).map_err(|e| e.message)?,
        None => dir.suffix.clone(),
    };
    let who = match as_dn {
        None => None,
        Some("") => Some(Identity::Anonymous),
        Some(d) => Some(Identity::User(
            dir.parse_dn(d)
                .map_err(|e| format!("--as {d}: {}", e.message))?,
        )),
    };
    let snap = dir.store.read().map_err(|e| e.to_string())?;
    if snap.id_of(&base).map_err(|e| e.to_string())?.is_none() {
        return Err(format!("no such entry: {}", base.display()));
    }
    let acl = who
        .as_ref()
        .map(|w| dir.policy.checker(w, &snap, &dir.schema));
    let mut out = Vec::new();
    snap.scan_prefix::<StoreError>(&base.store_key(), None, &mut |key, id| {
        let Some(mut e) = snap.entry(id)? else {
            return Ok(true);
        };
        if let Some(acl) = &acl {
            let level = acl.level(key, Some(&e), None);
            if level < Level::Search {
                return Ok(true);
            }
            let keep: Vec<bool> = e
                .attrs
                .iter()
                .map(|a| acl.attr_level(key, Some(&e), a.base_name(), level) >= Level::Read)
                .collect();
            let mut it = keep.into_iter();
            e.attrs.retain(|_| it.next().unwrap_or(false));
        }
        out.push(e);
        Ok(true)
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The first value of an attribute as text.
pub(crate) fn first(e: &Entry, a: &str) -> String {
    e.first_str(a).unwrap_or_default().to_string()
}

/// Every value of an attribute as text (lossy UTF-8).
pub(crate) fn all(e: &Entry, a: &str) -> Vec<String> {
    e.get(a)
        .map(|x| {
            x.values
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One CSV line (CRLF-terminated, as RFC 4180 has it).
pub(crate) fn csv_line(fields: &[String]) -> String {
    let mut l = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    l.push_str("\r\n");
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_escaping() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_line(&["a".into(), "b c".into()]), "a,b c\r\n");
    }
}
