//! The write path: every change to the directory goes through [`pipeline`] (bulk loads through
//! [`pipeline::prepare_add`] and [`bulk`]).

pub(crate) mod accounts;
pub mod bulk;
pub(crate) mod change;
pub(crate) mod completeness;
pub(crate) mod content;
pub(crate) mod history;
pub(crate) mod pipeline;
pub(crate) mod references;
pub(crate) mod values;

pub(crate) use change::{Attrs, Change, Mod, ModOp, Origin, Write};
pub(crate) use pipeline::{apply, Hooks, Plain};

#[cfg(test)]
mod tests;
