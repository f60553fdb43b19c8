// Schedules: which job kinds can be scheduled and for which ERP, the add/edit form (zod validation,
// messages are i18n keys under `schedules.validation`), and "when" in plain words.
import type { TFunction } from 'i18next';
import { z } from 'zod';

import type { Connection } from '../../bindings/Connection';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { JobKind } from '../../bindings/JobKind';
import type { RunOutcome } from '../../bindings/RunOutcome';
import type { Schedule } from '../../bindings/Schedule';
import type { ScheduleInput } from '../../bindings/ScheduleInput';
import { collectIssues, type FieldErrors } from '../../components/form';
import { intlLocale } from '../../format';

/** Same limits as the core: intervals and catch-up windows up to one week. */
export const MAX_MINUTES = 7 * 24 * 60;
export const DEFAULT_CATCH_UP_MINUTES = 12 * 60;
export const MAX_NAME = 120;

/** Job kinds offered in the form, in this order (the type is generated from the core's `JobKind`). */
export const SCHEDULABLE_KINDS: readonly JobKind[] = [
  'sync_contifico',
  'sync_omie',
  'omie_attachment_scan',
  'omie_po_close_scan',
  'sync_erpnext',
  'test_connection',
];

export const RUN_OUTCOMES: readonly RunOutcome[] = ['started', 'skipped_overlap', 'skipped_missed', 'failed_to_start'];

/** Which connections a kind runs against: `erp` null = any ERP. */
export function connectionRule(kind: string): { erp: ConnectionKind | null; required: boolean } {
  switch (kind) {
    case 'sync_contifico':
      return { erp: 'contifico', required: true };
    case 'sync_omie':
    case 'omie_attachment_scan':
    case 'omie_po_close_scan':
      return { erp: 'omie', required: true };
    case 'sync_erpnext':
    case 'erpnext_workflow':
      return { erp: 'erpnext', required: true };
    default:
      return { erp: null, required: true };
  }
}

/** The connections the form offers for a kind. */
export function connectionsForKind(kind: string, connections: readonly Connection[]): Connection[] {
  const { erp } = connectionRule(kind);
  return connections.filter((c) => erp === null || c.kind === erp);
}

// ---------- The form ----------

export type TimingMode = 'interval' | 'cron';

export interface ScheduleFormValues {
  name: string;
  kind: string;
  /** '' = no connection. */
  connectionId: string;
  mode: TimingMode;
  everyMinutes: string;
  cron: string;
  timezone: string;
  catchUpMinutes: string;
  enabled: boolean;
}

export function emptyScheduleForm(connections: readonly Connection[]): ScheduleFormValues {
  const first = connections[0];
  const kind =
    SCHEDULABLE_KINDS.find((k) => {
      const rule = connectionRule(k);
      return rule.erp !== null && first !== undefined && rule.erp === first.kind;
    }) ?? 'sync_contifico';
  const conn = connectionsForKind(kind, connections)[0];
  return {
    name: '',
    kind,
    connectionId: conn?.id ?? '',
    mode: 'interval',
    everyMinutes: '60',
    cron: '0 7 * * 1-5',
    timezone: conn?.timezone || 'America/Sao_Paulo',
    catchUpMinutes: String(DEFAULT_CATCH_UP_MINUTES),
    enabled: true,
  };
}

export function formFromSchedule(s: Schedule): ScheduleFormValues {
  return {
    name: s.name,
    kind: s.kind,
    connectionId: s.connection_id ?? '',
    mode: s.cron ? 'cron' : 'interval',
    everyMinutes: s.every_minutes === null ? '60' : String(s.every_minutes),
    cron: s.cron ?? '0 7 * * 1-5',
    timezone: s.timezone ?? 'America/Sao_Paulo',
    catchUpMinutes: String(s.catch_up_minutes),
    enabled: s.enabled,
  };
}

const WHOLE = /^\d+$/;

/** Fields of a cron expression, or its "@hourly" style alias. */
function cronShapeOk(expr: string): boolean {
  if (expr.startsWith('@')) return true;
  return expr.split(/\s+/).filter(Boolean).length === 5;
}

export const scheduleSchema = z
  .object({
    name: z.string().trim().min(1, 'schedules.validation.nameRequired').max(MAX_NAME, 'schedules.validation.nameTooLong'),
    kind: z.string().trim().min(1, 'schedules.validation.kindRequired'),
    connectionId: z.string(),
    mode: z.enum(['interval', 'cron']),
    everyMinutes: z.string().trim(),
    cron: z.string().trim(),
    timezone: z.string().trim(),
    catchUpMinutes: z.string().trim(),
    enabled: z.boolean(),
  })
  .superRefine((v, ctx) => {
    if (connectionRule(v.kind).required && v.connectionId === '') {
      ctx.addIssue({ code: 'custom', path: ['connectionId'], message: 'schedules.validation.connectionRequired' });
    }
    if (v.mode === 'interval') {
      if (!WHOLE.test(v.everyMinutes) || Number(v.everyMinutes) < 1) {
        ctx.addIssue({ code: 'custom', path: ['everyMinutes'], message: 'schedules.validation.intervalInvalid' });
      } else if (Number(v.everyMinutes) > MAX_MINUTES) {
        ctx.addIssue({ code: 'custom', path: ['everyMinutes'], message: 'schedules.validation.intervalTooLong' });
      }
    } else {
      if (v.cron === '') {
        ctx.addIssue({ code: 'custom', path: ['cron'], message: 'schedules.validation.cronRequired' });
      } else if (!cronShapeOk(v.cron)) {
        ctx.addIssue({ code: 'custom', path: ['cron'], message: 'schedules.validation.cronFields' });
      }
      if (v.timezone === '') {
        ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'schedules.validation.timezoneRequired' });
      }
    }
    if (!WHOLE.test(v.catchUpMinutes)) {
      ctx.addIssue({ code: 'custom', path: ['catchUpMinutes'], message: 'schedules.validation.catchUpInvalid' });
    } else if (Number(v.catchUpMinutes) > MAX_MINUTES) {
      ctx.addIssue({ code: 'custom', path: ['catchUpMinutes'], message: 'schedules.validation.catchUpTooLong' });
    }
  });

export type ScheduleValidation = { ok: true; input: ScheduleInput } | { ok: false; errors: FieldErrors<keyof ScheduleFormValues> };

/** Validates the form and builds what `add_schedule` / `update_schedule` expect. */
export function validateScheduleForm(values: ScheduleFormValues, params: unknown = null): ScheduleValidation {
  const parsed = scheduleSchema.safeParse(values);
  if (!parsed.success) return { ok: false, errors: collectIssues(parsed.error.issues) };
  const v = parsed.data;
  const cron = v.mode === 'cron';
  return {
    ok: true,
    input: {
      name: v.name,
      kind: v.kind,
      connection_id: v.connectionId === '' ? null : v.connectionId,
      params: params ?? null,
      cron: cron ? v.cron.split(/\s+/).filter(Boolean).join(' ') : null,
      timezone: cron ? v.timezone : null,
      every_minutes: cron ? null : Number(v.everyMinutes),
      enabled: v.enabled,
      catch_up_minutes: Number(v.catchUpMinutes),
    },
  };
}

/** Core field names (in `invalid_input` errors) → form fields. */
export const SERVER_FIELD: Record<string, keyof ScheduleFormValues> = {
  name: 'name',
  kind: 'kind',
  connection: 'connectionId',
  cron: 'cron',
  timezone: 'timezone',
  every_minutes: 'everyMinutes',
  catch_up_minutes: 'catchUpMinutes',
  schedule: 'mode',
};

// ---------- "When" in plain words ----------

type Timing = Pick<Schedule, 'cron' | 'timezone' | 'every_minutes'>;

const ALIASES: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
};

function num(field: string, max: number): number | null {
  if (!WHOLE.test(field)) return null;
  const n = Number(field);
  return n <= max ? n : null;
}

/** "5,35" → [5, 35]; null unless every item is a plain number ≤ max. */
function numList(field: string, max: number): number[] | null {
  const parts = field.split(',');
  const out: number[] = [];
  for (const p of parts) {
    const n = num(p, max);
    if (n === null) return null;
    out.push(n);
  }
  return out;
}

/** Days of week "1-5", "1,3,5", "0" → [1..5] etc. (0 and 7 are Sunday); null if not understood. */
function dayList(field: string): number[] | null {
  const days = new Set<number>();
  for (const part of field.split(',')) {
    const range = /^(\d)-(\d)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (a > b || b > 7) return null;
      for (let d = a; d <= b; d++) days.add(d % 7);
    } else {
      const n = num(part, 7);
      if (n === null) return null;
      days.add(n % 7);
    }
  }
  return [...days].sort((a, b) => a - b);
}

const pad = (n: number) => String(n).padStart(2, '0');
const clock = (h: number, m: number) => `${pad(h)}:${pad(m)}`;

function listFormat(items: string[], lng: string): string {
  try {
    return new Intl.ListFormat(intlLocale(lng), { style: 'long', type: 'conjunction' }).format(items);
  } catch {
    return items.join(', ');
  }
}

/** 0 = Sunday … 6 = Saturday, in the UI language. */
export function weekdayName(day: number, lng: string): string {
  // 1 January 2023 was a Sunday.
  return new Intl.DateTimeFormat(intlLocale(lng), { weekday: 'long', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2023, 0, 1 + day)),
  );
}

/** An interval in minutes in words ("every hour", "every 30 minutes"). */
export function describeInterval(minutes: number, t: TFunction): string {
  if (minutes === 1) return t('schedules.when.everyMinute');
  if (minutes % 1440 === 0) return minutes === 1440 ? t('schedules.when.everyDay') : t('schedules.when.everyNDays', { n: minutes / 1440 });
  if (minutes % 60 === 0) return minutes === 60 ? t('schedules.when.everyHour') : t('schedules.when.everyNHours', { n: minutes / 60 });
  return t('schedules.when.everyNMinutes', { n: minutes });
}

/** A cron expression in words, or null when it is not one of the common shapes. */
function describeCronShape(expr: string, t: TFunction, lng: string): { text: string; local: boolean } | null {
  const normal = ALIASES[expr.trim().toLowerCase()] ?? expr;
  const fields = normal.trim().split(/\s+/);
  if (fields.length !== 5) return null;
  const [min, hour, dom, mon, dow] = fields as [string, string, string, string, string];
  if (mon !== '*') return null;

  if (dom === '*' && dow === '*' && hour === '*') {
    if (min === '*') return { text: t('schedules.when.everyMinute'), local: false };
    const step = /^\*\/(\d+)$/.exec(min);
    if (step) {
      const n = Number(step[1]);
      if (n >= 1 && 60 % n === 0) return { text: describeInterval(n, t), local: false };
      return null;
    }
    const minutes = numList(min, 59);
    if (!minutes) return null;
    if (minutes.length === 1) {
      const m = minutes[0]!;
      return { text: m === 0 ? t('schedules.when.everyHour') : t('schedules.when.everyHourAt', { minute: pad(m) }), local: false };
    }
    const sorted = [...minutes].sort((a, b) => a - b);
    const gap = 60 / sorted.length;
    const even = Number.isInteger(gap) && sorted.every((m, i) => m === sorted[0]! + i * gap);
    const list = listFormat(sorted.map((m) => `:${pad(m)}`), lng);
    return {
      text: even ? t('schedules.when.everyNMinutesAt', { n: gap, minutes: list }) : t('schedules.when.hourlyAt', { minutes: list }),
      local: false,
    };
  }

  const minute = num(min, 59);
  if (minute === null) return null;

  if (dom === '*' && dow === '*') {
    const step = /^\*\/(\d+)$/.exec(hour);
    if (step) {
      const n = Number(step[1]);
      if (n < 1 || 24 % n !== 0) return null;
      const text = n === 1 ? t('schedules.when.everyHour') : t('schedules.when.everyNHours', { n });
      return minute === 0 ? { text, local: n > 1 } : null;
    }
  }

  const hours = numList(hour, 23);
  if (!hours) return null;
  const time = listFormat(
    [...hours].sort((a, b) => a - b).map((h) => clock(h, minute)),
    lng,
  );

  if (dom === '*' && dow === '*') return { text: t('schedules.when.dailyAt', { time }), local: true };
  if (dom === '*') {
    const days = dayList(dow);
    if (!days || days.length === 0) return null;
    const key = days.join(',');
    if (key === '1,2,3,4,5') return { text: t('schedules.when.weekdaysAt', { time }), local: true };
    if (key === '0,6') return { text: t('schedules.when.weekendsAt', { time }), local: true };
    if (days.length === 7) return { text: t('schedules.when.dailyAt', { time }), local: true };
    // Monday first, as in a work week.
    const ordered = [...days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7));
    const names = listFormat(ordered.map((d) => weekdayName(d, lng)), lng);
    return { text: t('schedules.when.onDaysAt', { days: names, time }), local: true };
  }
  if (dow === '*') {
    const day = num(dom, 31);
    if (day === null || day < 1) return null;
    return { text: t('schedules.when.monthlyAt', { day, time }), local: true };
  }
  return null;
}

/**
 * When a schedule runs, in plain words where that is easy ("every hour", "weekdays at 07:00
 * (America/Sao_Paulo)"); otherwise the cron expression itself with its zone.
 */
export function describeTiming(s: Timing, t: TFunction, lng: string): string {
  if (s.cron) {
    const zone = s.timezone ?? 'UTC';
    const shape = describeCronShape(s.cron, t, lng);
    if (!shape) return t('schedules.when.cron', { expr: s.cron, zone });
    return shape.local ? t('schedules.when.withZone', { when: shape.text, zone }) : shape.text;
  }
  if (s.every_minutes !== null && s.every_minutes > 0) return describeInterval(s.every_minutes, t);
  return '—';
}

/** A catch-up window in words ("12 hours", "45 minutes"); 0 = never catch up. */
export function describeWindow(minutes: number, t: TFunction): string {
  if (minutes <= 0) return t('schedules.form.catchUpNever');
  if (minutes % 60 === 0) return t('schedules.form.hours', { n: minutes / 60 });
  return t('schedules.form.minutes', { n: minutes });
}
