//! The app's own settings (the window's language) and one-time hints.

use rusqlite::{params, OptionalExtension};

use crate::error::{CoreError, CoreResult};
use crate::model::Settings;
use crate::{normalize_locale, Ctx, SUPPORTED_LOCALES};

pub fn settings(cx: &Ctx) -> CoreResult<Settings> {
    let locale: Option<String> = cx
        .store
        .read(|c| Ok(c.query_row("SELECT value FROM settings WHERE key='locale'", [], |r| r.get(0)).optional()?))?;
    Ok(Settings { locale })
}

pub fn save_settings(cx: &Ctx, s: &Settings) -> CoreResult<Settings> {
    if let Some(l) = &s.locale {
        if !SUPPORTED_LOCALES.contains(&l.as_str()) {
            return Err(CoreError::invalid("locale", format!("\"{l}\" is not offered; choose en, es or pt-BR.")));
        }
    }
    cx.store.write(|tx| {
        match &s.locale {
            Some(l) => tx.execute(
                "INSERT INTO settings(key, value) VALUES ('locale', ?1) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                params![l],
            )?,
            None => tx.execute("DELETE FROM settings WHERE key='locale'", [])?,
        };
        Ok(())
    })?;
    settings(cx)
}

/// Settings first, then `BACKOFFICE_LOCALE`, then the OS locale; one of `en`, `es`, `pt-BR`.
pub fn locale(cx: &Ctx) -> String {
    if let Ok(Settings { locale: Some(l) }) = settings(cx) {
        return l;
    }
    let env = ["BACKOFFICE_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty() && v != "C" && v != "C.UTF-8"));
    normalize_locale(env.as_deref().unwrap_or("en"))
}

/// True the first time it is asked for `key` (kept in settings), then false forever.
pub fn first_time(cx: &Ctx, key: &str) -> bool {
    cx.store
        .write(|tx| Ok(tx.execute("INSERT OR IGNORE INTO settings(key, value) VALUES (?1, '1')", params![key])? == 1))
        .unwrap_or(false)
}
