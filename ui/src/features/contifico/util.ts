// Helpers of the Contífico page: human labels for its columns, the browser's page size, and the
// connection remembered on this computer. (Resource names and sync helpers: features/sync.)
import type { i18n as I18n } from 'i18next';

import { humanize } from '../sync';

/** Rows asked for per browse request (the core accepts up to 1000). */
export const PAGE_SIZE = 200;

/** The translated label of a column (an API field name such as `fecha_emision`). */
export function columnLabel(i18n: I18n, name: string): string {
  const key = `contifico.columns.${name}`;
  return i18n.exists(key) ? i18n.t(key) : humanize(name);
}

const LOCAL_KEY = 'backoffice.contifico.connection';

/** The Contífico connection last chosen on this computer (kept between visits to the page). */
export function rememberedConnection(): string | null {
  try {
    return window.localStorage.getItem(LOCAL_KEY);
  } catch {
    return null;
  }
}

export function rememberConnection(id: string): void {
  try {
    window.localStorage.setItem(LOCAL_KEY, id);
  } catch {
    // Private storage may be unavailable; the choice then lasts for this visit only.
  }
}
