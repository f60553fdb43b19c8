//! BackOffice core: domain types, the SQLite store, ERP clients, jobs and engines.
//!
//! This crate never depends on Tauri, GTK or WebKit (a test checks it with `cargo tree`): the desktop
//! shell and the CLI are thin adapters over [`Core`].

pub mod api;
pub mod clock;
pub mod erp;
pub mod error;
pub mod http;
pub mod i18n;
#[cfg(test)]
mod job_log_keys;
pub mod jobs;
pub mod logging;
pub mod model;
pub mod ops;
pub mod secrets;
pub mod store;
pub mod sync;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use error::{ApiError, CoreError, CoreResult};

use crate::erp::connections::Connections;
use crate::jobs::JobManager;
use crate::secrets::SecretStore;
use crate::store::Store;

/// Where BackOffice keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub db: PathBuf,
    pub log_dir: PathBuf,
}

impl Paths {
    /// `--db` (given), else `BACKOFFICE_DB`, else the OS app-data dir; logs: `BACKOFFICE_LOG_DIR`, else the
    /// OS state/log dir.
    /// Where the database and logs go: `--db`, else `BACKOFFICE_DB`, else the seeds' own keys
    /// `INVENTORY_DB_PATH` (a SQLite file) and `DATABASE_URL` when it names a SQLite file
    /// (`sqlite:///abs/path.db`, `sqlite://rel.db`, `sqlite:rel.db`), else the OS data dir.
    pub fn resolve(db: Option<PathBuf>) -> Paths {
        let from_env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let db = db
            .or_else(|| from_env("BACKOFFICE_DB"))
            .or_else(|| from_env("INVENTORY_DB_PATH"))
            .or_else(|| std::env::var("DATABASE_URL").ok().and_then(|u| sqlite_path_of_url(&u)))
            .unwrap_or_else(|| {
                dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("BackOffice").join("backoffice.db")
            });
        let log_dir = std::env::var_os("BACKOFFICE_LOG_DIR").map(PathBuf::from).unwrap_or_else(|| {
            dirs::state_dir()
                .or_else(dirs::data_local_dir)
                .unwrap_or_else(|| PathBuf::from("."))
                .join("BackOffice")
                .join("logs")
        });
        Paths { db, log_dir }
    }
}

/// The narrow context every feature works with: the store, the HTTP client, the keychain, the job
/// manager and the clock. Features are functions of a `&Ctx` (or an `&Arc<Ctx>` when they start a
/// job that outlives the call); none of them sees the facade.
pub struct Ctx {
    pub paths: Paths,
    /// Where the work is kept: the desk's file, or the team database.
    pub store: Store,
    /// On a team database, the desk's own file as well, for what stays with the desk (the window's
    /// language, where the team database is): see [`Ctx::desk_store`].
    pub desk: Option<Store>,
    pub secrets: Arc<dyn SecretStore>,
    pub jobs: JobManager,
    pub http: http::Http,
    /// The wall clock for dates that matter to an ERP (the system clock outside tests).
    pub clock: Arc<dyn clock::Clock>,
}

impl Ctx {
    /// Opens the store at `paths.db` (migrating it) and builds the context.
    pub fn open(paths: Paths, secrets: Arc<dyn SecretStore>, clock: Arc<dyn clock::Clock>) -> CoreResult<Ctx> {
        let store = Store::open(&paths.db)?;
        erp::migrate_resource_tables(&store)?;
        let jobs = JobManager::new(store.clone())?;
        Ok(Ctx { paths, store, desk: None, secrets, jobs, http: http::Http::new(Duration::from_secs(60))?, clock })
    }

    /// The context on a team database (PostgreSQL) instead of this desk's file, its resource tables
    /// brought to shape as on a desk's file.
    pub fn open_team(
        paths: Paths,
        url: &store::team::TeamUrl,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn clock::Clock>,
    ) -> CoreResult<Ctx> {
        let store = Store::open_team(url)?;
        // A desk's data being copied in: no desk works there until the copy is finished (its
        // rows would clash with the copy's, and the copy's check would fail).
        if let Some(source) = store::copy::unfinished_copy(&store)? {
            return Err(store::team::TeamDbError::OtherCopy { url: url.shown().to_string(), other: source }.into());
        }
        erp::migrate_resource_tables(&store)?;
        let jobs = JobManager::new(store.clone())?;
        Ok(Ctx { paths, store, desk: None, secrets, jobs, http: http::Http::new(Duration::from_secs(60))?, clock })
    }

    /// The store of what stays with this desk whatever it works on: the desk's own file (the same
    /// as `store` when the desk works on its file; the command line on a team database has none,
    /// and keeps those on the team database).
    pub fn desk_store(&self) -> &Store {
        self.desk.as_ref().unwrap_or(&self.store)
    }

    /// The ERP connections (their records and their secrets).
    pub fn connections(&self) -> Connections<'_> {
        Connections { store: &self.store, secrets: self.secrets.as_ref() }
    }
}

/// What the shell and the CLI call: the facade. Its methods (all in `api/`) hand the context to the
/// feature that does the work. It derefs to [`Ctx`] so that adapters and tests reach the base
/// (the store, the job manager's events) without a method per field.
pub struct Core {
    ctx: Arc<Ctx>,
}

impl std::ops::Deref for Core {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

pub const SUPPORTED_LOCALES: &[&str] = &["en", "es", "pt-BR"];

pub fn normalize_locale(raw: &str) -> String {
    let l = raw.to_lowercase();
    if l.starts_with("pt") {
        "pt-BR".into()
    } else if l.starts_with("es") {
        "es".into()
    } else {
        "en".into()
    }
}

/// Loads a `.env` file from the current directory (if any) into the environment, for headless runs.
/// The SQLite file a `DATABASE_URL` names, if it names one.
pub fn sqlite_path_of_url(url: &str) -> Option<PathBuf> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    // sqlite:///abs → /abs ; sqlite://rel → rel ; sqlite:rel → rel
    let path = match rest.strip_prefix("//") {
        Some(after) => after,
        None => rest,
    };
    let path = path.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// A note for the user when `DATABASE_URL` names a server database (the seeds' PostgreSQL option):
/// BackOffice keeps its data in one local SQLite file and says which one, instead of failing.
pub fn database_url_note(paths: &Paths) -> Option<String> {
    let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.trim().is_empty())?;
    if sqlite_path_of_url(&url).is_some() {
        return None;
    }
    if is_postgres_url(&url) {
        return Some(format!(
            "DATABASE_URL names a postgres database, but a desk's file was chosen (--db, BACKOFFICE_DB or \
             INVENTORY_DB_PATH): BackOffice works on that file, {}. Leave the file unset to work on the team \
             database; `backoffice store copy` copies the file into it (and back).",
            paths.db.display()
        ));
    }
    let scheme = url.split(':').next().unwrap_or("");
    Some(format!(
        "DATABASE_URL names a {scheme} database; BackOffice keeps its working data in a local SQLite file: {}. \
         Set INVENTORY_DB_PATH or --db to choose the file; `backoffice store copy` copies it into that database \
         (and back).",
        paths.db.display()
    ))
}

fn is_postgres_url(url: &str) -> bool {
    let u = url.trim();
    u.starts_with("postgres://") || u.starts_with("postgresql://")
}

/// The team database the command line works on, if any: `--database-url` when given, else a
/// PostgreSQL `DATABASE_URL` (the seeds' key) when no desk's file was chosen (`--db`,
/// BACKOFFICE_DB, INVENTORY_DB_PATH: the more specific choice wins, as a sqlite:// DATABASE_URL
/// yields to them).
pub fn team_database_address(explicit: Option<&str>, file_chosen: bool) -> Option<String> {
    if let Some(u) = explicit.map(str::trim).filter(|u| !u.is_empty()) {
        return Some(u.to_string());
    }
    let from_env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if file_chosen || from_env("BACKOFFICE_DB") || from_env("INVENTORY_DB_PATH") {
        return None;
    }
    std::env::var("DATABASE_URL").ok().filter(|u| is_postgres_url(u))
}

pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}

#[cfg(test)]
mod path_tests {
    use super::sqlite_path_of_url;
    use std::path::PathBuf;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path_of_url("sqlite:///var/lib/bo/db.sqlite3"),
            Some(PathBuf::from("/var/lib/bo/db.sqlite3"))
        );
        assert_eq!(sqlite_path_of_url("sqlite://db.sqlite3"), Some(PathBuf::from("db.sqlite3")));
        assert_eq!(sqlite_path_of_url("sqlite:data/inventory.db?mode=rwc"), Some(PathBuf::from("data/inventory.db")));
        assert_eq!(sqlite_path_of_url("sqlite::memory:"), None);
        assert_eq!(sqlite_path_of_url("postgres://u:p@localhost/bo"), None);
    }
}

#[cfg(test)]
mod architecture_tests;
