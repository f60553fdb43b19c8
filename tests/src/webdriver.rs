//! A small W3C WebDriver client: just the commands these tests use.
//!
//! Every command returns the `value` member of the response; protocol errors become a
//! [`WdError`] so that waits can tell "not there yet" from real failures.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// The key W3C uses for element references in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How often waits poll.
const POLL: Duration = Duration::from_millis(150);

/// An error reported by the remote end (W3C "error" code plus its message).
#[derive(Debug, Clone)]
pub struct WdError {
    pub http_status: u16,
    pub error: String,
    pub message: String,
    pub command: String,
}

impl fmt::Display for WdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebDriver `{}` failed: {} (HTTP {}): {}", self.command, self.error, self.http_status, self.message)
    }
}

impl std::error::Error for WdError {}

impl WdError {
    /// Errors that mean "the page is not in that state yet": a wait retries them.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.error.as_str(),
            "no such element" | "stale element reference" | "element not interactable" | "element click intercepted"
        )
    }
}

/// True when `err` is a WebDriver error that a wait should retry.
pub fn is_transient(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<WdError>().is_some_and(WdError::is_transient))
}

/// A reference to an element in the page, with the selector that found it (for messages).
#[derive(Debug, Clone)]
pub struct Element {
    pub id: String,
    pub selector: String,
}

impl Element {
    fn json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

/// One WebDriver session.
pub struct WebDriver {
    http: reqwest::Client,
    server: String,
    session_id: String,
}

impl WebDriver {
    /// `POST /session` with the given W3C capabilities object.
    pub async fn new_session(server: &str, capabilities: Value, timeout: Duration) -> Result<WebDriver> {
        let http = reqwest::Client::builder().timeout(timeout).build().context("building the HTTP client")?;
        let server = server.trim_end_matches('/').to_string();
        let value =
            send(&http, Method::POST, &format!("{server}/session"), Some(json!({ "capabilities": capabilities })))
                .await
                .context("creating a WebDriver session (does the app start? see the driver log)")?;
        let session_id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("new session response has no sessionId: {value}"))?
            .to_string();
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(60)).build().context("building the HTTP client")?;
        Ok(WebDriver { http, server, session_id })
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/session/{}{}", self.server, self.session_id, path);
        send(&self.http, method, &url, body).await
    }

    /// Ends the session; with tauri-driver this closes the app.
    pub async fn delete_session(&self) -> Result<()> {
        self.cmd(Method::DELETE, "", None).await.map(|_| ())
    }

    fn element_from(value: &Value, selector: &str) -> Result<Element> {
        let id = value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("not an element reference: {value}"))?;
        Ok(Element { id: id.to_string(), selector: selector.to_string() })
    }

    /// The first element matching a CSS selector (error `no such element` if none).
    pub async fn find(&self, css: &str) -> Result<Element> {
        let v = self.cmd(Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await?;
        Self::element_from(&v, css)
    }

    /// Every element matching a CSS selector (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let v = self.cmd(Method::POST, "/elements", Some(json!({"using": "css selector", "value": css}))).await?;
        v.as_array()
            .ok_or_else(|| anyhow!("find elements did not return a list: {v}"))?
            .iter()
            .map(|e| Self::element_from(e, css))
            .collect()
    }

    /// The first descendant of `parent` matching a CSS selector.
    pub async fn find_in(&self, parent: &Element, css: &str) -> Result<Element> {
        let v = self
            .cmd(
                Method::POST,
                &format!("/element/{}/element", parent.id),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        Self::element_from(&v, &format!("{} {css}", parent.selector))
    }

    /// Every descendant of `parent` matching a CSS selector.
    pub async fn find_all_in(&self, parent: &Element, css: &str) -> Result<Vec<Element>> {
        let v = self
            .cmd(
                Method::POST,
                &format!("/element/{}/elements", parent.id),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        let sel = format!("{} {css}", parent.selector);
        v.as_array()
            .ok_or_else(|| anyhow!("find elements did not return a list: {v}"))?
            .iter()
            .map(|e| Self::element_from(e, &sel))
            .collect()
    }

    /// Clicks the element. WebKitWebDriver scrolls only the page, not a scrolling container such as
    /// a dialog's body, before clicking: when the element is "not interactable" (or covered) it is
    /// scrolled into view, as a user would scroll to it, and clicked again; a dialog still settling
    /// into place (a busy machine lays it out late) is given a few more tries before giving up.
    pub async fn click(&self, el: &Element) -> Result<()> {
        let path = format!("/element/{}/click", el.id);
        let mut tries = 0;
        loop {
            let err = match self.cmd(Method::POST, &path, Some(json!({}))).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let not_interactable = err
                .downcast_ref::<WdError>()
                .is_some_and(|e| e.error == "element not interactable" || e.error == "element click intercepted");
            if !not_interactable {
                return Err(err.context(format!("clicking {}", el.selector)));
            }
            tries += 1;
            if tries > 10 {
                return Err(err.context(format!("clicking {} (also after scrolling it into view)", el.selector)));
            }
            if tries > 1 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            self.scroll_into_view(el).await?;
        }
    }

    /// Scrolls every scrolling ancestor so that the element is in the middle of the view.
    pub async fn scroll_into_view(&self, el: &Element) -> Result<()> {
        self.execute("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});", vec![el.json()])
            .await
            .with_context(|| format!("scrolling {} into view", el.selector))
            .map(|_| ())
    }

    pub async fn clear(&self, el: &Element) -> Result<()> {
        self.cmd(Method::POST, &format!("/element/{}/clear", el.id), Some(json!({})))
            .await
            .with_context(|| format!("clearing {}", el.selector))
            .map(|_| ())
    }

    /// Types `text` into the element (real key events).
    pub async fn send_keys(&self, el: &Element, text: &str) -> Result<()> {
        self.cmd(Method::POST, &format!("/element/{}/value", el.id), Some(json!({ "text": text })))
            .await
            .with_context(|| format!("typing into {}", el.selector))
            .map(|_| ())
    }

    /// The rendered (visible) text of the element.
    pub async fn text(&self, el: &Element) -> Result<String> {
        let v = self.cmd(Method::GET, &format!("/element/{}/text", el.id), None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// The element's `textContent`, whitespace collapsed. Unlike [`text`](Self::text) it does not
    /// depend on layout: WebKitWebDriver reports an empty rendered text for some ellipsised cells.
    pub async fn text_content(&self, el: &Element) -> Result<String> {
        let v = self.prop(el, "textContent").await?;
        Ok(v.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// An HTML attribute; `None` when absent.
    pub async fn attr(&self, el: &Element, name: &str) -> Result<Option<String>> {
        let v = self.cmd(Method::GET, &format!("/element/{}/attribute/{name}", el.id), None).await?;
        Ok(v.as_str().map(str::to_string))
    }

    /// A DOM property (e.g. `value` of an input).
    pub async fn prop(&self, el: &Element, name: &str) -> Result<Value> {
        self.cmd(Method::GET, &format!("/element/{}/property/{name}", el.id), None).await
    }

    /// The lower-case tag name.
    pub async fn tag_name(&self, el: &Element) -> Result<String> {
        let v = self.cmd(Method::GET, &format!("/element/{}/name", el.id), None).await?;
        Ok(v.as_str().unwrap_or_default().to_ascii_lowercase())
    }

    pub async fn is_displayed(&self, el: &Element) -> Result<bool> {
        let v = self.cmd(Method::GET, &format!("/element/{}/displayed", el.id), None).await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// Runs a synchronous script; elements in `args` are passed as element references.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args }))).await
    }

    pub fn element_arg(el: &Element) -> Value {
        el.json()
    }

    pub async fn page_source(&self) -> Result<String> {
        let v = self.cmd(Method::GET, "/source", None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// A PNG of the current window.
    pub async fn screenshot_png(&self) -> Result<Vec<u8>> {
        let v = self.cmd(Method::GET, "/screenshot", None).await?;
        let b64 = v.as_str().ok_or_else(|| anyhow!("screenshot was not a string"))?;
        let png = base64::engine::general_purpose::STANDARD.decode(b64).context("decoding the screenshot")?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            bail!("the screenshot is not a PNG ({} bytes)", png.len());
        }
        Ok(png)
    }

    /// Saves a PNG of the current window to `path` (parent directories are created).
    pub async fn save_screenshot(&self, path: &Path) -> Result<()> {
        let png = self.screenshot_png().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// Waits for an element matching `css` to exist.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        wait_until(&format!("an element matching `{css}`"), timeout, async || Ok(Some(self.find(css).await?))).await
    }

    /// Waits for a displayed element matching `css`.
    pub async fn wait_for_visible(&self, css: &str, timeout: Duration) -> Result<Element> {
        wait_until(&format!("a visible element matching `{css}`"), timeout, async || {
            let el = self.find(css).await?;
            Ok(self.is_displayed(&el).await?.then_some(el))
        })
        .await
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str, timeout: Duration) -> Result<()> {
        wait_until(&format!("no element matching `{css}`"), timeout, async || {
            Ok(self.find_all(css).await?.is_empty().then_some(()))
        })
        .await
    }
}

/// Polls `probe` until it yields `Some`, or fails after `timeout`.
/// Transient WebDriver errors (no such element, stale reference...) count as "not yet".
pub async fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Result<Option<T>>,
) -> Result<T> {
    let started = Instant::now();
    let mut last_transient: Option<String>;
    loop {
        match probe().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => last_transient = None,
            Err(e) if is_transient(&e) => last_transient = Some(format!("{e:#}")),
            Err(e) => return Err(e.context(format!("while waiting for {what}"))),
        }
        if started.elapsed() >= timeout {
            let last = last_transient.map(|e| format!(" (last error: {e})")).unwrap_or_default();
            bail!("timed out after {timeout:?} waiting for {what}{last}");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn send(http: &reqwest::Client, method: Method, url: &str, body: Option<Value>) -> Result<Value> {
    let command = format!("{method} {}", url.split_once("/session").map(|(_, p)| p).unwrap_or(url));
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("WebDriver `{command}`: no answer"))?;
    let status = resp.status();
    let text = resp.text().await.with_context(|| format!("WebDriver `{command}`: reading the answer"))?;
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let value = parsed.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() {
        let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let message = if value.is_object() { field("message") } else { text.chars().take(500).collect() };
        return Err(WdError { http_status: status.as_u16(), error: field("error"), message, command }.into());
    }
    Ok(value)
}
