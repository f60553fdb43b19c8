//! Omie against the loopback simulator: real HTTP, a real SQLite file. The sync of every resource
//! through the generic engine with local client matching, attachment transfer (RF-001), purchase
//! order closing (RF-002), the blocked key, the redundant-call rule and the limits on simulated time.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use backoffice_core::erp::omie::attachments::{OmieAttachmentSettings, OmieTransferRequest, OmieUploadRequest};
use backoffice_core::erp::omie::client::OmieClient;
use backoffice_core::erp::omie::limiter::{self, Clock, Limiter, OmieLimits, SimClock};
use backoffice_core::erp::omie::po_close::{OmieCloseRequest, OmiePoCloseConfig};
use backoffice_core::erp::omie::sync::{OmieScanOptions, RESOURCES};
use backoffice_core::model::{ConnectionKind, Credentials, Job, JobStatus};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::sync::SyncOptions;
use backoffice_core::{Core, Paths};
use backoffice_sim::omie::{Kind, PoCloseRule};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use serde_json::json;

struct Env {
    _dir: tempfile::TempDir,
    core: Arc<Core>,
    conn_id: String,
    sim: SimHandle,
}

fn creds() -> Credentials {
    let c = SimCredentials::default();
    Credentials { key: c.omie_app_key, secret: c.omie_app_secret }
}

async fn setup(scale: u64) -> Env {
    let sim = backoffice_sim::start(SimConfig { scale, ..SimConfig::default() }).await.unwrap();
    // Tests repeat identical calls within seconds: both sides use a 1 s redundancy window
    // (the documented 60 s is the default; the rule itself is tested below).
    sim.omie().set_limits(backoffice_sim::omie::OmieLimits {
        redundant_window: Duration::from_secs(1),
        ..Default::default()
    });
    limiter::install(
        &limiter::host_of(&sim.omie),
        Limiter::new(
            OmieLimits { redundant_window: Duration::from_secs(1), ..Default::default() },
            Arc::new(limiter::SystemClock::new()),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core =
        Core::open(Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") }, secrets.clone()).unwrap();
    let conn = core.connections().ensure_headless("Matriz", ConnectionKind::Omie, &sim.omie).unwrap();
    secrets.put(&conn.id, creds());
    Env { _dir: dir, core, conn_id: conn.id, sim }
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

fn logs(env: &Env, job: &Job) -> String {
    env.core.jobs.detail(&job.id).unwrap().logs.iter().map(|l| format!("{} {}\n", l.level, l.message)).collect()
}

fn count(env: &Env, sql: &str) -> i64 {
    env.core.store.read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
}

fn today() -> String {
    chrono::Utc::now().with_timezone(&chrono_tz::America::Sao_Paulo).date_naive().format("%Y-%m-%d").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_every_resource_and_match_local_clients_without_duplicates() {
    let env = setup(30).await;
    let o = env.sim.omie();
    // A local client known before Omie, with the CNPJ written another way.
    let c3 = o.record(Kind::Client, 3);
    let doc = c3["cnpj_cpf"].as_str().unwrap().to_string();
    let digits: String = doc.chars().filter(|c| c.is_ascii_digit()).collect();
    let local = env.core.omie_add_local_client(&env.conn_id, "Cliente antigo", &digits).unwrap();
    // An Omie client whose CNPJ has wrong check digits.
    o.add_client(json!({"codigo_cliente_omie": 99_000_001u64, "razao_social": "CNPJ ERRADO LTDA", "cnpj_cpf": "11.222.333/0001-82"}));

    let job = wait(
        &env.core,
        env.core.sync_start(&env.conn_id, SyncOptions { page_size: Some(7), ..Default::default() }).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}\n{}", job.error, logs(&env, &job));
    let summary = env.core.sync_summary(&env.conn_id).unwrap();
    let records = |name: &str| summary.iter().find(|s| s.resource == name).unwrap().records;
    assert_eq!(records("clientes"), 31);
    assert_eq!(records("contas_pagar"), 30);
    assert_eq!(records("contas_receber"), 30);
    assert_eq!(records("recebimentos"), 6);
    assert_eq!(records("nfse"), 6);
    // PesquisarPedCompra with every status flag: all orders.
    assert_eq!(records("pedidos_compra"), 6);
    // Upsert by Omie id: the stored ids are Omie's.
    let id = count(&env, &format!("SELECT count(*) FROM omie_recebimentos WHERE id='{}'", o.id_of(Kind::Receipt, 2)));
    assert_eq!(id, 1);

    // Local clients: one per valid Omie client; the old one linked by its CNPJ, not duplicated.
    let clients = env.core.omie_local_clients(&env.conn_id).unwrap();
    assert_eq!(clients.len(), 30, "one local record per valid client");
    let linked = clients.iter().find(|c| c.id == local.id).unwrap();
    assert_eq!(linked.omie_codigo.as_deref(), Some(c3["codigo_cliente_omie"].to_string().as_str()));
    assert_eq!(linked.matched_by.as_deref(), Some("document"));
    assert_eq!(clients.iter().filter(|c| c.document.as_deref() == Some(digits.as_str())).count(), 1);
    // The invalid CNPJ is quarantined with a plain reason; the batch went on.
    let q = env.core.sync_quarantine(&env.conn_id).unwrap();
    let bad = q.iter().find(|r| r.record_id == "99000001").expect("quarantined");
    assert!(bad.reason.contains("11.222.333/0001-82") && bad.reason.contains("check digits"), "{}", bad.reason);
    assert_eq!(bad.why.key, "omie.errors.omie_invalid_tax_id");
    assert_eq!(bad.why.params.get("document").map(String::as_str), Some("11.222.333/0001-82"));
    assert!(logs(&env, &job).contains("CNPJ ERRADO LTDA"));

    // Incremental: a touched payable is re-read; clients now match by Omie's code; nothing duplicated.
    o.touch(Kind::Payable, 5);
    env.sim.omie_control().reset_counters();
    let job = wait(
        &env.core,
        env.core.sync_start(&env.conn_id, SyncOptions { page_size: Some(7), ..Default::default() }).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert!(logs(&env, &job).contains("incremental read of records changed since"));
    assert_eq!(count(&env, "SELECT count(*) FROM omie_contas_pagar"), 30);
    let clients = env.core.omie_local_clients(&env.conn_id).unwrap();
    assert_eq!(clients.len(), 30);
    assert_eq!(clients.iter().find(|c| c.id == local.id).unwrap().omie_codigo, linked.omie_codigo);
    // Far fewer requests than the full read (only changed records and the whole NFS-e list).
    assert!(env.sim.omie_control().total_requests() < 20, "{}", env.sim.omie_control().total_requests());
    // Every resource is declared with a page size of at most 500.
    let job = env
        .core
        .sync_start(
            &env.conn_id,
            SyncOptions { page_size: Some(900), resources: vec!["nfse".into()], ..Default::default() },
        )
        .unwrap();
    let job = wait(&env.core, job).await;
    assert!(logs(&env, &job).contains("lowered to 500"));
    assert_eq!(RESOURCES.len(), 6);
}

fn receipt_with_two_files(env: &Env) -> (String, String) {
    // Receipt 2 has two seeded attachments, one named with two dots.
    let o = env.sim.omie();
    let rid = o.id_of(Kind::Receipt, 2).to_string();
    let pid = o.receipt_payables(2)[0].to_string();
    (rid, pid)
}

fn transfer(from: &str, to: &str) -> OmieTransferRequest {
    OmieTransferRequest {
        from_table: "com-recebimento".into(),
        from_id: from.into(),
        to_table: "conta-pagar".into(),
        to_id: to.into(),
        dry_run: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rf001_attachments_are_copied_exactly_once_and_bad_input_is_named() {
    let env = setup(30).await;
    let o = env.sim.omie();
    // A short redundancy window in the sim keeps repeated runs fast (the client waits what it says).
    let (rid, pid) = receipt_with_two_files(&env);
    let pid_n: u64 = pid.parse().unwrap();

    // Dry run: a preview, nothing copied.
    let mut req = transfer(&rid, &pid);
    req.dry_run = true;
    let job = wait(&env.core, env.core.start_omie_attachment_transfer(&env.conn_id, req).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let preview = env.core.omie_preview(&job.id).unwrap();
    assert_eq!(preview.len(), 2, "{preview:?}");
    assert!(preview.iter().any(|p| p.destination.contains("boleto_10002.pdf")));
    assert!(o.attachments("conta-pagar", pid_n).is_empty());
    assert_eq!(count(&env, "SELECT count(*) FROM omie_attachment_transfers"), 0);

    // The transfer: two files, the two-dot name renamed, content intact.
    let job =
        wait(&env.core, env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&rid, &pid)).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}\n{}", job.error, logs(&env, &job));
    let dest = o.attachments("conta-pagar", pid_n);
    let src = o.attachments("com-recebimento", rid.parse().unwrap());
    let names: BTreeSet<String> = dest.iter().map(|a| a.name.clone()).collect();
    assert_eq!(names, BTreeSet::from(["NF-10002.pdf".to_string(), "boleto_10002.pdf".to_string()]));
    for s in &src {
        assert!(dest.iter().any(|d| d.content == s.content), "{} copied byte for byte", s.name);
    }
    assert!(dest.iter().all(|d| d.cod_int.len() == 20 && d.cod_int.starts_with("BO")));
    let t = &env.core.omie_attachment_transfers(&env.conn_id, None, 10).unwrap()[0];
    assert_eq!((t.status.as_str(), t.transferred, t.duplicates, t.failed, t.attempts), ("succeeded", 2, 0, 0, 1));
    assert!(t.duration_ms.is_some());
    let map = env.core.omie_attachment_map(&env.conn_id).unwrap();
    assert_eq!((map.len(), map[0].files), (1, 2));

    // Again: nothing new on the destination.
    let job =
        wait(&env.core, env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&rid, &pid)).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(o.attachments("conta-pagar", pid_n).len(), 2);
    let t = &env.core.omie_attachment_transfers(&env.conn_id, None, 10).unwrap()[0];
    assert_eq!((t.status.as_str(), t.attempts), ("succeeded", 1), "checking a done pair again is not an attempt");

    // Same name and size already on another payable (uploaded by a user): skipped as duplicate.
    let other = o.receipt_payables(2).get(1).copied().unwrap_or(o.id_of(Kind::Payable, 20));
    o.add_attachment("conta-pagar", other, "NF-10002.pdf", &src[0].content, None);
    let job = wait(
        &env.core,
        env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&rid, &other.to_string())).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert_eq!(o.attachments("conta-pagar", other).len(), 2, "only the missing file was added");
    assert!(logs(&env, &job).contains("already on conta-pagar"));

    // Bad input: unknown table and missing id are refused before any call, with their own codes.
    let mut bad = transfer(&rid, &pid);
    bad.to_table = "conta_a_pagar".into();
    let e = env.core.start_omie_attachment_transfer(&env.conn_id, bad).unwrap_err();
    assert_eq!(e.code(), "omie_unknown_table");
    assert!(e.to_string().contains("conta-pagar"));
    let e = env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&rid, "")).unwrap_err();
    assert_eq!(e.code(), "omie_missing_input");
    // An id that does not exist: a logged failure naming the record.
    let job =
        wait(&env.core, env.core.start_omie_attachment_transfer(&env.conn_id, transfer("123", &pid)).unwrap()).await;
    assert_eq!(job.status, JobStatus::Failed, "{}", logs(&env, &job));
    assert_eq!(job.error.as_ref().unwrap().code, "omie_record_not_found");
    let failed = env.core.omie_attachment_transfers(&env.conn_id, Some("failed"), 10).unwrap();
    assert!(failed.iter().any(|t| t.origin_id == "123"
        && t.last_error.as_ref().is_some_and(|e| e.message.contains("123") && e.code == "omie_record_not_found")));

    // A corrupt zip, a too large file and a link that keeps expiring: each named, the batch goes on.
    let r1 = o.id_of(Kind::Receipt, 1);
    let p1 = o.receipt_payables(1)[0];
    o.add_attachment("com-recebimento", r1, "danificado.pdf", b"%PDF", Some(b"PK\x03\x04not really a zip".to_vec()));
    o.add_attachment("com-recebimento", r1, "grande.pdf", &vec![b'x'; 1_200_000], None);
    env.core
        .save_omie_attachment_settings(&env.conn_id, &OmieAttachmentSettings { max_file_mb: 1, ..Default::default() })
        .unwrap();
    let job = wait(
        &env.core,
        env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&r1.to_string(), &p1.to_string())).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Failed);
    let l = logs(&env, &job);
    assert!(l.contains("damaged zip"), "{l}");
    assert!(l.contains("over the 1 MB limit"), "{l}");
    let d = env
        .core
        .omie_attachment_transfer_detail(&env.core.omie_attachment_transfers(&env.conn_id, None, 1).unwrap()[0].id)
        .unwrap();
    assert_eq!(d.transfer.failed, 2);
    assert_eq!(
        d.files.iter().filter(|f| f.status == "succeeded").count(),
        1,
        "the good file went through: {:?}",
        d.files
    );
    o.set_link_ttl(Duration::ZERO);
    // Receipt 4 has one seeded attachment.
    let r0 = o.id_of(Kind::Receipt, 4);
    let p0 = o.receipt_payables(4)[0];
    let job = wait(
        &env.core,
        env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&r0.to_string(), &p0.to_string())).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(logs(&env, &job).contains("expired 2 times in a row"), "{}", logs(&env, &job));
    // Reprocess: once links work again, the pending transfer succeeds.
    o.set_link_ttl(Duration::from_secs(600));
    let job = wait(&env.core, env.core.start_omie_attachment_retry(&env.conn_id).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let t0 = env.core.omie_attachment_transfers(&env.conn_id, None, 50).unwrap();
    let t0 = t0.iter().find(|t| t.origin_id == r0.to_string()).unwrap();
    assert_eq!((t0.status.as_str(), t0.transferred, t0.attempts), ("succeeded", 1, 2));
    assert_eq!(o.attachments("conta-pagar", p0).len(), 1);

    // Direct upload of a local file (a name with two dots), then the same file again: once.
    let f = env._dir.path().join("recibo.maio.pdf");
    std::fs::write(&f, b"%PDF-1.4 local file").unwrap();
    let up = OmieUploadRequest {
        table: "conta-pagar".into(),
        id: p0.to_string(),
        file_path: f.display().to_string(),
        file_name: None,
        content_base64: None,
    };
    // The desktop picker sends the same bytes as content: still the same file, still once.
    let by_content = OmieUploadRequest {
        file_path: String::new(),
        file_name: Some("recibo.maio.pdf".into()),
        content_base64: Some({
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 local file")
        }),
        ..up.clone()
    };
    for req in [up.clone(), up.clone(), by_content] {
        let job = wait(&env.core, env.core.start_omie_attachment_upload(&env.conn_id, req).unwrap()).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    }
    let names: Vec<String> = o.attachments("conta-pagar", p0).iter().map(|a| a.name.clone()).collect();
    assert_eq!(names.iter().filter(|n| *n == "recibo_maio.pdf").count(), 1, "{names:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rf001_scan_finds_changed_receipts_with_a_preview_first() {
    let env = setup(30).await;
    let o = env.sim.omie();
    o.touch(Kind::Receipt, 2);
    let since = Some(today());
    let job = wait(
        &env.core,
        env.core
            .start_omie_attachment_scan(&env.conn_id, OmieScanOptions { since: since.clone(), dry_run: true })
            .unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let payables = o.receipt_payables(2);
    assert_eq!(env.core.omie_preview(&job.id).unwrap().len(), 2 * payables.len());
    assert!(o.attachments("conta-pagar", payables[0]).is_empty());
    let job = wait(
        &env.core,
        env.core.start_job("omie_attachment_scan", Some(&env.conn_id), json!({"since": since})).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}\n{}", job.error, logs(&env, &job));
    for p in &payables {
        assert_eq!(o.attachments("conta-pagar", *p).len(), 2, "payable {p}");
    }
    let map = env.core.omie_attachment_map(&env.conn_id).unwrap();
    assert!(map.iter().all(|m| m.nf_number.as_deref() == Some("10002")), "{map:?}");
}

fn po_config(call: &str, status: &str) -> OmiePoCloseConfig {
    OmiePoCloseConfig { call: call.into(), status_value: status.into(), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn rf002_orders_close_through_the_configured_call_and_the_outcome_is_verified() {
    let env = setup(30).await;
    let o = env.sim.omie();
    // This "account" closes orders with AlterarPedidoCompra + cStatus "Encerrado" (the seed's guess).
    o.set_po_close_rule(Some(PoCloseRule {
        service: "produtos/pedidocompra".into(),
        call: "AlterarPedidoCompra".into(),
        status_tag: "cStatus".into(),
        closes_with: "Encerrado".into(),
    }));
    let close = |order: &str, dry_run: bool| OmieCloseRequest {
        order_number: order.into(),
        item: None,
        service_invoice_number: Some("9021".into()),
        service_invoice_id: Some("77".into()),
        dry_run,
    };
    // Not configured: a plain failure saying what to set.
    let job = wait(&env.core, env.core.start_omie_po_close(&env.conn_id, close("1000", false), None).unwrap()).await;
    assert_eq!(job.error.as_ref().unwrap().code, "omie_po_close_not_configured");

    // The wrong status value for this account: the call answers, the order stays open → failure.
    env.core.save_omie_po_close_config(&env.conn_id, &po_config("AlterarPedidoCompra", "Fechado")).unwrap();
    let job = wait(&env.core, env.core.start_omie_po_close(&env.conn_id, close("1000", false), None).unwrap()).await;
    assert_eq!(job.status, JobStatus::Failed);
    let e = job.error.unwrap();
    assert_eq!(e.code, "omie_po_not_closed");
    assert!(e.message.contains("did not close it"), "{}", e.message);
    assert_eq!(o.order_state(0).1, "pendente");
    // A call Omie does not know is refused like an unknown method.
    let job = wait(
        &env.core,
        env.core
            .start_omie_po_close(&env.conn_id, close("1001", false), Some(po_config("EncerrarPedCompra", "Encerrado")))
            .unwrap(),
    )
    .await;
    assert!(job.error.unwrap().message.contains("EncerrarPedCompra"));

    // Dry run, then the right configuration: closed, verified, logged with stages.
    env.core.save_omie_po_close_config(&env.conn_id, &po_config("AlterarPedidoCompra", "Encerrado")).unwrap();
    let job = wait(&env.core, env.core.start_omie_po_close(&env.conn_id, close("1000", true), None).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(env.core.omie_preview(&job.id).unwrap()[0].action, "close");
    assert_eq!(o.order_state(0).1, "pendente", "a dry run changes nothing");
    // Retry of the failures (order 1000 failed before) closes it now.
    let job = wait(&env.core, env.core.start_omie_po_close_retry(&env.conn_id, None).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert_eq!(o.order_state(0).1, "encerrado");
    let log = env.core.omie_po_closures(&env.conn_id, None, 10).unwrap();
    let c = log.iter().find(|c| c.order_number == "1000").unwrap();
    // Attempts: not configured, wrong status value, then the retry that closed it.
    assert_eq!((c.status.as_str(), c.outcome.as_deref(), c.attempts), ("succeeded", Some("closed"), 3));
    assert_eq!((c.previous_status.as_deref(), c.new_status.as_deref()), (Some("open"), Some("closed")));
    assert_eq!(c.service_invoice_number.as_deref(), Some("9021"));
    // Already closed (order 4 is closed in the seed): success, nothing called.
    let before = o.limit_stats().admitted;
    let job = wait(&env.core, env.core.start_omie_po_close(&env.conn_id, close("1004", false), None).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.counts.get("already_closed"), Some(&1));
    assert!(o.limit_stats().admitted - before <= 3, "consult and search only");

    // Scan: a payable with a service taken against order 1005, changed today.
    let p = (0..30).find(|p| o.payable_service_order(*p) == Some(5)).unwrap();
    o.touch(Kind::Payable, p);
    let job = wait(
        &env.core,
        env.core
            .start_job("omie_po_close_scan", Some(&env.conn_id), json!({"since": today(), "dry_run": true}))
            .unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let pv = env.core.omie_preview(&job.id).unwrap();
    assert!(pv.iter().any(|i| i.origin == "order 1005" && i.action == "close"), "{pv:?}");
    let job = wait(
        &env.core,
        env.core.start_job("omie_po_close_scan", Some(&env.conn_id), json!({"since": today()})).unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}\n{}", job.error, logs(&env, &job));
    assert_eq!(o.order_state(5).1, "encerrado");
    let c = env.core.omie_po_closures(&env.conn_id, None, 20).unwrap();
    let c = c.iter().find(|c| c.order_number == "1005").unwrap();
    assert_eq!((c.source.as_str(), c.payable_id.clone()), ("scan", Some(o.id_of(Kind::Payable, p).to_string())));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_key_stops_every_call_and_says_when_it_is_usable_again() {
    let env = setup(10).await;
    // Long enough that a loaded machine still reads the status inside it (the test then waits for the
    // status and the simulator to say it ended, not for a time).
    env.sim.omie().block_key(10);
    let job = wait(&env.core, env.core.sync_start(&env.conn_id, SyncOptions::default()).unwrap()).await;
    assert_eq!(job.status, JobStatus::Failed);
    let e = job.error.unwrap();
    assert_eq!(e.code, "omie_key_blocked");
    assert!(e.message.contains("can be used again after"), "{}", e.message);
    let st = env.core.omie_key_status(&env.conn_id).unwrap();
    assert!(st.blocked && st.seconds_left.unwrap() <= 10 && st.blocked_until.is_some(), "{st:?}");
    assert!(st.reason.unwrap().contains("consumo indevido"));
    // Every further call stops locally: the simulator sees nothing.
    let seen = env.sim.omie_control().total_requests();
    let job = wait(&env.core, env.core.sync_start(&env.conn_id, SyncOptions::default()).unwrap()).await;
    assert_eq!(job.error.unwrap().code, "omie_key_blocked");
    assert_eq!(env.sim.omie_control().total_requests(), seen);
    // After the time it named, the key works again (waiting for BackOffice's status and Omie itself
    // to say so, not for a time).
    let mut unblocked = false;
    for _ in 0..1200 {
        if !env.core.omie_key_status(&env.conn_id).unwrap().blocked && !env.sim.omie().key_blocked() {
            unblocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(unblocked, "the key stayed blocked past the time Omie named");
    let job = wait(&env.core, env.core.sync_start(&env.conn_id, SyncOptions::default()).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
}

#[tokio::test(flavor = "multi_thread")]
async fn redundant_calls_are_answered_from_cache_or_waited_out() {
    let env = setup(10).await;
    let o = env.sim.omie();
    o.set_limits(backoffice_sim::omie::OmieLimits { redundant_window: Duration::from_secs(2), ..Default::default() });
    let http = backoffice_core::http::Http::new(Duration::from_secs(10)).unwrap();
    let host = limiter::host_of(&env.sim.omie);
    let mk = || {
        let l = Limiter::new(
            OmieLimits { redundant_window: Duration::from_secs(2), ..Default::default() },
            Arc::new(limiter::SystemClock::new()),
        );
        OmieClient::with_limiter(http.clone(), &env.sim.omie, "Matriz", &creds(), l)
    };
    let a = mk();
    let p = json!({"codigo_cliente_omie": o.id_of(Kind::Client, 1)});
    let first = a.call_ok("geral/clientes/", "ConsultarCliente", p.clone()).await.unwrap();
    // The same call at once: answered from the cache, never sent.
    let again = a.call_ok("geral/clientes/", "ConsultarCliente", p.clone()).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(o.limit_stats().admitted, 1);
    // Another process (its own limiter) sends it: Omie says REDUNDANT, the client waits what it says.
    let b = mk();
    let third = b.call_ok("geral/clientes/", "ConsultarCliente", p).await.unwrap();
    assert_eq!(third, first);
    // Omie refused it once as redundant, then admitted it: the simulator, on its own clock, only
    // admits the same call again once the window it named has passed.
    assert_eq!(o.limit_stats().redundant, 1);
    assert_eq!(o.limit_stats().admitted, 2, "{:?}", o.limit_stats());
    assert_eq!(o.limit_stats().blocks, 0);
    let _ = host;

    // Concurrency: with slow answers, 8 parallel calls of one method stay within 4 in flight.
    o.set_limits(backoffice_sim::omie::OmieLimits { hold: Duration::from_millis(150), ..Default::default() });
    o.reset_limits();
    let c = mk();
    let mut tasks = vec![];
    for i in 0..8 {
        let c = c.clone();
        let p = json!({"codigo_cliente_omie": o.id_of(Kind::Client, i)});
        tasks.push(tokio::spawn(async move { c.call_ok("geral/clientes/", "ConsultarCliente", p).await.is_ok() }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert_eq!(o.limit_stats().concurrency, 0);
    // A naive client doing the same gets Client-1880.
    let raw = reqwest::Client::new();
    let mut tasks = vec![];
    for i in 0..8 {
        let raw = raw.clone();
        let url = format!("{}geral/clientes/", env.sim.omie);
        let c = creds();
        let body = json!({"call": "ConsultarCliente", "app_key": c.key, "app_secret": c.secret, "param": [{"codigo_cliente_omie": o.id_of(Kind::Client, 9 - i % 2)}]});
        tasks.push(tokio::spawn(async move { raw.post(url).json(&body).send().await.unwrap().text().await.unwrap() }));
    }
    let mut texts = String::new();
    for t in tasks {
        texts.push_str(&t.await.unwrap());
    }
    assert!(texts.contains("Client-1880"), "{texts}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_limits_hold_on_simulated_time() {
    // Five simulated minutes of one method, 8 workers: the rate stays at the limit with no fault.
    let sim = backoffice_sim::start(SimConfig { scale: 2000, ..SimConfig::default() }).await.unwrap();
    let clock = SimClock::new();
    let c2 = clock.clone();
    sim.omie().set_time_source(Arc::new(move || c2.now()));
    let dyn_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let lim =
        Limiter::new(OmieLimits { simulated_latency: Duration::from_millis(300), ..Default::default() }, dyn_clock);
    let http = backoffice_core::http::Http::new(Duration::from_secs(10)).unwrap();
    let client = OmieClient::with_limiter(http, &sim.omie, "Sim", &creds(), lim);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let span = Duration::from_secs(300);
    let mut tasks = vec![];
    for _ in 0..8 {
        let g = clock.participant();
        let (client, clock, next, ids) = (client.clone(), clock.clone(), next.clone(), sim.omie().clone());
        tasks.push(tokio::spawn(async move {
            let _g = g;
            let mut ok = 0u64;
            while clock.now() < span {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let p = json!({"codigo_cliente_omie": ids.id_of(Kind::Client, i % 2000)});
                if client.call_ok("geral/clientes/", "ConsultarCliente", p).await.is_ok() && clock.now() < span {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    let st = sim.omie().limit_stats();
    assert_eq!(st.rate_faults(), 0, "{st:?}");
    assert!(ok as f64 >= 0.95 * 240.0 * 5.0, "{ok} answered in 5 simulated minutes");
    assert!(ok <= 1200, "{ok}: more than the limit allows");
}

#[tokio::test(flavor = "multi_thread")]
async fn rf001_manual_transfer_records_the_nf_number_of_a_synced_receipt() {
    let env = setup(30).await;
    let (rid, pid) = receipt_with_two_files(&env);
    let job = wait(
        &env.core,
        env.core
            .sync_start(&env.conn_id, SyncOptions { resources: vec!["recebimentos".into()], ..Default::default() })
            .unwrap(),
    )
    .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let nf = env.core.omie_receipt_nf(&env.conn_id, &rid).expect("the synced receipt has its NF-e number");
    let job =
        wait(&env.core, env.core.start_omie_attachment_transfer(&env.conn_id, transfer(&rid, &pid)).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let map = env.core.omie_attachment_map(&env.conn_id).unwrap();
    let entry = map.iter().find(|m| m.origin_id == rid).expect("the receipt is in the integration map");
    assert_eq!(entry.nf_number.as_deref(), Some(nf.as_str()));
}
