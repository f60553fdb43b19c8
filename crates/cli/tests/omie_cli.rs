//! `backoffice omie ...` and `backoffice sync omie` end to end: real processes, a real SQLite file,
//! the simulator over loopback. Includes a real crash between IncluirAnexo and the local commit.

use std::process::Command;
use std::time::Duration;

use backoffice_sim::omie::{Kind, OmieLimits, PoCloseRule};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use serde_json::Value;

fn cli(db: &std::path::Path, sim: &SimHandle) -> Command {
    let c = SimCredentials::default();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backoffice"));
    cmd.arg("--db")
        .arg(db)
        .env("BACKOFFICE_LOG_DIR", db.parent().unwrap().join("logs"))
        .env("OMIE_APP_KEY", c.omie_app_key)
        .env("OMIE_APP_SECRET", c.omie_app_secret)
        .env("OMIE_API_BASE_URL", &sim.omie)
        .env_remove("OMIE_PAGE_SIZE")
        .env_remove("OMIE_PO_CLOSE_CALL")
        .env_remove("OMIE_PO_CLOSE_ENDPOINT")
        .env_remove("OMIE_PO_CLOSE_STATUS")
        .env_remove("OMIE_PO_CLOSE_TEMPLATE");
    cmd
}

async fn sim() -> SimHandle {
    let sim = backoffice_sim::start(SimConfig { scale: 30, ..Default::default() }).await.unwrap();
    // Each process repeats a few identical calls within seconds: a 1 s redundancy window (the
    // client still meets Client-6 and waits what the simulator names).
    sim.omie().set_limits(OmieLimits { redundant_window: Duration::from_secs(1), ..Default::default() });
    sim
}

fn json_out(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: stdout {} stderr {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_between_include_and_commit_leaves_no_duplicate_after_restart() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let o = sim.omie();
    let rid = o.id_of(Kind::Receipt, 2).to_string();
    let pid = o.receipt_payables(2)[0];
    let args = [
        "--json",
        "omie",
        "transfer-attachments",
        "--from-table",
        "com-recebimento",
        "--from-id",
        &rid,
        "--to-table",
        "conta-pagar",
    ];
    let pid_s = pid.to_string();

    // Omie keeps the first file but holds its answer; the process is killed (SIGKILL) in between,
    // before it can commit anything locally.
    o.hold_answers("IncluirAnexo", Duration::from_secs(600), 1);
    let mut child = cli(&db, &sim)
        .args(args)
        .args(["--to-id", &pid_s])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reached = false;
    for _ in 0..2400 {
        if !o.attachments("conta-pagar", pid).is_empty() {
            reached = true;
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the CLI ended before Omie kept the file");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(reached, "the first file never reached Omie");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the process was killed");
    o.clear_holds();
    assert_eq!(o.attachments("conta-pagar", pid).len(), 1, "one file reached Omie before the kill");

    // Restart: the run finds its own copy by cCodIntAnexo and copies only the other file.
    let out = cli(&db, &sim).args(args).args(["--to-id", &pid_s]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = json_out(&out);
    assert_eq!(job["status"], "succeeded");
    let dest = o.attachments("conta-pagar", pid);
    assert_eq!(dest.len(), 2, "no duplicate: {:?}", dest.iter().map(|a| &a.name).collect::<Vec<_>>());
    let codes: std::collections::BTreeSet<&str> = dest.iter().map(|a| a.cod_int.as_str()).collect();
    assert_eq!(codes.len(), 2);

    let out = cli(&db, &sim).args(["--json", "omie", "transfers"]).output().unwrap();
    let log = json_out(&out);
    let t = &log[0];
    assert_eq!(
        (t["status"].as_str(), t["transferred"].as_u64(), t["duplicates"].as_u64()),
        (Some("succeeded"), Some(1), Some(1))
    );
    assert_eq!(t["attempts"], 2);
    // The crashed job is not left running.
    let out = cli(&db, &sim).args(["--json", "jobs", "list"]).output().unwrap();
    let jobs = json_out(&out);
    assert!(jobs.as_array().unwrap().iter().all(|j| j["status"] != "running"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_close_and_dry_runs_from_the_environment_with_json() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let o = sim.omie();

    let out =
        cli(&db, &sim).args(["--json", "sync", "omie", "--resources", "clientes", "pedidos_compra"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = json_out(&out);
    assert_eq!((job["kind"].as_str(), job["status"].as_str()), (Some("sync_omie"), Some("succeeded")));
    assert_eq!(job["counts"]["records"], 36);
    // The secret from the environment was written nowhere on disk.
    let secret = SimCredentials::default().omie_app_secret;
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        if entry.path().is_file() {
            assert!(!String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).contains(&secret));
        }
    }

    // RF-002 with the seed's variables; the simulated account closes with AlterarPedidoCompra.
    o.set_po_close_rule(Some(PoCloseRule {
        service: "produtos/pedidocompra".into(),
        call: "AlterarPedidoCompra".into(),
        status_tag: "cStatus".into(),
        closes_with: "Encerrado".into(),
    }));
    let close = |extra: &[&str]| {
        let mut c = cli(&db, &sim);
        c.env("OMIE_PO_CLOSE_CALL", "AlterarPedidoCompra")
            .env("OMIE_PO_CLOSE_ENDPOINT", format!("{}produtos/pedidocompra/", sim.omie))
            .env("OMIE_PO_CLOSE_STATUS", "Encerrado")
            .args(["--json", "omie", "close-purchase-order"])
            .args(extra);
        c.output().unwrap()
    };
    let out = close(&["--order", "1001", "--service-invoice", "NF-77", "--dry-run"]);
    let v = json_out(&out);
    assert_eq!(v["preview"][0]["action"], "close", "{v}");
    assert_eq!(o.order_state(1).1, "pendente");
    let out = close(&["--order", "1001", "--service-invoice", "NF-77"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(o.order_state(1).1, "encerrado");
    let out = cli(&db, &sim).args(["--json", "omie", "closures"]).output().unwrap();
    let log = json_out(&out);
    assert_eq!((log[0]["order_number"].as_str(), log[0]["outcome"].as_str()), (Some("1001"), Some("closed")));
    // Without the variables nothing is configured: exit 1 with the reason.
    let out = cli(&db, &sim).args(["omie", "close-purchase-order", "--order", "1002"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OMIE_PO_CLOSE_CALL"));

    // Bad usage is refused with a named message before any job.
    let out = cli(&db, &sim).args(["omie", "transfer-attachments", "--from-id", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("destination id"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Upload a local file and see it in the status.
    let f = dir.path().join("nota.fiscal.pdf");
    std::fs::write(&f, b"%PDF upload").unwrap();
    let p = o.id_of(Kind::Payable, 20).to_string();
    let out = cli(&db, &sim)
        .args(["--json", "omie", "upload-attachment", "--table", "conta-pagar", "--id", &p, "--file"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(o.attachments("conta-pagar", p.parse().unwrap())[0].name, "nota_fiscal.pdf");
    let out = cli(&db, &sim).args(["--json", "omie", "status"]).output().unwrap();
    let st = json_out(&out);
    assert_eq!(st["key"]["blocked"], false);
    assert_eq!(st["local_clients"], 30);
}

/// The independent check of the speed issue: a user's cron and a click in the window run the same
/// Omie scan within a minute, as two processes on one key and one database. With Omie's documented
/// rules (60 s redundancy window) the second process must not repeat the first one's identical
/// reads (Omie answers `Client-6`, and five of those block the key): it is answered from the
/// budget the two share in the database. Then two different scans run at the same time and,
/// together, meet none of Omie's limit faults.
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_on_one_key_spend_one_budget() {
    let sim = backoffice_sim::start(SimConfig { scale: 30, ..Default::default() }).await.unwrap();
    sim.omie().set_limits(OmieLimits::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let scan = ["--json", "omie", "transfer-attachments", "--scan", "--since", "2020-01-01", "--dry-run"];

    let first = cli(&db, &sim).args(scan).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let sent_first = sim.omie().limit_stats().admitted;
    assert!(sent_first > 0, "the first scan called Omie");
    let second = cli(&db, &sim).args(scan).output().unwrap();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(json_out(&second)["job"]["status"], "succeeded", "{}", String::from_utf8_lossy(&second.stdout));
    let stats = sim.omie().limit_stats();
    assert_eq!(stats.rate_faults(), 0, "the second process broke one of Omie's rules: {stats:?}");
    // Reads answered with data come from the shared answers; only calls Omie answered with a fault
    // ("no records") are sent again, which its redundancy rule allows.
    assert!(
        stats.admitted - sent_first < sent_first,
        "the second process repeated the first one's reads: {sent_first} calls, then {stats:?}"
    );

    // Two different scans at once, one process each, on the same key.
    sim.omie().reset_limits();
    let spawn = |args: &[&str]| {
        cli(&db, &sim)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn(&["--json", "omie", "transfer-attachments", "--scan", "--since", "2019-06-01", "--dry-run"]);
    let b = spawn(&["--json", "omie", "close-purchase-order", "--scan", "--since", "2019-06-01", "--dry-run"]);
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(json_out(&out)["job"]["status"], "succeeded", "{}", String::from_utf8_lossy(&out.stdout));
    }
    let stats = sim.omie().limit_stats();
    assert!(stats.admitted > 0);
    assert_eq!(stats.rate_faults(), 0, "two processes together broke one of Omie's rules: {stats:?}");
}

/// Divergences: a real crash (SIGKILL) after Omie applied a correction but before the local commit.
/// After a restart the ERP record and the operation row agree, and Omie saw exactly one write.
#[tokio::test(flavor = "multi_thread")]
async fn crash_between_a_correction_and_its_commit_writes_once() {
    let sim = backoffice_sim::start(SimConfig { scale: 300, ..Default::default() }).await.unwrap();
    sim.omie().set_limits(OmieLimits { redundant_window: Duration::from_secs(1), ..Default::default() });
    let o = sim.omie();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        json_out(&out)
    };
    ok(cli(&db, &sim).args(["--json", "sync", "omie"]).output().unwrap());
    ok(cli(&db, &sim).args(["--json", "divergences", "run"]).output().unwrap());
    let list =
        ok(cli(&db, &sim).args(["--json", "divergences", "list", "--rule", "omie_trade_marketing"]).output().unwrap());
    let d = &list["items"][0];
    let id = d["id"].as_str().expect("a misfiled payable").to_string();
    let record: u64 = d["record_id"].as_str().unwrap().parse().unwrap();
    let idx = o.idx_of(Kind::Payable, record).unwrap();
    let before = o.record(Kind::Payable, idx)["codigo_categoria"].as_str().unwrap().to_string();
    assert_ne!(before, "2.04.01");

    // A decision needs a reason; then approve it.
    let out = cli(&db, &sim).args(["divergences", "approve", &id, "--reason", " "]).output().unwrap();
    assert!(!out.status.success(), "an empty reason is refused");
    ok(cli(&db, &sim).args(["--json", "divergences", "approve", &id, "--reason", "trade marketing"]).output().unwrap());

    // Omie applies the change but holds its answer; the process is killed in between.
    o.hold_answers("AlterarContaPagar", Duration::from_secs(600), 1);
    let mut child = cli(&db, &sim)
        .args(["--json", "divergences", "apply", &id])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reached = false;
    for _ in 0..2400 {
        if o.writes("AlterarContaPagar") == 1 {
            reached = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the CLI ended before Omie applied the change: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(reached, "the correction never reached Omie");
    child.kill().unwrap(); // SIGKILL
    assert!(!child.wait().unwrap().success());
    o.clear_holds();
    assert_eq!(o.record(Kind::Payable, idx)["codigo_categoria"], "2.04.01");
    let shown = ok(cli(&db, &sim).args(["--json", "divergences", "show", &id]).output().unwrap());
    assert_eq!(shown["divergence"]["status"], "approved", "the crash left nothing committed locally");
    assert_eq!(shown["operations"][0]["status"], "sent", "the operation was marked sent before the write");

    // Restart: the apply re-reads Omie, sees its own write, commits, and does not write again.
    let job = ok(cli(&db, &sim).args(["--json", "divergences", "apply", &id]).output().unwrap());
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(o.writes("AlterarContaPagar"), 1, "exactly one write reached Omie");
    let shown = ok(cli(&db, &sim).args(["--json", "divergences", "show", &id]).output().unwrap());
    assert_eq!(shown["divergence"]["status"], "applied");
    let ops = shown["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(
        (ops[0]["status"].as_str(), ops[0]["before"].as_str(), ops[0]["after"].as_str()),
        (Some("committed"), Some(before.as_str()), Some("2.04.01"))
    );

    // The report lists it.
    let csv_path = dir.path().join("ops.csv");
    ok(cli(&db, &sim)
        .args(["--json", "divergences", "export", "--report", "operations", "--out"])
        .arg(&csv_path)
        .output()
        .unwrap());
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(text.contains(&id) && text.contains(",committed,"), "{text}");

    // The metrics count the decision and the applied correction.
    let m = ok(cli(&db, &sim).args(["--json", "divergences", "metrics"]).output().unwrap());
    let tm = m["rules"].as_array().unwrap().iter().find(|r| r["rule_id"] == "omie_trade_marketing").unwrap().clone();
    assert_eq!((tm["approved_by_people"].as_u64(), tm["by_status"]["applied"].as_u64()), (Some(1), Some(1)), "{tm}");
}

/// `backoffice reconcile billing --from --to`: a whole period of the contract book against the
/// synced receivables, as JSON and as a spreadsheet, from a cron-like process.
#[tokio::test(flavor = "multi_thread")]
async fn a_period_of_billing_is_reconciled_and_exported() {
    // The simulator plants the contract book's billing from scale 50.
    let sim = backoffice_sim::start(SimConfig { scale: 50, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bo.db");
    let out =
        cli(&db, &sim).args(["--json", "sync", "omie", "--resources", "clientes", "contas_receber"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The simulator's contract book, with plain decimals and ISO dates.
    let mut book = String::from("CNPJ;Descrição;Valor mensal;Início\n");
    for (e, doc) in sim.omie().contract_book() {
        book.push_str(&format!("{doc};{};{};{}\n", e.description, e.mrr, e.start.format("%Y-%m-%d")));
    }
    let file = dir.path().join("contratos.csv");
    std::fs::write(&file, book).unwrap();
    let out = cli(&db, &sim).args(["--json", "contracts", "import"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let months = |k: i32| {
        let today = chrono::Utc::now().date_naive();
        let idx = chrono::Datelike::year(&today) * 12 + chrono::Datelike::month0(&today) as i32 - k;
        format!("{:04}-{:02}", idx.div_euclid(12), idx.rem_euclid(12) + 1)
    };
    let (from, to) = (months(7), months(2));
    let xlsx = dir.path().join("periodo.xlsx");
    let out = cli(&db, &sim)
        .args(["--json", "reconcile", "billing", "--from", &from, "--to", &to, "--out"])
        .arg(&xlsx)
        .output()
        .unwrap();
    let rows = json_out(&out);
    let rows = rows.as_array().unwrap();
    let seen: std::collections::BTreeSet<&str> = rows.iter().filter_map(|r| r["month"].as_str()).collect();
    assert_eq!(seen.len(), 6, "every month of the period: {seen:?}");
    assert!(rows.windows(2).all(|w| w[0]["month"].as_str() <= w[1]["month"].as_str()), "in month order");
    assert!(rows.iter().any(|r| r["verdict"] == "within") && rows.iter().any(|r| r["verdict"] == "no_contract"));
    use calamine::{open_workbook, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    assert_eq!(wb.sheet_names()[0], format!("Billing {from} to {to}"));
    assert_eq!(wb.worksheet_range_at(0).unwrap().unwrap().rows().count(), rows.len() + 1);

    // Only some verdicts; a period backwards or mixed with --month is refused plainly.
    let out = cli(&db, &sim)
        .args(["--json", "reconcile", "billing", "--from", &from, "--to", &to, "--verdict", "no_contract"])
        .output()
        .unwrap();
    let only = json_out(&out);
    assert!(only.as_array().unwrap().iter().all(|r| r["verdict"] == "no_contract"));
    let out = cli(&db, &sim).args(["reconcile", "billing", "--from", &to, "--to", &from]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("before the first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out =
        cli(&db, &sim).args(["reconcile", "billing", "--month", &to, "--from", &from, "--to", &to]).output().unwrap();
    assert!(!out.status.success());
}
