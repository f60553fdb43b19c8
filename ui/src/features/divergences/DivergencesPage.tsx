// The Divergences page: records in the synced ERP data that break a rule, to review (inbox),
// decide on with a written reason, correct in the ERP and roll back; the rules themselves; the
// processing sessions; and the audit of every write. Sub-routes: #/divergences (inbox),
// #/divergences/inbox/<rule id> (the inbox of one rule), #/divergences/rules, #/divergences/sessions,
// #/divergences/audit, #/divergences/metrics.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

import * as api from '../../api';
import type { ApiError } from '../../bindings/ApiError';
import type { Connection } from '../../bindings/Connection';
import type { DivergenceFilter } from '../../bindings/DivergenceFilter';
import type { Job } from '../../bindings/Job';
import type { Rule } from '../../bindings/Rule';
import { Icon } from '../../components/Icon';
import { Modal } from '../../components/Modal';
import { Notice } from '../../components/Notice';
import { PageHeader } from '../../components/PageHeader';
import { toApiError } from '../../errors';
import { formatNumber, formatPercent } from '../../format';
import { hrefFor, hrefForPath } from '../../router';
import { isActiveJob } from '../sync';
import { applyDivergences, divergenceRules, exportDivergences, startDivergenceSession, SESSION_JOB_KIND } from './api';
import { DivergenceDetailPanel } from './Detail';
import { InboxTab } from './Inbox';
import { MetricsTab } from './Metrics';
import { buildFilter, defaultFilterValues, OPEN_FILTER, plural, type FilterValues } from './model';
import { DivergenceErrorBox, JobProgress } from './Parts';
import { RulesTab } from './Rules';
import { AuditTab, SessionsTab } from './Sessions';
import { useDivergenceJobs } from './useDivergenceJobs';
import { useInbox } from './useInbox';
import '../contifico/contifico.css';
import './divergences.css';

export type DivergencesTab = 'inbox' | 'rules' | 'sessions' | 'audit' | 'metrics';
export const DIVERGENCE_TABS: readonly DivergencesTab[] = ['inbox', 'rules', 'sessions', 'audit', 'metrics'];

export function parseDivergencesPath(path: readonly string[]): { tab: DivergencesTab; ruleId: string | null } {
  const first = path[0] ?? '';
  const tab = (DIVERGENCE_TABS as readonly string[]).includes(first) ? (first as DivergencesTab) : 'inbox';
  return { tab, ruleId: tab === 'inbox' ? (path[1] ?? null) : null };
}

/** Waits this long after the last keystroke before asking the core again. */
const FILTER_DELAY_MS = 300;

const sameFilter = (a: DivergenceFilter, b: DivergenceFilter) => JSON.stringify(a) === JSON.stringify(b);

/** The counts a finished job reports, in words ("3 new · 1 resolved"). */
function countsText(t: (k: string, o?: Record<string, unknown>) => string, has: (k: string) => boolean, job: Job, lng: string): string {
  return Object.entries(job.counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${formatNumber(n, lng)} ${has(`divergences.job.counts.${k}`) ? t(`divergences.job.counts.${k}`) : k.replace(/_/g, ' ')}`)
    .join(' · ');
}

function JobOutcome({ job, onDismiss }: { job: Job; onDismiss: () => void }) {
  const { t, i18n } = useTranslation();
  const session = job.kind === SESSION_JOB_KIND;
  const rollback = !session && typeof job.params === 'object' && job.params !== null && (job.params as { rollback?: unknown }).rollback === true;
  const counts = countsText(t, (k) => i18n.exists(k), job, i18n.language);
  const what = session ? 'session' : rollback ? 'rollback' : 'apply';
  if (job.status === 'succeeded') {
    return (
      <Notice testId="divergences-job-done" onDismiss={onDismiss}>
        {t(`divergences.job.${what}Done`)}
        {counts ? ` ${counts}.` : ''}{' '}
        <a href={hrefFor('jobs', job.id)}>{t('common.viewJob')}</a>
      </Notice>
    );
  }
  if (job.error && job.status === 'failed') {
    return (
      <div data-testid="divergences-job-failed">
        <DivergenceErrorBox error={job.error} onDismiss={onDismiss} />
      </div>
    );
  }
  return (
    <div className="alert alert-neutral" role="status" data-testid="divergences-job-stopped">
      <Icon name="info" size={20} className="alert-icon" />
      <div className="alert-body">
        <p className="alert-text">
          {t(`divergences.job.${what}Stopped`)} <a href={hrefFor('jobs', job.id)}>{t('common.viewJob')}</a>
        </p>
      </div>
    </div>
  );
}

export function DivergencesPage({ path = [] }: { path?: readonly string[] }) {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  const { tab, ruleId } = parseDivergencesPath(path);

  const [refreshKey, setRefreshKey] = useState(0);
  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);
  const [outcome, setOutcome] = useState<Job | null>(null);
  const jobs = useDivergenceJobs((job) => {
    setOutcome(job);
    refresh();
  });

  // Rules (names for the chips and the filter; the Rules tab) and connections (the filter).
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [rulesError, setRulesError] = useState<ApiError | null>(null);
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const loadRules = useCallback(async () => {
    try {
      setRules((await divergenceRules()) ?? []);
      setRulesError(null);
    } catch (e) {
      setRulesError(toApiError(e));
    }
  }, []);
  useEffect(() => {
    void loadRules();
    Promise.resolve()
      .then(() => api.listConnections())
      .then(
        (c) => setConnections(c ?? []),
        () => setConnections([]),
      );
  }, [loadRules]);

  // The inbox filter: what the form says, applied shortly after the last change.
  const [values, setValues] = useState<FilterValues>(() => defaultFilterValues(ruleId ? { ruleId } : {}));
  useEffect(() => {
    if (ruleId) setValues((v) => (v.ruleId === ruleId ? v : { ...v, ruleId }));
  }, [ruleId]);
  const built = useMemo(() => buildFilter(values, lng), [values, lng]);
  const [applied, setApplied] = useState<DivergenceFilter>(() => (built.ok ? built.filter : OPEN_FILTER));
  useEffect(() => {
    if (!built.ok) return;
    const id = window.setTimeout(() => setApplied((cur) => (sameFilter(cur, built.filter) ? cur : built.filter)), FILTER_DELAY_MS);
    return () => window.clearTimeout(id);
  }, [built]);
  const inbox = useInbox(applied, refreshKey);

  const [detailId, setDetailId] = useState<string | null>(null);

  // Header actions.
  const [starting, setStarting] = useState<'session' | 'apply' | 'export' | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [confirmApply, setConfirmApply] = useState(false);

  const runCheck = async () => {
    setStarting('session');
    setActionError(null);
    setOutcome(null);
    try {
      const job = await startDivergenceSession({ mode: 'manual', rules: [], force: true });
      if (job) jobs.track(job);
    } catch (e) {
      setActionError(toApiError(e));
    } finally {
      setStarting(null);
    }
  };

  const applyApproved = async () => {
    setStarting('apply');
    setActionError(null);
    setOutcome(null);
    try {
      const job = await applyDivergences({ ids: [], rollback: false });
      setConfirmApply(false);
      if (job) jobs.track(job);
    } catch (e) {
      setConfirmApply(false);
      setActionError(toApiError(e));
    } finally {
      setStarting(null);
    }
  };

  const exportFile = async (format: 'csv' | 'xlsx') => {
    setStarting('export');
    setActionError(null);
    setExported(null);
    try {
      setExported(await exportDivergences({ ...applied, limit: null, offset: null }, format));
    } catch (e) {
      setActionError(toApiError(e));
    } finally {
      setStarting(null);
    }
  };

  const sessionRunning = isActiveJob(jobs.session);
  const applyRunning = isActiveJob(jobs.apply);
  const approved = inbox.approved;

  const actions = (
    <div className="div-header-actions">
      <button
        type="button"
        className="btn btn-primary"
        onClick={() => void runCheck()}
        disabled={sessionRunning || starting === 'session'}
        data-testid="divergences-run"
        aria-busy={sessionRunning || undefined}
      >
        {sessionRunning || starting === 'session' ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="play" size={16} />}
        {sessionRunning ? t('divergences.actions.running') : t('divergences.actions.run')}
        {sessionRunning && jobs.session?.progress != null ? (
          <span className="tabular" data-testid="divergences-run-progress">
            {formatPercent(jobs.session.progress, lng)}
          </span>
        ) : null}
      </button>
      <button
        type="button"
        className="btn"
        onClick={() => setConfirmApply(true)}
        disabled={approved === 0 || applyRunning || starting === 'apply'}
        title={approved === 0 ? t('divergences.actions.applyNothing') : undefined}
        data-testid="divergences-apply"
        data-approved={approved ?? ''}
      >
        {applyRunning ? <span className="spinner" aria-hidden="true" /> : <Icon name="check" size={16} />}
        {approved ? t('divergences.actions.applyApprovedN', { n: formatNumber(approved, lng) }) : t('divergences.actions.applyApproved')}
      </button>
      <button type="button" className="btn" onClick={() => void exportFile('xlsx')} disabled={starting === 'export'} data-testid="divergences-export-xlsx">
        {starting === 'export' ? <span className="spinner" aria-hidden="true" /> : <Icon name="list" size={16} />}
        {t('divergences.actions.exportXlsx')}
      </button>
      <button type="button" className="btn" onClick={() => void exportFile('csv')} disabled={starting === 'export'} data-testid="divergences-export">
        {t('divergences.actions.export')}
      </button>
    </div>
  );

  const tabHref = (v: DivergencesTab) => (v === 'inbox' ? hrefFor('divergences') : hrefForPath('divergences', v));

  return (
    <section
      className={detailId ? 'page page-divergences with-detail' : 'page page-divergences'}
      data-testid="page-divergences"
      data-tab={tab}
    >
      {/* The heading and subtitle keep the keys the page had before it was built (the e2e tour reads them). */}
      <PageHeader title={t('divergences.title')} subtitle={t('divergences.subtitle')} actions={actions} />

      <JobProgress job={jobs.session} label={jobs.session?.progress_label ? t('divergences.job.checking', { rule: jobs.session.progress_label }) : null} testId="divergences-session-progress" />
      <JobProgress job={jobs.apply} label={t('divergences.job.applying')} testId="divergences-apply-progress" />
      {outcome ? <JobOutcome job={outcome} onDismiss={() => setOutcome(null)} /> : null}
      {actionError ? <DivergenceErrorBox error={actionError} onDismiss={() => setActionError(null)} testId="divergences-action-error" /> : null}
      {exported ? (
        <Notice testId="divergences-exported" onDismiss={() => setExported(null)}>
          {t('divergences.actions.exported')} <span className="mono selectable">{exported}</span>
        </Notice>
      ) : null}

      <nav className="tabs" aria-label={t('divergences.tabs.label')}>
        {DIVERGENCE_TABS.map((v) => (
          <a
            key={v}
            href={tabHref(v)}
            className={tab === v ? 'tab active' : 'tab'}
            aria-current={tab === v ? 'page' : undefined}
            data-testid={`divergences-tab-${v}`}
          >
            {t(`divergences.tabs.${v}`)}
          </a>
        ))}
      </nav>

      {tab === 'inbox' ? (
        <InboxTab
          values={values}
          onValues={(v) => setValues((cur) => ({ ...cur, ...v }))}
          onReset={() => setValues(defaultFilterValues())}
          errors={built.ok ? {} : built.errors}
          inbox={inbox}
          rules={rules}
          connections={connections}
          detailId={detailId}
          onOpen={setDetailId}
          onChanged={refresh}
        />
      ) : null}
      {tab === 'rules' ? (
        <RulesTab
          rules={rules}
          error={rulesError}
          onSaved={(r) => {
            setRules((cur) => (cur ? cur.map((x) => (x.id === r.id ? r : x)) : cur));
            void loadRules();
            refresh();
          }}
        />
      ) : null}
      {tab === 'sessions' ? <SessionsTab rules={rules} refreshKey={refreshKey} /> : null}
      {tab === 'audit' ? <AuditTab refreshKey={refreshKey} onOpen={setDetailId} /> : null}
      {tab === 'metrics' ? <MetricsTab refreshKey={refreshKey} /> : null}

      {detailId ? (
        <DivergenceDetailPanel
          key={detailId}
          id={detailId}
          refreshKey={refreshKey}
          applyJob={jobs.apply}
          onClose={() => setDetailId(null)}
          onChanged={refresh}
          onJob={jobs.track}
        />
      ) : null}

      {confirmApply ? (
        <Modal
          title={t('divergences.applyAll.title')}
          onClose={() => setConfirmApply(false)}
          testId="divergences-apply-confirm"
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirmApply(false)} data-autofocus>
                {t('common.cancel')}
              </button>
              <button type="button" className="btn btn-primary" onClick={() => void applyApproved()} disabled={starting === 'apply'} data-testid="divergences-apply-accept">
                {starting === 'apply' ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="check" size={16} />}
                {t('divergences.applyAll.confirm')}
              </button>
            </>
          }
        >
          <p>{plural(i18n, 'divergences.applyAll.body', approved ?? 0)}</p>
        </Modal>
      ) : null}
    </section>
  );
}
