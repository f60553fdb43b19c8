// The rules: what each looks for, how sure it is, from which confidence a finding is listed and
// from which it is corrected on its own (or never), and whether it runs. Every change asks why and
// is kept as a new version; "History" lists the versions with who, when and why.
import type { ColumnDef } from '@tanstack/react-table';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Rule } from '../../bindings/Rule';
import type { RuleVersion } from '../../bindings/RuleVersion';
import { DataTable } from '../../components/DataTable';
import { EmptyState } from '../../components/EmptyState';
import { Icon } from '../../components/Icon';
import { Loading } from '../../components/Loading';
import { Modal } from '../../components/Modal';
import { controlProps, DateField, Field, FormDialog, useFieldErrors } from '../../components/form';
import { toApiError } from '../../errors';
import { divergenceRuleHistory, saveDivergenceRule } from './api';
import {
  localRuleName,
  actorLabel,
  checkRule,
  CORRECTING_KINDS,
  describeError,
  formatConfidence,
  kindLabel,
  RULE_SERVER_FIELD,
  ruleValues,
  type RuleField,
  type RuleValues,
} from './model';
import { DivergenceErrorBox, When } from './Parts';

function AutoApply({ rule }: { rule: Pick<Rule, 'auto_apply_threshold' | 'kind'> }) {
  const { t, i18n } = useTranslation();
  if (rule.auto_apply_threshold === null) {
    return <span className="muted">{CORRECTING_KINDS.includes(rule.kind) ? t('divergences.rules.never') : t('divergences.rules.flagOnly')}</span>;
  }
  return <span className="tabular">{t('divergences.rules.fromPercent', { percent: formatConfidence(rule.auto_apply_threshold, i18n.language) })}</span>;
}

function EnabledBadge({ enabled }: { enabled: boolean }) {
  const { t } = useTranslation();
  return enabled ? (
    <span className="badge badge-succeeded">
      <Icon name="check" size={12} />
      {t('divergences.rules.on')}
    </span>
  ) : (
    <span className="badge badge-cancelled">{t('divergences.rules.off')}</span>
  );
}

export function RuleFormDialog({ rule, onClose, onSaved }: { rule: Rule; onClose: () => void; onSaved: (r: Rule) => void }) {
  const { t, i18n } = useTranslation();
  const ids = useId();
  const [values, setValues] = useState<RuleValues>(() => ruleValues(rule));
  const { errors, setErrors, message, clear } = useFieldErrors<RuleField>();
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const canAuto = CORRECTING_KINDS.includes(rule.kind);
  const params = rule.params as Record<string, unknown>;
  const hasFrom = 'from_date' in params;

  const labels: Record<RuleField, string> = {
    name: t('divergences.rules.form.name'),
    fromDate: t('divergences.rules.form.fromDate'),
    confidence: t('divergences.rules.form.confidence'),
    showThreshold: t('divergences.rules.form.showThreshold'),
    autoApply: t('divergences.rules.form.autoApply'),
    autoApplyThreshold: t('divergences.rules.form.autoApplyThreshold'),
    enabled: t('divergences.rules.form.enabled'),
    reason: t('divergences.rules.form.reason'),
  };

  const set = <K extends RuleField>(field: K, value: RuleValues[K]) => {
    setValues((v) => ({ ...v, [field]: value }));
    clear(field);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    const checked = checkRule(values, canAuto, hasFrom ? params : null);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      onSaved(await saveDivergenceRule(rule.id, checked.input));
    } catch (err) {
      const apiErr = toApiError(err);
      const field = apiErr.code === 'invalid_input' ? RULE_SERVER_FIELD[apiErr.params.field ?? ''] : undefined;
      // The core's reason is English: say it in the user's words, naming the field as the form does.
      const d = describeError(i18n, apiErr);
      setServerError(
        d.error === apiErr
          ? apiErr
          : { ...d.error, params: { ...apiErr.params, field: field ? labels[field] : (apiErr.params.field ?? ''), reason: d.text } },
      );
      if (field) setErrors({ [field]: '' });
    } finally {
      setSaving(false);
    }
  };

  const id = (f: RuleField) => `${ids}-${f}`;
  const box = (f: RuleField) => ({ id: id(f), label: labels[f], error: message(f), errorTestId: `rule-error-${f}` });
  const control = (f: RuleField) => controlProps(id(f), errors[f] !== undefined);
  const percentInput = (f: 'confidence' | 'showThreshold' | 'autoApplyThreshold', disabled = false) => (
    <div className="div-percent">
      <input
        {...control(f)}
        type="text"
        inputMode="numeric"
        value={values[f]}
        disabled={disabled}
        onChange={(e) => set(f, e.target.value)}
        data-testid={`rule-${f}`}
      />
      <span aria-hidden="true">%</span>
    </div>
  );

  return (
    <FormDialog
      title={t('divergences.rules.form.title', { name: rule.name })}
      testId="rule-form"
      onClose={onClose}
      onSubmit={submit}
      intro={t('divergences.rules.form.intro', { kind: kindLabel(i18n, rule.kind) })}
      serverError={serverError}
      errors={errors}
      labels={labels}
      saving={saving}
      saveTestId="rule-save"
    >
      <Field {...box('name')} wide>
        <input {...control('name')} type="text" value={values.name} onChange={(e) => set('name', e.target.value)} maxLength={140} data-testid="rule-name" />
      </Field>
      {hasFrom ? (
        <DateField
          id={id('fromDate')}
          label={labels.fromDate}
          value={values.fromDate}
          onChange={(v) => set('fromDate', v)}
          error={message('fromDate')}
          hint={t('divergences.rules.form.fromDateHint')}
          errorTestId="rule-error-fromDate"
          wide
          data-testid="rule-fromDate"
        />
      ) : null}
      <Field {...box('confidence')} hint={t('divergences.rules.form.confidenceHint')}>
        {percentInput('confidence')}
      </Field>
      <Field {...box('showThreshold')} hint={t('divergences.rules.form.showThresholdHint')}>
        {percentInput('showThreshold')}
      </Field>
      <div className="field">
        <label className="check div-check-line">
          <input
            type="checkbox"
            checked={canAuto && values.autoApply}
            disabled={!canAuto}
            onChange={(e) => set('autoApply', e.target.checked)}
            data-testid="rule-autoApply"
          />
          <span className="strong">{labels.autoApply}</span>
        </label>
        <p className="field-hint">{canAuto ? t('divergences.rules.form.autoApplyHint') : t('divergences.rules.form.autoApplyFlagOnly')}</p>
      </div>
      <Field {...box('autoApplyThreshold')}>{percentInput('autoApplyThreshold', !canAuto || !values.autoApply)}</Field>
      <div className="field field-wide">
        <label className="check div-check-line">
          <input type="checkbox" checked={values.enabled} onChange={(e) => set('enabled', e.target.checked)} data-testid="rule-enabled" />
          <span className="strong">{labels.enabled}</span>
        </label>
        <p className="field-hint">{t('divergences.rules.form.enabledHint')}</p>
      </div>
      <Field {...box('reason')} wide hint={t('divergences.rules.form.reasonHint')}>
        <textarea {...control('reason')} rows={3} value={values.reason} onChange={(e) => set('reason', e.target.value)} aria-required="true" data-testid="rule-reason" />
      </Field>
    </FormDialog>
  );
}

function HistoryDialog({ rule, onClose }: { rule: Rule; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [versions, setVersions] = useState<RuleVersion[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let stale = false;
    divergenceRuleHistory(rule.id).then(
      (v) => {
        if (!stale) setVersions([...(v ?? [])].sort((a, b) => b.version - a.version));
      },
      (e) => {
        if (!stale) setError(toApiError(e));
      },
    );
    return () => {
      stale = true;
    };
  }, [rule.id]);

  return (
    <Modal title={t('divergences.rules.history.title', { name: rule.name })} onClose={onClose} testId="rule-history" wide>
      {error ? <DivergenceErrorBox error={error} /> : null}
      {versions === null && !error ? <Loading /> : null}
      {versions && versions.length === 0 ? <p className="muted">{t('divergences.rules.history.empty')}</p> : null}
      {versions && versions.length > 0 ? (
        <ol className="div-versions">
          {versions.map((v) => (
            <li key={v.version} data-testid="rule-version" data-version={v.version}>
              <div className="div-event-head">
                <span className="strong">{t('divergences.rules.versionN', { version: v.version })}</span>
                <When at={v.changed_at} withTime />
              </div>
              <div className="muted small">{t('divergences.rules.history.by', { who: actorLabel(i18n, v.changed_by) })}</div>
              <p className="div-note">{v.reason || '—'}</p>
              <p className="small muted">
                {t('divergences.rules.history.values', {
                  name: v.rule.name,
                  confidence: formatConfidence(v.rule.confidence, lng),
                  show: formatConfidence(v.rule.show_threshold, lng),
                  auto:
                    v.rule.auto_apply_threshold === null
                      ? t('divergences.rules.never')
                      : formatConfidence(v.rule.auto_apply_threshold, lng),
                  enabled: v.rule.enabled ? t('divergences.rules.on') : t('divergences.rules.off'),
                })}
              </p>
            </li>
          ))}
        </ol>
      ) : null}
    </Modal>
  );
}

export function RulesTab({ rules, error, onSaved }: { rules: Rule[] | null; error: ApiError | null; onSaved: (r: Rule) => void }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const [editing, setEditing] = useState<Rule | null>(null);
  const [history, setHistory] = useState<Rule | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const columns = useMemo<ColumnDef<Rule>[]>(
    () => [
      {
        id: 'name',
        header: t('divergences.rules.colName'),
        size: 260,
        cell: ({ row }) => (
          <span className="div-rule-name">
            <span className="strong truncate block" title={row.original.name}>
              {localRuleName(i18n, row.original.id, row.original.name)}
            </span>
            <span className="muted small">{kindLabel(i18n, row.original.kind)}</span>
          </span>
        ),
      },
      {
        id: 'confidence',
        header: t('divergences.rules.colConfidence'),
        meta: { width: '112px' },
        cell: ({ row }) => <span className="tabular">{formatConfidence(row.original.confidence, lng)}</span>,
      },
      {
        id: 'show',
        header: t('divergences.rules.colShow'),
        meta: { width: '120px' },
        cell: ({ row }) => <span className="tabular">{t('divergences.rules.fromPercent', { percent: formatConfidence(row.original.show_threshold, lng) })}</span>,
      },
      { id: 'auto', header: t('divergences.rules.colAuto'), meta: { width: '160px' }, cell: ({ row }) => <AutoApply rule={row.original} /> },
      { id: 'enabled', header: t('divergences.rules.colEnabled'), meta: { width: '96px' }, cell: ({ row }) => <EnabledBadge enabled={row.original.enabled} /> },
      {
        id: 'updated',
        header: t('divergences.rules.colUpdated'),
        meta: { width: '150px' },
        cell: ({ row }) => (
          <span className="div-rule-name">
            <span className="small">{t('divergences.rules.versionN', { version: row.original.version })}</span>
            <span className="muted small truncate">
              <When at={row.original.updated_at} /> · {actorLabel(i18n, row.original.updated_by)}
            </span>
          </span>
        ),
      },
      {
        id: 'actions',
        header: () => <span className="sr-only">{t('divergences.rules.colActions')}</span>,
        meta: { width: '210px' },
        cell: ({ row }) => (
          <div className="row-actions">
            <button type="button" className="btn btn-small" onClick={() => setEditing(row.original)} data-testid="rule-edit">
              <Icon name="edit" size={14} />
              {t('divergences.rules.edit')}
            </button>
            <button type="button" className="btn btn-small" onClick={() => setHistory(row.original)} data-testid="rule-history-open">
              <Icon name="clock" size={14} />
              {t('divergences.rules.historyButton')}
            </button>
          </div>
        ),
      },
    ],
    [t, i18n, lng],
  );

  return (
    <div className="div-rules" data-testid="divergences-rules">
      <p className="muted">{t('divergences.rules.intro')}</p>
      {error ? <DivergenceErrorBox error={error} /> : null}
      {saved ? (
        <div className="alert alert-success" role="status" data-testid="rule-saved">
          <Icon name="check" size={20} className="alert-icon" />
          <div className="alert-body">
            <p className="alert-text">{t('divergences.rules.saved', { name: saved })}</p>
          </div>
        </div>
      ) : null}
      {rules === null && !error ? <Loading /> : null}
      {rules && rules.length === 0 ? (
        <div className="card">
          <EmptyState icon="scale" title={t('divergences.rules.emptyTitle')} />
        </div>
      ) : null}
      {rules && rules.length > 0 ? (
        <div className="card table-card">
          <DataTable
            data={rules}
            columns={columns}
            getRowId={(r) => r.id}
            label={t('divergences.tabs.rules')}
            rowHeight={null}
            rowAttributes={(r) => ({ 'data-testid': 'rule-row', 'data-id': r.id })}
          />
        </div>
      ) : null}
      {editing ? (
        <RuleFormDialog
          rule={editing}
          onClose={() => setEditing(null)}
          onSaved={(r) => {
            setEditing(null);
            setSaved(r.name);
            onSaved(r);
          }}
        />
      ) : null}
      {history ? <HistoryDialog rule={history} onClose={() => setHistory(null)} /> : null}
    </div>
  );
}
