//! Persisted, cancellable jobs with progress, counts and a log.
//!
//! Every long operation (connection test, sync, transfer) runs through [`JobManager::spawn`]: a row in
//! `jobs` is created `queued` (the database's partial unique index refuses a second active job of the
//! same kind and connection), the work runs on the tokio runtime with a [`JobCtx`] to report through,
//! and every change is written to the store and broadcast as a [`JobEvent`] to the UI and the CLI.
//!
//! Jobs work the same on a desk's SQLite file and on a team database several desks share: a
//! running job says which computer and process run it and, every couple of seconds, that it still
//! does (`heartbeat_at`), and looks whether anyone (another process, another desk) asked it to stop.
//! A job whose process is gone (same computer) or whose desk has been silent for a minute (another
//! computer) is marked failed, on start and when its slot is wanted again.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::{ApiError, CoreError, CoreResult};
use crate::model::{Connection, Job, JobDetail, JobEvent, JobFilter, JobLog, JobStatus};
use crate::store::db::{notify, this_host};
use crate::store::pg_schema::{members_of, OPERATOR_ROLE};
use crate::store::team::TeamDbError;
use crate::store::{now_utc, Db, Row, Store};
use crate::vals;

#[derive(Clone)]
pub struct JobManager {
    store: Store,
    events: broadcast::Sender<JobEvent>,
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    /// This manager's own mark on the jobs it runs (one process may hold several managers).
    run: Arc<Run>,
}

/// The managers alive in this process, by their mark.
static LIVE_RUNS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A manager's mark, known to this process while any clone of the manager (a running job holds
/// one) exists.
struct Run(String);

impl Run {
    fn new() -> Run {
        let id = uuid::Uuid::new_v4().to_string();
        LIVE_RUNS.lock().unwrap_or_else(|p| p.into_inner()).push(id.clone());
        Run(id)
    }

    fn is_live(id: &str) -> bool {
        LIVE_RUNS.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|r| r == id)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        LIVE_RUNS.lock().unwrap_or_else(|p| p.into_inner()).retain(|r| *r != self.0);
    }
}

const JOB_COLS: &str = "id, kind, connection_id, connection_name, params, status, progress, progress_label, counts, error, created_at, started_at, finished_at";

fn job_from_row(r: &Row) -> CoreResult<Job> {
    let params: String = r.get(4)?;
    let counts: String = r.get(8)?;
    let error: Option<String> = r.get(9)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        connection_id: r.get(2)?,
        connection_name: r.get(3)?,
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
        status: JobStatus::parse(&r.get::<String>(5)?),
        progress: r.get(6)?,
        progress_label: r.get(7)?,
        counts: serde_json::from_str(&counts).unwrap_or_default(),
        error: error.and_then(|e| serde_json::from_str::<ApiError>(&e).ok()),
        created_at: r.get(10)?,
        started_at: r.get(11)?,
        finished_at: r.get(12)?,
    })
}

/// The team database's channel where desks tell each other a job changed (`id`, or `id|seq` for a
/// new log line).
const JOBS_CHANNEL: &str = "backoffice_jobs";

fn load_job(db: &mut dyn Db, id: &str) -> CoreResult<Option<Job>> {
    db.query_opt(&format!("SELECT {JOB_COLS} FROM jobs WHERE id=?1"), vals![id])?.map(|r| job_from_row(&r)).transpose()
}

fn log_from_row(r: &Row) -> CoreResult<JobLog> {
    let params: Option<String> = r.get(5)?;
    Ok(JobLog {
        seq: r.get(0)?,
        at: r.get(1)?,
        level: r.get(2)?,
        message: r.get(3)?,
        key: r.get(4)?,
        params: params.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default(),
    })
}

const LOG_COLS: &str = "seq, at, level, message, key, params";

/// How often a running job says it is alive and looks whether it was asked to stop.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// A job on another computer that has not said it is alive for this long was left by a desk that
/// stopped (crashed, lost its network, was switched off).
const SILENT_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// How long a finished job waits for a team database that went away, to record how it ended.
const FINISH_WAIT_AT_MOST: Duration = Duration::from_secs(600);

/// Who runs an active job, as its row says.
struct Runner {
    id: String,
    pid: Option<u32>,
    host: Option<String>,
    run: Option<String>,
    heartbeat: Option<String>,
}

impl Runner {
    const COLS: &'static str = "id, owner_pid, owner_host, owner_run, heartbeat_at";

    fn of(r: &Row) -> CoreResult<Runner> {
        Ok(Runner { id: r.get(0)?, pid: r.get(1)?, host: r.get(2)?, run: r.get(3)?, heartbeat: r.get(4)? })
    }

    /// Whether the job is being run by a live process of this computer or by another desk that
    /// is still there. A job of this very manager counts as alive only if `ours_alive` (a manager
    /// starting up has none of its own); one of another manager of this process, while that one exists.
    fn alive(&self, me: &str, silent_since: &str, ours_alive: bool) -> bool {
        match self.host.as_deref() {
            Some(h) if h != this_host() => self.heartbeat.as_deref().is_some_and(|b| b >= silent_since),
            _ => self.pid.is_some_and(|p| {
                if p != std::process::id() {
                    process_alive(p)
                } else {
                    match self.run.as_deref() {
                        Some(r) if r == me => ours_alive,
                        Some(r) => Run::is_live(r),
                        None => false,
                    }
                }
            }),
        }
    }
}

fn silent_since() -> String {
    (chrono::Utc::now() - SILENT_FOR).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn interrupted_error() -> String {
    let err = ApiError {
        code: "interrupted".into(),
        message: "BackOffice closed before this job finished. Start it again; work already saved is kept.".into(),
        params: BTreeMap::new(),
        details: None,
    };
    serde_json::to_string(&err).unwrap_or_default()
}

/// Marks failed every job of `runners` whose process or desk is gone; returns how many.
fn fail_abandoned(db: &mut dyn Db, runners: Vec<Runner>, me: &str, ours_alive: bool) -> CoreResult<u64> {
    let (err, now, since) = (interrupted_error(), now_utc(), silent_since());
    let mut n = 0;
    for r in runners {
        if r.alive(me, &since, ours_alive) {
            continue;
        }
        n += db.execute(
            "UPDATE jobs SET status='failed', error=?1, finished_at=?2, active_key=NULL
             WHERE id=?3 AND status IN ('queued','running')",
            vals![err, now, r.id],
        )?;
    }
    Ok(n)
}

impl JobManager {
    /// Creates the manager and fails every job a previous process left active.
    pub fn new(store: Store) -> CoreResult<JobManager> {
        let (events, _) = broadcast::channel(1024);
        let jm = JobManager { store, events, running: Arc::default(), run: Arc::new(Run::new()) };
        jm.recover_interrupted()?;
        jm.watch_other_desks();
        Ok(jm)
    }

    /// On a team database, passes the changes of jobs other desks run to this desk's watchers (the
    /// window's job list and detail), as they happen: the desk that runs a job notifies with each
    /// write. Stops once every clone of this manager is gone.
    fn watch_other_desks(&self) {
        let alive = Arc::downgrade(&self.run);
        let (store, events, running) = (self.store.clone(), self.events.clone(), self.running.clone());
        self.store.listen(
            JOBS_CHANNEL,
            move || alive.strong_count() > 0,
            move |payload| {
                let (id, seq) = match payload.split_once('|') {
                    Some((id, seq)) => (id, seq.parse::<i64>().ok()),
                    None => (payload, None),
                };
                // This desk's own jobs reached its watchers already.
                if running.lock().unwrap_or_else(|p| p.into_inner()).contains_key(id) {
                    return;
                }
                let read = store.query(|db| {
                    let job = load_job(db, id)?;
                    let log = match seq {
                        Some(seq) => db
                            .query_opt(
                                &format!("SELECT {LOG_COLS} FROM job_logs WHERE job_id=?1 AND seq=?2"),
                                vals![id, seq],
                            )?
                            .map(|r| log_from_row(&r))
                            .transpose()?,
                        None => None,
                    };
                    Ok(job.map(|job| JobEvent { job, log }))
                });
                match read {
                    Ok(Some(event)) => {
                        let _ = events.send(event);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, job_id = id, "could not read a job another desk changed"),
                }
            },
        );
    }

    /// Whether job `id` is active and its process or desk still runs it. One whose runner is gone
    /// (killed, crashed, a desk silent for a minute) is marked failed here, so whoever asks (a
    /// schedule deciding whether its previous run still goes on) does not wait on it for ever.
    pub fn still_running(&self, id: &str) -> CoreResult<bool> {
        let me = self.run.0.clone();
        let ours = self.running.lock().unwrap_or_else(|p| p.into_inner()).contains_key(id);
        self.store.tx(|db| {
            let Some(runner) = db
                .query_opt(
                    &format!("SELECT {} FROM jobs WHERE id=?1 AND status IN ('queued','running')", Runner::COLS),
                    vals![id],
                )?
                .map(|r| Runner::of(&r))
                .transpose()?
            else {
                return Ok(false);
            };
            Ok(fail_abandoned(db, vec![runner], &me, ours)? == 0)
        })
    }

    fn recover_interrupted(&self) -> CoreResult<u64> {
        let n = self.store.tx(|db| {
            let active = db
                .query(&format!("SELECT {} FROM jobs WHERE status IN ('queued','running')", Runner::COLS), vals![])?
                .iter()
                .map(Runner::of)
                .collect::<CoreResult<Vec<_>>>()?;
            // A job another live process (the CLI, the app) or another live desk is running is left alone.
            fail_abandoned(db, active, &self.run.0, false)
        })?;
        if n > 0 {
            tracing::warn!(count = n, "marked jobs interrupted by a previous shutdown as failed");
        }
        Ok(n)
    }

    /// Asks every job of this process to stop at its next checkpoint and waits (up to `timeout`) for
    /// them to finish, so quitting never cuts a batch in half. Returns how many were still running.
    pub async fn shutdown(&self, timeout: Duration) -> usize {
        let tokens: Vec<CancellationToken> =
            self.running.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        for t in &tokens {
            t.cancel();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = self.running.lock().unwrap_or_else(|p| p.into_inner()).len();
            if left == 0 || Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.events.subscribe()
    }

    pub fn get(&self, id: &str) -> CoreResult<Job> {
        self.store.query(|db| load_job(db, id))?.ok_or_else(|| CoreError::NotFound { what: format!("Job {id}") })
    }

    pub fn detail(&self, id: &str) -> CoreResult<JobDetail> {
        let job = self.get(id)?;
        let logs = self.store.query(|db| {
            db.query(&format!("SELECT {LOG_COLS} FROM job_logs WHERE job_id=?1 ORDER BY seq"), vals![id])?
                .iter()
                .map(log_from_row)
                .collect::<CoreResult<Vec<_>>>()
        })?;
        Ok(JobDetail { job, logs })
    }

    /// Jobs running or queued now, and jobs that failed and succeeded since `since` (RFC 3339).
    pub fn counts_since(&self, since: &str) -> CoreResult<(u32, u32, u32)> {
        self.store.query(|db| {
            Ok((
                db.one("SELECT count(*) FROM jobs WHERE status IN ('queued','running')", vals![])?,
                db.one("SELECT count(*) FROM jobs WHERE status='failed' AND created_at >= ?1", vals![since])?,
                db.one("SELECT count(*) FROM jobs WHERE status='succeeded' AND created_at >= ?1", vals![since])?,
            ))
        })
    }

    pub fn list(&self, f: &JobFilter) -> CoreResult<Vec<Job>> {
        self.store.query(|db| {
            db.query(
                &format!(
                    "SELECT {JOB_COLS} FROM jobs
                     WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND (CAST(?2 AS TEXT) IS NULL OR status = ?2)
                       AND (CAST(?3 AS TEXT) IS NULL OR connection_id = ?3)
                     ORDER BY created_at DESC, rowid DESC LIMIT ?4"
                ),
                vals![f.kind, f.status.map(JobStatus::as_str), f.connection_id, f.limit.unwrap_or(200)],
            )?
            .iter()
            .map(job_from_row)
            .collect()
        })
    }

    /// Asks a running job to stop at its next checkpoint. A job of another process (the CLI seen from
    /// the app) or another desk gets the request through the database and stops at its next progress
    /// report or heartbeat; one whose process or desk is gone is marked cancelled at once.
    pub fn cancel(&self, id: &str) -> CoreResult<Job> {
        let token = self.running.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
        match token {
            Some(t) => t.cancel(),
            None => {
                let job = self.get(id)?;
                if job.status.is_active() {
                    let runner = self.store.query(|db| {
                        Runner::of(&db.query_one(&format!("SELECT {} FROM jobs WHERE id=?1", Runner::COLS), vals![id])?)
                    })?;
                    if runner.alive(&self.run.0, &silent_since(), false) {
                        self.store.tx(|db| {
                            db.execute("UPDATE jobs SET cancel_requested=1 WHERE id=?1", vals![id])?;
                            Ok(())
                        })?;
                    } else {
                        self.finish(id, JobStatus::Cancelled, None)?;
                    }
                }
            }
        }
        self.get(id)
    }

    /// Starts `work` as a job. Fails with [`CoreError::JobAlreadyRunning`] if one of the same kind is
    /// active for the same connection.
    pub fn spawn<F, Fut>(
        &self,
        kind: &str,
        connection: Option<&Connection>,
        params: serde_json::Value,
        work: F,
    ) -> CoreResult<(Job, tokio::task::JoinHandle<Job>)>
    where
        F: FnOnce(JobCtx) -> Fut + Send + 'static,
        Fut: Future<Output = CoreResult<()>> + Send + 'static,
    {
        let id = uuid::Uuid::new_v4().to_string();
        let active_key = format!("{kind}|{}", connection.map(|c| c.id.as_str()).unwrap_or(""));
        let now = now_utc();
        let params = params.to_string();
        let inserted = self
            .store
            .tx(|db| {
                // The slot may be held by a job whose process or desk is gone: free it first.
                let holder = db
                    .query(&format!("SELECT {} FROM jobs WHERE active_key=?1", Runner::COLS), vals![active_key])?
                    .iter()
                    .map(Runner::of)
                    .collect::<CoreResult<Vec<_>>>()?;
                fail_abandoned(db, holder, &self.run.0, true)?;
                // The partial unique index on active_key refuses a second active job of the same kind
                // and target, whichever process or desk asks (on PostgreSQL the second waits for the
                // first's transaction, then finds the slot taken).
                let n = db.execute(
                    "INSERT INTO jobs (id, kind, connection_id, connection_name, params, status, counts, created_at,
                                   active_key, owner_pid, owner_host, owner_run, heartbeat_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', '{}', ?6, ?7, ?8, ?9, ?10, ?6)
                 ON CONFLICT DO NOTHING",
                    vals![
                        id,
                        kind,
                        connection.map(|c| &c.id),
                        connection.map(|c| &c.name),
                        params,
                        now,
                        active_key,
                        std::process::id(),
                        this_host(),
                        self.run.0.as_str()
                    ],
                )?;
                if n == 1 {
                    notify(db, JOBS_CHANNEL, &id)?;
                }
                Ok(n == 1)
            })
            .map_err(|e| self.refused_by_role(e, kind))?;
        if !inserted {
            return Err(CoreError::JobAlreadyRunning {
                kind: kind.to_string(),
                target: connection.map(|c| format!("\"{}\"", c.name)).unwrap_or_else(|| "this task".into()),
            });
        }
        let token = CancellationToken::new();
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), token.clone());
        let job = self.get(&id)?;
        self.emit(&job, None);

        let ctx = JobCtx {
            inner: Arc::new(CtxInner {
                id: id.clone(),
                manager: self.clone(),
                cancel: token,
                state: Mutex::new(CtxState {
                    counts: BTreeMap::new(),
                    progress: None,
                    label: None,
                    last_flush: Instant::now() - Duration::from_secs(10),
                    seq: 0,
                }),
            }),
        };
        let manager = self.clone();
        let span = tracing::info_span!("job", job_id = %id, kind = %kind);
        let handle = tokio::spawn(
            async move {
                let _ = manager.store.tx(|db| {
                    db.execute(
                        "UPDATE jobs SET status='running', started_at=?2, heartbeat_at=?2 WHERE id=?1",
                        vals![ctx.id(), now_utc()],
                    )?;
                    notify(db, JOBS_CHANNEL, ctx.id())
                });
                ctx.flush(true);
                ctx.log_t("info", "job.started", &[], "started");
                let beat = {
                    let ctx = ctx.clone();
                    tokio::spawn(async move {
                        loop {
                            tokio::time::sleep(HEARTBEAT_EVERY).await;
                            ctx.heartbeat();
                        }
                    })
                };
                let result = work(ctx.clone()).await;
                beat.abort();
                ctx.flush(true);
                let (status, err) = match result {
                    Ok(()) if ctx.is_cancelled() => (JobStatus::Cancelled, None),
                    Ok(()) => (JobStatus::Succeeded, None),
                    Err(CoreError::Cancelled) => (JobStatus::Cancelled, None),
                    Err(e) => {
                        let code = e.code().to_string();
                        ctx.log_t(
                            "error",
                            "job.failed",
                            &[("error", e.to_string()), ("error_json", e.to_api().to_stored()), ("code", code)],
                            &e.to_string(),
                        );
                        (JobStatus::Failed, Some(e.to_api()))
                    }
                };
                if status == JobStatus::Cancelled {
                    ctx.log_t("warn", "job.cancelled", &[], "cancelled by the user; work saved so far is kept");
                } else if status == JobStatus::Succeeded {
                    ctx.log_t("info", "job.finished", &[], "finished");
                }
                let id = ctx.id().to_string();
                // A team database that went away (the job likely failed for it) is waited for, so
                // the job ends recorded as it ended, its slot freed for the run that resumes it.
                let mut wait = Duration::from_millis(500);
                let waiting_since = Instant::now();
                while let Err(e) = manager.finish(&id, status, err.clone()) {
                    let gone = matches!(e.feature::<TeamDbError>(), Some(TeamDbError::Unreachable { .. }));
                    if !gone || waiting_since.elapsed() > FINISH_WAIT_AT_MOST {
                        tracing::warn!(job_id = %id, error = %e, "could not record how the job ended");
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(15));
                }
                manager.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                manager.get(&id).unwrap_or_else(|_| job_placeholder(&id))
            }
            .instrument(span),
        );
        Ok((job, handle))
    }

    /// A job the team database refused to this desk's user (its role may not start that kind) as
    /// the user's refusal, naming who may; any other error as it was.
    fn refused_by_role(&self, e: CoreError, kind: &str) -> CoreError {
        let refused = matches!(e.feature::<TeamDbError>(), Some(TeamDbError::NotAllowed { .. }));
        if !refused {
            return e;
        }
        let who = self.store.query(|db| members_of(db, OPERATOR_ROLE)).unwrap_or_default();
        CoreError::Feature(Box::new(RoleRefused { kind: kind.to_string(), who: who.join(", ") }))
    }

    fn finish(&self, id: &str, status: JobStatus, err: Option<ApiError>) -> CoreResult<()> {
        let err = err.map(|e| serde_json::to_string(&e).unwrap_or_default());
        self.store.tx(|db| {
            db.execute(
                "UPDATE jobs SET status=?2, error=?3, finished_at=?4, active_key=NULL,
                        progress = CASE WHEN ?2='succeeded' THEN 1.0 ELSE progress END
                 WHERE id=?1",
                vals![id, status.as_str(), err, now_utc()],
            )?;
            notify(db, JOBS_CHANNEL, id)
        })?;
        let job = self.get(id)?;
        tracing::info!(job_id = %id, status = status.as_str(), "job finished");
        self.emit(&job, None);
        Ok(())
    }

    fn emit(&self, job: &Job, log: Option<JobLog>) {
        let _ = self.events.send(JobEvent { job: job.clone(), log });
    }
}

/// The team database refused to start a job: this desk's user has the reviewer role.
#[derive(Debug, thiserror::Error)]
#[error(
    "Your role in the team database lets you browse and review, not start \"{kind}\" (it syncs or writes to an \
     ERP). Ask a teammate with the operator role to run it{}, or ask whoever runs the team database for that role.",
    if who.is_empty() { String::new() } else { format!(" ({who})") }
)]
pub struct RoleRefused {
    pub kind: String,
    /// The login users with the operator role, comma-separated (empty when none is known).
    pub who: String,
}

impl crate::error::FeatureError for RoleRefused {
    fn code(&self) -> &'static str {
        "team_role_refused"
    }
    fn params(&self) -> Vec<(String, String)> {
        vec![("kind".into(), self.kind.clone()), ("who".into(), self.who.clone())]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Whether a process with this id is running (Linux: /proc; elsewhere we cannot tell cheaply, so a
/// job of another process is treated as gone, which marks it failed on start as before).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        false
    }
}

fn job_placeholder(id: &str) -> Job {
    Job {
        id: id.into(),
        kind: String::new(),
        connection_id: None,
        connection_name: None,
        params: serde_json::Value::Null,
        status: JobStatus::Failed,
        progress: None,
        progress_label: None,
        counts: BTreeMap::new(),
        error: None,
        created_at: String::new(),
        started_at: None,
        finished_at: None,
    }
}

/// What a running job reports through. Cheap to clone.
#[derive(Clone)]
pub struct JobCtx {
    inner: Arc<CtxInner>,
}

struct CtxInner {
    id: String,
    manager: JobManager,
    cancel: CancellationToken,
    state: Mutex<CtxState>,
}

struct CtxState {
    counts: BTreeMap<String, i64>,
    progress: Option<f64>,
    label: Option<String>,
    last_flush: Instant,
    seq: i64,
}

/// Progress is written and broadcast at most this often (logs and the end always flush).
const FLUSH_EVERY: Duration = Duration::from_millis(200);

impl JobCtx {
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// Returns `Err(Cancelled)` if the user asked to stop: call it at safe points.
    pub fn checkpoint(&self) -> CoreResult<()> {
        if self.is_cancelled() {
            Err(CoreError::Cancelled)
        } else {
            Ok(())
        }
    }

    pub fn progress(&self, fraction: Option<f64>, label: impl Into<String>) {
        {
            let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            s.progress = fraction.map(|f| f.clamp(0.0, 1.0));
            s.label = Some(label.into());
        }
        self.flush(false);
    }

    pub fn add_count(&self, name: &str, n: i64) {
        {
            let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            *s.counts.entry(name.to_string()).or_insert(0) += n;
        }
        self.flush(false);
    }

    pub fn counts(&self) -> BTreeMap<String, i64> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner()).counts.clone()
    }

    /// Appends a line to the job's log (stored, broadcast and sent to tracing) that the UI shows
    /// as it is. Lines a user reads should use [`JobCtx::log_t`].
    pub fn log(&self, level: &str, message: &str) {
        self.append_log(level, None, BTreeMap::new(), message);
    }

    /// Appends a translatable line: `key` names its text in `ui/src/locales/*/jobLog.json`, `params`
    /// fill the text's `{{placeholders}}`, and `english` is what logs, the CLI and a UI without
    /// that key show. Keep `key` a string literal and `params` an inline array: a test reads the
    /// call sites to check that every language has the key with exactly these placeholders.
    pub fn log_t(&self, level: &str, key: &str, params: &[(&str, String)], english: &str) {
        let params = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        self.append_log(level, Some(key), params, english);
    }

    fn append_log(&self, level: &str, key: Option<&str>, params: BTreeMap<String, String>, message: &str) {
        match level {
            "error" => tracing::error!(job_id = %self.id(), "{message}"),
            "warn" => tracing::warn!(job_id = %self.id(), "{message}"),
            "debug" => tracing::debug!(job_id = %self.id(), "{message}"),
            _ => tracing::info!(job_id = %self.id(), "{message}"),
        }
        let seq = {
            let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            s.seq += 1;
            s.seq
        };
        let line = JobLog {
            seq,
            at: now_utc(),
            level: level.to_string(),
            message: message.to_string(),
            key: key.map(str::to_string),
            params,
        };
        let params_json = line.key.as_ref().map(|_| serde_json::to_string(&line.params).unwrap_or_default());
        let m = &self.inner.manager;
        let _ = m.store.tx(|db| {
            db.execute(
                "INSERT INTO job_logs (job_id, seq, at, level, message, key, params) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vals![self.id(), line.seq, line.at, line.level, line.message, line.key, params_json],
            )?;
            notify(db, JOBS_CHANNEL, &format!("{}|{}", self.id(), line.seq))
        });
        if let Ok(job) = m.get(self.id()) {
            m.emit(&job, Some(line));
        }
    }

    fn flush(&self, force: bool) {
        let (counts, progress, label) = {
            let mut s = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            if !force && s.last_flush.elapsed() < FLUSH_EVERY {
                return;
            }
            s.last_flush = Instant::now();
            (serde_json::to_string(&s.counts).unwrap_or_default(), s.progress, s.label.clone())
        };
        let m = &self.inner.manager;
        let cancel_requested = m.store.tx(|db| {
            let asked = db.one::<bool>(
                "UPDATE jobs SET counts=?2, progress=?3, progress_label=?4, heartbeat_at=?5 WHERE id=?1
                 RETURNING cancel_requested",
                vals![self.id(), counts, progress, label, now_utc()],
            )?;
            notify(db, JOBS_CHANNEL, self.id())?;
            Ok(asked)
        });
        if matches!(cancel_requested, Ok(true)) {
            self.inner.cancel.cancel();
        }
        if let Ok(job) = m.get(self.id()) {
            m.emit(&job, None);
        }
    }

    /// Says the job is still running (for desks that look at it from elsewhere), writes progress
    /// reported since the last write (a report within [`FLUSH_EVERY`] of the one before waits for
    /// this), and takes a stop request made from another process or desk.
    fn heartbeat(&self) {
        self.flush(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager() -> (tempfile::TempDir, JobManager) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bo.db")).unwrap();
        (dir, JobManager::new(store).unwrap())
    }

    #[tokio::test]
    async fn translatable_log_lines_keep_key_params_and_english() {
        let (_d, jm) = manager();
        let (job, h) = jm
            .spawn("demo", None, serde_json::json!({}), |ctx| async move {
                ctx.log_t(
                    "info",
                    "sync.resuming",
                    &[("resource", "clientes".into()), ("page", "3".into())],
                    "clientes: resuming the interrupted sync at page 3",
                );
                ctx.log("info", "plain line");
                Ok(())
            })
            .unwrap();
        h.await.unwrap();
        let logs = jm.detail(&job.id).unwrap().logs;
        let line = logs.iter().find(|l| l.key.as_deref() == Some("sync.resuming")).expect("the keyed line");
        assert_eq!(line.message, "clientes: resuming the interrupted sync at page 3");
        assert_eq!(line.params.get("resource").map(String::as_str), Some("clientes"));
        assert_eq!(line.params.get("page").map(String::as_str), Some("3"));
        assert_eq!(line.params.len(), 2);
        let plain = logs.iter().find(|l| l.message == "plain line").expect("the plain line");
        assert_eq!(plain.key, None);
        assert!(plain.params.is_empty());
        // The job's own start and end lines are translatable too.
        assert_eq!(logs.first().and_then(|l| l.key.as_deref()), Some("job.started"));
        assert_eq!(logs.last().and_then(|l| l.key.as_deref()), Some("job.finished"));
    }

    #[tokio::test]
    async fn job_runs_to_success_with_counts_and_logs() {
        let (_d, jm) = manager();
        let mut rx = jm.subscribe();
        let (job, h) = jm
            .spawn("demo", None, serde_json::json!({"x": 1}), |ctx| async move {
                ctx.add_count("records", 3);
                ctx.log("info", "did three");
                Ok(())
            })
            .unwrap();
        assert_eq!(job.status, JobStatus::Queued);
        let done = h.await.unwrap();
        assert_eq!(done.status, JobStatus::Succeeded);
        assert_eq!(done.counts.get("records"), Some(&3));
        assert!(done.finished_at.is_some());
        let detail = jm.detail(&job.id).unwrap();
        assert!(detail.logs.iter().any(|l| l.message == "did three"));
        // Events reached a watcher, ending with the final state.
        let mut last = None;
        while let Ok(ev) = rx.try_recv() {
            last = Some(ev.job.status);
        }
        assert_eq!(last, Some(JobStatus::Succeeded));
    }

    #[tokio::test]
    async fn second_job_of_same_kind_is_refused_until_first_ends() {
        let (_d, jm) = manager();
        let (gate_tx, gate_rx) = tokio::sync::oneshot::channel::<()>();
        let (_j, h) = jm
            .spawn("sync", None, serde_json::json!({}), |_ctx| async move {
                let _ = gate_rx.await;
                Ok(())
            })
            .unwrap();
        let second = jm.spawn("sync", None, serde_json::json!({}), |_ctx| async { Ok(()) });
        assert!(matches!(second, Err(CoreError::JobAlreadyRunning { .. })));
        // A different kind is fine.
        let (_o, oh) = jm.spawn("other", None, serde_json::json!({}), |_ctx| async { Ok(()) }).unwrap();
        oh.await.unwrap();
        gate_tx.send(()).unwrap();
        h.await.unwrap();
        let (_k, kh) = jm.spawn("sync", None, serde_json::json!({}), |_ctx| async { Ok(()) }).unwrap();
        assert_eq!(kh.await.unwrap().status, JobStatus::Succeeded);
    }

    #[tokio::test]
    async fn cancel_stops_at_checkpoint() {
        let (_d, jm) = manager();
        let (job, h) = jm
            .spawn("long", None, serde_json::json!({}), |ctx| async move {
                for i in 0..1000 {
                    ctx.checkpoint()?;
                    ctx.add_count("steps", 1);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    if i == 999 {
                        return Err(CoreError::Internal("never cancelled".into()));
                    }
                }
                Ok(())
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        jm.cancel(&job.id).unwrap();
        let done = h.await.unwrap();
        assert_eq!(done.status, JobStatus::Cancelled);
        assert!(done.counts["steps"] < 1000);
    }

    #[tokio::test]
    async fn failure_keeps_plain_error() {
        let (_d, jm) = manager();
        let (_job, h) = jm
            .spawn("t", None, serde_json::json!({}), |_ctx| async move {
                Err(CoreError::Unauthorized { connection: "Loja".into(), detail: String::new() })
            })
            .unwrap();
        let done = h.await.unwrap();
        assert_eq!(done.status, JobStatus::Failed);
        let e = done.error.unwrap();
        assert_eq!(e.code, "unauthorized");
        assert!(e.message.contains("Loja"));
    }

    #[tokio::test]
    async fn interrupted_jobs_are_failed_on_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bo.db");
        // The first "run" of BackOffice has a runtime of its own, dropped with the job still
        // running: the job's task and every clone of its manager go with it, as in a crash.
        let id = {
            let path = path.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
                let id = rt.block_on(async {
                    let jm = JobManager::new(Store::open(&path).unwrap()).unwrap();
                    let (job, _h) = jm
                        .spawn("stuck", None, serde_json::json!({}), |_ctx| async move {
                            futures_pending().await;
                            Ok(())
                        })
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    assert_eq!(jm.get(&job.id).unwrap().status, JobStatus::Running);
                    job.id
                });
                drop(rt);
                id
            })
            .join()
            .unwrap()
        };
        // "Restart": a new manager over the same file.
        let jm = JobManager::new(Store::open(&path).unwrap()).unwrap();
        let j = jm.get(&id).unwrap();
        assert_eq!(j.status, JobStatus::Failed);
        assert_eq!(j.error.unwrap().code, "interrupted");
        // And the slot is free again.
        let (_j, h) = jm.spawn("stuck", None, serde_json::json!({}), |_ctx| async { Ok(()) }).unwrap();
        assert_eq!(h.await.unwrap().status, JobStatus::Succeeded);
    }

    async fn futures_pending() {
        std::future::pending::<()>().await
    }
}
