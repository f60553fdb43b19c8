// Helpers for tests that mock the api module: `vi.mock('../api', () => apiMockFactory())`.
import { vi } from 'vitest';

import type { JobEvent } from '../bindings/JobEvent';

export function apiMockFactory() {
  return {
    JOB_EVENT: 'job-event',
    appInfo: vi.fn(),
    dashboard: vi.fn(),
    listConnections: vi.fn(),
    connectionKeys: vi.fn(async () => []),
    createConnection: vi.fn(),
    updateConnection: vi.fn(),
    deleteConnection: vi.fn(),
    testConnection: vi.fn(),
    listJobs: vi.fn(),
    getJob: vi.fn(),
    cancelJob: vi.fn(),
    startDemo: vi.fn(),
    getSettings: vi.fn(),
    saveSettings: vi.fn(),
    syncResources: vi.fn(),
    syncSummary: vi.fn(),
    syncStart: vi.fn(),
    syncBrowse: vi.fn(),
    syncRecord: vi.fn(),
    syncHistory: vi.fn(),
    syncQuarantine: vi.fn(),
    syncRewind: vi.fn(),
    // Schedules and notifications answer harmlessly by default, so pages that show them (Settings,
    // the Schedules tab) render in tests that are about something else.
    listSchedules: vi.fn(async () => []),
    addSchedule: vi.fn(),
    updateSchedule: vi.fn(),
    removeSchedule: vi.fn(),
    pauseSchedule: vi.fn(),
    resumeSchedule: vi.fn(),
    runScheduleNow: vi.fn(),
    scheduleHistory: vi.fn(async () => []),
    ensureDefaultSchedules: vi.fn(),
    schedulesPaused: vi.fn(async () => false),
    setSchedulesPaused: vi.fn(),
    getAutostart: vi.fn(async () => false),
    setAutostart: vi.fn(async (v: boolean) => v),
    getNotificationSettings: vi.fn(async () => ({ job_failed: true, key_problem: true, daily_summary: false })),
    saveNotificationSettings: vi.fn(),
    syncAllNow: vi.fn(),
    onJobEvent: vi.fn(),
    onOpenRoute: vi.fn(async () => () => {}),
  };
}

/** Makes `onJobEvent` record its handlers; returns a function that emits an event to them all. */
export function captureJobEvents(onJobEvent: ReturnType<typeof vi.fn>): (e: JobEvent) => void {
  const handlers = new Set<(e: JobEvent) => void>();
  onJobEvent.mockImplementation(async (h: (e: JobEvent) => void) => {
    handlers.add(h);
    return () => handlers.delete(h);
  });
  return (e) => {
    for (const h of handlers) h(e);
  };
}

/**
 * The start of every test: clears the calls and set answers of all mocks (`vi.clearAllMocks`) and
 * makes `mocked.onJobEvent` record its handlers; returns the function that emits job events.
 */
export function resetApiMocks(mocked: { onJobEvent: unknown }): (e: JobEvent) => void {
  vi.clearAllMocks();
  return captureJobEvents(mocked.onJobEvent as ReturnType<typeof vi.fn>);
}
