//! RFC 4515 string representation of search filters, parsed into the codec's filter type.
//! Used by configuration (access rules), tools and tests; clients send filters in BER.

use ldap3_proto::proto::{LdapFilter, LdapMatchingRuleAssertion, LdapSubstringFilter};

const MAX_DEPTH: usize = 64;

/// Parse `(&(objectClass=person)(cn=J*))` and friends.
pub fn parse(text: &str) -> Result<LdapFilter, String> {
    let b = text.trim().as_bytes();
    let mut p = P { b, i: 0 };
    // A bare item without parentheses is accepted, as ldapsearch does.
    let f = if b.first() == Some(&b'(') {
        p.filter(0)?
    } else {
        let inner = format!("({})", text.trim());
        return parse(&inner);
    };
    if p.i != b.len() {
        return Err(format!(
            "unexpected text after the filter at position {}",
            p.i + 1
        ));
    }
    Ok(f)
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "'{}' expected at position {}",
                c as char,
                self.i + 1
            ))
        }
    }

    fn filter(&mut self, depth: usize) -> Result<LdapFilter, String> {
        if depth > MAX_DEPTH {
            return Err("filter nested too deeply".into());
        }
        self.expect(b'(')?;
        let f = match self.peek() {
            Some(b'&') => {
                self.i += 1;
                LdapFilter::And(self.list(depth)?)
            }
            Some(b'|') => {
                self.i += 1;
                LdapFilter::Or(self.list(depth)?)
            }
            Some(b'!') => {
                self.i += 1;
                LdapFilter::Not(Box::new(self.filter(depth + 1)?))
            }
            _ => self.item()?,
        };
        self.expect(b')')?;
        Ok(f)
    }

    fn list(&mut self, depth: usize) -> Result<Vec<LdapFilter>, String> {
        let mut v = Vec::new();
        while self.peek() == Some(b'(') {
            v.push(self.filter(depth + 1)?);
        }
        Ok(v)
    }

    fn item(&mut self) -> Result<LdapFilter, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b'=' | b'~' | b'<' | b'>' | b'(' | b')') {
                break;
            }
            self.i += 1;
        }
        let lhs = std::str::from_utf8(&self.b[start..self.i])
            .map_err(|_| "invalid UTF-8")?
            .to_string();
        let op = match (self.peek(), self.b.get(self.i + 1).copied()) {
            (Some(b'='), _) => {
                self.i += 1;
                "="
            }
            (Some(b'~'), Some(b'=')) => {
                self.i += 2;
                "~="
            }
            (Some(b'<'), Some(b'=')) => {
                self.i += 2;
                "<="
            }
            (Some(b'>'), Some(b'=')) => {
                self.i += 2;
                ">="
            }
            _ => {
                return Err(format!(
                    "filter operator expected at position {}",
                    self.i + 1
                ))
            }
        };
        // The raw value runs to the closing parenthesis; '*' separates substring parts.
        let vstart = self.i;
        while let Some(c) = self.peek() {
            if c == b')' || c == b'(' {
                break;
            }
            self.i += 1;
        }
        let raw = &self.b[vstart..self.i];
        if lhs.ends_with(':') {
            return self.extensible(&lhs[..lhs.len() - 1], raw, op);
        }
        if lhs.is_empty()
            || !lhs
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b';')
        {
            return Err(format!("invalid attribute description \"{lhs}\""));
        }
        Ok(match op {
            "~=" => LdapFilter::Approx(lhs, unescape(raw)?),
            "<=" => LdapFilter::LessOrEqual(lhs, unescape(raw)?),
            ">=" => LdapFilter::GreaterOrEqual(lhs, unescape(raw)?),
            _ => {
                if raw == b"*" {
                    LdapFilter::Present(lhs)
                } else if raw.contains(&b'*') {
                    let parts: Vec<&[u8]> = raw.split(|&c| c == b'*').collect();
                    let n = parts.len();
                    let mut sf = LdapSubstringFilter::default();
                    for (k, part) in parts.iter().enumerate() {
                        if part.is_empty() {
                            if k != 0 && k != n - 1 {
                                return Err("empty substring component (**)".into());
                            }
                            continue;
                        }
                        let v = unescape(part)?;
                        if k == 0 {
                            sf.initial = Some(v);
                        } else if k == n - 1 {
                            sf.final_ = Some(v);
                        } else {
                            sf.any.push(v);
                        }
                    }
                    LdapFilter::Substring(lhs, sf)
                } else {
                    LdapFilter::Equality(lhs, unescape(raw)?)
                }
            }
        })
    }

    fn extensible(&self, lhs: &str, raw: &[u8], op: &str) -> Result<LdapFilter, String> {
        if op != "=" {
            return Err("extensible match needs ':='".into());
        }
        let mut parts = lhs.split(':');
        let ty = parts.next().unwrap_or("");
        let mut dn_attributes = false;
        let mut rule = None;
        for p in parts {
            if p.eq_ignore_ascii_case("dn") {
                dn_attributes = true;
            } else if !p.is_empty() {
                rule = Some(p.to_string());
            }
        }
        if ty.is_empty() && rule.is_none() {
            return Err("extensible match needs an attribute or a matching rule".into());
        }
        Ok(LdapFilter::Extensible(LdapMatchingRuleAssertion {
            matching_rule: rule,
            type_: (!ty.is_empty()).then(|| ty.to_string()),
            match_value: unescape(raw)?,
            dn_attributes,
        }))
    }
}

/// `\2a` style escapes (RFC 4515 3); the value must be UTF-8 afterwards.
fn unescape(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            let h = raw
                .get(i + 1..i + 3)
                .ok_or("incomplete escape in filter value")?;
            let s = std::str::from_utf8(h).map_err(|_| "invalid escape")?;
            out.push(u8::from_str_radix(s, 16).map_err(|_| format!("invalid escape \\{s}"))?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "filter value is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        assert_eq!(
            parse("(cn=John Smith)").unwrap(),
            LdapFilter::Equality("cn".into(), "John Smith".into())
        );
        assert_eq!(
            parse("cn=x").unwrap(),
            LdapFilter::Equality("cn".into(), "x".into())
        );
        assert_eq!(parse("(cn=*)").unwrap(), LdapFilter::Present("cn".into()));
        match parse("(cn=a*b*c*d)").unwrap() {
            LdapFilter::Substring(_, s) => {
                assert_eq!(s.initial.as_deref(), Some("a"));
                assert_eq!(s.any, vec!["b".to_string(), "c".to_string()]);
                assert_eq!(s.final_.as_deref(), Some("d"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(parse("(&(a=1)(|(b=2)(!(c=3))))").unwrap(), LdapFilter::And(v) if v.len() == 2)
        );
        assert!(matches!(
            parse("(n>=5)").unwrap(),
            LdapFilter::GreaterOrEqual(..)
        ));
        assert!(matches!(
            parse("(n<=5)").unwrap(),
            LdapFilter::LessOrEqual(..)
        ));
        assert!(matches!(parse("(n~=5)").unwrap(), LdapFilter::Approx(..)));
        assert_eq!(
            parse(r"(cn=a\2ab\29)").unwrap(),
            LdapFilter::Equality("cn".into(), "a*b)".into())
        );
        match parse("(ou:dn:caseExactMatch:=x)").unwrap() {
            LdapFilter::Extensible(m) => {
                assert!(m.dn_attributes);
                assert_eq!(m.matching_rule.as_deref(), Some("caseExactMatch"));
                assert_eq!(m.type_.as_deref(), Some("ou"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("(&)").unwrap(), LdapFilter::And(v) if v.is_empty()));
    }

    #[test]
    fn rejects_bad_filters() {
        for bad in [
            "(cn=x",
            "(=x)",
            "(cn=a**b)",
            "(cn=\\4)",
            "(cn:=x)x",
            "(:=x)",
            "((cn=x))",
            "(cn=x))",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("{}(cn=x){}", "(!".repeat(100), ")".repeat(100))).is_err());
    }
}
