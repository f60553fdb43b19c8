// Data tab: what is stored from Omie (summary), a browser for each synced resource (server-side
// paging, sorting, filters and search; money as exact BRL), and the local client records matched
// by CNPJ/CPF.
import type { ColumnDef } from '@tanstack/react-table';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type UIEvent } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from '../apiOmie';
import type { ApiError } from '../bindings/ApiError';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { OmieLocalClient } from '../bindings/OmieLocalClient';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import { DataTable } from '../components/DataTable';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { formatDateOnly, formatDateTime, formatDecimalString, formatNumber } from '../format';
import { buildFilters, nextSort, type Sort } from './ContificoBrowser';
import { JsonPanel } from './ContificoRecord';
import { OmieErrorBox } from './OmieAttachmentForms';
import { OMIE_PAGE_SIZE, OMIE_SYNC_KIND, columnLabel, formatBrl, formatDocument, resourceLabel } from './OmieUtil';
import { useOmieJob } from './OmieJob';

type Inputs = Record<string, { contains?: string; gte?: string; lte?: string }>;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return v;
}

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

const WIDTH: Record<ColumnInfo['kind'], number> = { text: 180, code: 110, decimal: 140, date: 140 };

interface HeaderState {
  sort: Sort | null;
  setSort: (update: (cur: Sort | null) => Sort | null) => void;
  inputs: Inputs;
  setInput: (column: string, patch: Inputs[string]) => void;
  invalid: ReadonlySet<string>;
}

const HeaderContext = createContext<HeaderState | null>(null);

/** A column header: its label (click to sort) and its filter below. */
function HeaderCell({ name, kind }: { name: string; kind: ColumnInfo['kind'] | 'id' }) {
  const { t, i18n } = useTranslation();
  const state = useContext(HeaderContext);
  if (!state) return null;
  const { sort, setSort, inputs, setInput, invalid } = state;
  const label = name === 'id' ? t('omie.browser.id') : columnLabel(i18n, name);
  const sorted = sort?.column === name ? (sort.desc ? 'desc' : 'asc') : null;
  return (
    <div className="th-inner">
      <button
        type="button"
        className={sorted ? 'sort-button sorted' : 'sort-button'}
        onClick={() => setSort((cur) => nextSort(cur, name))}
        data-testid={`omie-sort-${name}`}
        data-sort={sorted ?? 'none'}
        title={t('omie.browser.sortBy', { column: label })}
      >
        <span className="truncate">{label}</span>
        <Icon name="chevron" size={12} className={`sort-icon sort-${sorted ?? 'none'}`} />
      </button>
      {kind === 'decimal' || kind === 'date' ? (
        <div className="th-filter th-filter-range">
          {(['gte', 'lte'] as const).map((op) => (
            <label key={op} className="range-input">
              <span aria-hidden="true">{op === 'gte' ? t('omie.browser.from') : t('omie.browser.to')}</span>
              <input
                type={kind === 'date' ? 'date' : 'text'}
                inputMode={kind === 'decimal' ? 'decimal' : undefined}
                value={inputs[name]?.[op] ?? ''}
                onChange={(e) => setInput(name, { [op]: e.target.value })}
                aria-label={t(op === 'gte' ? 'omie.browser.filterFrom' : 'omie.browser.filterTo', { column: label })}
                aria-invalid={invalid.has(`${name}-${op}`) || undefined}
                data-testid={`omie-filter-${name}-${op}`}
              />
            </label>
          ))}
        </div>
      ) : (
        <div className="th-filter">
          <input
            type="search"
            value={inputs[name]?.contains ?? ''}
            onChange={(e) => setInput(name, { contains: e.target.value })}
            aria-label={t('omie.browser.filterContains', { column: label })}
            data-testid={`omie-filter-${name}`}
          />
        </div>
      )}
    </div>
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
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const columns = useMemo(() => resources.find((r) => r.name === resource)?.columns ?? [], [resources, resource]);
  const [searchText, setSearchText] = useState('');
  const [inputs, setInputs] = useState<Inputs>({});
  const [sort, setSort] = useState<Sort | null>(null);
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [rows, setRows] = useState<BrowseRow[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<BrowseRow | null>(null);
  const [raw, setRaw] = useState<string | null>(null);
  const [rawError, setRawError] = useState<ApiError | null>(null);

  const search = useDebounced(searchText.trim(), 300);
  const debounced = useDebounced(inputs, 400);
  const { filters, invalid } = useMemo(() => buildFilters(debounced, columns, lng), [debounced, columns, lng]);
  const key = JSON.stringify({ connectionId, resource, search, filters, sort, includeDeleted });
  const seq = useRef(0);

  const load = useCallback(
    async (offset: number) => {
      const mine = offset === 0 ? ++seq.current : seq.current;
      setLoading(true);
      try {
        const page = await omie.omieBrowse({
          connection_id: connectionId,
          resource,
          offset,
          limit: OMIE_PAGE_SIZE,
          sort: sort?.column ?? null,
          desc: sort?.desc ?? false,
          filters,
          search: search || null,
          include_deleted: includeDeleted,
        });
        if (mine !== seq.current) return;
        setRows((cur) => (offset === 0 ? page.rows : [...cur, ...page.rows]));
        setTotal(page.total);
        setError(null);
      } catch (e) {
        if (mine === seq.current) setError(toApiError(e));
      } finally {
        if (mine === seq.current) setLoading(false);
      }
    },
    // `key` stands for every input of the request.
    [key],
  );

  useEffect(() => {
    void load(0);
  }, [load]);

  useEffect(() => {
    if (!selected) return;
    let stale = false;
    setRaw(null);
    setRawError(null);
    omie.omieRecord(connectionId, resource, selected.id).then(
      (r) => {
        if (!stale) setRaw(r);
      },
      (e) => {
        if (!stale) setRawError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [connectionId, resource, selected]);

  const hasMore = total !== null && rows.length < total;
  const loadMore = () => {
    if (!loading && hasMore) void load(rows.length);
  };
  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.target as HTMLElement;
    if (!el.classList?.contains('table-scroll')) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 500) loadMore();
  };

  const setInput = useCallback(
    (column: string, patch: Inputs[string]) => setInputs((cur) => ({ ...cur, [column]: { ...cur[column], ...patch } })),
    [],
  );

  const tableColumns = useMemo<ColumnDef<BrowseRow>[]>(() => {
    const cell = (kind: ColumnInfo['kind'], v: string | null | undefined) => {
      if (v === null || v === undefined || v === '') return <span className="muted">—</span>;
      if (kind === 'decimal') return <span className="tabular num">{formatBrl(v, lng)}</span>;
      if (kind === 'date') return <span className="tabular">{formatDateOnly(v, lng)}</span>;
      return (
        <span className="truncate" title={v}>
          {v}
        </span>
      );
    };
    return [
      {
        id: 'id',
        header: () => <HeaderCell name="id" kind="id" />,
        size: 130,
        cell: ({ row }) => (
          <span className="id-cell">
            <span className="mono truncate" title={row.original.id}>
              {row.original.id}
            </span>
            {row.original.deleted_at ? <span className="badge badge-deleted">{t('omie.browser.deleted')}</span> : null}
          </span>
        ),
      },
      ...columns.map<ColumnDef<BrowseRow>>((c, i) => ({
        id: `c_${c.name}`,
        header: () => <HeaderCell name={c.name} kind={c.kind} />,
        size: WIDTH[c.kind],
        cell: ({ row }) => cell(c.kind, row.original.values[i]),
      })),
    ];
  }, [columns, t, lng]);
  const headerState = useMemo<HeaderState>(
    () => ({ sort, setSort, inputs, setInput, invalid: new Set(invalid) }),
    [sort, inputs, setInput, invalid],
  );
  const minWidth = 130 + columns.reduce((s, c) => s + WIDTH[c.kind], 0);

  return (
    <section className="card browser-card omie-card" data-testid="omie-browser" data-resource={resource} aria-label={t('omie.browser.title')}>
      <div className="browser-toolbar">
        <label className="filter">
          <span>{t('omie.browser.resource')}</span>
          <select value={resource} onChange={(e) => onResource(e.target.value)} data-testid="omie-browse-resource">
            {resources.map((r) => (
              <option key={r.name} value={r.name}>
                {resourceLabel(i18n, r.name)}
              </option>
            ))}
          </select>
        </label>
        <label className="filter browser-search">
          <span>{t('omie.browser.search')}</span>
          <input
            type="search"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder={t('omie.browser.searchPlaceholder')}
            data-testid="omie-browse-search"
          />
        </label>
        <label className="check browser-deleted">
          <input type="checkbox" checked={includeDeleted} onChange={(e) => setIncludeDeleted(e.target.checked)} data-testid="omie-browse-deleted" />
          <span>{t('omie.browser.showDeleted')}</span>
        </label>
        <span className="browser-total muted small tabular" aria-live="polite">
          {loading ? <span className="spinner" aria-hidden="true" /> : null}
          <span data-testid="omie-browse-total" data-total={total ?? ''}>
            {total === null ? t('common.loading') : t('omie.browser.total', { n: formatNumber(total, lng) })}
          </span>
        </span>
      </div>
      {error ? (
        <div className="browser-error">
          <OmieErrorBox error={error} onDismiss={() => setError(null)} />
        </div>
      ) : null}
      {invalid.length > 0 ? (
        <p className="field-error browser-note">{t('omie.browser.invalidNumber', { example: formatDecimalString('1234.50', lng) })}</p>
      ) : null}
      <HeaderContext.Provider value={headerState}>
      <div className="browse-table" onScrollCapture={onScroll} style={{ ['--browse-min-width' as string]: `${minWidth}px` }}>
        <DataTable
          data={rows}
          columns={tableColumns}
          getRowId={(r) => r.id}
          label={resourceLabel(i18n, resource)}
          rowHeight={40}
          selectedId={selected?.id ?? null}
          onRowClick={setSelected}
          rowAttributes={(r) => ({ 'data-testid': 'omie-browse-row', 'data-id': r.id })}
          empty={total === 0 ? <p className="muted table-empty-text">{t('omie.browser.empty')}</p> : undefined}
        />
      </div>
      </HeaderContext.Provider>
      <div className="browser-footer">
        <span className="muted small">{t('omie.browser.hint')}</span>
        {hasMore ? (
          <button type="button" className="btn btn-small" onClick={loadMore} disabled={loading} data-testid="omie-browse-more">
            {t('omie.browser.loadMore')}
          </button>
        ) : null}
      </div>
      {selected ? (
        <JsonPanel
          testId="omie-record-panel"
          eyebrow={resourceLabel(i18n, resource)}
          title={t('omie.browser.recordTitle', { id: selected.id })}
          raw={raw}
          error={rawError}
          onClose={() => setSelected(null)}
          facts={
            <dl className="facts">
              <div>
                <dt>{t('omie.browser.fetched')}</dt>
                <dd>{formatDateTime(selected.fetched_at, lng)}</dd>
              </div>
              {selected.deleted_at ? (
                <div>
                  <dt>{t('omie.browser.deletedAt')}</dt>
                  <dd className="deleted-text">{formatDateTime(selected.deleted_at, lng)}</dd>
                </div>
              ) : null}
            </dl>
          }
        />
      ) : null}
    </section>
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
