// The dashboard's "Open divergences" card: how many divergences still need someone, the amount at
// stake, and the open ones per rule, each linking into the inbox. Quiet (no card at all) when there
// are none or the engine cannot say.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { DivergencePage } from '../../bindings/DivergencePage';
import type { Rule } from '../../bindings/Rule';
import { Icon } from '../../components/Icon';
import { formatNumber } from '../../format';
import { useJobEvents } from '../../hooks/useJobEvents';
import { hrefFor, hrefForPath } from '../../router';
import { isActiveJob } from '../sync';
import { APPLY_JOB_KIND, divergenceRules, divergences, SESSION_JOB_KIND } from './api';
import { filterOf, DEFAULT_STATUSES, formatAmounts, ruleName } from './model';
import './divergences.css';

export function OpenDivergencesCard() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [page, setPage] = useState<DivergencePage | null>(null);
  const [rules, setRules] = useState<Rule[] | null>(null);

  const load = useCallback(async () => {
    try {
      const p = await divergences(filterOf({ statuses: [...DEFAULT_STATUSES], limit: 1 }));
      setPage(p ?? null);
      if (p && p.total > 0) {
        try {
          setRules((await divergenceRules()) ?? []);
        } catch {
          // Rule ids are shown instead of their names.
        }
      }
    } catch {
      // The card is advice: without an answer it stays hidden.
      setPage(null);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // A check or a correction that ends changes the counts.
  useJobEvents((event) => {
    const j = event.job;
    if ((j.kind === SESSION_JOB_KIND || j.kind === APPLY_JOB_KIND) && !isActiveJob(j)) void load();
  });

  if (!page || page.total === 0) return null;
  const perRule = Object.entries(page.open_by_rule).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] > 0);

  return (
    <section className="card div-dash-card" data-testid="dashboard-divergences" aria-labelledby="dashboard-divergences-title">
      <div className="card-header">
        <h2 id="dashboard-divergences-title">
          <Icon name="scale" size={16} /> {t('divergences.dashboard.title')}
        </h2>
        <a href={hrefFor('divergences')} className="link-quiet" data-testid="dashboard-divergences-link">
          {t('divergences.dashboard.open')}
          <Icon name="chevron" size={14} />
        </a>
      </div>
      <div className="div-dash-body">
        <p className="div-dash-total">
          <span className="stat-value" data-testid="dashboard-divergences-total">
            {formatNumber(page.total, lng)}
          </span>
          <span className="muted">
            {t('divergences.dashboard.atStake', { amount: formatAmounts(page.amounts, lng) })}
          </span>
        </p>
        {perRule.length > 0 ? (
          <ul className="div-dash-rules">
            {perRule.map(([id, n]) => (
              <li key={id}>
                <a href={hrefForPath('divergences', 'inbox', id)} className="div-chip" data-testid="dashboard-divergences-rule" data-rule={id}>
                  <span className="truncate">{ruleName(rules, id, undefined, i18n)}</span>
                  <span className="div-chip-count tabular">{formatNumber(n, lng)}</span>
                </a>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </section>
  );
}
