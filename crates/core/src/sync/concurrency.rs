//! How many requests one connection's sync keeps in flight: at most a cap (settings, or the seeds'
//! `CONTIFICO_CONCURRENCY`; 8 by default), fewer when the ERP pushes back. The limit halves when
//! the ERP answers 429 or 5xx (seen by the HTTP layer, which also honours Retry-After) or when a
//! page takes much longer than the fastest one seen, and grows back by one request per full window
//! of answered requests (additive increase, multiplicative decrease).

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// A page slower than this many times the fastest one counts as "latency climbing".
const SLOW_FACTOR: u32 = 4;

#[derive(Debug)]
struct State {
    /// Requests allowed in flight now (fractional while growing back).
    limit: f64,
    in_flight: usize,
    fastest: Option<Duration>,
    /// Pushbacks already seen (the HTTP layer's counter).
    pushbacks_seen: u64,
    decreases: u64,
    /// Requests waiting for a slot, by ticket: slots go to the longest-waiting first, so a
    /// resource's pages are sent in the order they were asked for (a page read ahead never goes
    /// before an earlier one, which may turn out to be the last).
    waiting: std::collections::BTreeSet<u64>,
    next_ticket: u64,
}

impl State {
    /// Requests allowed in flight now (the limit, whole, at least one).
    fn allowed(&self) -> usize {
        (self.limit.floor() as usize).max(1)
    }
}

#[derive(Debug)]
pub struct Concurrency {
    cap: usize,
    state: Mutex<State>,
    freed: Notify,
}

/// One request's slot. Give it back with [`Slot::done`]; a slot dropped without it (its request
/// was cancelled) is given back without counting as an answer.
#[derive(Debug)]
pub struct Slot {
    owner: Option<std::sync::Arc<Concurrency>>,
    pushbacks_at_start: u64,
}

impl Slot {
    /// The request took `took` and succeeded or not.
    pub fn done(mut self, took: Duration, ok: bool) {
        if let Some(c) = self.owner.take() {
            c.answered(self.pushbacks_at_start, took, ok);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(c) = self.owner.take() {
            c.release();
        }
    }
}

struct Waiting<'a> {
    owner: &'a std::sync::Arc<Concurrency>,
    ticket: Option<u64>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            self.owner.lock().waiting.remove(&t);
            self.owner.freed.notify_waiters();
        }
    }
}

impl Concurrency {
    pub fn new(cap: usize) -> Concurrency {
        let cap = cap.max(1);
        Concurrency {
            cap,
            state: Mutex::new(State {
                limit: cap as f64,
                in_flight: 0,
                fastest: None,
                pushbacks_seen: crate::http::pushbacks(),
                decreases: 0,
                waiting: Default::default(),
                next_ticket: 0,
            }),
            freed: Notify::new(),
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The number of requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.lock().allowed()
    }

    /// How many times the limit was lowered.
    pub fn decreases(&self) -> u64 {
        self.lock().decreases
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a free slot; the longest-waiting request gets the next one.
    pub async fn acquire(self: &std::sync::Arc<Self>) -> Slot {
        let ticket = {
            let mut st = self.lock();
            let t = st.next_ticket;
            st.next_ticket += 1;
            st.waiting.insert(t);
            t
        };
        // Gives the ticket up if this wait is abandoned (its request was cancelled).
        let mut waiting = Waiting { owner: self, ticket: Some(ticket) };
        loop {
            let freed = self.freed.notified();
            {
                let mut st = self.lock();
                if st.in_flight < st.allowed() && st.waiting.first() == Some(&ticket) {
                    st.waiting.remove(&ticket);
                    st.in_flight += 1;
                    waiting.ticket = None;
                    drop(st);
                    // The next in line may fit too.
                    self.freed.notify_waiters();
                    return Slot { owner: Some(self.clone()), pushbacks_at_start: crate::http::pushbacks() };
                }
            }
            freed.await;
        }
    }

    /// A slot given back unused.
    fn release(&self) {
        {
            let mut st = self.lock();
            st.in_flight = st.in_flight.saturating_sub(1);
        }
        self.freed.notify_waiters();
    }

    /// A slot given back with how long its request took and whether it succeeded.
    fn answered(&self, pushbacks_at_start: u64, took: Duration, ok: bool) {
        let now_pushbacks = crate::http::pushbacks();
        {
            let mut st = self.lock();
            st.in_flight = st.in_flight.saturating_sub(1);
            let pushed_back = now_pushbacks > pushbacks_at_start.max(st.pushbacks_seen);
            let slow = st.fastest.is_some_and(|f| took > f * SLOW_FACTOR && took > Duration::from_millis(50));
            if ok && !pushed_back {
                st.fastest = Some(st.fastest.map_or(took, |f| f.min(took)));
            }
            if pushed_back || !ok {
                st.limit = (st.limit / 2.0).max(1.0);
                st.decreases += 1;
                st.pushbacks_seen = now_pushbacks;
            } else if slow {
                st.limit = (st.limit * 0.75).max(1.0);
                st.decreases += 1;
            } else {
                st.limit = (st.limit + 1.0 / st.limit).min(self.cap as f64);
            }
        }
        self.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_more_than_the_limit_in_flight() {
        let c = std::sync::Arc::new(Concurrency::new(3));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let now = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = vec![];
        for _ in 0..20 {
            let (c, peak, now) = (c.clone(), peak.clone(), now.clone());
            tasks.push(tokio::spawn(async move {
                let s = c.acquire().await;
                let n = now.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                peak.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                tokio::task::yield_now().await;
                now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                s.done(Duration::from_millis(1), true);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 3);
        assert_eq!(c.limit(), 3);
    }

    #[tokio::test]
    async fn slots_go_to_the_longest_waiting_request() {
        let c = std::sync::Arc::new(Concurrency::new(1));
        let held = c.acquire().await;
        let waiters = |n: usize| {
            let c = c.clone();
            async move {
                while c.lock().waiting.len() < n {
                    tokio::task::yield_now().await;
                }
            }
        };
        // The first in line gives up (its request was cancelled): it must not hold the line.
        let gave_up = {
            let c = c.clone();
            tokio::spawn(async move { c.acquire().await })
        };
        waiters(1).await;
        let order = std::sync::Arc::new(Mutex::new(vec![]));
        let mut tasks = vec![];
        for i in 0..5 {
            let (c, order) = (c.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let s = c.acquire().await;
                order.lock().unwrap().push(i);
                tokio::task::yield_now().await;
                s.done(Duration::from_millis(1), true);
            }));
            waiters(i + 2).await;
        }
        gave_up.abort();
        assert!(gave_up.await.is_err(), "the abandoned wait was cancelled, not served");
        held.done(Duration::from_millis(1), true);
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(5), t).await.expect("every waiter was served").unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
        assert!(c.lock().waiting.is_empty());
        assert_eq!(c.lock().in_flight, 0);
    }

    #[tokio::test]
    async fn a_cancelled_request_gives_its_slot_back() {
        let c = std::sync::Arc::new(Concurrency::new(2));
        let a = c.acquire().await;
        let b = c.acquire().await;
        drop(a); // its request was aborted
        let again = tokio::time::timeout(Duration::from_secs(5), c.acquire()).await.expect("a slot came back");
        b.done(Duration::from_millis(1), true);
        again.done(Duration::from_millis(1), true);
        assert_eq!(c.lock().in_flight, 0);
        assert_eq!(c.limit(), 2, "a cancelled request is not a failure");
    }

    #[test]
    fn failures_halve_and_successes_grow_back_slowly() {
        let c = std::sync::Arc::new(Concurrency::new(8));
        let slot = || Slot { owner: Some(c.clone()), pushbacks_at_start: u64::MAX };
        c.lock().in_flight = 1;
        slot().done(Duration::from_millis(10), false);
        assert_eq!(c.limit(), 4);
        // One request more per window of answered requests: about 5 answers to go from 4 to 5.
        for _ in 0..4 {
            c.lock().in_flight = 1;
            slot().done(Duration::from_millis(10), true);
        }
        assert_eq!(c.limit(), 4);
        c.lock().in_flight = 1;
        slot().done(Duration::from_millis(10), true);
        assert_eq!(c.limit(), 5);
        // Much slower than the fastest page: lowered.
        c.lock().in_flight = 1;
        slot().done(Duration::from_millis(500), true);
        assert_eq!(c.limit(), 3);
        assert_eq!(c.decreases(), 2);
    }
}
