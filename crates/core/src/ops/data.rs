//! The data BackOffice keeps of every ERP, one surface for all: start a sync, the resources, their
//! summary, a page of records, one record, the run history, the quarantine and rewinding a cursor;
//! and starting any job by kind (the scheduler, the tray and the CLI share it). The connection says
//! which ERP; the registry says which resources it has.

use std::sync::Arc;

use crate::erp::{self, JobKind};
use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, Job};
use crate::sync::query::{self, BrowsePage, BrowseQuery};
use crate::sync::{
    self as engine, QuarantinedRecord, ResourceInfo, ResourceSpec, ResourceSummary, RewindPreview, SyncOptions, SyncRun,
};
use crate::Ctx;

pub(crate) fn sync_target(cx: &Ctx, connection: &str) -> CoreResult<(Connection, &'static [ResourceSpec])> {
    let conn = cx.connections().get(connection).or_else(|_| cx.connections().find_by_name(connection))?;
    Ok((conn.clone(), erp::resources(conn.kind)))
}

pub(crate) fn sync_resource(
    cx: &Ctx,
    connection: &str,
    resource: &str,
) -> CoreResult<(Connection, &'static ResourceSpec)> {
    let (conn, specs) = sync_target(cx, connection)?;
    let spec = engine::find_resource(specs, erp::label(conn.kind), resource)?;
    Ok((conn, spec))
}

/// Starts the sync of a connection (by id or name). Unknown resources and a bad `since` are
/// refused before the job exists.
pub fn sync_start(cx: &Arc<Ctx>, connection: &str, opts: SyncOptions) -> CoreResult<Job> {
    let (conn, specs) = sync_target(cx, connection)?;
    engine::validate_options(specs, erp::label(conn.kind), &opts)?;
    erp::start_sync(cx, conn, opts)
}

/// The resources an ERP syncs, with their browsable columns.
pub fn sync_resources_of(kind: crate::model::ConnectionKind) -> Vec<ResourceInfo> {
    ResourceInfo::of(erp::resources(kind))
}

/// The resources a connection's ERP syncs, with their browsable columns.
pub fn sync_resources(cx: &Ctx, connection: &str) -> CoreResult<Vec<ResourceInfo>> {
    Ok(ResourceInfo::of(sync_target(cx, connection)?.1))
}

/// Per-resource counts and state of a connection.
pub fn sync_summary(cx: &Ctx, connection: &str) -> CoreResult<Vec<ResourceSummary>> {
    let (conn, specs) = sync_target(cx, connection)?;
    engine::summaries(&cx.store, &conn.id, conn.kind.as_str(), specs)
}

/// A page of a synced resource (paging, sorting, filters, full-text search).
pub fn sync_browse(cx: &Ctx, q: &BrowseQuery) -> CoreResult<BrowsePage> {
    let (conn, spec) = sync_resource(cx, &q.connection_id, &q.resource)?;
    let q = BrowseQuery { connection_id: conn.id, ..q.clone() };
    query::browse(&cx.store, spec, &q)
}

/// One stored record, as the ERP sent it (JSON text).
pub fn sync_record(cx: &Ctx, connection: &str, resource: &str, id: &str) -> CoreResult<String> {
    let (conn, spec) = sync_resource(cx, connection, resource)?;
    query::record(&cx.store, spec, &conn.id, id)
}

/// The last sync runs of a connection, newest first.
pub fn sync_history(cx: &Ctx, connection: &str) -> CoreResult<Vec<SyncRun>> {
    let (conn, _) = sync_target(cx, connection)?;
    engine::sync_runs(&cx.store, &conn.id, 100)
}

/// Records that could not be stored, with why (the last good version is kept).
pub fn sync_quarantine(cx: &Ctx, connection: &str) -> CoreResult<Vec<QuarantinedRecord>> {
    let (conn, _) = sync_target(cx, connection)?;
    engine::quarantine(&cx.store, &conn.id, conn.kind.as_str(), 1000)
}

/// Moves a resource's cursor back to `to` (yyyy-mm-dd): the next sync re-reads from there.
/// Without `apply`, only says how much would be read again.
pub fn sync_rewind(cx: &Ctx, connection: &str, resource: &str, to: &str, apply: bool) -> CoreResult<RewindPreview> {
    let (conn, spec) = sync_resource(cx, connection, resource)?;
    let date = chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d")
        .map_err(|_| CoreError::invalid("to", format!("\"{to}\" is not a date like 2026-01-31")))?;
    engine::rewind(&cx.store, &conn.id, conn.kind.as_str(), spec, date, apply)
}

/// Starts a job of `kind` by name: the one entry point the scheduler, the tray and the CLI share.
/// Params: sync jobs take [`SyncOptions`]; Omie's scans take `OmieScanOptions`; the transfer
/// worker takes `{"run_id", "reason"?}`.
pub fn start_job(cx: &Arc<Ctx>, kind: &str, connection: Option<&str>, params: serde_json::Value) -> CoreResult<Job> {
    let kind = JobKind::parse(kind)?;
    let need = || {
        connection
            .ok_or_else(|| CoreError::invalid("connection", format!("a \"{}\" job needs a connection", kind.as_str())))
    };
    match kind {
        JobKind::TestConnection => erp::start_test_connection(cx, need()?),
        JobKind::SyncContifico | JobKind::SyncOmie | JobKind::SyncErpnext => {
            let (conn, _) = sync_target(cx, need()?)?;
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
            sync_start(cx, &conn.id, opts)
        }
        JobKind::Divergences | JobKind::DivergencesApply => {
            let bad = |e: serde_json::Error| CoreError::invalid("params", e.to_string());
            let params = if params.is_null() { serde_json::json!({}) } else { params };
            if kind == JobKind::Divergences {
                crate::ops::divergences::start_session(cx, serde_json::from_value(params).map_err(bad)?)
            } else {
                crate::ops::divergences::start_apply(cx, serde_json::from_value(params).map_err(bad)?)
            }
        }
        other => erp::start_erp_job(cx, other, connection, params),
    }
}

/// "Sync all now" (tray, dashboard): starts the sync job of every connection. A connection whose
/// sync is already running is reported, not started twice.
pub fn sync_all_now(cx: &Arc<Ctx>) -> CoreResult<Vec<(String, Result<Job, crate::ApiError>)>> {
    let mut out = vec![];
    for c in cx.connections().list()? {
        let r = sync_start(cx, &c.id, SyncOptions::default()).map_err(|e| e.to_api());
        out.push((c.name.clone(), r));
    }
    Ok(out)
}
