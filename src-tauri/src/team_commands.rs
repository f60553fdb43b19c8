//! Commands for Settings → Team database: one call each into backoffice-core. The password only
//! travels from the form to the core (and on to the keychain); no reply carries it.

use std::sync::Arc;

use backoffice_core::model::Job;
use backoffice_core::ops::team::{TeamDbCheck, TeamDbSettings};
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn team_settings(core: CoreState<'_>) -> Res<TeamDbSettings> {
    Ok(core.team_settings()?)
}

/// `password`: null keeps the saved one, "" removes it.
#[tauri::command]
pub async fn save_team_settings(
    core: CoreState<'_>,
    settings: TeamDbSettings,
    password: Option<String>,
) -> Res<TeamDbSettings> {
    Ok(core.save_team_settings(&settings, password)?)
}

#[tauri::command]
pub async fn check_team_database(core: CoreState<'_>) -> Res<TeamDbCheck> {
    Ok(core.check_team_database().await?)
}

/// Where this desk works from the next start: the team database (`on`) or its own file. The app
/// restarts at once to open it.
#[tauri::command]
pub async fn set_team_mode(app: tauri::AppHandle, core: CoreState<'_>, on: bool) -> Res<TeamDbSettings> {
    let s = core.set_team_mode(on).await?;
    // The answer reaches the window (which says it is restarting) before the app restarts.
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        app.restart();
    });
    Ok(s)
}

#[tauri::command]
pub async fn start_team_copy(core: CoreState<'_>) -> Res<Job> {
    Ok(core.start_team_copy()?)
}
