// The release pipeline of one SIG and release, top to bottom:
//   validate → compose (child) → staging sync → approval gate → production lock → production sync
//   → hardlink → mirror file lists.
// Deterministic code only: every side effect is an activity, every clock is Temporal's.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ResolvedRelease } from '../activities/release.js';
import type { HardlinkReleaseResult, ProductionSyncResult, SyncResult } from '../activities/publish.js';
import type { PublishFileListsResult } from '../activities/filelists.js';
import { composeStamp, productionCategory, productionReleaseDir, productionSigDir, stagingSigDir } from '../src/paths.js';
import { activityProxies } from './activityOptions.js';
import { durationMs } from './duration.js';
import { composeSig, composeWorkflowId, type ComposeResult } from './compose.js';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  SEARCH_ATTRIBUTES,
  statusQuery,
  type ActivityTimeouts,
  type Decision,
  type PreviewSummary,
  type RecordedDecision,
  type ReleaseStatus,
  type Stage,
} from './messages.js';
import { lockGrantedSignal, lockWorkflowId, releaseLockSignal } from './productionLock.js';

/** Operational knobs that are not part of the release request (tests shorten every duration). */
export interface RuntimeOptions {
  approval?: { reminderInterval?: string; expireAfter?: string };
  timeouts?: ActivityTimeouts;
  hostTaskQueue?: string;
}

/** The flat request (as typed on the `temporal` CLI) plus optional runtime knobs. */
export interface SigReleaseInput {
  release: string;
  sig: string;
  runtime?: RuntimeOptions;
  [flag: string]: unknown;
}

export type Outcome = 'promoted' | 'composed' | 'dry-run' | 'rejected' | 'expired';

export interface ReleaseResult {
  outcome: Outcome;
  release: string;
  sig: string;
  composeId: string;
  composeDir: string | null;
  compose: Pick<ComposeResult, 'latestFlipped' | 'manifest' | 'planned'> & { downloaded: number; skipped: number; tasks: number };
  staging: SyncResult | null;
  productionPreview: PreviewSummary | null;
  decision: RecordedDecision | null;
  production: ProductionSyncResult | null;
  hardlink: HardlinkReleaseResult | null;
  fileLists: PublishFileListsResult[];
  warnings: string[];
}

export async function sigRelease(input: SigReleaseInput): Promise<ReleaseResult> {
  const { runtime = {}, ...request } = input;
  const info = workflowInfo();
  const stamp = composeStamp(Date.now());
  const status: ReleaseStatus = {
    release: String(request.release),
    sig: String(request.sig),
    stage: 'validating',
    stageSince: new Date().toISOString(),
    composeWorkflowId: null,
    compose: null,
    stagingPreview: null,
    productionPreview: null,
    decision: null,
    remindersSent: 0,
    approvalDeadline: null,
    error: null,
    warnings: [],
  };
  let resolved: ResolvedRelease | null = null;
  let lockGranted = false;

  const setStage = (stage: Stage, details?: string) => {
    status.stage = stage;
    status.stageSince = new Date().toISOString();
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.stage, value: stage }]);
    setCurrentDetails(details ?? `**${status.sig} ${status.release}**: ${stage}`);
  };

  // --- the approval gate's handlers: the validator refuses bad approvals before they touch history.
  const refusal = (d: Decision | undefined, approving: boolean): string | null => {
    if (status.stage !== 'awaiting-approval') return `${status.sig} ${status.release} is not waiting for approval (stage: ${status.stage})`;
    if (!d || typeof d.by !== 'string' || d.by.trim() === '') return 'say who decides: {"by": "<name>", "comment": "..."}';
    const allowed = resolved?.approval.approvers ?? [];
    if (allowed.length > 0 && !allowed.includes(d.by)) return `"${d.by}" may not approve or reject releases; allowed: ${allowed.join(', ')}`;
    const guard = status.productionPreview?.guard;
    if (approving && guard && !guard.ok && !d.allowLargeDeletion && !resolved?.allowLargeDeletion) {
      return `the production preview tripped the deletion guard (${guard.reason ?? 'too many deletions'}); approve with allowLargeDeletion: true if that is intended`;
    }
    return null;
  };
  const decide = (d: Decision, approved: boolean, via: 'signal' | 'update'): RecordedDecision => {
    const rec: RecordedDecision = { ...d, approved, at: new Date().toISOString(), via };
    status.decision = rec;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.approver, value: d.by }]);
    upsertMemo({ decision: rec });
    return rec;
  };
  const onSignal = (approved: boolean) => (d: Decision) => {
    const why = refusal(d, approved);
    if (why) {
      // A signal cannot be refused to its sender: keep the reason where `status` shows it.
      status.warnings.push(`ignored ${approved ? 'approve' : 'reject'} signal from ${d?.by ?? '(nobody)'}: ${why}`);
      log.warn('ignored decision signal', { why });
      return;
    }
    if (!status.decision) decide(d, approved, 'signal');
  };
  setHandler(approveSignal, onSignal(true));
  setHandler(rejectSignal, onSignal(false));
  const onUpdate = (approved: boolean) => ({
    handler: (d: Decision) => ({ accepted: true as const, stage: status.stage, decision: status.decision ?? decide(d, approved, 'update') }),
    validator: (d: Decision) => {
      const why = refusal(d, approved) ?? (status.decision ? `already ${status.decision.approved ? 'approved' : 'rejected'} by ${status.decision.by}` : null);
      if (why) throw new Error(why);
    },
  });
  const up = onUpdate(true);
  setHandler(approveUpdate, up.handler, { validator: up.validator });
  const down = onUpdate(false);
  setHandler(rejectUpdate, down.handler, { validator: down.validator });
  setHandler(statusQuery, () => status);
  setHandler(lockGrantedSignal, () => {
    lockGranted = true;
  });

  let acts = activityProxies(runtime.timeouts, runtime.hostTaskQueue);
  const notify = async (event: string, text: string) => {
    try {
      await CancellationScope.nonCancellable(() => acts.notify.notify({ event, text }));
    } catch (e) {
      log.warn('notification not delivered', { event, error: String(e) });
    }
  };
  let lockRequested = false;
  let compose: ComposeResult | null = null;
  const result: ReleaseResult = {
    outcome: 'composed',
    release: status.release,
    sig: status.sig,
    composeId: `${status.sig}-${status.release}-${stamp}`,
    composeDir: null,
    compose: { latestFlipped: false, manifest: null, planned: [], downloaded: 0, skipped: 0, tasks: 0 },
    staging: null,
    productionPreview: null,
    decision: null,
    production: null,
    hardlink: null,
    fileLists: [],
    warnings: status.warnings,
  };
  const title = `${status.sig} ${status.release}`;

  try {
    setStage('validating');
    const r: ResolvedRelease = await acts.quick.resolveRelease({ request, stamp });
    resolved = r;
    status.warnings.push(...r.plan.warnings);
    const hostTaskQueue = runtime.hostTaskQueue ?? r.hostTaskQueue;
    acts = activityProxies(runtime.timeouts, hostTaskQueue);

    // --- compose
    const childId = composeWorkflowId(r.plan.sig, r.plan.release, stamp);
    status.composeWorkflowId = childId;
    setStage('composing', `**${title}**: composing ${r.plan.batches.flat().length} reposync tasks (compose ${r.plan.composeId})`);
    compose = await executeChild(composeSig, {
      workflowId: childId,
      args: [{ plan: r.plan, roots: r.roots, ...(hostTaskQueue ? { hostTaskQueue } : {}), ...(runtime.timeouts ? { timeouts: runtime.timeouts } : {}) }],
    });
    result.composeId = compose.composeId;
    result.composeDir = compose.composeDir;
    result.compose = {
      latestFlipped: compose.latestFlipped,
      manifest: compose.manifest,
      planned: compose.planned,
      tasks: compose.tasks.length,
      downloaded: compose.tasks.reduce((n, t) => n + t.downloaded, 0),
      skipped: compose.tasks.reduce((n, t) => n + t.skipped, 0),
    };
    if (r.plan.dryRun || r.composeOnly) {
      result.outcome = r.plan.dryRun ? 'dry-run' : 'composed';
      setStage('composed');
      await notify('composed', `${title}: compose ${compose.composeId} finished (${r.plan.dryRun ? 'dry run' : 'compose only'})`);
      return result;
    }

    // --- staging
    setStage('staging');
    const staging = stagingSigDir(r.roots, r.plan.release, r.plan.sig);
    const production = productionSigDir(r.roots, r.plan.release, r.plan.sig);
    const previews = `${compose.composeDir}/work/previews/${stamp}`;
    const staged = await acts.long.syncToStaging({
      source: `${compose.composeDir}/compose/${r.plan.release}/${r.plan.sig}`,
      target: staging,
      owner: r.owner,
      reportFile: `${previews}/staging.txt`,
      guard: r.guard,
      allowLargeDeletion: r.allowLargeDeletion,
    });
    result.staging = staged;
    status.stagingPreview = { ...staged.preview, guard: { ok: true } };

    // --- approval gate
    const prodPreview = await acts.long.previewProduction({ source: staging, target: production, reportFile: `${previews}/production.txt`, guard: r.guard });
    status.productionPreview = prodPreview;
    result.productionPreview = prodPreview;
    const expireMs = durationMs(runtime.approval?.expireAfter ?? r.approval.expireAfter);
    const remindMs = durationMs(runtime.approval?.reminderInterval ?? r.approval.reminderInterval);
    const deadline = Date.now() + expireMs;
    status.approvalDeadline = new Date(deadline).toISOString();
    setStage('awaiting-approval', gateDetails(title, prodPreview, status.approvalDeadline));
    await notify('awaiting-approval', `${title}: compose ${compose.composeId} is in staging and waits for approval.\n${previewText(prodPreview)}`);
    while (!status.decision) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const decided = await condition(() => status.decision !== null, Math.min(remindMs, left));
      if (!decided && Date.now() < deadline) {
        status.remindersSent++;
        await notify('reminder', `${title}: still waiting for approval (reminder ${status.remindersSent}); expires ${status.approvalDeadline}`);
      }
    }
    const decision = status.decision as RecordedDecision | null;
    result.decision = decision;
    if (!decision) {
      result.outcome = 'expired';
      setStage('expired');
      await notify('expired', `${title}: nobody approved before ${status.approvalDeadline}; nothing went to production`);
      return result;
    }
    if (!decision.approved) {
      result.outcome = 'rejected';
      setStage('rejected', `**${title}**: rejected by ${decision.by}: ${decision.comment ?? ''}`);
      await notify('rejected', `${title}: rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`);
      return result;
    }
    await notify('approved', `${title}: approved by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`);

    // --- production, one release at a time across SIGs
    setStage('waiting-for-production-lock');
    lockRequested = true;
    await acts.quick.requestProductionLock({ release: r.plan.release, requesterWorkflowId: info.workflowId, taskQueue: info.taskQueue });
    await condition(() => lockGranted);
    // Once promotion starts it finishes: a cancel now would only leave production behind staging.
    await CancellationScope.nonCancellable(async () => {
      try {
        setStage('promoting');
        result.production = await acts.long.syncToProduction({
          source: staging,
          target: production,
          owner: r.owner,
          reportFile: `${previews}/production-sync.txt`,
          guard: r.guard,
          allowLargeDeletion: r.allowLargeDeletion || decision.allowLargeDeletion === true,
        });
        result.hardlink = await acts.long.hardlinkRelease({ dir: productionReleaseDir(r.roots, r.plan.release) });
        setStage('publishing-lists');
        result.fileLists.push(await acts.long.publishFileLists({ dir: productionCategory(r.roots), module: 'sig', owner: r.owner }));
        if (r.fileListLevels.includes('root')) {
          result.fileLists.push(await acts.long.publishFileLists({ dir: r.roots.productionRoot, module: 'rocky', owner: r.owner }));
        }
      } finally {
        await releaseLock(r.plan.release);
        lockRequested = false;
      }
    });
    result.outcome = 'promoted';
    setStage('promoted');
    await notify('promoted', `${title}: compose ${compose.composeId} is in production; file lists published`);
    return result;
  } catch (e) {
    if (lockRequested && resolved) await CancellationScope.nonCancellable(() => releaseLock(resolved!.plan.release));
    if (isCancellation(e)) {
      setStage('cancelled');
      await notify('cancelled', `${title}: cancelled during ${status.stage}`);
      throw e;
    }
    const failedAt = status.stage;
    status.error = innermostMessage(e);
    setStage('failed', `**${title}**: failed during ${failedAt}: ${status.error}`);
    await notify('failed', `${title}: failed during ${failedAt}: ${status.error}`);
    if (e instanceof ApplicationFailure) throw e;
    // Anything else would only fail the workflow task and retry for ever; fail the run with the reason.
    throw ApplicationFailure.create({ type: 'ReleaseFailed', nonRetryable: true, message: `failed during ${failedAt}: ${status.error}`, cause: e as Error });
  }

  async function releaseLock(release: string) {
    try {
      await getExternalWorkflowHandle(lockWorkflowId(release)).signal(releaseLockSignal, { workflowId: info.workflowId });
    } catch (err) {
      log.warn('could not release the production lock', { error: String(err) });
    }
  }
}

function previewText(p: PreviewSummary): string {
  const rows = Object.entries(p.repos).map(
    ([repo, c]) => `| ${repo} | ${c.added.files} | ${c.changed.files} | ${c.deleted.files} | ${c.added.bytes + c.changed.bytes} |`,
  );
  return [
    `Production will get ${p.added.files} new, ${p.changed.files} changed and ${p.deleted.files} deleted files (${p.added.bytes + p.changed.bytes} bytes).`,
    p.guard.ok ? '' : `Deletion guard: ${p.guard.reason}`,
    '| repo | added | changed | deleted | bytes |',
    '|---|---|---|---|---|',
    ...rows,
  ]
    .filter(Boolean)
    .join('\n');
}

function gateDetails(title: string, p: PreviewSummary, deadline: string): string {
  return `**${title}** waits for approval until ${deadline}.\n\nSend signal \`approve\` (or \`reject\`) with input {"by": "<you>", "comment": "..."}.\n\n${previewText(p)}`;
}

function innermostMessage(e: unknown): string {
  let err = e as { cause?: unknown; message?: string } | undefined;
  while (err?.cause) err = err.cause as typeof err;
  return err?.message ?? String(e);
}
