import { describe, expect, it } from 'vitest';

import {
  currencyForLocale,
  elapsedMs,
  formatDate,
  formatDateOnly,
  formatDecimalString,
  formatDateTime,
  formatDuration,
  formatMoney,
  formatNumber,
  formatPercent,
  formatRelative,
  formatTime,
  intlLocale,
  normalizeLocale,
  parseDecimalInput,
} from './format';

// Intl separates currency symbols with no-break spaces; compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('locales', () => {
  it('normalises any tag to an app locale', () => {
    expect(normalizeLocale('pt')).toBe('pt-BR');
    expect(normalizeLocale('pt_BR.UTF-8')).toBe('pt-BR');
    expect(normalizeLocale('es-EC')).toBe('es');
    expect(normalizeLocale('en-GB')).toBe('en');
    expect(normalizeLocale('fr-FR')).toBe('en');
    expect(normalizeLocale(null)).toBe('en');
  });

  it('formats Spanish as Ecuador', () => {
    expect(intlLocale('es')).toBe('es-EC');
    expect(intlLocale('pt-BR')).toBe('pt-BR');
    expect(intlLocale('en')).toBe('en-US');
  });

  it('picks BRL for Brazil and USD for Ecuador and English', () => {
    expect(currencyForLocale('pt-BR')).toBe('BRL');
    expect(currencyForLocale('es')).toBe('USD');
    expect(currencyForLocale('es-EC')).toBe('USD');
    expect(currencyForLocale('en')).toBe('USD');
  });
});

describe('formatMoney', () => {
  it('uses reais with Brazilian separators in pt-BR', () => {
    expect(plain(formatMoney(1234.56, 'pt-BR'))).toBe('R$ 1.234,56');
  });

  it('uses dollars with Ecuadorian separators in es', () => {
    const s = plain(formatMoney(1234.56, 'es'));
    expect(s).toContain('1.234,56');
    expect(s).toContain('$');
    expect(s).not.toContain('R$');
    expect(s).not.toContain('US$');
  });

  it('uses dollars in en', () => {
    expect(formatMoney(1234.56, 'en')).toBe('$1,234.56');
  });

  it('honours an explicit currency', () => {
    expect(plain(formatMoney(10, 'pt-BR', 'USD'))).toBe('US$ 10,00');
  });

  it('formats negative amounts', () => {
    expect(plain(formatMoney(-5, 'pt-BR'))).toMatch(/^-\s?R\$ 5,00$/);
  });
});

describe('numbers', () => {
  it('groups thousands per locale', () => {
    expect(formatNumber(100000, 'pt-BR')).toBe('100.000');
    expect(formatNumber(100000, 'en')).toBe('100,000');
  });

  it('formats and clamps percentages', () => {
    expect(plain(formatPercent(0.42, 'en'))).toBe('42%');
    expect(plain(formatPercent(1.7, 'pt-BR'))).toBe('100%');
    expect(plain(formatPercent(-1, 'es'))).toBe('0%');
  });
});

describe('dates and times', () => {
  const instant = '2025-03-04T15:30:05Z';

  it('orders day and month per locale', () => {
    expect(formatDate(instant, 'pt-BR', 'UTC')).toBe('04/03/2025');
    expect(formatDate(instant, 'es', 'UTC')).toBe('04/03/2025');
    expect(formatDate(instant, 'en', 'UTC')).toBe('03/04/2025');
  });

  it('converts to the given time zone', () => {
    expect(formatDateTime(instant, 'pt-BR', 'America/Sao_Paulo')).toContain('12:30');
    expect(formatTime(instant, 'pt-BR', 'America/Guayaquil')).toBe('10:30:05');
    // Log times are 24-hour in every language.
    expect(formatTime(instant, 'es', 'UTC')).toBe('15:30:05');
    expect(formatTime(instant, 'en', 'UTC')).toBe('15:30:05');
  });

  it('gives an empty string for an invalid date', () => {
    expect(formatDateTime('not a date', 'en')).toBe('');
  });

  it('says how long ago in the user language', () => {
    const now = Date.parse('2025-03-04T15:35:05Z');
    expect(formatRelative(instant, 'pt-BR', now)).toBe('há 5 minutos');
    expect(formatRelative(instant, 'es', now)).toBe('hace 5 minutos');
    expect(formatRelative(instant, 'en', now)).toBe('5 minutes ago');
    expect(formatRelative(instant, 'en', Date.parse(instant) + 10_000)).toBe('now');
    expect(formatRelative(instant, 'en', Date.parse('2025-03-06T15:30:05Z'))).toBe('2 days ago');
  });
});

describe('durations', () => {
  it('formats seconds, minutes and hours', () => {
    expect(plain(formatDuration(45_000, 'en'))).toBe('45s');
    expect(plain(formatDuration(185_000, 'en'))).toBe('3m 5s');
    expect(plain(formatDuration(2 * 3600_000 + 600_000, 'en'))).toBe('2h 10m');
    expect(plain(formatDuration(185_000, 'pt-BR'))).toBe('3 min 5 s');
  });

  it('measures elapsed time, running or finished', () => {
    expect(elapsedMs('2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z')).toBe(60_000);
    expect(elapsedMs('2025-01-01T00:00:00Z', null, Date.parse('2025-01-01T00:00:30Z'))).toBe(30_000);
    expect(elapsedMs(null, null)).toBeNull();
  });
});

describe('exact decimals', () => {
  it('groups and localises a decimal string digit for digit', () => {
    expect(formatDecimalString('1234567.891', 'pt-BR')).toBe('1.234.567,891');
    expect(formatDecimalString('1234567.891', 'es')).toBe('1.234.567,891');
    expect(formatDecimalString('1234567.891', 'en')).toBe('1,234,567.891');
  });

  it('keeps every fraction digit, trailing zeros included', () => {
    expect(formatDecimalString('0.10', 'pt-BR')).toBe('0,10');
    expect(formatDecimalString('0.10', 'en')).toBe('0.10');
    expect(formatDecimalString('12.500000', 'en')).toBe('12.500000');
    // More digits than a float can hold.
    expect(formatDecimalString('98765432109876543210.123456789012345678', 'en')).toBe(
      '98,765,432,109,876,543,210.123456789012345678',
    );
    expect(formatDecimalString('0.1000000000000000055511151231257827', 'pt-BR')).toBe('0,1000000000000000055511151231257827');
  });

  it('formats negative numbers', () => {
    expect(formatDecimalString('-1234.5', 'pt-BR')).toBe('-1.234,5');
    expect(formatDecimalString('-0.10', 'en')).toBe('-0.10');
    expect(formatDecimalString('-999', 'es')).toBe('-999');
    expect(formatDecimalString('-0.00', 'en')).toBe('0.00');
    expect(formatDecimalString('+5', 'en')).toBe('5');
  });

  it('handles integers, leading zeros and bare fractions', () => {
    expect(formatDecimalString('1000', 'en')).toBe('1,000');
    expect(formatDecimalString('007', 'en')).toBe('7');
    expect(formatDecimalString('.5', 'pt-BR')).toBe('0,5');
    expect(formatDecimalString('5.', 'en')).toBe('5');
  });

  it('pads the fraction without rounding when asked', () => {
    expect(formatDecimalString('10', 'pt-BR', 2)).toBe('10,00');
    expect(formatDecimalString('10.5', 'en', 2)).toBe('10.50');
    expect(formatDecimalString('10.567', 'en', 2)).toBe('10.567');
  });

  it('leaves anything that is not a plain decimal unchanged', () => {
    expect(formatDecimalString('', 'en')).toBe('');
    expect(formatDecimalString('abc', 'en')).toBe('abc');
    expect(formatDecimalString('1e5', 'en')).toBe('1e5');
    expect(formatDecimalString('-', 'en')).toBe('-');
  });

  it('reads numbers typed in the user locale', () => {
    expect(parseDecimalInput('1.234,56', 'pt-BR')).toBe('1234.56');
    expect(parseDecimalInput('1,234.56', 'en')).toBe('1234.56');
    expect(parseDecimalInput('1.234', 'es')).toBe('1234');
    expect(parseDecimalInput('10.5', 'pt-BR')).toBe('10.5');
    expect(parseDecimalInput('12345.678', 'pt-BR')).toBe('12345.678');
    expect(parseDecimalInput(' -0,10 ', 'es')).toBe('-0.10');
    expect(parseDecimalInput('abc', 'en')).toBeNull();
    expect(parseDecimalInput('', 'en')).toBeNull();
  });
});

describe('calendar dates', () => {
  it('shows yyyy-mm-dd in the locale order without shifting the day', () => {
    expect(formatDateOnly('2025-03-04', 'pt-BR')).toBe('04/03/2025');
    expect(formatDateOnly('2025-03-04', 'es')).toBe('04/03/2025');
    expect(formatDateOnly('2025-03-04', 'en')).toBe('03/04/2025');
    expect(formatDateOnly('2025-12-31', 'en')).toBe('12/31/2025');
    expect(formatDateOnly('not a date', 'en')).toBe('not a date');
  });
});
