//! The layout's rules, checked (ARCHITECTURE.md explains them):
//! - the core never pulls in the desktop stack (tauri, GTK, WebKit) nor the simulators;
//! - the base (`error`, `model`, `store`, `http`, `secrets`, `jobs`, `logging`, `i18n`, `clock`) and
//!   the sync engine (`sync/`) import nothing from `erp/`, `ops/` or the facade (`api/`);
//! - an ERP's room (`erp/<x>/`) never imports another room;
//! - only the registry (`erp/mod.rs`) names every ERP kind (the enum's own declaration aside);
//! - the facade (`api/`) is the only `impl Core`, and the features (`erp/`, `ops/`) never name `Core`:
//!   they work with the narrow context, `Ctx`.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("read file");
                out.push((p, text));
            }
        }
    }
    out
}

/// The code of a file without its `#[cfg(test)]` module (tests may reach anywhere) and comments.
fn code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..cut].lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn rel(p: &Path) -> String {
    p.strip_prefix(src()).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

const BASE: [&str; 10] = [
    "error.rs",
    "model.rs",
    "store/",
    "http.rs",
    "secrets.rs",
    "jobs.rs",
    "logging.rs",
    "i18n.rs",
    "clock.rs",
    "sync/",
];

#[test]
fn the_base_and_the_sync_engine_import_no_erp_feature_or_facade() {
    let mut bad = vec![];
    for (p, text) in sources(&src()) {
        let r = rel(&p);
        if !BASE.iter().any(|b| r == *b || (b.ends_with('/') && r.starts_with(b))) {
            continue;
        }
        for (i, line) in code(&text).lines().enumerate() {
            for banned in ["crate::erp", "crate::ops", "crate::api", "crate::Core", "super::erp", "super::ops"] {
                if line.contains(banned) {
                    bad.push(format!("{r}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "the base names a feature:\n{}", bad.join("\n"));
}

#[test]
fn a_room_never_imports_another_room() {
    let rooms = ["contifico", "omie", "erpnext"];
    let mut bad = vec![];
    for (p, text) in sources(&src().join("erp")) {
        let r = rel(&p);
        let Some(own) = rooms.iter().find(|x| r.starts_with(&format!("erp/{x}/"))) else { continue };
        for (i, line) in code(&text).lines().enumerate() {
            for other in rooms.iter().filter(|x| *x != own) {
                if line.contains(&format!("erp::{other}")) {
                    bad.push(format!("{r}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "a room imports another:\n{}", bad.join("\n"));
}

#[test]
fn only_the_registry_names_every_erp_kind() {
    let mut bad = vec![];
    for (p, text) in sources(&src()) {
        let r = rel(&p);
        if r == "erp/mod.rs" || r == "model.rs" || r == "architecture_tests.rs" {
            // The registry, and the enum's declaration with its string form.
            continue;
        }
        let c = code(&text);
        if ["ConnectionKind::Omie", "ConnectionKind::Contifico", "ConnectionKind::Erpnext"]
            .iter()
            .all(|k| c.contains(k))
        {
            bad.push(r);
        }
    }
    assert!(bad.is_empty(), "these files name every ERP kind (move the match into erp/mod.rs): {bad:?}");
}

#[test]
fn only_the_facade_is_core_and_features_take_the_narrow_context() {
    let mut bad = vec![];
    for (p, text) in sources(&src()) {
        let r = rel(&p);
        if r == "architecture_tests.rs" {
            continue;
        }
        let c = code(&text);
        let is_facade = r.starts_with("api/");
        for (i, line) in c.lines().enumerate() {
            let t = line.trim_start();
            let impl_core = t.starts_with("impl Core {") || t.starts_with("impl Core<") || t.contains(" for Core {");
            if impl_core && !is_facade && !(r == "lib.rs" && line.contains("Deref")) {
                bad.push(format!("{r}:{}: {} (only api/ implements Core)", i + 1, line.trim()));
            }
            let feature = r.starts_with("erp/") || r.starts_with("ops/");
            let names_core = line.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).any(|w| w == "Core");
            if feature && names_core {
                bad.push(format!("{r}:{}: {} (features take Ctx, not Core)", i + 1, line.trim()));
            }
        }
    }
    assert!(bad.is_empty(), "the facade rule is broken:\n{}", bad.join("\n"));
    // And the scanner sees a facade at all.
    assert!(sources(&src()).iter().any(|(p, t)| rel(p).starts_with("api/") && t.contains("impl Core {")));
}

#[test]
fn schema_changes_are_migrations_and_settings_have_one_reader_and_writer() {
    let mut bad = vec![];
    for (p, text) in sources(&src()) {
        let r = rel(&p);
        if r == "architecture_tests.rs" {
            continue;
        }
        let c = code(&text);
        for (i, line) in c.lines().enumerate() {
            let u = line.to_uppercase();
            let ddl = ["CREATE TABLE", "ALTER TABLE", "CREATE INDEX", "CREATE UNIQUE INDEX", "DROP TABLE"]
                .iter()
                .any(|k| u.contains(k));
            // Numbered migrations, and the resource tables' versioned migrations, only; and the copy
            // between a desk and a team database, which mirrors the migrated schema it reads; and the
            // team schema, which says the migrated schema in PostgreSQL's dialect.
            let allowed =
                ["store/migrations.rs", "sync/schema.rs", "sync/mod.rs", "store/copy.rs", "store/pg_schema.rs"];
            if ddl && !allowed.contains(&r.as_str()) {
                bad.push(format!("{r}:{}: {} (schema changes are migrations)", i + 1, line.trim()));
            }
            let settings_sql = ["FROM SETTINGS", "INTO SETTINGS", "UPDATE SETTINGS"].iter().any(|k| u.contains(k));
            if settings_sql && !r.starts_with("store/") {
                bad.push(format!("{r}:{}: {} (use store::settings)", i + 1, line.trim()));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The database access a line makes: a rusqlite call or type, or SQL text.
fn sql_in(line: &str) -> Option<&'static str> {
    const CALLS: [&str; 9] = [
        ".execute(",
        ".prepare(",
        ".prepare_cached(",
        ".query_row(",
        ".query_map(",
        "execute_batch",
        "params!",
        "Transaction",
        "OptionalExtension",
    ];
    if let Some(c) = CALLS.iter().find(|c| line.contains(*c)) {
        return Some(c);
    }
    if let Some(k) = ["SELECT ", "INSERT INTO", "INSERT OR ", "DELETE FROM"].iter().find(|k| line.contains(*k)) {
        return Some(k);
    }
    // `UPDATE <table>` (SQL names tables in lower case), not the word in prose.
    let update_table = line
        .match_indices("UPDATE ")
        .any(|(i, _)| line[i + "UPDATE ".len()..].chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_'));
    update_table.then_some("UPDATE <table>")
}

/// Where SQL may be written: the store (its migrations and settings), the sync engine (resource
/// tables), the job manager, and one repository module per owner of tables. A second database
/// backend is added by changing these, never a feature.
const REPOSITORIES: [&str; 9] = [
    "store/",
    "sync/",
    "jobs.rs",
    "erp/connections.rs",
    "erp/omie/store.rs",
    "erp/erpnext/runs.rs",
    "ops/scheduler/store.rs",
    "ops/divergences/store.rs",
    "ops/contracts/store.rs",
];

#[test]
fn sql_lives_in_the_store_the_engine_and_one_repository_per_owner() {
    let all: Vec<(PathBuf, String)> = sources(&src());
    let mut bad = vec![];
    let mut repository_hits = 0;
    for (p, text) in &all {
        let r = rel(p);
        if r == "architecture_tests.rs" || r == "job_log_keys.rs" {
            continue;
        }
        let allowed = REPOSITORIES.iter().any(|a| if a.ends_with('/') { r.starts_with(a) } else { r == *a });
        for (i, line) in code(text).lines().enumerate() {
            let Some(what) = sql_in(line) else { continue };
            if allowed {
                repository_hits += 1;
            } else {
                bad.push(format!("{r}:{}: {} ({what}: move it into its repository module)", i + 1, line.trim()));
            }
        }
    }
    assert!(bad.is_empty(), "SQL outside the repositories:\n{}", bad.join("\n"));
    let room = all.iter().filter(|(p, _)| rel(p).starts_with("erp/omie/")).collect::<Vec<_>>();

    // The scan sees SQL where it is (so a passing run means something), and each kind of violation.
    assert!(room.iter().any(|(p, _)| rel(p) == "erp/omie/attachments.rs"), "the scan did not find the Omie room");
    assert!(repository_hits > 200, "the scan found almost no SQL in the repositories ({repository_hits} lines)");
    for violation in [
        "c.query_row(\"x\", [], |r| r.get(0))",
        "let mut st = c.prepare(q)?;",
        "tx.execute(q, params![a])?;",
        "fn f(tx: &rusqlite::Transaction<'_>) {}",
        "use rusqlite::OptionalExtension;",
        "\"SELECT id FROM omie_po_closures\"",
        "\"INSERT INTO omie_scan_state (a) VALUES (?1)\"",
        "\"UPDATE omie_attachment_files SET status=?2\"",
        "\"DELETE FROM omie_previews\"",
    ] {
        assert!(sql_in(violation).is_some(), "the scan misses: {violation}");
    }
    for fine in [
        "store::pending_transfers(&cx.store, &conn.id)?",
        "ctx.log(\"info\", \"Select the file\")",
        "\"UPDATE Failed\"",
    ] {
        assert!(sql_in(fine).is_none(), "the scan flags: {fine}");
    }
}

#[test]
fn the_core_links_neither_the_desktop_stack_nor_the_simulators() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "-p", "backoffice-core", "--edges", "normal,build", "--prefix", "none", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.contains("rusqlite"), "cargo tree output looks wrong:\n{tree}");
    for banned in ["tauri", "gtk", "webkit", "wry", "tao ", "backoffice-sim", "axum"] {
        let hit: Vec<&str> = tree.lines().filter(|l| l.to_lowercase().starts_with(banned)).collect();
        assert!(hit.is_empty(), "backoffice-core depends on {banned}: {hit:?}");
    }
}

#[test]
fn the_rules_would_catch_a_violation() {
    // The scanners see what they are meant to see (so a passing run means something).
    let sample =
        "use crate::erp::omie::OmieError;\n// crate::ops in a comment\n#[cfg(test)]\nmod tests { use crate::api; }";
    let c = code(sample);
    assert!(c.contains("crate::erp"));
    assert!(!c.contains("crate::ops") && !c.contains("crate::api"));
    assert!(sources(&src()).iter().any(|(p, _)| rel(p) == "erp/mod.rs"));
}

/// The names types are exported under to the window (`ui/src/bindings/<Name>.ts`): a `#[ts(export…)]`
/// attribute and the `pub struct|enum|type` it belongs to (a `#[ts(rename = "…")]` wins).
fn exported_names(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = vec![];
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = ["pub struct ", "pub enum ", "pub type "].iter().find_map(|k| l.strip_prefix(k)) else {
            continue;
        };
        // The attributes and doc comments right above the declaration.
        let attrs: Vec<&str> =
            lines[..i].iter().rev().take_while(|a| a.starts_with("#[") || a.starts_with("///")).copied().collect();
        if !attrs.iter().any(|a| a.starts_with("#[ts(") && a.contains("export")) {
            continue;
        }
        let renamed = attrs
            .iter()
            .filter(|a| a.starts_with("#[ts("))
            .find_map(|a| a.split("rename = \"").nth(1).and_then(|r| r.split('"').next()));
        let own = rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
        out.push(renamed.unwrap_or(own).to_string());
    }
    out
}

#[test]
fn types_exported_to_the_window_have_distinct_names() {
    // ts-rs writes one file per name: two types of the same name would silently overwrite each other.
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut clashes = vec![];
    for (p, text) in sources(&src()) {
        for name in exported_names(&text) {
            if let Some(first) = seen.insert(name.clone(), rel(&p)) {
                clashes.push(format!("{name}: {first} and {}", rel(&p)));
            }
        }
    }
    assert!(clashes.is_empty(), "types exported to the window under the same name:\n{}", clashes.join("\n"));
    assert!(seen.len() > 50, "the scan found only {} exported types", seen.len());
    // The scan would see a clash, and a rename.
    let two = "#[derive(TS)]\n#[ts(export)]\npub struct Job {}\n/// doc\n#[ts(export, rename = \"Task\")]\npub enum Other {}\n";
    assert_eq!(exported_names(two), ["Job", "Task"]);
    assert!(exported_names("#[derive(TS)]\npub struct NotExported {}\n").is_empty());
}
