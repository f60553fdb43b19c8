// Purchase orders tab (RF-002): close an order once its service invoice is posted. Close form,
// closing-call configuration (Omie documents none), scan with dry-run preview, closure log, retry.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import type { OmiePoCloseConfig } from '../../bindings/OmiePoCloseConfig';
import type { OmiePoClosure } from '../../bindings/OmiePoClosure';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { toApiError } from '../../errors';
import { formatDateTime } from '../../format';
import { controlProps, Field, useFieldErrors, useSubmit } from '../../components/form';
import { OmieErrorBox, ScanForm } from './AttachmentForms';
import { DryRunCheck, FormCard, SaveFooter, SubmitButton } from './FormCard';
import { TEMPLATE_PLACEHOLDERS, checkClose, checkConfig, type CloseValues, type ConfigValues } from './forms';
import { JobActivity, PreviewTable, RecordStatusBadge, useOmieJob, usePreview } from './Job';
import { LOG_LIMIT, ORDER_KINDS, isActiveJob } from './util';

const STATUS_SUGGESTIONS = ['Encerrado', 'Fechado'];

export function CloseForm({ connectionId, onStarted }: { connectionId: string; onStarted: (job: Job) => void }) {
  const { t } = useTranslation();
  const [v, setV] = useState<CloseValues>({
    order_number: '',
    item: '',
    service_invoice_number: '',
    service_invoice_id: '',
    dry_run: false,
  });
  const { errors, setErrors, message } = useFieldErrors<keyof CloseValues>();
  const { busy, error, setError, run } = useSubmit();
  const set = (patch: Partial<CloseValues>) => {
    setV((cur) => ({ ...cur, ...patch }));
    setErrors({});
  };

  const submit = async () => {
    const checked = checkClose(v);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    await run(async () => onStarted(await omie.omieClosePurchaseOrder(connectionId, checked.value)));
  };

  /** A text field of the form, with its label, hint and error. */
  const field = (
    id: string,
    key: keyof Omit<CloseValues, 'dry_run'>,
    label: string,
    hint: string,
    extra: { numeric?: boolean; placeholder?: string } = {},
  ) => (
    <Field id={id} label={label} hint={hint} error={message(key)} errorTestId={`${id}-error`}>
      <input
        {...controlProps(id, !!errors[key])}
        value={v[key]}
        inputMode={extra.numeric ? 'numeric' : undefined}
        placeholder={extra.placeholder}
        onChange={(e) => set({ [key]: e.target.value } as Partial<CloseValues>)}
        data-testid={id}
      />
    </Field>
  );

  return (
    <FormCard titleId="po-close-title" testId="po-close-form" title={t('omie.close.title')} intro={t('omie.close.intro')} onSubmit={() => void submit()}>
      <div className="form-grid">
        {field('po-order', 'order_number', t('omie.close.order'), t('omie.close.orderHint'), { placeholder: '1004' })}
        {field('po-item', 'item', t('omie.close.item'), t('omie.close.itemHint'))}
        {field('po-invoice', 'service_invoice_number', t('omie.close.invoice'), t('omie.close.invoiceHint'))}
        {field('po-invoice-id', 'service_invoice_id', t('omie.close.invoiceId'), t('omie.close.invoiceIdHint'), { numeric: true })}
      </div>
      <div className="omie-form-footer">
        <DryRunCheck
          checked={v.dry_run}
          onChange={(dry_run) => set({ dry_run })}
          testId="po-dry-run"
          label={t('omie.common.dryRun')}
          hint={t('omie.close.dryRunHint')}
        />
        <SubmitButton busy={busy} icon="check" testId="po-close">
          {v.dry_run ? t('omie.close.submitDry') : t('omie.close.submit')}
        </SubmitButton>
      </div>
      {error ? <OmieErrorBox error={error} testId="po-close-error" onDismiss={() => setError(null)} /> : null}
    </FormCard>
  );
}

function toValues(c: OmiePoCloseConfig): ConfigValues {
  return {
    service_path: c.service_path,
    call: c.call,
    param_template: c.param_template,
    status_value: c.status_value,
    status_field: c.status_field,
    max_attempts: String(c.max_attempts),
  };
}

export function ConfigForm({
  connectionId,
  config,
  onSaved,
}: {
  connectionId: string;
  config: OmiePoCloseConfig;
  onSaved: (c: OmiePoCloseConfig) => void;
}) {
  const { t } = useTranslation();
  const [v, setV] = useState<ConfigValues>(() => toValues(config));
  const { errors, setErrors, message } = useFieldErrors<keyof ConfigValues>();
  const { busy, error, setError, run } = useSubmit();
  const [saved, setSaved] = useState(false);
  const set = (patch: Partial<ConfigValues>) => {
    setV((cur) => ({ ...cur, ...patch }));
    setErrors({});
    setSaved(false);
  };

  const submit = async () => {
    const checked = checkConfig(v);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    await run(async () => {
      const c = await omie.omieSavePoCloseConfig(connectionId, checked.value);
      onSaved(c);
      setV(toValues(c));
      setSaved(true);
    });
  };

  const box = (id: string, key: keyof ConfigValues, label: string) => ({ id, label, error: message(key), errorTestId: `${id}-error` });
  const text = (id: string, key: Exclude<keyof ConfigValues, 'param_template'>, placeholder?: string, list?: string) => (
    <input
      {...controlProps(id, !!errors[key])}
      value={v[key]}
      placeholder={placeholder}
      list={list}
      onChange={(e) => set({ [key]: e.target.value } as Partial<ConfigValues>)}
      data-testid={id}
      spellCheck={false}
    />
  );

  return (
    <FormCard titleId="po-config-title" testId="po-config" title={t('omie.config.title')} intro={t('omie.config.intro')} onSubmit={() => void submit()}>
      <div className="alert alert-neutral omie-inline-alert">
        <Icon name="info" size={18} className="alert-icon" />
        <p className="alert-text small">{t('omie.config.why')}</p>
      </div>
      {config.call.trim() === '' ? (
        <div className="alert alert-warning omie-inline-alert" data-testid="po-config-missing">
          <Icon name="alert" size={18} className="alert-icon" />
          <p className="alert-text small">{t('omie.config.notConfigured')}</p>
        </div>
      ) : null}
      <div className="form-grid">
        <Field {...box('po-config-path', 'service_path', t('omie.config.servicePath'))} hint={t('omie.config.servicePathHint')}>
          {text('po-config-path', 'service_path', 'produtos/pedidocompra/')}
        </Field>
        <Field {...box('po-config-call', 'call', t('omie.config.call'))} hint={t('omie.config.callHint')}>
          {text('po-config-call', 'call')}
        </Field>
        <Field
          {...box('po-config-template', 'param_template', t('omie.config.template'))}
          wide
          hint={t('omie.config.templateHint', { list: TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ') })}
        >
          <textarea
            {...controlProps('po-config-template', !!errors.param_template)}
            className="omie-textarea mono"
            rows={3}
            value={v.param_template}
            onChange={(e) => set({ param_template: e.target.value })}
            data-testid="po-config-template"
            spellCheck={false}
          />
        </Field>
        <Field {...box('po-config-status', 'status_value', t('omie.config.status'))} hint={t('omie.config.statusHint')}>
          {text('po-config-status', 'status_value', 'Encerrado', 'po-config-status-list')}
          <datalist id="po-config-status-list">
            {STATUS_SUGGESTIONS.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </Field>
        <Field {...box('po-config-field', 'status_field', t('omie.config.statusField'))} hint={t('omie.config.statusFieldHint')}>
          {text('po-config-field', 'status_field', 'cabecalho_consulta.cEtapa')}
        </Field>
        <Field {...box('po-config-attempts', 'max_attempts', t('omie.config.maxAttempts'))}>
          <input
            {...controlProps('po-config-attempts', !!errors.max_attempts)}
            type="number"
            min={1}
            max={20}
            value={v.max_attempts}
            onChange={(e) => set({ max_attempts: e.target.value })}
            data-testid="po-config-attempts"
          />
        </Field>
      </div>
      <SaveFooter saved={saved} busy={busy} testIdPrefix="po-config" />
      {error ? <OmieErrorBox error={error} testId="po-config-error" onDismiss={() => setError(null)} /> : null}
    </FormCard>
  );
}

/** "stage 10 · open" from the stage and the status word the core records. */
function StageText({ stage, status }: { stage: string | null; status: string | null }) {
  const { t, i18n } = useTranslation();
  if (!stage && !status) return <span className="muted">—</span>;
  const word = status ? (i18n.exists(`omie.closures.orderStatus.${status}`) ? t(`omie.closures.orderStatus.${status}`) : status) : null;
  return (
    <span className="omie-stage">
      {stage ? <span className="mono">{t('omie.closures.stage', { stage })}</span> : null}
      {word ? <span className={status === 'closed' ? 'omie-closed' : 'omie-open'}>{word}</span> : null}
    </span>
  );
}

function ClosuresCard({
  rows,
  onRetry,
  retrying,
  retryError,
  onDismissRetryError,
}: {
  rows: OmiePoClosure[] | null;
  onRetry: () => void;
  retrying: boolean;
  retryError: ApiError | null;
  onDismissRetryError: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const columns = useMemo<ColumnDef<OmiePoClosure>[]>(
    () => [
      { id: 'status', header: t('omie.closures.colStatus'), size: 130, cell: ({ row }) => <RecordStatusBadge status={row.original.status} /> },
      {
        id: 'order',
        header: t('omie.closures.colOrder'),
        size: 120,
        cell: ({ row }) => (
          <span className="omie-ref">
            <span className="strong mono">{row.original.order_number}</span>
            <span className="muted small">
              {row.original.item ? t('omie.closures.item', { item: row.original.item }) : t(`omie.closures.source.${row.original.source}`, { defaultValue: row.original.source })}
            </span>
          </span>
        ),
      },
      {
        id: 'invoice',
        header: t('omie.closures.colInvoice'),
        size: 95,
        cell: ({ row }) => <span className="tabular">{row.original.service_invoice_number ?? '—'}</span>,
      },
      {
        id: 'change',
        header: t('omie.closures.colChange'),
        size: 175,
        cell: ({ row }) => (
          <span className="omie-route">
            <StageText stage={row.original.previous_stage} status={row.original.previous_status} />
            <span className="omie-arrow">→</span>
            <StageText stage={row.original.new_stage} status={row.original.new_status} />
          </span>
        ),
      },
      {
        id: 'outcome',
        header: t('omie.closures.colOutcome'),
        size: 110,
        cell: ({ row }) =>
          row.original.outcome ? (
            <span className="small">{t(`omie.closures.outcome.${row.original.outcome}`, { defaultValue: row.original.outcome })}</span>
          ) : (
            <span className="muted">—</span>
          ),
      },
      {
        id: 'attempts',
        header: t('omie.closures.colAttempts'),
        size: 75,
        cell: ({ row }) => (
          <span className="tabular">{t('omie.transfers.attemptsShort', { n: row.original.attempts, max: row.original.max_attempts })}</span>
        ),
      },
      {
        id: 'updated',
        header: t('omie.closures.colUpdated'),
        size: 115,
        cell: ({ row }) => <span className="small tabular">{formatDateTime(row.original.updated_at, lng)}</span>,
      },
      {
        id: 'error',
        header: t('omie.closures.colError'),
        size: 205,
        cell: ({ row }) =>
          row.original.error ? (
            <span className="omie-fault-cell small" title={row.original.error} data-testid="po-closure-error">
              {row.original.error}
            </span>
          ) : row.original.call_used ? (
            <span className="mono small muted truncate" title={row.original.call_used}>
              {row.original.call_used}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
    ],
    [t, lng],
  );

  return (
    <section className="card table-card omie-card" aria-labelledby="po-closures-title">
      <div className="card-header omie-card-header-wrap">
        <div>
          <h2 id="po-closures-title">{t('omie.closures.title')}</h2>
          <p className="muted small">{t('omie.closures.hint')}</p>
        </div>
        <button type="button" className="btn" onClick={onRetry} disabled={retrying} data-testid="po-retry">
          <Icon name="refresh" size={16} />
          {t('omie.closures.retry')}
        </button>
      </div>
      {retryError ? (
        <div className="omie-card-alert">
          <OmieErrorBox error={retryError} testId="po-retry-error" onDismiss={onDismissRetryError} />
        </div>
      ) : null}
      <div data-testid="po-closures" className="omie-table-wrap" data-count={rows?.length ?? ''}>
        {rows === null ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        ) : (
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('omie.closures.title')}
            rowHeight={64}
            rowAttributes={(r) => ({ 'data-testid': 'po-closure-row', 'data-status': r.status, 'data-order': r.order_number })}
            empty={<p className="muted table-empty-text">{t('omie.closures.empty')}</p>}
          />
        )}
      </div>
      <p className="muted small omie-card-foot">{t('omie.closures.retryHint')}</p>
    </section>
  );
}

export function OmieOrdersTab({ connectionId }: { connectionId: string }) {
  const { t } = useTranslation();
  const [config, setConfig] = useState<OmiePoCloseConfig | null>(null);
  const [closures, setClosures] = useState<OmiePoClosure[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState<ApiError | null>(null);

  const loadClosures = useCallback(async () => {
    try {
      setClosures((await omie.omiePoClosures(connectionId, null, LOG_LIMIT)) ?? []);
    } catch (e) {
      setError(toApiError(e));
    }
  }, [connectionId]);

  useEffect(() => {
    let stale = false;
    omie.omiePoCloseConfig(connectionId).then(
      (c) => {
        if (!stale && c) setConfig(c);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    void loadClosures();
    return () => {
      stale = true;
    };
  }, [connectionId, loadClosures]);

  const { job, track } = useOmieJob(ORDER_KINDS, connectionId, () => void loadClosures());
  const preview = usePreview(job);

  const retry = async () => {
    setRetrying(true);
    setRetryError(null);
    try {
      track(await omie.omieRetryPoClosures(connectionId));
    } catch (e) {
      setRetryError(toApiError(e));
    } finally {
      setRetrying(false);
    }
  };

  return (
    <div className="omie-tab" data-testid="omie-orders">
      <div className="omie-explain" data-testid="po-explain">
        <Icon name="check" size={20} />
        <div>
          <strong>{t('omie.orders.whatTitle')}</strong>
          <p>{t('omie.orders.what')}</p>
        </div>
      </div>

      {config && config.call.trim() === '' ? (
        <div className="alert alert-warning" role="status" data-testid="po-not-configured">
          <Icon name="alert" size={20} className="alert-icon" />
          <p className="alert-text">{t('omie.orders.notConfigured')}</p>
        </div>
      ) : null}

      {error ? <OmieErrorBox error={error} onDismiss={() => setError(null)} /> : null}

      <div className="omie-grid">
        <CloseForm connectionId={connectionId} onStarted={track} />
        <ScanForm
          idPrefix="po"
          title={t('omie.orders.scanTitle')}
          intro={t('omie.orders.scanIntro')}
          start={(since, dryRun) => omie.omiePoCloseScan(connectionId, { since, dry_run: dryRun })}
          onStarted={track}
        />
      </div>

      {job ? (
        <section className="card omie-card omie-activity-card" aria-label={t('omie.job.latest')}>
          <JobActivity job={job} testId="po-activity" onCancelled={track} />
          {isActiveJob(job) ? null : preview.items !== null || preview.error ? (
            <PreviewTable job={job} items={preview.items} error={preview.error} testId="po-preview" />
          ) : null}
        </section>
      ) : null}

      <ClosuresCard
        rows={closures}
        onRetry={() => void retry()}
        retrying={retrying}
        retryError={retryError}
        onDismissRetryError={() => setRetryError(null)}
      />

      {config ? (
        <ConfigForm connectionId={connectionId} config={config} onSaved={setConfig} />
      ) : (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      )}
    </div>
  );
}
