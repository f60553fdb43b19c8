// The Contífico page: pick the company, sync it, see what is stored, browse it, and review sync
// history and quarantine. Sub-routes: #/contifico, #/contifico/browse/<resource>,
// #/contifico/history, #/contifico/quarantine[/<resource>].
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import { DemoBadge } from '../../components/Badges';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { PageHeader } from '../../components/PageHeader';
import { toApiError } from '../../errors';
import {
  QuarantineCount,
  Quarantine,
  SummaryTable,
  SyncHistory,
  SyncPanel,
  SyncingBadge,
  pickBrowseResource,
  useSync,
  type SyncLinks,
} from '../sync';
import { hrefFor, hrefForPath, navigatePath } from '../../router';
import { ContificoBrowser } from './Browser';
import { rememberConnection, rememberedConnection } from './util';
import './contifico.css';

export type ContificoView = 'overview' | 'browse' | 'history' | 'quarantine';
const VIEWS: readonly ContificoView[] = ['overview', 'browse', 'history', 'quarantine'];

const LINKS: SyncLinks = {
  browse: (resource) => hrefForPath('contifico', 'browse', resource),
  quarantine: (resource) => hrefForPath('contifico', 'quarantine', resource),
};

export function parseView(path: readonly string[]): { view: ContificoView; arg: string | null } {
  const first = path[0] ?? '';
  const view = (VIEWS as readonly string[]).includes(first) ? (first as ContificoView) : 'overview';
  return { view, arg: view === 'overview' ? null : (path[1] ?? null) };
}

export function ContificoPage({ path = [] }: { path?: readonly string[] }) {
  const { t } = useTranslation();
  const { view, arg } = parseView(path);

  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [connectionId, setConnectionId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const connection = connections?.find((c) => c.id === connectionId) ?? null;
  const sync = useSync(connection);
  const { resources, summary, job, now, refreshKey } = sync;

  // The Contífico connections, once.
  useEffect(() => {
    let stale = false;
    api.listConnections().then(
      (all) => {
        if (stale) return;
        const mine = (all ?? []).filter((c) => c.kind === 'contifico');
        setConnections(mine);
        const remembered = rememberedConnection();
        setConnectionId(mine.find((c) => c.id === remembered)?.id ?? mine[0]?.id ?? null);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, []);

  const chooseConnection = (id: string) => {
    rememberConnection(id);
    setConnectionId(id);
  };

  const shownError = error ?? sync.error;
  const dismissError = () => {
    setError(null);
    sync.clearError();
  };

  const header = (
    <PageHeader
      title={t('contifico.title')}
      subtitle={t('contifico.subtitle')}
      actions={
        connections && connections.length > 0 ? (
          <div className="contifico-actions">
            {connections.length > 1 ? (
              <label className="filter">
                <span>{t('contifico.connection')}</span>
                <select
                  value={connectionId ?? ''}
                  onChange={(e) => chooseConnection(e.target.value)}
                  data-testid="contifico-connection"
                >
                  {connections.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              </label>
            ) : connection ? (
              <span className="connection-chip" data-testid="contifico-connection-name">
                <Icon name="box" size={15} />
                <span className="truncate">{connection.name}</span>
                {connection.is_demo ? <DemoBadge /> : null}
              </span>
            ) : null}
            <button type="button" className="btn" onClick={sync.refresh} data-testid="contifico-refresh">
              <Icon name="refresh" size={16} />
              {t('contifico.refresh')}
            </button>
          </div>
        ) : undefined
      }
    />
  );

  if (connections === null) {
    return (
      <section className="page page-contifico" data-testid="page-contifico">
        {header}
        {error ? (
          <ErrorBox error={error} />
        ) : (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        )}
      </section>
    );
  }

  if (connections.length === 0 || !connection) {
    return (
      <section className="page page-contifico" data-testid="page-contifico">
        {header}
        <div className="card" data-testid="contifico-empty">
          <EmptyState
            icon="box"
            title={t('contifico.noConnectionsTitle')}
            actions={
              <a className="btn btn-primary" href={hrefFor('connections')} data-testid="contifico-go-connections">
                <Icon name="plug" size={16} />
                {t('contifico.goConnections')}
              </a>
            }
          >
            <p>{t('contifico.noConnectionsBody')}</p>
          </EmptyState>
        </div>
      </section>
    );
  }

  const browseResource = pickBrowseResource(resources, summary, arg);

  return (
    <section
      className="page page-contifico"
      data-testid="page-contifico"
      data-connection={connectionId}
      data-view={view}
    >
      {header}

      <nav className="tabs" aria-label={t('contifico.tabs.label')}>
        {VIEWS.map((v) => {
          const href = v === 'overview' ? hrefFor('contifico') : hrefForPath('contifico', v);
          return (
            <a
              key={v}
              href={href}
              className={view === v ? 'tab active' : 'tab'}
              aria-current={view === v ? 'page' : undefined}
              data-testid={`contifico-tab-${v}`}
            >
              {t(`contifico.tabs.${v}`)}
              {v === 'quarantine' ? <QuarantineCount summary={summary} /> : null}
            </a>
          );
        })}
        {view !== 'overview' ? <SyncingBadge job={job} href={hrefFor('contifico')} /> : null}
      </nav>

      {shownError ? <ErrorBox error={shownError} onDismiss={dismissError} /> : null}

      {resources === null ? (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      ) : null}

      {resources && view === 'overview' ? (
        <>
          <SyncPanel key={connectionId} connection={connection} resources={resources} job={job} onJob={sync.onJob} />
          {summary ? (
            <SummaryTable connection={connection} rows={summary} now={now} links={LINKS} onRewound={sync.reloadSummary} />
          ) : (
            <div className="loading" role="status">
              <span className="spinner" aria-hidden="true" />
              {t('common.loading')}
            </div>
          )}
        </>
      ) : null}

      {resources && view === 'browse' && browseResource ? (
        <ContificoBrowser
          key={`${connectionId}:${browseResource}`}
          connection={connection}
          resources={resources}
          resource={browseResource}
          storedRecords={summary?.find((s) => s.resource === browseResource)?.records ?? null}
          onResourceChange={(name) => navigatePath('contifico', 'browse', name)}
        />
      ) : null}

      {resources && view === 'history' ? <SyncHistory connection={connection} refreshKey={refreshKey} now={now} /> : null}

      {resources && view === 'quarantine' ? (
        <Quarantine
          connection={connection}
          resources={resources}
          resource={arg}
          refreshKey={refreshKey}
          now={now}
          onResourceChange={(name) => navigatePath('contifico', 'quarantine', ...(name ? [name] : []))}
        />
      ) : null}
    </section>
  );
}
