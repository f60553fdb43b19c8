//! Frappe's site rate limiter (reference erpnext.md, "Rate limiting 429"; `frappe/rate_limiter.py`,
//! a `before_request` hook): off unless `site_config.json` sets `rate_limit: {limit, window}`; the
//! budget is request processing time per site within fixed windows; a rejected request gets 429
//! with `Retry-After` (seconds until the window resets). Here each request is charged a fixed
//! processing time, so "5 requests per 2 s" is `limit` 2 s, `window` 2 s, `cost` 0.4 s. The
//! simulator keeps its own clock (an `Instant` of its own, never the client's) and counts the
//! requests that arrived after it had announced a `Retry-After` that had not yet elapsed.

use std::time::{Duration, Instant};

/// How long after a 429 the requests already sent by then may still arrive (loopback takes
/// milliseconds; this is generous).
pub const GRACE: Duration = Duration::from_millis(250);

/// The site's `rate_limit` setting, and what each request costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Processing time allowed per window.
    pub limit: Duration,
    pub window: Duration,
    /// Processing time charged per request.
    pub cost: Duration,
}

/// What the limiter did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateStats {
    pub admitted: u64,
    /// Requests answered 429.
    pub rejected: u64,
    /// Of those, requests that arrived while a `Retry-After` the site had already announced was
    /// still running, more than [`GRACE`] after the announcement (requests already on their way when
    /// it was sent do not count): a client that honours Retry-After across its requests sends none.
    pub early: u64,
}

pub(crate) struct Limiter {
    pub config: Option<RateLimit>,
    start: Instant,
    window_no: u64,
    used: Duration,
    announced: Option<Instant>,
    pub stats: RateStats,
}

impl Limiter {
    pub fn new() -> Self {
        Limiter {
            config: None,
            start: Instant::now(),
            window_no: 0,
            used: Duration::ZERO,
            announced: None,
            stats: RateStats::default(),
        }
    }

    /// `None`: admitted. `Some(seconds)`: rejected with that `Retry-After`.
    pub fn admit(&mut self) -> Option<u64> {
        let cfg = self.config?;
        let elapsed = self.start.elapsed();
        let window_ms = cfg.window.as_millis().max(1);
        let no = (elapsed.as_millis() / window_ms) as u64;
        if no != self.window_no {
            self.window_no = no;
            self.used = Duration::ZERO;
            self.announced = None;
        }
        if self.used + cfg.cost > cfg.limit {
            let ends = Duration::from_millis(((no + 1) as u128 * window_ms) as u64);
            let left = ends.saturating_sub(elapsed);
            self.stats.rejected += 1;
            match self.announced {
                Some(at) if at.elapsed() > GRACE => self.stats.early += 1,
                Some(_) => {}
                None => self.announced = Some(Instant::now()),
            }
            return Some(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        self.used += cfg.cost;
        self.stats.admitted += 1;
        None
    }
}
