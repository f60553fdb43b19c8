// The sync feature: one set of components for every ERP (the connection says which), calling only
// the generic `sync*` commands of api/index.ts.
export { erpName, humanize, resourceLabel, resourceLabelOf, SYNC_JOB_KIND } from './labels';
export { JsonPanel, RecordPanel } from './RecordPanel';
export { RewindDialog, RewindNotice } from './Rewind';
export { Quarantine } from './Quarantine';
export { SummaryTable, type SyncLinks } from './SummaryTable';
export { SyncHistory } from './SyncHistory';
export { SyncPanel, progressText, syncErrorText, type ErrorText } from './SyncPanel';
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
