import { useTranslation } from 'react-i18next';

import type { ConnectionKind } from '../bindings/ConnectionKind';
import type { JobStatus } from '../bindings/JobStatus';
import { Icon, type IconName } from './Icon';

const STATUS_ICON: Record<JobStatus, IconName> = {
  queued: 'clock',
  running: 'refresh',
  succeeded: 'check',
  failed: 'alert',
  cancelled: 'stop',
};

/** Job status with colour, icon AND text (never colour alone). */
export function StatusBadge({ status }: { status: JobStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge badge-status badge-${status}`} data-status={status}>
      <Icon name={STATUS_ICON[status]} size={13} className={status === 'running' ? 'spin' : undefined} />
      {t(`status.${status}`)}
    </span>
  );
}

export function ErpBadge({ kind }: { kind: ConnectionKind }) {
  const { t } = useTranslation();
  return <span className={`badge badge-erp badge-erp-${kind}`}>{t(`erp.${kind}`)}</span>;
}

export function DemoBadge() {
  const { t } = useTranslation();
  return (
    <span className="badge badge-demo">
      <Icon name="sparkle" size={12} />
      {t('connections.demo')}
    </span>
  );
}
