//! The UI contract in one place: selectors (`sel`) and the page actions built on them.
//! When the UI changes its data-testid attributes, fix them here only.

use crate::harness::App;
use crate::webdriver::{wait_until, Element, WebDriver};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::time::Duration;

/// CSS selectors for the data-testid contract.
pub mod sel {
    /// `[data-testid="ID"]`
    pub fn tid(id: &str) -> String {
        format!("[data-testid=\"{}\"]", css_escape(id))
    }

    /// The pages reachable from the navigation (nav-NAME opens page-NAME).
    pub const PAGES: &[&str] =
        &["dashboard", "connections", "contifico", "omie", "erpnext", "divergences", "jobs", "settings"];

    pub fn nav(page: &str) -> String {
        tid(&format!("nav-{page}"))
    }

    pub fn page(page: &str) -> String {
        tid(&format!("page-{page}"))
    }

    // Connections page.
    pub const ADD_CONNECTION: &str = r#"[data-testid="add-connection"]"#;
    pub const CONN_NAME: &str = r#"[data-testid="conn-name"]"#;
    pub const CONN_KIND: &str = r#"[data-testid="conn-kind"]"#;
    pub const CONN_BASE_URL: &str = r#"[data-testid="conn-base-url"]"#;
    pub const CONN_KEY: &str = r#"[data-testid="conn-key"]"#;
    pub const CONN_SECRET: &str = r#"[data-testid="conn-secret"]"#;
    pub const CONN_TIMEZONE: &str = r#"[data-testid="conn-timezone"]"#;
    pub const CONN_SAVE: &str = r#"[data-testid="conn-save"]"#;
    pub const FORM_ERROR: &str = r#"[data-testid="form-error"]"#;
    pub const CONNECTION_ROW: &str = r#"[data-testid="connection-row"]"#;
    pub const CONN_TEST: &str = r#"[data-testid="conn-test"]"#;
    pub const CONN_EDIT: &str = r#"[data-testid="conn-edit"]"#;
    pub const CONN_DELETE: &str = r#"[data-testid="conn-delete"]"#;
    pub const CONN_STATUS: &str = r#"[data-testid="conn-status"]"#;

    /// The row of the connection called `name` (attribute `data-name`).
    pub fn connection_row(name: &str) -> String {
        format!("{CONNECTION_ROW}[data-name=\"{}\"]", css_escape(name))
    }

    // Jobs page.
    pub const JOB_ROW: &str = r#"[data-testid="job-row"]"#;
    pub const JOB_DETAIL: &str = r#"[data-testid="job-detail"]"#;
    pub const JOB_ERROR: &str = r#"[data-testid="job-error"]"#;
    pub const JOB_LOG_LINE: &str = r#"[data-testid="job-log-line"]"#;

    /// Job rows of one kind for one connection (attributes `data-kind`, `data-connection`).
    pub fn job_rows(kind: &str, connection: &str) -> String {
        format!("{JOB_ROW}[data-kind=\"{}\"][data-connection=\"{}\"]", css_escape(kind), css_escape(connection))
    }

    /// `data-kind` of the job a connection test starts.
    pub const KIND_TEST_CONNECTION: &str = "test_connection";
    /// `data-status` values that end a job.
    pub const TERMINAL_STATUSES: &[&str] = &["succeeded", "failed", "cancelled"];

    // Dashboard.
    pub const START_DEMO: &str = r#"[data-testid="start-demo"]"#;
    /// The connections demo mode creates.
    pub const DEMO_CONNECTIONS: &[&str] = &["Demo Omie", "Demo Contífico", "Demo ERPNext A", "Demo ERPNext B"];

    /// Escapes a value for use inside a double-quoted CSS string.
    pub fn css_escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' => out.push_str("\\a "),
                _ => out.push(c),
            }
        }
        out
    }
}

/// Default wait for UI reactions.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);
/// Wait for a job against the simulators to end.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// What goes into the connection form.
#[derive(Clone, Debug)]
pub struct NewConnection {
    pub name: String,
    /// `omie`, `contifico` or `erpnext`.
    pub kind: String,
    pub base_url: String,
    pub key: String,
    pub secret: String,
    /// IANA zone, e.g. America/Guayaquil; `None` leaves the form's default.
    pub timezone: Option<String>,
}

/// A job row once it has reached a terminal status.
#[derive(Clone, Debug)]
pub struct JobOutcome {
    pub status: String,
    pub row: Element,
}

/// The job detail panel's content.
#[derive(Clone, Debug)]
pub struct JobDetail {
    pub error: String,
    pub log_lines: Vec<String>,
}

impl App {
    /// Clicks `nav-PAGE` and waits for `page-PAGE`.
    pub async fn goto(&self, page: &str) -> Result<()> {
        let nav = self.wd.wait_for(&sel::nav(page), UI_TIMEOUT).await?;
        self.wd.click(&nav).await?;
        self.wd.wait_for(&sel::page(page), UI_TIMEOUT).await.with_context(|| format!("opening the {page} page"))?;
        Ok(())
    }

    /// Fills and saves the "add connection" form; waits for the new row (or fails with the form error).
    pub async fn add_connection(&self, c: &NewConnection) -> Result<()> {
        self.goto("connections").await?;
        let add = self.wd.wait_for(sel::ADD_CONNECTION, UI_TIMEOUT).await?;
        self.wd.click(&add).await?;
        // Kind first: changing it may reset other fields to per-kind defaults.
        let kind = self.wd.wait_for(sel::CONN_KIND, UI_TIMEOUT).await?;
        set_field(&self.wd, &kind, &c.kind).await?;
        for (css, value) in [
            (sel::CONN_NAME, &c.name),
            (sel::CONN_BASE_URL, &c.base_url),
            (sel::CONN_KEY, &c.key),
            (sel::CONN_SECRET, &c.secret),
        ] {
            let el = self.wd.wait_for(css, UI_TIMEOUT).await?;
            set_field(&self.wd, &el, value).await?;
        }
        if let Some(tz) = &c.timezone {
            let el = self.wd.wait_for(sel::CONN_TIMEZONE, UI_TIMEOUT).await?;
            set_field(&self.wd, &el, tz).await?;
        }
        let save = self.wd.find(sel::CONN_SAVE).await?;
        self.wd.click(&save).await?;
        let row_css = sel::connection_row(&c.name);
        let wd = &self.wd;
        wait_until(&format!("the row of connection `{}` after saving", c.name), UI_TIMEOUT, async || {
            if !wd.find_all(&row_css).await?.is_empty() {
                return Ok(Some(()));
            }
            for err in wd.find_all(sel::FORM_ERROR).await? {
                let text = wd.text(&err).await?;
                if !text.trim().is_empty() {
                    bail!("saving connection `{}` failed; the form says: {}", c.name, text.trim());
                }
            }
            Ok(None)
        })
        .await
    }

    /// Clicks `conn-test` in the row of connection `name`.
    pub async fn test_connection(&self, name: &str) -> Result<()> {
        self.goto("connections").await?;
        let row = self.wd.wait_for(&sel::connection_row(name), UI_TIMEOUT).await?;
        let button = self.wd.find_in(&row, sel::CONN_TEST).await?;
        self.wd.click(&button).await
    }

    /// The `conn-status` text in the row of connection `name`, once it is non-empty.
    pub async fn connection_status(&self, name: &str) -> Result<String> {
        self.goto("connections").await?;
        let row_css = sel::connection_row(name);
        let wd = &self.wd;
        wait_until(&format!("a non-empty conn-status for `{name}`"), UI_TIMEOUT, async || {
            let row = wd.find(&row_css).await?;
            let status = wd.find_in(&row, sel::CONN_STATUS).await?;
            let text = wd.text(&status).await?;
            Ok((!text.trim().is_empty()).then(|| text.trim().to_string()))
        })
        .await
    }

    /// The `data-name` of every connection row.
    pub async fn connection_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for row in self.wd.find_all(sel::CONNECTION_ROW).await? {
            names.push(self.wd.attr(&row, "data-name").await?.unwrap_or_default());
        }
        Ok(names)
    }

    /// Opens the Jobs page and waits until a job of `kind` for `connection` reaches a terminal status.
    pub async fn wait_job(&self, kind: &str, connection: &str) -> Result<JobOutcome> {
        self.goto("jobs").await?;
        let css = sel::job_rows(kind, connection);
        let wd = &self.wd;
        let mut seen = String::from("no row yet");
        let res = wait_until(&format!("a finished `{kind}` job for `{connection}`"), JOB_TIMEOUT, async || {
            let rows = wd.find_all(&css).await?;
            let mut statuses = Vec::new();
            for row in rows {
                let status = wd.attr(&row, "data-status").await?.unwrap_or_default();
                if sel::TERMINAL_STATUSES.contains(&status.as_str()) {
                    return Ok(Some(JobOutcome { status, row }));
                }
                statuses.push(status);
            }
            if !statuses.is_empty() {
                seen = format!("rows with data-status {statuses:?}");
            }
            Ok(None)
        })
        .await;
        res.with_context(|| format!("last seen: {seen}"))
    }

    /// Clicks a job row and reads `job-error` and the `job-log-line`s of `job-detail`.
    pub async fn open_job(&self, row: &Element) -> Result<JobDetail> {
        // Click a cell like a user would: WebKitWebDriver reports a <tr> itself as "not interactable".
        let target = match self.wd.find_all_in(row, "td").await?.into_iter().next() {
            Some(cell) => cell,
            None => row.clone(),
        };
        self.wd.click(&target).await?;
        let detail = self.wd.wait_for_visible(sel::JOB_DETAIL, UI_TIMEOUT).await?;
        let wd = &self.wd;
        // The detail may load asynchronously: wait for the error text or log lines to show up.
        wait_until("job-error text or job-log-line elements in job-detail", UI_TIMEOUT, async || {
            let mut error = String::new();
            for e in wd.find_all_in(&detail, sel::JOB_ERROR).await? {
                error.push_str(wd.text(&e).await?.trim());
            }
            let mut log_lines = Vec::new();
            for l in wd.find_all_in(&detail, sel::JOB_LOG_LINE).await? {
                log_lines.push(wd.text(&l).await?);
            }
            Ok((!error.is_empty() || !log_lines.is_empty()).then_some(JobDetail { error, log_lines }))
        })
        .await
    }
}

/// Sets an input, textarea or select to `value` and checks that it took.
pub async fn set_field(wd: &WebDriver, el: &Element, value: &str) -> Result<()> {
    if wd.tag_name(el).await? == "select" {
        return set_select(wd, el, value).await;
    }
    wd.clear(el).await?;
    wd.send_keys(el, value).await?;
    if current_value(wd, el).await? == value {
        return Ok(());
    }
    // Typing can fall short (characters without a key on the layout, input masks):
    // set the value the way React notices, through the native setter plus an input event.
    let script = "const [el, v] = arguments;\
        const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;\
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);\
        el.dispatchEvent(new Event('input', { bubbles: true }));\
        el.dispatchEvent(new Event('change', { bubbles: true }));\
        return el.value;";
    wd.execute(script, vec![WebDriver::element_arg(el), Value::from(value)]).await?;
    let got = current_value(wd, el).await?;
    if got != value {
        bail!("{} holds {got:?} after setting it to {value:?}", el.selector);
    }
    Ok(())
}

async fn set_select(wd: &WebDriver, el: &Element, value: &str) -> Result<()> {
    let option_css = format!("option[value=\"{}\"]", sel::css_escape(value));
    let option = wd
        .find_in(el, &option_css)
        .await
        .with_context(|| format!("{} has no option with value {value:?}", el.selector))?;
    wd.click(&option).await?;
    if current_value(wd, el).await? == value {
        return Ok(());
    }
    let script = "const [el, v] = arguments;\
        Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, v);\
        el.dispatchEvent(new Event('change', { bubbles: true }));\
        return el.value;";
    wd.execute(script, vec![WebDriver::element_arg(el), Value::from(value)]).await?;
    let got = current_value(wd, el).await?;
    if got != value {
        bail!("{} selects {got:?} after choosing {value:?}", el.selector);
    }
    Ok(())
}

async fn current_value(wd: &WebDriver, el: &Element) -> Result<String> {
    Ok(wd.prop(el, "value").await?.as_str().unwrap_or_default().to_string())
}
