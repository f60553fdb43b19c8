// The window runs with Tauri's `"freezePrototype": true`: Object.prototype is frozen before any of
// our code runs. Here it is frozen as in the app before the Contracts page, its table, its 12-month
// chart, its dialogs and its import preview are loaded and used (Vitest runs each test file in its
// own context).
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

Object.freeze(Object.prototype);

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

async function setUp() {
  expect(Object.isFrozen(Object.prototype)).toBe(true);
  const { default: i18n } = await import('../../i18n');
  const core = vi.mocked(await import('../../api'));
  const m = vi.mocked(await import('./api'));
  const dv = vi.mocked(await import('../divergences/api'));
  const f = await import('../../test/fixtures');
  const d = await import('./testData');
  const { ContractsPage } = await import('./ContractsPage');
  await i18n.changeLanguage('pt-BR');
  core.onJobEvent.mockResolvedValue(() => {});
  core.listConnections.mockResolvedValue([f.connection({ id: 'o1', name: 'Omie SP', kind: 'omie' })]);
  m.reconcileBilling.mockResolvedValue(d.reconciliation([d.clientMonth(), ...d.threeMore()]));
  m.billingStrip.mockResolvedValue(d.monthFigures());
  m.contracts.mockResolvedValue([d.contract()]);
  m.billingSettings.mockResolvedValue(d.billingSettings());
  dv.divergences.mockResolvedValue(f.divergencePage([d.billingDivergence()]));
  return { m, d, ContractsPage };
}

describe('Contracts with a frozen Object.prototype (Tauri freezePrototype)', () => {
  it('reconciles, filters, opens a client-month with its chart and asks for a reason to accept', async () => {
    const { ContractsPage } = await setUp();
    const user = userEvent.setup();
    render(<ContractsPage path={['reconciliation', '2026-11']} />);
    const rows = await screen.findAllByTestId('billing-row');
    expect(rows[0]).toHaveTextContent('R$ 5.000,00');
    expect(within(rows[0]!).getByTestId('verdict-badge')).toHaveTextContent('Abaixo do contrato');
    await user.click(screen.getAllByTestId('billing-verdict-chip')[0]!);
    await user.click(screen.getAllByTestId('billing-row')[0]!);
    const panel = await screen.findByTestId('billing-detail');
    expect(await within(panel).findAllByTestId('billing-strip-month')).toHaveLength(12);
    within(panel).getByTestId('billing-strip-svg').focus();
    await user.keyboard('{Home}');
    expect(within(panel).getByTestId('billing-strip-tip')).toHaveTextContent('dezembro de 2025');
    await user.click(await within(panel).findByTestId('accept-explanation'));
    await user.click(screen.getByTestId('accept-explanation-confirm'));
    expect(screen.getByTestId('accept-error-reason')).toHaveTextContent('Escreva por que esta explicação é aceita.');
  });

  it('lists the contracts, checks the form and previews an import', async () => {
    const { m, d, ContractsPage } = await setUp();
    m.previewContractsImport.mockResolvedValue(
      d.importPreview([
        d.importRow(),
        d.importRow({ line: 3, action: 'refuse', problems: [{ field: 'mrr', key: 'mrr_negative', params: { value: '-5' }, message: 'negative' }] }),
      ]),
    );
    const user = userEvent.setup();
    render(<ContractsPage path={['contracts']} />);
    expect(await screen.findByTestId('contract-row')).toHaveTextContent('IGP-M 8% em março');
    await user.click(screen.getByTestId('contracts-new'));
    await user.click(screen.getByTestId('contract-save'));
    expect(screen.getByTestId('form-error')).toHaveTextContent('Informe o valor mensal.');
    await user.click(screen.getByText('Cancelar'));
    await user.click(screen.getByTestId('contracts-import'));
    // Not `user.upload`: user-event builds its FileList by assigning `constructor`, which a frozen
    // Object.prototype refuses (the window's own file input has no such problem).
    const input = screen.getByTestId('contracts-import-file');
    Object.defineProperty(input, 'files', { value: [new File(['x;y\n'], 'c.csv')], configurable: true });
    fireEvent.change(input);
    const lines = await screen.findAllByTestId('import-row');
    expect(m.previewContractsImport).toHaveBeenCalledWith('c.csv', [120, 59, 121, 10], 'o1');
    expect(lines[1]).toHaveTextContent('O valor mensal -5 é negativo.');
    expect(screen.getByTestId('contracts-import-apply')).toHaveTextContent('Importar o 1 válido e ignorar 1 recusado');
  });

  it('saves the billing rules', async () => {
    const { m, ContractsPage } = await setUp();
    m.saveBillingSettings.mockImplementation(async (s) => s);
    const user = userEvent.setup();
    render(<ContractsPage path={['settings']} />);
    await user.type(await screen.findByTestId('billing-settings-status-input'), 'A VENCER');
    await user.click(screen.getByTestId('billing-settings-status-add'));
    await user.click(screen.getByTestId('billing-settings-save'));
    expect(m.saveBillingSettings).toHaveBeenCalledWith(expect.objectContaining({ statuses: ['A VENCER'] }));
  });
});
