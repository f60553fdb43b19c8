//! The facade for the app itself: opening it, what it says about itself, its settings, the first
//! screen and the connection test.

use std::sync::Arc;

use crate::error::CoreResult;
use crate::model::{AppInfo, Job, Settings};
use crate::ops::dashboard::DashboardSummary;
use crate::ops::{dashboard, settings};
use crate::secrets::SecretStore;
use crate::{clock, erp, Core, Ctx, Paths};

impl Core {
    pub fn open(paths: Paths, secrets: Arc<dyn SecretStore>) -> CoreResult<Arc<Core>> {
        Core::open_with_clock(paths, secrets, clock::system())
    }

    /// [`Core::open`] with another clock (tests reproduce a given hour with it).
    pub fn open_with_clock(
        paths: Paths,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn clock::Clock>,
    ) -> CoreResult<Arc<Core>> {
        Ok(Arc::new(Core { ctx: Arc::new(Ctx::open(paths, secrets, clock)?) }))
    }

    /// What the window opens: the desk's file, or the team database its file says the desk works on
    /// (Settings → Team database → "Work on the team database"), with the desk's file kept for what
    /// stays with the desk. When the team database cannot be opened the desk's file is, and the
    /// reason comes back to be told to the user.
    pub fn open_for_window(
        paths: Paths,
        secrets: Arc<dyn SecretStore>,
    ) -> CoreResult<(Arc<Core>, Option<crate::CoreError>)> {
        let desk = Ctx::open(paths.clone(), secrets.clone(), clock::system())?;
        let url = match crate::ops::team::address_to_work_on(&desk.store, secrets.as_ref()) {
            Ok(None) => return Ok((Arc::new(Core { ctx: Arc::new(desk) }), None)),
            Ok(Some(url)) => url,
            Err(e) => return Ok((Arc::new(Core { ctx: Arc::new(desk) }), Some(e))),
        };
        match Ctx::open_team(paths, &url, secrets, clock::system()) {
            Ok(mut team) => {
                tracing::info!(team = %url.shown(), "working on the team database");
                // The desk's own jobs manager stops with it; the team's takes over.
                let Ctx { store, .. } = desk;
                team.desk = Some(store);
                Ok((Arc::new(Core { ctx: Arc::new(team) }), None))
            }
            Err(e) => {
                tracing::warn!(team = %url.shown(), error = %e, "the team database cannot be opened; working on this desk's file");
                Ok((Arc::new(Core { ctx: Arc::new(desk) }), Some(e)))
            }
        }
    }

    /// [`Core::open`] on a team database (see [`Ctx::open_team`]).
    pub fn open_team(
        paths: Paths,
        url: &crate::store::team::TeamUrl,
        secrets: Arc<dyn SecretStore>,
    ) -> CoreResult<Arc<Core>> {
        Ok(Arc::new(Core { ctx: Arc::new(Ctx::open_team(paths, url, secrets, clock::system())?) }))
    }

    /// The narrow context, for the scheduler loop and other long-lived tasks the shell starts.
    pub fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }

    pub fn app_info(&self) -> AppInfo {
        let (keychain_ok, keychain_error) = match self.secrets.check() {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            db_path: self.paths.db.display().to_string(),
            log_dir: self.paths.log_dir.display().to_string(),
            keychain_ok,
            keychain_error,
            // The shell, which owns the demo simulators, says whether they run.
            demo_running: false,
            locale: self.locale(),
            team_database: match self.store.backend() {
                crate::store::Backend::Postgres => self.store.shown_address(),
                crate::store::Backend::Sqlite => None,
            },
        }
    }

    pub fn settings(&self) -> CoreResult<Settings> {
        settings::settings(&self.ctx)
    }

    pub fn save_settings(&self, s: &Settings) -> CoreResult<Settings> {
        settings::save_settings(&self.ctx, s)
    }

    /// Settings first, then `BACKOFFICE_LOCALE`, then the OS locale; one of `en`, `es`, `pt-BR`.
    pub fn locale(&self) -> String {
        settings::locale(&self.ctx)
    }

    /// True the first time it is asked for `key` (kept in settings), then false forever.
    pub fn first_time(&self, key: &str) -> bool {
        settings::first_time(&self.ctx, key)
    }

    pub fn dashboard(&self) -> CoreResult<DashboardSummary> {
        dashboard::dashboard(&self.ctx)
    }

    /// Starts a "test connection" job: one cheap real call, result kept on the connection.
    pub fn start_test_connection(&self, id: &str) -> CoreResult<Job> {
        erp::start_test_connection(&self.ctx, id)
    }
}
