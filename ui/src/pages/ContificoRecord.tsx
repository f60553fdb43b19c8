// The side panel that shows one record's full JSON, exactly as Contífico sent it.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { useRecordJson } from '../components/useRecordBrowser';
import { prettyJson } from './ContificoUtil';

/** A right-hand panel with a title, some facts and a JSON document. Escape closes it. */
export function JsonPanel({
  eyebrow,
  title,
  facts,
  raw,
  error,
  onClose,
  testId,
}: {
  eyebrow: string;
  title: string;
  facts?: ReactNode;
  raw: string | null;
  error?: ApiError | null;
  onClose: () => void;
  testId: string;
}) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeRef.current();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

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
        <button type="button" className="icon-button" onClick={onClose} aria-label={t('common.close')} data-testid={`${testId}-close`}>
          <Icon name="close" size={18} />
        </button>
      </div>
      <div className="detail-body">
        {error ? <ErrorBox error={error} /> : null}
        {facts}
        {pretty === null && !error ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('common.loading')}
          </div>
        ) : null}
        {pretty !== null ? (
          <section className="detail-section">
            <div className="json-head">
              <h3>{t('contifico.record.raw')}</h3>
              <button type="button" className="btn btn-small" onClick={() => void copy()}>
                {copied ? <Icon name="check" size={14} /> : null}
                {copied ? t('contifico.record.copied') : t('contifico.record.copy')}
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

/** Loads a stored record (`contifico_record`) and shows it in a JsonPanel. */
export function RecordPanel({
  connectionId,
  resource,
  resourceName,
  id,
  facts,
  onClose,
}: {
  connectionId: string;
  resource: string;
  resourceName: string;
  id: string;
  facts?: ReactNode;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { raw, error } = useRecordJson(api.contificoRecord, connectionId, resource, id);

  return (
    <JsonPanel
      testId="record-panel"
      eyebrow={resourceName}
      title={t('contifico.record.title', { id })}
      facts={facts}
      raw={raw}
      error={error}
      onClose={onClose}
    />
  );
}
