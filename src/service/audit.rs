//! The audit log: one JSON object per line for every bind result, write and password change
//! (time, connection, peer, bound DN, operation, target DN, changed attribute names, result
//! code). Never a password or a hash: records carry attribute names, not values.

use std::io::Write;
use std::sync::Mutex;

/// Where audit lines go.
pub struct Audit {
    out: Option<Mutex<Box<dyn Write + Send>>>,
}

/// One audited event.
pub struct Event<'a> {
    pub conn: u64,
    pub peer: String,
    pub bound: &'a str,
    pub op: &'a str,
    pub target: &'a str,
    pub attrs: &'a [String],
    pub code: u32,
}

impl Audit {
    /// `none`, `stdout`, or a file path (appended to).
    pub fn open(spec: &str) -> Result<Audit, String> {
        let out: Option<Box<dyn Write + Send>> = match spec {
            "" | "none" => None,
            "stdout" => Some(Box::new(std::io::stdout())),
            path => Some(Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("audit log {path}: {e}"))?,
            )),
        };
        Ok(Audit {
            out: out.map(Mutex::new),
        })
    }

    pub fn enabled(&self) -> bool {
        self.out.is_some()
    }

    pub fn record(&self, time: &str, ev: &Event<'_>) {
        let Some(out) = &self.out else { return };
        let attrs = ev
            .attrs
            .iter()
            .map(|a| json_str(a))
            .collect::<Vec<_>>()
            .join(",");
        let line = format!(
            "{{\"time\":{},\"conn\":{},\"peer\":{},\"bound\":{},\"op\":{},\"target\":{},\"attrs\":[{attrs}],\"result\":{}}}\n",
            json_str(time),
            ev.conn,
            json_str(&ev.peer),
            json_str(ev.bound),
            json_str(ev.op),
            json_str(ev.target),
            ev.code
        );
        if let Ok(mut w) = out.lock() {
            if w.write_all(line.as_bytes())
                .and_then(|_| w.flush())
                .is_err()
            {
                tracing::error!("cannot write the audit log");
            }
        }
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
