// Data tab: what is stored from Omie (the shared summary, with rewind), a browser for each synced
// resource (server-side paging, sorting, filters and search; money as exact BRL), and the local
// client records matched by CNPJ/CPF.
import type { ColumnDef } from '@tanstack/react-table';
import type { i18n as I18n } from 'i18next';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import * as omie from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { ColumnInfo } from '../../bindings/ColumnInfo';
import type { Connection } from '../../bindings/Connection';
import type { OmieLocalClient } from '../../bindings/OmieLocalClient';
import type { ResourceInfo } from '../../bindings/ResourceInfo';
import { DataTable } from '../../components/DataTable';
import { RecordBrowser, RecordFacts, browserTestIds, type ColumnWidths } from '../../components/RecordBrowser';
import { toApiError } from '../../errors';
import { RecordPanel, SummaryTable, pickBrowseResource, resourceLabel, resourceLabelOf, type SyncLinks, type SyncState } from '../sync';
import { formatDateTime } from '../../format';
import { useReveal } from '../../hooks/useReveal';
import { hrefForPath, navigatePath } from '../../router';
import { OmieErrorBox } from './AttachmentForms';
import { OMIE_PAGE_SIZE, columnLabel, formatBrl, formatDocument } from './util';

const WIDTHS: ColumnWidths = { id: 130, text: 180, code: 110, decimal: 140, date: 140 };
const TEST_IDS = browserTestIds('omie');

const browserColumnLabel = (i18n: I18n, name: string) => (name === 'id' ? i18n.t('omie.browser.id') : columnLabel(i18n, name));

/** Money as exact BRL; everything else as the other browsers show it. */
const renderBrowserCell = (c: ColumnInfo, v: string, i18n: I18n) =>
  c.kind === 'decimal' ? <span className="tabular num">{formatBrl(v, i18n.language)}</span> : undefined;

const LINKS: SyncLinks = {
  browse: (resource) => hrefForPath('omie', 'data', resource),
  quarantine: (resource) => hrefForPath('omie', 'quarantine', resource),
};
const omieResourceLabel = resourceLabelOf('omie');

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
  const { t, i18n } = useTranslation();
  return (
    <RecordBrowser
      connectionId={connectionId}
      resources={resources}
      resource={resource}
      onResourceChange={onResource}
      browse={api.syncBrowse}
      pageSize={OMIE_PAGE_SIZE}
      texts="omie.browser"
      loadingKey="common.loading"
      testIds={TEST_IDS}
      resourceLabel={omieResourceLabel}
      columnLabel={browserColumnLabel}
      widths={WIDTHS}
      className="omie-card"
      columnFilters
      sortLabel="title"
      totalAttribute
      scrollLoadMargin={500}
      errorView={OmieErrorBox}
      renderCell={renderBrowserCell}
      renderRecord={(row, close) => (
        // Read again whenever a row is chosen.
        <RecordPanel
          connectionId={connectionId}
          kind="omie"
          resource={resource}
          resourceName={resourceLabel(i18n, 'omie', resource)}
          id={row.id}
          reloadToken={row}
          testId="omie-record-panel"
          title={t('omie.browser.recordTitle', { id: row.id })}
          onClose={close}
          facts={<RecordFacts row={row} fetchedLabel={t('omie.browser.fetched')} deletedLabel={t('omie.browser.deletedAt')} />}
        />
      )}
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

export function OmieDataTab({ connection, sync, resource }: { connection: Connection; sync: SyncState; resource: string | null }) {
  const { t } = useTranslation();
  const { resources, summary, refreshKey } = sync;
  const [clients, setClients] = useState<OmieLocalClient[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const browserRef = useRef<HTMLDivElement>(null);
  const browsed = summary ? pickBrowseResource(resources, summary, resource) : null;
  useReveal(browserRef, resource);

  // The local clients; read again when a sync ends (it matches clients anew).
  useEffect(() => {
    let stale = false;
    omie.omieLocalClients(connection.id).then(
      (cl) => {
        if (!stale) setClients(cl ?? []);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [connection.id, refreshKey]);

  return (
    <div className="omie-tab" data-testid="omie-data">
      {error ? <OmieErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {summary ? (
        <SummaryTable connection={connection} rows={summary} now={sync.now} links={LINKS} onRewound={sync.reloadSummary} />
      ) : (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      )}
      <div ref={browserRef}>
        {resources && browsed ? (
          <BrowserCard
            key={browsed}
            connectionId={connection.id}
            resources={resources}
            resource={browsed}
            onResource={(name) => navigatePath('omie', 'data', name)}
          />
        ) : null}
      </div>
      <LocalClientsCard rows={clients} />
    </div>
  );
}
