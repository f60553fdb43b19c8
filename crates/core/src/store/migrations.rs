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
    // 4: Omie (erp/omie/): key blocks, scan state, previews, local clients, attachment transfer log
    // and map (RF-001), purchase-order closure log (RF-002).
    r#"
    CREATE TABLE omie_key_blocks (
        key_id        TEXT PRIMARY KEY,
        connection_id TEXT REFERENCES connections(id) ON DELETE CASCADE,
        blocked_until TEXT NOT NULL,
        reason        TEXT NOT NULL,
        recorded_at   TEXT NOT NULL
    );
    CREATE TABLE omie_scan_state (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        scan          TEXT NOT NULL,
        last_run_at   TEXT,
        PRIMARY KEY (connection_id, scan)
    );
    CREATE TABLE omie_previews (
        job_id  TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (job_id, seq)
    );
    CREATE TABLE omie_local_clients (
        id            TEXT PRIMARY KEY,
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        document      TEXT,
        document_kind TEXT,
        omie_codigo   TEXT,
        email         TEXT,
        matched_by    TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE UNIQUE INDEX omie_local_clients_codigo ON omie_local_clients(connection_id, omie_codigo)
        WHERE omie_codigo IS NOT NULL;
    CREATE INDEX omie_local_clients_document ON omie_local_clients(connection_id, document);
    CREATE TABLE omie_attachment_transfers (
        id              TEXT PRIMARY KEY,
        connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        origin_table    TEXT NOT NULL,
        origin_id       TEXT NOT NULL,
        dest_table      TEXT NOT NULL,
        dest_id         TEXT NOT NULL,
        nf_number       TEXT,
        local_path      TEXT,
        status          TEXT NOT NULL CHECK (status IN ('pending','processing','succeeded','failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        max_attempts    INTEGER NOT NULL DEFAULT 3,
        transferred     INTEGER NOT NULL DEFAULT 0,
        duplicates      INTEGER NOT NULL DEFAULT 0,
        failed          INTEGER NOT NULL DEFAULT 0,
        duration_ms     INTEGER,
        last_error      TEXT,
        last_error_code TEXT,
        job_id          TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        UNIQUE (connection_id, origin_table, origin_id, dest_table, dest_id)
    );
    CREATE INDEX omie_attachment_transfers_status ON omie_attachment_transfers(connection_id, status);
    CREATE TABLE omie_attachment_files (
        transfer_id          TEXT NOT NULL REFERENCES omie_attachment_transfers(id) ON DELETE CASCADE,
        origin_attachment_id TEXT NOT NULL,
        file_name            TEXT NOT NULL,
        dest_name            TEXT,
        size_bytes           INTEGER,
        sha256               TEXT,
        cod_int_anexo        TEXT,
        dest_attachment_id   TEXT,
        status               TEXT NOT NULL,
        attempts             INTEGER NOT NULL DEFAULT 0,
        error                TEXT,
        updated_at           TEXT NOT NULL,
        PRIMARY KEY (transfer_id, origin_attachment_id)
    );
    CREATE TABLE omie_attachment_map (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        origin_table  TEXT NOT NULL,
        origin_id     TEXT NOT NULL,
        dest_table    TEXT NOT NULL,
        dest_id       TEXT NOT NULL,
        nf_number     TEXT,
        files         INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (connection_id, origin_table, origin_id, dest_table, dest_id)
    );
    CREATE TABLE omie_dest_fingerprints (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        table_name    TEXT NOT NULL,
        record_id     TEXT NOT NULL,
        attachment_id TEXT NOT NULL,
        name          TEXT NOT NULL,
        size_bytes    INTEGER NOT NULL,
        sha256        TEXT NOT NULL,
        PRIMARY KEY (connection_id, table_name, record_id, attachment_id)
    );
    CREATE TABLE omie_po_closures (
        id                     TEXT PRIMARY KEY,
        connection_id          TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        order_number           TEXT NOT NULL,
        item                   TEXT NOT NULL DEFAULT '',
        order_id               TEXT,
        service_invoice_number TEXT,
        service_invoice_id     TEXT,
        payable_id             TEXT,
        source                 TEXT NOT NULL,
        status                 TEXT NOT NULL CHECK (status IN ('pending','succeeded','failed')),
        outcome                TEXT,
        attempts               INTEGER NOT NULL DEFAULT 0,
        max_attempts           INTEGER NOT NULL DEFAULT 3,
        previous_stage         TEXT,
        previous_status        TEXT,
        new_stage              TEXT,
        new_status             TEXT,
        call_used              TEXT,
        error                  TEXT,
        error_code             TEXT,
        job_id                 TEXT,
        created_at             TEXT NOT NULL,
        updated_at             TEXT NOT NULL,
        UNIQUE (connection_id, order_number, item)
    );
"#,
    // 5: ERPNext inter-company transfers (erp/erpnext/runs.rs): runs with their validated input and
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
    // 6: job log lines the UI can translate: a dictionary key (ui/src/locales/*/jobLog.json) and its
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
    // 8: the paused "divergences" schedule offered by earlier versions pointed at a job that did not
    // exist yet; it goes (its run records with it). The divergence processor offers its own.
    r#"
    DELETE FROM schedule_runs WHERE schedule_id IN (SELECT id FROM schedules WHERE kind = 'divergences');
    DELETE FROM schedules WHERE kind = 'divergences';
"#,
    // 9: `connections.kind` loses its CHECK, so a new ERP is a new value, not a table rebuild. This is
    // that one rebuild (SQLite's documented way: new table, copy, drop, rename, with foreign keys off
    // for the migration and checked after it; see `migrate`).
    r#"
    CREATE TABLE connections_new (
        id                TEXT PRIMARY KEY,
        name              TEXT NOT NULL,
        kind              TEXT NOT NULL,
        base_url          TEXT NOT NULL,
        timezone          TEXT NOT NULL,
        is_demo           INTEGER NOT NULL DEFAULT 0,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        last_test_at      TEXT,
        last_test_ok      INTEGER,
        last_test_message TEXT,
        timezone_source   TEXT NOT NULL DEFAULT 'user'
    );
    INSERT INTO connections_new (id, name, kind, base_url, timezone, is_demo, created_at, updated_at,
                                 last_test_at, last_test_ok, last_test_message, timezone_source)
         SELECT id, name, kind, base_url, timezone, is_demo, created_at, updated_at,
                last_test_at, last_test_ok, last_test_message, timezone_source FROM connections;
    DROP TABLE connections;
    ALTER TABLE connections_new RENAME TO connections;
    CREATE UNIQUE INDEX connections_name ON connections(name COLLATE NOCASE);
"#,
    // 10: the ids of unchanged records a full read saw, per resource table and read, so they are not
    // rewritten just to mark them seen (new and changed rows carry the read's tag themselves);
    // cleared when the read completes, kept across a crash so a resumed read still knows them.
    r#"
    CREATE TABLE sync_seen (
        connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        resource_table TEXT NOT NULL,
        run_tag        TEXT NOT NULL,
        id             TEXT NOT NULL,
        PRIMARY KEY (connection_id, resource_table, run_tag, id)
    ) WITHOUT ROWID;
"#,
    // 11: the shape each resource table was last brought to (`sync/schema.rs`): a column added to,
    // removed from or retyped in a resource's spec reaches an existing database as a new version.
    r#"
    CREATE TABLE resource_tables (
        table_name TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        columns    TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
"#,
    // 12: Omie's consumption budget, shared by every process on this database (the app, the CLI,
    // the schedules daemon): sends per key + method and per host in the last minute, calls in
    // flight, identical-call answers kept for the redundancy window, and "not before" marks Omie
    // asked for. Keys are stored as a hash of host and key, never the key itself. Times are
    // wall-clock milliseconds.
    r#"
    CREATE TABLE omie_budget_sends (
        host    TEXT NOT NULL,
        key_id  TEXT NOT NULL,
        method  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    CREATE INDEX omie_budget_sends_host ON omie_budget_sends(host, at_ms);
    CREATE INDEX omie_budget_sends_at ON omie_budget_sends(at_ms);
    CREATE TABLE omie_budget_in_flight (
        token    TEXT PRIMARY KEY,
        key_id   TEXT NOT NULL,
        method   TEXT NOT NULL,
        since_ms INTEGER NOT NULL,
        pid      INTEGER NOT NULL
    );
    CREATE TABLE omie_budget_answers (
        key_id      TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        service     TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        value       TEXT,
        PRIMARY KEY (key_id, fingerprint)
    );
    CREATE TABLE omie_budget_waits (
        key_id   TEXT NOT NULL,
        scope    TEXT NOT NULL,
        until_ms INTEGER NOT NULL,
        PRIMARY KEY (key_id, scope)
    );
"#,
    // 13: "not before" marks a site asked for (`Retry-After`), per host, honoured by every task
    // and process on this database (`store/waits.rs`).
    r#"
    CREATE TABLE host_waits (
        host     TEXT PRIMARY KEY,
        until_ms INTEGER NOT NULL,
        reason   TEXT NOT NULL DEFAULT ''
    );
"#,
    // 14: divergences (ops/divergences/): rules as data with their history, processing sessions,
    // the divergences with a stable fingerprint, their events, and the ERP operations (apply,
    // rollback) with before/after, who and where. Nothing is deleted: statuses move forward. The two
    // views are the seed's (open divergences, operations summary), for screens and BI tools.
    r#"
    CREATE TABLE divergence_rules (
        id                   TEXT PRIMARY KEY,
        kind                 TEXT NOT NULL,
        name                 TEXT NOT NULL,
        params               TEXT NOT NULL DEFAULT '{}',
        confidence           INTEGER NOT NULL,
        show_threshold       INTEGER NOT NULL DEFAULT 0,
        auto_apply_threshold INTEGER,
        enabled              INTEGER NOT NULL DEFAULT 1,
        version              INTEGER NOT NULL DEFAULT 1,
        updated_at           TEXT NOT NULL,
        updated_by           TEXT NOT NULL
    );
    CREATE TABLE divergence_rule_history (
        rule_id    TEXT NOT NULL,
        version    INTEGER NOT NULL,
        definition TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        reason     TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (rule_id, version)
    );
    CREATE TABLE divergence_sessions (
        id          TEXT PRIMARY KEY,
        job_id      TEXT,
        mode        TEXT NOT NULL,
        status      TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        counts      TEXT NOT NULL DEFAULT '{}',
        who         TEXT NOT NULL,
        machine     TEXT NOT NULL
    );
    CREATE TABLE divergences (
        id              TEXT PRIMARY KEY,
        fingerprint     TEXT NOT NULL UNIQUE,
        rule_id         TEXT NOT NULL,
        rule_version    INTEGER NOT NULL,
        kind            TEXT NOT NULL,
        connection_id   TEXT REFERENCES connections(id) ON DELETE SET NULL,
        erp             TEXT NOT NULL,
        resource        TEXT NOT NULL,
        record_id       TEXT NOT NULL,
        record_label    TEXT NOT NULL DEFAULT '',
        confidence      INTEGER NOT NULL,
        basis           TEXT NOT NULL,
        amount          TEXT,
        currency        TEXT,
        evidence        TEXT NOT NULL DEFAULT '[]',
        evidence_hash   TEXT NOT NULL,
        facts           TEXT NOT NULL DEFAULT '{}',
        correction      TEXT,
        status          TEXT NOT NULL CHECK (status IN ('open','approved','rejected','applied','failed','rolled_back','resolved')),
        assignee        TEXT,
        first_seen_at   TEXT NOT NULL,
        last_seen_at    TEXT NOT NULL,
        last_session_id TEXT,
        resolved_at     TEXT,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX divergences_status ON divergences(status, rule_id);
    CREATE INDEX divergences_record ON divergences(connection_id, resource, record_id);
    CREATE TABLE divergence_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        divergence_id TEXT NOT NULL REFERENCES divergences(id),
        at            TEXT NOT NULL,
        action        TEXT NOT NULL,
        who           TEXT NOT NULL,
        machine       TEXT NOT NULL,
        note          TEXT NOT NULL DEFAULT '',
        session_id    TEXT,
        job_id        TEXT,
        operation_id  TEXT
    );
    CREATE INDEX divergence_events_div ON divergence_events(divergence_id, id);
    CREATE TABLE divergence_operations (
        id            TEXT PRIMARY KEY,
        divergence_id TEXT NOT NULL REFERENCES divergences(id),
        kind          TEXT NOT NULL CHECK (kind IN ('apply','rollback')),
        connection_id TEXT,
        erp           TEXT NOT NULL,
        resource      TEXT NOT NULL,
        record_id     TEXT NOT NULL,
        field         TEXT NOT NULL,
        before_value  TEXT,
        after_value   TEXT,
        status        TEXT NOT NULL CHECK (status IN ('pending','sent','committed','failed','refused')),
        error         TEXT,
        who           TEXT NOT NULL,
        machine       TEXT NOT NULL,
        job_id        TEXT,
        created_at    TEXT NOT NULL,
        finished_at   TEXT
    );
    CREATE INDEX divergence_operations_div ON divergence_operations(divergence_id, created_at);
    CREATE VIEW v_open_divergences AS
        SELECT d.id, d.rule_id, r.name AS rule_name, d.kind, d.erp, d.connection_id, d.resource, d.record_id,
               d.record_label, d.confidence, d.amount, d.currency, d.status, d.assignee, d.first_seen_at, d.last_seen_at
          FROM divergences d LEFT JOIN divergence_rules r ON r.id = d.rule_id
         WHERE d.status IN ('open', 'approved', 'failed');
    CREATE VIEW v_operations_summary AS
        SELECT substr(created_at, 1, 10) AS day, kind, erp, status, count(*) AS operations
          FROM divergence_operations GROUP BY 1, 2, 3, 4;
"#,
    // 15: contracts, and every change to one (who, when, why).
    r#"
    CREATE TABLE contracts (
        id                TEXT PRIMARY KEY,
        connection_id     TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        client_document   TEXT NOT NULL DEFAULT '',
        client_code       TEXT NOT NULL,
        client_name       TEXT NOT NULL DEFAULT '',
        description       TEXT NOT NULL,
        mrr               TEXT NOT NULL,
        currency          TEXT NOT NULL,
        start_date        TEXT NOT NULL,
        end_date          TEXT,
        billing_day       INTEGER,
        status            TEXT NOT NULL CHECK (status IN ('active','suspended','ended')),
        readjust_index    TEXT,
        readjust_month    INTEGER,
        readjust_percent  TEXT,
        tolerance_amount  TEXT,
        tolerance_percent TEXT,
        notes             TEXT NOT NULL DEFAULT '',
        version           INTEGER NOT NULL,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        updated_by        TEXT NOT NULL,
        UNIQUE (connection_id, client_code, description, start_date)
    );
    CREATE INDEX contracts_client ON contracts(connection_id, client_code);
    CREATE TABLE contract_history (
        contract_id TEXT NOT NULL,
        version     INTEGER NOT NULL,
        definition  TEXT NOT NULL,
        changed_at  TEXT NOT NULL,
        changed_by  TEXT NOT NULL,
        machine     TEXT NOT NULL,
        reason      TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (contract_id, version)
    );
"#,
    // 16: corrections kept by BackOffice for ERPs it does not write to (a local category of a
    // Contífico document): one value per record and field, who set it and on which machine.
    r#"
    CREATE TABLE local_reclassifications (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        resource      TEXT NOT NULL,
        record_id     TEXT NOT NULL,
        field         TEXT NOT NULL,
        value         TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        updated_by    TEXT NOT NULL,
        machine       TEXT NOT NULL,
        PRIMARY KEY (connection_id, resource, record_id, field)
    );
"#,
    // 17: jobs say which computer runs them and when it last said it still does, so desks sharing a
    // team database tell a job another desk is running from one a crashed desk left behind.
    r#"
    ALTER TABLE jobs ADD COLUMN owner_host TEXT;
    ALTER TABLE jobs ADD COLUMN owner_run TEXT;
    ALTER TABLE jobs ADD COLUMN heartbeat_at TEXT;
    -- The computer of the process holding an Omie call in flight: on a team database only a
    -- process of this computer can be looked up; another desk's calls expire by age.
    ALTER TABLE omie_budget_in_flight ADD COLUMN host TEXT;
"#,
    // 18: which keychains keep a connection's key (the key itself never leaves them), so desks
    // sharing a team database can say who may run that connection's jobs. A keychain is known by
    // the id BackOffice keeps in it (`keychain_id`), shown as its user on its computer.
    r#"
    CREATE TABLE connection_keys (
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        keychain_id   TEXT NOT NULL,
        who           TEXT NOT NULL,
        machine       TEXT NOT NULL,
        saved_at      TEXT NOT NULL,
        PRIMARY KEY (connection_id, keychain_id)
    );
"#,
    // 19: what the last billing reconciliation found for each client and month (within tolerance
    // or not), kept by the divergence check so a BI tool can read billing against contracts
    // without recomputing it (`bi_billing_vs_contracts`). Money as text, like everywhere else.
    r#"
    CREATE TABLE billing_months (
        connection_id   TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        month           TEXT NOT NULL,
        client          TEXT NOT NULL,
        client_name     TEXT NOT NULL,
        client_document TEXT NOT NULL,
        contracted      TEXT NOT NULL,
        billed          TEXT NOT NULL,
        difference      TEXT NOT NULL,
        tolerance       TEXT NOT NULL,
        verdict         TEXT NOT NULL,
        currency        TEXT NOT NULL,
        reconciled_at   TEXT NOT NULL,
        PRIMARY KEY (connection_id, month, client)
    );
"#,
    // 20: the ids of unchanged records a full read saw, a written batch's in one row (a JSON
    // array), instead of a row per id in `sync_seen` (which keeps the ids of unparsable records,
    // noted one by one, and any a read begun by an older version noted). Cleared like it.
    r#"
    CREATE TABLE sync_seen_batches (
        connection_id  TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        resource_table TEXT NOT NULL,
        run_tag        TEXT NOT NULL,
        ids            TEXT NOT NULL
    );
    CREATE INDEX sync_seen_batches_read ON sync_seen_batches(connection_id, resource_table, run_tag);
"#,
];

/// Refuses a database a newer BackOffice wrote (its schema is past the last migration this version
/// knows), before anything touches the file: an older app must not damage it.
pub fn refuse_newer(conn: &Connection) -> CoreResult<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = MIGRATIONS.len() as i64;
    if current > target {
        return Err(CoreError::Feature(Box::new(NewerDatabase { found: current, known: target })));
    }
    Ok(())
}

/// A database whose schema is past what this version knows: a newer BackOffice wrote it.
#[derive(Debug, thiserror::Error)]
#[error(
    "This database was written by a newer BackOffice (schema {found}; this version knows up to {known}). \
     Install the newer version of BackOffice, or open another database. The file was not changed."
)]
pub struct NewerDatabase {
    pub found: i64,
    pub known: i64,
}

impl crate::error::FeatureError for NewerDatabase {
    fn code(&self) -> &'static str {
        "newer_database"
    }
    fn params(&self) -> Vec<(String, String)> {
        vec![("found".into(), self.found.to_string()), ("known".into(), self.known.to_string())]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub fn migrate(conn: &mut Connection) -> CoreResult<()> {
    refuse_newer(conn)?;
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = MIGRATIONS.len() as i64;
    if current == target {
        return Ok(());
    }
    // A migration may rebuild a table others refer to: foreign keys are off while migrating (the
    // pragma is ignored inside a transaction, hence here) and every reference is checked before
    // each migration commits.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let result = (|| -> CoreResult<()> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            // Another process opening the same new file may be migrating it at the same moment: take
            // the write lock first, then look again at how far the file already is.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
            if broken > 0 {
                return Err(CoreError::Db(format!(
                    "migration {} would leave {broken} rows pointing at nothing; nothing was changed",
                    i + 1
                )));
            }
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "applied database migration");
        }
        Ok(())
    })();
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made by the first released schema, with a connection and rows that refer to it,
    /// comes through every migration with its rows and references intact.
    #[test]
    fn an_old_database_keeps_its_rows_through_every_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let mut c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for (i, sql) in MIGRATIONS.iter().enumerate().take(6) {
            c.execute_batch(sql).unwrap();
            c.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
        }
        c.execute_batch(
            "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at)
                 VALUES ('c1', 'Site A', 'erpnext', 'http://a/', 'UTC', 't', 't');
             INSERT INTO jobs (id, kind, connection_id, connection_name, status, created_at)
                 VALUES ('j1', 'sync_erpnext', 'c1', 'Site A', 'succeeded', 't');
             INSERT INTO schedules (id, name, kind, connection_id, every_minutes, enabled, anchor_at, handled_until, created_at, updated_at)
                 VALUES ('s1', 'Divergences', 'divergences', NULL, 60, 0, 't', 't', 't', 't');",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let (kind, source): (String, String) = c
            .query_row("SELECT kind, timezone_source FROM connections WHERE id='c1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((kind.as_str(), source.as_str()), ("erpnext", "computer"));
        // The job still points at its connection, and deleting the connection still nulls it.
        let conn_of_job: Option<String> =
            c.query_row("SELECT connection_id FROM jobs WHERE id='j1'", [], |r| r.get(0)).unwrap();
        assert_eq!(conn_of_job.as_deref(), Some("c1"));
        let fk: i64 = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1, "foreign keys are back on");
        // A fourth ERP is just a value now.
        c.execute(
            "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at) VALUES ('c2', 'X', 'odoo', 'http://x/', 'UTC', 't', 't')",
            [],
        )
        .unwrap();
        c.execute("DELETE FROM connections WHERE id='c1'", []).unwrap();
        let conn_of_job: Option<String> =
            c.query_row("SELECT connection_id FROM jobs WHERE id='j1'", [], |r| r.get(0)).unwrap();
        assert_eq!(conn_of_job, None, "ON DELETE SET NULL still acts on the rebuilt table");
        // The phantom divergences schedule is gone.
        let n: i64 = c.query_row("SELECT count(*) FROM schedules", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
