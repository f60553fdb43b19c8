// The ERPNext page: a new inter-company transfer (form, preview, start), the list of transfers and
// one transfer's timeline with the operator controls, and the synced documents of each site with
// their sync history and quarantine (the shared sync feature). Sub-routes: #/erpnext (new),
// #/erpnext/runs, #/erpnext/runs/<id>, #/erpnext/data[/<resource>], #/erpnext/history,
// #/erpnext/quarantine[/<resource>].
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { PageHeader } from '../../components/PageHeader';
import { NoConnections, SyncTabs, useErpConnections, useLinkedConnection, useSync } from '../sync';
import { hrefFor } from '../../router';
import { ErpnextData, type ErpnextSyncView } from './Data';
import { SYNC_TABS, TABS, emptyTransferForm, parseErpnextPath, type TransferFormValues } from './model';
import { ErpnextRunView } from './Run';
import { ErpnextRuns } from './Runs';
import { ErpnextTransferForm, type PreviewState } from './TransferForm';
import './erpnext.css';

export function ErpnextPage({ path = [] }: { path?: readonly string[] }) {
  const { t } = useTranslation();
  const { tab, runId } = parseErpnextPath(path);
  // The site whose synced documents are shown (`site`); it stays chosen across the sync tabs.
  const erp = useErpConnections('erpnext');
  const { connections, connection: site, choose: chooseSite, error, clearError } = erp;
  // #/erpnext/data/<resource>/<record>/<connection>: one document of one site, opened at once.
  const record = tab === 'data' ? (path[2] ?? null) : null;
  useLinkedConnection(tab === 'data' ? (path[3] ?? null) : null, erp);
  // The draft transfer lives here, so switching tabs keeps what was typed.
  const [form, setForm] = useState<TransferFormValues>(() => emptyTransferForm());
  const [preview, setPreview] = useState<PreviewState | null>(null);
  const sync = useSync(site);

  const noSites =
    connections !== null && connections.length === 0 ? (
      <NoConnections
        testIdPrefix="erpnext"
        icon="transfer"
        title={t('erpnext.noConnectionsTitle')}
        body={t('erpnext.noConnectionsBody')}
        action={t('erpnext.goConnections')}
      />
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
        record={record}
        connections={connections}
        site={site}
        onSite={chooseSite}
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
      <SyncTabs page="erpnext" tabs={TABS} current={tab} home="new" syncTab="data" summary={sync.summary} job={sync.job} />
      {error ? <ErrorBox error={error} onDismiss={clearError} /> : null}
      {body}
    </section>
  );
}
