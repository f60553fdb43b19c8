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

use rusqlite::{params, OptionalExtension};

pub use error::{ApiError, CoreError, CoreResult};
use model::*;

use crate::api::connections::Connections;
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

/// Everything the shell and the CLI call. Cheap to share behind an `Arc`.
pub struct Core {
    pub paths: Paths,
    pub store: Store,
    pub secrets: Arc<dyn SecretStore>,
    pub jobs: JobManager,
    pub http: http::Http,
    /// The wall clock for dates that matter to an ERP (the system clock outside tests).
    pub clock: Arc<dyn clock::Clock>,
}

impl Core {
    pub fn open(paths: Paths, secrets: Arc<dyn SecretStore>) -> CoreResult<Arc<Core>> {
        Core::open_with_clock(paths, secrets, clock::system())
    }

    /// [`Core::open`] with another clock (tests reproduce a given hour with it).
    pub fn open_with_clock(
        paths: Paths,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn clock::Clock>,
    ) -> CoreResult<Arc<Core>> {
        let store = Store::open(&paths.db)?;
        let jobs = JobManager::new(store.clone())?;
        Ok(Arc::new(Core { paths, store, secrets, jobs, http: http::Http::new(Duration::from_secs(60))?, clock }))
    }

    pub fn connections(&self) -> Connections<'_> {
        Connections { store: &self.store, secrets: self.secrets.as_ref() }
    }

    pub fn app_info(&self) -> AppInfo {
        let (keychain_ok, keychain_error) = match self.secrets.check() {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        // The shell, which owns the demo simulators, says whether they run.
        let demo_running = false;
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            db_path: self.paths.db.display().to_string(),
            log_dir: self.paths.log_dir.display().to_string(),
            keychain_ok,
            keychain_error,
            demo_running,
            locale: self.locale(),
        }
    }

    pub fn settings(&self) -> CoreResult<Settings> {
        let locale: Option<String> = self.store.read(|c| {
            Ok(c.query_row("SELECT value FROM settings WHERE key='locale'", [], |r| r.get(0)).optional()?)
        })?;
        Ok(Settings { locale })
    }

    pub fn save_settings(&self, s: &Settings) -> CoreResult<Settings> {
        if let Some(l) = &s.locale {
            if !SUPPORTED_LOCALES.contains(&l.as_str()) {
                return Err(CoreError::invalid("locale", format!("\"{l}\" is not offered; choose en, es or pt-BR.")));
            }
        }
        self.store.write(|tx| {
            match &s.locale {
                Some(l) => tx.execute(
                    "INSERT INTO settings(key, value) VALUES ('locale', ?1) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    params![l],
                )?,
                None => tx.execute("DELETE FROM settings WHERE key='locale'", [])?,
            };
            Ok(())
        })?;
        self.settings()
    }

    /// Settings first, then `BACKOFFICE_LOCALE`, then the OS locale; one of `en`, `es`, `pt-BR`.
    pub fn locale(&self) -> String {
        if let Ok(Settings { locale: Some(l) }) = self.settings() {
            return l;
        }
        let env = ["BACKOFFICE_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty() && v != "C" && v != "C.UTF-8"));
        normalize_locale(env.as_deref().unwrap_or("en"))
    }

    /// True the first time it is asked for `key` (kept in settings), then false forever.
    pub fn first_time(&self, key: &str) -> bool {
        self.store
            .write(|tx| {
                Ok(tx.execute("INSERT OR IGNORE INTO settings(key, value) VALUES (?1, '1')", params![key])? == 1)
            })
            .unwrap_or(false)
    }

    pub fn dashboard(&self) -> CoreResult<DashboardSummary> {
        let conns = self.connections().list()?;
        let since =
            (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let (running, failed, ok) = self.store.read(|c| {
            let q = |sql: &str| -> CoreResult<u32> { Ok(c.query_row(sql, params![since], |r| r.get(0))?) };
            Ok((
                q("SELECT count(*) FROM jobs WHERE status IN ('queued','running') AND ?1 IS NOT NULL")?,
                q("SELECT count(*) FROM jobs WHERE status='failed' AND created_at >= ?1")?,
                q("SELECT count(*) FROM jobs WHERE status='succeeded' AND created_at >= ?1")?,
            ))
        })?;
        Ok(DashboardSummary {
            connections: conns.len() as u32,
            connections_failing: conns.iter().filter(|c| c.last_test_ok == Some(false)).count() as u32,
            jobs_running: running,
            jobs_failed_24h: failed,
            jobs_succeeded_24h: ok,
            last_jobs: self.jobs.list(&JobFilter { limit: Some(8), ..Default::default() })?,
        })
    }

    /// Starts a "test connection" job: one cheap real call, result kept on the connection.
    pub fn start_test_connection(self: &Arc<Self>, id: &str) -> CoreResult<Job> {
        let conn = self.connections().get(id)?;
        let core = self.clone();
        let target = conn.clone();
        let (job, _h) = self.jobs.spawn(
            erp::JobKind::TestConnection.as_str(),
            Some(&target),
            serde_json::json!({}),
            move |ctx| async move {
                ctx.log_t(
                    "info",
                    "connection.testing",
                    &[("connection", conn.name.clone()), ("url", conn.base_url.clone())],
                    &format!("testing \"{}\" at {}", conn.name, conn.base_url),
                );
                ctx.progress(None, "calling the ERP");
                let result: CoreResult<String> = async {
                    let creds = core.connections().credentials(&conn)?;
                    let said = erp::test_connection(&core.http, &conn, &creds).await?;
                    if conn.kind != ConnectionKind::Erpnext {
                        return Ok(said);
                    }
                    // An ERPNext site also says which zone it keeps its dates in.
                    let zone = core.erpnext_zone_of(&conn).await?;
                    Ok(match zone.note {
                        None => format!("{said}; the site keeps its dates in {}", zone.tz.name()),
                        Some(note) => {
                            ctx.log_t(
                                "warn",
                                "transfer.site_zone_unknown",
                                &[("site_name", conn.name.clone()), ("zone", zone.tz.name().to_string())],
                                &note,
                            );
                            format!("{said}; {note}")
                        }
                    })
                }
                .await;
                match result {
                    Ok(msg) => {
                        core.connections().record_test(&conn.id, true, &msg)?;
                        ctx.log("info", &msg);
                        Ok(())
                    }
                    Err(e) => {
                        core.connections().record_test(&conn.id, false, &e.to_string())?;
                        Err(e)
                    }
                }
            },
        )?;
        Ok(job)
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
    let scheme = url.split(':').next().unwrap_or("");
    Some(format!(
        "DATABASE_URL names a {scheme} database; BackOffice keeps its data in a local SQLite file instead: {}. \
         Set INVENTORY_DB_PATH or --db to choose the file.",
        paths.db.display()
    ))
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
