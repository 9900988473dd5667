//! Entries, attributes and attribute descriptions (`type;option;option`).

use crate::core::error::LdapError;
use crate::core::schema::{AttributeType, Schema};
use std::sync::Arc;

/// Most options on one attribute description; descriptions are short in practice.
const MAX_OPTIONS: usize = 8;

/// A parsed attribute description: a schema type plus options (`binary`, `lang-de`), lower-cased.
#[derive(Debug, Clone)]
pub struct AttrDesc {
    pub(crate) ty: Arc<AttributeType>,
    pub(crate) options: Vec<String>,
}

impl AttrDesc {
    /// Parse `cn`, `2.5.4.3`, `userCertificate;binary`. Unknown types give undefinedAttributeType.
    pub fn parse(text: &str, schema: &Schema) -> Result<AttrDesc, LdapError> {
        let mut parts = text.split(';');
        let name = parts.next().unwrap_or("");
        let ty = schema
            .attribute(name)
            .ok_or_else(|| LdapError::undefined_type(format!("{name}: attribute type undefined")))?
            .clone();
        let mut options: Vec<String> = Vec::new();
        for o in parts {
            if o.is_empty() || !o.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                return Err(LdapError::undefined_type(format!(
                    "{text}: invalid attribute option"
                )));
            }
            let o = o.to_ascii_lowercase();
            // `binary` is a transfer option (RFC 4522), not part of the stored description.
            if o == "binary" {
                continue;
            }
            if !options.contains(&o) {
                options.push(o);
            }
            if options.len() > MAX_OPTIONS {
                return Err(LdapError::undefined_type(format!(
                    "{name}: too many options"
                )));
            }
        }
        options.sort();
        Ok(AttrDesc { ty, options })
    }

    pub(crate) fn name(&self) -> &str {
        self.ty.name()
    }

    /// The stored attribute key: canonical name plus options.
    pub(crate) fn to_attribute_name(&self) -> String {
        let mut s = self.ty.name().to_string();
        for o in &self.options {
            s.push(';');
            s.push_str(o);
        }
        s
    }
}

/// One attribute of an entry: its description as stored (`cn`, `userCertificate;binary`) and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub(crate) name: String,
    pub(crate) values: Vec<Vec<u8>>,
}

impl Attribute {
    pub(crate) fn new(name: impl Into<String>, values: Vec<Vec<u8>>) -> Self {
        Attribute {
            name: name.into(),
            values,
        }
    }
    /// The type part of the description, without options.
    pub(crate) fn base_name(&self) -> &str {
        self.name.split(';').next().unwrap_or(&self.name)
    }
    pub(crate) fn options(&self) -> impl Iterator<Item = &str> {
        self.name.split(';').skip(1)
    }
}

/// An entry as stored: the DN as written when it was added or renamed, and its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub dn: String,
    pub(crate) attrs: Vec<Attribute>,
}

impl Entry {
    pub fn new(dn: impl Into<String>) -> Self {
        Entry {
            dn: dn.into(),
            attrs: Vec::new(),
        }
    }

    /// The attribute with exactly this description (case-insensitive), if present.
    pub(crate) fn get(&self, name: &str) -> Option<&Attribute> {
        self.attrs
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Attribute> {
        self.attrs
            .iter_mut()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The first value of an attribute as text.
    pub(crate) fn first_str(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(|a| a.values.first())
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Replace (or remove, with no values) an attribute.
    pub fn set(&mut self, name: &str, values: Vec<Vec<u8>>) {
        self.attrs.retain(|a| !a.name.eq_ignore_ascii_case(name));
        if !values.is_empty() {
            self.attrs.push(Attribute::new(name, values));
        }
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.attrs.retain(|a| !a.name.eq_ignore_ascii_case(name));
    }

    /// True when the entry has an objectClass value equal (case-insensitively) to `oc`.
    pub(crate) fn has_object_class(&self, oc: &str) -> bool {
        self.get("objectClass").is_some_and(|a| {
            a.values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(oc.as_bytes()))
        })
    }

    /// All attributes whose base type is `ty` (any options).
    pub(crate) fn attrs_of_type<'a>(
        &'a self,
        ty: &'a str,
    ) -> impl Iterator<Item = &'a Attribute> + 'a {
        self.attrs
            .iter()
            .filter(move |a| a.base_name().eq_ignore_ascii_case(ty))
    }

    /// A rough size of the entry in bytes, for limits.
    pub(crate) fn size(&self) -> usize {
        self.dn.len()
            + self
                .attrs
                .iter()
                .map(|a| a.name.len() + a.values.iter().map(|v| v.len() + 4).sum::<usize>())
                .sum::<usize>()
    }
}

/// An entry the write pipeline checked (schema, naming attributes, single values) and gave its
/// operational attributes: the only kind of entry the store writes. Only the write pipeline
/// (`crate::write`) makes one; the layer test (tests/it/layers.rs) keeps it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedEntry(Entry);

impl CheckedEntry {
    /// For the write pipeline only: `e` passed its checks.
    pub(crate) fn certified(e: Entry) -> Self {
        CheckedEntry(e)
    }
}

impl std::ops::Deref for CheckedEntry {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_desc_options() {
        let s = Schema::builtin().unwrap();
        let d = AttrDesc::parse("userCertificate;Binary", &s).unwrap();
        assert_eq!(d.to_attribute_name(), "userCertificate");
        let d = AttrDesc::parse("cn;lang-DE", &s).unwrap();
        assert_eq!(d.to_attribute_name(), "cn;lang-de");
        let d = AttrDesc::parse("CN", &s).unwrap();
        assert_eq!(d.to_attribute_name(), "cn");
        assert!(AttrDesc::parse("nosuch", &s).is_err());
        assert!(AttrDesc::parse("cn;", &s).is_err());
        assert!(AttrDesc::parse("cn;a b", &s).is_err());
    }

    #[test]
    fn entry_accessors() {
        let mut e = Entry::new("cn=x");
        e.set("objectClass", vec![b"top".to_vec(), b"person".to_vec()]);
        e.set("cn", vec![b"x".to_vec()]);
        assert!(e.has_object_class("PERSON"));
        assert_eq!(e.first_str("CN"), Some("x"));
        e.set("cn", vec![]);
        assert!(e.get("cn").is_none());
    }
}
