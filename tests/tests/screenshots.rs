//! A screenshot of every page in every locale, with demo data (`cargo xtask screenshots`).
//! Files: artifacts/screenshots/tour-LOCALE-NN-PAGE.png
//!
//! The demo's Contífico company is synced first and the suggested schedules of one demo connection
//! are added, so the dashboard, the Contífico page, Jobs & Logs and Schedules show real content.

use anyhow::{ensure, Result};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, App, AppOptions};
use std::path::Path;
use std::time::Duration;

const LOCALES: &[&str] = &["en", "es", "pt-BR"];
const DEMO_CONTIFICO: &str = "Demo Contífico";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshot_tour() -> Result<()> {
    for locale in LOCALES {
        let opts = AppOptions { locale: locale.to_string(), ..AppOptions::default() };
        let app = App::launch(&format!("screenshot_tour_{locale}"), opts).await?;
        let res = tour(&app, locale).await;
        app.finish(res).await?;
    }
    Ok(())
}

async fn tour(app: &App, locale: &str) -> Result<()> {
    app.goto("dashboard").await?;
    let start = app.wd.wait_for_visible(sel::START_DEMO, Duration::from_secs(20)).await?;
    app.screenshot(&format!("tour-{locale}-00-dashboard-empty")).await?;
    app.wd.click(&start).await?;
    app.wd.wait_gone(sel::START_DEMO, Duration::from_secs(60)).await?;
    app.goto("connections").await?;
    let wd = &app.wd;
    let expected = sel::DEMO_CONNECTIONS.len();
    wait_until("the demo connections", Duration::from_secs(30), async || {
        Ok((wd.find_all(sel::CONNECTION_ROW).await?.len() >= expected).then_some(()))
    })
    .await?;

    // Sync the demo's Contífico company (every resource).
    app.open_contifico(DEMO_CONTIFICO).await?;
    let sync = app.contifico_sync(&[], Duration::from_secs(180)).await?;
    ensure!(
        sync.status == "succeeded",
        "the demo Contífico sync ended `{}`: {} {}",
        sync.status,
        sync.error,
        sync.counts
    );

    // The suggested schedules of the demo Contífico connection.
    app.open_schedules().await?;
    let offer = format!("li[data-connection=\"{}\"] {}", sel::css_escape(DEMO_CONTIFICO), sel::SCHEDULES_DEFAULTS);
    let button = wd.wait_for(&offer, Duration::from_secs(20)).await?;
    wd.click(&button).await?;
    wait_until("the suggested schedules", Duration::from_secs(20), async || {
        Ok((!wd.find_all(sel::SCHEDULE_ROW).await?.is_empty()).then_some(()))
    })
    .await?;

    for (i, page) in sel::PAGES.iter().enumerate() {
        app.goto(page).await?;
        let path = app.screenshot(&format!("tour-{locale}-{:02}-{page}", i + 1)).await?;
        check_size(&path)?;
    }
    app.open_schedules().await?;
    let path = app.screenshot(&format!("tour-{locale}-{:02}-schedules", sel::PAGES.len() + 1)).await?;
    check_size(&path)?;

    // The sync's detail with its log, in the tour's language.
    let job = app.wait_job(sel::KIND_SYNC_CONTIFICO, DEMO_CONTIFICO).await?;
    let detail = app.open_job(&job.row).await?;
    ensure!(!detail.log_lines.is_empty(), "the sync's detail shows no log lines");
    let path = app.screenshot(&format!("tour-{locale}-{:02}-job-detail", sel::PAGES.len() + 2)).await?;
    check_size(&path)
}

fn check_size(path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)?.len();
    ensure!(len > 1000, "{} is suspiciously small ({len} bytes)", path.display());
    Ok(())
}
