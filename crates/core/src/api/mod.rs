//! The facade: what the desktop shell and the CLI call. Every ERP is reached through the registry
//! ([`crate::erp`]), so one set of commands serves all of them.

pub mod connections;
pub mod demo;
pub mod sync;
