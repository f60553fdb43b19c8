// Helpers of the sync feature that hold no React: the state of a sync job, the core's progress
// label, JSON shown without losing digits, and dates typed in inputs.
import type { Job } from '../../bindings/Job';
import type { JobStatus } from '../../bindings/JobStatus';
import { isIsoDateTime } from '../../components/form/dates';

export function isActiveJob(job: Job | null | undefined): boolean {
  return job?.status === 'queued' || job?.status === 'running';
}

const JOB_STATUSES: readonly string[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function asJobStatus(s: string): JobStatus | null {
  return JOB_STATUSES.includes(s) ? (s as JobStatus) : null;
}

const time = (iso: string | null | undefined): number => (iso ? Date.parse(iso) || 0 : 0);
const RANK: Record<Job['status'], number> = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

/**
 * Which of two states of a job to show: a newer job wins; for the same job the later status wins
 * (an event may arrive before the answer to "Sync now").
 */
export function pickJob(current: Job | null, next: Job): Job {
  if (!current) return next;
  if (current.id !== next.id) return time(next.created_at) >= time(current.created_at) ? next : current;
  return RANK[next.status] >= RANK[current.status] ? next : current;
}

export interface ProgressInfo {
  resource: string;
  page: number | null;
  records: number | null;
  rate: number | null;
  /** What follows "resource: " when the label is not the usual page line. */
  rest: string | null;
}

/**
 * Reads the core's progress label ("personas: page 3, 600 records, 1200/s"), so it can be shown
 * in the user's language. Null when the label has another shape.
 */
export function parseProgressLabel(label: string | null | undefined): ProgressInfo | null {
  if (!label) return null;
  const m = /^([a-z0-9_]+): page (\d+), (\d+) records, (\d+(?:\.\d+)?)\/s$/.exec(label.trim());
  if (m) {
    return { resource: m[1]!, page: Number(m[2]), records: Number(m[3]), rate: Number(m[4]), rest: null };
  }
  const g = /^([a-z0-9_]+): (.+)$/.exec(label.trim());
  if (g) return { resource: g[1]!, page: null, records: null, rate: null, rest: g[2]! };
  return null;
}

/**
 * Indents JSON text without parsing it into JavaScript values, so numbers such as
 * 1234.56789012345678 keep every digit. Text that is not JSON comes back as it is.
 */
export function prettyJson(raw: string, indent = 2): string {
  const pad = (n: number) => ' '.repeat(n * indent);
  let out = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    switch (ch) {
      case '"':
        inString = true;
        out += ch;
        break;
      case '{':
      case '[': {
        // Empty containers stay on one line.
        let j = i + 1;
        while (j < raw.length && /\s/.test(raw[j]!)) j++;
        const close = ch === '{' ? '}' : ']';
        if (raw[j] === close) {
          out += ch + close;
          i = j;
        } else {
          depth++;
          out += `${ch}\n${pad(depth)}`;
        }
        break;
      }
      case '}':
      case ']':
        depth = Math.max(0, depth - 1);
        out += `\n${pad(depth)}${ch}`;
        break;
      case ',':
        out += `,\n${pad(depth)}`;
        break;
      case ':':
        out += ': ';
        break;
      default:
        if (!/\s/.test(ch)) out += ch;
    }
  }
  return inString ? raw : out;
}

/**
 * "2025-03-04T10:30" (local time, from a date-and-time field) → RFC 3339 in UTC; null when empty or
 * not a real ISO date and time (the field hands over the text typed while it is not one, and
 * `new Date` would guess at "12/05/2026").
 */
export function localDateTimeToRfc3339(value: string): string | null {
  if (!isIsoDateTime(value.trim())) return null;
  const d = new Date(value.trim());
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Today minus `days` as yyyy-mm-dd (local time), for date inputs. */
export function isoDaysAgo(days: number, from: Date = new Date()): string {
  const d = new Date(from);
  d.setDate(d.getDate() - days);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
