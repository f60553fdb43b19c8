// One transfer: the per-step timeline (PO → PR A → DN A → PR B) with each step's document and
// every call made to ERPNext, why it stopped (ERPNext's words and BackOffice's plain explanation
// and fix), the operator's actions with their reasons, and the controls Retry / Cancel /
// Compensate, each asking for a written reason. Reloads when its job reports.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as erp from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { Attempt } from '../../bindings/Attempt';
import type { Job } from '../../bindings/Job';
import type { TransferRunDetail } from '../../bindings/TransferRunDetail';
import type { TransferStep } from '../../bindings/TransferStep';
import { ErrorBox } from '../../components/ErrorBox';
import { controlProps, Field } from '../../components/form';
import { Icon, type IconName } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { Modal } from '../../components/Modal';
import { Notice } from '../../components/Notice';
import { ProgressBar } from '../../components/ProgressBar';
import { toApiError } from '../../errors';
import { formatDateTime, formatDuration, formatNumber, formatTime } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { hrefForPath } from '../../router';
import { blockedReason, isActiveRun, labelOr, stepName, type OperatorKind } from './model';
import { DocLink, RunErrorBox, RunStatusBadge, StepStatusBadge, When, errorTitle } from './Parts';

/** The core's minimum length of a reason. */
export const MIN_REASON = 3;
const POLL_MS = 3000;

const OUTCOME_TONE: Record<string, string> = {
  ok: 'good',
  found: 'good',
  not_found: 'neutral',
  duplicate: 'warn',
  transient: 'warn',
  failed: 'bad',
};

function AttemptRow({ a }: { a: Attempt }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const tone = OUTCOME_TONE[a.outcome] ?? 'neutral';
  return (
    <li className={`erp-attempt erp-attempt-${tone}`} data-testid="run-attempt" data-outcome={a.outcome} data-step={a.step ?? ''}>
      <time className="tabular small muted" dateTime={a.at} title={formatDateTime(a.at, lng)}>
        {formatTime(a.at, lng)}
      </time>
      <span className="erp-attempt-action small">{labelOr(i18n, `erpnext.attemptActions.${a.action}`, a.action)}</span>
      <span className={`erp-outcome erp-outcome-${tone}`}>{labelOr(i18n, `erpnext.attemptOutcomes.${a.outcome}`, a.outcome)}</span>
      <span className="erp-attempt-msg small" title={a.message}>
        {a.message}
      </span>
      <span className="tabular small muted erp-attempt-meta">
        {a.http_status != null ? t('erpnext.run.http', { status: a.http_status }) : ''}
        {a.http_status != null && a.duration_ms != null ? ' · ' : ''}
        {a.duration_ms != null ? (a.duration_ms < 1000 ? `${formatNumber(a.duration_ms, lng, 0)} ms` : formatDuration(a.duration_ms, lng)) : ''}
      </span>
    </li>
  );
}

function AttemptList({ attempts, open }: { attempts: Attempt[]; open: boolean }) {
  const { t } = useTranslation();
  if (attempts.length === 0) return null;
  return (
    <details className="erp-attempts" open={open}>
      <summary className="small">{t('erpnext.run.attempts', { count: attempts.length })}</summary>
      <ol className="erp-attempt-list">
        {attempts.map((a) => (
          <AttemptRow key={a.seq} a={a} />
        ))}
      </ol>
    </details>
  );
}

function docState(t: (k: string) => string, s: TransferStep): string | null {
  if (s.docstatus === 2) return t('erpnext.run.cancelledDoc');
  if (s.docstatus === 1) return t('erpnext.run.submitted');
  if (s.docstatus === 0) return t('erpnext.run.draft');
  return null;
}

function StepItem({ step, attempts, now }: { step: TransferStep; attempts: Attempt[]; now: number }) {
  const { t, i18n } = useTranslation();
  const state = docState(t, step);
  return (
 <li id={`erp-step-${step.step}`} className={`erp-step erp-step-${step.status}`} data-testid="run-step" data-step={step.step} data-status={step.status}>
      <span className="erp-step-dot" aria-hidden="true">
        {step.status === 'done' ? <Icon name="check" size={14} /> : step.status === 'failed' ? <Icon name="alert" size={14} /> : step.step}
      </span>
      <div className="erp-step-body">
        <div className="erp-step-head">
          <div className="erp-step-title">
            <h3>{stepName(i18n, step.step) || step.label}</h3>
            <span className="muted small">
              {t('erpnext.preview.siteLabel', { role: step.site, site: step.site_name })} · {step.doctype}
            </span>
          </div>
          <StepStatusBadge status={step.status} />
        </div>
        <dl className="erp-step-facts">
          <div>
            <dt>{t('erpnext.run.document')}</dt>
            <dd data-testid="run-step-doc">
              {step.doc_name ? (
                <>
                  <DocLink url={step.url} name={step.doc_name} doctype={step.doctype} cancelled={step.docstatus === 2} />
                  {state ? <span className="muted small"> · {state}</span> : null}
                </>
              ) : (
                <span className="muted">{t('erpnext.run.noDocument')}</span>
              )}
            </dd>
          </div>
          {step.started_at || step.finished_at ? (
            <div>
              <dt>{step.finished_at ? t('erpnext.run.finished') : t('erpnext.run.started')}</dt>
              <dd>
                <When at={step.finished_at ?? step.started_at} now={now} compact />
              </dd>
            </div>
          ) : null}
          <div className="erp-step-key">
            <dt>{t('erpnext.run.key')}</dt>
            <dd className="mono small" title={step.idempotency_key}>
              {step.idempotency_key}
            </dd>
          </div>
        </dl>
        {step.status === 'failed' && step.last_error ? (
          <RunErrorBox error={step.last_error} title={t('erpnext.run.stepError')} testId="run-step-error" />
        ) : null}
        <AttemptList attempts={attempts} open={step.status === 'failed' || step.status === 'running'} />
      </div>
    </li>
  );
}

const DIALOG: Record<OperatorKind, { title: string; body: string; confirm: string; icon: IconName; danger: boolean }> = {
  retry: { title: 'erpnext.run.dialog.retryTitle', body: 'erpnext.run.dialog.retryBody', confirm: 'erpnext.run.dialog.confirmRetry', icon: 'refresh', danger: false },
  cancel: { title: 'erpnext.run.dialog.cancelTitle', body: 'erpnext.run.dialog.cancelBody', confirm: 'erpnext.run.dialog.confirmCancel', icon: 'stop', danger: true },
  compensate: {
    title: 'erpnext.run.dialog.compensateTitle',
    body: 'erpnext.run.dialog.compensateBody',
    confirm: 'erpnext.run.dialog.confirmCompensate',
    icon: 'transfer',
    danger: true,
  },
};

/** Asks for the written reason every operator action needs, then does it. */
export function ReasonDialog({
  kind,
  onClose,
  onConfirm,
}: {
  kind: OperatorKind;
  onClose: () => void;
  onConfirm: (reason: string) => Promise<void>;
}) {
  const { t } = useTranslation();
  const id = useId();
  const d = DIALOG[kind];
  const [reason, setReason] = useState('');
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const confirm = async () => {
    const r = reason.trim();
    if (r.length < MIN_REASON) {
      setMissing(true);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm(r);
    } catch (e) {
      setError(toApiError(e));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={t(d.title)}
      onClose={onClose}
      testId="reason-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.close')}
          </button>
          <button
            type="button"
            className={d.danger ? 'btn btn-danger' : 'btn btn-primary'}
            onClick={() => void confirm()}
            disabled={busy}
            aria-disabled={reason.trim().length < MIN_REASON || undefined}
            data-testid="reason-confirm"
          >
            {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name={d.icon} size={16} />}
            {busy ? t('erpnext.run.dialog.working') : t(d.confirm)}
          </button>
        </>
      }
    >
      <p>{t(d.body)}</p>
      <Field
        id={id}
        label={t('erpnext.run.dialog.reason')}
        error={missing ? t('erpnext.run.dialog.reasonRequired') : null}
        errorTestId="reason-error"
        alert
        hint={t('erpnext.run.dialog.reasonHint')}
      >
        <textarea
          {...controlProps(id, missing)}
          className="erp-reason"
          rows={3}
          value={reason}
          onChange={(e) => {
            setReason(e.target.value);
            if (missing && e.target.value.trim().length >= MIN_REASON) setMissing(false);
          }}
          placeholder={t('erpnext.run.dialog.reasonPlaceholder')}
          aria-required="true"
          maxLength={1000}
          data-testid="reason-input"
        />
      </Field>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
    </Modal>
  );
}

const ACTIONS: ReadonlyArray<{ kind: OperatorKind; label: string; hint: string; icon: IconName; testId: string; danger: boolean }> = [
  { kind: 'retry', label: 'erpnext.run.retry', hint: 'erpnext.run.retryHint', icon: 'refresh', testId: 'run-retry', danger: false },
  { kind: 'cancel', label: 'erpnext.run.cancel', hint: 'erpnext.run.cancelHint', icon: 'stop', testId: 'run-cancel', danger: true },
  { kind: 'compensate', label: 'erpnext.run.compensate', hint: 'erpnext.run.compensateHint', icon: 'transfer', testId: 'run-compensate', danger: true },
];

export function ErpnextRunView({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [detail, setDetail] = useState<TransferRunDetail | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [dialog, setDialog] = useState<OperatorKind | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const detailRef = useRef<TransferRunDetail | null>(null);
  detailRef.current = detail;
  const timer = useRef<number | null>(null);
  const seq = useRef(0);
  const active = detail ? isActiveRun(detail.run.status) : false;
  const now = useNow(active ? 2000 : 30_000);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const d = await erp.erpnextRun(id);
      if (mine !== seq.current) return;
      setDetail(d);
      setError(null);
    } catch (e) {
      if (mine === seq.current) setError(toApiError(e));
    }
  }, [id]);

  useEffect(() => {
    setDetail(null);
    setJob(null);
    setNotice(null);
    void load();
  }, [load]);

  useEffect(() => {
    if (!active) return;
    const h = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(h);
  }, [active, load]);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
    },
    [],
  );

  useJobEvents(
    (e) => {
      const j = e.job;
      const d = detailRef.current;
      if (j.kind !== erp.ERPNEXT_WORKFLOW_KIND || !d) return;
      const mine = j.id === d.run.job_id || (d.run.site_a_id !== null && j.connection_id === d.run.site_a_id);
      if (!mine) return;
      if (j.id === d.run.job_id || isActiveRun(d.run.status)) setJob(j);
      if (timer.current !== null) return;
      timer.current = window.setTimeout(() => {
        timer.current = null;
        void load();
      }, 250);
    },
    () => void load(),
  );

  const act = async (kind: OperatorKind, reason: string) => {
    const call = kind === 'retry' ? erp.erpnextRetry : kind === 'cancel' ? erp.erpnextCancel : erp.erpnextCompensate;
    const d = await call(id, reason);
    setDetail(d);
    setDialog(null);
    setNotice(t(`erpnext.run.done.${kind}`));
  };

  const back = (
    <a className="link-quiet small erp-back" href={hrefForPath('erpnext', 'runs')} data-testid="run-back">
      <Icon name="chevron" size={14} className="erp-back-icon" />
      {t('erpnext.run.back')}
    </a>
  );

  if (!detail) {
    return (
      <section className="erp-run" data-testid="erpnext-run" data-id={id}>
        {back}
        {error ? <ErrorBox error={error} title={t('erpnext.run.notFound')} /> : <Loading />}
      </section>
    );
  }

  const { run, steps, attempts, actions } = detail;
  const byStep = (n: number | null) => attempts.filter((a) => a.step === n);
  const general = byStep(null);
  const liveJob = job && (job.status === 'running' || job.status === 'queued') ? job : null;
  const stepsDone = steps.filter((s) => s.status === 'done').length;
  const progress = liveJob?.progress ?? (run.status === 'running' ? stepsDone / 4 : null);
  const lastError =
    run.last_error && (run.status === 'failed' || run.status === 'compensation_failed' || run.status === 'cancelled') ? run.last_error : null;
  // The failed step explains the error in full; the top only says where the transfer stopped.
  const shownAtStep =
    lastError && lastError.step != null && steps.some((s) => s.step === lastError.step && s.status === 'failed' && s.last_error)
      ? lastError.step
      : null;

  return (
    <section className="erp-run" data-testid="erpnext-run" data-id={run.id} data-status={run.status}>
      {back}

      <header className="card erp-run-header">
        <div className="erp-run-title">
          <span className="eyebrow">{t('erpnext.run.eyebrow')}</span>
          <h2 data-testid="run-summary">{run.summary}</h2>
          <span className="muted small">{t('erpnext.run.sites', { a: run.site_a_name, b: run.site_b_name })}</span>
        </div>
        <div className="erp-run-status">
          <RunStatusBadge status={run.status} />
          {run.queued ? <span className="badge erp-queued">{t('erpnext.runs.queued')}</span> : null}
        </div>
        <dl className="erp-run-facts">
          <div>
            <dt>{t('erpnext.run.started')}</dt>
            <dd>
              <When at={run.created_at} now={now} />
            </dd>
          </div>
          <div>
            <dt>{t('erpnext.run.updated')}</dt>
            <dd>
              <When at={run.updated_at} now={now} />
            </dd>
          </div>
          {run.finished_at ? (
            <div>
              <dt>{t('erpnext.run.finished')}</dt>
              <dd>
                <When at={run.finished_at} now={now} />
              </dd>
            </div>
          ) : null}
          <div>
            <dt>{t('erpnext.run.id')}</dt>
            <dd className="mono small selectable">{run.id}</dd>
          </div>
        </dl>
        {active ? (
          <div className="erp-run-progress" data-testid="run-progress" aria-live="polite">
            <ProgressBar
              value={run.status === 'pending' ? null : progress}
              label={
                run.current_step != null
                  ? t('erpnext.runs.stepOf', { n: run.current_step, name: stepName(i18n, run.current_step) })
                  : t('erpnext.run.working')
              }
            />
          </div>
        ) : null}
      </header>

      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {notice ? (
        <Notice testId="run-notice" onDismiss={() => setNotice(null)}>
          {notice}
        </Notice>
      ) : null}

      {lastError && shownAtStep ? (
        <a className="alert alert-error erp-stopped-at" href={`#erp-step-${shownAtStep}`} data-testid="run-last-error" data-kind={lastError.kind}
          onClick={(e) => {
            e.preventDefault();
            document.getElementById(`erp-step-${shownAtStep}`)?.scrollIntoView?.({ behavior: 'smooth', block: 'start' });
          }}
        >
          <Icon name="alert" size={20} className="alert-icon" />
          <span className="alert-body">
            <span className="eyebrow">{t('erpnext.run.stoppedTitle')}</span>
            <strong className="alert-title">{errorTitle(i18n, lastError.kind)}</strong>
            <span className="alert-text small">{t('erpnext.run.stoppedAt', { n: shownAtStep, name: stepName(i18n, shownAtStep) })}</span>
          </span>
        </a>
      ) : lastError ? (
        <RunErrorBox error={lastError} title={t('erpnext.run.stoppedTitle')} testId="run-last-error" />
      ) : null}

      <div className="erp-run-grid">
        <section className="card erp-steps-card" aria-labelledby="erp-steps-title">
          <div className="card-header">
            <div>
              <h2 id="erp-steps-title">{t('erpnext.run.stepsTitle')}</h2>
              <p className="muted small">{t('erpnext.run.stepsHint')}</p>
            </div>
          </div>
          <ol className="erp-timeline">
            {[...steps]
              .sort((a, b) => a.step - b.step)
              .map((s) => (
                <StepItem key={s.step} step={s} attempts={byStep(s.step)} now={now} />
              ))}
          </ol>
          {general.length > 0 ? (
            <div className="erp-general">
              <h3 className="small">{t('erpnext.run.general')}</h3>
              <AttemptList attempts={general} open={false} />
            </div>
          ) : null}
          {attempts.length === 0 ? <p className="muted small erp-pad">{t('erpnext.run.noAttempts')}</p> : null}
        </section>

        <aside className="erp-run-side">
          <section className="card erp-controls" aria-labelledby="erp-controls-title">
            <div className="card-header">
              <h2 id="erp-controls-title">{t('erpnext.run.controlsTitle')}</h2>
            </div>
            <div className="erp-controls-body">
              {ACTIONS.map((a) => {
                const why = blockedReason(a.kind, detail);
                return (
                  <div key={a.kind} className="erp-control">
                    <button
                      type="button"
                      className={a.danger ? 'btn btn-danger-outline' : 'btn btn-primary'}
                      onClick={() => setDialog(a.kind)}
                      disabled={why !== null}
                      title={why ? t(why) : undefined}
                      data-testid={a.testId}
                    >
                      <Icon name={a.icon} size={15} />
                      {t(a.label)}
                    </button>
                    <span className="field-hint">{why ? t(why) : t(a.hint)}</span>
                  </div>
                );
              })}
            </div>
          </section>

          <section className="card erp-actions" aria-labelledby="erp-actions-title" data-testid="run-actions">
            <div className="card-header">
              <div>
                <h2 id="erp-actions-title">{t('erpnext.run.actionsTitle')}</h2>
                <p className="muted small">{t('erpnext.run.actionsHint')}</p>
              </div>
            </div>
            {actions.length === 0 ? (
              <p className="muted small erp-pad">{t('erpnext.run.noActions')}</p>
            ) : (
              <ol className="erp-action-list">
                {[...actions]
                  .sort((a, b) => b.seq - a.seq)
                  .map((a) => (
                    <li key={a.seq} data-testid="run-action" data-action={a.action}>
                      <div className="erp-action-head">
                        <span className="strong">{labelOr(i18n, `erpnext.operatorActions.${a.action}`, a.action)}</span>
                        <time className="muted small tabular" dateTime={a.at}>
                          {formatDateTime(a.at, lng)}
                        </time>
                      </div>
                      <p className="erp-reason-text">{a.reason}</p>
                    </li>
                  ))}
              </ol>
            )}
          </section>
        </aside>
      </div>

      {dialog ? <ReasonDialog kind={dialog} onClose={() => setDialog(null)} onConfirm={(r) => act(dialog, r)} /> : null}
    </section>
  );
}
