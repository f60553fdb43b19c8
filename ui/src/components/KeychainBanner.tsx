import { useTranslation } from 'react-i18next';

import { ErrorDetails } from './ErrorBox';
import { Icon } from './Icon';

/** Shown when the OS keychain (where ERP secrets live) is locked or missing. */
export function KeychainBanner({ detail }: { detail: string | null }) {
  const { t } = useTranslation();
  return (
    <div className="alert alert-warning banner" role="alert" data-testid="keychain-banner">
      <Icon name="lock" size={22} className="alert-icon" />
      <div className="alert-body">
        <strong className="alert-title">{t('dashboard.keychainTitle')}</strong>
        <p className="alert-text">{t('dashboard.keychainBody')}</p>
        <ErrorDetails details={detail} />
      </div>
    </div>
  );
}
