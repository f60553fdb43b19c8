// What is stored for a connection: one row per resource with its counts, sync state and errors, a
// link to browse it and to its quarantined records, and "Rewind…".
import type { ColumnDef } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import { useApp } from '../../AppContext';
import type { Connection } from '../../bindings/Connection';
import type { ResourceSummary } from '../../bindings/ResourceSummary';
import type { RewindPreview } from '../../bindings/RewindPreview';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { formatNumber } from '../../format';
import { erpName, resourceLabel } from './labels';
import { RewindDialog, RewindNotice } from './Rewind';
import { When } from './When';
import './sync.css';

/** Where the summary's links lead on the page that shows it. */
export interface SyncLinks {
  /** The browser showing `resource`. */
  browse: (resource: string) => string;
  /** The quarantine list filtered to `resource`. */
  quarantine: (resource: string) => string;
}

export function SummaryTable({
  connection,
  rows,
  now,
  links,
  onRewound,
}: {
  connection: Connection;
  rows: ResourceSummary[];
  now: number;
  links: SyncLinks;
  /** After a rewind is applied (to read the summary again). */
  onRewound: (preview: RewindPreview) => void;
}) {
  const { t, i18n } = useTranslation();
  const { info } = useApp();
  // On a team database the figures are what the team holds, not what this computer does.
  const title = t(info?.team_database ? 'sync.summary.titleTeam' : 'sync.summary.title');
  const lng = i18n.language;
  const kind = connection.kind;
  const erp = erpName(i18n, kind);
  const [rewinding, setRewinding] = useState<ResourceSummary | null>(null);
  const [done, setDone] = useState<RewindPreview | null>(null);

  useEffect(() => {
    setRewinding(null);
    setDone(null);
  }, [connection.id]);

  const columns = useMemo<ColumnDef<ResourceSummary>[]>(
    () => [
      {
        id: 'resource',
        header: t('sync.summary.colResource'),
        size: 165,
        cell: ({ row }) => {
          const r = row.original;
          return (
            <span className="resource-cell">
              <span className="strong" title={r.resource}>
                {resourceLabel(i18n, kind, r.resource)}
              </span>
              <span
                className={r.supports_incremental ? 'mode mode-incremental' : 'mode mode-full'}
                title={r.supports_incremental ? t('sync.summary.incrementalHint', { erp }) : t('sync.summary.fullEachTimeHint', { erp })}
                data-testid="summary-mode"
              >
                {r.supports_incremental ? t('sync.summary.incremental') : t('sync.summary.fullEachTime')}
              </span>
              {r.resume_page !== null ? (
                <span className="resume" title={t('sync.summary.resumesHint')} data-testid="summary-resume">
                  {t('sync.summary.resumes', { page: formatNumber(r.resume_page, lng) })}
                </span>
              ) : null}
            </span>
          );
        },
      },
      {
        id: 'records',
        header: t('sync.summary.colRecords'),
        size: 90,
        cell: ({ row }) => (
          <span className="tabular strong" data-testid="summary-records" data-value={row.original.records}>
            {formatNumber(row.original.records, lng, 0)}
          </span>
        ),
      },
      {
        id: 'deleted',
        header: t('sync.summary.colDeleted'),
        size: 85,
        cell: ({ row }) => (
          <span className={row.original.deleted > 0 ? 'tabular' : 'tabular muted'} data-testid="summary-deleted">
            {formatNumber(row.original.deleted, lng, 0)}
          </span>
        ),
      },
      {
        id: 'quarantined',
        header: t('sync.summary.colQuarantined'),
        size: 118,
        cell: ({ row }) => {
          const r = row.original;
          if (r.quarantined === 0) {
            return (
              <span className="tabular muted" data-testid="summary-quarantined">
                {formatNumber(0, lng, 0)}
              </span>
            );
          }
          return (
            <a
              className="tabular quarantine-link"
              href={links.quarantine(r.resource)}
              data-testid="summary-quarantined"
              title={t('sync.summary.showQuarantine', {
                n: formatNumber(r.quarantined, lng),
                resource: resourceLabel(i18n, kind, r.resource),
              })}
              onClick={(e) => e.stopPropagation()}
            >
              <Icon name="alert" size={13} />
              {formatNumber(r.quarantined, lng, 0)}
            </a>
          );
        },
      },
      {
        id: 'updated',
        header: t('sync.summary.colUpdated'),
        size: 97,
        cell: ({ row }) => <When at={row.original.last_fetched_at} now={now} relativeOnly />,
      },
      {
        id: 'success',
        header: t('sync.summary.colSuccess'),
        size: 165,
        cell: ({ row }) => <When at={row.original.last_success_at} now={now} testId="summary-success" />,
      },
      {
        id: 'error',
        header: t('sync.summary.colError'),
        size: 130,
        cell: ({ row }) =>
          row.original.last_error ? (
            <span className="last-error small" title={row.original.last_error} data-testid="summary-error">
              {row.original.last_error}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
      {
        id: 'actions',
        header: () => <span className="sr-only">{t('sync.summary.colActions')}</span>,
        size: 120,
        cell: ({ row }) => (
          <span className="row-actions">
            <a className="btn btn-small" href={links.browse(row.original.resource)} data-testid="summary-browse">
              {t('sync.summary.browse')}
            </a>
            <button
              type="button"
              className="icon-button"
              onClick={() => setRewinding(row.original)}
              data-testid="summary-rewind"
              title={t('sync.summary.rewind')}
              aria-label={`${t('sync.summary.rewind')} ${resourceLabel(i18n, kind, row.original.resource)}`}
            >
              <Icon name="clock" size={16} />
            </button>
          </span>
        ),
      },
    ],
    [t, i18n, lng, now, kind, erp, links],
  );

  const total = rows.reduce((sum, r) => sum + r.records, 0);

  return (
    <>
      {done ? <RewindNotice connection={connection} preview={done} onClose={() => setDone(null)} /> : null}
      <section className="card table-card summary-card" aria-labelledby="summary-title" data-erp={kind}>
        <div className="card-header">
          <div>
            <h2 id="summary-title">{title}</h2>
            <p className="muted small">{t('sync.summary.hint')}</p>
          </div>
          <span className="muted small tabular" data-testid="summary-total">
            {t('sync.summary.totals', { n: formatNumber(total, lng) })}
          </span>
        </div>
        <div data-testid="contifico-summary" className="summary-table">
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(r) => r.resource}
            label={title}
            rowHeight={56}
            rowAttributes={(r) => ({
              'data-testid': 'summary-row',
              'data-resource': r.resource,
              'data-records': String(r.records),
              ...(r.last_error ? { 'data-error': 'true' } : {}),
            })}
            empty={<p className="muted table-empty-text">{t('sync.summary.empty', { erp })}</p>}
          />
        </div>
        {rewinding ? (
          <RewindDialog
            connection={connection}
            summary={rewinding}
            onClose={() => setRewinding(null)}
            onDone={(p) => {
              setRewinding(null);
              setDone(p);
              onRewound(p);
            }}
          />
        ) : null}
      </section>
    </>
  );
}
