//! Divergences end to end against the Omie simulator (its own HTTP server on loopback) and a real
//! SQLite file: detection over synced data, the lifecycle across sessions, decisions with reasons,
//! apply and rollback in the ERP with the audit trail, and refusals that protect someone's edit.

use std::sync::Arc;
use std::time::Duration;

use backoffice_core::erp::omie::limiter::{self, Limiter, OmieLimits};
use backoffice_core::model::{ConnectionKind, Credentials, Job, JobStatus};
use backoffice_core::ops::divergences::{ApplyParams, Decision, DivergenceFilter, RuleInput, SessionParams};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::sync::SyncOptions;
use backoffice_core::{Core, Paths};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use serde_json::{json, Value};

struct Env {
    dir: tempfile::TempDir,
    core: Arc<Core>,
    conn_id: String,
    sim: SimHandle,
}

async fn setup(scale: u64) -> Env {
    let sim = backoffice_sim::start(SimConfig { scale, ..SimConfig::default() }).await.unwrap();
    // Reads of the same record repeat within seconds here: a 1 s redundancy window on both sides
    // (the documented 60 s is the default and is tested in omie_flows).
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
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.omie_app_key, secret: c.omie_app_secret });
    Env { dir, core, conn_id: conn.id, sim }
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

async fn sync(env: &Env) {
    let job = env.core.sync_start(&env.conn_id, SyncOptions::default()).unwrap();
    let job = wait(&env.core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
}

async fn session(env: &Env) -> Job {
    let job = env.core.start_divergence_session(SessionParams::default()).unwrap();
    let job = wait(&env.core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    job
}

/// Calls the simulator directly (not through BackOffice's client): what the ERP really holds.
async fn omie(env: &Env, service: &str, call: &str, param: Value) -> Value {
    let c = SimCredentials::default();
    let body = json!({"call": call, "app_key": c.omie_app_key, "app_secret": c.omie_app_secret, "param": [param]});
    // Stay out of the redundancy window of BackOffice's own identical reads.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    reqwest::Client::new()
        .post(format!("{}{service}", env.sim.omie))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn category_in_omie(env: &Env, id: &str) -> String {
    let v = omie(
        env,
        "financas/contapagar/",
        "ConsultarContaPagar",
        json!({"codigo_lancamento_omie": id.parse::<u64>().unwrap()}),
    )
    .await;
    v["codigo_categoria"].as_str().unwrap_or_default().to_string()
}

/// Plain SQL over the raw synced JSON: the rules' expected findings, computed another way.
fn expected(env: &Env, sql: &str) -> i64 {
    env.core.store.read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
}

fn open_of(env: &Env, rule: &str) -> Vec<backoffice_core::ops::divergences::Divergence> {
    env.core
        .divergences(&DivergenceFilter {
            statuses: vec!["open".into()],
            rule_ids: vec![rule.into()],
            ..Default::default()
        })
        .unwrap()
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_find_what_plain_sql_finds_and_a_second_session_changes_nothing() {
    let env = setup(400).await;
    sync(&env).await;
    let first = session(&env).await;

    let misfiled = expected(
        &env,
        "SELECT count(*) FROM omie_contas_pagar WHERE deleted_at IS NULL AND instr(lower(json_extract(raw, '$.observacao')), 'trade marketing') > 0
           AND json_extract(raw, '$.codigo_categoria') <> '2.04.01' AND json_extract(raw, '$.status_titulo') <> 'CANCELADO'",
    );
    assert!(misfiled > 0, "the simulator plants misfiled trade marketing payables");
    let class = open_of(&env, "omie_trade_marketing");
    assert_eq!(class.len() as i64, misfiled);
    let d = &class[0];
    assert_eq!(d.confidence, 95);
    assert_eq!(d.basis, "pattern");
    assert_eq!(d.facts.get("category_expected").map(String::as_str), Some("2.04.01"));
    let c = d.correction.as_ref().expect("a correction");
    assert_eq!((c.field.as_str(), c.after.as_str()), ("codigo_categoria", "2.04.01"));
    assert_ne!(c.before, "2.04.01");

    let dup_groups = expected(
        &env,
        "SELECT count(*) FROM (SELECT 1 FROM omie_contas_pagar WHERE deleted_at IS NULL AND json_extract(raw, '$.status_titulo') <> 'CANCELADO'
           AND coalesce(json_extract(raw, '$.numero_documento'), '') <> ''
           GROUP BY connection_id, json_extract(raw, '$.codigo_cliente_fornecedor'), json_extract(raw, '$.numero_documento'),
                    json_extract(raw, '$.numero_parcela'), json_extract(raw, '$.valor_documento') HAVING count(*) > 1)",
    );
    assert!(dup_groups > 0, "the simulator plants repeated payables");
    let dups = open_of(&env, "omie_duplicate_payables");
    assert_eq!(dups.len() as i64, dup_groups);
    assert!(
        dups.iter().all(|d| d.correction.is_none() && d.evidence.len() >= 2),
        "duplicates are flagged, not corrected"
    );

    let values = open_of(&env, "omie_receipt_value");
    assert!(!values.is_empty(), "the simulator plants an NF-e whose payables add up to R$ 10 more");
    for d in &values {
        assert_eq!(d.amount.as_deref(), Some("10"), "{:?}", d.facts);
        assert_eq!(d.basis, "exact_key");
    }
    // Every other receipt's payables add up exactly (the simulator is one consistent company).
    let receipts_with_payables = expected(
        &env,
        "SELECT count(DISTINCT r.id) FROM omie_recebimentos r JOIN omie_contas_pagar p ON p.connection_id = r.connection_id
           AND p.id_origem = 'NFEP' AND p.numero_documento_fiscal = r.numero_nfe AND p.codigo_cliente_fornecedor = r.fornecedor_id",
    );
    assert!(receipts_with_payables > values.len() as i64);

    // Nothing changed upstream: the next session writes no divergence and no event.
    let events_before = expected(&env, "SELECT count(*) FROM divergence_events");
    let second = session(&env).await;
    assert_eq!(second.counts.get("new").copied().unwrap_or(0), 0, "{:?}", second.counts);
    assert_eq!(second.counts.get("resolved").copied().unwrap_or(0), 0, "{:?}", second.counts);
    assert_eq!(
        second.counts.get("still_open").copied().unwrap_or(0),
        first.counts.get("new").copied().unwrap_or(0),
        "{:?} vs {:?}",
        second.counts,
        first.counts
    );
    assert_eq!(expected(&env, "SELECT count(*) FROM divergence_events"), events_before);
    assert!(
        second.counts.get("unchanged").copied().unwrap_or(0) >= 3,
        "nothing synced since: rules not rerun {:?}",
        second.counts
    );
    // Forced to run every rule again over the same data: the same findings, still nothing written.
    let job = env.core.start_divergence_session(SessionParams { force: true, ..Default::default() }).unwrap();
    let forced = wait(&env.core, job).await;
    assert_eq!(forced.status, JobStatus::Succeeded, "{:?}", forced.error);
    assert_eq!(forced.counts.get("unchanged").copied().unwrap_or(0), 0);
    assert_eq!(forced.counts.get("still_open"), second.counts.get("still_open"));
    assert_eq!(forced.counts.get("new").copied().unwrap_or(0), 0);
    assert_eq!(expected(&env, "SELECT count(*) FROM divergence_events"), events_before);
    let sessions = env.core.divergence_sessions(10).unwrap();
    assert_eq!(sessions.len(), 3);
    // The daily summary says how many wait for review and what is at stake.
    let open = env.core.divergence_metrics().unwrap();
    let notice = backoffice_core::ops::notify::daily_summary_notice(env.core.ctx()).unwrap().expect("a summary");
    let stake = backoffice_core::ops::notify::money_list("en", &open.amounts_open);
    assert!(
        notice.body.contains(&format!("{} divergences wait for review ({stake} at stake)", open.open)),
        "{}",
        notice.body
    );
    assert!(sessions.iter().all(|s| s.status == "succeeded" && !s.who.is_empty() && !s.machine.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_apply_roll_back_and_refuse_to_overwrite_an_edit() {
    let env = setup(300).await;
    sync(&env).await;
    session(&env).await;
    let class = open_of(&env, "omie_trade_marketing");
    assert!(class.len() >= 2, "need two misfiled payables, found {}", class.len());
    let (a, b) = (&class[0], &class[1]);
    let before_a = a.correction.as_ref().unwrap().before.clone();
    assert_eq!(category_in_omie(&env, &a.record_id).await, before_a);

    // A decision needs a written reason.
    let no_reason = env.core.decide_divergences(&Decision {
        ids: vec![a.id.clone()],
        action: "approve".into(),
        ..Default::default()
    });
    assert_eq!(no_reason.unwrap_err().code(), "invalid_input");
    let r = env
        .core
        .decide_divergences(&Decision {
            ids: vec![a.id.clone(), b.id.clone()],
            action: "approve".into(),
            reason: "trade marketing goes to 2.04.01".into(),
            assignee: None,
            explanation: None,
        })
        .unwrap();
    assert_eq!(r.changed.len(), 2);

    // Apply both: Omie now has the expected category; the audit says who, before and after.
    let job = env.core.apply_divergences(ApplyParams::default()).unwrap();
    let job = wait(&env.core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert_eq!(job.counts.get("applied"), Some(&2));
    assert_eq!(category_in_omie(&env, &a.record_id).await, "2.04.01");
    assert_eq!(category_in_omie(&env, &b.record_id).await, "2.04.01");
    let da = env.core.divergence(&a.id).unwrap();
    assert_eq!(da.divergence.status, "applied");
    let op = da.operations.iter().find(|o| o.kind == "apply").unwrap();
    assert_eq!(
        (op.status.as_str(), op.before.as_deref(), op.after.as_deref()),
        ("committed", Some(before_a.as_str()), Some("2.04.01"))
    );
    assert!(!op.who.is_empty() && !op.machine.is_empty());
    let actions: Vec<&str> = da.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["detected", "approved", "applied"]);
    assert_eq!(da.events[1].note, "trade marketing goes to 2.04.01");

    // Applying again writes nothing (the ERP already holds the value).
    let alters_before = env.sim.omie().limit_stats().admitted;
    let again = env.core.apply_divergences(ApplyParams { ids: vec![a.id.clone()], rollback: false }).unwrap();
    let again = wait(&env.core, again).await;
    assert_eq!(again.counts.get("already_applied"), Some(&1), "{:?}", again.counts);
    assert_eq!(env.sim.omie().limit_stats().admitted, alters_before, "no call at all for an applied divergence");

    // Someone edits record b in Omie after our write: its rollback is refused and says so.
    let edited = omie(
        &env,
        "financas/contapagar/",
        "AlterarContaPagar",
        json!({"codigo_lancamento_omie": b.record_id.parse::<u64>().unwrap(), "codigo_categoria": "2.09.09"}),
    )
    .await;
    assert_eq!(edited["codigo_status"], "0", "{edited}");
    let rb = env.core.apply_divergences(ApplyParams { ids: vec![b.id.clone()], rollback: true }).unwrap();
    let rb = wait(&env.core, rb).await;
    assert_eq!(rb.status, JobStatus::Failed);
    let db = env.core.divergence(&b.id).unwrap();
    assert_eq!(db.divergence.status, "applied", "a refused rollback leaves the divergence as it was");
    let refused = db.operations.iter().find(|o| o.kind == "rollback").unwrap();
    assert_eq!(refused.status, "refused");
    assert!(refused.error.as_ref().unwrap().message.contains("2.09.09"), "{:?}", refused.error);
    assert_eq!(category_in_omie(&env, &b.record_id).await, "2.09.09", "the edit was not overwritten");

    // Record a was not touched since: its rollback puts the old category back.
    let rb = env.core.apply_divergences(ApplyParams { ids: vec![a.id.clone()], rollback: true }).unwrap();
    let rb = wait(&env.core, rb).await;
    assert_eq!(rb.status, JobStatus::Succeeded, "{:?}", rb.error);
    assert_eq!(category_in_omie(&env, &a.record_id).await, before_a);
    let da = env.core.divergence(&a.id).unwrap();
    assert_eq!(da.divergence.status, "rolled_back");
    assert_eq!(da.events.last().unwrap().action, "rolled_back");

    // The audit export lists both operations of a, and the divergences export every row.
    let out = env.dir.path().join("ops.csv");
    let n = env.core.export_divergence_operations_csv(&out).unwrap();
    assert!(n >= 4, "{n}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().next().unwrap().starts_with("id,divergence_id,kind"));
    assert!(text.contains(",refused,"));
    let out = env.dir.path().join("div.csv");
    let n = env.core.export_divergences_csv(&DivergenceFilter::default(), &out).unwrap();
    let mut rd = csv::Reader::from_path(&out).unwrap();
    assert_eq!(rd.records().count(), n);

    // The Excel report, read back: typed cells (money as numbers, real dates), one row each.
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let out = env.dir.path().join("div.xlsx");
    let n = env.core.export_divergences_xlsx(&DivergenceFilter::default(), &out).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let sheet = wb.worksheet_range("Divergences").unwrap();
    assert_eq!(sheet.height(), n + 1);
    assert_eq!(sheet.get((0, 0)), Some(&Data::String("Rule".into())));
    let money = (1..sheet.height()).find(|r| matches!(sheet.get((*r, 9)), Some(Data::Float(_)))).expect("a money cell");
    assert!(matches!(sheet.get((money, 14)), Some(Data::DateTime(_))), "{:?}", sheet.get((money, 14)));
    assert!(matches!(sheet.get((money, 2)), Some(Data::Float(c)) if *c >= 50.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_resolved_at_source_rejected_stays_rejected_and_rules_are_versioned() {
    let env = setup(300).await;
    sync(&env).await;
    session(&env).await;
    let class = open_of(&env, "omie_trade_marketing");
    assert!(class.len() >= 2);
    let (fixed, rejected) = (&class[0], &class[1]);
    env.core
        .decide_divergences(&Decision {
            ids: vec![rejected.id.clone()],
            action: "reject".into(),
            reason: "this one really is office material".into(),
            assignee: None,
            explanation: None,
        })
        .unwrap();
    // Someone fixes the first one directly in Omie; after the next sync the session closes it.
    omie(
        &env,
        "financas/contapagar/",
        "AlterarContaPagar",
        json!({"codigo_lancamento_omie": fixed.record_id.parse::<u64>().unwrap(), "codigo_categoria": "2.04.01"}),
    )
    .await;
    sync(&env).await;
    let s = session(&env).await;
    assert_eq!(s.counts.get("resolved").copied(), Some(1), "{:?}", s.counts);
    let d = env.core.divergence(&fixed.id).unwrap();
    assert_eq!(d.divergence.status, "resolved");
    assert!(d.divergence.resolved_at.is_some());
    // The rejected one stays rejected: its evidence did not change.
    assert_eq!(env.core.divergence(&rejected.id).unwrap().divergence.status, "rejected");

    // A rule change needs a reason, is checked, and is kept as a new version.
    let bad = env.core.save_divergence_rule(
        "omie_trade_marketing",
        &RuleInput {
            params: Some(json!({"resource": "contas_pagar", "expected_category": "dois", "text_patterns": ["x"]})),
            reason: "typo".into(),
            ..Default::default()
        },
    );
    let e = bad.unwrap_err();
    assert!(
        e.to_string().contains("expected_category")
            || e.to_api().params.get("field").map(String::as_str) == Some("expected_category"),
        "{e}"
    );
    let no_reason = env
        .core
        .save_divergence_rule("omie_trade_marketing", &RuleInput { confidence: Some(90), ..Default::default() });
    assert!(no_reason.is_err());
    let saved = env
        .core
        .save_divergence_rule(
            "omie_trade_marketing",
            &RuleInput { show_threshold: Some(96), reason: "show only the surest".into(), ..Default::default() },
        )
        .unwrap();
    assert_eq!(saved.version, 2);
    let h = env.core.divergence_rule_history("omie_trade_marketing").unwrap();
    assert_eq!(h.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(h[0].reason, "show only the surest");
    assert!(!h[0].changed_by.is_empty());
    // Above the show threshold nothing of that rule is listed any more: the open ones resolve.
    let s = session(&env).await;
    assert!(s.counts.get("hidden").copied().unwrap_or(0) > 0, "{:?}", s.counts);
    assert!(open_of(&env, "omie_trade_marketing").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_automatic_session_applies_what_its_rules_allow_and_only_that() {
    let env = setup(300).await;
    sync(&env).await;
    // Flag-only rules cannot auto-apply.
    let refused = env.core.save_divergence_rule(
        "omie_duplicate_payables",
        &RuleInput { auto_apply_threshold: Some(80), reason: "try".into(), ..Default::default() },
    );
    assert!(refused.is_err());
    env.core
        .save_divergence_rule(
            "omie_trade_marketing",
            &RuleInput {
                auto_apply_threshold: Some(90),
                reason: "sure enough to apply alone".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let job = env.core.start_divergence_session(SessionParams { mode: "auto".into(), ..Default::default() }).unwrap();
    let job = wait(&env.core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let applied = env
        .core
        .divergences(&DivergenceFilter {
            statuses: vec!["applied".into()],
            rule_ids: vec!["omie_trade_marketing".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(applied.total > 0);
    assert_eq!(job.counts.get("applied").copied().unwrap_or(0), applied.total as i64, "{:?}", job.counts);
    assert!(open_of(&env, "omie_trade_marketing").is_empty());
    for d in &applied.items {
        assert_eq!(category_in_omie(&env, &d.record_id).await, "2.04.01");
        let h = env.core.divergence(&d.id).unwrap();
        let approved = h.events.iter().find(|e| e.action == "approved").unwrap();
        assert_eq!(approved.who, "BackOffice (automatic)");
    }
    // The flag-only rules' findings stay open for people.
    assert!(!open_of(&env, "omie_duplicate_payables").is_empty() || !open_of(&env, "omie_receipt_value").is_empty());

    // People reject one of the others; the metrics tell the rules apart.
    let other = open_of(&env, "omie_receipt_value");
    if let Some(r) = other.first() {
        env.core
            .decide_divergences(&Decision {
                ids: vec![r.id.clone()],
                action: "reject".into(),
                reason: "known".into(),
                assignee: None,
                explanation: None,
            })
            .unwrap();
    }
    let m = env.core.divergence_metrics().unwrap();
    let tm = m.rules.iter().find(|r| r.rule_id == "omie_trade_marketing").unwrap();
    assert_eq!(tm.approved_automatically, applied.total);
    assert_eq!((tm.approved_by_people, tm.rejected, tm.open), (0, 0, 0));
    assert_eq!(tm.approve_rate, Some(1.0));
    assert_eq!(tm.by_status.get("applied").copied(), Some(applied.total));
    assert!(tm.median_hours_to_end.is_some_and(|h| (0.0..1.0).contains(&h)));
    assert_eq!(m.auto_apply_rate, Some(1.0));
    let open_total: u32 = m.rules.iter().map(|r| r.open).sum();
    assert_eq!(m.open, open_total);
    assert_eq!(
        m.open as usize,
        env.core
            .divergences(&DivergenceFilter {
                statuses: vec!["open".into(), "approved".into(), "failed".into()],
                ..Default::default()
            })
            .unwrap()
            .total as usize
    );
    if !other.is_empty() {
        let rv = m.rules.iter().find(|r| r.rule_id == "omie_receipt_value").unwrap();
        assert_eq!((rv.rejected, rv.approve_rate), (1, Some(0.0)));
        assert_eq!(rv.open_by_age.iter().sum::<u32>(), rv.open);
        assert_eq!(rv.open_by_age[0], rv.open, "all found within the last day");
    }
    assert_eq!(m.days.len(), 30);
    let total: u32 = m.rules.iter().map(|r| r.by_status.values().sum::<u32>()).sum();
    assert_eq!(m.days.iter().map(|d| d.detected).sum::<u32>(), total, "everything was detected within the 30 days");
    assert_eq!(m.days.iter().map(|d| d.ended).sum::<u32>(), applied.total + u32::from(!other.is_empty()));
}

/// A Contífico company on its simulator, with its credentials in the secret store.
async fn contifico(scale: u64) -> (tempfile::TempDir, Arc<Core>, backoffice_core::model::Connection, SimHandle) {
    let sim = backoffice_sim::start(SimConfig { scale, ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core =
        Core::open(Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") }, secrets.clone()).unwrap();
    let conn = core.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    (dir, core, conn, sim)
}

/// Opens the pending checks to every date (their default looks only at the last 30 days).
fn all_dates(env: &Env, rule: &str) {
    env.core
        .save_divergence_rule(
            rule,
            &RuleInput {
                params: Some(json!({"from_date": ""})),
                reason: "look at every date in this test".into(),
                ..Default::default()
            },
        )
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_chains_find_orders_not_closed_and_receipts_not_copied_and_forget_them_once_fixed() {
    let env = setup(200).await;
    sync(&env).await;
    env.core.divergence_rules().unwrap();
    all_dates(&env, "omie_service_order_open");
    all_dates(&env, "omie_receipt_attachments");
    // A date that is not one is refused, naming the rule and the field.
    let bad = env
        .core
        .save_divergence_rule(
            "omie_receipt_attachments",
            &RuleInput { params: Some(json!({"from_date": "30/11/2026"})), reason: "x".into(), ..Default::default() },
        )
        .unwrap_err()
        .to_string();
    assert!(bad.contains("from_date") && bad.contains("30/11/2026"), "{bad}");
    session(&env).await;

    // Every order named by a payable with a service NF, computed from the raw JSON.
    let orders = expected(
        &env,
        "SELECT count(DISTINCT json_extract(raw, '$.numero_pedido')) FROM omie_contas_pagar WHERE deleted_at IS NULL
           AND coalesce(json_extract(raw, '$.servico_tomado.numero_nf'), '') <> '' AND coalesce(json_extract(raw, '$.numero_pedido'), '') <> ''
           AND json_extract(raw, '$.status_titulo') <> 'CANCELADO'",
    );
    assert!(orders > 0, "the simulator has service payables against orders");
    let open = open_of(&env, "omie_service_order_open");
    assert_eq!(open.len() as i64, orders, "no closure has run: every such order is pending");
    let d = open.iter().find(|d| d.basis == "number_party").expect("an order synced with the payable's supplier");
    assert_eq!(d.confidence, 85);
    assert_eq!(d.facts.get("fix").map(String::as_str), Some("omie_po_close"));
    assert!(
        d.evidence.iter().any(|e| e.resource == "pedidos_compra")
            && d.evidence.iter().any(|e| e.resource == "contas_pagar")
    );

    let nfep = expected(
        &env,
        "SELECT count(*) FROM omie_contas_pagar p JOIN omie_recebimentos r ON r.connection_id = p.connection_id
           AND json_extract(r.raw, '$.cabec.cNumeroNFe') = json_extract(p.raw, '$.numero_documento_fiscal')
           AND json_extract(r.raw, '$.cabec.nIdFornecedor') = json_extract(p.raw, '$.codigo_cliente_fornecedor')
         WHERE p.deleted_at IS NULL AND json_extract(p.raw, '$.id_origem') = 'NFEP' AND json_extract(p.raw, '$.status_titulo') <> 'CANCELADO'",
    );
    assert!(nfep > 0, "the simulator has payables born of NF-e receipts");
    let copies = open_of(&env, "omie_receipt_attachments");
    assert_eq!(copies.len() as i64, nfep, "nothing was copied yet: every such payable is pending");

    // BackOffice copies one receipt's attachments: that payable is no longer pending after the next
    // check (resolved at the source), and nothing else changes.
    let target = &copies[0];
    let receipt = target.evidence.iter().find(|e| e.resource == "recebimentos").unwrap().id.clone();
    let job = env
        .core
        .start_omie_attachment_transfer(
            &env.conn_id,
            backoffice_core::erp::omie::attachments::OmieTransferRequest {
                from_table: "com-recebimento".into(),
                from_id: receipt,
                to_table: "conta-pagar".into(),
                to_id: target.record_id.clone(),
                dry_run: false,
            },
        )
        .unwrap();
    let job = wait(&env.core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let second = session(&env).await;
    assert_eq!(second.counts.get("resolved").copied().unwrap_or(0), 1, "{:?}", second.counts);
    let after = open_of(&env, "omie_receipt_attachments");
    assert_eq!(after.len(), copies.len() - 1);
    assert!(after.iter().all(|d| d.id != target.id));

    // The default window: only what was emitted in the last 30 days.
    env.core
        .save_divergence_rule(
            "omie_receipt_attachments",
            &RuleInput {
                params: Some(json!({"from_date": "2999-01-01"})),
                reason: "nothing is that recent".into(),
                ..Default::default()
            },
        )
        .unwrap();
    session(&env).await;
    assert!(open_of(&env, "omie_receipt_attachments").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contifico_documents_whose_lines_or_taxes_do_not_add_up_are_found_with_the_amounts() {
    let (_dir, core, conn, _sim) = contifico(400).await;
    let job = core
        .sync_start(&conn.id, SyncOptions { resources: vec!["documentos_venta".into()], ..Default::default() })
        .unwrap();
    let job = wait(&core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let job = core
        .start_divergence_session(SessionParams {
            rules: vec!["contifico_document_lines".into()],
            ..Default::default()
        })
        .unwrap();
    let job = wait(&core, job).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);

    // The same check written plainly over the raw JSON, in floating point with a cent's slack.
    let plain: i64 = core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM contifico_documento_venta d WHERE d.deleted_at IS NULL AND json_extract(d.raw, '$.estado') <> 'A'
                   AND (abs((SELECT sum(round(json_extract(l.value, '$.cantidad') * json_extract(l.value, '$.precio'), 2)) FROM json_each(d.raw, '$.detalles') l)
                            - json_extract(d.raw, '$.subtotal_0') - json_extract(d.raw, '$.subtotal_12')) > 0.02
                     OR abs(json_extract(d.raw, '$.subtotal_0') + json_extract(d.raw, '$.subtotal_12') + json_extract(d.raw, '$.iva')
                            + json_extract(d.raw, '$.ice') + json_extract(d.raw, '$.servicio') - json_extract(d.raw, '$.total')) > 0.02)",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(plain > 0, "the simulator plants documents that do not add up");
    let found = core
        .divergences(&DivergenceFilter {
            statuses: vec!["open".into()],
            rule_ids: vec!["contifico_document_lines".into()],
            ..Default::default()
        })
        .unwrap()
        .items;
    assert_eq!(found.len() as i64, plain);
    let by = |check: &str| {
        found.iter().filter(|d| d.facts.get("check").map(String::as_str) == Some(check)).collect::<Vec<_>>()
    };
    let (lines, totals) = (by("lines"), by("total"));
    assert!(!lines.is_empty() && !totals.is_empty(), "both checks find something: {} / {}", lines.len(), totals.len());
    assert!(lines.iter().all(|d| d.amount.as_deref() == Some("0.5")), "{:?}", lines[0].facts);
    assert!(totals.iter().all(|d| d.amount.as_deref() == Some("1")), "{:?}", totals[0].facts);
    let d = totals[0];
    assert_eq!((d.erp.as_str(), d.currency.as_deref(), d.basis.as_str()), ("contifico", Some("USD"), "exact_key"));
    assert_eq!(d.confidence, 70);
    assert!(d.correction.is_none());
    // Money at stake is kept per currency: these are dollars, and nothing here is in reais.
    let m = core.divergence_metrics().unwrap();
    let at_stake: rust_decimal::Decimal =
        found.iter().map(|d| d.amount.as_deref().unwrap().parse::<rust_decimal::Decimal>().unwrap()).sum();
    assert_eq!(m.amounts_open.get("USD").map(|a| a.parse::<rust_decimal::Decimal>().unwrap()), Some(at_stake));
    assert!(!m.amounts_open.contains_key("BRL"), "{:?}", m.amounts_open);
    let rule = m.rules.iter().find(|r| r.rule_id == "contifico_document_lines").unwrap();
    assert_eq!(rule.amounts_open.keys().collect::<Vec<_>>(), ["USD"]);

    // Sales invoices without their journal entry: nothing can be said before the entries are synced.
    let rule = "contifico_sale_without_entry";
    core.save_divergence_rule(
        rule,
        &RuleInput {
            params: Some(json!({"document_types": ["FAC"], "from_date": ""})),
            reason: "every date".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let check = |core: Arc<Core>| async move {
        let job =
            core.start_divergence_session(SessionParams { rules: vec![rule.into()], ..Default::default() }).unwrap();
        let job = wait(&core, job).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
        let open = core
            .divergences(&DivergenceFilter {
                statuses: vec!["open".into()],
                rule_ids: vec![rule.into()],
                ..Default::default()
            })
            .unwrap()
            .items;
        (job, open)
    };
    let (job, open) = check(core.clone()).await;
    assert!(open.is_empty(), "{open:?}");
    let logs = core.jobs.detail(&job.id).unwrap().logs;
    assert!(logs.iter().any(|l| l.level == "warn" && l.message.contains("never synced")), "{logs:?}");

    let job =
        core.sync_start(&conn.id, SyncOptions { resources: vec!["asientos".into()], ..Default::default() }).unwrap();
    assert_eq!(wait(&core, job).await.status, JobStatus::Succeeded);
    let (_, open) = check(core.clone()).await;
    let missing = core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM contifico_documento_venta d WHERE d.deleted_at IS NULL AND json_extract(d.raw, '$.estado') <> 'A'
                   AND json_extract(d.raw, '$.tipo_documento') = 'FAC'
                   AND NOT EXISTS (SELECT 1 FROM contifico_asiento a WHERE instr(json_extract(a.raw, '$.glosa'), json_extract(d.raw, '$.documento')) > 0)",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    assert!(missing > 0, "the simulator leaves some invoices without an entry");
    assert_eq!(open.len() as i64, missing);
    let d = &open[0];
    assert_eq!((d.basis.as_str(), d.confidence, d.resource.as_str()), ("document_number", 85, "documentos_venta"));
    assert_eq!(d.facts.get("document_type").map(String::as_str), Some("FAC"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_summary_e_mail_lists_the_largest_divergences_and_attaches_them_all_as_csv() {
    use backoffice_core::ops::email::{EmailSettings, SmtpSecurity};
    use mail_parser::{MessageParser, MimeHeaders};
    let env = setup(200).await;
    sync(&env).await;
    session(&env).await;
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let sink = backoffice_sim::smtp::SmtpSink::start("mailer", &password).await.unwrap();
    env.core
        .save_email_settings(
            &EmailSettings {
                enabled: true,
                host: "127.0.0.1".into(),
                port: sink.port() as u32,
                security: SmtpSecurity::None,
                username: "mailer".into(),
                from: "BackOffice <backoffice@example.test>".into(),
                to: vec!["finance@example.test".into()],
                ..Default::default()
            },
            Some(password),
        )
        .unwrap();
    let notice = backoffice_core::ops::notify::daily_summary_notice(env.core.ctx()).unwrap().expect("a summary");
    env.core.deliver_daily_summary_email(&notice).await;
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{:?}", env.core.email_settings().unwrap().last_failure);
    let mail = MessageParser::default().parse(got[0].data.as_bytes()).expect("a MIME message");

    let waiting = env
        .core
        .divergences(&DivergenceFilter {
            statuses: vec!["open".into(), "approved".into(), "failed".into()],
            limit: Some(100_000),
            ..Default::default()
        })
        .unwrap()
        .items;
    assert!(!waiting.is_empty());
    let text = mail.body_text(0).expect("a text part");
    assert!(text.contains(&notice.body), "{text}");
    // The HTML lists the largest ones first: the biggest amount at stake is in it.
    let html = mail.body_html(0).expect("an HTML part");
    let biggest = waiting
        .iter()
        .max_by_key(|d| d.amount.as_deref().and_then(|a| a.parse::<rust_decimal::Decimal>().ok()).unwrap_or_default())
        .unwrap();
    let escaped = biggest.record_label.replace('&', "&amp;");
    assert!(html.contains(&escaped), "{} not in {html}", biggest.record_label);
    assert_eq!(html.matches("<tr>").count(), waiting.len().min(10) + 1, "a header and at most 10 rows");
    // Every waiting divergence is in the CSV, one row each, with its exact amount.
    let att = mail.attachment(0).expect("a CSV attachment");
    assert!(att.attachment_name().is_some_and(|n| n.ends_with(".csv")), "{:?}", att.attachment_name());
    let csv = String::from_utf8(att.contents().to_vec()).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rows.headers().unwrap().get(0), Some("id"));
    let ids: Vec<String> = rows.records().map(|r| r.unwrap().get(0).unwrap().to_string()).collect();
    assert_eq!(ids.len(), waiting.len());
    assert!(waiting.iter().all(|d| ids.contains(&d.id)));
    sink.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contifico_document_is_reclassified_locally_exactly_once_and_rolled_back_and_reported() {
    let (dir, core, conn, _sim) = contifico(300).await;
    let job = core
        .sync_start(&conn.id, SyncOptions { resources: vec!["documentos_compra".into()], ..Default::default() })
        .unwrap();
    assert_eq!(wait(&core, job).await.status, JobStatus::Succeeded);
    let rule = "contifico_advertising";
    let run = |core: Arc<Core>| async move {
        let job =
            core.start_divergence_session(SessionParams { rules: vec![rule.into()], ..Default::default() }).unwrap();
        assert_eq!(wait(&core, job).await.status, JobStatus::Succeeded);
        core.divergences(&DivergenceFilter { rule_ids: vec![rule.into()], ..Default::default() }).unwrap().items
    };
    let found = run(core.clone()).await;
    let plain: i64 = core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM contifico_documento_compra WHERE deleted_at IS NULL AND json_extract(raw, '$.estado') <> 'A'
                   AND instr(lower(json_extract(raw, '$.descripcion')), 'publicidad') > 0",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert!(plain > 0, "the simulator has advertising purchases");
    assert_eq!(found.len() as i64, plain);
    let d = found[0].clone();
    assert_eq!((d.erp.as_str(), d.currency.as_deref()), ("contifico", Some("USD")));
    let corr = d.correction.clone().expect("a local correction");
    assert_eq!((corr.field.as_str(), corr.before.as_str(), corr.after.as_str()), ("categoria_local", "", "5.2.04"));

    core.decide_divergences(&Decision {
        ids: vec![d.id.clone()],
        action: "approve".into(),
        reason: "advertising is its own category".into(),
        ..Default::default()
    })
    .unwrap();
    let apply = |core: Arc<Core>, rollback: bool, id: String| async move {
        let job = core.apply_divergences(ApplyParams { ids: vec![id], rollback }).unwrap();
        wait(&core, job).await
    };
    assert_eq!(apply(core.clone(), false, d.id.clone()).await.status, JobStatus::Succeeded);
    assert_eq!(core.divergence(&d.id).unwrap().divergence.status, "applied");
    // Applied twice: nothing is written again.
    let again = apply(core.clone(), false, d.id.clone()).await;
    assert_eq!(again.counts.get("already_applied").copied(), Some(1), "{:?}", again.counts);
    // The report lists the record with its local category, who set it and where.
    let out = dir.path().join("reclass.csv");
    assert_eq!(core.export_reclassifications_csv(&out).unwrap(), 1);
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.contains(&d.record_id) && csv.contains("5.2.04") && csv.contains("categoria_local"), "{csv}");
    // The next check does not find that document again; the others stay.
    let after = run(core.clone()).await;
    assert_eq!(after.iter().filter(|x| x.status == "open").count() as i64, plain - 1);

    assert_eq!(apply(core.clone(), true, d.id.clone()).await.status, JobStatus::Succeeded);
    assert_eq!(core.divergence(&d.id).unwrap().divergence.status, "rolled_back");
    assert_eq!(core.export_reclassifications_csv(&out).unwrap(), 0, "the local category is gone");
    let ops = core.divergence(&d.id).unwrap().operations;
    assert_eq!(ops.iter().filter(|o| o.status == "committed").count(), 2, "{ops:?}");
}
