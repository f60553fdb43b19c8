//! The tray icon: health at a glance (last sync per connection, failed jobs, items needing attention)
//! and the actions "Sync all now", "Run now ▸ <schedule>", "Open BackOffice", "Pause schedules" and
//! "Quit". Texts and health
//! come from backoffice-core; this file only builds the menu.

use std::sync::Arc;

use backoffice_core::ops::notify::text;
use backoffice_core::Core;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

pub const TRAY_ID: &str = "main";
/// Menu ids of the "Run now" entries: this prefix and the schedule's id.
const RUN_PREFIX: &str = "run:";

fn build_menu(app: &AppHandle, core: &Arc<Core>) -> tauri::Result<Menu<Wry>> {
    let locale = core.locale();
    let menu = Menu::new(app)?;
    for (i, line) in core.tray_health().unwrap_or_default().into_iter().enumerate() {
        menu.append(&MenuItem::with_id(app, format!("health-{i}"), line, false, None::<&str>)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "sync_all", text(&locale, "sync_all"), true, None::<&str>)?)?;
    // One entry per schedule: runs its job now (even while schedules are paused), as the
    // Schedules page's "Run now" does.
    let schedules = core.list_schedules().unwrap_or_default();
    let run_now = Submenu::with_id(app, "run_now", text(&locale, "run_now"), !schedules.is_empty())?;
    for s in &schedules {
        run_now.append(&MenuItem::with_id(app, format!("{RUN_PREFIX}{}", s.id), &s.name, true, None::<&str>)?)?;
    }
    menu.append(&run_now)?;
    menu.append(&MenuItem::with_id(app, "open", text(&locale, "open"), true, None::<&str>)?)?;
    let paused = core.schedules_paused();
    let pause_label = if paused { text(&locale, "resume") } else { text(&locale, "pause") };
    menu.append(&MenuItem::with_id(app, "pause", pause_label, true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", text(&locale, "quit"), true, None::<&str>)?)?;
    Ok(menu)
}

pub fn install(app: &AppHandle, core: Arc<Core>) -> tauri::Result<()> {
    let menu = build_menu(app, &core)?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID).menu(&menu).tooltip("BackOffice");
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "open" => crate::show_main(app),
            "sync_all" => {
                let core = core.clone();
                tauri::async_runtime::spawn(async move {
                    for (name, r) in core.sync_all_now().unwrap_or_default() {
                        if let Err(e) = r {
                            tracing::info!(connection = %name, error = %e.message, "sync all: not started");
                        }
                    }
                });
            }
            "pause" => {
                let _ = core.set_schedules_paused(!core.schedules_paused());
                refresh(app, &core);
            }
            "quit" => crate::quit_safely(app.clone(), core.clone()),
            id if id.starts_with(RUN_PREFIX) => {
                // Menu events arrive on the GUI thread; jobs start on the async runtime.
                let schedule = id[RUN_PREFIX.len()..].to_string();
                let core = core.clone();
                tauri::async_runtime::spawn(async move {
                    match core.run_schedule_now(&schedule) {
                        Ok(job) => tracing::info!(%schedule, job = %job.id, "tray: run now"),
                        // Already running, or gone since the menu was built: the job list says why.
                        Err(e) => tracing::info!(%schedule, error = %e, "tray: run now not started"),
                    }
                });
            }
            _ => {}
        })
        .build(app)?;
    Ok(())
}

/// Rebuilds the menu so its health lines are current.
pub fn refresh(app: &AppHandle, core: &Arc<Core>) {
    if let (Some(tray), Ok(menu)) = (app.tray_by_id(TRAY_ID), build_menu(app, core)) {
        let _ = tray.set_menu(Some(menu));
    }
    let _ = app.get_webview_window("main");
}
