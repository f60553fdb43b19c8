//! The contracts tables and the reads of the synced billing data (Omie receivables, Contífico sales
//! documents) the reconciliation sums. The only place the contracts' SQL lives.

use std::str::FromStr;

use rusqlite::{params, OptionalExtension, Row, Transaction};
use rust_decimal::Decimal;

use super::{Contract, ContractChange, Draft};
use crate::error::CoreResult;
use crate::store::{now_utc, Store};

const COLS: &str = "id, connection_id, client_document, client_code, client_name, description, mrr, currency, \
    start_date, end_date, billing_day, status, readjust_index, readjust_month, readjust_percent, \
    tolerance_amount, tolerance_percent, notes, version, updated_at, updated_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Contract> {
    Ok(Contract {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        client_document: r.get(2)?,
        client_code: r.get(3)?,
        client_name: r.get(4)?,
        description: r.get(5)?,
        mrr: r.get(6)?,
        currency: r.get(7)?,
        start_date: r.get(8)?,
        end_date: r.get(9)?,
        billing_day: r.get(10)?,
        status: r.get(11)?,
        readjust_index: r.get(12)?,
        readjust_month: r.get(13)?,
        readjust_percent: r.get(14)?,
        tolerance_amount: r.get(15)?,
        tolerance_percent: r.get(16)?,
        notes: r.get(17)?,
        version: r.get(18)?,
        updated_at: r.get(19)?,
        updated_by: r.get(20)?,
    })
}

pub(super) fn list(store: &Store, connection: Option<&str>) -> CoreResult<Vec<Contract>> {
    store.read(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {COLS} FROM contracts WHERE (?1 IS NULL OR connection_id=?1)
              ORDER BY client_name COLLATE NOCASE, start_date, description"
        ))?;
        let rows = st.query_map([connection], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

pub(super) fn get(store: &Store, id: &str) -> CoreResult<Option<Contract>> {
    store.read(|c| Ok(c.query_row(&format!("SELECT {COLS} FROM contracts WHERE id=?1"), [id], from_row).optional()?))
}

/// The contract with the same natural key (connection, client, description, start), if any.
pub(super) fn find_same(store: &Store, d: &Draft) -> CoreResult<Option<Contract>> {
    store.read(|c| {
        Ok(c.query_row(
            &format!(
                "SELECT {COLS} FROM contracts WHERE connection_id=?1 AND client_code=?2
                   AND description=?3 AND start_date=?4"
            ),
            params![d.connection_id, d.client_code, d.description, d.start_date],
            from_row,
        )
        .optional()?)
    })
}

/// A change stamp of the whole book: it changes when any contract is saved or deleted.
pub(super) fn stamp(store: &Store) -> CoreResult<String> {
    store.read(|c| {
        Ok(c.query_row("SELECT coalesce(max(changed_at), '') || '#' || count(*) FROM contract_history", [], |r| {
            r.get(0)
        })?)
    })
}

/// Writes drafts (new or changed) in one transaction, each with a history row; returns the ids.
pub(super) fn save_all(
    store: &Store,
    drafts: &[Draft],
    who: &str,
    machine: &str,
    reason: &str,
) -> CoreResult<Vec<String>> {
    store.write(|tx| {
        let now = now_utc();
        let mut ids = Vec::with_capacity(drafts.len());
        for d in drafts {
            ids.push(save_one(tx, d, who, machine, reason, &now)?);
        }
        Ok(ids)
    })
}

fn save_one(tx: &Transaction<'_>, d: &Draft, who: &str, machine: &str, reason: &str, now: &str) -> CoreResult<String> {
    let existing: Option<(String, u32)> = match &d.id {
        Some(id) => tx.query_row("SELECT id, version FROM contracts WHERE id=?1", [id], |r| Ok((r.get(0)?, r.get(1)?))),
        None => tx.query_row(
            "SELECT id, version FROM contracts WHERE connection_id=?1 AND client_code=?2 AND description=?3 AND start_date=?4",
            params![d.connection_id, d.client_code, d.description, d.start_date],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ),
    }
    .optional()?;
    let (id, version) = match existing {
        Some((id, v)) => (id, v + 1),
        None => (d.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()), 1),
    };
    tx.execute(
        "INSERT INTO contracts (id, connection_id, client_document, client_code, client_name, description, mrr,
             currency, start_date, end_date, billing_day, status, readjust_index, readjust_month, readjust_percent,
             tolerance_amount, tolerance_percent, notes, version, created_at, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?20, ?21)
         ON CONFLICT(id) DO UPDATE SET connection_id=excluded.connection_id, client_document=excluded.client_document,
             client_code=excluded.client_code, client_name=excluded.client_name, description=excluded.description,
             mrr=excluded.mrr, currency=excluded.currency, start_date=excluded.start_date, end_date=excluded.end_date,
             billing_day=excluded.billing_day, status=excluded.status, readjust_index=excluded.readjust_index,
             readjust_month=excluded.readjust_month, readjust_percent=excluded.readjust_percent,
             tolerance_amount=excluded.tolerance_amount, tolerance_percent=excluded.tolerance_percent,
             notes=excluded.notes, version=excluded.version, updated_at=excluded.updated_at,
             updated_by=excluded.updated_by",
        params![
            id,
            d.connection_id,
            d.client_document,
            d.client_code,
            d.client_name,
            d.description,
            d.mrr.to_string(),
            d.currency,
            d.start_date,
            d.end_date,
            d.billing_day,
            d.status,
            d.readjust_index,
            d.readjust_month,
            d.readjust_percent.map(|p| p.to_string()),
            d.tolerance_amount.map(|p| p.to_string()),
            d.tolerance_percent.map(|p| p.to_string()),
            d.notes,
            version,
            now,
            who,
        ],
    )?;
    let definition: String =
        tx.query_row(&format!("SELECT json_array({}) FROM contracts WHERE id=?1", COLS), [&id], |r| r.get(0))?;
    tx.execute(
        "INSERT INTO contract_history (contract_id, version, definition, changed_at, changed_by, machine, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, version, definition, now, who, machine, reason],
    )?;
    Ok(id)
}

pub(super) fn delete(store: &Store, id: &str, who: &str, machine: &str, reason: &str) -> CoreResult<bool> {
    store.write(|tx| {
        let version: Option<u32> =
            tx.query_row("SELECT version FROM contracts WHERE id=?1", [id], |r| r.get(0)).optional()?;
        let Some(version) = version else { return Ok(false) };
        tx.execute(
            "INSERT INTO contract_history (contract_id, version, definition, changed_at, changed_by, machine, reason)
             VALUES (?1, ?2, 'null', ?3, ?4, ?5, ?6)",
            params![id, version + 1, now_utc(), who, machine, reason],
        )?;
        tx.execute("DELETE FROM contracts WHERE id=?1", [id])?;
        Ok(true)
    })
}

/// The changes of a contract, newest first.
pub(super) fn history(store: &Store, id: &str) -> CoreResult<Vec<ContractChange>> {
    store.read(|c| {
        let mut st = c.prepare(
            "SELECT version, changed_at, changed_by, machine, reason, definition = 'null'
               FROM contract_history WHERE contract_id=?1 ORDER BY version DESC",
        )?;
        let rows = st.query_map([id], |r| {
            Ok(ContractChange {
                version: r.get(0)?,
                changed_at: r.get(1)?,
                who: r.get(2)?,
                machine: r.get(3)?,
                reason: r.get(4)?,
                deleted: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

// ---------------------------------------------------------------------------------------------
// The synced billing data

/// Where an ERP keeps what was billed, and how its columns read.
pub(super) struct Source {
    pub erp: &'static str,
    table: &'static str,
    /// The client key of a title (an expression over the table's columns).
    client: &'static str,
    /// The date column for the basis `emission`, `due`, `registration`.
    dates: [&'static str; 3],
    status: &'static str,
    /// The amount, signed (credit notes subtract).
    amount: &'static str,
    number: &'static str,
    filter: &'static str,
    pub cancelled: &'static [&'static str],
    pub partial: &'static [&'static str],
    pub currency: &'static str,
    clients_table: &'static str,
    /// Key, name and document of a client in `clients_table`.
    client_cols: [&'static str; 3],
    pub resource: &'static str,
}

pub(super) const OMIE: Source = Source {
    erp: "omie",
    table: "omie_contas_receber",
    client: "codigo_cliente_fornecedor",
    dates: ["data_emissao", "data_vencimento", "data_registro"],
    status: "status_titulo",
    amount: "valor_documento",
    number: "numero_documento",
    filter: "1",
    cancelled: &["CANCELADO"],
    partial: &["PAGTO_PARCIAL"],
    currency: "BRL",
    clients_table: "omie_clientes",
    client_cols: ["id", "razao_social", "cnpj_cpf"],
    resource: "contas_receber",
};

/// Contífico sales documents: invoices count, credit notes subtract, annulled ones never count.
/// The client is its RUC (or cédula). Contífico's list has no registration date: the basis
/// `registration` reads the emission date there.
pub(super) const CONTIFICO: Source = Source {
    erp: "contifico",
    table: "contifico_documento_venta",
    client: "coalesce(nullif(json_extract(raw, '$.cliente.ruc'), ''), nullif(json_extract(raw, '$.cliente.cedula'), ''), persona_id)",
    dates: ["fecha_emision", "fecha_vencimiento", "fecha_emision"],
    status: "estado",
    amount: "CASE WHEN tipo_documento = 'NCT' THEN '-' || total ELSE total END",
    number: "documento",
    filter: "tipo_documento IN ('FAC', 'NCT')",
    cancelled: &["A"],
    partial: &[],
    currency: "USD",
    clients_table: "contifico_persona",
    client_cols: ["coalesce(nullif(ruc, ''), nullif(cedula, ''), id)", "razon_social", "coalesce(nullif(ruc, ''), cedula)"],
    resource: "documentos_venta",
};

pub(super) fn source_of(erp: &str) -> Option<&'static Source> {
    match erp {
        "omie" => Some(&OMIE),
        "contifico" => Some(&CONTIFICO),
        _ => None,
    }
}

/// One billed title as the reconciliation reads it, borrowed from the query's row (a million
/// titles are read without copying their texts; the caller keeps what it needs).
#[derive(Debug, Clone, Copy)]
pub(super) struct TitleRow<'a> {
    pub id: &'a str,
    pub client: &'a str,
    pub date: &'a str,
    pub status: &'a str,
    pub amount: Decimal,
    pub number: &'a str,
}

fn table_exists(c: &rusqlite::Connection, t: &str) -> rusqlite::Result<bool> {
    c.query_row("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1", [t], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)
}

/// How the titles of a period are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// A few months: found through the date index.
    Months,
    /// A long period (most of the table): one pass over the table in its own order. Through the
    /// index every row costs a seek into the table; a year or two of a million titles reads 2×
    /// faster in one pass (measured by `cargo xtask bench reconcile`).
    Period,
}

/// Streams the titles of a connection dated in `[from, to]` (ISO dates) by the basis column to
/// `f`, optionally of one client. Amounts that are not numbers are reported by id.
#[allow(clippy::too_many_arguments)]
pub(super) fn each_title(
    store: &Store,
    src: &Source,
    connection: &str,
    basis: usize,
    from: &str,
    to: &str,
    client: Option<&str>,
    reach: Reach,
    mut f: impl FnMut(TitleRow<'_>),
) -> CoreResult<Vec<(String, String)>> {
    store.read(|c| {
        let mut bad = vec![];
        if !table_exists(c, src.table)? {
            return Ok(bad);
        }
        let date = src.dates[basis];
        // `NOT INDEXED`: every index of a synced table starts with the connection, so SQLite would
        // otherwise still pick one and seek into the table once per row.
        let indexed = if reach == Reach::Period && client.is_none() { "NOT INDEXED" } else { "" };
        let sql = format!(
            "SELECT id, {client}, {date}, coalesce({status}, ''), {amount}, coalesce({number}, '')
               FROM \"{table}\" {indexed}
              WHERE connection_id=?1 AND deleted_at IS NULL AND {date} >= ?2 AND {date} <= ?3 AND {filter}
                AND (?4 IS NULL OR {client} = ?4)",
            client = src.client,
            status = src.status,
            amount = src.amount,
            number = src.number,
            table = src.table,
            filter = src.filter,
        );
        let mut st = c.prepare_cached(&sql)?;
        let mut rows = st.query(params![connection, from, to, client])?;
        // A text column as borrowed text ("" for NULL).
        fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
            match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Ok(""),
                v => v.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e))),
            }
        }
        while let Some(r) = rows.next()? {
            let id = text(r, 0)?;
            let raw = match r.get_ref(4)? {
                rusqlite::types::ValueRef::Null => None,
                v => Some(v.as_str().unwrap_or_default()),
            };
            let amount = match raw.map(|s| Decimal::from_str(s.trim_start_matches("--"))) {
                Some(Ok(a)) => a,
                _ => {
                    bad.push((id.to_string(), raw.unwrap_or_default().to_string()));
                    continue;
                }
            };
            f(TitleRow {
                id,
                client: text(r, 1)?,
                date: text(r, 2)?,
                status: text(r, 3)?,
                amount,
                number: text(r, 5)?,
            });
        }
        Ok(bad)
    })
}

/// The ERP's clients of a connection: (key, name, document as stored).
pub(super) fn clients(store: &Store, src: &Source, connection: &str) -> CoreResult<Vec<(String, String, String)>> {
    store.read(|c| {
        if !table_exists(c, src.clients_table)? {
            return Ok(vec![]);
        }
        let [k, n, d] = src.client_cols;
        let mut st = c.prepare(&format!(
            "SELECT {k}, coalesce({n}, ''), coalesce({d}, '') FROM \"{t}\" WHERE connection_id=?1 AND deleted_at IS NULL",
            t = src.clients_table
        ))?;
        let rows = st.query_map([connection], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

/// When the billing data was last read whole without error: (finished_at, status) of the newest
/// finished sync of the connection.
pub(super) fn billing_as_of(store: &Store, connection: &str) -> CoreResult<Option<(String, String)>> {
    store.read(|c| {
        Ok(c.query_row(
            "SELECT finished_at, status FROM sync_runs WHERE connection_id=?1 AND finished_at IS NOT NULL
              ORDER BY finished_at DESC LIMIT 1",
            [connection],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
    })
}

/// The newest successful sync of the connection (the billing data is as of then).
pub(super) fn last_good_sync(store: &Store, connection: &str) -> CoreResult<Option<String>> {
    store.read(|c| {
        Ok(c.query_row(
            "SELECT max(finished_at) FROM sync_runs WHERE connection_id=?1 AND status='succeeded'",
            [connection],
            |r| r.get(0),
        )?)
    })
}
