//! ERPNext's `Retry-After` holds for every request to the site, from every task and every process
//! on the database, not only for the request that was told: against the simulator's Frappe-style
//! rate limiter (5 requests per 2 s per site), several readers in two "processes" (two stores on
//! one file) read until done, and none of their requests reaches the site while a `Retry-After` it
//! announced is still running.

use std::sync::Arc;
use std::time::Duration;

use backoffice_core::erp::erpnext::client::ErpnextClient;
use backoffice_core::http::HostGate;
use backoffice_core::model::{Connection, ConnectionKind, Credentials};
use backoffice_core::secrets::{Keychain, Overlay};
use backoffice_core::{Core, Paths};
use backoffice_sim::erpnext::RateLimit;
use backoffice_sim::{SimConfig, SimCredentials};
use serde_json::json;

fn open(dir: &std::path::Path, site: &str) -> (Arc<Core>, Connection) {
    let secrets = Arc::new(Overlay::new(Keychain::default()));
    let core = Core::open(Paths { db: dir.join("bo.db"), log_dir: dir.join("logs") }, secrets).unwrap();
    let conn = core.connections().ensure_headless("Site A", ConnectionKind::Erpnext, site).unwrap();
    (core, conn)
}

fn creds() -> Credentials {
    let c = SimCredentials::default();
    Credentials { key: c.erpnext_api_key, secret: c.erpnext_api_secret }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_holds_for_every_task_and_process() {
    let sim = backoffice_sim::start(SimConfig::default()).await.unwrap();
    let limit =
        RateLimit { limit: Duration::from_secs(2), window: Duration::from_secs(2), cost: Duration::from_millis(400) };
    sim.erpnext_a().set_rate_limit(Some(limit));
    let dir = tempfile::tempdir().unwrap();
    // Two processes on one database: each its own store connections.
    let (one, conn) = open(dir.path(), &sim.erpnext_a);
    let (two, _) = open(dir.path(), &sim.erpnext_a);
    let mut tasks = vec![];
    for (i, core) in [one.clone(), two.clone(), one.clone(), two.clone()].into_iter().enumerate() {
        let client =
            ErpnextClient::new(core.http.clone(), &conn, &creds()).with_gate(HostGate::new(core.store.clone()));
        tasks.push(tokio::spawn(async move {
            for n in 0..4 {
                let got = client.list("Purchase Order", &["name"], &json!([]), "name asc", 0, 5).await;
                if let Err(e) = got {
                    panic!("reader {i}, read {n}: {}", e.short());
                }
                // Work between reads, different per reader, so that readers start requests while
                // another one's Retry-After runs (as a sync's pages and a transfer's checks do).
                tokio::time::sleep(Duration::from_millis(130 * (i as u64 + 1))).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = sim.erpnext_a().rate_stats();
    assert_eq!(stats.admitted, 16, "every read was answered once: {stats:?}");
    assert!(stats.rejected > 0, "the site's limit was reached (else this test proves nothing): {stats:?}");
    assert_eq!(stats.early, 0, "a request reached the site during a Retry-After it had announced: {stats:?}");
}
