//! One way for features to speak SQL, whichever database is underneath: a desk's SQLite file or
//! the team's PostgreSQL server.
//!
//! A feature writes its statements once, in the subset both dialects share (`?1` placeholders,
//! `ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING`, `count(*)`, `CASE`), passes its parameters as
//! plain Rust values ([`ToValue`]) and reads rows back as plain Rust values ([`FromValue`]); the
//! [`Db`] it is handed knows the dialect. On PostgreSQL `?N` becomes `$N` and every statement is
//! prepared once per connection. The team database's tables mirror the desk's column types
//! (`store/pg_schema.rs`: TEXT → text, INTEGER → bigint, REAL → double precision), so a value
//! goes in and comes out the same on both, and a parameter takes the type the server expects of
//! it (an integer compared with a `double precision` column is sent as one).
//!
//! A parameter PostgreSQL cannot place by itself (`?1 IS NULL` alone says nothing of its type) is
//! given one: `CAST(?1 AS TEXT) IS NULL OR kind = ?1`, which SQLite reads the same.
//!
//! Where a feature needs what only one dialect has, it asks [`Db::backend`].

use std::collections::HashMap;

use postgres::types::{IsNull, ToSql, Type};

use crate::error::{CoreError, CoreResult};

/// Which database a [`Db`] speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The desk's own SQLite file.
    Sqlite,
    /// The team's PostgreSQL server.
    Postgres,
}

/// A value as both databases store it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A Rust value that can be a statement's parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u8, usize, u64);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// A statement's parameters: `vals![id, name, count]`.
#[macro_export]
macro_rules! vals {
    ($($e:expr),* $(,)?) => {
        &[$(&$e as &dyn $crate::store::db::ToValue),*] as &[&dyn $crate::store::db::ToValue]
    };
}
pub use crate::vals;

/// A Rust value a column can be read into.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            other => Err(format!("a whole number was expected, the database has {other:?}")),
        }
    }
}
macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self, String> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
int_from_value!(i32, u32, u16, u8, usize, u64);

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => Err(format!("a number was expected, the database has {other:?}")),
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("text was expected, the database has {other:?}")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(format!("bytes were expected, the database has {other:?}")),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}
impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self, String> {
        Ok(v.clone())
    }
}

/// One row of a result.
#[derive(Debug, Clone)]
pub struct Row {
    values: Vec<Value>,
}

impl Row {
    /// Column `i` (from 0) as `T`; a NULL read into a non-`Option` is an error naming the column.
    pub fn get<T: FromValue>(&self, i: usize) -> CoreResult<T> {
        let v = self.values.get(i).ok_or_else(|| CoreError::Db(format!("the result has no column {i}")))?;
        T::from_value(v).map_err(|e| CoreError::Db(format!("column {i}: {e}")))
    }

    /// Column `i` as borrowed text: `None` for NULL, an error for a number or bytes.
    pub fn text(&self, i: usize) -> CoreResult<Option<&str>> {
        match self.values.get(i) {
            Some(Value::Text(t)) => Ok(Some(t)),
            Some(Value::Null) => Ok(None),
            Some(other) => Err(CoreError::Db(format!("column {i}: {other:?} is not text"))),
            None => Err(CoreError::Db(format!("the result has no column {i}"))),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A connection or transaction of either backend, as features see it.
pub trait Db {
    fn backend(&self) -> Backend;

    /// Runs one statement; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<u64>;

    /// Runs one query; returns every row.
    fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Vec<Row>>;

    /// Runs several statements without parameters (DDL), in order.
    fn batch(&mut self, sql: &str) -> CoreResult<()>;

    /// Appends rows of text (or NULL) to `table`'s `columns` by the backend's bulk path: a cached
    /// prepared INSERT on SQLite, binary `COPY … FROM STDIN` on PostgreSQL. `table` and the
    /// columns are SQL as written (quoted by the caller). Returns the rows appended.
    fn copy_text(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Option<&str>>>,
    ) -> CoreResult<u64>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row; an error if there is none.
    fn query_one(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| CoreError::Db(format!("no row for: {}", first_line(sql))))
    }
}

impl dyn Db + '_ {
    /// The first column of the first row (for a `&mut dyn Db`).
    pub fn one<T: FromValue>(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<T> {
        self.query_one(sql, params)?.get(0)
    }
}

/// The few expressions the two dialects say differently, for set-based queries over synced data
/// (a rule's, a report's). Each gives the same answer on both.
#[derive(Debug, Clone, Copy)]
pub struct Dialect(pub Backend);

impl Dialect {
    /// A field of a JSON text (`path` dotted: `cliente.ruc`) as text; NULL when absent. Numbers
    /// come back as text too (PostgreSQL keeps their scale; SQLite writes its number).
    pub fn json_text(self, expr: &str, path: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("CAST(json_extract({expr}, '$.{path}') AS TEXT)"),
            Backend::Postgres => format!("(CAST({expr} AS jsonb) #>> '{{{}}}')", path.replace('.', ",")),
        }
    }

    /// Whether `needle` occurs in `haystack` (case as given).
    pub fn contains(self, haystack: &str, needle: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            Backend::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }

    /// Days (fractional) from the time `earlier` to the time `later`, both text (a date or an
    /// RFC 3339 time; empty or NULL gives NULL). A parameter is written `CAST(?1 AS TEXT)`.
    pub fn days_between(self, later: &str, earlier: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("(julianday({later}) - julianday({earlier}))"),
            Backend::Postgres => format!(
                "(date_part('epoch', CAST(NULLIF({later}, '') AS timestamptz) - CAST(NULLIF({earlier}, '') AS timestamptz)) / 86400.0)"
            ),
        }
    }

    /// The group's values joined by `sep` (a SQL string literal), in no particular order.
    pub fn concat_agg(self, expr: &str, sep: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("group_concat({expr}, {sep})"),
            Backend::Postgres => format!("string_agg({expr}, {sep})"),
        }
    }

    /// A table source of the elements of the JSON array text `expr` as text, named `alias` with
    /// the column `value` (SQLite's `json_each`; PostgreSQL's `json_array_elements_text`).
    pub fn json_array_elements(self, expr: &str, alias: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("json_each({expr}) {alias}"),
            Backend::Postgres => format!("json_array_elements_text(CAST({expr} AS json)) AS {alias}(value)"),
        }
    }

    /// A temporary table of this connection, as named in SQL.
    pub fn temp_table(self, name: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("temp.\"{name}\""),
            Backend::Postgres => format!("pg_temp.\"{name}\""),
        }
    }

    /// `expr` kept from choosing an index (SQLite's unary `+`; PostgreSQL's planner has statistics).
    pub fn unindexed(self, expr: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("+{expr}"),
            Backend::Postgres => expr.to_string(),
        }
    }
}

/// Whether the store has a table of this name (a resource's table is made at its first sync).
pub fn table_exists(db: &mut dyn Db, table: &str) -> CoreResult<bool> {
    let sql = match db.backend() {
        Backend::Sqlite => "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
        Backend::Postgres => {
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?1"
        }
    };
    Ok(db.query_one(sql, vals![table])?.get::<i64>(0)? > 0)
}

/// Numbers a statement's bare `?` placeholders in order (`?1`, `?2`, …) outside quoted text, for a
/// statement assembled from pieces whose arguments are pushed in the same order.
pub fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut quote, mut k) = (None::<char>, 0);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && !chars.peek().is_some_and(|n| n.is_ascii_digit()) => {
                k += 1;
                out.push_str(&format!("?{k}"));
            }
            None => out.push(c),
        }
    }
    out
}

/// Tells every desk listening on `channel` (see `Store::listen`) about `payload` when this
/// transaction commits. Nothing on a desk's file (no other desk can be listening).
pub fn notify(db: &mut dyn Db, channel: &str, payload: &str) -> CoreResult<()> {
    if db.backend() == Backend::Postgres {
        db.execute("SELECT pg_notify(?1, ?2)", vals![channel, payload])?;
    }
    Ok(())
}

/// Makes transactions that call this with the same `name` take turns, on either backend (SQLite's
/// write transactions take turns already; on PostgreSQL an advisory lock held until commit).
pub fn take_turns(db: &mut dyn Db, name: &str) -> CoreResult<()> {
    if db.backend() == Backend::Postgres {
        db.execute("SELECT pg_advisory_xact_lock(hashtext(?1))", vals![name])?;
    }
    Ok(())
}

/// This computer, as rows that say where something runs record it: its name and the start of its
/// machine id (`/etc/machine-id`), since two desks of a team may well carry the same name and a
/// job of one must never look like a dead process of the other.
pub fn this_host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let name = whoami::fallible::hostname().unwrap_or_else(|_| "this computer".into());
        let id = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|id| id.trim().chars().take(12).collect::<String>())
            .filter(|id| !id.is_empty());
        match id {
            Some(id) => format!("{name}#{id}"),
            None => name,
        }
    })
}

fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or("")
}

// ----- SQLite -----

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A SQLite connection (or transaction: it derefs to one) as a [`Db`].
pub struct SqliteDb<'a>(pub &'a rusqlite::Connection);

impl Db for SqliteDb<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<u64> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        let mut st = self.0.prepare_cached(sql)?;
        Ok(st.execute(rusqlite::params_from_iter(values.iter()))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Vec<Row>> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        let mut st = self.0.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(values.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row { values });
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> CoreResult<()> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn copy_text(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Option<&str>>>,
    ) -> CoreResult<u64> {
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let mut st = self.0.prepare_cached(&format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            marks.join(", ")
        ))?;
        let mut n = 0;
        for row in rows {
            st.execute(rusqlite::params_from_iter(row.iter()))?;
            n += 1;
        }
        Ok(n)
    }
}

// ----- PostgreSQL -----

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // The server says what type it expects of each parameter; give it that.
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_string().to_sql(&Type::TEXT, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::FLOAT8 => f.to_sql(ty, out),
                _ => f.to_sql(&Type::FLOAT8, out),
            },
            Value::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                // Text where the server placed a number (`CAST(?1 AS DOUBLE PRECISION)`): as
                // SQLite would read it, or an error naming the text.
                Type::FLOAT8 | Type::FLOAT4 | Type::INT8 | Type::INT4 | Type::INT2 => {
                    let n: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number"))?;
                    match *ty {
                        Type::FLOAT8 => n.to_sql(ty, out),
                        Type::FLOAT4 => (n as f32).to_sql(ty, out),
                        Type::INT8 => (n as i64).to_sql(ty, out),
                        Type::INT4 => (n as i32).to_sql(ty, out),
                        _ => (n as i16).to_sql(ty, out),
                    }
                }
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Value::Blob(b) => b.as_slice().to_sql(&Type::BYTEA, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted text and names).
pub fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' if chars.peek().is_some_and(|n| n.is_ascii_digit()) => out.push('$'),
                _ => out.push(c),
            },
        }
    }
    out
}

/// A statement that takes longer is logged (debug level), to find where a team database's time goes.
const SLOW_STATEMENT: std::time::Duration = std::time::Duration::from_millis(100);

/// The prepared statements of one PostgreSQL connection, by the SQL they were written in.
#[derive(Default)]
pub struct PgStatements(HashMap<String, postgres::Statement>);

/// A PostgreSQL transaction as a [`Db`].
pub struct PgDb<'a, 'b> {
    pub(crate) tx: &'a mut postgres::Transaction<'b>,
    pub(crate) statements: &'a mut PgStatements,
    pub(crate) shown_url: &'a str,
}

impl PgDb<'_, '_> {
    fn statement(&mut self, sql: &str) -> CoreResult<postgres::Statement> {
        if let Some(st) = self.statements.0.get(sql) {
            return Ok(st.clone());
        }
        let st = self.tx.prepare(&pg_sql(sql)).map_err(|e| self.error(sql, &e))?;
        self.statements.0.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn error(&self, sql: &str, e: &postgres::Error) -> CoreError {
        pg_error(self.shown_url, sql, e)
    }
}

/// A PostgreSQL error as the error a user of `shown_url` is told.
fn pg_error(shown_url: &str, sql: &str, e: &postgres::Error) -> CoreError {
    {
        match e.code() {
            // A refusal by the user's rights (a role, a row-level policy) is the user's to hear.
            Some(c) if *c == postgres::error::SqlState::INSUFFICIENT_PRIVILEGE => {
                super::team::classify(shown_url, e).into()
            }
            // A statement the team database did not accept: the team database's error (not "the
            // local database"), with the server's words and the statement in its details.
            Some(_) if e.as_db_error().is_some() && !is_connection_problem(e) => {
                let db = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_default();
                super::team::TeamDbError::Server {
                    url: shown_url.to_string(),
                    detail: format!("{db} (in: {})", first_line(sql)),
                }
                .into()
            }
            _ => super::team::classify(shown_url, e).into(),
        }
    }
}

fn is_connection_problem(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN || *c == SqlState::CANNOT_CONNECT_NOW
    })
}

/// A PostgreSQL value as a [`Value`] (the types the team schema uses; others are named in an error).
fn pg_value(row: &postgres::Row, i: usize) -> Result<Value, String> {
    let ty = row.columns()[i].type_().clone();
    let err = |e: postgres::Error| format!("column {}: {e}", row.columns()[i].name());
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(err)?.map_or(Value::Null, Value::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(err)?.map_or(Value::Null, |v| Value::Int(v.into())),
        Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(err)?.map_or(Value::Null, |v| Value::Int(v.into())),
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(err)?.map_or(Value::Null, |v| Value::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(err)?.map_or(Value::Null, Value::Real),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i).map_err(err)?.map_or(Value::Null, |v| Value::Real(v.into())),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i).map_err(err)?.map_or(Value::Null, Value::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            row.try_get::<_, Option<String>>(i).map_err(err)?.map_or(Value::Null, Value::Text)
        }
        other => {
            return Err(format!(
                "column {} has the type {other}, which BackOffice does not read: cast it in the query",
                row.columns()[i].name()
            ))
        }
    })
}

impl Db for PgDb<'_, '_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<u64> {
        let st = self.statement(sql)?;
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let t = std::time::Instant::now();
        let r = self.tx.execute(&st, &refs).map_err(|e| self.error(sql, &e));
        if t.elapsed() > SLOW_STATEMENT {
            tracing::debug!(
                ms = t.elapsed().as_millis() as u64,
                statement = first_line(sql),
                "slow statement on the team database"
            );
        }
        r
    }

    fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Vec<Row>> {
        let st = self.statement(sql)?;
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows = self.tx.query(&st, &refs).map_err(|e| self.error(sql, &e))?;
        rows.iter()
            .map(|r| {
                let values = (0..r.len()).map(|i| pg_value(r, i)).collect::<Result<Vec<_>, _>>();
                values.map(|values| Row { values }).map_err(CoreError::Db)
            })
            .collect()
    }

    fn batch(&mut self, sql: &str) -> CoreResult<()> {
        self.tx.batch_execute(sql).map_err(|e| self.error(sql, &e))
    }

    fn copy_text(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Option<&str>>>,
    ) -> CoreResult<u64> {
        use postgres::binary_copy::BinaryCopyInWriter;
        let sql = format!("COPY {table} ({}) FROM STDIN (FORMAT binary)", columns.join(", "));
        let shown = self.shown_url;
        let sink = self.tx.copy_in(&sql).map_err(|e| pg_error(shown, &sql, &e))?;
        let types = vec![Type::TEXT; columns.len()];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for row in rows {
            let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            writer.write(&refs).map_err(|e| pg_error(shown, &sql, &e))?;
        }
        writer.finish().map_err(|e| pg_error(shown, &sql, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_placeholders_are_numbered_in_order_outside_quotes() {
        assert_eq!(
            number_placeholders("a = ? AND b LIKE ? ESCAPE '\\' AND c = '?' AND d = ?"),
            "a = ?1 AND b LIKE ?2 ESCAPE '\\' AND c = '?' AND d = ?3"
        );
    }

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            pg_sql("SELECT ?1, '?2', \"a?3\" FROM t WHERE x = ?12"),
            "SELECT $1, '?2', \"a?3\" FROM t WHERE x = $12"
        );
        assert_eq!(pg_sql("SELECT 'it''s ?1' || ?2"), "SELECT 'it''s ?1' || $2");
    }

    #[test]
    fn values_read_back_as_rust_types_on_sqlite() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c REAL, d INTEGER)").unwrap();
        let mut db = SqliteDb(&c);
        let n = db.execute("INSERT INTO t VALUES (?1, ?2, ?3, ?4)", vals![7u32, "x", 0.5, None::<i64>]).unwrap();
        assert_eq!(n, 1);
        let row = db.query_one("SELECT a, b, c, d, a = 7 FROM t", vals![]).unwrap();
        assert_eq!(row.get::<u32>(0).unwrap(), 7);
        assert_eq!(row.get::<String>(1).unwrap(), "x");
        assert_eq!(row.get::<f64>(2).unwrap(), 0.5);
        assert_eq!(row.get::<Option<i64>>(3).unwrap(), None);
        assert!(row.get::<bool>(4).unwrap());
        let err = row.get::<i64>(3).unwrap_err().to_string();
        assert!(err.contains("column 3"), "{err}");
    }
}
