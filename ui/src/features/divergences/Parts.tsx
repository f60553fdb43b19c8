// Small pieces the divergence views share: the status badge, money and dates in the user's
// language, an error box that words the core's refusals, and the live state of a job.
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { ProgressBar } from '../../components/ProgressBar';
import { formatDate, formatDateTime } from '../../format';
import { isActiveJob } from '../sync';
import { describeError, formatAmount, isStatus, STATUS_LOOK, statusLabel } from './model';

/** A divergence's status with colour, icon AND words (never colour alone). */
export function DivergenceStatusBadge({ status }: { status: string }) {
  const { i18n } = useTranslation();
  const [tone, icon] = isStatus(status) ? STATUS_LOOK[status] : ['queued', 'info' as const];
  return (
    <span className={`badge badge-status badge-${tone} div-status`} data-status={status}>
      <Icon name={icon} size={13} />
      {statusLabel(i18n, status)}
    </span>
  );
}

/** An exact amount as money ("R$ 1.234,50"), right-aligned digits. */
export function Money({ value, currency, className }: { value: string | null | undefined; currency?: string | null; className?: string }) {
  const { i18n } = useTranslation();
  const text = formatAmount(value, i18n.language, currency ?? 'BRL');
  return <span className={className ? `tabular num ${className}` : 'tabular num'}>{text}</span>;
}

/** A date in the user's language, with the full date and time on hover. */
export function When({ at, withTime = false }: { at: string | null | undefined; withTime?: boolean }) {
  const { i18n } = useTranslation();
  if (!at) return <span className="muted">—</span>;
  const lng = i18n.language;
  return (
    <time className="small tabular" dateTime={at} title={formatDateTime(at, lng)}>
      {withTime ? formatDateTime(at, lng) : formatDate(at, lng)}
    </time>
  );
}

/** An error of a divergence command in plain words (the core's English reason under "details"). */
export function DivergenceErrorBox({ error, testId, onDismiss }: { error: ApiError; testId?: string; onDismiss?: () => void }) {
  const { i18n } = useTranslation();
  const d = describeError(i18n, error);
  return <ErrorBox error={d.error} text={d.text} testId={testId} onDismiss={onDismiss} />;
}

/** The progress of a running job (an indeterminate bar while it waits), or nothing once it ended. */
export function JobProgress({ job, label, testId }: { job: Job | null; label?: string | null; testId: string }) {
  const { t } = useTranslation();
  if (!job || !isActiveJob(job)) return null;
  return (
    <div className="div-job-progress" data-testid={testId} data-job-id={job.id} aria-live="polite">
      <ProgressBar
        value={job.status === 'queued' ? null : job.progress}
        label={job.status === 'queued' ? t('divergences.job.waiting') : (label ?? null)}
        compact
      />
    </div>
  );
}
