//! Omie: the rate-safe client's limiter, the sync of Omie data through the generic engine, the local
//! client records matched by CNPJ/CPF (seed 001), attachment transfer from NF-e receipts to
//! payables (RF-001) and closing purchase orders when their service invoice is posted (RF-002).
//!
//! Jobs: `sync_omie`, `omie_attachment_scan` (and `omie_attachment_transfer`, `omie_attachment_retry`,
//! `omie_attachment_upload`), `omie_po_close_scan` (and `omie_po_close`, `omie_po_close_retry`).
//! Settings live in the `settings` table under `omie.attachments:<connection id>` and
//! `omie.po_close:<connection id>`.
//! Every SQL statement of the room lives in its repository, `store`; the features call it by name.

pub mod attachments;
pub mod client;
mod error;
pub mod limiter;
pub mod local_clients;
pub mod po_close;
mod store;
pub mod sync;
pub mod titles;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

pub use error::OmieError;

use crate::erp::omie::client::OmieClient;
use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, ConnectionKind};
use crate::Ctx;

/// Whether an app key is usable, for the UI and notifications.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieKeyStatus {
    pub connection_id: String,
    pub blocked: bool,
    /// RFC 3339 UTC: when the key can be used again.
    pub blocked_until: Option<String>,
    #[ts(type = "number | null")]
    pub seconds_left: Option<i64>,
    /// Omie's own words when it blocked the key.
    pub reason: Option<String>,
}

/// One line of a dry-run preview (attachment scan or purchase-order scan).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmiePreviewItem {
    /// `attachment` or `purchase_order`.
    pub kind: String,
    /// What would be done: `transfer`, `skip_duplicate`, `close`, `already_closed`, `error`...
    pub action: String,
    pub origin: String,
    pub destination: String,
    pub detail: String,
}

/// Stable id of (host, app key) for the block records: never the key itself.
pub(crate) fn key_id(base_url: &str, app_key: &str) -> String {
    let h = Sha256::digest(format!("{}|{app_key}", limiter::host_of(base_url)).as_bytes());
    h.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// A date (`yyyy-mm-dd`, `dd/mm/yyyy`) or RFC 3339 instant given by a user, as a calendar date.
pub(crate) fn parse_since(s: &str) -> CoreResult<chrono::NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.date_naive())
        .ok()
        .or_else(|| crate::sync::parse::date(&serde_json::Value::String(s.to_string())).ok().flatten())
        .ok_or_else(|| CoreError::invalid("since", format!("\"{s}\" is not a date like 2026-01-31")))
}

/// The connection, checked to be an Omie one.
pub fn omie_connection(cx: &Ctx, connection_id: &str) -> CoreResult<Connection> {
    let conn = cx.connections().get(connection_id)?;
    if conn.kind != ConnectionKind::Omie {
        return Err(CoreError::invalid("connection", format!("\"{}\" is not an Omie connection", conn.name)));
    }
    Ok(conn)
}

/// A rate-safe client for the connection: blocks recorded earlier (by this or another process)
/// are restored into the limiter, and a new block is recorded in the database.
pub fn omie_client(cx: &Ctx, conn: &Connection) -> CoreResult<OmieClient> {
    let creds = cx.connections().credentials(conn)?;
    let host = limiter::host_of(&conn.base_url);
    let budget = Arc::new(store::StoreBudget { store: cx.store.clone(), host });
    let client = OmieClient::new(cx.http.clone(), conn, &creds).with_shared_budget(budget);
    let kid = key_id(&conn.base_url, &creds.key);
    let recorded = store::key_blocked_until(&cx.store, &kid)?;
    if let Some(until) = recorded.and_then(|u| chrono::DateTime::parse_from_rfc3339(&u).ok()) {
        client.limiter().block_until(&creds.key, until.with_timezone(&chrono::Utc));
    }
    let db = cx.store.clone();
    let conn_id = conn.id.clone();
    Ok(client.on_block(Arc::new(move |_key, until, why| {
        let until = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let _ = store::record_key_block(&db, &kid, &conn_id, &until, why);
    })))
}

/// Whether the connection's app key is blocked by Omie, and until when.
pub fn omie_key_status(cx: &Ctx, connection_id: &str) -> CoreResult<OmieKeyStatus> {
    let conn = omie_connection(cx, connection_id)?;
    let row = store::latest_key_block(&cx.store, &conn.id)?;
    let now = chrono::Utc::now();
    let active = row.and_then(|(u, why)| {
        let until = chrono::DateTime::parse_from_rfc3339(&u).ok()?.with_timezone(&chrono::Utc);
        (until > now).then_some((until, why))
    });
    Ok(match active {
        Some((until, why)) => OmieKeyStatus {
            connection_id: conn.id,
            blocked: true,
            blocked_until: Some(until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            seconds_left: Some((until - now).num_seconds().max(1)),
            reason: Some(why),
        },
        None => OmieKeyStatus {
            connection_id: conn.id,
            blocked: false,
            blocked_until: None,
            seconds_left: None,
            reason: None,
        },
    })
}

/// The dry-run preview lines a scan job recorded.
pub fn omie_preview(cx: &Ctx, job_id: &str) -> CoreResult<Vec<OmiePreviewItem>> {
    store::previews(&cx.store, job_id)
}
