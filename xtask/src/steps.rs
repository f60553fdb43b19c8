//! The commands built out of steps: test, run, bench, screenshots.

use crate::deps::{self, Parts};
use crate::session::{self, SessionOptions};
use crate::util::{self, header, run};
use anyhow::{bail, Result};
use std::ffi::OsString;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    Deps,
    Fmt,
    UiTypecheck,
    UiTest,
    UiBuild,
    Clippy,
    Unit,
    BuildApp,
    E2e,
}

const ALL_STEPS: &[Step] = &[
    Step::Deps,
    Step::Fmt,
    Step::UiTypecheck,
    Step::UiTest,
    Step::UiBuild,
    Step::Clippy,
    Step::Unit,
    Step::BuildApp,
    Step::E2e,
];

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Deps => "deps",
            Step::Fmt => "fmt",
            Step::UiTypecheck => "ui-typecheck",
            Step::UiTest => "ui-test",
            Step::UiBuild => "ui-build",
            Step::Clippy => "clippy",
            Step::Unit => "unit",
            Step::BuildApp => "build-app",
            Step::E2e => "e2e",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Step::Deps => "system packages, ui/node_modules, tauri-driver",
            Step::Fmt => "cargo fmt --all -- --check",
            Step::UiTypecheck => "npm run typecheck (ui/)",
            Step::UiTest => "npm test (ui/, vitest)",
            Step::UiBuild => "npm run build (ui/ -> ui/dist)",
            Step::Clippy => "cargo clippy --workspace --all-targets -- -D warnings",
            Step::Unit => "cargo test --workspace --exclude backoffice-e2e (dbus session + unlocked keyring)",
            Step::BuildApp => "cargo build -p backoffice-app",
            Step::E2e => {
                "cargo test -p backoffice-e2e --no-fail-fast -- --test-threads=1 (Xvfb + dbus session + keyring)"
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
        Step::UiTypecheck => npm(&["run", "typecheck"]),
        Step::UiTest => npm(&["test"]),
        Step::UiBuild => npm(&["run", "build"]),
        Step::Clippy => {
            ensure_ui_dist(partial)?;
            run(util::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
        }
        Step::Unit => {
            ensure_ui_dist(partial)?;
            in_session(false, &["test", "--workspace", "--exclude", "backoffice-e2e", "--no-fail-fast"])
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
            in_session(true, &["test", "-p", "backoffice-e2e", "--no-fail-fast", "--", "--test-threads=1"])
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
    run(util::cargo().args(["build", "-p", "backoffice-app"]))
}

/// Runs `cargo ARGS` inside the keyring session (and Xvfb when `xvfb`).
fn in_session(xvfb: bool, cargo_args: &[&str]) -> Result<()> {
    let cargo: OsString = util::cargo().get_program().to_owned();
    let args: Vec<OsString> = cargo_args.iter().map(OsString::from).collect();
    session::wrap(SessionOptions { xvfb }, cargo, &args)?.run()
}

/// `cargo xtask run [-- args]`
pub fn run_app(args: &[String]) -> Result<()> {
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
    session::wrap(SessionOptions { xvfb: true }, app.into_os_string(), &app_args)?.run()
}

const BENCHES: &[&str] = &["contifico-sync", "omie-rate"];

/// `cargo xtask bench <name> [args]`
pub fn bench(args: &[String]) -> Result<()> {
    let Some((name, extra)) = args.split_first() else {
        bail!("which benchmark? names: {}", BENCHES.join(", "));
    };
    if !BENCHES.contains(&name.as_str()) {
        bail!("unknown benchmark `{name}`; names: {}", BENCHES.join(", "));
    }
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
    let refs: Vec<&str> = cargo_args.iter().map(String::as_str).collect();
    in_session(false, &refs)
}

/// `cargo xtask screenshots`
pub fn screenshots() -> Result<()> {
    deps::ensure(Parts::all(), false)?;
    header("ui: npm run build");
    npm(&["run", "build"])?;
    header("app: cargo build -p backoffice-app");
    build_app()?;
    let dir = screenshot_dir();
    remove_pngs(|_| true);
    header("screenshots: E2E screenshot tour under Xvfb");
    in_session(true, &["test", "-p", "backoffice-e2e", "--test", "screenshots", "--", "--test-threads=1"])?;
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
