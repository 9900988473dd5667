//! The core types every layer shares: DNs, entries, filters, the schema, errors, time, the
//! DIT's fixed names and the LDIF format. Nothing here reads the store or speaks the protocol.

pub mod clock;
pub mod csn;
pub(crate) mod dit;
pub mod dn;
pub mod entry;
pub(crate) mod error;
pub mod filter;
pub mod filter_text;
pub mod ldif;
pub mod schema;
