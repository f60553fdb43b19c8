//! `store copy` against a real PostgreSQL server: the throwaway cluster `cargo xtask test` starts
//! (its address in BACKOFFICE_TEST_POSTGRES_URL; `cargo xtask session --postgres -- cargo test …`
//! gives one to a single run). Every test works in a database of its own.

use std::path::Path;

use backoffice_core::store::copy::{copy_from_team, copy_to_team, partial_path, team_status, CopyProgress};
use backoffice_core::store::team::{TeamDbError, TeamUrl};
use backoffice_core::store::{rusqlite, Store, MIGRATIONS};
use backoffice_core::CoreError;

/// A new, empty database on the test cluster.
fn fresh_database() -> String {
    let admin = std::env::var("BACKOFFICE_TEST_POSTGRES_URL").expect(
        "BACKOFFICE_TEST_POSTGRES_URL is not set: run through `cargo xtask test`, or \
         `cargo xtask session --postgres -- cargo test -p backoffice-core --test team_copy`",
    );
    let name = format!("bo_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("the test cluster answers");
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

fn url(s: &str) -> TeamUrl {
    TeamUrl::parse(s).unwrap()
}

fn no_progress(_: &CopyProgress) {}

/// Every ERP's resource tables, as the app and the command line prepare a store for a copy.
fn prep(store: &Store) -> backoffice_core::CoreResult<()> {
    backoffice_core::erp::migrate_resource_tables(store)
}

/// A desk with a connection, settings, and `marcas` synced rows (full-text indexed).
fn desk(path: &Path, marcas: usize) -> Store {
    let store = Store::open(path).unwrap();
    // The synced-data tables (with their full-text indexes), as the first sync makes them.
    backoffice_core::sync::ensure_tables(&store, backoffice_core::erp::contifico::resources::RESOURCES).unwrap();
    backoffice_core::sync::ensure_tables(&store, backoffice_core::erp::omie::sync::RESOURCES).unwrap();
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at, last_test_ok)
                 VALUES ('c1', 'Quito — Matriz', 'contifico', 'https://api.example/', 'America/Guayaquil',
                 '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z', NULL)",
                [],
            )?;
            tx.execute("INSERT INTO settings (key, value) VALUES ('ui.language', 'es'), ('ñandú', '€ 1.234,56')", [])?;
            let mut ins = tx.prepare(
                "INSERT INTO contifico_marca (connection_id, id, raw, nombre, search_text, fetched_at, sync_run_id, seen_run)
                 VALUES ('c1', ?1, ?2, ?3, ?4, '2026-12-01T10:00:00.000Z', 'r1', 'r1')",
            )?;
            for i in 0..marcas {
                let nombre = if i % 7 == 0 { None } else { Some(format!("Marca {i} — \"ñ\"")) };
                let search = format!("marca{i} {}", if i == 4321 { "zafiro" } else { "" });
                ins.execute(rusqlite::params![format!("m{i}"), format!("{{\"id\":\"m{i}\"}}"), nombre, search])?;
            }
            Ok(())
        })
        .unwrap();
    store
}

fn count(path: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_desk_goes_to_the_team_database_and_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("desk.db");
    drop(desk(&src, 12_345));
    let team = url(&fresh_database());
    assert_eq!(team_status(&team).unwrap().state, "empty");

    let mut calls = 0;
    let report = copy_to_team(&src, &team, &prep, &mut |_| calls += 1, &|| false).unwrap();
    assert!(!report.resumed);
    assert!(calls > 3, "progress is reported batch by batch ({calls})");
    let marca = report.tables.iter().find(|t| t.table == "contifico_marca").unwrap();
    assert_eq!(marca.rows, 12_345);
    let status = team_status(&team).unwrap();
    assert_eq!((status.state.as_str(), status.schema_version), ("ready", Some(MIGRATIONS.len() as i64)));

    // A second copy into the same database is refused: it is not empty any more.
    let err = copy_to_team(&src, &team, &prep, &mut no_progress, &|| false).unwrap_err();
    assert_eq!(err.code(), "team_db_not_empty", "{err}");

    let back = dir.path().join("offline/copy.db");
    let report_back = copy_from_team(&team, &back, &prep, &mut no_progress, &|| false).unwrap();
    // The same rows and checksums, table by table, in both directions.
    // (The new file lists its tables in its own creation order: compare them by name.)
    let by_name = |r: &backoffice_core::store::copy::CopyReport| {
        let mut v: Vec<_> = r.tables.iter().map(|t| (t.table.clone(), t.rows, t.checksum.clone())).collect();
        v.sort();
        v
    };
    assert_eq!(by_name(&report), by_name(&report_back));
    assert!(!partial_path(&back).exists());
    // The copy opens as a desk database; values, rowids and full-text search came back.
    let store = Store::open(&back).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let (name, tz, ok): (String, String, Option<i64>) = store
        .read(|c| {
            Ok(c.query_row("SELECT name, timezone, last_test_ok FROM connections WHERE id = 'c1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?)
        })
        .unwrap();
    assert_eq!((name.as_str(), tz.as_str(), ok), ("Quito — Matriz", "America/Guayaquil", None));
    let euro = "SELECT count(*) FROM settings WHERE value = '€ 1.234,56'";
    assert_eq!(count(&back, euro), 1);
    let rowid_of = |p: &Path| count(p, "SELECT rowid FROM contifico_marca WHERE id = 'm4321'");
    assert_eq!(rowid_of(&back), rowid_of(&src));
    let found = "SELECT rowid FROM contifico_marca_fts WHERE contifico_marca_fts MATCH 'zafiro'";
    assert_eq!(count(&back, found), rowid_of(&src));
    assert_eq!(count(&back, "SELECT count(*) FROM contifico_marca WHERE nombre IS NULL"), 12_345 / 7 + 1);

    // A desk file that is not there is not made up empty and copied.
    let missing = dir.path().join("no-such-desk.db");
    let err = copy_to_team(&missing, &url(&fresh_database()), &prep, &mut no_progress, &|| false).unwrap_err();
    assert_eq!(err.code(), "not_found", "{err}");
    assert!(!missing.exists());

    // Copying back again never overwrites a file.
    let err = copy_from_team(&team, &back, &prep, &mut no_progress, &|| false).unwrap_err();
    assert_eq!(err.code(), "copy_target_exists");
}

#[test]
fn an_interrupted_copy_goes_on_where_it_stopped_and_a_changed_source_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("desk.db");
    let store = desk(&src, 23_000);
    let team = url(&fresh_database());

    // Stop after a few batches (as the window's Cancel or Ctrl-C does).
    let seen = std::cell::Cell::new(0);
    let err = copy_to_team(
        &src,
        &team,
        &prep,
        &mut |p| {
            if p.table == "contifico_marca" {
                seen.set(p.rows_done);
            }
        },
        &|| seen.get() > 0,
    )
    .unwrap_err();
    assert!(matches!(err, CoreError::Cancelled), "{err}");
    assert_eq!(team_status(&team).unwrap().state, "copying");
    // No desk works on a team database while a copy into it is unfinished.
    let dir2 = tempfile::tempdir().unwrap();
    let paths = backoffice_core::Paths { db: dir2.path().join("unused.db"), log_dir: dir2.path().join("logs") };
    let keychain =
        std::sync::Arc::new(backoffice_core::secrets::Keychain { service: Some("BackOffice-test-copy".into()) });
    let refused = backoffice_core::Core::open_team(paths, &team, keychain).map(|_| ()).expect_err("refused mid-copy");
    assert_eq!(refused.code(), "team_db_other_copy", "{refused}");
    let partly = seen.get();
    assert!(partly > 0 && partly < 23_000, "stopped inside the big table ({partly})");

    // Run again: it goes on from the last batch (no row twice: the primary keys would refuse it).
    let mut first_seen = None;
    let report = copy_to_team(
        &src,
        &team,
        &prep,
        &mut |p| {
            if p.table == "contifico_marca" && first_seen.is_none() {
                first_seen = Some(p.rows_done);
            }
        },
        &|| false,
    )
    .unwrap();
    assert!(report.resumed);
    assert!(first_seen.unwrap() > partly, "the big table went on from {partly}, not from 0");
    assert_eq!(report.tables.iter().find(|t| t.table == "contifico_marca").unwrap().rows, 23_000);

    // A copy that stopped, then a desk that changed a row already copied: the check says so.
    let team2 = url(&fresh_database());
    let n = std::cell::Cell::new(0);
    let _ = copy_to_team(&src, &team2, &prep, &mut |_| n.set(n.get() + 1), &|| n.get() >= 3).unwrap_err();
    store
        .write(|tx| {
            tx.execute("UPDATE settings SET value = 'en' WHERE key = 'ui.language'", [])?;
            Ok(())
        })
        .unwrap();
    let err = copy_to_team(&src, &team2, &prep, &mut no_progress, &|| false).unwrap_err();
    let mismatch = err.feature::<TeamDbError>().expect("a team database error");
    assert!(matches!(mismatch, TeamDbError::Mismatch { table, .. } if table == "settings"), "{err}");
}

#[test]
fn a_value_that_does_not_fit_names_its_row_and_the_copy_goes_on_after_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("desk.db");
    let store = desk(&src, 10);
    store
        .write(|tx| {
            tx.execute("UPDATE connections SET is_demo = 'sim' WHERE id = 'c1'", [])?;
            Ok(())
        })
        .unwrap();
    let team = url(&fresh_database());
    let err = copy_to_team(&src, &team, &prep, &mut no_progress, &|| false).unwrap_err();
    assert_eq!(err.code(), "copy_bad_value");
    let text = err.to_string();
    for part in ["connections", "is_demo", "\"sim\"", "whole number"] {
        assert!(text.contains(part), "{part}: {text}");
    }
    store
        .write(|tx| {
            tx.execute("UPDATE connections SET is_demo = 1 WHERE id = 'c1'", [])?;
            Ok(())
        })
        .unwrap();
    let report = copy_to_team(&src, &team, &prep, &mut no_progress, &|| false).unwrap();
    assert!(report.resumed);
    assert_eq!(report.tables.iter().find(|t| t.table == "connections").unwrap().rows, 1);
}

#[test]
fn a_team_database_of_a_newer_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("desk.db");
    drop(desk(&src, 3));
    let address = fresh_database();
    let team = url(&address);
    copy_to_team(&src, &team, &prep, &mut no_progress, &|| false).unwrap();
    let newer = MIGRATIONS.len() as i64 + 3;
    let mut c = postgres::Client::connect(&address, postgres::NoTls).unwrap();
    c.execute("UPDATE backoffice.bo_team_store SET value = $1 WHERE key = 'schema_version'", &[&newer.to_string()])
        .unwrap();
    let err = team_status(&team).unwrap_err();
    assert_eq!(err.code(), "team_db_newer");
    assert!(err.to_string().contains("newer BackOffice"), "{err}");
    let back = dir.path().join("back.db");
    let err = copy_from_team(&team, &back, &prep, &mut no_progress, &|| false).unwrap_err();
    assert_eq!(err.code(), "team_db_newer");
    assert!(!back.exists() && !partial_path(&back).exists());
    let kept: String =
        c.query_one("SELECT value FROM backoffice.bo_team_store WHERE key = 'schema_version'", &[]).unwrap().get(0);
    assert_eq!(kept, newer.to_string());
}

#[test]
fn wrong_addresses_and_passwords_are_told_apart() {
    let address = fresh_database();
    let (scheme_user, rest) = address.split_once(':').unwrap();
    assert_eq!(scheme_user, "postgres");
    // postgres://user:password@host:port/db → the same with another password.
    let (userinfo, hostpart) = rest.trim_start_matches("//").split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    let wrong = format!("postgres://{user}:not-the-password@{hostpart}");
    let err = team_status(&url(&wrong)).unwrap_err();
    assert_eq!(err.code(), "team_db_refused", "{err}");
    assert!(!err.to_string().contains("not-the-password"));

    let (host, _) = hostpart.split_once('/').unwrap();
    let nodb = format!("postgres://{userinfo}@{host}/no_such_database");
    assert_eq!(team_status(&url(&nodb)).unwrap_err().code(), "team_db_no_database");

    // A port where nothing listens.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("postgres://{userinfo}@127.0.0.1:{free}/x");
    assert_eq!(team_status(&url(&dead)).unwrap_err().code(), "team_db_unreachable");

    // Another application's schema named like ours is not taken over.
    let mut c = postgres::Client::connect(&address, postgres::NoTls).unwrap();
    c.batch_execute("CREATE SCHEMA backoffice; CREATE TABLE backoffice.theirs (x int)").unwrap();
    let err = team_status(&url(&address)).unwrap_err();
    assert_eq!(err.code(), "team_db_not_empty", "{err}");
}

#[test]
fn a_bi_tool_reads_the_views_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("desk.db");
    let store = desk(&src, 5);
    store
        .write(|tx| {
            tx.execute_batch(
                "INSERT INTO divergences (id, fingerprint, rule_id, rule_version, kind, connection_id, erp, resource,
                   record_id, confidence, basis, amount, currency, evidence_hash, status, first_seen_at, last_seen_at,
                   updated_at)
                 VALUES ('d1', 'f1', 'r', 1, 'k', 'c1', 'contifico', 'documento', 'FAC-1', 90, 'b', '1234.56', 'USD',
                   'h', 'open', '2026-12-01T10:00:00.000Z', '2026-12-02T10:00:00.000Z', '2026-12-02T10:00:00.000Z'),
                        ('d2', 'f2', 'r', 1, 'k', 'c1', 'contifico', 'documento', 'FAC-2', 90, 'b', NULL, NULL,
                   'h', 'resolved', '2026-12-01T10:00:00.000Z', '2026-12-02T10:00:00.000Z', '2026-12-02T10:00:00.000Z');
                 INSERT INTO contracts (id, connection_id, client_code, description, mrr, currency, start_date,
                   status, version, created_at, updated_at, updated_by)
                 VALUES ('k1', 'c1', 'CLI-9', 'Soporte', '1500.00', 'USD', '2026-01-01', 'active', 1,
                   '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'ana');",
            )?;
            Ok(())
        })
        .unwrap();
    let address = fresh_database();
    let team = url(&address);
    copy_to_team(&src, &team, &prep, &mut no_progress, &|| false).unwrap();

    let bad = backoffice_core::store::bi::grant_bi_reader(&team, "Looker; DROP", "long-enough-password").unwrap_err();
    assert_eq!(bad.code(), "invalid_input");
    backoffice_core::store::bi::grant_bi_reader(&team, "looker_reader", "a-made-up-bi-password").unwrap();
    // Granting again only changes the password.
    backoffice_core::store::bi::grant_bi_reader(&team, "looker_reader", "another-made-up-password").unwrap();

    let (_, rest) = address.trim_start_matches("postgres://").split_once('@').unwrap();
    let reader = format!("postgres://looker_reader:another-made-up-password@{rest}");
    let mut c = postgres::Client::connect(&reader, postgres::NoTls).unwrap();
    let open = c
        .query("SELECT record_id, amount::text, first_seen_at < last_seen_at FROM backoffice.bi_open_divergences", &[])
        .unwrap();
    assert_eq!(open.len(), 1, "resolved divergences are not open");
    assert_eq!(open[0].get::<_, String>(0), "FAC-1");
    assert_eq!(open[0].get::<_, String>(1), "1234.56");
    assert!(open[0].get::<_, bool>(2), "timestamps are timestamps");
    let mrr: String =
        c.query_one("SELECT mrr::text FROM backoffice.bi_contracts WHERE client_code = 'CLI-9'", &[]).unwrap().get(0);
    assert_eq!(mrr, "1500.00");
    for (name, _) in backoffice_core::store::bi::VIEWS {
        c.query(&format!("SELECT * FROM backoffice.{name} LIMIT 1"), &[]).unwrap();
    }
    // Not the tables (settings, jobs, anything), and no writing.
    for sql in [
        "SELECT * FROM backoffice.settings",
        "SELECT * FROM backoffice.connections",
        "INSERT INTO backoffice.settings (key, value) VALUES ('x', 'y')",
        "CREATE TABLE backoffice.mine (a int)",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        let code = e.code().map(|c| c.code().to_string());
        assert!(matches!(code.as_deref(), Some("42501") | Some("25006")), "{sql}: {e} ({code:?})");
    }
}

/// Settings → Team database through the facade: the password goes to the real keychain (run under
/// `cargo xtask session --postgres`), the test says what the database holds, the copy is a job.
#[tokio::test(flavor = "multi_thread")]
async fn the_window_saves_tests_and_copies_as_a_job() {
    use backoffice_core::ops::team::TeamDbSettings;
    use backoffice_core::secrets::{Keychain, SecretStore};
    let dir = tempfile::tempdir().unwrap();
    let service = format!("BackOffice-test-{}", uuid::Uuid::new_v4());
    let keychain = || std::sync::Arc::new(Keychain { service: Some(service.clone()) });
    keychain().check().expect("a Secret Service: run under `cargo xtask session --postgres -- ...`");
    let paths = backoffice_core::Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") };
    drop(desk(&paths.db, 2_000));
    let core = backoffice_core::Core::open(paths.clone(), keychain()).unwrap();

    // The synchronous client may not run on the test's async thread.
    let address = tokio::task::spawn_blocking(fresh_database).await.unwrap();
    let parsed = url::Url::parse(&address).unwrap();
    let password = parsed.password().unwrap().to_string();
    let form = TeamDbSettings {
        host: parsed.host_str().unwrap().into(),
        port: parsed.port().unwrap().into(),
        database: parsed.path().trim_start_matches('/').into(),
        user: parsed.username().into(),
        // Encrypted and checked against the test cluster's own authority.
        tls: "verify-full".into(),
        root_cert: std::env::var("BACKOFFICE_TEST_POSTGRES_CA").unwrap(),
        password_saved: false,
        work_here: false,
    };
    // Without the password, the window says one is needed; with a wrong one, that it was refused.
    core.save_team_settings(&form, None).unwrap();
    assert_eq!(core.check_team_database().await.unwrap_err().code(), "team_db_password_needed");
    core.save_team_settings(&form, Some("not-the-password".into())).unwrap();
    assert_eq!(core.check_team_database().await.unwrap_err().code(), "team_db_refused");
    let saved = core.save_team_settings(&form, Some(password.clone())).unwrap();
    assert!(saved.password_saved);
    let check = core.check_team_database().await.unwrap();
    assert_eq!(check.state, "empty");
    assert!(!check.address.contains(&password));

    let job = core.start_team_copy().unwrap();
    let mut done = core.jobs.get(&job.id).unwrap();
    for _ in 0..600 {
        if !done.status.is_active() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        done = core.jobs.get(&job.id).unwrap();
    }
    assert_eq!(done.status, backoffice_core::model::JobStatus::Succeeded, "{:?}", done.error);
    assert!(done.counts.get("rows").copied().unwrap_or(0) >= 2_000, "{:?}", done.counts);
    let detail = core.jobs.detail(&job.id).unwrap();
    assert!(detail.logs.iter().any(|l| l.key.as_deref() == Some("team.copy_verified")), "{:?}", detail.logs);
    assert_eq!(core.check_team_database().await.unwrap().state, "ready");

    // "Work on the team database": from the next start the window opens it; the desk keeps its
    // own language; and it can go back to its file.
    core.save_settings(&backoffice_core::model::Settings { locale: Some("es".into()) }).unwrap();
    assert!(core.set_team_mode(true).await.unwrap().work_here);
    drop(core);
    let (p, k) = (paths.clone(), keychain());
    let (team, problem) =
        tokio::task::spawn_blocking(move || backoffice_core::Core::open_for_window(p, k).unwrap()).await.unwrap();
    assert!(problem.is_none(), "{problem:?}");
    let shown = team.app_info().team_database.expect("the window works on the team database");
    assert!(shown.contains(&form.database) && !shown.contains(&password), "{shown}");
    assert_eq!(team.connections().list().unwrap()[0].name, "Quito — Matriz", "the copied desk's connection");
    assert_eq!(team.settings().unwrap().locale.as_deref(), Some("es"), "the language stays the desk's");
    assert_eq!(team.locale(), "es");
    // The demo's simulators run on one computer: no demo on a team database.
    let demo = team.setup_demo_connections(vec![]).await.expect_err("no demo on a team database");
    assert_eq!(demo.code(), "invalid_input", "{demo}");
    assert!(!team.has_demo_connections().unwrap());
    // A team database that cannot be opened: the window opens the desk's file and says why.
    let saved = team.team_settings().unwrap();
    team.save_team_settings(&TeamDbSettings { database: "no_such_database".into(), ..saved.clone() }, None).unwrap();
    drop(team);
    let (p, k) = (paths.clone(), keychain());
    let (fallback, problem) =
        tokio::task::spawn_blocking(move || backoffice_core::Core::open_for_window(p, k).unwrap()).await.unwrap();
    assert_eq!(problem.expect("a reason").code(), "team_db_no_database");
    assert!(fallback.app_info().team_database.is_none());
    fallback.save_team_settings(&saved, None).unwrap();
    assert!(!fallback.set_team_mode(false).await.unwrap().work_here);
    drop(fallback);
    let (p, k) = (paths.clone(), keychain());
    let (desk_again, problem) =
        tokio::task::spawn_blocking(move || backoffice_core::Core::open_for_window(p, k).unwrap()).await.unwrap();
    assert!(problem.is_none() && desk_again.app_info().team_database.is_none());
    drop(desk_again);

    // The password is in the keychain, not in the desk's file.
    let bytes = std::fs::read(&paths.db).unwrap();
    assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()));
}

/// Whether the connection `address` makes is encrypted, as the server sees it.
fn encrypted(address: &str) -> Result<bool, CoreError> {
    let mut c = url(address).connect()?;
    Ok(c.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0))
}

#[test]
fn tls_modes_mean_what_postgresql_says() {
    let address = fresh_database();
    let ca = std::env::var("BACKOFFICE_TEST_POSTGRES_CA")
        .expect("the test cluster's authority (cargo xtask session --postgres)");
    let with = |q: &str| format!("{address}?{q}");
    assert!(!encrypted(&with("sslmode=disable")).unwrap());
    // The server offers TLS: prefer and require take it (without checking the certificate).
    assert!(encrypted(&address).unwrap(), "prefer is the default and takes TLS when offered");
    assert!(encrypted(&with("sslmode=require")).unwrap());
    // verify-full: the certificate must chain to the given authority and name this server.
    assert!(encrypted(&with(&format!("sslmode=verify-full&sslrootcert={ca}"))).unwrap());
    let localhost = address.replacen("@127.0.0.1:", "@localhost:", 1);
    assert!(encrypted(&format!("{localhost}?sslmode=verify-full&sslrootcert={ca}")).unwrap());
    // Not signed by an authority this computer trusts: refused in plain words, naming sslrootcert.
    let err = encrypted(&with("sslmode=verify-full")).unwrap_err();
    assert_eq!(err.code(), "team_db_tls", "{err}");
    assert!(err.to_string().contains("sslrootcert"), "{err}");
    // verify-ca checks the authority but not the name; verify-full checks both. The server is
    // reached at 127.0.0.1 (hostaddr) under a name its certificate does not carry.
    let misnamed = address.replacen("@127.0.0.1:", "@reports.example.test:", 1);
    let misnamed = |mode: &str| format!("{misnamed}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={ca}");
    assert!(encrypted(&misnamed("verify-ca")).unwrap());
    let err = encrypted(&misnamed("verify-full")).unwrap_err();
    assert_eq!(err.code(), "team_db_tls", "{err}");
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.pem");
    std::fs::write(&other, "not a certificate").unwrap();
    let err = encrypted(&with(&format!("sslmode=verify-full&sslrootcert={}", other.display()))).unwrap_err();
    assert_eq!(err.code(), "team_db_tls", "{err}");
    assert!(err.to_string().contains("holds no certificate") || err.to_string().contains("PEM"), "{err}");
}

/// The copy lands in the tables desks work on: a desk opens the team database, finds the copied
/// connection and records (searchable), runs jobs that number their rows after the copied ones,
/// and the team's data goes back into a file that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_desk_is_worked_on_by_the_team_and_copied_back() {
    use backoffice_core::jobs::JobManager;
    use backoffice_core::sync::query::BrowseQuery;

    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("desk.db");
    let store = desk(&src, 4400);
    // Work the desk did before: a finished job with a log line.
    let jobs = JobManager::new(store.clone()).unwrap();
    let (_, done) = jobs
        .spawn("test_connection", None, serde_json::json!({}), |ctx| async move {
            ctx.log("info", "done on the desk");
            Ok(())
        })
        .unwrap();
    done.await.unwrap();
    drop(jobs);
    drop(store);
    let address = std::thread::spawn(fresh_database).join().unwrap();
    let team = url(&address);
    let (s, t) = (src.clone(), team.clone());
    std::thread::spawn(move || copy_to_team(&s, &t, &prep, &mut no_progress, &|| false).unwrap()).join().unwrap();

    let paths = backoffice_core::Paths { db: dir.path().join("unused.db"), log_dir: dir.path().join("logs") };
    let keychain =
        std::sync::Arc::new(backoffice_core::secrets::Keychain { service: Some("BackOffice-test-copy".into()) });
    let t = team.clone();
    let core =
        std::thread::spawn(move || backoffice_core::Core::open_team(paths, &t, keychain).unwrap()).join().unwrap();
    let conns = core.connections().list().unwrap();
    assert_eq!(conns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["Quito — Matriz"]);
    let found = core
        .sync_browse(&BrowseQuery {
            connection_id: "c1".into(),
            resource: "marcas".into(),
            limit: 10,
            search: Some("ZAFI".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["m4321"]);
    // The team works on: new jobs after the copied one.
    for _ in 0..2 {
        let (_, h) = core
            .jobs
            .spawn("test_connection", None, serde_json::json!({}), |ctx| async move {
                ctx.log("info", "done on the team database");
                Ok(())
            })
            .unwrap();
        h.await.unwrap();
    }
    assert_eq!(core.jobs.list(&Default::default()).unwrap().len(), 3);
    drop(core);
    // And back into a file: every row, rowids included, verified.
    let back = dir.path().join("back.db");
    let (t, b) = (team.clone(), back.clone());
    let report =
        std::thread::spawn(move || copy_from_team(&t, &b, &prep, &mut no_progress, &|| false).unwrap()).join().unwrap();
    assert_eq!(report.tables.iter().find(|t| t.table == "jobs").unwrap().rows, 3);
    assert_eq!(count(&back, "SELECT count(DISTINCT rowid) FROM jobs"), 3);
    assert_eq!(count(&back, "SELECT count(*) FROM contifico_marca_fts WHERE contifico_marca_fts MATCH 'zafiro'"), 1);
}
