//! HTTP plumbing shared by the three simulators: a loopback accept loop that can
//! drop a connection on purpose (RST), the per-server control state (faults,
//! latency, "fail the next N", request counters) and the fault middleware.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::util::Rng;
use crate::Faults;

/// Which ERP a server imitates; decides the shape of injected error bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Omie,
    Contifico,
    Erpnext,
}

pub(crate) struct ControlState {
    pub(crate) flavor: Flavor,
    faults: RwLock<Faults>,
    latency_ms: AtomicU64,
    fail_queue: Mutex<VecDeque<u16>>,
    counts: Mutex<BTreeMap<String, u64>>,
    total: AtomicU64,
    rng: Mutex<Rng>,
}

/// Runtime control of one simulated server: fault probabilities, latency,
/// deterministic "fail the next N requests" and per-path request counters.
/// Cheap to clone; all clones act on the same server.
#[derive(Clone)]
pub struct ServerControl {
    pub(crate) state: Arc<ControlState>,
}

impl std::fmt::Debug for ServerControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerControl")
            .field("flavor", &self.state.flavor)
            .field("total_requests", &self.total_requests())
            .finish()
    }
}

/// Counter key: the path without query and without a trailing slash, so that
/// `/x/` and `/x` count together.
fn count_key(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_string()
    }
}

impl ServerControl {
    pub(crate) fn new(flavor: Flavor, faults: Faults, latency_ms: u64, seed: u64) -> Self {
        ServerControl {
            state: Arc::new(ControlState {
                flavor,
                faults: RwLock::new(faults),
                latency_ms: AtomicU64::new(latency_ms),
                fail_queue: Mutex::new(VecDeque::new()),
                counts: Mutex::new(BTreeMap::new()),
                total: AtomicU64::new(0),
                rng: Mutex::new(Rng::from_parts(&[seed, flavor as u64, 0xFA17])),
            }),
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.state.flavor
    }

    /// Replace the random-fault probabilities.
    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.write().expect("faults lock") = faults;
    }

    pub fn faults(&self) -> Faults {
        self.state.faults.read().expect("faults lock").clone()
    }

    /// Fixed delay added before every (non-control) request is answered.
    pub fn set_latency_ms(&self, ms: u64) {
        self.state.latency_ms.store(ms, Ordering::Relaxed);
    }

    pub fn latency_ms(&self) -> u64 {
        self.state.latency_ms.load(Ordering::Relaxed)
    }

    /// The next `n` API requests are answered with `status` (body in the ERP's
    /// own error shape; 429 carries `Retry-After: 1`). Calls queue up in order.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut q = self.state.fail_queue.lock().expect("fail queue");
        for _ in 0..n {
            q.push_back(status);
        }
    }

    /// How many forced failures are still queued.
    pub fn pending_failures(&self) -> usize {
        self.state.fail_queue.lock().expect("fail queue").len()
    }

    /// Requests received on `path` (query ignored; trailing slash ignored),
    /// including the ones answered with an injected fault.
    pub fn request_count(&self, path: &str) -> u64 {
        let key = count_key(path.split('?').next().unwrap_or(path));
        self.state.counts.lock().expect("counts").get(&key).copied().unwrap_or(0)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.state.counts.lock().expect("counts").clone()
    }

    pub fn total_requests(&self) -> u64 {
        self.state.total.load(Ordering::Relaxed)
    }

    pub fn reset_counters(&self) {
        self.state.counts.lock().expect("counts").clear();
        self.state.total.store(0, Ordering::Relaxed);
    }

    fn record(&self, path: &str) {
        self.state.total.fetch_add(1, Ordering::Relaxed);
        *self.state.counts.lock().expect("counts").entry(count_key(path)).or_insert(0) += 1;
    }

    fn pop_forced(&self) -> Option<u16> {
        self.state.fail_queue.lock().expect("fail queue").pop_front()
    }

    fn roll(&self) -> (f64, f64) {
        let mut r = self.state.rng.lock().expect("rng");
        (r.unit(), r.unit())
    }

    pub(crate) fn stats_json(&self) -> Value {
        json!({
            "flavor": format!("{:?}", self.state.flavor).to_lowercase(),
            "total": self.total_requests(),
            "paths": self.request_counts(),
            "pending_failures": self.pending_failures(),
            "latency_ms": self.latency_ms(),
            "faults": serde_json::to_value(self.faults()).unwrap_or(Value::Null),
        })
    }
}

/// Marker put in each request's extensions by the accept loop; notifying it makes
/// the connection task close the socket with an RST and no response.
#[derive(Clone)]
pub(crate) struct ConnReset(Arc<Notify>);

pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    let mut r =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub(crate) fn html_response(status: u16, html: &str) -> Response {
    let mut r =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), html.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

fn with_retry_after(mut r: Response) -> Response {
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// An injected error in the imitated ERP's own style.
pub(crate) fn injected_error(flavor: Flavor, status: u16) -> Response {
    match flavor {
        Flavor::Omie => crate::omie::error_for_status(status),
        Flavor::Contifico => crate::contifico::error_for_status(status),
        Flavor::Erpnext => crate::erpnext::error_for_status(status),
    }
}

/// Fault middleware: counts the request, sleeps, then maybe answers with a forced
/// or random fault instead of the real handler.
async fn fault_layer(State(ctl): State<ServerControl>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__sim/") {
        return next.run(req).await;
    }
    ctl.record(&path);
    let faults = ctl.faults();
    let (u, u2) = ctl.roll();

    let mut delay = ctl.latency_ms();
    if faults.latency_jitter_ms > 0 {
        delay += (u2 * faults.latency_jitter_ms as f64) as u64;
    }
    if faults.slow_rate > 0.0 && u2 < faults.slow_rate {
        delay += faults.slow_ms;
    }
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    let flavor = ctl.state.flavor;
    if let Some(status) = ctl.pop_forced() {
        return with_retry_after_if_429(injected_error(flavor, status), status);
    }

    let mut edge = faults.reset_rate.max(0.0);
    if u < edge {
        if let Some(ConnReset(n)) = req.extensions().get::<ConnReset>().cloned() {
            n.notify_one();
            // The connection task drops the socket; this future is then dropped too.
            std::future::pending::<()>().await;
        }
        return injected_error(flavor, 500);
    }
    edge += faults.fail_rate.max(0.0);
    if u < edge {
        return injected_error(flavor, 500);
    }
    edge += faults.rate_limit_rate.max(0.0);
    if u < edge {
        return with_retry_after(injected_error(flavor, 429));
    }
    edge += faults.malformed_rate.max(0.0);
    if u < edge {
        let resp = next.run(req).await;
        let (_parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
        let cut = if bytes.len() > 1 { bytes.len() / 2 } else { 0 };
        let mut broken = bytes[..cut].to_vec();
        if broken.is_empty() {
            broken.extend_from_slice(b"{\"");
        }
        let mut r = Response::new(Body::from(broken));
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return r;
    }
    next.run(req).await
}

fn with_retry_after_if_429(r: Response, status: u16) -> Response {
    if status == 429 {
        with_retry_after(r)
    } else {
        r
    }
}

#[derive(Deserialize)]
struct FailNextQ {
    n: Option<u32>,
    status: Option<u16>,
}

#[derive(Deserialize)]
struct LatencyQ {
    ms: u64,
}

/// Control endpoints present on every simulated server (never counted, never faulted).
pub(crate) fn control_routes(ctl: ServerControl) -> Router {
    Router::new()
        .route("/__sim/stats", get(|State(c): State<ServerControl>| async move { Json(c.stats_json()) }))
        .route(
            "/__sim/fail_next",
            post(|State(c): State<ServerControl>, Query(q): Query<FailNextQ>| async move {
                c.fail_next(q.n.unwrap_or(1), q.status.unwrap_or(500));
                Json(json!({"pending_failures": c.pending_failures()}))
            }),
        )
        .route(
            "/__sim/faults",
            get(|State(c): State<ServerControl>| async move {
                Json(serde_json::to_value(c.faults()).unwrap_or(Value::Null))
            })
            .post(|State(c): State<ServerControl>, Json(f): Json<Faults>| async move {
                c.set_faults(f);
                Json(serde_json::to_value(c.faults()).unwrap_or(Value::Null))
            }),
        )
        .route(
            "/__sim/latency",
            post(|State(c): State<ServerControl>, Query(q): Query<LatencyQ>| async move {
                c.set_latency_ms(q.ms);
                Json(json!({"latency_ms": c.latency_ms()}))
            }),
        )
        .route(
            "/__sim/reset_counters",
            post(|State(c): State<ServerControl>| async move {
                c.reset_counters();
                Json(json!({"ok": true}))
            }),
        )
        .with_state(ctl)
}

/// Wrap an API router with the fault middleware and the control routes.
pub(crate) fn finish_router(api: Router, ctl: ServerControl) -> Router {
    api.merge(control_routes(ctl.clone())).layer(axum::middleware::from_fn_with_state(ctl, fault_layer))
}

/// A server running on 127.0.0.1.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Bind an ephemeral loopback port and serve `router` (HTTP/1.1, keep-alive).
pub(crate) async fn serve(router: Router) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stop_rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                _ = stop_rx.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    if let Some(fut) = connection(stream, router.clone(), stop_rx.clone()) {
                        conns.spawn(fut);
                    }
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    });
    Ok(Running { addr, stop, task })
}

fn connection(
    stream: TcpStream,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    let _ = stream.set_nodelay(true);
    // Keep a second descriptor of the same socket so that a deliberate reset can
    // set SO_LINGER(0) after hyper has taken ownership of the stream.
    let std_stream = stream.into_std().ok()?;
    let dup = std_stream.try_clone().ok()?;
    let stream = TcpStream::from_std(std_stream).ok()?;
    let reset = Arc::new(Notify::new());
    let reset_for_req = reset.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnReset(reset_for_req.clone()));
        router.clone().oneshot(req.map(Body::new))
    });
    Some(async move {
        let conn =
            hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc);
        tokio::pin!(conn);
        tokio::select! {
            biased;
            _ = reset.notified() => {
                let _ = socket2::SockRef::from(&dup).set_linger(Some(Duration::ZERO));
            }
            _ = &mut conn => {}
            _ = stop.changed() => {}
        }
        drop(dup);
    })
}
