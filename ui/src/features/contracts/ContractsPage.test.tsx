import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import { App } from '../../App';
import i18n from '../../i18n';
import { appInfo, connection, divergenceDetail, divergenceEvent, divergencePage } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import * as div from '../divergences/api';
import { DivergenceDetailPanel } from '../divergences/Detail';
import { explain } from '../divergences/model';
import * as ct from './api';
import { ContractsPage, parseContractsPath } from './ContractsPage';
import { currentMonth, describeContractError, documentText, explanationText, monthLabel, parsePeopleAmount, problemText } from './model';
import {
  billingDivergence,
  billingSettings,
  clientMonth,
  contract,
  importPreview,
  importRow,
  monthFigures,
  reconciliation,
  threeMore,
} from './testData';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
vi.mock('./api', () => ({
  contracts: vi.fn(),
  saveContract: vi.fn(),
  deleteContract: vi.fn(),
  contractHistory: vi.fn(),
  previewContractsImport: vi.fn(),
  importContracts: vi.fn(),
  billingSettings: vi.fn(),
  saveBillingSettings: vi.fn(),
  reconcileBilling: vi.fn(),
  billingStrip: vi.fn(),
  exportReconciliation: vi.fn(),
}));
vi.mock('../divergences/api', () => ({
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

const core = vi.mocked(api);
const m = vi.mocked(ct);
const dv = vi.mocked(div);

const below = clientMonth();
const rows = [below, ...threeMore()];

beforeEach(() => {
  resetApiMocks(core);
  core.listConnections.mockResolvedValue([connection({ id: 'o1', name: 'Omie SP', kind: 'omie' })]);
  m.reconcileBilling.mockResolvedValue(reconciliation(rows));
  m.billingStrip.mockResolvedValue(monthFigures());
  m.contracts.mockResolvedValue([contract()]);
  m.billingSettings.mockResolvedValue(billingSettings());
  dv.divergences.mockResolvedValue(divergencePage([]));
});

const renderPage = (path: string[] = ['reconciliation', '2026-11']) => render(<ContractsPage path={path} />);

describe('Contracts: navigation', () => {
  it('is in the Checks group next to Divergences, and opens on its sub-routes', async () => {
    await i18n.changeLanguage('pt-BR');
    window.location.hash = '#/contracts/settings';
    render(<App initialInfo={appInfo({ locale: 'pt-BR' })} />);
    const link = screen.getByTestId('nav-contracts');
    expect(link).toHaveTextContent('Contratos');
    expect(link).toHaveAttribute('href', '#/contracts');
    expect(link).toHaveAttribute('aria-current', 'page');
    expect(link.closest('ul')).toContainElement(screen.getByTestId('nav-divergences'));
    expect(await screen.findByTestId('page-contracts')).toHaveAttribute('data-tab', 'settings');
    expect(screen.getByTestId('contracts-tab-settings')).toHaveTextContent('Regras de faturamento');
    expect(await screen.findByTestId('billing-settings')).toBeInTheDocument();
  });
});

describe('Contracts: reconciliation', () => {
  it('shows each client-month with its verdict badge and money in pt-BR', async () => {
    await i18n.changeLanguage('pt-BR');
    renderPage();
    const table = await screen.findAllByTestId('billing-row');
    expect(table).toHaveLength(4);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Contratos e faturamento');
    expect(m.reconcileBilling).toHaveBeenCalledWith({ month: '2026-11', connection_id: 'o1', client: null, verdicts: [] });
    expect(screen.getByTestId('billing-month')).toHaveValue('2026-11');
    expect(screen.getByTestId('billing-month')).toHaveDisplayValue('novembro de 2026');
    expect(screen.getByTestId('billing-company-name')).toHaveTextContent('Omie SP');

    const row = table[0]!;
    expect(row).toHaveAttribute('data-client', '1001');
    expect(row).toHaveAttribute('data-verdict', 'below');
    expect(row).toHaveTextContent('Acme Serviços Ltda');
    expect(row).toHaveTextContent('11.222.333/0001-81');
    expect(row).toHaveTextContent('R$ 5.000,00');
    expect(row).toHaveTextContent('R$ 3.765,44');
    expect(row).toHaveTextContent('-R$ 1.234,56');
    expect(within(row).getByTestId('billing-difference')).toHaveClass('billing-negative');
    expect(within(row).getByTestId('verdict-badge')).toHaveTextContent('Abaixo do contrato');
    expect(table[1]).toHaveTextContent('123.456.789-09');
    expect(within(table[1]!).getByTestId('verdict-badge')).toHaveTextContent('Dentro da tolerância');
    expect(within(table[2]!).getByTestId('verdict-badge')).toHaveTextContent('Acima do contrato');
    expect(within(table[3]!).getByTestId('verdict-badge')).toHaveTextContent('Sem contrato');

    expect(screen.getByTestId('billing-totals')).toHaveTextContent('4 clientes · R$ 12.000,00 contratado · R$ 10.765,44 faturado');
    expect(screen.getByTestId('billing-data-as-of')).toHaveAttribute('data-state', 'fresh');
    expect(screen.getByTestId('billing-data-as-of')).toHaveTextContent('Dados de faturamento de 20/11/2026');
  });

  it('filters by verdict with the chips, walks the months and exports what is shown', async () => {
    m.exportReconciliation.mockResolvedValue('/home/ana/Downloads/conciliacao-2026-11.xlsx');
    const user = userEvent.setup();
    renderPage();
    await screen.findAllByTestId('billing-row');
    const chips = screen.getAllByTestId('billing-verdict-chip');
    expect(chips.map((c) => c.getAttribute('data-verdict'))).toEqual(['below', 'above', 'no_contract', 'within']);
    await user.click(chips[0]!);
    expect(screen.getAllByTestId('billing-row')).toHaveLength(1);
    await user.click(screen.getByTestId('billing-export-xlsx'));
    expect(m.exportReconciliation).toHaveBeenCalledWith({ month: '2026-11', connection_id: 'o1', client: null, verdicts: ['below'] }, 'xlsx');
    expect(await screen.findByTestId('billing-exported')).toHaveTextContent('/home/ana/Downloads/conciliacao-2026-11.xlsx');
    await user.click(screen.getByTestId('billing-verdict-all'));
    expect(screen.getAllByTestId('billing-row')).toHaveLength(4);

    await user.click(screen.getByTestId('billing-month-prev'));
    await waitFor(() => expect(m.reconcileBilling).toHaveBeenLastCalledWith(expect.objectContaining({ month: '2026-10' })));
    await user.click(screen.getByTestId('billing-month-next'));
    await user.click(screen.getByTestId('billing-month-next'));
    await waitFor(() => expect(m.reconcileBilling).toHaveBeenLastCalledWith(expect.objectContaining({ month: '2026-12' })));
    await user.click(screen.getByTestId('billing-export-csv'));
    expect(m.exportReconciliation).toHaveBeenLastCalledWith(expect.objectContaining({ month: '2026-12' }), 'csv');
  });

  it('opens on the current month, and asks for a company when there are several', async () => {
    core.listConnections.mockResolvedValue([
      connection({ id: 'o1', name: 'Omie SP', kind: 'omie' }),
      connection({ id: 'e1', name: 'ERPNext', kind: 'erpnext' }),
      connection({ id: 'c1', name: 'Contífico Quito', kind: 'contifico' }),
    ]);
    const user = userEvent.setup();
    renderPage([]);
    await screen.findAllByTestId('billing-row');
    expect(m.reconcileBilling).toHaveBeenCalledWith({ month: currentMonth(), connection_id: 'o1', client: null, verdicts: [] });
    const picker = screen.getByTestId('billing-company');
    expect(within(picker).getAllByRole('option').map((o) => o.textContent)).toEqual(['Omie SP', 'Contífico Quito']);
    await user.selectOptions(picker, 'c1');
    await waitFor(() => expect(m.reconcileBilling).toHaveBeenLastCalledWith(expect.objectContaining({ connection_id: 'c1' })));
  });

  it('opens on the company that has a contract book when another comes first', async () => {
    core.listConnections.mockResolvedValue([
      connection({ id: 'c1', name: 'Contífico Quito', kind: 'contifico' }),
      connection({ id: 'o1', name: 'Omie SP', kind: 'omie' }),
    ]);
    m.contracts.mockResolvedValue([contract()]);
    renderPage([]);
    await screen.findAllByTestId('billing-row');
    expect(m.contracts).toHaveBeenCalledWith(null);
    expect(m.reconcileBilling).toHaveBeenCalledWith(expect.objectContaining({ connection_id: 'o1' }));
    expect(m.reconcileBilling).not.toHaveBeenCalledWith(expect.objectContaining({ connection_id: 'c1' }));
  });

  it('warns when the billing data is old, never synced or its last sync failed', async () => {
    await i18n.changeLanguage('pt-BR');
    m.reconcileBilling.mockResolvedValue(reconciliation(rows, { stale: true }));
    const { unmount } = renderPage();
    const banner = await screen.findByTestId('billing-data-as-of');
    expect(banner).toHaveAttribute('data-state', 'stale');
    expect(banner).toHaveTextContent('mais de um dia atrás. Sincronize a empresa primeiro.');
    expect(screen.getByTestId('billing-open-erp')).toHaveAttribute('href', '#/omie');
    unmount();
    m.reconcileBilling.mockResolvedValue(reconciliation(rows, { data_as_of: null, stale: true }));
    const second = renderPage();
    expect(await screen.findByTestId('billing-data-as-of')).toHaveAttribute('data-state', 'never');
    second.unmount();
    m.reconcileBilling.mockResolvedValue(reconciliation(rows, { last_sync_failed: true }));
    renderPage();
    expect(await screen.findByTestId('billing-data-as-of')).toHaveTextContent('A última sincronização desta empresa falhou');
  });

  it('opens a client-month: the 12-month strip, its contracts, its titles and the explanations', async () => {
    await i18n.changeLanguage('pt-BR');
    const prorated = clientMonth({
      contracts: [
        { contract_id: 'k1', description: 'Suporte mensal', mrr: '5000.00', amount: '2666.67', days: 16, days_in_month: 30, readjustments: 2, prorated: true, suspended: false },
      ],
    });
    m.reconcileBilling.mockResolvedValue(reconciliation([prorated, ...threeMore()]));
    const user = userEvent.setup();
    renderPage();
    await user.click((await screen.findAllByTestId('billing-row'))[0]!);
    const panel = await screen.findByTestId('billing-detail');
    expect(screen.getByTestId('page-contracts')).toHaveClass('with-detail');
    expect(m.billingStrip).toHaveBeenCalledWith('o1', '1001', '2026-11', 12);
    expect(await within(panel).findAllByTestId('billing-strip-month')).toHaveLength(12);
    expect(within(panel).getAllByTestId('billing-strip-mark')).toHaveLength(1);
    expect(within(panel).getByTestId('billing-strip-svg')).toHaveAttribute('aria-label', 'De dezembro de 2025 a novembro de 2026: 1 mês fora da tolerância.');
    expect(within(panel).getByTestId('billing-strip-list')).toHaveTextContent(
      'novembro de 2026: contratado R$ 5.000,00, faturado R$ 3.765,44 — Abaixo do contrato',
    );

    const line = within(panel).getByTestId('billing-contract-line');
    expect(line).toHaveTextContent('Suporte mensal');
    expect(line).toHaveTextContent('R$ 2.666,67');
    expect(line).toHaveTextContent('Mensal R$ 5.000,00');
    expect(line).toHaveTextContent('proporcional: 16 de 30 dias');
    expect(line).toHaveTextContent('2 reajustes aplicados');

    const titles = within(panel).getAllByTestId('billing-title');
    expect(titles.map((r) => r.getAttribute('data-counted'))).toEqual(['counted', 'cancelled']);
    expect(titles[1]!.querySelectorAll('del')).toHaveLength(2);
    expect(titles[1]).toHaveTextContent('Cancelado');

    expect(within(panel).getByTestId('billing-explanation')).toHaveTextContent(
      '1 título deste mês foi cancelado, no valor de R$ 1.234,56. Se contassem, fechariam a diferença com o contrato.',
    );
    // No open divergence for this month: nothing to accept.
    expect(within(panel).queryByTestId('accept-explanation')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('billing-detail-close'));
    expect(screen.queryByTestId('billing-detail')).not.toBeInTheDocument();
  });

  it('accepts an explanation of the open divergence with a written reason', async () => {
    await i18n.changeLanguage('pt-BR');
    const open = billingDivergence();
    dv.divergences.mockResolvedValue(divergencePage([open]));
    dv.decideDivergences.mockResolvedValue({ changed: ['bd1'], skipped: {} });
    const user = userEvent.setup();
    renderPage();
    await user.click((await screen.findAllByTestId('billing-row'))[0]!);
    const panel = await screen.findByTestId('billing-detail');
    expect(dv.divergences).toHaveBeenCalledWith(
      expect.objectContaining({ rule_ids: ['billing_vs_contract'], connection_id: 'o1', search: '1001|2026-11' }),
    );
    await user.click(await within(panel).findByTestId('accept-explanation'));
    const dialog = screen.getByTestId('accept-explanation-dialog');
    expect(dialog).toHaveTextContent('A divergência de Acme Serviços Ltda em novembro de 2026 é encerrada como explicada.');
    await user.click(within(dialog).getByTestId('accept-explanation-confirm'));
    expect(screen.getByTestId('accept-error-reason')).toHaveTextContent('Escreva por que esta explicação é aceita.');
    expect(dv.decideDivergences).not.toHaveBeenCalled();

    // Once accepted the divergence is closed, its history names the explanation.
    dv.divergences.mockResolvedValue(divergencePage([billingDivergence({ status: 'rejected' })]));
    dv.divergence.mockResolvedValue(
      divergenceDetail(billingDivergence({ status: 'rejected' }), {
        events: [divergenceEvent({ action: 'explanation_accepted', note: 'cancelled_title: NF-102 reemitida em dezembro' })],
      }),
    );
    const calls = m.reconcileBilling.mock.calls.length;
    await user.type(screen.getByTestId('accept-reason'), 'NF-102 reemitida em dezembro');
    await user.click(within(dialog).getByTestId('accept-explanation-confirm'));
    expect(dv.decideDivergences).toHaveBeenCalledWith({
      ids: ['bd1'],
      action: 'accept_explanation',
      reason: 'NF-102 reemitida em dezembro',
      assignee: null,
      explanation: 'cancelled_title',
    });
    expect(await within(panel).findByTestId('explanation-accepted')).toHaveTextContent('Explicação aceita');
    expect(screen.queryByTestId('accept-explanation-dialog')).not.toBeInTheDocument();
    await waitFor(() => expect(m.reconcileBilling.mock.calls.length).toBeGreaterThan(calls));
    expect(await within(screen.getByTestId('billing-detail')).findByTestId('billing-divergence-closed')).toBeInTheDocument();
    expect(within(screen.getByTestId('billing-detail')).getByTestId('billing-open-divergence')).toHaveAttribute('href', '#/divergences/inbox/billing_vs_contract');
  });
});

describe('Contracts: explanations and problems in words', () => {
  it('interpolates money in the row’s currency and months by name', async () => {
    await i18n.changeLanguage('pt-BR');
    expect(explanationText(i18n, { key: 'neighbour_month', params: { month: '2026-10', amount: '1234.5' } }, 'BRL')).toBe(
      'Outubro de 2026 mostra a diferença oposta, R$\u00a01.234,50: pode ter sido faturado no mês errado.',
    );
    expect(explanationText(i18n, { key: 'one_off', params: { amount: '99.9' } }, 'USD')).toBe(
      'Um título de US$\u00a099,90 pode ser uma cobrança avulsa além do contrato.',
    );
    expect(explanationText(i18n, { key: 'prorated', params: { days: '16', days_in_month: '30' } }, 'BRL')).toBe(
      'O contrato cobre só parte deste mês: proporcional, 16 de 30 dias.',
    );
    expect(explanationText(i18n, { key: 'cancelled_title', params: { count: '2', amount: '10', closes: 'false' } }, 'BRL')).toBe(
      '2 títulos deste mês foram cancelados, no valor de R$\u00a010,00. Mesmo contando, não fechariam toda a diferença.',
    );
    expect(explanationText(i18n, { key: 'brand_new', params: {} }, 'BRL')).toBe('Outro motivo provável (brand_new).');
    await i18n.changeLanguage('es');
    expect(explanationText(i18n, { key: 'group_document', params: { client: 'ACME FILIAL', amount: '1234.56' } }, 'USD')).toContain('$1.234,56');
    await i18n.changeLanguage('en');
    expect(explanationText(i18n, { key: 'readjustment_not_billed', params: { amount: '400' } }, 'BRL')).toBe(
      'This month’s readjustment (R$400.00) seems not to have been billed yet.',
    );
  });

  it('words problems, documents, months, amounts and refusals', async () => {
    await i18n.changeLanguage('pt-BR');
    expect(problemText(i18n, { field: 'client', key: 'client_unknown', params: { client: '999', company: 'Omie SP' }, message: 'x' })).toBe(
      'Nenhum cliente de Omie SP tem o documento ou código “999”. Sincronize os clientes da empresa primeiro ou confira o número.',
    );
    expect(problemText(i18n, { field: 'x', key: 'not_a_key', params: {}, message: 'the English message' })).toBe('the English message');
    expect(documentText('11222333000181')).toBe('11.222.333/0001-81');
    expect(documentText('12345678909')).toBe('123.456.789-09');
    expect(documentText('1790012345001')).toBe('1790012345001');
    expect(monthLabel('2026-11', 'pt-BR')).toBe('novembro de 2026');
    expect(monthLabel('2026-11', 'es')).toBe('noviembre de 2026');
    expect(parsePeopleAmount('R$ 1.234,56')).toBe('1234.56');
    expect(parsePeopleAmount('$1,234.56')).toBe('1234.56');
    expect(parsePeopleAmount('abc')).toBeNull();
    const refusal = describeContractError(i18n, {
      code: 'invalid_input',
      message: 'x',
      params: { field: 'client', reason: 'no client of Omie SP has the document or code "999". Sync the company\'s clients first, or check the number.' },
      details: null,
    });
    expect(refusal.text).toBe('Nenhum cliente de Omie SP tem o documento ou código “999”. Sincronize os clientes da empresa primeiro ou confira o número.');
    expect(refusal.error.params.field).toBe('Cliente');
    expect(refusal.error.details).toContain('no client of Omie SP');
    // A refused save carries its problems by key: no English text is read, dates come out local.
    const byKey = describeContractError(i18n, {
      code: 'invalid_input',
      message: 'x',
      params: {
        field: 'description',
        reason: 'English the window never shows',
        problems: JSON.stringify([
          { field: 'description', key: 'duplicate_contract', params: { client: 'Acme', description: 'Suporte', start: '2025-03-01' }, message: 'en' },
          { field: 'mrr', key: 'mrr_negative', params: { value: '-5' }, message: 'en' },
        ]),
      },
      details: null,
    });
    expect(byKey.text).toBe('Acme já tem um contrato “Suporte” com início em 01/03/2025: abra-o para alterá-lo. O valor mensal -5 é negativo.');
    expect(byKey.error.params.field).toBe('Descrição');
    expect(parseContractsPath(['reconciliation', '2026-11', '1001'])).toEqual({ tab: 'reconciliation', month: '2026-11', client: '1001' });
    expect(parseContractsPath(['settings'])).toEqual({ tab: 'settings', month: null, client: null });
  });
});

describe('Contracts: the contract book', () => {
  it('lists the contracts with money, dates, status and readjustment in pt-BR', async () => {
    await i18n.changeLanguage('pt-BR');
    m.contracts.mockResolvedValue([contract(), contract({ id: 'k2', description: 'Hospedagem', status: 'suspended', end_date: '2026-12-31', readjust_index: null, readjust_month: null, readjust_percent: null })]);
    renderPage(['contracts']);
    const rowsShown = await screen.findAllByTestId('contract-row');
    expect(m.contracts).toHaveBeenCalledWith('o1');
    expect(rowsShown[0]).toHaveTextContent('Acme Serviços Ltda');
    expect(rowsShown[0]).toHaveTextContent('R$ 5.000,00');
    expect(rowsShown[0]).toHaveTextContent('01/03/2025');
    expect(rowsShown[0]).toHaveTextContent('Sem fim');
    expect(rowsShown[0]).toHaveTextContent('IGP-M 8% em março');
    expect(rowsShown[0]).toHaveTextContent('Ativo');
    expect(rowsShown[1]).toHaveTextContent('Suspenso');
    expect(rowsShown[1]).toHaveTextContent('31/12/2026');
  });

  it('checks the form first, then shows the core’s refusal in the error summary', async () => {
    await i18n.changeLanguage('pt-BR');
    m.saveContract.mockRejectedValueOnce({
      code: 'invalid_input',
      message: 'x',
      params: { field: 'client', reason: 'no client of Omie SP has the document or code "999". Sync the company\'s clients first, or check the number.' },
      details: null,
    });
    m.saveContract.mockResolvedValueOnce(contract({ id: 'k9', description: 'Consultoria' }));
    const user = userEvent.setup();
    renderPage(['contracts']);
    await screen.findAllByTestId('contract-row');
    await user.click(screen.getByTestId('contracts-new'));
    const form = screen.getByTestId('contract-form');
    expect(within(form).getByTestId('contract-currency')).toHaveValue('BRL');
    await user.click(within(form).getByTestId('contract-save'));
    expect(within(form).getByTestId('form-error')).toHaveTextContent('Informe o CNPJ/CPF, RUC ou código do cliente.');
    expect(within(form).getByTestId('form-error')).toHaveTextContent('Informe o valor mensal.');
    expect(m.saveContract).not.toHaveBeenCalled();

    await user.type(within(form).getByTestId('contract-client'), '999');
    await user.type(within(form).getByTestId('contract-description'), 'Consultoria');
    await user.type(within(form).getByTestId('contract-mrr'), '1.234,56');
    await user.type(within(form).getByTestId('contract-start'), '01/03/2026');
    await user.selectOptions(within(form).getByTestId('contract-readjust-month'), '3');
    await user.type(within(form).getByTestId('contract-readjust-percent'), '4,5');
    await user.click(within(form).getByTestId('contract-save'));
    expect(m.saveContract).toHaveBeenCalledWith(
      expect.objectContaining({
        id: null,
        connection_id: 'o1',
        client: '999',
        description: 'Consultoria',
        mrr: '1234.56',
        start_date: '2026-03-01',
        end_date: null,
        status: 'active',
        readjust_month: '3',
        readjust_percent: '4.5',
      }),
    );
    expect(await within(form).findByTestId('form-error')).toHaveTextContent(
      'Confira o campo “Cliente”: Nenhum cliente de Omie SP tem o documento ou código “999”.',
    );
    await user.click(within(form).getByTestId('contract-save'));
    expect(await screen.findByTestId('contracts-done')).toHaveTextContent('Contrato “Consultoria” salvo.');
  });

  it('asks for a reason to delete, and shows the history', async () => {
    m.deleteContract.mockResolvedValue(null);
    m.contractHistory.mockResolvedValue([
      { version: 2, changed_at: '2026-01-10T12:00:00Z', who: 'ana', machine: 'pc-01', reason: 'reajuste de março', deleted: false },
    ]);
    const user = userEvent.setup();
    renderPage(['contracts']);
    const row = (await screen.findAllByTestId('contract-row'))[0]!;
    await user.click(within(row).getByTestId('contract-history-open'));
    expect(await screen.findByTestId('contract-change')).toHaveTextContent('reajuste de março');
    await user.click(within(screen.getByTestId('contract-history-dialog')).getByText('Close', { selector: 'button.btn' }));
    await user.click(within(row).getByTestId('contract-delete'));
    await user.click(screen.getByTestId('contract-delete-confirm'));
    expect(screen.getByTestId('contract-delete-error-reason')).toHaveTextContent('Write why the contract is deleted.');
    await user.type(screen.getByTestId('contract-delete-reason'), 'encerrado pelo cliente');
    await user.click(screen.getByTestId('contract-delete-confirm'));
    expect(m.deleteContract).toHaveBeenCalledWith('k1', 'encerrado pelo cliente');
  });
});

describe('Contracts: spreadsheet import', () => {
  const refused = importRow({
    line: 3,
    action: 'refuse',
    client: '11222333000182',
    client_name: '',
    description: 'Hospedagem',
    mrr: 'abc',
    problems: [
      { field: 'client', key: 'client_document_invalid', params: { client: '11222333000182' }, message: 'not a valid CNPJ' },
      { field: 'mrr', key: 'mrr_invalid', params: { value: 'abc' }, message: 'not an amount' },
      { field: 'notes', key: 'something_new', params: {}, message: 'a problem this window has no words for' },
    ],
  });
  const preview = importPreview([
    importRow(),
    importRow({ line: 4, action: 'update', contract_id: 'k1', changes: ['mrr', 'billing_day'] }),
    importRow({ line: 5, action: 'unchanged' }),
    refused,
  ]);

  it('previews the file row by row, translates the problems and imports the valid rows only when told', async () => {
    await i18n.changeLanguage('pt-BR');
    m.previewContractsImport.mockResolvedValue(preview);
    m.importContracts.mockResolvedValue({ ...preview, applied: true });
    const user = userEvent.setup();
    renderPage(['contracts']);
    await screen.findAllByTestId('contract-row');
    await user.click(screen.getByTestId('contracts-import'));
    const file = new File(['cliente;descricao\n1;2\n'], 'contratos.csv', { type: 'text/csv' });
    const input = screen.getByTestId('contracts-import-file');
    expect(input).toHaveAttribute('accept', '.csv,.xlsx,.xls,.ods');
    await user.upload(input, file);

    const lines = await screen.findAllByTestId('import-row');
    const sent = m.previewContractsImport.mock.calls[0]!;
    expect(sent[0]).toBe('contratos.csv');
    expect(sent[1]).toEqual(Array.from(new TextEncoder().encode('cliente;descricao\n1;2\n')));
    expect(sent[2]).toBe('o1');
    expect(lines.map((l) => l.getAttribute('data-action'))).toEqual(['create', 'update', 'unchanged', 'refuse']);
    expect(lines[0]).toHaveTextContent('criar');
    expect(lines[0]).toHaveTextContent('11.222.333/0001-81');
    expect(lines[0]).toHaveTextContent('R$ 5.000,00');
    expect(lines[1]).toHaveTextContent('Muda: Valor mensal, Dia de faturamento.');
    expect(lines[2]).toHaveTextContent('sem mudança');
    const problems = within(lines[3]!).getAllByTestId('import-problem');
    expect(problems.map((p) => p.textContent)).toEqual([
      '“11222333000182” não é um CNPJ ou CPF válido: os dígitos verificadores não conferem.',
      '“abc” não é um valor (escreva como 1.234,56 ou 1234.56).',
      'a problem this window has no words for',
    ]);
    expect(lines[3]).toHaveTextContent('recusada');
    expect(screen.getByTestId('import-summary')).toHaveTextContent('1 a criar1 a atualizar1 sem mudança1 recusada');
    expect(screen.getByTestId('import-ignored')).toHaveTextContent('Colunas ignoradas: Vendedor.');
    expect(screen.getByTestId('import-note')).toHaveTextContent('Nada é importado pela metade');

    const apply = screen.getByTestId('contracts-import-apply');
    expect(apply).toHaveTextContent('Importar os 2 válidos e ignorar 1 recusado');
    expect(apply).toBeEnabled();
    await user.click(apply);
    expect(m.importContracts).toHaveBeenCalledWith('contratos.csv', sent[1], 'o1', true);
    expect(await screen.findByTestId('contracts-import-result')).toHaveTextContent('Importado de contratos.csv: 1 criados, 1 atualizados. 1 linha recusada ficou de fora.');
    await waitFor(() => expect(m.contracts).toHaveBeenCalledTimes(2));
  });

  it('says "Importar N contratos" without refused rows, and has nothing to import when nothing changes', async () => {
    await i18n.changeLanguage('pt-BR');
    m.previewContractsImport.mockResolvedValueOnce(importPreview([importRow(), importRow({ line: 3 })]));
    m.previewContractsImport.mockResolvedValueOnce(importPreview([importRow({ action: 'unchanged' })]));
    const user = userEvent.setup();
    renderPage(['contracts']);
    await screen.findAllByTestId('contract-row');
    await user.click(screen.getByTestId('contracts-import'));
    await user.upload(screen.getByTestId('contracts-import-file'), new File(['a'], 'c.xlsx'));
    expect(await screen.findByTestId('contracts-import-apply')).toHaveTextContent('Importar 2 contratos');
    await user.upload(screen.getByTestId('contracts-import-file'), new File(['b'], 'd.xlsx'));
    await waitFor(() => expect(screen.getByTestId('contracts-import-apply')).toBeDisabled());
    expect(screen.getByTestId('import-note')).toHaveTextContent('Nada a importar');
  });

  it('words a file the core cannot read', async () => {
    await i18n.changeLanguage('pt-BR');
    m.previewContractsImport.mockRejectedValue({
      code: 'invalid_input',
      message: 'x',
      params: { field: 'file', reason: 'the file has no column for mrr (a column named e.g. mrr, valor_mensal, valor, monto). The first row must name the columns.' },
      details: null,
    });
    const user = userEvent.setup();
    renderPage(['contracts']);
    await screen.findAllByTestId('contract-row');
    await user.click(screen.getByTestId('contracts-import'));
    await user.upload(screen.getByTestId('contracts-import-file'), new File(['a'], 'c.csv'));
    expect(await screen.findByTestId('contracts-import-error')).toHaveTextContent(
      'O arquivo não tem coluna para: Valor mensal (mrr, valor_mensal, valor, monto). A primeira linha precisa nomear as colunas.',
    );
  });
});

describe('Contracts: billing rules', () => {
  it('saves the date basis, statuses, tolerance and months', async () => {
    await i18n.changeLanguage('pt-BR');
    m.saveBillingSettings.mockImplementation(async (s) => s);
    const user = userEvent.setup();
    renderPage(['settings']);
    const basis = await screen.findByTestId('billing-settings-basis');
    expect(within(basis).getAllByRole('option').map((o) => o.textContent)).toEqual(['Data de emissão', 'Vencimento', 'Data de registro']);
    await user.selectOptions(basis, 'due');
    await user.type(screen.getByTestId('billing-settings-status-input'), 'recebido{Enter}');
    await user.clear(screen.getByTestId('billing-settings-tolerance-amount'));
    await user.type(screen.getByTestId('billing-settings-tolerance-amount'), '100,50');
    await user.clear(screen.getByTestId('billing-settings-months'));
    await user.type(screen.getByTestId('billing-settings-months'), '6');
    await user.click(screen.getByTestId('billing-settings-save'));
    expect(m.saveBillingSettings).toHaveBeenCalledWith({ date_basis: 'due', statuses: ['RECEBIDO'], tolerance_amount: '100.50', tolerance_percent: '5', months_back: 6 });
    expect(await screen.findByTestId('billing-settings-saved')).toHaveTextContent('Regras de faturamento salvas.');
  });
});

describe('Divergences of the rule "billing vs contract"', () => {
  it('reads well in the divergence detail and accepts an explanation there too', async () => {
    await i18n.changeLanguage('pt-BR');
    const d = billingDivergence();
    expect(explain(i18n, d)).toBe(
      'Em novembro de 2026, Acme Serviços Ltda foi faturado em R$\u00a03.765,44 para R$\u00a05.000,00 contratados: abaixo do contrato (diferença -R$\u00a01.234,56, tolerância R$\u00a0250,00).',
    );
    dv.divergence.mockResolvedValue(
      divergenceDetail(d, { events: [divergenceEvent({ action: 'explanation_accepted', note: 'neighbour_month: faturado em outubro' })] }),
    );
    dv.decideDivergences.mockResolvedValue({ changed: ['bd1'], skipped: {} });
    const onChanged = vi.fn();
    const user = userEvent.setup();
    render(<DivergenceDetailPanel id="bd1" refreshKey={0} applyJob={null} onClose={() => {}} onChanged={onChanged} onJob={() => {}} />);
    const panel = await screen.findByTestId('divergence-detail');
    expect(within(panel).getByTestId('divergence-explanation')).toHaveTextContent('abaixo do contrato');
    expect(panel).toHaveTextContent('Faturamento vs contrato');
    const found = within(panel).getAllByTestId('divergence-probable-explanation');
    expect(found[1]).toHaveTextContent('Outubro de 2026 mostra a diferença oposta, R$ 1.234,56');
    expect(within(panel).getByTestId('divergence-open-billing')).toHaveAttribute('href', '#/contracts/reconciliation/2026-11/1001');
    const event = within(panel).getByTestId('divergence-event');
    expect(event).toHaveTextContent('Explicação aceita');
    expect(event).toHaveTextContent('Faturado em outro mês — faturado em outubro');

    await user.click(within(found[1]!).getByTestId('accept-explanation'));
    await user.type(screen.getByTestId('accept-reason'), 'faturado em outubro');
    await user.click(screen.getByTestId('accept-explanation-confirm'));
    expect(dv.decideDivergences).toHaveBeenCalledWith({ ids: ['bd1'], action: 'accept_explanation', reason: 'faturado em outubro', assignee: null, explanation: 'neighbour_month' });
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
  });
});
