// What a connection's card on the dashboard works out from the core's `ConnectionCard`, without
// React: what the last run changed, how long it took, whether the data is older than promised,
// whether a failure is about the connection's credentials, and a day of the chart in words.
import type { ApiError } from '../../bindings/ApiError';
import type { ConnectionCard } from '../../bindings/ConnectionCard';
import type { DayActivity } from '../../bindings/DayActivity';
import type { Job } from '../../bindings/Job';
import type { SyncRun } from '../../bindings/SyncRun';
import { intlLocale, normalizeLocale } from '../../format';
import { SYNC_JOB_KIND } from '../sync';

/** The counts of a run the card shows, in this order (missing keys are 0). */
export const CHANGE_KEYS = ['added', 'updated', 'deleted', 'quarantined'] as const;
export type ChangeKey = (typeof CHANGE_KEYS)[number];

export function changeCounts(run: SyncRun): Record<ChangeKey, number> {
  const n = (k: ChangeKey) => run.counts[k] ?? 0;
  return { added: n('added'), updated: n('updated'), deleted: n('deleted'), quarantined: n('quarantined') };
}

/**
 * How long a run took (finished − started), or has been running (now − started); null when its
 * start cannot be read.
 */
export function runDurationMs(run: SyncRun, now: number): number | null {
  const start = Date.parse(run.started_at);
  if (Number.isNaN(start)) return null;
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Number.isNaN(end) ? null : Math.max(0, end - start);
}

/** The data is older than its schedule promises: `fresh_until` is set and already past. */
export function isStale(card: ConnectionCard, now: number): boolean {
  if (!card.fresh_until) return false;
  const until = Date.parse(card.fresh_until);
  return !Number.isNaN(until) && now > until;
}

/**
 * Errors the user fixes by editing the connection (its key or secret): the ERP rejected them, or
 * none are stored.
 */
const CREDENTIAL_CODES: readonly string[] = ['unauthorized', 'missing_credentials'];

export function isCredentialError(err: ApiError | null | undefined): boolean {
  return !!err && CREDENTIAL_CODES.includes(err.code);
}

const SYNC_KINDS: readonly string[] = Object.values(SYNC_JOB_KIND);

/** Whether `job` syncs a connection (the only jobs a card follows live). */
export function isSyncJob(job: Job): boolean {
  return job.connection_id !== null && SYNC_KINDS.includes(job.kind);
}

/**
 * A day of the chart, "2025-12-05" → "05/12" (pt-BR, es: dd/mm, as the date fields write dates) or
 * "Dec 5" (en); no time-zone shift. (Intl gives "5/12" for es-EC, hence the digits by hand.)
 */
export function formatDayMonth(day: string, locale: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!m) return day;
  if (normalizeLocale(locale) !== 'en') return `${m[3]}/${m[2]}`;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(intlLocale(locale), { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(d);
}

/** The totals the chart's summary (its accessible label) tells. */
export function activityTotals(days: readonly DayActivity[]): { changed: number; runs: number; failedDays: number } {
  return days.reduce(
    (acc, d) => ({
      changed: acc.changed + d.changed,
      runs: acc.runs + d.runs,
      failedDays: acc.failedDays + (d.failed > 0 ? 1 : 0),
    }),
    { changed: 0, runs: 0, failedDays: 0 },
  );
}
