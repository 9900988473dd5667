//! The LDIF writer: lines folded at 76 columns, values that are not SAFE-STRINGs in base64.

use super::read::valid_desc;
use super::*;
use base64::Engine;
use std::io::{self, Write};

pub(super) const WIDTH: usize = 76;

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

/// Write any [`Record`] (content or change record, with its controls) in the style of
/// [`write_entry`], followed by a blank line, so that reading the output back with [`Reader`]
/// gives the same record (apart from `line`, and apart from repeated attribute descriptions,
/// which the reader merges).
///
/// Refuses (`InvalidInput`) what could not be read back as the same record: a content record
/// without values, one whose first attribute is `changetype` or `control` (it would read back as
/// a change record), an attribute named `dn`, and a modify section whose attribute is not a
/// valid attribute description.
pub fn write_record(out: &mut impl Write, r: &Record) -> io::Result<()> {
    match r {
        Record::Content { dn, attrs, .. } => {
            check_attrs(attrs)?;
            match attrs.iter().find(|(_, v)| !v.is_empty()) {
                None => return Err(invalid("content record without values")),
                Some((name, _))
                    if name.eq_ignore_ascii_case("changetype")
                        || name.eq_ignore_ascii_case("control") =>
                {
                    return Err(invalid(
                        "content record whose first attribute is 'changetype' or 'control'",
                    ));
                }
                Some(_) => {}
            }
            write_entry(
                out,
                dn,
                attrs.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
            )
        }
        Record::Change {
            dn,
            controls,
            change,
            ..
        } => {
            write_value(out, "dn", dn.as_bytes())?;
            for c in controls {
                let mut line = format!("control: {}", c.oid);
                if c.critical {
                    line.push_str(" true");
                }
                match &c.value {
                    None => {}
                    Some(v) if v.is_empty() => line.push(':'),
                    Some(v) if is_safe(v) => {
                        line.push_str(": ");
                        line.push_str(&String::from_utf8_lossy(v));
                    }
                    Some(v) => {
                        line.push_str(":: ");
                        line.push_str(&base64::engine::general_purpose::STANDARD.encode(v));
                    }
                }
                write_folded(out, &line)?;
            }
            match change {
                Change::Add(attrs) => {
                    check_attrs(attrs)?;
                    out.write_all(b"changetype: add\n")?;
                    for (name, values) in attrs {
                        for v in values {
                            write_value(out, name, v)?;
                        }
                    }
                }
                Change::Delete => out.write_all(b"changetype: delete\n")?,
                Change::Modify(mods) => {
                    out.write_all(b"changetype: modify\n")?;
                    for m in mods {
                        if !valid_desc(&m.attr) {
                            return Err(invalid("modify section with an invalid attribute"));
                        }
                        write_folded(out, &format!("{}: {}", m.op.keyword(), m.attr))?;
                        for v in &m.values {
                            write_value(out, &m.attr, v)?;
                        }
                        out.write_all(b"-\n")?;
                    }
                }
                Change::ModDn {
                    new_rdn,
                    delete_old_rdn,
                    new_superior,
                } => {
                    out.write_all(b"changetype: modrdn\n")?;
                    write_value(out, "newrdn", new_rdn.as_bytes())?;
                    let d: &[u8] = if *delete_old_rdn {
                        b"deleteoldrdn: 1\n"
                    } else {
                        b"deleteoldrdn: 0\n"
                    };
                    out.write_all(d)?;
                    if let Some(s) = new_superior {
                        write_value(out, "newsuperior", s.as_bytes())?;
                    }
                }
            }
            out.write_all(b"\n")
        }
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

fn check_attrs(attrs: &[(String, Vec<Vec<u8>>)]) -> io::Result<()> {
    for (name, _) in attrs {
        if name.eq_ignore_ascii_case("dn") || !valid_desc(name) {
            return Err(invalid(&format!(
                "cannot write attribute description '{name}'"
            )));
        }
    }
    Ok(())
}
