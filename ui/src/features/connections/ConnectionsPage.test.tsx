import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import i18n from '../../i18n';
import { connection, job } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { ConnectionsPage } from './ConnectionsPage';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

let emit: ReturnType<typeof resetApiMocks>;

beforeEach(() => {
  emit = resetApiMocks(mocked);
  mocked.listJobs.mockResolvedValue([]);
  mocked.listConnections.mockResolvedValue([
    connection({ id: 'c1', name: 'Matriz São Paulo', last_test_ok: true, last_test_at: '2025-03-01T12:00:00Z' }),
    connection({
      id: 'c2',
      name: 'Quito',
      kind: 'contifico',
      base_url: 'https://api.contifico.com/sistema/api/v1/',
      timezone: 'America/Guayaquil',
      is_demo: true,
    }),
  ]);
});

const rows = () => screen.getAllByTestId('connection-row');
const row = (name: string) => {
  const r = rows().find((el) => el.getAttribute('data-name') === name);
  if (!r) throw new Error(`no row ${name}`);
  return r;
};

describe('Connections page', () => {
  it('lists the connections with their ERP, address and last test', async () => {
    render(<ConnectionsPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => r.getAttribute('data-name'))).toEqual(['Matriz São Paulo', 'Quito']);
    const sp = within(row('Matriz São Paulo'));
    expect(sp.getByText('Omie')).toBeInTheDocument();
    expect(sp.getByText('https://app.omie.com.br/api/v1/')).toBeInTheDocument();
    expect(sp.getByTestId('conn-status')).toHaveTextContent('Working');
    const quito = within(row('Quito'));
    expect(quito.getByTestId('conn-status')).toHaveTextContent('Not tested yet');
    expect(quito.getByText('Demo')).toBeInTheDocument();
  });

  it('says which desks keep a key this desk lacks, in the user’s language', async () => {
    await i18n.changeLanguage('pt-BR');
    mocked.connectionKeys.mockResolvedValue([
      { connection_id: 'c1', here: true, elsewhere: [] },
      {
        connection_id: 'c2',
        here: false,
        elsewhere: [{ keychain_id: 'k-a', who: 'maria', machine: 'financeiro-02', saved_at: '2026-12-07T09:00:00Z' }],
      },
    ]);
    render(<ConnectionsPage />);
    const note = await waitFor(() => within(row('Quito')).getByTestId('conn-key-note'));
    expect(note).toHaveTextContent('A chave não está nesta mesa: maria em financeiro-02 pode executar seus trabalhos.');
    expect(within(row('Matriz São Paulo')).queryByTestId('conn-key-note')).toBeNull();
    await i18n.changeLanguage('en');
  });

  it('shows a translated error in the form when saving fails', async () => {
    await i18n.changeLanguage('pt-BR');
    mocked.createConnection.mockRejectedValue({
      code: 'duplicate_name',
      message: 'A connection named "Quito" already exists. Choose another name.',
      params: { name: 'Quito' },
      details: null,
    });
    const user = userEvent.setup();
    render(<ConnectionsPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));

    await user.click(screen.getByTestId('add-connection'));
    await user.type(screen.getByTestId('conn-name'), 'Quito');
    await user.selectOptions(screen.getByTestId('conn-kind'), 'contifico');
    expect(screen.getByTestId('conn-base-url')).toHaveValue('https://api.contifico.com/sistema/api/v1/');
    expect(screen.getByTestId('conn-timezone')).toHaveValue('America/Guayaquil');
    expect(screen.getByLabelText('Token POS (só é necessário para criar documentos)')).toBe(screen.getByTestId('conn-secret'));
    await user.type(screen.getByTestId('conn-key'), 'abc123');
    await user.click(screen.getByTestId('conn-save'));

    const error = await screen.findByTestId('form-error');
    expect(error).toHaveTextContent('Já existe uma conexão chamada “Quito”. Escolha outro nome e salve de novo.');
    expect(mocked.createConnection).toHaveBeenCalledWith({
      name: 'Quito',
      kind: 'contifico',
      base_url: 'https://api.contifico.com/sistema/api/v1/',
      timezone: 'America/Guayaquil',
      credentials: { key: 'abc123', secret: '' },
    });
    // The form stays open so the user can correct the name.
    expect(screen.getByTestId('conn-name')).toHaveValue('Quito');
  });

  it('validates on the client before calling the core', async () => {
    const user = userEvent.setup();
    render(<ConnectionsPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    await user.click(screen.getByTestId('add-connection'));
    await user.clear(screen.getByTestId('conn-base-url'));
    await user.type(screen.getByTestId('conn-base-url'), 'omie.com.br');
    await user.click(screen.getByTestId('conn-save'));
    const error = await screen.findByTestId('form-error');
    expect(error).toHaveTextContent('Enter a name for the connection.');
    expect(error).toHaveTextContent('This is not a web address.');
    expect(screen.getByTestId('conn-name')).toHaveAttribute('aria-invalid', 'true');
    expect(mocked.createConnection).not.toHaveBeenCalled();
  });

  it('edits without sending credentials when the secret fields stay empty', async () => {
    mocked.updateConnection.mockImplementation(async (_id, input) => connection({ id: 'c1', name: input.name }));
    const user = userEvent.setup();
    render(<ConnectionsPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    await user.click(within(row('Matriz São Paulo')).getByTestId('conn-edit'));
    expect(screen.getByTestId('conn-key')).toHaveValue('');
    expect(screen.getAllByText('Leave empty to keep the stored secret.')).toHaveLength(2);
    expect(screen.getByTestId('conn-kind')).toBeDisabled();
    await user.clear(screen.getByTestId('conn-name'));
    await user.type(screen.getByTestId('conn-name'), 'Filial Campinas');
    await user.click(screen.getByTestId('conn-save'));
    await waitFor(() => expect(mocked.updateConnection).toHaveBeenCalledTimes(1));
    expect(mocked.updateConnection.mock.calls[0]?.[0]).toBe('c1');
    expect(mocked.updateConnection.mock.calls[0]?.[1]).toMatchObject({ name: 'Filial Campinas', credentials: null });
    await waitFor(() => expect(screen.queryByTestId('connection-form')).not.toBeInTheDocument());
  });

  it('follows a connection test live and explains a failure', async () => {
    const queued = job({ id: 'j9', connection_id: 'c2', connection_name: 'Quito', status: 'queued', created_at: '2030-01-01T00:00:00Z', started_at: null, finished_at: null });
    mocked.testConnection.mockResolvedValue(queued);
    const user = userEvent.setup();
    render(<ConnectionsPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));

    await user.click(within(row('Quito')).getByTestId('conn-test'));
    expect(mocked.testConnection).toHaveBeenCalledWith('c2');
    await waitFor(() => expect(within(row('Quito')).getByTestId('conn-status')).toHaveTextContent('Waiting to test…'));

    act(() => emit({ job: { ...queued, status: 'running', started_at: '2030-01-01T00:00:01Z' }, log: null }));
    expect(within(row('Quito')).getByTestId('conn-status')).toHaveTextContent('Testing…');
    expect(within(row('Quito')).getByTestId('conn-test')).toBeDisabled();

    act(() =>
      emit({
        job: {
          ...queued,
          status: 'failed',
          started_at: '2030-01-01T00:00:01Z',
          finished_at: '2030-01-01T00:00:02Z',
          error: { code: 'unauthorized', message: 'x', params: { connection: 'Quito' }, details: 'HTTP 401' },
        },
        log: null,
      }),
    );
    const quito = within(row('Quito'));
    expect(quito.getByTestId('conn-status')).toHaveTextContent('Failed');
    expect(quito.getByTestId('conn-test-error')).toHaveTextContent('“Quito” rejected the key or secret.');
    expect(quito.getByTestId('conn-job-link')).toHaveAttribute('href', '#/jobs/j9');
    // A finished test refreshes the stored result (after the first load and the reload done once the
    // event subscription became active).
    await waitFor(() => expect(mocked.listConnections).toHaveBeenCalledTimes(3));
  });

  it('asks for confirmation before deleting', async () => {
    mocked.deleteConnection.mockResolvedValue(null);
    const user = userEvent.setup();
    render(<ConnectionsPage />);
    await waitFor(() => expect(rows()).toHaveLength(2));
    await user.click(within(row('Quito')).getByTestId('conn-delete'));
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog).toHaveTextContent('Delete “Quito”?');
    expect(mocked.deleteConnection).not.toHaveBeenCalled();
    await user.click(within(dialog).getByTestId('confirm-cancel'));
    expect(mocked.deleteConnection).not.toHaveBeenCalled();

    await user.click(within(row('Quito')).getByTestId('conn-delete'));
    await user.click(screen.getByTestId('confirm-accept'));
    await waitFor(() => expect(mocked.deleteConnection).toHaveBeenCalledWith('c2'));
    expect(await screen.findByTestId('notice')).toHaveTextContent('“Quito” was deleted.');
  });

  it('explains an empty list', async () => {
    mocked.listConnections.mockResolvedValue([]);
    render(<ConnectionsPage />);
    expect(await screen.findByText('No connections yet')).toBeInTheDocument();
  });
});
