//! `store copy`: a desk's SQLite data into an empty team database, and a team database back into
//! a new SQLite file.
//!
//! - The team database is set up as any desk opening it sets it up (`pg_schema::prepare`, then the
//!   resource tables of every ERP in PostgreSQL's dialect, by the caller's `prepare`), so the copy
//!   lands in the very tables desks work on. Every table of the desk goes into its namesake, column
//!   by column (TEXT → text, INTEGER → bigint, REAL → double precision, BLOB → bytea), with its
//!   rowids in the team table's `rowid` (full-text indexes and "latest first" orders point at
//!   rowids); PostgreSQL's counters are moved past the copied numbers. The copy's own bookkeeping
//!   is `bo_team_store` (source, state) and `bo_copy_progress`.
//! - The copy back makes a new file as a desk would (migrations, then `prepare`) and fills it the
//!   same way; SQLite's triggers refill the full-text indexes.
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
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    rowid: bool,
    columns: Vec<Column>,
    /// On the team side: its `rowid` is computed from the INTEGER primary key (so it is not copied).
    rowid_generated: bool,
}

impl Table {
    fn pg_name(&self) -> String {
        format!("{SCHEMA}.{}", quote(&self.name))
    }

    fn column_list(&self) -> String {
        self.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", ")
    }

    /// Whether rows go with their rowid into the team table's `rowid`.
    fn copies_rowid(&self) -> bool {
        self.rowid && !self.rowid_generated
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
        let mut stmt = conn.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")?;
        let mut rows = stmt.query([&name])?;
        while let Some(r) = rows.next()? {
            let col: String = r.get(0)?;
            let declared: String = r.get(1)?;
            columns.push(Column { kind: Kind::of_declared(&name, &col, &declared)?, name: col });
        }
        tables.push(Table { name, rowid, columns, rowid_generated: false });
    }
    // Parents before the tables that refer to them (a table rebuilt by a later migration comes
    // later in SQLite's own order), so every row's references are there when it arrives.
    let mut parents: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for t in &tables {
        let p: Vec<String> = conn
            .prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")?
            .query_map([&t.name], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        parents.insert(t.name.clone(), p.into_iter().filter(|x| *x != t.name).collect());
    }
    let mut ordered: Vec<Table> = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready = tables
            .iter()
            .position(|t| {
                parents[&t.name]
                    .iter()
                    .all(|p| ordered.iter().any(|o| &o.name == p) || !tables.iter().any(|x| &x.name == p))
            })
            .unwrap_or(0);
        ordered.push(tables.remove(ready));
    }
    Ok(ordered)
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
    let rid = if table.rowid { "rowid" } else { "NULL::bigint" };
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

/// What the team database says about itself (`bo_team_store`, which setting it up makes), if it
/// has BackOffice's schema.
fn team_meta(pg: &mut postgres::Client, url: &TeamUrl) -> CoreResult<Option<Vec<(String, String)>>> {
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let schema: Option<String> = pg
        .query_opt("SELECT nspname::text FROM pg_namespace WHERE nspname = $1", &[&SCHEMA])
        .map_err(err)?
        .map(|r| r.get(0));
    if schema.is_none() {
        return Ok(None);
    }
    let ours: bool =
        pg.query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("{SCHEMA}.bo_team_store")]).map_err(err)?.get(0);
    if !ours {
        return Err(TeamDbError::NotEmpty {
            url: url.shown().to_string(),
            what: format!("it has a schema named {SCHEMA} that BackOffice did not make"),
        }
        .into());
    }
    let rows = pg.query(&format!("SELECT key, value FROM {SCHEMA}.bo_team_store ORDER BY key"), &[]).map_err(err)?;
    Ok(Some(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect()))
}

fn meta_get<'a>(meta: &'a [(String, String)], key: &str) -> Option<&'a str> {
    meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Rows a team database holds that a desk's work put there (not what setting it up made): what
/// tells an empty team database from one a team works on.
fn work_rows(pg: &mut impl postgres::GenericClient, url: &TeamUrl) -> CoreResult<i64> {
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    Ok(pg
        .query_one(
            &format!(
                "SELECT (SELECT count(*) FROM {SCHEMA}.connections) + (SELECT count(*) FROM {SCHEMA}.jobs)
                      + (SELECT count(*) FROM {SCHEMA}.divergences) + (SELECT count(*) FROM {SCHEMA}.contracts)"
            ),
            &[],
        )
        .map_err(err)?
        .get(0))
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
    let state = match meta_get(&meta, "copy_state") {
        Some("copying") => "copying",
        Some(_) => "ready",
        None if work_rows(&mut pg, url)? > 0 => "ready",
        None => "empty",
    };
    Ok(TeamStatus {
        server_version,
        state: state.into(),
        schema_version: version,
        copied_from: meta_get(&meta, "copy_source").map(str::to_string),
        copied_at: meta_get(&meta, "copied_at").map(str::to_string),
    })
}

/// Where an unfinished copy into this team database comes from, if one is under way (desks keep
/// out until it is finished).
pub fn unfinished_copy(store: &super::Store) -> CoreResult<Option<String>> {
    store.query(|db| {
        let state = db.query_opt("SELECT value FROM bo_team_store WHERE key = 'copy_state'", &[])?;
        if state.map(|r| r.get::<String>(0)).transpose()?.as_deref() != Some("copying") {
            return Ok(None);
        }
        let source = db.query_opt("SELECT value FROM bo_team_store WHERE key = 'copy_source'", &[])?;
        Ok(Some(source.map(|r| r.get::<String>(0)).transpose()?.unwrap_or_else(|| "?".into())))
    })
}

/// The columns a team table has, and whether its `rowid` is computed (not to be written).
fn team_columns(
    pg: &mut impl postgres::GenericClient,
    url: &TeamUrl,
    table: &str,
) -> CoreResult<Option<(Vec<String>, bool)>> {
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let rows = pg
        .query(
            "SELECT column_name::text, is_generated::text FROM information_schema.columns
              WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            &[&SCHEMA, &table],
        )
        .map_err(err)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let generated_rowid = rows.iter().any(|r| r.get::<_, String>(0) == "rowid" && r.get::<_, String>(1) == "ALWAYS");
    Ok(Some((rows.iter().map(|r| r.get(0)).collect(), generated_rowid)))
}

/// Matches the desk's tables to the team database's: every desk column must have its namesake
/// there (the team side may have more: `rowid`, the search index).
fn match_team_tables(pg: &mut postgres::Client, url: &TeamUrl, tables: &mut [Table]) -> CoreResult<()> {
    for t in tables.iter_mut() {
        let Some((columns, generated_rowid)) = team_columns(pg, url, &t.name)? else {
            return Err(TeamDbError::Mismatch {
                table: t.name.clone(),
                detail: "the team database has no such table: is it of an older BackOffice than this desk?".into(),
            }
            .into());
        };
        if let Some(c) = t.columns.iter().find(|c| !columns.contains(&c.name)) {
            return Err(TeamDbError::Mismatch {
                table: t.name.clone(),
                detail: format!("the team database's table has no column {}", c.name),
            }
            .into());
        }
        t.rowid_generated = generated_rowid;
    }
    Ok(())
}

/// Moves PostgreSQL's counters (identity columns) past the numbers a copy wrote.
fn advance_counters(tx: &mut postgres::Transaction<'_>, url: &TeamUrl, tables: &[Table]) -> CoreResult<()> {
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    for t in tables {
        let identities = tx
            .query(
                "SELECT column_name::text FROM information_schema.columns
                  WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'YES'",
                &[&SCHEMA, &t.name],
            )
            .map_err(err)?;
        for r in identities {
            let col: String = r.get(0);
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max({c}) AS m FROM {t}) x WHERE m IS NOT NULL",
                    c = quote(&col),
                    t = t.pg_name()
                ),
                &[&t.pg_name(), &col],
            )
            .map_err(err)?;
        }
    }
    Ok(())
}

/// Copies the desk database at `source` into the empty team database at `url` (or goes on with an
/// interrupted copy of the same desk). `prepare` brings a store's resource tables to shape (every
/// ERP's: `erp::migrate_resource_tables`); it runs on the desk's file and on the team database
/// first. `progress` is called after every batch; `cancelled` is asked as often, and a cancelled
/// copy can be continued later.
pub fn copy_to_team(
    source: &Path,
    url: &TeamUrl,
    prepare: &dyn Fn(&super::Store) -> CoreResult<()>,
    progress: &mut dyn FnMut(&CopyProgress),
    cancelled: &dyn Fn() -> bool,
) -> CoreResult<CopyReport> {
    // A desk that is not there is not made up empty and copied.
    if !source.is_file() {
        return Err(CoreError::NotFound { what: format!("The desk database {}", source.display()) });
    }
    // Bring the desk's file to this version's schema first (what opening it anywhere does); after
    // that it is only read.
    {
        let desk = super::Store::open(source)?;
        prepare(&desk)?;
    }
    let mut src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    let snapshot = src.transaction()?;
    let version: i64 = snapshot.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut tables = desk_tables(&snapshot, false)?;
    let source_name = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf()).display().to_string();
    let machine = whoami::fallible::hostname().unwrap_or_else(|_| "this computer".into());
    let source_id = format!("{source_name} ({machine})");

    // The team database as desks use it: set up (or found) and its resource tables made.
    let mut pg = url.connect()?;
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    if let Some(meta) = team_meta(&mut pg, url)? {
        let newer = meta_get(&meta, "schema_version").and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > version);
        if let Some(found) = newer {
            return Err(TeamDbError::Newer { url: url.shown().to_string(), found, known: version }.into());
        }
    }
    // Set up (or found) as a desk opening it would; the resource tables are made by the first run
    // only (a continued copy has them, and their record of shapes is being copied).
    let team = super::Store::open_team(url)?;
    let meta = team_meta(&mut pg, url)?.unwrap_or_default();
    if meta_get(&meta, "copy_state").is_none() {
        prepare(&team)?;
    }
    drop(team);
    match_team_tables(&mut pg, url, &mut tables)?;
    let resumed = match meta_get(&meta, "copy_state") {
        None => {
            let found = work_rows(&mut pg, url)?;
            if found > 0 {
                return Err(TeamDbError::NotEmpty {
                    url: url.shown().to_string(),
                    what: format!("desks already work on it ({found} connections, jobs, divergences or contracts)"),
                }
                .into());
            }
            let mut tx = pg.transaction().map_err(err)?;
            // The desk's record of its resource tables' shapes replaces the one setting up made.
            tx.batch_execute(&format!(
                "DELETE FROM {SCHEMA}.resource_tables;
                 CREATE TABLE IF NOT EXISTS {SCHEMA}.bo_copy_progress (table_name text PRIMARY KEY, last_rowid bigint NOT NULL, rows bigint NOT NULL, finished boolean NOT NULL);"
            ))
            .map_err(err)?;
            for (k, v) in [
                ("copy_source", source_id.clone()),
                ("copy_state", "copying".to_string()),
                ("copy_started_at", super::now_utc()),
            ] {
                tx.execute(
                    &format!(
                        "INSERT INTO {SCHEMA}.bo_team_store (key, value) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                    ),
                    &[&k, &v],
                )
                .map_err(err)?;
            }
            tx.commit().map_err(err)?;
            false
        }
        Some("copying") => {
            let other = meta_get(&meta, "copy_source").unwrap_or("?");
            if other != source_id {
                return Err(TeamDbError::OtherCopy { url: url.shown().to_string(), other: other.to_string() }.into());
            }
            true
        }
        Some(_) => {
            return Err(TeamDbError::NotEmpty {
                url: url.shown().to_string(),
                what: format!(
                    "it already holds BackOffice data (copied from {} on {})",
                    meta_get(&meta, "copy_source").unwrap_or("?"),
                    meta_get(&meta, "copied_at").unwrap_or("?")
                ),
            }
            .into())
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
        let types: Vec<Type> = table
            .copies_rowid()
            .then_some(Type::INT8)
            .into_iter()
            .chain(table.columns.iter().map(|c| c.kind.pg().1))
            .collect();
        let select = batch_select(table);
        let copy_sql = format!(
            "COPY {} ({}{}) FROM STDIN BINARY",
            table.pg_name(),
            if table.copies_rowid() { "rowid, " } else { "" },
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
                        if table.copies_rowid() {
                            vals.push(Val::Int(id));
                        }
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
    advance_counters(&mut tx, url, &tables)?;
    super::bi::create_views(&mut tx, url)?;
    tx.batch_execute(&format!("DROP TABLE {SCHEMA}.bo_copy_progress")).map_err(err)?;
    for (k, v) in [("copy_state", "complete".to_string()), ("copied_at", super::now_utc())] {
        tx.execute(
            &format!(
                "INSERT INTO {SCHEMA}.bo_team_store (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
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
/// `target.partial` (made as a desk's file is, then `prepare`d: every ERP's resource tables),
/// which an interrupted copy goes on with; renamed to `target` once verified.
pub fn copy_from_team(
    url: &TeamUrl,
    target: &Path,
    prepare: &dyn Fn(&super::Store) -> CoreResult<()>,
    progress: &mut dyn FnMut(&CopyProgress),
    cancelled: &dyn Fn() -> bool,
) -> CoreResult<CopyReport> {
    if target.exists() {
        return Err(TeamDbError::TargetExists { path: target.display().to_string() }.into());
    }
    let mut pg = url.connect()?;
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let meta = team_meta(&mut pg, url)?;
    let Some(meta) = meta.filter(|m| meta_get(m, "copy_state") != Some("copying")) else {
        return Err(TeamDbError::NothingToRestore { url: url.shown().to_string() }.into());
    };
    let version: i64 = meta_get(&meta, "schema_version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let known = super::MIGRATIONS.len() as i64;
    if version > known {
        return Err(TeamDbError::Newer { url: url.shown().to_string(), found: version, known }.into());
    }
    if work_rows(&mut pg, url)? == 0 && meta_get(&meta, "copy_state").is_none() {
        return Err(TeamDbError::NothingToRestore { url: url.shown().to_string() }.into());
    }
    let source_id = url.shown().to_string();
    // One snapshot of the team database for the whole copy.
    let mut snap = pg.transaction().map_err(err)?;
    snap.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").map_err(err)?;

    let partial = partial_path(target);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CoreError::Db(format!("cannot create the folder {}: {e}", dir.display())))?;
    }
    let fresh = !partial.exists();
    if fresh {
        // A new desk's file, its resource tables made; the team's record of their shapes comes
        // with the rows.
        let store = super::Store::open(&partial)?;
        prepare(&store)?;
        store.write(|tx| Ok(tx.execute_batch("DELETE FROM resource_tables;")?))?;
    }
    let mut out = Connection::open(&partial)?;
    out.busy_timeout(std::time::Duration::from_secs(10))?;
    out.execute_batch("PRAGMA foreign_keys = OFF;")?;
    if fresh {
        let tx = out.transaction()?;
        tx.execute_batch(
            "CREATE TABLE bo_copy_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE bo_copy_progress (table_name TEXT PRIMARY KEY, last_rowid INTEGER NOT NULL, rows INTEGER NOT NULL, finished INTEGER NOT NULL);",
        )?;
        tx.execute("INSERT INTO bo_copy_meta (key, value) VALUES ('source', ?1)", [&source_id])?;
        tx.commit()?;
    } else {
        let other: Option<String> =
            out.query_row("SELECT value FROM bo_copy_meta WHERE key = 'source'", [], |r| r.get(0)).ok();
        if other.as_deref() != Some(source_id.as_str()) {
            return Err(TeamDbError::TargetExists { path: partial.display().to_string() }.into());
        }
    }
    let mut tables: Vec<Table> = desk_tables(&out, true)?;
    // A table the team database does not have (a resource no desk of the team ever synced there)
    // stays empty.
    let mut present = Vec::with_capacity(tables.len());
    for t in tables.iter_mut() {
        let cols = team_columns(&mut snap, url, &t.name)?;
        present.push(cols.is_some());
        if let Some((columns, _)) = cols {
            if let Some(c) = t.columns.iter().find(|c| !columns.contains(&c.name)) {
                return Err(TeamDbError::Mismatch {
                    table: t.name.clone(),
                    detail: format!("the team database's table has no column {}", c.name),
                }
                .into());
            }
        }
    }
    let tables: Vec<Table> = tables.into_iter().zip(present).filter(|(_, p)| *p).map(|(t, _)| t).collect();
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
            format!("SELECT rowid, {cols} FROM {} WHERE rowid > $1 ORDER BY rowid LIMIT {BATCH}", table.pg_name())
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
    for side in ["-wal", "-shm"] {
        let mut from = partial.clone().into_os_string();
        from.push(side);
        let mut to = target.to_path_buf().into_os_string();
        to.push(side);
        if Path::new(&from).exists() {
            let _ = std::fs::rename(&from, &to);
        }
    }
    // Open it as the app would (WAL; migrated if the team database is of an older version).
    drop(super::Store::open(target)?);
    Ok(report)
}
