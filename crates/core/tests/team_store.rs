//! The store on a team database (a real PostgreSQL server: the throwaway cluster `cargo xtask test`
//! starts, named in BACKOFFICE_TEST_POSTGRES_URL; `cargo xtask session --postgres -- cargo test -p
//! backoffice-core --test team_store` gives one to a single run), and the parts that run on it
//! already, checked the same way on a desk's SQLite file. Every test works in a database of its own.

use std::time::Duration;

use backoffice_core::erp::connections::Connections;
use backoffice_core::jobs::JobManager;
use backoffice_core::model::{ConnectionInput, ConnectionKind, Credentials, JobFilter, JobStatus};
use backoffice_core::secrets::{Keychain, SecretStore};
use backoffice_core::store::pg_schema;
use backoffice_core::store::team::TeamUrl;
use backoffice_core::store::{Backend, NewerDatabase, Store, MIGRATIONS};
use backoffice_core::{vals, CoreError};

#[path = "support/team_db.rs"]
mod team_db;
use team_db::{admin_on, admin_url, fresh_database};

#[test]
fn desks_starting_together_on_a_new_team_database_set_it_up_once() {
    let url = fresh_database();
    let gate = std::sync::Arc::new(std::sync::Barrier::new(4));
    let desks: Vec<_> = (0..4)
        .map(|_| {
            let (url, gate) = (url.clone(), gate.clone());
            std::thread::spawn(move || {
                gate.wait();
                Store::open_team(&url).map_err(|e| e.to_string())
            })
        })
        .collect();
    for d in desks {
        let store = d.join().unwrap().unwrap();
        assert_eq!(store.backend(), Backend::Postgres);
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert!(store.path().is_none());
    }
    // Every table of the desk's schema is there, with its indexes.
    let schema = pg_schema::latest().unwrap();
    let mut admin = admin_on(&url);
    let tables: i64 = admin
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'backoffice' AND table_name <> 'bo_team_store'
               AND table_type = 'BASE TABLE'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables as usize, schema.tables.len());
    for (index, _) in &schema.indexes {
        let n: i64 = admin
            .query_one("SELECT count(*) FROM pg_indexes WHERE schemaname = 'backoffice' AND indexname = $1", &[index])
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "index {index}");
    }
    // And the BI tools' read-only views, from the start (not only after a copy).
    for (view, _) in backoffice_core::store::bi::VIEWS {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM information_schema.views WHERE table_schema = 'backoffice' AND table_name = $1",
                &[&view],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "view {view}");
    }
}

#[test]
fn a_team_database_of_a_newer_version_or_not_backoffices_is_refused() {
    let url = fresh_database();
    Store::open_team(&url).unwrap();
    let mut admin = admin_on(&url);
    let newer = MIGRATIONS.len() + 3;
    admin
        .execute("UPDATE backoffice.bo_team_store SET value = $1 WHERE key = 'schema_version'", &[&newer.to_string()])
        .unwrap();
    let err = Store::open_team(&url).err().expect("a newer team database is refused");
    let found = err.feature::<NewerDatabase>().expect("NewerDatabase");
    assert_eq!((found.found, found.known), (newer as i64, MIGRATIONS.len() as i64));
    assert!(err.to_string().contains("newer BackOffice"), "{err}");

    let other = fresh_database();
    admin_on(&other).batch_execute("CREATE SCHEMA backoffice; CREATE TABLE backoffice.theirs (x text)").unwrap();
    let err = Store::open_team(&other).err().expect("a schema BackOffice did not make is refused");
    assert_eq!(err.code(), "team_schema_foreign");
    assert!(err.to_string().contains("did not create"), "{err}");
    // ... and left alone.
    let kept: i64 = admin_on(&other).query_one("SELECT count(*) FROM backoffice.theirs", &[]).unwrap().get(0);
    assert_eq!(kept, 0);
}

#[test]
fn a_team_database_of_an_older_version_is_brought_up_to_date_and_keeps_its_rows() {
    let url = fresh_database();
    let store = Store::open_team(&url).unwrap();
    store
        .tx(|db| {
            db.execute(
                "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at)
                 VALUES ('c1', 'Quito — Matriz', 'contifico', 'https://api.example/', 'America/Guayaquil', ?1, ?1)",
                vals!["2026-12-01T10:00:00.000Z"],
            )?;
            Ok(())
        })
        .unwrap();
    drop(store);
    // As an older BackOffice left it: without the last migration's columns, a later table and an index.
    admin_on(&url)
        .batch_execute(
            "ALTER TABLE backoffice.jobs DROP COLUMN heartbeat_at;
             DROP TABLE backoffice.local_reclassifications;
             DROP INDEX backoffice.jobs_created;
             UPDATE backoffice.bo_team_store SET value = '15' WHERE key = 'schema_version';",
        )
        .unwrap();
    let store = Store::open_team(&url).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let mut admin = admin_on(&url);
    let has = |admin: &mut postgres::Client, sql: &str| -> i64 { admin.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(
        has(&mut admin, "SELECT count(*) FROM information_schema.columns WHERE table_schema='backoffice' AND table_name='jobs' AND column_name='heartbeat_at'"),
        1
    );
    assert_eq!(has(&mut admin, "SELECT count(*) FROM backoffice.local_reclassifications"), 0);
    assert_eq!(
        has(&mut admin, "SELECT count(*) FROM pg_indexes WHERE schemaname='backoffice' AND indexname='jobs_created'"),
        1
    );
    let name: String = store.query(|db| db.one("SELECT name FROM connections WHERE id = 'c1'", vals![])).unwrap();
    assert_eq!(name, "Quito — Matriz");

    // A column of another type than this version's is not "fixed": it is refused, untouched.
    admin
        .batch_execute(
            "ALTER TABLE backoffice.jobs DROP COLUMN owner_run; ALTER TABLE backoffice.jobs ADD COLUMN owner_run bigint;
             UPDATE backoffice.bo_team_store SET value = '15' WHERE key = 'schema_version';",
        )
        .unwrap();
    let err = Store::open_team(&url).err().expect("a changed column is refused");
    assert_eq!(err.code(), "team_schema_changed");
    assert!(err.to_string().contains("owner_run"), "{err}");
}

#[test]
fn a_statement_the_team_database_refuses_leaves_nothing_half_written() {
    let url = fresh_database();
    let store = Store::open_team(&url).unwrap();
    let r: Result<(), CoreError> = store.tx(|db| {
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')", vals![])?;
        // The CHECK of the desk's schema holds on the team database too.
        db.execute("INSERT INTO jobs (id, kind, status, created_at) VALUES ('j1', 'x', 'exploded', 't')", vals![])?;
        Ok(())
    });
    let err = r.unwrap_err();
    assert_eq!(err.code(), "team_db_server", "{err}");
    assert!(err.to_string().contains("The team database at"), "{err}");
    let detail = match err.feature::<backoffice_core::store::team::TeamDbError>() {
        Some(backoffice_core::store::team::TeamDbError::Server { detail, .. }) => detail.clone(),
        other => panic!("{other:?}"),
    };
    assert!(detail.contains("jobs_status_check") || detail.contains("check constraint"), "{detail}");
    let n: i64 = store.query(|db| db.one("SELECT count(*) FROM settings WHERE key = 'a'", vals![])).unwrap();
    assert_eq!(n, 0);
    // The connection is usable again afterwards.
    store.tx(|db| db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')", vals![]).map(|_| ())).unwrap();
}

// ----- the same behaviour on both backends -----

/// Two desks on one database: on PostgreSQL two stores on one team database; on SQLite two stores
/// on one file (two windows of one computer).
fn two_desks(backend: Backend, dir: &std::path::Path) -> (Store, Store) {
    match backend {
        Backend::Postgres => {
            let url = fresh_database();
            (Store::open_team(&url).unwrap(), Store::open_team(&url).unwrap())
        }
        Backend::Sqlite => {
            let path = dir.join("bo.db");
            (Store::open(&path).unwrap(), Store::open(&path).unwrap())
        }
    }
}

fn connection(store: &Store, keychain: &dyn SecretStore, name: &str) -> backoffice_core::model::Connection {
    connection_of(store, keychain, name, ConnectionKind::Contifico)
}

/// A connection of `kind` with made-up credentials, kept in `keychain`.
fn connection_of(
    store: &Store,
    keychain: &dyn SecretStore,
    name: &str,
    kind: ConnectionKind,
) -> backoffice_core::model::Connection {
    let (base_url, timezone) = match kind {
        ConnectionKind::Omie => ("https://app.omie.example/api/v1/", "America/Sao_Paulo"),
        _ => ("https://api.contifico.example/sistema/api/v1/", "America/Guayaquil"),
    };
    Connections { store, secrets: keychain }
        .create(
            &ConnectionInput {
                name: name.into(),
                kind,
                base_url: base_url.into(),
                timezone: timezone.into(),
                credentials: Some(Credentials { key: "made-up-key".into(), secret: "made-up-token".into() }),
            },
            false,
        )
        .unwrap()
}

async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    // Observable events only: look until the state shows (the bound only stops a broken run).
    for _ in 0..600 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

async fn jobs_are_shared_by_desks(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_desks(backend, dir.path());
    // The real keychain (Secret Service, started by `cargo xtask test`), under a service name of its own.
    let keychain = Keychain { service: Some(format!("BackOffice-test-{}", uuid::Uuid::new_v4())) };
    let conn = connection(&a, &keychain, "Quito — Matriz");
    // Desk B sees the connection desk A made (its secret stays in A's keychain).
    let seen = Connections { store: &b, secrets: &keychain }.find_by_name("quito — matriz").unwrap();
    assert_eq!(seen.id, conn.id);

    let (desk_a, desk_b) = (JobManager::new(a.clone()).unwrap(), JobManager::new(b.clone()).unwrap());
    let mut b_events = desk_b.subscribe();
    let (job, running) = desk_a
        .spawn("contifico_sync", Some(&conn), serde_json::json!({}), |ctx| async move {
            ctx.add_count("added", 7);
            ctx.progress(Some(0.25), "clientes");
            loop {
                ctx.checkpoint()?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .unwrap();
    // Desk B cannot start the same work on the same connection...
    let second = desk_b.spawn("contifico_sync", Some(&conn), serde_json::json!({}), |_| async { Ok(()) });
    assert!(matches!(second, Err(CoreError::JobAlreadyRunning { .. })), "{second:?}");
    // ... sees it running, with its progress and counts ...
    let watched = until("desk B sees the progress", || {
        let j = desk_b.get(&job.id).ok()?;
        (j.status == JobStatus::Running && j.counts.get("added") == Some(&7)).then_some(j)
    })
    .await;
    assert_eq!(watched.progress, Some(0.25));
    if backend == Backend::Postgres {
        // Desk B's window hears of desk A's job as it changes (LISTEN/NOTIFY), without asking.
        until("desk B hears desk A's progress", || {
            std::iter::from_fn(|| b_events.try_recv().ok())
                .any(|e| e.job.id == job.id && e.job.counts.get("added") == Some(&7))
                .then_some(())
        })
        .await;
    }
    assert_eq!(watched.progress_label.as_deref(), Some("clientes"));
    let listed = desk_b.list(&JobFilter { connection_id: Some(conn.id.clone()), ..Default::default() }).unwrap();
    assert_eq!(listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), vec![job.id.as_str()]);
    // ... and can stop it: desk A's job ends cancelled at its next look.
    desk_b.cancel(&job.id).unwrap();
    let done = running.await.unwrap();
    assert_eq!(done.status, JobStatus::Cancelled);
    assert_eq!(desk_b.get(&job.id).unwrap().status, JobStatus::Cancelled);
    let logs = desk_b.detail(&job.id).unwrap().logs;
    assert_eq!(logs.last().and_then(|l| l.key.as_deref()), Some("job.cancelled"));
    if backend == Backend::Postgres {
        // ... log lines included: the line desk A wrote when it stopped, and the end.
        let mut heard = Vec::new();
        until("desk B hears desk A's last log line and the end", || {
            heard.extend(std::iter::from_fn(|| b_events.try_recv().ok()));
            let line = heard.iter().any(|e| e.log.as_ref().and_then(|l| l.key.as_deref()) == Some("job.cancelled"));
            let end = heard.iter().any(|e| e.job.id == job.id && e.job.status == JobStatus::Cancelled);
            (line && end).then_some(())
        })
        .await;
    }
    // The slot is free for either desk now.
    let (_, again) = desk_b.spawn("contifico_sync", Some(&conn), serde_json::json!({}), |_| async { Ok(()) }).unwrap();
    assert_eq!(again.await.unwrap().status, JobStatus::Succeeded);
    let (running_now, failed, succeeded) = desk_a.counts_since("2000-01-01T00:00:00.000Z").unwrap();
    assert_eq!((running_now, failed, succeeded), (0, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_shared_by_desks_on_postgres() {
    jobs_are_shared_by_desks(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_shared_by_desks_on_sqlite() {
    jobs_are_shared_by_desks(Backend::Sqlite).await;
}

/// A job left `running` by a desk that stopped (its computer switched off mid-sync): its slot is
/// free once the desk has been silent for a minute, not before.
async fn a_silent_desks_job_frees_its_slot(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (a, _b) = two_desks(backend, dir.path());
    let jobs = JobManager::new(a.clone()).unwrap();
    let ago = |secs: i64| {
        (chrono::Utc::now() - chrono::TimeDelta::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let left_by = |id: &str, heartbeat: String| {
        a.tx(|db| {
            db.execute(
                "INSERT INTO jobs (id, kind, params, status, counts, created_at, started_at, active_key,
                                   owner_pid, owner_host, owner_run, heartbeat_at)
                 VALUES (?1, 'contifico_sync', '{}', 'running', '{}', ?2, ?2, 'contifico_sync|', 4242,
                         'the-desk-by-the-window', 'r1', ?2)",
                vals![id, heartbeat],
            )?;
            Ok(())
        })
        .unwrap()
    };
    // Heard from 10 s ago: still there; the slot stays taken.
    left_by("j-alive", ago(10));
    let refused = jobs.spawn("contifico_sync", None, serde_json::json!({}), |_| async { Ok(()) });
    assert!(matches!(refused, Err(CoreError::JobAlreadyRunning { .. })), "{refused:?}");
    assert_eq!(jobs.get("j-alive").unwrap().status, JobStatus::Running);
    // Silent for two minutes: that desk stopped; its job is marked interrupted and the slot is free.
    a.tx(|db| db.execute("UPDATE jobs SET heartbeat_at = ?1 WHERE id = 'j-alive'", vals![ago(120)]).map(|_| ()))
        .unwrap();
    let (_, h) = jobs.spawn("contifico_sync", None, serde_json::json!({}), |_| async { Ok(()) }).unwrap();
    assert_eq!(h.await.unwrap().status, JobStatus::Succeeded);
    let left = jobs.get("j-alive").unwrap();
    assert_eq!(left.status, JobStatus::Failed);
    assert_eq!(left.error.map(|e| e.code), Some("interrupted".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_desks_job_frees_its_slot_on_postgres() {
    a_silent_desks_job_frees_its_slot(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_desks_job_frees_its_slot_on_sqlite() {
    a_silent_desks_job_frees_its_slot(Backend::Sqlite).await;
}

/// A schedule on a team database fires on exactly one desk, whichever desks are ticking: each desk's
/// scheduler claims the occurrence (compare-and-set on the schedule's position) before it starts the
/// job, so two desks ticking at the same instant start it once; a desk that is off simply does not
/// tick, and the next occurrence is fired by a desk that is on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_once_across_desks_and_a_desk_that_is_off_is_not_needed() {
    use backoffice_core::ops::scheduler::{self, RunOutcome, RunTrigger, ScheduleInput};
    use backoffice_core::{Core, Paths};
    use chrono::{TimeZone, Utc};
    use std::sync::Arc;

    let url = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let keychain = Arc::new(Keychain { service: Some(format!("BackOffice-test-{}", uuid::Uuid::new_v4())) });
    let desk = |name: &str| {
        let paths = Paths { db: dir.path().join(name).join("unused.db"), log_dir: dir.path().join(name).join("logs") };
        let (url, keychain) = (url.clone(), keychain.clone());
        std::thread::spawn(move || Core::open_team(paths, &url, keychain).unwrap()).join().unwrap()
    };
    let (a, b) = (desk("a"), desk("b"));
    let conn = connection(&a.store, keychain.as_ref(), "Quito");
    let t0 = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap();
    let s = scheduler::add_at(
        a.ctx(),
        &ScheduleInput {
            name: "Sync Quito every hour".into(),
            kind: "sync_contifico".into(),
            connection_id: Some(conn.id.clone()),
            params: serde_json::json!({ "resources": ["categorias"], "full_refresh": false }),
            cron: Some("0 * * * *".into()),
            timezone: Some("UTC".into()),
            ..Default::default()
        },
        t0,
    )
    .unwrap();
    // Desk B sees the schedule desk A made.
    assert_eq!(scheduler::get_schedule(b.ctx(), &s.id).unwrap().name, "Sync Quito every hour");

    // 10:00:05: both desks tick at the same instant, many times over.
    let due = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 5).unwrap();
    let mut ticks = Vec::new();
    for _ in 0..4 {
        for d in [a.ctx().clone(), b.ctx().clone()] {
            ticks.push(tokio::task::spawn_blocking(move || scheduler::tick(&d, due).unwrap()));
        }
    }
    let mut fired = Vec::new();
    for t in ticks {
        fired.extend(t.await.unwrap());
    }
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].outcome, RunOutcome::Started);
    let history = scheduler::schedule_history(b.ctx(), Some(&s.id), 10).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].trigger, RunTrigger::Schedule);
    let jobs = b.jobs.list(&JobFilter { kind: Some("sync_contifico".into()), ..Default::default() }).unwrap();
    assert_eq!(jobs.len(), 1, "one job across both desks");
    // Let that run end (whatever it found) before the next hour.
    until("the first run ends", || (!b.jobs.get(&jobs[0].id).ok()?.status.is_active()).then_some(())).await;

    // 11:00:05: desk A is off; desk B alone fires the next occurrence, once.
    drop(a);
    let next = Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 5).unwrap();
    let d = b.ctx().clone();
    let fired = tokio::task::spawn_blocking(move || {
        let mut all = scheduler::tick(&d, next).unwrap();
        all.extend(scheduler::tick(&d, next).unwrap());
        all
    })
    .await
    .unwrap();
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(scheduler::schedule_history(b.ctx(), Some(&s.id), 10).unwrap().len(), 2);
}

/// A site's "not before" (Retry-After) told to one desk holds for every desk of the team.
#[test]
fn a_retry_after_told_to_one_desk_holds_for_the_other() {
    use backoffice_core::store::waits::{hold_host, host_not_before};
    let url = fresh_database();
    let (a, b) = (Store::open_team(&url).unwrap(), Store::open_team(&url).unwrap());
    let now = 1_800_000_000_000i64;
    assert_eq!(host_not_before(&b, "erp.example", now).unwrap(), None);
    hold_host(&a, "erp.example", now + 30_000, "429").unwrap();
    assert_eq!(host_not_before(&b, "erp.example", now).unwrap(), Some(now + 30_000));
    // A shorter wait told later does not shorten it; a longer one lengthens it.
    hold_host(&b, "erp.example", now + 5_000, "429").unwrap();
    assert_eq!(host_not_before(&a, "erp.example", now).unwrap(), Some(now + 30_000));
    hold_host(&b, "erp.example", now + 60_000, "429").unwrap();
    assert_eq!(host_not_before(&a, "erp.example", now).unwrap(), Some(now + 60_000));
    assert_eq!(host_not_before(&a, "erp.example", now + 61_000).unwrap(), None);
}

/// Who may do what is the database's to say: a reviewer's desk may browse, review and test a
/// connection, not start a sync or a schedule that syncs; the refusal says so and who may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_may_browse_and_review_but_not_start_a_sync_and_is_told_who_may() {
    use backoffice_core::jobs::RoleRefused;
    use backoffice_core::ops::scheduler::{self, ScheduleInput};
    use backoffice_core::{Core, Paths};
    use std::sync::Arc;

    let url = fresh_database();
    let admin = std::thread::spawn({
        let url = url.clone();
        move || Store::open_team(&url).unwrap()
    })
    .join()
    .unwrap();
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let (maria, ana) = (format!("maria_{suffix}"), format!("ana_{suffix}"));
    let users = format!(
        "CREATE ROLE {maria} LOGIN PASSWORD 'made-up-pass-1'; GRANT backoffice_reviewer TO {maria};
         CREATE ROLE {ana} LOGIN PASSWORD 'made-up-pass-2'; GRANT backoffice_operator TO {ana};"
    );
    let on = url.clone();
    std::thread::spawn(move || admin_on(&on).batch_execute(&users).unwrap()).join().unwrap();
    let server_and_db = url.shown().split_once('@').unwrap().1.to_string();
    let as_user =
        |user: &str, password: &str| TeamUrl::parse(&format!("postgres://{user}:{password}@{server_and_db}")).unwrap();
    let keychain = Arc::new(Keychain { service: Some(format!("BackOffice-test-{}", uuid::Uuid::new_v4())) });
    let conn = connection(&admin, keychain.as_ref(), "Quito");
    let dir = tempfile::tempdir().unwrap();
    let desk = |name: &str, url: TeamUrl| {
        let paths = Paths { db: dir.path().join(name).join("unused.db"), log_dir: dir.path().join(name).join("logs") };
        let keychain = keychain.clone();
        std::thread::spawn(move || Core::open_team(paths, &url, keychain).unwrap()).join().unwrap()
    };
    let reviewer = desk("maria", as_user(&maria, "made-up-pass-1"));
    let operator = desk("ana", as_user(&ana, "made-up-pass-2"));

    // The reviewer sees what the team has...
    assert_eq!(reviewer.connections().list().unwrap().len(), 1);
    // ... may test a connection (it only reads) ...
    let (_, test) =
        reviewer.jobs.spawn("test_connection", Some(&conn), serde_json::json!({}), |_| async { Ok(()) }).unwrap();
    assert_eq!(test.await.unwrap().status, JobStatus::Succeeded);
    // ... but the database refuses her a sync, and the refusal names who may run it.
    let refused = reviewer.jobs.spawn("sync_contifico", Some(&conn), serde_json::json!({}), |_| async { Ok(()) });
    let err = refused.expect_err("a reviewer's sync is refused");
    assert_eq!(err.code(), "team_role_refused");
    let r = err.feature::<RoleRefused>().expect("RoleRefused");
    assert_eq!(r.kind, "sync_contifico");
    // Roles belong to the whole server: other tests' operators may be listed too, never the reviewer.
    assert!(r.who.split(", ").any(|w| w == ana), "{}", r.who);
    assert!(!r.who.contains(&maria), "{}", r.who);
    assert!(err.to_string().contains("browse and review"), "{err}");
    // A schedule that would sync on her behalf is refused too.
    let schedule = ScheduleInput {
        name: "Hourly".into(),
        kind: "sync_contifico".into(),
        connection_id: Some(conn.id.clone()),
        cron: Some("0 * * * *".into()),
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    let err = scheduler::add_at(reviewer.ctx(), &schedule, chrono::Utc::now()).expect_err("refused");
    assert_eq!(err.code(), "team_db_not_allowed", "{err}");
    assert!(scheduler::list_schedules(reviewer.ctx()).unwrap().is_empty());

    // The operator runs the sync; the reviewer watches it and may stop it.
    let (job, running) = operator
        .jobs
        .spawn("sync_contifico", Some(&conn), serde_json::json!({}), |ctx| async move {
            loop {
                ctx.checkpoint()?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .unwrap();
    until("the reviewer sees it running", || {
        (reviewer.jobs.get(&job.id).ok()?.status == JobStatus::Running).then_some(())
    })
    .await;
    reviewer.jobs.cancel(&job.id).unwrap();
    assert_eq!(running.await.unwrap().status, JobStatus::Cancelled);
    // And an operator's schedule is fine.
    scheduler::add_at(operator.ctx(), &schedule, chrono::Utc::now()).unwrap();
}

/// An inter-company transfer queued on one desk is claimed, followed and finished from either desk:
/// every desk sees its steps, the documents already made (so none is made twice) and the actions.
#[test]
fn a_queued_transfer_is_claimed_by_one_desk_and_seen_by_all() {
    use backoffice_core::erp::erpnext::runs::{self, RunStatus};
    use backoffice_core::erp::erpnext::{TransferInput, TransferItem};
    use rust_decimal::Decimal;

    let url = fresh_database();
    let (a, b) = (Store::open_team(&url).unwrap(), Store::open_team(&url).unwrap());
    let keychain = Keychain { service: Some(format!("BackOffice-test-{}", uuid::Uuid::new_v4())) };
    let make = |name: &str| {
        Connections { store: &a, secrets: &keychain }
            .create(
                &ConnectionInput {
                    name: name.into(),
                    kind: ConnectionKind::Erpnext,
                    base_url: format!("https://{}.erp.example/", name.to_lowercase()),
                    timezone: "America/Sao_Paulo".into(),
                    credentials: Some(Credentials { key: "made-up-key".into(), secret: "made-up-secret".into() }),
                },
                false,
            )
            .unwrap()
    };
    let (site_a, site_b) = (make("SiteA"), make("SiteB"));
    let input = TransferInput {
        site_a: site_a.id.clone(),
        site_b: site_b.id.clone(),
        supplier: "PINES Supplier".into(),
        company_a: "Company A".into(),
        customer_b_on_a: "Company B".into(),
        supplier_a_on_b: "Company A".into(),
        warehouse_a: "Stores - A".into(),
        warehouse_b: "Stores - B".into(),
        items: vec![TransferItem {
            item_code: "SKU-ROUTER-01".into(),
            qty: Decimal::from(2),
            rate: Decimal::new(12050, 2),
            transfer_rate: None,
            serials: vec!["SN-1".into(), "SN-2".into()],
        }],
        ..Default::default()
    };
    runs::create(&a, "run-1", &input, &site_a, &site_b, "2 × SKU-ROUTER-01", "month-end transfer").unwrap();

    // Both desks' workers ask for the next run of site A at the same instant, many times over.
    let gate = std::sync::Arc::new(std::sync::Barrier::new(8));
    let claims: Vec<_> = (0..8)
        .map(|i| {
            let (store, gate, site) = (if i % 2 == 0 { a.clone() } else { b.clone() }, gate.clone(), site_a.id.clone());
            std::thread::spawn(move || {
                gate.wait();
                runs::claim_next(&store, &site, None, &format!("job-{i}")).unwrap()
            })
        })
        .collect();
    let claimed: Vec<_> = claims.into_iter().filter_map(|h| h.join().unwrap()).collect();
    // Claims take turns and none fails. (Claiming does not dequeue: the worker does when it
    // finishes; that one worker per site A runs at a time, across desks, is the job manager's
    // one-active-job rule, tested above.) The holder is one job, seen by every desk.
    assert!(claimed.iter().all(|(id, action)| id == "run-1" && action == "run"), "{claimed:?}");
    let seen_by_b = runs::detail(&b, "run-1").unwrap();
    assert_eq!(seen_by_b.run.status, RunStatus::Running);
    assert!(seen_by_b.run.job_id.as_deref().is_some_and(|j| j.starts_with("job-")));
    assert_eq!(seen_by_b.steps.len(), 4);
    assert_eq!(seen_by_b.actions.iter().map(|x| x.action.as_str()).collect::<Vec<_>>(), vec!["start"]);
    // A step's document recorded by one desk is the other desk's to see (it will not create it again).
    runs::step_done(&a, "run-1", 1, "PINV-0001", 1).unwrap();
    let d = runs::detail(&b, "run-1").unwrap();
    assert_eq!(d.run.documents.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), vec!["PINV-0001"]);
    // Actions from both desks at once are numbered without a clash.
    let hs: Vec<_> = (0..6)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || runs::record_action(&store, "run-1", "note", &format!("from desk {}", i % 2)))
        })
        .collect();
    for h in hs {
        h.join().unwrap().unwrap();
    }
    let seqs: Vec<i64> = runs::detail(&a, "run-1").unwrap().actions.iter().map(|x| x.seq).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<i64>>());
    runs::finish(&b, "run-1", RunStatus::Succeeded, None).unwrap();
    assert_eq!(runs::list(&a, &Default::default()).unwrap()[0].status, RunStatus::Succeeded);
    assert!(runs::claim_next(&a, &site_a.id, None, "job-9").unwrap().is_none());
}

/// A wrong password, a server that is not there, a database that does not exist: each refused
/// with what to do, nothing half set up.
#[test]
fn a_team_database_that_cannot_be_used_is_refused_plainly() {
    let url = fresh_database();
    let server_and_db = url.shown().split_once('@').unwrap().1.to_string();
    let user = url.shown().split("://").nth(1).unwrap().split(':').next().unwrap().to_string();
    let wrong = TeamUrl::parse(&format!("postgres://{user}:not-the-password@{server_and_db}")).unwrap();
    let err = Store::open_team(&wrong).err().expect("a wrong password is refused");
    assert_eq!(err.code(), "team_db_refused", "{err}");
    assert!(err.to_string().contains("refused the user name or password"), "{err}");
    // Nothing was set up by the refused attempt.
    let schemas: i64 =
        admin_on(&url).query_one("SELECT count(*) FROM pg_namespace WHERE nspname = 'backoffice'", &[]).unwrap().get(0);
    assert_eq!(schemas, 0);

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let away = TeamUrl::parse(&format!("postgres://{user}@127.0.0.1:{port}/x?sslmode=disable")).unwrap();
    let err = Store::open_team(&away).err().expect("no server");
    assert_eq!(err.code(), "team_db_unreachable", "{err}");
    assert!(err.to_string().contains("Could not reach"), "{err}");

    let missing =
        TeamUrl::parse(&url.shown().replace("***", &admin_password()).replace("/bo_test_", "/no_such_")).unwrap();
    let err = Store::open_team(&missing).err().expect("no such database");
    assert_eq!(err.code(), "team_db_no_database", "{err}");
}

fn admin_password() -> String {
    let admin = admin_url();
    let creds = admin.split("://").nth(1).unwrap().split('@').next().unwrap();
    creds.split_once(':').map(|(_, p)| p.to_string()).unwrap_or_default()
}

/// The connection a desk listens on is cut (the server restarted it, a network blip): the desk
/// listens again and hears the next changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_listens_again_after_its_connection_is_cut() {
    let url = fresh_database();
    let (a, b) = {
        let url = url.clone();
        std::thread::spawn(move || (Store::open_team(&url).unwrap(), Store::open_team(&url).unwrap())).join().unwrap()
    };
    let (desk_a, desk_b) = (JobManager::new(a).unwrap(), JobManager::new(b).unwrap());
    let mut heard = desk_b.subscribe();
    let (first, h) = desk_a.spawn("demo_one", None, serde_json::json!({}), |_| async { Ok(()) }).unwrap();
    h.await.unwrap();
    until("desk B hears the first job", || {
        std::iter::from_fn(|| heard.try_recv().ok()).any(|e| e.job.id == first.id).then_some(())
    })
    .await;
    // Cut every listening connection of this database from the server's side.
    let on = url.clone();
    let cut: i64 = std::thread::spawn(move || {
        admin_on(&on)
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%') t",
                &[],
            )
            .unwrap()
            .get(0)
    })
    .join()
    .unwrap();
    assert!(cut >= 1, "no listening connection was found to cut");
    // Changes made after the cut reach desk B once it has listened again.
    let second = until("desk B hears a job started after the cut", || {
        let (j, _) = desk_a
            .spawn("demo_two", None, serde_json::json!({}), |ctx| async move {
                ctx.add_count("added", 1);
                Ok(())
            })
            .ok()?;
        let heard_it = (0..20).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::iter::from_fn(|| heard.try_recv().ok()).any(|e| e.job.id == j.id)
        });
        heard_it.then_some(j)
    })
    .await;
    assert_eq!(second.kind, "demo_two");
}

/// Each desk keeps ERP keys in its own keychain. A desk whose keychain lacks a connection's key
/// sees which desks keep it, is refused that connection's jobs with their names, and leaves the
/// connection's scheduled runs to them; once it keeps the key too it may run them. A previous run
/// whose process was killed does not hold the next occurrence back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_without_a_connections_key_leaves_its_jobs_to_the_desks_that_keep_it() {
    use backoffice_core::erp::connections::KeyOnOtherDesks;
    use backoffice_core::ops::scheduler::{self, RunOutcome, ScheduleInput};
    use backoffice_core::sync::SyncOptions;
    use backoffice_core::{Core, Paths};
    use chrono::{TimeZone, Utc};
    use std::sync::Arc;

    let url = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let keychain =
        |desk: &str| Arc::new(Keychain { service: Some(format!("BackOffice-test-{desk}-{}", uuid::Uuid::new_v4())) });
    let (keys_a, keys_b) = (keychain("a"), keychain("b"));
    let desk = |name: &str, keys: Arc<Keychain>| {
        let paths = Paths { db: dir.path().join(name).join("unused.db"), log_dir: dir.path().join(name).join("logs") };
        let url = url.clone();
        std::thread::spawn(move || Core::open_team(paths, &url, keys).unwrap()).join().unwrap()
    };
    let (a, b) = (desk("a", keys_a.clone()), desk("b", keys_b.clone()));
    let conn = connection(&a.store, keys_a.as_ref(), "Quito");

    let on_a = a.connections().key_state(&conn).unwrap();
    assert!(on_a.here && on_a.elsewhere.is_empty(), "{on_a:?}");
    let on_b = b.connections().key_state(&conn).unwrap();
    assert!(!on_b.here, "desk B's keychain does not keep the key");
    assert_eq!(on_b.elsewhere.len(), 1, "{on_b:?}");
    assert_eq!(on_b.elsewhere[0].keychain_id, a.connections().keychain().keychain_id);
    assert_ne!(on_b.elsewhere[0].keychain_id, b.connections().keychain().keychain_id);

    // Desk B is refused the sync at once, told which desk may run it.
    let refused = b.sync_start(&conn.id, SyncOptions::default()).unwrap_err();
    let why = refused.feature::<KeyOnOtherDesks>().unwrap_or_else(|| panic!("not a key refusal: {refused}"));
    assert!(why.desks.contains(&whoami::username()), "{}", why.desks);
    assert_eq!(refused.to_api().code, "key_on_other_desks");
    assert!(b.jobs.list(&JobFilter::default()).unwrap().is_empty(), "a refused start left a job");
    // So are an Omie company's attachment copies and order closures (before any job exists).
    let omie = connection_of(&a.store, keys_a.as_ref(), "Matriz SP", ConnectionKind::Omie);
    for refused in [
        b.start_omie_attachment_scan(&omie.id, Default::default()).unwrap_err(),
        b.start_omie_po_close_scan(&omie.id, Default::default(), None).unwrap_err(),
    ] {
        assert_eq!(refused.to_api().code, "key_on_other_desks", "{refused}");
    }
    assert!(b.jobs.list(&JobFilter::default()).unwrap().is_empty(), "a refused start left a job");

    // A due schedule: desk B leaves it to desk A, which runs it.
    let t0 = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap();
    let s = scheduler::add_at(
        a.ctx(),
        &ScheduleInput {
            name: "Quito hourly".into(),
            kind: "sync_contifico".into(),
            connection_id: Some(conn.id.clone()),
            params: serde_json::json!({ "resources": ["categorias"] }),
            cron: Some("0 * * * *".into()),
            timezone: Some("UTC".into()),
            ..Default::default()
        },
        t0,
    )
    .unwrap();
    let tick = |core: &Arc<Core>, at| {
        let cx = core.ctx().clone();
        tokio::task::spawn_blocking(move || scheduler::tick(&cx, at).unwrap())
    };
    let ten = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 5).unwrap();
    assert!(tick(&b, ten).await.unwrap().is_empty(), "desk B, without the key, took the run");
    let fired = tick(&a, ten).await.unwrap();
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].outcome, RunOutcome::Started);
    let first = fired[0].job_id.clone().unwrap();
    until("desk A's run ends", || (!b.jobs.get(&first).ok()?.status.is_active()).then_some(())).await;

    // Desk B keeps the key too (as the connection's form or `connections key` saves it).
    let input = ConnectionInput {
        name: conn.name.clone(),
        kind: conn.kind,
        base_url: conn.base_url.clone(),
        timezone: conn.timezone.clone(),
        credentials: Some(Credentials { key: "made-up-key".into(), secret: "made-up-token".into() }),
    };
    b.connections().update(&conn.id, &input).unwrap();
    assert!(b.connections().key_state(&conn).unwrap().here);
    assert_eq!(a.connections().key_state(&conn).unwrap().elsewhere.len(), 1, "desk A does not see desk B keep it");

    // Desk A's run looks as a SIGKILL leaves it: still running, by a process that is gone.
    let dead = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        child.id() as i32
    };
    let host = std::thread::spawn({
        let (first, url) = (first.clone(), url.clone());
        move || {
            let mut admin = admin_on(&url);
            admin
                .execute(
                    "UPDATE backoffice.jobs SET status='running', finished_at=NULL, owner_pid=$2,
                            active_key=kind || '|' || connection_id WHERE id=$1",
                    &[&first, &(dead as i64)],
                )
                .unwrap();
            admin
                .query_one("SELECT owner_host FROM backoffice.jobs WHERE id=$1", &[&first])
                .unwrap()
                .get::<_, String>(0)
        }
    })
    .join()
    .unwrap();
    assert!(!host.is_empty());
    // Desk A is off; desk B, which keeps the key now, fires the next occurrence (not "overlap").
    drop(a);
    let eleven = Utc.with_ymd_and_hms(2026, 12, 7, 11, 0, 5).unwrap();
    let fired = tick(&b, eleven).await.unwrap();
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].outcome, RunOutcome::Started, "{:?}", fired[0].reason);
    let killed = b.jobs.get(&first).unwrap();
    assert_eq!(killed.status, JobStatus::Failed);
    assert_eq!(killed.error.map(|e| e.code).as_deref(), Some("interrupted"));
    assert_eq!(scheduler::schedule_history(b.ctx(), Some(&s.id), 10).unwrap().len(), 2);
    for k in [keys_a, keys_b] {
        let _ = k.delete(&conn.id);
    }
}
