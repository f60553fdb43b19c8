//! Commands for schedules, notifications and "sync all": one call each into backoffice-core.

use std::sync::Arc;

use backoffice_core::model::Job;
use backoffice_core::ops::notify::NotificationSettings;
use backoffice_core::ops::scheduler::{Schedule, ScheduleInput, ScheduleRunRecord};
use backoffice_core::{ApiError, Core};
use tauri::{AppHandle, State};

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn list_schedules(core: CoreState<'_>) -> Res<Vec<Schedule>> {
    Ok(core.list_schedules()?)
}

#[tauri::command]
pub async fn add_schedule(app: AppHandle, core: CoreState<'_>, input: ScheduleInput) -> Res<Schedule> {
    let s = core.add_schedule(&input)?;
    crate::tray::refresh(&app, core.inner());
    Ok(s)
}

#[tauri::command]
pub async fn update_schedule(app: AppHandle, core: CoreState<'_>, id: String, input: ScheduleInput) -> Res<Schedule> {
    let s = core.update_schedule(&id, &input)?;
    crate::tray::refresh(&app, core.inner());
    Ok(s)
}

#[tauri::command]
pub async fn remove_schedule(app: AppHandle, core: CoreState<'_>, id: String) -> Res<()> {
    core.remove_schedule(&id)?;
    crate::tray::refresh(&app, core.inner());
    Ok(())
}

#[tauri::command]
pub async fn pause_schedule(core: CoreState<'_>, id: String) -> Res<Schedule> {
    Ok(core.pause_schedule(&id)?)
}

#[tauri::command]
pub async fn resume_schedule(core: CoreState<'_>, id: String) -> Res<Schedule> {
    Ok(core.resume_schedule(&id)?)
}

#[tauri::command]
pub async fn run_schedule_now(core: CoreState<'_>, id: String) -> Res<Job> {
    Ok(core.inner().run_schedule_now(&id)?)
}

#[tauri::command]
pub async fn schedule_history(core: CoreState<'_>, schedule_id: Option<String>) -> Res<Vec<ScheduleRunRecord>> {
    Ok(core.schedule_history(schedule_id.as_deref(), 200)?)
}

#[tauri::command]
pub async fn ensure_default_schedules(
    app: AppHandle,
    core: CoreState<'_>,
    connection_id: String,
) -> Res<Vec<Schedule>> {
    let created = core.ensure_default_schedules(&connection_id)?;
    crate::tray::refresh(&app, core.inner());
    Ok(created)
}

#[tauri::command]
pub async fn schedules_paused(core: CoreState<'_>) -> Res<bool> {
    Ok(core.schedules_paused())
}

#[tauri::command]
pub async fn set_schedules_paused(app: AppHandle, core: CoreState<'_>, paused: bool) -> Res<()> {
    core.set_schedules_paused(paused)?;
    crate::tray::refresh(&app, core.inner());
    Ok(())
}

#[tauri::command]
pub async fn get_notification_settings(core: CoreState<'_>) -> Res<NotificationSettings> {
    Ok(core.notification_settings()?)
}

#[tauri::command]
pub async fn save_notification_settings(
    core: CoreState<'_>,
    settings: NotificationSettings,
) -> Res<NotificationSettings> {
    Ok(core.save_notification_settings(&settings)?)
}

/// Starts the sync of every connection; returns the jobs started (those already running are skipped).
#[tauri::command]
pub async fn sync_all_now(core: CoreState<'_>) -> Res<Vec<Job>> {
    Ok(core.inner().sync_all_now()?.into_iter().filter_map(|(_, r)| r.ok()).collect())
}

/// Whether BackOffice starts with the OS session.
#[tauri::command]
pub async fn get_autostart(app: tauri::AppHandle) -> Res<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| backoffice_core::CoreError::Internal(e.to_string()).to_api())
}

#[tauri::command]
pub async fn set_autostart(app: tauri::AppHandle, enabled: bool) -> Res<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let m = app.autolaunch();
    let r = if enabled { m.enable() } else { m.disable() };
    r.map_err(|e| backoffice_core::CoreError::Internal(e.to_string()).to_api())?;
    m.is_enabled().map_err(|e| backoffice_core::CoreError::Internal(e.to_string()).to_api())
}
