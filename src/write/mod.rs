//! The write path: every change to the directory goes through [`pipeline`] (bulk loads through
//! [`pipeline::prepare_add`] and [`bulk`]).

pub mod bulk;
pub mod change;
pub mod pipeline;
pub mod values;

pub use change::{Attrs, Change, Mod, ModOp, Origin, Stages, Write};
pub use pipeline::{apply, Hooks, Plain};
