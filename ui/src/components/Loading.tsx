import { useTranslation } from 'react-i18next';

/** "Loading…" with a spinner, announced politely (`role="status"`). */
export function Loading() {
  const { t } = useTranslation();
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {t('common.loading')}
    </div>
  );
}
