import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import type { JobStatus } from '../../bindings/JobStatus';
import { StatusBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { PageHeader } from '../../components/PageHeader';
import { ProgressBar } from '../../components/ProgressBar';
import { jobKindLabel, toApiError } from '../../errors';
import { elapsedMs, formatDateTime, formatDuration, formatNumber, formatRelative } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { navigate } from '../../router';
import { JobDetailPanel } from './Detail';
import { JobsTabs } from '../schedules/Tabs';

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
/** Kinds offered in the filter even before a job of that kind exists. */
const KNOWN_KINDS = ['test_connection'];
const LIST_LIMIT = 1000;
/** With the detail panel open the list keeps only what identifies a job. */
const COMPACT_HIDDEN = ['progress', 'counts', 'started', 'duration'];

export function isActive(job: Job): boolean {
  return job.status === 'queued' || job.status === 'running';
}

/** Inserts or replaces `job` in a newest-first list, honouring the filters. */
export function upsertJob(list: Job[], job: Job, filter: { status: string; kind: string }): Job[] {
  const matches = (!filter.status || job.status === filter.status) && (!filter.kind || job.kind === filter.kind);
  const idx = list.findIndex((j) => j.id === job.id);
  if (!matches) return idx >= 0 ? list.filter((j) => j.id !== job.id) : list;
  if (idx >= 0) {
    const next = list.slice();
    next[idx] = job;
    return next;
  }
  return [job, ...list];
}

export function CountsSummary({ counts }: { counts: Record<string, number> }) {
  const { i18n } = useTranslation();
  const entries = Object.entries(counts);
  if (entries.length === 0) return <span className="muted">—</span>;
  const label = (k: string) => (i18n.exists(`countNames.${k}`) ? i18n.t(`countNames.${k}`) : k.replace(/_/g, ' '));
  const text = entries.map(([k, v]) => `${label(k)} ${formatNumber(v, i18n.language)}`).join(' · ');
  return (
    <span className="truncate small" title={text}>
      {text}
    </span>
  );
}

export function JobsPage({ selectedId }: { selectedId: string | null }) {
  const { t, i18n } = useTranslation();
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const [seenKinds, setSeenKinds] = useState<string[]>(KNOWN_KINDS);
  const lng = i18n.language;
  const anyActive = (jobs ?? []).some(isActive);
  const now = useNow(anyActive ? 1000 : 30_000);

  const load = useCallback(async () => {
    try {
      const list = await api.listJobs({
        kind: kind || null,
        status: (status || null) as JobStatus | null,
        connection_id: null,
        limit: LIST_LIMIT,
      });
      setJobs(list);
      setError(null);
      setSeenKinds((k) => Array.from(new Set([...k, ...list.map((j) => j.kind)])));
    } catch (e) {
      setError(toApiError(e));
    }
  }, [kind, status]);

  useEffect(() => {
    void load();
  }, [load]);

  useJobEvents(
    (event) => {
      setJobs((list) => (list ? upsertJob(list, event.job, { status, kind }) : list));
      setSeenKinds((k) => (k.includes(event.job.kind) ? k : [...k, event.job.kind]));
    },
    () => void load(),
  );

  // Safety net while work is running: re-read the list every few seconds, so a missed event can
  // never leave a finished job shown as running.
  useEffect(() => {
    if (!anyActive) return;
    const id = window.setInterval(() => void load(), 3000);
    return () => window.clearInterval(id);
  }, [anyActive, load]);

  const columns = useMemo<ColumnDef<Job>[]>(
    () => [
      {
        id: 'kind',
        header: t('jobs.colKind'),
        size: 220,
        // Job names are long in Portuguese and Spanish: wrap rather than cut them.
        cell: ({ row }) => <span className="strong">{jobKindLabel(i18n, row.original.kind)}</span>,
      },
      {
        id: 'connection',
        header: t('jobs.colConnection'),
        size: 160,
        cell: ({ row }) => <span className="truncate">{row.original.connection_name ?? '—'}</span>,
      },
      {
        id: 'status',
        header: t('jobs.colStatus'),
        size: 130,
        cell: ({ row }) => <StatusBadge status={row.original.status} />,
      },
      {
        id: 'progress',
        header: t('jobs.colProgress'),
        size: 150,
        cell: ({ row }) => {
          const j = row.original;
          if (j.status === 'running') return <ProgressBar value={j.progress} label={j.progress_label} compact />;
          if (j.status === 'queued') return <span className="muted small">{t('jobs.waiting')}</span>;
          return <span className="muted">—</span>;
        },
      },
      {
        id: 'counts',
        header: t('jobs.colCounts'),
        size: 130,
        cell: ({ row }) => <CountsSummary counts={row.original.counts} />,
      },
      {
        id: 'started',
        header: t('jobs.colStarted'),
        size: 130,
        cell: ({ row }) => {
          const at = row.original.started_at ?? row.original.created_at;
          return (
            <time className="small truncate" dateTime={at} title={formatDateTime(at, lng)}>
              {formatRelative(at, lng, now)}
            </time>
          );
        },
      },
      {
        id: 'duration',
        header: t('jobs.colDuration'),
        size: 100,
        cell: ({ row }) => {
          const ms = elapsedMs(row.original.started_at, row.original.finished_at, now);
          return <span className="small tabular truncate">{ms === null ? '—' : formatDuration(ms, lng)}</span>;
        },
      },
    ],
    [t, i18n, lng, now],
  );

  const filtered = Boolean(status || kind);

  return (
    <section className={selectedId ? 'page page-jobs with-detail' : 'page page-jobs'} data-testid="page-jobs">
      <PageHeader
        title={t('jobs.title')}
        subtitle={t('jobs.subtitle')}
        actions={
          <button type="button" className="btn" onClick={() => void load()}>
            <Icon name="refresh" size={16} />
            {t('common.refresh')}
          </button>
        }
      />
      <JobsTabs active="jobs" />
      <div className="toolbar">
        <label className="filter">
          <span>{t('jobs.filterStatus')}</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)} data-testid="jobs-filter-status">
            <option value="">{t('jobs.allStatuses')}</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span>{t('jobs.filterKind')}</span>
          <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="jobs-filter-kind">
            <option value="">{t('jobs.allKinds')}</option>
            {seenKinds.map((k) => (
              <option key={k} value={k}>
                {jobKindLabel(i18n, k)}
              </option>
            ))}
          </select>
        </label>
        {jobs ? <span className="muted small toolbar-count">{t('jobs.shown', { n: formatNumber(jobs.length, lng) })}</span> : null}
      </div>

      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}

      {jobs === null && !error ? <Loading /> : null}

      {jobs && jobs.length === 0 && !filtered ? (
        <div className="card">
          <EmptyState icon="list" title={t('jobs.emptyTitle')}>
            <p>{t('jobs.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}

      {jobs && (jobs.length > 0 || filtered) ? (
        <div className="card table-card jobs-table">
          <DataTable
            data={jobs}
            columns={columns}
            getRowId={(j) => j.id}
            label={t('jobs.title')}
            selectedId={selectedId}
            onRowClick={(j) => navigate('jobs', j.id)}
            rowAttributes={(j) => ({
              'data-testid': 'job-row',
              'data-id': j.id,
              'data-kind': j.kind,
              'data-status': j.status,
              'data-connection': j.connection_name ?? '',
              'data-progress': j.progress === null ? '' : String(j.progress),
              'data-progress-label': j.progress_label ?? '',
            })}
            empty={<p className="muted table-empty-text">{t('jobs.emptyFiltered')}</p>}
            hiddenColumns={selectedId ? COMPACT_HIDDEN : undefined}
          />
        </div>
      ) : null}

      {selectedId ? <JobDetailPanel key={selectedId} jobId={selectedId} onClose={() => navigate('jobs')} /> : null}
    </section>
  );
}
