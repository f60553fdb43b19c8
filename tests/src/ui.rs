//! The UI contract in one place: selectors (`sel`) and the page actions built on them.
//! When the UI changes its data-testid attributes, fix them here only.

use crate::harness::App;
use crate::webdriver::{wait_until, Element, WebDriver};
use anyhow::{anyhow, bail, Context, Result};
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

    // Contífico page.
    pub const CONTIFICO_CONNECTION: &str = r#"[data-testid="contifico-connection"]"#;
    pub const CONTIFICO_CONNECTION_NAME: &str = r#"[data-testid="contifico-connection-name"]"#;
    pub const SYNC_NOW: &str = r#"[data-testid="sync-now"]"#;
    pub const SYNC_ERROR: &str = r#"[data-testid="sync-error"]"#;
    pub const SYNC_RESULT: &str = r#"[data-testid="sync-result"]"#;
    pub const SUMMARY_REWIND: &str = r#"[data-testid="summary-rewind"]"#;
    pub const REWIND_DIALOG: &str = r#"[data-testid="rewind-dialog"]"#;
    pub const REWIND_PREVIEW: &str = r#"[data-testid="rewind-preview"]"#;
    pub const REWIND_ESTIMATE: &str = r#"[data-testid="rewind-estimate"]"#;
    pub const SYNC_RESULT_COUNTS: &str = r#"[data-testid="sync-result-counts"]"#;
    pub const SYNC_RESULT_ERROR: &str = r#"[data-testid="sync-result-error"]"#;
    pub const CONTIFICO_SUMMARY: &str = r#"[data-testid="contifico-summary"]"#;
    pub const SUMMARY_ROW: &str = r#"[data-testid="summary-row"]"#;
    pub const SUMMARY_RECORDS: &str = r#"[data-testid="summary-records"]"#;
    pub const CONTIFICO_BROWSER: &str = r#"[data-testid="contifico-browser"]"#;
    pub const BROWSE_RESOURCE: &str = r#"[data-testid="browse-resource"]"#;
    pub const BROWSE_SEARCH: &str = r#"[data-testid="browse-search"]"#;
    pub const BROWSE_TOTAL: &str = r#"[data-testid="browse-total"]"#;
    pub const BROWSE_ROW: &str = r#"[data-testid="browse-row"]"#;
    pub const SYNC_HISTORY: &str = r#"[data-testid="sync-history"]"#;
    pub const SYNC_RUN: &str = r#"[data-testid="sync-run"]"#;
    /// `data-kind` of a Contífico sync job (and the schedule kind that starts one).
    pub const KIND_SYNC_CONTIFICO: &str = "sync_contifico";

    /// The checkbox that picks one Contífico resource for "Sync now" (e.g. `personas`).
    pub fn sync_resource(name: &str) -> String {
        tid(&format!("sync-resource-{name}"))
    }

    /// A tab of the Contífico page: `overview`, `browse`, `history` or `quarantine`.
    pub fn contifico_tab(view: &str) -> String {
        tid(&format!("contifico-tab-{view}"))
    }

    /// The summary row of one resource (attribute `data-resource`).
    pub fn summary_row(resource: &str) -> String {
        format!("{SUMMARY_ROW}[data-resource=\"{}\"]", css_escape(resource))
    }

    /// The browser's cell of column `column` in a row (the table names its cells `col-c_<column>`).
    pub fn browse_cell(column: &str) -> String {
        format!("td.col-c_{column}")
    }

    // Jobs & Logs → Schedules.
    pub const JOBS_TAB_LIST: &str = r#"[data-testid="jobs-tab-list"]"#;
    pub const JOBS_TAB_SCHEDULES: &str = r#"[data-testid="jobs-tab-schedules"]"#;
    pub const PAGE_SCHEDULES: &str = r#"[data-testid="page-schedules"]"#;
    pub const SCHEDULE_ADD: &str = r#"[data-testid="schedule-add"]"#;
    pub const SCHEDULE_FORM: &str = r#"[data-testid="schedule-form"]"#;
    pub const SCHEDULE_NAME: &str = r#"[data-testid="schedule-name"]"#;
    pub const SCHEDULE_KIND: &str = r#"[data-testid="schedule-kind"]"#;
    pub const SCHEDULE_CONNECTION: &str = r#"[data-testid="schedule-connection"]"#;
    pub const SCHEDULE_MODE_INTERVAL: &str = r#"[data-testid="schedule-mode-interval"]"#;
    pub const SCHEDULE_EVERY: &str = r#"[data-testid="schedule-every"]"#;
    pub const SCHEDULE_SAVE: &str = r#"[data-testid="schedule-save"]"#;
    pub const SCHEDULE_ROW: &str = r#"[data-testid="schedule-row"]"#;
    pub const SCHEDULE_HISTORY: &str = r#"[data-testid="schedule-history"]"#;
    pub const SCHEDULE_RUN: &str = r#"[data-testid="schedule-run"]"#;
    /// In a schedule's row: the `<time>` of its next occurrence (`datetime`: RFC 3339, UTC).
    pub const SCHEDULE_NEXT: &str = r#"[data-testid="schedule-next"]"#;
    /// In a history line: the link to the job the run started (`href` `#/jobs/<id>`).
    pub const SCHEDULE_RUN_JOB: &str = r#"[data-testid="schedule-run-job"]"#;
    pub const SCHEDULES_PAUSE_ALL: &str = r#"[data-testid="schedules-pause-all"]"#;
    pub const SCHEDULES_DEFAULTS: &str = r#"[data-testid="schedules-defaults"]"#;
    /// Field errors of the schedule form are `schedule-error-<field>`.
    pub const SCHEDULE_FIELD_ERROR: &str = r#"[data-testid^="schedule-error-"]"#;

    /// The row of the schedule called `name` (attribute `data-name`).
    pub fn schedule_row(name: &str) -> String {
        format!("{SCHEDULE_ROW}[data-name=\"{}\"]", css_escape(name))
    }

    // Dashboard.
    pub const START_DEMO: &str = r#"[data-testid="start-demo"]"#;
    pub const SYNC_ALL_NOW: &str = r#"[data-testid="sync-all-now"]"#;
    pub const SYNC_ALL_RESULT: &str = r#"[data-testid="sync-all-result"]"#;
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

impl NewConnection {
    /// An Omie company on the test's own simulator, with its made-up keys, in Brazil's zone.
    pub fn omie(name: &str, sim: &backoffice_sim::SimHandle) -> NewConnection {
        let creds = backoffice_sim::SimCredentials::default();
        NewConnection {
            name: name.into(),
            kind: "omie".into(),
            base_url: sim.omie.clone(),
            key: creds.omie_app_key,
            secret: creds.omie_app_secret,
            timezone: Some("America/Sao_Paulo".into()),
        }
    }
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
        // The navigation may re-render between finding its link and clicking it (a badge updates
        // when a job reports): find it again then.
        let wd = &self.wd;
        wait_until(&format!("a click on the {page} link"), UI_TIMEOUT, async || {
            let nav = wd.wait_for(&sel::nav(page), UI_TIMEOUT).await?;
            wd.click(&nav).await?;
            Ok(Some(()))
        })
        .await?;
        if let Err(e) = self.wd.wait_for(&sel::page(page), UI_TIMEOUT).await {
            // A screen that failed to draw says why (ScreenErrorBoundary); name it in the failure.
            let why = match self.wd.find_all("[data-testid=\"screen-error-detail\"]").await?.into_iter().next() {
                Some(el) => self.wd.text_content(&el).await.unwrap_or_default(),
                None => String::new(),
            };
            return Err(e).with_context(|| format!("opening the {page} page {why}"));
        }
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

/// A finished Contífico sync as the sync panel shows it (`sync-result`).
#[derive(Clone, Debug)]
pub struct SyncResult {
    pub job_id: String,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// The `sync-result-counts` line.
    pub counts: String,
    /// The `sync-result-error` text, if any.
    pub error: String,
}

/// What goes into the schedule form (interval mode).
#[derive(Clone, Debug)]
pub struct NewSchedule {
    pub name: String,
    /// Job kind, e.g. [`sel::KIND_SYNC_CONTIFICO`].
    pub kind: String,
    /// The connection's name as the form lists it.
    pub connection: String,
    pub every_minutes: u32,
}

/// One line of the schedules' run history (`schedule-run`).
#[derive(Clone, Debug)]
pub struct ScheduleRun {
    /// `started`, `skipped_overlap`, `skipped_missed` or `failed_to_start`.
    pub outcome: String,
    /// `schedule` (the clock) or `manual` (run now).
    pub trigger: String,
    /// The status badge of the job the run started, if any.
    pub job_status: Option<String>,
    /// The occurrence the line is about (the `datetime` of its `<time>`, RFC 3339).
    pub due_at: Option<String>,
    /// The id of the job the run started (from its link), if any.
    pub job_id: Option<String>,
    /// The row's visible text, for messages.
    pub text: String,
}

impl App {
    /// Opens the Contífico page on connection `connection` (picked in the selector when there are
    /// several) and waits for the sync panel.
    pub async fn open_contifico(&self, connection: &str) -> Result<()> {
        self.goto("contifico").await?;
        let wd = &self.wd;
        wait_until(&format!("the Contífico page showing connection `{connection}`"), UI_TIMEOUT, async || {
            if let Some(select) = wd.find_all(sel::CONTIFICO_CONNECTION).await?.into_iter().next() {
                set_select_by_text(wd, &select, connection).await?;
                return Ok(Some(()));
            }
            if let Some(chip) = wd.find_all(sel::CONTIFICO_CONNECTION_NAME).await?.into_iter().next() {
                let shown = wd.text_content(&chip).await?;
                if shown.trim().is_empty() {
                    return Ok(None);
                }
                if !shown.contains(connection) {
                    bail!("the Contífico page shows connection {:?}, not `{connection}`", shown.trim());
                }
                return Ok(Some(()));
            }
            Ok(None)
        })
        .await?;
        self.contifico_tab("overview").await?;
        self.wd.wait_for(sel::SYNC_NOW, UI_TIMEOUT).await?;
        Ok(())
    }

    /// Clicks a tab of the Contífico page and waits for the page to show that view.
    pub async fn contifico_tab(&self, view: &str) -> Result<()> {
        let tab = self.wd.wait_for(&sel::contifico_tab(view), UI_TIMEOUT).await?;
        self.wd.click(&tab).await?;
        self.wd
            .wait_for(&format!("{}[data-view=\"{view}\"]", sel::page("contifico")), UI_TIMEOUT)
            .await
            .with_context(|| format!("opening the Contífico `{view}` tab"))?;
        Ok(())
    }

    /// On the Contífico overview: ticks `resources` (none = all), clicks Sync now and waits (up to
    /// `timeout`) for the result of the job it started.
    pub async fn contifico_sync(&self, resources: &[&str], timeout: Duration) -> Result<SyncResult> {
        let wd = &self.wd;
        wd.wait_for(sel::CONTIFICO_SUMMARY, UI_TIMEOUT).await.context("the summary of the Contífico page")?;
        // The panel shows the latest finished sync on opening: the new one must have another job id.
        let before = match wd.find_all(sel::SYNC_RESULT).await?.into_iter().next() {
            Some(el) => wd.attr(&el, "data-job-id").await?,
            None => None,
        };
        for r in resources {
            let cb = wd.wait_for(&sel::sync_resource(r), UI_TIMEOUT).await?;
            if wd.prop(&cb, "checked").await?.as_bool() != Some(true) {
                wd.click(&cb).await?;
            }
            if wd.prop(&cb, "checked").await?.as_bool() != Some(true) {
                bail!("the checkbox of resource `{r}` did not tick");
            }
        }
        let now = wd.wait_for(sel::SYNC_NOW, UI_TIMEOUT).await?;
        wd.click(&now).await?;
        let mut seen = String::from("nothing yet");
        let res = wait_until("the result of the sync just started", timeout, async || {
            for e in wd.find_all(sel::SYNC_ERROR).await? {
                let text = wd.text(&e).await?;
                if !text.trim().is_empty() {
                    bail!("Sync now was refused: {}", text.trim());
                }
            }
            if let Some(p) = wd.find_all("[data-testid=\"sync-progress\"]").await?.into_iter().next() {
                seen = format!("sync-progress {:?}", wd.attr(&p, "data-status").await?);
            }
            let Some(el) = wd.find_all(sel::SYNC_RESULT).await?.into_iter().next() else { return Ok(None) };
            let job_id = wd.attr(&el, "data-job-id").await?.unwrap_or_default();
            if job_id.is_empty() || Some(&job_id) == before.as_ref() {
                return Ok(None);
            }
            let status = wd.attr(&el, "data-status").await?.unwrap_or_default();
            let counts = match wd.find_all_in(&el, sel::SYNC_RESULT_COUNTS).await?.into_iter().next() {
                Some(c) => wd.text(&c).await?.trim().to_string(),
                None => String::new(),
            };
            let mut error = String::new();
            for e in wd.find_all_in(&el, sel::SYNC_RESULT_ERROR).await? {
                error.push_str(wd.text(&e).await?.trim());
            }
            Ok(Some(SyncResult { job_id, status, counts, error }))
        })
        .await;
        res.with_context(|| format!("last seen: {seen}"))
    }

    /// The record count the summary shows for `resource` (`summary-records` `data-value`).
    pub async fn summary_records(&self, resource: &str) -> Result<i64> {
        let row = self.wd.find(&sel::summary_row(resource)).await?;
        let cell = self.wd.find_in(&row, sel::SUMMARY_RECORDS).await?;
        let v = self.wd.attr(&cell, "data-value").await?.unwrap_or_default();
        v.parse().with_context(|| format!("summary-records of `{resource}` has data-value {v:?}"))
    }

    /// Waits until the summary shows `want` records for `resource` (it reloads after a sync ends).
    pub async fn wait_summary_records(&self, resource: &str, want: i64) -> Result<()> {
        let mut last = None;
        let res = wait_until(&format!("{want} records in the summary row of `{resource}`"), UI_TIMEOUT, async || {
            let got = self.summary_records(resource).await?;
            last = Some(got);
            Ok((got == want).then_some(()))
        })
        .await;
        res.with_context(|| format!("the summary last showed {last:?} records for `{resource}`"))
    }

    /// Opens Browse on the Contífico page and picks `resource`.
    pub async fn contifico_browse(&self, resource: &str) -> Result<()> {
        self.contifico_tab("browse").await?;
        let wd = &self.wd;
        let browser = wd.wait_for(sel::CONTIFICO_BROWSER, UI_TIMEOUT).await?;
        let shown = format!("{}[data-resource=\"{}\"]", sel::CONTIFICO_BROWSER, sel::css_escape(resource));
        if wd.attr(&browser, "data-resource").await?.as_deref() != Some(resource) {
            // Choosing a resource navigates and remounts the browser, so the select goes stale at
            // once: pick the option, then look for the new browser rather than at the old select.
            let select = wd.wait_for(sel::BROWSE_RESOURCE, UI_TIMEOUT).await?;
            let option = wd
                .find_in(&select, &format!("option[value=\"{}\"]", sel::css_escape(resource)))
                .await
                .with_context(|| format!("browse-resource offers no `{resource}`"))?;
            wd.click(&option).await?;
            if wd.wait_for(&shown, Duration::from_secs(3)).await.is_err() {
                let select = wd.find(sel::BROWSE_RESOURCE).await?;
                set_select(wd, &select, resource).await?;
            }
        }
        wd.wait_for(&shown, UI_TIMEOUT).await.with_context(|| format!("browsing `{resource}`"))?;
        Ok(())
    }

    /// The browser's total (`browse-total` `data-total`), once it has loaded.
    pub async fn browse_total(&self) -> Result<i64> {
        let wd = &self.wd;
        wait_until("browse-total to load", UI_TIMEOUT, async || {
            let el = wd.find(sel::BROWSE_TOTAL).await?;
            let v = wd.attr(&el, "data-total").await?.unwrap_or_default();
            Ok(v.parse::<i64>().ok())
        })
        .await
    }

    /// `data-id` of every `browse-row` rendered.
    pub async fn browse_row_ids(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        for row in self.wd.find_all(sel::BROWSE_ROW).await? {
            ids.push(self.wd.attr(&row, "data-id").await?.unwrap_or_default());
        }
        Ok(ids)
    }

    /// Opens Jobs & Logs → Schedules.
    pub async fn open_schedules(&self) -> Result<()> {
        self.goto("jobs").await?;
        let tab = self.wd.wait_for(sel::JOBS_TAB_SCHEDULES, UI_TIMEOUT).await?;
        self.wd.click(&tab).await?;
        self.wd.wait_for(sel::PAGE_SCHEDULES, UI_TIMEOUT).await.context("opening Jobs & Logs → Schedules")?;
        Ok(())
    }

    /// Fills and saves the "add schedule" form (interval mode); waits for the new row.
    pub async fn add_interval_schedule(&self, s: &NewSchedule) -> Result<()> {
        self.open_schedules().await?;
        let wd = &self.wd;
        let add = wd.wait_for(sel::SCHEDULE_ADD, UI_TIMEOUT).await?;
        wd.click(&add).await?;
        let form = wd.wait_for(sel::SCHEDULE_FORM, UI_TIMEOUT).await?;
        // Kind first: it decides which connections are offered.
        let kind = wd.find_in(&form, sel::SCHEDULE_KIND).await?;
        set_field(wd, &kind, &s.kind).await?;
        let connection = wd.find_in(&form, sel::SCHEDULE_CONNECTION).await?;
        set_select_by_text(wd, &connection, &s.connection).await?;
        let name = wd.find_in(&form, sel::SCHEDULE_NAME).await?;
        set_field(wd, &name, &s.name).await?;
        let interval = wd.find_in(&form, sel::SCHEDULE_MODE_INTERVAL).await?;
        if wd.prop(&interval, "checked").await?.as_bool() != Some(true) {
            wd.click(&interval).await?;
        }
        let every = wd.wait_for(sel::SCHEDULE_EVERY, UI_TIMEOUT).await?;
        set_field(wd, &every, &s.every_minutes.to_string()).await?;
        let save = wd.find_in(&form, sel::SCHEDULE_SAVE).await?;
        wd.click(&save).await?;
        let row_css = sel::schedule_row(&s.name);
        wait_until(&format!("the row of schedule `{}` after saving", s.name), UI_TIMEOUT, async || {
            if !wd.find_all(&row_css).await?.is_empty() {
                return Ok(Some(()));
            }
            let mut errors = Vec::new();
            for css in [sel::SCHEDULE_FIELD_ERROR, sel::FORM_ERROR] {
                for e in wd.find_all(css).await? {
                    let text = wd.text(&e).await?;
                    if !text.trim().is_empty() {
                        errors.push(text.trim().to_string());
                    }
                }
            }
            if !errors.is_empty() {
                bail!("saving schedule `{}` failed; the form says: {}", s.name, errors.join(" | "));
            }
            Ok(None)
        })
        .await
    }

    /// The lines of the schedules' run history as shown now.
    pub async fn schedule_runs(&self) -> Result<Vec<ScheduleRun>> {
        let mut out = Vec::new();
        for row in self.wd.find_all(sel::SCHEDULE_RUN).await? {
            let outcome = self.wd.attr(&row, "data-outcome").await?.unwrap_or_default();
            let trigger = self.wd.attr(&row, "data-trigger").await?.unwrap_or_default();
            let job_status = match self.wd.find_all_in(&row, "[data-status]").await?.into_iter().next() {
                Some(b) => self.wd.attr(&b, "data-status").await?,
                None => None,
            };
            let due_at = match self.wd.find_all_in(&row, "time[datetime]").await?.into_iter().next() {
                Some(t) => self.wd.attr(&t, "datetime").await?,
                None => None,
            };
            let job_id = match self.wd.find_all_in(&row, sel::SCHEDULE_RUN_JOB).await?.into_iter().next() {
                Some(a) => self.wd.attr(&a, "href").await?.and_then(|h| Some(h.rsplit_once("/jobs/")?.1.to_string())),
                None => None,
            };
            let text = self.wd.text(&row).await?.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(ScheduleRun { outcome, trigger, job_status, due_at, job_id, text });
        }
        Ok(out)
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 instant, as the UI writes them in `datetime`
/// attributes (`2025-03-01T12:00:00.000Z`; an offset such as `-03:00` is also read), so instants
/// the app recorded can be put in order whatever their format.
pub fn instant_ms(s: &str) -> Result<i64> {
    let bad = || anyhow!("`{s}` is not an RFC 3339 instant");
    let num = |part: Option<&str>| -> Result<i64> { part.and_then(|p| p.parse().ok()).ok_or_else(bad) };
    let (date, time) = s.trim().split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next())?, num(d.next())?, num(d.next())?);
    let (clock, offset_min) = match time.strip_suffix(['Z', 'z']) {
        Some(clock) => (clock, 0),
        None => {
            let (clock, offset) = time.split_at(time.rfind(['+', '-']).ok_or_else(bad)?);
            let (oh, om) = offset[1..].split_once(':').ok_or_else(bad)?;
            let minutes = num(Some(oh))? * 60 + num(Some(om))?;
            (clock, if offset.starts_with('-') { -minutes } else { minutes })
        }
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':');
    let (hour, minute, second) = (num(t.next())?, num(t.next())?, num(t.next())?);
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let millis = num(Some(&format!("{fraction:0<3}")[..3]))?;
    // Days from 1970-01-01 to the civil date (H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Ok((((days * 24 + hour) * 60 + minute - offset_min) * 60 + second) * 1000 + millis)
}

/// Picks the option of a `<select>` whose text is `text`, or else the one option whose text starts
/// with `text` and a separator (lists may add details: "Quito — Contífico").
pub async fn set_select_by_text(wd: &WebDriver, el: &Element, text: &str) -> Result<()> {
    let mut offered = Vec::new();
    for option in wd.find_all_in(el, "option").await? {
        // `text` is the option's label even while the list is closed (the rendered text may be empty).
        let label = wd.prop(&option, "text").await?.as_str().unwrap_or_default().trim().to_string();
        let value = wd.prop(&option, "value").await?.as_str().unwrap_or_default().to_string();
        offered.push((label, value));
    }
    let exact: Vec<&(String, String)> = offered.iter().filter(|(l, _)| l == text).collect();
    let starts: Vec<&(String, String)> = offered
        .iter()
        .filter(|(l, _)| l.strip_prefix(text).is_some_and(|rest| rest.starts_with(|c: char| !c.is_alphanumeric())))
        .collect();
    match (exact.as_slice(), starts.as_slice()) {
        ([(_, value)], _) | ([], [(_, value)]) => set_select(wd, el, value).await,
        _ => {
            let labels: Vec<&str> = offered.iter().map(|(l, _)| l.as_str()).collect();
            bail!("{} has no single option `{text}`; it offers {labels:?}", el.selector)
        }
    }
}

/// Sets an input, textarea or select to `value` and checks that it took.
pub async fn set_field(wd: &WebDriver, el: &Element, value: &str) -> Result<()> {
    if wd.tag_name(el).await? == "select" {
        return set_select(wd, el, value).await;
    }
    wd.clear(el).await?;
    // WebKitWebDriver refuses to type an empty text ("Missing text parameter"): clearing is all.
    if !value.is_empty() {
        wd.send_keys(el, value).await?;
    }
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

#[cfg(test)]
mod tests {
    use super::instant_ms;

    #[test]
    fn instants_in_order_whatever_their_format() {
        assert_eq!(instant_ms("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(instant_ms("2025-03-01T12:00:00.000Z").unwrap(), 1_740_830_400_000);
        assert_eq!(instant_ms("2025-03-01T09:00:00.250-03:00").unwrap(), 1_740_830_400_250);
        assert_eq!(instant_ms("2024-02-29T23:59:59.9999+00:00").unwrap(), 1_709_251_199_999);
        assert!(instant_ms("2025-03-01").is_err());
        assert!(instant_ms("2025-03-01T12:00:00.x1Z").is_err());
    }
}
