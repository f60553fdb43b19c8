//! Small process helpers shared by the commands.

use anyhow::{bail, Context, Result};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The workspace root (the parent of xtask/).
pub fn repo_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().expect("xtask lives one level below the workspace root").to_path_buf()
}

/// The cargo that runs us (set by `cargo run`), else `cargo` from PATH.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(repo_root());
    cmd
}

/// The target directory cargo builds into.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        None => repo_root().join("target"),
    }
}

pub fn app_binary() -> PathBuf {
    target_dir().join("debug").join("backoffice-app")
}

/// Prints a banner that makes each step easy to find in a long CI log.
pub fn header(title: &str) {
    let line = "=".repeat(78);
    println!();
    println!("{line}");
    println!("== {title}");
    println!("{line}");
}

/// A shell-like rendering of a command, for the log.
pub fn render(cmd: &Command) -> String {
    // The toolchain's cargo is a long path; the log reads better with its name.
    let program = cmd.get_program();
    let is_our_cargo = std::env::var_os("CARGO").is_some_and(|c| c == program);
    let mut parts = vec![if is_our_cargo { "cargo".to_string() } else { quote(program) }];
    parts.extend(cmd.get_args().map(quote));
    let mut s = parts.join(" ");
    if let Some(dir) = cmd.get_current_dir() {
        if dir != repo_root() {
            s = format!("(cd {} && {s})", dir.display());
        }
    }
    s
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs a command with inherited stdio, echoing it first; non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = render(cmd);
    run_shown(cmd, &shown)
}

/// Like [`run`], but logs `shown` instead of the full command line.
pub fn run_shown(cmd: &mut Command, shown: &str) -> Result<()> {
    println!("$ {shown}");
    let started = Instant::now();
    let status = cmd.status().with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        let code = status.code().map(|c| c.to_string()).unwrap_or_else(|| "none (killed by a signal)".into());
        bail!("`{shown}` failed with exit code {code} after {:.0?}", started.elapsed());
    }
    Ok(())
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The real cargo home (CARGO_HOME, else ~/.cargo), resolved before any HOME override.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| home().map(|h| h.join(".cargo")))
}

/// The real rustup home (RUSTUP_HOME, else ~/.rustup).
pub fn rustup_home() -> Option<PathBuf> {
    std::env::var_os("RUSTUP_HOME").map(PathBuf::from).or_else(|| home().map(|h| h.join(".rustup")))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

pub fn is_root() -> bool {
    // std has no getuid; `id -u` is in coreutils on every Debian machine.
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

pub fn has_display() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    set("DISPLAY") || set("WAYLAND_DISPLAY")
}
