// A moment as the sync views show it: the local date and time with "3 minutes ago" under it (or
// only the relative time, the full one as tooltip); "Never" when there is none.
import { useTranslation } from 'react-i18next';

import { formatDateTime, formatRelative } from '../../format';

export function When({ at, now, testId, relativeOnly = false }: { at: string | null; now: number; testId?: string; relativeOnly?: boolean }) {
  const { t, i18n } = useTranslation();
  if (!at) {
    return (
      <span className="muted" data-testid={testId}>
        {t('sync.summary.never')}
      </span>
    );
  }
  if (relativeOnly) {
    return (
      <time dateTime={at} className="when-relative" title={formatDateTime(at, i18n.language)} data-testid={testId}>
        {formatRelative(at, i18n.language, now)}
      </time>
    );
  }
  return (
    <span className="when" data-testid={testId}>
      <time dateTime={at} className="truncate">
        {formatDateTime(at, i18n.language)}
      </time>
      <span className="muted small truncate">{formatRelative(at, i18n.language, now)}</span>
    </span>
  );
}
