//! Omie: JSON envelope `{call, app_key, app_secret, param:[{..}]}` POSTed to `{base}{module}/{service}/`.
//! Faults come back as `{faultstring, faultcode}` (HTTP 500 per the reference, sometimes 200); some
//! successful bodies carry a status of their own (`cCodStatus`, `codigo_status`: "0" is success).
//!
//! Every call goes through the host's [`Limiter`] first (rate, concurrency, redundancy, blocks), and
//! the faults Omie uses to say "slow down" are handled here (reference omie.md §8):
//! `Client-6` (redundant: wait the seconds it names), `Client-8020` (wait until the time it names),
//! `Client-1880` (a call of the same method is still running), HTTP 429, `MISUSE_API_PROCESS` /
//! HTTP 425 (the key is blocked: every call with it stops until then), HTTP 500 "Broken response"
//! (retried for reads), `Client-5113` (an empty page, see [`OmieClient::list_page`]).
//! Writes are never repeated after an ambiguous failure (timeout, broken response): the caller
//! checks whether the write happened (e.g. by its integration code) before trying again.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveTime, TimeZone};
use serde_json::{json, Value};

use crate::erp::omie::limiter::{self, wall_now, Acquired, Ask, Limiter, Refused, SharedBudget};
use crate::erp::omie::OmieError;
use crate::error::{CoreError, CoreResult};
use crate::http::{classify_transport, join, truncate, Http};
use crate::model::{Connection, Credentials};

/// Called when Omie blocks a key: (app key, until).
pub type BlockSink = Arc<dyn Fn(&str, chrono::DateTime<chrono::Utc>, &str) + Send + Sync>;

#[derive(Clone)]
pub struct OmieClient {
    http: Http,
    base_url: String,
    name: String,
    creds: Credentials,
    limiter: Arc<Limiter>,
    on_block: Option<BlockSink>,
    /// The budget shared with every other process on the same database (when the limiter runs on
    /// real time); without it, this process's limiter alone keeps the rules.
    shared: Option<Arc<dyn SharedBudget>>,
}

/// A fault answered by Omie.
#[derive(Debug, Clone, PartialEq)]
pub struct OmieFault {
    pub code: String,
    pub message: String,
    pub http_status: u16,
}

impl OmieFault {
    /// `SOAP-ENV:Client-5113` means "no records on this page": an empty page, not an error.
    pub fn is_empty_page(&self) -> bool {
        self.code.ends_with("Client-5113")
    }
    pub fn is_auth(&self) -> bool {
        self.code.ends_with("Client-101")
    }
    /// Not-found family (reference: `Client-105` in fixtures, `Client-103` for clients).
    pub fn is_not_found(&self) -> bool {
        self.code.ends_with("Client-105")
            || self.code.ends_with("Client-103")
            || self.message.to_lowercase().contains("não encontrad")
            || self.message.to_lowercase().contains("não cadastrad")
            || self.message.to_lowercase().contains("não existe registro")
    }
    fn is_broken_response(&self) -> bool {
        self.message.contains("Broken response") || self.code == "SOAP-ENV:Server" && self.http_status >= 500
    }
}

/// Seconds named in "Aguarde N segundos" / "Tente novamente em N segundos".
pub fn seconds_in(text: &str) -> Option<u64> {
    let lower = text.to_lowercase();
    for marker in ["aguarde ", "novamente em "] {
        if let Some(i) = lower.find(marker) {
            let digits: String = lower[i + marker.len()..].chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

/// How long until the `[hh:mm:ss]` a `Client-8020` names (Omie's time: Brasília).
pub fn wait_until_named_time(text: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let start = text.find('[')?;
    let end = text[start..].find(']')? + start;
    let t = NaiveTime::parse_from_str(&text[start + 1..end], "%H:%M:%S").ok()?;
    let tz: chrono_tz::Tz = chrono_tz::America::Sao_Paulo;
    let local_now = now.with_timezone(&tz);
    let mut target = tz.from_local_datetime(&local_now.date_naive().and_time(t)).earliest()?;
    if target < local_now - chrono::Duration::hours(12) {
        target += chrono::Duration::days(1);
    }
    let ms = (target.with_timezone(&chrono::Utc) - now).num_milliseconds().max(0);
    Some(Duration::from_millis(ms as u64))
}

/// What a download link gave.
pub enum Download {
    Bytes(Vec<u8>),
    /// The link expired (HTTP 403/410 or an "expired" answer): obtain a new one.
    Expired(String),
    TooLarge(u64),
}

const MAX_ATTEMPTS: u32 = 6;

impl OmieClient {
    /// A client using the process-wide limiter of the connection's host.
    pub fn new(http: Http, conn: &Connection, creds: &Credentials) -> Self {
        let limiter = limiter::for_host(&limiter::host_of(&conn.base_url));
        OmieClient {
            http,
            base_url: conn.base_url.clone(),
            name: conn.name.clone(),
            creds: creds.clone(),
            limiter,
            on_block: None,
            shared: None,
        }
    }

    /// A client with its own limiter (benchmarks, tests).
    pub fn with_limiter(http: Http, base_url: &str, name: &str, creds: &Credentials, limiter: Arc<Limiter>) -> Self {
        OmieClient {
            http,
            base_url: base_url.to_string(),
            name: name.to_string(),
            creds: creds.clone(),
            limiter,
            on_block: None,
            shared: None,
        }
    }

    /// Spends `budget`, shared with other processes, instead of this process's alone (only when the
    /// limiter runs on real time: a simulated clock cannot wait for wall-clock windows).
    pub fn with_shared_budget(mut self, budget: Arc<dyn SharedBudget>) -> Self {
        if self.limiter.clock.is_real() {
            self.shared = Some(budget);
        }
        self
    }

    pub fn on_block(mut self, sink: BlockSink) -> Self {
        self.on_block = Some(sink);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    pub fn app_key(&self) -> &str {
        &self.creds.key
    }

    fn blocked_error(&self, until: chrono::DateTime<chrono::Utc>, seconds: u64) -> CoreError {
        OmieError::KeyBlocked {
            connection: self.name.clone(),
            until: until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            seconds,
        }
        .into()
    }

    fn record_block(&self, seconds: u64, why: &str) -> CoreError {
        let until = self.limiter.block(&self.creds.key, seconds);
        tracing::warn!(connection = %self.name, seconds, "Omie blocked the app key: {why}");
        if let Some(sink) = &self.on_block {
            sink(&self.creds.key, until, why);
        }
        self.blocked_error(until, seconds)
    }

    /// Calls `method` on `service_path` (e.g. `geral/clientes/`). `Ok(Err(fault))` is a business
    /// fault Omie answered (including a non-zero in-body status); rate faults are handled here.
    pub async fn call(&self, service_path: &str, method: &str, param: Value) -> CoreResult<Result<Value, OmieFault>> {
        let url = join(&self.base_url, service_path);
        let url = if url.ends_with('/') { url } else { format!("{url}/") };
        let service = service_path.trim_matches('/').to_string() + "/";
        // Cached answers and redundancy marks belong to one key *and* secret: a wrong secret with a
        // right key must never be answered from the right pair's cache.
        let scope = format!("{service}#{}", secret_tag(&self.creds.secret));
        let write = limiter::is_write(method);
        let body = json!({
            "call": method,
            "app_key": self.creds.key,
            "app_secret": self.creds.secret,
            "param": [param.clone()],
        });
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let acquired = match &self.shared {
                Some(b) => self.limiter.acquire_shared(b, &self.creds.key, &scope, method, &param).await,
                None => self.limiter.acquire(&self.creds.key, &scope, method, &param).await,
            };
            let permit = match acquired {
                Ok(Acquired::Cached(v)) => return Ok(Ok(v)),
                Ok(Acquired::Go(p)) => p,
                Err(Refused::Blocked { until, seconds }) => return Err(self.blocked_error(until, seconds)),
                Err(Refused::TooLong { seconds }) => {
                    return Err(OmieError::MustWait {
                        connection: self.name.clone(),
                        call: method.to_string(),
                        seconds,
                    }
                    .into())
                }
            };
            tracing::debug!(connection = %self.name, url = %url, call = method, attempt, "omie request");
            let sent = self.http.client.post(&url).json(&body).send().await;
            let outcome = match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|s| s.trim().parse::<u64>().ok());
                    match resp.text().await {
                        Ok(text) => Ok((status, retry_after, text)),
                        Err(e) => Err(classify_transport(&self.name, &url, &e)),
                    }
                }
                Err(e) => Err(classify_transport(&self.name, &url, &e)),
            };
            let lat = self.limiter.limits.simulated_latency;
            if !lat.is_zero() {
                let t = self.limiter.clock.now() + lat;
                self.limiter.clock.sleep_until(t).await;
            }
            drop(permit);
            let transient_left = attempt < (self.http.retry.max_attempts as u32).max(1);
            let retry_read = |e: CoreError| if !write && transient_left && e.is_transient() { Ok(e) } else { Err(e) };
            let (status, retry_after, text) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    let e = retry_read(e)?;
                    tracing::warn!(connection = %self.name, call = method, error = %e, "retrying");
                    self.backoff(attempt).await;
                    continue;
                }
            };
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let fault =
                parsed.as_ref().and_then(|v| v.get("faultstring")).and_then(Value::as_str).map(|fs| OmieFault {
                    code: parsed
                        .as_ref()
                        .and_then(|v| v.get("faultcode"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    message: fs.trim_start_matches("ERROR: ").to_string(),
                    http_status: status,
                });
            // The key is blocked.
            if status == 425 || fault.as_ref().is_some_and(|f| f.code.contains("MISUSE_API_PROCESS")) {
                let secs = seconds_in(&text).unwrap_or(1800).max(1);
                return Err(self.record_block(secs, &truncate(&text, 200)));
            }
            if status == 429 || status >= 500 {
                crate::http::record_pushback();
            }
            if status == 429 {
                let wait = Duration::from_secs(retry_after.unwrap_or(60).max(1));
                self.defer(&scope, method, &param, false, wait);
                if attempt < MAX_ATTEMPTS {
                    continue;
                }
                return Err(CoreError::RateLimited { connection: self.name.clone(), retry_after_s: wait.as_secs() });
            }
            if let Some(f) = fault {
                let code = f.code.as_str();
                if code.ends_with("Client-6") {
                    let wait = Duration::from_secs(seconds_in(&f.message).unwrap_or(60).max(1));
                    self.defer(&scope, method, &param, true, wait);
                    if attempt < MAX_ATTEMPTS {
                        continue;
                    }
                } else if code.ends_with("Client-1880") {
                    self.defer(&scope, method, &param, false, Duration::from_secs(1));
                    if attempt < MAX_ATTEMPTS {
                        continue;
                    }
                } else if code.ends_with("Client-8020") {
                    // "already processed or being processed": a write may have happened.
                    if write {
                        return Ok(Err(f));
                    }
                    let wait = wait_until_named_time(&f.message, chrono::Utc::now()).unwrap_or(Duration::from_secs(60));
                    self.defer(&scope, method, &param, true, wait + Duration::from_secs(1));
                    if attempt < MAX_ATTEMPTS {
                        continue;
                    }
                } else if f.is_broken_response() && !write && transient_left {
                    self.backoff(attempt).await;
                    continue;
                } else if f.is_auth() {
                    return Err(CoreError::Unauthorized { connection: self.name.clone(), detail: f.message });
                }
                return Ok(Err(f));
            }
            let v = match parsed {
                Some(v) if (200..300).contains(&status) => v,
                Some(_) | None if status >= 500 && !write && transient_left => {
                    self.backoff(attempt).await;
                    continue;
                }
                None if (200..300).contains(&status) && !write && transient_left => {
                    self.backoff(attempt).await;
                    continue;
                }
                None if (200..300).contains(&status) => {
                    return Err(CoreError::NotJson {
                        connection: self.name.clone(),
                        url,
                        detail: format!("reply starts with: {}", truncate(&text, 200)),
                    })
                }
                _ => {
                    return Err(crate::http::http_error(
                        &self.name,
                        &url,
                        reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY),
                        &text,
                    ))
                }
            };
            // A status inside a successful body.
            if let Some(code) = status_code(&v) {
                if code != "0" {
                    let msg = ["cDesStatus", "cDescStatus", "descricao_status"]
                        .iter()
                        .find_map(|k| v.get(*k).and_then(Value::as_str))
                        .unwrap_or("")
                        .to_string();
                    return Ok(Err(OmieFault { code: format!("status {code}"), message: msg, http_status: status }));
                }
            }
            match &self.shared {
                Some(b) => {
                    let fp = limiter::fingerprint(&scope, method, &param);
                    let ask =
                        Ask { app_key: &self.creds.key, method, fingerprint: &fp, service: &scope, now: wall_now() };
                    let keep = (!write && self.limiter.limits.cache_reads).then_some(&v);
                    b.answered(&ask, write, keep);
                }
                None => self.limiter.answered(&self.creds.key, &scope, method, &param, &v),
            }
            return Ok(Ok(v));
        }
    }

    /// Omie asked to wait: for the method (`call: false`) or this exact call, in the shared budget
    /// when there is one.
    fn defer(&self, scope: &str, method: &str, param: &Value, call: bool, wait: Duration) {
        match &self.shared {
            Some(b) => {
                let fp = limiter::fingerprint(scope, method, param);
                let now = wall_now();
                let ask = Ask { app_key: &self.creds.key, method, fingerprint: &fp, service: scope, now };
                b.defer(&ask, call, now + wait);
            }
            None if call => self.limiter.defer_call(&self.creds.key, scope, method, param, wait),
            None => self.limiter.defer_method(&self.creds.key, method, wait),
        }
    }

    /// Exponential backoff of the shared retry policy (first wait `min_delay`, capped at `max_delay`).
    async fn backoff(&self, attempt: u32) {
        let p = &self.http.retry;
        let wait = p.min_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(10)).min(p.max_delay);
        let t = self.limiter.clock.now() + wait;
        self.limiter.clock.sleep_until(t).await;
    }

    /// The error a business fault becomes when the caller has nothing better to say.
    pub fn fault_error(&self, method: &str, f: OmieFault) -> CoreError {
        if f.is_auth() {
            CoreError::Unauthorized { connection: self.name.clone(), detail: f.message }
        } else {
            CoreError::Remote {
                connection: self.name.clone(),
                remote_code: f.code,
                message: format!("{method}: {}", f.message),
            }
        }
    }

    /// A call whose fault is an error.
    pub async fn call_ok(&self, service_path: &str, method: &str, param: Value) -> CoreResult<Value> {
        match self.call(service_path, method, param).await? {
            Ok(v) => Ok(v),
            Err(f) => Err(self.fault_error(method, f)),
        }
    }

    /// One page of a list: `None` when Omie says there are no records on it (`Client-5113`).
    pub async fn list_page(&self, service_path: &str, method: &str, param: Value) -> CoreResult<Option<Value>> {
        match self.call(service_path, method, param).await? {
            Ok(v) => Ok(Some(v)),
            Err(f) if f.is_empty_page() => Ok(None),
            Err(f) => Err(self.fault_error(method, f)),
        }
    }

    /// Downloads a `cLinkDownload`, refusing more than `max_bytes`.
    pub async fn download(&self, link: &str, max_bytes: u64) -> CoreResult<Download> {
        let mut resp = self.http.client.get(link).send().await.map_err(|e| classify_transport(&self.name, link, &e))?;
        let status = resp.status().as_u16();
        if matches!(status, 401 | 403 | 410) {
            let body = resp.text().await.unwrap_or_default();
            return Ok(Download::Expired(format!("HTTP {status}: {}", truncate(&body, 200))));
        }
        if !(200..300).contains(&status) {
            let body = resp.text().await.unwrap_or_default();
            return Err(CoreError::Http {
                connection: self.name.clone(),
                url: link.split('?').next().unwrap_or(link).to_string(),
                status,
                detail: truncate(&body, 300),
            });
        }
        if let Some(len) = resp.content_length() {
            if len > max_bytes {
                return Ok(Download::TooLarge(len));
            }
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify_transport(&self.name, link, &e))? {
            if (out.len() + chunk.len()) as u64 > max_bytes {
                return Ok(Download::TooLarge((out.len() + chunk.len()) as u64));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Download::Bytes(out))
    }

    /// Test: a one-record client list.
    pub async fn test(&self) -> CoreResult<String> {
        let r = self
            .call(
                "geral/clientes/",
                "ListarClientes",
                json!({"pagina": 1, "registros_por_pagina": 1, "apenas_importado_api": "N"}),
            )
            .await?;
        match r {
            Ok(v) => {
                let total = v.get("total_de_registros").and_then(Value::as_i64).unwrap_or(0);
                Ok(format!("Omie answered; {total} clients/suppliers registered"))
            }
            Err(f) if f.is_empty_page() => Ok("Omie answered; no clients registered yet".into()),
            Err(f) => Err(self.fault_error("ListarClientes", f)),
        }
    }
}

/// A short non-reversible tag of the secret (never the secret itself).
fn secret_tag(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The in-body status of a successful answer, if it has one at the top level.
fn status_code(v: &Value) -> Option<String> {
    ["cCodStatus", "codigo_status"].iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_waits_named_by_omie() {
        assert_eq!(
            seconds_in("ERROR: Consumo redundante detectado. Aguarde 60 segundos para tentar novamente (REDUNDANT)."),
            Some(60)
        );
        assert_eq!(seconds_in("API bloqueada por consumo indevido. Tente novamente em 1764 segundos."), Some(1764));
        assert_eq!(seconds_in("nothing here"), None);
        let now = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 15, 0, 0).unwrap(); // 12:00 in Brasília
        let w = wait_until_named_time("tentar novamente às [12:00:30]. (1)", now).unwrap();
        assert_eq!(w, Duration::from_secs(30));
    }
}
