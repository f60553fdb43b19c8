// The sync feature: one set of components for every ERP (the connection says which), calling only
// the generic `sync*` commands of api/index.ts.
export { ConnectionActions, ConnectionSelect, NoConnections, SyncTabs, useErpConnections, useLinkedConnection, type ErpConnections } from './ErpPage';
export { erpName, humanize, resourceLabel, resourceLabelOf, SYNC_JOB_KIND } from './labels';
export { JsonPanel, RecordPanel } from './RecordPanel';
export { RewindDialog, RewindNotice } from './Rewind';
export { Quarantine } from './Quarantine';
export { SummaryTable, type SyncLinks } from './SummaryTable';
export { SyncBrowser, type BrowsePlace, type SyncRecordOptions } from './SyncBrowser';
export { SyncHistory } from './SyncHistory';
export { SyncPanel, progressText, syncErrorText, syncFailureText, type ErrorText } from './SyncPanel';
export { QuarantineCount, SyncingBadge } from './TabBadges';
export { pickBrowseResource, useConnectionList, useSync, type SyncState } from './useSync';
export { When } from './When';
export {
  asJobStatus,
  isActiveJob,
  isoDaysAgo,
  localDateTimeToRfc3339,
  parseProgressLabel,
  pickJob,
  prettyJson,
  type ProgressInfo,
} from './util';
