//! Search filters: compiled once per request against the schema (types resolved, assertion values
//! normalised by their matching rules), then evaluated three-valued (RFC 4511 4.5.1.7) per entry.
//! An unknown attribute type or an assertion value invalid for its rule makes that filter item
//! Undefined, never an error.

use crate::core::dn::Dn;
use crate::core::entry::Entry;
use crate::core::error::LdapError;
use crate::core::schema::matching::{
    approx_matches, DnNormalizer, EqualityRule, OrderingRule, SubstrRule,
};
use crate::core::schema::{AttributeType, Schema};
use ldap3_proto::proto::{LdapFilter, LdapMatchingRuleAssertion, LdapSubstringFilter};
use std::sync::Arc;

/// The truth values of LDAP filter evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Undefined,
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
}

/// Bounds on a client's filter: nesting depth and total number of items.
#[derive(Debug, Clone, Copy)]
pub struct FilterLimits {
    pub max_depth: usize,
    pub max_elements: usize,
}

/// Normalises DN-valued assertions and values with the schema.
pub(crate) struct SchemaDn<'a>(pub &'a Schema);

impl DnNormalizer for SchemaDn<'_> {
    fn normalize_dn(&self, dn: &str) -> Option<String> {
        Dn::parse(dn, self.0).ok().map(|d| d.norm().to_string())
    }
}

/// The attribute a filter item tests: the type and the stored names that count (the type itself
/// and its subtypes, e.g. `name` covers `cn`, `sn`, ...).
#[derive(Debug, Clone)]
pub struct AttrSel {
    pub(crate) ty: Arc<AttributeType>,
    names: Arc<[String]>,
    options: Vec<String>,
}

impl AttrSel {
    pub(crate) fn new(desc: &str, schema: &Schema) -> Option<AttrSel> {
        let mut parts = desc.split(';');
        let ty = schema.attribute(parts.next()?)?.clone();
        let options = parts
            .map(|o| o.to_ascii_lowercase())
            .filter(|o| o != "binary")
            .collect();
        let names = schema.subtype_names(ty.name())?;
        Some(AttrSel { ty, names, options })
    }

    /// True when no other type (subtype) is covered by this selection.
    pub(crate) fn covers_only_itself(&self) -> bool {
        self.names.len() == 1 && self.options.is_empty()
    }

    /// The values of every matching attribute of the entry.
    pub(crate) fn values<'e>(&'e self, e: &'e Entry) -> impl Iterator<Item = &'e [u8]> + 'e {
        e.attrs
            .iter()
            .filter(move |a| {
                let base = a.base_name();
                self.names.iter().any(|n| n.eq_ignore_ascii_case(base))
                    && self
                        .options
                        .iter()
                        .all(|o| a.options().any(|ao| ao.eq_ignore_ascii_case(o)))
            })
            .flat_map(|a| a.values.iter().map(|v| v.as_slice()))
    }
}

/// A compiled filter.
#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// Normalised assertion value.
    Equality(AttrSel, EqualityRule, Vec<u8>),
    Substring {
        attr: AttrSel,
        rule: SubstrRule,
        initial: Option<Vec<u8>>,
        any: Vec<Vec<u8>>,
        final_: Option<Vec<u8>>,
    },
    /// `true` for >=, `false` for <=; normalised assertion value.
    Ordering(AttrSel, OrderingRule, Vec<u8>, bool),
    Present(AttrSel),
    Approx(AttrSel, String),
    Extensible {
        attr: Option<AttrSel>,
        rule: EqualityRule,
        value: Vec<u8>,
        dn_attributes: bool,
    },
    /// An item that is Undefined whatever the entry (unknown type, bad assertion value).
    Undefined,
}

struct Compiler<'a> {
    schema: &'a Schema,
    limits: FilterLimits,
    elements: usize,
}

impl Filter {
    pub fn compile(
        f: &LdapFilter,
        schema: &Schema,
        limits: FilterLimits,
    ) -> Result<Filter, LdapError> {
        let mut c = Compiler {
            schema,
            limits,
            elements: 0,
        };
        c.compile(f, 1)
    }

    /// Evaluate against an entry (which must already carry any computed attributes the filter names).
    pub fn eval(&self, e: &Entry, schema: &Schema) -> Tri {
        self.eval_hiding(e, schema, &[])
    }

    /// Evaluate with some attribute types hidden from the requester (lower-case schema names):
    /// items on them are Undefined, as if the type were unknown.
    pub(crate) fn eval_hiding(&self, e: &Entry, schema: &Schema, hidden: &[String]) -> Tri {
        if !hidden.is_empty() {
            let hides = |a: &AttrSel| hidden.iter().any(|h| h.eq_ignore_ascii_case(a.ty.name()));
            match self {
                Filter::Equality(a, ..)
                | Filter::Substring { attr: a, .. }
                | Filter::Ordering(a, ..)
                | Filter::Present(a)
                | Filter::Approx(a, _)
                    if hides(a) =>
                {
                    return Tri::Undefined
                }
                Filter::Extensible { attr: Some(a), .. } if hides(a) => return Tri::Undefined,
                // Without a type the rule is tried on every attribute: only on those the
                // requester may search, so that a hidden value cannot be probed this way.
                Filter::Extensible { attr: None, .. }
                    if e.attrs
                        .iter()
                        .any(|a| hidden.iter().any(|h| h.eq_ignore_ascii_case(a.base_name()))) =>
                {
                    let mut visible = Entry::new(e.dn.clone());
                    visible.attrs = e
                        .attrs
                        .iter()
                        .filter(|a| !hidden.iter().any(|h| h.eq_ignore_ascii_case(a.base_name())))
                        .cloned()
                        .collect();
                    return self.eval(&visible, schema);
                }
                _ => {}
            }
        }
        match self {
            Filter::And(fs) => {
                let mut r = Tri::True;
                for f in fs {
                    match f.eval_hiding(e, schema, hidden) {
                        Tri::False => return Tri::False,
                        Tri::Undefined => r = Tri::Undefined,
                        Tri::True => {}
                    }
                }
                r
            }
            Filter::Or(fs) => {
                let mut r = Tri::False;
                for f in fs {
                    match f.eval_hiding(e, schema, hidden) {
                        Tri::True => return Tri::True,
                        Tri::Undefined => r = Tri::Undefined,
                        Tri::False => {}
                    }
                }
                r
            }
            Filter::Not(f) => match f.eval_hiding(e, schema, hidden) {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                Tri::Undefined => Tri::Undefined,
            },
            Filter::Equality(attr, _, want) => {
                let dn = SchemaDn(schema);
                any_value(attr, e, |v| schema.value_matches(&attr.ty, v, want, &dn))
            }
            Filter::Substring {
                attr,
                rule,
                initial,
                any,
                final_,
            } => {
                let any_refs: Vec<&[u8]> = any.iter().map(|v| v.as_slice()).collect();
                any_value(attr, e, |v| {
                    rule.matches(v, initial.as_deref(), &any_refs, final_.as_deref())
                })
            }
            Filter::Ordering(attr, rule, want, ge) => any_value(attr, e, |v| {
                let n = rule.normalize(v)?;
                let ord = rule.compare(&n, want)?;
                Some(if *ge { ord.is_ge() } else { ord.is_le() })
            }),
            Filter::Present(attr) => Tri::from_bool(attr.values(e).next().is_some()),
            Filter::Approx(attr, want) => any_value(attr, e, |v| {
                std::str::from_utf8(v).ok().map(|s| approx_matches(s, want))
            }),
            Filter::Extensible {
                attr,
                rule,
                value,
                dn_attributes,
            } => {
                let dn = SchemaDn(schema);
                let test = |v: &[u8]| rule.normalize_with(v, &dn).map(|n| n == *value);
                // Without a type, only attributes (and RDN types) whose type the rule applies to.
                let applies = |name: &str| {
                    schema
                        .attribute(name)
                        .is_some_and(|t| t.rule_applies(*rule))
                };
                let mut r = match attr {
                    Some(a) => any_value(a, e, test),
                    None => {
                        // Every attribute of the entry that the rule applies to.
                        let mut r = Tri::False;
                        for a in &e.attrs {
                            if !applies(a.base_name()) {
                                continue;
                            }
                            for v in &a.values {
                                match test(v) {
                                    Some(true) => return Tri::True,
                                    Some(false) => {}
                                    None => {}
                                }
                            }
                        }
                        if e.attrs.is_empty() {
                            r = Tri::False;
                        }
                        r
                    }
                };
                if r != Tri::True && *dn_attributes {
                    if let Ok(d) = Dn::parse(&e.dn, schema) {
                        for rdn in d.rdns() {
                            for ava in rdn.avas() {
                                let type_ok = match attr {
                                    Some(a) => {
                                        a.names.iter().any(|n| n.eq_ignore_ascii_case(&ava.attr))
                                    }
                                    None => applies(&ava.attr),
                                };
                                if type_ok && test(&ava.value) == Some(true) {
                                    r = Tri::True;
                                }
                            }
                        }
                    }
                }
                r
            }
            Filter::Undefined => Tri::Undefined,
        }
    }

    /// The attribute types the filter tests (schema names, lower-case, without duplicates).
    pub(crate) fn type_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_types(&mut out);
        out
    }

    fn collect_types(&self, out: &mut Vec<String>) {
        let mut push = |a: &AttrSel| {
            let n = a.ty.name().to_ascii_lowercase();
            if !out.contains(&n) {
                out.push(n);
            }
        };
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| f.collect_types(out)),
            Filter::Not(f) => f.collect_types(out),
            Filter::Equality(a, ..)
            | Filter::Substring { attr: a, .. }
            | Filter::Ordering(a, ..)
            | Filter::Present(a)
            | Filter::Approx(a, _) => push(a),
            Filter::Extensible { attr: Some(a), .. } => push(a),
            Filter::Extensible { attr: None, .. } | Filter::Undefined => {}
        }
    }

    /// The attribute types named anywhere in the filter (lower-case), to know which computed
    /// attributes evaluation needs.
    pub(crate) fn names_attribute(&self, name: &str) -> bool {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().any(|f| f.names_attribute(name)),
            Filter::Not(f) => f.names_attribute(name),
            Filter::Equality(a, ..)
            | Filter::Substring { attr: a, .. }
            | Filter::Ordering(a, ..)
            | Filter::Present(a)
            | Filter::Approx(a, _) => a.ty.name().eq_ignore_ascii_case(name),
            Filter::Extensible { attr, .. } => attr
                .as_ref()
                .is_none_or(|a| a.ty.name().eq_ignore_ascii_case(name)),
            Filter::Undefined => false,
        }
    }
}

/// Test each value: True if any is True, else Undefined if any was Undefined, else False.
fn any_value(attr: &AttrSel, e: &Entry, mut test: impl FnMut(&[u8]) -> Option<bool>) -> Tri {
    let mut r = Tri::False;
    for v in attr.values(e) {
        match test(v) {
            Some(true) => return Tri::True,
            Some(false) => {}
            None => r = Tri::Undefined,
        }
    }
    r
}

impl Compiler<'_> {
    fn sel(&self, desc: &str) -> Option<AttrSel> {
        AttrSel::new(desc, self.schema)
    }

    fn compile(&mut self, f: &LdapFilter, depth: usize) -> Result<Filter, LdapError> {
        self.elements += 1;
        if depth > self.limits.max_depth {
            return Err(LdapError::unwilling(format!(
                "filter nested deeper than {} levels",
                self.limits.max_depth
            )));
        }
        if self.elements > self.limits.max_elements {
            return Err(LdapError::unwilling(format!(
                "filter has more than {} items",
                self.limits.max_elements
            )));
        }
        let schema = self.schema;
        let dn = SchemaDn(schema);
        Ok(match f {
            LdapFilter::And(fs) => Filter::And(
                fs.iter()
                    .map(|x| self.compile(x, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            LdapFilter::Or(fs) => Filter::Or(
                fs.iter()
                    .map(|x| self.compile(x, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            LdapFilter::Not(x) => Filter::Not(Box::new(self.compile(x, depth + 1)?)),
            LdapFilter::Equality(a, v) => {
                let Some(attr) = self.sel(a) else {
                    return Ok(Filter::Undefined);
                };
                let Some(rule) = attr.ty.equality else {
                    return Ok(Filter::Undefined);
                };
                match schema.normalize_value(&attr.ty, v.as_bytes(), &dn) {
                    Some(n) => Filter::Equality(attr, rule, n),
                    None => Filter::Undefined,
                }
            }
            LdapFilter::Substring(
                a,
                LdapSubstringFilter {
                    initial,
                    any,
                    final_,
                },
            ) => {
                let Some(attr) = self.sel(a) else {
                    return Ok(Filter::Undefined);
                };
                let Some(rule) = attr.ty.substr else {
                    return Ok(Filter::Undefined);
                };
                Filter::Substring {
                    attr,
                    rule,
                    initial: initial.as_ref().map(|s| s.as_bytes().to_vec()),
                    any: any.iter().map(|s| s.as_bytes().to_vec()).collect(),
                    final_: final_.as_ref().map(|s| s.as_bytes().to_vec()),
                }
            }
            LdapFilter::GreaterOrEqual(a, v) | LdapFilter::LessOrEqual(a, v) => {
                let ge = matches!(f, LdapFilter::GreaterOrEqual(..));
                let Some(attr) = self.sel(a) else {
                    return Ok(Filter::Undefined);
                };
                let Some(rule) = attr.ty.ordering else {
                    return Ok(Filter::Undefined);
                };
                match rule.normalize(v.as_bytes()) {
                    Some(n) => Filter::Ordering(attr, rule, n, ge),
                    None => Filter::Undefined,
                }
            }
            LdapFilter::Present(a) => match self.sel(a) {
                Some(attr) => Filter::Present(attr),
                None => Filter::Undefined,
            },
            LdapFilter::Approx(a, v) => {
                let Some(attr) = self.sel(a) else {
                    return Ok(Filter::Undefined);
                };
                if attr.ty.equality.is_none() {
                    return Ok(Filter::Undefined);
                }
                Filter::Approx(attr, v.clone())
            }
            LdapFilter::Extensible(LdapMatchingRuleAssertion {
                matching_rule,
                type_,
                match_value,
                dn_attributes,
            }) => {
                let attr = match type_ {
                    Some(t) => match self.sel(t) {
                        Some(a) => Some(a),
                        None => return Ok(Filter::Undefined),
                    },
                    None => None,
                };
                let rule = match matching_rule {
                    Some(r) => match EqualityRule::from_name_or_oid(r) {
                        Some(rule) => rule,
                        None => return Ok(Filter::Undefined),
                    },
                    None => match attr.as_ref().and_then(|a| a.ty.equality) {
                        Some(rule) => rule,
                        None => return Ok(Filter::Undefined),
                    },
                };
                // A rule that does not apply to the type's syntax (caseExactMatch on the IA5
                // String mail) makes the item Undefined (RFC 4511 4.5.1.7.7), as in OpenLDAP.
                if attr.as_ref().is_some_and(|a| !a.ty.rule_applies(rule)) {
                    return Ok(Filter::Undefined);
                }
                match rule.normalize_with(match_value.as_bytes(), &dn) {
                    Some(value) => Filter::Extensible {
                        attr,
                        rule,
                        value,
                        dn_attributes: *dn_attributes,
                    },
                    None => Filter::Undefined,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::filter_text::parse as parse_ldap_filter_str;

    const LIMITS: FilterLimits = FilterLimits {
        max_depth: 32,
        max_elements: 1000,
    };

    fn entry() -> Entry {
        let mut e = Entry::new("cn=John Smith,ou=people,dc=example");
        e.set(
            "objectClass",
            vec![b"top".to_vec(), b"inetOrgPerson".to_vec()],
        );
        e.set("cn", vec![b"John Smith".to_vec()]);
        e.set("sn", vec![b"Smith".to_vec()]);
        e.set("telephoneNumber", vec![b"+49 69 1234 5678".to_vec()]);
        e.set("cctldContactPriority", vec![b"42".to_vec()]);
        e.set("member", vec![b"CN=Ann,DC=Example".to_vec()]);
        e
    }

    fn eval(s: &str) -> Tri {
        let schema = Schema::builtin().unwrap();
        let f = parse_ldap_filter_str(s).unwrap();
        Filter::compile(&f, &schema, LIMITS)
            .unwrap()
            .eval(&entry(), &schema)
    }

    #[test]
    fn basic_items() {
        assert_eq!(eval("(cn=john smith)"), Tri::True);
        assert_eq!(eval("(cn=john  SMITH )"), Tri::True);
        assert_eq!(eval("(cn=jane)"), Tri::False);
        assert_eq!(eval("(cn=*)"), Tri::True);
        assert_eq!(eval("(mail=*)"), Tri::False);
        assert_eq!(eval("(cn=jo*sm*h)"), Tri::True);
        assert_eq!(eval("(cn=*ohn*)"), Tri::True);
        assert_eq!(eval("(cn=*x*)"), Tri::False);
        assert_eq!(eval("(telephoneNumber=+49691234*)"), Tri::True);
        assert_eq!(eval("(telephoneNumber=+49-69-1234-5678)"), Tri::True);
        assert_eq!(eval("(cctldContactPriority>=41)"), Tri::True);
        assert_eq!(eval("(cctldContactPriority<=9)"), Tri::False);
        assert_eq!(eval("(member=cn=ann,dc=example)"), Tri::True);
        assert_eq!(eval("(name=smith)"), Tri::True, "subtypes of name");
        assert_eq!(eval("(cn~=john smith)"), Tri::True);
    }

    #[test]
    fn three_valued() {
        assert_eq!(eval("(nosuchattr=x)"), Tri::Undefined);
        assert_eq!(eval("(!(nosuchattr=x))"), Tri::Undefined);
        assert_eq!(eval("(|(nosuchattr=x)(cn=john smith))"), Tri::True);
        assert_eq!(eval("(&(nosuchattr=x)(cn=jane))"), Tri::False);
        assert_eq!(eval("(&(nosuchattr=x)(cn=john smith))"), Tri::Undefined);
        assert_eq!(eval("(cctldContactPriority=notanumber)"), Tri::Undefined);
        assert_eq!(eval("(!(cn=jane))"), Tri::True);
    }

    #[test]
    fn extensible() {
        assert_eq!(eval("(cn:caseExactMatch:=John Smith)"), Tri::True);
        assert_eq!(eval("(cn:caseExactMatch:=john smith)"), Tri::False);
        assert_eq!(eval("(ou:dn:=people)"), Tri::True);
        assert_eq!(eval("(ou=people)"), Tri::False);
        assert_eq!(eval("(:caseIgnoreMatch:=smith)"), Tri::True);
        assert_eq!(eval("(cn:nosuchrule:=x)"), Tri::Undefined);
    }

    #[test]
    fn object_class_equality_matches_superclasses() {
        let schema = Schema::builtin().unwrap();
        let mut e = Entry::new("uid=ann,ou=people,dc=example");
        e.set(
            "objectClass",
            vec![b"inetOrgPerson".to_vec(), b"cctldContact".to_vec()],
        );
        let ev = |s: &str| {
            let f = parse_ldap_filter_str(s).unwrap();
            Filter::compile(&f, &schema, LIMITS)
                .unwrap()
                .eval(&e, &schema)
        };
        for class in [
            "person",
            "organizationalPerson",
            "2.5.6.6",
            "top",
            "cctldContact",
        ] {
            assert_eq!(ev(&format!("(objectClass={class})")), Tri::True, "{class}");
        }
        assert_eq!(ev("(objectClass=organizationalRole)"), Tri::False);
        assert_eq!(ev("(!(objectClass=person))"), Tri::False);
        // Only equality widens: the explicit objectIdentifierMatch compares the values as
        // written, as in OpenLDAP.
        assert_eq!(
            ev("(objectClass:objectIdentifierMatch:=person)"),
            Tri::False
        );
        assert_eq!(
            ev("(objectClass:objectIdentifierMatch:=inetOrgPerson)"),
            Tri::True
        );
    }

    #[test]
    fn extensible_match_without_a_type_does_not_see_hidden_attributes() {
        // Regression: `(:caseIgnoreMatch:=v)` tried the rule on every attribute, also those
        // the requester may not search, so a hidden value could be probed.
        let schema = Schema::builtin().unwrap();
        let mut e = entry();
        e.set("description", vec![b"the secret".to_vec()]);
        let f = parse_ldap_filter_str("(:caseIgnoreMatch:=THE SECRET)").unwrap();
        let f = Filter::compile(&f, &schema, LIMITS).unwrap();
        assert_eq!(f.eval(&e, &schema), Tri::True);
        assert_eq!(f.eval_hiding(&e, &schema, &[]), Tri::True);
        let hidden = vec!["description".to_string()];
        assert_ne!(f.eval_hiding(&e, &schema, &hidden), Tri::True);
        let not = parse_ldap_filter_str("(!(:caseIgnoreMatch:=THE SECRET))").unwrap();
        let not = Filter::compile(&not, &schema, LIMITS).unwrap();
        assert_eq!(
            not.eval_hiding(&e, &schema, &hidden),
            not.eval(&entry(), &schema)
        );
    }

    #[test]
    fn extensible_match_with_a_rule_not_for_the_syntax_is_undefined() {
        let schema = Schema::builtin().unwrap();
        let mut e = entry();
        e.set("mail", vec![b"John.Smith@Example.org".to_vec()]);
        e.set("c", vec![b"DE".to_vec()]);
        let ev = |s: &str| {
            let f = parse_ldap_filter_str(s).unwrap();
            Filter::compile(&f, &schema, LIMITS)
                .unwrap()
                .eval(&e, &schema)
        };
        // mail is an IA5 String; caseExactMatch and caseIgnoreMatch are for Directory Strings.
        assert_eq!(
            ev("(mail:caseExactMatch:=John.Smith@Example.org)"),
            Tri::Undefined
        );
        assert_eq!(ev("(!(mail:caseExactMatch:=x))"), Tri::Undefined);
        assert_eq!(
            ev("(mail:caseIgnoreMatch:=john.smith@example.org)"),
            Tri::Undefined
        );
        assert_eq!(
            ev("(mail:caseExactIA5Match:=John.Smith@Example.org)"),
            Tri::True
        );
        assert_eq!(
            ev("(mail:caseExactIA5Match:=john.smith@example.org)"),
            Tri::False
        );
        assert_eq!(ev("(cn:caseIgnoreIA5Match:=john smith)"), Tri::Undefined);
        assert_eq!(ev("(cn:integerMatch:=1)"), Tri::Undefined);
        // Compatible syntaxes: Telephone Number and Country String take caseIgnoreMatch.
        assert_eq!(
            ev("(telephoneNumber:caseIgnoreMatch:=+49 69 1234 5678)"),
            Tri::True
        );
        assert_eq!(ev("(c:caseExactMatch:=DE)"), Tri::True);
        assert_eq!(ev("(c:caseIgnoreIA5Match:=de)"), Tri::True);
        // Without a type only the attributes the rule applies to are tested.
        assert_eq!(ev("(:caseIgnoreMatch:=john.smith@example.org)"), Tri::False);
        assert_eq!(
            ev("(:caseIgnoreIA5Match:=john.smith@example.org)"),
            Tri::True
        );
        assert_eq!(ev("(:caseIgnoreIA5Match:=john smith)"), Tri::False);
        assert_eq!(ev("(:dn:caseIgnoreIA5Match:=people)"), Tri::False);
        assert_eq!(ev("(:dn:caseIgnoreMatch:=people)"), Tri::True);
    }

    #[test]
    fn limits() {
        let schema = Schema::builtin().unwrap();
        let deep = format!("{}(cn=x){}", "(!".repeat(40), ")".repeat(40));
        let f = parse_ldap_filter_str(&deep).unwrap();
        assert!(Filter::compile(&f, &schema, LIMITS).is_err());
        let wide = format!("(|{})", "(cn=x)".repeat(2000));
        let f = parse_ldap_filter_str(&wide).unwrap();
        assert!(Filter::compile(&f, &schema, LIMITS).is_err());
    }
}
