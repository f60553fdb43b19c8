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
    // 3: scheduled jobs (scheduler.rs): schedules, their run history, and which defaults were offered.
    r#"
    CREATE TABLE schedules (
        id               TEXT PRIMARY KEY,
        name             TEXT NOT NULL,
        kind             TEXT NOT NULL,
        connection_id    TEXT REFERENCES connections(id) ON DELETE CASCADE,
        params           TEXT NOT NULL DEFAULT 'null',
        cron             TEXT,
        timezone         TEXT,
        every_minutes    INTEGER,
        enabled          INTEGER NOT NULL DEFAULT 1,
        catch_up_minutes INTEGER NOT NULL DEFAULT 720,
        -- Start of the interval grid (creation or last change of timing).
        anchor_at        TEXT NOT NULL,
        -- Every occurrence at or before this instant was run, skipped or waived (compare-and-set claim).
        handled_until    TEXT NOT NULL,
        last_run_at      TEXT,
        last_job_id      TEXT,
        next_due_at      TEXT,
        default_key      TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        CHECK ((cron IS NOT NULL AND timezone IS NOT NULL AND every_minutes IS NULL)
            OR (cron IS NULL AND every_minutes IS NOT NULL AND every_minutes > 0))
    );
    CREATE INDEX schedules_connection ON schedules(connection_id);
    CREATE TABLE schedule_runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
        trigger     TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual')),
        due_at      TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('started', 'skipped_overlap', 'skipped_missed', 'failed_to_start')),
        -- The job started; its status, counts and log stay in jobs / job_logs.
        job_id      TEXT,
        reason      TEXT
    );
    CREATE INDEX schedule_runs_schedule ON schedule_runs(schedule_id, id DESC);
    -- Defaults offered once per scope (a connection id, or '' for those not tied to a connection), so a
    -- default the user removed is not created again.
    CREATE TABLE schedule_defaults (
        scope       TEXT NOT NULL,
        default_key TEXT NOT NULL,
        offered_at  TEXT NOT NULL,
        PRIMARY KEY (scope, default_key)
    );
    "#,
    // 4: Omie (omie/mod.rs): key blocks, scan state, previews, local clients, attachment transfer log
    // and map (RF-001), purchase-order closure log (RF-002).
    crate::omie::MIGRATION,
    // 5: ERPNext inter-company transfers (erpnext/runs.rs): runs with their validated input and
    // queue state, a row per step (idempotency key, document, attempts), every call made, and the
    // operator's actions with their reasons.
    r#"
    CREATE TABLE erpnext_runs (
        id               TEXT PRIMARY KEY,
        site_a_id        TEXT REFERENCES connections(id) ON DELETE SET NULL,
        site_b_id        TEXT REFERENCES connections(id) ON DELETE SET NULL,
        site_a_name      TEXT NOT NULL,
        site_b_name      TEXT NOT NULL,
        -- The validated form (JSON), exactly as the run sends it.
        input            TEXT NOT NULL,
        summary          TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('pending','running','failed','succeeded','cancelled',
                                                         'compensating','compensated','compensation_failed')),
        current_step     INTEGER,
        last_error       TEXT,
        job_id           TEXT,
        -- What a job should do with it next ('run' or 'compensate'); NULL when nothing is queued.
        next_action      TEXT CHECK (next_action IN ('run','compensate')),
        -- Set by the operator (from any process); the job stops at its next checkpoint.
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        finished_at      TEXT
    );
    CREATE INDEX erpnext_runs_created ON erpnext_runs(created_at DESC);
    CREATE INDEX erpnext_runs_queue ON erpnext_runs(site_a_id, next_action);
    CREATE TABLE erpnext_run_steps (
        run_id           TEXT NOT NULL REFERENCES erpnext_runs(id) ON DELETE CASCADE,
        step             INTEGER NOT NULL CHECK (step BETWEEN 1 AND 4),
        site             TEXT NOT NULL CHECK (site IN ('A','B')),
        doctype          TEXT NOT NULL,
        -- Sent in custom_ext_ref; unique, so two runs can never share one.
        idempotency_key  TEXT NOT NULL UNIQUE,
        status           TEXT NOT NULL CHECK (status IN ('pending','running','done','failed','compensated')),
        doc_name         TEXT,
        doc_docstatus    INTEGER,
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        started_at       TEXT,
        finished_at      TEXT,
        compensated_at   TEXT,
        PRIMARY KEY (run_id, step)
    );
    CREATE TABLE erpnext_run_attempts (
        run_id      TEXT NOT NULL REFERENCES erpnext_runs(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        step        INTEGER,
        at          TEXT NOT NULL,
        action      TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        http_status INTEGER,
        message     TEXT NOT NULL,
        duration_ms INTEGER,
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE erpnext_run_actions (
        run_id TEXT NOT NULL REFERENCES erpnext_runs(id) ON DELETE CASCADE,
        seq    INTEGER NOT NULL,
        at     TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
"#,
    // 6: job log lines the UI can translate: a dictionary key (ui/src/locales/jobLog/) and its
    // parameters as a JSON object of strings. Lines without a key show their English message.
    r#"
    ALTER TABLE job_logs ADD COLUMN key TEXT;
    ALTER TABLE job_logs ADD COLUMN params TEXT;
"#,
    // 7: where a connection's time zone came from: 'site' (the ERP said it), 'user', 'computer'
    // (this desktop's zone, assumed until an ERPNext site says its own) or 'default' (the ERP's
    // documented zone). ERPNext rows made before this knew no better than UTC: they are marked
    // 'computer' so the next test or transfer asks the site.
    r#"
    ALTER TABLE connections ADD COLUMN timezone_source TEXT NOT NULL DEFAULT 'user';
    UPDATE connections SET timezone_source = 'computer' WHERE kind = 'erpnext';
    UPDATE connections SET timezone_source = 'default'
     WHERE (kind = 'omie' AND timezone = 'America/Sao_Paulo') OR (kind = 'contifico' AND timezone = 'America/Guayaquil');
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
