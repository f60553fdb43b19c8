// Small marks a page's tab bar shows about its sync: how many records are in quarantine, and a
// "Sync running · 40 %" badge (leading back to the sync panel) while a sync runs.
import { useTranslation } from 'react-i18next';

import type { Job } from '../../bindings/Job';
import type { ResourceSummary } from '../../bindings/ResourceSummary';
import { Icon } from '../../components/Icon';
import { formatNumber, formatPercent } from '../../format';
import { isActiveJob } from './util';

/** The number of quarantined records, for the Quarantine tab; nothing when there are none. */
export function QuarantineCount({ summary }: { summary: ResourceSummary[] | null }) {
  const { i18n } = useTranslation();
  const total = (summary ?? []).reduce((sum, r) => sum + r.quarantined, 0);
  return total > 0 ? <span className="tab-count">{formatNumber(total, i18n.language, 0)}</span> : null;
}

/** Shown while `job` runs; links to the page's sync panel. */
export function SyncingBadge({ job, href }: { job: Job | null; href: string }) {
  const { t, i18n } = useTranslation();
  if (!job || !isActiveJob(job)) return null;
  return (
    <a className="badge badge-running tab-sync" href={href} data-testid="contifico-sync-badge">
      <Icon name="refresh" size={12} className="spin" />
      {t('sync.syncingBadge', { pct: job.progress === null ? '…' : formatPercent(job.progress, i18n.language) })}
    </a>
  );
}
