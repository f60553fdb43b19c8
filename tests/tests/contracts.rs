//! The Contracts page in the real window, on demo mode's contract book: the Omie simulator plants one
//! case of the billing reconciliation per client (billed as contracted, above, below, not billed with a
//! cancelled title, a neighbouring month, a branch of the same CNPJ root, ...), the demo syncs it and
//! imports the contract book. Run with `cargo xtask test`.

use anyhow::{ensure, Context, Result};
use backoffice_e2e::ui::UI_TIMEOUT;
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, App, AppOptions};
use std::collections::BTreeMap;
use std::time::Duration;

const ROW: &str = r#"[data-testid="billing-row"]"#;
const TABLE: &str = r#"[data-testid="billing-table"]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_closed_month_shows_every_verdict_and_explains_a_missing_bill() -> Result<()> {
    let app = App::launch("billing_reconciliation_in_the_window", AppOptions::default()).await?;
    let res = async {
        let wd = &app.wd;
        app.goto("dashboard").await?;
        let start = wd.wait_for_visible(sel::START_DEMO, Duration::from_secs(20)).await?;
        wd.click(&start).await?;
        wd.wait_gone(sel::START_DEMO, Duration::from_secs(60)).await?;

        app.goto("contracts").await?;
        // The page opens on this month; the planted cases are in the last closed one.
        let this_month =
            wd.attr(&wd.wait_for(r#"[data-testid="billing-month"]"#, UI_TIMEOUT).await?, "data-month").await?;
        let prev = wd.wait_for(r#"[data-testid="billing-month-prev"]"#, UI_TIMEOUT).await?;
        wd.click(&prev).await?;
        // The demo syncs the Omie company and imports its contracts in the background: ask again
        // until the month has its clients.
        let count = wait_until("the last closed month's reconciliation", Duration::from_secs(180), async || {
            if let Some(table) = wd.find_all(TABLE).await?.into_iter().next() {
                let n: usize = wd.attr(&table, "data-count").await?.unwrap_or_default().parse().unwrap_or(0);
                if n >= 11 {
                    return Ok(Some(n));
                }
            }
            if let Some(refresh) = wd.find_all(r#"[data-testid="billing-refresh"]"#).await?.into_iter().next() {
                wd.click(&refresh).await?;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Ok(None)
        })
        .await?;
        let table = wd.find(TABLE).await?;
        let month = wd.attr(&table, "data-month").await?.context("the table names no month")?;
        ensure!(Some(month.clone()) != this_month, "still on this month ({month}) after 'previous month'");

        // The verdict chips count the whole month (the table itself only draws what is in view).
        let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
        for chip in wd.find_all(r#"[data-testid="billing-verdict-chip"]"#).await? {
            let verdict = wd.attr(&chip, "data-verdict").await?.unwrap_or_default();
            let n = wd.text(&wd.find_in(&chip, ".billing-chip-count").await?).await?;
            verdicts.insert(verdict, n.trim().replace('.', "").parse().unwrap_or(0));
        }
        ensure!(verdicts.values().sum::<usize>() == count, "{count} rows but the chips count {verdicts:?}");
        // Clients 0, 1, 8: within; 2, 5, 6: above; 3: below; 4, 7: no billing; 10: no contract.
        for (verdict, at_least) in [("within", 3), ("above", 3), ("below", 1), ("no_billing", 2), ("no_contract", 1)] {
            let n = verdicts.get(verdict).copied().unwrap_or(0);
            ensure!(
                n >= at_least,
                "{month}: {n} client(s) `{verdict}`, expected at least {at_least}; all: {verdicts:?}"
            );
        }
        ensure!(!verdicts.contains_key("pending"), "a closed month shows `pending`: {verdicts:?}");

        // Only the unbilled clients.
        let chip = wd.find(r#"[data-testid="billing-verdict-chip"][data-verdict="no_billing"]"#).await?;
        wd.click(&chip).await?;
        let unbilled = verdicts["no_billing"];
        wait_until("only the unbilled clients in the table", UI_TIMEOUT, async || {
            let rows = wd.find_all(ROW).await?;
            let mut all = rows.len() == unbilled;
            for r in &rows {
                all &= wd.attr(r, "data-verdict").await?.as_deref() == Some("no_billing");
            }
            Ok(all.then_some(()))
        })
        .await?;

        // Client 4's title of that month was cancelled: its detail says so, with the money the local way.
        let mut explained = Vec::new();
        for i in 0..wd.find_all(&format!("{ROW}[data-verdict=\"no_billing\"]")).await?.len() {
            let row = wd.find_all(&format!("{ROW}[data-verdict=\"no_billing\"]")).await?.remove(i);
            // A cell is clicked: the row element itself has no box to click.
            wd.click(&wd.find_in(&row, "td:first-child").await?).await?;
            let detail = wd.wait_for_visible(r#"[data-testid="billing-detail"]"#, UI_TIMEOUT).await?;
            let diff = wd.find_in(&detail, r#"[data-testid="billing-detail-difference"]"#).await?;
            let diff_text = wd.text(&diff).await?;
            ensure!(diff_text.contains("R$"), "the difference reads {diff_text:?}");
            for e in wd.find_all_in(&detail, r#"[data-testid="billing-explanation"]"#).await? {
                explained.push(wd.attr(&e, "data-key").await?.unwrap_or_default());
            }
        }
        ensure!(
            explained.iter().any(|k| k == "cancelled_title"),
            "no unbilled client of {month} is explained by a cancelled title; explanations: {explained:?}"
        );
        app.screenshot("contracts-pt-BR-last-month").await?;

        // Accept that explanation: it closes the client-month's divergence like any review decision
        // (with a written reason), and the detail marks it accepted at once.
        let mut accepted = false;
        for i in 0..wd.find_all(&format!("{ROW}[data-verdict=\"no_billing\"]")).await?.len() {
            let row = wd.find_all(&format!("{ROW}[data-verdict=\"no_billing\"]")).await?.remove(i);
            wd.click(&wd.find_in(&row, "td:first-child").await?).await?;
            let detail = wd.wait_for_visible(r#"[data-testid="billing-detail"]"#, UI_TIMEOUT).await?;
            let cancelled = r#"[data-testid="billing-explanation"][data-key="cancelled_title"]"#;
            let Some(item) = wd.find_all_in(&detail, cancelled).await?.into_iter().next() else { continue };
            let accept = wd
                .find_in(&item, r#"[data-testid="accept-explanation"]"#)
                .await
                .context("the cancelled-title explanation offers no way to accept it (no divergence for it?)")?;
            wd.click(&accept).await?;
            // An empty reason is refused in the dialog itself.
            wd.click(&wd.wait_for_visible(r#"[data-testid="accept-explanation-confirm"]"#, UI_TIMEOUT).await?).await?;
            wd.wait_for_visible(r#"[data-testid="accept-explanation-dialog"] .field-error"#, UI_TIMEOUT).await?;
            let reason = wd.find(r#"[data-testid="accept-reason"]"#).await?;
            wd.send_keys(&reason, "Título cancelado e refeito no mês seguinte, conferido com o cliente").await?;
            wd.click(&wd.find(r#"[data-testid="accept-explanation-confirm"]"#).await?).await?;
            wd.wait_gone(r#"[data-testid="accept-explanation-dialog"]"#, UI_TIMEOUT).await?;
            wd.wait_for_visible(r#"[data-testid="billing-detail"] [data-testid="explanation-accepted"]"#, UI_TIMEOUT)
                .await?;
            accepted = true;
            break;
        }
        ensure!(accepted, "no unbilled client's cancelled-title explanation could be accepted");
        app.screenshot("contracts-pt-BR-explanation-accepted").await?;

        // Export the month to Excel from the window and read the file back: one row per client of the
        // filter shown, the money as numbers.
        wd.click(&wd.wait_for(r#"[data-testid="billing-export-xlsx"]"#, UI_TIMEOUT).await?).await?;
        let notice = wd.wait_for(r#"[data-testid="billing-exported"]"#, UI_TIMEOUT).await?;
        let path = wd.text(&wd.find_in(&notice, ".mono").await?).await?;
        ensure!(path.trim().ends_with(".xlsx"), "the notice names {path:?}");
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut book: Xlsx<_> = open_workbook(path.trim()).with_context(|| format!("opening {path}"))?;
        let sheet = book.worksheet_range(&format!("Billing {month}"))?;
        let rows = sheet.height() - 1;
        ensure!(rows == unbilled || rows == count, "the workbook has {rows} clients; {unbilled} shown of {count}");
        let typed = (1..sheet.height()).all(|r| matches!(sheet.get((r, 4)), Some(Data::Float(_))));
        ensure!(typed, "the contracted amounts are not numbers: {:?}", sheet.get((1, 4)));
        Ok(())
    }
    .await;
    app.finish(res).await
}
