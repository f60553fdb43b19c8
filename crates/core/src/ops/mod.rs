//! Cross-ERP features, above the ERPs: the scheduler, desktop and e-mail notifications.

pub mod email;
pub mod notify;
pub mod scheduler;
