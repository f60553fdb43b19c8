// Locale-aware formatting of money, numbers, dates, times and durations.
// Every function takes the app locale ("pt-BR", "es", "en") explicitly so it is easy to test and
// never depends on the machine's own settings.

/** The app locales the UI ships dictionaries for. */
export type AppLocale = 'pt-BR' | 'es' | 'en';

export const APP_LOCALES: readonly AppLocale[] = ['pt-BR', 'es', 'en'];

/** Maps any locale tag ("pt", "es_EC.UTF-8", "en-GB") to one of the app locales. */
export function normalizeLocale(raw: string | null | undefined): AppLocale {
  const l = (raw ?? '').toLowerCase();
  if (l.startsWith('pt')) return 'pt-BR';
  if (l.startsWith('es')) return 'es';
  return 'en';
}

/**
 * The Intl locale used for formatting. Spanish is formatted as in Ecuador (es-EC), whose
 * companies are the Spanish-speaking users of BackOffice (Contífico).
 */
export function intlLocale(locale: string): string {
  switch (normalizeLocale(locale)) {
    case 'pt-BR':
      return 'pt-BR';
    case 'es':
      return 'es-EC';
    default:
      return 'en-US';
  }
}

/** Default currency for a locale: Brazil uses BRL; Ecuador (and the English UI) use USD. */
export function currencyForLocale(locale: string): string {
  return normalizeLocale(locale) === 'pt-BR' ? 'BRL' : 'USD';
}

/** Formats an amount of money; the currency defaults to the locale's own. */
export function formatMoney(amount: number, locale: string, currency?: string): string {
  return new Intl.NumberFormat(intlLocale(locale), {
    style: 'currency',
    currency: currency ?? currencyForLocale(locale),
  }).format(amount);
}

export function formatNumber(value: number, locale: string, maximumFractionDigits = 2): string {
  return new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits }).format(value);
}

/** 0.0–1.0 → "42 %" in the locale's style. */
export function formatPercent(fraction: number, locale: string): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  return new Intl.NumberFormat(intlLocale(locale), { style: 'percent', maximumFractionDigits: 0 }).format(clamped);
}

function toDate(value: string | number | Date): Date | null {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const DATE: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit' };

/** Date and time, e.g. "04/03/2025, 12:30" (pt-BR). Invalid input gives an empty string. */
export function formatDateTime(value: string | number | Date, locale: string, timeZone?: string): string {
  const d = toDate(value);
  if (!d) return '';
  return new Intl.DateTimeFormat(intlLocale(locale), {
    ...DATE,
    hour: '2-digit',
    minute: '2-digit',
    ...(timeZone ? { timeZone } : {}),
  }).format(d);
}

/** Date only, e.g. "04/03/2025" (pt-BR, es), "03/04/2025" (en). */
export function formatDate(value: string | number | Date, locale: string, timeZone?: string): string {
  const d = toDate(value);
  if (!d) return '';
  return new Intl.DateTimeFormat(intlLocale(locale), { ...DATE, ...(timeZone ? { timeZone } : {}) }).format(d);
}

/** 24-hour time with seconds, for log lines, e.g. "12:30:05" in every locale. */
export function formatTime(value: string | number | Date, locale: string, timeZone?: string): string {
  const d = toDate(value);
  if (!d) return '';
  return new Intl.DateTimeFormat(intlLocale(locale), {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(d);
}

const RELATIVE_STEPS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.345],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "5 minutes ago", "há 2 horas", "hace 3 días"; `now` is injectable for tests. */
export function formatRelative(value: string | number | Date, locale: string, now: number = Date.now()): string {
  const d = toDate(value);
  if (!d) return '';
  let amount = (d.getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(intlLocale(locale), { numeric: 'auto' });
  if (Math.abs(amount) < 45) return rtf.format(0, 'second');
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return rtf.format(Math.round(amount), unit);
    amount /= size;
  }
  return rtf.format(Math.round(amount), 'year');
}

function unit(value: number, u: 'second' | 'minute' | 'hour', locale: string): string {
  return new Intl.NumberFormat(intlLocale(locale), { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(value);
}

/** A duration in milliseconds as "45s", "3min 5s", "2h 10min" (unit names per locale). */
export function formatDuration(ms: number, locale: string): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${unit(h, 'hour', locale)} ${unit(m, 'minute', locale)}` : unit(h, 'hour', locale);
  if (m > 0) return s > 0 ? `${unit(m, 'minute', locale)} ${unit(s, 'second', locale)}` : unit(m, 'minute', locale);
  return unit(s, 'second', locale);
}

/** Milliseconds between two RFC 3339 instants (end defaults to `now`), or null if start is missing. */
export function elapsedMs(start: string | null, end: string | null, now: number = Date.now()): number | null {
  if (!start) return null;
  const s = toDate(start);
  if (!s) return null;
  const e = end ? toDate(end) : null;
  return Math.max(0, (e ? e.getTime() : now) - s.getTime());
}

/** "GMT-3" for a time zone at the given instant; empty if the zone is unknown. */
export function timeZoneOffsetLabel(timeZone: string, at: Date = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'shortOffset' }).formatToParts(at);
    return parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
  } catch {
    return '';
  }
}

// ---------- Exact decimals ----------
// Money and quantities arrive from the core as exact decimal strings ("1234567.891", "-0.10").
// Converting them to a JavaScript number could change their digits, so they are formatted as text:
// the integer part is grouped by Intl (as a BigInt, which is exact), the fraction is kept digit for
// digit, and only the separators and the minus sign come from the locale.

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;

interface NumberSymbols {
  decimal: string;
  minus: string;
  group: Intl.NumberFormat;
}

const symbolCache = new Map<string, NumberSymbols>();

function numberSymbols(locale: string): NumberSymbols {
  const tag = intlLocale(locale);
  let s = symbolCache.get(tag);
  if (!s) {
    const parts = new Intl.NumberFormat(tag).formatToParts(-1.5);
    s = {
      decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
      minus: parts.find((p) => p.type === 'minusSign')?.value ?? '-',
      group: new Intl.NumberFormat(tag, { useGrouping: true, maximumFractionDigits: 0 }),
    };
    symbolCache.set(tag, s);
  }
  return s;
}

/**
 * Formats an exact decimal string in the locale's style without losing a digit:
 * "1234567.891" → "1.234.567,891" (pt-BR), "1,234,567.891" (en); "0.10" keeps both fraction digits.
 * `minFractionDigits` pads the fraction with zeros (never rounds). Text that is not a plain decimal
 * (empty, "abc", "1e5") is returned unchanged.
 */
export function formatDecimalString(value: string, locale: string, minFractionDigits = 0): string {
  const m = DECIMAL_RE.exec(value.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return value;
  const sign = m[1] ?? '';
  const intDigits = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  let frac = m[3] ?? '';
  if (frac.length < minFractionDigits) frac = frac.padEnd(minFractionDigits, '0');
  const sym = numberSymbols(locale);
  const isZero = /^0*$/.test(intDigits + frac);
  const grouped = sym.group.format(BigInt(intDigits));
  const body = frac ? `${grouped}${sym.decimal}${frac}` : grouped;
  return sign === '-' && !isZero ? `${sym.minus}${body}` : body;
}

/**
 * Reads a number typed by a user in their locale ("1.234,56" in pt-BR/es, "1,234.56" in en) into
 * an exact decimal string ("1234.56"), or null if it is not a number. A lone group separator not
 * followed by exactly three digits ("10.5" in pt-BR) is taken as the decimal separator.
 */
export function parseDecimalInput(text: string, locale: string): string | null {
  const sym = numberSymbols(locale);
  const groupSep = sym.decimal === ',' ? '.' : ',';
  let s = text.replace(/[\s\u00a0\u202f]/g, '').replace(/^\u2212/, '-');
  if (s === '') return null;
  const hasDecimal = s.includes(sym.decimal);
  const groups = s.split(groupSep).length - 1;
  if (!hasDecimal && groups === 1 && !/^\d{1,3}\D\d{3}$/.test(s.replace(/^[+-]/, ''))) {
    s = s.replace(groupSep, sym.decimal);
  }
  s = s.split(groupSep).join('');
  if (sym.decimal !== '.') s = s.replace(sym.decimal, '.');
  const m = DECIMAL_RE.exec(s);
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) return null;
  const intDigits = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const frac = m[3] ?? '';
  return `${m[1] === '-' ? '-' : ''}${intDigits}${frac ? `.${frac}` : ''}`;
}

/** A calendar date "2025-03-04" in the locale's order ("04/03/2025" in pt-BR), with no time-zone shift. */
export function formatDateOnly(value: string, locale: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return value;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(d.getTime())) return value;
  return new Intl.DateTimeFormat(intlLocale(locale), { ...DATE, timeZone: 'UTC' }).format(d);
}
