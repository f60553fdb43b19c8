// The Omie page: pick the company, see whether Omie blocked its key, then its tabs — attachments
// (RF-001), purchase orders (RF-002), synced data, sync, sync history and quarantine (the last four
// are the shared sync feature). Sub-routes: #/omie/<tab>, #/omie/data/<resource>,
// #/omie/quarantine/<resource>.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as omie from './api';
import type { OmieKeyStatus } from '../../bindings/OmieKeyStatus';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { PageHeader } from '../../components/PageHeader';
import { ConnectionActions, NoConnections, Quarantine, SyncHistory, SyncPanel, SyncTabs, useErpConnections, useLinkedConnection, useSync } from '../sync';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { navigatePath } from '../../router';
import { OmieErrorBox } from './AttachmentForms';
import { OmieAttachmentsTab } from './Attachments';
import { OmieDataTab } from './Data';
import { OmieOrdersTab } from './Orders';
import { formatClock, omieErrorText } from './util';
import '../contifico/contifico.css';
import './omie.css';

/** Where the connection last chosen on this computer is kept (between visits to the page). */
const REMEMBER_KEY = 'backoffice.omie.connection';

export type OmieTab = 'attachments' | 'orders' | 'data' | 'sync' | 'history' | 'quarantine';
export const OMIE_TABS: readonly OmieTab[] = ['attachments', 'orders', 'data', 'sync', 'history', 'quarantine'];

export function parseOmieTab(path: readonly string[]): OmieTab {
  const first = path[0] ?? '';
  return (OMIE_TABS as readonly string[]).includes(first) ? (first as OmieTab) : 'attachments';
}

/** Whole minutes left until `until` (at least 1 while it is in the future), or null when passed. */
export function minutesLeft(until: string | null, now: number): number | null {
  if (!until) return null;
  const ms = Date.parse(until) - now;
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.max(1, Math.ceil(ms / 60_000));
}

/** "Omie blocked this key until 14:05 (in 12 min)". Hidden once the time has passed. */
export function KeyBlockedBanner({ status, now }: { status: OmieKeyStatus | null; now: number }) {
  const { t, i18n } = useTranslation();
  if (!status?.blocked || !status.blocked_until) return null;
  const minutes = minutesLeft(status.blocked_until, now);
  if (minutes === null) return null;
  return (
    <div className="alert alert-warning banner" role="alert" data-testid="omie-key-blocked" data-until={status.blocked_until}>
      <Icon name="lock" size={22} className="alert-icon" />
      <div className="alert-body">
        <strong className="alert-title">
          {t('omie.keyBlocked.title', { time: formatClock(status.blocked_until, i18n.language), minutes })}
        </strong>
        <p className="alert-text">{t('omie.keyBlocked.body')}</p>
        {status.reason ? (
          <p className="alert-text small muted" data-testid="omie-key-blocked-reason">
            {t('omie.keyBlocked.reason', { reason: status.reason })}
          </p>
        ) : null}
      </div>
    </div>
  );
}

export function OmiePage({ path = [] }: { path?: readonly string[] }) {
  const { t } = useTranslation();
  const tab = parseOmieTab(path);
  /** The resource named after the tab (#/omie/data/<resource>, #/omie/quarantine/<resource>). */
  const arg = path[1] ?? null;
  const erp = useErpConnections('omie', REMEMBER_KEY);
  const { connections, connection, choose, error } = erp;
  const connectionId = connection?.id ?? null;
  // #/omie/data/<resource>/<record>/<connection>: one record of one company, opened at once.
  const record = tab === 'data' ? (path[2] ?? null) : null;
  useLinkedConnection(tab === 'data' ? (path[3] ?? null) : null, erp);
  const [keyStatus, setKeyStatus] = useState<OmieKeyStatus | null>(null);
  const now = useNow(keyStatus?.blocked ? 15_000 : 60_000);

  const loadKeyStatus = useCallback(async (id: string) => {
    try {
      const s = await omie.omieKeyStatus(id);
      setKeyStatus(s ?? null);
    } catch {
      // The banner is advice; the tabs show their own errors.
      setKeyStatus(null);
    }
  }, []);

  useEffect(() => {
    setKeyStatus(null);
    if (connectionId) void loadKeyStatus(connectionId);
  }, [connectionId, loadKeyStatus]);

  // A job that ran into a blocked key tells us at once; re-read the block then.
  useJobEvents((event) => {
    const j = event.job;
    if (!connectionId || j.connection_id !== connectionId) return;
    if (j.error?.code === 'omie_key_blocked') void loadKeyStatus(connectionId);
  });

  const sync = useSync(connection);
  const { resources, summary, job, now: syncNow, refreshKey } = sync;

  const header = (
    <PageHeader
      title={t('omie.title')}
      subtitle={t('omie.subtitle')}
      actions={
        connections && connections.length > 0 ? (
          <ConnectionActions
            testIdPrefix="omie"
            label={t('omie.connection')}
            icon="paperclip"
            chipClassName="connection-chip omie-chip"
            connections={connections}
            connection={connection}
            onChoose={choose}
          />
        ) : undefined
      }
    />
  );

  if (connections === null) {
    return (
      <section className="page page-omie" data-testid="page-omie">
        {header}
        {error ? <ErrorBox error={error} /> : <Loading />}
      </section>
    );
  }

  if (!connectionId || !connection) {
    return (
      <section className="page page-omie" data-testid="page-omie">
        {header}
        <NoConnections
          testIdPrefix="omie"
          icon="paperclip"
          title={t('omie.empty.title')}
          body={t('omie.empty.body')}
          action={t('omie.empty.action')}
        />
      </section>
    );
  }

  const loading = <Loading />;

  return (
    <section className="page page-omie" data-testid="page-omie" data-connection={connectionId} data-tab={tab}>
      {header}
      <KeyBlockedBanner status={keyStatus} now={now} />
      <SyncTabs page="omie" tabs={OMIE_TABS} current={tab} syncTab="sync" summary={summary} job={job} />
      {sync.error ? <OmieErrorBox error={sync.error} onDismiss={sync.clearError} /> : null}
      {tab === 'attachments' ? <OmieAttachmentsTab key={connectionId} connectionId={connectionId} /> : null}
      {tab === 'orders' ? <OmieOrdersTab key={connectionId} connectionId={connectionId} /> : null}
      {tab === 'data' ? <OmieDataTab key={connectionId} connection={connection} sync={sync} resource={arg} record={record} /> : null}
      {tab === 'sync' ? (
        <div className="omie-tab" data-testid="omie-sync">
          {resources ? (
            <SyncPanel key={connectionId} connection={connection} resources={resources} job={job} onJob={sync.onJob} errorText={omieErrorText} />
          ) : (
            loading
          )}
          <p className="muted small omie-note">{t('omie.sync.rateNote')}</p>
        </div>
      ) : null}
      {tab === 'history' ? <SyncHistory key={connectionId} connection={connection} refreshKey={refreshKey} now={syncNow} /> : null}
      {tab === 'quarantine' && !resources ? loading : null}
      {tab === 'quarantine' && resources ? (
        <Quarantine
          key={connectionId}
          connection={connection}
          resources={resources}
          resource={arg}
          refreshKey={refreshKey}
          now={syncNow}
          onResourceChange={(name) => navigatePath('omie', 'quarantine', ...(name ? [name] : []))}
        />
      ) : null}
    </section>
  );
}
