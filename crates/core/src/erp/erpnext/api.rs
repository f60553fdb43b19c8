//! What the desktop shell and the CLI call: validate and preview, start, list, show, and the
//! operator controls (retry, cancel, compensate — each with a written reason kept with the run),
//! the idempotency field, settings, and resuming runs a stopped process left behind.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::checks::{self, FieldStatus};
use super::docs::{DocumentPreview, PreviewSite};
use super::engine::{self};
use super::runs::{self, RunFilter, RunStatus, StepStatus, TransferRun, TransferRunDetail};
use super::site_time;
use super::site_time::erpnext_zone_of;
use super::{input, Problem, TransferInput, WorkflowSettings, JOB_KIND};
use crate::erp::erpnext::client::ErpnextClient;
use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, ConnectionKind, Job};
use crate::Ctx;

/// The checked form and the four documents it will create.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferPreview {
    /// No problems: the transfer can start.
    pub valid: bool,
    pub problems: Vec<Problem>,
    /// Decisions taken for the user (company B from its warehouse, a name's spelling, defaults).
    pub notes: Vec<String>,
    /// The form as it will be stored and sent (trimmed, defaults filled, names as the sites spell them).
    pub input: TransferInput,
    pub documents: Vec<DocumentPreview>,
}

fn erp_connection(core: &Ctx, id: &str, field: &str) -> Result<Connection, Problem> {
    match core.connections().get(id).or_else(|_| core.connections().find_by_name(id)) {
        Ok(c) if c.kind == ConnectionKind::Erpnext => Ok(c),
        Ok(c) => Err(Problem::new(field, format!("\"{}\" is a {} connection, not ERPNext.", c.name, c.kind.as_str()))),
        Err(_) => Err(Problem::new(
            field,
            format!("No connection \"{id}\" exists. Add the ERPNext site on the Connections page."),
        )),
    }
}

fn reason_ok(reason: &str) -> CoreResult<String> {
    let r = reason.trim();
    if r.chars().count() < 3 {
        return Err(CoreError::invalid(
            "reason",
            "Write why you are doing this (a few words); the reason is kept with the run for whoever looks at it later.",
        ));
    }
    Ok(r.to_string())
}

pub(crate) fn erp_client(cx: &Ctx, conn: &Connection) -> CoreResult<ErpnextClient> {
    let creds = cx.connections().credentials(conn)?;
    let settings = super::load_settings(&cx.store).unwrap_or_default();
    Ok(ErpnextClient::new(cx.http.clone(), conn, &creds)
        .with_policy(settings.policy())
        .with_gate(crate::http::HostGate::new(cx.store.clone())))
}

/// Checks the form (locally, then against both sites) and shows the four documents. Nothing
/// is written anywhere.
pub async fn erpnext_preview(cx: &Ctx, form: &TransferInput) -> CoreResult<TransferPreview> {
    let mut i = input::normalize(form);
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let a = if i.site_a.is_empty() {
        None
    } else {
        erp_connection(cx, &i.site_a, "site_a").map_err(|p| problems.push(p)).ok()
    };
    let b = if i.site_b.is_empty() {
        None
    } else {
        erp_connection(cx, &i.site_b, "site_b").map_err(|p| problems.push(p)).ok()
    };
    if let Some(c) = &a {
        i.site_a = c.id.clone();
    }
    if let Some(c) = &b {
        i.site_b = c.id.clone();
    }
    // Each site's zone, from the site itself when it answers (stored on the connection).
    let mut zones: [Option<chrono_tz::Tz>; 2] = [None, None];
    for (slot, conn) in [(0, &a), (1, &b)] {
        let Some(c) = conn else { continue };
        let z = match erpnext_zone_of(cx, c).await {
            Ok(z) => {
                notes.extend(z.note);
                z.tz
            }
            Err(_) => c.timezone.parse().unwrap_or(chrono_tz::UTC),
        };
        zones[slot] = Some(z);
    }
    let now = cx.clock.now();
    let today = |tz: Option<chrono_tz::Tz>| tz.map(|z| site_time::wall(now, z).date());
    let (today_a, today_b) = (today(zones[0]), today(zones[1]));
    if i.posting_date.is_none() {
        let mut when = Vec::new();
        for (role, c, z) in [("A", &a, zones[0]), ("B", &b, zones[1])] {
            if let (Some(c), Some(z)) = (c, z) {
                let t = site_time::wall(now, z);
                when.push(format!(
                    "site {role} ({}): {} {} in {}",
                    c.name,
                    t.format("%Y-%m-%d"),
                    t.format("%H:%M"),
                    z.name()
                ));
            }
        }
        notes.push(format!(
            "Posting date and time: each document is dated with its own site's today and time when it is sent{}.",
            if when.is_empty() { String::new() } else { format!(" (now: {})", when.join("; ")) }
        ));
    }
    problems.extend(input::local_problems(&i, today_a.unwrap_or_else(|| now.date_naive())));
    if let (Some(cb), Some(today_b)) = (&b, today_b) {
        if let Some(d) = i.posting_date.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
            if d > today_b && today_a.is_none_or(|ta| d <= ta) {
                problems.push(Problem::new(
                    "posting_date",
                    format!(
                        "{d} is still in the future on site B ({}, {}); choose {today_b} or earlier.",
                        cb.name,
                        zones[1].map(|z| z.name()).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    if let (Some(ca), Some(cb)) = (&a, &b) {
        if ca.id != cb.id {
            let clients = (erp_client(cx, ca), erp_client(cx, cb));
            match clients {
                (Ok(ea), Ok(eb)) => {
                    let (p, r) = checks::remote_problems(&ea, &eb, &mut i).await;
                    problems.extend(p);
                    notes.extend(r.notes);
                }
                (Err(e), _) => problems.push(Problem::new("site_a", e.to_string())),
                (_, Err(e)) => problems.push(Problem::new("site_b", e.to_string())),
            }
        }
    }
    let site = |c: &Option<Connection>, z: Option<chrono_tz::Tz>| {
        let tz = z.unwrap_or(chrono_tz::UTC);
        (c.as_ref().map(|c| c.name.clone()).unwrap_or_default(), tz, site_time::posting_for(&i, tz, now).0)
    };
    let (na, za, pa) = site(&a, zones[0]);
    let (nb, zb, pb) = site(&b, zones[1]);
    let documents = super::docs::preview(
        &i,
        "(new run)",
        &PreviewSite { name: &na, timezone: if a.is_some() { za.name() } else { "" }, posting: pa },
        &PreviewSite { name: &nb, timezone: if b.is_some() { zb.name() } else { "" }, posting: pb },
    );
    Ok(TransferPreview { valid: problems.is_empty(), problems, notes, input: i, documents })
}

/// Validates the form and starts the transfer as an `erpnext_workflow` job. A transfer of a site A
/// that is already busy with another one is queued behind it.
pub async fn erpnext_start(cx: &Arc<Ctx>, form: &TransferInput, reason: Option<&str>) -> CoreResult<TransferRun> {
    let run = erpnext_create(cx, form, reason).await?;
    let a = cx.connections().get(run.site_a_id.as_deref().unwrap_or(""))?;
    spawn_worker(cx, &a, Some(&run.id))?;
    Ok(runs::detail(&cx.store, &run.id)?.run)
}

/// Validates the form and stores the run, queued, without starting a job: the next worker of
/// its site A (or [`Core::erpnext_resume_interrupted`]) runs it.
pub async fn erpnext_create(cx: &Ctx, form: &TransferInput, reason: Option<&str>) -> CoreResult<TransferRun> {
    let preview = erpnext_preview(cx, form).await?;
    if !preview.valid {
        let field = preview.problems.first().map(|p| p.field.clone()).unwrap_or_default();
        let all: Vec<String> = preview.problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
        return Err(CoreError::invalid(
            &field,
            format!("The transfer was not started; nothing was sent. {}", all.join(" | ")),
        ));
    }
    let i = preview.input;
    let a = cx.connections().get(&i.site_a)?;
    let b = cx.connections().get(&i.site_b)?;
    let id = uuid::Uuid::new_v4().to_string();
    let summary = runs::TransferTitle::of(&i).english();
    runs::create(&cx.store, &id, &i, &a, &b, &summary, reason.unwrap_or("started"))?;
    Ok(runs::detail(&cx.store, &id)?.run)
}

/// Starts the worker job of a site A, or (if one is active) leaves the run queued for it and
/// watches for the moment it ends.
fn spawn_worker(cx: &Arc<Ctx>, site_a: &Connection, prefer: Option<&str>) -> CoreResult<Option<Job>> {
    let core = cx.clone();
    let site_id = site_a.id.clone();
    let prefer_s = prefer.map(str::to_string);
    let params = serde_json::json!({"run_id": prefer});
    match cx.jobs.spawn(JOB_KIND, Some(site_a), params, move |ctx| engine::worker(core, ctx, site_id, prefer_s)) {
        Ok((job, _h)) => Ok(Some(job)),
        Err(CoreError::JobAlreadyRunning { .. }) => {
            // The active job takes queued runs before it ends; if it ended just now, start another.
            let core = cx.clone();
            let conn = site_a.clone();
            let prefer = prefer.map(str::to_string);
            tokio::spawn(async move {
                for _ in 0..2400 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let queued = match &prefer {
                        Some(id) => runs::detail(&core.store, id).map(|d| d.run.queued).unwrap_or(false),
                        None => true,
                    };
                    if !queued {
                        return;
                    }
                    if runs::job_active_for(&core.store, &conn.id).ok().flatten().is_none() {
                        let _ = spawn_worker(&core, &conn, prefer.as_deref());
                        return;
                    }
                }
            });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub fn erpnext_runs(cx: &Ctx, filter: &RunFilter) -> CoreResult<Vec<TransferRun>> {
    runs::list(&cx.store, filter)
}

/// One run with its steps, every attempt and the operator's actions. `id` may be a unique prefix.
pub fn erpnext_run(cx: &Ctx, id: &str) -> CoreResult<TransferRunDetail> {
    let id = runs::resolve(&cx.store, id)?;
    runs::detail(&cx.store, &id)
}

fn site_a_of(cx: &Ctx, d: &TransferRunDetail) -> CoreResult<Connection> {
    let id = d
        .run
        .site_a_id
        .clone()
        .ok_or_else(|| CoreError::NotFound { what: format!("Connection \"{}\"", d.run.site_a_name) })?;
    cx.connections().get(&id)
}

fn is_live(cx: &Ctx, d: &TransferRunDetail) -> bool {
    d.run.site_a_id.as_deref().and_then(|s| runs::job_active_for(&cx.store, s).ok().flatten()).is_some()
        && matches!(d.run.status, RunStatus::Running | RunStatus::Compensating | RunStatus::Pending)
}

/// Operator: continue a failed (or cancelled, or interrupted) run at its first step not done.
pub fn erpnext_retry(cx: &Arc<Ctx>, id: &str, reason: &str) -> CoreResult<TransferRunDetail> {
    let reason = reason_ok(reason)?;
    let d = erpnext_run(cx, id)?;
    let interrupted = matches!(d.run.status, RunStatus::Running | RunStatus::Pending) && !is_live(cx, &d);
    let compensated_any = d.steps.iter().any(|s| s.status == StepStatus::Compensated);
    if compensated_any {
        return Err(CoreError::invalid(
            "status",
            "Documents of this run were cancelled by a compensation; it cannot continue. Start a new transfer.",
        ));
    }
    if !(matches!(d.run.status, RunStatus::Failed | RunStatus::Cancelled) || interrupted) {
        return Err(CoreError::invalid(
            "status",
            format!(
                "This run is {}; only a failed, cancelled or interrupted run can be retried.",
                d.run.status.as_str()
            ),
        ));
    }
    runs::queue(&cx.store, &d.run.id, "run", "retry", &reason, RunStatus::Pending)?;
    spawn_worker(cx, &site_a_of(cx, &d)?, Some(&d.run.id))?;
    runs::detail(&cx.store, &d.run.id)
}

/// Operator: stop a run. A running one stops at its next safe point (never between sending a
/// document and recording it); documents already created stay (compensate undoes them).
pub async fn erpnext_cancel(cx: &Arc<Ctx>, id: &str, reason: &str) -> CoreResult<TransferRunDetail> {
    let reason = reason_ok(reason)?;
    let d = erpnext_run(cx, id)?;
    match d.run.status {
        RunStatus::Succeeded | RunStatus::Compensated => {
            return Err(CoreError::invalid(
                "status",
                format!(
                    "This run is {}; there is nothing to cancel. To undo its documents, compensate it.",
                    d.run.status.as_str()
                ),
            ))
        }
        RunStatus::Cancelled => return Err(CoreError::invalid("status", "This run is already cancelled.")),
        RunStatus::Compensating => {
            return Err(CoreError::invalid("status", "This run is being compensated; wait for it to finish."))
        }
        _ => {}
    }
    let held = d.run.status == RunStatus::Running && is_live(cx, &d);
    if held {
        runs::request_cancel(&cx.store, &d.run.id, &reason)?;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = runs::detail(&cx.store, &d.run.id)?;
            if now.run.status != RunStatus::Running {
                return Ok(now);
            }
        }
        return runs::detail(&cx.store, &d.run.id);
    }
    runs::cancel_now(&cx.store, &d.run.id, &reason)?;
    runs::detail(&cx.store, &d.run.id)
}

/// Operator: cancel the run's submitted documents through the API, last first, as a job.
pub fn erpnext_compensate(cx: &Arc<Ctx>, id: &str, reason: &str) -> CoreResult<TransferRunDetail> {
    let reason = reason_ok(reason)?;
    let d = erpnext_run(cx, id)?;
    if is_live(cx, &d) && d.run.status != RunStatus::Pending {
        return Err(CoreError::invalid("status", "This run is in progress. Cancel it first, then compensate."));
    }
    if d.run.status == RunStatus::Compensated {
        return Err(CoreError::invalid("status", "This run is already compensated."));
    }
    let anything = d.steps.iter().any(|s| s.doc_name.is_some() || s.attempts > 0);
    if !anything {
        runs::record_action(&cx.store, &d.run.id, "compensate", &reason)?;
        runs::finish(&cx.store, &d.run.id, RunStatus::Compensated, None)?;
        return runs::detail(&cx.store, &d.run.id);
    }
    runs::queue(&cx.store, &d.run.id, "compensate", "compensate", &reason, RunStatus::Compensating)?;
    spawn_worker(cx, &site_a_of(cx, &d)?, Some(&d.run.id))?;
    runs::detail(&cx.store, &d.run.id)
}

/// At start-up (and on demand): runs that were in progress or queued when BackOffice (or the
/// CLI) stopped continue where they were. Returns the ids resumed.
pub fn erpnext_resume_interrupted(cx: &Arc<Ctx>) -> CoreResult<Vec<String>> {
    let mut resumed = vec![];
    let mut started_sites = std::collections::BTreeSet::new();
    for (run_id, site_a) in runs::orphaned(&cx.store)? {
        runs::requeue_interrupted(&cx.store, &run_id)?;
        resumed.push(run_id.clone());
        if started_sites.insert(site_a.clone()) {
            if let Ok(conn) = cx.connections().get(&site_a) {
                spawn_worker(cx, &conn, Some(&run_id))?;
            }
        }
    }
    Ok(resumed)
}

/// Whether a connection's site has the idempotency field (on Purchase Order, Purchase Receipt
/// and Delivery Note), with the explanation the UI shows next to the offer to create it.
pub async fn erpnext_field_status(cx: &Ctx, connection_id: &str) -> CoreResult<FieldStatus> {
    let conn = erpnext_conn(cx, connection_id)?;
    let c = erp_client(cx, &conn)?;
    let mut st = checks::field_report_for(&c, &checks::FIELD_DOCTYPES).await.map_err(|e| e.into_core())?;
    st.connection_id = conn.id;
    Ok(st)
}

/// Creates the idempotency field where it is missing (`POST /api/resource/Custom Field`).
pub async fn erpnext_ensure_field(cx: &Ctx, connection_id: &str) -> CoreResult<FieldStatus> {
    let conn = erpnext_conn(cx, connection_id)?;
    let c = erp_client(cx, &conn)?;
    let mut st =
        checks::ensure_fields(&c, &checks::FIELD_DOCTYPES).await.map_err(|e| checks::field_error(&conn.name, e))?;
    st.connection_id = conn.id;
    Ok(st)
}

pub(crate) fn erpnext_conn(cx: &Ctx, id_or_name: &str) -> CoreResult<Connection> {
    let conn = cx.connections().get(id_or_name).or_else(|_| cx.connections().find_by_name(id_or_name))?;
    if conn.kind != ConnectionKind::Erpnext {
        return Err(CoreError::invalid("connection", format!("\"{}\" is not an ERPNext connection", conn.name)));
    }
    Ok(conn)
}

pub fn erpnext_settings(cx: &Ctx) -> CoreResult<WorkflowSettings> {
    super::load_settings(&cx.store)
}

pub fn save_erpnext_settings(cx: &Ctx, s: &WorkflowSettings) -> CoreResult<WorkflowSettings> {
    super::save_settings(&cx.store, s)
}

/// `Core::start_job("erpnext_workflow", _, {"run_id": ID, "reason": TEXT?})`: runs or resumes a
/// queued or interrupted transfer; with a reason, also retries a failed or cancelled one.
/// Returns the worker job of the run's site A (the active one if it is already working).
pub fn start_erpnext_workflow_job(cx: &Arc<Ctx>, params: serde_json::Value) -> CoreResult<Job> {
    let run_id = params
        .get("run_id")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| CoreError::invalid("params", "an \"erpnext_workflow\" job needs {\"run_id\": ...}"))?;
    let d = erpnext_run(cx, run_id)?;
    let site_a = site_a_of(cx, &d)?;
    // Both sites' keys are needed on this desk: refused at once, naming the desks that keep them.
    cx.connections().require_key(&site_a)?;
    if let Some(b) = d.run.site_b_id.as_deref() {
        cx.connections().require_key(&cx.connections().get(b)?)?;
    }
    match params.get("reason").and_then(serde_json::Value::as_str) {
        Some(reason) if matches!(d.run.status, RunStatus::Failed | RunStatus::Cancelled) => {
            erpnext_retry(cx, &d.run.id, reason)?;
        }
        _ => {
            if !d.run.queued && !matches!(d.run.status, RunStatus::Running | RunStatus::Compensating) {
                return Err(CoreError::invalid(
                    "status",
                    format!(
                        "Transfer {} is {}; retry it with a reason to run it again.",
                        d.run.id,
                        d.run.status.as_str()
                    ),
                ));
            }
            runs::requeue_interrupted(&cx.store, &d.run.id)?;
            spawn_worker(cx, &site_a, Some(&d.run.id))?;
        }
    }
    let job_id = runs::job_active_for(&cx.store, &site_a.id)?
        .ok_or_else(|| CoreError::Internal("the transfer's job ended at once; see the run".into()))?;
    cx.jobs.get(&job_id)
}

/// Drives one run in this task, without a job (tests use it to stop a run mid-step).
pub async fn erpnext_drive_now(cx: &Arc<Ctx>, id: &str) -> CoreResult<engine::Outcome> {
    let id = runs::resolve(&cx.store, id)?;
    runs::mark_running(&cx.store, &id)?;
    engine::drive_run(cx, &engine::Reporter::default(), &id, "run").await
}
