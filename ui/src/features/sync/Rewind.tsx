// Rewinding one resource of a connection: choose a date, see how much will be read again, apply.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { ResourceSummary } from '../../bindings/ResourceSummary';
import type { RewindPreview } from '../../bindings/RewindPreview';
import { CloseButton } from '../../components/CloseButton';
import { ErrorBox } from '../../components/ErrorBox';
import { DateField, isIsoDate } from '../../components/form';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { toApiError } from '../../errors';
import { formatDateOnly, formatNumber } from '../../format';
import { erpName, resourceLabel } from './labels';
import { isoDaysAgo } from './util';

export function RewindDialog({
  connection,
  summary,
  onClose,
  onDone,
}: {
  connection: Connection;
  summary: ResourceSummary;
  onClose: () => void;
  onDone: (preview: RewindPreview) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const name = resourceLabel(i18n, connection.kind, summary.resource);
  const [date, setDate] = useState(() => (summary.last_success_at ? summary.last_success_at.slice(0, 10) : isoDaysAgo(30)));
  const [preview, setPreview] = useState<RewindPreview | null>(null);
  const [busy, setBusy] = useState<'preview' | 'apply' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [missing, setMissing] = useState(false);

  const run = async (apply: boolean) => {
    if (!date) {
      setMissing(true);
      return;
    }
    // Not a date yet (the field says so under it).
    if (!isIsoDate(date)) return;
    setBusy(apply ? 'apply' : 'preview');
    setError(null);
    try {
      const p = await api.syncRewind(connection.id, summary.resource, date, apply);
      if (apply) onDone(p);
      else setPreview(p);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(null);
    }
  };

  const current = preview && preview.to === date ? preview : null;

  return (
    <Modal
      title={t('sync.rewind.title', { resource: name })}
      onClose={onClose}
      testId="rewind-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => void run(true)}
            disabled={!current || busy !== null}
            data-testid="rewind-confirm"
          >
            <Icon name="clock" size={16} />
            {busy === 'apply' ? t('sync.rewind.applying') : t('sync.rewind.confirm')}
          </button>
        </>
      }
    >
      <p>{t('sync.rewind.body')}</p>
      <div className="rewind-row">
        <DateField
          id="rewind-date"
          label={t('sync.rewind.date')}
          value={date}
          onChange={(d) => {
            setDate(d);
            setMissing(false);
          }}
          invalid={missing}
          error={missing ? t('sync.rewind.dateRequired') : null}
          data-testid="rewind-date"
        />
        <button type="button" className="btn" onClick={() => void run(false)} disabled={busy !== null} data-testid="rewind-preview">
          {busy === 'preview' ? t('sync.rewind.previewing') : t('sync.rewind.preview')}
        </button>
      </div>
      {current ? (
        <div className="alert alert-neutral" role="status" data-testid="rewind-estimate">
          <Icon name="info" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">
              {current.whole_resource
                ? t('sync.rewind.whole', { erp: erpName(i18n, connection.kind), stored: formatNumber(current.stored_records, lng) })
                : t('sync.rewind.estimate', {
                    n: formatNumber(current.estimated_refetch, lng),
                    stored: formatNumber(current.stored_records, lng),
                  })}
            </p>
            <p className="muted small">{formatDateOnly(current.to, lng)}</p>
          </div>
        </div>
      ) : null}
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
    </Modal>
  );
}

/** "“Products” was rewound to 01/31/2025. Press “Sync now” to read it again." */
export function RewindNotice({ connection, preview, onClose }: { connection: Connection; preview: RewindPreview; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  return (
    <div className="alert alert-success" role="status" data-testid="rewind-done">
      <Icon name="check" size={20} className="alert-icon" />
      <div className="alert-body">
        <p className="alert-text">
          {t('sync.rewind.done', {
            resource: resourceLabel(i18n, connection.kind, preview.resource),
            date: formatDateOnly(preview.to, i18n.language),
          })}
        </p>
      </div>
      <CloseButton onClick={onClose} />
    </div>
  );
}
