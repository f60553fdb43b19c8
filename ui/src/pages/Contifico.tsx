// The Contífico page: pick the company, sync it, see what is stored, browse it, and review sync
// history and quarantine. Sub-routes: #/contifico, #/contifico/browse/<resource>,
// #/contifico/history, #/contifico/quarantine[/<resource>].
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { Connection } from '../bindings/Connection';
import type { Job } from '../bindings/Job';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import type { RewindPreview } from '../bindings/RewindPreview';
import { DemoBadge } from '../components/Badges';
import { EmptyState } from '../components/EmptyState';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { PageHeader } from '../components/PageHeader';
import { toApiError } from '../errors';
import { formatDateOnly, formatPercent } from '../format';
import { useJobEvents } from '../hooks/useJobEvents';
import { useNow } from '../hooks/useNow';
import { hrefFor, hrefForPath, navigatePath } from '../router';
import { ContificoBrowser } from './ContificoBrowser';
import { ContificoHistory } from './ContificoHistory';
import { ContificoQuarantine } from './ContificoQuarantine';
import { SummaryTable } from './ContificoSummary';
import { SyncPanel } from './ContificoSync';
import { SYNC_KIND, isActiveJob, rememberConnection, rememberedConnection, resourceLabel } from './ContificoUtil';
import './Contifico.css';

export type ContificoView = 'overview' | 'browse' | 'history' | 'quarantine';
const VIEWS: readonly ContificoView[] = ['overview', 'browse', 'history', 'quarantine'];
/** While a sync runs, the summary is re-read at most this often (ms). */
const SUMMARY_REFRESH_MS = 3000;

const time = (iso: string | null | undefined): number => (iso ? Date.parse(iso) || 0 : 0);
const RANK: Record<Job['status'], number> = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

/**
 * Which of two states of the connection's sync job to show: a newer job wins; for the same job the
 * later status wins (an event may arrive before the answer to "Sync now").
 */
export function pickJob(current: Job | null, next: Job): Job {
  if (!current) return next;
  if (current.id !== next.id) return time(next.created_at) >= time(current.created_at) ? next : current;
  return RANK[next.status] >= RANK[current.status] ? next : current;
}

export function parseView(path: readonly string[]): { view: ContificoView; arg: string | null } {
  const first = path[0] ?? '';
  const view = (VIEWS as readonly string[]).includes(first) ? (first as ContificoView) : 'overview';
  return { view, arg: view === 'overview' ? null : (path[1] ?? null) };
}

export function ContificoPage({ path = [] }: { path?: readonly string[] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { view, arg } = parseView(path);

  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [connectionId, setConnectionId] = useState<string | null>(null);
  const [resources, setResources] = useState<ResourceInfo[] | null>(null);
  const [summary, setSummary] = useState<ResourceSummary[] | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const lastSummaryLoad = useRef(0);
  const active = isActiveJob(job);
  const now = useNow(active ? 5000 : 30_000);

  // Connections and the resource catalogue, once.
  useEffect(() => {
    let stale = false;
    (async () => {
      try {
        const all = (await api.listConnections()) ?? [];
        const mine = all.filter((c) => c.kind === 'contifico');
        if (stale) return;
        setConnections(mine);
        const remembered = rememberedConnection();
        setConnectionId(mine.find((c) => c.id === remembered)?.id ?? mine[0]?.id ?? null);
        if (mine.length > 0) {
          const res = (await api.contificoResources()) ?? [];
          if (!stale) setResources(res);
        }
      } catch (e) {
        if (!stale) setError(toApiError(e));
      }
    })();
    return () => {
      stale = true;
    };
  }, []);

  const loadSummary = useCallback(async (id: string) => {
    lastSummaryLoad.current = Date.now();
    try {
      const rows = (await api.contificoSummary(id)) ?? [];
      setSummary(rows);
    } catch (e) {
      setError(toApiError(e));
    }
  }, []);

  // Per connection: the summary and the latest sync job (to follow one already running).
  useEffect(() => {
    if (!connectionId) return;
    let stale = false;
    setSummary(null);
    setJob(null);
    setNotice(null);
    void loadSummary(connectionId);
    api.listJobs({ kind: SYNC_KIND, status: null, connection_id: connectionId, limit: 1 }).then(
      (jobs) => {
        const latest = jobs?.[0];
        if (!stale && latest) setJob((cur) => pickJob(cur, latest));
      },
      () => {},
    );
    return () => {
      stale = true;
    };
  }, [connectionId, loadSummary]);

  useJobEvents((event) => {
    const j = event.job;
    if (j.kind !== SYNC_KIND || !connectionId || j.connection_id !== connectionId) return;
    setJob((cur) => pickJob(cur, j));
    if (!isActiveJob(j)) {
      void loadSummary(connectionId);
      setRefreshKey((k) => k + 1);
    } else if (Date.now() - lastSummaryLoad.current > SUMMARY_REFRESH_MS) {
      void loadSummary(connectionId);
    }
  });

  const onJob = useCallback((j: Job) => setJob((cur) => pickJob(cur, j)), []);

  const chooseConnection = (id: string) => {
    rememberConnection(id);
    setConnectionId(id);
    setRefreshKey((k) => k + 1);
  };

  const refresh = () => {
    if (!connectionId) return;
    void loadSummary(connectionId);
    setRefreshKey((k) => k + 1);
  };

  const onRewound = (p: RewindPreview) => {
    setNotice(t('contifico.rewind.done', { resource: resourceLabel(i18n, p.resource), date: formatDateOnly(p.to, lng) }));
    if (connectionId) void loadSummary(connectionId);
  };

  const connection = connections?.find((c) => c.id === connectionId) ?? null;
  const quarantinedTotal = (summary ?? []).reduce((sum, r) => sum + r.quarantined, 0);

  const header = (
    <PageHeader
      title={t('contifico.title')}
      subtitle={t('contifico.subtitle')}
      actions={
        connections && connections.length > 0 ? (
          <div className="contifico-actions">
            {connections.length > 1 ? (
              <label className="filter">
                <span>{t('contifico.connection')}</span>
                <select
                  value={connectionId ?? ''}
                  onChange={(e) => chooseConnection(e.target.value)}
                  data-testid="contifico-connection"
                >
                  {connections.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              </label>
            ) : connection ? (
              <span className="connection-chip" data-testid="contifico-connection-name">
                <Icon name="box" size={15} />
                <span className="truncate">{connection.name}</span>
                {connection.is_demo ? <DemoBadge /> : null}
              </span>
            ) : null}
            <button type="button" className="btn" onClick={refresh} data-testid="contifico-refresh">
              <Icon name="refresh" size={16} />
              {t('contifico.refresh')}
            </button>
          </div>
        ) : undefined
      }
    />
  );

  if (connections === null) {
    return (
      <section className="page page-contifico" data-testid="page-contifico">
        {header}
        {error ? (
          <ErrorBox error={error} />
        ) : (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        )}
      </section>
    );
  }

  if (connections.length === 0 || !connectionId) {
    return (
      <section className="page page-contifico" data-testid="page-contifico">
        {header}
        <div className="card" data-testid="contifico-empty">
          <EmptyState
            icon="box"
            title={t('contifico.noConnectionsTitle')}
            actions={
              <a className="btn btn-primary" href={hrefFor('connections')} data-testid="contifico-go-connections">
                <Icon name="plug" size={16} />
                {t('contifico.goConnections')}
              </a>
            }
          >
            <p>{t('contifico.noConnectionsBody')}</p>
          </EmptyState>
        </div>
      </section>
    );
  }

  const browseResource =
    resources && resources.length > 0
      ? resources.find((r) => r.name === arg)?.name ??
        summary?.find((s) => s.records > 0 && resources.some((r) => r.name === s.resource))?.resource ??
        resources[0]!.name
      : null;

  return (
    <section
      className="page page-contifico"
      data-testid="page-contifico"
      data-connection={connectionId}
      data-view={view}
    >
      {header}

      <nav className="tabs" aria-label={t('contifico.tabs.label')}>
        {VIEWS.map((v) => {
          const href = v === 'overview' ? hrefFor('contifico') : hrefForPath('contifico', v);
          return (
            <a
              key={v}
              href={href}
              className={view === v ? 'tab active' : 'tab'}
              aria-current={view === v ? 'page' : undefined}
              data-testid={`contifico-tab-${v}`}
            >
              {t(`contifico.tabs.${v}`)}
              {v === 'quarantine' && quarantinedTotal > 0 ? <span className="tab-count">{quarantinedTotal}</span> : null}
            </a>
          );
        })}
        {active && view !== 'overview' && job ? (
          <a className="badge badge-running tab-sync" href={hrefFor('contifico')} data-testid="contifico-sync-badge">
            <Icon name="refresh" size={12} className="spin" />
            {t('contifico.syncingBadge', { pct: job.progress === null ? '…' : formatPercent(job.progress, lng) })}
          </a>
        ) : null}
      </nav>

      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {notice ? (
        <div className="alert alert-success" role="status" data-testid="rewind-done">
          <Icon name="check" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">{notice}</p>
          </div>
          <button type="button" className="icon-button" onClick={() => setNotice(null)} aria-label={t('common.close')}>
            <Icon name="close" size={16} />
          </button>
        </div>
      ) : null}

      {resources === null ? (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      ) : null}

      {resources && view === 'overview' ? (
        <>
          <SyncPanel key={connectionId} connectionId={connectionId} resources={resources} job={job} onJob={onJob} />
          {summary ? (
            <SummaryTable connectionId={connectionId} rows={summary} now={now} onRewound={onRewound} />
          ) : (
            <div className="loading" role="status">
              <span className="spinner" aria-hidden="true" />
              {t('common.loading')}
            </div>
          )}
        </>
      ) : null}

      {resources && view === 'browse' && browseResource ? (
        <ContificoBrowser
          key={`${connectionId}:${browseResource}`}
          connectionId={connectionId}
          resources={resources}
          resource={browseResource}
          storedRecords={summary?.find((s) => s.resource === browseResource)?.records ?? null}
          onResourceChange={(name) => navigatePath('contifico', 'browse', name)}
        />
      ) : null}

      {resources && view === 'history' ? <ContificoHistory connectionId={connectionId} refreshKey={refreshKey} now={now} /> : null}

      {resources && view === 'quarantine' ? (
        <ContificoQuarantine
          connectionId={connectionId}
          resources={resources}
          resource={arg && resources.some((r) => r.name === arg) ? arg : null}
          refreshKey={refreshKey}
          now={now}
          onResourceChange={(name) => (name ? navigatePath('contifico', 'quarantine', name) : navigatePath('contifico', 'quarantine'))}
        />
      ) : null}
    </section>
  );
}
