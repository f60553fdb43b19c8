//! Scheduled jobs: schedules kept in SQLite and evaluated against the wall clock.
//!
//! A schedule says which job to start (kind, connection, parameters) and when: a 5-field cron
//! expression read in an IANA time zone, or an interval in minutes. Nothing here keeps time with a
//! monotonic timer: every [`tick`] compares `now` (wall clock, UTC) with the position stored on disk
//! (`handled_until`, the instant up to which every occurrence has been run, skipped or waived), so
//! sleep, restarts and clock changes are all handled by the same rule in [`decide`]:
//!
//! - occurrences missed while the computer slept or BackOffice was closed are folded into one run
//!   (the latest), and only if it is within the schedule's catch-up window; older ones are recorded
//!   as a skip, never replayed one by one;
//! - a clock that jumps forward runs at most once; a clock that goes back waits until the next
//!   occurrence after the stored position (a jump back of more than a day is taken as a corrected
//!   clock and the position is moved back to `now`, without running anything);
//! - DST follows the zone's rules through the cron library: a 02:30 run on a spring-forward day runs
//!   once at the first valid instant after the gap, and a repeated hour on a fall-back day runs once.
//!
//! Before starting, the occurrence is claimed with a compare-and-set on `handled_until`, so the
//! desktop app and a `backoffice schedules daemon` sharing the same database never both start it.
//! A schedule whose previous job is still active (or whose kind and connection already has an active
//! job) records `skipped_overlap`. Every decision that is not "wait" lands in `schedule_runs`, which
//! links to the job (its status, counts and log come from the `jobs` table).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

mod store;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, CoreError, CoreResult};
use crate::model::{Connection, Job, JobStatus};
use crate::store::settings::Setting;
use crate::Ctx;

/// How often [`spawn_loop`] evaluates the schedules.
pub const TICK_EVERY: StdDuration = StdDuration::from_secs(20);
/// Default catch-up window: a run missed by less than this is made up once after sleep or a restart.
pub const DEFAULT_CATCH_UP_MINUTES: u32 = 12 * 60;
/// Longest catch-up window and longest interval accepted (one week).
pub const MAX_MINUTES: u32 = 7 * 24 * 60;
/// A run this late is on time whatever the catch-up window (covers the tick period and a busy machine).
const ON_TIME_GRACE_SECS: i64 = 5 * 60;
/// A clock that goes back by more than this is taken as corrected: the stored position is moved back.
const CLOCK_RESET_SECS: i64 = 24 * 3600;
/// Missed occurrences are counted one by one up to this many (for the message only).
const MISSED_COUNT_CAP: u32 = 500;
/// Run records kept per schedule.
const HISTORY_KEEP: i64 = 1000;
/// Settings key of the global "pause all schedules" switch.
/// "Pause all schedules" is on when this key holds "1".
const PAUSED: Setting<String> = Setting::text("schedules_paused");

/// A stored schedule.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Schedule {
    pub id: String,
    pub name: String,
    /// The job kind given to `ops::data::start_job` (`sync_contifico`, `sync_omie`...).
    pub kind: String,
    pub connection_id: Option<String>,
    pub connection_name: Option<String>,
    /// Parameters of the job (JSON object or null).
    #[ts(type = "unknown")]
    pub params: serde_json::Value,
    /// 5-field cron expression (minute hour day-of-month month day-of-week), read in `timezone`.
    pub cron: Option<String>,
    /// IANA time zone of `cron`.
    pub timezone: Option<String>,
    /// Interval in minutes, counted from `anchor_at` (when there is no cron expression).
    pub every_minutes: Option<u32>,
    /// False while the schedule is paused.
    pub enabled: bool,
    /// A run missed (sleep, app closed) by less than this many minutes is made up once.
    pub catch_up_minutes: u32,
    /// Start of the interval grid (creation or last change of timing). RFC 3339, UTC.
    pub anchor_at: String,
    /// Every occurrence at or before this instant has been run, skipped or waived. RFC 3339, UTC.
    pub handled_until: String,
    /// When a job was last started for this schedule (by the clock or "run now").
    pub last_run_at: Option<String>,
    pub last_job_id: Option<String>,
    /// The next occurrence (none while paused). RFC 3339, UTC.
    pub next_due_at: Option<String>,
    /// Outcome of the last run record, if any.
    pub last_outcome: Option<RunOutcome>,
    /// Set on the schedules BackOffice offered by default (`sync_contifico`, `divergences`...).
    pub default_key: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What the schedule form (UI, CLI) sends. Exactly one of `cron` and `every_minutes`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default, PartialEq)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ScheduleInput {
    pub name: String,
    pub kind: String,
    pub connection_id: Option<String>,
    #[ts(type = "unknown")]
    pub params: serde_json::Value,
    pub cron: Option<String>,
    /// IANA zone for `cron`; defaults to the connection's time zone, else UTC.
    pub timezone: Option<String>,
    pub every_minutes: Option<u32>,
    /// Defaults to true.
    pub enabled: Option<bool>,
    /// Defaults to [`DEFAULT_CATCH_UP_MINUTES`].
    pub catch_up_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum RunOutcome {
    /// The job was started (see `job_id`).
    Started,
    /// The previous job of this schedule (or another job of the same kind and connection) was running.
    SkippedOverlap,
    /// Due while BackOffice was not running or the computer slept, longer ago than the catch-up window.
    SkippedMissed,
    /// `ops::data::start_job` refused (unknown kind, missing connection...): see `reason`.
    FailedToStart,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Started => "started",
            RunOutcome::SkippedOverlap => "skipped_overlap",
            RunOutcome::SkippedMissed => "skipped_missed",
            RunOutcome::FailedToStart => "failed_to_start",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "started" => RunOutcome::Started,
            "skipped_overlap" => RunOutcome::SkippedOverlap,
            "skipped_missed" => RunOutcome::SkippedMissed,
            "failed_to_start" => RunOutcome::FailedToStart,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum RunTrigger {
    /// The clock.
    Schedule,
    /// "Run now" (UI, tray, CLI).
    Manual,
}

impl RunTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Schedule => "schedule",
            RunTrigger::Manual => "manual",
        }
    }
}

/// One line of a schedule's history. Job status, counts, error and end come from the job itself.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ScheduleRunRecord {
    #[ts(type = "number")]
    pub id: i64,
    pub schedule_id: String,
    pub schedule_name: String,
    pub kind: String,
    pub connection_id: Option<String>,
    pub trigger: RunTrigger,
    /// The occurrence this record is about (for "run now": when it was asked). RFC 3339, UTC.
    pub due_at: String,
    /// When the scheduler acted (started the job or recorded the skip). RFC 3339, UTC.
    pub started_at: String,
    pub outcome: RunOutcome,
    /// The job started (open its log on the Jobs page).
    pub job_id: Option<String>,
    /// Plain-language explanation of a skip or a failure to start; notes a catch-up.
    pub reason: Option<String>,
    pub job_status: Option<JobStatus>,
    pub job_finished_at: Option<String>,
    #[ts(type = "Record<string, number>")]
    pub counts: BTreeMap<String, i64>,
    pub job_error: Option<ApiError>,
}

/// What to do with one schedule at `now`: the result of [`decide`].
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The schedule is paused.
    Paused,
    /// Nothing is due before `next_due`.
    NotDue { next_due: DateTime<Utc> },
    /// The clock went back by more than a day: move the stored position back to `now` (runs nothing).
    ClockReset { next_due: DateTime<Utc> },
    /// Start the job for occurrence `due`; `missed` earlier occurrences were folded into it.
    Run { due: DateTime<Utc>, missed: u32 },
    /// Record a skip of occurrence `due`.
    Skip { due: DateTime<Utc>, outcome: RunOutcome, reason: String },
}

/// When a schedule fires, parsed and checked.
#[derive(Debug, Clone)]
pub enum Timing {
    Cron { cron: Box<Cron>, tz: Tz },
    Every { step: TimeDelta, anchor: DateTime<Utc> },
}

impl Timing {
    pub fn of(s: &Schedule) -> CoreResult<Timing> {
        match (&s.cron, s.every_minutes) {
            (Some(expr), _) => {
                let tz = parse_tz(s.timezone.as_deref().unwrap_or("UTC"))?;
                Ok(Timing::Cron { cron: Box::new(parse_cron(expr)?), tz })
            }
            (None, Some(m)) if m > 0 => {
                Ok(Timing::Every { step: TimeDelta::minutes(m as i64), anchor: parse_ts(&s.anchor_at)? })
            }
            _ => Err(CoreError::Internal(format!(
                "schedule \"{}\" has neither a cron expression nor an interval",
                s.name
            ))),
        }
    }

    /// The first occurrence strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> CoreResult<DateTime<Utc>> {
        match self {
            Timing::Cron { cron, tz } => {
                let local = t.with_timezone(tz);
                let next = cron
                    .find_next_occurrence(&local, false)
                    .map_err(|e| CoreError::Internal(format!("cron \"{}\": {e}", cron.pattern.as_str())))?;
                Ok(next.with_timezone(&Utc))
            }
            Timing::Every { step, anchor } => {
                let step_ms = step.num_milliseconds().max(1);
                let k = ((t - *anchor).num_milliseconds().div_euclid(step_ms) + 1).max(1);
                Ok(*anchor + TimeDelta::milliseconds(k * step_ms))
            }
        }
    }

    /// The last occurrence at or before `t` (None if there is none after the interval's anchor).
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> CoreResult<Option<DateTime<Utc>>> {
        match self {
            Timing::Cron { cron, tz } => {
                let local = t.with_timezone(tz);
                Ok(cron.find_previous_occurrence(&local, true).ok().map(|d| d.with_timezone(&Utc)))
            }
            Timing::Every { step, anchor } => {
                let step_ms = step.num_milliseconds().max(1);
                let k = (t - *anchor).num_milliseconds().div_euclid(step_ms);
                Ok((k >= 1).then(|| *anchor + TimeDelta::milliseconds(k * step_ms)))
            }
        }
    }
}

/// The pure decision for one schedule. `now` is the wall clock (UTC); `previous_job_active` says
/// whether the job the schedule last started is still queued or running.
pub fn decide(s: &Schedule, now: DateTime<Utc>, previous_job_active: bool) -> CoreResult<Decision> {
    if !s.enabled {
        return Ok(Decision::Paused);
    }
    let timing = Timing::of(s)?;
    let handled = parse_ts(&s.handled_until)?;
    if (handled - now).num_seconds() > CLOCK_RESET_SECS {
        return Ok(Decision::ClockReset { next_due: timing.next_after(now)? });
    }
    let first = timing.next_after(handled)?;
    if first > now {
        // Also the case of a clock that went back: wait for the next occurrence after the stored position.
        return Ok(Decision::NotDue { next_due: first });
    }
    // Fold every occurrence up to `now` into the latest one.
    let mut due = first;
    let mut missed = 0u32;
    loop {
        let n = timing.next_after(due)?;
        if n > now {
            break;
        }
        due = n;
        missed += 1;
        if missed >= MISSED_COUNT_CAP {
            if let Some(latest) = timing.latest_at_or_before(now)? {
                due = due.max(latest);
            }
            break;
        }
    }
    let late = (now - due).num_seconds();
    let window = (s.catch_up_minutes as i64 * 60).max(ON_TIME_GRACE_SECS);
    if late > window {
        let next = timing.next_after(now)?;
        return Ok(Decision::Skip {
            due,
            outcome: RunOutcome::SkippedMissed,
            reason: format!(
                "Due at {} but BackOffice was not running or the computer was asleep; that is {} ago, more than the catch-up window of {}, so it was not run. Next run: {}.",
                show_time(s, due),
                human_minutes(late / 60),
                human_minutes(s.catch_up_minutes as i64),
                show_time(s, next)
            ),
        });
    }
    if previous_job_active {
        return Ok(Decision::Skip {
            due,
            outcome: RunOutcome::SkippedOverlap,
            reason: format!(
                "The previous run (job {}) was still going, so this run was skipped.",
                s.last_job_id.as_deref().unwrap_or("?")
            ),
        });
    }
    Ok(Decision::Run { due, missed })
}

/// Evaluates every enabled schedule at `now` and starts the jobs that are due through
/// [`crate::ops::data::start_job`]. Returns the run records written (started, skipped, failed to start).
/// Does nothing while all schedules are paused. A schedule that cannot be evaluated is logged and
/// the others go on.
pub fn tick(core: &Arc<Ctx>, now: DateTime<Utc>) -> CoreResult<Vec<ScheduleRunRecord>> {
    if schedules_paused(core) {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for s in list_schedules(core)?.into_iter().filter(|s| s.enabled) {
        match tick_one(core, &s, now) {
            Ok(Some(r)) => out.push(r),
            Ok(None) => {}
            Err(e) => tracing::warn!(schedule = %s.name, error = %e, "could not evaluate the schedule"),
        }
    }
    Ok(out)
}

fn tick_one(core: &Arc<Ctx>, s: &Schedule, now: DateTime<Utc>) -> CoreResult<Option<ScheduleRunRecord>> {
    let previous_active = match &s.last_job_id {
        // A previous run whose process or desk is gone (killed, crashed) does not hold the next one back.
        Some(id) => core.jobs.still_running(id).unwrap_or(false),
        None => false,
    };
    match decide(s, now, previous_active)? {
        Decision::Paused => Ok(None),
        Decision::NotDue { next_due } => {
            let next = fmt_ts(next_due);
            if s.next_due_at.as_deref() != Some(next.as_str()) {
                store::set_next_due(&core.store, &s.id, &next)?;
            }
            Ok(None)
        }
        Decision::ClockReset { next_due } => {
            if claim(core, s, now, next_due, None)? {
                tracing::warn!(schedule = %s.name, handled_until = %s.handled_until, now = %fmt_ts(now),
                    "the clock went back by more than a day; the schedule waits for its next occurrence");
            }
            Ok(None)
        }
        Decision::Skip { due, outcome, reason } => {
            let timing = Timing::of(s)?;
            let next = timing.next_after(now.max(due))?;
            let rec =
                NewRun { trigger: RunTrigger::Schedule, due, at: now, outcome, job_id: None, reason: Some(reason) };
            match claim_and_record(core, s, due, next, &rec)? {
                Some(id) => {
                    tracing::info!(schedule = %s.name, outcome = outcome.as_str(), "schedule skipped a run");
                    Ok(Some(store::run_record(&core.store, id)?))
                }
                None => Ok(None),
            }
        }
        Decision::Run { due, missed } => {
            let timing = Timing::of(s)?;
            let next = timing.next_after(now.max(due))?;
            // On a team database the run belongs to a desk whose keychain keeps the connection's key:
            // a desk without it leaves the occurrence to one that said it keeps it (when none did,
            // it is taken here and its refusal recorded, so the schedule says what is missing).
            if let Some(conn) = s.connection_id.as_deref().and_then(|id| core.connections().get(id).ok()) {
                let keys = core.connections().key_state(&conn)?;
                if !keys.here && !keys.elsewhere.is_empty() {
                    tracing::debug!(schedule = %s.name, "left to a desk that keeps the connection's key");
                    return Ok(None);
                }
            }
            // Claim the occurrence first: another process ticking the same database then leaves it alone.
            if !claim(core, s, due, next, None)? {
                return Ok(None);
            }
            let note = (missed > 0).then(|| {
                let n = if missed >= MISSED_COUNT_CAP { format!("more than {missed}") } else { missed.to_string() };
                format!(
                    "Caught up once for the run due at {}; {n} earlier run(s) missed while BackOffice was not running or the computer was asleep were not replayed.",
                    show_time(s, due)
                )
            });
            let id = start_and_record(core, s, RunTrigger::Schedule, due, now, note)?.0;
            Ok(Some(store::run_record(&core.store, id)?))
        }
    }
}

struct NewRun {
    trigger: RunTrigger,
    due: DateTime<Utc>,
    at: DateTime<Utc>,
    outcome: RunOutcome,
    job_id: Option<String>,
    reason: Option<String>,
}

/// Moves the schedule's position from what `s` holds to `until`, only if no one else moved it since
/// (compare-and-set). Returns whether this caller won.
fn claim(
    core: &Ctx,
    s: &Schedule,
    until: DateTime<Utc>,
    next: DateTime<Utc>,
    run: Option<&NewRun>,
) -> CoreResult<bool> {
    Ok(claim_and_record_tx(core, s, until, next, run)?.0)
}

fn claim_and_record(
    core: &Ctx,
    s: &Schedule,
    until: DateTime<Utc>,
    next: DateTime<Utc>,
    run: &NewRun,
) -> CoreResult<Option<i64>> {
    Ok(claim_and_record_tx(core, s, until, next, Some(run))?.1)
}

fn claim_and_record_tx(
    core: &Ctx,
    s: &Schedule,
    until: DateTime<Utc>,
    next: DateTime<Utc>,
    run: Option<&NewRun>,
) -> CoreResult<(bool, Option<i64>)> {
    store::claim(&core.store, s, until, next, run)
}

/// Starts the schedule's job and records the outcome. Returns the record id and the job if started,
/// else the error `start_job` gave.
fn start_and_record(
    core: &Arc<Ctx>,
    s: &Schedule,
    trigger: RunTrigger,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    note: Option<String>,
) -> CoreResult<(i64, Result<Job, CoreError>)> {
    let started = crate::ops::data::start_job(core, &s.kind, s.connection_id.as_deref(), s.params.clone());
    let (outcome, job_id, reason) = match &started {
        Ok(job) => (RunOutcome::Started, Some(job.id.clone()), note),
        Err(e @ CoreError::JobAlreadyRunning { .. }) => (RunOutcome::SkippedOverlap, None, Some(e.to_string())),
        Err(e) => (RunOutcome::FailedToStart, None, Some(e.to_string())),
    };
    match outcome {
        RunOutcome::Started => tracing::info!(schedule = %s.name, job_id = ?job_id, "schedule started its job"),
        _ => {
            tracing::warn!(schedule = %s.name, outcome = outcome.as_str(), reason = ?reason, "schedule did not start its job")
        }
    }
    let rec = NewRun { trigger, due, at: now, outcome, job_id: job_id.clone(), reason };
    let id = store::record_start(&core.store, &s.id, now, &rec)?;
    Ok((id, started))
}

/// Ticks every [`TICK_EVERY`] with `Utc::now()`, forever (the first tick runs at once, which is
/// when runs missed while the app was closed are caught up). Must run inside a tokio runtime.
pub async fn run_loop(core: Arc<Ctx>) {
    let mut every = tokio::time::interval(TICK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = tick(&core, Utc::now()) {
            tracing::warn!(error = %e, "the scheduler could not read its schedules");
        }
    }
}

/// Spawns [`run_loop`] on the current tokio runtime.
///
/// # Panics
/// Outside a tokio runtime context, like `tokio::spawn`. Tauri's `setup` hook runs on the main thread
/// without one: there, use `tauri::async_runtime::spawn(scheduler::run_loop(core))` instead.
pub fn spawn_loop(core: Arc<Ctx>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run_loop(core))
}

// ---------------------------------------------------------------------------------------------
// Validation

struct Checked {
    name: String,
    kind: String,
    connection_id: Option<String>,
    params: serde_json::Value,
    cron: Option<String>,
    timezone: Option<String>,
    every_minutes: Option<u32>,
    enabled: bool,
    catch_up_minutes: u32,
}

/// Parses a 5-field cron expression, with errors in plain language.
pub fn parse_cron(expr: &str) -> CoreResult<Cron> {
    let expr = expr.trim();
    if expr.is_empty() {
        return Err(CoreError::invalid(
            "cron",
            "The cron expression is empty. Use 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 7 * * 1-5\" for 07:00 Monday to Friday.",
        ));
    }
    let fields = expr.split_whitespace().count();
    if !expr.starts_with('@') && fields != 5 {
        return Err(CoreError::invalid(
            "cron",
            format!(
                "\"{expr}\" has {fields} field(s); a schedule needs 5: minute hour day-of-month month day-of-week (e.g. \"0 7 * * 1-5\" is 07:00 Monday to Friday)."
            ),
        ));
    }
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    let cron = parser.parse(expr).map_err(|e| {
        CoreError::invalid(
            "cron",
            format!(
                "\"{expr}\" is not a valid cron expression ({e}). Use 5 fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-6, Sunday is 0), e.g. \"*/30 * * * *\"."
            ),
        )
    })?;
    Ok(cron)
}

/// Parses an IANA time zone name, with errors in plain language.
pub fn parse_tz(name: &str) -> CoreResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        CoreError::invalid(
            "timezone",
            format!(
                "\"{name}\" is not a time zone BackOffice knows. Use an IANA name such as America/Sao_Paulo, America/Guayaquil or UTC."
            ),
        )
    })
}

fn check(core: &Ctx, input: &ScheduleInput) -> CoreResult<Checked> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(CoreError::invalid("name", "Give the schedule a name, e.g. \"Hourly Contífico sync\"."));
    }
    if name.chars().count() > 120 {
        return Err(CoreError::invalid("name", "The name is longer than 120 characters; shorten it."));
    }
    let kind = crate::erp::JobKind::parse(input.kind.trim())?.as_str().to_string();
    let conn: Option<Connection> = match input.connection_id.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(id) => Some(core.connections().get(id).map_err(|_| {
            CoreError::invalid("connection", format!("No connection with id {id} exists; choose one from the list."))
        })?),
        None => None,
    };
    let params = match &input.params {
        serde_json::Value::Null => serde_json::Value::Null,
        v @ serde_json::Value::Object(_) => v.clone(),
        _ => {
            return Err(CoreError::invalid(
                "params",
                "The job parameters must be a JSON object, e.g. {\"full_refresh\": true}, or empty.",
            ))
        }
    };
    let cron =
        input.cron.as_deref().map(|c| c.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|c| !c.is_empty());
    let (cron, timezone, every_minutes) = match (cron, input.every_minutes) {
        (Some(_), Some(_)) => {
            return Err(CoreError::invalid(
                "schedule",
                "Choose either a cron expression or an interval in minutes, not both.",
            ))
        }
        (None, None) => {
            return Err(CoreError::invalid(
                "schedule",
                "Say when the job runs: a cron expression such as \"0 7 * * 1-5\" with a time zone, or an interval in minutes.",
            ))
        }
        (Some(expr), None) => {
            let parsed = parse_cron(&expr)?;
            let tz_name = input
                .timezone
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .or_else(|| conn.as_ref().map(|c| c.timezone.clone()).filter(|t| !t.is_empty()))
                .unwrap_or_else(|| "UTC".to_string());
            let tz = parse_tz(&tz_name)?;
            // An expression that never matches (30 February) is refused now rather than never running.
            if parsed.find_next_occurrence(&Utc::now().with_timezone(&tz), false).is_err() {
                return Err(CoreError::invalid(
                    "cron",
                    format!("\"{expr}\" never occurs (for example 30 February); check the day and the month."),
                ));
            }
            (Some(expr), Some(tz.name().to_string()), None)
        }
        (None, Some(m)) => {
            if m == 0 || m > MAX_MINUTES {
                return Err(CoreError::invalid(
                    "every_minutes",
                    format!("The interval must be between 1 and {MAX_MINUTES} minutes (one week); {m} is not."),
                ));
            }
            (None, None, Some(m))
        }
    };
    let catch_up_minutes = input.catch_up_minutes.unwrap_or(DEFAULT_CATCH_UP_MINUTES);
    if catch_up_minutes > MAX_MINUTES {
        return Err(CoreError::invalid(
            "catch_up_minutes",
            format!("The catch-up window must be at most {MAX_MINUTES} minutes (one week)."),
        ));
    }
    Ok(Checked {
        name,
        kind,
        connection_id: conn.map(|c| c.id),
        params,
        cron,
        timezone,
        every_minutes,
        enabled: input.enabled.unwrap_or(true),
        catch_up_minutes,
    })
}

// ---------------------------------------------------------------------------------------------
// Store

fn next_due_for(c: &Checked, anchor: DateTime<Utc>, handled: DateTime<Utc>) -> CoreResult<Option<String>> {
    if !c.enabled {
        return Ok(None);
    }
    let s = Schedule {
        id: String::new(),
        name: c.name.clone(),
        kind: c.kind.clone(),
        connection_id: None,
        connection_name: None,
        params: serde_json::Value::Null,
        cron: c.cron.clone(),
        timezone: c.timezone.clone(),
        every_minutes: c.every_minutes,
        enabled: true,
        catch_up_minutes: c.catch_up_minutes,
        anchor_at: fmt_ts(anchor),
        handled_until: fmt_ts(handled),
        last_run_at: None,
        last_job_id: None,
        next_due_at: None,
        last_outcome: None,
        default_key: None,
        created_at: String::new(),
        updated_at: String::new(),
    };
    Ok(Some(fmt_ts(Timing::of(&s)?.next_after(handled)?)))
}

/// Adds a schedule as of `now` (nothing before `now` is due).
pub fn add_at(core: &Ctx, input: &ScheduleInput, now: DateTime<Utc>) -> CoreResult<Schedule> {
    let c = check(core, input)?;
    let next = next_due_for(&c, now, now)?;
    let id = store::add(&core.store, &c, next.as_deref(), now)?;
    get_schedule(core, &id)
}

/// Changes a schedule as of `now`. A change of timing restarts it from `now` (no catch-up of
/// occurrences of the old timing).
pub fn update_at(core: &Ctx, id: &str, input: &ScheduleInput, now: DateTime<Utc>) -> CoreResult<Schedule> {
    let old = get_schedule(core, id)?;
    let c = check(core, input)?;
    let timing_changed = old.cron != c.cron || old.timezone != c.timezone || old.every_minutes != c.every_minutes;
    let resumed = c.enabled && !old.enabled;
    let old_handled = parse_ts(&old.handled_until)?;
    let (anchor, handled) = if timing_changed {
        (now, old_handled.max(now))
    } else if resumed {
        (parse_ts(&old.anchor_at)?, old_handled.max(now))
    } else {
        (parse_ts(&old.anchor_at)?, old_handled)
    };
    let next = next_due_for(&c, anchor, handled)?;
    store::update(&core.store, id, &c, anchor, handled, next.as_deref(), now)?;
    get_schedule(core, id)
}

/// Pauses (`enabled = false`) or resumes a schedule as of `now`. Resuming waives what fell due while
/// it was paused: the next run is the next occurrence after `now`.
pub fn set_enabled_at(core: &Ctx, id: &str, enabled: bool, now: DateTime<Utc>) -> CoreResult<Schedule> {
    let s = get_schedule(core, id)?;
    let mut input = input_of(&s);
    input.enabled = Some(enabled);
    let c = check(core, &input)?;
    let handled =
        if enabled && !s.enabled { parse_ts(&s.handled_until)?.max(now) } else { parse_ts(&s.handled_until)? };
    let next = next_due_for(&c, parse_ts(&s.anchor_at)?, handled)?;
    store::set_enabled(&core.store, id, enabled, handled, next.as_deref(), now)?;
    get_schedule(core, id)
}

/// Sets the global "pause all schedules" switch as of `now`. Resuming waives what fell due while paused.
pub fn set_paused_all_at(core: &Ctx, paused: bool, now: DateTime<Utc>) -> CoreResult<()> {
    let was = schedules_paused(core);
    let schedules = if was && !paused { list_schedules(core)? } else { vec![] };
    let mut moved = vec![];
    for s in schedules.iter().filter(|s| s.enabled) {
        let handled = parse_ts(&s.handled_until)?;
        if handled < now {
            let next = Timing::of(s).and_then(|t| t.next_after(now)).ok().map(fmt_ts);
            moved.push((s.id.clone(), next));
        }
    }
    store::set_paused_all(&core.store, paused, &moved, now)
}

/// "Run now" as of `now`: starts the schedule's job at once (even while paused), records it and
/// returns the job. Does not move the schedule's position: the next occurrence still runs (or is
/// skipped if this job is still going).
pub fn run_now_at(core: &Arc<Ctx>, id: &str, now: DateTime<Utc>) -> CoreResult<Job> {
    let s = get_schedule(core, id)?;
    let (_, started) = start_and_record(core, &s, RunTrigger::Manual, now, now, None)?;
    started
}

/// Creates the schedules BackOffice offers by default for a connection ([`crate::erp::default_schedules`]),
/// as of `now`, once: a default that was already offered (even if the user removed it since) is not
/// created again. Times are read in the connection's time zone.
pub fn ensure_defaults_at(core: &Ctx, connection_id: &str, now: DateTime<Utc>) -> CoreResult<Vec<Schedule>> {
    let conn = core.connections().get(connection_id)?;
    let tz = if parse_tz(&conn.timezone).is_ok() { conn.timezone.clone() } else { "UTC".to_string() };
    let input = |name: String, kind: &str, conn_id: Option<&str>, cron: &str, enabled: bool| ScheduleInput {
        name,
        kind: kind.to_string(),
        connection_id: conn_id.map(str::to_string),
        params: serde_json::Value::Null,
        cron: Some(cron.to_string()),
        timezone: Some(tz.clone()),
        every_minutes: None,
        enabled: Some(enabled),
        catch_up_minutes: None,
    };
    let cid = Some(conn.id.as_str());
    let n = &conn.name;
    // Names in the user's language, as the tray and notifications speak it.
    let locale = crate::ops::settings::locale(core);
    let label = |kind: &str| crate::ops::notify::kind_label(&locale, kind);
    // (scope, default key, input).
    let mut wanted: Vec<(String, &str, ScheduleInput)> = crate::erp::default_schedules(conn.kind)
        .iter()
        .map(|(kind, cron, enabled)| {
            let k = kind.as_str();
            (conn.id.clone(), k, input(format!("{}: {n}", label(k)), k, cid, cron, *enabled))
        })
        .collect();
    // The daily divergence check at 07:00 (the seed's processor), offered once for every
    // connection together, paused until the user turns it on.
    if conn.kind == crate::model::ConnectionKind::Omie {
        let k = crate::erp::JobKind::Divergences.as_str();
        wanted.push((String::new(), k, input(label(k), k, None, "0 7 * * *", false)));
    }
    let checked: Vec<(String, &str, Checked, Option<String>)> = wanted
        .into_iter()
        .map(|(scope, key, i)| {
            let c = check(core, &i)?;
            let next = next_due_for(&c, now, now)?;
            Ok((scope, key, c, next))
        })
        .collect::<CoreResult<_>>()?;
    let ids = store::add_defaults(&core.store, &checked, now)?;
    ids.iter().map(|id| get_schedule(core, id)).collect()
}

fn input_of(s: &Schedule) -> ScheduleInput {
    ScheduleInput {
        name: s.name.clone(),
        kind: s.kind.clone(),
        connection_id: s.connection_id.clone(),
        params: s.params.clone(),
        cron: s.cron.clone(),
        timezone: s.timezone.clone(),
        every_minutes: s.every_minutes,
        enabled: Some(s.enabled),
        catch_up_minutes: Some(s.catch_up_minutes),
    }
}

pub fn list_schedules(cx: &Ctx) -> CoreResult<Vec<Schedule>> {
    store::list(&cx.store)
}

pub fn get_schedule(cx: &Ctx, id: &str) -> CoreResult<Schedule> {
    store::get(&cx.store, id)?.ok_or_else(|| CoreError::NotFound { what: format!("Schedule {id}") })
}

/// A schedule by id, else by name (case-insensitive); an ambiguous name is refused with the ids.
pub fn find_schedule(cx: &Ctx, id_or_name: &str) -> CoreResult<Schedule> {
    if let Ok(s) = get_schedule(cx, id_or_name) {
        return Ok(s);
    }
    let hits: Vec<Schedule> =
        list_schedules(cx)?.into_iter().filter(|s| s.name.eq_ignore_ascii_case(id_or_name.trim())).collect();
    match hits.len() {
        1 => Ok(hits.into_iter().next().expect("one")),
        0 => Err(CoreError::NotFound { what: format!("Schedule \"{id_or_name}\"") }),
        _ => Err(CoreError::invalid(
            "schedule",
            format!(
                "Several schedules are named \"{id_or_name}\"; use the id ({}).",
                hits.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

pub fn add_schedule(cx: &Ctx, input: &ScheduleInput) -> CoreResult<Schedule> {
    add_at(cx, input, Utc::now())
}

pub fn update_schedule(cx: &Ctx, id: &str, input: &ScheduleInput) -> CoreResult<Schedule> {
    update_at(cx, id, input, Utc::now())
}

/// Removes a schedule and its run history (the jobs it started stay on the Jobs page).
pub fn remove_schedule(cx: &Ctx, id: &str) -> CoreResult<()> {
    if !store::remove(&cx.store, id)? {
        return Err(CoreError::NotFound { what: format!("Schedule {id}") });
    }
    Ok(())
}

pub fn pause_schedule(cx: &Ctx, id: &str) -> CoreResult<Schedule> {
    set_enabled_at(cx, id, false, Utc::now())
}

pub fn resume_schedule(cx: &Ctx, id: &str) -> CoreResult<Schedule> {
    set_enabled_at(cx, id, true, Utc::now())
}

/// "Run now": starts the schedule's job at once and records it in the schedule's history.
pub fn run_schedule_now(cx: &Arc<Ctx>, id: &str) -> CoreResult<Job> {
    run_now_at(cx, id, Utc::now())
}

/// Run records, newest first: of one schedule, or of all with `None`.
pub fn schedule_history(cx: &Ctx, schedule_id: Option<&str>, limit: u32) -> CoreResult<Vec<ScheduleRunRecord>> {
    store::history(&cx.store, schedule_id, limit)
}

/// Whether "pause all schedules" is on (a database error reads as not paused).
pub fn schedules_paused(cx: &Ctx) -> bool {
    cx.store.setting(&PAUSED).ok().flatten().is_some_and(|v| v == "1")
}

/// Turns "pause all schedules" on or off. Turning it off does not make up what fell due meanwhile.
pub fn set_schedules_paused(cx: &Ctx, paused: bool) -> CoreResult<()> {
    set_paused_all_at(cx, paused, Utc::now())
}

/// Creates the default schedules of a connection once (see [`ensure_defaults_at`]); returns those created.
pub fn ensure_default_schedules(cx: &Ctx, connection_id: &str) -> CoreResult<Vec<Schedule>> {
    ensure_defaults_at(cx, connection_id, Utc::now())
}

// ---------------------------------------------------------------------------------------------
// Time helpers

/// RFC 3339 UTC with milliseconds: the format of every timestamp column.
pub fn fmt_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_ts(s: &str) -> CoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| CoreError::Db(format!("the stored time \"{s}\" cannot be read ({e})")))
}

/// A time as the user reads it: in the schedule's zone for cron schedules, else UTC.
fn show_time(s: &Schedule, t: DateTime<Utc>) -> String {
    match s.timezone.as_deref().and_then(|z| z.parse::<Tz>().ok()) {
        Some(tz) => format!("{} ({})", t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"), tz.name()),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn human_minutes(m: i64) -> String {
    match m {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days {} h", m / 1440, (m % 1440) / 60),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn cron_schedule(expr: &str, tz: &str, handled: DateTime<Utc>) -> Schedule {
        Schedule {
            id: "s1".into(),
            name: "test".into(),
            kind: "sync_contifico".into(),
            connection_id: None,
            connection_name: None,
            params: serde_json::Value::Null,
            cron: Some(expr.into()),
            timezone: Some(tz.into()),
            every_minutes: None,
            enabled: true,
            catch_up_minutes: DEFAULT_CATCH_UP_MINUTES,
            anchor_at: fmt_ts(handled),
            handled_until: fmt_ts(handled),
            last_run_at: None,
            last_job_id: None,
            next_due_at: None,
            last_outcome: None,
            default_key: None,
            created_at: fmt_ts(handled),
            updated_at: fmt_ts(handled),
        }
    }

    /// Drives a schedule minute by minute from `from` to `to` as the tick loop would (handling every
    /// run and skip like `tick` does) and returns the due times of the runs.
    fn simulate(s: &mut Schedule, from: DateTime<Utc>, to: DateTime<Utc>, step_min: i64) -> Vec<DateTime<Utc>> {
        let mut runs = vec![];
        let mut now = from;
        while now <= to {
            match decide(s, now, false).unwrap() {
                Decision::Run { due, .. } => {
                    runs.push(due);
                    s.handled_until = fmt_ts(due);
                }
                Decision::Skip { due, .. } => s.handled_until = fmt_ts(due),
                Decision::ClockReset { .. } => s.handled_until = fmt_ts(now),
                Decision::NotDue { .. } | Decision::Paused => {}
            }
            now += TimeDelta::minutes(step_min);
        }
        runs
    }

    #[test]
    fn weekday_seven_in_sao_paulo_is_ten_utc_on_weekdays_only() {
        // 2025-03-07 is a Friday; São Paulo has no DST since 2019 (UTC-3).
        let mut s = cron_schedule("0 7 * * 1-5", "America/Sao_Paulo", utc(2025, 3, 7, 0, 0));
        let runs = simulate(&mut s, utc(2025, 3, 7, 0, 0), utc(2025, 3, 11, 23, 59), 1);
        assert_eq!(runs, vec![utc(2025, 3, 7, 10, 0), utc(2025, 3, 10, 10, 0), utc(2025, 3, 11, 10, 0)]);
    }

    #[test]
    fn hourly_after_ten_hour_gap_runs_once_for_the_latest_occurrence() {
        let mut s = cron_schedule("0 * * * *", "UTC", utc(2025, 5, 1, 8, 0));
        // Asleep from 08:00:30 until 18:20: ten occurrences (09:00..18:00) fell due.
        let d = decide(&s, utc(2025, 5, 1, 18, 20), false).unwrap();
        assert_eq!(d, Decision::Run { due: utc(2025, 5, 1, 18, 0), missed: 9 });
        s.handled_until = fmt_ts(utc(2025, 5, 1, 18, 0));
        // The next ticks find nothing more until 19:00.
        assert_eq!(
            decide(&s, utc(2025, 5, 1, 18, 21), false).unwrap(),
            Decision::NotDue { next_due: utc(2025, 5, 1, 19, 0) }
        );
    }

    #[test]
    fn missed_beyond_the_catch_up_window_is_a_recorded_skip() {
        let mut s = cron_schedule("0 7 * * *", "UTC", utc(2025, 5, 1, 7, 0));
        s.catch_up_minutes = 60;
        match decide(&s, utc(2025, 5, 3, 9, 30), false).unwrap() {
            Decision::Skip { due, outcome, reason } => {
                assert_eq!(due, utc(2025, 5, 3, 7, 0));
                assert_eq!(outcome, RunOutcome::SkippedMissed);
                assert!(reason.contains("catch-up window"), "{reason}");
            }
            other => panic!("expected a skip, got {other:?}"),
        }
        // Within the window it runs (late) instead.
        assert_eq!(
            decide(&s, utc(2025, 5, 3, 7, 45), false).unwrap(),
            Decision::Run { due: utc(2025, 5, 3, 7, 0), missed: 1 }
        );
    }

    #[test]
    fn clock_going_back_waits_for_the_next_occurrence_after_the_stored_position() {
        let mut s = cron_schedule("0 * * * *", "UTC", utc(2025, 5, 1, 12, 0));
        // Ran 12:00; the clock is set back to 10:30 and then runs normally until 13:30.
        let runs = simulate(&mut s, utc(2025, 5, 1, 10, 30), utc(2025, 5, 1, 13, 30), 1);
        assert_eq!(runs, vec![utc(2025, 5, 1, 13, 0)], "11:00 and 12:00 must not run again");
    }

    #[test]
    fn clock_back_by_more_than_a_day_resets_without_running() {
        let s = cron_schedule("0 * * * *", "UTC", utc(2030, 1, 1, 0, 0));
        let now = utc(2025, 5, 1, 10, 30);
        assert_eq!(decide(&s, now, false).unwrap(), Decision::ClockReset { next_due: utc(2025, 5, 1, 11, 0) });
    }

    #[test]
    fn forward_jump_runs_at_most_once() {
        let mut s = cron_schedule("*/15 * * * *", "UTC", utc(2025, 5, 1, 10, 0));
        // The clock jumps from 10:01 to three days later (288 occurrences in between): one run.
        let mut runs = simulate(&mut s, utc(2025, 5, 1, 10, 1), utc(2025, 5, 1, 10, 1), 1);
        runs.extend(simulate(&mut s, utc(2025, 5, 4, 10, 5), utc(2025, 5, 4, 10, 14), 1));
        assert_eq!(runs, vec![utc(2025, 5, 4, 10, 0)]);
        // Jumping to a moment far from any occurrence (a weekly job, 2 days late) runs nothing.
        let mut s = cron_schedule("0 9 * * 1", "UTC", utc(2025, 5, 1, 10, 0));
        let runs = simulate(&mut s, utc(2025, 5, 7, 9, 0), utc(2025, 5, 7, 9, 30), 1);
        assert!(runs.is_empty(), "{runs:?}");
        assert_eq!(s.handled_until, fmt_ts(utc(2025, 5, 5, 9, 0)), "the missed Monday was recorded as skipped");
    }

    #[test]
    fn spring_forward_gap_runs_once_at_the_next_valid_time() {
        // New York, 2025-03-09: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
        let start = utc(2025, 3, 8, 12, 0);
        let mut s = cron_schedule("30 2 * * *", "America/New_York", start);
        let runs = simulate(&mut s, start, utc(2025, 3, 10, 12, 0), 1);
        // 03-09: first valid instant after the gap is 03:00 EDT = 07:00Z; 03-10: 02:30 EDT = 06:30Z.
        assert_eq!(runs, vec![utc(2025, 3, 9, 7, 0), utc(2025, 3, 10, 6, 30)]);
    }

    #[test]
    fn fall_back_repeated_hour_runs_once() {
        // New York, 2025-11-02: 01:00-01:59 happens twice (EDT then EST).
        let start = utc(2025, 11, 1, 12, 0);
        let mut s = cron_schedule("30 1 * * *", "America/New_York", start);
        let runs = simulate(&mut s, start, utc(2025, 11, 3, 12, 0), 1);
        // 11-02 01:30 EDT = 05:30Z (the 06:30Z repeat does not run); 11-03 01:30 EST = 06:30Z.
        assert_eq!(runs, vec![utc(2025, 11, 2, 5, 30), utc(2025, 11, 3, 6, 30)]);
    }

    #[test]
    fn santiago_transitions_at_midnight() {
        // Chile, 2025-04-06 00:00 (-03) falls back to 2025-04-05 23:00 (-04): 23:30 on the 5th happens
        // twice (02:30Z and 03:30Z on the 6th) and runs once.
        let start = utc(2025, 4, 4, 12, 0);
        let mut s = cron_schedule("30 23 * * *", "America/Santiago", start);
        let runs = simulate(&mut s, start, utc(2025, 4, 7, 12, 0), 1);
        assert_eq!(runs, vec![utc(2025, 4, 5, 2, 30), utc(2025, 4, 6, 2, 30), utc(2025, 4, 7, 3, 30)]);
        // 2025-09-07 00:00 (-04) springs forward to 01:00 (-03): 00:30 does not exist that day and runs
        // once at 01:00 -03 (04:00Z).
        let start = utc(2025, 9, 5, 12, 0);
        let mut s = cron_schedule("30 0 * * *", "America/Santiago", start);
        let runs = simulate(&mut s, start, utc(2025, 9, 8, 12, 0), 1);
        assert_eq!(runs, vec![utc(2025, 9, 6, 4, 30), utc(2025, 9, 7, 4, 0), utc(2025, 9, 8, 3, 30)]);
    }

    #[test]
    fn every_thirty_minutes_keeps_real_time_through_fall_back() {
        // An interval-like cron follows real time: the repeated hour has its own runs.
        let start = utc(2025, 11, 2, 4, 50);
        let mut s = cron_schedule("*/30 * * * *", "America/New_York", start);
        let runs = simulate(&mut s, start, utc(2025, 11, 2, 7, 10), 1);
        assert_eq!(
            runs,
            vec![
                utc(2025, 11, 2, 5, 0),
                utc(2025, 11, 2, 5, 30),
                utc(2025, 11, 2, 6, 0),
                utc(2025, 11, 2, 6, 30),
                utc(2025, 11, 2, 7, 0)
            ]
        );
    }

    #[test]
    fn interval_schedule_counts_from_its_anchor() {
        let mut s = cron_schedule("x", "UTC", utc(2025, 5, 1, 10, 7));
        s.cron = None;
        s.timezone = None;
        s.every_minutes = Some(45);
        let runs = simulate(&mut s, utc(2025, 5, 1, 10, 7), utc(2025, 5, 1, 12, 30), 1);
        assert_eq!(runs, vec![utc(2025, 5, 1, 10, 52), utc(2025, 5, 1, 11, 37), utc(2025, 5, 1, 12, 22)]);
        // A 5-hour gap folds into one run at the latest grid point.
        assert_eq!(
            decide(&s, utc(2025, 5, 1, 17, 30), false).unwrap(),
            Decision::Run { due: utc(2025, 5, 1, 16, 52), missed: 5 }
        );
    }

    #[test]
    fn overlap_and_pause() {
        let mut s = cron_schedule("0 * * * *", "UTC", utc(2025, 5, 1, 8, 0));
        s.last_job_id = Some("job-1".into());
        match decide(&s, utc(2025, 5, 1, 9, 0), true).unwrap() {
            Decision::Skip { outcome: RunOutcome::SkippedOverlap, due, reason } => {
                assert_eq!(due, utc(2025, 5, 1, 9, 0));
                assert!(reason.contains("job-1"));
            }
            other => panic!("expected an overlap skip, got {other:?}"),
        }
        s.enabled = false;
        assert_eq!(decide(&s, utc(2025, 5, 1, 9, 0), false).unwrap(), Decision::Paused);
    }

    #[test]
    fn cron_and_time_zone_errors_are_plain() {
        let e = parse_cron("0 7 * *").unwrap_err().to_string();
        assert!(e.contains("has 4 field(s)") && e.contains("0 7 * * 1-5"), "{e}");
        let e = parse_cron("0 0 7 * * 1-5").unwrap_err().to_string();
        assert!(e.contains("has 6 field(s)"), "{e}");
        let e = parse_cron("61 * * * *").unwrap_err().to_string();
        assert!(e.starts_with("cron: \"61 * * * *\" is not a valid cron expression"), "{e}");
        assert!(parse_cron("0 7 * * MON-FRI").is_ok());
        let e = parse_tz("America/SaoPaulo").unwrap_err().to_string();
        assert!(e.contains("America/Sao_Paulo"), "{e}");
        assert!(parse_tz("America/Guayaquil").is_ok());
    }
}
