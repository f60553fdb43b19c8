//! Omie (Brazil) simulator: JSON-over-POST envelope
//! `{"call", "app_key", "app_secret", "param": [{...}]}` on
//! `/api/v1/{module}/{service}/`, faults `{"faultstring", "faultcode"}` with HTTP 500.
//!
//! Simulated services (looked up in `dispatch`): geral/clientes, financas/contapagar,
//! financas/contareceber, produtos/recebimentonfe, produtos/pedidocompra (plus a configurable
//! closing call, since Omie documents none), servicos/nfse and geral/anexo (with expiring download
//! links served by this same server under `/__sim/files/`).
//!
//! The consumption limits of the reference are enforced before a call is served (see
//! [`limits`]): rate per key + method and per IP, simultaneous calls, the redundant-call rule and
//! the misuse block (HTTP 425). [`OmieControl`] lets tests and benchmarks set them, inject a
//! simulated clock, touch records and shape attachments and orders.

pub mod anexo;
pub mod book;
pub mod data;
pub mod limits;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Map, Value};

pub use anexo::{PoCloseRule, SimAttachment};
pub use data::Kind;
pub use limits::{OmieLimitStats, OmieLimits, TimeSource};

use crate::server::{json_response, ServerControl};
use crate::util::{cnpj, cpf, ddmmyyyy, hash, hhmmss, local_naive, now_ts, parse_ddmmyyyy, Rng};
use crate::SimCredentials;

/// Brasília time (no DST since 2019).
pub(crate) const BR_OFFSET_H: i64 = -3;
/// Omie's own ids are large integers; clients are spread from here.
pub(crate) const CLIENT_ID_BASE: u64 = 2_485_000_000;
pub(crate) const CLIENT_ID_STRIDE: u64 = 7;

/// A fault body plus its HTTP status.
#[derive(Debug)]
pub struct Fault {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Fault {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Fault { status, code: code.to_string(), message: message.into() }
    }

    /// reference: business/validation errors come back as HTTP 500 + fault body
    /// (omie.md section 8: "A simulator should use 500").
    pub(crate) fn client(code: u32, message: impl Into<String>) -> Self {
        Fault::new(500, &format!("SOAP-ENV:Client-{code}"), message)
    }
}

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        json_response(self.status, &json!({ "faultstring": self.message, "faultcode": self.code }))
    }
}

/// Body for an injected failure with the given HTTP status.
pub(crate) fn error_for_status(status: u16) -> Response {
    match status {
        // reference: "Server hiccup: HTTP 500 with `SOAP-ERROR: Broken response from
        // Application Server`" (retryable).
        500 => Fault::new(500, "SOAP-ENV:Server", "SOAP-ERROR: Broken response from Application Server"),
        // reference: misuse block is HTTP 425 with MISUSE_API_PROCESS (per api-omie).
        425 => {
            Fault::new(425, "MISUSE_API_PROCESS", "API bloqueada por consumo indevido. Tente novamente em 1 segundos.")
        }
        // reference: HTTP 429 "Too many Requests" [DOC S2]; its body is NOT FOUND,
        // so the usual fault shape is used.
        429 => Fault::new(429, "SOAP-ENV:Server", "ERROR: Too many Requests"),
        401 | 403 => Fault::new(status, "SOAP-ENV:Client-101", "ERROR: Chave de acesso invalida"),
        s => Fault::new(s, "SOAP-ENV:Server", format!("ERROR: Falha simulada (HTTP {s})")),
    }
    .into_response()
}

pub(crate) struct OmieState {
    seed: u64,
    scale: u64,
    anchor: i64,
    app_key: String,
    app_secret: String,
    limits: RwLock<OmieLimits>,
    lim: Mutex<limits::LimitState>,
    time: RwLock<TimeSource>,
    /// The wall time the simulator's clock ([`TimeSource`]) counts from: its own "now" is this
    /// plus the time source, so a simulated clock moves the times the simulator names too.
    clock_zero: chrono::DateTime<chrono::Utc>,
    world: Mutex<World>,
    /// Calls whose answer is held after the work is done (and committed): (call, how long, how many).
    holds: Mutex<Vec<(String, Duration, u32)>>,
    /// Wakes the answers being held when the holds are cleared.
    release_holds: tokio::sync::Notify,
    /// The planted contract billing (`book.rs`), computed once.
    planted: std::sync::OnceLock<Vec<book::Planted>>,
}

/// What changed since start: touched records, extra clients, order states, attachments, links.
pub(crate) struct World {
    pub(crate) touched: HashMap<(Kind, u64), i64>,
    /// Fields changed by `AlterarContaPagar` / `AlterarContaReceber`, laid over the generated record.
    pub(crate) edits: HashMap<(Kind, u64), Map<String, Value>>,
    /// Write calls that did their work, by method.
    pub(crate) writes: HashMap<String, u64>,
    pub(crate) extra_clients: Vec<Value>,
    pub(crate) order_status: HashMap<u64, &'static str>,
    pub(crate) order_stage: HashMap<u64, String>,
    pub(crate) po_close: Option<PoCloseRule>,
    pub(crate) anexos: HashMap<(String, u64), Vec<SimAttachment>>,
    pub(crate) next_anexo_id: u64,
    pub(crate) links: HashMap<String, (String, u64, u64, Duration)>,
    pub(crate) next_token: u64,
    pub(crate) link_ttl: Duration,
    pub(crate) serve_zip: bool,
    pub(crate) base_url: String,
}

impl OmieState {
    pub(crate) fn planted(&self) -> &[book::Planted] {
        self.planted.get_or_init(|| book::planted(self))
    }
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub(crate) fn time(&self) -> TimeSource {
        self.time.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn lim(&self) -> MutexGuard<'_, limits::LimitState> {
        self.lim.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn limits(&self) -> OmieLimits {
        self.limits.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// The wall time at instant `t` of the simulator's own clock.
    pub(crate) fn wall_at(&self, t: Duration) -> chrono::DateTime<chrono::Utc> {
        self.clock_zero + chrono::Duration::from_std(t).unwrap_or_default()
    }
}

pub(crate) fn build(seed: u64, scale: u64, creds: &SimCredentials, ctl: ServerControl) -> (Router, OmieControl) {
    let st = Arc::new(OmieState {
        seed,
        scale,
        anchor: now_ts(),
        app_key: creds.omie_app_key.clone(),
        app_secret: creds.omie_app_secret.clone(),
        limits: RwLock::new(OmieLimits::default()),
        lim: Mutex::new(limits::LimitState::default()),
        time: RwLock::new(limits::real_time()),
        clock_zero: chrono::Utc::now(),
        world: Mutex::new(World {
            touched: HashMap::new(),
            edits: HashMap::new(),
            writes: HashMap::new(),
            extra_clients: Vec::new(),
            order_status: HashMap::new(),
            order_stage: HashMap::new(),
            po_close: None,
            anexos: HashMap::new(),
            next_anexo_id: 0,
            links: HashMap::new(),
            next_token: 0,
            link_ttl: anexo::DEFAULT_LINK_TTL,
            serve_zip: false,
            base_url: String::new(),
        }),
        holds: Mutex::new(Vec::new()),
        release_holds: tokio::sync::Notify::new(),
        planted: std::sync::OnceLock::new(),
    });
    let api = Router::new()
        .route("/api/v1/{*service}", any(handle))
        .route("/__sim/files/{token}", get(download))
        // What the limits did (for benchmarks that run the simulator in a process of its own).
        .route(
            "/__sim/omie/limits",
            get(|State(st): State<Arc<OmieState>>| async move { axum::Json(st.lim().stats.clone()) }),
        )
        .with_state(st.clone());
    (crate::server::finish_router(api, ctl), OmieControl { st })
}

/// Runtime control of the Omie simulator (limits, clock, records, attachments, orders).
#[derive(Clone)]
pub struct OmieControl {
    st: Arc<OmieState>,
}

impl std::fmt::Debug for OmieControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OmieControl").field("scale", &self.st.scale).finish()
    }
}

impl OmieState {
    fn take_hold(&self, call: &str) -> Option<Duration> {
        let mut holds = self.holds.lock().expect("holds");
        let i = holds.iter().position(|(c, _, _)| c == call)?;
        let d = holds[i].1;
        holds[i].2 -= 1;
        if holds[i].2 == 0 {
            holds.remove(i);
        }
        Some(d)
    }
}

impl OmieControl {
    /// The next `n` successful `call`s (e.g. `IncluirAnexo`) do their work, then hold the answer for `d`.
    pub fn hold_answers(&self, call: &str, d: Duration, n: u32) {
        if n > 0 {
            self.st.holds.lock().expect("holds").push((call.to_string(), d, n));
        }
    }

    /// Forgets every hold still armed and answers the ones being held now.
    pub fn clear_holds(&self) {
        self.st.holds.lock().expect("holds").clear();
        self.st.release_holds.notify_waiters();
    }

    pub(crate) fn set_base_url(&self, base: &str) {
        self.st.world().base_url = base.to_string();
    }
    pub fn limits(&self) -> OmieLimits {
        self.st.limits()
    }
    pub fn set_limits(&self, l: OmieLimits) {
        *self.st.limits.write().unwrap_or_else(|p| p.into_inner()) = l;
    }
    /// Serve the limits on this clock (a benchmark's simulated time) instead of real time.
    pub fn set_time_source(&self, t: TimeSource) {
        *self.st.time.write().unwrap_or_else(|p| p.into_inner()) = t;
    }
    /// The simulator's own wall clock (its time source counted from the moment it started).
    pub fn wall_clock(&self) -> chrono::DateTime<chrono::Utc> {
        self.st.wall_at((self.st.time())())
    }
    pub fn limit_stats(&self) -> OmieLimitStats {
        self.st.lim().stats.clone()
    }
    /// Forget rate windows, redundancy marks, blocks and counters.
    pub fn reset_limits(&self) {
        self.st.lim().reset();
    }
    /// Block the demo key for `secs` seconds, as Omie does after misuse (HTTP 425).
    pub fn block_key(&self, secs: u64) {
        let now = (self.st.time())();
        self.st.lim().block(&self.st.app_key, now + Duration::from_secs(secs));
    }
    /// Whether the simulated Omie still refuses the key (on its own clock).
    pub fn key_blocked(&self) -> bool {
        let now = (self.st.time())();
        self.st.lim().is_blocked(&self.st.app_key, now)
    }
    /// The contract book planted in the receivables (empty below `book::MIN_SCALE`), with each
    /// client's CNPJ as Omie has it.
    pub fn contract_book(&self) -> Vec<(book::BookEntry, String)> {
        book::book(&self.st)
            .into_iter()
            .map(|e| {
                let doc = cliente(&self.st, e.client_idx)["cnpj_cpf"].as_str().unwrap_or_default().to_string();
                (e, doc)
            })
            .collect()
    }
    /// Record counts per kind at this scale.
    pub fn count(&self, k: Kind) -> u64 {
        self.st.count(k)
    }
    /// Omie id of the `idx`-th record of a kind.
    pub fn id_of(&self, k: Kind, idx: u64) -> u64 {
        self.st.id_of(k, idx)
    }
    /// Marks a record as altered now (it then matches "changed since today" filters).
    pub fn touch(&self, k: Kind, idx: u64) {
        self.st.world().touched.insert((k, idx), now_ts());
    }
    /// Index of the record with this Omie id, if the kind has one.
    pub fn idx_of(&self, k: Kind, id: u64) -> Option<u64> {
        self.st.idx_of(k, id)
    }
    /// How many times a write call (e.g. `AlterarContaPagar`) did its work.
    pub fn writes(&self, call: &str) -> u64 {
        self.st.world().writes.get(call).copied().unwrap_or(0)
    }
    /// A generated record as Omie would return it.
    pub fn record(&self, k: Kind, idx: u64) -> Value {
        match k {
            Kind::Client => cliente(&self.st, idx),
            Kind::Payable => data::payable(&self.st, idx),
            Kind::Receivable => data::receivable(&self.st, idx),
            Kind::Receipt => data::receipt(&self.st, idx, true),
            Kind::Order => data::order(&self.st, idx),
            Kind::Nfse => data::nfse(&self.st, idx),
        }
    }
    /// Adds a client (any content, e.g. an invalid CNPJ); it is listed after the generated ones and
    /// counts as altered today.
    pub fn add_client(&self, v: Value) {
        self.st.world().extra_clients.push(v);
    }
    /// The closing call this "account" accepts for purchase orders (none by default, like Omie).
    pub fn set_po_close_rule(&self, rule: Option<PoCloseRule>) {
        self.st.world().po_close = rule;
    }
    /// `(cEtapa, status)` of the `idx`-th order; status is one of the PesquisarPedCompra filters.
    pub fn order_state(&self, idx: u64) -> (String, String) {
        let (e, s) = data::order_state(&self.st, idx);
        (e, s.to_string())
    }
    pub fn set_order_status(&self, idx: u64, status: &'static str) {
        self.st.world().order_status.insert(idx, status);
    }
    /// How long `cLinkDownload` links stay valid (zero: they are already expired when served).
    pub fn set_link_ttl(&self, ttl: Duration) {
        self.st.world().link_ttl = ttl;
    }
    /// Whether download links serve the zip (as included) instead of the file itself.
    pub fn set_download_serves_zip(&self, yes: bool) {
        self.st.world().serve_zip = yes;
    }
    /// Attachments of a record (receipts come with seeded ones).
    pub fn attachments(&self, table: &str, id: u64) -> Vec<SimAttachment> {
        self.st.with_attachments(table, id, |l| l.clone())
    }
    /// Adds an attachment as if a user had uploaded it; `served` replaces what downloads return
    /// (e.g. a damaged zip). Returns its nIdAnexo.
    pub fn add_attachment(&self, table: &str, id: u64, name: &str, content: &[u8], served: Option<Vec<u8>>) -> u64 {
        let new_id = {
            let mut w = self.st.world();
            w.next_anexo_id += 1;
            9_000_000_000 + w.next_anexo_id
        };
        self.st.with_attachments(table, id, |l| {
            l.push(SimAttachment {
                id: new_id,
                name: name.to_string(),
                cod_int: String::new(),
                kind: name.rsplit('.').next().unwrap_or("").to_string(),
                content: content.to_vec(),
                served,
                included_at: now_ts(),
                via_api: false,
            })
        });
        new_id
    }
    /// Payables a receipt generated (its parcels' nIdTitulo).
    pub fn receipt_payables(&self, receipt_idx: u64) -> Vec<u64> {
        data::receipt_payables(&self.st, receipt_idx)
    }
    /// Index of the order a payable records a service taken against, if any.
    pub fn payable_service_order(&self, payable_idx: u64) -> Option<u64> {
        data::payable_service_order(&self.st, payable_idx)
    }
}

async fn download(State(st): State<Arc<OmieState>>, Path(token): Path<String>) -> Response {
    match anexo::download(&st, &token) {
        Ok((bytes, name)) => {
            let mut r = Response::new(axum::body::Body::from(bytes));
            let h = r.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/octet-stream"),
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                h.insert(axum::http::header::CONTENT_DISPOSITION, v);
            }
            r
        }
        // reference: what an expired link answers is NOT FOUND; the sim answers like an object
        // store whose signed URL expired.
        Err(403) => {
            let mut r = Response::new(axum::body::Body::from(
                "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            ));
            *r.status_mut() = axum::http::StatusCode::FORBIDDEN;
            r
        }
        Err(s) => {
            let mut r = Response::new(axum::body::Body::from("Not Found"));
            *r.status_mut() = axum::http::StatusCode::from_u16(s).unwrap_or(axum::http::StatusCode::NOT_FOUND);
            r
        }
    }
}

fn key_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        // reference: the official example writes app_key as a JSON number.
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn handle(
    State(st): State<Arc<OmieState>>,
    Path(service): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let service = service.trim_matches('/').to_string();
    if method != Method::POST {
        // reference: always POST [DOC S1]. GET on a service URL (WSDL etc.) is not
        // simulated; the answer below is the sim's own.
        return Fault::new(405, "SOAP-ENV:Client", "ERROR: Utilize o método POST para chamar a API.").into_response();
    }
    // reference: the faults for a malformed envelope are NOT FOUND; the sim answers
    // HTTP 500 with a bare `SOAP-ENV:Client` fault.
    let env: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Fault::new(500, "SOAP-ENV:Client", "ERROR: Requisição JSON inválida.").into_response(),
    };
    let Some(call) = env.get("call").and_then(Value::as_str).map(str::to_string) else {
        return Fault::new(500, "SOAP-ENV:Client", "ERROR: Tag [CALL] não informada.").into_response();
    };

    // reference: invalid credentials → `SOAP-ENV:Client-101` "ERROR: Chave de acesso
    // invalida" served with HTTP 500 (test fixtures; real text NOT FOUND).
    let key = key_str(env.get("app_key"));
    let secret = key_str(env.get("app_secret"));
    if key.as_deref() != Some(st.app_key.as_str()) || secret.as_deref() != Some(st.app_secret.as_str()) {
        return Fault::client(101, "ERROR: Chave de acesso invalida").into_response();
    }

    let param = match env.get("param") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Array(a)) => a.first().cloned().unwrap_or(Value::Object(Map::new())),
        Some(o @ Value::Object(_)) => o.clone(),
        Some(_) => return Fault::new(500, "SOAP-ENV:Client", "ERROR: Tag [PARAM] inválida.").into_response(),
    };
    let Value::Object(param) = param else {
        return Fault::new(500, "SOAP-ENV:Client", "ERROR: Tag [PARAM] inválida.").into_response();
    };

    // The limits, checked before the call is served.
    let lim = st.limits();
    let key = st.app_key.clone();
    let fingerprint = format!("{key}|{service}|{call}|{}", limits::canonical(&Value::Object(param.clone())));
    let now = (st.time())();
    let admitted = st.lim().admit(&lim, now, &key, &call, &fingerprint);
    if let Err(r) = admitted {
        return refusal(&st, r, &call).into_response();
    }
    struct Release<'a>(&'a OmieState, &'a str, &'a str, String);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.lim().release(self.1, self.2, &self.3);
        }
    }
    let _release = Release(&st, &key, &call, fingerprint.clone());
    if !lim.hold.is_zero() {
        tokio::time::sleep(lim.hold).await;
    }
    let base = {
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        format!("http://{host}/")
    };
    match dispatch(&st, &service, &call, &param, &base) {
        Ok(v) => {
            st.lim().answered(&lim, (st.time())(), fingerprint);
            if let Some(d) = st.take_hold(&call) {
                // The call is done and kept; only its answer is late (a client timeout or a crash
                // in between must not lead to a second copy). Clearing the holds answers at once.
                let released = st.release_holds.notified();
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = released => {}
                }
            }
            json_response(200, &v)
        }
        Err(f) => f.into_response(),
    }
}

fn refusal(st: &OmieState, r: limits::Refusal, call: &str) -> Fault {
    match r {
        // reference: `MISUSE_API_PROCESS`, HTTP 425, "API bloqueada por consumo indevido. Tente
        // novamente em N segundos."
        limits::Refusal::Blocked { secs } => Fault::new(
            425,
            "MISUSE_API_PROCESS",
            format!("API bloqueada por consumo indevido. Tente novamente em {secs} segundos."),
        ),
        // reference: HTTP 429 "Too many Requests" [DOC S2]; body NOT FOUND.
        limits::Refusal::RateLimited => Fault::new(429, "SOAP-ENV:Server", "ERROR: Too many Requests"),
        // reference: `SOAP-ENV:Client-1880` ("o Omie ainda processa a requisição anterior do
        // método"); the text is NOT FOUND, this is the sim's wording.
        limits::Refusal::Concurrency => Fault::client(
            1880,
            format!("ERROR: O Omie ainda está processando a requisição anterior do método [{call}]. Aguarde."),
        ),
        // reference: `SOAP-ENV:Client-6` "Consumo redundante detectado. Aguarde N segundos ...".
        limits::Refusal::Redundant { secs } => Fault::client(
            6,
            format!("ERROR: Consumo redundante detectado. Aguarde {secs} segundos para tentar novamente (REDUNDANT)."),
        ),
        // reference (omie.md section 8): "Previous identical request still processing" →
        // `SOAP-ENV:Client-8020` "ERROR: Esta requisição já foi processada ou está sendo processada
        // e você pode tentar novamente às [hh:mm:ss]. (1)" [CODE]; the redundancy rule the docs
        // state is for consults of the same ID (section 9). Inferred: a resent identical write gets
        // this fault, not Client-6; the time named is the end of the 60 s window, in Brasília time
        // (Omie's), rounded up to the second; HTTP 500 like the other Client-N faults.
        limits::Refusal::AlreadyProcessed { retry_at } => {
            let at = st.wall_at(retry_at);
            let at = if at.timestamp_subsec_nanos() > 0 {
                at + chrono::Duration::nanoseconds(1_000_000_000 - at.timestamp_subsec_nanos() as i64)
            } else {
                at
            };
            let local = at.with_timezone(&chrono_tz::America::Sao_Paulo).format("%H:%M:%S");
            Fault::client(
                8020,
                format!(
                    "ERROR: Esta requisição já foi processada ou está sendo processada e você pode tentar novamente às [{local}]. (1)"
                ),
            )
        }
    }
}

/// Service registry: `(service path, method)` → handler.
fn dispatch(st: &OmieState, service: &str, call: &str, param: &Map<String, Value>, base: &str) -> Result<Value, Fault> {
    let close_rule = st.world().po_close.clone();
    if let Some(rule) = close_rule.filter(|r| r.service.trim_matches('/') == service && r.call == call) {
        return anexo::close_order(st, &rule, param);
    }
    match (service, call) {
        ("geral/clientes", "ListarClientes") => listar_clientes(st, param, false),
        ("geral/clientes", "ListarClientesResumido") => listar_clientes(st, param, true),
        ("geral/clientes", "ConsultarCliente") => consultar_cliente(st, param),
        ("financas/contapagar", "ListarContasPagar") => data::listar_financas(st, param, true),
        ("financas/contapagar", "ConsultarContaPagar") => data::consultar_financas(st, param, true),
        ("financas/contapagar", "AlterarContaPagar") => data::alterar_financas(st, param, true),
        ("financas/contareceber", "AlterarContaReceber") => data::alterar_financas(st, param, false),
        ("financas/contareceber", "ListarContasReceber") => data::listar_financas(st, param, false),
        ("financas/contareceber", "ConsultarContaReceber") => data::consultar_financas(st, param, false),
        ("produtos/recebimentonfe", "ListarRecebimentos") => data::listar_recebimentos(st, param),
        ("produtos/recebimentonfe", "ConsultarRecebimento") => data::consultar_recebimento(st, param),
        ("produtos/pedidocompra", "PesquisarPedCompra") => data::pesquisar_pedidos(st, param),
        ("produtos/pedidocompra", "ConsultarPedCompra") => data::consultar_pedido(st, param),
        ("servicos/nfse", "ListarNFSEs") => data::listar_nfse(st, param),
        ("geral/anexo", "IncluirAnexo") => anexo::incluir(st, param),
        ("geral/anexo", "ListarAnexo") => anexo::listar(st, param),
        ("geral/anexo", "ConsultarAnexo") => anexo::consultar(st, param),
        ("geral/anexo", "ObterAnexo") => anexo::obter(st, param, base),
        ("geral/anexo", "ExcluirAnexo") => anexo::excluir(st, param),
        (svc, m) if known_method(svc, m) => {
            Err(Fault::new(501, "SOAP-ENV:Server", format!("ERROR: [simulador] o método {m} ainda não é simulado.")))
        }
        (svc, m) if KNOWN_SERVICES.contains(&svc) => Err(unknown_method(svc, m)),
        (svc, _) => Err(Fault::new(404, "SOAP-ENV:Client", format!("ERROR: Serviço [{svc}/] não encontrado."))),
    }
}

/// reference: the fault for an unknown `call` is NOT FOUND in the reference. The sim
/// answers HTTP 500 with a bare `SOAP-ENV:Client` fault naming the method.
fn unknown_method(service: &str, method: &str) -> Fault {
    Fault::new(500, "SOAP-ENV:Client", format!("ERROR: Método [{method}] não existe no serviço [{service}/]!"))
}

/// reference: the documented methods of each service (omie.md §1–§7).
fn known_method(service: &str, m: &str) -> bool {
    let list: &[&str] = match service {
        "geral/clientes" => CLIENTES_METHODS,
        "financas/contapagar" => &[
            "IncluirContaPagar",
            "AlterarContaPagar",
            "ExcluirContaPagar",
            "LancarPagamento",
            "CancelarPagamento",
            "IncluirContaPagarPorLote",
            "UpsertContaPagar",
            "UpsertContaPagarPorLote",
        ],
        "financas/contareceber" => &[
            "IncluirContaReceber",
            "AlterarContaReceber",
            "ExcluirContaReceber",
            "LancarRecebimento",
            "CancelarRecebimento",
            "UpsertContaReceber",
            "CancelarContaReceber",
        ],
        "produtos/recebimentonfe" => &[
            "AlterarRecebimento",
            "AlterarRecebimentoConcluido",
            "AlterarEtapaRecebimento",
            "ConcluirRecebimento",
            "ReverterRecebimento",
            "ExcluirRecebimento",
        ],
        "produtos/pedidocompra" => &["IncluirPedCompra", "AlteraPedCompra", "ExcluirPedCompra", "UpsertPedCompra"],
        _ => &[],
    };
    list.contains(&m)
}

const CLIENTES_METHODS: &[&str] = &[
    "IncluirCliente",
    "AlterarCliente",
    "ExcluirCliente",
    "ConsultarCliente",
    "ListarClientes",
    "ListarClientesResumido",
    "IncluirClientesPorLote",
    "UpsertCliente",
    "UpsertClientesPorLote",
    "UpsertClienteCpfCnpj",
    "AssociarCodIntCliente",
];

/// Services of the reference whose methods are not simulated yet (unknown methods on
/// them still get the unknown-method fault; known ones are listed when added).
const KNOWN_SERVICES: &[&str] = &[
    "geral/clientes",
    "geral/anexo",
    "geral/tiposanexo",
    "produtos/recebimentonfe",
    "financas/contapagar",
    "financas/contareceber",
    "financas/pesquisartitulos",
    "produtos/pedidocompra",
    "servicos/nfse",
];

/// reference: Omie refuses unknown parameters with `Client-5001` naming the tag (in
/// upper case) and the request's complex type.
pub(crate) fn check_tags(param: &Map<String, Value>, allowed: &[&str], complex: &str) -> Result<(), Fault> {
    for k in param.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Fault::client(
                5001,
                format!("ERROR: Tag [{}] não faz parte da estrutura do tipo complexo [{complex}]!", k.to_uppercase()),
            ));
        }
    }
    Ok(())
}

const LIST_TAGS: &[&str] = &[
    "pagina",
    "registros_por_pagina",
    "apenas_importado_api",
    "ordenar_por",
    "ordem_decrescente",
    "ordem_descrescente",
    "filtrar_por_data_de",
    "filtrar_por_data_ate",
    "filtrar_por_hora_de",
    "filtrar_por_hora_ate",
    "filtrar_apenas_inclusao",
    "filtrar_apenas_alteracao",
    "clientesFiltro",
    "clientesPorCodigo",
    "exibir_caracteristicas",
    "exibir_obs",
];

// reference: the faults for a badly typed value are NOT FOUND; the sim answers a bare
// `SOAP-ENV:Client` fault with HTTP 500.
pub(crate) fn int_param(param: &Map<String, Value>, k: &str) -> Result<Option<i64>, Fault> {
    match param.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
            Fault::new(500, "SOAP-ENV:Client", format!("ERROR: Valor inválido para a tag [{}]!", k.to_uppercase()))
        }),
        Some(_) => {
            Err(Fault::new(500, "SOAP-ENV:Client", format!("ERROR: Valor inválido para a tag [{}]!", k.to_uppercase())))
        }
    }
}

pub(crate) fn str_param<'a>(param: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    param.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

pub(crate) fn date_param(param: &Map<String, Value>, k: &str) -> Result<Option<chrono::NaiveDate>, Fault> {
    match str_param(param, k) {
        None => Ok(None),
        Some(s) => parse_ddmmyyyy(s).map(Some).ok_or_else(|| {
            Fault::new(
                500,
                "SOAP-ENV:Client",
                format!("ERROR: Data inválida na tag [{}]. Utilize o formato dd/mm/aaaa!", k.to_uppercase()),
            )
        }),
    }
}

fn listar_clientes(st: &OmieState, param: &Map<String, Value>, resumido: bool) -> Result<Value, Fault> {
    check_tags(param, LIST_TAGS, "clientes_list_request")?;
    let pagina = int_param(param, "pagina")?.unwrap_or(1).max(1) as u64;
    // reference: default page size NOT FOUND (examples use 50); official guidance is
    // "no máximo 500 registros por página", applied here as a clamp.
    let rpp = int_param(param, "registros_por_pagina")?.unwrap_or(50).clamp(1, 500) as u64;

    let de = date_param(param, "filtrar_por_data_de")?;
    let ate = date_param(param, "filtrar_por_data_ate")?;
    let apenas_inclusao = str_param(param, "filtrar_apenas_inclusao") == Some("S");
    let apenas_importado = str_param(param, "apenas_importado_api") == Some("S");
    let filtro = param.get("clientesFiltro").and_then(Value::as_object);
    let por_codigo: Vec<u64> = param
        .get("clientesPorCodigo")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.get("codigo_cliente_omie").and_then(Value::as_u64)).collect())
        .unwrap_or_default();

    let filtered = de.is_some()
        || ate.is_some()
        || apenas_importado
        || filtro.is_some_and(|f| !f.is_empty())
        || !por_codigo.is_empty();

    let n_clients = client_count(st);
    let (total, page_idx): (u64, Vec<u64>) = if !filtered {
        let start = (pagina - 1).saturating_mul(rpp);
        let end = (start + rpp).min(n_clients);
        (n_clients, (start.min(end)..end).collect())
    } else {
        let mut hits = Vec::new();
        let candidates: Box<dyn Iterator<Item = u64>> = if por_codigo.is_empty() {
            Box::new(0..n_clients)
        } else {
            let mut v: Vec<u64> = por_codigo.iter().filter_map(|c| client_idx(st, *c)).collect();
            v.sort_unstable();
            v.dedup();
            Box::new(v.into_iter())
        };
        for idx in candidates {
            let c = client_at(st, idx);
            let info = &c["info"];
            let when = parse_ddmmyyyy(info[if apenas_inclusao { "dInc" } else { "dAlt" }].as_str().unwrap_or(""));
            if de.is_some_and(|d| when.is_none_or(|w| w < d))
                || ate.is_some_and(|d| when.is_none_or(|w| w > d))
                || (apenas_importado && info["cImpAPI"] != "S")
            {
                continue;
            }
            if let Some(f) = filtro {
                let ok = f.iter().all(|(k, want)| match (c.get(k), want) {
                    (_, Value::Null) => true,
                    (Some(Value::String(have)), Value::String(w)) => {
                        if k == "razao_social" || k == "nome_fantasia" {
                            have.to_lowercase().contains(&w.to_lowercase())
                        } else {
                            have == w
                        }
                    }
                    (Some(have), w) => have == w,
                    (None, _) => false,
                });
                if !ok {
                    continue;
                }
            }
            hits.push(idx);
        }
        let start = ((pagina - 1).saturating_mul(rpp)).min(hits.len() as u64) as usize;
        let end = (start + rpp as usize).min(hits.len());
        (hits.len() as u64, hits[start..end].to_vec())
    };

    let total_paginas = total.div_ceil(rpp);
    // reference: page past the end (or an empty result) → `SOAP-ENV:Client-5113`
    // "ERROR: Não existem registros para a página [N]!" with HTTP 500.
    if page_idx.is_empty() {
        return Err(Fault::client(5113, format!("ERROR: Não existem registros para a página [{pagina}]!")));
    }
    let rows: Vec<Value> = page_idx
        .iter()
        .map(|i| {
            let c = client_at(st, *i);
            if resumido {
                json!({
                    "codigo_cliente": c["codigo_cliente_omie"],
                    "codigo_cliente_integracao": c["codigo_cliente_integracao"],
                    "razao_social": c["razao_social"],
                    "nome_fantasia": c["nome_fantasia"],
                    "cnpj_cpf": c["cnpj_cpf"],
                })
            } else {
                c
            }
        })
        .collect();
    let key = if resumido { "clientes_cadastro_resumido" } else { "clientes_cadastro" };
    Ok(json!({
        "pagina": pagina,
        "total_de_paginas": total_paginas,
        "registros": rows.len(),
        "total_de_registros": total,
        key: rows,
    }))
}

fn consultar_cliente(st: &OmieState, param: &Map<String, Value>) -> Result<Value, Fault> {
    check_tags(param, &["codigo_cliente_omie", "codigo_cliente_integracao"], "clientes_cadastro_chave")?;
    let by_code = int_param(param, "codigo_cliente_omie")?.filter(|c| *c > 0);
    let by_int = str_param(param, "codigo_cliente_integracao");
    let idx = match (by_code, by_int) {
        (Some(c), _) => client_idx(st, c as u64),
        (None, Some(s)) => s
            .strip_prefix("CLI-")
            .and_then(|n| n.parse::<u64>().ok())
            .and_then(|n| n.checked_sub(1))
            .filter(|i| *i < st.scale),
        (None, None) => None,
    };
    // reference: not-found text for clients is NOT FOUND in omie.md; public code
    // treats `SOAP-ENV:Client-103` as "cliente não cadastrado".
    match idx {
        Some(i) => Ok(client_at(st, i)),
        None => Err(Fault::client(
            103,
            match (by_code, by_int) {
                (Some(c), _) => format!("ERROR: Cliente não cadastrado para o Código [{c}] !"),
                (None, Some(s)) => {
                    format!("ERROR: Cliente não cadastrado para o Código de Integração [{s}] !")
                }
                _ => "ERROR: Informe o código do cliente!".to_string(),
            },
        )),
    }
}

fn client_code(st: &OmieState, idx: u64) -> u64 {
    CLIENT_ID_BASE + idx * CLIENT_ID_STRIDE + hash(&[st.seed, 0xC11, idx]) % CLIENT_ID_STRIDE
}

fn client_idx(st: &OmieState, code: u64) -> Option<u64> {
    let generated = code
        .checked_sub(CLIENT_ID_BASE)
        .map(|d| d / CLIENT_ID_STRIDE)
        .filter(|idx| *idx < st.scale && client_code(st, *idx) == code);
    generated.or_else(|| {
        let w = st.world();
        w.extra_clients
            .iter()
            .position(|c| c["codigo_cliente_omie"].as_u64() == Some(code))
            .map(|p| st.scale + p as u64)
    })
}

/// Generated clients, then the ones added through [`OmieControl::add_client`].
fn client_count(st: &OmieState) -> u64 {
    st.scale + st.world().extra_clients.len() as u64
}

fn client_at(st: &OmieState, idx: u64) -> Value {
    if idx < st.scale {
        return cliente(st, idx);
    }
    let mut c = st.world().extra_clients.get((idx - st.scale) as usize).cloned().unwrap_or(Value::Null);
    if c.get("info").is_none() {
        let today = local_naive(now_ts(), BR_OFFSET_H);
        c["info"] = json!({
            "dInc": ddmmyyyy(today.date()), "hInc": hhmmss(today), "uInc": "P000001",
            "dAlt": ddmmyyyy(today.date()), "hAlt": hhmmss(today), "uAlt": "P000001", "cImpAPI": "N",
        });
    }
    c
}

const RAZOES: &[&str] =
    &["COMERCIO", "INDUSTRIA", "DISTRIBUIDORA", "TRANSPORTES", "SERVICOS", "TECNOLOGIA", "ALIMENTOS", "CONSTRUTORA"];
const NOMES: &[&str] = &["PAULISTA", "MINEIRA", "DO SUL", "ATLANTICO", "CERRADO", "PANTANAL", "AMAZONIA", "LITORAL"];
const PESSOAS: &[&str] = &[
    "ANA SOUZA",
    "JOAO SILVA",
    "MARIA OLIVEIRA",
    "PEDRO SANTOS",
    "LUCAS PEREIRA",
    "JULIANA COSTA",
    "RAFAEL ALMEIDA",
    "CAMILA RODRIGUES",
];
const CIDADES: &[(&str, &str, &str)] = &[
    ("SAO PAULO (SP)", "SP", "01310-100"),
    ("RIO DE JANEIRO (RJ)", "RJ", "20040-002"),
    ("BELO HORIZONTE (MG)", "MG", "30130-010"),
    ("CURITIBA (PR)", "PR", "80010-000"),
    ("PORTO ALEGRE (RS)", "RS", "90010-150"),
    ("SALVADOR (BA)", "BA", "40020-000"),
    ("RECIFE (PE)", "PE", "50010-000"),
    ("CAMPINAS (SP)", "SP", "13010-001"),
];

/// One `clientes_cadastro` record, deterministic from (seed, idx).
pub(crate) fn cliente(st: &OmieState, idx: u64) -> Value {
    let mut rng = Rng::from_parts(&[st.seed, 0x0C11E, idx]);
    let pf = rng.chance(0.3) && !(book::active(st) && idx <= book::GROUP_BRANCH);
    let (razao, fantasia, doc) = if pf {
        let n = rng.pick(PESSOAS).to_string();
        (n.clone(), n, cpf(&mut rng))
    } else {
        let r = format!("{} {} LTDA", rng.pick(RAZOES), rng.pick(NOMES));
        let f = format!("{} {}", rng.pick(RAZOES), rng.pick(NOMES));
        let doc = if book::active(st) && idx == book::GROUP_BRANCH {
            // A branch (0002) of the company of client 7: same CNPJ root, billed in its place.
            let head = cliente(st, 7)["cnpj_cpf"].as_str().unwrap_or_default().to_string();
            let root: Vec<u32> = head.chars().filter_map(|c| c.to_digit(10)).take(8).collect();
            let _ = cnpj(&mut rng);
            crate::util::cnpj_of(&root, 2)
        } else {
            cnpj(&mut rng)
        };
        (r, f, doc)
    };
    let (cidade, uf, cep) = *rng.pick(CIDADES);
    // Seeded history: two years ending one day before start.
    let end = st.anchor - 86_400;
    let start = end - 730 * 86_400;
    let span = (end - start) as i128;
    let n = st.scale.max(1) as i128;
    let inc = start + ((idx as i128 * span) / n) as i64 + rng.below(3600) as i64;
    let alt = if rng.chance(0.5) { inc } else { inc + rng.below((end - inc).max(1) as u64) as i64 };
    let alt = st.world().touched.get(&(Kind::Client, idx)).copied().unwrap_or(alt).max(inc);
    let (di, da) = (local_naive(inc, BR_OFFSET_H), local_naive(alt, BR_OFFSET_H));
    let imp = rng.chance(0.4);
    json!({
        "codigo_cliente_omie": client_code(st, idx),
        "codigo_cliente_integracao": format!("CLI-{:06}", idx + 1),
        "razao_social": razao,
        "nome_fantasia": fantasia,
        "cnpj_cpf": doc,
        "pessoa_fisica": if pf { "S" } else { "N" },
        "email": format!("financeiro{}@cliente.example", idx + 1),
        "telefone1_ddd": format!("{}", 11 + rng.below(80)),
        "telefone1_numero": format!("9{:04}-{:04}", rng.below(10_000), rng.below(10_000)),
        "endereco": format!("RUA {}", rng.pick(NOMES)),
        "endereco_numero": format!("{}", 1 + rng.below(2000)),
        "bairro": "CENTRO",
        "complemento": "",
        "estado": uf,
        "cidade": cidade,
        "cep": cep,
        "codigo_pais": "1058",
        "inscricao_estadual": if pf { "ISENTO".to_string() } else { format!("{:012}", rng.below(1_000_000_000_000)) },
        "inscricao_municipal": "",
        "exterior": "N",
        "optante_simples_nacional": if rng.chance(0.5) { "S" } else { "N" },
        "contribuinte": if pf { "N" } else { "S" },
        "inativo": if rng.chance(0.05) { "S" } else { "N" },
        "importado_api": if imp { "S" } else { "N" },
        "bloquear_exclusao": "N",
        "tags": if rng.chance(0.4) { json!([{"tag": "Fornecedor"}]) } else { json!([{"tag": "Cliente"}]) },
        "dadosBancarios": {
            "codigo_banco": *rng.pick(&["001", "237", "341", "104", "033"]),
            "agencia": format!("{:04}", rng.below(10_000)),
            "conta_corrente": format!("{:05}-{}", rng.below(100_000), rng.below(10)),
            "doc_titular": doc,
            "nome_titular": razao,
            "transf_padrao": "N",
        },
        "info": {
            "dInc": ddmmyyyy(di.date()),
            "hInc": hhmmss(di),
            "uInc": if imp { "WEBSERVICE" } else { "P000001" },
            "dAlt": ddmmyyyy(da.date()),
            "hAlt": hhmmss(da),
            "uAlt": if imp { "WEBSERVICE" } else { "P000001" },
            "cImpAPI": if imp { "S" } else { "N" },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st() -> OmieState {
        let (router, ctl) = build(
            9,
            25,
            &SimCredentials { omie_app_key: "k".into(), omie_app_secret: "s".into(), ..SimCredentials::default() },
            ServerControl::new(crate::Flavor::Omie, crate::Faults::default(), 0, 9),
        );
        drop(router);
        Arc::try_unwrap(ctl.st).unwrap_or_else(|_| panic!("one owner"))
    }

    #[test]
    fn client_codes_round_trip() {
        let s = st();
        for i in 0..25 {
            assert_eq!(client_idx(&s, client_code(&s, i)), Some(i));
        }
        assert_eq!(client_idx(&s, client_code(&s, 3) + 1), None);
    }

    #[test]
    fn unknown_tag_is_rejected() {
        let s = st();
        let mut p = Map::new();
        p.insert("nRegPorPagina".into(), json!(10));
        let f = listar_clientes(&s, &p, false).unwrap_err();
        assert_eq!(f.code, "SOAP-ENV:Client-5001");
        assert!(f.message.contains("[NREGPORPAGINA]"));
    }
}
