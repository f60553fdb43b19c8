// Quarantine: records an ERP sent that could not be read safely, with why and what to do.
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import { reasonText } from '../../errors';

import * as api from '../../api';
import type { Connection } from '../../bindings/Connection';
import type { QuarantinedRecord } from '../../bindings/QuarantinedRecord';
import type { ResourceInfo } from '../../bindings/ResourceInfo';
import { DataTable } from '../../components/DataTable';
import { Icon } from '../../components/Icon';
import { formatNumber } from '../../format';
import { erpName, resourceLabel } from './labels';
import { ListStatus } from './ListStatus';
import { JsonPanel } from './RecordPanel';
import { useConnectionList } from './useSync';
import { When } from './When';
import './sync.css';

const keyOf = (q: QuarantinedRecord) => `${q.resource}/${q.record_id}`;

export function Quarantine({
  connection,
  resources,
  resource: wanted,
  refreshKey,
  now,
  onResourceChange,
}: {
  connection: Connection;
  resources: ResourceInfo[];
  /** Only this resource (e.g. from the route), or every one when null or not a resource of the ERP. */
  resource: string | null;
  refreshKey: number;
  now: number;
  onResourceChange: (name: string | null) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const kind = connection.kind;
  const erp = erpName(i18n, kind);
  const resource = wanted && resources.some((r) => r.name === wanted) ? wanted : null;
  const { rows: records, error } = useConnectionList(api.syncQuarantine, connection.id, refreshKey);
  const [selected, setSelected] = useState<QuarantinedRecord | null>(null);

  const shown = useMemo(() => (records ?? []).filter((q) => !resource || q.resource === resource), [records, resource]);

  const columns = useMemo<ColumnDef<QuarantinedRecord>[]>(
    () => [
      {
        id: 'resource',
        header: t('sync.quarantine.colResource'),
        size: 170,
        cell: ({ row }) => <span className="strong truncate">{resourceLabel(i18n, kind, row.original.resource)}</span>,
      },
      {
        id: 'record',
        header: t('sync.quarantine.colRecord'),
        size: 130,
        cell: ({ row }) => (
          <span className="mono truncate" title={row.original.record_id}>
            {row.original.record_id}
          </span>
        ),
      },
      {
        id: 'reason',
        header: t('sync.quarantine.colReason'),
        size: 380,
        cell: ({ row }) => (
          <span className="reason small" title={reasonText(i18n, row.original.why)} data-testid="quarantine-reason">
            {reasonText(i18n, row.original.why)}
          </span>
        ),
      },
      {
        id: 'at',
        header: t('sync.quarantine.colAt'),
        size: 150,
        cell: ({ row }) => <When at={row.original.at} now={now} />,
      },
    ],
    [t, i18n, now, kind],
  );

  return (
    <section className="card table-card" data-testid="quarantine-list" data-erp={kind} aria-labelledby="quarantine-title">
      <div className="card-header">
        <h2 id="quarantine-title">{t('sync.quarantine.title')}</h2>
        <div className="toolbar">
          <label className="filter">
            <span>{t('sync.quarantine.filter')}</span>
            <select value={resource ?? ''} onChange={(e) => onResourceChange(e.target.value || null)} data-testid="quarantine-resource">
              <option value="">{t('sync.quarantine.all')}</option>
              {resources.map((r) => (
                <option key={r.name} value={r.name}>
                  {resourceLabel(i18n, kind, r.name)}
                </option>
              ))}
            </select>
          </label>
          {records ? (
            <span className="muted small toolbar-count" data-testid="quarantine-count">
              {t('sync.quarantine.shown', { n: formatNumber(shown.length, lng) })}
            </span>
          ) : null}
        </div>
      </div>
      <div className="quarantine-help" data-testid="quarantine-help">
        <Icon name="info" size={20} className="alert-icon" />
        <div>
          <strong>{t('sync.quarantine.whatTitle')}</strong>
          <p>{t('sync.quarantine.what', { erp })}</p>
          <p>{t('sync.quarantine.todo', { erp })}</p>
        </div>
      </div>
      <ListStatus loading={records === null} error={error} />
      {records ? (
        <DataTable
          data={shown}
          columns={columns}
          getRowId={keyOf}
          label={t('sync.quarantine.title')}
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
              <Icon name="check" size={16} /> {t('sync.quarantine.empty')}
            </p>
          }
        />
      ) : null}
      {selected ? (
        <JsonPanel
          kind={kind}
          testId="quarantine-panel"
          eyebrow={resourceLabel(i18n, kind, selected.resource)}
          title={t('sync.record.title', { id: selected.record_id })}
          raw={selected.raw}
          onClose={() => setSelected(null)}
          facts={
            <div className="alert alert-warning">
              <Icon name="alert" size={20} className="alert-icon" />
              <div className="alert-body">
                <strong className="alert-title">{t('sync.quarantine.colReason')}</strong>
                <p className="alert-text">{reasonText(i18n, selected.why)}</p>
              </div>
            </div>
          }
        />
      ) : null}
    </section>
  );
}
