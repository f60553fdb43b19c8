import { describe, expect, it } from 'vitest';

import { formatDateOnly } from '../../format';
import { datePlaceholder, formatDateInput, isIsoDate, isIsoDateTime, parseDateInput } from './dates';

describe('date fields: placeholders', () => {
  it('show the language’s letters and order', () => {
    expect(datePlaceholder('pt-BR')).toBe('dd/mm/aaaa');
    expect(datePlaceholder('es')).toBe('dd/mm/aaaa');
    expect(datePlaceholder('en')).toBe('yyyy-mm-dd');
    expect(datePlaceholder('pt-BR', true)).toBe('dd/mm/aaaa hh:mm');
    expect(datePlaceholder('es', true)).toBe('dd/mm/aaaa hh:mm');
    expect(datePlaceholder('en', true)).toBe('yyyy-mm-dd hh:mm');
  });
});

describe('date fields: pt-BR and es, day first', () => {
  it.each(['pt-BR', 'es'])('%s: formats and reads back dd/mm/aaaa', (lng) => {
    expect(formatDateInput('2026-12-05', lng)).toBe('05/12/2026');
    expect(parseDateInput('05/12/2026', lng)).toBe('2026-12-05');
    for (const iso of ['2026-01-31', '2024-02-29', '1999-12-31', '2026-07-04']) {
      expect(parseDateInput(formatDateInput(iso, lng), lng)).toBe(iso);
    }
  });

  it('shows the same text as the dates shown elsewhere in the app', () => {
    expect(formatDateInput('2026-12-05', 'pt-BR')).toBe(formatDateOnly('2026-12-05', 'pt-BR'));
    expect(formatDateInput('2026-12-05', 'es')).toBe(formatDateOnly('2026-12-05', 'es'));
  });

  it('reads the usual shorthands', () => {
    expect(parseDateInput('5/12/2026', 'pt-BR')).toBe('2026-12-05');
    expect(parseDateInput(' 05-12-2026 ', 'es')).toBe('2026-12-05');
    expect(parseDateInput('05.12.2026', 'pt-BR')).toBe('2026-12-05');
    expect(parseDateInput('05/12/26', 'pt-BR')).toBe('2026-12-05');
    expect(parseDateInput('05122026', 'es')).toBe('2026-12-05');
  });

  it('formats and reads a date and time, 24 h', () => {
    expect(formatDateInput('2026-12-05T14:30', 'pt-BR', true)).toBe('05/12/2026 14:30');
    expect(formatDateInput('2026-12-05T08:05', 'es', true)).toBe('05/12/2026 08:05');
    expect(parseDateInput('05/12/2026 14:30', 'pt-BR', true)).toBe('2026-12-05T14:30');
    expect(parseDateInput('05/12/2026, 14:30', 'es', true)).toBe('2026-12-05T14:30');
    expect(parseDateInput('5/12/2026 9:05', 'es', true)).toBe('2026-12-05T09:05');
    expect(parseDateInput('05/12/2026 14h30', 'pt-BR', true)).toBe('2026-12-05T14:30');
    // A date alone starts at midnight.
    expect(parseDateInput('05/12/2026', 'pt-BR', true)).toBe('2026-12-05T00:00');
    const v = '2026-01-31T23:59';
    expect(parseDateInput(formatDateInput(v, 'pt-BR', true), 'pt-BR', true)).toBe(v);
  });
});

describe('date fields: English, year first', () => {
  it('formats and reads yyyy-mm-dd', () => {
    expect(formatDateInput('2026-12-05', 'en')).toBe('2026-12-05');
    expect(parseDateInput('2026-12-05', 'en')).toBe('2026-12-05');
    expect(parseDateInput('2026/12/5', 'en')).toBe('2026-12-05');
    expect(parseDateInput('20261205', 'en')).toBe('2026-12-05');
    expect(formatDateInput('2026-12-05T14:30', 'en', true)).toBe('2026-12-05 14:30');
    expect(parseDateInput('2026-12-05 14:30', 'en', true)).toBe('2026-12-05T14:30');
  });

  it('refuses day-or-month-first text rather than guess', () => {
    expect(parseDateInput('05/12/2026', 'en')).toBeNull();
    expect(parseDateInput('12/05/2026', 'en')).toBeNull();
  });
});

describe('date fields: what is refused and what is always read', () => {
  it.each(['pt-BR', 'es', 'en'])('%s: reads ISO, typed or pasted', (lng) => {
    expect(parseDateInput('2026-12-05', lng)).toBe('2026-12-05');
    expect(parseDateInput('2025-01-15T08:30', lng, true)).toBe('2025-01-15T08:30');
    expect(parseDateInput('2025-01-15T08:30:00', lng, true)).toBe('2025-01-15T08:30');
    expect(parseDateInput('2025-01-15T08:30:45', lng, true)).toBe('2025-01-15T08:30:45');
    expect(parseDateInput('2025-01-15 08:30', lng, true)).toBe('2025-01-15T08:30');
  });

  it.each(['pt-BR', 'es', 'en'])('%s: refuses days that do not exist and text that is no date', (lng) => {
    for (const bad of ['31/02/2026', '2026-02-31', '29/02/2025', '2025-02-29', '00/01/2026', '32/01/2026', '01/13/2026', 'abc', '05/12/2026x', '05/12', '2026-13-01']) {
      expect(parseDateInput(bad, lng), bad).toBeNull();
    }
    expect(parseDateInput('05/12/2026 24:00', lng, true)).toBeNull();
    expect(parseDateInput('2026-12-05T14:60', lng, true)).toBeNull();
  });

  it('refuses a time in a date-only field', () => {
    expect(parseDateInput('05/12/2026 14:30', 'pt-BR')).toBeNull();
    expect(parseDateInput('2026-12-05T14:30', 'en')).toBeNull();
  });

  it('gives "" for a blank field and leaves a value that is not ISO as it is', () => {
    expect(parseDateInput('', 'pt-BR')).toBe('');
    expect(parseDateInput('   ', 'es', true)).toBe('');
    expect(formatDateInput('', 'pt-BR')).toBe('');
    expect(formatDateInput('31/02', 'pt-BR')).toBe('31/02');
  });

  it('tells a real ISO value from the text of an unfinished one', () => {
    expect(isIsoDate('2026-12-05')).toBe(true);
    expect(isIsoDate('2026-02-31')).toBe(false);
    expect(isIsoDate('05/12/2026')).toBe(false);
    expect(isIsoDate('2026-12-5')).toBe(false);
    expect(isIsoDate('')).toBe(false);
    expect(isIsoDateTime('2026-12-05T14:30')).toBe(true);
    expect(isIsoDateTime('2026-12-05T14:30:10')).toBe(true);
    expect(isIsoDateTime('2026-02-31T14:30')).toBe(false);
    expect(isIsoDateTime('2026-12-05T25:00')).toBe(false);
    expect(isIsoDateTime('2026-12-05')).toBe(false);
    expect(isIsoDateTime('05/12/2026 14:30')).toBe(false);
  });
});
