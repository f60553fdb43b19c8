//! The app's own settings (the window's language) and one-time hints: the desk's own, kept in its
//! file even when it works on a team database (`Ctx::desk_store`).

use crate::error::{CoreError, CoreResult};
use crate::model::Settings;
use crate::store::settings::{self as setting, Setting};
use crate::{normalize_locale, Ctx, SUPPORTED_LOCALES};

/// The window's language, when the user chose one.
const LOCALE: Setting<String> = Setting::text("locale");

pub fn settings(cx: &Ctx) -> CoreResult<Settings> {
    Ok(Settings { locale: cx.desk_store().setting(&LOCALE)? })
}

pub fn save_settings(cx: &Ctx, s: &Settings) -> CoreResult<Settings> {
    if let Some(l) = &s.locale {
        if !SUPPORTED_LOCALES.contains(&l.as_str()) {
            return Err(CoreError::invalid("locale", format!("\"{l}\" is not offered; choose en, es or pt-BR.")));
        }
    }
    cx.desk_store().tx(|db| match &s.locale {
        Some(l) => setting::put(db, &LOCALE, l),
        None => setting::delete(db, &LOCALE),
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
    cx.desk_store().set_setting_once(&Setting::text_at(key), &"1".to_string()).unwrap_or(false)
}
