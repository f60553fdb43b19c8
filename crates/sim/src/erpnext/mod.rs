//! ERPNext / Frappe v15 simulator: one independent site per server.
//!
//! This round: token/Basic auth exactly as `frappe/auth.py` decides it (erpnext.md
//! section 1), Frappe's v1 JSON error shape (section 3), `get_logged_user`,
//! `get_versions`, `frappe.client.get_list/get_count`, and `/api/resource/<DocType>`
//! lists and reads for Company, Supplier, Customer, Item and Warehouse. Documents
//! live in a per-site store so later work can add inserts and submits.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};

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

struct FrappeError {
    status: u16,
    exc_type: &'static str,
    /// Dotted module of the exception class (`frappe.exceptions`).
    module: &'static str,
    /// Text after `Class:` in the last traceback line, if any.
    detail: Option<String>,
    /// Messages raised with `frappe.throw` (title, message).
    messages: Vec<(String, String)>,
    error_message: Option<String>,
}

impl FrappeError {
    fn new(status: u16, exc_type: &'static str) -> Self {
        FrappeError {
            status,
            exc_type,
            module: "frappe.exceptions",
            detail: None,
            messages: Vec::new(),
            error_message: None,
        }
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
        if !self.messages.is_empty() {
            let inner: Vec<String> = self
                .messages
                .iter()
                .map(|(title, msg)| {
                    json!({
                        "message": msg,
                        "title": title,
                        "indicator": "red",
                        "raise_exception": 1,
                        "__frappe_exc_id": format!("{:010x}", hash(&[msg.len() as u64, self.status as u64]) & 0xff_ffff_ffff),
                    })
                    .to_string()
                })
                .collect();
            o.insert("_server_messages".into(), json!(json!(inner).to_string()));
        }
        if let Some(m) = &self.error_message {
            o.insert("_error_message".into(), json!(m));
        }
        Value::Object(o)
    }

    /// JSON for `/api` unless the client asked for text (then Frappe's HTML page).
    fn render(self, html: bool) -> Response {
        if html {
            let msg = self.messages.first().map(|(_, m)| m.clone()).unwrap_or_else(|| self.exc_type.to_string());
            return html_response(
                self.status,
                &format!("<!DOCTYPE html><html><head><title>Error</title></head><body><div class=\"page-content\"><h2>Error</h2><p>{msg}</p></div></body></html>"),
            );
        }
        json_response(self.status, &self.body())
    }
}

/// Body for an injected failure with the given HTTP status.
pub(crate) fn error_for_status(status: u16) -> Response {
    let e = match status {
        // reference: lock waits/deadlocks surface as 500 and are retryable.
        500 => FrappeError::new(500, "QueryDeadlockError"),
        429 => FrappeError::new(429, "TooManyRequestsError"),
        401 => FrappeError::new(401, "AuthenticationError"),
        403 => FrappeError::new(403, "PermissionError"),
        404 => FrappeError::new(404, "DoesNotExistError").thrown("Message", "Not found"),
        409 => FrappeError::new(409, "DuplicateEntryError"),
        417 => FrappeError::new(417, "ValidationError").thrown("Message", "Simulated validation error"),
        503 => FrappeError::new(503, "SessionStopped"),
        s => FrappeError { module: "builtins", ..FrappeError::new(s, "Exception") },
    };
    let mut r = e.render(false);
    if status == 429 {
        // reference: sample 29 headers (values are guesses there too).
        let h = r.headers_mut();
        h.insert("X-RateLimit-Limit", HeaderValue::from_static("600000000"));
        h.insert("X-RateLimit-Remaining", HeaderValue::from_static("0"));
        h.insert("X-RateLimit-Reset", HeaderValue::from_static("1"));
    }
    r
}

// ---------------------------------------------------------------------------------
// Site state.
// ---------------------------------------------------------------------------------

type Doc = Map<String, Value>;

pub(crate) struct SiteState {
    site: Site,
    api_key: String,
    api_secret: String,
    docs: RwLock<BTreeMap<String, Vec<Doc>>>,
}

const STD_COLUMNS: &[&str] = &["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"];

impl SiteState {
    fn new(site: Site, creds: &SimCredentials) -> Self {
        SiteState {
            site,
            api_key: creds.erpnext_api_key.clone(),
            api_secret: creds.erpnext_api_secret.clone(),
            docs: RwLock::new(seed_docs(site)),
        }
    }

    fn columns(docs: &[Doc]) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut cols: Vec<String> = STD_COLUMNS.iter().map(|s| s.to_string()).collect();
        seen.extend(cols.iter().cloned());
        for d in docs {
            for k in d.keys() {
                if k != "doctype" && seen.insert(k.clone()) {
                    cols.push(k.clone());
                }
            }
        }
        cols
    }
}

fn std_doc(doctype: &str, name: &str, n: u64, fields: Value) -> Doc {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    d.insert("owner".into(), json!("Administrator"));
    d.insert("creation".into(), json!(format!("2024-11-{:02} 09:{:02}:12.{:06}", 4 + n % 20, n % 60, 104_500 + n)));
    d.insert("modified".into(), json!(format!("2025-01-{:02} 10:{:02}:41.{:06}", 6 + n % 20, n % 60, 337_200 + n)));
    d.insert("modified_by".into(), json!("Administrator"));
    d.insert("docstatus".into(), json!(0));
    d.insert("idx".into(), json!(0));
    if let Value::Object(f) = fields {
        d.extend(f);
    }
    d.insert("doctype".into(), json!(doctype));
    d
}

fn seed_docs(site: Site) -> BTreeMap<String, Vec<Doc>> {
    let abbr = match site {
        Site::A => "A",
        Site::B => "B",
    };
    let company = site.company();
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n
    };
    let mut m: BTreeMap<String, Vec<Doc>> = BTreeMap::new();

    m.insert(
        "Company".into(),
        vec![std_doc(
            "Company",
            company,
            next(),
            json!({"company_name": company, "abbr": abbr, "default_currency": "USD", "country": "Ecuador", "is_group": 0}),
        )],
    );

    let suppliers: Vec<(&str, &str)> = match site {
        Site::A => vec![
            ("PINES Supplier", "Raw Material"),
            ("Andes Components", "Hardware"),
            ("Pacific Freight Services", "Services"),
        ],
        // On site B, company A is an ordinary supplier (erpnext.md section 6).
        Site::B => vec![("Company A", "Distributor"), ("Quito Office Supplies", "Services")],
    };
    m.insert(
        "Supplier".into(),
        suppliers
            .into_iter()
            .map(|(s, g)| {
                std_doc(
                    "Supplier",
                    s,
                    next(),
                    json!({"supplier_name": s, "supplier_group": g, "supplier_type": "Company", "country": "Ecuador", "default_currency": "USD", "is_internal_supplier": 0, "disabled": 0, "naming_series": "SUP-.YYYY.-"}),
                )
            })
            .collect(),
    );

    let customers: Vec<&str> = match site {
        // On site A, company B is an ordinary customer.
        Site::A => vec!["Company B", "Guayaquil Retail"],
        Site::B => vec!["Cuenca Hardware Store"],
    };
    m.insert(
        "Customer".into(),
        customers
            .into_iter()
            .map(|c| {
                std_doc(
                    "Customer",
                    c,
                    next(),
                    json!({"customer_name": c, "customer_type": "Company", "customer_group": "Commercial", "territory": "Ecuador", "default_currency": "USD", "is_internal_customer": 0, "disabled": 0}),
                )
            })
            .collect(),
    );

    let items = [
        ("SKU-ROUTER-01", "Serialized Router", 1, Some("RTR-.#####"), 120.0),
        ("SKU-SWITCH-01", "Serialized Switch 24p", 1, Some("SWT-.#####"), 310.0),
        ("SKU-CABLE-01", "Patch Cable Cat6 2m", 0, None, 2.5),
    ];
    m.insert(
        "Item".into(),
        items
            .iter()
            .map(|(code, name, serial, series, rate)| {
                let mut f = json!({"item_code": code, "item_name": name, "item_group": "Products", "stock_uom": "Nos", "is_stock_item": 1, "has_serial_no": serial, "has_batch_no": 0, "disabled": 0, "valuation_rate": rate, "standard_rate": rate * 1.25, "description": name});
                if let Some(s) = series {
                    f["serial_no_series"] = json!(s);
                }
                std_doc("Item", code, next(), f)
            })
            .collect(),
    );

    let group = format!("All Warehouses - {abbr}");
    let mut whs = vec![std_doc(
        "Warehouse",
        &group,
        next(),
        json!({"warehouse_name": "All Warehouses", "is_group": 1, "company": company, "disabled": 0, "lft": 1, "rgt": 12}),
    )];
    for (i, (w, kind)) in
        [("Stores", None), ("Finished Goods", None), ("Work In Progress", None), ("Goods In Transit", Some("Transit"))]
            .iter()
            .enumerate()
    {
        let mut f = json!({"warehouse_name": w, "is_group": 0, "parent_warehouse": group, "company": company, "disabled": 0, "lft": 2 + 2 * i, "rgt": 3 + 2 * i});
        if let Some(k) = kind {
            f["warehouse_type"] = json!(k);
        }
        whs.push(std_doc("Warehouse", &format!("{w} - {abbr}"), next(), f));
    }
    m.insert("Warehouse".into(), whs);
    m
}

pub(crate) fn build(site: Site, creds: &SimCredentials, ctl: ServerControl) -> Router {
    let st = Arc::new(SiteState::new(site, creds));
    let api = Router::new().route("/api/{*rest}", any(handle)).with_state(st);
    crate::server::finish_router(api, ctl)
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
        return Ok(Who::Guest);
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

async fn handle(
    State(st): State<Arc<SiteState>>,
    Path(rest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let html = wants_html(&headers);
    match route(&st, &rest, &method, &uri, &headers, &body) {
        Ok(v) => json_response(200, &v),
        Err(e) => e.render(html),
    }
}

fn route(
    st: &SiteState,
    rest: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, FrappeError> {
    // `/api/...` and `/api/v1/...` are the same (erpnext.md section 2).
    let rest = rest.strip_prefix("v1/").unwrap_or(rest);
    let who = authenticate(st, headers)?;
    let args = request_args(uri, headers, body)?;

    if let Some(cmd) = rest.strip_prefix("method/") {
        return call_method(st, cmd.trim_end_matches('/'), &who, &args);
    }
    if let Some(res) = rest.strip_prefix("resource/") {
        let mut it = res.trim_end_matches('/').splitn(2, '/');
        let doctype = it.next().unwrap_or("");
        let name = it.next();
        if matches!(who, Who::Guest) {
            return Err(no_read_permission(doctype));
        }
        if *method != Method::GET {
            // Writes are not simulated yet.
            return Err(FrappeError::new(501, "NotImplementedError")
                .thrown("Not Implemented", "The simulator does not accept writes yet."));
        }
        return match name {
            None => Ok(json!({ "data": get_list(st, doctype, &args)? })),
            Some(n) => Ok(json!({ "data": get_doc(st, doctype, n)? })),
        };
    }
    // reference: unknown /api routes map to DoesNotExistError (404). `/api/v2` is not
    // simulated.
    Err(FrappeError::new(404, "DoesNotExistError").thrown("Message", "Not Found"))
}

/// reference: Guest listing a DocType → PermissionError (403). The message follows
/// db_query's "Insufficient Permission for <DocType>" [inferred].
fn no_read_permission(doctype: &str) -> FrappeError {
    FrappeError {
        error_message: Some(format!("Insufficient Permission for <strong>{doctype}</strong>")),
        ..FrappeError::new(403, "PermissionError").detail(doctype.to_string())
    }
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

fn call_method(st: &SiteState, cmd: &str, who: &Who, args: &Map<String, Value>) -> Result<Value, FrappeError> {
    let known = [
        "frappe.auth.get_logged_user",
        "frappe.utils.change_log.get_versions",
        "frappe.client.get_list",
        "frappe.client.get_count",
        "frappe.ping",
    ];
    if !known.contains(&cmd) {
        // reference: handler.execute_cmd → get_attr fails → frappe.throw(...) →
        // ValidationError 417 [inferred from the v15 handler].
        let module = cmd.rsplit_once('.').map(|(m, _)| m).unwrap_or(cmd);
        return Err(FrappeError::new(417, "ValidationError")
            .detail(format!("Failed to get method for command {cmd} with No module named '{module}'"))
            .thrown("Message", format!("Failed to get method for command {cmd} with No module named '{module}'")));
    }
    // `frappe.ping` is the one guest method here.
    if matches!(who, Who::Guest) && cmd != "frappe.ping" {
        // reference: a non-guest whitelisted method called as Guest → PermissionError
        // 403 "Method Not Allowed" (handler.is_whitelisted) [inferred].
        let msg = format!(
            "<details><summary>You are not permitted to access this resource.</summary>Function <strong>{cmd}</strong> is not whitelisted.</details>"
        );
        return Err(FrappeError::new(403, "PermissionError").detail(msg.clone()).thrown("Method Not Allowed", msg));
    }
    let message = match cmd {
        "frappe.ping" => json!("pong"),
        "frappe.auth.get_logged_user" => json!(st.site.user()),
        "frappe.utils.change_log.get_versions" => json!({
            "frappe": {"title": "Frappe Framework", "description": "Low code web framework", "branch": "version-15", "version": "15.44.2"},
            "erpnext": {"title": "ERPNext", "description": "ERP made simple", "branch": "version-15", "version": "15.109.0"},
        }),
        "frappe.client.get_list" => {
            let dt = args.get("doctype").and_then(Value::as_str).unwrap_or("");
            get_list(st, dt, args)?
        }
        "frappe.client.get_count" => {
            let dt = args.get("doctype").and_then(Value::as_str).unwrap_or("");
            let docs = st.docs.read().expect("docs");
            let list = docs.get(dt).ok_or_else(|| doctype_not_found(dt))?;
            let filters = parse_filters(args.get("filters"))?;
            let cols = SiteState::columns(list);
            check_filter_columns(&filters, &cols)?;
            json!(list.iter().filter(|d| filters.iter().all(|f| f.matches(d))).count())
        }
        _ => Value::Null,
    };
    Ok(json!({ "message": message }))
}

fn doctype_not_found(dt: &str) -> FrappeError {
    FrappeError::new(404, "DoesNotExistError").thrown("Message", format!("DocType {dt} not found"))
}

fn get_doc(st: &SiteState, doctype: &str, name: &str) -> Result<Value, FrappeError> {
    let docs = st.docs.read().expect("docs");
    let list = docs.get(doctype).ok_or_else(|| doctype_not_found(doctype))?;
    let d = list.iter().find(|d| d.get("name").and_then(Value::as_str) == Some(name)).ok_or_else(|| {
        FrappeError::new(404, "DoesNotExistError").thrown("Message", format!("{doctype} {name} not found"))
    })?;
    // v15 serialises documents with no_nulls.
    let clean: Map<String, Value> =
        d.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(Value::Object(clean))
}

/// A value that arrives either as JSON text (query string) or already parsed (JSON body).
fn json_arg(v: Option<&Value>) -> Result<Option<Value>, FrappeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|e| json_decode_error(&e.to_string())),
        Some(other) => Ok(Some(other.clone())),
    }
}

fn unknown_column(col: &str, clause: &str) -> FrappeError {
    // reference: a bad column reaches the database and comes back as a 500
    // (erpnext.md section 3, "anything else") [inferred: MariaDB error text].
    FrappeError {
        module: "pymysql.err",
        ..FrappeError::new(500, "OperationalError").detail(format!("(1054, \"Unknown column '{col}' in '{clause}'\")"))
    }
}

fn clean_col(s: &str) -> String {
    let s = s.trim();
    let s = s.rsplit('.').next().unwrap_or(s);
    s.trim_matches('`').trim().to_string()
}

fn int_arg(args: &Map<String, Value>, k: &str) -> Option<i64> {
    match args.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `frappe.client.get_list` semantics (erpnext.md 2.4).
fn get_list(st: &SiteState, doctype: &str, args: &Map<String, Value>) -> Result<Value, FrappeError> {
    let docs = st.docs.read().expect("docs");
    let list = docs.get(doctype).ok_or_else(|| doctype_not_found(doctype))?;
    let cols = SiteState::columns(list);

    // fields: a JSON array, default ["name"], "*" allowed, "x as y" aliases.
    let fields: Vec<(String, String)> = match json_arg(args.get("fields"))? {
        None => vec![("name".into(), "name".into())],
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for f in a {
                let s = f.as_str().unwrap_or("").to_string();
                if s.trim() == "*" {
                    out.extend(cols.iter().map(|c| (c.clone(), c.clone())));
                    continue;
                }
                let (src, alias) = match s.to_lowercase().find(" as ") {
                    Some(p) => (s[..p].to_string(), s[p + 4..].trim().to_string()),
                    None => (s.clone(), clean_col(&s)),
                };
                let src = clean_col(&src);
                if !cols.contains(&src) {
                    return Err(unknown_column(&src, "field list"));
                }
                out.push((src, alias));
            }
            out
        }
        Some(Value::String(s)) if s == "*" => cols.iter().map(|c| (c.clone(), c.clone())).collect(),
        Some(_) => return Err(FrappeError::new(417, "ValidationError").thrown("Message", "fields must be a list")),
    };

    let filters = parse_filters(args.get("filters"))?;
    let or_filters = parse_filters(args.get("or_filters"))?;
    check_filter_columns(&filters, &cols)?;
    check_filter_columns(&or_filters, &cols)?;

    let mut rows: Vec<&Doc> = list
        .iter()
        .filter(|d| filters.iter().all(|f| f.matches(d)))
        .filter(|d| or_filters.is_empty() || or_filters.iter().any(|f| f.matches(d)))
        .collect();

    // reference: Frappe 15.44.2 adds no ORDER BY when order_by is omitted; the sim
    // then keeps insertion order (newer Frappe defaults to `modified desc`).
    if let Some(ob) = args.get("order_by").and_then(Value::as_str) {
        let mut keys = Vec::new();
        for part in ob.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut w = part.split_whitespace();
            let col = clean_col(w.next().unwrap_or(""));
            let desc = w.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            if !cols.contains(&col) {
                return Err(unknown_column(&col, "order clause"));
            }
            keys.push((col, desc));
        }
        rows.sort_by(|a, b| {
            for (col, desc) in &keys {
                let o = cmp_values(a.get(col).unwrap_or(&Value::Null), b.get(col).unwrap_or(&Value::Null));
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    let start = int_arg(args, "limit_start").unwrap_or(0).max(0) as usize;
    // Default page length 20; 0 means no limit; `limit` is an alias.
    let len = int_arg(args, "limit_page_length").or_else(|| int_arg(args, "limit")).unwrap_or(20).max(0) as usize;
    let end = if len == 0 { rows.len() } else { (start + len).min(rows.len()) };
    let page = &rows[start.min(rows.len())..end.max(start.min(rows.len()))];

    let as_dict = !matches!(
        args.get("as_dict"),
        Some(Value::String(s)) if s == "0" || s.eq_ignore_ascii_case("false")
    ) && !matches!(args.get("as_dict"), Some(Value::Number(n)) if n.as_i64() == Some(0))
        && !matches!(args.get("as_dict"), Some(Value::Bool(false)));

    let out: Vec<Value> = page
        .iter()
        .map(|d| {
            if as_dict {
                let mut o = Map::new();
                for (src, alias) in &fields {
                    o.insert(alias.clone(), d.get(src).cloned().unwrap_or(Value::Null));
                }
                Value::Object(o)
            } else {
                Value::Array(fields.iter().map(|(src, _)| d.get(src).cloned().unwrap_or(Value::Null)).collect())
            }
        })
        .collect();
    Ok(Value::Array(out))
}

struct Filter {
    field: String,
    op: String,
    value: Value,
}

fn parse_filters(v: Option<&Value>) -> Result<Vec<Filter>, FrappeError> {
    let Some(v) = json_arg(v)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let bad = || FrappeError::new(417, "ValidationError").thrown("Message", "Invalid filter format");
    match v {
        Value::Array(items) => {
            for it in items {
                let Value::Array(t) = it else {
                    return Err(bad());
                };
                let (f, op, val) = match t.as_slice() {
                    [f, val] => (f, json!("="), val.clone()),
                    [f, op, val] => (f, op.clone(), val.clone()),
                    [_dt, f, op, val] => (f, op.clone(), val.clone()),
                    _ => return Err(bad()),
                };
                out.push(Filter {
                    field: clean_col(f.as_str().ok_or_else(bad)?),
                    op: op.as_str().unwrap_or("=").trim().to_lowercase(),
                    value: val,
                });
            }
        }
        Value::Object(o) => {
            for (f, val) in o {
                let (op, val) = match val {
                    Value::Array(a) if a.len() == 2 && a[0].is_string() => {
                        (a[0].as_str().unwrap_or("=").trim().to_lowercase(), a[1].clone())
                    }
                    other => ("=".to_string(), other),
                };
                out.push(Filter { field: clean_col(&f), op, value: val });
            }
        }
        _ => return Err(bad()),
    }
    const OPS: &[&str] = &["=", "!=", "<>", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between"];
    for f in &out {
        if !OPS.contains(&f.op.as_str()) {
            return Err(FrappeError::new(417, "ValidationError")
                .thrown("Message", format!("Operator must be one of {}", OPS.join(", "))));
        }
    }
    Ok(out)
}

fn check_filter_columns(filters: &[Filter], cols: &[String]) -> Result<(), FrappeError> {
    for f in filters {
        if !cols.contains(&f.field) {
            return Err(unknown_column(&f.field, "where clause"));
        }
    }
    Ok(())
}

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    if a.is_number() || b.is_number() {
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        }
    }
    as_text(a).to_lowercase().cmp(&as_text(b).to_lowercase())
}

/// SQL LIKE with `%` and `_`, case-insensitive (MariaDB's default collation).
fn like(text: &str, pat: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pat.to_lowercase().chars().collect();
    go(&t, &p)
}

fn list_values(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::String(s) => s.split(',').map(|x| json!(x.trim())).collect(),
        other => vec![other.clone()],
    }
}

impl Filter {
    fn matches(&self, d: &Doc) -> bool {
        let have = d.get(&self.field).unwrap_or(&Value::Null);
        match self.op.as_str() {
            "=" => cmp_values(have, &self.value) == Ordering::Equal,
            "!=" | "<>" => cmp_values(have, &self.value) != Ordering::Equal,
            ">" => cmp_values(have, &self.value) == Ordering::Greater,
            "<" => cmp_values(have, &self.value) == Ordering::Less,
            ">=" => cmp_values(have, &self.value) != Ordering::Less,
            "<=" => cmp_values(have, &self.value) != Ordering::Greater,
            "like" => like(&as_text(have), &as_text(&self.value)),
            "not like" => !like(&as_text(have), &as_text(&self.value)),
            "in" => list_values(&self.value).iter().any(|v| cmp_values(have, v) == Ordering::Equal),
            "not in" => !list_values(&self.value).iter().any(|v| cmp_values(have, v) == Ordering::Equal),
            "is" => {
                let set = !as_text(have).is_empty();
                match as_text(&self.value).as_str() {
                    "set" => set,
                    "not set" => !set,
                    _ => false,
                }
            }
            "between" => {
                let b = list_values(&self.value);
                b.len() == 2
                    && cmp_values(have, &b[0]) != Ordering::Less
                    && cmp_values(have, &b[1]) != Ordering::Greater
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_sql_semantics() {
        assert!(like("Stores - A", "%stores%"));
        assert!(like("Stores - A", "Stores - _"));
        assert!(!like("Stores - A", "Stores"));
    }

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
}
