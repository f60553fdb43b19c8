// One divergence in a side panel: what was found in plain words, why this confidence, the records
// behind it (linked into the ERP's data browser), the correction as before → after, its history and
// the writes to the ERP, and what can be done now (approve, reject, reopen, comment, assign, apply,
// roll back; for a billing divergence, accept one of its probable explanations).
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { DivergenceDetail } from '../../bindings/DivergenceDetail';
import type { Divergence } from '../../bindings/Divergence';
import type { Job } from '../../bindings/Job';
import type { Operation } from '../../bindings/Operation';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { Explanation } from '../../bindings/Explanation';
import { CloseButton } from '../../components/CloseButton';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { Modal } from '../../components/Modal';
import { toApiError } from '../../errors';
import { useEscape } from '../../hooks/useEscape';
import { hrefForPath } from '../../router';
import { AcceptExplanationDialog } from '../contracts/AcceptExplanation';
import { acceptedNote, explanationText, parseExplanations } from '../contracts/model';
import { isActiveJob, resourceLabel } from '../sync';
import { applyDivergences, divergence } from './api';
import { DecisionDialog } from './DecisionDialog';
import { FixAction, fixOf } from './FixAction';
import {
  localRuleName,
  actorLabel,
  basisLabel,
  describeError,
  eventLabel,
  explain,
  fieldLabel,
  flagOnly,
  formatConfidence,
  operationKindLabel,
  operationStatusLabel,
  type DecisionAction,
} from './model';
import { DivergenceErrorBox, DivergenceStatusBadge, JobProgress, Money, When } from './Parts';

const ERPS: readonly string[] = ['omie', 'contifico', 'erpnext'];

/** The data browser of a resource on its ERP's page, when that page has one. */
export function browserHref(erp: string, resource: string, id?: string, connectionId?: string): string | null {
  const one = id && connectionId ? [id, connectionId] : [];
  if (erp === 'omie' || erp === 'erpnext') return hrefForPath(erp, 'data', resource, ...one);
  if (erp === 'contifico') return hrefForPath('contifico', 'browse', resource, ...one);
  return null;
}

/** Whether `job` (an apply job) is about divergence `id`. */
function jobIsAbout(job: Job | null, id: string): boolean {
  const p = job?.params;
  if (typeof p !== 'object' || p === null) return false;
  const ids = (p as { ids?: unknown }).ids;
  return Array.isArray(ids) && ids.includes(id);
}

/** The actions a status allows (the core refuses the others anyway). */
function actionsFor(d: Divergence): { decisions: DecisionAction[]; apply: boolean; rollback: boolean } {
  const s = d.status;
  const decisions: DecisionAction[] = [];
  if ((s === 'open' || s === 'failed') && !flagOnly(d)) decisions.push('approve');
  if (s === 'open' || s === 'approved' || s === 'failed') decisions.push('reject');
  if (s === 'rejected' || s === 'resolved' || s === 'rolled_back') decisions.push('reopen');
  decisions.push('comment', 'assign');
  return { decisions, apply: s === 'approved' && !flagOnly(d), rollback: s === 'applied' };
}

/** Statuses in which a billing divergence can be closed by accepting an explanation. */
const EXPLAINABLE = ['open', 'approved', 'failed'];

/**
 * A billing divergence (rule "billing vs contract"): its probable explanations, each of which
 * closes it when accepted with a reason, and a link to the month in Contracts and billing.
 */
function BillingExplanations({ d, onAccept }: { d: Divergence; onAccept: (e: Explanation) => void }) {
  const { t, i18n } = useTranslation();
  const explanations = parseExplanations(d.facts.explanations);
  const month = d.facts.month ?? '';
  const client = d.facts.client_key ?? '';
  const decidable = EXPLAINABLE.includes(d.status);
  return (
    <section className="detail-section">
      <h3>{t('divergences.detail.explanations')}</h3>
      {explanations.length === 0 ? (
        <p className="muted small" data-testid="divergence-no-explanation">
          {t('divergences.detail.noExplanations')}
        </p>
      ) : (
        <ul className="div-evidence" data-testid="divergence-explanations">
          {explanations.map((e, i) => (
            <li key={`${e.key}-${i}`} data-testid="divergence-probable-explanation" data-key={e.key}>
              <span>{explanationText(i18n, e, d.currency)}</span>
              {decidable ? (
                <div className="div-actions">
                  <button type="button" className="btn btn-small" onClick={() => onAccept(e)} data-testid="accept-explanation">
                    <Icon name="check" size={14} />
                    {t('divergences.detail.acceptExplanation')}
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {/^\d{4}-\d{2}$/.test(month) ? (
        <a
          className="link-quiet small"
          href={client ? hrefForPath('contracts', 'reconciliation', month, client) : hrefForPath('contracts', 'reconciliation', month)}
          data-testid="divergence-open-billing"
        >
          {t('divergences.detail.openBilling')}
          <Icon name="chevron" size={12} />
        </a>
      ) : null}
    </section>
  );
}

function OperationItem({ op }: { op: Operation }) {
  const { t, i18n } = useTranslation();
  const err = op.error ? describeError(i18n, op.error) : null;
  const tone = op.status === 'committed' ? 'succeeded' : op.status === 'failed' || op.status === 'refused' ? 'failed' : 'running';
  return (
    <li className="div-op" data-testid="divergence-operation" data-kind={op.kind} data-status={op.status}>
      <div className="div-op-head">
        <span className="strong">{operationKindLabel(i18n, op.kind)}</span>
        <span className={`badge badge-status badge-${tone}`}>{operationStatusLabel(i18n, op.status)}</span>
        <When at={op.finished_at ?? op.created_at} withTime />
      </div>
      <div className="div-diff small">
        <span className="muted">{fieldLabel(i18n, op.field)}:</span> <span className="div-before mono">{op.before ?? '—'}</span>
        <Icon name="transfer" size={12} />
        <span className="div-after mono">{op.after ?? '—'}</span>
      </div>
      <div className="muted small">{t('divergences.detail.byOn', { who: actorLabel(i18n, op.who), machine: op.machine })}</div>
      {err ? (
        <p className="div-op-error small" data-testid="divergence-operation-error">
          {err.text}
        </p>
      ) : null}
    </li>
  );
}

export function DivergenceDetailPanel({
  id,
  refreshKey,
  applyJob,
  onClose,
  onChanged,
  onJob,
}: {
  id: string;
  /** Changes when a job ended or a decision was taken elsewhere: the panel reads its divergence again. */
  refreshKey: number;
  /** The latest apply/rollback job (its progress shows here when it is about this divergence). */
  applyJob: Job | null;
  onClose: () => void;
  /** Something changed this divergence: the lists are read again. */
  onChanged: () => void;
  onJob: (job: Job) => void;
}) {
  const { t, i18n } = useTranslation();
  const [detail, setDetail] = useState<DivergenceDetail | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [dialog, setDialog] = useState<DecisionAction | null>(null);
  const [accepting, setAccepting] = useState<Explanation | null>(null);
  const [confirm, setConfirm] = useState<'apply' | 'rollback' | null>(null);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<ApiError | null>(null);
  useEscape(() => {
    if (!dialog && !confirm && !accepting) onClose();
  });

  const load = useCallback(async () => {
    try {
      const d = await divergence(id);
      setDetail(d);
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  const start = async (rollback: boolean) => {
    setStarting(true);
    setStartError(null);
    try {
      const job = await applyDivergences({ ids: [id], rollback });
      setConfirm(null);
      if (job) onJob(job);
    } catch (e) {
      setStartError(toApiError(e));
    } finally {
      setStarting(false);
    }
  };

  const d = detail?.divergence ?? null;
  const mine = jobIsAbout(applyJob, id) ? applyJob : null;
  const running = isActiveJob(mine);
  const acts = d ? actionsFor(d) : null;

  return (
    <aside className="detail-panel div-detail" data-testid="divergence-detail" data-id={id} data-status={d?.status ?? ''} aria-label={d?.record_label ?? t('divergences.detail.title')}>
      <div className="detail-header">
        <div className="detail-title">
          <span className="eyebrow truncate">{d ? localRuleName(i18n, d.rule_id, d.rule_name) : t('divergences.detail.title')}</span>
          <h2 className="truncate" title={d?.record_label}>
            {d ? d.record_label || d.record_id : t('divergences.detail.title')}
          </h2>
        </div>
        <CloseButton onClick={onClose} size={18} testId="divergence-detail-close" />
      </div>
      <div className="detail-body">
        {error ? <DivergenceErrorBox error={error} onDismiss={() => setError(null)} /> : null}
        {!d && !error ? <Loading /> : null}
        {d && acts ? (
          <>
            <div className="detail-status">
              <DivergenceStatusBadge status={d.status} />
              <span className="div-detail-amount">
                <Money value={d.amount} currency={d.currency} className="strong" />
              </span>
            </div>

            <section className="detail-section">
              <h3>{t('divergences.detail.what')}</h3>
              <p className="div-explanation" data-testid="divergence-explanation">
                {explain(i18n, d)}
              </p>
              {d.kind === 'classification' && d.facts.description ? (
                <p className="muted small div-quote">
                  {t('divergences.detail.description')}: “{d.facts.description}”
                </p>
              ) : null}
            </section>

            {d.kind === 'billing_contract' ? <BillingExplanations d={d} onAccept={setAccepting} /> : null}

            <section className="detail-section">
              <h3>{t('divergences.detail.confidence')}</h3>
              <p data-testid="divergence-confidence">
                {t('divergences.detail.confidenceWhy', {
                  confidence: formatConfidence(d.confidence, i18n.language),
                  basis: basisLabel(i18n, d.basis),
                })}
              </p>
            </section>

            {d.correction ? (
              <section className="detail-section">
                <h3>{t('divergences.detail.correction')}</h3>
                <div className="div-diff div-diff-large" data-testid="divergence-correction">
                  <span className="muted">{fieldLabel(i18n, d.correction.field)}:</span>
                  <del className="div-before mono" aria-label={t('divergences.detail.before')}>
                    {d.correction.before || t('divergences.explain.noCategory')}
                  </del>
                  <Icon name="transfer" size={14} />
                  <ins className="div-after mono" aria-label={t('divergences.detail.after')}>
                    {d.correction.after}
                  </ins>
                </div>
                {d.correction.field === 'categoria_local' ? (
                  <p className="muted small" data-testid="divergence-local-correction">
                    {t('divergences.detail.localCorrection')}
                  </p>
                ) : null}
              </section>
            ) : d.facts.fix ? null : (
              <p className="muted small" data-testid="divergence-flag-only">
                {t('divergences.detail.flagOnly')}
              </p>
            )}

            <FixAction d={d} onChecked={onJob} />

            <section className="detail-section">
              <h3>{t('divergences.detail.actions')}</h3>
              <JobProgress job={mine} testId="divergence-job" />
              <div className="div-actions">
                {acts.decisions.includes('approve') ? (
                  <button type="button" className="btn btn-small btn-primary" onClick={() => setDialog('approve')} data-testid="detail-approve">
                    <Icon name="check" size={14} />
                    {t('divergences.actions.approve')}
                  </button>
                ) : null}
                {acts.apply ? (
                  <button type="button" className="btn btn-small btn-primary" onClick={() => setConfirm('apply')} disabled={running} data-testid="detail-apply">
                    <Icon name="play" size={14} />
                    {t('divergences.actions.apply')}
                  </button>
                ) : null}
                {acts.decisions.includes('reject') ? (
                  <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setDialog('reject')} data-testid="detail-reject">
                    <Icon name="close" size={14} />
                    {t('divergences.actions.reject')}
                  </button>
                ) : null}
                {acts.decisions.includes('reopen') ? (
                  <button type="button" className="btn btn-small" onClick={() => setDialog('reopen')} data-testid="detail-reopen">
                    <Icon name="refresh" size={14} />
                    {t('divergences.actions.reopen')}
                  </button>
                ) : null}
                {acts.rollback ? (
                  <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setConfirm('rollback')} disabled={running} data-testid="detail-rollback">
                    <Icon name="refresh" size={14} />
                    {t('divergences.actions.rollback')}
                  </button>
                ) : null}
                <button type="button" className="btn btn-small" onClick={() => setDialog('comment')} data-testid="detail-comment">
                  <Icon name="edit" size={14} />
                  {t('divergences.actions.comment')}
                </button>
                <button type="button" className="btn btn-small" onClick={() => setDialog('assign')} data-testid="detail-assign">
                  <Icon name="edit" size={14} />
                  {t('divergences.actions.assign')}
                </button>
              </div>
              {flagOnly(d) && !fixOf(d) && (d.status === 'open' || d.status === 'failed') ? (
                <p className="muted small">{t('divergences.detail.flagOnlyHint')}</p>
              ) : null}
              {startError ? <DivergenceErrorBox error={startError} onDismiss={() => setStartError(null)} testId="divergence-start-error" /> : null}
            </section>

            <section className="detail-section">
              <h3>{t('divergences.detail.evidence')}</h3>
              <ul className="div-evidence" data-testid="divergence-evidence">
                {d.evidence.map((e) => {
                  const href = browserHref(d.erp, e.resource, e.id, e.connection_id);
                  const what = ERPS.includes(d.erp) ? resourceLabel(i18n, d.erp as ConnectionKind, e.resource) : e.resource;
                  return (
                    <li key={`${e.resource}/${e.id}`} data-testid="divergence-evidence-item">
                      <span className="strong">{e.label || e.id}</span>
                      <span className="muted small">
                        {what} · <span className="mono selectable">{e.id}</span>
                      </span>
                      {href ? (
                        <a className="link-quiet small" href={href} onClick={onClose}>
                          {t('divergences.detail.openBrowser')}
                          <Icon name="chevron" size={12} />
                        </a>
                      ) : null}
                    </li>
                  );
                })}
              </ul>
            </section>

            <section className="detail-section">
              <h3>{t('divergences.detail.facts')}</h3>
              <dl className="facts">
                <div>
                  <dt>{t('divergences.detail.connection')}</dt>
                  <dd>{d.connection_name ?? t('divergences.inbox.connectionGone')}</dd>
                </div>
                <div>
                  <dt>{t('divergences.detail.assignee')}</dt>
                  <dd>{d.assignee ?? '—'}</dd>
                </div>
                <div>
                  <dt>{t('divergences.detail.firstSeen')}</dt>
                  <dd>
                    <When at={d.first_seen_at} withTime />
                  </dd>
                </div>
                <div>
                  <dt>{t('divergences.detail.lastSeen')}</dt>
                  <dd>
                    <When at={d.last_seen_at} withTime />
                  </dd>
                </div>
                <div>
                  <dt>{t('divergences.detail.ruleVersion')}</dt>
                  <dd>{t('divergences.rules.versionN', { version: d.rule_version })}</dd>
                </div>
                {d.resolved_at ? (
                  <div>
                    <dt>{t('divergences.detail.resolvedAt')}</dt>
                    <dd>
                      <When at={d.resolved_at} withTime />
                    </dd>
                  </div>
                ) : null}
              </dl>
            </section>

            <section className="detail-section">
              <h3>{t('divergences.detail.history')}</h3>
              <ol className="div-history" data-testid="divergence-history">
                {(detail?.events ?? []).map((ev, i) => {
                  const op = ev.operation_id ? detail?.operations.find((o) => o.id === ev.operation_id) : undefined;
                  const note =
                    ev.action === 'resolved' && /no longer holds/i.test(ev.note)
                      ? t('divergences.events.resolvedNote')
                      : ev.action === 'explanation_accepted'
                        ? acceptedNote(i18n, ev.note)
                        : op?.error
                          ? describeError(i18n, op.error).text
                          : ev.note;
                  return (
                    <li key={`${ev.at}-${i}`} data-testid="divergence-event" data-action={ev.action}>
                      <div className="div-event-head">
                        <span className="strong">{eventLabel(i18n, ev.action)}</span>
                        <When at={ev.at} withTime />
                      </div>
                      <div className="muted small">{t('divergences.detail.byOn', { who: actorLabel(i18n, ev.who), machine: ev.machine })}</div>
                      {note ? <p className="div-note">{note}</p> : null}
                    </li>
                  );
                })}
              </ol>
            </section>

            {detail && detail.operations.length > 0 ? (
              <section className="detail-section">
                <h3>{t('divergences.detail.operations')}</h3>
                <ul className="div-ops" data-testid="divergence-operations">
                  {detail.operations.map((op) => (
                    <OperationItem key={op.id} op={op} />
                  ))}
                </ul>
              </section>
            ) : null}
          </>
        ) : null}
      </div>

      {dialog && d ? (
        <DecisionDialog
          action={dialog}
          targets={[{ id: d.id, label: d.record_label || d.record_id }]}
          onClose={() => setDialog(null)}
          onDone={(r) => {
            // The page reads the lists again, and this panel with them (refreshKey).
            if (r.changed.length > 0) onChanged();
          }}
        />
      ) : null}

      {accepting && d ? (
        <AcceptExplanationDialog
          divergenceId={d.id}
          explanation={accepting}
          currency={d.currency}
          client={d.facts.client ?? d.record_label}
          month={d.facts.month ?? ''}
          onClose={() => setAccepting(null)}
          onDone={() => {
            setAccepting(null);
            onChanged();
          }}
        />
      ) : null}

      {confirm && d ? (
        <Modal
          title={t(confirm === 'rollback' ? 'divergences.rollback.title' : 'divergences.applyOne.title')}
          onClose={() => setConfirm(null)}
          testId="divergence-confirm"
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirm(null)} data-autofocus>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                className={confirm === 'rollback' ? 'btn btn-danger' : 'btn btn-primary'}
                onClick={() => void start(confirm === 'rollback')}
                disabled={starting}
                data-testid="divergence-confirm-accept"
              >
                {starting ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name={confirm === 'rollback' ? 'refresh' : 'play'} size={16} />}
                {t(confirm === 'rollback' ? 'divergences.rollback.confirm' : 'divergences.applyOne.confirm')}
              </button>
            </>
          }
        >
          <p>
            {t(confirm === 'rollback' ? 'divergences.rollback.body' : 'divergences.applyOne.body', {
              record: d.record_label || d.record_id,
              field: d.correction ? fieldLabel(i18n, d.correction.field) : '',
              before: d.correction?.before ?? '',
              after: d.correction?.after ?? '',
            })}
          </p>
          {startError ? <DivergenceErrorBox error={startError} onDismiss={() => setStartError(null)} /> : null}
        </Modal>
      ) : null}
    </aside>
  );
}
