import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import type { AppInfo } from '../../bindings/AppInfo';
import { appInfo, connection, dashboardSummary, job } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { renderWithInfo } from '../../test/render';
import { DashboardPage } from './DashboardPage';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

const info = appInfo();
const empty = dashboardSummary();

function renderWith(facts: AppInfo, refreshInfo?: () => Promise<void>) {
  return renderWithInfo(<DashboardPage />, facts, refreshInfo);
}

beforeEach(() => {
  resetApiMocks(mocked);
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
