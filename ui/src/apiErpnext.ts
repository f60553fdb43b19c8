// Typed wrappers for the ERPNext commands: the inter-company transfer (preview, start, runs and the
// operator controls), the idempotency field, the transfer's retry settings, and the sync of Purchase
// Orders, Purchase Receipts and Delivery Notes. Like api.ts, every function rejects with an ApiError.
// Pages import this module (tests mock it); nothing here calls `invoke` itself.
import { call } from './api';
import type { BrowsePage } from './bindings/BrowsePage';
import type { BrowseQuery } from './bindings/BrowseQuery';
import type { FieldStatus } from './bindings/FieldStatus';
import type { Job } from './bindings/Job';
import type { ResourceInfo } from './bindings/ResourceInfo';
import type { ResourceSummary } from './bindings/ResourceSummary';
import type { RunFilter } from './bindings/RunFilter';
import type { SyncOptions } from './bindings/SyncOptions';
import type { TransferInput } from './bindings/TransferInput';
import type { TransferPreview } from './bindings/TransferPreview';
import type { TransferRun } from './bindings/TransferRun';
import type { TransferRunDetail } from './bindings/TransferRunDetail';
import type { WorkflowSettings } from './bindings/WorkflowSettings';

/** The job kind that runs (and compensates) transfers. */
export const ERPNEXT_WORKFLOW_KIND = 'erpnext_workflow';
/** The job kind of a sync of one ERPNext site. */
export const ERPNEXT_SYNC_KIND = 'sync_erpnext';

/** Checks the form against both sites and returns the four documents; nothing is written. */
export const erpnextPreview = (input: TransferInput): Promise<TransferPreview> =>
  call<TransferPreview>('erpnext_preview', { input });

/** Validates and starts a transfer; `reason` is the optional note kept with the run. */
export const erpnextStart = (input: TransferInput, reason: string | null): Promise<TransferRun> =>
  call<TransferRun>('erpnext_start', { input, reason });

/** Newest first. */
export const erpnextRuns = (filter: RunFilter): Promise<TransferRun[]> => call<TransferRun[]>('erpnext_runs', { filter });

/** A run with its per-step timeline, every attempt and the operator's actions. */
export const erpnextRun = (id: string): Promise<TransferRunDetail> => call<TransferRunDetail>('erpnext_run', { id });

/** Continues a failed, cancelled or interrupted run at its first step not done. */
export const erpnextRetry = (id: string, reason: string): Promise<TransferRunDetail> =>
  call<TransferRunDetail>('erpnext_retry', { id, reason });

/** Stops a run; documents already created stay (compensate undoes them). */
export const erpnextCancel = (id: string, reason: string): Promise<TransferRunDetail> =>
  call<TransferRunDetail>('erpnext_cancel', { id, reason });

/** Cancels the run's submitted documents on the sites, last first. */
export const erpnextCompensate = (id: string, reason: string): Promise<TransferRunDetail> =>
  call<TransferRunDetail>('erpnext_compensate', { id, reason });

/** Whether a site has the idempotency field `custom_ext_ref`. */
export const erpnextFieldStatus = (connectionId: string): Promise<FieldStatus> =>
  call<FieldStatus>('erpnext_field_status', { connectionId });

/** Creates the idempotency field where it is missing (needs the System Manager role on the site). */
export const erpnextEnsureField = (connectionId: string): Promise<FieldStatus> =>
  call<FieldStatus>('erpnext_ensure_field', { connectionId });

export const erpnextSettings = (): Promise<WorkflowSettings> => call<WorkflowSettings>('erpnext_settings');
export const erpnextSaveSettings = (settings: WorkflowSettings): Promise<WorkflowSettings> =>
  call<WorkflowSettings>('erpnext_save_settings', { settings });

/** Starts a sync job and returns it at once; its progress arrives as job events. */
export const erpnextSync = (connectionId: string, options: SyncOptions): Promise<Job> =>
  call<Job>('sync_start', { connectionId, options });
export const erpnextResources = (): Promise<ResourceInfo[]> => call<ResourceInfo[]>('sync_resources', { kind: 'erpnext' });
export const erpnextSummary = (connectionId: string): Promise<ResourceSummary[]> =>
  call<ResourceSummary[]>('sync_summary', { connectionId });
export const erpnextBrowse = (query: BrowseQuery): Promise<BrowsePage> => call<BrowsePage>('sync_browse', { query });
/** The stored raw JSON of one document, exactly as the site sent it. */
export const erpnextRecord = (connectionId: string, resource: string, id: string): Promise<string> =>
  call<string>('sync_record', { connectionId, resource, id });
