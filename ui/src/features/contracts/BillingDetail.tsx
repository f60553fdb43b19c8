// One client-month in a side panel: its figures, the client's last 12 months, the contracts behind
// what was asked for, the titles behind what was billed, and the probable explanations of a gap —
// each of which closes the month's open divergence when accepted (with a written reason).
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { ClientMonth } from '../../bindings/ClientMonth';
import type { Divergence } from '../../bindings/Divergence';
import type { Explanation } from '../../bindings/Explanation';
import type { MonthFigure } from '../../bindings/MonthFigure';
import { CloseButton } from '../../components/CloseButton';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { toApiError } from '../../errors';
import { formatDateOnly } from '../../format';
import { useEscape } from '../../hooks/useEscape';
import { hrefForPath } from '../../router';
import { divergence, divergences } from '../divergences/api';
import { filterOf } from '../divergences/model';
import { AcceptExplanationDialog } from './AcceptExplanation';
import { billingStrip } from './api';
import {
  BILLING_RULE_ID,
  countedLabel,
  documentText,
  explanationText,
  isDivergent,
  money,
  monthLabel,
  plural,
} from './model';
import { ContractErrorBox, VerdictBadge } from './Parts';
import { StripChart } from './StripChart';

/** Statuses in which a divergence can still be closed by accepting an explanation. */
const DECIDABLE = ['open', 'approved', 'failed'];

/** The months the strip shows. */
export const STRIP_MONTHS = 12;

/**
 * The divergence of a client-month (rule "billing vs contract"), and the explanations already
 * accepted on it (read from its history once it is closed).
 */
function useMonthDivergence(row: ClientMonth, refreshKey: number) {
  const [found, setFound] = useState<Divergence | null>(null);
  const [accepted, setAccepted] = useState<string[]>([]);
  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const page = await divergences(
          filterOf({
            rule_ids: [BILLING_RULE_ID],
            connection_id: row.connection_id || null,
            search: `${row.client}|${row.month}`,
            limit: 20,
            offset: 0,
          }),
        );
        const mine = (page?.items ?? []).filter((d) => d.facts.client_key === row.client && d.facts.month === row.month);
        const d = mine.find((x) => DECIDABLE.includes(x.status)) ?? mine[0] ?? null;
        let keys: string[] = [];
        if (d && d.status === 'rejected') {
          const detail = await divergence(d.id);
          keys = (detail?.events ?? [])
            .filter((e) => e.action === 'explanation_accepted')
            .map((e) => /^([a-z_]+):/.exec(e.note)?.[1] ?? '')
            .filter(Boolean);
        }
        if (!gone) {
          setFound(d);
          setAccepted(keys);
        }
      } catch {
        // Without the divergences the panel still shows the month; only "accept" is left out.
        if (!gone) setFound(null);
      }
    })();
    return () => {
      gone = true;
    };
  }, [row.client, row.month, row.connection_id, refreshKey]);
  return { found, accepted };
}

export function BillingDetailPanel({
  row,
  connectionId,
  onClose,
  onChanged,
}: {
  row: ClientMonth;
  /** The company asked for (null: the only one). */
  connectionId: string | null;
  onClose: () => void;
  /** An explanation was accepted: the reconciliation is read again. */
  onChanged: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [strip, setStrip] = useState<MonthFigure[] | null>(null);
  const [stripError, setStripError] = useState<ApiError | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [dialog, setDialog] = useState<Explanation | null>(null);
  const [justAccepted, setJustAccepted] = useState<string | null>(null);
  const { found, accepted } = useMonthDivergence(row, refreshKey);
  useEscape(() => {
    if (!dialog) onClose();
  });

  const loadStrip = useCallback(async () => {
    try {
      setStrip((await billingStrip(connectionId ?? (row.connection_id || null), row.client, row.month, STRIP_MONTHS)) ?? []);
      setStripError(null);
    } catch (e) {
      setStripError(toApiError(e));
    }
  }, [connectionId, row.connection_id, row.client, row.month]);

  useEffect(() => {
    void loadStrip();
  }, [loadStrip]);

  const cur = row.currency;
  const negative = row.difference.trim().startsWith('-') && /[1-9]/.test(row.difference);
  const decidable = found !== null && DECIDABLE.includes(found.status);
  const acceptedKeys = justAccepted ? [...accepted, justAccepted] : accepted;

  return (
    <aside
      className="detail-panel billing-detail"
      data-testid="billing-detail"
      data-client={row.client}
      data-verdict={row.verdict}
      aria-label={`${row.client_name} · ${monthLabel(row.month, lng)}`}
    >
      <div className="detail-header">
        <div className="detail-title">
          <span className="eyebrow truncate">{monthLabel(row.month, lng)}</span>
          <h2 className="truncate" title={row.client_name}>
            {row.client_name || row.client}
          </h2>
          {row.client_document ? <span className="muted small mono">{documentText(row.client_document)}</span> : null}
        </div>
        <CloseButton onClick={onClose} size={18} testId="billing-detail-close" />
      </div>
      <div className="detail-body">
        <div className="detail-status">
          <VerdictBadge verdict={row.verdict} />
          <span className={negative ? 'tabular strong billing-negative' : 'tabular strong'} data-testid="billing-detail-difference">
            {money(row.difference, lng, cur)}
          </span>
        </div>

        <dl className="facts">
          <div>
            <dt>{t('contracts.detail.contracted')}</dt>
            <dd className="tabular">{money(row.contracted, lng, cur)}</dd>
          </div>
          <div>
            <dt>{t('contracts.detail.billed')}</dt>
            <dd className="tabular">{money(row.billed, lng, cur)}</dd>
          </div>
          <div>
            <dt>{t('contracts.detail.difference')}</dt>
            <dd className={negative ? 'tabular billing-negative' : 'tabular'}>{money(row.difference, lng, cur)}</dd>
          </div>
          <div>
            <dt>{t('contracts.detail.tolerance')}</dt>
            <dd className="tabular">{money(row.tolerance, lng, cur)}</dd>
          </div>
        </dl>

        <section className="detail-section">
          <h3>{t('contracts.detail.strip')}</h3>
          {stripError ? <ContractErrorBox error={stripError} onDismiss={() => setStripError(null)} testId="billing-strip-error" /> : null}
          {strip === null && !stripError ? <Loading /> : null}
          {strip !== null ? <StripChart figures={strip} currency={cur} current={row.month} /> : null}
        </section>

        <section className="detail-section">
          <h3>{t('contracts.detail.explanations')}</h3>
          {found && decidable ? (
            <p className="muted small" data-testid="billing-divergence-open">
              {t('contracts.detail.divergence')}
            </p>
          ) : null}
          {found && !decidable && acceptedKeys.length > 0 ? (
            <p className="muted small" data-testid="billing-divergence-closed">
              {t('contracts.detail.divergenceClosed')}
            </p>
          ) : null}
          {row.explanations.length === 0 ? (
            isDivergent(row.verdict) ? (
              <p className="muted small" data-testid="billing-no-explanation">
                {t('contracts.detail.noExplanations')}
              </p>
            ) : null
          ) : (
            <ul className="billing-explanations">
              {row.explanations.map((e, i) => {
                const isAccepted = acceptedKeys.includes(e.key);
                return (
                  <li key={`${e.key}-${i}`} data-testid="billing-explanation" data-key={e.key}>
                    <p>{explanationText(i18n, e, cur)}</p>
                    {isAccepted ? (
                      <span className="badge badge-status badge-succeeded" data-testid="explanation-accepted">
                        <Icon name="check" size={13} />
                        {t('contracts.detail.accepted')}
                      </span>
                    ) : decidable ? (
                      <button type="button" className="btn btn-small" onClick={() => setDialog(e)} data-testid="accept-explanation">
                        <Icon name="check" size={14} />
                        {t('contracts.detail.accept')}
                      </button>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          )}
          {found ? (
            <a className="link-quiet small" href={hrefForPath('divergences', 'inbox', BILLING_RULE_ID)} data-testid="billing-open-divergence">
              {t('contracts.detail.openInbox')}
              <Icon name="chevron" size={12} />
            </a>
          ) : null}
        </section>

        <section className="detail-section">
          <h3>{t('contracts.detail.contracts')}</h3>
          {row.contracts.length === 0 ? (
            <p className="muted small">{t('contracts.detail.noContracts')}</p>
          ) : (
            <ul className="billing-lines">
              {row.contracts.map((c) => (
                <li key={c.contract_id} data-testid="billing-contract-line" data-id={c.contract_id}>
                  <div className="billing-line-head">
                    <span className="strong">{c.description}</span>
                    <span className="tabular strong">{money(c.amount, lng, cur)}</span>
                  </div>
                  <div className="muted small billing-line-facts">
                    <span>{t('contracts.detail.monthly', { amount: money(c.mrr, lng, cur) })}</span>
                    {c.prorated ? (
                      <span data-testid="billing-prorated">
                        {t('contracts.detail.prorated', { days: String(c.days), days_in_month: String(c.days_in_month) })}
                      </span>
                    ) : null}
                    {c.readjustments > 0 ? <span>{plural(i18n, 'contracts.detail.readjustments', c.readjustments)}</span> : null}
                    {c.suspended ? <span className="badge badge-status badge-open">{t('contracts.detail.suspended')}</span> : null}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="detail-section">
          <h3>{t('contracts.detail.titles')}</h3>
          {row.titles.length === 0 ? (
            <p className="muted small">{t('contracts.detail.noTitles')}</p>
          ) : (
            <table className="table billing-titles" aria-label={t('contracts.detail.titles')}>
              <thead>
                <tr>
                  <th>{t('contracts.detail.colNumber')}</th>
                  <th>{t('contracts.detail.colDate')}</th>
                  <th>{t('contracts.detail.colStatus')}</th>
                  <th className="billing-num">{t('contracts.detail.colAmount')}</th>
                  <th>{t('contracts.detail.colCounted')}</th>
                </tr>
              </thead>
              <tbody>
                {row.titles.map((ti) => {
                  const gone = ti.counted_as === 'cancelled';
                  const out = ti.counted_as !== 'counted';
                  const amount = money(ti.amount, lng, cur);
                  return (
                    <tr key={ti.id} data-testid="billing-title" data-counted={ti.counted_as} className={out ? 'billing-title-out' : undefined}>
                      <td className="mono">{gone ? <del>{ti.number || ti.id}</del> : ti.number || ti.id}</td>
                      <td className="tabular">{formatDateOnly(ti.date, lng)}</td>
                      <td className="small">{ti.status}</td>
                      <td className="tabular billing-num">{gone ? <del>{amount}</del> : amount}</td>
                      <td className="small">{countedLabel(i18n, ti.counted_as)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
      </div>

      {dialog && found ? (
        <AcceptExplanationDialog
          divergenceId={found.id}
          explanation={dialog}
          currency={cur}
          client={row.client_name || row.client}
          month={row.month}
          onClose={() => setDialog(null)}
          onDone={(key) => {
            setDialog(null);
            setJustAccepted(key);
            setRefreshKey((k) => k + 1);
            onChanged();
          }}
        />
      ) : null}
    </aside>
  );
}
