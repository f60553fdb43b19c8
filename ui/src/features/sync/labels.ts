// Names the sync feature shows: each ERP's resources as its page names them (from that ERP's own
// dictionary), the ERP's name, and the job kind that syncs it.
import type { i18n as I18n } from 'i18next';

import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { JobKind } from '../../bindings/JobKind';

/** "numero_comprobante" → "Numero comprobante". */
export function humanize(name: string): string {
  const words = name.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Where each ERP's dictionary keeps the names of its resources. */
const RESOURCE_NAMES: Record<ConnectionKind, string> = {
  contifico: 'contifico.resources',
  omie: 'omie.resources',
  erpnext: 'erpnext.data.resources',
};

/** The translated name of a resource of an ERP (`contifico`/`personas` → "Customers and suppliers"). */
export function resourceLabel(i18n: I18n, kind: ConnectionKind, name: string): string {
  const key = `${RESOURCE_NAMES[kind]}.${name}`;
  return i18n.exists(key) ? i18n.t(key) : humanize(name);
}

/** `resourceLabel` for one ERP, in the `(i18n, name)` shape the record browser takes. */
export const resourceLabelOf =
  (kind: ConnectionKind) =>
  (i18n: I18n, name: string): string =>
    resourceLabel(i18n, kind, name);

/** "Contífico", "Omie", "ERPNext". */
export function erpName(i18n: I18n, kind: ConnectionKind): string {
  return i18n.t(`erp.${kind}`);
}

/** The job kind that syncs a connection of each ERP. */
export const SYNC_JOB_KIND: Record<ConnectionKind, JobKind> = {
  contifico: 'sync_contifico',
  omie: 'sync_omie',
  erpnext: 'sync_erpnext',
};
