//! One sync surface for every ERP: start, resources, summary, browse, record, history, quarantine,
//! rewind. The connection says which ERP; the registry says which resources it has.

use std::sync::Arc;

use crate::erp::{self, JobKind};
use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, Job};
use crate::sync::query::{self, BrowsePage, BrowseQuery};
use crate::sync::{
    self as engine, QuarantinedRecord, ResourceInfo, ResourceSpec, ResourceSummary, RewindPreview, SyncOptions, SyncRun,
};
use crate::Core;

impl Core {
    fn sync_target(&self, connection: &str) -> CoreResult<(Connection, &'static [ResourceSpec])> {
        let conn = self.connections().get(connection).or_else(|_| self.connections().find_by_name(connection))?;
        Ok((conn.clone(), erp::resources(conn.kind)))
    }

    fn sync_resource(&self, connection: &str, resource: &str) -> CoreResult<(Connection, &'static ResourceSpec)> {
        let (conn, specs) = self.sync_target(connection)?;
        let spec = engine::find_resource(specs, erp::label(conn.kind), resource)?;
        Ok((conn, spec))
    }

    /// Starts the sync of a connection (by id or name). Unknown resources and a bad `since` are
    /// refused before the job exists.
    pub fn sync_start(self: &Arc<Self>, connection: &str, opts: SyncOptions) -> CoreResult<Job> {
        let (conn, specs) = self.sync_target(connection)?;
        engine::validate_options(specs, erp::label(conn.kind), &opts)?;
        erp::start_sync(self, conn, opts)
    }

    /// The resources an ERP syncs, with their browsable columns.
    pub fn sync_resources_of(&self, kind: crate::model::ConnectionKind) -> Vec<ResourceInfo> {
        ResourceInfo::of(erp::resources(kind))
    }

    /// The resources a connection's ERP syncs, with their browsable columns.
    pub fn sync_resources(&self, connection: &str) -> CoreResult<Vec<ResourceInfo>> {
        Ok(ResourceInfo::of(self.sync_target(connection)?.1))
    }

    /// Per-resource counts and state of a connection.
    pub fn sync_summary(&self, connection: &str) -> CoreResult<Vec<ResourceSummary>> {
        let (conn, specs) = self.sync_target(connection)?;
        engine::summaries(&self.store, &conn.id, conn.kind.as_str(), specs)
    }

    /// A page of a synced resource (paging, sorting, filters, full-text search).
    pub fn sync_browse(&self, q: &BrowseQuery) -> CoreResult<BrowsePage> {
        let (conn, spec) = self.sync_resource(&q.connection_id, &q.resource)?;
        let q = BrowseQuery { connection_id: conn.id, ..q.clone() };
        query::browse(&self.store, spec, &q)
    }

    /// One stored record, as the ERP sent it (JSON text).
    pub fn sync_record(&self, connection: &str, resource: &str, id: &str) -> CoreResult<String> {
        let (conn, spec) = self.sync_resource(connection, resource)?;
        query::record(&self.store, spec, &conn.id, id)
    }

    /// The last sync runs of a connection, newest first.
    pub fn sync_history(&self, connection: &str) -> CoreResult<Vec<SyncRun>> {
        let (conn, _) = self.sync_target(connection)?;
        engine::sync_runs(&self.store, &conn.id, 100)
    }

    /// Records that could not be stored, with why (the last good version is kept).
    pub fn sync_quarantine(&self, connection: &str) -> CoreResult<Vec<QuarantinedRecord>> {
        let (conn, _) = self.sync_target(connection)?;
        engine::quarantine(&self.store, &conn.id, conn.kind.as_str(), 1000)
    }

    /// Moves a resource's cursor back to `to` (yyyy-mm-dd): the next sync re-reads from there.
    /// Without `apply`, only says how much would be read again.
    pub fn sync_rewind(&self, connection: &str, resource: &str, to: &str, apply: bool) -> CoreResult<RewindPreview> {
        let (conn, spec) = self.sync_resource(connection, resource)?;
        let date = chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d")
            .map_err(|_| CoreError::invalid("to", format!("\"{to}\" is not a date like 2026-01-31")))?;
        engine::rewind(&self.store, &conn.id, conn.kind.as_str(), spec, date, apply)
    }

    /// Starts a job of `kind` by name: the one entry point the scheduler, the tray and the CLI share.
    /// Params: sync jobs take [`SyncOptions`]; Omie's scans take `OmieScanOptions`; the transfer
    /// worker takes `{"run_id", "reason"?}`.
    pub fn start_job(
        self: &Arc<Self>,
        kind: &str,
        connection: Option<&str>,
        params: serde_json::Value,
    ) -> CoreResult<Job> {
        let kind = JobKind::parse(kind)?;
        let need = || {
            connection.ok_or_else(|| {
                CoreError::invalid("connection", format!("a \"{}\" job needs a connection", kind.as_str()))
            })
        };
        match kind {
            JobKind::TestConnection => self.start_test_connection(need()?),
            JobKind::SyncContifico | JobKind::SyncOmie | JobKind::SyncErpnext => {
                let (conn, _) = self.sync_target(need()?)?;
                if erp::sync_job(conn.kind) != kind {
                    return Err(CoreError::invalid(
                        "connection",
                        format!(
                            "\"{}\" is a {} connection; its sync is {}",
                            conn.name,
                            erp::label(conn.kind),
                            erp::sync_job(conn.kind).as_str()
                        ),
                    ));
                }
                let opts: SyncOptions = if params.is_null() {
                    SyncOptions::default()
                } else {
                    serde_json::from_value(params).map_err(|e| CoreError::invalid("params", e.to_string()))?
                };
                self.sync_start(&conn.id, opts)
            }
            other => erp::start_erp_job(self, other, connection, params),
        }
    }

    /// "Sync all now" (tray, dashboard): starts the sync job of every connection. A connection whose
    /// sync is already running is reported, not started twice.
    pub fn sync_all_now(self: &Arc<Self>) -> CoreResult<Vec<(String, Result<Job, crate::ApiError>)>> {
        let mut out = vec![];
        for c in self.connections().list()? {
            let r = self.sync_start(&c.id, SyncOptions::default()).map_err(|e| e.to_api());
            out.push((c.name.clone(), r));
        }
        Ok(out)
    }
}
