// Browsing one synced resource: server-side paging (200 rows at a time, more on scroll), sorting by
// a column header, a filter under each header, full-text search and "show deleted".
import type { ColumnDef } from '@tanstack/react-table';
import { createContext, memo, useCallback, useContext, useEffect, useMemo, useRef, useState, type UIEvent } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnFilter } from '../bindings/ColumnFilter';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import { DataTable } from '../components/DataTable';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { formatDateOnly, formatDateTime, formatDecimalString, formatNumber, parseDecimalInput } from '../format';
import { PAGE_SIZE, columnLabel, resourceLabel } from './ContificoUtil';
import { RecordPanel } from './ContificoRecord';

/** What the user typed in a column's filter. */
interface FilterInput {
  contains?: string;
  gte?: string;
  lte?: string;
}

type FilterInputs = Record<string, FilterInput>;

export interface Sort {
  column: string;
  desc: boolean;
}

/** Turns the typed filters into the core's filters; decimals typed in the user's locale are read exactly. */
export function buildFilters(
  inputs: FilterInputs,
  columns: readonly ColumnInfo[],
  locale: string,
): { filters: ColumnFilter[]; invalid: string[] } {
  const filters: ColumnFilter[] = [];
  const invalid: string[] = [];
  const kinds = new Map(columns.map((c) => [c.name, c.kind]));
  for (const [column, input] of Object.entries(inputs)) {
    const kind = column === 'id' ? 'code' : kinds.get(column);
    if (!kind) continue;
    if (kind === 'text' || kind === 'code') {
      const v = input.contains?.trim();
      if (v) filters.push({ column, op: 'contains', value: v });
      continue;
    }
    for (const op of ['gte', 'lte'] as const) {
      const raw = input[op]?.trim();
      if (!raw) continue;
      if (kind === 'decimal') {
        const v = parseDecimalInput(raw, locale);
        if (v === null) invalid.push(`${column}-${op}`);
        else filters.push({ column, op, value: v });
      } else {
        filters.push({ column, op, value: raw });
      }
    }
  }
  return { filters, invalid };
}

/** Next sort state when a header is clicked: ascending → descending → unsorted. */
export function nextSort(current: Sort | null, column: string): Sort | null {
  if (!current || current.column !== column) return { column, desc: false };
  if (!current.desc) return { column, desc: true };
  return null;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return v;
}

type HeaderKind = ColumnInfo['kind'] | 'id';

// The table re-renders only when its rows, columns or selection change — not on every keystroke in
// a filter (the headers follow the filters through HeaderContext).
/** Preferred column widths in px; wide resources scroll sideways rather than squeeze the filters. */
const COLUMN_WIDTH: Record<ColumnInfo['kind'], number> = { text: 180, code: 120, decimal: 140, date: 145 };
const ID_WIDTH = 150;
const RowsTable = memo(DataTable) as typeof DataTable;
const rowId = (r: BrowseRow) => r.id;
const rowAttributes = (r: BrowseRow) => ({
  'data-testid': 'browse-row',
  'data-id': r.id,
  'data-deleted': r.deleted_at ? 'true' : 'false',
});

interface HeaderState {
  sort: Sort | null;
  setSort: (update: (cur: Sort | null) => Sort | null) => void;
  inputs: FilterInputs;
  setInput: (column: string, patch: FilterInput) => void;
  /** `<column>-<op>` of range filters whose text is not a number. */
  invalid: ReadonlySet<string>;
}

const HeaderContext = createContext<HeaderState | null>(null);

/** A column header: the label (click to sort) and the column's filter below it. */
function HeaderCell({ name, kind }: { name: string; kind: HeaderKind }) {
  const { t, i18n } = useTranslation();
  const state = useContext(HeaderContext);
  if (!state) return null;
  const { sort, setSort, inputs, setInput, invalid } = state;
  const label = columnLabel(i18n, name);
  const sorted = sort?.column === name ? (sort.desc ? 'desc' : 'asc') : null;
  return (
    <div className="th-inner">
      <button
        type="button"
        className={sorted ? 'sort-button sorted' : 'sort-button'}
        onClick={() => setSort((cur) => nextSort(cur, name))}
        data-testid={`browse-sort-${name}`}
        data-sort={sorted ?? 'none'}
        aria-label={
          sorted
            ? `${t('contifico.browser.sortBy', { column: label })}, ${t(sorted === 'asc' ? 'contifico.browser.sortedAsc' : 'contifico.browser.sortedDesc')}`
            : t('contifico.browser.sortBy', { column: label })
        }
        title={label}
      >
        <span className="truncate">{label}</span>
        <Icon name="chevron" size={12} className={`sort-icon sort-${sorted ?? 'none'}`} />
      </button>
      {kind === 'decimal' || kind === 'date' ? (
        <div className="th-filter th-filter-range">
          {(['gte', 'lte'] as const).map((op) => {
            const bad = invalid.has(`${name}-${op}`);
            return (
              <label key={op} className="range-input">
                <span aria-hidden="true">{op === 'gte' ? t('contifico.browser.from') : t('contifico.browser.to')}</span>
                <input
                  type={kind === 'date' ? 'date' : 'text'}
                  inputMode={kind === 'decimal' ? 'decimal' : undefined}
                  value={inputs[name]?.[op] ?? ''}
                  onChange={(e) => setInput(name, { [op]: e.target.value })}
                  aria-label={t(op === 'gte' ? 'contifico.browser.filterFrom' : 'contifico.browser.filterTo', { column: label })}
                  aria-invalid={bad || undefined}
                  title={bad ? t('contifico.browser.invalidNumber', { example: formatDecimalString('1234.50', i18n.language) }) : undefined}
                  data-testid={`browse-filter-${name}-${op}`}
                />
              </label>
            );
          })}
        </div>
      ) : (
        <div className="th-filter">
          <input
            type="search"
            value={inputs[name]?.contains ?? ''}
            onChange={(e) => setInput(name, { contains: e.target.value })}
            aria-label={t('contifico.browser.filterContains', { column: label })}
            data-testid={`browse-filter-${name}`}
          />
        </div>
      )}
    </div>
  );
}

export function ContificoBrowser({
  connectionId,
  resources,
  resource,
  storedRecords,
  onResourceChange,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  resource: string;
  /** Records stored for this resource per the summary (null if unknown). */
  storedRecords: number | null;
  onResourceChange: (name: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const info = resources.find((r) => r.name === resource);
  const columns = useMemo(() => info?.columns ?? [], [info]);

  const [searchText, setSearchText] = useState('');
  const [inputs, setInputs] = useState<FilterInputs>({});
  const [sort, setSort] = useState<Sort | null>(null);
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [rows, setRows] = useState<BrowseRow[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<BrowseRow | null>(null);

  const search = useDebounced(searchText.trim(), 300);
  const debouncedInputs = useDebounced(inputs, 400);
  const { filters, invalid } = useMemo(() => buildFilters(debouncedInputs, columns, lng), [debouncedInputs, columns, lng]);
  const invalidNow = useMemo(() => new Set(buildFilters(inputs, columns, lng).invalid), [inputs, columns, lng]);

  const queryKey = JSON.stringify({ connectionId, resource, search, filters, sort, includeDeleted });
  const seq = useRef(0);
  const busy = useRef(false);

  const load = useCallback(
    async (offset: number) => {
      const mine = offset === 0 ? ++seq.current : seq.current;
      busy.current = true;
      setLoading(true);
      try {
        const page = await api.contificoBrowse({
          connection_id: connectionId,
          resource,
          offset,
          limit: PAGE_SIZE,
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
        if (mine === seq.current) {
          busy.current = false;
          setLoading(false);
        }
      }
    },
    // queryKey stands for every input of the request.
    [queryKey],
  );

  useEffect(() => {
    void load(0);
  }, [load]);


  const hasMore = total !== null && rows.length < total;
  const loadMore = () => {
    if (!busy.current && hasMore) void load(rows.length);
  };
  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.target as HTMLElement;
    if (!el.classList?.contains('table-scroll')) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 600) loadMore();
  };

  const setInput = useCallback(
    (column: string, patch: FilterInput) => setInputs((cur) => ({ ...cur, [column]: { ...cur[column], ...patch } })),
    [],
  );
  const anyFilter = Object.values(inputs).some((f) => Object.values(f).some((v) => v && v.trim()));

  const headerState = useMemo<HeaderState>(
    () => ({ sort, setSort, inputs, setInput, invalid: invalidNow }),
    [sort, inputs, setInput, invalidNow],
  );

  // The column definitions change only with the resource and the language, so the filter inputs in
  // the headers keep their focus while the user types (their values come from HeaderContext).
  const tableColumns = useMemo<ColumnDef<BrowseRow>[]>(() => {
    const header = (name: string, kind: HeaderKind) => () => <HeaderCell name={name} kind={kind} />;

    const cell = (kind: ColumnInfo['kind'], v: string | null | undefined) => {
      if (v === null || v === undefined || v === '') return <span className="muted">—</span>;
      if (kind === 'decimal') return <span className="tabular num">{formatDecimalString(v, lng)}</span>;
      if (kind === 'date') return <span className="tabular">{formatDateOnly(v, lng)}</span>;
      return (
        <span className="truncate" title={v}>
          {v}
        </span>
      );
    };

    const defs: ColumnDef<BrowseRow>[] = [
      {
        id: 'id',
        header: header('id', 'id'),
        size: ID_WIDTH,
        cell: ({ row }) => (
          <span className="id-cell">
            <span className="mono truncate" title={row.original.id}>
              {row.original.id}
            </span>
            {row.original.deleted_at ? (
              <span
                className="badge badge-deleted"
                title={t('contifico.browser.deletedOn', { date: formatDateTime(row.original.deleted_at, lng) })}
                data-testid="browse-deleted"
              >
                {t('contifico.browser.deleted')}
              </span>
            ) : null}
          </span>
        ),
      },
    ];
    columns.forEach((c, i) => {
      defs.push({
        id: `c_${c.name}`,
        header: header(c.name, c.kind),
        size: COLUMN_WIDTH[c.kind],
        cell: ({ row }) => cell(c.kind, row.original.values[i]),
      });
    });
    return defs;
  }, [columns, t, lng]);

  const notSynced = storedRecords === 0 && !search && filters.length === 0 && !includeDeleted;
  const tableLabel = resourceLabel(i18n, resource);
  const emptyText = useMemo(
    () =>
      total === 0 ? (
        <p className="muted table-empty-text">{notSynced ? t('contifico.browser.emptyNotSynced') : t('contifico.browser.empty')}</p>
      ) : undefined,
    [total, notSynced, t],
  );
  // Each column needs room for its filter: wide resources scroll sideways.
  const minWidth = ID_WIDTH + columns.reduce((sum, c) => sum + COLUMN_WIDTH[c.kind], 0);

  return (
    <section className="card browser-card" data-testid="contifico-browser" data-resource={resource} aria-label={t('contifico.browser.title')}>
      <div className="browser-toolbar">
        <label className="filter">
          <span>{t('contifico.browser.resource')}</span>
          <select value={resource} onChange={(e) => onResourceChange(e.target.value)} data-testid="browse-resource">
            {resources.map((r) => (
              <option key={r.name} value={r.name}>
                {resourceLabel(i18n, r.name)}
              </option>
            ))}
          </select>
        </label>
        <label className="filter browser-search">
          <span>{t('contifico.browser.search')}</span>
          <input
            type="search"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder={t('contifico.browser.searchPlaceholder')}
            data-testid="browse-search"
          />
        </label>
        <label className="check browser-deleted">
          <input
            type="checkbox"
            checked={includeDeleted}
            onChange={(e) => setIncludeDeleted(e.target.checked)}
            data-testid="browse-show-deleted"
          />
          <span>{t('contifico.browser.showDeleted')}</span>
        </label>
        {anyFilter ? (
          <button type="button" className="link-button small" onClick={() => setInputs({})} data-testid="browse-clear-filters">
            {t('contifico.browser.clearFilters')}
          </button>
        ) : null}
        <span className="browser-total muted small tabular" aria-live="polite">
          {loading ? <span className="spinner" aria-hidden="true" /> : null}
          <span data-testid="browse-total" data-total={total ?? ''}>
            {total === null ? t('contifico.browser.loading') : t('contifico.browser.total', { n: formatNumber(total, lng) })}
          </span>
        </span>
      </div>

      {error ? (
        <div className="browser-error">
          <ErrorBox error={error} onDismiss={() => setError(null)} />
        </div>
      ) : null}
      {invalid.length > 0 ? (
        <p className="field-error browser-note">{t('contifico.browser.invalidNumber', { example: formatDecimalString('1234.50', lng) })}</p>
      ) : null}

      <HeaderContext.Provider value={headerState}>
      <div className="browse-table" onScrollCapture={onScroll} style={{ ['--browse-min-width' as string]: `${minWidth}px` }}>
        <RowsTable
          data={rows}
          columns={tableColumns}
          getRowId={rowId}
          label={tableLabel}
          rowHeight={40}
          selectedId={selected?.id ?? null}
          onRowClick={setSelected}
          rowAttributes={rowAttributes}
          empty={emptyText}
        />
      </div>
      </HeaderContext.Provider>

      <div className="browser-footer">
        <span className="muted small">{t('contifico.browser.hint')}</span>
        {total !== null && total > 0 ? (
          <span className="muted small tabular" data-testid="browse-shown">
            {t('contifico.browser.shown', { shown: formatNumber(rows.length, lng), total: formatNumber(total, lng) })}
          </span>
        ) : null}
        {hasMore ? (
          <button type="button" className="btn btn-small" onClick={loadMore} disabled={loading} data-testid="browse-load-more">
            {loading ? t('contifico.browser.loading') : t('contifico.browser.loadMore', { n: formatNumber(Math.min(PAGE_SIZE, (total ?? 0) - rows.length), lng) })}
          </button>
        ) : null}
      </div>

      {selected ? (
        <RecordPanel
          key={selected.id}
          connectionId={connectionId}
          resource={resource}
          resourceName={resourceLabel(i18n, resource)}
          id={selected.id}
          onClose={() => setSelected(null)}
          facts={
            <dl className="facts">
              <div>
                <dt>{t('contifico.record.fetched')}</dt>
                <dd>{formatDateTime(selected.fetched_at, lng)}</dd>
              </div>
              {selected.deleted_at ? (
                <div>
                  <dt>{t('contifico.record.deleted')}</dt>
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
