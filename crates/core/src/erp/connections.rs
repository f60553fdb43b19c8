//! Connections: validated settings in the store, credentials in the keychain, never both in one place.

use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, ConnectionInput, ConnectionKind, Credentials, TimezoneSource};
use crate::secrets::SecretStore;
use crate::store::{now_utc, Db, Row, Store};
use crate::vals;

const COLS: &str = "id, name, kind, base_url, timezone, is_demo, created_at, updated_at, last_test_at, last_test_ok, \
                    last_test_message, timezone_source";

fn from_row(r: &Row) -> CoreResult<Connection> {
    Ok(Connection {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: ConnectionKind::parse(&r.get::<String>(2)?).unwrap_or(ConnectionKind::Erpnext),
        base_url: r.get(3)?,
        timezone: r.get(4)?,
        is_demo: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        last_test_at: r.get(8)?,
        last_test_ok: r.get(9)?,
        last_test_message: r.get(10)?,
        timezone_source: TimezoneSource::parse(&r.get::<String>(11)?),
    })
}

/// The zone of a form: what the user chose, else the ERP's documented zone, else (ERPNext, whose
/// site says its own zone once it is reached) this computer's zone. Never silently UTC.
fn form_timezone(input: &ConnectionInput) -> CoreResult<(String, TimezoneSource)> {
    let typed = input.timezone.trim();
    if !typed.is_empty() {
        return Ok((typed.to_string(), TimezoneSource::User));
    }
    let documented = crate::erp::default_timezone(input.kind);
    if !documented.is_empty() {
        return Ok((documented.to_string(), TimezoneSource::Default));
    }
    match crate::clock::desktop_zone() {
        Some(tz) => Ok((tz.name().to_string(), TimezoneSource::Computer)),
        None => Err(CoreError::invalid(
            "timezone",
            "Choose the time zone the site keeps (e.g. America/Guayaquil): this computer does not say which zone \
             it is in, and BackOffice reads the site's own zone only once it can reach it.",
        )),
    }
}

/// Checks and normalises the form. `creating` makes credentials mandatory.
pub fn validate(input: &ConnectionInput, creating: bool) -> CoreResult<ConnectionInput> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(CoreError::invalid("name", "Give the connection a name, e.g. \"Matriz São Paulo\"."));
    }
    if name.chars().count() > 80 {
        return Err(CoreError::invalid("name", "Use at most 80 characters for the name."));
    }
    let mut base_url = input.base_url.trim().to_string();
    if base_url.is_empty() {
        base_url = crate::erp::default_base_url(input.kind).to_string();
    }
    if base_url.is_empty() {
        return Err(CoreError::invalid("base_url", "Enter the site address, e.g. https://erp.mycompany.com."));
    }
    let parsed = url::Url::parse(&base_url).map_err(|_| {
        CoreError::invalid(
            "base_url",
            format!("\"{base_url}\" is not a web address. It must start with https:// (or http://)."),
        )
    })?;
    if parsed.scheme() != "https" && parsed.scheme() != "http" {
        return Err(CoreError::invalid(
            "base_url",
            format!("The address must start with https:// or http://, not {}://.", parsed.scheme()),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(CoreError::invalid("base_url", "The address has no host name."));
    }
    if input.kind != ConnectionKind::Erpnext && !base_url.ends_with('/') {
        base_url.push('/');
    }
    let (timezone, _) = form_timezone(input)?;
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(CoreError::invalid(
            "timezone",
            format!("\"{timezone}\" is not a known time zone (e.g. America/Sao_Paulo)."),
        ));
    }
    let credentials = match &input.credentials {
        Some(c) => {
            let c = Credentials { key: c.key.trim().to_string(), secret: c.secret.trim().to_string() };
            if c.key.is_empty() {
                return Err(CoreError::invalid(
                    "key",
                    key_label(input.kind).to_string() + " is empty. Paste it from your ERP's settings.",
                ));
            }
            if c.secret.is_empty() && !crate::erp::secret_optional(input.kind) {
                return Err(CoreError::invalid(
                    "secret",
                    secret_label(input.kind).to_string() + " is empty. Paste it from your ERP's settings.",
                ));
            }
            Some(c)
        }
        None if creating => {
            return Err(CoreError::invalid(
                "key",
                format!("{} is required for a new connection.", key_label(input.kind)),
            ))
        }
        None => None,
    };
    Ok(ConnectionInput { name, kind: input.kind, base_url, timezone, credentials })
}

fn key_label(kind: ConnectionKind) -> &'static str {
    crate::erp::secret_labels(kind).0
}

fn secret_label(kind: ConnectionKind) -> &'static str {
    crate::erp::secret_labels(kind).1
}

/// The keychain entry that holds this keychain's own id (never a connection's id: those are UUIDs).
const KEYCHAIN_ID: &str = "this-keychain";

/// A keychain that keeps a connection's key: its id, its user and computer, and when it said so.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct KeyDesk {
    pub keychain_id: String,
    pub who: String,
    pub machine: String,
    /// RFC 3339, UTC (empty for this desk's own keychain when it has not saved the key).
    pub saved_at: String,
}

impl KeyDesk {
    /// "maria (finance-02)".
    pub fn shown(&self) -> String {
        format!("{} ({})", self.who, self.machine)
    }
}

/// Where a connection's key is kept, for its row in the window.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ts_rs::TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct KeyState {
    pub connection_id: String,
    /// This desk's keychain keeps it: this desk may run the connection's jobs.
    pub here: bool,
    /// Other keychains that said they keep it (the desks that may run its jobs).
    pub elsewhere: Vec<KeyDesk>,
}

/// A job of a connection whose key this desk's keychain does not keep, while other desks' do.
#[derive(Debug, thiserror::Error)]
#[error(
    "This desk's keychain has no key for \"{connection}\"; it is kept on {desks}. Those desks can run its jobs, or edit \
     the connection here and enter its key and secret to keep them on this desk too."
)]
pub struct KeyOnOtherDesks {
    pub connection: String,
    /// The desks that keep it ("who (machine)", comma-separated).
    pub desks: String,
}

impl crate::error::FeatureError for KeyOnOtherDesks {
    fn code(&self) -> &'static str {
        "key_on_other_desks"
    }
    fn params(&self) -> Vec<(String, String)> {
        vec![("connection".into(), self.connection.clone()), ("desks".into(), self.desks.clone())]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Says (inside the transaction that saved it) that keychain `desk` keeps `connection`'s key.
fn record_key(db: &mut dyn Db, connection: &str, desk: &KeyDesk) -> CoreResult<()> {
    db.execute(
        "INSERT INTO connection_keys (connection_id, keychain_id, who, machine, saved_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (connection_id, keychain_id) DO UPDATE SET who=excluded.who, machine=excluded.machine,
         saved_at=excluded.saved_at",
        vals![connection, desk.keychain_id, desk.who, desk.machine, now_utc()],
    )?;
    Ok(())
}

pub struct Connections<'a> {
    pub store: &'a Store,
    pub secrets: &'a dyn SecretStore,
}

impl Connections<'_> {
    pub fn list(&self) -> CoreResult<Vec<Connection>> {
        self.store.query(|db| {
            db.query(&format!("SELECT {COLS} FROM connections ORDER BY lower(name)"), vals![])?
                .iter()
                .map(from_row)
                .collect()
        })
    }

    pub fn get(&self, id: &str) -> CoreResult<Connection> {
        self.store
            .query(|db| {
                db.query_opt(&format!("SELECT {COLS} FROM connections WHERE id=?1"), vals![id])?
                    .map(|r| from_row(&r))
                    .transpose()
            })?
            .ok_or_else(|| CoreError::NotFound { what: format!("Connection {id}") })
    }

    pub fn find_by_name(&self, name: &str) -> CoreResult<Connection> {
        self.store
            .query(|db| {
                db.query_opt(&format!("SELECT {COLS} FROM connections WHERE lower(name)=lower(?1)"), vals![name])?
                    .map(|r| from_row(&r))
                    .transpose()
            })?
            .ok_or_else(|| CoreError::NotFound { what: format!("Connection \"{name}\"") })
    }

    fn name_taken(db: &mut dyn Db, name: &str, except: &str) -> CoreResult<bool> {
        Ok(db
            .query_opt("SELECT 1 FROM connections WHERE lower(name)=lower(?1) AND id<>?2", vals![name, except])?
            .is_some())
    }

    /// Validates, checks the keychain, then inserts the row and stores the secret in one step:
    /// if the keychain refuses, the row is rolled back and nothing is stored.
    pub fn create(&self, input: &ConnectionInput, is_demo: bool) -> CoreResult<Connection> {
        let (_, source) = form_timezone(input)?;
        let input = validate(input, true)?;
        self.secrets.check()?;
        let mine = self.keychain();
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_utc();
        self.store.tx(|db| {
            if Self::name_taken(db, &input.name, "")? {
                return Err(CoreError::DuplicateName(input.name.clone()));
            }
            db.execute(
                "INSERT INTO connections (id, name, kind, base_url, timezone, timezone_source, is_demo, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                vals![id, input.name, input.kind.as_str(), input.base_url, input.timezone, source.as_str(), is_demo, now],
            )?;
            if let Some(c) = &input.credentials {
                self.secrets.set(&id, c)?;
                record_key(db, &id, &mine)?;
            }
            Ok(())
        })?;
        tracing::info!(connection = %input.name, kind = input.kind.as_str(), "connection created");
        self.get(&id)
    }

    pub fn update(&self, id: &str, input: &ConnectionInput) -> CoreResult<Connection> {
        let existing = self.get(id)?;
        let (_, mut source) = form_timezone(input)?;
        let input = validate(input, false)?;
        // The same zone sent back by the form keeps its origin (a zone the site said stays the site's).
        if input.timezone == existing.timezone {
            source = existing.timezone_source;
        }
        if input.kind != existing.kind {
            return Err(CoreError::invalid(
                "kind",
                "The ERP of a connection cannot change. Create a new connection instead.",
            ));
        }
        let mine = match &input.credentials {
            Some(_) => {
                self.secrets.check()?;
                Some(self.keychain())
            }
            None => None,
        };
        self.store.tx(|db| {
            if Self::name_taken(db, &input.name, id)? {
                return Err(CoreError::DuplicateName(input.name.clone()));
            }
            db.execute(
                "UPDATE connections SET name=?2, base_url=?3, timezone=?4, updated_at=?5, timezone_source=?6,
                        last_test_at=NULL, last_test_ok=NULL, last_test_message=NULL WHERE id=?1",
                vals![id, input.name, input.base_url, input.timezone, now_utc(), source.as_str()],
            )?;
            if let (Some(c), Some(mine)) = (&input.credentials, &mine) {
                self.secrets.set(id, c)?;
                record_key(db, id, mine)?;
            }
            Ok(())
        })?;
        self.get(id)
    }

    pub fn delete(&self, id: &str) -> CoreResult<()> {
        let existing = self.get(id)?;
        self.store.tx(|db| {
            db.execute("DELETE FROM connections WHERE id=?1", vals![id])?;
            // Remove the secret inside the transaction: if the keychain fails, the row stays.
            self.secrets.delete(id)?;
            Ok(())
        })?;
        tracing::info!(connection = %existing.name, "connection deleted");
        Ok(())
    }

    pub fn credentials(&self, conn: &Connection) -> CoreResult<Credentials> {
        self.secrets.get(&conn.id)?.ok_or_else(|| CoreError::MissingCredentials { connection: conn.name.clone() })
    }

    /// This keychain: the id BackOffice keeps in it (made on first use) and whose it is. A keychain
    /// that cannot be reached is named by its user and computer.
    pub fn keychain(&self) -> KeyDesk {
        let who = whoami::username();
        let machine = whoami::fallible::hostname().unwrap_or_else(|_| "this computer".into());
        let id = match self.secrets.get(KEYCHAIN_ID) {
            Ok(Some(c)) if !c.key.is_empty() => Some(c.key),
            Ok(_) => {
                let id = uuid::Uuid::new_v4().to_string();
                let made = Credentials { key: id.clone(), secret: String::new() };
                self.secrets.set(KEYCHAIN_ID, &made).ok().map(|()| id)
            }
            Err(_) => None,
        };
        let keychain_id = id.unwrap_or_else(|| format!("{who}@{}", crate::store::db::this_host()));
        KeyDesk { keychain_id, who, machine, saved_at: String::new() }
    }

    /// Whether this desk's keychain keeps `conn`'s key, and which other keychains said they do.
    pub fn key_state(&self, conn: &Connection) -> CoreResult<KeyState> {
        Ok(self.keys_of(conn)?.2)
    }

    /// This keychain, whether the team's record says it keeps `conn`'s key, and [`KeyState`].
    fn keys_of(&self, conn: &Connection) -> CoreResult<(KeyDesk, bool, KeyState)> {
        let here = self.secrets.get(&conn.id)?.is_some();
        let mine = self.keychain();
        let (recorded, elsewhere): (Vec<KeyDesk>, Vec<KeyDesk>) =
            self.key_desks(&conn.id)?.into_iter().partition(|d| d.keychain_id == mine.keychain_id);
        Ok((mine, !recorded.is_empty(), KeyState { connection_id: conn.id.clone(), here, elsewhere }))
    }

    /// [`Connections::key_state`] of every connection.
    pub fn key_states(&self) -> CoreResult<Vec<KeyState>> {
        self.list()?.iter().map(|c| self.key_state(c)).collect()
    }

    /// Before a job of `conn` starts on this desk: its key must be in this desk's keychain. When it
    /// is, the team learns this desk keeps it; when it is not, the refusal names the desks that do
    /// (and this desk stops saying it keeps it).
    pub fn require_key(&self, conn: &Connection) -> CoreResult<()> {
        let (mine, recorded, KeyState { here, elsewhere, .. }) = self.keys_of(conn)?;
        if here {
            if !recorded {
                self.store.tx(|db| record_key(db, &conn.id, &mine))?;
            }
            return Ok(());
        }
        if recorded {
            self.store.tx(|db| {
                db.execute(
                    "DELETE FROM connection_keys WHERE connection_id=?1 AND keychain_id=?2",
                    vals![conn.id, mine.keychain_id],
                )?;
                Ok(())
            })?;
        }
        if elsewhere.is_empty() {
            return Err(CoreError::MissingCredentials { connection: conn.name.clone() });
        }
        let desks = elsewhere.iter().map(KeyDesk::shown).collect::<Vec<_>>().join(", ");
        Err(CoreError::Feature(Box::new(KeyOnOtherDesks { connection: conn.name.clone(), desks })))
    }

    /// The keychains that said they keep `connection`'s key, the latest first.
    pub fn key_desks(&self, connection: &str) -> CoreResult<Vec<KeyDesk>> {
        self.store.query(|db| {
            db.query(
                "SELECT keychain_id, who, machine, saved_at FROM connection_keys WHERE connection_id=?1
                 ORDER BY saved_at DESC, keychain_id",
                vals![connection],
            )?
            .iter()
            .map(|r| Ok(KeyDesk { keychain_id: r.get(0)?, who: r.get(1)?, machine: r.get(2)?, saved_at: r.get(3)? }))
            .collect()
        })
    }

    /// Records the zone the ERP itself said it keeps. Returns true when it changed.
    pub fn set_site_timezone(&self, id: &str, tz: chrono_tz::Tz) -> CoreResult<bool> {
        let existing = self.get(id)?;
        if existing.timezone == tz.name() && existing.timezone_source == TimezoneSource::Site {
            return Ok(false);
        }
        self.store.tx(|db| {
            db.execute(
                "UPDATE connections SET timezone=?2, timezone_source='site', updated_at=?3 WHERE id=?1",
                vals![id, tz.name(), now_utc()],
            )?;
            Ok(())
        })?;
        if existing.timezone != tz.name() {
            tracing::info!(connection = %existing.name, from = %existing.timezone, to = tz.name(), "the site said its time zone");
        }
        Ok(existing.timezone != tz.name())
    }

    pub fn record_test(&self, id: &str, ok: bool, message: &str) -> CoreResult<()> {
        self.store.tx(|db| {
            db.execute(
                "UPDATE connections SET last_test_at=?2, last_test_ok=?3, last_test_message=?4 WHERE id=?1",
                vals![id, now_utc(), ok, message],
            )?;
            Ok(())
        })
    }
}

impl Connections<'_> {
    /// For headless runs configured by environment variables: finds or creates a connection row named
    /// `name` without storing any secret (the caller keeps the credentials in memory).
    pub fn ensure_headless(&self, name: &str, kind: ConnectionKind, base_url: &str) -> CoreResult<Connection> {
        let input = ConnectionInput {
            name: name.to_string(),
            kind,
            base_url: base_url.to_string(),
            timezone: String::new(),
            credentials: None,
        };
        let (_, source) = form_timezone(&input)?;
        let input = validate(&input, false)?;
        if let Ok(existing) = self.find_by_name(name) {
            if existing.base_url != input.base_url {
                self.store.tx(|db| {
                    db.execute(
                        "UPDATE connections SET base_url=?2, updated_at=?3 WHERE id=?1",
                        vals![existing.id, input.base_url, now_utc()],
                    )?;
                    Ok(())
                })?;
            }
            return self.get(&existing.id);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_utc();
        self.store.tx(|db| {
            db.execute(
                "INSERT INTO connections (id, name, kind, base_url, timezone, timezone_source, is_demo, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7)",
                vals![id, input.name, kind.as_str(), input.base_url, input.timezone, source.as_str(), now],
            )?;
            Ok(())
        })?;
        self.get(&id)
    }
}
