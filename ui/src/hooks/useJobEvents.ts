import { useEffect, useRef } from 'react';

import { onJobEvent } from '../api';
import type { JobEvent } from '../bindings/JobEvent';

/** Calls `handler` for every `job-event` while the component is mounted. */
export function useJobEvents(handler: (event: JobEvent) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    let disposed = false;
    let unlisten: (() => void) | undefined;
    onJobEvent((e) => {
      if (!disposed) ref.current(e);
    })
      .then((un) => {
        if (disposed) un();
        else unlisten = un;
      })
      .catch(() => {});
    return () => {
      disposed = true;
      unlisten?.();
    };
  }, []);
}
