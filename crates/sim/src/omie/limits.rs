//! The consumption limits of Omie's API, enforced the way the reference describes them (omie.md
//! section 9) so that a client that breaks them is caught in tests and benchmarks:
//!
//! * 240 requests per minute per app key and method, 960 per minute per IP (all keys together);
//! * at most 4 simultaneous requests per app key and method, 1 for writes;
//! * an identical read (same key, method and parameters) answered with data within 60 s is
//!   refused as redundant (`Client-6`);
//! * an identical write (same key, method and parameters) that was already processed within 60 s,
//!   or is still being processed, is refused with `Client-8020`, naming the time (Brasília, on the
//!   simulator's own clock) it may be sent again;
//! * a key that keeps breaking these rules is blocked for a while (`MISUSE_API_PROCESS`, HTTP 425).
//!
//! Time comes from a [`TimeSource`], so a benchmark can run the simulator on simulated time.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Monotonic time as seen by the simulator (a duration since some fixed start).
pub type TimeSource = Arc<dyn Fn() -> Duration + Send + Sync>;

pub fn real_time() -> TimeSource {
    let start = Instant::now();
    Arc::new(move || start.elapsed())
}

/// The limits; defaults are the documented values.
#[derive(Clone, Debug)]
pub struct OmieLimits {
    pub enforce: bool,
    /// Requests per minute per app key + method (reference: 240).
    pub per_method_per_min: u32,
    /// Requests per minute per IP across keys (reference: 960).
    pub per_ip_per_min: u32,
    /// Simultaneous requests per app key + method for reads (reference: 4).
    pub max_in_flight: u32,
    /// Simultaneous requests per app key + method for writes (reference: "one at a time").
    pub max_in_flight_write: u32,
    /// Window of the redundant-call rule (reference: 60 s).
    pub redundant_window: Duration,
    /// Violations within one minute after which the key is blocked.
    pub misuse_after: u32,
    /// How long a misuse block lasts (reference: ≈1800 s, "Tente novamente em 1764 segundos").
    pub block: Duration,
    /// Time a request is held "in flight" inside the handler (to exercise the concurrency rule).
    pub hold: Duration,
}

impl Default for OmieLimits {
    fn default() -> Self {
        OmieLimits {
            enforce: true,
            per_method_per_min: 240,
            per_ip_per_min: 960,
            max_in_flight: 4,
            max_in_flight_write: 1,
            redundant_window: Duration::from_secs(60),
            misuse_after: 20,
            block: Duration::from_secs(1800),
            hold: Duration::ZERO,
        }
    }
}

/// Counters of what the limits did, for tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OmieLimitStats {
    pub admitted: u64,
    /// HTTP 429 "Too many requests" (per key + method or per IP).
    pub rate_limited: u64,
    /// `Client-1880`: too many simultaneous calls of one method.
    pub concurrency: u64,
    /// `Client-6`: the same read within the redundancy window.
    pub redundant: u64,
    /// `Client-8020`: the same write, already processed within the redundancy window or still
    /// being processed.
    pub already_processed: u64,
    /// Answers with HTTP 425 because the key was blocked.
    pub blocked_calls: u64,
    /// Blocks imposed.
    pub blocks: u64,
}

impl OmieLimitStats {
    /// Every answer caused by a broken rule.
    pub fn rate_faults(&self) -> u64 {
        self.rate_limited + self.concurrency + self.redundant + self.already_processed + self.blocked_calls
    }
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Blocked {
        secs: u64,
    },
    Concurrency,
    RateLimited,
    Redundant {
        secs: u64,
    },
    /// An identical write was processed (or is being processed): it may be sent again at
    /// `retry_at` (on the simulator's clock).
    AlreadyProcessed {
        retry_at: Duration,
    },
}

#[derive(Default)]
pub(crate) struct LimitState {
    per_method: HashMap<(String, String), VecDeque<Duration>>,
    per_ip: VecDeque<Duration>,
    in_flight: HashMap<(String, String), u32>,
    /// Fingerprint of a write being processed → when it was admitted.
    writes_in_flight: HashMap<String, Duration>,
    /// Fingerprint of a call answered with data → when.
    answered: HashMap<String, Duration>,
    violations: HashMap<String, VecDeque<Duration>>,
    blocked_until: HashMap<String, Duration>,
    pub(crate) stats: OmieLimitStats,
}

const MINUTE: Duration = Duration::from_secs(60);

fn prune(q: &mut VecDeque<Duration>, now: Duration, window: Duration) {
    while q.front().is_some_and(|t| *t + window <= now) {
        q.pop_front();
    }
}

/// Omie's own rule of thumb for writes: names that do not start like a query.
pub fn is_write(call: &str) -> bool {
    !["Listar", "Consultar", "Pesquisar", "Obter"].iter().any(|p| call.starts_with(p))
}

impl LimitState {
    /// Whether `key` is blocked at `now`.
    pub(crate) fn is_blocked(&self, key: &str, now: Duration) -> bool {
        self.blocked_until.get(key).is_some_and(|u| *u > now)
    }

    /// Admits a call or says why not. On admission the caller must call [`LimitState::release`].
    pub(crate) fn admit(
        &mut self,
        lim: &OmieLimits,
        now: Duration,
        key: &str,
        call: &str,
        fingerprint: &str,
    ) -> Result<(), Refusal> {
        if let Some(until) = self.blocked_until.get(key).copied() {
            if until > now {
                self.stats.blocked_calls += 1;
                return Err(Refusal::Blocked { secs: (until - now).as_secs().max(1) });
            }
            self.blocked_until.remove(key);
        }
        if !lim.enforce {
            self.stats.admitted += 1;
            *self.in_flight.entry((key.to_string(), call.to_string())).or_insert(0) += 1;
            return Ok(());
        }
        let km = (key.to_string(), call.to_string());
        let flying = self.in_flight.get(&km).copied().unwrap_or(0);
        let write = is_write(call);
        let cap = if write { lim.max_in_flight_write } else { lim.max_in_flight };
        // An identical write that is still being processed, or was processed within the window.
        let same_write = if write {
            let since = self
                .writes_in_flight
                .get(fingerprint)
                .copied()
                .or_else(|| self.answered.get(fingerprint).copied().filter(|t| *t + lim.redundant_window > now));
            since.map(|t| t + lim.redundant_window)
        } else {
            None
        };
        let refusal = if let Some(retry_at) = same_write {
            self.stats.already_processed += 1;
            Some(Refusal::AlreadyProcessed { retry_at })
        } else if flying >= cap {
            self.stats.concurrency += 1;
            Some(Refusal::Concurrency)
        } else {
            let q = self.per_method.entry(km.clone()).or_default();
            prune(q, now, MINUTE);
            prune(&mut self.per_ip, now, MINUTE);
            if q.len() as u32 >= lim.per_method_per_min || self.per_ip.len() as u32 >= lim.per_ip_per_min {
                self.stats.rate_limited += 1;
                Some(Refusal::RateLimited)
            } else {
                match self.answered.get(fingerprint).copied().filter(|_| !write) {
                    Some(t) if t + lim.redundant_window > now => {
                        self.stats.redundant += 1;
                        let left = (t + lim.redundant_window - now).as_secs_f64().ceil() as u64;
                        Some(Refusal::Redundant { secs: left.max(1) })
                    }
                    _ => None,
                }
            }
        };
        if let Some(r) = refusal {
            let v = self.violations.entry(key.to_string()).or_default();
            prune(v, now, MINUTE);
            v.push_back(now);
            if v.len() as u32 >= lim.misuse_after {
                v.clear();
                self.blocked_until.insert(key.to_string(), now + lim.block);
                self.stats.blocks += 1;
            }
            return Err(r);
        }
        self.per_method.entry(km.clone()).or_default().push_back(now);
        self.per_ip.push_back(now);
        *self.in_flight.entry(km).or_insert(0) += 1;
        if write {
            self.writes_in_flight.insert(fingerprint.to_string(), now);
        }
        self.stats.admitted += 1;
        Ok(())
    }

    pub(crate) fn release(&mut self, key: &str, call: &str, fingerprint: &str) {
        if let Some(n) = self.in_flight.get_mut(&(key.to_string(), call.to_string())) {
            *n = n.saturating_sub(1);
        }
        self.writes_in_flight.remove(fingerprint);
    }

    /// A call answered with data starts its redundancy window.
    pub(crate) fn answered(&mut self, lim: &OmieLimits, now: Duration, fingerprint: String) {
        if self.answered.len() > 50_000 {
            let w = lim.redundant_window;
            self.answered.retain(|_, t| *t + w > now);
        }
        self.answered.insert(fingerprint, now);
    }

    pub(crate) fn block(&mut self, key: &str, until: Duration) {
        self.blocked_until.insert(key.to_string(), until);
        self.stats.blocks += 1;
    }

    pub(crate) fn reset(&mut self) {
        *self = LimitState::default();
    }
}

/// Key order-independent text of a JSON value (for the redundancy fingerprint).
pub fn canonical(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", serde_json::to_string(k).unwrap_or_default(), canonical(&m[k.as_str()])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_method_rate_concurrency_redundancy_and_block() {
        let lim = OmieLimits { per_method_per_min: 3, misuse_after: 3, ..OmieLimits::default() };
        let mut s = LimitState::default();
        let t0 = Duration::from_secs(100);
        for i in 0..3 {
            s.admit(&lim, t0, "k", "ListarX", &format!("f{i}")).unwrap();
            s.release("k", "ListarX", &format!("f{i}"));
        }
        assert_eq!(s.admit(&lim, t0, "k", "ListarX", "f9"), Err(Refusal::RateLimited));
        // Another method has its own budget; a minute later the first one is free again.
        s.admit(&lim, t0, "k", "ListarY", "g").unwrap();
        s.release("k", "ListarY", "g");
        s.admit(&lim, t0 + MINUTE, "k", "ListarX", "f9").unwrap();
        s.release("k", "ListarX", "f9");
        // Writes: one at a time.
        s.admit(&lim, t0 + MINUTE, "k", "IncluirZ", "w1").unwrap();
        assert_eq!(s.admit(&lim, t0 + MINUTE, "k", "IncluirZ", "w2"), Err(Refusal::Concurrency));
        s.release("k", "IncluirZ", "w1");
        // Redundant: an answered fingerprint is refused within the window.
        s.answered(&lim, t0 + MINUTE, "same".into());
        assert_eq!(
            s.admit(&lim, t0 + MINUTE + Duration::from_secs(10), "k", "ListarQ", "same"),
            Err(Refusal::Redundant { secs: 50 })
        );
        // Enough violations block the key.
        s.admit(&lim, t0 + MINUTE, "k", "IncluirZ", "w3").unwrap();
        assert_eq!(s.admit(&lim, t0 + MINUTE, "k", "IncluirZ", "w4"), Err(Refusal::Concurrency));
        assert!(matches!(s.admit(&lim, t0 + MINUTE, "k", "ListarW", "b"), Err(Refusal::Blocked { .. })));
        assert_eq!(s.stats.blocks, 1);
    }

    #[test]
    fn an_identical_write_is_already_processed_not_redundant() {
        let lim = OmieLimits::default();
        let mut s = LimitState::default();
        let t0 = Duration::from_secs(100);
        s.admit(&lim, t0, "k", "IncluirW", "same").unwrap();
        // Still being processed: Client-8020, not Client-1880.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(
            s.admit(&lim, later, "k", "IncluirW", "same"),
            Err(Refusal::AlreadyProcessed { retry_at: t0 + lim.redundant_window })
        );
        s.answered(&lim, later, "same".into());
        s.release("k", "IncluirW", "same");
        // Processed: the window runs from the answer.
        assert_eq!(
            s.admit(&lim, later + Duration::from_secs(10), "k", "IncluirW", "same"),
            Err(Refusal::AlreadyProcessed { retry_at: later + lim.redundant_window })
        );
        assert_eq!((s.stats.already_processed, s.stats.redundant), (2, 0));
        // After the window it is sent again (the service decides what a duplicate means).
        s.admit(&lim, later + lim.redundant_window, "k", "IncluirW", "same").unwrap();
    }

    #[test]
    fn canonical_ignores_key_order() {
        let a = serde_json::json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = serde_json::json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical(&a), canonical(&b));
    }
}
