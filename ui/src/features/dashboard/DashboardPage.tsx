import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import { useApp } from '../../AppContext';
import type { ApiError } from '../../bindings/ApiError';
import type { DashboardSummary } from '../../bindings/DashboardSummary';
import type { Job } from '../../bindings/Job';
import { StatusBadge } from '../../components/Badges';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon, type IconName } from '../../components/Icon';
import { KeychainBanner } from '../../components/KeychainBanner';
import { Loading } from '../../components/Loading';
import { Notice } from '../../components/Notice';
import { PageHeader } from '../../components/PageHeader';
import { jobKindLabel, toApiError } from '../../errors';
import { formatDateTime, formatNumber, formatRelative } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { hrefFor } from '../../router';
import { OpenDivergencesCard } from '../divergences/DashboardCard';
import { useSyncAllNow } from '../schedules/SyncAll';
import { isActiveJob, pickJob } from '../sync';
import { ConnectionCard } from './ConnectionCard';
import { isSyncJob } from './model';

const LAST_JOBS = 8;

function StatCard({
  icon,
  label,
  value,
  hint,
  tone = 'neutral',
  href,
  testId,
}: {
  icon: IconName;
  label: string;
  value: string;
  hint?: string;
  tone?: 'neutral' | 'good' | 'bad' | 'busy';
  href?: string;
  testId: string;
}) {
  const body = (
    <>
      <div className="stat-top">
        <span className={`stat-icon tone-${tone}`}>
          <Icon name={icon} size={18} />
        </span>
        <span className="stat-label">{label}</span>
      </div>
      <div className="stat-value">{value}</div>
      {hint ? <div className={`stat-hint tone-${tone}`}>{hint}</div> : null}
    </>
  );
  return href ? (
    <a className="card stat-card" href={href} data-testid={testId}>
      {body}
    </a>
  ) : (
    <div className="card stat-card" data-testid={testId}>
      {body}
    </div>
  );
}

export function DashboardPage() {
  const { t, i18n } = useTranslation();
  const { info, refreshInfo } = useApp();
  const [summary, setSummary] = useState<DashboardSummary | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [demoBusy, setDemoBusy] = useState(false);
  const [demoError, setDemoError] = useState<ApiError | null>(null);
  const [demoReady, setDemoReady] = useState(false);
  // The newest state of each connection's sync job seen in job events (keyed by connection id).
  const [liveSyncs, setLiveSyncs] = useState<Readonly<Record<string, Job>>>({});
  const refreshTimer = useRef<number | undefined>(undefined);
  const syncing =
    Object.values(liveSyncs).some(isActiveJob) ||
    (summary?.cards.some((c) => c.last_run?.status === 'running') ?? false);
  const now = useNow(syncing ? 5000 : 30_000);
  const lng = i18n.language;

  const load = useCallback(async () => {
    try {
      setSummary(await api.dashboard());
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    }
  }, []);

  useEffect(() => {
    void load();
    return () => window.clearTimeout(refreshTimer.current);
  }, [load]);

  const syncAll = useSyncAllNow(summary?.connections ?? 0, () => void load());

  const onSyncJob = useCallback((job: Job) => {
    const id = job.connection_id;
    if (id) setLiveSyncs((cur) => ({ ...cur, [id]: pickJob(cur[id] ?? null, job) }));
  }, []);

  // Live: show the new state of a job at once, and refresh the counts shortly after (batched).
  useJobEvents((event) => {
    if (isSyncJob(event.job)) onSyncJob(event.job);
    setSummary((s) => {
      if (!s) return s;
      const others = s.last_jobs.filter((j) => j.id !== event.job.id);
      const known = others.length !== s.last_jobs.length;
      const last_jobs = known
        ? s.last_jobs.map((j) => (j.id === event.job.id ? event.job : j))
        : [event.job, ...s.last_jobs].slice(0, LAST_JOBS);
      return { ...s, last_jobs };
    });
    if (refreshTimer.current === undefined) {
      refreshTimer.current = window.setTimeout(() => {
        refreshTimer.current = undefined;
        void load();
      }, 800);
    }
  });

  const startDemo = async () => {
    setDemoBusy(true);
    setDemoError(null);
    try {
      await api.startDemo();
      setDemoReady(true);
      await Promise.all([load(), refreshInfo()]);
    } catch (e) {
      setDemoError(toApiError(e));
    } finally {
      setDemoBusy(false);
    }
  };

  const keychainBanner = info && !info.keychain_ok ? <KeychainBanner detail={info.keychain_error} /> : null;

  if (!summary) {
    return (
      <section className="page" data-testid="page-dashboard">
        <PageHeader title={t('dashboard.title')} subtitle={t('dashboard.subtitle')} />
        {keychainBanner}
        {error ? <ErrorBox error={error} /> : <Loading />}
        {error ? (
          <button type="button" className="btn" onClick={() => void load()}>
            <Icon name="refresh" size={16} />
            {t('common.retry')}
          </button>
        ) : null}
      </section>
    );
  }

  if (summary.connections === 0) {
    return (
      <section className="page" data-testid="page-dashboard">
        <PageHeader title={t('dashboard.title')} />
        {keychainBanner}
        <div className="welcome card">
          <EmptyState
            icon="sparkle"
            title={t('dashboard.welcomeTitle')}
            actions={
              <>
                {/* The demo's simulators run on this computer: never on a team database. */}
                {info?.team_database ? null : (
                  <button
                    type="button"
                    className="btn btn-primary btn-large"
                    data-testid="start-demo"
                    onClick={() => void startDemo()}
                    disabled={demoBusy}
                  >
                    {demoBusy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="play" size={16} />}
                    {demoBusy ? t('dashboard.startingDemo') : t('dashboard.startDemo')}
                  </button>
                )}
                <a className="btn btn-large" href={hrefFor('connections', 'new')} data-testid="add-first-connection">
                  <Icon name="plus" size={16} />
                  {t('dashboard.addConnection')}
                </a>
              </>
            }
          >
            <p>{t('dashboard.welcomeBody')}</p>
          </EmptyState>
          {demoError ? <ErrorBox error={demoError} onDismiss={() => setDemoError(null)} /> : null}
        </div>
      </section>
    );
  }

  const failing = summary.connections_failing;
  return (
    <section className="page" data-testid="page-dashboard">
      <PageHeader title={t('dashboard.title')} subtitle={t('dashboard.subtitle')} actions={syncAll.button} />
      {keychainBanner}
      {syncAll.feedback}
      {demoReady ? (
        <Notice>
          {t('dashboard.demoReady')}{' '}
          <a href={hrefFor('connections')}>{t('nav.connections')}</a>
        </Notice>
      ) : null}
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      <div className="stat-grid">
        <StatCard
          testId="card-connections"
          icon="plug"
          label={t('dashboard.cardConnections')}
          value={formatNumber(summary.connections, lng)}
          hint={failing > 0 ? t('dashboard.cardConnectionsFailing', { n: formatNumber(failing, lng) }) : t('dashboard.cardConnectionsOk')}
          tone={failing > 0 ? 'bad' : 'good'}
          href={hrefFor('connections')}
        />
        <StatCard
          testId="card-running"
          icon="refresh"
          label={t('dashboard.cardRunning')}
          value={formatNumber(summary.jobs_running, lng)}
          hint={t('dashboard.cardRunningHint')}
          tone={summary.jobs_running > 0 ? 'busy' : 'neutral'}
          href={hrefFor('jobs')}
        />
        <StatCard
          testId="card-failed"
          icon="alert"
          label={t('dashboard.cardFailed')}
          value={formatNumber(summary.jobs_failed_24h, lng)}
          tone={summary.jobs_failed_24h > 0 ? 'bad' : 'neutral'}
          href={hrefFor('jobs')}
        />
        <StatCard
          testId="card-succeeded"
          icon="check"
          label={t('dashboard.cardSucceeded')}
          value={formatNumber(summary.jobs_succeeded_24h, lng)}
          tone={summary.jobs_succeeded_24h > 0 ? 'good' : 'neutral'}
          href={hrefFor('jobs')}
        />
      </div>

      <OpenDivergencesCard />

      {summary.cards.length > 0 ? (
        <section aria-labelledby="dashboard-cards-title">
          <div className="section-head">
            <h2 id="dashboard-cards-title">{t('dashboard.connCard.sectionTitle')}</h2>
            <a href={hrefFor('connections')} className="link-quiet">
              {t('dashboard.connCard.manage')}
              <Icon name="chevron" size={14} />
            </a>
          </div>
          <div className="conn-grid">
            {summary.cards.map((card) => (
              <ConnectionCard
                key={card.connection.id}
                card={card}
                liveJob={liveSyncs[card.connection.id] ?? null}
                now={now}
                onJob={(job) => {
                  onSyncJob(job);
                  void load();
                }}
              />
            ))}
          </div>
        </section>
      ) : null}

      <div className="card">
        <div className="card-header">
          <h2>{t('dashboard.lastJobs')}</h2>
          <a href={hrefFor('jobs')} className="link-quiet">
            {t('dashboard.seeAll')}
            <Icon name="chevron" size={14} />
          </a>
        </div>
        {summary.last_jobs.length === 0 ? (
          <p className="muted card-empty">{t('dashboard.noJobs')}</p>
        ) : (
          <ul className="job-list">
            {summary.last_jobs.map((job: Job) => (
              <li key={job.id}>
                <a href={hrefFor('jobs', job.id)} className="job-list-item" data-testid="dashboard-job">
                  <StatusBadge status={job.status} />
                  <span className="job-list-kind">{jobKindLabel(i18n, job.kind)}</span>
                  <span className="job-list-conn muted">{job.connection_name ?? ''}</span>
                  <time
                    className="job-list-time muted"
                    dateTime={job.created_at}
                    title={formatDateTime(job.created_at, lng)}
                  >
                    {formatRelative(job.started_at ?? job.created_at, lng, now)}
                  </time>
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
