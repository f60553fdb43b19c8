// Browsing the synced documents of one site: server-side paging, sorting by a column header,
// full-text search (names, parties, serials, BackOffice keys), "show deleted", and the stored JSON
// of a document in a side panel.
import type { i18n as I18n } from 'i18next';
import { useTranslation } from 'react-i18next';

import * as erp from '../apiErpnext';
import type { BrowseRow } from '../bindings/BrowseRow';
import type { ColumnInfo } from '../bindings/ColumnInfo';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import { RecordBrowser, RecordFacts, browserTestIds, type ColumnWidths } from '../components/RecordBrowser';
import { useRecordJson } from '../components/useRecordBrowser';
import { JsonPanel } from './ContificoRecord';
import { labelOr, resourceName } from './ErpnextModel';

const PAGE_SIZE = 200;
/** ERPNext's docstatus: 0 draft, 1 submitted, 2 cancelled. */
const DOCSTATUS: Record<string, string> = { '0': 'erpnext.run.draft', '1': 'erpnext.run.submitted', '2': 'erpnext.run.cancelledDoc' };
const WIDTHS: ColumnWidths = { id: 170, text: 170, code: 100, decimal: 120, date: 115 };
const TEST_IDS = browserTestIds('erpnext');

const columnLabel = (i18n: I18n, name: string) => labelOr(i18n, `erpnext.data.columns.${name}`, name);

/** The docstatus in words; multi-line values (serials) on one line. Amounts and dates as usual. */
function renderCell(c: ColumnInfo, v: string, i18n: I18n) {
  if (c.kind === 'decimal' || c.kind === 'date') return undefined;
  const status = c.name === 'docstatus' ? DOCSTATUS[v] : undefined;
  if (status) return <span title={v}>{i18n.t(status)}</span>;
  return (
    <span className="truncate" title={v}>
      {v.replace(/\n/g, ', ')}
    </span>
  );
}

function RecordView({
  connectionId,
  resource,
  row,
  onClose,
}: {
  connectionId: string;
  resource: string;
  row: BrowseRow;
  onClose: () => void;
}) {
  const { t, i18n } = useTranslation();
  const { raw, error } = useRecordJson(erp.erpnextRecord, connectionId, resource, row.id);
  return (
    <JsonPanel
      testId="erpnext-record"
      eyebrow={resourceName(i18n, resource)}
      title={t('erpnext.data.browser.recordTitle', { id: row.id })}
      raw={raw}
      error={error}
      onClose={onClose}
      facts={<RecordFacts row={row} fetchedLabel={t('erpnext.data.browser.fetched')} />}
    />
  );
}

export function ErpnextBrowser({
  connectionId,
  resources,
  resource,
  storedRecords,
  refreshKey,
  onResourceChange,
}: {
  connectionId: string;
  resources: ResourceInfo[];
  resource: string;
  storedRecords: number | null;
  /** Changes when a sync of this site ends: the rows are read again. */
  refreshKey: number;
  onResourceChange: (name: string) => void;
}) {
  return (
    <RecordBrowser
      connectionId={connectionId}
      resources={resources}
      resource={resource}
      onResourceChange={onResourceChange}
      browse={erp.erpnextBrowse}
      pageSize={PAGE_SIZE}
      texts="erpnext.data.browser"
      loadingKey="erpnext.data.browser.loading"
      testIds={TEST_IDS}
      resourceLabel={resourceName}
      columnLabel={columnLabel}
      widths={WIDTHS}
      className="erp-browser"
      tableClassName="erp-browse-table"
      storedRecords={storedRecords}
      refreshKey={refreshKey}
      sortLabel="aria"
      markDeletedRows
      shownCount
      loadMoreSaysLoading
      renderCell={renderCell}
      renderRecord={(row, close) => <RecordView key={row.id} connectionId={connectionId} resource={resource} row={row} onClose={close} />}
    />
  );
}
