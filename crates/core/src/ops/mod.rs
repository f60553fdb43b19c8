//! Cross-ERP features, above the ERPs: the scheduler, desktop and e-mail notifications, the first
//! screen's figures and the app's own settings.

pub mod contracts;
pub mod dashboard;
pub mod data;
pub mod demo;
pub mod divergences;
pub mod email;
pub mod notify;
pub mod scheduler;
pub mod settings;
pub mod team;
