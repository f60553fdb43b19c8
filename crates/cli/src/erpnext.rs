//! `backoffice erpnext ...`: the inter-company transfer (start with a payload file, list, show,
//! retry, cancel, compensate), the idempotency field, the synced documents and the transfer's
//! retry settings. `--json` prints machine-readable output.

use std::time::Duration;

use anyhow::{Context, Result};
use backoffice_core::erp::erpnext::{
    input::parse_payload, RunFilter, RunStatus, TransferPreview, TransferRunDetail, WorkflowSettings,
};
use backoffice_core::CoreError;
use clap::Subcommand;

use crate::Ctx;

#[derive(Subcommand)]
pub enum ErpnextCmd {
    /// Inter-company transfer: PO, receipt and delivery on site A, receipt on site B
    Workflow {
        #[command(subcommand)]
        cmd: WorkflowCmd,
    },
    /// Create the unique custom field `custom_ext_ref` that makes every transfer step happen once
    EnsureField {
        /// The ERPNext connection (name or id)
        #[arg(long)]
        site: String,
        /// Only report which DocTypes have it
        #[arg(long)]
        check: bool,
    },
    /// Per-resource counts of synced Purchase Orders, Purchase Receipts and Delivery Notes
    Status {
        #[arg(long)]
        connection: String,
    },
    /// Show or change the transfer's timeouts and retry limits
    Settings {
        #[arg(long)]
        request_timeout_ms: Option<u64>,
        #[arg(long)]
        max_attempts: Option<u32>,
        #[arg(long)]
        backoff_min_ms: Option<u64>,
        #[arg(long)]
        backoff_max_ms: Option<u64>,
        #[arg(long)]
        max_retry_after_s: Option<u64>,
    },
}

#[derive(Subcommand)]
pub enum WorkflowCmd {
    /// Validate a payload (the form as JSON) and start the transfer; with --dry-run only check it
    /// and show the four documents
    Start {
        /// Company A's ERPNext connection (name or id)
        #[arg(long)]
        site_a: String,
        /// Company B's ERPNext connection (name or id)
        #[arg(long)]
        site_b: String,
        /// JSON file: supplier, company_a, customer_b_on_a, supplier_a_on_b, warehouse_a,
        /// warehouse_b, items [{item_code, qty, rate, serials}] (the seed's field names work too)
        #[arg(long)]
        payload: std::path::PathBuf,
        #[arg(long)]
        dry_run: bool,
        /// Why (kept with the run)
        #[arg(long)]
        reason: Option<String>,
        /// Return once the run is queued instead of waiting for it to end
        #[arg(long)]
        no_wait: bool,
    },
    /// Transfer runs, newest first
    List {
        /// pending, running, failed, succeeded, cancelled, compensating, compensated, compensation_failed
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One run: steps, documents, every attempt, the operator's actions
    Show { id: String },
    /// Continue a failed, cancelled or interrupted run at its first step not done
    Retry {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Stop a run (documents already created stay; compensate undoes them)
    Cancel {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Cancel the run's submitted documents on the sites, last first
    Compensate {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Continue runs that were in progress when BackOffice or the CLI stopped
    Resume,
}

pub async fn run(ctx: &Ctx, cmd: ErpnextCmd) -> Result<i32> {
    match cmd {
        ErpnextCmd::Workflow { cmd } => workflow(ctx, cmd).await,
        ErpnextCmd::EnsureField { site, check } => {
            let st = if check {
                ctx.core.erpnext_field_status(&site).await?
            } else {
                ctx.core.erpnext_ensure_field(&site).await?
            };
            if ctx.json {
                println!("{}", serde_json::to_string(&st)?);
            } else {
                println!("{}: field \"{}\"", st.connection_name, st.fieldname);
                for (label, list) in [
                    ("present", &st.present),
                    ("created now", &st.created),
                    ("missing", &st.missing),
                    ("not unique", &st.not_unique),
                ] {
                    if !list.is_empty() {
                        println!("  {label}: {}", list.join(", "));
                    }
                }
                if check && !(st.missing.is_empty() && st.not_unique.is_empty()) {
                    println!(
                        "\nWhy: {}\nCreate it with: backoffice erpnext ensure-field --site \"{}\"",
                        st.explanation, st.connection_name
                    );
                }
            }
            Ok(if st.missing.is_empty() && st.not_unique.is_empty() { 0 } else { 1 })
        }
        ErpnextCmd::Status { connection } => {
            let conn = ctx
                .core
                .connections()
                .find_by_name(&connection)
                .or_else(|_| ctx.core.connections().get(&connection))?;
            let s = ctx.core.sync_summary(&conn.id)?;
            if ctx.json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                let h = ["RESOURCE", "RECORDS", "DELETED", "LAST SUCCESS (UTC)", "LAST ERROR"];
                println!("{:<20} {:>8} {:>8} {:<26} {}", h[0], h[1], h[2], h[3], h[4]);
                for r in s {
                    println!(
                        "{:<20} {:>8} {:>8} {:<26} {}",
                        r.resource,
                        r.records,
                        r.deleted,
                        r.last_success_at.unwrap_or_else(|| "never".into()),
                        r.last_error.unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
        ErpnextCmd::Settings {
            request_timeout_ms,
            max_attempts,
            backoff_min_ms,
            backoff_max_ms,
            max_retry_after_s,
        } => {
            let mut s: WorkflowSettings = ctx.core.erpnext_settings()?;
            let changed = request_timeout_ms.is_some()
                || max_attempts.is_some()
                || backoff_min_ms.is_some()
                || backoff_max_ms.is_some()
                || max_retry_after_s.is_some();
            s.request_timeout_ms = request_timeout_ms.unwrap_or(s.request_timeout_ms);
            s.max_attempts = max_attempts.unwrap_or(s.max_attempts);
            s.backoff_min_ms = backoff_min_ms.unwrap_or(s.backoff_min_ms);
            s.backoff_max_ms = backoff_max_ms.unwrap_or(s.backoff_max_ms);
            s.max_retry_after_s = max_retry_after_s.unwrap_or(s.max_retry_after_s);
            if changed {
                s = ctx.core.save_erpnext_settings(&s)?;
            }
            if ctx.json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&s)?);
            }
            Ok(0)
        }
    }
}

fn status_arg(s: &str) -> Result<RunStatus> {
    let known = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Failed,
        RunStatus::Succeeded,
        RunStatus::Cancelled,
        RunStatus::Compensating,
        RunStatus::Compensated,
        RunStatus::CompensationFailed,
    ];
    known.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
        CoreError::invalid("status", format!("\"{s}\" is not a run status ({})", known.map(|k| k.as_str()).join(", ")))
            .into()
    })
}

async fn workflow(ctx: &Ctx, cmd: WorkflowCmd) -> Result<i32> {
    match cmd {
        WorkflowCmd::Start { site_a, site_b, payload, dry_run, reason, no_wait } => {
            let text =
                std::fs::read_to_string(&payload).with_context(|| format!("cannot read {}", payload.display()))?;
            let mut form = parse_payload(&text).map_err(|e| CoreError::invalid("payload", e))?;
            form.site_a = ctx.core.connections().find_by_name(&site_a).map(|c| c.id).unwrap_or(site_a);
            form.site_b = ctx.core.connections().find_by_name(&site_b).map(|c| c.id).unwrap_or(site_b);
            let preview = ctx.core.erpnext_preview(&form).await?;
            if dry_run || !preview.valid {
                print_preview(ctx.json, &preview);
                if !preview.valid && !ctx.json {
                    eprintln!("The transfer was not started; nothing was sent.");
                }
                return Ok(if preview.valid { 0 } else { 1 });
            }
            let run = ctx.core.erpnext_start(&preview.input, reason.as_deref()).await?;
            if !ctx.json {
                println!("transfer {} started: {}", run.id, run.summary);
            }
            if no_wait {
                let d = ctx.core.erpnext_run(&run.id)?;
                print_detail(ctx.json, &d);
                return Ok(0);
            }
            follow(ctx, &run.id).await
        }
        WorkflowCmd::List { status, limit } => {
            let status = status.as_deref().map(status_arg).transpose()?;
            let list = ctx.core.erpnext_runs(&RunFilter { status, limit: Some(limit) })?;
            if ctx.json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                let h = ["ID", "STATUS", "STEP", "CREATED (UTC)", "DOCUMENTS", "SUMMARY"];
                println!("{:<36} {:<19} {:<5} {:<24} {:<58} {}", h[0], h[1], h[2], h[3], h[4], h[5]);
                for r in list {
                    let docs: Vec<String> = r.documents.iter().map(|d| d.name.clone()).collect();
                    println!(
                        "{:<36} {:<19} {:<5} {:<24} {:<58} {}",
                        r.id,
                        r.status.as_str(),
                        r.current_step.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                        r.created_at,
                        docs.join(" "),
                        r.summary
                    );
                }
            }
            Ok(0)
        }
        WorkflowCmd::Show { id } => {
            let d = ctx.core.erpnext_run(&id)?;
            print_detail(ctx.json, &d);
            Ok(exit_code(d.run.status))
        }
        WorkflowCmd::Retry { id, reason } => {
            let d = ctx.core.erpnext_retry(&id, &reason)?;
            follow(ctx, &d.run.id).await
        }
        WorkflowCmd::Cancel { id, reason } => {
            let d = ctx.core.erpnext_cancel(&id, &reason).await?;
            print_detail(ctx.json, &d);
            Ok(if d.run.status == RunStatus::Cancelled { 0 } else { 1 })
        }
        WorkflowCmd::Compensate { id, reason } => {
            let d = ctx.core.erpnext_compensate(&id, &reason)?;
            follow(ctx, &d.run.id).await
        }
        WorkflowCmd::Resume => {
            let ids = ctx.core.erpnext_resume_interrupted()?;
            if !ctx.json {
                println!("resuming {} run(s)", ids.len());
            }
            let mut code = 0;
            for id in &ids {
                code = code.max(follow(ctx, id).await?);
            }
            if ctx.json && ids.is_empty() {
                println!("[]");
            }
            Ok(code)
        }
    }
}

fn exit_code(s: RunStatus) -> i32 {
    match s {
        RunStatus::Succeeded | RunStatus::Compensated | RunStatus::Cancelled => 0,
        _ => 1,
    }
}

/// Waits for a run to end, printing each step as it completes; returns the exit code.
async fn follow(ctx: &Ctx, id: &str) -> Result<i32> {
    let mut seen = 0usize;
    loop {
        let d = ctx.core.erpnext_run(id)?;
        if !ctx.json {
            for a in d.attempts.iter().skip(seen) {
                println!(
                    "  step {} {:<7} {:<9} {}",
                    a.step.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    a.action,
                    a.outcome,
                    a.message
                );
            }
        }
        seen = d.attempts.len();
        let busy =
            matches!(d.run.status, RunStatus::Pending | RunStatus::Running | RunStatus::Compensating) || d.run.queued;
        if !busy {
            print_detail(ctx.json, &d);
            return Ok(exit_code(d.run.status));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn print_preview(json: bool, p: &TransferPreview) {
    if json {
        println!("{}", serde_json::to_string(p).unwrap_or_default());
        return;
    }
    for n in &p.notes {
        println!("note: {n}");
    }
    for d in &p.documents {
        println!("\n{}. {} on site {} ({}) — {}", d.step, d.doctype, d.site.as_str(), d.site_name, d.title);
        for l in &d.lines {
            println!(
                "   {:<16} {:>6} × {:>12} = {:>12} {}  serials: {}",
                l.item_code,
                l.qty,
                l.rate,
                l.amount,
                l.warehouse,
                l.serials.join(", ")
            );
        }
        println!("   total {} {}  posting {}", d.total, d.currency, d.posting_date);
        for link in &d.links {
            println!("   {link}");
        }
    }
    if p.problems.is_empty() {
        println!("\nready: nothing was sent (dry run)");
    } else {
        println!("\n{} problem(s):", p.problems.len());
        for pr in &p.problems {
            let sugg = if pr.suggestions.is_empty() {
                String::new()
            } else {
                format!(" [closest: {}]", pr.suggestions.join(", "))
            };
            println!("  {}: {}{sugg}", pr.field, pr.message);
        }
    }
}

fn print_detail(json: bool, d: &TransferRunDetail) {
    if json {
        println!("{}", serde_json::to_string(d).unwrap_or_default());
        return;
    }
    let r = &d.run;
    println!("\ntransfer {}  {}  (site A {} → site B {})", r.id, r.status.as_str(), r.site_a_name, r.site_b_name);
    println!("{}", r.summary);
    for s in &d.steps {
        println!(
            "  {}. {:<28} {:<12} {:<22} attempts {}  {}",
            s.step,
            s.label,
            s.status.as_str(),
            s.doc_name.clone().unwrap_or_else(|| "-".into()),
            s.attempts,
            s.url.clone().unwrap_or_default()
        );
    }
    if let Some(e) = &r.last_error {
        println!("stopped at step {}: {}", e.step.map(|s| s.to_string()).unwrap_or_else(|| "-".into()), e.message);
        println!("fix: {}", e.fix);
    }
    if !d.actions.is_empty() {
        println!("actions:");
        for a in &d.actions {
            println!("  {} {:<10} {}", a.at, a.action, a.reason);
        }
    }
}
