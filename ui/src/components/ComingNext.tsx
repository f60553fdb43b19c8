import { useTranslation } from 'react-i18next';

import { Icon, type IconName } from './Icon';
import { PageHeader } from './PageHeader';
import { hrefFor } from '../router';

export type ComingPage = 'contifico' | 'omie' | 'erpnext' | 'divergences';

const ICONS: Record<ComingPage, IconName> = {
  contifico: 'box',
  omie: 'paperclip',
  erpnext: 'transfer',
  divergences: 'scale',
};

/** A page whose feature is not built yet: says plainly what it will do. No sample data. */
export function ComingNextPage({ page }: { page: ComingPage }) {
  const { t } = useTranslation();
  const k = `comingNext.${page}`;
  return (
    <section className="page" data-testid={`page-${page}`}>
      <PageHeader title={t(`${k}.title`)} subtitle={t(`${k}.lead`)} />
      <div className="card coming">
        <div className="coming-head">
          <span className="coming-icon">
            <Icon name={ICONS[page]} size={26} />
          </span>
          <span className="badge badge-soon">{t('common.comingNext')}</span>
        </div>
        <h2>{t('comingNext.whatItWillDo')}</h2>
        <ul className="checklist">
          {(['p1', 'p2', 'p3'] as const).map((p) => (
            <li key={p}>
              <Icon name="check" size={16} />
              <span>{t(`${k}.${p}`)}</span>
            </li>
          ))}
        </ul>
        <div className="coming-meanwhile">
          <h3>{t('comingNext.meanwhile')}</h3>
          <p>{t(`${k}.meanwhile`)}</p>
          <a className="btn" href={hrefFor('connections')}>
            <Icon name="plug" size={16} />
            {t('comingNext.goConnections')}
          </a>
        </div>
      </div>
    </section>
  );
}
