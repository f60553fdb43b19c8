//! The shared HTTP layer: one reqwest client, plain-language classification of transport errors,
//! bounded retries with exponential backoff and jitter (backon) that honour Retry-After, and
//! debug logging of requests with secrets redacted.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::error::{CoreError, CoreResult};

/// How many times, in this process, an ERP answered 429 or 5xx or did not answer in time: the sync
/// engine lowers its concurrency when this grows during a request.
static PUSHBACKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn pushbacks() -> u64 {
    PUSHBACKS.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn record_pushback() {
    PUSHBACKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub retry: RetryPolicy,
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Upper bound for a server-requested Retry-After we are willing to wait inside one job.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl Http {
    pub fn new(timeout: Duration) -> CoreResult<Http> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .user_agent(concat!("BackOffice/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CoreError::Internal(format!("HTTP client: {e}")))?;
        Ok(Http { client, retry: RetryPolicy::default() })
    }

    /// Sends the request built by `build` and returns the response with its body, retrying transient
    /// failures (transport errors, 429, 5xx) with backoff. `classify` turns a final response into an
    /// error or accepts it.
    pub async fn send_with_retry(
        &self,
        connection: &str,
        url: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> CoreResult<(StatusCode, String)> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_jitter()
            .with_max_times(self.retry.max_attempts.saturating_sub(1))
            .build();
        loop {
            let outcome = match build().send().await {
                Ok(resp) => read_body(connection, url, resp).await,
                Err(e) => Err(classify_transport(connection, url, &e)),
            };
            let (retry_after, err) = match outcome {
                Ok((status, body)) if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                    record_pushback();
                    let retry_after = parse_retry_after(&body.1);
                    (retry_after, http_error(connection, url, status, &body.0))
                }
                Ok((status, body)) => return Ok((status, body.0)),
                Err(e) if e.is_transient() => {
                    record_pushback();
                    (None, e)
                }
                Err(e) => return Err(e),
            };
            match backoff.next() {
                Some(delay) => {
                    let wait = match retry_after {
                        Some(ra) if ra > self.retry.max_retry_after => return Err(err),
                        Some(ra) => ra.max(delay),
                        None => delay,
                    };
                    tracing::warn!(connection, url, error = %err, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
                None => return Err(err),
            }
        }
    }
}

/// Reads the body; returns (status, (body text, retry-after header)).
async fn read_body(connection: &str, url: &str, resp: Response) -> CoreResult<(StatusCode, (String, Option<String>))> {
    let status = resp.status();
    let retry_after =
        resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = resp.text().await.map_err(|e| classify_transport(connection, url, &e))?;
    tracing::debug!(connection, url, status = status.as_u16(), body = %truncate(&body, 2000), "response");
    Ok((status, (body, retry_after)))
}

fn parse_retry_after(v: &Option<String>) -> Option<Duration> {
    v.as_deref().and_then(|s| s.trim().parse::<u64>().ok()).map(Duration::from_secs)
}

pub fn http_error(connection: &str, url: &str, status: StatusCode, body: &str) -> CoreError {
    match status {
        StatusCode::UNAUTHORIZED => {
            CoreError::Unauthorized { connection: connection.into(), detail: truncate(body, 300) }
        }
        StatusCode::FORBIDDEN => CoreError::Forbidden { connection: connection.into(), detail: truncate(body, 300) },
        StatusCode::TOO_MANY_REQUESTS => CoreError::RateLimited { connection: connection.into(), retry_after_s: 60 },
        _ => CoreError::Http {
            connection: connection.into(),
            url: url.into(),
            status: status.as_u16(),
            detail: truncate(body, 500),
        },
    }
}

pub fn classify_transport(connection: &str, url: &str, e: &reqwest::Error) -> CoreError {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        src = s.source();
    }
    let lower = chain.to_lowercase();
    if e.is_timeout() {
        CoreError::Timeout { connection: connection.into(), url: url.into() }
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        CoreError::Tls { connection: connection.into(), url: url.into(), detail: chain }
    } else if e.is_decode() || e.is_body() {
        CoreError::NotJson { connection: connection.into(), url: url.into(), detail: chain }
    } else {
        CoreError::Unreachable { connection: connection.into(), url: url.into(), detail: chain }
    }
}

/// Parses JSON or explains that the reply was not JSON.
pub fn parse_json(connection: &str, url: &str, body: &str) -> CoreResult<serde_json::Value> {
    serde_json::from_str(body).map_err(|e| CoreError::NotJson {
        connection: connection.into(),
        url: url.into(),
        detail: format!("{e}; reply starts with: {}", truncate(body, 200)),
    })
}

pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Joins a base URL and a relative path, keeping exactly one slash between them.
pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// The waits sites asked for (`Retry-After`), per host, shared by every task and process on one
/// database: before a request, [`HostGate::pass`] waits out a mark another request received; after
/// a 429 or 503 with `Retry-After`, [`HostGate::hold`] records one.
#[derive(Clone)]
pub struct HostGate {
    store: crate::store::Store,
}

impl HostGate {
    pub fn new(store: crate::store::Store) -> Self {
        HostGate { store }
    }

    fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    /// Waits until `host` may be called again. A wait longer than `max` is not waited: it is given
    /// back (the caller fails with "rate limited, retry after ...").
    pub async fn pass(&self, host: &str, max: Duration) -> Result<(), Duration> {
        loop {
            let now = Self::now_ms();
            let until = match crate::store::waits::host_not_before(&self.store, host, now) {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(host, error = %e, "could not read the site's waits; calling it anyway");
                    None
                }
            };
            let Some(until) = until else { return Ok(()) };
            let left = Duration::from_millis((until - now).max(0) as u64);
            if left > max {
                return Err(left);
            }
            tracing::info!(host, wait_ms = left.as_millis() as u64, "waiting out the site's Retry-After");
            tokio::time::sleep(left).await;
        }
    }

    /// `host` asked not to be called for `wait`.
    pub fn hold(&self, host: &str, wait: Duration, reason: &str) {
        let until = Self::now_ms() + wait.as_millis() as i64;
        if let Err(e) = crate::store::waits::hold_host(&self.store, host, until, reason) {
            tracing::warn!(host, error = %e, "could not record the site's Retry-After");
        }
    }
}

/// The host (and port) of a URL, the unit a site's waits apply to.
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| u.port().map(|p| format!("{h}:{p}")).unwrap_or_else(|| h.to_string())))
        .unwrap_or_else(|| url.to_string())
}
