// Browsing the records a connection has synced (`sync_browse`), with the chosen record's stored JSON
// in a RecordPanel beside the table. Each page chooses the rest: texts, test ids, widths, cells.
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { Connection } from '../../bindings/Connection';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import { RecordBrowser, RecordFacts, type LabelFn, type RecordBrowserProps } from '../../components/RecordBrowser';
import { resourceLabel, resourceLabelOf } from './labels';
import { RecordPanel } from './RecordPanel';

/** Each ERP's resource names, as stable functions (the browser memoises on them). */
const RESOURCE_LABELS: Record<ConnectionKind, LabelFn> = {
  contifico: resourceLabelOf('contifico'),
  omie: resourceLabelOf('omie'),
  erpnext: resourceLabelOf('erpnext'),
};

export interface SyncRecordOptions {
  /** The panel's title for record `id`; "Record <id>" by default. */
  title?: (id: string) => string;
  testId?: string;
  /** The name of the "fetched at" fact. */
  fetchedLabel: string;
  /** The name of the "deleted at" fact; none: it is not shown. */
  deletedLabel?: string;
  /** One panel that reads the record again whenever a row is chosen (else a new panel per record). */
  reread?: boolean;
}

/** Where a page shows its browser: the connection, its ERP's resources and the one shown. */
export type BrowsePlace = Pick<RecordBrowserProps, 'resources' | 'resource' | 'onResourceChange' | 'storedRecords' | 'refreshKey' | 'openId'> & {
  connection: Connection;
};

/** A RecordBrowser over `connection`'s synced records, the chosen one shown in a RecordPanel. */
export function SyncBrowser({
  connection,
  record,
  ...options
}: Omit<RecordBrowserProps, 'connectionId' | 'browse' | 'resourceLabel' | 'renderRecord'> &
  BrowsePlace & {
    record: SyncRecordOptions;
  }) {
  const { i18n } = useTranslation();
  const { kind } = connection;
  return (
    <RecordBrowser
      {...options}
      connectionId={connection.id}
      browse={api.syncBrowse}
      resourceLabel={RESOURCE_LABELS[kind]}
      renderRecord={(row, close) => (
        <RecordPanel
          key={record.reread ? undefined : row.id}
          reloadToken={record.reread ? row : undefined}
          connectionId={connection.id}
          kind={kind}
          resource={options.resource}
          resourceName={resourceLabel(i18n, kind, options.resource)}
          id={row.id}
          testId={record.testId}
          title={record.title?.(row.id)}
          onClose={close}
          facts={<RecordFacts row={row} fetchedLabel={record.fetchedLabel} deletedLabel={record.deletedLabel} />}
        />
      )}
    />
  );
}
