//! The offline tools: import and export, reports, the roster, recorded verifications, and the
//! entries of a stopped server's data directory. They write through the write pipeline and
//! never use the protocol operations.

pub mod bounce;
pub mod check;
pub mod generate;
pub mod import;
pub mod listkeys;
pub mod offline;
pub mod reminders;
pub mod replstatus;
pub mod report;
pub mod roster;
pub mod rostermail;
pub mod run;
pub mod verify;
