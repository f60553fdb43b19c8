//! Every translatable job log line (`JobCtx::log_t`) has a text in the three languages of the UI
//! with exactly the placeholders its call site fills.
//!
//! The keys and parameter names are read from the source at test time: a `log_t(level, "key",
//! &[("param", ...), ...], english)` call must keep the key as a string literal and the parameters as
//! an inline array (a call that does not is reported, so no line escapes the check).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn dictionaries() -> impl Iterator<Item = (&'static str, &'static str)> {
    crate::i18n::LANGUAGES.into_iter().zip(crate::i18n::Namespace::JobLog.sources().iter().copied())
}

/// Parameters that are kept with the line for tools (e.g. an error's code) and that a text may
/// leave out.
/// `error_json` and `reason_json` carry the error or reason whole, so a screen can say it in its own
/// language instead of the English `error`/`reason`.
const OPTIONAL_PARAMS: [&str; 3] = ["code", "error_json", "reason_json"];

/// Keys under this prefix are quarantine reasons (`sync::Reason`), not log lines: one per
/// [`crate::sync::parse::PROBLEM_KEYS`] entry plus `no_id`, filled with `field`, `value` and `zone`.
const REASON_PREFIX: &str = "parse.";

/// Reads a Rust string literal starting at `s[0] == '"'`; returns its text and the rest after it.
fn string_literal(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 1..])),
            _ => out.push(c),
        }
    }
    None
}

/// The text of the argument list up to the top-level `,` (or closing bracket, or end of text) that
/// ends the current argument, and the rest after that comma. Brackets and string literals are
/// skipped as units.
fn argument(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (_, rest) = string_literal(&s[i..])?;
                i = s.len() - rest.len();
                continue;
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => return Some((&s[..i], &s[i..])),
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
        i += 1;
    }
    (depth == 0).then_some((s, ""))
}

/// The parameter names of an inline `&[("name", value), ...]` array.
fn param_names(arg: &str) -> Result<BTreeSet<String>, String> {
    let inner = arg
        .trim()
        .strip_prefix("&[")
        .and_then(|a| a.strip_suffix(']'))
        .ok_or_else(|| format!("parameters are not an inline &[...] array: {arg}"))?;
    let mut names = BTreeSet::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (item, after) = argument(rest).ok_or_else(|| format!("cannot read the parameters {arg}"))?;
        let tuple = item.trim().strip_prefix('(').ok_or_else(|| format!("a parameter is not a tuple: {item}"))?;
        let (name, _) =
            string_literal(tuple.trim_start()).ok_or_else(|| format!("a parameter name is not a literal: {item}"))?;
        if !names.insert(name.clone()) {
            return Err(format!("parameter {name} given twice in {arg}"));
        }
        rest = after.trim_start();
    }
    Ok(names)
}

/// key → parameter names, for every `log_t` call in `source` (file name for messages).
fn calls_in(file: &str, source: &str, out: &mut BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = vec![];
    for (at, _) in source.match_indices("log_t(") {
        let before = &source[..at];
        if before.ends_with("fn ") {
            continue; // the definitions
        }
        let line = before.matches('\n').count() + 1;
        let args = &source[at + "log_t(".len()..];
        let Some((_level, rest)) = argument(args) else {
            problems.push(format!("{file}:{line}: cannot read the call"));
            continue;
        };
        let rest = rest.trim_start();
        if !rest.starts_with('"') {
            // A wrapper passing its own `key` on (Reporter::log_t); its callers are checked.
            if file.ends_with("engine.rs") && rest.starts_with("key,") {
                continue;
            }
            problems.push(format!("{file}:{line}: the key is not a string literal"));
            continue;
        }
        let Some((key, rest)) = string_literal(rest) else {
            problems.push(format!("{file}:{line}: cannot read the key"));
            continue;
        };
        let rest = rest.trim_start().strip_prefix(',').unwrap_or(rest);
        let names = match argument(rest.trim_start()) {
            Some((arg, _)) => param_names(arg),
            None => Err("cannot read the parameters".to_string()),
        };
        match names {
            Ok(names) => {
                if let Some(prev) = out.get(&key) {
                    if *prev != names {
                        problems
                            .push(format!("{file}:{line}: {key} is used with {names:?} here and {prev:?} elsewhere"));
                    }
                }
                out.insert(key, names);
            }
            Err(e) => problems.push(format!("{file}:{line}: {e}")),
        }
    }
    problems
}

fn scan(dir: &Path, out: &mut BTreeMap<String, BTreeSet<String>>, problems: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scan(&p, out, problems);
        } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("job_log_keys.rs") {
            let source = std::fs::read_to_string(&p).unwrap();
            let file = p.display().to_string();
            // Unit tests may log made-up keys; only the code that runs is checked.
            let code = source.split("#[cfg(test)]\nmod tests").next().unwrap_or(&source);
            problems.extend(calls_in(&file, code, out));
        }
    }
}

fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        out.insert(after[..j].trim().to_string());
        rest = &after[j + 2..];
    }
    out
}

fn used_keys() -> BTreeMap<String, BTreeSet<String>> {
    let mut keys = BTreeMap::new();
    let mut problems = vec![];
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut keys, &mut problems);
    assert!(problems.is_empty(), "log_t calls the check cannot read:\n{}", problems.join("\n"));
    keys
}

#[test]
fn every_log_key_has_a_text_with_its_placeholders_in_every_language() {
    let keys = used_keys();
    assert!(keys.len() >= 4, "found only {keys:?}");
    let mut problems = vec![];
    for (lang, json) in dictionaries() {
        let dict: BTreeMap<String, String> = serde_json::from_str(json).unwrap_or_else(|e| panic!("{lang}: {e}"));
        for (key, params) in &keys {
            let Some(text) = dict.get(key) else {
                problems.push(format!("{lang}: no text for {key}"));
                continue;
            };
            let required: BTreeSet<String> =
                params.iter().filter(|p| !OPTIONAL_PARAMS.contains(&p.as_str())).cloned().collect();
            let found = placeholders(text);
            let unknown: Vec<_> = found.difference(params).collect();
            let missing: Vec<_> = required.difference(&found).collect();
            if !unknown.is_empty() || !missing.is_empty() {
                problems.push(format!(
                    "{lang} {key}: placeholders not passed {unknown:?}, passed but not shown {missing:?}"
                ));
            }
            if text.trim().is_empty() {
                problems.push(format!("{lang} {key}: empty text"));
            }
        }
        let mut reasons: BTreeSet<&str> = crate::sync::parse::PROBLEM_KEYS.into_iter().collect();
        reasons.insert("no_id");
        for r in &reasons {
            match dict.get(&format!("{REASON_PREFIX}{r}")) {
                None => problems.push(format!("{lang}: no text for the quarantine reason {REASON_PREFIX}{r}")),
                Some(text) => {
                    let allowed: BTreeSet<String> = ["field", "value", "zone"].map(String::from).into();
                    let extra: Vec<_> = placeholders(text).difference(&allowed).cloned().collect();
                    if !extra.is_empty() || !text.contains("{{field}}") {
                        problems.push(format!("{lang} {REASON_PREFIX}{r}: must name {{{{field}}}}, may use value and zone; also has {extra:?}"));
                    }
                }
            }
        }
        for key in dict.keys() {
            if let Some(r) = key.strip_prefix(REASON_PREFIX) {
                if !reasons.contains(r) {
                    problems.push(format!("{lang}: {key} is not a reason the parser gives"));
                }
                continue;
            }
            if !keys.contains_key(key) {
                problems.push(format!("{lang}: {key} is not used by any log_t call"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_source_scan_reads_keys_and_parameters() {
    let mut out = BTreeMap::new();
    let src = r#"
        ctx.log_t("info", "a.b", &[("resource", spec.name.to_string()), ("page", (p + 1).to_string())], &format!("x, {}", y));
        job.log_t(
            "warn",
            "c.d",
            &[],
            "plain, english",
        );
        pub fn log_t(&self, level: &str, key: &str) {}
    "#;
    assert!(calls_in("x.rs", src, &mut out).is_empty());
    assert_eq!(out["a.b"], BTreeSet::from(["page".to_string(), "resource".to_string()]));
    assert!(out["c.d"].is_empty());
    let bad = r#"ctx.log_t("info", key_var, &[], "x"); ctx.log_t("info", "e.f", &params, "x");"#;
    assert_eq!(calls_in("x.rs", bad, &mut out).len(), 2);
    assert_eq!(placeholders("{{a}} and {{ b }}"), BTreeSet::from(["a".to_string(), "b".to_string()]));
}

const APP: [&str; 3] = [
    include_str!("../../../ui/src/locales/en/app.json"),
    include_str!("../../../ui/src/locales/pt-BR/app.json"),
    include_str!("../../../ui/src/locales/es/app.json"),
];

/// The names a job's counts are kept under when the source names them as a literal.
fn count_names_in(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            count_names_in(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            for (at, _) in source.match_indices("add_count(") {
                let rest = source[at + "add_count(".len()..].trim_start();
                if let Some((name, _)) = string_literal(rest) {
                    if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        out.insert(name);
                    }
                }
            }
        }
    }
}

/// Every count a job keeps has a label in the three languages (`countNames` in app.json), so the
/// job's detail never shows a raw name like "already_handled" to a user reading Portuguese.
#[test]
fn every_count_name_has_a_label_in_every_language() {
    // Names passed by value: the outcomes of closures, applies and rollbacks, and a check's tallies.
    const BY_VALUE: [&str; 11] = [
        "already_applied",
        "already_closed",
        "already_rolled_back",
        "applied",
        "closed",
        "planned",
        "rolled_back",
        "new",
        "still_open",
        "resolved",
        "reopened",
    ];
    let mut names = BTreeSet::new();
    count_names_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut names);
    assert!(names.contains("records") && names.contains("unchanged") && names.len() > 20, "{names:?}");
    names.extend(BY_VALUE.iter().map(|s| s.to_string()));
    for (lang, text) in crate::i18n::LANGUAGES.iter().zip(APP) {
        let app: serde_json::Value = serde_json::from_str(text).unwrap();
        let labels = app["countNames"].as_object().unwrap();
        let missing: Vec<&String> = names.iter().filter(|n| !labels.contains_key(n.as_str())).collect();
        assert!(missing.is_empty(), "{lang}: no label for the counts {missing:?}");
    }
}
