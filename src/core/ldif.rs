//! LDIF (RFC 2849), written by hand because no maintained crate does it.
//!
//! The writer folds lines at 76 columns and base64-encodes values that are not SAFE-STRINGs
//! ([`write_value`], [`write_entry`], [`write_record`]). The reader ([`Reader`]) streams
//! [`Record`]s (content or change records) from any [`BufRead`], line by line, with memory
//! bounded by [`ReaderOptions::max_record_bytes`].

use base64::Engine;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

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

// ------------------------------------------------------------------------------------------------
// Reader

/// An error found while reading LDIF: the line it is on (for a folded line, its first physical
/// line) and what is wrong. Displayed as `line N: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdifError {
    pub line: usize,
    pub message: String,
}

impl LdifError {
    fn new(line: usize, message: impl Into<String>) -> Self {
        LdifError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for LdifError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LdifError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, LdifError> {
    Err(LdifError::new(line, message))
}

/// One LDIF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A content record: dn, attributes in file order (attribute description as written incl.
    /// options, values as bytes), line where the record starts.
    Content {
        dn: String,
        attrs: Vec<(String, Vec<Vec<u8>>)>,
        line: usize,
    },
    /// A change record.
    Change {
        dn: String,
        controls: Vec<Control>,
        change: Change,
        line: usize,
    },
}

impl Record {
    /// The line of the record's `dn:` line.
    pub fn line(&self) -> usize {
        match self {
            Record::Content { line, .. } | Record::Change { line, .. } => *line,
        }
    }

    /// The record's DN.
    pub fn dn(&self) -> &str {
        match self {
            Record::Content { dn, .. } | Record::Change { dn, .. } => dn,
        }
    }
}

/// A `control:` line of a change record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub oid: String,
    pub critical: bool,
    pub value: Option<Vec<u8>>,
}

/// What a change record does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Attributes merged like a content record's.
    Add(Vec<(String, Vec<Vec<u8>>)>),
    Delete,
    Modify(Vec<Modification>),
    /// `changetype: modrdn` or `changetype: moddn`.
    ModDn {
        new_rdn: String,
        delete_old_rdn: bool,
        new_superior: Option<String>,
    },
}

/// One `add:` / `delete:` / `replace:` / `increment:` section of a modify record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modification {
    pub op: ModOp,
    pub attr: String,
    pub values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModOp {
    Add,
    Delete,
    Replace,
    /// RFC 4525.
    Increment,
}

impl ModOp {
    fn keyword(self) -> &'static str {
        match self {
            ModOp::Add => "add",
            ModOp::Delete => "delete",
            ModOp::Replace => "replace",
            ModOp::Increment => "increment",
        }
    }
}

/// Options of a [`Reader`].
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Directory that relative `file://` URLs are resolved against: `attr:< file:///abs/path`
    /// is absolute, `attr:< file://name` (no third slash) is `name` under `base_dir`. With
    /// `None`, relative URLs are refused. The URL path is %-decoded; other schemes are refused.
    pub base_dir: Option<PathBuf>,
    /// Whether `attr:< file://...` values are allowed at all (default false).
    pub allow_url: bool,
    /// Largest value (after base64 decoding or reading the file), default 16 MiB.
    pub max_value_bytes: usize,
    /// Largest record, default 64 MiB: both its unfolded line bytes (comments excluded) and the
    /// sum of its decoded values (including files read from URLs) must stay within it. This
    /// bounds the reader's memory (to about twice this).
    pub max_record_bytes: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            base_dir: None,
            allow_url: false,
            max_value_bytes: 16 << 20,
            max_record_bytes: 64 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Content,
    Change,
}

/// One logical (unfolded) line and the physical line it starts on.
struct Line {
    no: usize,
    text: Vec<u8>,
}

/// A streaming RFC 2849 LDIF reader: an iterator of records.
///
/// It reads one physical line at a time and keeps at most one record in memory (bounded by
/// [`ReaderOptions::max_record_bytes`]; longer lines are skipped, not stored). It accepts an optional `version: 1` line at the start
/// (another version is an error that ends the iteration), `#` comments (also folded, also
/// inside records), folded lines, LF or CRLF line ends, a UTF-8 byte order mark, one or more
/// empty lines between records, `dn::`, `attr::` (base64), `attr:<` (`file://` URLs, see
/// [`ReaderOptions`]), and change records (`control:`, `changetype: add | delete | modify |
/// modrdn | moddn`). Plain values are taken verbatim (after the spaces following the colon),
/// so UTF-8 and values starting with `:` or `<` after a space are accepted.
///
/// **Errors and recovery.** An error is returned as `Some(Err(LdifError))` with the line number
/// of the offending (logical) line. The reader then has already skipped the rest of the bad
/// record (up to the next empty line), so the caller may keep iterating to find every bad
/// record in a file (an importer's `--continue`). The exceptions are I/O errors and an
/// unsupported `version:`, after which the iterator ends.
///
/// A file mixing content and change records is an error (RFC 2849), reported at every record
/// whose kind differs from the first record's.
pub struct Reader<R: BufRead> {
    input: R,
    opts: ReaderOptions,
    line: usize,
    started: bool,
    kind: Option<(Kind, usize)>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, opts: ReaderOptions) -> Self {
        Reader {
            input,
            opts,
            line: 0,
            started: false,
            kind: None,
            done: false,
        }
    }

    /// The number of the last physical line read (0 before reading).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Read one physical line without its line end: at most `cap` bytes of it are kept; the
    /// second result is its full length. `None` at end of input.
    fn read_physical(&mut self, cap: usize) -> io::Result<Option<(Vec<u8>, usize)>> {
        let mut buf = Vec::new();
        let mut total = 0usize;
        let mut any = false;
        let mut last = 0u8;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (n, found) = match avail.iter().position(|&c| c == b'\n') {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            let chunk = &avail[..n];
            let keep = chunk.len().min(cap.saturating_sub(buf.len()));
            buf.extend_from_slice(&chunk[..keep]);
            if let Some(&c) = chunk.last() {
                last = c;
            }
            total += n;
            self.input.consume(if found { n + 1 } else { n });
            if found {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if last == b'\r' && total > 0 {
            total -= 1;
            buf.truncate(total);
        }
        if self.line == 0 && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
            total -= 3;
        }
        self.line += 1;
        Ok(Some((buf, total)))
    }

    /// Read the logical lines of the next block (up to an empty line or the end of input),
    /// comments removed. `None` at end of input. On an error, the rest of the block is skipped.
    fn read_block(&mut self) -> Option<Result<Vec<Line>, LdifError>> {
        let max = self.opts.max_record_bytes;
        let mut lines: Vec<Line> = Vec::new();
        let mut cur: Option<Line> = None;
        let mut in_comment = false;
        let mut seen = false;
        let mut used = 0usize;
        let mut error: Option<LdifError> = None;
        loop {
            let cap = max.saturating_sub(used).saturating_add(1);
            let (buf, total) = match self.read_physical(cap) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    self.done = true;
                    return Some(err(self.line + 1, format!("read error: {e}")));
                }
            };
            let no = self.line;
            if total == 0 {
                if seen {
                    break;
                }
                continue;
            }
            seen = true;
            if error.is_some() {
                continue;
            }
            if buf.first() == Some(&b' ') {
                if in_comment {
                    continue;
                }
                match cur.as_mut() {
                    None => {
                        error = Some(LdifError::new(
                            no,
                            "continuation line (starting with a space) without a line to continue",
                        ));
                    }
                    Some(l) => {
                        used += total - 1;
                        if used > max {
                            error = Some(too_big(l.no, max));
                        } else {
                            l.text.extend_from_slice(&buf[1..]);
                        }
                    }
                }
                continue;
            }
            if let Some(l) = cur.take() {
                lines.push(l);
            }
            in_comment = buf.first() == Some(&b'#');
            if in_comment {
                continue;
            }
            used += total;
            if used > max {
                error = Some(too_big(no, max));
                continue;
            }
            cur = Some(Line { no, text: buf });
        }
        if !seen {
            return None;
        }
        if let Some(e) = error {
            return Some(Err(e));
        }
        if let Some(l) = cur {
            lines.push(l);
        }
        Some(Ok(lines))
    }

    fn parse_record(&mut self, lines: Vec<Line>) -> Result<Record, LdifError> {
        let mut vals = Values {
            opts: &self.opts,
            used: 0,
        };
        let mut it = lines.into_iter().peekable();
        let Some(first) = it.next() else {
            return err(self.line, "empty record");
        };
        let start = first.no;
        let (desc, rest) = split(&first)?;
        if !desc.eq_ignore_ascii_case("dn") {
            return err(
                start,
                format!(
                    "record must start with 'dn:', found '{}:'",
                    shown(desc.as_bytes())
                ),
            );
        }
        if rest.first() == Some(&b'<') {
            return err(start, "a DN cannot be given as a URL ('dn:<')");
        }
        let dn = vals.string(rest, start, "DN")?;
        let kind = match it.peek() {
            Some(l) if is_keyword(&l.text, "control") || is_keyword(&l.text, "changetype") => {
                Kind::Change
            }
            _ => Kind::Content,
        };
        match self.kind {
            None => self.kind = Some((kind, start)),
            Some((k, at)) if k != kind => {
                let (this, other) = match kind {
                    Kind::Content => ("content", "change"),
                    Kind::Change => ("change", "content"),
                };
                return err(
                    start,
                    format!(
                        "file mixes content and change records (not allowed by RFC 2849): \
                         this is a {this} record, the first record (line {at}) is a {other} record"
                    ),
                );
            }
            Some(_) => {}
        }
        if kind == Kind::Content {
            let mut attrs = Attrs::default();
            for l in it {
                attrs.add(&l, &mut vals)?;
            }
            if attrs.list.is_empty() {
                return err(start, "content record without attributes");
            }
            return Ok(Record::Content {
                dn,
                attrs: attrs.list,
                line: start,
            });
        }

        let mut controls = Vec::new();
        let ct = loop {
            let Some(l) = it.next() else {
                return err(start, "change record without a 'changetype:' line");
            };
            if is_keyword(&l.text, "control") {
                controls.push(parse_control(&l, &mut vals)?);
            } else if is_keyword(&l.text, "changetype") {
                break l;
            } else {
                return err(
                    l.no,
                    format!(
                        "expected 'control:' or 'changetype:', found '{}'",
                        shown(&l.text)
                    ),
                );
            }
        };
        let (_, rest) = split(&ct)?;
        let ty = vals.value(rest, ct.no)?;
        let ty = trim_end(&ty);
        let change = if ty.eq_ignore_ascii_case(b"add") {
            let mut attrs = Attrs::default();
            for l in it {
                attrs.add(&l, &mut vals)?;
            }
            if attrs.list.is_empty() {
                return err(ct.no, "'changetype: add' record without attributes");
            }
            Change::Add(attrs.list)
        } else if ty.eq_ignore_ascii_case(b"delete") {
            if let Some(l) = it.next() {
                return err(
                    l.no,
                    format!(
                        "unexpected line after 'changetype: delete': '{}'",
                        shown(&l.text)
                    ),
                );
            }
            Change::Delete
        } else if ty.eq_ignore_ascii_case(b"modify") {
            Change::Modify(parse_modify(it, &mut vals)?)
        } else if ty.eq_ignore_ascii_case(b"modrdn") || ty.eq_ignore_ascii_case(b"moddn") {
            parse_moddn(it, ct.no, &mut vals)?
        } else {
            return err(
                ct.no,
                format!(
                    "unknown changetype '{}' (expected add, delete, modify, modrdn or moddn)",
                    shown(ty)
                ),
            );
        };
        Ok(Record::Change {
            dn,
            controls,
            change,
            line: start,
        })
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, LdifError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let mut lines = match self.read_block() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.started = true;
                    return Some(Err(e));
                }
                Some(Ok(lines)) => lines,
            };
            if lines.is_empty() {
                continue; // only comments
            }
            if !self.started {
                self.started = true;
                if is_keyword(&lines[0].text, "version") {
                    let v = trim(&lines[0].text["version:".len()..]);
                    if v != b"1" {
                        self.done = true;
                        return Some(err(
                            lines[0].no,
                            format!("unsupported LDIF version '{}' (only 1 is)", shown(v)),
                        ));
                    }
                    lines.remove(0);
                    if lines.is_empty() {
                        continue;
                    }
                }
            }
            return Some(self.parse_record(lines));
        }
    }
}

fn too_big(line: usize, max: usize) -> LdifError {
    LdifError::new(
        line,
        format!("record is larger than the limit of {max} bytes (max_record_bytes)"),
    )
}

/// Attributes merged by description (case-insensitively), in first-seen order.
#[derive(Default)]
struct Attrs {
    list: Vec<(String, Vec<Vec<u8>>)>,
    index: HashMap<String, usize>,
}

impl Attrs {
    fn add(&mut self, l: &Line, vals: &mut Values<'_>) -> Result<(), LdifError> {
        let (desc, rest) = split_attr(l)?;
        if desc.eq_ignore_ascii_case("dn") {
            return err(
                l.no,
                "second 'dn:' line in a record (missing empty line between records?)",
            );
        }
        let v = vals.value(rest, l.no)?;
        let key = desc.to_ascii_lowercase();
        match self.index.get(&key) {
            Some(&i) => self.list[i].1.push(v),
            None => {
                self.index.insert(key, self.list.len());
                self.list.push((desc.to_string(), vec![v]));
            }
        }
        Ok(())
    }
}

fn parse_modify(
    it: impl Iterator<Item = Line>,
    vals: &mut Values<'_>,
) -> Result<Vec<Modification>, LdifError> {
    let mut mods = Vec::new();
    let mut cur: Option<Modification> = None;
    for l in it {
        let dash = trim_end(&l.text) == b"-";
        match cur.as_mut() {
            Some(_) if dash => mods.extend(cur.take()),
            None if dash => {
                return err(
                    l.no,
                    "'-' line without a preceding 'add:', 'delete:', 'replace:' or 'increment:' line",
                );
            }
            None => {
                let (desc, rest) = split(&l)?;
                let op = match desc.to_ascii_lowercase().as_str() {
                    "add" => ModOp::Add,
                    "delete" => ModOp::Delete,
                    "replace" => ModOp::Replace,
                    "increment" => ModOp::Increment,
                    _ => {
                        return err(
                            l.no,
                            format!(
                                "expected 'add:', 'delete:', 'replace:' or 'increment:' in a modify \
                                 record, found '{}:'",
                                shown(desc.as_bytes())
                            ),
                        );
                    }
                };
                let attr = trim(rest);
                let attr = match std::str::from_utf8(attr) {
                    Ok(a) if valid_desc(a) => a,
                    _ => {
                        return err(
                            l.no,
                            format!("invalid attribute description '{}'", shown(attr)),
                        );
                    }
                };
                cur = Some(Modification {
                    op,
                    attr: attr.to_string(),
                    values: Vec::new(),
                });
            }
            Some(m) => {
                let (desc, rest) = split_attr(&l)?;
                if !desc.eq_ignore_ascii_case(&m.attr) {
                    return err(
                        l.no,
                        format!(
                            "value for '{desc}' inside the '{}: {}' section (missing '-' line?)",
                            m.op.keyword(),
                            m.attr
                        ),
                    );
                }
                m.values.push(vals.value(rest, l.no)?);
            }
        }
    }
    // RFC 2849 requires a final '-'; accept its absence at the end of the record.
    mods.extend(cur);
    Ok(mods)
}

fn parse_moddn(
    mut it: impl Iterator<Item = Line>,
    ct_line: usize,
    vals: &mut Values<'_>,
) -> Result<Change, LdifError> {
    let Some(l) = it.next().filter(|l| is_keyword(&l.text, "newrdn")) else {
        return err(
            ct_line,
            "modrdn record without a 'newrdn:' line after 'changetype:'",
        );
    };
    let (_, rest) = split(&l)?;
    let new_rdn = vals.string(rest, l.no, "newrdn")?;
    let Some(l) = it.next().filter(|l| is_keyword(&l.text, "deleteoldrdn")) else {
        return err(
            ct_line,
            "modrdn record without a 'deleteoldrdn:' line after 'newrdn:'",
        );
    };
    let (_, rest) = split(&l)?;
    let v = vals.value(rest, l.no)?;
    let delete_old_rdn = match trim_end(&v) {
        b"0" => false,
        b"1" => true,
        other => {
            return err(
                l.no,
                format!("deleteoldrdn must be 0 or 1, not '{}'", shown(other)),
            );
        }
    };
    let new_superior = match it.next() {
        None => None,
        Some(l) if is_keyword(&l.text, "newsuperior") => {
            let (_, rest) = split(&l)?;
            Some(vals.string(rest, l.no, "newsuperior")?)
        }
        Some(l) => {
            return err(
                l.no,
                format!(
                    "expected 'newsuperior:' or the end of the modrdn record, found '{}'",
                    shown(&l.text)
                ),
            );
        }
    };
    if let Some(l) = it.next() {
        return err(
            l.no,
            format!("unexpected line after 'newsuperior:': '{}'", shown(&l.text)),
        );
    }
    Ok(Change::ModDn {
        new_rdn,
        delete_old_rdn,
        new_superior,
    })
}

/// `control: oid [true|false] [: value | :: base64 | :< url]`
fn parse_control(l: &Line, vals: &mut Values<'_>) -> Result<Control, LdifError> {
    let rest = skip_spaces(&l.text["control:".len()..]);
    let n = rest
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'.')
        .count();
    let oid = String::from_utf8_lossy(&rest[..n]).into_owned();
    if !valid_oid(&oid) {
        return err(
            l.no,
            format!(
                "invalid control line: expected a numeric OID, found '{}'",
                shown(rest)
            ),
        );
    }
    let mut rest = &rest[n..];
    let mut critical = false;
    let after = skip_spaces(rest);
    if after.len() < rest.len() {
        rest = after;
        for (word, crit) in [(&b"true"[..], true), (&b"false"[..], false)] {
            if after.len() >= word.len()
                && after[..word.len()].eq_ignore_ascii_case(word)
                && matches!(after.get(word.len()), None | Some(b' ') | Some(b':'))
            {
                critical = crit;
                rest = &after[word.len()..];
            }
        }
    }
    let rest = skip_spaces(rest);
    let value = match rest.first() {
        None => None,
        Some(b':') => Some(vals.value(&rest[1..], l.no)?),
        Some(_) => {
            return err(
                l.no,
                format!(
                    "invalid control line: expected 'true', 'false' or ':' after the OID, found '{}'",
                    shown(rest)
                ),
            );
        }
    };
    Ok(Control {
        oid,
        critical,
        value,
    })
}

/// Decodes values and counts their bytes against the record limit.
struct Values<'a> {
    opts: &'a ReaderOptions,
    used: usize,
}

const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl Values<'_> {
    /// The value of an `attr:` line; `rest` is what follows the first colon.
    fn value(&mut self, rest: &[u8], line: usize) -> Result<Vec<u8>, LdifError> {
        let max = self.opts.max_value_bytes;
        let v = match rest.first() {
            Some(b':') => {
                let b = trim(&rest[1..]);
                if b.len() / 4 * 3 > max {
                    return err(line, too_long(max));
                }
                let v = B64
                    .decode(b)
                    .map_err(|e| LdifError::new(line, format!("invalid base64 value: {e}")))?;
                if v.len() > max {
                    return err(line, too_long(max));
                }
                v
            }
            Some(b'<') => self.url(trim(&rest[1..]), line)?,
            _ => {
                let v = skip_spaces(rest);
                if v.len() > max {
                    return err(line, too_long(max));
                }
                v.to_vec()
            }
        };
        self.used += v.len();
        if self.used > self.opts.max_record_bytes {
            return Err(too_big(line, self.opts.max_record_bytes));
        }
        Ok(v)
    }

    fn string(&mut self, rest: &[u8], line: usize, what: &str) -> Result<String, LdifError> {
        String::from_utf8(self.value(rest, line)?)
            .map_err(|_| LdifError::new(line, format!("{what} is not valid UTF-8")))
    }

    fn url(&self, url: &[u8], line: usize) -> Result<Vec<u8>, LdifError> {
        let max = self.opts.max_value_bytes;
        if !self.opts.allow_url {
            return err(line, "URL values (':<') are not allowed (allow_url is off)");
        }
        let Ok(url) = std::str::from_utf8(url) else {
            return err(line, "URL is not valid UTF-8");
        };
        let path = match url.get(..7) {
            Some(s) if s.eq_ignore_ascii_case("file://") => &url[7..],
            _ => {
                return match url.split_once(':') {
                    Some((scheme, _)) if !scheme.is_empty() && !scheme.contains('/') => err(
                        line,
                        format!(
                            "unsupported URL scheme '{scheme}' in '{url}' (only file:// URLs are)"
                        ),
                    ),
                    _ => err(line, format!("invalid URL '{url}' (expected file://path)")),
                };
            }
        };
        let path = percent_decode(path)
            .ok_or_else(|| LdifError::new(line, format!("invalid %-escape in URL '{url}'")))?;
        if path.is_empty() {
            return err(line, format!("URL '{url}' has no path"));
        }
        let path = if path.starts_with('/') {
            PathBuf::from(path)
        } else {
            match &self.opts.base_dir {
                Some(b) => b.join(path),
                None => {
                    return err(
                        line,
                        format!("relative file URL '{url}' needs a base directory"),
                    );
                }
            }
        };
        read_file(&path, max).map_err(|m| LdifError::new(line, m))
    }
}

fn read_file(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?
        .len();
    if len > max as u64 {
        return Err(format!(
            "file {shown} has {len} bytes, more than the value limit of {max} bytes"
        ));
    }
    // The size may change, or not be known (special files): never read more than the limit.
    let mut v = Vec::with_capacity(len as usize);
    f.take(max as u64 + 1)
        .read_to_end(&mut v)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if v.len() > max {
        return Err(format!(
            "file {shown} is larger than the value limit of {max} bytes"
        ));
    }
    Ok(v)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn too_long(max: usize) -> String {
    format!("value is larger than the limit of {max} bytes (max_value_bytes)")
}

/// Split `desc: rest` at the first colon.
fn split(l: &Line) -> Result<(&str, &[u8]), LdifError> {
    let Some(pos) = l.text.iter().position(|&c| c == b':') else {
        return err(
            l.no,
            format!(
                "missing ':' in '{}' (expected 'attribute: value')",
                shown(&l.text)
            ),
        );
    };
    match std::str::from_utf8(&l.text[..pos]) {
        Ok(d) => Ok((d, &l.text[pos + 1..])),
        Err(_) => err(
            l.no,
            format!("invalid attribute description '{}'", shown(&l.text[..pos])),
        ),
    }
}

/// [`split`], and check the attribute description.
fn split_attr(l: &Line) -> Result<(&str, &[u8]), LdifError> {
    let (desc, rest) = split(l)?;
    if !valid_desc(desc) {
        return err(
            l.no,
            format!("invalid attribute description '{}'", shown(desc.as_bytes())),
        );
    }
    Ok((desc, rest))
}

/// Does the line start with `kw:` (case-insensitively)?
fn is_keyword(text: &[u8], kw: &str) -> bool {
    text.len() > kw.len()
        && text[..kw.len()].eq_ignore_ascii_case(kw.as_bytes())
        && text[kw.len()] == b':'
}

/// RFC 4512 attribute description: (descr | numericoid) *(";" option).
fn valid_desc(d: &str) -> bool {
    let mut parts = d.split(';');
    let ty = parts.next().unwrap_or("");
    let keychars = |s: &str| s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    let ty_ok = if ty.starts_with(|c: char| c.is_ascii_alphabetic()) {
        keychars(ty)
    } else {
        valid_oid(ty)
    };
    ty_ok && parts.all(|o| !o.is_empty() && keychars(o))
}

/// RFC 4512 numericoid: number 1*("." number), no leading zeros.
fn valid_oid(s: &str) -> bool {
    let mut n = 0;
    for c in s.split('.') {
        if c.is_empty()
            || !c.bytes().all(|b| b.is_ascii_digit())
            || (c.len() > 1 && c.starts_with('0'))
        {
            return false;
        }
        n += 1;
    }
    n >= 2
}

fn skip_spaces(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ').count();
    &b[n..]
}

fn trim_end(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    &b[..b.len() - n]
}

fn trim(b: &[u8]) -> &[u8] {
    trim_end(skip_spaces(b))
}

/// A line or value for an error message: lossy UTF-8, at most 60 characters.
fn shown(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(60).collect();
        t.push('…');
        t
    } else {
        s.into_owned()
    }
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

    // ---------------------------------------------------------------------------------------
    // Reader

    fn opts() -> ReaderOptions {
        ReaderOptions::default()
    }

    fn read_with(s: &[u8], o: ReaderOptions) -> Vec<Result<Record, LdifError>> {
        Reader::new(s, o).collect()
    }

    fn ok(s: &str) -> Vec<Record> {
        read_with(s.as_bytes(), opts())
            .into_iter()
            .map(|r| r.unwrap())
            .collect()
    }

    /// The only result must be an error: its line and message.
    fn one_err(s: &str) -> LdifError {
        let r = read_with(s.as_bytes(), opts());
        assert_eq!(r.len(), 1, "{r:?}");
        r.into_iter().next().unwrap().unwrap_err()
    }

    fn assert_err(s: &str, line: usize, needle: &str) {
        let e = one_err(s);
        assert_eq!(e.line, line, "{e}");
        assert!(
            e.message.contains(needle),
            "{e} does not contain {needle:?}"
        );
    }

    fn content(dn: &str, attrs: &[(&str, &[&[u8]])], line: usize) -> Record {
        Record::Content {
            dn: dn.to_string(),
            attrs: attrs
                .iter()
                .map(|(n, vs)| (n.to_string(), vs.iter().map(|v| v.to_vec()).collect()))
                .collect(),
            line,
        }
    }

    fn attrs_of(r: &Record) -> &[(String, Vec<Vec<u8>>)] {
        match r {
            Record::Content { attrs, .. } => attrs,
            Record::Change {
                change: Change::Add(attrs),
                ..
            } => attrs,
            _ => panic!("no attrs: {r:?}"),
        }
    }

    fn change_of(r: &Record) -> (&[Control], &Change) {
        match r {
            Record::Change {
                controls, change, ..
            } => (controls, change),
            _ => panic!("not a change record: {r:?}"),
        }
    }

    #[test]
    fn simple_content_records() {
        let r = ok(
            "dn: cn=a,dc=x\ncn: a\nobjectClass: top\nobjectClass: person\n\ndn: cn=b,dc=x\ncn: b\n",
        );
        assert_eq!(
            r,
            vec![
                content(
                    "cn=a,dc=x",
                    &[("cn", &[b"a"]), ("objectClass", &[b"top", b"person"])],
                    1
                ),
                content("cn=b,dc=x", &[("cn", &[b"b"])], 6),
            ]
        );
        assert_eq!(r[1].dn(), "cn=b,dc=x");
        assert_eq!(r[1].line(), 6);
    }

    #[test]
    fn empty_file_and_only_comments() {
        assert!(ok("").is_empty());
        assert!(ok("\n\n\n").is_empty());
        assert!(ok("# just a comment\n#another\n\n# more\n").is_empty());
        assert!(ok("version: 1\n").is_empty());
        assert!(ok("version: 1\n\n# c\n\n").is_empty());
    }

    #[test]
    fn version_line() {
        // directly followed by the first record (RFC 2849 example 1), or by an empty line
        for s in [
            "version: 1\ndn: cn=a\ncn: a\n",
            "version: 1\n\ndn: cn=a\ncn: a\n",
            "# header\n\nversion:   1  \n\n\ndn: cn=a\ncn: a\n",
            "VERSION: 1\ndn: cn=a\ncn: a\n",
        ] {
            let r = ok(s);
            assert_eq!(r.len(), 1, "{s}");
            assert_eq!(r[0].dn(), "cn=a");
        }
        assert_eq!(ok("version: 1\ndn: cn=a\ncn: a\n")[0].line(), 2);
        // Another version: error, and the iteration ends.
        let r = read_with(b"version: 2\n\ndn: cn=a\ncn: a\n", opts());
        assert_eq!(r.len(), 1);
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("unsupported LDIF version '2'"), "{e}");
        assert_eq!(e.to_string(), format!("line 1: {}", e.message));
        // 'version:' in a later record is not a version line.
        let r = read_with(b"dn: cn=a\ncn: a\n\nversion: 1\n", opts());
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e
            .message
            .contains("record must start with 'dn:', found 'version:'"));
    }

    #[test]
    fn comments_anywhere_and_folded() {
        let r = ok("# top\n# folded\n  comment continues\ndn: cn=a\n# inside\ncn: a\n#folded\n inside\ncn: b\n");
        assert_eq!(r, vec![content("cn=a", &[("cn", &[b"a", b"b"])], 4)]);
        // a comment line between two continuation-eligible lines does not join them
        let r = ok("dn: cn=a\ndescription: x\n#c\n y\ncn: a\n");
        assert_eq!(
            r,
            vec![content(
                "cn=a",
                &[("description", &[b"x"]), ("cn", &[b"a"])],
                1
            )]
        );
    }

    #[test]
    fn blank_lines_and_line_ends() {
        let s = "\n\ndn: cn=a\r\ncn: a\r\n\r\n\r\n\n\ndn: cn=b\r\ncn: b";
        let r = ok(s);
        assert_eq!(
            r,
            vec![
                content("cn=a", &[("cn", &[b"a"])], 3),
                content("cn=b", &[("cn", &[b"b"])], 9),
            ]
        );
        // no final newline
        assert_eq!(ok("dn: cn=a\ncn: a").len(), 1);
        // a line of spaces is a (empty) continuation, not a separator
        let r = ok("dn: cn=a\ncn: a\n \ncn: b\n");
        assert_eq!(r, vec![content("cn=a", &[("cn", &[b"a", b"b"])], 1)]);
        // a tab-only line is not a separator either
        assert_err("dn: cn=a\ncn: a\n\t\ncn: b\n", 3, "missing ':'");
        // byte order mark
        let r = read_with(b"\xEF\xBB\xBFdn: cn=a\ncn: a\n", opts());
        assert_eq!(r, vec![Ok(content("cn=a", &[("cn", &[b"a"])], 1))]);
    }

    #[test]
    fn folding() {
        // exactly one space removed; a second space is content
        let r = ok("dn: cn=a,\n dc=x\ndescription: one\n  two\n three\ncn: a\n");
        assert_eq!(
            r,
            vec![content(
                "cn=a,dc=x",
                &[("description", &[b"one twothree"]), ("cn", &[b"a"])],
                1
            )]
        );
        // fold inside the attribute name and the colon
        let r = ok("dn: cn=a\ndesc\n ription\n : x\n");
        assert_eq!(
            attrs_of(&r[0]),
            &[("description".to_string(), vec![b"x".to_vec()])]
        );
        // fold inside a base64 value ("Jürgen" = SsO8cmdlbg==)
        let r = ok("dn: cn=a\ncn:: SsO8\n cmdl\n bg==\n");
        assert_eq!(attrs_of(&r[0])[0].1, vec!["Jürgen".as_bytes().to_vec()]);
        // fold inside a multi-byte UTF-8 character, in a plain value and in the DN
        let s = "dn: cn=J\u{fc}rgen\ncn: J\u{fc}rgen\n".as_bytes();
        let mut folded = Vec::new();
        for &c in s {
            folded.push(c);
            if c == 0xC3 {
                folded.extend_from_slice(b"\n ");
            }
        }
        let r: Vec<_> = Reader::new(&folded[..], opts())
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            r,
            vec![content("cn=Jürgen", &[("cn", &["Jürgen".as_bytes()])], 1)]
        );
        // CRLF and folding
        let r = ok("dn: cn=a\r\ncn: ab\r\n c\r\n");
        assert_eq!(attrs_of(&r[0])[0].1, vec![b"abc".to_vec()]);
        // error line numbers are those of the first physical line of the folded line
        assert_err(
            "dn: cn=a\ncn: a\nfoo\n bar\n baz\ncn: b\n",
            3,
            "missing ':' in 'foobarbaz'",
        );
    }

    #[test]
    fn continuation_without_a_line() {
        assert_err(" dn: cn=a\ncn: a\n", 1, "continuation line");
        // after a separator
        let r = read_with(
            b"dn: cn=a\ncn: a\n\n cn: b\ncn: c\n\ndn: cn=c\ncn: c\n",
            opts(),
        );
        assert_eq!(r.len(), 3);
        assert!(r[0].is_ok());
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("continuation"), "{e}");
        assert_eq!(r[2].as_ref().unwrap().dn(), "cn=c");
    }

    #[test]
    fn dn_forms() {
        // dn:: base64, empty dn, spaces after the colon
        let r = ok("dn:: Y249SsO8cmdlbg==\ncn: x\n\ndn:\ncn: y\n\ndn:    cn=z\ncn: z\n");
        assert_eq!(r[0].dn(), "cn=Jürgen");
        assert_eq!(r[1].dn(), "");
        assert_eq!(r[2].dn(), "cn=z");
        assert_eq!(ok("DN: cn=a\ncn: a\n")[0].dn(), "cn=a");
        assert_err("dn:: /w==\ncn: x\n", 1, "DN is not valid UTF-8");
        assert_err("dn: cn=\u{0}\n", 1, "content record without attributes");
        assert_err(
            "dn:< file:///etc/hostname\ncn: x\n",
            1,
            "cannot be given as a URL",
        );
        assert_err(
            "cn: a\ndn: cn=a\n",
            1,
            "record must start with 'dn:', found 'cn:'",
        );
        assert_err("dn cn=a\ncn: a\n", 1, "missing ':'");
        assert_err("dn:: !!!\ncn: a\n", 1, "invalid base64");
    }

    #[test]
    fn attribute_values() {
        let r = ok(concat!(
            "dn: cn=a\n",
            "cn:a\n",            // no space
            "cn:    b\n",        // several spaces
            "cn: trailing  \n",  // trailing spaces kept
            "cn:\n",             // empty
            "cn: \n",            // empty
            "cn:: \n",           // empty base64
            "cn:: IGxlYWQ=\n",   // " lead"
            "cn::IGxlYWQ\n",     // no space, no padding
            "cn: a: b <c>\n",    // colons later in the value
            "cn: J\u{fc}rgen\n", // UTF-8 in a plain value
            "userCertificate;binary:: AAEC/w==\n",
            "2.5.4.3: oid\n",
            "cn;lang-de: x\n",
            "CN: merged\n",
        ));
        assert_eq!(
            attrs_of(&r[0]),
            &[
                (
                    "cn".to_string(),
                    vec![
                        b"a".to_vec(),
                        b"b".to_vec(),
                        b"trailing  ".to_vec(),
                        vec![],
                        vec![],
                        vec![],
                        b" lead".to_vec(),
                        b" lead".to_vec(),
                        b"a: b <c>".to_vec(),
                        "Jürgen".as_bytes().to_vec(),
                        b"merged".to_vec(),
                    ]
                ),
                (
                    "userCertificate;binary".to_string(),
                    vec![vec![0, 1, 2, 255]]
                ),
                ("2.5.4.3".to_string(), vec![b"oid".to_vec()]),
                ("cn;lang-de".to_string(), vec![b"x".to_vec()]),
            ]
        );
    }

    #[test]
    fn merge_keeps_first_spelling_and_order() {
        let r = ok(
            "dn: cn=a\nobjectclass: top\nCN: a\nObjectClass: person\ncn: b\nCN;X-Y: c\ncn;x-y: d\n",
        );
        let names: Vec<_> = attrs_of(&r[0]).iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["objectclass", "CN", "CN;X-Y"]);
        assert_eq!(
            attrs_of(&r[0])[0].1,
            vec![b"top".to_vec(), b"person".to_vec()]
        );
        assert_eq!(attrs_of(&r[0])[2].1, vec![b"c".to_vec(), b"d".to_vec()]);
    }

    #[test]
    fn attribute_errors() {
        assert_err("dn: cn=a\ncn: a\nnocolon\n", 3, "missing ':' in 'nocolon'");
        assert_err("dn: cn=a\ncn: a\n-\n", 3, "missing ':'");
        assert_err(
            "dn: cn=a\ncn: a\nc_n: a\n",
            3,
            "invalid attribute description 'c_n'",
        );
        assert_err(
            "dn: cn=a\ncn: a\n: a\n",
            3,
            "invalid attribute description ''",
        );
        assert_err(
            "dn: cn=a\ncn: a\ncn;: a\n",
            3,
            "invalid attribute description",
        );
        assert_err(
            "dn: cn=a\ncn: a\n1.: a\n",
            3,
            "invalid attribute description",
        );
        assert_err(
            "dn: cn=a\ncn: a\n01.2: a\n",
            3,
            "invalid attribute description",
        );
        assert_err(
            "dn: cn=a\ncn: a\ncn x: a\n",
            3,
            "invalid attribute description",
        );
        assert_err("dn: cn=a\ncn: a\ncn:: ab$d\n", 3, "invalid base64");
        assert_err("dn: cn=a\ncn: a\ncn:: YQ==YQ==\n", 3, "invalid base64");
        assert_err("dn: cn=a\n", 1, "content record without attributes");
        assert_err(
            "dn: cn=a\n# only a comment\n",
            1,
            "content record without attributes",
        );
        assert_err("dn: cn=a\ncn: a\ndn: cn=b\ncn: b\n", 3, "second 'dn:' line");
    }

    #[test]
    fn recovery_after_errors() {
        let s = "dn: cn=1\ncn: 1\n\ndn: cn=2\nbad line\ncn: 2\n\ndn: cn=3\ncn:: ***\n\n\ndn: cn=4\ncn: 4\n\ndn: cn=5\n";
        let mut rd = Reader::new(s.as_bytes(), opts());
        assert_eq!(rd.line(), 0);
        assert_eq!(rd.next().unwrap().unwrap().dn(), "cn=1");
        assert_eq!(rd.line(), 3); // read up to the separator
        let e = rd.next().unwrap().unwrap_err();
        assert_eq!(e.line, 5);
        let e = rd.next().unwrap().unwrap_err();
        assert_eq!(e.line, 9);
        assert_eq!(rd.next().unwrap().unwrap().dn(), "cn=4");
        let e = rd.next().unwrap().unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (15, "content record without attributes")
        );
        assert!(rd.next().is_none());
        assert!(rd.next().is_none());
        assert_eq!(rd.line(), 15);
    }

    #[test]
    fn change_add_and_delete() {
        let r = ok("version: 1\ndn: cn=a,dc=x\nchangetype: add\ncn: a\nobjectClass: top\ncn: b\n\ndn: cn=b,dc=x\nchangetype: delete\n\ndn: cn=c\nChangeType:   DELETE  \n");
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0],
            Record::Change {
                dn: "cn=a,dc=x".into(),
                controls: vec![],
                change: Change::Add(vec![
                    ("cn".into(), vec![b"a".to_vec(), b"b".to_vec()]),
                    ("objectClass".into(), vec![b"top".to_vec()]),
                ]),
                line: 2,
            }
        );
        assert_eq!(change_of(&r[1]).1, &Change::Delete);
        assert_eq!(change_of(&r[2]).1, &Change::Delete);
        assert_eq!(r[2].line(), 11);
        assert_err("dn: cn=a\nchangetype: add\n", 2, "without attributes");
        assert_err(
            "dn: cn=a\nchangetype: add\ncn: a\ndn: cn=b\n",
            4,
            "second 'dn:'",
        );
        assert_err(
            "dn: cn=a\nchangetype: delete\ncn: a\n",
            3,
            "unexpected line after 'changetype: delete'",
        );
        assert_err(
            "dn: cn=a\nchangetype: rename\n",
            2,
            "unknown changetype 'rename'",
        );
        assert_err("dn: cn=a\nchangetype:\n", 2, "unknown changetype ''");
        assert_err(
            "dn: cn=a\ncontrol: 1.2.3\n",
            1,
            "without a 'changetype:' line",
        );
        assert_err(
            "dn: cn=a\ncontrol: 1.2.3\ncn: a\nchangetype: delete\n",
            3,
            "expected 'control:' or 'changetype:'",
        );
    }

    #[test]
    fn change_modify() {
        let s = concat!(
            "dn: cn=a\n",
            "changetype: modify\n",
            "add: mail\n",
            "mail: a@x\n",
            "MAIL: b@x\n",
            "-\n",
            "delete: description\n",
            "-\n",
            "delete: cn\n",
            "cn: old\n",
            "-\n",
            "replace: telephoneNumber;x-work\n",
            "telephoneNumber;X-WORK: 1\n",
            "-  \n",
            "replace: seeAlso\n",
            "-\n",
            "increment: uidNumber\n",
            "uidNumber: 5\n",
            "-\n",
            "Add: jpegPhoto\n",
            "jpegPhoto:: /9j/\n",
            "-\n",
        );
        let r = ok(s);
        let m = |op, attr: &str, values: &[&[u8]]| Modification {
            op,
            attr: attr.into(),
            values: values.iter().map(|v| v.to_vec()).collect(),
        };
        assert_eq!(
            change_of(&r[0]).1,
            &Change::Modify(vec![
                m(ModOp::Add, "mail", &[b"a@x", b"b@x"]),
                m(ModOp::Delete, "description", &[]),
                m(ModOp::Delete, "cn", &[b"old"]),
                m(ModOp::Replace, "telephoneNumber;x-work", &[b"1"]),
                m(ModOp::Replace, "seeAlso", &[]),
                m(ModOp::Increment, "uidNumber", &[b"5"]),
                m(ModOp::Add, "jpegPhoto", &[&[0xff, 0xd8, 0xff]]),
            ])
        );
        // lenient about the missing final '-'
        let r = ok("dn: cn=a\nchangetype: modify\nreplace: cn\ncn: b\n\ndn: cn=b\nchangetype: modify\ndelete: cn\n");
        assert_eq!(
            change_of(&r[0]).1,
            &Change::Modify(vec![m(ModOp::Replace, "cn", &[b"b"])])
        );
        assert_eq!(
            change_of(&r[1]).1,
            &Change::Modify(vec![m(ModOp::Delete, "cn", &[])])
        );
        // no modifications at all
        assert_eq!(
            change_of(&ok("dn: cn=a\nchangetype: modify\n")[0]).1,
            &Change::Modify(vec![])
        );

        assert_err(
            "dn: cn=a\nchangetype: modify\nadd: mail\nmail: a\ncn: b\n-\n",
            5,
            "value for 'cn' inside the 'add: mail' section (missing '-' line?)",
        );
        assert_err(
            "dn: cn=a\nchangetype: modify\nadd: mail\nmail: a\ndelete: cn\n-\n",
            5,
            "missing '-' line?",
        );
        assert_err(
            "dn: cn=a\nchangetype: modify\nmail: a\n-\n",
            3,
            "expected 'add:', 'delete:', 'replace:' or 'increment:'",
        );
        assert_err("dn: cn=a\nchangetype: modify\n-\n", 3, "'-' line without");
        assert_err(
            "dn: cn=a\nchangetype: modify\nadd: mail\n-\n-\n",
            5,
            "'-' line without",
        );
        assert_err(
            "dn: cn=a\nchangetype: modify\nadd: ma_il\n-\n",
            3,
            "invalid attribute description 'ma_il'",
        );
        assert_err(
            "dn: cn=a\nchangetype: modify\nadd mail\n-\n",
            3,
            "missing ':'",
        );
        assert_err(
            "dn: cn=a\nchangetype: modify\nadd: mail\nmail:: %%\n-\n",
            4,
            "invalid base64",
        );
        assert_err(
            "dn: cn=a\nchangetype: modify\nadd: mail\nmail\n-\n",
            4,
            "missing ':'",
        );
    }

    #[test]
    fn change_moddn() {
        let r = ok(concat!(
            "dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\n\n",
            "dn: cn=a,dc=x\nchangetype: moddn\nnewrdn:: Y249SsO8cmdlbg==\ndeleteoldrdn: 0\nnewsuperior: ou=y,dc=x\n\n",
            "dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=c\ndeleteoldrdn: 0\nnewsuperior::\n",
        ));
        assert_eq!(
            change_of(&r[0]).1,
            &Change::ModDn {
                new_rdn: "cn=b".into(),
                delete_old_rdn: true,
                new_superior: None
            }
        );
        assert_eq!(
            change_of(&r[1]).1,
            &Change::ModDn {
                new_rdn: "cn=Jürgen".into(),
                delete_old_rdn: false,
                new_superior: Some("ou=y,dc=x".into())
            }
        );
        assert_eq!(
            change_of(&r[2]).1,
            &Change::ModDn {
                new_rdn: "cn=c".into(),
                delete_old_rdn: false,
                new_superior: Some(String::new())
            }
        );
        let h = "dn: cn=a\nchangetype: modrdn\n";
        assert_err(h, 2, "without a 'newrdn:' line");
        assert_err(
            &format!("{h}deleteoldrdn: 1\n"),
            2,
            "without a 'newrdn:' line",
        );
        assert_err(
            &format!("{h}newrdn: cn=b\n"),
            2,
            "without a 'deleteoldrdn:' line",
        );
        assert_err(
            &format!("{h}newrdn: cn=b\nnewsuperior: dc=x\n"),
            2,
            "without a 'deleteoldrdn:'",
        );
        assert_err(
            &format!("{h}newrdn: cn=b\ndeleteoldrdn: yes\n"),
            4,
            "deleteoldrdn must be 0 or 1, not 'yes'",
        );
        assert_err(
            &format!("{h}newrdn: cn=b\ndeleteoldrdn: 1\ncn: x\n"),
            5,
            "expected 'newsuperior:'",
        );
        assert_err(
            &format!("{h}newrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior: dc=x\ncn: x\n"),
            6,
            "unexpected line after 'newsuperior:'",
        );
        assert_err(
            &format!("{h}newrdn:: /w==\ndeleteoldrdn: 1\n"),
            3,
            "newrdn is not valid UTF-8",
        );
        assert_err(
            &format!("{h}newrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior:: /w==\n"),
            5,
            "newsuperior is not valid UTF-8",
        );
    }

    #[test]
    fn controls() {
        let r = ok(concat!(
            "dn: cn=a\n",
            "control: 1.2.840.113556.1.4.805\n",
            "control: 1.2.3 true\n",
            "control: 1.2.3 FALSE\n",
            "control: 1.2.4 true: plain value\n",
            "control: 1.2.5:: AAE=\n",
            "control:1.2.6 false:\n",
            "control: 1.2.7   true  ::  AAE=\n",
            "control: 1.2.8 : v\n",
            "changetype: delete\n",
        ));
        let c = |oid: &str, critical, value: Option<&[u8]>| Control {
            oid: oid.into(),
            critical,
            value: value.map(|v| v.to_vec()),
        };
        assert_eq!(
            change_of(&r[0]).0,
            &[
                c("1.2.840.113556.1.4.805", false, None),
                c("1.2.3", true, None),
                c("1.2.3", false, None),
                c("1.2.4", true, Some(b"plain value")),
                c("1.2.5", false, Some(&[0, 1])),
                c("1.2.6", false, Some(b"")),
                c("1.2.7", true, Some(&[0, 1])),
                c("1.2.8", false, Some(b"v")),
            ]
        );
        let h = "dn: cn=a\n";
        let t = "changetype: delete\n";
        assert_err(
            &format!("{h}control: \n{t}"),
            2,
            "invalid control line: expected a numeric OID",
        );
        assert_err(
            &format!("{h}control: foo\n{t}"),
            2,
            "expected a numeric OID, found 'foo'",
        );
        assert_err(&format!("{h}control: 1\n{t}"), 2, "expected a numeric OID");
        assert_err(
            &format!("{h}control: 1..2\n{t}"),
            2,
            "expected a numeric OID",
        );
        assert_err(
            &format!("{h}control: 1.2.3 maybe\n{t}"),
            2,
            "expected 'true', 'false' or ':' after the OID, found 'maybe'",
        );
        assert_err(&format!("{h}control: 1.2.3 truex\n{t}"), 2, "found 'truex'");
        assert_err(&format!("{h}control: 1.2.3x\n{t}"), 2, "found 'x'");
        assert_err(
            &format!("{h}control: 1.2.3 true:: !\n{t}"),
            2,
            "invalid base64",
        );
        assert_err(
            &format!("{h}control: 1.2.3 true:< http://x/\n{t}"),
            2,
            "not allowed",
        );
        // controls after changetype are not controls
        assert_err(
            &format!("{h}changetype: delete\ncontrol: 1.2.3\n"),
            3,
            "unexpected line",
        );
    }

    #[test]
    fn mixing_content_and_change_records() {
        let s = "dn: cn=a\ncn: a\n\ndn: cn=b\nchangetype: delete\n\ndn: cn=c\ncn: c\n\ndn: cn=d\ncontrol: 1.2.3\nchangetype: delete\n";
        let r = read_with(s.as_bytes(), opts());
        assert_eq!(r.len(), 4);
        assert!(r[0].is_ok() && r[2].is_ok());
        for (i, line) in [(1, 4), (3, 10)] {
            let e = r[i].as_ref().unwrap_err();
            assert_eq!(e.line, line);
            assert!(
                e.message.contains("mixes content and change records"),
                "{e}"
            );
            assert!(
                e.message
                    .contains("first record (line 1) is a content record"),
                "{e}"
            );
        }
        let r = read_with(b"dn: cn=a\nchangetype: delete\n\ndn: cn=b\ncn: b\n", opts());
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("this is a content record"), "{e}");
    }

    fn url_opts(base: Option<&Path>) -> ReaderOptions {
        ReaderOptions {
            base_dir: base.map(Path::to_path_buf),
            allow_url: true,
            ..ReaderOptions::default()
        }
    }

    #[test]
    fn url_values() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("photo one.jpg");
        std::fs::write(&photo, [0xffu8, 0xd8, 0, 1]).unwrap();
        std::fs::write(dir.path().join("rel"), b"relative").unwrap();
        let abs = photo.to_str().unwrap().replace(' ', "%20");
        let s = format!(
            "dn: cn=a\njpegPhoto:< file://{abs}\ndescription:<file://rel\ndescription:<   FILE://rel  \n"
        );
        let r: Vec<_> = read_with(s.as_bytes(), url_opts(Some(dir.path())))
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            attrs_of(&r[0]),
            &[
                ("jpegPhoto".to_string(), vec![vec![0xff, 0xd8, 0, 1]]),
                (
                    "description".to_string(),
                    vec![b"relative".to_vec(), b"relative".to_vec()]
                ),
            ]
        );
        let one = |s: &str, o: ReaderOptions| {
            let r = read_with(s.as_bytes(), o);
            assert_eq!(r.len(), 1);
            r.into_iter().next().unwrap().unwrap_err()
        };
        // absolute paths work without a base dir; relative ones do not
        let e = one(
            &format!("dn: cn=a\ncn: a\njpegPhoto:< file://{abs}\ncn:< file://rel\n"),
            url_opts(None),
        );
        assert_eq!(e.line, 4);
        assert!(
            e.message
                .contains("relative file URL 'file://rel' needs a base directory"),
            "{e}"
        );
        // URLs off (the default)
        let e = one(&format!("dn: cn=a\ncn:< file://{abs}\n"), opts());
        assert_eq!(e.line, 2);
        assert!(e.message.contains("not allowed (allow_url is off)"), "{e}");
        for (url, msg) in [
            ("http://example.com/x", "unsupported URL scheme 'http'"),
            ("ftp:x", "unsupported URL scheme 'ftp'"),
            ("/etc/passwd", "invalid URL '/etc/passwd'"),
            ("file:rel", "unsupported URL scheme 'file'"),
            ("file://", "has no path"),
            ("file://a%zz", "invalid %-escape"),
            ("file://missing", "cannot open"),
            ("", "invalid URL ''"),
        ] {
            let e = one(
                &format!("dn: cn=a\ncn: a\ncn:< {url}\n"),
                url_opts(Some(dir.path())),
            );
            assert_eq!(e.line, 3, "{url}");
            assert!(e.message.contains(msg), "{url}: {e}");
        }
        // over the value limit
        let o = ReaderOptions {
            max_value_bytes: 7,
            ..url_opts(Some(dir.path()))
        };
        let e = one("dn: cn=a\ncn:< file://rel\n", o.clone());
        assert!(
            e.message.contains("more than the value limit of 7 bytes"),
            "{e}"
        );
        assert!(Reader::new(&b"dn: cn=a\ncn:< file://photo%20one.jpg\n"[..], o).all(|r| r.is_ok()));
        // URL values count towards the record limit
        std::fs::write(dir.path().join("big"), [b'x'; 50]).unwrap();
        let o = ReaderOptions {
            max_record_bytes: 60,
            ..url_opts(Some(dir.path()))
        };
        let e = one("dn: cn=a\ncn:< file://big\ncn:< file://big\n", o);
        assert_eq!(e.line, 3);
        assert!(e.message.contains("max_record_bytes"), "{e}");
    }

    #[test]
    fn huge_declared_values_are_refused_without_allocating() {
        // A sparse 64 GiB file: reading it would exhaust memory; it is refused from its size.
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join("huge")).unwrap();
        f.set_len(64 << 30).unwrap();
        let s = "dn: cn=a\njpegPhoto:< file://huge\n\ndn: cn=b\ncn: b\n";
        let r = read_with(s.as_bytes(), url_opts(Some(dir.path())));
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .contains("68719476736 bytes, more than the value limit"),
            "{e}"
        );
        assert!(r[1].is_ok());

        // A special file of unknown size is read up to the limit only.
        if Path::new("/dev/zero").exists() {
            let o = ReaderOptions {
                max_value_bytes: 1000,
                ..url_opts(None)
            };
            let r = read_with(b"dn: cn=a\ncn:< file:///dev/zero\n", o);
            let e = r[0].as_ref().unwrap_err();
            assert!(
                e.message.contains("larger than the value limit of 1000"),
                "{e}"
            );
        }

        // A 32 MiB base64 line in a stream, with a 1 MiB record limit: refused while reading
        // (only ~1 MiB kept), and the next record is still read.
        let input = io::Cursor::new(&b"dn: cn=a\njpegPhoto:: "[..])
            .chain(io::repeat(b'A').take(32 << 20))
            .chain(&b"\n AAAA\n\ndn: cn=b\ncn: b\n"[..]);
        let o = ReaderOptions {
            max_record_bytes: 1 << 20,
            ..opts()
        };
        let mut rd = Reader::new(io::BufReader::new(input), o);
        let e = rd.next().unwrap().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .contains("larger than the limit of 1048576 bytes (max_record_bytes)"),
            "{e}"
        );
        let r = rd.next().unwrap().unwrap();
        assert_eq!((r.dn(), r.line()), ("cn=b", 5));
        assert!(rd.next().is_none());

        // A base64 value whose decoded size would be over max_value_bytes is refused before
        // decoding; so is a plain one.
        let o = ReaderOptions {
            max_value_bytes: 6,
            ..opts()
        };
        let r = read_with(
            b"dn: cn=a\ncn:: QUFBQUFBQUFB\ncn: 1234567\ncn:: QUFBQUFB\ncn: 123456\n",
            o.clone(),
        );
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("max_value_bytes"), "{e}");
        let r = read_with(b"dn: cn=a\ncn:: QUFBQUFB\ncn: 1234567\n", o.clone());
        assert_eq!(r[0].as_ref().unwrap_err().line, 3);
        let r = read_with(b"dn: cn=a\ncn:: QUFBQUFBQQ\n", o.clone());
        assert_eq!(r[0].as_ref().unwrap_err().line, 2);
        assert!(read_with(b"dn: cn=a\ncn:: QUFBQUFB\ncn: 123456\n", o)[0].is_ok());

        // record limit over several lines and over a folded line
        let o = ReaderOptions {
            max_record_bytes: 30,
            ..opts()
        };
        let r = read_with(
            b"dn: cn=a\ncn: 0123456789\ncn: 0123456789\n\ndn: cn=b\ncn: b\n",
            o.clone(),
        );
        assert_eq!(r[0].as_ref().unwrap_err().line, 3);
        assert!(r[1].is_ok());
        let r = read_with(b"dn: cn=a\ncn: 0123456789\n 0123456789\n 0123\n", o.clone());
        assert_eq!(r[0].as_ref().unwrap_err().line, 2);
        // comments do not count
        let long_comment = format!("# {}\ndn: cn=a\ncn: a\n", "x".repeat(1000));
        assert!(read_with(long_comment.as_bytes(), o)[0].is_ok());
    }

    #[test]
    fn read_errors_end_the_iteration() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                self.0 -= 1;
                let s = b"dn: cn=a\ncn: a\n\n";
                buf[..s.len()].copy_from_slice(s);
                Ok(s.len())
            }
        }
        let r: Vec<_> = Reader::new(io::BufReader::new(Failing(2)), opts()).collect();
        assert_eq!(r.len(), 3);
        assert!(r[0].is_ok() && r[1].is_ok());
        let e = r[2].as_ref().unwrap_err();
        assert_eq!(e.line, 7);
        assert!(e.message.contains("read error: disk on fire"), "{e}");
        let e: Box<dyn std::error::Error> = Box::new(e.clone());
        assert!(e.to_string().starts_with("line 7: "));
    }

    // ---------------------------------------------------------------------------------------
    // Round trip

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn gen_value(g: &mut Rng) -> Vec<u8> {
        match g.below(12) {
            0 => vec![],
            1 => b" leading space".to_vec(),
            2 => b":colon first".to_vec(),
            3 => b"<less than".to_vec(),
            4 => b"trailing space ".to_vec(),
            5 => "Jürgen Müller, 東京, ελληνικά".as_bytes().to_vec(),
            6 => (0..=255u8).collect(),
            7 => "x€".repeat(g.below(300) + 30).into_bytes(),
            8 => (0..g.below(500)).map(|_| g.next() as u8).collect(),
            9 => b"a: b:: c:< d\r\nline two\0".to_vec(),
            10 => b"#not a comment".to_vec(),
            _ => format!("plain value {}", g.next()).into_bytes(),
        }
    }

    fn gen_dn(g: &mut Rng) -> String {
        match g.below(5) {
            0 => String::new(),
            1 => format!(
                "cn=J\u{fc}rgen {},ou=people,dc=example,dc=de",
                g.below(1000)
            ),
            2 => format!(
                "cn={},{}",
                " lead".repeat(3),
                "ou=x,".repeat(g.below(30)) + "dc=y"
            ),
            3 => ":colon,dc=x".to_string(),
            _ => format!("uid=u{},dc=example,dc=org", g.next()),
        }
    }

    const NAMES: [&str; 8] = [
        "cn",
        "objectClass",
        "userCertificate;binary",
        "2.5.4.13",
        "description;lang-de;x-y",
        "jpegPhoto",
        "a-very-long-attribute-name-that-takes-most-of-the-line-by-itself-alone",
        "mail",
    ];

    fn gen_attrs(g: &mut Rng) -> Vec<(String, Vec<Vec<u8>>)> {
        let n = g.below(NAMES.len()) + 1;
        let start = g.below(NAMES.len());
        (0..n)
            .map(|i| {
                let name = NAMES[(start + i) % NAMES.len()].to_string();
                let values = (0..g.below(4) + 1).map(|_| gen_value(g)).collect();
                (name, values)
            })
            .collect()
    }

    fn gen_change(g: &mut Rng) -> Record {
        let controls = (0..g.below(3))
            .map(|_| Control {
                oid: format!("1.3.6.1.4.1.{}.{}", g.below(100000), g.below(10)),
                critical: g.below(2) == 1,
                value: match g.below(3) {
                    0 => None,
                    _ => Some(gen_value(g)),
                },
            })
            .collect();
        let change = match g.below(4) {
            0 => Change::Add(gen_attrs(g)),
            1 => Change::Delete,
            2 => Change::Modify(
                (0..g.below(5))
                    .map(|_| Modification {
                        op: [ModOp::Add, ModOp::Delete, ModOp::Replace, ModOp::Increment]
                            [g.below(4)],
                        attr: NAMES[g.below(NAMES.len())].to_string(),
                        values: (0..g.below(3)).map(|_| gen_value(g)).collect(),
                    })
                    .collect(),
            ),
            _ => Change::ModDn {
                new_rdn: gen_dn(g),
                delete_old_rdn: g.below(2) == 1,
                new_superior: match g.below(2) {
                    0 => None,
                    _ => Some(gen_dn(g)),
                },
            },
        };
        Record::Change {
            dn: gen_dn(g),
            controls,
            change,
            line: 0,
        }
    }

    fn set_line(r: &mut Record, n: usize) {
        match r {
            Record::Content { line, .. } | Record::Change { line, .. } => *line = n,
        }
    }

    fn round_trip(records: &mut [Record]) {
        let mut out = b"version: 1\n\n".to_vec();
        for r in records.iter_mut() {
            // the line the record will start on
            let line = out.iter().filter(|&&c| c == b'\n').count() + 1;
            set_line(r, line);
            write_record(&mut out, r).unwrap();
        }
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.lines().all(|l| l.len() <= WIDTH && l.is_ascii()),
            "{text}"
        );
        let back: Vec<Record> = Reader::new(&out[..], opts()).map(|r| r.unwrap()).collect();
        assert_eq!(back, records);
        // CRLF
        let crlf: Vec<u8> = text.replace('\n', "\r\n").into_bytes();
        let back: Vec<Record> = Reader::new(&crlf[..], opts()).map(|r| r.unwrap()).collect();
        assert_eq!(back, records);
        // tiny buffers: line ends split across reads
        let back: Vec<Record> = Reader::new(io::BufReader::with_capacity(3, &crlf[..]), opts())
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(back, records);
    }

    #[test]
    fn round_trip_content_records() {
        let mut g = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20 {
            let mut records: Vec<Record> = (0..25)
                .map(|_| Record::Content {
                    dn: gen_dn(&mut g),
                    attrs: gen_attrs(&mut g),
                    line: 0,
                })
                .collect();
            round_trip(&mut records);
        }
    }

    #[test]
    fn round_trip_change_records() {
        let mut g = Rng(0xDEAD_BEEF_CAFE_F00D);
        for _ in 0..20 {
            let mut records: Vec<Record> = (0..25).map(|_| gen_change(&mut g)).collect();
            round_trip(&mut records);
        }
    }

    #[test]
    fn write_record_format() {
        let r = Record::Change {
            dn: "cn=a".into(),
            controls: vec![
                Control {
                    oid: "1.2.3".into(),
                    critical: true,
                    value: Some(b"v".to_vec()),
                },
                Control {
                    oid: "1.2.4".into(),
                    critical: false,
                    value: Some(vec![0]),
                },
                Control {
                    oid: "1.2.5".into(),
                    critical: false,
                    value: None,
                },
            ],
            change: Change::Modify(vec![Modification {
                op: ModOp::Replace,
                attr: "cn".into(),
                values: vec![b"b".to_vec()],
            }]),
            line: 1,
        };
        let mut out = Vec::new();
        write_record(&mut out, &r).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "dn: cn=a\ncontrol: 1.2.3 true: v\ncontrol: 1.2.4:: AA==\ncontrol: 1.2.5\nchangetype: modify\nreplace: cn\ncn: b\n-\n\n"
        );
        let mut out = Vec::new();
        write_record(
            &mut out,
            &Record::Change {
                dn: "cn=a".into(),
                controls: vec![],
                change: Change::ModDn {
                    new_rdn: "cn=b".into(),
                    delete_old_rdn: true,
                    new_superior: Some("dc=x".into()),
                },
                line: 1,
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "dn: cn=a\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\nnewsuperior: dc=x\n\n"
        );
        // refused: what would not read back the same
        for attrs in [
            vec![],
            vec![("cn".to_string(), vec![])],
            vec![("changetype".to_string(), vec![b"add".to_vec()])],
            vec![("dn".to_string(), vec![b"x".to_vec()])],
            vec![("c n".to_string(), vec![b"x".to_vec()])],
        ] {
            let r = Record::Content {
                dn: "cn=a".into(),
                attrs,
                line: 1,
            };
            let e = write_record(&mut Vec::new(), &r).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        }
    }

    fn read_all(text: &str) -> Vec<Record> {
        Reader::new(text.as_bytes(), ReaderOptions::default())
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    #[test]
    fn rfc2849_examples() {
        // Example 1: two content records.
        let r = read_all(
            "version: 1\ndn: cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com\nobjectclass: top\nobjectclass: person\nobjectclass: organizationalPerson\ncn: Barbara Jensen\ncn: Barbara J Jensen\ncn: Babs Jensen\nsn: Jensen\nuid: bjensen\ntelephonenumber: +1 408 555 1212\ndescription: A big sailing fan.\n\ndn: cn=Bjorn Jensen, ou=Accounting, dc=airius, dc=com\nobjectclass: top\nobjectclass: person\nobjectclass: organizationalPerson\ncn: Bjorn Jensen\nsn: Jensen\ntelephonenumber: +1 408 555 1212\n",
        );
        assert_eq!(r.len(), 2);
        match &r[0] {
            Record::Content { dn, attrs, .. } => {
                assert_eq!(
                    dn,
                    "cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com"
                );
                assert_eq!(attrs[1].0, "cn");
                assert_eq!(attrs[1].1.len(), 3);
            }
            other => panic!("{other:?}"),
        }
        // Example 2: a folded value, no space after the colons.
        let r = read_all("version: 1\ndn:cn=Barbara Jensen, ou=Product Development, dc=airius, dc=com\nobjectclass:top\ncn:Barbara Jensen\ndescription:Babs is a big sailing fan, and travels extensively in sea\n rch of perfect sailing conditions.\ntitle:Product Manager, Rod and Reel Division\n");
        match &r[0] {
            Record::Content { attrs, .. } => {
                let d = attrs.iter().find(|a| a.0 == "description").unwrap();
                assert_eq!(
                    d.1[0],
                    b"Babs is a big sailing fan, and travels extensively in search of perfect sailing conditions.".to_vec()
                );
            }
            other => panic!("{other:?}"),
        }
        // Example 3: a base64 value with a control character.
        let r = read_all("version: 1\ndn: cn=Gern Jensen, ou=Product Testing, dc=airius, dc=com\nobjectclass: top\ncn: Gern Jensen\ndescription:: V2hhdCBhIGNhcmVmdWwgcmVhZGVyIHlvdSBhcmUhICBUaGlzIHZhbHVlIGlzIGJhc2UtNjQtZW5jb2RlZCBiZWNhdXNlIGl0IGhhcyBhIGNvbnRyb2wgY2hhcmFjdGVyIGluIGl0IChhIENSKS4NICBCeSB0aGUgd2F5LCB5b3Ugc2hvdWxkIHJlYWxseSBnZXQgb3V0IG1vcmUu\n");
        match &r[0] {
            Record::Content { attrs, .. } => {
                let d = &attrs.iter().find(|a| a.0 == "description").unwrap().1[0];
                assert!(d.starts_with(b"What a careful reader you are!"));
                assert!(d.contains(&b'\r'));
            }
            other => panic!("{other:?}"),
        }
        // Example 6: change records.
        let r = read_all("version: 1\n# Add a new entry\ndn: cn=Fiona Jensen, ou=Marketing, dc=airius, dc=com\nchangetype: add\nobjectclass: top\ncn: Fiona Jensen\n\n# Delete an existing entry\ndn: cn=Robert Jensen, ou=Marketing, dc=airius, dc=com\nchangetype: delete\n\ndn: cn=Paul Jensen, ou=Product Development, dc=airius, dc=com\nchangetype: modrdn\nnewrdn: cn=Paula Jensen\ndeleteoldrdn: 1\n\ndn: ou=PD Accountants, ou=Product Development, dc=airius, dc=com\nchangetype: modrdn\nnewrdn: ou=Product Development Accountants\ndeleteoldrdn: 0\nnewsuperior: ou=Accounting, dc=airius, dc=com\n\ndn: cn=Paula Jensen, ou=Product Development, dc=airius, dc=com\nchangetype: modify\nadd: postaladdress\npostaladdress: 123 Anystreet $ Sunnyvale, CA $ 94086\n-\ndelete: description\n-\nreplace: telephonenumber\ntelephonenumber: +1 408 555 1234\ntelephonenumber: +1 408 555 5678\n-\ndelete: facsimiletelephonenumber\nfacsimiletelephonenumber: +1 408 555 9876\n-\n\ndn: cn=Ingrid Jensen, ou=Product Support, dc=airius, dc=com\nchangetype: modify\nreplace: postaladdress\n-\ndelete: description\n-\n");
        assert_eq!(r.len(), 6);
        assert!(matches!(&r[0], Record::Change { change: Change::Add(a), .. } if a.len() == 2));
        assert!(matches!(
            &r[1],
            Record::Change {
                change: Change::Delete,
                ..
            }
        ));
        assert!(matches!(
            &r[2],
            Record::Change {
                change: Change::ModDn {
                    delete_old_rdn: true,
                    new_superior: None,
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            &r[3],
            Record::Change {
                change: Change::ModDn {
                    delete_old_rdn: false,
                    new_superior: Some(_),
                    ..
                },
                ..
            }
        ));
        match &r[4] {
            Record::Change {
                change: Change::Modify(m),
                ..
            } => {
                assert_eq!(m.len(), 4);
                assert_eq!(m[0].op, ModOp::Add);
                assert_eq!(m[1].op, ModOp::Delete);
                assert!(m[1].values.is_empty());
                assert_eq!(m[2].op, ModOp::Replace);
                assert_eq!(m[2].values.len(), 2);
                assert_eq!(m[3].values.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&r[5], Record::Change { change: Change::Modify(m), .. } if m.len() == 2 && m[0].values.is_empty())
        );
        // Example 7: a control.
        let r = read_all("version: 1\ndn: ou=Product Development, dc=airius, dc=com\ncontrol: 1.2.840.113556.1.4.805 true\nchangetype: delete\n");
        match &r[0] {
            Record::Change {
                controls,
                change: Change::Delete,
                ..
            } => {
                assert_eq!(controls[0].oid, "1.2.840.113556.1.4.805");
                assert!(controls[0].critical);
                assert_eq!(controls[0].value, None);
            }
            other => panic!("{other:?}"),
        }
        // A multi-valued RDN round-trips through the writer.
        let rec = Record::Content {
            dn: "cn=Ann+uid=a\\,1,dc=example".into(),
            attrs: vec![
                ("cn".into(), vec![b"Ann".to_vec()]),
                ("uid".into(), vec![b"a,1".to_vec()]),
            ],
            line: 1,
        };
        let mut out = Vec::new();
        write_record(&mut out, &rec).unwrap();
        let back = read_all(std::str::from_utf8(&out).unwrap());
        assert_eq!(back[0].dn(), rec.dn());
    }
}
