import { describe, expect, it } from 'vitest';

import { connectionCard, job, syncRun } from '../../test/fixtures';
import { activityTotals, changeCounts, formatDayMonth, isCredentialError, isStale, isSyncJob, runDurationMs } from './model';

const err = (code: string) => ({ code, message: 'x', params: {}, details: null });

describe('dashboard model', () => {
  it('reads what a run changed, missing counts as 0', () => {
    expect(changeCounts(syncRun({ counts: { added: 5, records: 9, unchanged: 4 } }))).toEqual({
      added: 5,
      updated: 0,
      deleted: 0,
      quarantined: 0,
    });
  });

  it('measures a run, finished or still running', () => {
    expect(runDurationMs(syncRun({ started_at: '2025-03-04T10:00:00Z', finished_at: '2025-03-04T10:01:20Z' }), 0)).toBe(80_000);
    const now = Date.parse('2025-03-04T10:00:30Z');
    expect(runDurationMs(syncRun({ started_at: '2025-03-04T10:00:00Z', finished_at: null, status: 'running' }), now)).toBe(30_000);
    expect(runDurationMs(syncRun({ started_at: 'garbage' }), now)).toBeNull();
  });

  it('calls data stale only past a promise', () => {
    const now = Date.parse('2025-03-04T12:00:00Z');
    expect(isStale(connectionCard({ fresh_until: null }), now)).toBe(false);
    expect(isStale(connectionCard({ fresh_until: '2025-03-04T12:30:00Z' }), now)).toBe(false);
    expect(isStale(connectionCard({ fresh_until: '2025-03-04T11:59:00Z' }), now)).toBe(true);
  });

  it('sends only key problems to the connection', () => {
    expect(isCredentialError(err('unauthorized'))).toBe(true);
    expect(isCredentialError(err('missing_credentials'))).toBe(true);
    expect(isCredentialError(err('timeout'))).toBe(false);
    expect(isCredentialError(null)).toBe(false);
  });

  it('follows only sync jobs of a connection', () => {
    expect(isSyncJob(job({ kind: 'sync_omie' }))).toBe(true);
    expect(isSyncJob(job({ kind: 'sync_erpnext', connection_id: null }))).toBe(false);
    expect(isSyncJob(job({ kind: 'test_connection' }))).toBe(false);
  });

  it('names a day as dd/mm in Portuguese and Spanish, "Dec 5" in English', () => {
    expect(formatDayMonth('2025-12-05', 'pt-BR')).toBe('05/12');
    expect(formatDayMonth('2025-12-05', 'es')).toBe('05/12');
    expect(formatDayMonth('2025-12-05', 'en')).toBe('Dec 5');
    expect(formatDayMonth('not a day', 'en')).toBe('not a day');
  });

  it('sums the 30 days', () => {
    const days = [
      { day: '2025-12-04', changed: 10, runs: 2, failed: 1, longest_seconds: 30 },
      { day: '2025-12-05', changed: 5, runs: 1, failed: 0, longest_seconds: 12 },
    ];
    expect(activityTotals(days)).toEqual({ changed: 15, runs: 3, failedDays: 1 });
  });
});
