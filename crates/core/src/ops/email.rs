//! Optional e-mail notifications over SMTP (lettre, rustls): the same events and texts as the
//! desktop notifications ([`crate::ops::notify::Notice`]), sent to a list of recipients.
//!
//! The settings live in SQLite (`settings` key `email`) without the password; the password lives
//! only in the OS keychain (secret store id [`SECRET_ID`]). Delivering a notice never fails its
//! caller: a failure is logged (never with the password) and kept as the "last failure" the UI shows.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials as SmtpCredentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::model::Credentials;
use crate::store::now_utc;
use crate::store::settings::{self as setting, Setting};
use crate::Ctx;

/// The secret store id of the SMTP password (keychain user `connection:email-smtp`; connection ids
/// are UUIDs, so it never collides with one).
pub const SECRET_ID: &str = "email-smtp";

/// How long one delivery (connect, TLS, authenticate, send) may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS before anything is sent (usually port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only for a server on this computer (localhost).
    None,
}

/// E-mail notification settings. The password is never part of them: it goes to the keychain.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct EmailSettings {
    pub enabled: bool,
    /// SMTP server host name, e.g. smtp.mycompany.com.
    pub host: String,
    /// 1..=65535 (587 for STARTTLS, 465 for TLS).
    pub port: u32,
    pub security: SmtpSecurity,
    /// SMTP user name; empty = the server does not ask for one.
    pub username: String,
    /// Sender, e.g. `BackOffice <backoffice@mycompany.com>`.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Read-only: a password is stored in the keychain.
    #[serde(default)]
    pub password_saved: bool,
    /// Read-only: the last delivery that failed, if the latest attempt failed.
    #[serde(default)]
    pub last_failure: Option<EmailFailure>,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            enabled: false,
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            from: String::new(),
            to: vec![],
            password_saved: false,
            last_failure: None,
        }
    }
}

/// A delivery that failed: when (RFC 3339, UTC) and why, in plain English.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct EmailFailure {
    pub at: String,
    pub message: String,
    /// The error code (as in ApiError) for the UI's translation.
    pub code: String,
}

/// What is stored in SQLite (no password, nothing read-only).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    enabled: bool,
    host: String,
    port: u32,
    security: SmtpSecurity,
    username: String,
    from: String,
    to: Vec<String>,
}

/// Failures talking to the SMTP server, in plain language. Each maps to one of the error codes the
/// UI already knows; `server` is `host:port`. None holds the password.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EmailError {
    #[error("The e-mail server {server} refused the user name or password. Check the user and the password in Settings → E-mail (some providers require an app password).")]
    AuthRejected { server: String, detail: String },
    #[error(
        "Could not reach the e-mail server {server}. Check the server name and port and your internet connection."
    )]
    Unreachable { server: String, detail: String },
    #[error("The secure (TLS) connection to the e-mail server {server} failed. Check the security setting (STARTTLS usually on port 587, TLS on 465) and that the server's certificate is valid.")]
    Tls { server: String, detail: String },
    #[error("The e-mail server {server} did not answer within {seconds} s. Check the server name and port; the server may be slow, try again later.")]
    Timeout { server: String, seconds: u64 },
    #[error("The e-mail server {server} refused the message: {reply}")]
    Refused { server: String, reply: String },
}

impl EmailError {
    pub fn code(&self) -> &'static str {
        match self {
            EmailError::AuthRejected { .. } => "unauthorized",
            EmailError::Unreachable { .. } => "unreachable",
            EmailError::Tls { .. } => "tls",
            EmailError::Timeout { .. } => "timeout",
            EmailError::Refused { .. } => "remote",
        }
    }

    /// Values the UI interpolates; `connection` and `url` name the server so the generic texts work.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let server = match self {
            EmailError::AuthRejected { server, .. }
            | EmailError::Unreachable { server, .. }
            | EmailError::Tls { server, .. }
            | EmailError::Timeout { server, .. }
            | EmailError::Refused { server, .. } => server.clone(),
        };
        let mut p = vec![("server", server.clone()), ("connection", server.clone()), ("url", server)];
        if let EmailError::Refused { reply, .. } = self {
            p.push(("remote_message", reply.clone()));
        }
        p
    }

    pub fn details(&self) -> Option<String> {
        match self {
            EmailError::AuthRejected { detail, .. }
            | EmailError::Unreachable { detail, .. }
            | EmailError::Tls { detail, .. } => Some(detail.clone()),
            _ => None,
        }
    }
}

impl crate::error::FeatureError for EmailError {
    fn code(&self) -> &'static str {
        EmailError::code(self)
    }
    fn params(&self) -> Vec<(String, String)> {
        EmailError::params(self).into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
    fn details(&self) -> Option<String> {
        EmailError::details(self)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl From<EmailError> for crate::error::CoreError {
    fn from(e: EmailError) -> Self {
        crate::error::CoreError::Feature(Box::new(e))
    }
}

fn is_local(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    h == "localhost" || h == "127.0.0.1" || h == "::1"
}

fn parse_mailbox(field: &str, value: &str) -> CoreResult<Mailbox> {
    value.trim().parse::<Mailbox>().map_err(|_| {
        CoreError::invalid(
            field,
            format!(
                "\"{}\" is not an e-mail address. Write it as name@company.com (or Name <name@company.com>).",
                value.trim()
            ),
        )
    })
}

/// Checks and normalises the form (trimmed fields, empty recipients dropped).
pub fn validate(input: &EmailSettings) -> CoreResult<EmailSettings> {
    let host = input.host.trim().to_string();
    let from = input.from.trim().to_string();
    let to: Vec<String> = input.to.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    let username = input.username.trim().to_string();
    let untouched = host.is_empty() && from.is_empty() && to.is_empty() && username.is_empty();
    if !input.enabled && untouched {
        // Nothing configured and nothing turned on: keep the empty form.
        return Ok(EmailSettings { host, from, to, username, ..input.clone() });
    }
    if host.is_empty() {
        return Err(CoreError::invalid(
            "host",
            "Enter the e-mail (SMTP) server, e.g. smtp.mycompany.com. Your e-mail provider lists it in its help pages.",
        ));
    }
    if host.contains(char::is_whitespace) || host.contains('/') || (host.contains(':') && !is_local(&host)) {
        return Err(CoreError::invalid(
            "host",
            format!("\"{host}\" is not a server name. Enter only the name, e.g. smtp.mycompany.com, and the port in its own field."),
        ));
    }
    if !(1..=65535).contains(&input.port) {
        return Err(CoreError::invalid(
            "port",
            format!(
                "{} is not a port. Use a number from 1 to 65535 (usually 587 for STARTTLS or 465 for TLS).",
                input.port
            ),
        ));
    }
    if input.security == SmtpSecurity::None && !is_local(&host) {
        return Err(CoreError::invalid(
            "security",
            format!("Without encryption the password and the messages would travel unencrypted to {host}, readable by anyone on the network. Choose STARTTLS or TLS; \"none\" is only allowed for a server on this computer (localhost)."),
        ));
    }
    if from.is_empty() {
        return Err(CoreError::invalid("from", "Enter the sender address, e.g. backoffice@mycompany.com."));
    }
    parse_mailbox("from", &from)?;
    for t in &to {
        parse_mailbox("to", t)?;
    }
    if input.enabled && to.is_empty() {
        return Err(CoreError::invalid(
            "to",
            "Add at least one recipient to turn e-mail on, e.g. finance@mycompany.com.",
        ));
    }
    Ok(EmailSettings {
        enabled: input.enabled,
        host,
        port: input.port,
        security: input.security,
        username,
        from,
        to,
        password_saved: false,
        last_failure: None,
    })
}

/// The few e-mail texts, in three languages.
pub fn text(locale: &str, key: &str) -> &'static str {
    let l = if locale.starts_with("pt") {
        1
    } else if locale.starts_with("es") {
        2
    } else {
        0
    };
    let t: [&'static str; 3] = match key {
        "test_subject" => ["BackOffice: test e-mail", "BackOffice: e-mail de teste", "BackOffice: correo de prueba"],
        "test_body" => [
            "This is a test from BackOffice. E-mail notifications reach this address.",
            "Este é um teste do BackOffice. As notificações por e-mail chegam a este endereço.",
            "Esta es una prueba de BackOffice. Las notificaciones por correo llegan a esta dirección.",
        ],
        "find_job" => [
            "To see this job in BackOffice, open Jobs & Logs and look for job {id}.",
            "Para ver esta tarefa no BackOffice, abra Tarefas e logs e procure a tarefa {id}.",
            "Para ver esta tarea en BackOffice, abra Tareas y registros y busque la tarea {id}.",
        ],
        "open_app" => [
            "Open BackOffice for the details.",
            "Abra o BackOffice para ver os detalhes.",
            "Abra BackOffice para ver los detalles.",
        ],
        "footer" => [
            "Sent by BackOffice. Change e-mail notifications in Settings.",
            "Enviado pelo BackOffice. Altere as notificações por e-mail em Configurações.",
            "Enviado por BackOffice. Cambie las notificaciones por correo en Configuración.",
        ],
        "largest" => [
            "The largest divergences waiting for review",
            "As maiores divergências aguardando revisão",
            "Las mayores divergencias en espera de revisión",
        ],
        "col_rule" => ["Rule", "Regra", "Regla"],
        "col_record" => ["Record", "Registro", "Registro"],
        "col_company" => ["Company", "Empresa", "Empresa"],
        "col_amount" => ["At stake", "Em jogo", "En juego"],
        "col_confidence" => ["Confidence", "Confiança", "Confianza"],
        "csv_name" => ["divergences", "divergencias", "divergencias"],
        _ => ["", "", ""],
    };
    t[l]
}

fn server_label(s: &EmailSettings) -> String {
    if s.host.contains(':') {
        format!("[{}]:{}", s.host.trim_start_matches('[').trim_end_matches(']'), s.port)
    } else {
        format!("{}:{}", s.host, s.port)
    }
}

/// The error chain as one line (no password is ever part of lettre's errors).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

fn classify(server: &str, e: &lettre::transport::smtp::Error) -> EmailError {
    let detail = chain(e);
    let server = server.to_string();
    if let Some(code) = e.status() {
        let n: u16 = code.to_string().parse().unwrap_or(0);
        // 535 credentials invalid, 534 mechanism too weak / app password needed, 530 auth required.
        if matches!(n, 530 | 534 | 535) {
            return EmailError::AuthRejected { server, detail };
        }
        return EmailError::Refused { server, reply: detail };
    }
    if e.is_timeout() {
        return EmailError::Timeout { server, seconds: SEND_TIMEOUT.as_secs() };
    }
    if e.is_tls() {
        return EmailError::Tls { server, detail };
    }
    // rustls reports a failed handshake (wrong protocol, bad certificate) as an I/O error of kind
    // InvalidData inside lettre's connection error.
    let mut src: Option<&dyn std::error::Error> = Some(e);
    let mut invalid_data = false;
    while let Some(s) = src {
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData) {
            invalid_data = true;
        }
        src = s.source();
    }
    let lower = detail.to_lowercase();
    if invalid_data || ["certificate", "tls", "handshake", "corrupt message", "alert"].iter().any(|w| lower.contains(w))
    {
        return EmailError::Tls { server, detail };
    }
    if lower.contains("authentication mechanism") {
        // The server offers no AUTH we can use (often: it only does so after STARTTLS).
        return EmailError::AuthRejected { server, detail };
    }
    EmailError::Unreachable { server, detail }
}

/// The e-mail settings without the password (which lives in the keychain).
const EMAIL: Setting<Stored> = Setting::json("email");
/// The last delivery that failed, for Settings (cleared by the next success).
const LAST_FAILURE: Setting<EmailFailure> = Setting::json("email_last_failure");

fn stored_email(cx: &Ctx) -> CoreResult<EmailSettings> {
    let raw: Option<Stored> = cx.store.setting(&EMAIL)?;
    let mut s = EmailSettings::default();
    if let Some(st) = raw {
        s = EmailSettings {
            enabled: st.enabled,
            host: st.host,
            port: st.port,
            security: st.security,
            username: st.username,
            from: st.from,
            to: st.to,
            password_saved: false,
            last_failure: None,
        };
    }
    s.last_failure = cx.store.setting(&LAST_FAILURE)?;
    Ok(s)
}

/// The e-mail settings, with whether a password is saved and the last failure.
pub fn email_settings(cx: &Ctx) -> CoreResult<EmailSettings> {
    let mut s = stored_email(cx)?;
    s.password_saved = matches!(cx.secrets.get(SECRET_ID), Ok(Some(c)) if !c.secret.is_empty());
    Ok(s)
}

/// Validates and saves the settings. `password`: `None` keeps the stored one, `Some("")` removes
/// it, anything else replaces it (in the keychain only). A keychain failure saves nothing.
pub fn save_email_settings(cx: &Ctx, input: &EmailSettings, password: Option<String>) -> CoreResult<EmailSettings> {
    let s = validate(input)?;
    if password.is_some() {
        cx.secrets.check()?;
    }
    let stored = Stored {
        enabled: s.enabled,
        host: s.host.clone(),
        port: s.port,
        security: s.security,
        username: s.username.clone(),
        from: s.from.clone(),
        to: s.to.clone(),
    };
    cx.store.tx(|db| {
        setting::put(db, &EMAIL, &stored)?;
        match password.as_deref() {
            None => {}
            Some("") => cx.secrets.delete(SECRET_ID)?,
            Some(p) => cx.secrets.set(SECRET_ID, &Credentials { key: s.username.clone(), secret: p.to_string() })?,
        }
        Ok(())
    })?;
    tracing::info!(host = %s.host, port = s.port, enabled = s.enabled, "e-mail settings saved");
    email_settings(cx)
}

fn record_email_outcome(cx: &Ctx, failure: Option<&CoreError>) {
    let r = cx.store.tx(|db| {
        match failure {
            Some(e) => {
                let f = EmailFailure { at: now_utc(), message: e.to_string(), code: e.code().to_string() };
                setting::put(db, &LAST_FAILURE, &f)?;
            }
            None => setting::delete(db, &LAST_FAILURE)?,
        }
        Ok(())
    });
    if let Err(e) = r {
        tracing::warn!(error = %e, "could not record the e-mail outcome");
    }
}

/// Sends one plain-text message with the stored settings and the keychain password.
/// What an e-mail carries: plain text, or a multipart body (text + HTML, attachments).
enum Body {
    Text(String),
    Parts(MultiPart),
}

async fn send_email(cx: &Ctx, s: &EmailSettings, subject: &str, body: String) -> CoreResult<()> {
    send_body(cx, s, subject, Body::Text(body)).await
}

async fn send_body(cx: &Ctx, s: &EmailSettings, subject: &str, body: Body) -> CoreResult<()> {
    if s.host.is_empty() || s.from.is_empty() {
        return Err(CoreError::invalid(
            "host",
            "E-mail is not set up yet: enter the server and the sender, then save.",
        ));
    }
    if s.to.is_empty() {
        return Err(CoreError::invalid("to", "Add at least one recipient, then save."));
    }
    let server = server_label(s);
    let mut msg = Message::builder().from(parse_mailbox("from", &s.from)?).subject(subject);
    for t in &s.to {
        msg = msg.to(parse_mailbox("to", t)?);
    }
    let msg = match body {
        Body::Text(t) => msg.header(ContentType::TEXT_PLAIN).body(t),
        Body::Parts(p) => msg.multipart(p),
    }
    .map_err(|e| CoreError::Internal(format!("building the e-mail: {e}")))?;
    let host = s.host.trim_start_matches('[').trim_end_matches(']').to_string();
    let mut b = match s.security {
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host),
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())),
    }
    .map_err(|e| CoreError::from(classify(&server, &e)))?
    .port(s.port as u16)
    .timeout(Some(SEND_TIMEOUT));
    if !s.username.is_empty() {
        let secret = match cx.secrets.get(SECRET_ID)? {
            Some(c) if !c.secret.is_empty() => c.secret,
            _ => {
                return Err(CoreError::invalid(
                    "password",
                    format!("A user name is set for {server} but no password is saved. Enter the password and save."),
                ))
            }
        };
        b = b.credentials(SmtpCredentials::new(s.username.clone(), secret));
    }
    let transport = b.build();
    match tokio::time::timeout(SEND_TIMEOUT, transport.send(msg)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(&server, &e).into()),
        Err(_) => Err(EmailError::Timeout { server, seconds: SEND_TIMEOUT.as_secs() }.into()),
    }
}

/// Sends a short test message in the user's language with the saved settings (even while e-mail
/// notifications are off). The error says in plain words what went wrong, naming the server.
pub async fn send_test_email(cx: &Ctx) -> CoreResult<()> {
    let s = stored_email(cx)?;
    let locale = crate::ops::settings::locale(cx);
    let body = format!("{}\n\n{}\n", text(&locale, "test_body"), text(&locale, "footer"));
    let r = send_email(cx, &s, text(&locale, "test_subject"), body).await;
    match &r {
        Ok(()) => {
            tracing::info!(host = %s.host, "test e-mail sent");
            record_email_outcome(cx, None);
        }
        Err(e) => tracing::warn!(error = %e, "test e-mail failed"),
    }
    r
}

/// The stored settings when e-mail notifications are on (an unreadable store is logged).
fn enabled_email(cx: &Ctx) -> Option<EmailSettings> {
    match stored_email(cx) {
        Ok(s) if s.enabled => Some(s),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "e-mail settings could not be read");
            None
        }
    }
}

/// Sends `n` by e-mail when e-mail notifications are on. Never fails: a failure is logged and
/// kept as the last failure for Settings.
pub async fn deliver_notice_email(cx: &Ctx, n: &crate::ops::notify::Notice) {
    let Some(s) = enabled_email(cx) else { return };
    let locale = crate::ops::settings::locale(cx);
    let hint = match &n.job_id {
        Some(id) => text(&locale, "find_job").replace("{id}", id),
        None => text(&locale, "open_app").to_string(),
    };
    let body = format!("{}\n\n{}\n\n{}\n", n.body, hint, text(&locale, "footer"));
    match send_email(cx, &s, &n.title, body).await {
        Ok(()) => {
            tracing::info!(title = %n.title, job = ?n.job_id, "notification e-mailed");
            record_email_outcome(cx, None);
        }
        Err(e) => {
            tracing::warn!(error = %e, title = %n.title, job = ?n.job_id, "notification e-mail failed");
            record_email_outcome(cx, Some(&e));
        }
    }
}

/// How many of the largest waiting divergences the daily summary e-mail lists.
pub const SUMMARY_LARGEST: usize = 10;

/// The daily summary by e-mail: the notice's text, the same as HTML with a table of the largest
/// divergences waiting for review, and every waiting divergence as a CSV attachment (the columns
/// of the window's CSV export). Never fails, like [`deliver_notice_email`].
pub async fn deliver_daily_summary_email(cx: &Ctx, n: &crate::ops::notify::Notice) {
    let Some(s) = enabled_email(cx) else { return };
    let locale = crate::ops::settings::locale(cx);
    let body = match summary_body(cx, &locale, n) {
        Ok(b) => b,
        Err(e) => {
            // The summary still goes, as text, when the divergences cannot be read.
            tracing::warn!(error = %e, "the daily summary's divergences could not be read");
            Body::Text(format!("{}\n\n{}\n\n{}\n", n.body, text(&locale, "open_app"), text(&locale, "footer")))
        }
    };
    match send_body(cx, &s, &n.title, body).await {
        Ok(()) => {
            tracing::info!(title = %n.title, "daily summary e-mailed");
            record_email_outcome(cx, None);
        }
        Err(e) => {
            tracing::warn!(error = %e, "daily summary e-mail failed");
            record_email_outcome(cx, Some(&e));
        }
    }
}

fn html_escape(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn summary_body(cx: &Ctx, locale: &str, n: &crate::ops::notify::Notice) -> CoreResult<Body> {
    use crate::ops::divergences::{self, DivergenceFilter};
    let waiting = divergences::list(
        cx,
        &DivergenceFilter {
            statuses: vec!["open".into(), "approved".into(), "failed".into()],
            limit: Some(100_000),
            offset: Some(0),
            ..Default::default()
        },
    )?
    .items;
    let plain = format!("{}\n\n{}\n\n{}\n", n.body, text(locale, "open_app"), text(locale, "footer"));
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>{}</h2><p>{}</p>",
        html_escape(&n.title),
        html_escape(n.body.trim())
    );
    let amount = |d: &divergences::Divergence| {
        d.amount.as_deref().and_then(|a| a.parse::<rust_decimal::Decimal>().ok()).unwrap_or_default().abs()
    };
    let mut largest: Vec<&divergences::Divergence> = waiting.iter().collect();
    largest.sort_by(|a, b| amount(b).cmp(&amount(a)).then_with(|| a.id.cmp(&b.id)));
    largest.truncate(SUMMARY_LARGEST);
    if !largest.is_empty() {
        html.push_str(&format!(
            "<h3>{}</h3><table cellpadding=\"4\" style=\"border-collapse:collapse\"><tr><th align=\"left\">{}</th><th align=\"left\">{}</th><th align=\"left\">{}</th><th align=\"right\">{}</th><th align=\"right\">{}</th></tr>",
            html_escape(text(locale, "largest")),
            html_escape(text(locale, "col_rule")),
            html_escape(text(locale, "col_record")),
            html_escape(text(locale, "col_company")),
            html_escape(text(locale, "col_amount")),
            html_escape(text(locale, "col_confidence")),
        ));
        for d in &largest {
            let money = match (&d.amount, &d.currency) {
                (Some(a), Some(c)) => crate::ops::notify::money(locale, a, c),
                (Some(a), None) => a.clone(),
                _ => "—".into(),
            };
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td align=\"right\" style=\"white-space:nowrap\">{}</td><td align=\"right\">{} %</td></tr>",
                html_escape(&d.rule_name),
                html_escape(&d.record_label),
                html_escape(d.connection_name.as_deref().unwrap_or("")),
                html_escape(&money),
                d.confidence
            ));
        }
        html.push_str("</table>");
    }
    html.push_str(&format!(
        "<p>{}</p><p style=\"color:#666\">{}</p></body></html>",
        html_escape(text(locale, "open_app")),
        html_escape(text(locale, "footer"))
    ));
    let alternative = MultiPart::alternative().singlepart(SinglePart::plain(plain)).singlepart(SinglePart::html(html));
    if waiting.is_empty() {
        return Ok(Body::Parts(alternative));
    }
    let mut csv = Vec::new();
    crate::ops::divergences::report::write_divergences_csv(&waiting, &mut csv)
        .map_err(|e| CoreError::Internal(format!("writing the CSV: {e}")))?;
    let name = format!("{}-{}.csv", text(locale, "csv_name"), chrono::Utc::now().format("%Y-%m-%d"));
    let csv_type = ContentType::parse("text/csv; charset=utf-8")
        .map_err(|e| CoreError::Internal(format!("the CSV content type: {e}")))?;
    Ok(Body::Parts(MultiPart::mixed().multipart(alternative).singlepart(Attachment::new(name).body(csv, csv_type))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_input() -> EmailSettings {
        EmailSettings {
            enabled: true,
            host: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: "mailer".into(),
            from: "BackOffice <bo@example.com>".into(),
            to: vec![" finance@example.com ".into(), "".into()],
            ..Default::default()
        }
    }

    #[test]
    fn validation_normalises_and_explains() {
        let v = validate(&ok_input()).unwrap();
        assert_eq!(v.to, vec!["finance@example.com".to_string()]);
        let field = |e: CoreError| match e {
            CoreError::InvalidInput { field, reason } => (field, reason),
            other => panic!("{other}"),
        };
        let (f, r) = field(validate(&EmailSettings { host: " ".into(), ..ok_input() }).unwrap_err());
        assert_eq!(f, "host");
        assert!(r.contains("SMTP"), "{r}");
        let (f, r) = field(validate(&EmailSettings { port: 0, ..ok_input() }).unwrap_err());
        assert_eq!(f, "port");
        assert!(r.contains("1 to 65535"), "{r}");
        assert_eq!(field(validate(&EmailSettings { port: 70000, ..ok_input() }).unwrap_err()).0, "port");
        let (f, r) = field(validate(&EmailSettings { from: "not an address".into(), ..ok_input() }).unwrap_err());
        assert_eq!(f, "from");
        assert!(r.contains("not an e-mail address"), "{r}");
        let (f, _) =
            field(validate(&EmailSettings { to: vec!["a@b.com".into(), "x@".into()], ..ok_input() }).unwrap_err());
        assert_eq!(f, "to");
        let (f, r) = field(validate(&EmailSettings { to: vec![], ..ok_input() }).unwrap_err());
        assert_eq!(f, "to");
        assert!(r.contains("at least one recipient"), "{r}");
        // No recipients is fine while e-mail is off.
        assert!(validate(&EmailSettings { to: vec![], enabled: false, ..ok_input() }).is_ok());
        let (f, r) = field(validate(&EmailSettings { security: SmtpSecurity::None, ..ok_input() }).unwrap_err());
        assert_eq!(f, "security");
        assert!(r.contains("password") && r.contains("smtp.example.com"), "{r}");
        for local in ["localhost", "127.0.0.1", "::1"] {
            let s = EmailSettings { security: SmtpSecurity::None, host: local.into(), ..ok_input() };
            assert!(validate(&s).is_ok(), "{local}");
        }
        // An empty, disabled form can be saved.
        assert!(validate(&EmailSettings::default()).is_ok());
    }

    #[test]
    fn texts_exist_in_three_languages() {
        for key in ["test_subject", "test_body", "find_job", "open_app", "footer", "largest", "col_rule", "col_amount"]
        {
            let (en, pt, es) = (text("en", key), text("pt-BR", key), text("es", key));
            assert!(!en.is_empty() && !pt.is_empty() && !es.is_empty(), "{key}");
            assert_ne!(en, pt, "{key}");
            assert_ne!(en, es, "{key}");
        }
        assert!(text("pt-BR", "find_job").contains("{id}"));
    }
}
