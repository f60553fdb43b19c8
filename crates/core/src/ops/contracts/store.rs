//! The contracts tables and the reads of the synced billing data (Omie receivables, Contífico sales
//! documents) the reconciliation sums. The only place the contracts' SQL lives.

use std::str::FromStr;

use rusqlite::params;
use rust_decimal::Decimal;

use super::{Contract, ContractChange, Draft};
use crate::error::CoreResult;
use crate::store::db::{table_exists, Dialect, SqliteDb};
use crate::store::{now_utc, Backend, Db, Row, Store, Value};
use crate::vals;

const COLS: &str = "id, connection_id, client_document, client_code, client_name, description, mrr, currency, \
    start_date, end_date, billing_day, status, readjust_index, readjust_month, readjust_percent, \
    tolerance_amount, tolerance_percent, notes, version, updated_at, updated_by";

fn from_row(r: &Row) -> CoreResult<Contract> {
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
    store.query(|db| {
        db.query(
            &format!(
                "SELECT {COLS} FROM contracts WHERE (CAST(?1 AS TEXT) IS NULL OR connection_id=?1)
                  ORDER BY lower(client_name), start_date, description"
            ),
            vals![connection],
        )?
        .iter()
        .map(from_row)
        .collect()
    })
}

pub(super) fn get(store: &Store, id: &str) -> CoreResult<Option<Contract>> {
    store.query(|db| {
        db.query_opt(&format!("SELECT {COLS} FROM contracts WHERE id=?1"), vals![id])?.map(|r| from_row(&r)).transpose()
    })
}

/// The contract with the same natural key (connection, client, description, start), if any.
pub(super) fn find_same(store: &Store, d: &Draft) -> CoreResult<Option<Contract>> {
    store.query(|db| {
        db.query_opt(
            &format!(
                "SELECT {COLS} FROM contracts WHERE connection_id=?1 AND client_code=?2
                   AND description=?3 AND start_date=?4"
            ),
            vals![d.connection_id, d.client_code, d.description, d.start_date],
        )?
        .map(|r| from_row(&r))
        .transpose()
    })
}

/// A change stamp of the whole book: it changes when any contract is saved or deleted.
pub(super) fn stamp(store: &Store) -> CoreResult<String> {
    store.query(|db| {
        let r = db.query_one("SELECT coalesce(max(changed_at), ''), count(*) FROM contract_history", vals![])?;
        Ok(format!("{}#{}", r.get::<String>(0)?, r.get::<i64>(1)?))
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
    store.tx(|db| {
        let now = now_utc();
        let mut ids = Vec::with_capacity(drafts.len());
        for d in drafts {
            ids.push(save_one(db, d, who, machine, reason, &now)?);
        }
        Ok(ids)
    })
}

/// A stored row as the JSON array of its values (the history keeps each version so).
fn row_json(r: &Row) -> CoreResult<String> {
    let values = (0..r.len())
        .map(|i| {
            Ok(match r.get::<Value>(i)? {
                Value::Null => serde_json::Value::Null,
                Value::Int(n) => n.into(),
                Value::Real(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
                Value::Text(t) => t.into(),
                Value::Blob(b) => String::from_utf8_lossy(&b).into_owned().into(),
            })
        })
        .collect::<CoreResult<Vec<serde_json::Value>>>()?;
    Ok(serde_json::Value::Array(values).to_string())
}

fn save_one(db: &mut dyn Db, d: &Draft, who: &str, machine: &str, reason: &str, now: &str) -> CoreResult<String> {
    let existing = match &d.id {
        Some(id) => db.query_opt("SELECT id, version FROM contracts WHERE id=?1", vals![id])?,
        None => db.query_opt(
            "SELECT id, version FROM contracts WHERE connection_id=?1 AND client_code=?2 AND description=?3 AND start_date=?4",
            vals![d.connection_id, d.client_code, d.description, d.start_date],
        )?,
    };
    let (id, version) = match existing {
        Some(r) => (r.get::<String>(0)?, r.get::<u32>(1)? + 1),
        None => (d.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()), 1),
    };
    db.execute(
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
        vals![
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
    let definition = row_json(&db.query_one(&format!("SELECT {COLS} FROM contracts WHERE id=?1"), vals![id])?)?;
    db.execute(
        "INSERT INTO contract_history (contract_id, version, definition, changed_at, changed_by, machine, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        vals![id, version, definition, now, who, machine, reason],
    )?;
    Ok(id)
}

pub(super) fn delete(store: &Store, id: &str, who: &str, machine: &str, reason: &str) -> CoreResult<bool> {
    store.tx(|db| {
        let Some(row) = db.query_opt("SELECT version FROM contracts WHERE id=?1", vals![id])? else { return Ok(false) };
        let version: u32 = row.get(0)?;
        db.execute(
            "INSERT INTO contract_history (contract_id, version, definition, changed_at, changed_by, machine, reason)
             VALUES (?1, ?2, 'null', ?3, ?4, ?5, ?6)",
            vals![id, version + 1, now_utc(), who, machine, reason],
        )?;
        db.execute("DELETE FROM contracts WHERE id=?1", vals![id])?;
        Ok(true)
    })
}

/// The changes of a contract, newest first.
pub(super) fn history(store: &Store, id: &str) -> CoreResult<Vec<ContractChange>> {
    store.query(|db| {
        db.query(
            "SELECT version, changed_at, changed_by, machine, reason, CASE WHEN definition = 'null' THEN 1 ELSE 0 END
               FROM contract_history WHERE contract_id=?1 ORDER BY version DESC",
            vals![id],
        )?
        .iter()
        .map(|r| {
            Ok(ContractChange {
                version: r.get(0)?,
                changed_at: r.get(1)?,
                who: r.get(2)?,
                machine: r.get(3)?,
                reason: r.get(4)?,
                deleted: r.get(5)?,
            })
        })
        .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// The synced billing data

/// Where an ERP keeps what was billed, and how its columns read.
pub(super) struct Source {
    pub erp: &'static str,
    table: &'static str,
    /// The client key of a title: the first of these fields of the stored record that is not
    /// empty, else the column `client`.
    client_fields: &'static [&'static str],
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
    client_fields: &[],
    client: "codigo_cliente_fornecedor",
    dates: ["data_emissao", "data_vencimento", "data_registro"],
    status: "status_titulo",
    amount: "valor_documento",
    number: "numero_documento",
    filter: "true",
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
    client_fields: &["cliente.ruc", "cliente.cedula"],
    client: "persona_id",
    dates: ["fecha_emision", "fecha_vencimiento", "fecha_emision"],
    status: "estado",
    amount: "CASE WHEN tipo_documento = 'NCT' THEN '-' || total ELSE total END",
    number: "documento",
    filter: "tipo_documento IN ('FAC', 'NCT')",
    cancelled: &["A"],
    partial: &[],
    currency: "USD",
    clients_table: "contifico_persona",
    client_cols: [
        "coalesce(nullif(ruc, ''), nullif(cedula, ''), id)",
        "razon_social",
        "coalesce(nullif(ruc, ''), cedula)",
    ],
    resource: "documentos_venta",
};

impl Source {
    /// The client key of a title, as SQL in `d`'s dialect.
    fn client_expr(&self, d: Dialect) -> String {
        if self.client_fields.is_empty() {
            return self.client.to_string();
        }
        let fields: Vec<String> =
            self.client_fields.iter().map(|f| format!("nullif({}, '')", d.json_text("raw", f))).collect();
        format!("coalesce({}, {})", fields.join(", "), self.client)
    }
}

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
    mut f: impl FnMut(TitleRow<'_>) + Send,
) -> CoreResult<Vec<(String, String)>> {
    let client_expr = src.client_expr(Dialect(store.backend()));
    let columns = |date: &str| {
        format!(
            "{client_expr}, {date}, coalesce({status}, ''), {amount}, coalesce({number}, '')",
            status = src.status,
            amount = src.amount,
            number = src.number,
        )
    };
    let date = src.dates[basis];
    // One title as read: its amount checked (a text that is not a number is reported by id).
    let mut bad = vec![];
    let mut title = |id: &str, client: &str, date: &str, status: &str, raw: Option<&str>, number: &str| match raw
        .map(|s| Decimal::from_str(s.trim_start_matches("--")))
    {
        Some(Ok(amount)) => f(TitleRow { id, client, date, status, amount, number }),
        _ => bad.push((id.to_string(), raw.unwrap_or_default().to_string())),
    };
    if store.backend() == Backend::Postgres {
        // A few thousand titles at a time, in rowid order: a long period need not be in memory at once.
        store.query(|db| {
            if !table_exists(db, src.table)? {
                return Ok(());
            }
            let sql = format!(
                "SELECT id, {cols}, rowid FROM \"{table}\"
                  WHERE connection_id=?1 AND deleted_at IS NULL AND {date} >= ?2 AND {date} <= ?3 AND {filter}
                    AND (CAST(?4 AS TEXT) IS NULL OR {client_expr} = ?4) AND rowid > ?5 ORDER BY rowid LIMIT 5000",
                cols = columns(date),
                table = src.table,
                filter = src.filter,
            );
            let mut after = i64::MIN;
            loop {
                let rows = db.query(&sql, vals![connection, from, to, client, after])?;
                let Some(last) = rows.last() else { return Ok(()) };
                after = last.get(6)?;
                for r in &rows {
                    let t = |i: usize| r.text(i).map(Option::unwrap_or_default);
                    title(t(0)?, t(1)?, t(2)?, t(3)?, r.text(4)?, t(5)?);
                }
            }
        })?;
        return Ok(bad);
    }
    store.read(|c| {
        if !table_exists(&mut SqliteDb(c), src.table)? {
            return Ok(());
        }
        // `NOT INDEXED`: every index of a synced table starts with the connection, so SQLite would
        // otherwise still pick one and seek into the table once per row.
        let indexed = if reach == Reach::Period && client.is_none() { "NOT INDEXED" } else { "" };
        let sql = format!(
            "SELECT id, {cols}
               FROM \"{table}\" {indexed}
              WHERE connection_id=?1 AND deleted_at IS NULL AND {date} >= ?2 AND {date} <= ?3 AND {filter}
                AND (?4 IS NULL OR {client_expr} = ?4)",
            cols = columns(date),
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
            let raw = match r.get_ref(4)? {
                rusqlite::types::ValueRef::Null => None,
                v => Some(v.as_str().unwrap_or_default()),
            };
            title(text(r, 0)?, text(r, 1)?, text(r, 2)?, text(r, 3)?, raw, text(r, 5)?);
        }
        Ok(())
    })?;
    Ok(bad)
}

/// The ERP's clients of a connection: (key, name, document as stored).
pub(super) fn clients(store: &Store, src: &Source, connection: &str) -> CoreResult<Vec<(String, String, String)>> {
    store.query(|db| {
        if !table_exists(db, src.clients_table)? {
            return Ok(vec![]);
        }
        let [k, n, d] = src.client_cols;
        db.query(
            &format!(
                "SELECT {k}, coalesce({n}, ''), coalesce({d}, '') FROM \"{t}\" WHERE connection_id=?1 AND deleted_at IS NULL",
                t = src.clients_table
            ),
            vals![connection],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect()
    })
}

/// Replaces what the last reconciliation found for `connection` in the months `from..=to` (every
/// client-month, within tolerance or not) in one transaction: a reader (the BI view) sees the
/// previous result or this one, never half of each. Months outside the range keep what an earlier
/// run found there.
pub(super) fn save_months(
    store: &Store,
    connection: &str,
    (from, to): (&str, &str),
    rows: &[super::ClientMonth],
    now: &str,
) -> CoreResult<u64> {
    store.tx(|db| {
        db.execute(
            "DELETE FROM billing_months WHERE connection_id=?1 AND month >= ?2 AND month <= ?3",
            vals![connection, from, to],
        )?;
        let mut it = rows.iter().map(|r| {
            vec![
                Some(connection),
                Some(r.month.as_str()),
                Some(r.client.as_str()),
                Some(r.client_name.as_str()),
                Some(r.client_document.as_str()),
                Some(r.contracted.as_str()),
                Some(r.billed.as_str()),
                Some(r.difference.as_str()),
                Some(r.tolerance.as_str()),
                Some(r.verdict.as_str()),
                Some(r.currency.as_str()),
                Some(now),
            ]
        });
        db.copy_text(
            "billing_months",
            &[
                "connection_id",
                "month",
                "client",
                "client_name",
                "client_document",
                "contracted",
                "billed",
                "difference",
                "tolerance",
                "verdict",
                "currency",
                "reconciled_at",
            ],
            &mut it,
        )
    })
}

/// When the billing data was last read whole without error: (finished_at, status) of the newest
/// finished sync of the connection.
pub(super) fn billing_as_of(store: &Store, connection: &str) -> CoreResult<Option<(String, String)>> {
    store.query(|db| {
        db.query_opt(
            "SELECT finished_at, status FROM sync_runs WHERE connection_id=?1 AND finished_at IS NOT NULL
              ORDER BY finished_at DESC LIMIT 1",
            vals![connection],
        )?
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .transpose()
    })
}

/// The newest successful sync of the connection (the billing data is as of then).
pub(super) fn last_good_sync(store: &Store, connection: &str) -> CoreResult<Option<String>> {
    store.query(|db| {
        db.one(
            "SELECT max(finished_at) FROM sync_runs WHERE connection_id=?1 AND status='succeeded'",
            vals![connection],
        )
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use rust_decimal::Decimal;

    use super::*;
    use crate::store::test_support::{add_omie_connection, team_database};

    fn draft(mrr: &str) -> Draft {
        Draft {
            id: Some("k1".into()),
            connection_id: "c1".into(),
            client_document: "11222333000181".into(),
            client_code: "C-7".into(),
            client_name: "Padaria Pão Quente".into(),
            description: "Suporte mensal".into(),
            mrr: Decimal::from_str(mrr).unwrap(),
            currency: "BRL".into(),
            start_date: "2026-01-01".into(),
            end_date: None,
            billing_day: Some(10),
            status: "active".into(),
            readjust_index: Some("IPCA".into()),
            readjust_month: Some(1),
            readjust_percent: Some(Decimal::from_str("4.5").unwrap()),
            tolerance_amount: None,
            tolerance_percent: None,
            notes: String::new(),
        }
    }

    /// The book and its history on one backend; returns each version's stored definition.
    fn book(store: &Store) -> Vec<serde_json::Value> {
        add_omie_connection(store);
        let before = stamp(store).unwrap();
        assert_eq!(save_all(store, &[draft("1500.00")], "ana", "desk-1", "new").unwrap(), vec!["k1".to_string()]);
        save_all(store, &[draft("1567.50")], "maria", "desk-2", "readjusted").unwrap();
        assert_ne!(stamp(store).unwrap(), before);
        let listed = list(store, Some("c1")).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].mrr.as_str(), listed[0].version), ("1567.50", 2));
        assert_eq!(list(store, None).unwrap().len(), 1);
        assert!(find_same(store, &Draft { id: None, ..draft("1") }).unwrap().is_some());
        assert!(delete(store, "k1", "ana", "desk-1", "client left").unwrap());
        assert!(!delete(store, "k1", "ana", "desk-1", "again").unwrap());
        assert!(get(store, "k1").unwrap().is_none());
        let h = history(store, "k1").unwrap();
        let seen: Vec<(u32, &str, bool)> = h.iter().map(|c| (c.version, c.who.as_str(), c.deleted)).collect();
        assert_eq!(seen, vec![(3, "ana", true), (2, "maria", false), (1, "ana", false)]);
        store
            .query(|db| {
                db.query("SELECT definition FROM contract_history WHERE contract_id = 'k1' ORDER BY version", vals![])?
                    .iter()
                    .map(|r| Ok(serde_json::from_str(&r.get::<String>(0)?).unwrap()))
                    .collect()
            })
            .unwrap()
    }

    #[test]
    fn the_contract_book_keeps_the_same_history_on_both_backends() {
        let dir = tempfile::tempdir().unwrap();
        let desk = book(&Store::open(&dir.path().join("c.db")).unwrap());
        let team = book(&Store::open_team(&team_database()).unwrap());
        // Every version's definition is the same array of values on both (its save time aside).
        let without_time = |v: &serde_json::Value| {
            let mut a = v.as_array().cloned().unwrap_or_default();
            if a.len() > 19 {
                a.remove(19);
            }
            a
        };
        assert_eq!(desk.len(), 3);
        assert_eq!(
            desk.iter().map(without_time).collect::<Vec<_>>(),
            team.iter().map(without_time).collect::<Vec<_>>()
        );
        assert_eq!(desk[1][6], serde_json::json!("1567.50"));
        assert_eq!(desk[1][10], serde_json::json!(10));
        assert_eq!(desk[2], serde_json::Value::Null);
    }
}
