// Field errors of every form: one type, filled from zod issues, cleared field by field.
import type { z } from 'zod';

/**
 * The messages of a form's invalid fields, by field name. A message is an i18n key (`M` = string,
 * the default) or a key with its interpolation values. A field present with an empty message is
 * invalid without a text of its own (the core refused it; the form's error box says why).
 */
export type FieldErrors<K extends string = string, M = string> = Partial<Record<K, M>>;

/** A message that needs values: an i18n key and its interpolation parameters. */
export interface KeyedMessage {
  key: string;
  params?: Record<string, string | number>;
}

export type Issue = z.ZodError['issues'][number];

/**
 * The first issue of each field. `field` names the field an issue is about (default: the first
 * segment of its path); `message` says what is kept of it (default: its message, an i18n key).
 */
export function collectIssues<K extends string, M = string>(
  issues: readonly Issue[],
  {
    field = (path) => path[0] as K | undefined,
    message = (issue) => issue.message as M,
  }: { field?: (path: Issue['path']) => K | undefined; message?: (issue: Issue) => M } = {},
): FieldErrors<K, M> {
  const errors: FieldErrors<K, M> = {};
  for (const issue of issues) {
    const f = field(issue.path);
    if (f !== undefined && errors[f] === undefined) errors[f] = message(issue);
  }
  return errors;
}

/** The interpolation values a `custom` issue carries (`ctx.addIssue({ ..., params })`). */
export function issueParams<P>(issue: Issue): P | undefined {
  return issue.code === 'custom' ? (issue.params as P | undefined) : undefined;
}

/** The fields that have a message (not only the invalid mark), in the order they were set. */
export function fieldsWithMessage<K extends string, M>(errors: FieldErrors<K, M>): K[] {
  return (Object.keys(errors) as K[]).filter((f) => errors[f]);
}

/** `errors` without `field`; the same object when it had no error there (no re-render). */
export function withoutField<K extends string, M>(errors: FieldErrors<K, M>, field: K): FieldErrors<K, M> {
  if (errors[field] === undefined) return errors;
  const next = { ...errors };
  delete next[field];
  return next;
}
