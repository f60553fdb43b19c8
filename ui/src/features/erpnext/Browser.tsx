// Browsing the synced documents of one site: server-side paging, sorting by a column header,
// full-text search (names, parties, serials, BackOffice keys), "show deleted", and the stored JSON
// of a document in a side panel.
import type { i18n as I18n } from 'i18next';
import { useTranslation } from 'react-i18next';

import type { ColumnInfo } from '../../bindings/ColumnInfo';
import { browserTestIds, type ColumnWidths } from '../../components/RecordBrowser';
import { SyncBrowser, type BrowsePlace } from '../sync';
import { labelOr } from './model';

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

/** `refreshKey` changes when a sync of this site ends: the rows are read again. */
export function ErpnextBrowser(place: BrowsePlace) {
  const { t } = useTranslation();
  return (
    <SyncBrowser
      {...place}
      pageSize={PAGE_SIZE}
      texts="erpnext.data.browser"
      loadingKey="erpnext.data.browser.loading"
      testIds={TEST_IDS}
      columnLabel={columnLabel}
      widths={WIDTHS}
      className="erp-browser"
      tableClassName="erp-browse-table"
      sortLabel="aria"
      markDeletedRows
      shownCount
      loadMoreSaysLoading
      renderCell={renderCell}
      record={{
        testId: 'erpnext-record',
        title: (id) => t('erpnext.data.browser.recordTitle', { id }),
        fetchedLabel: t('erpnext.data.browser.fetched'),
      }}
    />
  );
}
