import { useTranslation } from 'react-i18next';

import { formatPercent } from '../format';

/**
 * A progress bar with its label. `value` null means "working, amount unknown" (an animated
 * indeterminate bar), so progress is always visible.
 */
export function ProgressBar({ value, label, compact = false }: { value: number | null; label?: string | null; compact?: boolean }) {
  const { t, i18n } = useTranslation();
  const known = value !== null && Number.isFinite(value);
  const pct = known ? Math.min(1, Math.max(0, value)) : 0;
  const text = label || (known ? formatPercent(pct, i18n.language) : t('jobs.working'));
  return (
    <div className={compact ? 'progress progress-compact' : 'progress'}>
      <div
        className={known ? 'progress-track' : 'progress-track indeterminate'}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={known ? Math.round(pct * 100) : undefined}
        aria-valuetext={text}
      >
        <div className="progress-fill" style={known ? { width: `${pct * 100}%` } : undefined} />
      </div>
      <span className="progress-label" title={text}>
        {known && label ? `${formatPercent(pct, i18n.language)} · ${label}` : text}
      </span>
    </div>
  );
}
