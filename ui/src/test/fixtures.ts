// Test data shaped exactly like the generated bindings.
import type { Connection } from '../bindings/Connection';
import type { Job } from '../bindings/Job';

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
