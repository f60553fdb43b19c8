// Small pieces shared by the ERPNext views: status badges of runs and steps, links that open a
// document on its site, a timestamp, and a run error explained in plain words.
import type { i18n as I18n } from 'i18next';
import { useTranslation } from 'react-i18next';

import type { DocRef } from '../../bindings/DocRef';
import type { RunError } from '../../bindings/RunError';
import type { RunStatus } from '../../bindings/RunStatus';
import type { StepStatus } from '../../bindings/StepStatus';
import { Icon, type IconName } from '../../components/Icon';
import { formatDateTime, formatRelative } from '../../format';
import { STEP_KEYS, safeHref } from './model';

type Tone = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

const RUN_LOOK: Record<RunStatus, [Tone, IconName]> = {
  pending: ['queued', 'clock'],
  running: ['running', 'refresh'],
  failed: ['failed', 'alert'],
  succeeded: ['succeeded', 'check'],
  cancelled: ['cancelled', 'stop'],
  compensating: ['running', 'refresh'],
  compensated: ['cancelled', 'check'],
  compensation_failed: ['failed', 'alert'],
};

const STEP_LOOK: Record<StepStatus, [Tone, IconName]> = {
  pending: ['queued', 'clock'],
  running: ['running', 'refresh'],
  done: ['succeeded', 'check'],
  failed: ['failed', 'alert'],
  compensated: ['cancelled', 'stop'],
};

function Badge({ tone, icon, text, status }: { tone: Tone; icon: IconName; text: string; status: string }) {
  return (
    <span className={`badge badge-status badge-${tone}`} data-status={status}>
      <Icon name={icon} size={13} className={tone === 'running' ? 'spin' : undefined} />
      {text}
    </span>
  );
}

/** A transfer's status with colour, icon and words. */
export function RunStatusBadge({ status }: { status: RunStatus }) {
  const { t } = useTranslation();
  const [tone, icon] = RUN_LOOK[status] ?? ['queued', 'info'];
  return <Badge tone={tone} icon={icon} text={t(`erpnext.runStatus.${status}`)} status={status} />;
}

export function StepStatusBadge({ status }: { status: StepStatus }) {
  const { t } = useTranslation();
  const [tone, icon] = STEP_LOOK[status] ?? ['queued', 'info'];
  return <Badge tone={tone} icon={icon} text={t(`erpnext.stepStatus.${status}`)} status={status} />;
}

/** A document name that opens the document on its ERPNext site in the browser. */
export function DocLink({
  url,
  name,
  doctype,
  cancelled = false,
  testId,
}: {
  url: string | null | undefined;
  name: string;
  doctype: string;
  cancelled?: boolean;
  testId?: string;
}) {
  const { t } = useTranslation();
  const href = safeHref(url);
  const cls = cancelled ? 'erp-doc-link mono erp-doc-cancelled' : 'erp-doc-link mono';
  if (!href) {
    return (
      <span className={cls} data-testid={testId}>
        {name}
      </span>
    );
  }
  return (
    <a
      className={cls}
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      title={t('erpnext.runs.openDocument', { doctype, name })}
      onClick={(e) => e.stopPropagation()}
      data-testid={testId}
    >
      {name}
      <Icon name="chevron" size={11} className="erp-external" />
    </a>
  );
}

/** The documents of a run, one short line each ("PO  PUR-ORD-2026-00001"). */
export function DocList({ docs }: { docs: readonly DocRef[] }) {
  const { t } = useTranslation();
  if (docs.length === 0) return <span className="muted small">{t('erpnext.runs.noDocuments')}</span>;
  return (
    <ul className="erp-doc-list">
      {[...docs]
        .sort((a, b) => a.step - b.step)
        .map((d) => {
          const k = STEP_KEYS[d.step];
          return (
            <li key={`${d.step}:${d.name}`} data-step={d.step}>
              <span className="erp-doc-kind" title={k ? t(`erpnext.steps.${k}`) : d.doctype}>
                {k ? t(`erpnext.stepsShort.${k}`) : d.doctype}
              </span>
              <DocLink url={d.url} name={d.name} doctype={d.doctype} cancelled={d.docstatus === 2} testId="run-doc-link" />
            </li>
          );
        })}
    </ul>
  );
}

/** Date and time in the user's locale, with "5 minutes ago" underneath. */
export function When({ at, now, compact = false }: { at: string | null | undefined; now: number; compact?: boolean }) {
  const { i18n } = useTranslation();
  if (!at) return <span className="muted">—</span>;
  const lng = i18n.language;
  if (compact) {
    return (
      <time dateTime={at} title={formatDateTime(at, lng)} className="tabular">
        {formatRelative(at, lng, now)}
      </time>
    );
  }
  return (
    <span className="when">
      <time dateTime={at} className="tabular">
        {formatDateTime(at, lng)}
      </time>
      <span className="muted small">{formatRelative(at, lng, now)}</span>
    </span>
  );
}

/** The title, in the user's language, of a kind of run error. */
export function errorTitle(i18n: I18n, kind: string): string {
  const k = i18n.exists(`erpnext.errorKinds.${kind}.title`) ? kind : 'other';
  return i18n.t(`erpnext.errorKinds.${k}.title`);
}

/**
 * Why a step (or the run) stopped: a title in the user's language for the kind of problem, the
 * plain explanation and fix BackOffice wrote, and ERPNext's own message.
 */
export function RunErrorBox({ error, title, testId }: { error: RunError; title?: string; testId?: string }) {
  const { t, i18n } = useTranslation();
  const kind = i18n.exists(`erpnext.errorKinds.${error.kind}.title`) ? error.kind : 'other';
  const technical = [
    error.http_status != null ? `HTTP ${error.http_status}` : null,
    error.exc_type ? error.exc_type : null,
    `kind: ${error.kind}`,
    error.at ? `at: ${error.at}` : null,
  ]
    .filter(Boolean)
    .join('\n');
  return (
    <div className="alert alert-error erp-run-error" role="alert" data-testid={testId} data-kind={error.kind}>
      <Icon name="alert" size={20} className="alert-icon" />
      <div className="alert-body">
        {title ? <span className="eyebrow">{title}</span> : null}
        <strong className="alert-title">{t(`erpnext.errorKinds.${kind}.title`)}</strong>
        <p className="alert-text muted small">{t(`erpnext.errorKinds.${kind}.hint`)}</p>
        <dl className="erp-explain">
          <div>
            <dt>{t('erpnext.run.explanation')}</dt>
            <dd data-testid="error-message">{error.message}</dd>
          </div>
          {error.fix ? (
            <div>
              <dt>{t('erpnext.run.fix')}</dt>
              <dd data-testid="error-fix">{error.fix}</dd>
            </div>
          ) : null}
          {error.remote_messages.length > 0 ? (
            <div>
              <dt>{t('erpnext.run.erpnextSaid')}</dt>
              <dd>
                {error.remote_messages.map((m, i) => (
                  <blockquote key={i} className="erp-remote" data-testid="error-remote">
                    {m}
                  </blockquote>
                ))}
              </dd>
            </div>
          ) : null}
        </dl>
        <details className="error-details">
          <summary>{t('erpnext.run.technical')}</summary>
          <pre>{technical}</pre>
        </details>
      </div>
    </div>
  );
}
