import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import { App } from '../../App';
import type { BrowseQuery } from '../../bindings/BrowseQuery';
import type { BrowseRow } from '../../bindings/BrowseRow';
import type { ResourceInfo } from '../../bindings/ResourceInfo';
import type { ResourceSummary } from '../../bindings/ResourceSummary';
import i18n from '../../i18n';
import { appInfo, connection, job, resourceSummary } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { parseProgressLabel, pickJob, prettyJson } from '../sync';
import { buildFilters, nextSort } from './Browser';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
const mocked = vi.mocked(api);

const info = appInfo();

const quito = connection({ id: 'c1', name: 'Quito Matriz', kind: 'contifico', timezone: 'America/Guayaquil' });
const guayaquil = connection({ id: 'c2', name: 'Guayaquil Sucursal', kind: 'contifico', timezone: 'America/Guayaquil' });
const omie = connection({ id: 'o1', name: 'Omie SP', kind: 'omie' });

const resources: ResourceInfo[] = [
  {
    name: 'productos',
    supports_incremental: true,
    columns: [
      { name: 'codigo', kind: 'text' },
      { name: 'nombre', kind: 'text' },
      { name: 'estado', kind: 'code' },
      { name: 'pvp1', kind: 'decimal' },
      { name: 'fecha_creacion', kind: 'date' },
    ],
  },
  { name: 'personas', supports_incremental: true, columns: [{ name: 'razon_social', kind: 'text' }] },
  { name: 'bodegas', supports_incremental: false, columns: [{ name: 'nombre', kind: 'text' }] },
];

function summaryRow(over: Partial<ResourceSummary>): ResourceSummary {
  return resourceSummary({ resource: 'productos', ...over });
}

const summary: ResourceSummary[] = [
  summaryRow({
    resource: 'productos',
    records: 12345,
    deleted: 3,
    quarantined: 2,
    last_fetched_at: '2025-03-04T15:00:00Z',
    last_success_at: '2025-03-04T15:00:00Z',
  }),
  summaryRow({ resource: 'personas', records: 980, last_error: 'personas: Contífico did not answer in time', resume_page: 4 }),
  summaryRow({ resource: 'bodegas', records: 0, supports_incremental: false }),
];

let emit: ReturnType<typeof resetApiMocks>;

function rows(from: number, n: number): BrowseRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(from + i + 1),
    values: [`P${from + i + 1}`, `Producto ${from + i + 1}`, 'A', '1234.50', '2025-03-04'],
    deleted_at: i === 1 && from === 0 ? '2025-03-05T10:00:00Z' : null,
    fetched_at: '2025-03-05T10:00:00Z',
  }));
}

beforeEach(() => {
  emit = resetApiMocks(mocked);
  window.localStorage.clear();
  mocked.listConnections.mockResolvedValue([omie, quito]);
  mocked.syncResources.mockResolvedValue(resources);
  mocked.syncSummary.mockResolvedValue(summary);
  mocked.listJobs.mockResolvedValue([]);
  mocked.syncHistory.mockResolvedValue([]);
  mocked.syncQuarantine.mockResolvedValue([]);
  window.location.hash = '#/contifico';
});

async function renderPage(hash = '#/contifico') {
  window.location.hash = hash;
  render(<App initialInfo={info} />);
  await screen.findByTestId('page-contifico');
}

describe('Contífico page: summary', () => {
  it('lists one summary row per resource with translated labels and locale numbers', async () => {
    await renderPage();
    await waitFor(() => expect(screen.getAllByTestId('summary-row')).toHaveLength(3));
    const [productos, personas, bodegas] = screen.getAllByTestId('summary-row');
    expect(productos).toHaveAttribute('data-resource', 'productos');
    expect(productos).toHaveTextContent('Products');
    expect(within(productos!).getByTestId('summary-records')).toHaveTextContent('12,345');
    expect(within(productos!).getByTestId('summary-quarantined')).toHaveAttribute('href', '#/contifico/quarantine/productos');
    expect(within(productos!).getByTestId('summary-mode')).toHaveTextContent('Only changes');
    expect(personas).toHaveTextContent('Customers and suppliers');
    expect(personas).toHaveTextContent('Resumes at page 4');
    expect(within(personas!).getByTestId('summary-error')).toHaveTextContent('did not answer in time');
    expect(within(personas!).getByTestId('summary-success')).toHaveTextContent('Never');
    expect(bodegas).toHaveTextContent('Warehouses');
    expect(within(bodegas!).getByTestId('summary-mode')).toHaveTextContent('Full read each time');
    expect(within(productos!).getByTestId('summary-browse')).toHaveAttribute('href', '#/contifico/browse/productos');
    expect(screen.getByTestId('summary-total')).toHaveTextContent('13,325');
    expect(mocked.syncSummary).toHaveBeenCalledWith('c1');
    // One Contífico connection: no picker, only its name.
    expect(screen.queryByTestId('contifico-connection')).not.toBeInTheDocument();
    expect(screen.getByTestId('contifico-connection-name')).toHaveTextContent('Quito Matriz');
  });

  it('formats figures in Brazilian Portuguese', async () => {
    await i18n.changeLanguage('pt-BR');
    await renderPage();
    const rowsEl = await screen.findAllByTestId('summary-row');
    expect(within(rowsEl[0]!).getByTestId('summary-records')).toHaveTextContent('12.345');
    expect(rowsEl[0]).toHaveTextContent('Produtos');
  });

  it('says the figures are what the team database holds when the window works on one', async () => {
    await i18n.changeLanguage('pt-BR');
    render(<App initialInfo={{ ...info, team_database: 'postgres://ana@db.local/backoffice' }} />);
    await screen.findByTestId('page-contifico');
    await screen.findAllByTestId('summary-row');
    expect(screen.getByRole('heading', { name: 'O que há no banco de dados da equipe' })).toBeInTheDocument();
    expect(screen.getByTestId('page-contifico')).toHaveTextContent('no banco de dados da equipe, compartilhada');
    expect(screen.queryByText('O que há neste computador')).not.toBeInTheDocument();
  });

  it('points to Connections when there is no Contífico connection', async () => {
    mocked.listConnections.mockResolvedValue([omie]);
    await renderPage();
    expect(await screen.findByTestId('contifico-empty')).toHaveTextContent('No Contífico connection yet');
    expect(screen.getByTestId('contifico-go-connections')).toHaveAttribute('href', '#/connections');
    expect(mocked.syncSummary).not.toHaveBeenCalled();
  });

  it('lets the user pick among several Contífico connections', async () => {
    mocked.listConnections.mockResolvedValue([quito, guayaquil]);
    const user = userEvent.setup();
    await renderPage();
    const picker = await screen.findByTestId('contifico-connection');
    expect(picker).toHaveValue('c1');
    await user.selectOptions(picker, 'c2');
    await waitFor(() => expect(mocked.syncSummary).toHaveBeenLastCalledWith('c2'));
    expect(screen.getByTestId('page-contifico')).toHaveAttribute('data-connection', 'c2');
  });

  it('rewinds a resource after showing how much will be read again', async () => {
    mocked.syncRewind.mockImplementation(async (_c, resource, to, apply) => ({
      resource,
      to,
      stored_records: 12345,
      estimated_refetch: 1500,
      whole_resource: false,
      applied: apply,
    }));
    const user = userEvent.setup();
    await renderPage();
    const [productos] = await screen.findAllByTestId('summary-row');
    await user.click(within(productos!).getByTestId('summary-rewind'));
    const dialog = await screen.findByTestId('rewind-dialog');
    expect(within(dialog).getByTestId('rewind-confirm')).toBeDisabled();
    fireEvent.change(within(dialog).getByTestId('rewind-date'), { target: { value: '2025-01-31' } });
    await user.click(within(dialog).getByTestId('rewind-preview'));
    expect(mocked.syncRewind).toHaveBeenLastCalledWith('c1', 'productos', '2025-01-31', false);
    expect(await within(dialog).findByTestId('rewind-estimate')).toHaveTextContent(
      'About 1,500 records will be read again (out of 12,345 stored).',
    );
    await user.click(within(dialog).getByTestId('rewind-confirm'));
    expect(mocked.syncRewind).toHaveBeenLastCalledWith('c1', 'productos', '2025-01-31', true);
    expect(await screen.findByTestId('rewind-done')).toHaveTextContent('“Products” was rewound to 01/31/2025');
    expect(screen.queryByTestId('rewind-dialog')).not.toBeInTheDocument();
  });
});

describe('Contífico page: sync', () => {
  it('sends the chosen resources and options when Sync now is clicked', async () => {
    mocked.syncStart.mockResolvedValue(job({ id: 's1', kind: 'sync_contifico', status: 'queued', finished_at: null }));
    const user = userEvent.setup();
    await renderPage();
    await user.click(await screen.findByTestId('sync-resource-personas'));
    await user.click(screen.getByTestId('sync-resource-productos'));
    fireEvent.change(screen.getByTestId('sync-since'), { target: { value: '2025-01-15T08:30' } });
    await user.click(screen.getByTestId('sync-full-refresh'));
    await user.click(screen.getByTestId('sync-now'));
    expect(mocked.syncStart).toHaveBeenCalledWith('c1', {
      resources: ['productos', 'personas'],
      since: new Date('2025-01-15T08:30').toISOString(),
      full_refresh: true,
      page_size: null,
      batch_size: null,
    });
  });

  it('syncs everything when nothing is ticked', async () => {
    mocked.syncStart.mockResolvedValue(job({ id: 's1', kind: 'sync_contifico', status: 'queued', finished_at: null }));
    const user = userEvent.setup();
    await renderPage();
    await user.click(await screen.findByTestId('sync-now'));
    expect(mocked.syncStart).toHaveBeenCalledWith('c1', {
      resources: [],
      since: null,
      full_refresh: false,
      page_size: null,
      batch_size: null,
    });
  });

  it('follows the job live through job events, then shows the result with counts', async () => {
    const queued = job({
      id: 's1',
      kind: 'sync_contifico',
      connection_id: 'c1',
      connection_name: 'Quito Matriz',
      status: 'queued',
      started_at: null,
      finished_at: null,
    });
    mocked.syncStart.mockResolvedValue(queued);
    const user = userEvent.setup();
    await renderPage();
    await user.click(await screen.findByTestId('sync-now'));
    const progress = await screen.findByTestId('sync-progress');
    expect(progress).toHaveAttribute('data-status', 'queued');
    expect(screen.getByTestId('sync-now')).toBeDisabled();

    act(() =>
      emit({
        job: {
          ...queued,
          status: 'running',
          started_at: new Date().toISOString(),
          progress: 0.5,
          progress_label: 'personas: page 3, 600 records, 1200/s',
          counts: { records: 1600 },
        },
        log: null,
      }),
    );
    const live = screen.getByTestId('sync-progress');
    expect(live).toHaveAttribute('data-status', 'running');
    expect(within(live).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '50');
    expect(live).toHaveTextContent('Customers and suppliers: page 3');
    expect(within(live).getByTestId('sync-records')).toHaveTextContent('Records saved: 1,600');
    expect(within(live).getByTestId('sync-rate')).toHaveTextContent('1,200 records per second');

    // An event from another connection or job kind is ignored.
    act(() => emit({ job: { ...queued, id: 'x', connection_id: 'c9', status: 'failed' }, log: null }));
    expect(screen.getByTestId('sync-progress')).toBeInTheDocument();

    const summaryCalls = mocked.syncSummary.mock.calls.length;
    act(() =>
      emit({
        job: {
          ...queued,
          status: 'succeeded',
          started_at: '2025-03-05T10:00:00Z',
          finished_at: '2025-03-05T10:02:05Z',
          progress: 1,
          counts: { records: 13325, deleted: 3, quarantined: 2, resources_synced: 3, resources_failed: 0 },
        },
        log: null,
      }),
    );
    const result = await screen.findByTestId('sync-result');
    expect(result).toHaveAttribute('data-status', 'succeeded');
    expect(result).toHaveTextContent('Sync finished in 2m 5s.');
    expect(within(result).getByTestId('sync-result-counts')).toHaveTextContent(
      'Records saved: 13,325 · Marked deleted: 3 · Quarantined: 2 · Resources synced: 3 · Failed: 0',
    );
    expect(within(result).getByTestId('sync-job-link')).toHaveAttribute('href', '#/jobs/s1');
    expect(screen.queryByTestId('sync-progress')).not.toBeInTheDocument();
    await waitFor(() => expect(mocked.syncSummary.mock.calls.length).toBeGreaterThan(summaryCalls));
  });

  it('cancels the running sync', async () => {
    const running = job({ id: 's1', kind: 'sync_contifico', connection_id: 'c1', status: 'running', progress: 0.2, finished_at: null });
    mocked.listJobs.mockResolvedValue([running]);
    mocked.cancelJob.mockResolvedValue({ ...running, status: 'cancelled', finished_at: '2025-03-01T12:01:00Z' });
    const user = userEvent.setup();
    await renderPage();
    await user.click(await screen.findByTestId('sync-cancel'));
    expect(mocked.cancelJob).toHaveBeenCalledWith('s1');
    expect(await screen.findByTestId('sync-result')).toHaveAttribute('data-status', 'cancelled');
  });

  it('explains a failed sync in plain words, naming the data that failed', async () => {
    const failed = job({
      id: 's2',
      kind: 'sync_contifico',
      connection_id: 'c1',
      connection_name: 'Quito Matriz',
      status: 'failed',
      counts: { records: 10, resources_synced: 1, resources_failed: 2 },
      error: {
        code: 'remote',
        message: 'x',
        params: {
          connection: 'Quito Matriz',
          remote_code: 'sync_partial',
          remote_message:
            '2 of 3 resources could not be synced (personas, bodegas); the others were saved. See the job log for each reason, then run the sync again.',
        },
        details: null,
      },
    });
    mocked.listJobs.mockResolvedValue([failed]);
    await i18n.changeLanguage('es');
    await renderPage();
    const result = await screen.findByTestId('sync-result');
    expect(result).toHaveAttribute('data-status', 'failed');
    expect(within(result).getByTestId('sync-result-error')).toHaveTextContent(
      '2 de 3 tipos de datos no se pudieron sincronizar: Clientes y proveedores, Bodegas.',
    );
  });

  it('shows the translated error when a sync is already running', async () => {
    mocked.syncStart.mockRejectedValue({
      code: 'job_already_running',
      message: 'busy',
      params: { kind: 'sync_contifico', target: '"Quito Matriz"' },
      details: null,
    });
    const user = userEvent.setup();
    await renderPage();
    await user.click(await screen.findByTestId('sync-now'));
    expect(await screen.findByTestId('sync-error')).toHaveTextContent(
      'A “Contífico catalog sync” job is already running for "Quito Matriz".',
    );
  });
});

describe('Contífico page: browser', { timeout: 20_000 }, () => {
  /** A server with 450 products that answers at most `perPage` rows (fewer rows keep jsdom fast). */
  const serve = (perPage: number) =>
    mocked.syncBrowse.mockImplementation(async (q: BrowseQuery) => ({
      columns: resources[0]!.columns,
      rows: rows(q.offset, Math.min(q.limit, perPage, 450 - q.offset)),
      total: 450,
    }));

  beforeEach(() => {
    serve(25);
  });

  const lastQuery = (): BrowseQuery => mocked.syncBrowse.mock.lastCall![0];

  it('pages from the server, 200 rows at a time', async () => {
    serve(200);
    const user = userEvent.setup();
    await renderPage('#/contifico/browse/productos');
    const browser = await screen.findByTestId('contifico-browser');
    await waitFor(() => expect(within(browser).getByTestId('browse-total')).toHaveTextContent('Records found: 450'));
    expect(lastQuery()).toEqual({
      connection_id: 'c1',
      resource: 'productos',
      offset: 0,
      limit: 200,
      sort: null,
      desc: false,
      filters: [],
      search: null,
      include_deleted: false,
    });
    expect(within(browser).getAllByTestId('browse-row')).toHaveLength(200);

    await user.click(within(browser).getByTestId('browse-load-more'));
    await waitFor(() => expect(within(browser).getByTestId('browse-shown')).toHaveTextContent('Showing 400 of 450'));
    expect(lastQuery()).toMatchObject({ offset: 200, limit: 200 });

    await user.click(within(browser).getByTestId('browse-load-more'));
    await waitFor(() => expect(within(browser).getByTestId('browse-shown')).toHaveTextContent('Showing 450 of 450'));
    expect(lastQuery()).toMatchObject({ offset: 400 });
    expect(within(browser).queryByTestId('browse-load-more')).not.toBeInTheDocument();
  });

  it('sorts by a column header: ascending, descending, then unsorted', async () => {
    const user = userEvent.setup();
    await renderPage('#/contifico/browse/productos');
    const browser = await screen.findByTestId('contifico-browser');
    await waitFor(() => expect(within(browser).getAllByTestId('browse-row')).toHaveLength(25));
    await user.click(within(browser).getByTestId('browse-load-more'));
    await waitFor(() => expect(within(browser).getAllByTestId('browse-row')).toHaveLength(50));
    expect(lastQuery()).toMatchObject({ offset: 25, sort: null });

    await user.click(within(browser).getByTestId('browse-sort-pvp1'));
    await waitFor(() => expect(lastQuery()).toMatchObject({ sort: 'pvp1', desc: false, offset: 0 }));
    // A new order starts again from the first page.
    await waitFor(() => expect(within(browser).getAllByTestId('browse-row')).toHaveLength(25));
    expect(within(browser).getByTestId('browse-sort-pvp1')).toHaveAttribute('data-sort', 'asc');

    await user.click(within(browser).getByTestId('browse-sort-pvp1'));
    await waitFor(() => expect(lastQuery()).toMatchObject({ sort: 'pvp1', desc: true, offset: 0 }));
    expect(within(browser).getByTestId('browse-sort-pvp1')).toHaveAttribute('data-sort', 'desc');
    await user.click(within(browser).getByTestId('browse-sort-pvp1'));
    await waitFor(() => expect(lastQuery()).toMatchObject({ sort: null, desc: false }));
  });

  it('filters, searches and shows deleted records', async () => {
    const user = userEvent.setup();
    await renderPage('#/contifico/browse/productos');
    const browser = await screen.findByTestId('contifico-browser');
    await waitFor(() => expect(within(browser).getAllByTestId('browse-row')).toHaveLength(25));

    await user.type(within(browser).getByTestId('browse-filter-nombre'), 'silla');
    await user.type(within(browser).getByTestId('browse-filter-pvp1-gte'), '1,234.5');
    expect(within(browser).getByTestId('browse-filter-pvp1-gte')).toHaveFocus();
    fireEvent.change(within(browser).getByTestId('browse-filter-fecha_creacion-lte'), { target: { value: '2025-02-28' } });
    await waitFor(() =>
      expect(lastQuery().filters).toEqual([
        { column: 'nombre', op: 'contains', value: 'silla' },
        { column: 'pvp1', op: 'gte', value: '1234.5' },
        { column: 'fecha_creacion', op: 'lte', value: '2025-02-28' },
      ]),
    );
    // The typed text stays (and the input kept its focus above): the header is not rebuilt.
    expect(within(browser).getByTestId('browse-filter-pvp1-gte')).toHaveValue('1,234.5');

    await user.type(within(browser).getByTestId('browse-search'), 'madera roble');
    await waitFor(() => expect(lastQuery().search).toBe('madera roble'));
    await user.click(within(browser).getByTestId('browse-show-deleted'));
    await waitFor(() => expect(lastQuery().include_deleted).toBe(true));
  });

  it('formats decimals exactly and dates per locale, marks deleted rows and shows the raw JSON', async () => {
    mocked.syncRecord.mockResolvedValue('{"id":"2","pvp1":1234.567890123456789,"nombre":"Silla, roble"}');
    const user = userEvent.setup();
    await i18n.changeLanguage('pt-BR');
    await renderPage('#/contifico/browse/productos');
    const browser = await screen.findByTestId('contifico-browser');
    await waitFor(() => expect(within(browser).getAllByTestId('browse-row')).toHaveLength(25));
    const [first, second] = within(browser).getAllByTestId('browse-row');
    expect(first).toHaveTextContent('1.234,50');
    expect(first).toHaveTextContent('04/03/2025');
    expect(first).toHaveAttribute('data-deleted', 'false');
    expect(second).toHaveAttribute('data-deleted', 'true');
    expect(within(second!).getByTestId('browse-deleted')).toHaveTextContent('Excluído');

    await user.click(second!);
    const panel = await screen.findByTestId('record-panel');
    expect(mocked.syncRecord).toHaveBeenCalledWith('c1', 'productos', '2');
    const json = await within(panel).findByTestId('record-json');
    expect(json.textContent).toContain('"pvp1": 1234.567890123456789');
    expect(json.textContent).toContain('"nombre": "Silla, roble"');
    await user.click(within(panel).getByTestId('record-panel-close'));
    expect(screen.queryByTestId('record-panel')).not.toBeInTheDocument();
  });

  it('switches resource from the picker', async () => {
    const user = userEvent.setup();
    await renderPage('#/contifico/browse/productos');
    const browser = await screen.findByTestId('contifico-browser');
    await user.selectOptions(within(browser).getByTestId('browse-resource'), 'personas');
    await waitFor(() => expect(window.location.hash).toBe('#/contifico/browse/personas'));
    await waitFor(() => expect(lastQuery().resource).toBe('personas'));
  });
});

describe('Contífico page: history and quarantine', () => {
  it('lists sync runs with counts, errors and a link to the job', async () => {
    mocked.syncHistory.mockResolvedValue([
      {
        id: 'r2',
        job_id: 'j2',
        erp: 'contifico',
        mode: 'full',
        status: 'failed',
        started_at: '2025-03-05T10:00:00Z',
        finished_at: '2025-03-05T10:01:30Z',
        counts: { records: 500, resources_failed: 1 },
        errors: { personas: 'Contífico did not answer in time' },
      },
      {
        id: 'r1',
        job_id: 'j1',
        erp: 'contifico',
        mode: 'incremental',
        status: 'succeeded',
        started_at: '2025-03-04T10:00:00Z',
        finished_at: '2025-03-04T10:00:45Z',
        counts: { records: 12000 },
        errors: {},
      },
    ]);
    await renderPage('#/contifico/history');
    const history = await screen.findByTestId('sync-history');
    await waitFor(() => expect(within(history).getAllByTestId('sync-run')).toHaveLength(2));
    const [failedRun, okRun] = within(history).getAllByTestId('sync-run');
    expect(failedRun).toHaveAttribute('data-status', 'failed');
    expect(failedRun).toHaveTextContent('Full refresh');
    expect(failedRun).toHaveTextContent('1m 30s');
    expect(failedRun).toHaveTextContent('Records 500');
    expect(within(failedRun!).getByTestId('sync-run-errors')).toHaveTextContent('Customers and suppliers: Contífico did not answer in time');
    expect(within(failedRun!).getByTestId('sync-run-job')).toHaveAttribute('href', '#/jobs/j2');
    expect(okRun).toHaveTextContent('Changes only');
    expect(okRun).toHaveTextContent('Succeeded');
    expect(mocked.syncHistory).toHaveBeenCalledWith('c1');
  });

  it('explains quarantine and lists the records of the chosen resource', async () => {
    mocked.syncQuarantine.mockResolvedValue([
      {
        resource: 'productos',
        record_id: 'P9',
        reason: 'field "fecha_creacion": "31/02/2025" is not a date (expected dd/mm/yyyy or yyyy-mm-dd)',
        why: {
          key: 'jobLog.parse.not_a_date',
          params: { field: 'fecha_creacion', value: '31/02/2025' },
          message: 'field "fecha_creacion": "31/02/2025" is not a date (expected dd/mm/yyyy or yyyy-mm-dd)',
        },
        at: '2025-03-05T10:00:00Z',
        raw: '{"id":"P9"}',
      },
      { resource: 'personas', record_id: 'X1', reason: 'bad amount', why: { key: '', params: {}, message: 'bad amount' }, at: '2025-03-05T10:00:00Z', raw: '{}' },
    ]);
    const user = userEvent.setup();
    await renderPage('#/contifico/quarantine/productos');
    const list = await screen.findByTestId('quarantine-list');
    expect(within(list).getByTestId('quarantine-help')).toHaveTextContent('correct the field named in the reason');
    await waitFor(() => expect(within(list).getAllByTestId('quarantine-row')).toHaveLength(1));
    expect(within(list).getByTestId('quarantine-row')).toHaveTextContent('Products');
    expect(within(list).getByTestId('quarantine-row')).toHaveTextContent('the field “fecha_creacion” should be a date but is “31/02/2025”');
    // Said in the window's language, not in the core's English.
    await act(() => i18n.changeLanguage('pt-BR'));
    await waitFor(() =>
      expect(within(list).getByTestId('quarantine-reason')).toHaveTextContent('o campo “fecha_creacion” deveria ser uma data, mas é “31/02/2025”'),
    );
    expect(within(list).getByTestId('quarantine-row')).not.toHaveTextContent('is not a date');
    await act(() => i18n.changeLanguage('en'));
    expect(mocked.syncQuarantine).toHaveBeenCalledWith('c1');

    await user.selectOptions(within(list).getByTestId('quarantine-resource'), '');
    await waitFor(() => expect(within(list).getAllByTestId('quarantine-row')).toHaveLength(2));
  });
});

describe('Contífico helpers', () => {
  it('keeps the most advanced state of a job and prefers newer jobs', () => {
    const a = job({ id: 'a', status: 'running', created_at: '2025-03-01T12:00:00Z' });
    expect(pickJob(null, a)).toBe(a);
    expect(pickJob(a, { ...a, status: 'queued' })).toBe(a);
    const done = { ...a, status: 'succeeded' as const };
    expect(pickJob(a, done)).toBe(done);
    const b = job({ id: 'b', status: 'queued', created_at: '2025-03-01T13:00:00Z' });
    expect(pickJob(done, b)).toBe(b);
    expect(pickJob(b, done)).toBe(b);
  });

  it('reads the progress label of the core', () => {
    expect(parseProgressLabel('personas: page 3, 600 records, 1200/s')).toEqual({
      resource: 'personas',
      page: 3,
      records: 600,
      rate: 1200,
      rest: null,
    });
    expect(parseProgressLabel('productos: full read')).toMatchObject({ resource: 'productos', rest: 'full read' });
    expect(parseProgressLabel('something else')).toBeNull();
  });

  it('indents JSON without touching number digits', () => {
    expect(prettyJson('{"a":1.10000000000000000001,"b":[],"c":{"d":"x, {y}"},"e":[1,2]}')).toBe(
      '{\n  "a": 1.10000000000000000001,\n  "b": [],\n  "c": {\n    "d": "x, {y}"\n  },\n  "e": [\n    1,\n    2\n  ]\n}',
    );
    expect(prettyJson('{"q":"say \\"hi\\""}')).toBe('{\n  "q": "say \\"hi\\""\n}');
  });

  it('builds filters per column kind and reports numbers it cannot read', () => {
    const cols = resources[0]!.columns;
    expect(
      buildFilters(
        { codigo: { contains: ' A1 ' }, pvp1: { gte: '1.234,5', lte: 'abc' }, fecha_creacion: { gte: '2025-01-01' }, nope: { contains: 'x' } },
        cols,
        'pt-BR',
      ),
    ).toEqual({
      filters: [
        { column: 'codigo', op: 'contains', value: 'A1' },
        { column: 'pvp1', op: 'gte', value: '1234.5' },
        { column: 'fecha_creacion', op: 'gte', value: '2025-01-01' },
      ],
      invalid: ['pvp1-lte'],
    });
  });

  it('cycles the sort order', () => {
    expect(nextSort(null, 'a')).toEqual({ column: 'a', desc: false });
    expect(nextSort({ column: 'a', desc: false }, 'a')).toEqual({ column: 'a', desc: true });
    expect(nextSort({ column: 'a', desc: true }, 'a')).toBeNull();
    expect(nextSort({ column: 'a', desc: true }, 'b')).toEqual({ column: 'b', desc: false });
  });
});
