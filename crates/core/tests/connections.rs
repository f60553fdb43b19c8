//! Connections against the real OS keychain (Secret Service: run under `cargo xtask test`, which
//! starts gnome-keyring inside dbus-run-session) and the loopback simulators.

use std::sync::Arc;

use backoffice_core::model::{ConnectionInput, ConnectionKind, Credentials, JobStatus};
use backoffice_core::secrets::{Keychain, SecretStore};
use backoffice_core::{Core, CoreError, Paths};
use backoffice_sim::{SimConfig, SimCredentials};

fn keychain() -> Keychain {
    // A service name of its own keeps test entries apart from real ones.
    let k = Keychain { service: Some(format!("BackOffice-test-{}", uuid::Uuid::new_v4())) };
    if let Err(e) = k.check() {
        panic!("no usable Secret Service ({e}); run the tests with `cargo xtask test`, which starts one");
    }
    k
}

fn open(dir: &std::path::Path) -> Arc<Core> {
    let paths = Paths { db: dir.join("bo.db"), log_dir: dir.join("logs") };
    Core::open(paths, Arc::new(keychain())).unwrap()
}

fn input(name: &str, kind: ConnectionKind, url: &str, key: &str, secret: &str) -> ConnectionInput {
    ConnectionInput {
        name: name.into(),
        kind,
        base_url: url.into(),
        timezone: String::new(),
        credentials: Some(Credentials { key: key.into(), secret: secret.into() }),
    }
}

async fn run_test(core: &Arc<Core>, id: &str) -> backoffice_core::model::Job {
    let job = core.start_test_connection(id).unwrap();
    for _ in 0..200 {
        let j = core.jobs.get(&job.id).unwrap();
        if !j.status.is_active() {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("test job did not finish");
}

#[tokio::test]
async fn every_kind_tests_ok_against_the_simulators_and_bad_secrets_fail_plainly() {
    let sim = backoffice_sim::start(SimConfig::default()).await.unwrap();
    let c = SimCredentials::default();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path());
    let conns = core.connections();
    let cases = [
        ("Matriz", ConnectionKind::Omie, sim.omie.clone(), c.omie_app_key.clone(), c.omie_app_secret.clone()),
        (
            "Quito",
            ConnectionKind::Contifico,
            sim.contifico.clone(),
            c.contifico_api_key.clone(),
            c.contifico_pos_token.clone(),
        ),
        (
            "Site A",
            ConnectionKind::Erpnext,
            sim.erpnext_a.clone(),
            c.erpnext_api_key.clone(),
            c.erpnext_api_secret.clone(),
        ),
        (
            "Site B",
            ConnectionKind::Erpnext,
            sim.erpnext_b.clone(),
            c.erpnext_api_key.clone(),
            c.erpnext_api_secret.clone(),
        ),
    ];
    for (name, kind, url, key, secret) in &cases {
        let conn = conns.create(&input(name, *kind, url, key, secret), false).unwrap();
        let job = run_test(&core, &conn.id).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{name}: {:?}", job.error);
        let after = conns.get(&conn.id).unwrap();
        assert_eq!(after.last_test_ok, Some(true));
    }
    for (name, kind, url, key, _secret) in &cases {
        let bad_name = format!("{name} wrong");
        let bad_key = if *kind == ConnectionKind::Contifico { "wrong-key" } else { key.as_str() };
        let conn = conns.create(&input(&bad_name, *kind, url, bad_key, "wrong-secret"), false).unwrap();
        let job = run_test(&core, &conn.id).await;
        assert_eq!(job.status, JobStatus::Failed, "{bad_name} should fail");
        let err = job.error.unwrap();
        assert_eq!(err.code, "unauthorized", "{bad_name}: {err:?}");
        assert!(err.message.contains(&bad_name), "message names the connection: {}", err.message);
        assert_eq!(conns.get(&conn.id).unwrap().last_test_ok, Some(false));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn canary_secret_never_reaches_sqlite_or_logs() {
    let canary_key = format!("canary-key-{}", uuid::Uuid::new_v4().simple());
    let canary_secret = format!("canary-secret-{}", uuid::Uuid::new_v4().simple());
    // A simulator that accepts the canary: the test succeeds, so real requests carrying the key and
    // the secret (Omie sends both in the JSON body) are made and logged at debug level.
    let credentials = SimCredentials {
        omie_app_key: canary_key.clone(),
        omie_app_secret: canary_secret.clone(),
        ..Default::default()
    };
    let sim = backoffice_sim::start(SimConfig { scale: 3, credentials, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Log everything, request and response bodies included, into this test's folder.
    std::env::set_var("BACKOFFICE_LOG", "debug");
    let _guard = backoffice_core::logging::init(&dir.path().join("logs"), "canary", false);
    let core = open(dir.path());
    let conn = core
        .connections()
        .create(&input("Canário", ConnectionKind::Omie, &sim.omie, &canary_key, &canary_secret), false)
        .unwrap();
    // The secret is in the keychain...
    let stored = core.secrets.get(&conn.id).unwrap().unwrap();
    assert_eq!(stored.secret, canary_secret);
    // ...and a successful test, and a failing one (unreachable host), log and store without it.
    let job = run_test(&core, &conn.id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{:?}", job.error);
    let dead = core
        .connections()
        .create(
            &input("Canário fora", ConnectionKind::Omie, "http://127.0.0.1:9/api/v1/", &canary_key, &canary_secret),
            false,
        )
        .unwrap();
    let failed = run_test(&core, &dead.id).await;
    assert_eq!(failed.error.as_ref().unwrap().code, "unreachable");
    for j in [&job, &failed] {
        let json = serde_json::to_string(&core.jobs.detail(&j.id).unwrap()).unwrap();
        assert!(!json.contains(&canary_secret) && !json.contains(&canary_key));
    }
    drop(core);
    drop(_guard); // flush the log file
    let mut scanned_db = false;
    let mut logged_requests = false;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&canary_secret), "secret found in {}", entry.display());
        assert!(!text.contains(&canary_key), "key found in {}", entry.display());
        scanned_db |= entry.file_name().is_some_and(|n| n == "bo.db");
        logged_requests |= entry.starts_with(dir.path().join("logs")) && text.contains("ListarClientes");
    }
    assert!(scanned_db, "the database file must have been scanned");
    assert!(logged_requests, "the debug log must hold the requests made (else its scan proves nothing)");
    sim.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn bad_input_is_refused_with_a_specific_reason_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path());
    let conns = core.connections();
    let ok = conns.create(&input("Loja 1", ConnectionKind::Omie, "", "k", "s"), false).unwrap();
    assert_eq!(ok.base_url, "https://app.omie.com.br/api/v1/", "real default filled in");
    assert_eq!(ok.timezone, "America/Sao_Paulo");
    let cases: Vec<(ConnectionInput, &str)> = vec![
        (input("X", ConnectionKind::Omie, "ftp://x.example/", "k", "s"), "base_url"),
        (input("X", ConnectionKind::Omie, "not a url", "k", "s"), "base_url"),
        (input("X", ConnectionKind::Omie, "", "", "s"), "key"),
        (input("X", ConnectionKind::Omie, "", "k", ""), "secret"),
        (input("", ConnectionKind::Omie, "", "k", "s"), "name"),
        (input("X", ConnectionKind::Erpnext, "", "k", "s"), "base_url"),
    ];
    for (inp, field) in cases {
        match conns.create(&inp, false) {
            Err(CoreError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
    match conns.create(&input("loja 1", ConnectionKind::Omie, "", "k", "s"), false) {
        Err(CoreError::DuplicateName(n)) => assert_eq!(n, "loja 1"),
        other => panic!("expected duplicate, got {other:?}"),
    }
    assert_eq!(conns.list().unwrap().len(), 1, "nothing else was stored");
    // Edit without credentials keeps the stored secret.
    let mut edit = input("Loja 1 renamed", ConnectionKind::Omie, "", "", "");
    edit.credentials = None;
    conns.update(&ok.id, &edit).unwrap();
    assert_eq!(core.secrets.get(&ok.id).unwrap().unwrap().secret, "s");
    // Delete removes the keychain entry too.
    conns.delete(&ok.id).unwrap();
    assert!(core.secrets.get(&ok.id).unwrap().is_none());
    assert!(conns.list().unwrap().is_empty());
}

#[tokio::test]
async fn non_json_reply_and_missing_service_are_explained() {
    // A plain web server that answers HTML, like a wrong base URL would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = "<html><body>Welcome to nginx</body></html>";
            let _ = s
                .write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).as_bytes())
                .await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path());
    let conn = core
        .connections()
        .create(&input("Site HTML", ConnectionKind::Erpnext, &format!("http://{addr}"), "k", "s"), false)
        .unwrap();
    let job = run_test(&core, &conn.id).await;
    assert_eq!(job.error.unwrap().code, "not_json");
}
