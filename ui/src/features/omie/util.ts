// Helpers of the Omie page: labels, error texts (omie.errors.<code> first, then the shared ones),
// money in BRL without losing a digit, CNPJ/CPF display.
import type { i18n as I18n } from 'i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import { jobKindLabel, translateError } from '../../errors';
import { formatDecimalString, intlLocale } from '../../format';
import { humanize } from '../sync';

export { isActiveJob } from '../sync';

export const ATTACHMENT_KINDS = [
  'omie_attachment_transfer',
  'omie_attachment_scan',
  'omie_attachment_retry',
  'omie_attachment_upload',
] as const;
export const ORDER_KINDS = ['omie_po_close', 'omie_po_close_scan', 'omie_po_close_retry'] as const;
/** Rows asked for per browse request. */
export const OMIE_PAGE_SIZE = 200;
/** Rows of the transfer and closure logs shown. */
export const LOG_LIMIT = 200;

/** Every Omie error code the core sends (crates/core/src/omie/error.rs). */
export const OMIE_ERROR_CODES = [
  'omie_key_blocked',
  'omie_must_wait',
  'omie_unknown_table',
  'omie_missing_input',
  'omie_record_not_found',
  'omie_attachment_too_large',
  'omie_link_expired',
  'omie_corrupt_zip',
  'omie_invalid_tax_id',
  'omie_po_close_not_configured',
  'omie_po_not_closed',
  'omie_po_not_found',
  'omie_bad_template',
  'omie_file',
] as const;

type I18nLike = I18n;

function labelOr(i18n: I18nLike, key: string, fallback: string): string {
  return i18n.exists(key) ? i18n.t(key) : fallback;
}

/** "conta-pagar" → "Accounts payable". */
export function tableLabel(i18n: I18nLike, table: string): string {
  return labelOr(i18n, `omie.tables.${table}`, table);
}

export function columnLabel(i18n: I18nLike, name: string): string {
  return labelOr(i18n, `omie.columns.${name}`, humanize(name));
}

export function omieJobKindLabel(i18n: I18nLike, kind: string): string {
  return labelOr(i18n, `omie.jobKinds.${kind}`, jobKindLabel(i18n, kind));
}

export function countLabel(i18n: I18nLike, name: string): string {
  return labelOr(i18n, `omie.counts.${name}`, humanize(name));
}

/** Whether a job was started as a dry run (its params carry `dry_run: true`). */
export function isDryRun(job: Job | null | undefined): boolean {
  const p = job?.params;
  return typeof p === 'object' && p !== null && (p as Record<string, unknown>).dry_run === true;
}

/** "14:05" in the user's locale and the computer's time zone. */
export function formatClock(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(intlLocale(locale), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

const MIB = 1024 * 1024;

/** Known "what" values of omie_missing_input, named in the user's language. */
const MISSING: Record<string, string> = {
  'origin id': 'originId',
  'destination id': 'destinationId',
  file: 'file',
  'order number': 'orderNumber',
};

/**
 * An error in the user's language: the Omie page's own texts for the omie_* codes (with their
 * params), the shared `errors.<code>` texts otherwise, the core's English message as a last resort.
 */
export function omieErrorText(i18n: I18nLike, err: ApiError): string {
  const key = `omie.errors.${err.code}`;
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.params ?? {})) if (typeof v === 'string') raw[k] = v;
  if (!i18n.exists(key)) {
    if (err.code === 'invalid_input' && raw.field && i18n.exists(`omie.fields.${raw.field}`)) {
      return translateError(i18n, { ...err, params: { ...raw, field: i18n.t(`omie.fields.${raw.field}`) } });
    }
    return translateError(i18n, err);
  }
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : null);
  const seconds = num(raw.seconds);
  const size = num(raw.size);
  const limit = num(raw.limit);
  const params: Record<string, string> = {
    connection: '',
    call: '',
    table: '',
    allowed: '',
    id: '',
    remote_message: err.message,
    name: '',
    attempts: '',
    detail: '',
    document: '',
    code: '',
    order: '',
    stage: '',
    status: '',
    status_value: '',
    path: '',
    ...raw,
    until: raw.until ? formatClock(raw.until, i18n.language) : '',
    minutes: seconds === null ? '' : String(Math.max(1, Math.ceil(seconds / 60))),
    seconds: seconds === null ? '' : String(seconds),
    sizeMb: size === null ? '' : String(Math.ceil(size / MIB)),
    limitMb: limit === null ? '' : String(Math.floor(limit / MIB)),
  };
  if (raw.table) params.table = tableLabel(i18n, raw.table);
  if (err.code === 'omie_missing_input') {
    const what = MISSING[raw.what ?? ''];
    if (!what) return err.message;
    params.what = i18n.t(`omie.missing.${what}`);
  }
  return i18n.t(key, params);
}

/** The error of a finished job in plain words. */
export function jobErrorText(i18n: I18nLike, job: Job): string {
  return job.error ? omieErrorText(i18n, job.error) : '';
}

/**
 * An exact decimal amount as Brazilian reais in the locale's style: "1234.5" → "R$ 1.234,50"
 * (pt-BR), "R$1,234.50" (en). The digits come from the text, never from a float.
 */
export function formatBrl(value: string, locale: string): string {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return value;
  const negative = m[1] === '-' && /[1-9]/.test(`${m[2]}${m[3] ?? ''}`);
  const body = formatDecimalString(`${m[2] || '0'}${m[3] ? `.${m[3]}` : ''}`, locale, 2);
  const parts = new Intl.NumberFormat(intlLocale(locale), { style: 'currency', currency: 'BRL' }).formatToParts(
    negative ? -1 : 1,
  );
  let out = '';
  let placed = false;
  for (const p of parts) {
    if (p.type === 'integer' || p.type === 'group' || p.type === 'decimal' || p.type === 'fraction') {
      if (!placed) out += body;
      placed = true;
    } else {
      out += p.value;
    }
  }
  return out;
}

/** A normalised CNPJ ("11222333000181") or CPF ("52998224725") with its usual punctuation. */
export function formatDocument(doc: string | null | undefined): string {
  if (!doc) return '';
  if (/^[0-9A-Z]{12}\d{2}$/.test(doc)) {
    return `${doc.slice(0, 2)}.${doc.slice(2, 5)}.${doc.slice(5, 8)}/${doc.slice(8, 12)}-${doc.slice(12)}`;
  }
  if (/^\d{11}$/.test(doc)) return `${doc.slice(0, 3)}.${doc.slice(3, 6)}.${doc.slice(6, 9)}-${doc.slice(9)}`;
  return doc;
}

/** "backup.tar.gz" from "C:\\docs\\backup.tar.gz" or "/home/ana/backup.tar.gz". */
export function fileNameOf(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}
