// Typed wrappers for the divergence commands (one per command). They go through `call` from
// api/index.ts, so they reject with an ApiError like every other command; pages import these, never
// `invoke`. Each is `async`, so even a failure before the call (outside the desktop shell, or a test
// that mocks only the core api) arrives as a rejected promise the page can show.
import { call } from '../../api';
import type { ApplyParams } from '../../bindings/ApplyParams';
import type { Decision } from '../../bindings/Decision';
import type { DecisionResult } from '../../bindings/DecisionResult';
import type { DivergenceDetail } from '../../bindings/DivergenceDetail';
import type { DivergenceFilter } from '../../bindings/DivergenceFilter';
import type { DivergenceMetrics } from '../../bindings/DivergenceMetrics';
import type { DivergencePage } from '../../bindings/DivergencePage';
import type { Job } from '../../bindings/Job';
import type { Operation } from '../../bindings/Operation';
import type { Rule } from '../../bindings/Rule';
import type { RuleInput } from '../../bindings/RuleInput';
import type { RuleVersion } from '../../bindings/RuleVersion';
import type { Session } from '../../bindings/Session';
import type { SessionParams } from '../../bindings/SessionParams';

/** The job kind of a processing session (detect, and apply what the rules allow in `auto`). */
export const SESSION_JOB_KIND = 'divergences';
/** The job kind that applies approved corrections or rolls applied ones back. */
export const APPLY_JOB_KIND = 'divergences_apply';

// ---------- Rules ----------

/** Every rule (the default ones are created on first use). */
export async function divergenceRules(): Promise<Rule[]> {
  return call('divergence_rules');
}

/** Changes a rule; `input.reason` is required and kept in the rule's history. */
export async function saveDivergenceRule(id: string, input: RuleInput): Promise<Rule> {
  return call('save_divergence_rule', { id, input });
}

/** The versions a rule had, with who changed it, when and why. */
export async function divergenceRuleHistory(id: string): Promise<RuleVersion[]> {
  return call('divergence_rule_history', { id });
}

// ---------- Sessions ----------

/** Starts a processing session job and returns it at once; its progress arrives as job events. */
export async function startDivergenceSession(params: SessionParams): Promise<Job> {
  return call('start_divergence_session', { params });
}

/** Newest first. */
export async function divergenceSessions(limit: number): Promise<Session[]> {
  return call('divergence_sessions', { limit });
}

// ---------- Review ----------

/** One page of the divergences matching `filter`, with the total, the amount at stake and the open count per rule. */
export async function divergences(filter: DivergenceFilter): Promise<DivergencePage> {
  return call('divergences', { filter });
}

/** One divergence with its history and the operations written for it. */
export async function divergence(id: string): Promise<DivergenceDetail> {
  return call('divergence', { id });
}

/** Approve, reject, reopen, assign or comment on several divergences at once. */
export async function decideDivergences(decision: Decision): Promise<DecisionResult> {
  return call('decide_divergences', { decision });
}

// ---------- Apply, roll back, audit, report ----------

/** Starts the job that applies approved corrections (`ids` empty: every approved one) or rolls applied ones back. */
export async function applyDivergences(params: ApplyParams): Promise<Job> {
  return call('apply_divergences', { params });
}

/** The writes to the ERPs (and their refusals), newest first. */
export async function divergenceOperations(limit: number): Promise<Operation[]> {
  return call('divergence_operations', { limit });
}

/** Saves the divergences matching `filter` as CSV in the Downloads folder; answers the file's full path. */
export async function exportDivergences(filter: DivergenceFilter, format: 'csv' | 'xlsx' = 'csv'): Promise<string> {
  return call('export_divergences', { filter, format });
}

// ---------- Metrics ----------

/** The figures of the Metrics tab: what is open and at stake, per rule how people decide, and the last 30 days. */
export async function divergenceMetrics(): Promise<DivergenceMetrics> {
  return call('divergence_metrics');
}
