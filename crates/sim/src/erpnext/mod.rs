//! ERPNext / Frappe v15 simulator: one independent site per server.
//!
//! Follows `shared/reference/erpnext.md` and its samples: token/Basic auth exactly as
//! `frappe/auth.py` decides it (section 1); Frappe's v1 JSON error shape with a
//! double-encoded `_server_messages` (section 3); `/api/resource` lists (fields, filters,
//! order_by, paging, child-table fields) and reads with null fields left out (section 2);
//! inserts with `docstatus: 1` (insert and submit in one transaction), submits of drafts
//! (`PUT {"docstatus": 1}`, `run_method`, `frappe.client.submit` with the full document),
//! cancels (`frappe.client.cancel`, `PUT {"docstatus": 2}`) with their rules; the
//! `make_purchase_receipt` mapper (section 5); link, mandatory and ERPNext validations;
//! serial numbers sent as `serial_no` text (section 4); unique custom fields and their
//! creation (section 7); naming series. [`ErpnextControl`] injects faults per DocType,
//! among them "commit, then answer after the client's timeout".
//!
//! Where the reference could not confirm a behaviour, a `// reference:` comment next to
//! the code says which reading was chosen.

// Handlers return Frappe's full error (status, class, messages, headers) by value; the simulator
// favours that plain shape over boxing it.
#![allow(clippy::result_large_err)]

mod control;
mod query;
mod ratelimit;
mod seed;
mod txn;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};

pub use control::{ErpnextControl, Fault, Op};
use query::{get_count, get_doc, get_list, get_value};
pub use ratelimit::{RateLimit, RateStats};

use crate::server::{html_response, json_response, ServerControl};
use crate::util::hash;
use crate::SimCredentials;

/// Which of the two independent sites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    A,
    B,
}

impl Site {
    /// The zone the site's System Settings name. The two demo companies keep different zones,
    /// both west of UTC as in Latin America: an evening there is already the next day in UTC.
    pub fn default_zone(self) -> chrono_tz::Tz {
        match self {
            Site::A => chrono_tz::America::Guayaquil,
            Site::B => chrono_tz::America::Sao_Paulo,
        }
    }

    /// The user the API key belongs to (what `get_logged_user` returns).
    pub fn user(self) -> &'static str {
        match self {
            Site::A => "integration@company-a.example",
            Site::B => "integration@company-b.example",
        }
    }

    pub fn company(self) -> &'static str {
        match self {
            Site::A => "Company A",
            Site::B => "Company B",
        }
    }
}

// ---------------------------------------------------------------------------------
// Errors (erpnext.md section 3): `exc_type` is the exception class name; `exception`
// is the last traceback line and `exc` a JSON-encoded list of traceback strings (both
// only with allow_error_traceback, the default, and never for 404);
// `_server_messages` is a JSON string of a list of JSON strings.
// ---------------------------------------------------------------------------------

pub(crate) struct FrappeError {
    status: u16,
    exc_type: Cow<'static, str>,
    /// Dotted module of the exception class (`frappe.exceptions`).
    module: &'static str,
    /// Text after `Class:` in the last traceback line, if any.
    detail: Option<String>,
    /// Messages raised with `frappe.throw` (title, message).
    messages: Vec<(String, String)>,
    /// Plain `msgprint`s (no indicator, no `raise_exception`): MandatoryError lists one
    /// per missing field, UniqueValidationError one "<Label> must be unique" (samples 24, 28).
    plain: Vec<String>,
    error_message: Option<String>,
    /// `frappe.response["message"]` set before the exception (a failed login does this).
    message: Option<String>,
    retry_after: Option<u64>,
}

impl FrappeError {
    fn new(status: u16, exc_type: &'static str) -> Self {
        FrappeError {
            status,
            exc_type: Cow::Borrowed(exc_type),
            module: "frappe.exceptions",
            detail: None,
            messages: Vec::new(),
            plain: Vec::new(),
            error_message: None,
            message: None,
            retry_after: None,
        }
    }

    /// A 417 `frappe.throw(msg)` of class `exc_type`.
    fn throw(exc_type: &'static str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        FrappeError::new(417, exc_type).detail(strip_tags(&msg)).thrown("Message", msg)
    }

    /// The same, for an ERPNext exception class (module shown in the traceback line).
    fn throw_erpnext(exc_type: &'static str, module: &'static str, title: &str, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        FrappeError { module, ..FrappeError::new(417, exc_type).detail(msg.clone()).thrown(title, msg) }
    }

    fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    fn thrown(mut self, title: &str, msg: impl Into<String>) -> Self {
        self.messages.push((title.to_string(), msg.into()));
        self
    }

    fn body(&self) -> Value {
        let mut o = Map::new();
        let last_line = match &self.detail {
            Some(d) => format!("{}.{}: {d}", self.module, self.exc_type),
            None => format!("{}.{}", self.module, self.exc_type),
        };
        if self.status != 404 {
            o.insert("exception".into(), json!(last_line));
        }
        o.insert("exc_type".into(), json!(self.exc_type));
        if self.status != 404 {
            let tb = format!(
                "Traceback (most recent call last):\n  File \"apps/frappe/frappe/app.py\", line 114, in application\n    response = frappe.api.handle(request)\n  ...\n{last_line}\n"
            );
            o.insert("exc".into(), json!(json!([tb]).to_string()));
        }
        let mut inner: Vec<String> =
            self.plain.iter().map(|m| json!({"message": m, "title": "Message"}).to_string()).collect();
        inner.extend(self.messages.iter().map(|(title, msg)| {
            json!({
                "message": msg,
                "title": title,
                "indicator": "red",
                "raise_exception": 1,
                "__frappe_exc_id": format!("{:010x}", hash(&[msg.len() as u64, self.status as u64]) & 0xff_ffff_ffff),
            })
            .to_string()
        }));
        if !inner.is_empty() {
            o.insert("_server_messages".into(), json!(json!(inner).to_string()));
        }
        if let Some(m) = &self.error_message {
            o.insert("_error_message".into(), json!(m));
        }
        if let Some(m) = &self.message {
            o.insert("message".into(), json!(m));
        }
        Value::Object(o)
    }

    /// JSON for `/api` unless the client asked for text (then Frappe's HTML page).
    fn render(self, html: bool) -> Response {
        let mut r = if html {
            let msg = self
                .messages
                .first()
                .map(|(_, m)| m.clone())
                .or_else(|| self.plain.first().cloned())
                .unwrap_or_else(|| self.exc_type.to_string());
            html_response(
                self.status,
                &format!("<!DOCTYPE html><html><head><title>Error</title></head><body><div class=\"page-content\"><h2>Error</h2><p>{msg}</p></div></body></html>"),
            )
        } else {
            json_response(self.status, &self.body())
        };
        if let Some(s) = self.retry_after {
            let h = r.headers_mut();
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
            h.insert("X-RateLimit-Limit", HeaderValue::from_static("600000000"));
            h.insert("X-RateLimit-Remaining", HeaderValue::from_static("0"));
            h.insert("X-RateLimit-Reset", HeaderValue::from(s));
        }
        r
    }
}

/// Removes HTML tags (the `exception` line of real tracebacks has them too; this keeps
/// the `detail` readable).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' if inside => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Body for an injected failure with the given HTTP status.
pub(crate) fn error_for_status(status: u16) -> Response {
    error_of_status(status).render(false)
}

fn error_of_status(status: u16) -> FrappeError {
    match status {
        // reference: lock waits/deadlocks surface as 500 and are retryable.
        500 => FrappeError { module: "frappe.exceptions", ..FrappeError::new(500, "QueryDeadlockError") }
            .detail("(1213, 'Deadlock found when trying to get lock; try restarting transaction')"),
        429 => FrappeError { retry_after: Some(1), ..FrappeError::new(429, "TooManyRequestsError") },
        401 => FrappeError::new(401, "AuthenticationError"),
        403 => FrappeError::new(403, "PermissionError"),
        404 => FrappeError::new(404, "DoesNotExistError").thrown("Message", "Not found"),
        409 => FrappeError::new(409, "DuplicateEntryError"),
        417 => FrappeError::throw("ValidationError", "Simulated validation error"),
        503 => FrappeError::new(503, "SessionStopped"),
        s => FrappeError { module: "builtins", ..FrappeError::new(s, "Exception") },
    }
}

// ---------------------------------------------------------------------------------
// Site state.
// ---------------------------------------------------------------------------------

type Doc = Map<String, Value>;

pub(crate) struct SiteState {
    site: Site,
    api_key: String,
    api_secret: String,
    /// The API user's password (`cmd=login`).
    password: String,
    /// Session ids (`sid` cookies) handed out by a login.
    sessions: Mutex<BTreeSet<String>>,
    docs: RwLock<BTreeMap<String, Vec<Doc>>>,
    /// Naming-series counters (`tabSeries`), advanced only when an insert commits.
    series: Mutex<BTreeMap<String, u64>>,
    /// Last timestamp handed out, so `modified` strictly increases.
    clock: Mutex<chrono::NaiveDateTime>,
    /// System Settings → Time Zone (`None`: not set, as on a site nobody finished setting up).
    zone: Mutex<Option<chrono_tz::Tz>>,
    /// How far this site's own clock is from the machine's (set through the control API: the
    /// site's clock, never the client's).
    clock_offset: Mutex<chrono::Duration>,
    faults: Mutex<Vec<control::Armed>>,
    /// Whether the API user has the System Manager role (needed to create Custom Fields).
    system_manager: AtomicBool,
    hashes: AtomicU64,
    /// The site's `rate_limit` (off by default, as on a site without it in `site_config.json`).
    rate: Mutex<ratelimit::Limiter>,
}

impl SiteState {
    fn new(site: Site, scale: u64, creds: &SimCredentials) -> Self {
        SiteState {
            site,
            api_key: creds.erpnext_api_key.clone(),
            api_secret: creds.erpnext_api_secret.clone(),
            password: creds.erpnext_password.clone(),
            sessions: Mutex::new(BTreeSet::new()),
            docs: RwLock::new(seed::seed_docs(site, scale)),
            series: Mutex::new(BTreeMap::new()),
            clock: Mutex::new(chrono::NaiveDateTime::MIN),
            zone: Mutex::new(Some(site.default_zone())),
            clock_offset: Mutex::new(chrono::Duration::zero()),
            faults: Mutex::new(Vec::new()),
            system_manager: AtomicBool::new(true),
            hashes: AtomicU64::new(0),
            rate: Mutex::new(ratelimit::Limiter::new()),
        }
    }

    /// Columns of a DocType: the standard ones, its declared fields, its custom fields,
    /// and any other key its stored documents carry.
    fn columns(&self, docs: &BTreeMap<String, Vec<Doc>>, doctype: &str) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut cols: Vec<String> = seed::STD_COLUMNS.iter().map(|s| s.to_string()).collect();
        if doctype.ends_with(" Item") {
            cols.extend(seed::CHILD_STD.iter().map(|s| s.to_string()));
        }
        cols.extend(seed::declared_fields(doctype).iter().filter(|f| **f != "items").map(|s| s.to_string()));
        cols.extend(txn::custom_fields(docs, doctype).into_iter().map(|(f, _)| f));
        cols.retain(|c| seen.insert(c.clone()));
        for d in docs.get(doctype).map(Vec::as_slice).unwrap_or(&[]) {
            for (k, v) in d {
                if k != "doctype" && k != "items" && !v.is_array() && seen.insert(k.clone()) {
                    cols.push(k.clone());
                }
            }
        }
        cols
    }

    /// The site's own clock.
    pub(crate) fn utc_now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.clock_offset.lock().expect("clock offset")
    }

    /// The site's wall clock in its system time zone (`frappe.utils.now_datetime`); UTC when the
    /// site has no zone set.
    pub(crate) fn local_now(&self) -> chrono::NaiveDateTime {
        let tz = self.zone.lock().expect("zone").unwrap_or(chrono_tz::UTC);
        self.utc_now().with_timezone(&tz).naive_local()
    }

    /// Now in the site's system time zone, as Frappe prints datetimes:
    /// `YYYY-MM-DD HH:MM:SS.ffffff`, strictly increasing.
    fn now(&self) -> String {
        let mut last = self.clock.lock().expect("clock");
        let mut t = self.local_now();
        if t <= *last {
            t = *last + chrono::Duration::microseconds(1);
        }
        *last = t;
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }

    fn today(&self) -> chrono::NaiveDate {
        self.local_now().date()
    }

    /// A 10-character random-looking name, like `frappe.generate_hash(length=10)`.
    fn new_hash(&self) -> String {
        let n = self.hashes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut h = hash(&[n, self.site as u64, 0x5eed]);
        let mut s = String::new();
        for _ in 0..10 {
            s.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(h % 36) as usize] as char);
            h /= 36;
        }
        s
    }
}

/// One site. `scale` grows its suppliers and items ([`seed::scaled_masters`]); scale 1 is the
/// hand-written seed.
pub(crate) fn build(site: Site, scale: u64, creds: &SimCredentials, ctl: ServerControl) -> (Router, ErpnextControl) {
    let st = Arc::new(SiteState::new(site, scale, creds));
    let control = ErpnextControl { st: st.clone() };
    let api = Router::new()
        .route("/api/{*rest}", any(handle))
        .route("/", any(handle_root))
        .with_state(st)
        .merge(control::routes(control.clone()));
    (crate::server::finish_router(api, ctl), control)
}

// ---------------------------------------------------------------------------------
// Auth (erpnext.md section 1, frappe/auth.py::validate_auth).
// ---------------------------------------------------------------------------------

enum Who {
    User,
    Guest,
}

fn authenticate(st: &SiteState, headers: &HeaderMap) -> Result<Who, FrappeError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        // reference: "Do not mix a password-login cookie jar with token auth" (section 1): a
        // request without the header runs as the user of its `sid` cookie, if a login made it.
        let sessions = st.sessions.lock().expect("sessions");
        let logged_in = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix("sid="))
            .any(|sid| sessions.contains(sid));
        return Ok(if logged_in { Who::User } else { Who::Guest });
    };
    let Ok(raw) = raw.to_str() else {
        return Ok(Who::Guest);
    };
    // Split on a single space; only an exactly 2-part header triggers key checks.
    let parts: Vec<&str> = raw.split(' ').collect();
    if parts.len() != 2 {
        return Ok(Who::Guest);
    }
    let auth_fail = || FrappeError::new(401, "AuthenticationError");
    let pair = match parts[0].to_ascii_lowercase().as_str() {
        "token" => parts[1].to_string(),
        "basic" => {
            match base64::engine::general_purpose::STANDARD
                .decode(parts[1])
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            {
                Some(s) => s,
                // An undecodable Basic token: InvalidAuthorizationToken (400).
                None => return Err(FrappeError::new(400, "InvalidAuthorizationToken")),
            }
        }
        // No OAuth bearer tokens exist on the sim; any other 2-part header leaves the
        // request as Guest, which validate_auth turns into AuthenticationError.
        _ => return Err(auth_fail()),
    };
    let kv: Vec<&str> = pair.split(':').collect();
    if kv.len() == 2 && kv[0] == st.api_key && kv[1] == st.api_secret {
        Ok(Who::User)
    } else {
        Err(auth_fail())
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.starts_with("text") && !accept.contains("application/json")
}

// ---------------------------------------------------------------------------------
// Request handling.
// ---------------------------------------------------------------------------------

/// What a handled request asks of the response besides its body.
#[derive(Default)]
pub(crate) struct Reply {
    /// Hold the (already committed) answer this long: the "timeout after commit" fault.
    late: Option<Duration>,
    status: Option<u16>,
    /// `Set-Cookie` values (a login's session).
    cookies: Vec<String>,
}

async fn handle(
    State(st): State<Arc<SiteState>>,
    Path(rest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let html = wants_html(&headers);
    // Frappe's rate limiter runs before the request is handled (a `before_request` hook).
    let refused = st.rate.lock().expect("rate").admit();
    if let Some(seconds) = refused {
        return FrappeError { retry_after: Some(seconds), ..FrappeError::new(429, "TooManyRequestsError") }
            .render(html);
    }
    let mut reply = Reply::default();
    let result = route(&st, &rest, &method, &uri, &headers, &body, &mut reply);
    answer(&st, result, reply, html).await
}

/// The site root. Frappe v15's `app.py::application` hands any request whose form carries
/// `cmd` to `frappe.handler.handle`, the handler of `/api/method/<cmd>`, and answers in JSON
/// (`build_response("json")`); `FrappeClient` posts there (`{"cmd": "frappe.client.submit", "doc":
/// ...}`, erpnext.md section 2.2), and `cmd=login` logs in.
async fn handle_root(
    State(st): State<Arc<SiteState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // reference (section 1): outside /api/, errors are JSON only when Accept contains
    // application/json; otherwise Frappe's HTML page.
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let html = !accept.contains("application/json");
    let refused = st.rate.lock().expect("rate").admit();
    if let Some(seconds) = refused {
        return FrappeError { retry_after: Some(seconds), ..FrappeError::new(429, "TooManyRequestsError") }
            .render(html);
    }
    let mut reply = Reply::default();
    let result = (|| {
        let args = request_args(&uri, &headers, &body)?;
        let cmd = args.get("cmd").and_then(Value::as_str).unwrap_or("").trim().to_string();
        if cmd.is_empty() {
            // reference: without `cmd` the root serves the website, which is not simulated.
            return Err(FrappeError::new(404, "PageDoesNotExistError").thrown("Not Found", "Page not found"));
        }
        if cmd == "login" {
            return login(&st, &args, &mut reply);
        }
        let who = authenticate(&st, &headers)?;
        call_method(&st, &cmd, &method, &who, &args, &mut reply)
    })();
    answer(&st, result, reply, html).await
}

/// The answer to a handled request: held when a fault says so, with the site's `Date` and the
/// cookies the request set.
async fn answer(st: &SiteState, result: Result<Value, FrappeError>, reply: Reply, html: bool) -> Response {
    if let Some(d) = reply.late {
        tokio::time::sleep(d).await;
    }
    let mut resp = match result {
        Ok(v) => json_response(reply.status.unwrap_or(200), &v),
        Err(e) => e.render(html),
    };
    for c in &reply.cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    // Every HTTP answer carries the server's clock (RFC 9110 `Date`): this site's, not the machine's.
    let date = st.utc_now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(v) = axum::http::HeaderValue::from_str(&date) {
        resp.headers_mut().insert(axum::http::header::DATE, v);
    }
    resp
}

fn route(
    st: &SiteState,
    rest: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    reply: &mut Reply,
) -> Result<Value, FrappeError> {
    // `/api/...` and `/api/v1/...` are the same (erpnext.md section 2).
    let rest = rest.strip_prefix("v1/").unwrap_or(rest);
    if rest.trim_end_matches('/') == "method/login" {
        return login(st, &request_args(uri, headers, body)?, reply);
    }
    let who = authenticate(st, headers)?;
    let mut args = request_args(uri, headers, body)?;

    if let Some(cmd) = rest.strip_prefix("method/") {
        return call_method(st, cmd.trim_end_matches('/'), method, &who, &args, reply);
    }
    if let Some(res) = rest.strip_prefix("resource/") {
        let mut it = res.trim_end_matches('/').splitn(2, '/');
        let doctype = it.next().unwrap_or("").to_string();
        let name = it.next().map(str::to_string);
        if matches!(who, Who::Guest) {
            let action = if *method == Method::GET { "read" } else { "write" };
            return Err(no_permission(&doctype, action));
        }
        // `create_doc`/`update_doc` also accept the document as a form field `data=<json>`.
        if let Some(Value::String(data)) = args.get("data").cloned() {
            if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&data) {
                args.remove("data");
                args.extend(o);
            }
        }
        return match (method.clone(), name) {
            (Method::GET, None) => Ok(json!({ "data": get_list(st, &doctype, &args)? })),
            (Method::GET, Some(n)) => Ok(json!({ "data": get_doc(st, &doctype, &n)? })),
            (Method::POST, None) => {
                args.remove("doctype");
                let fault = st.take_fault(Op::Insert, &doctype);
                control::before(&fault)?;
                let doc = txn::insert(st, &doctype, args)?;
                control::after(&fault, reply);
                Ok(json!({ "data": doc }))
            }
            (Method::POST, Some(n)) => {
                let m = args.get("run_method").and_then(Value::as_str).unwrap_or("").to_string();
                let op = if m == "cancel" { Op::Cancel } else { Op::Submit };
                let fault = st.take_fault(op, &doctype);
                control::before(&fault)?;
                let out = txn::run_method(st, &doctype, &n, &m)?;
                control::after(&fault, reply);
                Ok(json!({ "data": out }))
            }
            (Method::PUT, Some(n)) => {
                let op = match args.get("docstatus").and_then(Value::as_i64) {
                    Some(2) => Op::Cancel,
                    Some(1) => Op::Submit,
                    _ => Op::Update,
                };
                let fault = st.take_fault(op, &doctype);
                control::before(&fault)?;
                let doc = txn::update(st, &doctype, &n, args)?;
                control::after(&fault, reply);
                Ok(json!({ "data": doc }))
            }
            (Method::DELETE, Some(n)) => {
                txn::delete(st, &doctype, &n)?;
                reply.status = Some(202);
                Ok(json!({ "data": "ok" }))
            }
            _ => Err(FrappeError::new(404, "DoesNotExistError").thrown("Message", "Not Found")),
        };
    }
    // reference: unknown /api routes map to DoesNotExistError (404). `/api/v2` is not
    // simulated.
    Err(FrappeError::new(404, "DoesNotExistError").thrown("Message", "Not Found"))
}

/// reference: Guest on a DocType → PermissionError (403). The message follows
/// `raise_no_permission_to`'s "Insufficient Permission for <DocType>" [inferred].
fn no_permission(doctype: &str, action: &str) -> FrappeError {
    let msg = if action == "read" {
        format!("Insufficient Permission for <strong>{doctype}</strong>")
    } else {
        format!("Insufficient Permission for {doctype} (<strong>{action}</strong>)")
    };
    FrappeError { error_message: Some(msg), ..FrappeError::new(403, "PermissionError").detail(doctype.to_string()) }
}

/// Query-string arguments, plus a JSON body (only with `Content-Type:
/// application/json`) or a form body.
fn request_args(uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, FrappeError> {
    let mut args = Map::new();
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        args.insert(k.into_owned(), json!(v.into_owned()));
    }
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if body.is_empty() {
        return Ok(args);
    }
    if ctype.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(o)) => args.extend(o),
            Ok(_) => {}
            Err(e) => return Err(json_decode_error(&e.to_string())),
        }
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            args.insert(k.into_owned(), json!(v.into_owned()));
        }
    }
    Ok(args)
}

fn json_decode_error(msg: &str) -> FrappeError {
    FrappeError { module: "json.decoder", ..FrappeError::new(500, "JSONDecodeError").detail(msg.to_string()) }
}

/// `cmd=login` (or `/api/method/login`) with `usr` and `pwd`: `LoginManager` starts a session and
/// answers `{"message": "Logged In", "home_page", "full_name"}` with a `sid` cookie.
// reference: erpnext.md only mentions a "password-login cookie jar" (section 1); the answer,
// the cookies and the failure (`frappe.response["message"]` set, then AuthenticationError 401)
// follow Frappe v15's `auth.py::LoginManager` [inferred; texts assumed].
fn login(st: &SiteState, args: &Map<String, Value>, reply: &mut Reply) -> Result<Value, FrappeError> {
    let usr = args.get("usr").and_then(Value::as_str).unwrap_or("").trim().to_string();
    let pwd = args.get("pwd").and_then(Value::as_str).unwrap_or("").to_string();
    let fail = |m: &str| FrappeError { message: Some(m.to_string()), ..FrappeError::new(401, "AuthenticationError") };
    if usr.is_empty() || pwd.is_empty() {
        return Err(fail("Incomplete login details"));
    }
    if !usr.eq_ignore_ascii_case(st.site.user()) || pwd != st.password {
        return Err(fail("Invalid login credentials"));
    }
    let sid = format!("{}{}{}", st.new_hash(), st.new_hash(), st.new_hash());
    st.sessions.lock().expect("sessions").insert(sid.clone());
    let user = st.site.user();
    reply.cookies = vec![
        format!("sid={sid}; Max-Age=259200; Path=/; HttpOnly; SameSite=Lax"),
        "system_user=yes; Path=/; SameSite=Lax".to_string(),
        "full_name=Integration%20User; Path=/; SameSite=Lax".to_string(),
        format!("user_id={}; Path=/; SameSite=Lax", user.replace('@', "%40")),
        "user_image=; Path=/; SameSite=Lax".to_string(),
    ];
    Ok(json!({"message": "Logged In", "home_page": "/app", "full_name": "Integration User"}))
}

const MAKE_PR: &str = "erpnext.buying.doctype.purchase_order.purchase_order.make_purchase_receipt";

fn call_method(
    st: &SiteState,
    cmd: &str,
    method: &Method,
    who: &Who,
    args: &Map<String, Value>,
    reply: &mut Reply,
) -> Result<Value, FrappeError> {
    let known = [
        "frappe.auth.get_logged_user",
        "frappe.utils.change_log.get_versions",
        "frappe.client.get_list",
        "frappe.client.get_count",
        "frappe.client.get_value",
        "frappe.client.cancel",
        "frappe.client.submit",
        "frappe.ping",
        "frappe.client.get_time_zone",
        MAKE_PR,
    ];
    if !known.contains(&cmd) {
        // reference: handler.execute_cmd → get_attr fails → frappe.throw(...) →
        // ValidationError 417 [inferred from the v15 handler].
        let module = cmd.rsplit_once('.').map(|(m, _)| m).unwrap_or(cmd);
        return Err(FrappeError::new(417, "ValidationError")
            .detail(format!("Failed to get method for command {cmd} with No module named '{module}'"))
            .thrown("Message", format!("Failed to get method for command {cmd} with No module named '{module}'")));
    }
    // `frappe.ping` and `frappe.client.get_time_zone` (`allow_guest=True` in frappe/client.py)
    // are the guest methods here.
    if matches!(who, Who::Guest) && cmd != "frappe.ping" && cmd != "frappe.client.get_time_zone" {
        // reference: a non-guest whitelisted method called as Guest → PermissionError
        // 403 "Method Not Allowed" (handler.is_whitelisted) [inferred].
        let msg = format!(
            "<details><summary>You are not permitted to access this resource.</summary>Function <strong>{cmd}</strong> is not whitelisted.</details>"
        );
        return Err(FrappeError::new(403, "PermissionError").detail(msg.clone()).thrown("Method Not Allowed", msg));
    }
    // `frappe.client.submit/cancel` are whitelisted for POST/PUT only (handler.is_valid_http_method).
    if matches!(cmd, "frappe.client.cancel" | "frappe.client.submit") && !matches!(*method, Method::POST | Method::PUT)
    {
        return Err(FrappeError::new(403, "PermissionError").thrown("Message", "Not permitted"));
    }
    let str_arg = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let message = match cmd {
        "frappe.ping" => json!("pong"),
        // frappe/client.py::get_time_zone: `{"time_zone": defaults.time_zone}` (null when unset).
        "frappe.client.get_time_zone" => json!({"time_zone": st.zone.lock().expect("zone").map(|z| z.name())}),
        "frappe.auth.get_logged_user" => json!(st.site.user()),
        "frappe.utils.change_log.get_versions" => json!({
            "frappe": {"title": "Frappe Framework", "description": "Low code web framework", "branch": "version-15", "version": "15.44.2"},
            "erpnext": {"title": "ERPNext", "description": "ERP made simple", "branch": "version-15", "version": "15.109.0"},
        }),
        "frappe.client.get_list" => get_list(st, &str_arg("doctype"), args)?,
        "frappe.client.get_count" => get_count(st, &str_arg("doctype"), args)?,
        "frappe.client.get_value" => get_value(st, &str_arg("doctype"), args)?,
        "frappe.client.cancel" => {
            // Signature cancel(doctype, name).
            let dt = str_arg("doctype");
            let fault = st.take_fault(Op::Cancel, &dt);
            control::before(&fault)?;
            txn::cancel(st, &dt, &str_arg("name"))?;
            control::after(&fault, reply);
            Value::Null
        }
        "frappe.client.submit" => {
            // Signature submit(doc): `get_newargs` drops every other key, so a body without
            // `doc` calls submit() with no argument → TypeError, HTTP 500 (sample 11).
            let doc = match query::json_arg(args.get("doc"))? {
                Some(Value::Object(d)) => d,
                _ => {
                    return Err(FrappeError { module: "builtins", ..FrappeError::new(500, "TypeError") }
                        .detail("submit() missing 1 required positional argument: 'doc'"))
                }
            };
            let dt = doc.get("doctype").and_then(Value::as_str).unwrap_or("").to_string();
            let fault = st.take_fault(Op::Submit, &dt);
            control::before(&fault)?;
            let out = txn::submit_full(st, doc)?;
            control::after(&fault, reply);
            out
        }
        MAKE_PR => {
            let fault = st.take_fault(Op::Mapper, "Purchase Order");
            control::before(&fault)?;
            let out = txn::make_purchase_receipt(st, &str_arg("source_name"))?;
            control::after(&fault, reply);
            out
        }
        _ => Value::Null,
    };
    Ok(json!({ "message": message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_double_encoded() {
        let b = FrappeError::new(417, "ValidationError").thrown("Message", "Please enter Reqd by Date").body();
        let outer: Vec<String> = serde_json::from_str(b["_server_messages"].as_str().unwrap()).unwrap();
        let inner: Value = serde_json::from_str(&outer[0]).unwrap();
        assert_eq!(inner["message"], "Please enter Reqd by Date");
        let exc: Vec<String> = serde_json::from_str(b["exc"].as_str().unwrap()).unwrap();
        assert!(exc[0].contains("ValidationError"));
    }

    #[test]
    fn not_found_has_no_traceback() {
        let b = FrappeError::new(404, "DoesNotExistError").body();
        assert!(b.get("exc").is_none() && b.get("exception").is_none());
    }

    #[test]
    fn tags_are_stripped_from_details() {
        assert_eq!(strip_tags("Serial No <strong>SN-1</strong> x"), "Serial No SN-1 x");
    }
}
