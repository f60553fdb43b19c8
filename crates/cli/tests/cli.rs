//! The `backoffice` binary end to end: real process, real SQLite file, simulator over loopback.

use std::process::{Command, Stdio};
use std::time::Duration;

use backoffice_core::model::JobStatus;
use backoffice_core::secrets::Keychain;
use backoffice_core::{Core, Paths};
use backoffice_sim::{SimConfig, SimCredentials};

fn cli(db: &std::path::Path, sim_url: &str, key: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_backoffice"));
    c.arg("--db")
        .arg(db)
        .env("BACKOFFICE_LOG_DIR", db.parent().unwrap().join("logs"))
        .env("CONTIFICO_API_KEY", key)
        .env("CONTIFICO_API_TOKEN", "made-up-pos-token")
        .env("CONTIFICO_API_BASE_URL", sim_url)
        .env_remove("CONTIFICO_PAGE_SIZE")
        .env_remove("SYNC_BATCH_SIZE");
    c
}

fn count(db: &std::path::Path, table: &str) -> i64 {
    // A plain read-only look, as another program would take: opening the store would migrate the file
    // and take write locks while the CLI under test is writing to it.
    let Ok(c) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    let _ = c.busy_timeout(Duration::from_secs(5));
    c.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0)).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_from_environment_variables_with_json_output() {
    let sim = backoffice_sim::start(SimConfig { scale: 25, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let key = SimCredentials::default().contifico_api_key;
    let out = cli(&db, &sim.contifico, &key)
        .args(["--json", "sync", "contifico", "--resources", "marcas", "bodegas", "--page-size", "10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["counts"]["records"], 50);
    // The secret from the environment was not written anywhere on disk.
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(&key), "{}", entry.path().display());
        }
    }
    // Status and browse read the store.
    let out = cli(&db, &sim.contifico, &key)
        .args(["--json", "contifico", "browse", "marcas", "--limit", "3"])
        .output()
        .unwrap();
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["total"], 25);
    assert_eq!(page["rows"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_key_exits_non_zero_with_guidance() {
    let sim = backoffice_sim::start(SimConfig { scale: 5, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out =
        cli(&dir.path().join("bo.db"), &sim.contifico, "not-the-key").args(["sync", "contifico"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("API key"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_sync_resumes_without_loss_or_duplicates() {
    let sim = backoffice_sim::start(SimConfig { scale: 400, latency_ms: 20, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let key = SimCredentials::default().contifico_api_key;
    let mut child = cli(&db, &sim.contifico, &key)
        // One request at a time: the sync is still going when it is killed.
        .args([
            "sync",
            "contifico",
            "--resources",
            "personas",
            "--page-size",
            "10",
            "--batch-size",
            "10",
            "--concurrency",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it commit a few pages, then kill it hard (SIGKILL: no cleanup at all).
    let mut seen = 0;
    // Bounded wait for progress (a slow, loaded machine may take a while to start the process).
    for _ in 0..3000 {
        seen = count(&db, "contifico_persona");
        if seen >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen >= 50, "the sync did not progress");
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill = count(&db, "contifico_persona");
    assert!(after_kill < 400, "killed before the end");

    sim.contifico().set_latency_ms(0);
    // The resumed run reads ahead with the default concurrency: pages arrive out of order, and are
    // still written in order from the checkpoint.
    let out = cli(&db, &sim.contifico, &key)
        .args(["--json", "sync", "contifico", "--resources", "personas", "--page-size", "10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Only the pages after the checkpoint were fetched again.
    assert!(job["counts"]["records"].as_i64().unwrap() <= 400 - after_kill + 10, "{job}");
    assert_eq!(count(&db, "contifico_persona"), 400, "every record exactly once");
    // The killed run's job is not left "running".
    let core = Core::open(
        Paths { db: db.clone(), log_dir: dir.path().join("logs3") },
        std::sync::Arc::new(Keychain::default()),
    )
    .unwrap();
    let jobs = core.jobs.list(&Default::default()).unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| !j.status.is_active()));
    assert!(jobs.iter().any(|j| j.status == JobStatus::Failed && j.error.as_ref().unwrap().code == "interrupted"));
}

/// The seeds' own configuration keys: `INVENTORY_DB_PATH` chooses the SQLite file, `LOG_LEVEL=DEBUG`
/// and `LOG_FILE` give a detailed log in that file, `DATABASE_URL=sqlite:///...` names the file too,
/// and a PostgreSQL `DATABASE_URL` beside a chosen file gets a plain note (the file wins) instead of a
/// failure (without a chosen file it is the team database: `store_cli.rs`).
#[tokio::test(flavor = "multi_thread")]
async fn seed_configuration_keys_choose_the_database_and_the_log() {
    let sim = backoffice_sim::start(SimConfig { scale: 5, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = SimCredentials::default().contifico_api_key;
    let db = dir.path().join("data").join("inventory.db");
    let log_file = dir.path().join("logs").join("contifico.log");
    let base = |c: &mut Command| {
        c.env("BACKOFFICE_LOG_DIR", dir.path().join("rolling"))
            .env("CONTIFICO_API_KEY", &key)
            .env("CONTIFICO_API_TOKEN", "made-up-pos-token")
            .env("CONTIFICO_API_BASE_URL", &sim.contifico)
            .env_remove("BACKOFFICE_DB")
            .env_remove("BACKOFFICE_LOG")
            .env_remove("CONTIFICO_PAGE_SIZE")
            .env_remove("SYNC_BATCH_SIZE")
            .current_dir(dir.path());
    };
    let mut c = Command::new(env!("CARGO_BIN_EXE_backoffice"));
    base(&mut c);
    let out = c
        .env("INVENTORY_DB_PATH", &db)
        .env("LOG_LEVEL", "DEBUG")
        .env("LOG_FILE", &log_file)
        .env("DATABASE_URL", "postgres://made-up:made-up@localhost/backoffice")
        .args(["--json", "sync", "contifico", "--resources", "marcas"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(count(&db, "contifico_marca") > 0, "the records went to INVENTORY_DB_PATH");
    assert!(
        stderr.contains("DATABASE_URL names a postgres database") && stderr.contains(&db.display().to_string()),
        "no plain note about DATABASE_URL: {stderr}"
    );
    let log = std::fs::read_to_string(&log_file).expect("LOG_FILE was written");
    assert!(log.contains("DEBUG"), "LOG_LEVEL=DEBUG gave no debug lines in LOG_FILE:\n{log}");
    assert!(!log.contains(&key), "the API key reached the log");

    // DATABASE_URL naming a SQLite file is honoured when nothing more specific is set.
    let other = dir.path().join("other.sqlite3");
    let mut c = Command::new(env!("CARGO_BIN_EXE_backoffice"));
    base(&mut c);
    let out = c
        .env_remove("INVENTORY_DB_PATH")
        .env_remove("LOG_FILE")
        .env("DATABASE_URL", format!("sqlite:///{}", other.display().to_string().trim_start_matches('/')))
        .args(["--json", "sync", "contifico", "--resources", "marcas"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(count(&other, "contifico_marca") > 0, "the records went to the DATABASE_URL file");
}
