//! The scheduler against a real SQLite file, with an injected clock: `scheduler::tick(core.ctx(), now)` is
//! called with chosen instants, and jobs really start through `Core::start_job`.

use std::sync::Arc;
use std::time::Duration;

use backoffice_core::model::{ConnectionKind, Credentials, Job, JobStatus};
use backoffice_core::ops::scheduler::{self, RunOutcome, RunTrigger, ScheduleInput, ScheduleRunRecord};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::{Core, CoreError, Paths};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

struct Env {
    _dir: tempfile::TempDir,
    core: Arc<Core>,
    conn_id: String,
    _sim: SimHandle,
}

async fn setup(latency_ms: u64) -> Env {
    let sim = backoffice_sim::start(SimConfig { scale: 5, latency_ms, ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core =
        Core::open(Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") }, secrets.clone()).unwrap();
    let conn = core.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    Env { _dir: dir, core, conn_id: conn.id, _sim: sim }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn cron_input(name: &str, kind: &str, conn: Option<&str>, cron: &str, tz: &str) -> ScheduleInput {
    ScheduleInput {
        name: name.into(),
        kind: kind.into(),
        connection_id: conn.map(str::to_string),
        // A small sync: two resources, so a started job finishes quickly.
        params: if kind == "sync_contifico" {
            serde_json::json!({ "resources": ["categorias", "bodegas"], "full_refresh": false })
        } else {
            serde_json::Value::Null
        },
        cron: Some(cron.into()),
        timezone: Some(tz.into()),
        ..Default::default()
    }
}

async fn wait(core: &Arc<Core>, id: &str) -> Job {
    for _ in 0..1200 {
        let j = core.jobs.get(id).unwrap();
        if !j.status.is_active() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} did not finish");
}

/// Ticks from `from` to `to` every `step` seconds; returns every record written.
fn tick_range(core: &Arc<Core>, from: DateTime<Utc>, to: DateTime<Utc>, step: i64) -> Vec<ScheduleRunRecord> {
    let mut out = vec![];
    let mut now = from;
    while now <= to {
        out.extend(scheduler::tick(core.ctx(), now).unwrap());
        now += TimeDelta::seconds(step);
    }
    out
}

#[tokio::test]
async fn hourly_schedule_catches_up_once_after_a_ten_hour_gap() {
    let env = setup(0).await;
    let core = &env.core;
    let s = scheduler::add_at(
        core,
        &cron_input("Hourly sync", "sync_contifico", Some(&env.conn_id), "0 * * * *", "UTC"),
        utc(2025, 5, 1, 8, 30, 0),
    )
    .unwrap();
    assert_eq!(s.next_due_at.as_deref(), Some("2025-05-01T09:00:00.000Z"));

    // Nothing before 09:00; one run at 09:00.
    assert!(tick_range(core, utc(2025, 5, 1, 8, 30, 20), utc(2025, 5, 1, 8, 59, 40), 20).is_empty());
    let first = scheduler::tick(core.ctx(), utc(2025, 5, 1, 9, 0, 5)).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].outcome, RunOutcome::Started);
    let job = wait(core, first[0].job_id.as_deref().unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);

    // The laptop sleeps from 09:00:05 until 19:20:10: ten occurrences (10:00 to 19:00) fell due.
    let after_wake = tick_range(core, utc(2025, 5, 1, 19, 20, 10), utc(2025, 5, 1, 19, 25, 10), 20);
    assert_eq!(after_wake.len(), 1, "caught up once, not ten times: {after_wake:#?}");
    let r = &after_wake[0];
    assert_eq!(r.outcome, RunOutcome::Started);
    assert_eq!(r.due_at, "2025-05-01T19:00:00.000Z");
    assert!(r.reason.as_deref().unwrap_or("").contains("9 earlier run(s)"), "{:?}", r.reason);
    wait(core, r.job_id.as_deref().unwrap()).await;

    // History shows two started runs, newest first, with the job's outcome and counts joined in.
    let h = core.schedule_history(Some(&s.id), 50).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].due_at, "2025-05-01T19:00:00.000Z");
    assert_eq!(h[0].job_status, Some(JobStatus::Succeeded));
    assert!(h[0].counts.values().any(|v| *v > 0), "counts come from the job: {:?}", h[0].counts);
    let s = core.get_schedule(&s.id).unwrap();
    assert_eq!(s.next_due_at.as_deref(), Some("2025-05-01T20:00:00.000Z"));
    assert_eq!(s.last_job_id, h[0].job_id);
    assert_eq!(s.last_outcome, Some(RunOutcome::Started));

    // A restart (new Core on the same file) does not run 19:00 again: the position is on disk.
    drop(after_wake);
    let again = Core::open(core.paths.clone(), core.secrets.clone()).unwrap();
    assert!(scheduler::tick(again.ctx(), utc(2025, 5, 1, 19, 40, 0)).unwrap().is_empty());
}

#[tokio::test]
async fn a_run_missed_beyond_the_catch_up_window_is_recorded_as_skipped() {
    let env = setup(0).await;
    let core = &env.core;
    let mut input = cron_input("Morning", "sync_contifico", Some(&env.conn_id), "0 7 * * *", "UTC");
    input.catch_up_minutes = Some(120);
    let s = scheduler::add_at(core, &input, utc(2025, 5, 1, 6, 0, 0)).unwrap();
    // Off from 06:00 to 10:30: 07:00 is 3.5 h late, beyond the 2 h window.
    let recs = tick_range(core, utc(2025, 5, 1, 10, 30, 0), utc(2025, 5, 1, 10, 35, 0), 20);
    assert_eq!(recs.len(), 1, "{recs:#?}");
    assert_eq!(recs[0].outcome, RunOutcome::SkippedMissed);
    assert_eq!(recs[0].due_at, "2025-05-01T07:00:00.000Z");
    assert!(recs[0].job_id.is_none());
    assert!(recs[0].reason.as_deref().unwrap().contains("catch-up window"), "{:?}", recs[0].reason);
    assert_eq!(core.get_schedule(&s.id).unwrap().next_due_at.as_deref(), Some("2025-05-02T07:00:00.000Z"));
}

#[tokio::test]
async fn overlapping_runs_are_skipped_and_recorded() {
    // Every request to the simulator takes 2 s: the sync job stays running across ticks.
    let env = setup(2000).await;
    let core = &env.core;
    let s = scheduler::add_at(
        core,
        &cron_input("Sync", "sync_contifico", Some(&env.conn_id), "*/30 * * * *", "UTC"),
        utc(2025, 5, 1, 8, 50, 0),
    )
    .unwrap();
    let r1 = scheduler::tick(core.ctx(), utc(2025, 5, 1, 9, 0, 0)).unwrap();
    assert_eq!(r1[0].outcome, RunOutcome::Started);
    let job1 = r1[0].job_id.clone().unwrap();
    assert!(core.jobs.get(&job1).unwrap().status.is_active());

    // 09:30: the schedule's own previous job is still going.
    let r2 = scheduler::tick(core.ctx(), utc(2025, 5, 1, 9, 30, 0)).unwrap();
    assert_eq!(r2.len(), 1);
    assert_eq!(r2[0].outcome, RunOutcome::SkippedOverlap);
    assert!(r2[0].reason.as_deref().unwrap().contains(&job1), "{:?}", r2[0].reason);
    core.jobs.cancel(&job1).unwrap();
    wait(core, &job1).await;

    // 10:00: someone else (the tray's "sync all now", the CLI) runs the same kind on the same connection.
    let conn = core.connections().get(&env.conn_id).unwrap();
    let (other, _h) = core
        .jobs
        .spawn("sync_contifico", Some(&conn), serde_json::json!({}), |ctx| async move {
            ctx.cancel_token().cancelled().await;
            Ok(())
        })
        .unwrap();
    let r3 = scheduler::tick(core.ctx(), utc(2025, 5, 1, 10, 0, 0)).unwrap();
    assert_eq!(r3.len(), 1);
    assert_eq!(r3[0].outcome, RunOutcome::SkippedOverlap);
    assert!(r3[0].reason.as_deref().unwrap().contains("already running"), "{:?}", r3[0].reason);
    // Skipped occurrences are not retried on the next ticks.
    assert!(tick_range(core, utc(2025, 5, 1, 10, 0, 20), utc(2025, 5, 1, 10, 10, 0), 20).is_empty());
    // "Run now" while it is still going is refused and recorded.
    match core.run_schedule_now(&s.id) {
        Err(CoreError::JobAlreadyRunning { .. }) => {}
        other => panic!("expected JobAlreadyRunning, got {other:?}"),
    }
    core.jobs.cancel(&other.id).unwrap();
    wait(core, &other.id).await;

    let h = core.schedule_history(Some(&s.id), 50).unwrap();
    let outcomes: Vec<(RunTrigger, RunOutcome)> = h.iter().map(|r| (r.trigger, r.outcome)).collect();
    assert_eq!(
        outcomes,
        vec![
            (RunTrigger::Manual, RunOutcome::SkippedOverlap),
            (RunTrigger::Schedule, RunOutcome::SkippedOverlap),
            (RunTrigger::Schedule, RunOutcome::SkippedOverlap),
            (RunTrigger::Schedule, RunOutcome::Started),
        ]
    );
    assert_eq!(h[3].job_status, Some(JobStatus::Cancelled));
    core.jobs.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn weekday_seven_in_sao_paulo_fires_at_ten_utc_on_weekdays() {
    let env = setup(0).await;
    let core = &env.core;
    // A job start_job refuses when it is due (a transfer worker with no run named): each due run
    // records failed_to_start with the reason.
    let s = scheduler::add_at(
        core,
        &cron_input("Report", "erpnext_workflow", None, "0 7 * * 1-5", "America/Sao_Paulo"),
        utc(2025, 3, 7, 0, 0, 0),
    )
    .unwrap();
    // Friday 2025-03-07 to Tuesday 2025-03-11, ticking every 5 minutes.
    let recs = tick_range(core, utc(2025, 3, 7, 0, 0, 0), utc(2025, 3, 11, 23, 55, 0), 300);
    let dues: Vec<&str> = recs.iter().map(|r| r.due_at.as_str()).collect();
    assert_eq!(dues, vec!["2025-03-07T10:00:00.000Z", "2025-03-10T10:00:00.000Z", "2025-03-11T10:00:00.000Z"]);
    assert!(recs.iter().all(|r| r.outcome == RunOutcome::FailedToStart));
    assert!(recs[0].reason.as_deref().unwrap().contains("needs {\"run_id\""), "{:?}", recs[0].reason);
    assert_eq!(core.get_schedule(&s.id).unwrap().last_outcome, Some(RunOutcome::FailedToStart));
}

#[tokio::test]
async fn dst_transitions_in_new_york_run_once() {
    let env = setup(0).await;
    let core = &env.core;
    scheduler::add_at(
        core,
        &cron_input("Gap", "erpnext_workflow", None, "30 2 * * *", "America/New_York"),
        utc(2025, 3, 8, 12, 0, 0),
    )
    .unwrap();
    let recs = tick_range(core, utc(2025, 3, 8, 12, 0, 0), utc(2025, 3, 10, 12, 0, 0), 60);
    let dues: Vec<&str> = recs.iter().map(|r| r.due_at.as_str()).collect();
    // 2025-03-09 02:30 does not exist: once at 03:00 EDT (07:00Z). 03-10 02:30 EDT = 06:30Z.
    assert_eq!(dues, vec!["2025-03-09T07:00:00.000Z", "2025-03-10T06:30:00.000Z"]);

    let env = setup(0).await;
    let core = &env.core;
    scheduler::add_at(
        core,
        &cron_input("Overlap", "erpnext_workflow", None, "30 1 * * *", "America/New_York"),
        utc(2025, 11, 1, 12, 0, 0),
    )
    .unwrap();
    let recs = tick_range(core, utc(2025, 11, 1, 12, 0, 0), utc(2025, 11, 3, 12, 0, 0), 60);
    let dues: Vec<&str> = recs.iter().map(|r| r.due_at.as_str()).collect();
    // 2025-11-02 01:30 happens twice (05:30Z EDT, 06:30Z EST): it runs once.
    assert_eq!(dues, vec!["2025-11-02T05:30:00.000Z", "2025-11-03T06:30:00.000Z"]);
}

#[tokio::test]
async fn a_clock_jumping_backwards_causes_no_extra_run() {
    let env = setup(0).await;
    let core = &env.core;
    scheduler::add_at(
        core,
        &cron_input("Hourly", "erpnext_workflow", None, "0 * * * *", "UTC"),
        utc(2025, 5, 1, 11, 30, 0),
    )
    .unwrap();
    let mut recs = tick_range(core, utc(2025, 5, 1, 11, 30, 0), utc(2025, 5, 1, 12, 5, 0), 20);
    assert_eq!(recs.len(), 1);
    // The clock is set back to 10:40 and runs on to 13:05: 11:00 and 12:00 must not run (again).
    recs.extend(tick_range(core, utc(2025, 5, 1, 10, 40, 0), utc(2025, 5, 1, 13, 5, 0), 20));
    let dues: Vec<&str> = recs.iter().map(|r| r.due_at.as_str()).collect();
    assert_eq!(dues, vec!["2025-05-01T12:00:00.000Z", "2025-05-01T13:00:00.000Z"]);
}

#[tokio::test]
async fn paused_schedules_never_fire_and_resuming_does_not_replay() {
    let env = setup(0).await;
    let core = &env.core;
    let t0 = utc(2025, 5, 1, 8, 30, 0);
    let s = scheduler::add_at(core, &cron_input("Hourly", "erpnext_workflow", None, "0 * * * *", "UTC"), t0).unwrap();

    // One schedule paused.
    let p = scheduler::set_enabled_at(core, &s.id, false, t0).unwrap();
    assert!(!p.enabled);
    assert_eq!(p.next_due_at, None);
    assert!(tick_range(core, t0, utc(2025, 5, 1, 11, 30, 0), 60).is_empty());
    // Resumed at 11:30: 09:00-11:00 are waived, the next run is 12:00.
    let r = scheduler::set_enabled_at(core, &s.id, true, utc(2025, 5, 1, 11, 30, 0)).unwrap();
    assert_eq!(r.next_due_at.as_deref(), Some("2025-05-01T12:00:00.000Z"));
    assert!(tick_range(core, utc(2025, 5, 1, 11, 30, 0), utc(2025, 5, 1, 11, 59, 0), 60).is_empty());

    // "Pause all" (settings key schedules_paused).
    scheduler::set_paused_all_at(core, true, utc(2025, 5, 1, 11, 59, 0)).unwrap();
    assert!(core.schedules_paused());
    assert!(tick_range(core, utc(2025, 5, 1, 11, 59, 0), utc(2025, 5, 1, 14, 30, 0), 60).is_empty());
    scheduler::set_paused_all_at(core, false, utc(2025, 5, 1, 14, 30, 0)).unwrap();
    assert!(!core.schedules_paused());
    let recs = tick_range(core, utc(2025, 5, 1, 14, 30, 0), utc(2025, 5, 1, 15, 10, 0), 60);
    let dues: Vec<&str> = recs.iter().map(|r| r.due_at.as_str()).collect();
    assert_eq!(dues, vec!["2025-05-01T15:00:00.000Z"], "nothing made up for the paused hours");
}

#[tokio::test]
async fn invalid_schedules_are_refused_in_plain_language_and_nothing_is_stored() {
    let env = setup(0).await;
    let core = &env.core;
    let base = cron_input("Bad", "sync_contifico", Some(&env.conn_id), "0 7 * * 1-5", "America/Sao_Paulo");
    let cases: Vec<(ScheduleInput, &str, &str)> = vec![
        (ScheduleInput { cron: Some("0 7 * *".into()), ..base.clone() }, "cron", "has 4 field(s)"),
        (ScheduleInput { cron: Some("0 25 * * *".into()), ..base.clone() }, "cron", "is not a valid cron expression"),
        (ScheduleInput { cron: Some("0 0 30 2 *".into()), ..base.clone() }, "cron", "never occurs"),
        (ScheduleInput { timezone: Some("America/SaoPaulo".into()), ..base.clone() }, "timezone", "IANA name"),
        (ScheduleInput { every_minutes: Some(30), ..base.clone() }, "schedule", "not both"),
        (ScheduleInput { cron: None, timezone: None, ..base.clone() }, "schedule", "Say when the job runs"),
        (ScheduleInput { cron: None, every_minutes: Some(0), ..base.clone() }, "every_minutes", "between 1 and"),
        (ScheduleInput { name: " ".into(), ..base.clone() }, "name", "Give the schedule a name"),
        (ScheduleInput { kind: "Sync Now!".into(), ..base.clone() }, "kind", "is not a job BackOffice knows"),
        (ScheduleInput { params: serde_json::json!([1]), ..base.clone() }, "params", "JSON object"),
        (ScheduleInput { connection_id: Some("nope".into()), ..base.clone() }, "connection", "No connection"),
        (ScheduleInput { catch_up_minutes: Some(100_000), ..base.clone() }, "catch_up_minutes", "at most"),
    ];
    for (input, field, text) in cases {
        match core.add_schedule(&input) {
            Err(CoreError::InvalidInput { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(reason.contains(text), "{field}: {reason}");
            }
            other => panic!("{field}: expected InvalidInput, got {other:?}"),
        }
    }
    assert!(core.list_schedules().unwrap().is_empty());
    // The time zone defaults to the connection's.
    let ok = core.add_schedule(&ScheduleInput { timezone: None, ..base }).unwrap();
    assert_eq!(ok.timezone.as_deref(), Some("America/Guayaquil"));
}

#[tokio::test]
async fn defaults_are_offered_once_per_connection() {
    let env = setup(0).await;
    let core = &env.core;
    let created = core.ensure_default_schedules(&env.conn_id).unwrap();
    let mut kinds: Vec<(&str, Option<&str>, bool)> =
        created.iter().map(|s| (s.kind.as_str(), s.cron.as_deref(), s.enabled)).collect();
    kinds.sort();
    assert_eq!(kinds, vec![("sync_contifico", Some("0 * * * *"), true)]);
    assert!(created.iter().all(|s| s.timezone.as_deref() == Some("America/Guayaquil")));
    assert!(core.ensure_default_schedules(&env.conn_id).unwrap().is_empty(), "no duplicates");

    // Names come in the user's language, with the connection's name.
    core.save_settings(&backoffice_core::model::Settings { locale: Some("pt-BR".into()) }).unwrap();
    let omie = core.connections().ensure_headless("Loja SP", ConnectionKind::Omie, "").unwrap();
    let created = core.ensure_default_schedules(&omie.id).unwrap();
    let sync_name = created.iter().find(|s| s.kind == "sync_omie").map(|s| s.name.clone());
    assert_eq!(sync_name.as_deref(), Some("Sincronização Omie: Loja SP"));
    let mut kinds: Vec<&str> = created.iter().map(|s| s.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["divergences", "omie_attachment_scan", "omie_po_close_scan", "sync_omie"]);
    let (daily, own): (Vec<_>, Vec<_>) = created.iter().partition(|s| s.kind == "divergences");
    assert!(own.iter().all(|s| s.enabled && s.connection_id.as_deref() == Some(omie.id.as_str())));
    // The daily divergence check: 07:00 in the company's zone, for every connection, paused.
    assert_eq!(
        (daily[0].cron.as_deref(), daily[0].enabled, daily[0].connection_id.as_deref()),
        (Some("0 7 * * *"), false, None)
    );
    assert_eq!(daily[0].name, "Verificação de divergências");
    let other = core.connections().ensure_headless("Loja RJ", ConnectionKind::Omie, "http://127.0.0.1:9/").unwrap();
    let created = core.ensure_default_schedules(&other.id).unwrap();
    assert!(created.iter().all(|s| s.kind != "divergences"), "offered once, not once per connection");
    core.remove_schedule(&created.iter().find(|s| s.kind == "sync_omie").unwrap().id).unwrap();
    for s in created.iter().filter(|s| s.kind != "sync_omie") {
        core.remove_schedule(&s.id).unwrap();
    }
    core.remove_schedule(&daily[0].id).unwrap();

    // A default the user removed is not brought back.
    let sync = core.list_schedules().unwrap().into_iter().find(|s| s.kind == "sync_contifico").unwrap();
    core.remove_schedule(&sync.id).unwrap();
    assert!(core.ensure_default_schedules(&env.conn_id).unwrap().is_empty());
    assert_eq!(core.list_schedules().unwrap().len(), 3);
    // Removing a connection removes its schedules (row deleted directly: no keychain in tests).
    core.store
        .write(|tx| {
            tx.execute("DELETE FROM connections WHERE id=?1", [&omie.id])?;
            Ok(())
        })
        .unwrap();
    assert!(core.list_schedules().unwrap().is_empty(), "the Omie schedules went with their connection");
}

#[tokio::test]
async fn run_now_starts_the_job_and_records_it_without_moving_the_schedule() {
    let env = setup(0).await;
    let core = &env.core;
    let s = core.add_schedule(&cron_input("Hourly", "sync_contifico", Some(&env.conn_id), "0 * * * *", "UTC")).unwrap();
    let job = core.run_schedule_now(&s.id).unwrap();
    let job = wait(core, &job.id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let h = core.schedule_history(None, 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].trigger, h[0].outcome), (RunTrigger::Manual, RunOutcome::Started));
    assert_eq!(h[0].job_id.as_deref(), Some(job.id.as_str()));
    let after = core.get_schedule(&s.id).unwrap();
    assert_eq!(after.next_due_at, s.next_due_at);
    assert_eq!(after.handled_until, s.handled_until);
    assert_eq!(after.last_job_id.as_deref(), Some(job.id.as_str()));
    // Found by name too.
    assert_eq!(core.find_schedule("hourly").unwrap().id, s.id);
}
