// Answers of the contracts commands for the tests (shaped by the generated bindings).
import type { BillingSettings } from '../../bindings/BillingSettings';
import type { ClientMonth } from '../../bindings/ClientMonth';
import type { Contract } from '../../bindings/Contract';
import type { Divergence } from '../../bindings/Divergence';
import type { ImportPreview } from '../../bindings/ImportPreview';
import type { ImportRow } from '../../bindings/ImportRow';
import type { MonthFigure } from '../../bindings/MonthFigure';
import type { Reconciliation } from '../../bindings/Reconciliation';

export function billingSettings(over: Partial<BillingSettings> = {}): BillingSettings {
  return { date_basis: 'emission', statuses: [], tolerance_amount: '50', tolerance_percent: '5', months_back: 3, ...over };
}

export function clientMonth(over: Partial<ClientMonth> = {}): ClientMonth {
  return {
    connection_id: 'o1',
    client: '1001',
    client_name: 'Acme Serviços Ltda',
    client_document: '11222333000181',
    month: '2026-11',
    contracted: '5000.00',
    billed: '3765.44',
    difference: '-1234.56',
    tolerance: '250.00',
    verdict: 'below',
    currency: 'BRL',
    contracts: [
      {
        contract_id: 'k1',
        description: 'Suporte mensal',
        mrr: '5000.00',
        amount: '5000.00',
        days: 30,
        days_in_month: 30,
        readjustments: 1,
        prorated: false,
        suspended: false,
      },
    ],
    titles: [
      { id: 't1', number: 'NF-101', date: '2026-11-05', status: 'RECEBIDO', amount: '3765.44', counted_as: 'counted' },
      { id: 't2', number: 'NF-102', date: '2026-11-06', status: 'CANCELADO', amount: '1234.56', counted_as: 'cancelled' },
    ],
    explanations: [{ key: 'cancelled_title', params: { count: '1', amount: '1234.56', closes: 'true' } }],
    ...over,
  };
}

export function reconciliation(rows: ClientMonth[], over: Partial<Reconciliation> = {}): Reconciliation {
  const verdicts: Record<string, number> = {};
  for (const r of rows) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
  return {
    month: '2026-11',
    connection_id: 'o1',
    connection_name: 'Omie SP',
    currency: 'BRL',
    settings: billingSettings(),
    rows,
    totals: { clients: rows.length, contracted: '12000.00', billed: '10765.44', verdicts },
    data_as_of: '2026-11-20T13:30:00Z',
    stale: false,
    last_sync_failed: false,
    unreadable: [],
    ...over,
  };
}

/** A month within tolerance, one above and one without a contract, besides the default (below). */
export function threeMore(): ClientMonth[] {
  return [
    clientMonth({
      client: '1002',
      client_name: 'Beta Comércio',
      client_document: '12345678909',
      contracted: '2000.00',
      billed: '2000.00',
      difference: '0.00',
      tolerance: '100.00',
      verdict: 'within',
      titles: [],
      explanations: [],
    }),
    clientMonth({
      client: '1003',
      client_name: 'Gama Tech',
      client_document: '',
      contracted: '5000.00',
      billed: '5000.00',
      difference: '0.00',
      verdict: 'above',
      explanations: [],
    }),
    clientMonth({
      client: '1004',
      client_name: 'Delta Sem Contrato',
      client_document: '',
      contracted: '0.00',
      billed: '500.00',
      difference: '500.00',
      verdict: 'no_contract',
      contracts: [],
      explanations: [],
    }),
  ];
}

export function monthFigures(to = '2026-11'): MonthFigure[] {
  const [y, m] = to.split('-').map(Number) as [number, number];
  return Array.from({ length: 12 }, (_, i) => {
    const idx = y * 12 + m - 1 - (11 - i);
    const month = `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, '0')}`;
    const last = i === 11;
    return { month, contracted: '5000.00', billed: last ? '3765.44' : '5000.00', verdict: last ? 'below' : 'within' };
  });
}

export function contract(over: Partial<Contract> = {}): Contract {
  return {
    id: 'k1',
    connection_id: 'o1',
    client_document: '11222333000181',
    client_code: '1001',
    client_name: 'Acme Serviços Ltda',
    description: 'Suporte mensal',
    mrr: '5000.00',
    currency: 'BRL',
    start_date: '2025-03-01',
    end_date: null,
    billing_day: 5,
    status: 'active',
    readjust_index: 'IGP-M',
    readjust_month: 3,
    readjust_percent: '8',
    tolerance_amount: null,
    tolerance_percent: null,
    notes: '',
    version: 2,
    updated_at: '2026-01-10T12:00:00Z',
    updated_by: 'ana',
    ...over,
  };
}

export function importRow(over: Partial<ImportRow> = {}): ImportRow {
  return {
    line: 2,
    action: 'create',
    client: '11222333000181',
    client_name: 'Acme Serviços Ltda',
    description: 'Suporte mensal',
    mrr: '5.000,00',
    start_date: '01/03/2025',
    contract_id: null,
    changes: [],
    problems: [],
    ...over,
  };
}

export function importPreview(rows: ImportRow[], over: Partial<ImportPreview> = {}): ImportPreview {
  const count = (a: string) => rows.filter((r) => r.action === a).length;
  return {
    file: 'contratos.csv',
    connection_id: 'o1',
    connection_name: 'Omie SP',
    columns: ['client', 'description', 'mrr', 'start_date'],
    ignored_columns: ['Vendedor'],
    rows,
    create: count('create'),
    update: count('update'),
    unchanged: count('unchanged'),
    refused: count('refuse'),
    applied: false,
    ...over,
  };
}

/** The divergence of the default client-month (rule "billing vs contract"). */
export function billingDivergence(over: Partial<Divergence> = {}): Divergence {
  return {
    id: 'bd1',
    fingerprint: 'billing_vs_contract|o1|1001|2026-11',
    rule_id: 'billing_vs_contract',
    rule_name: 'Billing vs contract',
    rule_version: 1,
    kind: 'billing_contract',
    connection_id: 'o1',
    connection_name: 'Omie SP',
    erp: 'omie',
    resource: 'contracts_billing',
    record_id: '1001|2026-11',
    record_label: 'Acme Serviços Ltda · 2026-11',
    confidence: 90,
    basis: 'contract_month',
    amount: '1234.56',
    currency: 'BRL',
    evidence: [{ connection_id: 'o1', resource: 'contas_receber', id: 't1', label: 'NF-101' }],
    facts: {
      verdict: 'below',
      month: '2026-11',
      client: 'Acme Serviços Ltda',
      client_key: '1001',
      document: '11222333000181',
      contracted: '5000.00',
      billed: '3765.44',
      difference: '-1234.56',
      tolerance: '250.00',
      titles: '1',
      explanations: JSON.stringify([
        { key: 'cancelled_title', params: { count: '1', amount: '1234.56', closes: 'true' } },
        { key: 'neighbour_month', params: { month: '2026-10', amount: '1234.56' } },
      ]),
    },
    correction: null,
    status: 'open',
    assignee: null,
    first_seen_at: '2026-12-02T10:00:00.000Z',
    last_seen_at: '2026-12-02T10:00:00.000Z',
    resolved_at: null,
    updated_at: '2026-12-02T10:00:00.000Z',
    ...over,
  };
}
