//! One set of sync commands for every ERP (the connection says which): thin adapters, one core call
//! each.

use std::sync::Arc;

use backoffice_core::model::{ConnectionKind, Job};
use backoffice_core::sync::query::{BrowsePage, BrowseQuery};
use backoffice_core::sync::{QuarantinedRecord, ResourceInfo, ResourceSummary, RewindPreview, SyncOptions, SyncRun};
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn sync_start(core: CoreState<'_>, connection_id: String, options: SyncOptions) -> Res<Job> {
    Ok(core.sync_start(&connection_id, options)?)
}

#[tauri::command]
pub async fn sync_resources(core: CoreState<'_>, kind: ConnectionKind) -> Res<Vec<ResourceInfo>> {
    Ok(core.sync_resources_of(kind))
}

#[tauri::command]
pub async fn sync_summary(core: CoreState<'_>, connection_id: String) -> Res<Vec<ResourceSummary>> {
    Ok(core.sync_summary(&connection_id)?)
}

#[tauri::command]
pub async fn sync_browse(core: CoreState<'_>, query: BrowseQuery) -> Res<BrowsePage> {
    Ok(core.sync_browse(&query)?)
}

#[tauri::command]
pub async fn sync_record(core: CoreState<'_>, connection_id: String, resource: String, id: String) -> Res<String> {
    Ok(core.sync_record(&connection_id, &resource, &id)?)
}

#[tauri::command]
pub async fn sync_history(core: CoreState<'_>, connection_id: String) -> Res<Vec<SyncRun>> {
    Ok(core.sync_history(&connection_id)?)
}

#[tauri::command]
pub async fn sync_quarantine(core: CoreState<'_>, connection_id: String) -> Res<Vec<QuarantinedRecord>> {
    Ok(core.sync_quarantine(&connection_id)?)
}

#[tauri::command]
pub async fn sync_rewind(
    core: CoreState<'_>,
    connection_id: String,
    resource: String,
    to: String,
    apply: bool,
) -> Res<RewindPreview> {
    Ok(core.sync_rewind(&connection_id, &resource, &to, apply)?)
}
