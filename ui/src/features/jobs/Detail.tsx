import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import type { JobLog } from '../../bindings/JobLog';
import type { Reason } from '../../bindings/Reason';
import { StatusBadge } from '../../components/Badges';
import { CloseButton } from '../../components/CloseButton';
import { ErrorBox, ErrorDetails } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Notice } from '../../components/Notice';
import { ProgressBar } from '../../components/ProgressBar';
import { jobKindLabel, parseJsonParam, reasonText, toApiError, translateError } from '../../errors';
import { omieErrorText } from '../omie/util';
import {
  elapsedMs,
  formatDateOnly,
  formatDateTime,
  formatDecimalString,
  formatDuration,
  formatNumber,
  formatTime,
} from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { CancelJobButton } from './CancelJobButton';

/** Merges log lines by sequence number (events may arrive before or after the initial load). */
export function mergeLogs(a: JobLog[], b: JobLog[]): JobLog[] {
  const bySeq = new Map<number, JobLog>();
  for (const l of a) bySeq.set(l.seq, l);
  for (const l of b) bySeq.set(l.seq, l);
  return Array.from(bySeq.values()).sort((x, y) => x.seq - y.seq);
}

/** Where each sync kind keeps the names of its resources (`personas` → "Clientes e fornecedores"). */
const RESOURCE_LABELS: Record<string, string> = {
  sync_contifico: 'contifico.resources.',
  sync_omie: 'omie.resources.',
  sync_erpnext: 'erpnext.data.resources.',
};

/** Log-line params that are quantities (never ids such as an order or NF number). */
const QUANTITIES = ['seconds', 'count', 'records', 'ms', 'failed', 'copied', 'already', 'requested', 'attempts', 'max', 'percent'];

/**
 * A log line in the UI's language: the `jobLog` dictionary's text for its key, filled with its
 * params (a resource named by the job's ERP in words); the English message when the line has no
 * key or the dictionary does not know it.
 */
export function logLineText(i18n: Parameters<typeof translateError>[0], line: JobLog, kind?: string): string {
  if (!line.key) return line.message;
  const key = `jobLog.${line.key}`;
  if (!i18n.exists(key)) return line.message;
  const params: Record<string, string | undefined> = { ...line.params };
  const prefix = kind ? RESOURCE_LABELS[kind] : undefined;
  if (prefix && params.resource && i18n.exists(prefix + params.resource)) {
    params.resource = i18n.t(prefix + params.resource);
  }
  // Quantities and dates the local way ("0,4 s", "1.000.000 registros", "01/11/2026"); ids stay as sent.
  for (const name of QUANTITIES) {
    const v = params[name];
    if (v !== undefined) params[name] = formatDecimalString(v, i18n.language);
  }
  if (params.since) params.since = formatDateOnly(params.since, i18n.language);
  // An error or reason sent whole is said in the window's language, not in the core's English.
  const err = parseJsonParam<ApiError>(params.error_json, (v) => typeof v.code === 'string' && typeof v.message === 'string');
  if (err) params.error = omieErrorText(i18n, err);
  const why = parseJsonParam<Reason>(params.reason_json, (v) => typeof v.key === 'string' && typeof v.message === 'string');
  if (why) params.reason = reasonText(i18n, why);
  return i18n.t(key, params);
}

/** The error of a job in plain words, always naming the connection it concerns. */
export function jobErrorText(i18n: Parameters<typeof translateError>[0], job: Job): string {
  if (!job.error) return '';
  const text = translateError(i18n, job.error);
  const name = job.connection_name;
  return name && !text.includes(name) ? `“${name}”: ${text}` : text;
}

export function JobDetailPanel({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [job, setJob] = useState<Job | null>(null);
  const [logs, setLogs] = useState<JobLog[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [cancelError, setCancelError] = useState<ApiError | null>(null);
  const logRef = useRef<HTMLOListElement>(null);
  const stickToBottom = useRef(true);
  const lng = i18n.language;
  const active = job !== null && (job.status === 'queued' || job.status === 'running');
  const now = useNow(1000, active);

  useEffect(() => {
    let stale = false;
    api.getJob(jobId).then(
      (d) => {
        if (stale) return;
        // A live event may already have brought a newer state.
        setJob((current) => current ?? d.job);
        setLogs((current) => mergeLogs(d.logs, current));
        setError(null);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [jobId]);

  // While the job runs, re-read it now and then: a finishing event sent before the subscription
  // was active must not leave the job shown as running.
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => {
      api.getJob(jobId).then(
        (d) => {
          setJob(d.job);
          setLogs((current) => mergeLogs(d.logs, current));
        },
        () => {},
      );
    }, 2000);
    return () => window.clearInterval(id);
  }, [active, jobId]);

  useJobEvents((event) => {
    if (event.job.id !== jobId) return;
    setJob(event.job);
    const line = event.log;
    if (line) setLogs((current) => mergeLogs(current, [line]));
  });

  // Follow new log lines unless the user scrolled up to read.
  useLayoutEffect(() => {
    const el = logRef.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [logs.length]);

  const duration = job ? elapsedMs(job.started_at, job.finished_at, now) : null;
  const counts = job ? Object.entries(job.counts) : [];
  const countLabel = (k: string) => (i18n.exists(`countNames.${k}`) ? t(`countNames.${k}`) : k.replace(/_/g, ' '));

  return (
    <aside className="detail-panel" data-testid="job-detail" aria-label={t('jobs.detailTitle')} data-job-id={jobId}>
      <div className="detail-header">
        <div className="detail-title">
          <span className="eyebrow">{t('jobs.detailTitle')}</span>
          <h2>{job ? jobKindLabel(i18n, job.kind) : t('common.loading')}</h2>
          {job?.connection_name ? <span className="muted">{job.connection_name}</span> : null}
        </div>
        <CloseButton onClick={onClose} size={18} testId="job-detail-close" />
      </div>

      {error ? <ErrorBox error={error} /> : null}

      {job ? (
        <div className="detail-body">
          <div className="detail-status">
            <StatusBadge status={job.status} />
            {active ? (
              <CancelJobButton
                jobId={jobId}
                onStart={() => setCancelError(null)}
                onCancelled={setJob}
                onError={setCancelError}
                testId="job-cancel"
                label={t('jobs.cancel')}
                busyLabel={t('jobs.cancelling')}
              />
            ) : null}
          </div>
          {cancelError ? <ErrorBox error={cancelError} onDismiss={() => setCancelError(null)} /> : null}

          {job.status === 'running' ? <ProgressBar value={job.progress} label={job.progress_label} /> : null}
          {job.status === 'queued' ? <ProgressBar value={null} label={t('jobs.waiting')} /> : null}

          {job.error ? (
            <div
              className={job.status === 'cancelled' ? 'alert alert-neutral' : 'alert alert-error'}
              role="alert"
              data-code={job.error.code}
            >
              <Icon name={job.status === 'cancelled' ? 'info' : 'alert'} size={20} className="alert-icon" />
              <div className="alert-body">
                <strong className="alert-title">{t('jobs.whatHappened')}</strong>
                <p className="alert-text" data-testid="job-error">
                  {jobErrorText(i18n, job)}
                </p>
                <ErrorDetails details={job.error.details} />
              </div>
            </div>
          ) : job.status === 'succeeded' ? (
            <Notice>{t('jobs.succeededNote')}</Notice>
          ) : null}

          <dl className="facts">
            <div>
              <dt>{t('jobs.created')}</dt>
              <dd>{formatDateTime(job.created_at, lng)}</dd>
            </div>
            <div>
              <dt>{t('jobs.started')}</dt>
              <dd>{job.started_at ? formatDateTime(job.started_at, lng) : '—'}</dd>
            </div>
            <div>
              <dt>{t('jobs.finished')}</dt>
              <dd>{job.finished_at ? formatDateTime(job.finished_at, lng) : '—'}</dd>
            </div>
            <div>
              <dt>{t('jobs.duration')}</dt>
              <dd className="tabular">{duration === null ? '—' : formatDuration(duration, lng)}</dd>
            </div>
          </dl>

          <section className="detail-section">
            <h3>{t('jobs.counts')}</h3>
            {counts.length === 0 ? (
              <p className="muted small">{t('jobs.noCounts')}</p>
            ) : (
              <dl className="counts">
                {counts.map(([k, v]) => (
                  <div key={k} data-testid="job-count" data-name={k}>
                    <dt>{countLabel(k)}</dt>
                    <dd className="tabular">{formatNumber(v, lng)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </section>

          <section className="detail-section detail-log">
            <h3>{t('jobs.log')}</h3>
            {logs.length === 0 ? (
              <p className="muted small">{t('jobs.noLog')}</p>
            ) : (
              <ol
                className="log"
                ref={logRef}
                onScroll={(e) => {
                  const el = e.currentTarget;
                  stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
                }}
              >
                {logs.map((l) => (
                  <li key={l.seq} className={`log-line log-${l.level}`} data-testid="job-log-line" data-level={l.level}>
                    <time className="log-time" dateTime={l.at}>
                      {formatTime(l.at, lng)}
                    </time>
                    <span className={`log-level level-${l.level}`}>
                      {i18n.exists(`logLevels.${l.level}`) ? t(`logLevels.${l.level}`) : l.level}
                    </span>
                    <span className="log-message">{logLineText(i18n, l, job?.kind)}</span>
                  </li>
                ))}
              </ol>
            )}
          </section>
        </div>
      ) : null}
    </aside>
  );
}
