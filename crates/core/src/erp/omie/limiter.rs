//! Omie's consumption limits, kept on our side **before** a request is sent, so the account is never
//! blocked (reference omie.md §9):
//!
//! * at most 240 requests per minute per app key and method, and 960 per minute per IP (all keys of
//!   one host together): sliding windows, with a safety margin for network jitter;
//! * at most 4 requests in flight per app key and method, 1 for writes;
//! * no identical call (key, method, parameters) within 60 s of one answered with data: a read is
//!   answered from a short cache, anything else waits until the window has passed; a write to a
//!   service drops that service's cached reads;
//! * a key Omie blocked for misuse (HTTP 425) is refused locally until the block ends;
//! * "wait until" requests from Omie (`Client-6`, `Client-8020`, 429) are honoured per key + method.
//!
//! Time comes from a [`Clock`]: [`SystemClock`] in the app, [`SimClock`] (simulated time that only
//! moves when every participant waits) in benchmarks and tests.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde_json::Value;

pub type BoxFut<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A monotonic clock the limiter waits on.
pub trait Clock: Send + Sync + 'static {
    /// Time since the clock started.
    fn now(&self) -> Duration;
    /// Resolves once `now() >= t`.
    fn sleep_until(&self, t: Duration) -> BoxFut<'_>;
    /// Whether this is real time (a budget shared with other processes counts in wall-clock time,
    /// which only a real clock can wait for).
    fn is_real(&self) -> bool {
        false
    }
}

/// Real time (tokio timers).
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock { start: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
    fn is_real(&self) -> bool {
        true
    }
    fn sleep_until(&self, t: Duration) -> BoxFut<'_> {
        let now = self.now();
        Box::pin(async move {
            if t > now {
                tokio::time::sleep(t - now).await;
            }
        })
    }
}

/// Simulated time for benchmarks: it stands still while any participant is working and jumps to
/// the earliest wake-up when every participant waits. Each worker task holds a [`SimParticipant`]
/// for as long as it runs; anything else (the simulator's handlers) only reads the time.
#[derive(Clone, Default)]
pub struct SimClock {
    inner: Arc<Mutex<SimState>>,
}

#[derive(Default)]
struct SimState {
    now: Duration,
    active: usize,
    seq: u64,
    sleepers: BTreeMap<(Duration, u64), tokio::sync::oneshot::Sender<()>>,
}

impl SimState {
    fn advance(&mut self) {
        if self.active > 0 {
            return;
        }
        let Some(first) = self.sleepers.keys().next().copied() else { return };
        self.now = self.now.max(first.0);
        while let Some(k) = self.sleepers.keys().next().copied() {
            if k.0 > self.now {
                break;
            }
            if let Some(tx) = self.sleepers.remove(&k) {
                self.active += 1;
                let _ = tx.send(());
            }
        }
    }
}

/// Marks a task as a participant of a [`SimClock`] while alive.
pub struct SimParticipant {
    clock: SimClock,
}

impl Drop for SimParticipant {
    fn drop(&mut self) {
        let mut s = self.clock.inner.lock().unwrap_or_else(|p| p.into_inner());
        s.active = s.active.saturating_sub(1);
        s.advance();
    }
}

impl SimClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the calling task as a participant (time stands still while it works).
    pub fn participant(&self) -> SimParticipant {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).active += 1;
        SimParticipant { clock: self.clone() }
    }
}

struct SimSleep {
    clock: Arc<Mutex<SimState>>,
    key: (Duration, u64),
    rx: tokio::sync::oneshot::Receiver<()>,
    done: bool,
}

impl Future for SimSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Ready(_) => {
                self.done = true;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for SimSleep {
    fn drop(&mut self) {
        if !self.done {
            let mut s = self.clock.lock().unwrap_or_else(|p| p.into_inner());
            // Still waiting: the task goes back to work without its wake-up.
            if s.sleepers.remove(&self.key).is_some() {
                s.active += 1;
            }
        }
    }
}

impl Clock for SimClock {
    fn now(&self) -> Duration {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).now
    }
    fn sleep_until(&self, t: Duration) -> BoxFut<'_> {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if t <= s.now {
            return Box::pin(async {});
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        s.seq += 1;
        let key = (t, s.seq);
        s.sleepers.insert(key, tx);
        s.active = s.active.saturating_sub(1);
        s.advance();
        Box::pin(SimSleep { clock: self.inner.clone(), key, rx, done: false })
    }
}

/// The limits. Defaults are the documented values.
#[derive(Debug, Clone)]
pub struct OmieLimits {
    pub per_method_per_min: u32,
    pub per_host_per_min: u32,
    pub read_concurrency: u32,
    pub write_concurrency: u32,
    /// Added to every window (network jitter between our clock and Omie's).
    pub margin: Duration,
    pub redundant_window: Duration,
    /// Reads repeated within the redundancy window are answered from a cache.
    pub cache_reads: bool,
    /// A wait longer than this inside a job fails the call instead (it would look hung).
    pub max_wait: Duration,
    /// Benchmarks only: simulated time a request stays in flight after its answer.
    pub simulated_latency: Duration,
}

impl Default for OmieLimits {
    fn default() -> Self {
        OmieLimits {
            per_method_per_min: 240,
            per_host_per_min: 960,
            read_concurrency: 4,
            write_concurrency: 1,
            margin: Duration::from_secs(1),
            redundant_window: Duration::from_secs(60),
            cache_reads: true,
            max_wait: Duration::from_secs(300),
            simulated_latency: Duration::ZERO,
        }
    }
}

/// Writes, by Omie's naming: everything that does not read.
pub fn is_write(method: &str) -> bool {
    !["Listar", "Consultar", "Pesquisar", "Obter"].iter().any(|p| method.starts_with(p))
}

/// What makes two calls identical for Omie's redundancy rule: the service, the method and the
/// parameters (in any key order).
pub fn fingerprint(service: &str, method: &str, params: &Value) -> String {
    format!("{service}|{method}|{}", canonical(params))
}

/// Key order-independent text of the parameters (the redundancy fingerprint).
pub fn canonical(v: &Value) -> String {
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

const MINUTE: Duration = Duration::from_secs(60);

/// What the rules look at for one call: the sends of its key + method and of its host within the
/// last window, the calls of its key + method in flight, the last answer to the identical call and
/// the latest "not before" Omie asked for (method or call). Times are on one clock.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub method_sends: Vec<Duration>,
    pub host_sends: Vec<Duration>,
    pub in_flight: u32,
    pub answer: Option<(Duration, Option<Value>)>,
    pub not_before: Option<Duration>,
}

/// What the rules decide for one call now.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An identical read was answered within the redundancy window: its answer.
    Cached(Value),
    /// Send it (the caller records the send).
    Go,
    /// Not before then.
    Wait(Duration),
}

impl OmieLimits {
    /// The rules, in one place: every budget (one process's memory, or the store shared by every
    /// process on the database) asks them with its own view.
    pub fn decide(&self, v: &View, now: Duration, write: bool) -> Step {
        let window = MINUTE + self.margin;
        let mut ready = now;
        if let Some((at, value)) = &v.answer {
            if *at + self.redundant_window > now {
                if let (Some(value), false, true) = (value, write, self.cache_reads) {
                    return Step::Cached(value.clone());
                }
                ready = ready.max(*at + self.redundant_window + self.margin);
            }
        }
        if let Some(t) = v.not_before {
            ready = ready.max(t);
        }
        for (sends, cap) in [(&v.method_sends, self.per_method_per_min), (&v.host_sends, self.per_host_per_min)] {
            let live: Vec<Duration> = sends.iter().copied().filter(|t| *t + window > now).collect();
            if live.len() as u32 >= cap {
                ready = ready.max(live[live.len() - cap as usize] + window);
            }
        }
        if ready > now {
            return Step::Wait(ready);
        }
        let cap = if write { self.write_concurrency } else { self.read_concurrency }.max(1);
        if v.in_flight < cap {
            Step::Go
        } else {
            // All slots busy: look again shortly.
            Step::Wait(now + Duration::from_millis(10))
        }
    }
}

/// One call, as a shared budget records it.
pub struct Ask<'a> {
    pub app_key: &'a str,
    pub method: &'a str,
    /// The identical-call fingerprint (service, method, parameters).
    pub fingerprint: &'a str,
    pub service: &'a str,
    /// Wall-clock time (milliseconds since the Unix epoch, as a duration).
    pub now: Duration,
}

/// A budget kept outside this process (the store), so that the app, the CLI and the schedules
/// daemon spend one budget per key and share the identical-call cache. Times are wall-clock.
pub trait SharedBudget: Send + Sync + 'static {
    /// Under a lock every process honours: reads the view of `ask`, lets `decide` choose and, when
    /// it says go, records the send and a call in flight. Returns the step and, for go, a token.
    fn step(
        &self,
        ask: &Ask<'_>,
        decide: &mut (dyn FnMut(&View) -> Step + Send),
    ) -> Result<(Step, Option<String>), String>;
    /// The call in flight under `token` ended.
    fn release(&self, token: &str);
    /// A call answered with data (reads: `value` is kept for the redundancy window; a write drops
    /// the cached reads of its service).
    fn answered(&self, ask: &Ask<'_>, write: bool, value: Option<&Value>);
    /// Not before `until` (wall-clock), for the method (`call: false`) or this exact call.
    fn defer(&self, ask: &Ask<'_>, call: bool, until: Duration);
}

/// Wall-clock now, as the shared budget counts.
pub fn wall_now() -> Duration {
    Duration::from_millis(chrono::Utc::now().timestamp_millis().max(0) as u64)
}

#[derive(Default)]
struct State {
    per_method: HashMap<(String, String), VecDeque<Duration>>,
    per_host: VecDeque<Duration>,
    in_flight: HashMap<(String, String), u32>,
    /// (key, fingerprint) → when answered with data, the data (reads), and the service.
    answered: HashMap<(String, String), Answer>,
    not_before: HashMap<(String, String), Duration>,
    blocked: HashMap<String, (Duration, chrono::DateTime<chrono::Utc>)>,
    pub sent: u64,
    pub cache_hits: u64,
    pub waits: u64,
}

struct Answer {
    at: Duration,
    service: String,
    value: Option<Value>,
}

/// What [`Limiter::acquire`] gives.
pub enum Acquired {
    /// An identical read was answered less than a minute ago: its answer.
    Cached(Value),
    Go(Permit),
}

/// Why a call may not be sent.
#[derive(Debug, Clone)]
pub enum Refused {
    Blocked { until: chrono::DateTime<chrono::Utc>, seconds: u64 },
    TooLong { seconds: u64 },
}

/// One request in flight; dropping it frees the slot (in this process, or in the shared budget).
pub struct Permit {
    limiter: Arc<Limiter>,
    key: (String, String),
    shared: Option<(Arc<dyn SharedBudget>, String)>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some((budget, token)) = self.shared.take() {
            budget.release(&token);
            return;
        }
        let mut s = self.limiter.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = s.in_flight.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Counters, for benchmarks and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterStats {
    pub sent: u64,
    pub cache_hits: u64,
    pub waits: u64,
}

/// The limits of one host (one "IP" budget), for every app key used against it.
pub struct Limiter {
    pub limits: OmieLimits,
    pub clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl Limiter {
    pub fn new(limits: OmieLimits, clock: Arc<dyn Clock>) -> Arc<Limiter> {
        Arc::new(Limiter { limits, clock, state: Mutex::default() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> LimiterStats {
        let s = self.lock();
        LimiterStats { sent: s.sent, cache_hits: s.cache_hits, waits: s.waits }
    }

    /// Waits until a call may be sent (or answers it from the cache), with this process's budget.
    pub async fn acquire(
        self: &Arc<Self>,
        app_key: &str,
        service: &str,
        method: &str,
        params: &Value,
    ) -> Result<Acquired, Refused> {
        let write = is_write(method);
        let fp = fingerprint(service, method, params);
        let km = (app_key.to_string(), method.to_string());
        let fk = (app_key.to_string(), fp);
        let window = MINUTE + self.limits.margin;
        let mut waited = false;
        loop {
            let now = self.clock.now();
            let ready_at = {
                let mut s = self.lock();
                if let Some(r) = self.refuse_blocked(&mut s, app_key, now) {
                    return Err(r);
                }
                let q = s.per_method.entry(km.clone()).or_default();
                while q.front().is_some_and(|t| *t + window <= now) {
                    q.pop_front();
                }
                let hq = &mut s.per_host;
                while hq.front().is_some_and(|t| *t + window <= now) {
                    hq.pop_front();
                }
                let view = View {
                    method_sends: s.per_method.get(&km).map(|q| q.iter().copied().collect()).unwrap_or_default(),
                    host_sends: s.per_host.iter().copied().collect(),
                    in_flight: s.in_flight.get(&km).copied().unwrap_or(0),
                    answer: s.answered.get(&fk).map(|a| (a.at, a.value.clone())),
                    not_before: [s.not_before.get(&km), s.not_before.get(&fk)].into_iter().flatten().max().copied(),
                };
                match self.limits.decide(&view, now, write) {
                    Step::Cached(v) => {
                        s.cache_hits += 1;
                        return Ok(Acquired::Cached(v));
                    }
                    Step::Go => {
                        if write {
                            // The service's cached reads are stale from the moment a write is sent.
                            for ((k, _), a) in s.answered.iter_mut() {
                                if k == app_key && a.service == service {
                                    a.value = None;
                                }
                            }
                        }
                        s.per_method.entry(km.clone()).or_default().push_back(now);
                        s.per_host.push_back(now);
                        *s.in_flight.entry(km.clone()).or_insert(0) += 1;
                        s.sent += 1;
                        if waited {
                            s.waits += 1;
                        }
                        return Ok(Acquired::Go(Permit { limiter: self.clone(), key: km, shared: None }));
                    }
                    Step::Wait(t) => t,
                }
            };
            if ready_at.saturating_sub(now) > self.limits.max_wait {
                return Err(Refused::TooLong { seconds: (ready_at - now).as_secs() });
            }
            waited = true;
            self.clock.sleep_until(ready_at).await;
        }
    }

    /// [`Limiter::acquire`] with a budget shared with other processes: the same rules, over the
    /// shared view, on wall-clock time. Blocks stay in this limiter (they are restored from the store
    /// by the client).
    pub async fn acquire_shared(
        self: &Arc<Self>,
        budget: &Arc<dyn SharedBudget>,
        app_key: &str,
        service: &str,
        method: &str,
        params: &Value,
    ) -> Result<Acquired, Refused> {
        let write = is_write(method);
        let fp = fingerprint(service, method, params);
        let mut waited = false;
        loop {
            if let Some(r) = self.refuse_blocked(&mut self.lock(), app_key, self.clock.now()) {
                return Err(r);
            }
            let now = wall_now();
            let ask = Ask { app_key, method, fingerprint: &fp, service, now };
            let limits = &self.limits;
            let stepped = budget.step(&ask, &mut |view| limits.decide(view, now, write));
            let ready_at = match stepped {
                Ok((Step::Cached(v), _)) => {
                    self.lock().cache_hits += 1;
                    return Ok(Acquired::Cached(v));
                }
                Ok((Step::Go, token)) => {
                    let mut s = self.lock();
                    s.sent += 1;
                    if waited {
                        s.waits += 1;
                    }
                    let key = (app_key.to_string(), method.to_string());
                    let shared = token.map(|t| (budget.clone(), t));
                    return Ok(Acquired::Go(Permit { limiter: self.clone(), key, shared }));
                }
                Ok((Step::Wait(t), _)) => t,
                Err(e) => {
                    // The store could not be reached (a locked or read-only file): wait a little and
                    // ask again rather than spend a budget nobody else can see.
                    tracing::warn!(error = %e, "the shared Omie budget could not be read; trying again shortly");
                    now + Duration::from_millis(250)
                }
            };
            let wait = ready_at.saturating_sub(now);
            if wait > self.limits.max_wait {
                return Err(Refused::TooLong { seconds: wait.as_secs() });
            }
            waited = true;
            let t = self.clock.now() + wait;
            self.clock.sleep_until(t).await;
        }
    }

    fn refuse_blocked(&self, s: &mut State, app_key: &str, now: Duration) -> Option<Refused> {
        if let Some((until, wall)) = s.blocked.get(app_key).copied() {
            if until > now {
                return Some(Refused::Blocked { until: wall, seconds: (until - now).as_secs().max(1) });
            }
            s.blocked.remove(app_key);
        }
        None
    }

    /// A call answered with data: starts its redundancy window (and caches a read); a write drops
    /// the cached reads of its service for that key.
    pub fn answered(&self, app_key: &str, service: &str, method: &str, params: &Value, value: &Value) {
        let now = self.clock.now();
        let write = is_write(method);
        let fp = fingerprint(service, method, params);
        let mut s = self.lock();
        if write {
            for ((k, _), a) in s.answered.iter_mut() {
                if k == app_key && a.service == service {
                    a.value = None;
                }
            }
        }
        if s.answered.len() > 20_000 {
            let w = self.limits.redundant_window;
            s.answered.retain(|_, a| a.at + w > now);
        }
        let value = (!write && self.limits.cache_reads).then(|| value.clone());
        s.answered.insert((app_key.to_string(), fp), Answer { at: now, service: service.to_string(), value });
    }

    /// Omie asked to wait before calling this method again (429, `Client-1880`, `Client-8020`).
    pub fn defer_method(&self, app_key: &str, method: &str, wait: Duration) {
        let t = self.clock.now() + wait;
        let mut s = self.lock();
        let e = s.not_before.entry((app_key.to_string(), method.to_string())).or_default();
        *e = (*e).max(t);
    }

    /// Omie said this exact call is redundant for `wait` more (`Client-6`).
    pub fn defer_call(&self, app_key: &str, service: &str, method: &str, params: &Value, wait: Duration) {
        let t = self.clock.now() + wait;
        let fp = fingerprint(service, method, params);
        let mut s = self.lock();
        let e = s.not_before.entry((app_key.to_string(), fp)).or_default();
        *e = (*e).max(t);
    }

    /// Omie blocked the key: refuse every call with it until then.
    pub fn block(&self, app_key: &str, seconds: u64) -> chrono::DateTime<chrono::Utc> {
        let wall = chrono::Utc::now() + chrono::Duration::seconds(seconds as i64);
        self.block_until(app_key, wall);
        wall
    }

    /// Restores a block recorded earlier (e.g. by another process).
    pub fn block_until(&self, app_key: &str, wall: chrono::DateTime<chrono::Utc>) {
        let left = (wall - chrono::Utc::now()).num_milliseconds();
        if left <= 0 {
            return;
        }
        let until = self.clock.now() + Duration::from_millis(left as u64);
        self.lock().blocked.insert(app_key.to_string(), (until, wall));
    }

    pub fn blocked_until(&self, app_key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let now = self.clock.now();
        self.lock().blocked.get(app_key).filter(|(u, _)| *u > now).map(|(_, w)| *w)
    }

    /// Lifts a block (the user was told Omie lifted it, or a test).
    pub fn unblock(&self, app_key: &str) {
        self.lock().blocked.remove(app_key);
    }
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Limiter>>> {
    static R: OnceLock<Mutex<HashMap<String, Arc<Limiter>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// The host part of a base URL (`app.omie.com.br`, `127.0.0.1:4321`): one budget per host.
pub use crate::http::host_of;

/// The process-wide limiter of a host (created with the documented limits on first use).
pub fn for_host(host: &str) -> Arc<Limiter> {
    let mut r = registry().lock().unwrap_or_else(|p| p.into_inner());
    r.entry(host.to_string())
        .or_insert_with(|| Limiter::new(OmieLimits::default(), Arc::new(SystemClock::new())))
        .clone()
}

/// Replaces the limiter of a host (tests and benchmarks: other limits, a simulated clock).
pub fn install(host: &str, limiter: Arc<Limiter>) {
    registry().lock().unwrap_or_else(|p| p.into_inner()).insert(host.to_string(), limiter);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lim(l: OmieLimits) -> (SimClock, Arc<Limiter>) {
        let c = SimClock::new();
        let arc: Arc<dyn Clock> = Arc::new(c.clone());
        (c, Limiter::new(l, arc))
    }

    #[tokio::test]
    async fn rate_window_is_kept_on_simulated_time() {
        let (clock, l) = lim(OmieLimits { per_method_per_min: 5, margin: Duration::ZERO, ..Default::default() });
        let _p = clock.participant();
        let mut times = vec![];
        for i in 0..12 {
            match l.acquire("k", "geral/clientes/", "ConsultarCliente", &json!({"i": i})).await {
                Ok(Acquired::Go(p)) => {
                    times.push(clock.now());
                    drop(p);
                }
                _ => panic!("refused"),
            }
        }
        // 5 at t=0, 5 at t=60, 2 at t=120: never more than 5 in any minute.
        for (i, t) in times.iter().enumerate() {
            let in_window = times.iter().filter(|u| **u <= *t && **u + MINUTE > *t).count();
            assert!(in_window <= 5, "call {i} at {t:?}: {in_window} in the window");
        }
        assert_eq!(times[11], Duration::from_secs(120));
    }

    #[tokio::test]
    async fn identical_read_is_cached_and_a_write_invalidates_it() {
        let (clock, l) = lim(OmieLimits::default());
        let _p = clock.participant();
        let p = json!({"nId": 1});
        let Ok(Acquired::Go(g)) = l.acquire("k", "geral/anexo/", "ListarAnexo", &p).await else { panic!() };
        drop(g);
        l.answered("k", "geral/anexo/", "ListarAnexo", &p, &json!({"n": 1}));
        assert!(matches!(l.acquire("k", "geral/anexo/", "ListarAnexo", &p).await, Ok(Acquired::Cached(_))));
        l.answered("k", "geral/anexo/", "IncluirAnexo", &json!({"x": 1}), &json!({}));
        // Not cached any more: the identical call waits out the window instead of being redundant.
        let t0 = clock.now();
        let Ok(Acquired::Go(_g)) = l.acquire("k", "geral/anexo/", "ListarAnexo", &p).await else { panic!() };
        assert!(clock.now() >= t0 + Duration::from_secs(60));
    }

    #[tokio::test]
    async fn blocked_key_is_refused_until_the_block_ends() {
        let (_clock, l) = lim(OmieLimits::default());
        l.block("k", 30);
        match l.acquire("k", "s/", "ListarX", &json!({})).await {
            Err(Refused::Blocked { seconds, .. }) => assert!((29..=30).contains(&seconds)),
            _ => panic!("not refused"),
        }
        assert!(matches!(l.acquire("other", "s/", "ListarX", &json!({})).await, Ok(Acquired::Go(_))));
    }
}
