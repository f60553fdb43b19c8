import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import { useApp } from '../../AppContext';
import type { ApiError } from '../../bindings/ApiError';
import { ErrorBox } from '../../components/ErrorBox';
import { Field } from '../../components/form';
import { Icon } from '../../components/Icon';
import { PageHeader } from '../../components/PageHeader';
import { toApiError } from '../../errors';
import { APP_LOCALES } from '../../format';
import { setLanguage } from '../../i18n';
import { NotificationSettingsCard } from './Notifications';
import { EmailSettingsCard } from './Email';
import { TeamDatabaseCard } from './TeamDatabase';

export function SettingsPage() {
  const { t } = useTranslation();
  const { info, refreshInfo } = useApp();
  // '' = automatic (follow the system).
  const [choice, setChoice] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    api.getSettings().then(
      (s) => setChoice(s.locale ?? ''),
      (e) => {
        setChoice('');
        setError(toApiError(e));
      },
    );
  }, []);

  const change = async (value: string) => {
    const previous = choice;
    setChoice(value);
    setSaving(true);
    setSaved(false);
    setError(null);
    try {
      const s = await api.saveSettings({ locale: value === '' ? null : value });
      let effective = s.locale;
      if (!effective) {
        // Automatic: the core resolves the system language.
        effective = (await api.appInfo()).locale;
      }
      await setLanguage(effective);
      void refreshInfo();
      setSaved(true);
    } catch (e) {
      setChoice(previous);
      setError(toApiError(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="page" data-testid="page-settings">
      <PageHeader title={t('settings.title')} subtitle={t('settings.subtitle')} />
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}

      <div className="card settings-card">
        <h2>{t('settings.language')}</h2>
        <Field id="settings-language" label={t('settings.language')} hint={t('settings.languageHint')} className="settings-field">
          <div className="inline">
            <select
              id="settings-language"
              data-testid="settings-language"
              value={choice ?? ''}
              disabled={choice === null || saving}
              onChange={(e) => void change(e.target.value)}
            >
              <option value="">{t('settings.auto')}</option>
              {APP_LOCALES.map((l) => (
                <option key={l} value={l} lang={l}>
                  {t(`languages.${l}`)}
                </option>
              ))}
            </select>
            {saving ? <span className="spinner" aria-hidden="true" /> : null}
            {saved ? (
              <span className="saved" role="status">
                <Icon name="check" size={14} /> {t('settings.saved')}
              </span>
            ) : null}
          </div>
        </Field>
      </div>

      <NotificationSettingsCard />

      <EmailSettingsCard />

      <TeamDatabaseCard />

      <div className="card settings-card">
        <h2>{t('settings.storage')}</h2>
        <dl className="facts facts-wide">
          <div>
            <dt>{t('settings.dbPath')}</dt>
            <dd className="mono selectable" data-testid="settings-db-path">
              {info?.db_path ?? '—'}
            </dd>
          </div>
          <div>
            <dt>{t('settings.logDir')}</dt>
            <dd className="mono selectable" data-testid="settings-log-dir">
              {info?.log_dir ?? '—'}
            </dd>
          </div>
          <div>
            <dt>{t('settings.keychain')}</dt>
            <dd>
              {info ? (
                info.keychain_ok ? (
                  <span className="badge badge-succeeded">
                    <Icon name="check" size={12} />
                    {t('settings.keychainOk')}
                  </span>
                ) : (
                  <span className="badge badge-failed">
                    <Icon name="lock" size={12} />
                    {t('settings.keychainMissing')}
                  </span>
                )
              ) : (
                '—'
              )}
            </dd>
          </div>
        </dl>
      </div>

      <div className="card settings-card">
        <h2>{t('settings.about')}</h2>
        <dl className="facts facts-wide">
          <div>
            <dt>{t('settings.version')}</dt>
            <dd data-testid="settings-version">{info?.version ?? '—'}</dd>
          </div>
        </dl>
      </div>
    </section>
  );
}
