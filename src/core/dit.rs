//! The directory information tree's fixed names: entries the server creates on first start and
//! that access rules and tools refer to.

/// The entry dirmngr reads below each naming context (`cn=pgpServerInfo,<context>`, base search)
/// to find the key subtree; anyone may read it (see acl/rules.rs).
pub(crate) const PGP_SERVER_INFO_RDN: &str = "cn=PGPServerInfo";
/// The OpenPGP key subtree (`pgpBaseKeySpaceDN`), named as GnuPG's gnupg-ldap-init.ldif suggests.
pub(crate) const PGP_KEYS_RDN: &str = "ou=GnuPG Keys";
/// The containers below the suffix created on first start.
pub(crate) const REGISTRIES_RDN: &str = "ou=registries";
pub(crate) const GROUPS_RDN: &str = "ou=groups";
/// The verifiers group below `ou=groups`: its members record verifications
/// (docs/operations/freshness.md).
pub(crate) const VERIFIERS_RDN: &str = "cn=verifiers";
