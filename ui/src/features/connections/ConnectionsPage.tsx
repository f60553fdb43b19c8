import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import { useApp } from '../../AppContext';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { KeyState } from '../../bindings/KeyState';
import type { Job } from '../../bindings/Job';
import { DemoBadge, ErpBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { KeychainBanner } from '../../components/KeychainBanner';
import { Loading } from '../../components/Loading';
import { ConfirmDialog } from '../../components/Modal';
import { Notice } from '../../components/Notice';
import { PageHeader } from '../../components/PageHeader';
import { toApiError, translateError } from '../../errors';
import { formatDateTime, formatRelative } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { hrefFor, navigate } from '../../router';
import { ConnectionFormDialog } from './Form';

const TEST_KIND = 'test_connection';

type FormState = null | { mode: 'create' } | { mode: 'edit'; connection: Connection };

type TestState = 'untested' | 'queued' | 'testing' | 'ok' | 'failed';

interface RowStatus {
  state: TestState;
  at: string | null;
  job: Job | null;
}

const time = (iso: string | null | undefined): number => (iso ? Date.parse(iso) || 0 : 0);

function isNewer(a: Job, b: Job | undefined): boolean {
  return !b || a.id === b.id || time(a.created_at) >= time(b.created_at);
}

/** The latest test outcome of a connection: a live or newer test job wins over the stored result. */
export function rowStatus(conn: Connection, job: Job | undefined): RowStatus {
  if (job) {
    if (job.status === 'queued') return { state: 'queued', at: job.created_at, job };
    if (job.status === 'running') return { state: 'testing', at: job.started_at ?? job.created_at, job };
    const finished = job.finished_at ?? job.created_at;
    const newer = !conn.last_test_at || time(finished) >= time(conn.last_test_at);
    if (newer && (job.status === 'succeeded' || job.status === 'failed')) {
      return { state: job.status === 'succeeded' ? 'ok' : 'failed', at: finished, job };
    }
  }
  if (conn.last_test_ok === null) return { state: 'untested', at: null, job: job ?? null };
  return { state: conn.last_test_ok ? 'ok' : 'failed', at: conn.last_test_at, job: job ?? null };
}

/** Says, when this desk's keychain lacks a connection's key, which desks keep it (they may run its jobs). */
function KeyNote({ state }: { state: KeyState | undefined }) {
  const { t } = useTranslation();
  if (!state || state.here) return null;
  const desks = state.elsewhere.map((d) => t('connections.keyDesk', { who: d.who, machine: d.machine })).join(', ');
  return (
    <span className="small conn-key-note" data-testid="conn-key-note" data-here="false" data-desks={state.elsewhere.length}>
      <Icon name="lock" size={12} />
      {desks ? t('connections.keyElsewhere', { desks }) : t('connections.keyNowhere')}
    </span>
  );
}

export function ConnectionsPage({ openNew = false }: { openNew?: boolean }) {
  const { t, i18n } = useTranslation();
  const { info, refreshInfo } = useApp();
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [keys, setKeys] = useState<Record<string, KeyState>>({});
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [pageError, setPageError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [form, setForm] = useState<FormState>(openNew ? { mode: 'create' } : null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<ApiError | null>(null);
  const [testJobs, setTestJobs] = useState<Record<string, Job>>({});
  const [starting, setStarting] = useState<Record<string, boolean>>({});
  const now = useNow(30_000);
  const lng = i18n.language;

  const loadConnections = useCallback(async () => {
    try {
      setConnections(await api.listConnections());
      setLoadError(null);
      // Where each key is kept matters on a team database; a keychain that cannot answer only hides the note.
      api
        .connectionKeys()
        .then((list) => setKeys(Object.fromEntries(list.map((k) => [k.connection_id, k]))))
        .catch(() => setKeys({}));
    } catch (e) {
      setLoadError(toApiError(e));
    }
  }, []);

  useEffect(() => {
    void loadConnections();
    // The latest test of each connection, so a failure can be explained and linked to its job.
    api
      .listJobs({ kind: TEST_KIND, status: null, connection_id: null, limit: 200 })
      .then((jobs) => {
        setTestJobs((current) => {
          const next = { ...current };
          for (const job of jobs) {
            if (job.kind === TEST_KIND && job.connection_id && isNewer(job, next[job.connection_id])) {
              next[job.connection_id] = job;
            }
          }
          return next;
        });
      })
      .catch(() => {});
  }, [loadConnections]);

  useEffect(() => {
    if (openNew) setForm({ mode: 'create' });
  }, [openNew]);

  useJobEvents(
    (event) => {
      const job = event.job;
      if (job.kind !== TEST_KIND || !job.connection_id) return;
      const id = job.connection_id;
      setTestJobs((current) => (isNewer(job, current[id]) ? { ...current, [id]: job } : current));
      if (job.status !== 'queued' && job.status !== 'running') void loadConnections();
    },
    () => void loadConnections(),
  );

  // While a test runs, re-read the connections now and then, so a result whose event arrived before
  // the subscription was active still shows.
  const testing = Object.values(testJobs).some((j) => j && (j.status === 'queued' || j.status === 'running'));
  useEffect(() => {
    if (!testing) return;
    const id = window.setInterval(() => void loadConnections(), 2000);
    return () => window.clearInterval(id);
  }, [testing, loadConnections]);

  const closeForm = () => {
    setForm(null);
    if (openNew) navigate('connections');
  };

  const onSaved = (c: Connection) => {
    closeForm();
    setNotice(t('connections.saved', { name: c.name }));
    void loadConnections();
  };

  const startTest = async (c: Connection) => {
    setPageError(null);
    setStarting((s) => ({ ...s, [c.id]: true }));
    try {
      const job = await api.testConnection(c.id);
      setTestJobs((current) => (isNewer(job, current[c.id]) ? { ...current, [c.id]: job } : current));
    } catch (e) {
      setPageError(toApiError(e));
    } finally {
      setStarting((s) => ({ ...s, [c.id]: false }));
    }
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    setDeleteBusy(true);
    setDeleteError(null);
    try {
      await api.deleteConnection(deleting.id);
      setNotice(t('connections.deleted', { name: deleting.name }));
      setDeleting(null);
      await loadConnections();
      void refreshInfo();
    } catch (e) {
      setDeleteError(toApiError(e));
    } finally {
      setDeleteBusy(false);
    }
  };

  /** A row of the table: the connection and what its last test says. */
  const connectionRow = (c: Connection, job: Job | undefined) => {
    const st = rowStatus(c, job);
    const busy = st.state === 'queued' || st.state === 'testing';
    const failure =
      st.state === 'failed' ? (st.job?.status === 'failed' && st.job.error ? translateError(i18n, st.job.error) : c.last_test_message) : null;
    return { c, st, busy, failure };
  };
  type Row = ReturnType<typeof connectionRow>;
  const statusText: Record<TestState, string> = {
    untested: t('connections.notTested'),
    queued: t('connections.testQueued'),
    testing: t('connections.testing'),
    ok: t('connections.testOk'),
    failed: t('connections.testFailed'),
  };
  const columns: ColumnDef<Row>[] = [
    {
      id: 'name',
      header: t('connections.colName'),
      cell: ({ row: { original: { c } } }) => (
        <>
          <div className="cell-name">
            <span className="conn-name" title={c.name}>
              {c.name}
            </span>
            {c.is_demo ? <DemoBadge /> : null}
          </div>
          <span className="mono truncate muted conn-url" title={`${t('connections.colUrl')}: ${c.base_url}`}>
            {c.base_url}
          </span>
          <KeyNote state={keys[c.id]} />
        </>
      ),
    },
    { id: 'erp', header: t('connections.colErp'), meta: { width: '104px' }, cell: ({ row }) => <ErpBadge kind={row.original.c.kind} /> },
    {
      id: 'tz',
      header: t('connections.colTimezone'),
      meta: { width: '160px' },
      cell: ({ row: { original: { c } } }) => (
        <span className="truncate" title={c.timezone}>
          {c.timezone.replace(/_/g, ' ')}
        </span>
      ),
    },
    {
      id: 'test',
      header: t('connections.colLastTest'),
      meta: { width: '250px' },
      cell: ({ row: { original: { st, busy, failure } } }) => (
        <div className={`test-status test-${st.state}`}>
          <span className="test-line">
            {busy ? <span className="spinner" aria-hidden="true" /> : <span className={`dot dot-${st.state}`} aria-hidden="true" />}
            <span data-testid="conn-status" data-state={st.state}>
              {statusText[st.state]}
            </span>
            {st.at && !busy ? (
              <time className="muted small" dateTime={st.at} title={formatDateTime(st.at, lng)}>
                · {formatRelative(st.at, lng, now)}
              </time>
            ) : null}
          </span>
          {failure ? (
            <span className="test-error small" data-testid="conn-test-error" title={failure}>
              {failure}
            </span>
          ) : null}
          {st.job ? (
            <a className="small link-quiet" href={hrefFor('jobs', st.job.id)} data-testid="conn-job-link">
              {t('common.viewJob')}
              <Icon name="chevron" size={12} />
            </a>
          ) : null}
        </div>
      ),
    },
    {
      id: 'actions',
      header: () => <span className="sr-only">{t('connections.colActions')}</span>,
      meta: { width: '184px' },
      cell: ({ row: { original: { c, busy } } }) => (
        <div className="row-actions" role="group" aria-label={t('connections.actionsFor', { name: c.name })}>
          <button
            type="button"
            className="btn btn-small"
            data-testid="conn-test"
            onClick={() => void startTest(c)}
            disabled={busy || starting[c.id] === true}
          >
            <Icon name="play" size={14} />
            {t('common.test')}
          </button>
          <button
            type="button"
            className="icon-button"
            data-testid="conn-edit"
            onClick={() => setForm({ mode: 'edit', connection: c })}
            aria-label={`${t('common.edit')} ${c.name}`}
            title={t('common.edit')}
          >
            <Icon name="edit" size={16} />
          </button>
          <button
            type="button"
            className="icon-button icon-button-danger"
            data-testid="conn-delete"
            onClick={() => {
              setDeleteError(null);
              setDeleting(c);
            }}
            aria-label={`${t('common.delete')} ${c.name}`}
            title={t('common.delete')}
          >
            <Icon name="trash" size={16} />
          </button>
        </div>
      ),
    },
  ];

  const addButton = (
    <button type="button" className="btn btn-primary" data-testid="add-connection" onClick={() => setForm({ mode: 'create' })}>
      <Icon name="plus" size={16} />
      {t('connections.add')}
    </button>
  );

  return (
    <section className="page" data-testid="page-connections">
      <PageHeader title={t('connections.title')} subtitle={t('connections.subtitle')} actions={addButton} />
      {info && !info.keychain_ok ? <KeychainBanner detail={info.keychain_error} /> : null}
      {notice ? (
        <Notice testId="notice" onDismiss={() => setNotice(null)}>
          {notice}
        </Notice>
      ) : null}
      {pageError ? <ErrorBox error={pageError} onDismiss={() => setPageError(null)} testId="page-error" /> : null}
      {loadError ? (
        <>
          <ErrorBox error={loadError} />
          <button type="button" className="btn" onClick={() => void loadConnections()}>
            <Icon name="refresh" size={16} />
            {t('common.retry')}
          </button>
        </>
      ) : null}

      {connections === null && !loadError ? <Loading /> : null}

      {connections && connections.length === 0 ? (
        <div className="card">
          <EmptyState icon="plug" title={t('connections.emptyTitle')} actions={addButton}>
            <p>{t('connections.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}

      {connections && connections.length > 0 ? (
        <div className="card table-card">
          <DataTable
            data={connections.map((c) => connectionRow(c, testJobs[c.id]))}
            columns={columns}
            getRowId={(r) => r.c.id}
            rowAttributes={(r) => ({ 'data-testid': 'connection-row', 'data-name': r.c.name, 'data-id': r.c.id })}
            rowHeight={null}
            tableClassName="connections-table"
          />
        </div>
      ) : null}

      {form ? (
        <ConnectionFormDialog
          mode={form.mode}
          connection={form.mode === 'edit' ? form.connection : undefined}
          onClose={closeForm}
          onSaved={onSaved}
        />
      ) : null}

      {deleting ? (
        <ConfirmDialog
          title={t('connections.confirmDeleteTitle', { name: deleting.name })}
          body={t('connections.confirmDeleteBody')}
          confirmLabel={t('connections.confirmDelete')}
          busy={deleteBusy}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setDeleting(null)}
        >
          {deleteError ? <ErrorBox error={deleteError} /> : null}
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
