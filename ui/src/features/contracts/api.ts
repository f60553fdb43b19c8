// Typed wrappers for the contracts and billing commands (one per command). They go through `call`
// from api/index.ts, so they reject with an ApiError like every other command; the page imports
// these, never `invoke`. Each is `async`, so a failure before the call (outside the desktop shell,
// or a test that mocks only the core api) still arrives as a rejected promise the page can show.
import { call } from '../../api';
import type { BillingSettings } from '../../bindings/BillingSettings';
import type { Contract } from '../../bindings/Contract';
import type { ContractChange } from '../../bindings/ContractChange';
import type { ContractInput } from '../../bindings/ContractInput';
import type { ImportPreview } from '../../bindings/ImportPreview';
import type { MonthFigure } from '../../bindings/MonthFigure';
import type { ReconcileQuery } from '../../bindings/ReconcileQuery';
import type { Reconciliation } from '../../bindings/Reconciliation';

// ---------- The contract book ----------

/** The contracts of one company (`null`: every company). */
export async function contracts(connection: string | null): Promise<Contract[]> {
  return call('contracts', { connection });
}

/** Creates (`input.id` null) or changes a contract; `input.reason` is kept in its history. */
export async function saveContract(input: ContractInput): Promise<Contract> {
  return call('save_contract', { input });
}

/** Deletes a contract; the reason is required and kept in its history. */
export async function deleteContract(id: string, reason: string): Promise<null> {
  return call('delete_contract', { id, reason });
}

/** The versions of a contract, newest first. */
export async function contractHistory(id: string): Promise<ContractChange[]> {
  return call('contract_history', { id });
}

// ---------- Spreadsheet import ----------

/** What importing the file would do, row by row (nothing is written). `content` is the file's bytes. */
export async function previewContractsImport(name: string, content: number[], connection: string | null): Promise<ImportPreview> {
  return call('preview_contracts_import', { name, content, connection });
}

/**
 * Imports the file in one transaction. With refused rows nothing is written unless `skipRefused`;
 * then the other rows are imported and the refused ones listed.
 */
export async function importContracts(name: string, content: number[], connection: string | null, skipRefused: boolean): Promise<ImportPreview> {
  return call('import_contracts', { name, content, connection, skipRefused });
}

// ---------- Settings ----------

export async function billingSettings(): Promise<BillingSettings> {
  return call('billing_settings');
}

export async function saveBillingSettings(settings: BillingSettings): Promise<BillingSettings> {
  return call('save_billing_settings', { settings });
}

// ---------- Reconciliation ----------

/** One month of one company: every client's contracted vs billed, with the titles behind it. */
export async function reconcileBilling(query: ReconcileQuery): Promise<Reconciliation> {
  return call('reconcile_billing', { query });
}

/** A client's last `months` months up to `to` (YYYY-MM). */
export async function billingStrip(connection: string | null, client: string, to: string | null, months: number): Promise<MonthFigure[]> {
  return call('billing_strip', { connection, client, to, months });
}

/** Saves the month's reconciliation as CSV or Excel in the Downloads folder; answers the file's full path. */
export async function exportReconciliation(query: ReconcileQuery, format: 'csv' | 'xlsx'): Promise<string> {
  return call('export_reconciliation', { query, format });
}
