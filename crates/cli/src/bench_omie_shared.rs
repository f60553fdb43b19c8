//! Omie's budget shared by processes, on real time (`cargo xtask bench omie-shared`): the simulator
//! runs in a process of its own on its own (real) clock with Omie's documented limits; two (or more)
//! BackOffice processes on one database and one app key call `ListarClientes` as fast as their
//! budget allows. Printed in the same run: the same processes, each spending a budget of its own
//! (what every process did before the budget was shared). The figure that matters is the steady
//! state after the first minute (the first minute's burst fills an empty window).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use backoffice_core::erp::omie::client::OmieClient;
use backoffice_core::erp::omie::limiter::{Limiter, OmieLimits, SystemClock};
use backoffice_core::model::{ConnectionKind, Credentials};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::{Core, Paths};
use serde_json::{json, Value};

use crate::bench::start_sim_with;

/// Omie's documented limit for one key and one method, per minute.
const ALLOWED_PER_MIN: f64 = 240.0;
/// Clients per process: each process asks for its own pages, so no call is identical to another's.
const PAGES_PER_PROCESS: u64 = 1000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn sim_limits(http: &backoffice_core::http::Http, url: &str) -> Result<Value> {
    let base = url.split("/api/").next().unwrap_or(url).trim_end_matches('/');
    let r = http.client.get(format!("{base}/__sim/omie/limits")).send().await?;
    r.json().await.context("the simulator's limit counters")
}

fn counter(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

pub async fn run(seconds: u64, processes: usize, workers: usize) -> Result<i32> {
    let sim = start_sim_with(PAGES_PER_PROCESS * processes as u64 + 10, 0)?;
    let omie = sim.urls["omie"].as_str().context("the simulator's Omie URL")?.to_string();
    let http = backoffice_core::http::Http::new(Duration::from_secs(30))?;
    println!(
        "bench omie-shared: {processes} processes, one app key and method, {workers} workers each, {seconds} s of real time; \
         the simulator on its own clock with Omie's limits (240 per minute per key + method)"
    );
    println!(
        "{:<28} {:>9} {:>14} {:>9} {:>11} {:>9} {:>10} {:>7}",
        "budget", "answered", "steady /min", "allowed", "of limit", "429", "Client-6", "blocks"
    );
    let mut ok = true;
    for shared in [true, false] {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("bench.db");
        let before = sim_limits(&http, &omie).await?;
        let start = now_ms() + 3000;
        let exe = std::env::current_exe()?;
        let children: Vec<_> = (0..processes)
            .map(|k| {
                let mut c = Command::new(&exe);
                c.args(["bench", "omie-shared-worker", "--omie", &omie, "--db"])
                    .arg(&db)
                    .args(["--seconds", &seconds.to_string(), "--workers", &workers.to_string()])
                    .args(["--offset", &(k as u64 * PAGES_PER_PROCESS).to_string(), "--start-ms", &start.to_string()])
                    .env("BACKOFFICE_LOG_DIR", dir.path().join("logs"))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit());
                if !shared {
                    c.arg("--own-budget");
                }
                c.spawn().context("start a worker process")
            })
            .collect::<Result<_>>()?;
        let mut answered: Vec<i64> = vec![];
        for child in children {
            let out = child.wait_with_output()?;
            let v: Value = serde_json::from_slice(&out.stdout).context("a worker's figures")?;
            answered.extend(v["answered_ms"].as_array().into_iter().flatten().filter_map(Value::as_i64));
        }
        let after = sim_limits(&http, &omie).await?;
        let d = |k: &str| counter(&after, k).saturating_sub(counter(&before, k));
        let steady_from = 60_000;
        let span_min = (seconds as f64 * 1000.0 - steady_from as f64) / 60_000.0;
        let steady = answered.iter().filter(|t| **t >= steady_from && **t < seconds as i64 * 1000).count() as f64;
        let per_min = if span_min > 0.0 { steady / span_min } else { 0.0 };
        let pct = 100.0 * per_min / ALLOWED_PER_MIN;
        let name = if shared { "shared (BackOffice)" } else { "one per process (before)" };
        println!(
            "{:<28} {:>9} {:>14.1} {:>9} {:>10.1}% {:>9} {:>10} {:>7}",
            name,
            answered.len(),
            per_min,
            ALLOWED_PER_MIN,
            pct,
            d("rate_limited"),
            d("redundant"),
            d("blocks")
        );
        if shared {
            ok = pct >= 95.0 && d("rate_limited") + d("redundant") + d("concurrency") + d("blocked_calls") == 0;
        }
    }
    println!("answered: calls answered with data by all processes; steady /min: those answered after the first minute, per minute;");
    println!("429, Client-6, blocks: what the simulator refused or imposed (it keeps Omie's rules on its own clock).");
    Ok(if ok { 0 } else { 1 })
}

/// One BackOffice process of the benchmark: calls `ListarClientes` on its own pages until the time
/// is up, and prints when each call was answered (ms after the common start).
pub async fn worker(
    omie: &str,
    db: &Path,
    seconds: u64,
    workers: usize,
    offset: u64,
    start_ms: i64,
    own_budget: bool,
) -> Result<i32> {
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let log_dir = db.parent().unwrap_or(Path::new(".")).join("logs");
    let core = Core::open(Paths { db: db.to_path_buf(), log_dir }, secrets.clone())?;
    let conn = core.connections().ensure_headless("Bench Omie", ConnectionKind::Omie, omie)?;
    let c = backoffice_sim::SimCredentials::default();
    let creds = Credentials { key: c.omie_app_key, secret: c.omie_app_secret };
    secrets.put(&conn.id, creds.clone());
    let client = if own_budget {
        let limiter = Limiter::new(OmieLimits::default(), Arc::new(SystemClock::new()));
        OmieClient::with_limiter(core.http.clone(), omie, "Bench Omie", &creds, limiter)
    } else {
        core.omie_client(&conn)?
    };
    let wait = start_ms - now_ms();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    let end = start_ms + seconds as i64 * 1000;
    let next = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut tasks = vec![];
    for _ in 0..workers {
        let (client, next, answered) = (client.clone(), next.clone(), answered.clone());
        tasks.push(tokio::spawn(async move {
            while now_ms() < end {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let page = offset + i % PAGES_PER_PROCESS + 1;
                let param = json!({"pagina": page, "registros_por_pagina": 1, "apenas_importado_api": "N"});
                let left = Duration::from_millis((end - now_ms()).max(0) as u64 + 2000);
                match tokio::time::timeout(left, client.call("geral/clientes/", "ListarClientes", param)).await {
                    Ok(Ok(Ok(_))) => answered.lock().unwrap_or_else(|p| p.into_inner()).push(now_ms() - start_ms),
                    Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(_) => break,
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let answered = answered.lock().unwrap_or_else(|p| p.into_inner()).clone();
    println!("{}", json!({ "answered_ms": answered }));
    Ok(0)
}
