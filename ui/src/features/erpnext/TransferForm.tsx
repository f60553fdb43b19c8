// The "New transfer" tab: the form (sites, parties, warehouses, items with serials), checked on
// this computer first (zod), then "Preview" asks both sites and shows the four documents with any
// problem and close-match suggestions; "Start transfer" creates the run and opens it.
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as erp from './api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { FieldStatus } from '../../bindings/FieldStatus';
import type { TransferPreview } from '../../bindings/TransferPreview';
import { ErrorBox, ErrorDetails } from '../../components/ErrorBox';
import { controlProps, DateField, Field, FieldMessage, messageId, useSubmit, withoutField, type KeyedMessage } from '../../components/form';
import { Icon } from '../../components/Icon';
import { toApiError, translateError } from '../../errors';
import { formatDecimalString } from '../../format';
import { navigatePath } from '../../router';
import {
  applySuggestion,
  emptyItem,
  emptyTransferForm,
  fieldGaps,
  fieldName,
  normalizeFieldPath,
  splitSerials,
  validateTransferForm,
  type ItemValues,
  type TextFieldKey,
  type TransferFieldErrors,
  type TransferFormValues,
} from './model';
import { PreviewDocuments } from './Preview';

/** The last preview and whether the form changed since. */
export interface PreviewState {
  result: TransferPreview;
  stale: boolean;
}

type I18nT = ReturnType<typeof useTranslation>['t'];

/** The label of a form field named by a path (`supplier`, `items.0.serials`). */
export function fieldPathLabel(t: I18nT, exists: (k: string) => boolean, path: string): string {
  const parts = normalizeFieldPath(path).split('.');
  if (parts[0] === 'items' && parts.length >= 3) {
    const sub = parts[2] ?? '';
    const field = exists(`erpnext.fields.${sub}`) ? t(`erpnext.fields.${sub}`) : sub;
    return t('erpnext.fields.itemLine', { line: Number(parts[1]) + 1, field });
  }
  const key = `erpnext.fields.${parts[0]}`;
  return exists(key) ? t(key) : path;
}

/** The offer to create the idempotency field on a site that lacks it, with the reason why. */
function FieldOffer({
  connection,
  status,
  onCreated,
}: {
  connection: Connection;
  status: FieldStatus;
  onCreated: (st: FieldStatus) => void;
}) {
  const { t } = useTranslation();
  const { busy, error, setError, run } = useSubmit();
  const create = () => run(async () => onCreated(await erp.erpnextEnsureField(connection.id)));
  return (
    <div className="alert alert-warning erp-field-offer" data-testid="tr-field-offer" data-site={connection.id}>
      <Icon name="info" size={20} className="alert-icon" />
      <div className="alert-body">
        <strong className="alert-title">{t('erpnext.field.title')}</strong>
        <p className="alert-text">
          {t('erpnext.field.body', { site: connection.name, field: status.fieldname, doctypes: fieldGaps(status).join(', ') })}
        </p>
        <p className="alert-text">{t('erpnext.field.why')}</p>
        <p className="alert-text muted small">{t('erpnext.field.whoCan')}</p>
        {status.explanation ? (
          <details className="error-details">
            <summary>{t('erpnext.field.technical')}</summary>
            <pre>{status.explanation}</pre>
          </details>
        ) : null}
        {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
        <div>
          <button type="button" className="btn btn-primary btn-small" onClick={() => void create()} disabled={busy} data-testid="tr-ensure-field">
            {busy ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="plus" size={14} />}
            {busy ? t('erpnext.field.creating') : t('erpnext.field.create', { site: connection.name })}
          </button>
        </div>
      </div>
    </div>
  );
}

interface FieldCheck {
  status: FieldStatus | null;
  error: ApiError | null;
  /** Created by the user in this visit (shows a confirmation). */
  created: boolean;
}

export function ErpnextTransferForm({
  connections,
  values,
  onValues,
  preview,
  onPreview,
}: {
  connections: Connection[];
  values: TransferFormValues;
  onValues: (v: TransferFormValues) => void;
  preview: PreviewState | null;
  onPreview: (p: PreviewState | null) => void;
}) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const uid = useId();
  const [errors, setErrors] = useState<TransferFieldErrors>({});
  const [previewing, setPreviewing] = useState(false);
  const [starting, setStarting] = useState(false);
  const [apiError, setApiError] = useState<ApiError | null>(null);
  const [note, setNote] = useState('');
  const [checks, setChecks] = useState<Record<string, FieldCheck>>({});
  const focusFirstError = useRef(false);
  const formRef = useRef<HTMLFormElement>(null);
  const previewRef = useRef<HTMLDivElement>(null);
  const example = formatDecimalString('1234.50', lng);

  // The idempotency field of each chosen site, checked once per visit.
  useEffect(() => {
    for (const id of [values.siteA, values.siteB]) {
      if (!id || checks[id]) continue;
      setChecks((c) => ({ ...c, [id]: { status: null, error: null, created: false } }));
      erp.erpnextFieldStatus(id).then(
        (st) => setChecks((c) => ({ ...c, [id]: { status: st, error: null, created: false } })),
        (e) => setChecks((c) => ({ ...c, [id]: { status: null, error: toApiError(e), created: false } })),
      );
    }
  }, [values.siteA, values.siteB, checks]);

  useEffect(() => {
    if (!focusFirstError.current) return;
    focusFirstError.current = false;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const change = (next: TransferFormValues) => {
    onValues(next);
    if (preview && !preview.stale) onPreview({ ...preview, stale: true });
  };
  const setField = (key: TextFieldKey | 'siteA' | 'siteB' | 'postingDate', v: string) => {
    change({ ...values, [key]: v });
    clearError(fieldName(key));
  };
  const setItem = (n: number, patch: Partial<ItemValues>) => {
    change({ ...values, items: values.items.map((it, i) => (i === n ? { ...it, ...patch } : it)) });
    for (const k of Object.keys(patch)) clearError(`items.${n}.${fieldName(k)}`);
  };
  const clearError = (path: string) => setErrors((cur) => withoutField(cur, path));

  const runPreview = async (v: TransferFormValues) => {
    setApiError(null);
    const checked = validateTransferForm(v, lng);
    if (!checked.ok) {
      focusFirstError.current = true;
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setPreviewing(true);
    try {
      const result = await erp.erpnextPreview(checked.input);
      onPreview({ result, stale: false });
      window.setTimeout(() => previewRef.current?.scrollIntoView?.({ behavior: 'smooth', block: 'start' }), 0);
    } catch (e) {
      setApiError(toApiError(e));
    } finally {
      setPreviewing(false);
    }
  };

  const pickSuggestion = (field: string, name: string) => {
    const next = applySuggestion(values, field, name);
    if (!next) return;
    onValues(next);
    void runPreview(next);
  };

  const start = async () => {
    if (!preview || preview.stale || !preview.result.valid) return;
    setStarting(true);
    setApiError(null);
    try {
      const run = await erp.erpnextStart(preview.result.input, note.trim() === '' ? null : note.trim());
      onValues(emptyTransferForm());
      onPreview(null);
      setNote('');
      navigatePath('erpnext', 'runs', run.id);
    } catch (e) {
      setApiError(toApiError(e));
    } finally {
      setStarting(false);
    }
  };

  const msg = (m: KeyedMessage | undefined): string | null =>
    m ? t(m.key, { example, ...(m.params ?? {}) }) : null;
  // Problems the sites reported, shown at their fields too (while the preview is current).
  const serverAt = new Map<string, string>();
  if (preview && !preview.stale) {
    for (const p of preview.result.problems) {
      const k = normalizeFieldPath(p.field);
      if (!serverAt.has(k)) serverAt.set(k, p.message);
    }
  }
  const errorAt = (path: string): string | null => msg(errors[path]) ?? serverAt.get(path) ?? null;
  const invalid = (path: string) => errorAt(path) !== null;

  const siteName = (id: string) => connections.find((c) => c.id === id)?.name ?? '';
  const text = (key: TextFieldKey, path: string, label: string, hint: string, testId?: string) => {
    const id = `${uid}-${key}`;
    return (
      <Field id={id} label={label} hint={hint} error={errorAt(path)} errorTestId="tr-field-error">
        <input
          {...controlProps(id, invalid(path))}
          type="text"
          value={values[key]}
          onChange={(e) => setField(key, e.target.value)}
          autoComplete="off"
          spellCheck={false}
          data-testid={testId}
        />
      </Field>
    );
  };
  const siteSelect = (key: 'siteA' | 'siteB', path: string, label: string, hint: string, testId: string) => {
    const id = `${uid}-${key}`;
    return (
      <Field id={id} label={label} hint={hint} error={errorAt(path)} errorTestId="tr-field-error">
        <select {...controlProps(id, invalid(path))} value={values[key]} onChange={(e) => setField(key, e.target.value)} data-testid={testId}
        >
          <option value="">{t('erpnext.form.chooseSite')}</option>
          {connections.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </Field>
    );
  };

  const chosenSites = [values.siteA, values.siteB].filter((id, i, all) => id && all.indexOf(id) === i);
  const clientErrorCount = Object.keys(errors).length;

  return (
    <>
      <form
        ref={formRef}
        className="card erp-form"
        data-testid="transfer-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void runPreview(values);
        }}
        aria-labelledby={`${uid}-title`}
      >
        <div className="card-header">
          <div>
            <h2 id={`${uid}-title`}>{t('erpnext.form.title')}</h2>
            <p className="muted small erp-intro">{t('erpnext.form.intro')}</p>
          </div>
        </div>

        <div className="erp-form-body">
          <section className="erp-section" aria-labelledby={`${uid}-sites`}>
            <h3 id={`${uid}-sites`}>{t('erpnext.form.sitesTitle')}</h3>
            <div className="form-grid">
              {siteSelect('siteA', 'site_a', t('erpnext.form.siteA'), t('erpnext.form.siteAHint'), 'tr-site-a')}
              {siteSelect('siteB', 'site_b', t('erpnext.form.siteB'), t('erpnext.form.siteBHint'), 'tr-site-b')}
            </div>
            {chosenSites.map((id) => {
              const c = checks[id];
              const conn = connections.find((x) => x.id === id);
              if (!c || !conn) return null;
              if (c.error) {
                return (
                  <div key={id} className="alert alert-neutral erp-field-check" data-testid="tr-field-check-failed">
                    <Icon name="info" size={18} className="alert-icon" />
                    <div className="alert-body">
                      <p className="alert-text">
                        {t('erpnext.field.checkFailed', { site: conn.name })} {translateError(i18n, c.error)}
                      </p>
                      <ErrorDetails details={c.error.details} />
                    </div>
                  </div>
                );
              }
              if (c.status && fieldGaps(c.status).length > 0) {
                return (
                  <FieldOffer
                    key={id}
                    connection={conn}
                    status={c.status}
                    onCreated={(st) => setChecks((cur) => ({ ...cur, [id]: { status: st, error: null, created: true } }))}
                  />
                );
              }
              if (c.created) {
                return (
                  <div key={id} className="alert alert-success erp-field-check" role="status" data-testid="tr-field-ready">
                    <Icon name="check" size={18} className="alert-icon" />
                    <div className="alert-body">
                      <p className="alert-text">{t('erpnext.field.created', { site: conn.name })}</p>
                    </div>
                  </div>
                );
              }
              return null;
            })}
          </section>

          <section className="erp-section" aria-labelledby={`${uid}-parties`}>
            <h3 id={`${uid}-parties`}>{t('erpnext.form.partiesTitle')}</h3>
            <p className="field-hint">{t('erpnext.form.partiesHint')}</p>
            <div className="erp-sides">
              <fieldset className="erp-side">
                <legend>
                  <span className="erp-side-tag">A</span>
                  {siteName(values.siteA) || t('erpnext.fields.site_a')}
                </legend>
                {text('supplier', 'supplier', t('erpnext.form.supplier'), t('erpnext.form.supplierHint'), 'tr-supplier')}
                {text('companyA', 'company_a', t('erpnext.form.companyA'), t('erpnext.form.companyAHint'), 'tr-company-a')}
                {text('customerBOnA', 'customer_b_on_a', t('erpnext.form.customerBOnA'), t('erpnext.form.customerBOnAHint'), 'tr-customer')}
                {text('warehouseA', 'warehouse_a', t('erpnext.form.warehouseA'), t('erpnext.form.warehouseAHint'), 'tr-warehouse-a')}
              </fieldset>
              <fieldset className="erp-side">
                <legend>
                  <span className="erp-side-tag">B</span>
                  {siteName(values.siteB) || t('erpnext.fields.site_b')}
                </legend>
                {text('supplierAOnB', 'supplier_a_on_b', t('erpnext.form.supplierAOnB'), t('erpnext.form.supplierAOnBHint'), 'tr-supplier-b')}
                {text('warehouseB', 'warehouse_b', t('erpnext.form.warehouseB'), t('erpnext.form.warehouseBHint'), 'tr-warehouse-b')}
                {text('companyB', 'company_b', t('erpnext.form.companyB'), t('erpnext.form.companyBHint'), 'tr-company-b')}
                <DateField
                  id={`${uid}-postingDate`}
                  label={t('erpnext.form.postingDate')}
                  hint={t('erpnext.form.postingDateHint')}
                  error={errorAt('posting_date')}
                  invalid={invalid('posting_date')}
                  errorTestId="tr-field-error"
                  value={values.postingDate}
                  onChange={(d) => setField('postingDate', d)}
                  data-testid="tr-posting-date"
                />
              </fieldset>
            </div>
          </section>

          <section className="erp-section" aria-labelledby={`${uid}-items`}>
            <h3 id={`${uid}-items`}>{t('erpnext.form.itemsTitle')}</h3>
            <p className="field-hint">{t('erpnext.form.itemsHint')}</p>
            {errorAt('items') ? (
              <p className="field-error" data-testid="tr-field-error">
                {errorAt('items')}
              </p>
            ) : null}
            <div className="erp-items" role="table" aria-label={t('erpnext.form.itemsTitle')}>
              <div className="erp-item erp-item-head" role="row">
                <span role="columnheader">#</span>
                <span role="columnheader">{t('erpnext.form.itemCode')}</span>
                <span role="columnheader">{t('erpnext.form.qty')}</span>
                <span role="columnheader">{t('erpnext.form.rate')}</span>
                <span role="columnheader">{t('erpnext.form.transferRate')}</span>
                <span role="columnheader">{t('erpnext.form.serials')}</span>
                <span role="columnheader" aria-hidden="true" />
              </div>
              {values.items.map((it, n) => {
                const line = n + 1;
                const p = (f: string) => `items.${n}.${f}`;
                const id = (f: string) => `${uid}-item-${it.key}-${f}`;
                const count = splitSerials(it.serials).length;
                const qtyNum = /^\d+$/.test(it.qty.trim()) ? Number(it.qty.trim()) : null;
                const countOk = qtyNum !== null && count === qtyNum;
                /** The control's attributes; `f` names it in ids, `path` in the errors. */
                const cell = (f: string, path: string) => controlProps(id(f), invalid(p(path)));
                const cellMessage = (f: string, path: string, hint?: string | null) => (
                  <FieldMessage id={messageId(id(f))} error={errorAt(p(path))} hint={hint} errorTestId="tr-field-error" />
                );
                return (
                  <div className="erp-item" role="row" key={it.key} data-testid="tr-item" data-line={line}>
                    <span className="erp-item-n tabular" role="cell" aria-label={t('erpnext.form.line', { line })}>
                      {line}
                    </span>
                    <div className="erp-cell" role="cell">
                      <label className="sr-only" htmlFor={id('code')}>
                        {`${t('erpnext.form.line', { line })}: ${t('erpnext.form.itemCode')}`}
                      </label>
                      <input
                        {...cell('code', 'item_code')}
                        type="text"
                        value={it.itemCode}
                        onChange={(e) => setItem(n, { itemCode: e.target.value })}
                        autoComplete="off"
                        spellCheck={false}
                        data-testid="tr-item-code"
                      />
                      {cellMessage('code', 'item_code')}
                    </div>
                    <div className="erp-cell" role="cell">
                      <label className="sr-only" htmlFor={id('qty')}>
                        {`${t('erpnext.form.line', { line })}: ${t('erpnext.form.qty')}`}
                      </label>
                      <input
                        {...cell('qty', 'qty')}
                        type="text"
                        inputMode="numeric"
                        className="tabular"
                        value={it.qty}
                        onChange={(e) => setItem(n, { qty: e.target.value })}
                        data-testid="tr-item-qty"
                      />
                      {cellMessage('qty', 'qty')}
                    </div>
                    <div className="erp-cell" role="cell">
                      <label className="sr-only" htmlFor={id('rate')}>
                        {`${t('erpnext.form.line', { line })}: ${t('erpnext.form.rate')}`}
                      </label>
                      <input
                        {...cell('rate', 'rate')}
                        type="text"
                        inputMode="decimal"
                        className="tabular"
                        value={it.rate}
                        placeholder={example}
                        onChange={(e) => setItem(n, { rate: e.target.value })}
                        data-testid="tr-item-rate"
                      />
                      {cellMessage('rate', 'rate', n === 0 ? t('erpnext.form.rateHint', { example }) : null)}
                    </div>
                    <div className="erp-cell" role="cell">
                      <label className="sr-only" htmlFor={id('trate')}>
                        {`${t('erpnext.form.line', { line })}: ${t('erpnext.form.transferRate')}`}
                      </label>
                      <input
                        {...cell('trate', 'transfer_rate')}
                        type="text"
                        inputMode="decimal"
                        className="tabular"
                        value={it.transferRate}
                        onChange={(e) => setItem(n, { transferRate: e.target.value })}
                        title={t('erpnext.form.transferRateHint')}
                        data-testid="tr-item-transfer-rate"
                      />
                      {cellMessage('trate', 'transfer_rate')}
                    </div>
                    <div className="erp-cell" role="cell">
                      <label className="sr-only" htmlFor={id('serials')}>
                        {`${t('erpnext.form.line', { line })}: ${t('erpnext.form.serials')}`}
                      </label>
                      <textarea
                        {...cell('serials', 'serials')}
                        className="erp-serials mono"
                        rows={Math.min(6, Math.max(2, count + 1))}
                        value={it.serials}
                        onChange={(e) => setItem(n, { serials: e.target.value })}
                        spellCheck={false}
                        data-testid="tr-item-serials"
                      />
                      {errorAt(p('serials')) ? (
                        cellMessage('serials', 'serials')
                      ) : (
                        <span
                          id={`${id('serials')}-msg`}
                          className={countOk ? 'field-hint erp-count-ok' : 'field-hint'}
                          data-testid="tr-serial-count"
                        >
                          {countOk ? <Icon name="check" size={12} /> : null}
                          {t('erpnext.form.serialsCount', { count, qty: it.qty.trim() || '0' })}
                        </span>
                      )}
                    </div>
                    <div role="cell">
                      <button
                        type="button"
                        className="icon-button icon-button-danger"
                        onClick={() => change({ ...values, items: values.items.filter((_, i) => i !== n) })}
                        disabled={values.items.length === 1}
                        aria-label={t('erpnext.form.removeItem', { line })}
                        title={t('erpnext.form.removeItem', { line })}
                        data-testid="tr-item-remove"
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </div>
                  </div>
                );
              })}
            </div>
            <div>
              <button
                type="button"
                className="btn btn-small"
                onClick={() => change({ ...values, items: [...values.items, emptyItem()] })}
                data-testid="tr-add-item"
              >
                <Icon name="plus" size={14} />
                {t('erpnext.form.addItem')}
              </button>
            </div>
          </section>
        </div>

        <div className="erp-form-footer">
          {clientErrorCount > 0 ? (
            <p className="field-error" role="alert" data-testid="tr-form-invalid">
              {t('erpnext.form.fixErrors')}
            </p>
          ) : (
            <span className="muted small">{t('erpnext.form.previewHint')}</span>
          )}
          <button type="submit" className="btn btn-primary" disabled={previewing || starting} data-testid="tr-preview">
            {previewing ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="play" size={15} />}
            {previewing ? t('erpnext.form.previewing') : t('erpnext.form.preview')}
          </button>
        </div>
      </form>

      {apiError ? <ErrorBox error={apiError} testId="tr-error" onDismiss={() => setApiError(null)} /> : null}

      {preview ? (
        <div ref={previewRef}>
          <PreviewDocuments
            preview={preview.result}
            stale={preview.stale}
            fieldLabel={(f) => fieldPathLabel(t, (k) => i18n.exists(k), f)}
            canUse={(field) => applySuggestion(values, field, 'x') !== null}
            onSuggestion={pickSuggestion}
            footer={
              preview.result.valid ? (
                <div className="erp-start">
                  <Field id={`${uid}-note`} label={t('erpnext.preview.noteLabel')} hint={t('erpnext.preview.noteHint')} className="erp-note">
                    <input
                      id={`${uid}-note`}
                      type="text"
                      value={note}
                      onChange={(e) => setNote(e.target.value)}
                      placeholder={t('erpnext.preview.notePlaceholder')}
                      maxLength={500}
                      data-testid="tr-note"
                    />
                  </Field>
                  <div className="erp-start-action">
                    <button
                      type="button"
                      className="btn btn-primary btn-large"
                      onClick={() => void start()}
                      disabled={starting || preview.stale}
                      data-testid="tr-start"
                    >
                      {starting ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="transfer" size={16} />}
                      {starting ? t('erpnext.preview.starting') : t('erpnext.preview.start')}
                    </button>
                    <span className="field-hint">{t('erpnext.preview.startHint')}</span>
                  </div>
                </div>
              ) : null
            }
          />
        </div>
      ) : null}
    </>
  );
}
