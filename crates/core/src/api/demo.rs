//! The facade for demo mode (the shell owns the simulators; the core points connections at them).

use crate::error::CoreResult;
use crate::model::Connection;
use crate::ops::demo::{self, DemoConnection};
use crate::Core;

impl Core {
    /// Creates or repoints the demo connections (marked `is_demo`); prepares the ERPNext sites (the
    /// idempotency field, their time zones). A connection of the same name that is not a demo one is
    /// left alone.
    pub async fn setup_demo_connections(&self, wanted: Vec<DemoConnection>) -> CoreResult<Vec<Connection>> {
        demo::setup_demo_connections(&self.ctx, wanted).await
    }

    /// Fills a new demo: syncs the demo Omie company, imports its contract book (a spreadsheet the
    /// shell writes from the simulator) and runs the divergence rules over it.
    pub async fn populate_demo(&self, contracts: Option<&std::path::Path>) -> CoreResult<()> {
        demo::populate(&self.ctx, contracts).await
    }

    /// Whether demo connections exist (the shell then restarts their simulators at start-up).
    pub fn has_demo_connections(&self) -> CoreResult<bool> {
        demo::has_demo_connections(&self.ctx)
    }
}
