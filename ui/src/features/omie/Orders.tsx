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
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { formatDateTime } from '../../format';
import { controlProps, Field } from '../../components/form';
import { OmieErrorBox, ScanForm } from './AttachmentForms';
import { DryRunCheck, FormCard, InputField, SaveFooter, SubmitButton, useOmieForm } from './FormCard';
import { TEMPLATE_PLACEHOLDERS, checkClose, checkConfig, type CloseValues, type ConfigValues } from './forms';
import { RecordStatusBadge, useOmieJob } from './Job';
import { Explain, LatestJob, RetryButton, TableCard, useRetry, type Retry } from './TabParts';
import { LOG_LIMIT, ORDER_KINDS, omieErrorText } from './util';

const STATUS_SUGGESTIONS = ['Encerrado', 'Fechado'];

export function CloseForm({ connectionId, onStarted }: { connectionId: string; onStarted: (job: Job) => void }) {
  const { t } = useTranslation();
  const form = useOmieForm<CloseValues>({
    order_number: '',
    item: '',
    service_invoice_number: '',
    service_invoice_id: '',
    dry_run: false,
  });
  const { v, set, busy, error, setError } = form;

  const submit = () => form.submitChecked(checkClose(v), async (value) => onStarted(await omie.omieClosePurchaseOrder(connectionId, value)));

  return (
    <FormCard titleId="po-close-title" testId="po-close-form" title={t('omie.close.title')} intro={t('omie.close.intro')} onSubmit={() => void submit()}>
      <div className="form-grid">
        <InputField form={form} id="po-order" field="order_number" label={t('omie.close.order')} hint={t('omie.close.orderHint')} placeholder="1004" />
        <InputField form={form} id="po-item" field="item" label={t('omie.close.item')} hint={t('omie.close.itemHint')} />
        <InputField form={form} id="po-invoice" field="service_invoice_number" label={t('omie.close.invoice')} hint={t('omie.close.invoiceHint')} />
        <InputField
          form={form}
          id="po-invoice-id"
          field="service_invoice_id"
          label={t('omie.close.invoiceId')}
          hint={t('omie.close.invoiceIdHint')}
          inputMode="numeric"
        />
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
  const [saved, setSaved] = useState(false);
  const form = useOmieForm<ConfigValues>(
    () => toValues(config),
    () => setSaved(false),
  );
  const { v, setV, set, errors, busy, error, setError } = form;

  const submit = () =>
    form.submitChecked(checkConfig(v), async (value) => {
      const c = await omie.omieSavePoCloseConfig(connectionId, value);
      onSaved(c);
      setV(toValues(c));
      setSaved(true);
    });

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
        <InputField
          form={form}
          id="po-config-path"
          field="service_path"
          label={t('omie.config.servicePath')}
          hint={t('omie.config.servicePathHint')}
          placeholder="produtos/pedidocompra/"
          spellCheck={false}
        />
        <InputField form={form} id="po-config-call" field="call" label={t('omie.config.call')} hint={t('omie.config.callHint')} spellCheck={false} />
        <Field
          {...form.box('po-config-template', 'param_template', t('omie.config.template'))}
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
        <InputField
          form={form}
          id="po-config-status"
          field="status_value"
          label={t('omie.config.status')}
          hint={t('omie.config.statusHint')}
          placeholder="Encerrado"
          list="po-config-status-list"
          spellCheck={false}
        >
          <datalist id="po-config-status-list">
            {STATUS_SUGGESTIONS.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        </InputField>
        <InputField
          form={form}
          id="po-config-field"
          field="status_field"
          label={t('omie.config.statusField')}
          hint={t('omie.config.statusFieldHint')}
          placeholder="cabecalho_consulta.cEtapa"
          spellCheck={false}
        />
        <InputField form={form} id="po-config-attempts" field="max_attempts" label={t('omie.config.maxAttempts')} type="number" min={1} max={20} />
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

function ClosuresCard({ rows, retry }: { rows: OmiePoClosure[] | null; retry: Retry }) {
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
            <span className="omie-fault-cell small" title={omieErrorText(i18n, row.original.error)} data-testid="po-closure-error">
              {omieErrorText(i18n, row.original.error)}
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
    <TableCard
      titleId="po-closures-title"
      title={t('omie.closures.title')}
      hint={t('omie.closures.hint')}
      tools={
        <RetryButton retry={retry} testId="po-retry">
          {t('omie.closures.retry')}
        </RetryButton>
      }
      error={retry.error}
      errorTestId="po-retry-error"
      onDismissError={retry.clearError}
      testId="po-closures"
      rows={rows}
      foot={t('omie.closures.retryHint')}
    >
      <DataTable
        data={rows ?? []}
        columns={columns}
        getRowId={(r) => r.id}
        label={t('omie.closures.title')}
        rowHeight={64}
        rowAttributes={(r) => ({ 'data-testid': 'po-closure-row', 'data-status': r.status, 'data-order': r.order_number })}
        empty={<p className="muted table-empty-text">{t('omie.closures.empty')}</p>}
      />
    </TableCard>
  );
}

export function OmieOrdersTab({ connectionId }: { connectionId: string }) {
  const { t } = useTranslation();
  const [config, setConfig] = useState<OmiePoCloseConfig | null>(null);
  const [closures, setClosures] = useState<OmiePoClosure[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

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
  const retry = useRetry(() => omie.omieRetryPoClosures(connectionId), track);

  return (
    <div className="omie-tab" data-testid="omie-orders">
      <Explain icon="check" title={t('omie.orders.whatTitle')} text={t('omie.orders.what')} testId="po-explain" />

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

      <LatestJob job={job} testIdPrefix="po" onCancelled={track} />

      <ClosuresCard rows={closures} retry={retry} />

      {config ? (
        <ConfigForm connectionId={connectionId} config={config} onSaved={setConfig} />
      ) : (
        <Loading />
      )}
    </div>
  );
}
