import type { FormEvent, ReactNode } from 'react';

import type { ApiError } from '../../bindings/ApiError';
import { Modal } from '../Modal';
import { DialogFooter } from './DialogFooter';
import type { FieldErrors } from './errors';
import { ErrorSummary } from './ErrorSummary';

/**
 * A wide dialog holding one form (checked here first: `noValidate`): an intro line, the fields
 * (`children`) in a `.form-grid`, the error summary, then Cancel and Save.
 */
export function FormDialog<K extends string>({
  title,
  testId,
  onClose,
  onSubmit,
  intro,
  serverError,
  errors,
  labels,
  saving,
  saveTestId,
  children,
}: {
  title: string;
  testId: string;
  onClose: () => void;
  onSubmit: (e: FormEvent) => Promise<void>;
  /** Shown above the fields; none: no intro. */
  intro?: string | null;
  serverError: ApiError | null;
  errors: FieldErrors<K>;
  labels: Record<K, string>;
  saving: boolean;
  saveTestId: string;
  children: ReactNode;
}) {
  return (
    <Modal title={title} onClose={onClose} testId={testId} wide>
      <form className="form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {intro ? <p className="muted form-intro">{intro}</p> : null}
        <div className="form-grid">{children}</div>
        <ErrorSummary serverError={serverError} errors={errors} labels={labels} />
        <DialogFooter onCancel={onClose} saving={saving} saveTestId={saveTestId} />
      </form>
    </Modal>
  );
}
