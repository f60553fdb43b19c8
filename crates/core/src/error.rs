//! Errors of the core, and their plain-language form for the UI and the CLI.
//!
//! Every error carries a stable `code` (the UI translates it, with `params`) and an English `message`
//! that names the record involved and says what to do next. No variant ever holds a secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The shape every error takes when it crosses IPC or is printed by the CLI with `--json`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ApiError {
    /// Stable machine code, e.g. `unauthorized`. The UI looks up `errors.<code>` in its dictionaries.
    pub code: String,
    /// English text for logs and the CLI. Names the record and the fix.
    pub message: String,
    /// Values the translated text interpolates (`connection`, `url`, `status`...).
    pub params: BTreeMap<String, String>,
    /// Extra technical detail (truncated body, URL) for the "details" disclosure.
    pub details: Option<String>,
}

impl ApiError {
    /// The form an error is kept in a store column: JSON, so a screen can say it in its language
    /// later (code and params), while the CLI and logs read `message`.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.message.clone())
    }

    /// An error read back from a store column: the JSON of [`ApiError::to_stored`], or plain English
    /// text of an older version (then `code` says what it was, if known).
    pub fn from_stored(text: &str, code: Option<&str>) -> ApiError {
        match serde_json::from_str::<ApiError>(text) {
            Ok(e) => e,
            Err(_) => ApiError {
                code: code.unwrap_or("internal").to_string(),
                message: text.to_string(),
                params: BTreeMap::new(),
                details: None,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{field}: {reason}")]
    InvalidInput { field: String, reason: String },
    #[error("A connection named \"{0}\" already exists. Choose another name.")]
    DuplicateName(String),
    #[error("{what} was not found. It may have been deleted; refresh the list.")]
    NotFound { what: String },
    #[error("The system keychain is not available ({0}). Unlock your keyring (GNOME Keyring / KWallet) and try again; nothing was saved.")]
    KeychainUnavailable(String),
    #[error("No credentials are stored for \"{connection}\". Edit the connection and enter its key and secret again.")]
    MissingCredentials { connection: String },
    #[error(
        "Could not reach {url} for \"{connection}\". Check the address and your internet connection, then try again."
    )]
    Unreachable { connection: String, url: String, detail: String },
    #[error("The secure (TLS) connection to {url} for \"{connection}\" failed. Check that the address is right and that the server's certificate is valid.")]
    Tls { connection: String, url: String, detail: String },
    #[error("{url} did not answer in time for \"{connection}\". The service may be slow; try again later.")]
    Timeout { connection: String, url: String },
    #[error("\"{connection}\" rejected the credentials. Check the API key and secret in the connection settings.")]
    Unauthorized { connection: String, detail: String },
    #[error(
        "\"{connection}\" refused access to this operation. Ask your administrator to grant the API user permission."
    )]
    Forbidden { connection: String, detail: String },
    #[error("\"{connection}\" answered with something that is not valid data (from {url}). Check that the base URL points to the ERP's API.")]
    NotJson { connection: String, url: String, detail: String },
    #[error("\"{connection}\" is limiting requests. BackOffice waited and retried; try again in {retry_after_s} s.")]
    RateLimited { connection: String, retry_after_s: u64 },
    #[error("\"{connection}\" answered with HTTP {status} at {url}. Try again later; if it persists, contact the ERP's support with the details.")]
    Http { connection: String, url: String, status: u16, detail: String },
    #[error("\"{connection}\" reported an error: {message}")]
    Remote { connection: String, remote_code: String, message: String },
    #[error("A \"{kind}\" job is already running for {target}. Wait for it to finish or cancel it on the Jobs page.")]
    JobAlreadyRunning { kind: String, target: String },
    #[error("The job was cancelled.")]
    Cancelled,
    #[error("The local database reported an error: {0}. Your data is unchanged; try again, and if it persists restart BackOffice.")]
    Db(String),
    #[error("Unexpected error: {0}")]
    Internal(String),
    /// A failure of one ERP's or one feature's own (Omie's blocked key, SMTP...), with its own code.
    /// The base names no ERP: each defines its error type and a `From` into this variant.
    #[error("{0}")]
    Feature(Box<dyn FeatureError>),
}

/// An error type of an ERP room or a feature, carried by [`CoreError::Feature`].
pub trait FeatureError: std::error::Error + Send + Sync + 'static {
    /// Stable code the UI translates (`omie_key_blocked`, or a shared one such as `unauthorized`).
    fn code(&self) -> &'static str;
    /// Values the translated text interpolates.
    fn params(&self) -> Vec<(String, String)>;
    fn details(&self) -> Option<String> {
        None
    }
    /// Every further call with the same credentials would fail too (a rejected or blocked key): a
    /// sync stops instead of trying the other resources.
    fn stops_the_run(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn std::any::Any;
}

impl CoreError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        CoreError::InvalidInput { field: field.into(), reason: reason.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            CoreError::InvalidInput { .. } => "invalid_input",
            CoreError::DuplicateName(_) => "duplicate_name",
            CoreError::NotFound { .. } => "not_found",
            CoreError::KeychainUnavailable(_) => "keychain_unavailable",
            CoreError::MissingCredentials { .. } => "missing_credentials",
            CoreError::Unreachable { .. } => "unreachable",
            CoreError::Tls { .. } => "tls",
            CoreError::Timeout { .. } => "timeout",
            CoreError::Unauthorized { .. } => "unauthorized",
            CoreError::Forbidden { .. } => "forbidden",
            CoreError::NotJson { .. } => "not_json",
            CoreError::RateLimited { .. } => "rate_limited",
            CoreError::Http { .. } => "http",
            CoreError::Remote { .. } => "remote",
            CoreError::JobAlreadyRunning { .. } => "job_already_running",
            CoreError::Cancelled => "cancelled",
            CoreError::Db(_) => "db",
            CoreError::Internal(_) => "internal",
            CoreError::Feature(e) => e.code(),
        }
    }

    /// The feature error of type `E` this is, if it is one.
    pub fn feature<E: FeatureError>(&self) -> Option<&E> {
        match self {
            CoreError::Feature(e) => e.as_any().downcast_ref::<E>(),
            _ => None,
        }
    }

    /// Every further call with the same credentials would fail too: the key was rejected, refused
    /// or blocked.
    pub fn stops_the_run(&self) -> bool {
        match self {
            CoreError::Unauthorized { .. } | CoreError::Forbidden { .. } => true,
            CoreError::Feature(e) => e.stops_the_run(),
            _ => false,
        }
    }

    /// Whether retrying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, CoreError::Unreachable { .. } | CoreError::Timeout { .. } | CoreError::RateLimited { .. })
            || matches!(self, CoreError::Http { status, .. } if *status >= 500 || *status == 429)
            || matches!(self, CoreError::NotJson { .. })
    }

    pub fn to_api(&self) -> ApiError {
        let mut params = BTreeMap::new();
        let mut details = None;
        let mut put = |k: &str, v: &str| {
            params.insert(k.to_string(), v.to_string());
        };
        match self {
            CoreError::InvalidInput { field, reason } => {
                put("field", field);
                put("reason", reason);
            }
            CoreError::DuplicateName(n) => put("name", n),
            CoreError::NotFound { what } => put("what", what),
            CoreError::KeychainUnavailable(d) => details = Some(d.clone()),
            CoreError::MissingCredentials { connection } => put("connection", connection),
            CoreError::Unreachable { connection, url, detail }
            | CoreError::Tls { connection, url, detail }
            | CoreError::NotJson { connection, url, detail } => {
                put("connection", connection);
                put("url", url);
                details = Some(detail.clone());
            }
            CoreError::Timeout { connection, url } => {
                put("connection", connection);
                put("url", url);
            }
            CoreError::Unauthorized { connection, detail } | CoreError::Forbidden { connection, detail } => {
                put("connection", connection);
                details = Some(detail.clone());
            }
            CoreError::RateLimited { connection, retry_after_s } => {
                put("connection", connection);
                put("retry_after_s", &retry_after_s.to_string());
            }
            CoreError::Http { connection, url, status, detail } => {
                put("connection", connection);
                put("url", url);
                put("status", &status.to_string());
                details = Some(detail.clone());
            }
            CoreError::Remote { connection, remote_code, message } => {
                put("connection", connection);
                put("remote_code", remote_code);
                put("remote_message", message);
            }
            CoreError::JobAlreadyRunning { kind, target } => {
                put("kind", kind);
                put("target", target);
            }
            CoreError::Cancelled => {}
            CoreError::Db(d) | CoreError::Internal(d) => details = Some(d.clone()),
            CoreError::Feature(e) => {
                for (k, v) in e.params() {
                    put(&k, &v);
                }
                details = e.details();
            }
        }
        ApiError { code: self.code().to_string(), message: self.to_string(), params, details }
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::Db(e.to_string())
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        e.to_api()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
