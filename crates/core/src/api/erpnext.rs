//! The facade for ERPNext: inter-company transfers between two sites, their runs and the custom field.
//! Each method hands the narrow context to the feature that does the work.

use crate::erp::erpnext::client::ErpnextClient;
use crate::erp::erpnext::runs::{RunFilter, TransferRun, TransferRunDetail};
use crate::erp::erpnext::site_time::SiteZone;
use crate::erp::erpnext::{engine, FieldStatus, TransferInput, TransferPreview, WorkflowSettings};
use crate::error::CoreResult;
use crate::model::{Connection, Job};
use crate::Core;

impl Core {
    /// Asks the site which zone it keeps and stores the answer on the connection. When the site
    /// will not say (an old or locked-down site, no network), the connection's zone stands in,
    /// with a note naming it.
    pub async fn erpnext_site_zone(&self, conn: &Connection, client: &ErpnextClient) -> SiteZone {
        crate::erp::erpnext::site_time::erpnext_site_zone(&self.ctx, conn, client).await
    }

    /// [`Core::erpnext_site_zone`] with the connection's own client (credentials from the keychain);
    /// without credentials, the connection's stored zone.
    pub async fn erpnext_zone_of(&self, conn: &Connection) -> CoreResult<SiteZone> {
        crate::erp::erpnext::site_time::erpnext_zone_of(&self.ctx, conn).await
    }

    /// Checks the form (locally, then against both sites) and shows the four documents. Nothing
    /// is written anywhere.
    pub async fn erpnext_preview(&self, form: &TransferInput) -> CoreResult<TransferPreview> {
        crate::erp::erpnext::api::erpnext_preview(&self.ctx, form).await
    }

    /// Validates the form and starts the transfer as an `erpnext_workflow` job. A transfer of a site A
    /// that is already busy with another one is queued behind it.
    pub async fn erpnext_start(&self, form: &TransferInput, reason: Option<&str>) -> CoreResult<TransferRun> {
        crate::erp::erpnext::api::erpnext_start(&self.ctx, form, reason).await
    }

    /// Validates the form and stores the run, queued, without starting a job: the next worker of
    /// its site A (or [`Core::erpnext_resume_interrupted`]) runs it.
    pub async fn erpnext_create(&self, form: &TransferInput, reason: Option<&str>) -> CoreResult<TransferRun> {
        crate::erp::erpnext::api::erpnext_create(&self.ctx, form, reason).await
    }

    pub fn erpnext_runs(&self, filter: &RunFilter) -> CoreResult<Vec<TransferRun>> {
        crate::erp::erpnext::api::erpnext_runs(&self.ctx, filter)
    }

    /// One run with its steps, every attempt and the operator's actions. `id` may be a unique prefix.
    pub fn erpnext_run(&self, id: &str) -> CoreResult<TransferRunDetail> {
        crate::erp::erpnext::api::erpnext_run(&self.ctx, id)
    }

    /// Operator: continue a failed (or cancelled, or interrupted) run at its first step not done.
    pub fn erpnext_retry(&self, id: &str, reason: &str) -> CoreResult<TransferRunDetail> {
        crate::erp::erpnext::api::erpnext_retry(&self.ctx, id, reason)
    }

    /// Operator: stop a run. A running one stops at its next safe point (never between sending a
    /// document and recording it); documents already created stay (compensate undoes them).
    pub async fn erpnext_cancel(&self, id: &str, reason: &str) -> CoreResult<TransferRunDetail> {
        crate::erp::erpnext::api::erpnext_cancel(&self.ctx, id, reason).await
    }

    /// Operator: cancel the run's submitted documents through the API, last first, as a job.
    pub fn erpnext_compensate(&self, id: &str, reason: &str) -> CoreResult<TransferRunDetail> {
        crate::erp::erpnext::api::erpnext_compensate(&self.ctx, id, reason)
    }

    /// At start-up (and on demand): runs that were in progress or queued when BackOffice (or the
    /// CLI) stopped continue where they were. Returns the ids resumed.
    pub fn erpnext_resume_interrupted(&self) -> CoreResult<Vec<String>> {
        crate::erp::erpnext::api::erpnext_resume_interrupted(&self.ctx)
    }

    /// Whether a connection's site has the idempotency field (on Purchase Order, Purchase Receipt
    /// and Delivery Note), with the explanation the UI shows next to the offer to create it.
    pub async fn erpnext_field_status(&self, connection_id: &str) -> CoreResult<FieldStatus> {
        crate::erp::erpnext::api::erpnext_field_status(&self.ctx, connection_id).await
    }

    /// Creates the idempotency field where it is missing (`POST /api/resource/Custom Field`).
    pub async fn erpnext_ensure_field(&self, connection_id: &str) -> CoreResult<FieldStatus> {
        crate::erp::erpnext::api::erpnext_ensure_field(&self.ctx, connection_id).await
    }

    pub fn erpnext_settings(&self) -> CoreResult<WorkflowSettings> {
        crate::erp::erpnext::api::erpnext_settings(&self.ctx)
    }

    pub fn save_erpnext_settings(&self, s: &WorkflowSettings) -> CoreResult<WorkflowSettings> {
        crate::erp::erpnext::api::save_erpnext_settings(&self.ctx, s)
    }

    /// `Core::start_job("erpnext_workflow", _, {"run_id": ID, "reason": TEXT?})`: runs or resumes a
    /// queued or interrupted transfer; with a reason, also retries a failed or cancelled one.
    /// Returns the worker job of the run's site A (the active one if it is already working).
    pub fn start_erpnext_workflow_job(&self, params: serde_json::Value) -> CoreResult<Job> {
        crate::erp::erpnext::api::start_erpnext_workflow_job(&self.ctx, params)
    }

    /// Drives one run in this task, without a job (tests use it to stop a run mid-step).
    pub async fn erpnext_drive_now(&self, id: &str) -> CoreResult<engine::Outcome> {
        crate::erp::erpnext::api::erpnext_drive_now(&self.ctx, id).await
    }
}
