// The frame of every form on the Omie page: a card with a title and intro, a form that checks on
// this computer first (noValidate), the state every form keeps (values, field errors, the submit),
// its input fields and the footer pieces they share.
import { useState, type Dispatch, type InputHTMLAttributes, type ReactNode, type SetStateAction } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import { Icon, type IconName } from '../../components/Icon';
import { controlProps, Field, useFieldErrors, useSubmit, type FieldErrors } from '../../components/form';
import type { Checked } from './forms';

/** The fields of a form's values that hold text. */
type TextKey<V> = { [K in keyof V]-?: V[K] extends string ? K : never }[keyof V] & string;

/** The props of a `Field` of an Omie form. */
interface FieldBox {
  id: string;
  label: string;
  hint?: string;
  error: string | null;
  errorTestId: string;
}

export interface OmieForm<V> {
  v: V;
  setV: Dispatch<SetStateAction<V>>;
  /** Changes some values; clears the field errors (and runs the form's `onEdit`). */
  set: (patch: Partial<V>) => void;
  errors: FieldErrors<keyof V & string>;
  setErrors: Dispatch<SetStateAction<FieldErrors<keyof V & string>>>;
  /** A field's error in words, or null. */
  message: (field: keyof V & string) => string | null;
  /** The props of the `Field` around `field`'s control: its error, and the error's test id `<id>-error`. */
  box: (id: string, field: keyof V & string, label: string, hint?: string) => FieldBox;
  busy: boolean;
  error: ApiError | null;
  setError: (error: ApiError | null) => void;
  run: (action: () => Promise<void>) => Promise<void>;
  /** Sends the checked values, or shows the check's field errors and sends nothing. */
  submitChecked: <T>(checked: Checked<T, keyof V & string>, send: (value: T) => Promise<void>) => Promise<void>;
}

/** The state of an Omie form: its values, its field errors (cleared on every edit) and its call to the core. */
export function useOmieForm<V>(initial: V | (() => V), onEdit?: () => void): OmieForm<V> {
  const [v, setV] = useState<V>(initial);
  const { errors, setErrors, message } = useFieldErrors<keyof V & string>();
  const { busy, error, setError, run } = useSubmit();
  const set = (patch: Partial<V>) => {
    setV((cur) => ({ ...cur, ...patch }));
    setErrors({});
    onEdit?.();
  };
  const box = (id: string, field: keyof V & string, label: string, hint?: string): FieldBox => ({
    id,
    label,
    hint,
    error: message(field),
    errorTestId: `${id}-error`,
  });
  const submitChecked = async <T,>(checked: Checked<T, keyof V & string>, send: (value: T) => Promise<void>) => {
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    await run(() => send(checked.value));
  };
  return { v, setV, set, errors, setErrors, message, box, busy, error, setError, run, submitChecked };
}

/**
 * An `<input>` bound to the text value `field` of `form`, in its `Field` (label, hint, error). Other
 * props go to the input; `children` follow it (e.g. its `<datalist>`).
 */
export function InputField<V>({
  form,
  id,
  field,
  label,
  hint,
  wide,
  children,
  ...input
}: {
  form: OmieForm<V>;
  id: string;
  field: TextKey<V>;
  label: string;
  hint?: string;
  wide?: boolean;
  children?: ReactNode;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'form' | 'value' | 'onChange' | 'children'>) {
  return (
    <Field {...form.box(id, field, label, hint)} wide={wide}>
      <input
        {...controlProps(id, !!form.errors[field])}
        value={form.v[field] as string}
        onChange={(e) => form.set({ [field]: e.target.value } as Partial<V>)}
        data-testid={id}
        {...input}
      />
      {children}
    </Field>
  );
}

/** `<section class="card omie-card">` holding a `<form class="omie-form">`; `onSubmit` runs on Enter or the submit button. */
export function FormCard({
  titleId,
  testId,
  title,
  intro,
  onSubmit,
  children,
}: {
  titleId: string;
  testId: string;
  title: string;
  intro: string;
  onSubmit: () => void;
  children: ReactNode;
}) {
  return (
    <section className="card omie-card" aria-labelledby={titleId} data-testid={testId}>
      <div className="card-header">
        <div>
          <h2 id={titleId}>{title}</h2>
          <p className="muted small">{intro}</p>
        </div>
      </div>
      <form
        className="omie-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit();
        }}
      >
        {children}
      </form>
    </section>
  );
}

/** The "dry run" box of a form that can only preview. */
export function DryRunCheck({
  checked,
  onChange,
  testId,
  label,
  hint,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  testId: string;
  label: string;
  hint: string;
}) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
      <span>
        <span className="strong">{label}</span>
        <span className="field-hint block">{hint}</span>
      </span>
    </label>
  );
}

/** The footer of a settings form: "Saved" once it is, and Save. */
export function SaveFooter({ saved, busy, testIdPrefix }: { saved: boolean; busy: boolean; testIdPrefix: string }) {
  const { t } = useTranslation();
  return (
    <div className="omie-form-footer">
      {saved ? (
        <span className="saved small" role="status" data-testid={`${testIdPrefix}-saved`}>
          <Icon name="check" size={14} />
          {t('omie.common.saved')}
        </span>
      ) : (
        <span />
      )}
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid={`${testIdPrefix}-save`}>
        {busy ? t('common.saving') : t('common.save')}
      </button>
    </div>
  );
}

/** A submit button that spins while `busy`. */
export function SubmitButton({
  busy,
  disabled = false,
  icon,
  testId,
  children,
}: {
  busy: boolean;
  disabled?: boolean;
  icon: IconName;
  testId: string;
  children: ReactNode;
}) {
  return (
    <button type="submit" className="btn btn-primary" disabled={busy || disabled} data-testid={testId}>
      {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name={icon} size={16} />}
      {children}
    </button>
  );
}
