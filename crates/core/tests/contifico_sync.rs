//! The Contífico sync engine against the loopback simulator: real HTTP, a real SQLite file.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use backoffice_core::erp::contifico::resources::{self as contifico, RESOURCES};
use backoffice_core::model::{ConnectionKind, Credentials, Job, JobStatus};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::sync::{self, SyncOptions};
use backoffice_core::{Core, Paths};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};

struct Env {
    _dir: tempfile::TempDir,
    core: Arc<Core>,
    conn_id: String,
    sim: SimHandle,
}

async fn setup(scale: u64) -> Env {
    let sim = backoffice_sim::start(SimConfig { scale, ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core =
        Core::open(Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") }, secrets.clone()).unwrap();
    let conn = core.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    Env { _dir: dir, core, conn_id: conn.id, sim }
}

async fn wait(core: &Arc<Core>, job: Job) -> Job {
    for _ in 0..1200 {
        let j = core.jobs.get(&job.id).unwrap();
        if !j.status.is_active() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("sync job did not finish");
}

async fn sync_now(env: &Env, opts: SyncOptions) -> Job {
    let job = env.core.sync_start(&env.conn_id, opts).unwrap();
    wait(&env.core, job).await
}

fn opts(page_size: u32) -> SyncOptions {
    SyncOptions { page_size: Some(page_size), batch_size: Some(13), ..Default::default() }
}

/// Every id the simulator lists for a resource, read independently of the engine.
async fn upstream_ids(env: &Env, spec: &sync::ResourceSpec) -> BTreeSet<String> {
    let key = SimCredentials::default().contifico_api_key;
    let http = reqwest::Client::new();
    let mut ids = BTreeSet::new();
    if spec.name == contifico::STOCK {
        // One row per (product, warehouse) of every product listed upstream.
        let productos = contifico::resource("productos").unwrap();
        for pid in Box::pin(upstream_ids(env, productos)).await {
            let url = format!("{}producto/{pid}/stock/", env.sim.contifico);
            let v: serde_json::Value =
                http.get(&url).header("Authorization", &key).send().await.unwrap().json().await.unwrap();
            for row in v.as_array().unwrap() {
                let b = match &row["bodega_id"] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                ids.insert(format!("{pid}:{b}"));
            }
        }
        return ids;
    }
    let mut page = 1;
    loop {
        let (url, mut q) = match spec.path.strip_prefix("v2:") {
            Some(p) => (
                format!("{}{}", env.sim.contifico.replace("/api/v1/", "/api/v2/"), p),
                vec![("page".to_string(), page.to_string()), ("page_size".to_string(), "50".to_string())],
            ),
            None => (
                format!("{}{}", env.sim.contifico, spec.path),
                vec![("result_size".to_string(), "50".to_string()), ("result_page".to_string(), page.to_string())],
            ),
        };
        q.extend(spec.query.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let resp = http.get(&url).query(&q).header("Authorization", &key).send().await.unwrap();
        if resp.status() == 404 {
            break;
        }
        let v: serde_json::Value = resp.json().await.unwrap();
        let items = v.as_array().cloned().or_else(|| v["results"].as_array().cloned()).unwrap();
        if items.is_empty() {
            break;
        }
        for it in &items {
            ids.insert(it["id"].as_str().unwrap().to_string());
        }
        if items.len() < 50 || (v.is_object() && v["next"].is_null()) {
            break;
        }
        page += 1;
    }
    ids
}

fn local_ids(env: &Env, spec: &sync::ResourceSpec, deleted: bool) -> BTreeSet<String> {
    let op = if deleted { "IS NOT NULL" } else { "IS NULL" };
    env.core
        .store
        .read(|c| {
            let mut st =
                c.prepare(&format!("SELECT id FROM \"{}\" WHERE connection_id=?1 AND deleted_at {op}", spec.table))?;
            let rows = st.query_map([&env.conn_id], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<BTreeSet<_>, _>>()?)
        })
        .unwrap()
}

#[tokio::test]
async fn full_incremental_and_full_refresh_keep_an_exact_copy_with_tombstones() {
    let env = setup(40).await;
    let job = sync_now(&env, opts(7)).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    for spec in RESOURCES {
        let up = upstream_ids(&env, spec).await;
        assert!(!up.is_empty(), "{} has data upstream", spec.name);
        assert_eq!(local_ids(&env, spec, false), up, "{}: local copy differs", spec.name);
    }
    let summaries = sync::summaries(&env.core.store, &env.conn_id, "contifico", RESOURCES).unwrap();
    assert_eq!(summaries.len(), RESOURCES.len());
    assert!(summaries.iter().all(|s| s.last_success_at.is_some() && s.resume_page.is_none()));
    let first_requests = env.sim.contifico().total_requests();

    // Edit and delete upstream, then an incremental run.
    let report = env.sim.contifico().mutate(20.0);
    assert!(report.mutated > 0 && report.deleted > 0);
    env.sim.contifico().reset_counters();
    let job = sync_now(&env, opts(7)).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert!(env.sim.contifico().total_requests() < first_requests, "incremental reads less than a full sync");
    for spec in RESOURCES {
        let up = upstream_ids(&env, spec).await;
        let local = local_ids(&env, spec, false);
        // Every upstream record is present, with no duplicate (ids are a set and the key is unique).
        assert!(up.is_subset(&local), "{}: missing records after incremental", spec.name);
        if spec.modified.is_none() || spec.name == contifico::STOCK {
            // Resources without a date filter are read whole: deletions are seen at once. So is the
            // stock per warehouse whenever a warehouse changed, as here.
            assert_eq!(local, up, "{}", spec.name);
        }
    }
    // An edited record's new content reached the store.
    let producto = contifico::resource("productos").unwrap();
    let changed: i64 = env
        .core
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(DISTINCT sync_run_id) FROM contifico_producto WHERE connection_id=?1",
                [&env.conn_id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(changed, 2, "some {} rows were rewritten by the incremental run", producto.name);

    // Full refresh: records gone upstream are tombstoned, not dropped.
    let job = sync_now(&env, SyncOptions { full_refresh: true, ..opts(7) }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert!(job.counts.get("deleted").copied().unwrap_or(0) > 0);
    for spec in RESOURCES {
        let up = upstream_ids(&env, spec).await;
        assert_eq!(local_ids(&env, spec, false), up, "{}: after full refresh", spec.name);
    }
    let gone = local_ids(&env, producto, true);
    assert!(!gone.is_empty(), "deleted products are kept as tombstones");
    let page = sync::query::browse(
        &env.core.store,
        producto,
        &sync::query::BrowseQuery {
            connection_id: env.conn_id.clone(),
            resource: "productos".into(),
            limit: 5,
            include_deleted: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(page.total as usize, upstream_ids(&env, producto).await.len() + gone.len());
    let history = sync::sync_runs(&env.core.store, &env.conn_id, 10).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].mode, "full");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_erp_gets_more_resources_read_at_once_and_the_copy_stays_exact() {
    let env = setup(90).await;
    // Requests that wait on the ERP leave the connection's slots idle while only a few resources
    // are open (each resource's first page is read alone): the engine notices and reads more of
    // them at once. About nine pages a resource, as in `cargo xtask bench sync --latency-ms 200`.
    env.sim.contifico().set_latency_ms(150);
    let resources: Vec<String> =
        RESOURCES.iter().filter(|r| r.name != contifico::STOCK).map(|r| r.name.to_string()).collect();
    let job = sync_now(&env, SyncOptions { page_size: Some(10), resources, ..Default::default() }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let logs = env.core.jobs.detail(&job.id).unwrap().logs;
    let more = logs.iter().find(|l| l.key.as_deref() == Some("sync.more_at_once")).expect("more resources at once");
    assert_eq!(more.params.get("count").map(String::as_str), Some("8"));
    env.sim.contifico().set_latency_ms(0);
    // Pages arrived out of order across more resources: the copy is still exact.
    for spec in RESOURCES.iter().filter(|r| r.name != contifico::STOCK) {
        assert_eq!(local_ids(&env, spec, false), upstream_ids(&env, spec).await, "{}", spec.name);
    }
}

#[tokio::test]
async fn a_stopped_sync_resumes_from_the_last_committed_page() {
    let env = setup(300).await;
    env.sim.contifico().set_latency_ms(15);
    let spec = contifico::resource("personas").unwrap();
    // One request at a time, so the read is still going when it is stopped.
    let o = SyncOptions {
        resources: vec!["personas".into()],
        page_size: Some(10),
        batch_size: Some(10),
        concurrency: Some(1),
        ..Default::default()
    };
    let job = env.core.sync_start(&env.conn_id, o.clone()).unwrap();
    // Stop it part-way, as a crash or the user would.
    loop {
        let j = env.core.jobs.get(&job.id).unwrap();
        if j.counts.get("records").copied().unwrap_or(0) >= 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    env.core.jobs.cancel(&job.id).unwrap();
    let stopped = wait(&env.core, job).await;
    assert_eq!(stopped.status, JobStatus::Cancelled);
    let s = sync::summaries(&env.core.store, &env.conn_id, "contifico", std::slice::from_ref(spec)).unwrap();
    let resume = s[0].resume_page.expect("a checkpoint was kept");
    assert!(resume >= 6, "checkpoint after the committed pages, got {resume}");
    let stored_before = local_ids(&env, spec, false).len();
    assert_eq!(stored_before as u32, resume * 10, "exactly the committed pages are stored");

    env.sim.contifico().set_latency_ms(0);
    env.sim.contifico().reset_counters();
    let job = sync_now(&env, o).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let detail = env.core.jobs.detail(&job.id).unwrap();
    assert!(detail
        .logs
        .iter()
        .any(|l| l.message.contains(&format!("resuming the interrupted sync at page {}", resume + 1))));
    // It did not start over: fewer pages were requested than a full read needs.
    assert!(env.sim.contifico().total_requests() < 30);
    assert_eq!(local_ids(&env, spec, false), upstream_ids(&env, spec).await);
    let s = sync::summaries(&env.core.store, &env.conn_id, "contifico", std::slice::from_ref(spec)).unwrap();
    assert_eq!(s[0].resume_page, None);
    assert_eq!(s[0].records, 300);
}

#[tokio::test]
async fn transient_faults_are_retried_and_a_failing_resource_does_not_stop_the_others() {
    let env = setup(20).await;
    assert_eq!(env.core.http.retry.max_attempts, 5, "the default retry policy");
    // Two 500s then success: retried transparently.
    env.sim.contifico().fail_next(2, 500);
    let job = sync_now(&env, SyncOptions { resources: vec!["marcas".into(), "bodegas".into()], ..opts(50) }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    // A 429 with Retry-After is honoured and retried.
    env.sim.contifico().fail_next(1, 429);
    let job = sync_now(&env, SyncOptions { resources: vec!["marcas".into()], ..opts(50) }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    // More failures than the retry budget: the first resource fails, the next still syncs.
    env.sim.contifico().fail_next(5, 503);
    let job =
        sync_now(&env, SyncOptions { resources: vec!["categorias".into(), "variantes".into()], ..opts(50) }).await;
    assert_eq!(job.status, JobStatus::Failed);
    let err = job.error.unwrap();
    assert!(err.message.contains("categorias"), "{}", err.message);
    let s = sync::summaries(&env.core.store, &env.conn_id, "contifico", RESOURCES).unwrap();
    let cat = s.iter().find(|s| s.resource == "categorias").unwrap();
    let var = s.iter().find(|s| s.resource == "variantes").unwrap();
    assert!(cat.last_error.as_deref().unwrap_or("").contains("503"), "{:?}", cat.last_error);
    assert!(var.last_success_at.is_some() && var.records > 0);
}

#[tokio::test]
async fn rejected_key_stops_the_sync_with_guidance() {
    let env = setup(10).await;
    env.sim.contifico().fail_next(1, 401);
    let job = sync_now(&env, opts(50)).await;
    assert_eq!(job.status, JobStatus::Failed);
    let err = job.error.unwrap();
    assert_eq!(err.code, "unauthorized");
    assert!(err.message.contains("API key"), "{}", err.message);
    // It stopped: only one resource was attempted.
    let s = sync::summaries(&env.core.store, &env.conn_id, "contifico", RESOURCES).unwrap();
    assert_eq!(s.len(), RESOURCES.len());
    assert_eq!(s.iter().filter(|s| s.last_error.is_some()).count(), 1);
    assert!(s.iter().all(|s| s.last_success_at.is_none()));
}

#[tokio::test]
async fn unknown_resource_and_bad_since_are_refused_before_anything_runs() {
    let env = setup(5).await;
    let e = env.core.sync_start(&env.conn_id, SyncOptions { resources: vec!["facturas".into()], ..Default::default() });
    let msg = e.unwrap_err().to_string();
    assert!(msg.contains("facturas") && msg.contains("productos"), "{msg}");
    let e = env.core.sync_start(&env.conn_id, SyncOptions { since: Some("ontem".into()), ..Default::default() });
    let e = e.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("ontem"), "{e}");
    // Refused before anything ran: no job row exists.
    assert!(env.core.jobs.list(&Default::default()).unwrap().is_empty());
}

#[tokio::test]
async fn since_limits_the_read_and_rewind_previews() {
    let env = setup(60).await;
    let job = sync_now(&env, SyncOptions { resources: vec!["personas".into()], ..opts(25) }).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    let spec = contifico::resource("personas").unwrap();
    let all = local_ids(&env, spec, false).len() as i64;
    let p = sync::rewind(
        &env.core.store,
        &env.conn_id,
        "contifico",
        spec,
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(p.stored_records, all);
    assert!(!p.whole_resource);
    let p = sync::rewind(
        &env.core.store,
        &env.conn_id,
        "contifico",
        contifico::resource("marcas").unwrap(),
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        true,
    )
    .unwrap();
    assert!(p.whole_resource && p.applied);
    // A "since" in the future reads nothing new but succeeds.
    env.sim.contifico().reset_counters();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let job =
        sync_now(&env, SyncOptions { resources: vec!["personas".into()], since: Some(tomorrow), ..opts(25) }).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(env.sim.contifico().total_requests(), 1);
}

#[tokio::test]
async fn unparseable_records_are_quarantined_and_the_rest_is_stored() {
    use backoffice_sim::Resource;
    let env = setup(30).await;
    let job = sync_now(&env, SyncOptions { resources: vec!["productos".into()], ..opts(10) }).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    let spec = contifico::resource("productos").unwrap();
    let bad_date_id = env.sim.contifico().id_of(Resource::Producto, 3);
    let bad_money_id = env.sim.contifico().id_of(Resource::Producto, 7);
    let good_before: String = env.core.sync_record(&env.conn_id, "productos", &bad_date_id).unwrap();
    env.sim.contifico().override_field(Resource::Producto, 3, "fecha_creacion", serde_json::json!("31/02/2026"));
    env.sim.contifico().override_field(Resource::Producto, 7, "pvp1", serde_json::json!("doce dólares"));

    let job = sync_now(&env, SyncOptions { resources: vec!["productos".into()], full_refresh: true, ..opts(10) }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "quarantine does not fail the sync: {:?}", job.error);
    assert_eq!(job.counts.get("quarantined"), Some(&2));
    assert_eq!(job.counts.get("records"), Some(&28));
    let q = env.core.sync_quarantine(&env.conn_id).unwrap();
    assert_eq!(q.len(), 2);
    let date = q.iter().find(|r| r.record_id == bad_date_id).unwrap();
    assert!(date.reason.contains("fecha_creacion") && date.reason.contains("31/02/2026"), "{}", date.reason);
    let money = q.iter().find(|r| r.record_id == bad_money_id).unwrap();
    assert!(money.reason.contains("pvp1"), "{}", money.reason);
    // And for a screen in another language: a dictionary key with the field and the value.
    assert_eq!(date.why.key, "jobLog.parse.not_a_date");
    assert_eq!(date.why.params.get("field").map(String::as_str), Some("fecha_creacion"));
    assert_eq!(date.why.params.get("value").map(String::as_str), Some("31/02/2026"));
    assert_eq!(money.why.key, "jobLog.parse.not_a_number");
    assert_eq!(money.why.params.get("value").map(String::as_str), Some("doce dólares"));
    // The last good version is kept, and not taken for deleted.
    assert_eq!(env.core.sync_record(&env.conn_id, "productos", &bad_date_id).unwrap(), good_before);
    assert!(local_ids(&env, spec, true).is_empty(), "nothing was tombstoned");
    let s = env.core.sync_summary(&env.conn_id).unwrap();
    assert_eq!(s.iter().find(|s| s.resource == "productos").unwrap().quarantined, 2);
    // The log names the record and the reason.
    let detail = env.core.jobs.detail(&job.id).unwrap();
    assert!(detail.logs.iter().any(|l| l.level == "warn" && l.message.contains(&bad_money_id)));
}

#[tokio::test]
async fn browser_searches_filters_and_sorts_the_local_copy() {
    let env = setup(40).await;
    let job = sync_now(&env, SyncOptions { resources: vec!["personas".into(), "productos".into()], ..opts(20) }).await;
    assert_eq!(job.status, JobStatus::Succeeded);
    let q =
        |search: Option<&str>, filters: Vec<sync::query::ColumnFilter>, sort: Option<&str>| sync::query::BrowseQuery {
            connection_id: env.conn_id.clone(),
            resource: "personas".into(),
            limit: 100,
            search: search.map(str::to_string),
            filters,
            sort: sort.map(str::to_string),
            ..Default::default()
        };
    let all = env.core.sync_browse(&q(None, vec![], Some("razon_social"))).unwrap();
    assert_eq!(all.total, 40);
    let names: Vec<String> = all.rows.iter().map(|r| r.values[1].clone().unwrap_or_default()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by razón social");
    // Full-text search by the prefix of one person's name finds that person.
    let target = &all.rows[7];
    let name = target.values[1].clone().unwrap();
    let word = name.split_whitespace().next().unwrap();
    let prefix: String = word.chars().take(word.chars().count().max(4) - 1).collect();
    let found = env.core.sync_browse(&q(Some(&prefix.to_lowercase()), vec![], None)).unwrap();
    assert!(found.total >= 1 && found.total < 40, "search narrowed the list ({})", found.total);
    assert!(found.rows.iter().any(|r| r.id == target.id), "{prefix} finds {name}");
    // Punctuation typed by a user does not break the query.
    assert!(env.core.sync_browse(&q(Some("\"(*"), vec![], None)).is_ok());
    // Column filter and unknown column.
    let f = sync::query::ColumnFilter { column: "tipo".into(), op: "eq".into(), value: "J".into() };
    let j = env.core.sync_browse(&q(None, vec![f], None)).unwrap();
    assert!(!j.rows.is_empty(), "the filter must keep some rows for the check to mean anything");
    assert!(j.rows.iter().all(|r| r.values[0].as_deref() == Some("J")));
    let bad = sync::query::ColumnFilter { column: "password".into(), op: "eq".into(), value: "x".into() };
    assert!(env.core.sync_browse(&q(None, vec![bad], None)).is_err());
    // Decimal range on products is numeric, not textual.
    let pq = sync::query::BrowseQuery {
        connection_id: env.conn_id.clone(),
        resource: "productos".into(),
        limit: 100,
        filters: vec![sync::query::ColumnFilter { column: "pvp1".into(), op: "gte".into(), value: "100".into() }],
        ..Default::default()
    };
    let p = env.core.sync_browse(&pq).unwrap();
    let idx = p.columns.iter().position(|c| c.name == "pvp1").unwrap();
    assert!(!p.rows.is_empty(), "some products cost 100 or more");
    assert!(p
        .rows
        .iter()
        .all(|r| r.values[idx].as_deref().map(|v| v.parse::<f64>().unwrap() >= 100.0).unwrap_or(false)));
}

/// Per-warehouse stock (one request per product) is read again only for the products whose
/// stored record changed since the last stock read; it is read whole when a warehouse changed,
/// and on a full refresh.
#[tokio::test(flavor = "multi_thread")]
async fn stock_is_read_again_only_for_products_that_changed() {
    use backoffice_sim::contifico::Resource;
    let env = setup(30).await;
    let stock_requests = |env: &Env| -> usize {
        env.sim.contifico().request_counts().into_iter().filter(|(p, _)| p.contains("/stock")).count()
    };
    let wanted =
        || SyncOptions { resources: vec!["bodegas".into(), "productos".into(), contifico::STOCK.into()], ..opts(10) };
    let job = sync_now(&env, wanted()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let all = stock_requests(&env);
    assert!(all >= 10, "the first sync asks every product for its stock ({all} asked)");

    env.sim.contifico().reset_counters();
    let job = sync_now(&env, wanted()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert_eq!(stock_requests(&env), 0, "nothing changed: no product is asked for its stock");

    // Some products change upstream (their stock totals among them).
    let report = env.sim.contifico().mutate_resource(Resource::Producto, 20.0);
    assert!(report.mutated > 0, "{report:?}");
    env.sim.contifico().reset_counters();
    let job = sync_now(&env, wanted()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let asked = stock_requests(&env);
    assert!(asked >= 1 && asked as u64 <= report.mutated, "only changed products are asked: {asked} of {report:?}");
    assert!(asked < all);

    // A warehouse changes: every product's stock is read again (rows may move between warehouses).
    env.sim.contifico().mutate_resource(Resource::Bodega, 50.0);
    env.sim.contifico().reset_counters();
    let job = sync_now(&env, wanted()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert!(stock_requests(&env) >= all - (report.deleted as usize), "a warehouse change reads the stock whole");

    env.sim.contifico().reset_counters();
    let job = sync_now(&env, SyncOptions { full_refresh: true, ..wanted() }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    assert!(stock_requests(&env) >= all - (report.deleted as usize), "a full refresh asks every live product again");
}

/// The first screen's card: records stored, what each run added, updated and marked deleted, the
/// next scheduled run, and when the data stops being as fresh as the schedule promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_card_tells_what_each_run_changed_and_when_data_goes_stale() {
    use backoffice_core::ops::scheduler;
    let env = setup(30).await;
    let card = |env: &Env| {
        env.core.dashboard().unwrap().cards.into_iter().find(|c| c.connection.id == env.conn_id).expect("a card")
    };
    let before = card(&env);
    assert!(before.last_run.is_none() && before.last_success_at.is_none() && before.records == 0);
    assert!(before.next_run_at.is_none() && before.fresh_until.is_none(), "no schedule, no promise");
    assert_eq!(before.days.len(), 30);

    let job = sync_now(&env, opts(50)).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let first = card(&env);
    let stored: i64 = RESOURCES.iter().map(|s| local_ids(&env, s, false).len() as i64).sum();
    assert_eq!(first.records, stored);
    let run = first.last_run.clone().expect("the run");
    assert_eq!(run.counts.get("added").copied(), Some(stored), "a first sync adds every record");
    assert_eq!(run.counts.get("updated").copied().unwrap_or(0), 0);
    let today = first.days.last().unwrap();
    assert_eq!((today.runs, today.failed, today.changed), (1, 0, stored));
    assert!(first.last_error.is_none());

    // Nothing changed upstream: the next run adds and updates nothing.
    let job = sync_now(&env, opts(50)).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let quiet = card(&env).last_run.unwrap();
    assert_eq!(quiet.counts.get("added").copied().unwrap_or(0), 0, "{:?}", quiet.counts);
    assert_eq!(quiet.counts.get("updated").copied().unwrap_or(0), 0, "{:?}", quiet.counts);

    // Edits and deletions upstream: updated and marked deleted; added is exactly the rows that are new
    // (a product's stock can appear in another warehouse).
    let all_rows = |env: &Env| -> i64 {
        RESOURCES.iter().map(|s| (local_ids(env, s, false).len() + local_ids(env, s, true).len()) as i64).sum()
    };
    let rows_before = all_rows(&env);
    let report = env.sim.contifico().mutate(20.0);
    let job = sync_now(&env, SyncOptions { full_refresh: true, ..opts(50) }).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let changed = card(&env);
    let c = changed.last_run.unwrap().counts;
    let added = c.get("added").copied().unwrap_or(0);
    assert_eq!(added, all_rows(&env) - rows_before, "{c:?}");
    let updated = c.get("updated").copied().unwrap_or(0);
    assert!(updated > 0, "{c:?}");
    assert_eq!(added + updated, c["records"] - c["unchanged"], "{c:?}");
    assert!(c.get("deleted").copied().unwrap_or(0) as u64 >= report.deleted, "{c:?} {report:?}");
    let live: i64 = RESOURCES.iter().map(|s| local_ids(&env, s, false).len() as i64).sum();
    assert_eq!(changed.records, live);
    assert_eq!(changed.days.last().unwrap().runs, 3);

    // The default hourly schedule: the next run is on the hour, and the data is fresh until the
    // run due after the last good one plus the grace.
    let now = chrono::Utc::now();
    scheduler::ensure_defaults_at(env.core.ctx(), &env.conn_id, now).unwrap();
    let sched = card(&env);
    let next = chrono::DateTime::parse_from_rfc3339(sched.next_run_at.as_deref().expect("next run")).unwrap();
    assert!(next > now && next.timestamp() % 3600 == 0, "{next}");
    let last_ok = chrono::DateTime::parse_from_rfc3339(sched.last_success_at.as_deref().unwrap()).unwrap();
    let fresh = chrono::DateTime::parse_from_rfc3339(sched.fresh_until.as_deref().expect("a promise")).unwrap();
    assert!(fresh > last_ok && (fresh - last_ok) <= chrono::Duration::minutes(90), "{last_ok} → {fresh}");
    assert_eq!((fresh.timestamp() - 30 * 60) % 3600, 0, "the hour after the last success, plus 30 minutes");
}
