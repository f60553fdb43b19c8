// The pieces the Omie tabs share: the "what this tab does" box, the latest job with its dry-run
// preview, a table card that shows "Loading…" until its rows come, and the retry of failed records.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import { Icon, type IconName } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { OmieErrorBox } from './AttachmentForms';
import { JobActivity, PreviewTable, usePreview } from './Job';
import { isActiveJob } from './util';

/** The box at the top of a tab that says what it is for. */
export function Explain({ icon, title, text, testId }: { icon: IconName; title: string; text: string; testId: string }) {
  return (
    <div className="omie-explain" data-testid={testId}>
      <Icon name={icon} size={20} />
      <div>
        <strong>{title}</strong>
        <p>{text}</p>
      </div>
    </div>
  );
}

/** The tab's latest job (nothing while there is none), and its preview once a dry run ends. Test ids: `<prefix>-activity`, `<prefix>-preview`. */
export function LatestJob({ job, testIdPrefix, onCancelled }: { job: Job | null; testIdPrefix: string; onCancelled: (job: Job) => void }) {
  const { t } = useTranslation();
  const preview = usePreview(job);
  if (!job) return null;
  return (
    <section className="card omie-card omie-activity-card" aria-label={t('omie.job.latest')}>
      <JobActivity job={job} testId={`${testIdPrefix}-activity`} onCancelled={onCancelled} />
      {isActiveJob(job) ? null : preview.items !== null || preview.error ? (
        <PreviewTable job={job} items={preview.items} error={preview.error} testId={`${testIdPrefix}-preview`} />
      ) : null}
    </section>
  );
}

export interface Retry {
  retrying: boolean;
  error: ApiError | null;
  clearError: () => void;
  retry: () => void;
}

/** "Retry failed": starts the job `start` answers and hands it to `track`; its refusal is kept as `error`. */
export function useRetry(start: () => Promise<Job>, track: (job: Job) => void): Retry {
  const [retrying, setRetrying] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const retry = async () => {
    setRetrying(true);
    setError(null);
    try {
      track(await start());
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setRetrying(false);
    }
  };
  return { retrying, error, clearError: () => setError(null), retry: () => void retry() };
}

/** The retry button of a table card (disabled while the retry starts). */
export function RetryButton({ retry, testId, title, children }: { retry: Retry; testId: string; title?: string; children: ReactNode }) {
  return (
    <button type="button" className="btn" onClick={retry.retry} disabled={retry.retrying} data-testid={testId} title={title}>
      <Icon name="refresh" size={16} />
      {children}
    </button>
  );
}

/**
 * `<section class="card table-card omie-card">`: a header (title, hint and `tools`), an error under
 * it, then the table box (`data-testid={testId}`, `data-count`) showing "Loading…" while `rows` is
 * null and `children` after, and a `foot` note.
 */
export function TableCard({
  titleId,
  title,
  hint,
  tools,
  error,
  errorTestId,
  onDismissError,
  testId,
  wrapClassName = 'omie-table-wrap',
  rows,
  foot,
  children,
}: {
  titleId: string;
  title: string;
  hint: string;
  tools?: ReactNode;
  error?: ApiError | null;
  errorTestId?: string;
  onDismissError?: () => void;
  testId: string;
  wrapClassName?: string;
  rows: readonly unknown[] | null;
  foot?: string;
  children: ReactNode;
}) {
  return (
    <section className="card table-card omie-card" aria-labelledby={titleId}>
      <div className={tools ? 'card-header omie-card-header-wrap' : 'card-header'}>
        <div>
          <h2 id={titleId}>{title}</h2>
          <p className="muted small">{hint}</p>
        </div>
        {tools}
      </div>
      {error ? (
        <div className="omie-card-alert">
          <OmieErrorBox error={error} testId={errorTestId} onDismiss={onDismissError} />
        </div>
      ) : null}
      <div data-testid={testId} className={wrapClassName} data-count={rows?.length ?? ''}>
        {rows === null ? <Loading /> : children}
      </div>
      {foot ? <p className="muted small omie-card-foot">{foot}</p> : null}
    </section>
  );
}
