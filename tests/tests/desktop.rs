//! The app while nobody watches the window: a schedule fires by itself, a failing job raises a
//! desktop notification, and the tray menu shows health and actions. Notifications and the tray are
//! read on the D-Bus session bus the tests run in. Run with `cargo xtask test`.

use anyhow::{bail, ensure, Context, Result};
use backoffice_e2e::bus::{click_newest_notification, displayed_notifications, NotifyMonitor, TrayMenu};
use backoffice_e2e::ui::{instant_ms, NewSchedule, UI_TIMEOUT};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, start_sim, App, AppOptions, NewConnection};
use backoffice_sim::{SimConfig, SimCredentials};
use std::time::Duration;

fn contifico(name: &str, base_url: &str, creds: &SimCredentials) -> NewConnection {
    NewConnection {
        name: name.into(),
        kind: "contifico".into(),
        base_url: base_url.into(),
        key: creds.contifico_api_key.clone(),
        secret: creds.contifico_pos_token.clone(),
        timezone: Some("America/Guayaquil".into()),
    }
}

/// An interval schedule's first run is due one interval after it is saved, and the scheduler looks
/// every 20 s: an every-minute schedule starts its job at most about 80 s after saving, plus the
/// job itself. Anything beyond this is a scheduler that did not fire.
const SCHEDULE_FIRES_WITHIN: Duration = Duration::from_secs(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_fires_and_shows_in_history() -> Result<()> {
    let sim = start_sim(SimConfig::default()).await?;
    let creds = SimCredentials::default();
    let app = App::launch("schedule_fires_and_shows_in_history", AppOptions::default()).await?;
    let conn = "Contífico Cuenca Agendada";
    let schedule = "Sincronização a cada minuto E2E";
    let res = async {
        app.add_connection(&contifico(conn, &sim.contifico, &creds)).await?;
        let requests_before = sim.contifico().total_requests();
        // The window's clock just before saving: the new schedule's interval grid starts after it.
        let before_save = app.wd.execute("return Date.now()", vec![]).await?;
        let before_save_ms = before_save.as_f64().with_context(|| format!("Date.now() returned {before_save}"))? as i64;
        app.add_interval_schedule(&NewSchedule {
            name: schedule.into(),
            kind: sel::KIND_SYNC_CONTIFICO.into(),
            connection: conn.into(),
            every_minutes: 1,
        })
        .await?;
        let row = app.wd.find(&sel::schedule_row(schedule)).await?;
        ensure!(app.wd.attr(&row, "data-enabled").await?.as_deref() == Some("true"), "the new schedule is not enabled");
        // The app announces the first run one interval after saving (whole seconds: the window's
        // clock and the app's may round the same instant differently).
        let next = app.wd.find_in(&row, sel::SCHEDULE_NEXT).await.context("the new schedule shows no next run")?;
        let first_due = app.wd.attr(&next, "datetime").await?.context("the next run has no datetime")?;
        let first_due_ms = instant_ms(&first_due)?;
        ensure!(
            first_due_ms >= before_save_ms / 1000 * 1000 + 60_000,
            "the every-minute schedule announces its first run at {first_due}, less than one interval after it was \
             saved (the window's clock read {before_save_ms} ms just before)"
        );
        // Nothing runs at once: the first run is one interval after saving.
        let early = app.schedule_runs().await?;
        ensure!(early.is_empty(), "the schedule history is not empty right after saving: {early:?}");

        // Stay on the page: it follows job events, as a user watching it would see.
        app.wd.wait_for(sel::SCHEDULE_HISTORY, UI_TIMEOUT).await?;
        let mut last = Vec::new();
        let waited =
            wait_until("a run started by the schedule whose job succeeded", SCHEDULE_FIRES_WITHIN, async || {
                last = app.schedule_runs().await?;
                if let Some(bad) = last.iter().find(|r| r.outcome != "started") {
                    bail!("the schedule recorded a run that did not start a job: {bad:?}");
                }
                if let Some(failed) =
                    last.iter().find(|r| matches!(r.job_status.as_deref(), Some("failed") | Some("cancelled")))
                {
                    bail!("the scheduled job did not succeed: {failed:?}");
                }
                Ok(last
                    .iter()
                    .find(|r| r.trigger == "schedule" && r.job_status.as_deref() == Some("succeeded"))
                    .cloned())
            })
            .await;
        let run = waited.with_context(|| format!("the schedule history last showed {last:?}"))?;
        println!("the schedule fired and its job succeeded: {run:?}");
        // What the app recorded, in order: the run is for the occurrence it announced (or a later one,
        // if the scheduler folded missed ones), never an earlier one, and its job started no earlier
        // than that occurrence was due.
        let due = run.due_at.clone().context("the schedule's run shows no due time")?;
        ensure!(
            instant_ms(&due)? >= first_due_ms,
            "the schedule ran the occurrence due at {due}, before the first one it announced ({first_due})"
        );
        let run_job = run.job_id.clone().context("the schedule's run does not link the job it started")?;
        ensure!(
            sim.contifico().total_requests() > requests_before,
            "the scheduled sync succeeded without calling the Contífico simulator"
        );
        let row = app.wd.find(&sel::schedule_row(schedule)).await?;
        let last_job = app.wd.find_all_in(&row, r#"[data-testid="schedule-last-job"]"#).await?;
        ensure!(!last_job.is_empty(), "the schedule's row does not link its last job");
        app.screenshot("schedules-pt-BR").await?;
        app.scroll_to(sel::SCHEDULE_HISTORY).await?;
        app.screenshot("schedules-history-pt-BR").await?;

        // The job is in Jobs & Logs too.
        let job = app.wait_job(sel::KIND_SYNC_CONTIFICO, conn).await?;
        ensure!(job.status == "succeeded", "the scheduled sync job is `{}` on the Jobs page", job.status);
        // The very job the run started, and when it started.
        let job_row = format!("{}[data-id=\"{}\"]", sel::JOB_ROW, sel::css_escape(&run_job));
        let job_row = app.wd.wait_for(&job_row, UI_TIMEOUT).await.context("the run's job is not on the Jobs page")?;
        let started_el = app.wd.find_in(&job_row, "time[datetime]").await?;
        let started = app.wd.attr(&started_el, "datetime").await?.context("the run's job shows no start time")?;
        ensure!(
            instant_ms(&started)? >= instant_ms(&due)?,
            "the scheduled job started at {started}, before its run was due at {due}"
        );
        Ok(())
    }
    .await;
    app.finish(res).await
}

/// The plain reason the core gives when an ERP rejects the credentials (CoreError::Unauthorized).
/// Notification bodies carry the core's message, which is English today.
/// The window's own pt-BR text for `unauthorized` (ui/src/locales/pt-BR/errors.json), which the
/// notification repeats.
const REJECTED_REASON: &str = "recusou a chave ou o segredo";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_job_raises_a_notification() -> Result<()> {
    let sim = start_sim(SimConfig::default()).await?;
    let creds = SimCredentials::default();
    let app = App::launch("failing_job_raises_a_notification", AppOptions::default()).await?;
    let conn = "Omie Campinas Notificada";
    let res = async {
        app.add_connection(&NewConnection {
            name: conn.into(),
            kind: "omie".into(),
            base_url: sim.omie.clone(),
            key: creds.omie_app_key.clone(),
            secret: "wrong-secret-9c2e".into(),
            timezone: Some("America/Sao_Paulo".into()),
        })
        .await?;
        // Watch the bus before anything fails.
        let monitor = NotifyMonitor::start().await?;
        app.test_connection(conn).await?;
        let job = app.wait_job(sel::KIND_TEST_CONNECTION, conn).await?;
        ensure!(job.status == "failed", "a test with a wrong secret ended `{}` instead of `failed`", job.status);
        let call = monitor
            .wait_for(Duration::from_secs(20), |c| c.summary.contains(conn) || c.body.contains(conn))
            .await
            .context("the failed job raised no desktop notification naming the connection")?;
        println!("Notify: summary {:?}, body {:?}", call.summary, call.body);
        ensure!(
            call.summary.contains(conn),
            "the notification's title does not name the connection `{conn}`: {:?}",
            call.summary
        );
        // pt-BR: "Teste de conexão falhou: <connection>".
        ensure!(
            call.summary.contains("Teste de conexão") && call.summary.contains("falhou"),
            "the notification's title does not say which job failed, in Portuguese: {:?}",
            call.summary
        );
        ensure!(
            call.body.contains(REJECTED_REASON),
            "the notification's body does not give the plain reason ({REJECTED_REASON:?}): {:?}",
            call.body
        );
        ensure!(!call.body.contains("wrong-secret-9c2e"), "the notification shows the secret: {:?}", call.body);
        ensure!(
            call.actions.first().map(String::as_str) == Some("default"),
            "the notification offers no default (click) action: {:?}",
            call.actions
        );

        // Clicking it opens the app on that job: leave the Jobs page, then click the notification on
        // the screen (dunst invokes its default action, the app gets ActionInvoked).
        let job_id = app.wd.attr(&job.row, "data-id").await?.context("the job row has no data-id")?;
        app.goto("dashboard").await?;
        wait_until("dunst showing the notification", Duration::from_secs(10), async || {
            Ok((displayed_notifications()? >= 1).then_some(()))
        })
        .await?;
        click_newest_notification()?;
        let detail = app
            .wd
            .wait_for_visible(&sel::tid("job-detail"), UI_TIMEOUT)
            .await
            .context("clicking the notification did not open the job's detail in the window")?;
        let shown = app.wd.attr(&detail, "data-job-id").await?.unwrap_or_default();
        ensure!(shown == job_id, "the click opened job {shown:?}, not the failed job {job_id:?}");
        let hash = app.wd.execute("return window.location.hash", vec![]).await?;
        ensure!(hash.as_str() == Some(&format!("#/jobs/{job_id}")), "the window shows {hash}, not the job");

        // The same failure again is grouped: no second notification.
        app.test_connection(conn).await?;
        app.goto("jobs").await?;
        wait_until("a second failed connection test", Duration::from_secs(60), async || {
            let mut failed = 0;
            for row in app.wd.find_all(&sel::job_rows(sel::KIND_TEST_CONNECTION, conn)).await? {
                if app.wd.attr(&row, "data-status").await?.as_deref() == Some("failed") {
                    failed += 1;
                }
            }
            Ok((failed >= 2).then_some(()))
        })
        .await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let about_conn = monitor.calls().into_iter().filter(|c| c.summary.contains(conn)).count();
        ensure!(about_conn == 1, "the repeated failure raised {about_conn} notifications; it should be grouped into 1");
        Ok(())
    }
    .await;
    app.finish(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_menu_lists_health_and_actions() -> Result<()> {
    let sim = start_sim(SimConfig::default()).await?;
    let creds = SimCredentials::default();
    let app = App::launch("tray_menu_lists_health_and_actions", AppOptions::default()).await?;
    let conn = "Contífico Loja Bandeja";
    let res = async {
        let pid = app.app_pid()?;
        let tray = TrayMenu::find(pid, Duration::from_secs(20)).await?;
        println!("tray: {tray:?}");
        let labels = tray.labels()?;
        println!("tray labels before: {labels:?}");
        for want in ["Sincronizar tudo agora", "Abrir o BackOffice", "Pausar agendamentos", "Sair"] {
            ensure!(labels.iter().any(|l| l == want), "the tray menu has no `{want}`: {labels:?}");
        }
        ensure!(!labels.iter().any(|l| l.starts_with(conn)), "the tray names `{conn}` before it exists: {labels:?}");

        // A connection synced now: the tray's health line names it and says how long ago.
        app.add_connection(&contifico(conn, &sim.contifico, &creds)).await?;
        app.open_contifico(conn).await?;
        let result = app.contifico_sync(&["marcas"], Duration::from_secs(60)).await?;
        ensure!(result.status == "succeeded", "the sync ended `{}`: {}", result.status, result.error);
        let health = format!("{conn}: <1 min atrás");
        let mut last = Vec::new();
        let found = wait_until(&format!("the tray line {health:?}"), Duration::from_secs(45), async || {
            last = tray.labels()?;
            Ok(last.contains(&health).then_some(()))
        })
        .await;
        found.with_context(|| format!("the tray menu last read {last:?}"))?;
        println!("tray labels after a sync: {last:?}");
        ensure!(
            last.iter().any(|l| l.ends_with("tarefas com falha (24 h)")),
            "the tray has no failed-jobs line: {last:?}"
        );

        // Picking "Pausar agendamentos" in the menu pauses the schedules (as the Schedules page shows).
        let pause = tray
            .entries()?
            .into_iter()
            .find(|e| e.label == "Pausar agendamentos")
            .context("the tray lost its pause entry")?;
        tray.click(pause.id)?;
        wait_until("the tray to offer `Retomar agendamentos`", Duration::from_secs(10), async || {
            Ok(tray.labels()?.iter().any(|l| l == "Retomar agendamentos").then_some(()))
        })
        .await?;
        app.open_schedules().await?;
        let wd = &app.wd;
        wait_until("the Schedules page to show schedules paused", UI_TIMEOUT, async || {
            let page = wd.find(sel::PAGE_SCHEDULES).await?;
            Ok((wd.attr(&page, "data-paused").await?.as_deref() == Some("true")).then_some(()))
        })
        .await
        .context("the tray's pause did not reach the app")?;

        // The defaults offered for the connection appear under "Executar agora"; picking one runs
        // its job at once, even with schedules paused.
        let offer = format!("li[data-connection=\"{}\"] [data-testid=\"schedules-defaults\"]", sel::css_escape(conn));
        let button = wd.wait_for(&offer, UI_TIMEOUT).await?;
        wd.click(&button).await?;
        let entry_label = format!("Sincronização do catálogo Contífico: {conn}");
        let mut seen = Vec::new();
        let entry = wait_until(&format!("the tray entry {entry_label:?}"), Duration::from_secs(20), async || {
            let entries = tray.entries()?;
            seen = entries.iter().map(|e| e.label.clone()).collect();
            Ok(entries.into_iter().find(|e| e.label == entry_label))
        })
        .await
        .with_context(|| format!("the tray menu last read {seen:?}"))?;
        ensure!(seen.iter().any(|l| l == "Executar agora"), "the tray has no `Executar agora` submenu: {seen:?}");
        tray.click(entry.id)?;
        app.goto("jobs").await?;
        wait_until("a second Contífico sync, started from the tray", Duration::from_secs(60), async || {
            let rows = wd.find_all(&sel::job_rows(sel::KIND_SYNC_CONTIFICO, conn)).await?;
            Ok((rows.len() >= 2).then_some(()))
        })
        .await?;
        Ok(())
    }
    .await;
    app.finish(res).await
}
