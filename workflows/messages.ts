// Every message name the pipeline understands, defined once: signals, updates, queries, search attributes.
// Imported by workflow code and by clients, so it may only import @temporalio/workflow and @temporalio/common.
import type { StaleReport } from '../src/compose/staleness.js';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ComposePlan, ReposyncTask } from '../src/compose/types.js';
import type { SyncPreview } from '../src/publish/types.js';
import type { DecisionSubject } from './signedMessages.js';
import type { RunMode } from '../src/lifecycle/names.js';

/** Search attributes (Keyword) registered on the dev server and in production: list runs by SIG, release, stage. */
export const SEARCH_ATTRIBUTES = {
  sig: defineSearchAttributeKey('SigName', SearchAttributeType.KEYWORD),
  release: defineSearchAttributeKey('SigRelease', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('SigStage', SearchAttributeType.KEYWORD),
  approver: defineSearchAttributeKey('SigApprover', SearchAttributeType.KEYWORD),
} as const;

export { FINAL_STAGES, STAGES, type Stage } from '../src/stages.js';
import type { Stage } from '../src/stages.js';

/** What a person sends with approve/reject (Web UI, `temporal workflow signal`, our CLI). */
export interface Decision {
  /** A principal name: letters, digits and `._@-`, at most 64 characters (the name in allowed_signers). */
  by: string;
  /** At most 2,000 characters. */
  comment?: string;
  /** Lets an approval through although the production preview tripped the deletion guard. */
  allowLargeDeletion?: boolean;
  /** When signed (workflows/signedMessages.ts): the signer's time, ISO. */
  signedAt?: string;
  /** When signed: the armored `ssh-keygen -Y sign -n sigrelease-decision` signature of the decision message. */
  signature?: string;
  /** The compose the person approves (`sigrelease approve` fills it in from `status`); another compose is refused. */
  composeId?: string;
}
/** A signature the worker verified against approval.allowedSigners. */
export interface VerifiedSigner {
  principal: string;
  /** `SHA256:...` of the key that signed. */
  keyFingerprint: string;
}
export interface RecordedDecision {
  by: string;
  comment?: string;
  allowLargeDeletion?: boolean;
  approved: boolean;
  /** ISO time, workflow clock. */
  at: string;
  via: 'signal' | 'update';
  /** Set when the decision was signed and the signature verified. */
  signed?: VerifiedSigner;
}
/** Who started the run, as far as the run can tell. */
export type Starter =
  | { kind: 'signed'; principal: string; keyFingerprint: string }
  | { kind: 'schedule'; scheduleId: string }
  | { kind: 'unsigned'; claimed?: string };

// A signal is accepted even while no worker runs; a refused one only shows in `status.warnings`.
export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
/**
 * Same names as the signals (signals and updates are separate namespaces; test/gate/approval.int.test.ts sends
 * both to one run): the update answers the caller, and its validator refuses bad decisions before they touch history.
 */
export const approveUpdate = defineUpdate<ApprovalAck, [Decision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalAck, [Decision]>('reject');
export interface ApprovalAck {
  accepted: true;
  stage: Stage;
  decision: RecordedDecision;
}

/** An rsync preview (what a sync would add, change, delete per repo) with the deletion guard's verdict. */
export type PreviewSummary = SyncPreview & {
  guard: { ok: boolean; reason?: string };
  /** Digest of the staging tree taken just before this preview (src/publish/staging-digest.ts); absent from older workers. */
  stagingDigest?: string;
  stagingEntries?: number;
};

/** What the approver saw: the compose and the staging tree's digest. Production is written only while both hold. */
export interface ApprovalFingerprint {
  composeId: string;
  stagingDigest: string;
  stagingEntries: number;
}

export interface TaskProgress {
  name: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  downloaded?: number;
  skipped?: number;
  bytes?: number;
  error?: string;
}

export interface ComposeStatus {
  composeId: string;
  composeDir: string | null;
  tasks: TaskProgress[];
  verified: boolean | null;
  latestFlipped: boolean;
}

export interface ReleaseStatus {
  release: string;
  sig: string;
  /** What the run does: release, restage, rollback, gate, lists, vault (absent in older runs: a release). */
  mode?: RunMode;
  /** A rollback: the compose it asked for. */
  rollbackTo?: string;
  stage: Stage;
  stageSince: string;
  composeWorkflowId: string | null;
  compose: ComposeStatus | null;
  stagingPreview: PreviewSummary | null;
  productionPreview: PreviewSummary | null;
  /** Recorded when the gate opens: what an approval approves. */
  fingerprint?: ApprovalFingerprint | null;
  decision: RecordedDecision | null;
  /** Reminders sent while the gate waited (one per `reminderInterval`, none at the deadline itself). */
  remindersSent: number;
  approvalDeadline: string | null;
  /** Request flags that weaken a check (allowLargeDeletion, disableGpgCheck, ...), one readable line each. */
  requestOverrides?: string[];
  /** Age of the compose's source metadata per repo, flagged when stale (set when the gate opens; absent in older runs). */
  sourceMetadata?: StaleReport | null;
  /** During the metadata grace period: when what left staging is deleted from production (workflow clock). */
  deletionsAt?: string | null;
  /** At the gate: what a signed decision must name (workflows/signedMessages.ts `decisionMessage`). */
  signing?: DecisionSubject | null;
  /** Who started the run: a verified signer, a schedule, or unsigned. */
  startedBy?: Starter | null;
  error: string | null;
  warnings: string[];
}

export const statusQuery = defineQuery<ReleaseStatus>('status');
export const composeStatusQuery = defineQuery<ComposeStatus>('composeStatus');

export interface ComposeInput {
  plan: ComposePlan;
  roots: { composeRoot: string; stagingRoot: string; productionRoot: string };
  hostTaskQueue?: string;
  timeouts?: ActivityTimeouts;
}

export interface ActivityTimeouts {
  /** Heartbeat timeout of long activities: how soon a dead worker's sync is retried elsewhere. */
  heartbeat?: string;
  /** Longest a single reposync/rsync may take. */
  longSync?: string;
  /** First retry interval of long activities. */
  retryInitial?: string;
  maxAttempts?: number;
}

/** What a webhook post is about: `props.event` of every post. */
export type NotificationEvent =
  | 'awaiting-approval'
  | 'reminder'
  | 'approved'
  | 'rejected'
  | 'promoted'
  | 'expired'
  | 'failed'
  | 'cancelled'
  | 'composed';

/** One notification, as the workflow hands it to the `notify` activity. */
export interface Notification {
  event: NotificationEvent;
  /** Markdown (Mattermost): the first line says what happened. */
  text: string;
  sig: string;
  release: string;
  workflowId: string;
}

// --- the production lock (workflows/productionLock.ts): one holder per release and production tree.
// Internal messages between the lock and the release runs, not for people: a grant or a release counts only
// when it names the request it belongs to (a random ID the requester made), so one typed by hand is ignored.
export interface LockRequest {
  workflowId: string;
  /** The requesting run: a new run under the holder's workflow ID means the holder's run has closed. */
  runId?: string;
  /** Names one acquisition: grant and release carry it, a grant for another request is ignored. */
  requestId?: string;
}
export const requestLockSignal = defineSignal<[LockRequest]>('requestLock');
export const releaseLockSignal = defineSignal<[LockRequest]>('releaseLock');
/** Sent to the requester when it holds the lock. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('productionLockGranted');
export interface LockGrant {
  lockWorkflowId: string;
  /** The request granted; a grant naming no pending request of the run is ignored. */
  requestId?: string;
}
export interface LockStatus {
  release: string;
  /** The release workflow that may write to production now. */
  holder: string | null;
  heldSince: string | null;
  /** Waiting release workflows, first in line first. */
  queue: string[];
}
export const lockStatusQuery = defineQuery<LockStatus>('lockStatus');

export type { ComposePlan, ReposyncTask };

/** Asks the file-list writer of one level to walk again (workflows/fileListWriter.ts); sent with signal-with-start. */
export const fileListsRequestedSignal = defineSignal('fileListsRequested');
