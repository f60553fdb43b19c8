// The synced data of one connection, kept live: its ERP's resources, the per-resource summary and
// the latest sync job (followed through job events). Every page that shows a sync uses it.
import { useCallback, useEffect, useRef, useState } from 'react';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { Job } from '../../bindings/Job';
import type { ResourceInfo } from '../../bindings/ResourceInfo';
import type { ResourceSummary } from '../../bindings/ResourceSummary';
import { toApiError } from '../../errors';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { SYNC_JOB_KIND } from './labels';
import { isActiveJob, pickJob } from './util';

/** While a sync runs, the summary is re-read at most this often (ms). */
const SUMMARY_REFRESH_MS = 3000;

export interface SyncState {
  /** The resources the connection's ERP syncs (null while loading). */
  resources: ResourceInfo[] | null;
  /** One row per resource (null while loading). */
  summary: ResourceSummary[] | null;
  /** The latest sync job of the connection, live. */
  job: Job | null;
  active: boolean;
  /** The clock for relative times: ticks faster while a sync runs. */
  now: number;
  /** Changes when a sync ends or on refresh: lists of runs and records read again. */
  refreshKey: number;
  error: ApiError | null;
  clearError: () => void;
  /** A newer state of the sync job (e.g. the answer to "Sync now" or "Cancel"). */
  onJob: (job: Job) => void;
  reloadSummary: () => void;
  /** Re-reads the summary and every list that follows `refreshKey`. */
  refresh: () => void;
}

/** `connection` null: nothing is loaded (no connection chosen yet). */
export function useSync(connection: Connection | null): SyncState {
  const connectionId = connection?.id ?? null;
  const kind = connection?.kind ?? null;
  const [resources, setResources] = useState<ResourceInfo[] | null>(null);
  const [summary, setSummary] = useState<ResourceSummary[] | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);
  const lastSummaryLoad = useRef(0);
  const current = useRef(connectionId);
  current.current = connectionId;
  const active = isActiveJob(job);
  const now = useNow(active ? 5000 : 30_000);

  // The resource catalogue, once per ERP.
  useEffect(() => {
    if (!kind) return;
    let stale = false;
    setResources(null);
    api.syncResources(kind).then(
      (r) => {
        if (!stale) setResources(r ?? []);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [kind]);

  const loadSummary = useCallback(async (id: string) => {
    lastSummaryLoad.current = Date.now();
    try {
      const rows = (await api.syncSummary(id)) ?? [];
      if (current.current === id) setSummary(rows);
    } catch (e) {
      if (current.current === id) setError(toApiError(e));
    }
  }, []);

  // Per connection: the summary and the latest sync job (to follow one already running).
  useEffect(() => {
    if (!connectionId || !kind) return;
    let stale = false;
    setSummary(null);
    setJob(null);
    void loadSummary(connectionId);
    api.listJobs({ kind: SYNC_JOB_KIND[kind], status: null, connection_id: connectionId, limit: 1 }).then(
      (jobs) => {
        const latest = jobs?.[0];
        if (!stale && latest) setJob((cur) => pickJob(cur, latest));
      },
      () => {},
    );
    return () => {
      stale = true;
    };
  }, [connectionId, kind, loadSummary]);

  useJobEvents(
    (event) => {
      const j = event.job;
      if (!connectionId || !kind || j.kind !== SYNC_JOB_KIND[kind] || j.connection_id !== connectionId) return;
      setJob((cur) => pickJob(cur, j));
      if (!isActiveJob(j)) {
        void loadSummary(connectionId);
        setRefreshKey((k) => k + 1);
      } else if (Date.now() - lastSummaryLoad.current > SUMMARY_REFRESH_MS) {
        void loadSummary(connectionId);
      }
    },
    () => {
      if (current.current) void loadSummary(current.current);
    },
  );

  const onJob = useCallback((j: Job) => setJob((cur) => pickJob(cur, j)), []);
  const clearError = useCallback(() => setError(null), []);
  const reloadSummary = useCallback(() => {
    if (current.current) void loadSummary(current.current);
  }, [loadSummary]);
  const refresh = useCallback(() => {
    reloadSummary();
    setRefreshKey((k) => k + 1);
  }, [reloadSummary]);

  return { resources, summary, job, active, now, refreshKey, error, clearError, onJob, reloadSummary, refresh };
}

/**
 * The resource to browse: the one named in the route when the ERP has it, else the first with
 * records stored, else the first. Null while the catalogue loads or when it is empty.
 */
export function pickBrowseResource(
  resources: ResourceInfo[] | null,
  summary: ResourceSummary[] | null,
  wanted: string | null,
): string | null {
  if (!resources || resources.length === 0) return null;
  return (
    resources.find((r) => r.name === wanted)?.name ??
    summary?.find((s) => s.records > 0 && resources.some((r) => r.name === s.resource))?.resource ??
    resources[0]!.name
  );
}

/** A list about one connection (its sync runs, its quarantine), read again when `refreshKey` changes. */
export function useConnectionList<T>(
  load: (connectionId: string) => Promise<T[]>,
  connectionId: string,
  refreshKey: number,
): { rows: T[] | null; error: ApiError | null } {
  const [rows, setRows] = useState<T[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let stale = false;
    load(connectionId).then(
      (r) => {
        if (stale) return;
        setRows(r ?? []);
        setError(null);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [load, connectionId, refreshKey]);
  return { rows, error };
}
