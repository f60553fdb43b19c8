import { useTranslation } from 'react-i18next';

import { Icon } from './Icon';

/** The "×" that closes or dismisses a box, a panel or a dialog (named "Close" for screen readers). */
export function CloseButton({ onClick, size = 16, testId }: { onClick: () => void; size?: number; testId?: string }) {
  const { t } = useTranslation();
  return (
    <button type="button" className="icon-button" onClick={onClick} aria-label={t('common.close')} data-testid={testId}>
      <Icon name="close" size={size} />
    </button>
  );
}
