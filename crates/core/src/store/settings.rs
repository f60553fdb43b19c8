//! Settings: one typed read and write for every key of the `settings` table.
//!
//! A feature declares its keys as constants (`Setting::json("notifications")`) or, for one value per
//! connection, as a family (`SettingFamily::json("omie.po_close").of(id)`), and reads and writes them
//! only through [`Store::setting`], [`Store::set_setting`], [`Store::clear_setting`] or, inside a
//! transaction that writes other rows too, [`put`] and [`delete`]. No feature writes settings SQL.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Db, Store};
use crate::error::{CoreError, CoreResult};
use crate::vals;

/// How a value is kept in its text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    /// The value's JSON.
    Json,
    /// A string kept as it is (the language tag, a timestamp, a marker), as earlier versions did.
    Text,
}

/// One key of the `settings` table and the type of its value.
pub struct Setting<T> {
    key: Cow<'static, str>,
    codec: Codec,
    _t: PhantomData<fn() -> T>,
}

impl<T> Setting<T> {
    /// A value kept as JSON under `key`.
    pub const fn json(key: &'static str) -> Self {
        Setting { key: Cow::Borrowed(key), codec: Codec::Json, _t: PhantomData }
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

impl Setting<String> {
    /// A string kept as it is under `key`.
    pub const fn text(key: &'static str) -> Self {
        Setting { key: Cow::Borrowed(key), codec: Codec::Text, _t: PhantomData }
    }

    /// A string kept as it is under a key made at run time (one-time hints, say).
    pub fn text_at(key: impl Into<String>) -> Self {
        Setting { key: Cow::Owned(key.into()), codec: Codec::Text, _t: PhantomData }
    }
}

/// Settings of one kind, one per connection (or other id): `<prefix>:<id>`.
pub struct SettingFamily<T> {
    prefix: &'static str,
    _t: PhantomData<fn() -> T>,
}

impl<T> SettingFamily<T> {
    pub const fn json(prefix: &'static str) -> Self {
        SettingFamily { prefix, _t: PhantomData }
    }

    pub fn of(&self, id: &str) -> Setting<T> {
        Setting { key: Cow::Owned(format!("{}:{id}", self.prefix)), codec: Codec::Json, _t: PhantomData }
    }
}

fn encode<T: Serialize>(s: &Setting<T>, v: &T) -> CoreResult<String> {
    let value = serde_json::to_value(v).map_err(|e| CoreError::Internal(format!("setting {}: {e}", s.key)))?;
    Ok(match (s.codec, value) {
        (Codec::Text, serde_json::Value::String(text)) => text,
        (_, other) => other.to_string(),
    })
}

fn decode<T: DeserializeOwned>(s: &Setting<T>, raw: String) -> Option<T> {
    let parsed = match s.codec {
        Codec::Text => serde_json::from_value(serde_json::Value::String(raw)),
        Codec::Json => serde_json::from_str(&raw),
    };
    match parsed {
        Ok(v) => Some(v),
        Err(e) => {
            // A value an older or newer version wrote differently: the feature's default applies,
            // and the log says which key was passed over.
            tracing::warn!(key = %s.key, error = %e, "a stored setting could not be read; using the default");
            None
        }
    }
}

/// Reads a setting (inside a read or a write).
pub fn get<T: DeserializeOwned>(db: &mut dyn Db, s: &Setting<T>) -> CoreResult<Option<T>> {
    let raw: Option<String> = match db.query_opt("SELECT value FROM settings WHERE key=?1", vals![s.key.as_ref()])? {
        Some(r) => r.get(0)?,
        None => None,
    };
    Ok(raw.and_then(|r| decode(s, r)))
}

/// Writes a setting inside a transaction.
pub fn put<T: Serialize>(db: &mut dyn Db, s: &Setting<T>, v: &T) -> CoreResult<()> {
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        vals![s.key.as_ref(), encode(s, v)?],
    )?;
    Ok(())
}

/// Removes a setting inside a transaction.
pub fn delete<T>(db: &mut dyn Db, s: &Setting<T>) -> CoreResult<()> {
    db.execute("DELETE FROM settings WHERE key=?1", vals![s.key.as_ref()])?;
    Ok(())
}

impl Store {
    /// The stored value, or `None` when it was never set (or cannot be read any more).
    pub fn setting<T: DeserializeOwned + Send>(&self, s: &Setting<T>) -> CoreResult<Option<T>> {
        self.query(|db| get(db, s))
    }

    pub fn set_setting<T: Serialize + Sync>(&self, s: &Setting<T>, v: &T) -> CoreResult<()> {
        self.tx(|db| put(db, s, v))
    }

    pub fn clear_setting<T>(&self, s: &Setting<T>) -> CoreResult<()> {
        self.tx(|db| delete(db, s))
    }

    /// Sets the value only if the key has none yet; true when this call set it.
    pub fn set_setting_once<T: Serialize>(&self, s: &Setting<T>, v: &T) -> CoreResult<bool> {
        let text = encode(s, v)?;
        self.tx(|db| {
            Ok(db.execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                vals![s.key.as_ref(), text],
            )? == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Prefs {
        on: bool,
        n: u32,
    }

    const PREFS: Setting<Prefs> = Setting::json("prefs");
    const LANG: Setting<String> = Setting::text("locale");

    #[test]
    fn typed_settings_round_trip_and_keep_their_stored_form() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.setting(&PREFS).unwrap(), None);
        store.set_setting(&PREFS, &Prefs { on: true, n: 3 }).unwrap();
        assert_eq!(store.setting(&PREFS).unwrap(), Some(Prefs { on: true, n: 3 }));
        // Text values are stored as they are (what earlier versions wrote), JSON as JSON.
        store.set_setting(&LANG, &"pt-BR".to_string()).unwrap();
        let raw: Vec<(String, String)> = store
            .read(|c| {
                let mut st =
                    c.prepare("SELECT key, value FROM settings WHERE key IN ('prefs','locale') ORDER BY key")?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap();
        assert_eq!(raw, vec![("locale".into(), "pt-BR".into()), ("prefs".into(), r#"{"n":3,"on":true}"#.into())]);
        store.clear_setting(&LANG).unwrap();
        assert_eq!(store.setting(&LANG).unwrap(), None);
        // A family keeps one value per id.
        let fam: SettingFamily<Prefs> = SettingFamily::json("omie.x");
        store.set_setting(&fam.of("c1"), &Prefs { on: false, n: 1 }).unwrap();
        assert_eq!(store.setting(&fam.of("c1")).unwrap(), Some(Prefs { on: false, n: 1 }));
        assert_eq!(store.setting(&fam.of("c2")).unwrap(), None);
        // Set once.
        let hint = Setting::text_at("hint_x");
        assert!(store.set_setting_once(&hint, &"1".to_string()).unwrap());
        assert!(!store.set_setting_once(&hint, &"1".to_string()).unwrap());
    }

    #[test]
    fn an_unreadable_value_gives_the_default_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store.write(|tx| Ok(tx.execute("INSERT INTO settings(key, value) VALUES ('prefs', 'not json')", [])?)).unwrap();
        assert_eq!(store.setting(&PREFS).unwrap(), None);
    }
}
