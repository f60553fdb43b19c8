import { useEffect, useRef } from 'react';

import { onJobEvent } from '../api';
import type { JobEvent } from '../bindings/JobEvent';

/**
 * Calls `handler` for every `job-event` while the component is mounted. `onReady` runs once the
 * subscription is active: a page that loaded its data before that moment reloads there, so an event
 * sent in between (a fast job finishing) is never lost.
 */
export function useJobEvents(handler: (event: JobEvent) => void, onReady?: () => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  const readyRef = useRef(onReady);
  readyRef.current = onReady;
  useEffect(() => {
    let disposed = false;
    let unlisten: (() => void) | undefined;
    onJobEvent((e) => {
      if (!disposed) ref.current(e);
    })
      .then((un) => {
        if (disposed) un();
        else {
          unlisten = un;
          readyRef.current?.();
        }
      })
      .catch(() => {});
    return () => {
      disposed = true;
      unlisten?.();
    };
  }, []);
}
