//! The Contífico page in the real app: Sync now, the summary against what the simulator serves,
//! the browser's full-text search, and the sync history. Run with `cargo xtask test`.

use anyhow::{bail, ensure, Context, Result};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, start_sim, App, AppOptions, NewConnection};
use backoffice_sim::{Resource, SimConfig, SimCredentials};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contifico_sync_now_shows_counts() -> Result<()> {
    // 120 records per resource: not a round number, and more than one page of the browser would
    // hold if the page size were small.
    let sim = start_sim(SimConfig { scale: 120, ..SimConfig::default() }).await?;
    let creds = SimCredentials::default();
    let app = App::launch("contifico_sync_now_shows_counts", AppOptions::default()).await?;
    let name = "Contífico Guayaquil E2E";
    let res = async {
        app.add_connection(&NewConnection {
            name: name.into(),
            kind: "contifico".into(),
            base_url: sim.contifico.clone(),
            key: creds.contifico_api_key.clone(),
            secret: creds.contifico_pos_token.clone(),
            timezone: Some("America/Guayaquil".into()),
        })
        .await?;
        app.open_contifico(name).await?;
        ensure!(app.summary_records("personas").await? == 0, "a new connection already shows stored personas");

        let result = app.contifico_sync(&["personas", "productos"], Duration::from_secs(90)).await?;
        println!("sync result: job {} {} — {}", result.job_id, result.status, result.counts);
        ensure!(
            result.status == "succeeded",
            "the sync ended `{}` instead of `succeeded`: {} {}",
            result.status,
            result.error,
            result.counts
        );

        // The summary shows exactly what the simulator serves, for the two resources picked only.
        let personas = sim.contifico().live_count(Resource::Persona) as i64;
        let productos = sim.contifico().live_count(Resource::Producto) as i64;
        ensure!(personas > 0 && productos > 0, "the simulator serves no personas or productos");
        app.wait_summary_records("personas", personas).await?;
        app.wait_summary_records("productos", productos).await?;
        let marcas = app.summary_records("marcas").await?;
        ensure!(marcas == 0, "resource `marcas` was not picked but the summary shows {marcas} records");
        let total = (personas + productos).to_string();
        ensure!(
            result.counts.contains(&total),
            "the result line does not show the {total} records written: {:?}",
            result.counts
        );
        // The result and the summary under it.
        app.scroll_to(sel::SYNC_RESULT).await?;
        app.screenshot("contifico-pt-BR").await?;

        // Browse → personas: every record is there; a name prefix narrows the list to it.
        app.contifico_browse("personas").await?;
        let all = app.browse_total().await?;
        ensure!(all == personas, "the browser counts {all} personas, the simulator serves {personas}");
        let wd = &app.wd;
        let (first_id, first_name) =
            wait_until("a first persona row with a name", Duration::from_secs(20), async || {
                let Some(row) = wd.find_all(sel::BROWSE_ROW).await?.into_iter().next() else { return Ok(None) };
                let id = wd.attr(&row, "data-id").await?.unwrap_or_default();
                let cell = wd.find_in(&row, &sel::browse_cell("razon_social")).await?;
                let name = wd.text_content(&cell).await?;
                Ok((!id.is_empty() && !name.is_empty()).then_some((id, name)))
            })
            .await?;
        let prefix = name_prefix(&first_name)
            .with_context(|| format!("the first persona's name {first_name:?} has no word to search for"))?;
        println!("first persona: {first_id} {first_name:?}; searching {prefix:?}");
        let search = wd.wait_for(sel::BROWSE_SEARCH, Duration::from_secs(10)).await?;
        backoffice_e2e::ui::set_field(wd, &search, &prefix).await?;
        let narrowed =
            wait_until(&format!("the search {prefix:?} to narrow the list"), Duration::from_secs(20), async || {
                let el = wd.find(sel::BROWSE_TOTAL).await?;
                let total: Option<i64> = wd.attr(&el, "data-total").await?.and_then(|v| v.parse().ok());
                Ok(total.filter(|t| *t < all))
            })
            .await?;
        ensure!(narrowed >= 1, "searching {prefix:?} found nothing, although {first_name:?} matches it");
        // The rows shown are the search result (no more than it counts) and include the persona.
        let mut shown = Vec::new();
        let found = wait_until("the search result's rows", Duration::from_secs(10), async || {
            shown = app.browse_row_ids().await?;
            Ok((!shown.is_empty() && shown.len() as i64 <= narrowed && shown.contains(&first_id)).then_some(()))
        })
        .await;
        if found.is_err() {
            bail!(
                "searching {prefix:?} ({narrowed} found) shows rows {shown:?}, not persona {first_id} ({first_name:?})"
            );
        }
        println!("search {prefix:?}: {narrowed} of {all} personas");
        app.screenshot("contifico-browse-pt-BR").await?;

        // History: the run is there, succeeded.
        app.contifico_tab("history").await?;
        wd.wait_for(sel::SYNC_HISTORY, Duration::from_secs(10)).await?;
        let runs = wait_until("a run in the sync history", Duration::from_secs(20), async || {
            let rows = wd.find_all(sel::SYNC_RUN).await?;
            let mut statuses = Vec::new();
            for r in &rows {
                statuses.push(wd.attr(r, "data-status").await?.unwrap_or_default());
            }
            Ok((!statuses.is_empty()).then_some(statuses))
        })
        .await?;
        if runs != ["succeeded"] {
            bail!("the sync history shows runs with statuses {runs:?}, expected the one succeeded run");
        }
        Ok(())
    }
    .await;
    app.finish(res).await
}

/// A search that the name matches by prefix: its words, the last one cut short
/// ("GARCIA LOPEZ JUAN" → "GARCIA LOPEZ JU").
fn name_prefix(name: &str) -> Option<String> {
    let mut words: Vec<String> =
        name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect();
    let last = words.pop()?;
    let cut: String = last.chars().take(last.chars().count().saturating_sub(2).max(1)).collect();
    words.push(cut);
    Some(words.join(" "))
}
