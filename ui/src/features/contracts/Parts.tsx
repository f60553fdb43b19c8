// Small pieces the contracts views share: the verdict and status badges, a client with its
// document, and an error box that words the core's refusals in the user's language.
import { useTranslation } from 'react-i18next';

import type { ApiError } from '../../bindings/ApiError';
import { ErrorBox } from '../../components/ErrorBox';
import { Icon, type IconName } from '../../components/Icon';
import { contractStatusLabel, describeContractError, documentText, isVerdict, VERDICT_LOOK, verdictLabel } from './model';

/** A client-month's verdict with colour, icon AND words (never colour alone). */
export function VerdictBadge({ verdict }: { verdict: string }) {
  const { i18n } = useTranslation();
  const [tone, icon] = isVerdict(verdict) ? VERDICT_LOOK[verdict] : ['queued', 'info' as const];
  return (
    <span className={`badge badge-status badge-${tone} billing-verdict`} data-testid="verdict-badge" data-verdict={verdict}>
      <Icon name={icon} size={13} />
      {verdictLabel(i18n, verdict)}
    </span>
  );
}

const STATUS_LOOK: Record<string, [tone: string, icon: IconName]> = {
  active: ['succeeded', 'check'],
  suspended: ['open', 'clock'],
  ended: ['cancelled', 'stop'],
};

/** A contract's status (active, suspended, ended). */
export function ContractStatusBadge({ status }: { status: string }) {
  const { i18n } = useTranslation();
  const [tone, icon] = STATUS_LOOK[status] ?? ['queued', 'info'];
  return (
    <span className={`badge badge-status badge-${tone}`} data-testid="contract-status" data-status={status}>
      <Icon name={icon} size={13} />
      {contractStatusLabel(i18n, status)}
    </span>
  );
}

/** A client's name with its document (CNPJ/CPF punctuated) or code under it. */
export function ClientCell({ name, document, code }: { name: string; document: string; code?: string }) {
  const doc = documentText(document) || code || '';
  return (
    <span className="billing-client">
      <span className="strong truncate" title={name}>
        {name || doc}
      </span>
      {doc && name ? (
        <span className="muted small mono truncate" data-testid="client-document">
          {doc}
        </span>
      ) : null}
    </span>
  );
}

/** An error of a contracts command in plain words (the core's English reason under "details"). */
export function ContractErrorBox({ error, testId, onDismiss }: { error: ApiError; testId?: string; onDismiss?: () => void }) {
  const { i18n } = useTranslation();
  const d = describeContractError(i18n, error);
  return <ErrorBox error={d.error} text={d.text ?? undefined} testId={testId} onDismiss={onDismiss} />;
}
