// Browsing the records a connection has synced (Contífico, Omie, ERPNext): a toolbar (resource,
// search, "show deleted", total), a table whose headers sort and (optionally) filter, paging on
// demand and a side panel for the chosen record. Each page keeps its own texts (`texts` is its
// i18n prefix), test ids, column widths and cell formats; the state lives in useRecordBrowser.
import type { ColumnDef, HeaderContext as TableHeaderProps } from '@tanstack/react-table';
import type { i18n as I18n } from 'i18next';
import { createContext, memo, useCallback, useContext, useEffect, useMemo, useState, type ComponentType, type ReactNode, type UIEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../bindings/ApiError';
import type { BrowsePage } from '../bindings/BrowsePage';
import type { BrowseQuery } from '../bindings/BrowseQuery';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import { formatDateOnly, formatDateTime, formatDecimalString, formatNumber } from '../format';
import { DataTable, type RowAttributes } from './DataTable';
import { ErrorBox } from './ErrorBox';
import { Icon } from './Icon';
import { nextSort, useRecordBrowser, type FilterInput, type FilterInputs, type Sort } from './useRecordBrowser';

type Kind = ColumnInfo['kind'];
type HeaderKind = Kind | 'id';

/** The data-testid of each part; `sort` and `filter` are prefixes (`<sort>-<column>`, `<filter>-<column>[-gte|-lte]`). */
export interface RecordBrowserTestIds {
  browser: string;
  resource: string;
  search: string;
  showDeleted: string;
  total: string;
  sort: string;
  filter: string;
  row: string;
  loadMore: string;
  clearFilters?: string;
  /** The "deleted" badge in the id cell. */
  deleted?: string;
  shown?: string;
}

/** The usual test ids: `<prefix>-browser`, `<prefix>-browse-search`, `<prefix>-sort-<column>`, … */
export function browserTestIds(prefix: string): RecordBrowserTestIds {
  return {
    browser: `${prefix}-browser`,
    resource: `${prefix}-browse-resource`,
    search: `${prefix}-browse-search`,
    showDeleted: `${prefix}-browse-deleted`,
    total: `${prefix}-browse-total`,
    sort: `${prefix}-sort`,
    filter: `${prefix}-filter`,
    row: `${prefix}-browse-row`,
    loadMore: `${prefix}-browse-more`,
  };
}

/**
 * How a sort button is named: `state` — aria-label "Sort by X, sorted ascending" and the column as
 * tooltip; `aria` — aria-label "Sort by X" and the column as tooltip; `title` — "Sort by X" as tooltip only.
 */
export type SortLabelStyle = 'state' | 'aria' | 'title';

export type LabelFn = (i18n: I18n, name: string) => string;

/** Preferred width in px of the id column and of each kind of column (wide resources scroll sideways). */
export type ColumnWidths = Record<HeaderKind, number>;

export interface RecordBrowserProps {
  connectionId: string;
  resources: ResourceInfo[];
  resource: string;
  onResourceChange: (name: string) => void;
  /** Lists one page of records; keep it stable (a module's function). */
  browse: (query: BrowseQuery) => Promise<BrowsePage>;
  pageSize: number;
  /** i18n prefix of the texts: title, resource, search, searchPlaceholder, showDeleted, total, empty, hint, loadMore, sortBy, … */
  texts: string;
  /** Full i18n key of "Loading…" (the total, and the load-more button when `loadMoreSaysLoading`). */
  loadingKey: string;
  testIds: RecordBrowserTestIds;
  resourceLabel: LabelFn;
  /** The header of a column, `id` included. */
  columnLabel: LabelFn;
  widths: ColumnWidths;
  /** Extra class of the card. */
  className?: string;
  /** Extra class of the table's box. */
  tableClassName?: string;
  /** Records stored for this resource per the summary: 0 shows `<texts>.emptyNotSynced` on an empty, unfiltered list. */
  storedRecords?: number | null;
  /** When it changes, the rows are read again. */
  refreshKey?: unknown;
  /** A filter under each header (ranges for decimals and dates); off: the headers only sort. */
  columnFilters?: boolean;
  /** Range filters flag a bad number while it is typed, with an example as tooltip (else after the debounce, no tooltip). */
  liveInvalid?: boolean;
  sortLabel: SortLabelStyle;
  /** A "clear filters" link in the toolbar while any filter is typed (`<texts>.clearFilters`). */
  clearFilters?: boolean;
  /** The total carries `data-total`. */
  totalAttribute?: boolean;
  /** Rows carry `data-deleted` ("true"/"false"). */
  markDeletedRows?: boolean;
  /** The deleted badge tells the date (`<texts>.deletedOn`). */
  deletedOnTitle?: boolean;
  /** "Showing n of m" in the footer (`<texts>.shown`). */
  shownCount?: boolean;
  /** The load-more button reads "Loading…" while a page loads. */
  loadMoreSaysLoading?: boolean;
  /** Scrolling to within this many px of the bottom loads more; unset: only the button does. */
  scrollLoadMargin?: number;
  /** Shows a load error. */
  errorView?: ComponentType<{ error: ApiError; onDismiss?: () => void }>;
  /** A page's own rendering of a non-empty value; undefined falls back to the usual one. */
  renderCell?: (column: ColumnInfo, value: string, i18n: I18n) => ReactNode | undefined;
  /** The side panel of the chosen record. */
  renderRecord: (row: BrowseRow, close: () => void) => ReactNode;
  /** A link to one record: it is read by its id and opened in the side panel at once. */
  openId?: string | null;
}

interface HeaderConfig {
  texts: string;
  sortTestId: string;
  /** Null: the headers only sort. */
  filterTestId: string | null;
  sortLabel: SortLabelStyle;
  invalidTip: boolean;
  columnLabel: LabelFn;
}

interface HeaderState extends HeaderConfig {
  sort: Sort | null;
  setSort: (update: (cur: Sort | null) => Sort | null) => void;
  inputs: FilterInputs;
  setInput: (column: string, patch: FilterInput) => void;
  /** `<column>-<op>` of range filters whose text is not a number. */
  invalid: ReadonlySet<string>;
}

const HeaderContext = createContext<HeaderState | null>(null);

interface HeaderMeta {
  name: string;
  kind: HeaderKind;
}

/**
 * A column header: the label (click to sort) and the column's filter below it. One component for
 * every column, so the filter inputs keep their focus while the user types (their values come from
 * HeaderContext).
 */
function HeaderCell({ column }: TableHeaderProps<BrowseRow, unknown>) {
  const { t, i18n } = useTranslation();
  const state = useContext(HeaderContext);
  if (!state) return null;
  const { name, kind } = column.columnDef.meta as HeaderMeta;
  const { sort, setSort, inputs, setInput, invalid, texts, filterTestId } = state;
  const label = state.columnLabel(i18n, name);
  const sorted = sort?.column === name ? (sort.desc ? 'desc' : 'asc') : null;
  const sortBy = t(`${texts}.sortBy`, { column: label });
  const naming =
    state.sortLabel === 'title'
      ? { title: sortBy }
      : {
          title: label,
          'aria-label':
            state.sortLabel === 'state' && sorted
              ? `${sortBy}, ${t(sorted === 'asc' ? `${texts}.sortedAsc` : `${texts}.sortedDesc`)}`
              : sortBy,
        };
  const button = (
    <button
      type="button"
      className={sorted ? 'sort-button sorted' : 'sort-button'}
      onClick={() => setSort((cur) => nextSort(cur, name))}
      data-testid={`${state.sortTestId}-${name}`}
      data-sort={sorted ?? 'none'}
      {...naming}
    >
      <span className="truncate">{label}</span>
      <Icon name="chevron" size={12} className={`sort-icon sort-${sorted ?? 'none'}`} />
    </button>
  );
  if (filterTestId === null) return button;
  return (
    <div className="th-inner">
      {button}
      {kind === 'decimal' || kind === 'date' ? (
        <div className="th-filter th-filter-range">
          {(['gte', 'lte'] as const).map((op) => {
            const bad = invalid.has(`${name}-${op}`);
            return (
              <label key={op} className="range-input">
                <span aria-hidden="true">{op === 'gte' ? t(`${texts}.from`) : t(`${texts}.to`)}</span>
                <input
                  type={kind === 'date' ? 'date' : 'text'}
                  inputMode={kind === 'decimal' ? 'decimal' : undefined}
                  value={inputs[name]?.[op] ?? ''}
                  onChange={(e) => setInput(name, { [op]: e.target.value })}
                  aria-label={t(op === 'gte' ? `${texts}.filterFrom` : `${texts}.filterTo`, { column: label })}
                  aria-invalid={bad || undefined}
                  title={
                    state.invalidTip && bad
                      ? t(`${texts}.invalidNumber`, { example: formatDecimalString('1234.50', i18n.language) })
                      : undefined
                  }
                  data-testid={`${filterTestId}-${name}-${op}`}
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
            aria-label={t(`${texts}.filterContains`, { column: label })}
            data-testid={`${filterTestId}-${name}`}
          />
        </div>
      )}
    </div>
  );
}

// The table re-renders only when its rows, columns or selection change — not on every keystroke in
// a filter (the headers follow the filters through HeaderContext).
const RowsTable = memo(DataTable) as typeof DataTable;
const rowId = (r: BrowseRow) => r.id;

/** "Last read" and, for a deleted record, when it was marked deleted: the facts above a record's JSON. */
export function RecordFacts({ row, fetchedLabel, deletedLabel }: { row: BrowseRow; fetchedLabel: string; deletedLabel?: string }) {
  const { i18n } = useTranslation();
  const lng = i18n.language;
  return (
    <dl className="facts">
      <div>
        <dt>{fetchedLabel}</dt>
        <dd>{formatDateTime(row.fetched_at, lng)}</dd>
      </div>
      {deletedLabel && row.deleted_at ? (
        <div>
          <dt>{deletedLabel}</dt>
          <dd className="deleted-text">{formatDateTime(row.deleted_at, lng)}</dd>
        </div>
      ) : null}
    </dl>
  );
}

export function RecordBrowser({
  connectionId,
  resources,
  resource,
  onResourceChange,
  browse,
  pageSize,
  texts,
  loadingKey,
  testIds,
  resourceLabel,
  columnLabel,
  widths,
  className,
  tableClassName,
  storedRecords,
  refreshKey,
  columnFilters = false,
  liveInvalid = false,
  sortLabel,
  clearFilters = false,
  totalAttribute = false,
  markDeletedRows = false,
  deletedOnTitle = false,
  shownCount = false,
  loadMoreSaysLoading = false,
  scrollLoadMargin,
  errorView: ErrorView = ErrorBox,
  renderCell,
  renderRecord,
  openId,
}: RecordBrowserProps) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const info = resources.find((r) => r.name === resource);
  const columns = useMemo(() => info?.columns ?? [], [info]);
  const b = useRecordBrowser({ browse, connectionId, resource, columns, pageSize, locale: lng, refreshKey });
  const { rows, total, loading, search, filters, includeDeleted, selected, setSelected } = b;

  // A link to one record: read it by its id (deleted ones too) and open it beside the list.
  const [missing, setMissing] = useState<string | null>(null);
  useEffect(() => {
    if (!openId) return;
    let stale = false;
    setMissing(null);
    const query: BrowseQuery = {
      connection_id: connectionId,
      resource,
      offset: 0,
      limit: 1,
      sort: null,
      desc: false,
      filters: [{ column: 'id', op: 'eq', value: openId }],
      search: null,
      include_deleted: true,
    };
    browse(query).then(
      (page) => {
        if (stale) return;
        const row = page?.rows?.[0];
        if (row) setSelected(row);
        else setMissing(openId);
      },
      () => {
        if (!stale) setMissing(openId);
      },
    );
    return () => {
      stale = true;
    };
  }, [openId, connectionId, resource, browse, setSelected]);

  const onScroll =
    scrollLoadMargin === undefined
      ? undefined
      : (e: UIEvent<HTMLDivElement>) => {
          const el = e.target as HTMLElement;
          if (!el.classList?.contains('table-scroll')) return;
          if (el.scrollHeight - el.scrollTop - el.clientHeight < scrollLoadMargin) b.loadMore();
        };

  const invalidSet = useMemo(() => (liveInvalid ? b.invalidNow : new Set(b.invalid)), [liveInvalid, b.invalidNow, b.invalid]);
  const filterTestId = columnFilters ? testIds.filter : null;
  const headerState = useMemo<HeaderState>(
    () => ({
      sort: b.sort,
      setSort: b.setSort,
      inputs: b.inputs,
      setInput: b.setInput,
      invalid: invalidSet,
      texts,
      sortTestId: testIds.sort,
      filterTestId,
      sortLabel,
      invalidTip: liveInvalid,
      columnLabel,
    }),
    [b.sort, b.setSort, b.inputs, b.setInput, invalidSet, texts, testIds.sort, filterTestId, sortLabel, liveInvalid, columnLabel],
  );

  const deletedTestId = testIds.deleted;
  const tableColumns = useMemo<ColumnDef<BrowseRow>[]>(() => {
    const cell = (c: ColumnInfo, v: string | null | undefined) => {
      if (v === null || v === undefined || v === '') return <span className="muted">—</span>;
      const own = renderCell?.(c, v, i18n);
      if (own !== undefined) return own;
      if (c.kind === 'decimal') return <span className="tabular num">{formatDecimalString(v, lng)}</span>;
      if (c.kind === 'date') return <span className="tabular">{formatDateOnly(v, lng)}</span>;
      return (
        <span className="truncate" title={v}>
          {v}
        </span>
      );
    };
    const meta = (name: string, kind: HeaderKind): HeaderMeta => ({ name, kind });
    return [
      {
        id: 'id',
        header: HeaderCell,
        meta: meta('id', 'id'),
        size: widths.id,
        cell: ({ row }) => (
          <span className="id-cell">
            <span className="mono truncate" title={row.original.id}>
              {row.original.id}
            </span>
            {row.original.deleted_at ? (
              <span
                className="badge badge-deleted"
                title={deletedOnTitle ? t(`${texts}.deletedOn`, { date: formatDateTime(row.original.deleted_at, lng) }) : undefined}
                data-testid={deletedTestId}
              >
                {t(`${texts}.deleted`)}
              </span>
            ) : null}
          </span>
        ),
      },
      ...columns.map<ColumnDef<BrowseRow>>((c, i) => ({
        id: `c_${c.name}`,
        header: HeaderCell,
        meta: meta(c.name, c.kind),
        size: widths[c.kind],
        cell: ({ row }) => cell(c, row.original.values[i]),
      })),
    ];
  }, [columns, t, i18n, lng, renderCell, widths, texts, deletedOnTitle, deletedTestId]);

  const rowTestId = testIds.row;
  const rowAttributes = useCallback(
    (r: BrowseRow): RowAttributes =>
      markDeletedRows
        ? { 'data-testid': rowTestId, 'data-id': r.id, 'data-deleted': r.deleted_at ? 'true' : 'false' }
        : { 'data-testid': rowTestId, 'data-id': r.id },
    [rowTestId, markDeletedRows],
  );

  const notSynced = storedRecords === 0 && !search && filters.length === 0 && !includeDeleted;
  const emptyText = useMemo(
    () =>
      total === 0 ? (
        <p className="muted table-empty-text">{notSynced ? t(`${texts}.emptyNotSynced`) : t(`${texts}.empty`)}</p>
      ) : undefined,
    [total, notSynced, t, texts],
  );
  // Each column needs room for its filter: wide resources scroll sideways.
  const minWidth = widths.id + columns.reduce((sum, c) => sum + widths[c.kind], 0);

  return (
    <section
      className={className ? `card browser-card ${className}` : 'card browser-card'}
      data-testid={testIds.browser}
      data-resource={resource}
      aria-label={t(`${texts}.title`)}
    >
      <div className="browser-toolbar">
        <label className="filter">
          <span>{t(`${texts}.resource`)}</span>
          <select value={resource} onChange={(e) => onResourceChange(e.target.value)} data-testid={testIds.resource}>
            {resources.map((r) => (
              <option key={r.name} value={r.name}>
                {resourceLabel(i18n, r.name)}
              </option>
            ))}
          </select>
        </label>
        <label className="filter browser-search">
          <span>{t(`${texts}.search`)}</span>
          <input
            type="search"
            value={b.searchText}
            onChange={(e) => b.setSearchText(e.target.value)}
            placeholder={t(`${texts}.searchPlaceholder`)}
            data-testid={testIds.search}
          />
        </label>
        <label className="check browser-deleted">
          <input
            type="checkbox"
            checked={includeDeleted}
            onChange={(e) => b.setIncludeDeleted(e.target.checked)}
            data-testid={testIds.showDeleted}
          />
          <span>{t(`${texts}.showDeleted`)}</span>
        </label>
        {clearFilters && b.anyFilter ? (
          <button type="button" className="link-button small" onClick={b.clearFilters} data-testid={testIds.clearFilters}>
            {t(`${texts}.clearFilters`)}
          </button>
        ) : null}
        <span className="browser-total muted small tabular" aria-live="polite">
          {loading ? <span className="spinner" aria-hidden="true" /> : null}
          <span data-testid={testIds.total} data-total={totalAttribute ? (total ?? '') : undefined}>
            {total === null ? t(loadingKey) : t(`${texts}.total`, { n: formatNumber(total, lng) })}
          </span>
        </span>
      </div>

      {b.error ? (
        <div className="browser-error">
          <ErrorView error={b.error} onDismiss={() => b.setError(null)} />
        </div>
      ) : null}
      {missing ? (
        <p className="alert alert-warning browser-note" role="status" data-testid="record-not-found">
          {t('common.recordNotFound', { id: missing })}
        </p>
      ) : null}
      {b.invalid.length > 0 ? (
        <p className="field-error browser-note">{t(`${texts}.invalidNumber`, { example: formatDecimalString('1234.50', lng) })}</p>
      ) : null}

      <HeaderContext.Provider value={headerState}>
        <div
          className={tableClassName ? `browse-table ${tableClassName}` : 'browse-table'}
          onScrollCapture={onScroll}
          style={{ ['--browse-min-width' as string]: `${minWidth}px` }}
        >
          <RowsTable
            data={rows}
            columns={tableColumns}
            getRowId={rowId}
            label={resourceLabel(i18n, resource)}
            rowHeight={40}
            selectedId={selected?.id ?? null}
            onRowClick={setSelected}
            rowAttributes={rowAttributes}
            empty={emptyText}
          />
        </div>
      </HeaderContext.Provider>

      <div className="browser-footer">
        <span className="muted small">{t(`${texts}.hint`)}</span>
        {shownCount && total !== null && total > 0 ? (
          <span className="muted small tabular" data-testid={testIds.shown}>
            {t(`${texts}.shown`, { shown: formatNumber(rows.length, lng), total: formatNumber(total, lng) })}
          </span>
        ) : null}
        {b.hasMore ? (
          <button type="button" className="btn btn-small" onClick={b.loadMore} disabled={loading} data-testid={testIds.loadMore}>
            {loading && loadMoreSaysLoading
              ? t(loadingKey)
              : t(`${texts}.loadMore`, { n: formatNumber(Math.min(pageSize, (total ?? 0) - rows.length), lng) })}
          </button>
        ) : null}
      </div>

      {selected ? renderRecord(selected, () => setSelected(null)) : null}
    </section>
  );
}
