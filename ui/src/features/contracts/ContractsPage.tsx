// The Contracts and billing page: was every client billed what its contracts say? The month's
// reconciliation per client (with the 12-month strip, the contracts and titles behind each figure
// and the probable explanations of a gap), the contract book (typed in or imported from a
// spreadsheet), and the rules billing is counted by. Sub-routes: #/contracts (reconciliation),
// #/contracts/reconciliation/<YYYY-MM>/<client>, #/contracts/contracts, #/contracts/settings.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { Connection } from '../../bindings/Connection';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { PageHeader } from '../../components/PageHeader';
import { hrefFor, hrefForPath } from '../../router';
import * as contractsApi from './api';
import { ContractsTab } from './ContractsTab';
import { billingConnections, currencyOf, currentMonth, isMonth } from './model';
import { ReconciliationTab } from './Reconciliation';
import { SettingsTab } from './SettingsTab';
import '../contifico/contifico.css';
import '../divergences/divergences.css';
import './contracts.css';

export type ContractsTabId = 'reconciliation' | 'contracts' | 'settings';
export const CONTRACTS_TABS: readonly ContractsTabId[] = ['reconciliation', 'contracts', 'settings'];

export function parseContractsPath(path: readonly string[]): { tab: ContractsTabId; month: string | null; client: string | null } {
  const first = path[0] ?? '';
  if (first === 'contracts' || first === 'settings') return { tab: first, month: null, client: null };
  if (first === 'reconciliation') {
    const month = isMonth(path[1]) ? path[1] : null;
    return { tab: 'reconciliation', month, client: month ? (path[2] ?? null) : null };
  }
  return { tab: 'reconciliation', month: null, client: null };
}

export function ContractsPage({ path = [] }: { path?: readonly string[] }) {
  const { t } = useTranslation();
  const route = parseContractsPath(path);
  const { tab } = route;

  // The Omie and Contífico companies; with several, the one chosen.
  const [companies, setCompanies] = useState<Connection[] | null>(null);
  const [companyId, setCompanyId] = useState<string | null>(null);
  const [listFailed, setListFailed] = useState(false);
  useEffect(() => {
    let gone = false;
    Promise.resolve()
      .then(() => api.listConnections())
      .then(
        async (all) => {
          const billing = billingConnections(all ?? []);
          // With several companies, open on the first that has a contract book (a new user's
          // Contífico company must not hide the Omie company whose contracts were imported).
          let withBook = new Set<string>();
          if (billing.length > 1) {
            withBook = await contractsApi.contracts(null).then(
              (list) => new Set((list ?? []).map((c) => c.connection_id)),
              () => new Set<string>(),
            );
          }
          if (gone) return;
          setCompanies(billing);
          const first = billing.find((c) => withBook.has(c.id)) ?? billing[0];
          setCompanyId((cur) => (cur && billing.some((c) => c.id === cur) ? cur : (first?.id ?? null)));
        },
        () => {
          // Without the list the core still answers for the only company, or says to choose one.
          if (gone) return;
          setListFailed(true);
          setCompanies([]);
        },
      );
    return () => {
      gone = true;
    };
  }, []);
  const company = useMemo(() => companies?.find((c) => c.id === companyId) ?? null, [companies, companyId]);

  // The month and the client open in the side panel (a link may name them).
  const [month, setMonth] = useState<string>(() => route.month ?? currentMonth());
  const [openClient, setOpenClient] = useState<string | null>(route.client);
  useEffect(() => {
    if (route.month) {
      setMonth(route.month);
      setOpenClient(route.client);
    }
  }, [route.month, route.client]);
  const changeMonth = useCallback((m: string) => {
    setMonth(m);
    setOpenClient(null);
  }, []);

  const noop = useCallback(() => {}, []);
  const several = (companies?.length ?? 0) > 1;
  const none = companies !== null && companies.length === 0 && !listFailed;
  const currency = currencyOf(company);

  const actions = several ? (
    <label className="filter billing-company">
      <span>{t('contracts.company')}</span>
      <select
        value={companyId ?? ''}
        onChange={(e) => {
          setCompanyId(e.target.value);
          setOpenClient(null);
        }}
        data-testid="billing-company"
      >
        {(companies ?? []).map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  ) : undefined;

  const tabHref = (v: ContractsTabId) => (v === 'reconciliation' ? hrefFor('contracts') : hrefForPath('contracts', v));
  const withDetail = tab === 'reconciliation' && openClient !== null;

  // Without the list of connections (an error) the core is asked anyway: it answers for the only
  // company there is, or says which to choose.
  const needsCompany = tab !== 'settings';
  let body;
  if (needsCompany && companies === null) {
    body = <Loading />;
  } else if (needsCompany && none) {
    body = (
      <div className="card" data-testid="contracts-no-company">
        <EmptyState
          icon="plug"
          title={t('contracts.noCompany.title')}
          actions={
            <a className="btn btn-primary" href={hrefFor('connections')}>
              <Icon name="plug" size={16} />
              {t('contracts.noCompany.action')}
            </a>
          }
        >
          <p>{t('contracts.noCompany.body')}</p>
        </EmptyState>
      </div>
    );
  } else if (tab === 'reconciliation') {
    body = (
      <ReconciliationTab
        month={month}
        onMonth={changeMonth}
        connectionId={companyId}
        erp={company?.kind ?? null}
        openClient={openClient}
        onOpenClient={setOpenClient}
        nameCompany={!several}
      />
    );
  } else if (tab === 'contracts') {
    body = <ContractsTab connectionId={companyId} companyName={company?.name ?? null} currency={currency} onChanged={noop} />;
  } else {
    body = <SettingsTab onSaved={noop} />;
  }

  return (
    <section className={withDetail ? 'page page-contracts with-detail' : 'page page-contracts'} data-testid="page-contracts" data-tab={tab}>
      <PageHeader title={t('contracts.title')} subtitle={t('contracts.subtitle')} actions={actions} />
      <nav className="tabs" aria-label={t('contracts.tabs.label')}>
        {CONTRACTS_TABS.map((v) => (
          <a key={v} href={tabHref(v)} className={tab === v ? 'tab active' : 'tab'} aria-current={tab === v ? 'page' : undefined} data-testid={`contracts-tab-${v}`}>
            {t(`contracts.tabs.${v}`)}
          </a>
        ))}
      </nav>
      {body}
    </section>
  );
}
