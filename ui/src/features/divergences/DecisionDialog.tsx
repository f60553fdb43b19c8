// One decision on one or several divergences (approve, reject, reopen, comment, assign): a written
// reason is required (checked here first, then by the core), and once the core answers the dialog
// says how many changed and which were left as they were, and why.
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { DecisionResult } from '../../bindings/DecisionResult';
import { Icon, type IconName } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { controlProps, ErrorSummary, Field, useFieldErrors, useSubmit } from '../../components/form';
import { decideDivergences } from './api';
import { DivergenceErrorBox } from './Parts';
import { checkDecision, MAX_REASON, plural, skippedText, type DecisionAction, type DecisionValues } from './model';

/** A divergence the decision is about: its id and what the user knows it by. */
export interface DecisionTarget {
  id: string;
  label: string;
  /** Left out before asking the core (e.g. a flag-only divergence in an approval): why. */
  skip?: string | null;
}

const ICONS: Record<DecisionAction, IconName> = {
  approve: 'check',
  reject: 'close',
  reopen: 'refresh',
  assign: 'edit',
  comment: 'edit',
};

export function DecisionDialog({
  action,
  targets,
  onClose,
  onDone,
}: {
  action: DecisionAction;
  targets: readonly DecisionTarget[];
  /** Closes the dialog; `changed` says whether anything was changed (the lists are read again then). */
  onClose: (changed: boolean) => void;
  /** Runs as soon as the core answered (before the result is read). */
  onDone?: (result: DecisionResult) => void;
}) {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const [values, setValues] = useState<DecisionValues>({ reason: '', assignee: '' });
  const { errors, setErrors, message, clear } = useFieldErrors<keyof DecisionValues>();
  const submit = useSubmit();
  const [result, setResult] = useState<DecisionResult | null>(null);

  const sent = targets.filter((x) => !x.skip);
  const n = targets.length;
  const k = `divergences.decision.${action}`;
  const labels: Record<keyof DecisionValues, string> = {
    reason: action === 'comment' ? t('divergences.decision.comment') : t('divergences.decision.reason'),
    assignee: t('divergences.decision.assignee'),
  };

  const set = (field: keyof DecisionValues, value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    clear(field);
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = checkDecision(action, values);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    const skippedHere = Object.fromEntries(targets.filter((x) => x.skip).map((x) => [x.id, x.skip as string]));
    if (sent.length === 0) {
      setResult({ changed: [], skipped: skippedHere });
      return;
    }
    await submit.run(async () => {
      const r = await decideDivergences({
        ids: sent.map((x) => x.id),
        action,
        reason: checked.reason,
        assignee: checked.assignee,
      });
      const full: DecisionResult = { changed: r?.changed ?? [], skipped: { ...skippedHere, ...(r?.skipped ?? {}) } };
      setResult(full);
      onDone?.(full);
    });
  };

  const labelOf = (id: string) => targets.find((x) => x.id === id)?.label ?? id;

  if (result) {
    const skipped = Object.entries(result.skipped).filter((e): e is [string, string] => typeof e[1] === 'string');
    return (
      <Modal
        title={plural(i18n, `${k}.title`, sent.length || n)}
        onClose={() => onClose(result.changed.length > 0)}
        testId="decision-result"
        footer={
          <button type="button" className="btn btn-primary" onClick={() => onClose(result.changed.length > 0)} data-testid="decision-result-close" data-autofocus>
            {t('common.close')}
          </button>
        }
      >
        <p className={result.changed.length > 0 ? 'div-result-changed' : 'div-result-none'} data-testid="decision-changed">
          <Icon name={result.changed.length > 0 ? 'check' : 'info'} size={16} />
          {plural(i18n, 'divergences.decision.changed', result.changed.length)}
        </p>
        {skipped.length > 0 ? (
          <div className="div-skipped" data-testid="decision-skipped">
            <h3>{plural(i18n, 'divergences.decision.skippedTitle', skipped.length)}</h3>
            <ul>
              {skipped.map(([id, why]) => (
                <li key={id} data-testid="decision-skipped-item" data-id={id}>
                  <span className="strong">{labelOf(id)}</span>
                  <span className="muted">{skippedText(i18n, why)}</span>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </Modal>
    );
  }

  const field = action === 'assign' ? 'assignee' : 'reason';
  const fieldId = `${ids}-${field}`;
  const danger = action === 'reject';

  return (
    <Modal title={plural(i18n, `${k}.title`, sent.length || n)} onClose={() => onClose(false)} testId="decision-dialog" wide>
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {sent.length > 0 ? (
          <p className="muted form-intro" data-testid="decision-intro">
            {plural(i18n, `${k}.intro`, sent.length)}
          </p>
        ) : null}
        {targets.length > sent.length ? (
          <p className="small" data-testid="decision-left-out">
            {plural(i18n, 'divergences.decision.leftOut', targets.length - sent.length)}
          </p>
        ) : null}
        {n <= 5 ? (
          <ul className="div-targets">
            {targets.map((x) => (
              <li key={x.id}>{x.label}</li>
            ))}
          </ul>
        ) : null}
        {action === 'assign' ? (
          <Field id={fieldId} label={labels.assignee} error={message('assignee')} errorTestId="decision-error-assignee" hint={t('divergences.decision.assigneeHint')}>
            <input
              {...controlProps(fieldId, errors.assignee !== undefined)}
              type="text"
              value={values.assignee}
              onChange={(e) => set('assignee', e.target.value)}
              maxLength={120}
              autoComplete="off"
              aria-required="true"
              data-testid="decision-assignee"
            />
          </Field>
        ) : (
          <Field
            id={fieldId}
            label={labels.reason}
            error={message('reason')}
            errorTestId="decision-error-reason"
            hint={t(action === 'comment' ? 'divergences.decision.commentHint' : 'divergences.decision.reasonHint')}
          >
            <textarea
              {...controlProps(fieldId, errors.reason !== undefined)}
              rows={3}
              value={values.reason}
              onChange={(e) => set('reason', e.target.value)}
              maxLength={MAX_REASON + 50}
              aria-required="true"
              data-testid="decision-reason"
            />
          </Field>
        )}
        {submit.error ? (
          <DivergenceErrorBox error={submit.error} testId="form-error" onDismiss={() => submit.setError(null)} />
        ) : (
          <ErrorSummary serverError={null} errors={errors} labels={labels} />
        )}
        <div className="modal-footer form-footer">
          <button type="button" className="btn" onClick={() => onClose(false)}>
            {t('common.cancel')}
          </button>
          <button type="submit" className={danger ? 'btn btn-danger' : 'btn btn-primary'} disabled={submit.busy} data-testid="decision-confirm">
            {submit.busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name={ICONS[action]} size={16} />}
            {submit.busy ? t('divergences.decision.working') : plural(i18n, `${k}.confirm`, sent.length)}
          </button>
        </div>
      </form>
    </Modal>
  );
}
