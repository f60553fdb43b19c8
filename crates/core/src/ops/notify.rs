//! What the desktop tells the user outside the window: notification texts (in the user's language),
//! grouping of repeated failures (no notification storms), the tray's health summary, and the
//! notification settings. The shell only displays what this module decides.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::settings::Setting;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, CoreResult};
use crate::i18n::{self, lang_index};
use crate::model::{Job, JobFilter, JobStatus};
use crate::Ctx;

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct NotificationSettings {
    /// A job failed.
    pub job_failed: bool,
    /// An ERP blocked or rejected the connection's key.
    pub key_problem: bool,
    /// Once a day: what ran and what needs attention.
    pub daily_summary: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings { job_failed: true, key_problem: true, daily_summary: true }
    }
}

/// A notification to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    pub job_id: Option<String>,
}

/// Repeats of the same failure (kind, connection, error code) inside this window are grouped.
pub const GROUP_WINDOW: Duration = Duration::from_secs(30 * 60);

#[derive(Default)]
pub struct Grouper {
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Grouper {
    /// Returns how many earlier repeats were suppressed if this one should be shown, or None to stay quiet.
    pub fn admit(&self, key: &str, now: Instant) -> Option<u32> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get_mut(key) {
            Some((first, count)) if now.duration_since(*first) < GROUP_WINDOW => {
                *count += 1;
                None
            }
            Some(entry) => {
                let suppressed = entry.1;
                *entry = (now, 0);
                Some(suppressed)
            }
            None => {
                seen.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

/// The handful of texts the shell shows outside the web UI, in three languages.
pub fn text(locale: &str, key: &str) -> &'static str {
    let l = lang_index(locale);
    let t: [&'static str; 3] = match key {
        "job_failed" => ["failed", "falhou", "falló"],
        "open" => ["Open BackOffice", "Abrir o BackOffice", "Abrir BackOffice"],
        "run_now" => ["Run now", "Executar agora", "Ejecutar ahora"],
        "sync_all" => ["Sync all now", "Sincronizar tudo agora", "Sincronizar todo ahora"],
        "pause" => ["Pause schedules", "Pausar agendamentos", "Pausar programaciones"],
        "resume" => ["Resume schedules", "Retomar agendamentos", "Reanudar programaciones"],
        "quit" => ["Quit", "Sair", "Salir"],
        "never" => ["never synced", "nunca sincronizado", "nunca sincronizado"],
        "ago" => ["ago", "atrás", "atrás"],
        "failed_jobs" => ["failed jobs (24 h)", "tarefas com falha (24 h)", "tareas fallidas (24 h)"],
        "attention" => ["items need attention", "itens precisam de atenção", "elementos requieren atención"],
        "team_unreachable" => [
            "The team database could not be opened, so this window works on this desk's own file. Test the connection in Settings → Team database to see why; BackOffice tries the team database again at its next start.",
            "Não foi possível abrir o banco de dados da equipe; esta janela trabalha com o arquivo desta mesa. Teste a conexão em Configurações → Banco de dados da equipe para ver por quê; o BackOffice tenta de novo ao iniciar.",
            "No se pudo abrir la base de datos del equipo; esta ventana trabaja con el archivo de este puesto. Pruebe la conexión en Configuración → Base de datos del equipo para ver por qué; BackOffice lo intenta de nuevo al iniciar.",
        ],
        "still_running" => [
            "BackOffice keeps running in the tray; scheduled syncs go on. Use Quit in the tray menu to close it.",
            "O BackOffice continua rodando na bandeja; as sincronizações agendadas continuam. Use Sair no menu da bandeja para fechá-lo.",
            "BackOffice sigue en la bandeja; las sincronizaciones programadas continúan. Use Salir en el menú de la bandeja para cerrarlo.",
        ],
        "repeated" => ["(repeated {n} more times)", "(repetiu mais {n} vezes)", "(se repitió {n} veces más)"],
        "daily_title" => ["BackOffice: daily summary", "BackOffice: resumo do dia", "BackOffice: resumen del día"],
        "daily_body" => [
            "{ok} jobs succeeded and {failed} failed in the last 24 h.",
            "{ok} tarefas concluídas e {failed} com falha nas últimas 24 h.",
            "{ok} tareas completadas y {failed} fallidas en las últimas 24 h.",
        ],
        "daily_divergences" => [
            " {n} divergences wait for review ({amount} at stake).",
            " {n} divergências aguardam revisão ({amount} em jogo).",
            " {n} divergencias esperan revisión ({amount} en juego).",
        ],
        _ => ["", "", ""],
    };
    t[l]
}

/// An exact amount in reais the way `locale` writes money: "R$ 1.234,50" (pt-BR, es), "R$1,234.50" (en).
pub fn brl(locale: &str, amount: &str) -> String {
    money(locale, amount, "BRL")
}

/// Amounts in several currencies, each the locale's way, joined ("R$ 1.234,56 + US$ 10,00");
/// R$ 0,00 when there is none.
pub fn money_list(locale: &str, amounts: &std::collections::BTreeMap<String, String>) -> String {
    let shown: Vec<String> =
        amounts.iter().map(|(c, a)| money(locale, a, if c.is_empty() { "BRL" } else { c })).collect();
    if shown.is_empty() {
        brl(locale, "0")
    } else {
        shown.join(" + ")
    }
}

/// An amount in `currency` written the way `locale` writes money ("R$ 1.234,56", "US$ 1.234,56",
/// "$1,234.56"); a currency without a symbol here is written with its code.
pub fn money(locale: &str, amount: &str, currency: &str) -> String {
    let symbol = match (currency, locale.starts_with("en")) {
        ("BRL", _) => "R$".to_string(),
        ("USD", true) => "$".to_string(),
        ("USD", false) => "US$".to_string(),
        (other, _) => format!("{other} "),
    };
    let symbol = symbol.trim_end();
    let d: rust_decimal::Decimal = amount.parse().unwrap_or_default();
    let d = d.round_dp(2);
    let neg = d.is_sign_negative() && !d.is_zero();
    let text = format!("{:.2}", d.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let (group, dec) = if locale.starts_with("en") { (',', '.') } else { ('.', ',') };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    let sign = if neg { "-" } else { "" };
    if locale.starts_with("en") && symbol.len() <= 2 {
        format!("{sign}{symbol}{out}{dec}{frac}")
    } else {
        format!("{sign}{symbol} {out}{dec}{frac}")
    }
}

/// An error in plain words in `locale`, the way the window shows it: the dictionary text of its
/// code with its params filled in (for `omie_*` codes, the Omie page's texts, with the values that
/// page derives: minutes, the local clock time, sizes in MB). Falls back to the core's English
/// message when the code has no text or the text needs a value the error does not carry.
pub fn plain_reason(locale: &str, err: &ApiError) -> String {
    let omie = i18n::dictionary(i18n::Namespace::OmieErrors, locale).get(&err.code);
    let Some(template) = omie.or_else(|| i18n::dictionary(i18n::Namespace::Errors, locale).get(&err.code)) else {
        return err.message.clone();
    };
    if err.code == "omie_missing_input" {
        // Its `what` is a key the Omie page turns into words; the core's message already has them.
        return err.message.clone();
    }
    let number = |k: &str| err.params.get(k).and_then(|v| v.parse::<u64>().ok());
    const MIB: u64 = 1024 * 1024;
    let derived = |name: &str| -> Option<String> {
        match name {
            "minutes" => number("seconds").map(|s| s.div_ceil(60).max(1).to_string()),
            "sizeMb" => number("size").map(|s| s.div_ceil(MIB).to_string()),
            "limitMb" => number("limit").map(|l| (l / MIB).to_string()),
            "until" => err.params.get("until").map(|u| match chrono::DateTime::parse_from_rfc3339(u) {
                Ok(t) => t.with_timezone(&chrono::Local).format("%H:%M").to_string(),
                Err(_) => u.clone(),
            }),
            "remote_message" => Some(err.params.get(name).cloned().unwrap_or_else(|| err.message.clone())),
            "kind" => err.params.get(name).map(|k| kind_label(locale, k)),
            _ => err.params.get(name).cloned(),
        }
    };
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return err.message.clone();
        };
        match derived(&after[..end]) {
            Some(value) => out.push_str(&value),
            None => return err.message.clone(),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Codes that mean an ERP rejected or blocked the connection's key (`omie_key_blocked`: Omie's
/// MISUSE_API_PROCESS / 425 block).
fn is_key_problem(code: &str) -> bool {
    matches!(code, "unauthorized" | "forbidden") || code.ends_with("key_blocked")
}

/// The name of a job kind in `locale` ("sync_omie" → "Sincronização Omie"), from the UI's
/// `jobKinds` dictionaries (ui/src/locales/<lang>/jobKinds.json).
pub fn kind_label(locale: &str, kind: &str) -> String {
    match i18n::dictionary(i18n::Namespace::JobKinds, locale).get(kind) {
        Some(label) => label.clone(),
        None => kind.replace('_', " "),
    }
}

const NOTIFICATIONS: Setting<NotificationSettings> = Setting::json("notifications");
/// When the daily summary was last sent (RFC 3339).
const DAILY_SUMMARY_AT: Setting<String> = Setting::text("daily_summary_at");

pub fn notification_settings(cx: &Ctx) -> CoreResult<NotificationSettings> {
    Ok(cx.store.setting(&NOTIFICATIONS)?.unwrap_or_default())
}

pub fn save_notification_settings(cx: &Ctx, s: &NotificationSettings) -> CoreResult<NotificationSettings> {
    cx.store.set_setting(&NOTIFICATIONS, s)?;
    notification_settings(cx)
}

/// Decides whether a finished job deserves a notification, and its text. Repeats of the same
/// failure are grouped by `grouper`.
pub fn notice_for_job(cx: &Ctx, job: &Job, grouper: &Grouper, now: Instant) -> Option<Notice> {
    if job.status != JobStatus::Failed || job.finished_at.is_none() {
        return None;
    }
    let settings = notification_settings(cx).unwrap_or_default();
    let err = job.error.as_ref();
    let key_problem = err.is_some_and(|e| is_key_problem(&e.code));
    let wanted = if key_problem { settings.key_problem || settings.job_failed } else { settings.job_failed };
    if !wanted {
        return None;
    }
    let key = format!(
        "{}|{}|{}",
        job.kind,
        job.connection_id.as_deref().unwrap_or(""),
        err.map(|e| e.code.as_str()).unwrap_or("")
    );
    let suppressed = grouper.admit(&key, now)?;
    let locale = crate::ops::settings::locale(cx);
    let mut title = format!("{} {}", kind_label(&locale, &job.kind), text(&locale, "job_failed"));
    if let Some(c) = &job.connection_name {
        title = format!("{title}: {c}");
    }
    let mut body = err.map(|e| plain_reason(&locale, e)).unwrap_or_default();
    if suppressed > 0 {
        body = format!("{body} {}", text(&locale, "repeated").replace("{n}", &suppressed.to_string()));
    }
    Some(Notice { title, body, job_id: Some(job.id.clone()) })
}

/// True once every 24 h (the last time is kept in settings, so a restart does not repeat it).
pub fn daily_summary_due(cx: &Ctx, now: chrono::DateTime<chrono::Utc>) -> bool {
    let last: Option<String> = cx.store.setting(&DAILY_SUMMARY_AT).unwrap_or(None);
    let due = match last.as_deref().and_then(|l| chrono::DateTime::parse_from_rfc3339(l).ok()) {
        Some(t) => now.signed_duration_since(t.with_timezone(&chrono::Utc)) >= chrono::Duration::hours(24),
        None => {
            // First run: start counting from now, no summary of an empty day.
            let _ = mark_daily_summary(cx, now);
            false
        }
    };
    if due {
        let _ = mark_daily_summary(cx, now);
    }
    due
}

fn mark_daily_summary(cx: &Ctx, now: chrono::DateTime<chrono::Utc>) -> CoreResult<()> {
    cx.store.set_setting(&DAILY_SUMMARY_AT, &now.to_rfc3339())
}

/// The daily summary notification.
pub fn daily_summary_notice(cx: &Ctx) -> CoreResult<Option<Notice>> {
    if !notification_settings(cx)?.daily_summary {
        return Ok(None);
    }
    let d = crate::ops::dashboard::dashboard(cx)?;
    let locale = crate::ops::settings::locale(cx);
    let mut body = text(&locale, "daily_body")
        .replace("{ok}", &d.jobs_succeeded_24h.to_string())
        .replace("{failed}", &d.jobs_failed_24h.to_string());
    // Divergences waiting for someone, with the amount at stake.
    let m = crate::ops::divergences::metrics(cx)?;
    if m.open > 0 {
        body.push_str(
            &text(&locale, "daily_divergences")
                .replace("{n}", &m.open.to_string())
                .replace("{amount}", &money_list(&locale, &m.amounts_open)),
        );
    }
    Ok(Some(Notice { title: text(&locale, "daily_title").to_string(), body, job_id: None }))
}

/// Tray health lines: last sync per connection and how long ago, failed jobs, items needing attention.
pub fn tray_health(cx: &Ctx) -> CoreResult<Vec<String>> {
    let locale = crate::ops::settings::locale(cx);
    let mut lines = vec![];
    let jobs = cx.jobs.list(&JobFilter { limit: Some(500), ..Default::default() })?;
    for c in cx.connections().list()? {
        let last = jobs.iter().find(|j| {
            j.connection_id.as_deref() == Some(c.id.as_str())
                && j.kind.starts_with("sync_")
                && j.status == JobStatus::Succeeded
        });
        let when = match last.and_then(|j| j.finished_at.as_deref()) {
            Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
                Ok(t) => format!(
                    "{} {}",
                    human_ago(chrono::Utc::now() - t.with_timezone(&chrono::Utc)),
                    text(&locale, "ago")
                ),
                Err(_) => t.to_string(),
            },
            None => text(&locale, "never").to_string(),
        };
        lines.push(format!("{}: {when}", c.name));
    }
    let d = crate::ops::dashboard::dashboard(cx)?;
    lines.push(format!("{} {}", d.jobs_failed_24h, text(&locale, "failed_jobs")));
    let quarantined: i64 = crate::sync::quarantined_count(&cx.store)?;
    lines.push(format!("{} {}", quarantined + d.connections_failing as i64, text(&locale, "attention")));
    Ok(lines)
}

fn human_ago(d: chrono::Duration) -> String {
    let m = d.num_minutes();
    if m < 1 {
        "<1 min".into()
    } else if m < 60 {
        format!("{m} min")
    } else if m < 48 * 60 {
        format!("{} h", m / 60)
    } else {
        format!("{} d", m / 1440)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_are_grouped_within_the_window() {
        let g = Grouper::default();
        let t0 = Instant::now();
        assert_eq!(g.admit("sync|c1|unauthorized", t0), Some(0));
        assert_eq!(g.admit("sync|c1|unauthorized", t0 + Duration::from_secs(60)), None);
        assert_eq!(g.admit("sync|c1|unauthorized", t0 + Duration::from_secs(120)), None);
        // A different failure is its own group.
        assert_eq!(g.admit("sync|c2|unauthorized", t0 + Duration::from_secs(130)), Some(0));
        // After the window, the next one shows with the count of those held back.
        assert_eq!(g.admit("sync|c1|unauthorized", t0 + GROUP_WINDOW + Duration::from_secs(1)), Some(2));
    }

    fn failed_job(code: &str) -> Job {
        Job {
            id: "j1".into(),
            kind: "sync_omie".into(),
            connection_id: Some("c1".into()),
            connection_name: Some("Omie Matriz".into()),
            params: serde_json::Value::Null,
            status: JobStatus::Failed,
            progress: None,
            progress_label: None,
            counts: Default::default(),
            error: Some(ApiError {
                code: code.into(),
                message: "Omie blocked the key until 14:05".into(),
                params: Default::default(),
                details: None,
            }),
            created_at: "2026-11-24T10:00:00Z".into(),
            started_at: None,
            finished_at: Some("2026-11-24T10:01:00Z".into()),
        }
    }

    #[test]
    fn key_problems_notify_even_when_failed_jobs_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let core = Ctx::open(
            crate::Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") },
            std::sync::Arc::new(crate::secrets::Keychain::default()),
            crate::clock::system(),
        )
        .unwrap();
        save_notification_settings(
            &core,
            &NotificationSettings { job_failed: false, key_problem: true, daily_summary: false },
        )
        .unwrap();
        let g = Grouper::default();
        let now = Instant::now();
        let blocked = notice_for_job(&core, &failed_job("omie_key_blocked"), &g, now).expect("a blocked key notifies");
        assert_eq!(blocked.job_id.as_deref(), Some("j1"));
        assert!(blocked.title.contains("Omie Matriz"), "{}", blocked.title);
        assert!(notice_for_job(&core, &failed_job("unauthorized"), &g, now).is_some(), "a rejected key notifies");
        assert!(notice_for_job(&core, &failed_job("timeout"), &g, now).is_none(), "other failures are switched off");
        save_notification_settings(
            &core,
            &NotificationSettings { job_failed: true, key_problem: false, daily_summary: false },
        )
        .unwrap();
        assert!(notice_for_job(&core, &failed_job("timeout"), &g, now).is_some());
    }

    #[test]
    fn money_is_written_the_local_way() {
        assert_eq!(brl("pt-BR", "1234.5"), "R$ 1.234,50");
        assert_eq!(brl("es", "1234567.891"), "R$ 1.234.567,89");
        assert_eq!(brl("en", "1234.5"), "R$1,234.50");
        assert_eq!(brl("pt-BR", "10"), "R$ 10,00");
        assert_eq!(brl("pt-BR", "-0.5"), "-R$ 0,50");
    }

    #[test]
    fn daily_summary_is_due_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let core = Ctx::open(
            crate::Paths { db: dir.path().join("bo.db"), log_dir: dir.path().join("logs") },
            std::sync::Arc::new(crate::secrets::Keychain::default()),
            crate::clock::system(),
        )
        .unwrap();
        let t0 = chrono::Utc::now();
        assert!(!daily_summary_due(&core, t0), "not on first start");
        assert!(!daily_summary_due(&core, t0 + chrono::Duration::hours(23)));
        assert!(daily_summary_due(&core, t0 + chrono::Duration::hours(24)));
        assert!(!daily_summary_due(&core, t0 + chrono::Duration::hours(25)), "once, not again an hour later");
    }

    #[test]
    fn reasons_are_the_windows_texts_in_the_users_language() {
        let mut params = std::collections::BTreeMap::new();
        params.insert("connection".to_string(), "Omie Campinas".to_string());
        let err = ApiError {
            code: "unauthorized".into(),
            message: "Omie Campinas rejected the credentials".into(),
            params,
            details: None,
        };
        let pt = plain_reason("pt-BR", &err);
        assert!(pt.starts_with("“Omie Campinas” recusou a chave"), "{pt}");
        let es = plain_reason("es", &err);
        assert!(es.contains("Omie Campinas") && es != pt && !es.contains("{{"), "{es}");
        // A text needing a value the error lacks falls back to the core's message, never "{{x}}".
        let bare = ApiError { params: Default::default(), ..err.clone() };
        assert_eq!(plain_reason("pt-BR", &bare), bare.message);
        // Omie's own codes use the Omie page's texts, with minutes and the clock time derived.
        let mut p = std::collections::BTreeMap::new();
        p.insert("connection".to_string(), "Omie Matriz".to_string());
        p.insert("until".to_string(), "2026-11-24T14:05:00Z".to_string());
        p.insert("seconds".to_string(), "125".to_string());
        let blocked = ApiError { code: "omie_key_blocked".into(), params: p, ..err.clone() };
        let pt = plain_reason("pt-BR", &blocked);
        assert!(pt.starts_with("O Omie bloqueou o app key de “Omie Matriz” até "), "{pt}");
        assert!(pt.contains("(em cerca de 3 min)") && !pt.contains("{{"), "{pt}");
        // An unknown code keeps the core's message.
        let other = ApiError { code: "omie_fault".into(), ..err };
        assert_eq!(plain_reason("es", &other), other.message);
    }

    #[test]
    fn texts_exist_in_three_languages() {
        for key in ["open", "run_now", "sync_all", "pause", "quit", "still_running", "daily_title", "team_unreachable"]
        {
            let en = text("en", key);
            let pt = text("pt-BR", key);
            let es = text("es", key);
            assert!(!en.is_empty() && !pt.is_empty() && !es.is_empty(), "{key}");
            assert_ne!(en, pt, "{key} translated to Portuguese");
        }
    }
}
