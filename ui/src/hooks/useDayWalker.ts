// The day a chart highlights, and the keys that move it: the arrows walk the days, Home and End
// jump to the first and last, Escape hides the highlight. Shared by the dashboard's and the
// divergence metrics' 30-day charts.
import { useState, type KeyboardEvent } from 'react';

export function useDayWalker(count: number) {
  const [active, setActive] = useState<number | null>(null);
  const last = count - 1;
  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    let to: (i: number | null) => number;
    switch (e.key) {
      case 'ArrowRight':
        to = (i) => (i === null ? 0 : Math.min(last, i + 1));
        break;
      case 'ArrowLeft':
        to = (i) => (i === null ? 0 : Math.max(0, i - 1));
        break;
      case 'Home':
        to = () => 0;
        break;
      case 'End':
        to = () => last;
        break;
      case 'Escape':
        setActive(null);
        return;
      default:
        return;
    }
    e.preventDefault();
    if (last >= 0) setActive(to);
  };
  return { active, setActive, onKeyDown };
}
