// The ERPNext page's model: the transfer form (values, zod validation mirroring the core's local
// checks, building the TransferInput), the routes of the page, and small facts about runs and steps.
// Validation messages are i18n keys (`erpnext.validation.*`) with their parameters.
import type { i18n as I18n } from 'i18next';
import { z } from 'zod';

import type { FieldStatus } from '../../bindings/FieldStatus';
import type { RunStatus } from '../../bindings/RunStatus';
import type { StepStatus } from '../../bindings/StepStatus';
import type { TransferInput } from '../../bindings/TransferInput';
import type { TransferRun } from '../../bindings/TransferRun';
import type { TransferRunDetail } from '../../bindings/TransferRunDetail';
import { collectIssues, isIsoDate, issueParams, type FieldErrors, type KeyedMessage } from '../../components/form';
import { humanize } from '../sync';
import { formatDecimalString, parseDecimalInput } from '../../format';

// ---------- Routes ----------

export type ErpnextTab = 'new' | 'runs' | 'data' | 'history' | 'quarantine';
export const TABS: readonly ErpnextTab[] = ['new', 'runs', 'data', 'history', 'quarantine'];
/** The tabs of a site's synced documents (the shared sync feature). */
export const SYNC_TABS: readonly ErpnextTab[] = ['data', 'history', 'quarantine'];

/**
 * "#/erpnext" → new; "#/erpnext/runs" → runs; "#/erpnext/runs/<id>" → one run; "#/erpnext/data[/<resource>]",
 * "#/erpnext/history", "#/erpnext/quarantine[/<resource>]" → a site's synced documents.
 */
export function parseErpnextPath(path: readonly string[]): { tab: ErpnextTab; runId: string | null } {
  const first = path[0] ?? '';
  const tab = (TABS as readonly string[]).includes(first) ? (first as ErpnextTab) : 'new';
  return { tab, runId: tab === 'runs' ? (path[1] ?? null) : null };
}

// ---------- The form ----------

export interface ItemValues {
  /** Stable React key of the row. */
  key: number;
  itemCode: string;
  /** Whole units, as typed. */
  qty: string;
  /** Purchase rate as typed in the user's locale ("1.234,50" in pt-BR). */
  rate: string;
  /** Optional rate of the delivery A → B, as typed. */
  transferRate: string;
  /** One serial per line. */
  serials: string;
}

export interface TransferFormValues {
  siteA: string;
  siteB: string;
  supplier: string;
  companyA: string;
  /** Optional: empty means the company that owns warehouse B. */
  companyB: string;
  customerBOnA: string;
  supplierAOnB: string;
  warehouseA: string;
  warehouseB: string;
  /** yyyy-mm-dd from a date input; empty means today on site A. */
  postingDate: string;
  items: ItemValues[];
}

let nextKey = 1;

export function emptyItem(): ItemValues {
  return { key: nextKey++, itemCode: '', qty: '1', rate: '', transferRate: '', serials: '' };
}

export function emptyTransferForm(): TransferFormValues {
  return {
    siteA: '',
    siteB: '',
    supplier: '',
    companyA: '',
    companyB: '',
    customerBOnA: '',
    supplierAOnB: '',
    warehouseA: '',
    warehouseB: '',
    postingDate: '',
    items: [emptyItem()],
  };
}

/** The form field (TransferInput name) each text input stands for. */
export const TEXT_FIELDS = [
  ['supplier', 'supplier'],
  ['companyA', 'company_a'],
  ['customerBOnA', 'customer_b_on_a'],
  ['supplierAOnB', 'supplier_a_on_b'],
  ['warehouseA', 'warehouse_a'],
  ['warehouseB', 'warehouse_b'],
  ['companyB', 'company_b'],
] as const;

export type TextFieldKey = (typeof TEXT_FIELDS)[number][0];

/** Serials typed one per line: trimmed, blank lines left out. */
export function splitSerials(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Messages by field path: `supplier`, `items.0.serials` (the core's `items[0].serials` is normalised). */
export type TransferFieldErrors = FieldErrors<string, KeyedMessage>;

/** `items[2].rate` → `items.2.rate`. */
export function normalizeFieldPath(field: string): string {
  return field.replace(/\[(\d+)\]/g, '.$1');
}

const WHOLE = /^\d+$/;

function transferSchema(locale: string) {
  const required = (key: string) => z.string().trim().min(1, key);
  const item = z
    .object({
      itemCode: required('erpnext.validation.itemCodeRequired'),
      qty: z.string().trim(),
      rate: z.string().trim(),
      transferRate: z.string().trim(),
      serials: z.string(),
    })
    .superRefine((it, ctx) => {
      const qtyOk = WHOLE.test(it.qty) && Number(it.qty) >= 1;
      if (!qtyOk) ctx.addIssue({ code: 'custom', path: ['qty'], message: 'erpnext.validation.qtyWhole' });
      const rate = parseDecimalInput(it.rate, locale);
      if (it.rate === '') ctx.addIssue({ code: 'custom', path: ['rate'], message: 'erpnext.validation.rateRequired' });
      else if (rate === null) ctx.addIssue({ code: 'custom', path: ['rate'], message: 'erpnext.validation.rateInvalid' });
      else if (!/[1-9]/.test(rate) || rate.startsWith('-'))
        ctx.addIssue({ code: 'custom', path: ['rate'], message: 'erpnext.validation.ratePositive' });
      if (it.transferRate !== '') {
        const tr = parseDecimalInput(it.transferRate, locale);
        if (tr === null || !/[1-9]/.test(tr) || tr.startsWith('-'))
          ctx.addIssue({ code: 'custom', path: ['transferRate'], message: 'erpnext.validation.transferRateInvalid' });
      }
      const serials = splitSerials(it.serials);
      const withComma = serials.find((s) => s.includes(','));
      const seen = new Set<string>();
      const repeated = serials.find((s) => {
        const k = s.toLowerCase();
        if (seen.has(k)) return true;
        seen.add(k);
        return false;
      });
      if (withComma !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['serials'], message: 'erpnext.validation.serialComma', params: { serial: withComma } });
      } else if (repeated !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['serials'], message: 'erpnext.validation.serialRepeated', params: { serial: repeated } });
      } else if (qtyOk && serials.length !== Number(it.qty)) {
        ctx.addIssue({
          code: 'custom',
          path: ['serials'],
          message: 'erpnext.validation.serialCount',
          params: { count: serials.length, qty: Number(it.qty) },
        });
      }
    });

  return z
    .object({
      siteA: required('erpnext.validation.siteARequired'),
      siteB: required('erpnext.validation.siteBRequired'),
      supplier: required('erpnext.validation.supplierRequired'),
      companyA: required('erpnext.validation.companyARequired'),
      companyB: z.string().trim(),
      customerBOnA: required('erpnext.validation.customerRequired'),
      supplierAOnB: required('erpnext.validation.supplierBRequired'),
      warehouseA: required('erpnext.validation.warehouseARequired'),
      warehouseB: required('erpnext.validation.warehouseBRequired'),
      postingDate: z
        .string()
        .trim()
        // A real day as yyyy-mm-dd (the date field hands over the text typed while it is not one).
        .refine((d) => d === '' || isIsoDate(d), 'erpnext.validation.dateInvalid'),
      items: z.array(item).min(1, 'erpnext.validation.itemsRequired'),
    })
    .superRefine((v, ctx) => {
      if (v.siteA !== '' && v.siteA === v.siteB) {
        ctx.addIssue({ code: 'custom', path: ['siteB'], message: 'erpnext.validation.sameSite' });
      }
      // Across lines: an item once, a serial on one line only.
      const codes = new Map<string, number>();
      const owners = new Map<string, number>();
      v.items.forEach((it, n) => {
        const code = it.itemCode.toLowerCase();
        if (code !== '') {
          const first = codes.get(code);
          if (first !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['items', n, 'itemCode'],
              message: 'erpnext.validation.itemRepeated',
              params: { item: it.itemCode, line: first + 1 },
            });
          } else codes.set(code, n);
        }
        const mine = new Set<string>();
        for (const serial of splitSerials(it.serials)) {
          const k = serial.toLowerCase();
          if (mine.has(k)) continue;
          mine.add(k);
          const other = owners.get(k);
          if (other !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['items', n, 'serials'],
              message: 'erpnext.validation.serialOnTwoLines',
              params: { serial, line: other + 1 },
            });
          } else owners.set(k, n);
        }
      });
    });
}

/** Form keys → the TransferInput / core field names used in problems. */
const FIELD_NAME: Record<string, string> = {
  siteA: 'site_a',
  siteB: 'site_b',
  supplier: 'supplier',
  companyA: 'company_a',
  companyB: 'company_b',
  customerBOnA: 'customer_b_on_a',
  supplierAOnB: 'supplier_a_on_b',
  warehouseA: 'warehouse_a',
  warehouseB: 'warehouse_b',
  postingDate: 'posting_date',
  items: 'items',
  itemCode: 'item_code',
  qty: 'qty',
  rate: 'rate',
  transferRate: 'transfer_rate',
  serials: 'serials',
};

/** The TransferInput / core name of a form key (`warehouseA` → `warehouse_a`); other keys as they are. */
export function fieldName(key: string): string {
  return FIELD_NAME[key] ?? key;
}

function pathName(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? String(p) : fieldName(String(p)))).join('.');
}

export type TransferValidation = { ok: true; input: TransferInput } | { ok: false; errors: TransferFieldErrors };

/**
 * Validates the form (required names, whole quantities, rates as exact decimals in the user's
 * locale, serial count = qty, no repeated serial) and builds what `erpnext_preview` expects.
 */
export function validateTransferForm(values: TransferFormValues, locale: string): TransferValidation {
  const parsed = transferSchema(locale).safeParse(values);
  if (!parsed.success) {
    const errors = collectIssues<string, KeyedMessage>(parsed.error.issues, {
      field: pathName,
      message: (issue) => {
        const params = issueParams<KeyedMessage['params']>(issue);
        return params ? { key: issue.message, params } : { key: issue.message };
      },
    });
    return { ok: false, errors };
  }
  const v = parsed.data;
  const input: TransferInput = {
    site_a: v.siteA,
    site_b: v.siteB,
    supplier: v.supplier,
    company_a: v.companyA,
    company_b: v.companyB === '' ? null : v.companyB,
    customer_b_on_a: v.customerBOnA,
    supplier_a_on_b: v.supplierAOnB,
    warehouse_a: v.warehouseA,
    warehouse_b: v.warehouseB,
    items: v.items.map((it) => ({
      item_code: it.itemCode,
      qty: String(Number(it.qty)),
      rate: parseDecimalInput(it.rate, locale) ?? it.rate,
      transfer_rate: it.transferRate === '' ? null : (parseDecimalInput(it.transferRate, locale) ?? it.transferRate),
      serials: splitSerials(it.serials),
    })),
    posting_date: v.postingDate === '' ? null : v.postingDate,
    posting_time: null,
    schedule_date: null,
    buying_price_list: null,
    selling_price_list: null,
    currency: null,
  };
  return { ok: true, input };
}

/**
 * Writes a suggestion the preview returned into the form field it belongs to (`supplier`,
 * `items[0].item_code`...). Returns null when the field is not one the form has.
 */
export function applySuggestion(values: TransferFormValues, field: string, value: string): TransferFormValues | null {
  const path = normalizeFieldPath(field).split('.');
  if (path[0] === 'items' && path.length === 3) {
    const n = Number(path[1]);
    if (path[2] !== 'item_code' || !values.items[n]) return null;
    return { ...values, items: values.items.map((it, i) => (i === n ? { ...it, itemCode: value } : it)) };
  }
  const entry = TEXT_FIELDS.find(([, name]) => name === path[0]);
  if (!entry) return null;
  return { ...values, [entry[0]]: value };
}

// ---------- Runs and steps ----------

/** Step number → dictionary key of its name. */
export const STEP_KEYS: Record<number, 'po' | 'prA' | 'dnA' | 'prB'> = { 1: 'po', 2: 'prA', 3: 'dnA', 4: 'prB' };

/** A run's title in the user's language ("2 unidades de SKU-ROUTER-01 do fornecedor …: A → B"). */
export function runTitle(i18n: I18n, run: Pick<TransferRun, 'title' | 'summary'>): string {
  const { units, items, supplier, company_a, company_b } = run.title;
  if (!items.length) return run.summary;
  return i18n.t('erpnext.run.title', {
    count: Number(units),
    units: formatDecimalString(units, i18n.language),
    items: items.join(', '),
    supplier,
    a: company_a,
    b: company_b,
  });
}

export function stepName(i18n: I18n, step: number | null | undefined): string {
  const k = step == null ? undefined : STEP_KEYS[step];
  return k ? i18n.t(`erpnext.steps.${k}`) : '';
}

/** The desk address of a document: `<site>/app/<doctype-slug>/<name>`. */
export function deskUrl(baseUrl: string, doctype: string, name: string): string {
  const slug = doctype.toLowerCase().replace(/ /g, '-');
  return `${baseUrl.replace(/\/+$/, '')}/app/${slug}/${encodeURIComponent(name)}`;
}

/** Only plain web addresses are rendered as links (never `javascript:` or the like). */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

const ACTIVE: readonly RunStatus[] = ['pending', 'running', 'compensating'];

export function isActiveRun(status: RunStatus): boolean {
  return ACTIVE.includes(status);
}

export type OperatorKind = 'retry' | 'cancel' | 'compensate';

/**
 * Whether an operator control applies to the run now, mirroring the core's rules; null when it
 * does, otherwise the dictionary key of why not.
 */
export function blockedReason(kind: OperatorKind, d: TransferRunDetail): string | null {
  const s = d.run.status;
  const compensatedAny = d.steps.some((x) => x.status === 'compensated');
  switch (kind) {
    case 'retry':
      if (compensatedAny) return 'erpnext.run.whyNot.retryCompensated';
      return s === 'failed' || s === 'cancelled' ? null : 'erpnext.run.whyNot.retryStatus';
    case 'cancel':
      if (s === 'succeeded' || s === 'compensated') return 'erpnext.run.whyNot.cancelFinished';
      if (s === 'cancelled') return 'erpnext.run.whyNot.cancelCancelled';
      if (s === 'compensating') return 'erpnext.run.whyNot.cancelCompensating';
      return null;
    case 'compensate':
      if (s === 'compensated') return 'erpnext.run.whyNot.compensateDone';
      if (s === 'running' || s === 'compensating') return 'erpnext.run.whyNot.compensateRunning';
      return null;
  }
}

/** The DocTypes of a site that lack the idempotency field or have it without "unique". */
export function fieldGaps(st: FieldStatus | null | undefined): string[] {
  if (!st) return [];
  return [...st.missing, ...st.not_unique];
}

export const STEP_STATUSES: readonly StepStatus[] = ['pending', 'running', 'done', 'failed', 'compensated'];
export const RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  'failed',
  'succeeded',
  'cancelled',
  'compensating',
  'compensated',
  'compensation_failed',
];

/** A translation when the dictionary has it, otherwise the humanised name. */
export function labelOr(i18n: I18n, key: string, name: string): string {
  return i18n.exists(key) ? i18n.t(key) : humanize(name);
}
