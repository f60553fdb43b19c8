// Divergences without React: statuses and their looks, the inbox filter (form values → the
// DivergenceFilter the core reads), money as exact decimals, the explanation of a divergence in
// plain words, the core's refusals and "skipped" reasons in the user's language, and the checks of
// the decision and rule forms (zod).
import type { i18n as I18n } from 'i18next';
import { z } from 'zod';

import type { ApiError } from '../../bindings/ApiError';
import type { Divergence } from '../../bindings/Divergence';
import type { DivergenceFilter } from '../../bindings/DivergenceFilter';
import type { Rule } from '../../bindings/Rule';
import type { RuleInput } from '../../bindings/RuleInput';
import { collectIssues, isIsoDate, type FieldErrors } from '../../components/form';
import { formatDateOnly, formatDecimalString, intlLocale, parseDecimalInput } from '../../format';
import type { IconName } from '../../components/Icon';
import { formatDocument, omieErrorText } from '../omie/util';

// ---------- Statuses ----------

/** `open` → `approved` | `rejected` → `applied` | `failed` → `rolled_back`; `resolved` at the source. */
export const STATUSES = ['open', 'approved', 'rejected', 'applied', 'failed', 'rolled_back', 'resolved'] as const;
export type DivergenceStatus = (typeof STATUSES)[number];

/** What the inbox shows first: what still needs someone. */
export const DEFAULT_STATUSES: readonly DivergenceStatus[] = ['open', 'approved', 'failed'];

/** Colour (a badge tone of styles.css) and icon of each status; the words come from the dictionary. */
export const STATUS_LOOK: Record<DivergenceStatus, [tone: string, icon: IconName]> = {
  open: ['open', 'alert'],
  approved: ['running', 'check'],
  rejected: ['cancelled', 'close'],
  applied: ['succeeded', 'check'],
  failed: ['failed', 'alert'],
  rolled_back: ['cancelled', 'refresh'],
  resolved: ['succeeded', 'sparkle'],
};

export function isStatus(s: string): s is DivergenceStatus {
  return (STATUSES as readonly string[]).includes(s);
}

/** Rows asked of the core per request; more are asked for as the list scrolls. */
export const PAGE_SIZE = 500;
/** Sessions and operations listed. */
export const SESSIONS_LIMIT = 100;
export const OPERATIONS_LIMIT = 500;

/** Who the core names as the actor of automatic sessions. */
export const AUTOMATIC_ACTOR = 'BackOffice (automatic)';

/** A divergence that only flags (no correction): it is fixed in the ERP, never applied from here. */
export const flagOnly = (d: Pick<Divergence, 'correction'>): boolean => d.correction === null;

/** The filter with nothing chosen: every divergence. */
export function filterOf(over: Partial<DivergenceFilter> = {}): DivergenceFilter {
  return {
    statuses: [],
    rule_ids: [],
    connection_id: null,
    min_confidence: null,
    min_amount: null,
    from: null,
    to: null,
    assignee: null,
    search: null,
    limit: null,
    offset: null,
    ...over,
  };
}

/** What the dashboard and the header ask: everything that still needs someone. */
export const OPEN_FILTER: DivergenceFilter = filterOf({ statuses: [...DEFAULT_STATUSES] });

// ---------- Inbox filter ----------

export interface FilterValues {
  statuses: DivergenceStatus[];
  ruleId: string;
  connectionId: string;
  /** Whole percent, as typed. */
  minConfidence: string;
  /** As typed in the user's language ("1.234,50"). */
  minAmount: string;
  /** yyyy-mm-dd from the DateField, or what was typed while it is not a date yet. */
  from: string;
  to: string;
  assignee: string;
  search: string;
}

export type FilterField = keyof FilterValues;

export function defaultFilterValues(over: Partial<FilterValues> = {}): FilterValues {
  return {
    statuses: [...DEFAULT_STATUSES],
    ruleId: '',
    connectionId: '',
    minConfidence: '',
    minAmount: '',
    from: '',
    to: '',
    assignee: '',
    search: '',
    ...over,
  };
}

/** Whether the form asks for anything but the default: other statuses, or any other filter. */
export function hasExtraFilters(v: FilterValues): boolean {
  const sameStatuses = v.statuses.length === DEFAULT_STATUSES.length && DEFAULT_STATUSES.every((s) => v.statuses.includes(s));
  return !sameStatuses || Boolean(v.ruleId || v.connectionId || v.minConfidence || v.minAmount || v.from || v.to || v.assignee || v.search);
}

/**
 * The core's filter for what the form says, or the fields that cannot be read (messages are i18n
 * keys). Paging (limit/offset) is left to the caller.
 */
export function buildFilter(
  v: FilterValues,
  locale: string,
): { ok: true; filter: DivergenceFilter } | { ok: false; errors: FieldErrors<FilterField> } {
  const errors: FieldErrors<FilterField> = {};
  let minConfidence: number | null = null;
  const conf = v.minConfidence.trim();
  if (conf !== '') {
    const n = Number(conf);
    if (!/^\d{1,3}$/.test(conf) || n > 100) errors.minConfidence = 'divergences.filters.confidenceInvalid';
    else minConfidence = n;
  }
  let minAmount: string | null = null;
  if (v.minAmount.trim() !== '') {
    const parsed = parseDecimalInput(v.minAmount, locale);
    if (parsed === null || parsed.startsWith('-')) errors.minAmount = 'divergences.filters.amountInvalid';
    else minAmount = parsed;
  }
  for (const f of ['from', 'to'] as const) {
    if (v[f] !== '' && !isIsoDate(v[f])) errors[f] = 'divergences.filters.dateInvalid';
  }
  if (!errors.from && !errors.to && v.from && v.to && v.from > v.to) errors.to = 'divergences.filters.periodReversed';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const text = (s: string) => (s.trim() === '' ? null : s.trim());
  return {
    ok: true,
    filter: filterOf({
      statuses: [...v.statuses],
      rule_ids: v.ruleId ? [v.ruleId] : [],
      connection_id: v.connectionId || null,
      min_confidence: minConfidence,
      min_amount: minAmount,
      from: v.from || null,
      to: v.to || null,
      assignee: text(v.assignee),
      search: text(v.search),
    }),
  };
}

// ---------- Money ----------

/**
 * An exact decimal amount as money in the locale's style, digit for digit: "1234.5" → "R$ 1.234,50"
 * (pt-BR, BRL). The currency defaults to BRL, the currency of every Omie divergence.
 */
/**
 * Money in several currencies, each the locale's way, joined ("R$ 1.234,56 + US$ 10,00"): a total
 * over divergences of Omie (BRL) and Contífico (USD) companies is never one sum.
 */
export function formatAmounts(amounts: { [currency in string]?: string } | null | undefined, locale: string): string {
  const entries = Object.entries(amounts ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '');
  if (entries.length === 0) return formatAmount('0', locale, 'BRL');
  return entries.map(([c, v]) => formatAmount(v, locale, c || 'BRL')).join(' + ');
}

export function formatAmount(value: string | null | undefined, locale: string, currency: string | null = 'BRL'): string {
  if (value === null || value === undefined || value.trim() === '') return '—';
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return value;
  const negative = m[1] === '-' && /[1-9]/.test(`${m[2]}${m[3] ?? ''}`);
  let nf: Intl.NumberFormat;
  try {
    nf = new Intl.NumberFormat(intlLocale(locale), { style: 'currency', currency: currency || 'BRL' });
  } catch {
    nf = new Intl.NumberFormat(intlLocale(locale), { style: 'currency', currency: 'BRL' });
  }
  const digits = nf.resolvedOptions().minimumFractionDigits ?? 2;
  const body = formatDecimalString(`${m[2] || '0'}${m[3] ? `.${m[3]}` : ''}`, locale, digits);
  let out = '';
  let placed = false;
  for (const p of nf.formatToParts(negative ? -1 : 1)) {
    if (p.type === 'integer' || p.type === 'group' || p.type === 'decimal' || p.type === 'fraction') {
      if (!placed) out += body;
      placed = true;
    } else {
      out += p.value;
    }
  }
  return out;
}

/** A confidence 0–100 as "95%" in the locale's style. */
export function formatConfidence(value: number, locale: string): string {
  return new Intl.NumberFormat(intlLocale(locale), { style: 'percent', maximumFractionDigits: 0 }).format(
    Math.min(100, Math.max(0, value)) / 100,
  );
}

// ---------- Words ----------

/**
 * A text whose words follow a number: `<key>_zero` (when the dictionary has it) for 0, `<key>_one`
 * for 1, `<key>_other` otherwise. Chosen here rather than by i18next, whose Portuguese and Spanish
 * rules also ask for a `_many` form (a million) the dictionaries do not have. `count` and `n` are
 * the number in the locale's style.
 */
export function plural(i18n: I18n, key: string, count: number, params: Record<string, unknown> = {}): string {
  const suffix = count === 0 && i18n.exists(`${key}_zero`) ? 'zero' : count === 1 ? 'one' : 'other';
  const n = new Intl.NumberFormat(intlLocale(i18n.language), { maximumFractionDigits: 0 }).format(count);
  return i18n.t(`${key}_${suffix}`, { n, ...params, count: n });
}

function labelOr(i18n: I18n, key: string, fallback: string): string {
  return i18n.exists(key) ? i18n.t(key) : fallback;
}

const humanize = (s: string) => {
  const w = s.replace(/_/g, ' ').trim();
  return w.charAt(0).toUpperCase() + w.slice(1);
};

export const statusLabel = (i18n: I18n, s: string) => labelOr(i18n, `divergences.status.${s}`, humanize(s));
export const kindLabel = (i18n: I18n, k: string) => labelOr(i18n, `divergences.kinds.${k}`, humanize(k));
export const basisLabel = (i18n: I18n, b: string) => labelOr(i18n, `divergences.basis.${b}`, humanize(b));
export const eventLabel = (i18n: I18n, a: string) => labelOr(i18n, `divergences.events.${a}`, humanize(a));
export const fieldLabel = (i18n: I18n, f: string) => labelOr(i18n, `divergences.fields.${f}`, f);
export const operationKindLabel = (i18n: I18n, k: string) => labelOr(i18n, `divergences.operations.kinds.${k}`, humanize(k));
export const operationStatusLabel = (i18n: I18n, s: string) =>
  labelOr(i18n, `divergences.operations.statuses.${s}`, humanize(s));
export const sessionCountLabel = (i18n: I18n, c: string) => labelOr(i18n, `divergences.sessions.counts.${c}`, humanize(c));

/** "BackOffice (automatic)" in the user's language; a person's login as it is. */
export function actorLabel(i18n: I18n, who: string): string {
  return who === AUTOMATIC_ACTOR ? i18n.t('divergences.automatic') : who;
}

/** A rule's name from the rules list, else the name the divergence carries, else its id. */
export function ruleName(rules: readonly Rule[] | null, id: string, fallback?: string, i18n?: I18n): string {
  const name = rules?.find((r) => r.id === id)?.name ?? fallback ?? id;
  return i18n ? localRuleName(i18n, id, name) : name;
}

/**
 * A rule's name in the window's language: BackOffice's own rules keep the name they came with in
 * English in the store; while the user has not renamed one, its name is shown translated.
 */
export function localRuleName(i18n: I18n, id: string, name: string): string {
  const key = `divergences.defaultRules.${id}`;
  if (!i18n.exists(key)) return name;
  return i18n.t(key, { lng: 'en' }) === name ? i18n.t(key) : name;
}

/** A CNPJ or CPF with its punctuation when it is one, else as it is. */
function documentText(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  return digits.length === 11 || digits.length === 14 ? formatDocument(digits) : raw;
}

/**
 * What a divergence is about, in a sentence in the user's language, built from its `facts`
 * (`divergences.explain.<kind>` in the dictionaries); money in the locale's style.
 */
export function explain(i18n: I18n, d: Divergence): string {
  const lng = i18n.language;
  const f = d.facts;
  const money = (v: string | undefined) => formatAmount(v ?? null, lng, d.currency);
  const dash = (v: string | undefined) => (v && v.trim() !== '' ? v : '—');
  switch (d.kind) {
    case 'classification': {
      const basis = d.basis === 'party_document' || d.basis === 'document_type' ? d.basis : 'pattern';
      const code = f.category_expected ?? '';
      const label = f.category_label ?? '';
      return i18n.t(`divergences.explain.classification.${basis}`, {
        record: d.record_label,
        matched: basis === 'party_document' ? documentText(f.matched ?? '') : dash(f.matched),
        party: dash(f.party),
        category_now: f.category_now ? f.category_now : i18n.t('divergences.explain.noCategory'),
        expected: label ? `${code} (${label})` : dash(code),
        rule: localRuleName(i18n, d.rule_id, d.rule_name),
      });
    }
    case 'duplicate_titles': {
      const side = d.resource === 'contas_receber' ? 'receivables' : 'payables';
      return i18n.t(`divergences.explain.duplicate_titles.${side}`, {
        count: new Intl.NumberFormat(intlLocale(lng)).format(Number(f.count ?? '0') || 0),
        number: dash(f.number),
        parcel: dash(f.parcel),
        party: dash(f.party),
        amount: money(f.amount),
      });
    }
    case 'receipt_value':
      return plural(i18n, 'divergences.explain.receipt_value', Number(f.payables ?? '0') || 0, {
        number: dash(f.number),
        party: dash(f.party),
        receipt_value: money(f.receipt_value),
        payables_total: money(f.payables_total),
        gap: money(f.gap),
        tolerance: money(f.tolerance),
      });
    case 'billing_contract': {
      // A client-month of the rule "billing vs contract": what the contracts ask for against what
      // was billed, and the verdict (`contracts.verdict.<verdict>`).
      const verdict = f.verdict ?? '';
      const vKey = `contracts.verdict.${verdict}`;
      return i18n.t('divergences.explain.billing_contract', {
        month: monthText(f.month, lng),
        client: dash(f.client),
        contracted: money(f.contracted),
        billed: money(f.billed),
        difference: money(f.difference),
        tolerance: money(f.tolerance),
        verdict: (i18n.exists(vKey) ? i18n.t(vKey) : dash(verdict)).toLocaleLowerCase(intlLocale(lng)),
      });
    }
    case 'service_order_open':
      return i18n.t(`divergences.explain.service_order_open.${f.closure === 'failed' && f.closure_error ? 'failed' : 'unchecked'}`, {
        service_nf: dash(f.service_nf),
        party: dash(f.party),
        order: dash(f.order),
        error: dash(f.closure_error),
      });
    case 'receipt_attachments':
      return i18n.t(`divergences.explain.receipt_attachments.${f.transfer === 'failed' && f.transfer_error ? 'failed' : 'unchecked'}`, {
        number: dash(f.number),
        party: dash(f.party),
        error: dash(f.transfer_error),
      });
    case 'delivery_without_receipt':
      return i18n.t(`divergences.explain.delivery_without_receipt.${d.basis === 'amount_date' ? 'amount_date' : 'exact_key'}`, {
        delivery_note: dash(f.delivery_note),
        date: f.posting_date ? formatDateOnly(f.posting_date, lng) : '—',
        amount: money(d.amount ?? undefined),
        customer: dash(f.customer),
        site: dash(f.site_b),
        receipt: dash(f.probable_receipt),
      });
    case 'sale_without_entry':
      return i18n.t('divergences.explain.sale_without_entry', {
        document: [f.document_type, f.number].filter((x) => x && x.trim() !== '').join(' ') || d.record_label,
        party: dash(f.party),
        date: f.date ? formatDateOnly(f.date, lng) : '—',
        amount: money(d.amount ?? undefined),
      });
    case 'document_lines':
      return i18n.t(`divergences.explain.document_lines.${f.check === 'lines' ? 'lines' : 'total'}`, {
        document: [f.document_type, f.number].filter((x) => x && x.trim() !== '').join(' ') || d.record_label,
        party: dash(f.party),
        lines_total: money(f.lines_total),
        bases: money(f.bases),
        found: money(f.found),
        total: money(f.total),
        gap: money(f.gap),
        tolerance: money(f.tolerance),
      });
    default:
      return i18n.t('divergences.explain.other', { record: d.record_label, rule: localRuleName(i18n, d.rule_id, d.rule_name) });
  }
}

/** "2026-11" as "novembro de 2026" in the locale; anything else as it is. */
function monthText(month: string | undefined, lng: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month ?? '');
  if (!m) return month && month.trim() !== '' ? month : '—';
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return new Intl.DateTimeFormat(intlLocale(lng), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

/** Why a decision left a divergence as it was, in the user's language (the core says it in English). */
export function skippedText(i18n: I18n, reason: string): string {
  if (reason === FLAG_ONLY_REASON) return i18n.t('divergences.skipped.flagOnly');
  if (/^no such divergence$/i.test(reason.trim())) return i18n.t('divergences.skipped.notFound');
  const m = /^cannot (\w+) a divergence that is (\w+)$/i.exec(reason.trim());
  if (m) {
    return i18n.t('divergences.skipped.cannot', {
      action: labelOr(i18n, `divergences.verbs.${m[1]}`, m[1]!),
      status: statusLabel(i18n, m[2]!),
    });
  }
  return reason;
}

/** Set by the window (not the core) for a flag-only divergence left out of an approval. */
export const FLAG_ONLY_REASON = '__flag_only__';

// ---------- Errors ----------

/** The core's `invalid_input` fields this page explains in its own words. */
const OWN_FIELDS: Record<string, (reason: string) => string> = {
  reason: () => 'reason',
  ids: (r) => (/no approved/i.test(r) ? 'nothingApproved' : /roll back/i.test(r) ? 'nothingToRollBack' : 'ids'),
  rules: () => 'rules',
  divergences: () => 'applyFailed',
  correction: (r) => (/only flagged|nothing to apply/i.test(r) ? 'flagOnly' : 'correction'),
  rollback: () => 'rollback',
  status: (r) => (/roll back/i.test(r) ? 'nothingToRollBack' : 'status'),
  auto_apply_threshold: (r) => (/only flags/i.test(r) ? 'autoApplyFlagOnly' : 'percent'),
  confidence: () => 'percent',
  show_threshold: () => 'percent',
  name: () => 'name',
  connection: () => 'connection',
};

/**
 * An error in the user's language: the page's own words for the refusals of the divergence
 * commands (the core's English reason is kept as technical detail), the Omie and shared texts
 * otherwise. Returns the text and the error to show (with the English reason in its details).
 */
export function describeError(i18n: I18n, err: ApiError): { text: string; error: ApiError } {
  const field = err.params?.field ?? '';
  const reason = err.params?.reason ?? err.message;
  const own = err.code === 'invalid_input' ? OWN_FIELDS[field] : undefined;
  if (own) {
    const key = `divergences.errors.${own(reason)}`;
    if (i18n.exists(key)) {
      const details = [reason, err.details].filter(Boolean).join('\n');
      return { text: i18n.t(key), error: { ...err, details: details || null } };
    }
  }
  return { text: omieErrorText(i18n, err), error: err };
}

// ---------- Decision form ----------

export type DecisionAction = 'approve' | 'reject' | 'reopen' | 'assign' | 'comment';

export interface DecisionValues {
  reason: string;
  assignee: string;
}

export const MAX_REASON = 1000;

/** The decision's form: a written reason for every action but assign; a name for assign. */
export function decisionSchema(action: DecisionAction) {
  return z
    .object({ reason: z.string().trim().max(MAX_REASON, 'divergences.decision.reasonTooLong'), assignee: z.string().trim() })
    .superRefine((v, ctx) => {
      if (action === 'assign') {
        if (v.assignee === '') ctx.addIssue({ code: 'custom', path: ['assignee'], message: 'divergences.decision.assigneeRequired' });
      } else if (v.reason === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['reason'],
          message: action === 'comment' ? 'divergences.decision.commentRequired' : 'divergences.decision.reasonRequired',
        });
      }
    });
}

export function checkDecision(
  action: DecisionAction,
  values: DecisionValues,
): { ok: true; reason: string; assignee: string | null } | { ok: false; errors: FieldErrors<keyof DecisionValues> } {
  const parsed = decisionSchema(action).safeParse(values);
  if (!parsed.success) return { ok: false, errors: collectIssues(parsed.error.issues) };
  return { ok: true, reason: parsed.data.reason, assignee: action === 'assign' ? parsed.data.assignee : null };
}

// ---------- Rule form ----------

export interface RuleValues {
  name: string;
  /** The first date a pending check looks at ("" = every date); only for rules with `from_date`. */
  fromDate: string;
  confidence: string;
  showThreshold: string;
  autoApply: boolean;
  autoApplyThreshold: string;
  enabled: boolean;
  reason: string;
}

export type RuleField = keyof RuleValues;

export function ruleValues(rule: Rule): RuleValues {
  const from = (rule.params as Record<string, unknown>).from_date;
  return {
    name: rule.name,
    fromDate: typeof from === 'string' ? from : '',
    confidence: String(rule.confidence),
    showThreshold: String(rule.show_threshold),
    autoApply: rule.auto_apply_threshold !== null,
    autoApplyThreshold: rule.auto_apply_threshold === null ? String(Math.max(rule.confidence, 90)) : String(rule.auto_apply_threshold),
    enabled: rule.enabled,
    reason: '',
  };
}

const PERCENT = /^\d{1,3}$/;
const percentOk = (s: string) => PERCENT.test(s) && Number(s) <= 100;

export const ruleSchema = z
  .object({
    name: z.string().trim().min(1, 'divergences.rules.form.nameRequired').max(120, 'divergences.rules.form.nameTooLong'),
    fromDate: z.string().trim().refine((s) => s === '' || isIsoDate(s), 'divergences.rules.form.fromDateInvalid'),
    confidence: z.string().trim(),
    showThreshold: z.string().trim(),
    autoApply: z.boolean(),
    autoApplyThreshold: z.string().trim(),
    enabled: z.boolean(),
    reason: z.string().trim().min(1, 'divergences.rules.form.reasonRequired').max(MAX_REASON, 'divergences.decision.reasonTooLong'),
  })
  .superRefine((v, ctx) => {
    const pct = (path: RuleField, s: string) => {
      if (!percentOk(s)) ctx.addIssue({ code: 'custom', path: [path], message: 'divergences.rules.form.percentInvalid' });
    };
    pct('confidence', v.confidence);
    pct('showThreshold', v.showThreshold);
    if (v.autoApply) pct('autoApplyThreshold', v.autoApplyThreshold);
  });

/** Checks the rule form and builds the RuleInput `save_divergence_rule` expects (`flagOnly`: never auto-apply). */
export function checkRule(
  values: RuleValues,
  canAutoApply: boolean,
  /** The rule's parameters, when the form edits one of them (`from_date`). */
  params: Record<string, unknown> | null = null,
): { ok: true; input: RuleInput } | { ok: false; errors: FieldErrors<RuleField> } {
  const parsed = ruleSchema.safeParse(values);
  if (!parsed.success) return { ok: false, errors: collectIssues(parsed.error.issues) };
  const v = parsed.data;
  const auto = canAutoApply && v.autoApply;
  const changedFrom = params !== null && 'from_date' in params && params.from_date !== v.fromDate;
  return {
    ok: true,
    input: {
      name: v.name,
      params: changedFrom ? { ...params, from_date: v.fromDate } : null,
      confidence: Number(v.confidence),
      show_threshold: Number(v.showThreshold),
      auto_apply_threshold: auto ? Number(v.autoApplyThreshold) : null,
      auto_apply_off: !auto,
      enabled: v.enabled,
      reason: v.reason,
    },
  };
}

/** Core field names of a rule's `invalid_input` → the form's fields. */
export const RULE_SERVER_FIELD: Record<string, RuleField> = {
  name: 'name',
  from_date: 'fromDate',
  confidence: 'confidence',
  show_threshold: 'showThreshold',
  auto_apply_threshold: 'autoApplyThreshold',
  reason: 'reason',
};

/** Rule kinds that correct a field (and so may auto-apply). */
export const CORRECTING_KINDS: readonly string[] = ['classification'];
