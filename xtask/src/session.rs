//! The one place that wraps a command in a throwaway desktop session:
//!
//! ```text
//! [xvfb-run -a -s "-screen 0 1280x800x24"] dbus-run-session -- sh -c '<unlock keyring>; exec "$@"' xtask-session CMD ARGS...
//! ```
//!
//! with HOME, XDG_{DATA,CONFIG,CACHE}_HOME and XDG_RUNTIME_DIR pointing into a fresh temporary
//! directory (so the login keyring gnome-keyring creates is thrown away afterwards), while
//! CARGO_HOME and RUSTUP_HOME keep pointing at the real ones so cargo and rustup still work.
//! When the command ends, dbus-run-session stops the bus, gnome-keyring-daemon exits with it,
//! and xvfb-run stops Xvfb.

use crate::util;
use anyhow::{Context, Result};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Password of the throwaway login keyring.
const KEYRING_PASSWORD: &str = "backoffice-test";

/// Runs inside dbus-run-session: starts gnome-keyring-daemon with the secrets component, unlocks
/// (creates) the login keyring with a known password, exports what the daemon prints (when
/// XDG_RUNTIME_DIR is set it may print nothing, which must not turn into a bare `export`),
/// then becomes the wrapped command.
const UNLOCK_SCRIPT: &str = r#"set -eu
if ! kr_env=$(printf '%s' "$XTASK_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets); then
    echo "xtask: gnome-keyring-daemon --unlock failed (is gnome-keyring installed? try: cargo xtask deps)" >&2
    exit 97
fi
if [ -n "$kr_env" ]; then
    eval "export $kr_env"
fi
unset XTASK_KEYRING_PASSWORD
echo "xtask: session ready (DISPLAY=${DISPLAY:-none}, keyring unlocked, HOME=$HOME)"
exec "$@"
"#;

pub struct SessionOptions {
    /// Wrap in xvfb-run as well (a virtual X display 1280x800x24).
    pub xvfb: bool,
    /// Start a throwaway PostgreSQL cluster for the command (team-mode tests), named in
    /// `BACKOFFICE_TEST_POSTGRES_URL`.
    pub postgres: bool,
}

/// A prepared wrapped command. The temporary home is deleted when this is dropped.
pub struct Session {
    pub command: Command,
    /// What the log shows instead of the whole unlock script.
    shown: String,
    dir: PathBuf,
    /// Stopped and deleted after the bus (fields drop in order, after `drop` below).
    postgres: Option<crate::postgres::Cluster>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Session {
    /// The throwaway cluster's address (a superuser with its password), when one was asked for.
    pub fn postgres_url(&self) -> Option<String> {
        self.postgres.as_ref().map(|c| c.url.clone())
    }

    pub fn run(mut self) -> Result<()> {
        let res = util::run_shown(&mut self.command, &self.shown);
        stop_leftovers(&self.dir.join("runtime"));
        drop(self);
        res
    }
}

/// Stops processes still carrying this session's XDG_RUNTIME_DIR after the command ended.
/// gnome-keyring-daemon usually exits with the bus, but not when the bus goes away while it is
/// still starting (seen with commands that end within a fraction of a second).
fn stop_leftovers(runtime: &Path) {
    let marker = format!("XDG_RUNTIME_DIR={}", runtime.display());
    let find = || -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|e| {
                let pid = e.file_name().to_string_lossy().into_owned();
                if !pid.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let environ = std::fs::read(e.path().join("environ")).ok()?;
                let ours = environ.split(|b| *b == 0).any(|kv| kv == marker.as_bytes());
                let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
                let zombie = stat.rfind(')').is_some_and(|i| stat[i + 1..].trim_start().starts_with('Z'));
                let name = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default().trim().to_string();
                (ours && !zombie).then_some((pid, name))
            })
            .collect()
    };
    // Give the bus and the daemons a moment to end on their own.
    let mut left = find();
    for _ in 0..5 {
        if left.is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = find();
    }
    for (pid, name) in &left {
        println!("xtask: stopping leftover process {pid} ({name}) of the finished session");
        signal(pid, "TERM");
    }
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if find().is_empty() {
            return;
        }
    }
    for (pid, _) in find() {
        signal(&pid, "KILL");
    }
}

/// `kill -SIG PID` through sh's builtin (a minimal Debian has no /usr/bin/kill without procps).
fn signal(pid: &str, sig: &str) {
    let _ = Command::new("sh").args(["-c", "kill -s \"$1\" \"$2\"", "sh", sig, pid]).status();
}

/// Wraps `program args...` in dbus-run-session + unlocked gnome-keyring (+ Xvfb when asked).
pub fn wrap<P: AsRef<OsStr>, A: AsRef<OsStr>>(opts: SessionOptions, program: P, args: &[A]) -> Result<Session> {
    let dir = make_session_dir()?;
    let home = dir.join("home");
    let runtime = dir.join("runtime");
    for d in [home.join(".local/share"), home.join(".config"), home.join(".cache"), runtime.clone()] {
        std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    }
    set_mode_700(&runtime)?;

    let mut cmd = if opts.xvfb {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--"]);
        c
    } else {
        let mut c = Command::new("dbus-run-session");
        c.arg("--");
        c
    };
    cmd.args(["sh", "-c", UNLOCK_SCRIPT, "xtask-session"]);
    cmd.arg(program.as_ref());
    cmd.args(args.iter().map(AsRef::as_ref));
    let mut inner = Command::new(program.as_ref());
    inner.args(args.iter().map(AsRef::as_ref));
    let shown = format!(
        "{}dbus-run-session -- <unlock throwaway gnome-keyring> {}",
        if opts.xvfb { "xvfb-run -a -s '-screen 0 1280x800x24' " } else { "" },
        util::render(&inner)
    );
    cmd.current_dir(util::repo_root());

    // Resolve the real tool homes before HOME changes under them.
    if let Some(p) = util::cargo_home() {
        cmd.env("CARGO_HOME", p);
    }
    if let Some(p) = util::rustup_home() {
        cmd.env("RUSTUP_HOME", p);
    }
    if let Some(p) = crate::deps::tauri_driver_path() {
        cmd.env("TAURI_DRIVER", p);
    }
    cmd.env("HOME", &home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XTASK_KEYRING_PASSWORD", KEYRING_PASSWORD)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("GNOME_KEYRING_CONTROL");
    let postgres = if opts.postgres { Some(crate::postgres::Cluster::start()?) } else { None };
    if let Some(pg) = &postgres {
        cmd.env(crate::postgres::URL_VAR, &pg.url).env(crate::postgres::CA_VAR, &pg.ca);
    }
    if opts.xvfb {
        // xvfb-run sets DISPLAY itself; a developer's Wayland socket must not win over it.
        cmd.env_remove("WAYLAND_DISPLAY").env_remove("DISPLAY");
    }
    Ok(Session { command: cmd, shown, dir, postgres })
}

fn make_session_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("backoffice-session-{}-{nanos:09}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    set_mode_700(&dir)?;
    Ok(dir)
}

fn set_mode_700(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("chmod 700 {}", p.display()))
}
