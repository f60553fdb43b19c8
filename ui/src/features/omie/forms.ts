// Validation of the Omie page's forms (zod), mirroring the core's own checks so most mistakes are
// explained before a round-trip. Messages are i18n keys under `omie.validation`.
import { z } from 'zod';

import type { OmieAttachmentSettings } from '../../bindings/OmieAttachmentSettings';
import type { OmieCloseRequest } from '../../bindings/OmieCloseRequest';
import type { OmiePoCloseConfig } from '../../bindings/OmiePoCloseConfig';
import type { OmieTransferRequest } from '../../bindings/OmieTransferRequest';
import type { OmieUploadRequest } from '../../bindings/OmieUploadRequest';
import { collectIssues, type FieldErrors } from '../../components/form';

/** The `cTabela` values Omie documents for attachments (geral/anexo), in the core's order. */
export const OMIE_TABLES = [
  'cliente',
  'produto',
  'servico',
  'pedido-venda',
  'remessa-produto',
  'ordem-servico',
  'contrato-servico',
  'pedido-compra',
  'nota-entrada',
  'ordem-producao',
  'conta-pagar',
  'conta-receber',
  'conta-corrente',
  'conta-corrente-lancamento',
  'crm-contas',
  'crm-contatos',
  'crm-oportunidades',
  'com-recebimento',
] as const;

/** The automatic scan reads NF-e receipts and copies to their payables or to their orders. */
export const SCAN_SOURCE_TABLES = ['com-recebimento'] as const;
export const SCAN_DEST_TABLES = ['conta-pagar', 'pedido-compra'] as const;

/** Origin "table" the core records for uploads of a local file. */
export const LOCAL_FILE_TABLE = 'arquivo-local';

export type Checked<T, K extends string> = { ok: true; value: T } | { ok: false; errors: FieldErrors<K> };

const table = z.enum(OMIE_TABLES, { message: 'omie.validation.tableUnknown' });
const omieId = z
  .string()
  .trim()
  .min(1, 'omie.validation.idRequired')
  .regex(/^\d+$/, 'omie.validation.idDigits');

function check<T, K extends string>(schema: z.ZodType<T>, values: unknown): Checked<T, K> {
  const parsed = schema.safeParse(values);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, errors: collectIssues<K>(parsed.error.issues) };
}

export interface TransferValues {
  from_table: string;
  from_id: string;
  to_table: string;
  to_id: string;
  dry_run: boolean;
}

const transferSchema = z
  .object({ from_table: table, from_id: omieId, to_table: table, to_id: omieId, dry_run: z.boolean() })
  .superRefine((v, ctx) => {
    if (v.from_table === v.to_table && v.from_id === v.to_id) {
      ctx.addIssue({ code: 'custom', path: ['to_id'], message: 'omie.validation.sameRecord' });
    }
  });

export function checkTransfer(v: TransferValues): Checked<OmieTransferRequest, keyof TransferValues> {
  return check(transferSchema, v);
}

export interface UploadValues {
  table: string;
  id: string;
  file_path: string;
}

const uploadSchema = z.object({
  table,
  id: omieId,
  // Optional: the file picker sends the file's content; a typed path is for files the picker cannot reach.
  file_path: z.string().trim(),
});

/** Checks the form; the request carries the picked file's content when there is one. */
export function checkUpload(
  v: UploadValues,
  picked?: { name: string; contentBase64: string } | null,
): Checked<OmieUploadRequest, keyof UploadValues> {
  const c = check(uploadSchema, v);
  if (!c.ok) return c;
  if (!picked && !c.value.file_path) {
    return { ok: false, errors: { file_path: 'omie.validation.pathRequired' } } as Checked<OmieUploadRequest, keyof UploadValues>;
  }
  return {
    ok: true,
    value: {
      table: c.value.table,
      id: c.value.id,
      file_path: picked ? '' : c.value.file_path,
      file_name: picked ? picked.name : null,
      content_base64: picked ? picked.contentBase64 : null,
    },
  } as Checked<OmieUploadRequest, keyof UploadValues>;
}

/** Reads a picked file as base64 (without the data-URL prefix). */
export function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const s = String(r.result ?? '');
      resolve(s.slice(s.indexOf(',') + 1));
    };
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

export interface SettingsValues {
  source_table: string;
  dest_table: string;
  max_file_mb: string;
  max_attempts: string;
}

const wholeNumber = (min: number, max: number, message: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);

const settingsSchema = z.object({
  source_table: z.enum(SCAN_SOURCE_TABLES, { message: 'omie.validation.tableUnknown' }),
  dest_table: z.enum(SCAN_DEST_TABLES, { message: 'omie.validation.tableUnknown' }),
  max_file_mb: wholeNumber(1, 1024, 'omie.validation.sizeRange'),
  max_attempts: wholeNumber(1, 20, 'omie.validation.attemptsRange'),
});

export function checkSettings(v: SettingsValues): Checked<OmieAttachmentSettings, keyof SettingsValues> {
  return check(settingsSchema, v);
}

export interface CloseValues {
  order_number: string;
  item: string;
  service_invoice_number: string;
  service_invoice_id: string;
  dry_run: boolean;
}

const optionalText = z
  .string()
  .trim()
  .transform((s) => (s === '' ? null : s));

const closeSchema = z.object({
  order_number: z.string().trim().min(1, 'omie.validation.orderRequired'),
  item: optionalText,
  service_invoice_number: optionalText,
  service_invoice_id: z
    .string()
    .trim()
    .regex(/^\d*$/, 'omie.validation.idDigits')
    .transform((s) => (s === '' ? null : s)),
  dry_run: z.boolean(),
});

export function checkClose(v: CloseValues): Checked<OmieCloseRequest, keyof CloseValues> {
  return check(closeSchema, v);
}

export interface ConfigValues {
  service_path: string;
  call: string;
  param_template: string;
  status_value: string;
  status_field: string;
  max_attempts: string;
}

/** True when `text` is a JSON object (what the core requires of the parameter template). */
export function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

const configSchema = z.object({
  service_path: z.string().trim(),
  call: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_]*$/, 'omie.validation.callName'),
  param_template: z.string().refine(isJsonObject, 'omie.validation.templateJson'),
  status_value: z.string().trim().min(1, 'omie.validation.statusRequired'),
  status_field: z.string().trim(),
  max_attempts: wholeNumber(1, 20, 'omie.validation.attemptsRange'),
});

export function checkConfig(v: ConfigValues): Checked<OmiePoCloseConfig, keyof ConfigValues> {
  return check(configSchema, v);
}

/** The placeholders the core fills in the parameter template. */
export const TEMPLATE_PLACEHOLDERS = [
  'order_number',
  'order_id',
  'item',
  'status',
  'service_invoice_number',
  'service_invoice_id',
] as const;
