// Attachments tab (RF-001): copy the attachments of an NF-e receipt to the payables it created,
// exactly once. Transfer form, scan with dry-run preview, transfer log with detail and retry,
// upload of a local file, settings and the integration map.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { OmieAttachmentMapEntry } from '../../bindings/OmieAttachmentMapEntry';
import type { OmieAttachmentSettings } from '../../bindings/OmieAttachmentSettings';
import type { OmieAttachmentTransfer } from '../../bindings/OmieAttachmentTransfer';
import type { OmieTransferDetail } from '../../bindings/OmieTransferDetail';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { formatDateTime, formatDuration, formatNumber } from '../../format';
import { useEscape } from '../../hooks/useEscape';
import { hrefFor } from '../../router';
import { OmieErrorBox, ScanForm, SettingsForm, TransferForm, UploadForm, formatBytes } from './AttachmentForms';
import { CloseButton } from '../../components/CloseButton';
import { LOCAL_FILE_TABLE } from './forms';
import { RecordStatusBadge, useOmieJob } from './Job';
import { Explain, LatestJob, RetryButton, TableCard, useRetry, type Retry } from './TabParts';
import { ATTACHMENT_KINDS, LOG_LIMIT, fileNameOf, isActiveJob, omieErrorText, tableLabel } from './util';

const DEFAULT_SETTINGS: OmieAttachmentSettings = {
  source_table: 'com-recebimento',
  dest_table: 'conta-pagar',
  max_file_mb: 20,
  max_attempts: 3,
};

const TRANSFER_STATUSES = ['pending', 'processing', 'succeeded', 'failed'] as const;

/** "NF-e receipt 123" / "Local file boleto.pdf". */
function RecordRef({ table, id, path }: { table: string; id: string; path?: string | null }) {
  const { t, i18n } = useTranslation();
  if (table === LOCAL_FILE_TABLE) {
    return (
      <span className="omie-ref" title={path ?? undefined}>
        <span className="omie-ref-table">{t('omie.transfers.localFile')}</span>
        <span className="mono truncate">{path ? fileNameOf(path) : id}</span>
      </span>
    );
  }
  return (
    <span className="omie-ref" title={`${table} ${id}`}>
      <span className="omie-ref-table truncate">{tableLabel(i18n, table)}</span>
      <span className="mono truncate">{id}</span>
    </span>
  );
}

/** Two lines: "NF-e receipt 8812001" / "→ Account payable 99120031". */
function RouteCell({ row }: { row: OmieAttachmentTransfer }) {
  const { t, i18n } = useTranslation();
  const origin =
    row.origin_table === LOCAL_FILE_TABLE
      ? `${t('omie.transfers.localFile')} ${row.local_path ? fileNameOf(row.local_path) : row.origin_id}`
      : `${tableLabel(i18n, row.origin_table)} ${row.origin_id}`;
  const dest = `${tableLabel(i18n, row.dest_table)} ${row.dest_id}`;
  return (
    <span className="omie-ref omie-route-cell" title={`${origin} → ${dest}`}>
      <span className="truncate">{origin}</span>
      <span className="truncate">
        <span className="omie-arrow" aria-label={t('omie.common.to')}>
          →{' '}
        </span>
        {dest}
      </span>
    </span>
  );
}

function TransferDrawer({ transferId, onClose }: { transferId: string; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [detail, setDetail] = useState<OmieTransferDetail | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    let stale = false;
    setDetail(null);
    setError(null);
    omie.omieAttachmentTransferDetail(transferId).then(
      (d) => {
        if (!stale) setDetail(d);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [transferId]);

  useEscape(onClose);

  const tr = detail?.transfer;
  return (
    <aside className="detail-panel omie-drawer" data-testid="att-transfer-detail" aria-label={t('omie.detail.title')}>
      <div className="detail-header">
        <div className="detail-title">
          <span className="eyebrow">{t('omie.detail.eyebrow')}</span>
          <h2 className="truncate">{tr?.nf_number ? t('omie.detail.titleNf', { nf: tr.nf_number }) : t('omie.detail.title')}</h2>
        </div>
        <CloseButton onClick={onClose} size={18} testId="att-transfer-detail-close" />
      </div>
      <div className="detail-body">
        {error ? <OmieErrorBox error={error} /> : null}
        {!tr && !error ? <Loading /> : null}
        {tr ? (
          <>
            <div className="detail-status">
              <RecordStatusBadge status={tr.status} />
              <span className="muted small">{t('omie.transfers.attemptsOf', { n: tr.attempts, max: tr.max_attempts })}</span>
            </div>
            <dl className="facts">
              <div>
                <dt>{t('omie.transfers.colFrom')}</dt>
                <dd>
                  <RecordRef table={tr.origin_table} id={tr.origin_id} path={tr.local_path} />
                </dd>
              </div>
              <div>
                <dt>{t('omie.transfers.colTo')}</dt>
                <dd>
                  <RecordRef table={tr.dest_table} id={tr.dest_id} />
                </dd>
              </div>
              <div>
                <dt>{t('omie.transfers.colNf')}</dt>
                <dd>{tr.nf_number ?? '—'}</dd>
              </div>
              <div>
                <dt>{t('omie.transfers.colDuration')}</dt>
                <dd>{tr.duration_ms === null ? '—' : formatDuration(tr.duration_ms, lng)}</dd>
              </div>
              <div>
                <dt>{t('omie.detail.created')}</dt>
                <dd>{formatDateTime(tr.created_at, lng)}</dd>
              </div>
              <div>
                <dt>{t('omie.detail.updated')}</dt>
                <dd>{formatDateTime(tr.updated_at, lng)}</dd>
              </div>
            </dl>
            <dl className="counts">
              <div>
                <dt>{t('omie.transfers.transferred')}</dt>
                <dd>{formatNumber(tr.transferred, lng)}</dd>
              </div>
              <div>
                <dt>{t('omie.transfers.duplicates')}</dt>
                <dd>{formatNumber(tr.duplicates, lng)}</dd>
              </div>
              <div>
                <dt>{t('omie.transfers.failed')}</dt>
                <dd>{formatNumber(tr.failed, lng)}</dd>
              </div>
            </dl>
            {tr.last_error ? (
              <section className="detail-section">
                <h3>{t('omie.transfers.colError')}</h3>
                <p className="omie-fault" data-testid="att-detail-error" data-code={tr.last_error_code ?? ''}>
                  {omieErrorText(i18n, tr.last_error)}
                </p>
              </section>
            ) : null}
            <section className="detail-section">
              <h3>{t('omie.detail.files', { n: detail.files.length })}</h3>
              {detail.files.length === 0 ? <p className="muted small">{t('omie.detail.noFiles')}</p> : null}
              <ul className="omie-files">
                {detail.files.map((f) => (
                  <li key={f.origin_attachment_id} data-testid="att-detail-file" data-status={f.status}>
                    <div className="omie-file-head">
                      <span className="strong truncate" title={f.file_name}>
                        {f.file_name}
                      </span>
                      <RecordStatusBadge status={f.status} />
                    </div>
                    <div className="small muted omie-file-meta">
                      {f.dest_name && f.dest_name !== f.file_name ? <span>{t('omie.detail.sentAs', { name: f.dest_name })}</span> : null}
                      {f.size_bytes !== null ? <span>{formatBytes(f.size_bytes, lng)}</span> : null}
                      <span>{t('omie.transfers.attemptsOf', { n: f.attempts, max: tr.max_attempts })}</span>
                      {f.cod_int_anexo ? (
                        <span className="mono" title={t('omie.detail.codeHint')}>
                          {f.cod_int_anexo}
                        </span>
                      ) : null}
                    </div>
                    {f.error ? <p className="omie-fault small">{omieErrorText(i18n, f.error)}</p> : null}
                  </li>
                ))}
              </ul>
            </section>
            {tr.job_id ? (
              <a className="link-quiet small" href={hrefFor('jobs', tr.job_id)}>
                {t('omie.job.viewLog')}
                <Icon name="chevron" size={14} />
              </a>
            ) : null}
          </>
        ) : null}
      </div>
    </aside>
  );
}

function TransfersCard({
  rows,
  status,
  onStatus,
  retry,
  selectedId,
  onSelect,
}: {
  rows: OmieAttachmentTransfer[] | null;
  status: string;
  onStatus: (s: string) => void;
  retry: Retry;
  selectedId: string | null;
  onSelect: (row: OmieAttachmentTransfer) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const columns = useMemo<ColumnDef<OmieAttachmentTransfer>[]>(
    () => [
      {
        id: 'status',
        header: t('omie.transfers.colStatus'),
        size: 132,
        cell: ({ row }) => <RecordStatusBadge status={row.original.status} />,
      },
      {
        id: 'route',
        header: t('omie.transfers.colRoute'),
        size: 250,
        cell: ({ row }) => <RouteCell row={row.original} />,
      },
      {
        id: 'nf',
        header: t('omie.transfers.colNf'),
        size: 70,
        cell: ({ row }) => <span className="tabular">{row.original.nf_number ?? '—'}</span>,
      },
      {
        id: 'attempts',
        header: t('omie.transfers.colAttempts'),
        size: 72,
        cell: ({ row }) => (
          <span className="tabular" data-testid="att-transfer-attempts">
            {t('omie.transfers.attemptsShort', { n: row.original.attempts, max: row.original.max_attempts })}
          </span>
        ),
      },
      {
        id: 'counts',
        header: t('omie.transfers.colFiles'),
        size: 110,
        cell: ({ row }) => (
          <span className="omie-file-counts small" data-testid="att-transfer-counts">
            <span title={t('omie.transfers.transferred')} className="ok">
              <Icon name="check" size={12} />
              {formatNumber(row.original.transferred, lng)}
            </span>
            <span title={t('omie.transfers.duplicates')} className="dup">
              ={formatNumber(row.original.duplicates, lng)}
            </span>
            <span title={t('omie.transfers.failed')} className={row.original.failed > 0 ? 'bad' : 'muted'}>
              <Icon name="alert" size={12} />
              {formatNumber(row.original.failed, lng)}
            </span>
          </span>
        ),
      },
      {
        id: 'updated',
        header: t('omie.transfers.colUpdated'),
        size: 125,
        cell: ({ row }) => (
          <span className="omie-ref small tabular">
            <span>{formatDateTime(row.original.updated_at, lng)}</span>
            {row.original.duration_ms === null ? null : (
              <span className="muted">{t('omie.transfers.took', { duration: formatDuration(row.original.duration_ms, lng) })}</span>
            )}
          </span>
        ),
      },
      {
        id: 'error',
        header: t('omie.transfers.colError'),
        size: 225,
        cell: ({ row }) =>
          row.original.last_error ? (
            <span className="omie-fault-cell small" title={omieErrorText(i18n, row.original.last_error)} data-testid="att-transfer-error">
              {omieErrorText(i18n, row.original.last_error)}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
    ],
    [t, lng],
  );

  const retryable = (rows ?? []).some((r) => r.status !== 'succeeded' && r.attempts < r.max_attempts);

  return (
    <TableCard
      titleId="att-transfers-title"
      title={t('omie.transfers.title')}
      hint={t('omie.transfers.hint')}
      tools={
        <div className="omie-toolbar">
          <label className="filter">
            <span className="sr-only">{t('omie.transfers.filter')}</span>
            <select value={status} onChange={(e) => onStatus(e.target.value)} data-testid="att-status-filter" aria-label={t('omie.transfers.filter')}>
              <option value="">{t('omie.transfers.allStatuses')}</option>
              {TRANSFER_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`omie.status.${s}`)}
                </option>
              ))}
            </select>
          </label>
          <RetryButton retry={retry} testId="att-retry" title={retryable ? undefined : t('omie.transfers.retryNothing')}>
            {t('omie.transfers.retry')}
          </RetryButton>
        </div>
      }
      error={retry.error}
      errorTestId="att-retry-error"
      onDismissError={retry.clearError}
      testId="att-transfers"
      rows={rows}
      foot={t('omie.transfers.retryHint')}
    >
      <DataTable
        data={rows ?? []}
        columns={columns}
        getRowId={(r) => r.id}
        label={t('omie.transfers.title')}
        rowHeight={64}
        selectedId={selectedId}
        onRowClick={onSelect}
        rowAttributes={(r) => ({ 'data-testid': 'att-transfer-row', 'data-status': r.status, 'data-id': r.id })}
        empty={<p className="muted table-empty-text">{status ? t('omie.transfers.emptyFiltered') : t('omie.transfers.empty')}</p>}
      />
    </TableCard>
  );
}

function MapCard({ rows }: { rows: OmieAttachmentMapEntry[] | null }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const columns = useMemo<ColumnDef<OmieAttachmentMapEntry>[]>(
    () => [
      {
        id: 'origin',
        header: t('omie.map.colOrigin'),
        size: 200,
        cell: ({ row }) => <RecordRef table={row.original.origin_table} id={row.original.origin_id} />,
      },
      {
        id: 'dest',
        header: t('omie.map.colDestination'),
        size: 200,
        cell: ({ row }) => <RecordRef table={row.original.dest_table} id={row.original.dest_id} />,
      },
      { id: 'nf', header: t('omie.map.colNf'), size: 90, cell: ({ row }) => <span className="tabular">{row.original.nf_number ?? '—'}</span> },
      {
        id: 'files',
        header: t('omie.map.colFiles'),
        size: 70,
        cell: ({ row }) => <span className="tabular">{formatNumber(row.original.files, lng)}</span>,
      },
      {
        id: 'updated',
        header: t('omie.map.colUpdated'),
        size: 130,
        cell: ({ row }) => <span className="small tabular">{formatDateTime(row.original.updated_at, lng)}</span>,
      },
    ],
    [t, lng],
  );
  return (
    <TableCard
      titleId="att-map-title"
      title={t('omie.map.title')}
      hint={t('omie.map.hint')}
      testId="att-map"
      wrapClassName="omie-table-wrap omie-table-short"
      rows={rows}
    >
      <DataTable
        data={rows ?? []}
        columns={columns}
        getRowId={(r) => `${r.origin_table}:${r.origin_id}:${r.dest_table}:${r.dest_id}`}
        label={t('omie.map.title')}
        rowHeight={48}
        rowAttributes={(r) => ({ 'data-testid': 'att-map-row', 'data-origin': r.origin_id, 'data-dest': r.dest_id })}
        empty={<p className="muted table-empty-text">{t('omie.map.empty')}</p>}
      />
    </TableCard>
  );
}

export function OmieAttachmentsTab({ connectionId }: { connectionId: string }) {
  const { t, i18n } = useTranslation();
  const [settings, setSettings] = useState<OmieAttachmentSettings | null>(null);
  const [settingsError, setSettingsError] = useState<ApiError | null>(null);
  const [transfers, setTransfers] = useState<OmieAttachmentTransfer[] | null>(null);
  const [map, setMap] = useState<OmieAttachmentMapEntry[] | null>(null);
  const [status, setStatus] = useState('');
  const [listError, setListError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const statusRef = useRef(status);
  statusRef.current = status;

  const loadLists = useCallback(async () => {
    try {
      const [tr, mp] = await Promise.all([
        omie.omieAttachmentTransfers(connectionId, statusRef.current || null, LOG_LIMIT),
        omie.omieAttachmentMap(connectionId),
      ]);
      setTransfers(tr ?? []);
      setMap(mp ?? []);
      setListError(null);
    } catch (e) {
      setListError(toApiError(e));
    }
  }, [connectionId]);

  useEffect(() => {
    let stale = false;
    omie.omieAttachmentSettings(connectionId).then(
      (s) => {
        if (!stale) setSettings(s ?? DEFAULT_SETTINGS);
      },
      (e) => {
        if (stale) return;
        setSettingsError(toApiError(e));
        setSettings(DEFAULT_SETTINGS);
      },
    );
    return () => {
      stale = true;
    };
  }, [connectionId]);

  useEffect(() => {
    void loadLists();
  }, [loadLists, status]);

  const { job, track } = useOmieJob(ATTACHMENT_KINDS, connectionId, () => void loadLists());
  const retry = useRetry(() => omie.omieRetryAttachments(connectionId), track);

  // While a job runs the log changes under it: re-read it now and then.
  const running = isActiveJob(job);
  useEffect(() => {
    if (!running) return;
    const id = window.setInterval(() => void loadLists(), 4000);
    return () => window.clearInterval(id);
  }, [running, loadLists]);

  return (
    <div className="omie-tab" data-testid="omie-attachments">
      <Explain icon="paperclip" title={t('omie.attachments.whatTitle')} text={t('omie.attachments.what')} testId="att-explain" />

      {settingsError ? <OmieErrorBox error={settingsError} onDismiss={() => setSettingsError(null)} /> : null}

      {settings ? (
        <div className="omie-grid">
          <TransferForm connectionId={connectionId} settings={settings} onStarted={track} />
          <ScanForm
            idPrefix="att"
            title={t('omie.attachments.scanTitle')}
            intro={t('omie.attachments.scanIntro', { from: tableLabel(i18n, settings.source_table), to: tableLabel(i18n, settings.dest_table) })}
            start={(since, dryRun) => omie.omieAttachmentScan(connectionId, { since, dry_run: dryRun })}
            onStarted={track}
          />
        </div>
      ) : (
        <Loading />
      )}

      <LatestJob job={job} testIdPrefix="att" onCancelled={track} />

      {listError ? <OmieErrorBox error={listError} onDismiss={() => setListError(null)} /> : null}

      <TransfersCard
        rows={transfers}
        status={status}
        onStatus={setStatus}
        retry={retry}
        selectedId={selected}
        onSelect={(r) => setSelected(r.id)}
      />

      {settings ? (
        <div className="omie-grid">
          <UploadForm connectionId={connectionId} settings={settings} onStarted={track} />
          <SettingsForm connectionId={connectionId} settings={settings} onSaved={setSettings} />
        </div>
      ) : null}

      <MapCard rows={map} />

      {selected ? <TransferDrawer key={selected} transferId={selected} onClose={() => setSelected(null)} /> : null}
    </div>
  );
}
