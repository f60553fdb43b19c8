//! `backoffice erpnext ...` end to end: the real binary, a real SQLite file, the two simulated
//! ERPNext sites over loopback and the OS keychain (run inside a Secret Service session, as
//! `cargo xtask test` does).

use std::process::{Command, Output};
use std::time::Duration;

use backoffice_sim::{SimConfig, SimCredentials};
use serde_json::Value;

struct Cli {
    db: std::path::PathBuf,
    service: String,
}

impl Cli {
    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_backoffice"));
        c.arg("--db")
            .arg(&self.db)
            .env("BACKOFFICE_LOG_DIR", self.db.parent().unwrap().join("logs"))
            .env("BACKOFFICE_KEYCHAIN_SERVICE", &self.service);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let v = serde_json::from_str(text.trim().lines().last().unwrap_or("null"))
            .unwrap_or_else(|_| panic!("not JSON: {text}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap_or(-1), v)
    }
}

fn setup(dir: &std::path::Path, sim: &backoffice_sim::SimHandle) -> Cli {
    let cli = Cli { db: dir.join("bo.db"), service: format!("BackOffice-test-{}", uuid_like()) };
    let c = SimCredentials::default();
    for (name, url) in [("Site A", &sim.erpnext_a), ("Site B", &sim.erpnext_b)] {
        let out = cli
            .cmd()
            .args(["connections", "add", "--name", name, "--kind", "erpnext", "--base-url", url])
            .env("BACKOFFICE_KEY", &c.erpnext_api_key)
            .env("BACKOFFICE_SECRET", &c.erpnext_api_secret)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    cli
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    )
}

fn payload(dir: &std::path::Path, name: &str, serials: &[&str], qty: usize) -> std::path::PathBuf {
    // The seed design's field names.
    let v = serde_json::json!({
        "supplier": "PINES Supplier",
        "company_a_name": "Company A",
        "company_b_customer_name": "Company B",
        "company_a_supplier_name": "Company A",
        "company_a_warehouse": "Stores - A",
        "company_b_warehouse": "Stores - B",
        "items": [{"item_code": "SKU-SWITCH-01", "qty": qty, "rate": "310.00", "serials": serials}]
    });
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn workflow_commands_with_json_output() {
    let sim = backoffice_sim::start(SimConfig { scale: 2, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cli = setup(dir.path(), &sim);

    // The field is missing: the check says so (exit 1) and explains; ensure-field creates it.
    let (code, st) = cli.json(&["erpnext", "ensure-field", "--site", "Site A", "--check"]);
    assert_eq!((code, st["missing"].as_array().unwrap().len()), (1, 3), "{st}");
    assert!(st["explanation"].as_str().unwrap().contains("never created twice"));
    for site in ["Site A", "Site B"] {
        let (code, st) = cli.json(&["erpnext", "ensure-field", "--site", site]);
        assert_eq!((code, st["created"].as_array().unwrap().len()), (0, 3), "{st}");
    }

    // Dry run: the four documents, nothing sent.
    let good = payload(dir.path(), "good.json", &["CLI-1", "CLI-2"], 2);
    let good_s = good.to_str().unwrap();
    let start = ["erpnext", "workflow", "start", "--site-a", "Site A", "--site-b", "Site B", "--payload", good_s];
    let mut dry = start.to_vec();
    dry.push("--dry-run");
    let (code, p) = cli.json(&dry);
    assert_eq!(code, 0, "{p}");
    assert_eq!(p["valid"], true);
    assert_eq!(p["documents"].as_array().unwrap().len(), 4);
    assert_eq!(p["documents"][0]["total"], "620.00");
    assert_eq!(sim.erpnext_a().count("Purchase Order"), 0);
    // A bad payload: every problem, exit 1, nothing sent.
    let bad = payload(dir.path(), "bad.json", &["CLI-9"], 2);
    let (code, p) = cli.json(&[
        "erpnext",
        "workflow",
        "start",
        "--site-a",
        "Site A",
        "--site-b",
        "Site B",
        "--payload",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(p["problems"][0]["message"].as_str().unwrap().contains("1 serial numbers for a quantity of 2"), "{p}");
    assert_eq!(sim.erpnext_a().count("Purchase Order"), 0);

    // Start and wait (text output).
    let out = cli.run(&start);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("succeeded") && text.contains("PUR-ORD-"), "{text}");

    let (code, list) = cli.json(&["erpnext", "workflow", "list"]);
    assert_eq!(code, 0);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["status"], "succeeded");
    assert_eq!(list[0]["documents"].as_array().unwrap().len(), 4);
    let (code, d) = cli.json(&["erpnext", "workflow", "show", &id[..8]]);
    assert_eq!((code, d["run"]["id"].as_str()), (0, Some(id.as_str())));
    assert_eq!(d["steps"][3]["doctype"], "Purchase Receipt");
    assert_eq!(sim.erpnext_b().count("Purchase Receipt"), 1);

    // Operator controls need a reason; a succeeded run cannot be cancelled, but it can be compensated.
    let out = cli.run(&["erpnext", "workflow", "retry", &id]);
    assert_eq!(out.status.code(), Some(2), "clap asks for --reason");
    let out = cli.run(&["erpnext", "workflow", "cancel", &id, "--reason", "changed my mind"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compensate"));
    let (code, d) = cli.json(&["erpnext", "workflow", "compensate", &id, "--reason", "wrong month"]);
    assert_eq!((code, d["run"]["status"].as_str()), (0, Some("compensated")), "{d}");
    assert_eq!(d["actions"].as_array().unwrap().last().unwrap()["reason"], "wrong month");

    // Sync a site into the store.
    let (code, job) = cli.json(&["sync", "erpnext", "--connection", "Site B"]);
    assert_eq!((code, job["status"].as_str()), (0, Some("succeeded")), "{job}");
    let (_, s) = cli.json(&["erpnext", "status", "--connection", "Site B"]);
    let pr = s.as_array().unwrap().iter().find(|r| r["resource"] == "purchase_receipts").unwrap();
    assert_eq!(pr["records"], 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_step_resumes_without_a_duplicate() {
    let sim = backoffice_sim::start(SimConfig { scale: 2, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cli = setup(dir.path(), &sim);
    for site in ["Site A", "Site B"] {
        assert!(cli.run(&["erpnext", "ensure-field", "--site", site]).status.success());
    }
    let out = cli.run(&[
        "erpnext",
        "settings",
        "--request-timeout-ms",
        "30000",
        "--backoff-min-ms",
        "10",
        "--backoff-max-ms",
        "50",
    ]);
    assert!(out.status.success());
    // Site B commits the receipt, then holds the reply; the CLI is killed meanwhile.
    sim.erpnext_b().reply_late_after_commit("Purchase Receipt", 1, Duration::from_secs(20));
    let p = payload(dir.path(), "p.json", &["KILL-1"], 1);
    let mut child = cli
        .cmd()
        .args([
            "erpnext",
            "workflow",
            "start",
            "--site-a",
            "Site A",
            "--site-b",
            "Site B",
            "--payload",
            p.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..1000 {
        if sim.erpnext_b().count("Purchase Receipt") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sim.erpnext_b().count("Purchase Receipt"), 1, "site B committed step 4");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let (code, d) = cli.json(&["erpnext", "workflow", "resume"]);
    assert_eq!(code, 0, "{d}");
    assert_eq!(d["run"]["status"], "succeeded", "{d}");
    assert_eq!(sim.erpnext_b().count("Purchase Receipt"), 1, "no second receipt on site B");
    assert_eq!(sim.erpnext_a().count("Delivery Note"), 1);
    let found = d["attempts"].as_array().unwrap().iter().any(|a| a["step"] == 4 && a["outcome"] == "found");
    assert!(found, "step 4 found its document by its key: {d}");
    sim.shutdown().await;
}
