// The "Sync" panel of a connection, for every ERP: what to sync, since when, full refresh, Sync
// now; then live progress and the outcome of the sync job.
import type { i18n as I18n } from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { Job } from '../../bindings/Job';
import type { ResourceInfo } from '../../bindings/ResourceInfo';
import type { SyncOptions } from '../../bindings/SyncOptions';
import { StatusBadge } from '../../components/Badges';
import { ErrorBox, ErrorDetails } from '../../components/ErrorBox';
import { DateField } from '../../components/form';
import { Icon } from '../../components/Icon';
import { ProgressBar } from '../../components/ProgressBar';
import { toApiError, translateError } from '../../errors';
import { elapsedMs, formatDuration, formatNumber } from '../../format';
import { useNow } from '../../hooks/useNow';
import { hrefFor } from '../../router';
import { CancelJobButton } from '../jobs/CancelJobButton';
import { erpName, resourceLabel } from './labels';
import { isActiveJob, localDateTimeToRfc3339, parseProgressLabel } from './util';
import './sync.css';

/** An ERP's own wording of an error (e.g. Omie's `omie.errors.<code>`); the shared texts otherwise. */
export type ErrorText = (i18n: I18n, error: ApiError) => string;

/** The progress label of a sync job in the user's language ("Customers and suppliers: page 3 (600 records)"). */
export function progressText(i18n: I18n, kind: ConnectionKind, label: string | null | undefined): string | null {
  const p = parseProgressLabel(label);
  if (!p) return label ?? null;
  const resource = resourceLabel(i18n, kind, p.resource);
  if (p.page !== null) {
    return i18n.t('sync.panel.progressPage', {
      resource,
      page: formatNumber(p.page, i18n.language),
      records: formatNumber(p.records ?? 0, i18n.language),
    });
  }
  return i18n.t('sync.panel.progressOther', { resource, what: p.rest ?? '' });
}

/** The error of a finished sync job in plain words; a partial failure names the data that failed. */
export function syncErrorText(i18n: I18n, kind: ConnectionKind, job: Job, errorText?: ErrorText): string {
  if (!job.error) return '';
  const text = syncFailureText(i18n, kind, job.error, errorText);
  const name = job.connection_name;
  return name && !text.includes(name) ? `“${name}”: ${text}` : text;
}

/**
 * Why a sync failed in plain words (without naming the connection): `syncErrorText` of an error
 * alone. `partialKey` words a partial failure (`{{n}}`, `{{total}}`, `{{list}}`) where the sync
 * panel's text, which points at the summary table, does not fit.
 */
export function syncFailureText(
  i18n: I18n,
  kind: ConnectionKind,
  err: ApiError,
  errorText?: ErrorText,
  partialKey = 'sync.panel.partial',
): string {
  if (err.code === 'remote' && err.params.remote_code === 'sync_partial') {
    const m = /^(\d+) of (\d+) resources could not be synced \(([^)]*)\)/.exec(err.params.remote_message ?? err.message);
    if (m) {
      const list = m[3]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((r) => resourceLabel(i18n, kind, r))
        .join(', ');
      return i18n.t(partialKey, { n: m[1], total: m[2], list });
    }
  }
  return (errorText ?? translateError)(i18n, err);
}

function countsLine(i18n: I18n, counts: Record<string, number>): string {
  const n = (k: string) => formatNumber(counts[k] ?? 0, i18n.language);
  return i18n.t('sync.panel.counts', {
    records: n('records'),
    deleted: n('deleted'),
    quarantined: n('quarantined'),
    synced: n('resources_synced'),
    failed: n('resources_failed'),
  });
}

export function SyncPanel({
  connection,
  resources,
  job,
  onJob,
  errorText,
}: {
  connection: Connection;
  resources: ResourceInfo[];
  /** The latest sync job of this connection (live), if any. */
  job: Job | null;
  onJob: (job: Job) => void;
  errorText?: ErrorText;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const kind = connection.kind;
  const erp = erpName(i18n, kind);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [since, setSince] = useState('');
  const [fullRefresh, setFullRefresh] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
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
      onJob(await api.syncStart(connection.id, options));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setStarting(false);
    }
  };

  const duration = job ? elapsedMs(job.started_at ?? job.created_at, job.finished_at, now) : null;
  const durationText = duration === null ? '—' : formatDuration(duration, lng);
  const progress = job ? parseProgressLabel(job.progress_label) : null;

  return (
    <section className="card sync-card" aria-labelledby="sync-title" data-testid="sync-panel" data-erp={kind}>
      <div className="card-header">
        <div>
          <h2 id="sync-title">{t('sync.panel.title', { erp })}</h2>
          <p className="muted small">{t('sync.panel.intro', { erp })}</p>
        </div>
      </div>
      <div className="sync-body">
        <fieldset className="sync-resources" disabled={active}>
          <legend>
            <span className="strong">{t('sync.panel.resources')}</span>
            <span className="muted small">
              {chosen.size === 0
                ? t('sync.panel.allChosen')
                : t('sync.panel.someChosen', { n: formatNumber(chosen.size, lng), total: formatNumber(resources.length, lng) })}
            </span>
            {chosen.size > 0 ? (
              <button type="button" className="link-button small" onClick={() => setChosen(new Set())}>
                {t('sync.panel.clear')}
              </button>
            ) : null}
          </legend>
          <p className="field-hint">{t('sync.panel.resourcesHint')}</p>
          <div className="resource-grid">
            {resources.map((r) => (
              <label key={r.name} className="check" title={r.name}>
                <input
                  type="checkbox"
                  checked={chosen.has(r.name)}
                  onChange={() => toggle(r.name)}
                  data-testid={`sync-resource-${r.name}`}
                />
                <span>{resourceLabel(i18n, kind, r.name)}</span>
              </label>
            ))}
          </div>
        </fieldset>

        <div className="sync-options">
          <DateField
            id="sync-since"
            label={t('sync.panel.since')}
            withTime
            value={since}
            onChange={setSince}
            hint={t('sync.panel.sinceHint')}
            data-testid="sync-since"
            disabled={active}
          />
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
              <span className="strong">{t('sync.panel.fullRefresh')}</span>
              <span id="sync-full-hint" className="field-hint block">
                {t('sync.panel.fullRefreshHint', { erp })}
              </span>
            </span>
          </label>
          <button
            type="button"
            className="btn btn-primary btn-large"
            onClick={() => void start()}
            disabled={starting || active || sinceInvalid}
            data-testid="sync-now"
            title={active ? t('sync.panel.alreadyRunning') : undefined}
          >
            {starting ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
            {starting ? t('sync.panel.starting') : t('sync.panel.syncNow')}
          </button>
        </div>
      </div>

      {error ? (
        <div className="sync-footer">
          <ErrorBox error={error} text={errorText?.(i18n, error)} testId="sync-error" onDismiss={() => setError(null)} />
        </div>
      ) : null}

      {job && active ? (
        <div className="sync-footer sync-progress" data-testid="sync-progress" data-job-id={job.id} data-status={job.status} aria-live="polite">
          <div className="sync-progress-head">
            <StatusBadge status={job.status} />
            <span className="strong truncate">
              {job.status === 'queued'
                ? t('sync.panel.waiting')
                : (progressText(i18n, kind, job.progress_label) ?? t('sync.panel.running'))}
            </span>
            <CancelJobButton
              jobId={job.id}
              onCancelled={onJob}
              onError={setError}
              testId="sync-cancel"
              label={t('sync.panel.cancel')}
              busyLabel={t('sync.panel.cancelling')}
            />
          </div>
          <ProgressBar value={job.status === 'queued' ? null : job.progress} label={null} />
          <div className="sync-stats small muted">
            <span data-testid="sync-records">{t('sync.panel.recordsSoFar', { n: formatNumber(job.counts.records ?? 0, lng) })}</span>
            {progress?.rate != null ? (
              <span data-testid="sync-rate">{t('sync.panel.rate', { rate: formatNumber(progress.rate, lng, 0) })}</span>
            ) : null}
            <span>{t('sync.panel.elapsed', { duration: durationText })}</span>
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
                  ? t('sync.panel.succeeded', { duration: durationText })
                  : job.status === 'failed'
                    ? t('sync.panel.failed', { duration: durationText })
                    : t('sync.panel.cancelled', { duration: durationText })}
              </strong>
              <p className="alert-text small" data-testid="sync-result-counts">
                {countsLine(i18n, job.counts)}
              </p>
              {job.status === 'failed' && job.error ? (
                <>
                  <p className="alert-text" data-testid="sync-result-error" data-code={job.error.code}>
                    {syncErrorText(i18n, kind, job, errorText)}
                  </p>
                  <ErrorDetails details={job.error.details} />
                </>
              ) : null}
              <a className="link-quiet small" href={hrefFor('jobs', job.id)} data-testid="sync-job-link">
                {t('sync.panel.viewJob')}
                <Icon name="chevron" size={14} />
              </a>
            </div>
          </div>
        </div>
      ) : null}
    </section>
  );
}
