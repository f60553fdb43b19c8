// "Cancel" on a running job, wherever one is shown (the job's detail, a sync panel, an Omie task).
import { useState } from 'react';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Job } from '../../bindings/Job';
import { Icon } from '../../components/Icon';
import { toApiError } from '../../errors';

/**
 * Asks the core to cancel job `jobId` (disabled, saying `busyLabel`, while it does) and hands over
 * the job as it answers, or the refusal. `onStart` runs first (e.g. to clear the last refusal).
 */
export function CancelJobButton({
  jobId,
  onCancelled,
  onError,
  onStart,
  testId,
  label,
  busyLabel,
}: {
  jobId: string;
  onCancelled: (job: Job) => void;
  onError: (error: ApiError) => void;
  onStart?: () => void;
  testId: string;
  label: string;
  busyLabel: string;
}) {
  const [cancelling, setCancelling] = useState(false);
  const cancel = async () => {
    setCancelling(true);
    onStart?.();
    try {
      onCancelled(await api.cancelJob(jobId));
    } catch (e) {
      onError(toApiError(e));
    } finally {
      setCancelling(false);
    }
  };
  return (
    <button type="button" className="btn btn-small btn-danger-outline" onClick={() => void cancel()} disabled={cancelling} data-testid={testId}>
      <Icon name="stop" size={14} />
      {cancelling ? busyLabel : label}
    </button>
  );
}
