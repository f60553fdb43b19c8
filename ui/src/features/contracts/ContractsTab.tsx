// The Contracts tab: the contract book of the company — client, what it asks for a month, its
// dates, billing day, status and readjustment — typed in or imported from a spreadsheet, each
// change with a reason and a history.
import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Contract } from '../../bindings/Contract';
import type { ContractChange } from '../../bindings/ContractChange';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { Modal } from '../../components/Modal';
import { Notice } from '../../components/Notice';
import { controlProps, Field, useFieldErrors, useSubmit } from '../../components/form';
import { toApiError } from '../../errors';
import { formatDateOnly, formatDateTime } from '../../format';
import { actorLabel } from '../divergences/model';
import { contractHistory, contracts as listContracts, deleteContract } from './api';
import { ContractFormDialog } from './ContractForm';
import { ImportDialog } from './ImportDialog';
import { documentText, MAX_REASON, money, plural, readjustText } from './model';
import { ClientCell, ContractErrorBox, ContractStatusBadge } from './Parts';

/** The sum of the contracts' monthly values, exact to the cent (for the summary line). */
function mrrTotal(list: readonly Contract[]): string {
  let cents = 0n;
  for (const c of list) {
    if (c.status !== 'active') continue;
    const m = /^(-?)(\d+)(?:\.(\d{1,2})\d*)?$/.exec(c.mrr.trim());
    if (!m) continue;
    const v = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0') || '0');
    cents += m[1] === '-' ? -v : v;
  }
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

function DeleteDialog({ contract, onClose, onDeleted }: { contract: Contract; onClose: () => void; onDeleted: () => void }) {
  const { t } = useTranslation();
  const ids = useId();
  const [reason, setReason] = useState('');
  const { errors, setErrors, message, clear } = useFieldErrors<'reason'>();
  const submit = useSubmit();
  const fieldId = `${ids}-reason`;
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim() === '') {
      setErrors({ reason: 'contracts.delete.reasonRequired' });
      return;
    }
    setErrors({});
    await submit.run(async () => {
      await deleteContract(contract.id, reason.trim());
      onDeleted();
    });
  };
  return (
    <Modal title={t('contracts.delete.title', { description: contract.description })} onClose={onClose} testId="contract-delete-dialog">
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        <p>{t('contracts.delete.body', { client: contract.client_name || documentText(contract.client_document) || contract.client_code })}</p>
        <Field id={fieldId} label={t('contracts.delete.reason')} error={message('reason')} errorTestId="contract-delete-error-reason" hint={t('contracts.delete.reasonHint')}>
          <textarea
            {...controlProps(fieldId, errors.reason !== undefined)}
            rows={2}
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
              clear('reason');
            }}
            maxLength={MAX_REASON}
            aria-required="true"
            data-testid="contract-delete-reason"
          />
        </Field>
        {submit.error ? <ContractErrorBox error={submit.error} testId="form-error" onDismiss={() => submit.setError(null)} /> : null}
        <div className="modal-footer form-footer">
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-danger" disabled={submit.busy} data-testid="contract-delete-confirm">
            {submit.busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="trash" size={16} />}
            {t('contracts.delete.confirm')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function HistoryDialog({ contract, onClose }: { contract: Contract; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [items, setItems] = useState<ContractChange[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let gone = false;
    contractHistory(contract.id).then(
      (h) => {
        if (!gone) setItems(h ?? []);
      },
      (e) => {
        if (!gone) setError(toApiError(e));
      },
    );
    return () => {
      gone = true;
    };
  }, [contract.id]);
  return (
    <Modal
      title={t('contracts.history.title', { description: contract.description })}
      onClose={onClose}
      testId="contract-history-dialog"
      footer={
        <button type="button" className="btn" onClick={onClose} data-autofocus>
          {t('common.close')}
        </button>
      }
    >
      {error ? <ContractErrorBox error={error} /> : null}
      {!items && !error ? <Loading /> : null}
      {items && items.length === 0 ? <p className="muted">{t('contracts.history.empty')}</p> : null}
      {items && items.length > 0 ? (
        <ol className="div-history" data-testid="contract-history">
          {items.map((h) => (
            <li key={`${h.version}-${h.changed_at}`} data-testid="contract-change" data-version={h.version}>
              <div className="div-event-head">
                <span className="strong">{h.deleted ? t('contracts.history.deleted') : t('contracts.history.version', { version: h.version })}</span>
                <time className="small tabular" dateTime={h.changed_at}>
                  {formatDateTime(h.changed_at, i18n.language)}
                </time>
              </div>
              <div className="muted small">{t('contracts.history.byOn', { who: actorLabel(i18n, h.who), machine: h.machine })}</div>
              {h.reason ? <p className="div-note">{h.reason}</p> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </Modal>
  );
}

export function ContractsTab({
  connectionId,
  companyName,
  currency,
  onChanged,
}: {
  /** The company shown (null: the only one there is). */
  connectionId: string | null;
  companyName: string | null;
  currency: string;
  /** Contracts changed: the reconciliation is read again when shown. */
  onChanged: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [list, setList] = useState<Contract[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<Contract | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Contract | null>(null);
  const [history, setHistory] = useState<Contract | null>(null);
  const [importing, setImporting] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const c = await listContracts(connectionId);
        if (!gone) {
          setList(c ?? []);
          setError(null);
        }
      } catch (e) {
        if (!gone) setError(toApiError(e));
      }
    })();
    return () => {
      gone = true;
    };
  }, [connectionId, refreshKey]);

  const reload = useCallback(() => {
    setRefreshKey((k) => k + 1);
    onChanged();
  }, [onChanged]);

  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    const digits = q.replace(/\D/g, '');
    if (!list || q === '') return list ?? [];
    return list.filter(
      (c) =>
        c.client_name.toLowerCase().includes(q) ||
        c.description.toLowerCase().includes(q) ||
        c.client_code.toLowerCase().includes(q) ||
        (digits.length >= 3 && c.client_document.includes(digits)),
    );
  }, [list, search]);

  const columns = useMemo<ColumnDef<Contract>[]>(
    () => [
      {
        id: 'client',
        header: t('contracts.list.colClient'),
        size: 200,
        cell: ({ row }) => <ClientCell name={row.original.client_name} document={row.original.client_document} code={row.original.client_code} />,
      },
      {
        id: 'description',
        header: t('contracts.list.colDescription'),
        size: 150,
        cell: ({ row }) => (
          <span className="truncate" title={row.original.description}>
            {row.original.description}
          </span>
        ),
      },
      {
        id: 'mrr',
        header: t('contracts.list.colMrr'),
        size: 140,
        meta: { className: 'billing-num' },
        cell: ({ row }) => <span className="tabular">{money(row.original.mrr, lng, row.original.currency)}</span>,
      },
      {
        id: 'start',
        header: t('contracts.list.colStart'),
        size: 100,
        cell: ({ row }) => <span className="tabular small">{formatDateOnly(row.original.start_date, lng)}</span>,
      },
      {
        id: 'end',
        header: t('contracts.list.colEnd'),
        size: 100,
        cell: ({ row }) =>
          row.original.end_date ? (
            <span className="tabular small">{formatDateOnly(row.original.end_date, lng)}</span>
          ) : (
            <span className="muted small">{t('contracts.list.noEnd')}</span>
          ),
      },
      {
        id: 'billingDay',
        header: t('contracts.list.colBillingDay'),
        size: 140,
        meta: { className: 'billing-num' },
        cell: ({ row }) => <span className="tabular">{row.original.billing_day ?? '—'}</span>,
      },
      {
        id: 'status',
        header: t('contracts.list.colStatus'),
        size: 125,
        cell: ({ row }) => <ContractStatusBadge status={row.original.status} />,
      },
      {
        id: 'readjust',
        header: t('contracts.list.colReadjust'),
        size: 155,
        cell: ({ row }) => {
          const text = readjustText(i18n, row.original);
          return text ? (
            <span className="small truncate" title={text} data-testid="contract-readjust">
              {text}
            </span>
          ) : (
            <span className="muted">—</span>
          );
        },
      },
      {
        id: 'actions',
        header: () => <span className="sr-only">{t('contracts.list.colActions')}</span>,
        size: 110,
        cell: ({ row }) => {
          const c = row.original;
          return (
            <span className="billing-row-actions">
              <button type="button" className="icon-button" onClick={() => setEditing(c)} aria-label={t('contracts.list.editOf', { description: c.description })} title={t('contracts.list.edit')} data-testid="contract-edit">
                <Icon name="edit" size={16} />
              </button>
              <button type="button" className="icon-button" onClick={() => setHistory(c)} aria-label={t('contracts.list.historyOf', { description: c.description })} title={t('contracts.list.history')} data-testid="contract-history-open">
                <Icon name="clock" size={16} />
              </button>
              <button type="button" className="icon-button" onClick={() => setDeleting(c)} aria-label={t('contracts.list.deleteOf', { description: c.description })} title={t('contracts.list.delete')} data-testid="contract-delete">
                <Icon name="trash" size={16} />
              </button>
            </span>
          );
        },
      },
    ],
    [t, i18n, lng],
  );

  return (
    <div className="billing-contracts" data-testid="contracts-list">
      <div className="billing-toolbar">
        <label className="filter billing-search">
          <span>{t('contracts.list.search')}</span>
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t('contracts.list.searchPlaceholder')} data-testid="contracts-search" />
        </label>
        <div className="billing-toolbar-actions">
          <button type="button" className="btn" onClick={() => setImporting(true)} data-testid="contracts-import">
            <Icon name="list" size={16} />
            {t('contracts.list.import')}
          </button>
          <button type="button" className="btn btn-primary" onClick={() => setEditing('new')} data-testid="contracts-new">
            <Icon name="plus" size={16} />
            {t('contracts.list.new')}
          </button>
        </div>
      </div>

      {done ? (
        <Notice testId="contracts-done" onDismiss={() => setDone(null)}>
          {done}
        </Notice>
      ) : null}
      {error ? <ContractErrorBox error={error} onDismiss={() => setError(null)} testId="contracts-error" /> : null}
      {list === null && !error ? <Loading /> : null}

      {list !== null && list.length > 0 ? (
        <p className="muted small" data-testid="contracts-count">
          {plural(i18n, 'contracts.list.count', list.length, { mrr: money(mrrTotal(list), lng, list[0]?.currency ?? currency) })}
        </p>
      ) : null}

      {list !== null && list.length === 0 ? (
        <div className="card">
          <EmptyState
            icon="list"
            title={t('contracts.list.emptyTitle')}
            actions={
              <button type="button" className="btn btn-primary" onClick={() => setImporting(true)}>
                <Icon name="list" size={16} />
                {t('contracts.list.import')}
              </button>
            }
          >
            <p>{t('contracts.list.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}

      {list !== null && list.length > 0 ? (
        <div className="card table-card billing-table" data-testid="contracts-table" data-count={shown.length}>
          <DataTable
            data={shown}
            columns={columns}
            getRowId={(c) => c.id}
            label={t('contracts.list.tableLabel')}
            rowHeight={56}
            rowAttributes={(c) => ({ 'data-testid': 'contract-row', 'data-id': c.id, 'data-status': c.status, 'data-client': c.client_code })}
            empty={<p className="muted table-empty-text">{t('contracts.list.emptyFiltered')}</p>}
          />
        </div>
      ) : null}

      {editing ? (
        <ContractFormDialog
          contract={editing === 'new' ? null : editing}
          connectionId={connectionId}
          companyName={companyName}
          currency={currency}
          onClose={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            setDone(t('contracts.list.saved', { description: c.description }));
            reload();
          }}
        />
      ) : null}
      {deleting ? (
        <DeleteDialog
          contract={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDone(t('contracts.list.deleted', { description: deleting.description }));
            setDeleting(null);
            reload();
          }}
        />
      ) : null}
      {history ? <HistoryDialog contract={history} onClose={() => setHistory(null)} /> : null}
      {importing ? (
        <ImportDialog
          connectionId={connectionId}
          companyName={companyName}
          currency={currency}
          onClose={() => setImporting(false)}
          onImported={() => reload()}
        />
      ) : null}
    </div>
  );
}
