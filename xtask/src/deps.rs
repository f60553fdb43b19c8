//! `cargo xtask deps`: installs what is missing, and only that.

use crate::util::{self, header, run};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

/// Debian packages needed to build the Tauri app.
const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libdbus-1-dev",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libsoup-3.0-dev",
];

/// Debian packages needed to run and test it headless; PostgreSQL's server for the team-mode tests
/// (xtask runs a throwaway cluster of its own; the package's default cluster is not used).
/// Never add dbus-x11: it auto-launches session buses that outlive the tests.
const RUNTIME_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus",
    "gnome-keyring",
    "libsecret-tools",
    "dunst",
    "imagemagick",
    "postgresql",
    "openssl",
];

/// Debian packages the packaging proof needs: a clean root (debootstrap), the desktop entry's
/// validator, rpm to read the .rpm, and xwininfo to find a message box by its title.
const PACKAGING_PACKAGES: &[&str] = &["debootstrap", "desktop-file-utils", "rpm", "x11-utils"];

/// Which parts of the toolchain a command needs.
#[derive(Clone, Copy)]
pub struct Parts {
    pub system: bool,
    pub npm: bool,
    pub tauri_driver: bool,
}

impl Parts {
    pub fn all() -> Self {
        Parts { system: true, npm: true, tauri_driver: true }
    }
}

pub fn ensure(parts: Parts, check_only: bool) -> Result<()> {
    header(if check_only { "deps: checking what is installed" } else { "deps: installing what is missing" });
    let mut missing_report = Vec::new();
    if parts.system {
        system_packages(check_only, &mut missing_report)?;
    }
    if parts.npm {
        node_modules(check_only, &mut missing_report)?;
    }
    if parts.tauri_driver {
        tauri_driver(check_only, &mut missing_report)?;
    }
    if check_only && !missing_report.is_empty() {
        bail!("missing: {}", missing_report.join(", "));
    }
    println!("deps: ok");
    Ok(())
}

fn system_packages(check_only: bool, report: &mut Vec<String>) -> Result<()> {
    let wanted: Vec<&str> = BUILD_PACKAGES.iter().chain(RUNTIME_PACKAGES).chain(PACKAGING_PACKAGES).copied().collect();
    if util::which("dpkg-query").is_none() {
        println!(
            "deps: dpkg-query not found; automatic installation only works on Debian/Ubuntu.\n      \
             Install the equivalents of: {}",
            wanted.join(" ")
        );
        return Ok(());
    }
    let missing = missing_packages(&wanted)?;
    if missing.is_empty() {
        println!("deps: all {} system packages are installed", wanted.len());
        return Ok(());
    }
    println!("deps: missing system packages: {}", missing.join(" "));
    if check_only {
        report.extend(missing.iter().map(|p| format!("apt:{p}")));
        return Ok(());
    }
    let sudo = if util::is_root() {
        None
    } else if util::which("sudo").is_some() {
        Some("sudo")
    } else {
        bail!(
            "not root and no sudo: install these packages by hand:\n  apt-get install -y --no-install-recommends {}",
            missing.join(" ")
        );
    };
    let apt = |args: &[&str]| -> Command {
        let mut cmd = match sudo {
            Some(s) => {
                let mut c = Command::new(s);
                c.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
                c
            }
            None => {
                let mut c = Command::new("apt-get");
                c.env("DEBIAN_FRONTEND", "noninteractive");
                c
            }
        };
        cmd.args(args);
        cmd
    };
    run(&mut apt(&["update"]))?;
    let mut install = apt(&["install", "-y", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)?;
    let still = missing_packages(&wanted)?;
    if !still.is_empty() {
        bail!("apt-get finished but these are still not installed: {}", still.join(" "));
    }
    Ok(())
}

/// Asks dpkg which of `wanted` are not in state "install ok installed".
fn missing_packages(wanted: &[&str]) -> Result<Vec<String>> {
    // dpkg-query exits 1 when some names are unknown to it; the output still lists the known ones.
    let out = Command::new("dpkg-query")
        .arg("-W")
        .arg("-f=${Package}\t${Status}\n")
        .args(wanted)
        .stderr(std::process::Stdio::null())
        .output()
        .context("running dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(_, status)| status.trim() == "install ok installed")
        .map(|(name, _)| name.split(':').next().unwrap_or(name))
        .collect();
    Ok(wanted.iter().filter(|p| !installed.contains(p)).map(|p| p.to_string()).collect())
}

fn node_modules(check_only: bool, report: &mut Vec<String>) -> Result<()> {
    let ui = util::repo_root().join("ui");
    let lock = ui.join("package-lock.json");
    if !lock.exists() {
        bail!("{} is missing; npm ci needs it", lock.display());
    }
    let modules = ui.join("node_modules");
    // npm ci writes node_modules/.package-lock.json last, so its age tells when the install finished.
    let marker = modules.join(".package-lock.json");
    let reason = if !modules.is_dir() {
        Some("ui/node_modules is missing")
    } else if mtime(&marker).unwrap_or(SystemTime::UNIX_EPOCH) < mtime(&lock)? {
        Some("ui/node_modules is older than ui/package-lock.json")
    } else {
        None
    };
    let Some(reason) = reason else {
        println!("deps: ui/node_modules is up to date");
        return Ok(());
    };
    println!("deps: {reason}");
    if check_only {
        report.push("ui/node_modules".into());
        return Ok(());
    }
    if util::which("npm").is_none() {
        bail!("npm is not on PATH; install Node.js 20.19+ or 22.12+ with npm (Debian: the nodejs and npm packages, or NodeSource)");
    }
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(&ui);
    run(&mut cmd)
}

fn mtime(p: &std::path::Path) -> Result<SystemTime> {
    p.metadata().and_then(|m| m.modified()).with_context(|| format!("reading the modification time of {}", p.display()))
}

/// Where tauri-driver is, if installed: PATH first, then cargo's bin dir.
pub fn tauri_driver_path() -> Option<PathBuf> {
    util::which("tauri-driver").or_else(|| {
        let p = util::cargo_home()?.join("bin").join("tauri-driver");
        util::is_executable(&p).then_some(p)
    })
}

fn tauri_driver(check_only: bool, report: &mut Vec<String>) -> Result<()> {
    if let Some(p) = tauri_driver_path() {
        println!("deps: tauri-driver found at {}", p.display());
        return Ok(());
    }
    println!("deps: tauri-driver is not installed");
    if check_only {
        report.push("tauri-driver".into());
        return Ok(());
    }
    let mut cmd = util::cargo();
    cmd.args(["install", "tauri-driver", "--version", "^2", "--locked"]);
    run(&mut cmd)?;
    if tauri_driver_path().is_none() {
        bail!("cargo install finished but tauri-driver is neither on PATH nor in cargo's bin dir");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_only_what_dpkg_does_not_have() {
        if util::which("dpkg-query").is_none() {
            return; // not a Debian machine; nothing to ask
        }
        // coreutils is essential on Debian; the other name cannot exist (upper case is invalid).
        let missing = missing_packages(&["coreutils", "No-Such-Package-Xtask"]).unwrap();
        assert_eq!(missing, vec!["No-Such-Package-Xtask".to_string()]);
    }

    #[test]
    fn package_lists_never_include_dbus_x11() {
        assert!(!BUILD_PACKAGES.iter().chain(RUNTIME_PACKAGES).any(|p| *p == "dbus-x11"));
    }
}
