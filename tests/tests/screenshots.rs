//! A screenshot of every page in every locale, with demo data (`cargo xtask screenshots`).
//! Files: artifacts/screenshots/tour-LOCALE-NN-PAGE.png
//!
//! The demo's Contífico company is synced first and the suggested schedules of one demo connection
//! are added, so the dashboard, the Contífico page, Jobs & Logs and Schedules show real content.
//!
//! Before each screenshot the page must show its own words in the tour's language (its heading and
//! subtitle, or a label only the loaded page has), so a blank page, the wrong page or the wrong
//! language fails the tour instead of leaving a picture of it.

use anyhow::{ensure, Context, Result};
use backoffice_e2e::ui::UI_TIMEOUT;
use backoffice_e2e::webdriver::wait_until;
use backoffice_e2e::{sel, App, AppOptions};
use std::path::Path;
use std::time::Duration;

/// The tour's languages; every text below lists its translations in this order.
const LOCALES: &[&str] = &["en", "es", "pt-BR"];
const DEMO_CONTIFICO: &str = "Demo Contífico";

/// One text a page must show: the first `[css]` inside the page reads `[text]` (in the order of
/// [`LOCALES`]), compared without regard to case or runs of white space (a CSS `text-transform`
/// changes the rendered case).
type Shown = (&'static str, [&'static str; 3]);

const H1: &str = "h1";
const SUBTITLE: &str = ".page-subtitle";
/// The tab a page shows now (its label; a count badge may follow it, so its own text node is read).
const ACTIVE_TAB: &str = ".tabs .tab.active";

/// The texts of ui/src/locales (dashboard.title, dashboard.subtitle...) each page shows.
fn page_texts(page: &str) -> Result<Vec<Shown>> {
    Ok(match page {
        "dashboard-empty" => vec![
            (H1, ["Dashboard", "Panel", "Painel"]),
            (
                sel::START_DEMO,
                ["Try with demo data", "Probar con datos de demostración", "Experimentar com dados de demonstração"],
            ),
        ],
        "dashboard" => vec![
            (H1, ["Dashboard", "Panel", "Painel"]),
            (
                SUBTITLE,
                [
                    "An overview of your connections and recent work.",
                    "Un resumen de sus conexiones y del trabajo reciente.",
                    "Um resumo das suas conexões e do trabalho recente.",
                ],
            ),
            // Only the loaded dashboard has this card (the loading one shows the same header).
            ("h2", ["Latest jobs", "Últimas tareas", "Últimas tarefas"]),
        ],
        "connections" => vec![
            (H1, ["Connections", "Conexiones", "Conexões"]),
            (
                SUBTITLE,
                [
                    "The ERP accounts BackOffice works with. Keys and secrets stay in your system keychain.",
                    "Las cuentas de ERP con las que trabaja BackOffice. Claves y secretos quedan en el llavero del sistema.",
                    "As contas de ERP com que o BackOffice trabalha. Chaves e segredos ficam no chaveiro do sistema.",
                ],
            ),
        ],
        "contifico" => vec![
            (H1, ["Contífico", "Contífico", "Contífico"]),
            (
                SUBTITLE,
                [
                    "A complete copy of your Contífico company on this computer: sync it, browse it and search it, even offline.",
                    "Una copia completa de su empresa en Contífico en esta computadora: sincronícela, consúltela y búsquela, incluso sin conexión.",
                    "Uma cópia completa da sua empresa no Contífico neste computador: sincronize, consulte e pesquise, mesmo sem internet.",
                ],
            ),
        ],
        "omie" => vec![
            (H1, ["Omie", "Omie", "Omie"]),
            (
                SUBTITLE,
                [
                    "Copy NF-e attachments to payables, close purchase orders, and see the data synced from Omie.",
                    "Copie los adjuntos de la NF-e a las cuentas por pagar, cierre órdenes de compra y vea los datos sincronizados de Omie.",
                    "Copie os anexos da NF-e para as contas a pagar, encerre pedidos de compra e veja os dados sincronizados do Omie.",
                ],
            ),
        ],
        "erpnext" => vec![
            (H1, ["ERPNext", "ERPNext", "ERPNext"]),
            (
                SUBTITLE,
                [
                    "Transfer serialised items from company A to company B across two ERPNext sites, without ever creating a document twice.",
                    "Transfiera artículos con número de serie de la empresa A a la empresa B entre dos sitios ERPNext, sin crear nunca un documento dos veces.",
                    "Transfira itens com número de série da empresa A para a empresa B entre dois sites ERPNext, sem nunca criar um documento duas vezes.",
                ],
            ),
        ],
        "divergences" => vec![
            (H1, ["Divergences", "Divergencias", "Divergências"]),
            (
                SUBTITLE,
                [
                    "Records in your ERPs that break a rule: explained, reviewed and corrected, with a full history.",
                    "Registros de sus ERP que no cumplen una regla: explicados, revisados y corregidos, con historial completo.",
                    "Registros dos seus ERPs que quebram uma regra: explicados, revisados e corrigidos, com histórico completo.",
                ],
            ),
        ],
        "jobs" => vec![
            (H1, ["Jobs & Logs", "Tareas y registros", "Tarefas e logs"]),
            (
                SUBTITLE,
                [
                    "Everything BackOffice does in the background, with its progress and log.",
                    "Todo lo que BackOffice hace en segundo plano, con su progreso y su registro.",
                    "Tudo o que o BackOffice faz em segundo plano, com o progresso e o log.",
                ],
            ),
        ],
        "settings" => vec![
            (H1, ["Settings", "Configuración", "Configurações"]),
            (
                SUBTITLE,
                [
                    "Language and where BackOffice keeps its data.",
                    "Idioma y dónde guarda BackOffice sus datos.",
                    "Idioma e onde o BackOffice guarda os seus dados.",
                ],
            ),
        ],
        "schedules" => vec![
            (H1, ["Jobs & Logs", "Tareas y registros", "Tarefas e logs"]),
            (
                SUBTITLE,
                [
                    "Jobs BackOffice starts by itself at set times, while it is open or in the tray.",
                    "Tareas que BackOffice inicia por sí mismo a horas fijas, mientras está abierto o en la bandeja.",
                    "Tarefas que o BackOffice inicia sozinho em horários definidos, enquanto está aberto ou na bandeja.",
                ],
            ),
        ],
        "job-detail" => vec![
            (".eyebrow", ["Job details", "Detalles de la tarea", "Detalhes da tarefa"]),
            // The job's kind (ui/src/locales/*/jobKinds.json) and its connection.
            (
                "h2",
                ["Contífico catalog sync", "Sincronización del catálogo de Contífico", "Sincronização do catálogo Contífico"],
            ),
            (".detail-title .muted", [DEMO_CONTIFICO, DEMO_CONTIFICO, DEMO_CONTIFICO]),
        ],
        // The Omie and ERPNext pages' sync history and quarantine tabs (the shared sync feature).
        "omie-history" | "erpnext-history" => {
            vec![(ACTIVE_TAB, ["Sync history", "Historial de sincronización", "Histórico de sincronização"])]
        }
        "omie-quarantine" | "erpnext-quarantine" => vec![(ACTIVE_TAB, ["Quarantine", "Cuarentena", "Quarentena"])],
        // Rewinding a resource from the sync summary (the dialog, with its estimate).
        "omie-rewind" | "erpnext-rewind" => vec![
            (sel::REWIND_PREVIEW, ["Check how much", "Ver cuánto", "Ver quanto"]),
            ("[data-testid=\"rewind-confirm\"]", ["Rewind", "Retroceder", "Voltar no tempo"]),
        ],
        other => anyhow::bail!("the tour has no texts for page `{other}`"),
    })
}

/// English that must never show on a Spanish or Portuguese screen: the window's own words in
/// English (a missing translation falls back to them) and texts the core once sent in English
/// (a transfer's title, closing and parsing errors, relative times, status words, log levels).
/// Matched as whole words, case-sensitively, so names in the demo data do not trip it.
const ENGLISH: &[&str] = &[
    "unit(s)",
    "did not close",
    "is not a date",
    "is not a number",
    "is not a date-time",
    "it cannot be stored",
    "Sync now",
    "Synced",
    "synced",
    "ago",
    "Next sync",
    "Last run",
    "Try again",
    "Retry",
    "Records",
    "records",
    "Quarantine",
    "quarantined",
    "Succeeded",
    "Failed",
    "Running",
    "Cancelled",
    "Settings",
    "Connections",
    "Schedules",
    "Added",
    "Updated",
    "Never",
    "never",
    "INFO",
    "WARN",
    "Loading",
    "Possible duplicate",
    "receipt vs",
    "Run check",
];

/// The phrases of [`ENGLISH`] that `text` shows as whole words.
fn english_in(text: &str) -> Vec<&'static str> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    ENGLISH
        .iter()
        .copied()
        .filter(|p| {
            text.match_indices(p)
                .any(|(i, _)| !word(text[..i].chars().next_back()) && !word(text[i + p.len()..].chars().next()))
        })
        .collect()
}

/// Fails when the page (scope) shows a known English phrase in a Spanish or Portuguese window.
async fn expect_no_english(app: &App, scope: &str, page: &str, locale: &str) -> Result<()> {
    if locale == "en" {
        return Ok(());
    }
    let mut texts = vec![];
    for el in app.wd.find_all(scope).await? {
        texts.push(app.wd.text(&el).await?);
    }
    let text = texts.join("\n");
    let found = english_in(&text);
    ensure!(found.is_empty(), "the {page} page in {locale} shows English: {found:?}\n---\n{text}");
    Ok(())
}

/// Lower case, runs of white space made one space, ends trimmed.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Waits until the element `scope` shows every text of `page` (see [`page_texts`]) in `locale`.
async fn expect_page_text(app: &App, scope: &str, page: &str, locale: &str) -> Result<()> {
    let lang = LOCALES.iter().position(|l| *l == locale).with_context(|| format!("no texts for locale {locale}"))?;
    let wanted: Vec<(&str, &str)> = page_texts(page)?.into_iter().map(|(css, texts)| (css, texts[lang])).collect();
    let wd = &app.wd;
    let mut seen: Vec<String> = Vec::new();
    let res = wait_until(&format!("the {page} page's own text in {locale}"), UI_TIMEOUT, async || {
        let Some(root) = wd.find_all(scope).await?.into_iter().next() else {
            seen = vec![format!("no element matches {scope}")];
            return Ok(None);
        };
        seen.clear();
        let mut all = true;
        for (css, text) in &wanted {
            let mut shown = Vec::new();
            for el in wd.find_all_in(&root, css).await? {
                shown.push(wd.text(&el).await?);
            }
            // A tab's label may be followed by its count badge.
            let matches = |s: &String| {
                normalize(s) == normalize(text) || (*css == ACTIVE_TAB && normalize(s).starts_with(&normalize(text)))
            };
            if !shown.iter().any(matches) {
                all = false;
                seen.push(format!("no `{css}` reads {text:?} (they read {shown:?})"));
            }
        }
        Ok(all.then_some(()))
    })
    .await;
    res.with_context(|| format!("the {page} page in {locale} does not show its own text: {}", seen.join("; ")))?;
    expect_no_english(app, scope, page, locale).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshot_tour() -> Result<()> {
    for locale in LOCALES {
        let opts = AppOptions { locale: locale.to_string(), ..AppOptions::default() };
        let app = App::launch(&format!("screenshot_tour_{locale}"), opts).await?;
        let res = tour(&app, locale).await;
        app.finish(res).await?;
    }
    Ok(())
}

async fn tour(app: &App, locale: &str) -> Result<()> {
    app.goto("dashboard").await?;
    let start = app.wd.wait_for_visible(sel::START_DEMO, Duration::from_secs(20)).await?;
    expect_page_text(app, &sel::page("dashboard"), "dashboard-empty", locale).await?;
    app.screenshot(&format!("tour-{locale}-00-dashboard-empty")).await?;
    app.wd.click(&start).await?;
    app.wd.wait_gone(sel::START_DEMO, Duration::from_secs(60)).await?;
    app.goto("connections").await?;
    let wd = &app.wd;
    let expected = sel::DEMO_CONNECTIONS.len();
    wait_until("the demo connections", Duration::from_secs(30), async || {
        Ok((wd.find_all(sel::CONNECTION_ROW).await?.len() >= expected).then_some(()))
    })
    .await?;

    // Sync the demo's Contífico company (every resource).
    app.open_contifico(DEMO_CONTIFICO).await?;
    let sync = app.contifico_sync(&[], Duration::from_secs(180)).await?;
    ensure!(
        sync.status == "succeeded",
        "the demo Contífico sync ended `{}`: {} {}",
        sync.status,
        sync.error,
        sync.counts
    );

    // The suggested schedules of the demo Contífico connection.
    app.open_schedules().await?;
    let offer = format!("li[data-connection=\"{}\"] {}", sel::css_escape(DEMO_CONTIFICO), sel::SCHEDULES_DEFAULTS);
    let button = wd.wait_for(&offer, Duration::from_secs(20)).await?;
    wd.click(&button).await?;
    wait_until("the suggested schedules", Duration::from_secs(20), async || {
        Ok((!wd.find_all(sel::SCHEDULE_ROW).await?.is_empty()).then_some(()))
    })
    .await?;

    for (i, page) in sel::PAGES.iter().enumerate() {
        app.goto(page).await?;
        expect_page_text(app, &sel::page(page), page, locale).await?;
        let path = app.screenshot(&format!("tour-{locale}-{:02}-{page}", i + 1)).await?;
        check_size(&path)?;
    }
    app.open_schedules().await?;
    expect_page_text(app, sel::PAGE_SCHEDULES, "schedules", locale).await?;
    let path = app.screenshot(&format!("tour-{locale}-{:02}-schedules", sel::PAGES.len() + 1)).await?;
    check_size(&path)?;

    // Omie and ERPNext: a sync from their own page, then its history and the quarantine there.
    let mut n = sel::PAGES.len() + 3;
    // The sync panel: Omie's "Sync" tab, ERPNext's "Data" tab.
    for (page, sync_tab) in [("omie", "sync"), ("erpnext", "data")] {
        app.goto(page).await?;
        let tab = |t: &str| format!("[data-testid=\"{page}-tab-{t}\"]");
        wd.click(&wd.wait_for(&tab(sync_tab), UI_TIMEOUT).await?).await?;
        let before = match wd.find_all(sel::SYNC_RESULT).await?.into_iter().next() {
            Some(el) => wd.attr(&el, "data-job-id").await?,
            None => None,
        };
        wd.click(&wd.wait_for(sel::SYNC_NOW, UI_TIMEOUT).await?).await?;
        let status = wait_until(&format!("the {page} sync's result"), Duration::from_secs(180), async || {
            let Some(el) = wd.find_all(sel::SYNC_RESULT).await?.into_iter().next() else { return Ok(None) };
            let id = wd.attr(&el, "data-job-id").await?;
            if id.is_none() || id == before {
                return Ok(None);
            }
            wd.attr(&el, "data-status").await
        })
        .await?;
        ensure!(status == "succeeded", "the demo {page} sync from its page ended `{status}`");
        // Rewind, from the summary of what the sync stored (both pages' "Data" tab): the dialog and
        // its estimate.
        wd.click(&wd.wait_for(&tab("data"), UI_TIMEOUT).await?).await?;
        wd.click(&wd.wait_for(sel::SUMMARY_REWIND, UI_TIMEOUT).await?).await?;
        wd.click(&wd.wait_for(sel::REWIND_PREVIEW, UI_TIMEOUT).await?).await?;
        wd.wait_for(sel::REWIND_ESTIMATE, UI_TIMEOUT).await.with_context(|| format!("the {page} rewind estimate"))?;
        let name = format!("{page}-rewind");
        expect_page_text(app, sel::REWIND_DIALOG, &name, locale).await?;
        let path = app.screenshot(&format!("tour-{locale}-{n:02}-{name}")).await?;
        check_size(&path)?;
        n += 1;
        // Closed without rewinding.
        wd.click(&wd.wait_for(&format!("{} .icon-button", sel::REWIND_DIALOG), UI_TIMEOUT).await?).await?;
        wait_until("the rewind dialog to close", UI_TIMEOUT, async || {
            Ok(wd.find_all(sel::REWIND_DIALOG).await?.is_empty().then_some(()))
        })
        .await?;
        for (t, name) in [("history", format!("{page}-history")), ("quarantine", format!("{page}-quarantine"))] {
            wd.click(&wd.wait_for(&tab(t), UI_TIMEOUT).await?).await?;
            if t == "history" {
                wd.wait_for(sel::SYNC_RUN, UI_TIMEOUT).await.with_context(|| format!("a run in the {page} history"))?;
            }
            expect_page_text(app, &sel::page(page), &name, locale).await?;
            let path = app.screenshot(&format!("tour-{locale}-{n:02}-{name}")).await?;
            check_size(&path)?;
            n += 1;
        }
    }

    // The sync's detail with its log, in the tour's language.
    let job = app.wait_job(sel::KIND_SYNC_CONTIFICO, DEMO_CONTIFICO).await?;
    let detail = app.open_job(&job.row).await?;
    ensure!(!detail.log_lines.is_empty(), "the sync's detail shows no log lines");
    expect_page_text(app, sel::JOB_DETAIL, "job-detail", locale).await?;
    let path = app.screenshot(&format!("tour-{locale}-{:02}-job-detail", sel::PAGES.len() + 2)).await?;
    check_size(&path)
}

fn check_size(path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)?.len();
    ensure!(len > 1000, "{} is suspiciously small ({len} bytes)", path.display());
    Ok(())
}

#[test]
fn every_page_of_the_tour_has_its_texts() {
    let pages = sel::PAGES.iter().copied().chain([
        "dashboard-empty",
        "schedules",
        "job-detail",
        "omie-history",
        "omie-quarantine",
        "omie-rewind",
        "erpnext-history",
        "erpnext-quarantine",
        "erpnext-rewind",
    ]);
    for page in pages {
        let texts = page_texts(page).unwrap();
        assert!(!texts.is_empty(), "{page}");
        for (css, by_locale) in texts {
            assert!(by_locale.iter().all(|t| !t.trim().is_empty()), "{page} {css}");
        }
    }
    assert_eq!(normalize("  JOB\n  Details "), normalize("Job details"));
}

#[test]
fn the_english_check_catches_known_phrases_and_spares_words_that_contain_them() {
    assert_eq!(english_in("2 unit(s) of SKU-ROUTER-01 from PINES Supplier"), vec!["unit(s)"]);
    assert_eq!(english_in("sincronizado há 5 min · Failed"), vec!["Failed"]);
    assert_eq!(english_in("INFO  categoria: leitura completa"), vec!["INFO"]);
    // Whole words only: "Registros", "Sincronizados agora", "Informe" are not English.
    assert!(english_in("Registros 1.234 · Sincronizados agora · Informe · agosto").is_empty());
}
