//! End-to-end tests of BackOffice: they start the simulators in-process, the real app under
//! tauri-driver (WebKitWebDriver), and click through it like a user.
//!
//! Run them with `cargo xtask test`: they need Xvfb, a D-Bus session and an unlocked keyring,
//! and fail (never skip) without them.
//!
//! - [`webdriver`]: a small W3C WebDriver client.
//! - [`harness`]: launching the app with a throwaway DB and log dir, and cleaning up.
//! - [`ui`]: the data-testid selectors and the page actions built on them.
//! - [`scan`]: looking for secret bytes in files.
//! - [`bus`]: notifications and the tray menu as seen on the D-Bus session bus.
//! - [`team_db`]: a database of its own on the test cluster, for team mode.

pub mod bus;
pub mod harness;
pub mod scan;
pub mod team_db;
pub mod ui;
pub mod ui_erp;
pub mod webdriver;

pub use harness::{App, AppOptions, Desk};
pub use ui::{sel, NewConnection};

/// Starts the simulators with `cfg`.
pub async fn start_sim(cfg: backoffice_sim::SimConfig) -> anyhow::Result<backoffice_sim::SimHandle> {
    backoffice_sim::start(cfg).await
}
