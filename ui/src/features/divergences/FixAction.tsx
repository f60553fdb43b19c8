// The fix BackOffice already knows for a pending-verification divergence, one click away: close
// the purchase order whose service NF is posted (RF-002), or copy an NF-e receipt's attachments to
// the payable born of it (RF-001); for an ERPNext delivery without its receipt on the other site,
// open the transfer run that made it (where it is resumed) or the transfer form. The job reads the ERP first (a closed order or a copied file is
// left alone), so pressing the button twice never writes twice. When it has run, the divergence's
// rule can be checked again at once and the divergence closes as resolved at the source.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import type { Divergence } from '../../bindings/Divergence';
import type { Job } from '../../bindings/Job';
import { Icon } from '../../components/Icon';
import { toApiError } from '../../errors';
import { useFollowedJob } from '../../hooks/useFollowedJob';
import { hrefFor, hrefForPath } from '../../router';
import { isActiveJob } from '../sync';
import { omieClosePurchaseOrder, omieTransferAttachments } from '../omie/api';
import { startDivergenceSession } from './api';
import { DivergenceErrorBox, JobProgress } from './Parts';

/** The fixes a divergence can name in its `fix` fact. */
export const FIXES = ['omie_po_close', 'omie_attachment_transfer', 'erpnext_run'] as const;
type Fix = (typeof FIXES)[number];
type JobFix = Exclude<Fix, 'erpnext_run'>;

export function fixOf(d: Divergence): Fix | null {
  const f = d.facts.fix ?? '';
  const live = d.status === 'open' || d.status === 'approved' || d.status === 'failed';
  return live && d.connection_id && (FIXES as readonly string[]).includes(f) ? (f as Fix) : null;
}

function startFix(fix: JobFix, d: Divergence): Promise<Job> {
  const f = d.facts;
  const connection = d.connection_id ?? '';
  if (fix === 'omie_po_close') {
    return omieClosePurchaseOrder(connection, {
      order_number: f.order ?? d.record_id,
      item: null,
      service_invoice_number: f.service_nf ?? null,
      service_invoice_id: null,
      dry_run: false,
    });
  }
  return omieTransferAttachments(connection, {
    from_table: 'com-recebimento',
    from_id: f.receipt ?? '',
    to_table: 'conta-pagar',
    to_id: f.payable ?? d.record_id,
    dry_run: false,
  });
}

export function FixAction({ d, onChecked }: { d: Divergence; onChecked: (job: Job) => void }) {
  const { t } = useTranslation();
  const fix = fixOf(d);
  const [job, setJob] = useFollowedJob();
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  if (!fix) return null;
  if (fix === 'erpnext_run') return <RunLink d={d} />;

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setJob(await startFix(fix, d));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const checkAgain = async () => {
    setBusy(true);
    setError(null);
    try {
      onChecked(await startDivergenceSession({ mode: 'manual', rules: [d.rule_id], force: false }));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const running = isActiveJob(job);
  const ended = job && !running ? job.status : null;

  return (
    <section className="detail-section" data-testid="divergence-fix" data-fix={fix}>
      <h3>{t('divergences.fix.title')}</h3>
      <p className="muted small">{t(`divergences.fix.${fix}.hint`)}</p>
      <JobProgress job={job} testId="divergence-fix-job" />
      <div className="div-actions">
        <button type="button" className="btn btn-small btn-primary" onClick={() => void run()} disabled={busy || running} data-testid="divergence-fix-run">
          <Icon name="play" size={14} />
          {t(`divergences.fix.${fix}.button`, { order: d.facts.order ?? d.record_id, number: d.facts.number ?? '' })}
        </button>
        {ended === 'succeeded' ? (
          <button type="button" className="btn btn-small" onClick={() => void checkAgain()} disabled={busy} data-testid="divergence-fix-check">
            <Icon name="refresh" size={14} />
            {t('divergences.fix.checkAgain')}
          </button>
        ) : null}
      </div>
      {ended === 'succeeded' ? (
        <p className="small" role="status" data-testid="divergence-fix-done">
          {t('divergences.fix.done')}
        </p>
      ) : null}
      {ended === 'failed' || ended === 'cancelled' ? (
        <p className="small" role="status" data-testid="divergence-fix-failed">
          {t('divergences.fix.failed')}
        </p>
      ) : null}
      {error ? <DivergenceErrorBox error={error} onDismiss={() => setError(null)} testId="divergence-fix-error" /> : null}
    </section>
  );
}

/** The transfer that made the delivery note (resumed there), or the form for a new one. */
function RunLink({ d }: { d: Divergence }) {
  const { t } = useTranslation();
  const run = d.facts.run ?? '';
  return (
    <section className="detail-section" data-testid="divergence-fix" data-fix="erpnext_run">
      <h3>{t('divergences.fix.title')}</h3>
      <p className="muted small">{t(run ? 'divergences.fix.erpnext_run.hintRun' : 'divergences.fix.erpnext_run.hintNew')}</p>
      <a className="btn btn-small btn-primary" href={run ? hrefForPath('erpnext', 'runs', run) : hrefFor('erpnext')} data-testid="divergence-fix-open">
        <Icon name="transfer" size={14} />
        {t(run ? 'divergences.fix.erpnext_run.openRun' : 'divergences.fix.erpnext_run.newRun')}
      </a>
    </section>
  );
}
