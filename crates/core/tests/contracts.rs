//! Contracts and billing end to end: the Omie simulator (its own HTTP server on loopback) plants a
//! service company's monthly billing; BackOffice syncs it into a real SQLite file, imports the
//! contract book from a spreadsheet (with bad rows), reconciles each case, turns the gaps into
//! divergences, records an accepted explanation, and exports the month.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backoffice_core::model::{ConnectionKind, Credentials, Job, JobStatus};
use backoffice_core::ops::contracts::{ContractInput, ReconcileQuery};
use backoffice_core::ops::divergences::{Decision, DivergenceFilter, SessionParams};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::sync::SyncOptions;
use backoffice_core::{Core, Paths};
use backoffice_sim::omie::data::Kind;
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use chrono::Datelike;

struct Env {
    dir: tempfile::TempDir,
    core: Arc<Core>,
    conn_id: String,
    sim: SimHandle,
}

async fn setup() -> Env {
    let sim = backoffice_sim::start(SimConfig { scale: 50, ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core =
        Core::open(Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") }, secrets.clone()).unwrap();
    let conn = core.connections().ensure_headless("Serviços SA", ConnectionKind::Omie, &sim.omie).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.omie_app_key, secret: c.omie_app_secret });
    let env = Env { dir, core, conn_id: conn.id, sim };
    let job = env.core.sync_start(&env.conn_id, SyncOptions::default()).unwrap();
    let job = wait(&env.core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    env
}

async fn wait(core: &Arc<Core>, job: Job) -> Job {
    for _ in 0..2400 {
        let j = core.jobs.get(&job.id).unwrap();
        if !j.status.is_active() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {} did not finish", job.kind);
}

/// The simulator's contract book as a Brazilian spreadsheet would hold it (semicolons, 1.234,56,
/// dd/mm/yyyy), followed by `extra` lines.
fn book_csv(env: &Env, extra: &[&str]) -> std::path::PathBuf {
    let mut out =
        String::from("CNPJ;Descrição;Valor mensal;Início;Dia de faturamento;Mês de reajuste;Reajuste;Índice\n");
    for (e, doc) in env.sim.omie().contract_book() {
        let (int, frac) = e.mrr.split_once('.').unwrap();
        let int: u64 = int.parse().unwrap();
        let br = if int >= 1000 { format!("{}.{:03},{frac}", int / 1000, int % 1000) } else { format!("{int},{frac}") };
        let (rm, rp, idx) = match &e.readjust {
            Some((m, p)) => (m.to_string(), p.clone(), "IGP-M".to_string()),
            None => (String::new(), String::new(), String::new()),
        };
        out.push_str(&format!(
            "{doc};{};{br};{};{};{rm};{rp};{idx}\n",
            e.description,
            e.start.format("%d/%m/%Y"),
            e.billing_day
        ));
    }
    for l in extra {
        out.push_str(l);
        out.push('\n');
    }
    let path = env.dir.path().join("contratos.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn month_back(k: i32) -> String {
    // The simulator's months are Brazilian local months (UTC−3).
    let today = (chrono::Utc::now() - chrono::Duration::hours(3)).date_naive();
    let idx = today.year() * 12 + today.month0() as i32 - k;
    format!("{:04}-{:02}", idx.div_euclid(12), idx.rem_euclid(12) + 1)
}

fn code(env: &Env, idx: u64) -> String {
    env.sim.omie().id_of(Kind::Client, idx).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contract_book_is_imported_reconciled_and_its_gaps_reviewed() {
    let env = setup().await;
    let core = &env.core;
    let book = env.sim.omie().contract_book();
    assert_eq!(book.len(), 10);
    let first_doc = book[0].1.clone();
    let bad = [
        // Check digits wrong (last digit changed).
        "12.345.678/0001-00;Consultoria;1.000,00;01/01/2026;10;;;",
        // A valid CNPJ no client of this company has.
        "11.222.333/0001-81;Consultoria;1.000,00;01/01/2026;10;;;",
        &format!("{first_doc};Extra negativo;-10,00;01/01/2026;10;;;"),
        &format!("{first_doc};Data ruim;100,00;31/02/2026;10;;;"),
        // The same client, description and start as the first row.
        &format!("{first_doc};{};4.800,00;{};5;;;", book[0].0.description, book[0].0.start.format("%d/%m/%Y")),
    ];
    let file = book_csv(&env, &bad);

    // The preview says row by row what would happen, and writes nothing.
    let p = core.preview_contracts_import(&file, None).unwrap();
    assert_eq!((p.create, p.update, p.unchanged, p.refused), (10, 0, 0, 5), "{:#?}", p.rows);
    let keys: Vec<&str> = p.rows.iter().filter(|r| r.action == "refuse").map(|r| r.problems[0].key.as_str()).collect();
    assert_eq!(
        keys,
        ["client_document_invalid", "client_unknown", "mrr_negative", "date_invalid", "duplicate_in_file"]
    );
    assert_eq!(p.rows[10].line, 12, "lines are numbered as the user's editor shows them (header = 1)");
    assert!(core.contracts(None).unwrap().is_empty());
    // Applying with refused rows imports nothing ...
    let e = core.import_contracts(&file, None, false).unwrap_err().to_string();
    assert!(e.contains("nothing was imported") && e.contains("12"), "{e}");
    assert!(core.contracts(None).unwrap().is_empty());
    // ... unless the user chooses to import the good rows only: one transaction.
    let p = core.import_contracts(&file, None, true).unwrap();
    assert!(p.applied && p.create == 10);
    let contracts = core.contracts(None).unwrap();
    assert_eq!(contracts.len(), 10);
    let c9 = contracts.iter().find(|c| c.client_code == code(&env, 9)).unwrap();
    assert_eq!(
        (c9.mrr.as_str(), c9.readjust_percent.as_deref(), c9.readjust_index.as_deref()),
        ("2000.00", Some("8"), Some("IGP-M"))
    );
    // The same file again changes nothing.
    let p = core.preview_contracts_import(&file, None).unwrap();
    assert_eq!((p.create, p.update, p.unchanged), (0, 0, 10));

    // Last month: every case.
    let m1 = core.reconcile_billing(&ReconcileQuery { month: Some(month_back(1)), ..Default::default() }).unwrap();
    let by: BTreeMap<String, _> = m1.rows.iter().map(|r| (r.client.clone(), r.clone())).collect();
    let verdict = |i: u64| by.get(&code(&env, i)).map(|r| r.verdict.clone()).unwrap_or_default();
    let hints = |i: u64| {
        by.get(&code(&env, i))
            .map(|r| r.explanations.iter().map(|e| e.key.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(verdict(0), "within");
    assert_eq!(verdict(1), "within", "R$ 40,00 short is within R$ 50,00");
    assert_eq!(by[&code(&env, 1)].difference, "-40.00");
    assert_eq!(verdict(2), "above");
    assert_eq!(verdict(3), "below");
    assert_eq!(verdict(4), "no_billing");
    assert!(hints(4).contains(&"cancelled_title".to_string()), "{:?}", hints(4));
    assert_eq!(verdict(5), "above");
    assert!(hints(5).contains(&"one_off".to_string()), "{:?}", hints(5));
    assert_eq!(verdict(6), "above");
    assert!(hints(6).contains(&"neighbour_month".to_string()), "{:?}", hints(6));
    assert_eq!(verdict(7), "no_billing");
    assert!(hints(7).contains(&"group_document".to_string()), "{:?}", hints(7));
    assert_eq!(verdict(10), "no_contract");
    assert!(hints(10).contains(&"group_document".to_string()), "{:?}", hints(10));
    assert_eq!(verdict(8), "within");
    // The titles behind a figure, cancelled ones shown but not counted.
    let t4 = &by[&code(&env, 4)].titles;
    assert_eq!(t4.len(), 1);
    assert_eq!((t4[0].status.as_str(), t4[0].counted_as.as_str()), ("CANCELADO", "cancelled"));
    assert_eq!(m1.totals.verdicts.get("no_contract"), Some(&1));
    assert!(!m1.stale && m1.data_as_of.is_some());
    // Other generated clients are billed without contracts too: they are listed as such.
    assert!(m1.rows.iter().all(|r| r.verdict != "no_contract" || r.contracts.is_empty()));

    // Two months ago: the readjustment not billed, the prorated start three months ago.
    let m2 = core
        .reconcile_billing(&ReconcileQuery {
            month: Some(month_back(2)),
            client: Some(book[9].1.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(m2.rows.len(), 1);
    assert_eq!(
        (m2.rows[0].contracted.as_str(), m2.rows[0].billed.as_str(), m2.rows[0].verdict.as_str()),
        ("2160.00", "2000.00", "below")
    );
    assert!(m2.rows[0].explanations.iter().any(|e| e.key == "readjustment_not_billed"));
    let m3 = core
        .reconcile_billing(&ReconcileQuery {
            month: Some(month_back(3)),
            client: Some(code(&env, 8)),
            ..Default::default()
        })
        .unwrap();
    let r8 = &m3.rows[0];
    assert!(r8.contracts[0].prorated && r8.verdict == "within", "{r8:?}");
    assert_eq!(r8.contracted, r8.billed);
    // The 12-month strip of a client.
    let strip = core.billing_strip(None, &code(&env, 2), Some(&month_back(1)), 12).unwrap();
    assert_eq!(strip.len(), 12);
    assert_eq!(strip[11].verdict, "above");
    assert!(strip[..11].iter().all(|m| m.verdict == "within"), "{strip:?}");

    // The divergence check: last three closed months, each gap once.
    let job = core
        .start_divergence_session(SessionParams { rules: vec!["billing_vs_contract".into()], ..Default::default() })
        .unwrap();
    let job = wait(core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let page = core
        .divergences(&DivergenceFilter {
            rule_ids: vec!["billing_vs_contract".into()],
            statuses: vec!["open".into()],
            ..Default::default()
        })
        .unwrap();
    let found: Vec<(String, String)> =
        page.items.iter().map(|d| (d.facts["client_key"].clone(), d.facts["month"].clone())).collect();
    let expect = |i: u64, k: i32| (code(&env, i), month_back(k));
    for want in [
        expect(2, 1),
        expect(3, 1),
        expect(4, 1),
        expect(5, 1),
        expect(6, 1),
        expect(6, 2),
        expect(7, 1),
        expect(7, 3),
        expect(9, 2),
        expect(10, 2),
    ] {
        assert!(found.contains(&want), "missing {want:?} in {found:?}");
    }
    assert!(!found.contains(&expect(0, 1)) && !found.contains(&expect(1, 1)) && !found.contains(&expect(8, 3)));
    // Every client-month the check looked at is kept (for BI tools), within tolerance or not, as
    // the month screen reconciles it; the divergent ones are exactly the findings.
    let kept: Vec<(String, String, String, String, String)> = {
        let db = rusqlite::Connection::open(env.dir.path().join("bo.db")).unwrap();
        let mut st = db
            .prepare("SELECT month, client, verdict, contracted, billed FROM billing_months ORDER BY month, client")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let screen = core.reconcile_billing(&ReconcileQuery { month: Some(month_back(1)), ..Default::default() }).unwrap();
    let mut want: Vec<_> = screen
        .rows
        .iter()
        .map(|r| (month_back(1), r.client.clone(), r.verdict.clone(), r.contracted.clone(), r.billed.clone()))
        .collect();
    want.sort();
    let last: Vec<_> = kept.iter().filter(|k| k.0 == month_back(1)).cloned().collect();
    assert_eq!(last, want);
    assert!(last.iter().any(|k| k.2 == "within"), "{last:?}");
    for k in 1..=3 {
        assert!(kept.iter().any(|m| m.0 == month_back(k)), "month {} is kept", month_back(k));
    }
    let mut divergent: Vec<(String, String)> = kept
        .iter()
        .filter(|m| !matches!(m.2.as_str(), "within" | "pending"))
        .map(|m| (m.1.clone(), m.0.clone()))
        .collect();
    let mut found_sorted = found.clone();
    divergent.sort();
    found_sorted.sort();
    assert_eq!(divergent, found_sorted);
    let d4 = page
        .items
        .iter()
        .find(|d| d.facts["client_key"] == code(&env, 4) && d.facts["month"] == month_back(1))
        .unwrap();
    assert_eq!(d4.facts["verdict"], "no_billing");
    assert!(d4.facts["explanations"].contains("cancelled_title"));
    assert_eq!(d4.amount.as_deref(), Some("2500.00"));

    // Accepting the explanation is a review decision with its reason, kept in the history.
    let r = core
        .decide_divergences(&Decision {
            ids: vec![d4.id.clone()],
            action: "accept_explanation".into(),
            reason: "cliente pediu cancelamento; nova NF em dezembro".into(),
            assignee: None,
            explanation: Some("cancelled_title".into()),
        })
        .unwrap();
    assert_eq!(r.changed, std::slice::from_ref(&d4.id));
    let detail = core.divergence(&d4.id).unwrap();
    assert_eq!(detail.divergence.status, "rejected");
    let ev = detail.events.iter().find(|e| e.action == "explanation_accepted").unwrap();
    assert!(ev.note.starts_with("cancelled_title: cliente pediu"), "{}", ev.note);
    // A later check leaves it closed while nothing changed.
    let job = core
        .start_divergence_session(SessionParams {
            rules: vec!["billing_vs_contract".into()],
            force: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(wait(core, job).await.status, JobStatus::Succeeded);
    assert_eq!(core.divergence(&d4.id).unwrap().divergence.status, "rejected");

    // A contract's own tolerance: client 2's R$ 900,00 is within a tolerance of 30 %.
    let c2 = contracts.iter().find(|c| c.client_code == code(&env, 2)).unwrap();
    let saved = core
        .save_contract(&ContractInput {
            id: Some(c2.id.clone()),
            client: c2.client_document.clone(),
            description: c2.description.clone(),
            mrr: c2.mrr.clone(),
            start_date: c2.start_date.clone(),
            billing_day: c2.billing_day.map(|d| d.to_string()),
            tolerance_percent: Some("30".into()),
            reason: "acordado com o cliente".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(saved.version, 2);
    let m1 = core
        .reconcile_billing(&ReconcileQuery {
            month: Some(month_back(1)),
            client: Some(code(&env, 2)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(m1.rows[0].verdict, "within");
    assert_eq!(core.contract_history(&c2.id).unwrap()[0].reason, "acordado com o cliente");

    // The month as a spreadsheet: money as numbers.
    let out = env.dir.path().join("faturamento.xlsx");
    let n = core
        .export_reconciliation(&ReconcileQuery { month: Some(month_back(1)), ..Default::default() }, "xlsx", &out)
        .unwrap();
    assert!(n >= 11);
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<_> = range.rows().collect();
    assert_eq!(rows[0][4], Data::String("Contracted".into()));
    let r3 = rows.iter().find(|r| r[3] == Data::String(code(&env, 3))).unwrap();
    assert_eq!(
        (r3[4].clone(), r3[5].clone(), r3[8].clone()),
        (Data::Float(3500.0), Data::Float(2100.0), Data::String("below".into()))
    );

    // A whole period (long enough to be read in one pass over the table, its months shared among
    // the cores) says of every client-month what the months one by one say, in month order.
    let (from, to) = (month_back(8), month_back(1));
    let period = core.reconcile_billing_range(None, &from, &to, &[]).unwrap();
    let figures = |r: &backoffice_core::ops::contracts::ClientMonth| {
        (r.month.clone(), r.client.clone(), r.contracted.clone(), r.billed.clone(), r.verdict.clone())
    };
    let mut one_by_one = vec![];
    for k in (1..=8).rev() {
        let m = core.reconcile_billing(&ReconcileQuery { month: Some(month_back(k)), ..Default::default() }).unwrap();
        let mut rows: Vec<_> = m.rows.iter().map(figures).collect();
        rows.sort_by(|a, b| a.1.cmp(&b.1));
        one_by_one.extend(rows);
    }
    assert!(one_by_one.len() > 8 * 5, "{} client-months", one_by_one.len());
    assert_eq!(period.iter().map(figures).collect::<Vec<_>>(), one_by_one);
    let below = core.reconcile_billing_range(None, &from, &to, &["below".to_string()]).unwrap();
    assert!(!below.is_empty() && below.iter().all(|r| r.verdict == "below"));
    // ... and exports whole: one row per client-month.
    let out = env.dir.path().join("periodo.csv");
    assert_eq!(core.export_client_months(&period, "Billing", "csv", &out).unwrap(), period.len());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), period.len() + 1);
    let e = core.reconcile_billing_range(None, &to, &from, &[]).unwrap_err().to_string();
    assert!(e.contains("before the first"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_xlsx_book_with_real_dates_and_numbers_imports_and_a_bad_file_is_named() {
    let env = setup().await;
    let core = &env.core;
    let book = env.sim.omie().contract_book();
    let path = env.dir.path().join("contratos.xlsx");
    {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        for (c, h) in
            ["Cliente", "Descripción", "Monto mensual", "Fecha de inicio", "Estado", "Vendedor"].iter().enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (i, (e, doc)) in book.iter().take(3).enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, doc).unwrap();
            ws.write_string(r, 1, &e.description).unwrap();
            ws.write_number(r, 2, e.mrr.parse::<f64>().unwrap()).unwrap();
            let d = ExcelDateTime::from_ymd(e.start.year() as u16, e.start.month() as u8, e.start.day() as u8).unwrap();
            ws.write_datetime_with_format(r, 3, &d, &date).unwrap();
            ws.write_string(r, 4, "Activo").unwrap();
            ws.write_string(r, 5, "Ana").unwrap();
        }
        wb.save(&path).unwrap();
    }
    let p = core.import_contracts(&path, Some(&env.conn_id), false).unwrap();
    assert_eq!((p.create, p.refused), (3, 0), "{:#?}", p.rows);
    assert_eq!(p.ignored_columns, ["Vendedor"]);
    let list = core.contracts(None).unwrap();
    let c = list.iter().find(|c| c.client_code == code(&env, 0)).unwrap();
    assert_eq!(
        (c.mrr.as_str(), c.start_date.clone(), c.status.as_str()),
        ("4800", book[0].0.start.to_string(), "active")
    );

    // A file without the columns it needs says which, and nothing is written.
    let bad = env.dir.path().join("sem-colunas.csv");
    std::fs::write(&bad, "Nome,Valor\nACME,10\n").unwrap();
    let e = core.preview_contracts_import(&bad, None).unwrap_err().to_string();
    assert!(e.contains("client") && e.contains("start_date") && e.contains("description"), "{e}");
    // A form error names the field and the fix.
    let e = core
        .save_contract(&ContractInput {
            client: "12.345.678/0001-00".into(),
            description: "X".into(),
            mrr: "abc".into(),
            start_date: "2026-01-01".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("client:") && e.contains("check digits") && e.contains("\"abc\" is not an amount"), "{e}");
    assert_eq!(core.contracts(None).unwrap().len(), 3);
}

/// The same reconciliation on a Contífico company: clients by RUC (or cédula), its sales invoices
/// less its credit notes, in dollars; the figures are the plain sums of the raw documents.
#[tokio::test(flavor = "multi_thread")]
async fn a_contifico_company_is_reconciled_per_ruc_in_dollars() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let sim = backoffice_sim::start(SimConfig { scale: 300, ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core =
        Core::open(Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") }, secrets.clone()).unwrap();
    let conn = core.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    let resources = vec!["personas".to_string(), "documentos_venta".to_string()];
    let job = core.sync_start(&conn.id, SyncOptions { resources, ..Default::default() }).unwrap();
    let job = wait(&core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);

    // The client-month with the most documents, and its amounts, straight from the raw JSON.
    let (ruc, month, amounts): (String, String, String) = core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT coalesce(nullif(json_extract(raw, '$.cliente.ruc'), ''), json_extract(raw, '$.cliente.cedula')) AS who,
                        substr(fecha_emision, 1, 7) AS m,
                        group_concat(CASE WHEN json_extract(raw, '$.tipo_documento') = 'NCT' THEN '-' ELSE '' END || CAST(json_extract(raw, '$.total') AS TEXT))
                   FROM contifico_documento_venta
                  WHERE deleted_at IS NULL AND json_extract(raw, '$.estado') <> 'A' AND json_extract(raw, '$.tipo_documento') IN ('FAC', 'NCT')
                    AND who IS NOT NULL AND who <> ''
                  GROUP BY who, m ORDER BY count(*) DESC, who LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .unwrap();
    let billed: Decimal = amounts.split(',').map(|a| Decimal::from_str(a).unwrap()).sum();
    // A client with no sales that month.
    let idle: String = core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT ruc FROM contifico_persona p WHERE deleted_at IS NULL AND coalesce(ruc, '') <> '' AND ruc <> ?1
                   AND NOT EXISTS (SELECT 1 FROM contifico_documento_venta d WHERE d.deleted_at IS NULL AND substr(d.fecha_emision, 1, 7) = ?2
                                    AND json_extract(d.raw, '$.cliente.ruc') = p.ruc)
                  ORDER BY ruc LIMIT 1",
                [&ruc, &month],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let contract = |client: &str, mrr: String| ContractInput {
        connection_id: Some(conn.id.clone()),
        client: client.to_string(),
        description: "Servicio mensual".into(),
        mrr,
        currency: Some("USD".into()),
        start_date: "2020-01-01".into(),
        billing_day: Some("5".into()),
        reason: "contrato firmado".into(),
        ..Default::default()
    };
    core.save_contract(&contract(&ruc, billed.to_string())).unwrap();
    core.save_contract(&contract(&idle, "250.00".into())).unwrap();

    let rec = core
        .reconcile_billing(&ReconcileQuery {
            month: Some(month.clone()),
            connection_id: Some(conn.id.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rec.currency, "USD");
    let row =
        |client: &str| rec.rows.iter().find(|r| r.client == client).unwrap_or_else(|| panic!("{client} in {month}"));
    let billed_row = row(&ruc);
    assert_eq!(Decimal::from_str(&billed_row.billed).unwrap(), billed, "{billed_row:?}");
    assert_eq!(Decimal::from_str(&billed_row.contracted).unwrap(), billed);
    assert_eq!((billed_row.verdict.as_str(), billed_row.currency.as_str()), ("within", "USD"));
    assert_eq!(row(&idle).verdict, "no_billing");
    assert!(rec.rows.iter().any(|r| r.verdict == "no_contract"), "clients billed without a contract are listed too");
    // Every billed client-month of that month adds up to the plain sum of its documents.
    let plain_total: String = core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT group_concat(CASE WHEN json_extract(raw, '$.tipo_documento') = 'NCT' THEN '-' ELSE '' END || CAST(json_extract(raw, '$.total') AS TEXT))
                   FROM contifico_documento_venta WHERE deleted_at IS NULL AND json_extract(raw, '$.estado') <> 'A'
                    AND json_extract(raw, '$.tipo_documento') IN ('FAC', 'NCT') AND substr(fecha_emision, 1, 7) = ?1",
                [&month],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let plain: Decimal = plain_total.split(',').map(|a| Decimal::from_str(a).unwrap()).sum();
    assert_eq!(Decimal::from_str(&rec.totals.billed).unwrap(), plain);
}
