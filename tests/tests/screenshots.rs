//! A screenshot of every page in every locale, with demo data (`cargo xtask screenshots`).
//! Files: artifacts/screenshots/tour-LOCALE-NN-PAGE.png

use anyhow::{ensure, Result};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, App, AppOptions};
use std::time::Duration;

const LOCALES: &[&str] = &["en", "es", "pt-BR"];

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
    for (i, page) in sel::PAGES.iter().enumerate() {
        app.goto(page).await?;
        let path = app.screenshot(&format!("tour-{locale}-{:02}-{page}", i + 1)).await?;
        let len = std::fs::metadata(&path)?.len();
        ensure!(len > 1000, "{} is suspiciously small ({len} bytes)", path.display());
    }
    Ok(())
}
