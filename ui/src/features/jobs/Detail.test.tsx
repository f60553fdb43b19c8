import { render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import type { JobLog } from '../../bindings/JobLog';
import i18n from '../../i18n';
import { job } from '../../test/fixtures';
import { JobDetailPanel, logLineText } from './Detail';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

const at = '2025-03-01T12:00:01Z';
const lines: JobLog[] = [
  {
    seq: 1,
    at,
    level: 'info',
    message: 'clientes: resuming the interrupted sync at page 4',
    key: 'sync.resuming',
    params: { resource: 'clientes', page: '4' },
  },
  { seq: 2, at, level: 'warn', message: 'a line from a newer version', key: 'sync.no_such_key', params: { x: '1' } },
  { seq: 3, at, level: 'info', message: 'Contífico answered the documents list', key: null, params: {} },
];

beforeEach(() => {
  vi.clearAllMocks();
  mocked.onJobEvent.mockResolvedValue(() => {});
  mocked.getJob.mockResolvedValue({ job: job({ id: 'j1', status: 'succeeded' }), logs: lines });
});

describe('job log lines', () => {
  it('show the translated text with its params in pt-BR, and the English message for unknown or missing keys', async () => {
    await i18n.changeLanguage('pt-BR');
    render(<JobDetailPanel jobId="j1" onClose={() => {}} />);
    const detail = await screen.findByTestId('job-detail');
    await waitFor(() => expect(within(detail).getAllByTestId('job-log-line')).toHaveLength(3));
    const [translated, unknown, missing] = within(detail).getAllByTestId('job-log-line');
    expect(translated).toHaveTextContent('clientes: retomando a sincronização interrompida na página 4');
    expect(translated).not.toHaveTextContent('resuming');
    expect(unknown).toHaveTextContent('a line from a newer version');
    expect(missing).toHaveTextContent('Contífico answered the documents list');
  });

  it('follow the language: Spanish, and English from the English dictionary', async () => {
    await i18n.changeLanguage('es');
    expect(logLineText(i18n, lines[0]!)).toBe('clientes: retomando la sincronización interrumpida desde la página 4');
    await i18n.changeLanguage('en');
    expect(logLineText(i18n, lines[0]!)).toBe('clientes: resuming the interrupted sync at page 4');
    expect(logLineText(i18n, lines[1]!)).toBe('a line from a newer version');
  });

  it('say an error or a quarantine reason sent whole in the window language, not in English', async () => {
    const reason = { key: 'jobLog.parse.not_a_number', params: { field: 'pvp1', value: 'doce dólares' }, message: 'field "pvp1": "doce dólares" is not a number' };
    const quarantined: JobLog = {
      seq: 4,
      at,
      level: 'warn',
      message: 'quarantined productos P7: field "pvp1": "doce dólares" is not a number',
      key: 'sync.quarantined',
      params: { resource: 'productos', record: 'P7', reason: reason.message, reason_json: JSON.stringify(reason) },
    };
    const error = {
      code: 'omie_po_not_closed',
      message: 'The configured call AlterarPedCompra answered, but purchase order 1005 is still open',
      params: { order: '1005', call: 'AlterarPedCompra', stage: '10', status: 'open', status_value: 'F' },
      details: null,
    };
    const failed: JobLog = {
      seq: 5,
      at,
      level: 'error',
      message: `Could not finish: ${error.message}`,
      key: 'job.failed',
      params: { error: error.message, code: error.code, error_json: JSON.stringify(error) },
    };
    await i18n.changeLanguage('pt-BR');
    expect(logLineText(i18n, quarantined)).toBe('productos P7 foi para a quarentena: o campo “pvp1” deveria ser um número, mas é “doce dólares”');
    expect(logLineText(i18n, failed)).toContain('o pedido de compra 1005 continua aberto');
    await i18n.changeLanguage('es');
    expect(logLineText(i18n, quarantined)).toContain('el campo “pvp1” debería ser un número');
    expect(logLineText(i18n, failed)).toContain('la orden de compra 1005 sigue abierta');
    // A damaged param falls back to the English text it came with.
    expect(logLineText(i18n, { ...failed, params: { ...failed.params, error_json: '{not json' } })).toContain('still open');
    await i18n.changeLanguage('en');
  });

  it("name a sync's resource the way its ERP page does", async () => {
    await i18n.changeLanguage('pt-BR');
    const line = { ...lines[0]!, params: { resource: 'personas', page: '2' } };
    expect(logLineText(i18n, line, 'sync_contifico')).toBe(
      'Clientes e fornecedores: retomando a sincronização interrompida na página 2',
    );
    // Without the job's kind (or for a name the ERP page does not know) the API name stays.
    expect(logLineText(i18n, line)).toBe('personas: retomando a sincronização interrompida na página 2');
    expect(logLineText(i18n, { ...line, params: { resource: 'novidade', page: '2' } }, 'sync_contifico')).toBe(
      'novidade: retomando a sincronização interrompida na página 2',
    );
  });

  it('write quantities and dates the local way', async () => {
    await i18n.changeLanguage('pt-BR');
    const line = { ...lines[0]!, key: 'sync.read_incremental_since', params: { resource: 'personas', since: '2026-11-01' } };
    expect(logLineText(i18n, line, 'sync_contifico')).toContain('01/11/2026');
    const done = {
      ...lines[0]!,
      key: 'sync.resource_done',
      params: { resource: 'personas', records: '1000000', seconds: '85.3', page: '1000' },
    };
    expect(logLineText(i18n, done, 'sync_contifico')).toBe(
      'Clientes e fornecedores: pronto, 1.000.000 registros lidos em 85,3 s (até a página 1000)',
    );
  });
});
