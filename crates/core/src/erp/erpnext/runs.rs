//! Persistence of transfer runs: the validated input, a status per step, the document each step
//! created, every attempt, the last error and the operator's actions with their reasons. Every
//! change is one short transaction (on a desk's file or the team database), so a crash loses at most the step in flight, which the
//! next run finds again by its idempotency key.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{idempotency_key, step_def, SiteRole, TransferInput, STEPS};
use crate::erp::erpnext::client::desk_url;
use crate::error::{CoreError, CoreResult};
use crate::model::Connection;
use crate::store::db::take_turns;
use crate::store::{now_utc, Db, Row, Store};
use crate::vals;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum RunStatus {
    /// Waiting for its job (queued behind another transfer of the same site A, or not started yet).
    Pending,
    Running,
    /// Stopped at a step; see `last_error`. Retry continues at that step.
    Failed,
    Succeeded,
    Cancelled,
    /// Cancelling its documents in reverse order.
    Compensating,
    Compensated,
    CompensationFailed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Failed => "failed",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Compensating => "compensating",
            RunStatus::Compensated => "compensated",
            RunStatus::CompensationFailed => "compensation_failed",
        }
    }

    pub fn parse(s: &str) -> RunStatus {
        match s {
            "pending" => RunStatus::Pending,
            "running" => RunStatus::Running,
            "succeeded" => RunStatus::Succeeded,
            "cancelled" => RunStatus::Cancelled,
            "compensating" => RunStatus::Compensating,
            "compensated" => RunStatus::Compensated,
            "compensation_failed" => RunStatus::CompensationFailed,
            _ => RunStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum StepStatus {
    Pending,
    /// In flight (or interrupted in flight: the next run looks its key up first).
    Running,
    Done,
    Failed,
    /// Its document was cancelled by a compensation.
    Compensated,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
            StepStatus::Compensated => "compensated",
        }
    }

    pub fn parse(s: &str) -> StepStatus {
        match s {
            "pending" => StepStatus::Pending,
            "running" => StepStatus::Running,
            "done" => StepStatus::Done,
            "compensated" => StepStatus::Compensated,
            _ => StepStatus::Failed,
        }
    }
}

/// Why a run (or a step) stopped, in plain language, with the fix and ERPNext's own words.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct RunError {
    pub step: Option<u8>,
    /// `validation`, `duplicate_serial`, `serial_not_available`, `serial_count`, `missing_fields`,
    /// `not_found`, `permission`, `credentials`, `unavailable`, `rate_limited`, `cancelled_on_site`,
    /// `setup`, `conflict`, `future_posting`, `internal`.
    pub kind: String,
    pub message: String,
    pub fix: String,
    /// ERPNext's messages (`_server_messages` decoded, HTML removed).
    pub remote_messages: Vec<String>,
    pub exc_type: Option<String>,
    pub http_status: Option<u16>,
    pub at: String,
}

/// A document a run created (or found by its key).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DocRef {
    pub step: u8,
    pub site: SiteRole,
    pub doctype: String,
    pub name: String,
    /// 1 submitted, 2 cancelled (as last seen).
    pub docstatus: Option<i32>,
    /// Opens the document in the site's desk (`/app/purchase-order/<name>`).
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferRun {
    pub id: String,
    pub site_a_id: Option<String>,
    pub site_b_id: Option<String>,
    pub site_a_name: String,
    pub site_b_name: String,
    pub status: RunStatus,
    /// The step in flight, or where the run stopped.
    pub current_step: Option<u8>,
    /// "2 unit(s) of SKU-ROUTER-01 from PINES Supplier: Company A → Company B" (English, for logs and
    /// the CLI; the window builds its own words from `title`).
    pub summary: String,
    /// What the run moves, for a title in the user's language.
    pub title: TransferTitle,
    pub documents: Vec<DocRef>,
    pub last_error: Option<RunError>,
    pub job_id: Option<String>,
    /// Waiting for a job to run or compensate it.
    pub queued: bool,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

/// The parts of a run's title: units, item codes, supplier and the two companies.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferTitle {
    /// Total units, an exact decimal ("2").
    pub units: String,
    pub items: Vec<String>,
    pub supplier: String,
    pub company_a: String,
    pub company_b: String,
}

impl TransferTitle {
    pub fn of(i: &TransferInput) -> TransferTitle {
        let units: rust_decimal::Decimal = i.items.iter().map(|x| x.qty).sum();
        TransferTitle {
            units: units.normalize().to_string(),
            items: i.items.iter().map(|x| x.item_code.clone()).collect(),
            supplier: i.supplier.clone(),
            company_a: i.company_a.clone(),
            company_b: i.company_b.clone().unwrap_or_default(),
        }
    }

    /// The English title kept as the run's summary.
    pub fn english(&self) -> String {
        format!(
            "{} unit(s) of {} from {}: {} → {}",
            self.units,
            self.items.join(", "),
            self.supplier,
            self.company_a,
            self.company_b
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferStep {
    pub step: u8,
    pub label: String,
    pub site: SiteRole,
    pub site_name: String,
    pub doctype: String,
    pub idempotency_key: String,
    pub status: StepStatus,
    pub doc_name: Option<String>,
    pub docstatus: Option<i32>,
    pub url: Option<String>,
    pub attempts: u32,
    pub last_error: Option<RunError>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub compensated_at: Option<String>,
}

/// One call a step made, for the run's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Attempt {
    #[ts(type = "number")]
    pub seq: i64,
    pub step: Option<u8>,
    pub at: String,
    /// `lookup`, `insert`, `mapper`, `submit`, `cancel`, `check`.
    pub action: String,
    /// `ok`, `found`, `not_found`, `duplicate`, `transient`, `failed`.
    pub outcome: String,
    pub http_status: Option<u16>,
    pub message: String,
    #[ts(type = "number | null")]
    pub duration_ms: Option<i64>,
}

/// Start, retry, cancel, compensate, resume: who asked and why.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OperatorAction {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferRunDetail {
    pub run: TransferRun,
    pub input: TransferInput,
    pub steps: Vec<TransferStep>,
    pub attempts: Vec<Attempt>,
    pub actions: Vec<OperatorAction>,
}

/// Filter of the runs list.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub limit: Option<u32>,
}

const RUN_COLS: &str =
    "r.id, r.site_a_id, r.site_b_id, r.site_a_name, r.site_b_name, r.status, r.current_step, r.summary, \
     r.last_error, r.job_id, r.next_action, r.created_at, r.updated_at, r.finished_at, ca.base_url, cb.base_url, r.input";

fn run_from_row(r: &Row) -> CoreResult<(TransferRun, Option<String>, Option<String>)> {
    let err: Option<String> = r.get(8)?;
    let next: Option<String> = r.get(10)?;
    Ok((
        TransferRun {
            id: r.get(0)?,
            site_a_id: r.get(1)?,
            site_b_id: r.get(2)?,
            site_a_name: r.get(3)?,
            site_b_name: r.get(4)?,
            status: RunStatus::parse(&r.get::<String>(5)?),
            current_step: r.get(6)?,
            summary: r.get(7)?,
            title: serde_json::from_str::<TransferInput>(&r.get::<String>(16)?)
                .map(|i| TransferTitle::of(&i))
                .unwrap_or_default(),
            documents: vec![],
            last_error: err.and_then(|e| serde_json::from_str(&e).ok()),
            job_id: r.get(9)?,
            queued: next.is_some(),
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            finished_at: r.get(13)?,
        },
        r.get(14)?,
        r.get(15)?,
    ))
}

struct StepRow {
    step: TransferStep,
}

fn steps_of(
    db: &mut dyn Db,
    run: &TransferRun,
    base_a: &Option<String>,
    base_b: &Option<String>,
) -> CoreResult<Vec<TransferStep>> {
    let rows = db.query(
        "SELECT step, site, doctype, idempotency_key, status, doc_name, doc_docstatus, attempts, last_error,
                started_at, finished_at, compensated_at
         FROM erpnext_run_steps WHERE run_id=?1 ORDER BY step",
        vals![run.id],
    )?;
    let rows = rows.iter().map(|r| -> CoreResult<StepRow> {
        let step: u8 = r.get(0)?;
        let site = if r.get::<String>(1)? == "B" { SiteRole::B } else { SiteRole::A };
        let doctype: String = r.get(2)?;
        let doc_name: Option<String> = r.get(5)?;
        let base = if site == SiteRole::A { base_a } else { base_b };
        let url = match (base, &doc_name) {
            (Some(b), Some(n)) => Some(desk_url(b, &doctype, n)),
            _ => None,
        };
        let err: Option<String> = r.get(8)?;
        Ok(StepRow {
            step: TransferStep {
                step,
                label: step_def(step).label.to_string(),
                site,
                site_name: if site == SiteRole::A { run.site_a_name.clone() } else { run.site_b_name.clone() },
                doctype,
                idempotency_key: r.get(3)?,
                status: StepStatus::parse(&r.get::<String>(4)?),
                doc_name,
                docstatus: r.get(6)?,
                url,
                attempts: r.get(7)?,
                last_error: err.and_then(|e| serde_json::from_str(&e).ok()),
                started_at: r.get(9)?,
                finished_at: r.get(10)?,
                compensated_at: r.get(11)?,
            },
        })
    });
    rows.map(|r| r.map(|s| s.step)).collect()
}

fn documents(steps: &[TransferStep]) -> Vec<DocRef> {
    steps
        .iter()
        .filter_map(|s| {
            Some(DocRef {
                step: s.step,
                site: s.site,
                doctype: s.doctype.clone(),
                name: s.doc_name.clone()?,
                docstatus: s.docstatus,
                url: s.url.clone().unwrap_or_default(),
            })
        })
        .collect()
}

const FROM: &str =
    "erpnext_runs r LEFT JOIN connections ca ON ca.id = r.site_a_id LEFT JOIN connections cb ON cb.id = r.site_b_id";

/// Creates a run with its four pending steps, queued to run.
pub fn create(
    store: &Store,
    id: &str,
    input: &TransferInput,
    site_a: &Connection,
    site_b: &Connection,
    summary: &str,
    reason: &str,
) -> CoreResult<()> {
    let now = now_utc();
    let json = serde_json::to_string(input).map_err(|e| CoreError::Internal(e.to_string()))?;
    store.tx(|db| {
        db.execute(
            "INSERT INTO erpnext_runs (id, site_a_id, site_b_id, site_a_name, site_b_name, input, summary, status,
                                       next_action, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 'run', ?8, ?8)",
            vals![id, site_a.id, site_b.id, site_a.name, site_b.name, json, summary, now],
        )?;
        for s in STEPS {
            db.execute(
                "INSERT INTO erpnext_run_steps (run_id, step, site, doctype, idempotency_key, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
                vals![id, s.step, s.site.as_str(), s.doctype, idempotency_key(id, s.step)],
            )?;
        }
        add_action(db, id, "start", reason)?;
        Ok(())
    })
}

fn add_action(db: &mut dyn Db, id: &str, action: &str, reason: &str) -> CoreResult<()> {
    // Numbered within the run: desks recording at the same instant take turns.
    take_turns(db, &format!("erpnext_run:{id}"))?;
    db.execute(
        "INSERT INTO erpnext_run_actions (run_id, seq, at, action, reason)
         VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM erpnext_run_actions WHERE run_id=?1), ?2, ?3, ?4)",
        vals![id, now_utc(), action, reason],
    )?;
    Ok(())
}

/// Finds a run by its id or by a unique prefix of it (at least 6 characters).
pub fn resolve(store: &Store, id_or_prefix: &str) -> CoreResult<String> {
    let p = id_or_prefix.trim();
    let ids: Vec<String> = store.query(|db| {
        db.query(
            "SELECT id FROM erpnext_runs WHERE id = ?1 OR (length(?1) >= 6 AND id LIKE ?1 || '%') LIMIT 3",
            vals![p],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    })?;
    match ids.len() {
        0 => Err(CoreError::NotFound { what: format!("Transfer run {p}") }),
        1 => Ok(ids.into_iter().next().expect("one")),
        _ if ids.iter().any(|i| i == p) => Ok(p.to_string()),
        _ => Err(CoreError::invalid("id", format!("\"{p}\" matches several runs; give more of the id."))),
    }
}

pub fn detail(store: &Store, id: &str) -> CoreResult<TransferRunDetail> {
    store.query(|db| {
        let (mut run, base_a, base_b) = db
            .query_opt(&format!("SELECT {RUN_COLS} FROM {FROM} WHERE r.id=?1"), vals![id])?
            .map(|r| run_from_row(&r))
            .transpose()?
            .ok_or_else(|| CoreError::NotFound { what: format!("Transfer run {id}") })?;
        let input: String = db.one("SELECT input FROM erpnext_runs WHERE id=?1", vals![id])?;
        let input: TransferInput = serde_json::from_str(&input).map_err(|e| CoreError::Internal(e.to_string()))?;
        let steps = steps_of(db, &run, &base_a, &base_b)?;
        run.documents = documents(&steps);
        let attempts = db
            .query(
                "SELECT seq, step, at, action, outcome, http_status, message, duration_ms FROM erpnext_run_attempts
                 WHERE run_id=?1 ORDER BY seq",
                vals![id],
            )?
            .iter()
            .map(|r| {
                Ok(Attempt {
                    seq: r.get(0)?,
                    step: r.get(1)?,
                    at: r.get(2)?,
                    action: r.get(3)?,
                    outcome: r.get(4)?,
                    http_status: r.get(5)?,
                    message: r.get(6)?,
                    duration_ms: r.get(7)?,
                })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let actions = db
            .query("SELECT seq, at, action, reason FROM erpnext_run_actions WHERE run_id=?1 ORDER BY seq", vals![id])?
            .iter()
            .map(|r| Ok(OperatorAction { seq: r.get(0)?, at: r.get(1)?, action: r.get(2)?, reason: r.get(3)? }))
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(TransferRunDetail { run, input, steps, attempts, actions })
    })
}

pub fn list(store: &Store, f: &RunFilter) -> CoreResult<Vec<TransferRun>> {
    store.query(|db| {
        let rows = db
            .query(
                &format!(
                    "SELECT {RUN_COLS} FROM {FROM} WHERE (CAST(?1 AS TEXT) IS NULL OR r.status = ?1)
                     ORDER BY r.created_at DESC, r.rowid DESC LIMIT ?2"
                ),
                vals![f.status.map(RunStatus::as_str), f.limit.unwrap_or(200)],
            )?
            .iter()
            .map(run_from_row)
            .collect::<CoreResult<Vec<_>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (mut run, a, b) in rows {
            run.documents = documents(&steps_of(db, &run, &a, &b)?);
            out.push(run);
        }
        Ok(out)
    })
}

/// The run a workflow job of `site_a_id` should take next: `prefer` if it is queued, else the
/// oldest queued one. Marks it taken by `job_id`. Returns (run id, action).
pub fn claim_next(
    store: &Store,
    site_a_id: &str,
    prefer: Option<&str>,
    job_id: &str,
) -> CoreResult<Option<(String, String)>> {
    store.tx(|db| {
        // One claim at a time per site A, whichever process or desk asks.
        take_turns(db, &format!("erpnext_claim:{site_a_id}"))?;
        let next: Option<(String, String)> = match db.query_opt(
            "SELECT id, next_action FROM erpnext_runs WHERE site_a_id=?1 AND next_action IS NOT NULL
             ORDER BY CASE WHEN id = ?2 THEN 0 ELSE 1 END, created_at, rowid LIMIT 1",
            vals![site_a_id, prefer.unwrap_or("")],
        )? {
            Some(r) => Some((r.get(0)?, r.get(1)?)),
            None => None,
        };
        if let Some((id, action)) = &next {
            let status = if action == "compensate" { "compensating" } else { "running" };
            db.execute(
                "UPDATE erpnext_runs SET job_id=?2, status=?3, updated_at=?4, finished_at=NULL WHERE id=?1",
                vals![id, job_id, status, now_utc()],
            )?;
        }
        Ok(next)
    })
}

/// Marks a run as running outside any job (a test driving it directly).
pub fn mark_running(store: &Store, id: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE erpnext_runs SET status='running', job_id=NULL, updated_at=?2 WHERE id=?1",
            vals![id, now_utc()],
        )?;
        Ok(())
    })
}

/// Queues a run for its job (`run` or `compensate`) with the operator's reason.
pub fn queue(store: &Store, id: &str, action: &str, op: &str, reason: &str, status: RunStatus) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE erpnext_runs SET next_action=?2, status=?3, cancel_requested=0, updated_at=?4 WHERE id=?1",
            vals![id, action, status.as_str(), now_utc()],
        )?;
        add_action(db, id, op, reason)?;
        Ok(())
    })
}

/// Ends a run (or its compensation): final status, last error, nothing queued.
pub fn finish(store: &Store, id: &str, status: RunStatus, error: Option<&RunError>) -> CoreResult<()> {
    let err = error.map(|e| serde_json::to_string(e).unwrap_or_default());
    store.tx(|db| {
        db.execute(
            "UPDATE erpnext_runs SET status=?2, last_error=coalesce(?3, CASE WHEN ?2 IN ('succeeded','compensated') THEN NULL ELSE last_error END),
                    next_action=NULL, cancel_requested=0, updated_at=?4, finished_at=?4 WHERE id=?1",
            vals![id, status.as_str(), err, now_utc()],
        )?;
        Ok(())
    })
}

/// Cancels a run that no job is driving, with the reason. The cancel flag stays set, so a worker
/// that claimed it in the meantime stops at its first checkpoint.
pub fn cancel_now(store: &Store, id: &str, reason: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE erpnext_runs SET status='cancelled', next_action=NULL, cancel_requested=1, updated_at=?2, finished_at=?2 WHERE id=?1",
            vals![id, now_utc()],
        )?;
        db.execute(
            "UPDATE erpnext_run_steps SET status='pending' WHERE run_id=?1 AND status IN ('running','failed')",
            vals![id],
        )?;
        add_action(db, id, "cancel", reason)?;
        Ok(())
    })
}

/// Asks the job running a run to stop at its next checkpoint (works across processes).
pub fn request_cancel(store: &Store, id: &str, reason: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute("UPDATE erpnext_runs SET cancel_requested=1, updated_at=?2 WHERE id=?1", vals![id, now_utc()])?;
        add_action(db, id, "cancel", reason)?;
        Ok(())
    })
}

pub fn cancel_requested(store: &Store, id: &str) -> CoreResult<bool> {
    store.query(|db| db.one("SELECT cancel_requested FROM erpnext_runs WHERE id=?1", vals![id]))
}

pub fn record_action(store: &Store, id: &str, action: &str, reason: &str) -> CoreResult<()> {
    store.tx(|db| add_action(db, id, action, reason))
}

pub fn set_step(store: &Store, id: &str, step: u8, status: StepStatus) -> CoreResult<()> {
    store.tx(|db| {
        let now = now_utc();
        db.execute(
            "UPDATE erpnext_run_steps SET status=?3, started_at=CASE WHEN ?3='running' THEN coalesce(started_at, ?4) ELSE started_at END
             WHERE run_id=?1 AND step=?2",
            vals![id, step, status.as_str(), now],
        )?;
        if status == StepStatus::Running {
            db.execute("UPDATE erpnext_runs SET current_step=?2, updated_at=?3 WHERE id=?1", vals![id, step, now])?;
        }
        Ok(())
    })
}

pub fn bump_attempts(store: &Store, id: &str, step: u8) -> CoreResult<()> {
    store.tx(|db| {
        db.execute("UPDATE erpnext_run_steps SET attempts=attempts+1 WHERE run_id=?1 AND step=?2", vals![id, step])?;
        Ok(())
    })
}

/// The step's document exists (created or found by its key): one transaction records it.
pub fn step_done(store: &Store, id: &str, step: u8, name: &str, docstatus: i32) -> CoreResult<()> {
    store.tx(|db| {
        let now = now_utc();
        db.execute(
            "UPDATE erpnext_run_steps SET status='done', doc_name=?3, doc_docstatus=?4, last_error=NULL, finished_at=?5
             WHERE run_id=?1 AND step=?2",
            vals![id, step, name, docstatus, now],
        )?;
        db.execute("UPDATE erpnext_runs SET updated_at=?2 WHERE id=?1", vals![id, now])?;
        Ok(())
    })
}

/// A step stopped: the step and the run keep the error; the run is failed.
pub fn step_failed(store: &Store, id: &str, step: u8, err: &RunError) -> CoreResult<()> {
    let json = serde_json::to_string(err).unwrap_or_default();
    store.tx(|db| {
        let now = now_utc();
        db.execute(
            "UPDATE erpnext_run_steps SET status='failed', last_error=?3 WHERE run_id=?1 AND step=?2",
            vals![id, step, json],
        )?;
        db.execute(
            "UPDATE erpnext_runs SET status='failed', last_error=?2, current_step=?3, next_action=NULL, cancel_requested=0,
                    updated_at=?4, finished_at=?4 WHERE id=?1",
            vals![id, json, step, now],
        )?;
        Ok(())
    })
}

/// The document of a step was found (by name or key) during a compensation.
pub fn step_docstatus(store: &Store, id: &str, step: u8, name: &str, docstatus: i32) -> CoreResult<()> {
    store.tx(|db| {
        let status = if docstatus == 2 { Some("compensated") } else { None };
        db.execute(
            "UPDATE erpnext_run_steps SET doc_name=?3, doc_docstatus=?4, status=coalesce(?5, status),
                    compensated_at=CASE WHEN ?5 IS NOT NULL THEN coalesce(compensated_at, ?6) ELSE compensated_at END
             WHERE run_id=?1 AND step=?2",
            vals![id, step, name, docstatus, status, now_utc()],
        )?;
        Ok(())
    })
}

pub fn step_error(store: &Store, id: &str, step: u8, err: &RunError) -> CoreResult<()> {
    let json = serde_json::to_string(err).unwrap_or_default();
    store.tx(|db| {
        db.execute("UPDATE erpnext_run_steps SET last_error=?3 WHERE run_id=?1 AND step=?2", vals![id, step, json])?;
        Ok(())
    })
}

/// Appends one call to the run's timeline.
#[allow(clippy::too_many_arguments)]
pub fn record_attempt(
    store: &Store,
    id: &str,
    step: Option<u8>,
    action: &str,
    outcome: &str,
    http_status: Option<u16>,
    message: &str,
    duration_ms: Option<i64>,
) -> CoreResult<()> {
    store.tx(|db| {
        take_turns(db, &format!("erpnext_run:{id}"))?;
        db.execute(
            "INSERT INTO erpnext_run_attempts (run_id, seq, step, at, action, outcome, http_status, message, duration_ms)
             VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM erpnext_run_attempts WHERE run_id=?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            vals![id, step, now_utc(), action, outcome, http_status, message, duration_ms],
        )?;
        Ok(())
    })
}

/// Runs that a job should be working on but no live job holds (the app or the CLI stopped):
/// (run id, site A id).
pub fn orphaned(store: &Store) -> CoreResult<Vec<(String, String)>> {
    store.query(|db| {
        db.query(
            "SELECT r.id, r.site_a_id FROM erpnext_runs r
             WHERE (r.next_action IS NOT NULL OR r.status IN ('running','compensating')) AND r.site_a_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.active_key = 'erpnext_workflow|' || r.site_a_id)
             ORDER BY r.created_at",
            vals![],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
    })
}

/// Puts an interrupted run back in its queue (it was `running` or `compensating` when its job died).
pub fn requeue_interrupted(store: &Store, id: &str) -> CoreResult<bool> {
    store.tx(|db| {
        let n = db.execute(
            "UPDATE erpnext_runs SET next_action = coalesce(next_action, CASE WHEN status='compensating' THEN 'compensate' ELSE 'run' END),
                    updated_at=?2
             WHERE id=?1 AND status IN ('running','compensating')",
            vals![id, now_utc()],
        )?;
        if n > 0 {
            add_action(db, id, "resume", "BackOffice stopped while this transfer was in progress; it continues where it was.")?;
        }
        Ok(n > 0)
    })
}

/// Whether a job of the transfer kind is active for this site A (in any process).
pub fn job_active_for(store: &Store, site_a_id: &str) -> CoreResult<Option<String>> {
    store.query(|db| {
        db.query_opt("SELECT id FROM jobs WHERE active_key = 'erpnext_workflow|' || ?1", vals![site_a_id])?
            .map(|r| r.get(0))
            .transpose()
    })
}
