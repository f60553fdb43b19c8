//! The ERPNext inter-company transfer against the two-site simulator: real HTTP, a real SQLite
//! file, credentials held in memory (no keychain needed).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use backoffice_core::erp::erpnext::engine::Outcome;
use backoffice_core::erp::erpnext::{
    RunFilter, RunStatus, StepStatus, TransferInput, TransferItem, TransferRunDetail, WorkflowSettings,
};
use backoffice_core::model::{Connection, ConnectionInput, ConnectionKind, Credentials, JobStatus, TimezoneSource};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::{Core, CoreError, Paths};
use backoffice_sim::erpnext::{ErpnextControl, Fault, Op};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use rust_decimal::Decimal;
use serde_json::{json, Value};

struct Env {
    dir: tempfile::TempDir,
    core: Arc<Core>,
    sim: SimHandle,
    a: Connection,
    b: Connection,
}

fn open_core(dir: &std::path::Path, sim: &SimHandle) -> (Arc<Core>, Connection, Connection) {
    open_core_with(dir, sim, backoffice_core::clock::system())
}

fn open_core_with(
    dir: &std::path::Path,
    sim: &SimHandle,
    clock: Arc<dyn backoffice_core::clock::Clock>,
) -> (Arc<Core>, Connection, Connection) {
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let paths = Paths { db: dir.join("bo.db"), log_dir: dir.join("logs") };
    let core = Core::open_with_clock(paths, secrets.clone(), clock).unwrap();
    let a = core.connections().ensure_headless("Site A", ConnectionKind::Erpnext, &sim.erpnext_a).unwrap();
    let b = core.connections().ensure_headless("Site B", ConnectionKind::Erpnext, &sim.erpnext_b).unwrap();
    let c = SimCredentials::default();
    for id in [&a.id, &b.id] {
        secrets.put(id, Credentials { key: c.erpnext_api_key.clone(), secret: c.erpnext_api_secret.clone() });
    }
    (core, a, b)
}

fn fast(timeout_ms: u64) -> WorkflowSettings {
    WorkflowSettings {
        request_timeout_ms: timeout_ms,
        max_attempts: 4,
        backoff_min_ms: 10,
        backoff_max_ms: 80,
        max_retry_after_s: 5,
    }
}

async fn setup() -> Env {
    setup_with(backoffice_core::clock::system(), |_| {}).await
}

/// The two sites and this computer all read `at` (then run on): the hour is reproduced, not waited for.
async fn setup_at(at: &str, sites: impl FnOnce(&SimHandle)) -> Env {
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&chrono::Utc);
    setup_with(Arc::new(backoffice_core::clock::StartingAt::new(at)), |sim| {
        sim.erpnext_a().set_clock(at);
        sim.erpnext_b().set_clock(at);
        sites(sim)
    })
    .await
}

async fn setup_with(clock: Arc<dyn backoffice_core::clock::Clock>, sites: impl FnOnce(&SimHandle)) -> Env {
    let sim = backoffice_sim::start(SimConfig { scale: 2, ..SimConfig::default() }).await.unwrap();
    sites(&sim);
    let dir = tempfile::tempdir().unwrap();
    let (core, a, b) = open_core_with(dir.path(), &sim, clock);
    core.save_erpnext_settings(&fast(1500)).unwrap();
    for c in [&a, &b] {
        let st = core.erpnext_ensure_field(&c.id).await.unwrap();
        assert_eq!(st.created.len(), 3, "{st:?}");
        assert!(st.missing.is_empty());
    }
    Env { dir, core, sim, a, b }
}

fn form(env: &Env, serials: &[&str]) -> TransferInput {
    TransferInput {
        site_a: env.a.id.clone(),
        site_b: env.b.id.clone(),
        supplier: "PINES Supplier".into(),
        company_a: "Company A".into(),
        company_b: None,
        customer_b_on_a: "Company B".into(),
        supplier_a_on_b: "Company A".into(),
        warehouse_a: "Stores - A".into(),
        warehouse_b: "Stores - B".into(),
        items: vec![TransferItem {
            item_code: "SKU-ROUTER-01".into(),
            qty: Decimal::from(serials.len() as i64),
            rate: Decimal::from_str("120.50").unwrap(),
            transfer_rate: Some(Decimal::from_str("130.25").unwrap()),
            serials: serials.iter().map(|s| s.to_string()).collect(),
        }],
        ..Default::default()
    }
}

async fn wait_run(core: &Arc<Core>, id: &str) -> TransferRunDetail {
    for _ in 0..1200 {
        let d = core.erpnext_run(id).unwrap();
        let busy =
            matches!(d.run.status, RunStatus::Pending | RunStatus::Running | RunStatus::Compensating) || d.run.queued;
        if !busy {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {id} did not finish: {:?}", core.erpnext_run(id).unwrap().run);
}

/// Documents of a DocType on a site carrying one of this run's keys.
fn docs_of(ctl: &ErpnextControl, doctype: &str, run_id: &str) -> Vec<Value> {
    ctl.docs(doctype)
        .into_iter()
        .filter(|d| d["custom_ext_ref"].as_str().is_some_and(|k| k.starts_with(&format!("bo-{run_id}:"))))
        .collect()
}

/// Exactly four documents, one per step, linked as the workflow says.
fn assert_four(env: &Env, d: &TransferRunDetail, serials: &[&str]) {
    let id = &d.run.id;
    let (a, b) = (env.sim.erpnext_a(), env.sim.erpnext_b());
    let po = docs_of(a, "Purchase Order", id);
    let pr = docs_of(a, "Purchase Receipt", id);
    let dn = docs_of(a, "Delivery Note", id);
    let prb = docs_of(b, "Purchase Receipt", id);
    assert_eq!((po.len(), pr.len(), dn.len(), prb.len()), (1, 1, 1, 1), "exactly four documents");
    assert!(docs_of(b, "Purchase Order", id).is_empty() && docs_of(b, "Delivery Note", id).is_empty());
    let (po, pr, dn, prb) = (&po[0], &pr[0], &dn[0], &prb[0]);
    for doc in [po, pr, dn, prb] {
        assert_eq!(doc["docstatus"], 1, "{doc}");
    }
    let joined = serials.join("\n");
    assert_eq!(pr["items"][0]["purchase_order"], po["name"]);
    assert_eq!(pr["items"][0]["purchase_order_item"], po["items"][0]["name"]);
    assert_eq!(pr["items"][0]["serial_no"], joined.as_str());
    assert_eq!(pr["items"][0]["use_serial_batch_fields"], 1);
    assert_eq!(dn["customer"], "Company B");
    assert_eq!(dn["items"][0]["serial_no"], joined.as_str());
    assert_eq!(dn["items"][0]["rate"], 130.25);
    assert_eq!(prb["supplier"], "Company A");
    assert_eq!(prb["company"], "Company B");
    assert_eq!(prb["supplier_delivery_note"], dn["name"]);
    assert_eq!(prb["items"][0]["serial_no"], joined.as_str());
    assert_eq!(po["items"][0]["rate"], 120.5);
    // The PO counts the receipt.
    assert_eq!(a.doc("Purchase Order", po["name"].as_str().unwrap()).unwrap()["per_received"], 100.0);
    // Local record: four done steps naming those documents.
    let names: Vec<Option<String>> = d.steps.iter().map(|s| s.doc_name.clone()).collect();
    let want: Vec<Option<String>> = [po, pr, dn, prb].iter().map(|x| x["name"].as_str().map(str::to_string)).collect();
    assert_eq!(names, want);
    assert!(d.steps.iter().all(|s| s.status == StepStatus::Done));
    for s in &d.steps {
        assert_eq!(s.docstatus, Some(1));
    }
}

#[tokio::test]
async fn happy_path_creates_exactly_four_linked_documents() {
    let env = setup().await;
    let serials = ["HP-0001", "HP-0002"];
    let p = env.core.erpnext_preview(&form(&env, &serials)).await.unwrap();
    assert!(p.valid, "{:?}", p.problems);
    assert_eq!(p.documents.len(), 4);
    assert_eq!(p.input.company_b.as_deref(), Some("Company B"), "company B taken from its warehouse");
    assert_eq!(p.input.currency.as_deref(), Some("USD"));
    assert_eq!(p.documents[3].body["supplier_delivery_note"], "(Delivery Note of step 3)");
    assert_eq!(p.documents[0].total.to_string(), "241.00");
    assert_eq!(p.documents[2].total.to_string(), "260.50");
    // The preview sent nothing.
    assert_eq!(env.sim.erpnext_a().count("Purchase Order"), 0);

    let run = env.core.erpnext_start(&form(&env, &serials), Some("monthly transfer")).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_four(&env, &d, &serials);
    assert_eq!(d.run.documents.len(), 4);
    assert!(d.run.documents[0].url.ends_with(&format!("/app/purchase-order/{}", d.run.documents[0].name)));
    assert!(d.steps.iter().all(|s| s.attempts == 1));
    // Every step looked its key up before inserting.
    let actions: Vec<(Option<u8>, String, String)> =
        d.attempts.iter().map(|a| (a.step, a.action.clone(), a.outcome.clone())).collect();
    assert_eq!(actions[0], (Some(1), "lookup".into(), "not_found".into()));
    assert_eq!(actions[1], (Some(1), "insert".into(), "ok".into()));
    assert!(actions.contains(&(Some(2), "mapper".into(), "ok".into())));
    assert_eq!(d.actions[0].action, "start");
    assert_eq!(d.actions[0].reason, "monthly transfer");
    // The serials moved: delivered on A, in stock on B.
    assert_eq!(env.sim.erpnext_a().doc("Serial No", "HP-0001").unwrap()["status"], "Delivered");
    assert_eq!(env.sim.erpnext_b().doc("Serial No", "HP-0002").unwrap()["warehouse"], "Stores - B");
    // The same serials again: refused before anything is sent, with the reason.
    let again = env.core.erpnext_preview(&form(&env, &serials)).await.unwrap();
    assert!(!again.valid);
    assert!(
        again
            .problems
            .iter()
            .any(|p| p.field == "items[0].serials" && p.message.contains("already in stock on site B")),
        "{:?}",
        again.problems
    );
    // The list shows it.
    let list = env.core.erpnext_runs(&RunFilter::default()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].documents.len(), 4);
}

/// Arms a refusal of the insert of `step`'s document on the right site.
fn reject_step(env: &Env, step: u8, exc: &str, msg: &str) {
    let (ctl, dt) = match step {
        1 => (env.sim.erpnext_a(), "Purchase Order"),
        2 => (env.sim.erpnext_a(), "Purchase Receipt"),
        3 => (env.sim.erpnext_a(), "Delivery Note"),
        _ => (env.sim.erpnext_b(), "Purchase Receipt"),
    };
    ctl.reject_inserts(dt, 1, exc, msg);
}

#[tokio::test]
async fn a_validation_failure_at_each_step_stops_there_and_retry_resumes_without_duplicates() {
    let env = setup().await;
    let cases = [
        (
            1u8,
            "MandatoryError",
            "Error: Value missing for Purchase Order: Currency",
            "missing_fields",
            "Purchase Order: Currency",
        ),
        (
            2,
            "ValidationError",
            "Row #1: Total qty 1 of Serial and Batch Bundle is not equal to Actual Qty 2",
            "serial_count",
            "not equal to Actual Qty 2",
        ),
        (
            3,
            "SerialNoWarehouseError",
            "Serial No <strong>RS-3-1</strong> is not present in the warehouse <strong>Stores - A</strong>.",
            "serial_not_available",
            "Serial No RS-3-1 is not present in the warehouse Stores - A",
        ),
        (
            4,
            "SerialNoDuplicateError",
            "Serial No <strong>RS-4-1</strong> is already in stock in the warehouse <strong>Stores - B</strong>",
            "duplicate_serial",
            "RS-4-1 is already in stock",
        ),
    ];
    for (step, exc, msg, kind, plain) in cases {
        let serials = [format!("RS-{step}-1"), format!("RS-{step}-2")];
        let serials: Vec<&str> = serials.iter().map(String::as_str).collect();
        reject_step(&env, step, exc, msg);
        let run = env.core.erpnext_start(&form(&env, &serials), None).await.unwrap();
        let d = wait_run(&env.core, &run.id).await;
        assert_eq!(d.run.status, RunStatus::Failed, "step {step}");
        let err = d.run.last_error.clone().unwrap();
        assert_eq!((err.step, err.kind.as_str()), (Some(step), kind), "{err:?}");
        assert!(!err.fix.is_empty());
        assert_eq!(err.remote_messages.len(), 1);
        assert!(err.message.contains(plain), "ERPNext's own words, without HTML: {}", err.message);
        assert_eq!(err.exc_type.as_deref(), Some(exc));
        assert_eq!(err.http_status, Some(417));
        for s in &d.steps {
            let want = if s.step < step {
                StepStatus::Done
            } else if s.step == step {
                StepStatus::Failed
            } else {
                StepStatus::Pending
            };
            assert_eq!(s.status, want, "step {} after a failure at {step}", s.step);
        }
        assert_eq!(d.steps[step as usize - 1].attempts, 1, "a validation error is not retried");
        // The job failed with the plain message.
        let job = env
            .core
            .jobs
            .list(&Default::default())
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "erpnext_workflow")
            .unwrap();
        assert_eq!(job.status, JobStatus::Failed);
        // A reason is required.
        assert!(matches!(env.core.erpnext_retry(&run.id, " "), Err(CoreError::InvalidInput { .. })));
        let d = env.core.erpnext_retry(&run.id[..8], "site fixed by the admin").unwrap();
        assert_eq!(d.actions.last().unwrap().action, "retry");
        let d = wait_run(&env.core, &run.id).await;
        assert_eq!(d.run.status, RunStatus::Succeeded, "retry after step {step}: {:?}", d.run.last_error);
        assert!(d.run.last_error.is_none());
        assert_four(&env, &d, &serials);
        // Steps before the failure were not redone.
        for s in d.steps.iter().filter(|s| s.step < step) {
            assert_eq!(s.attempts, 1);
        }
        assert_eq!(d.steps[step as usize - 1].attempts, 2);
    }
}

#[tokio::test]
async fn transient_errors_are_retried_and_exhaustion_stops_with_a_plain_message() {
    let env = setup().await;
    // Deadlocks, 429 with Retry-After, and failing reads: the run gets through.
    env.sim.erpnext_a().fail_inserts("Delivery Note", 2, 500);
    env.sim.erpnext_b().fail_inserts("Purchase Receipt", 1, 429);
    env.sim.erpnext_a_control().fail_next(2, 503);
    let run = env.core.erpnext_start(&form(&env, &["TR-1"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_four(&env, &d, &["TR-1"]);
    assert_eq!(d.steps[2].attempts, 3);
    assert_eq!(d.steps[3].attempts, 2);
    assert!(d.attempts.iter().any(|a| a.step == Some(4) && a.http_status == Some(429)));

    // More failures than attempts: the run stops at the step, nothing is duplicated, retry finishes.
    env.sim.erpnext_a().fail_inserts("Purchase Order", 4, 500);
    let run = env.core.erpnext_start(&form(&env, &["TR-2"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let err = d.run.last_error.unwrap();
    assert_eq!((err.step, err.kind.as_str()), (Some(1), "unavailable"));
    assert!(err.message.contains("4 time(s)"), "{}", err.message);
    assert_eq!(d.steps[0].attempts, 4);
    env.core.erpnext_retry(&run.id, "the site is back").unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded);
    assert_four(&env, &d, &["TR-2"]);
}

#[tokio::test]
async fn a_reply_lost_after_commit_is_found_by_its_key_exactly_four_documents() {
    let env = setup().await;
    env.core.save_erpnext_settings(&fast(400)).unwrap();
    // Every step's insert is committed, then answered after the client's timeout.
    for dt in ["Purchase Order", "Purchase Receipt", "Delivery Note"] {
        env.sim.erpnext_a().reply_late_after_commit(dt, 1, Duration::from_millis(1200));
    }
    env.sim.erpnext_b().reply_late_after_commit("Purchase Receipt", 1, Duration::from_millis(1200));
    let run = env.core.erpnext_start(&form(&env, &["TO-1", "TO-2"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_four(&env, &d, &["TO-1", "TO-2"]);
    assert_eq!(env.sim.erpnext_a().count("Purchase Order"), 1);
    assert_eq!(env.sim.erpnext_b().count("Purchase Receipt"), 1);
    for step in 1..=4u8 {
        let outcomes: Vec<&str> = d
            .attempts
            .iter()
            .filter(|a| a.step == Some(step) && a.action != "mapper")
            .map(|a| a.outcome.as_str())
            .collect();
        assert_eq!(outcomes, vec!["not_found", "transient", "found"], "step {step}");
        assert_eq!(d.steps[step as usize - 1].attempts, 1, "inserted once");
    }
}

#[tokio::test]
async fn a_crash_between_the_call_and_the_local_commit_leaves_no_duplicate() {
    let env = setup().await;
    // A long client timeout: the process "dies" while the insert is still waiting for its reply.
    env.core.save_erpnext_settings(&fast(20_000)).unwrap();
    let run = env.core.erpnext_create(&form(&env, &["CR-1"]), None).await.unwrap();
    assert!(run.queued);
    env.sim.erpnext_a().reply_late_after_commit("Purchase Receipt", 1, Duration::from_secs(8));
    let core = env.core.clone();
    let id = run.id.clone();
    let driving = tokio::spawn(async move { core.erpnext_drive_now(&id).await });
    // Wait until site A has committed the receipt, then kill the run mid-step.
    for _ in 0..400 {
        if env.sim.erpnext_a().count("Purchase Receipt") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(env.sim.erpnext_a().count("Purchase Receipt"), 1);
    driving.abort();
    let _ = driving.await;
    let d = env.core.erpnext_run(&run.id).unwrap();
    assert_eq!(d.steps[1].status, StepStatus::Running, "the local commit never happened");
    assert!(d.steps[1].doc_name.is_none());
    let Env { dir, core, sim, .. } = env;
    drop(core);

    // "Restart": a fresh Core over the same file resumes the run.
    let (core, a, b) = open_core(dir.path(), &sim);
    core.save_erpnext_settings(&fast(1500)).unwrap();
    let resumed = core.erpnext_resume_interrupted().unwrap();
    assert_eq!(resumed, vec![run.id.clone()]);
    let d = wait_run(&core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    let env = Env { dir, core, sim, a, b };
    assert_four(&env, &d, &["CR-1"]);
    assert_eq!(env.sim.erpnext_a().count("Purchase Receipt"), 1, "no second receipt");
    assert!(d.attempts.iter().any(|x| x.step == Some(2) && x.outcome == "found"));
    assert!(d.actions.iter().any(|x| x.action == "resume"));
}

#[tokio::test]
async fn cancel_and_compensate_with_reasons() {
    let env = setup().await;
    let (sa, sb) = (env.sim.erpnext_a(), env.sim.erpnext_b());
    // A succeeded run compensated: its four documents cancelled, last first; serials back.
    let run = env.core.erpnext_start(&form(&env, &["CC-1", "CC-2"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded);
    assert!(matches!(env.core.erpnext_cancel(&run.id, "oops").await, Err(CoreError::InvalidInput { .. })));
    assert!(matches!(env.core.erpnext_compensate(&run.id, ""), Err(CoreError::InvalidInput { .. })));
    env.core.erpnext_compensate(&run.id, "sent to the wrong company").unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Compensated, "{:?}", d.run.last_error);
    assert!(d.steps.iter().all(|s| s.status == StepStatus::Compensated && s.docstatus == Some(2)));
    let cancelled: Vec<u8> =
        d.attempts.iter().filter(|a| a.action == "cancel" && a.outcome == "ok").filter_map(|a| a.step).collect();
    assert_eq!(cancelled, vec![4, 3, 2, 1], "reverse order");
    for (ctl, dt) in [(sa, "Purchase Order"), (sa, "Purchase Receipt"), (sa, "Delivery Note"), (sb, "Purchase Receipt")]
    {
        let docs = docs_of(ctl, dt, &run.id);
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["docstatus"], 2, "{dt}");
    }
    assert!(sb.doc("Serial No", "CC-1").unwrap().get("warehouse").is_none());
    assert_eq!(sa.doc("Serial No", "CC-1").unwrap()["status"], "Inactive");
    assert_eq!(d.actions.last().unwrap().reason, "sent to the wrong company");

    // A failed run: cancel (reason kept), then compensate what it made; a compensation the site
    // refuses stops with the fix, and compensating again finishes.
    reject_step(&env, 3, "ValidationError", "Credit limit crossed for customer Company B");
    let run = env.core.erpnext_start(&form(&env, &["CC-3"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let d = env.core.erpnext_cancel(&run.id, "customer on hold").await.unwrap();
    assert_eq!(d.run.status, RunStatus::Cancelled);
    assert_eq!(d.actions.last().unwrap().reason, "customer on hold");
    sa.arm(
        Op::Cancel,
        "Purchase Receipt",
        1,
        Fault::Reject {
            exc_type: "LinkExistsError".into(),
            message: "Cannot delete or cancel because Purchase Receipt X is linked with Purchase Invoice Y".into(),
        },
    );
    env.core.erpnext_compensate(&run.id, "undo the receipt").unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::CompensationFailed);
    let err = d.run.last_error.clone().unwrap();
    assert_eq!((err.step, err.kind.as_str()), (Some(2), "conflict"));
    assert!(err.fix.contains("compensate again"), "{}", err.fix);
    env.core.erpnext_compensate(&run.id, "invoice cancelled, try again").unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Compensated, "{:?}", d.run.last_error);
    assert_eq!(docs_of(sa, "Delivery Note", &run.id).len(), 0, "the failed step made nothing");
    assert_eq!(docs_of(sa, "Purchase Order", &run.id)[0]["docstatus"], 2);
    assert!(matches!(env.core.erpnext_retry(&run.id, "again please"), Err(CoreError::InvalidInput { .. })));

    // A running run cancelled by the operator stops at the next safe point; retry finishes it.
    env.sim.erpnext_a_control().set_latency_ms(150);
    let run = env.core.erpnext_start(&form(&env, &["CC-4"]), None).await.unwrap();
    for _ in 0..400 {
        if env.core.erpnext_run(&run.id).unwrap().steps[0].status == StepStatus::Done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let d = env.core.erpnext_cancel(&run.id, "stop, wrong warehouse").await.unwrap();
    assert_eq!(d.run.status, RunStatus::Cancelled, "{:?}", d.run);
    let made = d.steps.iter().filter(|s| s.status == StepStatus::Done).count();
    assert!((1..4).contains(&made), "stopped part-way ({made} steps done)");
    assert!(d.steps.iter().all(|s| s.status != StepStatus::Running));
    env.sim.erpnext_a_control().set_latency_ms(0);
    env.core.erpnext_retry(&run.id, "warehouse was right after all").unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded);
    assert_four(&env, &d, &["CC-4"]);
}

#[tokio::test]
async fn validation_names_every_problem_before_anything_is_sent() {
    let env = setup().await;
    let mut f = form(&env, &["V-1", "V-1"]);
    f.supplier = "Pines Suplier".into();
    f.customer_b_on_a = "Company  B".into();
    f.warehouse_b = "Stores - A".into();
    f.items.push(TransferItem {
        item_code: "SKU-CABLE-01".into(),
        qty: Decimal::from(1),
        rate: Decimal::from_str("2.5").unwrap(),
        transfer_rate: None,
        serials: vec!["V-2".into(), "V-3".into()],
    });
    f.items.push(TransferItem {
        item_code: "SKU-ROUTR-01".into(),
        qty: Decimal::ZERO,
        rate: Decimal::ZERO,
        transfer_rate: None,
        serials: vec![],
    });
    let p = env.core.erpnext_preview(&f).await.unwrap();
    assert!(!p.valid);
    let has = |field: &str, text: &str| p.problems.iter().any(|x| x.field == field && x.message.contains(text));
    assert!(has("items[0].serials", "entered twice"), "{:#?}", p.problems);
    assert!(has("items[1].serials", "2 serial numbers for a quantity of 1"));
    assert!(has("items[1].item_code", "not serialised"));
    assert!(has("items[2].qty", "at least 1"));
    assert!(has("items[2].rate", "more than zero"));
    assert!(has("items[2].item_code", "has no Item \"SKU-ROUTR-01\""));
    assert!(has("warehouse_b", "site B"), "{:#?}", p.problems);
    let sup = p.problems.iter().find(|x| x.field == "supplier").unwrap();
    assert_eq!(sup.suggestions, vec!["PINES Supplier"]);
    assert!(sup.message.contains("Did you mean \"PINES Supplier\""));
    let cust = p.problems.iter().find(|x| x.field == "customer_b_on_a").unwrap();
    assert_eq!(cust.suggestions[0], "Company B");
    assert_eq!(p.problems.iter().find(|x| x.field == "items[2].item_code").unwrap().suggestions[0], "SKU-ROUTER-01");
    // Starting refuses with the same problems; nothing reaches either site.
    match env.core.erpnext_start(&f, None).await {
        Err(CoreError::InvalidInput { reason, .. }) => assert!(reason.contains("nothing was sent"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.sim.erpnext_a().count("Purchase Order"), 0);
    assert!(env.core.erpnext_runs(&RunFilter::default()).unwrap().is_empty());

    // A site without the idempotency field: the preview says so and offers the fix.
    let sim2 = backoffice_sim::start(SimConfig { scale: 2, ..SimConfig::default() }).await.unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let (core2, a2, b2) = open_core(dir2.path(), &sim2);
    let mut f2 = form(&env, &["V-9"]);
    f2.site_a = a2.id.clone();
    f2.site_b = b2.id.clone();
    let p = core2.erpnext_preview(&f2).await.unwrap();
    let missing: Vec<_> = p.problems.iter().filter(|x| x.message.contains("custom_ext_ref")).collect();
    assert_eq!(missing.len(), 2, "{:#?}", p.problems);
    assert!(missing[0].message.contains("ensure-field") && missing[0].message.contains("never created twice"));
    let st = core2.erpnext_field_status(&a2.id).await.unwrap();
    assert_eq!(st.missing.len(), 3);
    // Without the System Manager role the site refuses, and the error says what is needed.
    sim2.erpnext_a().set_system_manager(false);
    let e = core2.erpnext_ensure_field(&a2.id).await.unwrap_err();
    assert!(e.to_string().contains("refused access") && format!("{:?}", e.to_api()).contains("System Manager"), "{e}");
    sim2.erpnext_a().set_system_manager(true);
    let st = core2.erpnext_ensure_field(&a2.id).await.unwrap();
    assert_eq!((st.created.len(), st.present.len()), (3, 3));
    let st = core2.erpnext_ensure_field(&a2.id).await.unwrap();
    assert!(st.created.is_empty(), "creating twice is a no-op");
    let _ = json!(null);
}

#[tokio::test]
async fn sync_copies_each_sites_documents_with_their_serials() {
    let env = setup().await;
    let run = env.core.erpnext_start(&form(&env, &["SY-1", "SY-2"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded);
    for conn in [&env.a, &env.b] {
        let job = env.core.start_job("sync_erpnext", Some(&conn.id), Value::Null).unwrap();
        let mut j = job.clone();
        for _ in 0..400 {
            j = env.core.jobs.get(&job.id).unwrap();
            if !j.status.is_active() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(j.status, JobStatus::Succeeded, "{:?}", j.error);
    }
    let sum = env.core.sync_summary(&env.a.id).unwrap();
    let count = |r: &str| sum.iter().find(|s| s.resource == r).unwrap().records;
    assert_eq!((count("purchase_orders"), count("purchase_receipts"), count("delivery_notes")), (1, 1, 1));
    let q = backoffice_core::sync::query::BrowseQuery {
        connection_id: env.b.id.clone(),
        resource: "purchase_receipts".into(),
        limit: 10,
        search: Some("SY-2".into()),
        ..Default::default()
    };
    let page = env.core.sync_browse(&q).unwrap();
    assert_eq!(page.total, 1);
    let cols: Vec<&str> = page.columns.iter().map(|c| c.name.as_str()).collect();
    let at = |c: &str| page.rows[0].values[cols.iter().position(|x| *x == c).unwrap()].clone();
    assert_eq!(at("serials").as_deref(), Some("SY-1\nSY-2"));
    assert_eq!(at("supplier_delivery_note"), d.steps[2].doc_name);
    assert_eq!(at("ext_ref").as_deref(), Some(format!("bo-{}:pr-b", run.id).as_str()));
    let raw: Value =
        serde_json::from_str(&env.core.sync_record(&env.b.id, "purchase_receipts", &page.rows[0].id).unwrap()).unwrap();
    assert_eq!(raw["items"][0]["item_code"], "SKU-ROUTER-01");
    // Incremental: a second run reads only what changed since the cursor (a day of overlap).
    let job = env.core.sync_start(&env.a.id, Default::default()).unwrap();
    for _ in 0..400 {
        if !env.core.jobs.get(&job.id).unwrap().status.is_active() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let d = env.core.jobs.detail(&job.id).unwrap();
    assert_eq!(d.job.status, JobStatus::Succeeded);
    assert!(d.logs.iter().any(|l| l.message.contains("incremental read of records changed since")), "{:?}", d.logs);
    let _ = Outcome::Succeeded;
}

#[tokio::test]
async fn a_serial_delivered_by_someone_else_mid_run_stops_the_delivery_step_with_erpnexts_reason() {
    let env = setup().await;
    env.core.save_erpnext_settings(&fast(10_000)).unwrap();
    // Hold step 2's reply so that "someone else" can act on site A in between.
    env.sim.erpnext_a().reply_late_after_commit("Purchase Receipt", 1, Duration::from_millis(700));
    let run = env.core.erpnext_start(&form(&env, &["SD-1", "SD-2"]), None).await.unwrap();
    for _ in 0..400 {
        if env.sim.erpnext_a().count("Purchase Receipt") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A user on site A delivers SD-2 to another customer, through the API.
    let c = SimCredentials::default();
    let http = reqwest::Client::new();
    let auth = format!("token {}:{}", c.erpnext_api_key, c.erpnext_api_secret);
    let other = json!({
        "company": "Company A", "customer": "Guayaquil Retail", "selling_price_list": "Standard Selling", "docstatus": 1,
        "items": [{"item_code": "SKU-ROUTER-01", "qty": 1, "rate": 150, "warehouse": "Stores - A", "serial_no": "SD-2"}]
    });
    let r: Value = http
        .post(format!("{}/api/resource/Delivery Note", env.sim.erpnext_a))
        .header("Authorization", &auth)
        .json(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let intruder = r["data"]["name"].as_str().expect("the other delivery was accepted").to_string();

    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let err = d.run.last_error.clone().unwrap();
    assert_eq!(
        (err.step, err.kind.as_str(), err.exc_type.as_deref()),
        (Some(3), "serial_not_available", Some("SerialNoWarehouseError"))
    );
    assert!(err.message.contains("Serial No SD-2 is not present in the warehouse Stores - A"), "{}", err.message);
    assert!(err.fix.contains("Serial No list"), "{}", err.fix);
    assert_eq!(d.steps[2].status, StepStatus::Failed);
    assert!(docs_of(env.sim.erpnext_a(), "Delivery Note", &run.id).is_empty());

    // The fix: the other delivery is cancelled on the site; the operator retries.
    let r = http
        .post(format!("{}/api/method/frappe.client.cancel", env.sim.erpnext_a))
        .header("Authorization", &auth)
        .json(&json!({"doctype": "Delivery Note", "name": intruder}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    env.core.erpnext_retry(&run.id, "the other delivery was a mistake and is cancelled").unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_four(&env, &d, &["SD-1", "SD-2"]);
}

// ---------------------------------------------------------------------------------------------
// Posting in each site's own time (issue: transfers failed every evening in the Americas).
// ---------------------------------------------------------------------------------------------

/// The posting date and time of this run's document of `doctype` on a site.
fn posted(ctl: &ErpnextControl, doctype: &str, run_id: &str) -> (String, String) {
    let d = &docs_of(ctl, doctype, run_id)[0];
    let date = d.get("posting_date").or_else(|| d.get("transaction_date")).and_then(Value::as_str).unwrap();
    (date.to_string(), d.get("posting_time").and_then(Value::as_str).unwrap_or("").to_string())
}

#[tokio::test]
async fn an_evening_transfer_posts_in_each_sites_own_day_and_time() {
    // 00:02:15 UTC on the 6th: 19:02 on the 5th in Guayaquil (site A), 21:02 in São Paulo (site B).
    let env = setup_at("2026-12-06T00:02:15Z", |_| {}).await;
    // Added without a time zone, as from the CLI: the site has not said its zone yet.
    assert_eq!(env.a.timezone_source, TimezoneSource::Computer);

    let p = env.core.erpnext_preview(&form(&env, &["EV-0001"])).await.unwrap();
    assert!(p.valid, "{:?}", p.problems);
    assert_eq!(
        (p.documents[1].posting_date.as_str(), p.documents[1].timezone.as_str()),
        ("2026-12-05", "America/Guayaquil")
    );
    assert!(p.documents[1].posting_time.starts_with("19:02"), "{}", p.documents[1].posting_time);
    assert_eq!(
        (p.documents[3].posting_date.as_str(), p.documents[3].timezone.as_str()),
        ("2026-12-05", "America/Sao_Paulo")
    );
    assert!(p.documents[3].posting_time.starts_with("21:02"), "{}", p.documents[3].posting_time);
    // The preview asked both sites and kept what they said on the connections.
    let a = env.core.connections().get(&env.a.id).unwrap();
    assert_eq!((a.timezone.as_str(), a.timezone_source), ("America/Guayaquil", TimezoneSource::Site));
    assert_eq!(env.core.connections().get(&env.b.id).unwrap().timezone, "America/Sao_Paulo");
    // The form still says "no date": each document is dated when it is sent.
    assert_eq!(p.input.posting_date, None);
    // A date that is tomorrow on site A (though today in UTC) is refused before anything is sent.
    let mut tomorrow = form(&env, &["EV-0001"]);
    tomorrow.posting_date = Some("2026-12-06".into());
    let refused = env.core.erpnext_preview(&tomorrow).await.unwrap();
    assert!(
        refused.problems.iter().any(|p| p.field == "posting_date" && p.message.contains("future")),
        "{:?}",
        refused.problems
    );

    let run = env.core.erpnext_start(&form(&env, &["EV-0001"]), Some("evening transfer")).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_four(&env, &d, &["EV-0001"]);
    let (sa, sb) = (env.sim.erpnext_a(), env.sim.erpnext_b());
    assert_eq!(posted(sa, "Purchase Order", &run.id).0, "2026-12-05");
    for (ctl, dt, hour) in
        [(sa, "Purchase Receipt", "19:0"), (sa, "Delivery Note", "19:0"), (sb, "Purchase Receipt", "21:0")]
    {
        let (date, time) = posted(ctl, dt, &run.id);
        assert_eq!(date, "2026-12-05", "{dt}");
        assert!(time.starts_with(hour), "{dt} posted at {time}");
    }
    // Nothing was refused on the way.
    assert!(d.attempts.iter().all(|x| x.outcome != "future_posting"), "{:?}", d.attempts);
}

#[tokio::test]
async fn a_site_whose_clock_is_behind_gets_its_own_time_once_without_asking() {
    // Site A's clock is three minutes behind this computer's.
    let env = setup_at("2026-12-06T00:02:15Z", |sim| {
        let behind = chrono::DateTime::parse_from_rfc3339("2026-12-05T23:59:15Z").unwrap().with_timezone(&chrono::Utc);
        sim.erpnext_a().set_clock(behind);
    })
    .await;
    let run = env.core.erpnext_start(&form(&env, &["CK-0001"]), Some("clock test")).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_four(&env, &d, &["CK-0001"]);
    // Steps 2 and 3 were refused once each as "in the future", then sent with the site's clock.
    let refused: Vec<Option<u8>> =
        d.attempts.iter().filter(|x| x.outcome == "future_posting").map(|x| x.step).collect();
    assert_eq!(refused, vec![Some(2), Some(3)], "{:?}", d.attempts);
    for dt in ["Purchase Receipt", "Delivery Note"] {
        let (date, time) = posted(env.sim.erpnext_a(), dt, &run.id);
        assert_eq!(date, "2026-12-05");
        assert!(time.starts_with("18:59") || time.starts_with("19:00"), "{dt} posted at {time}");
    }
    // The job log names both clocks.
    let job =
        env.core.jobs.list(&Default::default()).unwrap().into_iter().find(|j| j.kind == "erpnext_workflow").unwrap();
    let logs = env.core.jobs.detail(&job.id).unwrap().logs;
    let line = logs.iter().find(|l| l.key.as_deref() == Some("transfer.future_posting_retry")).expect("a retry line");
    assert!(
        line.message.contains("its clock reads 2026-12-05 18:59")
            && line.message.contains("this computer reads 2026-12-05 19:0"),
        "{}",
        line.message
    );
}

#[tokio::test]
async fn a_site_refusing_even_its_own_time_stops_with_both_clocks() {
    let env = setup_at("2026-12-06T00:02:15Z", |_| {}).await;
    let msg = "Posting future stock transactions are not allowed due to Immutable Ledger";
    env.sim.erpnext_a().reject_inserts("Purchase Receipt", 2, "ValidationError", msg);
    let run = env.core.erpnext_start(&form(&env, &["CK-0002"]), Some("clock test")).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let e = d.run.last_error.clone().unwrap();
    assert_eq!((e.step, e.kind.as_str()), (Some(2), "future_posting"));
    assert!(
        e.message.contains("Its clock reads 2026-12-05 19:0") && e.message.contains("America/Guayaquil"),
        "{}",
        e.message
    );
    assert!(e.fix.contains("System Settings"), "{}", e.fix);
    // Exactly one retry, and no document created.
    assert_eq!(d.attempts.iter().filter(|x| x.outcome == "future_posting").count(), 2);
    assert!(docs_of(env.sim.erpnext_a(), "Purchase Receipt", &run.id).is_empty());
}

#[tokio::test]
async fn a_site_that_will_not_say_its_zone_uses_the_connections_and_says_so() {
    let env = setup_at("2026-12-06T00:02:15Z", |sim| sim.erpnext_a().set_time_zone(None)).await;
    // The user set the zone on the connection.
    let input = ConnectionInput {
        name: env.a.name.clone(),
        kind: ConnectionKind::Erpnext,
        base_url: env.a.base_url.clone(),
        timezone: "America/Guayaquil".into(),
        credentials: None,
    };
    let a = env.core.connections().update(&env.a.id, &input).unwrap();
    assert_eq!(a.timezone_source, TimezoneSource::User);
    let p = env.core.erpnext_preview(&form(&env, &["NZ-0001"])).await.unwrap();
    assert!(p.notes.iter().any(|n| n.contains("has no time zone") && n.contains("America/Guayaquil")), "{:?}", p.notes);
    let run = env.core.erpnext_start(&form(&env, &["NZ-0001"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Succeeded, "{:?}", d.run.last_error);
    assert_eq!(posted(env.sim.erpnext_a(), "Delivery Note", &run.id).0, "2026-12-05");
    // The connection keeps the user's zone; it is not replaced by anything else.
    let a = env.core.connections().get(&env.a.id).unwrap();
    assert_eq!((a.timezone.as_str(), a.timezone_source), ("America/Guayaquil", TimezoneSource::User));
}

/// Waits for a job to end and requires it to have succeeded.
async fn succeeds(env: &Env, id: &str) {
    for _ in 0..400 {
        let j = env.core.jobs.get(id).unwrap();
        if !j.status.is_active() {
            assert_eq!(j.status, JobStatus::Succeeded, "{} {:?}", j.kind, j.error);
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} did not finish");
}

async fn sync_site(env: &Env, conn: &Connection) {
    let job = env.core.sync_start(&conn.id, Default::default()).unwrap();
    succeeds(env, &job.id).await;
}

async fn delivery_check(env: &Env) -> Vec<backoffice_core::ops::divergences::Divergence> {
    use backoffice_core::ops::divergences::{DivergenceFilter, SessionParams};
    let rule = "erpnext_delivery_without_receipt";
    let job =
        env.core.start_divergence_session(SessionParams { rules: vec![rule.into()], ..Default::default() }).unwrap();
    succeeds(env, &job.id).await;
    env.core
        .divergences(&DivergenceFilter {
            statuses: vec!["open".into()],
            rule_ids: vec![rule.into()],
            ..Default::default()
        })
        .unwrap()
        .items
}

#[tokio::test]
async fn a_delivery_to_the_other_company_without_its_receipt_is_a_divergence_until_the_run_is_resumed() {
    let env = setup().await;
    // Site B refuses the receipt: the delivery note exists on A, nothing names it on B.
    reject_step(&env, 4, "ValidationError", "Warehouse Stores - B is frozen");
    let run = env.core.erpnext_start(&form(&env, &["DV-1", "DV-2"]), None).await.unwrap();
    let d = wait_run(&env.core, &run.id).await;
    assert_eq!(d.run.status, RunStatus::Failed);
    let dn = d.steps[2].doc_name.clone().expect("the delivery note was made");
    sync_site(&env, &env.a).await;
    sync_site(&env, &env.b).await;

    let found = delivery_check(&env).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let x = &found[0];
    assert_eq!((x.erp.as_str(), x.resource.as_str(), x.record_id.as_str()), ("erpnext", "delivery_notes", dn.as_str()));
    assert_eq!((x.basis.as_str(), x.confidence), ("exact_key", 95));
    assert_eq!(x.connection_id.as_deref(), Some(env.a.id.as_str()));
    assert_eq!(x.facts.get("run").map(String::as_str), Some(run.id.as_str()));
    assert_eq!(x.facts.get("run_status").map(String::as_str), Some("failed"));
    assert_eq!(x.facts.get("site_b").map(String::as_str), Some("Site B"));
    assert_eq!(x.facts.get("customer").map(String::as_str), Some("Company B"));
    assert_eq!(x.facts.get("fix").map(String::as_str), Some("erpnext_run"));

    // The run is resumed; once site B is synced again the divergence is resolved at the source.
    env.core.erpnext_retry(&run.id, "the warehouse is open again").unwrap();
    assert_eq!(wait_run(&env.core, &run.id).await.run.status, RunStatus::Succeeded);
    sync_site(&env, &env.b).await;
    assert!(delivery_check(&env).await.is_empty());
    let gone = env.core.divergence(&x.id).unwrap();
    assert_eq!(gone.divergence.status, "resolved");
}
