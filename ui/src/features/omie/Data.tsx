// Data tab: what is stored from Omie (the shared summary, with rewind), a browser for each synced
// resource (server-side paging, sorting, filters and search; money as exact BRL), and the local
// client records matched by CNPJ/CPF.
import type { ColumnDef } from '@tanstack/react-table';
import type { i18n as I18n } from 'i18next';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { ColumnInfo } from '../../bindings/ColumnInfo';
import type { Connection } from '../../bindings/Connection';
import type { OmieLocalClient } from '../../bindings/OmieLocalClient';
import { DataTable } from '../../components/DataTable';
import { Loading } from '../../components/Loading';
import { browserTestIds, type ColumnWidths } from '../../components/RecordBrowser';
import { toApiError } from '../../errors';
import { SummaryTable, SyncBrowser, pickBrowseResource, type BrowsePlace, type SyncLinks, type SyncState } from '../sync';
import { formatDateTime } from '../../format';
import { useReveal } from '../../hooks/useReveal';
import { hrefForPath, navigatePath } from '../../router';
import { OmieErrorBox } from './AttachmentForms';
import { TableCard } from './TabParts';
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

function BrowserCard(place: BrowsePlace) {
  const { t } = useTranslation();
  return (
    <SyncBrowser
      {...place}
      pageSize={OMIE_PAGE_SIZE}
      texts="omie.browser"
      loadingKey="common.loading"
      testIds={TEST_IDS}
      columnLabel={browserColumnLabel}
      widths={WIDTHS}
      className="omie-card"
      columnFilters
      sortLabel="title"
      totalAttribute
      scrollLoadMargin={500}
      errorView={OmieErrorBox}
      renderCell={renderBrowserCell}
      record={{
        // Read again whenever a row is chosen.
        reread: true,
        testId: 'omie-record-panel',
        title: (id) => t('omie.browser.recordTitle', { id }),
        fetchedLabel: t('omie.browser.fetched'),
        deletedLabel: t('omie.browser.deletedAt'),
      }}
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
    <TableCard
      titleId="omie-clients-title"
      title={t('omie.clients.title')}
      hint={t('omie.clients.hint')}
      tools={
        <label className="filter">
          <span className="sr-only">{t('omie.clients.search')}</span>
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t('omie.clients.search')} data-testid="omie-clients-search" />
        </label>
      }
      testId="omie-local-clients"
      rows={rows}
    >
      <DataTable
        data={shown}
        columns={columns}
        getRowId={(r) => r.id}
        label={t('omie.clients.title')}
        rowHeight={48}
        rowAttributes={(r) => ({ 'data-testid': 'omie-client-row', 'data-document': r.document ?? '' })}
        empty={<p className="muted table-empty-text">{q ? t('omie.clients.noMatch') : t('omie.clients.empty')}</p>}
      />
    </TableCard>
  );
}

export function OmieDataTab({
  connection,
  sync,
  resource,
  record = null,
}: {
  connection: Connection;
  sync: SyncState;
  resource: string | null;
  /** A record of `resource` to open at once (a link from a divergence). */
  record?: string | null;
}) {
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
        <Loading />
      )}
      <div ref={browserRef}>
        {resources && browsed ? (
          <BrowserCard
            key={browsed}
            connection={connection}
            resources={resources}
            resource={browsed}
            openId={browsed === resource ? record : null}
            onResourceChange={(name) => navigatePath('omie', 'data', name)}
          />
        ) : null}
      </div>
      <LocalClientsCard rows={clients} />
    </div>
  );
}
