//! The first screen: one card per connection (how fresh its data is, the last run and what it
//! changed, the next scheduled run, a warning when data is older than its schedule promises, 30
//! days of activity) and the jobs of the last day.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::erp;
use crate::error::{ApiError, CoreResult};
use crate::model::{Connection, Job, JobFilter};
use crate::ops::scheduler::{self, Timing};
use crate::sync::{self as engine, SyncRun};
use crate::Ctx;

/// Days of activity a card shows.
pub const DAYS: i64 = 30;
/// How late a scheduled sync may be before its card warns.
const GRACE_MINUTES: i64 = 30;

/// Counts the dashboard shows.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DashboardSummary {
    pub connections: u32,
    pub connections_failing: u32,
    pub jobs_running: u32,
    pub jobs_failed_24h: u32,
    pub jobs_succeeded_24h: u32,
    pub last_jobs: Vec<Job>,
    /// One card per connection: freshness, the last run, what it changed, the next run, 30 days.
    pub cards: Vec<ConnectionCard>,
}

/// How a connection's synced data is doing, for its card on the first screen.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ConnectionCard {
    pub connection: Connection,
    /// Records stored (not marked deleted), over every resource.
    #[ts(type = "number")]
    pub records: i64,
    #[ts(type = "number")]
    pub quarantined: i64,
    /// The newest sync run (running, finished or failed).
    pub last_run: Option<SyncRun>,
    /// Why the last run failed, when it did (from its job).
    pub last_error: Option<ApiError>,
    /// When a sync of this connection last finished well. RFC 3339, UTC.
    pub last_success_at: Option<String>,
    /// The next scheduled sync (none when no sync schedule is on).
    pub next_run_at: Option<String>,
    /// After this instant the data is older than the schedule promises (the run due after the last
    /// good one, plus 30 minutes' grace). None without an active schedule.
    pub fresh_until: Option<String>,
    /// The last 30 days in the company's time zone, oldest first, one entry per day.
    pub days: Vec<DayActivity>,
}

/// One day of a connection's syncs.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DayActivity {
    /// YYYY-MM-DD in the company's time zone.
    pub day: String,
    /// Records added, updated or marked deleted by the day's runs.
    #[ts(type = "number")]
    pub changed: i64,
    pub runs: u32,
    pub failed: u32,
    /// The longest run of the day, in seconds (0 without runs).
    pub longest_seconds: f64,
}

pub fn dashboard(cx: &Ctx) -> CoreResult<DashboardSummary> {
    let conns = cx.connections().list()?;
    let now = cx.clock.now();
    let since = (now - Duration::hours(24)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (running, failed, ok) = cx.jobs.counts_since(&since)?;
    let schedules = scheduler::list_schedules(cx)?;
    let mut cards = Vec::with_capacity(conns.len());
    for c in &conns {
        cards.push(card(cx, c, &schedules, now)?);
    }
    Ok(DashboardSummary {
        connections: conns.len() as u32,
        connections_failing: conns.iter().filter(|c| c.last_test_ok == Some(false)).count() as u32,
        jobs_running: running,
        jobs_failed_24h: failed,
        jobs_succeeded_24h: ok,
        last_jobs: cx.jobs.list(&JobFilter { limit: Some(8), ..Default::default() })?,
        cards,
    })
}

fn card(
    cx: &Ctx,
    conn: &Connection,
    schedules: &[scheduler::Schedule],
    now: DateTime<Utc>,
) -> CoreResult<ConnectionCard> {
    let specs = erp::resources(conn.kind);
    let summaries = engine::summaries(&cx.store, &conn.id, conn.kind.as_str(), specs)?;
    let tz: chrono_tz::Tz = conn.timezone.parse().unwrap_or(chrono_tz::UTC);
    let from = (now.with_timezone(&tz).date_naive() - Duration::days(DAYS - 1))
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(tz).earliest())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now - Duration::days(DAYS));
    let runs =
        engine::sync_runs_since(&cx.store, &conn.id, &from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), 5000)?;
    let last_run = match runs.first() {
        Some(r) => Some(r.clone()),
        None => engine::sync_runs(&cx.store, &conn.id, 1)?.into_iter().next(),
    };
    let last_error = match &last_run {
        Some(r) if r.status == "failed" => {
            r.job_id.as_deref().and_then(|id| cx.jobs.get(id).ok()).and_then(|j| j.error)
        }
        _ => None,
    };
    let last_success_at = summaries.iter().filter_map(|s| s.last_success_at.clone()).max();
    let sync_kind = erp::sync_job(conn.kind).as_str();
    let timings: Vec<Timing> = schedules
        .iter()
        .filter(|s| s.enabled && s.kind == sync_kind && s.connection_id.as_deref() == Some(conn.id.as_str()))
        .filter_map(|s| Timing::of(s).ok())
        .collect();
    let next_run_at = timings.iter().filter_map(|t| t.next_after(now).ok()).min().map(iso);
    let fresh_until = last_success_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).and_then(|t| {
        let t = t.with_timezone(&Utc);
        timings.iter().filter_map(|s| s.next_after(t).ok()).min().map(|due| iso(due + Duration::minutes(GRACE_MINUTES)))
    });
    Ok(ConnectionCard {
        connection: conn.clone(),
        records: summaries.iter().map(|s| s.records).sum(),
        quarantined: summaries.iter().map(|s| s.quarantined).sum(),
        last_error,
        last_success_at,
        next_run_at,
        fresh_until,
        days: days(&runs, tz, now),
        last_run,
    })
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The runs folded into one entry per day of the last [`DAYS`] in `tz`, oldest first.
pub fn days(runs: &[SyncRun], tz: chrono_tz::Tz, now: DateTime<Utc>) -> Vec<DayActivity> {
    let today = now.with_timezone(&tz).date_naive();
    let mut out: Vec<DayActivity> = (0..DAYS)
        .rev()
        .map(|back| DayActivity {
            day: (today - Duration::days(back)).format("%Y-%m-%d").to_string(),
            changed: 0,
            runs: 0,
            failed: 0,
            longest_seconds: 0.0,
        })
        .collect();
    for r in runs {
        let Ok(start) = DateTime::parse_from_rfc3339(&r.started_at) else { continue };
        let day = start.with_timezone(&tz).date_naive();
        let back = (today - day).num_days();
        if !(0..DAYS).contains(&back) {
            continue;
        }
        let d = &mut out[(DAYS - 1 - back) as usize];
        let n = |k: &str| r.counts.get(k).copied().unwrap_or(0);
        d.changed += n("records") - n("unchanged") + n("deleted");
        d.runs += 1;
        if r.status == "failed" {
            d.failed += 1;
        }
        if let Some(end) = r.finished_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
            let secs = (end - start).num_milliseconds() as f64 / 1000.0;
            if secs > d.longest_seconds {
                d.longest_seconds = secs;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(started: &str, finished: Option<&str>, status: &str, counts: &[(&str, i64)]) -> SyncRun {
        SyncRun {
            id: started.into(),
            job_id: None,
            erp: "contifico".into(),
            mode: "incremental".into(),
            status: status.into(),
            started_at: started.into(),
            finished_at: finished.map(Into::into),
            counts: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            errors: Default::default(),
        }
    }

    #[test]
    fn runs_fall_on_the_company_day_and_old_ones_drop_out() {
        let tz: chrono_tz::Tz = "America/Guayaquil".parse().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        let runs = [
            // 02:00 UTC is still 5 December in Quito.
            run(
                "2026-12-06T02:00:00Z",
                Some("2026-12-06T02:01:30Z"),
                "succeeded",
                &[("records", 10), ("unchanged", 4), ("deleted", 1)],
            ),
            run("2026-12-06T06:00:00Z", Some("2026-12-06T06:00:10Z"), "failed", &[]),
            run("2026-12-06T11:00:00Z", None, "running", &[("records", 3)]),
            run("2026-10-01T11:00:00Z", Some("2026-10-01T11:00:01Z"), "succeeded", &[("records", 99)]),
        ];
        let d = days(&runs, tz, now);
        assert_eq!(d.len(), DAYS as usize);
        assert_eq!(d.last().unwrap().day, "2026-12-06");
        assert_eq!(d[0].day, "2026-11-07");
        let today = d.last().unwrap();
        assert_eq!((today.runs, today.failed, today.changed), (2, 1, 3));
        assert_eq!(today.longest_seconds, 10.0, "an unfinished run has no duration yet");
        let yesterday = &d[d.len() - 2];
        assert_eq!((yesterday.day.as_str(), yesterday.runs, yesterday.changed), ("2026-12-05", 1, 7));
        assert_eq!(yesterday.longest_seconds, 90.0);
        assert_eq!(d.iter().map(|x| x.runs).sum::<u32>(), 3, "the October run is outside the 30 days");
    }
}
