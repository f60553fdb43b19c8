// The summary table (one row per resource) and the per-resource "Rewind…" dialog.
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../api';
import type { ApiError } from '../bindings/ApiError';
import type { ResourceSummary } from '../bindings/ResourceSummary';
import type { RewindPreview } from '../bindings/RewindPreview';
import { DataTable } from '../components/DataTable';
import { ErrorBox } from '../components/ErrorBox';
import { Icon } from '../components/Icon';
import { Modal } from '../components/Modal';
import { toApiError } from '../errors';
import { formatDateOnly, formatDateTime, formatNumber, formatRelative } from '../format';
import { hrefForPath } from '../router';
import { resourceLabel } from './ContificoUtil';

function When({ at, now, testId, relativeOnly = false }: { at: string | null; now: number; testId?: string; relativeOnly?: boolean }) {
  const { t, i18n } = useTranslation();
  if (!at) return <span className="muted" data-testid={testId}>{t('contifico.summary.never')}</span>;
  if (relativeOnly) {
    return (
      <time dateTime={at} className="when-relative" title={formatDateTime(at, i18n.language)} data-testid={testId}>
        {formatRelative(at, i18n.language, now)}
      </time>
    );
  }
  return (
    <span className="when" data-testid={testId}>
      <time dateTime={at} className="truncate">
        {formatDateTime(at, i18n.language)}
      </time>
      <span className="muted small truncate">{formatRelative(at, i18n.language, now)}</span>
    </span>
  );
}

/** Today minus `days`, as yyyy-mm-dd in local time. */
function daysAgo(days: number): string {
  const d = new Date();
  d.setDate(d.getDate() - days);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function RewindDialog({
  connectionId,
  summary,
  onClose,
  onDone,
}: {
  connectionId: string;
  summary: ResourceSummary;
  onClose: () => void;
  onDone: (preview: RewindPreview) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const name = resourceLabel(i18n, summary.resource);
  const [date, setDate] = useState(() => (summary.last_success_at ? summary.last_success_at.slice(0, 10) : daysAgo(30)));
  const [preview, setPreview] = useState<RewindPreview | null>(null);
  const [busy, setBusy] = useState<'preview' | 'apply' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [missing, setMissing] = useState(false);

  const run = async (apply: boolean) => {
    if (!date) {
      setMissing(true);
      return;
    }
    setBusy(apply ? 'apply' : 'preview');
    setError(null);
    try {
      const p = await api.contificoRewind(connectionId, summary.resource, date, apply);
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
      title={t('contifico.rewind.title', { resource: name })}
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
            {busy === 'apply' ? t('contifico.rewind.applying') : t('contifico.rewind.confirm')}
          </button>
        </>
      }
    >
      <p>{t('contifico.rewind.body')}</p>
      <div className="rewind-row">
        <div className="field">
          <label htmlFor="rewind-date">{t('contifico.rewind.date')}</label>
          <input
            id="rewind-date"
            type="date"
            value={date}
            max={daysAgo(0)}
            onChange={(e) => {
              setDate(e.target.value);
              setMissing(false);
            }}
            data-testid="rewind-date"
            aria-invalid={missing || undefined}
          />
        </div>
        <button type="button" className="btn" onClick={() => void run(false)} disabled={busy !== null} data-testid="rewind-preview">
          {busy === 'preview' ? t('contifico.rewind.previewing') : t('contifico.rewind.preview')}
        </button>
      </div>
      {missing ? <p className="field-error">{t('contifico.rewind.dateRequired')}</p> : null}
      {current ? (
        <div className="alert alert-neutral" role="status" data-testid="rewind-estimate">
          <Icon name="info" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">
              {current.whole_resource
                ? t('contifico.rewind.whole', { stored: formatNumber(current.stored_records, lng) })
                : t('contifico.rewind.estimate', {
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

export function SummaryTable({
  connectionId,
  rows,
  now,
  onRewound,
}: {
  connectionId: string;
  rows: ResourceSummary[];
  now: number;
  onRewound: (preview: RewindPreview) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [rewinding, setRewinding] = useState<ResourceSummary | null>(null);

  const columns = useMemo<ColumnDef<ResourceSummary>[]>(
    () => [
      {
        id: 'resource',
        header: t('contifico.summary.colResource'),
        size: 165,
        cell: ({ row }) => {
          const r = row.original;
          return (
            <span className="resource-cell">
              <span className="strong" title={r.resource}>
                {resourceLabel(i18n, r.resource)}
              </span>
              <span
                className={r.supports_incremental ? 'mode mode-incremental' : 'mode mode-full'}
                title={r.supports_incremental ? t('contifico.summary.incrementalHint') : t('contifico.summary.fullEachTimeHint')}
                data-testid="summary-mode"
              >
                {r.supports_incremental ? t('contifico.summary.incremental') : t('contifico.summary.fullEachTime')}
              </span>
              {r.resume_page !== null ? (
                <span className="resume" title={t('contifico.summary.resumesHint')} data-testid="summary-resume">
                  {t('contifico.summary.resumes', { page: formatNumber(r.resume_page, lng) })}
                </span>
              ) : null}
            </span>
          );
        },
      },
      {
        id: 'records',
        header: t('contifico.summary.colRecords'),
        size: 90,
        cell: ({ row }) => (
          <span className="tabular strong" data-testid="summary-records" data-value={row.original.records}>
            {formatNumber(row.original.records, lng, 0)}
          </span>
        ),
      },
      {
        id: 'deleted',
        header: t('contifico.summary.colDeleted'),
        size: 85,
        cell: ({ row }) => (
          <span className={row.original.deleted > 0 ? 'tabular' : 'tabular muted'} data-testid="summary-deleted">
            {formatNumber(row.original.deleted, lng, 0)}
          </span>
        ),
      },
      {
        id: 'quarantined',
        header: t('contifico.summary.colQuarantined'),
        size: 118,
        cell: ({ row }) => {
          const r = row.original;
          if (r.quarantined === 0) {
            return (
              <span className="tabular muted" data-testid="summary-quarantined">
                0
              </span>
            );
          }
          return (
            <a
              className="tabular quarantine-link"
              href={hrefForPath('contifico', 'quarantine', r.resource)}
              data-testid="summary-quarantined"
              title={t('contifico.summary.showQuarantine', { n: formatNumber(r.quarantined, lng), resource: resourceLabel(i18n, r.resource) })}
              onClick={(e) => e.stopPropagation()}
            >
              <Icon name="alert" size={13} />
              {formatNumber(r.quarantined, lng, 0)}
            </a>
          );
        },
      },
      {
        id: 'updated',
        header: t('contifico.summary.colUpdated'),
        size: 97,
        cell: ({ row }) => <When at={row.original.last_fetched_at} now={now} relativeOnly />,
      },
      {
        id: 'success',
        header: t('contifico.summary.colSuccess'),
        size: 165,
        cell: ({ row }) => <When at={row.original.last_success_at} now={now} testId="summary-success" />,
      },
      {
        id: 'error',
        header: t('contifico.summary.colError'),
        size: 130,
        cell: ({ row }) =>
          row.original.last_error ? (
            <span className="last-error small" title={row.original.last_error} data-testid="summary-error">
              {row.original.last_error}
            </span>
          ) : (
            <span className="muted">—</span>
          ),
      },
      {
        id: 'actions',
        header: () => <span className="sr-only">{t('contifico.summary.colActions')}</span>,
        size: 120,
        cell: ({ row }) => (
          <span className="row-actions">
            <a
              className="btn btn-small"
              href={hrefForPath('contifico', 'browse', row.original.resource)}
              data-testid="summary-browse"
            >
              {t('contifico.summary.browse')}
            </a>
            <button
              type="button"
              className="icon-button"
              onClick={() => setRewinding(row.original)}
              data-testid="summary-rewind"
              title={t('contifico.summary.rewind')}
              aria-label={`${t('contifico.summary.rewind')} ${resourceLabel(i18n, row.original.resource)}`}
            >
              <Icon name="clock" size={16} />
            </button>
          </span>
        ),
      },
    ],
    [t, i18n, lng, now],
  );

  const total = rows.reduce((sum, r) => sum + r.records, 0);

  return (
    <section className="card table-card summary-card" aria-labelledby="summary-title">
      <div className="card-header">
        <div>
          <h2 id="summary-title">{t('contifico.summary.title')}</h2>
          <p className="muted small">{t('contifico.summary.hint')}</p>
        </div>
        <span className="muted small tabular" data-testid="summary-total">
          {t('contifico.summary.totals', { n: formatNumber(total, lng) })}
        </span>
      </div>
      <div data-testid="contifico-summary" className="summary-table">
        <DataTable
          data={rows}
          columns={columns}
          getRowId={(r) => r.resource}
          label={t('contifico.summary.title')}
          rowHeight={56}
          rowAttributes={(r) => ({
            'data-testid': 'summary-row',
            'data-resource': r.resource,
            'data-records': String(r.records),
            ...(r.last_error ? { 'data-error': 'true' } : {}),
          })}
          empty={<p className="muted table-empty-text">{t('contifico.summary.empty')}</p>}
        />
      </div>
      {rewinding ? (
        <RewindDialog
          connectionId={connectionId}
          summary={rewinding}
          onClose={() => setRewinding(null)}
          onDone={(p) => {
            setRewinding(null);
            onRewound(p);
          }}
        />
      ) : null}
    </section>
  );
}
