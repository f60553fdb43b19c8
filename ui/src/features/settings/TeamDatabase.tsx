// Settings → Team database: where the team's PostgreSQL is (server, port, database, user and a
// write-only password kept in the keychain by the core), "Test connection" saying what it holds,
// "Copy this desk's data there" as a job with a progress bar, and "Work on the team database" (or
// back on this desk's file), which restarts the app on it.
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as apiTeam from './teamApi';
import type { ApiError } from '../../bindings/ApiError';
import type { TeamDbCheck } from '../../bindings/TeamDbCheck';
import type { TeamDbSettings } from '../../bindings/TeamDbSettings';
import { ErrorBox } from '../../components/ErrorBox';
import { Field } from '../../components/form';
import { Icon } from '../../components/Icon';
import { ProgressBar } from '../../components/ProgressBar';
import { toApiError, translateError } from '../../errors';
import { formatDateTime } from '../../format';
import { useFollowedJob } from '../../hooks/useFollowedJob';
import { isActiveJob } from '../sync/util';

export interface TeamFormValues {
  host: string;
  port: string;
  database: string;
  user: string;
  tls: string;
  rootCert: string;
  /** Write-only: '' keeps the saved password. */
  password: string;
}

/** PostgreSQL's sslmode values, safest first. */
export const TLS_MODES = ['verify-full', 'verify-ca', 'require', 'prefer', 'disable'] as const;

export type TeamField = 'host' | 'port' | 'database' | 'user';

/** Field → i18n key under `team.validation.`; empty when the form can be saved. */
export function validateTeamForm(v: TeamFormValues): Partial<Record<TeamField, string>> {
  const errors: Partial<Record<TeamField, string>> = {};
  const host = v.host.trim();
  if (host === '') errors.host = 'hostRequired';
  else if (/[\s/@?]/.test(host)) errors.host = 'hostInvalid';
  const port = Number(v.port.trim());
  if (!/^\d+$/.test(v.port.trim()) || port < 1 || port > 65535) errors.port = 'portInvalid';
  if (v.database.trim() === '') errors.database = 'databaseRequired';
  if (v.user.trim() === '') errors.user = 'userRequired';
  return errors;
}

function formOf(s: TeamDbSettings): TeamFormValues {
  return {
    host: s.host,
    port: String(s.port),
    database: s.database,
    user: s.user,
    tls: s.tls,
    rootCert: s.root_cert,
    password: '',
  };
}

export function TeamDatabaseCard() {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const [settings, setSettings] = useState<TeamDbSettings | null>(null);
  const [values, setValues] = useState<TeamFormValues>({
    host: '',
    port: '5432',
    database: '',
    user: '',
    tls: 'verify-full',
    rootCert: '',
    password: '',
  });
  const [errors, setErrors] = useState<Partial<Record<TeamField, string>>>({});
  const [busy, setBusy] = useState<'save' | 'test' | 'copy' | 'mode' | null>(null);
  const [restarting, setRestarting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [check, setCheck] = useState<TeamDbCheck | null>(null);
  // When the copy ends, say what the team database holds now.
  const [job, setJob] = useFollowedJob((j) => {
    if (!isActiveJob(j)) void apiTeam.checkTeamDatabase().then(setCheck, () => {});
  });

  useEffect(() => {
    apiTeam.teamSettings().then(
      (s) => {
        setSettings(s);
        setValues(formOf(s));
      },
      (e) => setError(toApiError(e)),
    );
  }, []);

  const set = (key: keyof TeamFormValues, value: string) => {
    setValues((v) => ({ ...v, [key]: value }));
    setCheck(null);
  };

  const save = async (): Promise<TeamDbSettings | null> => {
    setError(null);
    const problems = validateTeamForm(values);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return null;
    try {
      const s = await apiTeam.saveTeamSettings(
        {
          host: values.host.trim(),
          port: Number(values.port.trim()),
          database: values.database.trim(),
          user: values.user.trim(),
          tls: values.tls,
          root_cert: values.tls.startsWith('verify') ? values.rootCert.trim() : '',
          password_saved: false,
          work_here: settings?.work_here ?? false,
        },
        values.password === '' ? null : values.password,
      );
      setSettings(s);
      setValues(formOf(s));
      return s;
    } catch (e) {
      setError(toApiError(e));
      return null;
    }
  };

  const onTest = async () => {
    setBusy('test');
    setCheck(null);
    if (await save()) {
      try {
        setCheck(await apiTeam.checkTeamDatabase());
      } catch (e) {
        setError(toApiError(e));
      }
    }
    setBusy(null);
  };

  const onCopy = async () => {
    setBusy('copy');
    setError(null);
    try {
      setJob(await apiTeam.startTeamCopy());
    } catch (e) {
      setError(toApiError(e));
    }
    setBusy(null);
  };

  const onMode = async (on: boolean) => {
    setBusy('mode');
    setError(null);
    try {
      await apiTeam.setTeamMode(on);
      setRestarting(true);
    } catch (e) {
      setError(toApiError(e));
    }
    setBusy(null);
  };

  const box = (field: TeamField) => ({
    id: `${ids}-${field}`,
    label: t(`team.${field}`),
    error: errors[field] ? t(`team.validation.${errors[field]}`) : null,
    errorTestId: `team-error-${field}`,
  });
  const disabled = settings === null || busy !== null || isActiveJob(job) || restarting;
  const canCopy = !settings?.work_here && check !== null && (check.state === 'empty' || check.state === 'copying');
  // Working there needs a team database that answered and holds no unfinished copy.
  const canWorkThere = !settings?.work_here && check !== null && check.state !== 'copying';

  return (
    <div className="card settings-card" data-testid="team-settings">
      <div className="sch-settings-head">
        <h2>{t('team.title')}</h2>
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
      </div>
      <p className="muted">{t('team.intro')}</p>
      <p className="team-mode" data-testid="team-mode" data-on={settings?.work_here ? 'true' : 'false'}>
        <Icon name={settings?.work_here ? 'check' : 'info'} size={14} />{' '}
        {settings?.work_here
          ? t('team.workingThere', { address: `${settings.host}/${settings.database}` })
          : t('team.workingOnDesk')}
      </p>
      {error ? (
        <ErrorBox error={error} testId="team-error" onDismiss={() => setError(null)} />
      ) : null}
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void onTest();
        }}
      >
        <div className="form-grid">
          <Field {...box('host')} hint={t('team.hostHint')}>
            <input
              id={`${ids}-host`}
              data-testid="team-host"
              value={values.host}
              disabled={disabled}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set('host', e.target.value)}
            />
          </Field>
          <Field {...box('port')}>
            <input
              id={`${ids}-port`}
              data-testid="team-port"
              inputMode="numeric"
              value={values.port}
              disabled={disabled}
              onChange={(e) => set('port', e.target.value)}
            />
          </Field>
          <Field {...box('database')}>
            <input
              id={`${ids}-database`}
              data-testid="team-database"
              value={values.database}
              disabled={disabled}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set('database', e.target.value)}
            />
          </Field>
          <Field {...box('user')}>
            <input
              id={`${ids}-user`}
              data-testid="team-user"
              value={values.user}
              disabled={disabled}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => set('user', e.target.value)}
            />
          </Field>
          <Field id={`${ids}-tls`} label={t('team.tls')} hint={t(`team.tlsHint.${values.tls}`)} hintTestId="team-tls-hint">
            <select
              id={`${ids}-tls`}
              data-testid="team-tls"
              value={values.tls}
              disabled={disabled}
              onChange={(e) => set('tls', e.target.value)}
            >
              {TLS_MODES.map((m) => (
                <option key={m} value={m}>
                  {t(`team.tlsMode.${m}`)}
                </option>
              ))}
            </select>
          </Field>
          {values.tls.startsWith('verify') ? (
            <Field id={`${ids}-root-cert`} label={t('team.rootCert')} hint={t('team.rootCertHint')}>
              <input
                id={`${ids}-root-cert`}
                data-testid="team-root-cert"
                value={values.rootCert}
                disabled={disabled}
                autoComplete="off"
                spellCheck={false}
                placeholder="/etc/ssl/certs/…"
                onChange={(e) => set('rootCert', e.target.value)}
              />
            </Field>
          ) : (
            <div />
          )}
          <Field
            id={`${ids}-password`}
            label={t('team.password')}
            hint={settings?.password_saved ? t('team.passwordSaved') : t('team.passwordNone')}
            hintTestId="team-password-state"
            wide
          >
            <input
              id={`${ids}-password`}
              data-testid="team-password"
              type="password"
              value={values.password}
              disabled={disabled}
              autoComplete="new-password"
              onChange={(e) => set('password', e.target.value)}
            />
          </Field>
        </div>
        <div className="inline">
          <button type="submit" className="btn btn-primary" data-testid="team-test" disabled={disabled}>
            {t('team.test')}
          </button>
          {canWorkThere ? (
            <button
              type="button"
              className="btn"
              data-testid="team-work-here"
              title={t('team.workHereHint')}
              disabled={disabled}
              onClick={() => void onMode(true)}
            >
              {t('team.workHere')}
            </button>
          ) : null}
          {settings?.work_here ? (
            <button type="button" className="btn" data-testid="team-work-on-desk" disabled={disabled} onClick={() => void onMode(false)}>
              {t('team.workOnDesk')}
            </button>
          ) : null}
          {canCopy ? (
            <button type="button" className="btn" data-testid="team-copy" disabled={disabled} onClick={() => void onCopy()}>
              {check?.state === 'copying' ? t('team.copyResume') : t('team.copy')}
            </button>
          ) : null}
        </div>
      </form>

      {check ? (
        <div className="alert alert-success" role="status" data-testid="team-check" data-state={check.state}>
          <Icon name="check" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">
              {t(`team.state.${check.state}`, {
                version: check.server_version,
                from: check.copied_from ?? '',
                at: check.copied_at ? formatDateTime(check.copied_at, i18n.language) : '',
              })}
            </p>
          </div>
        </div>
      ) : null}
      {restarting ? (
        <p className="saved" role="status" data-testid="team-restarting">
          <span className="spinner" aria-hidden="true" /> {t('team.restarting')}
        </p>
      ) : null}
      {isActiveJob(job) ? (
        <div data-testid="team-copy-progress" aria-live="polite">
          <ProgressBar value={job?.status === 'queued' ? null : (job?.progress ?? null)} label={job?.progress_label ?? null} />
        </div>
      ) : null}
      {job && job.status === 'succeeded' ? (
        <p className="saved" role="status" data-testid="team-copy-done">
          <Icon name="check" size={14} /> {t('team.copied')}
        </p>
      ) : null}
      {job && (job.status === 'failed' || job.status === 'cancelled') ? (
        <div className="alert alert-error" role="alert" data-testid="team-copy-failed">
          <Icon name="alert" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">
              {job.error ? translateError(i18n, job.error) : t('team.copyStopped')}
            </p>
          </div>
        </div>
      ) : null}
    </div>
  );
}
