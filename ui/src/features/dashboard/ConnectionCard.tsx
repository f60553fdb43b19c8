// A connection's card on the dashboard: how fresh its data is, what its last sync did, its 30 days,
// the next scheduled sync, and a warning (with what to do) when a sync failed or the data is older
// than its schedule promises.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { ConnectionCard as Card } from '../../bindings/ConnectionCard';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { Job } from '../../bindings/Job';
import type { SyncOptions } from '../../bindings/SyncOptions';
import type { SyncRun } from '../../bindings/SyncRun';
import { DemoBadge, ErpBadge, StatusBadge } from '../../components/Badges';
import { ErrorBox, ErrorDetails } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { ProgressBar } from '../../components/ProgressBar';
import { toApiError } from '../../errors';
import { formatDateTime, formatDuration, formatNumber, formatRelative } from '../../format';
import { hrefFor, hrefForPath } from '../../router';
import { omieErrorText } from '../omie/util';
import { SCHEDULES_SEGMENT } from '../schedules/Tabs';
import { asJobStatus, erpName, isActiveJob, progressText, syncFailureText, type ErrorText } from '../sync';
import { ActivityChart } from './ActivityChart';
import { CHANGE_KEYS, changeCounts, isCredentialError, isStale, runDurationMs } from './model';

/** "Try again" syncs everything the usual way: every resource, from the stored cursors. */
const RETRY_OPTIONS: SyncOptions = { resources: [], since: null, full_refresh: false, page_size: null, batch_size: null };

/** An ERP's own wording of its errors, as its page shows them. */
const ERROR_TEXT: Partial<Record<ConnectionKind, ErrorText>> = { omie: omieErrorText };

function RunBadge({ run }: { run: SyncRun }) {
  const status = asJobStatus(run.status);
  return status ? <StatusBadge status={status} /> : <span className="badge">{run.status}</span>;
}

/** The last run: outcome, duration and what it changed; live progress while a sync runs. */
function LastRun({ card, liveJob, now }: { card: Card; liveJob: Job | null; now: number }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const run = card.last_run;
  const kind = card.connection.kind;

  if (liveJob && isActiveJob(liveJob)) {
    const started = liveJob.started_at ?? liveJob.created_at;
    const elapsed = Math.max(0, now - Date.parse(started));
    return (
      <section className="conn-run" data-testid="card-last-run" data-status={liveJob.status} aria-live="polite">
        <div className="conn-run-head">
          <span className="conn-label">{t('dashboard.connCard.lastRun')}</span>
        </div>
        <div className="conn-run-status">
          <StatusBadge status={liveJob.status} />
          {liveJob.status === 'running' && Number.isFinite(elapsed) ? (
            <span className="muted small">{t('dashboard.connCard.elapsed', { duration: formatDuration(elapsed, lng) })}</span>
          ) : null}
        </div>
        <ProgressBar
          compact
          value={liveJob.status === 'queued' ? null : liveJob.progress}
          label={liveJob.status === 'queued' ? t('sync.panel.waiting') : (progressText(i18n, kind, liveJob.progress_label) ?? t('sync.panel.running'))}
        />
      </section>
    );
  }

  if (!run) {
    return (
      <section className="conn-run" data-testid="card-last-run">
        <div className="conn-run-head">
          <span className="conn-label">{t('dashboard.connCard.lastRun')}</span>
        </div>
        <p className="muted small conn-run-none">{t('dashboard.connCard.noRuns')}</p>
      </section>
    );
  }

  const running = run.status === 'running';
  const duration = runDurationMs(run, now);
  const counts = changeCounts(run);
  return (
    <section className="conn-run" data-testid="card-last-run" data-status={run.status}>
      <div className="conn-run-head">
        <span className="conn-label">{t('dashboard.connCard.lastRun')}</span>
        <time className="muted small" dateTime={run.started_at} title={formatDateTime(run.started_at, lng)}>
          {formatRelative(run.started_at, lng, now)}
        </time>
      </div>
      <div className="conn-run-status">
        <RunBadge run={run} />
        {duration !== null ? (
          <span className="muted small" data-testid="card-duration">
            {running
              ? t('dashboard.connCard.elapsed', { duration: formatDuration(duration, lng) })
              : t('dashboard.connCard.took', { duration: formatDuration(duration, lng) })}
          </span>
        ) : null}
      </div>
      {running ? (
        <p className="muted small conn-run-none">{t('dashboard.connCard.runningNote')}</p>
      ) : (
        <ul className="conn-counts">
          {CHANGE_KEYS.map((k) => (
            <li key={k} className={`conn-count${counts[k] > 0 ? ` conn-count-${k}` : ' conn-count-zero'}`} data-testid={`card-count-${k}`}>
              <span className="conn-count-value">{formatNumber(counts[k], lng)}</span>
              <span className="conn-count-label">{t(`dashboard.connCard.${k}`)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ConnectionCard({
  card,
  liveJob,
  now,
  onJob,
}: {
  card: Card;
  /** The newest state of this connection's sync job seen in job events, if any. */
  liveJob: Job | null;
  now: number;
  /** A sync of this connection was started here ("Try again"). */
  onJob: (job: Job) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const c = card.connection;
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const active = isActiveJob(liveJob);
  const failed = card.last_run?.status === 'failed' && !active;
  const stale = isStale(card, now);
  const tone = failed || stale ? 'bad' : card.last_success_at ? 'good' : 'idle';
  const titleId = `conn-card-${c.id}`;

  const retry = async () => {
    setStarting(true);
    setError(null);
    try {
      onJob(await api.syncStart(c.id, RETRY_OPTIONS));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setStarting(false);
    }
  };

  return (
    <article className="card conn-card" data-testid="connection-card" data-connection-id={c.id} aria-labelledby={titleId}>
      <header className="conn-card-head">
        <div className="conn-card-title">
          <h3 id={titleId} className="truncate" title={c.name}>
            {c.name}
          </h3>
          <span className="conn-card-badges">
            <ErpBadge kind={c.kind} />
            {c.is_demo ? <DemoBadge /> : null}
          </span>
        </div>
        <p className={`conn-fresh tone-${tone}`} data-testid="card-freshness">
          <span className={`dot${tone === 'good' ? ' dot-ok' : tone === 'bad' ? ' dot-failed' : ''}`} aria-hidden="true" />
          {card.last_success_at ? (
            <time dateTime={card.last_success_at} title={formatDateTime(card.last_success_at, lng)}>
              {t('dashboard.connCard.syncedAgo', { when: formatRelative(card.last_success_at, lng, now) })}
            </time>
          ) : (
            <span>{t('dashboard.connCard.neverSynced')}</span>
          )}
        </p>
      </header>

      {failed ? (
        <div className="conn-warn" data-testid="card-warning" data-kind="failed" data-code={card.last_error?.code}>
          <Icon name="alert" size={16} className="conn-warn-icon" />
          <div className="conn-warn-body">
            <strong>{t('dashboard.connCard.failedTitle')}</strong>
            <p data-testid="card-warning-reason">
              {card.last_error
                ? syncFailureText(i18n, c.kind, card.last_error, ERROR_TEXT[c.kind], 'dashboard.connCard.partial')
                : t('dashboard.connCard.failedNoReason')}
            </p>
            {card.last_error ? <ErrorDetails details={card.last_error.details} /> : null}
            <div className="conn-warn-actions">
              <button type="button" className="btn btn-small" onClick={() => void retry()} disabled={starting} data-testid="card-retry">
                {starting ? <span className="spinner" aria-hidden="true" /> : <Icon name="refresh" size={14} />}
                {starting ? t('dashboard.connCard.starting') : t('common.retry')}
              </button>
              {isCredentialError(card.last_error) ? (
                <a className="btn btn-small" href={hrefFor('connections', c.id)} data-testid="card-fix-connection">
                  <Icon name="edit" size={14} />
                  {t('dashboard.connCard.fixConnection')}
                </a>
              ) : null}
            </div>
          </div>
        </div>
      ) : stale ? (
        <div className="conn-warn conn-warn-stale" data-testid="card-warning" data-kind="stale">
          <Icon name="clock" size={16} className="conn-warn-icon" />
          <div className="conn-warn-body">
            <p>{t('dashboard.connCard.stale', { when: formatRelative(card.last_success_at ?? card.fresh_until ?? '', lng, now) })}</p>
          </div>
        </div>
      ) : null}
      {error ? <ErrorBox error={error} text={ERROR_TEXT[c.kind]?.(i18n, error)} testId="card-retry-error" onDismiss={() => setError(null)} /> : null}

      <LastRun card={card} liveJob={liveJob} now={now} />

      <ActivityChart days={card.days} />

      <dl className="conn-facts">
        <div>
          <dt>{t('dashboard.connCard.records')}</dt>
          <dd data-testid="card-records">{formatNumber(card.records, lng)}</dd>
        </div>
        <div>
          <dt>{t('dashboard.connCard.quarantinedTotal')}</dt>
          <dd data-testid="card-quarantined" className={card.quarantined > 0 ? 'tone-warn' : undefined}>
            {formatNumber(card.quarantined, lng)}
          </dd>
        </div>
        <div className="conn-facts-wide">
          <dt>{t('dashboard.connCard.nextRun')}</dt>
          <dd data-testid="card-next-run">
            {card.next_run_at ? (
              <time dateTime={card.next_run_at}>
                {formatDateTime(card.next_run_at, lng)}{' '}
                <span className="muted">({formatRelative(card.next_run_at, lng, now)})</span>
              </time>
            ) : (
              <>
                <span className="muted">{t('dashboard.connCard.noSchedule')}</span>{' '}
                <a href={hrefForPath('jobs', SCHEDULES_SEGMENT)} data-testid="card-add-schedule">
                  {t('dashboard.connCard.addSchedule')}
                </a>
              </>
            )}
          </dd>
        </div>
      </dl>

      <footer className="conn-card-foot">
        <a href={hrefFor(c.kind)} className="link-quiet" data-testid="card-erp-link">
          {t('dashboard.connCard.openErp', { erp: erpName(i18n, c.kind) })}
          <Icon name="chevron" size={14} />
        </a>
        {card.last_run?.job_id ? (
          <a href={hrefFor('jobs', card.last_run.job_id)} className="link-quiet muted" data-testid="card-job-link">
            {t('common.viewJob')}
          </a>
        ) : null}
      </footer>
    </article>
  );
}
