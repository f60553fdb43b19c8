// The Contífico page: pick the company, sync it, see what is stored, browse it, and review sync
// history and quarantine. Sub-routes: #/contifico, #/contifico/browse/<resource>,
// #/contifico/history, #/contifico/quarantine[/<resource>].
import { useTranslation } from 'react-i18next';

import { useApp } from '../../AppContext';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { PageHeader } from '../../components/PageHeader';
import {
  ConnectionActions,
  NoConnections,
  Quarantine,
  SummaryTable,
  SyncHistory,
  SyncPanel,
  SyncTabs,
  pickBrowseResource,
  useErpConnections,
  useLinkedConnection,
  useSync,
  type SyncLinks,
} from '../sync';
import { hrefForPath, navigatePath } from '../../router';
import { ContificoBrowser } from './Browser';
import './contifico.css';

export type ContificoView = 'overview' | 'browse' | 'history' | 'quarantine';
const VIEWS: readonly ContificoView[] = ['overview', 'browse', 'history', 'quarantine'];

/** Where the connection last chosen on this computer is kept (between visits to the page). */
const REMEMBER_KEY = 'backoffice.contifico.connection';

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
  const { info } = useApp();
  const { view, arg } = parseView(path);

  const erp = useErpConnections('contifico', REMEMBER_KEY);
  const { connections, connection, choose, error, clearError } = erp;
  const connectionId = connection?.id ?? null;
  // #/contifico/browse/<resource>/<record>/<connection>: one record of one company, opened at once.
  const record = view === 'browse' ? (path[2] ?? null) : null;
  useLinkedConnection(view === 'browse' ? (path[3] ?? null) : null, erp);
  const sync = useSync(connection);
  const { resources, summary, job, now, refreshKey } = sync;

  const shownError = error ?? sync.error;
  const dismissError = () => {
    clearError();
    sync.clearError();
  };

  const header = (
    <PageHeader
      title={t('contifico.title')}
      subtitle={t(info?.team_database ? 'contifico.subtitleTeam' : 'contifico.subtitle')}
      actions={
        connections && connections.length > 0 ? (
          <ConnectionActions
            testIdPrefix="contifico"
            label={t('contifico.connection')}
            icon="box"
            connections={connections}
            connection={connection}
            onChoose={choose}
          >
            <button type="button" className="btn" onClick={sync.refresh} data-testid="contifico-refresh">
              <Icon name="refresh" size={16} />
              {t('contifico.refresh')}
            </button>
          </ConnectionActions>
        ) : undefined
      }
    />
  );

  if (connections === null) {
    return (
      <section className="page page-contifico" data-testid="page-contifico">
        {header}
        {error ? <ErrorBox error={error} /> : <Loading />}
      </section>
    );
  }

  if (connections.length === 0 || !connection) {
    return (
      <section className="page page-contifico" data-testid="page-contifico">
        {header}
        <NoConnections
          testIdPrefix="contifico"
          icon="box"
          title={t('contifico.noConnectionsTitle')}
          body={t('contifico.noConnectionsBody')}
          action={t('contifico.goConnections')}
        />
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

      <SyncTabs page="contifico" tabs={VIEWS} current={view} home="overview" syncTab="overview" summary={summary} job={job} />

      {shownError ? <ErrorBox error={shownError} onDismiss={dismissError} /> : null}

      {resources === null ? <Loading /> : null}

      {resources && view === 'overview' ? (
        <>
          <SyncPanel key={connectionId} connection={connection} resources={resources} job={job} onJob={sync.onJob} />
          {summary ? (
            <SummaryTable connection={connection} rows={summary} now={now} links={LINKS} onRewound={sync.reloadSummary} />
          ) : (
            <Loading />
          )}
        </>
      ) : null}

      {resources && view === 'browse' && browseResource ? (
        <ContificoBrowser
          key={`${connectionId}:${browseResource}`}
          connection={connection}
          resources={resources}
          resource={browseResource}
          openId={browseResource === arg ? record : null}
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
