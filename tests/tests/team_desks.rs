//! Two desks of a team on one PostgreSQL team database, as two real app processes, each with its
//! own home, desk file and keychain (its own D-Bus session and login keyring: `harness::Desk`),
//! each set up from the command line as a user would (`backoffice store work-on …`):
//!
//! - desk A adds a Contífico connection (its key goes to A's keychain only); desk B's window says the
//!   key is kept on another desk, and B's "Sync now" is refused, naming that desk;
//! - A syncs; B, on its Jobs page, sees the sync appear, its progress move and its end, live, then
//!   the synced data;
//! - A and B each reject a different divergence; each sees the other's decision;
//! - B keeps the key too; a schedule made on A fires once across both desks; the desk that runs
//!   it is killed (SIGKILL) mid-run, and the next run is started by the other desk.
//!
//! Run with `cargo xtask test` (or `cargo xtask session --xvfb --postgres -- cargo test -p
//! backoffice-e2e --test team_desks`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context, Result};
use backoffice_e2e::team_db::{fresh_database, TeamDb};
use backoffice_e2e::ui::{set_field, NewSchedule, UI_TIMEOUT};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, start_sim, App, AppOptions, Desk, NewConnection};
use backoffice_sim::{Resource, SimConfig, SimCredentials, SimHandle};

const CONNECTION: &str = "Contífico Equipe";
const SCHEDULE: &str = "Equipe a cada minuto";
/// How long a job of this test may take at the simulator's latency.
const JOB: Duration = Duration::from_secs(240);

fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// A Contífico sync job as the team database holds it.
#[derive(Debug, Clone)]
struct SyncJob {
    id: String,
    status: String,
    pid: Option<i64>,
    error: Option<String>,
}

async fn sync_jobs(team: &TeamDb) -> Result<Vec<SyncJob>> {
    team.with_client(|c| {
        Ok(c.query(
            "SELECT id, status, owner_pid::bigint, error FROM backoffice.jobs WHERE kind = 'sync_contifico'
             ORDER BY created_at",
            &[],
        )?
        .iter()
        .map(|r| SyncJob { id: r.get(0), status: r.get(1), pid: r.get(2), error: r.get(3) })
        .collect())
    })
    .await
}

/// (due at, outcome, job) of every run record of the test's schedule, oldest first.
async fn schedule_runs(team: &TeamDb) -> Result<Vec<(String, String, Option<String>)>> {
    team.with_client(|c| {
        Ok(c.query(
            "SELECT r.due_at, r.outcome, r.job_id FROM backoffice.schedule_runs r
               JOIN backoffice.schedules s ON s.id = r.schedule_id
              WHERE s.name = $1 ORDER BY r.id",
            &[&SCHEDULE],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_work_on_one_team_database() -> Result<()> {
    let team = fresh_database().await?;
    // Slow enough that a run of the schedule is still going when its desk is killed.
    let sim = start_sim(SimConfig { scale: 60, latency_ms: 700, ..SimConfig::default() }).await?;
    let (desk_a, desk_b) = (Desk::new("a")?, Desk::new("b")?);
    for desk in [&desk_a, &desk_b] {
        let said =
            desk.cli(&["store", "work-on", &team.address_without_password()], &[("PGPASSWORD", &team.password)])?;
        ensure!(said.contains("now works on the team database"), "desk {}: {said}", desk.name);
    }
    let opts = |desk: &Desk| AppOptions { desk: Some(desk.clone()), ..AppOptions::default() };
    let a = App::launch("two_desks_a", opts(&desk_a)).await?;
    let b = match App::launch("two_desks_b", opts(&desk_b)).await {
        Ok(b) => b,
        Err(e) => return a.finish(Err(e)).await,
    };
    let res = scenario(&team, &sim, &a, &b).await;
    let shown = res.as_ref().map(|_| ()).map_err(|e| anyhow!("{e:#}"));
    let a_res = a.finish(shown).await;
    b.finish(res).await.and(a_res)
}

async fn scenario(team: &TeamDb, sim: &SimHandle, a: &App, b: &App) -> Result<()> {
    for app in [a, b] {
        let badge = app.wd.wait_for(&tid("team-badge"), UI_TIMEOUT).await?;
        ensure!(app.wd.text(&badge).await?.contains("Banco da equipe"), "{}: no team badge", app.name);
    }
    let creds = SimCredentials::default();

    // Desk A adds the connection: its key goes to A's keychain.
    a.add_connection(&NewConnection {
        name: CONNECTION.into(),
        kind: "contifico".into(),
        base_url: sim.contifico.clone(),
        key: creds.contifico_api_key.clone(),
        secret: creds.contifico_pos_token.clone(),
        timezone: Some("America/Guayaquil".into()),
    })
    .await?;

    // Desk B lists it, and says its key is kept on another desk.
    b.goto("connections").await?;
    let row = sel::connection_row(CONNECTION);
    // The page re-renders as the key states arrive: the note is looked up afresh each time.
    let note_css = format!("{row} {}", tid("conn-key-note"));
    let text = wait_until("desk B's note on the key, naming one desk", UI_TIMEOUT, async || {
        let Some(note) = b.wd.find_all(&note_css).await?.into_iter().next() else { return Ok(None) };
        let desks = b.wd.attr(&note, "data-desks").await?;
        let text = b.wd.text(&note).await?;
        Ok((desks.as_deref() == Some("1")).then_some(text))
    })
    .await?;
    ensure!(text.contains("A chave não está nesta mesa"), "desk B's note: {text:?}");
    b.screenshot("team-desk-b-key-elsewhere-pt-BR").await?;
    ensure!(
        a.wd.find_all(&format!("{row} {}", tid("conn-key-note"))).await?.is_empty(),
        "desk A, which keeps the key, says it does not"
    );

    // A syncs; B, on its Jobs page and touching nothing, sees it run, move and end.
    b.goto("jobs").await?;
    b.wd.wait_for(&tid("page-jobs"), UI_TIMEOUT).await?;
    let watch = async {
        let mut seen = BTreeSet::new();
        let rows = sel::job_rows(sel::KIND_SYNC_CONTIFICO, CONNECTION);
        wait_until("desk A's sync to show on desk B and end there", JOB, async || {
            for r in b.wd.find_all(&rows).await? {
                let status = b.wd.attr(&r, "data-status").await?.unwrap_or_default();
                let progress = b.wd.attr(&r, "data-progress").await?.unwrap_or_default();
                let label = b.wd.attr(&r, "data-progress-label").await?.unwrap_or_default();
                match status.as_str() {
                    "running" => {
                        seen.insert(format!("{progress} {label}"));
                    }
                    "succeeded" => return Ok(Some(())),
                    "failed" | "cancelled" => bail!("desk B shows the sync {status}"),
                    _ => {}
                }
            }
            Ok(None)
        })
        .await?;
        Ok::<_, anyhow::Error>(seen)
    };
    let sync = async {
        a.open_contifico(CONNECTION).await?;
        a.contifico_sync(&[], JOB).await
    };
    let (seen, result) = tokio::join!(watch, sync);
    let result = result?;
    ensure!(result.status == "succeeded", "desk A's sync ended {}: {}", result.status, result.error);
    let seen = seen?;
    println!("desk B saw the running sync as {seen:?}");
    ensure!(seen.len() >= 2, "desk B did not see the sync's progress move while it ran: {seen:?}");

    // B sees the data A synced.
    b.open_contifico(CONNECTION).await?;
    let personas = sim.contifico().live_count(Resource::Persona) as i64;
    b.wait_summary_records("personas", personas).await?;
    // B's own "Sync now" is refused, naming the desk that keeps the key.
    let refused = b.contifico_sync(&[], UI_TIMEOUT).await.err().context("desk B's sync was not refused")?;
    ensure!(format!("{refused:#}").contains("O chaveiro desta mesa não tem a chave"), "desk B's refusal: {refused:#}");
    b.scroll_to(sel::SYNC_ERROR).await?;
    b.screenshot("team-desk-b-sync-refused-pt-BR").await?;

    review_different_divergences(a, b).await?;

    // B keeps the key too, from the connection's form.
    b.goto("connections").await?;
    let row_el = b.wd.wait_for(&row, UI_TIMEOUT).await?;
    b.wd.click(&b.wd.find_in(&row_el, sel::CONN_EDIT).await?).await?;
    for (css, value) in [(sel::CONN_KEY, &creds.contifico_api_key), (sel::CONN_SECRET, &creds.contifico_pos_token)] {
        let el = b.wd.wait_for(css, UI_TIMEOUT).await?;
        set_field(&b.wd, &el, value).await?;
    }
    b.wd.click(&b.wd.find(sel::CONN_SAVE).await?).await?;
    wait_until("desk B's note on the key to go", UI_TIMEOUT, async || {
        Ok(b.wd.find_all(&format!("{row} {}", tid("conn-key-note"))).await?.is_empty().then_some(()))
    })
    .await?;

    schedule_moves_to_the_other_desk(team, a, b).await
}

/// Desks A and B each reject a different divergence; each window then shows the other's decision.
async fn review_different_divergences(a: &App, b: &App) -> Result<()> {
    a.goto("divergences").await?;
    a.wd.click(&a.wd.wait_for(&tid("divergences-run"), UI_TIMEOUT).await?).await?;
    let ids = wait_until("two divergences on desk A", JOB, async || {
        let mut ids = Vec::new();
        for r in a.wd.find_all(&tid("divergence-row")).await? {
            ids.extend(a.wd.attr(&r, "data-id").await?);
        }
        Ok((ids.len() >= 2).then_some(ids))
    })
    .await?;
    let (first, second) = (ids[0].clone(), ids[1].clone());
    // Rejected: a decision any rule's divergence takes (an approval needs a correction to send).
    decide(a, &first, "bulk-reject", "Conferido pela mesa A: não é divergência").await?;
    b.goto("divergences").await?;
    decide(b, &second, "bulk-reject", "Não é divergência, diz a mesa B").await?;

    // Each desk sees the other's decision (after reopening the page, rejected ones shown too).
    for (app, id, status) in [(b, &first, "rejected"), (a, &second, "rejected")] {
        app.goto("dashboard").await?;
        app.goto("divergences").await?;
        let cb = app.wd.wait_for(&tid("divergences-status-rejected"), UI_TIMEOUT).await?;
        if app.wd.prop(&cb, "checked").await?.as_bool() != Some(true) {
            app.wd.click(&cb).await?;
        }
        let css = format!("[data-testid=\"divergence-row\"][data-id=\"{id}\"]");
        wait_until(&format!("{}: divergence {id} {status}", app.name), UI_TIMEOUT, async || {
            let Some(r) = app.wd.find_all(&css).await?.into_iter().next() else { return Ok(None) };
            Ok((app.wd.attr(&r, "data-status").await?.as_deref() == Some(status)).then_some(()))
        })
        .await?;
    }
    a.screenshot("team-desk-a-divergences-pt-BR").await?;
    Ok(())
}

/// Selects divergence `id` in `app`'s inbox and decides it with `button` and a written reason.
async fn decide(app: &App, id: &str, button: &str, reason: &str) -> Result<()> {
    let wd = &app.wd;
    let css = format!("[data-testid=\"divergence-row\"][data-id=\"{id}\"]");
    // Looked up afresh until the click lands: the inbox may re-render under a held element.
    wait_until(&format!("{}: selecting divergence {id}", app.name), JOB, async || {
        let Some(row) = wd.find_all(&css).await?.into_iter().next() else { return Ok(None) };
        wd.click(&wd.find_in(&row, &tid("divergences-select")).await?).await?;
        Ok(Some(()))
    })
    .await?;
    wd.click(&wd.wait_for(&tid(button), UI_TIMEOUT).await?).await?;
    let field = wd.wait_for(&tid("decision-reason"), UI_TIMEOUT).await?;
    set_field(wd, &field, reason).await?;
    wd.click(&wd.wait_for(&tid("decision-confirm"), UI_TIMEOUT).await?).await?;
    wd.wait_for(&tid("decision-changed"), UI_TIMEOUT).await.with_context(|| format!("{}: {button}", app.name))?;
    wd.click(&wd.wait_for(&tid("decision-result-close"), UI_TIMEOUT).await?).await?;
    Ok(())
}

/// A schedule made on desk A fires once across both desks; the desk running it is killed mid-run
/// and the next occurrence runs on the other desk.
async fn schedule_moves_to_the_other_desk(team: &TeamDb, a: &App, b: &App) -> Result<()> {
    let before: BTreeSet<String> = sync_jobs(team).await?.into_iter().map(|j| j.id).collect();
    a.add_interval_schedule(&NewSchedule {
        name: SCHEDULE.into(),
        kind: sel::KIND_SYNC_CONTIFICO.into(),
        connection: CONNECTION.into(),
        every_minutes: 1,
    })
    .await?;
    let pids = BTreeMap::from([(a.app_pid()? as i64, a), (b.app_pid()? as i64, b)]);

    // The first occurrence: one run, one job, on one of the desks; that desk dies while it runs.
    let first = wait_until("the schedule's first run to be running", Duration::from_secs(150), async || {
        let runs = schedule_runs(team).await?;
        let Some((_, outcome, job)) = runs.first() else { return Ok(None) };
        ensure!(outcome == "started", "the first run was {outcome}");
        let job = job.clone().context("a started run names its job")?;
        let Some(j) = sync_jobs(team).await?.into_iter().find(|j| j.id == job) else { return Ok(None) };
        ensure!(
            j.status != "succeeded" && j.status != "failed",
            "the first run ended ({}) before it was seen running",
            j.status
        );
        Ok((j.status == "running" && j.pid.is_some()).then_some(j))
    })
    .await?;
    let runner = *pids
        .get(&first.pid.unwrap_or_default())
        .with_context(|| format!("the first run's process {:?} is neither desk's app {:?}", first.pid, pids.keys()))?;
    let survivor = if std::ptr::eq(runner, a) { b } else { a };
    println!("the first run ({}) is on {}; killing it", first.id, runner.name);
    runner.kill_app()?;

    // The next occurrence runs on the other desk, and ends well; the killed run is marked interrupted.
    let second = wait_until("the schedule's next run to end on the other desk", JOB, async || {
        let runs = schedule_runs(team).await?;
        let Some((_, outcome, job)) = runs.get(1) else { return Ok(None) };
        ensure!(outcome == "started", "the next run was not started: {runs:?}");
        let job = job.as_ref().context("a started run names its job")?;
        let Some(j) = sync_jobs(team).await?.into_iter().find(|j| &j.id == job) else { return Ok(None) };
        Ok(matches!(j.status.as_str(), "succeeded" | "failed" | "cancelled").then_some(j))
    })
    .await?;
    ensure!(second.status == "succeeded", "the next run ended {}: {:?}", second.status, second.error);
    ensure!(
        second.pid == Some(survivor.app_pid()? as i64),
        "the next run ran in process {:?}, not in {}'s app",
        second.pid,
        survivor.name
    );
    let runs = schedule_runs(team).await?;
    let dues: BTreeSet<&String> = runs.iter().map(|(due, _, _)| due).collect();
    ensure!(dues.len() == runs.len(), "an occurrence was run twice: {runs:?}");
    ensure!(runs.iter().all(|(_, outcome, _)| outcome == "started"), "a run was not started: {runs:?}");
    let jobs = sync_jobs(team).await?;
    let new: Vec<&SyncJob> = jobs.iter().filter(|j| !before.contains(&j.id)).collect();
    ensure!(new.len() == runs.len(), "{} jobs for {} runs: {new:?}", new.len(), runs.len());
    let killed = jobs.iter().find(|j| j.id == first.id).context("the killed run's job")?;
    ensure!(
        killed.status == "failed" && killed.error.as_deref().is_some_and(|e| e.contains("interrupted")),
        "the killed run is {} ({:?})",
        killed.status,
        killed.error
    );
    survivor.open_schedules().await?;
    survivor.screenshot("team-schedule-moved-pt-BR").await?;
    Ok(())
}
