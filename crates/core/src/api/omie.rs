//! The facade for Omie: attachments (RF-001), purchase-order closing (RF-002), local clients, the key's status.
//! Each method hands the narrow context to the feature that does the work.

use serde_json::Value;

use crate::erp::omie::attachments::{
    OmieAttachmentMapEntry, OmieAttachmentSettings, OmieAttachmentTransfer, OmieTransferDetail, OmieTransferRequest,
    OmieUploadRequest,
};
use crate::erp::omie::client::OmieClient;
use crate::erp::omie::local_clients::OmieLocalClient;
use crate::erp::omie::po_close::{OmieCloseRequest, OmiePoCloseConfig, OmiePoClosure};
use crate::erp::omie::sync::OmieScanOptions;
use crate::erp::omie::{OmieKeyStatus, OmiePreviewItem};
use crate::error::CoreResult;
use crate::model::{Connection, Job};
use crate::Core;

impl Core {
    /// The stored closing configuration of a connection (defaults: nothing configured).
    pub fn omie_po_close_config(&self, connection_id: &str) -> CoreResult<OmiePoCloseConfig> {
        crate::erp::omie::po_close::omie_po_close_config(&self.ctx, connection_id)
    }

    pub fn save_omie_po_close_config(
        &self,
        connection_id: &str,
        cfg: &OmiePoCloseConfig,
    ) -> CoreResult<OmiePoCloseConfig> {
        crate::erp::omie::po_close::save_omie_po_close_config(&self.ctx, connection_id, cfg)
    }

    /// Closes one purchase order (`omie_po_close`). `config` overrides the stored settings (the CLI
    /// passes the environment's).
    pub fn start_omie_po_close(
        &self,
        connection_id: &str,
        req: OmieCloseRequest,
        config: Option<OmiePoCloseConfig>,
    ) -> CoreResult<Job> {
        crate::erp::omie::po_close::start_omie_po_close(&self.ctx, connection_id, req, config)
    }

    /// Closes the orders whose service invoice was posted on payables changed since the last run
    /// (`omie_po_close_scan`).
    pub fn start_omie_po_close_scan(
        &self,
        connection_id: &str,
        opts: OmieScanOptions,
        config: Option<OmiePoCloseConfig>,
    ) -> CoreResult<Job> {
        crate::erp::omie::po_close::start_omie_po_close_scan(&self.ctx, connection_id, opts, config)
    }

    /// Reprocesses failed closures that still have attempts left (`omie_po_close_retry`).
    pub fn start_omie_po_close_retry(&self, connection_id: &str, config: Option<OmiePoCloseConfig>) -> CoreResult<Job> {
        crate::erp::omie::po_close::start_omie_po_close_retry(&self.ctx, connection_id, config)
    }

    /// The closure log, newest first.
    pub fn omie_po_closures(
        &self,
        connection_id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> CoreResult<Vec<OmiePoClosure>> {
        crate::erp::omie::po_close::omie_po_closures(&self.ctx, connection_id, status, limit)
    }

    /// Starts an Omie scan by kind (`omie_attachment_scan`, `omie_po_close_scan`).
    pub fn start_omie_job(&self, kind: &str, connection_id: &str, params: Value) -> CoreResult<Job> {
        crate::erp::omie::sync::start_omie_job(&self.ctx, kind, connection_id, params)
    }

    /// The connection, checked to be an Omie one.
    pub fn omie_connection(&self, connection_id: &str) -> CoreResult<Connection> {
        crate::erp::omie::omie_connection(&self.ctx, connection_id)
    }

    /// A rate-safe client for the connection: blocks recorded earlier (by this or another process)
    /// are restored into the limiter, and a new block is recorded in the database.
    pub fn omie_client(&self, conn: &Connection) -> CoreResult<OmieClient> {
        crate::erp::omie::omie_client(&self.ctx, conn)
    }

    /// Whether the connection's app key is blocked by Omie, and until when.
    pub fn omie_key_status(&self, connection_id: &str) -> CoreResult<OmieKeyStatus> {
        crate::erp::omie::omie_key_status(&self.ctx, connection_id)
    }

    /// The dry-run preview lines a scan job recorded.
    pub fn omie_preview(&self, job_id: &str) -> CoreResult<Vec<OmiePreviewItem>> {
        crate::erp::omie::omie_preview(&self.ctx, job_id)
    }

    pub fn omie_attachment_settings(&self, connection_id: &str) -> CoreResult<OmieAttachmentSettings> {
        crate::erp::omie::attachments::omie_attachment_settings(&self.ctx, connection_id)
    }

    pub fn save_omie_attachment_settings(
        &self,
        connection_id: &str,
        s: &OmieAttachmentSettings,
    ) -> CoreResult<OmieAttachmentSettings> {
        crate::erp::omie::attachments::save_omie_attachment_settings(&self.ctx, connection_id, s)
    }

    /// Transfers the attachments of one record to another (`omie_attachment_transfer`).
    pub fn start_omie_attachment_transfer(&self, connection_id: &str, req: OmieTransferRequest) -> CoreResult<Job> {
        crate::erp::omie::attachments::start_omie_attachment_transfer(&self.ctx, connection_id, req)
    }

    /// Scans receipts changed since the last run and transfers what is missing (`omie_attachment_scan`).
    pub fn start_omie_attachment_scan(&self, connection_id: &str, opts: OmieScanOptions) -> CoreResult<Job> {
        crate::erp::omie::attachments::start_omie_attachment_scan(&self.ctx, connection_id, opts)
    }

    /// Reprocesses pending and failed transfers that still have attempts left (`omie_attachment_retry`).
    pub fn start_omie_attachment_retry(&self, connection_id: &str) -> CoreResult<Job> {
        crate::erp::omie::attachments::start_omie_attachment_retry(&self.ctx, connection_id)
    }

    /// The NF-e number of a receipt already synced into the local store, if any.
    pub fn omie_receipt_nf(&self, connection_id: &str, receipt_id: &str) -> Option<String> {
        crate::erp::omie::attachments::omie_receipt_nf(&self.ctx, connection_id, receipt_id)
    }

    /// Uploads a local file to a record (`omie_attachment_upload`).
    pub fn start_omie_attachment_upload(&self, connection_id: &str, req: OmieUploadRequest) -> CoreResult<Job> {
        crate::erp::omie::attachments::start_omie_attachment_upload(&self.ctx, connection_id, req)
    }

    /// The transfer log, newest first (`status`: one of pending, processing, succeeded, failed).
    pub fn omie_attachment_transfers(
        &self,
        connection_id: &str,
        status: Option<&str>,
        limit: u32,
    ) -> CoreResult<Vec<OmieAttachmentTransfer>> {
        crate::erp::omie::attachments::omie_attachment_transfers(&self.ctx, connection_id, status, limit)
    }

    pub fn omie_attachment_transfer_detail(&self, transfer_id: &str) -> CoreResult<OmieTransferDetail> {
        crate::erp::omie::attachments::omie_attachment_transfer_detail(&self.ctx, transfer_id)
    }

    /// The integration map: which origin went to which destination, with the NF number.
    pub fn omie_attachment_map(&self, connection_id: &str) -> CoreResult<Vec<OmieAttachmentMapEntry>> {
        crate::erp::omie::attachments::omie_attachment_map(&self.ctx, connection_id)
    }

    /// Local client records of an Omie connection.
    pub fn omie_local_clients(&self, connection_id: &str) -> CoreResult<Vec<OmieLocalClient>> {
        crate::erp::omie::local_clients::omie_local_clients(&self.ctx, connection_id)
    }

    /// Adds a local client (e.g. imported from another system) to be matched to Omie by its CNPJ/CPF.
    pub fn omie_add_local_client(
        &self,
        connection_id: &str,
        name: &str,
        document: &str,
    ) -> CoreResult<OmieLocalClient> {
        crate::erp::omie::local_clients::omie_add_local_client(&self.ctx, connection_id, name, document)
    }
}
