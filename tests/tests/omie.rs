//! Omie's two flows end to end in the real window, against the test's own Omie simulator:
//! RF-001 (copy the attachments of an NF-e receipt to its payable, exactly once) and RF-002 (close
//! a purchase order through the configured call, verified by reading the order again).
//! Run with `cargo xtask test` (or `cargo xtask session --xvfb -- cargo test -p backoffice-e2e --test omie`).

use anyhow::{bail, ensure, Context, Result};
use backoffice_e2e::ui_erp::{sel, OMIE_JOB_TIMEOUT};
use backoffice_e2e::{start_sim, App, AppOptions, NewConnection};
use backoffice_sim::omie::{Kind, PoCloseRule};
use backoffice_sim::{SimConfig, SimHandle};

/// Attachments of a payable, as the simulator holds them: `(name, content)`.
fn payable_files(sim: &SimHandle, payable: u64) -> Vec<(String, Vec<u8>)> {
    sim.omie().attachments("conta-pagar", payable).into_iter().map(|a| (a.name, a.content)).collect()
}

/// Every attachment of the receipt is on the payable exactly once (same bytes), and nothing else is.
fn assert_each_once(sim: &SimHandle, receipt: u64, payable: u64) -> Result<()> {
    let src = sim.omie().attachments("com-recebimento", receipt);
    let dest = payable_files(sim, payable);
    let names: Vec<&str> = dest.iter().map(|(n, _)| n.as_str()).collect();
    ensure!(
        dest.len() == src.len(),
        "payable {payable} holds {} attachments {names:?}; the receipt has {}",
        dest.len(),
        src.len()
    );
    for s in &src {
        let copies = dest.iter().filter(|(_, c)| *c == s.content).count();
        ensure!(copies == 1, "\"{}\" is on payable {payable} {copies} times (files there: {names:?})", s.name);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rf001_attachment_transfer_in_the_window() -> Result<()> {
    let sim = start_sim(SimConfig { scale: 30, ..SimConfig::default() }).await?;
    // Receipt 2 of the seed carries two attachments, one named with two dots (Omie refuses such
    // names, so the app renames it); its first parcel is a payable with no attachment yet.
    let o = sim.omie();
    let receipt = o.id_of(Kind::Receipt, 2);
    let payable = *o.receipt_payables(2).first().context("receipt 2 generated no payable")?;
    let src = o.attachments("com-recebimento", receipt);
    ensure!(src.len() == 2, "the seed changed: receipt 2 has {} attachments", src.len());
    ensure!(o.attachments("conta-pagar", payable).is_empty(), "payable {payable} already has attachments");

    let app = App::launch("rf001_attachment_transfer_in_the_window", AppOptions::default()).await?;
    let name = "Omie Matriz E2E";
    let res = async {
        app.add_connection(&NewConnection::omie(name, &sim)).await?;
        app.omie_tab("attachments").await?;

        // First transfer: both files copied.
        let before = app
            .omie_start_transfer("com-recebimento", &receipt.to_string(), "conta-pagar", &payable.to_string())
            .await?;
        let first = app
            .wait_omie_activity(sel::ATT_ACTIVITY, before.as_deref(), sel::ATT_TRANSFER_ERROR, OMIE_JOB_TIMEOUT)
            .await?;
        println!("first transfer: {first:?}");
        ensure!(first.status == "succeeded", "the transfer ended `{}`: {} ({})", first.status, first.error, first.text);
        ensure!(first.kind == "omie_attachment_transfer", "the activity box shows a `{}` job", first.kind);
        ensure!(first.count("transferred") == 2, "the job reports {:?}, expected 2 transferred", first.counts);
        let row = app.wait_log_row(sel::ATT_TRANSFER_ROW, "succeeded").await?;
        let rows = app.log_rows(sel::ATT_TRANSFER_ROW).await?;
        ensure!(rows.len() == 1, "the transfer log shows {} rows: {:?}", rows.len(), rows_text(&rows));
        ensure!(
            row.text.contains(&receipt.to_string()) && row.text.contains(&payable.to_string()),
            "the transfer row does not name receipt {receipt} and payable {payable}: {:?}",
            row.text
        );
        assert_each_once(&sim, receipt, payable)?;
        let mut names: Vec<String> = payable_files(&sim, payable).into_iter().map(|(n, _)| n).collect();
        names.sort();
        ensure!(
            names == ["NF-10002.pdf", "boleto_10002.pdf"],
            "payable {payable} holds {names:?}; the two-dot name should arrive as boleto_10002.pdf"
        );
        let map = wait_rows(&app, sel::ATT_MAP_ROW, 1).await?;
        ensure!(
            map.iter().any(|r| r.text.contains(&receipt.to_string())),
            "the integration map does not show receipt {receipt}: {:?}",
            rows_text(&map)
        );

        // Again: nothing new on the payable. The app keeps Omie's 60 s rule for identical calls,
        // so this job waits that window out before listing the attachments again.
        let before = app
            .omie_start_transfer("com-recebimento", &receipt.to_string(), "conta-pagar", &payable.to_string())
            .await?;
        let again = app
            .wait_omie_activity(sel::ATT_ACTIVITY, before.as_deref(), sel::ATT_TRANSFER_ERROR, OMIE_JOB_TIMEOUT)
            .await?;
        println!("second transfer: {again:?}");
        ensure!(again.status == "succeeded", "the repeated transfer ended `{}`: {}", again.status, again.error);
        ensure!(again.count("transferred") == 0, "the repeated transfer copied again: {:?}", again.counts);
        let skipped = again.count("already_transferred") + again.count("duplicates");
        ensure!(skipped == 2, "the repeated transfer should count both files as already there: {:?}", again.counts);
        assert_each_once(&sim, receipt, payable)?;
        let rows = app.log_rows(sel::ATT_TRANSFER_ROW).await?;
        ensure!(
            rows.len() == 1 && rows[0].status == "succeeded",
            "after the repeat the transfer log shows {:?}",
            rows_text(&rows)
        );
        app.scroll_into_view(&sel::tid(sel::ATT_ACTIVITY), "start").await?;
        app.screenshot("omie-attachments-pt-BR").await?;
        Ok(())
    }
    .await;
    app.finish(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rf002_close_purchase_order_in_the_window() -> Result<()> {
    let sim = start_sim(SimConfig { scale: 30, ..SimConfig::default() }).await?;
    let o = sim.omie();
    // This "account" closes orders with AlterarPedidoCompra + cStatus "Encerrado" (Omie documents
    // no closing call; the app must be told which one the account uses).
    o.set_po_close_rule(Some(PoCloseRule {
        service: "produtos/pedidocompra".into(),
        call: "AlterarPedidoCompra".into(),
        status_tag: "cStatus".into(),
        closes_with: "Encerrado".into(),
    }));
    // Orders 1000 and 1001 (indexes 0 and 1) are open in the seed.
    for idx in [0, 1] {
        ensure!(
            o.order_state(idx).1 == "pendente",
            "order {} is not open in the seed: {:?}",
            1000 + idx,
            o.order_state(idx)
        );
    }

    let app = App::launch("rf002_close_purchase_order_in_the_window", AppOptions::default()).await?;
    let name = "Omie Compras E2E";
    let res = async {
        app.add_connection(&NewConnection::omie(name, &sim)).await?;
        app.omie_tab("orders").await?;
        app.wd
            .wait_for(sel::PO_NOT_CONFIGURED, backoffice_e2e::ui::UI_TIMEOUT)
            .await
            .context("a new connection should say that no closing call is configured")?;

        // The same call in the app's settings.
        app.omie_save_po_config("AlterarPedidoCompra", "Encerrado").await?;
        app.wd.wait_gone(sel::PO_NOT_CONFIGURED, backoffice_e2e::ui::UI_TIMEOUT).await?;

        // Close order 1000: the call is made, the order read again, the closure logged.
        let before = app.omie_start_close("1000", Some("9021"), Some("77")).await?;
        let closed =
            app.wait_omie_activity(sel::PO_ACTIVITY, before.as_deref(), sel::PO_CLOSE_ERROR, OMIE_JOB_TIMEOUT).await?;
        println!("close 1000: {closed:?}");
        ensure!(
            closed.status == "succeeded",
            "closing order 1000 ended `{}`: {} ({})",
            closed.status,
            closed.error,
            closed.text
        );
        ensure!(closed.count("closed") == 1, "the job reports {:?}, expected 1 closed", closed.counts);
        let row = app.wait_log_row(&sel::closure_row("1000"), "succeeded").await?;
        println!("closure row 1000: {:?}", row.text);
        ensure!(row.text.contains("9021"), "the closure row does not show service invoice 9021: {:?}", row.text);
        ensure!(o.order_state(0).1 == "encerrado", "the simulator still has order 1000 as {:?}", o.order_state(0));

        // The negative case: a configured call that answers but does not close (this account
        // says "Encerrado", not "Fechado").
        app.omie_save_po_config("AlterarPedidoCompra", "Fechado").await?;
        let before = app.omie_start_close("1001", Some("9022"), None).await?;
        let refused =
            app.wait_omie_activity(sel::PO_ACTIVITY, before.as_deref(), sel::PO_CLOSE_ERROR, OMIE_JOB_TIMEOUT).await?;
        println!("close 1001 with the wrong status value: {refused:?}");
        ensure!(refused.status == "failed", "closing with a call that does not close ended `{}`", refused.status);
        ensure!(
            refused.error_code == "omie_po_not_closed",
            "the job's error has code {:?}, expected omie_po_not_closed: {}",
            refused.error_code,
            refused.error
        );
        ensure!(
            refused.error.contains("não o encerrou") && refused.error.contains("1001"),
            "the job's error does not say that the call did not close order 1001: {:?}",
            refused.error
        );
        let row = app.wait_log_row(&sel::closure_row("1001"), "failed").await?;
        println!("closure row 1001: {:?}", row.text);
        let cell = match app.wd.find_all_in(&row.row, sel::PO_CLOSURE_ERROR).await?.into_iter().next() {
            Some(c) => app.wd.attr(&c, "title").await?.unwrap_or_default(),
            None => bail!("the failed closure row of order 1001 shows no error: {:?}", row.text),
        };
        ensure!(
            cell.contains("não o encerrou") && cell.contains("1001"),
            "the closure row's error does not say, in Portuguese, that the call did not close order 1001: {cell:?}"
        );
        ensure!(
            !cell.contains("did not close"),
            "the closure log's error column is in English in the pt-BR window: {cell:?}"
        );
        ensure!(o.order_state(1).1 == "pendente", "order 1001 changed to {:?}", o.order_state(1));

        // Order 1000 again: already closed, reported as such, nothing called. (The app waits out
        // Omie's 60 s rule before consulting the order again.)
        let state_before = o.order_state(0);
        let calls_before = o.limit_stats().admitted;
        let before = app.omie_start_close("1000", Some("9021"), Some("77")).await?;
        let again =
            app.wait_omie_activity(sel::PO_ACTIVITY, before.as_deref(), sel::PO_CLOSE_ERROR, OMIE_JOB_TIMEOUT).await?;
        println!("close 1000 again: {again:?}");
        ensure!(again.status == "succeeded", "closing a closed order ended `{}`: {}", again.status, again.error);
        ensure!(
            again.count("already_closed") == 1 && again.count("closed") == 0,
            "closing a closed order reports {:?}, expected 1 already closed",
            again.counts
        );
        let calls = o.limit_stats().admitted - calls_before;
        ensure!(
            calls <= 3,
            "closing an already closed order made {calls} calls; only the consult and the search are needed"
        );
        ensure!(o.order_state(0) == state_before, "order 1000 changed: {state_before:?} → {:?}", o.order_state(0));
        // The log reloads when the job ends: wait for the row to say what happened.
        let css = sel::closure_row("1000");
        let mut last = String::new();
        let said = backoffice_e2e::webdriver::wait_until(
            "the closure row of order 1000 to say it was already closed",
            backoffice_e2e::ui::UI_TIMEOUT,
            async || {
                let rows = app.log_rows(&css).await?;
                last = format!("{:?}", rows_text(&rows));
                Ok(rows.iter().any(|r| r.status == "succeeded" && r.text.contains("Já estava encerrado")).then_some(()))
            },
        )
        .await;
        said.with_context(|| format!("the row shows {last}"))?;
        let rows = app.log_rows(sel::PO_CLOSURE_ROW).await?;
        ensure!(rows.len() == 2, "the closure log shows {:?}, expected one row per order", rows_text(&rows));
        app.scroll_into_view(&sel::tid(sel::PO_ACTIVITY), "start").await?;
        app.screenshot("omie-orders-pt-BR").await?;
        Ok(())
    }
    .await;
    app.finish(res).await
}

fn rows_text(rows: &[backoffice_e2e::ui_erp::LogRow]) -> Vec<(String, String)> {
    rows.iter().map(|r| (r.status.clone(), r.text.clone())).collect()
}

/// Waits until at least `n` rows match `css`.
async fn wait_rows(app: &App, css: &str, n: usize) -> Result<Vec<backoffice_e2e::ui_erp::LogRow>> {
    backoffice_e2e::webdriver::wait_until(&format!("{n} `{css}` rows"), backoffice_e2e::ui::UI_TIMEOUT, async || {
        let rows = app.log_rows(css).await?;
        Ok((rows.len() >= n).then_some(rows))
    })
    .await
}
