// Quarantine: records Contífico sent that could not be read safely, with why and what to do.
import type { ColumnDef } from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { QuarantinedRecord } from '../bindings/QuarantinedRecord';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import { DataTable } from '../components/DataTable';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { toApiError } from '../errors';
import { formatDateTime, formatNumber, formatRelative } from '../format';
import { resourceLabel } from './ContificoUtil';
import { JsonPanel } from './ContificoRecord';

const keyOf = (q: QuarantinedRecord) => `${q.resource}/${q.record_id}`;

export function ContificoQuarantine({
  connectionId,
  resources,
  resource,
  refreshKey,
  now,
  onResourceChange,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  /** Only this resource, or every one when null. */
  resource: string | null;
  refreshKey: number;
  now: number;
  onResourceChange: (name: string | null) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [records, setRecords] = useState<QuarantinedRecord[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<QuarantinedRecord | null>(null);

  useEffect(() => {
    let stale = false;
    api.syncQuarantine(connectionId).then(
      (r) => {
        if (stale) return;
        setRecords(r ?? []);
        setError(null);
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [connectionId, refreshKey]);


  const shown = useMemo(
    () => (records ?? []).filter((q) => !resource || q.resource === resource),
    [records, resource],
  );

  const columns = useMemo<ColumnDef<QuarantinedRecord>[]>(
    () => [
      {
        id: 'resource',
        header: t('contifico.quarantine.colResource'),
        size: 170,
        cell: ({ row }) => <span className="strong truncate">{resourceLabel(i18n, row.original.resource)}</span>,
      },
      {
        id: 'record',
        header: t('contifico.quarantine.colRecord'),
        size: 130,
        cell: ({ row }) => (
          <span className="mono truncate" title={row.original.record_id}>
            {row.original.record_id}
          </span>
        ),
      },
      {
        id: 'reason',
        header: t('contifico.quarantine.colReason'),
        size: 380,
        cell: ({ row }) => (
          <span className="reason small" title={row.original.reason}>
            {row.original.reason}
          </span>
        ),
      },
      {
        id: 'at',
        header: t('contifico.quarantine.colAt'),
        size: 150,
        cell: ({ row }) => (
          <span className="when">
            <time dateTime={row.original.at} className="truncate">
              {formatDateTime(row.original.at, lng)}
            </time>
            <span className="muted small truncate">{formatRelative(row.original.at, lng, now)}</span>
          </span>
        ),
      },
    ],
    [t, i18n, lng, now],
  );

  return (
    <section className="card table-card" data-testid="quarantine-list" aria-labelledby="quarantine-title">
      <div className="card-header">
        <h2 id="quarantine-title">{t('contifico.quarantine.title')}</h2>
        <div className="toolbar">
          <label className="filter">
            <span>{t('contifico.quarantine.filter')}</span>
            <select
              value={resource ?? ''}
              onChange={(e) => onResourceChange(e.target.value || null)}
              data-testid="quarantine-resource"
            >
              <option value="">{t('contifico.quarantine.all')}</option>
              {resources.map((r) => (
                <option key={r.name} value={r.name}>
                  {resourceLabel(i18n, r.name)}
                </option>
              ))}
            </select>
          </label>
          {records ? (
            <span className="muted small toolbar-count" data-testid="quarantine-count">
              {t('contifico.quarantine.shown', { n: formatNumber(shown.length, lng) })}
            </span>
          ) : null}
        </div>
      </div>
      <div className="quarantine-help" data-testid="quarantine-help">
        <Icon name="info" size={20} className="alert-icon" />
        <div>
          <strong>{t('contifico.quarantine.whatTitle')}</strong>
          <p>{t('contifico.quarantine.what')}</p>
          <p>{t('contifico.quarantine.todo')}</p>
        </div>
      </div>
      {error ? (
        <div className="card-empty">
          <ErrorBox error={error} />
        </div>
      ) : null}
      {records === null && !error ? (
        <div className="loading card-empty" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('common.loading')}
        </div>
      ) : null}
      {records ? (
        <DataTable
          data={shown}
          columns={columns}
          getRowId={keyOf}
          label={t('contifico.quarantine.title')}
          rowHeight={52}
          selectedId={selected ? keyOf(selected) : null}
          onRowClick={(q) => setSelected(q)}
          rowAttributes={(q) => ({
            'data-testid': 'quarantine-row',
            'data-resource': q.resource,
            'data-id': q.record_id,
          })}
          empty={
            <p className="muted table-empty-text">
              <Icon name="check" size={16} /> {t('contifico.quarantine.empty')}
            </p>
          }
        />
      ) : null}
      {selected ? (
        <JsonPanel
          testId="quarantine-panel"
          eyebrow={resourceLabel(i18n, selected.resource)}
          title={t('contifico.record.title', { id: selected.record_id })}
          raw={selected.raw}
          onClose={() => setSelected(null)}
          facts={
            <div className="alert alert-warning">
              <Icon name="alert" size={20} className="alert-icon" />
              <div className="alert-body">
                <strong className="alert-title">{t('contifico.quarantine.colReason')}</strong>
                <p className="alert-text">{selected.reason}</p>
              </div>
            </div>
          }
        />
      ) : null}
    </section>
  );
}
