// The run history of the schedules: every occurrence the scheduler acted on (or was asked to run
// now), what it did and the job it started.
import type { ColumnDef } from '@tanstack/react-table';
import { useTranslation } from 'react-i18next';

import type { RunOutcome } from '../../bindings/RunOutcome';
import type { Schedule } from '../../bindings/Schedule';
import type { ScheduleRunRecord } from '../../bindings/ScheduleRunRecord';
import { StatusBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { Icon, type IconName } from '../../components/Icon';
import { jobKindLabel, translateError } from '../../errors';
import { formatDateTime, formatRelative } from '../../format';
import { hrefFor } from '../../router';
import { CountsSummary } from '../jobs/JobsPage';

const OUTCOME_LOOK: Record<RunOutcome, { className: string; icon: IconName }> = {
  started: { className: 'badge-succeeded', icon: 'play' },
  skipped_overlap: { className: 'badge-queued', icon: 'clock' },
  skipped_missed: { className: 'badge-cancelled', icon: 'stop' },
  failed_to_start: { className: 'badge-failed', icon: 'alert' },
};

/** What the scheduler did with one occurrence: colour, icon and text, the full sentence on hover. */
export function OutcomeBadge({ outcome }: { outcome: RunOutcome }) {
  const { t } = useTranslation();
  const look = OUTCOME_LOOK[outcome];
  return (
    <span
      className={`badge badge-status ${look.className}`}
      data-outcome={outcome}
      title={t(`schedules.outcomeHint.${outcome}`)}
    >
      <Icon name={look.icon} size={12} />
      {t(`schedules.outcome.${outcome}`)}
    </span>
  );
}

export function ScheduleHistory({
  runs,
  schedules,
  filter,
  onFilter,
  now,
  loading,
}: {
  runs: ScheduleRunRecord[] | null;
  schedules: readonly Schedule[];
  /** '' = every schedule. */
  filter: string;
  onFilter: (scheduleId: string) => void;
  now: number;
  loading: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const showName = filter === '';

  const columns: ColumnDef<ScheduleRunRecord>[] = [
    {
      id: 'due',
      header: t('schedules.history.colDue'),
      meta: { width: '128px' },
      cell: ({ row: { original: r } }) => (
        <>
          <time className="sch-block small tabular" dateTime={r.due_at} title={formatDateTime(r.due_at, lng)}>
            {formatDateTime(r.due_at, lng)}
          </time>
          <span className="muted small">{formatRelative(r.due_at, lng, now)}</span>
        </>
      ),
    },
    ...(showName
      ? [
          {
            id: 'schedule',
            header: t('schedules.history.colSchedule'),
            meta: { width: '20%' },
            cell: ({ row: { original: r } }) => (
              <>
                <span className="strong truncate" title={r.schedule_name}>
                  {r.schedule_name}
                </span>
                <span className="muted small truncate">{jobKindLabel(i18n, r.kind)}</span>
              </>
            ),
          } satisfies ColumnDef<ScheduleRunRecord>,
        ]
      : []),
    {
      id: 'trigger',
      header: t('schedules.history.colTrigger'),
      meta: { width: '116px' },
      cell: ({ row: { original: r } }) => <span className="small">{t(`schedules.trigger.${r.trigger}`)}</span>,
    },
    {
      id: 'outcome',
      header: t('schedules.history.colOutcome'),
      meta: { width: '150px' },
      cell: ({ row: { original: r } }) => <OutcomeBadge outcome={r.outcome} />,
    },
    {
      id: 'reason',
      header: t('schedules.history.colReason'),
      cell: ({ row: { original: r } }) => {
        const jobError = r.job_error ? translateError(i18n, r.job_error) : null;
        return (
          <>
            <span className="small sch-reason">{r.reason ?? (r.outcome === 'started' ? '' : t(`schedules.outcomeHint.${r.outcome}`))}</span>
            {jobError ? (
              <span className="small sch-job-error" title={jobError}>
                {jobError}
              </span>
            ) : null}
          </>
        );
      },
    },
    {
      id: 'job',
      header: t('schedules.history.colJob'),
      meta: { width: '19%' },
      cell: ({ row: { original: r } }) =>
        r.job_id ? (
          <div className="sch-job">
            <div className="sch-job-line">
              {r.job_status ? <StatusBadge status={r.job_status} /> : null}
              <a className="small link-quiet" href={hrefFor('jobs', r.job_id)} data-testid="schedule-run-job">
                {t('schedules.history.openJob')}
                <Icon name="chevron" size={12} />
              </a>
            </div>
            <CountsSummary counts={r.counts} />
          </div>
        ) : (
          <span className="muted">—</span>
        ),
    },
  ];

  return (
    <div className="card sch-history" data-testid="schedule-history" id="schedule-history">
      <div className="card-header sch-card-header">
        <div>
          <h2>{t('schedules.history.title')}</h2>
          <p className="muted small">{t('schedules.history.hint')}</p>
        </div>
        <label className="filter">
          <span>{t('schedules.history.filter')}</span>
          <select value={filter} onChange={(e) => onFilter(e.target.value)} data-testid="schedule-history-filter">
            <option value="">{t('schedules.history.all')}</option>
            {schedules.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {runs === null || (loading && runs.length === 0) ? (
        <div className="loading sch-pad" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      ) : runs.length === 0 ? (
        <p className="muted card-empty">{t('schedules.history.empty')}</p>
      ) : (
        <DataTable
          data={runs}
          columns={columns}
          getRowId={(r) => String(r.id)}
          rowAttributes={(r) => ({
            'data-testid': 'schedule-run',
            'data-outcome': r.outcome,
            'data-trigger': r.trigger,
            'data-schedule': r.schedule_id,
          })}
          rowHeight={null}
          className="sch-history-scroll"
          tableClassName="sch-history-table"
        />
      )}
    </div>
  );
}
