//! The facade for Settings → Team database. Each method hands the narrow context to the feature.

use crate::error::CoreResult;
use crate::model::Job;
use crate::ops::team::{TeamDbCheck, TeamDbSettings};
use crate::Core;

impl Core {
    /// Where the team database is (never the password), and whether a password is saved.
    pub fn team_settings(&self) -> CoreResult<TeamDbSettings> {
        crate::ops::team::team_settings(&self.ctx)
    }

    /// Validates and saves. `password`: `None` keeps the stored one, `Some("")` removes it, anything
    /// else replaces it (in the keychain only).
    pub fn save_team_settings(&self, input: &TeamDbSettings, password: Option<String>) -> CoreResult<TeamDbSettings> {
        crate::ops::team::save_team_settings(&self.ctx, input, password)
    }

    /// Connects with the saved settings and says what the team database holds.
    pub async fn check_team_database(&self) -> CoreResult<TeamDbCheck> {
        crate::ops::team::check_team_database(&self.ctx).await
    }

    /// Makes this desk work on the team database (`on`) or on its own file, from the next start.
    pub async fn set_team_mode(&self, on: bool) -> CoreResult<TeamDbSettings> {
        crate::ops::team::set_team_mode(&self.ctx, on).await
    }

    /// Starts the job that copies this desk's data into the team database.
    pub fn start_team_copy(&self) -> CoreResult<Job> {
        crate::ops::team::start_copy_to_team(&self.ctx)
    }
}
