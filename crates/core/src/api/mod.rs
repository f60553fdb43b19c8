//! The facade: what the desktop shell and the CLI call, and the only `impl Core` in the crate.
//! Each method is a one-line hand-over to the feature that does the work, which receives the narrow
//! context ([`crate::Ctx`]) and never the facade. Every ERP is reached through the registry
//! ([`crate::erp`]), so one set of sync methods serves all of them.

pub mod app;
pub mod contracts;
pub mod demo;
pub mod divergences;
pub mod email;
pub mod erpnext;
pub mod notify;
pub mod omie;
pub mod schedules;
pub mod sync;
pub mod team;
