//! Contífico (Ecuador): the client and the resources it syncs.

pub mod client;
pub mod resources;

pub use client::ContificoClient;
