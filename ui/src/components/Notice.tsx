import type { ReactNode } from 'react';

import { CloseButton } from './CloseButton';
import { Icon } from './Icon';

/** A success message (`.alert-success`, `role="status"`), with a close button when `onDismiss` is given. */
export function Notice({ children, testId, onDismiss }: { children: ReactNode; testId?: string; onDismiss?: () => void }) {
  return (
    <div className="alert alert-success" role="status" data-testid={testId}>
      <Icon name="check" size={20} className="alert-icon" />
      <div className="alert-body">
        <p className="alert-text">{children}</p>
      </div>
      {onDismiss ? <CloseButton onClick={onDismiss} /> : null}
    </div>
  );
}
