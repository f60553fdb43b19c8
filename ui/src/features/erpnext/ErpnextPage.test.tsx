import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import * as erp from './api';
import { App } from '../../App';
import type { DocumentPreview } from '../../bindings/DocumentPreview';
import type { FieldStatus } from '../../bindings/FieldStatus';
import type { TransferInput } from '../../bindings/TransferInput';
import type { TransferPreview } from '../../bindings/TransferPreview';
import type { TransferRun } from '../../bindings/TransferRun';
import type { TransferRunDetail } from '../../bindings/TransferRunDetail';
import type { TransferStep } from '../../bindings/TransferStep';
import { formatDateTime } from '../../format';
import i18n from '../../i18n';
import { appInfo, connection, job, resourceSummary, syncRun } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { applySuggestion, blockedReason, emptyTransferForm, parseErpnextPath, validateTransferForm } from './model';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
vi.mock('./api', () => ({
  ERPNEXT_WORKFLOW_KIND: 'erpnext_workflow',
  erpnextPreview: vi.fn(),
  erpnextStart: vi.fn(),
  erpnextRuns: vi.fn(),
  erpnextRun: vi.fn(),
  erpnextRetry: vi.fn(),
  erpnextCancel: vi.fn(),
  erpnextCompensate: vi.fn(),
  erpnextFieldStatus: vi.fn(),
  erpnextEnsureField: vi.fn(),
  erpnextSettings: vi.fn(),
  erpnextSaveSettings: vi.fn(),
}));
const mockedApi = vi.mocked(api);
const mocked = vi.mocked(erp);

const info = appInfo();

const siteA = connection({ id: 'sa', name: 'ERP Matriz', kind: 'erpnext', base_url: 'https://a.erp.test' });
const siteB = connection({ id: 'sb', name: 'ERP Filial', kind: 'erpnext', base_url: 'https://b.erp.test' });
const omie = connection({ id: 'o1', name: 'Omie SP', kind: 'omie' });

function fieldStatus(id: string, missing: string[] = []): FieldStatus {
  const all = ['Purchase Order', 'Purchase Receipt', 'Delivery Note'];
  return {
    connection_id: id,
    connection_name: id === 'sa' ? 'ERP Matriz' : 'ERP Filial',
    fieldname: 'custom_ext_ref',
    present: all.filter((d) => !missing.includes(d)),
    missing,
    not_unique: [],
    created: [],
    explanation: 'BackOffice writes a key of its own into a custom field.',
  };
}

const input: TransferInput = {
  site_a: 'sa',
  site_b: 'sb',
  supplier: 'PINES Supplier',
  company_a: 'Company A',
  company_b: 'Company B',
  customer_b_on_a: 'Company B',
  supplier_a_on_b: 'Company A',
  warehouse_a: 'Stores - A',
  warehouse_b: 'Stores - B',
  items: [{ item_code: 'SKU-ROUTER-01', qty: '2', rate: '1234.50', transfer_rate: null, serials: ['SN-1', 'SN-2'] }],
  posting_date: '2026-03-02',
  posting_time: '10:00:00',
  schedule_date: null,
  buying_price_list: 'Standard Buying',
  selling_price_list: 'Standard Selling',
  currency: null,
};

function doc(step: number, doctype: string, site: 'A' | 'B'): DocumentPreview {
  return {
    step,
    site,
    site_name: site === 'A' ? 'ERP Matriz' : 'ERP Filial',
    doctype,
    title: `${doctype} ${step}`,
    company: site === 'A' ? 'Company A' : 'Company B',
    party: step === 3 ? 'Company B' : 'PINES Supplier',
    posting_date: '2026-03-02',
    posting_time: '10:00:00',
    timezone: site === 'A' ? 'America/Guayaquil' : 'America/Sao_Paulo',
    currency: 'BRL',
    lines: [{ item_code: 'SKU-ROUTER-01', qty: '2', rate: '1234.50', amount: '2469.00', warehouse: 'Stores - A', serials: ['SN-1', 'SN-2'] }],
    total: '2469.00',
    links: step > 1 ? [`against step ${step - 1}`] : [],
    body: {},
  };
}

const documents = [
  doc(1, 'Purchase Order', 'A'),
  doc(2, 'Purchase Receipt', 'A'),
  doc(3, 'Delivery Note', 'A'),
  doc(4, 'Purchase Receipt', 'B'),
];

const invalidPreview: TransferPreview = {
  valid: false,
  problems: [
    { field: 'supplier', message: 'ERP Matriz has no Supplier "Pines Suplier".', suggestions: ['PINES Supplier'] },
    { field: 'items[0].serials', message: 'Serial SN-1 is already in stock on site B.', suggestions: [] },
  ],
  notes: ['Posting date: 2026-03-02 (today on site A).'],
  input,
  documents,
};

const validPreview: TransferPreview = { valid: true, problems: [], notes: [], input, documents };

function step(n: number, over: Partial<TransferStep> = {}): TransferStep {
  const defs = [
    ['Purchase Order', 'A', 'purchase-order'],
    ['Purchase Receipt', 'A', 'purchase-receipt'],
    ['Delivery Note', 'A', 'delivery-note'],
    ['Purchase Receipt', 'B', 'purchase-receipt'],
  ] as const;
  const [doctype, site] = defs[n - 1]!;
  return {
    step: n,
    label: `${doctype} on site ${site}`,
    site,
    site_name: site === 'A' ? 'ERP Matriz' : 'ERP Filial',
    doctype,
    idempotency_key: `bo-r1:${n}`,
    status: 'pending',
    doc_name: null,
    docstatus: null,
    url: null,
    attempts: 0,
    last_error: null,
    started_at: null,
    finished_at: null,
    compensated_at: null,
    ...over,
  };
}

const stepError = {
  step: 3,
  kind: 'serial_not_available',
  message: 'Could not create the Delivery Note: a serial number is not in stock where the document takes it from.',
  fix: 'Look the serial up on site A (Serial No list) to see where it went.',
  remote_messages: ['Serial No SN-2 is not present in the warehouse Stores - A.'],
  exc_type: 'SerialNoWarehouseError',
  http_status: 417,
  at: '2026-03-02T13:00:05Z',
};

const run: TransferRun = {
  id: 'r1',
  site_a_id: 'sa',
  site_b_id: 'sb',
  site_a_name: 'ERP Matriz',
  site_b_name: 'ERP Filial',
  status: 'failed',
  current_step: 3,
  summary: '2 unit(s) of SKU-ROUTER-01 from PINES Supplier: Company A → Company B',
  title: { units: '2', items: ['SKU-ROUTER-01'], supplier: 'PINES Supplier', company_a: 'Company A', company_b: 'Company B' },
  documents: [
    { step: 1, site: 'A', doctype: 'Purchase Order', name: 'PUR-ORD-2026-00001', docstatus: 1, url: 'https://a.erp.test/app/purchase-order/PUR-ORD-2026-00001' },
    { step: 2, site: 'A', doctype: 'Purchase Receipt', name: 'MAT-PRE-2026-00001', docstatus: 1, url: 'https://a.erp.test/app/purchase-receipt/MAT-PRE-2026-00001' },
  ],
  last_error: stepError,
  job_id: 'j-run',
  queued: false,
  created_at: '2026-03-02T13:00:00Z',
  updated_at: '2026-03-02T13:00:05Z',
  finished_at: '2026-03-02T13:00:05Z',
};

const detail: TransferRunDetail = {
  run,
  input,
  steps: [
    step(1, { status: 'done', doc_name: 'PUR-ORD-2026-00001', docstatus: 1, url: 'https://a.erp.test/app/purchase-order/PUR-ORD-2026-00001', attempts: 2 }),
    step(2, { status: 'done', doc_name: 'MAT-PRE-2026-00001', docstatus: 1, url: 'https://a.erp.test/app/purchase-receipt/MAT-PRE-2026-00001', attempts: 1 }),
    step(3, { status: 'failed', attempts: 1, last_error: stepError }),
    step(4),
  ],
  attempts: [
    { seq: 1, step: 1, at: '2026-03-02T13:00:01Z', action: 'lookup', outcome: 'not_found', http_status: 200, message: 'no document with this key yet', duration_ms: 40 },
    { seq: 2, step: 1, at: '2026-03-02T13:00:02Z', action: 'insert', outcome: 'ok', http_status: 200, message: 'created PUR-ORD-2026-00001', duration_ms: 300 },
    { seq: 3, step: 2, at: '2026-03-02T13:00:03Z', action: 'insert', outcome: 'ok', http_status: 200, message: 'created MAT-PRE-2026-00001', duration_ms: 280 },
    { seq: 4, step: 3, at: '2026-03-02T13:00:05Z', action: 'insert', outcome: 'failed', http_status: 417, message: 'HTTP 417 SerialNoWarehouseError', duration_ms: 120 },
  ],
  actions: [{ seq: 1, at: '2026-03-02T13:00:00Z', action: 'start', reason: 'Monthly transfer to the branch' }],
};

let emit: ReturnType<typeof resetApiMocks>;

beforeEach(() => {
  emit = resetApiMocks(mockedApi);
  mockedApi.listConnections.mockResolvedValue([omie, siteA, siteB]);
  mockedApi.listJobs.mockResolvedValue([]);
  mocked.erpnextFieldStatus.mockImplementation(async (id: string) => fieldStatus(id));
  mocked.erpnextRuns.mockResolvedValue([run]);
  mocked.erpnextRun.mockResolvedValue(detail);
  mockedApi.syncResources.mockResolvedValue([
    {
      name: 'purchase_orders',
      supports_incremental: true,
      columns: [
        { name: 'supplier', kind: 'text' },
        { name: 'grand_total', kind: 'decimal' },
        { name: 'transaction_date', kind: 'date' },
      ],
    },
    { name: 'purchase_receipts', supports_incremental: true, columns: [{ name: 'supplier', kind: 'text' }] },
    { name: 'delivery_notes', supports_incremental: true, columns: [{ name: 'customer', kind: 'text' }] },
  ]);
  mockedApi.syncSummary.mockResolvedValue([
    resourceSummary({
      resource: 'purchase_orders',
      records: 1234,
      last_fetched_at: '2026-03-02T12:00:00Z',
      last_success_at: '2026-03-02T12:00:00Z',
    }),
  ]);
  mockedApi.syncBrowse.mockResolvedValue({
    columns: [],
    rows: [{ id: 'PUR-ORD-2026-00001', values: ['PINES Supplier', '2469.00', '2026-03-02'], deleted_at: null, fetched_at: '2026-03-02T12:00:00Z' }],
    total: 1,
  });
});

async function renderPage(hash = '#/erpnext') {
  window.location.hash = hash;
  render(<App initialInfo={info} />);
  return screen.findByTestId('page-erpnext');
}

function set(testId: string, value: string, index = 0) {
  fireEvent.change(screen.getAllByTestId(testId)[index]!, { target: { value } });
}

async function fillForm({ qty = '2', serials = 'SN-1\nSN-2', rate = '1,234.50' } = {}) {
  await screen.findByTestId('transfer-form');
  set('tr-site-a', 'sa');
  set('tr-site-b', 'sb');
  set('tr-supplier', 'Pines Suplier');
  set('tr-company-a', 'Company A');
  set('tr-customer', 'Company B');
  set('tr-supplier-b', 'Company A');
  set('tr-warehouse-a', 'Stores - A');
  set('tr-warehouse-b', 'Stores - B');
  set('tr-item-code', 'SKU-ROUTER-01');
  set('tr-item-qty', qty);
  set('tr-item-rate', rate);
  set('tr-item-serials', serials);
}

describe('ERPNext page: new transfer', () => {
  it('shows the three tabs and only ERPNext sites in the site pickers', async () => {
    await renderPage();
    expect(screen.getByTestId('erpnext-tab-new')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('erpnext-tab-runs')).toHaveAttribute('href', '#/erpnext/runs');
    expect(screen.getByTestId('erpnext-tab-data')).toHaveAttribute('href', '#/erpnext/data');
    const options = within(await screen.findByTestId('tr-site-a')).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['Choose a site…', 'ERP Matriz', 'ERP Filial']);
  });

  it('blocks a line whose serial count differs from the quantity, with a message at the field', async () => {
    await renderPage();
    await fillForm({ qty: '2', serials: 'SN-1' });
    fireEvent.click(screen.getByTestId('tr-preview'));
    const serials = screen.getByTestId('tr-item-serials');
    expect(serials).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('1 serial for a quantity of 2: enter exactly one serial per unit.')).toBeInTheDocument();
    expect(screen.getByTestId('tr-form-invalid')).toBeInTheDocument();
    expect(mocked.erpnextPreview).not.toHaveBeenCalled();
  });

  it('reports a repeated serial, a bad rate and missing names before anything is sent', async () => {
    await renderPage();
    await screen.findByTestId('transfer-form');
    set('tr-item-qty', '2');
    set('tr-item-rate', 'abc');
    set('tr-item-serials', 'SN-1\nsn-1');
    fireEvent.click(screen.getByTestId('tr-preview'));
    expect(screen.getByText('Serial sn-1 is entered twice.')).toBeInTheDocument();
    expect(screen.getByText('Not a number. Type it like 1,234.50.')).toBeInTheDocument();
    expect(screen.getByText('Enter the supplier.')).toBeInTheDocument();
    expect(screen.getByText('Choose company A’s site.')).toBeInTheDocument();
    expect(mocked.erpnextPreview).not.toHaveBeenCalled();
  });

  it('previews: sends exact decimals, shows the four documents, the problems and clickable suggestions', async () => {
    mocked.erpnextPreview.mockResolvedValueOnce(invalidPreview).mockResolvedValueOnce(validPreview);
    await renderPage();
    await fillForm();
    fireEvent.click(screen.getByTestId('tr-preview'));
    await waitFor(() => expect(screen.getAllByTestId('tr-preview-doc')).toHaveLength(4));
    const sent = mocked.erpnextPreview.mock.calls[0]![0];
    expect(sent.items[0]).toEqual({ item_code: 'SKU-ROUTER-01', qty: '2', rate: '1234.50', transfer_rate: null, serials: ['SN-1', 'SN-2'] });
    expect(sent.site_a).toBe('sa');
    expect(sent.company_b).toBeNull();

    const docs = screen.getAllByTestId('tr-preview-doc');
    expect(docs.map((d) => d.getAttribute('data-step'))).toEqual(['1', '2', '3', '4']);
    expect(within(docs[0]!).getByText('Purchase Order on site A')).toBeInTheDocument();
    expect(within(docs[3]!).getByText('Purchase Receipt on site B')).toBeInTheDocument();
    expect(within(docs[0]!).getByTestId('tr-preview-total')).toHaveTextContent('2,469.00 BRL');

    const problems = screen.getAllByTestId('tr-problem');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toHaveTextContent('Supplier: ERP Matriz has no Supplier "Pines Suplier".');
    expect(problems[1]).toHaveTextContent('Line 1, serial numbers: Serial SN-1 is already in stock on site B.');
    // Not valid: no way to start.
    expect(screen.queryByTestId('tr-start')).not.toBeInTheDocument();

    fireEvent.click(within(problems[0]!).getByTestId('tr-suggestion'));
    expect(screen.getByTestId('tr-supplier')).toHaveValue('PINES Supplier');
    await waitFor(() => expect(mocked.erpnextPreview).toHaveBeenCalledTimes(2));
    expect(mocked.erpnextPreview.mock.calls[1]![0].supplier).toBe('PINES Supplier');
    expect(await screen.findByTestId('tr-start')).toBeEnabled();
  });

  it('reads rates typed in Brazilian Portuguese and shows amounts the Brazilian way', async () => {
    await i18n.changeLanguage('pt-BR');
    mocked.erpnextPreview.mockResolvedValue(validPreview);
    await renderPage();
    await fillForm({ rate: '1.234,50' });
    fireEvent.click(screen.getByTestId('tr-preview'));
    await waitFor(() => expect(screen.getAllByTestId('tr-preview-doc')).toHaveLength(4));
    expect(mocked.erpnextPreview.mock.calls[0]![0].items[0]!.rate).toBe('1234.50');
    expect(screen.getAllByTestId('tr-preview-total')[0]).toHaveTextContent('2.469,00 BRL');
    expect(screen.getAllByText('Pedido de Compra no site A').length).toBeGreaterThan(0);
    // Each document is dated in its own site's zone, shown with it.
    expect(screen.getAllByTestId('erp-doc-posting')[0]).toHaveTextContent('02/03/2026 10:00 (America/Guayaquil)');
    expect(screen.getAllByTestId('erp-doc-posting')[3]).toHaveTextContent('02/03/2026 10:00 (America/Sao Paulo)');
  });

  it('starts the previewed transfer with the note and opens its run view', async () => {
    mocked.erpnextPreview.mockResolvedValue(validPreview);
    mocked.erpnextStart.mockResolvedValue({ ...run, id: 'r-new', status: 'pending' });
    mocked.erpnextRun.mockResolvedValue({ ...detail, run: { ...run, id: 'r-new', status: 'pending' } });
    await renderPage();
    await fillForm();
    fireEvent.click(screen.getByTestId('tr-preview'));
    const start = await screen.findByTestId('tr-start');
    fireEvent.change(screen.getByTestId('tr-note'), { target: { value: 'Monthly transfer' } });
    fireEvent.click(start);
    await waitFor(() => expect(window.location.hash).toBe('#/erpnext/runs/r-new'));
    expect(mocked.erpnextStart).toHaveBeenCalledWith(validPreview.input, 'Monthly transfer');
    expect(await screen.findByTestId('erpnext-run')).toHaveAttribute('data-id', 'r-new');
  });

  it('a change after the preview must be previewed again before starting', async () => {
    mocked.erpnextPreview.mockResolvedValue(validPreview);
    await renderPage();
    await fillForm();
    fireEvent.click(screen.getByTestId('tr-preview'));
    expect(await screen.findByTestId('tr-start')).toBeEnabled();
    set('tr-warehouse-b', 'Other - B');
    expect(screen.getByTestId('tr-preview-stale')).toBeInTheDocument();
    expect(screen.getByTestId('tr-start')).toBeDisabled();
  });

  it('offers to create the idempotency field, explains why, and creates it', async () => {
    mocked.erpnextFieldStatus.mockImplementation(async (id: string) =>
      id === 'sb' ? fieldStatus('sb', ['Purchase Receipt']) : fieldStatus(id),
    );
    mocked.erpnextEnsureField.mockResolvedValue({ ...fieldStatus('sb'), created: ['Purchase Receipt'] });
    await renderPage();
    await screen.findByTestId('transfer-form');
    set('tr-site-a', 'sa');
    set('tr-site-b', 'sb');
    const offer = await screen.findByTestId('tr-field-offer');
    expect(offer).toHaveAttribute('data-site', 'sb');
    expect(offer).toHaveTextContent('does not yet have the field “custom_ext_ref” on: Purchase Receipt');
    expect(offer).toHaveTextContent('a retry finds the document that already exists instead of creating a duplicate');
    fireEvent.click(within(offer).getByTestId('tr-ensure-field'));
    await waitFor(() => expect(mocked.erpnextEnsureField).toHaveBeenCalledWith('sb'));
    expect(await screen.findByTestId('tr-field-ready')).toHaveTextContent('The field is ready on ERP Filial.');
    expect(screen.queryByTestId('tr-field-offer')).not.toBeInTheDocument();
  });

  it('explains that a transfer needs an ERPNext site when there is none', async () => {
    mockedApi.listConnections.mockResolvedValue([omie]);
    await renderPage();
    expect(await screen.findByTestId('erpnext-empty')).toHaveTextContent('No ERPNext site yet');
  });
});

describe('ERPNext page: transfers', () => {
  it('lists runs with status, step, links to each document and times', async () => {
    await renderPage('#/erpnext/runs');
    const row = (await screen.findAllByTestId('erpnext-run-row'))[0]!;
    expect(row).toHaveAttribute('data-status', 'failed');
    expect(row).toHaveTextContent('Stopped');
    expect(row).toHaveTextContent('3 of 4 · Delivery Note on site A');
    const links = within(row).getAllByTestId('run-doc-link');
    expect(links).toHaveLength(2);
    expect(links[0]).toHaveAttribute('href', 'https://a.erp.test/app/purchase-order/PUR-ORD-2026-00001');
    expect(links[0]).toHaveAttribute('target', '_blank');
    expect(links[0]).toHaveAttribute('rel', 'noopener noreferrer');
    expect(row).toHaveTextContent(formatDateTime(run.created_at, 'en'));
    fireEvent.click(row);
    await waitFor(() => expect(window.location.hash).toBe('#/erpnext/runs/r1'));
  });

  it('titles a transfer in the language of the window, not the English summary', async () => {
    await i18n.changeLanguage('pt-BR');
    await renderPage('#/erpnext/runs');
    const row = (await screen.findAllByTestId('erpnext-run-row'))[0]!;
    expect(row).toHaveTextContent('2 unidades de SKU-ROUTER-01 do fornecedor PINES Supplier: Company A → Company B');
    expect(row).not.toHaveTextContent('unit(s)');
    await i18n.changeLanguage('es');
    await waitFor(() => expect(row).toHaveTextContent('2 unidades de SKU-ROUTER-01 del proveedor PINES Supplier'));
    await i18n.changeLanguage('en');
    await waitFor(() => expect(row).toHaveTextContent('2 units of SKU-ROUTER-01 from PINES Supplier: Company A → Company B'));
  });

  it('filters by status and reloads when a transfer job reports', async () => {
    await renderPage('#/erpnext/runs');
    await screen.findAllByTestId('erpnext-run-row');
    fireEvent.change(screen.getByTestId('erpnext-runs-filter'), { target: { value: 'failed' } });
    await waitFor(() => expect(mocked.erpnextRuns).toHaveBeenLastCalledWith({ status: 'failed', limit: 500 }));
    const calls = mocked.erpnextRuns.mock.calls.length;
    act(() => emit({ job: job({ id: 'j-run', kind: 'erpnext_workflow', status: 'running' }), log: null }));
    await waitFor(() => expect(mocked.erpnextRuns.mock.calls.length).toBeGreaterThan(calls));
  });

  it('shows the run: per-step timeline, documents, every attempt, the explanation and the reasons', async () => {
    await renderPage('#/erpnext/runs/r1');
    const view = await screen.findByTestId('erpnext-run');
    await waitFor(() => expect(within(view).getAllByTestId('run-step')).toHaveLength(4));
    const steps = within(view).getAllByTestId('run-step');
    expect(steps.map((s) => [s.getAttribute('data-step'), s.getAttribute('data-status')])).toEqual([
      ['1', 'done'],
      ['2', 'done'],
      ['3', 'failed'],
      ['4', 'pending'],
    ]);
    expect(within(steps[0]!).getByRole('link', { name: /PUR-ORD-2026-00001/ })).toHaveAttribute(
      'href',
      'https://a.erp.test/app/purchase-order/PUR-ORD-2026-00001',
    );
    expect(within(steps[3]!).getByTestId('run-step-doc')).toHaveTextContent('Not created yet');
    expect(within(view).getAllByTestId('run-attempt')).toHaveLength(4);
    expect(within(steps[0]!).getAllByTestId('run-attempt')).toHaveLength(2);
    const failed = within(steps[2]!);
    expect(failed.getByTestId('run-attempt')).toHaveAttribute('data-outcome', 'failed');
    const why = failed.getByTestId('run-step-error');
    expect(why).toHaveTextContent('A serial number is not available');
    expect(within(why).getByTestId('error-remote')).toHaveTextContent('Serial No SN-2 is not present in the warehouse Stores - A.');
    expect(within(why).getByTestId('error-fix')).toHaveTextContent('Look the serial up on site A');
    const actions = within(view).getByTestId('run-actions');
    expect(within(actions).getByTestId('run-action')).toHaveTextContent('Monthly transfer to the branch');
    expect(screen.getByTestId('run-retry')).toBeEnabled();
    expect(screen.getByTestId('run-compensate')).toBeEnabled();
  });

  it('retry requires a written reason, then sends it', async () => {
    mocked.erpnextRetry.mockResolvedValue({ ...detail, run: { ...run, status: 'pending', queued: true } });
    await renderPage('#/erpnext/runs/r1');
    fireEvent.click(await screen.findByTestId('run-retry'));
    const dialog = screen.getByTestId('reason-dialog');
    fireEvent.click(within(dialog).getByTestId('reason-confirm'));
    expect(within(dialog).getByTestId('reason-error')).toHaveTextContent('Write a reason (at least 3 characters).');
    expect(mocked.erpnextRetry).not.toHaveBeenCalled();
    fireEvent.change(within(dialog).getByTestId('reason-input'), { target: { value: '  ok  ' } });
    fireEvent.click(within(dialog).getByTestId('reason-confirm'));
    expect(mocked.erpnextRetry).not.toHaveBeenCalled();
    fireEvent.change(within(dialog).getByTestId('reason-input'), { target: { value: 'Serial SN-2 returned to Stores - A' } });
    fireEvent.click(within(dialog).getByTestId('reason-confirm'));
    await waitFor(() => expect(mocked.erpnextRetry).toHaveBeenCalledWith('r1', 'Serial SN-2 returned to Stores - A'));
    await waitFor(() => expect(screen.queryByTestId('reason-dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('run-notice')).toHaveTextContent('Retry started.');
    expect(screen.getByTestId('erpnext-run')).toHaveAttribute('data-status', 'pending');
  });

  it('compensate and cancel also ask for a reason; an error from the core stays in the dialog', async () => {
    mocked.erpnextCompensate.mockRejectedValue({ code: 'invalid_input', message: 'x', params: { field: 'status', reason: 'This run is in progress.' }, details: null });
    await renderPage('#/erpnext/runs/r1');
    fireEvent.click(await screen.findByTestId('run-compensate'));
    const dialog = screen.getByTestId('reason-dialog');
    expect(dialog).toHaveTextContent('in reverse order');
    fireEvent.change(within(dialog).getByTestId('reason-input'), { target: { value: 'Wrong serials' } });
    fireEvent.click(within(dialog).getByTestId('reason-confirm'));
    await waitFor(() => expect(mocked.erpnextCompensate).toHaveBeenCalledWith('r1', 'Wrong serials'));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('This run is in progress.');
  });

  it('reloads the run when its job reports', async () => {
    await renderPage('#/erpnext/runs/r1');
    await screen.findAllByTestId('run-step');
    mocked.erpnextRun.mockResolvedValue({
      ...detail,
      run: { ...run, status: 'succeeded', current_step: 4, last_error: null },
      steps: detail.steps.map((s) => ({ ...s, status: 'done' as const, last_error: null })),
    });
    act(() => emit({ job: job({ id: 'j-run', kind: 'erpnext_workflow', connection_id: 'sa', status: 'succeeded' }), log: null }));
    await waitFor(() => expect(screen.getByTestId('erpnext-run')).toHaveAttribute('data-status', 'succeeded'));
    expect(screen.getAllByTestId('run-step').every((s) => s.getAttribute('data-status') === 'done')).toBe(true);
    expect(screen.getByTestId('run-retry')).toBeDisabled();
  });
});

describe('ERPNext page: synced documents', () => {
  it('syncs a site with live progress, shows the summary and browses the documents', async () => {
    mockedApi.syncStart.mockResolvedValue(job({ id: 'js', kind: 'sync_erpnext', connection_id: 'sa', status: 'queued', finished_at: null }));
    await renderPage('#/erpnext/data');
    const summary = await screen.findByTestId('contifico-summary');
    const row = await within(summary).findByTestId('summary-row');
    expect(row).toHaveTextContent('Purchase Orders');
    expect(row).toHaveTextContent('1,234');
    const browser = await screen.findByTestId('erpnext-browser');
    const browseRow = await within(browser).findByTestId('erpnext-browse-row');
    expect(browseRow).toHaveTextContent('PUR-ORD-2026-00001');
    expect(browseRow).toHaveTextContent('2,469.00');

    fireEvent.click(screen.getByTestId('sync-now'));
    await waitFor(() => expect(mockedApi.syncStart).toHaveBeenCalledWith('sa', expect.objectContaining({ resources: [], full_refresh: false })));
    act(() =>
      emit({
        job: job({
          id: 'js',
          kind: 'sync_erpnext',
          connection_id: 'sa',
          status: 'running',
          progress: 0.5,
          progress_label: 'purchase_orders: page 3, 600 records, 120/s',
          counts: { records: 600 },
          finished_at: null,
        }),
        log: null,
      }),
    );
    expect(await screen.findByTestId('sync-progress')).toHaveTextContent('Purchase Orders: page 3');
    expect(screen.getByTestId('sync-now')).toBeDisabled();
    act(() => emit({ job: job({ id: 'js', kind: 'sync_erpnext', connection_id: 'sa', status: 'succeeded', counts: { records: 900 } }), log: null }));
    expect(await screen.findByTestId('sync-result')).toHaveAttribute('data-status', 'succeeded');
  });
});

describe('ERPNext page: sync history, quarantine and rewind', () => {
  it('lists the sync runs of the chosen site from the generic history', async () => {
    mockedApi.syncHistory.mockImplementation(async (id: string) => [
      syncRun({
        id: `run-${id}`,
        job_id: `job-${id}`,
        erp: 'erpnext',
        status: id === 'sa' ? 'failed' : 'succeeded',
        counts: { records: 1234 },
        errors: id === 'sa' ? { purchase_receipts: 'HTTP 500 from the site' } : {},
      }),
    ]);
    await renderPage('#/erpnext/history');
    expect(screen.getByTestId('erpnext-tab-history')).toHaveAttribute('aria-current', 'page');
    const history = await screen.findByTestId('sync-history');
    const run = await within(history).findByTestId('sync-run');
    expect(mockedApi.syncHistory).toHaveBeenCalledWith('sa');
    expect(run).toHaveAttribute('data-status', 'failed');
    expect(run).toHaveTextContent('Changes only');
    expect(run).toHaveTextContent('45s');
    expect(run).toHaveTextContent('Records 1,234');
    expect(within(run).getByTestId('sync-run-errors')).toHaveTextContent('Purchase Receipts: HTTP 500 from the site');
    expect(within(run).getByTestId('sync-run-job')).toHaveAttribute('href', '#/jobs/job-sa');

    // Another site: its own runs.
    fireEvent.change(screen.getByTestId('erpnext-data-site'), { target: { value: 'sb' } });
    await waitFor(() => expect(mockedApi.syncHistory).toHaveBeenLastCalledWith('sb'));
    await waitFor(() => expect(within(screen.getByTestId('sync-history')).getByTestId('sync-run')).toHaveAttribute('data-id', 'run-sb'));
    expect(screen.getByTestId('erpnext-history')).toHaveAttribute('data-site', 'sb');
  });

  it('explains quarantine for ERPNext and lists the set-aside documents of the site', async () => {
    mockedApi.syncQuarantine.mockResolvedValue([
      { resource: 'delivery_notes', record_id: 'MAT-DN-2026-00007', reason: 'grand_total: "12,5" is not a number', why: { key: '', params: {}, message: 'grand_total: "12,5" is not a number' }, at: '2026-03-02T12:00:00Z', raw: '{"name":"MAT-DN-2026-00007"}' },
      { resource: 'purchase_orders', record_id: 'PUR-ORD-2026-00009', reason: 'bad date', why: { key: '', params: {}, message: 'bad date' }, at: '2026-03-02T12:00:00Z', raw: '{}' },
    ]);
    await renderPage('#/erpnext/quarantine/delivery_notes');
    const list = await screen.findByTestId('quarantine-list');
    expect(within(list).getByTestId('quarantine-help')).toHaveTextContent('When ERPNext sends a record BackOffice cannot read safely');
    await waitFor(() => expect(within(list).getAllByTestId('quarantine-row')).toHaveLength(1));
    expect(mockedApi.syncQuarantine).toHaveBeenCalledWith('sa');
    const row = within(list).getByTestId('quarantine-row');
    expect(row).toHaveTextContent('Delivery Notes');
    expect(row).toHaveTextContent('MAT-DN-2026-00007');
    expect(within(list).getByTestId('quarantine-resource')).toHaveValue('delivery_notes');
    fireEvent.change(within(list).getByTestId('quarantine-resource'), { target: { value: '' } });
    await waitFor(() => expect(within(list).getAllByTestId('quarantine-row')).toHaveLength(2));
  });

  it('rewinds a resource of the site from its summary, with numbers and dates the Brazilian way', async () => {
    await i18n.changeLanguage('pt-BR');
    mockedApi.syncRewind.mockImplementation(async (_c, resource, to, apply) => ({
      resource,
      to,
      stored_records: 1234,
      estimated_refetch: 1500,
      whole_resource: false,
      applied: apply,
    }));
    await renderPage('#/erpnext/data');
    const summary = await screen.findByTestId('contifico-summary');
    const row = await within(summary).findByTestId('summary-row');
    expect(within(row).getByTestId('summary-records')).toHaveTextContent('1.234');
    fireEvent.click(within(row).getByTestId('summary-rewind'));
    const dialog = await screen.findByTestId('rewind-dialog');
    expect(dialog).toHaveTextContent('Voltar “Pedidos de Compra” no tempo');
    fireEvent.change(within(dialog).getByTestId('rewind-date'), { target: { value: '2026-02-28' } });
    fireEvent.click(within(dialog).getByTestId('rewind-preview'));
    expect(await within(dialog).findByTestId('rewind-estimate')).toHaveTextContent(
      'Cerca de 1.500 registros serão lidos de novo (de 1.234 guardados).',
    );
    expect(mockedApi.syncRewind).toHaveBeenLastCalledWith('sa', 'purchase_orders', '2026-02-28', false);
    fireEvent.click(within(dialog).getByTestId('rewind-confirm'));
    await waitFor(() => expect(mockedApi.syncRewind).toHaveBeenLastCalledWith('sa', 'purchase_orders', '2026-02-28', true));
    expect(await screen.findByTestId('rewind-done')).toHaveTextContent('“Pedidos de Compra” voltou para 28/02/2026');
  });

  it('says when the site has no date filter for a resource', async () => {
    mockedApi.syncRewind.mockResolvedValue({
      resource: 'purchase_orders',
      to: '2026-02-28',
      stored_records: 1234,
      estimated_refetch: 1234,
      whole_resource: true,
      applied: false,
    });
    await renderPage('#/erpnext/data');
    const row = await within(await screen.findByTestId('contifico-summary')).findByTestId('summary-row');
    fireEvent.click(within(row).getByTestId('summary-rewind'));
    const dialog = await screen.findByTestId('rewind-dialog');
    fireEvent.change(within(dialog).getByTestId('rewind-date'), { target: { value: '2026-02-28' } });
    fireEvent.click(within(dialog).getByTestId('rewind-preview'));
    expect(await within(dialog).findByTestId('rewind-estimate')).toHaveTextContent('ERPNext has no date filter for this kind of data');
  });
});

describe('ERPNext model', () => {
  it('routes', () => {
    expect(parseErpnextPath([])).toEqual({ tab: 'new', runId: null });
    expect(parseErpnextPath(['runs', 'r1'])).toEqual({ tab: 'runs', runId: 'r1' });
    expect(parseErpnextPath(['data'])).toEqual({ tab: 'data', runId: null });
  });

  it('validates across lines and keeps decimals exact', () => {
    const base = emptyTransferForm();
    const v = {
      ...base,
      siteA: 'sa',
      siteB: 'sa',
      supplier: 'S',
      companyA: 'A',
      customerBOnA: 'B',
      supplierAOnB: 'A',
      warehouseA: 'WA',
      warehouseB: 'WB',
      items: [
        { ...base.items[0]!, itemCode: 'X', qty: '1', rate: '0,10', serials: 'S1' },
        { ...base.items[0]!, key: 999, itemCode: 'x', qty: '1.5', rate: '2', serials: 'S1' },
      ],
    };
    const r = validateTransferForm(v, 'pt-BR');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors['site_b']?.key).toBe('erpnext.validation.sameSite');
    expect(r.errors['items.1.item_code']?.key).toBe('erpnext.validation.itemRepeated');
    expect(r.errors['items.1.qty']?.key).toBe('erpnext.validation.qtyWhole');
    expect(r.errors['items.1.serials']).toEqual({ key: 'erpnext.validation.serialOnTwoLines', params: { serial: 'S1', line: 1 } });
    const ok = validateTransferForm({ ...v, siteB: 'sb', items: [v.items[0]!] }, 'pt-BR');
    expect(ok.ok && ok.input.items[0]!.rate).toBe('0.10');
  });

  it('writes suggestions into the right field and knows which controls apply', () => {
    const f = emptyTransferForm();
    expect(applySuggestion(f, 'customer_b_on_a', 'Company B')?.customerBOnA).toBe('Company B');
    expect(applySuggestion(f, 'items[0].item_code', 'SKU-1')?.items[0]!.itemCode).toBe('SKU-1');
    expect(applySuggestion(f, 'buying_price_list', 'Standard Buying')).toBeNull();
    expect(blockedReason('retry', detail)).toBeNull();
    expect(blockedReason('cancel', { ...detail, run: { ...run, status: 'succeeded' } })).toBe('erpnext.run.whyNot.cancelFinished');
    expect(blockedReason('compensate', { ...detail, run: { ...run, status: 'running' } })).toBe('erpnext.run.whyNot.compensateRunning');
  });
});
