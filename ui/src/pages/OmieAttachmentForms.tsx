// The forms of the Attachments tab: transfer between two records, scan of receipts, upload of a
// local file, and the settings of the automatic scan.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from '../apiOmie';
import type { ApiError } from '../bindings/ApiError';
import type { Job } from '../bindings/Job';
import type { OmieAttachmentSettings } from '../bindings/OmieAttachmentSettings';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { formatNumber } from '../format';
import {
  OMIE_TABLES,
  SCAN_DEST_TABLES,
  SCAN_SOURCE_TABLES,
  checkSettings,
  checkTransfer,
  checkUpload,
  readAsBase64,
  type FieldErrors,
  type SettingsValues,
  type TransferValues,
  type UploadValues,
} from './OmieForms';
import { omieErrorText, tableLabel } from './OmieUtil';

/** An error of the Omie page in plain words (Omie's own codes first), with details folded away. */
export function OmieErrorBox({ error, testId, onDismiss }: { error: ApiError; testId?: string; onDismiss?: () => void }) {
  const { i18n } = useTranslation();
  return <ErrorBox error={error} text={omieErrorText(i18n, error)} testId={testId} onDismiss={onDismiss} />;
}

/** A labelled form field with its hint or its error below. */
export function Field({
  id,
  label,
  hint,
  error,
  children,
  wide = false,
}: {
  id: string;
  label: string;
  hint?: string | null;
  error?: string | null;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error ? (
        <span id={`${id}-msg`} className="field-error" data-testid={`${id}-error`}>
          {error}
        </span>
      ) : hint ? (
        <span id={`${id}-msg`} className="field-hint">
          {hint}
        </span>
      ) : null}
    </div>
  );
}

/** A <select> of Omie attachment tables with their names in the user's language. */
export function TableSelect({
  id,
  value,
  onChange,
  tables = OMIE_TABLES,
  invalid,
  disabled,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  tables?: readonly string[];
  invalid?: boolean;
  disabled?: boolean;
}) {
  const { i18n } = useTranslation();
  return (
    <select
      id={id}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      data-testid={id}
      aria-invalid={invalid || undefined}
      aria-describedby={`${id}-msg`}
      disabled={disabled}
    >
      {tables.map((tb) => (
        <option key={tb} value={tb} title={tb}>
          {tableLabel(i18n, tb)}
        </option>
      ))}
    </select>
  );
}

function useErrors<K extends string>() {
  const { t } = useTranslation();
  const [errors, setErrors] = useState<FieldErrors<K>>({});
  const msg = (k: K) => (errors[k] ? t(errors[k]!) : null);
  return { errors, setErrors, msg };
}

export function TransferForm({
  connectionId,
  settings,
  onStarted,
}: {
  connectionId: string;
  settings: OmieAttachmentSettings;
  onStarted: (job: Job) => void;
}) {
  const { t } = useTranslation();
  const [v, setV] = useState<TransferValues>({
    from_table: settings.source_table,
    from_id: '',
    to_table: settings.dest_table,
    to_id: '',
    dry_run: false,
  });
  const { errors, setErrors, msg } = useErrors<keyof TransferValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = (patch: Partial<TransferValues>) => {
    setV((cur) => ({ ...cur, ...patch }));
    setErrors({});
  };

  const submit = async () => {
    const checked = checkTransfer(v);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onStarted(await omie.omieTransferAttachments(connectionId, checked.value));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card omie-card" aria-labelledby="att-transfer-title" data-testid="att-transfer-form">
      <div className="card-header">
        <div>
          <h2 id="att-transfer-title">{t('omie.transfer.title')}</h2>
          <p className="muted small">{t('omie.transfer.intro')}</p>
        </div>
      </div>
      <form
        className="omie-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="form-grid">
          <Field id="att-from-table" label={t('omie.transfer.fromTable')} error={msg('from_table')}>
            <TableSelect id="att-from-table" value={v.from_table} onChange={(x) => set({ from_table: x })} invalid={!!errors.from_table} />
          </Field>
          <Field id="att-from-id" label={t('omie.transfer.fromId')} hint={t('omie.transfer.idHint')} error={msg('from_id')}>
            <input
              id="att-from-id"
              inputMode="numeric"
              value={v.from_id}
              onChange={(e) => set({ from_id: e.target.value })}
              data-testid="att-from-id"
              aria-invalid={!!errors.from_id || undefined}
              aria-describedby="att-from-id-msg"
              placeholder="1234567890"
            />
          </Field>
          <Field id="att-to-table" label={t('omie.transfer.toTable')} error={msg('to_table')}>
            <TableSelect id="att-to-table" value={v.to_table} onChange={(x) => set({ to_table: x })} invalid={!!errors.to_table} />
          </Field>
          <Field id="att-to-id" label={t('omie.transfer.toId')} error={msg('to_id')}>
            <input
              id="att-to-id"
              inputMode="numeric"
              value={v.to_id}
              onChange={(e) => set({ to_id: e.target.value })}
              data-testid="att-to-id"
              aria-invalid={!!errors.to_id || undefined}
              aria-describedby="att-to-id-msg"
              placeholder="1234567890"
            />
          </Field>
        </div>
        <div className="omie-form-footer">
          <label className="check">
            <input type="checkbox" checked={v.dry_run} onChange={(e) => set({ dry_run: e.target.checked })} data-testid="att-dry-run" />
            <span>
              <span className="strong">{t('omie.common.dryRun')}</span>
              <span className="field-hint block">{t('omie.transfer.dryRunHint')}</span>
            </span>
          </label>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="att-transfer">
            {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="transfer" size={16} />}
            {v.dry_run ? t('omie.transfer.submitDry') : t('omie.transfer.submit')}
          </button>
        </div>
        {error ? <OmieErrorBox error={error} testId="att-transfer-error" onDismiss={() => setError(null)} /> : null}
      </form>
    </section>
  );
}

/** "Scan receipts changed since…", for the attachments or the purchase orders. */
export function ScanForm({
  idPrefix,
  title,
  intro,
  start,
  onStarted,
}: {
  idPrefix: 'att' | 'po';
  title: string;
  intro: string;
  start: (since: string | null, dryRun: boolean) => Promise<Job>;
  onStarted: (job: Job) => void;
}) {
  const { t } = useTranslation();
  const [since, setSince] = useState('');
  const [dryRun, setDryRun] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const sinceId = `${idPrefix}-scan-since`;

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      onStarted(await start(since.trim() || null, dryRun));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card omie-card" aria-labelledby={`${idPrefix}-scan-title`} data-testid={`${idPrefix}-scan-form`}>
      <div className="card-header">
        <div>
          <h2 id={`${idPrefix}-scan-title`}>{title}</h2>
          <p className="muted small">{intro}</p>
        </div>
      </div>
      <form
        className="omie-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field id={sinceId} label={t('omie.scan.since')} hint={t('omie.scan.sinceHint')}>
          <input id={sinceId} type="date" value={since} onChange={(e) => setSince(e.target.value)} data-testid={sinceId} aria-describedby={`${sinceId}-msg`} />
        </Field>
        <div className="omie-form-footer">
          <label className="check">
            <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} data-testid={`${idPrefix}-scan-dry-run`} />
            <span>
              <span className="strong">{t('omie.scan.dryRun')}</span>
              <span className="field-hint block">{t('omie.scan.dryRunHint')}</span>
            </span>
          </label>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid={`${idPrefix}-scan`}>
            {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
            {dryRun ? t('omie.scan.submitDry') : t('omie.scan.submit')}
          </button>
        </div>
        {error ? <OmieErrorBox error={error} testId={`${idPrefix}-scan-error`} onDismiss={() => setError(null)} /> : null}
      </form>
    </section>
  );
}

const MIB = 1024 * 1024;

/** Bytes as "850 KB" / "1.2 MB" in the user's locale. */
export function formatBytes(bytes: number, locale: string): string {
  if (bytes < 1024) return `${formatNumber(bytes, locale, 0)} B`;
  if (bytes < MIB) return `${formatNumber(bytes / 1024, locale, 0)} KB`;
  return `${formatNumber(bytes / MIB, locale, 1)} MB`;
}

export function UploadForm({
  connectionId,
  settings,
  onStarted,
}: {
  connectionId: string;
  settings: OmieAttachmentSettings;
  onStarted: (job: Job) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [v, setV] = useState<UploadValues>({ table: settings.dest_table, id: '', file_path: '' });
  const [file, setFile] = useState<File | null>(null);
  const { errors, setErrors, msg } = useErrors<keyof UploadValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const tooLarge = file !== null && file.size > settings.max_file_mb * MIB;
  const set = (patch: Partial<UploadValues>) => {
    setV((cur) => ({ ...cur, ...patch }));
    setErrors({});
  };

  const submit = async () => {
    if (tooLarge) return;
    setBusy(true);
    setError(null);
    try {
      const picked = file ? { name: file.name, contentBase64: await readAsBase64(file) } : null;
      const checked = checkUpload(v, picked);
      if (!checked.ok) {
        setErrors(checked.errors);
        return;
      }
      onStarted(await omie.omieUploadAttachment(connectionId, checked.value));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card omie-card" aria-labelledby="att-upload-title" data-testid="att-upload-form">
      <div className="card-header">
        <div>
          <h2 id="att-upload-title">{t('omie.upload.title')}</h2>
          <p className="muted small">{t('omie.upload.intro')}</p>
        </div>
      </div>
      <form
        className="omie-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="form-grid">
          <Field id="att-upload-table" label={t('omie.upload.table')} error={msg('table')}>
            <TableSelect id="att-upload-table" value={v.table} onChange={(x) => set({ table: x })} />
          </Field>
          <Field id="att-upload-id" label={t('omie.upload.id')} error={msg('id')}>
            <input
              id="att-upload-id"
              inputMode="numeric"
              value={v.id}
              onChange={(e) => set({ id: e.target.value })}
              data-testid="att-upload-id"
              aria-invalid={!!errors.id || undefined}
              aria-describedby="att-upload-id-msg"
            />
          </Field>
          <Field
            id="att-upload"
            label={t('omie.upload.file')}
            wide
            error={tooLarge ? t('omie.upload.tooLarge', { size: formatBytes(file.size, lng), limit: settings.max_file_mb }) : null}
            hint={file ? t('omie.upload.chosen', { name: file.name, size: formatBytes(file.size, lng) }) : t('omie.upload.fileHint', { limit: settings.max_file_mb })}
          >
            <input
              id="att-upload"
              type="file"
              onChange={(e) => {
                const f = e.target.files?.[0];
                setFile(f ?? null);
                setErrors({});
              }}
              data-testid="att-upload"
              aria-describedby="att-upload-msg"
            />
          </Field>
          <Field id="att-upload-path" label={t('omie.upload.path')} wide hint={t('omie.upload.pathHint')} error={msg('file_path')}>
            <input
              id="att-upload-path"
              value={v.file_path}
              onChange={(e) => set({ file_path: e.target.value })}
              placeholder={file ? t('omie.upload.pathPlaceholderFor', { name: file.name }) : t('omie.upload.pathPlaceholder')}
              data-testid="att-upload-path"
              aria-invalid={!!errors.file_path || undefined}
              aria-describedby="att-upload-path-msg"
              spellCheck={false}
            />
          </Field>
        </div>
        <div className="omie-form-footer">
          <span className="muted small">{t('omie.upload.once')}</span>
          <button type="submit" className="btn btn-primary" disabled={busy || tooLarge} data-testid="att-upload-submit">
            {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="paperclip" size={16} />}
            {t('omie.upload.submit')}
          </button>
        </div>
        {error ? <OmieErrorBox error={error} testId="att-upload-error" onDismiss={() => setError(null)} /> : null}
      </form>
    </section>
  );
}

export function SettingsForm({
  connectionId,
  settings,
  onSaved,
}: {
  connectionId: string;
  settings: OmieAttachmentSettings;
  onSaved: (s: OmieAttachmentSettings) => void;
}) {
  const { t } = useTranslation();
  const [v, setV] = useState<SettingsValues>({
    source_table: settings.source_table,
    dest_table: settings.dest_table,
    max_file_mb: String(settings.max_file_mb),
    max_attempts: String(settings.max_attempts),
  });
  const { errors, setErrors, msg } = useErrors<keyof SettingsValues>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const set = (patch: Partial<SettingsValues>) => {
    setV((cur) => ({ ...cur, ...patch }));
    setErrors({});
    setSaved(false);
  };

  const submit = async () => {
    const checked = checkSettings(v);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const s = await omie.omieSaveAttachmentSettings(connectionId, checked.value);
      onSaved(s);
      setSaved(true);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card omie-card" aria-labelledby="att-settings-title" data-testid="att-settings">
      <div className="card-header">
        <div>
          <h2 id="att-settings-title">{t('omie.settings.title')}</h2>
          <p className="muted small">{t('omie.settings.intro')}</p>
        </div>
      </div>
      <form
        className="omie-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="form-grid">
          <Field id="att-settings-source" label={t('omie.settings.source')} hint={t('omie.settings.sourceHint')} error={msg('source_table')}>
            <TableSelect id="att-settings-source" value={v.source_table} onChange={(x) => set({ source_table: x })} tables={SCAN_SOURCE_TABLES} />
          </Field>
          <Field id="att-settings-dest" label={t('omie.settings.dest')} hint={t('omie.settings.destHint')} error={msg('dest_table')}>
            <TableSelect id="att-settings-dest" value={v.dest_table} onChange={(x) => set({ dest_table: x })} tables={SCAN_DEST_TABLES} />
          </Field>
          <Field id="att-settings-size" label={t('omie.settings.maxMb')} hint={t('omie.settings.maxMbHint')} error={msg('max_file_mb')}>
            <input
              id="att-settings-size"
              type="number"
              min={1}
              max={1024}
              value={v.max_file_mb}
              onChange={(e) => set({ max_file_mb: e.target.value })}
              data-testid="att-settings-size"
              aria-invalid={!!errors.max_file_mb || undefined}
              aria-describedby="att-settings-size-msg"
            />
          </Field>
          <Field id="att-settings-attempts" label={t('omie.settings.maxAttempts')} hint={t('omie.settings.maxAttemptsHint')} error={msg('max_attempts')}>
            <input
              id="att-settings-attempts"
              type="number"
              min={1}
              max={20}
              value={v.max_attempts}
              onChange={(e) => set({ max_attempts: e.target.value })}
              data-testid="att-settings-attempts"
              aria-invalid={!!errors.max_attempts || undefined}
              aria-describedby="att-settings-attempts-msg"
            />
          </Field>
        </div>
        <div className="omie-form-footer">
          {saved ? (
            <span className="saved small" role="status" data-testid="att-settings-saved">
              <Icon name="check" size={14} />
              {t('omie.common.saved')}
            </span>
          ) : (
            <span />
          )}
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="att-settings-save">
            {busy ? t('common.saving') : t('common.save')}
          </button>
        </div>
        {error ? <OmieErrorBox error={error} testId="att-settings-error" onDismiss={() => setError(null)} /> : null}
      </form>
    </section>
  );
}
