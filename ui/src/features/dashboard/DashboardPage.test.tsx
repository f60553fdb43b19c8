import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import { AppContext } from '../../AppContext';
import type { AppInfo } from '../../bindings/AppInfo';
import type { DashboardSummary } from '../../bindings/DashboardSummary';
import { connection, job } from '../../test/fixtures';
import { captureJobEvents } from '../../test/mockApi';
import { DashboardPage } from './DashboardPage';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

const info: AppInfo = {
  version: '0.1.0',
  db_path: '/tmp/b.db',
  log_dir: '/tmp/logs',
  keychain_ok: true,
  keychain_error: null,
  demo_running: false,
  locale: 'en',
};
const empty: DashboardSummary = {
  connections: 0,
  connections_failing: 0,
  jobs_running: 0,
  jobs_failed_24h: 0,
  jobs_succeeded_24h: 0,
  last_jobs: [],
};

function renderWith(appInfo: AppInfo, refreshInfo = vi.fn(async () => {})) {
  return render(
    <AppContext.Provider value={{ info: appInfo, refreshInfo }}>
      <DashboardPage />
    </AppContext.Provider>,
  );
}

beforeEach(() => {
  vi.clearAllMocks();
  captureJobEvents(mocked.onJobEvent as unknown as ReturnType<typeof vi.fn>);
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
