// The ERPNext page: a new inter-company transfer (form, preview, start), the list of transfers and
// one transfer's timeline with the operator controls, and the synced documents of each site with
// their sync history and quarantine (the shared sync feature). Sub-routes: #/erpnext (new),
// #/erpnext/runs, #/erpnext/runs/<id>, #/erpnext/data[/<resource>], #/erpnext/history,
// #/erpnext/quarantine[/<resource>].
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { PageHeader } from '../../components/PageHeader';
import { toApiError } from '../../errors';
import { QuarantineCount, SyncingBadge, useSync } from '../sync';
import { hrefFor, hrefForPath } from '../../router';
import { ErpnextData, type ErpnextSyncView } from './Data';
import { SYNC_TABS, TABS, emptyTransferForm, parseErpnextPath, type TransferFormValues } from './model';
import { ErpnextRunView } from './Run';
import { ErpnextRuns } from './Runs';
import { ErpnextTransferForm, type PreviewState } from './TransferForm';
import './erpnext.css';

function Loading() {
  const { t } = useTranslation();
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {t('common.loading')}
    </div>
  );
}

export function ErpnextPage({ path = [] }: { path?: readonly string[] }) {
  const { t } = useTranslation();
  const { tab, runId } = parseErpnextPath(path);
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  // The draft transfer lives here, so switching tabs keeps what was typed.
  const [form, setForm] = useState<TransferFormValues>(() => emptyTransferForm());
  const [preview, setPreview] = useState<PreviewState | null>(null);
  // The site whose synced documents are shown; it stays chosen across the sync tabs.
  const [siteId, setSiteId] = useState<string | null>(null);
  const site = connections?.find((c) => c.id === siteId) ?? connections?.[0] ?? null;
  const sync = useSync(site);

  useEffect(() => {
    let stale = false;
    api.listConnections().then(
      (all) => {
        if (!stale) setConnections((all ?? []).filter((c) => c.kind === 'erpnext'));
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, []);

  const noSites =
    connections !== null && connections.length === 0 ? (
      <div className="card" data-testid="erpnext-empty">
        <EmptyState
          icon="transfer"
          title={t('erpnext.noConnectionsTitle')}
          actions={
            <a className="btn btn-primary" href={hrefFor('connections')} data-testid="erpnext-go-connections">
              <Icon name="plug" size={16} />
              {t('erpnext.goConnections')}
            </a>
          }
        >
          <p>{t('erpnext.noConnectionsBody')}</p>
        </EmptyState>
      </div>
    ) : null;

  let body;
  if (tab === 'runs') {
    body = runId ? <ErpnextRunView key={runId} id={runId} /> : <ErpnextRuns />;
  } else if (connections === null) {
    body = error ? null : <Loading />;
  } else if (noSites) {
    body = noSites;
  } else if (SYNC_TABS.includes(tab) && site) {
    body = (
      <ErpnextData
        view={tab as ErpnextSyncView}
        resource={path[1] ?? null}
        connections={connections}
        site={site}
        onSite={setSiteId}
        sync={sync}
      />
    );
  } else {
    body = (
      <>
        {connections.length === 1 ? (
          <div className="alert alert-warning" role="status" data-testid="erpnext-one-site">
            <Icon name="info" size={20} className="alert-icon" />
            <div className="alert-body">
              <p className="alert-text">{t('erpnext.oneConnection')}</p>
              <a className="link-quiet small" href={hrefFor('connections')}>
                {t('erpnext.goConnections')}
                <Icon name="chevron" size={14} />
              </a>
            </div>
          </div>
        ) : null}
        <ErpnextTransferForm connections={connections} values={form} onValues={setForm} preview={preview} onPreview={setPreview} />
      </>
    );
  }

  return (
    <section className="page page-erpnext" data-testid="page-erpnext" data-tab={tab}>
      <PageHeader title={t('erpnext.title')} subtitle={t('erpnext.subtitle')} />
      <nav className="tabs" aria-label={t('erpnext.tabs.label')}>
        {TABS.map((v) => {
          const href = v === 'new' ? hrefFor('erpnext') : hrefForPath('erpnext', v);
          const current = tab === v;
          return (
            <a
              key={v}
              href={href}
              className={current ? 'tab active' : 'tab'}
              aria-current={current ? 'page' : undefined}
              data-testid={`erpnext-tab-${v}`}
            >
              {t(`erpnext.tabs.${v}`)}
              {v === 'quarantine' ? <QuarantineCount summary={sync.summary} /> : null}
            </a>
          );
        })}
        {tab !== 'data' ? <SyncingBadge job={sync.job} href={hrefForPath('erpnext', 'data')} /> : null}
      </nav>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {body}
    </section>
  );
}
