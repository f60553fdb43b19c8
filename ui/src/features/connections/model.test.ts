import { describe, expect, it } from 'vitest';

import { DEFAULT_BASE_URL, desktopZone, emptyForm, switchKind, validateConnectionForm, type ConnectionFormValues } from './model';

const valid: ConnectionFormValues = {
  name: 'Matriz',
  kind: 'omie',
  baseUrl: 'https://app.omie.com.br/api/v1/',
  timezone: 'America/Sao_Paulo',
  key: 'k',
  secret: 's',
};

function errorsOf(values: ConnectionFormValues, mode: 'create' | 'edit' = 'create') {
  const r = validateConnectionForm(values, mode);
  return r.ok ? {} : r.errors;
}

describe('connection form validation', () => {
  it('accepts a complete form and builds the IPC input', () => {
    const r = validateConnectionForm({ ...valid, name: '  Matriz  ' }, 'create');
    expect(r).toEqual({
      ok: true,
      input: {
        name: 'Matriz',
        kind: 'omie',
        base_url: 'https://app.omie.com.br/api/v1/',
        timezone: 'America/Sao_Paulo',
        credentials: { key: 'k', secret: 's' },
      },
    });
  });

  it('requires a name of at most 80 characters', () => {
    expect(errorsOf({ ...valid, name: '   ' }).name).toBe('validation.nameRequired');
    expect(errorsOf({ ...valid, name: 'x'.repeat(81) }).name).toBe('validation.nameTooLong');
    expect(errorsOf({ ...valid, name: 'x'.repeat(80) }).name).toBeUndefined();
  });

  it('requires an http(s) address', () => {
    expect(errorsOf({ ...valid, baseUrl: '' }).baseUrl).toBe('validation.urlRequired');
    expect(errorsOf({ ...valid, baseUrl: 'ftp://files.example.com' }).baseUrl).toBe('validation.urlInvalid');
    expect(errorsOf({ ...valid, baseUrl: 'app.omie.com.br' }).baseUrl).toBe('validation.urlInvalid');
    expect(errorsOf({ ...valid, baseUrl: 'http://127.0.0.1:8080/' }).baseUrl).toBeUndefined();
  });

  it('requires the key (and the secret, except Contífico) when creating', () => {
    expect(errorsOf({ ...valid, key: '' }).key).toBe('validation.keyRequired');
    expect(errorsOf({ ...valid, secret: '' }).secret).toBe('validation.secretRequired');
    expect(errorsOf({ ...valid, kind: 'contifico', secret: '' })).toEqual({});
  });

  it('keeps the stored secrets on edit when both are left empty', () => {
    const r = validateConnectionForm({ ...valid, key: '', secret: '' }, 'edit');
    expect(r.ok && r.input.credentials).toBeNull();
  });

  it('asks for the key on edit when only a new secret is typed', () => {
    expect(errorsOf({ ...valid, key: '', secret: 'new' }, 'edit').key).toBe('validation.keyRequiredWithSecret');
  });
});

describe('switching the ERP', () => {
  it('follows the new defaults when the user kept the old ones', () => {
    const v = switchKind(emptyForm('omie'), 'contifico');
    expect(v.baseUrl).toBe(DEFAULT_BASE_URL.contifico);
    expect(v.timezone).toBe('America/Guayaquil');
    expect(switchKind(v, 'erpnext')).toMatchObject({ baseUrl: '', timezone: desktopZone() });
  });

  it('keeps an address the user typed', () => {
    const v = switchKind({ ...emptyForm('erpnext'), baseUrl: 'https://erp.acme.test' }, 'omie');
    expect(v.baseUrl).toBe('https://erp.acme.test');
    expect(v.timezone).toBe('America/Sao_Paulo');
  });
});
