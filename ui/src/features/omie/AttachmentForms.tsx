// The forms of the Attachments tab: transfer between two records, scan of receipts, upload of a
// local file, and the settings of the automatic scan.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import type { OmieAttachmentSettings } from '../../bindings/OmieAttachmentSettings';
import { ErrorBox } from '../../components/ErrorBox';
import { controlProps, DateField, Field, isIsoDate, useSubmit } from '../../components/form';
import { formatNumber } from '../../format';
import { DryRunCheck, FormCard, InputField, SaveFooter, SubmitButton, useOmieForm } from './FormCard';
import {
  OMIE_TABLES,
  SCAN_DEST_TABLES,
  SCAN_SOURCE_TABLES,
  checkSettings,
  checkTransfer,
  checkUpload,
  readAsBase64,
  type SettingsValues,
  type TransferValues,
  type UploadValues,
} from './forms';
import { omieErrorText, tableLabel } from './util';

/** An error of the Omie page in plain words (Omie's own codes first), with details folded away. */
export function OmieErrorBox({ error, testId, onDismiss }: { error: ApiError; testId?: string; onDismiss?: () => void }) {
  const { i18n } = useTranslation();
  return <ErrorBox error={error} text={omieErrorText(i18n, error)} testId={testId} onDismiss={onDismiss} />;
}

/** A <select> of Omie attachment tables with their names in the user's language. */
export function TableSelect({
  id,
  value,
  onChange,
  tables = OMIE_TABLES,
  invalid = false,
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
    <select {...controlProps(id, invalid)} value={value} onChange={(e) => onChange(e.target.value)} data-testid={id} disabled={disabled}>
      {tables.map((tb) => (
        <option key={tb} value={tb} title={tb}>
          {tableLabel(i18n, tb)}
        </option>
      ))}
    </select>
  );
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
  const form = useOmieForm<TransferValues>({
    from_table: settings.source_table,
    from_id: '',
    to_table: settings.dest_table,
    to_id: '',
    dry_run: false,
  });
  const { v, set, errors, busy, error, setError } = form;

  const submit = () =>
    form.submitChecked(checkTransfer(v), async (value) => onStarted(await omie.omieTransferAttachments(connectionId, value)));

  return (
    <FormCard
      titleId="att-transfer-title"
      testId="att-transfer-form"
      title={t('omie.transfer.title')}
      intro={t('omie.transfer.intro')}
      onSubmit={() => void submit()}
    >
      <div className="form-grid">
        <Field {...form.box('att-from-table', 'from_table', t('omie.transfer.fromTable'))}>
          <TableSelect id="att-from-table" value={v.from_table} onChange={(x) => set({ from_table: x })} invalid={!!errors.from_table} />
        </Field>
        <InputField
          form={form}
          id="att-from-id"
          field="from_id"
          label={t('omie.transfer.fromId')}
          hint={t('omie.transfer.idHint')}
          inputMode="numeric"
          placeholder="1234567890"
        />
        <Field {...form.box('att-to-table', 'to_table', t('omie.transfer.toTable'))}>
          <TableSelect id="att-to-table" value={v.to_table} onChange={(x) => set({ to_table: x })} invalid={!!errors.to_table} />
        </Field>
        <InputField form={form} id="att-to-id" field="to_id" label={t('omie.transfer.toId')} inputMode="numeric" placeholder="1234567890" />
      </div>
      <div className="omie-form-footer">
        <DryRunCheck
          checked={v.dry_run}
          onChange={(dry_run) => set({ dry_run })}
          testId="att-dry-run"
          label={t('omie.common.dryRun')}
          hint={t('omie.transfer.dryRunHint')}
        />
        <SubmitButton busy={busy} icon="transfer" testId="att-transfer">
          {v.dry_run ? t('omie.transfer.submitDry') : t('omie.transfer.submit')}
        </SubmitButton>
      </div>
      {error ? <OmieErrorBox error={error} testId="att-transfer-error" onDismiss={() => setError(null)} /> : null}
    </FormCard>
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
  const { busy, error, setError, run } = useSubmit();
  const sinceId = `${idPrefix}-scan-since`;

  const submit = () => {
    // Not a date yet: the field says so under it, nothing is sent.
    if (since !== '' && !isIsoDate(since)) return;
    return run(async () => onStarted(await start(since || null, dryRun)));
  };

  return (
    <FormCard titleId={`${idPrefix}-scan-title`} testId={`${idPrefix}-scan-form`} title={title} intro={intro} onSubmit={() => void submit()}>
      <DateField
        id={sinceId}
        label={t('omie.scan.since')}
        hint={t('omie.scan.sinceHint')}
        value={since}
        onChange={setSince}
        data-testid={sinceId}
      />
      <div className="omie-form-footer">
        <DryRunCheck
          checked={dryRun}
          onChange={setDryRun}
          testId={`${idPrefix}-scan-dry-run`}
          label={t('omie.scan.dryRun')}
          hint={t('omie.scan.dryRunHint')}
        />
        <SubmitButton busy={busy} icon="refresh" testId={`${idPrefix}-scan`}>
          {dryRun ? t('omie.scan.submitDry') : t('omie.scan.submit')}
        </SubmitButton>
      </div>
      {error ? <OmieErrorBox error={error} testId={`${idPrefix}-scan-error`} onDismiss={() => setError(null)} /> : null}
    </FormCard>
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
  const form = useOmieForm<UploadValues>({ table: settings.dest_table, id: '', file_path: '' });
  const { v, set, setErrors, busy, error, setError, run } = form;
  const [file, setFile] = useState<File | null>(null);
  const tooLarge = file !== null && file.size > settings.max_file_mb * MIB;

  const submit = async () => {
    if (tooLarge) return;
    await run(async () => {
      const picked = file ? { name: file.name, contentBase64: await readAsBase64(file) } : null;
      const checked = checkUpload(v, picked);
      if (!checked.ok) {
        setErrors(checked.errors);
        return;
      }
      onStarted(await omie.omieUploadAttachment(connectionId, checked.value));
    });
  };

  return (
    <FormCard
      titleId="att-upload-title"
      testId="att-upload-form"
      title={t('omie.upload.title')}
      intro={t('omie.upload.intro')}
      onSubmit={() => void submit()}
    >
      <div className="form-grid">
        <Field {...form.box('att-upload-table', 'table', t('omie.upload.table'))}>
          <TableSelect id="att-upload-table" value={v.table} onChange={(x) => set({ table: x })} />
        </Field>
        <InputField form={form} id="att-upload-id" field="id" label={t('omie.upload.id')} inputMode="numeric" />
        <Field
          id="att-upload"
          label={t('omie.upload.file')}
          wide
          error={tooLarge ? t('omie.upload.tooLarge', { size: formatBytes(file.size, lng), limit: settings.max_file_mb }) : null}
          errorTestId="att-upload-error"
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
        <InputField
          form={form}
          id="att-upload-path"
          field="file_path"
          label={t('omie.upload.path')}
          wide
          hint={t('omie.upload.pathHint')}
          placeholder={file ? t('omie.upload.pathPlaceholderFor', { name: file.name }) : t('omie.upload.pathPlaceholder')}
          spellCheck={false}
        />
      </div>
      <div className="omie-form-footer">
        <span className="muted small">{t('omie.upload.once')}</span>
        <SubmitButton busy={busy} disabled={tooLarge} icon="paperclip" testId="att-upload-submit">
          {t('omie.upload.submit')}
        </SubmitButton>
      </div>
      {error ? <OmieErrorBox error={error} testId="att-upload-error" onDismiss={() => setError(null)} /> : null}
    </FormCard>
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
  const [saved, setSaved] = useState(false);
  const form = useOmieForm<SettingsValues>(
    {
      source_table: settings.source_table,
      dest_table: settings.dest_table,
      max_file_mb: String(settings.max_file_mb),
      max_attempts: String(settings.max_attempts),
    },
    () => setSaved(false),
  );
  const { v, set, busy, error, setError } = form;

  const submit = () =>
    form.submitChecked(checkSettings(v), async (value) => {
      const s = await omie.omieSaveAttachmentSettings(connectionId, value);
      onSaved(s);
      setSaved(true);
    });

  return (
    <FormCard
      titleId="att-settings-title"
      testId="att-settings"
      title={t('omie.settings.title')}
      intro={t('omie.settings.intro')}
      onSubmit={() => void submit()}
    >
      <div className="form-grid">
        <Field {...form.box('att-settings-source', 'source_table', t('omie.settings.source'), t('omie.settings.sourceHint'))}>
          <TableSelect id="att-settings-source" value={v.source_table} onChange={(x) => set({ source_table: x })} tables={SCAN_SOURCE_TABLES} />
        </Field>
        <Field {...form.box('att-settings-dest', 'dest_table', t('omie.settings.dest'), t('omie.settings.destHint'))}>
          <TableSelect id="att-settings-dest" value={v.dest_table} onChange={(x) => set({ dest_table: x })} tables={SCAN_DEST_TABLES} />
        </Field>
        <InputField
          form={form}
          id="att-settings-size"
          field="max_file_mb"
          label={t('omie.settings.maxMb')}
          hint={t('omie.settings.maxMbHint')}
          type="number"
          min={1}
          max={1024}
        />
        <InputField
          form={form}
          id="att-settings-attempts"
          field="max_attempts"
          label={t('omie.settings.maxAttempts')}
          hint={t('omie.settings.maxAttemptsHint')}
          type="number"
          min={1}
          max={20}
        />
      </div>
      <SaveFooter saved={saved} busy={busy} testIdPrefix="att-settings" />
      {error ? <OmieErrorBox error={error} testId="att-settings-error" onDismiss={() => setError(null)} /> : null}
    </FormCard>
  );
}
