//! The team database's tables: the desk's schema after its last migration, said in PostgreSQL.
//!
//! The SQLite migrations (`migrations.rs`) stay the one place the schema is written. The team
//! schema is read from a fresh in-memory database brought to the last migration: every table with
//! its columns (TEXT → text, INTEGER → bigint, REAL → double precision, BLOB → bytea, by SQLite's
//! affinity rules), NOT NULLs, defaults, CHECKs, primary and unique keys, foreign keys with their
//! ON DELETE, and every index (a `COLLATE NOCASE` column becomes `lower(column)`; partial indexes
//! keep their WHERE). A table with a rowid keeps a `rowid` column PostgreSQL numbers itself, so a
//! statement that orders by `rowid` means the same on both.
//!
//! Left out on purpose: full-text tables and triggers (PostgreSQL searches its own way), and the
//! tables a sync creates for each ERP resource at run time (created by the sync itself).
//!
//! Versions: the team database keeps the migration number it is at (`bo_team_store`). A database
//! of an older BackOffice is brought up to date by adding what is missing (tables, columns,
//! indexes), inside one transaction under an advisory lock so two desks starting together do it
//! once; a column that changed type, or a number past this version's, is refused with a clear message.

use std::collections::BTreeSet;

use postgres::GenericClient;
use rusqlite::Connection;

use super::migrations::{self, NewerDatabase, MIGRATIONS};
use super::team::{classify, TeamUrl, SCHEMA};
use crate::error::{CoreError, CoreResult};

/// One table of the team schema.
#[derive(Debug, Clone)]
pub struct PgTable {
    pub name: String,
    pub columns: Vec<PgColumn>,
    /// `PRIMARY KEY (…)`, `UNIQUE (…)`, `CHECK (…)`: written inside CREATE TABLE.
    pub constraints: Vec<String>,
    /// `FOREIGN KEY …`: added once every table exists.
    pub foreign_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PgColumn {
    pub name: String,
    /// The column as written in CREATE TABLE / ADD COLUMN, after its name.
    pub definition: String,
    pub pg_type: &'static str,
}

/// The whole team schema: tables, then indexes.
#[derive(Debug, Clone)]
pub struct PgSchema {
    pub tables: Vec<PgTable>,
    /// (name, CREATE INDEX statement).
    pub indexes: Vec<(String, String)>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1) on a declared type.
pub fn pg_type(declared: &str) -> &'static str {
    let d = declared.to_ascii_uppercase();
    if d.contains("INT") {
        "bigint"
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        "text"
    } else if d.is_empty() || d.contains("BLOB") {
        "bytea"
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        "double precision"
    } else {
        "numeric"
    }
}

/// The team schema of this version of BackOffice.
pub fn latest() -> CoreResult<PgSchema> {
    let mut conn = Connection::open_in_memory()?;
    migrations::migrate(&mut conn)?;
    from_sqlite(&conn)
}

/// The `CHECK (…)` clauses of a CREATE TABLE statement, as written.
fn checks(create: &str) -> Vec<String> {
    let upper = create.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find("CHECK") {
        let start = from + at;
        let before_ok = start == 0 || !upper.as_bytes()[start - 1].is_ascii_alphanumeric();
        let Some(open) = create[start..].find('(').map(|o| start + o) else { break };
        let between = &create[start + 5..open];
        if !before_ok || !between.trim().is_empty() {
            from = start + 5;
            continue;
        }
        let mut depth = 0;
        let mut end = None;
        let mut in_quote = false;
        for (i, c) in create[open..].char_indices() {
            match c {
                '\'' => in_quote = !in_quote,
                '(' if !in_quote => depth += 1,
                ')' if !in_quote => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        out.push(format!("CHECK {}", &create[open..=end]));
        from = end;
    }
    out
}

/// A CREATE INDEX statement of SQLite in PostgreSQL's terms.
fn index_sql(sql: &str) -> String {
    // `col COLLATE NOCASE` → `lower(col)`.
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.to_ascii_uppercase().find(" COLLATE NOCASE") {
        let head = &rest[..at];
        let word_start = head.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"')).map_or(0, |i| i + 1);
        out.push_str(&head[..word_start]);
        out.push_str(&format!("lower({})", &head[word_start..]));
        rest = &rest[at + " COLLATE NOCASE".len()..];
    }
    out.push_str(rest);
    out
}

/// Reads a SQLite database's tables and indexes as the team schema.
pub fn from_sqlite(conn: &Connection) -> CoreResult<PgSchema> {
    let mut tables = Vec::new();
    let mut names: Vec<(String, bool, String)> = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT l.name, l.wr, m.sql FROM pragma_table_list AS l JOIN sqlite_master AS m ON m.name = l.name
             WHERE l.schema = 'main' AND l.type = 'table' AND l.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             ORDER BY m.rowid",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            names.push((r.get(0)?, r.get::<_, i64>(1)? == 0, r.get(2)?));
        }
    }
    for (name, has_rowid, create) in names {
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let mut int_pk = false;
        {
            let mut st =
                conn.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid")?;
            let mut rows = st.query([&name])?;
            while let Some(r) = rows.next()? {
                let col: String = r.get(0)?;
                let declared: String = r.get(1)?;
                let not_null: bool = r.get::<_, i64>(2)? != 0;
                let default: Option<String> = r.get(3)?;
                let pk_pos: i64 = r.get(4)?;
                let ty = pg_type(&declared);
                let mut def = ty.to_string();
                if pk_pos > 0 {
                    pk.push((pk_pos, col.clone()));
                }
                if pk_pos == 1 && declared.eq_ignore_ascii_case("INTEGER") && has_rowid {
                    int_pk = true;
                    def.push_str(" GENERATED BY DEFAULT AS IDENTITY");
                }
                if not_null {
                    def.push_str(" NOT NULL");
                }
                if let Some(d) = default {
                    def.push_str(&format!(" DEFAULT {d}"));
                }
                columns.push(PgColumn { name: col, definition: def, pg_type: ty });
            }
        }
        if int_pk && pk.len() > 1 {
            // A composite key with an INTEGER first column is no rowid alias.
            int_pk = false;
            for c in &mut columns {
                c.definition = c.definition.replace(" GENERATED BY DEFAULT AS IDENTITY", "");
            }
        }
        if has_rowid {
            let def = match (int_pk, pk.first()) {
                (true, Some((_, id))) => format!("bigint GENERATED ALWAYS AS ({}) STORED", quote(id)),
                _ => "bigint GENERATED BY DEFAULT AS IDENTITY".to_string(),
            };
            columns.push(PgColumn { name: "rowid".into(), definition: def, pg_type: "bigint" });
        }
        let mut constraints = Vec::new();
        if !pk.is_empty() {
            pk.sort();
            let cols: Vec<String> = pk.iter().map(|(_, c)| quote(c)).collect();
            constraints.push(format!("PRIMARY KEY ({})", cols.join(", ")));
        }
        {
            let mut st = conn.prepare("SELECT name FROM pragma_index_list(?1) WHERE origin = 'u' ORDER BY seq")?;
            let uniques: Vec<String> = st.query_map([&name], |r| r.get(0))?.collect::<Result<_, _>>()?;
            for u in uniques {
                let mut st = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
                let cols: Vec<String> = st.query_map([&u], |r| r.get(0))?.collect::<Result<_, _>>()?;
                let cols: Vec<String> = cols.iter().map(|c| quote(c)).collect();
                constraints.push(format!("UNIQUE ({})", cols.join(", ")));
            }
        }
        constraints.extend(checks(&create));
        let mut foreign_keys = Vec::new();
        {
            let mut st = conn.prepare(
                "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            )?;
            let mut rows = st.query([&name])?;
            // (id, parent table, columns, parent columns, ON DELETE) of each foreign key.
            type ForeignKey = (i64, String, Vec<String>, Vec<Option<String>>, String);
            let mut by_id: Vec<ForeignKey> = Vec::new();
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let (parent, from, to, on_delete): (String, String, Option<String>, String) =
                    (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                match by_id.last_mut() {
                    Some(last) if last.0 == id => {
                        last.2.push(from);
                        last.3.push(to);
                    }
                    _ => by_id.push((id, parent, vec![from], vec![to], on_delete)),
                }
            }
            for (_, parent, from, to, on_delete) in by_id {
                let from: Vec<String> = from.iter().map(|c| quote(c)).collect();
                let target = if to.iter().all(Option::is_some) {
                    let to: Vec<String> = to.iter().flatten().map(|c| quote(c)).collect();
                    format!("{}({})", quote(&parent), to.join(", "))
                } else {
                    quote(&parent)
                };
                let on_delete =
                    if on_delete == "NO ACTION" { String::new() } else { format!(" ON DELETE {on_delete}") };
                foreign_keys.push(format!("FOREIGN KEY ({}) REFERENCES {target}{on_delete}", from.join(", ")));
            }
        }
        tables.push(PgTable { name, columns, constraints, foreign_keys });
    }
    let table_names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut indexes = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (name, table, sql): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if table_names.contains(table.as_str()) {
                indexes.push((name, index_sql(&sql)));
            }
        }
    }
    Ok(PgSchema { tables, indexes })
}

impl PgTable {
    pub fn create_sql(&self) -> String {
        let mut parts: Vec<String> =
            self.columns.iter().map(|c| format!("{} {}", quote(&c.name), c.definition)).collect();
        parts.extend(self.constraints.iter().cloned());
        format!("CREATE TABLE {} (\n  {}\n)", quote(&self.name), parts.join(",\n  "))
    }

    pub fn foreign_key_sql(&self) -> Vec<String> {
        self.foreign_keys.iter().map(|fk| format!("ALTER TABLE {} ADD {fk}", quote(&self.name))).collect()
    }
}

/// A team database that is not (or not yet) BackOffice's.
#[derive(Debug, thiserror::Error)]
pub enum TeamSchemaError {
    #[error(
        "The team database at {url} already has a \"backoffice\" schema that BackOffice did not create for team \
         work (it may hold a copy made with `store copy` by an earlier version). Use an empty database, or ask \
         whoever runs the server to rename that schema."
    )]
    Foreign { url: String },
    #[error(
        "The team database at {url} was set up by another BackOffice in a way this version cannot follow (table \
         {table}, column {column}: {found} there, {expected} here). Install the same BackOffice version on every \
         desk. Nothing was changed."
    )]
    Changed { url: String, table: String, column: String, found: String, expected: String },
}

impl crate::error::FeatureError for TeamSchemaError {
    fn code(&self) -> &'static str {
        match self {
            TeamSchemaError::Foreign { .. } => "team_schema_foreign",
            TeamSchemaError::Changed { .. } => "team_schema_changed",
        }
    }
    fn params(&self) -> Vec<(String, String)> {
        match self {
            TeamSchemaError::Foreign { url } => vec![("url".into(), url.clone())],
            TeamSchemaError::Changed { url, table, column, found, expected } => vec![
                ("url".into(), url.clone()),
                ("table".into(), table.clone()),
                ("column".into(), column.clone()),
                ("found".into(), found.clone()),
                ("expected".into(), expected.clone()),
            ],
        }
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl From<TeamSchemaError> for CoreError {
    fn from(e: TeamSchemaError) -> Self {
        CoreError::Feature(Box::new(e))
    }
}

/// Lock number for "a desk is setting up the team schema" (any fixed number; BO in ASCII).
const SETUP_LOCK: i64 = 0x424F_5345_5455;

/// Creates the team schema in an empty database, or brings an older one up to this version.
/// Returns the version the database is at afterwards.
pub fn prepare(client: &mut postgres::Client, url: &TeamUrl) -> CoreResult<i64> {
    let pg = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let target = MIGRATIONS.len() as i64;
    let mut tx = client.transaction().map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SETUP_LOCK]).map_err(pg)?;
    let schema_exists: bool =
        tx.query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[&SCHEMA]).map_err(pg)?.get(0);
    let version: Option<i64> = if schema_exists {
        let ours: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'bo_team_store')",
                &[&SCHEMA],
            )
            .map_err(pg)?
            .get(0);
        if !ours {
            return Err(TeamSchemaError::Foreign { url: url.shown().to_string() }.into());
        }
        let v: String = tx
            .query_one(&format!("SELECT value FROM {SCHEMA}.bo_team_store WHERE key = 'schema_version'"), &[])
            .map_err(pg)?
            .get(0);
        Some(v.parse().map_err(|_| CoreError::Db(format!("the team database's schema version reads {v:?}")))?)
    } else {
        None
    };
    if let Some(found) = version {
        if found > target {
            return Err(CoreError::Feature(Box::new(NewerDatabase { found, known: target })));
        }
        if found == target {
            tx.commit().map_err(pg)?;
            return Ok(found);
        }
    }
    let schema = latest()?;
    let mut ddl = String::new();
    if version.is_none() {
        ddl.push_str(&format!(
            "CREATE SCHEMA {SCHEMA};
             CREATE TABLE {SCHEMA}.bo_team_store (key text PRIMARY KEY, value text NOT NULL);
             INSERT INTO {SCHEMA}.bo_team_store VALUES ('schema_version', '0');\n"
        ));
    }
    ddl.push_str(&format!("SET LOCAL search_path TO {SCHEMA};\n"));
    let existing = existing_columns(&mut tx, url)?;
    let existing_indexes: BTreeSet<String> = tx
        .query("SELECT indexname FROM pg_indexes WHERE schemaname = $1", &[&SCHEMA])
        .map_err(pg)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut new_tables = Vec::new();
    for t in &schema.tables {
        let have: Vec<&(String, String, String)> = existing.iter().filter(|(tab, _, _)| *tab == t.name).collect();
        if have.is_empty() {
            ddl.push_str(&t.create_sql());
            ddl.push_str(";\n");
            new_tables.push(t);
            continue;
        }
        for c in &t.columns {
            match have.iter().find(|(_, col, _)| *col == c.name) {
                None => ddl.push_str(&format!(
                    "ALTER TABLE {} ADD COLUMN {} {};\n",
                    quote(&t.name),
                    quote(&c.name),
                    c.definition
                )),
                Some((_, _, ty)) if ty != c.pg_type => {
                    return Err(TeamSchemaError::Changed {
                        url: url.shown().to_string(),
                        table: t.name.clone(),
                        column: c.name.clone(),
                        found: ty.clone(),
                        expected: c.pg_type.to_string(),
                    }
                    .into())
                }
                Some(_) => {}
            }
        }
    }
    for t in new_tables {
        for fk in t.foreign_key_sql() {
            ddl.push_str(&fk);
            ddl.push_str(";\n");
        }
    }
    for (name, sql) in &schema.indexes {
        if !existing_indexes.contains(name) {
            ddl.push_str(sql);
            ddl.push_str(";\n");
        }
    }
    ddl.push_str(&roles_sql());
    ddl.push_str(&format!("UPDATE {SCHEMA}.bo_team_store SET value = '{target}' WHERE key = 'schema_version';\n"));
    tx.batch_execute(&ddl).map_err(|e| match e.as_db_error() {
        Some(db) => CoreError::Db(format!("setting up the team schema: {} ({})", db.message(), db.code().code())),
        None => pg(e),
    })?;
    // The read-only views BI tools read (README), there from the start.
    super::bi::create_views(&mut tx, url)?;
    tx.commit().map_err(pg)?;
    Ok(target)
}

/// The team's two roles, granted to the desks' login users by whoever runs the server.
pub const OPERATOR_ROLE: &str = "backoffice_operator";
pub const REVIEWER_ROLE: &str = "backoffice_reviewer";

/// The jobs a reviewer may start: none that syncs or writes to an ERP (seed 001 keeps the sync
/// for admin and cfo). Testing a connection only reads; a divergence session works on the data
/// already synced.
pub const REVIEWER_JOBS: &[&str] = &["test_connection", "divergences"];

/// Who may do what, enforced by the database: two roles, and row-level policies on the tables
/// that start work (jobs, schedules). An operator may start any job; a reviewer may browse,
/// review and decide, and start only [`REVIEWER_JOBS`]. Whoever set the schema up owns the tables
/// and is not bound by the policies (the administrator). Made only when the user setting up may
/// create roles; otherwise every desk connects with full rights, as the log says.
fn roles_sql() -> String {
    let reviewer_jobs: Vec<String> = REVIEWER_JOBS.iter().map(|k| format!("'{k}'")).collect();
    let reviewer_jobs = reviewer_jobs.join(", ");
    let both = format!("{OPERATOR_ROLE}, {REVIEWER_ROLE}");
    let mut policies = String::new();
    for table in ["jobs", "schedules"] {
        policies.push_str(&format!(
            "ALTER TABLE {SCHEMA}.{table} ENABLE ROW LEVEL SECURITY;
             DROP POLICY IF EXISTS {table}_seen ON {SCHEMA}.{table};
             DROP POLICY IF EXISTS {table}_removed ON {SCHEMA}.{table};
             DROP POLICY IF EXISTS {table}_started_by_operators ON {SCHEMA}.{table};
             DROP POLICY IF EXISTS {table}_started_by_reviewers ON {SCHEMA}.{table};
             DROP POLICY IF EXISTS {table}_changed_by_operators ON {SCHEMA}.{table};
             DROP POLICY IF EXISTS {table}_changed_by_reviewers ON {SCHEMA}.{table};
             CREATE POLICY {table}_seen ON {SCHEMA}.{table} FOR SELECT USING (true);
             CREATE POLICY {table}_removed ON {SCHEMA}.{table} FOR DELETE TO {OPERATOR_ROLE} USING (true);
             CREATE POLICY {table}_started_by_operators ON {SCHEMA}.{table} FOR INSERT TO {OPERATOR_ROLE} WITH CHECK (true);
             CREATE POLICY {table}_started_by_reviewers ON {SCHEMA}.{table} FOR INSERT TO {REVIEWER_ROLE}
                 WITH CHECK (kind IN ({reviewer_jobs}));
             CREATE POLICY {table}_changed_by_operators ON {SCHEMA}.{table} FOR UPDATE TO {OPERATOR_ROLE} USING (true);
             CREATE POLICY {table}_changed_by_reviewers ON {SCHEMA}.{table} FOR UPDATE TO {REVIEWER_ROLE} USING (true)
                 WITH CHECK (kind IN ({reviewer_jobs}) OR {table}_unchanged_kind({table}.*));\n"
        ));
    }
    format!(
        "DO $roles$
         BEGIN
           IF NOT (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
             RAISE NOTICE 'BackOffice: this user may not create roles; every desk has full rights';
             RETURN;
           END IF;
           -- Roles belong to the whole server: another database's set-up may be making them at
           -- this instant.
           BEGIN
             CREATE ROLE {OPERATOR_ROLE} NOLOGIN;
           EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
           END;
           BEGIN
             CREATE ROLE {REVIEWER_ROLE} NOLOGIN;
           EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
           END;
           EXECUTE $grants$
             GRANT USAGE ON SCHEMA {SCHEMA} TO {both};
             -- An operator's first sync of a resource makes its table (handed to the operators'
             -- role, readable by the reviewers: `ResourceSpec::pg_ddl`).
             GRANT CREATE ON SCHEMA {SCHEMA} TO {OPERATOR_ROLE};
             GRANT REFERENCES ON {SCHEMA}.connections TO {OPERATOR_ROLE};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {both};
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {both};
             ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {both};
             ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} GRANT USAGE, SELECT ON SEQUENCES TO {both};
             -- A reviewer may update a job or schedule it may not start (cancel a sync, note its
             -- progress from the desk running it) as long as the kind stays what it was.
             CREATE OR REPLACE FUNCTION {SCHEMA}.jobs_unchanged_kind(r {SCHEMA}.jobs) RETURNS boolean
               LANGUAGE sql STABLE AS 'SELECT EXISTS (SELECT 1 FROM {SCHEMA}.jobs j WHERE j.id = r.id AND j.kind = r.kind)';
             CREATE OR REPLACE FUNCTION {SCHEMA}.schedules_unchanged_kind(r {SCHEMA}.schedules) RETURNS boolean
               LANGUAGE sql STABLE AS 'SELECT EXISTS (SELECT 1 FROM {SCHEMA}.schedules s WHERE s.id = r.id AND s.kind = r.kind)';
             {policies}
           $grants$;
         END
         $roles$;\n"
    )
}

/// The login users that hold `role` (directly), to tell a refused user whom to ask.
pub fn members_of(db: &mut dyn super::Db, role: &str) -> CoreResult<Vec<String>> {
    db.query(
        "SELECT m.rolname::text FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
         JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = ?1 AND m.rolcanlogin ORDER BY 1",
        crate::vals![role],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// (table, column, type as this module names it) of the team schema as it is.
fn existing_columns(tx: &mut impl GenericClient, url: &TeamUrl) -> CoreResult<Vec<(String, String, String)>> {
    let rows = tx
        .query(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
            &[&SCHEMA],
        )
        .map_err(|e| CoreError::from(classify(url.shown(), &e)))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_schema_has_every_table_with_keys_checks_and_indexes() {
        let schema = latest().unwrap();
        let jobs = schema.tables.iter().find(|t| t.name == "jobs").expect("jobs");
        let sql = jobs.create_sql();
        assert!(sql.contains("\"status\" text NOT NULL"), "{sql}");
        assert!(sql.contains("\"cancel_requested\" bigint NOT NULL DEFAULT 0"), "{sql}");
        assert!(sql.contains("\"progress\" double precision"), "{sql}");
        assert!(sql.contains("PRIMARY KEY (\"id\")"), "{sql}");
        assert!(sql.contains("CHECK (status IN ('queued','running','succeeded','failed','cancelled'))"), "{sql}");
        assert!(sql.contains("\"rowid\" bigint GENERATED BY DEFAULT AS IDENTITY"), "{sql}");
        assert!(jobs.foreign_keys.iter().any(|f| f.contains("REFERENCES \"connections\"(\"id\") ON DELETE SET NULL")));
        let (_, one_active) = schema.indexes.iter().find(|(n, _)| n == "jobs_one_active").expect("index");
        assert!(one_active.contains("WHERE active_key IS NOT NULL"), "{one_active}");
        let (_, by_name) = schema.indexes.iter().find(|(n, _)| n == "connections_name").expect("index");
        assert!(by_name.contains("lower(name)") && !by_name.contains("NOCASE"), "{by_name}");
        // Every table of the desk is there (none of SQLite's own).
        let c = {
            let mut c = Connection::open_in_memory().unwrap();
            migrations::migrate(&mut c).unwrap();
            c
        };
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM pragma_table_list WHERE schema='main' AND type='table' AND name NOT LIKE 'sqlite%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(schema.tables.len() as i64, n);
    }

    #[test]
    fn checks_are_found_with_nested_parentheses_and_quotes() {
        let c = checks(
            "CREATE TABLE t (a TEXT CHECK (a IN ('x)', 'y')), b INTEGER CHECK ((b > 0) AND (b < 9)), checked INTEGER)",
        );
        assert_eq!(c, vec!["CHECK (a IN ('x)', 'y'))".to_string(), "CHECK ((b > 0) AND (b < 9))".to_string()]);
    }
}
