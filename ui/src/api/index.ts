// The only place that talks to the Rust side. Components import these typed functions and never
// call `invoke` or `listen` themselves (unit tests mock this module).
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

import type { AppInfo } from '../bindings/AppInfo';
import type { BrowsePage } from '../bindings/BrowsePage';
import type { BrowseQuery } from '../bindings/BrowseQuery';
import type { CommandArgs, CommandName, CommandResult } from '../bindings/commands';
import type { Connection } from '../bindings/Connection';
import type { KeyState } from '../bindings/KeyState';
import type { ConnectionKind } from '../bindings/ConnectionKind';
import type { ConnectionInput } from '../bindings/ConnectionInput';
import type { DashboardSummary } from '../bindings/DashboardSummary';
import type { Job } from '../bindings/Job';
import type { JobDetail } from '../bindings/JobDetail';
import type { JobEvent } from '../bindings/JobEvent';
import type { JobFilter } from '../bindings/JobFilter';
import type { NotificationSettings } from '../bindings/NotificationSettings';
import type { QuarantinedRecord } from '../bindings/QuarantinedRecord';
import type { ResourceInfo } from '../bindings/ResourceInfo';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import type { RewindPreview } from '../bindings/RewindPreview';
import type { Schedule } from '../bindings/Schedule';
import type { ScheduleInput } from '../bindings/ScheduleInput';
import type { ScheduleRunRecord } from '../bindings/ScheduleRunRecord';
import type { Settings } from '../bindings/Settings';
import type { SyncOptions } from '../bindings/SyncOptions';
import type { SyncRun } from '../bindings/SyncRun';
import { toApiError } from '../errors';

/** Name of the event the core emits on every job change. */
export const JOB_EVENT = 'job-event';

function inDesktopShell(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** The arguments `call` takes for a command: none, optional, or required (generated from Rust). */
type ArgList<K extends CommandName> = CommandArgs[K] extends Record<string, never>
  ? []
  : Partial<CommandArgs[K]> extends CommandArgs[K]
    ? [args?: CommandArgs[K]]
    : [args: CommandArgs[K]];

/**
 * Calls a command; rejects with an ApiError (never a bare string or Error). The command's name, its
 * arguments and its answer are typed from the Rust signatures (`bindings/commands.ts`).
 */
export async function call<K extends CommandName>(command: K, ...args: ArgList<K>): Promise<CommandResult[K]> {
  if (!inDesktopShell()) {
    throw toApiError({
      code: 'internal',
      message: 'The BackOffice engine is not available: this page must run inside the BackOffice desktop app.',
      params: {},
      details: `command ${command} called outside the desktop shell`,
    });
  }
  try {
    return await invoke<CommandResult[K]>(command, args[0]);
  } catch (e) {
    throw toApiError(e);
  }
}

export const appInfo = (): Promise<AppInfo> => call('app_info');
export const dashboard = (): Promise<DashboardSummary> => call('dashboard');

export const listConnections = (): Promise<Connection[]> => call('list_connections');
/** Whether this desk's keychain keeps each connection's key, and which other desks said they do. */
export const connectionKeys = (): Promise<KeyState[]> => call('connection_keys');
export const createConnection = (input: ConnectionInput): Promise<Connection> =>
  call('create_connection', { input });
/** `input.credentials === null` keeps the stored secrets. */
export const updateConnection = (id: string, input: ConnectionInput): Promise<Connection> =>
  call('update_connection', { id, input });
export const deleteConnection = (id: string): Promise<null> => call('delete_connection', { id });
/** Starts a connection-test job and returns it at once; its outcome arrives as job events. */
export const testConnection = (id: string): Promise<Job> => call('test_connection', { id });

export const listJobs = (filter: JobFilter): Promise<Job[]> => call('list_jobs', { filter });
export const getJob = (id: string): Promise<JobDetail> => call('get_job', { id });
export const cancelJob = (id: string): Promise<Job> => call('cancel_job', { id });

export const startDemo = (): Promise<Connection[]> => call('start_demo');

export const getSettings = (): Promise<Settings> => call('get_settings');
export const saveSettings = (settings: Settings): Promise<Settings> => call('save_settings', { settings });

// Synced data, the same commands for every ERP (the connection says which).
/** The resources an ERP syncs, with their browsable columns. */
export const syncResources = (kind: ConnectionKind): Promise<ResourceInfo[]> => call('sync_resources', { kind });
export const syncSummary = (connectionId: string): Promise<ResourceSummary[]> =>
  call('sync_summary', { connectionId });
/** Starts a sync job and returns it at once; its progress arrives as job events. */
export const syncStart = (connectionId: string, options: SyncOptions): Promise<Job> =>
  call('sync_start', { connectionId, options });
export const syncBrowse = (query: BrowseQuery): Promise<BrowsePage> => call('sync_browse', { query });
/** The stored raw JSON of one record, exactly as the ERP sent it. */
export const syncRecord = (connectionId: string, resource: string, id: string): Promise<string> =>
  call('sync_record', { connectionId, resource, id });
/** `to` is yyyy-mm-dd; `apply: false` only previews. */
export const syncRewind = (connectionId: string, resource: string, to: string, apply: boolean): Promise<RewindPreview> =>
  call('sync_rewind', { connectionId, resource, to, apply });
export const syncHistory = (connectionId: string): Promise<SyncRun[]> => call('sync_history', { connectionId });
export const syncQuarantine = (connectionId: string): Promise<QuarantinedRecord[]> =>
  call('sync_quarantine', { connectionId });

// Schedules: jobs started by the clock inside the app, their run history, and "pause all".
export const listSchedules = (): Promise<Schedule[]> => call('list_schedules');
export const addSchedule = (input: ScheduleInput): Promise<Schedule> => call('add_schedule', { input });
export const updateSchedule = (id: string, input: ScheduleInput): Promise<Schedule> =>
  call('update_schedule', { id, input });
export const removeSchedule = (id: string): Promise<null> => call('remove_schedule', { id });
export const pauseSchedule = (id: string): Promise<Schedule> => call('pause_schedule', { id });
export const resumeSchedule = (id: string): Promise<Schedule> => call('resume_schedule', { id });
/** Starts the schedule's job at once (recorded as a manual run); returns the job. */
export const runScheduleNow = (id: string): Promise<Job> => call('run_schedule_now', { id });
/** Newest first; `null` gives the runs of every schedule. */
export const scheduleHistory = (scheduleId: string | null): Promise<ScheduleRunRecord[]> =>
  call('schedule_history', { scheduleId });
/** Creates the suggested schedules of a connection once; returns only those created now. */
export const ensureDefaultSchedules = (connectionId: string): Promise<Schedule[]> =>
  call('ensure_default_schedules', { connectionId });
export const schedulesPaused = (): Promise<boolean> => call('schedules_paused');
export const setSchedulesPaused = (paused: boolean): Promise<null> => call('set_schedules_paused', { paused });

/** Whether BackOffice starts with the computer (OS session autostart). */
export const getAutostart = (): Promise<boolean> => call('get_autostart');
export const setAutostart = (enabled: boolean): Promise<boolean> => call('set_autostart', { enabled });

export const getNotificationSettings = (): Promise<NotificationSettings> =>
  call('get_notification_settings');
export const saveNotificationSettings = (settings: NotificationSettings): Promise<NotificationSettings> =>
  call('save_notification_settings', { settings });

/** Starts the sync of every connection; returns the jobs started (one already running is left out). */
export const syncAllNow = (): Promise<Job[]> => call('sync_all_now');

/**
 * Subscribes to job events. Resolves to an unsubscribe function; outside the desktop shell it
 * resolves to a no-op so pages still render.
 */
export async function onJobEvent(handler: (event: JobEvent) => void): Promise<() => void> {
  if (!inDesktopShell()) return () => {};
  try {
    return await listen<JobEvent>(JOB_EVENT, (e) => handler(e.payload));
  } catch {
    return () => {};
  }
}

/** The shell asks the window to show a page, e.g. when a notification about a job is clicked. */
export const OPEN_ROUTE_EVENT = 'open-route';

/**
 * Subscribes to the shell's "show this page" requests (payload: a hash route like "#/jobs/<id>").
 * Resolves to an unsubscribe function; a no-op outside the desktop shell.
 */
export async function onOpenRoute(handler: (route: string) => void): Promise<() => void> {
  if (!inDesktopShell()) return () => {};
  try {
    return await listen<string>(OPEN_ROUTE_EVENT, (e) => handler(e.payload));
  } catch {
    return () => {};
  }
}
