//! Divergences end to end in the real window (pt-BR), against the test's own Omie simulator: sync,
//! run the check, filter by rule, approve a misfiled payable with a written reason, apply it (the
//! simulator's record changes), then undo it from the detail (the record is back).
//! Run with `cargo xtask test` (or `cargo xtask session --xvfb -- cargo test -p backoffice-e2e --test divergences`).

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use backoffice_e2e::ui::{set_field, UI_TIMEOUT};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{start_sim, App, AppOptions, NewConnection};
use backoffice_sim::omie::Kind;
use backoffice_sim::{SimConfig, SimHandle};

const JOB: Duration = Duration::from_secs(120);

fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// The payables the simulator books under the wrong category: (index, category now).
fn misfiled(sim: &SimHandle) -> Vec<(u64, String)> {
    let o = sim.omie();
    (0..o.count(Kind::Payable))
        .filter_map(|i| {
            let r = o.record(Kind::Payable, i);
            let text = r["observacao"].as_str().unwrap_or_default().to_lowercase();
            let cat = r["codigo_categoria"].as_str().unwrap_or_default().to_string();
            (text.contains("trade marketing") && cat != "2.04.01").then_some((i, cat))
        })
        .collect()
}

fn category(sim: &SimHandle, idx: u64) -> String {
    sim.omie().record(Kind::Payable, idx)["codigo_categoria"].as_str().unwrap_or_default().to_string()
}

/// Waits until the job progress box `box_id` is gone and the page shows no job error.
async fn wait_job_done(app: &App, box_id: &str) -> Result<()> {
    let wd = &app.wd;
    wait_until(&format!("the job of {box_id} to finish"), JOB, async || {
        for e in wd.find_all(&tid("divergences-job-failed")).await? {
            let t = wd.text(&e).await?;
            if !t.trim().is_empty() {
                anyhow::bail!("the job failed: {t}");
            }
        }
        Ok(wd.find_all(&tid(box_id)).await?.is_empty().then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_apply_and_undo_a_correction_in_the_window() -> Result<()> {
    let sim = start_sim(SimConfig { scale: 120, ..SimConfig::default() }).await?;
    let wrong = misfiled(&sim);
    ensure!(!wrong.is_empty(), "the simulator plants no misfiled payable at this scale");
    let opts = AppOptions { locale: "pt-BR".into(), ..AppOptions::default() };
    let app = App::launch("approve_apply_and_undo_a_correction_in_the_window", opts).await?;
    let res = async {
        app.add_connection(&NewConnection::omie("Omie Divergências", &sim)).await?;
        let wd = &app.wd;
        // Sync the company from its page.
        let status = app.omie_sync_all().await?;
        ensure!(status == "succeeded", "the Omie sync ended `{status}`");

        // Run the check; the inbox lists what it found.
        app.goto("divergences").await?;
        wd.click(&wd.wait_for(&tid("divergences-run"), UI_TIMEOUT).await?).await?;
        wait_until("the divergences of the check", JOB, async || {
            Ok((!wd.find_all(&tid("divergence-row")).await?.is_empty()).then_some(()))
        })
        .await?;
        // Only the misfiled trade marketing payables.
        let rule = wd.wait_for(&tid("divergences-filter-rule"), UI_TIMEOUT).await?;
        set_field(wd, &rule, "omie_trade_marketing").await?;
        let rows = wait_until("the rule's rows", UI_TIMEOUT, async || {
            let rows = wd.find_all("[data-testid=\"divergence-row\"]").await?;
            let mut all = !rows.is_empty();
            for r in &rows {
                all &= wd.attr(r, "data-rule").await?.as_deref() == Some("omie_trade_marketing");
            }
            Ok(all.then_some(rows.len()))
        })
        .await?;
        ensure!(rows == wrong.len(), "the inbox lists {rows} misfiled payables; the simulator has {}", wrong.len());

        // Approve the first with a written reason (an empty reason is refused in the dialog).
        let first = wd.find_all(&tid("divergence-row")).await?.into_iter().next().context("a row")?;
        let id = wd.attr(&first, "data-id").await?.context("the row's id")?;
        wd.click(&wd.find_in(&first, &tid("divergences-select")).await?).await?;
        wd.click(&wd.wait_for(&tid("bulk-approve"), UI_TIMEOUT).await?).await?;
        wd.click(&wd.wait_for(&tid("decision-confirm"), UI_TIMEOUT).await?).await?;
        ensure!(wd.find_all(&tid("decision-changed")).await?.is_empty(), "a decision without a reason was sent");
        let reason = wd.wait_for(&tid("decision-reason"), UI_TIMEOUT).await?;
        set_field(wd, &reason, "Ação de trade marketing vai para 2.04.01").await?;
        wd.click(&wd.wait_for(&tid("decision-confirm"), UI_TIMEOUT).await?).await?;
        wd.wait_for(&tid("decision-changed"), UI_TIMEOUT).await.context("the decision's result")?;
        wd.click(&wd.wait_for(&tid("decision-result-close"), UI_TIMEOUT).await?).await?;
        let row = format!("[data-testid=\"divergence-row\"][data-id=\"{id}\"]");
        wait_until("the approved status", UI_TIMEOUT, async || {
            let Some(r) = wd.find_all(&row).await?.into_iter().next() else { return Ok(None) };
            Ok((wd.attr(&r, "data-status").await?.as_deref() == Some("approved")).then_some(()))
        })
        .await?;

        // Apply the approved correction: the simulator's record now has the expected category.
        wd.click(&wd.wait_for(&tid("divergences-apply"), UI_TIMEOUT).await?).await?;
        wd.click(&wd.wait_for(&tid("divergences-apply-accept"), UI_TIMEOUT).await?).await?;
        let fixed = wait_until("Omie to hold the corrected category", JOB, async || {
            Ok(wrong.iter().find(|(i, _)| category(&sim, *i) == "2.04.01").map(|(i, before)| (*i, before.clone())))
        })
        .await?;
        ensure!(
            wrong.iter().filter(|(i, _)| category(&sim, *i) == "2.04.01").count() == 1,
            "more than the approved payable changed"
        );
        // The status is refreshed from the job (the inbox filter keeps applied ones out by default:
        // open the detail from the row if it is still listed, else through the applied status).
        let applied = tid("divergences-status-applied");
        let cb = wd.wait_for(&applied, UI_TIMEOUT).await?;
        if wd.prop(&cb, "checked").await?.as_bool() != Some(true) {
            wd.click(&cb).await?;
        }
        let r = wait_until("the applied row", JOB, async || {
            let Some(r) = wd.find_all(&row).await?.into_iter().next() else { return Ok(None) };
            Ok((wd.attr(&r, "data-status").await?.as_deref() == Some("applied")).then_some(r))
        })
        .await?;
        // A row opens its detail (a cell is clicked: the row element itself has no box to click).
        wd.click(&wd.find_in(&r, "td:nth-child(3)").await?).await?;
        // The detail loads after it opens: wait for its correction, not for its frame.
        let mut text = String::new();
        wait_until("the detail's correction", UI_TIMEOUT, async || {
            let Some(d) = wd.find_all(&tid("divergence-detail")).await?.into_iter().next() else { return Ok(None) };
            text = wd.text(&d).await?;
            Ok(text.contains("2.04.01").then_some(()))
        })
        .await
        .with_context(|| format!("the detail does not show the correction: {text}"))?;
        app.screenshot("divergences-pt-BR-applied").await?;

        // Undo from the detail: the old category is back in Omie.
        wd.click(&wd.wait_for(&tid("detail-rollback"), UI_TIMEOUT).await?).await?;
        wd.click(&wd.wait_for(&tid("divergence-confirm-accept"), UI_TIMEOUT).await?).await?;
        wait_until("Omie to hold the old category again", JOB, async || {
            Ok((category(&sim, fixed.0) == fixed.1).then_some(()))
        })
        .await?;
        wait_job_done(&app, "divergences-run-progress").await?;

        // Export to Excel from the window and read the file back: typed cells, one row per divergence.
        wd.click(&wd.wait_for(&tid("divergences-export-xlsx"), UI_TIMEOUT).await?).await?;
        let notice = wd.wait_for(&tid("divergences-exported"), UI_TIMEOUT).await?;
        let path = wd.text(&wd.find_in(&notice, ".mono").await?).await?;
        ensure!(path.ends_with(".xlsx"), "the notice names {path:?}");
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut book: Xlsx<_> = open_workbook(path.trim()).with_context(|| format!("opening {path}"))?;
        let sheet = book.worksheet_range("Divergences")?;
        ensure!(sheet.get((0, 0)) == Some(&Data::String("Rule".into())), "header: {:?}", sheet.get((0, 0)));
        // What the filters show (this rule; the undone one is no longer among the statuses shown).
        let table = wd.wait_for(&tid("divergences-table"), UI_TIMEOUT).await?;
        let shown: usize = wd.attr(&table, "data-total").await?.context("the table's total")?.parse()?;
        ensure!(sheet.height() == shown + 1, "the workbook has {} rows for {shown} divergences shown", sheet.height());
        ensure!(shown + 1 == rows, "after the undo, {shown} of the {rows} misfiled payables are shown");
        let money = (1..sheet.height()).find(|r| matches!(sheet.get((*r, 9)), Some(Data::Float(_))));
        let money = money.context("no amount is a number")?;
        ensure!(
            matches!(sheet.get((money, 14)), Some(Data::DateTime(_))),
            "first seen is {:?}",
            sheet.get((money, 14))
        );
        Ok(())
    }
    .await;
    app.finish(res).await
}
