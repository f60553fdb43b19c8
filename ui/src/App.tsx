import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from './api';
import { ScreenErrorBoundary } from './components/ScreenErrorBoundary';
import { AppContext, type AppState } from './AppContext';
import type { AppInfo } from './bindings/AppInfo';
import { Icon, type IconName } from './components/Icon';
import { Loading } from './components/Loading';
import { setLanguage } from './i18n';
import { ComingNextPage } from './components/ComingNext';
import { ConnectionsPage } from './features/connections/ConnectionsPage';
import { ContificoPage } from './features/contifico/ContificoPage';
import { DashboardPage } from './features/dashboard/DashboardPage';
import { ErpnextPage } from './features/erpnext/ErpnextPage';
import { JobsPage } from './features/jobs/JobsPage';
import { OmiePage } from './features/omie/OmiePage';
import { SchedulesPage } from './features/schedules/SchedulesPage';
import { SCHEDULES_SEGMENT } from './features/schedules/Tabs';
import { SettingsPage } from './features/settings/SettingsPage';
import { hrefFor, useRoute, type Page } from './router';

// The Divergences page is the largest feature and not where the app opens: it is loaded when first
// shown (which keeps the main bundle under its size limit).
const DivergencesPage = lazy(() =>
  import('./features/divergences/DivergencesPage').then((m) => ({ default: m.DivergencesPage })),
);
// Contracts and billing, likewise.
const ContractsPage = lazy(() => import('./features/contracts/ContractsPage').then((m) => ({ default: m.ContractsPage })));

interface NavItem {
  page: Page;
  icon: IconName;
  /** The label's key when it is not `nav.<page>`. */
  label?: string;
}

const NAV: ReadonlyArray<{ group: string; items: readonly NavItem[] }> = [
  {
    group: 'nav.groupOverview',
    items: [
      { page: 'dashboard', icon: 'dashboard' },
      { page: 'connections', icon: 'plug' },
    ],
  },
  {
    group: 'nav.groupErps',
    items: [
      { page: 'contifico', icon: 'box' },
      { page: 'omie', icon: 'paperclip' },
      { page: 'erpnext', icon: 'transfer' },
    ],
  },
  {
    group: 'nav.groupChecks',
    items: [
      { page: 'divergences', icon: 'scale' },
      { page: 'contracts', icon: 'edit', label: 'contracts.nav' },
    ],
  },
  {
    group: 'nav.groupSystem',
    items: [
      { page: 'jobs', icon: 'list' },
      { page: 'settings', icon: 'gear' },
    ],
  },
];

function BrandMark() {
  return (
    <svg width="30" height="30" viewBox="0 0 30 30" aria-hidden="true" focusable="false">
      <rect width="30" height="30" rx="8" fill="#0f766e" />
      <path d="M8 10h14M8 15h9M8 20h6" stroke="#ffffff" strokeWidth="2.2" strokeLinecap="round" />
      <path d="M17.5 20.5l2 2 4-4.5" fill="none" stroke="#99f6e4" strokeWidth="2.2" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export function App({ initialInfo = null }: { initialInfo?: AppInfo | null }) {
  const { t } = useTranslation();
  const route = useRoute();
  const [info, setInfo] = useState<AppInfo | null>(initialInfo);

  const refreshInfo = useCallback(async () => {
    try {
      setInfo(await api.appInfo());
    } catch {
      // The pages show their own errors; the shell keeps the last known info.
    }
  }, []);

  useEffect(() => {
    if (initialInfo) return;
    // The engine did not answer before the first paint: ask again, and adopt its language.
    api.appInfo().then(
      (i) => {
        setInfo(i);
        void setLanguage(i.locale);
      },
      () => {},
    );
  }, [initialInfo]);

  useEffect(() => {
    // A click on a desktop notification brings the window up on the job it is about.
    let unsubscribe: (() => void) | null = null;
    let gone = false;
    void api.onOpenRoute((target) => {
      if (target.startsWith('#/')) window.location.hash = target;
    }).then((u) => {
      if (gone) u();
      else unsubscribe = u;
    });
    return () => {
      gone = true;
      unsubscribe?.();
    };
  }, []);

  const state = useMemo<AppState>(() => ({ info, refreshInfo }), [info, refreshInfo]);

  let content;
  switch (route.page) {
    case 'dashboard':
      content = <DashboardPage />;
      break;
    case 'connections':
      content = <ConnectionsPage openNew={route.id === 'new'} />;
      break;
    case 'contifico':
      content = <ContificoPage path={route.sub} />;
      break;
    case 'omie':
      content = <OmiePage path={route.sub} />;
      break;
    case 'erpnext':
      content = <ErpnextPage path={route.sub} />;
      break;
    case 'jobs':
      // "#/jobs/schedules" is the Schedules tab; any other id is a job.
      content = route.id === SCHEDULES_SEGMENT ? <SchedulesPage /> : <JobsPage selectedId={route.id} />;
      break;
    case 'settings':
      content = <SettingsPage />;
      break;
    case 'divergences':
      content = (
        <Suspense fallback={<Loading />}>
          <DivergencesPage path={route.sub} />
        </Suspense>
      );
      break;
    case 'contracts':
      content = (
        <Suspense fallback={<Loading />}>
          <ContractsPage path={route.sub} />
        </Suspense>
      );
      break;
    default:
      content = <ComingNextPage page={route.page} />;
  }

  return (
    <AppContext.Provider value={state}>
      <div className="shell">
        <nav className="sidebar" aria-label={t('nav.label')}>
          <div className="brand">
            <BrandMark />
            <div>
              <div className="brand-name">{t('app.name')}</div>
              <div className="brand-tagline">{t('app.tagline')}</div>
            </div>
          </div>
          {NAV.map((section) => (
            <div className="nav-section" key={section.group}>
              <div className="nav-group">{t(section.group)}</div>
              <ul>
                {section.items.map((item) => {
                  const active = route.page === item.page;
                  return (
                    <li key={item.page}>
                      <a
                        href={hrefFor(item.page)}
                        className={active ? 'nav-link active' : 'nav-link'}
                        aria-current={active ? 'page' : undefined}
                        data-testid={`nav-${item.page}`}
                      >
                        <Icon name={item.icon} />
                        <span>{t(item.label ?? `nav.${item.page}`)}</span>
                      </a>
                    </li>
                  );
                })}
              </ul>
            </div>
          ))}
          <div className="sidebar-footer">
            {info?.demo_running ? (
              <span className="badge badge-demo">
                <Icon name="sparkle" size={12} />
                {t('app.demoMode')}
              </span>
            ) : null}
            {info?.team_database ? (
              <span className="badge badge-team" data-testid="team-badge" title={info.team_database}>
                <Icon name="database" size={12} />
                {t('team.teamBadge')}
              </span>
            ) : null}
            {info ? <span className="sidebar-version">v{info.version}</span> : null}
          </div>
        </nav>
        <main className="content">
          <ScreenErrorBoundary resetKey={window.location.hash}>{content}</ScreenErrorBoundary>
        </main>
      </div>
    </AppContext.Provider>
  );
}
