// Helpers of the Contífico page: human labels for its columns and the browser's page size.
// (Resource names and sync helpers: features/sync.)
import type { i18n as I18n } from 'i18next';

import { humanize } from '../sync';

/** Rows asked for per browse request (the core accepts up to 1000). */
export const PAGE_SIZE = 200;

/** The translated label of a column (an API field name such as `fecha_emision`). */
export function columnLabel(i18n: I18n, name: string): string {
  const key = `contifico.columns.${name}`;
  return i18n.exists(key) ? i18n.t(key) : humanize(name);
}
