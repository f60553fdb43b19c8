// "Jobs & Logs → Schedules": the jobs BackOffice starts by itself, "pause all", run now, the
// suggested schedules per connection, and the run history.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { Schedule } from '../../bindings/Schedule';
import type { ScheduleRunRecord } from '../../bindings/ScheduleRunRecord';
import { ErpBadge } from '../../components/Badges';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { ConfirmDialog } from '../../components/Modal';
import { Notice } from '../../components/Notice';
import { PageHeader } from '../../components/PageHeader';
import { jobKindLabel, toApiError } from '../../errors';
import { formatDateTime, formatRelative } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { hrefFor, navigate } from '../../router';
import { ScheduleFormDialog } from './Form';
import { OutcomeBadge, ScheduleHistory } from './History';
import { describeTiming } from './model';
import { JobsTabs } from './Tabs';

type FormState = { mode: 'add' } | { mode: 'edit'; schedule: Schedule } | null;

function replaceSchedule(list: Schedule[] | null, s: Schedule): Schedule[] | null {
  if (!list) return list;
  return list.some((x) => x.id === s.id) ? list.map((x) => (x.id === s.id ? s : x)) : [...list, s];
}

export function SchedulesPage() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [connections, setConnections] = useState<Connection[]>([]);
  const [paused, setPaused] = useState<boolean | null>(null);
  const [runs, setRuns] = useState<ScheduleRunRecord[] | null>(null);
  const [historyFilter, setHistoryFilter] = useState('');
  const [historyLoading, setHistoryLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [pausing, setPausing] = useState(false);
  const [form, setForm] = useState<FormState>(null);
  const [toDelete, setToDelete] = useState<Schedule | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [offering, setOffering] = useState<string | null>(null);
  const refreshTimer = useRef<number | undefined>(undefined);
  const historyFilterRef = useRef(historyFilter);
  historyFilterRef.current = historyFilter;
  const now = useNow(30_000);

  const loadSchedules = useCallback(async () => {
    try {
      const [list, isPaused] = await Promise.all([api.listSchedules(), api.schedulesPaused()]);
      setSchedules(list);
      setPaused(isPaused);
      setError(null);
    } catch (e) {
      setError(toApiError(e));
      setSchedules((s) => s ?? []);
    }
  }, []);

  const loadHistory = useCallback(async (scheduleId: string) => {
    setHistoryLoading(true);
    try {
      const list = await api.scheduleHistory(scheduleId === '' ? null : scheduleId);
      // A slower answer for a filter the user already changed is dropped.
      if (historyFilterRef.current === scheduleId) setRuns(list);
    } catch (e) {
      setError(toApiError(e));
      setRuns((r) => r ?? []);
    } finally {
      setHistoryLoading(false);
    }
  }, []);

  const loadConnections = useCallback(async () => {
    try {
      setConnections(await api.listConnections());
    } catch (e) {
      setError(toApiError(e));
    }
  }, []);

  useEffect(() => {
    void loadSchedules();
    void loadConnections();
    return () => window.clearTimeout(refreshTimer.current);
  }, [loadSchedules, loadConnections]);

  useEffect(() => {
    void loadHistory(historyFilter);
  }, [loadHistory, historyFilter]);

  // Schedules fire in the background: any job change may be a new run or the end of one.
  useJobEvents(
    () => {
      if (refreshTimer.current !== undefined) return;
      refreshTimer.current = window.setTimeout(() => {
        refreshTimer.current = undefined;
        void loadSchedules();
        void loadHistory(historyFilterRef.current);
      }, 800);
    },
    // Subscribed: reload once, in case a run started between the first load and now.
    () => {
      void loadSchedules();
      void loadHistory(historyFilterRef.current);
    },
  );

  const withBusy = async (id: string, work: () => Promise<void>) => {
    setBusy((b) => ({ ...b, [id]: true }));
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy((b) => ({ ...b, [id]: false }));
    }
  };

  const toggle = (s: Schedule) =>
    withBusy(s.id, async () => {
      const updated = s.enabled ? await api.pauseSchedule(s.id) : await api.resumeSchedule(s.id);
      setSchedules((list) => replaceSchedule(list, updated));
    });

  const runNow = (s: Schedule) =>
    withBusy(s.id, async () => {
      const job = await api.runScheduleNow(s.id);
      navigate('jobs', job.id);
    });

  const togglePauseAll = async () => {
    const next = !paused;
    setPausing(true);
    setError(null);
    try {
      await api.setSchedulesPaused(next);
      setPaused(next);
      await loadSchedules();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setPausing(false);
    }
  };

  const confirmDelete = async () => {
    if (!toDelete) return;
    setDeleting(true);
    try {
      await api.removeSchedule(toDelete.id);
      setSchedules((list) => (list ? list.filter((x) => x.id !== toDelete.id) : list));
      if (historyFilter === toDelete.id) setHistoryFilter('');
      setNotice(t('schedules.deleted', { name: toDelete.name }));
      setToDelete(null);
    } catch (e) {
      setError(toApiError(e));
      setToDelete(null);
    } finally {
      setDeleting(false);
    }
  };

  const offerDefaults = async (c: Connection) => {
    setOffering(c.id);
    setError(null);
    setNotice(null);
    try {
      const created = await api.ensureDefaultSchedules(c.id);
      setNotice(
        created.length > 0
          ? t('schedules.defaults.added', { n: created.length, names: created.map((s) => `“${s.name}”`).join(', ') })
          : t('schedules.defaults.none', { name: c.name }),
      );
      await loadSchedules();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setOffering(null);
    }
  };

  const pauseAllButton = (
    <button
      type="button"
      className={paused ? 'btn btn-primary' : 'btn'}
      onClick={() => void togglePauseAll()}
      disabled={paused === null || pausing}
      data-testid="schedules-pause-all"
      data-paused={paused ? 'true' : 'false'}
    >
      {pausing ? <span className={paused ? 'spinner spinner-light' : 'spinner'} aria-hidden="true" /> : <Icon name={paused ? 'play' : 'stop'} size={16} />}
      {paused ? t('schedules.resumeAll') : t('schedules.pauseAll')}
    </button>
  );

  const list = schedules ?? [];

  const columns: ColumnDef<Schedule>[] = [
    {
      id: 'name',
      header: t('schedules.colName'),
      cell: ({ row: { original: s } }) => (
        <>
          <span className="strong truncate" title={s.name}>
            {s.name}
          </span>
          <span
            className="muted small truncate"
            title={`${jobKindLabel(i18n, s.kind)} · ${s.connection_name ?? t('schedules.noConnection')}`}
          >
            <span data-testid="schedule-kind-label">{jobKindLabel(i18n, s.kind)}</span>
            {' · '}
            <span data-testid="schedule-connection">{s.connection_name ?? t('schedules.noConnection')}</span>
          </span>
        </>
      ),
    },
    {
      id: 'when',
      header: t('schedules.colWhen'),
      meta: { width: '170px' },
      cell: ({ row: { original: s } }) => {
        const when = describeTiming(s, t, lng);
        return (
          <span className="sch-when" title={s.cron ? `${s.cron} · ${s.timezone ?? 'UTC'}` : when} data-testid="schedule-when">
            {when}
          </span>
        );
      },
    },
    {
      id: 'next',
      header: t('schedules.colNext'),
      meta: { width: '140px' },
      cell: ({ row: { original: s } }) => (
        <>
          {!s.enabled ? (
            <span className="muted small">{t('schedules.pausedOne')}</span>
          ) : s.next_due_at ? (
            <>
              <time
                className={paused ? 'sch-block small tabular muted' : 'sch-block small tabular'}
                dateTime={s.next_due_at}
                data-testid="schedule-next"
              >
                {formatDateTime(s.next_due_at, lng)}
              </time>
              <span className="muted small" title={paused ? t('schedules.onHoldHint') : undefined}>
                {paused ? t('schedules.onHold') : formatRelative(s.next_due_at, lng, now)}
              </span>
            </>
          ) : (
            <span className="muted">—</span>
          )}
        </>
      ),
    },
    {
      id: 'last',
      header: t('schedules.colLast'),
      meta: { width: '150px' },
      cell: ({ row: { original: s } }) => (
        <>
          {s.last_run_at ? (
            <div className="sch-last">
              {s.last_job_id ? (
                <a
                  className="small"
                  href={hrefFor('jobs', s.last_job_id)}
                  title={formatDateTime(s.last_run_at, lng)}
                  data-testid="schedule-last-job"
                >
                  {formatRelative(s.last_run_at, lng, now)}
                </a>
              ) : (
                <time className="small" dateTime={s.last_run_at} title={formatDateTime(s.last_run_at, lng)}>
                  {formatRelative(s.last_run_at, lng, now)}
                </time>
              )}
              {s.last_outcome ? <OutcomeBadge outcome={s.last_outcome} /> : null}
            </div>
          ) : s.last_outcome ? (
            <OutcomeBadge outcome={s.last_outcome} />
          ) : (
            <span className="muted small">{t('schedules.never')}</span>
          )}
        </>
      ),
    },
    {
      id: 'on',
      header: t('schedules.colEnabled'),
      meta: { width: '76px', className: 'sch-on-col' },
      cell: ({ row: { original: s } }) => {
        const rowBusy = busy[s.id] === true;
        return (
          <label className="sch-switch" title={s.enabled ? t('schedules.pausedTurnOff') : t('schedules.pausedTurnOn')}>
            <input
              type="checkbox"
              role="switch"
              checked={s.enabled}
              disabled={rowBusy}
              onChange={() => void toggle(s)}
              aria-label={t('schedules.enabledLabel', { name: s.name })}
              data-testid="schedule-toggle"
            />
            <span className="sch-switch-track" aria-hidden="true" />
          </label>
        );
      },
    },
    {
      id: 'actions',
      header: t('schedules.colActions'),
      meta: { width: '226px', className: 'sch-actions-col' },
      cell: ({ row: { original: s } }) => {
        const rowBusy = busy[s.id] === true;
        return (
          <div className="row-actions" role="group" aria-label={t('schedules.actionsFor', { name: s.name })}>
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void runNow(s)}
              disabled={rowBusy}
              data-testid="schedule-run-now"
              title={t('schedules.runNowHint')}
            >
              <Icon name="play" size={13} />
              {t('schedules.runNow')}
            </button>
            <button
              type="button"
              className="icon-button"
              onClick={() => setForm({ mode: 'edit', schedule: s })}
              aria-label={`${t('common.edit')}: ${s.name}`}
              title={t('common.edit')}
              data-testid="schedule-edit"
            >
              <Icon name="edit" size={16} />
            </button>
            <button
              type="button"
              className="icon-button icon-button-danger"
              onClick={() => setToDelete(s)}
              aria-label={`${t('common.delete')}: ${s.name}`}
              title={t('common.delete')}
              data-testid="schedule-delete"
            >
              <Icon name="trash" size={16} />
            </button>
          </div>
        );
      },
    },
  ];

  return (
    <section className="page page-schedules" data-testid="page-schedules" data-paused={paused ? 'true' : 'false'}>
      <PageHeader
        title={t('jobs.title')}
        subtitle={t('schedules.subtitle')}
        actions={
          <button
            type="button"
            className="btn"
            onClick={() => {
              void loadSchedules();
              void loadConnections();
              void loadHistory(historyFilter);
            }}
          >
            <Icon name="refresh" size={16} />
            {t('common.refresh')}
          </button>
        }
      />
      <JobsTabs active="schedules" />

      {paused ? (
        <div className="alert alert-warning banner sch-paused" role="status" data-testid="schedules-paused-banner">
          <Icon name="stop" size={20} className="alert-icon" />
          <div className="alert-body">
            <strong className="alert-title">{t('schedules.pausedTitle')}</strong>
            <p className="alert-text">{t('schedules.pausedBody')}</p>
          </div>
          {pauseAllButton}
        </div>
      ) : null}

      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
      {notice ? (
        <Notice testId="schedules-notice" onDismiss={() => setNotice(null)}>
          {notice}
        </Notice>
      ) : null}

      <div className="card table-card">
        <div className="card-header sch-card-header">
          <div>
            <h2>{t('schedules.title')}</h2>
            <p className="muted small">{t('schedules.intro')}</p>
          </div>
          <div className="page-actions">
            {paused ? null : pauseAllButton}
            <button type="button" className="btn btn-primary" onClick={() => setForm({ mode: 'add' })} data-testid="schedule-add">
              <Icon name="plus" size={16} />
              {t('schedules.add')}
            </button>
          </div>
        </div>

        {schedules === null ? (
          <div className="loading sch-pad" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        ) : list.length === 0 ? (
          <EmptyState icon="clock" title={t('schedules.emptyTitle')}>
            <p>{t('schedules.emptyBody')}</p>
          </EmptyState>
        ) : (
          <DataTable
            data={list}
            columns={columns}
            getRowId={(s) => s.id}
            rowAttributes={(s) => ({
              'data-testid': 'schedule-row',
              'data-id': s.id,
              'data-name': s.name,
              'data-kind': s.kind,
              'data-enabled': s.enabled ? 'true' : 'false',
            })}
            rowClassName={(s) => (s.enabled ? undefined : 'sch-disabled')}
            rowHeight={null}
            tableClassName="sch-table"
            label={t('schedules.title')}
          />
        )}
      </div>

      <div className="card sch-defaults">
        <div className="card-header sch-card-header">
          <div>
            <h2>{t('schedules.defaults.title')}</h2>
            <p className="muted small">{t('schedules.defaults.hint')}</p>
          </div>
        </div>
        {connections.length === 0 ? (
          <p className="muted card-empty">
            {t('schedules.defaults.noConnections')} <a href={hrefFor('connections', 'new')}>{t('schedules.form.addConnection')}</a>
          </p>
        ) : (
          <ul className="sch-default-list">
            {connections.map((c) => (
              <li key={c.id} className="sch-default-item" data-connection={c.name}>
                <ErpBadge kind={c.kind} />
                <span className="strong truncate sch-default-name" title={c.name}>
                  {c.name}
                </span>
                <span className="muted small sch-default-what">{t(`schedules.defaults.${c.kind}`)}</span>
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => void offerDefaults(c)}
                  disabled={offering !== null}
                  data-testid="schedules-defaults"
                  data-connection-id={c.id}
                >
                  {offering === c.id ? <span className="spinner" aria-hidden="true" /> : <Icon name="sparkle" size={13} />}
                  {t('schedules.defaults.offer')}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>

      <ScheduleHistory
        runs={runs}
        schedules={list}
        filter={historyFilter}
        onFilter={setHistoryFilter}
        now={now}
        loading={historyLoading}
      />

      {form ? (
        <ScheduleFormDialog
          schedule={form.mode === 'edit' ? form.schedule : undefined}
          connections={connections}
          onClose={() => setForm(null)}
          onSaved={(s) => {
            setForm(null);
            setSchedules((l) => replaceSchedule(l, s));
            setNotice(t('schedules.saved', { name: s.name }));
            void loadSchedules();
          }}
        />
      ) : null}

      {toDelete ? (
        <ConfirmDialog
          title={t('schedules.confirmDeleteTitle', { name: toDelete.name })}
          body={t('schedules.confirmDeleteBody')}
          confirmLabel={t('schedules.confirmDelete')}
          busy={deleting}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setToDelete(null)}
        />
      ) : null}
    </section>
  );
}
