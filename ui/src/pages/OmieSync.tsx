// Sync tab: choose what to bring from Omie (empty = everything), since when, full refresh, then
// "Sync now" with live progress and the outcome.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from '../apiOmie';
import type { ApiError } from '../bindings/ApiError';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { SyncOptions } from '../bindings/SyncOptions';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { formatNumber } from '../format';
import { localDateTimeToRfc3339 } from './ContificoUtil';
import { OmieErrorBox } from './OmieAttachmentForms';
import { JobActivity, useOmieJob } from './OmieJob';
import { OMIE_SYNC_KIND, isActiveJob, resourceLabel } from './OmieUtil';

export function OmieSyncTab({ connectionId }: { connectionId: string }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [resources, setResources] = useState<ResourceInfo[] | null>(null);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [since, setSince] = useState('');
  const [fullRefresh, setFullRefresh] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const { job, track } = useOmieJob([OMIE_SYNC_KIND], connectionId);
  const active = isActiveJob(job);
  const sinceInvalid = since.trim() !== '' && localDateTimeToRfc3339(since) === null;

  useEffect(() => {
    let stale = false;
    omie.omieResources().then(
      (r) => {
        if (!stale) setResources(r ?? []);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, []);

  const toggle = (name: string) =>
    setChosen((cur) => {
      const next = new Set(cur);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  const start = async () => {
    if (sinceInvalid || !resources) return;
    setStarting(true);
    setError(null);
    const options: SyncOptions = {
      resources: resources.map((r) => r.name).filter((n) => chosen.has(n)),
      since: localDateTimeToRfc3339(since),
      full_refresh: fullRefresh,
      page_size: null,
      batch_size: null,
    };
    try {
      track(await omie.omieSync(connectionId, options));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="omie-tab" data-testid="omie-sync">
      <section className="card sync-card omie-card" aria-labelledby="omie-sync-title">
        <div className="card-header">
          <div>
            <h2 id="omie-sync-title">{t('omie.sync.title')}</h2>
            <p className="muted small">{t('omie.sync.intro')}</p>
          </div>
        </div>
        <div className="sync-body">
          <fieldset className="sync-resources" disabled={active}>
            <legend>
              <span className="strong">{t('omie.sync.resources')}</span>
              <span className="muted small">
                {chosen.size === 0
                  ? t('omie.sync.allChosen')
                  : t('omie.sync.someChosen', { n: formatNumber(chosen.size, lng), total: formatNumber(resources?.length ?? 0, lng) })}
              </span>
            </legend>
            <p className="field-hint">{t('omie.sync.resourcesHint')}</p>
            <div className="resource-grid">
              {(resources ?? []).map((r) => (
                <label key={r.name} className="check" title={r.name}>
                  <input
                    type="checkbox"
                    checked={chosen.has(r.name)}
                    onChange={() => toggle(r.name)}
                    data-testid={`omie-sync-resource-${r.name}`}
                  />
                  <span>
                    {resourceLabel(i18n, r.name)}
                    {r.supports_incremental ? null : <span className="muted small"> · {t('omie.sync.wholeEachTime')}</span>}
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <div className="sync-options">
            <div className="field">
              <label htmlFor="omie-sync-since">{t('omie.sync.since')}</label>
              <input
                id="omie-sync-since"
                type="datetime-local"
                value={since}
                onChange={(e) => setSince(e.target.value)}
                data-testid="omie-sync-since"
                aria-invalid={sinceInvalid || undefined}
                aria-describedby="omie-sync-since-hint"
                disabled={active}
              />
              <span id="omie-sync-since-hint" className={sinceInvalid ? 'field-error' : 'field-hint'}>
                {sinceInvalid ? t('omie.sync.sinceInvalid') : t('omie.sync.sinceHint')}
              </span>
            </div>
            <label className="check check-block">
              <input
                type="checkbox"
                checked={fullRefresh}
                onChange={(e) => setFullRefresh(e.target.checked)}
                data-testid="omie-sync-full-refresh"
                disabled={active}
              />
              <span>
                <span className="strong">{t('omie.sync.fullRefresh')}</span>
                <span className="field-hint block">{t('omie.sync.fullRefreshHint')}</span>
              </span>
            </label>
            <button
              type="button"
              className="btn btn-primary btn-large"
              onClick={() => void start()}
              disabled={starting || active || sinceInvalid || !resources}
              data-testid="omie-sync-now"
              title={active ? t('omie.sync.alreadyRunning') : undefined}
            >
              {starting ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
              {starting ? t('omie.sync.starting') : t('omie.sync.now')}
            </button>
          </div>
        </div>
        {error ? (
          <div className="sync-footer">
            <OmieErrorBox error={error} testId="omie-sync-error" onDismiss={() => setError(null)} />
          </div>
        ) : null}
        {job ? (
          <div className="sync-footer">
            <JobActivity job={job} testId={active ? 'omie-sync-progress' : 'omie-sync-result'} onCancelled={track} />
          </div>
        ) : null}
      </section>
      <p className="muted small omie-note">{t('omie.sync.rateNote')}</p>
    </div>
  );
}
