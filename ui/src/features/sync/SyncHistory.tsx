// Sync history: every sync run of a connection with its mode, result, counts and errors.
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { Connection } from '../../bindings/Connection';
import type { SyncRun } from '../../bindings/SyncRun';
import { StatusBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { elapsedMs, formatDuration } from '../../format';
import { CountsSummary } from '../jobs/JobsPage';
import { hrefFor } from '../../router';
import { resourceLabel } from './labels';
import { ListStatus } from './ListStatus';
import { useConnectionList } from './useSync';
import { asJobStatus } from './util';
import { When } from './When';
import './sync.css';

export function SyncHistory({ connection, refreshKey, now }: { connection: Connection; refreshKey: number; now: number }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const kind = connection.kind;
  const { rows: runs, error } = useConnectionList(api.syncHistory, connection.id, refreshKey);

  const columns = useMemo<ColumnDef<SyncRun>[]>(
    () => [
      {
        id: 'started',
        header: t('sync.history.colStarted'),
        size: 180,
        cell: ({ row }) => <When at={row.original.started_at} now={now} />,
      },
      {
        id: 'duration',
        header: t('sync.history.colDuration'),
        size: 100,
        cell: ({ row }) => {
          const ms = elapsedMs(row.original.started_at, row.original.finished_at, now);
          return <span className="tabular small">{ms === null ? '—' : formatDuration(ms, lng)}</span>;
        },
      },
      {
        id: 'mode',
        header: t('sync.history.colMode'),
        size: 115,
        cell: ({ row }) => (
          <span className="small">{row.original.mode === 'full' ? t('sync.history.modeFull') : t('sync.history.modeIncremental')}</span>
        ),
      },
      {
        id: 'status',
        header: t('sync.history.colStatus'),
        size: 130,
        cell: ({ row }) => {
          const s = asJobStatus(row.original.status);
          return s ? <StatusBadge status={s} /> : <span className="badge">{row.original.status}</span>;
        },
      },
      {
        id: 'counts',
        header: t('sync.history.colCounts'),
        size: 190,
        cell: ({ row }) => (
          <span className="wrap-cell small">
            <CountsSummary counts={row.original.counts} />
          </span>
        ),
      },
      {
        id: 'errors',
        header: t('sync.history.colErrors'),
        size: 210,
        cell: ({ row }) => {
          const errors = Object.entries(row.original.errors).filter((e): e is [string, string] => typeof e[1] === 'string');
          if (errors.length === 0) return <span className="muted small">{t('sync.history.noErrors')}</span>;
          return (
            <ul className="run-errors" data-testid="sync-run-errors">
              {errors.map(([resource, message]) => (
                <li key={resource} data-resource={resource} title={message}>
                  <span className="strong">{resourceLabel(i18n, kind, resource)}:</span> {message}
                </li>
              ))}
            </ul>
          );
        },
      },
      {
        id: 'job',
        header: () => <span className="sr-only">{t('sync.history.viewJob')}</span>,
        size: 95,
        cell: ({ row }) =>
          row.original.job_id ? (
            <a className="link-quiet small nowrap" href={hrefFor('jobs', row.original.job_id)} data-testid="sync-run-job">
              {t('sync.history.viewJob')}
              <Icon name="chevron" size={14} />
            </a>
          ) : null,
      },
    ],
    [t, i18n, lng, now, kind],
  );

  return (
    <section className="card table-card" data-testid="sync-history" data-erp={kind} aria-labelledby="history-title">
      <div className="card-header">
        <div>
          <h2 id="history-title">{t('sync.history.title')}</h2>
          <p className="muted small">{t('sync.history.hint')}</p>
        </div>
      </div>
      <ListStatus loading={runs === null} error={error} />
      {runs ? (
        <div className="history-table">
          <DataTable
            data={runs}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('sync.history.title')}
            rowHeight={56}
            rowAttributes={(r) => ({
              'data-testid': 'sync-run',
              'data-id': r.id,
              'data-status': r.status,
              'data-mode': r.mode,
            })}
            empty={<p className="muted table-empty-text">{t('sync.history.empty')}</p>}
          />
        </div>
      ) : null}
    </section>
  );
}
