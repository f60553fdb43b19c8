// Sync history: every sync run of the connection with its mode, result, counts and errors.
import type { ColumnDef } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { SyncRun } from '../bindings/SyncRun';
import { StatusBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { elapsedMs, formatDateTime, formatDuration, formatRelative } from '../format';
import { hrefFor } from '../router';
import { asJobStatus, resourceLabel } from './ContificoUtil';
import { CountsSummary } from './Jobs';

export function ContificoHistory({ connectionId, refreshKey, now }: { connectionId: string; refreshKey: number; now: number }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [runs, setRuns] = useState<SyncRun[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    let stale = false;
    api.syncHistory(connectionId).then(
      (r) => {
        if (stale) return;
        setRuns(r ?? []);
        setError(null);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [connectionId, refreshKey]);

  const columns = useMemo<ColumnDef<SyncRun>[]>(
    () => [
      {
        id: 'started',
        header: t('contifico.history.colStarted'),
        size: 180,
        cell: ({ row }) => (
          <span className="when">
            <time dateTime={row.original.started_at} className="truncate">
              {formatDateTime(row.original.started_at, lng)}
            </time>
            <span className="muted small truncate">{formatRelative(row.original.started_at, lng, now)}</span>
          </span>
        ),
      },
      {
        id: 'duration',
        header: t('contifico.history.colDuration'),
        size: 100,
        cell: ({ row }) => {
          const ms = elapsedMs(row.original.started_at, row.original.finished_at, now);
          return <span className="tabular small">{ms === null ? '—' : formatDuration(ms, lng)}</span>;
        },
      },
      {
        id: 'mode',
        header: t('contifico.history.colMode'),
        size: 115,
        cell: ({ row }) => (
          <span className="small">
            {row.original.mode === 'full' ? t('contifico.history.modeFull') : t('contifico.history.modeIncremental')}
          </span>
        ),
      },
      {
        id: 'status',
        header: t('contifico.history.colStatus'),
        size: 130,
        cell: ({ row }) => {
          const s = asJobStatus(row.original.status);
          return s ? <StatusBadge status={s} /> : <span className="badge">{row.original.status}</span>;
        },
      },
      {
        id: 'counts',
        header: t('contifico.history.colCounts'),
        size: 190,
        cell: ({ row }) => (
          <span className="wrap-cell small">
            <CountsSummary counts={row.original.counts} />
          </span>
        ),
      },
      {
        id: 'errors',
        header: t('contifico.history.colErrors'),
        size: 210,
        cell: ({ row }) => {
          const errors = Object.entries(row.original.errors).filter((e): e is [string, string] => typeof e[1] === 'string');
          if (errors.length === 0) return <span className="muted small">{t('contifico.history.noErrors')}</span>;
          return (
            <ul className="run-errors" data-testid="sync-run-errors">
              {errors.map(([resource, message]) => (
                <li key={resource} data-resource={resource} title={message}>
                  <span className="strong">{resourceLabel(i18n, resource)}:</span> {message}
                </li>
              ))}
            </ul>
          );
        },
      },
      {
        id: 'job',
        header: () => <span className="sr-only">{t('contifico.history.viewJob')}</span>,
        size: 95,
        cell: ({ row }) =>
          row.original.job_id ? (
            <a className="link-quiet small nowrap" href={hrefFor('jobs', row.original.job_id)} data-testid="sync-run-job">
              {t('contifico.history.viewJob')}
              <Icon name="chevron" size={14} />
            </a>
          ) : null,
      },
    ],
    [t, i18n, lng, now],
  );

  return (
    <section className="card table-card" data-testid="sync-history" aria-labelledby="history-title">
      <div className="card-header">
        <div>
          <h2 id="history-title">{t('contifico.history.title')}</h2>
          <p className="muted small">{t('contifico.history.hint')}</p>
        </div>
      </div>
      {error ? (
        <div className="card-empty">
          <ErrorBox error={error} />
        </div>
      ) : null}
      {runs === null && !error ? (
        <div className="loading card-empty" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      ) : null}
      {runs ? (
        <div className="history-table">
          <DataTable
            data={runs}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('contifico.history.title')}
            rowHeight={56}
            rowAttributes={(r) => ({
              'data-testid': 'sync-run',
              'data-id': r.id,
              'data-status': r.status,
              'data-mode': r.mode,
            })}
            empty={<p className="muted table-empty-text">{t('contifico.history.empty')}</p>}
          />
        </div>
      ) : null}
    </section>
  );
}
