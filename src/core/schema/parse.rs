//! Parser for OpenLDAP-format schema files and RFC 4512 descriptions.
//!
//! A schema file is a sequence of statements: `attributetype ( ... )`, `objectclass ( ... )` and
//! `objectidentifier NAME OID` (keywords case-insensitive). Lines starting with `#` are comments,
//! blank lines are ignored, and a line that starts with white space continues the previous
//! statement. The descriptions follow the RFC 4512 grammar (section 4.1).
//!
//! This module only parses; name resolution (SUP, matching rules, syntaxes, OID macros) happens
//! in the schema registry.

use std::collections::HashSet;

use super::matching::{is_descr, is_numeric_oid};
use super::{ObjectClassKind, Usage};

/// One statement of a schema file, with the (1-based) line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Line where the statement starts.
    pub line: usize,
    /// The statement keyword, lower-cased (`attributetype`, `objectclass`, `objectidentifier`, ...).
    pub keyword: String,
    /// Everything after the keyword, continuation lines joined with a space.
    pub body: String,
}

/// Splits a schema file into statements. Errors carry the offending line.
pub fn split_statements(text: &str) -> Result<Vec<Statement>, (usize, String)> {
    let mut out: Vec<Statement> = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with(|c: char| c.is_whitespace()) {
            match current.as_mut() {
                Some((_, text)) => {
                    text.push(' ');
                    text.push_str(trimmed);
                }
                None => return Err((line_no, "continuation line without a statement".to_string())),
            }
        } else {
            if let Some(stmt) = current.take() {
                out.push(make_statement(stmt));
            }
            current = Some((line_no, trimmed.to_string()));
        }
    }
    if let Some(stmt) = current.take() {
        out.push(make_statement(stmt));
    }
    Ok(out)
}

fn make_statement((line, text): (usize, String)) -> Statement {
    let (kw, body) = match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text.as_str(), ""),
    };
    Statement {
        line,
        keyword: kw.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

/// A parsed RFC 4512 AttributeTypeDescription, as written (nothing resolved or inherited).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeTypeDescription {
    pub oid: String,
    pub names: Vec<String>,
    pub desc: Option<String>,
    pub obsolete: bool,
    pub sup: Option<String>,
    pub equality: Option<String>,
    pub ordering: Option<String>,
    pub substr: Option<String>,
    pub syntax: Option<String>,
    pub syntax_len: Option<u32>,
    pub single_value: bool,
    pub collective: bool,
    pub no_user_modification: bool,
    pub usage: Usage,
    /// `X-` extensions in order, e.g. `("X-ORIGIN", ["RFC 4519"])`.
    pub extensions: Vec<(String, Vec<String>)>,
}

/// A parsed RFC 4512 ObjectClassDescription, as written. `kind` defaults to STRUCTURAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectClassDescription {
    pub oid: String,
    pub names: Vec<String>,
    pub desc: Option<String>,
    pub obsolete: bool,
    pub sup: Vec<String>,
    pub kind: ObjectClassKind,
    pub must: Vec<String>,
    pub may: Vec<String>,
    pub extensions: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    Dollar,
    Quoted(String),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                toks.push(Tok::LParen);
            }
            ')' => {
                chars.next();
                toks.push(Tok::RParen);
            }
            '$' => {
                chars.next();
                toks.push(Tok::Dollar);
            }
            '\'' => {
                chars.next();
                let rest = &s[i + 1..];
                let end = rest.find('\'').ok_or("unterminated quoted string")?;
                toks.push(Tok::Quoted(unescape(&rest[..end])?));
                // skip the string and the closing quote
                while let Some(&(j, _)) = chars.peek() {
                    chars.next();
                    if j == i + 1 + end {
                        break;
                    }
                }
            }
            _ => {
                let start = i;
                let mut end = s.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '$' | '\'') {
                        end = j;
                        break;
                    }
                    chars.next();
                }
                toks.push(Tok::Word(s[start..end].to_string()));
            }
        }
    }
    Ok(toks)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes the `\XX` hex escapes of a qdstring (RFC 4512: `\27` for `'`, `\5C` for `\`).
fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('\\') {
        return Ok(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let hi = b.get(i + 1).copied().and_then(hex_val);
            let lo = b.get(i + 2).copied().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h * 16 + l),
                _ => return Err(format!("invalid escape in quoted string '{s}'")),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| format!("quoted string '{s}' is not valid UTF-8 after unescaping"))
}

/// `true` for a valid `objectidentifier` macro name (a descr).
pub fn is_macro_name(s: &str) -> bool {
    is_descr(s)
}

/// Escapes a string for a qdstring: `\` -> `\5C`, `'` -> `\27`.
pub fn escape_qdstring(s: &str) -> String {
    s.replace('\\', "\\5C").replace('\'', "\\27")
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn new(s: &str) -> Result<Self, String> {
        Ok(Parser {
            toks: tokenize(s)?,
            pos: 0,
        })
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn open(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::LParen) => {}
            _ => return Err("description must start with '('".into()),
        }
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            _ => Err("expected an OID after '('".into()),
        }
    }

    /// Reads the next keyword; `None` at the closing parenthesis (which must end the text).
    fn keyword(&mut self) -> Result<Option<String>, String> {
        match self.next() {
            Some(Tok::RParen) => {
                if self.peek().is_some() {
                    Err("unexpected text after the closing parenthesis".into())
                } else {
                    Ok(None)
                }
            }
            Some(Tok::Word(w)) => Ok(Some(w)),
            Some(Tok::Quoted(q)) => Err(format!(
                "unexpected quoted string '{q}', expected a keyword"
            )),
            Some(Tok::LParen) => Err("unexpected '(', expected a keyword".into()),
            Some(Tok::Dollar) => Err("unexpected '$', expected a keyword".into()),
            None => Err("missing closing parenthesis".into()),
        }
    }

    fn word(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            _ => Err(format!("expected {what}")),
        }
    }

    fn oid(&mut self, kw: &str) -> Result<String, String> {
        let w = self.word(&format!("an OID or name after {kw}"))?;
        if is_descr(&w) || is_numeric_oid(&w) {
            Ok(w)
        } else {
            Err(format!("invalid OID or name '{w}' after {kw}"))
        }
    }

    fn qdstring(&mut self, kw: &str) -> Result<String, String> {
        match self.next() {
            Some(Tok::Quoted(q)) => Ok(q),
            _ => Err(format!("expected a quoted string after {kw}")),
        }
    }

    fn qdstrings(&mut self, kw: &str) -> Result<Vec<String>, String> {
        match self.peek() {
            Some(Tok::LParen) => {
                self.next();
                let mut v = Vec::new();
                loop {
                    match self.next() {
                        Some(Tok::Quoted(q)) => v.push(q),
                        Some(Tok::RParen) => break,
                        _ => return Err(format!("expected quoted strings in the list after {kw}")),
                    }
                }
                if v.is_empty() {
                    return Err(format!("empty list after {kw}"));
                }
                Ok(v)
            }
            _ => Ok(vec![self.qdstring(kw)?]),
        }
    }

    fn names(&mut self) -> Result<Vec<String>, String> {
        let names = self.qdstrings("NAME")?;
        for n in &names {
            if !is_descr(n) {
                return Err(format!(
                    "invalid name '{n}' (a name is a letter followed by letters, digits or '-')"
                ));
            }
        }
        Ok(names)
    }

    fn oids(&mut self, kw: &str) -> Result<Vec<String>, String> {
        match self.peek() {
            Some(Tok::LParen) => {
                self.next();
                let mut v = vec![self.oid(kw)?];
                loop {
                    match self.next() {
                        Some(Tok::Dollar) => v.push(self.oid(kw)?),
                        Some(Tok::RParen) => break,
                        Some(Tok::Word(w)) => {
                            return Err(format!("missing '$' before '{w}' in the list after {kw}"));
                        }
                        _ => return Err(format!("malformed list after {kw}")),
                    }
                }
                Ok(v)
            }
            _ => Ok(vec![self.oid(kw)?]),
        }
    }
}

fn check_once(seen: &mut HashSet<String>, kw: &str) -> Result<(), String> {
    if seen.insert(kw.to_string()) {
        Ok(())
    } else {
        Err(format!("{kw} given more than once"))
    }
}

/// Parses an RFC 4512 AttributeTypeDescription, e.g. `( 2.5.4.3 NAME 'cn' SUP name )`.
/// The OID may be an OID macro (`ccIR:1.1`); it is resolved by the registry.
pub fn parse_attribute_type(s: &str) -> Result<AttributeTypeDescription, String> {
    let mut p = Parser::new(s)?;
    let oid = p.open()?;
    let mut d = AttributeTypeDescription {
        oid,
        names: Vec::new(),
        desc: None,
        obsolete: false,
        sup: None,
        equality: None,
        ordering: None,
        substr: None,
        syntax: None,
        syntax_len: None,
        single_value: false,
        collective: false,
        no_user_modification: false,
        usage: Usage::UserApplications,
        extensions: Vec::new(),
    };
    let mut seen = HashSet::new();
    while let Some(kw_raw) = p.keyword()? {
        let kw = kw_raw.to_ascii_uppercase();
        check_once(&mut seen, &kw)?;
        match kw.as_str() {
            "NAME" => d.names = p.names()?,
            "DESC" => d.desc = Some(p.qdstring("DESC")?),
            "OBSOLETE" => d.obsolete = true,
            "SUP" => d.sup = Some(p.oid("SUP")?),
            "EQUALITY" => d.equality = Some(p.oid("EQUALITY")?),
            "ORDERING" => d.ordering = Some(p.oid("ORDERING")?),
            "SUBSTR" => d.substr = Some(p.oid("SUBSTR")?),
            "SYNTAX" => {
                let w = match p.next() {
                    Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w,
                    _ => return Err("expected a syntax OID after SYNTAX".into()),
                };
                let (oid, len) = match w.split_once('{') {
                    Some((oid, rest)) => {
                        let len = rest
                            .strip_suffix('}')
                            .and_then(|n| n.parse::<u32>().ok())
                            .ok_or_else(|| format!("invalid syntax length in '{w}'"))?;
                        (oid.to_string(), Some(len))
                    }
                    None => (w, None),
                };
                if oid.is_empty() {
                    return Err("empty syntax OID".into());
                }
                d.syntax = Some(oid);
                d.syntax_len = len;
            }
            "SINGLE-VALUE" => d.single_value = true,
            "COLLECTIVE" => d.collective = true,
            "NO-USER-MODIFICATION" => d.no_user_modification = true,
            "USAGE" => {
                let w = p.word("a usage after USAGE")?;
                d.usage = Usage::from_keyword(&w).ok_or_else(|| format!("unknown USAGE '{w}'"))?;
            }
            k if k.starts_with("X-") => {
                let vals = p.qdstrings(&kw_raw)?;
                d.extensions.push((kw_raw, vals));
            }
            _ => {
                return Err(format!(
                    "unknown keyword '{kw_raw}' in attribute type description"
                ));
            }
        }
    }
    if d.sup.is_none() && d.syntax.is_none() {
        return Err("attribute type needs SUP or SYNTAX".into());
    }
    if d.collective && d.usage != Usage::UserApplications {
        return Err("COLLECTIVE attribute types must have USAGE userApplications".into());
    }
    if d.no_user_modification && d.usage == Usage::UserApplications {
        return Err("NO-USER-MODIFICATION requires an operational USAGE".into());
    }
    Ok(d)
}

/// Parses an RFC 4512 ObjectClassDescription.
pub fn parse_object_class(s: &str) -> Result<ObjectClassDescription, String> {
    let mut p = Parser::new(s)?;
    let oid = p.open()?;
    let mut d = ObjectClassDescription {
        oid,
        names: Vec::new(),
        desc: None,
        obsolete: false,
        sup: Vec::new(),
        kind: ObjectClassKind::Structural,
        must: Vec::new(),
        may: Vec::new(),
        extensions: Vec::new(),
    };
    let mut seen = HashSet::new();
    while let Some(kw_raw) = p.keyword()? {
        let kw = kw_raw.to_ascii_uppercase();
        match kw.as_str() {
            "ABSTRACT" | "STRUCTURAL" | "AUXILIARY" => {
                check_once(&mut seen, "kind (ABSTRACT/STRUCTURAL/AUXILIARY)")?
            }
            _ => check_once(&mut seen, &kw)?,
        }
        match kw.as_str() {
            "NAME" => d.names = p.names()?,
            "DESC" => d.desc = Some(p.qdstring("DESC")?),
            "OBSOLETE" => d.obsolete = true,
            "SUP" => d.sup = p.oids("SUP")?,
            "ABSTRACT" => d.kind = ObjectClassKind::Abstract,
            "STRUCTURAL" => d.kind = ObjectClassKind::Structural,
            "AUXILIARY" => d.kind = ObjectClassKind::Auxiliary,
            "MUST" => d.must = p.oids("MUST")?,
            "MAY" => d.may = p.oids("MAY")?,
            k if k.starts_with("X-") => {
                let vals = p.qdstrings(&kw_raw)?;
                d.extensions.push((kw_raw, vals));
            }
            _ => {
                return Err(format!(
                    "unknown keyword '{kw_raw}' in object class description"
                ));
            }
        }
    }
    Ok(d)
}

fn push_names(out: &mut String, names: &[String]) {
    match names {
        [] => {}
        [one] => out.push_str(&format!(" NAME '{}'", escape_qdstring(one))),
        many => {
            out.push_str(" NAME (");
            for n in many {
                out.push_str(&format!(" '{}'", escape_qdstring(n)));
            }
            out.push_str(" )");
        }
    }
}

fn push_oids(out: &mut String, kw: &str, oids: &[String]) {
    match oids {
        [] => {}
        [one] => out.push_str(&format!(" {kw} {one}")),
        many => out.push_str(&format!(" {kw} ( {} )", many.join(" $ "))),
    }
}

fn push_extensions(out: &mut String, ext: &[(String, Vec<String>)]) {
    for (k, vals) in ext {
        match vals.as_slice() {
            [one] => out.push_str(&format!(" {k} '{}'", escape_qdstring(one))),
            many => {
                out.push_str(&format!(" {k} ("));
                for v in many {
                    out.push_str(&format!(" '{}'", escape_qdstring(v)));
                }
                out.push_str(" )");
            }
        }
    }
}

impl AttributeTypeDescription {
    /// Prints the description in RFC 4512 form, e.g.
    /// `( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) ...' SUP name )`.
    pub fn to_rfc4512(&self) -> String {
        let mut s = format!("( {}", self.oid);
        push_names(&mut s, &self.names);
        if let Some(d) = &self.desc {
            s.push_str(&format!(" DESC '{}'", escape_qdstring(d)));
        }
        if self.obsolete {
            s.push_str(" OBSOLETE");
        }
        if let Some(sup) = &self.sup {
            s.push_str(&format!(" SUP {sup}"));
        }
        for (kw, v) in [
            ("EQUALITY", &self.equality),
            ("ORDERING", &self.ordering),
            ("SUBSTR", &self.substr),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {kw} {v}"));
            }
        }
        if let Some(syn) = &self.syntax {
            s.push_str(&format!(" SYNTAX {syn}"));
            if let Some(len) = self.syntax_len {
                s.push_str(&format!("{{{len}}}"));
            }
        }
        if self.single_value {
            s.push_str(" SINGLE-VALUE");
        }
        if self.collective {
            s.push_str(" COLLECTIVE");
        }
        if self.no_user_modification {
            s.push_str(" NO-USER-MODIFICATION");
        }
        if self.usage != Usage::UserApplications {
            s.push_str(&format!(" USAGE {}", self.usage.keyword()));
        }
        push_extensions(&mut s, &self.extensions);
        s.push_str(" )");
        s
    }
}

impl ObjectClassDescription {
    /// Prints the description in RFC 4512 form, e.g.
    /// `( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( ... ) )`.
    pub fn to_rfc4512(&self) -> String {
        let mut s = format!("( {}", self.oid);
        push_names(&mut s, &self.names);
        if let Some(d) = &self.desc {
            s.push_str(&format!(" DESC '{}'", escape_qdstring(d)));
        }
        if self.obsolete {
            s.push_str(" OBSOLETE");
        }
        push_oids(&mut s, "SUP", &self.sup);
        s.push(' ');
        s.push_str(self.kind.keyword());
        push_oids(&mut s, "MUST", &self.must);
        push_oids(&mut s, "MAY", &self.may);
        push_extensions(&mut s, &self.extensions);
        s.push_str(" )");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_continuations() {
        let text = "# comment\n\nattributetype ( 1.2.3 NAME 'a'\n\tSYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\r\n  \n# c2\nObjectClass ( 1.2.4\n    NAME 'b'\n  # inner comment\n    MAY a )\nobjectidentifier X 1.2\n";
        let st = split_statements(text).unwrap();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].line, 3);
        assert_eq!(st[0].keyword, "attributetype");
        assert_eq!(
            st[0].body,
            "( 1.2.3 NAME 'a' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"
        );
        assert_eq!(st[1].line, 7);
        assert_eq!(st[1].keyword, "objectclass");
        assert_eq!(st[1].body, "( 1.2.4 NAME 'b' MAY a )");
        assert_eq!(st[2].line, 11);
        assert_eq!(st[2].body, "X 1.2");
        assert_eq!(
            split_statements("  ( 1.2 )\n"),
            Err((1, "continuation line without a statement".into()))
        );
        assert_eq!(split_statements("").unwrap(), vec![]);
        let st = split_statements("keyword").unwrap();
        assert_eq!(st[0].body, "");
    }

    #[test]
    fn full_attribute_type() {
        let d = parse_attribute_type(
            "( 1.2.3.4 NAME ( 'fooBar' 'fb' ) DESC 'It\\27s a \\5C test' OBSOLETE SUP name \
             EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SUBSTR caseIgnoreSubstringsMatch \
             SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{64} SINGLE-VALUE COLLECTIVE \
             X-ORIGIN 'RFC 1' X-MORE ( 'a' 'b' ) )",
        )
        .unwrap();
        assert_eq!(d.oid, "1.2.3.4");
        assert_eq!(d.names, vec!["fooBar", "fb"]);
        assert_eq!(d.desc.as_deref(), Some("It's a \\ test"));
        assert!(d.obsolete && d.single_value && d.collective && !d.no_user_modification);
        assert_eq!(d.sup.as_deref(), Some("name"));
        assert_eq!(d.equality.as_deref(), Some("caseIgnoreMatch"));
        assert_eq!(d.ordering.as_deref(), Some("caseIgnoreOrderingMatch"));
        assert_eq!(d.substr.as_deref(), Some("caseIgnoreSubstringsMatch"));
        assert_eq!(d.syntax.as_deref(), Some("1.3.6.1.4.1.1466.115.121.1.15"));
        assert_eq!(d.syntax_len, Some(64));
        assert_eq!(d.usage, Usage::UserApplications);
        assert_eq!(
            d.extensions,
            vec![
                ("X-ORIGIN".to_string(), vec!["RFC 1".to_string()]),
                ("X-MORE".to_string(), vec!["a".to_string(), "b".to_string()])
            ]
        );
        // round trip
        let printed = d.to_rfc4512();
        assert_eq!(parse_attribute_type(&printed).unwrap(), d);
        assert!(printed.contains("DESC 'It\\27s a \\5C test'"), "{printed}");
    }

    #[test]
    fn usage_and_flags() {
        for (u, expect) in [
            ("userApplications", Usage::UserApplications),
            ("directoryOperation", Usage::DirectoryOperation),
            ("distributedOperation", Usage::DistributedOperation),
            ("dSAOperation", Usage::DsaOperation),
            ("dsaoperation", Usage::DsaOperation),
        ] {
            let d = parse_attribute_type(&format!("( 1.2 SYNTAX 1.3 USAGE {u} )")).unwrap();
            assert_eq!(d.usage, expect);
        }
        let d = parse_attribute_type(
            "(1.2 name 'x' syntax '1.3' no-user-modification usage directoryOperation)",
        )
        .unwrap();
        assert!(d.no_user_modification);
        assert_eq!(d.names, vec!["x"]);
        assert_eq!(d.syntax.as_deref(), Some("1.3"));
        assert_eq!(
            d.to_rfc4512(),
            "( 1.2 NAME 'x' SYNTAX 1.3 NO-USER-MODIFICATION USAGE directoryOperation )"
        );
        // macro-style OIDs are left for the registry
        let d = parse_attribute_type("( ccIR:1.1 NAME 'y' SYNTAX ccSyn:15 )").unwrap();
        assert_eq!(d.oid, "ccIR:1.1");
        assert_eq!(d.syntax.as_deref(), Some("ccSyn:15"));
    }

    #[test]
    fn object_classes() {
        let d = parse_object_class(
            "( 2.5.6.6 NAME 'person' DESC 'RFC4519: a person' SUP top STRUCTURAL MUST ( sn $ cn ) \
             MAY ( userPassword $ telephoneNumber $seeAlso$ description ) X-ORIGIN 'RFC 4519' )",
        )
        .unwrap();
        assert_eq!(d.sup, vec!["top"]);
        assert_eq!(d.kind, ObjectClassKind::Structural);
        assert_eq!(d.must, vec!["sn", "cn"]);
        assert_eq!(
            d.may,
            vec!["userPassword", "telephoneNumber", "seeAlso", "description"]
        );
        assert_eq!(parse_object_class(&d.to_rfc4512()).unwrap(), d);
        assert_eq!(
            d.to_rfc4512(),
            "( 2.5.6.6 NAME 'person' DESC 'RFC4519: a person' SUP top STRUCTURAL MUST ( sn $ cn ) \
             MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) X-ORIGIN 'RFC 4519' )"
        );
        let d =
            parse_object_class("( 1.2 NAME 'x' SUP ( a $ b ) AUXILIARY MUST c OBSOLETE )").unwrap();
        assert_eq!(d.sup, vec!["a", "b"]);
        assert_eq!(d.kind, ObjectClassKind::Auxiliary);
        assert!(d.obsolete);
        assert_eq!(parse_object_class(&d.to_rfc4512()).unwrap(), d);
        let d = parse_object_class("( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )").unwrap();
        assert_eq!(d.kind, ObjectClassKind::Abstract);
        assert!(d.sup.is_empty());
        let d = parse_object_class("( 1.9 )").unwrap();
        assert_eq!(d.kind, ObjectClassKind::Structural);
        assert_eq!(d.to_rfc4512(), "( 1.9 STRUCTURAL )");
    }

    #[test]
    fn errors() {
        let at = |s: &str| parse_attribute_type(s).unwrap_err();
        let oc = |s: &str| parse_object_class(s).unwrap_err();
        assert_eq!(at("1.2 NAME 'x'"), "description must start with '('");
        assert_eq!(at("( NAME"), "missing closing parenthesis");
        assert_eq!(at("( 'x' )"), "expected an OID after '('");
        assert_eq!(at("( 1.2 SYNTAX 1.3"), "missing closing parenthesis");
        assert_eq!(
            at("( 1.2 SYNTAX 1.3 ) x"),
            "unexpected text after the closing parenthesis"
        );
        assert_eq!(at("( 1.2 NAME 'x )"), "unterminated quoted string");
        assert_eq!(
            at("( 1.2 NAME x SYNTAX 1.3 )"),
            "expected a quoted string after NAME"
        );
        assert!(at("( 1.2 NAME '1x' SYNTAX 1.3 )").starts_with("invalid name '1x'"));
        assert_eq!(at("( 1.2 NAME ( ) SYNTAX 1.3 )"), "empty list after NAME");
        assert_eq!(
            at("( 1.2 NAME 'a' NAME 'b' SYNTAX 1.3 )"),
            "NAME given more than once"
        );
        assert_eq!(
            at("( 1.2 DESC 'a\\2' SYNTAX 1.3 )"),
            "invalid escape in quoted string 'a\\2'"
        );
        assert!(at("( 1.2 DESC 'a\\zz' SYNTAX 1.3 )").starts_with("invalid escape"));
        assert!(at("( 1.2 DESC '\\ff' SYNTAX 1.3 )").contains("not valid UTF-8"));
        assert_eq!(
            at("( 1.2 FOO SYNTAX 1.3 )"),
            "unknown keyword 'FOO' in attribute type description"
        );
        assert_eq!(
            at("( 1.2 SYNTAX 1.3{x} )"),
            "invalid syntax length in '1.3{x}'"
        );
        assert_eq!(
            at("( 1.2 SYNTAX 1.3{12 )"),
            "invalid syntax length in '1.3{12'"
        );
        assert_eq!(at("( 1.2 SYNTAX {12} )"), "empty syntax OID");
        assert_eq!(at("( 1.2 SYNTAX )"), "expected a syntax OID after SYNTAX");
        assert_eq!(at("( 1.2 USAGE foo SYNTAX 1.3 )"), "unknown USAGE 'foo'");
        assert_eq!(at("( 1.2 NAME 'x' )"), "attribute type needs SUP or SYNTAX");
        assert_eq!(
            at("( 1.2 SYNTAX 1.3 COLLECTIVE USAGE dSAOperation )"),
            "COLLECTIVE attribute types must have USAGE userApplications"
        );
        assert_eq!(
            at("( 1.2 SYNTAX 1.3 NO-USER-MODIFICATION )"),
            "NO-USER-MODIFICATION requires an operational USAGE"
        );
        assert_eq!(at("( 1.2 SUP 'x' )"), "expected an OID or name after SUP");
        assert_eq!(at("( 1.2 SUP a.b )"), "invalid OID or name 'a.b' after SUP");
        assert_eq!(
            at("( 1.2 SUP x X-ORIGIN )"),
            "expected a quoted string after X-ORIGIN"
        );
        assert_eq!(
            at("( 1.2 SUP x MUST y )"),
            "unknown keyword 'MUST' in attribute type description"
        );
        assert_eq!(
            at("( 1.2 SUP x 'q' )"),
            "unexpected quoted string 'q', expected a keyword"
        );
        assert_eq!(at("( 1.2 SUP x ( )"), "unexpected '(', expected a keyword");
        assert_eq!(at("( 1.2 SUP x $ )"), "unexpected '$', expected a keyword");
        assert_eq!(
            oc("( 1.2 MUST ( a b ) )"),
            "missing '$' before 'b' in the list after MUST"
        );
        assert_eq!(
            oc("( 1.2 MUST ( a $ ) )"),
            "expected an OID or name after MUST"
        );
        assert_eq!(oc("( 1.2 MUST ( a 'b' ) )"), "malformed list after MUST");
        assert_eq!(oc("( 1.2 MUST ( ) )"), "expected an OID or name after MUST");
        assert_eq!(
            oc("( 1.2 ABSTRACT AUXILIARY )"),
            "kind (ABSTRACT/STRUCTURAL/AUXILIARY) given more than once"
        );
        assert_eq!(
            oc("( 1.2 SYNTAX 1.3 )"),
            "unknown keyword 'SYNTAX' in object class description"
        );
        assert_eq!(oc("( 1.2 MAY a MAY b )"), "MAY given more than once");
        assert_eq!(oc(""), "description must start with '('");
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "",
            "(",
            ")",
            "((((",
            "'",
            "( '",
            "( 1.2 '",
            "( 1.2 NAME (",
            "( 1.2 NAME ( 'a'",
            "( 1.2 SUP (",
            "( 1.2 SUP ( a $",
            "( 1.2 SYNTAX 1{",
            "( 1.2 SYNTAX 1{}",
            "( 1.2 DESC '\\",
            "( 1.2 DESC '\\2",
            "( 1.2 DESC 'é\\c3\\a9' SYNTAX 1 )",
            "$$$",
            "( $ )",
            "( 1.2 X-Y ( 'a' $ 'b' ) )",
            "( 1.2 USAGE",
            "( 1.2 EQUALITY",
            "\u{0}\u{1}",
            "( 1.2 NAME 'ä' )",
            "( 1.2 SYNTAX 1.3{99999999999} )",
        ];
        for s in samples {
            let _ = parse_attribute_type(s);
            let _ = parse_object_class(s);
            let _ = split_statements(s);
        }
        // every prefix of a valid description
        let full = "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'x\\27y' SUP name SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} X-ORIGIN ( 'a' 'b' ) )";
        for (i, _) in full.char_indices() {
            let _ = parse_attribute_type(&full[..i]);
            let _ = parse_object_class(&full[..i]);
        }
        // some pseudo-random byte soup
        let alphabet: Vec<char> = "( )$'\\NAMESUPX-{}0123.ab\n\té".chars().collect();
        let mut seed: u64 = 0x1234_5678;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..(seed % 40) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            let _ = parse_attribute_type(&s);
            let _ = parse_object_class(&s);
            let _ = split_statements(&s);
        }
        assert!(
            parse_attribute_type("( 1.2 DESC 'é\\c3\\a9' SYNTAX 1 )")
                .unwrap()
                .desc
                .as_deref()
                == Some("éé")
        );
    }
}
