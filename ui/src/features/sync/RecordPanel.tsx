// The side panel that shows one record's full JSON exactly as the ERP sent it: a stored record
// (read with `sync_record`) or a quarantined one.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { ConnectionKind } from '../../bindings/ConnectionKind';
import { CloseButton } from '../../components/CloseButton';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { useRecordJson } from '../../components/useRecordBrowser';
import { useEscape } from '../../hooks/useEscape';
import { erpName } from './labels';
import { prettyJson } from './util';
import './sync.css';

/** A right-hand panel with a title, some facts and a JSON document. Escape closes it. */
export function JsonPanel({
  kind,
  eyebrow,
  title,
  facts,
  raw,
  error,
  onClose,
  testId,
}: {
  /** The ERP that sent the document. */
  kind: ConnectionKind;
  eyebrow: string;
  title: string;
  facts?: ReactNode;
  raw: string | null;
  error?: ApiError | null;
  onClose: () => void;
  testId: string;
}) {
  const { t, i18n } = useTranslation();
  const [copied, setCopied] = useState(false);
  useEscape(onClose);

  const pretty = raw === null ? null : prettyJson(raw);
  const copy = async () => {
    if (pretty === null) return;
    try {
      await navigator.clipboard.writeText(pretty);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard access: the text stays selectable.
    }
  };

  return (
    <aside className="detail-panel json-panel" data-testid={testId} aria-label={title}>
      <div className="detail-header">
        <div className="detail-title">
          <span className="eyebrow">{eyebrow}</span>
          <h2 className="truncate" title={title}>
            {title}
          </h2>
        </div>
        <CloseButton onClick={onClose} size={18} testId={`${testId}-close`} />
      </div>
      <div className="detail-body">
        {error ? <ErrorBox error={error} /> : null}
        {facts}
        {pretty === null && !error ? <Loading /> : null}
        {pretty !== null ? (
          <section className="detail-section">
            <div className="json-head">
              <h3>{t('sync.record.raw', { erp: erpName(i18n, kind) })}</h3>
              <button type="button" className="btn btn-small" onClick={() => void copy()}>
                {copied ? <Icon name="check" size={14} /> : null}
                {copied ? t('sync.record.copied') : t('sync.record.copy')}
              </button>
            </div>
            <pre className="json" data-testid="record-json">
              {pretty}
            </pre>
          </section>
        ) : null}
      </div>
    </aside>
  );
}

/** Loads a stored record (`sync_record`) and shows it in a JsonPanel. */
export function RecordPanel({
  connectionId,
  kind,
  resource,
  resourceName,
  id,
  title,
  facts,
  testId = 'record-panel',
  reloadToken,
  onClose,
}: {
  connectionId: string;
  kind: ConnectionKind;
  resource: string;
  resourceName: string;
  id: string;
  /** The panel's title; "Record <id>" by default. */
  title?: string;
  facts?: ReactNode;
  testId?: string;
  /** When it changes, the record is read again. */
  reloadToken?: unknown;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { raw, error } = useRecordJson(api.syncRecord, connectionId, resource, id, reloadToken);

  return (
    <JsonPanel
      kind={kind}
      testId={testId}
      eyebrow={resourceName}
      title={title ?? t('sync.record.title', { id })}
      facts={facts}
      raw={raw}
      error={error}
      onClose={onClose}
    />
  );
}
