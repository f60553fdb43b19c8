// Test data shaped exactly like the generated bindings.
import type { Connection } from '../bindings/Connection';
import type { Job } from '../bindings/Job';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import type { SyncRun } from '../bindings/SyncRun';

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
