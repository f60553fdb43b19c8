import { afterEach, describe, expect, it } from 'vitest';

import type { ApiError } from './bindings/ApiError';
import { ERROR_CODES, jobKindLabel, toApiError, translateError } from './errors';
import i18n from './i18n';

const err = (code: string, params: Record<string, string> = {}, message = 'English message'): ApiError => ({
  code,
  message,
  params,
  details: null,
});

afterEach(async () => {
  await i18n.changeLanguage('en');
});

describe('translateError', () => {
  it('translates with the params interpolated', async () => {
    await i18n.changeLanguage('pt-BR');
    const text = translateError(i18n, err('unauthorized', { connection: 'Matriz SP' }));
    expect(text).toContain('“Matriz SP” recusou a chave ou o segredo');
  });

  it('says what happened and what to do in Spanish', async () => {
    await i18n.changeLanguage('es');
    const text = translateError(i18n, err('timeout', { connection: 'Quito', url: 'https://x.test/' }));
    expect(text).toBe('“Quito” no respondió a tiempo (https://x.test/). El servicio puede estar lento ahora; intente de nuevo en unos minutos.');
  });

  it('shows the translated field label with the reason for invalid input', async () => {
    await i18n.changeLanguage('pt-BR');
    const text = translateError(i18n, err('invalid_input', { field: 'base_url', reason: 'The address has no host name.' }));
    expect(text).toBe('Confira o campo “URL base”: The address has no host name.');
  });

  it('translates the job kind of job_already_running', () => {
    const text = translateError(i18n, err('job_already_running', { kind: 'test_connection', target: 'Demo Omie' }));
    expect(text).toContain('“Connection test”');
    expect(text).toContain('Demo Omie');
  });

  it('falls back to the core message for an unknown code', () => {
    expect(translateError(i18n, err('brand_new_code', {}, 'Something new happened.'))).toBe('Something new happened.');
  });

  it('never leaves a {{placeholder}} in any language', async () => {
    for (const lng of ['en', 'es', 'pt-BR']) {
      await i18n.changeLanguage(lng);
      for (const code of ERROR_CODES) {
        expect(translateError(i18n, err(code)), `${lng} ${code}`).not.toMatch(/{{|}}/);
      }
    }
  });
});

describe('toApiError', () => {
  it('keeps an ApiError as it is', () => {
    const e = err('db', {}, 'disk full');
    expect(toApiError(e)).toEqual(e);
  });

  it('wraps a plain string rejection', () => {
    expect(toApiError('command list_jobs not found')).toMatchObject({ code: 'internal', message: 'command list_jobs not found' });
  });

  it('wraps an Error', () => {
    expect(toApiError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
  });
});

describe('jobKindLabel', () => {
  it('translates known kinds and humanises unknown ones', async () => {
    await i18n.changeLanguage('pt-BR');
    expect(jobKindLabel(i18n, 'test_connection')).toBe('Teste de conexão');
    expect(jobKindLabel(i18n, 'export_something')).toBe('Export something');
  });
});
