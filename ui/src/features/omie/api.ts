// Typed wrappers for the Omie commands (one per command). They go through `call` from api/index.ts, so
// they reject with an ApiError like every other command; pages import these, never `invoke`.
// Omie's synced data uses the generic `sync*` commands of api/index.ts.
import { call } from '../../api';
import type { Job } from '../../bindings/Job';
import type { OmieAttachmentMapEntry } from '../../bindings/OmieAttachmentMapEntry';
import type { OmieAttachmentSettings } from '../../bindings/OmieAttachmentSettings';
import type { OmieAttachmentTransfer } from '../../bindings/OmieAttachmentTransfer';
import type { OmieCloseRequest } from '../../bindings/OmieCloseRequest';
import type { OmieKeyStatus } from '../../bindings/OmieKeyStatus';
import type { OmieLocalClient } from '../../bindings/OmieLocalClient';
import type { OmiePoCloseConfig } from '../../bindings/OmiePoCloseConfig';
import type { OmiePoClosure } from '../../bindings/OmiePoClosure';
import type { OmiePreviewItem } from '../../bindings/OmiePreviewItem';
import type { OmieScanOptions } from '../../bindings/OmieScanOptions';
import type { OmieTransferDetail } from '../../bindings/OmieTransferDetail';
import type { OmieTransferRequest } from '../../bindings/OmieTransferRequest';
import type { OmieUploadRequest } from '../../bindings/OmieUploadRequest';

// ---------- Key status and local clients ----------

export const omieKeyStatus = (connectionId: string): Promise<OmieKeyStatus> =>
  call('omie_key_status', { connectionId });
export const omieLocalClients = (connectionId: string): Promise<OmieLocalClient[]> =>
  call('omie_local_clients', { connectionId });

// ---------- RF-001: attachments ----------

export const omieAttachmentSettings = (connectionId: string): Promise<OmieAttachmentSettings> =>
  call('omie_attachment_settings', { connectionId });
export const omieSaveAttachmentSettings = (
  connectionId: string,
  settings: OmieAttachmentSettings,
): Promise<OmieAttachmentSettings> => call('omie_save_attachment_settings', { connectionId, settings });
/** Starts an `omie_attachment_transfer` job (one origin record → one destination record). */
export const omieTransferAttachments = (connectionId: string, request: OmieTransferRequest): Promise<Job> =>
  call('omie_transfer_attachments', { connectionId, request });
/** Starts an `omie_attachment_scan` job; with `dry_run` its preview is read with `omiePreview`. */
export const omieAttachmentScan = (connectionId: string, options: OmieScanOptions): Promise<Job> =>
  call('omie_attachment_scan', { connectionId, options });
/** Starts an `omie_attachment_retry` job (pending and failed transfers with attempts left). */
export const omieRetryAttachments = (connectionId: string): Promise<Job> =>
  call('omie_retry_attachments', { connectionId });
/** Starts an `omie_attachment_upload` job. The core reads the file from `request.file_path`. */
export const omieUploadAttachment = (connectionId: string, request: OmieUploadRequest): Promise<Job> =>
  call('omie_upload_attachment', { connectionId, request });
/** The transfer log, newest first; `status` null = every status. */
export const omieAttachmentTransfers = (
  connectionId: string,
  status: string | null,
  limit: number | null,
): Promise<OmieAttachmentTransfer[]> =>
  call('omie_attachment_transfers', { connectionId, status, limit });
export const omieAttachmentTransferDetail = (transferId: string): Promise<OmieTransferDetail> =>
  call('omie_attachment_transfer_detail', { transferId });
export const omieAttachmentMap = (connectionId: string): Promise<OmieAttachmentMapEntry[]> =>
  call('omie_attachment_map', { connectionId });

// ---------- RF-002: purchase orders ----------

export const omiePoCloseConfig = (connectionId: string): Promise<OmiePoCloseConfig> =>
  call('omie_po_close_config', { connectionId });
export const omieSavePoCloseConfig = (connectionId: string, config: OmiePoCloseConfig): Promise<OmiePoCloseConfig> =>
  call('omie_save_po_close_config', { connectionId, config });
/** Starts an `omie_po_close` job for one order. */
export const omieClosePurchaseOrder = (connectionId: string, request: OmieCloseRequest): Promise<Job> =>
  call('omie_close_purchase_order', { connectionId, request });
/** Starts an `omie_po_close_scan` job. */
export const omiePoCloseScan = (connectionId: string, options: OmieScanOptions): Promise<Job> =>
  call('omie_po_close_scan', { connectionId, options });
/** Starts an `omie_po_close_retry` job (failed closures with attempts left). */
export const omieRetryPoClosures = (connectionId: string): Promise<Job> =>
  call('omie_retry_po_closures', { connectionId });
export const omiePoClosures = (connectionId: string, status: string | null, limit: number | null): Promise<OmiePoClosure[]> =>
  call('omie_po_closures', { connectionId, status, limit });

/** The lines a dry-run job (scan, transfer or close) recorded. */
export const omiePreview = (jobId: string): Promise<OmiePreviewItem[]> => call('omie_preview', { jobId });
