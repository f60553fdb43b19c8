// Browsing one synced resource: server-side paging (200 rows at a time, more on scroll), sorting by
// a column header, a filter under each header, full-text search and "show deleted".
import { useTranslation } from 'react-i18next';

import type { ColumnWidths, RecordBrowserTestIds } from '../../components/RecordBrowser';
import { SyncBrowser, erpName, type BrowsePlace } from '../sync';
import { PAGE_SIZE, columnLabel } from './util';

export { buildFilters, nextSort, type Sort } from '../../components/useRecordBrowser';

/** Preferred column widths in px; wide resources scroll sideways rather than squeeze the filters. */
const WIDTHS: ColumnWidths = { id: 150, text: 180, code: 120, decimal: 140, date: 145 };

const TEST_IDS: RecordBrowserTestIds = {
  browser: 'contifico-browser',
  resource: 'browse-resource',
  search: 'browse-search',
  showDeleted: 'browse-show-deleted',
  total: 'browse-total',
  sort: 'browse-sort',
  filter: 'browse-filter',
  row: 'browse-row',
  loadMore: 'browse-load-more',
  clearFilters: 'browse-clear-filters',
  deleted: 'browse-deleted',
  shown: 'browse-shown',
};

/** `storedRecords`: records stored for this resource per the summary (null if unknown). */
export function ContificoBrowser(place: BrowsePlace) {
  const { t, i18n } = useTranslation();
  return (
    <SyncBrowser
      {...place}
      pageSize={PAGE_SIZE}
      texts="contifico.browser"
      loadingKey="contifico.browser.loading"
      testIds={TEST_IDS}
      columnLabel={columnLabel}
      widths={WIDTHS}
      columnFilters
      liveInvalid
      sortLabel="state"
      clearFilters
      totalAttribute
      markDeletedRows
      deletedOnTitle
      shownCount
      loadMoreSaysLoading
      scrollLoadMargin={600}
      record={{ fetchedLabel: t('sync.record.fetched', { erp: erpName(i18n, 'contifico') }), deletedLabel: t('sync.record.deleted') }}
    />
  );
}
