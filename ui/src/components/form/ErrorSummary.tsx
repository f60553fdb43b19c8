import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import { ErrorBox } from '../ErrorBox';
import { Icon } from '../Icon';
import { fieldsWithMessage, type FieldErrors } from './errors';

/**
 * The box above a dialog's buttons (`data-testid="form-error"`): the core's refusal when there is
 * one, else "please fix" with each invalid field's label and message.
 */
export function ErrorSummary<K extends string>({
  serverError,
  errors,
  labels,
}: {
  serverError: ApiError | null;
  /** Messages are i18n keys. */
  errors: FieldErrors<K>;
  labels: Record<K, string>;
}) {
  const { t } = useTranslation();
  if (serverError) return <ErrorBox error={serverError} testId="form-error" />;
  const invalid = fieldsWithMessage(errors);
  if (invalid.length === 0) return null;
  return (
    <div className="alert alert-error" role="alert" data-testid="form-error" data-code="client_validation">
      <Icon name="alert" size={20} className="alert-icon" />
      <div className="alert-body">
        <p className="alert-text">
          {t('form.fixFields', {
            list: invalid.map((f) => `${labels[f]} — ${t(errors[f] ?? '')}`).join('; '),
          })}
        </p>
      </div>
    </div>
  );
}
