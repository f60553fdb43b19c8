// The frame of an ERP's page (Contífico, Omie, ERPNext): its connections with the one chosen, the
// connection in the page header, the card shown when there is none, and the tab bar with the sync's
// marks.
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { Job } from '../../bindings/Job';
import type { ResourceSummary } from '../../bindings/ResourceSummary';
import { DemoBadge } from '../../components/Badges';
import { EmptyState } from '../../components/EmptyState';
import { Icon, type IconName } from '../../components/Icon';
import { toApiError } from '../../errors';
import { hrefFor, hrefForPath } from '../../router';
import { QuarantineCount, SyncingBadge } from './TabBadges';

function remembered(storageKey: string): string | null {
  try {
    return window.localStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

function remember(storageKey: string, id: string): void {
  try {
    window.localStorage.setItem(storageKey, id);
  } catch {
    // Private storage may be unavailable; the choice then lasts for this visit only.
  }
}

export interface ErpConnections {
  /** The connections of the ERP (null while loading). */
  connections: Connection[] | null;
  /** The one chosen, else the first; null when there is none. */
  connection: Connection | null;
  choose: (id: string) => void;
  /** Why the connections could not be read. */
  error: ApiError | null;
  clearError: () => void;
}

/**
 * The connections of one ERP, read once, and the one chosen. With `storageKey` the choice is kept
 * on this computer (localStorage) and chosen again on the next visit.
 */
export function useErpConnections(kind: ConnectionKind, storageKey?: string): ErpConnections {
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [chosenId, setChosenId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    let stale = false;
    api.listConnections().then(
      (all) => {
        if (stale) return;
        setConnections((all ?? []).filter((c) => c.kind === kind));
        if (storageKey) setChosenId(remembered(storageKey));
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [kind, storageKey]);

  const choose = useCallback(
    (id: string) => {
      if (storageKey) remember(storageKey, id);
      setChosenId(id);
    },
    [storageKey],
  );
  const clearError = useCallback(() => setError(null), []);
  const connection = connections?.find((c) => c.id === chosenId) ?? connections?.[0] ?? null;
  return { connections, connection, choose, error, clearError };
}

/** A labelled picker of connections (`label.filter` with a `<select>` of their names). */
export function ConnectionSelect({
  label,
  connections,
  value,
  onChoose,
  testId,
}: {
  label: string;
  connections: Connection[];
  value: string;
  onChoose: (id: string) => void;
  testId: string;
}) {
  return (
    <label className="filter">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChoose(e.target.value)} data-testid={testId}>
        {connections.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * The page header's actions (`.contifico-actions`): a picker of the connections when there are
 * several (test id `<testIdPrefix>-connection`), else the connection's name
 * (`<testIdPrefix>-connection-name`); then `children`.
 */
export function ConnectionActions({
  testIdPrefix,
  label,
  icon,
  chipClassName = 'connection-chip',
  connections,
  connection,
  onChoose,
  children,
}: {
  testIdPrefix: string;
  label: string;
  icon: IconName;
  chipClassName?: string;
  connections: Connection[];
  connection: Connection | null;
  onChoose: (id: string) => void;
  children?: ReactNode;
}) {
  return (
    <div className="contifico-actions">
      {connections.length > 1 ? (
        <ConnectionSelect
          label={label}
          connections={connections}
          value={connection?.id ?? ''}
          onChoose={onChoose}
          testId={`${testIdPrefix}-connection`}
        />
      ) : connection ? (
        <span className={chipClassName} data-testid={`${testIdPrefix}-connection-name`}>
          <Icon name={icon} size={15} />
          <span className="truncate">{connection.name}</span>
          {connection.is_demo ? <DemoBadge /> : null}
        </span>
      ) : null}
      {children}
    </div>
  );
}

/** The card of a page whose ERP has no connection yet, leading to the Connections page. */
export function NoConnections({
  testIdPrefix,
  icon,
  title,
  body,
  action,
}: {
  testIdPrefix: string;
  icon: IconName;
  title: string;
  body: string;
  action: string;
}) {
  return (
    <div className="card" data-testid={`${testIdPrefix}-empty`}>
      <EmptyState
        icon={icon}
        title={title}
        actions={
          <a className="btn btn-primary" href={hrefFor('connections')} data-testid={`${testIdPrefix}-go-connections`}>
            <Icon name="plug" size={16} />
            {action}
          </a>
        }
      >
        <p>{body}</p>
      </EmptyState>
    </div>
  );
}

type ErpPageName = 'contifico' | 'omie' | 'erpnext';

/**
 * The tab bar of an ERP's page: `#/<page>/<tab>` links (`home` at `#/<page>`), named
 * `<page>.tabs.<tab>`, with the quarantine count on the quarantine tab and, away from `syncTab`, a
 * badge while a sync runs.
 */
export function SyncTabs<T extends string>({
  page,
  tabs,
  current,
  home,
  syncTab,
  summary,
  job,
}: {
  page: ErpPageName;
  tabs: readonly T[];
  current: T;
  home?: T;
  syncTab: T;
  summary: ResourceSummary[] | null;
  job: Job | null;
}) {
  const { t } = useTranslation();
  const href = (v: T) => (v === home ? hrefFor(page) : hrefForPath(page, v));
  return (
    <nav className="tabs" aria-label={t(`${page}.tabs.label`)}>
      {tabs.map((v) => (
        <a
          key={v}
          href={href(v)}
          className={current === v ? 'tab active' : 'tab'}
          aria-current={current === v ? 'page' : undefined}
          data-testid={`${page}-tab-${v}`}
        >
          {t(`${page}.tabs.${v}`)}
          {v === 'quarantine' ? <QuarantineCount summary={summary} /> : null}
        </a>
      ))}
      {current !== syncTab ? <SyncingBadge job={job} href={href(syncTab)} /> : null}
    </nav>
  );
}

/**
 * A link into one company's data (`…/<resource>/<record>/<connection>`): that connection is chosen
 * when it is one of this ERP's and another is shown.
 */
export function useLinkedConnection(wanted: string | null, erp: Pick<ErpConnections, 'connections' | 'connection' | 'choose'>): void {
  const { connections, connection, choose } = erp;
  useEffect(() => {
    if (wanted && wanted !== connection?.id && connections?.some((c) => c.id === wanted)) choose(wanted);
  }, [wanted, connections, connection, choose]);
}
