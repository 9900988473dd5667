//! The audit log: one JSON object per line for every bind result, write and password change
//! (time, connection, peer, bound DN, operation, target DN, changed attribute names, result
//! code). Never a password or a hash: records carry attribute names, not values.

use std::io::Write;
use std::sync::Mutex;

/// Where audit lines go.
pub(crate) struct Audit {
    out: Option<Mutex<Box<dyn Write + Send>>>,
}

/// One audited event.
pub(crate) struct Event<'a> {
    pub(crate) conn: u64,
    pub(crate) peer: String,
    pub(crate) bound: &'a str,
    pub(crate) op: &'a str,
    pub(crate) target: &'a str,
    pub(crate) attrs: &'a [String],
    pub(crate) code: u32,
}

impl Audit {
    /// `none`, `stdout`, or a file path (appended to).
    pub(crate) fn open(spec: &str) -> Result<Audit, String> {
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

    pub(crate) fn enabled(&self) -> bool {
        self.out.is_some()
    }

    pub(crate) fn record(&self, time: &str, ev: &Event<'_>) {
        if self.out.is_none() {
            return;
        }
        let mut bytes = Vec::new();
        append(&mut bytes, time, ev);
        self.write(&bytes);
    }

    /// Write lines made by [`append`] at once (the read log writes a search's lines together).
    pub(crate) fn write(&self, bytes: &[u8]) {
        let Some(out) = &self.out else { return };
        if bytes.is_empty() {
            return;
        }
        if let Ok(mut w) = out.lock() {
            if w.write_all(bytes).and_then(|_| w.flush()).is_err() {
                tracing::error!("cannot write the audit log");
            }
        }
    }
}

/// One event as a JSON line, appended to `buf`.
pub(crate) fn append(buf: &mut Vec<u8>, time: &str, ev: &Event<'_>) {
    let line = Line {
        time,
        conn: ev.conn,
        peer: &ev.peer,
        bound: ev.bound,
        op: ev.op,
        target: ev.target,
        attrs: ev.attrs,
        result: ev.code,
    };
    let start = buf.len();
    match serde_json::to_writer(&mut *buf, &line) {
        Ok(()) => buf.push(b'\n'),
        Err(e) => {
            buf.truncate(start);
            tracing::error!("cannot write the audit log: {e}");
        }
    }
}

/// One audit line, in this key order.
#[derive(serde::Serialize)]
struct Line<'a> {
    time: &'a str,
    conn: u64,
    peer: &'a str,
    bound: &'a str,
    op: &'a str,
    target: &'a str,
    attrs: &'a [String],
    result: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_json_object_per_line() {
        let buf = Buf::default();
        let audit = Audit {
            out: Some(Mutex::new(Box::new(buf.clone()))),
        };
        let attrs = vec!["cn".to_string(), "a\"b".to_string()];
        let ev = Event {
            conn: 7,
            peer: "127.0.0.1:50312".into(),
            bound: "cn=admin,dc=x",
            op: "modify",
            target: "cn=a\\, b\nc\u{1},dc=x",
            attrs: &attrs,
            code: 0,
        };
        audit.record("20261123140212Z", &ev);
        audit.record("20261123140213Z", &ev);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            lines[0],
            "{\"time\":\"20261123140212Z\",\"conn\":7,\"peer\":\"127.0.0.1:50312\",\
             \"bound\":\"cn=admin,dc=x\",\"op\":\"modify\",\
             \"target\":\"cn=a\\\\, b\\nc\\u0001,dc=x\",\
             \"attrs\":[\"cn\",\"a\\\"b\"],\"result\":0}"
        );
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["target"], "cn=a\\, b\nc\u{1},dc=x");
        assert_eq!(v["attrs"][1], "a\"b");
    }
}
