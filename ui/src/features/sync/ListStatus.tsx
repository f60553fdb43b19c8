// What a card shows instead of its list while the list loads or when it could not be read.
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import { ErrorBox } from '../../components/ErrorBox';

export function ListStatus({ loading, error }: { loading: boolean; error: ApiError | null }) {
  const { t } = useTranslation();
  if (error) {
    return (
      <div className="card-empty">
        <ErrorBox error={error} />
      </div>
    );
  }
  if (!loading) return null;
  return (
    <div className="loading card-empty" role="status">
      <span className="spinner" aria-hidden="true" />
      {t('common.loading')}
    </div>
  );
}
