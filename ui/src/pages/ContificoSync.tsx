// The "Sync" panel: what to sync, since when, full refresh, Sync now; then live progress and the
// outcome of the sync job.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { Job } from '../bindings/Job';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { SyncOptions } from '../bindings/SyncOptions';
import { StatusBadge } from '../components/Badges';
import { ErrorBox, ErrorDetails } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { ProgressBar } from '../components/ProgressBar';
import { toApiError } from '../errors';
import { elapsedMs, formatDuration, formatNumber } from '../format';
import { useNow } from '../hooks/useNow';
import { hrefFor } from '../router';
import { jobErrorText } from './JobDetail';
import { isActiveJob, localDateTimeToRfc3339, parseProgressLabel, resourceLabel } from './ContificoUtil';

type I18nLike = Parameters<typeof resourceLabel>[0];

/** The progress label of a sync job in the user's language ("Customers and suppliers: page 3"). */
export function progressText(i18n: I18nLike, label: string | null | undefined): string | null {
  const p = parseProgressLabel(label);
  if (!p) return label ?? null;
  const resource = resourceLabel(i18n, p.resource);
  if (p.page !== null) return i18n.t('contifico.sync.progressPage', { resource, page: formatNumber(p.page, i18n.language) });
  return i18n.t('contifico.sync.progressOther', { resource, what: p.rest ?? '' });
}

/** The error of a finished sync job in plain words; a partial failure names the data that failed. */
export function syncErrorText(i18n: I18nLike, job: Job): string {
  const err = job.error;
  if (!err) return '';
  if (err.code === 'remote' && err.params.remote_code === 'sync_partial') {
    const m = /^(\d+) of (\d+) resources could not be synced \(([^)]*)\)/.exec(err.params.remote_message ?? err.message);
    if (m) {
      const list = m[3]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((r) => resourceLabel(i18n, r))
        .join(', ');
      return i18n.t('contifico.sync.partial', { n: m[1], total: m[2], list });
    }
  }
  return jobErrorText(i18n, job);
}

function countsLine(i18n: I18nLike, counts: Record<string, number>): string {
  const n = (k: string) => formatNumber(counts[k] ?? 0, i18n.language);
  return i18n.t('contifico.sync.counts', {
    records: n('records'),
    deleted: n('deleted'),
    quarantined: n('quarantined'),
    synced: n('resources_synced'),
    failed: n('resources_failed'),
  });
}

export function SyncPanel({
  connectionId,
  resources,
  job,
  onJob,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  /** The latest sync job of this connection (live), if any. */
  job: Job | null;
  onJob: (job: Job) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [since, setSince] = useState('');
  const [fullRefresh, setFullRefresh] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const active = isActiveJob(job);
  const now = useNow(1000, active);
  const sinceInvalid = since.trim() !== '' && localDateTimeToRfc3339(since) === null;

  const toggle = (name: string) =>
    setChosen((cur) => {
      const next = new Set(cur);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  const start = async () => {
    if (sinceInvalid) return;
    setStarting(true);
    setError(null);
    const options: SyncOptions = {
      // In the order the resources are listed (the core syncs them in its own order anyway).
      resources: resources.map((r) => r.name).filter((n) => chosen.has(n)),
      since: localDateTimeToRfc3339(since),
      full_refresh: fullRefresh,
      page_size: null,
      batch_size: null,
    };
    try {
      onJob(await api.contificoSync(connectionId, options));
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
  const progress = job ? parseProgressLabel(job.progress_label) : null;

  return (
    <section className="card sync-card" aria-labelledby="sync-title" data-testid="sync-panel">
      <div className="card-header">
        <div>
          <h2 id="sync-title">{t('contifico.sync.title')}</h2>
          <p className="muted small">{t('contifico.sync.intro')}</p>
        </div>
      </div>
      <div className="sync-body">
        <fieldset className="sync-resources" disabled={active}>
          <legend>
            <span className="strong">{t('contifico.sync.resources')}</span>
            <span className="muted small">
              {chosen.size === 0
                ? t('contifico.sync.allChosen')
                : t('contifico.sync.someChosen', { n: formatNumber(chosen.size, lng), total: formatNumber(resources.length, lng) })}
            </span>
            {chosen.size > 0 ? (
              <button type="button" className="link-button small" onClick={() => setChosen(new Set())}>
                {t('contifico.sync.clear')}
              </button>
            ) : null}
          </legend>
          <p className="field-hint">{t('contifico.sync.resourcesHint')}</p>
          <div className="resource-grid">
            {resources.map((r) => (
              <label key={r.name} className="check" title={r.name}>
                <input
                  type="checkbox"
                  checked={chosen.has(r.name)}
                  onChange={() => toggle(r.name)}
                  data-testid={`sync-resource-${r.name}`}
                />
                <span>{resourceLabel(i18n, r.name)}</span>
              </label>
            ))}
          </div>
        </fieldset>

        <div className="sync-options">
          <div className="field">
            <label htmlFor="sync-since">{t('contifico.sync.since')}</label>
            <input
              id="sync-since"
              type="datetime-local"
              value={since}
              onChange={(e) => setSince(e.target.value)}
              data-testid="sync-since"
              aria-invalid={sinceInvalid || undefined}
              aria-describedby="sync-since-hint"
              disabled={active}
            />
            <span id="sync-since-hint" className={sinceInvalid ? 'field-error' : 'field-hint'}>
              {sinceInvalid ? t('contifico.sync.sinceInvalid') : t('contifico.sync.sinceHint')}
            </span>
          </div>
          <label className="check check-block">
            <input
              type="checkbox"
              checked={fullRefresh}
              onChange={(e) => setFullRefresh(e.target.checked)}
              data-testid="sync-full-refresh"
              aria-describedby="sync-full-hint"
              disabled={active}
            />
            <span>
              <span className="strong">{t('contifico.sync.fullRefresh')}</span>
              <span id="sync-full-hint" className="field-hint block">
                {t('contifico.sync.fullRefreshHint')}
              </span>
            </span>
          </label>
          <button
            type="button"
            className="btn btn-primary btn-large"
            onClick={() => void start()}
            disabled={starting || active || sinceInvalid}
            data-testid="sync-now"
            title={active ? t('contifico.sync.alreadyRunning') : undefined}
          >
            {starting ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
            {starting ? t('contifico.sync.starting') : t('contifico.sync.syncNow')}
          </button>
        </div>
      </div>

      {error ? (
        <div className="sync-footer">
          <ErrorBox error={error} testId="sync-error" onDismiss={() => setError(null)} />
        </div>
      ) : null}

      {job && active ? (
        <div className="sync-footer sync-progress" data-testid="sync-progress" data-job-id={job.id} data-status={job.status} aria-live="polite">
          <div className="sync-progress-head">
            <StatusBadge status={job.status} />
            <span className="strong truncate">
              {job.status === 'queued' ? t('contifico.sync.waiting') : progressText(i18n, job.progress_label) ?? t('contifico.sync.running')}
            </span>
            <button
              type="button"
              className="btn btn-small btn-danger-outline"
              onClick={() => void cancel()}
              disabled={cancelling}
              data-testid="sync-cancel"
            >
              <Icon name="stop" size={14} />
              {cancelling ? t('contifico.sync.cancelling') : t('contifico.sync.cancel')}
            </button>
          </div>
          <ProgressBar value={job.status === 'queued' ? null : job.progress} label={null} />
          <div className="sync-stats small muted">
            <span data-testid="sync-records">{t('contifico.sync.recordsSoFar', { n: formatNumber(job.counts.records ?? 0, lng) })}</span>
            {progress?.rate != null ? (
              <span data-testid="sync-rate">{t('contifico.sync.rate', { rate: formatNumber(progress.rate, lng, 0) })}</span>
            ) : null}
            <span>{t('contifico.sync.elapsed', { duration: durationText })}</span>
          </div>
        </div>
      ) : null}

      {job && !active ? (
        <div className="sync-footer" data-testid="sync-result" data-job-id={job.id} data-status={job.status}>
          <div
            className={`alert ${job.status === 'succeeded' ? 'alert-success' : job.status === 'failed' ? 'alert-error' : 'alert-neutral'}`}
            role={job.status === 'failed' ? 'alert' : 'status'}
          >
            <Icon name={job.status === 'succeeded' ? 'check' : job.status === 'failed' ? 'alert' : 'info'} size={20} className="alert-icon" />
            <div className="alert-body">
              <strong className="alert-title">
                {job.status === 'succeeded'
                  ? t('contifico.sync.succeeded', { duration: durationText })
                  : job.status === 'failed'
                    ? t('contifico.sync.failed', { duration: durationText })
                    : t('contifico.sync.cancelled', { duration: durationText })}
              </strong>
              <p className="alert-text small" data-testid="sync-result-counts">
                {countsLine(i18n, job.counts)}
              </p>
              {job.status === 'failed' && job.error ? (
                <>
                  <p className="alert-text" data-testid="sync-result-error" data-code={job.error.code}>
                    {syncErrorText(i18n, job)}
                  </p>
                  <ErrorDetails details={job.error.details} />
                </>
              ) : null}
              <a className="link-quiet small" href={hrefFor('jobs', job.id)} data-testid="sync-job-link">
                {t('contifico.sync.viewJob')}
                <Icon name="chevron" size={14} />
              </a>
            </div>
          </div>
        </div>
      ) : null}
    </section>
  );
}
