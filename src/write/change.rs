//! What the write pipeline takes: a typed change, who makes it, and where it comes from.

use crate::acl::Identity;
use crate::core::dn::{Dn, Rdn};

/// Attribute descriptions with their values, as a request, an LDIF record or a generator gives
/// them (descriptions are parsed by the pipeline's normalise stage).
pub type Attrs = Vec<(String, Vec<Vec<u8>>)>;

/// One change to the directory.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Add {
        dn: Dn,
        attrs: Attrs,
    },
    Modify {
        dn: Dn,
        mods: Vec<Mod>,
        /// Adding a present value or deleting an absent one is not an error (the permissive
        /// modify control).
        permissive: bool,
    },
    Rename {
        dn: Dn,
        new_rdn: Rdn,
        delete_old_rdn: bool,
        new_superior: Option<Dn>,
    },
    Delete {
        dn: Dn,
    },
}

/// One modification of a modify change.
#[derive(Debug, Clone)]
pub(crate) struct Mod {
    pub(crate) op: ModOp,
    pub(crate) attr: String,
    pub(crate) values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModOp {
    Add,
    Delete,
    Replace,
    Increment,
}

/// Where a change comes from. What each origin skips is declared in [`Origin::stages`], and
/// nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// An LDAP client's request (and, later, the portal's).
    Client,
    /// A command-line tool acting as a named identity (`ccdir verify --by DN`).
    Command,
    /// The server itself, for a change whose access the calling operation decided by its own
    /// rule: the password modify extended operation (RFC 3062) and the re-hashing of a legacy
    /// password at bind. The values are hashes the server made. Password Modify makes no new
    /// account for a registry admin (`accounts::password_modify_allowed`), so the accounts
    /// stage has nothing to do here.
    Server,
    /// `ccdir import` and the sample directory: the operator's LDIF. With `keep_operational`
    /// the entries keep the operational attributes they carry (entryUUID, timestamps, CSN), as
    /// an export wrote them.
    Import { keep_operational: bool },
    /// The entries the first start creates (naming context, administrator, containers).
    Bootstrap,
    /// A change received from a replication provider: it keeps the provider's operational
    /// attributes (entryUUID, entryCSN, timestamps, creator and modifier); made by the
    /// consumer (repl/consumer.rs) through `pipeline::apply_replicated`.
    Replication,
}

/// The stages an origin runs (true) or skips (false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stages {
    /// Access control as the actor.
    pub(crate) access: bool,
    /// The verification rules on contact entries (crate::freshness).
    pub(crate) freshness: bool,
    /// The accounts rules (write/accounts.rs): a registry admin's new account is counted
    /// against `accounts.max_per_registry` and pending; only manage access approves.
    pub(crate) accounts: bool,
    /// Password quality (length, not the uid or mail) for cleartext passwords.
    pub(crate) password_quality: bool,
    /// The content checks (write/content.rs): phone numbers, time zones, languages, mail,
    /// URIs, fingerprints, business hours, roles.
    pub(crate) content: bool,
    /// References (write/references.rs): DN values must name existing entries (inside the
    /// registry for contact points and substitutes), renames and deletes carry over to the
    /// entries that name the changed one. Bulk loads check after the load instead.
    pub(crate) references: bool,
    /// Verification records (write/history.rs) are the server's: written when a verification
    /// or confirmation is recorded (where `freshness` runs), never added, changed or renamed
    /// from the input, deleted only with manage access. Off for the origins that restore or
    /// copy records (import, replication).
    pub(crate) history: bool,
    /// Operational attributes in the input: refused (false: constraintViolation, as for an
    /// LDAP client) or kept (true).
    pub(crate) keep_operational: bool,
    /// Operational attributes in the input that are neither kept nor refused are dropped
    /// silently (an import without `keep_operational` reads slapcat output).
    pub(crate) drop_operational: bool,
    /// Cleartext userPassword values are hashed. Off for replication: the provider's values are
    /// stored as they are (a slapd provider may hold cleartext or its own hash schemes).
    pub(crate) hash_passwords: bool,
}

impl Origin {
    pub(crate) const fn stages(self) -> Stages {
        match self {
            Origin::Client | Origin::Command => Stages {
                access: true,
                freshness: true,
                accounts: true,
                password_quality: true,
                content: true,
                references: true,
                history: true,
                keep_operational: false,
                drop_operational: false,
                hash_passwords: true,
            },
            Origin::Server => Stages {
                access: false,
                freshness: false,
                accounts: false,
                password_quality: false,
                content: false,
                references: true,
                history: true,
                keep_operational: false,
                drop_operational: false,
                hash_passwords: true,
            },
            // Imported data carries its verification attributes as the operator exported
            // them: the freshness rules are not applied to it.
            Origin::Import { keep_operational } => Stages {
                access: false,
                freshness: false,
                accounts: false,
                password_quality: false,
                content: true,
                references: false,
                history: false,
                keep_operational,
                drop_operational: !keep_operational,
                hash_passwords: true,
            },
            Origin::Bootstrap => Stages {
                access: false,
                freshness: false,
                accounts: false,
                password_quality: false,
                content: true,
                references: false,
                history: false,
                keep_operational: false,
                drop_operational: false,
                hash_passwords: true,
            },
            // A replicated change was checked by its provider (whose rules may differ).
            Origin::Replication => Stages {
                access: false,
                freshness: false,
                accounts: false,
                password_quality: false,
                content: false,
                references: false,
                history: false,
                keep_operational: true,
                drop_operational: false,
                hash_passwords: false,
            },
        }
    }
}

/// A change with its author and origin: the pipeline's input.
#[derive(Debug, Clone)]
pub(crate) struct Write<'a> {
    pub(crate) change: Change,
    pub(crate) actor: &'a Identity,
    pub(crate) origin: Origin,
}
