// Add or edit a schedule: what runs (job kind and connection), when (every N minutes, or a cron
// expression read in a time zone), how far back a missed run is made up, and whether it is on.
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { i18n as I18n } from 'i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { Schedule } from '../../bindings/Schedule';
import { Icon } from '../../components/Icon';
import { controlProps, Field, FieldMessage, FormDialog, messageId, useFieldErrors } from '../../components/form';
import { jobKindLabel, toApiError } from '../../errors';
import { hrefFor } from '../../router';
import { ZoneOptions } from '../connections/ZoneOptions';
import {
  connectionRule,
  connectionsForKind,
  describeTiming,
  describeWindow,
  emptyScheduleForm,
  formFromSchedule,
  MAX_MINUTES,
  MAX_NAME,
  SCHEDULABLE_KINDS,
  SERVER_FIELD,
  validateScheduleForm,
  type ScheduleFormValues,
} from './model';

/**
 * An `invalid_input` error from the core names a field and gives an English reason: show the
 * field's label and a reason in the user's language, and keep the core's words as technical detail.
 */
export function translatedServerError(i18n: I18n, err: ApiError): ApiError {
  const field = err.params.field;
  if (err.code !== 'invalid_input' || !field || !i18n.exists(`schedules.serverReasons.${field}`)) return err;
  const original = [err.params.reason ?? err.message, err.details].filter(Boolean).join('\n');
  return {
    ...err,
    params: {
      ...err.params,
      field: i18n.t(`schedules.fieldNames.${field}`),
      reason: i18n.t(`schedules.serverReasons.${field}`),
    },
    details: original || null,
  };
}

export function ScheduleFormDialog({
  schedule,
  connections,
  onClose,
  onSaved,
}: {
  /** Absent when adding. */
  schedule?: Schedule;
  connections: readonly Connection[];
  onClose: () => void;
  onSaved: (s: Schedule) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const ids = useId();
  const [values, setValues] = useState<ScheduleFormValues>(() =>
    schedule ? formFromSchedule(schedule) : emptyScheduleForm(connections),
  );
  const { errors: fieldErrors, setErrors: setFieldErrors, message, clear } = useFieldErrors<keyof ScheduleFormValues>();
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);

  const set = <K extends keyof ScheduleFormValues>(field: K, value: ScheduleFormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    clear(field);
  };

  const kinds = useMemo(() => {
    const list: string[] = [...SCHEDULABLE_KINDS];
    if (schedule && !list.includes(schedule.kind)) list.push(schedule.kind);
    return list;
  }, [schedule]);

  const rule = connectionRule(values.kind);
  const offered = connectionsForKind(values.kind, connections);
  // A connection that no longer matches (or was deleted) stays visible so the user sees what changed.
  const current = values.connectionId && !offered.some((c) => c.id === values.connectionId)
    ? connections.find((c) => c.id === values.connectionId) ?? null
    : null;

  const timezoneOf = (id: string) => connections.find((c) => c.id === id)?.timezone ?? '';

  /** Picking another connection: the time zone follows it unless the user chose one. */
  const chooseConnection = (id: string) => {
    setValues((v) => {
      const followed = v.timezone === '' || v.timezone === timezoneOf(v.connectionId);
      return { ...v, connectionId: id, timezone: followed && timezoneOf(id) ? timezoneOf(id) : v.timezone };
    });
    clear('connectionId');
  };

  const chooseKind = (kind: string) => {
    const still = connectionsForKind(kind, connections);
    const keep = still.some((c) => c.id === values.connectionId);
    const next = keep ? values.connectionId : connectionRule(kind).required ? still[0]?.id ?? '' : '';
    setValues((v) => ({ ...v, kind }));
    chooseConnection(next);
    clear('kind');
  };

  const labels: Record<keyof ScheduleFormValues, string> = {
    name: t('schedules.form.name'),
    kind: t('schedules.form.kind'),
    connectionId: t('schedules.form.connection'),
    mode: t('schedules.form.timing'),
    everyMinutes: t('schedules.form.everyMinutes'),
    cron: t('schedules.form.cron'),
    timezone: t('schedules.form.timezone'),
    catchUpMinutes: t('schedules.form.catchUp'),
    enabled: t('schedules.form.enabled'),
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    const result = validateScheduleForm(values, schedule?.params ?? null);
    if (!result.ok) {
      setFieldErrors(result.errors);
      return;
    }
    setFieldErrors({});
    setSaving(true);
    try {
      const saved = schedule ? await api.updateSchedule(schedule.id, result.input) : await api.addSchedule(result.input);
      onSaved(saved);
    } catch (err) {
      const apiErr = toApiError(err);
      setServerError(translatedServerError(i18n, apiErr));
      const field = apiErr.code === 'invalid_input' ? SERVER_FIELD[apiErr.params.field ?? ''] : undefined;
      if (field) setFieldErrors({ [field]: '' });
    } finally {
      setSaving(false);
    }
  };

  const id = (field: keyof ScheduleFormValues) => `${ids}-${field}`;
  const control = (field: keyof ScheduleFormValues) => controlProps(id(field), fieldErrors[field] !== undefined);
  const fieldBox = (field: keyof ScheduleFormValues) => ({
    id: id(field),
    label: labels[field],
    error: message(field),
    errorTestId: `schedule-error-${field}`,
  });

  // Live preview of the timing, only when it can be read.
  const preview = (() => {
    if (values.mode === 'cron') {
      if (values.cron.trim() === '') return null;
      return describeTiming({ cron: values.cron.trim(), timezone: values.timezone || null, every_minutes: null }, t, lng);
    }
    const n = Number(values.everyMinutes);
    return /^\d+$/.test(values.everyMinutes.trim()) && n >= 1 && n <= MAX_MINUTES
      ? describeTiming({ cron: null, timezone: null, every_minutes: n }, t, lng)
      : null;
  })();
  const windowText = /^\d+$/.test(values.catchUpMinutes.trim()) ? describeWindow(Number(values.catchUpMinutes), t) : null;

  return (
    <FormDialog
      title={schedule ? t('schedules.form.editTitle', { name: schedule.name }) : t('schedules.form.addTitle')}
      testId="schedule-form"
      onClose={onClose}
      onSubmit={submit}
      intro={!schedule ? t('schedules.form.intro') : null}
      serverError={serverError}
      errors={fieldErrors}
      labels={labels}
      saving={saving}
      saveTestId="schedule-save"
    >
      <Field {...fieldBox('name')} hint={t('schedules.form.nameHint')} wide>
        <input
          {...control('name')}
          data-testid="schedule-name"
          type="text"
          value={values.name}
          maxLength={MAX_NAME + 20}
          autoComplete="off"
          onChange={(e) => set('name', e.target.value)}
        />
      </Field>

      <Field {...fieldBox('kind')}>
        <select {...control('kind')} data-testid="schedule-kind" value={values.kind} onChange={(e) => chooseKind(e.target.value)}>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {jobKindLabel(i18n, k)}
            </option>
          ))}
        </select>
      </Field>

      <Field
        {...fieldBox('connectionId')}
        hint={
          fieldErrors.connectionId === undefined && rule.erp && offered.length === 0 ? (
            <>
              {t('schedules.form.noMatching', { erp: t(`erp.${rule.erp}`) })}{' '}
              <a href={hrefFor('connections', 'new')}>{t('schedules.form.addConnection')}</a>
            </>
          ) : rule.required ? undefined : (
            t('schedules.form.connectionNoneHint')
          )
        }
      >
        <select
          {...control('connectionId')}
          data-testid="schedule-connection"
          value={values.connectionId}
          onChange={(e) => chooseConnection(e.target.value)}
        >
          {!rule.required ? <option value="">{t('schedules.form.connectionNone')}</option> : null}
          {rule.required && values.connectionId === '' ? <option value="">{t('schedules.form.connectionPick')}</option> : null}
          {current ? (
            <option value={current.id}>
              {current.name} — {t(`erp.${current.kind}`)}
            </option>
          ) : null}
          {offered.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} — {t(`erp.${c.kind}`)}
            </option>
          ))}
        </select>
      </Field>

      <fieldset className="field-wide sch-fieldset">
        <legend>{labels.mode}</legend>
        <div className="sch-radios" role="radiogroup" aria-label={labels.mode}>
          <label className="sch-radio">
            <input
              type="radio"
              name={`${ids}-mode`}
              value="interval"
              checked={values.mode === 'interval'}
              onChange={() => set('mode', 'interval')}
              data-testid="schedule-mode-interval"
            />
            {t('schedules.form.modeInterval')}
          </label>
          <label className="sch-radio">
            <input
              type="radio"
              name={`${ids}-mode`}
              value="cron"
              checked={values.mode === 'cron'}
              onChange={() => set('mode', 'cron')}
              data-testid="schedule-mode-cron"
            />
            {t('schedules.form.modeCron')}
          </label>
        </div>
        {values.mode === 'interval' ? (
          <div className="form-grid">
            <Field {...fieldBox('everyMinutes')} hint={t('schedules.form.everyHint')}>
              <input
                {...control('everyMinutes')}
                data-testid="schedule-every"
                type="number"
                inputMode="numeric"
                min={1}
                max={MAX_MINUTES}
                step={1}
                value={values.everyMinutes}
                onChange={(e) => set('everyMinutes', e.target.value)}
              />
            </Field>
          </div>
        ) : (
          <div className="form-grid">
            <Field {...fieldBox('cron')} hint={t('schedules.form.cronHint')}>
              <input
                {...control('cron')}
                className="mono"
                data-testid="schedule-cron"
                type="text"
                spellCheck={false}
                autoComplete="off"
                placeholder="0 7 * * 1-5"
                value={values.cron}
                onChange={(e) => set('cron', e.target.value)}
              />
            </Field>
            <Field {...fieldBox('timezone')} hint={t('schedules.form.timezoneHint')}>
              <select
                {...control('timezone')}
                data-testid="schedule-timezone"
                value={values.timezone}
                onChange={(e) => set('timezone', e.target.value)}
              >
                {values.timezone === '' ? <option value="">—</option> : null}
                <ZoneOptions current={values.timezone} />
              </select>
            </Field>
          </div>
        )}
        <FieldMessage id={messageId(id('mode'))} error={message('mode')} errorTestId="schedule-error-mode" />
        {preview ? (
          <p className="sch-preview" data-testid="schedule-preview">
            <Icon name="clock" size={14} />
            {t('schedules.form.preview', { when: preview })}
          </p>
        ) : null}
      </fieldset>

      <Field {...fieldBox('catchUpMinutes')} hint={windowText ? t('schedules.form.catchUpIs', { window: windowText }) : undefined}>
        <input
          {...control('catchUpMinutes')}
          data-testid="schedule-catchup"
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_MINUTES}
          step={1}
          value={values.catchUpMinutes}
          onChange={(e) => set('catchUpMinutes', e.target.value)}
        />
      </Field>
      <div className="field sch-catchup-help">
        <p className="field-hint">{t('schedules.form.catchUpHint')}</p>
      </div>

      <div className="field field-wide">
        <label className="sch-check">
          <input
            type="checkbox"
            data-testid="schedule-enabled"
            checked={values.enabled}
            onChange={(e) => set('enabled', e.target.checked)}
          />
          <span>
            <span className="strong">{labels.enabled}</span>
            <span className="field-hint sch-block">{t('schedules.form.enabledHint')}</span>
          </span>
        </label>
      </div>
    </FormDialog>
  );
}
