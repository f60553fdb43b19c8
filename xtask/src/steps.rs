//! The commands built out of steps: test, run, bench, screenshots.

use crate::deps::{self, Parts};
use crate::session::{self, SessionOptions};
use crate::toolchain;
use crate::util::{self, header, run};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    Deps,
    Fmt,
    Bindings,
    UiTypecheck,
    UiTest,
    UiBuild,
    Clippy,
    Unit,
    BuildApp,
    E2e,
    Package,
}

const ALL_STEPS: &[Step] = &[
    Step::Deps,
    Step::Fmt,
    Step::Bindings,
    Step::UiTypecheck,
    Step::UiTest,
    Step::UiBuild,
    Step::Clippy,
    Step::Unit,
    Step::BuildApp,
    Step::E2e,
    Step::Package,
];

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Deps => "deps",
            Step::Fmt => "fmt",
            Step::Bindings => "bindings",
            Step::UiTypecheck => "ui-typecheck",
            Step::UiTest => "ui-test",
            Step::UiBuild => "ui-build",
            Step::Clippy => "clippy",
            Step::Unit => "unit",
            Step::BuildApp => "build-app",
            Step::E2e => "e2e",
            Step::Package => "package",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Step::Deps => "system packages, ui/node_modules, tauri-driver",
            Step::Fmt => "cargo fmt --all -- --check",
            Step::Bindings => {
                "command names from src-tauri's handler list and cargo test -p backoffice-core --lib \
                 export_bindings (write ui/src/bindings/); fails if that changed any file there"
            }
            Step::UiTypecheck => "npm run typecheck (ui/)",
            Step::UiTest => "npm test (ui/, vitest)",
            Step::UiBuild => "npm run build (ui/ -> ui/dist)",
            Step::Clippy => "cargo clippy --workspace --all-targets -- -D warnings",
            Step::Unit => {
                "cargo test --workspace --exclude backoffice-e2e (dbus session + unlocked keyring + a throwaway \
                 PostgreSQL cluster on loopback)"
            }
            Step::BuildApp => "cargo build -p backoffice-app -p backoffice-cli",
            Step::E2e => {
                "cargo test -p backoffice-e2e --no-fail-fast -- --test-threads=1 (Xvfb + dbus session + keyring + a \
                 throwaway PostgreSQL cluster)"
            }
            Step::Package => {
                "the .deb and .rpm (release, Tauri bundler); the .deb installed with apt-get on a clean Debian 12 \
                 root (debootstrap, cached), started there in a window, upgraded, removed"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Step> {
        ALL_STEPS.iter().copied().find(|s| s.name() == name)
    }
}

pub fn step_names() -> String {
    ALL_STEPS.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

#[derive(Default)]
pub struct TestOptions {
    pub skip_e2e: bool,
    pub only: Vec<Step>,
    pub list: bool,
}

pub fn test(opts: TestOptions) -> Result<()> {
    if opts.list {
        for s in ALL_STEPS {
            println!("{:<13} {}", s.name(), s.describe());
        }
        return Ok(());
    }
    toolchain::check()?;
    let selected: Vec<Step> = ALL_STEPS
        .iter()
        .copied()
        .filter(|s| opts.only.is_empty() || opts.only.contains(s))
        .filter(|s| !(opts.skip_e2e && *s == Step::E2e))
        .collect();
    if selected.is_empty() {
        bail!("no step selected");
    }
    let partial = !opts.only.is_empty();
    let total = selected.len();
    let mut done: Vec<(Step, Duration)> = Vec::new();
    let started = Instant::now();
    for (i, step) in selected.iter().copied().enumerate() {
        header(&format!("[{}/{total}] {}: {}", i + 1, step.name(), step.describe()));
        let t = Instant::now();
        if let Err(err) = run_step(step, partial) {
            print_summary(&done, Some((step, t.elapsed())), started.elapsed());
            return Err(err.context(format!("step `{}` failed", step.name())));
        }
        done.push((step, t.elapsed()));
    }
    print_summary(&done, None, started.elapsed());
    if opts.skip_e2e {
        println!("note: end-to-end tests were skipped (--skip-e2e)");
    }
    Ok(())
}

fn print_summary(done: &[(Step, Duration)], failed: Option<(Step, Duration)>, total: Duration) {
    header("summary");
    for (s, d) in done {
        println!("  ok      {:<13} {:>7.1}s", s.name(), d.as_secs_f64());
    }
    if let Some((s, d)) = failed {
        println!("  FAILED  {:<13} {:>7.1}s", s.name(), d.as_secs_f64());
    }
    println!("  total   {:<13} {:>7.1}s", "", total.as_secs_f64());
}

/// `partial`: only some steps were selected, so make sure what a step needs from
/// earlier steps exists (ui/dist, the app binary) instead of failing obscurely.
fn run_step(step: Step, partial: bool) -> Result<()> {
    match step {
        Step::Deps => deps::ensure(Parts::all(), false),
        Step::Fmt => run(util::cargo().args(["fmt", "--all", "--", "--check"])),
        Step::Bindings => bindings(),
        Step::UiTypecheck => npm(&["run", "typecheck"]),
        Step::UiTest => npm(&["test"]),
        Step::UiBuild => npm(&["run", "build"]),
        Step::Clippy => {
            ensure_ui_dist(partial)?;
            run(util::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
        }
        Step::Unit => {
            ensure_ui_dist(partial)?;
            in_session(false, true, &["test", "--workspace", "--exclude", "backoffice-e2e", "--no-fail-fast"])
        }
        Step::BuildApp => {
            ensure_ui_dist(partial)?;
            build_app()
        }
        Step::E2e => {
            if partial && !util::app_binary().exists() {
                bail!("{} does not exist; run `cargo xtask test --only build-app,e2e`", util::app_binary().display());
            }
            remove_pngs(|name| name.starts_with("FAILED-"));
            in_session(true, true, &["test", "-p", "backoffice-e2e", "--no-fail-fast", "--", "--test-threads=1"])
        }
        Step::Package => {
            ensure_ui_dist(partial)?;
            crate::package::prove()
        }
    }
}

fn screenshot_dir() -> std::path::PathBuf {
    util::repo_root().join("artifacts/screenshots")
}

/// Deletes PNGs in artifacts/screenshots whose file name passes `which`, so no stale picture
/// outlives the run that would have replaced it.
fn remove_pngs(which: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(screenshot_dir()) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".png") && which(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn npm(args: &[&str]) -> Result<()> {
    let mut cmd = Command::new("npm");
    cmd.args(args).current_dir(util::repo_root().join("ui"));
    run(&mut cmd)
}

/// Where ts-rs writes the TypeScript of the types that cross IPC (`export_to` in crates/core).
const BINDINGS_DIR: &str = "ui/src/bindings";

/// Regenerates ui/src/bindings/ from the Rust types (ts-rs writes the files when its generated
/// `export_bindings_*` tests run) and fails when that changed anything: the committed bindings
/// must be the ones the Rust types produce.
fn bindings() -> Result<()> {
    let dir = util::repo_root().join(BINDINGS_DIR);
    let before = snapshot(&dir)?;
    // The command names the UI may call, from the shell's handler list (bindings/commands.ts).
    if crate::command_map::write(&util::repo_root())? {
        println!("bindings: ui/src/bindings/commands.ts regenerated from src-tauri/src/commands.rs");
    }
    let mut cmd = util::cargo();
    cmd.args(["test", "-p", "backoffice-core", "--lib", "export_bindings"])
        // Relative `export_to` paths are resolved against this directory when it is set.
        .env_remove("TS_RS_EXPORT_DIR")
        .stdout(Stdio::piped());
    let shown = util::render(&cmd);
    println!("$ {shown}");
    let out = cmd.output().with_context(|| format!("could not start `{shown}`"))?;
    let report = String::from_utf8_lossy(&out.stdout);
    print!("{report}");
    if !out.status.success() {
        let code = out.status.code().map(|c| c.to_string()).unwrap_or_else(|| "none (killed by a signal)".into());
        bail!("`{shown}` failed with exit code {code}");
    }
    // A filter that matches nothing passes without writing a file: that must not look like "up to date".
    let ran = tests_passed(&report);
    if ran == 0 {
        bail!("no ts-rs export test ran (`export_bindings` matched no test of backoffice-core's library)");
    }
    let after = snapshot(&dir)?;
    let changes = file_changes(&before, &after);
    if !changes.is_empty() {
        bail!(
            "ui/src/bindings/ was stale: it has been regenerated from the Rust types; review and commit it.\n{}",
            changes.join("\n")
        );
    }
    println!("bindings: the {} files of {BINDINGS_DIR}/ match the Rust types ({ran} export tests)", after.len());
    Ok(())
}

/// How many tests the `test result:` lines of libtest's output say passed.
fn tests_passed(report: &str) -> u64 {
    report
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ")?.split("; ").find_map(|p| p.strip_suffix(" passed")))
        .filter_map(|n| n.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// One line per file of [`BINDINGS_DIR`] that appeared, changed or disappeared between two snapshots.
fn file_changes(before: &BTreeMap<PathBuf, Vec<u8>>, after: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<String> {
    let mut changes = Vec::new();
    for (name, bytes) in after {
        match before.get(name) {
            None => changes.push(format!("  new:     {BINDINGS_DIR}/{}", name.display())),
            Some(old) if old != bytes => changes.push(format!("  changed: {BINDINGS_DIR}/{}", name.display())),
            Some(_) => {}
        }
    }
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        changes.push(format!("  removed: {BINDINGS_DIR}/{}", name.display()));
    }
    changes
}

/// Every file under `dir` (relative name -> bytes); empty when `dir` does not exist.
fn snapshot(dir: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("listing {}", d.display())),
        };
        for entry in entries {
            let path = entry.with_context(|| format!("listing {}", d.display()))?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                files.insert(path.strip_prefix(dir).unwrap_or(&path).to_path_buf(), bytes);
            }
        }
    }
    Ok(files)
}

/// `generate_context!` reads ui/dist at compile time: build the UI first if it is not there.
fn ensure_ui_dist(partial: bool) -> Result<()> {
    let index = util::repo_root().join("ui/dist/index.html");
    if index.exists() {
        return Ok(());
    }
    if !partial {
        bail!("ui/dist/index.html is missing although the ui-build step ran");
    }
    println!("note: ui/dist is missing and the app embeds it at compile time; building the UI first");
    npm(&["run", "build"])
}

fn build_app() -> Result<()> {
    // The command line too: the team tests prepare each desk with it, as a user would.
    run(util::cargo().args(["build", "-p", "backoffice-app", "-p", "backoffice-cli"]))
}

/// Runs `cargo ARGS` inside the keyring session (and Xvfb when `xvfb`).
fn in_session(xvfb: bool, postgres: bool, cargo_args: &[&str]) -> Result<()> {
    let cargo: OsString = util::cargo().get_program().to_owned();
    let args: Vec<OsString> = cargo_args.iter().map(OsString::from).collect();
    session::wrap(SessionOptions { xvfb, postgres }, cargo, &args)?.run()
}

/// `cargo xtask run [-- args]`
pub fn run_app(args: &[String]) -> Result<()> {
    toolchain::check()?;
    let app_args: Vec<OsString> = match args.first().map(String::as_str) {
        Some("--") => args[1..].iter().map(OsString::from).collect(),
        _ => args.iter().map(OsString::from).collect(),
    };
    deps::ensure(Parts { system: true, npm: true, tauri_driver: false }, false)?;
    header("ui: npm run build");
    npm(&["run", "build"])?;
    header("app: cargo build -p backoffice-app");
    build_app()?;
    let app = util::app_binary();
    header(&format!("app: starting {}", app.display()));
    if util::has_display() {
        let mut cmd = Command::new(&app);
        cmd.args(&app_args).current_dir(util::repo_root());
        return run(&mut cmd);
    }
    println!(
        "No display found: DISPLAY and WAYLAND_DISPLAY are both unset, so a window cannot be shown.\n\
         Starting the app under Xvfb (a virtual X server) with a throwaway D-Bus session and keyring\n\
         instead: it runs, but nothing is visible and secrets saved now are discarded on exit.\n\
         Stop it with Ctrl+C. To see the window, run this from a desktop session."
    );
    session::wrap(SessionOptions { xvfb: true, postgres: false }, app.into_os_string(), &app_args)?.run()
}

const BENCHES: &[&str] =
    &["sync", "contifico-sync", "omie-rate", "omie-shared", "divergences", "reconcile", "store-copy"];

/// `cargo xtask bench <name> [args]`
pub fn bench(args: &[String]) -> Result<()> {
    let Some((name, extra)) = args.split_first() else {
        bail!("which benchmark? names: {}", BENCHES.join(", "));
    };
    if !BENCHES.contains(&name.as_str()) {
        bail!("unknown benchmark `{name}`; names: {}", BENCHES.join(", "));
    }
    toolchain::check()?;
    deps::ensure(Parts { system: true, npm: false, tauri_driver: false }, false)?;
    header(&format!("bench: {name} (release build, keyring session)"));
    // The simulator runs as its own process during benchmarks, so its memory is not counted.
    run(util::cargo().args(["build", "--release", "-p", "backoffice-sim", "-p", "backoffice-cli"]))?;
    let mut cargo_args: Vec<String> =
        ["run", "--release", "-p", "backoffice-cli", "--bin", "backoffice", "--", "bench"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    cargo_args.push(name.clone());
    cargo_args.extend(extra.iter().cloned());
    // store-copy (and sync with --backend postgres) measure against PostgreSQL: a throwaway
    // cluster, named to them with --url unless the caller gave a server of their own.
    let postgres = name == "store-copy"
        || (name == "sync" && extra.windows(2).any(|w| w[0] == "--backend" && w[1] == "postgres"))
        || extra.iter().any(|a| a == "--backend=postgres");
    let cargo: OsString = util::cargo().get_program().to_owned();
    let args: Vec<OsString> = cargo_args.iter().map(OsString::from).collect();
    let mut session = session::wrap(SessionOptions { xvfb: false, postgres }, cargo, &args)?;
    let own_server = extra.iter().any(|a| a == "--url" || a.starts_with("--url="));
    if let Some(url) = session.postgres_url().filter(|_| !own_server) {
        session.command.arg("--url").arg(url);
    }
    session.run()
}

/// `cargo xtask screenshots`
pub fn screenshots() -> Result<()> {
    toolchain::check()?;
    deps::ensure(Parts::all(), false)?;
    header("ui: npm run build");
    npm(&["run", "build"])?;
    header("app: cargo build -p backoffice-app");
    build_app()?;
    let dir = screenshot_dir();
    remove_pngs(|_| true);
    header("screenshots: E2E screenshot tour under Xvfb");
    in_session(true, false, &["test", "-p", "backoffice-e2e", "--test", "screenshots", "--", "--test-threads=1"])?;
    let mut pngs: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "png")).collect())
        .unwrap_or_default();
    pngs.sort();
    if pngs.is_empty() {
        bail!("the screenshot tour passed but left no PNG in {}", dir.display());
    }
    println!("{} screenshots in {}:", pngs.len(), dir.display());
    for p in pngs {
        println!("  {}", p.file_name().unwrap_or_default().to_string_lossy());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_step_sits_between_fmt_and_ui_typecheck() {
        let at = |s: Step| ALL_STEPS.iter().position(|x| *x == s).unwrap();
        assert_eq!(at(Step::Bindings), at(Step::Fmt) + 1);
        assert_eq!(at(Step::UiTypecheck), at(Step::Bindings) + 1);
        assert_eq!(Step::from_name("bindings"), Some(Step::Bindings));
    }

    #[test]
    fn counts_passed_tests() {
        let out = "running 2 tests\ntest a ... ok\n\ntest result: ok. 2 passed; 0 failed; 0 ignored; \
                   0 measured; 310 filtered out; finished in 0.01s\n";
        assert_eq!(tests_passed(out), 2);
        assert_eq!(tests_passed("test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 312 filtered out"), 0);
        assert_eq!(tests_passed(""), 0);
    }

    #[test]
    fn lists_new_changed_and_removed_files() {
        let map = |files: &[(&str, &str)]| -> BTreeMap<PathBuf, Vec<u8>> {
            files.iter().map(|(n, b)| (PathBuf::from(n), b.as_bytes().to_vec())).collect()
        };
        let before = map(&[("A.ts", "a"), ("B.ts", "b"), ("C.ts", "c")]);
        let after = map(&[("A.ts", "a"), ("B.ts", "b2"), ("D.ts", "d")]);
        assert_eq!(
            file_changes(&before, &after),
            vec![
                "  changed: ui/src/bindings/B.ts".to_string(),
                "  new:     ui/src/bindings/D.ts".to_string(),
                "  removed: ui/src/bindings/C.ts".to_string(),
            ]
        );
        assert!(file_changes(&before, &before).is_empty());
    }

    #[test]
    fn snapshot_reads_nested_files_and_a_missing_dir() {
        let dir = std::env::temp_dir().join(format!("xtask-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("A.ts"), "a").unwrap();
        std::fs::write(dir.join("sub/B.ts"), "b").unwrap();
        let files = snapshot(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(files.keys().cloned().collect::<Vec<_>>(), vec![PathBuf::from("A.ts"), PathBuf::from("sub/B.ts")]);
        assert!(snapshot(&dir).unwrap().is_empty());
    }
}
