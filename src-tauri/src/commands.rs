//! Thin adapters from IPC to backoffice-core. Each command forwards to one core call and returns
//! `Result<T, ApiError>`; errors cross as `{code, message, params, details}`.

use std::sync::Arc;

use backoffice_core::erp::connections::KeyState;
use backoffice_core::model::*;
use backoffice_core::ops::dashboard::DashboardSummary;
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

pub fn handlers() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        dashboard,
        list_connections,
        connection_keys,
        create_connection,
        update_connection,
        delete_connection,
        test_connection,
        list_jobs,
        get_job,
        cancel_job,
        start_demo,
        get_settings,
        save_settings,
        crate::sync_commands::sync_start,
        crate::sync_commands::sync_resources,
        crate::sync_commands::sync_summary,
        crate::sync_commands::sync_browse,
        crate::sync_commands::sync_record,
        crate::sync_commands::sync_history,
        crate::sync_commands::sync_quarantine,
        crate::sync_commands::sync_rewind,
        crate::schedule_commands::list_schedules,
        crate::schedule_commands::add_schedule,
        crate::schedule_commands::update_schedule,
        crate::schedule_commands::remove_schedule,
        crate::schedule_commands::pause_schedule,
        crate::schedule_commands::resume_schedule,
        crate::schedule_commands::run_schedule_now,
        crate::schedule_commands::schedule_history,
        crate::schedule_commands::ensure_default_schedules,
        crate::schedule_commands::schedules_paused,
        crate::schedule_commands::set_schedules_paused,
        crate::schedule_commands::get_notification_settings,
        crate::schedule_commands::save_notification_settings,
        crate::schedule_commands::sync_all_now,
        crate::schedule_commands::get_autostart,
        crate::schedule_commands::set_autostart,
        crate::omie_commands::omie_key_status,
        crate::omie_commands::omie_local_clients,
        crate::omie_commands::omie_attachment_settings,
        crate::omie_commands::omie_save_attachment_settings,
        crate::omie_commands::omie_transfer_attachments,
        crate::omie_commands::omie_attachment_scan,
        crate::omie_commands::omie_retry_attachments,
        crate::omie_commands::omie_upload_attachment,
        crate::omie_commands::omie_attachment_transfers,
        crate::omie_commands::omie_attachment_transfer_detail,
        crate::omie_commands::omie_attachment_map,
        crate::omie_commands::omie_po_close_config,
        crate::omie_commands::omie_save_po_close_config,
        crate::omie_commands::omie_close_purchase_order,
        crate::omie_commands::omie_po_close_scan,
        crate::omie_commands::omie_retry_po_closures,
        crate::omie_commands::omie_po_closures,
        crate::omie_commands::omie_preview,
        crate::divergence_commands::divergence_rules,
        crate::divergence_commands::save_divergence_rule,
        crate::divergence_commands::divergence_rule_history,
        crate::divergence_commands::start_divergence_session,
        crate::divergence_commands::divergence_sessions,
        crate::divergence_commands::divergences,
        crate::divergence_commands::divergence,
        crate::divergence_commands::decide_divergences,
        crate::divergence_commands::apply_divergences,
        crate::divergence_commands::divergence_operations,
        crate::divergence_commands::divergence_metrics,
        crate::divergence_commands::export_divergences,
        crate::contract_commands::contracts,
        crate::contract_commands::save_contract,
        crate::contract_commands::delete_contract,
        crate::contract_commands::contract_history,
        crate::contract_commands::preview_contracts_import,
        crate::contract_commands::import_contracts,
        crate::contract_commands::billing_settings,
        crate::contract_commands::save_billing_settings,
        crate::contract_commands::reconcile_billing,
        crate::contract_commands::billing_strip,
        crate::contract_commands::export_reconciliation,
        crate::erpnext_commands::erpnext_preview,
        crate::erpnext_commands::erpnext_start,
        crate::erpnext_commands::erpnext_runs,
        crate::erpnext_commands::erpnext_run,
        crate::erpnext_commands::erpnext_retry,
        crate::erpnext_commands::erpnext_cancel,
        crate::erpnext_commands::erpnext_compensate,
        crate::erpnext_commands::erpnext_field_status,
        crate::erpnext_commands::erpnext_ensure_field,
        crate::erpnext_commands::erpnext_settings,
        crate::erpnext_commands::erpnext_save_settings,
        crate::email_commands::email_settings,
        crate::email_commands::save_email_settings,
        crate::email_commands::send_test_email,
        crate::team_commands::team_settings,
        crate::team_commands::save_team_settings,
        crate::team_commands::check_team_database,
        crate::team_commands::start_team_copy,
        crate::team_commands::set_team_mode,
    ]
}

#[tauri::command]
pub async fn app_info(core: CoreState<'_>, demo: State<'_, crate::demo::Demo>) -> Res<AppInfo> {
    Ok(AppInfo { demo_running: demo.running(), ..core.app_info() })
}

#[tauri::command]
pub async fn dashboard(core: CoreState<'_>) -> Res<DashboardSummary> {
    Ok(core.dashboard()?)
}

#[tauri::command]
pub async fn list_connections(core: CoreState<'_>) -> Res<Vec<Connection>> {
    Ok(core.connections().list()?)
}

/// Whether this desk's keychain keeps each connection's key, and which other desks said they do.
#[tauri::command]
pub async fn connection_keys(core: CoreState<'_>) -> Res<Vec<KeyState>> {
    Ok(core.connections().key_states()?)
}

#[tauri::command]
pub async fn create_connection(core: CoreState<'_>, input: ConnectionInput) -> Res<Connection> {
    Ok(core.connections().create(&input, false)?)
}

#[tauri::command]
pub async fn update_connection(core: CoreState<'_>, id: String, input: ConnectionInput) -> Res<Connection> {
    Ok(core.connections().update(&id, &input)?)
}

#[tauri::command]
pub async fn delete_connection(core: CoreState<'_>, id: String) -> Res<()> {
    Ok(core.connections().delete(&id)?)
}

#[tauri::command]
pub async fn test_connection(core: CoreState<'_>, id: String) -> Res<Job> {
    Ok(core.start_test_connection(&id)?)
}

#[tauri::command]
pub async fn list_jobs(core: CoreState<'_>, filter: Option<JobFilter>) -> Res<Vec<Job>> {
    Ok(core.jobs.list(&filter.unwrap_or_default())?)
}

#[tauri::command]
pub async fn get_job(core: CoreState<'_>, id: String) -> Res<JobDetail> {
    Ok(core.jobs.detail(&id)?)
}

#[tauri::command]
pub async fn cancel_job(core: CoreState<'_>, id: String) -> Res<Job> {
    Ok(core.jobs.cancel(&id)?)
}

#[tauri::command]
pub async fn start_demo(core: CoreState<'_>, demo: State<'_, crate::demo::Demo>) -> Res<Vec<Connection>> {
    let conns = demo.start(core.inner()).await?;
    // A new demo opens on data: the Omie company synced, its contracts imported from a
    // spreadsheet, and its divergences found.
    let book = demo.contracts_file().await;
    core.populate_demo(book.as_deref()).await?;
    Ok(conns)
}

#[tauri::command]
pub async fn get_settings(core: CoreState<'_>) -> Res<Settings> {
    Ok(core.settings()?)
}

#[tauri::command]
pub async fn save_settings(core: CoreState<'_>, settings: Settings) -> Res<Settings> {
    Ok(core.save_settings(&settings)?)
}
