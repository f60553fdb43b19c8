// Settings → E-mail notifications: the SMTP server, the sender and recipients, a write-only password
// (kept in the system keychain by the core), Save, "Send test e-mail" and the last failed delivery.
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { i18n as I18n } from 'i18next';
import { z } from 'zod';

import * as apiEmail from './emailApi';
import type { ApiError } from '../../bindings/ApiError';
import type { EmailSettings } from '../../bindings/EmailSettings';
import type { SmtpSecurity } from '../../bindings/SmtpSecurity';
import { ErrorBox } from '../../components/ErrorBox';
import { collectIssues, controlProps, Field, issueParams, type FieldErrors } from '../../components/form';
import { Icon } from '../../components/Icon';
import { toApiError, translateError } from '../../errors';
import { formatDateTime } from '../../format';

export interface EmailFormValues {
  enabled: boolean;
  host: string;
  port: string;
  security: SmtpSecurity;
  username: string;
  /** Write-only: '' keeps the saved password. */
  password: string;
  from: string;
  /** Recipients, separated by commas or line breaks. */
  to: string;
}

export type EmailField = 'host' | 'port' | 'security' | 'from' | 'to';
/** i18n key (under `email.validation.`) and its values, per field. */
export type EmailFieldErrors = FieldErrors<EmailField, { key: string; values?: Record<string, string> }>;

const SECURITIES: readonly SmtpSecurity[] = ['starttls', 'tls', 'none'];
const SECURITY_LABEL: Record<SmtpSecurity, string> = {
  starttls: 'securityStarttls',
  tls: 'securityTls',
  none: 'securityNone',
};

export function formFromSettings(s: EmailSettings): EmailFormValues {
  return {
    enabled: s.enabled,
    host: s.host,
    port: String(s.port),
    security: s.security,
    username: s.username,
    password: '',
    from: s.from,
    to: s.to.join('\n'),
  };
}

export function splitRecipients(raw: string): string[] {
  return raw
    .split(/[,;\n]/)
    .map((r) => r.trim())
    .filter((r) => r !== '');
}

// `name@domain` or `Name <name@domain>`: what the core's mailbox parser accepts in practice.
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;
function isMailbox(value: string): boolean {
  const v = value.trim();
  const m = /^[^<>]*<\s*([^<>]+?)\s*>$/.exec(v);
  return ADDRESS.test(m ? m[1]! : v);
}

function isLocalHost(host: string): boolean {
  const h = host.trim().replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '127.0.0.1' || h === '::1';
}

const schema = z
  .object({
    enabled: z.boolean(),
    host: z.string().trim(),
    port: z.string().trim(),
    security: z.enum(['starttls', 'tls', 'none']),
    username: z.string().trim(),
    password: z.string(),
    from: z.string().trim(),
    to: z.string(),
  })
  .superRefine((v, ctx) => {
    const issue = (path: EmailField, message: string, params?: Record<string, string>) =>
      ctx.addIssue({ code: 'custom', path: [path], message, params });
    const untouched = v.host === '' && v.from === '' && splitRecipients(v.to).length === 0 && v.username === '';
    if (!v.enabled && untouched) return;
    if (v.host === '') issue('host', 'hostRequired');
    else if (/[\s/]/.test(v.host) || (v.host.includes(':') && !isLocalHost(v.host))) issue('host', 'hostInvalid');
    const port = Number(v.port);
    if (!/^\d+$/.test(v.port) || !Number.isInteger(port) || port < 1 || port > 65535) issue('port', 'portInvalid');
    if (v.security === 'none' && v.host !== '' && !isLocalHost(v.host)) issue('security', 'noneNotLocal');
    if (v.from === '') issue('from', 'fromRequired');
    else if (!isMailbox(v.from)) issue('from', 'fromInvalid');
    const to = splitRecipients(v.to);
    const bad = to.find((r) => !isMailbox(r));
    if (bad !== undefined) issue('to', 'toInvalid', { address: bad });
    else if (v.enabled && to.length === 0) issue('to', 'toRequired');
  });

export type EmailValidation =
  | { ok: true; settings: EmailSettings; password: string | null }
  | { ok: false; errors: EmailFieldErrors };

/** Validates the form and builds what `save_email_settings` expects. */
export function validateEmailForm(values: EmailFormValues): EmailValidation {
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const errors: EmailFieldErrors = collectIssues(parsed.error.issues, {
      message: (issue) => ({ key: issue.message, values: issueParams<Record<string, string>>(issue) }),
    });
    return { ok: false, errors };
  }
  const v = parsed.data;
  return {
    ok: true,
    settings: {
      enabled: v.enabled,
      host: v.host,
      port: Number(v.port),
      security: v.security,
      username: v.username,
      from: v.from,
      to: splitRecipients(v.to),
      password_saved: false,
      last_failure: null,
    },
    password: v.password === '' ? null : v.password,
  };
}

/** An error about the mail server in the user's language (e-mail wording), else the generic one. */
export function emailErrorText(i18n: I18n, err: ApiError, server: string): string {
  const key = `email.errors.${err.code}`;
  if (!i18n.exists(key)) return translateError(i18n, err);
  const p = err.params ?? {};
  // The server's own reply is only in the (English) message when no params came with it.
  if (err.code === 'remote' && p.remote_message === undefined) return err.message;
  return i18n.t(key, {
    server: p.server ?? server,
    remote_message: p.remote_message ?? err.message,
  });
}

const EMPTY: EmailFormValues = {
  enabled: false,
  host: '',
  port: '587',
  security: 'starttls',
  username: '',
  password: '',
  from: '',
  to: '',
};

export function EmailSettingsCard() {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const [settings, setSettings] = useState<EmailSettings | null>(null);
  const [values, setValues] = useState<EmailFormValues>(EMPTY);
  const [errors, setErrors] = useState<EmailFieldErrors>({});
  const [busy, setBusy] = useState<'save' | 'test' | 'remove' | null>(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [testResult, setTestResult] = useState<{ ok: true; to: string } | { ok: false; error: ApiError } | null>(null);

  useEffect(() => {
    apiEmail.emailSettings().then(
      (s) => {
        setSettings(s);
        setValues(formFromSettings(s));
      },
      (e) => setError(toApiError(e)),
    );
  }, []);

  const set = <K extends keyof EmailFormValues>(key: K, value: EmailFormValues[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setSaved(false);
  };

  const server = `${values.host.trim()}:${values.port.trim()}`;

  /** Validates and saves; returns the saved settings, or null when something was wrong. */
  const save = async (password?: string | null): Promise<EmailSettings | null> => {
    setError(null);
    setSaved(false);
    const v = validateEmailForm(values);
    if (!v.ok) {
      setErrors(v.errors);
      return null;
    }
    setErrors({});
    try {
      const s = await apiEmail.saveEmailSettings(v.settings, password === undefined ? v.password : password);
      setSettings(s);
      setValues({ ...formFromSettings(s) });
      setSaved(true);
      return s;
    } catch (e) {
      setError(toApiError(e));
      return null;
    }
  };

  const onSave = async () => {
    setBusy('save');
    setTestResult(null);
    await save();
    setBusy(null);
  };

  const onRemovePassword = async () => {
    setBusy('remove');
    setTestResult(null);
    await save('');
    setBusy(null);
  };

  // Saves what is on screen first, so the test uses exactly that.
  const onTest = async () => {
    setBusy('test');
    setTestResult(null);
    const s = await save();
    if (s) {
      try {
        await apiEmail.sendTestEmail();
        setTestResult({ ok: true, to: s.to.join(', ') });
      } catch (e) {
        setTestResult({ ok: false, error: toApiError(e) });
      }
      // The last-failure line may have changed.
      apiEmail.emailSettings().then(setSettings, () => {});
    }
    setBusy(null);
  };

  /** The Field box of `field`: its id, label and error. */
  const box = (field: EmailField) => {
    const e = errors[field];
    return {
      id: `${ids}-${field}`,
      label: t(`email.${field}`),
      error: e ? t(`email.validation.${e.key}`, e.values ?? {}) : null,
      errorTestId: `email-error-${field}`,
    };
  };
  const control = (field: EmailField) => controlProps(`${ids}-${field}`, errors[field] !== undefined);

  const failure = settings?.last_failure ?? null;
  const disabled = settings === null || busy !== null;

  return (
    <div className="card settings-card" data-testid="email-settings">
      <div className="sch-settings-head">
        <h2>{t('email.title')}</h2>
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        {saved ? (
          <span className="saved" role="status" data-testid="email-saved">
            <Icon name="check" size={14} /> {t('email.saved')}
          </span>
        ) : null}
      </div>
      <p className="muted">{t('email.intro')}</p>
      {error ? <ErrorBox error={error} testId="email-error" onDismiss={() => setError(null)} /> : null}
      {failure ? (
        <div className="alert alert-error" data-testid="email-last-failure">
          <Icon name="alert" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">
              {t('email.lastFailure', {
                at: formatDateTime(failure.at, i18n.language),
                message: emailErrorText(
                  i18n,
                  { code: failure.code, message: failure.message, params: {}, details: null },
                  server,
                ),
              })}
            </p>
          </div>
        </div>
      ) : null}

      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void onSave();
        }}
      >
        <label className="sch-check">
          <input
            type="checkbox"
            data-testid="email-enabled"
            checked={values.enabled}
            disabled={disabled}
            onChange={(e) => set('enabled', e.target.checked)}
          />
          <span className="strong">{t('email.enabled')}</span>
        </label>

        <div className="form-grid">
          <Field {...box('host')} hint={t('email.hostHint')}>
            <input
              {...control('host')}
              data-testid="email-host"
              value={values.host}
              disabled={disabled}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set('host', e.target.value)}
            />
          </Field>
          <Field {...box('port')}>
            <input
              {...control('port')}
              data-testid="email-port"
              inputMode="numeric"
              value={values.port}
              disabled={disabled}
              onChange={(e) => set('port', e.target.value)}
            />
          </Field>
          <Field {...box('security')} hint={t('email.securityHint')} wide>
            <select
              {...control('security')}
              data-testid="email-security"
              value={values.security}
              disabled={disabled}
              onChange={(e) => {
                const security = e.target.value as SmtpSecurity;
                // Follow the usual port unless the user typed another one.
                const usual = values.port === '587' || values.port === '465' || values.port === '25';
                set('security', security);
                if (usual && security !== 'none') set('port', security === 'tls' ? '465' : '587');
              }}
            >
              {SECURITIES.map((s) => (
                <option key={s} value={s}>
                  {t(`email.${SECURITY_LABEL[s]}`)}
                </option>
              ))}
            </select>
          </Field>
          <Field id={`${ids}-username`} label={t('email.username')} hint={t('email.usernameHint')}>
            <input
              id={`${ids}-username`}
              data-testid="email-username"
              value={values.username}
              disabled={disabled}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set('username', e.target.value)}
            />
          </Field>
          <Field
            id={`${ids}-password`}
            label={t('email.password')}
            hint={settings?.password_saved ? t('email.passwordSaved') : t('email.passwordNone')}
            hintTestId="email-password-state"
            after={
              settings?.password_saved ? (
                <button
                  type="button"
                  className="btn btn-small btn-fit"
                  data-testid="email-remove-password"
                  disabled={disabled}
                  onClick={() => void onRemovePassword()}
                >
                  {t('email.removePassword')}
                </button>
              ) : null
            }
          >
            <input
              id={`${ids}-password`}
              data-testid="email-password"
              type="password"
              value={values.password}
              disabled={disabled}
              autoComplete="new-password"
              onChange={(e) => set('password', e.target.value)}
            />
          </Field>
          <Field {...box('from')} hint={t('email.fromHint')} wide>
            <input
              {...control('from')}
              data-testid="email-from"
              value={values.from}
              disabled={disabled}
              spellCheck={false}
              onChange={(e) => set('from', e.target.value)}
            />
          </Field>
          <Field {...box('to')} hint={t('email.toHint')} wide>
            <textarea
              {...control('to')}
              data-testid="email-to"
              rows={3}
              value={values.to}
              disabled={disabled}
              spellCheck={false}
              onChange={(e) => set('to', e.target.value)}
            />
          </Field>
        </div>

        <div className="inline">
          <button type="submit" className="btn btn-primary" data-testid="email-save" disabled={disabled}>
            {t('email.save')}
          </button>
          <button
            type="button"
            className="btn"
            data-testid="email-test"
            disabled={disabled}
            onClick={() => void onTest()}
          >
            {t('email.test')}
          </button>
        </div>
      </form>

      {testResult?.ok ? (
        <div className="alert alert-success" role="status" data-testid="email-test-ok">
          <Icon name="check" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">{t('email.testSent', { to: testResult.to })}</p>
          </div>
        </div>
      ) : null}
      {testResult && !testResult.ok ? (
        <div className="alert alert-error" role="alert" data-testid="email-test-failed" data-code={testResult.error.code}>
          <Icon name="alert" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">{emailErrorText(i18n, testResult.error, server)}</p>
          </div>
        </div>
      ) : null}
    </div>
  );
}
