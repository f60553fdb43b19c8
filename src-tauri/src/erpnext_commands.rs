//! Thin adapters from IPC to backoffice-core for the ERPNext page: the inter-company transfer
//! (preview, start, runs, operator controls with a reason), the idempotency field, the transfer's
//! retry settings, and the sync of Purchase Orders, Purchase Receipts and Delivery Notes.
//! Each command is one call into `Core`; errors cross as `{code, message, params, details}`.

use std::sync::Arc;

use backoffice_core::erp::erpnext::{
    FieldStatus, RunFilter, TransferInput, TransferPreview, TransferRun, TransferRunDetail, WorkflowSettings,
};
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

/// Checks the form against both sites and returns the four documents; sends nothing.
#[tauri::command]
pub async fn erpnext_preview(core: CoreState<'_>, input: TransferInput) -> Res<TransferPreview> {
    Ok(core.erpnext_preview(&input).await?)
}

/// Validates and starts a transfer (queued behind another one of the same site A).
#[tauri::command]
pub async fn erpnext_start(core: CoreState<'_>, input: TransferInput, reason: Option<String>) -> Res<TransferRun> {
    Ok(core.inner().erpnext_start(&input, reason.as_deref()).await?)
}

#[tauri::command]
pub async fn erpnext_runs(core: CoreState<'_>, filter: Option<RunFilter>) -> Res<Vec<TransferRun>> {
    Ok(core.erpnext_runs(&filter.unwrap_or_default())?)
}

/// A run with its per-step timeline, every attempt and the operator's actions.
#[tauri::command]
pub async fn erpnext_run(core: CoreState<'_>, id: String) -> Res<TransferRunDetail> {
    Ok(core.erpnext_run(&id)?)
}

#[tauri::command]
pub async fn erpnext_retry(core: CoreState<'_>, id: String, reason: String) -> Res<TransferRunDetail> {
    Ok(core.inner().erpnext_retry(&id, &reason)?)
}

#[tauri::command]
pub async fn erpnext_cancel(core: CoreState<'_>, id: String, reason: String) -> Res<TransferRunDetail> {
    Ok(core.inner().erpnext_cancel(&id, &reason).await?)
}

#[tauri::command]
pub async fn erpnext_compensate(core: CoreState<'_>, id: String, reason: String) -> Res<TransferRunDetail> {
    Ok(core.inner().erpnext_compensate(&id, &reason)?)
}

/// Whether a site has the idempotency field, with the explanation shown next to the offer.
#[tauri::command]
pub async fn erpnext_field_status(core: CoreState<'_>, connection_id: String) -> Res<FieldStatus> {
    Ok(core.erpnext_field_status(&connection_id).await?)
}

/// Creates the idempotency field on a site (needs the System Manager role there).
#[tauri::command]
pub async fn erpnext_ensure_field(core: CoreState<'_>, connection_id: String) -> Res<FieldStatus> {
    Ok(core.erpnext_ensure_field(&connection_id).await?)
}

#[tauri::command]
pub async fn erpnext_settings(core: CoreState<'_>) -> Res<WorkflowSettings> {
    Ok(core.erpnext_settings()?)
}

#[tauri::command]
pub async fn erpnext_save_settings(core: CoreState<'_>, settings: WorkflowSettings) -> Res<WorkflowSettings> {
    Ok(core.save_erpnext_settings(&settings)?)
}
