import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import { App } from '../../App';
import { appInfo, dashboardSummary, job } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { upsertJob } from './JobsPage';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

const info = appInfo({
  db_path: '/home/ana/.local/share/BackOffice/backoffice.db',
  log_dir: '/home/ana/.local/state/BackOffice/logs',
});

const failed = job({
  id: 'j1',
  connection_id: 'c1',
  connection_name: 'Demo Omie',
  status: 'failed',
  error: { code: 'unreachable', message: 'x', params: { connection: 'Demo Omie', url: 'http://127.0.0.1:9/' }, details: 'connection refused' },
  counts: { pages: 3 },
});
const running = job({
  id: 'j2',
  kind: 'sync_contifico',
  connection_id: 'c2',
  connection_name: 'Quito',
  status: 'running',
  progress: 0.4,
  progress_label: 'categoria: page 2',
  finished_at: null,
});

let emit: ReturnType<typeof resetApiMocks>;

beforeEach(() => {
  emit = resetApiMocks(mocked);
  mocked.listJobs.mockResolvedValue([running, failed]);
  mocked.getJob.mockImplementation(async (id: string) => ({
    job: id === 'j1' ? failed : running,
    logs: [
      { seq: 1, at: '2025-03-01T12:00:01Z', level: 'info', message: 'testing "Demo Omie"', key: null, params: {} },
      { seq: 2, at: '2025-03-01T12:00:02Z', level: 'error', message: 'connection refused', key: null, params: {} },
    ],
  }));
  window.location.hash = '#/jobs';
});

describe('Jobs & Logs page', () => {
  it('lists jobs with their kind, status and connection', async () => {
    render(<App initialInfo={info} />);
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(2));
    const [first, second] = screen.getAllByTestId('job-row');
    expect(first).toHaveAttribute('data-status', 'running');
    expect(first).toHaveAttribute('data-kind', 'sync_contifico');
    expect(first).toHaveAttribute('data-connection', 'Quito');
    expect(within(first!).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
    expect(first).toHaveTextContent('categoria: page 2');
    expect(second).toHaveAttribute('data-status', 'failed');
    expect(second).toHaveTextContent('Connection test');
    expect(second).toHaveTextContent('Pages 3');
    expect(mocked.listJobs).toHaveBeenCalledWith({ kind: null, status: null, connection_id: null, limit: 1000 });
  });

  it('opens the detail with the plain-language error and the log, updating live', async () => {
    const user = userEvent.setup();
    render(<App initialInfo={info} />);
    await waitFor(() => expect(screen.getAllByTestId('job-row')).toHaveLength(2));
    await user.click(screen.getAllByTestId('job-row')[1]!);

    const detail = await screen.findByTestId('job-detail');
    await waitFor(() => expect(within(detail).getAllByTestId('job-log-line')).toHaveLength(2));
    expect(within(detail).getByTestId('job-error')).toHaveTextContent(
      'Could not reach “Demo Omie” at http://127.0.0.1:9/. Check the address and your internet connection, then try again.',
    );
    expect(within(detail).queryByTestId('job-cancel')).not.toBeInTheDocument();
    expect(window.location.hash).toBe('#/jobs/j1');

    act(() => emit({ job: failed, log: { seq: 3, at: '2025-03-01T12:00:03Z', level: 'info', message: 'retry scheduled', key: null, params: {} } }));
    expect(within(detail).getAllByTestId('job-log-line')).toHaveLength(3);
    expect(within(detail).getAllByTestId('job-log-line')[2]).toHaveTextContent('retry scheduled');
  });

  it('cancels a running job', async () => {
    mocked.cancelJob.mockResolvedValue({ ...running, status: 'cancelled', finished_at: '2025-03-01T12:01:00Z' });
    window.location.hash = '#/jobs/j2';
    const user = userEvent.setup();
    render(<App initialInfo={info} />);
    const detail = await screen.findByTestId('job-detail');
    await user.click(await within(detail).findByTestId('job-cancel'));
    expect(mocked.cancelJob).toHaveBeenCalledWith('j2');
    await waitFor(() => expect(within(detail).queryByTestId('job-cancel')).not.toBeInTheDocument());
    expect(within(detail).getByText('Cancelled')).toBeInTheDocument();
  });

  it('adds new jobs from events and honours the status filter', () => {
    const list = [failed];
    const fresh = job({ id: 'j3', status: 'queued' });
    expect(upsertJob(list, fresh, { status: '', kind: '' }).map((j) => j.id)).toEqual(['j3', 'j1']);
    expect(upsertJob(list, { ...failed, status: 'succeeded' }, { status: 'failed', kind: '' })).toEqual([]);
    expect(upsertJob(list, fresh, { status: 'failed', kind: '' })).toBe(list);
  });
});

describe('navigation', () => {
  it('shows each page from the left navigation', async () => {
    mocked.dashboard.mockResolvedValue(dashboardSummary());
    mocked.listConnections.mockResolvedValue([]);
    mocked.getSettings.mockResolvedValue({ locale: null });
    const user = userEvent.setup();
    render(<App initialInfo={info} />);
    for (const page of ['dashboard', 'connections', 'contifico', 'omie', 'erpnext', 'divergences', 'jobs', 'settings']) {
      await user.click(screen.getByTestId(`nav-${page}`));
      expect(await screen.findByTestId(`page-${page}`)).toBeInTheDocument();
    }
    expect(screen.getByTestId('settings-db-path')).toHaveTextContent(info.db_path);
    // On a desk's file there is no team badge.
    expect(screen.queryByTestId('team-badge')).toBeNull();
  });

  it('says when the window works on the team database', async () => {
    mocked.dashboard.mockResolvedValue(dashboardSummary());
    render(<App initialInfo={{ ...info, team_database: 'postgres://ana@db.local:5432/bo' }} />);
    const badge = await screen.findByTestId('team-badge');
    expect(badge).toHaveTextContent('Team database');
    expect(badge).toHaveAttribute('title', 'postgres://ana@db.local:5432/bo');
  });
});
