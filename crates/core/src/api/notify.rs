//! The facade for Desktop notifications: settings, one notice per job, the daily summary, the tray's health.
//! Each method hands the narrow context to the feature that does the work.

use std::time::Instant;

use crate::error::CoreResult;
use crate::model::Job;
use crate::ops::notify::{Grouper, Notice, NotificationSettings};
use crate::Core;

impl Core {
    pub fn notification_settings(&self) -> CoreResult<NotificationSettings> {
        crate::ops::notify::notification_settings(&self.ctx)
    }

    pub fn save_notification_settings(&self, s: &NotificationSettings) -> CoreResult<NotificationSettings> {
        crate::ops::notify::save_notification_settings(&self.ctx, s)
    }

    /// Decides whether a finished job deserves a notification, and its text. Repeats of the same
    /// failure are grouped by `grouper`.
    pub fn notice_for_job(&self, job: &Job, grouper: &Grouper, now: Instant) -> Option<Notice> {
        crate::ops::notify::notice_for_job(&self.ctx, job, grouper, now)
    }

    /// True once every 24 h (the last time is kept in settings, so a restart does not repeat it).
    pub fn daily_summary_due(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        crate::ops::notify::daily_summary_due(&self.ctx, now)
    }

    /// The daily summary notification.
    pub fn daily_summary_notice(&self) -> CoreResult<Option<Notice>> {
        crate::ops::notify::daily_summary_notice(&self.ctx)
    }

    /// Tray health lines: last sync per connection and how long ago, failed jobs, items needing attention.
    pub fn tray_health(&self) -> CoreResult<Vec<String>> {
        crate::ops::notify::tray_health(&self.ctx)
    }
}
