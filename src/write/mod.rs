//! The write path: every change to the directory goes through here.

pub mod bulk;
pub mod values;
