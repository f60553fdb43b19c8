//! The wall clock the core reads when a date matters to an ERP (today's posting date on a site, for
//! instance). Production uses [`SystemClock`]; tests give [`Core`](crate::Core) a clock that starts
//! at a chosen instant, so "the last hour of the day in Guayaquil" is reproduced without waiting.
//!
//! Also: the desktop's own time zone, offered when a site will not say which zone it keeps.

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that reads `start` at the moment it is made and then runs at the speed of the real one.
#[derive(Debug, Clone, Copy)]
pub struct StartingAt {
    offset: chrono::Duration,
}

impl StartingAt {
    pub fn new(start: DateTime<Utc>) -> Self {
        StartingAt { offset: start - Utc::now() }
    }
}

impl Clock for StartingAt {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// The IANA time zone this computer runs in: `TZ` when it names a zone, else the system setting.
/// `None` when neither names a zone chrono-tz knows (then the user has to choose).
pub fn desktop_zone() -> Option<chrono_tz::Tz> {
    let from_env = std::env::var("TZ").ok().map(|v| v.trim_start_matches(':').to_string());
    from_env.into_iter().chain(iana_time_zone::get_timezone().ok()).find_map(|name| name.parse::<chrono_tz::Tz>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_at_reads_the_chosen_instant_and_then_advances() {
        let start = DateTime::parse_from_rfc3339("2026-12-06T00:02:15Z").unwrap().with_timezone(&Utc);
        let c = StartingAt::new(start);
        let a = c.now();
        assert!((a - start).num_seconds().abs() <= 1, "{a}");
        assert!(c.now() >= a);
    }
}
