//! The scheduler's tables: schedules, their run records and the defaults already offered. The only
//! place the scheduler's SQL lives; `mod.rs` decides, this module reads and writes.

use chrono::{DateTime, Utc};

use super::{fmt_ts, Checked, NewRun, RunOutcome, RunTrigger, Schedule, ScheduleRunRecord, HISTORY_KEEP, PAUSED};
use crate::error::CoreResult;
use crate::model::JobStatus;
use crate::store::settings as setting;
use crate::store::{Db, Row, Store};
use crate::vals;

const SCHEDULE_COLS: &str =
    "s.id, s.name, s.kind, s.connection_id, c.name, s.params, s.cron, s.timezone, s.every_minutes,
    s.enabled, s.catch_up_minutes, s.anchor_at, s.handled_until, s.last_run_at, s.last_job_id, s.next_due_at,
    (SELECT outcome FROM schedule_runs r WHERE r.schedule_id = s.id ORDER BY r.id DESC LIMIT 1),
    s.default_key, s.created_at, s.updated_at";

fn schedule_from_row(r: &Row) -> CoreResult<Schedule> {
    let params: String = r.get(5)?;
    let outcome: Option<String> = r.get(16)?;
    Ok(Schedule {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        connection_id: r.get(3)?,
        connection_name: r.get(4)?,
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
        cron: r.get(6)?,
        timezone: r.get(7)?,
        every_minutes: r.get(8)?,
        enabled: r.get(9)?,
        catch_up_minutes: r.get(10)?,
        anchor_at: r.get(11)?,
        handled_until: r.get(12)?,
        last_run_at: r.get(13)?,
        last_job_id: r.get(14)?,
        next_due_at: r.get(15)?,
        last_outcome: outcome.as_deref().and_then(RunOutcome::parse),
        default_key: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
    })
}

const RUN_COLS: &str = "r.id, r.schedule_id, s.name, s.kind, s.connection_id, r.trigger, r.due_at, r.started_at,
    r.outcome, r.job_id, r.reason, j.status, j.finished_at, j.counts, j.error";

fn run_from_row(r: &Row) -> CoreResult<ScheduleRunRecord> {
    let trigger: String = r.get(5)?;
    let outcome: String = r.get(8)?;
    let status: Option<String> = r.get(11)?;
    let counts: Option<String> = r.get(13)?;
    let error: Option<String> = r.get(14)?;
    Ok(ScheduleRunRecord {
        id: r.get(0)?,
        schedule_id: r.get(1)?,
        schedule_name: r.get(2)?,
        kind: r.get(3)?,
        connection_id: r.get(4)?,
        trigger: if trigger == "manual" { RunTrigger::Manual } else { RunTrigger::Schedule },
        due_at: r.get(6)?,
        started_at: r.get(7)?,
        outcome: RunOutcome::parse(&outcome).unwrap_or(RunOutcome::FailedToStart),
        job_id: r.get(9)?,
        reason: r.get(10)?,
        job_status: status.as_deref().map(JobStatus::parse),
        job_finished_at: r.get(12)?,
        counts: counts.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
        job_error: error.and_then(|e| serde_json::from_str(&e).ok()),
    })
}

fn insert_run(db: &mut dyn Db, schedule_id: &str, r: &NewRun) -> CoreResult<i64> {
    let id: i64 = db.one(
        "INSERT INTO schedule_runs (schedule_id, trigger, due_at, started_at, outcome, job_id, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        vals![schedule_id, r.trigger.as_str(), fmt_ts(r.due), fmt_ts(r.at), r.outcome.as_str(), r.job_id, r.reason],
    )?;
    db.execute(
        "DELETE FROM schedule_runs WHERE schedule_id=?1 AND id <= (
             SELECT id FROM schedule_runs WHERE schedule_id=?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        vals![schedule_id, HISTORY_KEEP],
    )?;
    Ok(id)
}

fn insert_schedule(
    db: &mut dyn Db,
    c: &Checked,
    next: Option<&str>,
    default_key: Option<&str>,
    now: DateTime<Utc>,
) -> CoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    db.execute(
        "INSERT INTO schedules (id, name, kind, connection_id, params, cron, timezone, every_minutes, enabled,
             catch_up_minutes, anchor_at, handled_until, next_due_at, default_key, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?11, ?11)",
        vals![
            id,
            c.name,
            c.kind,
            c.connection_id,
            c.params.to_string(),
            c.cron,
            c.timezone,
            c.every_minutes,
            c.enabled,
            c.catch_up_minutes,
            fmt_ts(now),
            next,
            default_key
        ],
    )?;
    Ok(id)
}

/// Every schedule, by name.
pub(super) fn list(store: &Store) -> CoreResult<Vec<Schedule>> {
    store.query(|db| {
        db.query(
            &format!(
                "SELECT {SCHEDULE_COLS} FROM schedules s LEFT JOIN connections c ON c.id = s.connection_id
                 ORDER BY lower(s.name), s.created_at"
            ),
            vals![],
        )?
        .iter()
        .map(schedule_from_row)
        .collect()
    })
}

/// One schedule by id.
pub(super) fn get(store: &Store, id: &str) -> CoreResult<Option<Schedule>> {
    store.query(|db| {
        db.query_opt(
            &format!(
                "SELECT {SCHEDULE_COLS} FROM schedules s LEFT JOIN connections c ON c.id = s.connection_id
                 WHERE s.id = ?1"
            ),
            vals![id],
        )?
        .map(|r| schedule_from_row(&r))
        .transpose()
    })
}

/// Removes a schedule (its run records go with it); false if there was none.
pub(super) fn remove(store: &Store, id: &str) -> CoreResult<bool> {
    Ok(store.tx(|db| db.execute("DELETE FROM schedules WHERE id=?1", vals![id]))? > 0)
}

/// Run records, newest first: of one schedule, or of all with `None`.
pub(super) fn history(store: &Store, schedule_id: Option<&str>, limit: u32) -> CoreResult<Vec<ScheduleRunRecord>> {
    store.query(|db| {
        db.query(
            &format!(
                "SELECT {RUN_COLS} FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id
                 LEFT JOIN jobs j ON j.id = r.job_id
                 WHERE (CAST(?1 AS TEXT) IS NULL OR r.schedule_id = ?1) ORDER BY r.id DESC LIMIT ?2"
            ),
            vals![schedule_id, limit],
        )?
        .iter()
        .map(run_from_row)
        .collect()
    })
}

/// One run record.
pub(super) fn run_record(store: &Store, id: i64) -> CoreResult<ScheduleRunRecord> {
    store.query(|db| {
        run_from_row(&db.query_one(
            &format!(
                "SELECT {RUN_COLS} FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id
                 LEFT JOIN jobs j ON j.id = r.job_id WHERE r.id = ?1"
            ),
            vals![id],
        )?)
    })
}

/// Notes when a schedule is next due (shown in the window).
pub(super) fn set_next_due(store: &Store, id: &str, next: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute("UPDATE schedules SET next_due_at=?2 WHERE id=?1", vals![id, next])?;
        Ok(())
    })
}

/// Moves the schedule's position from what `s` holds to `until`, only if no one else moved it since
/// (compare-and-set), and records `run` with it. Returns whether this caller won, and the record.
pub(super) fn claim(
    store: &Store,
    s: &Schedule,
    until: DateTime<Utc>,
    next: DateTime<Utc>,
    run: Option<&NewRun>,
) -> CoreResult<(bool, Option<i64>)> {
    store.tx(|db| {
        let n = db.execute(
            "UPDATE schedules SET handled_until=?3, next_due_at=?4 WHERE id=?1 AND handled_until=?2 AND enabled=1",
            vals![s.id, s.handled_until, fmt_ts(until), fmt_ts(next)],
        )?;
        if n == 0 {
            return Ok((false, None));
        }
        let id = match run {
            Some(r) => Some(insert_run(db, &s.id, r)?),
            None => None,
        };
        Ok((true, id))
    })
}

/// Records what a start gave (and, when a job started, that it is the schedule's last one).
pub(super) fn record_start(store: &Store, schedule_id: &str, now: DateTime<Utc>, rec: &NewRun) -> CoreResult<i64> {
    store.tx(|db| {
        if let Some(j) = &rec.job_id {
            db.execute(
                "UPDATE schedules SET last_run_at=?2, last_job_id=?3 WHERE id=?1",
                vals![schedule_id, fmt_ts(now), j],
            )?;
        }
        insert_run(db, schedule_id, rec)
    })
}

/// Adds a checked schedule; returns its id.
pub(super) fn add(store: &Store, c: &Checked, next: Option<&str>, now: DateTime<Utc>) -> CoreResult<String> {
    store.tx(|db| insert_schedule(db, c, next, None, now))
}

/// Writes a schedule's new definition and position.
#[allow(clippy::too_many_arguments)]
pub(super) fn update(
    store: &Store,
    id: &str,
    c: &Checked,
    anchor: DateTime<Utc>,
    handled: DateTime<Utc>,
    next: Option<&str>,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE schedules SET name=?2, kind=?3, connection_id=?4, params=?5, cron=?6, timezone=?7, every_minutes=?8,
                 enabled=?9, catch_up_minutes=?10, anchor_at=?11, handled_until=?12, next_due_at=?13, updated_at=?14
             WHERE id=?1",
            vals![
                id,
                c.name,
                c.kind,
                c.connection_id,
                c.params.to_string(),
                c.cron,
                c.timezone,
                c.every_minutes,
                c.enabled,
                c.catch_up_minutes,
                fmt_ts(anchor),
                fmt_ts(handled),
                next,
                fmt_ts(now)
            ],
        )?;
        Ok(())
    })
}

/// Pauses or resumes one schedule with its new position.
pub(super) fn set_enabled(
    store: &Store,
    id: &str,
    enabled: bool,
    handled: DateTime<Utc>,
    next: Option<&str>,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE schedules SET enabled=?2, handled_until=?3, next_due_at=?4, updated_at=?5 WHERE id=?1",
            vals![id, enabled, fmt_ts(handled), next, fmt_ts(now)],
        )?;
        Ok(())
    })
}

/// Sets "pause all schedules" and, in the same transaction, moves the given schedules past `now`.
pub(super) fn set_paused_all(
    store: &Store,
    paused: bool,
    moved: &[(String, Option<String>)],
    now: DateTime<Utc>,
) -> CoreResult<()> {
    store.tx(|db| {
        if paused {
            setting::put(db, &PAUSED, &"1".to_string())?;
        } else {
            setting::delete(db, &PAUSED)?;
        }
        for (id, next) in moved {
            db.execute(
                "UPDATE schedules SET handled_until=?2, next_due_at=?3 WHERE id=?1",
                vals![id, fmt_ts(now), next],
            )?;
        }
        Ok(())
    })
}

/// Adds the default schedules never offered before (scope, default key, schedule, next due), in one
/// transaction; returns the ids of those added.
pub(super) fn add_defaults(
    store: &Store,
    wanted: &[(String, &str, Checked, Option<String>)],
    now: DateTime<Utc>,
) -> CoreResult<Vec<String>> {
    store.tx(|db| {
        let mut ids = vec![];
        for (scope, key, c, next) in wanted {
            let fresh = db.execute(
                "INSERT INTO schedule_defaults (scope, default_key, offered_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                vals![scope, key, fmt_ts(now)],
            )? == 1;
            if fresh {
                ids.push(insert_schedule(db, c, next.as_deref(), Some(key), now)?);
            }
        }
        Ok(ids)
    })
}
