//! The facade for Schedules: add, change, pause, run now, history.
//! Each method hands the narrow context to the feature that does the work.

use crate::error::CoreResult;
use crate::model::Job;
use crate::ops::scheduler::{Schedule, ScheduleInput, ScheduleRunRecord};
use crate::Core;

impl Core {
    pub fn list_schedules(&self) -> CoreResult<Vec<Schedule>> {
        crate::ops::scheduler::list_schedules(&self.ctx)
    }

    pub fn get_schedule(&self, id: &str) -> CoreResult<Schedule> {
        crate::ops::scheduler::get_schedule(&self.ctx, id)
    }

    /// A schedule by id, else by name (case-insensitive); an ambiguous name is refused with the ids.
    pub fn find_schedule(&self, id_or_name: &str) -> CoreResult<Schedule> {
        crate::ops::scheduler::find_schedule(&self.ctx, id_or_name)
    }

    pub fn add_schedule(&self, input: &ScheduleInput) -> CoreResult<Schedule> {
        crate::ops::scheduler::add_schedule(&self.ctx, input)
    }

    pub fn update_schedule(&self, id: &str, input: &ScheduleInput) -> CoreResult<Schedule> {
        crate::ops::scheduler::update_schedule(&self.ctx, id, input)
    }

    /// Removes a schedule and its run history (the jobs it started stay on the Jobs page).
    pub fn remove_schedule(&self, id: &str) -> CoreResult<()> {
        crate::ops::scheduler::remove_schedule(&self.ctx, id)
    }

    pub fn pause_schedule(&self, id: &str) -> CoreResult<Schedule> {
        crate::ops::scheduler::pause_schedule(&self.ctx, id)
    }

    pub fn resume_schedule(&self, id: &str) -> CoreResult<Schedule> {
        crate::ops::scheduler::resume_schedule(&self.ctx, id)
    }

    /// "Run now": starts the schedule's job at once and records it in the schedule's history.
    pub fn run_schedule_now(&self, id: &str) -> CoreResult<Job> {
        crate::ops::scheduler::run_schedule_now(&self.ctx, id)
    }

    /// Run records, newest first: of one schedule, or of all with `None`.
    pub fn schedule_history(&self, schedule_id: Option<&str>, limit: u32) -> CoreResult<Vec<ScheduleRunRecord>> {
        crate::ops::scheduler::schedule_history(&self.ctx, schedule_id, limit)
    }

    /// Whether "pause all schedules" is on (a database error reads as not paused).
    pub fn schedules_paused(&self) -> bool {
        crate::ops::scheduler::schedules_paused(&self.ctx)
    }

    /// Turns "pause all schedules" on or off. Turning it off does not make up what fell due meanwhile.
    pub fn set_schedules_paused(&self, paused: bool) -> CoreResult<()> {
        crate::ops::scheduler::set_schedules_paused(&self.ctx, paused)
    }

    /// Creates the default schedules of a connection once (see [`ensure_defaults_at`]); returns those created.
    pub fn ensure_default_schedules(&self, connection_id: &str) -> CoreResult<Vec<Schedule>> {
        crate::ops::scheduler::ensure_default_schedules(&self.ctx, connection_id)
    }

    /// One pass of the scheduler at `now`: starts what is due, records what it did.
    pub fn schedules_tick(&self, now: chrono::DateTime<chrono::Utc>) -> CoreResult<Vec<ScheduleRunRecord>> {
        crate::ops::scheduler::tick(&self.ctx, now)
    }

    /// The scheduler's loop (ticks until the process ends); the desktop app runs it in the background.
    pub async fn run_schedules(&self) {
        crate::ops::scheduler::run_loop(self.ctx.clone()).await
    }
}
