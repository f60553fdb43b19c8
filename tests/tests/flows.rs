//! User flows through the real app, against the simulators. Run with `cargo xtask test`.

use anyhow::{ensure, Context, Result};
use backoffice_e2e::{scan, sel, start_sim, App, AppOptions, NewConnection};
use backoffice_sim::{SimConfig, SimCredentials};
use std::time::Duration;

fn contifico(name: &str, base_url: &str, key: &str, secret: &str) -> NewConnection {
    NewConnection {
        name: name.into(),
        kind: "contifico".into(),
        base_url: base_url.into(),
        key: key.into(),
        secret: secret.into(),
        timezone: Some("America/Guayaquil".into()),
    }
}

fn omie(name: &str, base_url: &str, key: &str, secret: &str) -> NewConnection {
    NewConnection {
        name: name.into(),
        kind: "omie".into(),
        base_url: base_url.into(),
        key: key.into(),
        secret: secret.into(),
        timezone: Some("America/Sao_Paulo".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_test_succeeds() -> Result<()> {
    let sim = start_sim(SimConfig::default()).await?;
    let creds = SimCredentials::default();
    let app = App::launch("connection_test_succeeds", AppOptions::default()).await?;
    let name = "Contífico Quito E2E";
    let res = async {
        app.add_connection(&contifico(name, &sim.contifico, &creds.contifico_api_key, &creds.contifico_pos_token))
            .await?;
        app.screenshot("connections-pt-BR").await?;
        app.test_connection(name).await?;
        let job = app.wait_job(sel::KIND_TEST_CONNECTION, name).await?;
        if job.status != "succeeded" {
            let detail = app.open_job(&job.row).await.ok();
            anyhow::bail!("the connection test ended `{}` instead of `succeeded`; detail: {detail:?}", job.status);
        }
        app.screenshot("jobs-pt-BR").await?;
        let status = app.connection_status(name).await?;
        // connections.testOk in pt-BR: the row says the connection works.
        ensure!(status == "Funcionando", "conn-status after a successful test is {status:?}, not \"Funcionando\"");
        app.goto("dashboard").await?;
        app.screenshot("dashboard-pt-BR").await?;
        Ok(())
    }
    .await;
    app.finish(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_reports_plain_failure() -> Result<()> {
    let sim = start_sim(SimConfig::default()).await?;
    let creds = SimCredentials::default();
    let app = App::launch("wrong_secret_reports_plain_failure", AppOptions::default()).await?;
    let name = "Omie São Paulo E2E";
    let wrong_secret = "wrong-secret-4b1d";
    let res = async {
        app.add_connection(&omie(name, &sim.omie, &creds.omie_app_key, wrong_secret)).await?;
        app.test_connection(name).await?;
        let job = app.wait_job(sel::KIND_TEST_CONNECTION, name).await?;
        ensure!(job.status == "failed", "a test with a wrong secret ended `{}` instead of `failed`", job.status);
        ensure!(
            sim.omie_control().total_requests() > 0,
            "the job failed without reaching the Omie simulator, so it did not test the secret"
        );
        let detail = app.open_job(&job.row).await?;
        ensure!(!detail.error.trim().is_empty(), "job-error is empty for a failed job");
        ensure!(detail.error.contains(name), "job-error does not name the connection `{name}`: {:?}", detail.error);
        ensure!(!detail.error.contains(wrong_secret), "job-error shows the secret: {:?}", detail.error);
        ensure!(detail.log_lines.iter().all(|l| !l.contains(wrong_secret)), "a job log line shows the secret");
        ensure!(!detail.log_lines.is_empty(), "the failed job shows no job-log-line");
        app.screenshot("job-failed-pt-BR").await?;
        Ok(())
    }
    .await;
    app.finish(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode() -> Result<()> {
    let app = App::launch("demo_mode", AppOptions::default()).await?;
    let res = async {
        app.goto("dashboard").await?;
        let start = app.wd.wait_for_visible(sel::START_DEMO, Duration::from_secs(20)).await?;
        app.wd.click(&start).await?;
        // The dashboard offers the demo only while there are no connections.
        app.wd
            .wait_gone(sel::START_DEMO, Duration::from_secs(60))
            .await
            .context("the dashboard still offers the demo after starting it")?;
        app.goto("connections").await?;
        let wd = &app.wd;
        let expected = sel::DEMO_CONNECTIONS.len();
        backoffice_e2e::webdriver::wait_until(
            &format!("{expected} connection rows after starting the demo"),
            Duration::from_secs(30),
            async || Ok((wd.find_all(sel::CONNECTION_ROW).await?.len() >= expected).then_some(())),
        )
        .await?;
        let mut names = app.connection_names().await?;
        names.sort();
        let mut want: Vec<String> = sel::DEMO_CONNECTIONS.iter().map(|s| s.to_string()).collect();
        want.sort();
        ensure!(names == want, "demo connections are {names:?}, expected {want:?}");
        Ok(())
    }
    .await;
    app.finish(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_stored() -> Result<()> {
    // The simulators accept the canaries, so a succeeded job proves the app stored them (in the
    // keychain) and used them; then no file the app wrote may contain them.
    let contifico_canary = "canary-7f3a9c-secret";
    let omie_canary = "canary-omie-2e8d51-secret";
    let mut cfg = SimConfig::default();
    cfg.credentials.contifico_pos_token = contifico_canary.into();
    cfg.credentials.omie_app_secret = omie_canary.into();
    let creds = cfg.credentials.clone();
    let sim = start_sim(cfg).await?;
    let mut app = App::launch("secrets_never_stored", AppOptions::default()).await?;
    let cont_name = "Canary Contífico";
    let omie_name = "Canary Omie";
    let res = async {
        app.add_connection(&contifico(cont_name, &sim.contifico, &creds.contifico_api_key, contifico_canary)).await?;
        app.add_connection(&omie(omie_name, &sim.omie, &creds.omie_app_key, omie_canary)).await?;
        for name in [cont_name, omie_name] {
            app.test_connection(name).await?;
            let job = app.wait_job(sel::KIND_TEST_CONNECTION, name).await?;
            ensure!(job.status == "succeeded", "testing `{name}` ended `{}`, expected `succeeded`", job.status);
        }
        Ok(())
    }
    .await;
    if res.is_err() {
        return app.finish(res).await;
    }
    // Quit the app so SQLite and the log writer flush and close their files.
    app.shutdown().await;
    let res = check_no_canaries(&app, &[contifico_canary, omie_canary], cont_name);
    app.finish(res).await
}

fn check_no_canaries(app: &App, canaries: &[&str], stored_name: &str) -> Result<()> {
    let db = app.db_path();
    let db_len =
        std::fs::metadata(&db).with_context(|| format!("the app wrote no database at {}", db.display()))?.len();
    ensure!(db_len > 0, "{} is empty", db.display());
    let log_files = scan::files_under(&app.log_dir())?;
    let logged: u64 = log_files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    ensure!(
        logged > 0,
        "the app wrote no logs to BACKOFFICE_LOG_DIR ({}); the secret check would prove nothing",
        app.log_dir().display()
    );
    // Everything the app wrote: bo.db, bo.db-wal, bo.db-shm, logs/, its XDG dirs (webview storage)
    // and its stdout/stderr (driver.log).
    let files = scan::files_under(app.root())?;
    for must in ["bo.db", "driver.log"] {
        ensure!(files.iter().any(|f| f.file_name().is_some_and(|n| n == must)), "{must} is missing from the scan");
    }
    // Positive control: the scan does see what the app stores (the connection's name).
    let db_files: Vec<_> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("bo.db")))
        .cloned()
        .collect();
    ensure!(
        !scan::find_in_files(&db_files, stored_name)?.is_empty(),
        "the connection name `{stored_name}` is not in the database files, so they are not where the app stores data"
    );
    let mut leaks = Vec::new();
    for canary in canaries {
        for (file, enc) in scan::find_in_files(&files, canary)? {
            let rel = file.strip_prefix(app.root()).unwrap_or(&file).display().to_string();
            leaks.push(format!("{canary} in {rel} ({enc})"));
        }
    }
    println!("scanned {} files ({} bytes of logs, {db_len} bytes of database)", files.len(), logged);
    ensure!(leaks.is_empty(), "secrets found in files the app wrote:\n  {}", leaks.join("\n  "));
    Ok(())
}
