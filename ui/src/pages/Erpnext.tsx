// The ERPNext page: a new inter-company transfer (form, preview, start), the list of transfers and
// one transfer's timeline with the operator controls, and the synced documents of each site.
// Sub-routes: #/erpnext (new), #/erpnext/runs, #/erpnext/runs/<id>, #/erpnext/data.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { Connection } from '../bindings/Connection';
import { EmptyState } from '../components/EmptyState';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { PageHeader } from '../components/PageHeader';
import { toApiError } from '../errors';
import { hrefFor, hrefForPath } from '../router';
import { ErpnextData } from './ErpnextData';
import { TABS, emptyTransferForm, parseErpnextPath, type TransferFormValues } from './ErpnextModel';
import { ErpnextRunView } from './ErpnextRun';
import { ErpnextRuns } from './ErpnextRuns';
import { ErpnextTransferForm, type PreviewState } from './ErpnextTransferForm';
import './Erpnext.css';

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
  } else if (tab === 'data') {
    body = <ErpnextData connections={connections} />;
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
            </a>
          );
        })}
      </nav>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {body}
    </section>
  );
}
