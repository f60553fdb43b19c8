import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { JobEvent } from '../../bindings/JobEvent';
import i18n from '../../i18n';
import * as f from '../../test/fixtures';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
vi.mock('./teamApi', () => ({
  teamSettings: vi.fn(),
  saveTeamSettings: vi.fn(),
  checkTeamDatabase: vi.fn(),
  startTeamCopy: vi.fn(),
  setTeamMode: vi.fn(),
}));

const core = vi.mocked(await import('../../api'));
const mocked = vi.mocked(await import('./teamApi'));
const { TeamDatabaseCard, validateTeamForm } = await import('./TeamDatabase');

let emit: (e: JobEvent) => void = () => {};

beforeEach(async () => {
  vi.resetAllMocks();
  await i18n.changeLanguage('en');
  core.onJobEvent.mockImplementation(async (h) => {
    emit = h;
    return () => {};
  });
  mocked.teamSettings.mockResolvedValue({
    host: '',
    port: 5432,
    database: '',
    user: '',
    tls: 'verify-full',
    root_cert: '',
    password_saved: false,
    work_here: false,
  });
  mocked.saveTeamSettings.mockImplementation(async (s, pw) => ({ ...s, password_saved: pw !== null }));
});

describe('validateTeamForm', () => {
  it('names each missing or wrong field', () => {
    const base = { tls: 'verify-full', rootCert: '' };
    expect(validateTeamForm({ ...base, host: '', port: '0', database: ' ', user: '', password: '' })).toEqual({
      host: 'hostRequired',
      port: 'portInvalid',
      database: 'databaseRequired',
      user: 'userRequired',
    });
    expect(validateTeamForm({ ...base, host: 'ana@db', port: '5432', database: 'bo', user: 'ana', password: '' }).host).toBe(
      'hostInvalid',
    );
    expect(validateTeamForm({ ...base, host: 'db.local', port: '5432', database: 'bo', user: 'ana', password: '' })).toEqual(
      {},
    );
  });
});

describe('Settings → Team database', () => {
  it('saves (password to the keychain), tests, copies with progress and says when it is done', async () => {
    mocked.checkTeamDatabase.mockResolvedValueOnce({
      server_version: '15.18',
      state: 'empty',
      schema_version: null,
      copied_from: null,
      copied_at: null,
      address: 'postgres://ana@db.local:5432/bo',
    });
    const running = f.job({ id: 'tc1', kind: 'team_copy', status: 'running', progress: 0.25, progress_label: 'jobs (3/66)' });
    mocked.startTeamCopy.mockResolvedValueOnce(running);
    const user = userEvent.setup();
    render(<TeamDatabaseCard />);
    const card = await screen.findByTestId('team-settings');
    await waitFor(() => expect(within(card).getByTestId('team-host')).not.toBeDisabled());
    await user.type(within(card).getByTestId('team-host'), 'db.local');
    await user.type(within(card).getByTestId('team-database'), 'bo');
    await user.type(within(card).getByTestId('team-user'), 'ana');
    expect(within(card).getByTestId('team-tls')).toHaveValue('verify-full');
    await user.type(within(card).getByTestId('team-root-cert'), '/etc/bo/ca.pem');
    await user.type(within(card).getByTestId('team-password'), 'made-up-pw');
    await user.click(within(card).getByTestId('team-test'));

    await waitFor(() => expect(mocked.saveTeamSettings).toHaveBeenCalledTimes(1));
    expect(mocked.saveTeamSettings.mock.calls[0]).toEqual([
      {
        host: 'db.local',
        port: 5432,
        database: 'bo',
        user: 'ana',
        tls: 'verify-full',
        root_cert: '/etc/bo/ca.pem',
        password_saved: false,
        work_here: false,
      },
      'made-up-pw',
    ]);
    expect(await within(card).findByTestId('team-check')).toHaveTextContent('The database is empty');
    expect(within(card).getByTestId('team-password')).toHaveValue('');

    await user.click(within(card).getByTestId('team-copy'));
    const bar = await within(card).findByTestId('team-copy-progress');
    expect(within(bar).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '25');
    expect(bar).toHaveTextContent('jobs (3/66)');

    mocked.checkTeamDatabase.mockResolvedValueOnce({
      server_version: '15.18',
      state: 'ready',
      schema_version: 16,
      copied_from: 'desk@/home/ana/bo.db',
      copied_at: '2026-12-06T10:00:00.000Z',
      address: 'postgres://ana@db.local:5432/bo',
    });
    emit({ job: { ...running, status: 'succeeded', progress: 1 } } as JobEvent);
    expect(await within(card).findByTestId('team-copy-done')).toHaveTextContent('every table verified');
    await waitFor(() => expect(within(card).getByTestId('team-check')).toHaveAttribute('data-state', 'ready'));
    expect(within(card).queryByTestId('team-copy')).toBeNull();
  });

  it('explains a refused password in the user’s language and offers no copy', async () => {
    await i18n.changeLanguage('es');
    mocked.teamSettings.mockResolvedValue({
      host: 'db.local',
      port: 5432,
      database: 'bo',
      user: 'ana',
      tls: 'disable',
      root_cert: '',
      password_saved: true,
      work_here: false,
    });
    mocked.checkTeamDatabase.mockRejectedValueOnce({
      code: 'team_db_refused',
      message: 'The team database at postgres://ana@db.local:5432/bo refused the user name or password.',
      params: { url: 'postgres://ana@db.local:5432/bo' },
      details: null,
    });
    const user = userEvent.setup();
    render(<TeamDatabaseCard />);
    const card = await screen.findByTestId('team-settings');
    await waitFor(() => expect(within(card).getByTestId('team-host')).toHaveValue('db.local'));
    expect(within(card).getByTestId('team-password-state')).toHaveTextContent('llavero del sistema');
    // Not encrypted: the form says what that means, and asks for no authority file.
    expect(within(card).getByTestId('team-tls-hint')).toHaveTextContent('legibles para cualquiera');
    expect(within(card).queryByTestId('team-root-cert')).toBeNull();
    await user.click(within(card).getByTestId('team-test'));
    expect(await within(card).findByTestId('team-error')).toHaveTextContent('rechazó el usuario o la contraseña');
    expect(mocked.saveTeamSettings.mock.calls[0]![1]).toBeNull();
    expect(within(card).queryByTestId('team-copy')).toBeNull();
  });
});

describe('Settings → Team database → where this desk works', () => {
  const saved = {
    host: 'db.local',
    port: 5432,
    database: 'bo',
    user: 'ana',
    tls: 'verify-full',
    root_cert: '',
    password_saved: true,
  };

  it('offers to work on a team database that answered, says the app restarts, and offers the way back', async () => {
    mocked.teamSettings.mockResolvedValue({ ...saved, work_here: false });
    mocked.checkTeamDatabase.mockResolvedValue({
      server_version: '15.18',
      state: 'ready',
      schema_version: 17,
      copied_from: 'desk',
      copied_at: '2026-12-06T10:00:00.000Z',
      address: 'postgres://ana@db.local:5432/bo',
    });
    mocked.setTeamMode.mockResolvedValue({ ...saved, work_here: true });
    const user = userEvent.setup();
    render(<TeamDatabaseCard />);
    const card = await screen.findByTestId('team-settings');
    await waitFor(() => expect(within(card).getByTestId('team-host')).toHaveValue('db.local'));
    expect(within(card).getByTestId('team-mode')).toHaveTextContent("this desk's own file");
    // Not before the connection was tested.
    expect(within(card).queryByTestId('team-work-here')).toBeNull();
    await user.click(within(card).getByTestId('team-test'));
    await user.click(await within(card).findByTestId('team-work-here'));
    expect(mocked.setTeamMode).toHaveBeenCalledWith(true);
    expect(await within(card).findByTestId('team-restarting')).toHaveTextContent('Restarting');
    expect(within(card).getByTestId('team-test')).toBeDisabled();
  });

  it('never offers a database holding an unfinished copy, and a desk working there can go back to its file', async () => {
    mocked.teamSettings.mockResolvedValue({ ...saved, work_here: false });
    mocked.checkTeamDatabase.mockResolvedValue({
      server_version: '15.18',
      state: 'copying',
      schema_version: 17,
      copied_from: 'desk',
      copied_at: null,
      address: 'postgres://ana@db.local:5432/bo',
    });
    const user = userEvent.setup();
    const { unmount } = render(<TeamDatabaseCard />);
    let card = await screen.findByTestId('team-settings');
    await waitFor(() => expect(within(card).getByTestId('team-host')).toHaveValue('db.local'));
    await user.click(within(card).getByTestId('team-test'));
    await within(card).findByTestId('team-copy');
    expect(within(card).queryByTestId('team-work-here')).toBeNull();
    unmount();

    await i18n.changeLanguage('pt-BR');
    mocked.teamSettings.mockResolvedValue({ ...saved, work_here: true });
    mocked.setTeamMode.mockResolvedValue({ ...saved, work_here: false });
    render(<TeamDatabaseCard />);
    card = await screen.findByTestId('team-settings');
    await waitFor(() => expect(within(card).getByTestId('team-mode')).toHaveAttribute('data-on', 'true'));
    expect(within(card).getByTestId('team-mode')).toHaveTextContent('banco da equipe em db.local/bo');
    await user.click(within(card).getByTestId('team-work-on-desk'));
    expect(mocked.setTeamMode).toHaveBeenCalledWith(false);
    expect(within(card).queryByTestId('team-copy')).toBeNull();
  });
});
