//! The generic sync engine. A resource is declared once ([`ResourceSpec`]); a [`Source`] knows how to
//! fetch one page of it from an ERP; the engine pages through it, writes in batches, checkpoints at page
//! granularity, marks tombstones after complete reads, quarantines records it cannot parse, and keeps
//! per-resource state (cursor, last success, counts, last error) in SQLite.
//!
//! Data flow of one resource: a fetcher task pulls pages (with retries in the HTTP layer, and a
//! re-fetch of malformed pages here) into a bounded channel; the writer takes them, parses the columns
//! users filter on, and commits whenever `batch_size` records have accumulated, in the same transaction
//! as the checkpoint (`sync_state.resume_page`). A killed process resumes at the page after the last
//! committed one; upserts by primary key make re-reading a page harmless.

pub mod concurrency;
pub mod parse;
pub mod query;
pub mod schema;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::jobs::JobCtx;
use crate::model::Connection;
use crate::store::db::Dialect;
use crate::store::{now_utc, Backend, Store};

/// How a column is extracted and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum ColKind {
    /// Text as sent.
    Text,
    /// A calendar date, stored `yyyy-mm-dd`.
    Date,
    /// Money or quantity, stored as the exact decimal's text.
    Decimal,
    /// A flag or code, stored as text.
    Code,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    /// Dotted path in the record (`cliente.ruc`).
    pub field: &'static str,
    pub kind: ColKind,
}

pub const fn col(name: &'static str, field: &'static str, kind: ColKind) -> Column {
    Column { name, field, kind }
}

/// The date format an ERP expects in a filter parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    DdMmYyyy,
    YyyyMmDd,
}

impl DateFormat {
    pub fn format(self, d: NaiveDate) -> String {
        match self {
            DateFormat::DdMmYyyy => d.format("%d/%m/%Y").to_string(),
            DateFormat::YyyyMmDd => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A "modified since" filter the API offers for a resource.
#[derive(Debug, Clone, Copy)]
pub struct ModifiedFilter {
    pub from: &'static str,
    /// Some APIs need an upper bound too.
    pub to: Option<&'static str>,
    pub format: DateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListShape {
    /// A bare JSON array, paged by page number and size parameters.
    Array,
    /// `{count, next, previous, results}` (Django REST style).
    Paged,
}

/// One resource of an ERP, declared once.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    /// Stable name used by the CLI, the UI and `sync_state` (e.g. `productos`).
    pub name: &'static str,
    /// Local table.
    pub table: &'static str,
    /// Path relative to the connection's base URL.
    pub path: &'static str,
    pub shape: ListShape,
    /// Fixed query parameters (e.g. `tipo_registro=CLI`).
    pub query: &'static [(&'static str, &'static str)],
    pub modified: Option<ModifiedFilter>,
    /// A field in the body that holds the record's last modification (kept as `source_modified`).
    pub modified_field: Option<&'static str>,
    /// Field holding the record's id; a dotted path for a nested one.
    pub id_field: &'static str,
    pub columns: &'static [Column],
    /// Fields concatenated into the full-text index.
    pub search: &'static [&'static str],
}

impl ResourceSpec {
    /// Idempotent DDL for the resource's table, its full-text index and their triggers.
    ///
    /// The FTS5 index keeps no positions (`detail=none`, `columnsize=0`): the browser's search is by
    /// prefix terms, which need none, and without them the index's segment merges stay small, so a
    /// 1M-record sync keeps a flat memory profile (measured by `cargo xtask bench contifico-sync`).
    pub fn ddl(&self) -> String {
        let t = self.table;
        let (cols, indexes) = self.typed_columns_ddl();
        format!(
            r#"CREATE TABLE IF NOT EXISTS "{t}" (
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  raw TEXT NOT NULL{cols},
  search_text TEXT NOT NULL DEFAULT '',
  source_modified TEXT,
  fetched_at TEXT NOT NULL,
  sync_run_id TEXT NOT NULL,
  seen_run TEXT NOT NULL,
  deleted_at TEXT,
  PRIMARY KEY (connection_id, id)
);
{indexes}CREATE VIRTUAL TABLE IF NOT EXISTS "{t}_fts" USING fts5(search_text, content="{t}", content_rowid=rowid, detail=none, columnsize=0);
CREATE TRIGGER IF NOT EXISTS "{t}_ai" AFTER INSERT ON "{t}" BEGIN
  INSERT INTO "{t}_fts"(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER IF NOT EXISTS "{t}_ad" AFTER DELETE ON "{t}" BEGIN
  INSERT INTO "{t}_fts"("{t}_fts", rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER IF NOT EXISTS "{t}_au" AFTER UPDATE OF search_text ON "{t}" BEGIN
  INSERT INTO "{t}_fts"("{t}_fts", rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO "{t}_fts"(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
"#
        )
    }

    /// The same table on the team's PostgreSQL: a `rowid` PostgreSQL numbers (the browser's
    /// default order, as SQLite's), and the full-text index as a generated `tsvector` of the
    /// search text folded like FTS5 folds it (lower case, accents off: [`SEARCH_FOLD`]) under a GIN
    /// index, kept by PostgreSQL itself. Made by an operator, the table is handed to the operators'
    /// role (any operator may then change its shape) and the reviewers may read it.
    pub fn pg_ddl(&self) -> String {
        let t = self.table;
        let (cols, indexes) = self.typed_columns_ddl();
        let operator = crate::store::pg_schema::OPERATOR_ROLE;
        let reviewer = crate::store::pg_schema::REVIEWER_ROLE;
        format!(
            r#"CREATE TABLE IF NOT EXISTS "{t}" (
  rowid BIGINT GENERATED BY DEFAULT AS IDENTITY,
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  raw TEXT NOT NULL{cols},
  search_text TEXT NOT NULL DEFAULT '',
  source_modified TEXT,
  fetched_at TEXT NOT NULL,
  sync_run_id TEXT NOT NULL,
  seen_run TEXT NOT NULL,
  deleted_at TEXT,
  search_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', {fold})) STORED,
  PRIMARY KEY (connection_id, id)
);
{indexes}CREATE INDEX IF NOT EXISTS "{t}_fts" ON "{t}" USING gin (search_tsv);
DO $grants$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{operator}') THEN
    IF pg_has_role('{operator}', 'MEMBER') THEN
      EXECUTE 'ALTER TABLE "{t}" OWNER TO {operator}';
    ELSE
      EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON "{t}" TO {operator}';
    END IF;
    EXECUTE 'GRANT SELECT ON "{t}" TO {reviewer}';
  END IF;
END $grants$;
"#,
            fold = SEARCH_FOLD.replace("{}", "search_text"),
        )
    }

    /// The typed columns (`, "name" TEXT` each) and their indexes, the same in both dialects.
    fn typed_columns_ddl(&self) -> (String, String) {
        let t = self.table;
        let cols: String = self.columns.iter().map(|c| format!(",\n  \"{}\" TEXT", c.name)).collect();
        let indexes: String = self
            .columns
            .iter()
            // Text columns are searched with "contains" (LIKE '%x%') and the FTS index, which a
            // b-tree cannot serve; dates, codes and amounts get one for equality, ranges and sorting.
            .filter(|c| c.kind != ColKind::Text)
            .map(|c| format!("CREATE INDEX IF NOT EXISTS \"{t}_{0}\" ON \"{t}\"(connection_id, \"{0}\");\n", c.name))
            .collect();
        (cols, indexes)
    }

    /// The resource table's DDL for `backend`.
    pub fn ddl_for(&self, backend: Backend) -> String {
        match backend {
            Backend::Sqlite => self.ddl(),
            Backend::Postgres => self.pg_ddl(),
        }
    }

    /// The writer's staging table for one batch of this resource (a temporary table of the
    /// writing connection, emptied after each batch), as named in SQL.
    fn stage(&self, backend: Backend) -> String {
        Dialect(backend).temp_table(&format!("stage_{}", self.table))
    }

    /// The staging table, made if this connection has none yet; `seq` numbers the rows in the
    /// order they were staged (SQLite's rowid; an identity on PostgreSQL, which COPY fills in
    /// order).
    fn stage_ddl(&self, backend: Backend) -> String {
        let cols: String = self.columns.iter().map(|c| format!(", \"{}\" TEXT", c.name)).collect();
        let seq = match backend {
            Backend::Sqlite => "seq INTEGER PRIMARY KEY",
            Backend::Postgres => "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        };
        format!(
            "CREATE TEMP TABLE IF NOT EXISTS \"stage_{t}\" ({seq}, id TEXT NOT NULL, raw TEXT NOT NULL{cols},
               search_text TEXT NOT NULL, source_modified TEXT)",
            t = self.table
        )
    }

    /// The staged columns, in the order a row of [`Row::staged`] gives them.
    fn stage_columns(&self) -> Vec<String> {
        let mut v = vec!["id".to_string(), "raw".to_string()];
        v.extend(self.columns.iter().map(|c| format!("\"{}\"", c.name)));
        v.push("search_text".into());
        v.push("source_modified".into());
        v
    }

    /// The staged batch into the resource's table in one statement: a row is rewritten only when
    /// its record changed (or it had been deleted). One statement per batch matters for the
    /// full-text index: SQLite opens a statement savepoint for every statement that writes it, and
    /// FTS5 flushes its pending terms to a new segment at each one; row by row, that was a segment
    /// (and the merges that follow) per record. A record staged twice in one batch (it moved
    /// between pages while they were read) is written as last staged: SQLite applies the rows in
    /// order; PostgreSQL, which may not touch a row twice in one statement, takes the last.
    fn upsert_from_stage_sql(&self, backend: Backend) -> String {
        let names: String = self.columns.iter().map(|c| format!(", \"{}\"", c.name)).collect();
        let updates: String = self.columns.iter().map(|c| format!(", \"{0}\"=excluded.\"{0}\"", c.name)).collect();
        let source = match backend {
            Backend::Sqlite => format!("{} WHERE true ORDER BY seq", self.stage(backend)),
            // PostgreSQL locks (so writes) every row that meets ON CONFLICT, even one its WHERE
            // leaves alone: rows stored unchanged are left out before, each looked up by key (a
            // scalar subquery is not turned into a join planned from stale statistics).
            Backend::Postgres => format!(
                "(SELECT DISTINCT ON (id) * FROM {} ORDER BY id, seq DESC) s
                 WHERE (SELECT r.raw = s.raw AND r.deleted_at IS NULL FROM \"{t}\" r
                         WHERE r.connection_id = ?1 AND r.id = s.id) IS NOT TRUE",
                self.stage(backend),
                t = self.table
            ),
        };
        format!(
            "INSERT INTO \"{t}\" (connection_id, id, raw{names}, search_text, source_modified, fetched_at, sync_run_id, seen_run, deleted_at)
             SELECT ?1, id, raw{names}, search_text, source_modified, ?2, ?3, ?4, NULL FROM {source}
             ON CONFLICT(connection_id, id) DO UPDATE SET raw=excluded.raw{updates}, search_text=excluded.search_text,
               source_modified=excluded.source_modified, fetched_at=excluded.fetched_at,
               sync_run_id=excluded.sync_run_id, seen_run=excluded.seen_run, deleted_at=NULL
             WHERE \"{t}\".raw IS DISTINCT FROM excluded.raw OR \"{t}\".deleted_at IS NOT NULL",
            t = self.table,
        )
    }
}

/// How the search text is folded for PostgreSQL's full-text index and the terms searched for it
/// (`{}` is the text): lower case, and the accents of Portuguese and Spanish off, as SQLite's
/// FTS5 (`unicode61`) folds them, so "açaí" finds "ACAI" on either backend.
pub const SEARCH_FOLD: &str = "translate(lower({}), 'áàâãäéèêëíìîïóòôõöúùûüçñ', 'aaaaaeeeeiiiiooooouuuucn')";

/// What the engine asks a source for.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// For a source built from stored records: when this resource's previous complete read ended
    /// (RFC 3339 UTC), if this read simply continues from it (not a resumed read, nor a "since" the
    /// user gave): records stored or changed after it are exactly what is new to it.
    pub changed_after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PageResult {
    pub records: Vec<Value>,
    /// No page after this one.
    pub last: bool,
    /// Total records, when the API says.
    pub total: Option<u64>,
    pub url: String,
}

/// Fetches pages of declared resources from one ERP connection.
pub trait Source: Send + Sync + 'static {
    fn fetch_page(&self, spec: &ResourceSpec, req: PageRequest) -> impl Future<Output = CoreResult<PageResult>> + Send;

    /// A resource built from others' stored records (e.g. stock per stored product) waits until
    /// every other resource of the run is done.
    fn runs_after_others(&self, _spec: &ResourceSpec) -> bool {
        false
    }

    /// Whether a read that could continue from `changed_after` (the previous complete read's end;
    /// `None`: never read) must read the resource whole instead, with tombstones: stock per product
    /// when the warehouses changed meanwhile, say.
    fn reads_whole(&self, _spec: &ResourceSpec, _changed_after: Option<&str>) -> CoreResult<bool> {
        Ok(false)
    }
}

/// Requests in flight per connection when nothing else is said.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// Resources read at the same time within one run (they share the connection's concurrency).
const RESOURCES_AT_ONCE: usize = 4;
/// Up to this many when the run waits on the ERP (every fetched page reaches its writer at once, for
/// a tenth of a second): more resources keep the connection's requests busy with real pages
/// (`cargo xtask bench sync --records 30000 --latency-ms 200`: 5.25–5.37 s with four, 4.69–4.80 s
/// with eight). Not always: with a fast ERP the writer is the bottleneck, and eight at once made a
/// 1M-record sync at 0 ms slower (32.7 s → 36.4 s) and bigger (137 → 167 MB peak).
const RESOURCES_AT_ONCE_WAITING: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct SyncOptions {
    /// Resource names; empty = all.
    pub resources: Vec<String>,
    /// Only records changed since this instant (RFC 3339), instead of the stored cursor.
    pub since: Option<String>,
    pub full_refresh: bool,
    pub page_size: Option<u32>,
    pub batch_size: Option<u32>,
    /// Requests in flight at most for this connection (default 8; Contífico: CONTIFICO_CONCURRENCY).
    #[ts(optional)]
    pub concurrency: Option<u32>,
}

/// Per-resource state and counts, for the summary table.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ResourceSummary {
    pub resource: String,
    #[ts(type = "number")]
    pub records: i64,
    #[ts(type = "number")]
    pub deleted: i64,
    #[ts(type = "number")]
    pub quarantined: i64,
    pub last_fetched_at: Option<String>,
    pub last_success_at: Option<String>,
    pub cursor: Option<String>,
    pub last_error: Option<String>,
    pub supports_incremental: bool,
    /// A run stopped mid-way; the next one resumes at this page.
    pub resume_page: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct SyncRun {
    pub id: String,
    pub job_id: Option<String>,
    pub erp: String,
    pub mode: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    #[ts(type = "Record<string, number>")]
    pub counts: BTreeMap<String, i64>,
    /// Resource name → plain-language error.
    pub errors: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct QuarantinedRecord {
    pub resource: String,
    pub record_id: String,
    /// Why, in English (logs, CLI).
    pub reason: String,
    /// Why, for a screen in the user's language.
    pub why: Reason,
    pub at: String,
    pub raw: String,
}

/// Why a record could not be stored: a dictionary key (full path, e.g. `jobLog.parse.not_a_date`
/// or `omie.errors.omie_invalid_tax_id`), the values its text interpolates, and the English text.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Reason {
    pub key: String,
    pub params: BTreeMap<String, String>,
    pub message: String,
}

impl Reason {
    pub fn new(key: &str, params: &[(&str, &str)], message: String) -> Reason {
        Reason {
            key: key.to_string(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            message,
        }
    }

    /// A field whose value does not parse.
    pub fn field(field: &str, p: &parse::Problem) -> Reason {
        let mut r = Reason::new(
            &format!("jobLog.parse.{}", p.key),
            &[("field", field), ("value", &p.value)],
            format!("field \"{field}\": {p}"),
        );
        if let Some(x) = &p.extra {
            r.params.insert("zone".into(), x.clone());
        }
        r
    }

    /// The JSON kept in the quarantine's `reason` column.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.message.clone())
    }

    /// A stored reason; the plain English text older versions kept is shown as it is.
    pub fn from_stored(text: &str) -> Reason {
        serde_json::from_str(text).unwrap_or_else(|_| Reason {
            key: String::new(),
            params: BTreeMap::new(),
            message: text.to_string(),
        })
    }
}

/// A resource as the UI lists it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ResourceInfo {
    pub name: String,
    pub columns: Vec<query::ColumnInfo>,
    pub supports_incremental: bool,
}

impl ResourceInfo {
    pub fn of(specs: &[ResourceSpec]) -> Vec<ResourceInfo> {
        specs
            .iter()
            .map(|r| ResourceInfo {
                name: r.name.to_string(),
                columns: r
                    .columns
                    .iter()
                    .map(|c| query::ColumnInfo { name: c.name.to_string(), kind: c.kind })
                    .collect(),
                supports_incremental: r.modified.is_some(),
            })
            .collect()
    }
}

/// The declared resource called `name`, or a plain refusal listing the ERP's resources.
pub fn find_resource<'a>(specs: &'a [ResourceSpec], erp_label: &str, name: &str) -> CoreResult<&'a ResourceSpec> {
    specs.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
        CoreError::invalid(
            "resources",
            format!("\"{name}\" is not a {erp_label} resource. Choose among: {}", known.join(", ")),
        )
    })
}

/// Options checked before a sync job exists: every resource is one of the ERP's, `since` is a date.
pub fn validate_options(specs: &[ResourceSpec], erp_label: &str, opts: &SyncOptions) -> CoreResult<()> {
    for r in &opts.resources {
        find_resource(specs, erp_label, r)?;
    }
    if let Some(s) = &opts.since {
        parse_since(s)?;
    }
    Ok(())
}

fn parse_since(s: &str) -> CoreResult<chrono::DateTime<Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            parse::date(&Value::String(s.to_string()))
                .ok()
                .flatten()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
                .ok_or(())
        })
        .map_err(|_| CoreError::invalid("since", format!("\"{s}\" is not a date or date-time")))
}

/// Reads a positive whole number from the environment (the seeds' SYNC_BATCH_SIZE, CONTIFICO_PAGE_SIZE...).
pub fn env_u32(name: &str) -> Option<u32> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).filter(|v| *v > 0)
}

/// Days re-read before the cursor, so records changed around the boundary are not missed (filters
/// are by calendar day; upserts make the overlap harmless).
pub const LOOKBACK_DAYS: i64 = 1;
/// A malformed page is fetched again this many times before the resource fails.
const MALFORMED_RETRIES: u32 = 3;

/// What every resource of one run shares.
#[derive(Clone, Copy)]
struct ResourcePlan<'a> {
    run_id: &'a str,
    since: Option<chrono::DateTime<Utc>>,
    full_refresh: bool,
    page_size: u32,
    batch_size: u32,
    total: usize,
    /// Pages fetched and parsed that have not reached their resource's writer yet.
    backlog: &'a Arc<std::sync::atomic::AtomicUsize>,
}

pub struct Engine<S: Source> {
    pub store: Store,
    pub source: Arc<S>,
    pub conn: Connection,
    pub erp: &'static str,
}

struct State {
    cursor: Option<String>,
    last_success_at: Option<String>,
    resume_page: Option<u32>,
    resume_run: Option<String>,
    resume_mode: Option<String>,
    resume_since: Option<String>,
}

/// A fetched page, already parsed.
struct FetchedPage {
    parsed: Vec<Parsed>,
    last: bool,
    total: Option<u64>,
    /// Counts the page in the run's backlog until its writer takes it (or it is dropped).
    _in_backlog: Option<InBacklog>,
}

/// One page in the run's backlog: fetched and parsed, not yet taken by its writer.
struct InBacklog(Arc<std::sync::atomic::AtomicUsize>);

impl InBacklog {
    fn new(backlog: &Arc<std::sync::atomic::AtomicUsize>) -> InBacklog {
        backlog.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        InBacklog(backlog.clone())
    }
}

impl Drop for InBacklog {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// One parsed record ready to write.
struct Row {
    id: String,
    raw: String,
    cols: Vec<Option<String>>,
    search: String,
    modified: Option<String>,
}

impl Row {
    /// The row as staged ([`ResourceSpec::stage_columns`]' order), borrowing its text.
    fn staged(&self) -> Vec<Option<&str>> {
        let mut v = Vec::with_capacity(self.cols.len() + 4);
        v.push(Some(self.id.as_str()));
        v.push(Some(self.raw.as_str()));
        v.extend(self.cols.iter().map(|c| c.as_deref()));
        v.push(Some(self.search.as_str()));
        v.push(self.modified.as_deref());
        v
    }
}

enum Parsed {
    Ok(Row),
    Quarantine { id: String, raw: String, reason: Reason },
}

/// Brings the tables of `specs` to their declared shape (see [`schema`]).
pub fn ensure_tables(store: &Store, specs: &[ResourceSpec]) -> CoreResult<()> {
    schema::migrate_resource_tables(store, specs).map(|_| ())
}

/// A typed column's stored text, read from the record (`Err`: the value does not parse as its kind).
pub(crate) fn column_value(c: &Column, v: &Value) -> Result<Option<String>, parse::Problem> {
    let val = parse::get_path(v, c.field);
    Ok(match c.kind {
        ColKind::Text | ColKind::Code => match val {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        },
        ColKind::Date => parse::date(val)?.map(|d| d.format("%Y-%m-%d").to_string()),
        ColKind::Decimal => parse::decimal(val)?.map(|d| d.to_string()),
    })
}

fn parse_record(spec: &ResourceSpec, tz: chrono_tz::Tz, v: &Value) -> Parsed {
    let raw = v.to_string();
    // `id_field` may be a dotted path (Omie keeps some ids in a header block: `cabec.nIdReceb`).
    let id = match parse::get_path(v, spec.id_field) {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Parsed::Quarantine {
                id: format!("(no {})", spec.id_field),
                reason: Reason::new(
                    "jobLog.parse.no_id",
                    &[("field", spec.id_field)],
                    format!("the record has no \"{}\"; it cannot be stored", spec.id_field),
                ),
                raw,
            }
        }
    };
    let mut cols = Vec::with_capacity(spec.columns.len());
    for c in spec.columns {
        match column_value(c, v) {
            Ok(out) => cols.push(out),
            Err(e) => return Parsed::Quarantine { id, raw, reason: Reason::field(c.field, &e) },
        }
    }
    let modified = match spec.modified_field {
        Some(f) => match parse::datetime_utc(parse::get_path(v, f), tz) {
            Ok(m) => m,
            Err(e) => return Parsed::Quarantine { id, raw, reason: Reason::field(f, &e) },
        },
        None => None,
    };
    let mut search = String::new();
    for f in spec.search {
        match parse::get_path(v, f) {
            Value::String(s) => {
                search.push_str(s);
                search.push(' ');
            }
            Value::Null => {}
            other => {
                search.push_str(&other.to_string());
                search.push(' ');
            }
        }
    }
    Parsed::Ok(Row { id, raw, cols, search, modified })
}

impl<S: Source> Engine<S> {
    fn state(&self, resource: &str) -> CoreResult<State> {
        self.store.query(|db| {
            let row = db.query_opt(
                "SELECT cursor, resume_page, resume_run, resume_mode, resume_since, last_success_at FROM sync_state
                 WHERE connection_id=?1 AND erp=?2 AND resource=?3",
                crate::vals![self.conn.id, self.erp, resource],
            )?;
            let state = row
                .map(|r| -> CoreResult<State> {
                    Ok(State {
                        cursor: r.get(0)?,
                        resume_page: r.get(1)?,
                        resume_run: r.get(2)?,
                        resume_mode: r.get(3)?,
                        resume_since: r.get(4)?,
                        last_success_at: r.get(5)?,
                    })
                })
                .transpose()?;
            Ok(state.unwrap_or(State {
                cursor: None,
                last_success_at: None,
                resume_page: None,
                resume_run: None,
                resume_mode: None,
                resume_since: None,
            }))
        })
    }

    /// Rows this connection has in the given resources' tables (marked deleted ones included).
    fn stored_rows(&self, specs: &[ResourceSpec]) -> CoreResult<i64> {
        self.store.query(|db| {
            let mut n = 0i64;
            for s in specs {
                n += db.one::<i64>(
                    &format!("SELECT count(*) FROM \"{}\" WHERE connection_id=?1", s.table),
                    crate::vals![self.conn.id],
                )?;
            }
            Ok(n)
        })
    }

    /// Syncs the chosen resources; a failing resource does not stop the others, except for
    /// credential errors, which stop the run.
    pub async fn run(&self, ctx: &JobCtx, specs: &[ResourceSpec], opts: &SyncOptions) -> CoreResult<SyncRun> {
        ensure_tables(&self.store, specs)?;
        let chosen: Vec<ResourceSpec> = if opts.resources.is_empty() {
            specs.to_vec()
        } else {
            let mut v = vec![];
            for name in &opts.resources {
                match specs.iter().find(|s| s.name == name.as_str()) {
                    Some(s) => v.push(*s),
                    None => {
                        let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                        return Err(CoreError::invalid(
                            "resources",
                            format!("\"{name}\" is not a {} resource. Choose among: {}", self.erp, known.join(", ")),
                        ));
                    }
                }
            }
            v
        };
        let since = opts.since.as_deref().map(parse_since).transpose()?;
        // Each ERP's room sets its own default page size (Contífico: CONTIFICO_PAGE_SIZE).
        let page_size = opts.page_size.unwrap_or(200).clamp(1, 5000);
        let batch_size = opts.batch_size.or_else(|| env_u32("SYNC_BATCH_SIZE")).unwrap_or(1000).max(1);
        let run_id = uuid::Uuid::new_v4().to_string();
        let mode = if opts.full_refresh { "full" } else { "incremental" };
        // Rows are never removed (a deletion upstream is a mark), so the rows stored after the run
        // minus those before are the records it added; the rest of what it wrote was updated.
        let rows_before = self.stored_rows(&chosen)?;
        self.store.tx(|db| {
            db.execute(
                "INSERT INTO sync_runs (id, job_id, connection_id, erp, mode, status, started_at, counts, errors, options)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, '{}', '{}', ?7)",
                crate::vals![
                    run_id,
                    ctx.id(),
                    self.conn.id,
                    self.erp,
                    mode,
                    now_utc(),
                    serde_json::to_string(opts).unwrap_or_default()
                ],
            )?;
            Ok(())
        })?;
        let mut errors = BTreeMap::new();
        let mut fatal = None;
        let total = chosen.len();
        let limiter = Arc::new(concurrency::Concurrency::new(
            opts.concurrency.unwrap_or(DEFAULT_CONCURRENCY).clamp(1, 64) as usize,
        ));
        let backlog = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let plan = ResourcePlan {
            run_id: &run_id,
            since,
            full_refresh: opts.full_refresh,
            page_size,
            batch_size,
            total,
            backlog: &backlog,
        };
        // The first resource's first page alone (a rejected key then stops the run after one
        // attempt); once the ERP has answered it, the other resources start too, several at a time
        // sharing the connection's concurrency; the resources built from the others' records last.
        type Queue<'a> = std::collections::VecDeque<(usize, &'a ResourceSpec)>;
        let (mut later, mut queue): (Queue<'_>, Queue<'_>) =
            chosen.iter().enumerate().partition(|(_, s)| self.source.runs_after_others(s));
        let first_answered = Arc::new(tokio::sync::Notify::new());
        let mut running = futures::stream::FuturesUnordered::new();
        if let Some((i, spec)) = queue.pop_front() {
            running.push(Box::pin(self.sync_one(ctx, spec, &plan, &limiter, i, Some(first_answered.clone()))));
        }
        let mut opened = queue.is_empty();
        let mut at_once = RESOURCES_AT_ONCE;
        // Every 25 ms: is the run waiting on the ERP? Four looks in a row (a tenth of a second) and
        // the run reads more resources at once (a fast ERP's writer backlog is empty only for
        // moments).
        let mut look = tokio::time::interval(std::time::Duration::from_millis(25));
        look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut waiting_looks = 0u32;
        loop {
            use futures::StreamExt;
            if opened {
                while running.len() < at_once {
                    let next = match queue.pop_front() {
                        Some(x) => Some(x),
                        // The resources built from the others start when the others are all done.
                        None if running.is_empty() => later.pop_front(),
                        None => None,
                    };
                    let Some((i, spec)) = next else { break };
                    running.push(Box::pin(self.sync_one(ctx, spec, &plan, &limiter, i, None)));
                }
            }
            let done = tokio::select! {
                r = running.next() => r,
                _ = first_answered.notified(), if !opened => {
                    opened = true;
                    continue;
                }
                _ = look.tick(), if opened && !queue.is_empty() && at_once < RESOURCES_AT_ONCE_WAITING => {
                    let waiting = backlog.load(std::sync::atomic::Ordering::Acquire) == 0;
                    waiting_looks = if waiting { waiting_looks + 1 } else { 0 };
                    if waiting_looks >= 4 {
                        at_once = RESOURCES_AT_ONCE_WAITING;
                        ctx.log_t(
                            "info",
                            "sync.more_at_once",
                            &[("count", at_once.to_string())],
                            &format!("the ERP is slow to answer: reading up to {at_once} resources at once"),
                        );
                        waiting_looks = 0;
                    }
                    continue;
                }
            };
            let Some((spec, r)) = done else {
                if queue.is_empty() && later.is_empty() {
                    break;
                }
                opened = true;
                continue;
            };
            opened = true;
            if ctx.is_cancelled() {
                break;
            }
            match r {
                Ok(()) => {}
                Err(CoreError::Cancelled) => break,
                Err(e) => {
                    let msg = format!("{}: {e}", spec.name);
                    ctx.log_t(
                        "error",
                        "sync.resource_failed",
                        &[
                            ("resource", spec.name.to_string()),
                            ("error", e.to_string()),
                            ("error_json", e.to_api().to_stored()),
                            ("code", e.code().to_string()),
                        ],
                        &msg,
                    );
                    ctx.add_count("resources_failed", 1);
                    self.store.tx(|db| {
                        db.execute(
                            "INSERT INTO sync_state (connection_id, erp, resource, last_error, last_error_at) VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT(connection_id, erp, resource) DO UPDATE SET last_error=excluded.last_error, last_error_at=excluded.last_error_at",
                            crate::vals![self.conn.id, self.erp, spec.name, e.to_string(), now_utc()],
                        )?;
                        Ok(())
                    })?;
                    errors.insert(spec.name.to_string(), e.to_string());
                    // A rejected or blocked key stops the run: every other resource would fail too.
                    if e.stops_the_run() {
                        fatal = Some(e);
                        break;
                    }
                }
            }
        }
        if limiter.decreases() > 0 {
            ctx.log_t(
                "info",
                "sync.concurrency_lowered",
                &[("times", limiter.decreases().to_string()), ("limit", limiter.limit().to_string())],
                &format!(
                    "the ERP pushed back {} time(s); requests in flight were lowered (now {})",
                    limiter.decreases(),
                    limiter.limit()
                ),
            );
        }
        let status = if ctx.is_cancelled() {
            "cancelled"
        } else if fatal.is_some() || !errors.is_empty() {
            "failed"
        } else {
            "succeeded"
        };
        if let Ok(after) = self.stored_rows(&chosen) {
            let added = (after - rows_before).max(0);
            let c = ctx.counts();
            let changed = c.get("records").copied().unwrap_or(0) - c.get("unchanged").copied().unwrap_or(0);
            ctx.add_count("added", added);
            ctx.add_count("updated", (changed - added).max(0));
        }
        let counts = ctx.counts();
        self.store.tx(|db| {
            db.execute(
                "UPDATE sync_runs SET status=?2, finished_at=?3, counts=?4, errors=?5 WHERE id=?1",
                crate::vals![
                    run_id,
                    status,
                    now_utc(),
                    serde_json::to_string(&counts).unwrap_or_default(),
                    serde_json::to_string(&errors).unwrap_or_default()
                ],
            )?;
            Ok(())
        })?;
        // Fresh planner statistics for what was just written (cheap: SQLite analyses only the
        // tables that changed enough, with a row limit), so rules, reports and BI queries over the
        // synced tables pick the right index. (PostgreSQL's autovacuum analyses a team database's
        // tables by itself.)
        if self.store.backend() == Backend::Sqlite {
            if let Err(e) = self.store.write(|tx| Ok(tx.execute_batch("PRAGMA optimize=0x10002;")?)) {
                tracing::warn!(error = %e, "could not refresh the planner's statistics");
            }
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        if ctx.is_cancelled() {
            return Err(CoreError::Cancelled);
        }
        if !errors.is_empty() {
            let failed: Vec<&String> = errors.keys().collect();
            return Err(CoreError::Remote {
                connection: self.conn.name.clone(),
                remote_code: "sync_partial".into(),
                message: format!(
                    "{} of {} resources could not be synced ({}); the others were saved. See the job log for each reason, then run the sync again.",
                    errors.len(),
                    total,
                    failed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        sync_runs(&self.store, &self.conn.id, 1)?.pop().ok_or_else(|| CoreError::Internal("sync run vanished".into()))
    }

    async fn sync_one<'a>(
        &self,
        ctx: &JobCtx,
        spec: &'a ResourceSpec,
        plan: &ResourcePlan<'_>,
        limiter: &Arc<concurrency::Concurrency>,
        index: usize,
        first_answered: Option<Arc<tokio::sync::Notify>>,
    ) -> (&'a ResourceSpec, CoreResult<()>) {
        (spec, self.sync_resource(ctx, spec, plan, limiter, index, first_answered).await)
    }

    async fn sync_resource(
        &self,
        ctx: &JobCtx,
        spec: &ResourceSpec,
        plan: &ResourcePlan<'_>,
        limiter: &Arc<concurrency::Concurrency>,
        index: usize,
        first_answered: Option<Arc<tokio::sync::Notify>>,
    ) -> CoreResult<()> {
        let ResourcePlan { run_id, since, full_refresh, page_size, batch_size, total, backlog } = *plan;
        let tz: chrono_tz::Tz = self.conn.timezone.parse().unwrap_or(chrono_tz::UTC);
        let state = self.state(spec.name)?;
        let started_local = Utc::now().with_timezone(&tz).date_naive();
        // Resume an interrupted run of this resource with its own parameters, or plan a new one.
        let (mut page, run_tag, full, since_date) = match (state.resume_page, &state.resume_run) {
            (Some(p), Some(tag)) if !full_refresh || state.resume_mode.as_deref() == Some("full") => {
                let full = state.resume_mode.as_deref() == Some("full");
                let since = state.resume_since.as_deref().and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
                ctx.log_t(
                    "info",
                    "sync.resuming",
                    &[("resource", spec.name.to_string()), ("page", (p + 1).to_string())],
                    &format!("{}: resuming the interrupted sync at page {}", spec.name, p + 1),
                );
                (p + 1, tag.clone(), full, since)
            }
            _ => {
                let cursor_date = state
                    .cursor
                    .as_deref()
                    .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                    .map(|d| d.with_timezone(&tz).date_naive() - chrono::Duration::days(LOOKBACK_DAYS));
                let since_date = since.map(|s| s.with_timezone(&tz).date_naive()).or(cursor_date);
                let full = full_refresh
                    || spec.modified.is_none()
                    || since_date.is_none()
                    || (since.is_none() && self.source.reads_whole(spec, state.last_success_at.as_deref())?);
                (1u32, run_id.to_string(), full, if full { None } else { since_date })
            }
        };
        // A fresh incremental read that continues from the cursor (not a resumed page, nor the
        // user's own "since"): sources over stored records may use the previous read's end.
        let fresh = state.resume_page.is_none() || full_refresh;
        let changed_after = (!full && fresh && since.is_none()).then(|| state.last_success_at.clone()).flatten();
        let mode = if full { "full" } else { "incremental" };
        let english = match since_date {
            Some(d) => format!("{}: {mode} read of records changed since {d}", spec.name),
            None => format!("{}: {mode} read", spec.name),
        };
        let name = spec.name.to_string();
        match (full, since_date) {
            (true, None) => ctx.log_t("info", "sync.read_full", &[("resource", name.clone())], &english),
            (false, None) => ctx.log_t("info", "sync.read_incremental", &[("resource", name.clone())], &english),
            (true, Some(d)) => ctx.log_t(
                "info",
                "sync.read_full_since",
                &[("resource", name.clone()), ("since", d.to_string())],
                &english,
            ),
            (false, Some(d)) => ctx.log_t(
                "info",
                "sync.read_incremental_since",
                &[("resource", name.clone()), ("since", d.to_string())],
                &english,
            ),
        }
        let conn_id = self.conn.id.clone();
        let resource_start = Instant::now();
        let mut fetched: i64 = 0;

        // Fetcher: pages are fetched and parsed on tasks of their own and reach the writer in page
        // order through a small channel, so requests and parsing run while batches are written.
        // The first page is read alone; when it is full and more follow, the next pages are asked
        // for ahead, as many at once as the connection's concurrency allows (their answers are
        // still written in order, so a checkpoint never skips a page).
        let (tx, mut rx) = tokio::sync::mpsc::channel::<CoreResult<(u32, FetchedPage)>>(2);
        let source = self.source.clone();
        let spec_f = *spec;
        let cancel = ctx.cancel_token();
        let first_page = page;
        let limiter_f = limiter.clone();
        // The lowest page known to be the last: a page read ahead past it is not asked for (it
        // would come back empty, holding a slot another resource could use).
        let known_last = Arc::new(std::sync::atomic::AtomicU32::new(u32::MAX));
        let backlog = backlog.clone();
        let fetcher = tokio::spawn(async move {
            let fetch = |p: u32| {
                let source = source.clone();
                let limiter = limiter_f.clone();
                let changed_after = changed_after.clone();
                let known_last = known_last.clone();
                let backlog = backlog.clone();
                async move {
                    let req = PageRequest { page: p, page_size, since: since_date, until: None, changed_after };
                    let slot = limiter.acquire().await;
                    if p > known_last.load(std::sync::atomic::Ordering::Acquire) {
                        // Never written: the writer stops at the last page.
                        drop(slot);
                        return Ok((p, FetchedPage { parsed: vec![], last: true, total: None, _in_backlog: None }, 0));
                    }
                    let started = Instant::now();
                    let mut attempt = 0;
                    let res = loop {
                        attempt += 1;
                        match source.fetch_page(&spec_f, req.clone()).await {
                            Err(CoreError::NotJson { .. }) if attempt < MALFORMED_RETRIES => continue,
                            other => break other,
                        }
                    };
                    slot.done(started.elapsed(), res.is_ok());
                    if matches!(&res, Ok(r) if r.last) {
                        known_last.fetch_min(p, std::sync::atomic::Ordering::AcqRel);
                    }
                    res.map(|r| {
                        let parsed: Vec<Parsed> = r.records.iter().map(|v| parse_record(&spec_f, tz, v)).collect();
                        let n = r.records.len() as u32;
                        (
                            p,
                            FetchedPage {
                                parsed,
                                last: r.last,
                                total: r.total,
                                _in_backlog: Some(InBacklog::new(&backlog)),
                            },
                            n,
                        )
                    })
                }
            };
            // The first page alone.
            let first = fetch(first_page).await;
            if let (Ok(_), Some(n)) = (&first, &first_answered) {
                n.notify_one();
            }
            // The size the ERP really pages by (an API may cap what was asked for).
            let (per_page, total_records) = match &first {
                Ok((_, f, n)) => (*n, f.total),
                Err(_) => (0, None),
            };
            let first_last = first.as_ref().map(|(_, f, _)| f.last).unwrap_or(true);
            if tx.send(first.map(|(p, f, _)| (p, f))).await.is_err() || first_last {
                return;
            }
            // A known total tells where the pages end; otherwise read ahead until a page says last.
            let last_page = match (total_records, per_page) {
                (Some(t), n) if n > 0 => Some((t.div_ceil(n as u64) as u32).max(first_page)),
                _ => None,
            };
            let window = if per_page > 0 { limiter_f.cap() } else { 1 };
            let mut next = first_page + 1;
            let mut ahead: std::collections::VecDeque<tokio::task::JoinHandle<_>> = Default::default();
            loop {
                while ahead.len() < window
                    && last_page.is_none_or(|l| next <= l)
                    && next <= known_last.load(std::sync::atomic::Ordering::Acquire)
                    && !cancel.is_cancelled()
                {
                    ahead.push_back(tokio::spawn(fetch(next)));
                    next += 1;
                }
                let Some(h) = ahead.pop_front() else { return };
                let res = match h.await {
                    Ok(r) => r.map(|(p, f, _)| (p, f)),
                    Err(e) => Err(CoreError::Internal(format!("page task: {e}"))),
                };
                let last = matches!(&res, Ok((_, f)) if f.last) || res.is_err();
                if cancel.is_cancelled() || tx.send(res).await.is_err() || last {
                    for h in ahead {
                        h.abort();
                    }
                    return;
                }
            }
        });

        let mut pending: Vec<Parsed> = Vec::new();
        let mut pending_page = page;
        let mut outcome: CoreResult<()> = Ok(());
        while let Some(msg) = rx.recv().await {
            let (p, result) = match msg {
                Ok(x) => x,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            if ctx.is_cancelled() {
                outcome = Err(CoreError::Cancelled);
                break;
            }
            // The writer has the page now: it leaves the run's backlog.
            let FetchedPage { parsed, last, total: page_total, _in_backlog } = result;
            drop(_in_backlog);
            fetched += parsed.len() as i64;
            pending.extend(parsed);
            pending_page = p;
            page = p;
            let rate = fetched as f64 / resource_start.elapsed().as_secs_f64().max(0.001);
            let frac = match page_total {
                Some(t) if t > 0 => (fetched as f64 / t as f64).min(1.0),
                _ => 0.5,
            };
            ctx.progress(
                Some((index as f64 + frac) / total as f64),
                format!("{}: page {p}, {fetched} records, {rate:.0}/s", spec.name),
            );
            if pending.len() >= batch_size as usize || last {
                let batch = std::mem::take(&mut pending);
                let n = self.write_batch(ctx, spec, &conn_id, &run_tag, run_id, full, since_date, p, batch).await?;
                let _ = n;
            }
            if last {
                break;
            }
        }
        fetcher.abort();
        if !pending.is_empty() {
            // Commit what was fetched before the error or cancel: it is valid data, and the checkpoint
            // then points after it.
            let batch = std::mem::take(&mut pending);
            self.write_batch(ctx, spec, &conn_id, &run_tag, run_id, full, since_date, pending_page, batch).await?;
        }
        if ctx.is_cancelled() && outcome.is_ok() {
            outcome = Err(CoreError::Cancelled);
        }
        outcome?;
        // Complete read: tombstones for a full read, then the new cursor, and the checkpoint cleared.
        let now = now_utc();
        let cursor = started_local
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(tz).earliest())
            .map(|d| d.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let table = spec.table;
        let erp = self.erp;
        let name = spec.name;
        let tombstoned = self.store.tx(|db| {
            let n = if full {
                // Not seen by this read: not written by it (`seen_run`) and not noted as seen
                // unchanged (an unchanged record is never rewritten just to say it was seen). The
                // ids noted (a batch's in one row; an unparsable record's one by one) go into a
                // temporary table with statistics, so the check is one pass on either backend.
                let d = Dialect(db.backend());
                let seen = d.temp_table("seen_ids");
                db.batch("CREATE TEMP TABLE IF NOT EXISTS seen_ids (id TEXT PRIMARY KEY)")?;
                db.execute(&format!("DELETE FROM {seen}"), &[])?;
                db.execute(
                    &format!(
                        "INSERT INTO {seen} (id)
                         SELECT id FROM sync_seen WHERE connection_id=?1 AND resource_table=?2 AND run_tag=?3
                         UNION
                         SELECT {each_value} FROM sync_seen_batches b, {each}
                          WHERE b.connection_id=?1 AND b.resource_table=?2 AND b.run_tag=?3",
                        each = d.json_array_elements("b.ids", "j"),
                        each_value = "j.value",
                    ),
                    crate::vals![conn_id, table, run_tag],
                )?;
                if db.backend() == Backend::Postgres {
                    // A temporary table has no statistics until asked: without them the planner
                    // takes it for nearly empty and checks each stored record against every id.
                    db.batch(&format!("ANALYZE {seen}"))?;
                }
                let n = db.execute(
                    &format!(
                        "UPDATE \"{table}\" SET deleted_at=?3 WHERE connection_id=?1 AND deleted_at IS NULL AND seen_run<>?2
                           AND NOT EXISTS (SELECT 1 FROM {seen} s WHERE s.id=\"{table}\".id)"
                    ),
                    crate::vals![conn_id, run_tag, now],
                )?;
                db.execute(&format!("DELETE FROM {seen}"), &[])?;
                db.execute(
                    "DELETE FROM sync_seen WHERE connection_id=?1 AND resource_table=?2",
                    crate::vals![conn_id, table],
                )?;
                db.execute(
                    "DELETE FROM sync_seen_batches WHERE connection_id=?1 AND resource_table=?2",
                    crate::vals![conn_id, table],
                )?;
                n
            } else {
                0
            };
            db.execute(
                "INSERT INTO sync_state (connection_id, erp, resource, cursor, last_success_at, last_run_id, last_error, resume_page, resume_run, resume_mode, resume_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, NULL, NULL, NULL)
                 ON CONFLICT(connection_id, erp, resource) DO UPDATE SET cursor=excluded.cursor, last_success_at=excluded.last_success_at,
                   last_run_id=excluded.last_run_id, last_error=NULL, resume_page=NULL, resume_run=NULL, resume_mode=NULL, resume_since=NULL",
                crate::vals![conn_id, erp, name, cursor, now, run_id],
            )?;
            Ok(n)
        })?;
        if tombstoned > 0 {
            ctx.add_count("deleted", tombstoned as i64);
            ctx.log_t(
                "info",
                "sync.marked_deleted",
                &[("resource", name.to_string()), ("count", tombstoned.to_string())],
                &format!("{name}: {tombstoned} records no longer exist upstream; marked deleted (kept locally)"),
            );
        }
        ctx.add_count("resources_synced", 1);
        let seconds = format!("{:.1}", resource_start.elapsed().as_secs_f64());
        ctx.log_t(
            "info",
            "sync.resource_done",
            &[
                ("resource", name.to_string()),
                ("records", fetched.to_string()),
                ("seconds", seconds.clone()),
                ("page", page.to_string()),
            ],
            &format!("{name}: done, {fetched} records read in {seconds} s (through page {page})"),
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_batch(
        &self,
        ctx: &JobCtx,
        spec: &ResourceSpec,
        conn_id: &str,
        run_tag: &str,
        run_id: &str,
        full: bool,
        since: Option<NaiveDate>,
        page: u32,
        batch: Vec<Parsed>,
    ) -> CoreResult<usize> {
        let store = self.store.clone();
        let spec = *spec;
        let conn_id = conn_id.to_string();
        let run_tag = run_tag.to_string();
        let run_id = run_id.to_string();
        let erp = self.erp;
        let (written, quarantined, reasons, unchanged) = tokio::task::spawn_blocking(move || {
            let now = now_utc();
            store.tx(|db| {
                let backend = db.backend();
                let stage = spec.stage(backend);
                db.batch(&spec.stage_ddl(backend))?;
                let has_quarantine: bool = db
                    .query_one(
                        "SELECT EXISTS(SELECT 1 FROM sync_quarantine WHERE connection_id=?1 AND erp=?2 AND resource=?3)",
                        crate::vals![conn_id, erp, spec.name],
                    )?
                    .get(0)?;
                let mut has_quarantine = has_quarantine;
                let (mut qn, mut reasons) = (0usize, vec![]);
                for p in &batch {
                    if let Parsed::Quarantine { id, raw, reason } = p {
                        db.execute(
                            "INSERT INTO sync_quarantine (connection_id, erp, resource, record_id, reason, raw, run_id, at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                             ON CONFLICT(connection_id, erp, resource, record_id) DO UPDATE SET reason=excluded.reason, raw=excluded.raw, run_id=excluded.run_id, at=excluded.at",
                            crate::vals![conn_id, erp, spec.name, id, reason.to_stored(), raw, run_id, now],
                        )?;
                        // A full read notes every id it saw (an unparsable one too: it keeps its
                        // last good version and is not taken for deleted).
                        if full {
                            db.execute(
                                "INSERT INTO sync_seen (connection_id, resource_table, run_tag, id) VALUES (?1, ?2, ?3, ?4)
                                 ON CONFLICT DO NOTHING",
                                crate::vals![conn_id, spec.table, run_tag, id],
                            )?;
                        }
                        has_quarantine = true;
                        reasons.push((id.to_string(), reason.clone()));
                        qn += 1;
                    }
                }
                let columns = spec.stage_columns();
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                let staged = db.copy_text(
                    &stage,
                    &columns,
                    &mut batch.iter().filter_map(|p| match p {
                        Parsed::Ok(row) => Some(row.staged()),
                        Parsed::Quarantine { .. } => None,
                    }),
                )? as usize;
                let (mut w, mut unchanged) = (0usize, 0usize);
                if staged > 0 {
                    // The rows written (new, changed or back from deleted): on PostgreSQL their ids
                    // come back (no second look-up of the unchanged ones); SQLite buffers a
                    // RETURNING's rows in memory (14 MB more at the peak of a 1M-record sync), so
                    // there only their number does.
                    let upsert = spec.upsert_from_stage_sql(backend);
                    let params = crate::vals![conn_id, now, run_id, run_tag];
                    let written: Option<std::collections::HashSet<String>> = match backend {
                        Backend::Postgres => Some(
                            db.query(&format!("{upsert} RETURNING id"), params)?
                                .iter()
                                .map(|r| r.get::<String>(0))
                                .collect::<CoreResult<_>>()?,
                        ),
                        Backend::Sqlite => None,
                    };
                    let changed = match &written {
                        Some(ids) => ids.len(),
                        None => db.execute(&upsert, params)? as usize,
                    };
                    w = staged;
                    unchanged = staged.saturating_sub(changed);
                    // Unchanged rows are not rewritten: a full read notes them as seen (a new or
                    // changed row carries this read's tag in `seen_run` already), the batch's ids
                    // in one row. A row per id, each found again in the resource's table with a
                    // join, was three quarters of a re-sync's time on PostgreSQL (planned as a
                    // hash of the connection's whole table per batch, from statistics taken while
                    // this very read was filling it): where the ids must be found again, each is
                    // looked up by key.
                    if full && unchanged > 0 {
                        match written {
                            Some(written) => {
                                let ids: std::collections::BTreeSet<&str> = batch
                                    .iter()
                                    .filter_map(|p| match p {
                                        Parsed::Ok(row) if !written.contains(&row.id) => Some(row.id.as_str()),
                                        _ => None,
                                    })
                                    .collect();
                                db.execute(
                                    "INSERT INTO sync_seen_batches (connection_id, resource_table, run_tag, ids)
                                     VALUES (?1, ?2, ?3, ?4)",
                                    crate::vals![
                                        conn_id,
                                        spec.table,
                                        run_tag,
                                        serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
                                    ],
                                )?;
                            }
                            None => {
                                db.execute(
                                    &format!(
                                        "INSERT INTO sync_seen_batches (connection_id, resource_table, run_tag, ids)
                                         SELECT ?1, ?2, ?3, ids FROM (
                                           SELECT json_group_array(s.id) AS ids, count(*) AS n FROM {stage} s
                                            WHERE (SELECT r.seen_run FROM \"{t}\" r WHERE r.connection_id=?1 AND r.id=s.id) <> ?3
                                         ) b WHERE n > 0",
                                        t = spec.table
                                    ),
                                    crate::vals![conn_id, spec.table, run_tag],
                                )?;
                            }
                        }
                    }
                    if has_quarantine {
                        db.execute(
                            &format!(
                                "DELETE FROM sync_quarantine WHERE connection_id=?1 AND erp=?2 AND resource=?3
                                   AND record_id IN (SELECT id FROM {stage})"
                            ),
                            crate::vals![conn_id, erp, spec.name],
                        )?;
                    }
                    db.execute(&format!("DELETE FROM {stage}"), &[])?;
                }
                db.execute(
                    "INSERT INTO sync_state (connection_id, erp, resource, resume_page, resume_run, resume_mode, resume_since)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT(connection_id, erp, resource) DO UPDATE SET resume_page=excluded.resume_page,
                       resume_run=excluded.resume_run, resume_mode=excluded.resume_mode, resume_since=excluded.resume_since",
                    crate::vals![
                        conn_id,
                        erp,
                        spec.name,
                        page,
                        run_tag,
                        if full { "full" } else { "incremental" },
                        since.map(|d| d.format("%Y-%m-%d").to_string())
                    ],
                )?;
                Ok((w, qn, reasons, unchanged))
            })
        })
        .await
        .map_err(|e| CoreError::Internal(format!("writer task: {e}")))??;
        ctx.add_count("records", written as i64);
        if unchanged > 0 {
            ctx.add_count("unchanged", unchanged as i64);
        }
        if quarantined > 0 {
            ctx.add_count("quarantined", quarantined as i64);
            for (id, reason) in reasons.iter().take(20) {
                ctx.log_t(
                    "warn",
                    "sync.quarantined",
                    &[
                        ("resource", spec.name.to_string()),
                        ("record", id.clone()),
                        ("reason", reason.message.clone()),
                        ("reason_json", reason.to_stored()),
                    ],
                    &format!("quarantined {} {id}: {}", spec.name, reason.message),
                );
            }
        }
        Ok(written)
    }
}

/// The summary table of one connection's resources.
pub fn summaries(store: &Store, conn_id: &str, erp: &str, specs: &[ResourceSpec]) -> CoreResult<Vec<ResourceSummary>> {
    ensure_tables(store, specs)?;
    store.query(|db| {
        let mut out = vec![];
        for s in specs {
            let r = db.query_one(
                &format!(
                    "SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE deleted_at IS NOT NULL), max(fetched_at)
                     FROM \"{}\" WHERE connection_id=?1",
                    s.table
                ),
                crate::vals![conn_id],
            )?;
            let (records, deleted, last_fetched): (i64, i64, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let quarantined: i64 = db.one(
                "SELECT count(*) FROM sync_quarantine WHERE connection_id=?1 AND erp=?2 AND resource=?3",
                crate::vals![conn_id, erp, s.name],
            )?;
            let st = db.query_opt(
                "SELECT last_success_at, cursor, last_error, resume_page FROM sync_state WHERE connection_id=?1 AND erp=?2 AND resource=?3",
                crate::vals![conn_id, erp, s.name],
            )?;
            let (last_success_at, cursor, last_error, resume_page) = match st {
                Some(r) => (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                None => (None, None, None, None),
            };
            out.push(ResourceSummary {
                resource: s.name.to_string(),
                records,
                deleted,
                quarantined,
                last_fetched_at: last_fetched,
                last_success_at,
                cursor,
                last_error,
                supports_incremental: s.modified.is_some(),
                resume_page,
            });
        }
        Ok(out)
    })
}

pub fn sync_runs(store: &Store, conn_id: &str, limit: u32) -> CoreResult<Vec<SyncRun>> {
    sync_runs_since(store, conn_id, "", limit)
}

/// The connection's runs started at or after `since` (RFC 3339, UTC; "" for all), newest first.
pub fn sync_runs_since(store: &Store, conn_id: &str, since: &str, limit: u32) -> CoreResult<Vec<SyncRun>> {
    store.query(|db| {
        db.query(
            "SELECT id, job_id, erp, mode, status, started_at, finished_at, counts, errors FROM sync_runs
             WHERE connection_id=?1 AND started_at>=?3 ORDER BY started_at DESC, rowid DESC LIMIT ?2",
            crate::vals![conn_id, limit, since],
        )?
        .iter()
        .map(|r| {
            let counts: String = r.get(7)?;
            let errors: String = r.get(8)?;
            Ok(SyncRun {
                id: r.get(0)?,
                job_id: r.get(1)?,
                erp: r.get(2)?,
                mode: r.get(3)?,
                status: r.get(4)?,
                started_at: r.get(5)?,
                finished_at: r.get(6)?,
                counts: serde_json::from_str(&counts).unwrap_or_default(),
                errors: serde_json::from_str(&errors).unwrap_or_default(),
            })
        })
        .collect()
    })
}

/// How many records wait in quarantine, over every connection.
pub fn quarantined_count(store: &Store) -> CoreResult<i64> {
    store.query(|db| db.one("SELECT count(*) FROM sync_quarantine", &[]))
}

pub fn quarantine(store: &Store, conn_id: &str, erp: &str, limit: u32) -> CoreResult<Vec<QuarantinedRecord>> {
    store.query(|db| {
        db.query(
            "SELECT resource, record_id, reason, at, raw FROM sync_quarantine WHERE connection_id=?1 AND erp=?2
             ORDER BY at DESC LIMIT ?3",
            crate::vals![conn_id, erp, limit],
        )?
        .iter()
        .map(|r| {
            let why = Reason::from_stored(&r.get::<String>(2)?);
            Ok(QuarantinedRecord {
                resource: r.get(0)?,
                record_id: r.get(1)?,
                reason: why.message.clone(),
                why,
                at: r.get(3)?,
                raw: r.get(4)?,
            })
        })
        .collect()
    })
}

/// Rewinds a resource's cursor to `to` (the next incremental run re-reads from there) and returns
/// how many stored records were last fetched on or after that date (a preview of the re-fetch).
pub fn rewind(
    store: &Store,
    conn_id: &str,
    erp: &str,
    spec: &ResourceSpec,
    to: NaiveDate,
    apply: bool,
) -> CoreResult<RewindPreview> {
    ensure_tables(store, std::slice::from_ref(spec))?;
    let date_col = spec.columns.iter().find(|c| c.kind == ColKind::Date).map(|c| c.name);
    let (total, affected): (i64, i64) = store.query(|db| {
        let total: i64 = db.one(
            &format!("SELECT count(*) FROM \"{}\" WHERE connection_id=?1 AND deleted_at IS NULL", spec.table),
            crate::vals![conn_id],
        )?;
        let affected = match (spec.modified.is_some(), date_col) {
            (true, Some(dc)) => db.one(
                &format!(
                    "SELECT count(*) FROM \"{}\" WHERE connection_id=?1 AND deleted_at IS NULL AND coalesce(substr(source_modified,1,10), \"{dc}\") >= ?2",
                    spec.table
                ),
                crate::vals![conn_id, to.format("%Y-%m-%d").to_string()],
            )?,
            _ => total,
        };
        Ok((total, affected))
    })?;
    if apply {
        let cursor = to.and_hms_opt(0, 0, 0).map(|d| d.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        store.tx(|db| {
            db.execute(
                "INSERT INTO sync_state (connection_id, erp, resource, cursor) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(connection_id, erp, resource) DO UPDATE SET cursor=excluded.cursor, resume_page=NULL, resume_run=NULL",
                crate::vals![conn_id, erp, spec.name, cursor],
            )?;
            Ok(())
        })?;
    }
    Ok(RewindPreview {
        resource: spec.name.to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        stored_records: total,
        estimated_refetch: affected,
        whole_resource: spec.modified.is_none(),
        applied: apply,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct RewindPreview {
    pub resource: String,
    pub to: String,
    #[ts(type = "number")]
    pub stored_records: i64,
    #[ts(type = "number")]
    pub estimated_refetch: i64,
    /// The API has no date filter for this resource: every sync reads all of it anyway.
    pub whole_resource: bool,
    pub applied: bool,
}
