//! The team database: a PostgreSQL server several desks share. This part knows how to read its
//! address, connect, and say in plain words why a connection failed; `copy.rs` moves a desk's
//! data there and back.
//!
//! Client library: `postgres` (the synchronous face of tokio-postgres, the same wire code):
//! BackOffice's store is synchronous (rusqlite behind a mutex, called from blocking threads), and
//! this keeps the PostgreSQL side the same shape; it speaks binary COPY and LISTEN/NOTIFY.

use std::str::FromStr;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use super::team_tls::{self, TlsMode};

use crate::error::{CoreError, CoreResult, FeatureError};

/// Everything BackOffice keeps in a team database lives in this schema, so "empty" is easy to see
/// and other applications' tables in the same database are never touched.
pub const SCHEMA: &str = "backoffice";

/// A parsed team-database address. `shown` never contains the password.
#[derive(Clone)]
pub struct TeamUrl {
    config: Config,
    shown: String,
    tls: TlsMode,
    root_cert: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for TeamUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl TeamUrl {
    /// Reads `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…` (or
    /// `postgresql://`); `sslmode` as PostgreSQL means it (`team_tls.rs`), `prefer` when absent.
    pub fn parse(url: &str) -> CoreResult<TeamUrl> {
        let url = url.trim();
        let shown = redact(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(TeamDbError::BadUrl { url: shown, reason: "it must start with postgres://".into() }.into());
        }
        // sslmode and sslrootcert are ours to read (the client library knows fewer modes).
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut tls = TlsMode::Prefer;
        let mut root_cert = None;
        let mut rest: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "sslmode" => {
                    tls = TlsMode::parse(&v).ok_or_else(|| TeamDbError::BadUrl {
                        url: shown.clone(),
                        reason: format!("sslmode={v} is not one of disable, prefer, require, verify-ca, verify-full"),
                    })?
                }
                "sslrootcert" => root_cert = Some(std::path::PathBuf::from(v.as_ref())),
                _ => rest.push((k.into_owned(), v.into_owned())),
            }
        }
        let mut plain = base.to_string();
        if !rest.is_empty() {
            plain.push('?');
            plain.push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish());
        }
        let mut config =
            Config::from_str(&plain).map_err(|e| TeamDbError::BadUrl { url: shown.clone(), reason: e.to_string() })?;
        config.ssl_mode(tls.wire());
        if config.get_hosts().is_empty() {
            return Err(TeamDbError::BadUrl { url: shown, reason: "it names no server (host)".into() }.into());
        }
        if config.get_dbname().is_none() {
            return Err(TeamDbError::BadUrl {
                url: shown,
                reason: "it names no database (…/database_name at the end)".into(),
            }
            .into());
        }
        if config.get_user().is_none() {
            return Err(TeamDbError::BadUrl {
                url: shown,
                reason: "it names no user (user@ before the server)".into(),
            }
            .into());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("BackOffice");
        Ok(TeamUrl { config, shown, tls, root_cert })
    }

    /// The address without its password, for messages and logs.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Sets the password (from the keychain) when the address carries none.
    pub fn with_password(mut self, password: &str) -> TeamUrl {
        if self.config.get_password().is_none() {
            self.config.password(password);
        }
        self
    }

    /// Whether the address (or [`TeamUrl::with_password`]) gave a password.
    pub fn has_password(&self) -> bool {
        self.config.get_password().is_some()
    }

    /// The server, port, database, user, password and authority the address names.
    pub fn parts(&self) -> AddressParts {
        use postgres::config::Host;
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        };
        AddressParts {
            host,
            port: self.config.get_ports().first().copied().unwrap_or(5432),
            database: self.config.get_dbname().unwrap_or_default().to_string(),
            user: self.config.get_user().unwrap_or_default().to_string(),
            password: self.config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()),
            root_cert: self.root_cert.clone(),
        }
    }

    /// How the connection is protected.
    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    pub fn connect(&self) -> CoreResult<Client> {
        let connected = if self.tls == TlsMode::Disable {
            self.config.connect(NoTls)
        } else {
            let tls = team_tls::client_config(self.tls, self.root_cert.as_ref())
                .map_err(|reason| TeamDbError::Tls { url: self.shown.clone(), detail: reason })?;
            self.config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
        };
        connected.map_err(|e| classify(&self.shown, &e).into())
    }
}

/// What a team-database address names (see [`TeamUrl::parts`]).
pub struct AddressParts {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    pub root_cert: Option<std::path::PathBuf>,
}

/// Replaces the password of a URL with `***` (whatever else it holds).
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &authority[..colon], &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A PostgreSQL error of connecting or of a statement, in the user's terms.
pub(crate) fn classify(url: &str, e: &postgres::Error) -> TeamDbError {
    let url = url.to_string();
    if let Some(code) = e.code() {
        // The server's own words ("permission denied for table …"), not the client's "db error".
        let detail = || e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
        if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            return TeamDbError::Refused { url, detail: detail() };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return TeamDbError::NoDatabase { url, detail: detail() };
        }
        if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            return TeamDbError::NotAllowed { url, detail: detail() };
        }
        return TeamDbError::Server { url, detail: detail() };
    }
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    // The server asked for a password and none was given (the client says so before sending).
    if detail.contains("password missing") {
        return TeamDbError::PasswordNeeded { url };
    }
    // A connection that was working and went away (cut network, server stopped) is a reachability
    // problem even when TLS carried it; a refused handshake or certificate is a TLS one.
    let lower = detail.to_lowercase();
    let went_away =
        ["close_notify", "unexpected-eof", "unexpected eof", "connection reset", "broken pipe", "connection closed"]
            .iter()
            .any(|w| lower.contains(w));
    let tls = ["certificate", "does not support tls", "handshake", "alert", "ssl"].iter().any(|w| lower.contains(w));
    if tls && !went_away {
        return TeamDbError::Tls { url, detail };
    }
    TeamDbError::Unreachable { url, detail }
}

/// What can go wrong with a team database, each with what to do next.
#[derive(Debug, thiserror::Error)]
pub enum TeamDbError {
    #[error(
        "The team database address {url} is not valid: {reason}. Write it as postgres://user@server:5432/database."
    )]
    BadUrl { url: String, reason: String },
    #[error(
        "The secure (TLS) connection to the team database at {url} failed ({detail}). With sslmode=verify-full \
         or verify-ca the server's certificate must come from an authority this computer trusts: ask whoever \
         runs the server for that authority's certificate file and give it as sslrootcert=FILE."
    )]
    Tls { url: String, detail: String },
    #[error(
        "Could not reach the team database at {url}. Check the server name and port, that PostgreSQL is \
         running and accepts connections from this computer, then try again."
    )]
    Unreachable { url: String, detail: String },
    #[error("The team database at {url} refused the user name or password. Check them with whoever runs the server.")]
    Refused { url: String, detail: String },
    #[error(
        "The team database at {url} asks for a password and none is saved. Enter it in Settings → Team database \
         (for the command line: in the address or in PGPASSWORD)."
    )]
    PasswordNeeded { url: String },
    #[error(
        "The server at {url} has no such database. Ask whoever runs it to create an empty database for BackOffice."
    )]
    NoDatabase { url: String, detail: String },
    #[error("The team database at {url} did not allow this to your user. Ask whoever runs it for the rights.")]
    NotAllowed { url: String, detail: String },
    #[error("The team database at {url} answered with an error. Try again; if it persists, show the details to whoever runs it.")]
    Server { url: String, detail: String },
    #[error(
        "The team database at {url} was written by a newer BackOffice (schema {found}; this version knows up to \
         {known}). Install the newer version on this computer. Nothing was changed."
    )]
    Newer { url: String, found: i64, known: i64 },
    #[error(
        "The team database at {url} is not empty: {what}. Copy into an empty database, or remove BackOffice's \
         data there first. Nothing was changed."
    )]
    NotEmpty { url: String, what: String },
    #[error(
        "The team database at {url} holds an unfinished copy of another desk's data ({other}). Finish that copy \
         from the desk it came from, or start again on an empty database."
    )]
    OtherCopy { url: String, other: String },
    #[error(
        "The team database at {url} holds no finished BackOffice copy to bring back. Copy a desk's data there first."
    )]
    NothingToRestore { url: String },
    #[error(
        "{path} already exists. Choose a new file name for the copy; BackOffice never overwrites a database file."
    )]
    TargetExists { path: String },
    #[error(
        "The copy of table {table} does not match its source ({detail}). The source may have changed during the \
         copy: run the copy again into an empty database."
    )]
    Mismatch { table: String, detail: String },
    #[error(
        "Row {rowid} of table {table} holds {found} in column {column}, where {expected} belongs; it cannot be \
         copied as it is. Nothing past it was copied; correct that row (or ask for help) and run the copy again: \
         it goes on from there."
    )]
    Value { table: String, rowid: i64, column: String, found: String, expected: String },
}

impl FeatureError for TeamDbError {
    fn code(&self) -> &'static str {
        match self {
            TeamDbError::BadUrl { .. } => "team_db_bad_url",
            TeamDbError::Tls { .. } => "team_db_tls",
            TeamDbError::Unreachable { .. } => "team_db_unreachable",
            TeamDbError::Refused { .. } => "team_db_refused",
            TeamDbError::PasswordNeeded { .. } => "team_db_password_needed",
            TeamDbError::NoDatabase { .. } => "team_db_no_database",
            TeamDbError::NotAllowed { .. } => "team_db_not_allowed",
            TeamDbError::Server { .. } => "team_db_server",
            TeamDbError::Newer { .. } => "team_db_newer",
            TeamDbError::NotEmpty { .. } => "team_db_not_empty",
            TeamDbError::OtherCopy { .. } => "team_db_other_copy",
            TeamDbError::NothingToRestore { .. } => "team_db_nothing_to_restore",
            TeamDbError::TargetExists { .. } => "copy_target_exists",
            TeamDbError::Mismatch { .. } => "copy_mismatch",
            TeamDbError::Value { .. } => "copy_bad_value",
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let p = |k: &str, v: &dyn ToString| (k.to_string(), v.to_string());
        match self {
            TeamDbError::BadUrl { url, reason } => vec![p("url", url), p("reason", reason)],
            TeamDbError::Tls { url, .. }
            | TeamDbError::Unreachable { url, .. }
            | TeamDbError::Refused { url, .. }
            | TeamDbError::PasswordNeeded { url }
            | TeamDbError::NoDatabase { url, .. }
            | TeamDbError::NotAllowed { url, .. }
            | TeamDbError::Server { url, .. }
            | TeamDbError::NothingToRestore { url } => vec![p("url", url)],
            TeamDbError::Newer { url, found, known } => vec![p("url", url), p("found", found), p("known", known)],
            TeamDbError::NotEmpty { url, what } => vec![p("url", url), p("what", what)],
            TeamDbError::OtherCopy { url, other } => vec![p("url", url), p("other", other)],
            TeamDbError::TargetExists { path } => vec![p("path", path)],
            TeamDbError::Mismatch { table, detail } => vec![p("table", table), p("detail", detail)],
            TeamDbError::Value { table, rowid, column, found, expected } => vec![
                p("table", table),
                p("rowid", rowid),
                p("column", column),
                p("found", found),
                p("expected", expected),
            ],
        }
    }

    fn details(&self) -> Option<String> {
        match self {
            TeamDbError::Unreachable { detail, .. }
            | TeamDbError::Tls { detail, .. }
            | TeamDbError::Refused { detail, .. }
            | TeamDbError::NoDatabase { detail, .. }
            | TeamDbError::NotAllowed { detail, .. }
            | TeamDbError::Server { detail, .. } => Some(detail.clone()),
            _ => None,
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl From<TeamDbError> for CoreError {
    fn from(e: TeamDbError) -> Self {
        CoreError::Feature(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact("postgres://ana:s3cr3t@db.local:5432/bo"), "postgres://ana:***@db.local:5432/bo");
        assert_eq!(redact("postgres://ana:p@ss@db/bo?sslmode=disable"), "postgres://ana:***@db/bo?sslmode=disable");
        assert_eq!(redact("postgres://ana@db/bo"), "postgres://ana@db/bo");
        let err = TeamUrl::parse("postgres://ana:s3cr3t@db.local:5432/bo?sslmode=very").unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let ok = TeamUrl::parse("postgres://ana:s3cr3t@db.local:5432/bo?sslmode=verify-full").unwrap();
        assert!(!format!("{ok:?}").contains("s3cr3t"));
        assert_eq!(ok.tls(), TlsMode::VerifyFull);
    }

    #[test]
    fn bad_addresses_say_what_is_missing() {
        for (url, code, words) in [
            ("mysql://ana@db/bo", "team_db_bad_url", "postgres://"),
            ("postgres://ana@db", "team_db_bad_url", "no database"),
            ("postgres://db.local/bo", "team_db_bad_url", "no user"),
            ("postgres://ana@db/bo?sslmode=very-safe", "team_db_bad_url", "verify-full"),
            ("postgres://ana@db:notaport/bo", "team_db_bad_url", "not valid"),
        ] {
            let err = TeamUrl::parse(url).unwrap_err();
            assert_eq!(err.code(), code, "{url}: {err}");
            assert!(err.to_string().contains(words), "{url}: {err}");
        }
        assert_eq!(TeamUrl::parse("postgresql://ana:x@db:5433/bo").unwrap().shown(), "postgresql://ana:***@db:5433/bo");
    }
}
