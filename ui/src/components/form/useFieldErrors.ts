import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';

import { withoutField, type FieldErrors } from './errors';

/** A form's field errors (messages are i18n keys), with each one in words and a way to clear one. */
export function useFieldErrors<K extends string>() {
  const { t } = useTranslation();
  const [errors, setErrors] = useState<FieldErrors<K>>({});
  /** The field's error in the user's language, or null. */
  const message = (field: K): string | null => {
    const key = errors[field];
    return key ? t(key) : null;
  };
  const clear = useCallback((field: K) => setErrors((e) => withoutField(e, field)), []);
  return { errors, setErrors, message, clear };
}
