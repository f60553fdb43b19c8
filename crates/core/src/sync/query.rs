//! Browsing a synced resource: paging, sorting, column filters and full-text search (FTS5 on a
//! desk's file, the table's `tsvector` under a GIN index on a team database), all parameterised
//! (column names are checked against the resource's declaration, never interpolated from input).
//! Both backends answer the same: "contains" ignores case, a search term matches words it begins,
//! accents or not.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ColKind, ResourceSpec, SEARCH_FOLD};
use crate::error::{CoreError, CoreResult};
use crate::store::db::{number_placeholders, vals};
use crate::store::{Backend, Store, ToValue};

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

/// Turns free text into a query of prefix terms, every one required (FTS5's `"a"* "b"*`, or
/// PostgreSQL's `'a':* & 'b':*`), so punctuation typed by a user cannot break it.
fn fts_query(s: &str, backend: Backend) -> Option<String> {
    let terms = s.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty());
    let terms: Vec<String> = match backend {
        Backend::Sqlite => terms.map(|t| format!("\"{t}\"*")).collect(),
        Backend::Postgres => terms.map(|t| format!("'{t}':*")).collect(),
    };
    let joint = if backend == Backend::Sqlite { " " } else { " & " };
    (!terms.is_empty()).then(|| terms.join(joint))
}

pub fn browse(store: &Store, spec: &ResourceSpec, q: &BrowseQuery) -> CoreResult<BrowsePage> {
    let t = spec.table;
    let backend = store.backend();
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
        let lhs = if numeric { format!("CAST(r.\"{name}\" AS DOUBLE PRECISION)") } else { format!("r.\"{name}\"") };
        let (sql, val) = match f.op.as_str() {
            "contains" => (
                format!("lower(r.\"{name}\") LIKE lower(?) ESCAPE '\\'"),
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
    if let Some(fq) = q.search.as_deref().and_then(|s| fts_query(s, backend)) {
        match backend {
            Backend::Sqlite => {
                from = format!("\"{t}\" r JOIN \"{t}_fts\" f ON f.rowid = r.rowid AND \"{t}_fts\" MATCH ?");
                args.insert(0, fq);
            }
            Backend::Postgres => {
                wh.push(format!("r.search_tsv @@ to_tsquery('simple', {})", SEARCH_FOLD.replace("{}", "?")));
                args.push(fq);
            }
        }
    }
    let order = match q.sort.as_deref() {
        Some("id") => "r.id".to_string(),
        Some(s) => {
            let c = col(s).ok_or_else(|| CoreError::invalid("sort", format!("unknown column \"{s}\"")))?;
            if c.kind == ColKind::Decimal {
                format!("CAST(r.\"{}\" AS DOUBLE PRECISION)", c.name)
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
    store.query(|db| {
        let params: Vec<&dyn ToValue> = args.iter().map(|a| a as &dyn ToValue).collect();
        // Placeholders numbered in the order the arguments are given (PostgreSQL wants numbers).
        let total: i64 = db.one(&number_placeholders(&format!("SELECT count(*) FROM {from} WHERE {where_sql}")), &params)?;
        let rows = db.query(
            &number_placeholders(&format!(
                "SELECT r.id, r.deleted_at, r.fetched_at{cols} FROM {from} WHERE {where_sql} ORDER BY {order} {dir}, r.id LIMIT {limit} OFFSET {}",
                q.offset
            )),
            &params,
        )?;
        let n = spec.columns.len();
        let rows = rows
            .iter()
            .map(|r| {
                let mut values = Vec::with_capacity(n);
                for i in 0..n {
                    values.push(r.get::<Option<String>>(3 + i)?);
                }
                Ok(BrowseRow { id: r.get(0)?, deleted_at: r.get(1)?, fetched_at: r.get(2)?, values })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(BrowsePage {
            columns: spec.columns.iter().map(|c| ColumnInfo { name: c.name.to_string(), kind: c.kind }).collect(),
            rows,
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
    store.query(|db| {
        db.query(
            &format!(
                "SELECT id FROM \"{}\" WHERE connection_id=?1 AND deleted_at IS NULL AND (CAST(?4 AS TEXT) IS NULL OR fetched_at >= ?4)
                 ORDER BY id LIMIT ?2 OFFSET ?3",
                spec.table
            ),
            vals![connection_id, limit, offset, changed_since],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    })
}

/// The full stored JSON of one record.
/// Whether any of a resource's stored records was added, changed or marked deleted since `t`
/// (RFC 3339 UTC).
pub fn changed_since(store: &Store, spec: &ResourceSpec, connection_id: &str, t: &str) -> CoreResult<bool> {
    store.query(|db| {
        db.one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM \"{}\" WHERE connection_id=?1 AND (fetched_at >= ?2 OR deleted_at >= ?2))",
                spec.table
            ),
            vals![connection_id, t],
        )
    })
}

pub fn record(store: &Store, spec: &ResourceSpec, connection_id: &str, id: &str) -> CoreResult<String> {
    store
        .query(|db| {
            db.query_opt(
                &format!("SELECT raw FROM \"{}\" WHERE connection_id=?1 AND id=?2", spec.table),
                vals![connection_id, id],
            )?
            .map(|r| r.get(0))
            .transpose()
        })?
        .ok_or_else(|| CoreError::NotFound { what: format!("{} record {id}", spec.name) })
}
