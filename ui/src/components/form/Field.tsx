// A labelled form control with its hint or its error below, the same in every form.
import type { ReactNode } from 'react';

/** The id of the hint or error line under control `id` (what its aria-describedby names). */
export const messageId = (id: string): string => `${id}-msg`;

/**
 * The attributes a control inside a `Field` carries: its id, `aria-invalid` when its value is
 * wrong, and `aria-describedby` naming the hint or error line.
 */
export function controlProps(id: string, invalid: boolean) {
  return { id, 'aria-invalid': invalid || undefined, 'aria-describedby': messageId(id) } as const;
}

export interface FieldMessageProps {
  /** The line's id: `messageId(<control id>)`. */
  id: string;
  /** The error in words; when given it replaces the hint. */
  error?: ReactNode;
  hint?: ReactNode;
  /** `data-testid` of the error line, for the tests that look for it. */
  errorTestId?: string;
  /** `data-testid` of the hint line. */
  hintTestId?: string;
  /** Announces the error at once (`role="alert"`), for an error that appears while typing. */
  alert?: boolean;
}

/** The line under a control: its error (`.field-error`), else its hint (`.field-hint`), else nothing. */
export function FieldMessage({ id, error, hint, errorTestId, hintTestId, alert = false }: FieldMessageProps) {
  if (error) {
    return (
      <p id={id} className="field-error" role={alert ? 'alert' : undefined} data-testid={errorTestId}>
        {error}
      </p>
    );
  }
  if (hint) {
    return (
      <p id={id} className="field-hint" data-testid={hintTestId}>
        {hint}
      </p>
    );
  }
  return null;
}

export interface FieldProps extends Omit<FieldMessageProps, 'id'> {
  /** The control's id: the label points at it, and its message line is `messageId(id)`. */
  id: string;
  label: ReactNode;
  /** Spans both columns of a `.form-grid`. */
  wide?: boolean;
  /** More classes on the `.field` box. */
  className?: string;
  /** The control (give it `controlProps(id, invalid)`). */
  children: ReactNode;
  /** Shown after the message line (e.g. a button that acts on the field). */
  after?: ReactNode;
}

/** `<div class="field">`: label, control, then its error or hint. */
export function Field({ id, label, wide = false, className, children, after, ...message }: FieldProps) {
  const classes = ['field', wide ? 'field-wide' : null, className ?? null].filter(Boolean).join(' ');
  return (
    <div className={classes}>
      <label htmlFor={id}>{label}</label>
      {children}
      <FieldMessage id={messageId(id)} {...message} />
      {after}
    </div>
  );
}
