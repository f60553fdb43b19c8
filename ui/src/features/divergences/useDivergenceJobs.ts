// Following the divergence jobs live: the latest session job and the latest apply (or rollback)
// job, from job events plus a re-read while one runs, so a lost event never leaves one "running".
// `onEnd` runs once for each job of those kinds that finishes while the page is open (the lists it
// changed are read again then).
import { useCallback, useEffect, useRef, useState } from 'react';

import * as api from '../../api';
import type { Job } from '../../bindings/Job';
import { useJobEvents } from '../../hooks/useJobEvents';
import { isActiveJob, pickJob } from '../sync';
import { APPLY_JOB_KIND, SESSION_JOB_KIND } from './api';

const POLL_MS = 2500;
const KINDS = [SESSION_JOB_KIND, APPLY_JOB_KIND] as const;
type Kind = (typeof KINDS)[number];

export interface DivergenceJobs {
  session: Job | null;
  apply: Job | null;
  /** Hands over a job just started (or its newer state). */
  track: (job: Job) => void;
}

export function useDivergenceJobs(onEnd?: (job: Job) => void): DivergenceJobs {
  const [jobs, setJobs] = useState<Record<Kind, Job | null>>({ divergences: null, divergences_apply: null });
  const ended = useRef(new Set<string>());
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;

  const track = useCallback((j: Job) => {
    if (!(KINDS as readonly string[]).includes(j.kind)) return;
    const kind = j.kind as Kind;
    setJobs((cur) => ({ ...cur, [kind]: pickJob(cur[kind], j) }));
    if (!isActiveJob(j) && !ended.current.has(j.id)) {
      ended.current.add(j.id);
      onEndRef.current?.(j);
    }
  }, []);

  // The latest job of each kind when the page opens: a session started by a schedule shows its progress.
  const loadLatest = useCallback(async () => {
    for (const kind of KINDS) {
      try {
        const list = await api.listJobs({ kind, status: null, connection_id: null, limit: 1 });
        for (const j of list ?? []) {
          if (j.kind !== kind) continue;
          // A job that had already finished is shown, not treated as news.
          if (!isActiveJob(j)) ended.current.add(j.id);
          setJobs((cur) => ({ ...cur, [kind]: pickJob(cur[kind], j) }));
        }
      } catch {
        // The buttons still work; the list of jobs is on the Jobs & Logs page.
      }
    }
  }, []);

  useEffect(() => {
    void loadLatest();
  }, [loadLatest]);

  useJobEvents((event) => track(event.job), () => void loadLatest());

  const activeIds = KINDS.map((k) => jobs[k])
    .filter((j): j is Job => isActiveJob(j))
    .map((j) => j.id)
    .join(',');
  useEffect(() => {
    if (!activeIds) return;
    const id = window.setInterval(() => {
      for (const jobId of activeIds.split(',')) {
        Promise.resolve()
          .then(() => api.getJob(jobId))
          .then(
            (d) => {
              if (d?.job) track(d.job);
            },
            () => {},
          );
      }
    }, POLL_MS);
    return () => window.clearInterval(id);
  }, [activeIds, track]);

  return { session: jobs.divergences, apply: jobs.divergences_apply, track };
}
