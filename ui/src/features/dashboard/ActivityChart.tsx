// The 30 days of a connection's syncs, small enough for its card: one bar per day of the records
// changed (red on a day with a failed run), and a line of the day's longest run on its own scale.
import { useTranslation } from 'react-i18next';
import { Bar, Cell, ComposedChart, Line, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';

import type { DayActivity } from '../../bindings/DayActivity';
import { formatDuration, formatNumber } from '../../format';
import { activityTotals, formatDayMonth } from './model';

const HEIGHT = 90;

/** A day's bar: failed, changed something, or an empty day (a short stub keeps the day visible). */
function barTone(d: DayActivity): 'failed' | 'changed' | 'idle' {
  if (d.failed > 0) return 'failed';
  return d.changed > 0 ? 'changed' : 'idle';
}

/** The same colours as styles.css (`--bad`, `--accent`, `--border-strong`, `--busy`). */
const FILL = { failed: '#d92d20', changed: '#0f766e', idle: '#cfd6de' } as const;
const LINE = '#1f4fc9';

function DayTip({ days, label, active }: { days: readonly DayActivity[]; label: string | number | undefined; active: boolean }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const d = active ? days.find((x) => x.day === label) : undefined;
  if (!d) return null;
  return (
    <div className="activity-tip" data-testid="activity-tip">
      <strong>{formatDayMonth(d.day, lng)}</strong>
      <dl>
        <dt>{t('dashboard.chart.changed')}</dt>
        <dd>{formatNumber(d.changed, lng)}</dd>
        <dt>{t('dashboard.chart.runs')}</dt>
        <dd>{formatNumber(d.runs, lng)}</dd>
        {d.failed > 0 ? (
          <>
            <dt className="tone-bad">{t('dashboard.chart.failed')}</dt>
            <dd className="tone-bad">{formatNumber(d.failed, lng)}</dd>
          </>
        ) : null}
        {d.runs > 0 ? (
          <>
            <dt>{t('dashboard.chart.longest')}</dt>
            <dd>{formatDuration(d.longest_seconds * 1000, lng)}</dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}

export function ActivityChart({ days }: { days: readonly DayActivity[] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const totals = activityTotals(days);
  const summary = [
    t('dashboard.chart.label', { n: formatNumber(totals.changed, lng) }),
    totals.runs > 0
      ? t('dashboard.chart.runsSummary', { count: totals.runs, n: formatNumber(totals.runs, lng) })
      : t('dashboard.chart.noRunsSummary'),
    totals.failedDays > 0 ? t('dashboard.chart.failedDays', { count: totals.failedDays, n: formatNumber(totals.failedDays, lng) }) : '',
  ]
    .filter(Boolean)
    .join(' ');
  // A day without runs has no "longest run": the line skips it instead of dropping to zero.
  const data = days.map((d) => ({ day: d.day, changed: d.changed, longest: d.runs > 0 ? d.longest_seconds : null }));

  return (
    <figure className="activity" data-testid="activity-chart">
      <div className="conn-run-head">
        <span className="conn-label">{t('dashboard.chart.range')}</span>
      </div>
      <ComposedChart
        data={data}
        responsive
        width="100%"
        height={HEIGHT}
        margin={{ top: 6, right: 2, bottom: 0, left: 2 }}
        barCategoryGap="16%"
        role="img"
        aria-label={summary}
      >
        <XAxis dataKey="day" hide />
        <YAxis yAxisId="changed" hide domain={[0, 'dataMax']} />
        {/* Some headroom, so the line never runs along the top edge. */}
        <YAxis yAxisId="seconds" orientation="right" hide domain={[0, (max: number) => max * 1.15]} />
        <Tooltip
          isAnimationActive={false}
          cursor={{ fill: 'rgba(15, 118, 110, 0.08)' }}
          content={(p: TooltipContentProps) => <DayTip days={days} label={p.label} active={p.active} />}
        />
        <Bar yAxisId="changed" dataKey="changed" minPointSize={2} radius={[2, 2, 0, 0]} isAnimationActive={false}>
          {days.map((d) => {
            const tone = barTone(d);
            return <Cell key={d.day} className={`activity-bar activity-bar-${tone}`} fill={FILL[tone]} />;
          })}
        </Bar>
        <Line
          yAxisId="seconds"
          dataKey="longest"
          type="monotone"
          stroke={LINE}
          strokeWidth={1.25}
          strokeOpacity={0.8}
          dot={false}
          activeDot={{ r: 3 }}
          connectNulls
          isAnimationActive={false}
        />
      </ComposedChart>
      <figcaption className="activity-legend">
        <span className="activity-key activity-key-changed">{t('dashboard.chart.legendChanged')}</span>
        <span className="activity-key activity-key-longest">{t('dashboard.chart.legendLongest')}</span>
        {totals.failedDays > 0 ? <span className="activity-key activity-key-failed">{t('dashboard.chart.legendFailed')}</span> : null}
      </figcaption>
    </figure>
  );
}
