import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import * as api from '../../api';
import * as omie from './api';
import { App } from '../../App';
import type { ApiError } from '../../bindings/ApiError';
import type { OmieAttachmentTransfer } from '../../bindings/OmieAttachmentTransfer';
import type { OmiePoCloseConfig } from '../../bindings/OmiePoCloseConfig';
import type { OmiePoClosure } from '../../bindings/OmiePoClosure';
import i18n from '../../i18n';
import { appInfo, connection, job, resourceSummary, syncRun } from '../../test/fixtures';
import { resetApiMocks } from '../../test/mockApi';
import { checkClose, checkConfig, checkTransfer } from './forms';
import { formatBrl, formatDocument, omieErrorText } from './util';

vi.mock('../../api', async () => (await import('../../test/mockApi')).apiMockFactory());
vi.mock('./api', () => ({
  omieKeyStatus: vi.fn(),
  omieLocalClients: vi.fn(),
  omieAttachmentSettings: vi.fn(),
  omieSaveAttachmentSettings: vi.fn(),
  omieTransferAttachments: vi.fn(),
  omieAttachmentScan: vi.fn(),
  omieRetryAttachments: vi.fn(),
  omieUploadAttachment: vi.fn(),
  omieAttachmentTransfers: vi.fn(),
  omieAttachmentTransferDetail: vi.fn(),
  omieAttachmentMap: vi.fn(),
  omiePoCloseConfig: vi.fn(),
  omieSavePoCloseConfig: vi.fn(),
  omieClosePurchaseOrder: vi.fn(),
  omiePoCloseScan: vi.fn(),
  omieRetryPoClosures: vi.fn(),
  omiePoClosures: vi.fn(),
  omiePreview: vi.fn(),
}));

const core = vi.mocked(api);
const m = vi.mocked(omie);

const info = appInfo();

const sp = connection({ id: 'o1', name: 'Omie SP', kind: 'omie' });
const rj = connection({ id: 'o2', name: 'Omie RJ', kind: 'omie' });
const quito = connection({ id: 'c1', name: 'Quito', kind: 'contifico' });

function transfer(over: Partial<OmieAttachmentTransfer>): OmieAttachmentTransfer {
  return {
    id: 't1',
    connection_id: 'o1',
    origin_table: 'com-recebimento',
    origin_id: '1001',
    dest_table: 'conta-pagar',
    dest_id: '2001',
    nf_number: '4512',
    local_path: null,
    status: 'succeeded',
    attempts: 1,
    max_attempts: 3,
    transferred: 2,
    duplicates: 0,
    failed: 0,
    duration_ms: 1800,
    last_error: null,
    last_error_code: null,
    job_id: 'j9',
    created_at: '2025-03-04T12:00:00Z',
    updated_at: '2025-03-04T12:00:02Z',
    ...over,
  };
}

const FAULT: ApiError = {
  code: 'remote',
  message: '“Omie SP” reported an error: IncluirAnexo refused "boleto.pdf" for conta-pagar 2002: ERROR: Arquivo com extensão inválida',
  params: { connection: 'Omie SP', remote_message: 'IncluirAnexo refused "boleto.pdf" for conta-pagar 2002: ERROR: Arquivo com extensão inválida' },
  details: null,
};

const config: OmiePoCloseConfig = {
  service_path: 'produtos/pedidocompra/',
  call: '',
  param_template: '{"cNumero": "{order_number}", "cStatus": "{status}", "cCodItem": "{item}"}',
  status_value: 'Encerrado',
  status_field: '',
  max_attempts: 3,
};

function closure(over: Partial<OmiePoClosure>): OmiePoClosure {
  return {
    id: 'p1',
    connection_id: 'o1',
    order_number: '1004',
    item: '',
    order_id: '77',
    service_invoice_number: '9001',
    service_invoice_id: null,
    payable_id: null,
    source: 'manual',
    status: 'succeeded',
    outcome: 'closed',
    attempts: 1,
    max_attempts: 3,
    previous_stage: '10',
    previous_status: 'open',
    new_stage: '60',
    new_status: 'closed',
    call_used: 'produtos/pedidocompra/AlterarPedCompra',
    error: null,
    error_code: null,
    job_id: 'j3',
    created_at: '2025-03-04T12:00:00Z',
    updated_at: '2025-03-04T12:00:02Z',
    ...over,
  };
}

let emit: ReturnType<typeof resetApiMocks>;

beforeEach(() => {
  emit = resetApiMocks(core);
  window.localStorage.clear();
  core.listConnections.mockResolvedValue([quito, sp]);
  core.listJobs.mockResolvedValue([]);
  m.omieKeyStatus.mockResolvedValue({ connection_id: 'o1', blocked: false, blocked_until: null, seconds_left: null, reason: null });
  m.omieAttachmentSettings.mockResolvedValue({ source_table: 'com-recebimento', dest_table: 'conta-pagar', max_file_mb: 20, max_attempts: 3 });
  m.omieAttachmentTransfers.mockResolvedValue([]);
  m.omieAttachmentMap.mockResolvedValue([]);
  m.omiePoCloseConfig.mockResolvedValue(config);
  m.omiePoClosures.mockResolvedValue([]);
  core.syncResources.mockResolvedValue([
    {
      name: 'contas_pagar',
      supports_incremental: true,
      columns: [
        { name: 'numero_documento', kind: 'text' },
        { name: 'valor_documento', kind: 'decimal' },
        { name: 'data_vencimento', kind: 'date' },
      ],
    },
    { name: 'clientes', supports_incremental: true, columns: [{ name: 'razao_social', kind: 'text' }] },
  ]);
  core.syncSummary.mockResolvedValue([resourceSummary({ resource: 'contas_pagar', records: 2, last_success_at: '2025-03-04T15:00:00Z' })]);
  core.syncBrowse.mockResolvedValue({
    columns: [],
    rows: [
      { id: '501', values: ['NF-1', '1234567.891', '2025-03-10'], deleted_at: null, fetched_at: '2025-03-05T10:00:00Z' },
      { id: '502', values: ['NF-2', '0.10', null], deleted_at: null, fetched_at: '2025-03-05T10:00:00Z' },
    ],
    total: 2,
  });
  m.omieLocalClients.mockResolvedValue([
    {
      id: 'l1',
      connection_id: 'o1',
      name: 'Padaria Boa Vista',
      document: '11222333000181',
      document_kind: 'cnpj',
      omie_codigo: '88',
      email: null,
      matched_by: 'document',
      created_at: '2025-03-01T00:00:00Z',
      updated_at: '2025-03-01T00:00:00Z',
    },
  ]);
});

async function renderPage(hash = '#/omie') {
  window.location.hash = hash;
  render(<App initialInfo={info} />);
  await screen.findByTestId('page-omie');
}

describe('Omie page: shell', () => {
  it('renders the four tabs and switches between them', async () => {
    const user = userEvent.setup();
    await renderPage();
    for (const tab of ['attachments', 'orders', 'data', 'sync']) expect(screen.getByTestId(`omie-tab-${tab}`)).toBeInTheDocument();
    expect(await screen.findByTestId('att-transfer-form')).toBeInTheDocument();
    expect(screen.getByTestId('omie-tab-attachments')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('att-explain')).toHaveTextContent('exactly once');

    await user.click(screen.getByTestId('omie-tab-orders'));
    expect(await screen.findByTestId('po-close-form')).toBeInTheDocument();
    expect(screen.getByTestId('po-config')).toBeInTheDocument();

    await user.click(screen.getByTestId('omie-tab-data'));
    expect(await screen.findByTestId('contifico-summary')).toBeInTheDocument();
    expect(await screen.findByTestId('omie-browser')).toBeInTheDocument();
    expect(screen.getByTestId('omie-local-clients')).toHaveTextContent('11.222.333/0001-81');

    await user.click(screen.getByTestId('omie-tab-sync'));
    expect(await screen.findByTestId('sync-now')).toBeInTheDocument();
  });

  it('shows an empty state without Omie connections and a picker with several', async () => {
    core.listConnections.mockResolvedValue([quito]);
    await renderPage();
    expect(await screen.findByTestId('omie-empty')).toBeInTheDocument();
  });

  it('offers a connection picker when there are several Omie companies', async () => {
    const user = userEvent.setup();
    core.listConnections.mockResolvedValue([sp, rj]);
    await renderPage();
    const picker = await screen.findByTestId('omie-connection');
    await waitFor(() => expect(m.omieAttachmentTransfers).toHaveBeenCalledWith('o1', null, 200));
    await user.selectOptions(picker, 'o2');
    await waitFor(() => expect(m.omieAttachmentTransfers).toHaveBeenCalledWith('o2', null, 200));
    expect(m.omieKeyStatus).toHaveBeenCalledWith('o2');
  });

  it('shows when Omie blocked the key and for how long', async () => {
    const until = new Date(Date.now() + 11.5 * 60_000).toISOString();
    m.omieKeyStatus.mockResolvedValue({ connection_id: 'o1', blocked: true, blocked_until: until, seconds_left: 690, reason: 'MISUSE_API_PROCESS' });
    await renderPage();
    const banner = await screen.findByTestId('omie-key-blocked');
    expect(banner).toHaveTextContent(/Omie blocked this key until \d{2}:\d{2} \(in 12 min\); BackOffice stops all calls until then/);
    expect(banner).toHaveTextContent('MISUSE_API_PROCESS');
  });

  it('hides the banner when the block has already passed', async () => {
    const until = new Date(Date.now() - 60_000).toISOString();
    m.omieKeyStatus.mockResolvedValue({ connection_id: 'o1', blocked: true, blocked_until: until, seconds_left: 1, reason: null });
    await renderPage();
    await screen.findByTestId('att-transfer-form');
    expect(screen.queryByTestId('omie-key-blocked')).not.toBeInTheDocument();
  });
});

describe('Omie page: attachments', () => {
  it('sends the transfer request with the chosen tables and ids, then shows the dry-run preview', async () => {
    const user = userEvent.setup();
    const started = job({ id: 'jt', kind: 'omie_attachment_transfer', connection_id: 'o1', status: 'queued', params: { dry_run: true }, finished_at: null });
    m.omieTransferAttachments.mockResolvedValue(started);
    m.omiePreview.mockResolvedValue([
      { kind: 'attachment', action: 'transfer', origin: 'nota.pdf', destination: 'conta-pagar 456 as "nota.pdf"', detail: '1200 bytes' },
      { kind: 'attachment', action: 'skip_duplicate', origin: 'nfe.xml', destination: 'conta-pagar 456', detail: 'same content' },
    ]);
    await renderPage();
    await screen.findByTestId('att-transfer-form');
    expect(screen.getByTestId('att-from-table')).toHaveValue('com-recebimento');
    expect(screen.getByTestId('att-to-table')).toHaveValue('conta-pagar');

    await user.type(screen.getByTestId('att-from-id'), '123');
    await user.type(screen.getByTestId('att-to-id'), '456');
    await user.click(screen.getByTestId('att-dry-run'));
    await user.click(screen.getByTestId('att-transfer'));
    expect(m.omieTransferAttachments).toHaveBeenCalledWith('o1', {
      from_table: 'com-recebimento',
      from_id: '123',
      to_table: 'conta-pagar',
      to_id: '456',
      dry_run: true,
    });
    expect(await screen.findByTestId('att-activity')).toHaveAttribute('data-status', 'queued');

    act(() => emit({ job: { ...started, status: 'succeeded', counts: { planned: 1, duplicates: 1 }, finished_at: '2025-03-01T12:00:09Z' }, log: null }));
    const preview = await screen.findByTestId('att-preview');
    expect(m.omiePreview).toHaveBeenCalledWith('jt');
    const rows = within(preview).getAllByTestId('att-preview-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('Copy');
    expect(rows[1]).toHaveTextContent('A file with the same content is already there');
    // The log is re-read once the job ends.
    await waitFor(() => expect(m.omieAttachmentTransfers.mock.calls.length).toBeGreaterThan(1));
  });

  it('explains a missing or non-numeric id without calling Omie', async () => {
    const user = userEvent.setup();
    await renderPage();
    await screen.findByTestId('att-transfer-form');
    await user.type(screen.getByTestId('att-to-id'), '12a');
    await user.click(screen.getByTestId('att-transfer'));
    expect(screen.getByTestId('att-from-id-error')).toHaveTextContent('Enter the Omie id.');
    expect(screen.getByTestId('att-to-id-error')).toHaveTextContent('Omie ids are numbers only.');
    expect(m.omieTransferAttachments).not.toHaveBeenCalled();
  });

  it("shows Omie's fault text on a failed transfer and opens its detail", async () => {
    const user = userEvent.setup();
    m.omieAttachmentTransfers.mockResolvedValue([
      transfer({ id: 't2', status: 'failed', dest_id: '2002', attempts: 2, transferred: 1, failed: 1, last_error: FAULT, last_error_code: 'remote' }),
      transfer({}),
    ]);
    m.omieAttachmentTransferDetail.mockResolvedValue({
      transfer: transfer({ id: 't2', status: 'failed', dest_id: '2002', attempts: 2, transferred: 1, failed: 1, last_error: FAULT, last_error_code: 'remote' }),
      files: [
        {
          origin_attachment_id: 'a1',
          file_name: 'boleto.pdf',
          dest_name: 'boleto.pdf',
          size_bytes: 52_000,
          sha256: null,
          cod_int_anexo: 'BO0123456789abcdef01',
          dest_attachment_id: null,
          status: 'failed',
          attempts: 2,
          error: { code: 'remote', message: 'Arquivo com extensão inválida', params: { connection: 'Omie SP', remote_message: 'Arquivo com extensão inválida' }, details: null },
          updated_at: '2025-03-04T12:00:02Z',
        },
      ],
    });
    await renderPage();
    const table = await screen.findByTestId('att-transfers');
    const rows = await within(table).findAllByTestId('att-transfer-row');
    expect(rows).toHaveLength(2);
    const failed = rows.find((r) => r.getAttribute('data-status') === 'failed')!;
    expect(within(failed).getByTestId('att-transfer-error')).toHaveTextContent('Arquivo com extensão inválida');
    expect(failed).toHaveTextContent('Failed');
    expect(within(failed).getByTestId('att-transfer-attempts')).toHaveTextContent('2 / 3');
    expect(rows.find((r) => r.getAttribute('data-status') === 'succeeded')).toHaveTextContent('Succeeded');

    await user.click(failed);
    const drawer = await screen.findByTestId('att-transfer-detail');
    expect(m.omieAttachmentTransferDetail).toHaveBeenCalledWith('t2');
    expect(await within(drawer).findByTestId('att-detail-file')).toHaveTextContent('boleto.pdf');
    expect(within(drawer).getByTestId('att-detail-error')).toHaveTextContent('IncluirAnexo refused');
    await user.click(within(drawer).getByTestId('att-transfer-detail-close'));
    expect(screen.queryByTestId('att-transfer-detail')).not.toBeInTheDocument();
  });

  it('reprocesses pending and failed transfers', async () => {
    const user = userEvent.setup();
    m.omieRetryAttachments.mockResolvedValue(job({ id: 'jr', kind: 'omie_attachment_retry', connection_id: 'o1', status: 'running', finished_at: null }));
    await renderPage();
    await user.click(await screen.findByTestId('att-retry'));
    expect(m.omieRetryAttachments).toHaveBeenCalledWith('o1');
    expect(await screen.findByTestId('att-activity')).toHaveAttribute('data-kind', 'omie_attachment_retry');
  });

  it('scans with a dry run by default', async () => {
    const user = userEvent.setup();
    m.omieAttachmentScan.mockResolvedValue(job({ id: 'js', kind: 'omie_attachment_scan', connection_id: 'o1', status: 'queued', finished_at: null }));
    await renderPage();
    await screen.findByTestId('att-scan-form');
    await user.type(screen.getByTestId('att-scan-since'), '2025-03-01');
    await user.click(screen.getByTestId('att-scan'));
    expect(m.omieAttachmentScan).toHaveBeenCalledWith('o1', { since: '2025-03-01', dry_run: true });
  });

  it('uploads the picked file by its content, or a typed path when nothing is picked', async () => {
    const user = userEvent.setup();
    m.omieUploadAttachment.mockResolvedValue(job({ id: 'ju', kind: 'omie_attachment_upload', connection_id: 'o1', status: 'queued', finished_at: null }));
    await renderPage();
    await screen.findByTestId('att-upload-form');
    await user.type(screen.getByTestId('att-upload-id'), '2001');
    // Neither a file nor a path: refused with a message, nothing sent.
    await user.click(screen.getByTestId('att-upload-submit'));
    expect(await screen.findByTestId('att-upload-path-error')).toHaveTextContent('Enter the full location of the file.');
    expect(m.omieUploadAttachment).not.toHaveBeenCalled();
    await user.upload(screen.getByTestId('att-upload'), new File(['%PDF'], 'boleto.pdf', { type: 'application/pdf' }));
    expect(screen.getByTestId('att-upload-form')).toHaveTextContent('Chosen: boleto.pdf');
    await user.click(screen.getByTestId('att-upload-submit'));
    await waitFor(() =>
      expect(m.omieUploadAttachment).toHaveBeenCalledWith('o1', {
        table: 'conta-pagar',
        id: '2001',
        file_path: '',
        file_name: 'boleto.pdf',
        content_base64: btoa('%PDF'),
      }),
    );
  });

  it('saves the attachment settings', async () => {
    const user = userEvent.setup();
    m.omieSaveAttachmentSettings.mockImplementation(async (_c, s) => s);
    await renderPage();
    const card = await screen.findByTestId('att-settings');
    await user.clear(within(card).getByTestId('att-settings-size'));
    await user.type(within(card).getByTestId('att-settings-size'), '35');
    await user.selectOptions(within(card).getByTestId('att-settings-dest'), 'pedido-compra');
    await user.click(within(card).getByTestId('att-settings-save'));
    expect(m.omieSaveAttachmentSettings).toHaveBeenCalledWith('o1', {
      source_table: 'com-recebimento',
      dest_table: 'pedido-compra',
      max_file_mb: 35,
      max_attempts: 3,
    });
    expect(await within(card).findByTestId('att-settings-saved')).toBeInTheDocument();
  });
});

describe('Omie page: purchase orders', () => {
  it('requires the order number, then sends the close request', async () => {
    const user = userEvent.setup();
    m.omieClosePurchaseOrder.mockResolvedValue(job({ id: 'jp', kind: 'omie_po_close', connection_id: 'o1', status: 'queued', finished_at: null }));
    await renderPage('#/omie/orders');
    await screen.findByTestId('po-close-form');
    await user.click(screen.getByTestId('po-close'));
    expect(screen.getByTestId('po-order-error')).toHaveTextContent('Enter the purchase order number.');
    expect(m.omieClosePurchaseOrder).not.toHaveBeenCalled();

    await user.type(screen.getByTestId('po-order'), '1004');
    await user.type(screen.getByTestId('po-invoice'), '9001');
    await user.click(screen.getByTestId('po-close'));
    expect(m.omieClosePurchaseOrder).toHaveBeenCalledWith('o1', {
      order_number: '1004',
      item: null,
      service_invoice_number: '9001',
      service_invoice_id: null,
      dry_run: false,
    });
    expect(await screen.findByTestId('po-activity')).toHaveAttribute('data-kind', 'omie_po_close');
  });

  it('explains that Omie documents no closing call and saves the configuration', async () => {
    const user = userEvent.setup();
    m.omieSavePoCloseConfig.mockImplementation(async (_c, cfg) => cfg);
    await renderPage('#/omie/orders');
    const form = await screen.findByTestId('po-config');
    expect(form).toHaveTextContent('Omie’s documentation has no call that closes a purchase order');
    expect(within(form).getByTestId('po-config-missing')).toBeInTheDocument();

    await user.type(within(form).getByTestId('po-config-call'), 'Alterar Ped');
    await user.click(within(form).getByTestId('po-config-save'));
    expect(within(form).getByTestId('po-config-call-error')).toBeInTheDocument();
    expect(m.omieSavePoCloseConfig).not.toHaveBeenCalled();

    await user.clear(within(form).getByTestId('po-config-call'));
    await user.type(within(form).getByTestId('po-config-call'), 'AlterarPedCompra');
    await user.clear(within(form).getByTestId('po-config-status'));
    await user.type(within(form).getByTestId('po-config-status'), 'Fechado');
    await user.click(within(form).getByTestId('po-config-save'));
    expect(m.omieSavePoCloseConfig).toHaveBeenCalledWith('o1', { ...config, call: 'AlterarPedCompra', status_value: 'Fechado' });
    expect(await within(form).findByTestId('po-config-saved')).toBeInTheDocument();
    expect(within(form).queryByTestId('po-config-missing')).not.toBeInTheDocument();
  });

  it('lists closures with their stage change and error, and retries failures', async () => {
    const user = userEvent.setup();
    m.omiePoClosures.mockResolvedValue([
      closure({}),
      closure({
        id: 'p2',
        order_number: '1005',
        status: 'failed',
        outcome: 'not_closed',
        attempts: 3,
        new_stage: '10',
        new_status: 'open',
        error: {
          code: 'omie_po_not_closed',
          message: 'The configured call AlterarPedCompra answered, but purchase order 1005 is still open',
          params: { order: '1005', call: 'AlterarPedCompra', stage: '10', status: 'open', status_value: 'F' },
          details: null,
        },
        error_code: 'omie_po_not_closed',
      }),
    ]);
    m.omieRetryPoClosures.mockResolvedValue(job({ id: 'jq', kind: 'omie_po_close_retry', connection_id: 'o1', status: 'queued', finished_at: null }));
    await renderPage('#/omie/orders');
    const table = await screen.findByTestId('po-closures');
    const rows = await within(table).findAllByTestId('po-closure-row');
    expect(rows.map((r) => r.getAttribute('data-status'))).toEqual(['succeeded', 'failed']);
    expect(rows[0]).toHaveTextContent('stage 10');
    expect(rows[0]).toHaveTextContent('closed');
    expect(within(rows[1]!).getByTestId('po-closure-error')).toHaveTextContent('purchase order 1005 is still open (stage 10)');
    // The stored reason is said in the window's language, not in the core's English.
    await act(() => i18n.changeLanguage('pt-BR'));
    await waitFor(() =>
      expect(within(rows[1]!).getByTestId('po-closure-error')).toHaveTextContent('o pedido de compra 1005 continua aberto (etapa 10)'),
    );
    expect(within(rows[1]!).getByTestId('po-closure-error')).not.toHaveTextContent('still open');
    await act(() => i18n.changeLanguage('en'));
    await user.click(screen.getByTestId('po-retry'));
    expect(m.omieRetryPoClosures).toHaveBeenCalledWith('o1');
  });
});

describe('Omie page: data and sync', () => {
  it('formats money as exact BRL and opens a record', async () => {
    const user = userEvent.setup();
    core.syncRecord.mockResolvedValue('{"codigo_lancamento_omie": 501, "valor_documento": 1234567.891}');
    await renderPage('#/omie/data');
    const browser = await screen.findByTestId('omie-browser');
    const rows = await within(browser).findAllByTestId('omie-browse-row');
    expect(rows[0]!.textContent!.replace(/\u00a0/g, ' ')).toContain('R$1,234,567.891');
    expect(rows[1]!.textContent).toContain('R$0.10');
    expect(core.syncBrowse).toHaveBeenCalledWith(expect.objectContaining({ connection_id: 'o1', resource: 'contas_pagar', offset: 0 }));
    await user.click(rows[0]!);
    expect(await screen.findByTestId('omie-record-panel')).toHaveTextContent('1234567.891');
  });

  it('opens one record of another company from a link (a divergence’s evidence), and says when it is not stored', async () => {
    core.listConnections.mockResolvedValue([quito, sp, connection({ id: 'o2', name: 'Omie RJ', kind: 'omie' })]);
    core.syncRecord.mockResolvedValue('{"codigo_lancamento_omie": 502, "valor_documento": 0.1}');
    core.syncBrowse.mockImplementation(async (q) =>
      q.filters.some((f) => f.column === 'id')
        ? { columns: [], rows: q.filters[0]!.value === '502' ? [{ id: '502', values: ['NF-2', '0.10', null], deleted_at: null, fetched_at: '2025-03-05T10:00:00Z' }] : [], total: 0 }
        : { columns: [], rows: [], total: 0 },
    );
    await renderPage('#/omie/data/contas_pagar/502/o2');
    const panel = await screen.findByTestId('omie-record-panel');
    expect(panel).toHaveTextContent('Record 502');
    await waitFor(() => expect(panel).toHaveTextContent('0.1'));
    expect(core.syncBrowse).toHaveBeenCalledWith(
      expect.objectContaining({ connection_id: 'o2', resource: 'contas_pagar', filters: [{ column: 'id', op: 'eq', value: '502' }], include_deleted: true }),
    );
    expect(screen.getByTestId('page-omie')).toHaveAttribute('data-connection', 'o2');
    act(() => {
      window.location.hash = '#/omie/data/contas_pagar/999/o2';
    });
    expect(await screen.findByTestId('record-not-found')).toHaveTextContent('999');
  });

  it('starts a sync with the chosen resources and follows its progress', async () => {
    const user = userEvent.setup();
    const started = job({ id: 'jy', kind: 'sync_omie', connection_id: 'o1', status: 'queued', finished_at: null });
    core.syncStart.mockResolvedValue(started);
    await renderPage('#/omie/sync');
    await user.click(await screen.findByTestId('sync-resource-clientes'));
    await user.click(screen.getByTestId('sync-now'));
    expect(core.syncStart).toHaveBeenCalledWith('o1', { resources: ['clientes'], since: null, full_refresh: false, page_size: null, batch_size: null });
    act(() =>
      emit({
        job: { ...started, status: 'running', progress: 0.4, progress_label: 'clientes: page 3, 600 records, 120/s', counts: { records: 600 } },
        log: null,
      }),
    );
    const progress = await screen.findByTestId('sync-progress');
    expect(progress).toHaveTextContent('Clients and suppliers: page 3 (600 records)');
    act(() => emit({ job: { ...started, status: 'succeeded', progress: 1, counts: { records: 1200 }, finished_at: '2025-03-01T12:00:30Z' }, log: null }));
    expect(await screen.findByTestId('sync-result')).toHaveAttribute('data-status', 'succeeded');
  });
});

describe('Omie page: sync history, quarantine and rewind', () => {
  it('lists the sync runs of the company from the generic history, with Omie’s names for the data', async () => {
    core.syncHistory.mockResolvedValue([
      syncRun({
        id: 'r2',
        job_id: 'j2',
        mode: 'full',
        status: 'failed',
        started_at: '2025-03-05T10:00:00Z',
        finished_at: '2025-03-05T10:01:30Z',
        counts: { records: 1500, resources_failed: 1 },
        errors: { clientes: 'Omie did not answer in time' },
      }),
      syncRun({ counts: { records: 12000 } }),
    ]);
    await renderPage('#/omie/history');
    expect(screen.getByTestId('omie-tab-history')).toHaveAttribute('aria-current', 'page');
    const history = await screen.findByTestId('sync-history');
    await waitFor(() => expect(within(history).getAllByTestId('sync-run')).toHaveLength(2));
    expect(core.syncHistory).toHaveBeenCalledWith('o1');
    const [failedRun, okRun] = within(history).getAllByTestId('sync-run');
    expect(failedRun).toHaveAttribute('data-status', 'failed');
    expect(failedRun).toHaveTextContent('Full refresh');
    expect(failedRun).toHaveTextContent('1m 30s');
    expect(failedRun).toHaveTextContent('Records 1,500');
    expect(within(failedRun!).getByTestId('sync-run-errors')).toHaveTextContent('Clients and suppliers: Omie did not answer in time');
    expect(within(failedRun!).getByTestId('sync-run-job')).toHaveAttribute('href', '#/jobs/j2');
    expect(okRun).toHaveTextContent('Changes only');
    expect(okRun).toHaveTextContent('Records 12,000');
  });

  it('explains quarantine for Omie and lists the records of the chosen resource', async () => {
    const user = userEvent.setup();
    core.syncSummary.mockResolvedValue([
      resourceSummary({ resource: 'contas_pagar', records: 2, quarantined: 1 }),
      resourceSummary({ resource: 'clientes', records: 5, quarantined: 1 }),
    ]);
    core.syncQuarantine.mockResolvedValue([
      { resource: 'contas_pagar', record_id: '901', reason: 'data_vencimento: "31/02/2025" is not a date', why: { key: '', params: {}, message: 'data_vencimento: "31/02/2025" is not a date' }, at: '2025-03-05T10:00:00Z', raw: '{"codigo_lancamento_omie":901,"valor_documento":10.005}' },
      { resource: 'clientes', record_id: '77', reason: 'bad document', why: { key: '', params: {}, message: 'bad document' }, at: '2025-03-05T10:00:00Z', raw: '{}' },
    ]);
    await renderPage('#/omie/quarantine/contas_pagar');
    // The tab tells how many records are set aside.
    await waitFor(() => expect(screen.getByTestId('omie-tab-quarantine')).toHaveTextContent('Quarantine2'));
    const list = await screen.findByTestId('quarantine-list');
    expect(within(list).getByTestId('quarantine-help')).toHaveTextContent('When Omie sends a record BackOffice cannot read safely');
    expect(within(list).getByTestId('quarantine-help')).toHaveTextContent('open the record in Omie');
    await waitFor(() => expect(within(list).getAllByTestId('quarantine-row')).toHaveLength(1));
    expect(core.syncQuarantine).toHaveBeenCalledWith('o1');
    const row = within(list).getByTestId('quarantine-row');
    expect(row).toHaveTextContent('Accounts payable');
    expect(row).toHaveTextContent('is not a date');

    await user.click(row);
    const panel = await screen.findByTestId('quarantine-panel');
    expect(panel).toHaveTextContent('Data exactly as Omie sent it');
    expect(within(panel).getByTestId('record-json').textContent).toContain('"valor_documento": 10.005');

    await user.selectOptions(within(list).getByTestId('quarantine-resource'), '');
    await waitFor(() => expect(window.location.hash).toBe('#/omie/quarantine'));
    await waitFor(() => expect(within(list).getAllByTestId('quarantine-row')).toHaveLength(2));
  });

  it('rewinds a resource from the summary of the Data tab after showing how much will be read again', async () => {
    const user = userEvent.setup();
    core.syncRewind.mockImplementation(async (_c, resource, to, apply) => ({
      resource,
      to,
      stored_records: 2,
      estimated_refetch: 1,
      whole_resource: false,
      applied: apply,
    }));
    await renderPage('#/omie/data');
    const summary = await screen.findByTestId('contifico-summary');
    const row = await within(summary).findByTestId('summary-row');
    expect(row).toHaveTextContent('Accounts payable');
    expect(within(row).getByTestId('summary-browse')).toHaveAttribute('href', '#/omie/data/contas_pagar');
    await user.click(within(row).getByTestId('summary-rewind'));
    const dialog = await screen.findByTestId('rewind-dialog');
    expect(dialog).toHaveTextContent('Rewind “Accounts payable”');
    fireEvent.change(within(dialog).getByTestId('rewind-date'), { target: { value: '2025-01-31' } });
    await user.click(within(dialog).getByTestId('rewind-preview'));
    expect(core.syncRewind).toHaveBeenLastCalledWith('o1', 'contas_pagar', '2025-01-31', false);
    expect(await within(dialog).findByTestId('rewind-estimate')).toHaveTextContent('About 1 records will be read again (out of 2 stored).');
    const summaryCalls = core.syncSummary.mock.calls.length;
    await user.click(within(dialog).getByTestId('rewind-confirm'));
    expect(core.syncRewind).toHaveBeenLastCalledWith('o1', 'contas_pagar', '2025-01-31', true);
    expect(await screen.findByTestId('rewind-done')).toHaveTextContent('“Accounts payable” was rewound to 01/31/2025');
    expect(screen.queryByTestId('rewind-dialog')).not.toBeInTheDocument();
    await waitFor(() => expect(core.syncSummary.mock.calls.length).toBeGreaterThan(summaryCalls));
    expect(core.syncSummary).toHaveBeenLastCalledWith('o1');
  });
});

describe('Omie helpers', () => {
  it("translates Omie's error codes with their values", () => {
    const text = omieErrorText(i18n, {
      code: 'omie_attachment_too_large',
      message: 'x',
      params: { name: 'nota.pdf', size: String(25 * 1024 * 1024), limit: String(20 * 1024 * 1024) },
      details: null,
    });
    expect(text).toBe('The file “nota.pdf” has 25 MB, more than the 20 MB limit. Raise the limit in the attachment settings or attach a smaller file.');
    expect(
      omieErrorText(i18n, { code: 'omie_missing_input', message: 'The order number is missing.', params: { what: 'order number', fix: '' }, details: null }),
    ).toBe('Please fill in the purchase order number.');
    expect(omieErrorText(i18n, { code: 'omie_po_close_not_configured', message: 'x', params: { connection: 'Omie SP' }, details: null })).toContain(
      '“Omie SP”',
    );
    // Other codes use the shared texts.
    expect(omieErrorText(i18n, { code: 'cancelled', message: 'x', params: {}, details: null })).toContain('cancelled');
  });

  it('formats reais exactly and documents with punctuation', () => {
    const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
    expect(plain(formatBrl('1234567.891', 'pt-BR'))).toBe('R$ 1.234.567,891');
    expect(plain(formatBrl('-0.5', 'pt-BR'))).toBe('-R$ 0,50');
    expect(formatBrl('abc', 'en')).toBe('abc');
    expect(formatDocument('52998224725')).toBe('529.982.247-25');
    expect(formatDocument('12ABC34501DE35')).toBe('12.ABC.345/01DE-35');
  });

  it('validates forms like the core does', () => {
    expect(checkTransfer({ from_table: 'com-recebimento', from_id: '1', to_table: 'com-recebimento', to_id: '1', dry_run: false }).ok).toBe(false);
    expect(checkClose({ order_number: ' ', item: '', service_invoice_number: '', service_invoice_id: '', dry_run: false })).toEqual({
      ok: false,
      errors: { order_number: 'omie.validation.orderRequired' },
    });
    const bad = checkConfig({ service_path: '', call: 'X', param_template: '[1]', status_value: 'Encerrado', status_field: '', max_attempts: '3' });
    expect(bad.ok ? null : bad.errors.param_template).toBe('omie.validation.templateJson');
  });
});
