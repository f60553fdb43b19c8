//! The facade for E-mail: the SMTP settings and the test message.
//! Each method hands the narrow context to the feature that does the work.

use crate::error::CoreResult;
use crate::ops::email::EmailSettings;
use crate::Core;

impl Core {
    /// The e-mail settings, with whether a password is saved and the last failure.
    pub fn email_settings(&self) -> CoreResult<EmailSettings> {
        crate::ops::email::email_settings(&self.ctx)
    }

    /// Validates and saves the settings. `password`: `None` keeps the stored one, `Some("")` removes
    /// it, anything else replaces it (in the keychain only). A keychain failure saves nothing.
    pub fn save_email_settings(&self, input: &EmailSettings, password: Option<String>) -> CoreResult<EmailSettings> {
        crate::ops::email::save_email_settings(&self.ctx, input, password)
    }

    /// Sends a short test message in the user's language with the saved settings (even while e-mail
    /// notifications are off). The error says in plain words what went wrong, naming the server.
    pub async fn send_test_email(&self) -> CoreResult<()> {
        crate::ops::email::send_test_email(&self.ctx).await
    }

    /// Sends `n` by e-mail when e-mail notifications are on. Never fails: a failure is logged and
    /// kept as the last failure for Settings.
    pub async fn deliver_notice_email(&self, n: &crate::ops::notify::Notice) {
        crate::ops::email::deliver_notice_email(&self.ctx, n).await
    }

    /// Sends the daily summary `n` by e-mail when e-mail notifications are on: text and HTML with
    /// the largest divergences waiting for review, and all of them as a CSV attachment.
    pub async fn deliver_daily_summary_email(&self, n: &crate::ops::notify::Notice) {
        crate::ops::email::deliver_daily_summary_email(&self.ctx, n).await
    }
}
