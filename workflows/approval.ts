// The approval gate as the workflow runs it: the approve/reject signals and updates wired to the gate's rules
// (workflows/gate.ts), the wait with its reminders and deadline, and what is recorded once someone decides.
import { ApplicationFailure, condition, log, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import { composeRefusal } from './approvedStaging.js';
import { durationMs } from './duration.js';
import { gateDetails } from '../src/uiText.js';
import { ApprovalGate, decisionUsage, gateWakes, howToDecide, overridesText, previewText } from './gate.js';
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
} from './messages.js';
import { recordGateWait } from './metrics.js';
import type { ReleaseRun } from './releaseRun.js';
import type { RuntimeOptions } from './runtimeOptions.js';

/** Registers the decision messages; call before the first await so that none is lost. */
export function listenForDecisions(run: ReleaseRun): void {
  const { gate } = run;
  const refusal = (d: Decision | undefined, approving: boolean) =>
    gate.refusal(d, approving, { stage: run.stage, productionPreview: run.result.productionPreview }) ?? composeRefusal(d, run.composeAtGate);
  /** Who decided, when and why: in the status query, the memo, the `SigApprover` search attribute and the result. */
  const take = (d: Decision, approved: boolean, via: RecordedDecision['via']): RecordedDecision => {
    const decision = gate.record(d, approved, via, new Date().toISOString());
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.approver, value: decision.by }]);
    upsertMemo({ decision });
    return decision;
  };
  const onSignal = (approved: boolean) => (d: Decision) => {
    const why = refusal(d, approved);
    if (!why) {
      take(d, approved, 'signal');
      return;
    }
    // A signal cannot be refused to its sender: keep the reason where `status` shows it.
    run.warn(ApprovalGate.ignoredSignal(d, approved, why));
    log.warn('ignored decision signal', { why });
  };
  const refuseUpdate = (d: Decision, approved: boolean) => {
    const why = refusal(d, approved);
    if (why) throw ApplicationFailure.create({ type: 'DecisionRefused', message: why, nonRetryable: true });
  };
  const onUpdate = (approved: boolean) => ({
    validator: (d: Decision) => refuseUpdate(d, approved),
    handler: (d: Decision): ApprovalAck => {
      // The validator ran just before; only another decision in the same activation can get here first.
      refuseUpdate(d, approved);
      return { accepted: true, stage: run.stage, decision: take(d, approved, 'update') };
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
 * Opens the gate on `preview` and waits until someone decides or the deadline passes, reminding at every
 * interval. Null when nobody decided in time.
 */
export interface GateOpening {
  composeId: string;
  manifest: string | null;
  preview: PreviewSummary;
  /** Full itemized reports of the staging sync and of the production preview. */
  reports: { staging?: string; production?: string };
}

export async function awaitApproval(run: ReleaseRun, r: ResolvedRelease, runtime: RuntimeOptions, opening: GateOpening): Promise<RecordedDecision | null> {
  const { composeId, preview } = opening;
  const { gate } = run;
  gate.rules = { approvers: r.approval.approvers, allowLargeDeletion: r.allowLargeDeletion };
  const opened = Date.now();
  const deadline = opened + durationMs(runtime.approval?.expireAfter ?? r.approval.expireAfter);
  const every = durationMs(runtime.approval?.reminderInterval ?? r.approval.reminderInterval);
  gate.deadline = new Date(deadline).toISOString();
  const previewTable = [overridesText(run.view().requestOverrides ?? []), previewText(preview)].filter(Boolean).join('\n\n');
  run.setStage('awaiting-approval', gateDetails({ title: run.title, deadline: gate.deadline, previewTable, manifest: opening.manifest, reports: opening.reports, fingerprint: run.fingerprint }));
  run.notify('awaiting-approval', `**${run.title}**: compose ${composeId} is in staging and waits for approval until ${gate.deadline}.\n${howToDecide(r.plan.release, r.plan.sig)}\n\n${previewTable}`);
  /** The gate closes with a decision, or with none at the deadline: that wait is a metric. */
  const closed = (d: RecordedDecision | null) => {
    recordGateWait({ sig: r.plan.sig, release: r.plan.release }, opened, d === null ? 'expired' : d.approved ? 'approved' : 'rejected');
    return d;
  };
  for (const wake of gateWakes(opened, every, deadline)) {
    if (await condition(() => gate.decision !== null, Math.max(1, wake.wakeAt - Date.now()))) return closed(gate.decision);
    if (wake.closes) return closed(null);
    gate.remindersSent++;
    run.notify('reminder', `**${run.title}**: still waiting for approval (reminder ${gate.remindersSent}); expires ${gate.deadline}.\n${howToDecide(r.plan.release, r.plan.sig)}`);
  }
  return closed(null);
}
