//! The LDIF reader: streams records line by line, with memory bounded per record.

use super::*;
use base64::Engine;
use std::collections::HashMap;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

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
pub(super) fn valid_desc(d: &str) -> bool {
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
