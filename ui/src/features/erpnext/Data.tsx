// A site's synced documents (the shared sync feature): the "Synced documents" tab syncs Purchase
// Orders, Purchase Receipts and Delivery Notes with live progress, shows what is stored (with rewind)
// and browses it; the "Sync history" and "Quarantine" tabs show the site's runs and set-aside records.
import { useRef } from 'react';
import { useTranslation } from 'react-i18next';

import type { Connection } from '../../bindings/Connection';
import { ErrorBox } from '../../components/ErrorBox';
import { Loading } from '../../components/Loading';
import { ConnectionSelect, Quarantine, SummaryTable, SyncHistory, SyncPanel, pickBrowseResource, type SyncLinks, type SyncState } from '../sync';
import { useReveal } from '../../hooks/useReveal';
import { hrefForPath, navigatePath } from '../../router';
import { ErpnextBrowser } from './Browser';

export type ErpnextSyncView = 'data' | 'history' | 'quarantine';

const LINKS: SyncLinks = {
  browse: (resource) => hrefForPath('erpnext', 'data', resource),
  quarantine: (resource) => hrefForPath('erpnext', 'quarantine', resource),
};

export function ErpnextData({
  view,
  resource,
  record = null,
  connections,
  site,
  onSite,
  sync,
}: {
  view: ErpnextSyncView;
  /** The resource named in the route (#/erpnext/data/<resource>, #/erpnext/quarantine/<resource>). */
  resource: string | null;
  /** A document of `resource` to open at once (#/erpnext/data/<resource>/<name>/<site>). */
  record?: string | null;
  connections: Connection[];
  site: Connection;
  onSite: (id: string) => void;
  sync: SyncState;
}) {
  const { t } = useTranslation();
  const { resources, summary, job, now, refreshKey } = sync;
  const browserRef = useRef<HTMLDivElement>(null);
  useReveal(browserRef, resource);
  const browsed = summary ? pickBrowseResource(resources, summary, resource) : null;

  let body;
  if (!resources) {
    body = <Loading />;
  } else if (view === 'history') {
    body = <SyncHistory key={site.id} connection={site} refreshKey={refreshKey} now={now} />;
  } else if (view === 'quarantine') {
    body = (
      <Quarantine
        key={site.id}
        connection={site}
        resources={resources}
        resource={resource}
        refreshKey={refreshKey}
        now={now}
        onResourceChange={(name) => navigatePath('erpnext', 'quarantine', ...(name ? [name] : []))}
      />
    );
  } else {
    body = (
      <>
        <SyncPanel key={site.id} connection={site} resources={resources} job={job} onJob={sync.onJob} />
        {summary ? <SummaryTable connection={site} rows={summary} now={now} links={LINKS} onRewound={sync.reloadSummary} /> : <Loading />}
        {browsed ? (
          <div ref={browserRef}>
            <ErpnextBrowser
              key={`${site.id}:${browsed}`}
              connection={site}
              resources={resources}
              resource={browsed}
              openId={browsed === resource ? record : null}
              storedRecords={summary?.find((s) => s.resource === browsed)?.records ?? null}
              refreshKey={refreshKey}
              onResourceChange={(name) => navigatePath('erpnext', 'data', name)}
            />
          </div>
        ) : null}
      </>
    );
  }

  return (
    <div className="erp-data" data-testid={`erpnext-${view}`} data-site={site.id}>
      <div className="erp-data-head">
        <ConnectionSelect label={t('erpnext.data.site')} connections={connections} value={site.id} onChoose={onSite} testId="erpnext-data-site" />
        <p className="muted small">{t('erpnext.data.intro')}</p>
      </div>
      {sync.error ? <ErrorBox error={sync.error} onDismiss={sync.clearError} /> : null}
      {body}
    </div>
  );
}
