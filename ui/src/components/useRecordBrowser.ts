// The state behind a record browser (Contífico, Omie, ERPNext): server-side paging (a page at a
// time, more on demand), sorting by one column, typed column filters, full-text search and
// "show deleted"; and the stored JSON of one record for its side panel.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import type { ApiError } from '../bindings/ApiError';
import type { BrowsePage } from '../bindings/BrowsePage';
import type { BrowseQuery } from '../bindings/BrowseQuery';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnFilter } from '../bindings/ColumnFilter';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import { toApiError } from '../errors';
import { parseDecimalInput } from '../format';

/** What the user typed in a column's filter. */
export interface FilterInput {
  contains?: string;
  gte?: string;
  lte?: string;
}

export type FilterInputs = Record<string, FilterInput>;

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

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(id);
  }, [value, ms]);
  return v;
}

export interface RecordBrowserSource {
  /** Lists one page of records (`contifico_browse`, `omie_browse`, `erpnext_browse`); keep it stable. */
  browse: (query: BrowseQuery) => Promise<BrowsePage>;
  connectionId: string;
  resource: string;
  columns: readonly ColumnInfo[];
  /** Rows asked for per request. */
  pageSize: number;
  /** The locale typed decimals are read in. */
  locale: string;
  /** When it changes, the first page is read again (e.g. a sync ended). */
  refreshKey?: unknown;
}

export function useRecordBrowser({ browse, connectionId, resource, columns, pageSize, locale, refreshKey }: RecordBrowserSource) {
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
  const { filters, invalid } = useMemo(
    () => buildFilters(debouncedInputs, columns, locale),
    [debouncedInputs, columns, locale],
  );
  /** The bad range filters as typed, before the debounce. */
  const invalidNow = useMemo(() => new Set(buildFilters(inputs, columns, locale).invalid), [inputs, columns, locale]);

  const queryKey = JSON.stringify({ connectionId, resource, search, filters, sort, includeDeleted });
  const seq = useRef(0);
  const busy = useRef(false);

  const load = useCallback(
    async (offset: number) => {
      const mine = offset === 0 ? ++seq.current : seq.current;
      busy.current = true;
      setLoading(true);
      try {
        const page = await browse({
          connection_id: connectionId,
          resource,
          offset,
          limit: pageSize,
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
  }, [load, refreshKey]);

  const hasMore = total !== null && rows.length < total;
  const loadMore = () => {
    if (!busy.current && hasMore) void load(rows.length);
  };

  const setInput = useCallback(
    (column: string, patch: FilterInput) => setInputs((cur) => ({ ...cur, [column]: { ...cur[column], ...patch } })),
    [],
  );
  const clearFilters = useCallback(() => setInputs({}), []);
  const anyFilter = Object.values(inputs).some((f) => Object.values(f).some((v) => v && v.trim()));

  return {
    searchText,
    setSearchText,
    inputs,
    setInput,
    clearFilters,
    anyFilter,
    sort,
    setSort,
    includeDeleted,
    setIncludeDeleted,
    search,
    filters,
    invalid,
    invalidNow,
    rows,
    total,
    loading,
    error,
    setError,
    selected,
    setSelected,
    hasMore,
    loadMore,
  };
}

export type RecordBrowserState = ReturnType<typeof useRecordBrowser>;

/**
 * The stored JSON of one record (`contifico_record`, `omie_record`, `erpnext_record`), read again
 * when the record, or `reloadToken`, changes.
 */
export function useRecordJson(
  fetchRecord: (connectionId: string, resource: string, id: string) => Promise<string>,
  connectionId: string,
  resource: string,
  id: string,
  reloadToken?: unknown,
): { raw: string | null; error: ApiError | null } {
  const [raw, setRaw] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let stale = false;
    setRaw(null);
    setError(null);
    fetchRecord(connectionId, resource, id).then(
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
  }, [fetchRecord, connectionId, resource, id, reloadToken]);
  return { raw, error };
}
