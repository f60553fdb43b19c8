//! Settings → Team database: where the team's PostgreSQL is (server, port, database, user; the
//! password only in the keychain), a connection test that says what it holds, and "copy this
//! desk's data there" as a job (progress per table, cancellable, resumable by starting it again).
//! The copy itself is `store::copy`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::model::{Credentials, Job};
use crate::store::copy::{self, CopyProgress};
use crate::store::settings::Setting;
use crate::store::team::TeamUrl;
use crate::Ctx;

/// The keychain id of the team database password (connection ids are UUIDs: no collision).
pub const SECRET_ID: &str = "team-database";
/// The job that copies this desk into the team database.
pub const COPY_KIND: &str = "team_copy";

/// Where the team database is. The password is never part of it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TeamDbSettings {
    /// Server name or address, e.g. db.mycompany.local.
    pub host: String,
    pub port: u32,
    pub database: String,
    pub user: String,
    /// PostgreSQL's sslmode: disable, prefer, require, verify-ca or verify-full (`store/team_tls.rs`).
    #[serde(default = "default_tls")]
    pub tls: String,
    /// The authority's certificate file (PEM) for verify-ca and verify-full; empty = the system's.
    #[serde(default)]
    pub root_cert: String,
    /// Read-only: a password is stored in the keychain.
    #[serde(default)]
    pub password_saved: bool,
    /// Read-only here (see [`set_team_mode`]): this desk works on the team database; the window
    /// opens it at start.
    #[serde(default)]
    pub work_here: bool,
}

fn default_tls() -> String {
    "verify-full".into()
}

impl Default for TeamDbSettings {
    fn default() -> Self {
        TeamDbSettings {
            host: String::new(),
            port: 5432,
            database: String::new(),
            user: String::new(),
            tls: default_tls(),
            root_cert: String::new(),
            password_saved: false,
            work_here: false,
        }
    }
}

/// What a connection test found.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TeamDbCheck {
    pub server_version: String,
    /// "empty" (ready for a copy), "copying" (an unfinished copy) or "ready" (holds BackOffice data).
    pub state: String,
    #[ts(type = "number | null")]
    pub schema_version: Option<i64>,
    pub copied_from: Option<String>,
    pub copied_at: Option<String>,
    /// The address tested, without the password.
    pub address: String,
}

const TEAM: Setting<TeamDbSettings> = Setting::json("team_database");

/// Where the team database is and whether this desk works there: the desk's own (its file).
pub fn team_settings(cx: &Ctx) -> CoreResult<TeamDbSettings> {
    let mut s = cx.desk_store().setting(&TEAM)?.unwrap_or_default();
    s.password_saved = matches!(cx.secrets.get(SECRET_ID), Ok(Some(c)) if !c.secret.is_empty());
    Ok(s)
}

fn validate(input: &TeamDbSettings) -> CoreResult<TeamDbSettings> {
    let s = TeamDbSettings {
        host: input.host.trim().to_string(),
        port: input.port,
        database: input.database.trim().to_string(),
        user: input.user.trim().to_string(),
        tls: input.tls.trim().to_string(),
        root_cert: input.root_cert.trim().to_string(),
        password_saved: false,
        work_here: false,
    };
    if crate::store::team_tls::TlsMode::parse(&s.tls).is_none() {
        return Err(CoreError::invalid("tls", "choose disable, prefer, require, verify-ca or verify-full"));
    }
    if !s.root_cert.is_empty() && !std::path::Path::new(&s.root_cert).is_file() {
        return Err(CoreError::invalid(
            "root_cert",
            format!(
                "{} is not a file: give the path of the authority's certificate (PEM), or leave it empty",
                s.root_cert
            ),
        ));
    }
    if s.host.is_empty() || s.host.contains(['/', ' ', '@', '?']) {
        return Err(CoreError::invalid("host", "enter the server's name or address, e.g. db.mycompany.local"));
    }
    if !(1..=65535).contains(&s.port) {
        return Err(CoreError::invalid("port", "enter a port between 1 and 65535 (PostgreSQL's usual one is 5432)"));
    }
    if s.database.is_empty() {
        return Err(CoreError::invalid("database", "enter the name of the database made for BackOffice"));
    }
    if s.user.is_empty() {
        return Err(CoreError::invalid("user", "enter the database user BackOffice logs in as"));
    }
    Ok(s)
}

/// Saves where the team database is. `password`: `None` keeps the stored one, `Some("")` removes
/// it, anything else replaces it (in the keychain only).
pub fn save_team_settings(cx: &Ctx, input: &TeamDbSettings, password: Option<String>) -> CoreResult<TeamDbSettings> {
    let mut s = validate(input)?;
    // Saving the address keeps the choice of where this desk works (changed by `set_team_mode`).
    s.work_here = cx.desk_store().setting(&TEAM)?.is_some_and(|t| t.work_here);
    if password.is_some() {
        cx.secrets.check()?;
    }
    cx.desk_store().tx(|db| {
        crate::store::settings::put(db, &TEAM, &s)?;
        match password.as_deref() {
            None => {}
            Some("") => cx.secrets.delete(SECRET_ID)?,
            Some(p) => cx.secrets.set(SECRET_ID, &Credentials { key: s.user.clone(), secret: p.to_string() })?,
        }
        Ok(())
    })?;
    team_settings(cx)
}

/// The saved address with the keychain's password.
fn team_url(cx: &Ctx) -> CoreResult<TeamUrl> {
    saved_address(cx.desk_store(), cx.secrets.as_ref())
}

/// The team database this desk's file says the desk works on, with the keychain's password; none
/// when it works on its file.
pub fn address_to_work_on(
    desk: &crate::store::Store,
    secrets: &dyn crate::secrets::SecretStore,
) -> CoreResult<Option<TeamUrl>> {
    if !desk.setting(&TEAM)?.is_some_and(|s| s.work_here) {
        return Ok(None);
    }
    saved_address(desk, secrets).map(Some)
}

/// The team database the desk file at `paths.db` says its desk works on (see
/// [`address_to_work_on`]); none when the file does not exist yet or works on itself.
pub fn desk_works_on(paths: &crate::Paths, secrets: &dyn crate::secrets::SecretStore) -> CoreResult<Option<TeamUrl>> {
    if !paths.db.exists() {
        return Ok(None);
    }
    address_to_work_on(&crate::store::Store::open(&paths.db)?, secrets)
}

/// The form Settings → Team database would hold for `url`, and the password the address carries.
pub fn settings_of_address(url: &TeamUrl) -> (TeamDbSettings, Option<String>) {
    let p = url.parts();
    let form = TeamDbSettings {
        host: p.host,
        port: u32::from(p.port),
        database: p.database,
        user: p.user,
        tls: url.tls().as_str().to_string(),
        root_cert: p.root_cert.map(|c| c.display().to_string()).unwrap_or_default(),
        password_saved: false,
        work_here: false,
    };
    (form, p.password)
}

/// Makes this desk work on the team database (`on`) or on its own file again, from the next start.
/// The team database must answer and hold no unfinished copy (a copy that stopped half-way is
/// finished first); an empty one is fine: the team starts there.
pub async fn set_team_mode(cx: &Ctx, on: bool) -> CoreResult<TeamDbSettings> {
    let mut s = cx.desk_store().setting(&TEAM)?.ok_or_else(|| {
        CoreError::invalid("host", "enter where the team database is (server, database, user) and save first")
    })?;
    if on {
        let check = check_team_database(cx).await?;
        if check.state == "copying" {
            return Err(CoreError::invalid(
                "team_mode",
                "a copy into the team database stopped half-way: finish it (\"Copy this desk's data there\") first",
            ));
        }
    }
    s.work_here = on;
    s.password_saved = false;
    cx.desk_store().tx(|db| crate::store::settings::put(db, &TEAM, &s))?;
    team_settings(cx)
}

fn saved_address(desk: &crate::store::Store, secrets: &dyn crate::secrets::SecretStore) -> CoreResult<TeamUrl> {
    let s = desk.setting(&TEAM)?.ok_or_else(|| {
        CoreError::invalid("host", "enter where the team database is (server, database, user) and save first")
    })?;
    let mut url = url::Url::parse("postgres://localhost/").map_err(|e| CoreError::Internal(e.to_string()))?;
    let bad = |_| CoreError::invalid("host", "enter the server's name or address, e.g. db.mycompany.local");
    url.set_host(Some(&s.host)).map_err(bad)?;
    url.set_port(Some(s.port as u16)).map_err(|_| CoreError::invalid("port", "enter a port between 1 and 65535"))?;
    url.set_username(&s.user).map_err(|_| CoreError::invalid("user", "enter the database user"))?;
    url.set_path(&s.database);
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("sslmode", &s.tls);
        if !s.root_cert.is_empty() {
            q.append_pair("sslrootcert", &s.root_cert);
        }
    }
    let mut team = TeamUrl::parse(url.as_str())?;
    if let Some(c) = secrets.get(SECRET_ID)? {
        team = team.with_password(&c.secret);
    }
    Ok(team)
}

/// The team database address given on the command line, with the password Settings → Team
/// database saved in the keychain when the address (and PGPASSWORD) carry none. A keychain that
/// cannot be reached is no error here: the server then says whether it wants a password.
pub fn command_line_address(address: &str, secrets: &dyn crate::secrets::SecretStore) -> CoreResult<TeamUrl> {
    let mut url = TeamUrl::parse(address)?;
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        url = url.with_password(&pw);
    }
    if url.has_password() {
        return Ok(url);
    }
    Ok(match secrets.get(SECRET_ID) {
        Ok(Some(c)) if !c.secret.is_empty() => url.with_password(&c.secret),
        _ => url,
    })
}

/// Connects with the saved settings and says what the team database holds.
pub async fn check_team_database(cx: &Ctx) -> CoreResult<TeamDbCheck> {
    let url = team_url(cx)?;
    let status = tokio::task::spawn_blocking(move || copy::team_status(&url).map(|s| (s, url)))
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))??;
    let (s, url) = status;
    Ok(TeamDbCheck {
        server_version: s.server_version,
        state: s.state,
        schema_version: s.schema_version,
        copied_from: s.copied_from,
        copied_at: s.copied_at,
        address: url.shown().to_string(),
    })
}

/// Starts copying this desk's data into the team database (or goes on with an interrupted copy).
pub fn start_copy_to_team(cx: &Ctx) -> CoreResult<Job> {
    let url = team_url(cx)?;
    let source = cx
        .store
        .path()
        .ok_or_else(|| {
            CoreError::Db("This window already works on a team database; there is no desk file to copy.".into())
        })?
        .to_path_buf();
    let params = serde_json::json!({ "to": url.shown() });
    let (job, _h) = cx.jobs.spawn(COPY_KIND, None, params, move |ctx| async move {
        ctx.log_t(
            "info",
            "team.copy_started",
            &[("to", url.shown().to_string())],
            "copying this desk's data into the team database",
        );
        let token = ctx.cancel_token();
        let worker = ctx.clone();
        let report = tokio::task::spawn_blocking(move || {
            let mut last_table = String::new();
            let mut on_progress = |p: &CopyProgress| {
                let within = if p.rows_total == 0 { 1.0 } else { p.rows_done as f64 / p.rows_total as f64 };
                let fraction = ((p.table_index - 1) as f64 + within) / p.tables.max(1) as f64;
                worker.progress(Some(fraction.min(1.0)), format!("{} ({}/{})", p.table, p.table_index, p.tables));
                if p.rows_done >= p.rows_total && p.table != last_table {
                    last_table = p.table.clone();
                    worker.add_count("tables", 1);
                    worker.add_count("rows", p.rows_done as i64);
                }
            };
            copy::copy_to_team(&source, &url, &crate::erp::migrate_resource_tables, &mut on_progress, &|| {
                token.is_cancelled()
            })
            .map(|r| (r, url))
        })
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))??;
        let (report, url) = report;
        ctx.log_t(
            "info",
            "team.copy_verified",
            &[
                ("tables", report.tables.len().to_string()),
                ("rows", report.rows().to_string()),
                ("to", url.shown().to_string()),
            ],
            "every table verified in the team database (rows and checksums)",
        );
        Ok(())
    })?;
    Ok(job)
}
