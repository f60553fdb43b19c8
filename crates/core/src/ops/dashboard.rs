//! The first screen's figures: connections, jobs running, failed and succeeded in the last day.

use crate::error::CoreResult;
use crate::model::{DashboardSummary, JobFilter};
use crate::Ctx;

pub fn dashboard(cx: &Ctx) -> CoreResult<DashboardSummary> {
    let conns = cx.connections().list()?;
    let since = (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (running, failed, ok) = cx.jobs.counts_since(&since)?;
    Ok(DashboardSummary {
        connections: conns.len() as u32,
        connections_failing: conns.iter().filter(|c| c.last_test_ok == Some(false)).count() as u32,
        jobs_running: running,
        jobs_failed_24h: failed,
        jobs_succeeded_24h: ok,
        last_jobs: cx.jobs.list(&JobFilter { limit: Some(8), ..Default::default() })?,
    })
}
