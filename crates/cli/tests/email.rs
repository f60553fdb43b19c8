//! `backoffice email ...` and headless failure e-mails, through the real binary, against the
//! loopback SMTP sink and the simulators. Needs the keychain: run under `cargo xtask session -- ...`.
//! Every credential here is made up.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use backoffice_sim::smtp::SmtpSink;
use backoffice_sim::SimConfig;

struct Cli {
    db: std::path::PathBuf,
    logs: std::path::PathBuf,
    service: String,
}

impl Cli {
    fn run(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_backoffice"));
        cmd.args(args)
            .env("BACKOFFICE_DB", &self.db)
            .env("BACKOFFICE_LOG_DIR", &self.logs)
            .env("BACKOFFICE_KEYCHAIN_SERVICE", &self.service)
            .env("BACKOFFICE_LOCALE", "en")
            .env_remove("CONTIFICO_API_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run backoffice");
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn email_set_test_and_a_failed_headless_job_is_e_mailed() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli {
        db: dir.path().join("bo.db"),
        logs: dir.path().join("logs"),
        service: format!("BackOffice-test-{}", std::process::id()),
    };
    let pw = format!("cli-pw-{}", std::process::id());
    let sink = SmtpSink::start("cli-mailer", &pw).await.unwrap();
    let port = sink.port().to_string();

    let out = cli.run(
        &[
            "--json",
            "email",
            "set",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "none",
            "--user",
            "cli-mailer",
            "--from",
            "bo@example.test",
            "--to",
            "a@example.test,b@example.test",
            "--password-stdin",
            "--enable",
        ],
        Some(&format!("{pw}\n")),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains(&pw), "the password must not be printed: {stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["password_saved"], true);
    assert_eq!(v["enabled"], true);
    assert_eq!(v["to"], serde_json::json!(["a@example.test", "b@example.test"]));

    let out = cli.run(&["email", "show"], None, &[]);
    assert!(text(&out.stdout).contains("saved in the system keychain"), "{}", text(&out.stdout));

    let out = cli.run(&["email", "test"], None, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].auth_user.as_deref(), Some("cli-mailer"));
    assert_eq!(got[0].to, vec!["a@example.test".to_string(), "b@example.test".to_string()]);

    // A bad port is refused in plain words, exit 1.
    let out = cli.run(&["email", "set", "--port", "0"], None, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("1 to 65535"), "{}", text(&out.stderr));

    // A headless connection test that fails (the simulator rejects the key) is e-mailed.
    let sim = backoffice_sim::start(SimConfig { scale: 5, ..SimConfig::default() }).await.unwrap();
    let out = cli.run(
        &["connections", "add", "--name", "Quito", "--kind", "contifico", "--base-url", &sim.contifico],
        None,
        &[("BACKOFFICE_KEY", "made-up-wrong-key"), ("BACKOFFICE_SECRET", "")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli.run(&["connections", "test", "Quito"], None, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let got = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2, "the failure was e-mailed");
    let subject = got[1].header("Subject").unwrap();
    assert!(subject.contains("Connection test failed") && subject.contains("Quito"), "{subject}");
    assert!(got[1].body().contains("Jobs & Logs"), "{}", got[1].body());

    // Clean the keychain entry up.
    let out = cli.run(&["email", "set", "--password-stdin", "--disable"], Some(""), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    sim.shutdown().await;
    sink.shutdown().await;
}
