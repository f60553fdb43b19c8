import { useEffect, useId, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { useTranslation } from 'react-i18next';

import { useEscape } from '../hooks/useEscape';
import { CloseButton } from './CloseButton';
import { Icon } from './Icon';

/**
 * A centred dialog over a dimmed page. Escape or the close button dismisses it. It is drawn at the end
 * of <body>, not where it is declared: a dialog opened from a side panel would otherwise be positioned
 * and clipped by that panel while the panel slides in (a transformed ancestor holds `position: fixed`).
 */
export function Modal({
  title,
  onClose,
  children,
  footer,
  testId,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  testId?: string;
  wide?: boolean;
}) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  useEscape(onClose);

  useEffect(() => {
    const first = panel.current?.querySelector<HTMLElement>('input, select, textarea, button[data-autofocus]');
    first?.focus();
  }, []);

  return createPortal(
    <div className="modal-backdrop">
      <div
        ref={panel}
        className={wide ? 'modal modal-wide' : 'modal'}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={testId}
      >
        <div className="modal-header">
          <h2 id={titleId}>{title}</h2>
          <CloseButton onClick={onClose} size={18} />
        </div>
        <div className="modal-body">{children}</div>
        {footer ? <div className="modal-footer">{footer}</div> : null}
      </div>
    </div>,
    document.body,
  );
}

/** Asks before doing something that cannot be undone. */
export function ConfirmDialog({
  title,
  body,
  confirmLabel,
  busy,
  onConfirm,
  onCancel,
  children,
}: {
  title: string;
  body: string;
  confirmLabel: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <Modal
      title={title}
      onClose={onCancel}
      testId="confirm-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onCancel} data-testid="confirm-cancel" data-autofocus>
            {t('common.cancel')}
          </button>
          <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy} data-testid="confirm-accept">
            <Icon name="trash" size={16} />
            {confirmLabel}
          </button>
        </>
      }
    >
      <p>{body}</p>
      {children}
    </Modal>
  );
}
