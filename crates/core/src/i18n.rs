//! The one place where the core reads the UI's dictionaries (`ui/src/locales/<lang>/<namespace>.json`),
//! so a notification, an e-mail or the tray says exactly what the window says. The files are compiled
//! in; a test checks they are flat JSON objects of strings in the three languages.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The dictionaries the core reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Plain-language error texts by error code (`errors.*`).
    Errors,
    /// The Omie page's texts for the `omie_*` error codes.
    OmieErrors,
    /// Job kind names ("sync_omie" → "Sincronização Omie").
    JobKinds,
    /// Job log lines by key (`JobCtx::log_t`).
    JobLog,
}

/// The languages, in the order of the arrays below.
pub const LANGUAGES: [&str; 3] = ["en", "pt-BR", "es"];

const ERRORS: [&str; 3] = [
    include_str!("../../../ui/src/locales/en/errors.json"),
    include_str!("../../../ui/src/locales/pt-BR/errors.json"),
    include_str!("../../../ui/src/locales/es/errors.json"),
];
const OMIE_ERRORS: [&str; 3] = [
    include_str!("../../../ui/src/locales/en/omieErrors.json"),
    include_str!("../../../ui/src/locales/pt-BR/omieErrors.json"),
    include_str!("../../../ui/src/locales/es/omieErrors.json"),
];
const JOB_KINDS: [&str; 3] = [
    include_str!("../../../ui/src/locales/en/jobKinds.json"),
    include_str!("../../../ui/src/locales/pt-BR/jobKinds.json"),
    include_str!("../../../ui/src/locales/es/jobKinds.json"),
];
const JOB_LOG: [&str; 3] = [
    include_str!("../../../ui/src/locales/en/jobLog.json"),
    include_str!("../../../ui/src/locales/pt-BR/jobLog.json"),
    include_str!("../../../ui/src/locales/es/jobLog.json"),
];

impl Namespace {
    /// The raw JSON text of each language, in [`LANGUAGES`] order.
    pub fn sources(self) -> &'static [&'static str; 3] {
        match self {
            Namespace::Errors => &ERRORS,
            Namespace::OmieErrors => &OMIE_ERRORS,
            Namespace::JobKinds => &JOB_KINDS,
            Namespace::JobLog => &JOB_LOG,
        }
    }

    fn parsed(self) -> &'static OnceLock<Vec<HashMap<String, String>>> {
        static P: [OnceLock<Vec<HashMap<String, String>>>; 4] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
        &P[self as usize]
    }
}

/// 0 (en), 1 (pt-BR) or 2 (es) for a locale such as `pt-BR`, `es_EC.UTF-8` or `en`.
pub fn lang_index(locale: &str) -> usize {
    if locale.starts_with("pt") {
        1
    } else if locale.starts_with("es") {
        2
    } else {
        0
    }
}

/// The dictionary of `ns` in `locale` (English when the language is not offered).
pub fn dictionary(ns: Namespace, locale: &str) -> &'static HashMap<String, String> {
    let dicts = ns.parsed().get_or_init(|| {
        ns.sources()
            .iter()
            .map(|r| serde_json::from_str(r).expect("the UI's dictionaries are flat JSON objects"))
            .collect()
    });
    &dicts[lang_index(locale)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dictionary_is_flat_and_has_the_same_keys_in_three_languages() {
        for ns in [Namespace::Errors, Namespace::OmieErrors, Namespace::JobKinds, Namespace::JobLog] {
            let en: Vec<&String> = {
                let mut k: Vec<&String> = dictionary(ns, "en").keys().collect();
                k.sort();
                k
            };
            assert!(!en.is_empty(), "{ns:?}");
            for l in ["pt-BR", "es"] {
                let mut k: Vec<&String> = dictionary(ns, l).keys().collect();
                k.sort();
                assert_eq!(k, en, "{ns:?} {l}");
            }
        }
    }
}
