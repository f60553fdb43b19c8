//! The installed package, as a user meets it: `cargo xtask test`'s `package` step makes a clean
//! Debian 12 root, installs the .deb there with apt-get (dependencies from the Debian mirror) and runs
//! this test with BACKOFFICE_PACKAGE_ROOT naming that root. The app and its WebDriver server run
//! inside the root; nothing of the build tree is used.

use anyhow::{bail, ensure, Context, Result};
use backoffice_e2e::ui::UI_TIMEOUT;
use backoffice_e2e::{sel, App, AppOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a clean root with the .deb installed: run by the `package` step of `cargo xtask test`"]
async fn the_installed_app_opens_its_window_and_offers_demo_mode() -> Result<()> {
    let root = std::env::var_os("BACKOFFICE_PACKAGE_ROOT")
        .map(PathBuf::from)
        .context("BACKOFFICE_PACKAGE_ROOT is unset: run this through `cargo xtask test --only package`")?;
    let opts = AppOptions { installed_root: Some(root.clone()), ..AppOptions::default() };
    let app = App::launch("installed_package", opts).await?;
    let res = async {
        let title = app.wd.execute("return document.title", vec![]).await?;
        ensure!(title.as_str() == Some("BackOffice"), "the window's title is {title}");
        // A first start with no connections offers demo mode, in the user's language.
        let demo = app.wd.wait_for_visible(sel::START_DEMO, UI_TIMEOUT).await?;
        let label = app.wd.text(&demo).await?;
        ensure!(label.contains("demonstração"), "the demo offer reads {label:?}");
        app.screenshot("package-first-screen").await?;
        // The first start made the user's database where a user's data goes, inside the root.
        let db = root.join("root/.local/share/BackOffice/backoffice.db");
        ensure!(db.is_file(), "no database at {}", db.display());
        Ok(())
    }
    .await;
    app.finish(res).await?;
    an_older_app_refuses_a_newer_database(&root)
}

/// The installed app started on a database a newer version wrote (SQLite's user-version field, where
/// BackOffice keeps its schema version, set past what this version knows) shows a message box that
/// says so, and leaves the file as it was.
fn an_older_app_refuses_a_newer_database(root: &Path) -> Result<()> {
    let data = root.join("root/.local/share/BackOffice");
    let newer = data.join("from-a-newer-version.db");
    std::fs::copy(data.join("backoffice.db"), &newer)?;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&newer)?;
        f.seek(SeekFrom::Start(60))?;
        f.write_all(&9999u32.to_be_bytes())?;
    }
    let before = std::fs::read(&newer)?;
    let mut app = Command::new("chroot")
        .arg(root)
        .args([
            "/usr/bin/env",
            "HOME=/root",
            "BACKOFFICE_LOCALE=en",
            "BACKOFFICE_DB=/root/.local/share/BackOffice/from-a-newer-version.db",
            "/usr/bin/backoffice-app",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the installed app on a newer database")?;
    let title = "BackOffice cannot open your data";
    let started = Instant::now();
    let seen = loop {
        let windows = Command::new("xwininfo").args(["-root", "-tree"]).output().context("running xwininfo")?;
        if String::from_utf8_lossy(&windows.stdout).contains(title) {
            break true;
        }
        if app.try_wait()?.is_some() || started.elapsed() > Duration::from_secs(60) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if seen {
        // What the user sees, for the record (ImageMagick's import reads the whole X screen).
        let shot = backoffice_e2e::harness::screenshot_dir().join("package-newer-database.png");
        let _ = Command::new("import").args(["-window", "root"]).arg(&shot).status();
    }
    let _ = app.kill();
    let out = app.wait_with_output()?;
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    if !seen {
        bail!("no window titled {title:?} appeared; the app said:\n{said}");
    }
    ensure!(said.contains("newer BackOffice"), "the app's own log does not say why: {said}");
    ensure!(std::fs::read(&newer)? == before, "the refused database was changed");
    std::fs::remove_file(&newer)?;
    Ok(())
}
