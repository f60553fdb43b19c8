// The processing sessions (when, who, manual or automatic, how it ended, and per rule what was new,
// still open, resolved or reopened) and the audit of every write to an ERP (apply and roll back,
// before → after, who, and why it failed).
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Operation } from '../../bindings/Operation';
import type { Rule } from '../../bindings/Rule';
import type { Session } from '../../bindings/Session';
import { StatusBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { elapsedMs, formatDuration, formatNumber } from '../../format';
import { hrefFor } from '../../router';
import { asJobStatus, resourceLabel } from '../sync';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import { divergenceOperations, divergenceSessions } from './api';
import {
  actorLabel,
  describeError,
  fieldLabel,
  operationKindLabel,
  operationStatusLabel,
  OPERATIONS_LIMIT,
  ruleName,
  sessionCountLabel,
  SESSIONS_LIMIT,
} from './model';
import { DivergenceErrorBox, When } from './Parts';

/** The order the per-rule counts are told in; zeros are left out. */
const COUNT_ORDER = ['new', 'still_open', 'evidence_changed', 'reopened', 'resolved', 'hidden', 'errors'];

function useList<T>(load: () => Promise<T[]>, refreshKey: number): { rows: T[] | null; error: ApiError | null } {
  const [rows, setRows] = useState<T[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let stale = false;
    load().then(
      (r) => {
        if (stale) return;
        setRows(r ?? []);
        setError(null);
      },
      (e) => {
        if (stale) return;
        setError(toApiError(e));
        setRows((cur) => cur ?? []);
      },
    );
    return () => {
      stale = true;
    };
  }, [load, refreshKey]);
  return { rows, error };
}

function RuleCounts({ counts, rules }: { counts: Session['counts']; rules: Rule[] | null }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const entries = Object.entries(counts ?? {});
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="div-session-counts">
      {entries.map(([rule, c]) => {
        const parts = COUNT_ORDER.filter((k) => (c?.[k] ?? 0) > 0).map((k) => `${formatNumber(c[k] ?? 0, lng)} ${sessionCountLabel(i18n, k)}`);
        // A rule skipped because nothing was synced since its last run says so, without a number.
        if ((c?.unchanged ?? 0) > 0) parts.push(t('divergences.sessions.unchanged'));
        return (
          <li key={rule} data-testid="session-rule-counts" data-rule={rule}>
            <span className="strong">{ruleName(rules, rule, undefined, i18n)}:</span> <span>{parts.length > 0 ? parts.join(' · ') : t('divergences.sessions.nothing')}</span>
          </li>
        );
      })}
    </ul>
  );
}

export function SessionsTab({ rules, refreshKey }: { rules: Rule[] | null; refreshKey: number }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const load = useCallback(() => divergenceSessions(SESSIONS_LIMIT), []);
  const { rows, error } = useList(load, refreshKey);

  const columns = useMemo<ColumnDef<Session>[]>(
    () => [
      { id: 'when', header: t('divergences.sessions.colWhen'), size: 150, cell: ({ row }) => <When at={row.original.started_at} withTime /> },
      {
        id: 'who',
        header: t('divergences.sessions.colWho'),
        size: 150,
        cell: ({ row }) => (
          <span className="div-rule-name">
            <span className="truncate">{actorLabel(i18n, row.original.who)}</span>
            <span className="muted small truncate">{row.original.machine}</span>
          </span>
        ),
      },
      {
        id: 'mode',
        header: t('divergences.sessions.colMode'),
        size: 110,
        cell: ({ row }) => <span>{t(row.original.mode === 'auto' ? 'divergences.sessions.auto' : 'divergences.sessions.manual')}</span>,
      },
      {
        id: 'status',
        header: t('divergences.sessions.colStatus'),
        size: 150,
        cell: ({ row }) => {
          const s = row.original;
          const status = asJobStatus(s.status);
          const ms = elapsedMs(s.started_at, s.finished_at);
          return (
            <span className="div-rule-name">
              {status ? <StatusBadge status={status} /> : <span>{s.status}</span>}
              {s.finished_at && ms !== null ? <span className="muted small">{formatDuration(ms, lng)}</span> : null}
            </span>
          );
        },
      },
      { id: 'counts', header: t('divergences.sessions.colCounts'), size: 380, cell: ({ row }) => <RuleCounts counts={row.original.counts} rules={rules} /> },
      {
        id: 'job',
        header: () => <span className="sr-only">{t('divergences.sessions.colJob')}</span>,
        size: 90,
        cell: ({ row }) =>
          row.original.job_id ? (
            <a className="link-quiet small" href={hrefFor('jobs', row.original.job_id)}>
              {t('divergences.sessions.log')}
              <Icon name="chevron" size={12} />
            </a>
          ) : null,
      },
    ],
    [t, i18n, lng, rules],
  );

  return (
    <div className="div-sessions" data-testid="divergences-sessions">
      <p className="muted">{t('divergences.sessions.intro')}</p>
      {error ? <DivergenceErrorBox error={error} /> : null}
      {rows === null ? <Loading /> : null}
      {rows && rows.length === 0 && !error ? (
        <div className="card">
          <EmptyState icon="clock" title={t('divergences.sessions.emptyTitle')}>
            <p>{t('divergences.sessions.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}
      {rows && rows.length > 0 ? (
        <div className="card table-card">
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(s) => s.id}
            label={t('divergences.tabs.sessions')}
            rowHeight={null}
            rowAttributes={(s) => ({ 'data-testid': 'session-row', 'data-id': s.id, 'data-mode': s.mode })}
          />
        </div>
      ) : null}
    </div>
  );
}

export function AuditTab({ refreshKey, onOpen }: { refreshKey: number; onOpen: (divergenceId: string) => void }) {
  const { t, i18n } = useTranslation();
  const load = useCallback(() => divergenceOperations(OPERATIONS_LIMIT), []);
  const { rows, error } = useList(load, refreshKey);

  const columns = useMemo<ColumnDef<Operation>[]>(
    () => [
      { id: 'when', header: t('divergences.audit.colWhen'), size: 140, cell: ({ row }) => <When at={row.original.finished_at ?? row.original.created_at} withTime /> },
      { id: 'kind', header: t('divergences.audit.colKind'), size: 100, cell: ({ row }) => <span className="strong">{operationKindLabel(i18n, row.original.kind)}</span> },
      {
        id: 'record',
        header: t('divergences.audit.colRecord'),
        size: 170,
        cell: ({ row }) => {
          const o = row.original;
          const what = ['omie', 'contifico', 'erpnext'].includes(o.erp) ? resourceLabel(i18n, o.erp as ConnectionKind, o.resource) : o.resource;
          return (
            <span className="div-rule-name">
              <span className="mono truncate">{o.record_id}</span>
              <span className="muted small truncate">{what}</span>
            </span>
          );
        },
      },
      {
        id: 'change',
        header: t('divergences.audit.colChange'),
        size: 230,
        cell: ({ row }) => (
          <span className="div-diff small">
            <span className="muted">{fieldLabel(i18n, row.original.field)}:</span> <span className="div-before mono">{row.original.before ?? '—'}</span>
            <Icon name="transfer" size={12} />
            <span className="div-after mono">{row.original.after ?? '—'}</span>
          </span>
        ),
      },
      {
        id: 'status',
        header: t('divergences.audit.colStatus'),
        size: 110,
        cell: ({ row }) => {
          const s = row.original.status;
          const tone = s === 'committed' ? 'succeeded' : s === 'failed' || s === 'refused' ? 'failed' : 'running';
          return <span className={`badge badge-status badge-${tone}`}>{operationStatusLabel(i18n, s)}</span>;
        },
      },
      {
        id: 'who',
        header: t('divergences.audit.colWho'),
        size: 140,
        cell: ({ row }) => (
          <span className="div-rule-name">
            <span className="truncate">{actorLabel(i18n, row.original.who)}</span>
            <span className="muted small truncate">{row.original.machine}</span>
          </span>
        ),
      },
      {
        id: 'error',
        header: t('divergences.audit.colError'),
        size: 240,
        cell: ({ row }) =>
          row.original.error ? (
            <span className="div-op-error small" data-testid="audit-error">
              {describeError(i18n, row.original.error).text}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
    ],
    [t, i18n],
  );

  return (
    <div className="div-audit" data-testid="divergences-audit">
      <p className="muted">{t('divergences.audit.intro')}</p>
      {error ? <DivergenceErrorBox error={error} /> : null}
      {rows === null ? <Loading /> : null}
      {rows && rows.length === 0 && !error ? (
        <div className="card">
          <EmptyState icon="list" title={t('divergences.audit.emptyTitle')}>
            <p>{t('divergences.audit.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}
      {rows && rows.length > 0 ? (
        <div className="card table-card div-audit-table">
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(o) => o.id}
            label={t('divergences.tabs.audit')}
            rowHeight={null}
            onRowClick={(o) => onOpen(o.divergence_id)}
            rowAttributes={(o) => ({ 'data-testid': 'operation-row', 'data-id': o.id, 'data-status': o.status })}
          />
        </div>
      ) : null}
    </div>
  );
}
