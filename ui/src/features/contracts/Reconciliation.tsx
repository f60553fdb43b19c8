// The Reconciliation tab: one month of one company, every client's contracted vs billed with its
// verdict. How fresh the billing data is, the month's totals, chips that filter by verdict, the
// table (a click opens the client-month), and the month exported as CSV or Excel.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { ClientMonth } from '../../bindings/ClientMonth';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import type { Reconciliation } from '../../bindings/Reconciliation';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { Notice } from '../../components/Notice';
import { toApiError } from '../../errors';
import { formatDateTime, formatNumber } from '../../format';
import { hrefFor } from '../../router';
import { exportReconciliation, reconcileBilling } from './api';
import { BillingDetailPanel } from './BillingDetail';
import {
  currentMonth,
  isMonth,
  money,
  monthLabel,
  monthOptions,
  plural,
  reconcileQuery,
  shiftMonth,
  VERDICTS,
  verdictLabel,
  type Verdict,
} from './model';
import { ClientCell, ContractErrorBox, VerdictBadge } from './Parts';

/** With the detail panel open the table keeps what identifies a row and its verdict. */
const DETAIL_HIDDEN = ['contracted', 'billed', 'tolerance'];

/** The month picker: previous, the month by name, next. */
export function MonthPicker({ month, onChange }: { month: string; onChange: (m: string) => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const options = useMemo(() => monthOptions(month), [month]);
  return (
    <div className="billing-month" role="group" aria-label={t('contracts.month.label')}>
      <button type="button" className="icon-button" onClick={() => onChange(shiftMonth(month, -1))} aria-label={t('contracts.month.previous')} data-testid="billing-month-prev">
        <Icon name="chevron" size={16} className="billing-chevron-back" />
      </button>
      <select
        value={month}
        onChange={(e) => onChange(e.target.value)}
        aria-label={t('contracts.month.label')}
        data-testid="billing-month"
        data-month={month}
      >
        {options.map((m) => (
          <option key={m} value={m}>
            {monthLabel(m, lng)}
          </option>
        ))}
      </select>
      <button type="button" className="icon-button" onClick={() => onChange(shiftMonth(month, 1))} aria-label={t('contracts.month.next')} data-testid="billing-month-next">
        <Icon name="chevron" size={16} />
      </button>
    </div>
  );
}

/** How fresh the billing data is: a line when it is, a warning when it is old, never synced or its last sync failed. */
function DataBanner({ rec, erp }: { rec: Reconciliation; erp: ConnectionKind | null }) {
  const { t, i18n } = useTranslation();
  const when = rec.data_as_of ? formatDateTime(rec.data_as_of, i18n.language) : null;
  const lines: string[] = [];
  let state: 'fresh' | 'stale' | 'never' | 'failed' = 'fresh';
  if (rec.last_sync_failed) {
    state = 'failed';
    lines.push(when ? t('contracts.reconciliation.lastSyncFailed', { when }) : t('contracts.reconciliation.lastSyncFailedNever'));
    if (when && rec.stale) lines.push(t('contracts.reconciliation.stale', { when }));
  } else if (!when) {
    state = 'never';
    lines.push(t('contracts.reconciliation.neverSynced'));
  } else if (rec.stale) {
    state = 'stale';
    lines.push(t('contracts.reconciliation.stale', { when }));
  } else {
    lines.push(t('contracts.reconciliation.dataAsOf', { when }));
  }
  if (state === 'fresh') {
    return (
      <p className="muted small billing-as-of" data-testid="billing-data-as-of" data-state={state}>
        <Icon name="clock" size={14} />
        {lines[0]}
      </p>
    );
  }
  return (
    <div className="alert alert-warning" role="status" data-testid="billing-data-as-of" data-state={state}>
      <Icon name="alert" size={20} className="alert-icon" />
      <div className="alert-body">
        {lines.map((l) => (
          <p key={l} className="alert-text">
            {l}
          </p>
        ))}
        {erp ? (
          <a className="link-quiet small" href={hrefFor(erp)} data-testid="billing-open-erp">
            {t('contracts.reconciliation.openErp', { erp: t(`erp.${erp}`) })}
            <Icon name="chevron" size={12} />
          </a>
        ) : null}
      </div>
    </div>
  );
}

export function ReconciliationTab({
  month,
  onMonth,
  connectionId,
  erp,
  openClient,
  onOpenClient,
  nameCompany = false,
}: {
  month: string;
  onMonth: (m: string) => void;
  /** The company chosen (null: the only one there is). */
  connectionId: string | null;
  /** The company's ERP (for the "sync it" link). */
  erp: ConnectionKind | null;
  /** The client whose month is open in the side panel. */
  openClient: string | null;
  onOpenClient: (client: string | null) => void;
  /** Say which company the figures are of (no company picker shows it). */
  nameCompany?: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [rec, setRec] = useState<Reconciliation | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  const [chosen, setChosen] = useState<ReadonlySet<Verdict>>(new Set());
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<string | null>(null);
  const [exportError, setExportError] = useState<ApiError | null>(null);

  const safeMonth = isMonth(month) ? month : currentMonth();

  useEffect(() => {
    let gone = false;
    setLoading(true);
    (async () => {
      try {
        const r = await reconcileBilling(reconcileQuery(safeMonth, connectionId));
        if (!gone) {
          setRec(r ?? null);
          setError(null);
        }
      } catch (e) {
        if (!gone) {
          setError(toApiError(e));
          setRec(null);
        }
      } finally {
        if (!gone) setLoading(false);
      }
    })();
    return () => {
      gone = true;
    };
  }, [safeMonth, connectionId, refreshKey]);

  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);

  const rows = useMemo(() => {
    const all = rec?.rows ?? [];
    return chosen.size === 0 ? all : all.filter((r) => chosen.has(r.verdict as Verdict));
  }, [rec, chosen]);

  const toggle = (v: Verdict) =>
    setChosen((cur) => {
      const next = new Set(cur);
      if (next.has(v)) next.delete(v);
      else next.add(v);
      return next;
    });

  const exportFile = async (format: 'csv' | 'xlsx') => {
    setExporting(true);
    setExported(null);
    setExportError(null);
    try {
      setExported(await exportReconciliation(reconcileQuery(safeMonth, connectionId ?? rec?.connection_id ?? null, [...chosen]), format));
    } catch (e) {
      setExportError(toApiError(e));
    } finally {
      setExporting(false);
    }
  };

  const currency = rec?.currency ?? 'BRL';
  const columns = useMemo<ColumnDef<ClientMonth>[]>(
    () => [
      {
        id: 'client',
        header: t('contracts.reconciliation.colClient'),
        size: 260,
        cell: ({ row }) => <ClientCell name={row.original.client_name} document={row.original.client_document} code={row.original.client} />,
      },
      {
        id: 'contracted',
        header: t('contracts.reconciliation.colContracted'),
        size: 120,
        meta: { className: 'billing-num' },
        cell: ({ row }) => <span className="tabular">{money(row.original.contracted, lng, row.original.currency)}</span>,
      },
      {
        id: 'billed',
        header: t('contracts.reconciliation.colBilled'),
        size: 120,
        meta: { className: 'billing-num' },
        cell: ({ row }) => <span className="tabular">{money(row.original.billed, lng, row.original.currency)}</span>,
      },
      {
        id: 'difference',
        header: t('contracts.reconciliation.colDifference'),
        size: 120,
        meta: { className: 'billing-num' },
        cell: ({ row }) => {
          const d = row.original.difference.trim();
          const negative = d.startsWith('-') && /[1-9]/.test(d);
          return (
            <span className={negative ? 'tabular billing-negative' : 'tabular'} data-testid="billing-difference" data-negative={negative || undefined}>
              {money(d, lng, row.original.currency)}
            </span>
          );
        },
      },
      {
        id: 'tolerance',
        header: t('contracts.reconciliation.colTolerance'),
        size: 110,
        meta: { className: 'billing-num' },
        cell: ({ row }) => <span className="tabular muted">{money(row.original.tolerance, lng, row.original.currency)}</span>,
      },
      {
        id: 'verdict',
        header: t('contracts.reconciliation.colVerdict'),
        size: 190,
        cell: ({ row }) => <VerdictBadge verdict={row.original.verdict} />,
      },
    ],
    [t, lng],
  );

  const open = openClient ? (rec?.rows.find((r) => r.client === openClient) ?? null) : null;
  const counts = rec?.totals.verdicts ?? {};
  const total = rec?.totals.clients ?? 0;

  return (
    <div className="billing-reconciliation" data-testid="billing-reconciliation">
      <div className="billing-toolbar">
        <div className="billing-toolbar-actions">
          <MonthPicker month={safeMonth} onChange={onMonth} />
          {nameCompany && rec?.connection_name ? (
            <span className="muted small" data-testid="billing-company-name">
              {rec.connection_name}
            </span>
          ) : null}
        </div>
        <div className="billing-toolbar-actions">
          <button type="button" className="btn btn-small" onClick={refresh} disabled={loading} data-testid="billing-refresh">
            {loading ? <span className="spinner" aria-hidden="true" /> : <Icon name="refresh" size={14} />}
            {t('contracts.reconciliation.refresh')}
          </button>
          <button type="button" className="btn btn-small" onClick={() => void exportFile('xlsx')} disabled={exporting || !rec} data-testid="billing-export-xlsx">
            {exporting ? <span className="spinner" aria-hidden="true" /> : <Icon name="list" size={14} />}
            {t('contracts.reconciliation.exportXlsx')}
          </button>
          <button type="button" className="btn btn-small" onClick={() => void exportFile('csv')} disabled={exporting || !rec} data-testid="billing-export-csv">
            {t('contracts.reconciliation.exportCsv')}
          </button>
        </div>
      </div>

      {exported ? (
        <Notice testId="billing-exported" onDismiss={() => setExported(null)}>
          {t('contracts.reconciliation.exported')} <span className="mono selectable">{exported}</span>
        </Notice>
      ) : null}
      {exportError ? <ContractErrorBox error={exportError} onDismiss={() => setExportError(null)} testId="billing-export-error" /> : null}
      {error ? <ContractErrorBox error={error} onDismiss={() => setError(null)} testId="billing-error" /> : null}
      {!rec && !error ? <Loading /> : null}

      {rec ? (
        <>
          <DataBanner rec={rec} erp={erp} />
          {rec.unreadable.length > 0 ? (
            <div className="alert alert-warning" role="status" data-testid="billing-unreadable">
              <Icon name="alert" size={20} className="alert-icon" />
              <div className="alert-body">
                <p className="alert-text">
                  {plural(i18n, 'contracts.reconciliation.unreadable', rec.unreadable.length, {
                    list: rec.unreadable
                      .slice(0, 10)
                      .map(([id, v]) => `${id} (${v})`)
                      .join(', '),
                  })}
                </p>
              </div>
            </div>
          ) : null}

          <div className="card div-summary billing-summary" data-testid="billing-summary">
            <p className="div-summary-line" data-testid="billing-totals">
              {plural(i18n, 'contracts.reconciliation.totals', total, {
                month: monthLabel(rec.month, lng),
                contracted: money(rec.totals.contracted, lng, currency),
                billed: money(rec.totals.billed, lng, currency),
              })}
            </p>
            {total > 0 ? (
              <div className="div-chips" role="group" aria-label={t('contracts.reconciliation.filterLabel')}>
                <button
                  type="button"
                  className={chosen.size === 0 ? 'div-chip active' : 'div-chip'}
                  aria-pressed={chosen.size === 0}
                  onClick={() => setChosen(new Set())}
                  data-testid="billing-verdict-all"
                >
                  <span>{t('contracts.reconciliation.allVerdicts')}</span>
                  <span className="div-chip-count billing-chip-count tabular">{formatNumber(total, lng)}</span>
                </button>
                {VERDICTS.filter((v) => (counts[v] ?? 0) > 0 || chosen.has(v)).map((v) => (
                  <button
                    key={v}
                    type="button"
                    className={chosen.has(v) ? 'div-chip active' : 'div-chip'}
                    aria-pressed={chosen.has(v)}
                    onClick={() => toggle(v)}
                    data-testid="billing-verdict-chip"
                    data-verdict={v}
                  >
                    <span className="truncate">{verdictLabel(i18n, v)}</span>
                    <span className={`div-chip-count billing-chip-count billing-chip-${v} tabular`}>{formatNumber(counts[v] ?? 0, lng)}</span>
                  </button>
                ))}
              </div>
            ) : null}
          </div>

          {total === 0 ? (
            <div className="card">
              <EmptyState icon="scale" title={t('contracts.reconciliation.emptyTitle', { month: monthLabel(rec.month, lng) })}>
                <p>{t('contracts.reconciliation.emptyBody')}</p>
              </EmptyState>
            </div>
          ) : (
            <div className="card table-card billing-table" data-testid="billing-table" data-count={rows.length} data-month={rec.month}>
              <DataTable
                data={rows}
                columns={columns}
                getRowId={(r) => `${r.connection_id}|${r.client}`}
                label={t('contracts.reconciliation.tableLabel')}
                rowHeight={56}
                selectedId={open ? `${open.connection_id}|${open.client}` : null}
                onRowClick={(r) => onOpenClient(r.client)}
                rowAttributes={(r) => ({
                  'data-testid': 'billing-row',
                  'data-client': r.client,
                  'data-verdict': r.verdict,
                })}
                empty={<p className="muted table-empty-text">{t('contracts.reconciliation.emptyFiltered')}</p>}
                hiddenColumns={open ? DETAIL_HIDDEN : undefined}
              />
            </div>
          )}
        </>
      ) : null}

      {open ? (
        <BillingDetailPanel
          key={`${open.connection_id}|${open.client}|${open.month}`}
          row={open}
          connectionId={connectionId ?? (rec?.connection_id || null)}
          onClose={() => onOpenClient(null)}
          onChanged={refresh}
        />
      ) : null}
    </div>
  );
}
