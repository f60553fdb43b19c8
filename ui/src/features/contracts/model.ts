// Contracts and billing without React: verdicts and their looks, months ("novembro de 2026"),
// documents (CNPJ/CPF), the probable explanations and the import problems in the user's language,
// the core's refusals in the user's language, and the checks of the contract and settings forms.
import type { i18n as I18n } from 'i18next';
import { z } from 'zod';

import type { ApiError } from '../../bindings/ApiError';
import type { BillingSettings } from '../../bindings/BillingSettings';
import type { Connection } from '../../bindings/Connection';
import type { Contract } from '../../bindings/Contract';
import type { ContractInput } from '../../bindings/ContractInput';
import type { ContractProblem } from '../../bindings/ContractProblem';
import type { Explanation } from '../../bindings/Explanation';
import type { ReconcileQuery } from '../../bindings/ReconcileQuery';
import { collectIssues, isIsoDate, type FieldErrors } from '../../components/form';
import type { IconName } from '../../components/Icon';
import { formatDateOnly, formatDecimalString, intlLocale, parseDecimalInput } from '../../format';
import { formatAmount, plural } from '../divergences/model';

// ---------- Verdicts ----------

/** Every verdict of a client-month, in the order the filter chips show them. */
export const VERDICTS = ['below', 'above', 'no_billing', 'no_contract', 'pending', 'within'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Colour (a badge tone of styles.css / divergences.css) and icon of each verdict; the words come from the dictionary. */
export const VERDICT_LOOK: Record<Verdict, [tone: string, icon: IconName]> = {
  within: ['succeeded', 'check'],
  above: ['open', 'alert'],
  below: ['failed', 'alert'],
  no_billing: ['failed', 'close'],
  no_contract: ['running', 'info'],
  pending: ['queued', 'clock'],
};

export function isVerdict(v: string): v is Verdict {
  return (VERDICTS as readonly string[]).includes(v);
}

/** A month that needs a look: out of tolerance, billed without a contract, or a contract not billed. */
export function isDivergent(verdict: string): boolean {
  return verdict !== '' && verdict !== 'within' && verdict !== 'pending';
}

/** The rule of the divergences that "billing vs contract" finds. */
export const BILLING_RULE_ID = 'billing_vs_contract';

/** Connections whose billing is reconciled: Omie and Contífico companies. */
export function billingConnections(all: readonly Connection[]): Connection[] {
  return all.filter((c) => c.kind === 'omie' || c.kind === 'contifico');
}

/** The currency a company bills in (Omie: BRL, Contífico: USD). */
export function currencyOf(c: Pick<Connection, 'kind'> | null | undefined): string {
  return c?.kind === 'contifico' ? 'USD' : 'BRL';
}

// ---------- Words ----------

function labelOr(i18n: I18n, key: string, fallback: string): string {
  return i18n.exists(key) ? i18n.t(key) : fallback;
}

const humanize = (s: string) => {
  const w = s.replace(/_/g, ' ').trim();
  return w.charAt(0).toUpperCase() + w.slice(1);
};

export const verdictLabel = (i18n: I18n, v: string) => labelOr(i18n, `contracts.verdict.${v}`, humanize(v));
export const contractStatusLabel = (i18n: I18n, s: string) => labelOr(i18n, `contracts.status.${s}`, humanize(s));
export const countedLabel = (i18n: I18n, c: string) => labelOr(i18n, `contracts.detail.counted.${c}`, humanize(c));
export const importActionLabel = (i18n: I18n, a: string) => labelOr(i18n, `contracts.import.action.${a}`, humanize(a));
export const contractFieldLabel = (i18n: I18n, f: string) => labelOr(i18n, `contracts.fields.${f}`, f);

// ---------- Money and numbers ----------

/** An exact decimal as money in the locale's style ("R$ 1.234,56", "US$ 1.234,56" in pt-BR). */
export function money(value: string | null | undefined, lng: string, currency: string | null | undefined): string {
  return formatAmount(value, lng, currency || 'BRL');
}

/**
 * Reads an amount the way people write it in a spreadsheet (`1234.56`, `1.234,56`, `R$ 1.234,56`,
 * `$1,234.56`) into an exact decimal ("1234.56"), as the core reads it; null when it is not one.
 * With both separators, the last one is the decimal separator; a lone comma is a decimal comma.
 */
export function parsePeopleAmount(s: string): string | null {
  const t = s.replace(/[^\d,.-]/g, '');
  if (t === '' || t === '-') return null;
  const c = t.lastIndexOf(',');
  const d = t.lastIndexOf('.');
  let norm: string;
  if (c >= 0 && d >= 0) norm = c > d ? t.replace(/\./g, '').replace(',', '.') : t.replace(/,/g, '');
  else if (c >= 0) {
    if (t.split(',').length > 2) return null;
    norm = t.replace(',', '.');
  } else norm = t;
  return /^-?\d*(\.\d+)?$/.test(norm) && /\d/.test(norm) ? norm : null;
}

/** A percent as typed by the core ("4.5") in the locale's style: "4,5%". */
export function percentText(value: string, lng: string): string {
  return `${formatDecimalString(value, lng)}%`;
}

// ---------- Months ----------

const MONTH_RE = /^(\d{4})-(\d{2})$/;

export function isMonth(s: string | null | undefined): s is string {
  const m = MONTH_RE.exec(s ?? '');
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The month of a date on this computer, YYYY-MM. */
export function currentMonth(now: Date = new Date()): string {
  return `${now.getFullYear()}-${pad2(now.getMonth() + 1)}`;
}

/** `month` moved by `n` months (negative: back). */
export function shiftMonth(month: string, n: number): string {
  const m = MONTH_RE.exec(month);
  if (!m) return month;
  const idx = Number(m[1]) * 12 + Number(m[2]) - 1 + n;
  return `${Math.floor(idx / 12)}-${pad2((idx % 12) + 1)}`;
}

function monthDate(month: string): Date | null {
  const m = MONTH_RE.exec(month);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) : null;
}

/** "novembro de 2026" (pt-BR), "noviembre de 2026" (es), "November 2026" (en). */
export function monthLabel(month: string, lng: string): string {
  const d = monthDate(month);
  if (!d) return month;
  return new Intl.DateTimeFormat(intlLocale(lng), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
}

/** "nov." / "Nov": the month under a bar of the 12-month strip. */
export function monthShort(month: string, lng: string): string {
  const d = monthDate(month);
  if (!d) return month;
  return new Intl.DateTimeFormat(intlLocale(lng), { month: 'short', timeZone: 'UTC' }).format(d);
}

/** The name of month 1–12 in the locale: "março", "marzo", "March". */
export function monthName(n: number, lng: string): string {
  if (!Number.isInteger(n) || n < 1 || n > 12) return String(n);
  return new Intl.DateTimeFormat(intlLocale(lng), { month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2026, n - 1, 1)));
}

/** The months the month picker offers: two years back to a year ahead of today, and `selected`. */
export function monthOptions(selected: string, today: string = currentMonth()): string[] {
  const out: string[] = [];
  for (let i = -24; i <= 12; i++) out.push(shiftMonth(today, i));
  if (!out.includes(selected) && isMonth(selected)) {
    out.push(selected);
    out.sort();
  }
  return out.reverse();
}

// ---------- Documents ----------

/** A CNPJ (00.000.000/0000-00) or CPF (000.000.000-00) with its punctuation; anything else as it is. */
export function documentText(raw: string | null | undefined): string {
  const s = (raw ?? '').trim();
  const digits = s.replace(/\D/g, '');
  if (digits.length === 14 && /^[\d./-]+$/.test(s)) {
    return `${digits.slice(0, 2)}.${digits.slice(2, 5)}.${digits.slice(5, 8)}/${digits.slice(8, 12)}-${digits.slice(12)}`;
  }
  if (digits.length === 11 && /^[\d.-]+$/.test(s)) {
    return `${digits.slice(0, 3)}.${digits.slice(3, 6)}.${digits.slice(6, 9)}-${digits.slice(9)}`;
  }
  return s;
}

// ---------- Probable explanations ----------

/** Explanation keys whose sentence follows a count (`_one` / `_other` in the dictionaries). */
const COUNTED = new Set(['cancelled_title', 'excluded_status', 'partial_payment']);

/**
 * A probable explanation as a sentence in the user's language (`contracts.explain.<key>`), its
 * amounts as money in `currency` and its months by name. An unknown key says so plainly.
 */
export function explanationText(i18n: I18n, e: Explanation, currency: string | null | undefined): string {
  const text = explanationWords(i18n, e, currency);
  // A sentence that starts with a month ("outubro de 2026 mostra…") starts with a capital.
  return text.charAt(0).toLocaleUpperCase(intlLocale(i18n.language)) + text.slice(1);
}

function explanationWords(i18n: I18n, e: Explanation, currency: string | null | undefined): string {
  const lng = i18n.language;
  const p = e.params ?? {};
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'string') params[k] = v;
  if (params.amount !== undefined) params.amount = money(params.amount, lng, currency);
  if (params.month !== undefined) params.month = monthLabel(params.month, lng);
  if (e.key === 'cancelled_title') {
    params.closes = i18n.t(params.closes === 'true' ? 'contracts.explain.closesYes' : 'contracts.explain.closesNo');
  }
  for (const k of ['days', 'days_in_month'] as const) {
    if (params[k] !== undefined && /^\d+$/.test(params[k])) params[k] = new Intl.NumberFormat(intlLocale(lng)).format(Number(params[k]));
  }
  const key = `contracts.explain.${e.key}`;
  if (COUNTED.has(e.key) && i18n.exists(`${key}_one`)) {
    const { count, ...rest } = params;
    return plural(i18n, key, Number(count ?? '0') || 0, rest);
  }
  if (i18n.exists(key)) return i18n.t(key, params);
  return i18n.t('contracts.explain.unknown', { key: e.key });
}

/** The explanation's short name (for a history line): "Título cancelado". */
export function explanationName(i18n: I18n, key: string): string {
  return labelOr(i18n, `contracts.explainName.${key}`, humanize(key));
}

/** The explanations a divergence carries in `facts.explanations` (a JSON array of {key, params}). */
export function parseExplanations(text: string | null | undefined): Explanation[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v)) return [];
    const out: Explanation[] = [];
    for (const item of v) {
      if (typeof item !== 'object' || item === null) continue;
      const key = (item as { key?: unknown }).key;
      const raw = (item as { params?: unknown }).params;
      if (typeof key !== 'string') continue;
      const params: Record<string, string> = {};
      if (typeof raw === 'object' && raw !== null) {
        for (const [k, val] of Object.entries(raw as Record<string, unknown>)) {
          if (typeof val === 'string') params[k] = val;
          else if (typeof val === 'number' || typeof val === 'boolean') params[k] = String(val);
        }
      }
      out.push({ key, params });
    }
    return out;
  } catch {
    return [];
  }
}

/** An "explanation_accepted" history note ("cancelled_title: the reason") in words. */
export function acceptedNote(i18n: I18n, note: string): string {
  const m = /^([a-z_]+): ([\s\S]*)$/.exec(note);
  if (!m || !i18n.exists(`contracts.explainName.${m[1]}`)) return note;
  return `${explanationName(i18n, m[1]!)} — ${m[2]}`;
}

// ---------- Import problems ----------

/** A refused row's problem as a sentence (`contracts.problem.<key>`); its English message when the key is unknown. */
export function problemText(i18n: I18n, p: ContractProblem): string {
  const key = `contracts.problem.${p.key}`;
  if (!p.key || !i18n.exists(key)) return p.message;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.params ?? {})) if (typeof v === 'string') params[k] = v;
  return i18n.t(key, params);
}

// ---------- Readjustment ----------

/** "IGP-M 8% em março"; "8% em março" without an index; null without a readjustment. */
export function readjustText(i18n: I18n, c: Pick<Contract, 'readjust_index' | 'readjust_month' | 'readjust_percent'>): string | null {
  if (!c.readjust_percent && !c.readjust_month) return null;
  const lng = i18n.language;
  const month = c.readjust_month ? monthName(c.readjust_month, lng) : '—';
  const percent = c.readjust_percent ? percentText(c.readjust_percent, lng) : '—';
  const index = c.readjust_index?.trim();
  return index
    ? i18n.t('contracts.readjust.text', { index, percent, month })
    : i18n.t('contracts.readjust.noIndex', { percent, month });
}

// ---------- The core's refusals ----------

type Said = { key: string; params?: Record<string, string> };

/** The core's English reasons (contracts, imports, settings) → dictionary keys. */
const REASONS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => Said]> = [
  [/^give the client's CNPJ\/CPF \(or RUC\), or its code in the ERP$/, () => ({ key: 'contracts.problem.client_missing' })],
  [/^"(.*)" is not a valid CNPJ or CPF/, (m) => ({ key: 'contracts.problem.client_document_invalid', params: { client: m[1]! } })],
  [/^no client of (.*) has the document or code "(.*)"/, (m) => ({ key: 'contracts.problem.client_unknown', params: { company: m[1]!, client: m[2]! } })],
  [/^describe the contract/, () => ({ key: 'contracts.problem.description_missing' })],
  [/^the monthly value (.*) is negative$/, (m) => ({ key: 'contracts.problem.mrr_negative', params: { value: m[1]! } })],
  [/^"(.*)" is not an amount/, (m) => ({ key: 'contracts.problem.mrr_invalid', params: { value: m[1]! } })],
  [/^"(.*)" is not a date basis/, () => ({ key: 'contracts.errors.dateBasis' })],
  [/^"(.*)" is not a date/, (m) => ({ key: 'contracts.problem.date_invalid', params: { value: m[1]! } })],
  [/^give the date the contract starts$/, () => ({ key: 'contracts.problem.start_missing' })],
  [/^the end date is before the start date$/, () => ({ key: 'contracts.problem.end_before_start' })],
  [/^"(.*)" is not a day of the month/, (m) => ({ key: 'contracts.problem.billing_day_invalid', params: { value: m[1]! } })],
  [/^"(.*)" is not a month \(1 to 12\)/, (m) => ({ key: 'contracts.problem.readjust_month_invalid', params: { value: m[1]! } })],
  [/^"(.*)" is not a month: write it as YYYY-MM/, () => ({ key: 'contracts.errors.month' })],
  [/^"(.*)" is not a status/, (m) => ({ key: 'contracts.problem.status_invalid', params: { value: m[1]! } })],
  [/^an ended contract needs its end date$/, () => ({ key: 'contracts.problem.ended_without_end' })],
  [/^"(.*)" is not a positive number$/, (m) => ({ key: 'contracts.errors.notPositive', params: { value: m[1]! } })],
  [/^say in which month the readjustment takes effect$/, () => ({ key: 'contracts.problem.readjust_month_missing' })],
  [/^(.*) bills in (\w+), not (\w+)$/, (m) => ({ key: 'contracts.problem.currency_mismatch', params: { expected: m[2]!, value: m[3]! } })],
  [
    /^(.*) already has a contract "(.*)" starting (.*): open it to change it$/,
    (m) => ({ key: 'contracts.errors.duplicate', params: { client: m[1]!, description: m[2]!, start: m[3]! } }),
  ],
  [/^write why the contract is deleted/, () => ({ key: 'contracts.errors.deleteReason' })],
  [/^there are several companies/, () => ({ key: 'contracts.errors.chooseCompany' })],
  [/^there is no Omie or Contífico company yet/, () => ({ key: 'contracts.errors.noCompany' })],
  [/^"(.*)" is not an Omie or Contífico company here/, (m) => ({ key: 'contracts.errors.companyUnknown', params: { company: m[1]! } })],
  [/could not be read \(.*\)\. Save it as CSV or XLSX/, () => ({ key: 'contracts.errors.fileUnreadable' })],
  [/^could not read the file/, () => ({ key: 'contracts.errors.fileUnreadable' })],
  [/has a header but no contracts below it$/, () => ({ key: 'contracts.errors.fileEmpty' })],
  [
    /^(\d+) row\(s\) cannot be imported \(line ([^)]*)\); nothing was imported/,
    (m) => ({ key: 'contracts.errors.refusedRows', params: { count: m[1]!, lines: m[2]! } }),
  ],
  [/^look back between 1 and 36 months$/, () => ({ key: 'contracts.errors.monthsBack' })],
];

/** One English reason of the core in the user's language, or null when it is not one this page knows. */
function reasonInWords(i18n: I18n, reason: string): string | null {
  const r = reason.trim();
  const cols = /^the file has no column for (.*)\. The first row must name the columns\.$/.exec(r);
  if (cols) {
    const list = cols[1]!
      .split('; ')
      .map((part) => {
        const m = /^(\w+) \(a column named e\.g\. (.*)\)$/.exec(part);
        return m ? `${contractFieldLabel(i18n, m[1]!)} (${m[2]})` : part;
      })
      .join('; ');
    return i18n.t('contracts.errors.fileNoColumns', { list });
  }
  for (const [re, said] of REASONS) {
    const m = re.exec(r);
    if (m) {
      const s = said(m);
      if (!i18n.exists(s.key)) return null;
      const params = { ...(s.params ?? {}) };
      if (params.start && /^\d{4}-\d{2}-\d{2}$/.test(params.start)) params.start = formatDateOnly(params.start, i18n.language);
      return i18n.t(s.key, params);
    }
  }
  return null;
}

/**
 * A refusal of a contracts command in the user's language. `text` is the whole refusal in this
 * page's words (null when the core said something this page does not know); `error` is the same
 * ApiError with the field named by its label and the reason translated where it could be (the
 * core's English reason kept under its technical details), for the forms' error summary.
 */
export function describeContractError(i18n: I18n, err: ApiError): { text: string | null; error: ApiError } {
  if (err.code !== 'invalid_input') return { text: null, error: err };
  const reason = err.params?.reason ?? err.message;
  const problems = problemsOf(err);
  const whole = problems ? null : reasonInWords(i18n, reason);
  const parts = problems
    ? problems.map((p) => (i18n.exists(`contracts.problem.${p.key}`) ? problemText(i18n, withLocalDates(i18n, p)) : null))
    : whole
      ? [whole]
      : reason.split('; ').map((r) => reasonInWords(i18n, r));
  const known = parts.every((p): p is string => p !== null);
  const translated = known ? parts.join(' ') : reason;
  const field = err.params?.field ?? '';
  const details = [reason, err.details].filter(Boolean).join('\n');
  return {
    text: known ? translated : null,
    error: {
      ...err,
      params: { ...err.params, field: field ? contractFieldLabel(i18n, field) : field, reason: translated },
      details: details || null,
    },
  };
}

/** The problems a refused save carries by key (the core's `problems` parameter), when it does. */
function problemsOf(err: ApiError): ContractProblem[] | null {
  const raw = err.params?.problems;
  if (!raw) return null;
  try {
    const list: unknown = JSON.parse(raw);
    if (!Array.isArray(list) || list.length === 0) return null;
    return list.filter((p): p is ContractProblem => typeof p === 'object' && p !== null && typeof p.key === 'string');
  } catch {
    return null;
  }
}

/** A problem's ISO dates (`start`) as the user's language writes them. */
function withLocalDates(i18n: I18n, p: ContractProblem): ContractProblem {
  const start = p.params?.start;
  if (!start || !/^\d{4}-\d{2}-\d{2}$/.test(start)) return p;
  return { ...p, params: { ...p.params, start: formatDateOnly(start, i18n.language) } };
}

// ---------- Reconciliation query ----------

export function reconcileQuery(month: string, connectionId: string | null, verdicts: readonly string[] = []): ReconcileQuery {
  return { month, connection_id: connectionId, client: null, verdicts: [...verdicts] };
}

// ---------- Contract form ----------

export const CONTRACT_STATUSES = ['active', 'suspended', 'ended'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

export interface ContractValues {
  client: string;
  description: string;
  /** As typed in the user's language ("1.234,56"). */
  mrr: string;
  /** yyyy-mm-dd from the DateField, or what was typed while it is not a date yet. */
  start: string;
  end: string;
  billingDay: string;
  status: ContractStatus;
  readjustIndex: string;
  /** "1"–"12", or "" for none. */
  readjustMonth: string;
  readjustPercent: string;
  toleranceAmount: string;
  tolerancePercent: string;
  notes: string;
  reason: string;
}

export type ContractField = keyof ContractValues;

const decimalText = (v: string | null | undefined, lng: string) => (v ? formatDecimalString(v, lng) : '');

/** The form's values for a stored contract, or an empty form. */
export function contractValues(c: Contract | null, lng: string): ContractValues {
  if (!c) {
    return {
      client: '',
      description: '',
      mrr: '',
      start: '',
      end: '',
      billingDay: '',
      status: 'active',
      readjustIndex: '',
      readjustMonth: '',
      readjustPercent: '',
      toleranceAmount: '',
      tolerancePercent: '',
      notes: '',
      reason: '',
    };
  }
  return {
    client: c.client_document || c.client_code,
    description: c.description,
    mrr: decimalText(c.mrr, lng),
    start: c.start_date,
    end: c.end_date ?? '',
    billingDay: c.billing_day === null ? '' : String(c.billing_day),
    status: (CONTRACT_STATUSES as readonly string[]).includes(c.status) ? (c.status as ContractStatus) : 'active',
    readjustIndex: c.readjust_index ?? '',
    readjustMonth: c.readjust_month === null ? '' : String(c.readjust_month),
    readjustPercent: decimalText(c.readjust_percent, lng),
    toleranceAmount: decimalText(c.tolerance_amount, lng),
    tolerancePercent: decimalText(c.tolerance_percent, lng),
    notes: c.notes,
    reason: '',
  };
}

export const MAX_REASON = 1000;

/** A non-negative decimal typed in the locale ("1.234,56"), or null. */
function nonNegative(text: string, lng: string): string | null {
  const v = parseDecimalInput(text, lng);
  return v === null || v.startsWith('-') ? null : v;
}

export function contractSchema(lng: string, editing: boolean) {
  const f = 'contracts.form.';
  return z
    .object({
      client: z.string().trim().min(1, `${f}clientRequired`).max(60, `${f}clientInvalid`),
      description: z.string().trim().min(1, `${f}descriptionRequired`).max(200, `${f}descriptionTooLong`),
      mrr: z.string().trim(),
      start: z.string().trim(),
      end: z.string().trim(),
      billingDay: z.string().trim(),
      status: z.enum(CONTRACT_STATUSES),
      readjustIndex: z.string().trim().max(40, `${f}indexTooLong`),
      readjustMonth: z.string().trim(),
      readjustPercent: z.string().trim(),
      toleranceAmount: z.string().trim(),
      tolerancePercent: z.string().trim(),
      notes: z.string().trim().max(2000, `${f}notesTooLong`),
      reason: z.string().trim().max(MAX_REASON, `${f}reasonTooLong`),
    })
    .superRefine((v, ctx) => {
      const issue = (path: ContractField, message: string) => ctx.addIssue({ code: 'custom', path: [path], message: `${f}${message}` });
      if (v.mrr === '') issue('mrr', 'mrrRequired');
      else if (nonNegative(v.mrr, lng) === null) issue('mrr', 'mrrInvalid');
      if (v.start === '') issue('start', 'startRequired');
      else if (!isIsoDate(v.start)) issue('start', 'dateInvalid');
      if (v.end !== '' && !isIsoDate(v.end)) issue('end', 'dateInvalid');
      else if (v.end !== '' && isIsoDate(v.start) && v.end < v.start) issue('end', 'endBeforeStart');
      if (v.status === 'ended' && v.end === '') issue('end', 'endRequired');
      if (v.billingDay !== '' && (!/^\d{1,2}$/.test(v.billingDay) || Number(v.billingDay) < 1 || Number(v.billingDay) > 31)) {
        issue('billingDay', 'billingDayInvalid');
      }
      if (v.readjustPercent !== '' && nonNegative(v.readjustPercent, lng) === null) issue('readjustPercent', 'percentInvalid');
      if (v.readjustPercent !== '' && v.readjustMonth === '') issue('readjustMonth', 'readjustMonthRequired');
      if (v.toleranceAmount !== '' && nonNegative(v.toleranceAmount, lng) === null) issue('toleranceAmount', 'amountInvalid');
      if (v.tolerancePercent !== '' && nonNegative(v.tolerancePercent, lng) === null) issue('tolerancePercent', 'percentInvalid');
      if (editing && v.reason === '') issue('reason', 'reasonRequired');
    });
}

/** Checks the contract form and builds the ContractInput `save_contract` expects. */
export function checkContract(
  values: ContractValues,
  lng: string,
  target: { id: string | null; connectionId: string | null },
): { ok: true; input: ContractInput } | { ok: false; errors: FieldErrors<ContractField> } {
  const parsed = contractSchema(lng, target.id !== null).safeParse(values);
  if (!parsed.success) return { ok: false, errors: collectIssues(parsed.error.issues) };
  const v = parsed.data;
  const opt = (s: string) => (s === '' ? null : s);
  const dec = (s: string) => (s === '' ? null : nonNegative(s, lng));
  return {
    ok: true,
    input: {
      id: target.id,
      connection_id: target.connectionId,
      client: v.client,
      description: v.description,
      mrr: nonNegative(v.mrr, lng) ?? v.mrr,
      // The company's own currency: the core fills it in.
      currency: null,
      start_date: v.start,
      end_date: opt(v.end),
      billing_day: opt(v.billingDay),
      status: v.status,
      readjust_index: opt(v.readjustIndex),
      readjust_month: opt(v.readjustMonth),
      readjust_percent: dec(v.readjustPercent),
      tolerance_amount: dec(v.toleranceAmount),
      tolerance_percent: dec(v.tolerancePercent),
      notes: v.notes,
      reason: v.reason,
    },
  };
}

/** Core field names of a contract's `invalid_input` → the form's fields. */
export const CONTRACT_SERVER_FIELD: Record<string, ContractField> = {
  client: 'client',
  description: 'description',
  mrr: 'mrr',
  start_date: 'start',
  end_date: 'end',
  billing_day: 'billingDay',
  status: 'status',
  readjust_index: 'readjustIndex',
  readjust_month: 'readjustMonth',
  readjust_percent: 'readjustPercent',
  tolerance_amount: 'toleranceAmount',
  tolerance_percent: 'tolerancePercent',
  notes: 'notes',
  reason: 'reason',
};

// ---------- Billing settings form ----------

export const DATE_BASES = ['emission', 'due', 'registration'] as const;

export interface SettingsValues {
  dateBasis: string;
  statuses: string[];
  toleranceAmount: string;
  tolerancePercent: string;
  monthsBack: string;
}

export type SettingsField = keyof SettingsValues;

export function settingsValues(s: BillingSettings, lng: string): SettingsValues {
  return {
    dateBasis: s.date_basis,
    statuses: [...s.statuses],
    toleranceAmount: decimalText(s.tolerance_amount, lng),
    tolerancePercent: decimalText(s.tolerance_percent, lng),
    monthsBack: String(s.months_back),
  };
}

export function checkSettings(
  v: SettingsValues,
  lng: string,
): { ok: true; settings: BillingSettings } | { ok: false; errors: FieldErrors<SettingsField> } {
  const errors: FieldErrors<SettingsField> = {};
  const amount = nonNegative(v.toleranceAmount.trim(), lng);
  const percent = nonNegative(v.tolerancePercent.trim(), lng);
  if (v.toleranceAmount.trim() === '' || amount === null) errors.toleranceAmount = 'contracts.form.amountInvalid';
  if (v.tolerancePercent.trim() === '' || percent === null) errors.tolerancePercent = 'contracts.form.percentInvalid';
  const months = v.monthsBack.trim();
  if (!/^\d{1,2}$/.test(months) || Number(months) < 1 || Number(months) > 36) errors.monthsBack = 'contracts.settings.monthsInvalid';
  if (!(DATE_BASES as readonly string[]).includes(v.dateBasis)) errors.dateBasis = 'contracts.settings.basisInvalid';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      date_basis: v.dateBasis,
      statuses: v.statuses.map((s) => s.trim().toUpperCase()).filter(Boolean),
      tolerance_amount: amount ?? '0',
      tolerance_percent: percent ?? '0',
      months_back: Number(months),
    },
  };
}

export { plural };
