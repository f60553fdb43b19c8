//! The store: a desk's embedded SQLite file, or (team mode) the team's PostgreSQL database.
//!
//! SQLite: one file, WAL, foreign keys on, forward-only migrations run at open; one writer
//! connection behind a mutex (all writes are short transactions) and a small pool of reader
//! connections: in WAL mode readers never wait for the writer, so the UI stays responsive while a
//! sync commits batches.
//!
//! PostgreSQL: the same tables in the `backoffice` schema (`pg_schema.rs`), a small pool of
//! connections, one transaction per [`Store::tx`] or [`Store::query`].
//!
//! Features reach either through [`Store::tx`] and [`Store::query`], which hand them a [`Db`]
//! (`db.rs`). [`Store::write`] and [`Store::read`] give the SQLite connection itself: what still
//! uses them runs on a desk's file only (a team store answers them with a plain refusal), until it
//! is moved to `tx`/`query`.

pub mod bi;
pub mod copy;
pub mod db;
mod migrations;
pub mod pg_schema;
pub mod settings;
pub mod team;
pub mod team_tls;
#[cfg(test)]
pub(crate) mod test_support;
pub mod waits;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, Transaction};

use crate::error::{CoreError, CoreResult};

use crate::vals;
pub use db::{Backend, Db, FromValue, Row, ToValue, Value};
pub use migrations::{NewerDatabase, MIGRATIONS};
/// For benchmarks and tools that measure plain SQLite next to the store.
pub use rusqlite;
pub use rusqlite::ToSql;

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

enum Inner {
    Desk(Desk),
    Team(Box<TeamPool>),
}

struct Desk {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// Idle connections to the team database, each with the statements it has prepared.
struct TeamPool {
    url: team::TeamUrl,
    idle: Mutex<Vec<(postgres::Client, db::PgStatements)>>,
}

const MAX_IDLE_READERS: usize = 4;
const MAX_IDLE_TEAM_CONNECTIONS: usize = 4;

/// Call first thing in `main`, before any thread starts. Rust's allocations go to mimalloc, but
/// SQLite's go to the C library's malloc, which gives threads heaps of their own ("arenas", up to
/// eight per core) and keeps what each has freed. A sync writes from tokio's blocking threads, a
/// different one from batch to batch, so SQLite's per-batch memory (the staged rows, statement
/// journals) was held once per thread. `cargo xtask bench sync --records 1000000`, same day: peak
/// 206 MB with glibc's default, 159 MB with two arenas, 143 MB with one (BackOffice's time within
/// noise: 29.8 s, 27.3 s, 28.2 s); before batches were staged, 127 MB.
pub fn limit_c_heap_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's malloc parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn configure(conn: &Connection) -> CoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;
         PRAGMA wal_autocheckpoint = 16384;",
    )?;
    Ok(())
}

/// Runs `f` off the async runtime when called on it: the PostgreSQL client blocks on a runtime of
/// its own, which may not be entered from a runtime's thread.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(f).join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    } else {
        f()
    }
}

/// Statements name BackOffice's tables without their schema, as on SQLite.
fn set_search_path(client: &mut postgres::Client, url: &team::TeamUrl) -> CoreResult<()> {
    client
        .batch_execute(&format!("SET search_path TO {}", team::SCHEMA))
        .map_err(|e| CoreError::from(team::classify(url.shown(), &e)))
}

/// What a part that still speaks SQLite's own API answers on a team database.
fn not_on_team() -> CoreError {
    CoreError::Db(
        "This part of BackOffice does not work on a team database yet; open this desk's own database for it.".into(),
    )
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> CoreResult<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| CoreError::Db(format!("cannot create the folder {}: {e}", dir.display())))?;
            }
        }
        let mut writer = Connection::open(path)?;
        // Wait for another process holding the file (switching it to WAL, migrating it) instead of
        // failing at once.
        writer.busy_timeout(std::time::Duration::from_secs(10))?;
        migrations::refuse_newer(&writer)?;
        // Switching a new file to WAL needs it alone for an instant; SQLite answers "busy" at once
        // (without waiting) when another process is doing the same, so try again a few times.
        let mut tries = 0;
        let mode: String = loop {
            match writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if tries < 100
                        && matches!(
                            e.code,
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        ) =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(CoreError::Db(format!("could not switch {} to WAL (got {mode})", path.display())));
        }
        configure(&writer)?;
        migrations::migrate(&mut writer)?;
        Ok(Store {
            inner: Arc::new(Inner::Desk(Desk {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            })),
        })
    }

    /// Connects to a team database, creating BackOffice's schema in it (or bringing an older one up
    /// to date) first. Refuses a database a newer BackOffice set up.
    pub fn open_team(url: &team::TeamUrl) -> CoreResult<Store> {
        off_runtime(|| {
            let mut client = url.connect()?;
            pg_schema::prepare(&mut client, url)?;
            set_search_path(&mut client, url)?;
            let store = Store {
                inner: Arc::new(Inner::Team(Box::new(TeamPool { url: url.clone(), idle: Mutex::new(Vec::new()) }))),
            };
            store.give_back(client, db::PgStatements::default());
            Ok(store)
        })
    }

    /// The team database's address without its password (none for a desk's file).
    pub fn shown_address(&self) -> Option<String> {
        match &*self.inner {
            Inner::Team(pool) => Some(pool.url.shown().to_string()),
            Inner::Desk(_) => None,
        }
    }

    /// Which database this store keeps its data in.
    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Desk(_) => Backend::Sqlite,
            Inner::Team(_) => Backend::Postgres,
        }
    }

    /// The desk's database file (none for a team database).
    pub fn path(&self) -> Option<&Path> {
        match &*self.inner {
            Inner::Desk(d) => Some(&d.path),
            Inner::Team(_) => None,
        }
    }

    fn desk(&self) -> CoreResult<&Desk> {
        match &*self.inner {
            Inner::Desk(d) => Ok(d),
            Inner::Team(_) => Err(not_on_team()),
        }
    }

    /// Runs `f` in one write transaction of the desk's SQLite file; it commits only if `f` returns Ok.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> CoreResult<T>) -> CoreResult<T> {
        let desk = self.desk()?;
        let mut conn = desk.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a reader connection of the desk's SQLite file (never blocked by the writer in WAL mode).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> CoreResult<T>) -> CoreResult<T> {
        let desk = self.desk()?;
        let conn = {
            let mut pool = desk.readers.lock().unwrap_or_else(|p| p.into_inner());
            pool.pop()
        };
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &desk.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )?;
                configure(&c)?;
                c
            }
        };
        let out = f(&conn);
        let mut pool = desk.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` in one write transaction, on either backend; it commits only if `f` returns Ok.
    pub fn tx<T: Send>(&self, f: impl FnOnce(&mut dyn Db) -> CoreResult<T> + Send) -> CoreResult<T> {
        match &*self.inner {
            Inner::Desk(_) => self.write(|tx| f(&mut db::SqliteDb(tx))),
            Inner::Team(_) => self.team(false, f),
        }
    }

    /// Runs `f` to read, on either backend (on SQLite a reader connection, which never waits for
    /// the writer; on PostgreSQL a read-only transaction: one snapshot of the team's data).
    pub fn query<T: Send>(&self, f: impl FnOnce(&mut dyn Db) -> CoreResult<T> + Send) -> CoreResult<T> {
        match &*self.inner {
            Inner::Desk(_) => self.read(|c| f(&mut db::SqliteDb(c))),
            Inner::Team(_) => self.team(true, f),
        }
    }

    fn team<T: Send>(&self, read_only: bool, f: impl FnOnce(&mut dyn Db) -> CoreResult<T> + Send) -> CoreResult<T> {
        let Inner::Team(pool) = &*self.inner else { unreachable!("team() on a desk store") };
        off_runtime(|| {
            let taken = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let (mut client, mut statements) = match taken {
                Some(c) if !c.0.is_closed() => c,
                _ => {
                    let mut c = pool.url.connect()?;
                    set_search_path(&mut c, &pool.url)?;
                    (c, db::PgStatements::default())
                }
            };
            let shown = pool.url.shown().to_string();
            let out = (|| {
                let mut tx = client
                    .build_transaction()
                    .read_only(read_only)
                    .start()
                    .map_err(|e| CoreError::from(team::classify(&shown, &e)))?;
                let out = f(&mut db::PgDb { tx: &mut tx, statements: &mut statements, shown_url: &shown })?;
                tx.commit().map_err(|e| CoreError::from(team::classify(&shown, &e)))?;
                Ok(out)
            })();
            if out.is_err() {
                // A statement the server refused leaves its prepared statements valid, but a schema
                // change (another desk upgrading) would not: start the next transaction afresh.
                statements = db::PgStatements::default();
            }
            self.give_back(client, statements);
            out
        })
    }

    fn give_back(&self, client: postgres::Client, statements: db::PgStatements) {
        let Inner::Team(pool) = &*self.inner else { return };
        if client.is_closed() {
            return;
        }
        let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_TEAM_CONNECTIONS {
            idle.push((client, statements));
        }
    }

    /// On a team database, calls `on` with the payload of every notification sent on `channel` (by
    /// any desk, with [`db::notify`]) from the moment this returns, from a thread of its own with a
    /// connection of its own, until `alive` says to stop (looked at every second); a lost connection
    /// is made again (what was sent while it was lost is not heard: watchers read the state anew).
    /// Returns false (and starts nothing) on a desk's file, where one process's own events are all
    /// there is.
    pub fn listen(
        &self,
        channel: &'static str,
        alive: impl Fn() -> bool + Send + 'static,
        mut on: impl FnMut(&str) + Send + 'static,
    ) -> bool {
        let Inner::Team(pool) = &*self.inner else { return false };
        let url = pool.url.clone();
        let connect = move |url: &team::TeamUrl| -> CoreResult<postgres::Client> {
            let mut client = url.connect()?;
            client
                .batch_execute(&format!("LISTEN {channel}"))
                .map_err(|e| CoreError::from(team::classify(url.shown(), &e)))?;
            Ok(client)
        };
        // The first connection is made before returning, so nothing sent after this is missed.
        let first = off_runtime(|| connect(&url));
        std::thread::Builder::new()
            .name(format!("listen-{channel}"))
            .spawn(move || {
                use postgres::fallible_iterator::FallibleIterator;
                let mut ready = first.ok();
                while alive() {
                    let mut client = match ready.take().map_or_else(|| connect(&url), Ok) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(error = %e, channel, "cannot listen to the team database; trying again");
                            std::thread::sleep(std::time::Duration::from_secs(2));
                            continue;
                        }
                    };
                    'connected: while alive() {
                        let mut notes = client.notifications();
                        let mut it = notes.timeout_iter(std::time::Duration::from_secs(1));
                        loop {
                            match it.next() {
                                Ok(Some(n)) => on(n.payload()),
                                Ok(None) => break,
                                Err(e) => {
                                    tracing::warn!(error = %e, channel, "lost the team database's notifications; listening again");
                                    break 'connected;
                                }
                            }
                        }
                    }
                }
            })
            .is_ok()
    }

    /// Schema version after migrations.
    pub fn schema_version(&self) -> CoreResult<i64> {
        match &*self.inner {
            Inner::Desk(_) => self.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)),
            Inner::Team(_) => self.query(|db| {
                let v: String = db.one("SELECT value FROM bo_team_store WHERE key = 'schema_version'", vals![])?;
                v.parse().map_err(|_| CoreError::Db(format!("the team database's schema version reads {v:?}")))
            }),
        }
    }
}

impl Drop for TeamPool {
    fn drop(&mut self) {
        // A PostgreSQL client shuts its own runtime down when dropped, which may not happen on an
        // async runtime's thread either.
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        off_runtime(move || drop(idle));
    }
}

/// Current UTC time as RFC 3339 with milliseconds, the format every timestamp column uses.
pub fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_with_wal_foreign_keys_and_latest_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a/b/bo.db")).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let fk: i64 = store.read(|c| Ok(c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?)).unwrap();
        assert_eq!(fk, 1);
        let mode: String = store.read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)).unwrap();
        assert_eq!(mode, "wal");
        // Re-opening runs no migration twice.
        drop(store);
        let again = Store::open(&dir.path().join("a/b/bo.db")).unwrap();
        assert_eq!(again.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bo.db")).unwrap();
        let r: CoreResult<()> = store.write(|tx| {
            tx.execute("INSERT INTO settings(key, value) VALUES ('x', '1')", [])?;
            Err(CoreError::Internal("boom".into()))
        });
        assert!(r.is_err());
        let n: i64 =
            store.read(|c| Ok(c.query_row("SELECT count(*) FROM settings WHERE key='x'", [], |r| r.get(0))?)).unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn reader_sees_committed_data_while_writer_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("bo.db")).unwrap();
        store
            .write(|tx| {
                tx.execute("INSERT INTO settings(key, value) VALUES ('a', '1')", [])?;
                Ok(())
            })
            .unwrap();
        let s2 = store.clone();
        store
            .write(|tx| {
                tx.execute("INSERT INTO settings(key, value) VALUES ('b', '2')", [])?;
                // A reader in the middle of an open write transaction is not blocked and sees the last commit.
                let n: i64 = s2.read(|c| Ok(c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))?))?;
                assert_eq!(n, 1);
                Ok(())
            })
            .unwrap();
    }

    /// An older BackOffice meeting a database a newer one wrote says so and leaves every byte of it
    /// alone (no WAL switch, no migration), whatever journal mode the file is in.
    #[test]
    fn a_database_from_a_newer_version_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        for (name, wal) in [("rollback.db", false), ("wal.db", true)] {
            let path = dir.path().join(name);
            {
                let c = Connection::open(&path).unwrap();
                if wal {
                    c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).unwrap();
                }
                c.execute_batch("CREATE TABLE future (x TEXT); INSERT INTO future VALUES ('kept');").unwrap();
                c.pragma_update(None, "user_version", migrations::MIGRATIONS.len() as i64 + 5).unwrap();
            }
            let before = std::fs::read(&path).unwrap();
            let err = match Store::open(&path) {
                Ok(_) => panic!("{name}: a newer schema was opened"),
                Err(e) => e,
            };
            let newer = err.feature::<migrations::NewerDatabase>().expect("a NewerDatabase refusal");
            assert_eq!(
                (newer.found, newer.known),
                (migrations::MIGRATIONS.len() as i64 + 5, migrations::MIGRATIONS.len() as i64)
            );
            assert_eq!(err.code(), "newer_database");
            assert!(err.to_string().contains("newer BackOffice"), "{name}: {err}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{name}: the refused file changed");
            let c = Connection::open(&path).unwrap();
            let kept: String = c.query_row("SELECT x FROM future", [], |r| r.get(0)).unwrap();
            assert_eq!(kept, "kept");
        }
    }

    #[test]
    fn processes_opening_a_new_file_at_once_migrate_it_once() {
        // Two BackOffice processes (the app and a cron's CLI, say) opening a database that does not
        // exist yet, at the same moment: both must open it, and the schema must be applied once.
        for round in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("race-{round}.db"));
            let gate = std::sync::Arc::new(std::sync::Barrier::new(4));
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (path, gate) = (path.clone(), gate.clone());
                    std::thread::spawn(move || {
                        gate.wait();
                        Store::open(&path).map(|_| ()).map_err(|e| e.to_string())
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap().unwrap();
            }
            let store = Store::open(&path).unwrap();
            let v: i64 = store.read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
            assert_eq!(v, MIGRATIONS.len() as i64);
        }
    }
}
