// The window runs with Tauri's `"freezePrototype": true`: Object.prototype is frozen before any of
// our code runs. Here it is frozen as in the app before the Divergences page, its table, its
// dialogs and its detail are loaded and used (Vitest runs each test file in its own context).
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

Object.freeze(Object.prototype);

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

describe('Divergences with a frozen Object.prototype (Tauri freezePrototype)', () => {
  it('lists, filters, selects, explains and asks for a reason', async () => {
    expect(Object.isFrozen(Object.prototype)).toBe(true);
    const { default: i18n } = await import('../../i18n');
    const core = vi.mocked(await import('../../api'));
    const m = vi.mocked(await import('./api'));
    const f = await import('../../test/fixtures');
    const { DivergencesPage } = await import('./DivergencesPage');
    await i18n.changeLanguage('pt-BR');
    core.onJobEvent.mockResolvedValue(() => {});
    core.listConnections.mockResolvedValue([f.connection({ id: 'o1', name: 'Omie SP' })]);
    core.listJobs.mockResolvedValue([]);
    m.divergenceRules.mockResolvedValue([f.divergenceRule()]);
    const d = f.divergence();
    m.divergences.mockResolvedValue(f.divergencePage([d, f.divergence({ id: 'd2', record_label: '4513 · Gráfica Alfa' })], { amount_total: '1334.4', open_by_rule: { omie_trade_marketing: 2 } }));
    m.divergence.mockResolvedValue(f.divergenceDetail(d, { operations: [f.divergenceOperation()] }));
    const user = userEvent.setup();
    render(<DivergencesPage />);
    const rows = await screen.findAllByTestId('divergence-row');
    expect(screen.getByTestId('divergences-summary-line')).toHaveTextContent('R$ 1.334,40');
    await user.type(screen.getByTestId('divergences-filter-amount'), '1.000,50');
    await user.type(screen.getByTestId('divergences-filter-from'), '01/03/2025');
    await user.click(screen.getByTestId('divergences-select-all'));
    await user.click(within(rows[0]!).getByText('4512 · Gráfica Alfa'));
    expect(await screen.findByTestId('divergence-explanation')).toHaveTextContent('deveria estar em 2.04.01 (Trade Marketing)');
    await user.click(screen.getByTestId('bulk-approve'));
    await user.click(screen.getByTestId('decision-confirm'));
    expect(screen.getByTestId('decision-error-reason')).toHaveTextContent('Escreva o motivo desta decisão.');
  });
  it('draws the Metrics tab: tiles, the rules and the 30-day chart', async () => {
    expect(Object.isFrozen(Object.prototype)).toBe(true);
    const { default: i18n } = await import('../../i18n');
    const core = vi.mocked(await import('../../api'));
    const m = vi.mocked(await import('./api'));
    const f = await import('../../test/fixtures');
    const { DivergencesPage } = await import('./DivergencesPage');
    await i18n.changeLanguage('pt-BR');
    core.onJobEvent.mockResolvedValue(() => {});
    core.listConnections.mockResolvedValue([]);
    core.listJobs.mockResolvedValue([]);
    m.divergenceRules.mockResolvedValue([f.divergenceRule()]);
    m.divergenceMetrics.mockResolvedValue(f.divergenceMetrics());
    const user = userEvent.setup();
    render(<DivergencesPage path={['metrics']} />);
    expect(await screen.findByTestId('metrics-rule-row')).toHaveTextContent('R$ 1.234,50');
    expect(screen.getAllByTestId('metrics-day')).toHaveLength(30);
    screen.getByTestId('metrics-chart-svg').focus();
    await user.keyboard('{End}');
    expect(screen.getByTestId('metrics-tip')).toHaveTextContent('04/03');
  });
});
