//! A pending-verification divergence fixed from the window (pt-BR), against the test's own Omie
//! simulator: the rule is widened to every date in its form; a payable born of an NF-e receipt whose
//! attachments were never copied is found by the check; its detail offers the RF-001 transfer, which runs as a job; "check again" then closes the
//! divergence as resolved at the source. The evidence links open the records in the data browser.
//! Run with `cargo xtask test` (or `cargo xtask session --xvfb -- cargo test -p backoffice-e2e --test pending_fix`).

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use backoffice_e2e::ui::{set_field, UI_TIMEOUT};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{start_sim, App, AppOptions, NewConnection};
use backoffice_sim::SimConfig;

const JOB: Duration = Duration::from_secs(120);
const RULE: &str = "omie_receipt_attachments";

fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_whose_attachments_were_not_copied_is_fixed_from_its_divergence() -> Result<()> {
    let sim = start_sim(SimConfig { scale: 120, ..SimConfig::default() }).await?;
    let opts = AppOptions { locale: "pt-BR".into(), ..AppOptions::default() };
    let app = App::launch("a_receipt_whose_attachments_were_not_copied_is_fixed", opts).await?;
    let res = async {
        app.add_connection(&NewConnection::omie("Omie Recebimentos", &sim)).await?;
        let wd = &app.wd;
        let status = app.omie_sync_all().await?;
        ensure!(status == "succeeded", "the Omie sync ended `{status}`");

        // The rule looks at the last 30 days by default; this company's receipts are older: the
        // user widens it to every date in the rule's form (a reason is required).
        app.goto("divergences").await?;
        wd.click(&wd.wait_for(&tid("divergences-tab-rules"), UI_TIMEOUT).await?).await?;
        let row = wd.wait_for(&format!("{}[data-id=\"{RULE}\"]", tid("rule-row")), UI_TIMEOUT).await?;
        wd.click(&wd.find_in(&row, &tid("rule-edit")).await?).await?;
        let from = wd.wait_for_visible(&tid("rule-fromDate"), UI_TIMEOUT).await?;
        // Emptied as a person does (select all, backspace), so the form sees the change.
        wd.send_keys(&from, "\u{E009}a\u{E000}\u{E003}").await?;
        ensure!(wd.prop(&from, "value").await?.as_str() == Some(""), "the date field is not empty");
        wd.send_keys(&wd.find(&tid("rule-reason")).await?, "Olhar também os recebimentos antigos").await?;
        wd.click(&wd.find(&tid("rule-save")).await?).await?;
        wd.wait_for_visible(&tid("rule-saved"), UI_TIMEOUT).await?;

        wd.click(&wd.wait_for(&tid("divergences-tab-inbox"), UI_TIMEOUT).await?).await?;
        wd.click(&wd.wait_for(&tid("divergences-run"), UI_TIMEOUT).await?).await?;
        wait_until("the divergences of the check", JOB, async || {
            Ok((!wd.find_all(&tid("divergence-row")).await?.is_empty()).then_some(()))
        })
        .await?;
        let rule = wd.wait_for(&tid("divergences-filter-rule"), UI_TIMEOUT).await?;
        set_field(wd, &rule, RULE).await?;
        let before = wait_until("the rule's rows", UI_TIMEOUT, async || {
            let rows = wd.find_all(&tid("divergence-row")).await?;
            let mut all = !rows.is_empty();
            for r in &rows {
                all &= wd.attr(r, "data-rule").await?.as_deref() == Some(RULE);
            }
            Ok(all.then_some(rows.len()))
        })
        .await
        .context("no payable born of an NF-e receipt is listed")?;
        let total = async || -> Result<usize> {
            let table = wd.find(&tid("divergences-table")).await?;
            Ok(wd.attr(&table, "data-total").await?.context("the table's total")?.parse()?)
        };
        let before = before.max(total().await?);

        let first = wd.find_all(&tid("divergence-row")).await?.into_iter().next().context("a row")?;
        let id = wd.attr(&first, "data-id").await?.context("the row's id")?;
        wd.click(&wd.find_in(&first, "td:nth-child(3)").await?).await?;
        let fix = wd.wait_for_visible(&tid("divergence-fix"), UI_TIMEOUT).await?;
        ensure!(wd.attr(&fix, "data-fix").await?.as_deref() == Some("omie_attachment_transfer"));
        let explanation = wd.text(&wd.find(&tid("divergence-explanation")).await?).await?;
        ensure!(explanation.contains("NF-e"), "the explanation reads {explanation:?}");
        // Each piece of evidence links to that record of that company in the data browser.
        for link in wd.find_all(&format!("{} a", tid("divergence-evidence-item"))).await? {
            let href = wd.attr(&link, "href").await?.unwrap_or_default();
            let route = href.split_once('#').map(|(_, r)| r).unwrap_or_default();
            ensure!(route.starts_with("/omie/data/") && route.split('/').count() == 6, "evidence link {href:?}");
        }
        app.screenshot("divergences-pt-BR-pending-fix").await?;

        wd.click(&wd.find_in(&fix, &tid("divergence-fix-run")).await?).await?;
        wd.wait_for_visible(&tid("divergence-fix-done"), JOB).await?;
        wd.click(&wd.find(&tid("divergence-fix-check")).await?).await?;
        wait_until("the divergence to be resolved at the source", JOB, async || {
            let Some(d) = wd.find_all(&tid("divergence-detail")).await?.into_iter().next() else { return Ok(None) };
            Ok((wd.attr(&d, "data-id").await?.as_deref() == Some(id.as_str())
                && wd.attr(&d, "data-status").await?.as_deref() == Some("resolved"))
            .then_some(()))
        })
        .await?;
        app.screenshot("divergences-pt-BR-pending-fixed").await?;
        // The open list has one fewer.
        wait_until("one fewer open divergence of the rule", JOB, async || {
            Ok((total().await? + 1 == before).then_some(()))
        })
        .await?;
        Ok(())
    }
    .await;
    app.finish(res).await
}
