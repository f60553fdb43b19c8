//! The data-testid contract and page actions of the Omie page (RF-001 attachments, RF-002 purchase
//! orders) and of the ERPNext page (inter-company transfer form, runs).

use crate::harness::App;
use crate::ui::{set_field, set_select_by_text, UI_TIMEOUT};
use crate::webdriver::{wait_until, Element, WebDriver};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::time::Duration;

/// CSS selectors of the Omie and ERPNext pages.
pub mod sel {
    pub use crate::ui::sel::{css_escape, tid};

    /// A tab of the Omie page: `attachments`, `orders`, `data` or `sync`.
    pub fn omie_tab(tab: &str) -> String {
        tid(&format!("omie-tab-{tab}"))
    }

    // Omie → Attachments (RF-001).
    pub const ATT_FORM: &str = r#"[data-testid="att-transfer-form"]"#;
    pub const ATT_FROM_TABLE: &str = r#"[data-testid="att-from-table"]"#;
    pub const ATT_FROM_ID: &str = r#"[data-testid="att-from-id"]"#;
    pub const ATT_TO_TABLE: &str = r#"[data-testid="att-to-table"]"#;
    pub const ATT_TO_ID: &str = r#"[data-testid="att-to-id"]"#;
    pub const ATT_DRY_RUN: &str = r#"[data-testid="att-dry-run"]"#;
    pub const ATT_TRANSFER: &str = r#"[data-testid="att-transfer"]"#;
    /// The start error of the transfer form (also the error cell of a transfer row, inside it).
    pub const ATT_TRANSFER_ERROR: &str = r#"[data-testid="att-transfer-error"]"#;
    pub const ATT_ACTIVITY: &str = "att-activity";
    pub const ATT_TRANSFERS: &str = r#"[data-testid="att-transfers"]"#;
    pub const ATT_TRANSFER_ROW: &str = r#"[data-testid="att-transfer-row"]"#;
    pub const ATT_TRANSFER_COUNTS: &str = r#"[data-testid="att-transfer-counts"]"#;
    pub const ATT_MAP: &str = r#"[data-testid="att-map"]"#;
    pub const ATT_MAP_ROW: &str = r#"[data-testid="att-map-row"]"#;

    // Omie → Purchase orders (RF-002).
    pub const PO_FORM: &str = r#"[data-testid="po-close-form"]"#;
    pub const PO_ORDER: &str = r#"[data-testid="po-order"]"#;
    pub const PO_ITEM: &str = r#"[data-testid="po-item"]"#;
    pub const PO_INVOICE: &str = r#"[data-testid="po-invoice"]"#;
    pub const PO_INVOICE_ID: &str = r#"[data-testid="po-invoice-id"]"#;
    pub const PO_DRY_RUN: &str = r#"[data-testid="po-dry-run"]"#;
    pub const PO_CLOSE: &str = r#"[data-testid="po-close"]"#;
    pub const PO_CLOSE_ERROR: &str = r#"[data-testid="po-close-error"]"#;
    pub const PO_NOT_CONFIGURED: &str = r#"[data-testid="po-not-configured"]"#;
    pub const PO_CONFIG: &str = r#"[data-testid="po-config"]"#;
    pub const PO_CONFIG_PATH: &str = r#"[data-testid="po-config-path"]"#;
    pub const PO_CONFIG_CALL: &str = r#"[data-testid="po-config-call"]"#;
    pub const PO_CONFIG_TEMPLATE: &str = r#"[data-testid="po-config-template"]"#;
    pub const PO_CONFIG_STATUS: &str = r#"[data-testid="po-config-status"]"#;
    pub const PO_CONFIG_SAVE: &str = r#"[data-testid="po-config-save"]"#;
    pub const PO_CONFIG_SAVED: &str = r#"[data-testid="po-config-saved"]"#;
    pub const PO_CONFIG_ERROR: &str = r#"[data-testid="po-config-error"]"#;
    pub const PO_ACTIVITY: &str = "po-activity";
    pub const PO_CLOSURES: &str = r#"[data-testid="po-closures"]"#;
    pub const PO_CLOSURE_ROW: &str = r#"[data-testid="po-closure-row"]"#;
    pub const PO_CLOSURE_ERROR: &str = r#"[data-testid="po-closure-error"]"#;

    /// The closure row of one order (attribute `data-order`).
    pub fn closure_row(order: &str) -> String {
        format!("{PO_CLOSURE_ROW}[data-order=\"{}\"]", css_escape(order))
    }

    /// Field errors of the Omie forms are `<field id>-error`.
    pub const OMIE_FIELD_ERROR: &str = r#".field-error[data-testid$="-error"]"#;

    // ERPNext → New transfer.
    pub const ERP_TAB_NEW: &str = r#"[data-testid="erpnext-tab-new"]"#;
    pub const ERP_TAB_RUNS: &str = r#"[data-testid="erpnext-tab-runs"]"#;
    pub const TRANSFER_FORM: &str = r#"[data-testid="transfer-form"]"#;
    pub const TR_SITE_A: &str = r#"[data-testid="tr-site-a"]"#;
    pub const TR_SITE_B: &str = r#"[data-testid="tr-site-b"]"#;
    pub const TR_SUPPLIER: &str = r#"[data-testid="tr-supplier"]"#;
    pub const TR_COMPANY_A: &str = r#"[data-testid="tr-company-a"]"#;
    pub const TR_CUSTOMER: &str = r#"[data-testid="tr-customer"]"#;
    pub const TR_WAREHOUSE_A: &str = r#"[data-testid="tr-warehouse-a"]"#;
    pub const TR_SUPPLIER_B: &str = r#"[data-testid="tr-supplier-b"]"#;
    pub const TR_WAREHOUSE_B: &str = r#"[data-testid="tr-warehouse-b"]"#;
    pub const TR_COMPANY_B: &str = r#"[data-testid="tr-company-b"]"#;
    pub const TR_POSTING_DATE: &str = r#"[data-testid="tr-posting-date"]"#;
    pub const TR_ITEM: &str = r#"[data-testid="tr-item"]"#;
    pub const TR_ITEM_CODE: &str = r#"[data-testid="tr-item-code"]"#;
    pub const TR_ITEM_QTY: &str = r#"[data-testid="tr-item-qty"]"#;
    pub const TR_ITEM_RATE: &str = r#"[data-testid="tr-item-rate"]"#;
    pub const TR_ITEM_SERIALS: &str = r#"[data-testid="tr-item-serials"]"#;
    pub const TR_ADD_ITEM: &str = r#"[data-testid="tr-add-item"]"#;
    pub const TR_FIELD_OFFER: &str = r#"[data-testid="tr-field-offer"]"#;
    pub const TR_ENSURE_FIELD: &str = r#"[data-testid="tr-ensure-field"]"#;
    pub const TR_FIELD_READY: &str = r#"[data-testid="tr-field-ready"]"#;
    pub const TR_FIELD_CHECK_FAILED: &str = r#"[data-testid="tr-field-check-failed"]"#;
    pub const TR_FIELD_ERROR: &str = r#"[data-testid="tr-field-error"]"#;
    pub const TR_PREVIEW: &str = r#"[data-testid="tr-preview"]"#;
    pub const TR_PREVIEW_RESULT: &str = r#"[data-testid="tr-preview-result"]"#;
    pub const TR_PREVIEW_DOC: &str = r#"[data-testid="tr-preview-doc"]"#;
    pub const TR_PREVIEW_LINE: &str = r#"[data-testid="tr-preview-line"]"#;
    pub const TR_PREVIEW_TOTAL: &str = r#"[data-testid="tr-preview-total"]"#;
    pub const TR_PROBLEM: &str = r#"[data-testid="tr-problem"]"#;
    pub const TR_ERROR: &str = r#"[data-testid="tr-error"]"#;
    pub const TR_NOTE: &str = r#"[data-testid="tr-note"]"#;
    pub const TR_START: &str = r#"[data-testid="tr-start"]"#;

    // ERPNext → runs and one run.
    pub const ERP_RUNS: &str = r#"[data-testid="erpnext-runs"]"#;
    pub const ERP_RUN_ROW: &str = r#"[data-testid="erpnext-run-row"]"#;
    pub const ERP_RUN: &str = r#"[data-testid="erpnext-run"]"#;
    pub const RUN_STEP: &str = r#"[data-testid="run-step"]"#;
    pub const RUN_STEP_DOC: &str = r#"[data-testid="run-step-doc"]"#;
    pub const RUN_LAST_ERROR: &str = r#"[data-testid="run-last-error"]"#;
    pub const RUN_ATTEMPT: &str = r#"[data-testid="run-attempt"]"#;
    pub const RUN_DOC_LINK: &str = r#"[data-testid="run-doc-link"]"#;

    /// `data-status` values that end an ERPNext run.
    pub const RUN_TERMINAL: &[&str] = &["succeeded", "failed", "cancelled", "compensated", "compensation_failed"];
}

/// How long an Omie job may take here. The app keeps Omie's documented 60 s redundancy rule, so
/// repeating a transfer or a closure waits out that window before its first call.
pub const OMIE_JOB_TIMEOUT: Duration = Duration::from_secs(180);
/// How long an ERPNext run may take against the simulators.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// A finished Omie job as the activity box of a tab shows it.
#[derive(Clone, Debug)]
pub struct OmieActivity {
    pub job_id: String,
    pub kind: String,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// The counts list (`data-count` name → number shown).
    pub counts: BTreeMap<String, i64>,
    /// `<testId>-error` text and its `data-code` (failed jobs).
    pub error: String,
    pub error_code: String,
    /// The whole box's visible text, for messages.
    pub text: String,
}

impl OmieActivity {
    pub fn count(&self, name: &str) -> i64 {
        self.counts.get(name).copied().unwrap_or(0)
    }
}

/// One row of a log table (transfers or closures).
#[derive(Clone, Debug)]
pub struct LogRow {
    pub status: String,
    /// The row's text content, whitespace collapsed.
    pub text: String,
    pub row: Element,
}

/// What goes into the ERPNext transfer form (one item line).
#[derive(Clone, Debug)]
pub struct TransferForm {
    /// Connection names as the site selects list them.
    pub site_a: String,
    pub site_b: String,
    pub supplier: String,
    pub company_a: String,
    pub customer_b_on_a: String,
    pub warehouse_a: String,
    pub supplier_a_on_b: String,
    pub warehouse_b: String,
    pub company_b: String,
    pub item_code: String,
    pub qty: String,
    /// As typed, in the app's locale ("1.234,56" in pt-BR).
    pub rate: String,
    pub serials: Vec<String>,
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Like [`set_field`], and empties the field for `""` (WebDriver cannot type nothing), the way
/// React notices: the native value setter plus an input event.
pub async fn set_text(wd: &WebDriver, el: &Element, value: &str) -> Result<()> {
    if !value.is_empty() {
        return set_field(wd, el, value).await;
    }
    let script = "const [el] = arguments;\
        const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;\
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, '');\
        el.dispatchEvent(new Event('input', { bubbles: true }));\
        el.dispatchEvent(new Event('change', { bubbles: true }));\
        return el.value;";
    let got = wd.execute(script, vec![WebDriver::element_arg(el)]).await?;
    if got.as_str().is_some_and(|v| !v.is_empty()) {
        bail!("{} still holds {got} after emptying it", el.selector);
    }
    Ok(())
}

/// `textContent`, whitespace collapsed: unlike the rendered text, CSS ellipsis cannot cut it.
async fn full_text(wd: &WebDriver, el: &Element) -> Result<String> {
    Ok(squash(wd.prop(el, "textContent").await?.as_str().unwrap_or_default()))
}

impl App {
    /// Scrolls the first element matching `css` into view, `block` being `start`, `center` or
    /// `end` (for screenshots).
    pub async fn scroll_into_view(&self, css: &str, block: &str) -> Result<()> {
        let el = self.wd.wait_for(css, UI_TIMEOUT).await?;
        self.wd
            .execute(
                "arguments[0].scrollIntoView({ block: arguments[1], behavior: 'instant' });",
                vec![WebDriver::element_arg(&el), serde_json::Value::from(block)],
            )
            .await?;
        Ok(())
    }

    /// Opens the Omie page on one of its tabs.
    pub async fn omie_tab(&self, tab: &str) -> Result<()> {
        self.goto("omie").await?;
        let link = self.wd.wait_for(&sel::omie_tab(tab), UI_TIMEOUT).await.context("the Omie page has no tabs")?;
        self.wd.click(&link).await?;
        self.wd
            .wait_for(&format!("{}[data-tab=\"{tab}\"]", crate::ui::sel::page("omie")), UI_TIMEOUT)
            .await
            .with_context(|| format!("opening the Omie `{tab}` tab"))?;
        Ok(())
    }

    /// Syncs every resource of the Omie company shown from its Sync tab and waits (up to
    /// `OMIE_JOB_TIMEOUT`) for the result; returns its status (`succeeded`, `failed`, …).
    pub async fn omie_sync_all(&self) -> Result<String> {
        let wd = &self.wd;
        self.omie_tab("sync").await?;
        wd.click(&wd.wait_for(crate::ui::sel::SYNC_NOW, UI_TIMEOUT).await?).await?;
        wait_until("the Omie sync's result", OMIE_JOB_TIMEOUT, async || {
            let Some(el) = wd.find_all(crate::ui::sel::SYNC_RESULT).await?.into_iter().next() else { return Ok(None) };
            wd.attr(&el, "data-status").await
        })
        .await
    }

    /// The job id the activity box `test_id` shows now, if any.
    pub async fn omie_activity_job(&self, test_id: &str) -> Result<Option<String>> {
        match self.wd.find_all(&sel::tid(test_id)).await?.into_iter().next() {
            Some(el) => self.wd.attr(&el, "data-job-id").await,
            None => Ok(None),
        }
    }

    /// Waits until the activity box `test_id` shows a finished job other than `previous`.
    /// `form_error` is the start-error box of the form that started it (fails at once when shown).
    pub async fn wait_omie_activity(
        &self,
        test_id: &str,
        previous: Option<&str>,
        form_error: &str,
        timeout: Duration,
    ) -> Result<OmieActivity> {
        let wd = &self.wd;
        let css = sel::tid(test_id);
        let mut seen = String::from("no activity box yet");
        let res = wait_until(&format!("a new finished job in `{test_id}`"), timeout, async || {
            for e in wd.find_all(&format!("form {form_error}")).await? {
                let text = wd.text(&e).await?;
                if !text.trim().is_empty() {
                    bail!("the form refused to start the job: {}", squash(&text));
                }
            }
            let Some(el) = wd.find_all(&css).await?.into_iter().next() else { return Ok(None) };
            let job_id = wd.attr(&el, "data-job-id").await?.unwrap_or_default();
            let status = wd.attr(&el, "data-status").await?.unwrap_or_default();
            seen = format!("job {job_id} {status}");
            if job_id.is_empty() || Some(job_id.as_str()) == previous {
                return Ok(None);
            }
            if !crate::ui::sel::TERMINAL_STATUSES.contains(&status.as_str()) {
                return Ok(None);
            }
            let kind = wd.attr(&el, "data-kind").await?.unwrap_or_default();
            let mut counts = BTreeMap::new();
            for li in wd.find_all_in(&el, "[data-count]").await? {
                let name = wd.attr(&li, "data-count").await?.unwrap_or_default();
                let n = match wd.find_all_in(&li, ".strong").await?.into_iter().next() {
                    Some(v) => wd.text(&v).await?,
                    None => String::new(),
                };
                let digits: String = n.chars().filter(char::is_ascii_digit).collect();
                counts.insert(name, digits.parse().unwrap_or(-1));
            }
            let (mut error, mut error_code) = (String::new(), String::new());
            for e in wd.find_all_in(&el, &sel::tid(&format!("{test_id}-error"))).await? {
                error.push_str(&squash(&wd.text(&e).await?));
                error_code = wd.attr(&e, "data-code").await?.unwrap_or_default();
            }
            let text = squash(&wd.text(&el).await?);
            Ok(Some(OmieActivity { job_id, kind, status, counts, error, error_code, text }))
        })
        .await;
        res.with_context(|| format!("last seen in `{test_id}`: {seen}"))
    }

    /// Fills the RF-001 transfer form and clicks Transfer (not a dry run). Returns the job id the
    /// activity box showed before, to wait for the new one.
    pub async fn omie_start_transfer(
        &self,
        from_table: &str,
        from_id: &str,
        to_table: &str,
        to_id: &str,
    ) -> Result<Option<String>> {
        let wd = &self.wd;
        wd.wait_for(sel::ATT_FORM, UI_TIMEOUT).await.context("the attachment transfer form")?;
        let before = self.omie_activity_job(sel::ATT_ACTIVITY).await?;
        for (css, value) in [
            (sel::ATT_FROM_TABLE, from_table),
            (sel::ATT_FROM_ID, from_id),
            (sel::ATT_TO_TABLE, to_table),
            (sel::ATT_TO_ID, to_id),
        ] {
            let el = wd.wait_for(css, UI_TIMEOUT).await?;
            set_text(wd, &el, value).await?;
        }
        let dry = wd.find(sel::ATT_DRY_RUN).await?;
        if wd.prop(&dry, "checked").await?.as_bool() == Some(true) {
            wd.click(&dry).await?;
        }
        let go = wd.find(sel::ATT_TRANSFER).await?;
        wd.click(&go).await?;
        self.fail_on_field_errors(sel::ATT_FORM).await?;
        Ok(before)
    }

    /// Fails when a form shows field errors right after submitting it.
    async fn fail_on_field_errors(&self, form: &str) -> Result<()> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut errors = Vec::new();
        for e in self.wd.find_all(&format!("{form} {}", sel::OMIE_FIELD_ERROR)).await? {
            let text = self.wd.text(&e).await?;
            if !text.trim().is_empty() {
                errors.push(squash(&text));
            }
        }
        if !errors.is_empty() {
            bail!("the form shows field errors: {}", errors.join(" | "));
        }
        Ok(())
    }

    /// The rows of a log table now (`rows_css`), with their status and text.
    pub async fn log_rows(&self, rows_css: &str) -> Result<Vec<LogRow>> {
        let mut out = Vec::new();
        for row in self.wd.find_all(rows_css).await? {
            let status = self.wd.attr(&row, "data-status").await?.unwrap_or_default();
            let text = full_text(&self.wd, &row).await?;
            out.push(LogRow { status, text, row });
        }
        Ok(out)
    }

    /// Waits until the first row matching `rows_css` has `data-status` `want`.
    pub async fn wait_log_row(&self, rows_css: &str, want: &str) -> Result<LogRow> {
        let mut seen = String::from("no row");
        let res = wait_until(&format!("a `{rows_css}` row with data-status `{want}`"), UI_TIMEOUT, async || {
            let rows = self.log_rows(rows_css).await?;
            seen = format!("{:?}", rows.iter().map(|r| (&r.status, &r.text)).collect::<Vec<_>>());
            Ok(rows.into_iter().find(|r| r.status == want))
        })
        .await;
        res.with_context(|| format!("rows seen: {seen}"))
    }

    /// Fills the closing-call configuration of the Purchase orders tab and saves it.
    pub async fn omie_save_po_config(&self, call: &str, status_value: &str) -> Result<()> {
        let wd = &self.wd;
        wd.wait_for(sel::PO_CONFIG, UI_TIMEOUT).await.context("the closing-call configuration")?;
        for (css, value) in [(sel::PO_CONFIG_CALL, call), (sel::PO_CONFIG_STATUS, status_value)] {
            let el = wd.wait_for(css, UI_TIMEOUT).await?;
            set_text(wd, &el, value).await?;
        }
        let save = wd.find(sel::PO_CONFIG_SAVE).await?;
        wd.click(&save).await?;
        wait_until("the closing-call configuration to be saved", UI_TIMEOUT, async || {
            for e in wd.find_all(&format!("{} {}", sel::PO_CONFIG, sel::OMIE_FIELD_ERROR)).await? {
                let text = wd.text(&e).await?;
                if !text.trim().is_empty() {
                    bail!("the configuration form shows a field error: {}", squash(&text));
                }
            }
            if let Some(e) = wd.find_all(sel::PO_CONFIG_ERROR).await?.into_iter().next() {
                bail!("saving the configuration failed: {}", squash(&wd.text(&e).await?));
            }
            Ok((!wd.find_all(sel::PO_CONFIG_SAVED).await?.is_empty()).then_some(()))
        })
        .await?;
        // What was saved is what the form shows again.
        for (css, value) in [(sel::PO_CONFIG_CALL, call), (sel::PO_CONFIG_STATUS, status_value)] {
            let el = wd.find(css).await?;
            let got = wd.prop(&el, "value").await?.as_str().unwrap_or_default().to_string();
            if got != value {
                bail!("{css} shows {got:?} after saving {value:?}");
            }
        }
        Ok(())
    }

    /// Fills the RF-002 close form and clicks Close (not a dry run). Returns the job id the
    /// activity box showed before.
    pub async fn omie_start_close(
        &self,
        order: &str,
        invoice: Option<&str>,
        invoice_id: Option<&str>,
    ) -> Result<Option<String>> {
        let wd = &self.wd;
        wd.wait_for(sel::PO_FORM, UI_TIMEOUT).await.context("the purchase-order close form")?;
        let before = self.omie_activity_job(sel::PO_ACTIVITY).await?;
        for (css, value) in [
            (sel::PO_ORDER, order),
            (sel::PO_ITEM, ""),
            (sel::PO_INVOICE, invoice.unwrap_or("")),
            (sel::PO_INVOICE_ID, invoice_id.unwrap_or("")),
        ] {
            let el = wd.wait_for(css, UI_TIMEOUT).await?;
            set_text(wd, &el, value).await?;
        }
        let dry = wd.find(sel::PO_DRY_RUN).await?;
        if wd.prop(&dry, "checked").await?.as_bool() == Some(true) {
            wd.click(&dry).await?;
        }
        let go = wd.find(sel::PO_CLOSE).await?;
        wd.click(&go).await?;
        self.fail_on_field_errors(sel::PO_FORM).await?;
        Ok(before)
    }

    /// Opens the ERPNext page's "New transfer" tab and waits for the form.
    pub async fn erpnext_new_transfer(&self) -> Result<()> {
        self.goto("erpnext").await?;
        let tab = self.wd.wait_for(sel::ERP_TAB_NEW, UI_TIMEOUT).await?;
        self.wd.click(&tab).await?;
        self.wd.wait_for(sel::TRANSFER_FORM, UI_TIMEOUT).await.context("the ERPNext transfer form")?;
        Ok(())
    }

    /// Picks the two sites; when the app offers to create the idempotency field on a site, accepts
    /// (`tr-ensure-field`) and waits for `tr-field-ready`. Returns how many offers were accepted.
    pub async fn erpnext_pick_sites(&self, site_a: &str, site_b: &str) -> Result<usize> {
        let wd = &self.wd;
        for (css, name) in [(sel::TR_SITE_A, site_a), (sel::TR_SITE_B, site_b)] {
            let el = wd.wait_for(css, UI_TIMEOUT).await?;
            set_select_by_text(wd, &el, name).await?;
        }
        // Both sites are checked for the field; wait until each shows its offer, or nothing at all
        // for a while (the field exists already).
        let mut accepted = 0;
        let mut quiet_since = std::time::Instant::now();
        let deadline = std::time::Instant::now() + UI_TIMEOUT;
        loop {
            if let Some(e) = wd.find_all(sel::TR_FIELD_CHECK_FAILED).await?.into_iter().next() {
                bail!("the app could not check the idempotency field: {}", squash(&wd.text(&e).await?));
            }
            let offers = wd.find_all(sel::TR_FIELD_OFFER).await?;
            if let Some(offer) = offers.into_iter().next() {
                let site = wd.attr(&offer, "data-site").await?.unwrap_or_default();
                let button = wd.find_in(&offer, sel::TR_ENSURE_FIELD).await?;
                let ready_before = wd.find_all(sel::TR_FIELD_READY).await?.len();
                wd.click(&button).await?;
                let css = format!("{}[data-site=\"{}\"]", sel::TR_FIELD_OFFER, sel::css_escape(&site));
                wait_until(&format!("the idempotency field to be created on site {site}"), UI_TIMEOUT, async || {
                    if let Some(o) = wd.find_all(&css).await?.into_iter().next() {
                        if let Some(e) = wd.find_all_in(&o, ".alert-error").await?.into_iter().next() {
                            bail!("creating the field failed: {}", squash(&wd.text(&e).await?));
                        }
                        return Ok(None);
                    }
                    Ok((wd.find_all(sel::TR_FIELD_READY).await?.len() > ready_before).then_some(()))
                })
                .await?;
                accepted += 1;
                quiet_since = std::time::Instant::now();
                continue;
            }
            if accepted >= 2 || quiet_since.elapsed() > Duration::from_secs(5) {
                return Ok(accepted);
            }
            if std::time::Instant::now() > deadline {
                bail!("timed out handling the idempotency-field offers ({accepted} accepted)");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Fills the parties, warehouses and the first item line of the transfer form.
    pub async fn erpnext_fill_transfer(&self, f: &TransferForm) -> Result<()> {
        let wd = &self.wd;
        for (css, value) in [
            (sel::TR_SUPPLIER, &f.supplier),
            (sel::TR_COMPANY_A, &f.company_a),
            (sel::TR_CUSTOMER, &f.customer_b_on_a),
            (sel::TR_WAREHOUSE_A, &f.warehouse_a),
            (sel::TR_SUPPLIER_B, &f.supplier_a_on_b),
            (sel::TR_WAREHOUSE_B, &f.warehouse_b),
            (sel::TR_COMPANY_B, &f.company_b),
            (sel::TR_ITEM_CODE, &f.item_code),
            (sel::TR_ITEM_QTY, &f.qty),
            (sel::TR_ITEM_RATE, &f.rate),
        ] {
            let el = wd.wait_for(css, UI_TIMEOUT).await?;
            set_text(wd, &el, value).await?;
        }
        let serials = wd.wait_for(sel::TR_ITEM_SERIALS, UI_TIMEOUT).await?;
        set_field(wd, &serials, &f.serials.join("\n")).await?;
        Ok(())
    }

    /// Clicks Preview and waits for the result; fails with the problems when it is not valid.
    /// Returns the `(data-step, data-site, text)` of each document shown.
    pub async fn erpnext_preview(&self) -> Result<Vec<(String, String, String)>> {
        let wd = &self.wd;
        let button = wd.find(sel::TR_PREVIEW).await?;
        wd.click(&button).await?;
        let result = wait_until("the transfer preview", Duration::from_secs(30), async || {
            let mut errors = Vec::new();
            for css in [sel::TR_FIELD_ERROR, sel::TR_ERROR] {
                for e in wd.find_all(css).await? {
                    let text = wd.text(&e).await?;
                    if !text.trim().is_empty() {
                        errors.push(squash(&text));
                    }
                }
            }
            if !errors.is_empty() {
                bail!("the form refused the preview: {}", errors.join(" | "));
            }
            Ok(wd.find_all(sel::TR_PREVIEW_RESULT).await?.into_iter().next())
        })
        .await?;
        if wd.attr(&result, "data-valid").await?.as_deref() != Some("true") {
            let mut problems = Vec::new();
            for p in wd.find_all(sel::TR_PROBLEM).await? {
                problems.push(squash(&wd.text(&p).await?));
            }
            bail!("the preview is not valid: {problems:?}");
        }
        let mut docs = Vec::new();
        for d in wd.find_all(sel::TR_PREVIEW_DOC).await? {
            let step = wd.attr(&d, "data-step").await?.unwrap_or_default();
            let site = wd.attr(&d, "data-site").await?.unwrap_or_default();
            docs.push((step, site, full_text(wd, &d).await?));
        }
        Ok(docs)
    }

    /// Clicks "Start transfer" (with a note) and waits for the run view; returns the run id.
    pub async fn erpnext_start(&self, note: &str) -> Result<String> {
        let wd = &self.wd;
        let n = wd.wait_for(sel::TR_NOTE, UI_TIMEOUT).await?;
        set_field(wd, &n, note).await?;
        let start = wd.wait_for(sel::TR_START, UI_TIMEOUT).await?;
        wd.click(&start).await?;
        wait_until("the run view after starting the transfer", UI_TIMEOUT, async || {
            if let Some(e) = wd.find_all(sel::TR_ERROR).await?.into_iter().next() {
                bail!("starting the transfer failed: {}", squash(&wd.text(&e).await?));
            }
            let Some(run) = wd.find_all(sel::ERP_RUN).await?.into_iter().next() else { return Ok(None) };
            Ok(wd.attr(&run, "data-id").await?.filter(|id| !id.is_empty()))
        })
        .await
    }

    /// Waits until the run view shows a finished run; returns its status and
    /// `(data-step, data-status, document text)` of each step.
    pub async fn erpnext_wait_run(&self, timeout: Duration) -> Result<(String, Vec<(String, String, String)>)> {
        let wd = &self.wd;
        let mut seen = String::from("no run view");
        let res = wait_until("the transfer run to finish", timeout, async || {
            let Some(run) = wd.find_all(sel::ERP_RUN).await?.into_iter().next() else { return Ok(None) };
            let status = wd.attr(&run, "data-status").await?.unwrap_or_default();
            let mut steps = Vec::new();
            for s in wd.find_all_in(&run, sel::RUN_STEP).await? {
                let step = wd.attr(&s, "data-step").await?.unwrap_or_default();
                let st = wd.attr(&s, "data-status").await?.unwrap_or_default();
                let doc = match wd.find_all_in(&s, sel::RUN_STEP_DOC).await?.into_iter().next() {
                    Some(d) => full_text(wd, &d).await?,
                    None => String::new(),
                };
                steps.push((step, st, doc));
            }
            seen = format!("run {status}, steps {steps:?}");
            Ok(sel::RUN_TERMINAL.contains(&status.as_str()).then_some((status, steps)))
        })
        .await;
        res.with_context(|| format!("last seen: {seen}"))
    }
}
