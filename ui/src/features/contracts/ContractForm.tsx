// A contract typed in: checked here first (required fields, amounts and dates in the user's
// language), then by the core, whose refusals (an unknown client, a contract already there) show in
// the form's error summary in the user's language.
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Contract } from '../../bindings/Contract';
import { controlProps, DateField, Field, FormDialog, useFieldErrors } from '../../components/form';
import { toApiError } from '../../errors';
import { formatAmount } from '../divergences/model';
import { saveContract } from './api';
import {
  checkContract,
  CONTRACT_SERVER_FIELD,
  CONTRACT_STATUSES,
  contractStatusLabel,
  contractValues,
  describeContractError,
  MAX_REASON,
  monthName,
  type ContractField,
  type ContractValues,
} from './model';

export function ContractFormDialog({
  contract,
  connectionId,
  companyName,
  currency,
  onClose,
  onSaved,
}: {
  /** null: a new contract. */
  contract: Contract | null;
  /** The company of a new contract (null: the only one there is). */
  connectionId: string | null;
  companyName: string | null;
  /** The company's currency, shown read-only. */
  currency: string;
  onClose: () => void;
  onSaved: (c: Contract) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const ids = useId();
  const [values, setValues] = useState<ContractValues>(() => contractValues(contract, lng));
  const { errors, setErrors, message, clear } = useFieldErrors<ContractField>();
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const editing = contract !== null;

  const labels: Record<ContractField, string> = {
    client: t('contracts.form.client'),
    description: t('contracts.form.description'),
    mrr: t('contracts.form.mrr'),
    start: t('contracts.form.start'),
    end: t('contracts.form.end'),
    billingDay: t('contracts.form.billingDay'),
    status: t('contracts.form.status'),
    readjustIndex: t('contracts.form.readjustIndex'),
    readjustMonth: t('contracts.form.readjustMonth'),
    readjustPercent: t('contracts.form.readjustPercent'),
    toleranceAmount: t('contracts.form.toleranceAmount'),
    tolerancePercent: t('contracts.form.tolerancePercent'),
    notes: t('contracts.form.notes'),
    reason: t('contracts.form.reason'),
  };

  const set = <K extends ContractField>(field: K, value: ContractValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    clear(field);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    const checked = checkContract(values, lng, {
      id: contract?.id ?? null,
      connectionId: contract?.connection_id ?? connectionId,
    });
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      onSaved(await saveContract(checked.input));
    } catch (err) {
      const apiErr = toApiError(err);
      setServerError(describeContractError(i18n, apiErr).error);
      const field = apiErr.code === 'invalid_input' ? CONTRACT_SERVER_FIELD[apiErr.params.field ?? ''] : undefined;
      if (field) setErrors({ [field]: '' });
    } finally {
      setSaving(false);
    }
  };

  const id = (f: ContractField) => `${ids}-${f}`;
  const control = (f: ContractField) => controlProps(id(f), errors[f] !== undefined);
  const box = (f: ContractField) => ({ id: id(f), label: labels[f], error: message(f) });
  const text = (f: ContractField, testId: string, extra: { inputMode?: 'decimal' | 'numeric'; maxLength?: number; placeholder?: string } = {}) => (
    <input
      {...control(f)}
      type="text"
      value={values[f] as string}
      onChange={(e) => set(f, e.target.value as never)}
      autoComplete="off"
      data-testid={testId}
      {...extra}
    />
  );

  const intro = [companyName && !editing ? t('contracts.form.company', { name: companyName }) : null, t('contracts.form.intro')].filter(Boolean).join(' ');

  return (
    <FormDialog
      title={editing ? t('contracts.form.editTitle', { description: contract.description }) : t('contracts.form.newTitle')}
      testId="contract-form"
      onClose={onClose}
      onSubmit={submit}
      intro={intro}
      serverError={serverError}
      errors={errors}
      labels={labels}
      saving={saving}
      saveTestId="contract-save"
    >
      <Field {...box('client')} hint={t('contracts.form.clientHint')}>
        {text('client', 'contract-client', { maxLength: 80 })}
      </Field>
      <Field {...box('description')}>{text('description', 'contract-description', { maxLength: 220 })}</Field>
      <Field {...box('mrr')}>{text('mrr', 'contract-mrr', { inputMode: 'decimal', placeholder: formatAmount('1234.56', lng, currency) })}</Field>
      <Field id={`${ids}-currency`} label={t('contracts.form.currency')} hint={t('contracts.form.currencyHint')}>
        <input id={`${ids}-currency`} type="text" value={contract?.currency ?? currency} readOnly aria-readonly="true" data-testid="contract-currency" />
      </Field>
      <DateField
        id={id('start')}
        label={labels.start}
        value={values.start}
        onChange={(v) => set('start', v)}
        error={message('start')}
        invalid={errors.start !== undefined}
        data-testid="contract-start"
      />
      <DateField
        id={id('end')}
        label={labels.end}
        value={values.end}
        onChange={(v) => set('end', v)}
        error={message('end')}
        invalid={errors.end !== undefined}
        hint={t('contracts.form.endHint')}
        data-testid="contract-end"
      />
      <Field {...box('billingDay')} hint={t('contracts.form.billingDayHint')}>
        {text('billingDay', 'contract-billing-day', { inputMode: 'numeric', maxLength: 2 })}
      </Field>
      <Field {...box('status')}>
        <select {...control('status')} value={values.status} onChange={(e) => set('status', e.target.value as ContractValues['status'])} data-testid="contract-status-select">
          {CONTRACT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {contractStatusLabel(i18n, s)}
            </option>
          ))}
        </select>
      </Field>
      <Field {...box('readjustIndex')} hint={t('contracts.form.readjustIndexHint')}>
        {text('readjustIndex', 'contract-readjust-index', { maxLength: 40 })}
      </Field>
      <Field {...box('readjustMonth')}>
        <select {...control('readjustMonth')} value={values.readjustMonth} onChange={(e) => set('readjustMonth', e.target.value)} data-testid="contract-readjust-month">
          <option value="">{t('contracts.form.noMonth')}</option>
          {Array.from({ length: 12 }, (_, i) => i + 1).map((n) => (
            <option key={n} value={String(n)}>
              {monthName(n, lng)}
            </option>
          ))}
        </select>
      </Field>
      <Field {...box('readjustPercent')}>{text('readjustPercent', 'contract-readjust-percent', { inputMode: 'decimal', maxLength: 12 })}</Field>
      <Field {...box('toleranceAmount')} hint={t('contracts.form.toleranceHint')}>
        {text('toleranceAmount', 'contract-tolerance-amount', { inputMode: 'decimal', maxLength: 20 })}
      </Field>
      <Field {...box('tolerancePercent')}>{text('tolerancePercent', 'contract-tolerance-percent', { inputMode: 'decimal', maxLength: 12 })}</Field>
      <Field {...box('notes')} wide>
        <textarea {...control('notes')} rows={2} value={values.notes} onChange={(e) => set('notes', e.target.value)} maxLength={2050} data-testid="contract-notes" />
      </Field>
      <Field {...box('reason')} wide hint={t('contracts.form.reasonHint')}>
        <input
          {...control('reason')}
          type="text"
          value={values.reason}
          onChange={(e) => set('reason', e.target.value)}
          maxLength={MAX_REASON + 50}
          aria-required={editing || undefined}
          autoComplete="off"
          data-testid="contract-reason"
        />
      </Field>
    </FormDialog>
  );
}
