// Dates typed in the APP's language, not the machine's: the text a date field shows and reads
// ("05/12/2026" in pt-BR and es) and the ISO value the forms keep ("2026-12-05", or
// "2026-12-05T14:30" with a time, as `<input type="date">` / `type="datetime-local"` gave them).
//
// Day first in pt-BR and es. English uses yyyy-mm-dd: the English UI formats other dates the US
// way (month first), so a day-first field would be read wrongly by some users and a month-first one
// by others; year-month-day is read one way only. Times are always 24 h ("14:30").
import { normalizeLocale, type AppLocale } from '../../format';

interface DatePattern {
  /** The order of the parts as typed and shown. */
  order: 'dmy' | 'ymd';
  /** Between the date's parts. */
  sep: string;
  /** Shown in the empty field: the letters of the language (aaaa = ano / año). */
  placeholder: string;
}

// The format masks are kept here, next to the parser that reads them, so the two cannot disagree.
const PATTERNS: Record<AppLocale, DatePattern> = {
  'pt-BR': { order: 'dmy', sep: '/', placeholder: 'dd/mm/aaaa' },
  es: { order: 'dmy', sep: '/', placeholder: 'dd/mm/aaaa' },
  en: { order: 'ymd', sep: '-', placeholder: 'yyyy-mm-dd' },
};

/** The placeholder of a date field: "dd/mm/aaaa" (pt-BR, es), "yyyy-mm-dd" (en); "… hh:mm" with a time. */
export function datePlaceholder(locale: string, withTime = false): string {
  const p = PATTERNS[normalizeLocale(locale)].placeholder;
  return withTime ? `${p} hh:mm` : p;
}

interface Parts {
  y: number;
  m: number;
  d: number;
  /** Only when a time was given. */
  time: { h: number; min: number; s: number | null } | null;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** The parts when they name a real day and time (no 31/02, no 25:00), else null. */
function checked(y: number, m: number, d: number, time: Parts['time']): Parts | null {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  if (time && (time.h > 23 || time.min > 59 || (time.s ?? 0) > 59)) return null;
  return { y, m, d, time };
}

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

function timeOf(h: string | undefined, min: string | undefined, s: string | undefined): Parts['time'] {
  if (h === undefined || min === undefined) return null;
  return { h: Number(h), min: Number(min), s: num(s) ?? null };
}

// "hh:mm", "hh:mm:ss" (also "14h30"), after a space, a "T" or ", ".
const TIME = String.raw`(?:(?:\s*,\s*|\s+|T)(\d{1,2})[:h](\d{2})(?::(\d{2})(?:\.\d+)?)?)?`;
// ISO, as the forms keep it and as it is pasted from elsewhere: 2026-12-05, 2026-12-05T14:30:00.
const ISO_RE = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})${TIME}$`);
// Year first with slashes or dots: 2026/12/05.
const YMD_RE = new RegExp(String.raw`^(\d{4})[/.](\d{1,2})[/.](\d{1,2})${TIME}$`);
// Day first: 05/12/2026, 5-12-2026, 05.12.26.
const DMY_RE = new RegExp(String.raw`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})${TIME}$`);
// Eight digits in the language's order: 05122026 (pt-BR, es), 20261205 (en).
const COMPACT_RE = new RegExp(String.raw`^(\d{8})${TIME}$`);

const fullYear = (y: string) => (y.length === 2 ? 2000 + Number(y) : Number(y));

function readParts(text: string, locale: AppLocale): Parts | null {
  const s = text.trim().replace(/\s+/g, ' ');
  let m = ISO_RE.exec(s) ?? YMD_RE.exec(s);
  if (m) return checked(Number(m[1]), Number(m[2]), Number(m[3]), timeOf(m[4], m[5], m[6]));
  const { order } = PATTERNS[locale];
  // Day-first text is read only where day first is the language's order: in English "05/12/2026"
  // could be May or December, so it is refused rather than guessed.
  if (order === 'dmy') {
    m = DMY_RE.exec(s);
    if (m) return checked(fullYear(m[3]!), Number(m[2]), Number(m[1]), timeOf(m[4], m[5], m[6]));
  }
  m = COMPACT_RE.exec(s);
  if (m) {
    const n = m[1]!;
    const time = timeOf(m[2], m[3], m[4]);
    return order === 'dmy'
      ? checked(Number(n.slice(4)), Number(n.slice(2, 4)), Number(n.slice(0, 2)), time)
      : checked(Number(n.slice(0, 4)), Number(n.slice(4, 6)), Number(n.slice(6)), time);
  }
  return null;
}

function isoOf(p: Parts, withTime: boolean): string {
  const date = `${pad(p.y, 4)}-${pad(p.m)}-${pad(p.d)}`;
  if (!withTime) return date;
  const t = p.time ?? { h: 0, min: 0, s: null };
  return `${date}T${pad(t.h)}:${pad(t.min)}${t.s ? `:${pad(t.s)}` : ''}`;
}

/**
 * Reads what the user typed into a date field: the language's format ("05/12/2026" in pt-BR/es,
 * "2026-12-05" in en), ISO in any language (pasted, or typed by a test), and eight digits in the
 * language's order ("05122026"). With `withTime`, a time may follow ("05/12/2026 14:30",
 * "2026-12-05T14:30"); without one the day starts at 00:00.
 *
 * Returns the ISO value ("2026-12-05", or "2026-12-05T14:30" with a time), "" when the text is
 * blank, or null when it is not a real date (31/02/2026, letters, a time in a date-only field).
 */
export function parseDateInput(text: string, locale: string, withTime = false): string | null {
  if (text.trim() === '') return '';
  const p = readParts(text, normalizeLocale(locale));
  if (!p || (!withTime && p.time)) return null;
  return isoOf(p, withTime);
}

/**
 * The text a date field shows for an ISO value: "05/12/2026" (pt-BR, es) or "2026-12-05" (en) for
 * "2026-12-05"; "05/12/2026 14:30" with a time. A value that is not ISO is returned unchanged.
 */
export function formatDateInput(value: string, locale: string, withTime = false): string {
  const m = ISO_RE.exec(value.trim());
  const p = m ? checked(Number(m[1]), Number(m[2]), Number(m[3]), timeOf(m[4], m[5], m[6])) : null;
  if (!p || (!withTime && p.time)) return value;
  const { order, sep } = PATTERNS[normalizeLocale(locale)];
  const date = order === 'dmy' ? [pad(p.d), pad(p.m), pad(p.y, 4)].join(sep) : [pad(p.y, 4), pad(p.m), pad(p.d)].join(sep);
  if (!withTime) return date;
  const t = p.time ?? { h: 0, min: 0, s: null };
  return `${date} ${pad(t.h)}:${pad(t.min)}${t.s ? `:${pad(t.s)}` : ''}`;
}

/** True for a real calendar date written "yyyy-mm-dd" (what a date field hands its form). */
export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && parseDateInput(value, 'en') === value;
}

/** True for a real local date and time written "yyyy-mm-ddThh:mm" (or "…:ss"). */
export function isIsoDateTime(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) && readParts(value, 'en') !== null;
}
