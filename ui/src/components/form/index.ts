// The form kit: one way to lay out a field, hold its errors and summarise them.
export { DateField, type DateFieldProps } from './DateField';
export { datePlaceholder, formatDateInput, isIsoDate, isIsoDateTime, parseDateInput } from './dates';
export { DialogFooter } from './DialogFooter';
export { ErrorSummary } from './ErrorSummary';
export { FormDialog } from './FormDialog';
export { collectIssues, fieldsWithMessage, issueParams, withoutField, type FieldErrors, type Issue, type KeyedMessage } from './errors';
export { controlProps, Field, FieldMessage, messageId, type FieldMessageProps, type FieldProps } from './Field';
export { useFieldErrors } from './useFieldErrors';
export { useSubmit } from './useSubmit';
