// Approval bound to what was reviewed: the gate records the compose ID and the staging digest the person saw;
// a decision naming another compose is refused, and production is written only while staging still has that
// digest (checked by the production sync activity, before each of its calls touches production).
import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import type { ApprovalFingerprint, Decision, PreviewSummary } from './messages.js';

/** What the gate binds an approval to; null for runs begun before this check existed (their history replays unchanged). */
export function fingerprintAtGate(composeId: string, preview: PreviewSummary): ApprovalFingerprint | null {
  if (!patched('approval-bound-to-staging-digest')) return null;
  if (typeof preview.stagingDigest !== 'string') return null;
  return { composeId, stagingDigest: preview.stagingDigest, stagingEntries: preview.stagingEntries ?? 0 };
}

/** Whether decisions that name a compose are checked against the one at the gate (decided once, at the gate). */
export function decisionsNameCompose(): boolean {
  return patched('decision-names-compose');
}

/** Why a decision naming `d.composeId` cannot be taken by a run whose gate shows `atGate`, or null. Pure. */
export function composeRefusal(d: Decision | undefined, atGate: string | null): string | null {
  if (atGate === null || d?.composeId === undefined) return null;
  if (typeof d.composeId !== 'string' || d.composeId !== atGate) {
    return `the decision names compose ${JSON.stringify(d.composeId)}, but this run waits with compose ${atGate}; check \`sigrelease status\` and decide on what it shows`;
  }
  return null;
}

/**
 * The production sync activity's StagingChangedSinceApproval, raised as the run's own failure with the same
 * type, so that the run fails with it (not with a generic ReleaseFailed) and nobody retries it.
 */
export function asRunFailure(e: unknown): unknown {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === 'StagingChangedSinceApproval') {
    return ApplicationFailure.create({ type: 'StagingChangedSinceApproval', nonRetryable: true, message: e.cause.message, details: e.cause.details as unknown[] });
  }
  return e;
}
