// The inbox's data: pages of divergences asked of the core as the list scrolls (never all 100 000 at
// once), with the total, the amount at stake and the open count per rule, plus how many are approved
// (for "Apply approved"). Answers to an older filter are dropped.
import { useCallback, useEffect, useRef, useState } from 'react';

import type { ApiError } from '../../bindings/ApiError';
import type { Divergence } from '../../bindings/Divergence';
import type { DivergenceFilter } from '../../bindings/DivergenceFilter';
import { toApiError } from '../../errors';
import { divergences } from './api';
import { filterOf, PAGE_SIZE } from './model';

export interface Inbox {
  rows: Divergence[] | null;
  total: number;
  /** Amounts at stake of everything the filters match, per currency. */
  amounts: { [currency in string]?: string };
  openByRule: Record<string, number>;
  /** Approved divergences over everything (not only this filter): what "Apply approved" would apply. */
  approved: number | null;
  loading: boolean;
  error: ApiError | null;
  clearError: () => void;
  reload: () => Promise<void>;
  loadMore: () => void;
}

export function useInbox(filter: DivergenceFilter, refreshKey: number): Inbox {
  const [rows, setRows] = useState<Divergence[] | null>(null);
  const [total, setTotal] = useState(0);
  const [amounts, setAmounts] = useState<{ [currency in string]?: string }>({});
  const [openByRule, setOpenByRule] = useState<Record<string, number>>({});
  const [approved, setApproved] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const seq = useRef(0);
  const busy = useRef(false);
  const state = useRef({ count: 0, total: 0 });

  const reload = useCallback(async () => {
    const mine = ++seq.current;
    busy.current = true;
    setLoading(true);
    try {
      const [page, appr] = await Promise.all([
        divergences({ ...filter, limit: PAGE_SIZE, offset: 0 }),
        divergences(filterOf({ statuses: ['approved'], limit: 0, offset: 0 })).then(
          (p) => p?.total ?? 0,
          () => null,
        ),
      ]);
      if (mine !== seq.current) return;
      const items = page?.items ?? [];
      setRows(items);
      setTotal(page?.total ?? items.length);
      setAmounts(page?.amounts ?? {});
      setOpenByRule(Object.fromEntries(Object.entries(page?.open_by_rule ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number')));
      setApproved(appr);
      state.current = { count: items.length, total: page?.total ?? items.length };
      setError(null);
    } catch (e) {
      if (mine !== seq.current) return;
      setError(toApiError(e));
      setRows((r) => r ?? []);
    } finally {
      if (mine === seq.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, [filter]);

  useEffect(() => {
    void reload();
  }, [reload, refreshKey]);

  const loadMore = useCallback(() => {
    const { count, total: all } = state.current;
    if (busy.current || count >= all) return;
    const mine = seq.current;
    busy.current = true;
    setLoading(true);
    divergences({ ...filter, limit: PAGE_SIZE, offset: count })
      .then(
        (page) => {
          if (mine !== seq.current) return;
          const items = page?.items ?? [];
          setRows((r) => {
            const have = new Set((r ?? []).map((x) => x.id));
            const next = [...(r ?? []), ...items.filter((x) => !have.has(x.id))];
            state.current = { count: next.length, total: items.length === 0 ? next.length : (page?.total ?? all) };
            return next;
          });
          setTotal(page?.total ?? all);
        },
        (e) => {
          if (mine === seq.current) setError(toApiError(e));
        },
      )
      .finally(() => {
        if (mine === seq.current) {
          busy.current = false;
          setLoading(false);
        }
      });
  }, [filter]);

  return {
    rows,
    total,
    amounts,
    openByRule,
    approved,
    loading,
    error,
    clearError: () => setError(null),
    reload,
    loadMore,
  };
}
