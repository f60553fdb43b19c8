// Hash routing: "#/connections", "#/jobs/<job id>". No server, works from file:// and tauri://.
import { useEffect, useState } from 'react';

export const PAGES = ['dashboard', 'connections', 'contifico', 'omie', 'erpnext', 'divergences', 'contracts', 'jobs', 'settings'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  /** The selected record, e.g. a job id on the Jobs page. */
  id: string | null;
  /** Every segment after the page ("#/contifico/browse/productos" → ["browse", "productos"]). */
  sub: string[];
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const page = (PAGES as readonly string[]).includes(parts[0] ?? '') ? (parts[0] as Page) : 'dashboard';
  const sub = parts.slice(1).map(decodeSegment);
  return { page, id: sub[0] ?? null, sub };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A link to a page's sub-route, e.g. `hrefForPath('contifico', 'browse', 'productos')`. */
export function hrefForPath(page: Page, ...segments: string[]): string {
  return ['#', page, ...segments.map(encodeURIComponent)].join('/');
}

export function navigatePath(page: Page, ...segments: string[]): void {
  const target = hrefForPath(page, ...segments);
  if (window.location.hash !== target) window.location.hash = target;
}

export function hrefFor(page: Page, id?: string | null): string {
  return id ? `#/${page}/${encodeURIComponent(id)}` : `#/${page}`;
}

export function navigate(page: Page, id?: string | null): void {
  const target = hrefFor(page, id);
  if (window.location.hash !== target) window.location.hash = target;
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
