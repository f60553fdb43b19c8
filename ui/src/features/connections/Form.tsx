import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import { Icon } from '../../components/Icon';
import { controlProps, Field, FormDialog, useFieldErrors } from '../../components/form';
import { toApiError } from '../../errors';
import { CONNECTION_KINDS, emptyForm, switchKind, validateConnectionForm, type ConnectionFormValues, type FormMode } from './model';
import { ZoneOptions } from './ZoneOptions';

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
  const { errors: fieldErrors, setErrors: setFieldErrors, message, clear } = useFieldErrors<keyof ConnectionFormValues>();
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);

  const set = <K extends keyof ConnectionFormValues>(field: K, value: ConnectionFormValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    clear(field);
  };

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

  const control = (field: keyof ConnectionFormValues) => controlProps(`${ids}-${field}`, fieldErrors[field] !== undefined);
  const fieldBox = (field: keyof ConnectionFormValues) => ({ id: `${ids}-${field}`, label: labels[field], error: message(field) });

  // Where the zone comes from: an ERPNext site says its own when the connection is tested.
  const zoneHint = () => {
    if (values.kind !== 'erpnext') return t('form.timezoneHint');
    if (connection && connection.kind === 'erpnext' && values.timezone === connection.timezone) {
      if (connection.timezone_source === 'site') return t('form.timezoneFromSite');
      if (connection.timezone_source === 'computer') return t('form.timezoneAssumed');
    }
    return t('form.timezoneErpnext');
  };

  const editing = mode === 'edit';
  /** The key or the secret: typed hidden; left empty while editing, the saved one is kept. */
  const secretField = (field: 'key' | 'secret', testId: string) => (
    <Field {...fieldBox(field)} hint={editing ? t('form.keepSecretHint') : undefined}>
      <input
        {...control(field)}
        data-testid={testId}
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={values[field]}
        onChange={(e) => set(field, e.target.value)}
      />
    </Field>
  );
  return (
    <FormDialog
      title={editing && connection ? t('form.editTitle', { name: connection.name }) : t('form.addTitle')}
      testId="connection-form"
      onClose={onClose}
      onSubmit={submit}
      intro={!editing ? t('form.intro') : null}
      serverError={serverError}
      errors={fieldErrors}
      labels={labels}
      saving={saving}
      saveTestId="conn-save"
    >
      <Field {...fieldBox('name')} hint={t('form.nameHint')}>
        <input
          {...control('name')}
          data-testid="conn-name"
          type="text"
          value={values.name}
          maxLength={120}
          autoComplete="off"
          onChange={(e) => set('name', e.target.value)}
        />
      </Field>

      <Field {...fieldBox('kind')} hint={editing ? t('form.kindLocked') : undefined}>
        <select
          {...control('kind')}
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
      </Field>

      <Field {...fieldBox('baseUrl')} hint={t('form.baseUrlHint')} wide>
        <input
          {...control('baseUrl')}
          data-testid="conn-base-url"
          type="url"
          inputMode="url"
          spellCheck={false}
          autoComplete="off"
          value={values.baseUrl}
          placeholder={values.kind === 'erpnext' ? t('form.baseUrlPlaceholderErpnext') : undefined}
          onChange={(e) => set('baseUrl', e.target.value)}
        />
      </Field>

      <Field {...fieldBox('timezone')} hint={zoneHint()} wide>
        <select {...control('timezone')} data-testid="conn-timezone" value={values.timezone} onChange={(e) => set('timezone', e.target.value)}>
          <ZoneOptions current={values.timezone} />
        </select>
      </Field>

      <fieldset className="field-wide secrets">
        <legend>
          <Icon name="lock" size={14} /> {t('form.secretsHint')}
        </legend>
        <div className="form-grid">
          {secretField('key', 'conn-key')}
          {secretField('secret', 'conn-secret')}
        </div>
      </fieldset>
    </FormDialog>
  );
}
