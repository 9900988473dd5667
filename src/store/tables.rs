//! The redb tables. Keys and values are bytes or integers; the layouts are described here once.

use redb::{MultimapTableDefinition, TableDefinition};

/// entry id -> encoded entry (store/encode.rs).
pub(crate) const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
/// normalised DN key (RDNs root first, each followed by 0; see `Dn::store_key`) -> entry id.
/// A subtree is one key-prefix range.
pub(crate) const DN2ID: TableDefinition<&[u8], u64> = TableDefinition::new("dn");
/// entry id -> normalised DN key: scope checks for index candidates without decoding entries.
pub(crate) const ID2DN: TableDefinition<u64, &[u8]> = TableDefinition::new("id2dn");
/// parent id -> child ids (0 is the parent of the naming contexts): one-level scope, leaf checks.
pub(crate) const CHILDREN: MultimapTableDefinition<u64, u64> =
    MultimapTableDefinition::new("children");
/// Posting lists (store/postings.rs) of "attribute name (lower case) 0 normalised value":
/// equality, presence, ordering.
pub(crate) const EQ_INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("eq_index");
/// Posting lists of "attribute name (lower case) 0 3-gram of the normalised value": substrings.
pub(crate) const SUB_INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sub_index");
/// change sequence number -> encoded change record (store/changelog.rs).
pub(crate) const CHANGELOG: TableDefinition<u64, &[u8]> = TableDefinition::new("changelog");
/// CSN of a change record -> the sequence number of the last record with that CSN (one write
/// may log several records under its CSN): where a replication consumer's cookie stands in the
/// changelog (repl/provider.rs).
pub(crate) const CSN_SEQ: TableDefinition<&str, u64> = TableDefinition::new("csn_seq");
/// "kind registry-DN" (or "digest") -> when the last reminder of that kind was accepted by the
/// relay, in Unix seconds (tools/reminders): what a restart must not send again.
pub(crate) const REMINDERS: TableDefinition<&str, u64> = TableDefinition::new("reminders");
/// The roster mails (tools/rostermail): "sent <period> <registry key>" -> Unix seconds the relay
/// accepted that period's roster for that registry, and "point <registry key>" -> the
/// fingerprint of the registry's contact point it was last mailed to.
pub(crate) const ROSTER_MAIL: TableDefinition<&str, &str> = TableDefinition::new("roster_mail");
/// One-time links (store/onetime.rs): SHA-256 of the token -> the link's record (JSON). Kept per
/// data directory, never replicated.
pub(crate) const ONETIME: TableDefinition<&[u8], &[u8]> = TableDefinition::new("onetime");
/// format version, id and sequence counters, configuration the data depends on.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

pub(crate) const META_FORMAT: &str = "format";
pub(crate) const META_NEXT_ID: &str = "next_id";
pub(crate) const META_NEXT_SEQ: &str = "next_seq";
pub(crate) const META_INDEX_SPEC: &str = "index_spec";
/// The newest CSN of each server id (`contextCSN`), `csn;csn;...` sorted by server id; written
/// in the transaction of each change record.
pub(crate) const META_CONTEXT_CSN: &str = "context_csn";
/// A replication consumer's sync cookie (repl/consumer.rs), as text: written in the transaction
/// of the changes it covers.
pub(crate) const META_SYNC_COOKIE: &str = "sync_cookie";
/// Set by `ccdir promote`: this data directory is the writer, whatever its configuration
/// says about a provider.
pub(crate) const META_PROMOTED: &str = "promoted";
/// 3: posting chunks hold u32 offsets from the chunk's first id (2 held u64 ids); a format 2
/// database is upgraded by rebuilding its indexes.
pub(crate) const FORMAT_VERSION: u64 = 3;
/// The oldest format [`FORMAT_VERSION`] upgrades from.
pub(crate) const FORMAT_UPGRADABLE: u64 = 2;

/// The parent id of naming-context entries.
pub(crate) const ROOT_ID: u64 = 0;
