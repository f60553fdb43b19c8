// Following the Omie jobs of one connection live (job events, plus a re-read while one runs), and
// the pieces that show them: an activity box, the dry-run preview table and status badges.
import type { ColumnDef } from '@tanstack/react-table';
import type { i18n as I18n } from 'i18next';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import * as omie from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import type { OmiePreviewItem } from '../../bindings/OmiePreviewItem';
import { StatusBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { ErrorBox, ErrorDetails } from '../../components/ErrorBox';
import { Icon, type IconName } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { ProgressBar } from '../../components/ProgressBar';
import { toApiError } from '../../errors';
import { elapsedMs, formatDuration, formatNumber } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { hrefFor } from '../../router';
import { CancelJobButton } from '../jobs/CancelJobButton';
import { parseProgressLabel, pickJob, progressText as syncProgressText } from '../sync';
import { countLabel, isActiveJob, isDryRun, jobErrorText, omieJobKindLabel, tableLabel } from './util';

/** While a job runs it is re-read this often, so a lost event never leaves it "running". */
const POLL_MS = 2500;

/**
 * The latest job of `kinds` for a connection, kept live. `onEnd` runs once for every job of those
 * kinds that finishes while the page is open (to reload the lists it changed).
 */
export function useOmieJob(
  kinds: readonly string[],
  connectionId: string,
  onEnd?: (job: Job) => void,
): { job: Job | null; track: (job: Job) => void } {
  const [job, setJob] = useState<Job | null>(null);
  const ended = useRef(new Set<string>());
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;
  const kindsKey = kinds.join(',');

  const track = useCallback((j: Job) => {
    setJob((cur) => pickJob(cur, j));
    if (!isActiveJob(j) && !ended.current.has(j.id)) {
      ended.current.add(j.id);
      onEndRef.current?.(j);
    }
  }, []);

  const loadLatest = useCallback(async () => {
    const lists = await Promise.all(
      kindsKey.split(',').map((kind) =>
        api.listJobs({ kind, status: null, connection_id: connectionId, limit: 1 }).then(
          (l) => l ?? [],
          () => [] as Job[],
        ),
      ),
    );
    const wanted = kindsKey.split(',');
    for (const j of lists.flat().filter((x) => wanted.includes(x.kind) && x.connection_id === connectionId)) {
      // Jobs that had already finished are shown, not treated as news.
      if (!isActiveJob(j)) ended.current.add(j.id);
      setJob((cur) => pickJob(cur, j));
    }
  }, [connectionId, kindsKey]);

  useEffect(() => {
    setJob(null);
    void loadLatest();
  }, [loadLatest]);

  useJobEvents(
    (event) => {
      const j = event.job;
      if (j.connection_id !== connectionId || !kindsKey.split(',').includes(j.kind)) return;
      track(j);
    },
    () => void loadLatest(),
  );

  const activeId = isActiveJob(job) ? job?.id : null;
  useEffect(() => {
    if (!activeId) return;
    const id = window.setInterval(() => {
      api.getJob(activeId).then(
        (d) => track(d.job),
        () => {},
      );
    }, POLL_MS);
    return () => window.clearInterval(id);
  }, [activeId, track]);

  return { job, track };
}

/** The preview lines of a finished dry-run job (empty until it ends). */
export function usePreview(job: Job | null): { items: OmiePreviewItem[] | null; error: ApiError | null } {
  const [items, setItems] = useState<OmiePreviewItem[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const wanted = job && isDryRun(job) && !isActiveJob(job) ? job.id : null;
  useEffect(() => {
    setItems(null);
    setError(null);
    if (!wanted) return;
    let stale = false;
    omie.omiePreview(wanted).then(
      (rows) => {
        if (!stale) setItems(rows ?? []);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [wanted]);
  return { items, error };
}

/** What a progress label says, in the user's language when it is a sync page line. */
export function progressText(i18n: I18n, label: string | null): string | null {
  const receipt = /^receipt (\S+) → (\S+) (\S+)$/.exec(label ?? '');
  if (receipt) {
    return i18n.t('omie.job.progressReceipt', { receipt: receipt[1], table: tableLabel(i18n, receipt[2]!), id: receipt[3] });
  }
  const order = /^order (\S+)$/.exec(label ?? '');
  if (order) return i18n.t('omie.job.progressOrder', { order: order[1] });
  return parseProgressLabel(label)?.page == null ? label : syncProgressText(i18n, 'omie', label);
}

function Counts({ counts }: { counts: Record<string, number> }) {
  const { i18n } = useTranslation();
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return null;
  return (
    <ul className="omie-counts" data-testid="omie-job-counts">
      {entries.map(([name, n]) => (
        <li key={name} data-count={name}>
          <span className="muted">{countLabel(i18n, name)}</span>
          <span className="strong tabular">{formatNumber(n, i18n.language)}</span>
        </li>
      ))}
    </ul>
  );
}

/** The live state or the outcome of a job: progress, counts, error, link to its log. */
export function JobActivity({ job, testId, onCancelled }: { job: Job; testId: string; onCancelled?: (job: Job) => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const active = isActiveJob(job);
  const now = useNow(1000, active);
  const [error, setError] = useState<ApiError | null>(null);
  const duration = elapsedMs(job.started_at ?? job.created_at, job.finished_at, now);
  const durationText = duration === null ? '—' : formatDuration(duration, lng);
  const kind = omieJobKindLabel(i18n, job.kind);
  const dry = isDryRun(job);

  if (active) {
    return (
      <div className="omie-activity" data-testid={testId} data-status={job.status} data-kind={job.kind} data-job-id={job.id} aria-live="polite">
        <div className="omie-activity-head">
          <StatusBadge status={job.status} />
          <span className="strong truncate">
            {kind}
            {dry ? <span className="badge omie-badge-dry">{t('omie.job.dryRun')}</span> : null}
          </span>
          <span className="muted small truncate">
            {job.status === 'queued' ? t('omie.job.waiting') : progressText(i18n, job.progress_label) ?? t('omie.job.working')}
          </span>
          <CancelJobButton
            jobId={job.id}
            onCancelled={(j) => onCancelled?.(j)}
            onError={setError}
            testId={`${testId}-cancel`}
            label={t('omie.job.cancel')}
            busyLabel={t('omie.job.cancelling')}
          />
        </div>
        <ProgressBar value={job.status === 'queued' ? null : job.progress} label={null} />
        <div className="omie-activity-foot small muted">
          <span>{t('omie.job.elapsed', { duration: durationText })}</span>
          <Counts counts={job.counts} />
        </div>
        {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      </div>
    );
  }

  const tone = job.status === 'succeeded' ? 'alert-success' : job.status === 'failed' ? 'alert-error' : 'alert-neutral';
  const icon: IconName = job.status === 'succeeded' ? 'check' : job.status === 'failed' ? 'alert' : 'info';
  const title =
    job.status === 'succeeded'
      ? t('omie.job.succeeded', { kind, duration: durationText })
      : job.status === 'failed'
        ? t('omie.job.failed', { kind, duration: durationText })
        : t('omie.job.cancelled', { kind, duration: durationText });
  return (
    <div
      className={`alert ${tone} omie-activity-done`}
      role={job.status === 'failed' ? 'alert' : 'status'}
      data-testid={testId}
      data-status={job.status}
      data-kind={job.kind}
      data-job-id={job.id}
    >
      <Icon name={icon} size={20} className="alert-icon" />
      <div className="alert-body">
        <strong className="alert-title">
          {title}
          {dry ? <span className="badge omie-badge-dry">{t('omie.job.dryRun')}</span> : null}
        </strong>
        {dry && job.status === 'succeeded' ? <p className="alert-text small">{t('omie.job.dryRunDone')}</p> : null}
        <Counts counts={job.counts} />
        {job.status === 'failed' && job.error ? (
          <>
            <p className="alert-text" data-testid={`${testId}-error`} data-code={job.error.code}>
              {jobErrorText(i18n, job)}
            </p>
            <ErrorDetails details={job.error.details} />
          </>
        ) : null}
        <a className="link-quiet small" href={hrefFor('jobs', job.id)} data-testid={`${testId}-link`}>
          {t('omie.job.viewLog')}
          <Icon name="chevron" size={14} />
        </a>
      </div>
    </div>
  );
}

const ACTION_TONE: Record<string, string> = {
  transfer: 'omie-action-go',
  close: 'omie-action-go',
  skip_duplicate: 'omie-action-skip',
  already_closed: 'omie-action-skip',
  error: 'omie-action-error',
};

/** Known reasons the core gives for skipping a copy, in the user's language. */
const SKIP_REASONS: Record<string, string> = {
  'same integration code': 'sameCode',
  'same content': 'sameContent',
  'same name and size': 'sameNameSize',
};

/** The lines of a dry-run preview: what would be done, from where to where, and why. */
export function PreviewTable({
  job,
  items,
  error,
  testId,
}: {
  job: Job;
  items: OmiePreviewItem[] | null;
  error: ApiError | null;
  testId: string;
}) {
  const { t, i18n } = useTranslation();
  if (error) return <ErrorBox error={error} />;
  if (items === null) {
    return <Loading />;
  }
  const action = (a: string) => (i18n.exists(`omie.preview.actions.${a}`) ? t(`omie.preview.actions.${a}`) : a);
  const detail = (d: string) => {
    const k = SKIP_REASONS[d];
    return k ? t(`omie.preview.reasons.${k}`) : d;
  };
  const columns: ColumnDef<OmiePreviewItem>[] = [
    {
      id: 'action',
      header: t('omie.preview.colAction'),
      meta: { width: '16%' },
      cell: ({ row: { original: it } }) => <span className={`badge ${ACTION_TONE[it.action] ?? ''}`}>{action(it.action)}</span>,
    },
    { id: 'origin', header: t('omie.preview.colOrigin'), meta: { width: '24%', cellClassName: 'wrap-text' }, cell: ({ row }) => row.original.origin },
    {
      id: 'destination',
      header: t('omie.preview.colDestination'),
      meta: { width: '26%', cellClassName: 'wrap-text' },
      cell: ({ row }) => row.original.destination,
    },
    { id: 'detail', header: t('omie.preview.colDetail'), meta: { cellClassName: 'wrap-text small' }, cell: ({ row }) => detail(row.original.detail) },
  ];
  return (
    <section className="omie-preview" data-testid={testId} data-job-id={job.id} data-count={items.length} aria-label={t('omie.preview.title')}>
      <div className="omie-preview-head">
        <h3>{t('omie.preview.title')}</h3>
        <span className="muted small">{t('omie.preview.hint')}</span>
      </div>
      {items.length === 0 ? (
        <p className="muted" data-testid={`${testId}-empty`}>
          {t('omie.preview.empty')}
        </p>
      ) : (
        <DataTable
          data={items}
          columns={columns}
          getRowId={(_, i) => String(i)}
          rowAttributes={(it) => ({ 'data-testid': `${testId}-row`, 'data-action': it.action })}
          rowHeight={null}
          className="omie-preview-scroll"
          tableClassName="omie-table"
        />
      )}
    </section>
  );
}

const RECORD_STATUS_ICON: Record<string, IconName> = {
  pending: 'clock',
  processing: 'refresh',
  succeeded: 'check',
  duplicate: 'check',
  failed: 'alert',
};
const RECORD_STATUS_CLASS: Record<string, string> = {
  pending: 'badge-queued',
  processing: 'badge-running',
  succeeded: 'badge-succeeded',
  duplicate: 'badge-cancelled',
  failed: 'badge-failed',
};

/** Status of a transfer, a file or a closure: colour, icon and text. */
export function RecordStatusBadge({ status }: { status: string }) {
  const { t, i18n } = useTranslation();
  const label = i18n.exists(`omie.status.${status}`) ? t(`omie.status.${status}`) : status;
  return (
    <span className={`badge badge-status ${RECORD_STATUS_CLASS[status] ?? ''}`} data-status={status}>
      <Icon name={RECORD_STATUS_ICON[status] ?? 'info'} size={13} className={status === 'processing' ? 'spin' : undefined} />
      {label}
    </span>
  );
}
