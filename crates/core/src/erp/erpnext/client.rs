//! ERPNext / Frappe v15: `Authorization: token <key>:<secret>`, `/api/resource/<DocType>` and
//! `/api/method/<dotted.path>`. Error bodies carry `exc_type` and a double-encoded `_server_messages`
//! (`../shared/reference/erpnext.md` section 3).
//!
//! Reads ([`ErpnextClient::read`]) are retried on transient failures with exponential backoff and
//! jitter, honouring `Retry-After`. Writes ([`ErpnextClient::send_once`]) are sent exactly once: a
//! write whose reply was lost may have committed (section 1), so deciding whether to send it again
//! belongs to the caller, after it has looked the document up.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::Method;
use serde_json::{json, Value};

use crate::error::{CoreError, CoreResult};
use crate::http::{classify_transport, http_error, join, truncate, Http};
use crate::model::{Connection, Credentials};

/// Decodes Frappe's `_server_messages`: a JSON string holding a list of JSON strings of `{message, title}`.
pub fn server_messages(body: &Value) -> Vec<String> {
    let Some(raw) = body.get("_server_messages").and_then(Value::as_str) else { return vec![] };
    let Ok(list) = serde_json::from_str::<Vec<String>>(raw) else { return vec![raw.to_string()] };
    list.iter()
        .map(|s| match serde_json::from_str::<Value>(s) {
            Ok(v) => v.get("message").and_then(Value::as_str).unwrap_or(s).to_string(),
            Err(_) => s.clone(),
        })
        .collect()
}

/// Frappe messages are HTML (`<strong>`, links); this keeps their text.
pub fn plain_text(s: &str) -> String {
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
    out.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
}

/// Percent-encodes one path segment (DocType and document names have spaces and slashes).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What the site answered when it did not succeed.
#[derive(Debug, Clone)]
pub struct SiteError {
    pub connection: String,
    pub url: String,
    pub status: u16,
    /// The exception class (`LinkValidationError`, `SerialNoWarehouseError`...), if sent.
    pub exc_type: String,
    /// `_server_messages`, decoded twice, as plain text.
    pub messages: Vec<String>,
    /// `_error_message` (permission errors).
    pub error_message: Option<String>,
    /// The last traceback line (`exception`).
    pub exception: Option<String>,
    pub retry_after: Option<Duration>,
    /// The site's own clock when it answered (the HTTP `Date` header), if it sent one.
    pub site_clock: Option<chrono::DateTime<chrono::Utc>>,
    pub body: String,
}

/// Why an ERPNext call did not return a result.
#[derive(Debug)]
pub enum ErpError {
    /// No answer (timeout, reset, unreachable): a write may or may not have been applied.
    NoReply(CoreError),
    /// An answer that could not be read (truncated JSON): the write may have been applied.
    BadReply(CoreError),
    /// The site answered with an error status.
    Site(Box<SiteError>),
}

impl ErpError {
    /// Whether sending again later may succeed: no reply, an unreadable reply, 5xx (deadlocks,
    /// lock timeouts, maintenance) and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            ErpError::NoReply(e) => e.is_transient(),
            ErpError::BadReply(_) => true,
            ErpError::Site(s) => s.status >= 500 || s.status == 429,
        }
    }

    pub fn site(&self) -> Option<&SiteError> {
        match self {
            ErpError::Site(s) => Some(s),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.site().map(|s| s.status)
    }

    pub fn exc_type(&self) -> &str {
        self.site().map(|s| s.exc_type.as_str()).unwrap_or("")
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.site().and_then(|s| s.retry_after)
    }

    /// A one-line description for logs and attempt records.
    pub fn short(&self) -> String {
        match self {
            ErpError::NoReply(e) | ErpError::BadReply(e) => e.to_string(),
            ErpError::Site(s) => {
                let what = if s.messages.is_empty() {
                    s.error_message.clone().or_else(|| s.exception.clone()).unwrap_or_default()
                } else {
                    s.messages.iter().map(|m| plain_text(m)).collect::<Vec<_>>().join(" ")
                };
                let class = if s.exc_type.is_empty() { String::new() } else { format!(" {}", s.exc_type) };
                format!("HTTP {}{class}: {}", s.status, truncate(what.trim(), 400))
            }
        }
    }

    /// The error as the rest of the core reports it.
    pub fn into_core(self) -> CoreError {
        match self {
            ErpError::NoReply(e) | ErpError::BadReply(e) => e,
            ErpError::Site(s) => {
                let msgs: Vec<String> = s.messages.iter().map(|m| plain_text(m)).collect();
                match s.status {
                    401 => CoreError::Unauthorized { connection: s.connection, detail: truncate(&s.body, 300) },
                    403 => CoreError::Forbidden {
                        connection: s.connection,
                        detail: s.error_message.map(|m| plain_text(&m)).unwrap_or_else(|| truncate(&s.body, 300)),
                    },
                    429 => CoreError::RateLimited {
                        connection: s.connection,
                        retry_after_s: s.retry_after.map(|d| d.as_secs()).unwrap_or(60),
                    },
                    st if st >= 500 => {
                        let detail = s.short_detail();
                        CoreError::Http { connection: s.connection, url: s.url, status: st, detail }
                    }
                    _ if !msgs.is_empty() => {
                        CoreError::Remote { connection: s.connection, remote_code: s.exc_type, message: msgs.join(" ") }
                    }
                    st => {
                        let detail = s.short_detail();
                        CoreError::Http { connection: s.connection, url: s.url, status: st, detail }
                    }
                }
            }
        }
    }
}

impl SiteError {
    fn short_detail(&self) -> String {
        let mut d = self.exc_type.clone();
        if let Some(e) = &self.exception {
            d = format!("{d}: {e}");
        }
        truncate(&d, 500)
    }
}

impl From<ErpError> for CoreError {
    fn from(e: ErpError) -> Self {
        e.into_core()
    }
}

/// How reads are retried and how long any request may take.
#[derive(Debug, Clone)]
pub struct Policy {
    pub timeout: Duration,
    pub max_attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A longer `Retry-After` than this is not waited for: the read fails.
    pub max_retry_after: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl Policy {
    /// The exponential backoff with jitter this policy describes.
    pub fn backoff(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_jitter()
            .with_max_times(self.max_attempts.saturating_sub(1))
            .build()
    }
}

#[derive(Clone)]
pub struct ErpnextClient {
    http: Http,
    base_url: String,
    name: String,
    creds: Credentials,
    pub policy: Policy,
    /// The site's `Retry-After` waits, shared by every task and process on the database.
    gate: Option<crate::http::HostGate>,
}

impl ErpnextClient {
    pub fn new(http: Http, conn: &Connection, creds: &Credentials) -> Self {
        ErpnextClient {
            http,
            base_url: conn.base_url.clone(),
            name: conn.name.clone(),
            creds: creds.clone(),
            policy: Policy::default(),
            gate: None,
        }
    }

    /// Honours (and records) the site's `Retry-After` waits through `gate`, for every request.
    pub fn with_gate(mut self, gate: crate::http::HostGate) -> Self {
        self.gate = Some(gate);
        self
    }

    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The connection's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn auth(&self) -> String {
        format!("token {}:{}", self.creds.key, self.creds.secret)
    }

    /// One request, never repeated here. A JSON body is sent with `Content-Type: application/json`
    /// (for `/api/method` the arguments are empty otherwise, section 2).
    pub async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ErpError> {
        let url = join(&self.base_url, path);
        let host = crate::http::host_of(&self.base_url);
        if let Some(g) = &self.gate {
            if let Err(left) = g.pass(&host, self.policy.max_retry_after).await {
                // The site asked (another request was told) to wait longer than a job waits.
                return Err(ErpError::Site(Box::new(SiteError {
                    connection: self.name.clone(),
                    url,
                    status: 429,
                    exc_type: String::new(),
                    messages: vec![],
                    error_message: None,
                    exception: None,
                    retry_after: Some(left),
                    site_clock: None,
                    body: String::new(),
                })));
            }
        }
        let mut rq = self
            .http
            .client
            .request(method, &url)
            .timeout(self.policy.timeout)
            .header("Authorization", self.auth())
            .header("Accept", "application/json");
        if !query.is_empty() {
            rq = rq.query(query);
        }
        if let Some(b) = body {
            rq = rq.json(b);
        }
        let started = Instant::now();
        let resp = rq.send().await.map_err(|e| ErpError::NoReply(classify_transport(&self.name, &url, &e)))?;
        let status = resp.status();
        if status.as_u16() == 429 || status.is_server_error() {
            crate::http::record_pushback();
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if let (Some(g), Some(wait)) = (&self.gate, retry_after) {
            if status.as_u16() == 429 || status.as_u16() == 503 {
                g.hold(&host, wait, &format!("HTTP {}", status.as_u16()));
            }
        }
        let site_clock = resp
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| chrono::DateTime::parse_from_rfc2822(s.trim()).ok())
            .map(|d| d.with_timezone(&chrono::Utc));
        let text = resp.text().await.map_err(|e| ErpError::NoReply(classify_transport(&self.name, &url, &e)))?;
        tracing::debug!(
            connection = %self.name,
            url = %url,
            status = status.as_u16(),
            ms = started.elapsed().as_millis() as u64,
            body = %truncate(&text, 2000),
            "erpnext response"
        );
        let parsed = serde_json::from_str::<Value>(&text);
        if status.is_success() {
            return parsed.map_err(|e| {
                ErpError::BadReply(CoreError::NotJson {
                    connection: self.name.clone(),
                    url: url.clone(),
                    detail: format!("{e}; reply starts with: {}", truncate(&text, 200)),
                })
            });
        }
        let v = parsed.unwrap_or(Value::Null);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        if v.is_null() && (status.as_u16() == 401 || status.as_u16() == 403) {
            // A proxy's page, not Frappe's: still a credentials/permission answer.
            return Err(ErpError::Site(Box::new(SiteError {
                connection: self.name.clone(),
                url,
                status: status.as_u16(),
                exc_type: String::new(),
                messages: vec![],
                error_message: None,
                exception: None,
                retry_after,
                site_clock,
                body: truncate(&text, 500),
            })));
        }
        Err(ErpError::Site(Box::new(SiteError {
            connection: self.name.clone(),
            url,
            status: status.as_u16(),
            exc_type: s("exc_type").unwrap_or_default(),
            messages: server_messages(&v),
            error_message: s("_error_message"),
            exception: s("exception"),
            retry_after,
            site_clock,
            body: truncate(&text, 500),
        })))
    }

    /// A read, retried on transient failures with backoff and jitter (Retry-After honoured up to
    /// the policy's limit).
    pub async fn read(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ErpError> {
        let mut backoff = self.policy.backoff();
        loop {
            match self.send_once(method.clone(), path, query, body).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() => {
                    let Some(delay) = backoff.next() else { return Err(e) };
                    let wait = match e.retry_after() {
                        Some(ra) if ra > self.policy.max_retry_after => return Err(e),
                        Some(ra) => ra.max(delay),
                        None => delay,
                    };
                    tracing::warn!(connection = %self.name, path, error = %e.short(), wait_ms = wait.as_millis() as u64, "retrying read");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `GET /api/resource/<DocType>` with fields, filters, `order_by` (always given: without it
    /// Frappe 15.44 adds no ORDER BY, section 2.4) and paging. `len == 0` means no limit.
    pub async fn list(
        &self,
        doctype: &str,
        fields: &[&str],
        filters: &Value,
        order_by: &str,
        start: u64,
        len: u64,
    ) -> Result<Vec<Value>, ErpError> {
        let query = [
            ("fields", json!(fields).to_string()),
            ("filters", filters.to_string()),
            ("order_by", order_by.to_string()),
            ("limit_start", start.to_string()),
            ("limit_page_length", len.to_string()),
        ];
        let v = self.read(Method::GET, &format!("/api/resource/{}", segment(doctype)), &query, None).await?;
        Ok(v.get("data").and_then(Value::as_array).cloned().unwrap_or_default())
    }

    /// `GET /api/resource/<DocType>/<name>`; `None` when the site answers 404.
    pub async fn get_doc(&self, doctype: &str, name: &str) -> Result<Option<Value>, ErpError> {
        let path = format!("/api/resource/{}/{}", segment(doctype), segment(name));
        match self.read(Method::GET, &path, &[], None).await {
            Ok(v) => Ok(v.get("data").cloned()),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /api/resource/<DocType>` once; returns the stored document (`data`).
    pub async fn insert(&self, doctype: &str, doc: &Value) -> Result<Value, ErpError> {
        let v = self.send_once(Method::POST, &format!("/api/resource/{}", segment(doctype)), &[], Some(doc)).await?;
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// `PUT /api/resource/<DocType>/<name>` once (e.g. `{"docstatus": 1}` submits a draft).
    pub async fn update(&self, doctype: &str, name: &str, body: &Value) -> Result<Value, ErpError> {
        let path = format!("/api/resource/{}/{}", segment(doctype), segment(name));
        let v = self.send_once(Method::PUT, &path, &[], Some(body)).await?;
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// `DELETE /api/resource/<DocType>/<name>` once.
    pub async fn delete(&self, doctype: &str, name: &str) -> Result<(), ErpError> {
        let path = format!("/api/resource/{}/{}", segment(doctype), segment(name));
        self.send_once(Method::DELETE, &path, &[], None).await.map(|_| ())
    }

    /// `POST /api/method/<dotted.path>` with a JSON body, once; returns `message`.
    pub async fn call(&self, method: &str, args: &Value) -> Result<Value, ErpError> {
        let v = self.send_once(Method::POST, &format!("/api/method/{method}"), &[], Some(args)).await?;
        Ok(v.get("message").cloned().unwrap_or(Value::Null))
    }

    /// `frappe.client.cancel(doctype, name)` once (compensation, section 10).
    pub async fn cancel(&self, doctype: &str, name: &str) -> Result<(), ErpError> {
        self.call("frappe.client.cancel", &json!({"doctype": doctype, "name": name})).await.map(|_| ())
    }

    /// A GET with retries, as a core result (used by the connection test).
    pub async fn get(&self, path: &str) -> CoreResult<Value> {
        self.read(Method::GET, path, &[], None).await.map_err(ErpError::into_core)
    }

    /// Test: `frappe.auth.get_logged_user`.
    pub async fn test(&self) -> CoreResult<String> {
        let v = self.get("/api/method/frappe.auth.get_logged_user").await?;
        match v.get("message").and_then(Value::as_str) {
            Some("Guest") | None => Err(CoreError::Unauthorized {
                connection: self.name.clone(),
                detail: "the site answered as Guest: the API key was not accepted".into(),
            }),
            Some(user) => Ok(format!("ERPNext answered; signed in as {user}")),
        }
    }

    /// The zone the site keeps its dates in (System Settings → Time Zone), through
    /// `frappe.client.get_time_zone`, which Frappe v15 whitelists for every user, guests included
    /// (`frappe/client.py`), so an API key without the System Manager role can read it.
    /// `Ok(None)`: the site answered but named no zone it or we know.
    pub async fn site_time_zone(&self) -> Result<Option<chrono_tz::Tz>, ErpError> {
        let v = self.read(Method::GET, "/api/method/frappe.client.get_time_zone", &[], None).await?;
        Ok(v.pointer("/message/time_zone").and_then(Value::as_str).and_then(|z| z.trim().parse::<chrono_tz::Tz>().ok()))
    }

    /// The desk URL of a document, for "open in the browser" (`/app/<doctype-slug>/<name>`).
    pub fn desk_url(&self, doctype: &str, name: &str) -> String {
        desk_url(&self.base_url, doctype, name)
    }
}

/// The desk URL of a document on a site: `/app/purchase-order/PUR-ORD-2026-00001`.
pub fn desk_url(base_url: &str, doctype: &str, name: &str) -> String {
    let slug = doctype.to_lowercase().replace(' ', "-");
    join(base_url, &format!("/app/{slug}/{}", segment(name)))
}

/// Kept for callers that want the classic error of a failed status.
pub fn status_error(connection: &str, url: &str, status: u16, body: &str) -> CoreError {
    http_error(connection, url, reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_decoded_twice_and_html_removed() {
        let body = json!({"_server_messages": "[\"{\\\"message\\\": \\\"Serial No <strong>SN-9</strong> is not present\\\", \\\"title\\\": \\\"Error\\\"}\"]"});
        let m = server_messages(&body);
        assert_eq!(m, vec!["Serial No <strong>SN-9</strong> is not present"]);
        assert_eq!(plain_text(&m[0]), "Serial No SN-9 is not present");
        assert!(server_messages(&json!({})).is_empty());
    }

    #[test]
    fn segments_and_desk_urls() {
        assert_eq!(segment("Purchase Order"), "Purchase%20Order");
        assert_eq!(segment("A/B"), "A%2FB");
        assert_eq!(
            desk_url("https://erp.example/", "Delivery Note", "MAT-DN-2026-00001"),
            "https://erp.example/app/delivery-note/MAT-DN-2026-00001"
        );
    }
}
