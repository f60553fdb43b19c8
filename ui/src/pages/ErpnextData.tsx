// The "Synced documents" tab: per site, sync Purchase Orders, Purchase Receipts and Delivery Notes
// with live progress, see what is stored, and browse it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import * as erp from '../apiErpnext';
import type { ApiError } from '../bindings/ApiError';
import type { Connection } from '../bindings/Connection';
import type { Job } from '../bindings/Job';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import { StatusBadge } from '../components/Badges';
import { ErrorBox, ErrorDetails } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { ProgressBar } from '../components/ProgressBar';
import { toApiError } from '../errors';
import { elapsedMs, formatDuration, formatNumber } from '../format';
import { useJobEvents } from '../hooks/useJobEvents';
import { useNow } from '../hooks/useNow';
import { hrefFor } from '../router';
import { isActiveJob, parseProgressLabel } from './ContificoUtil';
import { jobErrorText } from './JobDetail';
import { ErpnextBrowser } from './ErpnextBrowser';
import { labelOr, resourceName } from './ErpnextModel';
import { When } from './ErpnextParts';

const SUMMARY_REFRESH_MS = 3000;
const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) || 0 : 0);
const RANK: Record<Job['status'], number> = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

/** A newer job wins; for the same job the later status wins. */
function pickJob(current: Job | null, next: Job): Job {
  if (!current) return next;
  if (current.id !== next.id) return time(next.created_at) >= time(current.created_at) ? next : current;
  return RANK[next.status] >= RANK[current.status] ? next : current;
}

type I18nLike = Parameters<typeof labelOr>[0];

function progressText(i18n: I18nLike, label: string | null | undefined): string | null {
  const p = parseProgressLabel(label);
  if (!p) return label ?? null;
  const resource = resourceName(i18n, p.resource);
  if (p.page !== null) return i18n.t('erpnext.data.sync.progressPage', { resource, page: formatNumber(p.page, i18n.language) });
  return i18n.t('erpnext.data.sync.progressOther', { resource, what: p.rest ?? '' });
}

function SyncCard({
  connectionId,
  resources,
  job,
  onJob,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  job: Job | null;
  onJob: (j: Job) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [full, setFull] = useState(false);
  const [starting, setStarting] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const active = isActiveJob(job);
  const now = useNow(1000, active);

  const toggle = (name: string) =>
    setChosen((cur) => {
      const next = new Set(cur);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  const start = async () => {
    setStarting(true);
    setError(null);
    try {
      onJob(
        await erp.erpnextSync(connectionId, {
          resources: resources.map((r) => r.name).filter((n) => chosen.has(n)),
          since: null,
          full_refresh: full,
          page_size: null,
          batch_size: null,
        }),
      );
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setStarting(false);
    }
  };

  const cancel = async () => {
    if (!job) return;
    setCancelling(true);
    try {
      onJob(await api.cancelJob(job.id));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setCancelling(false);
    }
  };

  const duration = job ? elapsedMs(job.started_at ?? job.created_at, job.finished_at, now) : null;
  const durationText = duration === null ? '—' : formatDuration(duration, lng);
  const n = (k: string) => formatNumber(job?.counts[k] ?? 0, lng);

  return (
    <section className="card erp-sync" aria-labelledby="erp-sync-title" data-testid="erpnext-sync">
      <div className="card-header">
        <div>
          <h2 id="erp-sync-title">{t('erpnext.data.sync.title')}</h2>
          <p className="muted small">{t('erpnext.data.sync.intro')}</p>
        </div>
      </div>
      <div className="erp-sync-body">
        <fieldset className="erp-sync-resources" disabled={active}>
          <legend className="strong">{t('erpnext.data.sync.resources')}</legend>
          <div className="erp-sync-checks">
            {resources.map((r) => (
              <label key={r.name} className="check">
                <input
                  type="checkbox"
                  checked={chosen.has(r.name)}
                  onChange={() => toggle(r.name)}
                  data-testid={`erpnext-sync-resource-${r.name}`}
                />
                <span>{resourceName(i18n, r.name)}</span>
              </label>
            ))}
          </div>
          {chosen.size === 0 ? <p className="field-hint">{t('erpnext.data.sync.allChosen')}</p> : null}
          <label className="check check-block erp-full">
            <input type="checkbox" checked={full} onChange={(e) => setFull(e.target.checked)} data-testid="erpnext-sync-full" />
            <span>
              <span className="strong">{t('erpnext.data.sync.fullRefresh')}</span>
              <span className="field-hint block">{t('erpnext.data.sync.fullRefreshHint')}</span>
            </span>
          </label>
        </fieldset>
        <div className="erp-sync-action">
          <button
            type="button"
            className="btn btn-primary btn-large"
            onClick={() => void start()}
            disabled={starting || active}
            title={active ? t('erpnext.data.sync.alreadyRunning') : undefined}
            data-testid="erpnext-sync-now"
          >
            {starting ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
            {starting ? t('erpnext.data.sync.starting') : t('erpnext.data.sync.syncNow')}
          </button>
        </div>
      </div>

      {error ? (
        <div className="erp-pad">
          <ErrorBox error={error} testId="erpnext-sync-error" onDismiss={() => setError(null)} />
        </div>
      ) : null}

      {job && active ? (
        <div className="sync-progress" data-testid="erpnext-sync-progress" data-job-id={job.id} data-status={job.status} aria-live="polite">
          <div className="sync-progress-head">
            <StatusBadge status={job.status} />
            <span className="strong truncate">
              {job.status === 'queued' ? t('erpnext.data.sync.waiting') : (progressText(i18n, job.progress_label) ?? t('erpnext.data.sync.running'))}
            </span>
            <button
              type="button"
              className="btn btn-small btn-danger-outline"
              onClick={() => void cancel()}
              disabled={cancelling}
              data-testid="erpnext-sync-cancel"
            >
              <Icon name="stop" size={14} />
              {cancelling ? t('erpnext.data.sync.cancelling') : t('erpnext.data.sync.cancel')}
            </button>
          </div>
          <ProgressBar value={job.status === 'queued' ? null : job.progress} label={null} />
          <div className="sync-stats small muted">
            <span>{t('erpnext.data.sync.recordsSoFar', { n: n('records') })}</span>
            <span>{t('erpnext.data.sync.elapsed', { duration: durationText })}</span>
          </div>
        </div>
      ) : null}

      {job && !active ? (
        <div className="erp-pad" data-testid="erpnext-sync-result" data-status={job.status}>
          <div
            className={`alert ${job.status === 'succeeded' ? 'alert-success' : job.status === 'failed' ? 'alert-error' : 'alert-neutral'}`}
            role={job.status === 'failed' ? 'alert' : 'status'}
          >
            <Icon name={job.status === 'succeeded' ? 'check' : job.status === 'failed' ? 'alert' : 'info'} size={20} className="alert-icon" />
            <div className="alert-body">
              <strong className="alert-title">{t(`erpnext.data.sync.${job.status === 'succeeded' ? 'succeeded' : job.status === 'failed' ? 'failed' : 'cancelled'}`, { duration: durationText })}</strong>
              <p className="alert-text small">
                {t('erpnext.data.sync.counts', { records: n('records'), deleted: n('deleted'), quarantined: n('quarantined') })}
              </p>
              {job.status === 'failed' && job.error ? (
                <>
                  <p className="alert-text">{jobErrorText(i18n, job)}</p>
                  <ErrorDetails details={job.error.details} />
                </>
              ) : null}
              <a className="link-quiet small" href={hrefFor('jobs', job.id)}>
                {t('erpnext.data.sync.viewJob')}
                <Icon name="chevron" size={14} />
              </a>
            </div>
          </div>
        </div>
      ) : null}
    </section>
  );
}

function SummaryCard({ rows, now, onBrowse }: { rows: ResourceSummary[]; now: number; onBrowse: (resource: string) => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  return (
    <section className="card table-card erp-summary" aria-labelledby="erp-summary-title">
      <div className="card-header">
        <h2 id="erp-summary-title">{t('erpnext.data.summary.title')}</h2>
      </div>
      <div className="table-scroll">
        <table className="table" data-testid="erpnext-summary">
          <thead>
            <tr>
              <th>{t('erpnext.data.summary.colResource')}</th>
              <th className="erp-num">{t('erpnext.data.summary.colRecords')}</th>
              <th className="erp-num">{t('erpnext.data.summary.colDeleted')}</th>
              <th className="erp-num">{t('erpnext.data.summary.colQuarantined')}</th>
              <th>{t('erpnext.data.summary.colSuccess')}</th>
              <th>{t('erpnext.data.summary.colError')}</th>
              <th>
                <span className="sr-only">{t('erpnext.data.summary.browse')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr className="table-empty">
                <td colSpan={7}>
                  <p className="muted table-empty-text">{t('erpnext.data.summary.empty')}</p>
                </td>
              </tr>
            ) : null}
            {rows.map((r) => (
              <tr key={r.resource} data-testid="erpnext-summary-row" data-resource={r.resource} data-records={r.records}>
                <td className="strong">{resourceName(i18n, r.resource)}</td>
                <td className="erp-num tabular strong">{formatNumber(r.records, lng, 0)}</td>
                <td className={r.deleted > 0 ? 'erp-num tabular' : 'erp-num tabular muted'}>{formatNumber(r.deleted, lng, 0)}</td>
                <td className={r.quarantined > 0 ? 'erp-num tabular erp-warn' : 'erp-num tabular muted'}>{formatNumber(r.quarantined, lng, 0)}</td>
                <td>{r.last_success_at ? <When at={r.last_success_at} now={now} /> : <span className="muted">{t('erpnext.data.summary.never')}</span>}</td>
                <td>
                  {r.last_error ? (
                    <span className="last-error small" title={r.last_error}>
                      {r.last_error}
                    </span>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="erp-num">
                  <button type="button" className="btn btn-small" onClick={() => onBrowse(r.resource)} data-testid="erpnext-summary-browse">
                    {t('erpnext.data.summary.browse')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ErpnextData({ connections }: { connections: Connection[] }) {
  const { t } = useTranslation();
  const [siteId, setSiteId] = useState<string>(connections[0]?.id ?? '');
  const [resources, setResources] = useState<ResourceInfo[] | null>(null);
  const [summary, setSummary] = useState<ResourceSummary[] | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [browseResource, setBrowseResource] = useState<string | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const lastSummary = useRef(0);
  const now = useNow(isActiveJob(job) ? 5000 : 30_000);
  const browserRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!connections.some((c) => c.id === siteId)) setSiteId(connections[0]?.id ?? '');
  }, [connections, siteId]);

  useEffect(() => {
    let stale = false;
    erp.erpnextResources().then(
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
  }, []);

  const loadSummary = useCallback(async (id: string) => {
    lastSummary.current = Date.now();
    try {
      setSummary((await erp.erpnextSummary(id)) ?? []);
    } catch (e) {
      setError(toApiError(e));
    }
  }, []);

  useEffect(() => {
    if (!siteId) return;
    let stale = false;
    setSummary(null);
    setJob(null);
    void loadSummary(siteId);
    api.listJobs({ kind: erp.ERPNEXT_SYNC_KIND, status: null, connection_id: siteId, limit: 1 }).then(
      (jobs) => {
        const latest = jobs?.[0];
        if (!stale && latest) setJob((cur) => pickJob(cur, latest));
      },
      () => {},
    );
    return () => {
      stale = true;
    };
  }, [siteId, loadSummary]);

  useJobEvents(
    (e) => {
      const j = e.job;
      if (j.kind !== erp.ERPNEXT_SYNC_KIND || !siteId || j.connection_id !== siteId) return;
      setJob((cur) => pickJob(cur, j));
      if (!isActiveJob(j)) {
        void loadSummary(siteId);
        setRefreshKey((k) => k + 1);
      } else if (Date.now() - lastSummary.current > SUMMARY_REFRESH_MS) {
        void loadSummary(siteId);
      }
    },
    () => {
      if (siteId) void loadSummary(siteId);
    },
  );

  const onJob = useCallback((j: Job) => setJob((cur) => pickJob(cur, j)), []);

  const browse = (resource: string) => {
    setBrowseResource(resource);
    window.setTimeout(() => browserRef.current?.scrollIntoView?.({ behavior: 'smooth', block: 'start' }), 0);
  };

  const resource = browseResource ?? resources?.[0]?.name ?? null;

  return (
    <div className="erp-data" data-testid="erpnext-data" data-site={siteId}>
      <div className="erp-data-head">
        <label className="filter">
          <span>{t('erpnext.data.site')}</span>
          <select value={siteId} onChange={(e) => setSiteId(e.target.value)} data-testid="erpnext-data-site">
            {connections.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <p className="muted small">{t('erpnext.data.intro')}</p>
      </div>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {resources && siteId ? (
        <>
          <SyncCard key={siteId} connectionId={siteId} resources={resources} job={job} onJob={onJob} />
          {summary ? (
            <SummaryCard rows={summary} now={now} onBrowse={browse} />
          ) : (
            <div className="loading" role="status">
              <span className="spinner" aria-hidden="true" />
              {t('common.loading')}
            </div>
          )}
          {resource ? (
            <div ref={browserRef}>
              <ErpnextBrowser
                key={`${siteId}:${resource}`}
                connectionId={siteId}
                resources={resources}
                resource={resource}
                storedRecords={summary?.find((s) => s.resource === resource)?.records ?? null}
                refreshKey={refreshKey}
                onResourceChange={setBrowseResource}
              />
            </div>
          ) : null}
        </>
      ) : (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      )}
    </div>
  );
}
