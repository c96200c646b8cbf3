// The approval gate as the workflow runs it: the approve/reject signals and updates wired to the gate's rules
// (workflows/gate.ts), the wait with its reminders and deadline, and what is recorded once someone decides.
import { ApplicationFailure, condition, log, patched, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { staleText, type StaleReport } from '../src/compose/staleness.js';
import { quick } from './activityOptions.js';
import type { ResolvedRelease } from '../activities/release.js';
import { composeRefusal } from './approvedStaging.js';
import { durationMs } from './duration.js';
import { gateDetails } from '../src/uiText.js';
import { ApprovalGate, MAX_REMINDERS, decisionUsage, gateWakes, howToDecide, overridesText, previewText, type RunView } from './gate.js';
import { decisionMessage, previewCounts } from './signedMessages.js';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  SEARCH_ATTRIBUTES,
  type ApprovalAck,
  type Decision,
  type PreviewSummary,
  type RecordedDecision,
  type VerifiedSigner,
} from './messages.js';
import { recordGateWait } from './metrics.js';
import type { ReleaseRun } from './releaseRun.js';
import type { RuntimeOptions } from './runtimeOptions.js';

/** Registers the decision messages; call before the first await so that none is lost. */
export function listenForDecisions(run: ReleaseRun): void {
  const { gate } = run;
  const refused = (why: string) => ApplicationFailure.create({ type: 'DecisionRefused', message: why, nonRetryable: true });
  const onSignal = (approved: boolean) => async (d: Decision) => {
    const outcome = await decide(run, d, approved, 'signal');
    if (typeof outcome === 'string') {
      // A signal cannot be refused to its sender: keep the reason where `status` shows it (deduplicated, capped).
      gate.noteRefusedSignal(ApprovalGate.ignoredSignal(d, approved, outcome));
      log.warn('ignored decision signal', { why: outcome });
    }
  };
  const onUpdate = (approved: boolean) => ({
    // Validators are not replayed, so they always apply today's rules; the handler checks again after the signature.
    validator: (d: Decision) => {
      const why = refusal(run, d, approved);
      if (why) throw refused(why);
    },
    handler: async (d: Decision): Promise<ApprovalAck> => {
      const outcome = await decide(run, d, approved, 'update');
      if (typeof outcome === 'string') throw refused(outcome);
      return { accepted: true, stage: run.stage, decision: outcome };
    },
  });
  setHandler(approveSignal, onSignal(true), { description: decisionUsage('Approve') });
  setHandler(rejectSignal, onSignal(false), { description: decisionUsage('Reject') });
  const approving = onUpdate(true);
  const rejecting = onUpdate(false);
  setHandler(approveUpdate, approving.handler, { validator: approving.validator, description: `${decisionUsage('Approve')}; refused with the reason if not allowed` });
  setHandler(rejectUpdate, rejecting.handler, { validator: rejecting.validator, description: `${decisionUsage('Reject')}; refused with the reason if not allowed` });
}

/**
 * Takes a decision, or says why not. Decisions since 'signed-decisions' are bounded and have their signature
 * checked by the worker against approval.allowedSigners (the worker's site config says whether one is required);
 * the gate's rules are asked again after the check, since another decision may have been taken meanwhile.
 */
async function decide(run: ReleaseRun, d: Decision, approved: boolean, via: RecordedDecision['via']): Promise<RecordedDecision | string> {
  const { gate } = run;
  if (!patched('signed-decisions')) return refusal(run, d, approved, { legacy: true }) ?? take(gate, d, approved, via, null);
  const before = refusal(run, d, approved);
  if (before) return before;
  gate.verifications++;
  const claims = { by: d.by.trim(), comment: d.comment, allowLargeDeletion: d.allowLargeDeletion, signedAt: String(d.signedAt ?? '') };
  const message = gate.subject ? decisionMessage(gate.subject, approved ? 'approve' : 'reject', claims) : '';
  const check = await quick.checkDecisionSignature({ message, principal: claims.by, ...(d.signature !== undefined ? { signature: d.signature } : {}) });
  gate.rules = { ...gate.rules, ...check.policy };
  const after = (check.problem ? gate.unverifiedRefusal(check.problem, approved) : null) ?? refusal(run, d, approved) ?? gate.verifiedRefusal(d, approved, check.signer);
  return after ?? take(gate, d, approved, via, check.signer);
}

/** The gate's rules, then the compose the decision names against the one at the gate (runs since 'decision-names-compose'). */
function refusal(run: ReleaseRun, d: Decision | undefined, approved: boolean, opts: { legacy?: boolean } = {}): string | null {
  const view: RunView = { stage: run.stage, productionPreview: run.result.productionPreview, now: Date.now() };
  return run.gate.refusal(d, approved, view, opts) ?? composeRefusal(d, run.composeAtGate);
}

/** Who decided, when and why: in the status query, the memo, the `SigApprover` search attribute and the result. */
function take(gate: ApprovalGate, d: Decision, approved: boolean, via: RecordedDecision['via'], signer: VerifiedSigner | null): RecordedDecision {
  const decision = gate.record(d, approved, via, new Date().toISOString(), signer);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.approver, value: decision.by }]);
  upsertMemo({ decision });
  return decision;
}

/**
 * Opens the gate on `preview` and waits until someone decides or the deadline passes, reminding at every
 * interval. Null when nobody decided in time.
 */
export interface GateOpening {
  composeId: string;
  manifest: string | null;
  preview: PreviewSummary;
  /** Full itemized reports of the staging sync and of the production preview. */
  reports: { staging?: string; production?: string };
  /** How old the compose's source metadata is, per repo (null: not recorded, or a run from before). */
  sourceMetadata?: StaleReport | null;
}

/** What the gate needs of a resolved request: its rules and the release it names (a vault passes its own). */
export type GateRequest = Pick<ResolvedRelease, 'approval' | 'allowLargeDeletion' | 'starter'> & { plan: { release: string; sig: string } };

export async function awaitApproval(run: ReleaseRun, r: GateRequest, runtime: RuntimeOptions, opening: GateOpening): Promise<RecordedDecision | null> {
  const { composeId, preview } = opening;
  const { gate } = run;
  gate.rules = {
    approvers: r.approval.approvers,
    allowLargeDeletion: r.allowLargeDeletion,
    requireSignature: r.approval.requireSignature === true,
    forbidSelfApproval: r.approval.forbidSelfApproval === true,
    starter: r.starter ?? null,
    release: r.plan.release,
    sig: r.plan.sig,
  };
  const opened = Date.now();
  gate.openedAt = opened;
  // A signer binds the staging digest too when the run took one (approval-bound-to-staging-digest).
  const digest = run.fingerprint ? { stagingDigest: run.fingerprint.stagingDigest } : {};
  gate.subject = { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId, composeId, preview: previewCounts(preview), ...digest };
  const deadline = opened + durationMs(runtime.approval?.expireAfter ?? r.approval.expireAfter);
  const every = durationMs(runtime.approval?.reminderInterval ?? r.approval.reminderInterval);
  gate.deadline = new Date(deadline).toISOString();
  const previewTable = [overridesText(run.view().requestOverrides ?? []), staleText(opening.sourceMetadata), previewText(preview)].filter(Boolean).join('\n\n');
  run.setStage('awaiting-approval', gateDetails({ title: run.title, deadline: gate.deadline, previewTable, manifest: opening.manifest, reports: opening.reports, fingerprint: run.fingerprint }));
  run.notify('awaiting-approval', `**${run.title}**: compose ${composeId} is in staging and waits for approval until ${gate.deadline}.\n${howToDecide(r.plan.release, r.plan.sig)}\n\n${previewTable}`);
  // Enough reminders: then the gate waits out the deadline quietly (a short interval must not post, and grow
  // the history, for weeks).
  const cap = patched('reminders-capped') ? MAX_REMINDERS : Infinity;
  /** The gate closes with a decision, or with none at the deadline: that wait is a metric. */
  const closed = (d: RecordedDecision | null) => {
    recordGateWait({ sig: r.plan.sig, release: r.plan.release }, opened, d === null ? 'expired' : d.approved ? 'approved' : 'rejected');
    return d;
  };
  for (const wake of gateWakes(opened, every, deadline, cap)) {
    if (await condition(() => gate.decision !== null, Math.max(1, wake.wakeAt - Date.now()))) return closed(gate.decision);
    if (wake.closes) return closed(null);
    gate.remindersSent++;
    run.notify('reminder', `**${run.title}**: still waiting for approval (reminder ${gate.remindersSent}); expires ${gate.deadline}.\n${howToDecide(r.plan.release, r.plan.sig)}`);
  }
  return closed(null);
}
