// The inbox: what matches the filters (how many and the amount at stake, the open ones per rule),
// the filters themselves, a virtualized table with row checkboxes, and the decisions on a selection
// (approve, reject, assign), each asking for a written reason.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useId, useMemo, useState, type KeyboardEvent, type MouseEvent, type UIEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { Connection } from '../../bindings/Connection';
import type { Divergence } from '../../bindings/Divergence';
import type { Rule } from '../../bindings/Rule';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { DateField, type FieldErrors } from '../../components/form';
import { formatNumber } from '../../format';
import { DecisionDialog, type DecisionTarget } from './DecisionDialog';
import {
  localRuleName,
  FLAG_ONLY_REASON,
  flagOnly,
  formatAmount,
  formatAmounts,
  formatConfidence,
  hasExtraFilters,
  plural,
  ruleName,
  STATUSES,
  statusLabel,
  type DecisionAction,
  type DivergenceStatus,
  type FilterField,
  type FilterValues,
} from './model';
import { DivergenceErrorBox, DivergenceStatusBadge, Money, When } from './Parts';
import type { Inbox } from './useInbox';

/** With the detail panel open the list keeps only what identifies a divergence. */
const DETAIL_HIDDEN = ['connection', 'confidence', 'firstSeen', 'assignee'];

/** Rows closer than this (px) to the end of the list ask for the next page. */
const LOAD_MARGIN = 600;

function SelectBox({ checked, indeterminate = false, label, onChange, testId }: { checked: boolean; indeterminate?: boolean; label: string; onChange: (v: boolean) => void; testId: string }) {
  const stop = (e: MouseEvent | KeyboardEvent) => e.stopPropagation();
  return (
    <input
      type="checkbox"
      className="div-check"
      checked={checked}
      ref={(el) => {
        if (el) el.indeterminate = indeterminate;
      }}
      aria-label={label}
      onChange={(e) => onChange(e.target.checked)}
      onClick={stop}
      onKeyDown={stop}
      data-testid={testId}
    />
  );
}

/** The summary line and the open count of each rule (a click filters by that rule). */
function Summary({ inbox, rules, onRule, activeRule }: { inbox: Inbox; rules: Rule[] | null; onRule: (id: string) => void; activeRule: string }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const chips = Object.entries(inbox.openByRule).filter(([, n]) => n > 0);
  return (
    <div className="div-summary card" data-testid="divergences-summary">
      <p className="div-summary-line" data-testid="divergences-summary-line">
        {plural(i18n, 'divergences.inbox.summary', inbox.total, { amount: formatAmounts(inbox.amounts, lng) })}
      </p>
      {chips.length > 0 ? (
        <div className="div-chips" aria-label={t('divergences.inbox.openByRule')}>
          <span className="muted small">{t('divergences.inbox.openByRule')}</span>
          {chips.map(([id, n]) => (
            <button
              key={id}
              type="button"
              className={activeRule === id ? 'div-chip active' : 'div-chip'}
              aria-pressed={activeRule === id}
              onClick={() => onRule(activeRule === id ? '' : id)}
              data-testid="divergences-rule-chip"
              data-rule={id}
            >
              <span className="truncate">{ruleName(rules, id, undefined, i18n)}</span>
              <span className="div-chip-count tabular">{formatNumber(n, lng)}</span>
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function Filters({
  values,
  onChange,
  errors,
  rules,
  connections,
  assignees,
  onReset,
}: {
  values: FilterValues;
  onChange: (v: Partial<FilterValues>) => void;
  errors: FieldErrors<FilterField>;
  rules: Rule[] | null;
  connections: Connection[] | null;
  assignees: string[];
  onReset: () => void;
}) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const toggle = (s: DivergenceStatus) =>
    onChange({ statuses: values.statuses.includes(s) ? values.statuses.filter((x) => x !== s) : STATUSES.filter((x) => x === s || values.statuses.includes(x)) });
  const err = (f: FilterField) => (errors[f] ? t(errors[f] as string) : null);
  return (
    <section className="card div-filters" aria-label={t('divergences.filters.title')} data-testid="divergences-filters">
      <fieldset className="div-statuses">
        <legend>
          {t('divergences.filters.status')}
          {values.statuses.length === 0 ? ` (${t('divergences.filters.allStatuses')})` : ''}
        </legend>
        {STATUSES.map((s) => (
          <label key={s} className={values.statuses.includes(s) ? 'div-toggle on' : 'div-toggle'}>
            <input type="checkbox" checked={values.statuses.includes(s)} onChange={() => toggle(s)} data-testid={`divergences-status-${s}`} />
            {statusLabel(i18n, s)}
          </label>
        ))}
      </fieldset>
      <div className="div-filter-grid">
        <label className="filter">
          <span>{t('divergences.filters.rule')}</span>
          <select value={values.ruleId} onChange={(e) => onChange({ ruleId: e.target.value })} data-testid="divergences-filter-rule">
            <option value="">{t('divergences.filters.allRules')}</option>
            {(rules ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {localRuleName(i18n, r.id, r.name)}
              </option>
            ))}
            {values.ruleId && !(rules ?? []).some((r) => r.id === values.ruleId) ? <option value={values.ruleId}>{values.ruleId}</option> : null}
          </select>
        </label>
        <label className="filter">
          <span>{t('divergences.filters.connection')}</span>
          <select value={values.connectionId} onChange={(e) => onChange({ connectionId: e.target.value })} data-testid="divergences-filter-connection">
            <option value="">{t('divergences.filters.allConnections')}</option>
            {(connections ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label className="filter div-filter-small">
          <span>{t('divergences.filters.minConfidence')}</span>
          <input
            type="text"
            inputMode="numeric"
            value={values.minConfidence}
            onChange={(e) => onChange({ minConfidence: e.target.value })}
            placeholder="0–100"
            aria-invalid={errors.minConfidence ? true : undefined}
            aria-describedby={errors.minConfidence ? `${id}-conf` : undefined}
            data-testid="divergences-filter-confidence"
          />
          {err('minConfidence') ? (
            <span id={`${id}-conf`} className="field-error">
              {err('minConfidence')}
            </span>
          ) : null}
        </label>
        <label className="filter div-filter-small">
          <span>{t('divergences.filters.minAmount')}</span>
          <input
            type="text"
            inputMode="decimal"
            value={values.minAmount}
            onChange={(e) => onChange({ minAmount: e.target.value })}
            placeholder={formatAmount('0', i18n.language, 'BRL')}
            aria-invalid={errors.minAmount ? true : undefined}
            aria-describedby={errors.minAmount ? `${id}-amount` : undefined}
            data-testid="divergences-filter-amount"
          />
          {err('minAmount') ? (
            <span id={`${id}-amount`} className="field-error">
              {err('minAmount')}
            </span>
          ) : null}
        </label>
        <DateField
          id={`${id}-from`}
          className="div-date"
          label={t('divergences.filters.from')}
          value={values.from}
          onChange={(v) => onChange({ from: v })}
          data-testid="divergences-filter-from"
        />
        <DateField
          id={`${id}-to`}
          className="div-date"
          label={t('divergences.filters.to')}
          value={values.to}
          onChange={(v) => onChange({ to: v })}
          error={errors.to === 'divergences.filters.periodReversed' ? t(errors.to) : undefined}
          data-testid="divergences-filter-to"
        />
        <label className="filter">
          <span>{t('divergences.filters.assignee')}</span>
          <input
            type="text"
            list={`${id}-assignees`}
            value={values.assignee}
            onChange={(e) => onChange({ assignee: e.target.value })}
            placeholder={t('divergences.filters.anyone')}
            data-testid="divergences-filter-assignee"
          />
          <datalist id={`${id}-assignees`}>
            {assignees.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label className="filter div-filter-search">
          <span>{t('divergences.filters.search')}</span>
          <input
            type="search"
            value={values.search}
            onChange={(e) => onChange({ search: e.target.value })}
            placeholder={t('divergences.filters.searchPlaceholder')}
            data-testid="divergences-filter-search"
          />
        </label>
        <button type="button" className="btn btn-small div-filter-reset" onClick={onReset} data-testid="divergences-filter-reset">
          {t('divergences.filters.reset')}
        </button>
      </div>
    </section>
  );
}

export function InboxTab({
  values,
  onValues,
  onReset,
  errors,
  inbox,
  rules,
  connections,
  detailId,
  onOpen,
  onChanged,
}: {
  values: FilterValues;
  onValues: (v: Partial<FilterValues>) => void;
  onReset: () => void;
  errors: FieldErrors<FilterField>;
  inbox: Inbox;
  rules: Rule[] | null;
  connections: Connection[] | null;
  detailId: string | null;
  onOpen: (id: string) => void;
  /** A decision changed divergences: the lists are read again. */
  onChanged: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const rows = inbox.rows;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [dialog, setDialog] = useState<{ action: DecisionAction; targets: DecisionTarget[] } | null>(null);

  // A new list (another filter, a reload) keeps only the selected rows it still shows.
  useEffect(() => {
    setSelected((cur) => {
      if (cur.size === 0 || !rows) return cur;
      const shown = new Set(rows.map((r) => r.id));
      const kept = [...cur].filter((id) => shown.has(id));
      return kept.length === cur.size ? cur : new Set(kept);
    });
  }, [rows]);

  const toggle = useCallback((id: string, on: boolean) => {
    setSelected((cur) => {
      const next = new Set(cur);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }, []);

  const allShown = rows !== null && rows.length > 0 && rows.every((r) => selected.has(r.id));
  const someShown = rows !== null && rows.some((r) => selected.has(r.id));
  const selectAll = useCallback((on: boolean) => setSelected(on && rows ? new Set(rows.map((r) => r.id)) : new Set()), [rows]);

  const assignees = useMemo(
    () => Array.from(new Set((rows ?? []).map((r) => r.assignee).filter((a): a is string => Boolean(a)))).sort().slice(0, 200),
    [rows],
  );

  const columns = useMemo<ColumnDef<Divergence>[]>(
    () => [
      {
        id: 'select',
        header: () => (
          <SelectBox
            checked={allShown}
            indeterminate={!allShown && someShown}
            label={t('divergences.inbox.selectAll')}
            onChange={selectAll}
            testId="divergences-select-all"
          />
        ),
        meta: { width: '44px' },
        cell: ({ row }) => (
          <SelectBox
            checked={selected.has(row.original.id)}
            label={t('divergences.inbox.selectOne', { record: row.original.record_label })}
            onChange={(on) => toggle(row.original.id, on)}
            testId="divergences-select"
          />
        ),
      },
      {
        id: 'status',
        header: t('divergences.inbox.colStatus'),
        meta: { width: '176px' },
        cell: ({ row }) => <DivergenceStatusBadge status={row.original.status} />,
      },
      {
        id: 'rule',
        header: t('divergences.inbox.colRule'),
        size: 180,
        cell: ({ row }) => (
          <span className="truncate block" title={ruleName(rules, row.original.rule_id, row.original.rule_name, i18n)}>
            {ruleName(rules, row.original.rule_id, row.original.rule_name, i18n)}
          </span>
        ),
      },
      {
        id: 'record',
        header: t('divergences.inbox.colRecord'),
        size: 240,
        cell: ({ row }) => (
          <span className="strong truncate block" title={row.original.record_label}>
            {row.original.record_label || row.original.record_id}
          </span>
        ),
      },
      {
        id: 'connection',
        header: t('divergences.inbox.colConnection'),
        size: 150,
        cell: ({ row }) => <span className="truncate block">{row.original.connection_name ?? t('divergences.inbox.connectionGone')}</span>,
      },
      {
        id: 'confidence',
        header: t('divergences.inbox.colConfidence'),
        meta: { width: '100px', className: 'div-num' },
        cell: ({ row }) => <span className="tabular">{formatConfidence(row.original.confidence, lng)}</span>,
      },
      {
        id: 'amount',
        header: t('divergences.inbox.colAmount'),
        meta: { width: '140px', className: 'div-num' },
        cell: ({ row }) => <Money value={row.original.amount} currency={row.original.currency} />,
      },
      {
        id: 'firstSeen',
        header: t('divergences.inbox.colFirstSeen'),
        meta: { width: '112px' },
        cell: ({ row }) => <When at={row.original.first_seen_at} />,
      },
      {
        id: 'assignee',
        header: t('divergences.inbox.colAssignee'),
        size: 120,
        cell: ({ row }) => (row.original.assignee ? <span className="truncate block">{row.original.assignee}</span> : <span className="muted">—</span>),
      },
    ],
    [t, lng, rules, selected, allShown, someShown, selectAll, toggle],
  );

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.target as HTMLElement;
    if (!el.classList?.contains('table-scroll')) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < LOAD_MARGIN) inbox.loadMore();
  };

  const openDialog = (action: DecisionAction) => {
    const chosen = (rows ?? []).filter((r) => selected.has(r.id));
    setDialog({
      action,
      targets: chosen.map((r) => ({
        id: r.id,
        label: r.record_label || r.record_id,
        skip: action === 'approve' && flagOnly(r) ? FLAG_ONLY_REASON : null,
      })),
    });
  };

  const filtered = hasExtraFilters(values);
  const nothingAtAll = rows !== null && inbox.total === 0 && !filtered && !inbox.error;

  return (
    <div className="div-inbox" data-testid="divergences-inbox">
      <Summary inbox={inbox} rules={rules} activeRule={values.ruleId} onRule={(id) => onValues({ ruleId: id })} />
      <Filters
        values={values}
        onChange={onValues}
        errors={errors}
        rules={rules}
        connections={connections}
        assignees={assignees}
        onReset={onReset}
      />
      {inbox.error ? <DivergenceErrorBox error={inbox.error} onDismiss={inbox.clearError} testId="divergences-error" /> : null}

      {selected.size > 0 ? (
        <div className="div-bulk" role="toolbar" aria-label={t('divergences.bulk.label')} data-testid="divergences-bulk">
          <span className="strong">{plural(i18n, 'divergences.bulk.selected', selected.size)}</span>
          <button type="button" className="btn btn-small btn-primary" onClick={() => openDialog('approve')} data-testid="bulk-approve">
            <Icon name="check" size={14} />
            {t('divergences.bulk.approve')}
          </button>
          <button type="button" className="btn btn-small btn-danger-outline" onClick={() => openDialog('reject')} data-testid="bulk-reject">
            <Icon name="close" size={14} />
            {t('divergences.bulk.reject')}
          </button>
          <button type="button" className="btn btn-small" onClick={() => openDialog('assign')} data-testid="bulk-assign">
            <Icon name="edit" size={14} />
            {t('divergences.bulk.assign')}
          </button>
          <button type="button" className="link-button small" onClick={() => setSelected(new Set())} data-testid="bulk-clear">
            {t('divergences.bulk.clear')}
          </button>
        </div>
      ) : null}

      {rows === null ? <Loading /> : null}

      {nothingAtAll ? (
        <div className="card">
          <EmptyState icon="scale" title={t('divergences.inbox.emptyTitle')}>
            <p>{t('divergences.inbox.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}

      {rows !== null && !nothingAtAll ? (
        <div className="card table-card div-table" onScrollCapture={onScroll} data-testid="divergences-table" data-count={rows.length} data-total={inbox.total}>
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('divergences.inbox.tableLabel')}
            rowHeight={46}
            selectedId={detailId}
            onRowClick={(r) => onOpen(r.id)}
            rowAttributes={(r) => ({
              'data-testid': 'divergence-row',
              'data-id': r.id,
              'data-status': r.status,
              'data-rule': r.rule_id,
            })}
            rowClassName={(r) => (selected.has(r.id) ? 'div-row-checked' : undefined)}
            empty={<p className="muted table-empty-text">{t('divergences.inbox.emptyFiltered')}</p>}
            hiddenColumns={detailId ? DETAIL_HIDDEN : undefined}
          />
          {rows.length < inbox.total ? (
            <div className="div-table-foot">
              <span className="muted small">
                {t('divergences.inbox.shown', { shown: formatNumber(rows.length, lng), total: formatNumber(inbox.total, lng) })}
              </span>
              <button type="button" className="btn btn-small" onClick={inbox.loadMore} disabled={inbox.loading} data-testid="divergences-more">
                {inbox.loading ? <span className="spinner" aria-hidden="true" /> : null}
                {t('divergences.inbox.more')}
              </button>
            </div>
          ) : null}
        </div>
      ) : null}

      {dialog ? (
        <DecisionDialog
          action={dialog.action}
          targets={dialog.targets}
          onClose={(changed) => {
            setDialog(null);
            if (changed) setSelected(new Set());
          }}
          onDone={(r) => {
            if (r.changed.length > 0) onChanged();
          }}
        />
      ) : null}
    </div>
  );
}
