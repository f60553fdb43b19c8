//! The Omie room's repository: every SQL statement of the Omie features lives here (scan state,
//! dry-run previews, app-key blocks, local client records, attachment transfers, purchase-order
//! closures, the shared budget). The features call these named functions and never see SQL; the
//! statements go through `store::Db`, so they run on a desk's file and on a team database alike.
//! One function is one transaction (or one read) of the features it serves.

use serde_json::Value;

use super::attachments::{
    OmieAttachmentFile, OmieAttachmentMapEntry, OmieAttachmentTransfer, OmieTransferDetail, PendingTransfer,
};
use super::limiter::{Ask, SharedBudget, Step, View};
use super::local_clients::{FetchedClient, OmieLocalClient, Outcome};
use super::po_close::{OmieCloseRequest, OmiePoClosure, PendingClosure};
use super::OmiePreviewItem;
use crate::error::{ApiError, CoreResult};
use crate::store::db::{table_exists, take_turns, this_host};
use crate::store::{now_utc, Db, Row, Store};
use crate::vals;

// ---- Scans and previews -------------------------------------------------------------------------

/// When a scan (`attachments`, `po_close`) of a connection last ran (RFC 3339 UTC).
pub(super) fn scan_last_run(store: &Store, conn_id: &str, scan: &str) -> CoreResult<Option<String>> {
    store.query(|db| {
        Ok(db
            .query_opt(
                "SELECT last_run_at FROM omie_scan_state WHERE connection_id=?1 AND scan=?2",
                vals![conn_id, scan],
            )?
            .map(|r| r.get::<Option<String>>(0))
            .transpose()?
            .flatten())
    })
}

/// Records when a scan of a connection last ran.
pub(super) fn set_scan_last_run(store: &Store, conn_id: &str, scan: &str, at: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_scan_state (connection_id, scan, last_run_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(connection_id, scan) DO UPDATE SET last_run_at=excluded.last_run_at",
            vals![conn_id, scan, at],
        )?;
        Ok(())
    })
}

/// Appends a line to a job's dry-run preview.
pub(super) fn add_preview(store: &Store, job_id: &str, item: &OmiePreviewItem) -> CoreResult<()> {
    store.tx(|db| {
        take_turns(db, &format!("omie_previews:{job_id}"))?;
        db.execute(
            "INSERT INTO omie_previews (job_id, seq, payload)
             VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM omie_previews WHERE job_id=?1), ?2)",
            vals![job_id, serde_json::to_string(item).unwrap_or_default()],
        )?;
        Ok(())
    })
}

/// The dry-run preview lines a job recorded, in order (a line that no longer parses is skipped).
pub(super) fn previews(store: &Store, job_id: &str) -> CoreResult<Vec<OmiePreviewItem>> {
    store.query(|db| {
        let mut out = vec![];
        for r in db.query("SELECT payload FROM omie_previews WHERE job_id=?1 ORDER BY seq", vals![job_id])? {
            if let Ok(item) = serde_json::from_str(&r.get::<String>(0)?) {
                out.push(item);
            }
        }
        Ok(out)
    })
}

// ---- App-key blocks -----------------------------------------------------------------------------

/// When the recorded block of an app key (by its key id) ends, if a block was recorded.
pub(super) fn key_blocked_until(store: &Store, key_id: &str) -> CoreResult<Option<String>> {
    store.query(|db| {
        db.query_opt("SELECT blocked_until FROM omie_key_blocks WHERE key_id=?1", vals![key_id])?
            .map(|r| r.get(0))
            .transpose()
    })
}

/// Records (or replaces) the block Omie put on an app key, stamped now.
pub(super) fn record_key_block(
    store: &Store,
    key_id: &str,
    conn_id: &str,
    blocked_until: &str,
    reason: &str,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_key_blocks (key_id, connection_id, blocked_until, reason, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key_id) DO UPDATE SET connection_id=excluded.connection_id,
               blocked_until=excluded.blocked_until, reason=excluded.reason, recorded_at=excluded.recorded_at",
            vals![key_id, conn_id, blocked_until, reason, now_utc()],
        )?;
        Ok(())
    })
}

/// The connection's recorded key block that ends last: (blocked until, reason).
pub(super) fn latest_key_block(store: &Store, conn_id: &str) -> CoreResult<Option<(String, String)>> {
    store.query(|db| {
        db.query_opt(
            "SELECT blocked_until, reason FROM omie_key_blocks WHERE connection_id=?1 ORDER BY blocked_until DESC LIMIT 1",
            vals![conn_id],
        )?
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .transpose()
    })
}

// ---- Local client records -----------------------------------------------------------------------

/// The raw JSON of the connection's live clients fetched since `since`, in fetch order (none when
/// the clients were never synced).
pub(super) fn clients_fetched_since(store: &Store, conn_id: &str, since: &str) -> CoreResult<Vec<String>> {
    store.query(|db| {
        if !table_exists(db, "omie_clientes")? {
            return Ok(vec![]);
        }
        db.query(
            "SELECT raw FROM omie_clientes WHERE connection_id=?1 AND fetched_at>=?2 AND deleted_at IS NULL ORDER BY rowid",
            vals![conn_id, since],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    })
}

/// Matches a batch of fetched clients into local client records in one transaction (by Omie's
/// code, else by document, else a new record) and quarantines those with an invalid CNPJ/CPF;
/// one outcome per client, in order.
pub(super) fn match_client_batch(
    store: &Store,
    conn_id: &str,
    clients: &[FetchedClient<'_>],
) -> CoreResult<Vec<Outcome>> {
    store.tx(|db| {
        // Desks matching the same connection's clients at once take turns (one local record each).
        take_turns(db, &format!("omie_local_clients:{conn_id}"))?;
        let mut out = Vec::with_capacity(clients.len());
        for c in clients {
            let outcome = upsert_local_client(db, conn_id, c)?;
            if let Outcome::Invalid(e) = &outcome {
                db.execute(
                    "INSERT INTO sync_quarantine (connection_id, erp, resource, record_id, reason, raw, run_id, at)
                     VALUES (?1, 'omie', 'clientes', ?2, ?3, ?4, NULL, ?5)
                     ON CONFLICT(connection_id, erp, resource, record_id) DO UPDATE SET reason=excluded.reason, raw=excluded.raw, at=excluded.at",
                    vals![conn_id, c.code, quarantine_reason(e).to_stored(), c.raw, now_utc()],
                )?;
            }
            out.push(outcome);
        }
        Ok(out)
    })
}

/// One client of [`match_client_batch`], inside its transaction.
fn upsert_local_client(db: &mut dyn Db, conn_id: &str, c: &FetchedClient<'_>) -> CoreResult<Outcome> {
    let now = now_utc();
    // 1. Already linked by Omie's code.
    let by_code: Option<String> = db
        .query_opt(
            "SELECT id FROM omie_local_clients WHERE connection_id=?1 AND omie_codigo=?2",
            vals![conn_id, c.code],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    if let Some(id) = by_code {
        db.execute(
            "UPDATE omie_local_clients SET name=?2, email=coalesce(?3, email), matched_by='omie_codigo', updated_at=?4,
                    document=CASE WHEN CAST(?5 AS TEXT) IS NOT NULL THEN ?5 ELSE document END,
                    document_kind=CASE WHEN CAST(?5 AS TEXT) IS NOT NULL THEN ?6 ELSE document_kind END
             WHERE id=?1",
            vals![id, c.name, c.email, now, c.kind.map(|_| c.doc.clone()), c.kind],
        )?;
        if !c.doc.is_empty() && c.kind.is_none() {
            return Ok(Outcome::Invalid(c.invalid_tax_id()));
        }
        return Ok(Outcome::ByCode);
    }
    let Some(kind) = c.kind else {
        return Ok(Outcome::Invalid(c.invalid_tax_id()));
    };
    // 2. First time: a local record with the same document and no Omie code yet.
    let by_doc: Option<String> = db
        .query_opt(
            "SELECT id FROM omie_local_clients WHERE connection_id=?1 AND document=?2 AND omie_codigo IS NULL
             ORDER BY created_at LIMIT 1",
            vals![conn_id, c.doc],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    if let Some(id) = by_doc {
        db.execute(
            "UPDATE omie_local_clients SET omie_codigo=?2, name=CASE WHEN name='' THEN ?3 ELSE name END,
                    email=coalesce(email, ?4), matched_by='document', updated_at=?5, document_kind=?6 WHERE id=?1",
            vals![id, c.code, c.name, c.email, now, kind],
        )?;
        return Ok(Outcome::Linked);
    }
    // 3. New client.
    db.execute(
        "INSERT INTO omie_local_clients (id, connection_id, name, document, document_kind, omie_codigo, email, matched_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'created', ?8, ?8)",
        vals![uuid::Uuid::new_v4().to_string(), conn_id, c.name, c.doc, kind, c.code, c.email, now],
    )?;
    Ok(Outcome::Created)
}

fn local_client_from_row(r: &Row) -> CoreResult<OmieLocalClient> {
    Ok(OmieLocalClient {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        name: r.get(2)?,
        document: r.get(3)?,
        document_kind: r.get(4)?,
        omie_codigo: r.get(5)?,
        email: r.get(6)?,
        matched_by: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// The local client records of a connection, by name (any case).
pub(super) fn local_clients(store: &Store, conn_id: &str) -> CoreResult<Vec<OmieLocalClient>> {
    store.query(|db| {
        db.query(
            "SELECT id, connection_id, name, document, document_kind, omie_codigo, email, matched_by, created_at, updated_at
             FROM omie_local_clients WHERE connection_id=?1 ORDER BY lower(name), id",
            vals![conn_id],
        )?
        .iter()
        .map(local_client_from_row)
        .collect()
    })
}

/// Adds a local client entered by hand (`matched_by = manual`), to be matched by its document.
pub(super) fn insert_manual_local_client(
    store: &Store,
    id: &str,
    conn_id: &str,
    name: &str,
    document: &str,
    document_kind: &str,
    now: &str,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_local_clients (id, connection_id, name, document, document_kind, matched_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'manual', ?6, ?6)",
            vals![id, conn_id, name, document, document_kind, now],
        )?;
        Ok(())
    })
}

// ---- Attachment transfers -----------------------------------------------------------------------

/// The id of the transfer row of a pair, created pending when new (a given NF number or local
/// path is kept on an existing row).
#[allow(clippy::too_many_arguments)]
pub(super) fn ensure_transfer(
    store: &Store,
    conn_id: &str,
    origin_table: &str,
    origin_id: &str,
    dest_table: &str,
    dest_id: &str,
    nf_number: Option<&str>,
    local_path: Option<&str>,
    max_attempts: u32,
) -> CoreResult<String> {
    let now = now_utc();
    let id = uuid::Uuid::new_v4().to_string();
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_attachment_transfers (id, connection_id, origin_table, origin_id, dest_table, dest_id, nf_number, local_path, status, max_attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?10)
             ON CONFLICT(connection_id, origin_table, origin_id, dest_table, dest_id) DO UPDATE SET
               nf_number=coalesce(excluded.nf_number, omie_attachment_transfers.nf_number),
               local_path=coalesce(excluded.local_path, omie_attachment_transfers.local_path)",
            vals![id, conn_id, origin_table, origin_id, dest_table, dest_id, nf_number, local_path, max_attempts, now],
        )?;
        db.one(
            "SELECT id FROM omie_attachment_transfers WHERE connection_id=?1 AND origin_table=?2 AND origin_id=?3 AND dest_table=?4 AND dest_id=?5",
            vals![conn_id, origin_table, origin_id, dest_table, dest_id],
        )
    })
}

/// Marks a transfer as processing by a job: a new attempt, unless the transfer already succeeded.
pub(super) fn start_transfer(store: &Store, transfer_id: &str, job_id: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE omie_attachment_transfers SET status='processing',
               attempts=attempts + CASE WHEN status='succeeded' THEN 0 ELSE 1 END, job_id=?2, updated_at=?3
             WHERE id=?1",
            vals![transfer_id, job_id, now_utc()],
        )?;
        Ok(())
    })
}

/// Ends a transfer in one transaction: counts its files, sets its status (failed on `error_text`
/// or a failed file), duration and last error, and maps the pair when a file is on the
/// destination. Returns the files (succeeded, duplicate, failed).
pub(super) fn finish_transfer(
    store: &Store,
    transfer_id: &str,
    duration_ms: i64,
    error_text: Option<String>,
    error_code: Option<String>,
) -> CoreResult<(u32, u32, u32)> {
    store.tx(|db| {
        let counts = db.query_one(
            "SELECT count(*) FILTER (WHERE status='succeeded'), count(*) FILTER (WHERE status='duplicate'),
                    count(*) FILTER (WHERE status='failed') FROM omie_attachment_files WHERE transfer_id=?1",
            vals![transfer_id],
        )?;
        let (ok, dup, bad): (u32, u32, u32) = (counts.get(0)?, counts.get(1)?, counts.get(2)?);
        let first_file_error: Option<String> = db
            .query_opt(
                "SELECT error FROM omie_attachment_files WHERE transfer_id=?1 AND status='failed' ORDER BY updated_at LIMIT 1",
                vals![transfer_id],
            )?
            .map(|r| r.get::<Option<String>>(0))
            .transpose()?
            .flatten();
        let failed = error_text.is_some() || bad > 0;
        let status = if failed { "failed" } else { "succeeded" };
        db.execute(
            "UPDATE omie_attachment_transfers SET status=?2, transferred=?3, duplicates=?4, failed=?5, duration_ms=?6,
                    last_error=?7, last_error_code=?8, updated_at=?9 WHERE id=?1",
            vals![
                transfer_id,
                status,
                ok,
                dup,
                bad,
                duration_ms,
                error_text.or(first_file_error),
                error_code.or_else(|| (bad > 0).then(|| "file_failed".to_string())),
                now_utc()
            ],
        )?;
        if ok + dup > 0 {
            db.execute(
                "INSERT INTO omie_attachment_map (connection_id, origin_table, origin_id, dest_table, dest_id, nf_number, files, created_at, updated_at)
                 SELECT connection_id, origin_table, origin_id, dest_table, dest_id, nf_number, ?2, ?3, ?3 FROM omie_attachment_transfers WHERE id=?1
                 ON CONFLICT(connection_id, origin_table, origin_id, dest_table, dest_id) DO UPDATE SET
                   files=excluded.files, nf_number=coalesce(excluded.nf_number, omie_attachment_map.nf_number), updated_at=excluded.updated_at",
                vals![transfer_id, ok + dup, now_utc()],
            )?;
        }
        Ok((ok, dup, bad))
    })
}

/// The status of one origin file of a transfer, its row created pending when new.
pub(super) fn ensure_transfer_file(
    store: &Store,
    transfer_id: &str,
    origin_attachment_id: &str,
    file_name: &str,
) -> CoreResult<String> {
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_attachment_files (transfer_id, origin_attachment_id, file_name, status, updated_at)
             VALUES (?1, ?2, ?3, 'pending', ?4) ON CONFLICT(transfer_id, origin_attachment_id) DO NOTHING",
            vals![transfer_id, origin_attachment_id, file_name, now_utc()],
        )?;
        db.one(
            "SELECT status FROM omie_attachment_files WHERE transfer_id=?1 AND origin_attachment_id=?2",
            vals![transfer_id, origin_attachment_id],
        )
    })
}

/// Sets a transfer file's status and error, and the details given (the others are kept); going
/// to `processing` counts an attempt.
#[allow(clippy::too_many_arguments)]
pub(super) fn update_transfer_file(
    store: &Store,
    transfer_id: &str,
    origin_attachment_id: &str,
    status: &str,
    dest_name: Option<&str>,
    size_bytes: Option<i64>,
    sha256: Option<&str>,
    cod_int_anexo: Option<&str>,
    dest_attachment_id: Option<&str>,
    error: Option<&str>,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE omie_attachment_files SET status=?3, dest_name=coalesce(?4, dest_name), size_bytes=coalesce(?5, size_bytes),
                    sha256=coalesce(?6, sha256), cod_int_anexo=coalesce(?7, cod_int_anexo),
                    dest_attachment_id=coalesce(?8, dest_attachment_id), error=?9,
                    attempts=attempts + CASE WHEN ?3='processing' THEN 1 ELSE 0 END, updated_at=?10
             WHERE transfer_id=?1 AND origin_attachment_id=?2",
            vals![
                transfer_id,
                origin_attachment_id,
                status,
                dest_name,
                size_bytes,
                sha256,
                cod_int_anexo,
                dest_attachment_id,
                error,
                now_utc()
            ],
        )?;
        Ok(())
    })
}

/// The cached (size, SHA-256) of an attachment of a destination record, if it was fingerprinted.
pub(super) fn dest_fingerprint(
    store: &Store,
    conn_id: &str,
    table: &str,
    record_id: &str,
    attachment_id: &str,
) -> CoreResult<Option<(i64, String)>> {
    store.query(|db| {
        db.query_opt(
            "SELECT size_bytes, sha256 FROM omie_dest_fingerprints WHERE connection_id=?1 AND table_name=?2 AND record_id=?3 AND attachment_id=?4",
            vals![conn_id, table, record_id, attachment_id],
        )?
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .transpose()
    })
}

/// Caches the size and SHA-256 of an attachment of a destination record (replacing an older one).
#[allow(clippy::too_many_arguments)]
pub(super) fn save_dest_fingerprint(
    store: &Store,
    conn_id: &str,
    table: &str,
    record_id: &str,
    attachment_id: &str,
    name: &str,
    size_bytes: i64,
    sha256: &str,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_dest_fingerprints (connection_id, table_name, record_id, attachment_id, name, size_bytes, sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(connection_id, table_name, record_id, attachment_id) DO UPDATE SET
               name=excluded.name, size_bytes=excluded.size_bytes, sha256=excluded.sha256",
            vals![conn_id, table, record_id, attachment_id, name, size_bytes, sha256],
        )?;
        Ok(())
    })
}

/// The connection's pending, processing and failed transfers with attempts left, oldest first.
pub(super) fn pending_transfers(store: &Store, conn_id: &str) -> CoreResult<Vec<PendingTransfer>> {
    store.query(|db| {
        db.query(
            "SELECT origin_table, origin_id, dest_table, dest_id, nf_number, local_path FROM omie_attachment_transfers
             WHERE connection_id=?1 AND status IN ('pending','processing','failed') AND attempts < max_attempts ORDER BY created_at",
            vals![conn_id],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .collect()
    })
}

/// The NF-e number of a synced receipt; a receipt (or receipts table) that is not there reads as none.
pub(super) fn receipt_nf(store: &Store, conn_id: &str, receipt_id: &str) -> CoreResult<Option<String>> {
    store.query(|db| {
        if !table_exists(db, "omie_recebimentos")? {
            return Ok(None);
        }
        Ok(db
            .query_opt(
                "SELECT numero_nfe FROM omie_recebimentos WHERE connection_id=?1 AND id=?2",
                vals![conn_id, receipt_id],
            )?
            .map(|r| r.get::<Option<String>>(0))
            .transpose()?
            .flatten())
    })
}

const TRANSFER_COLS: &str = "id, connection_id, origin_table, origin_id, dest_table, dest_id, nf_number, local_path, status, attempts, max_attempts,
     transferred, duplicates, failed, duration_ms, last_error, last_error_code, job_id, created_at, updated_at";

fn transfer_from_row(r: &Row) -> CoreResult<OmieAttachmentTransfer> {
    Ok(OmieAttachmentTransfer {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        origin_table: r.get(2)?,
        origin_id: r.get(3)?,
        dest_table: r.get(4)?,
        dest_id: r.get(5)?,
        nf_number: r.get(6)?,
        local_path: r.get(7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        max_attempts: r.get(10)?,
        transferred: r.get(11)?,
        duplicates: r.get(12)?,
        failed: r.get(13)?,
        duration_ms: r.get(14)?,
        last_error: stored_error(r, 15, 16)?,
        last_error_code: r.get(16)?,
        job_id: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
    })
}

/// The connection's transfer log, newest first, optionally of one status, at most `limit` rows.
pub(super) fn transfers(
    store: &Store,
    conn_id: &str,
    status: Option<&str>,
    limit: u32,
) -> CoreResult<Vec<OmieAttachmentTransfer>> {
    store.query(|db| {
        db.query(
            &format!(
                "SELECT {TRANSFER_COLS} FROM omie_attachment_transfers WHERE connection_id=?1 AND (CAST(?2 AS TEXT) IS NULL OR status=?2)
                 ORDER BY updated_at DESC, rowid DESC LIMIT ?3"
            ),
            vals![conn_id, status, limit],
        )?
        .iter()
        .map(transfer_from_row)
        .collect()
    })
}

/// A transfer with its files (by file name), or none when there is no such transfer.
pub(super) fn transfer_detail(store: &Store, transfer_id: &str) -> CoreResult<Option<OmieTransferDetail>> {
    store.query(|db| {
        let Some(transfer) = db
            .query_opt(&format!("SELECT {TRANSFER_COLS} FROM omie_attachment_transfers WHERE id=?1"), vals![transfer_id])?
            .map(|r| transfer_from_row(&r))
            .transpose()?
        else {
            return Ok(None);
        };
        let files = db
            .query(
                "SELECT origin_attachment_id, file_name, dest_name, size_bytes, sha256, cod_int_anexo, dest_attachment_id, status, attempts, error, updated_at
                 FROM omie_attachment_files WHERE transfer_id=?1 ORDER BY file_name",
                vals![transfer_id],
            )?
            .iter()
            .map(|r| {
                Ok(OmieAttachmentFile {
                    origin_attachment_id: r.get(0)?,
                    file_name: r.get(1)?,
                    dest_name: r.get(2)?,
                    size_bytes: r.get(3)?,
                    sha256: r.get(4)?,
                    cod_int_anexo: r.get(5)?,
                    dest_attachment_id: r.get(6)?,
                    status: r.get(7)?,
                    attempts: r.get(8)?,
                    error: r.get::<Option<String>>(9)?.map(|t| ApiError::from_stored(&t, None)),
                    updated_at: r.get(10)?,
                })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(Some(OmieTransferDetail { transfer, files }))
    })
}

/// The connection's integration map (which origin went to which destination), newest first.
pub(super) fn attachment_map(store: &Store, conn_id: &str) -> CoreResult<Vec<OmieAttachmentMapEntry>> {
    store.query(|db| {
        db.query(
            "SELECT origin_table, origin_id, dest_table, dest_id, nf_number, files, created_at, updated_at
             FROM omie_attachment_map WHERE connection_id=?1 ORDER BY updated_at DESC",
            vals![conn_id],
        )?
        .iter()
        .map(|r| {
            Ok(OmieAttachmentMapEntry {
                origin_table: r.get(0)?,
                origin_id: r.get(1)?,
                dest_table: r.get(2)?,
                dest_id: r.get(3)?,
                nf_number: r.get(4)?,
                files: r.get(5)?,
                created_at: r.get(6)?,
                updated_at: r.get(7)?,
            })
        })
        .collect()
    })
}

// ---- Purchase-order closures --------------------------------------------------------------------

/// How a closing attempt ended, for [`finish_closure`] (`None` keeps what the row has, except
/// for the error, which is always replaced).
pub(super) struct ClosureEnd<'a> {
    /// `succeeded` or `failed`.
    pub status: &'a str,
    pub outcome: &'a str,
    pub order_id: Option<&'a str>,
    pub previous_stage: Option<&'a str>,
    pub previous_status: Option<String>,
    pub new_stage: Option<&'a str>,
    pub new_status: Option<String>,
    pub call_used: Option<&'a str>,
    pub error: Option<String>,
    pub error_code: Option<&'a str>,
    pub job_id: &'a str,
}

/// The closure row of an order item, created pending when new (invoice and payable kept when not
/// given); returns (id, status, attempts, max attempts).
pub(super) fn ensure_closure(
    store: &Store,
    conn_id: &str,
    req: &OmieCloseRequest,
    item: &str,
    source: &str,
    payable_id: Option<&str>,
    max_attempts: u32,
) -> CoreResult<(String, String, u32, u32)> {
    let now = now_utc();
    let id = uuid::Uuid::new_v4().to_string();
    store.tx(|db| {
        db.execute(
            "INSERT INTO omie_po_closures (id, connection_id, order_number, item, service_invoice_number, service_invoice_id, payable_id, source, status, max_attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?10)
             ON CONFLICT(connection_id, order_number, item) DO UPDATE SET
               service_invoice_number=coalesce(excluded.service_invoice_number, omie_po_closures.service_invoice_number),
               service_invoice_id=coalesce(excluded.service_invoice_id, omie_po_closures.service_invoice_id),
               payable_id=coalesce(excluded.payable_id, omie_po_closures.payable_id), max_attempts=excluded.max_attempts",
            vals![id, conn_id, req.order_number, item, req.service_invoice_number, req.service_invoice_id, payable_id, source, max_attempts, now],
        )?;
        let r = db.query_one(
            "SELECT id, status, attempts, max_attempts FROM omie_po_closures WHERE connection_id=?1 AND order_number=?2 AND item=?3",
            vals![conn_id, req.order_number, item],
        )?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
}

/// Counts a new closing attempt of a closure row, by a job (the row is pending again).
pub(super) fn start_closure_attempt(store: &Store, closure_id: &str, job_id: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE omie_po_closures SET attempts=attempts+1, status='pending', job_id=?2, updated_at=?3 WHERE id=?1",
            vals![closure_id, job_id, now_utc()],
        )?;
        Ok(())
    })
}

/// Records how a closing attempt of a closure row ended.
pub(super) fn finish_closure(store: &Store, closure_id: &str, end: &ClosureEnd<'_>) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE omie_po_closures SET status=?2, outcome=?3, order_id=coalesce(?4, order_id),
                    previous_stage=coalesce(?5, previous_stage), previous_status=coalesce(?6, previous_status),
                    new_stage=coalesce(?7, new_stage), new_status=coalesce(?8, new_status), call_used=coalesce(?9, call_used), error=?10, error_code=?11,
                    job_id=?12, updated_at=?13 WHERE id=?1",
            vals![
                closure_id,
                end.status,
                end.outcome,
                end.order_id,
                end.previous_stage,
                end.previous_status,
                end.new_stage,
                end.new_status,
                end.call_used,
                end.error,
                end.error_code,
                end.job_id,
                now_utc()
            ],
        )?;
        Ok(())
    })
}

/// (status, attempts, max attempts) of the closure of a whole order (no item), if it has one.
pub(super) fn order_closure_state(
    store: &Store,
    conn_id: &str,
    order_number: &str,
) -> CoreResult<Option<(String, u32, u32)>> {
    store.query(|db| {
        db.query_opt(
            "SELECT status, attempts, max_attempts FROM omie_po_closures WHERE connection_id=?1 AND order_number=?2 AND item=''",
            vals![conn_id, order_number],
        )?
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()
    })
}

/// The connection's failed and pending closures with attempts left, oldest first.
pub(super) fn pending_closures(store: &Store, conn_id: &str) -> CoreResult<Vec<PendingClosure>> {
    store.query(|db| {
        db.query(
            "SELECT order_number, item, service_invoice_number, service_invoice_id, source, payable_id FROM omie_po_closures
             WHERE connection_id=?1 AND status IN ('failed','pending') AND attempts < max_attempts ORDER BY created_at",
            vals![conn_id],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .collect()
    })
}

const CLOSURE_COLS: &str = "id, connection_id, order_number, item, order_id, service_invoice_number, service_invoice_id, payable_id, source, status, outcome, attempts, max_attempts, previous_stage, previous_status, new_stage, new_status, call_used, error, error_code, job_id, created_at, updated_at";

/// An error column (JSON of an ApiError, or the English text older versions kept) with its code.
fn stored_error(r: &Row, text: usize, code: usize) -> CoreResult<Option<ApiError>> {
    let t: Option<String> = r.get(text)?;
    let c: Option<String> = r.get(code)?;
    Ok(t.map(|t| ApiError::from_stored(&t, c.as_deref())))
}

fn closure_from_row(r: &Row) -> CoreResult<OmiePoClosure> {
    Ok(OmiePoClosure {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        order_number: r.get(2)?,
        item: r.get(3)?,
        order_id: r.get(4)?,
        service_invoice_number: r.get(5)?,
        service_invoice_id: r.get(6)?,
        payable_id: r.get(7)?,
        source: r.get(8)?,
        status: r.get(9)?,
        outcome: r.get(10)?,
        attempts: r.get(11)?,
        max_attempts: r.get(12)?,
        previous_stage: r.get(13)?,
        previous_status: r.get(14)?,
        new_stage: r.get(15)?,
        new_status: r.get(16)?,
        call_used: r.get(17)?,
        error: stored_error(r, 18, 19)?,
        error_code: r.get(19)?,
        job_id: r.get(20)?,
        created_at: r.get(21)?,
        updated_at: r.get(22)?,
    })
}

/// The connection's closure log, newest first, optionally of one status, at most `limit` rows.
pub(super) fn closures(
    store: &Store,
    conn_id: &str,
    status: Option<&str>,
    limit: u32,
) -> CoreResult<Vec<OmiePoClosure>> {
    store.query(|db| {
        db.query(
            &format!(
                "SELECT {CLOSURE_COLS} FROM omie_po_closures WHERE connection_id=?1 AND (CAST(?2 AS TEXT) IS NULL OR status=?2)
                 ORDER BY updated_at DESC, rowid DESC LIMIT ?3"
            ),
            vals![conn_id, status, limit],
        )?
        .iter()
        .map(closure_from_row)
        .collect()
    })
}

// ---- The shared consumption budget -------------------------------------------------------------

/// How long a call may stay "in flight" before it is taken for the call of a process that died
/// without a trace (the HTTP timeout is 60 s). On Linux a dead process's calls are freed at once.
const IN_FLIGHT_STALE_MS: i64 = 90_000;

/// Whether the process that recorded a call in flight still runs (a process killed mid-call, by a
/// crash or SIGKILL, never frees its slot itself).
fn process_alive(pid: i64) -> bool {
    if pid == i64::from(std::process::id()) {
        return true;
    }
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}
/// What is kept of sends and answers (a little over the one-minute windows).
const KEEP_MS: i64 = 125_000;

/// Omie's budget of one host in the store: every process on this database spends it together
/// (see `limiter::SharedBudget`). Keys are stored as `key_id(host, key)`.
pub struct StoreBudget {
    pub store: Store,
    pub host: String,
}

fn ms(d: std::time::Duration) -> i64 {
    d.as_millis() as i64
}

fn dur(ms: i64) -> std::time::Duration {
    std::time::Duration::from_millis(ms.max(0) as u64)
}

impl StoreBudget {
    fn key(&self, app_key: &str) -> String {
        super::key_id(&self.host, app_key)
    }
}

impl SharedBudget for StoreBudget {
    fn step(
        &self,
        ask: &Ask<'_>,
        decide: &mut (dyn FnMut(&View) -> Step + Send),
    ) -> Result<(Step, Option<String>), String> {
        let kid = self.key(ask.app_key);
        let now = ms(ask.now);
        let since = now - 62_000;
        self.store
            .tx(|db| {
                // One step at a time per key, whichever process or desk takes it (on SQLite the
                // write transaction already is).
                take_turns(db, &format!("omie_budget:{kid}"))?;
                db.execute("DELETE FROM omie_budget_sends WHERE at_ms < ?1", vals![now - KEEP_MS])?;
                db.execute("DELETE FROM omie_budget_in_flight WHERE since_ms < ?1", vals![now - IN_FLIGHT_STALE_MS])?;
                // Calls in flight of a process of this computer that is gone are freed at once;
                // another desk's can only expire by age.
                let pids: Vec<i64> = db
                    .query(
                        "SELECT DISTINCT pid FROM omie_budget_in_flight WHERE host IS NULL OR host = ?1",
                        vals![this_host()],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect::<CoreResult<_>>()?;
                for pid in pids.into_iter().filter(|p| !process_alive(*p)) {
                    db.execute(
                        "DELETE FROM omie_budget_in_flight WHERE pid=?1 AND (host IS NULL OR host = ?2)",
                        vals![pid, this_host()],
                    )?;
                }
                db.execute("DELETE FROM omie_budget_answers WHERE at_ms < ?1", vals![now - KEEP_MS])?;
                db.execute("DELETE FROM omie_budget_waits WHERE until_ms < ?1", vals![now])?;
                let method_sends: Vec<std::time::Duration> = db
                    .query(
                        "SELECT at_ms FROM omie_budget_sends WHERE host=?1 AND key_id=?2 AND method=?3 AND at_ms>?4 ORDER BY at_ms",
                        vals![self.host, kid, ask.method, since],
                    )?
                    .iter()
                    .map(|r| r.get::<i64>(0).map(dur))
                    .collect::<CoreResult<_>>()?;
                let host_sends: Vec<std::time::Duration> = db
                    .query(
                        "SELECT at_ms FROM omie_budget_sends WHERE host=?1 AND at_ms>?2 ORDER BY at_ms",
                        vals![self.host, since],
                    )?
                    .iter()
                    .map(|r| r.get::<i64>(0).map(dur))
                    .collect::<CoreResult<_>>()?;
                let in_flight: u32 = db.one(
                    "SELECT count(*) FROM omie_budget_in_flight WHERE key_id=?1 AND method=?2",
                    vals![kid, ask.method],
                )?;
                let answer = match db.query_opt(
                    "SELECT at_ms, value FROM omie_budget_answers WHERE key_id=?1 AND fingerprint=?2",
                    vals![kid, ask.fingerprint],
                )? {
                    Some(r) => {
                        let (at, v): (i64, Option<String>) = (r.get(0)?, r.get(1)?);
                        Some((dur(at), v.and_then(|v| serde_json::from_str(&v).ok())))
                    }
                    None => None,
                };
                let not_before: Option<i64> = db.one(
                    "SELECT max(until_ms) FROM omie_budget_waits WHERE key_id=?1 AND scope IN (?2, ?3)",
                    vals![kid, format!("m:{}", ask.method), format!("c:{}", ask.fingerprint)],
                )?;
                let view = View { method_sends, host_sends, in_flight, answer, not_before: not_before.map(dur) };
                let step = decide(&view);
                if step != Step::Go {
                    return Ok((step, None));
                }
                if super::limiter::is_write(ask.method) {
                    // A write about to be sent makes the service's cached reads stale now, not when
                    // its answer comes: if this process dies before the answer, another one must
                    // read the record again, not our answer from before the write.
                    db.execute(
                        "UPDATE omie_budget_answers SET value=NULL WHERE key_id=?1 AND service=?2",
                        vals![kid, ask.service],
                    )?;
                }
                db.execute(
                    "INSERT INTO omie_budget_sends (host, key_id, method, at_ms) VALUES (?1, ?2, ?3, ?4)",
                    vals![self.host, kid, ask.method, now],
                )?;
                let token = uuid::Uuid::new_v4().to_string();
                db.execute(
                    "INSERT INTO omie_budget_in_flight (token, key_id, method, since_ms, pid, host) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    vals![token, kid, ask.method, now, std::process::id(), this_host()],
                )?;
                Ok((step, Some(token)))
            })
            .map_err(|e| e.to_string())
    }

    fn release(&self, token: &str) {
        let r = self.store.tx(|db| db.execute("DELETE FROM omie_budget_in_flight WHERE token=?1", vals![token]));
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not free a call in the shared Omie budget (it expires by itself)");
        }
    }

    fn answered(&self, ask: &Ask<'_>, write: bool, value: Option<&Value>) {
        let kid = self.key(ask.app_key);
        let text = value.and_then(|v| serde_json::to_string(v).ok());
        let r = self.store.tx(|db| {
            if write {
                db.execute(
                    "UPDATE omie_budget_answers SET value=NULL WHERE key_id=?1 AND service=?2",
                    vals![kid, ask.service],
                )?;
            }
            db.execute(
                "INSERT INTO omie_budget_answers (key_id, fingerprint, service, at_ms, value) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(key_id, fingerprint) DO UPDATE SET service=excluded.service, at_ms=excluded.at_ms, value=excluded.value",
                vals![kid, ask.fingerprint, ask.service, ms(ask.now), text],
            )?;
            Ok(())
        });
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record an answer in the shared Omie budget");
        }
    }

    fn defer(&self, ask: &Ask<'_>, call: bool, until: std::time::Duration) {
        let kid = self.key(ask.app_key);
        let scope = if call { format!("c:{}", ask.fingerprint) } else { format!("m:{}", ask.method) };
        let r = self.store.tx(|db| {
            db.execute(
                "INSERT INTO omie_budget_waits (key_id, scope, until_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key_id, scope) DO UPDATE SET until_ms=CASE WHEN excluded.until_ms > omie_budget_waits.until_ms
                     THEN excluded.until_ms ELSE omie_budget_waits.until_ms END",
                vals![kid, scope, ms(until)],
            )?;
            Ok(())
        });
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record a wait in the shared Omie budget");
        }
    }
}

/// An Omie failure as a quarantine reason: its text in the Omie page's dictionary, with its params.
fn quarantine_reason(e: &super::OmieError) -> crate::sync::Reason {
    crate::sync::Reason { key: format!("omie.errors.{}", e.code()), params: e.params(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::erp::omie::limiter::OmieLimits;
    use crate::store::test_support::team_database;

    /// Two stores on one file stand for two processes.
    fn two(dir: &tempfile::TempDir) -> (StoreBudget, StoreBudget) {
        let path = dir.path().join("b.db");
        let a = Store::open(&path).unwrap();
        let b = Store::open(&path).unwrap();
        (StoreBudget { store: a, host: "omie.test".into() }, StoreBudget { store: b, host: "omie.test".into() })
    }

    fn ask<'a>(fp: &'a str, now: Duration) -> Ask<'a> {
        Ask { app_key: "KEY", method: "ListarClientes", fingerprint: fp, service: "geral/clientes/", now }
    }

    #[test]
    fn two_processes_share_the_rate_window_the_answers_and_the_calls_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = two(&dir);
        share_one_budget(a, b);
    }

    /// Two desks on one team database: the key's budget is the team's, not each desk's.
    #[test]
    fn two_desks_on_a_team_database_share_the_rate_window_the_answers_and_the_calls_in_flight() {
        let url = team_database();
        let desk = || StoreBudget { store: Store::open_team(&url).unwrap(), host: "omie.test".into() };
        share_one_budget(desk(), desk());
    }

    /// Desks asking at the same instant take turns: together they never send more than the
    /// minute's budget (without the turn, each would see the other's sends only after both sent).
    #[test]
    fn desks_asking_at_once_on_a_team_database_never_overspend() {
        let url = team_database();
        let limits = OmieLimits { per_method_per_min: 3, read_concurrency: 64, ..Default::default() };
        let t0 = Duration::from_secs(1_800_000_000);
        let desks: Vec<_> = (0..2)
            .map(|_| {
                std::sync::Arc::new(StoreBudget { store: Store::open_team(&url).unwrap(), host: "omie.test".into() })
            })
            .collect();
        // Eight askers, four per desk, each with a connection of its own already made (the pool
        // keeps four per desk), let go at the same instant.
        let (warm, gate) =
            (std::sync::Arc::new(std::sync::Barrier::new(8)), std::sync::Arc::new(std::sync::Barrier::new(8)));
        let asks: Vec<_> = (0..8)
            .map(|i| {
                let (desk, warm, gate, limits) = (desks[i % 2].clone(), warm.clone(), gate.clone(), limits.clone());
                std::thread::spawn(move || {
                    let fp = format!("p{i}");
                    desk.store
                        .query(|db| {
                            warm.wait();
                            db.one::<i64>("SELECT 1", crate::vals![])
                        })
                        .unwrap();
                    gate.wait();
                    desk.step(&ask(&fp, t0), &mut |v| limits.decide(v, t0, false)).unwrap().0
                })
            })
            .collect();
        let steps: Vec<Step> = asks.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(steps.iter().filter(|s| **s == Step::Go).count(), 3, "{steps:?}");
    }

    fn share_one_budget(a: StoreBudget, b: StoreBudget) {
        let limits = OmieLimits { per_method_per_min: 3, read_concurrency: 2, ..Default::default() };
        let t0 = Duration::from_secs(1_800_000_000);
        let go = |budget: &StoreBudget, fp: &str, now: Duration| {
            budget.step(&ask(fp, now), &mut |v| limits.decide(v, now, false)).unwrap()
        };
        // Process A spends the minute's budget of the method (and holds two calls in flight).
        let (s1, t1) = go(&a, "p1", t0);
        let (s2, t2) = go(&a, "p2", t0 + Duration::from_millis(10));
        assert_eq!((s1, s2), (Step::Go, Step::Go));
        // Both slots are taken, by another process: B waits.
        assert!(matches!(go(&b, "p3", t0 + Duration::from_millis(20)).0, Step::Wait(_)));
        a.release(&t1.unwrap());
        a.release(&t2.unwrap());
        assert_eq!(go(&b, "p3", t0 + Duration::from_millis(30)).0, Step::Go);
        // Three sends in the window: a fourth, from A, waits until the first leaves the window.
        match go(&a, "p4", t0 + Duration::from_millis(40)).0 {
            Step::Wait(until) => assert_eq!(until, t0 + Duration::from_secs(61)),
            other => panic!("expected a wait, got {other:?}"),
        }
        // An identical read A was answered is served to B from the store, within the window.
        let now = t0 + Duration::from_secs(2);
        a.answered(&ask("p1", now), false, Some(&json!({"clientes": [1, 2]})));
        assert_eq!(go(&b, "p1", now + Duration::from_secs(5)).0, Step::Cached(json!({"clientes": [1, 2]})));
        // A write to the service drops the cached read: the identical call then waits out the window.
        let w = Ask { method: "AlterarCliente", fingerprint: "w1", ..ask("w1", now + Duration::from_secs(6)) };
        a.answered(&w, true, None);
        assert!(matches!(go(&b, "p1", now + Duration::from_secs(7)).0, Step::Wait(_)));
        // "Not before" marks Omie asked for hold for every process.
        let other = Ask { method: "ListarProdutos", ..ask("p9", now) };
        b.defer(&other, false, now + Duration::from_secs(30));
        let later = Ask { now: now + Duration::from_secs(8), ..other };
        let (step, _) = a.step(&later, &mut |v| limits.decide(v, later.now, false)).unwrap();
        assert_eq!(step, Step::Wait(now + Duration::from_secs(30)), "a method deferral holds in the other process");
    }

    #[test]
    fn a_call_in_flight_of_a_process_that_died_is_freed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = two(&dir);
        let limits = OmieLimits { write_concurrency: 1, ..Default::default() };
        let now = Duration::from_secs(1_800_000_000);
        let write = Ask { method: "IncluirAnexo", ..ask("x", now) };
        // A process that no longer exists left a write in flight (killed mid-call).
        a.store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO omie_budget_in_flight (token, key_id, method, since_ms, pid) VALUES ('t', ?1, 'IncluirAnexo', ?2, ?3)",
                    rusqlite::params![a.key("KEY"), ms(now), i64::from(u32::MAX - 7)],
                )?;
                Ok(())
            })
            .unwrap();
        let (step, _) = a.step(&write, &mut |v| limits.decide(v, now, true)).unwrap();
        assert_eq!(step, Step::Go, "the dead process's slot was freed");
    }
}
