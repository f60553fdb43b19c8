//! `cargo xtask bundle` (the .deb and .rpm, built by the Tauri bundler) and the `package` step of
//! `cargo xtask test`, which proves the .deb on a clean Debian 12 root made by debootstrap.
//!
//! The Tauri CLI expects its configuration in the app crate's folder; ours lives at the workspace
//! root (the product's layout), so for the length of a bundle run a copy is written to
//! `src-tauri/tauri.conf.json` (ignored by git, removed afterwards) and the packaging settings are
//! merged from `src-tauri/bundle.conf.json`.

use crate::session::{self, SessionOptions};
use crate::util::{self, header, run};
use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The Debian release the clean root is made of (the one the .deb's dependencies are named for).
const SUITE: &str = "bookworm";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// A later version number given to the same build, to prove an upgrade keeps the user's data.
const UPGRADE_VERSION: &str = "0.1.1";

/// What one bundle run produced.
pub struct Packages {
    pub deb: PathBuf,
    pub rpm: PathBuf,
}

/// `cargo xtask bundle [--version V]`.
pub fn bundle_cmd(args: &[String]) -> Result<()> {
    let version = match args {
        [] => None,
        [flag, v] if flag == "--version" => Some(v.as_str()),
        _ => bail!("usage: cargo xtask bundle [--version X.Y.Z]"),
    };
    crate::deps::ensure(crate::deps::Parts { system: true, npm: true, tauri_driver: false }, false)?;
    let mut ui = Command::new("npm");
    ui.args(["run", "build"]).current_dir(util::repo_root().join("ui"));
    run(&mut ui)?;
    build_release()?;
    let out = bundle(version)?;
    print_artifacts(&[out.deb, out.rpm])
}

/// The app (which embeds ui/dist, built before) and the CLI in release mode.
pub fn build_release() -> Result<()> {
    run(util::cargo().args(["build", "--release", "--locked", "-p", "backoffice-app", "-p", "backoffice-cli"]))
}

/// Runs the Tauri bundler over the release binaries; `version` overrides the configured one.
pub fn bundle(version: Option<&str>) -> Result<Packages> {
    let root = util::repo_root();
    let release = util::target_dir().join("release");
    for bin in ["backoffice-app", "backoffice"] {
        let p = release.join(bin);
        ensure!(p.is_file(), "{} is missing; `cargo xtask bundle` builds it", p.display());
    }
    let tauri = root.join("ui/node_modules/.bin/tauri");
    ensure!(tauri.exists(), "{} is missing; run `cargo xtask deps` (npm ci in ui/)", tauri.display());
    let out_dir = release.join("bundle");
    let _ = std::fs::remove_dir_all(&out_dir);

    let _conf = ConfigCopy::write(&root)?;
    let cli = json_string(&release.join("backoffice").to_string_lossy());
    let files = format!(
        r#"{{"bundle":{{"linux":{{"deb":{{"files":{{"/usr/bin/backoffice":{cli}}}}},"rpm":{{"files":{{"/usr/bin/backoffice":{cli}}}}}}}}}}}"#
    );
    let mut cmd = Command::new(&tauri);
    cmd.current_dir(&root)
        .env("TAURI_APP_PATH", root.join("src-tauri"))
        .env("TAURI_FRONTEND_PATH", root.join("ui"))
        .args(["bundle", "--ci", "--bundles", "deb,rpm", "--config"])
        .arg(root.join("src-tauri/bundle.conf.json"))
        .args(["--config", &files]);
    if let Some(v) = version {
        cmd.args(["--config", &format!(r#"{{"version":{}}}"#, json_string(v))]);
    }
    run(&mut cmd)?;

    let find = |dir: &str, ext: &str| -> Result<PathBuf> {
        let d = out_dir.join(dir);
        let found: Vec<PathBuf> = std::fs::read_dir(&d)
            .with_context(|| format!("reading {}", d.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => bail!("expected one .{ext} in {}, found {found:?}", d.display()),
        }
    };
    let (deb, rpm) = (find("deb", "deb")?, find("rpm", "rpm")?);
    // One folder for what a maintainer publishes.
    let dest = root.join("artifacts/packages");
    std::fs::create_dir_all(&dest)?;
    let copy = |p: &Path| -> Result<PathBuf> {
        let to = dest.join(p.file_name().expect("a bundle has a file name"));
        std::fs::copy(p, &to).with_context(|| format!("copying {} to {}", p.display(), to.display()))?;
        Ok(to)
    };
    Ok(Packages { deb: copy(&deb)?, rpm: copy(&rpm)? })
}

/// Size and SHA-256 of each artifact, as a maintainer publishes them.
pub fn print_artifacts(files: &[PathBuf]) -> Result<()> {
    header("packages");
    for f in files {
        let size = f.metadata()?.len();
        let sum = sha256(f)?;
        println!("{:>10.1} MB  sha256 {sum}  {}", size as f64 / 1_048_576.0, f.display());
    }
    Ok(())
}

/// `src-tauri/tauri.conf.json` for the length of a bundle run: the root configuration, verbatim.
struct ConfigCopy(PathBuf);

impl ConfigCopy {
    fn write(root: &Path) -> Result<ConfigCopy> {
        let to = root.join("src-tauri/tauri.conf.json");
        std::fs::copy(root.join("tauri.conf.json"), &to).context("copying tauri.conf.json for the bundler")?;
        Ok(ConfigCopy(to))
    }
}

impl Drop for ConfigCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn capture(cmd: &mut Command) -> Result<String> {
    let shown = util::render(cmd);
    let out = cmd.stderr(Stdio::inherit()).output().with_context(|| format!("could not start `{shown}`"))?;
    if !out.status.success() {
        bail!("`{shown}` failed with {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd`, returning (success, stdout + stderr) without failing on a non-zero exit.
fn output_of(cmd: &mut Command) -> Result<(bool, String)> {
    let shown = util::render(cmd);
    println!("$ {shown}");
    let out = cmd.output().with_context(|| format!("could not start `{shown}`"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

// ---------------------------------------------------------------------------------------------
// The proof on a clean machine
// ---------------------------------------------------------------------------------------------

/// The `package` step: build both packages, check what is inside them, then install the .deb on
/// a clean Debian 12 root and use it there as a user would (see the README's packaging section).
pub fn prove() -> Result<()> {
    ensure!(util::is_root(), "the package step needs root (debootstrap, chroot, mounts); CI runs as root");
    let t = Instant::now();
    // ui/dist comes from the ui-build step (building it again would only force a release rebuild).
    build_release()?;
    let first = bundle(None)?;
    let newer = bundle(Some(UPGRADE_VERSION))?;
    print_artifacts(&[first.deb.clone(), first.rpm.clone(), newer.deb.clone()])?;
    println!("package: built in {:.0?}", t.elapsed());

    check_deb_contents(&first.deb)?;
    check_rpm(&first.rpm)?;

    let t = Instant::now();
    let base = clean_root_archive()?;
    let root = util::target_dir().join("package-root");
    let machine = CleanMachine::unpack(&base, &root)?;
    println!("package: clean root ready in {:.0?}", t.elapsed());
    machine.run_proof(&first.deb, &newer.deb)
}

/// What the .deb holds, read with dpkg-deb: control fields, the two programs, a desktop entry that
/// passes desktop-file-validate, and icons in the sizes desktops ask for.
fn check_deb_contents(deb: &Path) -> Result<()> {
    header("package: the .deb's contents");
    let control = capture(Command::new("dpkg-deb").arg("--info").arg(deb))?;
    println!("{control}");
    for field in ["Package:", "Version:", "Maintainer:", "Description:", "Depends:"] {
        ensure!(control.contains(field), "the .deb's control has no {field}");
    }
    for dep in ["libwebkit2gtk-4.1-0", "libayatana-appindicator3-1", "libdbus-1-3"] {
        ensure!(control.contains(dep), "the .deb does not depend on {dep}");
    }
    let list = capture(Command::new("dpkg-deb").arg("--contents").arg(deb))?;
    // dpkg-deb lists "usr/bin/x" or "./usr/bin/x" depending on how the archive was made.
    let paths: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .map(|p| p.trim_start_matches("./").trim_start_matches('/'))
        .collect();
    for want in ["usr/bin/backoffice-app", "usr/bin/backoffice", "usr/share/doc/backoffice/copyright"] {
        ensure!(paths.contains(&want), "the .deb does not install /{want}");
    }
    for size in ["16x16", "32x32", "48x48", "64x64", "128x128", "256x256", "512x512"] {
        ensure!(
            paths.iter().any(|p| p.starts_with(&format!("usr/share/icons/hicolor/{size}/apps/"))),
            "the .deb has no {size} icon"
        );
    }
    let unpacked = tempdir("bo-deb-")?;
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&unpacked.0))?;
    let apps = unpacked.0.join("usr/share/applications");
    let desktop: Vec<PathBuf> = std::fs::read_dir(&apps)
        .with_context(|| format!("the .deb has no {}", apps.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "desktop"))
        .collect();
    ensure!(desktop.len() == 1, "expected one desktop entry, found {desktop:?}");
    let entry = std::fs::read_to_string(&desktop[0])?;
    println!("{}:\n{entry}", desktop[0].display());
    run(Command::new("desktop-file-validate").arg(&desktop[0]))?;
    for want in ["Name=BackOffice", "Comment[pt_BR]=", "Comment[es]=", "Exec=backoffice-app"] {
        ensure!(entry.contains(want), "the desktop entry has no `{want}`");
    }
    println!("package: the .deb's contents are as expected");
    Ok(())
}

/// No rpm-based root can be made from the registries this machine reaches (Debian's, crates.io,
/// npm, PyPI: no Fedora or openSUSE mirror), so the .rpm is checked by reading it with rpm.
fn check_rpm(rpm: &Path) -> Result<()> {
    header("package: the .rpm, read with rpm (no rpm-based root can be made here)");
    let info = capture(Command::new("rpm").args(["-qip"]).arg(rpm))?;
    println!("{info}");
    let files = capture(Command::new("rpm").args(["-qlp"]).arg(rpm))?;
    println!("{files}");
    for want in ["/usr/bin/backoffice-app", "/usr/bin/backoffice"] {
        ensure!(files.lines().any(|l| l == want), "the .rpm does not install {want}");
    }
    ensure!(files.lines().any(|l| l.ends_with(".desktop")), "the .rpm has no desktop entry");
    let requires = capture(Command::new("rpm").args(["-qp", "--requires"]).arg(rpm))?;
    println!("requires:\n{requires}");
    ensure!(requires.contains("webkit2gtk4.1"), "the .rpm does not require webkit2gtk4.1");
    Ok(())
}

/// A cached tarball of a minimal Debian 12 made by debootstrap from the Debian mirror; made once per
/// machine (about a minute), then unpacked fresh for every proof.
fn clean_root_archive() -> Result<PathBuf> {
    let cache = cache_dir();
    std::fs::create_dir_all(&cache)?;
    let archive = cache.join(format!("debian-{SUITE}-minbase.tar"));
    if archive.is_file() {
        println!("package: reusing the clean root {}", archive.display());
        return Ok(archive);
    }
    let mirror = std::env::var("BACKOFFICE_DEBIAN_MIRROR").unwrap_or_else(|_| DEFAULT_MIRROR.into());
    let work = cache.join("debootstrap-work");
    let _ = std::fs::remove_dir_all(&work);
    run(Command::new("debootstrap").args(["--variant=minbase", SUITE]).arg(&work).arg(&mirror))?;
    let sources = format!(
        "deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\ndeb {security} {SUITE}-security main\n",
        security = mirror.replace("/debian", "/debian-security")
    );
    std::fs::write(work.join("etc/apt/sources.list"), sources)?;
    let partial = cache.join("partial.tar");
    run(Command::new("tar").arg("-C").arg(&work).args(["--numeric-owner", "-cf"]).arg(&partial).arg("."))?;
    std::fs::rename(&partial, &archive)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(archive)
}

fn cache_dir() -> PathBuf {
    match std::env::var_os("BACKOFFICE_XTASK_CACHE") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("/var/cache/backoffice-xtask"),
    }
}

struct TempDir(PathBuf);

fn tempdir(prefix: &str) -> Result<TempDir> {
    let base = std::env::temp_dir();
    for i in 0..1000u32 {
        let p = base.join(format!("{prefix}{}-{i}", std::process::id()));
        if std::fs::create_dir(&p).is_ok() {
            return Ok(TempDir(p));
        }
    }
    bail!("could not create a temporary directory in {}", base.display())
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh copy of the clean root with /proc, /dev, /dev/pts, /dev/shm and /tmp mounted into it (the app talks
/// to the host's X server and D-Bus session through /tmp), unmounted and deleted when dropped.
struct CleanMachine {
    root: PathBuf,
}

/// Where the app keeps a user's data inside the root (HOME=/root there).
const DATA_DIR: &str = "root/.local/share/BackOffice";

impl CleanMachine {
    fn unpack(archive: &Path, root: &Path) -> Result<CleanMachine> {
        if root.exists() {
            remove_root(root)?;
        }
        std::fs::create_dir_all(root)?;
        run(Command::new("tar").arg("-C").arg(root).args(["--numeric-owner", "-xf"]).arg(archive))?;
        // Packages installed in the root must not start services there (Debian's policy-rc.d).
        let policy = root.join("usr/sbin/policy-rc.d");
        std::fs::write(&policy, "#!/bin/sh\nexit 101\n")?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o755))?;
        }
        let m = CleanMachine { root: root.to_path_buf() };
        m.mount(&["-t", "proc", "proc"], "proc")?;
        m.mount(&["--bind", "/dev"], "dev")?;
        m.mount(&["--bind", "/dev/pts"], "dev/pts")?;
        m.mount(&["--bind", "/dev/shm"], "dev/shm")?;
        m.mount(&["--bind", "/tmp"], "tmp")?;
        std::fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).ok();
        Ok(m)
    }

    fn mount(&self, how: &[&str], at: &str) -> Result<()> {
        let target = self.root.join(at);
        std::fs::create_dir_all(&target)?;
        run(Command::new("mount").args(how).arg(&target))
    }

    fn chroot(&self, args: &[&str]) -> Command {
        let mut c = Command::new("chroot");
        c.arg(&self.root).args(args).env("DEBIAN_FRONTEND", "noninteractive").env("HOME", "/root");
        c
    }

    fn put(&self, file: &Path) -> Result<String> {
        let dir = self.root.join("root/packages");
        std::fs::create_dir_all(&dir)?;
        let name = file.file_name().expect("a package has a file name").to_string_lossy().into_owned();
        std::fs::copy(file, dir.join(&name))?;
        Ok(format!("/root/packages/{name}"))
    }

    fn installed_version(&self) -> Result<Option<String>> {
        let (ok, text) = output_of(&mut self.chroot(&["dpkg-query", "-W", "-f=${Status} ${Version}", "backoffice"]))?;
        Ok((ok && text.starts_with("install ok installed"))
            .then(|| text.split_whitespace().last().unwrap_or("").into()))
    }

    fn run_proof(&self, deb: &Path, newer_deb: &Path) -> Result<()> {
        let t = Instant::now();
        header("package: apt-get install ./backoffice.deb on a clean Debian 12");
        let inside = self.put(deb)?;
        run(&mut self.chroot(&["apt-get", "update", "-q"]))?;
        run(&mut self.chroot(&["apt-get", "install", "-y", "-q", &inside]))?;
        ensure!(self.installed_version()?.as_deref() == Some("0.1.0"), "dpkg does not list backoffice 0.1.0");
        let version = capture(&mut self.chroot(&["backoffice", "--version"]))?;
        println!("{version}");
        ensure!(version.contains("0.1.0"), "`backoffice --version` printed {version:?}");
        println!("package: installed with its dependencies in {:.0?}", t.elapsed());

        // The WebDriver server is a test tool, installed after the package so it cannot have
        // supplied anything the package needs.
        run(&mut self.chroot(&["apt-get", "install", "-y", "-q", "--no-install-recommends", "webkit2gtk-driver"]))?;

        header("package: the installed app in a window (WebDriver inside the clean root)");
        let cargo = util::cargo().get_program().to_owned();
        let args = ["test", "-p", "backoffice-e2e", "--test", "package", "--", "--ignored", "--test-threads=1"];
        let mut session = session::wrap(SessionOptions { xvfb: true, postgres: false }, cargo, &args)?;
        session.command.env("BACKOFFICE_PACKAGE_ROOT", &self.root);
        session.run()?;
        let db = self.root.join(DATA_DIR).join("backoffice.db");
        ensure!(db.is_file(), "the app made no database at {}", db.display());
        let before = sha256(&db)?;

        header("package: upgrade to a newer package keeps the user's data");
        let newer = self.put(newer_deb)?;
        run(&mut self.chroot(&["apt-get", "install", "-y", "-q", &newer]))?;
        ensure!(self.installed_version()?.as_deref() == Some(UPGRADE_VERSION), "the upgrade did not take");
        ensure!(sha256(&db)? == before, "the upgrade changed the user's database");
        let (ok, listed) = output_of(&mut self.chroot(&["backoffice", "connections", "list", "--json"]))?;
        println!("{listed}");
        ensure!(ok, "the upgraded CLI could not read the user's database");
        // Reading may fold SQLite's write-ahead log into the file: compare from here on.
        let before = sha256(&db)?;

        header("package: an app refuses a database from a newer version, and leaves it alone");
        let newer_db = self.root.join("root/from-a-newer-version.db");
        std::fs::copy(&db, &newer_db)?;
        set_user_version(&newer_db, 9999)?;
        let untouched = sha256(&newer_db)?;
        let (ok, said) = output_of(&mut self.chroot(&[
            "backoffice",
            "--db",
            "/root/from-a-newer-version.db",
            "connections",
            "list",
        ]))?;
        println!("{said}");
        ensure!(!ok, "the CLI opened a database of a newer schema");
        ensure!(said.contains("newer BackOffice"), "the refusal does not say why: {said}");
        ensure!(sha256(&newer_db)? == untouched, "the refused database was changed");

        header("package: removing the package leaves the user's data");
        run(&mut self.chroot(&["apt-get", "remove", "-y", "-q", "backoffice"]))?;
        ensure!(!self.root.join("usr/bin/backoffice-app").exists(), "the app is still installed after removal");
        ensure!(!self.root.join("usr/bin/backoffice").exists(), "the CLI is still installed after removal");
        ensure!(sha256(&db)? == before, "removing the package touched the user's database");
        let (_, purged) = output_of(&mut self.chroot(&["dpkg", "--purge", "backoffice"]))?;
        println!("{purged}");
        ensure!(db.is_file(), "purging the package deleted the user's database");
        ensure!(purged.contains("~/.local/share/BackOffice"), "purging did not say where the user's data is");
        println!("package: proof done in {:.0?}", t.elapsed());
        Ok(())
    }
}

impl Drop for CleanMachine {
    fn drop(&mut self) {
        if let Err(e) = remove_root(&self.root) {
            eprintln!("package: {e:#}");
        }
    }
}

/// Mount points at or below `root` (from /proc/self/mounts), deepest first.
fn mounts_under(root: &Path) -> Vec<PathBuf> {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else { return Vec::new() };
    let mut below: Vec<PathBuf> = mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(PathBuf::from)
        .filter(|m| m.starts_with(root))
        .collect();
    below.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    below
}

/// Unmounts everything below the root, then deletes it, but never while anything is still mounted
/// there: /dev and /tmp are the host's own, bind-mounted.
fn remove_root(root: &Path) -> Result<()> {
    for m in mounts_under(root) {
        let _ = Command::new("umount").arg("-l").arg(&m).status();
    }
    let left = mounts_under(root);
    if !left.is_empty() {
        bail!("{left:?} are still mounted; {} was left in place (unmount them, then delete it)", root.display());
    }
    std::fs::remove_dir_all(root).with_context(|| format!("removing {}", root.display()))
}

fn sha256(p: &Path) -> Result<String> {
    let out = capture(Command::new("sha256sum").arg(p))?;
    Ok(out.split_whitespace().next().unwrap_or_default().to_string())
}

/// Writes SQLite's "user version" field of the database header (4 bytes, big-endian, at offset 60),
/// which is where BackOffice keeps its schema version: the file then reads as a newer version's.
fn set_user_version(db: &Path, version: u32) -> Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(db)?;
    f.seek(SeekFrom::Start(60))?;
    f.write_all(&version.to_be_bytes())?;
    Ok(())
}
