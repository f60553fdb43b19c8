import { useTranslation } from 'react-i18next';

import type { ApiError } from '../bindings/ApiError';
import { translateError } from '../errors';
import { CloseButton } from './CloseButton';
import { Icon } from './Icon';

/** Technical details, folded away by default. */
export function ErrorDetails({ details }: { details: string | null | undefined }) {
  const { t } = useTranslation();
  if (!details) return null;
  return (
    <details className="error-details">
      <summary>{t('common.details')}</summary>
      <pre>{details}</pre>
    </details>
  );
}

/** An error in plain words in the user's language, with a "technical details" disclosure. */
export function ErrorBox({
  error,
  testId,
  title,
  text,
  onDismiss,
}: {
  error: ApiError;
  testId?: string;
  title?: string;
  /** The error in words, when a page words it itself; `errors.<code>` otherwise. */
  text?: string;
  onDismiss?: () => void;
}) {
  const { i18n } = useTranslation();
  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-code={error.code}>
      <Icon name="alert" size={20} className="alert-icon" />
      <div className="alert-body">
        {title ? <strong className="alert-title">{title}</strong> : null}
        <p className="alert-text">{text ?? translateError(i18n, error)}</p>
        <ErrorDetails details={error.details} />
      </div>
      {onDismiss ? <CloseButton onClick={onDismiss} /> : null}
    </div>
  );
}
