// Helpers shared by the Contífico views: human labels for resources and columns, the parsed
// progress label of a sync job, and a JSON pretty-printer that never touches number digits.
import type { i18n as I18n } from 'i18next';

import type { Job } from '../bindings/Job';
import type { JobStatus } from '../bindings/JobStatus';

export const SYNC_KIND = 'sync_contifico';
export const ERP = 'contifico';
/** Rows asked for per browse request (the core accepts up to 1000). */
export const PAGE_SIZE = 200;

/** "numero_comprobante" → "Numero comprobante". */
export function humanize(name: string): string {
  const words = name.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The translated name of a Contífico resource (`personas` → "Customers and suppliers"). */
export function resourceLabel(i18n: I18n, name: string): string {
  const key = `contifico.resources.${name}`;
  return i18n.exists(key) ? i18n.t(key) : humanize(name);
}

/** The translated label of a column (an API field name such as `fecha_emision`). */
export function columnLabel(i18n: I18n, name: string): string {
  const key = `contifico.columns.${name}`;
  return i18n.exists(key) ? i18n.t(key) : humanize(name);
}

export function isActiveJob(job: Job | null | undefined): boolean {
  return job?.status === 'queued' || job?.status === 'running';
}

const JOB_STATUSES: readonly string[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function asJobStatus(s: string): JobStatus | null {
  return JOB_STATUSES.includes(s) ? (s as JobStatus) : null;
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

const LOCAL_KEY = 'backoffice.contifico.connection';

/** The Contífico connection last chosen on this computer (kept between visits to the page). */
export function rememberedConnection(): string | null {
  try {
    return window.localStorage.getItem(LOCAL_KEY);
  } catch {
    return null;
  }
}

export function rememberConnection(id: string): void {
  try {
    window.localStorage.setItem(LOCAL_KEY, id);
  } catch {
    // Private storage may be unavailable; the choice then lasts for this visit only.
  }
}

/** "2025-03-04T10:30" from a datetime-local input → RFC 3339 in UTC; null when empty or invalid. */
export function localDateTimeToRfc3339(value: string): string | null {
  if (!value.trim()) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
