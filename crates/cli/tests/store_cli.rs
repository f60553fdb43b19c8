//! `backoffice store copy` as a process: killed with SIGKILL in the middle of a table, run again,
//! it goes on and verifies; the copy back gives the same checksums. Uses the PostgreSQL cluster
//! `cargo xtask test` starts (BACKOFFICE_TEST_POSTGRES_URL).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use backoffice_core::store::{rusqlite, Store};

fn fresh_database() -> String {
    let admin = std::env::var("BACKOFFICE_TEST_POSTGRES_URL").expect(
        "BACKOFFICE_TEST_POSTGRES_URL is not set: run through `cargo xtask test`, or \
         `cargo xtask session --postgres -- cargo test -p backoffice-cli --test store_cli`",
    );
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("bo_cli_{}_{nanos}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("the test cluster answers");
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

fn cli(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_backoffice"));
    c.env("BACKOFFICE_LOG_DIR", dir.join("logs")).env_remove("DATABASE_URL").env_remove("PGPASSWORD");
    c
}

/// A desk with `n` synced Contífico records.
fn desk(path: &Path, n: usize) {
    let store = Store::open(path).unwrap();
    backoffice_core::sync::ensure_tables(&store, backoffice_core::erp::contifico::resources::RESOURCES).unwrap();
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at)
                 VALUES ('c1', 'Guayaquil', 'contifico', 'https://api.example/', 'America/Guayaquil',
                 '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z')",
                [],
            )?;
            let mut ins = tx.prepare(
                "INSERT INTO contifico_persona (connection_id, id, raw, search_text, fetched_at, sync_run_id, seen_run)
                 VALUES ('c1', ?1, ?2, ?3, '2026-12-01T10:00:00.000Z', 'r1', 'r1')",
            )?;
            for i in 0..n {
                ins.execute(rusqlite::params![
                    format!("p{i}"),
                    format!("{{\"id\":\"p{i}\",\"razon_social\":\"Cliente {i} S.A.\"}}"),
                    format!("cliente {i}")
                ])?;
            }
            Ok(())
        })
        .unwrap();
}

fn report(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (table, rows, checksum) of a report, by table name (a copied-back file lists its tables in its
/// own creation order).
fn checksums(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<(String, u64, String)> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (t["table"].as_str().unwrap().into(), t["rows"].as_u64().unwrap(), t["checksum"].as_str().unwrap().into())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_copy_killed_mid_table_goes_on_when_run_again_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let total = 60_000;
    desk(&db, total);
    let url = fresh_database();

    // Start the copy; kill -9 it once it is inside the big table (its progress lines say so).
    let mut child = cli(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["store", "copy", "--to", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut killed_at = None;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("contifico_persona: ").nth(1) {
            let done: u64 = rest.split(' ').next().unwrap().parse().unwrap();
            if done > 0 && done < total as u64 {
                child.kill().unwrap();
                killed_at = Some(done);
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    let killed_at = killed_at.expect("the copy was seen inside the big table");
    assert!(!status.success());

    let out = cli(dir.path()).arg("--db").arg(&db).args(["store", "check", &url]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("unfinished copy"), "{out:?}");

    // Again: it goes on (not from the start) and every table verifies.
    let out = cli(dir.path()).arg("--db").arg(&db).args(["--json", "store", "copy", "--to", &url]).output().unwrap();
    let there = report(&out);
    assert_eq!(there["resumed"], true);
    let progress = String::from_utf8_lossy(&out.stderr);
    let first: u64 = progress
        .lines()
        .find_map(|l| l.split("contifico_persona: ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(first > killed_at, "went on from {killed_at}, first batch now ends at {first}");
    let persona = checksums(&there).into_iter().find(|t| t.0 == "contifico_persona").unwrap();
    assert_eq!(persona.1, total as u64);

    // Back into a new file, with the password from PGPASSWORD instead of the address.
    let (userinfo, host) = url.trim_start_matches("postgres://").split_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let back = dir.path().join("back.db");
    let out = cli(dir.path())
        .env("PGPASSWORD", password)
        .args(["--json", "store", "copy", "--from", &format!("postgres://{user}@{host}"), "--to"])
        .arg(&back)
        .output()
        .unwrap();
    assert_eq!(checksums(&report(&out)), checksums(&there));
    let out = cli(dir.path()).arg("--db").arg(&back).args(["--json", "data", "status"]).output().unwrap();
    assert!(out.status.success(), "the copy opens as a desk: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn database_url_names_the_team_database_and_errors_are_plain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    desk(&db, 10);
    let url = fresh_database();
    let out = cli(dir.path()).arg("--db").arg(&db).env("DATABASE_URL", &url).args(["store", "copy"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("every table verified"));

    let wrong = url.replacen("throwaway-test-password", "wrong", 1);
    assert_ne!(wrong, url, "the test cluster's password is in its address");
    let out = cli(dir.path()).args(["store", "check", &wrong]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the user name or password") && !err.contains("wrong@"), "{err}");
    let out = cli(dir.path()).args(["--json", "store", "check", "mysql://x@y/z"]).output().unwrap();
    let api: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(api["code"], "team_db_bad_url");
}

#[test]
fn a_network_that_dies_mid_copy_fails_plainly_and_the_copy_goes_on_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let total = 60_000;
    desk(&db, total);
    let url = fresh_database();
    let (userinfo, rest) = url.trim_start_matches("postgres://").split_once('@').unwrap();
    let (hostport, database) = rest.split_once('/').unwrap();
    let relay = backoffice_sim::relay::Relay::start(hostport.to_string()).unwrap();
    let through_relay = format!("postgres://{userinfo}@127.0.0.1:{}/{database}", relay.port);

    let mut child = cli(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["store", "copy", "--to", &through_relay])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    let mut cut = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if !cut && line.contains("contifico_persona: ") && !line.contains(&format!(": {total} of")) {
            relay.cut();
            cut = true;
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(cut, "the copy was never seen inside the big table: {stderr}");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Could not reach the team database"), "not a plain message: {stderr}");
    assert!(stderr.contains("run the same command again"), "no word on how to go on: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("throwaway-test-password"), "{stderr}");

    // The network is back (straight to the server): the same command goes on and verifies.
    let out = cli(dir.path()).arg("--db").arg(&db).args(["--json", "store", "copy", "--to", &url]).output().unwrap();
    let there = report(&out);
    assert_eq!(there["resumed"], true);
    let persona = checksums(&there).into_iter().find(|t| t.0 == "contifico_persona").unwrap();
    assert_eq!(persona.1, total as u64);
}

/// The seeds' `DATABASE_URL=postgres://…` (no desk file chosen) makes the command line work on the
/// team database: one process syncs into it, another reads what it synced and the job it ran; a
/// desk's file named with --db still wins, with a note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_url_makes_the_command_line_work_on_the_team_database() {
    use backoffice_sim::{SimConfig, SimCredentials};
    let sim = backoffice_sim::start(SimConfig { scale: 15, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = std::thread::spawn(fresh_database).join().unwrap();
    let run = |args: &[&str]| {
        let mut c = cli(dir.path());
        c.env("DATABASE_URL", &url)
            .env("CONTIFICO_API_KEY", SimCredentials::default().contifico_api_key)
            .env("CONTIFICO_API_TOKEN", "made-up-pos-token")
            .env("CONTIFICO_API_BASE_URL", &sim.contifico)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env_remove("BACKOFFICE_DB")
            .env_remove("INVENTORY_DB_PATH")
            .args(args);
        c.output().unwrap()
    };
    let out = run(&["--json", "sync", "contifico", "--resources", "marcas", "personas"]);
    let job = report(&out);
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["counts"]["records"], 30);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("working on the team database at") && !stderr.contains("throwaway-test-password"),
        "{stderr}"
    );
    // No desk's file was made: the data is in PostgreSQL.
    assert!(!dir.path().join("data").join("BackOffice").join("backoffice.db").exists());
    let on = url.clone();
    let (marcas, personas): (i64, i64) = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&on, postgres::NoTls).unwrap();
        let mut n =
            |t: &str| -> i64 { c.query_one(&format!("SELECT count(*) FROM backoffice.{t}"), &[]).unwrap().get(0) };
        (n("contifico_marca"), n("contifico_persona"))
    })
    .join()
    .unwrap();
    assert_eq!((marcas, personas), (15, 15));
    // Another process (another desk) browses it and sees the job.
    let page = report(&run(&["--json", "contifico", "browse", "personas", "--limit", "4"]));
    assert_eq!(page["total"], 15);
    assert_eq!(page["rows"].as_array().unwrap().len(), 4);
    let jobs = report(&run(&["--json", "jobs", "list"]));
    let jobs = jobs.as_array().expect("a list of jobs");
    assert!(jobs.iter().any(|j| j["id"] == job["id"] && j["status"] == "succeeded"), "{jobs:?}");
    // A desk's file chosen with --db wins over DATABASE_URL, and the command says so.
    let db = dir.path().join("desk.db");
    let out = run(&["--db", db.to_str().unwrap(), "--json", "contifico", "browse", "personas"]);
    let page = report(&out);
    assert_eq!(page["total"], 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("a desk's file was chosen"));
}

/// `store work-on` sets a desk to work on the team database as Settings does: the desk's command
/// line then works there (its connections land in PostgreSQL), `connections key` keeps an existing
/// connection's key on this desk too, and `store work-on-desk` goes back to the desk's own file.
#[test]
fn a_desk_set_to_work_on_the_team_database_takes_its_command_line_there() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let url = fresh_database();
    let (userinfo, rest) = url.trim_start_matches("postgres://").split_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let keychain = format!("BackOffice-test-{}-{stamp}", std::process::id());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = cli(dir.path())
            .env("BACKOFFICE_DB", &db)
            .env("BACKOFFICE_KEYCHAIN_SERVICE", &keychain)
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "backoffice {args:?}: {text}");
        assert!(!text.contains(password), "the password was shown: {text}");
        text
    };
    let said =
        run(&["store", "work-on", &format!("postgres://{user}@{rest}?sslmode=disable")], &[("PGPASSWORD", password)]);
    assert!(said.contains("now works on the team database"), "{said}");
    let added = run(
        &[
            "connections",
            "add",
            "--name",
            "Quito",
            "--kind",
            "contifico",
            "--base-url",
            "https://api.contifico.example/",
        ],
        &[("BACKOFFICE_KEY", "made-up-key"), ("BACKOFFICE_SECRET", "made-up-token")],
    );
    assert!(added.contains("this desk works on the team database"), "{added}");
    let on = url.clone();
    let (names, keys): (Vec<String>, i64) = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&on, postgres::NoTls).unwrap();
        let names = c.query("SELECT name FROM backoffice.connections", &[]).unwrap().iter().map(|r| r.get(0)).collect();
        (names, c.query_one("SELECT count(*) FROM backoffice.connection_keys", &[]).unwrap().get(0))
    })
    .join()
    .unwrap();
    assert_eq!(names, vec!["Quito".to_string()], "the connection is not in the team database");
    assert_eq!(keys, 1, "the team database does not know this desk keeps the key");
    let kept =
        run(&["connections", "key", "Quito"], &[("BACKOFFICE_KEY", "other-key"), ("BACKOFFICE_SECRET", "other")]);
    assert!(kept.contains("keeps the key of \"Quito\""), "{kept}");

    run(&["store", "work-on-desk"], &[]);
    let list = run(&["--json", "connections", "list"], &[]);
    assert!(!list.contains("Quito"), "back on the desk's file, the team's connection is listed: {list}");
    let k = backoffice_core::secrets::Keychain { service: Some(keychain) };
    use backoffice_core::secrets::SecretStore;
    let _ = k.delete("team-database");
}
