// The BackOffice desktop shell: windows, tray, notifications and thin command adapters into
// backoffice-core. No business logic lives here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod tray;

use std::sync::Arc;

use backoffice_core::model::JobStatus;
use backoffice_core::secrets::Keychain;
use backoffice_core::{Core, Paths};
use tauri::{Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

fn main() {
    let paths = Paths::resolve(None);
    let _log_guard = backoffice_core::logging::init(&paths.log_dir, "backoffice-app", true);
    let keychain = Keychain { service: std::env::var("BACKOFFICE_KEYCHAIN_SERVICE").ok() };
    let core = match Core::open(paths.clone(), Arc::new(keychain)) {
        Ok(c) => c,
        Err(e) => {
            // Nothing can work without the database; say why where the user will see it.
            tracing::error!(error = %e, db = %paths.db.display(), "cannot open the database");
            eprintln!("BackOffice cannot open its database at {}: {e}", paths.db.display());
            std::process::exit(2);
        }
    };

    let mut builder = tauri::Builder::default();
    if std::env::var_os("BACKOFFICE_ALLOW_MULTIPLE").is_none() {
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // A second launch focuses the window of the first.
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }));
    }
    builder
        .plugin(tauri_plugin_notification::init())
        .manage(core.clone())
        .invoke_handler(commands::handlers())
        .setup(move |app| {
            let handle = app.handle().clone();
            let core = core.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = core.resume_demo_if_configured().await {
                    tracing::warn!(error = %e, "could not restart the demo simulators");
                }
                // Forward job changes to the UI and raise a notification when one fails.
                let mut rx = core.jobs.subscribe();
                loop {
                    match rx.recv().await {
                        Ok(ev) => {
                            if ev.log.is_none() && ev.job.status == JobStatus::Failed && ev.job.finished_at.is_some() {
                                notify_failure(&handle, &ev.job);
                            }
                            let _ = handle.emit("job-event", &ev);
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            tracing::debug!(skipped = n, "job events lagged");
                        }
                        Err(_) => break,
                    }
                }
            });
            tray::install(app.handle())?;
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running BackOffice");
}

fn notify_failure(app: &tauri::AppHandle, job: &backoffice_core::model::Job) {
    let title = match &job.connection_name {
        Some(c) => format!("BackOffice: {} failed ({c})", job.kind.replace('_', " ")),
        None => format!("BackOffice: {} failed", job.kind.replace('_', " ")),
    };
    let body = job.error.as_ref().map(|e| e.message.clone()).unwrap_or_default();
    let _ = app.notification().builder().title(title).body(body).show();
}
