import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { render } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import * as div from './api';
import type { Divergence } from '../../bindings/Divergence';
import type { DivergenceFilter } from '../../bindings/DivergenceFilter';
import i18n from '../../i18n';
import {
  connection,
  divergence,
  divergenceDetail,
  divergenceEvent,
  divergenceOperation,
  divergencePage,
  divergenceRule,
  divergenceMetrics,
  divergenceSession,
  job,
  ruleMetrics,
} from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { DivergencesPage } from './DivergencesPage';
import { hoursText, rateText } from './Metrics';
import { buildFilter, defaultFilterValues, explain, formatAmount, skippedText } from './model';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
vi.mock('./api', () => ({
  SESSION_JOB_KIND: 'divergences',
  APPLY_JOB_KIND: 'divergences_apply',
  divergenceRules: vi.fn(),
  saveDivergenceRule: vi.fn(),
  divergenceRuleHistory: vi.fn(),
  startDivergenceSession: vi.fn(),
  divergenceSessions: vi.fn(),
  divergences: vi.fn(),
  divergence: vi.fn(),
  decideDivergences: vi.fn(),
  applyDivergences: vi.fn(),
  divergenceOperations: vi.fn(),
  exportDivergences: vi.fn(),
  divergenceMetrics: vi.fn(),
}));

vi.mock('../omie/api', () => ({ omieClosePurchaseOrder: vi.fn(), omieTransferAttachments: vi.fn() }));

const core = vi.mocked(api);
const m = vi.mocked(div);
const omieApi = vi.mocked(await import('../omie/api'));

const trade = divergenceRule();
const dupRule = divergenceRule({ id: 'omie_duplicate_payables', kind: 'duplicate_titles', name: 'Possible duplicate payables (Omie)', confidence: 85 });

const d1 = divergence();
const d2 = divergence({ id: 'd2', record_id: '9002', record_label: '4513 · Gráfica Alfa', amount: '99.9', first_seen_at: '2025-03-03T10:00:00.000Z' });
const dup = divergence({
  id: 'd3',
  rule_id: 'omie_duplicate_payables',
  rule_name: 'Possible duplicate payables (Omie)',
  kind: 'duplicate_titles',
  basis: 'number_party',
  record_label: '777 · Papelaria Beta',
  correction: null,
  amount: '500',
  facts: { count: '2', number: '777', parcel: '1/1', party: 'Papelaria Beta', amount: '500' },
});

/** The inbox's own requests (the approved count asks with limit 0). */
const listCalls = (): DivergenceFilter[] => m.divergences.mock.calls.map((c) => c[0]).filter((f) => f.limit !== 0);
const lastList = () => listCalls().at(-1);

let emit: ReturnType<typeof resetApiMocks>;

function answer(items: Divergence[], over: { total?: number; amount?: string; approved?: number; open?: Record<string, number> } = {}) {
  m.divergences.mockImplementation(async (f: DivergenceFilter) =>
    f.limit === 0
      ? divergencePage([], { total: over.approved ?? 0 })
      : divergencePage(items, {
          total: over.total ?? items.length,
          amount_total: over.amount ?? '0',
          open_by_rule: over.open ?? {},
        }),
  );
}

beforeEach(() => {
  emit = resetApiMocks(core);
  core.listConnections.mockResolvedValue([connection({ id: 'o1', name: 'Omie SP' }), connection({ id: 'o2', name: 'Omie RJ' })]);
  core.listJobs.mockResolvedValue([]);
  m.divergenceRules.mockResolvedValue([trade, dupRule]);
  answer([d1, d2, dup], { amount: '1834.4', open: { omie_trade_marketing: 2, omie_duplicate_payables: 1 } });
});

const renderPage = (path: string[] = []) => render(<DivergencesPage path={path} />);

describe('Divergences: inbox', () => {
  it('lists what needs review with the amount at stake and the open count per rule', async () => {
    renderPage();
    expect(await screen.findAllByTestId('divergence-row')).toHaveLength(3);
    expect(screen.getByTestId('page-divergences')).toBeInTheDocument();
    // The heading the e2e tour checks.
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Divergences');
    expect(screen.getByTestId('divergences-summary-line')).toHaveTextContent('3 divergences · R$1,834.40 at stake');
    const chips = screen.getAllByTestId('divergences-rule-chip');
    expect(chips.map((c) => c.textContent)).toEqual(['Trade Marketing (Omie payables)2', 'Possible duplicate payables (Omie)1']);
    const row = screen.getAllByTestId('divergence-row')[0]!;
    expect(row).toHaveTextContent('Open');
    expect(row).toHaveTextContent('4512 · Gráfica Alfa');
    expect(row).toHaveTextContent('Omie SP');
    expect(row).toHaveTextContent('95%');
    expect(row).toHaveTextContent('R$1,234.50');
    // The first request: open, approved and failed, one page from the start.
    expect(listCalls()[0]).toEqual({
      statuses: ['open', 'approved', 'failed'],
      rule_ids: [],
      connection_id: null,
      min_confidence: null,
      min_amount: null,
      from: null,
      to: null,
      assignee: null,
      search: null,
      limit: 500,
      offset: 0,
    });
  });

  it('never adds reais and dollars: the amount at stake is said per currency', async () => {
    await i18n.changeLanguage('pt-BR');
    m.divergences.mockImplementation(async (f: DivergenceFilter) =>
      divergencePage(f.limit === 0 ? [] : [d1], { total: f.limit === 0 ? 0 : 2, amount_total: '1235.5', amounts: { BRL: '1234.5', USD: '1' } }),
    );
    renderPage();
    const line = await screen.findByTestId('divergences-summary-line');
    await waitFor(() => expect(line.textContent!.replace(/\u00a0/g, ' ')).toContain('R$ 1.234,50 + US$ 1,00'));
  });

  it('sends every filter to the core', async () => {
    const user = userEvent.setup();
    renderPage();
    await screen.findAllByTestId('divergence-row');
    await user.click(screen.getByTestId('divergences-status-failed'));
    await user.click(screen.getByTestId('divergences-status-rejected'));
    await user.selectOptions(screen.getByTestId('divergences-filter-rule'), 'omie_trade_marketing');
    await user.selectOptions(screen.getByTestId('divergences-filter-connection'), 'o2');
    await user.type(screen.getByTestId('divergences-filter-confidence'), '80');
    await user.type(screen.getByTestId('divergences-filter-amount'), '1,000.50');
    await user.type(screen.getByTestId('divergences-filter-from'), '2025-03-01');
    await user.type(screen.getByTestId('divergences-filter-to'), '2025-03-31');
    await user.type(screen.getByTestId('divergences-filter-assignee'), 'bruno');
    await user.type(screen.getByTestId('divergences-filter-search'), 'Alfa');
    await waitFor(() =>
      expect(lastList()).toEqual({
        statuses: ['open', 'approved', 'rejected'],
        rule_ids: ['omie_trade_marketing'],
        connection_id: 'o2',
        min_confidence: 80,
        min_amount: '1000.50',
        from: '2025-03-01',
        to: '2025-03-31',
        assignee: 'bruno',
        search: 'Alfa',
        limit: 500,
        offset: 0,
      }),
    );
    // A chip filters by its rule; a second click lifts it.
    await user.click(screen.getByTestId('divergences-filter-reset'));
    await waitFor(() => expect(lastList()?.rule_ids).toEqual([]));
    await user.click(screen.getAllByTestId('divergences-rule-chip')[1]!);
    await waitFor(() => expect(lastList()?.rule_ids).toEqual(['omie_duplicate_payables']));
  });

  it('says what is wrong with a filter instead of sending it', async () => {
    const user = userEvent.setup();
    renderPage();
    await screen.findAllByTestId('divergence-row');
    const before = listCalls().length;
    await user.type(screen.getByTestId('divergences-filter-confidence'), '150');
    expect(await screen.findByText('A whole number from 0 to 100.')).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 400));
    expect(listCalls()).toHaveLength(before);
  });

  it('asks the core for the next page as the list goes on (never everything at once)', async () => {
    const many = Array.from({ length: 500 }, (_, i) => divergence({ id: `x${i}`, record_label: `T${i}` }));
    m.divergences.mockImplementation(async (f: DivergenceFilter) =>
      f.limit === 0 ? divergencePage([], { total: 0 }) : divergencePage(f.offset ? [divergence({ id: 'last', record_label: 'Last one' })] : many, { total: 501 }),
    );
    const user = userEvent.setup();
    renderPage();
    expect(await screen.findByTestId('divergences-table')).toHaveAttribute('data-count', '500');
    // 500 rows are drawn only in part (the table virtualizes above 300).
    expect(screen.queryAllByTestId('divergence-row').length).toBeLessThan(500);
    expect(screen.getByText('Showing 500 of 501')).toBeInTheDocument();
    await user.click(screen.getByTestId('divergences-more'));
    await waitFor(() => expect(screen.getByTestId('divergences-table')).toHaveAttribute('data-count', '501'));
    expect(lastList()).toMatchObject({ limit: 500, offset: 500 });
  });

  it('bulk approval requires a written reason, sends the decision and says what was skipped and why', async () => {
    m.decideDivergences.mockResolvedValue({ changed: ['d1'], skipped: { d2: 'cannot approve a divergence that is applied' } });
    const user = userEvent.setup();
    renderPage();
    const rows = await screen.findAllByTestId('divergence-row');
    for (const r of rows) await user.click(within(r).getByTestId('divergences-select'));
    expect(screen.getByTestId('divergences-bulk')).toHaveTextContent('3 selected');
    await user.click(screen.getByTestId('bulk-approve'));
    const dialog = screen.getByTestId('decision-dialog');
    expect(dialog).toHaveTextContent('Approve 2 corrections');
    expect(within(dialog).getByTestId('decision-left-out')).toHaveTextContent('1 of them only flags a problem and is left out');
    await user.click(within(dialog).getByTestId('decision-confirm'));
    expect(within(dialog).getByTestId('decision-error-reason')).toHaveTextContent('Write the reason for this decision.');
    expect(within(dialog).getByTestId('form-error')).toHaveTextContent('Reason');
    expect(m.decideDivergences).not.toHaveBeenCalled();
    await user.type(within(dialog).getByTestId('decision-reason'), '  Confirmed with purchasing ');
    const reads = listCalls().length;
    await user.click(within(dialog).getByTestId('decision-confirm'));
    // The duplicate only flags: it is not sent for approval.
    expect(m.decideDivergences).toHaveBeenCalledWith({ ids: ['d1', 'd2'], action: 'approve', reason: 'Confirmed with purchasing', assignee: null });
    const result = await screen.findByTestId('decision-result');
    expect(within(result).getByTestId('decision-changed')).toHaveTextContent('1 divergence changed.');
    const skipped = within(result).getAllByTestId('decision-skipped-item');
    expect(skipped.map((s) => s.getAttribute('data-id'))).toEqual(['d3', 'd2']);
    expect(skipped[0]).toHaveTextContent('777 · Papelaria Beta');
    expect(skipped[0]).toHaveTextContent('This rule only flags');
    expect(skipped[1]).toHaveTextContent('4513 · Gráfica Alfa');
    expect(skipped[1]).toHaveTextContent('Could not approve it: its status is “Corrected”.');
    // The inbox is read again, and the selection is cleared once the dialog closes.
    await waitFor(() => expect(listCalls().length).toBeGreaterThan(reads));
    await user.click(within(result).getByTestId('decision-result-close'));
    expect(screen.queryByTestId('divergences-bulk')).not.toBeInTheDocument();
  });

  it('shows the core’s refusal of a decision in words', async () => {
    m.decideDivergences.mockRejectedValue({
      code: 'invalid_input',
      message: 'reason: write why',
      params: { field: 'reason', reason: 'write why; the reason is kept in the divergence\u2019s history' },
      details: null,
    });
    const user = userEvent.setup();
    renderPage();
    const rows = await screen.findAllByTestId('divergence-row');
    await user.click(within(rows[0]!).getByTestId('divergences-select'));
    await user.click(screen.getByTestId('bulk-reject'));
    await user.type(screen.getByTestId('decision-reason'), 'x');
    await user.click(screen.getByTestId('decision-confirm'));
    expect(await screen.findByTestId('form-error')).toHaveTextContent('Write a reason: it is kept in the divergence’s history.');
    expect(m.decideDivergences).toHaveBeenCalledWith({ ids: ['d1'], action: 'reject', reason: 'x', assignee: null });
  });

  it('assigns the selection to someone (a name is required)', async () => {
    m.decideDivergences.mockResolvedValue({ changed: ['d1'], skipped: {} });
    const user = userEvent.setup();
    renderPage();
    const rows = await screen.findAllByTestId('divergence-row');
    await user.click(screen.getByTestId('divergences-select-all'));
    expect(screen.getByTestId('divergences-bulk')).toHaveTextContent('3 selected');
    await user.click(within(rows[1]!).getByTestId('divergences-select'));
    await user.click(screen.getByTestId('bulk-assign'));
    await user.click(screen.getByTestId('decision-confirm'));
    expect(screen.getByTestId('decision-error-assignee')).toHaveTextContent('Write who will take care of it.');
    await user.type(screen.getByTestId('decision-assignee'), 'bruno');
    await user.click(screen.getByTestId('decision-confirm'));
    expect(m.decideDivergences).toHaveBeenCalledWith({ ids: ['d1', 'd3'], action: 'assign', reason: '', assignee: 'bruno' });
  });
});

describe('Divergences: header actions', () => {
  it('runs a check now and follows its job until it ends, then reads the inbox again', async () => {
    const queued = job({ id: 'js', kind: 'divergences', connection_id: null, status: 'queued', finished_at: null });
    m.startDivergenceSession.mockResolvedValue(queued);
    const user = userEvent.setup();
    renderPage();
    await screen.findAllByTestId('divergence-row');
    await user.click(screen.getByTestId('divergences-run'));
    expect(m.startDivergenceSession).toHaveBeenCalledWith({ mode: 'manual', rules: [], force: true });
    expect(screen.getByTestId('divergences-run')).toBeDisabled();
    expect(screen.getByTestId('divergences-run')).toHaveTextContent('Checking…');
    act(() => emit({ job: { ...queued, status: 'running', progress: 0.5, progress_label: 'Trade Marketing (Omie payables)' }, log: null }));
    expect(screen.getByTestId('divergences-run-progress')).toHaveTextContent('50%');
    expect(screen.getByTestId('divergences-session-progress')).toHaveTextContent('Checking rule “Trade Marketing (Omie payables)”…');
    const before = listCalls().length;
    act(() => emit({ job: { ...queued, status: 'succeeded', progress: 1, counts: { new: 2, resolved: 1 }, finished_at: '2025-03-05T10:00:00Z' }, log: null }));
    expect(await screen.findByTestId('divergences-job-done')).toHaveTextContent('Check finished. 2 new · 1 resolved.');
    await waitFor(() => expect(listCalls().length).toBeGreaterThan(before));
    expect(screen.getByTestId('divergences-run')).toBeEnabled();
  });

  it('applies every approved correction after asking, and is off when nothing is approved', async () => {
    answer([d1], { approved: 0 });
    const { unmount } = renderPage();
    await screen.findAllByTestId('divergence-row');
    await waitFor(() => expect(screen.getByTestId('divergences-apply')).toHaveAttribute('data-approved', '0'));
    expect(screen.getByTestId('divergences-apply')).toBeDisabled();
    unmount();

    answer([d1], { approved: 3 });
    m.applyDivergences.mockResolvedValue(job({ id: 'ja', kind: 'divergences_apply', status: 'running', params: { ids: [], rollback: false } }));
    const user = userEvent.setup();
    renderPage();
    await waitFor(() => expect(screen.getByTestId('divergences-apply')).toHaveTextContent('Apply approved (3)'));
    expect(screen.getByTestId('divergences-apply')).toBeEnabled();
    await user.click(screen.getByTestId('divergences-apply'));
    expect(screen.getByTestId('divergences-apply-confirm')).toHaveTextContent('3 approved corrections will be written to the ERP');
    await user.click(screen.getByTestId('divergences-apply-accept'));
    expect(m.applyDivergences).toHaveBeenCalledWith({ ids: [], rollback: false });
    expect(await screen.findByTestId('divergences-apply-progress')).toBeInTheDocument();
  });

  it('exports what the filters show as CSV and says where the file is', async () => {
    m.exportDivergences.mockResolvedValue('/home/ana/Downloads/divergences-20250305.csv');
    const user = userEvent.setup();
    renderPage();
    await screen.findAllByTestId('divergence-row');
    await user.click(screen.getByTestId('divergences-export'));
    expect(await screen.findByTestId('divergences-exported')).toHaveTextContent('/home/ana/Downloads/divergences-20250305.csv');
    expect(m.exportDivergences).toHaveBeenCalledWith(expect.objectContaining({ statuses: ['open', 'approved', 'failed'], limit: null, offset: null }), 'csv');
  });
});

describe('Divergences: detail', () => {
  it('explains a classification in Portuguese: the rule, the categories, why this confidence and the correction', async () => {
    await i18n.changeLanguage('pt-BR');
    m.divergence.mockResolvedValue(
      divergenceDetail(d1, {
        events: [divergenceEvent(), divergenceEvent({ action: 'commented', who: 'bruno', note: 'Falei com compras', at: '2025-03-05T11:00:00Z' })],
      }),
    );
    const user = userEvent.setup();
    renderPage();
    const rows = await screen.findAllByTestId('divergence-row');
    await user.click(within(rows[0]!).getByText('4512 · Gráfica Alfa'));
    expect(m.divergence).toHaveBeenCalledWith('d1');
    const panel = await screen.findByTestId('divergence-detail');
    expect(await within(panel).findByTestId('divergence-explanation')).toHaveTextContent(
      'O título 4512 · Gráfica Alfa tem “trade marketing” na descrição, mas está na categoria 2.01.03; pela regra “Trade Marketing (contas a pagar Omie)” deveria estar em 2.04.01 (Trade Marketing).',
    );
    expect(within(panel).getByTestId('divergence-confidence')).toHaveTextContent('Confiança de 95%, pela forma como foi identificada: padrão no texto.');
    expect(within(panel).getByTestId('divergence-correction')).toHaveTextContent('Categoria:2.01.032.04.01');
    expect(panel).toHaveTextContent('R$ 1.234,50');
    const evidence = within(panel).getAllByTestId('divergence-evidence-item');
    expect(evidence[0]).toHaveTextContent('4512');
    expect(within(evidence[0]!).getByRole('link')).toHaveAttribute('href', '#/omie/data/contas_pagar/9001/o1');
    const events = within(panel).getAllByTestId('divergence-event');
    expect(events[0]).toHaveTextContent('Encontrada');
    expect(events[1]).toHaveTextContent('Comentário');
    expect(events[1]).toHaveTextContent('bruno em FIN-01');
    expect(events[1]).toHaveTextContent('Falei com compras');
    expect(within(panel).getByTestId('detail-approve')).toHaveTextContent('Aprovar…');
  });

  it('explains an NF-e receipt whose payables do not add up, with Brazilian money', async () => {
    await i18n.changeLanguage('pt-BR');
    const receipt = divergence({
      id: 'd9',
      rule_id: 'omie_receipt_value',
      rule_name: 'NF-e × títulos',
      kind: 'receipt_value',
      basis: 'exact_key',
      resource: 'recebimentos',
      record_label: 'NF-e 4512 · Gráfica Alfa',
      correction: null,
      amount: '234.5',
      confidence: 70,
      evidence: [
        { connection_id: 'o1', resource: 'recebimentos', id: 'r1', label: 'NF-e 4512' },
        { connection_id: 'o1', resource: 'contas_pagar', id: 'p1', label: '' },
      ],
      facts: { receipt_value: '1234.5', payables_total: '1000', payables: '2', gap: '234.5', tolerance: '0.05', number: '4512', party: 'Gráfica Alfa' },
    });
    answer([receipt]);
    m.divergence.mockResolvedValue(divergenceDetail(receipt));
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByText('NF-e 4512 · Gráfica Alfa'));
    const panel = await screen.findByTestId('divergence-detail');
    expect(await within(panel).findByTestId('divergence-explanation')).toHaveTextContent(
      'A NF-e 4512 de Gráfica Alfa vale R$ 1.234,50, mas os 2 títulos a pagar gerados somam R$ 1.000,00 (diferença R$ 234,50, tolerância R$ 0,05).',
    );
    expect(within(panel).getByTestId('divergence-confidence')).toHaveTextContent('chave exata');
    expect(within(panel).getByTestId('divergence-flag-only')).toBeInTheDocument();
    expect(within(panel).queryByTestId('detail-approve')).not.toBeInTheDocument();
    const evidence = within(panel).getAllByTestId('divergence-evidence-item');
    expect(evidence[1]).toHaveTextContent('p1');
  });

  it('offers the fix BackOffice knows for a pending chain: closes the order, follows its job, then checks the rule again', async () => {
    await i18n.changeLanguage('pt-BR');
    const pending = divergence({
      id: 'd10',
      rule_id: 'omie_service_order_open',
      rule_name: 'Service NF posted, order not closed (Omie)',
      kind: 'service_order_open',
      basis: 'number_party',
      resource: 'pedidos_compra',
      record_id: '1042',
      record_label: '1042 · Gráfica Alfa',
      correction: null,
      amount: '880',
      confidence: 85,
      facts: { order: '1042', service_nf: '9013', party: 'Gráfica Alfa', payable: 'p7', closure: '', closure_error: '', fix: 'omie_po_close' },
    });
    answer([pending]);
    m.divergence.mockResolvedValue(divergenceDetail(pending));
    const closing = job({ id: 'jc', kind: 'omie_po_close', connection_id: 'o1', status: 'running', progress: 0, finished_at: null });
    omieApi.omieClosePurchaseOrder.mockResolvedValue(closing);
    const checking = job({ id: 'js', kind: 'divergences', connection_id: null, status: 'running', progress: 0, finished_at: null });
    m.startDivergenceSession.mockResolvedValue(checking);
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByText('1042 · Gráfica Alfa'));
    const panel = await screen.findByTestId('divergence-detail');
    expect(await within(panel).findByTestId('divergence-explanation')).toHaveTextContent(
      'A NF de serviço 9013 de Gráfica Alfa foi lançada contra o pedido de compra 1042, e o BackOffice não tem registro de ter encerrado esse pedido.',
    );
    // The fix is BackOffice's: the panel does not also say "fix it in the ERP".
    expect(within(panel).queryByTestId('divergence-flag-only')).not.toBeInTheDocument();
    const fix = within(panel).getByTestId('divergence-fix');
    await user.click(within(fix).getByRole('button', { name: 'Encerrar o pedido 1042' }));
    expect(omieApi.omieClosePurchaseOrder).toHaveBeenCalledWith('o1', {
      order_number: '1042',
      item: null,
      service_invoice_number: '9013',
      service_invoice_id: null,
      dry_run: false,
    });
    expect(await within(fix).findByTestId('divergence-fix-job')).toBeInTheDocument();
    expect(within(fix).getByTestId('divergence-fix-run')).toBeDisabled();
    act(() => emit({ job: { ...closing, status: 'succeeded', progress: 1, finished_at: '2025-03-06T10:00:00Z' }, log: null }));
    expect(await within(fix).findByTestId('divergence-fix-done')).toHaveTextContent('Verifique de novo');
    await user.click(within(fix).getByTestId('divergence-fix-check'));
    expect(m.startDivergenceSession).toHaveBeenCalledWith({ mode: 'manual', rules: ['omie_service_order_open'], force: false });
  });

  it('sends an ERPNext delivery without its receipt to the transfer that made it, explained with the local date', async () => {
    await i18n.changeLanguage('pt-BR');
    const delivery = divergence({
      id: 'd11',
      rule_id: 'erpnext_delivery_without_receipt',
      rule_name: 'Delivery to the other company without its receipt (ERPNext)',
      kind: 'delivery_without_receipt',
      erp: 'erpnext',
      basis: 'exact_key',
      resource: 'delivery_notes',
      record_id: 'MAT-DN-2026-00007',
      record_label: 'MAT-DN-2026-00007 · Company B',
      currency: 'USD',
      amount: '260.5',
      correction: null,
      facts: { delivery_note: 'MAT-DN-2026-00007', customer: 'Company B', posting_date: '2026-11-30', site_b: 'Site B', run: 'run-42', run_status: 'failed', probable_receipt: '', fix: 'erpnext_run' },
    });
    answer([delivery]);
    m.divergence.mockResolvedValue(divergenceDetail(delivery));
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByText('MAT-DN-2026-00007 · Company B'));
    const panel = await screen.findByTestId('divergence-detail');
    expect(await within(panel).findByTestId('divergence-explanation')).toHaveTextContent(
      `A nota de entrega MAT-DN-2026-00007 (30/11/2026) envia US$ 260,50 para Company B, mas nenhum recebimento de compra em Site B a menciona.`,
    );
    expect(within(panel).getByTestId('divergence-fix-open')).toHaveAttribute('href', '#/erpnext/runs/run-42');
    expect(within(panel).getByTestId('divergence-fix-open')).toHaveTextContent('Abrir a transferência');
  });

  it('explains a Contífico document whose total is not its bases plus taxes, in dollars', async () => {
    await i18n.changeLanguage('es');
    const doc = divergence({
      kind: 'document_lines',
      erp: 'contifico',
      currency: 'USD',
      correction: null,
      facts: { check: 'total', document_type: 'FAC', number: '001-001-000000042', party: 'Comercial Andes', bases: '100', taxes: '15', found: '115', total: '116', gap: '1', tolerance: '0.02' },
    });
    expect(explain(i18n, doc)).toBe(
      `FAC 001-001-000000042 de Comercial Andes: sus bases más impuestos dan ${formatAmount('115', 'es', 'USD')}, pero su total dice ${formatAmount('116', 'es', 'USD')} (diferencia ${formatAmount('1', 'es', 'USD')}, tolerancia ${formatAmount('0.02', 'es', 'USD')}).`,
    );
    expect(explain(i18n, doc)).toContain('116');
  });

  it('explains a Contífico invoice without its journal entry with the local date and dollars', async () => {
    await i18n.changeLanguage('pt-BR');
    const sale = divergence({
      kind: 'sale_without_entry',
      erp: 'contifico',
      currency: 'USD',
      amount: '115',
      basis: 'document_number',
      correction: null,
      facts: { number: '001-001-000000008', document_type: 'FAC', date: '2026-11-03', party: 'Comercial Andes' },
    });
    expect(explain(i18n, sale).replace(/\u00a0/g, ' ')).toBe(
      'FAC 001-001-000000008 de Comercial Andes (03/11/2026, US$ 115,00) não tem lançamento contábil que a cite: a contabilidade pode estar sem esta venda.',
    );
  });

  it('rolls back an applied correction: asks, then starts the apply job with rollback and follows it', async () => {
    const applied = divergence({ status: 'applied' });
    answer([applied]);
    m.divergence.mockResolvedValue(divergenceDetail(applied, { operations: [divergenceOperation()] }));
    const rolling = job({ id: 'jr', kind: 'divergences_apply', connection_id: null, status: 'running', progress: 0, params: { ids: ['d1'], rollback: true }, finished_at: null });
    m.applyDivergences.mockResolvedValue(rolling);
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByText('4512 · Gráfica Alfa'));
    const panel = await screen.findByTestId('divergence-detail');
    expect(await within(panel).findByTestId('divergence-operation')).toHaveTextContent('Correction');
    expect(within(panel).getByTestId('divergence-operation')).toHaveTextContent('Done');
    await user.click(within(panel).getByTestId('detail-rollback'));
    expect(screen.getByTestId('divergence-confirm')).toHaveTextContent('Category goes back from 2.04.01 to 2.01.03');
    await user.click(screen.getByTestId('divergence-confirm-accept'));
    expect(m.applyDivergences).toHaveBeenCalledWith({ ids: ['d1'], rollback: true });
    expect(await within(panel).findByTestId('divergence-job')).toBeInTheDocument();
    expect(within(panel).getByTestId('detail-rollback')).toBeDisabled();
    const reads = m.divergence.mock.calls.length;
    m.divergence.mockResolvedValue(divergenceDetail(divergence({ status: 'rolled_back' })));
    act(() => emit({ job: { ...rolling, status: 'succeeded', progress: 1, counts: { rolled_back: 1 }, finished_at: '2025-03-06T10:00:00Z' }, log: null }));
    await waitFor(() => expect(m.divergence.mock.calls.length).toBeGreaterThan(reads));
    await waitFor(() => expect(screen.getByTestId('divergence-detail')).toHaveAttribute('data-status', 'rolled_back'));
    expect(screen.getByTestId('divergences-job-done')).toHaveTextContent('Correction undone.');
    expect(within(screen.getByTestId('divergence-detail')).getByTestId('detail-reopen')).toBeInTheDocument();
  });

  it('approves from the detail with a written reason, then shows the new status', async () => {
    m.divergence.mockResolvedValue(divergenceDetail(d1));
    m.decideDivergences.mockResolvedValue({ changed: ['d1'], skipped: {} });
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByText('4512 · Gráfica Alfa'));
    const panel = await screen.findByTestId('divergence-detail');
    await user.click(await within(panel).findByTestId('detail-approve'));
    expect(screen.getByTestId('decision-dialog')).toHaveTextContent('Approve the correction');
    await user.click(screen.getByTestId('decision-confirm'));
    expect(screen.getByTestId('decision-error-reason')).toBeInTheDocument();
    m.divergence.mockResolvedValue(divergenceDetail(divergence({ status: 'approved' })));
    await user.type(screen.getByTestId('decision-reason'), 'Checked the invoice');
    await user.click(screen.getByTestId('decision-confirm'));
    expect(m.decideDivergences).toHaveBeenCalledWith({ ids: ['d1'], action: 'approve', reason: 'Checked the invoice', assignee: null });
    expect(await screen.findByTestId('decision-changed')).toHaveTextContent('1 divergence changed.');
    await user.click(screen.getByTestId('decision-result-close'));
    await waitFor(() => expect(screen.getByTestId('divergence-detail')).toHaveAttribute('data-status', 'approved'));
    expect(within(screen.getByTestId('divergence-detail')).getByTestId('detail-apply')).toBeInTheDocument();
  });

  it('translates why a write failed', async () => {
    const failed = divergence({ status: 'failed' });
    answer([failed]);
    m.divergence.mockResolvedValue(
      divergenceDetail(failed, {
        operations: [
          divergenceOperation({
            status: 'refused',
            error: {
              code: 'invalid_input',
              message: 'x',
              params: { field: 'correction', reason: '4512 changed in the ERP since it was checked' },
              details: null,
            },
          }),
        ],
      }),
    );
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByText('4512 · Gráfica Alfa'));
    expect(await screen.findByTestId('divergence-operation-error')).toHaveTextContent(
      'The record changed in the ERP since it was checked, so nothing was written. Run the check again.',
    );
  });
});

describe('Divergences: rules, sessions, audit', () => {
  it('editing a rule requires a reason and sends only what the form holds', async () => {
    m.saveDivergenceRule.mockImplementation(async (_id, input) => ({ ...trade, confidence: input.confidence ?? 0, auto_apply_threshold: input.auto_apply_threshold, version: 2 }));
    const user = userEvent.setup();
    renderPage(['rules']);
    const rows = await screen.findAllByTestId('rule-row');
    expect(rows[0]).toHaveTextContent('Trade Marketing (Omie payables)');
    expect(rows[0]).toHaveTextContent('Wrong category');
    expect(rows[0]).toHaveTextContent('95%');
    expect(rows[0]).toHaveTextContent('from 50%');
    expect(rows[0]).toHaveTextContent('Never');
    expect(rows[1]).toHaveTextContent('Only flags');
    await user.click(within(rows[0]!).getByTestId('rule-edit'));
    const form = screen.getByTestId('rule-form');
    await user.clear(within(form).getByTestId('rule-confidence'));
    await user.type(within(form).getByTestId('rule-confidence'), '90');
    await user.click(within(form).getByTestId('rule-autoApply'));
    await user.clear(within(form).getByTestId('rule-autoApplyThreshold'));
    await user.type(within(form).getByTestId('rule-autoApplyThreshold'), '98');
    await user.click(within(form).getByTestId('rule-save'));
    expect(within(form).getByTestId('rule-error-reason')).toHaveTextContent('Write why the rule changes.');
    expect(m.saveDivergenceRule).not.toHaveBeenCalled();
    await user.type(within(form).getByTestId('rule-reason'), 'Fewer false alarms');
    await user.click(within(form).getByTestId('rule-save'));
    expect(m.saveDivergenceRule).toHaveBeenCalledWith('omie_trade_marketing', {
      name: 'Trade Marketing (Omie payables)',
      params: null,
      confidence: 90,
      show_threshold: 50,
      auto_apply_threshold: 98,
      auto_apply_off: false,
      enabled: true,
      reason: 'Fewer false alarms',
    });
    expect(await screen.findByTestId('rule-saved')).toHaveTextContent('The rule “Trade Marketing (Omie payables)” was saved.');
  });

  it('a pending check’s first date is edited as a local date, and emptied to look at every date', async () => {
    await i18n.changeLanguage('pt-BR');
    const pending = divergenceRule({
      id: 'omie_receipt_attachments',
      kind: 'receipt_attachments',
      name: 'NF-e receipt attachments not on its payable (Omie)',
      confidence: 85,
      params: { from_date: '2026-11-06' },
    });
    m.divergenceRules.mockResolvedValue([pending]);
    m.saveDivergenceRule.mockImplementation(async () => ({ ...pending, params: { from_date: '' }, version: 2 }));
    const user = userEvent.setup();
    renderPage(['rules']);
    await user.click(within((await screen.findAllByTestId('rule-row'))[0]!).getByTestId('rule-edit'));
    const form = screen.getByTestId('rule-form');
    const from = within(form).getByTestId('rule-fromDate');
    expect(from).toHaveValue('06/11/2026');
    await user.clear(from);
    await user.type(from, '31/02/2026');
    await user.type(within(form).getByTestId('rule-reason'), 'Olhar o histórico todo');
    await user.click(within(form).getByTestId('rule-save'));
    expect(m.saveDivergenceRule).not.toHaveBeenCalled();
    await user.clear(from);
    await user.click(within(form).getByTestId('rule-save'));
    expect(m.saveDivergenceRule).toHaveBeenCalledWith('omie_receipt_attachments', expect.objectContaining({ params: { from_date: '' } }));
  });

  it('a flag-only rule cannot correct on its own; the core’s refusal names the field', async () => {
    m.saveDivergenceRule.mockRejectedValue({
      code: 'invalid_input',
      message: 'x',
      params: { field: 'show_threshold', reason: 'a confidence is a percentage from 0 to 100' },
      details: null,
    });
    const user = userEvent.setup();
    renderPage(['rules']);
    const rows = await screen.findAllByTestId('rule-row');
    await user.click(within(rows[1]!).getByTestId('rule-edit'));
    const form = screen.getByTestId('rule-form');
    expect(within(form).getByTestId('rule-autoApply')).toBeDisabled();
    await user.click(within(form).getByTestId('rule-enabled'));
    await user.type(within(form).getByTestId('rule-reason'), 'Paused during the audit');
    await user.click(within(form).getByTestId('rule-save'));
    expect(m.saveDivergenceRule).toHaveBeenCalledWith('omie_duplicate_payables', expect.objectContaining({ enabled: false, auto_apply_threshold: null, auto_apply_off: true }));
    expect(await within(form).findByTestId('form-error')).toHaveTextContent('Please check “List from”: A confidence is a percentage from 0 to 100.');
  });

  it('shows a rule’s history: who changed it, when and why', async () => {
    m.divergenceRuleHistory.mockResolvedValue([
      { version: 1, rule: trade, changed_at: '2025-03-01T12:00:00Z', changed_by: 'ana', reason: 'Created' },
      { version: 2, rule: { ...trade, confidence: 90, version: 2 }, changed_at: '2025-03-02T12:00:00Z', changed_by: 'bruno', reason: 'Fewer false alarms' },
    ]);
    const user = userEvent.setup();
    renderPage(['rules']);
    const rows = await screen.findAllByTestId('rule-row');
    await user.click(within(rows[0]!).getByTestId('rule-history-open'));
    const versions = await screen.findAllByTestId('rule-version');
    expect(versions[0]).toHaveTextContent('Version 2');
    expect(versions[0]).toHaveTextContent('by bruno');
    expect(versions[0]).toHaveTextContent('Fewer false alarms');
    expect(versions[0]).toHaveTextContent('confidence 90%');
    expect(m.divergenceRuleHistory).toHaveBeenCalledWith('omie_trade_marketing');
  });

  it('lists the sessions with what each rule found', async () => {
    m.divergenceSessions.mockResolvedValue([
      divergenceSession({
        mode: 'auto',
        who: 'BackOffice (automatic)',
        counts: { omie_trade_marketing: { new: 2, still_open: 5, resolved: 1, reopened: 0 }, omie_duplicate_payables: { still_open: 4, unchanged: 1 } },
      }),
    ]);
    renderPage(['sessions']);
    const row = await screen.findByTestId('session-row');
    expect(m.divergenceSessions).toHaveBeenCalledWith(100);
    expect(row).toHaveTextContent('Automatic');
    expect(row).toHaveTextContent('BackOffice (automatic)');
    expect(row).toHaveTextContent('Succeeded');
    const counts = within(row).getAllByTestId('session-rule-counts');
    expect(counts[0]).toHaveTextContent('Trade Marketing (Omie payables): 2 new · 5 still open · 1 resolved');
    expect(counts[1]).toHaveTextContent('Possible duplicate payables (Omie): 4 still open · no new data since its last check');
  });

  it('lists every write to the ERP in the audit, and opens the divergence from a row', async () => {
    m.divergenceOperations.mockResolvedValue([
      divergenceOperation(),
      divergenceOperation({
        id: 'op2',
        kind: 'rollback',
        before: '2.04.01',
        after: '2.01.03',
        status: 'refused',
        error: { code: 'invalid_input', message: 'x', params: { field: 'rollback', reason: 'edited' }, details: null },
      }),
    ]);
    m.divergence.mockResolvedValue(divergenceDetail());
    const user = userEvent.setup();
    renderPage(['audit']);
    const rows = await screen.findAllByTestId('operation-row');
    expect(rows[0]).toHaveTextContent('Correction');
    expect(rows[0]).toHaveTextContent('Category: 2.01.03');
    expect(rows[0]).toHaveTextContent('Done');
    expect(rows[1]).toHaveTextContent('Undo');
    expect(rows[1]).toHaveTextContent('Refused');
    expect(within(rows[1]!).getByTestId('audit-error')).toHaveTextContent('edited in the ERP after our correction');
    await user.click(rows[0]!);
    expect(await screen.findByTestId('divergence-detail')).toBeInTheDocument();
  });
});

describe('Divergences in Portuguese', () => {
  it('shows no English word on the inbox, the selection, the decision dialog and the detail', async () => {
    await i18n.changeLanguage('pt-BR');
    const ptRule = divergenceRule({ name: 'Trade Marketing (títulos a pagar)' });
    m.divergenceRules.mockResolvedValue([ptRule]);
    const a = divergence({ rule_name: ptRule.name, assignee: 'bruno' });
    const b = divergence({ id: 'd2', rule_name: ptRule.name, status: 'approved', record_label: '4513 · Gráfica Alfa' });
    answer([a, b], { amount: '1334.4', approved: 1, open: { omie_trade_marketing: 2 } });
    m.divergence.mockResolvedValue(divergenceDetail(a, { operations: [divergenceOperation({ status: 'failed', error: { code: 'timeout', message: 'x', params: { connection: 'Omie SP', url: 'https://app.omie.com.br' }, details: null } })] }));
    const user = userEvent.setup();
    renderPage();
    const rows = await screen.findAllByTestId('divergence-row');
    expect(screen.getByTestId('divergences-summary-line')).toHaveTextContent('2 divergências · R$ 1.334,40 em jogo');
    expect(rows[0]).toHaveTextContent('Aberta');
    expect(rows[1]).toHaveTextContent('Aprovada');
    await user.click(within(rows[0]!).getByTestId('divergences-select'));
    await user.click(within(rows[0]!).getByText('4512 · Gráfica Alfa'));
    await screen.findByTestId('divergence-explanation');
    await screen.findByTestId('divergence-operation');
    await user.click(screen.getByTestId('bulk-approve'));
    await user.click(screen.getByTestId('decision-confirm'));
    expect(screen.getByTestId('decision-error-reason')).toHaveTextContent('Escreva o motivo desta decisão.');
    const text = document.body.textContent ?? '';
    for (const word of ['Approve', 'Reject', 'Reason', 'Open', 'Rule', 'Status', 'Amount', 'Assign', 'Inbox', 'Apply', 'Export', 'Check', 'Cancel', 'Save']) {
      expect(text, word).not.toMatch(new RegExp(`\\b${word}\\b`));
    }
    expect(text).toContain('Motivo');
    expect(text).toContain('Aprovar');
    expect(text).toContain('Regra');
  });

  it('words a Spanish explanation with the language’s money style', async () => {
    await i18n.changeLanguage('es');
    const text = explain(i18n, dup);
    expect(text).toBe('2 cuentas por pagar con el mismo proveedor (Papelaria Beta), número 777, cuota 1/1 y valor BRL 500,00: la misma factura puede haberse registrado dos veces.'.replace('BRL 500,00', formatAmount('500', 'es', 'BRL')));
    expect(skippedText(i18n, 'cannot reopen a divergence that is open')).toBe('No se pudo reabrir: su estado es “Abierta”.');
  });
});

describe('Divergences: metrics', () => {
  const metrics = () =>
    divergenceMetrics({
      open: 5,
      amount_open: '1334.4',
      auto_apply_rate: 0.4,
      rules: [
        ruleMetrics(),
        ruleMetrics({
          rule_id: 'omie_duplicate_payables',
          rule_name: 'Possible duplicate payables (Omie)',
          open: 1,
          amount_open: '99.9',
          open_by_age: [0, 0, 0, 1],
          approved_by_people: 0,
          approved_automatically: 0,
          rejected: 0,
          approve_rate: null,
          median_hours_to_end: null,
        }),
      ],
    });

  it('has a Metrics tab after Audit that reads the figures', async () => {
    m.divergenceMetrics.mockResolvedValue(metrics());
    renderPage(['metrics']);
    const tabs = screen.getAllByRole('link').filter((a) => a.getAttribute('data-testid')?.startsWith('divergences-tab-'));
    expect(tabs.map((a) => a.getAttribute('data-testid'))).toEqual([
      'divergences-tab-inbox',
      'divergences-tab-rules',
      'divergences-tab-sessions',
      'divergences-tab-audit',
      'divergences-tab-metrics',
    ]);
    expect(screen.getByTestId('divergences-tab-metrics')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('divergences-tab-metrics')).toHaveTextContent('Metrics');
    expect(screen.getByTestId('divergences-tab-metrics').getAttribute('href')).toContain('divergences/metrics');
    expect(await screen.findAllByTestId('metrics-rule-row')).toHaveLength(2);
    expect(m.divergenceMetrics).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('metrics-open-value')).toHaveTextContent('5');
    expect(screen.getByTestId('metrics-amount-value')).toHaveTextContent('R$1,334.40');
    expect(screen.getByTestId('metrics-auto-rate-value')).toHaveTextContent('40%');
    const [first, second] = screen.getAllByTestId('metrics-rule-row');
    expect(first).toHaveTextContent('Trade Marketing (Omie payables)');
    expect(within(first!).getByTestId('metrics-rule-median')).toHaveTextContent('5 h');
    expect(within(second!).getByTestId('metrics-rule-rate')).toHaveTextContent('—');
    expect(within(second!).getByTestId('metrics-rule-median')).toHaveTextContent('—');
    expect(screen.getByTestId('metrics-hint')).toHaveTextContent('always approve');
  });

  it('shows the tiles, the rules and the 30 days in Portuguese, with Brazilian money and no English word', async () => {
    await i18n.changeLanguage('pt-BR');
    m.divergenceMetrics.mockResolvedValue(metrics());
    renderPage(['metrics']);
    const rows = await screen.findAllByTestId('metrics-rule-row');
    expect(screen.getByTestId('divergences-tab-metrics')).toHaveTextContent('Métricas');
    expect(screen.getByTestId('metrics-open')).toHaveTextContent('Divergências em aberto');
    expect(screen.getByTestId('metrics-open-value')).toHaveTextContent('5');
    expect(screen.getByTestId('metrics-amount-value').textContent).toMatch(/^R\$\s1\.334,40$/);
    expect(screen.getByTestId('metrics-auto-rate-value').textContent).toMatch(/^40\s?%$/);
    // The rule: its name translated, Brazilian money, the ages, people / automatic, rate and median.
    const first = rows[0]!;
    expect(first).toHaveTextContent('Trade Marketing (contas a pagar Omie)');
    expect(within(first).getByTestId('metrics-rule-open')).toHaveTextContent('4');
    expect(within(first).getByTestId('metrics-rule-amount').textContent).toMatch(/^R\$\s1\.234,50$/);
    expect(within(first).getByTestId('metrics-rule-approved')).toHaveTextContent('3 / 2');
    expect(within(first).getByTestId('metrics-rule-rejected')).toHaveTextContent('1');
    expect(within(first).getByTestId('metrics-rule-rate').textContent).toMatch(/^75\s?%$/);
    expect(within(first).getByTestId('metrics-rule-median')).toHaveTextContent('5 h');
    const ages = within(first).getByTestId('metrics-age');
    const bands = within(ages).getAllByTestId('metrics-age-band');
    expect(bands.map((b) => b.getAttribute('data-band'))).toEqual(['under1', 'd1to7', 'd7to30', 'over30']);
    expect(bands[0]).toHaveTextContent('< 1 d 1');
    expect(bands[0]).toHaveTextContent('Menos de 1 dia: 1');
    expect(bands[1]).toHaveTextContent('1 a 7 dias: 2');
    expect(bands[2]).toHaveTextContent('7 a 30 dias: 0');
    expect(bands[3]).toHaveTextContent('Mais de 30 dias: 1');
    // Null rates and times read "—".
    expect(within(rows[1]!).getByTestId('metrics-rule-rate')).toHaveTextContent('—');
    expect(within(rows[1]!).getByTestId('metrics-rule-median')).toHaveTextContent('—');
    // The chart: 30 days, a summary in Portuguese, days as dd/mm.
    expect(screen.getAllByTestId('metrics-day')).toHaveLength(30);
    const svg = screen.getByTestId('metrics-chart-svg');
    expect(svg).toHaveAttribute('role', 'img');
    expect(svg.getAttribute('aria-label')).toBe(
      'Divergências por dia de 03/02 a 04/03: 2 detectadas e 1 encerradas no total. Dia com mais detecções: 04/03 (2).',
    );
    expect(screen.getAllByTestId('metrics-day-label').map((l) => l.textContent)).toEqual(['03/02', '10/02', '17/02', '24/02', '03/03', '04/03']);
    expect(screen.getByTestId('metrics-hint')).toHaveTextContent('Listar a partir de');
    const text = document.body.textContent ?? '';
    for (const word of ['Open', 'Rejected', 'Approved', 'Approval', 'hours', 'days', 'Rule', 'Amount', 'Metrics', 'Detected', 'Closed', 'Last']) {
      expect(text, word).not.toMatch(new RegExp(`\\b${word}\\b`));
    }
  });

  it('says "—" for an auto-apply rate there is none of yet', async () => {
    await i18n.changeLanguage('pt-BR');
    m.divergenceMetrics.mockResolvedValue(divergenceMetrics({ auto_apply_rate: null }));
    renderPage(['metrics']);
    expect(await screen.findByTestId('metrics-auto-rate-value')).toHaveTextContent('—');
    expect(screen.getByTestId('metrics-auto-rate')).toHaveTextContent('Nenhuma correção aplicada ainda.');
  });

  it('shows the core’s refusal, and an empty state when there is nothing to measure', async () => {
    m.divergenceMetrics.mockRejectedValueOnce({ code: 'internal', message: 'database is locked', params: {}, details: null });
    const first = renderPage(['metrics']);
    expect(await screen.findByTestId('divergences-metrics-error')).toBeInTheDocument();
    expect(screen.queryByTestId('metrics-rule-row')).toBeNull();
    first.unmount();
    m.divergenceMetrics.mockResolvedValue(
      divergenceMetrics({ rules: [], open: 0, amount_open: '0', auto_apply_rate: null, days: divergenceMetrics().days.map((d) => ({ ...d, detected: 0, ended: 0 })) }),
    );
    renderPage(['metrics']);
    expect(await screen.findByTestId('divergences-metrics-empty')).toHaveTextContent('Nothing to measure yet');
    expect(screen.queryByTestId('metrics-chart')).toBeNull();
  });

  it('reads the figures again when a divergence job ends', async () => {
    m.divergenceMetrics.mockResolvedValue(metrics());
    renderPage(['metrics']);
    await screen.findAllByTestId('metrics-rule-row');
    expect(m.divergenceMetrics).toHaveBeenCalledTimes(1);
    m.divergenceMetrics.mockResolvedValue(divergenceMetrics({ open: 9 }));
    const j = job({ id: 'j9', kind: 'divergences', status: 'running', progress: 0.5 });
    act(() => emit({ job: j, log: null }));
    act(() => emit({ job: { ...j, status: 'succeeded', progress: 1, counts: { new: 5 }, finished_at: '2025-03-05T10:00:00Z' }, log: null }));
    await waitFor(() => expect(screen.getByTestId('metrics-open-value')).toHaveTextContent('9'));
    expect(m.divergenceMetrics).toHaveBeenCalledTimes(2);
  });

  it('words durations and rates per language', async () => {
    expect(hoursText(i18n, 3)).toBe('3 h');
    expect(hoursText(i18n, 52.2)).toBe('2 d 4 h');
    expect(hoursText(i18n, 48)).toBe('2 d');
    expect(hoursText(i18n, 0.2)).toBe('< 1 h');
    expect(hoursText(i18n, null)).toBe('—');
    expect(rateText(null, 'pt-BR')).toBe('—');
    expect(rateText(0.75, 'en')).toBe('75%');
    await i18n.changeLanguage('es');
    expect(hoursText(i18n, 1000)).toBe('41 d 16 h');
  });
});

describe('Divergences: model', () => {
  it('reads the filter form in the user’s language', () => {
    const r = buildFilter(defaultFilterValues({ minAmount: '1.234,5', minConfidence: '70', from: '2025-03-01', to: '2025-02-01' }), 'pt-BR');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual({ to: 'divergences.filters.periodReversed' });
    const ok = buildFilter(defaultFilterValues({ minAmount: '1.234,5', minConfidence: '70', search: '  Alfa ' }), 'pt-BR');
    expect(ok.ok && ok.filter).toMatchObject({ min_amount: '1234.5', min_confidence: 70, search: 'Alfa', statuses: ['open', 'approved', 'failed'] });
  });

  it('formats exact amounts without losing a digit', () => {
    expect(formatAmount('1234.5', 'pt-BR')).toMatch(/^R\$\s1\.234,50$/);
    expect(formatAmount('12345678901234567.891', 'pt-BR')).toMatch(/^R\$\s12\.345\.678\.901\.234\.567,891$/);
    expect(formatAmount('-0.1', 'en')).toBe('-R$0.10');
    expect(formatAmount(null, 'en')).toBe('—');
  });
});
