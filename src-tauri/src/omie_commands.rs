//! Omie commands: thin adapters from IPC to backoffice-core (one call each). The lead adds them to
//! the handler list in commands.rs.

use std::sync::Arc;

use backoffice_core::erp::omie::attachments::{
    OmieAttachmentMapEntry, OmieAttachmentSettings, OmieAttachmentTransfer, OmieTransferDetail, OmieTransferRequest,
    OmieUploadRequest,
};
use backoffice_core::erp::omie::local_clients::OmieLocalClient;
use backoffice_core::erp::omie::po_close::{OmieCloseRequest, OmiePoCloseConfig, OmiePoClosure};
use backoffice_core::erp::omie::sync::OmieScanOptions;
use backoffice_core::erp::omie::{OmieKeyStatus, OmiePreviewItem};
use backoffice_core::model::Job;
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn omie_key_status(core: CoreState<'_>, connection_id: String) -> Res<OmieKeyStatus> {
    Ok(core.omie_key_status(&connection_id)?)
}

#[tauri::command]
pub async fn omie_local_clients(core: CoreState<'_>, connection_id: String) -> Res<Vec<OmieLocalClient>> {
    Ok(core.omie_local_clients(&connection_id)?)
}

#[tauri::command]
pub async fn omie_attachment_settings(core: CoreState<'_>, connection_id: String) -> Res<OmieAttachmentSettings> {
    Ok(core.omie_attachment_settings(&connection_id)?)
}

#[tauri::command]
pub async fn omie_save_attachment_settings(
    core: CoreState<'_>,
    connection_id: String,
    settings: OmieAttachmentSettings,
) -> Res<OmieAttachmentSettings> {
    Ok(core.save_omie_attachment_settings(&connection_id, &settings)?)
}

#[tauri::command]
pub async fn omie_transfer_attachments(
    core: CoreState<'_>,
    connection_id: String,
    request: OmieTransferRequest,
) -> Res<Job> {
    Ok(core.start_omie_attachment_transfer(&connection_id, request)?)
}

#[tauri::command]
pub async fn omie_attachment_scan(core: CoreState<'_>, connection_id: String, options: OmieScanOptions) -> Res<Job> {
    Ok(core.start_omie_attachment_scan(&connection_id, options)?)
}

#[tauri::command]
pub async fn omie_retry_attachments(core: CoreState<'_>, connection_id: String) -> Res<Job> {
    Ok(core.start_omie_attachment_retry(&connection_id)?)
}

#[tauri::command]
pub async fn omie_upload_attachment(
    core: CoreState<'_>,
    connection_id: String,
    request: OmieUploadRequest,
) -> Res<Job> {
    Ok(core.start_omie_attachment_upload(&connection_id, request)?)
}

#[tauri::command]
pub async fn omie_attachment_transfers(
    core: CoreState<'_>,
    connection_id: String,
    status: Option<String>,
    limit: Option<u32>,
) -> Res<Vec<OmieAttachmentTransfer>> {
    Ok(core.omie_attachment_transfers(&connection_id, status.as_deref(), limit.unwrap_or(200))?)
}

#[tauri::command]
pub async fn omie_attachment_transfer_detail(core: CoreState<'_>, transfer_id: String) -> Res<OmieTransferDetail> {
    Ok(core.omie_attachment_transfer_detail(&transfer_id)?)
}

#[tauri::command]
pub async fn omie_attachment_map(core: CoreState<'_>, connection_id: String) -> Res<Vec<OmieAttachmentMapEntry>> {
    Ok(core.omie_attachment_map(&connection_id)?)
}

#[tauri::command]
pub async fn omie_po_close_config(core: CoreState<'_>, connection_id: String) -> Res<OmiePoCloseConfig> {
    Ok(core.omie_po_close_config(&connection_id)?)
}

#[tauri::command]
pub async fn omie_save_po_close_config(
    core: CoreState<'_>,
    connection_id: String,
    config: OmiePoCloseConfig,
) -> Res<OmiePoCloseConfig> {
    Ok(core.save_omie_po_close_config(&connection_id, &config)?)
}

#[tauri::command]
pub async fn omie_close_purchase_order(
    core: CoreState<'_>,
    connection_id: String,
    request: OmieCloseRequest,
) -> Res<Job> {
    Ok(core.start_omie_po_close(&connection_id, request, None)?)
}

#[tauri::command]
pub async fn omie_po_close_scan(core: CoreState<'_>, connection_id: String, options: OmieScanOptions) -> Res<Job> {
    Ok(core.start_omie_po_close_scan(&connection_id, options, None)?)
}

#[tauri::command]
pub async fn omie_retry_po_closures(core: CoreState<'_>, connection_id: String) -> Res<Job> {
    Ok(core.start_omie_po_close_retry(&connection_id, None)?)
}

#[tauri::command]
pub async fn omie_po_closures(
    core: CoreState<'_>,
    connection_id: String,
    status: Option<String>,
    limit: Option<u32>,
) -> Res<Vec<OmiePoClosure>> {
    Ok(core.omie_po_closures(&connection_id, status.as_deref(), limit.unwrap_or(200))?)
}

#[tauri::command]
pub async fn omie_preview(core: CoreState<'_>, job_id: String) -> Res<Vec<OmiePreviewItem>> {
    Ok(core.omie_preview(&job_id)?)
}
