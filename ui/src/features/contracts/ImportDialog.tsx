// Contracts from a spreadsheet: the file chosen is read here and sent whole to the core, which
// answers what importing it would do row by row (create, update, no change, refused and why). Only
// then is it imported, in one go: with refused rows, the valid ones are imported only when the user
// says so, and the refused ones are left out.
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { ImportPreview } from '../../bindings/ImportPreview';
import type { ImportRow } from '../../bindings/ImportRow';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Notice } from '../../components/Notice';
import { toApiError } from '../../errors';
import { formatDateOnly } from '../../format';
import { importContracts, previewContractsImport } from './api';
import { contractFieldLabel, documentText, importActionLabel, money, parsePeopleAmount, plural, problemText } from './model';
import { ContractErrorBox } from './Parts';

const ACTION_TONE: Record<string, string> = {
  create: 'succeeded',
  update: 'running',
  unchanged: 'queued',
  refuse: 'failed',
};

/** The bytes of a file, as the command takes them (FileReader: no `File.arrayBuffer` needed). */
export function readFileBytes(file: Blob): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      // Not `instanceof ArrayBuffer`: the buffer may come from another realm (a test's DOM).
      const buf = reader.result;
      if (buf !== null && typeof buf !== 'string') resolve(Array.from(new Uint8Array(buf)));
      else reject(new Error('the file could not be read'));
    };
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsArrayBuffer(file);
  });
}

function Row({ row, currency }: { row: ImportRow; currency: string }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const amount = parsePeopleAmount(row.mrr);
  return (
    <tr data-testid="import-row" data-action={row.action} data-line={row.line} className={row.action === 'refuse' ? 'import-row-refused' : undefined}>
      <td className="tabular">{row.line}</td>
      <td className="import-nowrap">
        <span className={`badge badge-status badge-${ACTION_TONE[row.action] ?? 'queued'}`} data-testid="import-action">
          {importActionLabel(i18n, row.action)}
        </span>
      </td>
      <td className="mono small import-nowrap">{documentText(row.client)}</td>
      <td>{row.client_name || <span className="muted">—</span>}</td>
      <td>
        <span>{row.description}</span>
        {row.action === 'update' && row.changes.length > 0 ? (
          <span className="muted small billing-block" data-testid="import-changes">
            {t('contracts.import.changes', { list: row.changes.map((c) => contractFieldLabel(i18n, c)).join(', ') })}
          </span>
        ) : null}
        {row.problems.length > 0 ? (
          <ul className="import-problems">
            {row.problems.map((p, i) => (
              <li key={`${p.key}-${i}`} data-testid="import-problem" data-key={p.key} data-field={p.field}>
                <Icon name="alert" size={12} />
                {problemText(i18n, p)}
              </li>
            ))}
          </ul>
        ) : null}
      </td>
      <td className="tabular billing-num import-nowrap">{amount !== null ? money(amount, lng, currency) : row.mrr}</td>
      <td className="tabular import-nowrap">{/^\d{4}-\d{2}-\d{2}$/.test(row.start_date) ? formatDateOnly(row.start_date, lng) : row.start_date}</td>
    </tr>
  );
}

export function ImportDialog({
  connectionId,
  companyName,
  currency,
  onClose,
  onImported,
}: {
  /** The company the contracts go into (null: the only one there is). */
  connectionId: string | null;
  companyName: string | null;
  currency: string;
  onClose: () => void;
  onImported: (result: ImportPreview) => void;
}) {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<{ name: string; content: number[] } | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [result, setResult] = useState<ImportPreview | null>(null);
  const [busy, setBusy] = useState<'reading' | 'importing' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const choose = async (f: File | undefined) => {
    if (!f) return;
    setError(null);
    setPreview(null);
    setResult(null);
    setFile(null);
    setBusy('reading');
    try {
      const content = await readFileBytes(f);
      setFile({ name: f.name, content });
      setPreview(await previewContractsImport(f.name, content, connectionId));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(null);
    }
  };

  const apply = async () => {
    if (!file || !preview) return;
    setError(null);
    setBusy('importing');
    try {
      const done = await importContracts(file.name, file.content, connectionId, preview.refused > 0);
      setResult(done);
      onImported(done);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(null);
    }
  };

  const again = () => {
    setPreview(null);
    setResult(null);
    setFile(null);
    setError(null);
    if (input.current) {
      input.current.value = '';
      input.current.click();
    }
  };

  const p = preview;
  const n = p ? p.create + p.update : 0;
  const applyLabel = p
    ? p.refused > 0
      ? plural(i18n, 'contracts.import.applySkip', n, { refused: plural(i18n, 'contracts.import.refusedPart', p.refused) })
      : plural(i18n, 'contracts.import.apply', n)
    : '';
  const company = p?.connection_name || companyName;
  const fileId = `${ids}-file`;

  const footer = (
    <>
      <button type="button" className="btn" onClick={onClose}>
        {result ? t('common.close') : t('common.cancel')}
      </button>
      {result ? (
        <button type="button" className="btn" onClick={again} data-testid="contracts-import-again">
          {t('contracts.import.another')}
        </button>
      ) : p ? (
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => void apply()}
          disabled={n === 0 || busy !== null}
          title={n === 0 ? t('contracts.import.nothing') : undefined}
          data-testid="contracts-import-apply"
          data-skip-refused={p.refused > 0 || undefined}
        >
          {busy === 'importing' ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="check" size={16} />}
          {busy === 'importing' ? t('contracts.import.importing') : applyLabel}
        </button>
      ) : null}
    </>
  );

  return (
    <Modal title={t('contracts.import.title')} onClose={onClose} testId="contracts-import-dialog" wide footer={footer}>
      <div className="import-body">
        <p className="muted">
          {t('contracts.import.intro')}
          {company ? ` ${t('contracts.import.company', { name: company })}` : ''}
        </p>
        <div className="field">
          <label htmlFor={fileId}>{t('contracts.import.file')}</label>
          <input
            ref={input}
            id={fileId}
            type="file"
            accept=".csv,.xlsx,.xls,.ods"
            onChange={(e) => void choose(e.target.files?.[0])}
            disabled={busy !== null}
            aria-describedby={`${fileId}-hint`}
            data-testid="contracts-import-file"
          />
          <p id={`${fileId}-hint`} className="field-hint">
            {t('contracts.import.fileHint')}
          </p>
        </div>

        {busy === 'reading' ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('contracts.import.reading')}
          </div>
        ) : null}
        {error ? <ContractErrorBox error={error} onDismiss={() => setError(null)} testId="contracts-import-error" /> : null}

        {result ? (
          <Notice testId="contracts-import-result">
            {t('contracts.import.done', { file: result.file, created: String(result.create), updated: String(result.update) })}
            {result.refused > 0 ? ` ${plural(i18n, 'contracts.import.doneSkipped', result.refused)}` : ''}
          </Notice>
        ) : null}

        {p && !result ? (
          <>
            <p className="import-summary" data-testid="import-summary" data-create={p.create} data-update={p.update} data-unchanged={p.unchanged} data-refused={p.refused}>
              <span className="import-count import-count-create">{plural(i18n, 'contracts.import.create', p.create)}</span>
              <span className="import-count import-count-update">{plural(i18n, 'contracts.import.update', p.update)}</span>
              <span className="import-count import-count-unchanged">{plural(i18n, 'contracts.import.unchanged', p.unchanged)}</span>
              <span className="import-count import-count-refused">{plural(i18n, 'contracts.import.refused', p.refused)}</span>
            </p>
            {p.columns.length > 0 ? (
              <p className="muted small" data-testid="import-columns">
                {t('contracts.import.columns', { list: p.columns.map((c) => contractFieldLabel(i18n, c)).join(', ') })}
              </p>
            ) : null}
            {p.ignored_columns.length > 0 ? (
              <p className="muted small" data-testid="import-ignored">
                {t('contracts.import.ignored', { list: p.ignored_columns.join(', ') })}
              </p>
            ) : null}
            <div className="import-table-wrap">
              <table className="table import-table" aria-label={t('contracts.import.tableLabel')} data-testid="import-table">
                <thead>
                  <tr>
                    <th>{t('contracts.import.colLine')}</th>
                    <th>{t('contracts.import.colAction')}</th>
                    <th>{t('contracts.import.colClient')}</th>
                    <th>{t('contracts.import.colClientName')}</th>
                    <th className="import-col-description">{t('contracts.import.colDescription')}</th>
                    <th className="billing-num">{t('contracts.import.colMrr')}</th>
                    <th>{t('contracts.import.colStart')}</th>
                  </tr>
                </thead>
                <tbody>
                  {p.rows.map((r) => (
                    <Row key={r.line} row={r} currency={currency} />
                  ))}
                </tbody>
              </table>
            </div>
            <p className="small import-note" data-testid="import-note">
              <Icon name="info" size={14} />
              {n === 0 ? t('contracts.import.nothing') : t('contracts.import.note')}
            </p>
          </>
        ) : null}
      </div>
    </Modal>
  );
}
