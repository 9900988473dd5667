//! LDIF (RFC 2849), written by hand because no maintained crate does it. This part is the writer:
//! lines folded at 76 columns, values that are not SAFE-STRINGs base64-encoded.

use base64::Engine;
use std::io::{self, Write};

const WIDTH: usize = 76;

/// Is `v` a SAFE-STRING (RFC 2849): no NUL, CR, LF; not starting with space, ':' or '<'; ASCII
/// (non-ASCII UTF-8 is base64-encoded, as OpenLDAP does); and not ending with a space.
pub fn is_safe(v: &[u8]) -> bool {
    if let Some(&first) = v.first() {
        if first == b' ' || first == b':' || first == b'<' {
            return false;
        }
    }
    if v.last() == Some(&b' ') {
        return false;
    }
    v.iter()
        .all(|&c| c != 0 && c != b'\n' && c != b'\r' && c < 0x80)
}

/// Write one `name: value` (or `name:: base64`) line, folded.
pub fn write_value(out: &mut impl Write, name: &str, v: &[u8]) -> io::Result<()> {
    let line = if is_safe(v) {
        format!("{name}: {}", String::from_utf8_lossy(v))
    } else {
        format!(
            "{name}:: {}",
            base64::engine::general_purpose::STANDARD.encode(v)
        )
    };
    write_folded(out, &line)
}

fn write_folded(out: &mut impl Write, line: &str) -> io::Result<()> {
    let b = line.as_bytes();
    if b.len() <= WIDTH {
        out.write_all(b)?;
        return out.write_all(b"\n");
    }
    // Fold on character boundaries: the first line holds WIDTH bytes, continuations WIDTH-1.
    let mut start = 0;
    let mut first = true;
    while start < b.len() {
        let room = if first { WIDTH } else { WIDTH - 1 };
        let mut end = (start + room).min(b.len());
        while end < b.len() && !line.is_char_boundary(end) {
            end -= 1;
        }
        if !first {
            out.write_all(b" ")?;
        }
        out.write_all(&b[start..end])?;
        out.write_all(b"\n")?;
        start = end;
        first = false;
    }
    Ok(())
}

/// Write one entry record followed by a blank line.
pub fn write_entry<'a>(
    out: &mut impl Write,
    dn: &str,
    attrs: impl IntoIterator<Item = (&'a str, &'a [Vec<u8>])>,
) -> io::Result<()> {
    write_value(out, "dn", dn.as_bytes())?;
    for (name, values) in attrs {
        for v in values {
            write_value(out, name, v)?;
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_strings_and_base64() {
        let mut out = Vec::new();
        write_value(&mut out, "cn", b"plain").unwrap();
        write_value(&mut out, "cn", " lead".as_bytes()).unwrap();
        write_value(&mut out, "cn", "Jürgen".as_bytes()).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "cn: plain\ncn:: IGxlYWQ=\ncn:: SsO8cmdlbg==\n");
    }

    #[test]
    fn folds_at_76() {
        let mut out = Vec::new();
        let v = "x".repeat(200);
        write_value(&mut out, "description", v.as_bytes()).unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.iter().all(|l| l.len() <= WIDTH));
        assert!(lines[1..].iter().all(|l| l.starts_with(' ')));
        let unfolded: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { *l } else { &l[1..] })
            .collect();
        assert_eq!(unfolded, format!("description: {v}"));
    }
}
