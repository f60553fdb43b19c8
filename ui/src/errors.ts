// Errors from the Rust side arrive as ApiError {code, message, params, details}. This module turns
// anything a rejected `invoke` may give into an ApiError, and an ApiError into words in the
// user's language.
import type { i18n as I18n } from 'i18next';

import type { ApiError } from './bindings/ApiError';
import type { Reason } from './bindings/Reason';

/** Every code the core can send. The dictionaries have an `errors.<code>` text for each. */
export const ERROR_CODES = [
  'invalid_input',
  'duplicate_name',
  'not_found',
  'keychain_unavailable',
  'missing_credentials',
  'unreachable',
  'tls',
  'timeout',
  'unauthorized',
  'forbidden',
  'not_json',
  'rate_limited',
  'http',
  'remote',
  'job_already_running',
  'cancelled',
  'db',
  'internal',
  'interrupted',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string';
}

/** Normalises whatever `invoke` rejected with (ApiError, plain string, Error) into an ApiError. */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) {
    const params = typeof e.params === 'object' && e.params !== null ? e.params : {};
    return { code: e.code, message: e.message, params, details: e.details ?? null };
  }
  if (typeof e === 'string') return { code: 'internal', message: e, params: {}, details: e };
  if (e instanceof Error) return { code: 'internal', message: e.message, params: {}, details: e.stack ?? e.message };
  return { code: 'internal', message: String(e), params: {}, details: null };
}

/** The translated label of a form field named by the core (`name`, `base_url`, `key`...). */
export function fieldLabel(i18n: I18n, field: string): string {
  const key = `fields.${field}`;
  return i18n.exists(key) ? i18n.t(key) : field;
}

/** The translated name of a job kind (`test_connection` → "Connection test"). */
export function jobKindLabel(i18n: I18n, kind: string): string {
  const key = `jobKinds.${kind}`;
  if (i18n.exists(key)) return i18n.t(key);
  const words = kind.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The plain-language text of an error in the current language: `errors.<code>` with the params
 * interpolated; the core's English message when the code is unknown.
 */
export function translateError(i18n: I18n, err: ApiError): string {
  const key = `errors.${err.code}`;
  if (!i18n.exists(key)) return err.message;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.params ?? {})) {
    if (typeof v === 'string') params[k] = v;
  }
  if (err.code === 'invalid_input' && params.field) params.field = fieldLabel(i18n, params.field);
  if (err.code === 'job_already_running' && params.kind) params.kind = jobKindLabel(i18n, params.kind);
  // Texts that mention a value the core did not send must not show "{{x}}".
  for (const name of ['connection', 'url', 'status', 'name', 'what', 'target', 'kind', 'field', 'reason', 'retry_after_s', 'remote_code']) {
    if (!(name in params)) params[name] = '';
  }
  if (!params.remote_message) params.remote_message = err.message;
  return i18n.t(key, params);
}

/**
 * Why a record was set aside (quarantine), in the current language: the text under its dictionary
 * key with its params; the core's English text when the key is unknown (an older record).
 */
export function reasonText(i18n: I18n, reason: Reason): string {
  if (!reason.key || !i18n.exists(reason.key)) return reason.message;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(reason.params ?? {})) if (typeof v === 'string') params[k] = v;
  return i18n.t(reason.key, params);
}

/** A Reason or ApiError sent whole inside a log line's params (`reason_json`, `error_json`). */
export function parseJsonParam<T>(text: string | undefined, check: (v: Record<string, unknown>) => boolean): T | null {
  if (!text) return null;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && check(v as Record<string, unknown>) ? (v as T) : null;
  } catch {
    return null;
  }
}
