//! Benchmarks against the simulators (`cargo xtask bench NAME`). Each prints its figures next to a
//! baseline measured in the same run. They never assert times: they report them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use backoffice_core::erp::contifico::resources as csync;
use backoffice_core::model::{ConnectionKind, Credentials, JobStatus};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::store::Store;
use backoffice_core::sync::{self, SyncOptions};
use backoffice_core::{Core, Paths};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Omie's limits on simulated time: the rate-safe client's requests per minute against the
    /// documented limits (240 per key + method, 960 per IP) and the simulator's rate faults, next to a
    /// naive client measured in the same run. Exit code 1 if below 95% of the limit or any rate fault.
    OmieRate {
        /// Simulated minutes per scenario
        #[arg(long, default_value_t = 5)]
        minutes: u64,
        /// Simulated time a request takes
        #[arg(long, default_value_t = 250)]
        latency_ms: u64,
        /// Concurrent workers per method
        #[arg(long, default_value_t = 4)]
        workers: usize,
    },
    /// Omie's budget shared by processes, on real time: several BackOffice processes on one key
    /// against the simulator in its own process; their steady requests per minute against Omie's
    /// limit and the simulator's rate faults, next to the same processes each with a budget of its own.
    /// Exit code 1 if the shared budget is below 95% of the limit or meets any rate fault.
    OmieShared {
        /// Real seconds per variant (the first minute is the burst; the steady state follows)
        #[arg(long, default_value_t = 180)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        processes: usize,
        /// Concurrent calls per process
        #[arg(long, default_value_t = 4)]
        workers: usize,
    },
    /// One process of `omie-shared` (started by it)
    #[command(hide = true)]
    OmieSharedWorker {
        #[arg(long)]
        omie: String,
        #[arg(long)]
        db: std::path::PathBuf,
        #[arg(long)]
        seconds: u64,
        #[arg(long)]
        workers: usize,
        #[arg(long)]
        offset: u64,
        #[arg(long)]
        start_ms: i64,
        #[arg(long)]
        own_budget: bool,
    },
    /// Contífico's whole sync next to the raw SQLite upsert limit and the seed's plain sequential
    /// script, measured in the same run, at each total record count; plus peak RSS and a re-sync
    /// with nothing changed.
    Sync {
        /// Total records (spread over the resources)
        #[arg(long, num_args = 1.., default_values_t = [100_000u64, 1_000_000u64])]
        records: Vec<u64>,
        /// Simulated latency per request
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// `postgres`: also the same sync into a team database, next to binary COPY of the same rows
        #[arg(long, default_value = "sqlite")]
        backend: String,
        /// postgres://user:password@host/postgres of a user that may create databases (`cargo xtask
        /// bench sync --backend postgres` gives its throwaway cluster's)
        #[arg(long)]
        url: Option<String>,
    },
    /// A desk's synced records copied into PostgreSQL (`store copy`), next to one raw binary COPY of the
    /// same rows and a row-at-a-time INSERT script, in the same run; plus peak RSS.
    StoreCopy {
        #[arg(long, num_args = 1.., default_values_t = [100_000u64, 1_000_000u64])]
        records: Vec<u64>,
        /// postgres://user:password@host/postgres of a user that may create databases (`cargo xtask
        /// bench store-copy` passes its throwaway cluster's)
        #[arg(long)]
        url: String,
    },
    /// Every shipped divergence rule over N synced Omie payables, next to the same rules as one plain
    /// SQL query each, in the same run; peak RSS; a re-run with nothing changed (writes and time).
    Divergences {
        #[arg(long, num_args = 1.., default_values_t = [100_000u64, 1_000_000u64])]
        records: Vec<u64>,
    },
    /// The billing reconciliation of 24 months for N contracts over M receivables, next to the same
    /// computation as one plain SQL query, in the same run; peak RSS.
    Reconcile {
        #[arg(long, default_value_t = 10_000)]
        contracts: u64,
        #[arg(long, num_args = 1.., default_values_t = [1_000_000u64])]
        receivables: Vec<u64>,
    },
    /// Sync N records of one resource from the loopback simulator into a fresh DB; compare with a
    /// plain rusqlite insert of the same rows; measure an incremental re-sync with nothing changed.
    ContificoSync {
        /// Record counts to measure (peak RSS should stay flat as they grow)
        #[arg(long, num_args = 1.., default_values_t = [100_000u64, 1_000_000u64])]
        records: Vec<u64>,
        #[arg(long, default_value = "personas")]
        resource: String,
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
        #[arg(long, default_value_t = 5000)]
        batch_size: u32,
    },
}

pub async fn run(cmd: BenchCmd) -> Result<i32> {
    match cmd {
        BenchCmd::OmieRate { minutes, latency_ms, workers } => {
            crate::omie::bench_rate(minutes, latency_ms, workers).await
        }
        BenchCmd::OmieShared { seconds, processes, workers } => {
            crate::bench_omie_shared::run(seconds, processes, workers).await
        }
        BenchCmd::OmieSharedWorker { omie, db, seconds, workers, offset, start_ms, own_budget } => {
            crate::bench_omie_shared::worker(&omie, &db, seconds, workers, offset, start_ms, own_budget).await
        }
        BenchCmd::Sync { records, latency_ms, backend, url } => {
            let team = match backend.as_str() {
                "sqlite" => None,
                "postgres" => Some(url.context("--backend postgres needs --url (cargo xtask bench gives one)")?),
                other => bail!("--backend {other}: choose sqlite or postgres"),
            };
            crate::bench_sync::run(&records, latency_ms, team).await
        }
        BenchCmd::Divergences { records } => crate::bench_divergences::run(&records).await,
        BenchCmd::StoreCopy { records, url } => {
            // The PostgreSQL client blocks: it runs on a thread of its own.
            tokio::task::spawn_blocking(move || crate::bench_store_copy::run(&records, &url)).await?
        }
        BenchCmd::Reconcile { contracts, receivables } => crate::bench_reconcile::run(contracts, &receivables).await,
        BenchCmd::ContificoSync { records, resource, page_size, batch_size } => {
            contifico_sync(&records, &resource, page_size, batch_size).await
        }
    }
}

/// The simulator in its own process, so its memory is not counted as ours.
pub(crate) struct SimProcess {
    child: Child,
    pub(crate) urls: serde_json::Value,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim_binary() -> Result<PathBuf> {
    let me = std::env::current_exe()?;
    let p = me.with_file_name(format!("backoffice-sim{}", std::env::consts::EXE_SUFFIX));
    if !p.exists() {
        bail!("{} not found: build it first (cargo build --release -p backoffice-sim)", p.display());
    }
    Ok(p)
}

fn start_sim(scale: u64) -> Result<SimProcess> {
    start_sim_with(scale, 0)
}

pub(crate) fn start_sim_with(scale: u64, latency_ms: u64) -> Result<SimProcess> {
    use std::io::BufRead;
    let mut child = Command::new(sim_binary()?)
        .args(["--scale", &scale.to_string(), "--seed", "7", "--latency-ms", &latency_ms.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start backoffice-sim")?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().context("sim stdout")?).read_line(&mut line)?;
    let urls: serde_json::Value = serde_json::from_str(line.trim()).context("sim did not print its URLs")?;
    Ok(SimProcess { child, urls })
}

pub(crate) fn proc_status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub(crate) async fn open_core(dir: &Path, base_url: &str) -> Result<(Arc<Core>, String)> {
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let paths = Paths { db: dir.join("bench.db"), log_dir: dir.join("logs") };
    let core = Core::open(paths, secrets.clone())?;
    let conn = core.connections().ensure_headless("Bench Contífico", ConnectionKind::Contifico, base_url)?;
    let c = backoffice_sim::SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    Ok((core, conn.id))
}

/// [`open_core`] on a team database at `url` (a new, empty one).
pub(crate) async fn open_team_core(dir: &Path, base_url: &str, url: &str) -> Result<(Arc<Core>, String)> {
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let paths = Paths { db: dir.join("unused.db"), log_dir: dir.join("logs") };
    let team = backoffice_core::store::team::TeamUrl::parse(url)?;
    let s = secrets.clone();
    let core = tokio::task::spawn_blocking(move || Core::open_team(paths, &team, s)).await??;
    let conn = core.connections().ensure_headless("Bench Contífico", ConnectionKind::Contifico, base_url)?;
    let c = backoffice_sim::SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    Ok((core, conn.id))
}

pub(crate) async fn wait_job(core: &Arc<Core>, id: &str) -> Result<backoffice_core::model::Job> {
    loop {
        let j = core.jobs.get(id)?;
        if !j.status.is_active() {
            return Ok(j);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn contifico_sync(sizes: &[u64], resource: &str, page_size: u32, batch_size: u32) -> Result<i32> {
    let spec = csync::resource(resource)?;
    println!("bench contifico-sync: resource={resource} page_size={page_size} batch_size={batch_size}");
    println!(
        "{:>10} {:>12} {:>10} {:>14} {:>14} {:>8} {:>12} {:>14}",
        "records", "sync rec/s", "wall s", "baseline rec/s", "sync/baseline", "RSS MB", "incr. s", "incr. all s"
    );
    for &n in sizes {
        let sim = start_sim(n)?;
        let dir = tempfile::tempdir()?;
        let base = sim.urls["contifico"].as_str().context("contifico url")?.to_string();
        let (core, conn_id) = open_core(dir.path(), &base).await?;
        reset_peak_rss();
        let rss_before = proc_status_kb("VmRSS:").unwrap_or(0);
        let opts = SyncOptions {
            resources: vec![resource.to_string()],
            page_size: Some(page_size),
            batch_size: Some(batch_size),
            ..Default::default()
        };
        let t = Instant::now();
        let job = core.sync_start(&conn_id, opts.clone())?;
        let done = wait_job(&core, &job.id).await?;
        let wall = t.elapsed().as_secs_f64();
        if done.status != JobStatus::Succeeded {
            bail!("sync failed: {:?}", done.error);
        }
        let peak_kb = proc_status_kb("VmHWM:").unwrap_or(0);
        let got = done.counts.get("records").copied().unwrap_or(0);
        // Incremental re-sync of the same resource, nothing changed.
        let t = Instant::now();
        let job = core.sync_start(&conn_id, opts)?;
        let inc = wait_job(&core, &job.id).await?;
        let incr = t.elapsed().as_secs_f64();
        if inc.status != JobStatus::Succeeded {
            bail!("incremental sync failed: {:?}", inc.error);
        }
        // Baseline: the same rows, inserted by a plain rusqlite loop in one transaction into a fresh DB.
        let rows = load_rows(&core.store, spec, &conn_id)?;
        let baseline = baseline_insert(dir.path(), spec, &rows)?;
        drop(rows);
        let incr_all = incremental_all().await?;
        let rate = got as f64 / wall;
        println!(
            "{:>10} {:>12.0} {:>10.2} {:>14.0} {:>13.0}% {:>8.1} {:>12.2} {:>14.2}",
            got,
            rate,
            wall,
            baseline,
            100.0 * rate / baseline,
            (peak_kb.saturating_sub(0)) as f64 / 1024.0,
            incr,
            incr_all
        );
        let _ = rss_before;
    }
    println!("RSS MB is this process's peak resident memory during the sync (the simulator runs in its own process).");
    println!("incr. s: re-sync of the same resource with nothing changed; incr. all s: every resource, after a full sync at scale 2000.");
    Ok(0)
}

type StoredRow = (String, String, Vec<Option<String>>, String, Option<String>);

fn load_rows(store: &Store, spec: &sync::ResourceSpec, conn_id: &str) -> Result<Vec<StoredRow>> {
    let cols: String = spec.columns.iter().map(|c| format!(", \"{}\"", c.name)).collect();
    let n = spec.columns.len();
    Ok(store.read(|c| {
        let mut st = c.prepare(&format!(
            "SELECT connection_id, id, raw, search_text, source_modified{cols} FROM \"{}\" WHERE connection_id=?1",
            spec.table
        ))?;
        let rows = st.query_map([conn_id], |r| {
            let mut v = Vec::with_capacity(n);
            for i in 0..n {
                v.push(r.get(5 + i)?);
            }
            Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?, v, r.get::<_, String>(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })?)
}

fn baseline_insert(dir: &Path, spec: &sync::ResourceSpec, rows: &[StoredRow]) -> Result<f64> {
    let store = Store::open(&dir.join("baseline.db"))?;
    sync::ensure_tables(&store, std::slice::from_ref(spec))?;
    let t = Instant::now();
    store.write(|tx| {
        tx.execute(
            "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at) VALUES ('b','b','contifico','http://x/','UTC','','')",
            [],
        )?;
        let names: String = spec.columns.iter().map(|c| format!(", \"{}\"", c.name)).collect();
        let ph: String = (0..spec.columns.len()).map(|i| format!(", ?{}", i + 6)).collect();
        let mut st = tx.prepare(&format!(
            "INSERT INTO \"{}\" (connection_id, id, raw, search_text, source_modified, fetched_at, sync_run_id, seen_run{names})
             VALUES ('b', ?1, ?2, ?3, ?4, ?5, 'r', 'r'{ph})",
            spec.table
        ))?;
        let now = backoffice_core::store::now_utc();
        for (id, raw, cols, search, modified) in rows {
            let mut vals: Vec<&dyn rusqlite_types::ToSql> = vec![id, raw, search, modified, &now];
            for c in cols {
                vals.push(c);
            }
            st.execute(vals.as_slice())?;
        }
        Ok(())
    })?;
    Ok(rows.len() as f64 / t.elapsed().as_secs_f64())
}

/// Every resource synced in full at a small scale, then re-synced with nothing changed: the time of
/// the second run.
async fn incremental_all() -> Result<f64> {
    let sim = start_sim(2000)?;
    let dir = tempfile::tempdir()?;
    let base = sim.urls["contifico"].as_str().context("contifico url")?.to_string();
    let (core, conn_id) = open_core(dir.path(), &base).await?;
    let opts = SyncOptions { page_size: Some(1000), ..Default::default() };
    let j = core.sync_start(&conn_id, opts.clone())?;
    let first = wait_job(&core, &j.id).await?;
    if first.status != JobStatus::Succeeded {
        bail!("full sync of all resources failed: {:?}", first.error);
    }
    let t = Instant::now();
    let j = core.sync_start(&conn_id, opts)?;
    let second = wait_job(&core, &j.id).await?;
    if second.status != JobStatus::Succeeded {
        bail!("incremental sync of all resources failed: {:?}", second.error);
    }
    Ok(t.elapsed().as_secs_f64())
}

mod rusqlite_types {
    pub use backoffice_core::store::ToSql;
}
