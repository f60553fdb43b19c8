// Test data shaped exactly like the generated bindings.
import type { AppInfo } from '../bindings/AppInfo';
import type { Connection } from '../bindings/Connection';
import type { ConnectionCard } from '../bindings/ConnectionCard';
import type { DashboardSummary } from '../bindings/DashboardSummary';
import type { DayActivity } from '../bindings/DayActivity';
import type { Divergence } from '../bindings/Divergence';
import type { DivergenceDetail } from '../bindings/DivergenceDetail';
import type { DivergenceEvent } from '../bindings/DivergenceEvent';
import type { DivergenceMetrics } from '../bindings/DivergenceMetrics';
import type { DivergencePage } from '../bindings/DivergencePage';
import type { Job } from '../bindings/Job';
import type { Operation } from '../bindings/Operation';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import type { Rule } from '../bindings/Rule';
import type { RuleMetrics } from '../bindings/RuleMetrics';
import type { Session } from '../bindings/Session';
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
    team_database: null,
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

// ---------- Divergences ----------

/** A classification rule (Omie payables that should be in Trade Marketing), on, never auto-applied. */
export function divergenceRule(over: Partial<Rule> = {}): Rule {
  return {
    id: 'omie_trade_marketing',
    kind: 'classification',
    name: 'Trade Marketing (Omie payables)',
    params: {
      resource: 'contas_pagar',
      expected_category: '2.04.01',
      category_label: 'Trade Marketing',
      text_patterns: ['trade marketing'],
      party_documents: [],
      document_types: [],
    },
    confidence: 95,
    show_threshold: 50,
    auto_apply_threshold: null,
    enabled: true,
    version: 1,
    updated_at: '2025-03-01T12:00:00.000Z',
    updated_by: 'ana',
    ...over,
  };
}

/** An open classification divergence: payable 4512 of Gráfica Alfa, in 2.01.03, should be in 2.04.01. */
export function divergence(over: Partial<Divergence> = {}): Divergence {
  return {
    id: 'd1',
    fingerprint: 'omie_trade_marketing|o1|contas_pagar|9001',
    rule_id: 'omie_trade_marketing',
    rule_name: 'Trade Marketing (Omie payables)',
    rule_version: 1,
    kind: 'classification',
    connection_id: 'o1',
    connection_name: 'Omie SP',
    erp: 'omie',
    resource: 'contas_pagar',
    record_id: '9001',
    record_label: '4512 · Gráfica Alfa',
    confidence: 95,
    basis: 'pattern',
    amount: '1234.5',
    currency: 'BRL',
    evidence: [{ connection_id: 'o1', resource: 'contas_pagar', id: '9001', label: '4512' }],
    facts: {
      category_now: '2.01.03',
      category_expected: '2.04.01',
      category_label: 'Trade Marketing',
      matched: 'trade marketing',
      party: 'Gráfica Alfa',
      description: 'Material de trade marketing - março',
    },
    correction: { field: 'codigo_categoria', before: '2.01.03', after: '2.04.01' },
    status: 'open',
    assignee: null,
    first_seen_at: '2025-03-04T10:00:00.000Z',
    last_seen_at: '2025-03-05T10:00:00.000Z',
    resolved_at: null,
    updated_at: '2025-03-05T10:00:00.000Z',
    ...over,
  };
}

export function divergencePage(items: Divergence[], over: Partial<DivergencePage> = {}): DivergencePage {
  const page = { items, total: items.length, amount_total: '0', open_by_rule: {}, ...over };
  // A test that gives only the total means reais.
  return { ...page, amounts: over.amounts ?? (page.amount_total === '0' ? {} : { BRL: page.amount_total }) };
}

export function divergenceEvent(over: Partial<DivergenceEvent> = {}): DivergenceEvent {
  return {
    action: 'detected',
    at: '2025-03-04T10:00:00.000Z',
    who: 'ana',
    machine: 'FIN-01',
    note: '',
    session_id: 's1',
    job_id: null,
    operation_id: null,
    ...over,
  };
}

export function divergenceDetail(d: Divergence = divergence(), over: Partial<DivergenceDetail> = {}): DivergenceDetail {
  return { divergence: d, events: [divergenceEvent()], operations: [], ...over };
}

/** A committed correction of divergence d1. */
export function divergenceOperation(over: Partial<Operation> = {}): Operation {
  return {
    id: 'op1',
    divergence_id: 'd1',
    kind: 'apply',
    connection_id: 'o1',
    erp: 'omie',
    resource: 'contas_pagar',
    record_id: '9001',
    field: 'codigo_categoria',
    before: '2.01.03',
    after: '2.04.01',
    status: 'committed',
    error: null,
    who: 'ana',
    machine: 'FIN-01',
    job_id: 'j9',
    created_at: '2025-03-06T09:00:00.000Z',
    finished_at: '2025-03-06T09:00:02.000Z',
    ...over,
  };
}

/** A finished manual session that found one new divergence. */
export function divergenceSession(over: Partial<Session> = {}): Session {
  return {
    id: 's1',
    job_id: 'j5',
    mode: 'manual',
    status: 'succeeded',
    started_at: '2025-03-04T10:00:00.000Z',
    finished_at: '2025-03-04T10:00:05.000Z',
    counts: { omie_trade_marketing: { new: 1, still_open: 0, resolved: 0 } },
    who: 'ana',
    machine: 'FIN-01',
    ...over,
  };
}

/** One rule's figures: 4 open (R$ 1.234,50 at stake), people approved 3 of 4 decisions, closed in 5 hours. */
export function ruleMetrics(over: Partial<RuleMetrics> = {}): RuleMetrics {
  return {
    rule_id: 'omie_trade_marketing',
    rule_name: 'Trade Marketing (Omie payables)',
    open: 4,
    amount_open: '1234.5',
    amounts_open: { BRL: over.amount_open ?? '1234.5' },
    open_by_age: [1, 2, 0, 1],
    by_status: { open: 3, approved: 0, rejected: 1, applied: 5, failed: 1, rolled_back: 0, resolved: 2 },
    approved_by_people: 3,
    approved_automatically: 2,
    rejected: 1,
    approve_rate: 0.75,
    median_hours_to_end: 5,
    ...over,
  };
}

/**
 * The Metrics tab's figures: one rule, 30 days ending on `last` (yyyy-mm-dd, oldest first) with
 * 2 detected and 1 closed on the last day.
 */
export function divergenceMetrics(over: Partial<DivergenceMetrics> = {}, last = '2025-03-04'): DivergenceMetrics {
  const end = Date.parse(`${last}T00:00:00Z`);
  return {
    rules: [ruleMetrics()],
    open: 4,
    amount_open: '1234.5',
    amounts_open: { BRL: over.amount_open ?? '1234.5' },
    auto_apply_rate: 0.4,
    days: Array.from({ length: 30 }, (_, i) => ({
      day: new Date(end - (29 - i) * 86_400_000).toISOString().slice(0, 10),
      detected: i === 29 ? 2 : 0,
      ended: i === 29 ? 1 : 0,
    })),
    ...over,
  };
}
