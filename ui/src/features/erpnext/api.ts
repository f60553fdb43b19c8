// Typed wrappers for the ERPNext commands: the inter-company transfer (preview, start, runs and the
// operator controls), the idempotency field and the transfer's retry settings. (The sync of Purchase
// Orders, Purchase Receipts and Delivery Notes uses the generic `sync*` commands of api/index.ts.) Like
// api/index.ts, every function rejects with an ApiError.
// Pages import this module (tests mock it); nothing here calls `invoke` itself.
import { call } from '../../api';
import type { FieldStatus } from '../../bindings/FieldStatus';
import type { RunFilter } from '../../bindings/RunFilter';
import type { TransferInput } from '../../bindings/TransferInput';
import type { TransferPreview } from '../../bindings/TransferPreview';
import type { TransferRun } from '../../bindings/TransferRun';
import type { TransferRunDetail } from '../../bindings/TransferRunDetail';
import type { WorkflowSettings } from '../../bindings/WorkflowSettings';

/** The job kind that runs (and compensates) transfers. */
export const ERPNEXT_WORKFLOW_KIND = 'erpnext_workflow';

/** Checks the form against both sites and returns the four documents; nothing is written. */
export const erpnextPreview = (input: TransferInput): Promise<TransferPreview> =>
  call('erpnext_preview', { input });

/** Validates and starts a transfer; `reason` is the optional note kept with the run. */
export const erpnextStart = (input: TransferInput, reason: string | null): Promise<TransferRun> =>
  call('erpnext_start', { input, reason });

/** Newest first. */
export const erpnextRuns = (filter: RunFilter): Promise<TransferRun[]> => call('erpnext_runs', { filter });

/** A run with its per-step timeline, every attempt and the operator's actions. */
export const erpnextRun = (id: string): Promise<TransferRunDetail> => call('erpnext_run', { id });

/** Continues a failed, cancelled or interrupted run at its first step not done. */
export const erpnextRetry = (id: string, reason: string): Promise<TransferRunDetail> =>
  call('erpnext_retry', { id, reason });

/** Stops a run; documents already created stay (compensate undoes them). */
export const erpnextCancel = (id: string, reason: string): Promise<TransferRunDetail> =>
  call('erpnext_cancel', { id, reason });

/** Cancels the run's submitted documents on the sites, last first. */
export const erpnextCompensate = (id: string, reason: string): Promise<TransferRunDetail> =>
  call('erpnext_compensate', { id, reason });

/** Whether a site has the idempotency field `custom_ext_ref`. */
export const erpnextFieldStatus = (connectionId: string): Promise<FieldStatus> =>
  call('erpnext_field_status', { connectionId });

/** Creates the idempotency field where it is missing (needs the System Manager role on the site). */
export const erpnextEnsureField = (connectionId: string): Promise<FieldStatus> =>
  call('erpnext_ensure_field', { connectionId });

export const erpnextSettings = (): Promise<WorkflowSettings> => call('erpnext_settings');
export const erpnextSaveSettings = (settings: WorkflowSettings): Promise<WorkflowSettings> =>
  call('erpnext_save_settings', { settings });
