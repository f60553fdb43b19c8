// Settings → Notifications: which events show a desktop notification. Each box saves at once.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { NotificationSettings } from '../../bindings/NotificationSettings';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { toApiError } from '../../errors';
import '../schedules/schedules.css';

const OPTIONS: ReadonlyArray<{ key: keyof NotificationSettings; testId: string; label: string }> = [
  { key: 'job_failed', testId: 'notify-job-failed', label: 'jobFailed' },
  { key: 'key_problem', testId: 'notify-key-problem', label: 'keyProblem' },
  { key: 'daily_summary', testId: 'notify-daily-summary', label: 'dailySummary' },
];

export function NotificationSettingsCard() {
  const { t } = useTranslation();
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    api.getNotificationSettings().then(setSettings, (e) => setError(toApiError(e)));
  }, []);

  const change = async (key: keyof NotificationSettings, value: boolean) => {
    if (!settings) return;
    const previous = settings;
    const next = { ...settings, [key]: value };
    setSettings(next);
    setSaving(true);
    setSaved(false);
    setError(null);
    try {
      setSettings(await api.saveNotificationSettings(next));
      setSaved(true);
    } catch (e) {
      setSettings(previous);
      setError(toApiError(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="card settings-card" data-testid="notification-settings">
      <div className="sch-settings-head">
        <h2>{t('notifications.title')}</h2>
        {saving ? <span className="spinner" aria-hidden="true" /> : null}
        {saved ? (
          <span className="saved" role="status">
            <Icon name="check" size={14} /> {t('notifications.saved')}
          </span>
        ) : null}
      </div>
      <p className="muted">{t('notifications.intro')}</p>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      <div className="sch-notify-list">
        {OPTIONS.map((o) => (
          <label key={o.key} className="sch-check">
            <input
              type="checkbox"
              data-testid={o.testId}
              checked={settings?.[o.key] ?? false}
              disabled={settings === null || saving}
              onChange={(e) => void change(o.key, e.target.checked)}
            />
            <span>
              <span className="strong">{t(`notifications.${o.label}`)}</span>
              <span className="field-hint sch-block">{t(`notifications.${o.label}Hint`)}</span>
            </span>
          </label>
        ))}
      </div>
      <p className="field-hint">{t('notifications.footnote')}</p>
      <AutostartToggle />
    </div>
  );
}

/** "Start BackOffice with the computer": scheduled jobs then run without opening the app by hand. */
function AutostartToggle() {
  const { t } = useTranslation();
  const [on, setOn] = useState<boolean | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    api.getAutostart().then(setOn, (e) => setError(toApiError(e)));
  }, []);
  const change = async (value: boolean) => {
    setError(null);
    try {
      setOn(await api.setAutostart(value));
    } catch (e) {
      setError(toApiError(e));
    }
  };
  return (
    <div className="sch-notify-list">
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      <label className="sch-check">
        <input
          type="checkbox"
          data-testid="autostart-toggle"
          checked={on ?? false}
          disabled={on === null}
          onChange={(e) => void change(e.target.checked)}
        />
        <span>
          <span className="strong">{t('notifications.autostart')}</span>
          <span className="field-hint sch-block">{t('notifications.autostartHint')}</span>
        </span>
      </label>
    </div>
  );
}
