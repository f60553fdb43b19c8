// A date (or date and time) field that speaks the APP's language, not the operating system's:
// `<input type="date">` is drawn by WebKitGTK in the machine's locale (mm/dd/yyyy on an en-US
// machine even when the app is in Portuguese), so this is a plain text field instead.
//
// It shows and reads "dd/mm/aaaa" in pt-BR and es, "yyyy-mm-dd" in English ("… hh:mm", 24 h, with
// `withTime`), also accepts ISO typed or pasted in any language, and hands the form the value the
// native input gave: "yyyy-mm-dd" / "yyyy-mm-ddThh:mm", or "" when empty. No calendar pop-up
// (and so no date-picker dependency): the forms only need a date typed or pasted.
import { useState, type InputHTMLAttributes, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { datePlaceholder, formatDateInput, parseDateInput } from './dates';
import { controlProps, Field } from './Field';

type NativeProps = Omit<
  InputHTMLAttributes<HTMLInputElement>,
  'id' | 'type' | 'value' | 'defaultValue' | 'onChange' | 'placeholder' | 'inputMode' | 'min' | 'max'
>;

export interface DateFieldProps extends NativeProps {
  /** The control's id: the label points at it, its message line is `messageId(id)`. */
  id: string;
  label: ReactNode;
  /**
   * "yyyy-mm-dd" ("yyyy-mm-ddThh:mm" with `withTime`), or "" when empty. While the text typed is
   * not a date, the text itself: check the value with `isIsoDate` / `isIsoDateTime` before use.
   */
  value: string;
  onChange: (value: string) => void;
  /** A date and a time (what `type="datetime-local"` was); a date only otherwise. */
  withTime?: boolean;
  /** The form's own error (e.g. "Choose a date first"); an unreadable date is reported first. */
  error?: ReactNode;
  hint?: ReactNode;
  /** Marks the control invalid (`aria-invalid`) for a reason the form knows. */
  invalid?: boolean;
  errorTestId?: string;
  hintTestId?: string;
  /** Spans both columns of a `.form-grid`. */
  wide?: boolean;
  /** More classes on the `.field` box. */
  className?: string;
}

/** The example in the error text: 31 January, so the order of day and month cannot be mistaken. */
const EXAMPLE = '2026-01-31T14:30';

export function DateField({
  id,
  label,
  value,
  onChange,
  withTime = false,
  error,
  hint,
  invalid = false,
  errorTestId,
  hintTestId,
  wide,
  className,
  onBlur,
  onKeyDown,
  ...input
}: DateFieldProps) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [text, setText] = useState(() => formatDateInput(value, lng, withTime));
  // The value and language `text` stands for. When the form sets another value (a default, a
  // reset) or the language changes, the text is written anew; what the user typed is kept as typed.
  const [shown, setShown] = useState({ value, lng });
  // Set once the user has left the field (or pressed Enter): from then on an unreadable date is said.
  const [touched, setTouched] = useState(false);

  if (shown.value !== value || shown.lng !== lng) {
    setShown({ value, lng });
    const typed = parseDateInput(text, shown.lng, withTime);
    if (shown.value !== value || typed !== null) setText(formatDateInput(value, lng, withTime));
  }

  const unreadable = parseDateInput(text, lng, withTime) === null;
  const ownError =
    touched && unreadable
      ? t(withTime ? 'dateField.invalidDateTime' : 'dateField.invalidDate', {
          format: datePlaceholder(lng, withTime),
          example: formatDateInput(withTime ? EXAMPLE : EXAMPLE.slice(0, 10), lng, withTime),
        })
      : null;

  const change = (next: string) => {
    const parsed = parseDateInput(next, lng, withTime);
    const out = parsed ?? next.trim();
    setText(next);
    setShown({ value: out, lng });
    if (out !== value) onChange(out);
  };

  /** Leaving the field: a date is rewritten in the language's format ("5/12/26" → "05/12/2026"). */
  const settle = () => {
    setTouched(true);
    const parsed = parseDateInput(text, lng, withTime);
    if (parsed !== null) setText(formatDateInput(parsed, lng, withTime));
  };

  return (
    <Field
      id={id}
      label={label}
      wide={wide}
      className={className}
      error={ownError ?? error}
      hint={hint}
      errorTestId={errorTestId}
      hintTestId={hintTestId}
    >
      <input
        {...input}
        {...controlProps(id, invalid || ownError !== null)}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        spellCheck={false}
        placeholder={datePlaceholder(lng, withTime)}
        value={text}
        onChange={(e) => change(e.target.value)}
        onBlur={(e) => {
          settle();
          onBlur?.(e);
        }}
        onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => {
          if (e.key === 'Enter') settle();
          onKeyDown?.(e);
        }}
      />
    </Field>
  );
}
