import { useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { Connection } from '../bindings/Connection';
import type { ConnectionKind } from '../bindings/ConnectionKind';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { Modal } from '../components/Modal';
import {
  ALL_TIME_ZONES,
  CONNECTION_KINDS,
  emptyForm,
  switchKind,
  TIME_ZONES,
  validateConnectionForm,
  type ConnectionFormValues,
  type FieldErrors,
  type FormMode,
} from '../connectionForm';
import { toApiError } from '../errors';
import { timeZoneOffsetLabel } from '../format';

const KIND_SUFFIX: Record<ConnectionKind, string> = { omie: 'Omie', contifico: 'Contifico', erpnext: 'Erpnext' };

/** Core field names (in invalid_input errors) → form fields. */
const SERVER_FIELD: Record<string, keyof ConnectionFormValues> = {
  name: 'name',
  kind: 'kind',
  base_url: 'baseUrl',
  timezone: 'timezone',
  key: 'key',
  secret: 'secret',
};

function tzLabel(zone: string): string {
  const offset = timeZoneOffsetLabel(zone);
  const name = zone.replace(/_/g, ' ');
  return offset && zone !== 'UTC' ? `${name} (${offset})` : name;
}

export function ConnectionFormDialog({
  mode,
  connection,
  onClose,
  onSaved,
}: {
  mode: FormMode;
  connection?: Connection;
  onClose: () => void;
  onSaved: (c: Connection) => void;
}) {
  const { t } = useTranslation();
  const ids = useId();
  const [values, setValues] = useState<ConnectionFormValues>(() =>
    connection
      ? { name: connection.name, kind: connection.kind, baseUrl: connection.base_url, timezone: connection.timezone, key: '', secret: '' }
      : emptyForm(),
  );
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);

  const set = <K extends keyof ConnectionFormValues>(field: K, value: ConnectionFormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    if (fieldErrors[field] !== undefined) setFieldErrors((e) => ({ ...e, [field]: undefined }));
  };

  const zoneGroups = useMemo(() => {
    const extra = values.timezone && !ALL_TIME_ZONES.includes(values.timezone) ? [values.timezone] : [];
    return { extra };
  }, [values.timezone]);

  const suffix = KIND_SUFFIX[values.kind];
  const labels: Record<keyof ConnectionFormValues, string> = {
    name: t('form.name'),
    kind: t('form.kind'),
    baseUrl: t('form.baseUrl'),
    timezone: t('form.timezone'),
    key: t(`form.key${suffix}`),
    secret: t(`form.secret${suffix}`),
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    const result = validateConnectionForm(values, mode);
    if (!result.ok) {
      setFieldErrors(result.errors);
      return;
    }
    setFieldErrors({});
    setSaving(true);
    try {
      const saved =
        mode === 'edit' && connection
          ? await api.updateConnection(connection.id, result.input)
          : await api.createConnection(result.input);
      onSaved(saved);
    } catch (err) {
      const apiErr = toApiError(err);
      setServerError(apiErr);
      const field = apiErr.code === 'invalid_input' ? SERVER_FIELD[apiErr.params.field ?? ''] : apiErr.code === 'duplicate_name' ? 'name' : undefined;
      if (field) setFieldErrors({ [field]: '' });
    } finally {
      setSaving(false);
    }
  };

  const invalidFields = (Object.keys(fieldErrors) as (keyof ConnectionFormValues)[]).filter((f) => fieldErrors[f]);

  const fieldProps = (field: keyof ConnectionFormValues) => {
    const hasError = fieldErrors[field] !== undefined;
    return {
      id: `${ids}-${field}`,
      'aria-invalid': hasError || undefined,
      'aria-describedby': `${ids}-${field}-hint`,
    };
  };

  // Where the zone comes from: an ERPNext site says its own when the connection is tested.
  const zoneHint = () => {
    if (values.kind !== 'erpnext') return t('form.timezoneHint');
    if (connection && connection.kind === 'erpnext' && values.timezone === connection.timezone) {
      if (connection.timezone_source === 'site') return t('form.timezoneFromSite');
      if (connection.timezone_source === 'computer') return t('form.timezoneAssumed');
    }
    return t('form.timezoneErpnext');
  };

  const errorOrHint = (field: keyof ConnectionFormValues, hint?: string) => {
    const err = fieldErrors[field];
    if (err) {
      return (
        <p className="field-error" id={`${ids}-${field}-hint`}>
          {t(err)}
        </p>
      );
    }
    return hint ? (
      <p className="field-hint" id={`${ids}-${field}-hint`}>
        {hint}
      </p>
    ) : null;
  };

  const editing = mode === 'edit';
  return (
    <Modal
      title={editing && connection ? t('form.editTitle', { name: connection.name }) : t('form.addTitle')}
      onClose={onClose}
      testId="connection-form"
      wide
    >
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        {!editing ? <p className="muted form-intro">{t('form.intro')}</p> : null}

        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${ids}-name`}>{labels.name}</label>
            <input
              {...fieldProps('name')}
              data-testid="conn-name"
              type="text"
              value={values.name}
              maxLength={120}
              autoComplete="off"
              onChange={(e) => set('name', e.target.value)}
            />
            {errorOrHint('name', t('form.nameHint'))}
          </div>

          <div className="field">
            <label htmlFor={`${ids}-kind`}>{labels.kind}</label>
            <select
              {...fieldProps('kind')}
              data-testid="conn-kind"
              value={values.kind}
              disabled={editing}
              onChange={(e) => {
                setValues((v) => switchKind(v, e.target.value as ConnectionKind));
                setFieldErrors({});
              }}
            >
              {CONNECTION_KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`erp.${k}`)}
                </option>
              ))}
            </select>
            {errorOrHint('kind', editing ? t('form.kindLocked') : undefined)}
          </div>

          <div className="field field-wide">
            <label htmlFor={`${ids}-baseUrl`}>{labels.baseUrl}</label>
            <input
              {...fieldProps('baseUrl')}
              data-testid="conn-base-url"
              type="url"
              inputMode="url"
              spellCheck={false}
              autoComplete="off"
              value={values.baseUrl}
              placeholder={values.kind === 'erpnext' ? t('form.baseUrlPlaceholderErpnext') : undefined}
              onChange={(e) => set('baseUrl', e.target.value)}
            />
            {errorOrHint('baseUrl', t('form.baseUrlHint'))}
          </div>

          <div className="field field-wide">
            <label htmlFor={`${ids}-timezone`}>{labels.timezone}</label>
            <select
              {...fieldProps('timezone')}
              data-testid="conn-timezone"
              value={values.timezone}
              onChange={(e) => set('timezone', e.target.value)}
            >
              {zoneGroups.extra.map((z) => (
                <option key={z} value={z}>
                  {tzLabel(z)}
                </option>
              ))}
              {TIME_ZONES.map((g) => (
                <optgroup key={g.group} label={t(`form.${g.group}`)}>
                  {g.zones.map((z) => (
                    <option key={z} value={z}>
                      {tzLabel(z)}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
            {errorOrHint('timezone', zoneHint())}
          </div>

          <fieldset className="field-wide secrets">
            <legend>
              <Icon name="lock" size={14} /> {t('form.secretsHint')}
            </legend>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`${ids}-key`}>{labels.key}</label>
                <input
                  {...fieldProps('key')}
                  data-testid="conn-key"
                  type="password"
                  autoComplete="off"
                  spellCheck={false}
                  value={values.key}
                  onChange={(e) => set('key', e.target.value)}
                />
                {errorOrHint('key', editing ? t('form.keepSecretHint') : undefined)}
              </div>
              <div className="field">
                <label htmlFor={`${ids}-secret`}>{labels.secret}</label>
                <input
                  {...fieldProps('secret')}
                  data-testid="conn-secret"
                  type="password"
                  autoComplete="off"
                  spellCheck={false}
                  value={values.secret}
                  onChange={(e) => set('secret', e.target.value)}
                />
                {errorOrHint('secret', editing ? t('form.keepSecretHint') : undefined)}
              </div>
            </div>
          </fieldset>
        </div>

        {serverError ? (
          <ErrorBox error={serverError} testId="form-error" />
        ) : invalidFields.length > 0 ? (
          <div className="alert alert-error" role="alert" data-testid="form-error" data-code="client_validation">
            <Icon name="alert" size={20} className="alert-icon" />
            <div className="alert-body">
              <p className="alert-text">
                {t('form.fixFields', {
                  list: invalidFields.map((f) => `${labels[f]} — ${t(fieldErrors[f] ?? '')}`).join('; '),
                })}
              </p>
            </div>
          </div>
        ) : null}

        <div className="modal-footer form-footer">
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" data-testid="conn-save" disabled={saving}>
            {saving ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="check" size={16} />}
            {saving ? t('common.saving') : t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
