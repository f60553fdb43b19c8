//! Browsing a synced resource: paging, sorting, column filters and full-text search (FTS5), all
//! parameterised (column names are checked against the resource's declaration, never interpolated
//! from input).

use rusqlite::params_from_iter;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ColKind, ResourceSpec};
use crate::error::{CoreError, CoreResult};
use crate::store::Store;

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ColumnFilter {
    pub column: String,
    /// `contains`, `eq`, `gte` or `lte`.
    pub op: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct BrowseQuery {
    pub connection_id: String,
    pub resource: String,
    pub offset: u32,
    pub limit: u32,
    pub sort: Option<String>,
    pub desc: bool,
    pub filters: Vec<ColumnFilter>,
    /// Full-text search over the resource's searchable fields.
    pub search: Option<String>,
    pub include_deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ColumnInfo {
    pub name: String,
    pub kind: ColKind,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct BrowseRow {
    pub id: String,
    pub values: Vec<Option<String>>,
    pub deleted_at: Option<String>,
    pub fetched_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct BrowsePage {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<BrowseRow>,
    #[ts(type = "number")]
    pub total: i64,
}

/// Turns free text into an FTS5 query of prefix terms, so punctuation typed by a user cannot break it.
fn fts_query(s: &str) -> Option<String> {
    let terms: Vec<String> =
        s.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(|t| format!("\"{t}\"*")).collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

pub fn browse(store: &Store, spec: &ResourceSpec, q: &BrowseQuery) -> CoreResult<BrowsePage> {
    let t = spec.table;
    let col = |name: &str| spec.columns.iter().find(|c| c.name == name);
    let mut wh = vec!["r.connection_id = ?".to_string()];
    let mut args: Vec<String> = vec![q.connection_id.clone()];
    if !q.include_deleted {
        wh.push("r.deleted_at IS NULL".into());
    }
    for f in &q.filters {
        let name = if f.column == "id" {
            "id"
        } else {
            col(&f.column)
                .map(|c| c.name)
                .ok_or_else(|| CoreError::invalid("column", format!("unknown column \"{}\"", f.column)))?
        };
        let numeric = col(name).is_some_and(|c| c.kind == ColKind::Decimal);
        let lhs = if numeric { format!("CAST(r.\"{name}\" AS REAL)") } else { format!("r.\"{name}\"") };
        let (sql, val) = match f.op.as_str() {
            "contains" => (
                format!("r.\"{name}\" LIKE ? ESCAPE '\\'"),
                format!("%{}%", f.value.replace('%', "\\%").replace('_', "\\_")),
            ),
            "eq" => (format!("r.\"{name}\" = ?"), f.value.clone()),
            "gte" => (format!("{lhs} >= ?"), f.value.clone()),
            "lte" => (format!("{lhs} <= ?"), f.value.clone()),
            other => return Err(CoreError::invalid("op", format!("unknown filter \"{other}\""))),
        };
        wh.push(sql);
        args.push(val);
    }
    let mut from = format!("\"{t}\" r");
    if let Some(fq) = q.search.as_deref().and_then(fts_query) {
        from = format!("\"{t}\" r JOIN \"{t}_fts\" f ON f.rowid = r.rowid AND \"{t}_fts\" MATCH ?");
        args.insert(0, fq);
    }
    let order = match q.sort.as_deref() {
        Some("id") => "r.id".to_string(),
        Some(s) => {
            let c = col(s).ok_or_else(|| CoreError::invalid("sort", format!("unknown column \"{s}\"")))?;
            if c.kind == ColKind::Decimal {
                format!("CAST(r.\"{}\" AS REAL)", c.name)
            } else {
                format!("r.\"{}\"", c.name)
            }
        }
        None => "r.rowid".to_string(),
    };
    let dir = if q.desc { "DESC" } else { "ASC" };
    let where_sql = wh.join(" AND ");
    let cols: String = spec.columns.iter().map(|c| format!(", r.\"{}\"", c.name)).collect();
    let limit = q.limit.clamp(1, 1000);
    store.read(|c| {
        let total: i64 = c.query_row(&format!("SELECT count(*) FROM {from} WHERE {where_sql}"), params_from_iter(args.iter()), |r| r.get(0))?;
        let mut st = c.prepare(&format!(
            "SELECT r.id, r.deleted_at, r.fetched_at{cols} FROM {from} WHERE {where_sql} ORDER BY {order} {dir}, r.id LIMIT {limit} OFFSET {}",
            q.offset
        ))?;
        let n = spec.columns.len();
        let rows = st.query_map(params_from_iter(args.iter()), |r| {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(r.get::<_, Option<String>>(3 + i)?);
            }
            Ok(BrowseRow { id: r.get(0)?, deleted_at: r.get(1)?, fetched_at: r.get(2)?, values })
        })?;
        Ok(BrowsePage {
            columns: spec.columns.iter().map(|c| ColumnInfo { name: c.name.to_string(), kind: c.kind }).collect(),
            rows: rows.collect::<Result<Vec<_>, _>>()?,
            total,
        })
    })
}

/// The ids of a resource's live stored records, in id order, a page at a time (for resources read
/// per stored record, like stock per product); with `changed_since` (RFC 3339 UTC, or a prefix of
/// it such as `2026-12-01`), only records stored or changed since then (a record is rewritten only
/// when it changed, so its `fetched_at` is when it last changed here).
pub fn stored_ids(
    store: &Store,
    spec: &ResourceSpec,
    connection_id: &str,
    changed_since: Option<&str>,
    limit: u32,
    offset: i64,
) -> CoreResult<Vec<String>> {
    store.read(|c| {
        let mut st = c.prepare(&format!(
            "SELECT id FROM \"{}\" WHERE connection_id=?1 AND deleted_at IS NULL AND (?4 IS NULL OR fetched_at >= ?4)
             ORDER BY id LIMIT ?2 OFFSET ?3",
            spec.table
        ))?;
        let rows = st.query_map(rusqlite::params![connection_id, limit, offset, changed_since], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    })
}

/// The full stored JSON of one record.
/// Whether any of a resource's stored records was added, changed or marked deleted since `t`
/// (RFC 3339 UTC).
pub fn changed_since(store: &Store, spec: &ResourceSpec, connection_id: &str, t: &str) -> CoreResult<bool> {
    store.read(|c| {
        Ok(c.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM \"{}\" WHERE connection_id=?1 AND (fetched_at >= ?2 OR deleted_at >= ?2))",
                spec.table
            ),
            rusqlite::params![connection_id, t],
            |r| r.get(0),
        )?)
    })
}

pub fn record(store: &Store, spec: &ResourceSpec, connection_id: &str, id: &str) -> CoreResult<String> {
    store.read(|c| {
        c.query_row(
            &format!("SELECT raw FROM \"{}\" WHERE connection_id=?1 AND id=?2", spec.table),
            [connection_id, id],
            |r| r.get(0),
        )
        .map_err(|_| CoreError::NotFound { what: format!("{} record {id}", spec.name) })
    })
}
