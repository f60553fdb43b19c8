//! `backoffice divergences ...`: run a processing session (the desktop's "Run check now" and its
//! 07:00 job), list and show divergences, approve / reject / reopen / assign with a reason, apply
//! approved corrections or roll them back, the rules and their history, and CSV reports.

use std::path::PathBuf;

use anyhow::Result;
use backoffice_core::ops::divergences::{
    ApplyParams, Decision, Divergence, DivergenceFilter, RuleInput, SessionParams,
};
use clap::{Subcommand, ValueEnum};

use crate::{output, Ctx};

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// Detect only
    Manual,
    /// Detect, then apply what each rule's auto-apply threshold allows
    Auto,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Report {
    Divergences,
    Operations,
    Sessions,
    /// The categories BackOffice keeps for records of ERPs it does not write to
    Reclassifications,
}

#[derive(Subcommand)]
pub enum DivergencesCmd {
    /// Run the rules over the synced data (a processing session; also `process`, the seed's name)
    #[command(alias = "process", alias = "processar")]
    Run {
        #[arg(long, alias = "modo", value_enum, default_value = "manual")]
        mode: Mode,
        /// Only these rules (ids; default: every enabled rule)
        #[arg(long, num_args = 1..)]
        rules: Vec<String>,
        /// Run every rule even if nothing was synced since its last run
        #[arg(long)]
        force: bool,
    },
    /// List divergences (default: open, approved and failed ones)
    List {
        /// open, approved, rejected, applied, failed, rolled_back, resolved (repeatable)
        #[arg(long, num_args = 1..)]
        status: Vec<String>,
        #[arg(long, num_args = 1..)]
        rule: Vec<String>,
        #[arg(long)]
        min_confidence: Option<u8>,
        #[arg(long)]
        min_amount: Option<String>,
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
    },
    /// One divergence with its explanation, evidence, history and operations
    Show { id: String },
    /// Approve divergences (a reason is required)
    Approve {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
        #[arg(long)]
        reason: String,
    },
    /// Reject divergences (a reason is required)
    Reject {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
        #[arg(long)]
        reason: String,
    },
    /// Reopen rejected, resolved or rolled-back divergences (a reason is required)
    Reopen {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
        #[arg(long)]
        reason: String,
    },
    /// Assign divergences to someone (empty to unassign)
    Assign {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
        #[arg(long)]
        to: String,
    },
    /// Apply approved corrections in the ERP (all approved ones without ids)
    Apply { ids: Vec<String> },
    /// Roll applied corrections back (refused when the record was edited after our write)
    Rollback {
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
    },
    /// The rules with their thresholds
    Rules,
    /// Change a rule; the reason is kept in its history
    SetRule {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        confidence: Option<u8>,
        #[arg(long)]
        show_threshold: Option<u8>,
        #[arg(long)]
        auto_apply_threshold: Option<u8>,
        #[arg(long)]
        no_auto_apply: bool,
        #[arg(long)]
        enable: bool,
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// The rule's parameters as a JSON object
        #[arg(long)]
        params: Option<String>,
    },
    /// A rule's versions: who changed what, when and why
    RuleHistory { id: String },
    /// Per rule: open ones by age, amount at stake, approve rate, median time to close
    Metrics,
    /// Processing sessions with their counts per rule
    Sessions {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Write a CSV report
    Export {
        #[arg(long, value_enum, default_value = "divergences")]
        report: Report,
        /// csv, or xlsx for the divergences report
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, num_args = 1..)]
        status: Vec<String>,
    },
}

/// Amounts per currency as plain text: "BRL 1234.5 + USD 10".
fn per_currency(amounts: &std::collections::BTreeMap<String, String>) -> String {
    if amounts.is_empty() {
        return "0".into();
    }
    amounts.iter().map(|(c, a)| format!("{c} {a}").trim().to_string()).collect::<Vec<_>>().join(" + ")
}

fn print_list(json: bool, items: &[Divergence], total: u32, amounts: &std::collections::BTreeMap<String, String>) {
    if json {
        return;
    }
    println!("{total} divergence(s), {} at stake", per_currency(amounts));
    println!("{:<36} {:<11} {:>4} {:>14}  {:<34} RECORD", "ID", "STATUS", "CONF", "AMOUNT", "RULE");
    for d in items {
        println!(
            "{:<36} {:<11} {:>3}% {:>14}  {:<34} {}",
            d.id,
            d.status,
            d.confidence,
            d.amount.as_deref().unwrap_or("-"),
            d.rule_name,
            d.record_label
        );
    }
}

fn decide(ctx: &Ctx, ids: Vec<String>, action: &str, reason: String, assignee: Option<String>) -> Result<i32> {
    let r =
        ctx.core.decide_divergences(&Decision { ids, action: action.into(), reason, assignee, explanation: None })?;
    if ctx.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("{} changed", r.changed.len());
        for (id, why) in &r.skipped {
            println!("skipped {id}: {why}");
        }
    }
    Ok(if r.skipped.is_empty() { 0 } else { 1 })
}

pub async fn run(ctx: &Ctx, cmd: DivergencesCmd) -> Result<i32> {
    let core = &ctx.core;
    if matches!(cmd, DivergencesCmd::Apply { .. } | DivergencesCmd::Rollback { .. } | DivergencesCmd::Run { .. }) {
        // Corrections are written with the connection's credentials: the keychain's, or for a
        // headless host the OMIE_APP_KEY / OMIE_APP_SECRET the sync used.
        if std::env::var_os("OMIE_APP_KEY").is_some() {
            crate::omie::resolve_omie(ctx, None)?;
        }
    }
    match cmd {
        DivergencesCmd::Run { mode, rules, force } => {
            let mode = match mode {
                Mode::Manual => "manual",
                Mode::Auto => "auto",
            };
            let job = core.start_divergence_session(SessionParams { mode: mode.into(), rules, force })?;
            output::follow_job(ctx, &job.id).await
        }
        DivergencesCmd::List { status, rule, min_confidence, min_amount, search, limit } => {
            let statuses =
                if status.is_empty() { vec!["open".into(), "approved".into(), "failed".into()] } else { status };
            let f = DivergenceFilter {
                statuses,
                rule_ids: rule,
                min_confidence,
                min_amount,
                search,
                limit: Some(limit),
                ..Default::default()
            };
            let page = core.divergences(&f)?;
            if ctx.json {
                println!("{}", serde_json::to_string(&page)?);
            }
            print_list(ctx.json, &page.items, page.total, &page.amounts);
            Ok(0)
        }
        DivergencesCmd::Show { id } => {
            let d = core.divergence(&id)?;
            if ctx.json {
                println!("{}", serde_json::to_string(&d)?);
                return Ok(0);
            }
            let v = &d.divergence;
            println!("{} — {} ({}%, {})", v.record_label, v.rule_name, v.confidence, v.basis);
            println!("status: {}   amount: {}", v.status, v.amount.as_deref().unwrap_or("-"));
            for (k, x) in &v.facts {
                println!("  {k}: {x}");
            }
            if let Some(c) = &v.correction {
                println!("correction: {} {} → {}", c.field, c.before, c.after);
            }
            for e in &v.evidence {
                println!("evidence: {} {} {}", e.resource, e.id, e.label);
            }
            for e in &d.events {
                println!("{} {:<16} {}@{} {}", e.at, e.action, e.who, e.machine, e.note);
            }
            for o in &d.operations {
                println!(
                    "{} {:<8} {:<9} {} → {} {}",
                    o.created_at,
                    o.kind,
                    o.status,
                    o.before.as_deref().unwrap_or(""),
                    o.after.as_deref().unwrap_or(""),
                    o.error.as_ref().map(|e| e.message.as_str()).unwrap_or("")
                );
            }
            Ok(0)
        }
        DivergencesCmd::Approve { ids, reason } => decide(ctx, ids, "approve", reason, None),
        DivergencesCmd::Reject { ids, reason } => decide(ctx, ids, "reject", reason, None),
        DivergencesCmd::Reopen { ids, reason } => decide(ctx, ids, "reopen", reason, None),
        DivergencesCmd::Assign { ids, to } => decide(ctx, ids, "assign", String::new(), Some(to)),
        DivergencesCmd::Apply { ids } => {
            let job = core.apply_divergences(ApplyParams { ids, rollback: false })?;
            output::follow_job(ctx, &job.id).await
        }
        DivergencesCmd::Rollback { ids } => {
            let job = core.apply_divergences(ApplyParams { ids, rollback: true })?;
            output::follow_job(ctx, &job.id).await
        }
        DivergencesCmd::Rules => {
            let rules = core.divergence_rules()?;
            if ctx.json {
                println!("{}", serde_json::to_string(&rules)?);
            } else {
                println!("{:<26} {:<17} {:>4} {:>5} {:>6} {:<7} NAME", "ID", "KIND", "CONF", "SHOW", "AUTO", "ENABLED");
                for r in rules {
                    let auto = r.auto_apply_threshold.map(|a| format!("{a}%")).unwrap_or_else(|| "never".into());
                    println!(
                        "{:<26} {:<17} {:>3}% {:>4}% {:>6} {:<7} {} (v{})",
                        r.id, r.kind, r.confidence, r.show_threshold, auto, r.enabled, r.name, r.version
                    );
                }
            }
            Ok(0)
        }
        DivergencesCmd::SetRule {
            id,
            reason,
            confidence,
            show_threshold,
            auto_apply_threshold,
            no_auto_apply,
            enable,
            disable,
            params,
        } => {
            let params =
                match params {
                    Some(p) => Some(serde_json::from_str(&p).map_err(|e| {
                        backoffice_core::CoreError::invalid("params", format!("not a JSON object ({e})"))
                    })?),
                    None => None,
                };
            let input = RuleInput {
                name: None,
                params,
                confidence,
                show_threshold,
                auto_apply_threshold,
                auto_apply_off: no_auto_apply,
                enabled: if enable {
                    Some(true)
                } else if disable {
                    Some(false)
                } else {
                    None
                },
                reason,
            };
            let r = core.save_divergence_rule(&id, &input)?;
            if ctx.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{} is now version {}", r.name, r.version);
            }
            Ok(0)
        }
        DivergencesCmd::RuleHistory { id } => {
            let h = core.divergence_rule_history(&id)?;
            if ctx.json {
                println!("{}", serde_json::to_string(&h)?);
            } else {
                for v in h {
                    println!("v{} {} {} — {}", v.version, v.changed_at, v.changed_by, v.reason);
                }
            }
            Ok(0)
        }
        DivergencesCmd::Metrics => {
            let m = core.divergence_metrics()?;
            if ctx.json {
                println!("{}", serde_json::to_string(&m)?);
                return Ok(0);
            }
            let pct = |x: Option<f64>| x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "-".into());
            println!(
                "{} open, {} at stake, auto-applied {}",
                m.open,
                per_currency(&m.amounts_open),
                pct(m.auto_apply_rate)
            );
            println!(
                "{:<36} {:>6} {:>14} {:>17} {:>9} {:>8} {:>8}",
                "RULE", "OPEN", "AT STAKE", "<1d/<7d/<30d/old", "APPROVE", "REJECT", "MEDIAN"
            );
            for r in &m.rules {
                let a = r.open_by_age;
                println!(
                    "{:<36} {:>6} {:>14} {:>17} {:>9} {:>8} {:>8}",
                    r.rule_name,
                    r.open,
                    per_currency(&r.amounts_open),
                    format!("{}/{}/{}/{}", a[0], a[1], a[2], a[3]),
                    pct(r.approve_rate),
                    r.rejected,
                    r.median_hours_to_end.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "-".into())
                );
            }
            Ok(0)
        }
        DivergencesCmd::Sessions { limit } => {
            let s = core.divergence_sessions(limit)?;
            if ctx.json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                for x in s {
                    let total = |k: &str| x.counts.values().map(|c| c.get(k).copied().unwrap_or(0)).sum::<i64>();
                    println!(
                        "{} {:<6} {:<9} new={} open={} resolved={} {}@{}",
                        x.started_at,
                        x.mode,
                        x.status,
                        total("new"),
                        total("still_open"),
                        total("resolved"),
                        x.who,
                        x.machine
                    );
                }
            }
            Ok(0)
        }
        DivergencesCmd::Export { report, format, out, status } => {
            let xlsx = match format.as_str() {
                "csv" => false,
                "xlsx" if matches!(report, Report::Divergences) => true,
                "xlsx" => {
                    return Err(backoffice_core::CoreError::invalid(
                        "format",
                        "operations, sessions and reclassifications are exported as csv",
                    )
                    .into())
                }
                other => {
                    return Err(backoffice_core::CoreError::invalid(
                        "format",
                        format!("\"{other}\" is not csv or xlsx"),
                    )
                    .into())
                }
            };
            let n = match report {
                Report::Divergences if xlsx => {
                    core.export_divergences_xlsx(&DivergenceFilter { statuses: status, ..Default::default() }, &out)?
                }
                Report::Divergences => {
                    core.export_divergences_csv(&DivergenceFilter { statuses: status, ..Default::default() }, &out)?
                }
                Report::Operations => core.export_divergence_operations_csv(&out)?,
                Report::Sessions => core.export_divergence_sessions_csv(&out)?,
                Report::Reclassifications => core.export_reclassifications_csv(&out)?,
            };
            if ctx.json {
                println!("{}", serde_json::json!({ "rows": n, "file": out }));
            } else {
                println!("{n} row(s) written to {}", out.display());
            }
            Ok(0)
        }
    }
}
