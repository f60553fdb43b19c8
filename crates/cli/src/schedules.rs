//! `backoffice schedules ...`: list, add, remove, pause, resume, run now, history, and a foreground
//! daemon that evaluates the schedules for headless hosts.

use std::time::Duration;

use anyhow::Result;
use backoffice_core::ops::notify::Grouper;
use backoffice_core::ops::scheduler::{self, RunOutcome, Schedule, ScheduleInput, ScheduleRunRecord};
use backoffice_core::{Core, CoreError};
use clap::{ArgGroup, Subcommand};
use std::sync::Arc;

use crate::{output, Ctx};

#[derive(Subcommand)]
pub enum SchedulesCmd {
    /// All schedules with their timing, state and next run
    List,
    /// Add a schedule: a cron expression in a time zone, or an interval in minutes
    #[command(group(ArgGroup::new("when").required(true).args(["cron", "every_minutes"])))]
    Add {
        #[arg(long)]
        name: String,
        /// Job kind, e.g. sync_contifico, sync_omie, omie_attachment_scan
        #[arg(long)]
        kind: String,
        /// Connection name (for jobs that work on one)
        #[arg(long)]
        connection: Option<String>,
        /// 5 fields: minute hour day-of-month month day-of-week, e.g. "0 7 * * 1-5"
        #[arg(long)]
        cron: Option<String>,
        /// IANA time zone of --cron (default: the connection's, else UTC), e.g. America/Sao_Paulo
        #[arg(long, requires = "cron")]
        tz: Option<String>,
        /// Run every N minutes instead of a cron expression
        #[arg(long)]
        every_minutes: Option<u32>,
        /// Job parameters as a JSON object, e.g. '{"full_refresh": true}'
        #[arg(long)]
        params: Option<String>,
        /// Make up a run missed by less than this many minutes (sleep, app closed); default 720
        #[arg(long)]
        catch_up_minutes: Option<u32>,
        /// Create it paused
        #[arg(long)]
        paused: bool,
    },
    /// Remove a schedule (by id or name) and its history; the jobs it started stay
    Remove { schedule: String },
    /// Pause one schedule, or all with --all
    Pause {
        #[arg(required_unless_present = "all")]
        schedule: Option<String>,
        #[arg(long, conflicts_with = "schedule")]
        all: bool,
    },
    /// Resume one schedule, or lift "pause all" with --all
    Resume {
        #[arg(required_unless_present = "all")]
        schedule: Option<String>,
        #[arg(long, conflicts_with = "schedule")]
        all: bool,
    },
    /// Start a schedule's job now and follow it
    RunNow { schedule: String },
    /// Past runs (started, skipped, failed to start) with the job's outcome
    History {
        /// One schedule (id or name); all schedules if omitted
        schedule: Option<String>,
        #[arg(long, default_value_t = 30)]
        limit: u32,
    },
    /// Create the default schedules of a connection (once; returns what was created)
    Defaults {
        #[arg(long)]
        connection: String,
    },
    /// Evaluate the schedules in the foreground every 20 s and start due jobs (Ctrl-C stops)
    Daemon,
}

pub async fn run(ctx: &Ctx, cmd: SchedulesCmd) -> Result<i32> {
    let core = &ctx.core;
    match cmd {
        SchedulesCmd::List => {
            let list = core.list_schedules()?;
            if !ctx.json && core.schedules_paused() {
                println!("All schedules are paused (backoffice schedules resume --all).");
            }
            print_schedules(ctx.json, &list);
        }
        SchedulesCmd::Add { name, kind, connection, cron, tz, every_minutes, params, catch_up_minutes, paused } => {
            let connection_id = match connection {
                Some(n) => Some(core.connections().find_by_name(&n)?.id),
                None => None,
            };
            let params = match params {
                Some(p) => serde_json::from_str(&p).map_err(|e| {
                    CoreError::invalid(
                        "params",
                        format!("--params is not valid JSON ({e}); e.g. '{{\"full_refresh\": true}}'"),
                    )
                })?,
                None => serde_json::Value::Null,
            };
            let input = ScheduleInput {
                name,
                kind,
                connection_id,
                params,
                cron,
                timezone: tz,
                every_minutes,
                enabled: Some(!paused),
                catch_up_minutes,
            };
            let s = core.add_schedule(&input)?;
            print_schedules(ctx.json, &[s]);
        }
        SchedulesCmd::Remove { schedule } => {
            let s = core.find_schedule(&schedule)?;
            core.remove_schedule(&s.id)?;
            if ctx.json {
                println!("{}", serde_json::json!({ "removed": s.id }));
            } else {
                println!("removed \"{}\"", s.name);
            }
        }
        SchedulesCmd::Pause { schedule, all } => {
            if all {
                core.set_schedules_paused(true)?;
                say(ctx, "all schedules paused");
            } else {
                let s = core.find_schedule(schedule.as_deref().unwrap_or_default())?;
                let s = core.pause_schedule(&s.id)?;
                print_schedules(ctx.json, &[s]);
            }
        }
        SchedulesCmd::Resume { schedule, all } => {
            if all {
                core.set_schedules_paused(false)?;
                say(ctx, "schedules resumed");
            } else {
                let s = core.find_schedule(schedule.as_deref().unwrap_or_default())?;
                let s = core.resume_schedule(&s.id)?;
                print_schedules(ctx.json, &[s]);
            }
        }
        SchedulesCmd::RunNow { schedule } => {
            let s = core.find_schedule(&schedule)?;
            let job = core.run_schedule_now(&s.id)?;
            if !ctx.json {
                eprintln!("started job {} ({}) for \"{}\"", job.id, job.kind, s.name);
            }
            return output::follow_job(ctx, &job.id).await;
        }
        SchedulesCmd::History { schedule, limit } => {
            let id = match schedule {
                Some(s) => Some(core.find_schedule(&s)?.id),
                None => None,
            };
            let runs = core.schedule_history(id.as_deref(), limit)?;
            print_runs(ctx.json, &runs);
        }
        SchedulesCmd::Defaults { connection } => {
            let c = core.connections().find_by_name(&connection)?;
            let created = core.ensure_default_schedules(&c.id)?;
            if !ctx.json && created.is_empty() {
                println!("The defaults of \"{}\" were already offered; nothing created.", c.name);
            } else {
                print_schedules(ctx.json, &created);
            }
        }
        SchedulesCmd::Daemon => return daemon(ctx).await,
    }
    Ok(0)
}

fn say(ctx: &Ctx, msg: &str) {
    if ctx.json {
        println!("{}", serde_json::json!({ "ok": true, "message": msg }));
    } else {
        println!("{msg}");
    }
}

/// Ticks in the foreground until Ctrl-C, printing each run record; then lets running jobs reach a
/// safe checkpoint before exiting.
async fn daemon(ctx: &Ctx) -> Result<i32> {
    if !ctx.json {
        eprintln!(
            "BackOffice scheduler running ({} schedule(s)); checking every {} s. Ctrl-C stops.",
            ctx.core.list_schedules()?.len(),
            scheduler::TICK_EVERY.as_secs()
        );
    }
    // Jobs started here that fail are e-mailed (the daemon's stand-in for desktop notifications).
    let mailer = tokio::spawn(email_failures(ctx.core.clone(), ctx.grouper.clone()));
    let mut every = tokio::time::interval(scheduler::TICK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = every.tick() => {
                match ctx.core.schedules_tick(chrono::Utc::now()) {
                    Ok(runs) => print_runs_lines(ctx.json, &runs),
                    Err(e) => eprintln!("error: {e}"),
                }
                // The daily summary, by e-mail only when e-mail is on (otherwise the desktop app
                // keeps showing it).
                if ctx.core.email_settings().is_ok_and(|s| s.enabled) && ctx.core.daily_summary_due(chrono::Utc::now()) {
                    if let Ok(Some(n)) = ctx.core.daily_summary_notice() {
                        ctx.core.deliver_daily_summary_email(&n).await;
                    }
                }
            }
        }
    }
    if !ctx.json {
        eprintln!("stopping: letting running jobs reach a safe point...");
    }
    let left = ctx.core.jobs.shutdown(Duration::from_secs(30)).await;
    mailer.abort();
    if left > 0 {
        eprintln!("{left} job(s) did not stop in time; they will be marked interrupted at the next start");
    }
    Ok(0)
}

/// Follows job events and e-mails each failed job once it has finished (grouped like the desktop's
/// notifications).
async fn email_failures(core: Arc<Core>, grouper: Arc<Grouper>) {
    let mut rx = core.jobs.subscribe();
    loop {
        match rx.recv().await {
            Ok(ev) if ev.log.is_none() && ev.job.finished_at.is_some() => {
                if let Some(n) = core.notice_for_job(&ev.job, &grouper, std::time::Instant::now()) {
                    core.deliver_notice_email(&n).await;
                }
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(_) => break,
        }
    }
}

fn when(s: &Schedule) -> String {
    match (&s.cron, s.every_minutes) {
        (Some(c), _) => format!("{c} {}", s.timezone.as_deref().unwrap_or("UTC")),
        (None, Some(m)) => format!("every {m} min"),
        _ => "-".into(),
    }
}

fn outcome(o: RunOutcome) -> &'static str {
    o.as_str()
}

fn print_schedules(json: bool, list: &[Schedule]) {
    if json {
        println!("{}", serde_json::to_string(list).unwrap_or_default());
        return;
    }
    println!(
        "{:<36} {:<30} {:<22} {:<18} {:<32} {:<7} {:<24} LAST",
        "ID", "NAME", "KIND", "CONNECTION", "WHEN", "STATE", "NEXT (UTC)"
    );
    for s in list {
        println!(
            "{:<36} {:<30} {:<22} {:<18} {:<32} {:<7} {:<24} {}",
            s.id,
            s.name,
            s.kind,
            s.connection_name.as_deref().unwrap_or("-"),
            when(s),
            if s.enabled { "active" } else { "paused" },
            s.next_due_at.as_deref().unwrap_or("-"),
            s.last_outcome.map(outcome).unwrap_or("-")
        );
    }
}

fn print_runs(json: bool, runs: &[ScheduleRunRecord]) {
    if json {
        println!("{}", serde_json::to_string(runs).unwrap_or_default());
        return;
    }
    println!(
        "{:<24} {:<24} {:<30} {:<8} {:<16} {:<10} DETAIL",
        "DUE (UTC)", "ACTED (UTC)", "SCHEDULE", "TRIGGER", "OUTCOME", "JOB"
    );
    for r in runs {
        print_run(r);
    }
}

fn print_run(r: &ScheduleRunRecord) {
    let job = match (&r.job_id, r.job_status) {
        (Some(_), Some(st)) => st.as_str().to_string(),
        (Some(_), None) => "?".into(),
        _ => "-".into(),
    };
    let mut detail = vec![];
    if let Some(id) = &r.job_id {
        detail.push(format!("job {id}"));
    }
    if !r.counts.is_empty() {
        detail.push(r.counts.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
    }
    if let Some(e) = &r.job_error {
        detail.push(e.message.clone());
    }
    if let Some(reason) = &r.reason {
        detail.push(reason.clone());
    }
    println!(
        "{:<24} {:<24} {:<30} {:<8} {:<16} {:<10} {}",
        r.due_at,
        r.started_at,
        r.schedule_name,
        match r.trigger {
            scheduler::RunTrigger::Schedule => "clock",
            scheduler::RunTrigger::Manual => "manual",
        },
        outcome(r.outcome),
        job,
        detail.join("; ")
    );
}

/// The daemon prints one line (or one JSON object) per record as it happens.
fn print_runs_lines(json: bool, runs: &[ScheduleRunRecord]) {
    for r in runs {
        if json {
            println!("{}", serde_json::to_string(r).unwrap_or_default());
        } else {
            print_run(r);
        }
    }
}
