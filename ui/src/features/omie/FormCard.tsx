// The frame of every form on the Omie page: a card with a title and intro, a form that checks on
// this computer first (noValidate), and the footer pieces they share.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { Icon, type IconName } from '../../components/Icon';

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
