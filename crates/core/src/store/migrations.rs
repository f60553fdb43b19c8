//! Forward-only schema migrations, tracked by `PRAGMA user_version`.
//! Never edit a released migration: append a new one.

use rusqlite::Connection;

use crate::error::{CoreError, CoreResult};

pub const MIGRATIONS: &[&str] = &[
    // 1: settings, connections, jobs and their logs.
    r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE connections (
        id                TEXT PRIMARY KEY,
        name              TEXT NOT NULL,
        kind              TEXT NOT NULL CHECK (kind IN ('omie', 'contifico', 'erpnext')),
        base_url          TEXT NOT NULL,
        timezone          TEXT NOT NULL,
        is_demo           INTEGER NOT NULL DEFAULT 0,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        last_test_at      TEXT,
        last_test_ok      INTEGER,
        last_test_message TEXT
    );
    CREATE UNIQUE INDEX connections_name ON connections(name COLLATE NOCASE);
    CREATE TABLE jobs (
        id              TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        connection_id   TEXT REFERENCES connections(id) ON DELETE SET NULL,
        connection_name TEXT,
        params          TEXT NOT NULL DEFAULT '{}',
        status          TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
        progress        REAL,
        progress_label  TEXT,
        counts          TEXT NOT NULL DEFAULT '{}',
        error           TEXT,
        created_at      TEXT NOT NULL,
        started_at      TEXT,
        finished_at     TEXT,
        -- Which (kind, target) this job holds while active; NULL once finished.
        active_key      TEXT,
        -- The process running it (to tell a crashed job from one another process is running).
        owner_pid       INTEGER,
        -- Set by another process (e.g. the app cancelling a CLI job); the owner polls it.
        cancel_requested INTEGER NOT NULL DEFAULT 0
    );
    -- At most one active job per kind and connection, enforced by the database itself.
    CREATE UNIQUE INDEX jobs_one_active ON jobs(active_key) WHERE active_key IS NOT NULL;
    CREATE INDEX jobs_created ON jobs(created_at DESC);
    CREATE TABLE job_logs (
        job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        at      TEXT NOT NULL,
        level   TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
    );
    "#,
    // 2: the sync engine's runs, per-resource state and quarantine. Resource tables themselves are
    // declared by their ResourceSpec and created idempotently (CREATE ... IF NOT EXISTS).
    r#"
    CREATE TABLE sync_runs (
        id            TEXT PRIMARY KEY,
        job_id        TEXT,
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        erp           TEXT NOT NULL,
        mode          TEXT NOT NULL,
        status        TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        counts        TEXT NOT NULL DEFAULT '{}',
        errors        TEXT NOT NULL DEFAULT '{}',
        options       TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX sync_runs_conn ON sync_runs(connection_id, started_at DESC);
    CREATE TABLE sync_state (
        connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        erp             TEXT NOT NULL,
        resource        TEXT NOT NULL,
        -- High-water mark for "modified since" (UTC RFC 3339).
        cursor          TEXT,
        last_success_at TEXT,
        last_run_id     TEXT,
        last_error      TEXT,
        last_error_at   TEXT,
        -- Checkpoint of an unfinished read: last committed page and the parameters to resume with.
        resume_page     INTEGER,
        resume_run      TEXT,
        resume_mode     TEXT,
        resume_since    TEXT,
        PRIMARY KEY (connection_id, erp, resource)
    );
    CREATE TABLE sync_quarantine (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        erp           TEXT NOT NULL,
        resource      TEXT NOT NULL,
        record_id     TEXT NOT NULL,
        reason        TEXT NOT NULL,
        raw           TEXT NOT NULL,
        run_id        TEXT,
        at            TEXT NOT NULL,
        PRIMARY KEY (connection_id, erp, resource, record_id)
    );
    "#,
];

pub fn migrate(conn: &mut Connection) -> CoreResult<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = MIGRATIONS.len() as i64;
    if current > target {
        return Err(CoreError::Db(format!(
            "this database was written by a newer BackOffice (schema {current}, this version knows {target}); \
             update BackOffice or open another database"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied database migration");
    }
    Ok(())
}
