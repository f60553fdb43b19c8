//! Settings → Team database in the real window, against the throwaway PostgreSQL cluster `cargo
//! xtask test` starts (BACKOFFICE_TEST_POSTGRES_URL): a wrong password is explained in
//! Portuguese, the right one (kept in the keychain) lets the test say the database is empty, and
//! "Copy this desk's data there" runs as a job until every table is verified; PostgreSQL then
//! holds the finished copy. And a desk whose file says it works on the team database opens the
//! window on it: the badge, Settings and the screens work on PostgreSQL. Run with `cargo xtask session --xvfb --postgres -- cargo test -p
//! backoffice-e2e --test team`.

use anyhow::{ensure, Context, Result};
use backoffice_e2e::team_db::fresh_database;
use backoffice_e2e::ui::{set_field, UI_TIMEOUT};
use backoffice_e2e::{sel, App, AppOptions};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_is_copied_into_the_team_database_from_settings() -> Result<()> {
    let team = fresh_database().await?;
    let (host, port, user, password, database) =
        (team.host.clone(), team.port.clone(), team.user.clone(), team.password.clone(), team.database.clone());
    let ca = std::env::var("BACKOFFICE_TEST_POSTGRES_CA").context("the test cluster's authority")?;
    let app = App::launch("a_desk_is_copied_into_the_team_database_from_settings", AppOptions::default()).await?;
    let res = async {
        app.goto("settings").await?;
        let card = sel::tid("team-settings");
        app.wd.wait_for(&card, UI_TIMEOUT).await?;
        app.scroll_to(&card).await?;
        for (id, value) in [
            ("team-host", host.as_str()),
            ("team-port", port.as_str()),
            ("team-database", database.as_str()),
            ("team-user", user.as_str()),
            ("team-tls", "verify-full"),
            ("team-root-cert", ca.as_str()),
            ("team-password", "not-the-password"),
        ] {
            let el = app.wd.wait_for(&sel::tid(id), UI_TIMEOUT).await?;
            set_field(&app.wd, &el, value).await.with_context(|| format!("filling {id}"))?;
        }
        let test = app.wd.find(&sel::tid("team-test")).await?;
        app.wd.click(&test).await?;
        let refused = app.wd.wait_for(&sel::tid("team-error"), UI_TIMEOUT).await?;
        let text = app.wd.text(&refused).await?;
        ensure!(text.contains("recusou o usuário ou a senha"), "the refused password is not explained: {text:?}");
        ensure!(!text.contains("not-the-password"), "the error shows the password: {text:?}");

        let pw = app.wd.find(&sel::tid("team-password")).await?;
        set_field(&app.wd, &pw, &password).await?;
        app.wd.click(&test).await?;
        let check = app.wd.wait_for(&sel::tid("team-check"), UI_TIMEOUT).await?;
        ensure!(app.wd.attr(&check, "data-state").await?.as_deref() == Some("empty"), "the database is not seen empty");
        let state = app.wd.find(&sel::tid("team-password-state")).await?;
        ensure!(
            app.wd.text(&state).await?.contains("chaveiro do sistema"),
            "the password is not said to be in the keychain"
        );
        app.screenshot("settings-team-pt-BR").await?;

        let copy = app.wd.find(&sel::tid("team-copy")).await?;
        app.wd.click(&copy).await?;
        let done = app.wd.wait_for(&sel::tid("team-copy-done"), Duration::from_secs(60)).await?;
        ensure!(app.wd.text(&done).await?.contains("conferida"), "the copy's end is not said in Portuguese");
        app.wd.wait_for("[data-testid=\"team-check\"][data-state=\"ready\"]", UI_TIMEOUT).await?;
        app.screenshot("settings-team-copied-pt-BR").await?;

        // PostgreSQL holds the finished copy, made from this desk. (The window asked for verify-full
        // against the cluster's own authority: with any other trust the test above would have failed.)
        let desk = app.db_path().display().to_string();
        let (state, source) = team
            .with_client(|c| {
                let get = |c: &mut postgres::Client, k: &str| -> Result<String> {
                    Ok(c.query_one("SELECT value FROM backoffice.bo_team_store WHERE key = $1", &[&k])?.get(0))
                };
                Ok((get(c, "copy_state")?, get(c, "copy_source")?))
            })
            .await?;
        ensure!(state == "complete", "the team database's copy is {state}");
        ensure!(source.starts_with(&desk), "the copy came from {source}, not {desk}");
        Ok(())
    }
    .await;
    app.finish(res).await
}

/// A desk set (through the core, as Settings → Team database → "Work on the team database" does)
/// to work on the team database: the real window opens it, says so, and its screens work there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_works_on_the_team_database_its_desk_names() -> Result<()> {
    use backoffice_core::ops::team::TeamDbSettings;
    let team = fresh_database().await?;
    let (host, port, user, password, database) =
        (team.host.clone(), team.port.clone(), team.user.clone(), team.password.clone(), team.database.clone());
    let desk = tempfile::tempdir()?;
    let db = desk.path().join("bo.db");
    {
        // The app's own keychain (the default service), as the window would save the password.
        let paths = backoffice_core::Paths { db: db.clone(), log_dir: desk.path().join("logs") };
        let core = tokio::task::spawn_blocking(move || {
            backoffice_core::Core::open(paths, std::sync::Arc::new(backoffice_core::secrets::Keychain::default()))
        })
        .await??;
        let form = TeamDbSettings {
            host,
            port: port.parse()?,
            database,
            user,
            tls: "disable".into(),
            root_cert: String::new(),
            password_saved: false,
            work_here: false,
        };
        core.save_team_settings(&form, Some(password))?;
        ensure!(core.set_team_mode(true).await?.work_here, "the desk is not set to work on the team database");
    }
    let opts = AppOptions { env: vec![("BACKOFFICE_DB".into(), db.display().to_string())], ..AppOptions::default() };
    let app = App::launch("the_window_works_on_the_team_database_its_desk_names", opts).await?;
    let res = async {
        let badge = app.wd.wait_for(&sel::tid("team-badge"), UI_TIMEOUT).await?;
        ensure!(app.wd.text(&badge).await?.contains("Banco da equipe"), "no team badge in Portuguese");
        app.goto("dashboard").await?;
        app.wd.wait_for(&sel::tid("page-dashboard"), UI_TIMEOUT).await?;
        for page in ["connections", "divergences", "jobs"] {
            app.goto(page).await?;
            app.wd.wait_for(&sel::tid(&format!("page-{page}")), UI_TIMEOUT).await?;
        }
        app.goto("settings").await?;
        let mode = app.wd.wait_for("[data-testid=\"team-mode\"][data-on=\"true\"]", UI_TIMEOUT).await?;
        app.scroll_to(&sel::tid("team-settings")).await?;
        ensure!(app.wd.text(&mode).await?.contains("banco da equipe"), "Settings does not say where the window works");
        app.screenshot("settings-team-mode-pt-BR").await?;
        // The window set the team database up: it is PostgreSQL that holds BackOffice's schema.
        let version: String = team
            .with_client(|c| {
                Ok(c.query_one("SELECT value FROM backoffice.bo_team_store WHERE key = 'schema_version'", &[])?.get(0))
            })
            .await?;
        ensure!(version.parse::<i64>()? > 0, "the team database was not set up: {version}");
        Ok(())
    }
    .await;
    app.finish(res).await
}
