import { useCallback, useState } from 'react';

import type { ApiError } from '../../bindings/ApiError';
import { toApiError } from '../../errors';

/**
 * A form's call to the core: `busy` while it runs, and its refusal as an ApiError. `run` clears the
 * last error, runs `action` and keeps what it throws.
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
