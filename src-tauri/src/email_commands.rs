//! Commands for e-mail notifications: one call each into backoffice-core. The password only ever
//! travels from the form to the core (and on to the keychain); no reply carries it.

use std::sync::Arc;

use backoffice_core::ops::email::EmailSettings;
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn email_settings(core: CoreState<'_>) -> Res<EmailSettings> {
    Ok(core.email_settings()?)
}

/// `password`: null keeps the saved one, "" removes it.
#[tauri::command]
pub async fn save_email_settings(
    core: CoreState<'_>,
    settings: EmailSettings,
    password: Option<String>,
) -> Res<EmailSettings> {
    Ok(core.save_email_settings(&settings, password)?)
}

#[tauri::command]
pub async fn send_test_email(core: CoreState<'_>) -> Res<()> {
    Ok(core.send_test_email().await?)
}
