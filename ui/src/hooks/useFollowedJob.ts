import { useEffect, useRef, useState } from 'react';

import * as api from '../api';
import type { Job } from '../bindings/Job';
import { isActiveJob } from '../features/sync/util';
import { useJobEvents } from './useJobEvents';

/** How often a running job is read again, in case an event was lost. */
const POLL_MS = 2500;

/**
 * One job followed live: set it (e.g. with the job a start command returned) and it is kept up to
 * date from its events, and read again while it runs so a lost event never leaves it "running".
 * `onUpdate` sees every new state that arrives.
 */
export function useFollowedJob(onUpdate?: (job: Job) => void): [Job | null, (job: Job | null) => void] {
  const [job, setJob] = useState<Job | null>(null);
  const onUpdateRef = useRef(onUpdate);
  onUpdateRef.current = onUpdate;
  const update = (next: Job) => {
    setJob(next);
    onUpdateRef.current?.(next);
  };
  useJobEvents((e) => {
    if (job && e.job.id === job.id) update(e.job);
  });
  const activeId = isActiveJob(job) ? job?.id : null;
  useEffect(() => {
    if (!activeId) return;
    const timer = window.setInterval(() => {
      api.getJob(activeId).then(
        (d) => {
          if (d?.job) update(d.job);
        },
        () => {},
      );
    }, POLL_MS);
    return () => window.clearInterval(timer);
    // `update` only uses a ref and a state setter: the timer depends on the job's id alone.
  }, [activeId]);
  return [job, setJob];
}
