//! E-mail notifications against the loopback SMTP sink (real TCP), a real SQLite file and the real
//! OS keychain (Secret Service: run under `cargo xtask session -- ...`, which starts gnome-keyring).
//! Every credential here is made up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backoffice_core::model::{ConnectionInput, ConnectionKind, Credentials, JobStatus, Settings};
use backoffice_core::ops::email::{EmailSettings, SmtpSecurity};
use backoffice_core::ops::notify::{Grouper, Notice};
use backoffice_core::secrets::{Keychain, SecretStore};
use backoffice_core::{Core, CoreError, Paths};
use backoffice_sim::smtp::SmtpSink;
use backoffice_sim::SimConfig;

const USER: &str = "bo-mailer";

fn keychain() -> Keychain {
    let k = Keychain { service: Some(format!("BackOffice-test-{}", uuid::Uuid::new_v4())) };
    if let Err(e) = k.check() {
        panic!("no usable Secret Service ({e}); run the tests with `cargo xtask session -- ...`, which starts one");
    }
    k
}

fn open(dir: &std::path::Path, locale: &str) -> Arc<Core> {
    let paths = Paths { db: dir.join("bo.db"), log_dir: dir.join("logs") };
    let core = Core::open(paths, Arc::new(keychain())).unwrap();
    core.save_settings(&Settings { locale: Some(locale.into()) }).unwrap();
    core
}

/// A password nobody uses anywhere, different in every run.
fn made_up_password() -> String {
    format!("pw-{}", uuid::Uuid::new_v4().simple())
}

fn form(sink: &SmtpSink, enabled: bool) -> EmailSettings {
    EmailSettings {
        enabled,
        host: "127.0.0.1".into(),
        port: sink.port() as u32,
        security: SmtpSecurity::None,
        username: USER.into(),
        from: "BackOffice <backoffice@example.test>".into(),
        to: vec!["finance@example.test".into(), "Ana <ana@example.test>".into()],
        ..Default::default()
    }
}

fn bytes_contain(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn settings_round_trip_without_the_password_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    // This test's own log, at debug level, scanned for the password below.
    std::env::set_var("BACKOFFICE_LOG", "debug");
    let log_guard = backoffice_core::logging::init(&dir.path().join("logs"), "email-test", false);
    let core = open(dir.path(), "en");
    let sink = SmtpSink::start(USER, "unused").await.unwrap();
    let pw = made_up_password();

    let before = core.email_settings().unwrap();
    assert!(!before.enabled && !before.password_saved && before.host.is_empty());

    let saved = core.save_email_settings(&form(&sink, true), Some(pw.clone())).unwrap();
    assert!(saved.password_saved);
    assert!(saved.enabled);
    assert_eq!(saved.host, "127.0.0.1");
    assert_eq!(saved.port, sink.port() as u32);
    assert_eq!(saved.security, SmtpSecurity::None);
    assert_eq!(saved.to, vec!["finance@example.test".to_string(), "Ana <ana@example.test>".to_string()]);
    assert_eq!(core.email_settings().unwrap(), saved, "read back as saved");
    // The password went to the keychain...
    assert_eq!(core.secrets.get("email-smtp").unwrap().map(|c| c.secret), Some(pw.clone()));
    // ...and is not in the reply the UI gets.
    let reply = serde_json::to_string(&saved).unwrap();
    assert!(!reply.contains(&pw), "{reply}");

    // None keeps the password; the other fields change.
    let changed =
        core.save_email_settings(&EmailSettings { username: "other-user".into(), ..form(&sink, false) }, None).unwrap();
    assert!(changed.password_saved);
    assert!(!changed.enabled);
    assert_eq!(changed.username, "other-user");
    assert_eq!(core.secrets.get("email-smtp").unwrap().map(|c| c.secret), Some(pw.clone()));

    // Nothing of the password in the database file or its WAL.
    for name in ["bo.db", "bo.db-wal"] {
        let path = dir.path().join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(!bytes.is_empty() || name == "bo.db-wal");
            assert!(!bytes_contain(&bytes, pw.as_bytes()), "the password is in {name}");
        }
    }
    let db = std::fs::read(dir.path().join("bo.db")).unwrap();
    let wal = std::fs::read(dir.path().join("bo.db-wal")).unwrap_or_default();
    assert!(
        bytes_contain(&db, b"other-user") || bytes_contain(&wal, b"other-user"),
        "the scan must see the settings row for the absence of the password to mean anything"
    );
    // Nor in the logs, after a test e-mail that used it (the sink refuses it: the failure is logged).
    let _ = core.send_test_email().await;
    drop(log_guard); // flush
    let mut logged = false;
    for e in std::fs::read_dir(dir.path().join("logs")).expect("the log folder").flatten() {
        let bytes = std::fs::read(e.path()).unwrap_or_default();
        assert!(!bytes_contain(&bytes, pw.as_bytes()), "the password is in {}", e.path().display());
        logged |= bytes_contain(&bytes, b"e-mail settings saved") && bytes_contain(&bytes, b"test e-mail");
    }
    assert!(logged, "the log must hold this test's lines, else its scan proves nothing");

    // Some("") removes it.
    let removed = core.save_email_settings(&form(&sink, false), Some(String::new())).unwrap();
    assert!(!removed.password_saved);
    assert_eq!(core.secrets.get("email-smtp").unwrap(), None);
    sink.shutdown().await;
}

#[tokio::test]
async fn test_email_arrives_with_sender_recipients_subject_and_login() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), "pt-BR");
    let pw = made_up_password();
    let sink = SmtpSink::start(USER, &pw).await.unwrap();
    // Off: the test e-mail still goes (users test before turning it on).
    core.save_email_settings(&form(&sink, false), Some(pw.clone())).unwrap();
    core.send_test_email().await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.from, "backoffice@example.test");
    assert_eq!(m.to, vec!["finance@example.test".to_string(), "ana@example.test".to_string()]);
    assert_eq!(m.auth_user.as_deref(), Some(USER));
    assert_eq!(m.header("Subject").as_deref(), Some(backoffice_core::ops::email::text("pt-BR", "test_subject")));
    assert!(m.header("From").unwrap().contains("backoffice@example.test"));
    assert!(m.header("To").unwrap().contains("ana@example.test"));
    assert!(!m.data.contains(&pw));
    sink.shutdown().await;
}

async fn finished(core: &Arc<Core>, id: &str) -> backoffice_core::model::Job {
    for _ in 0..400 {
        let j = core.jobs.get(id).unwrap();
        if !j.status.is_active() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

#[tokio::test]
async fn a_failed_job_is_e_mailed_when_enabled_and_not_when_disabled() {
    let sim = backoffice_sim::start(SimConfig { scale: 5, ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), "en");
    let pw = made_up_password();
    let sink = SmtpSink::start(USER, &pw).await.unwrap();

    // A real failed job: a connection test with a key the simulator rejects.
    let conn = core
        .connections()
        .create(
            &ConnectionInput {
                name: "Quito".into(),
                kind: ConnectionKind::Contifico,
                base_url: sim.contifico.clone(),
                timezone: String::new(),
                credentials: Some(Credentials { key: "made-up-wrong-key".into(), secret: String::new() }),
            },
            false,
        )
        .unwrap();
    let job = core.start_test_connection(&conn.id).unwrap();
    let job = finished(&core, &job.id).await;
    assert_eq!(job.status, JobStatus::Failed);
    let notice = core.notice_for_job(&job, &Grouper::default(), Instant::now()).expect("a failed job notifies");

    // Disabled: nothing is sent.
    core.save_email_settings(&form(&sink, false), Some(pw.clone())).unwrap();
    core.deliver_notice_email(&notice).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.received().is_empty(), "e-mail is off");

    // Enabled: the same title and text as the desktop notification, plus where to find the job.
    core.save_email_settings(&form(&sink, true), None).unwrap();
    core.deliver_notice_email(&notice).await;
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.header("Subject").as_deref(), Some(notice.title.as_str()));
    assert!(notice.title.contains("Quito"), "{}", notice.title);
    let body = m.text_body();
    assert!(body.contains(&notice.body), "body: {body}\nnotice: {}", notice.body);
    assert!(body.contains("Jobs & Logs") && body.contains(&job.id), "{body}");
    assert_eq!(m.auth_user.as_deref(), Some(USER));
    assert!(core.email_settings().unwrap().last_failure.is_none());

    // A refused delivery does not fail the caller; it is kept for Settings, and cleared by the next success.
    sink.fail_next(451, "4.3.0 Mailbox temporarily unavailable");
    let n2 = Notice { title: "Omie sync failed: Matriz".into(), body: "Made-up reason.".into(), job_id: None };
    core.deliver_notice_email(&n2).await;
    let f = core.email_settings().unwrap().last_failure.expect("the failure is kept");
    assert_eq!(f.code, "remote");
    assert!(f.message.contains(&format!("127.0.0.1:{}", sink.port())), "{}", f.message);
    assert!(f.message.contains("451"), "{}", f.message);
    assert!(!f.at.is_empty());
    assert_eq!(sink.received().len(), 1);
    core.deliver_notice_email(&n2).await;
    assert_eq!(sink.wait_for(2, Duration::from_secs(5)).await.len(), 2);
    assert!(sink.received()[1].body().contains("Open BackOffice"), "no job: a plain pointer to the app");
    assert!(core.email_settings().unwrap().last_failure.is_none());
    sink.shutdown().await;
    sim.shutdown().await;
}

fn api(e: CoreError) -> backoffice_core::ApiError {
    e.to_api()
}

#[tokio::test]
async fn wrong_password_closed_port_and_tls_mismatch_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), "en");
    let sink = SmtpSink::start(USER, &made_up_password()).await.unwrap();
    let server = format!("127.0.0.1:{}", sink.port());

    core.save_email_settings(&form(&sink, true), Some(made_up_password())).unwrap();
    let e = api(core.send_test_email().await.unwrap_err());
    assert_eq!(e.code, "unauthorized", "{e:?}");
    assert!(e.message.contains("refused the user name or password"), "{}", e.message);
    assert!(e.message.contains(&server), "{}", e.message);
    assert_eq!(e.params.get("server"), Some(&server));
    assert!(sink.received().is_empty());

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = EmailSettings { port: closed as u32, ..form(&sink, true) };
    core.save_email_settings(&s, None).unwrap();
    let e = api(core.send_test_email().await.unwrap_err());
    assert_eq!(e.code, "unreachable", "{e:?}");
    assert!(e.message.contains(&format!("127.0.0.1:{closed}")), "{}", e.message);
    assert!(e.message.contains("Could not reach the e-mail server"), "{}", e.message);

    // TLS asked for, but the server speaks plain SMTP.
    let s = EmailSettings { security: SmtpSecurity::Tls, ..form(&sink, true) };
    core.save_email_settings(&s, None).unwrap();
    let e = api(core.send_test_email().await.unwrap_err());
    assert_eq!(e.code, "tls", "{e:?}");
    assert!(e.message.contains(&server), "{}", e.message);

    // A user name without a saved password.
    core.save_email_settings(&form(&sink, true), Some(String::new())).unwrap();
    let e = api(core.send_test_email().await.unwrap_err());
    assert_eq!((e.code.as_str(), e.params.get("field").map(String::as_str)), ("invalid_input", Some("password")));
    sink.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_plain_reasons_and_keeps_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), "en");
    let sink = SmtpSink::start(USER, "unused").await.unwrap();
    let good = core.save_email_settings(&form(&sink, true), None).unwrap();
    let cases: Vec<(EmailSettings, &str, &str)> = vec![
        (EmailSettings { host: "  ".into(), ..form(&sink, true) }, "host", "server"),
        (EmailSettings { port: 0, ..form(&sink, true) }, "port", "1 to 65535"),
        (EmailSettings { port: 65536, ..form(&sink, true) }, "port", "1 to 65535"),
        (EmailSettings { from: "backoffice at example".into(), ..form(&sink, true) }, "from", "not an e-mail address"),
        (
            EmailSettings { to: vec!["ok@example.test".into(), "broken@".into()], ..form(&sink, true) },
            "to",
            "\"broken@\"",
        ),
        (EmailSettings { to: vec![], ..form(&sink, true) }, "to", "at least one recipient"),
        (
            EmailSettings { host: "smtp.example.test".into(), security: SmtpSecurity::None, ..form(&sink, true) },
            "security",
            "unencrypted",
        ),
    ];
    for (input, field, words) in cases {
        match core.save_email_settings(&input, Some(made_up_password())) {
            Err(CoreError::InvalidInput { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(reason.contains(words), "{field}: {reason}");
            }
            other => panic!("{field}: expected invalid input, got {other:?}"),
        }
    }
    assert_eq!(core.email_settings().unwrap(), good, "nothing changed");
    assert_eq!(core.secrets.get("email-smtp").unwrap(), None, "no password stored by a refused form");
    sink.shutdown().await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path(), "en");
    // Accepts the connection and then says nothing (no 220 greeting).
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut open = vec![];
        while let Ok((sock, _)) = silent.accept().await {
            open.push(sock);
        }
    });
    let s = EmailSettings {
        enabled: true,
        host: "127.0.0.1".into(),
        port: port as u32,
        security: SmtpSecurity::None,
        username: String::new(),
        from: "bo@example.test".into(),
        to: vec!["finance@example.test".into()],
        ..Default::default()
    };
    core.save_email_settings(&s, None).unwrap();
    // The test e-mail and a notice at once (one timeout's wait, not two).
    let notice = Notice { title: "t".into(), body: "b".into(), job_id: None };
    let (sent, ()) = tokio::join!(core.send_test_email(), core.deliver_notice_email(&notice));
    let e = sent.unwrap_err().to_api();
    assert_eq!(e.code, "timeout", "{e:?}");
    assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{}", e.message);
    // The notice that timed out is kept as the last failure, and the caller went on.
    assert_eq!(core.email_settings().unwrap().last_failure.map(|f| f.code).as_deref(), Some("timeout"));
    hold.abort();
}
