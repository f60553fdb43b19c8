//! The sync engine on a team database: the same records from the same simulator, synced into a
//! desk's SQLite file and into PostgreSQL, give the same copy (rows, contents, tombstones), the
//! same summaries and the same answers in the browser, through a first read, an incremental read
//! after edits and deletions upstream, and a full refresh.

#[path = "support/team_db.rs"]
mod team_db;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backoffice_core::erp::contifico::resources::RESOURCES;
use backoffice_core::model::{ConnectionKind, Credentials, Job, JobStatus};
use backoffice_core::ops::contracts::ContractInput;
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::store::{Backend, Store};
use backoffice_core::sync::{self, query::BrowseQuery, query::ColumnFilter, SyncOptions};
use backoffice_core::{vals, Core, Paths};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};

struct Desk {
    _dir: tempfile::TempDir,
    core: Arc<Core>,
    conn_id: String,
    /// The desk's keychain (the secrets given here stay in memory).
    secrets: Arc<Overlay<Keychain>>,
}

fn desk(backend: Backend, sim: &SimHandle) -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let paths = Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") };
    let core = match backend {
        Backend::Sqlite => Core::open(paths, secrets.clone()).unwrap(),
        Backend::Postgres => {
            let url = team_db::fresh_database();
            let s = secrets.clone();
            std::thread::spawn(move || Core::open_team(paths, &url, s).unwrap()).join().unwrap()
        }
    };
    let conn = core.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    Desk { _dir: dir, core, conn_id: conn.id, secrets }
}

async fn sync_now(d: &Desk, opts: SyncOptions) -> Job {
    let job = wait_job(&d.core, d.core.sync_start(&d.conn_id, opts).unwrap()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    job
}

/// A stored row: its raw record, its typed columns, whether it is marked deleted.
type StoredRow = (String, Vec<Option<String>>, bool);

/// Every stored row of every resource, by resource and id.
fn copy(d: &Desk) -> BTreeMap<String, BTreeMap<String, StoredRow>> {
    let store: &Store = &d.core.store;
    let mut out = BTreeMap::new();
    for spec in RESOURCES {
        let cols: String = spec.columns.iter().map(|c| format!(", \"{}\"", c.name)).collect();
        let rows = store
            .query(|db| {
                db.query(
                    &format!(
                        "SELECT id, raw, deleted_at IS NOT NULL{cols} FROM \"{}\" WHERE connection_id=?1",
                        spec.table
                    ),
                    vals![d.conn_id],
                )
            })
            .unwrap();
        let mut m = BTreeMap::new();
        for r in rows {
            let values = (0..spec.columns.len()).map(|i| r.get::<Option<String>>(3 + i).unwrap()).collect();
            m.insert(r.get::<String>(0).unwrap(), (r.get(1).unwrap(), values, r.get::<bool>(2).unwrap()));
        }
        out.insert(spec.name.to_string(), m);
    }
    out
}

fn same_copy(desk: &Desk, team: &Desk, when: &str) {
    let (a, b) = (copy(desk), copy(team));
    for (resource, rows) in &a {
        assert!(!rows.is_empty() || resource == "stock", "{when}: {resource} has rows to compare");
        assert_eq!(rows, &b[resource], "{when}: {resource} differs between the desk's file and the team database");
    }
    let sa = sync::summaries(&desk.core.store, &desk.conn_id, "contifico", RESOURCES).unwrap();
    let sb = sync::summaries(&team.core.store, &team.conn_id, "contifico", RESOURCES).unwrap();
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(
            (&x.resource, x.records, x.deleted, x.quarantined),
            (&y.resource, y.records, y.deleted, y.quarantined)
        );
        assert!(y.last_success_at.is_some() && y.resume_page.is_none(), "{when}: {} read to the end", y.resource);
    }
}

fn browse(d: &Desk, resource: &str, search: Option<&str>, filters: Vec<ColumnFilter>) -> (i64, Vec<String>) {
    let page = d
        .core
        .sync_browse(&BrowseQuery {
            connection_id: d.conn_id.clone(),
            resource: resource.into(),
            limit: 1000,
            search: search.map(str::to_string),
            filters,
            sort: Some("id".into()),
            ..Default::default()
        })
        .unwrap();
    (page.total, page.rows.into_iter().map(|r| r.id).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_into_a_team_database_keeps_the_same_copy_as_a_desks_file() {
    let sim = backoffice_sim::start(SimConfig { scale: 40, ..SimConfig::default() }).await.unwrap();
    let desk_a = desk(Backend::Sqlite, &sim);
    let team = desk(Backend::Postgres, &sim);
    let opts = || SyncOptions { page_size: Some(7), batch_size: Some(13), ..Default::default() };

    let first = sync_now(&team, opts()).await;
    sync_now(&desk_a, opts()).await;
    assert!(first.counts["records"] > 0);
    same_copy(&desk_a, &team, "after the first sync");
    // The team's resource tables are PostgreSQL's own: a tsvector kept by the server, not FTS5.
    let tsv: i64 = team
        .core
        .store
        .query(|db| {
            db.one(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()
                 AND table_name = 'contifico_persona' AND column_name = 'search_tsv'",
                &[],
            )
        })
        .unwrap();
    assert_eq!(tsv, 1);

    // Nothing changed upstream: nothing is rewritten on either backend.
    let again = sync_now(&team, opts()).await;
    assert_eq!(again.counts.get("added").copied().unwrap_or(0), 0);
    assert_eq!(again.counts.get("updated").copied().unwrap_or(0), 0, "{:?}", again.counts);

    // Edits and deletions upstream, an incremental read, then a full refresh (tombstones).
    let report = sim.contifico().mutate(20.0);
    assert!(report.mutated > 0 && report.deleted > 0);
    sync_now(&team, opts()).await;
    sync_now(&desk_a, opts()).await;
    same_copy(&desk_a, &team, "after the incremental sync");
    let refresh = || SyncOptions { full_refresh: true, ..opts() };
    let full = sync_now(&team, refresh()).await;
    sync_now(&desk_a, refresh()).await;
    assert!(full.counts.get("deleted").copied().unwrap_or(0) > 0, "{:?}", full.counts);
    same_copy(&desk_a, &team, "after the full refresh");

    // The browser answers the same on both: searches by a word's beginning (any case, accents
    // or not), "contains" in any case, numeric ranges.
    let (all, ids) = browse(&desk_a, "personas", None, vec![]);
    assert!(all > 10);
    assert_eq!(browse(&team, "personas", None, vec![]), (all, ids.clone()));
    let raw: String = desk_a
        .core
        .store
        .query(|db| db.one("SELECT razon_social FROM contifico_persona WHERE id=?1", vals![ids[3]]))
        .unwrap();
    let word = raw.split_whitespace().next().unwrap().to_string();
    let prefix: String = word.chars().take(word.chars().count().max(4) - 1).collect();
    for search in [prefix.to_uppercase(), prefix.to_lowercase(), "\"(*".into()] {
        let on_desk = browse(&desk_a, "personas", Some(&search), vec![]);
        assert_eq!(browse(&team, "personas", Some(&search), vec![]), on_desk, "search {search:?}");
    }
    let found = browse(&team, "personas", Some(&prefix), vec![]);
    assert!(found.1.contains(&ids[3]) && found.0 < all, "{prefix} narrows the list to {raw}");
    let contains = ColumnFilter { column: "razon_social".into(), op: "contains".into(), value: prefix.to_uppercase() };
    let on_desk = browse(&desk_a, "personas", None, vec![contains.clone()]);
    assert!(on_desk.1.contains(&ids[3]));
    assert_eq!(browse(&team, "personas", None, vec![contains]), on_desk);
    let costly = || vec![ColumnFilter { column: "pvp1".into(), op: "gte".into(), value: "100".into() }];
    let on_desk = browse(&desk_a, "productos", None, costly());
    assert!(on_desk.0 > 0);
    assert_eq!(browse(&team, "productos", None, costly()), on_desk);
}

/// Roles on synced data: an operator's sync makes the resource tables and fills them; a second
/// operator syncs into them too; a reviewer reads them in the browser and the summaries, and the
/// database refuses her a sync of her own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_sync_into_the_team_database_and_reviewers_browse_what_they_synced() {
    let sim = backoffice_sim::start(SimConfig { scale: 20, ..SimConfig::default() }).await.unwrap();
    let url = team_db::fresh_database();
    let on = url.clone();
    // Set up by the administrator (the roles are made then).
    std::thread::spawn(move || Store::open_team(&on).map(|_| ()).unwrap()).join().unwrap();
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let (ana, bia, maria) = (format!("ana_{suffix}"), format!("bia_{suffix}"), format!("maria_{suffix}"));
    let users = format!(
        "CREATE ROLE {ana} LOGIN PASSWORD 'made-up-pass-1'; GRANT backoffice_operator TO {ana};
         CREATE ROLE {bia} LOGIN PASSWORD 'made-up-pass-2'; GRANT backoffice_operator TO {bia};
         CREATE ROLE {maria} LOGIN PASSWORD 'made-up-pass-3'; GRANT backoffice_reviewer TO {maria};"
    );
    let on = url.clone();
    std::thread::spawn(move || team_db::admin_on(&on).batch_execute(&users).unwrap()).join().unwrap();
    let server_and_db = url.shown().split_once('@').unwrap().1.to_string();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let dir = tempfile::tempdir().unwrap();
    let open = |user: &str, password: &str| {
        let url =
            backoffice_core::store::team::TeamUrl::parse(&format!("postgres://{user}:{password}@{server_and_db}"))
                .unwrap();
        let paths = Paths { db: dir.path().join(user).join("unused.db"), log_dir: dir.path().join(user).join("logs") };
        let s = secrets.clone();
        std::thread::spawn(move || Core::open_team(paths, &url, s).unwrap()).join().unwrap()
    };
    let (ana_desk, bia_desk, maria_desk) =
        (open(&ana, "made-up-pass-1"), open(&bia, "made-up-pass-2"), open(&maria, "made-up-pass-3"));
    let conn = ana_desk.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    let as_desk = |core: &Arc<Core>| Desk {
        _dir: tempfile::tempdir().unwrap(),
        core: core.clone(),
        conn_id: conn.id.clone(),
        secrets: secrets.clone(),
    };
    let (ana_d, bia_d, maria_d) = (as_desk(&ana_desk), as_desk(&bia_desk), as_desk(&maria_desk));
    let opts = || SyncOptions { resources: vec!["personas".into(), "productos".into()], ..Default::default() };

    sync_now(&ana_d, opts()).await;
    let seen = browse(&maria_d, "personas", None, vec![]);
    assert_eq!(seen, browse(&ana_d, "personas", None, vec![]));
    assert!(seen.0 > 0);
    sim.contifico().mutate(30.0);
    sync_now(&bia_d, SyncOptions { full_refresh: true, ..opts() }).await;
    let summaries = sync::summaries(
        &maria_desk.store,
        &conn.id,
        "contifico",
        backoffice_core::erp::contifico::resources::RESOURCES,
    )
    .unwrap();
    let personas = summaries.iter().find(|s| s.resource == "personas").unwrap();
    assert_eq!((personas.records, personas.deleted), (browse(&maria_d, "personas", None, vec![]).0, personas.deleted));
    assert!(personas.last_success_at.is_some());
    let err = maria_desk.sync_start(&conn.id, opts()).expect_err("a reviewer's sync is refused");
    assert_eq!(err.code(), "team_role_refused");
}

/// The rules read synced data on a team database as on a desk's file: the same Omie and Contífico
/// records synced into both, the same divergence session on both, the same findings (rule,
/// record, amount, what the explanation says) and the same dashboard figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_divergence_session_on_a_team_database_finds_what_it_finds_on_a_desks_file() {
    use backoffice_core::erp::omie::limiter::{self, Limiter, OmieLimits};
    use backoffice_core::ops::divergences::{DivergenceFilter, RuleInput, SessionParams};

    // Scale 40: the smallest at which the simulator plants a contract book and its billing.
    let sim = backoffice_sim::start(SimConfig { scale: 40, ..SimConfig::default() }).await.unwrap();
    // The two desks read the same records one after the other: no redundancy window here (the
    // documented 60 s is tested in omie_flows).
    sim.omie().set_limits(backoffice_sim::omie::OmieLimits { redundant_window: Duration::ZERO, ..Default::default() });
    limiter::install(
        &limiter::host_of(&sim.omie),
        Limiter::new(
            OmieLimits { redundant_window: Duration::ZERO, ..Default::default() },
            Arc::new(limiter::SystemClock::new()),
        ),
    );
    let desk_a = desk(Backend::Sqlite, &sim);
    let team = desk(Backend::Postgres, &sim);
    for d in [&desk_a, &team] {
        let omie = d.core.connections().ensure_headless("Matriz", ConnectionKind::Omie, &sim.omie).unwrap();
        let c = SimCredentials::default();
        d.secrets.put(&omie.id, Credentials { key: c.omie_app_key, secret: c.omie_app_secret });
        let omie_desk = Desk {
            _dir: tempfile::tempdir().unwrap(),
            core: d.core.clone(),
            conn_id: omie.id.clone(),
            secrets: d.secrets.clone(),
        };
        sync_now(&omie_desk, SyncOptions::default()).await;
        // The company's contract book, so the billing check has something to reconcile.
        for (e, doc) in sim.omie().contract_book() {
            d.core
                .save_contract(&ContractInput {
                    connection_id: Some(omie.id.clone()),
                    client: doc,
                    description: e.description.clone(),
                    mrr: e.mrr.clone(),
                    start_date: e.start.format("%Y-%m-%d").to_string(),
                    billing_day: Some(e.billing_day.to_string()),
                    reason: "contrato assinado".into(),
                    ..Default::default()
                })
                .unwrap();
        }
        sync_now(d, SyncOptions::default()).await;
        let every_date = [
            ("omie_service_order_open", serde_json::json!({"from_date": ""})),
            ("omie_receipt_attachments", serde_json::json!({"from_date": ""})),
            ("contifico_sale_without_entry", serde_json::json!({"document_types": ["FAC"], "from_date": ""})),
        ];
        for (rule, params) in every_date {
            let input =
                RuleInput { params: Some(params), reason: "every date in this test".into(), ..Default::default() };
            d.core.save_divergence_rule(rule, &input).unwrap();
        }
        let job = d.core.start_divergence_session(SessionParams::default()).unwrap();
        let job = wait_job(&d.core, job).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    }
    let findings = |d: &Desk| {
        let page = d
            .core
            .divergences(&DivergenceFilter { statuses: vec!["open".into()], limit: Some(10_000), ..Default::default() })
            .unwrap();
        let mut v: Vec<_> = page
            .items
            .into_iter()
            .map(|x| (x.rule_id, x.resource, x.record_id, x.record_label, x.amount, x.currency, x.facts, x.basis))
            .collect();
        v.sort();
        (v, page.amount_total)
    };
    let (on_desk, total) = findings(&desk_a);
    let rules: std::collections::BTreeSet<&String> = on_desk.iter().map(|f| &f.0).collect();
    assert!(rules.len() >= 4, "the simulators' data gives several rules something to find: {rules:?}");
    assert_eq!(findings(&team), (on_desk.clone(), total), "the team database's findings differ");
    let (a, b) = (desk_a.core.divergence_metrics().unwrap(), team.core.divergence_metrics().unwrap());
    assert_eq!((a.open, &a.amounts_open), (b.open, &b.amounts_open));
    assert_eq!(a.open as usize, on_desk.len());
    let by_rule = |m: &backoffice_core::ops::divergences::DivergenceMetrics| {
        m.rules.iter().map(|r| (r.rule_id.clone(), r.by_status.clone())).collect::<Vec<_>>()
    };
    assert_eq!(by_rule(&a), by_rule(&b));

    // Billing against contracts, every client-month the check looked at, as the desk's file keeps
    // it and as a BI tool reads it from the team database's view (money as numeric there).
    let months = |d: &Desk, sql: &str| -> Vec<(String, String, String, String, String, bool)> {
        d.core
            .store
            .query(|db| {
                db.query(sql, vals![])?
                    .iter()
                    .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
                    .collect()
            })
            .unwrap()
    };
    let on_file = months(
        &desk_a,
        "SELECT month, client, contracted, billed, verdict, verdict NOT IN ('within', 'pending')
           FROM billing_months ORDER BY month, client",
    );
    let in_view = months(
        &team,
        "SELECT to_char(month_start, 'YYYY-MM'), client, contracted::text, billed::text, verdict, divergent
           FROM bi_billing_vs_contracts ORDER BY month, client",
    );
    assert_eq!(on_file, in_view, "the BI view of billing against contracts differs from the desk's file");
    let divergent = in_view.iter().filter(|m| m.5).count();
    let found = on_desk.iter().filter(|f| f.0 == "billing_vs_contract").count();
    assert!(found > 0 && divergent == found, "{divergent} divergent client-months in the view, {found} findings");
    assert!(in_view.iter().any(|m| m.4 == "within"), "client-months within tolerance are kept too: {in_view:?}");
}

async fn wait_job(core: &Arc<Core>, job: Job) -> Job {
    for _ in 0..2400 {
        let j = core.jobs.get(&job.id).unwrap();
        if !j.status.is_active() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {} did not finish", job.kind);
}

/// The team database goes away in the middle of a sync (every connection cut, new ones refused):
/// the job fails plainly, and is recorded as failed once the server is back; the next sync then
/// goes on from the last committed page, and the copy ends the same as a desk's file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_mid_sync_fails_the_job_plainly_and_the_sync_resumes_when_it_is_back() {
    let sim = backoffice_sim::start(SimConfig { scale: 300, latency_ms: 15, ..SimConfig::default() }).await.unwrap();
    let url = team_db::fresh_database();
    let admin = team_db::admin_url();
    // postgres://user:password@host:port/database, the same database through the relay.
    let (userinfo, rest) = admin.trim_start_matches("postgres://").split_once('@').unwrap();
    let hostport = rest.split('/').next().unwrap().to_string();
    let database = url.shown().rsplit_once('/').unwrap().1.split('?').next().unwrap().to_string();
    let relay = backoffice_sim::relay::Relay::start(hostport).unwrap();
    let through = format!("postgres://{userinfo}@127.0.0.1:{}/{database}", relay.port);
    let team_url = backoffice_core::store::team::TeamUrl::parse(&through).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let paths = Paths { db: dir.path().join("unused.db"), log_dir: dir.path().join("logs") };
    let s = secrets.clone();
    let core = std::thread::spawn(move || Core::open_team(paths, &team_url, s).unwrap()).join().unwrap();
    let conn = core.connections().ensure_headless("Quito", ConnectionKind::Contifico, &sim.contifico).unwrap();
    let c = SimCredentials::default();
    secrets.put(&conn.id, Credentials { key: c.contifico_api_key, secret: c.contifico_pos_token });
    let team = Desk { _dir: dir, core: core.clone(), conn_id: conn.id.clone(), secrets };
    let opts = || SyncOptions {
        resources: vec!["personas".into()],
        page_size: Some(10),
        batch_size: Some(10),
        concurrency: Some(1),
        ..Default::default()
    };

    let job = core.sync_start(&conn.id, opts()).unwrap();
    // Watched from outside (not through the relay): some pages are committed, then the cut.
    let on = url.clone();
    let committed = move || -> i64 {
        let on = on.clone();
        std::thread::spawn(move || {
            let mut c = team_db::admin_on(&on);
            let n: i64 = c.query_one("SELECT count(*) FROM backoffice.contifico_persona", &[]).unwrap().get(0);
            n
        })
        .join()
        .unwrap()
    };
    let mut before = 0;
    for _ in 0..600 {
        before = committed();
        if before >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!((50..300).contains(&before), "cut in the middle of the sync ({before} of 300 stored)");
    relay.cut();
    // While the server is away the job cannot even be read: the window says the team database
    // cannot be reached.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let away = core.jobs.get(&job.id).expect_err("the team database is away");
    assert_eq!(away.code(), "team_db_unreachable", "{away}");
    relay.restore();
    // Once it is back, the job is recorded as failed, with the reason.
    let mut ended = None;
    for _ in 0..1200 {
        if let Ok(j) = core.jobs.get(&job.id) {
            if !j.status.is_active() {
                ended = Some(j);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let ended = ended.expect("the job's end was recorded when the server came back");
    assert_eq!(ended.status, JobStatus::Failed);
    assert_eq!(ended.error.as_ref().unwrap().code, "team_db_unreachable", "{:?}", ended.error);
    let kept = committed();
    assert!(kept >= before, "what was committed before the cut is kept ({kept} < {before})");

    // The next sync goes on from the last committed page and ends with every record.
    let again = sync_now(&team, opts()).await;
    let detail = core.jobs.detail(&again.id).unwrap();
    assert!(
        detail.logs.iter().any(|l| l.key.as_deref() == Some("sync.resuming")),
        "the sync resumed from its checkpoint: {:?}",
        detail.logs.iter().map(|l| l.message.clone()).collect::<Vec<_>>()
    );
    assert!(again.counts["records"] < 300, "it did not read everything again: {:?}", again.counts);
    assert_eq!(committed(), 300);
}
