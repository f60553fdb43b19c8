// "Accept explanation": a billing divergence closed as explained by one of its probable
// explanations. A written reason is required (checked here first, then by the core); the core keeps
// the explanation and the reason in the divergence's history. Used by the reconciliation's detail
// and by the divergence's own detail.
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { Explanation } from '../../bindings/Explanation';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { controlProps, ErrorSummary, Field, useFieldErrors, useSubmit } from '../../components/form';
import { decideDivergences } from '../divergences/api';
import { skippedText } from '../divergences/model';
import { DivergenceErrorBox } from '../divergences/Parts';
import { explanationText, MAX_REASON, monthLabel } from './model';

export function AcceptExplanationDialog({
  divergenceId,
  explanation,
  currency,
  client,
  month,
  onClose,
  onDone,
}: {
  divergenceId: string;
  explanation: Explanation;
  currency: string | null;
  client: string;
  /** YYYY-MM. */
  month: string;
  onClose: () => void;
  /** The divergence was closed with this explanation. */
  onDone: (key: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const [reason, setReason] = useState('');
  const { errors, setErrors, message, clear } = useFieldErrors<'reason'>();
  const submit = useSubmit();
  const [leftAsItWas, setLeftAsItWas] = useState<string | null>(null);
  const fieldId = `${ids}-reason`;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const r = reason.trim();
    if (r === '') {
      setErrors({ reason: 'contracts.accept.reasonRequired' });
      return;
    }
    if (r.length > MAX_REASON) {
      setErrors({ reason: 'contracts.accept.reasonTooLong' });
      return;
    }
    setErrors({});
    setLeftAsItWas(null);
    await submit.run(async () => {
      const result = await decideDivergences({
        ids: [divergenceId],
        action: 'accept_explanation',
        reason: r,
        assignee: null,
        explanation: explanation.key,
      });
      if (result && result.changed.includes(divergenceId)) {
        onDone(explanation.key);
        return;
      }
      const why = result?.skipped?.[divergenceId];
      setLeftAsItWas(skippedText(i18n, typeof why === 'string' ? why : 'no such divergence'));
    });
  };

  return (
    <Modal title={t('contracts.accept.title')} onClose={onClose} testId="accept-explanation-dialog" wide>
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        <p className="muted form-intro">{t('contracts.accept.intro', { client, month: monthLabel(month, i18n.language) })}</p>
        <blockquote className="div-explanation billing-quote" data-testid="accept-explanation-text">
          {explanationText(i18n, explanation, currency)}
        </blockquote>
        <Field id={fieldId} label={t('contracts.accept.reason')} error={message('reason')} errorTestId="accept-error-reason" hint={t('contracts.accept.reasonHint')}>
          <textarea
            {...controlProps(fieldId, errors.reason !== undefined)}
            rows={3}
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
              clear('reason');
            }}
            maxLength={MAX_REASON + 50}
            aria-required="true"
            data-testid="accept-reason"
          />
        </Field>
        {leftAsItWas ? (
          <p className="alert alert-neutral small" role="status" data-testid="accept-not-changed">
            {t('contracts.accept.notChanged', { why: leftAsItWas })}
          </p>
        ) : null}
        {submit.error ? (
          <DivergenceErrorBox error={submit.error} testId="form-error" onDismiss={() => submit.setError(null)} />
        ) : (
          <ErrorSummary serverError={null} errors={errors} labels={{ reason: t('contracts.accept.reason') }} />
        )}
        <div className="modal-footer form-footer">
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={submit.busy} data-testid="accept-explanation-confirm">
            {submit.busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="check" size={16} />}
            {submit.busy ? t('contracts.accept.working') : t('contracts.accept.confirm')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
