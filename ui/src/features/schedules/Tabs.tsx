// The two sections of "Jobs & Logs": the jobs themselves and the schedules that start them.
import { useTranslation } from 'react-i18next';

import { Icon } from '../../components/Icon';
import { hrefFor, hrefForPath } from '../../router';
import './schedules.css';

/** The segment after "#/jobs" that opens the schedules ("#/jobs/schedules"). */
export const SCHEDULES_SEGMENT = 'schedules';

export function JobsTabs({ active }: { active: 'jobs' | 'schedules' }) {
  const { t } = useTranslation();
  const tabs = [
    { id: 'jobs' as const, href: hrefFor('jobs'), icon: 'list' as const, label: t('schedules.tabJobs'), testId: 'jobs-tab-list' },
    {
      id: 'schedules' as const,
      href: hrefForPath('jobs', SCHEDULES_SEGMENT),
      icon: 'clock' as const,
      label: t('schedules.tabSchedules'),
      testId: 'jobs-tab-schedules',
    },
  ];
  return (
    <nav className="sch-tabs" aria-label={t('schedules.tabsLabel')}>
      {tabs.map((tab) => (
        <a
          key={tab.id}
          href={tab.href}
          className={active === tab.id ? 'sch-tab active' : 'sch-tab'}
          aria-current={active === tab.id ? 'page' : undefined}
          data-testid={tab.testId}
        >
          <Icon name={tab.icon} size={15} />
          {tab.label}
        </a>
      ))}
    </nav>
  );
}
