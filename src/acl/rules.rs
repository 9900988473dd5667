//! The access rule language (configuration) and its compiled form.
//!
//! ```toml
//! [[access.rules]]
//! dn = "ou=registries,dc=cctld-ir,dc=example"   # default: the suffix
//! scope = "subtree"                             # base | one | subtree | children
//! filter = "(objectClass=cctldContact)"         # optional
//! attrs = ["userPassword"]                      # optional; "entry" stands for the entry itself
//! by = ["self write", "group:cn=members,ou=groups,dc=cctld-ir,dc=example read", "* none"]
//! ```
//!
//! Like OpenLDAP's `access to`: the first rule whose dn/scope/filter/attrs match decides, and in
//! it the first `by` clause whose subject matches gives the access level; no match means none.

use crate::core::dn::{Dn, Rdn};
use crate::core::filter::{Filter, FilterLimits};
use crate::core::schema::Schema;
use serde::{Deserialize, Serialize};

/// Access levels, each including the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    None,
    /// Use the attribute to authenticate (bind with the password).
    Auth,
    Compare,
    Search,
    Read,
    /// As `ValueWrite`, but only deleting values (leave a group, never join one).
    ValueDelete,
    /// Read, and add or delete values of a DN-valued attribute (such as a group's `member`)
    /// when the subject matches the entry each value names rather than the target entry:
    /// `ancestor-group:cn=admins@ou=registries,... valuewrite` lets a registry's admins
    /// subscribe and unsubscribe their own registry, and nothing else.
    ValueWrite,
    /// Modify, add, delete, rename.
    Write,
    Manage,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "none" => Level::None,
            "auth" => Level::Auth,
            "compare" => Level::Compare,
            "search" => Level::Search,
            "read" => Level::Read,
            "valuedelete" => Level::ValueDelete,
            "valuewrite" => Level::ValueWrite,
            "write" => Level::Write,
            "manage" => Level::Manage,
            _ => return None,
        })
    }
}

/// A rule as written in the configuration.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    pub dn: Option<String>,
    pub scope: Option<String>,
    pub filter: Option<String>,
    pub attrs: Vec<String>,
    pub by: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Base,
    One,
    Subtree,
    Children,
}

/// Who a `by` clause is about.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    Anyone,
    Anonymous,
    Users,
    SelfEntry,
    /// Exactly this DN (store key).
    Dn(Vec<u8>),
    /// Any DN at or below this one (store key).
    DnSubtree(Vec<u8>),
    /// A member of this groupOfNames / groupOfUniqueNames (store key of the group).
    Group(Vec<u8>),
    /// A member, or an entry below a member (members may be registries: their people count).
    GroupSubtree(Vec<u8>),
    /// A member of the group `rdn` directly below the target's ancestor that is a child of
    /// `container` ("the admins group of the registry that holds this entry").
    AncestorGroup {
        container: Vec<u8>,
        depth: usize,
        rdn: Rdn,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(crate) key: Vec<u8>,
    pub(crate) depth: usize,
    pub(crate) scope: Scope,
    pub(crate) filter: Option<Filter>,
    /// Lower-case attribute names; empty = every attribute and the entry.
    pub(crate) attrs: Vec<String>,
    pub(crate) by: Vec<(Who, Level)>,
}

impl Rule {
    /// Does the rule cover this target (store key and depth) and attribute (None = the entry)?
    pub(crate) fn covers(&self, key: &[u8], depth: usize, attr: Option<&str>) -> bool {
        let in_scope = match self.scope {
            Scope::Base => key == self.key.as_slice(),
            Scope::One => depth == self.depth + 1 && key.starts_with(&self.key),
            Scope::Subtree => key.starts_with(&self.key),
            Scope::Children => depth > self.depth && key.starts_with(&self.key),
        };
        if !in_scope {
            return false;
        }
        if self.attrs.is_empty() {
            return true;
        }
        let name = attr.unwrap_or("entry");
        self.attrs.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

fn dn_key(text: &str, schema: &Schema) -> Result<(Vec<u8>, usize), String> {
    let d = Dn::parse(text, schema).map_err(|e| format!("\"{text}\": {}", e.message))?;
    Ok((d.store_key(), d.depth()))
}

fn parse_who(text: &str, schema: &Schema) -> Result<Who, String> {
    Ok(match text {
        "*" => Who::Anyone,
        "anonymous" => Who::Anonymous,
        "users" => Who::Users,
        "self" => Who::SelfEntry,
        _ => {
            let (kind, arg) = text
                .split_once(':')
                .ok_or_else(|| format!("unknown subject \"{text}\" (*, anonymous, users, self, dn:, dn.subtree:, group:, group.subtree:, ancestor-group:)"))?;
            match kind {
                "dn" => Who::Dn(dn_key(arg, schema)?.0),
                "dn.subtree" => Who::DnSubtree(dn_key(arg, schema)?.0),
                "group" => Who::Group(dn_key(arg, schema)?.0),
                "group.subtree" => Who::GroupSubtree(dn_key(arg, schema)?.0),
                "ancestor-group" => {
                    let (rdn, container) = arg
                        .split_once('@')
                        .ok_or("ancestor-group needs <group RDN>@<container DN>")?;
                    let rdn = Dn::parse_rdn(rdn, schema).map_err(|e| e.message)?;
                    let (container, depth) = dn_key(container, schema)?;
                    Who::AncestorGroup {
                        container,
                        depth,
                        rdn,
                    }
                }
                other => return Err(format!("unknown subject kind \"{other}\"")),
            }
        }
    })
}

/// Compile the configured rules; errors name the rule (1-based) and the problem.
pub(crate) fn compile(
    rules: &[RuleConfig],
    suffix: &Dn,
    schema: &Schema,
) -> Result<Vec<Rule>, String> {
    let limits = FilterLimits {
        max_depth: 32,
        max_elements: 256,
    };
    let mut out = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let ctx = |m: String| format!("access rule {}: {m}", i + 1);
        let (key, depth) = match &r.dn {
            Some(d) => dn_key(d, schema).map_err(ctx)?,
            None => (suffix.store_key(), suffix.depth()),
        };
        let scope = match r.scope.as_deref().unwrap_or("subtree") {
            "base" => Scope::Base,
            "one" => Scope::One,
            "subtree" => Scope::Subtree,
            "children" => Scope::Children,
            other => return Err(ctx(format!("unknown scope \"{other}\""))),
        };
        let filter = match &r.filter {
            Some(f) => {
                let parsed = crate::core::filter_text::parse(f)
                    .map_err(|m| ctx(format!("filter {f}: {m}")))?;
                Some(Filter::compile(&parsed, schema, limits).map_err(|e| ctx(e.message))?)
            }
            None => None,
        };
        for a in &r.attrs {
            if !a.eq_ignore_ascii_case("entry") && schema.attribute(a).is_none() {
                return Err(ctx(format!("attribute type \"{a}\" is not defined")));
            }
        }
        if r.by.is_empty() {
            return Err(ctx("no \"by\" clauses".into()));
        }
        let mut by = Vec::with_capacity(r.by.len());
        for b in &r.by {
            let (who, level) = b
                .trim()
                .rsplit_once(char::is_whitespace)
                .ok_or_else(|| ctx(format!("\"{b}\": expected \"<subject> <level>\"")))?;
            let level = Level::parse(level.trim()).ok_or_else(|| {
                ctx(format!(
                    "\"{b}\": unknown level (none, auth, compare, search, read, write, manage)"
                ))
            })?;
            by.push((parse_who(who.trim(), schema).map_err(ctx)?, level));
        }
        out.push(Rule {
            key,
            depth,
            scope,
            filter,
            attrs: r.attrs.iter().map(|a| a.to_ascii_lowercase()).collect(),
            by,
        });
    }
    Ok(out)
}

/// The shipped policy, following the directory layout (see docs/security.md).
pub(crate) fn default_rules(suffix: &str) -> Vec<RuleConfig> {
    let admins = format!("group:cn=directory-admins,ou=groups,{suffix}");
    let members = format!("group.subtree:cn=members,ou=groups,{suffix}");
    let registry_admins = format!("ancestor-group:cn=admins@ou=registries,{suffix}");
    // Services that read the directory without being members (the list's mail server).
    let services = format!("group:cn=services,ou=groups,{suffix}");
    // Who records verifications (docs/operations/freshness.md).
    let verifiers = format!(
        "group:{},{},{suffix}",
        crate::core::dit::VERIFIERS_RDN,
        crate::core::dit::GROUPS_RDN
    );
    // Who may change the `member` values of the list groups selected by `filter`.
    let list_members = |filter: &str, registry_admins_level: &str| RuleConfig {
        dn: Some(format!("ou=groups,{suffix}")),
        scope: Some("one".into()),
        filter: Some(filter.into()),
        attrs: vec!["member".into()],
        by: vec![
            format!("{admins} manage"),
            format!("{registry_admins} {registry_admins_level}"),
            format!("{members} read"),
            format!("{services} read"),
            "* none".into(),
        ],
    };
    vec![
        RuleConfig {
            attrs: vec!["userPassword".into()],
            by: vec![
                format!("{admins} manage"),
                format!("{registry_admins} write"),
                "self write".into(),
                "anonymous auth".into(),
                "* none".into(),
            ],
            ..Default::default()
        },
        // The verification history: the registry's admins and the verifiers read it, nobody
        // writes it (the server does; only manage access deletes a record).
        RuleConfig {
            dn: Some(format!("ou=registries,{suffix}")),
            scope: Some("children".into()),
            filter: Some("(objectClass=cctldVerificationRecord)".into()),
            by: vec![
                format!("{admins} manage"),
                format!("{verifiers} read"),
                format!("{registry_admins} read"),
                "* none".into(),
            ],
            ..Default::default()
        },
        // Recording a verification: the verifiers write these four attributes of a contact
        // and nothing else (the write pipeline also reserves recording to them; a registry's
        // admins may only write `confirmed`).
        RuleConfig {
            dn: Some(format!("ou=registries,{suffix}")),
            scope: Some("children".into()),
            filter: Some("(objectClass=cctldContact)".into()),
            attrs: vec![
                "cctldLastVerified".into(),
                "cctldVerificationMethod".into(),
                "cctldVerificationStatus".into(),
                "cctldVerificationNote".into(),
            ],
            by: vec![
                format!("{admins} manage"),
                format!("{verifiers} write"),
                format!("{registry_admins} write"),
                format!("{members} read"),
                format!("{services} read"),
                "self read".into(),
                "* none".into(),
            ],
        },
        // The registries, and their container itself: so that the verifiers, who read every
        // registry, may search from it (the overdue search, the portal's verifiers' queue);
        // for everyone else the container answers as under the last rule.
        RuleConfig {
            dn: Some(format!("ou=registries,{suffix}")),
            scope: Some("subtree".into()),
            by: vec![
                format!("{admins} manage"),
                format!("{registry_admins} write"),
                format!("{verifiers} read"),
                format!("{members} read"),
                format!("{services} read"),
                "self read".into(),
                "* none".into(),
            ],
            ..Default::default()
        },
        // GnuPG's dirmngr finds the key subtree here before it binds to anything else, and it
        // holds nothing personal: anyone may read it.
        RuleConfig {
            dn: Some(format!(
                "{},{suffix}",
                crate::core::dit::PGP_SERVER_INFO_RDN
            )),
            scope: Some("base".into()),
            by: vec![format!("{admins} manage"), "* read".into()],
            ..Default::default()
        },
        // OpenPGP keys (`gpg --send-keys` / `--recv-keys`): user IDs are personal data, so only
        // members read them; members may also upload (add and replace key blocks), but only
        // pgpKeyInfo entries directly below the key subtree, as dirmngr writes them.
        RuleConfig {
            dn: Some(format!("{},{suffix}", crate::core::dit::PGP_KEYS_RDN)),
            scope: Some("one".into()),
            filter: Some("(objectClass=pgpKeyInfo)".into()),
            by: vec![
                format!("{admins} manage"),
                format!("{members} write"),
                "* none".into(),
            ],
            ..Default::default()
        },
        // The secure list's groups. cn=members also makes a registry's people entitled
        // readers, so joining it stays with the directory admins (admission); a registry's
        // admins may take their own registry off it (member values naming an entry of their
        // registry, nothing else), and join or leave the regional lists.
        list_members("(cn=members)", "valuedelete"),
        list_members("(cn=region-*)", "valuewrite"),
        // Any user may see that the list groups exist (not what they hold), so a registry that
        // is not on a regional list can join it.
        RuleConfig {
            dn: Some(format!("ou=groups,{suffix}")),
            scope: Some("one".into()),
            filter: Some(LIST_GROUPS.into()),
            by: vec![
                format!("{admins} manage"),
                format!("{members} read"),
                format!("{services} read"),
                "users search".into(),
                "* none".into(),
            ],
            ..Default::default()
        },
        // The monitor (cn=Monitor): the directory admins and a monitoring group.
        RuleConfig {
            dn: Some("cn=Monitor".into()),
            scope: Some("subtree".into()),
            by: vec![
                format!("{admins} read"),
                format!("group:cn=monitoring,ou=groups,{suffix} read"),
                "* none".into(),
            ],
            ..Default::default()
        },
        // The changelog (cn=changelog, outside the naming context): who may read it at all;
        // each change is shown only to those who may see its entry, and only the values they
        // may read of it (ops/search/changelog.rs).
        RuleConfig {
            dn: Some("cn=changelog".into()),
            scope: Some("subtree".into()),
            by: vec![
                format!("{admins} manage"),
                format!("{verifiers} read"),
                format!("{members} read"),
                "* none".into(),
            ],
            ..Default::default()
        },
        RuleConfig {
            by: vec![
                format!("{admins} manage"),
                format!("{members} read"),
                format!("{services} read"),
                "self read".into(),
                "* none".into(),
            ],
            ..Default::default()
        },
    ]
}

/// The groups the secure list is built from (docs/operations/mailing-list.md).
pub(crate) const LIST_GROUPS: &str = "(|(cn=members)(cn=region-*))";

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/security.md writes the default policy out as rules: it must be the shipped one.
    #[test]
    fn documented_default_policy_is_the_shipped_one() {
        #[derive(Deserialize)]
        struct Doc {
            access: DocAccess,
        }
        #[derive(Deserialize)]
        struct DocAccess {
            rules: Vec<RuleConfig>,
        }
        let doc = include_str!("../../docs/security.md");
        let block = doc
            .split_once("Written as rules, it is:\n\n```toml\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(block, _)| block)
            .unwrap_or_default();
        let parsed: Doc = toml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert_eq!(parsed.access.rules, default_rules("dc=cctld-ir,dc=example"));
    }
}
