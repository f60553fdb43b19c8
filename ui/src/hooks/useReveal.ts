import { useEffect, useRef, type RefObject } from 'react';

/**
 * Scrolls the element into view when `key` changes after the first render (e.g. a "Browse" link
 * chose another resource), unless it is already on screen.
 */
export function useReveal(ref: RefObject<HTMLElement | null>, key: unknown): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const el = ref.current;
    if (!el) return;
    const top = el.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 80) el.scrollIntoView?.({ behavior: 'smooth', block: 'start' });
  }, [ref, key]);
}
