// The preview of a transfer: whether it can start, each problem at its field with the close
// matches the site has (click to use one), the decisions taken for the user, and the four
// documents with their lines and totals as exact decimals in the user's locale.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import type { DocumentPreview } from '../../bindings/DocumentPreview';
import type { TransferPreview } from '../../bindings/TransferPreview';
import { Icon } from '../../components/Icon';
import { Notice } from '../../components/Notice';
import { formatDateOnly, formatDecimalString } from '../../format';
import { STEP_KEYS } from './model';

function money(value: string, lng: string): string {
  return formatDecimalString(value, lng, 2);
}

function PreviewDoc({ doc }: { doc: DocumentPreview }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const k = STEP_KEYS[doc.step];
  return (
    <article className="erp-doc" data-testid="tr-preview-doc" data-step={doc.step} data-site={doc.site}>
      <header className="erp-doc-head">
        <span className="erp-step-n" aria-hidden="true">
          {doc.step}
        </span>
        <div className="erp-doc-title">
          <span className="eyebrow">
            {t('erpnext.preview.step', { n: doc.step })} · {t('erpnext.preview.siteLabel', { role: doc.site, site: doc.site_name || '—' })}
          </span>
          <h3>{k ? t(`erpnext.steps.${k}`) : doc.doctype}</h3>
          <span className="muted small">{doc.title}</span>
        </div>
      </header>
      <dl className="erp-doc-facts">
        <div>
          <dt>{t('erpnext.preview.company')}</dt>
          <dd>{doc.company || '—'}</dd>
        </div>
        <div>
          <dt>{t('erpnext.preview.party')}</dt>
          <dd>{doc.party || '—'}</dd>
        </div>
        <div>
          <dt>{t('erpnext.preview.postingDate')}</dt>
          <dd className="tabular" data-testid="erp-doc-posting">
            {doc.posting_date ? `${formatDateOnly(doc.posting_date, lng)} ${doc.posting_time.slice(0, 5)}` : '—'}
            {doc.timezone ? <span className="muted"> ({doc.timezone.replace(/_/g, ' ')})</span> : null}
          </dd>
        </div>
        <div>
          <dt>{t('erpnext.preview.currency')}</dt>
          <dd>{doc.currency || '—'}</dd>
        </div>
      </dl>
      <table className="erp-lines">
        <thead>
          <tr>
            <th>{t('erpnext.preview.colItem')}</th>
            <th className="erp-num">{t('erpnext.preview.colQty')}</th>
            <th className="erp-num">{t('erpnext.preview.colRate')}</th>
            <th className="erp-num">{t('erpnext.preview.colAmount')}</th>
            <th>{t('erpnext.preview.colWarehouse')}</th>
            <th>{t('erpnext.preview.colSerials')}</th>
          </tr>
        </thead>
        <tbody>
          {doc.lines.map((l, i) => (
            <tr key={i} data-testid="tr-preview-line">
              <td className="mono">{l.item_code}</td>
              <td className="erp-num tabular">{formatDecimalString(l.qty, lng)}</td>
              <td className="erp-num tabular">{money(l.rate, lng)}</td>
              <td className="erp-num tabular">{money(l.amount, lng)}</td>
              <td>{l.warehouse}</td>
              <td className="mono small erp-serial-cell" title={l.serials.join('\n')}>
                {l.serials.join(', ')}
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th colSpan={3} scope="row">
              {t('erpnext.preview.total')}
            </th>
            <td className="erp-num tabular strong" data-testid="tr-preview-total">
              {money(doc.total, lng)} {doc.currency}
            </td>
            <td colSpan={2} />
          </tr>
        </tfoot>
      </table>
      {doc.links.length > 0 ? (
        <p className="muted small erp-doc-links">
          <Icon name="transfer" size={12} /> {t('erpnext.preview.links')}: {doc.links.join(' · ')}
        </p>
      ) : null}
    </article>
  );
}

export function PreviewDocuments({
  preview,
  stale,
  fieldLabel,
  canUse,
  onSuggestion,
  footer,
}: {
  preview: TransferPreview;
  stale: boolean;
  fieldLabel: (field: string) => string;
  /** Whether a suggestion for this field can be written into the form. */
  canUse: (field: string) => boolean;
  onSuggestion: (field: string, name: string) => void;
  footer?: ReactNode;
}) {
  const { t } = useTranslation();
  const n = preview.problems.length;
  return (
    <section className="card erp-preview" data-testid="tr-preview-result" data-valid={preview.valid} aria-labelledby="erp-preview-title">
      <div className="card-header">
        <h2 id="erp-preview-title">{t('erpnext.preview.title')}</h2>
      </div>
      <div className="erp-preview-body">
        {stale ? (
          <div className="alert alert-warning" role="status" data-testid="tr-preview-stale">
            <Icon name="refresh" size={18} className="alert-icon" />
            <div className="alert-body">
              <p className="alert-text">{t('erpnext.preview.stale')}</p>
            </div>
          </div>
        ) : null}
        {preview.valid ? (
          <Notice>{t('erpnext.preview.valid')}</Notice>
        ) : (
          <div className="alert alert-error" role="alert" data-testid="tr-problems">
            <Icon name="alert" size={20} className="alert-icon" />
            <div className="alert-body">
              <strong className="alert-title">{t('erpnext.preview.invalid', { count: n })}</strong>
              <ul className="erp-problems">
                {preview.problems.map((p, i) => (
                  <li key={`${p.field}-${i}`} data-testid="tr-problem" data-field={p.field}>
                    <span className="strong">{fieldLabel(p.field)}:</span> {p.message}
                    {p.suggestions.length > 0 ? (
                      <span className="erp-suggestions">
                        <span className="muted small">{t('erpnext.preview.didYouMean')}</span>
                        {p.suggestions.map((s) =>
                          canUse(p.field) ? (
                            <button
                              key={s}
                              type="button"
                              className="erp-chip"
                              onClick={() => onSuggestion(p.field, s)}
                              title={t('erpnext.preview.useSuggestion', { name: s })}
                              data-testid="tr-suggestion"
                            >
                              {s}
                            </button>
                          ) : (
                            <span key={s} className="erp-chip erp-chip-static">
                              {s}
                            </span>
                          ),
                        )}
                      </span>
                    ) : null}
                  </li>
                ))}
              </ul>
            </div>
          </div>
        )}
        {preview.notes.length > 0 ? (
          <div className="alert alert-neutral" data-testid="tr-notes">
            <Icon name="info" size={18} className="alert-icon" />
            <div className="alert-body">
              <strong className="alert-title">{t('erpnext.preview.notesTitle')}</strong>
              <ul className="erp-notes">
                {preview.notes.map((note, i) => (
                  <li key={i}>{note}</li>
                ))}
              </ul>
            </div>
          </div>
        ) : null}
        <div className="erp-docs">
          {[...preview.documents]
            .sort((a, b) => a.step - b.step)
            .map((d) => (
              <PreviewDoc key={d.step} doc={d} />
            ))}
        </div>
      </div>
      {footer ? <div className="erp-preview-footer">{footer}</div> : null}
    </section>
  );
}
