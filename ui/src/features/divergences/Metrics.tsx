// The Metrics tab: what is waiting and at stake, how people decide on what each rule finds (a rule
// mostly rejected lists too much; one always approved may correct on its own), and the last 30
// days of divergences detected and closed.
//
// The chart is drawn by hand in SVG like the dashboard's ActivityChart (whose classes it reuses):
// the window freezes Object.prototype, which breaks the usual chart libraries.
import type { i18n as I18n } from 'i18next';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { DayCount } from '../../bindings/DayCount';
import type { DivergenceMetrics } from '../../bindings/DivergenceMetrics';
import type { RuleMetrics } from '../../bindings/RuleMetrics';
import { EmptyState } from '../../components/EmptyState';
import { Icon, type IconName } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { formatNumber, formatPercent } from '../../format';
import { useDayWalker } from '../../hooks/useDayWalker';
import { formatDayMonth } from '../dashboard/model';
import { divergenceMetrics } from './api';
import { formatAmounts, localRuleName } from './model';
import { DivergenceErrorBox } from './Parts';

/** The four age bands of `open_by_age`, in its order. */
export const AGE_BANDS = ['under1', 'd1to7', 'd7to30', 'over30'] as const;

/** A rate 0–1 as a percent in the user's language, "—" when there is none. */
export function rateText(rate: number | null | undefined, lng: string): string {
  return rate === null || rate === undefined || !Number.isFinite(rate) ? '—' : formatPercent(rate, lng);
}

/** Hours as "3 h", "2 d 4 h" (words per language), "—" when there is none. */
export function hoursText(i18n: I18n, hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours) || hours < 0) return '—';
  const lng = i18n.language;
  const n = (v: number) => formatNumber(v, lng, 0);
  const total = Math.round(hours);
  if (total < 1) return i18n.t('divergences.metrics.duration.lessThanHour');
  if (total < 24) return i18n.t('divergences.metrics.duration.hours', { h: n(total) });
  const d = Math.floor(total / 24);
  const h = total % 24;
  return h === 0
    ? i18n.t('divergences.metrics.duration.days', { d: n(d) })
    : i18n.t('divergences.metrics.duration.daysHours', { d: n(d), h: n(h) });
}

/** Nothing found, nothing decided, nothing in the 30 days. */
export function metricsEmpty(m: DivergenceMetrics): boolean {
  return m.rules.length === 0 && m.open === 0 && m.days.every((d) => d.detected === 0 && d.ended === 0);
}

// ---------- Summary tiles ----------

function Tile({ icon, label, value, hint, testId }: { icon: IconName; label: string; value: string; hint: string; testId: string }) {
  return (
    <div className="card stat-card" data-testid={testId}>
      <div className="stat-top">
        <span className="stat-icon tone-neutral">
          <Icon name={icon} size={18} />
        </span>
        <span className="stat-label">{label}</span>
      </div>
      <div className="stat-value" data-testid={`${testId}-value`}>
        {value}
      </div>
      <div className="stat-hint">{hint}</div>
    </div>
  );
}

// ---------- Open by age ----------

function AgeBar({ counts }: { counts: RuleMetrics['open_by_age'] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return <span className="muted">—</span>;
  return (
    <div className="div-age" data-testid="metrics-age">
      <div className="div-age-bar" aria-hidden="true">
        {AGE_BANDS.map((b, i) =>
          (counts[i] ?? 0) > 0 ? <span key={b} className={`div-age-seg div-age-${b}`} style={{ flexGrow: counts[i] }} /> : null,
        )}
      </div>
      <ul className="div-age-counts">
        {AGE_BANDS.map((b, i) => {
          const n = formatNumber(counts[i] ?? 0, lng);
          return (
            <li key={b} className={(counts[i] ?? 0) === 0 ? 'muted' : undefined} data-testid="metrics-age-band" data-band={b}>
              <span className={`div-age-dot div-age-${b}`} aria-hidden="true" />
              <span aria-hidden="true">
                {t(`divergences.metrics.ageShort.${b}`)} <span className="tabular strong">{n}</span>
              </span>
              <span className="sr-only">{t('divergences.metrics.ageCount', { label: t(`divergences.metrics.age.${b}`), n })}</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

// ---------- Per rule ----------

function RuleTable({ rules }: { rules: readonly RuleMetrics[] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const col = (k: string) => t(`divergences.metrics.${k}`);
  return (
    <div className="card table-card">
      <div className="table-scroll">
        <table className="table div-metrics-table" aria-label={col('perRule')}>
          <thead>
            <tr>
              <th className="div-metrics-col-rule">{col('colRule')}</th>
              <th className="div-num">{col('colOpen')}</th>
              <th className="div-num">{col('colAmount')}</th>
              <th className="div-metrics-col-age">{col('colAge')}</th>
              <th className="div-num" title={col('colApproved')}>
                {col('colApproved')}
              </th>
              <th className="div-num">{col('colRejected')}</th>
              <th className="div-num">{col('colRate')}</th>
              <th className="div-num" title={col('colMedian')}>
                {col('colMedian')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.rule_id} data-testid="metrics-rule-row" data-rule={r.rule_id}>
                <td className="strong div-metrics-col-rule">{localRuleName(i18n, r.rule_id, r.rule_name)}</td>
                <td className="div-num tabular" data-testid="metrics-rule-open">
                  {formatNumber(r.open, lng)}
                </td>
                <td className="div-num tabular" data-testid="metrics-rule-amount">
                  {formatAmounts(r.amounts_open, lng)}
                </td>
                <td>
                  <AgeBar counts={r.open_by_age} />
                </td>
                <td
                  className="div-num tabular"
                  data-testid="metrics-rule-approved"
                  title={t('divergences.metrics.approvedTitle', { people: formatNumber(r.approved_by_people, lng), auto: formatNumber(r.approved_automatically, lng) })}
                >
                  {t('divergences.metrics.approvedValue', { people: formatNumber(r.approved_by_people, lng), auto: formatNumber(r.approved_automatically, lng) })}
                </td>
                <td className="div-num tabular" data-testid="metrics-rule-rejected">
                  {formatNumber(r.rejected, lng)}
                </td>
                <td className="div-num tabular" data-testid="metrics-rule-rate">
                  {rateText(r.approve_rate, lng)}
                </td>
                <td className="div-num tabular" data-testid="metrics-rule-median">
                  {hoursText(i18n, r.median_hours_to_end)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

// ---------- The 30 days ----------

const WIDTH = 300;
const HEIGHT = 90;
const TOP = 6;
const SIDE = 2;
const PLOT = HEIGHT - TOP;
/** The gap on each side of a day's pair of bars, as a share of its slot. */
const GAP = 0.14;
/** An empty day keeps a stub, so every day stays visible. */
const MIN_BAR = 1.5;
/** A day label every this many days (and the last day). */
const LABEL_EVERY = 7;

const r2 = (n: number) => Math.round(n * 100) / 100;

function layout(days: readonly DayCount[]) {
  const slot = (WIDTH - 2 * SIDE) / Math.max(1, days.length);
  const max = Math.max(0, ...days.map((d) => Math.max(d.detected, d.ended)));
  const h = (v: number) => Math.max(MIN_BAR, max > 0 ? (v / max) * PLOT : 0);
  return days.map((d, i) => {
    const x = SIDE + i * slot;
    const barW = (slot * (1 - 2 * GAP)) / 2;
    const barX = x + slot * GAP;
    return { day: d, x, slot, barW, detectedX: barX, endedX: barX + barW, detectedH: h(d.detected), endedH: h(d.ended) };
  });
}

/** The chart's accessible summary: the period, the totals and the busiest day. */
export function chartSummary(i18n: I18n, days: readonly DayCount[]): string {
  const lng = i18n.language;
  if (days.length === 0) return i18n.t('divergences.metrics.chart.title');
  const detected = days.reduce((a, d) => a + d.detected, 0);
  const ended = days.reduce((a, d) => a + d.ended, 0);
  const text = i18n.t('divergences.metrics.chart.summary', {
    from: formatDayMonth(days[0]!.day, lng),
    to: formatDayMonth(days[days.length - 1]!.day, lng),
    detected: formatNumber(detected, lng),
    ended: formatNumber(ended, lng),
  });
  if (detected === 0) return text;
  const busiest = days.reduce((best, d) => (d.detected > best.detected ? d : best), days[0]!);
  return `${text} ${i18n.t('divergences.metrics.chart.busiest', { day: formatDayMonth(busiest.day, lng), n: formatNumber(busiest.detected, lng) })}`;
}

function DaysChart({ days }: { days: readonly DayCount[] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { active, setActive, onKeyDown } = useDayWalker(days.length);
  const slots = layout(days);
  const shown = active !== null ? slots[active] : undefined;
  const last = days.length - 1;


  return (
    <figure className="card activity div-metrics-chart" data-testid="metrics-chart">
      <div className="conn-run-head">
        <span className="conn-label">{t('divergences.metrics.chart.title')}</span>
      </div>
      <div className="activity-plot">
        <svg
          className="activity-svg"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={chartSummary(i18n, days)}
          data-testid="metrics-chart-svg"
          tabIndex={days.length > 0 ? 0 : undefined}
          onFocus={() => setActive((i) => i ?? (days.length > 0 ? 0 : null))}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
          onPointerLeave={() => setActive(null)}
        >
          {slots.map((s, i) => (
            <g key={s.day.day} data-testid="metrics-day" data-day={s.day.day} onPointerEnter={() => setActive(i)}>
              <rect className={`activity-slot${i === active ? ' activity-slot-active' : ''}`} x={r2(s.x)} y={0} width={r2(s.slot)} height={HEIGHT} />
              <rect
                className={`div-metrics-bar-detected${s.day.detected === 0 ? ' div-metrics-bar-idle' : ''}`}
                x={r2(s.detectedX)}
                y={r2(HEIGHT - s.detectedH)}
                width={r2(s.barW)}
                height={r2(s.detectedH)}
              />
              <rect
                className={`div-metrics-bar-ended${s.day.ended === 0 ? ' div-metrics-bar-idle' : ''}`}
                x={r2(s.endedX)}
                y={r2(HEIGHT - s.endedH)}
                width={r2(s.barW)}
                height={r2(s.endedH)}
              />
            </g>
          ))}
        </svg>
        <div className="activity-tip-region" aria-live="polite">
          {shown ? (
            <div
              className="activity-tip"
              data-testid="metrics-tip"
              style={
                active !== null && active < days.length / 2
                  ? { left: `${r2((100 * (shown.x + shown.slot)) / WIDTH)}%` }
                  : { right: `${r2(100 - (100 * shown.x) / WIDTH)}%` }
              }
            >
              <strong>{formatDayMonth(shown.day.day, lng)}</strong>
              <dl>
                <dt>{t('divergences.metrics.chart.detected')}</dt>
                <dd>{formatNumber(shown.day.detected, lng)}</dd>
                <dt>{t('divergences.metrics.chart.ended')}</dt>
                <dd>{formatNumber(shown.day.ended, lng)}</dd>
              </dl>
            </div>
          ) : null}
        </div>
      </div>
      <div className="div-metrics-days" aria-hidden="true">
        {slots.map((s, i) =>
          i % LABEL_EVERY === 0 || i === last ? (
            <span key={s.day.day} data-testid="metrics-day-label" style={{ left: `${r2((100 * (s.x + s.slot / 2)) / WIDTH)}%` }}>
              {formatDayMonth(s.day.day, lng)}
            </span>
          ) : null,
        )}
      </div>
      <figcaption className="activity-legend">
        <span className="activity-key div-metrics-key-detected">{t('divergences.metrics.chart.detected')}</span>
        <span className="activity-key div-metrics-key-ended">{t('divergences.metrics.chart.ended')}</span>
      </figcaption>
    </figure>
  );
}

// ---------- The tab ----------

export function MetricsTab({ refreshKey }: { refreshKey: number }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [metrics, setMetrics] = useState<DivergenceMetrics | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    let stale = false;
    divergenceMetrics().then(
      (m) => {
        if (stale) return;
        setMetrics(m ?? null);
        setError(null);
        setLoaded(true);
      },
      (e) => {
        if (stale) return;
        setError(toApiError(e));
        setLoaded(true);
      },
    );
    return () => {
      stale = true;
    };
  }, [refreshKey]);

  return (
    <div className="div-metrics" data-testid="divergences-metrics">
      <p className="muted">{t('divergences.metrics.intro')}</p>
      {error ? <DivergenceErrorBox error={error} testId="divergences-metrics-error" /> : null}
      {!loaded ? <Loading /> : null}
      {loaded && metrics && metricsEmpty(metrics) ? (
        <div className="card" data-testid="divergences-metrics-empty">
          <EmptyState icon="scale" title={t('divergences.metrics.emptyTitle')}>
            <p>{t('divergences.metrics.emptyBody')}</p>
          </EmptyState>
        </div>
      ) : null}
      {metrics && !metricsEmpty(metrics) ? (
        <>
          <div className="stat-grid div-metrics-tiles">
            <Tile icon="alert" label={t('divergences.metrics.open')} value={formatNumber(metrics.open, lng)} hint={t('divergences.metrics.openHint')} testId="metrics-open" />
            <Tile
              icon="scale"
              label={t('divergences.metrics.amount')}
              value={formatAmounts(metrics.amounts_open, lng)}
              hint={t('divergences.metrics.amountHint')}
              testId="metrics-amount"
            />
            <Tile
              icon="sparkle"
              label={t('divergences.metrics.autoRate')}
              value={rateText(metrics.auto_apply_rate, lng)}
              hint={metrics.auto_apply_rate === null ? t('divergences.metrics.autoRateNone') : t('divergences.metrics.autoRateHint')}
              testId="metrics-auto-rate"
            />
          </div>

          <h2 className="div-metrics-heading">{t('divergences.metrics.perRule')}</h2>
          {metrics.rules.length > 0 ? <RuleTable rules={metrics.rules} /> : <p className="muted">{t('divergences.metrics.noRules')}</p>}
          {metrics.rules.length > 0 ? (
            <div className="div-metrics-notes">
              <ul className="div-age-legend" aria-hidden="true">
                {AGE_BANDS.map((b) => (
                  <li key={b}>
                    <span className={`div-age-dot div-age-${b}`} />
                    {t(`divergences.metrics.ageShort.${b}`)}: {t(`divergences.metrics.age.${b}`)}
                  </li>
                ))}
              </ul>
              <p className="muted small" data-testid="metrics-hint">
                {t('divergences.metrics.hint')}
              </p>
            </div>
          ) : null}

          {metrics.days.length > 0 ? <DaysChart days={metrics.days} /> : null}
        </>
      ) : null}
    </div>
  );
}
