// Browsing one synced resource: server-side paging (200 rows at a time, more on scroll), sorting by
// a column header, a filter under each header, full-text search and "show deleted".
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { Connection } from '../../bindings/Connection';
import type { ResourceInfo } from '../../bindings/ResourceInfo';
import { RecordBrowser, RecordFacts, type ColumnWidths, type RecordBrowserTestIds } from '../../components/RecordBrowser';
import { RecordPanel, erpName, resourceLabel, resourceLabelOf } from '../sync';
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

const contificoResourceLabel = resourceLabelOf('contifico');

export function ContificoBrowser({
  connection,
  resources,
  resource,
  storedRecords,
  onResourceChange,
}: {
  connection: Connection;
  resources: ResourceInfo[];
  resource: string;
  /** Records stored for this resource per the summary (null if unknown). */
  storedRecords: number | null;
  onResourceChange: (name: string) => void;
}) {
  const { t, i18n } = useTranslation();
  return (
    <RecordBrowser
      connectionId={connection.id}
      resources={resources}
      resource={resource}
      onResourceChange={onResourceChange}
      browse={api.syncBrowse}
      pageSize={PAGE_SIZE}
      texts="contifico.browser"
      loadingKey="contifico.browser.loading"
      testIds={TEST_IDS}
      resourceLabel={contificoResourceLabel}
      columnLabel={columnLabel}
      widths={WIDTHS}
      storedRecords={storedRecords}
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
      renderRecord={(row, close) => (
        <RecordPanel
          key={row.id}
          connectionId={connection.id}
          kind="contifico"
          resource={resource}
          resourceName={resourceLabel(i18n, 'contifico', resource)}
          id={row.id}
          onClose={close}
          facts={
            <RecordFacts
              row={row}
              fetchedLabel={t('sync.record.fetched', { erp: erpName(i18n, 'contifico') })}
              deletedLabel={t('sync.record.deleted')}
            />
          }
        />
      )}
    />
  );
}
