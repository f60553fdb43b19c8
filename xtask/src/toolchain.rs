//! What `run`, `test`, `bench` and `screenshots` check before anything else, so a fresh machine
//! gets one plain message instead of an obscure failure halfway through: a Node.js recent enough
//! for ui/ (the `engines` field of ui/package.json, else what Vite 7 needs), and the rustfmt and
//! clippy components of the Rust toolchain.

use crate::util::{self, header};
use anyhow::{bail, Context, Result};
use std::cmp::Ordering;
use std::process::{Command, Stdio};

/// What Vite 7 needs (its own `engines.node`), used when ui/package.json has no `engines.node`.
const VITE_NODE: &str = "^20.19.0 || >=22.12.0";

pub fn check() -> Result<()> {
    header("toolchain: Node.js, rustfmt, clippy");
    node()?;
    rust_components()
}

fn node() -> Result<()> {
    let manifest = util::repo_root().join("ui/package.json");
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let (range, needed) = match engines_node(&text) {
        Some(r) => (r.clone(), format!("`{r}` (the `engines` field of ui/package.json)")),
        None => (
            VITE_NODE.to_string(),
            format!("20.19+ or 22.12+ (`{VITE_NODE}`, what Vite 7 needs; ui/package.json has no `engines` field)"),
        ),
    };
    let found = Command::new("node")
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let problem = match &found {
        None => "Node.js was not found (no `node` on PATH)".to_string(),
        Some(v) => match satisfies(v, &range) {
            Ok(true) => {
                println!("toolchain: Node.js {v} (needs {range})");
                return Ok(());
            }
            Ok(false) => format!("Node.js {v} is too old"),
            Err(e) => bail!("cannot compare Node.js {v} with the version the UI needs, {needed}: {e:#}"),
        },
    };
    bail!(
        "{problem}: the UI needs Node.js {needed}.\n\
         Install such a Node.js (with npm), then run this command again:\n  \
         - Debian's own package, when `apt-cache policy nodejs` offers a version in that range\n    \
           (Debian 13 \"trixie\" does; Debian 12 and Ubuntu 24.04 do not): sudo apt-get install nodejs npm\n  \
         - otherwise NodeSource's packages (https://github.com/nodesource/distributions), e.g.\n    \
           curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs"
    )
}

/// The `engines.node` string of a package.json. A small scanner, since xtask has no JSON parser
/// (package.json puts `engines` at the top level with string values only).
fn engines_node(package_json: &str) -> Option<String> {
    let key = "\"engines\"";
    let rest = &package_json[package_json.find(key)? + key.len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('{')?;
    let body = &rest[..rest.find('}')?];
    let rest = &body[body.find("\"node\"")? + "\"node\"".len()..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].trim().to_string())
}

/// Whether `version` (as `node --version` prints it: `v20.19.1`) is in the npm `range`: `||`
/// alternatives of space-separated comparators `>=`, `>`, `<=`, `<`, `=`, `^`, `~` or none, on
/// versions that may be partial or end in `x`/`*` (`20`, `20.19`, `22.x`, `*`).
fn satisfies(version: &str, range: &str) -> Result<bool> {
    let v = parse_version(version).with_context(|| format!("`{version}` is not a version"))?;
    for alternative in range.split("||") {
        let mut tokens = alternative.split_whitespace();
        let mut all = true;
        while let Some(token) = tokens.next() {
            let mut token = token.to_string();
            // `>= 20.19.0` is the same comparator as `>=20.19.0`.
            if token.chars().all(|c| "<>=^~".contains(c)) {
                token.push_str(tokens.next().unwrap_or_default());
            }
            all &= comparator_holds(&v, &token)?;
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

fn comparator_holds(v: &[u64; 3], comparator: &str) -> Result<bool> {
    let op_len = comparator.find(|c: char| !"<>=^~".contains(c)).unwrap_or(comparator.len());
    let (op, spec) = comparator.split_at(op_len);
    let spec = spec.trim_start_matches('v');
    let mut parts: Vec<u64> = Vec::new();
    if !spec.is_empty() {
        for p in spec.split('.') {
            if matches!(p, "x" | "X" | "*") {
                break;
            }
            parts.push(p.parse().with_context(|| format!("`{comparator}` is not a version comparator"))?);
        }
    }
    if parts.len() > 3 {
        bail!("`{comparator}` has more than three version numbers");
    }
    let n = parts.len();
    // Comparing only the parts given reads partial versions the npm way: `<20.19` is `<20.19.0`,
    // `>20` is `>=21.0.0`, `20.x` is `>=20.0.0 <21.0.0`.
    let prefix = v[..n].cmp(&parts[..]);
    let mut full = [0; 3];
    full[..n].copy_from_slice(&parts);
    let at_least = v[..] >= full[..];
    Ok(match op {
        ">=" => prefix != Ordering::Less,
        "<=" => prefix != Ordering::Greater,
        ">" => prefix == Ordering::Greater,
        "<" => prefix == Ordering::Less,
        "" | "=" => prefix == Ordering::Equal,
        // ~1.2.3 is >=1.2.3 <1.3.0; ~1 is >=1.0.0 <2.0.0.
        "~" => at_least && v[..n.min(2)] == parts[..n.min(2)],
        // ^1.2.3 is >=1.2.3 <2.0.0; ^0.2.3 is >=0.2.3 <0.3.0: fixed up to the first non-zero part.
        "^" => {
            let fixed = parts.iter().position(|p| *p != 0).map_or(n, |i| i + 1);
            at_least && v[..fixed] == parts[..fixed]
        }
        _ => bail!("`{comparator}` has an operator xtask does not read"),
    })
}

/// `v20.19.1` (or `20.19.1-nightly...`) as [20, 19, 1].
fn parse_version(s: &str) -> Option<[u64; 3]> {
    let core = s.trim().trim_start_matches('v').split(['-', '+']).next()?;
    let mut out = [0; 3];
    let mut parts = core.split('.');
    for slot in &mut out {
        *slot = parts.next()?.parse().ok()?;
    }
    Some(out)
}

/// The components whose cargo subcommand does not answer `--version`.
fn missing_components() -> Vec<&'static str> {
    [("rustfmt", "fmt"), ("clippy", "clippy")]
        .into_iter()
        .filter(|(_, sub)| {
            let ok = util::cargo().args([*sub, "--version"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
            !ok.is_ok_and(|s| s.success())
        })
        .map(|(component, _)| component)
        .collect()
}

fn rust_components() -> Result<()> {
    let missing = missing_components();
    if missing.is_empty() {
        println!("toolchain: rustfmt and clippy are installed");
        return Ok(());
    }
    println!("toolchain: the Rust toolchain has no {}; adding the components", missing.join(" and no "));
    let added = util::run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]));
    let still = missing_components();
    if still.is_empty() {
        return Ok(());
    }
    let why = match added {
        Ok(()) => "it ended without error, but they are still not usable".to_string(),
        Err(e) => format!("{e:#}"),
    };
    bail!(
        "the Rust toolchain has no {} (`cargo fmt --version` / `cargo clippy --version` fail), and\n\
         `rustup component add rustfmt clippy` did not fix it: {why}.\n\
         Add them to the toolchain this repository uses (`rustup show` names it):\n  \
         rustup component add rustfmt clippy\n\
         or, with a distribution's Rust instead of rustup, install its packages (Debian: rustfmt rust-clippy).",
        still.join(" and no ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_engines_node() {
        let json = r#"{ "name": "x", "engines": { "npm": ">=10", "node" : "^20.19.0 || >=22.12.0" }, "a": {} }"#;
        assert_eq!(engines_node(json).as_deref(), Some("^20.19.0 || >=22.12.0"));
        assert_eq!(engines_node(r#"{ "engines": { "npm": ">=10" } }"#), None);
        assert_eq!(engines_node(r#"{ "name": "x" }"#), None);
    }

    #[test]
    fn vite_7_range() {
        for ok in ["v20.19.0", "v20.20.2", "v22.12.0", "v23.1.0", "v24.0.0-nightly2025"] {
            assert!(satisfies(ok, VITE_NODE).unwrap(), "{ok}");
        }
        for old in ["v18.20.4", "v20.18.3", "v21.7.3", "v22.11.0", "v19.9.0"] {
            assert!(!satisfies(old, VITE_NODE).unwrap(), "{old}");
        }
    }

    #[test]
    fn comparators_and_partial_versions() {
        let yes = |v: &str, r: &str| satisfies(v, r).unwrap();
        assert!(yes("v20.0.0", ">=20") && !yes("v19.9.9", ">=20"));
        assert!(yes("v21.0.0", ">20") && !yes("v20.9.0", ">20"));
        assert!(yes("v20.18.9", "<20.19") && !yes("v20.19.0", "<20.19"));
        assert!(yes("v20.19.5", "<=20.19") && !yes("v20.20.0", "<=20.19"));
        assert!(yes("v20.5.1", "20.x") && yes("v20.5.1", "20") && !yes("v21.0.0", "20.x"));
        assert!(yes("v22.12.5", "~22.12") && !yes("v22.13.0", "~22.12") && !yes("v22.11.0", "~22.12"));
        assert!(yes("v22.13.0", "~22") && !yes("v23.0.0", "~22"));
        assert!(yes("v0.2.9", "^0.2.3") && !yes("v0.3.0", "^0.2.3"));
        assert!(yes("v20.19.0", ">= 20.19.0 < 21") && !yes("v21.0.0", ">= 20.19.0 < 21"));
        assert!(yes("v18.0.0", "*") && yes("v18.0.0", ""));
        assert!(satisfies("v20.0.0", "20.0.0 - 21.0.0").is_err());
        assert!(satisfies("node", ">=20").is_err());
    }
}
