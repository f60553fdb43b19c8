// The Billing rules tab: how billing is counted for every contract — which date puts a title in a
// month, which statuses count as billed, the tolerance (amount or percent, whichever is larger)
// and how many closed months the divergence check looks at.
import { useEffect, useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { Notice } from '../../components/Notice';
import { controlProps, ErrorSummary, Field, useFieldErrors } from '../../components/form';
import { toApiError } from '../../errors';
import { billingSettings, saveBillingSettings } from './api';
import { checkSettings, DATE_BASES, describeContractError, settingsValues, type SettingsField, type SettingsValues } from './model';
import { ContractErrorBox } from './Parts';

const SERVER_FIELD: Record<string, SettingsField> = {
  date_basis: 'dateBasis',
  statuses: 'statuses',
  tolerance_amount: 'toleranceAmount',
  tolerance_percent: 'tolerancePercent',
  months_back: 'monthsBack',
};

export function SettingsTab({ onSaved }: { onSaved: () => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const ids = useId();
  const [values, setValues] = useState<SettingsValues | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState('');
  const { errors, setErrors, message, clear } = useFieldErrors<SettingsField>();
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    let gone = false;
    billingSettings().then(
      (s) => {
        if (!gone && s) setValues(settingsValues(s, lng));
      },
      (e) => {
        if (!gone) setLoadError(toApiError(e));
      },
    );
    return () => {
      gone = true;
    };
    // Read once: the form keeps what is typed when the language changes.
  }, []);

  if (loadError) return <ContractErrorBox error={loadError} testId="billing-settings-error" />;
  if (!values) return <Loading />;

  const labels: Record<SettingsField, string> = {
    dateBasis: t('contracts.settings.dateBasis'),
    statuses: t('contracts.settings.statuses'),
    toleranceAmount: t('contracts.settings.toleranceAmount'),
    tolerancePercent: t('contracts.settings.tolerancePercent'),
    monthsBack: t('contracts.settings.monthsBack'),
  };
  const set = <K extends SettingsField>(f: K, v: SettingsValues[K]) => {
    setValues((cur) => (cur ? { ...cur, [f]: v } : cur));
    clear(f);
    setSaved(false);
  };
  const addStatus = () => {
    const s = status.trim().toUpperCase();
    if (s && !values.statuses.includes(s)) set('statuses', [...values.statuses, s]);
    setStatus('');
  };
  const onStatusKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      addStatus();
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    setSaved(false);
    const pending = status.trim().toUpperCase();
    const withPending = pending && !values.statuses.includes(pending) ? { ...values, statuses: [...values.statuses, pending] } : values;
    const checked = checkSettings(withPending, lng);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      const s = await saveBillingSettings(checked.settings);
      setValues(settingsValues(s ?? checked.settings, lng));
      setStatus('');
      setSaved(true);
      onSaved();
    } catch (err) {
      const apiErr = toApiError(err);
      setServerError(describeContractError(i18n, apiErr).error);
      const field = apiErr.code === 'invalid_input' ? SERVER_FIELD[apiErr.params.field ?? ''] : undefined;
      if (field) setErrors({ [field]: '' });
    } finally {
      setSaving(false);
    }
  };

  const id = (f: SettingsField) => `${ids}-${f}`;
  return (
    <section className="card billing-settings" aria-labelledby={`${ids}-title`} data-testid="billing-settings">
      <div className="card-header">
        <h2 id={`${ids}-title`}>{t('contracts.settings.title')}</h2>
      </div>
      <form className="form billing-settings-form" onSubmit={(e) => void submit(e)} noValidate>
        <p className="muted form-intro">{t('contracts.settings.intro')}</p>
        <div className="form-grid">
          <Field id={id('dateBasis')} label={labels.dateBasis} error={message('dateBasis')}>
            <select {...controlProps(id('dateBasis'), errors.dateBasis !== undefined)} value={values.dateBasis} onChange={(e) => set('dateBasis', e.target.value)} data-testid="billing-settings-basis">
              {DATE_BASES.map((b) => (
                <option key={b} value={b}>
                  {t(`contracts.settings.basis.${b}`)}
                </option>
              ))}
            </select>
          </Field>
          <Field id={id('monthsBack')} label={labels.monthsBack} error={message('monthsBack')} hint={t('contracts.settings.monthsHint')}>
            <input
              {...controlProps(id('monthsBack'), errors.monthsBack !== undefined)}
              type="text"
              inputMode="numeric"
              maxLength={2}
              value={values.monthsBack}
              onChange={(e) => set('monthsBack', e.target.value)}
              data-testid="billing-settings-months"
            />
          </Field>
          <Field id={id('toleranceAmount')} label={labels.toleranceAmount} error={message('toleranceAmount')} hint={t('contracts.settings.toleranceHint')}>
            <input
              {...controlProps(id('toleranceAmount'), errors.toleranceAmount !== undefined)}
              type="text"
              inputMode="decimal"
              value={values.toleranceAmount}
              onChange={(e) => set('toleranceAmount', e.target.value)}
              data-testid="billing-settings-tolerance-amount"
            />
          </Field>
          <Field id={id('tolerancePercent')} label={labels.tolerancePercent} error={message('tolerancePercent')}>
            <input
              {...controlProps(id('tolerancePercent'), errors.tolerancePercent !== undefined)}
              type="text"
              inputMode="decimal"
              value={values.tolerancePercent}
              onChange={(e) => set('tolerancePercent', e.target.value)}
              data-testid="billing-settings-tolerance-percent"
            />
          </Field>
          <Field id={id('statuses')} label={labels.statuses} error={message('statuses')} hint={t('contracts.settings.statusesHint')} wide>
            <div className="billing-status-chips" data-testid="billing-settings-statuses">
              {values.statuses.length === 0 ? <span className="muted small">{t('contracts.settings.statusesAll')}</span> : null}
              {values.statuses.map((s) => (
                <span key={s} className="billing-status-chip" data-testid="billing-settings-status" data-status={s}>
                  <span className="mono">{s}</span>
                  <button
                    type="button"
                    className="icon-button"
                    onClick={() => set('statuses', values.statuses.filter((x) => x !== s))}
                    aria-label={t('contracts.settings.removeStatus', { status: s })}
                    data-testid="billing-settings-status-remove"
                  >
                    <Icon name="close" size={12} />
                  </button>
                </span>
              ))}
            </div>
            <div className="billing-status-add">
              <input
                {...controlProps(id('statuses'), errors.statuses !== undefined)}
                type="text"
                value={status}
                onChange={(e) => setStatus(e.target.value)}
                onKeyDown={onStatusKey}
                placeholder={t('contracts.settings.statusPlaceholder')}
                aria-label={labels.statuses}
                maxLength={40}
                autoComplete="off"
                data-testid="billing-settings-status-input"
              />
              <button type="button" className="btn btn-small" onClick={addStatus} disabled={status.trim() === ''} data-testid="billing-settings-status-add">
                <Icon name="plus" size={14} />
                {t('contracts.settings.addStatus')}
              </button>
            </div>
          </Field>
        </div>
        <ErrorSummary serverError={serverError} errors={errors} labels={labels} />
        {saved ? <Notice testId="billing-settings-saved">{t('contracts.settings.saved')}</Notice> : null}
        <div className="billing-settings-footer">
          <button type="submit" className="btn btn-primary" disabled={saving} data-testid="billing-settings-save">
            {saving ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="check" size={16} />}
            {saving ? t('common.saving') : t('contracts.settings.save')}
          </button>
        </div>
      </form>
    </section>
  );
}
