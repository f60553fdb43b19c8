//! Types shared by the core, the desktop shell (over IPC) and the CLI.
//! TypeScript bindings are generated from these by ts-rs into `ui/src/bindings/` (`cargo test -p backoffice-core`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum ConnectionKind {
    Omie,
    Contifico,
    Erpnext,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Omie => "omie",
            ConnectionKind::Contifico => "contifico",
            ConnectionKind::Erpnext => "erpnext",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "omie" => Some(ConnectionKind::Omie),
            "contifico" => Some(ConnectionKind::Contifico),
            "erpnext" => Some(ConnectionKind::Erpnext),
            _ => None,
        }
    }
}

/// Where a connection's time zone came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum TimezoneSource {
    /// Read from the ERP itself (ERPNext: the site's System Settings, `frappe.client.get_time_zone`).
    Site,
    /// Typed or chosen by the user.
    User,
    /// The zone of the computer the connection was added on: the site has not said its own yet.
    Computer,
    /// The ERP's documented zone (Omie: Brazil; Contífico: Ecuador).
    Default,
}

impl TimezoneSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimezoneSource::Site => "site",
            TimezoneSource::User => "user",
            TimezoneSource::Computer => "computer",
            TimezoneSource::Default => "default",
        }
    }
    pub fn parse(s: &str) -> TimezoneSource {
        match s {
            "site" => TimezoneSource::Site,
            "computer" => TimezoneSource::Computer,
            "default" => TimezoneSource::Default,
            _ => TimezoneSource::User,
        }
    }
}

/// A configured ERP connection. Its secrets are never part of it: they live in the OS keychain.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub kind: ConnectionKind,
    pub base_url: String,
    /// IANA time zone of the company (e.g. America/Sao_Paulo); dates from the ERP are read in it.
    pub timezone: String,
    /// Where `timezone` came from (an ERPNext site's own setting, the user, this computer...).
    pub timezone_source: TimezoneSource,
    pub is_demo: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    pub last_test_at: Option<String>,
    pub last_test_ok: Option<bool>,
    pub last_test_message: Option<String>,
}

/// The two secret parts of a connection. Omie: app key + app secret; Contífico: API key + POS token;
/// ERPNext: API key + API secret. Only ever written to the keychain.
#[derive(Clone, Serialize, Deserialize, TS, PartialEq, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Credentials {
    pub key: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials { key: <redacted>, secret: <redacted> }")
    }
}

/// What the connection form sends. On edit, `credentials: null` keeps the stored ones.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ConnectionInput {
    pub name: String,
    pub kind: ConnectionKind,
    pub base_url: String,
    pub timezone: String,
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "cancelled" => JobStatus::Cancelled,
            _ => JobStatus::Failed,
        }
    }
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

/// A persisted long operation (connection test, sync, transfer...).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Job {
    pub id: String,
    /// e.g. `test_connection`, `sync_contifico`.
    pub kind: String,
    pub connection_id: Option<String>,
    pub connection_name: Option<String>,
    #[ts(type = "unknown")]
    pub params: serde_json::Value,
    pub status: JobStatus,
    /// 0.0 ..= 1.0, when known.
    pub progress: Option<f64>,
    /// What the job is doing now ("categoria: page 3").
    pub progress_label: Option<String>,
    #[ts(type = "Record<string, number>")]
    pub counts: BTreeMap<String, i64>,
    pub error: Option<ApiError>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct JobLog {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub level: String,
    /// The line in English (logs, CLI, and the UI when it has no text for `key`).
    pub message: String,
    /// Dictionary key of the line (`ui/src/locales/<lang>/jobLog.json`), if it can be translated.
    pub key: Option<String>,
    /// The variable parts of the line, by placeholder name.
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct JobDetail {
    pub job: Job,
    pub logs: Vec<JobLog>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct JobFilter {
    pub kind: Option<String>,
    pub status: Option<JobStatus>,
    pub connection_id: Option<String>,
    pub limit: Option<u32>,
}

/// Sent to every watcher (UI event `job-event`, CLI progress bar) when a job changes.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct JobEvent {
    pub job: Job,
    /// A log line added with this change, if any.
    pub log: Option<JobLog>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Settings {
    /// `en`, `es` or `pt-BR`; `None` follows the OS locale.
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct AppInfo {
    pub version: String,
    pub db_path: String,
    pub log_dir: String,
    pub keychain_ok: bool,
    pub keychain_error: Option<String>,
    pub demo_running: bool,
    /// The locale the UI should use: settings, then `BACKOFFICE_LOCALE`, then the OS.
    pub locale: String,
    /// The team database this window works on (its address without the password); none when it
    /// works on the desk's file.
    pub team_database: Option<String>,
}
