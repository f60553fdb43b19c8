//! The facade for the data of every ERP: one sync surface (start, resources, summary, browse,
//! record, history, quarantine, rewind) and starting any job by kind.

use crate::error::CoreResult;
use crate::model::{ConnectionKind, Job};
use crate::ops::data;
use crate::sync::query::{BrowsePage, BrowseQuery};
use crate::sync::{QuarantinedRecord, ResourceInfo, ResourceSummary, RewindPreview, SyncOptions, SyncRun};
use crate::Core;

impl Core {
    /// Starts the sync of a connection (by id or name). Unknown resources and a bad `since` are
    /// refused before the job exists.
    pub fn sync_start(&self, connection: &str, opts: SyncOptions) -> CoreResult<Job> {
        data::sync_start(&self.ctx, connection, opts)
    }

    /// The resources an ERP syncs, with their browsable columns.
    pub fn sync_resources_of(&self, kind: ConnectionKind) -> Vec<ResourceInfo> {
        data::sync_resources_of(kind)
    }

    /// The resources a connection's ERP syncs, with their browsable columns.
    pub fn sync_resources(&self, connection: &str) -> CoreResult<Vec<ResourceInfo>> {
        data::sync_resources(&self.ctx, connection)
    }

    /// Per-resource counts and state of a connection.
    pub fn sync_summary(&self, connection: &str) -> CoreResult<Vec<ResourceSummary>> {
        data::sync_summary(&self.ctx, connection)
    }

    /// A page of a synced resource (paging, sorting, filters, full-text search).
    pub fn sync_browse(&self, q: &BrowseQuery) -> CoreResult<BrowsePage> {
        data::sync_browse(&self.ctx, q)
    }

    /// One stored record, as the ERP sent it (JSON text).
    pub fn sync_record(&self, connection: &str, resource: &str, id: &str) -> CoreResult<String> {
        data::sync_record(&self.ctx, connection, resource, id)
    }

    /// The last sync runs of a connection, newest first.
    pub fn sync_history(&self, connection: &str) -> CoreResult<Vec<SyncRun>> {
        data::sync_history(&self.ctx, connection)
    }

    /// Records that could not be stored, with why (the last good version is kept).
    pub fn sync_quarantine(&self, connection: &str) -> CoreResult<Vec<QuarantinedRecord>> {
        data::sync_quarantine(&self.ctx, connection)
    }

    /// Moves a resource's cursor back to `to` (yyyy-mm-dd): the next sync re-reads from there.
    /// Without `apply`, only says how much would be read again.
    pub fn sync_rewind(&self, connection: &str, resource: &str, to: &str, apply: bool) -> CoreResult<RewindPreview> {
        data::sync_rewind(&self.ctx, connection, resource, to, apply)
    }

    /// Starts a job of `kind` by name: the one entry point the scheduler, the tray and the CLI share.
    /// Params: sync jobs take [`SyncOptions`]; Omie's scans take `OmieScanOptions`; the transfer
    /// worker takes `{"run_id", "reason"?}`.
    pub fn start_job(&self, kind: &str, connection: Option<&str>, params: serde_json::Value) -> CoreResult<Job> {
        data::start_job(&self.ctx, kind, connection, params)
    }

    /// "Sync all now" (tray, dashboard): starts the sync job of every connection. A connection whose
    /// sync is already running is reported, not started twice.
    pub fn sync_all_now(&self) -> CoreResult<Vec<(String, Result<Job, crate::ApiError>)>> {
        data::sync_all_now(&self.ctx)
    }
}
