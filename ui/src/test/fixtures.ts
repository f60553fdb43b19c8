// Test data shaped exactly like the generated bindings.
import type { AppInfo } from '../bindings/AppInfo';
import type { Connection } from '../bindings/Connection';
import type { ConnectionCard } from '../bindings/ConnectionCard';
import type { DashboardSummary } from '../bindings/DashboardSummary';
import type { DayActivity } from '../bindings/DayActivity';
import type { Job } from '../bindings/Job';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import type { SyncRun } from '../bindings/SyncRun';

/** What `app_info` answers: the keychain works, no demo runs, English. */
export function appInfo(over: Partial<AppInfo> = {}): AppInfo {
  return {
    version: '0.1.0',
    db_path: '/tmp/b.db',
    log_dir: '/tmp/logs',
    keychain_ok: true,
    keychain_error: null,
    demo_running: false,
    locale: 'en',
    ...over,
  };
}

export function connection(over: Partial<Connection> = {}): Connection {
  return {
    id: 'c1',
    name: 'Matriz São Paulo',
    kind: 'omie',
    base_url: 'https://app.omie.com.br/api/v1/',
    timezone: 'America/Sao_Paulo',
    timezone_source: 'default',
    is_demo: false,
    created_at: '2025-03-01T12:00:00.000Z',
    updated_at: '2025-03-01T12:00:00.000Z',
    last_test_at: null,
    last_test_ok: null,
    last_test_message: null,
    ...over,
  };
}

/** The dashboard of an empty database: no connections, no jobs. */
export function dashboardSummary(over: Partial<DashboardSummary> = {}): DashboardSummary {
  return {
    connections: 0,
    connections_failing: 0,
    jobs_running: 0,
    jobs_failed_24h: 0,
    jobs_succeeded_24h: 0,
    last_jobs: [],
    cards: [],
    ...over,
  };
}

export function job(over: Partial<Job> = {}): Job {
  return {
    id: 'j1',
    kind: 'test_connection',
    connection_id: 'c1',
    connection_name: 'Matriz São Paulo',
    params: {},
    status: 'succeeded',
    progress: null,
    progress_label: null,
    counts: {},
    error: null,
    created_at: '2025-03-01T12:00:00.000Z',
    started_at: '2025-03-01T12:00:01.000Z',
    finished_at: '2025-03-01T12:00:03.000Z',
    ...over,
  };
}

/** A summary row: nothing stored, never synced. */
export function resourceSummary(over: Partial<ResourceSummary> = {}): ResourceSummary {
  return {
    resource: 'clientes',
    records: 0,
    deleted: 0,
    quarantined: 0,
    last_fetched_at: null,
    last_success_at: null,
    cursor: null,
    last_error: null,
    supports_incremental: true,
    resume_page: null,
    ...over,
  };
}

/** A sync run that succeeded in 45 s without errors. */
export function syncRun(over: Partial<SyncRun> = {}): SyncRun {
  return {
    id: 'r1',
    job_id: 'j1',
    erp: 'omie',
    mode: 'incremental',
    status: 'succeeded',
    started_at: '2025-03-04T10:00:00Z',
    finished_at: '2025-03-04T10:00:45Z',
    counts: {},
    errors: {},
    ...over,
  };
}

/** 30 quiet days (no runs) ending on `last` (yyyy-mm-dd), oldest first, as the dashboard sends them. */
export function activityDays(last = '2025-03-04', over: (day: DayActivity, i: number) => Partial<DayActivity> = () => ({})): DayActivity[] {
  const end = Date.parse(`${last}T00:00:00Z`);
  return Array.from({ length: 30 }, (_, i) => {
    const day: DayActivity = {
      day: new Date(end - (29 - i) * 86_400_000).toISOString().slice(0, 10),
      changed: 0,
      runs: 0,
      failed: 0,
      longest_seconds: 0,
    };
    return { ...day, ...over(day, i) };
  });
}

/** A dashboard card: the connection synced well once (45 s, nothing changed), no schedule. */
export function connectionCard(over: Partial<ConnectionCard> = {}): ConnectionCard {
  return {
    connection: connection(),
    records: 0,
    quarantined: 0,
    last_run: syncRun(),
    last_error: null,
    last_success_at: '2025-03-04T10:00:45Z',
    next_run_at: null,
    fresh_until: null,
    days: activityDays(),
    ...over,
  };
}
