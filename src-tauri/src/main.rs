// The BackOffice desktop shell: windows, tray, notifications and thin command adapters into
// backoffice-core. No business logic lives here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod contract_commands;
mod demo;
mod divergence_commands;
mod email_commands;
mod erpnext_commands;
mod omie_commands;
mod schedule_commands;
mod sync_commands;
mod team_commands;
mod tray;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backoffice_core::ops::notify::{text, Grouper, Notice};
use backoffice_core::secrets::Keychain;
use backoffice_core::{Core, Paths};
use tauri::{AppHandle, Emitter, Manager, WindowEvent};
#[cfg(not(target_os = "linux"))]
use tauri_plugin_notification::NotificationExt;

/// Keeps long syncs' memory flat (see crates/cli/src/main.rs and `cargo xtask bench contifico-sync`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Set when the user chose Quit: the window's close then really closes.
static QUITTING: AtomicBool = AtomicBool::new(false);

fn main() {
    backoffice_core::store::limit_c_heap_arenas();
    let paths = Paths::resolve(None);
    let _log_guard = backoffice_core::logging::init(&paths.log_dir, "backoffice-app", true);
    let keychain = Keychain { service: std::env::var("BACKOFFICE_KEYCHAIN_SERVICE").ok() };
    // The desk's file, or the team database it says this desk works on.
    let (core, team_problem) = match Core::open_for_window(paths.clone(), Arc::new(keychain)) {
        Ok(c) => c,
        Err(e) => {
            // Nothing can work without the database; say why where the user will see it.
            tracing::error!(error = %e, db = %paths.db.display(), "cannot open the database");
            eprintln!("BackOffice cannot open its database at {}: {e}", paths.db.display());
            cannot_start(&paths.db, &e);
            std::process::exit(2);
        }
    };

    let mut builder = tauri::Builder::default();
    if std::env::var_os("BACKOFFICE_ALLOW_MULTIPLE").is_none() {
        // A second launch focuses the window of the first.
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| show_main(app)));
    }
    let setup_core = core.clone();
    builder
        .plugin(tauri_plugin_notification::init())
        // "Start with the computer" (Settings): registers the app to launch at login.
        .plugin(tauri_plugin_autostart::Builder::new().app_name("BackOffice").build())
        .manage(core.clone())
        .manage(demo::Demo::default())
        .invoke_handler(commands::handlers())
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if !QUITTING.load(Ordering::SeqCst) {
                    // Closing the window keeps BackOffice running in the tray (scheduled jobs go on).
                    api.prevent_close();
                    let _ = window.hide();
                    let core = window.state::<Arc<Core>>().inner().clone();
                    if core.first_time("tray_hint_shown") {
                        notify(
                            window.app_handle(),
                            &Notice {
                                title: "BackOffice".into(),
                                body: text(&core.locale(), "still_running").into(),
                                job_id: None,
                            },
                        );
                    }
                }
            }
        })
        .setup(move |app| {
            let core = setup_core;
            tray::install(app.handle(), core.clone())?;
            if let Some(e) = &team_problem {
                tracing::warn!(error = %e, "working on this desk's file: the team database could not be opened");
                notify(
                    app.handle(),
                    &Notice {
                        title: "BackOffice".into(),
                        body: text(&core.locale(), "team_unreachable").into(),
                        job_id: None,
                    },
                );
            }
            let handle = app.handle().clone();
            let events_core = core.clone();
            let demo_handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let demo = demo_handle.state::<demo::Demo>();
                if let Err(e) = demo.resume_if_configured(&events_core).await {
                    tracing::warn!(error = %e, "could not restart the demo simulators");
                }
                // Inter-company transfers a closed app left half-way continue from their first step not done.
                if let Err(e) = events_core.erpnext_resume_interrupted() {
                    tracing::warn!(error = %e, "could not resume interrupted transfers");
                }
                forward_job_events(handle, events_core).await;
            });
            // Scheduled jobs run inside the app (setup has no tokio context: use Tauri's runtime).
            {
                let core = core.clone();
                tauri::async_runtime::spawn(async move { core.run_schedules().await });
            }
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                // Keep the tray's health lines fresh, and send the daily summary once a day.
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    tray::refresh(&handle, &core);
                    if core.daily_summary_due(chrono::Utc::now()) {
                        if let Ok(Some(n)) = core.daily_summary_notice() {
                            notify(&handle, &n);
                            let core = core.clone();
                            tauri::async_runtime::spawn(async move { core.deliver_daily_summary_email(&n).await });
                        }
                    }
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running BackOffice");
}

/// Forwards every job change to the window, refreshes the tray when a job ends, and raises a
/// (grouped) notification when one fails.
async fn forward_job_events(app: AppHandle, core: Arc<Core>) {
    let grouper = Grouper::default();
    let mut rx = core.jobs.subscribe();
    loop {
        match rx.recv().await {
            Ok(ev) => {
                let _ = app.emit("job-event", &ev);
                if ev.log.is_none() && ev.job.finished_at.is_some() {
                    if let Some(n) = core.notice_for_job(&ev.job, &grouper, Instant::now()) {
                        notify(&app, &n);
                        send_email(&core, n);
                    }
                    tray::refresh(&app, &core);
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::debug!(skipped = n, "job events lagged");
            }
            Err(_) => break,
        }
    }
}

/// The window event that asks the UI to show a page (payload: a hash route such as "#/jobs/<id>").
pub const OPEN_ROUTE_EVENT: &str = "open-route";

/// Shows a desktop notification. Clicking it opens BackOffice on the job it is about (or on the
/// Jobs & Logs page for the daily summary).
fn notify(app: &AppHandle, n: &Notice) {
    tracing::info!(title = %n.title, job = ?n.job_id, "desktop notification");
    let route = match &n.job_id {
        Some(id) => format!("#/jobs/{id}"),
        None => "#/jobs".to_string(),
    };
    #[cfg(target_os = "linux")]
    {
        let app = app.clone();
        let n = n.clone();
        tauri::async_runtime::spawn(async move {
            let shown = notify_rust::Notification::new()
                .appname("BackOffice")
                .summary(&n.title)
                .body(&n.body)
                // The "default" action is what a click on the notification's body invokes.
                .action("default", text(&app.state::<Arc<Core>>().locale(), "open"))
                .show_async()
                .await;
            match shown {
                Ok(handle) => {
                    handle
                        .wait_for_action_async(|response| {
                            let clicked = match response {
                                notify_rust::NotificationResponse::Default => true,
                                notify_rust::NotificationResponse::Action(a) => a == "default",
                                _ => false,
                            };
                            if clicked {
                                tracing::info!(%route, "notification clicked");
                                open_route(&app, &route);
                            }
                        })
                        .await;
                }
                Err(e) => tracing::warn!(error = %e, "could not show a desktop notification"),
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = route;
        let _ = app.notification().builder().title(&n.title).body(&n.body).show();
    }
}

/// Sends the same notice by e-mail when e-mail notifications are on (Settings → E-mail); a failure
/// is logged and shown in Settings, never raised here.
fn send_email(core: &Arc<Core>, n: Notice) {
    let core = core.clone();
    tauri::async_runtime::spawn(async move { core.deliver_notice_email(&n).await });
}

/// Brings the window up on `route` (a hash route of the UI).
pub fn open_route(app: &AppHandle, route: &str) {
    show_main(app);
    let _ = app.emit_to("main", OPEN_ROUTE_EVENT, route);
}

pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Quit from the tray: running jobs stop at their next safe checkpoint (work committed so far is
/// kept, the next run resumes), then the app exits.
pub fn quit_safely(app: AppHandle, core: Arc<Core>) {
    QUITTING.store(true, Ordering::SeqCst);
    tauri::async_runtime::spawn(async move {
        let left = core.jobs.shutdown(Duration::from_secs(15)).await;
        if left > 0 {
            tracing::warn!(left, "quitting with jobs still running; they will be marked interrupted");
        }
        if let Some(core) = Arc::into_inner(core) {
            drop(core);
        }
        app.exit(0);
    });
}

/// Says why the app cannot start, in a message box (a user who started it from the menu sees no
/// terminal), in the desktop's language, with the window's own words for the error. The database is
/// left as it was.
fn cannot_start(db: &std::path::Path, err: &backoffice_core::error::CoreError) {
    let lang = std::env::var("BACKOFFICE_LOCALE").or_else(|_| std::env::var("LANG")).unwrap_or_default();
    let errors = backoffice_core::i18n::dictionary(backoffice_core::i18n::Namespace::Errors, &lang);
    let title = errors.get("cannot_start").map(String::as_str).unwrap_or("BackOffice");
    let text = format!("{}\n\n{}", backoffice_core::ops::notify::plain_reason(&lang, &err.to_api()), db.display());
    #[cfg(target_os = "linux")]
    {
        use gtk::prelude::*;
        if gtk::init().is_ok() {
            let dialog = gtk::MessageDialog::new(
                None::<&gtk::Window>,
                gtk::DialogFlags::MODAL,
                gtk::MessageType::Error,
                gtk::ButtonsType::Close,
                &text,
            );
            dialog.set_title(title);
            dialog.set_position(gtk::WindowPosition::Center);
            dialog.run();
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (title, text);
}
