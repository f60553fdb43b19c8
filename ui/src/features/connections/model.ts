// The connection form: defaults per ERP, time zones offered, and client-side validation (zod).
// Messages are i18n keys (`validation.*`), translated where they are shown.
import { z } from 'zod';

import type { ConnectionInput } from '../../bindings/ConnectionInput';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import { collectIssues, type FieldErrors } from '../../components/form';

export const CONNECTION_KINDS: readonly ConnectionKind[] = ['omie', 'contifico', 'erpnext'];

/** The real service address offered by default (same values as the core's). */
export const DEFAULT_BASE_URL: Record<ConnectionKind, string> = {
  omie: 'https://app.omie.com.br/api/v1/',
  contifico: 'https://api.contifico.com/sistema/api/v1/',
  erpnext: '',
};

/** This computer's IANA time zone (what an ERPNext connection assumes until its site says its own). */
export function desktopZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export const DEFAULT_TIMEZONE: Record<ConnectionKind, string> = {
  omie: 'America/Sao_Paulo',
  contifico: 'America/Guayaquil',
  // An ERPNext site says its own zone when the connection is tested; until then, this computer's.
  erpnext: desktopZone(),
};

/** Whether the secret may stay empty when credentials are entered (Contífico's POS token). */
export const SECRET_OPTIONAL: Record<ConnectionKind, boolean> = {
  omie: false,
  contifico: true,
  erpnext: false,
};

export type TimeZoneGroup = 'tzBrazil' | 'tzEcuador' | 'tzLatam' | 'tzOther';

/** Common Latin American zones plus UTC, grouped for the select. */
export const TIME_ZONES: ReadonlyArray<{ group: TimeZoneGroup; zones: readonly string[] }> = [
  {
    group: 'tzBrazil',
    zones: [
      'America/Sao_Paulo',
      'America/Bahia',
      'America/Fortaleza',
      'America/Recife',
      'America/Belem',
      'America/Manaus',
      'America/Cuiaba',
      'America/Campo_Grande',
      'America/Porto_Velho',
      'America/Boa_Vista',
      'America/Rio_Branco',
      'America/Noronha',
    ],
  },
  { group: 'tzEcuador', zones: ['America/Guayaquil', 'Pacific/Galapagos'] },
  {
    group: 'tzLatam',
    zones: [
      'America/Argentina/Buenos_Aires',
      'America/Asuncion',
      'America/Bogota',
      'America/Caracas',
      'America/Costa_Rica',
      'America/El_Salvador',
      'America/Guatemala',
      'America/La_Paz',
      'America/Lima',
      'America/Mexico_City',
      'America/Montevideo',
      'America/Panama',
      'America/Santiago',
      'America/Santo_Domingo',
    ],
  },
  { group: 'tzOther', zones: ['UTC', 'America/New_York', 'Europe/Lisbon', 'Europe/Madrid'] },
];

export const ALL_TIME_ZONES: readonly string[] = TIME_ZONES.flatMap((g) => g.zones);

export type FormMode = 'create' | 'edit';

export interface ConnectionFormValues {
  name: string;
  kind: ConnectionKind;
  baseUrl: string;
  timezone: string;
  key: string;
  secret: string;
}

export function emptyForm(kind: ConnectionKind = 'omie'): ConnectionFormValues {
  return { name: '', kind, baseUrl: DEFAULT_BASE_URL[kind], timezone: DEFAULT_TIMEZONE[kind], key: '', secret: '' };
}

/**
 * Changing the ERP on a new connection: the address and the time zone follow the new ERP's
 * defaults unless the user already typed their own.
 */
export function switchKind(values: ConnectionFormValues, kind: ConnectionKind): ConnectionFormValues {
  const prev = values.kind;
  const baseUrl =
    values.baseUrl.trim() === '' || values.baseUrl.trim() === DEFAULT_BASE_URL[prev] ? DEFAULT_BASE_URL[kind] : values.baseUrl;
  const timezone = values.timezone === DEFAULT_TIMEZONE[prev] || values.timezone === '' ? DEFAULT_TIMEZONE[kind] : values.timezone;
  return { ...values, kind, baseUrl, timezone };
}

function isWebAddress(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** The zod schema for the form; credentials are mandatory when creating. */
export function connectionSchema(mode: FormMode) {
  return z
    .object({
      name: z.string().trim().min(1, 'validation.nameRequired').max(80, 'validation.nameTooLong'),
      kind: z.enum(['omie', 'contifico', 'erpnext']),
      baseUrl: z.string().trim(),
      timezone: z.string().trim().min(1, 'validation.timezoneRequired'),
      key: z.string().trim(),
      secret: z.string().trim(),
    })
    .superRefine((v, ctx) => {
      if (v.baseUrl === '') {
        ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'validation.urlRequired' });
      } else if (!isWebAddress(v.baseUrl)) {
        ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'validation.urlInvalid' });
      }
      const replacing = mode === 'create' || v.key !== '' || v.secret !== '';
      if (!replacing) return;
      if (v.key === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['key'],
          message: mode === 'create' ? 'validation.keyRequired' : 'validation.keyRequiredWithSecret',
        });
      }
      if (v.secret === '' && !SECRET_OPTIONAL[v.kind]) {
        ctx.addIssue({ code: 'custom', path: ['secret'], message: 'validation.secretRequired' });
      }
    });
}

export type ValidationResult = { ok: true; input: ConnectionInput } | { ok: false; errors: FieldErrors<keyof ConnectionFormValues> };

/**
 * Validates the form and builds what `create_connection` / `update_connection` expect. On edit,
 * empty key and secret give `credentials: null` (keep the stored ones).
 */
export function validateConnectionForm(values: ConnectionFormValues, mode: FormMode): ValidationResult {
  const parsed = connectionSchema(mode).safeParse(values);
  if (!parsed.success) return { ok: false, errors: collectIssues(parsed.error.issues) };
  const v = parsed.data;
  const credentials = v.key === '' && v.secret === '' ? null : { key: v.key, secret: v.secret };
  // A new ERPNext connection left on this computer's zone sends none: the core then marks the zone
  // as assumed, and the site's own replaces it when the connection is tested.
  const timezone = mode === 'create' && v.kind === 'erpnext' && v.timezone === desktopZone() ? '' : v.timezone;
  return {
    ok: true,
    input: { name: v.name, kind: v.kind, base_url: v.baseUrl, timezone, credentials },
  };
}
