// The list of transfers: status, current step, the documents each created (links that open them
// on their site), started and updated times. Follows the transfer jobs live.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as erp from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { RunStatus } from '../../bindings/RunStatus';
import type { TransferRun } from '../../bindings/TransferRun';
import { DataTable } from '../../components/DataTable';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { formatNumber } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { useNow } from '../../hooks/useNow';
import { hrefForPath, navigatePath } from '../../router';
import { RUN_STATUSES, isActiveRun, runTitle, stepName } from './model';
import { DocList, RunStatusBadge, When } from './Parts';

const LIMIT = 500;

/** The current step of a run in words ("2 of 4 · Purchase Receipt on site A"). */
export function StepCell({ run }: { run: TransferRun }) {
  const { t, i18n } = useTranslation();
  if (run.status === 'succeeded') return <span className="muted small">{t('erpnext.runs.allSteps')}</span>;
  if (run.current_step == null) return <span className="muted">—</span>;
  return (
    <span className="erp-step-cell small">
      {t('erpnext.runs.stepOf', { n: run.current_step, name: stepName(i18n, run.current_step) })}
      {run.queued ? <span className="badge erp-queued">{t('erpnext.runs.queued')}</span> : null}
    </span>
  );
}

export function ErpnextRuns() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [runs, setRuns] = useState<TransferRun[] | null>(null);
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [error, setError] = useState<ApiError | null>(null);
  const timer = useRef<number | null>(null);
  const seq = useRef(0);
  const anyActive = (runs ?? []).some((r) => isActiveRun(r.status));
  const now = useNow(anyActive ? 5000 : 30_000);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const list = (await erp.erpnextRuns({ status: status === '' ? null : status, limit: LIMIT })) ?? [];
      if (mine !== seq.current) return;
      setRuns(list);
      setError(null);
    } catch (e) {
      if (mine === seq.current) setError(toApiError(e));
    }
  }, [status]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
    },
    [],
  );

  // A transfer job changed: reload soon (events come in bursts while a step runs).
  useJobEvents(
    (e) => {
      if (e.job.kind !== erp.ERPNEXT_WORKFLOW_KIND) return;
      if (timer.current !== null) return;
      timer.current = window.setTimeout(() => {
        timer.current = null;
        void load();
      }, 400);
    },
    () => void load(),
  );

  const columns = useMemo<ColumnDef<TransferRun>[]>(
    () => [
      {
        id: 'status',
        header: t('erpnext.runs.colStatus'),
        size: 150,
        cell: ({ row }) => <RunStatusBadge status={row.original.status} />,
      },
      {
        id: 'transfer',
        header: t('erpnext.runs.colTransfer'),
        size: 235,
        cell: ({ row }) => {
          const r = row.original;
          return (
            <span className="erp-run-cell">
              <a href={hrefForPath('erpnext', 'runs', r.id)} className="strong erp-run-summary" title={runTitle(i18n, r)}>
                {runTitle(i18n, r)}
              </a>
              <span className="muted small truncate">{t('erpnext.run.sites', { a: r.site_a_name, b: r.site_b_name })}</span>
            </span>
          );
        },
      },
      {
        id: 'step',
        header: t('erpnext.runs.colStep'),
        size: 140,
        cell: ({ row }) => <StepCell run={row.original} />,
      },
      {
        id: 'documents',
        header: t('erpnext.runs.colDocuments'),
        size: 210,
        cell: ({ row }) => <DocList docs={row.original.documents} />,
      },
      {
        id: 'started',
        header: t('erpnext.runs.colStarted'),
        size: 120,
        cell: ({ row }) => <When at={row.original.created_at} now={now} />,
      },
      {
        id: 'updated',
        header: t('erpnext.runs.colUpdated'),
        size: 115,
        cell: ({ row }) => <When at={row.original.updated_at} now={now} compact />,
      },
    ],
    [t, now],
  );

  return (
    <section className="card table-card erp-runs-card" aria-labelledby="erp-runs-title">
      <div className="card-header">
        <div className="erp-runs-head">
          <h2 id="erp-runs-title">{t('erpnext.runs.title')}</h2>
          {runs ? (
            <span className="muted small tabular">{t('erpnext.runs.count', { n: formatNumber(runs.length, lng) })}</span>
          ) : null}
        </div>
        <div className="erp-runs-tools">
          <label className="filter">
            <span>{t('erpnext.runs.filterStatus')}</span>
            <select value={status} onChange={(e) => setStatus(e.target.value as RunStatus | '')} data-testid="erpnext-runs-filter">
              <option value="">{t('erpnext.runs.all')}</option>
              {RUN_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`erpnext.runStatus.${s}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="btn btn-small" onClick={() => void load()} data-testid="erpnext-runs-refresh">
            <Icon name="refresh" size={14} />
            {t('erpnext.refresh')}
          </button>
        </div>
      </div>
      {error ? (
        <div className="erp-pad">
          <ErrorBox error={error} onDismiss={() => setError(null)} />
        </div>
      ) : null}
      <div data-testid="erpnext-runs" className="erp-runs-table">
        {runs === null && !error ? (
          <Loading />
        ) : (
          <DataTable
            data={runs ?? []}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('erpnext.runs.title')}
            rowHeight={64}
            onRowClick={(r) => navigatePath('erpnext', 'runs', r.id)}
            rowAttributes={(r) => ({ 'data-testid': 'erpnext-run-row', 'data-status': r.status, 'data-id': r.id })}
            empty={<p className="muted table-empty-text">{status ? t('erpnext.runs.emptyFiltered') : t('erpnext.runs.empty')}</p>}
          />
        )}
      </div>
    </section>
  );
}
