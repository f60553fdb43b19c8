// Dashboard → "Sync all now": starts the sync of every connection at once and says how many began.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import { CloseButton } from '../../components/CloseButton';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { toApiError } from '../../errors';
import { formatNumber } from '../../format';
import { hrefFor, hrefForPath } from '../../router';

/**
 * The button (for the page header) and, once pressed, what happened (for under the header).
 * `connections` is how many connections exist: those that did not start had a sync running already.
 */
export function useSyncAllNow(connections: number, onStarted?: () => void): { button: ReactNode; feedback: ReactNode } {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ started: number; skipped: number } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const run = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const jobs = await api.syncAllNow();
      setResult({ started: jobs.length, skipped: Math.max(0, connections - jobs.length) });
      onStarted?.();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  const button = (
    <>
      <a className="btn" href={hrefForPath('jobs', 'schedules')} data-testid="dashboard-schedules-link">
        <Icon name="clock" size={16} />
        {t('schedules.syncAll.schedulesLink')}
      </a>
      <button type="button" className="btn btn-primary" onClick={() => void run()} disabled={busy} data-testid="sync-all-now">
        {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
        {busy ? t('schedules.syncAll.starting') : t('schedules.syncAll.button')}
      </button>
    </>
  );

  const feedback = (
    <>
      {result ? (
        <div
          className={result.started > 0 ? 'alert alert-success' : 'alert alert-warning'}
          role="status"
          data-testid="sync-all-result"
          data-started={result.started}
        >
          <Icon name={result.started > 0 ? 'check' : 'info'} size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">
              {result.started === 0
                ? t('schedules.syncAll.none')
                : result.started === 1
                  ? t('schedules.syncAll.startedOne')
                  : t('schedules.syncAll.started', { n: formatNumber(result.started, lng) })}{' '}
              <a href={hrefFor('jobs')}>{t('schedules.syncAll.viewJobs')}</a>
            </p>
            {result.skipped > 0 ? (
              <p className="alert-text small" data-testid="sync-all-skipped">
                {t('schedules.syncAll.skipped', { n: formatNumber(result.skipped, lng), total: formatNumber(connections, lng) })}
              </p>
            ) : null}
          </div>
          <CloseButton onClick={() => setResult(null)} />
        </div>
      ) : null}
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
    </>
  );

  return { button, feedback };
}
