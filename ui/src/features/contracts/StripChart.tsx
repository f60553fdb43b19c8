// A client's last 12 months: what was billed as bars and what the contracts ask for as a step
// line, the months out of tolerance marked. Drawn by hand in SVG like the dashboard's chart (the
// window freezes Object.prototype, which chart libraries do not survive): plain arithmetic in a
// fixed viewBox the browser stretches to the panel's width. The arrows walk the months.
import type { i18n as I18n } from 'i18next';
import { useTranslation } from 'react-i18next';

import type { MonthFigure } from '../../bindings/MonthFigure';
import { useDayWalker } from '../../hooks/useDayWalker';
import { isDivergent, money, monthLabel, monthShort, plural, verdictLabel } from './model';

const WIDTH = 300;
const HEIGHT = 100;
/** Room above the tallest bar or step. */
const TOP = 10;
const SIDE = 2;
const PLOT = HEIGHT - TOP;
/** The gap on each side of a bar, as a share of its month's slot. */
const GAP = 0.2;
/** The shortest bar: a month billed nothing keeps a stub. */
const MIN_BAR = 1.5;

const r2 = (n: number) => Math.round(n * 100) / 100;
const amount = (s: string) => {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
};

type Tone = 'divergent' | 'within' | 'idle';
const toneOf = (f: MonthFigure): Tone => (isDivergent(f.verdict) ? 'divergent' : f.verdict === 'within' ? 'within' : 'idle');

function layout(figures: readonly MonthFigure[]) {
  const slot = (WIDTH - 2 * SIDE) / Math.max(1, figures.length);
  const max = Math.max(0, ...figures.map((f) => Math.max(amount(f.contracted), amount(f.billed))));
  const y = (v: number) => HEIGHT - (max > 0 ? (Math.max(0, v) / max) * PLOT : 0);
  return figures.map((f, i) => {
    const x = SIDE + i * slot;
    const barY = Math.min(HEIGHT - MIN_BAR, y(amount(f.billed)));
    return { figure: f, x, slot, barX: x + slot * GAP, barW: slot * (1 - 2 * GAP), barY, stepY: y(amount(f.contracted)), tone: toneOf(f) };
  });
}

/** The contracted step line: flat across each month, straight up or down between months. */
function stepPath(slots: ReturnType<typeof layout>): string {
  return slots.map((s, i) => `${i === 0 ? 'M' : 'L'}${r2(s.x)},${r2(s.stepY)}H${r2(s.x + s.slot)}`).join('');
}

/** One month in words: what a screen reader reads and the hover tip shows. */
export function monthSentence(i18n: I18n, f: MonthFigure, currency: string): string {
  const lng = i18n.language;
  const words = i18n.t('contracts.detail.stripMonth', {
    month: monthLabel(f.month, lng),
    contracted: money(f.contracted, lng, currency),
    billed: money(f.billed, lng, currency),
  });
  return f.verdict ? `${words} — ${verdictLabel(i18n, f.verdict)}` : words;
}

export function stripSummary(i18n: I18n, figures: readonly MonthFigure[]): string {
  if (figures.length === 0) return i18n.t('contracts.detail.stripEmpty');
  const lng = i18n.language;
  return plural(i18n, 'contracts.detail.stripSummary', figures.filter((f) => isDivergent(f.verdict)).length, {
    from: monthLabel(figures[0]!.month, lng),
    to: monthLabel(figures[figures.length - 1]!.month, lng),
  });
}

export function StripChart({ figures, currency, current }: { figures: readonly MonthFigure[]; currency: string; current: string }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { active, setActive, onKeyDown } = useDayWalker(figures.length);
  const slots = layout(figures);
  const shown = active !== null ? slots[active] : undefined;

  return (
    <figure className="activity billing-strip" data-testid="billing-strip">
      <div className="activity-plot billing-strip-plot">
        <svg
          className="activity-svg"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={stripSummary(i18n, figures)}
          data-testid="billing-strip-svg"
          tabIndex={figures.length > 0 ? 0 : undefined}
          onFocus={() => setActive((i) => i ?? (figures.length > 0 ? figures.length - 1 : null))}
          onBlur={() => setActive(null)}
          onKeyDown={onKeyDown}
          onPointerLeave={() => setActive(null)}
        >
          {slots.map((s, i) => (
            <g key={s.figure.month} data-testid="billing-strip-month" data-month={s.figure.month} data-verdict={s.figure.verdict} onPointerEnter={() => setActive(i)}>
              <rect
                className={`activity-slot${i === active ? ' activity-slot-active' : ''}${s.figure.month === current ? ' billing-slot-current' : ''}`}
                x={r2(s.x)}
                y={0}
                width={r2(s.slot)}
                height={HEIGHT}
              />
              <rect className={`billing-bar billing-bar-${s.tone}`} x={r2(s.barX)} y={r2(s.barY)} width={r2(s.barW)} height={r2(HEIGHT - s.barY)} />
            </g>
          ))}
          {slots.length > 0 ? <path className="billing-step" d={stepPath(slots)} /> : null}
        </svg>
        {slots.map((s) =>
          s.tone === 'divergent' ? (
            <span
              key={s.figure.month}
              className="billing-strip-mark"
              style={{ left: `${r2((100 * (s.x + s.slot / 2)) / WIDTH)}%` }}
              title={t('contracts.detail.divergentMonth')}
              aria-hidden="true"
              data-testid="billing-strip-mark"
            />
          ) : null,
        )}
        <div className="activity-tip-region" aria-live="polite">
          {shown ? (
            <div
              className="activity-tip"
              data-testid="billing-strip-tip"
              style={
                active !== null && active < figures.length / 2
                  ? { left: `${r2((100 * (shown.x + shown.slot)) / WIDTH)}%` }
                  : { right: `${r2(100 - (100 * shown.x) / WIDTH)}%` }
              }
            >
              <strong>{monthLabel(shown.figure.month, lng)}</strong>
              <dl>
                <dt>{t('contracts.detail.contracted')}</dt>
                <dd>{money(shown.figure.contracted, lng, currency)}</dd>
                <dt>{t('contracts.detail.billed')}</dt>
                <dd className={shown.tone === 'divergent' ? 'tone-bad' : undefined}>{money(shown.figure.billed, lng, currency)}</dd>
              </dl>
              {shown.figure.verdict ? <span className="small">{verdictLabel(i18n, shown.figure.verdict)}</span> : null}
            </div>
          ) : null}
        </div>
      </div>
      <div className="billing-strip-months" aria-hidden="true">
        {slots.map((s) => (
          <span key={s.figure.month} className={s.figure.month === current ? 'strong' : undefined} style={{ left: `${r2((100 * (s.x + s.slot / 2)) / WIDTH)}%` }}>
            {monthShort(s.figure.month, lng)}
          </span>
        ))}
      </div>
      <ul className="sr-only" data-testid="billing-strip-list">
        {figures.map((f) => (
          <li key={f.month}>{monthSentence(i18n, f, currency)}</li>
        ))}
      </ul>
      <figcaption className="activity-legend">
        <span className="activity-key billing-key-billed">{t('contracts.detail.billed')}</span>
        <span className="activity-key billing-key-contracted">{t('contracts.detail.contracted')}</span>
        <span className="activity-key billing-key-divergent">{t('contracts.detail.divergentMonth')}</span>
      </figcaption>
    </figure>
  );
}
