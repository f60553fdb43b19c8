//! Settings → E-mail notifications in the real window: the form pointed at the loopback SMTP sink,
//! "Send test e-mail", and the sink receives it from the user who authenticated. A wrong password
//! is explained in Portuguese, naming the server. Then a failing job is e-mailed with the same title
//! and plain reason as its desktop notification. Run with `cargo xtask session --xvfb -- cargo
//! test -p backoffice-e2e --test email` (or `cargo xtask test`). Credentials are made up.

use anyhow::{ensure, Context, Result};
use backoffice_e2e::ui::{set_field, UI_TIMEOUT};
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, start_sim, App, AppOptions, NewConnection};
use backoffice_sim::smtp::SmtpSink;
use backoffice_sim::{SimConfig, SimCredentials};
use std::time::Duration;

const USER: &str = "e2e-mailer";
const PASSWORD: &str = "made-up-e2e-smtp-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_email_reaches_the_smtp_sink() -> Result<()> {
    let sink = SmtpSink::start(USER, PASSWORD).await?;
    let app = App::launch("test_email_reaches_the_smtp_sink", AppOptions::default()).await?;
    let res = async {
        app.goto("settings").await?;
        let card = sel::tid("email-settings");
        app.wd.wait_for(&card, UI_TIMEOUT).await?;
        app.scroll_to(&card).await?;
        let field = |id: &str| sel::tid(id);
        // Security first: choosing it may move the port to its usual value.
        let security = app.wd.wait_for(&field("email-security"), UI_TIMEOUT).await?;
        set_field(&app.wd, &security, "none").await?;
        let port = sink.port().to_string();
        for (id, value) in [
            ("email-host", "127.0.0.1"),
            ("email-port", port.as_str()),
            ("email-username", USER),
            ("email-password", "not-the-password"),
            ("email-from", "BackOffice <backoffice@example.test>"),
            ("email-to", "financeiro@example.test, ana@example.test"),
        ] {
            let el = app.wd.wait_for(&field(id), UI_TIMEOUT).await?;
            set_field(&app.wd, &el, value).await.with_context(|| format!("filling {id}"))?;
        }
        let enabled = app.wd.find(&field("email-enabled")).await?;
        app.wd.click(&enabled).await?;

        // A wrong password: refused in plain Portuguese, naming the server; nothing arrives.
        let test = app.wd.find(&field("email-test")).await?;
        app.wd.click(&test).await?;
        let failed = app.wd.wait_for(&field("email-test-failed"), UI_TIMEOUT).await?;
        let text = app.wd.text(&failed).await?;
        let server = format!("127.0.0.1:{}", sink.port());
        ensure!(
            text.contains("recusou o usuário ou a senha") && text.contains(&server),
            "the refused password is not explained in Portuguese naming {server}: {text:?}"
        );
        ensure!(sink.received().is_empty(), "a message arrived although the login was refused");
        let state = app.wd.find(&field("email-password-state")).await?;
        ensure!(
            app.wd.text(&state).await?.contains("chaveiro do sistema"),
            "the form does not say a password is saved in the keychain"
        );

        // The right password, then the test e-mail arrives.
        let pw = app.wd.find(&field("email-password")).await?;
        set_field(&app.wd, &pw, PASSWORD).await?;
        app.wd.click(&test).await?;
        let ok = app.wd.wait_for(&field("email-test-ok"), UI_TIMEOUT).await?;
        let ok_text = app.wd.text(&ok).await?;
        ensure!(
            ok_text.contains("financeiro@example.test"),
            "the success message does not name the recipients: {ok_text:?}"
        );
        let got = wait_until("the test e-mail at the SMTP sink", Duration::from_secs(10), async || {
            let got = sink.received();
            Ok((!got.is_empty()).then_some(got))
        })
        .await?;
        ensure!(got.len() == 1, "expected one message, got {}", got.len());
        let m = &got[0];
        ensure!(m.auth_user.as_deref() == Some(USER), "authenticated as {:?}", m.auth_user);
        ensure!(m.from == "backoffice@example.test", "envelope sender {:?}", m.from);
        ensure!(
            m.to == vec!["financeiro@example.test".to_string(), "ana@example.test".to_string()],
            "envelope recipients {:?}",
            m.to
        );
        ensure!(
            m.header("Subject").as_deref() == Some("BackOffice: e-mail de teste"),
            "subject {:?}",
            m.header("Subject")
        );
        // The password field is write-only: empty again after saving.
        let pw = app.wd.find(&field("email-password")).await?;
        ensure!(app.wd.prop(&pw, "value").await?.as_str() == Some(""), "the password field shows a value after saving");
        app.screenshot("settings-email-pt-BR").await?;

        // A job that fails is e-mailed too: same title and plain reason as the notification, and
        // where to find the job.
        let sim = start_sim(SimConfig::default()).await?;
        let creds = SimCredentials::default();
        let conn = "Omie Sorocaba Avisada";
        app.add_connection(&NewConnection {
            name: conn.into(),
            kind: "omie".into(),
            base_url: sim.omie.clone(),
            key: creds.omie_app_key.clone(),
            secret: "wrong-secret-51f0".into(),
            timezone: Some("America/Sao_Paulo".into()),
        })
        .await?;
        app.test_connection(conn).await?;
        let job = app.wait_job(sel::KIND_TEST_CONNECTION, conn).await?;
        ensure!(job.status == "failed", "a test with a wrong secret ended `{}`", job.status);
        let job_id = app.wd.attr(&job.row, "data-id").await?.context("the job row has no data-id")?;
        let got = wait_until("the failed job's e-mail", Duration::from_secs(30), async || {
            let got = sink.received();
            Ok((got.len() >= 2).then_some(got))
        })
        .await?;
        let m = &got[1];
        let subject = m.decoded_header("Subject").unwrap_or_default();
        ensure!(subject == format!("Teste de conexão falhou: {conn}"), "the failure e-mail's subject is {subject:?}");
        let body = m.text_body();
        ensure!(body.contains("recusou a chave ou o segredo"), "the e-mail does not give the plain reason: {body:?}");
        ensure!(body.contains(&job_id), "the e-mail does not say which job: {body:?}");
        ensure!(!body.contains("wrong-secret-51f0"), "the e-mail shows the secret: {body:?}");
        Ok(())
    }
    .await;
    let out = app.finish(res).await;
    sink.shutdown().await;
    out
}
