// The 30 days of a connection's syncs, small enough for its card: one bar per day of the records
// changed (red on a day with a failed run), and a line of the day's longest run on its own scale.
//
// Drawn by hand in SVG, no chart library: the app's window freezes Object.prototype (Tauri's
// `freezePrototype`), and the usual chart libraries (recharts through decimal.js-light, anything
// on d3-color) assign `valueOf`/`toString` on their prototypes, which then throws. The scales
// are plain arithmetic in a fixed viewBox that the browser stretches to the card's width.
import { useDayWalker } from '../../hooks/useDayWalker';
import { useTranslation } from 'react-i18next';

import type { DayActivity } from '../../bindings/DayActivity';
import { formatDuration, formatNumber } from '../../format';
import { activityTotals, formatDayMonth } from './model';

/**
 * The viewBox. The SVG is 100% wide and HEIGHT px tall (styles.css, `.activity-plot`), stretched
 * without keeping the ratio: a unit is a px tall and about a px wide on a card.
 */
const WIDTH = 300;
const HEIGHT = 90;
/** Room above the tallest bar, and at the sides. */
const TOP = 6;
const SIDE = 2;
const PLOT = HEIGHT - TOP;
/** The gap on each side of a bar, as a share of its day's slot. */
const GAP = 0.16;
/** The shortest bar: an empty day keeps a stub, so every day stays visible. */
const MIN_BAR = 2;
const RADIUS = 2;
/** Headroom over the longest run, so the line never runs along the top edge. */
const LINE_HEADROOM = 1.15;

/** A day's bar: failed, changed something, or an empty day. */
function barTone(d: DayActivity): 'failed' | 'changed' | 'idle' {
  if (d.failed > 0) return 'failed';
  return d.changed > 0 ? 'changed' : 'idle';
}

/** Coordinates in the path data, to two decimals. */
const r2 = (n: number) => Math.round(n * 100) / 100;

/** A bar from the bottom edge up to `y`, its top corners rounded. */
function barPath(x: number, y: number, w: number): string {
  const r = Math.min(RADIUS, w / 2, (HEIGHT - y) / 2);
  const [x0, x1, y0, y1] = [r2(x), r2(x + w), r2(y), HEIGHT];
  return `M${x0},${y1}V${r2(y + r)}Q${x0},${y0} ${r2(x + r)},${y0}H${r2(x + w - r)}Q${x1},${y0} ${x1},${r2(y + r)}V${y1}Z`;
}

/** Where each day's slot, bar and point of the line go, in viewBox units. */
function layout(days: readonly DayActivity[]) {
  const slot = (WIDTH - 2 * SIDE) / Math.max(1, days.length);
  const maxChanged = Math.max(0, ...days.map((d) => d.changed));
  // A day without runs has no "longest run": the line skips it instead of dropping to zero.
  const maxSeconds = Math.max(0, ...days.map((d) => (d.runs > 0 ? d.longest_seconds : 0))) * LINE_HEADROOM;
  return days.map((d, i) => {
    const x = SIDE + i * slot;
    const h = Math.max(MIN_BAR, maxChanged > 0 ? (d.changed / maxChanged) * PLOT : 0);
    const lineY = d.runs > 0 ? HEIGHT - (maxSeconds > 0 ? (d.longest_seconds / maxSeconds) * PLOT : 0) : null;
    return { day: d, x, slot, barX: x + slot * GAP, barW: slot * (1 - 2 * GAP), barY: HEIGHT - h, cx: x + slot / 2, lineY };
  });
}

/** A point of the line at viewBox (x, y), placed in % of the plot. */
function Dot({ x, y, active = false }: { x: number; y: number; active?: boolean }) {
  return (
    <span
      className={`activity-dot${active ? ' activity-dot-active' : ''}`}
      style={{ left: `${r2((100 * x) / WIDTH)}%`, top: `${r2((100 * y) / HEIGHT)}%` }}
      aria-hidden="true"
    />
  );
}

function DayTip({ day: d }: { day: DayActivity }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  return (
    <>
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
    </>
  );
}

export function ActivityChart({ days }: { days: readonly DayActivity[] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  /** The day the tooltip shows: hovered, or walked to with the arrow keys. */
  const { active, setActive, onKeyDown } = useDayWalker(days.length);
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
  const slots = layout(days);
  const points = slots.filter((s) => s.lineY !== null);
  const shown = active !== null ? slots[active] : undefined;


  return (
    <figure className="activity" data-testid="activity-chart">
      <div className="conn-run-head">
        <span className="conn-label">{t('dashboard.chart.range')}</span>
      </div>
      <div className="activity-plot">
        <svg
          className="activity-svg"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={summary}
          tabIndex={days.length > 0 ? 0 : undefined}
          onFocus={() => setActive((i) => i ?? (days.length > 0 ? 0 : null))}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
          onPointerLeave={() => setActive(null)}
        >
          {slots.map((s, i) => (
            <g key={s.day.day} onPointerEnter={() => setActive(i)}>
              {/* The day's whole column answers the pointer, and tints while its tooltip shows. */}
              <rect className={`activity-slot${i === active ? ' activity-slot-active' : ''}`} x={r2(s.x)} y={0} width={r2(s.slot)} height={HEIGHT} />
              <path className={`activity-bar activity-bar-${barTone(s.day)}`} d={barPath(s.barX, s.barY, s.barW)} />
            </g>
          ))}
          {points.length > 1 ? (
            <polyline className="activity-line" points={points.map((p) => `${r2(p.cx)},${r2(p.lineY!)}`).join(' ')} vectorEffect="non-scaling-stroke" />
          ) : null}
        </svg>
        {/* The dots sit over the SVG, so its stretching to the card's width does not squash them. A
            lone run has no line: its dot stands for it. */}
        {points.length === 1 ? <Dot x={points[0]!.cx} y={points[0]!.lineY!} /> : null}
        {shown && shown.lineY !== null ? <Dot x={shown.cx} y={shown.lineY} active /> : null}
        {/* Announced as the arrow keys walk the days; placed beside the day, on the side with room. */}
        <div className="activity-tip-region" aria-live="polite">
          {shown ? (
            <div
              className="activity-tip"
              data-testid="activity-tip"
              style={
                active !== null && active < days.length / 2
                  ? { left: `${r2((100 * (shown.x + shown.slot)) / WIDTH)}%` }
                  : { right: `${r2(100 - (100 * shown.x) / WIDTH)}%` }
              }
            >
              <DayTip day={shown.day} />
            </div>
          ) : null}
        </div>
      </div>
      <figcaption className="activity-legend">
        <span className="activity-key activity-key-changed">{t('dashboard.chart.legendChanged')}</span>
        <span className="activity-key activity-key-longest">{t('dashboard.chart.legendLongest')}</span>
        {totals.failedDays > 0 ? <span className="activity-key activity-key-failed">{t('dashboard.chart.legendFailed')}</span> : null}
      </figcaption>
    </figure>
  );
}
