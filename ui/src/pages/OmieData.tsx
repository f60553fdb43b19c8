// Data tab: what is stored from Omie (summary), a browser for each synced resource (server-side
// paging, sorting, filters and search; money as exact BRL), and the local client records matched
// by CNPJ/CPF.
import type { ColumnDef } from '@tanstack/react-table';
import type { i18n as I18n } from 'i18next';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from '../apiOmie';
import type { ApiError } from '../bindings/ApiError';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { OmieLocalClient } from '../bindings/OmieLocalClient';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import { DataTable } from '../components/DataTable';
import { RecordBrowser, RecordFacts, browserTestIds, type ColumnWidths } from '../components/RecordBrowser';
import { useRecordJson } from '../components/useRecordBrowser';
import { toApiError } from '../errors';
import { formatDateTime, formatNumber } from '../format';
import { JsonPanel } from './ContificoRecord';
import { OmieErrorBox } from './OmieAttachmentForms';
import { OMIE_PAGE_SIZE, OMIE_SYNC_KIND, columnLabel, formatBrl, formatDocument, resourceLabel } from './OmieUtil';
import { useOmieJob } from './OmieJob';

function SummaryCard({
  rows,
  onBrowse,
}: {
  rows: ResourceSummary[] | null;
  onBrowse: (resource: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const columns = useMemo<ColumnDef<ResourceSummary>[]>(
    () => [
      {
        id: 'resource',
        header: t('omie.summary.colResource'),
        size: 170,
        cell: ({ row }) => (
          <span className="omie-ref">
            <span className="strong">{resourceLabel(i18n, row.original.resource)}</span>
            <span className="muted small mono">{row.original.resource}</span>
          </span>
        ),
      },
      {
        id: 'records',
        header: t('omie.summary.colRecords'),
        size: 90,
        cell: ({ row }) => (
          <span className="tabular strong" data-testid="omie-summary-records">
            {formatNumber(row.original.records, lng, 0)}
          </span>
        ),
      },
      {
        id: 'deleted',
        header: t('omie.summary.colDeleted'),
        size: 80,
        cell: ({ row }) => <span className="tabular muted">{formatNumber(row.original.deleted, lng, 0)}</span>,
      },
      {
        id: 'quarantined',
        header: t('omie.summary.colQuarantined'),
        size: 112,
        cell: ({ row }) => (
          <span className={row.original.quarantined > 0 ? 'tabular omie-warn-text' : 'tabular muted'}>
            {formatNumber(row.original.quarantined, lng, 0)}
          </span>
        ),
      },
      {
        id: 'success',
        header: t('omie.summary.colSuccess'),
        size: 135,
        cell: ({ row }) =>
          row.original.last_success_at ? (
            <span className="small tabular">{formatDateTime(row.original.last_success_at, lng)}</span>
          ) : (
            <span className="muted small">{t('omie.summary.never')}</span>
          ),
      },
      {
        id: 'error',
        header: t('omie.summary.colError'),
        size: 200,
        cell: ({ row }) =>
          row.original.last_error ? (
            <span className="omie-fault-cell small" title={row.original.last_error}>
              {row.original.last_error}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
      {
        id: 'browse',
        header: () => <span className="sr-only">{t('omie.summary.browse')}</span>,
        size: 115,
        cell: ({ row }) => (
          <button type="button" className="btn btn-small" onClick={() => onBrowse(row.original.resource)} data-testid="omie-summary-browse">
            {t('omie.summary.browse')}
          </button>
        ),
      },
    ],
    [t, i18n, lng, onBrowse],
  );
  const total = (rows ?? []).reduce((s, r) => s + r.records, 0);
  return (
    <section className="card table-card omie-card" aria-labelledby="omie-summary-title">
      <div className="card-header">
        <div>
          <h2 id="omie-summary-title">{t('omie.summary.title')}</h2>
          <p className="muted small">{t('omie.summary.hint')}</p>
        </div>
        <span className="muted small tabular">{t('omie.summary.total', { n: formatNumber(total, lng) })}</span>
      </div>
      <div data-testid="omie-summary" className="omie-table-wrap">
        {rows === null ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        ) : (
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(r) => r.resource}
            label={t('omie.summary.title')}
            rowHeight={52}
            rowAttributes={(r) => ({ 'data-testid': 'omie-summary-row', 'data-resource': r.resource, 'data-records': String(r.records) })}
            empty={<p className="muted table-empty-text">{t('omie.summary.empty')}</p>}
          />
        )}
      </div>
    </section>
  );
}

const WIDTHS: ColumnWidths = { id: 130, text: 180, code: 110, decimal: 140, date: 140 };
const TEST_IDS = browserTestIds('omie');

const browserColumnLabel = (i18n: I18n, name: string) => (name === 'id' ? i18n.t('omie.browser.id') : columnLabel(i18n, name));

/** Money as exact BRL; everything else as the other browsers show it. */
const renderBrowserCell = (c: ColumnInfo, v: string, i18n: I18n) =>
  c.kind === 'decimal' ? <span className="tabular num">{formatBrl(v, i18n.language)}</span> : undefined;

/** The stored JSON of the chosen record; read again whenever a row is chosen. */
function RecordView({ connectionId, resource, row, onClose }: { connectionId: string; resource: string; row: BrowseRow; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { raw, error } = useRecordJson(omie.omieRecord, connectionId, resource, row.id, row);
  return (
    <JsonPanel
      testId="omie-record-panel"
      eyebrow={resourceLabel(i18n, resource)}
      title={t('omie.browser.recordTitle', { id: row.id })}
      raw={raw}
      error={error}
      onClose={onClose}
      facts={<RecordFacts row={row} fetchedLabel={t('omie.browser.fetched')} deletedLabel={t('omie.browser.deletedAt')} />}
    />
  );
}

function BrowserCard({
  connectionId,
  resources,
  resource,
  onResource,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  resource: string;
  onResource: (r: string) => void;
}) {
  return (
    <RecordBrowser
      connectionId={connectionId}
      resources={resources}
      resource={resource}
      onResourceChange={onResource}
      browse={omie.omieBrowse}
      pageSize={OMIE_PAGE_SIZE}
      texts="omie.browser"
      loadingKey="common.loading"
      testIds={TEST_IDS}
      resourceLabel={resourceLabel}
      columnLabel={browserColumnLabel}
      widths={WIDTHS}
      className="omie-card"
      columnFilters
      sortLabel="title"
      totalAttribute
      scrollLoadMargin={500}
      errorView={OmieErrorBox}
      renderCell={renderBrowserCell}
      renderRecord={(row, close) => <RecordView connectionId={connectionId} resource={resource} row={row} onClose={close} />}
    />
  );
}

function LocalClientsCard({ rows }: { rows: OmieLocalClient[] | null }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [q, setQ] = useState('');
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const digits = needle.replace(/[^0-9a-z]/g, '');
    if (!rows || !needle) return rows ?? [];
    return rows.filter(
      (r) =>
        r.name.toLowerCase().includes(needle) ||
        (digits !== '' && (r.document ?? '').toLowerCase().includes(digits)) ||
        (r.email ?? '').toLowerCase().includes(needle) ||
        (r.omie_codigo ?? '').includes(needle),
    );
  }, [rows, q]);
  const columns = useMemo<ColumnDef<OmieLocalClient>[]>(
    () => [
      { id: 'name', header: t('omie.clients.colName'), size: 200, cell: ({ row }) => <span className="strong truncate" title={row.original.name}>{row.original.name}</span> },
      {
        id: 'document',
        header: t('omie.clients.colDocument'),
        size: 170,
        cell: ({ row }) =>
          row.original.document ? (
            <span className="omie-ref">
              <span className="mono">{formatDocument(row.original.document)}</span>
              <span className="muted small">{row.original.document_kind ? row.original.document_kind.toUpperCase() : ''}</span>
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
      { id: 'codigo', header: t('omie.clients.colCode'), size: 120, cell: ({ row }) => <span className="mono">{row.original.omie_codigo ?? '—'}</span> },
      { id: 'email', header: t('omie.clients.colEmail'), size: 180, cell: ({ row }) => <span className="truncate">{row.original.email ?? '—'}</span> },
      {
        id: 'matched',
        header: t('omie.clients.colMatched'),
        size: 140,
        cell: ({ row }) => (
          <span className="small">
            {row.original.matched_by ? t(`omie.clients.matched.${row.original.matched_by}`, { defaultValue: row.original.matched_by }) : '—'}
          </span>
        ),
      },
      { id: 'updated', header: t('omie.clients.colUpdated'), size: 130, cell: ({ row }) => <span className="small tabular">{formatDateTime(row.original.updated_at, lng)}</span> },
    ],
    [t, lng],
  );
  return (
    <section className="card table-card omie-card" aria-labelledby="omie-clients-title">
      <div className="card-header omie-card-header-wrap">
        <div>
          <h2 id="omie-clients-title">{t('omie.clients.title')}</h2>
          <p className="muted small">{t('omie.clients.hint')}</p>
        </div>
        <label className="filter">
          <span className="sr-only">{t('omie.clients.search')}</span>
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t('omie.clients.search')} data-testid="omie-clients-search" />
        </label>
      </div>
      <div data-testid="omie-local-clients" className="omie-table-wrap" data-count={rows?.length ?? ''}>
        {rows === null ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        ) : (
          <DataTable
            data={shown}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('omie.clients.title')}
            rowHeight={48}
            rowAttributes={(r) => ({ 'data-testid': 'omie-client-row', 'data-document': r.document ?? '' })}
            empty={<p className="muted table-empty-text">{q ? t('omie.clients.noMatch') : t('omie.clients.empty')}</p>}
          />
        )}
      </div>
    </section>
  );
}

export function OmieDataTab({ connectionId }: { connectionId: string }) {
  const [resources, setResources] = useState<ResourceInfo[] | null>(null);
  const [summary, setSummary] = useState<ResourceSummary[] | null>(null);
  const [clients, setClients] = useState<OmieLocalClient[] | null>(null);
  const [resource, setResource] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const browserRef = useRef<HTMLDivElement>(null);

  const load = useCallback(async () => {
    try {
      const [res, sum, cl] = await Promise.all([
        omie.omieResources(),
        omie.omieSummary(connectionId),
        omie.omieLocalClients(connectionId),
      ]);
      setResources(res ?? []);
      setSummary(sum ?? []);
      setClients(cl ?? []);
      setResource((cur) => cur ?? (sum ?? []).find((s) => s.records > 0)?.resource ?? res?.[0]?.name ?? null);
    } catch (e) {
      setError(toApiError(e));
    }
  }, [connectionId]);

  useEffect(() => {
    void load();
  }, [load]);

  // A sync that ends changes every number here.
  useOmieJob([OMIE_SYNC_KIND], connectionId, () => void load());

  const browse = useCallback((r: string) => {
    setResource(r);
    browserRef.current?.scrollIntoView?.({ behavior: 'smooth', block: 'start' });
  }, []);

  return (
    <div className="omie-tab" data-testid="omie-data">
      {error ? <OmieErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      <SummaryCard rows={summary} onBrowse={browse} />
      <div ref={browserRef}>
        {resources && resource ? (
          <BrowserCard key={resource} connectionId={connectionId} resources={resources} resource={resource} onResource={setResource} />
        ) : null}
      </div>
      <LocalClientsCard rows={clients} />
    </div>
  );
}
