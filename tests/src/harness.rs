//! Starting the real app under tauri-driver, and cleaning up after it.

use crate::webdriver::WebDriver;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root (this package lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Where screenshots go: `<root>/artifacts/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    repo_root().join("artifacts").join("screenshots")
}

/// Fails (never skips) when the test is not inside the session `cargo xtask test` sets up.
pub fn require_desktop_session() -> Result<()> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let mut missing = Vec::new();
    if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
        missing.push("a display (DISPLAY / WAYLAND_DISPLAY are unset)");
    }
    if !set("DBUS_SESSION_BUS_ADDRESS") {
        missing.push("a D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), needed for the keychain");
    }
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "the end-to-end tests drive the real app and need {}.\n\
         Run them with `cargo xtask test` (or `cargo xtask test --only build-app,e2e`), which wraps them in \
         xvfb-run + dbus-run-session + an unlocked throwaway gnome-keyring.",
        missing.join(" and ")
    )
}

/// tauri-driver: $TAURI_DRIVER (set by xtask), else PATH, else cargo's bin directory.
pub fn tauri_driver_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TAURI_DRIVER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("tauri-driver")).collect())
        .unwrap_or_default();
    if let Some(ch) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(ch).join("bin/tauri-driver"));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow!("tauri-driver not found; install it with `cargo xtask deps` (cargo install tauri-driver --version '^2' --locked)")
    })
}

/// The debug app binary: $BACKOFFICE_APP_BIN, else `<target>/debug/backoffice-app`.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("BACKOFFICE_APP_BIN").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .map(|t| if t.is_absolute() { t } else { repo_root().join(t) })
                .unwrap_or_else(|| repo_root().join("target"));
            target.join("debug").join("backoffice-app")
        }
    };
    if !path.is_file() {
        bail!(
            "{} does not exist; build it with `cargo build -p backoffice-app` (cargo xtask test does)",
            path.display()
        );
    }
    path.canonicalize().with_context(|| format!("resolving {}", path.display()))
}

/// A free TCP port on loopback (bound then released).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding an ephemeral port")?;
    Ok(l.local_addr()?.port())
}

/// How to start the app.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// BACKOFFICE_LOCALE: en, es or pt-BR.
    pub locale: String,
    /// BACKOFFICE_LOG.
    pub log_level: String,
    /// More environment for the app.
    pub env: Vec<(String, String)>,
    /// Start the app a package installed in this root folder (a clean Debian made by `cargo xtask
    /// test`'s package step) instead of the debug build: WebKitWebDriver and the app run inside it
    /// with `chroot`, and the app keeps its data where a user's goes there (`/root/.local/share`).
    pub installed_root: Option<PathBuf>,
    /// Start the app as this desk of a team (its own home, desk file and keychain, in a D-Bus
    /// session of its own) instead of in the test's session with a throwaway home.
    pub desk: Option<Desk>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            locale: "pt-BR".into(),
            log_level: "debug".into(),
            env: Vec::new(),
            installed_root: None,
            desk: None,
        }
    }
}

/// One desk of a team, for tests with several app processes: its own home (desk file, logs, XDG
/// folders, runtime folder) and its own keychain: a login keyring kept in its own data folder and
/// unlocked, in a D-Bus session of its own, whenever one of its programs runs. Two desks' apps are
/// then two apps (each its own single instance) that share nothing but the team database.
#[derive(Clone, Debug)]
pub struct Desk {
    pub name: String,
    dir: std::sync::Arc<tempfile::TempDir>,
}

/// Runs inside the desk's dbus-run-session: starts gnome-keyring-daemon's secrets component,
/// unlocks (the first time, creates) the desk's login keyring, then becomes the desk's program.
const DESK_SESSION: &str = r#"set -eu
if ! kr_env=$(printf '%s' "$DESK_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets); then
    echo "desk: gnome-keyring-daemon --unlock failed" >&2
    exit 97
fi
if [ -n "$kr_env" ]; then
    eval "export $kr_env"
fi
unset DESK_KEYRING_PASSWORD
exec "$@"
"#;

impl Desk {
    pub fn new(name: &str) -> Result<Desk> {
        let dir = tempfile::Builder::new().prefix(&format!("bo-desk-{name}-")).tempdir()?;
        for d in ["home", "logs", "xdg/data", "xdg/config", "xdg/cache", "runtime"] {
            std::fs::create_dir_all(dir.path().join(d))?;
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join("runtime"), std::fs::Permissions::from_mode(0o700))?;
        Ok(Desk { name: name.to_string(), dir: std::sync::Arc::new(dir) })
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The desk's own file (BACKOFFICE_DB).
    pub fn db_path(&self) -> PathBuf {
        self.root().join("bo.db")
    }

    fn runtime(&self) -> PathBuf {
        self.root().join("runtime")
    }

    /// `program args…` as this desk: its environment, in its own D-Bus session with its keychain.
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let root = self.root();
        let mut cmd = Command::new("dbus-run-session");
        cmd.args(["--", "sh", "-c", DESK_SESSION, "desk-session"])
            .arg(program)
            .args(args)
            .env("HOME", root.join("home"))
            .env("XDG_DATA_HOME", root.join("xdg/data"))
            .env("XDG_CONFIG_HOME", root.join("xdg/config"))
            .env("XDG_CACHE_HOME", root.join("xdg/cache"))
            .env("XDG_RUNTIME_DIR", self.runtime())
            .env("BACKOFFICE_DB", self.db_path())
            .env("BACKOFFICE_LOG_DIR", root.join("logs"))
            .env("DESK_KEYRING_PASSWORD", format!("desk-{}", self.name))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("GNOME_KEYRING_CONTROL")
            .env_remove("DATABASE_URL")
            .env_remove("BACKOFFICE_KEYCHAIN_SERVICE");
        cmd
    }

    /// Runs the command line (`backoffice args…`) as this desk and returns what it printed; fails
    /// with its output when it fails.
    pub fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
        let bin = cli_binary()?;
        let out = self
            .command(&bin, args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running backoffice {args:?} as desk {}", self.name))?;
        self.stop_leftovers();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            bail!("`backoffice {}` as desk {} failed ({}):\n{text}", args.join(" "), self.name, out.status);
        }
        Ok(text)
    }

    /// Stops what a session of this desk left running (a keyring daemon that outlived its bus).
    fn stop_leftovers(&self) {
        let mark = format!("XDG_RUNTIME_DIR={}", self.runtime().display());
        let Ok(entries) = std::fs::read_dir("/proc") else { return };
        for pid in entries.flatten().filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok()) {
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else { continue };
            if env.split(|b| *b == 0).any(|v| v == mark.as_bytes()) && pid as u32 != std::process::id() {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if comm.trim() == "gnome-keyring-d" {
                    // SAFETY: kill(2) of a keyring daemon this desk's session started; no memory involved.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
            }
        }
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        if std::sync::Arc::strong_count(&self.dir) == 1 {
            self.stop_leftovers();
        }
    }
}

/// The command line binary next to the app: `<target>/debug/backoffice`.
pub fn cli_binary() -> Result<PathBuf> {
    let path = app_binary()?.with_file_name("backoffice");
    if !path.is_file() {
        bail!(
            "{} does not exist; build it with `cargo build -p backoffice-cli` (cargo xtask test does)",
            path.display()
        );
    }
    Ok(path)
}

/// Where the package installs the app.
pub const INSTALLED_APP: &str = "/usr/bin/backoffice-app";

/// A native-driver script for tauri-driver that starts the root's own WebKitWebDriver inside the
/// root, with the user's home there and the host's display, D-Bus session and keyring (through the
/// /tmp the package step mounts into the root).
fn chrooted_native_driver(installed_root: &Path, dir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("native-driver.sh");
    let root = installed_root.to_string_lossy().replace('\'', r"'\''");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec chroot '{root}' /usr/bin/env -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u XDG_CACHE_HOME \
             HOME=/root /usr/bin/WebKitWebDriver \"$@\"\n"
        ),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(script)
}

/// tauri-driver (and below it WebKitWebDriver and the app) in its own process group.
struct DriverProcess {
    child: Child,
    stopped: bool,
}

impl DriverProcess {
    fn pgid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal_group(&self, sig: i32) {
        // SAFETY: kill(2) with a negative pid signals our own child's process group; no memory is involved.
        unsafe {
            libc::kill(-self.pgid(), sig);
        }
    }

    /// Stops the whole group: SIGTERM, a grace period, then SIGKILL.
    fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.signal_group(libc::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < grace {
            let _ = self.child.try_wait();
            if live_processes_in_group(self.pgid()) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if live_processes_in_group(self.pgid()) > 0 {
            self.signal_group(libc::SIGKILL);
        }
        let _ = self.child.wait();
        // Give the kernel a moment so the next app start does not meet this one (single-instance).
        let started = Instant::now();
        while live_processes_in_group(self.pgid()) > 0 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        self.stop(Duration::from_millis(500));
    }
}

/// Processes of process group `pgid` that are not zombies (read from /proc).
fn live_processes_in_group(pgid: i32) -> usize {
    processes_in_group(pgid).len()
}

/// `(pid, comm)` of the processes of process group `pgid` that are not zombies (read from /proc).
fn processes_in_group(pgid: i32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
            let open = stat.find('(')?;
            let close = stat.rfind(')')?;
            let comm = stat.get(open + 1..close)?.to_string();
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            let live = fields.len() > 2 && fields[0] != "Z" && fields[0] != "X";
            (live && fields[2].parse::<i32>().ok() == Some(pgid)).then_some((pid, comm))
        })
        .collect()
}

/// A running app with a WebDriver session, its temp dir (DB, logs, XDG dirs) and its driver.
pub struct App {
    pub wd: WebDriver,
    /// Test name, used in failure artefacts.
    pub name: String,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    driver_log: PathBuf,
    driver: DriverProcess,
    session_open: bool,
    /// The desk the app runs as (kept until the app is gone).
    desk: Option<Desk>,
}

impl App {
    /// Starts tauri-driver with the app's environment, opens a session (which starts the app)
    /// and waits until the UI has rendered its navigation.
    pub async fn launch(name: &str, opts: AppOptions) -> Result<App> {
        require_desktop_session()?;
        let driver_bin = tauri_driver_path()?;
        let app_bin = match &opts.installed_root {
            Some(_) => PathBuf::from(INSTALLED_APP),
            None => app_binary()?,
        };
        let dir = tempfile::Builder::new()
            .prefix(&format!("bo-e2e-{name}-"))
            .tempdir()
            .context("creating the test's temp dir")?;
        let root = dir.path().to_path_buf();
        let logs = root.join("logs");
        let xdg = root.join("xdg");
        for d in [&logs, &xdg.join("data"), &xdg.join("config"), &xdg.join("cache")] {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        let port = free_port()?;
        let mut native_port = free_port()?;
        while native_port == port {
            native_port = free_port()?;
        }
        let driver_log = root.join("driver.log");
        let log = File::create(&driver_log).context("creating driver.log")?;
        let (port_s, native_s) = (port.to_string(), native_port.to_string());
        let mut cmd = match &opts.desk {
            Some(desk) => desk.command(&driver_bin, &["--port", &port_s, "--native-port", &native_s]),
            None => {
                let mut cmd = Command::new(&driver_bin);
                cmd.args(["--port", &port_s, "--native-port", &native_s]);
                cmd
            }
        };
        match &opts.installed_root {
            _ if opts.desk.is_some() => {}
            Some(installed) => {
                cmd.arg("--native-driver").arg(chrooted_native_driver(installed, &root)?);
            }
            None => {
                cmd.env("BACKOFFICE_DB", root.join("bo.db"))
                    .env("BACKOFFICE_LOG_DIR", &logs)
                    // Fresh webview storage per test; the keyring daemon is already running, so this
                    // does not move the keychain.
                    .env("XDG_DATA_HOME", xdg.join("data"))
                    .env("XDG_CONFIG_HOME", xdg.join("config"))
                    .env("XDG_CACHE_HOME", xdg.join("cache"));
            }
        }
        cmd.env("BACKOFFICE_LOG", &opts.log_level)
            .env("BACKOFFICE_LOCALE", &opts.locale)
            .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        let child = cmd.spawn().with_context(|| format!("starting {}", driver_bin.display()))?;
        let mut driver = DriverProcess { child, stopped: false };

        let server = format!("http://127.0.0.1:{port}");
        if let Err(e) = wait_status(&server, &mut driver, Duration::from_secs(30)).await {
            return Err(e.context(format!("tauri-driver did not come up; its log:\n{}", tail(&driver_log, 40))));
        }
        let caps = json!({
            "alwaysMatch": {
                "browserName": "wry",
                "tauri:options": { "application": app_bin.to_string_lossy() }
            }
        });
        // A crashing app leaves WebKitWebDriver waiting until its own timeout: watch the log meanwhile.
        let started = tokio::select! {
            r = WebDriver::new_session(&server, caps, Duration::from_secs(60)) => r,
            e = watch_for_crash(&driver_log) => Err(e),
        };
        let wd = match started {
            Ok(wd) => wd,
            Err(e) => return Err(e.context(format!("driver log:\n{}", tail(&driver_log, 60)))),
        };
        let app = App {
            wd,
            name: name.to_string(),
            dir: Some(dir),
            root,
            driver_log,
            driver,
            session_open: true,
            desk: opts.desk.clone(),
        };
        if let Err(e) = app.wd.wait_for(&crate::ui::sel::nav("dashboard"), Duration::from_secs(30)).await {
            let source = app.wd.page_source().await.unwrap_or_default();
            let snippet: String = source.chars().take(1500).collect();
            return Err(e.context(format!(
                "the UI did not render its navigation; page source starts with:\n{snippet}\ndriver log:\n{}",
                tail(&app.driver_log, 40)
            )));
        }
        Ok(app)
    }

    /// The temp dir holding bo.db, logs/, xdg/ and driver.log.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        match &self.desk {
            Some(desk) => desk.db_path(),
            None => self.root.join("bo.db"),
        }
    }

    /// Kills the app process with SIGKILL, as a crash or a pulled plug would end it (its driver
    /// and WebDriver session are left to `finish`).
    pub fn kill_app(&self) -> Result<u32> {
        let pid = self.app_pid()?;
        // SAFETY: kill(2) of the app process this test started; no memory is involved.
        if unsafe { libc::kill(pid as i32, libc::SIGKILL) } != 0 {
            bail!("could not kill the app (pid {pid}): {}", std::io::Error::last_os_error());
        }
        Ok(pid)
    }

    pub fn log_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The pid of the app process (started by WebKitWebDriver inside tauri-driver's process group).
    pub fn app_pid(&self) -> Result<u32> {
        let group = processes_in_group(self.driver.pgid());
        let name = app_binary()?.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // comm is the executable's name cut to 15 bytes.
        let comm: String = name.chars().take(15).collect();
        group
            .iter()
            .find(|(_, c)| *c == comm)
            .map(|(pid, _)| *pid)
            .ok_or_else(|| anyhow!("no `{comm}` process in tauri-driver's process group; it holds {group:?}"))
    }

    /// tauri-driver's output, which includes the app's stdout and stderr.
    pub fn driver_log(&self) -> &Path {
        &self.driver_log
    }

    /// Saves `<repo>/artifacts/screenshots/NAME.png` after letting the UI settle.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let path = screenshot_dir().join(format!("{name}.png"));
        self.wd.save_screenshot(&path).await?;
        println!("screenshot: {}", path.display());
        Ok(path)
    }

    /// Scrolls the first element matching `css` to the top of its scrolling containers (before a
    /// screenshot of what lies below the fold).
    pub async fn scroll_to(&self, css: &str) -> Result<()> {
        let el = self.wd.find(css).await?;
        self.wd
            .execute(
                "arguments[0].scrollIntoView({block: 'start'});",
                vec![crate::webdriver::WebDriver::element_arg(&el)],
            )
            .await?;
        Ok(())
    }

    /// Closes the session (the app quits) and stops tauri-driver. Safe to call twice.
    pub async fn shutdown(&mut self) {
        if self.session_open {
            self.session_open = false;
            if let Err(e) = self.wd.delete_session().await {
                eprintln!("note: deleting the WebDriver session failed: {e:#}");
            }
        }
        self.driver.stop(Duration::from_secs(5));
    }

    /// Ends a test: on failure keeps evidence (screenshot, driver log tail, the temp dir),
    /// then shuts the app down and returns `result`.
    pub async fn finish(mut self, result: Result<()>) -> Result<()> {
        if let Err(err) = &result {
            eprintln!("test `{}` failed: {err:#}", self.name);
            let shot = screenshot_dir().join(format!("FAILED-{}.png", self.name));
            match self.wd.save_screenshot(&shot).await {
                Ok(()) => eprintln!("failure screenshot: {}", shot.display()),
                Err(e) => eprintln!("could not take a failure screenshot: {e:#}"),
            }
            self.shutdown().await;
            eprintln!("driver/app log (last lines):\n{}", tail(&self.driver_log, 60));
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("kept the test's files for inspection: {}", kept.display());
            }
        } else {
            self.shutdown().await;
        }
        result
    }
}

async fn wait_status(server: &str, driver: &mut DriverProcess, timeout: Duration) -> Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let started = Instant::now();
    loop {
        if let Some(status) = driver.child.try_wait()? {
            bail!("tauri-driver exited early with {status}");
        }
        if let Ok(resp) = http.get(format!("{server}/status")).send().await {
            if resp.status().is_success() {
                return Ok(());
            }
        }
        if started.elapsed() > timeout {
            bail!("GET {server}/status did not answer 200 within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Resolves (with an error) once the app's output shows a Rust panic.
async fn watch_for_crash(log: &Path) -> anyhow::Error {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Ok(bytes) = std::fs::read(log) {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(line) = text.lines().find(|l| l.contains("panicked at")) {
                return anyhow!("the app crashed while starting: {}", line.trim());
            }
        }
    }
}

/// The last `n` lines of a text file (lossy), for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        Err(e) => format!("(could not read {}: {e})", path.display()),
    }
}
