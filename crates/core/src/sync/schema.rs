//! Resource tables as versioned migrations.
//!
//! A resource's table follows its [`ResourceSpec`]: the fixed columns every resource has, one text
//! column per declared [`Column`], an index on each non-text column and a full-text index. The
//! shape each table was last brought to is recorded in `resource_tables` with a version number that
//! grows with every change, so a column added to (or removed from, or retyped in) a spec reaches a
//! database made by an earlier version: the column is added and filled from the records' stored
//! JSON in the same transaction, or dropped with its index. Nothing stored is lost: the raw record
//! is always kept, and a value that no longer parses as its column's kind stays empty (and is
//! counted in the log) rather than failing the migration.

use std::collections::HashMap;

use serde_json::Value;

use super::{column_value, ColKind, ResourceSpec};
use crate::error::CoreResult;
use crate::store::db::{take_turns, vals};
use crate::store::{now_utc, Backend, Db, Store};

/// What one call changed, per table (empty when every table was already in shape).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableChange {
    pub table: String,
    pub version: i64,
    pub created: bool,
    pub added: Vec<String>,
    pub dropped: Vec<String>,
    pub refilled_rows: u64,
    pub unreadable_values: u64,
}

fn kind_str(k: ColKind) -> &'static str {
    match k {
        ColKind::Text => "text",
        ColKind::Date => "date",
        ColKind::Decimal => "decimal",
        ColKind::Code => "code",
    }
}

/// The declared shape of a table, as recorded: `name:kind` of each typed column, in order.
pub fn shape(spec: &ResourceSpec) -> String {
    spec.columns.iter().map(|c| format!("{}:{}", c.name, kind_str(c.kind))).collect::<Vec<_>>().join(",")
}

fn parse_shape(s: &str) -> HashMap<String, String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once(':').map(|(n, k)| (n.to_string(), k.to_string())))
        .collect()
}

/// Brings every table of `specs` to its declared shape; returns what changed. Cheap when nothing
/// has to change (one read). On a team database, desks bringing the same tables to shape at once
/// take turns (the second finds them done).
pub fn migrate_resource_tables(store: &Store, specs: &[ResourceSpec]) -> CoreResult<Vec<TableChange>> {
    let recorded = store.query(|db| {
        db.query("SELECT table_name, columns FROM resource_tables", &[])?
            .iter()
            .map(|r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))
            .collect::<CoreResult<HashMap<_, _>>>()
    })?;
    if specs.iter().all(|s| recorded.get(s.table).is_some_and(|c| *c == shape(s))) {
        return Ok(vec![]);
    }
    store.tx(|db| {
        take_turns(db, "resource_tables")?;
        // A reviewer's desk may not make tables: an operator's desk (or the administrator's) does.
        if db.backend() == Backend::Postgres
            && !db.one::<bool>("SELECT has_schema_privilege(current_schema(), 'CREATE')", &[])?
        {
            tracing::info!(
                "resource tables left for an operator's desk to bring to shape (this user may not create tables)"
            );
            return Ok(vec![]);
        }
        let mut out = vec![];
        for s in specs {
            if let Some(ch) = migrate_one(db, s)? {
                tracing::info!(
                    table = %ch.table, version = ch.version, created = ch.created, added = ?ch.added,
                    dropped = ?ch.dropped, refilled = ch.refilled_rows, unreadable = ch.unreadable_values,
                    "resource table migrated"
                );
                out.push(ch);
            }
        }
        Ok(out)
    })
}

/// The columns `table` has now, in order (none: there is no such table).
fn table_columns(db: &mut dyn Db, table: &str) -> CoreResult<Vec<String>> {
    let sql = match db.backend() {
        Backend::Sqlite => "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position"
        }
    };
    db.query(sql, vals![table])?.iter().map(|r| r.get(0)).collect()
}

fn migrate_one(db: &mut dyn Db, spec: &ResourceSpec) -> CoreResult<Option<TableChange>> {
    let t = spec.table;
    let want = shape(spec);
    let backend = db.backend();
    let recorded: Option<(i64, String)> = db
        .query_opt("SELECT version, columns FROM resource_tables WHERE table_name=?1", vals![t])?
        .map(|r| Ok::<_, crate::error::CoreError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    if recorded.as_ref().is_some_and(|(_, c)| *c == want) {
        return Ok(None);
    }
    let existing = table_columns(db, t)?;
    let mut ch = TableChange { table: t.to_string(), ..Default::default() };
    if existing.is_empty() {
        db.batch(&spec.ddl_for(backend))?;
        ch.created = true;
    } else {
        // Kinds as last recorded; a table an older version created without a record is taken as it is.
        let old_kinds = recorded.as_ref().map(|(_, c)| parse_shape(c)).unwrap_or_default();
        let fixed = ["connection_id", "id", "raw", "search_text", "source_modified", "fetched_at", "sync_run_id"];
        let fixed_more = ["seen_run", "deleted_at", "rowid", "search_tsv"];
        let mut refill = vec![];
        for (i, c) in spec.columns.iter().enumerate() {
            if !existing.iter().any(|e| e == c.name) {
                db.batch(&format!("ALTER TABLE \"{t}\" ADD COLUMN \"{}\" TEXT", c.name))?;
                ch.added.push(c.name.to_string());
                refill.push(i);
            } else if old_kinds.get(c.name).is_some_and(|k| k != kind_str(c.kind)) {
                // Retyped: its index may no longer be wanted (text columns have none); refill it.
                db.batch(&format!("DROP INDEX IF EXISTS \"{t}_{}\"", c.name))?;
                refill.push(i);
            }
        }
        for e in &existing {
            let declared = spec.columns.iter().any(|c| c.name == e);
            if !declared && !fixed.contains(&e.as_str()) && !fixed_more.contains(&e.as_str()) {
                db.batch(&format!("DROP INDEX IF EXISTS \"{t}_{e}\"; ALTER TABLE \"{t}\" DROP COLUMN \"{e}\""))?;
                ch.dropped.push(e.clone());
            }
        }
        if !refill.is_empty() {
            let (rows, bad) = refill_columns(db, spec, &refill)?;
            ch.refilled_rows = rows;
            ch.unreadable_values = bad;
        }
        // Indexes, the full-text index (and on SQLite its triggers): all "IF NOT EXISTS".
        db.batch(&spec.ddl_for(backend))?;
    }
    ch.version = recorded.map(|(v, _)| v).unwrap_or(0) + 1;
    db.execute(
        "INSERT INTO resource_tables(table_name, version, columns, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(table_name) DO UPDATE SET version=excluded.version, columns=excluded.columns, updated_at=excluded.updated_at",
        vals![t, ch.version, want, now_utc()],
    )?;
    Ok(Some(ch))
}

/// Fills the columns at `which` (indexes into `spec.columns`) of every stored row from its raw
/// JSON, a thousand rows at a time (by `rowid`, which both backends have).
fn refill_columns(db: &mut dyn Db, spec: &ResourceSpec, which: &[usize]) -> CoreResult<(u64, u64)> {
    let t = spec.table;
    let sets: Vec<String> =
        which.iter().enumerate().map(|(i, &c)| format!("\"{}\"=?{}", spec.columns[c].name, i + 2)).collect();
    let update = format!("UPDATE \"{t}\" SET {} WHERE rowid=?1", sets.join(", "));
    let read = format!("SELECT rowid, raw FROM \"{t}\" WHERE rowid > ?1 ORDER BY rowid LIMIT 1000");
    let (mut n, mut bad, mut after) = (0u64, 0u64, i64::MIN);
    loop {
        let rows = db.query(&read, vals![after])?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let rowid: i64 = r.get(0)?;
            let raw: String = r.get(1)?;
            after = rowid;
            let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            let mut vals: Vec<crate::store::Value> = vec![crate::store::Value::Int(rowid)];
            for &c in which {
                let text = column_value(&spec.columns[c], &v).unwrap_or_else(|_| {
                    bad += 1;
                    None
                });
                vals.push(text.map_or(crate::store::Value::Null, crate::store::Value::Text));
            }
            let params: Vec<&dyn crate::store::ToValue> =
                vals.iter().map(|v| v as &dyn crate::store::ToValue).collect();
            db.execute(&update, &params)?;
            n += 1;
        }
    }
    Ok((n, bad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{col, ListShape};
    use rusqlite::params;

    const fn spec(columns: &'static [super::super::Column]) -> ResourceSpec {
        ResourceSpec {
            name: "things",
            table: "test_things",
            path: "things",
            shape: ListShape::Array,
            query: &[],
            modified: None,
            modified_field: None,
            id_field: "id",
            columns,
            search: &["name"],
        }
    }

    const V1: ResourceSpec = spec(&[col("name", "name", ColKind::Text)]);
    const V2: ResourceSpec = spec(&[
        col("name", "name", ColKind::Text),
        col("total", "total", ColKind::Decimal),
        col("due", "due", ColKind::Date),
    ]);
    const V3: ResourceSpec = spec(&[col("name", "name", ColKind::Text), col("total", "total", ColKind::Decimal)]);

    fn insert(store: &Store, id: &str, raw: &str) {
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO test_things(connection_id, id, raw, name, search_text, fetched_at, sync_run_id, seen_run) VALUES ('c1', ?1, ?2, 'x', 'row' || ?1, 't', 'r', 'r')",
                    params![id, raw],
                )?;
                Ok(())
            })
            .unwrap();
    }

    fn columns(store: &Store) -> Vec<String> {
        store
            .read(|c| {
                let mut st = c.prepare("PRAGMA table_info(test_things)")?;
                let rows = st.query_map([], |r| r.get::<_, String>(1))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap()
    }

    #[test]
    fn a_column_added_to_a_spec_reaches_an_existing_database_filled_from_the_stored_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at) VALUES ('c1', 'A', 'contifico', 'http://a/', 'UTC', 't', 't')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let first = migrate_resource_tables(&store, &[V1]).unwrap();
        assert_eq!(first.len(), 1);
        assert!(first[0].created);
        assert_eq!(first[0].version, 1);
        insert(&store, "1", r#"{"id":"1","name":"a","total":"10.50","due":"31/01/2026"}"#);
        insert(&store, "2", r#"{"id":"2","name":"b","total":"not money","due":null}"#);
        // Nothing to do the second time.
        assert!(migrate_resource_tables(&store, &[V1]).unwrap().is_empty());

        let second = migrate_resource_tables(&store, &[V2]).unwrap();
        assert_eq!(second[0].version, 2);
        assert_eq!(second[0].added, vec!["total".to_string(), "due".to_string()]);
        assert_eq!((second[0].refilled_rows, second[0].unreadable_values), (2, 1));
        let got: Vec<(String, Option<String>, Option<String>)> = store
            .read(|c| {
                let mut st = c.prepare("SELECT id, total, due FROM test_things ORDER BY id")?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap();
        assert_eq!(got, vec![("1".into(), Some("10.50".into()), Some("2026-01-31".into())), ("2".into(), None, None)]);
        // The new non-text columns are indexed.
        let idx: i64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN ('test_things_total','test_things_due')",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(idx, 2);

        // A column removed from the spec goes, with its index; the records stay.
        let third = migrate_resource_tables(&store, &[V3]).unwrap();
        assert_eq!((third[0].version, third[0].dropped.clone()), (3, vec!["due".to_string()]));
        assert!(!columns(&store).contains(&"due".to_string()));
        let n: i64 = store.read(|c| Ok(c.query_row("SELECT count(*) FROM test_things", [], |r| r.get(0))?)).unwrap();
        assert_eq!(n, 2);
        // The full-text index still follows the table.
        insert(&store, "3", r#"{"id":"3","name":"c"}"#);
        let hits: i64 = store
            .read(|c| {
                Ok(c.query_row("SELECT count(*) FROM test_things_fts WHERE test_things_fts MATCH 'row3'", [], |r| {
                    r.get(0)
                })?)
            })
            .unwrap();
        assert_eq!(hits, 1);
    }

    #[test]
    fn a_table_an_older_version_created_is_adopted_without_losing_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        // As `ensure_tables` used to do: the table exists, no record of its shape.
        store.write(|tx| Ok(tx.execute_batch(&V1.ddl())?)).unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at) VALUES ('c1', 'A', 'contifico', 'http://a/', 'UTC', 't', 't')",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        insert(&store, "1", r#"{"id":"1","name":"a","total":"3"}"#);
        let ch = migrate_resource_tables(&store, &[V3]).unwrap();
        assert_eq!((ch[0].created, ch[0].version, ch[0].added.clone()), (false, 1, vec!["total".to_string()]));
        let total: Option<String> =
            store.read(|c| Ok(c.query_row("SELECT total FROM test_things WHERE id='1'", [], |r| r.get(0))?)).unwrap();
        assert_eq!(total.as_deref(), Some("3"));
    }

    /// The same on a team database: the table made in PostgreSQL's dialect, a column added and
    /// filled from the stored records, a column removed, the records kept, the search index
    /// following the table.
    #[test]
    fn a_team_databases_resource_table_follows_its_spec_too() {
        let store = Store::open_team(&crate::store::test_support::team_database()).unwrap();
        store
            .tx(|db| {
                db.execute(
                    "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at) VALUES ('c1', 'A', 'contifico', 'http://a/', 'UTC', 't', 't')",
                    &[],
                )
                .map(|_| ())
            })
            .unwrap();
        assert!(migrate_resource_tables(&store, &[V1]).unwrap()[0].created);
        let put = |id: &str, raw: &str| {
            store
                .tx(|db| {
                    db.execute(
                        "INSERT INTO test_things(connection_id, id, raw, name, search_text, fetched_at, sync_run_id, seen_run) VALUES ('c1', ?1, ?2, 'x', 'Açaí row' || ?1, 't', 'r', 'r')",
                        vals![id, raw],
                    )
                    .map(|_| ())
                })
                .unwrap()
        };
        put("1", r#"{"id":"1","name":"a","total":"10.50","due":"31/01/2026"}"#);
        put("2", r#"{"id":"2","name":"b","total":"not money","due":null}"#);
        assert!(migrate_resource_tables(&store, &[V1]).unwrap().is_empty());
        let second = migrate_resource_tables(&store, &[V2]).unwrap();
        assert_eq!((second[0].version, second[0].refilled_rows, second[0].unreadable_values), (2, 2, 1));
        let got = store
            .query(|db| {
                db.query("SELECT id, total, due FROM test_things ORDER BY id", &[])?
                    .iter()
                    .map(|r| Ok((r.get::<String>(0)?, r.get::<Option<String>>(1)?, r.get::<Option<String>>(2)?)))
                    .collect::<CoreResult<Vec<_>>>()
            })
            .unwrap();
        assert_eq!(got, vec![("1".into(), Some("10.50".into()), Some("2026-01-31".into())), ("2".into(), None, None)]);
        let third = migrate_resource_tables(&store, &[V3]).unwrap();
        assert_eq!((third[0].version, third[0].dropped.clone()), (3, vec!["due".to_string()]));
        let columns = store.query(|db| table_columns(db, "test_things")).unwrap();
        assert!(!columns.contains(&"due".to_string()) && columns.contains(&"total".to_string()));
        put("3", r#"{"id":"3","name":"c"}"#);
        let hits: i64 = store
            .query(|db| {
                db.one(
                    &format!(
                        "SELECT count(*) FROM test_things WHERE search_tsv @@ to_tsquery('simple', {})",
                        crate::sync::SEARCH_FOLD.replace("{}", "?1")
                    ),
                    vals!["'ACAI':* & 'row3':*"],
                )
            })
            .unwrap();
        assert_eq!(hits, 1);
    }
}
