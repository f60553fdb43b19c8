//! `store copy`: a desk's SQLite data into an empty team database, and a team database back into
//! a new SQLite file.
//!
//! - Every table of the desk becomes a table of the `backoffice` schema with the same columns
//!   (TEXT → text, INTEGER → bigint, REAL → double precision, BLOB → bytea), the same NOT NULLs
//!   and primary key, plus `sqlite_rowid` for tables with rowids (full-text indexes point at
//!   rowids, so a copy back keeps them). The desk's own schema text is kept too
//!   (`bo_sqlite_schema`), so the copy back builds exactly the tables, indexes, full-text tables
//!   and triggers it came from, and the triggers refill the full-text indexes.
//! - Rows go in batches, in rowid order, by binary COPY; each batch commits together with how far
//!   the copy has come, so a copy that is killed or loses its server goes on from the last batch.
//! - Both sides are read in one snapshot each (a read transaction): the copy is of one moment.
//! - At the end every table is verified: row count and a checksum (the wrapping sum of a
//!   SHA-256 of each row, so order does not matter), computed from each side's own rows.
//! - The source is only read. The copy back is built in `FILE.partial` and renamed to FILE only
//!   after it verified.

use std::path::{Path, PathBuf};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use super::team::{classify, TeamDbError, TeamUrl, SCHEMA};
use crate::error::{CoreError, CoreResult};

/// Rows per batch (and per transaction on the receiving side).
const BATCH: usize = 5_000;

/// How far a copy has come, for a progress bar.
#[derive(Debug, Clone)]
pub struct CopyProgress {
    pub table: String,
    /// 1-based position of `table` among `tables`.
    pub table_index: usize,
    pub tables: usize,
    pub rows_done: u64,
    pub rows_total: u64,
}

impl CopyProgress {
    /// `rows` of table number `index` (0-based) of `tables` done, of `total` counted at the start.
    fn of(table: &Table, index: usize, tables: usize, rows: i64, total: i64) -> CopyProgress {
        CopyProgress {
            table: table.name.clone(),
            table_index: index + 1,
            tables,
            rows_done: rows as u64,
            rows_total: total.max(rows) as u64,
        }
    }
}

/// One table's verified result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
    /// 32 hex digits; equal on both sides.
    pub checksum: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    /// A previous, interrupted copy was continued.
    pub resumed: bool,
    pub schema_version: i64,
    pub tables: Vec<TableCopy>,
}

impl CopyReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// The declared column types a desk's tables use, as the copy maps them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Text,
    Real,
    Blob,
}

impl Kind {
    /// SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1) on a declared type.
    fn of_declared(table: &str, column: &str, declared: &str) -> CoreResult<Kind> {
        let d = declared.to_ascii_uppercase();
        Ok(if d.contains("INT") {
            Kind::Int
        } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
            Kind::Text
        } else if d.is_empty() || d.contains("BLOB") {
            Kind::Blob
        } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
            Kind::Real
        } else {
            return Err(CoreError::Internal(format!(
                "column {column} of table {table} has the declared type {declared}, which the team database copy \
                 does not map"
            )));
        })
    }

    fn pg(self) -> (&'static str, Type) {
        match self {
            Kind::Int => ("bigint", Type::INT8),
            Kind::Text => ("text", Type::TEXT),
            Kind::Real => ("double precision", Type::FLOAT8),
            Kind::Blob => ("bytea", Type::BYTEA),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Int => "a whole number",
            Kind::Text => "text",
            Kind::Real => "a number",
            Kind::Blob => "binary data",
        }
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    not_null: bool,
    /// Position in the primary key (1-based), 0 when not part of it.
    pk: i64,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    rowid: bool,
    columns: Vec<Column>,
}

impl Table {
    fn pg_name(&self) -> String {
        format!("{SCHEMA}.{}", quote(&self.name))
    }

    fn column_list(&self) -> String {
        self.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", ")
    }

    fn pg_columns(&self) -> String {
        let mut cols: Vec<String> = Vec::new();
        if self.rowid {
            cols.push("sqlite_rowid bigint NOT NULL UNIQUE".into());
        }
        for c in &self.columns {
            cols.push(format!("{} {}{}", quote(&c.name), c.kind.pg().0, if c.not_null { " NOT NULL" } else { "" }));
        }
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        if !pk.is_empty() {
            cols.push(format!("PRIMARY KEY ({})", pk.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", ")));
        } else if self.rowid {
            cols.push("PRIMARY KEY (sqlite_rowid)".into());
        }
        cols.join(", ")
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One value of a row, as both sides hold it, borrowed from the row it was read from (rows go from
/// one side to the other without a copy of their text).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(postgres::types::IsNull::Yes),
            Val::Int(i) => i.to_sql(ty, out),
            Val::Real(f) => f.to_sql(ty, out),
            Val::Text(s) => s.to_sql(ty, out),
            Val::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::INT8 | Type::FLOAT8 | Type::TEXT | Type::BYTEA)
    }

    postgres::types::to_sql_checked!();
}

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match *self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(i),
            Val::Real(f) => ValueRef::Real(f),
            Val::Text(t) => ValueRef::Text(t.as_bytes()),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The 128-bit digest of a row (its rowid first, when it has one).
fn row_digest(rowid: Option<i64>, values: &[Val<'_>]) -> u128 {
    let mut h = Sha256::new();
    if let Some(r) = rowid {
        h.update(r.to_le_bytes());
    }
    for v in values {
        match v {
            Val::Null => h.update([0u8]),
            Val::Int(i) => {
                h.update([1u8]);
                h.update(i.to_le_bytes());
            }
            Val::Real(f) => {
                h.update([2u8]);
                h.update(f.to_bits().to_le_bytes());
            }
            Val::Text(s) => {
                h.update([3u8]);
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            Val::Blob(b) => {
                h.update([4u8]);
                h.update((b.len() as u64).to_le_bytes());
                h.update(b);
            }
        }
    }
    let d = h.finalize();
    u128::from_le_bytes(d[..16].try_into().expect("16 bytes"))
}

#[derive(Default, Clone, Copy, PartialEq, Debug)]
struct Sum {
    rows: u64,
    sum: u128,
}

impl Sum {
    fn add(&mut self, digest: u128) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(digest);
    }
}

/// The desk's tables (not SQLite's own, not the full-text index's shadow tables; not a copy
/// back's bookkeeping tables when `in_copy`).
fn desk_tables(conn: &Connection, in_copy: bool) -> CoreResult<Vec<Table>> {
    let mut names: Vec<(String, bool)> = Vec::new();
    let mut stmt = conn.prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(0)?;
        let without_rowid: i64 = r.get(1)?;
        if name.starts_with("sqlite_") || (in_copy && (name == "bo_copy_meta" || name == "bo_copy_progress")) {
            continue;
        }
        if name.starts_with("bo_") {
            return Err(CoreError::Internal(format!(
                "table {name}: names starting with bo_ are kept for the team database's own tables"
            )));
        }
        names.push((name, without_rowid == 0));
    }
    // Creation order (sqlite_master's), so a reader sees parents first.
    let order: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    names.sort_by_key(|(n, _)| order.iter().position(|o| o == n).unwrap_or(usize::MAX));
    let mut tables = Vec::new();
    for (name, rowid) in names {
        let mut columns = Vec::new();
        let mut stmt = conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")?;
        let mut rows = stmt.query([&name])?;
        while let Some(r) = rows.next()? {
            let col: String = r.get(0)?;
            let declared: String = r.get(1)?;
            columns.push(Column {
                kind: Kind::of_declared(&name, &col, &declared)?,
                name: col,
                not_null: r.get::<_, i64>(2)? != 0,
                pk: r.get(3)?,
            });
        }
        tables.push(Table { name, rowid, columns });
    }
    Ok(tables)
}

/// The schema text to rebuild the desk's database from: tables (and full-text tables), then
/// indexes, then triggers and views; the full-text tables' shadow tables come with them.
fn desk_schema(conn: &Connection) -> CoreResult<Vec<(String, String, String)>> {
    let shadow: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid",
    )?;
    let all: Vec<(String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?;
    Ok(all.into_iter().filter(|(_, name, _)| !shadow.contains(name)).collect())
}

fn read_sqlite_value<'a>(table: &Table, col: &Column, rowid: i64, v: ValueRef<'a>) -> CoreResult<Val<'a>> {
    let bad = |found: &str| -> CoreError {
        TeamDbError::Value {
            table: table.name.clone(),
            rowid,
            column: col.name.clone(),
            found: found.to_string(),
            expected: col.kind.name().to_string(),
        }
        .into()
    };
    Ok(match (v, col.kind) {
        (ValueRef::Null, _) => Val::Null,
        (ValueRef::Integer(i), Kind::Int) => Val::Int(i),
        (ValueRef::Integer(i), Kind::Real) => Val::Real(i as f64),
        (ValueRef::Real(f), Kind::Real) => Val::Real(f),
        (ValueRef::Text(t), Kind::Text) => {
            Val::Text(std::str::from_utf8(t).map_err(|_| bad("text that is not valid UTF-8"))?)
        }
        (ValueRef::Blob(b), Kind::Blob) => Val::Blob(b),
        (ValueRef::Integer(i), _) => return Err(bad(&format!("the number {i}"))),
        (ValueRef::Real(f), _) => return Err(bad(&format!("the number {f}"))),
        (ValueRef::Text(t), _) => return Err(bad(&format!("the text \"{}\"", String::from_utf8_lossy(t)))),
        (ValueRef::Blob(_), _) => return Err(bad("binary data")),
    })
}

fn read_pg_value(row: &postgres::Row, i: usize, kind: Kind) -> Result<Val<'_>, postgres::Error> {
    Ok(match kind {
        Kind::Int => row.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int),
        Kind::Text => row.try_get::<_, Option<&str>>(i)?.map_or(Val::Null, Val::Text),
        Kind::Real => row.try_get::<_, Option<f64>>(i)?.map_or(Val::Null, Val::Real),
        Kind::Blob => row.try_get::<_, Option<&[u8]>>(i)?.map_or(Val::Null, Val::Blob),
    })
}

/// The SELECT of one batch of a SQLite table: rows after `?1` in rowid order, or the whole table
/// when it has no rowids.
fn batch_select(table: &Table) -> String {
    let cols = table.column_list();
    if table.rowid {
        format!("SELECT rowid, {cols} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT {BATCH}", quote(&table.name))
    } else {
        format!("SELECT NULL, {cols} FROM {} WHERE ?1 = ?1", quote(&table.name))
    }
}

fn sqlite_sum(conn: &Connection, table: &Table) -> CoreResult<Sum> {
    let mut sum = Sum::default();
    let rid = if table.rowid { "rowid" } else { "NULL" };
    let mut stmt = conn.prepare(&format!("SELECT {rid}, {} FROM {}", table.column_list(), quote(&table.name)))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: Option<i64> = r.get(0)?;
        let mut vals = Vec::with_capacity(table.columns.len());
        for (i, c) in table.columns.iter().enumerate() {
            vals.push(read_sqlite_value(table, c, rowid.unwrap_or(0), r.get_ref(i + 1)?)?);
        }
        sum.add(row_digest(rowid, &vals));
    }
    Ok(sum)
}

fn pg_sum(pg: &mut impl postgres::GenericClient, url: &TeamUrl, table: &Table) -> CoreResult<Sum> {
    let rid = if table.rowid { "sqlite_rowid" } else { "NULL::bigint" };
    let sql = format!("SELECT {rid}, {} FROM {}", table.column_list(), table.pg_name());
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let mut rows = pg.query_raw(sql.as_str(), std::iter::empty::<i64>()).map_err(err)?;
    let mut sum = Sum::default();
    while let Some(r) = rows.next().map_err(err)? {
        let rowid: Option<i64> = r.try_get(0).map_err(err)?;
        let mut vals = Vec::with_capacity(table.columns.len());
        for (i, c) in table.columns.iter().enumerate() {
            vals.push(read_pg_value(&r, i + 1, c.kind).map_err(err)?);
        }
        sum.add(row_digest(rowid, &vals));
    }
    Ok(sum)
}

fn verify(name: &str, source: Sum, copy: Sum) -> CoreResult<TableCopy> {
    if source != copy {
        let detail = if source.rows != copy.rows {
            format!("{} rows in the source, {} in the copy", source.rows, copy.rows)
        } else {
            format!("{} rows on each side, but their contents differ", source.rows)
        };
        return Err(TeamDbError::Mismatch { table: name.to_string(), detail }.into());
    }
    Ok(TableCopy { table: name.to_string(), rows: source.rows, checksum: format!("{:032x}", source.sum) })
}

/// What the team database says about itself (`bo_team`), if BackOffice made it.
fn team_meta(pg: &mut postgres::Client, url: &TeamUrl) -> CoreResult<Option<Vec<(String, String)>>> {
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let schema: Option<String> = pg
        .query_opt("SELECT nspname::text FROM pg_namespace WHERE nspname = $1", &[&SCHEMA])
        .map_err(err)?
        .map(|r| r.get(0));
    if schema.is_none() {
        return Ok(None);
    }
    let has_meta: bool =
        pg.query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("{SCHEMA}.bo_team")]).map_err(err)?.get(0);
    if !has_meta {
        return Err(TeamDbError::NotEmpty {
            url: url.shown().to_string(),
            what: format!("it has a schema named {SCHEMA} that BackOffice did not make"),
        }
        .into());
    }
    let rows = pg.query(&format!("SELECT key, value FROM {SCHEMA}.bo_team ORDER BY key"), &[]).map_err(err)?;
    Ok(Some(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect()))
}

fn meta_get<'a>(meta: &'a [(String, String)], key: &str) -> Option<&'a str> {
    meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// What a team database holds, for Settings' connection test and `store check`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TeamStatus {
    pub server_version: String,
    /// "empty", "copying" (an unfinished copy) or "ready".
    pub state: String,
    pub schema_version: Option<i64>,
    pub copied_from: Option<String>,
    pub copied_at: Option<String>,
}

/// Connects and says what the team database holds; refuses a newer schema.
pub fn team_status(url: &TeamUrl) -> CoreResult<TeamStatus> {
    let mut pg = url.connect()?;
    let server_version: String =
        pg.query_one("SHOW server_version", &[]).map_err(|e| -> CoreError { classify(url.shown(), &e).into() })?.get(0);
    let meta = team_meta(&mut pg, url)?;
    let Some(meta) = meta else {
        return Ok(TeamStatus {
            server_version,
            state: "empty".into(),
            schema_version: None,
            copied_from: None,
            copied_at: None,
        });
    };
    let version = meta_get(&meta, "schema_version").and_then(|v| v.parse::<i64>().ok());
    if let Some(found) = version {
        let known = super::MIGRATIONS.len() as i64;
        if found > known {
            return Err(TeamDbError::Newer { url: url.shown().to_string(), found, known }.into());
        }
    }
    Ok(TeamStatus {
        server_version,
        state: if meta_get(&meta, "state") == Some("complete") { "ready".into() } else { "copying".into() },
        schema_version: version,
        copied_from: meta_get(&meta, "source").map(str::to_string),
        copied_at: meta_get(&meta, "copied_at").map(str::to_string),
    })
}

/// Copies the desk database at `source` into the empty team database at `url` (or goes on with an
/// interrupted copy of the same desk). `progress` is called after every batch; `cancelled` is
/// asked as often, and a cancelled copy can be continued later.
pub fn copy_to_team(
    source: &Path,
    url: &TeamUrl,
    progress: &mut dyn FnMut(&CopyProgress),
    cancelled: &dyn Fn() -> bool,
) -> CoreResult<CopyReport> {
    // A desk that is not there is not made up empty and copied.
    if !source.is_file() {
        return Err(CoreError::NotFound { what: format!("The desk database {}", source.display()) });
    }
    // Bring the desk's file to this version's schema first (what opening it anywhere does); after
    // that it is only read.
    drop(super::Store::open(source)?);
    let mut src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    let snapshot = src.transaction()?;
    let version: i64 = snapshot.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables = desk_tables(&snapshot, false)?;
    let schema = desk_schema(&snapshot)?;
    let source_name = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf()).display().to_string();
    let machine = whoami::fallible::hostname().unwrap_or_else(|_| "this computer".into());
    let source_id = format!("{source_name} ({machine})");

    let mut pg = url.connect()?;
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let resumed = match team_meta(&mut pg, url)? {
        None => {
            let mut tx = pg.transaction().map_err(err)?;
            let mut ddl = format!(
                "CREATE SCHEMA {SCHEMA};
                 CREATE TABLE {SCHEMA}.bo_team (key text PRIMARY KEY, value text NOT NULL);
                 CREATE TABLE {SCHEMA}.bo_sqlite_schema (seq integer PRIMARY KEY, kind text NOT NULL, name text NOT NULL, sql text NOT NULL);
                 CREATE TABLE {SCHEMA}.bo_copy_progress (table_name text PRIMARY KEY, last_rowid bigint NOT NULL, rows bigint NOT NULL, finished boolean NOT NULL);\n"
            );
            for t in &tables {
                ddl.push_str(&format!("CREATE TABLE {} ({});\n", t.pg_name(), t.pg_columns()));
            }
            tx.batch_execute(&ddl).map_err(err)?;
            for (i, (kind, name, sql)) in schema.iter().enumerate() {
                tx.execute(
                    &format!("INSERT INTO {SCHEMA}.bo_sqlite_schema (seq, kind, name, sql) VALUES ($1, $2, $3, $4)"),
                    &[&(i as i32), kind, name, sql],
                )
                .map_err(err)?;
            }
            for (k, v) in [
                ("schema_version", version.to_string()),
                ("source", source_id.clone()),
                ("state", "copying".to_string()),
                ("started_at", super::now_utc()),
            ] {
                tx.execute(&format!("INSERT INTO {SCHEMA}.bo_team (key, value) VALUES ($1, $2)"), &[&k, &v])
                    .map_err(err)?;
            }
            tx.commit().map_err(err)?;
            false
        }
        Some(meta) => {
            let shown = url.shown().to_string();
            if meta_get(&meta, "state") == Some("complete") {
                return Err(TeamDbError::NotEmpty {
                    url: shown,
                    what: format!(
                        "it already holds BackOffice data (copied from {} on {})",
                        meta_get(&meta, "source").unwrap_or("?"),
                        meta_get(&meta, "copied_at").unwrap_or("?")
                    ),
                }
                .into());
            }
            let other = meta_get(&meta, "source").unwrap_or("?");
            if other != source_id || meta_get(&meta, "schema_version") != Some(&version.to_string()) {
                return Err(TeamDbError::OtherCopy { url: shown, other: other.to_string() }.into());
            }
            true
        }
    };

    let progress_rows = pg
        .query(&format!("SELECT table_name, last_rowid, rows, finished FROM {SCHEMA}.bo_copy_progress"), &[])
        .map_err(err)?;
    let mut done: std::collections::HashMap<String, (i64, i64, bool)> =
        progress_rows.into_iter().map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3)))).collect();
    let n = tables.len();
    for (ti, table) in tables.iter().enumerate() {
        let (mut last, mut rows, finished) = done.remove(&table.name).unwrap_or((i64::MIN, 0, false));
        if finished {
            continue;
        }
        let total: i64 =
            snapshot.query_row(&format!("SELECT count(*) FROM {}", quote(&table.name)), [], |r| r.get(0))?;
        let types: Vec<Type> =
            table.rowid.then_some(Type::INT8).into_iter().chain(table.columns.iter().map(|c| c.kind.pg().1)).collect();
        let select = batch_select(table);
        let copy_sql = format!(
            "COPY {} ({}{}) FROM STDIN BINARY",
            table.pg_name(),
            if table.rowid { "sqlite_rowid, " } else { "" },
            table.column_list()
        );
        loop {
            if cancelled() {
                return Err(CoreError::Cancelled);
            }
            // Rows stream from SQLite into the COPY as they are read: the server stores them while
            // the next ones are read.
            let mut tx = pg.transaction().map_err(err)?;
            let writer = tx.copy_in(copy_sql.as_str()).map_err(err)?;
            let mut writer = BinaryCopyInWriter::new(writer, &types);
            let mut in_batch = 0usize;
            {
                let mut stmt = snapshot.prepare_cached(&select)?;
                let mut found = stmt.query([last])?;
                while let Some(r) = found.next()? {
                    let rowid: Option<i64> = r.get(0)?;
                    let mut vals: Vec<Val<'_>> = Vec::with_capacity(types.len());
                    if let Some(id) = rowid {
                        vals.push(Val::Int(id));
                        last = id;
                    }
                    for (i, c) in table.columns.iter().enumerate() {
                        vals.push(read_sqlite_value(table, c, rowid.unwrap_or(0), r.get_ref(i + 1)?)?);
                    }
                    let refs: Vec<&(dyn ToSql + Sync)> = vals.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                    writer.write(&refs).map_err(err)?;
                    in_batch += 1;
                }
            }
            writer.finish().map_err(err)?;
            rows += in_batch as i64;
            let finished = !table.rowid || in_batch < BATCH;
            tx.execute(
                &format!(
                    "INSERT INTO {SCHEMA}.bo_copy_progress (table_name, last_rowid, rows, finished) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (table_name) DO UPDATE SET last_rowid = excluded.last_rowid, rows = excluded.rows,
                     finished = excluded.finished"
                ),
                &[&table.name, &last, &rows, &finished],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            progress(&CopyProgress::of(table, ti, n, rows, total));
            if finished {
                break;
            }
        }
    }

    let mut report = CopyReport { resumed, schema_version: version, tables: Vec::with_capacity(n) };
    // Both sides are read at once: the server's rows on a thread of their own, the desk's here.
    let mut check = pg.transaction().map_err(err)?;
    check.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").map_err(err)?;
    let (desk, team) = std::thread::scope(|scope| {
        let team = scope.spawn(|| -> CoreResult<Vec<Sum>> {
            let sums = tables.iter().map(|t| pg_sum(&mut check, url, t)).collect::<CoreResult<Vec<_>>>()?;
            check.commit().map_err(err)?;
            Ok(sums)
        });
        let desk = tables.iter().map(|t| sqlite_sum(&snapshot, t)).collect::<CoreResult<Vec<_>>>();
        (
            desk,
            team.join().unwrap_or_else(|_| Err(CoreError::Internal("the check of the team database stopped".into()))),
        )
    });
    for ((table, a), b) in tables.iter().zip(desk?).zip(team?) {
        report.tables.push(verify(&table.name, a, b)?);
    }
    let mut tx = pg.transaction().map_err(err)?;
    super::bi::create_views(&mut tx, url)?;
    for (k, v) in [("state", "complete".to_string()), ("copied_at", super::now_utc())] {
        tx.execute(
            &format!(
                "INSERT INTO {SCHEMA}.bo_team (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            &[&k, &v],
        )
        .map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(report)
}

/// The file a copy back is built in before it is renamed to `target`.
pub fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    target.with_file_name(name)
}

/// Copies the team database at `url` into a new SQLite file `target` (an offline copy). Built in
/// `target.partial`, which an interrupted copy goes on with; renamed to `target` once verified.
pub fn copy_from_team(
    url: &TeamUrl,
    target: &Path,
    progress: &mut dyn FnMut(&CopyProgress),
    cancelled: &dyn Fn() -> bool,
) -> CoreResult<CopyReport> {
    if target.exists() {
        return Err(TeamDbError::TargetExists { path: target.display().to_string() }.into());
    }
    let mut pg = url.connect()?;
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let meta = team_meta(&mut pg, url)?;
    let Some(meta) = meta.filter(|m| meta_get(m, "state") == Some("complete")) else {
        return Err(TeamDbError::NothingToRestore { url: url.shown().to_string() }.into());
    };
    let version: i64 = meta_get(&meta, "schema_version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let known = super::MIGRATIONS.len() as i64;
    if version > known {
        return Err(TeamDbError::Newer { url: url.shown().to_string(), found: version, known }.into());
    }
    let source_id = format!("{} ({})", url.shown(), meta_get(&meta, "copied_at").unwrap_or("?"));
    // One snapshot of the team database for the whole copy.
    let mut snap = pg.transaction().map_err(err)?;
    snap.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").map_err(err)?;

    let partial = partial_path(target);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CoreError::Db(format!("cannot create the folder {}: {e}", dir.display())))?;
    }
    let fresh = !partial.exists();
    let mut out = Connection::open(&partial)?;
    out.busy_timeout(std::time::Duration::from_secs(10))?;
    out.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA journal_mode = DELETE; PRAGMA synchronous = NORMAL;")?;
    if fresh {
        let schema = snap
            .query(&format!("SELECT kind, name, sql FROM {SCHEMA}.bo_sqlite_schema ORDER BY seq"), &[])
            .map_err(err)?;
        let tx = out.transaction()?;
        for r in &schema {
            let sql: String = r.get(2);
            tx.execute_batch(&sql)?;
        }
        tx.execute_batch(
            "CREATE TABLE bo_copy_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE bo_copy_progress (table_name TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL, rows INTEGER NOT NULL, finished INTEGER NOT NULL);",
        )?;
        tx.execute("INSERT INTO bo_copy_meta (key, value) VALUES ('source', ?1)", [&source_id])?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    } else {
        let other: Option<String> =
            out.query_row("SELECT value FROM bo_copy_meta WHERE key = 'source'", [], |r| r.get(0)).ok();
        if other.as_deref() != Some(source_id.as_str()) {
            return Err(TeamDbError::TargetExists { path: partial.display().to_string() }.into());
        }
    }
    let tables: Vec<Table> = desk_tables(&out, true)?;
    let mut done: std::collections::HashMap<String, (i64, i64, bool)> = out
        .prepare("SELECT table_name, last_rowid, rows, finished FROM bo_copy_progress")?
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0))))?
        .collect::<Result<_, _>>()?;
    let n = tables.len();
    for (ti, table) in tables.iter().enumerate() {
        let (mut last, mut rows, finished) = done.remove(&table.name).unwrap_or((i64::MIN, 0, false));
        if finished {
            continue;
        }
        let total: i64 = snap.query_one(&format!("SELECT count(*) FROM {}", table.pg_name()), &[]).map_err(err)?.get(0);
        let cols = table.column_list();
        let select = if table.rowid {
            format!(
                "SELECT sqlite_rowid, {cols} FROM {} WHERE sqlite_rowid > $1 ORDER BY sqlite_rowid LIMIT {BATCH}",
                table.pg_name()
            )
        } else {
            format!("SELECT NULL::bigint, {cols} FROM {} WHERE $1::bigint IS NOT NULL", table.pg_name())
        };
        let marks = (1..=table.columns.len() + usize::from(table.rowid))
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!(
            "INSERT INTO {} ({}{cols}) VALUES ({marks})",
            quote(&table.name),
            if table.rowid { "rowid, " } else { "" }
        );
        loop {
            if cancelled() {
                return Err(CoreError::Cancelled);
            }
            let batch = snap.query(select.as_str(), &[&last]).map_err(err)?;
            let tx = out.transaction()?;
            {
                let mut stmt = tx.prepare_cached(&insert)?;
                for r in &batch {
                    let rowid: Option<i64> = r.try_get(0).map_err(err)?;
                    let mut vals: Vec<Val<'_>> = Vec::with_capacity(table.columns.len() + 1);
                    if let Some(id) = rowid {
                        vals.push(Val::Int(id));
                        last = id;
                    }
                    for (i, c) in table.columns.iter().enumerate() {
                        vals.push(read_pg_value(r, i + 1, c.kind).map_err(err)?);
                    }
                    stmt.execute(rusqlite::params_from_iter(vals))?;
                }
            }
            rows += batch.len() as i64;
            let finished = !table.rowid || batch.len() < BATCH;
            tx.execute(
                "INSERT INTO bo_copy_progress (table_name, last_rowid, rows, finished) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (table_name) DO UPDATE SET last_rowid = excluded.last_rowid, rows = excluded.rows,
                 finished = excluded.finished",
                rusqlite::params![table.name, last, rows, finished],
            )?;
            tx.commit()?;
            progress(&CopyProgress::of(table, ti, n, rows, total));
            if finished {
                break;
            }
        }
    }

    let mut report = CopyReport { resumed: !fresh, schema_version: version, tables: Vec::with_capacity(n) };
    for table in &tables {
        let a = pg_sum(&mut snap, url, table)?;
        let b = sqlite_sum(&out, table)?;
        report.tables.push(verify(&table.name, a, b)?);
    }
    snap.commit().map_err(err)?;
    let broken: Option<String> = out
        .query_row(
            "SELECT \"table\" || ' row ' || rowid || ' → ' || parent FROM pragma_foreign_key_check LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    if let Some(b) = broken {
        return Err(
            TeamDbError::Mismatch { table: b, detail: "a reference points at a row that is not there".into() }.into()
        );
    }
    out.execute_batch("DROP TABLE bo_copy_progress; DROP TABLE bo_copy_meta;")?;
    drop(out);
    std::fs::rename(&partial, target)
        .map_err(|e| CoreError::Db(format!("cannot rename {} to {}: {e}", partial.display(), target.display())))?;
    // Open it as the app would: WAL, and migrated if the team database is of an older version.
    drop(super::Store::open(target)?);
    Ok(report)
}
