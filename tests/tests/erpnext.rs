//! The ERPNext inter-company transfer run from the form in the real window, against the test's
//! own two ERPNext simulators, checked afterwards through the sites' REST API.
//! Run with `cargo xtask test` (or `cargo xtask session --xvfb -- cargo test -p backoffice-e2e --test erpnext`).

use anyhow::{anyhow, ensure, Context, Result};
use backoffice_e2e::ui_erp::{sel, TransferForm, RUN_TIMEOUT};
use backoffice_e2e::{start_sim, App, AppOptions, NewConnection};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use serde_json::{json, Value};

fn erpnext_connection(name: &str, base_url: &str) -> NewConnection {
    let creds = SimCredentials::default();
    NewConnection {
        name: name.into(),
        kind: "erpnext".into(),
        base_url: base_url.into(),
        key: creds.erpnext_api_key,
        secret: creds.erpnext_api_secret,
        timezone: None,
    }
}

/// A site's REST API as any client sees it (token auth, `order_by` always given).
struct Site {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Site {
    fn new(base: &str) -> Result<Site> {
        let creds = SimCredentials::default();
        Ok(Site {
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?,
            base: base.trim_end_matches('/').to_string(),
            auth: format!("token {}:{}", creds.erpnext_api_key, creds.erpnext_api_secret),
        })
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .header("Authorization", &self.auth)
            .header("Accept", "application/json")
            .query(query)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.with_context(|| format!("GET {url}: reading the answer"))?;
        ensure!(status.is_success(), "GET {url} answered {status}: {body}");
        body.get("data").cloned().ok_or_else(|| anyhow!("GET {url}: no `data` in {body}"))
    }

    /// Every document of a DocType (name, docstatus and key), oldest first.
    async fn list(&self, doctype: &str) -> Result<Vec<Value>> {
        let v = self
            .get(
                &format!("/api/resource/{doctype}"),
                &[
                    ("fields", json!(["name", "docstatus", "custom_ext_ref"]).to_string()),
                    ("order_by", "creation asc".into()),
                    ("limit_page_length", "0".into()),
                ],
            )
            .await?;
        v.as_array().cloned().ok_or_else(|| anyhow!("the {doctype} list is not an array: {v}"))
    }

    /// The documents of a DocType whose key belongs to run `run_id` (`bo-<run id>:<step>`).
    async fn of_run(&self, doctype: &str, run_id: &str) -> Result<Vec<Value>> {
        let v = self
            .get(
                &format!("/api/resource/{doctype}"),
                &[
                    ("fields", json!(["name", "docstatus", "custom_ext_ref"]).to_string()),
                    ("filters", json!([["custom_ext_ref", "like", format!("bo-{run_id}:%")]]).to_string()),
                    ("order_by", "creation asc".into()),
                    ("limit_page_length", "0".into()),
                ],
            )
            .await?;
        v.as_array().cloned().ok_or_else(|| anyhow!("the {doctype} list is not an array: {v}"))
    }

    async fn doc(&self, doctype: &str, name: &str) -> Result<Value> {
        self.get(&format!("/api/resource/{doctype}/{name}"), &[]).await
    }
}

/// The one document of `doctype` on a site: exactly one exists, it is this run's and submitted.
async fn only_doc(site: &Site, label: &str, doctype: &str, run_id: &str) -> Result<Value> {
    let all = site.list(doctype).await?;
    let mine = site.of_run(doctype, run_id).await?;
    ensure!(all.len() == 1, "site {label} holds {} {doctype}s, expected exactly one: {all:?}", all.len());
    ensure!(mine.len() == 1, "site {label} holds {} {doctype}s of run {run_id}: {mine:?}", mine.len());
    let name = mine[0]["name"].as_str().context("a document without a name")?.to_string();
    let doc = site.doc(doctype, &name).await?;
    ensure!(doc["docstatus"] == 1, "{doctype} {name} on site {label} is not submitted: docstatus {}", doc["docstatus"]);
    Ok(doc)
}

fn serials_of(doc: &Value) -> Vec<String> {
    doc["items"][0]["serial_no"].as_str().unwrap_or("").lines().map(|s| s.trim().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_workflow_from_the_form() -> Result<()> {
    let sim = start_sim(SimConfig { scale: 2, ..SimConfig::default() }).await?;
    let app = App::launch("transfer_workflow_from_the_form", AppOptions::default()).await?;
    let res = run(&app, &sim).await;
    app.finish(res).await
}

async fn run(app: &App, sim: &SimHandle) -> Result<()> {
    let (site_a, site_b) = ("ERPNext Matriz E2E", "ERPNext Filial E2E");
    app.add_connection(&erpnext_connection(site_a, &sim.erpnext_a)).await?;
    app.add_connection(&erpnext_connection(site_b, &sim.erpnext_b)).await?;
    for (ctl, label) in [(sim.erpnext_a(), "A"), (sim.erpnext_b(), "B")] {
        for dt in ["Purchase Order", "Purchase Receipt", "Delivery Note"] {
            ensure!(ctl.count(dt) == 0, "site {label} starts with {dt}s");
        }
    }

    app.erpnext_new_transfer().await?;
    // The simulators start without the idempotency field: the app offers to create it on each.
    let offers = app.erpnext_pick_sites(site_a, site_b).await?;
    ensure!(offers == 2, "the app offered to create the idempotency field on {offers} sites, expected both");

    let serials = vec!["E2E-RTR-0001".to_string(), "E2E-RTR-0002".to_string()];
    let form = TransferForm {
        site_a: site_a.into(),
        site_b: site_b.into(),
        supplier: "PINES Supplier".into(),
        company_a: "Company A".into(),
        customer_b_on_a: "Company B".into(),
        warehouse_a: "Stores - A".into(),
        supplier_a_on_b: "Company A".into(),
        warehouse_b: "Stores - B".into(),
        company_b: "Company B".into(),
        item_code: "SKU-ROUTER-01".into(),
        qty: "2".into(),
        // pt-BR: dot for thousands, comma for decimals.
        rate: "1.234,56".into(),
        serials: serials.clone(),
    };
    app.erpnext_fill_transfer(&form).await?;
    let docs = app.erpnext_preview().await?;
    println!("preview: {docs:?}");
    let steps: Vec<&str> = docs.iter().map(|(s, _, _)| s.as_str()).collect();
    ensure!(steps == ["1", "2", "3", "4"], "the preview shows documents of steps {steps:?}");
    let sites: Vec<&str> = docs.iter().map(|(_, s, _)| s.as_str()).collect();
    ensure!(sites == ["A", "A", "A", "B"], "the preview puts the documents on sites {sites:?}");
    // The rate typed as 1.234,56 is 1234.56: the PO line of 2 units totals 2.469,12 in pt-BR.
    ensure!(
        docs[0].2.contains("1.234,56") && docs[0].2.contains("2.469,12"),
        "the purchase order preview does not show rate 1.234,56 and total 2.469,12: {:?}",
        docs[0].2
    );
    for (step, _, text) in &docs {
        if step != "1" {
            ensure!(
                serials.iter().all(|s| text.contains(s.as_str())),
                "the preview of step {step} does not list the serials: {text:?}"
            );
        }
    }
    ensure!(sim.erpnext_a().count("Purchase Order") == 0, "the preview created a document");
    app.scroll_into_view(sel::TR_ITEM, "center").await?;
    app.screenshot("erpnext-form-pt-BR").await?;
    app.scroll_into_view(sel::TR_PREVIEW_RESULT, "start").await?;
    app.screenshot("erpnext-preview-pt-BR").await?;

    let run_id = app.erpnext_start("transferência mensal E2E").await?;
    println!("run {run_id}");
    let (status, steps) = app.erpnext_wait_run(RUN_TIMEOUT).await?;
    println!("run {status}: {steps:?}");
    ensure!(status == "succeeded", "the run ended `{status}`: {steps:?}");
    let done: Vec<&str> = steps.iter().map(|(_, st, _)| st.as_str()).collect();
    ensure!(done == ["done"; 4], "the run's steps are {done:?}, expected four done");
    app.screenshot("erpnext-run-pt-BR").await?;

    // What the sites hold, through their REST API.
    let (a, b) = (Site::new(&sim.erpnext_a)?, Site::new(&sim.erpnext_b)?);
    let po = only_doc(&a, "A", "Purchase Order", &run_id).await?;
    let pr = only_doc(&a, "A", "Purchase Receipt", &run_id).await?;
    let dn = only_doc(&a, "A", "Delivery Note", &run_id).await?;
    let prb = only_doc(&b, "B", "Purchase Receipt", &run_id).await?;
    for dt in ["Purchase Order", "Delivery Note"] {
        let on_b = b.list(dt).await?;
        ensure!(on_b.is_empty(), "site B holds {dt}s: {on_b:?}");
    }
    ensure!(po["supplier"] == "PINES Supplier", "PO supplier {}", po["supplier"]);
    ensure!(po["items"][0]["item_code"] == "SKU-ROUTER-01", "PO item {}", po["items"][0]["item_code"]);
    ensure!(po["items"][0]["qty"].as_f64() == Some(2.0), "PO qty {}", po["items"][0]["qty"]);
    ensure!(po["items"][0]["rate"].as_f64() == Some(1234.56), "PO rate {} (typed 1.234,56)", po["items"][0]["rate"]);
    ensure!(pr["items"][0]["purchase_order"] == po["name"], "the PR is not linked to the PO: {}", pr["items"][0]);
    ensure!(dn["customer"] == "Company B", "DN customer {}", dn["customer"]);
    ensure!(prb["supplier"] == "Company A", "PR B supplier {}", prb["supplier"]);
    ensure!(
        prb["supplier_delivery_note"] == dn["name"],
        "PR B's supplier_delivery_note is {}, the DN is {}",
        prb["supplier_delivery_note"],
        dn["name"]
    );
    for (label, doc) in [("PR A", &pr), ("DN A", &dn), ("PR B", &prb)] {
        ensure!(serials_of(doc) == serials, "{label} carries serials {:?}, expected {serials:?}", serials_of(doc));
    }
    // The run view names the four documents it made.
    let names = [&po, &pr, &dn, &prb].map(|d| d["name"].as_str().unwrap_or("?").to_string());
    for ((step, _, doc_text), name) in steps.iter().zip(names.iter()) {
        ensure!(doc_text.contains(name.as_str()), "step {step} shows {doc_text:?}, not document {name}");
    }

    // The runs list shows the run, succeeded.
    let tab = app.wd.wait_for(sel::ERP_TAB_RUNS, backoffice_e2e::ui::UI_TIMEOUT).await?;
    app.wd.click(&tab).await?;
    let row_css = format!("{}[data-status=\"succeeded\"]", sel::ERP_RUN_ROW);
    app.wd
        .wait_for(&row_css, backoffice_e2e::ui::UI_TIMEOUT)
        .await
        .context("the runs list does not show a succeeded run")?;
    let rows = app.wd.find_all(sel::ERP_RUN_ROW).await?;
    ensure!(rows.len() == 1, "the runs list shows {} runs", rows.len());
    Ok(())
}
