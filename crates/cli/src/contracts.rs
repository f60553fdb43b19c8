//! `backoffice contracts ...` (the contract book, spreadsheet imports, billing settings) and
//! `backoffice reconcile billing ...` (contracted vs billed per client and month, as the Contracts
//! screen shows it).

use std::path::PathBuf;

use anyhow::Result;
use backoffice_core::ops::contracts::{BillingSettings, ContractInput, ImportPreview, ReconcileQuery};
use clap::{Args, Subcommand};

use crate::Ctx;

#[derive(Subcommand)]
pub enum ContractsCmd {
    /// List the contracts
    List {
        /// Only this company (connection id or name)
        #[arg(long)]
        connection: Option<String>,
    },
    /// Import contracts from a CSV or XLSX file: a preview row by row, then one transaction
    Import {
        file: PathBuf,
        /// Only show what would be created, updated or refused
        #[arg(long)]
        dry_run: bool,
        /// Import the good rows even if some are refused (default: nothing is imported then)
        #[arg(long)]
        skip_refused: bool,
        #[arg(long)]
        connection: Option<String>,
    },
    /// Add (or, with --id, change) one contract
    Save(Box<SaveArgs>),
    /// Delete a contract (its history is kept)
    Delete {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Show or change how billing is counted (date basis, statuses, tolerance, months checked)
    Settings {
        /// emission, due or registration
        #[arg(long)]
        date_basis: Option<String>,
        /// Statuses that count as billed (default: every one but CANCELADO)
        #[arg(long, num_args = 0..)]
        statuses: Option<Vec<String>>,
        #[arg(long)]
        tolerance_amount: Option<String>,
        #[arg(long)]
        tolerance_percent: Option<String>,
        #[arg(long)]
        months_back: Option<u32>,
    },
}

#[derive(Args)]
pub struct SaveArgs {
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    connection: Option<String>,
    /// The client's CNPJ/CPF (or RUC), or its code in the ERP
    #[arg(long)]
    client: String,
    #[arg(long)]
    description: String,
    /// Monthly value, e.g. 1234.56 or 1.234,56
    #[arg(long)]
    mrr: String,
    /// Start date (2026-01-31 or 31/01/2026)
    #[arg(long)]
    start: String,
    #[arg(long)]
    end: Option<String>,
    #[arg(long)]
    billing_day: Option<String>,
    /// active, suspended or ended
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    readjust_index: Option<String>,
    #[arg(long)]
    readjust_month: Option<String>,
    #[arg(long)]
    readjust_percent: Option<String>,
    #[arg(long)]
    tolerance_amount: Option<String>,
    #[arg(long)]
    tolerance_percent: Option<String>,
    #[arg(long, default_value = "")]
    notes: String,
    #[arg(long, default_value = "")]
    reason: String,
}

#[derive(Subcommand)]
pub enum ReconcileCmd {
    /// Contracted vs billed per client for a month
    Billing {
        /// YYYY-MM (default: this month)
        #[arg(long, conflicts_with_all = ["from", "to"])]
        month: Option<String>,
        /// A whole period instead of one month: its first month (YYYY-MM), with --to
        #[arg(long, requires = "to", conflicts_with = "client")]
        from: Option<String>,
        /// The period's last month (YYYY-MM), with --from
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Only this client (CNPJ/CPF, RUC, or ERP code)
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        connection: Option<String>,
        /// Only these verdicts: within, above, below, no_billing, no_contract, pending
        #[arg(long, num_args = 1..)]
        verdict: Vec<String>,
        /// Also write the figures to this file (.csv or .xlsx)
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn print_preview(json: bool, p: &ImportPreview) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(p)?);
        return Ok(());
    }
    println!(
        "{}: {} to create, {} to update, {} unchanged, {} refused{}",
        p.file,
        p.create,
        p.update,
        p.unchanged,
        p.refused,
        if p.applied { " (imported)" } else { " (preview: nothing written)" }
    );
    if !p.ignored_columns.is_empty() {
        println!("columns ignored: {}", p.ignored_columns.join(", "));
    }
    for r in &p.rows {
        let what = match r.action.as_str() {
            "update" => format!("update ({})", r.changes.join(", ")),
            a => a.to_string(),
        };
        println!("line {:>4}  {:<22} {:<20} {}  {}", r.line, what, r.client, r.description, r.client_name);
        for pr in &r.problems {
            println!("            {}: {}", pr.field, pr.message);
        }
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, cmd: ContractsCmd) -> Result<i32> {
    let core = &ctx.core;
    match cmd {
        ContractsCmd::List { connection } => {
            let list = core.contracts(connection.as_deref())?;
            if ctx.json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                println!("{} contract(s)", list.len());
                for c in &list {
                    println!(
                        "{:<36} {:<9} {:<16} {:<34} {:>12} {} {} → {}",
                        c.id,
                        c.status,
                        c.client_document,
                        format!("{} · {}", c.client_name, c.description),
                        c.mrr,
                        c.currency,
                        c.start_date,
                        c.end_date.as_deref().unwrap_or("…")
                    );
                }
            }
            Ok(0)
        }
        ContractsCmd::Import { file, dry_run, skip_refused, connection } => {
            let p = if dry_run {
                core.preview_contracts_import(&file, connection.as_deref())?
            } else {
                core.import_contracts(&file, connection.as_deref(), skip_refused)?
            };
            print_preview(ctx.json, &p)?;
            Ok(if p.refused > 0 { 1 } else { 0 })
        }
        ContractsCmd::Save(args) => {
            let SaveArgs {
                id,
                connection,
                client,
                description,
                mrr,
                start,
                end,
                billing_day,
                status,
                readjust_index,
                readjust_month,
                readjust_percent,
                tolerance_amount,
                tolerance_percent,
                notes,
                reason,
            } = *args;
            let c = core.save_contract(&ContractInput {
                id,
                connection_id: connection,
                client,
                description,
                mrr,
                currency: None,
                start_date: start,
                end_date: end,
                billing_day,
                status,
                readjust_index,
                readjust_month,
                readjust_percent,
                tolerance_amount,
                tolerance_percent,
                notes,
                reason,
            })?;
            if ctx.json {
                println!("{}", serde_json::to_string(&c)?);
            } else {
                println!("saved {} ({} · {}, version {})", c.id, c.client_name, c.description, c.version);
            }
            Ok(0)
        }
        ContractsCmd::Delete { id, reason } => {
            core.delete_contract(&id, &reason)?;
            if !ctx.json {
                println!("deleted {id}");
            }
            Ok(0)
        }
        ContractsCmd::Settings { date_basis, statuses, tolerance_amount, tolerance_percent, months_back } => {
            let mut s: BillingSettings = core.billing_settings()?;
            let change = date_basis.is_some()
                || statuses.is_some()
                || tolerance_amount.is_some()
                || tolerance_percent.is_some()
                || months_back.is_some();
            if change {
                if let Some(v) = date_basis {
                    s.date_basis = v;
                }
                if let Some(v) = statuses {
                    s.statuses = v;
                }
                if let Some(v) = tolerance_amount {
                    s.tolerance_amount = v;
                }
                if let Some(v) = tolerance_percent {
                    s.tolerance_percent = v;
                }
                if let Some(v) = months_back {
                    s.months_back = v;
                }
                s = core.save_billing_settings(&s)?;
            }
            if ctx.json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                println!(
                    "date basis: {}; statuses: {}; tolerance: R$ {} or {}%; months checked: {}",
                    s.date_basis,
                    if s.statuses.is_empty() { "every one but cancelled".to_string() } else { s.statuses.join(", ") },
                    s.tolerance_amount,
                    s.tolerance_percent,
                    s.months_back
                );
            }
            Ok(0)
        }
    }
}

pub async fn reconcile(ctx: &Ctx, cmd: ReconcileCmd) -> Result<i32> {
    let ReconcileCmd::Billing { month, from, to, client, connection, verdict, out } = cmd;
    if let (Some(from), Some(to)) = (from, to) {
        return reconcile_period(ctx, connection.as_deref(), (&from, &to), &verdict, out.as_deref());
    }
    let q = ReconcileQuery { month, connection_id: connection, client, verdicts: verdict };
    let r = ctx.core.reconcile_billing(&q)?;
    if let Some(path) = &out {
        let format = report_format(path);
        ctx.core.export_reconciliation(&q, format, path)?;
    }
    if ctx.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} · {} · {} client(s): contracted {} {}, billed {} {}",
            r.connection_name, r.month, r.totals.clients, r.currency, r.totals.contracted, r.currency, r.totals.billed
        );
        match &r.data_as_of {
            Some(t) if r.stale => println!("warning: the billing data is from {t}, more than a day old: sync first"),
            Some(t) => println!("billing data as of {t}"),
            None => println!("warning: this company was never synced; there is no billing data yet"),
        }
        print_client_months(&r.rows, false);
    }
    Ok(0)
}

/// `reconcile billing --from M --to M`: every client-month of the period, month by month.
fn reconcile_period(
    ctx: &Ctx,
    connection: Option<&str>,
    (from, to): (&str, &str),
    verdicts: &[String],
    out: Option<&std::path::Path>,
) -> Result<i32> {
    let rows = ctx.core.reconcile_billing_range(connection, from, to, verdicts)?;
    if let Some(path) = out {
        let format = report_format(path);
        let n = ctx.core.export_client_months(&rows, &format!("Billing {from} to {to}"), format, path)?;
        if !ctx.json {
            println!("{n} row(s) written to {}", path.display());
        }
    }
    if ctx.json {
        println!("{}", serde_json::to_string(&rows)?);
        return Ok(0);
    }
    let divergent = rows.iter().filter(|r| !matches!(r.verdict.as_str(), "within" | "pending")).count();
    println!("{from} to {to}: {} client-month(s), {divergent} out of tolerance", rows.len());
    print_client_months(&rows, true);
    Ok(0)
}

/// The client-months as a table (with a month column for a period).
fn print_client_months(rows: &[backoffice_core::ops::contracts::ClientMonth], with_month: bool) {
    let month = |m: &str| if with_month { format!("{m:<8} ") } else { String::new() };
    println!(
        "{}{:<40} {:>14} {:>14} {:>14} {:>10}  {:<11} EXPLANATIONS",
        month("MONTH"),
        "CLIENT",
        "CONTRACTED",
        "BILLED",
        "DIFFERENCE",
        "TOLERANCE",
        "VERDICT"
    );
    for row in rows {
        let name: String = row.client_name.chars().take(40).collect();
        let ex: Vec<&str> = row.explanations.iter().map(|e| e.key.as_str()).collect();
        println!(
            "{}{:<40} {:>14} {:>14} {:>14} {:>10}  {:<11} {}",
            month(&row.month),
            name,
            row.contracted,
            row.billed,
            row.difference,
            row.tolerance,
            row.verdict,
            ex.join(", ")
        );
    }
}

/// The report format `--out` asks for: XLSX for a `.xlsx` file, CSV otherwise.
fn report_format(path: &std::path::Path) -> &'static str {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
        "xlsx"
    } else {
        "csv"
    }
}
