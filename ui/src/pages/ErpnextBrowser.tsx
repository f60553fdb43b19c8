// Browsing the synced documents of one site: server-side paging, sorting by a column header,
// full-text search (names, parties, serials, BackOffice keys), "show deleted", and the stored JSON
// of a document in a side panel.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as erp from '../apiErpnext';
import type { ApiError } from '../bindings/ApiError';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import { DataTable } from '../components/DataTable';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { formatDateOnly, formatDateTime, formatDecimalString, formatNumber } from '../format';
import { JsonPanel } from './ContificoRecord';
import { labelOr, resourceName } from './ErpnextModel';

const PAGE_SIZE = 200;
/** ERPNext's docstatus: 0 draft, 1 submitted, 2 cancelled. */
const DOCSTATUS: Record<string, string> = { '0': 'erpnext.run.draft', '1': 'erpnext.run.submitted', '2': 'erpnext.run.cancelledDoc' };
const WIDTH: Record<ColumnInfo['kind'], number> = { text: 170, code: 100, decimal: 120, date: 115 };

interface Sort {
  column: string;
  desc: boolean;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(h);
  }, [value, ms]);
  return v;
}

function RecordView({
  connectionId,
  resource,
  row,
  onClose,
}: {
  connectionId: string;
  resource: string;
  row: BrowseRow;
  onClose: () => void;
}) {
  const { t, i18n } = useTranslation();
  const [raw, setRaw] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let stale = false;
    erp.erpnextRecord(connectionId, resource, row.id).then(
      (r) => {
        if (!stale) setRaw(r);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [connectionId, resource, row.id]);
  return (
    <JsonPanel
      testId="erpnext-record"
      eyebrow={resourceName(i18n, resource)}
      title={t('erpnext.data.browser.recordTitle', { id: row.id })}
      raw={raw}
      error={error}
      onClose={onClose}
      facts={
        <dl className="facts">
          <div>
            <dt>{t('erpnext.data.browser.fetched')}</dt>
            <dd>{formatDateTime(row.fetched_at, i18n.language)}</dd>
          </div>
        </dl>
      }
    />
  );
}

export function ErpnextBrowser({
  connectionId,
  resources,
  resource,
  storedRecords,
  refreshKey,
  onResourceChange,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  resource: string;
  storedRecords: number | null;
  /** Changes when a sync of this site ends: the rows are read again. */
  refreshKey: number;
  onResourceChange: (name: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const columns = useMemo(() => resources.find((r) => r.name === resource)?.columns ?? [], [resources, resource]);
  const [searchText, setSearchText] = useState('');
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [sort, setSort] = useState<Sort | null>(null);
  const [rows, setRows] = useState<BrowseRow[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<BrowseRow | null>(null);
  const search = useDebounced(searchText.trim(), 300);
  const seq = useRef(0);

  const load = useCallback(
    async (offset: number) => {
      const mine = offset === 0 ? ++seq.current : seq.current;
      setLoading(true);
      try {
        const page = await erp.erpnextBrowse({
          connection_id: connectionId,
          resource,
          offset,
          limit: PAGE_SIZE,
          sort: sort?.column ?? null,
          desc: sort?.desc ?? false,
          filters: [],
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
    [connectionId, resource, sort, search, includeDeleted],
  );

  useEffect(() => {
    void load(0);
  }, [load, refreshKey]);

  const toggleSort = useCallback(
    (column: string) =>
      setSort((cur) => (!cur || cur.column !== column ? { column, desc: false } : !cur.desc ? { column, desc: true } : null)),
    [],
  );

  const tableColumns = useMemo<ColumnDef<BrowseRow>[]>(() => {
    const header = (name: string) => () => {
      const label = labelOr(i18n, `erpnext.data.columns.${name}`, name);
      const dir = sort?.column === name ? (sort.desc ? 'desc' : 'asc') : 'none';
      return (
        <button
          type="button"
          className={dir === 'none' ? 'sort-button' : 'sort-button sorted'}
          onClick={() => toggleSort(name)}
          aria-label={t('erpnext.data.browser.sortBy', { column: label })}
          data-sort={dir}
          data-testid={`erpnext-sort-${name}`}
          title={label}
        >
          <span className="truncate">{label}</span>
          <Icon name="chevron" size={12} className={`sort-icon sort-${dir}`} />
        </button>
      );
    };
    const defs: ColumnDef<BrowseRow>[] = [
      {
        id: 'id',
        header: header('id'),
        size: 170,
        cell: ({ row }) => (
          <span className="id-cell">
            <span className="mono truncate" title={row.original.id}>
              {row.original.id}
            </span>
            {row.original.deleted_at ? <span className="badge badge-deleted">{t('erpnext.data.browser.deleted')}</span> : null}
          </span>
        ),
      },
    ];
    columns.forEach((c, i) => {
      defs.push({
        id: `c_${c.name}`,
        header: header(c.name),
        size: WIDTH[c.kind],
        cell: ({ row }) => {
          const v = row.original.values[i];
          if (v === null || v === undefined || v === '') return <span className="muted">—</span>;
          if (c.kind === 'decimal') return <span className="tabular num">{formatDecimalString(v, lng)}</span>;
          if (c.kind === 'date') return <span className="tabular">{formatDateOnly(v, lng)}</span>;
          if (c.name === 'docstatus' && DOCSTATUS[v]) return <span title={v}>{t(DOCSTATUS[v])}</span>;
          return (
            <span className="truncate" title={v}>
              {v.replace(/\n/g, ', ')}
            </span>
          );
        },
      });
    });
    return defs;
  }, [columns, sort, toggleSort, t, i18n, lng]);

  const hasMore = total !== null && rows.length < total;
  const notSynced = storedRecords === 0 && !search && !includeDeleted;
  const minWidth = 170 + columns.reduce((s, c) => s + WIDTH[c.kind], 0);

  return (
    <section className="card browser-card erp-browser" data-testid="erpnext-browser" data-resource={resource} aria-label={t('erpnext.data.browser.title')}>
      <div className="browser-toolbar">
        <label className="filter">
          <span>{t('erpnext.data.browser.resource')}</span>
          <select value={resource} onChange={(e) => onResourceChange(e.target.value)} data-testid="erpnext-browse-resource">
            {resources.map((r) => (
              <option key={r.name} value={r.name}>
                {resourceName(i18n, r.name)}
              </option>
            ))}
          </select>
        </label>
        <label className="filter browser-search">
          <span>{t('erpnext.data.browser.search')}</span>
          <input
            type="search"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder={t('erpnext.data.browser.searchPlaceholder')}
            data-testid="erpnext-browse-search"
          />
        </label>
        <label className="check browser-deleted">
          <input type="checkbox" checked={includeDeleted} onChange={(e) => setIncludeDeleted(e.target.checked)} data-testid="erpnext-browse-deleted" />
          <span>{t('erpnext.data.browser.showDeleted')}</span>
        </label>
        <span className="browser-total muted small tabular" aria-live="polite">
          {loading ? <span className="spinner" aria-hidden="true" /> : null}
          <span data-testid="erpnext-browse-total">
            {total === null ? t('erpnext.data.browser.loading') : t('erpnext.data.browser.total', { n: formatNumber(total, lng) })}
          </span>
        </span>
      </div>
      {error ? (
        <div className="browser-error">
          <ErrorBox error={error} onDismiss={() => setError(null)} />
        </div>
      ) : null}
      <div className="browse-table erp-browse-table" style={{ ['--browse-min-width' as string]: `${minWidth}px` }}>
        <DataTable
          data={rows}
          columns={tableColumns}
          getRowId={(r) => r.id}
          label={resourceName(i18n, resource)}
          rowHeight={40}
          selectedId={selected?.id ?? null}
          onRowClick={setSelected}
          rowAttributes={(r) => ({ 'data-testid': 'erpnext-browse-row', 'data-id': r.id, 'data-deleted': r.deleted_at ? 'true' : 'false' })}
          empty={
            total === 0 ? (
              <p className="muted table-empty-text">{notSynced ? t('erpnext.data.browser.emptyNotSynced') : t('erpnext.data.browser.empty')}</p>
            ) : undefined
          }
        />
      </div>
      <div className="browser-footer">
        <span className="muted small">{t('erpnext.data.browser.hint')}</span>
        {total !== null && total > 0 ? (
          <span className="muted small tabular">
            {t('erpnext.data.browser.shown', { shown: formatNumber(rows.length, lng), total: formatNumber(total, lng) })}
          </span>
        ) : null}
        {hasMore ? (
          <button type="button" className="btn btn-small" onClick={() => void load(rows.length)} disabled={loading} data-testid="erpnext-browse-more">
            {loading ? t('erpnext.data.browser.loading') : t('erpnext.data.browser.loadMore')}
          </button>
        ) : null}
      </div>
      {selected ? <RecordView key={selected.id} connectionId={connectionId} resource={resource} row={selected} onClose={() => setSelected(null)} /> : null}
    </section>
  );
}
