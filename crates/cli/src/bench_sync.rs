//! `cargo xtask bench sync`: BackOffice's Contífico sync next to what a user would otherwise run
//! and next to the physical limit, all measured in the same run against the same records served by
//! the simulator in its own process:
//! - **raw upsert**: the same rows (id + raw JSON) upserted into SQLite by one prepared statement in
//!   one transaction, WAL, no other index: what the disk and SQLite can do at best;
//! - **plain script**: what the user's seed 003 describes, written here in Rust: each resource read
//!   page after page (200 a page), `INSERT OR REPLACE` of the raw JSON into one table per resource,
//!   a commit every 500 records;
//! - **fetch**: every page fetched and parsed, eight at a time, nothing stored: what any client of
//!   this simulator pays on this machine before it stores anything;
//! - **BackOffice**: `sync_start` with default settings (typed columns, full-text index, quarantine,
//!   checkpoints, tombstones), then the same sync again with nothing changed.
//!
//! Per-warehouse stock (one request per product) is left out of the first three: the plain script
//! has no such resource; it is measured on its own afterwards.
//!
//! With `--backend postgres` (and `--url` of a user that may create databases) each size also runs
//! on a team database:
//! - **COPY**: the same rows (resource, id, raw JSON) by one binary `COPY` into a table with its
//!   primary key, in one transaction: PostgreSQL's own fast path, the physical limit there;
//! - **BackOffice on PostgreSQL**: the same `sync_start` into a new team database, then again with
//!   nothing changed.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use backoffice_core::erp::contifico::resources::{RESOURCES, STOCK};
use backoffice_core::model::JobStatus;
use backoffice_core::sync::{ListShape, SyncOptions};
use serde_json::Value;

use crate::bench::{open_core, proc_status_kb, reset_peak_rss, start_sim_with, wait_job};

/// Runs the comparison at each total record count.
pub async fn run(records: &[u64], latency_ms: u64, team: Option<String>) -> Result<i32> {
    let resources: Vec<&'static backoffice_core::sync::ResourceSpec> =
        RESOURCES.iter().filter(|r| r.name != STOCK).collect();
    println!(
        "bench sync: Contífico, {} resources (per-warehouse stock apart), simulator latency {latency_ms} ms per request",
        resources.len()
    );
    println!(
        "{:>10} | {:>12} {:>9} | {:>9} | {:>12} {:>9} | {:>12} {:>9} {:>7} {:>7} | {:>8} | {:>9} {:>7}",
        "records",
        "raw rec/s",
        "raw s",
        "fetch s",
        "plain rec/s",
        "plain s",
        "BO rec/s",
        "BO s",
        "BO/raw",
        "BO/pl.",
        "peak MB",
        "resync s",
        "/full"
    );
    for &total in records {
        let scale = (total / resources.len() as u64).max(1);
        let sim = start_sim_with(scale, latency_ms)?;
        let base = sim.urls["contifico"].as_str().context("contifico url")?.to_string();
        let dir = tempfile::tempdir()?;

        // The plain script first (its memory is freed before BackOffice's peak is measured).
        let plain_db = dir.path().join("plain.db");
        let t = Instant::now();
        let plain_n = plain_script(&base, &resources, &plain_db).await?;
        let plain_s = t.elapsed().as_secs_f64();

        // Fetch and parse only, 8 pages at a time (BackOffice's default concurrency): the floor.
        let t = Instant::now();
        let fetch_n = fetch_only(&base, &resources, 8).await?;
        let fetch_s = t.elapsed().as_secs_f64();
        // What a re-sync with nothing changed must fetch again whatever it does: the resources the
        // API offers no "modified since" filter for, read whole (the re-sync's floor).
        let whole: Vec<_> = resources.iter().copied().filter(|r| r.modified.is_none()).collect();
        let t = Instant::now();
        fetch_only(&base, &whole, 8).await?;
        let reread_s = t.elapsed().as_secs_f64();

        // BackOffice, default settings.
        let (core, conn_id) = open_core(dir.path(), &base).await?;
        let opts =
            SyncOptions { resources: resources.iter().map(|r| r.name.to_string()).collect(), ..Default::default() };
        reset_peak_rss();
        let t = Instant::now();
        let job = core.sync_start(&conn_id, opts.clone())?;
        let done = wait_job(&core, &job.id).await?;
        let bo_s = t.elapsed().as_secs_f64();
        if done.status != JobStatus::Succeeded {
            bail!("BackOffice's sync failed: {:?}", done.error);
        }
        let peak_mb = proc_status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0;
        let bo_n = done.counts.get("records").copied().unwrap_or(0) as u64;
        // The same sync again, nothing changed.
        let t = Instant::now();
        let job = core.sync_start(&conn_id, opts)?;
        let again = wait_job(&core, &job.id).await?;
        let resync_s = t.elapsed().as_secs_f64();
        if again.status != JobStatus::Succeeded {
            bail!("BackOffice's re-sync failed: {:?}", again.error);
        }

        // The physical limit: the same rows upserted raw.
        let rows = stored_rows(&plain_db)?;
        let t = Instant::now();
        raw_upsert(&dir.path().join("raw.db"), &rows)?;
        let raw_s = t.elapsed().as_secs_f64();
        let raw_n = rows.iter().map(|(_, r)| r.len() as u64).sum::<u64>();
        let pg = match &team {
            Some(admin) => Some(on_postgres(admin, &base, dir.path(), &rows, &resources).await?),
            None => None,
        };
        drop(rows);
        if plain_n != bo_n || raw_n != bo_n || fetch_n != bo_n {
            println!("note: record counts differ: plain {plain_n}, BackOffice {bo_n}, raw {raw_n}, fetch {fetch_n}");
        }
        let rate = |n: u64, s: f64| n as f64 / s.max(1e-9);
        println!(
            "{:>10} | {:>12.0} {:>9.2} | {:>9.2} | {:>12.0} {:>9.2} | {:>12.0} {:>9.2} {:>6.0}% {:>6.2}x | {:>8.1} | {:>9.2} {:>6.0}%",
            bo_n,
            rate(raw_n, raw_s),
            raw_s,
            fetch_s,
            rate(plain_n, plain_s),
            plain_s,
            rate(bo_n, bo_s),
            bo_s,
            100.0 * rate(bo_n, bo_s) / rate(raw_n, raw_s),
            plain_s / bo_s,
            peak_mb,
            resync_s,
            100.0 * resync_s / bo_s
        );
        println!(
            "{:>10} | re-sync floor: the {} resources without a \"modified since\" filter fetched whole {:>6.2} s = {:>3.0}% of BackOffice's full sync",
            "",
            whole.len(),
            reread_s,
            100.0 * reread_s / bo_s
        );
        if let Some(p) = pg {
            println!(
                "{:>10} | PostgreSQL: COPY {:>10.0} rec/s {:>7.2} s | BackOffice {:>10.0} rec/s {:>7.2} s = {:>4.0}% of COPY | resync {:>6.2} s ({:>3.0}%)",
                p.records,
                rate(p.records, p.copy_s),
                p.copy_s,
                rate(p.records, p.bo_s),
                p.bo_s,
                100.0 * p.copy_s / p.bo_s,
                p.resync_s,
                100.0 * p.resync_s / p.bo_s
            );
        }
        drop(core);
    }
    if team.is_some() {
        println!(
            "PostgreSQL: COPY = the same rows (resource, id, raw) by one binary COPY into a table with its key, one"
        );
        println!(
            "transaction; BackOffice = the same sync into a new team database (typed columns, tsvector search, ...)."
        );
    }
    println!("raw: one prepared upsert in one transaction (WAL, no other index) of the same rows; plain: the seed's");
    println!(
        "sequential script (pages of 200, INSERT OR REPLACE raw JSON, commit every 500); BO: BackOffice defaults."
    );
    println!("fetch: every page fetched and parsed, 8 at a time, nothing stored: the simulator and HTTP's floor.");
    println!("peak MB: this process's peak resident memory during BackOffice's sync (the simulator runs apart).");
    println!("resync: BackOffice again with nothing changed, and its share of the full sync's time.");
    println!("re-sync floor: the part of fetch a re-sync cannot skip (no API filter), nothing stored.");
    Ok(0)
}

/// Seed 003's approach: one resource after another, page after page, raw JSON stored as it came.
async fn plain_script(base: &str, resources: &[&backoffice_core::sync::ResourceSpec], db: &Path) -> Result<u64> {
    let key = backoffice_sim::SimCredentials::default().contifico_api_key;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let mut conn = rusqlite_plain::open(db)?;
    let mut total = 0u64;
    for r in resources {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS \"{}\" (id TEXT PRIMARY KEY, raw TEXT NOT NULL)",
            r.name
        ))?;
        let mut pending: Vec<(String, String)> = Vec::new();
        let mut page = 1u32;
        loop {
            let Some((items, more)) = fetch_page(&http, base, &key, r, page).await? else {
                break; // past the last page
            };
            for it in &items {
                let id = match it.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => continue,
                };
                pending.push((id, it.to_string()));
                if pending.len() >= 500 {
                    total += rusqlite_plain::insert(&mut conn, r.name, &mut pending)?;
                }
            }
            if !more || items.is_empty() {
                break;
            }
            page += 1;
        }
        total += rusqlite_plain::insert(&mut conn, r.name, &mut pending)?;
    }
    Ok(total)
}

/// One page of a resource as the plain script asks for it: its records and whether more follow;
/// None past the last page.
async fn fetch_page(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    r: &backoffice_core::sync::ResourceSpec,
    page: u32,
) -> Result<Option<(Vec<Value>, bool)>> {
    let mut q: Vec<(String, String)> = r.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    match r.shape {
        ListShape::Array => {
            q.push(("result_size".into(), "200".into()));
            q.push(("result_page".into(), page.to_string()));
        }
        ListShape::Paged => {
            q.push(("page".into(), page.to_string()));
            q.push(("page_size".into(), "100".into()));
        }
    }
    // Contífico's journal entries live under the v2 API (`.../api/v2/contabilidad/asiento/`).
    let url = match r.path.strip_prefix("v2:") {
        Some(p) => format!("{}{p}", base.replacen("/api/v1/", "/api/v2/", 1)),
        None => format!("{}{}", base, r.path),
    };
    let resp = http.get(&url).header("Authorization", key).query(&q).send().await?;
    if resp.status().as_u16() == 404 {
        return Ok(None);
    }
    let body: Value = resp.json().await?;
    Ok(Some(match body {
        Value::Array(a) => {
            let more = a.len() == 200;
            (a, more)
        }
        Value::Object(mut o) => {
            let more = o.get("next").is_some_and(|n| !n.is_null());
            let items = match o.remove("results") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            (items, more)
        }
        _ => bail!("{url}: not a list"),
    }))
}

/// The floor of any client of this simulator on this machine: every page of every resource fetched
/// and parsed, `window` pages at a time, and nothing stored.
async fn fetch_only(
    base: &str,
    resources: &[&'static backoffice_core::sync::ResourceSpec],
    window: u32,
) -> Result<u64> {
    let key = backoffice_sim::SimCredentials::default().contifico_api_key;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let mut total = 0u64;
    for &r in resources {
        let mut first = 1u32;
        loop {
            let mut batch = tokio::task::JoinSet::new();
            for page in first..first + window {
                let (http, base, key) = (http.clone(), base.to_string(), key.clone());
                batch.spawn(async move { fetch_page(&http, &base, &key, r, page).await });
            }
            let mut ended = false;
            while let Some(got) = batch.join_next().await {
                match got?? {
                    Some((items, more)) => {
                        total += items.len() as u64;
                        ended |= !more || items.is_empty();
                    }
                    None => ended = true,
                }
            }
            if ended {
                break;
            }
            first += window;
        }
    }
    Ok(total)
}

/// A table's name and its (id, raw JSON) rows.
type TableRows = (String, Vec<(String, String)>);

/// What one size measured on PostgreSQL.
struct OnPostgres {
    records: u64,
    copy_s: f64,
    bo_s: f64,
    resync_s: f64,
}

/// COPY of the rows into a new database, then BackOffice's sync into another, and its re-sync.
async fn on_postgres(
    admin: &str,
    base: &str,
    dir: &Path,
    rows: &[TableRows],
    resources: &[&backoffice_core::sync::ResourceSpec],
) -> Result<OnPostgres> {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::{ToSql, Type};
    // The synchronous client runs off the async runtime.
    let (copy_url, team_url) = std::thread::scope(|s| {
        s.spawn(|| -> Result<(String, String)> {
            use crate::bench_store_copy::fresh_database;
            Ok((fresh_database(admin, "sync_copy")?, fresh_database(admin, "sync_team")?))
        })
        .join()
        .map_err(|_| anyhow::anyhow!("creating the databases stopped"))?
    })?;
    // The limit: one binary COPY of every row, in one transaction, into a keyed table.
    let copy_s = std::thread::scope(|s| {
        s.spawn(|| -> Result<f64> {
            let mut c = postgres::Client::connect(&copy_url, postgres::NoTls)?;
            c.batch_execute(
                "CREATE TABLE raw_rows (resource text, id text, raw text NOT NULL, PRIMARY KEY (resource, id))",
            )?;
            let t = Instant::now();
            let mut tx = c.transaction()?;
            let sink = tx.copy_in("COPY raw_rows (resource, id, raw) FROM STDIN (FORMAT binary)")?;
            let mut w = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::TEXT]);
            for (table, list) in rows {
                for (id, raw) in list {
                    let vals: [&(dyn ToSql + Sync); 3] = [table, id, raw];
                    w.write(&vals)?;
                }
            }
            w.finish()?;
            tx.commit()?;
            Ok(t.elapsed().as_secs_f64())
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the COPY thread stopped"))?
    })?;
    let (core, conn_id) = crate::bench::open_team_core(dir, base, &team_url).await?;
    let opts = SyncOptions { resources: resources.iter().map(|r| r.name.to_string()).collect(), ..Default::default() };
    let t = Instant::now();
    let job = core.sync_start(&conn_id, opts.clone())?;
    let done = wait_job(&core, &job.id).await?;
    let bo_s = t.elapsed().as_secs_f64();
    if done.status != JobStatus::Succeeded {
        bail!("BackOffice's sync into PostgreSQL failed: {:?}", done.error);
    }
    let records = done.counts.get("records").copied().unwrap_or(0) as u64;
    let t = Instant::now();
    let job = core.sync_start(&conn_id, opts)?;
    let again = wait_job(&core, &job.id).await?;
    let resync_s = t.elapsed().as_secs_f64();
    if again.status != JobStatus::Succeeded {
        bail!("BackOffice's re-sync into PostgreSQL failed: {:?}", again.error);
    }
    Ok(OnPostgres { records, copy_s, bo_s, resync_s })
}

/// The rows the plain script stored, per resource.
fn stored_rows(db: &Path) -> Result<Vec<TableRows>> {
    let conn = rusqlite_plain::open(db)?;
    let tables = rusqlite_plain::tables(&conn)?;
    let mut out = vec![];
    for t in tables {
        out.push((t.clone(), rusqlite_plain::rows(&conn, &t)?));
    }
    Ok(out)
}

/// One prepared upsert per table, all in one transaction.
fn raw_upsert(db: &Path, tables: &[TableRows]) -> Result<()> {
    let mut conn = rusqlite_plain::open(db)?;
    rusqlite_plain::upsert_all(&mut conn, tables)
}

/// The plain SQLite calls, through the core's re-exported rusqlite.
mod rusqlite_plain {
    use std::path::Path;

    use anyhow::Result;
    use backoffice_core::store::rusqlite::{params, Connection};

    pub fn open(db: &Path) -> Result<Connection> {
        let c = Connection::open(db)?;
        c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        c.execute_batch("PRAGMA synchronous = NORMAL;")?;
        Ok(c)
    }

    pub fn insert(conn: &mut Connection, table: &str, pending: &mut Vec<(String, String)>) -> Result<u64> {
        let tx = conn.transaction()?;
        let n = pending.len() as u64;
        {
            let mut st = tx.prepare_cached(&format!("INSERT OR REPLACE INTO \"{table}\" (id, raw) VALUES (?1, ?2)"))?;
            for (id, raw) in pending.drain(..) {
                st.execute(params![id, raw])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    pub fn tables(conn: &Connection) -> Result<Vec<String>> {
        let mut st = conn.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")?;
        let names = st.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    pub fn rows(conn: &Connection, table: &str) -> Result<Vec<(String, String)>> {
        let mut st = conn.prepare(&format!("SELECT id, raw FROM \"{table}\""))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn upsert_all(conn: &mut Connection, tables: &[super::TableRows]) -> Result<()> {
        let tx = conn.transaction()?;
        for (t, rows) in tables {
            tx.execute_batch(&format!("CREATE TABLE \"{t}\" (id TEXT PRIMARY KEY, raw TEXT NOT NULL)"))?;
            let mut st = tx.prepare(&format!(
                "INSERT INTO \"{t}\" (id, raw) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET raw = excluded.raw"
            ))?;
            for (id, raw) in rows {
                st.execute(params![id, raw])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
