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
  /** The run's turn at its SIG and release (workflows/pipelineTurn.ts); absent in runs begun before turns. */
  pipelineTurn?: RunTurn | null;
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
/**
 * Sent by the holder that is still working but waiting (for the file-list writer's answer): its lease starts again
 * from now. Ignored unless it names the current turn, so it can keep only a live holder's own turn.
 */
export const renewLeaseSignal = defineSignal<[LockRequest]>('renewProductionLease');
/** Sent to the requester when it holds the lock. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('productionLockGranted');
export interface LockGrant {
  lockWorkflowId: string;
  /** The request granted; a grant naming no pending request of the run is ignored. */
  requestId?: string;
  /** Fencing token: this grant's number, higher than every earlier grant's; production writes present it. */
  token?: number;
  /** The lease in milliseconds (locks that take renewals): a holder that must wait renews well before it runs out. */
  leaseMs?: number;
}
/** Sent to the holder when its turn ended without its release: the lease ran out, or an operator forced it. */
export const lockLostSignal = defineSignal<[LockLostNotice]>('productionLockLost');
export interface LockLostNotice {
  lockWorkflowId: string;
  requestId?: string;
  token?: number;
  why: 'lease-expired' | 'forced-release';
  /** For a forced release: the operator and the reason they gave. */
  by?: string;
  reason?: string;
  /** ISO time, the lock's workflow clock. */
  at: string;
}
/** An operator frees the lock from its holder (e.g. a run stuck in production for hours). */
export interface ForceReleaseRequest {
  /** A name in the site's lock.operators (principal syntax, like approvers). */
  by: string;
  /** Why: recorded in the lock's status and log. 1 to 2,000 characters. */
  reason: string;
}
export interface ForcedRelease extends ForceReleaseRequest {
  at: string;
  /** The run that held the lock and lost it. */
  holder: { workflowId: string; runId?: string; token?: number };
}
export const forceReleaseUpdate = defineUpdate<ForcedRelease, [ForceReleaseRequest]>('forceRelease');
/** Where one request stands at the lock: a waiting run asks this now and then (a lock can be lost). */
export type LockRequestState = 'held' | 'queued' | 'absent';
export const lockRequestStateQuery = defineQuery<LockRequestState, [LockRequest]>('lockRequestState');
export interface LockStatus {
  release: string;
  /** The release workflow that may write to production now. */
  holder: string | null;
  heldSince: string | null;
  /** Waiting release workflows, first in line first. */
  queue: string[];
  /** The holder's run and fencing token (absent from locks begun before tokens). */
  holderRunId?: string | null;
  token?: number | null;
  /** When the holder's lease runs out (ISO, the lock's clock). */
  leaseEndsAt?: string | null;
  /** Releases forced by operators, latest last (the last 20). */
  forcedReleases?: ForcedRelease[];
  /** Turns that ended because the lease ran out, latest last (the last 20). */
  expiredLeases?: { workflowId: string; runId?: string; token?: number; at: string }[];
}
export const lockStatusQuery = defineQuery<LockStatus>('lockStatus');

export type { ComposePlan, ReposyncTask };

/**
 * Asks the file-list writer of one level to walk again (workflows/fileListWriter.ts); sent with signal-with-start.
 * A requester that names itself is answered (fileListsWritten) when the walk covering its request has ended.
 */
export const fileListsRequestedSignal = defineSignal<[{ workflowId: string; requestId: string }?]>('fileListsRequested');
// --- the pipeline turn (workflows/pipelineTurn.ts): one pipeline per compose root, SIG and release at a time,
// whatever started it. Internal messages between the turn workflow and the release runs, named by request.
export interface TurnRequest {
  workflowId: string;
  runId: string;
  /** Names one request of that run: the answer carries it, an answer for another request is ignored. */
  requestId: string;
}
/** The run that holds the turn, as status and refusals show it (never its request ID). */
export interface TurnHolder {
  workflowId: string;
  runId: string;
  /** ISO, workflow clock of the turn workflow. */
  since: string;
}
export interface TurnAnswer {
  turnWorkflowId: string;
  requestId: string;
  granted: boolean;
  /** When refused: the run that holds the turn. */
  holder?: TurnHolder;
}
export const requestPipelineTurnSignal = defineSignal<[TurnRequest]>('requestPipelineTurn');
export const givePipelineTurnBackSignal = defineSignal<[TurnRequest]>('givePipelineTurnBack');
/** Sent to the requesting run: granted, or refused with the holder. */
export const pipelineTurnAnswerSignal = defineSignal<[TurnAnswer]>('pipelineTurnAnswer');
export interface PipelineTurnStatus {
  sig: string;
  release: string;
  holder: TurnHolder | null;
  /** The latest refusals, newest last: who asked while the turn was held, and who held it. */
  refused: Array<{ workflowId: string; runId: string; at: string; holder: string }>;
}
export const pipelineTurnStatusQuery = defineQuery<PipelineTurnStatus>('pipelineTurnStatus');
/** A run's own view of its turn, in `status`: held, or refused/skipped because another run holds it. */
export interface RunTurn {
  turnWorkflowId: string;
  state: 'held' | 'refused' | 'skipped';
  holder?: TurnHolder;
}
