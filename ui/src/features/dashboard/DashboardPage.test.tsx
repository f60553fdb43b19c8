import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import * as div from '../divergences/api';
import type { AppInfo } from '../../bindings/AppInfo';
import type { ConnectionCard } from '../../bindings/ConnectionCard';
import { formatDateTime } from '../../format';
import i18n from '../../i18n';
import {
  activityDays,
  appInfo,
  connection,
  connectionCard,
  dashboardSummary,
  divergencePage,
  divergenceRule,
  job,
  syncRun,
} from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { renderWithInfo } from '../../test/render';
import { DashboardPage } from './DashboardPage';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
vi.mock('../divergences/api', () => ({
  SESSION_JOB_KIND: 'divergences',
  APPLY_JOB_KIND: 'divergences_apply',
  divergences: vi.fn(),
  divergenceRules: vi.fn(),
}));
const mocked = vi.mocked(api);
const divMocked = vi.mocked(div);

const info = appInfo();
const empty = dashboardSummary();

function renderWith(facts: AppInfo, refreshInfo?: () => Promise<void>) {
  return renderWithInfo(<DashboardPage />, facts, refreshInfo);
}

let emit: ReturnType<typeof resetApiMocks>;

beforeEach(() => {
  emit = resetApiMocks(mocked);
});

describe('Dashboard', () => {
  it('welcomes a new user and starts the demo', async () => {
    mocked.dashboard.mockResolvedValueOnce(empty).mockResolvedValue({
      ...empty,
      connections: 4,
      connections_failing: 1,
      last_jobs: [job({ status: 'failed' })],
    });
    mocked.startDemo.mockResolvedValue([connection()]);
    const refreshInfo = vi.fn(async () => {});
    const user = userEvent.setup();
    renderWith(info, refreshInfo);
    await user.click(await screen.findByTestId('start-demo'));
    expect(mocked.startDemo).toHaveBeenCalledTimes(1);
    expect(await screen.findByTestId('card-connections')).toHaveTextContent('4');
    expect(screen.getByTestId('card-connections')).toHaveTextContent('1 failing');
    expect(screen.getByTestId('dashboard-job')).toHaveTextContent('Failed');
    expect(screen.queryByTestId('start-demo')).not.toBeInTheDocument();
    expect(refreshInfo).toHaveBeenCalled();
  });

  it('offers no demo on a team database, only adding a connection', async () => {
    mocked.dashboard.mockResolvedValue(empty);
    renderWith({ ...info, team_database: 'postgres://ana@db.local:5432/bo' });
    expect(await screen.findByTestId('add-first-connection')).toBeInTheDocument();
    expect(screen.queryByTestId('start-demo')).not.toBeInTheDocument();
  });

  it('explains a locked keychain', async () => {
    mocked.dashboard.mockResolvedValue(empty);
    renderWith({ ...info, keychain_ok: false, keychain_error: 'org.freedesktop.secrets: no such service' });
    const banner = await screen.findByTestId('keychain-banner');
    expect(banner).toHaveTextContent('The system keychain is not available');
    expect(banner).toHaveTextContent('no such service');
  });

  it('shows a translated error when the demo cannot start', async () => {
    mocked.dashboard.mockResolvedValue(empty);
    mocked.startDemo.mockRejectedValue({ code: 'keychain_unavailable', message: 'x', params: {}, details: 'locked' });
    const user = userEvent.setup();
    renderWith(info);
    await user.click(await screen.findByTestId('start-demo'));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('is locked or unavailable. Unlock it'));
  });
});

/** An instant `ms` away from now (negative: in the past). */
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();
const MIN = 60_000;

function withCards(...cards: ConnectionCard[]) {
  mocked.dashboard.mockResolvedValue(dashboardSummary({ connections: cards.length, cards }));
}

describe('Dashboard connection cards', () => {
  it('show freshness, what the last sync changed and the next sync in Portuguese, with Brazilian numbers', async () => {
    await i18n.changeLanguage('pt-BR');
    const next = fromNow(25 * MIN + 20_000);
    withCards(
      connectionCard({
        records: 12345,
        quarantined: 7,
        last_success_at: fromNow(-5 * MIN),
        last_run: syncRun({ started_at: fromNow(-5 * MIN - 80_000), finished_at: fromNow(-5 * MIN), counts: { added: 1234, updated: 56, deleted: 3 } }),
        next_run_at: next,
        fresh_until: fromNow(60 * MIN),
      }),
    );
    renderWith(info);
    const card = await screen.findByTestId('connection-card');
    const get = (id: string) => within(card).getByTestId(id);
    expect(card).toHaveTextContent('Matriz São Paulo');
    expect(card).toHaveTextContent('Omie');
    expect(get('card-freshness')).toHaveTextContent('Sincronizado há 5 minutos');
    expect(get('card-last-run')).toHaveTextContent('Concluída');
    expect(get('card-duration')).toHaveTextContent('levou 1 min 20 s');
    expect(get('card-count-added')).toHaveTextContent('1.234');
    expect(get('card-count-added')).toHaveTextContent('Adicionados');
    expect(get('card-count-updated')).toHaveTextContent('56Atualizados');
    expect(get('card-count-deleted')).toHaveTextContent('3Marcados como excluídos');
    expect(get('card-count-quarantined')).toHaveTextContent('0Em quarentena');
    expect(get('card-records')).toHaveTextContent('12.345');
    expect(get('card-quarantined')).toHaveTextContent('7');
    expect(card).toHaveTextContent('Próxima sincronização');
    expect(get('card-next-run')).toHaveTextContent(formatDateTime(next, 'pt-BR'));
    expect(get('card-next-run')).toHaveTextContent('em 25 minutos');
    expect(get('card-erp-link')).toHaveAttribute('href', '#/omie');
    expect(within(card).queryByTestId('card-warning')).not.toBeInTheDocument();
    expect(await within(card).findByRole('img')).toHaveAttribute('aria-label', expect.stringContaining('Registros alterados por dia'));
    for (const english of ['Updated', 'Added', 'Next', 'ago', 'Synced', 'Records', 'Last', 'took', 'schedule']) {
      expect(card.textContent).not.toContain(english);
    }
  });

  it('explain a failed sync in plain words, retry it, and lead to the connection when its key was rejected', async () => {
    withCards(
      connectionCard({
        last_run: syncRun({ id: 'r2', job_id: 'j2', status: 'failed' }),
        last_error: { code: 'unauthorized', message: 'HTTP 401', params: { connection: 'Matriz São Paulo' }, details: 'HTTP 401 from app.omie.com.br' },
      }),
    );
    mocked.syncStart.mockResolvedValue(job({ id: 'j3', kind: 'sync_omie', status: 'queued', started_at: null, finished_at: null }));
    const user = userEvent.setup();
    renderWith(info);
    const card = await screen.findByTestId('connection-card');
    const warning = within(card).getByTestId('card-warning');
    expect(warning).toHaveAttribute('data-kind', 'failed');
    expect(warning).toHaveTextContent('The last sync failed');
    expect(warning).toHaveTextContent('“Matriz São Paulo” rejected the key or secret');
    expect(within(warning).getByTestId('card-fix-connection')).toHaveAttribute('href', '#/connections/c1');
    expect(within(card).getByTestId('card-last-run')).toHaveTextContent('Failed');
    await user.click(within(warning).getByTestId('card-retry'));
    expect(mocked.syncStart).toHaveBeenCalledTimes(1);
    expect(mocked.syncStart).toHaveBeenCalledWith('c1', expect.objectContaining({ resources: [], since: null, full_refresh: false }));
    // The new sync is followed at once: the card shows it waiting and drops the warning.
    await waitFor(() => expect(within(card).getByTestId('card-last-run')).toHaveAttribute('data-status', 'queued'));
    expect(within(card).queryByTestId('card-warning')).not.toBeInTheDocument();
  });

  it('word a partial failure by the names of the data, with no credentials link', async () => {
    await i18n.changeLanguage('es');
    withCards(
      connectionCard({
        connection: connection({ id: 'c2', name: 'Quito', kind: 'contifico' }),
        last_run: syncRun({ status: 'failed', erp: 'contifico' }),
        last_error: {
          code: 'remote',
          message: 'x',
          params: { connection: 'Quito', remote_code: 'sync_partial', remote_message: '1 of 9 resources could not be synced (personas); the others were saved.' },
          details: null,
        },
      }),
    );
    renderWith(info);
    const warning = await screen.findByTestId('card-warning');
    expect(warning).toHaveTextContent('La última sincronización falló');
    expect(warning).toHaveTextContent('1 de 9 tipos de datos no se pudieron sincronizar');
    expect(within(warning).queryByTestId('card-fix-connection')).not.toBeInTheDocument();
    expect(within(warning).getByTestId('card-retry')).toHaveTextContent('Intentar de nuevo');
  });

  it('warn when the data is older than its schedule promises', async () => {
    withCards(
      connectionCard({
        last_success_at: fromNow(-3 * 60 * MIN),
        last_run: syncRun({ started_at: fromNow(-3 * 60 * MIN - 45_000), finished_at: fromNow(-3 * 60 * MIN) }),
        next_run_at: fromNow(-MIN),
        fresh_until: fromNow(-90 * MIN),
      }),
      connectionCard({ connection: connection({ id: 'c2', name: 'Filial', kind: 'erpnext' }), last_success_at: null, last_run: null }),
    );
    renderWith(info);
    const [stale, never] = await screen.findAllByTestId('connection-card');
    const warning = within(stale!).getByTestId('card-warning');
    expect(warning).toHaveAttribute('data-kind', 'stale');
    expect(warning).toHaveTextContent('Data is older than its schedule promises (last sync 3 hours ago).');
    expect(within(never!).getByTestId('card-freshness')).toHaveTextContent('Never synced');
    expect(within(never!).getByTestId('card-last-run')).toHaveTextContent('No sync has run yet.');
    expect(within(never!).queryByTestId('card-warning')).not.toBeInTheDocument();
    expect(within(never!).getByTestId('card-next-run')).toHaveTextContent('No schedule');
    expect(within(never!).getByTestId('card-add-schedule')).toHaveAttribute('href', '#/jobs/schedules');
    expect(within(never!).getByTestId('card-erp-link')).toHaveAttribute('href', '#/erpnext');
  });

  it('chart the 30 days: a bar per day, failed days marked, a summary for screen readers and a tooltip per day', async () => {
    await i18n.changeLanguage('pt-BR');
    const days = activityDays('2025-12-05', (_, i) =>
      i >= 20 ? { changed: i === 29 ? 1000 : 20 + i, runs: 1, failed: i === 22 || i === 29 ? 1 : 0, longest_seconds: 40 + i } : {},
    );
    withCards(connectionCard({ days }));
    renderWith(info);
    const card = await screen.findByTestId('connection-card');
    const chart = await within(card).findByRole('img');
    const total = days.reduce((n, d) => n + d.changed, 0);
    expect(chart).toHaveAttribute('aria-label', `Registros alterados por dia nos últimos 30 dias: ${total.toLocaleString('pt-BR')} no total. 10 sincronizações. Falhas em 2 dias.`);
    expect(card.querySelectorAll('.activity-bar')).toHaveLength(30);
    expect(card.querySelectorAll('path.activity-bar-failed')).toHaveLength(2);
    expect(within(card).getByText('Falha')).toBeInTheDocument();
    // The keyboard walks the days (focus shows the first, the arrows move); the tooltip speaks Portuguese.
    fireEvent.focus(chart);
    expect(await within(card).findByTestId('activity-tip')).toHaveTextContent('06/11');
    for (let i = 0; i < 29; i++) fireEvent.keyDown(chart, { key: 'ArrowRight' });
    const tip = within(card).getByTestId('activity-tip');
    await waitFor(() => expect(tip).toHaveTextContent('05/12'));
    expect(tip).toHaveTextContent('Registros alterados1.000');
    expect(tip).toHaveTextContent('Com falha1');
    expect(tip).toHaveTextContent('Duração máxima1 min 9 s');
  });

  it('follow a running sync of the connection live', async () => {
    withCards(connectionCard());
    renderWith(info);
    const card = await screen.findByTestId('connection-card');
    await waitFor(() => expect(mocked.onJobEvent).toHaveBeenCalled());
    emit({
      job: job({ id: 'j5', kind: 'sync_omie', status: 'running', progress: 0.4, progress_label: 'clientes: page 3, 600 records, 120/s', finished_at: null }),
      log: null,
    });
    const run = within(card).getByTestId('card-last-run');
    await waitFor(() => expect(run).toHaveAttribute('data-status', 'running'));
    expect(run).toHaveTextContent('Running');
    expect(within(run).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
    expect(run).toHaveTextContent('page 3');
  });
});

describe('Dashboard: open divergences', () => {
  const withConnections = () => mocked.dashboard.mockResolvedValue(dashboardSummary({ connections: 1, cards: [connectionCard()] }));

  it('shows how many need review, the amount at stake and the count per rule, linking into the inbox', async () => {
    withConnections();
    divMocked.divergences.mockResolvedValue(
      divergencePage([], { total: 3, amount_total: '4567.8', open_by_rule: { omie_trade_marketing: 2, omie_receipt_value: 1 } }),
    );
    divMocked.divergenceRules.mockResolvedValue([
      divergenceRule(),
      divergenceRule({ id: 'omie_receipt_value', kind: 'receipt_value', name: 'NF-e receipt vs its payables (Omie)' }),
    ]);
    renderWith(info);
    const card = await screen.findByTestId('dashboard-divergences');
    expect(divMocked.divergences).toHaveBeenCalledWith(expect.objectContaining({ statuses: ['open', 'approved', 'failed'], limit: 1 }));
    expect(within(card).getByRole('heading')).toHaveTextContent('Open divergences');
    expect(within(card).getByTestId('dashboard-divergences-total')).toHaveTextContent('3');
    expect(card).toHaveTextContent('R$4,567.80 at stake');
    expect(within(card).getByTestId('dashboard-divergences-link')).toHaveAttribute('href', '#/divergences');
    const rules = await within(card).findAllByTestId('dashboard-divergences-rule');
    await waitFor(() => expect(rules[0]).toHaveTextContent('Trade Marketing (Omie payables)2'));
    expect(rules[0]).toHaveAttribute('href', '#/divergences/inbox/omie_trade_marketing');
    expect(rules[1]).toHaveTextContent('NF-e receipt vs its payables (Omie)1');
  });

  it('in Portuguese, with Brazilian money', async () => {
    await i18n.changeLanguage('pt-BR');
    withConnections();
    divMocked.divergences.mockResolvedValue(divergencePage([], { total: 12, amount_total: '1234.5', open_by_rule: { omie_trade_marketing: 12 } }));
    divMocked.divergenceRules.mockResolvedValue([divergenceRule()]);
    renderWith(info);
    const card = await screen.findByTestId('dashboard-divergences');
    expect(card).toHaveTextContent('Divergências em aberto');
    expect(card).toHaveTextContent('R$ 1.234,50 em jogo');
    expect(card).toHaveTextContent('Revisar');
  });

  it('stays quiet when there are none, or when the engine cannot say', async () => {
    withConnections();
    divMocked.divergences.mockResolvedValue(divergencePage([], { total: 0 }));
    const { unmount } = renderWith(info);
    await screen.findByTestId('card-connections');
    await waitFor(() => expect(divMocked.divergences).toHaveBeenCalled());
    expect(screen.queryByTestId('dashboard-divergences')).not.toBeInTheDocument();
    unmount();

    divMocked.divergences.mockRejectedValue({ code: 'db', message: 'locked', params: {}, details: null });
    renderWith(info);
    await screen.findByTestId('card-connections');
    await waitFor(() => expect(divMocked.divergences).toHaveBeenCalledTimes(2));
    expect(screen.queryByTestId('dashboard-divergences')).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('reads the counts again when a check ends', async () => {
    withConnections();
    divMocked.divergences.mockResolvedValue(divergencePage([], { total: 0 }));
    renderWith(info);
    await screen.findByTestId('card-connections');
    await waitFor(() => expect(divMocked.divergences).toHaveBeenCalledTimes(1));
    await waitFor(() => expect(mocked.onJobEvent).toHaveBeenCalled());
    divMocked.divergences.mockResolvedValue(divergencePage([], { total: 5, amount_total: '10', open_by_rule: { omie_trade_marketing: 5 } }));
    emit({ job: job({ id: 'js', kind: 'divergences', connection_id: null, status: 'succeeded' }), log: null });
    expect(await screen.findByTestId('dashboard-divergences')).toHaveTextContent('5');
  });
});
